#!/usr/bin/env python3
"""
End-to-end tests of the merchant API under /v1/tenants/T/, speaking TAP.

Run from the build directory as `python3 tests/e2e/test_api.py` with
HL_BUILDDIR and HL_TOP_SRCDIR set as for test_e2e.py, whose harness (TAP,
the expect() check, a daemon per group) this file shares. Tokens come from
`hookledger token create`. HL_KEEP=1 keeps the directories of groups that
failed; HL_E2E_ONLY=WORD runs only the groups whose name contains WORD.
"""

import calendar
import hashlib
import json
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hlclient as hl  # noqa: E402
from test_e2e import Err, Run, expect, header_problems, run_groups  # noqa: E402

PAYMENTS = "/v1/tenants/%s/payments"
MORE_SEC_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
MAX_SAFE = 2 ** 53 - 1


def sha(b):
    return hashlib.sha256(b).digest()


def jbody(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def expected(ref, amount, currency):
    return {"payment": ref, "amount": amount, "currency": currency,
            "status": "expected"}


def shop(tenant="acme", name="shop"):
    sec = hl.stdwh_secret()
    return hl.Endpoint(name, "standard-webhooks", [sec], tenant=tenant), sec


def post(run, tenant, body, tok, key, content_type="application/json",
         **kw):
    return run.d.post(PAYMENTS % tenant, body,
                      hl.api_headers(tok, key, content_type), **kw)


def get(run, path, tok):
    return run.d.get(path, hl.api_headers(tok, content_type=None))


def expect_invalid(t, r, field, desc):
    """422 invalid_request whose message names field."""
    p = []
    if r is None or r.error is not None:
        return t.ok(False, desc, ["no response: %r" % (r,)])
    if r.status != 422:
        p.append("status %d, expected 422" % r.status)
    got = r.json
    p += Err("invalid_request").problems(got)
    msg = got.get("message") if isinstance(got, dict) else None
    if not isinstance(msg, str) or not re.search(r"\b%s\b" %
                                                 re.escape(field), msg):
        p.append("message %r does not name %r" % (msg, field))
    p += header_problems(r)
    if p:
        p.append("raw body: %r" % r.body[:300])
    return t.ok(not p, desc, p)


def same_answer(t, a, b, desc):
    """Two responses identical in status, body and headers (but Date)."""
    def norm(r):
        return (r.status, r.body, sorted((k.lower(), v) for k, v in r.headers
                                         if k.lower() != "date"))
    na, nb = norm(a), norm(b)
    return t.ok(na == nb, desc, ["first:  %r" % (na,), "second: %r" % (nb,)])


# ---------------------------------------------------------------- 1 auth

def g_auth(t, tmp):
    ep, _ = shop()
    with Run(t, "auth", tmp, [ep]) as run:
        db = run.db
        aw = hl.create_token(db, "acme", "payments:write")
        ar = hl.create_token(db, "acme", "ledger:read")
        gr = hl.create_token(db, "globex", "ledger:read")
        gw = hl.create_token(db, "globex", "payments:write")

        t.ok(re.fullmatch(r"hlt_[A-Za-z0-9_-]{43}", ar) is not None,
             "auth: token create prints hlt_ and 43 base64url characters",
             ["got %r" % ar])
        rows = hl.query(db, "SELECT token_sha256, tenant, scope FROM tokens")
        t.eq(sorted((bytes(h).hex(), tn, s) for h, tn, s in rows),
             sorted((sha(k.encode()).hex(), tn, s) for k, tn, s in
                    ((aw, "acme", "payments:write"),
                     (ar, "acme", "ledger:read"),
                     (gr, "globex", "ledger:read"),
                     (gw, "globex", "payments:write"))),
             "auth: the tokens table holds each token's SHA-256, tenant "
             "and scope")
        dump = repr(hl.query(db, "SELECT * FROM tokens"))
        t.ok(not any(k[4:] in dump for k in (aw, ar, gr, gw)),
             "auth: no token's text is stored")

        unauth = Err("unauthorized")
        bearer = {"WWW-Authenticate": "Bearer"}
        for path in ("/v1/tenants/acme/balances",
                     "/v1/tenants/acme/exceptions",
                     "/v1/tenants/acme/payments/pay_1"):
            expect(t, run.d.get(path), 401, unauth,
                   "auth: GET %s without a token -> 401 with "
                   "WWW-Authenticate: Bearer" % path, extra=bearer)
        r = post(run, "acme", b"{}", None, None, content_type=None)
        expect(t, r, 401, unauth, "auth: POST without a token -> 401 before "
               "the media type or the Idempotency-Key", extra=bearer)

        bal = "/v1/tenants/acme/balances"
        cases = [
            ("an unknown token", "Bearer hlt_" + "A" * 43),
            ("a known token with one more character", "Bearer " + ar + "x"),
            ("a truncated token", "Bearer " + ar[:-1]),
            ("Basic credentials", "Basic YWNtZTpzZWNyZXQ="),
            ("the scheme alone", "Bearer"),
            ("two spaces", "Bearer  " + ar),
            ("a token in another scheme", "Token " + ar),
            ("a character outside base64url", "Bearer " + ar[:-1] + "+"),
            ("an over-long token", "Bearer hlt_" + "A" * 200),
        ]
        for what, v in cases:
            r = run.d.get(bal, {"Authorization": v})
            expect(t, r, 401, unauth, "auth: %s -> 401" % what, extra=bearer)
        r = run.d.get(bal, {"Authorization": "bearer " + ar})
        t.eq(r.status, 200, "auth: the scheme name is case-insensitive")

        # A token of another tenant: exactly the answer for a tenant that
        # does not exist, and for a payment that does not exist.
        r_other = get(run, bal, gr)
        expect(t, r_other, 404, Err("not_found"),
               "auth: globex's token on acme's balances -> 404 not_found")
        r_none = get(run, "/v1/tenants/nobody/balances", ar)
        expect(t, r_none, 404, Err("not_found"),
               "auth: acme's token on an unknown tenant -> 404 not_found")
        r_pay = get(run, "/v1/tenants/acme/payments/pay_none", ar)
        same_answer(t, r_other, r_none, "auth: another tenant's 404 is "
                    "identical to an unknown tenant's")
        same_answer(t, r_other, r_pay, "auth: and to an unknown payment's")
        r = post(run, "acme", jbody({"payment": "p", "amount": 1,
                                     "currency": "EUR"}), gw, "k1")
        r_post_none = post(run, "nobody", jbody({"payment": "p", "amount": 1,
                                                 "currency": "EUR"}), gw, "k1")
        expect(t, r, 404, Err("not_found"), "auth: globex's write token "
               "POSTing to acme -> 404 not_found")
        same_answer(t, r, r_post_none, "auth: that POST's 404 is identical "
                    "to a POST to an unknown tenant's")
        same_answer(t, run.d.get("/v1/tenants/nobody/balances"),
                    run.d.get(bal), "auth: without a token an unknown tenant "
                    "gets the same 401 as a known one")
        t.eq(hl.count(db, "expectations"), 0,
             "auth: nothing was written for a foreign token")

        forb = Err("forbidden")
        expect(t, post(run, "acme", b"{}", ar, "k2"), 403, forb,
               "auth: a ledger:read token cannot POST payments -> 403")
        for path in (bal, "/v1/tenants/acme/exceptions",
                     "/v1/tenants/acme/payments/pay_1"):
            expect(t, get(run, path, aw), 403, forb,
                   "auth: a payments:write token cannot GET %s -> 403" %
                   path)

        notallowed = Err("method_not_allowed")
        r = hl.request(run.d.port, "DELETE", bal, None,
                       hl.api_headers(ar, content_type=None))
        expect(t, r, 405, notallowed, "auth: DELETE balances -> 405, "
               "Allow: GET", extra={"Allow": "GET"})
        r = get(run, PAYMENTS % "acme", ar)
        expect(t, r, 405, notallowed, "auth: GET the payments collection "
               "with a read token -> 405, Allow: POST",
               extra={"Allow": "POST"})
        r = hl.request(run.d.port, "PUT", "/v1/tenants/acme/payments/pay_1",
                       b"{}", hl.api_headers(aw))
        expect(t, r, 405, notallowed, "auth: PUT a payment -> 405, "
               "Allow: GET", extra={"Allow": "GET"})
        r = hl.request(run.d.port, "DELETE", bal, None, {})
        expect(t, r, 401, unauth, "auth: a wrong method without a token "
               "-> 401 first", extra=bearer)
        r = hl.request(run.d.port, "DELETE", bal, None,
                       hl.api_headers(gr, content_type=None))
        expect(t, r, 404, Err("not_found"), "auth: a wrong method with "
               "another tenant's token -> 404")

        for path in ("/v1", "/v1/", "/v1/tenants", "/v1/tenants/acme",
                     "/v1/tenants/acme/", "/v1/tenants/acme/nope",
                     "/v1/tenants/acme/balances/", "/v1/tenants/acme/"
                     "balances/x", "/v1/tenants/ac%20me/balances",
                     "/v1/tenants/" + "a" * 65 + "/balances",
                     "/v1/tenants/acme/payments/a%20b",
                     "/v1/tenants/acme/payments/" + "p" * 256,
                     "/v1/tenants/acme/payments/x/y", "/v2/tenants/acme/"
                     "balances"):
            expect(t, get(run, path, ar), 404, Err("not_found"),
                   "auth: %s -> 404 not_found" % path[:60])


# ---------------------------------------------------------------- 2 POST

def g_post(t, tmp):
    ep, _ = shop()
    run = Run(t, "post", tmp, [ep])
    with run:
        db = run.db
        aw = hl.create_token(db, "acme", "payments:write")
        gw = hl.create_token(db, "globex", "payments:write")
        body = jbody({"payment": "pay_1", "amount": 1999, "currency": "EUR"})

        expect(t, post(run, "acme", body, aw, None), 400,
               Err("idempotency_key_missing"),
               "post: no Idempotency-Key -> 400")
        for what, key, code in (
                ("empty", "", "idempotency_key_invalid"),
                ("256 characters", "k" * 256, "idempotency_key_invalid"),
                # Control bytes in any header are refused before routing.
                ("a control character", "ab\x01c", "bad_request"),
                ("a byte above ASCII", "caf\xe9", "idempotency_key_invalid")):
            expect(t, post(run, "acme", body, aw, key), 400, Err(code),
                   "post: an Idempotency-Key of %s -> 400" % what)
        expect(t, post(run, "acme", body, aw, "k-415", "text/plain"), 415,
               Err("unsupported_media_type"), "post: text/plain -> 415")
        expect(t, post(run, "acme", body, aw, "k-415", None), 415,
               Err("unsupported_media_type"), "post: no Content-Type -> 415")
        big = b'{"payment":"pay_1","amount":1,"currency":"EUR","x":"' + \
            b"a" * 4096 + b'"}'
        expect(t, post(run, "acme", big, aw, "k-413"), 413,
               Err("body_too_large"),
               "post: a body over 4096 bytes -> 413")
        r = hl.request(run.d.port, "POST", PAYMENTS % "acme",
                       headers=hl.api_headers(aw, "k-413c"),
                       chunks=[big[:3000], big[3000:]])
        expect(t, r, 413, Err("body_too_large"),
               "post: a chunked body over 4096 bytes -> 413")
        for what, raw, code in (
                ("truncated JSON", b'{"payment":', "body_bad_json"),
                ("a duplicate member", b'{"payment":"a","payment":"b",'
                 b'"amount":1,"currency":"EUR"}', "body_duplicate_key"),
                ("an array", b"[]", "body_not_object"),
                ("an empty body", b"", "body_empty"),
                ("a BOM", b"\xef\xbb\xbf" + body, "body_bom"),
                ("invalid UTF-8", b'{"payment":"\xff"}', "body_bad_utf8")):
            expect(t, post(run, "acme", raw, aw, "k-400"), 400, Err(code),
                   "post: %s -> 400 %s" % (what, code))
        t.eq(hl.count(db, "api_requests"), 0,
             "post: no refused request recorded its key")

        first = expected("pay_1", 1999, "EUR")
        expect(t, post(run, "acme", body, aw, "k-1"), 201, first,
               "post: a new expectation -> 201")
        expect(t, post(run, "acme", body, aw, "k-1"), 201, first,
               "post: the same key and body again -> the same 201, "
               "Idempotent-Replayed", replayed=True)
        other = jbody({"payment": "pay_1", "amount": 2000,
                       "currency": "EUR"})
        expect(t, post(run, "acme", other, aw, "k-1"), 422,
               Err("idempotency_conflict"),
               "post: the same key with another amount -> 422")
        spaced = jbody({"payment": "pay_1", "amount": 1999,
                        "currency": "EUR"}).replace(b",", b", ")
        expect(t, post(run, "acme", spaced, aw, "k-1"), 422,
               Err("idempotency_conflict"),
               "post: the same key with the same JSON in other bytes -> 422 "
               "(the request's bytes are what is compared)")
        expect(t, post(run, "acme", body, aw, "k-2"), 200, first,
               "post: a new key for the identical expectation -> 200")
        expect(t, post(run, "acme", other, aw, "k-3"), 409,
               Err("expectation_conflict"),
               "post: a new key, the same payment, another amount -> 409")
        expect(t, post(run, "acme", other, aw, "k-3"), 409,
               Err("expectation_conflict"),
               "post: that request replayed -> the same 409, "
               "Idempotent-Replayed", replayed=True)
        lower = jbody({"payment": "pay_2", "amount": 5, "currency": "eur"})
        expect(t, post(run, "acme", lower, aw, "k-4"), 201,
               expected("pay_2", 5, "EUR"),
               "post: a lower-case currency is stored upper-case")
        long_key = "K" * 255
        expect(t, post(run, "acme", jbody({"payment": "pay_3", "amount": 7,
                                           "currency": "USD"}), aw, long_key),
               201, expected("pay_3", 7, "USD"),
               "post: an Idempotency-Key of 255 characters is accepted")
        expect(t, post(run, "globex", body, gw, "k-1"), 201, first,
               "post: another tenant's same key is its own -> 201, not "
               "replayed")

        t.eq(hl.query(db, "SELECT tenant, payment_ref, amount, currency "
                      "FROM expectations ORDER BY tenant, payment_ref"),
             [("acme", "pay_1", 1999, "EUR"), ("acme", "pay_2", 5, "EUR"),
              ("acme", "pay_3", 7, "USD"), ("globex", "pay_1", 1999, "EUR")],
             "post: the expectations table holds exactly the four accepted")
        t.eq(hl.query(db, "SELECT tenant, idem_key, status, request_sha256 "
                      "FROM api_requests ORDER BY tenant, idem_key"),
             [("acme", long_key, 201, sha(
                 b"POST\n/v1/tenants/acme/payments\n" + jbody(
                     {"payment": "pay_3", "amount": 7, "currency": "USD"}))),
              ("acme", "k-1", 201, sha(
                  b"POST\n/v1/tenants/acme/payments\n" + body)),
              ("acme", "k-2", 200, sha(
                  b"POST\n/v1/tenants/acme/payments\n" + body)),
              ("acme", "k-3", 409, sha(
                  b"POST\n/v1/tenants/acme/payments\n" + other)),
              ("acme", "k-4", 201, sha(
                  b"POST\n/v1/tenants/acme/payments\n" + lower)),
              ("globex", "k-1", 201, sha(
                  b"POST\n/v1/tenants/globex/payments\n" + body))],
             "post: one api_requests row per key, with the request's "
             "SHA-256 over method, path and body")

    # A key is kept across a restart.
    with Run(t, "post (restarted)", tmp, [ep]) as run2:
        expect(t, post(run2, "acme", body, aw, "k-1"), 201, first,
               "post: after a restart the key still replays its 201",
               replayed=True)
        expect(t, post(run2, "acme", other, aw, "k-1"), 422,
               Err("idempotency_conflict"),
               "post: and still refuses another body")


# ---------------------------------------------------------------- 3 fields

def g_fields(t, tmp):
    ep, _ = shop()
    with Run(t, "fields", tmp, [ep]) as run:
        aw = hl.create_token(run.db, "acme", "payments:write")

        def raw(payment='"pay_f"', amount="100", currency='"USD"',
                extra=""):
            parts = []
            if payment is not None:
                parts.append('"payment":' + payment)
            if amount is not None:
                parts.append('"amount":' + amount)
            if currency is not None:
                parts.append('"currency":' + currency)
            return ("{" + ",".join(parts) + extra + "}").encode()

        cases = [
            ("amount 10.5", raw(amount="10.5"), "amount"),
            ('amount "1000"', raw(amount='"1000"'), "amount"),
            ("amount 1e3", raw(amount="1e3"), "amount"),
            ("amount 1000.0", raw(amount="1000.0"), "amount"),
            ("amount -5", raw(amount="-5"), "amount"),
            ("amount 0", raw(amount="0"), "amount"),
            ("amount -0", raw(amount="-0"), "amount"),
            ("amount 2^53 in USD", raw(amount=str(2 ** 53)), "amount"),
            ("amount 2^63-1", raw(amount=str(2 ** 63 - 1)), "amount"),
            ("amount true", raw(amount="true"), "amount"),
            ("amount null", raw(amount="null"), "amount"),
            ("amount [100]", raw(amount="[100]"), "amount"),
            ("no amount", raw(amount=None), "amount"),
            ("currency XXX", raw(currency='"XXX"'), "currency"),
            ("currency ABC", raw(currency='"ABC"'), "currency"),
            ("currency EURO", raw(currency='"EURO"'), "currency"),
            ('currency ""', raw(currency='""'), "currency"),
            ("currency 978", raw(currency="978"), "currency"),
            ("no currency", raw(currency=None), "currency"),
            ('payment ""', raw(payment='""'), "payment"),
            ('payment "a b"', raw(payment='"a b"'), "payment"),
            ("payment of 256 characters", raw(payment='"' + "p" * 256 + '"'),
             "payment"),
            ("payment 123", raw(payment="123"), "payment"),
            ("no payment", raw(payment=None), "payment"),
            ("a member too many", raw(extra=',"note":"x"'),
             "payment, amount and currency"),
        ]
        for i, (what, b, field) in enumerate(cases):
            expect_invalid(t, post(run, "acme", b, aw, "kf-%d" % i), field,
                           "fields: %s -> 422 invalid_request naming %s" %
                           (what, field))
        # Jansson cannot hold an integer beyond 64 bits, so such a body is
        # not JSON this service can read.
        expect(t, post(run, "acme", raw(amount=str(2 ** 64)), aw, "kf-big"),
               400, Err("body_number_range"),
               "fields: amount 2^64 -> 400 body_number_range")
        t.eq((hl.count(run.db, "expectations"),
              hl.count(run.db, "api_requests")), (0, 0),
             "fields: no refused body was recorded")


# ---------------------------------------------------------------- 4 currencies

def g_currencies(t, tmp):
    ep, _ = shop()
    with Run(t, "currencies", tmp, [ep]) as run:
        aw = hl.create_token(run.db, "acme", "payments:write")
        ar = hl.create_token(run.db, "acme", "ledger:read")
        ok = [("pay_jpy", 10 ** 12, "JPY"), ("pay_kwd", 10 ** 15, "KWD"),
              ("pay_clf", MAX_SAFE, "CLF"), ("pay_eur", 1, "EUR"),
              ("pay_usd", 10 ** 14, "USD")]
        for ref, amount, cur in ok:
            r = post(run, "acme", jbody({"payment": ref, "amount": amount,
                                         "currency": cur}), aw, "k-" + ref)
            expect(t, r, 201, expected(ref, amount, cur),
                   "currencies: %s %d (its maximum) -> 201" % (cur, amount))
        over = [("JPY", 10 ** 12 + 1), ("KWD", 10 ** 15 + 1),
                ("CLF", MAX_SAFE + 1), ("USD", 10 ** 14 + 1)]
        for cur, amount in over:
            r = post(run, "acme", jbody({"payment": "pay_over", "amount":
                                         amount, "currency": cur}), aw,
                     "k-over-" + cur)
            expect_invalid(t, r, "amount", "currencies: %s %d -> 422" %
                           (cur, amount))
        t.eq(hl.query(run.db, "SELECT payment_ref, amount, currency, "
                      "typeof(amount) FROM expectations ORDER BY "
                      "payment_ref"),
             sorted((ref, amount, cur, "integer") for ref, amount, cur
                    in ok),
             "currencies: each amount is stored as the exact integer sent")
        for ref, amount, cur in ok:
            r = get(run, "/v1/tenants/acme/payments/" + ref, ar)
            got = r.json if r.status == 200 else None
            t.eq(got.get("expected") if isinstance(got, dict) else r,
                 {"amount": amount, "currency": cur},
                 "currencies: GET %s shows the exact expected amount" % ref)


# ---------------------------------------------------------------- 5 in flight

def g_inflight(t, tmp):
    ep, _ = shop()
    with Run(t, "in flight", tmp, [ep]) as run:
        aw = hl.create_token(run.db, "acme", "payments:write")
        body = jbody({"payment": "pay_c", "amount": 4200, "currency": "GBP"})
        n = 24
        barrier = threading.Barrier(n)
        results = [None] * n

        def fire(i):
            try:
                barrier.wait(10)
            except threading.BrokenBarrierError:
                pass
            results[i] = post(run, "acme", body, aw, "same-key")

        threads = [threading.Thread(target=fire, args=(i,))
                   for i in range(n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        want = expected("pay_c", 4200, "GBP")
        firsts, replays, busy, bad = 0, 0, 0, []
        for r in results:
            rep = r.header_all("Idempotent-Replayed") if r else []
            if r is None or r.error is not None:
                bad.append(repr(r))
            elif r.status == 201 and r.json == want and not rep:
                firsts += 1
            elif r.status == 201 and r.json == want and rep == ["true"]:
                replays += 1
            elif r.status == 409 and not Err("in_flight").problems(r.json):
                busy += 1
            else:
                bad.append(repr(r))
        t.diag("in flight: %d first, %d replayed, %d in_flight" %
               (firsts, replays, busy))
        t.ok(firsts == 1 and not bad and firsts + replays + busy == n,
             "in flight: %d concurrent copies: one 201, the rest a replayed "
             "201 or 409 in_flight" % n,
             ["first %d, replayed %d, in_flight %d" % (firsts, replays, busy)]
             + bad[:5])
        t.eq(hl.query(run.db, "SELECT tenant, payment_ref, amount, currency "
                      "FROM expectations"), [("acme", "pay_c", 4200, "GBP")],
             "in flight: exactly one expectation")
        t.eq(hl.query(run.db, "SELECT tenant, idem_key, status FROM "
                      "api_requests"), [("acme", "same-key", 201)],
             "in flight: exactly one key record")
        expect(t, post(run, "acme", body, aw, "same-key"), 201, want,
               "in flight: afterwards the key replays", replayed=True)


# ---------------------------------------------------------------- 6 reads

def parse_ts(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def g_reads(t, tmp):
    ep, sec = shop()
    gx, gsec = shop("globex", "gx")
    with Run(t, "reads", tmp, [ep, gx]) as run:
        aw = hl.create_token(run.db, "acme", "payments:write")
        ar = hl.create_token(run.db, "acme", "ledger:read")
        gr = hl.create_token(run.db, "globex", "ledger:read")
        for ref in ("pay_ok", "pay_bad"):
            r = post(run, "acme", jbody({"payment": ref, "amount": 1000,
                                         "currency": "EUR"}), aw, "k-" + ref)
            expect(t, r, 201, expected(ref, 1000, "EUR"),
                   "reads: expect %s 1000 EUR" % ref)

        base = 1767225600               # 2026-01-01T00:00:00Z
        t0 = hl.now()
        hooks = [
            ("shop", sec, "m1", "payment.captured",
             {"payment_id": "pay_ok", "amount": 1000, "currency": "EUR"},
             base, {"result": "applied", "event_id": "m1", "seq": 1}),
            ("shop", sec, "m2", "payment.captured",
             {"payment_id": "pay_bad", "amount": 900, "currency": "EUR"},
             base + 10, {"result": "applied", "event_id": "m2", "seq": 2,
                         "verdict": "amount_mismatch"}),
            ("shop", sec, "m3", "payment.captured",
             {"payment_id": "pay_none", "amount": 500, "currency": "JPY"},
             base + 20, {"result": "applied", "event_id": "m3", "seq": 3}),
            ("shop", sec, "m4", "payment.refunded",
             {"payment_id": "pay_ok", "refund_id": "re_1", "amount": 300,
              "currency": "EUR"},
             base + 30, {"result": "applied", "event_id": "m4", "seq": 4}),
            ("gx", gsec, "g1", "payment.captured",
             {"payment_id": "pay_ok", "amount": 777, "currency": "EUR"},
             base + 40, {"result": "applied", "event_id": "g1", "seq": 5}),
        ]
        for name, s, mid, typ, data, ts, want in hooks:
            ev = hl.neutral_event(typ, data, ts)
            expect(t, run.stdwh(name, s, mid, ev), 200, want,
                   "reads: webhook %s %s -> %s" % (mid, typ, want["result"]))
        t1 = hl.now()

        captured = {"currency": "EUR", "sca_result": "authenticated",
                    "liability_shift": True}
        zero = {"refunded": 0, "refund_pending": 0, "disputed": 0,
                "dispute_lost": 0}
        expect(t, get(run, "/v1/tenants/acme/payments/pay_ok", ar), 200,
               dict({"tenant": "acme", "payment": "pay_ok",
                     "expected": {"amount": 1000, "currency": "EUR"},
                     "captured": dict(captured, amount=1000,
                                      verdict="verified"),
                     "paid": True}, **dict(zero, refunded=300)),
               "reads: pay_ok is expected, captured, verified, paid, 300 "
               "refunded")
        expect(t, get(run, "/v1/tenants/acme/payments/pay_bad", ar), 200,
               dict({"tenant": "acme", "payment": "pay_bad",
                     "expected": {"amount": 1000, "currency": "EUR"},
                     "captured": dict(captured, amount=900,
                                      verdict="amount_mismatch"),
                     "paid": False}, **zero),
               "reads: pay_bad's capture is short: amount_mismatch, not paid")
        expect(t, get(run, "/v1/tenants/acme/payments/pay_none", ar), 200,
               dict({"tenant": "acme", "payment": "pay_none",
                     "expected": None,
                     "captured": dict(captured, amount=500, currency="JPY",
                                      verdict="unverified"),
                     "paid": True}, **zero),
               "reads: pay_none has no expectation: unverified, paid")
        expect(t, get(run, "/v1/tenants/globex/payments/pay_ok", gr), 200,
               dict({"tenant": "globex", "payment": "pay_ok",
                     "expected": None,
                     "captured": dict(captured, amount=777,
                                      verdict="unverified"),
                     "paid": True}, **zero),
               "reads: globex's pay_ok is its own payment")
        expect(t, get(run, "/v1/tenants/acme/payments/pay_unknown", ar), 404,
               Err("not_found"), "reads: an unknown payment -> 404")

        everything = [
            {"account": "provider_balance", "currency": "EUR",
             "balance": 1600},
            {"account": "refunds", "currency": "EUR", "balance": 300},
            {"account": "sales", "currency": "EUR", "balance": -1000},
            {"account": "suspense", "currency": "EUR", "balance": -900},
            {"account": "provider_balance", "currency": "JPY",
             "balance": 500},
            {"account": "sales", "currency": "JPY", "balance": -500},
        ]
        bal = "/v1/tenants/acme/balances"
        expect(t, get(run, bal, ar), 200,
               {"tenant": "acme", "at": None, "balances": everything},
               "reads: acme's balances, by currency then account")
        expect(t, get(run, "/v1/tenants/globex/balances", gr), 200,
               {"tenant": "globex", "at": None, "balances": [
                   {"account": "provider_balance", "currency": "EUR",
                    "balance": 777},
                   {"account": "sales", "currency": "EUR",
                    "balance": -777}]},
               "reads: globex's balances hold only its own movements")
        first = [{"account": "provider_balance", "currency": "EUR",
                  "balance": 1000},
                 {"account": "sales", "currency": "EUR", "balance": -1000}]
        ats = [
            ("2026-01-01T00:00:05Z", "2026-01-01T00:00:05Z", first),
            (str(base + 5), "2026-01-01T00:00:05Z", first),
            ("2026-01-01T01:00:05%2B01:00", "2026-01-01T00:00:05Z", first),
            ("2025-12-31T23:00:05-01:00", "2026-01-01T00:00:05Z", first),
            ("2026-01-01t00:00:05.999z", "2026-01-01T00:00:05Z", first),
            ("2025-12-31T23:59:59Z", "2025-12-31T23:59:59Z", []),
            ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", first),
            ("2026-01-01T00:01:00Z", "2026-01-01T00:01:00Z", everything),
            ("0", "1970-01-01T00:00:00Z", []),
        ]
        for q, echo, want in ats:
            expect(t, get(run, bal + "?at=" + q, ar), 200,
                   {"tenant": "acme", "at": echo, "balances": want},
                   "reads: balances ?at=%s" % q)
        for q in ("x", "", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
                  "2026-01-01T24:00:00Z", "2026-01-01T00:00:00",
                  "2026-01-01%2000:00:00Z", "2026-01-01T00:00:00.Z",
                  "2026-01-01T00:00:00%2B1:00", "-5", "1e9", "+5",
                  "9999999999999", "2026-01-01"):
            expect(t, get(run, bal + "?at=" + q, ar), 400,
                   Err("invalid_parameter"),
                   "reads: balances ?at=%s -> 400" % q)
        expect(t, get(run, bal + "?at", ar), 400, Err("invalid_parameter"),
               "reads: balances ?at without a value -> 400")

        r = get(run, "/v1/tenants/acme/exceptions", ar)
        got = r.json if r.status == 200 else None
        exc = got.get("exceptions") if isinstance(got, dict) else None
        stamp = exc[0].pop("recorded_at", None) if exc else None
        t.eq((r.status, got), (200, {"exceptions": [
            {"tenant": "acme", "endpoint": "shop", "event_id": "m2",
             "payment_ref": "pay_bad", "reason": "amount_mismatch",
             "posted": True}], "parked": []}),
             "reads: acme's one exception: the short capture, posted")
        t.ok(isinstance(stamp, str) and re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp) is not None and
            t0 <= parse_ts(stamp) <= t1,
            "reads: its recorded_at is RFC 3339 and the time it was "
            "recorded", ["recorded_at %r, expected between %s and %s" %
                         (stamp, hl.rfc3339(t0), hl.rfc3339(t1))])
        expect(t, get(run, "/v1/tenants/globex/exceptions", gr), 200,
               {"exceptions": [], "parked": []},
               "reads: globex has no exceptions")


# ---------------------------------------------------------------- 7 headers

def g_headers(t, tmp):
    ep, _ = shop()
    with Run(t, "api headers", tmp, [ep]) as run:
        aw = hl.create_token(run.db, "acme", "payments:write")
        ar = hl.create_token(run.db, "acme", "ledger:read")
        body = jbody({"payment": "pay_h", "amount": 1, "currency": "EUR"})
        cases = [
            ("201", post(run, "acme", body, aw, "kh")),
            ("201 replay", post(run, "acme", body, aw, "kh")),
            ("200 payment", get(run, "/v1/tenants/acme/payments/pay_h", ar)),
            ("200 balances", get(run, "/v1/tenants/acme/balances", ar)),
            ("200 exceptions", get(run, "/v1/tenants/acme/exceptions", ar)),
            ("400 key", post(run, "acme", body, aw, None)),
            ("400 at", get(run, "/v1/tenants/acme/balances?at=x", ar)),
            ("401", run.d.get("/v1/tenants/acme/balances")),
            ("403", get(run, "/v1/tenants/acme/balances", aw)),
            ("404", get(run, "/v1/tenants/nobody/balances", ar)),
            ("405", hl.request(run.d.port, "DELETE",
                               "/v1/tenants/acme/balances", None,
                               hl.api_headers(ar, content_type=None))),
            ("409", post(run, "acme", jbody({"payment": "pay_h",
                                             "amount": 2,
                                             "currency": "EUR"}), aw, "kh2")),
            ("413", post(run, "acme", b"{" + b" " * 5000 + b"}", aw, "kh3")),
            ("415", post(run, "acme", body, aw, "kh4", "text/plain")),
            ("422", post(run, "acme", body.replace(b"1,", b"1.5,"), aw,
                         "kh5")),
            ("422 conflict", post(run, "acme", body.replace(b"1,", b"3,"),
                                  aw, "kh")),
        ]
        for what, r in cases:
            if r is None or r.error is not None:
                t.ok(False, "api headers: security headers and JSON on %s" %
                     what, ["no response: %r" % (r,)])
                continue
            p = header_problems(r)
            for k, v in MORE_SEC_HEADERS.items():
                if r.header_all(k) != [v]:
                    p.append("header %s: got %r" % (k, r.header_all(k)))
            if r.json is None:
                p.append("body is not JSON: %r" % r.body[:200])
            if r.status != int(what[:3]):
                p.append("status %d, expected %s" % (r.status, what[:3]))
            t.ok(not p, "api headers: security headers and JSON on %s" %
                 what, p)

        # The log: one line per API request, without credentials.
        line = run.d.wait_log(lambda j: j.get("msg") == "request" and
                              j.get("path") == "/v1/tenants/acme/balances"
                              and j.get("status") == 403)
        t.ok(line is not None and set(line) == {
            "ts", "level", "msg", "method", "path", "status", "code",
            "latency_ms"} and line.get("method") == "GET" and
            line.get("code") == "forbidden",
            "api headers: an API request is logged with method, path, "
            "status, code and latency", ["line %r" % (line,)])
        n = len(cases)
        got = run.d.wait_log(lambda j: j.get("msg") == "request" and
                             str(j.get("path", "")).startswith("/v1/"),
                             count=n)
        t.ok(got is not None, "api headers: %d API log lines" % n)
        text = run.d.stderr_text()
        t.ok(not any(s in text for s in (aw, ar, aw[4:], ar[4:], "Bearer",
                                         "authorization", "Authorization")),
             "api headers: no token or Authorization header in the log")


# ---------------------------------------------------------------- main

GROUPS = [
    ("authentication", g_auth),
    ("post payments", g_post),
    ("body fields", g_fields),
    ("currencies", g_currencies),
    ("in flight", g_inflight),
    ("reads", g_reads),
    ("api headers", g_headers),
]


def main():
    return run_groups(GROUPS, "hl-api-", "a token or a secret", show=hl.HOOKLEDGERD)


if __name__ == "__main__":
    sys.exit(main())
