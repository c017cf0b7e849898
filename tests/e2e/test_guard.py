#!/usr/bin/env python3
"""
End-to-end tests of the guards, speaking TAP: the kill switch (`hookledger
pause` / `resume` and the daemon's 503 "paused"), the refusal of card
numbers (422 "card_data") and the masking of personal data in the log.

Run from the build directory as `python3 tests/e2e/test_guard.py` with
HL_BUILDDIR and HL_TOP_SRCDIR set as for test_e2e.py, whose harness this
file shares. HL_KEEP=1 keeps the directories of groups that failed;
HL_E2E_ONLY=WORD runs only the groups whose name contains WORD.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hlclient as hl  # noqa: E402
from test_e2e import Err, Run, Tap, applied, expect  # noqa: E402

RETRY_AFTER = "30"
NOTICE_LIMIT = 5.0      # seconds a poll waits for the daemon to notice


def cli(*args, timeout=20):
    """hookledger ARGS: (rc, stdout, stderr)."""
    p = subprocess.run([hl.HOOKLEDGER] + list(args),
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def probe(run, name):
    """An unsigned delivery: 401 while the tenant runs, 503 once paused
    (the pause is checked before the body is read). Never ledger work."""
    return run.d.post("/webhooks/" + name, b"{}",
                      {"Content-Type": "application/json"})


def await_status(run, name, status):
    """Probe until the answer is status or NOTICE_LIMIT passes; returns
    (the last status, seconds taken, probes sent)."""
    t0 = time.monotonic()
    n = 0
    last = None
    while n < 200:
        n += 1
        last = probe(run, name).status
        if last == status or time.monotonic() - t0 > NOTICE_LIMIT:
            break
        time.sleep(0.05)    # the pace of the poll, not a synchronisation
    return last, time.monotonic() - t0, n


def captured(pay, amount=2500, extra=None):
    data = {"payment_id": pay, "amount": amount, "currency": "EUR"}
    data.update(extra or {})
    return hl.neutral_event("payment.captured", data)


PAUSED = Err("paused")


def g_pause(t, tmp):
    s1, s2 = hl.stdwh_secret(), hl.stdwh_secret()
    eps = [hl.Endpoint("shop", "standard-webhooks", [s1], tenant="acme"),
           hl.Endpoint("other", "standard-webhooks", [s2], tenant="globex")]
    with Run(t, "pause", tmp, eps) as run:
        conf, db = run.config, run.db
        expect(t, run.stdwh("shop", s1, "msg_p0", captured("pay_p0")), 200,
               applied("msg_p0", 1), "pause: before any pause, acme's "
               "delivery is applied as seq 1")
        st, _, _ = await_status(run, "shop", 401)
        t.eq(st, 401, "pause: an unsigned probe is 401 while not paused")

        rc, out, err = cli("pause", "--config", conf, "--tenant", "acme",
                           "--reason", "incident 42")
        t.eq((rc, out, err), (0, "paused tenant acme: hookledgerd answers "
             "503 within 1 s\n", ""), "pause: pause --tenant acme says "
             "what it did")
        st, secs, n = await_status(run, "shop", 503)
        t.eq(st, 503, "pause: the daemon answers acme 503 after the pause")
        t.diag("pause noticed after %.2f s (%d probes)" % (secs, n))

        r = run.stdwh("shop", s1, "msg_p1", captured("pay_p1"))
        expect(t, r, 503, PAUSED, "pause: a signed delivery to acme -> 503 "
               "paused with Retry-After", extra={"Retry-After": RETRY_AFTER})
        t.eq(json.loads(r.body)["message"], "deliveries for this tenant "
             "are paused; nothing was recorded, retry later",
             "pause: the webhook's 503 says nothing was recorded")
        t.eq((hl.count(db, "ledger"), hl.count(db, "receipts")), (1, 1),
             "pause: the paused delivery left no ledger row or receipt")
        expect(t, run.stdwh("other", s2, "msg_g1", captured("pay_g1")), 200,
               applied("msg_g1", 2), "pause: globex, not paused, is applied "
               "as seq 2")

        wtok = hl.create_token(db, "acme", "payments:write")
        rtok = hl.create_token(db, "acme", "ledger:read")
        r = run.d.post("/v1/tenants/acme/payments",
                       b'{"payment":"pay_x","amount":100,"currency":"EUR"}',
                       hl.api_headers(wtok, "k1"))
        expect(t, r, 503, PAUSED, "pause: the API's POST payments of a "
               "paused tenant -> 503 paused",
               extra={"Retry-After": RETRY_AFTER})
        t.eq(json.loads(r.body)["message"], "writes for this tenant are "
             "paused; nothing was recorded, retry later",
             "pause: the API's 503 speaks of writes, not deliveries")
        t.eq(hl.count(db, "expectations"), 0,
             "pause: no expectation was stored")
        r = run.d.get("/v1/tenants/acme/balances",
                      hl.api_headers(rtok, None, None))
        t.eq(r.status, 200, "pause: reads stay available (GET balances "
             "-> 200)")

        rc, out, err = cli("pause", "--db", db, "--list")
        t.ok(rc == 0 and re.fullmatch(r"acme +paused since \d{4}-\d\d-\d\dT"
                                      r"\d\d:\d\d:\d\dZ  incident 42\n",
                                      out) is not None,
             "pause: pause --list shows acme, since when and why",
             ["rc %r, stdout %r, stderr %r" % (rc, out, err)])

        rc, out, err = cli("resume", "--config", conf, "--tenant", "acme")
        t.eq((rc, out), (0, "resumed tenant acme: hookledgerd accepts its "
             "deliveries within 1 s\n"), "pause: resume --tenant acme says "
             "what it did")
        st, secs, n = await_status(run, "shop", 401)
        t.eq(st, 401, "pause: after resume the probe is 401 again")
        t.diag("resume noticed after %.2f s (%d probes)" % (secs, n))
        expect(t, run.stdwh("shop", s1, "msg_p1", captured("pay_p1")), 200,
               applied("msg_p1", 3), "pause: the retried delivery is "
               "applied as seq 3")

        rc, out, _ = cli("pause", "--db", db)
        t.eq((rc, out), (0, "paused all tenants: hookledgerd answers 503 "
             "within 1 s\n"), "pause: pause without --tenant pauses all")
        st, _, _ = await_status(run, "other", 503)
        t.eq(st, 503, "pause: globex is paused by the every-tenant pause")
        expect(t, run.stdwh("other", s2, "msg_g2", captured("pay_g2")), 503,
               PAUSED, "pause: a signed globex delivery -> 503 paused",
               extra={"Retry-After": RETRY_AFTER})
        rc, out, _ = cli("resume", "--db", db, "--tenant", "globex")
        t.eq((rc, out), (0, "tenant globex was not paused; all tenants are "
             "(hookledger resume)\n"), "pause: resume --tenant of a tenant "
             "paused only by the every-tenant pause says so")
        rc, out, _ = cli("resume", "--db", db)
        t.eq((rc, out), (0, "resumed all tenants: hookledgerd accepts "
             "deliveries within 1 s\n"), "pause: resume lifts it")
        st, _, _ = await_status(run, "other", 401)
        t.eq(st, 401, "pause: globex is accepted again")
        expect(t, run.stdwh("other", s2, "msg_g2", captured("pay_g2")), 200,
               applied("msg_g2", 4), "pause: globex's retry is applied as "
               "seq 4")

        rc, out, _ = cli("pause", "--db", db, "--list")
        t.eq((rc, out), (0, "no pauses: hookledgerd accepts every tenant's "
             "deliveries\n"), "pause: --list after resume shows none")
        rc, out, err = cli("pause", "--db", db, "--tenant", "a b")
        t.eq((rc, out), (2, ""), "pause: an invalid tenant name is a usage "
             "error (exit 2)")
        rc, out, err = cli("pause", "--db", db, "--reason", "x\ty")
        t.eq((rc, out), (2, ""), "pause: a reason with a control byte is "
             "refused (exit 2)")
        t.eq(hl.query(db, "SELECT count(*) FROM pauses"), [(0,)],
             "pause: the refused commands stored nothing")
        rc, out, _ = hl.run_verify(db)
        t.eq((rc, out.split(",")[0]), (0, "ok: 4 entries"),
             "pause: verify accepts the schema-5 ledger (exit 0)")
        run.d.wait_log(lambda j: j.get("msg") == "pause lifted" and
                       j.get("tenant") == "*")
        changes = [(j["msg"], j["tenant"]) for j in run.d.log_json()
                   if j.get("msg") in ("pause in effect", "pause lifted")]
        t.eq(changes, [("pause in effect", "acme"), ("pause lifted", "acme"),
                       ("pause in effect", "*"), ("pause lifted", "*")],
             "pause: the daemon logs each pause as it takes effect and as "
             "it is lifted, in order")
        line = run.d.wait_log(lambda j: j.get("code") == "paused")
        t.ok(line is not None and line.get("status") == 503 and
             line.get("endpoint") == "shop",
             "pause: the request log line carries status 503, code paused "
             "and the endpoint", [line])


CARD_SHAPES = [
    ("a plain string", b'"card":"4111111111111111"'),
    ("spaces", b'"card":"4111 1111 1111 1111"'),
    ("dashes", b'"card":"4111-1111-1111-1111"'),
    ("a \\u escape", b'"card":"\\u0034111111111111111"'),
    ("a number", b'"card":4111111111111111'),
    ("a real number", b'"card":4111111111111111.0'),
    ("an object key", b'"4111111111111111":true'),
    ("Amex, 15 digits", b'"card":"378282246310005"'),
    ("13 digits", b'"card":"4222222222222"'),
    ("19 digits", b'"card":"6011000990139424009"'),
    ("free text", b'"note":"paid with 5555 5555 5555 4444 today"'),
]


def card_body(fields, n):
    ev = captured("pay_c%d" % n)
    raw = hl.body_bytes(ev)
    assert raw.endswith(b"}")
    return raw[:-1] + b"," + fields + b"}"


def db_bytes(tmp):
    data = b""
    for f in glob.glob(os.path.join(tmp, "ledger.db*")):
        with open(f, "rb") as fh:
            data += fh.read()
    return data


def g_card(t, tmp):
    s1 = hl.stdwh_secret()
    eps = [hl.Endpoint("shop", "standard-webhooks", [s1], tenant="acme")]
    with Run(t, "card", tmp, eps) as run:
        db = run.db
        for i, (what, fields) in enumerate(CARD_SHAPES):
            r = run.stdwh("shop", s1, "msg_c%d" % i, None,
                          raw=card_body(fields, i))
            expect(t, r, 422, Err("card_data"), "card: %s -> 422 card_data"
                   % what)
        t.eq((hl.count(db, "ledger"), hl.count(db, "receipts"),
              hl.count(db, "facts")), (0, 0, 0),
             "card: no refused body left a ledger row, receipt or fact")

        raw = card_body(b'"card":"4111111111111111"', 99)
        r = run.d.post("/webhooks/shop", raw,
                       {"Content-Type": "application/json"})
        expect(t, r, 401, Err("signature_missing"), "card: an unsigned body "
               "with a card number -> 401: the signature is checked first")

        for i, (what, fields) in enumerate([
                ("a Luhn failure", b'"card":"4111111111111112"'),
                ("12 digits", b'"ref":"411111111117"'),
                ("20 digits", b'"ref":"41111111111111111115"'),
                ("a Stripe id", b'"ref":"ch_3MmlLrLkdIwHu7ix0snN0B15"'),
                ("a 10-digit timestamp", b'"at":1700000000'),
                ("an ISO 11649 reference glued to letters",
                 b'"ref":"RF18539007547034"')]):
            r = run.stdwh("shop", s1, "msg_ok%d" % i, None,
                          raw=card_body(fields, 100 + i))
            expect(t, r, 200, applied("msg_ok%d" % i, i + 1),
                   "card: %s is not card data -> applied as seq %d" %
                   (what, i + 1))

        wtok = hl.create_token(db, "acme", "payments:write")
        for key, body in (("k1", b'{"payment":"4111111111111111",'
                           b'"amount":100,"currency":"EUR"}'),
                          ("k2", b'{"payment":"pay_1","amount":100,'
                           b'"currency":"EUR","x":"4111 1111 1111 1111"}')):
            r = run.d.post("/v1/tenants/acme/payments", body,
                           hl.api_headers(wtok, key))
            expect(t, r, 422, Err("card_data"), "card: an API POST holding "
                   "a card number (%s) -> 422 card_data" % key)
        t.eq(hl.count(db, "expectations"), 0,
             "card: no expectation was stored from those")

        # The ids are kept for ever too: a card number in webhook-id or
        # in an Idempotency-Key is card data like one in the body.
        for i, mid in enumerate(("msg_4242424242424242",
                                 "4000-0566-5566-5556",
                                 "msg.5200828282828210")):
            r = run.stdwh("shop", s1, mid, None,
                          raw=card_body(b'"ok":true', 200 + i))
            expect(t, r, 422, Err("card_data"), "card: webhook-id %s -> 422 "
                   "card_data" % mid[:4])
        r = run.d.post("/v1/tenants/acme/payments",
                       b'{"payment":"pay_k","amount":100,"currency":"EUR"}',
                       hl.api_headers(wtok, "4242 4242 4242 4242"))
        expect(t, r, 422, Err("card_data"), "card: an Idempotency-Key "
               "holding a card number -> 422 card_data")
        t.eq((hl.count(db, "ledger"), hl.count(db, "receipts"),
              hl.count(db, "expectations"), hl.count(db, "api_requests")),
             (6, 6, 0, 0), "card: the 6 clean events are all the ledger "
             "holds; no receipt or API request kept a card number")
        data = db_bytes(tmp)
        t.ok(len(data) > 0 and all(d not in data for d in (
            b"4111111111111111", b"4111 1111", b"378282246310005",
            b"6011000990139424009", b"5555 5555", b"4242424242424242",
            b"4242 4242", b"4000-0566", b"5200828282828210")),
             "card: no card number appears anywhere in the database files")
        text = run.d.stderr_text()
        t.ok(all(d not in text for d in ("4111111111111111", "4111 1111",
                                         "378282246310005", "5555 5555",
                                         "6011000990139424009",
                                         "4242424242424242", "4242 4242",
                                         "4000-0566", "5200828282828210")),
             "card: no card number appears in the daemon's log")
        n = len(CARD_SHAPES) + 2 + 4
        got = run.d.wait_log(lambda j: j.get("code") == "card_data" and
                             j.get("status") == 422, count=n)
        t.ok(got is not None, "card: %d log lines carry status 422 and code "
             "card_data" % n)


def g_logs(t, tmp):
    s1 = hl.stdwh_secret()
    eps = [hl.Endpoint("shop", "standard-webhooks", [s1], tenant="acme")]
    with Run(t, "logs", tmp, eps) as run:
        r = run.d.post("/webhooks/jane.doe@example.com", b"{}",
                       {"Content-Type": "application/json"})
        expect(t, r, 404, Err("unknown_endpoint"), "logs: POST to "
               "/webhooks/jane.doe@example.com -> 404 unknown_endpoint")
        r = run.d.post("/webhooks/+447911123489", b"{}",
                       {"Content-Type": "application/json"})
        t.eq(r.status, 404, "logs: POST to a phone number -> 404")
        r = run.d.get("/webhooks/4111111111111111")
        t.eq(r.status, 404, "logs: GET of a card number path -> 404")
        r = run.d.get("/x/4111.1111.1111.1111/4000%2F0566%2F5566%2F5556")
        t.eq(r.status, 404, "logs: GET of a path with dotted and %2F-joined "
             "card numbers -> 404")
        r = run.d.post("/webhooks/" + s1, b"{}",
                       {"Content-Type": "application/json"})
        t.eq(r.status, 404, "logs: POST to a URL holding the endpoint's "
             "secret -> 404")
        raw = card_body(b'"card":"4111 1111 1111 1111"', 1)
        r = run.stdwh("shop", s1, "msg_l1", None, raw=raw)
        expect(t, r, 422, Err("card_data"), "logs: a card body -> 422")
        expect(t, run.stdwh("shop", s1, "msg_l2", captured("pay_l2")), 200,
               applied("msg_l2", 1), "logs: an ordinary delivery -> 200")

        def line(pred):
            return run.d.wait_log(lambda j: j.get("msg") == "request" and
                                  pred(j))

        a = line(lambda j: j.get("code") == "unknown_endpoint" and
                 j.get("method") == "POST" and "***" in j.get("path", "")
                 and "@" in j.get("path", ""))
        t.ok(a is not None and a.get("path") == "/webhooks/j***@***.com" and
             a.get("status") == 404 and isinstance(a.get("latency_ms"),
                                                    float),
             "logs: the email path is logged as /webhooks/j***@***.com with "
             "status, code and latency", [a])
        b = line(lambda j: str(j.get("path", "")).startswith("/webhooks/+"))
        t.eq(b and b.get("path"), "/webhooks/+44********89",
             "logs: the phone path is logged masked")
        c = line(lambda j: j.get("method") == "GET" and
                 j.get("code") == "unknown_endpoint")
        t.eq(c and c.get("path"), "/webhooks/************1111",
             "logs: the card-number path is logged masked")
        f = line(lambda j: str(j.get("path", "")).startswith("/x/"))
        t.eq(f and f.get("path"), "/x/****.****.****.1111/"
             "****/****/****/5556", "logs: dotted and %2F-joined card "
             "numbers in a path are logged masked")
        g = line(lambda j: j.get("method") == "POST" and
                 str(j.get("path", "")).startswith("/webhooks/whsec_"))
        t.eq(g and g.get("path"), "/webhooks/whsec_***", "logs: a secret "
             "in a path is logged as whsec_***")
        d = line(lambda j: j.get("code") == "card_data")
        t.eq(d and {k: d.get(k) for k in ("method", "path", "endpoint",
                                          "status", "code")},
             {"method": "POST", "path": "/webhooks/shop", "endpoint": "shop",
              "status": 422, "code": "card_data"},
             "logs: the card refusal's line has method, path, endpoint, "
             "status and code")
        e = line(lambda j: j.get("code") == "applied")
        t.ok(e is not None and e.get("event_id") == "msg_l2" and
             e.get("status") == 200 and "latency_ms" in e,
             "logs: an applied delivery's line keeps its event id", [e])
        text = run.d.stderr_text()
        leaked = [s for s in ("jane.doe", "example.com", "447911123489",
                              "4111111111111111", "4111 1111",
                              "4111.1111", "0566", s1[6:],
                              "webhook-signature", "v1,") if s in text]
        t.eq(leaked, [], "logs: neither the email, the phone, the card "
             "digits nor a signature appear in the log")
        t.ok(all(isinstance(j, dict) for j in run.d.log_json()),
             "logs: every log line is one JSON object")


def g_ids(t, tmp):
    """Event ids outside [A-Za-z0-9_.:-]{1,255} are bad requests (400
    invalid_event_id) whichever header or field carries them, signed or
    not, and nothing of them is kept."""
    s1, s2 = hl.stdwh_secret(), hl.stripe_secret()
    eps = [hl.Endpoint("shop", "standard-webhooks", [s1], tenant="acme"),
           hl.Endpoint("stripe", "stripe", [s2], tenant="acme")]
    with Run(t, "ids", tmp, eps) as run:
        for i, (what, mid) in enumerate((("a space", "msg 1"),
                                         ("256 bytes", "m" * 256),
                                         ("nothing", ""),
                                         ("a slash", "msg/1"),
                                         ("a non-ASCII byte", "msg_\u00e9"))):
            r = run.stdwh("shop", s1, mid, captured("pay_i%d" % i))
            expect(t, r, 400, Err("invalid_event_id"), "ids: a webhook-id "
                   "with %s -> 400 invalid_event_id" % what)
        r = run.stdwh("shop", s1, "m" * 255, captured("pay_i9"))
        expect(t, r, 200, applied("m" * 255, 1), "ids: a webhook-id of 255 "
               "bytes -> applied")
        ev = hl.stripe_event("payment_intent.succeeded", "evt 1",
                             {"id": "pi_i1", "amount": 100,
                              "amount_received": 100, "currency": "eur"})
        r = run.stripe("stripe", [s2], ev)
        expect(t, r, 422, Err("invalid_event"), "ids: a Stripe event id "
               "with a space is a field of the event -> 422 invalid_event")
        t.eq(json.loads(r.body)["message"], "id must be 1 to 255 characters "
             "of A-Z a-z 0-9 _ . : -", "ids: the message names the field")
        t.eq((hl.count(run.db, "ledger"), hl.count(run.db, "receipts")),
             (1, 1), "ids: only the valid event left a row")


GROUPS = [
    ("pause", g_pause),
    ("card data", g_card),
    ("event ids", g_ids),
    ("logs", g_logs),
]


def main():
    t = Tap()
    t0 = time.monotonic()
    only = os.environ.get("HL_E2E_ONLY")
    keep = os.environ.get("HL_KEEP")
    for name, fn in GROUPS:
        if only and only not in name:
            continue
        tmp = tempfile.mkdtemp(prefix="hl-guard-")
        before = len(t.failed)
        nlogs = len(hl.ALL_LOGS)
        try:
            fn(t, tmp)
        except Exception:
            diag = traceback.format_exc().splitlines()
            if len(hl.ALL_LOGS) > nlogs:
                diag += ["last daemon's stderr, tail:"]
                diag += hl.ALL_LOGS[-1][-10:]
            t.ok(False, "%s: ran to the end" % name, diag)
        if len(t.failed) > before and keep:
            t.diag("%s: kept %s" % (name, tmp))
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if not only:
        texts = ["\n".join(lines) for lines in hl.ALL_LOGS]
        leaked = [s for s in hl.SENSITIVE if any(s in x for x in texts)]
        t.ok(not leaked, "no daemon's stderr shows a token, a secret or a "
             "signature", ["leaked: %r" % leaked[:3]])
    t.diag("elapsed %.1f s" % (time.monotonic() - t0))
    print("1..%d" % t.n)
    sys.stdout.flush()
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
