#!/usr/bin/env python3
"""
End-to-end tests for hookledgerd and `hookledger verify`, speaking TAP.

Run from the build directory as `python3 tests/e2e/test_e2e.py` with
HL_BUILDDIR (binaries in $HL_BUILDDIR/src) and HL_TOP_SRCDIR (fixtures in
$HL_TOP_SRCDIR/tests/fixtures). Each group of checks gets a fresh temporary
directory and daemon on an ephemeral port of 127.0.0.1. Set HL_KEEP=1 to
keep the directories of groups that failed, and HL_E2E_ONLY=WORD to run only
the groups whose name contains WORD.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hlclient as hl  # noqa: E402

SEC_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Content-Type": "application/json",
}

ZERO_HASH = bytes(32)


# ---------------------------------------------------------------- TAP

class Tap:
    def __init__(self):
        self.n = 0
        self.failed = []

    def ok(self, cond, desc, diag=()):
        self.n += 1
        desc = desc.replace("#", "no.")
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, desc))
        if not cond:
            self.failed.append(self.n)
            for d in diag:
                for line in str(d).splitlines() or [""]:
                    print("# " + line)
        sys.stdout.flush()
        return cond

    def skip(self, desc, why):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, desc.replace("#", "no."), why))
        sys.stdout.flush()

    def eq(self, got, want, desc):
        if isinstance(got, list) and isinstance(want, list):
            diag = ["%d rows, expected %d" % (len(got), len(want))]
            for i in range(max(len(got), len(want))):
                g = got[i] if i < len(got) else "(none)"
                w = want[i] if i < len(want) else "(none)"
                if g != w:
                    diag += ["row %d got:      %r" % (i, g),
                             "row %d expected: %r" % (i, w)]
        else:
            diag = ["got:      %r" % (got,), "expected: %r" % (want,)]
        return self.ok(got == want, desc, diag)

    def skip(self, desc, why):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, desc.replace("#", "no."),
                                        why))
        sys.stdout.flush()

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line)
        sys.stdout.flush()


class Err:
    """Matches an error body {"error": code, "message": <sentence>}."""

    def __init__(self, code):
        self.code = code

    def problems(self, got):
        if not isinstance(got, dict):
            return ["body is not a JSON object"]
        p = []
        if set(got) != {"error", "message"}:
            p.append("keys %r, expected ['error', 'message']" %
                     sorted(got))
        if got.get("error") != self.code:
            p.append("error %r, expected %r" % (got.get("error"), self.code))
        m = got.get("message")
        if not isinstance(m, str) or not m.strip():
            p.append("message %r is not a sentence" % (m,))
        return p

    def __repr__(self):
        return '{"error": %r, "message": <sentence>}' % self.code


def header_problems(r):
    p = []
    for k, v in SEC_HEADERS.items():
        got = r.header_all(k)
        if got != [v]:
            p.append("header %s: got %r, expected [%r]" % (k, got, v))
    return p


def expect(t, r, status, body, desc, replayed=False, headers=True,
           extra=None):
    """One TAP line: exact status, exact JSON body (a dict, or Err), the
    Idempotent-Replayed header exactly when replayed, the security headers
    and any extra (name, value) headers."""
    p = []
    if r is None:
        return t.ok(False, desc, ["no response (connection closed)"])
    if r.error is not None:
        return t.ok(False, desc, ["no HTTP response: %s" % r.error])
    if r.status != status:
        p.append("status %d, expected %d" % (r.status, status))
    got = r.json
    if isinstance(body, Err):
        p += body.problems(got)
    elif got != body:
        p.append("body %r, expected %r" % (got, body))
    rep = r.header_all("Idempotent-Replayed")
    if replayed and rep != ["true"]:
        p.append("Idempotent-Replayed %r, expected ['true']" % rep)
    if not replayed and rep:
        p.append("Idempotent-Replayed %r on a first answer" % rep)
    if headers:
        p += header_problems(r)
    for k, v in (extra or {}).items():
        if r.header_all(k) != [v]:
            p.append("header %s: got %r, expected [%r]" %
                     (k, r.header_all(k), v))
    if p:
        p.append("raw body: %r" % r.body[:400])
    return t.ok(not p, desc, p)


def applied(event_id, seq):
    return {"result": "applied", "event_id": event_id, "seq": seq}


def recorded(event_id, note=None):
    b = {"result": "recorded", "event_id": event_id}
    if note is not None:
        b["note"] = note
    return b


# ---------------------------------------------------------------- harness

class Run:
    """A config and a running daemon in dirpath; on exit SIGTERM and one
    TAP line asserting a clean exit."""

    def __init__(self, t, label, dirpath, endpoints, max_body=None):
        self.t = t
        self.label = label
        self.dir = dirpath
        self.endpoints = endpoints
        self.config = hl.write_config(dirpath, endpoints, max_body=max_body)
        self.db = os.path.join(dirpath, "ledger.db")
        self.d = hl.Daemon(self.config)

    def __enter__(self):
        self.d.start()
        return self

    def __exit__(self, typ, val, tb):
        rc = self.d.stop()
        diag = ["exit status %r, expected 0" % (rc,)]
        if self.d.stuck is not None:
            diag.append("still running 10 s after SIGTERM: %s" %
                        self.d.stuck)
        diag += ["stderr tail:"] + self.d.lines[-8:]
        self.t.ok(rc == 0, "%s: daemon exits 0 on SIGTERM" % self.label,
                  diag)
        return False

    def stdwh(self, name, secret, msg_id, obj, ts=None, raw=None, **kw):
        body = raw if raw is not None else hl.body_bytes(obj)
        ts = hl.now() if ts is None else ts
        return self.d.post("/webhooks/" + name, body,
                           hl.stdwh_headers(secret, msg_id, ts, body), **kw)

    def stripe(self, name, secret, obj, ts=None, raw=None, **kw):
        body = raw if raw is not None else hl.body_bytes(obj)
        ts = hl.now() if ts is None else ts
        return self.d.post("/webhooks/" + name, body,
                           hl.stripe_headers(secret, ts, body), **kw)


def sha(b):
    return hashlib.sha256(b).digest()


def check_chain(t, db, label):
    """prev_hash of entry 1 is all zeros and each later prev_hash is the
    previous entry's hash."""
    rows = hl.ledger_rows(db, ("seq", "prev_hash", "hash"))
    p = []
    prev = ZERO_HASH
    for seq, ph, h in rows:
        if ph != prev:
            p.append("entry %d: prev_hash %s, expected %s" %
                     (seq, ph.hex(), prev.hex()))
        prev = h
    t.ok(not p and bool(rows), "%s: hash chain links (%d entries)" %
         (label, len(rows)), p or ["the ledger is empty"])


def check_verify(t, db, n, label):
    rows = hl.ledger_rows(db, ("seq", "hash"))
    head = rows[-1] if rows else (0, ZERO_HASH)
    rc, out, err = hl.run_verify(db)
    want = "ok: %d entries, head seq %d, head hash %s" % (n, head[0],
                                                         head[1].hex())
    t.ok(rc == 0 and out.strip() == want, "%s: verify exits 0, %s" %
         (label, want[:40] + "..."),
         ["rc %d, expected 0" % rc, "stdout %r" % out,
          "expected %r" % want, "stderr %r" % err])


# ---------------------------------------------------------------- 1 Stripe

def g_stripe(t, tmp):
    sec = hl.stripe_secret()
    ep = hl.Endpoint("stripe", "stripe", [sec], tenant="acme")
    with Run(t, "stripe", tmp, [ep]) as run:
        base = hl.now() - 3600
        bodies = {}

        def send(typ, evt, obj, created):
            ev = hl.stripe_event(typ, evt, obj, created)
            b = hl.body_bytes(ev)
            bodies[evt] = b
            return run.stripe("stripe", sec, None, raw=b)

        r = send("payment_intent.succeeded", "evt_pi_1",
                 {"id": "pi_1", "object": "payment_intent", "amount": 2000,
                  "amount_received": 2000, "currency": "usd",
                  "status": "succeeded", "latest_charge": "ch_1"}, base)
        expect(t, r, 200, applied("evt_pi_1", 1),
               "stripe: payment_intent.succeeded -> 200 applied seq 1")
        t.eq(hl.ledger_rows(run.db),
             [(1, "acme", "stripe", "evt_pi_1", "capture", "pi_1", 2000,
               "USD", base)],
             "stripe: ledger row 1 is capture pi_1 2000 USD")

        r = send("charge.succeeded", "evt_ch_1",
                 {"id": "ch_1", "object": "charge", "amount": 2000,
                  "amount_captured": 2000, "amount_refunded": 0,
                  "currency": "usd", "payment_intent": "pi_1",
                  "captured": True, "paid": True, "refunded": False,
                  "status": "succeeded"}, base + 1)
        expect(t, r, 200,
               recorded("evt_ch_1", "capture_already_posted"),
               "stripe: charge.succeeded for the same PI -> recorded, "
               "capture_already_posted")

        charge = {"id": "ch_1", "object": "charge", "amount": 2000,
                  "amount_captured": 2000, "currency": "usd",
                  "payment_intent": "pi_1", "captured": True, "paid": True,
                  "refunded": False, "status": "succeeded"}
        r = send("charge.refunded", "evt_rf_1",
                 dict(charge, amount_refunded=300), base + 2)
        expect(t, r, 200, applied("evt_rf_1", 2),
               "stripe: charge.refunded amount_refunded 300 -> applied seq 2")
        r = send("charge.refunded", "evt_rf_2",
                 dict(charge, amount_refunded=500), base + 3)
        expect(t, r, 200, applied("evt_rf_2", 3),
               "stripe: charge.refunded amount_refunded 500 -> applied seq 3")

        dispute = {"id": "dp_1", "object": "dispute", "amount": 1500,
                   "currency": "usd", "charge": "ch_1",
                   "payment_intent": "pi_1", "reason": "fraudulent",
                   "status": "needs_response"}
        r = send("charge.dispute.created", "evt_dp_1", dispute, base + 4)
        expect(t, r, 200, applied("evt_dp_1", 4),
               "stripe: charge.dispute.created -> applied seq 4")
        r = send("charge.dispute.closed", "evt_dp_2",
                 dict(dispute, status="lost"), base + 5)
        expect(t, r, 200, applied("evt_dp_2", 5),
               "stripe: charge.dispute.closed lost -> applied seq 5")

        r = send("payout.paid", "evt_po_1",
                 {"id": "po_1", "object": "payout", "amount": 5000,
                  "currency": "usd", "status": "paid",
                  "arrival_date": base + 86400}, base + 6)
        expect(t, r, 200, applied("evt_po_1", 6),
               "stripe: payout.paid -> applied seq 6")

        r = send("customer.created", "evt_cu_1",
                 {"id": "cus_1", "object": "customer",
                  "email": "jenny@example.com"}, base + 7)
        expect(t, r, 200, recorded("evt_cu_1"),
               "stripe: customer.created (unmapped) -> recorded")

        want = [
            (1, "acme", "stripe", "evt_pi_1", "capture", "pi_1", 2000,
             "USD", base),
            (2, "acme", "stripe", "evt_rf_1", "refund", "pi_1", 300, "USD",
             base + 2),
            (3, "acme", "stripe", "evt_rf_2", "refund", "pi_1", 200, "USD",
             base + 3),
            (4, "acme", "stripe", "evt_dp_1", "dispute_opened", "pi_1",
             1500, "USD", base + 4),
            (5, "acme", "stripe", "evt_dp_2", "dispute_lost", "pi_1", 1500,
             "USD", base + 5),
            (6, "acme", "stripe", "evt_po_1", "payout", "po_1", 5000, "USD",
             base + 6),
        ]
        t.eq(hl.ledger_rows(run.db), want,
             "stripe: ledger holds exactly the six movements")
        got = hl.ledger_rows(run.db, ("seq", "event_id", "body_sha256"))
        t.eq([(s, e, h.hex()) for s, e, h in got],
             [(w[0], w[3], sha(bodies[w[3]]).hex()) for w in want],
             "stripe: each entry's body_sha256 is SHA-256 of its body")
        t.eq(hl.receipt_rows(run.db), [
            ("stripe", "evt_ch_1", "acme", "charge.succeeded", "duplicate",
             None, 200),
            ("stripe", "evt_cu_1", "acme", "customer.created", "recorded",
             None, 200),
            ("stripe", "evt_dp_1", "acme", "charge.dispute.created",
             "applied", 4, 200),
            ("stripe", "evt_dp_2", "acme", "charge.dispute.closed",
             "applied", 5, 200),
            ("stripe", "evt_pi_1", "acme", "payment_intent.succeeded",
             "applied", 1, 200),
            ("stripe", "evt_po_1", "acme", "payout.paid", "applied", 6, 200),
            ("stripe", "evt_rf_1", "acme", "charge.refunded", "applied", 2,
             200),
            ("stripe", "evt_rf_2", "acme", "charge.refunded", "applied", 3,
             200),
        ], "stripe: one receipt per event with its outcome (duplicate for "
           "the capture already posted)")
        check_chain(t, run.db, "stripe")
    check_verify(t, run.db, 6, "stripe")


# ---------------------------------------------------------------- 2 neutral

def g_neutral(t, tmp):
    sec = hl.stdwh_secret()
    ep = hl.Endpoint("shop", "standard-webhooks", [sec], tenant="globex")
    with Run(t, "neutral", tmp, [ep]) as run:
        base = hl.now() - 7200
        cases = [
            ("msg_n1", "payment.captured",
             {"payment_id": "pay_1", "amount": 1000, "currency": "eur"},
             applied("msg_n1", 1)),
            ("msg_n2", "payment.refunded",
             {"payment_id": "pay_1", "refund_id": "rfd_1", "amount": 250,
              "currency": "EUR"},
             applied("msg_n2", 2)),
            ("msg_n3", "dispute.opened",
             {"payment_id": "pay_1", "dispute_id": "dsp_1", "amount": 750,
              "currency": "EUR"},
             applied("msg_n3", 3)),
            ("msg_n4", "dispute.won",
             {"payment_id": "pay_1", "dispute_id": "dsp_1", "amount": 750,
              "currency": "EUR"},
             applied("msg_n4", 4)),
            ("msg_n5", "payout.paid",
             {"payout_id": "po_9", "amount": 1250, "currency": "JPY"},
             applied("msg_n5", 5)),
            ("msg_n6", "customer.created",
             {"customer_id": "cust_1"}, recorded("msg_n6")),
        ]
        for i, (mid, typ, data, want) in enumerate(cases):
            ev = hl.neutral_event(typ, data, base + i)
            r = run.stdwh("shop", sec, mid, ev)
            expect(t, r, 200, want, "neutral: %s -> %s" %
                   (typ, json.dumps(want, sort_keys=True)))
        t.eq(hl.ledger_rows(run.db), [
            (1, "globex", "shop", "msg_n1", "capture", "pay_1", 1000, "EUR",
             base),
            (2, "globex", "shop", "msg_n2", "refund", "pay_1", 250, "EUR",
             base + 1),
            (3, "globex", "shop", "msg_n3", "dispute_opened", "pay_1", 750,
             "EUR", base + 2),
            (4, "globex", "shop", "msg_n4", "dispute_won", "pay_1", 750,
             "EUR", base + 3),
            (5, "globex", "shop", "msg_n5", "payout", "po_9", 1250, "JPY",
             base + 4),
        ], "neutral: ledger rows for the five movements, none for the "
           "unmapped type")
        t.eq(hl.receipt_rows(run.db, ("event_id", "event_type", "outcome",
                                      "entry_seq", "status")), [
            ("msg_n1", "payment.captured", "applied", 1, 200),
            ("msg_n2", "payment.refunded", "applied", 2, 200),
            ("msg_n3", "dispute.opened", "applied", 3, 200),
            ("msg_n4", "dispute.won", "applied", 4, 200),
            ("msg_n5", "payout.paid", "applied", 5, 200),
            ("msg_n6", "customer.created", "recorded", None, 200),
        ], "neutral: a receipt for each event, the unmapped one recorded")
        check_chain(t, run.db, "neutral")
    check_verify(t, run.db, 5, "neutral")


# ---------------------------------------------------------------- 3 replay

def g_redelivery(t, tmp):
    s1 = hl.stdwh_secret()
    s2 = hl.stripe_secret()
    eps = [hl.Endpoint("shop", "standard-webhooks", [s1]),
           hl.Endpoint("stripe", "stripe", [s2])]
    with Run(t, "redelivery", tmp, eps) as run:
        ev = hl.neutral_event("payment.captured", {
            "payment_id": "pay_r", "amount": 4200, "currency": "GBP"})
        body = hl.body_bytes(ev)
        r1 = run.stdwh("shop", s1, "msg_r1", None, raw=body)
        expect(t, r1, 200, applied("msg_r1", 1),
               "redelivery: first delivery applied seq 1")
        rows1 = hl.ledger_rows(run.db)
        # A real redelivery carries a new timestamp and signature.
        r2 = run.stdwh("shop", s1, "msg_r1", None, raw=body,
                       ts=hl.now() - 5)
        expect(t, r2, 200, applied("msg_r1", 1),
               "redelivery: same id and body -> same answer, "
               "Idempotent-Replayed: true", replayed=True)
        t.eq(r2.body, r1.body, "redelivery: replayed body is byte-identical")
        t.eq(hl.ledger_rows(run.db), rows1,
             "redelivery: no new ledger row")

        ev2 = json.loads(body)
        ev2["data"]["amount"] = 4300
        r3 = run.stdwh("shop", s1, "msg_r1", ev2)
        expect(t, r3, 422, Err("idempotency_conflict"),
               "redelivery: same id, different body -> 422 "
               "idempotency_conflict")
        t.eq(hl.ledger_rows(run.db), rows1,
             "redelivery: conflict leaves the ledger unchanged")
        r4 = run.stdwh("shop", s1, "msg_r1", None, raw=body)
        expect(t, r4, 200, applied("msg_r1", 1),
               "redelivery: original body still replays after a conflict",
               replayed=True)

        sev = hl.stripe_event("payment_intent.succeeded", "evt_r2", {
            "id": "pi_r2", "object": "payment_intent", "amount": 999,
            "amount_received": 999, "currency": "usd",
            "status": "succeeded"})
        sbody = hl.body_bytes(sev)
        r5 = run.stripe("stripe", s2, None, raw=sbody)
        expect(t, r5, 200, applied("evt_r2", 2),
               "redelivery: stripe first delivery applied seq 2")
        r6 = run.stripe("stripe", s2, None, raw=sbody, ts=hl.now() - 30)
        expect(t, r6, 200, applied("evt_r2", 2),
               "redelivery: stripe redelivery replays", replayed=True)
        t.eq(r6.body, r5.body, "redelivery: stripe replay byte-identical")
        sev2 = json.loads(sbody)
        sev2["data"]["object"]["amount_received"] = 1000
        sev2["data"]["object"]["amount"] = 1000
        r7 = run.stripe("stripe", s2, sev2)
        expect(t, r7, 422, Err("idempotency_conflict"),
               "redelivery: stripe same id, different body -> 422")

        cev = hl.neutral_event("customer.created", {"customer_id": "c_9"})
        cbody = hl.body_bytes(cev)
        r8 = run.stdwh("shop", s1, "msg_r3", None, raw=cbody)
        expect(t, r8, 200, recorded("msg_r3"),
               "redelivery: unmapped event recorded")
        r9 = run.stdwh("shop", s1, "msg_r3", None, raw=cbody)
        expect(t, r9, 200, recorded("msg_r3"),
               "redelivery: a recorded event replays the same answer",
               replayed=True)

        t.eq([r[:8] for r in hl.ledger_rows(run.db)], [
            (1, "acme", "shop", "msg_r1", "capture", "pay_r", 4200, "GBP"),
            (2, "acme", "stripe", "evt_r2", "capture", "pi_r2", 999, "USD"),
        ], "redelivery: ledger holds exactly the two first deliveries")
        t.eq(hl.count(run.db, "receipts"), 3,
             "redelivery: three receipts (two applied, one recorded)")
    check_verify(t, run.db, 2, "redelivery")


# ---------------------------------------------------------------- 4 races

def g_concurrent(t, tmp):
    sec = hl.stdwh_secret()
    ep = hl.Endpoint("shop", "standard-webhooks", [sec])
    n = 20
    with Run(t, "concurrent", tmp, [ep]) as run:
        ev = hl.neutral_event("payment.captured", {
            "payment_id": "pay_c", "amount": 777, "currency": "USD"})
        body = hl.body_bytes(ev)
        headers = hl.stdwh_headers(sec, "msg_c1", hl.now(), body)
        barrier = threading.Barrier(n, timeout=15)
        results = [None] * n

        def worker(i):
            conn = http.client.HTTPConnection(hl.HOST, run.d.port,
                                              timeout=15)
            try:
                conn.connect()
                barrier.wait()
                conn.request("POST", "/webhooks/shop", body=body,
                             headers=headers)
                resp = conn.getresponse()
                results[i] = hl.Response(resp.status, resp.getheaders(),
                                         resp.read())
            except Exception as e:  # reported below
                results[i] = e
            finally:
                conn.close()

        threads = [threading.Thread(target=worker, args=(i,))
                   for i in range(n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        alive = [th for th in threads if th.is_alive()]
        t.ok(not alive, "concurrent: all %d requests finished" % n,
             ["%d threads still running" % len(alive)])
        errs = [r for r in results if not isinstance(r, hl.Response)]
        t.ok(not errs, "concurrent: every request got an HTTP answer",
             [repr(e) for e in errs[:5]])
        resps = [r for r in results if isinstance(r, hl.Response)]
        ok200 = [r for r in resps if r.status == 200]
        bad = []
        for r in resps:
            bad += header_problems(r)
            if r.status == 200:
                if r.json != applied("msg_c1", 1):
                    bad.append("200 body %r" % r.body)
            elif r.status == 409:
                bad += Err("in_flight").problems(r.json)
            else:
                bad.append("status %d body %r" % (r.status, r.body))
        t.ok(not bad, "concurrent: each answer is 200 applied (or its "
             "replay) or 409 in_flight", bad[:10])
        t.ok(len(ok200) >= 1, "concurrent: at least one 200",
             ["statuses: %r" % sorted(r.status for r in resps)])
        t.eq(len(set(r.body for r in ok200)), 1 if ok200 else 0,
             "concurrent: all 200 bodies are byte-identical")
        first = [r for r in ok200 if not r.header_all("Idempotent-Replayed")]
        t.eq(len(first), 1, "concurrent: exactly one 200 is a first answer "
             "(the others carry Idempotent-Replayed)")
        t.eq([r[:8] for r in hl.ledger_rows(run.db)],
             [(1, "acme", "shop", "msg_c1", "capture", "pay_c", 777, "USD")],
             "concurrent: exactly one ledger row")
        t.eq(hl.count(run.db, "receipts"), 1, "concurrent: exactly one "
             "receipt")
        t.diag("concurrent: statuses %r" %
               sorted((r.status, bool(r.header_all("Idempotent-Replayed")))
                      for r in resps))
        r = run.d.post("/webhooks/shop", body, hl.stdwh_headers(
            sec, "msg_c1", hl.now(), body))
        expect(t, r, 200, applied("msg_c1", 1),
               "concurrent: a later redelivery replays", replayed=True)
    check_verify(t, run.db, 1, "concurrent")


# ---------------------------------------------------------------- 5 time

def g_timestamps(t, tmp):
    s1 = hl.stdwh_secret()
    s2 = hl.stripe_secret()
    eps = [hl.Endpoint("shop", "standard-webhooks", [s1], tolerance=300),
           hl.Endpoint("stripe", "stripe", [s2], tolerance=300)]
    with Run(t, "timestamps", tmp, eps) as run:
        def nev(i):
            return hl.neutral_event("payment.captured", {
                "payment_id": "pay_t%d" % i, "amount": 100 + i,
                "currency": "USD"})

        def sev(i):
            return hl.stripe_event("payment_intent.succeeded", "evt_t%d" % i,
                                   {"id": "pi_t%d" % i, "amount": 100 + i,
                                    "amount_received": 100 + i,
                                    "currency": "usd",
                                    "status": "succeeded"})

        r = run.stdwh("shop", s1, "msg_t1", nev(1), ts=hl.now() - 301)
        expect(t, r, 401, Err("timestamp_stale"),
               "timestamps: standard-webhooks now-301 -> 401 timestamp_stale")
        hl.at_second_start()
        r = run.stdwh("shop", s1, "msg_t2", nev(2), ts=hl.now() + 301)
        expect(t, r, 401, Err("timestamp_future"),
               "timestamps: standard-webhooks now+301 -> 401 "
               "timestamp_future")
        r = run.stdwh("shop", s1, "msg_t3", nev(3), ts=hl.now() - 290)
        expect(t, r, 200, applied("msg_t3", 1),
               "timestamps: standard-webhooks now-290 -> applied")
        r = run.stdwh("shop", s1, "msg_t4", nev(4), ts=hl.now() + 290)
        expect(t, r, 200, applied("msg_t4", 2),
               "timestamps: standard-webhooks now+290 -> applied")

        body = hl.body_bytes(nev(5))
        h = hl.stdwh_headers(s1, "msg_t5", hl.now(), body)
        h["webhook-timestamp"] = str(hl.now()) + "abc"
        r = run.d.post("/webhooks/shop", body, h)
        expect(t, r, 401, Err("timestamp_invalid"),
               "timestamps: webhook-timestamp with trailing letters -> 401 "
               "timestamp_invalid")

        r = run.stripe("stripe", s2, sev(6), ts=hl.now() - 301)
        expect(t, r, 401, Err("timestamp_stale"),
               "timestamps: stripe t=now-301 -> 401 timestamp_stale")
        hl.at_second_start()
        r = run.stripe("stripe", s2, sev(7), ts=hl.now() + 301)
        expect(t, r, 401, Err("timestamp_future"),
               "timestamps: stripe t=now+301 -> 401 timestamp_future")
        r = run.stripe("stripe", s2, sev(8), ts=hl.now() - 290)
        expect(t, r, 200, applied("evt_t8", 3),
               "timestamps: stripe t=now-290 -> applied")
        t.eq([r[3] for r in hl.ledger_rows(run.db)],
             ["msg_t3", "msg_t4", "evt_t8"],
             "timestamps: only the accepted events are in the ledger")
        t.eq(hl.count(run.db, "receipts"), 3,
             "timestamps: rejected deliveries leave no receipt")


# ---------------------------------------------------------------- 6 secrets

def g_rotation(t, tmp):
    old1, new1 = hl.stdwh_secret(), hl.stdwh_secret()
    old2, new2 = hl.stripe_secret(), hl.stripe_secret()
    wrong1, wrong2 = hl.stdwh_secret(), hl.stripe_secret()

    def nev(i):
        return hl.neutral_event("payment.captured", {
            "payment_id": "pay_k%d" % i, "amount": 10 * i,
            "currency": "CHF"})

    def sev(i):
        return hl.stripe_event("payment_intent.succeeded", "evt_k%d" % i,
                               {"id": "pi_k%d" % i, "amount": 10 * i,
                                "amount_received": 10 * i,
                                "currency": "chf", "status": "succeeded"})

    eps = [hl.Endpoint("shop", "standard-webhooks", [old1, new1]),
           hl.Endpoint("stripe", "stripe", [old2, new2])]
    with Run(t, "rotation", tmp, eps) as run:
        r = run.stdwh("shop", wrong1, "msg_k1", nev(1))
        expect(t, r, 401, Err("signature_mismatch"),
               "secrets: standard-webhooks, wrong secret -> 401 "
               "signature_mismatch")
        r = run.stripe("stripe", wrong2, sev(2))
        expect(t, r, 401, Err("signature_mismatch"),
               "secrets: stripe, wrong secret -> 401 signature_mismatch")
        # The Standard Webhooks key is the decoded base64: signing with the
        # raw string as Stripe does must fail.
        body = hl.body_bytes(nev(3))
        ts = hl.now()
        mac = base64.b64encode(hmac.new(new1.encode(),
                                        b"msg_k3.%d." % ts + body,
                                        hashlib.sha256).digest()).decode()
        hl.SENSITIVE.add(mac)
        r = run.d.post("/webhooks/shop", body, {
            "Content-Type": "application/json", "webhook-id": "msg_k3",
            "webhook-timestamp": str(ts), "webhook-signature": "v1," + mac})
        expect(t, r, 401, Err("signature_mismatch"),
               "secrets: standard-webhooks signed with the undecoded "
               "secret string -> 401")
        k4 = hl.body_bytes(nev(4))
        r = run.stdwh("shop", old1, "msg_k4", None, raw=k4)
        expect(t, r, 200, applied("msg_k4", 1),
               "secrets: standard-webhooks, old secret of two -> applied")
        r = run.stdwh("shop", new1, "msg_k5", nev(5))
        expect(t, r, 200, applied("msg_k5", 2),
               "secrets: standard-webhooks, new secret of two -> applied")
        r = run.stdwh("shop", [wrong1, new1], "msg_k6", nev(6))
        expect(t, r, 200, applied("msg_k6", 3),
               "secrets: standard-webhooks, signature list with one good "
               "entry -> applied")
        r = run.stripe("stripe", old2, sev(7))
        expect(t, r, 200, applied("evt_k7", 4),
               "secrets: stripe, old secret of two -> applied")
        r = run.stripe("stripe", new2, sev(8))
        expect(t, r, 200, applied("evt_k8", 5),
               "secrets: stripe, new secret of two -> applied")
        r = run.stripe("stripe", [wrong2, new2], sev(9))
        expect(t, r, 200, applied("evt_k9", 6),
               "secrets: stripe, two v1= with one good -> applied")
        r = run.d.post("/webhooks/shop", hl.body_bytes(nev(10)),
                       {"Content-Type": "application/json",
                        "webhook-id": "msg_k10",
                        "webhook-timestamp": str(hl.now())})
        expect(t, r, 401, Err("signature_missing"),
               "secrets: no webhook-signature -> 401 signature_missing")
        r = run.d.post("/webhooks/stripe", hl.body_bytes(sev(11)),
                       {"Content-Type": "application/json"})
        expect(t, r, 401, Err("signature_missing"),
               "secrets: no Stripe-Signature -> 401 signature_missing")
        r = run.d.post("/webhooks/stripe", hl.body_bytes(sev(12)),
                       {"Content-Type": "application/json",
                        "Stripe-Signature": "garbage"})
        expect(t, r, 401, Err("signature_malformed"),
               "secrets: Stripe-Signature without key=value -> 401 "
               "signature_malformed")

    # Rotation done: only the new secrets remain.
    eps = [hl.Endpoint("shop", "standard-webhooks", [new1]),
           hl.Endpoint("stripe", "stripe", [new2])]
    for f in os.listdir(tmp):
        if ".secret" in f:
            os.unlink(os.path.join(tmp, f))
    with Run(t, "rotation restarted", tmp, eps) as run:
        r = run.stdwh("shop", old1, "msg_k13", nev(13))
        expect(t, r, 401, Err("signature_mismatch"),
               "secrets: after restart without it, old standard-webhooks "
               "secret -> 401")
        r = run.stripe("stripe", old2, sev(14))
        expect(t, r, 401, Err("signature_mismatch"),
               "secrets: after restart without it, old stripe secret -> 401")
        r = run.stdwh("shop", new1, "msg_k15", nev(15))
        expect(t, r, 200, applied("msg_k15", 7),
               "secrets: after restart, new secret applied at seq 7")
        r = run.stripe("stripe", new2, sev(16))
        expect(t, r, 200, applied("evt_k16", 8),
               "secrets: after restart, new stripe secret applied at seq 8")
        r = run.stdwh("shop", new1, "msg_k4", None, raw=k4)
        t.eq((r.status, r.json), (200, applied("msg_k4", 1)),
             "secrets: the receipt survives the restart (replay of msg_k4)")
    check_verify(t, run.db, 8, "rotation")


# ---------------------------------------------------------------- 7 sizes

def padded_stripe(evt, pi, amount, size):
    """A Stripe event whose JSON body is exactly size bytes."""
    obj = {"id": pi, "object": "payment_intent", "amount": amount,
           "amount_received": amount, "currency": "eur",
           "status": "succeeded", "metadata": {"pad": ""}}
    ev = hl.stripe_event("payment_intent.succeeded", evt, obj)
    ev["data"]["object"]["metadata"] = {"pad": ""}
    b = hl.body_bytes(ev)
    if len(b) > size:
        raise hl.HLError("fixture too large for max_body %d" % size)
    ev["data"]["object"]["metadata"]["pad"] = "x" * (size - len(b))
    b = hl.body_bytes(ev)
    assert len(b) == size
    return b


def g_sizes(t, tmp):
    mb = 4096
    sec = hl.stripe_secret()
    ep = hl.Endpoint("stripe", "stripe", [sec])
    with Run(t, "sizes", tmp, [ep], max_body=mb) as run:
        port = run.d.port
        big = padded_stripe("evt_z1", "pi_z1", 11, mb + 1)
        h = hl.stripe_headers(sec, hl.now(), big)
        head = ("POST /webhooks/stripe HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: application/json\r\n"
                "Stripe-Signature: %s\r\nContent-Length: %d\r\n\r\n" %
                (h["Stripe-Signature"], len(big))).encode()
        try:
            r, _, note = hl.raw_exchange(port, head, (), timeout=5)
        except hl.HLError as e:
            r, note = None, str(e)
        if r is None:
            t.ok(False, "sizes: Content-Length max_body+1, no body sent -> "
                 "413 body_too_large", ["no answer: %s" % note])
        else:
            expect(t, r, 413, Err("body_too_large"),
                   "sizes: Content-Length max_body+1, no body sent -> 413 "
                   "body_too_large")

        r = run.d.post("/webhooks/stripe", big,
                       hl.stripe_headers(sec, hl.now(), big))
        expect(t, r, 413, Err("body_too_large"),
               "sizes: max_body+1 bytes sent in full -> 413")

        exact = padded_stripe("evt_z2", "pi_z2", 22, mb)
        r = run.d.post("/webhooks/stripe", exact,
                       hl.stripe_headers(sec, hl.now(), exact))
        expect(t, r, 200, applied("evt_z2", 1),
               "sizes: exactly max_body bytes, signed -> applied")

        ev = hl.stripe_event("payment_intent.succeeded", "evt_z3", {
            "id": "pi_z3", "object": "payment_intent", "amount": 33,
            "amount_received": 33, "currency": "eur",
            "status": "succeeded"})
        b = hl.body_bytes(ev)
        chunks = [b[:10], b[10:len(b) // 2], b[len(b) // 2:]]
        r = hl.request(port, "POST", "/webhooks/stripe",
                       headers=hl.stripe_headers(sec, hl.now(), b),
                       chunks=chunks)
        expect(t, r, 200, applied("evt_z3", 2),
               "sizes: chunked body, signed -> applied")

        # A chunked body has no declared length. libmicrohttpd 0.9.75
        # cannot answer while a body is arriving, so the daemon reads on
        # and discards up to one more max_body, then answers 413; past
        # that it closes the connection without reading the rest.
        for k, (evt, size, what, answered) in enumerate((
                ("evt_z4", mb + mb // 2, "1.5 x max_body", True),
                ("evt_z5", 3 * mb, "3 x max_body", False))):
            huge = padded_stripe(evt, "pi_" + evt[4:], 44 + k, size)
            h = hl.stripe_headers(sec, hl.now(), huge)
            head = ("POST /webhooks/stripe HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Content-Type: application/json\r\n"
                    "Stripe-Signature: %s\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n" %
                    h["Stripe-Signature"]).encode()
            step = 512
            parts = [b"%x\r\n" % len(huge[i:i + step]) + huge[i:i + step] +
                     b"\r\n" for i in range(0, len(huge), step)]
            parts.append(b"0\r\n\r\n")
            total = sum(map(len, parts))
            try:
                r, sent, note = hl.raw_exchange(port, head, parts, timeout=5)
            except hl.HLError as e:
                r, sent, note = None, -1, str(e)
            if answered:
                desc = "sizes: chunked body of %s, signed -> 413" % what
                if r is None:
                    t.ok(False, desc, ["no 413: %s after %d of %d body "
                                       "bytes" % (note, sent, total)])
                else:
                    expect(t, r, 413, Err("body_too_large"), desc)
            else:
                # The kernel's socket buffers may take every byte, so
                # what shows is the close without an answer.
                t.ok(r is None,
                     "sizes: chunked body of %s -> connection closed "
                     "without an answer" % what,
                     ["answer %r, %d of %d bytes sent (%s)" %
                      (r and r.status, sent, total, note)])
        r = run.d.get("/healthz")
        t.eq((r.status, r.body), (200, b'{"status":"ok"}'),
             "sizes: the daemon still answers after a closed connection")
        t.eq([r[:8] for r in hl.ledger_rows(run.db)], [
            (1, "acme", "stripe", "evt_z2", "capture", "pi_z2", 22, "EUR"),
            (2, "acme", "stripe", "evt_z3", "capture", "pi_z3", 33, "EUR"),
        ], "sizes: only the two accepted bodies are in the ledger")
        t.eq(hl.count(run.db, "receipts"), 2, "sizes: two receipts")


# ---------------------------------------------------------------- 8 bodies

def g_bodies(t, tmp):
    sec = hl.stdwh_secret()
    ep = hl.Endpoint("shop", "standard-webhooks", [sec])
    with Run(t, "bodies", tmp, [ep]) as run:
        ts = hl.rfc3339(hl.now())
        good = ('{"type":"payment.captured","timestamp":"%s","data":'
                '{"payment_id":"pay_b","amount":500,"currency":"USD"}}'
                % ts).encode()
        dup = ('{"type":"payment.captured","timestamp":"%s","data":'
               '{"payment_id":"pay_b","amount":500,"amount":50000,'
               '"currency":"USD"}}' % ts).encode()
        cases = [
            ("duplicate key", dup, 400, "body_duplicate_key"),
            ("raw NUL byte", good.replace(b'"pay_b"', b'"pay\x00b"'), 400,
             "body_nul"),
            ("UTF-8 BOM", b"\xef\xbb\xbf" + good, 400, "body_bom"),
            ("array []", b"[]", 400, "body_not_object"),
            ("truncated JSON", good[:-1], 400, "body_bad_json"),
            ("trailing garbage", good + b"x", 400, "body_bad_json"),
            ("amount of 20 digits",
             good.replace(b'"amount":500', b'"amount":12345678901234567890'),
             400, "body_number_range"),
            ("invalid UTF-8", good.replace(b'"pay_b"', b'"pay\xc3\x28"'),
             400, "body_bad_utf8"),
            ("empty body", b"", 400, "body_empty"),
            ("amount 10.5", good.replace(b'"amount":500', b'"amount":10.5'),
             422, "invalid_event"),
            ('amount "1000"',
             good.replace(b'"amount":500', b'"amount":"1000"'), 422,
             "invalid_event"),
            ("currency XYZ", good.replace(b'"USD"', b'"XYZ"'), 422,
             "invalid_event"),
        ]
        for i, (what, body, status, code) in enumerate(cases):
            r = run.stdwh("shop", sec, "msg_b%d" % i, None, raw=body)
            expect(t, r, status, Err(code), "bodies: %s, signed -> %d %s" %
                   (what, status, code))
        t.eq((hl.count(run.db, "ledger"), hl.count(run.db, "receipts")),
             (0, 0), "bodies: nothing recorded for any rejected body")

        h = hl.stdwh_headers(sec, "msg_b20", hl.now(), good,
                             content_type="text/plain")
        r = run.d.post("/webhooks/shop", good, h)
        expect(t, r, 415, Err("unsupported_media_type"),
               "bodies: Content-Type text/plain -> 415")
        h = hl.stdwh_headers(sec, "msg_b21", hl.now(), good,
                             content_type=None)
        r = run.d.post("/webhooks/shop", good, h)
        expect(t, r, 415, Err("unsupported_media_type"),
               "bodies: no Content-Type -> 415")
        h = hl.stdwh_headers(sec, "msg_b22", hl.now(), good,
                             content_type="application/json; charset=utf-8")
        r = run.d.post("/webhooks/shop", good, h)
        expect(t, r, 200, applied("msg_b22", 1),
               "bodies: application/json; charset=utf-8 -> applied")

        h = hl.stdwh_headers(sec, "msg_b23", hl.now(), good)
        r = run.d.post("/webhooks/nope", good, h)
        expect(t, r, 404, Err("unknown_endpoint"),
               "bodies: POST /webhooks/nope -> 404 unknown_endpoint")
        r = run.d.get("/webhooks/shop")
        expect(t, r, 405, Err("method_not_allowed"),
               "bodies: GET /webhooks/shop -> 405 with Allow: POST",
               extra={"Allow": "POST"})
        r = run.d.get("/")
        expect(t, r, 404, Err("not_found"), "bodies: GET / -> 404 not_found")
        r = run.d.post("/elsewhere", good, h)
        expect(t, r, 404, Err("not_found"),
               "bodies: POST /elsewhere -> 404 not_found")
        t.eq([r[:8] for r in hl.ledger_rows(run.db)],
             [(1, "acme", "shop", "msg_b22", "capture", "pay_b", 500,
               "USD")], "bodies: only the good body is in the ledger")
        t.eq(hl.count(run.db, "receipts"), 1, "bodies: one receipt")


# ---------------------------------------------------------------- 9 config

def line_of(path, text):
    with open(path) as f:
        for i, l in enumerate(f, 1):
            if l.rstrip("\n") == text:
                return i
    raise hl.HLError("%r not in %s" % (text, path))


def check_refusal(t, cfg, lineno, what, secret=None):
    rc, out, err = hl.check_config(cfg)
    prefix = "%s:%d: " % (cfg, lineno)
    lines = err.splitlines()
    p = []
    if rc != 1:
        p.append("exit %d, expected 1" % rc)
    if len(lines) != 1 or not err.endswith("\n"):
        p.append("stderr is not exactly one line: %r" % err)
    if not lines or not lines[0].startswith(prefix) or \
            len(lines[0]) <= len(prefix):
        p.append("stderr %r, expected it to start with %r" % (err, prefix))
    if secret is not None and secret in err:
        p.append("stderr shows the secret")
    t.ok(not p, "config: %s -> exit 1, one line %s:%d: ..." %
         (what, os.path.basename(cfg), lineno), p)


def g_config(t, tmp):
    def fresh(name):
        d = os.path.join(tmp, name)
        os.mkdir(d)
        return d

    d = fresh("good")
    s16 = "whsec_" + "A1b2C3d4E5"            # 16 bytes: the minimum
    cfg = hl.write_config(d, [
        hl.Endpoint("shop", "standard-webhooks", [hl.stdwh_secret(16)]),
        hl.Endpoint("stripe", "stripe", [s16], tolerance=60)])
    rc, out, err = hl.check_config(cfg)
    t.ok(rc == 0 and err == "", "config: a valid config (16-byte secrets) "
         "-> --check-config exits 0, silent", ["exit %d" % rc,
                                              "stderr %r" % err])

    d = fresh("mode")
    sec = hl.stdwh_secret()
    cfg = hl.write_config(d, [hl.Endpoint("shop", "standard-webhooks",
                                          [sec], modes=[0o644])])
    ln = line_of(cfg, "secret_file = shop.secret0")
    check_refusal(t, cfg, ln, "secret file mode 0644", sec)
    try:
        p = subprocess.run([hl.HOOKLEDGERD, "--config", cfg],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=10)
        err = p.stderr.decode("utf-8", "replace")
        t.ok(p.returncode != 0 and ("%s:%d:" % (cfg, ln)) in err and
             sec not in err,
             "config: the daemon refuses to start with a 0644 secret file",
             ["exit %d" % p.returncode, "stderr %r" % err])
    except subprocess.TimeoutExpired:
        t.ok(False, "config: the daemon refuses to start with a 0644 "
             "secret file", ["it was still running after 10 s"])

    # A port already taken: one line naming the address, and no ledger
    # file left behind (the socket is made before the ledger).
    d = fresh("port-taken")
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.bind((hl.HOST, 0))
        holder.listen(1)
        taken = holder.getsockname()[1]
        cfg = hl.write_config(d, [hl.Endpoint("shop", "standard-webhooks",
                                              [hl.stdwh_secret()])],
                              listen="127.0.0.1:%d" % taken)
        p = subprocess.run([hl.HOOKLEDGERD, "--config", cfg],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=10)
        err = p.stderr.decode("utf-8", "replace")
        t.eq((p.returncode, err), (1, "%s: listen 127.0.0.1:%d: Address "
                                      "already in use\n" % (cfg, taken)),
             "config: a port in use -> exit 1 and one line naming it")
        t.eq(sorted(x for x in os.listdir(d) if x.startswith("ledger")), [],
             "config: the daemon that could not listen created no ledger")
    finally:
        holder.close()

    # A second daemon on a ledger the first holds: refused at start-up,
    # not left to fail its writes.
    d = fresh("two-daemons")
    sec = hl.stdwh_secret()
    with Run(t, "config: two daemons", d,
             [hl.Endpoint("shop", "standard-webhooks", [sec])]) as run:
        other = hl.write_config(d, [hl.Endpoint("shop", "standard-webhooks",
                                                [sec])], name="other.conf")
        p = subprocess.run([hl.HOOKLEDGERD, "--config", other],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=10)
        t.eq((p.returncode, p.stderr.decode("utf-8", "replace")),
             (1, "hookledgerd: %s: another hookledgerd has this ledger "
                 "open\n" % run.db),
             "config: a second daemon on the same ledger -> exit 1, one line")
        expect(t, run.stdwh("shop", sec, "msg_two", hl.neutral_event(
            "payment.captured", {"payment_id": "pay_two", "amount": 5,
                                 "currency": "EUR"})), 200,
               applied("msg_two", 1), "config: the first daemon still "
               "applies events")

    # --check-config looks at the database's place as start-up would.
    for what, name, reason in (
            ("in a folder that does not exist", "missing/ledger.db",
             "its directory is not writable (No such file or directory); "
             "the write-ahead log lives beside the database"),
            ("that is a folder", "adir",
             "not a regular file; the ledger database is one")):
        d = fresh("dbpath-" + name.split("/")[0])
        os.mkdir(os.path.join(d, "adir"))
        dbp = os.path.join(d, name)
        cfg = hl.write_config(d, [hl.Endpoint("shop", "standard-webhooks",
                                              [hl.stdwh_secret()])],
                              database=dbp)
        rc, out, err = hl.check_config(cfg)
        t.eq((rc, out, err), (1, "", "%s: database: %s: %s\n" %
                                     (cfg, dbp, reason)),
             "config: --check-config with a database %s -> exit 1, one "
             "line" % what)

    # Another application's SQLite database is not taken over.
    d = fresh("foreign-db")
    other_db = os.path.join(d, "ledger.db")
    c = sqlite3.connect(other_db)
    c.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    c.execute("INSERT INTO customers (name) VALUES ('kept')")
    c.commit()
    c.close()
    cfg = hl.write_config(d, [hl.Endpoint("shop", "standard-webhooks",
                                          [hl.stdwh_secret()])])
    p = subprocess.run([hl.HOOKLEDGERD, "--config", cfg],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=10)
    t.eq((p.returncode, p.stderr.decode("utf-8", "replace")),
         (1, "hookledgerd: %s: a SQLite database of something else (schema "
             "version 0 with tables in it); hookledgerd adds a ledger only "
             "to an empty or new file\n" % other_db),
         "config: another application's database -> exit 1, one line")
    c = sqlite3.connect(other_db)
    names = [r[0] for r in c.execute(
        "SELECT name FROM sqlite_schema ORDER BY name")]
    c.close()
    t.eq(names, ["customers"], "config: and nothing was added to it")

    d = fresh("short-stripe")
    s15 = "whsec_" + "A1b2C3d4E"             # 15 bytes
    cfg = hl.write_config(d, [hl.Endpoint("stripe", "stripe", [s15])])
    check_refusal(t, cfg, line_of(cfg, "secret_file = stripe.secret0"),
                  "a 15-byte stripe secret", s15)

    d = fresh("short-stdwh")
    sec = hl.stdwh_secret(15)
    cfg = hl.write_config(d, [hl.Endpoint("shop", "standard-webhooks",
                                          [sec])])
    check_refusal(t, cfg, line_of(cfg, "secret_file = shop.secret0"),
                  "a standard-webhooks secret of 15 key bytes", sec)

    d = fresh("unknown-key")
    cfg = hl.write_config(d, [hl.Endpoint("shop", "standard-webhooks",
                                          [hl.stdwh_secret()])])
    with open(cfg) as f:
        lines = f.read().splitlines()
    lines.insert(3, "colour = blue")
    with open(cfg, "w") as f:
        f.write("\n".join(lines) + "\n")
    check_refusal(t, cfg, 4, "unknown key colour")

    d = fresh("unknown-ep-key")
    cfg = hl.write_config(d, [hl.Endpoint("shop", "standard-webhooks",
                                          [hl.stdwh_secret()])])
    with open(cfg, "a") as f:
        f.write("toleranse = 300\n")
    check_refusal(t, cfg, line_of(cfg, "toleranse = 300"),
                  "unknown key in an endpoint section")

    d = fresh("malformed")
    cfg = hl.write_config(d, [hl.Endpoint("shop", "standard-webhooks",
                                          [hl.stdwh_secret()])])
    with open(cfg) as f:
        text = f.read()
    text = text.replace("listen = 127.0.0.1:0", "listen 127.0.0.1:0")
    with open(cfg, "w") as f:
        f.write(text)
    check_refusal(t, cfg, line_of(cfg, "listen 127.0.0.1:0"),
                  "a line without =")

    d = fresh("missing-secret")
    cfg = hl.write_config(d, [hl.Endpoint("shop", "standard-webhooks",
                                          [hl.stdwh_secret()])])
    os.unlink(os.path.join(d, "shop.secret0"))
    check_refusal(t, cfg, line_of(cfg, "secret_file = shop.secret0"),
                  "a missing secret file")


# ---------------------------------------------------------------- 10 tamper

def g_tamper(t, tmp):
    sec = hl.stdwh_secret()
    ep = hl.Endpoint("shop", "standard-webhooks", [sec])
    with Run(t, "tamper", tmp, [ep]) as run:
        for i in range(1, 6):
            r = run.stdwh("shop", sec, "msg_x%d" % i,
                          hl.neutral_event("payment.captured", {
                              "payment_id": "pay_x%d" % i,
                              "amount": 100 * i, "currency": "USD"}))
            if r.status != 200:
                raise hl.HLError("setup delivery %d: %r" % (i, r))
    db = run.db

    def copy(name, drop=True):
        path = os.path.join(tmp, name + ".db")
        hl.backup_copy(db, path)
        if drop:
            c = sqlite3.connect(path)
            for trg in ("ledger_no_update", "ledger_no_delete",
                        "receipts_no_update", "receipts_no_delete"):
                c.execute("DROP TRIGGER %s" % trg)
            c.commit()
            c.close()
        return path

    def first_entry(out):
        m = re.search(r"entry (\d+):", out)
        return int(m.group(1)) if m else None

    clean = copy("clean", drop=False)
    check_verify(t, clean, 5, "tamper: untampered copy")

    # An auditor's account that owns neither the copy nor its folder
    # reads it all the same: nothing is created beside it.
    ro = os.path.join(tmp, "audit-ro")
    os.mkdir(ro)
    ro_db = os.path.join(ro, "copy.db")
    hl.backup_copy(db, ro_db)
    os.chmod(ro_db, 0o444)
    os.chmod(ro, 0o555)
    os.chmod(tmp, 0o711)
    desc = "tamper: verify as another user, in a folder it cannot write"
    probe = None
    if os.geteuid() == 0 and shutil.which("runuser"):
        probe = subprocess.run(["runuser", "-u", "nobody", "--", "test",
                                "-x", hl.HOOKLEDGER, "-a", "-r", ro_db],
                               capture_output=True)
    if probe is None or probe.returncode != 0:
        t.skip(desc, "needs root, runuser and a build nobody can run")
    else:
        p = subprocess.run(["runuser", "-u", "nobody", "--", hl.HOOKLEDGER,
                            "verify", "--db", ro_db], capture_output=True,
                           timeout=30)
        head = hl.ledger_rows(db, ("seq", "hash"))[-1]
        t.eq((p.returncode, p.stdout.decode(), os.listdir(ro)),
             (0, "ok: 5 entries, head seq 5, head hash %s\n" %
              head[1].hex(), ["copy.db"]), desc + " -> exit 0, ok")
    os.chmod(ro, 0o755)

    p = copy("amount")
    c = sqlite3.connect(p)
    c.execute("UPDATE ledger SET amount = amount + 1 WHERE seq = 3")
    c.commit()
    c.close()
    rc, out, err = hl.run_verify(p)
    t.ok(rc == 1 and first_entry(out) == 3,
         "tamper: amount of entry 3 edited -> exit 1 naming entry 3",
         ["rc %d stdout %r stderr %r" % (rc, out, err)])

    p = copy("delete")
    c = sqlite3.connect(p)
    c.execute("DELETE FROM ledger WHERE seq = 3")
    c.commit()
    c.close()
    rc, out, err = hl.run_verify(p)
    t.ok(rc == 1 and first_entry(out) in (3, 4),
         "tamper: entry 3 deleted -> exit 1 naming entry 3 or 4",
         ["rc %d stdout %r stderr %r" % (rc, out, err)])

    p = copy("swap")
    c = sqlite3.connect(p)
    cols = [r[1] for r in c.execute("PRAGMA table_info(ledger)")
            if r[1] != "seq"]
    a = c.execute("SELECT %s FROM ledger WHERE seq = 2" %
                  ", ".join(cols)).fetchone()
    b = c.execute("SELECT %s FROM ledger WHERE seq = 4" %
                  ", ".join(cols)).fetchone()
    sets = ", ".join("%s = ?" % col for col in cols)
    c.execute("UPDATE ledger SET event_id = 'tmp' WHERE seq = 4")
    c.execute("UPDATE ledger SET %s WHERE seq = 2" % sets, b)
    c.execute("UPDATE ledger SET %s WHERE seq = 4" % sets, a)
    c.commit()
    c.close()
    rc, out, err = hl.run_verify(p)
    t.ok(rc == 1 and first_entry(out) == 2,
         "tamper: contents of entries 2 and 4 swapped -> exit 1 naming "
         "entry 2", ["rc %d stdout %r stderr %r" % (rc, out, err)])

    p = copy("triggers")
    rc, out, err = hl.run_verify(p)
    t.ok(rc == 1, "tamper: triggers dropped, rows intact -> exit 1",
         ["rc %d stdout %r stderr %r" % (rc, out, err)])

    rc, out, err = hl.run_verify(os.path.join(tmp, "absent.db"))
    t.ok(rc == 2, "tamper: verify of a missing file -> exit 2",
         ["rc %d stdout %r stderr %r" % (rc, out, err)])
    t.ok(not os.path.exists(os.path.join(tmp, "absent.db")),
         "tamper: verify does not create a missing database")


# ---------------------------------------------------------------- 11 logs

def g_logs(t, tmp):
    s1 = hl.stdwh_secret()
    s2 = hl.stripe_secret()
    marker = "MARKER-" + os.urandom(8).hex()
    hl.SENSITIVE.add(marker)
    eps = [hl.Endpoint("shop", "standard-webhooks", [s1]),
           hl.Endpoint("stripe", "stripe", [s2])]
    sent = []
    with Run(t, "logs", tmp, eps) as run:
        def note(path, r):
            sent.append(("POST", path, r))

        ev = hl.neutral_event("payment.captured", {
            "payment_id": "pay_l", "amount": 321, "currency": "USD",
            "description": marker})
        body = hl.body_bytes(ev)
        note("/webhooks/shop", run.stdwh("shop", s1, "msg_l1", None,
                                         raw=body))
        note("/webhooks/shop", run.stdwh("shop", s1, "msg_l1", None,
                                         raw=body))
        ev2 = dict(ev, data=dict(ev["data"], amount=322))
        note("/webhooks/shop", run.stdwh("shop", s1, "msg_l1", ev2))
        note("/webhooks/shop", run.stdwh("shop", hl.stdwh_secret(),
                                         "msg_l2", ev))
        note("/webhooks/shop", run.stdwh(
            "shop", s1, "msg_l3", None,
            raw=('{"a":"%s","a":"%s"}' % (marker, marker)).encode()))
        note("/webhooks/shop", run.stdwh(
            "shop", s1, "msg_l4", None, raw=('{"%s":' % marker).encode()))
        note("/webhooks/shop", run.stdwh(
            "shop", s1, "msg_l5", None,
            raw=body.replace(b'"amount":321', b'"amount":"321"')))
        sev = hl.stripe_event("payment_intent.succeeded", "evt_l6", {
            "id": "pi_l6", "amount": 654, "amount_received": 654,
            "currency": "usd", "status": "succeeded",
            "description": marker, "metadata": {"note": marker}})
        note("/webhooks/stripe", run.stripe("stripe", s2, sev))
        note("/webhooks/stripe", run.stripe("stripe", s1, sev))
        codes = [(r.status, (r.json or {}).get("result") or
                  (r.json or {}).get("error")) for _, _, r in sent]
        t.eq(codes, [(200, "applied"), (200, "applied"),
                     (422, "idempotency_conflict"),
                     (401, "signature_mismatch"),
                     (400, "body_duplicate_key"), (400, "body_bad_json"),
                     (422, "invalid_event"), (200, "applied"),
                     (401, "signature_mismatch")],
             "logs: the nine deliveries got the expected answers")
        n = len(sent)
        last = run.d.wait_log(lambda j: j.get("msg") == "request", 5, n)
        t.ok(last is not None, "logs: %d request log lines appear" % n,
             ["stderr:"] + run.d.lines[-20:])
    logs = run.d.log_json()
    bad = [l for l, j in zip(run.d.lines, logs)
           if not (isinstance(j, dict) and isinstance(j.get("ts"), str) and
                   isinstance(j.get("level"), str) and
                   isinstance(j.get("msg"), str))]
    t.ok(not bad, "logs: every stderr line is a JSON object with ts, "
         "level, msg", bad[:5])
    reqs = [j for j in logs if isinstance(j, dict) and
            j.get("msg") == "request"]
    want = sorted((m, p, p.rsplit("/", 1)[1], r.status) for m, p, r in sent)
    got = sorted((j.get("method"), j.get("path"), j.get("endpoint"),
                  j.get("status")) for j in reqs)
    t.eq(got, want, "logs: one request line per delivery with method, "
         "path, endpoint and status")
    firsts = sorted(((r.json or {}).get("result") or
                     (r.json or {}).get("error"))
                    for _, _, r in sent
                    if not r.header_all("Idempotent-Replayed"))
    gotcodes = sorted(j.get("code") for j in reqs)
    missing = [c for c in firsts if c not in gotcodes]
    t.ok(not missing, "logs: each first answer's code is logged",
         ["missing codes %r; logged %r" % (missing, gotcodes)])
    text = run.d.stderr_text()
    for what, items in (("a secret", [s1, s2, s1[6:], s2[6:]]),
                        ("the body marker", [marker]),
                        ("a signature value",
                         [s for s in hl.SENSITIVE if s not in
                          (s1, s2, s1[6:], s2[6:], marker)])):
        leaked = [s for s in items if s in text]
        t.ok(not leaked, "logs: stderr shows no %s" % what,
             ["leaked: %r" % leaked[:3]])


# ---------------------------------------------------------------- 12 headers

def g_headers(t, tmp):
    sec = hl.stdwh_secret()
    ep = hl.Endpoint("shop", "standard-webhooks", [sec])
    mb = 2048
    with Run(t, "headers", tmp, [ep], max_body=mb) as run:
        ev = hl.neutral_event("payment.captured", {
            "payment_id": "pay_h", "amount": 1, "currency": "USD"})
        body = hl.body_bytes(ev)
        cases = []
        cases.append(("200 applied", run.stdwh("shop", sec, "msg_h1", None,
                                               raw=body)))
        cases.append(("200 replay", run.stdwh("shop", sec, "msg_h1", None,
                                              raw=body)))
        cases.append(("401", run.stdwh("shop", hl.stdwh_secret(), "msg_h2",
                                       ev)))
        cases.append(("400", run.stdwh("shop", sec, "msg_h3", None,
                                       raw=b"[]")))
        cases.append(("404 unknown_endpoint", run.stdwh("nope", sec,
                                                        "msg_h4", ev)))
        cases.append(("404 not_found", run.d.get("/favicon.ico")))
        cases.append(("405", run.d.get("/webhooks/shop")))
        cases.append(("415", run.d.post("/webhooks/shop", body, {
            "Content-Type": "text/plain"})))
        cases.append(("422", run.stdwh("shop", sec, "msg_h5", None,
                                       raw=body.replace(b'"amount":1',
                                                        b'"amount":1.5'))))
        head = ("POST /webhooks/shop HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: application/json\r\n"
                "Content-Length: %d\r\n\r\n" % (mb + 1)).encode()
        try:
            r, _, _ = hl.raw_exchange(run.d.port, head, (), timeout=5)
        except hl.HLError:
            r = None
        cases.append(("413", r))
        for what, r in cases:
            if r is None or r.error is not None:
                t.ok(False, "headers: security headers and JSON on %s" %
                     what, ["no response: %s" %
                            (r.error if r is not None else "closed")])
                continue
            p = header_problems(r)
            if r.json is None:
                p.append("body is not JSON: %r" % r.body[:200])
            want = int(what[:3])
            if r.status != want:
                p.append("status %d, expected %d" % (r.status, want))
            t.ok(not p, "headers: security headers and JSON on %s" % what,
                 p)


def g_keepalive(t, tmp):
    """GET answers keep the connection open (a poller or a load
    balancer's health check reuses it); /healthz answers GET and HEAD
    and refuses the rest with 405 and Allow."""
    sec = hl.stdwh_secret()
    ep = hl.Endpoint("shop", "standard-webhooks", [sec])
    with Run(t, "keep-alive", tmp, [ep]) as run:
        c = http.client.HTTPConnection(hl.HOST, run.d.port, timeout=5)
        got = []
        for path in ("/healthz", "/healthz", "/nope", "/healthz"):
            c.request("GET", path)
            r = c.getresponse()
            got.append((r.status, r.read(), r.getheader("Connection"),
                        r.getheader("Cache-Control")))
        sock_alive = c.sock is not None
        c.request("HEAD", "/healthz")
        r = c.getresponse()
        head = (r.status, r.read(), r.getheader("Content-Type"))
        c.close()
        ok = (200, b'{"status":"ok"}', None, "no-store")
        t.eq(got[0], ok, "keep-alive: GET /healthz -> 200 ok, no "
             "Connection: close")
        t.eq(got[1:], [ok, (404, b'{"error":"not_found","message":"no such '
                                 b'resource"}', None, "no-store"), ok],
             "keep-alive: three more GETs on the same connection are "
             "answered, none closing it")
        t.ok(sock_alive, "keep-alive: the client's connection is still "
             "open after four answers")
        t.eq(head, (200, b"", "application/json"), "keep-alive: HEAD "
             "/healthz -> 200 with headers and no body")
        r = run.d.post("/healthz", b"{}", {"Content-Type": "application/json"})
        t.eq((r.status, r.json, r.header("Allow")),
             (405, {"error": "method_not_allowed", "message": "the health "
                    "check answers GET and HEAD"}, "GET, HEAD"),
             "keep-alive: POST /healthz -> 405 with Allow: GET, HEAD")


# ---------------------------------------------------------------- main

def g_framing(t, tmp):
    """Request framing the daemon refuses even where libmicrohttpd would
    accept it, and a NUL smuggled into the path."""
    sec = hl.stripe_secret()
    ep = hl.Endpoint("stripe", "stripe", [sec])
    with Run(t, "framing", tmp, [ep]) as run:
        port = run.d.port
        ev = hl.stripe_event("payment_intent.succeeded", "evt_f1", {
            "id": "pi_f1", "object": "payment_intent", "amount": 10,
            "amount_received": 10, "currency": "usd"})
        b = hl.body_bytes(ev)
        sig = hl.stripe_headers(sec, hl.now(), b)["Stripe-Signature"]
        base = ("POST /webhooks/stripe HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: application/json\r\n"
                "Stripe-Signature: %s\r\n" % sig)
        cases = [
            ("two Content-Length headers",
             base + "Content-Length: %d\r\nContent-Length: %d\r\n\r\n"
             % (len(b), len(b) + 3), b),
            ("Content-Length with Transfer-Encoding",
             base + "Content-Length: %d\r\nTransfer-Encoding: chunked"
             "\r\n\r\n" % len(b), b"%x\r\n" % len(b) + b + b"\r\n0\r\n\r\n"),
            ("a control byte in a header value",
             base + "X-Note: a\x01b\r\nContent-Length: %d\r\n\r\n" % len(b),
             b),
            ("Stripe-Signature twice, both good",
             base + "stripe-signature: %s\r\nContent-Length: %d\r\n\r\n"
             % (sig, len(b)), b),
        ]
        for what, head, body in cases:
            r, _, note = hl.raw_exchange(port, head.encode("latin-1"),
                                         [body], timeout=5)
            if r is None:
                t.ok(False, "framing: %s -> 400" % what, [note])
            else:
                expect(t, r, 400, Err("bad_request"),
                       "framing: %s -> 400" % what)
        # More signatures than are read: malformed, never a mismatch that
        # depends on where the good one sits.
        ts = hl.now()
        good = hl.stripe_headers(sec, ts, b)["Stripe-Signature"]
        many = good.replace(",v1=", "," + ",".join(["v1=" + "0" * 64] * 16)
                            + ",v1=", 1)
        r = run.d.post("/webhooks/stripe", b,
                       {"Content-Type": "application/json",
                        "Stripe-Signature": many})
        expect(t, r, 401, Err("signature_malformed"), "framing: 17 v1 "
               "signatures, the good one last -> 401 signature_malformed")
        # The absolute form of the target (RFC 9112 3.2.2), as a proxy
        # sends it, is routed by its path.
        ts = hl.now()
        sig_abs = hl.stripe_headers(sec, ts, b)["Stripe-Signature"]
        head_abs = ("POST http://127.0.0.1:%d/webhooks/stripe HTTP/1.1\r\n"
                    "Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    "Stripe-Signature: %s\r\nContent-Length: %d\r\n\r\n"
                    % (port, sig_abs, len(b)))
        r, _, note = hl.raw_exchange(port, head_abs.encode(), [b], timeout=5)
        if r is None:
            t.ok(False, "framing: an absolute-form target -> 200", [note])
        else:
            expect(t, r, 200, applied("evt_f1", 1), "framing: an "
                   "absolute-form target is routed by its path -> applied")
        head = base.replace("/webhooks/stripe ", "/webhooks/stripe%00x ")
        r, _, note = hl.raw_exchange(
            port, (head + "Content-Length: %d\r\n\r\n" % len(b)).encode(),
            [b], timeout=5)
        if r is None:
            t.ok(False, "framing: %00 in the path -> 404", [note])
        else:
            expect(t, r, 404, Err("unknown_endpoint"),
                   "framing: %00 in the path is not the endpoint -> 404")
        t.eq(hl.count(run.db, "receipts"), 1,
             "framing: only the absolute-form delivery was recorded")
        # The log line is written when the request completes, just after
        # its answer: wait for it, within a bound.
        deadline = time.monotonic() + 5
        while True:
            logs = [json.loads(x) for x in list(run.d.lines)
                    if '"request"' in x]
            seen = any(l.get("path") == "/webhooks/stripe%00x" for l in logs)
            if seen or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        t.ok(seen, "framing: the log shows the path as sent, %00 kept",
             [l.get("path") for l in logs][-5:])


def g_shutdown(t, tmp):
    """SIGTERM under load: every event in the ledger was answered 2xx;
    nothing committed is left without its answer."""
    sec = hl.stripe_secret()
    ep = hl.Endpoint("stripe", "stripe", [sec])
    config = hl.write_config(tmp, [ep])
    db = os.path.join(tmp, "ledger.db")
    d = hl.Daemon(config)
    d.start()
    n_threads, per_thread = 8, 40
    answered = set()
    lock = threading.Lock()
    started = threading.Event()

    def worker(k):
        for i in range(per_thread):
            evt = "evt_s%d_%d" % (k, i)
            ev = hl.stripe_event("payment_intent.succeeded", evt, {
                "id": "pi_" + evt[4:], "object": "payment_intent",
                "amount": 5, "amount_received": 5, "currency": "usd"})
            b = hl.body_bytes(ev)
            r = d.post("/webhooks/stripe", b,
                       hl.stripe_headers(sec, hl.now(), b), timeout=10)
            if i == 5:
                started.set()
            if r.status != 200:	# refused, 503 or closed: stopping
                return
            with lock:
                answered.add(evt)

    ths = [threading.Thread(target=worker, args=(k,))
           for k in range(n_threads)]
    for th in ths:
        th.start()
    t.ok(started.wait(20), "shutdown: load is running")
    rc = d.stop()
    for th in ths:
        th.join(30)
    t.eq(rc, 0, "shutdown: daemon exits 0 on SIGTERM under load")
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    in_ledger = {r[0] for r in con.execute("SELECT event_id FROM ledger")}
    con.close()
    missing = sorted(in_ledger - answered)
    t.ok(not missing, "shutdown: every committed event was answered 200 "
         "(%d committed)" % len(in_ledger),
         ["committed but not answered: %s" % missing[:5]])
    t.ok(answered <= in_ledger, "shutdown: every 200 is in the ledger",
         [sorted(answered - in_ledger)[:5]])


# ---------------------------------------------------------------- CLI output

def g_cli_output(t, tmp):
    """A write error on the CLI's standard output is an error: a full
    disk under `hookledger export > file` must not exit 0."""
    p = subprocess.run([hl.HOOKLEDGER, "--version"], capture_output=True,
                       text=True, timeout=30)
    t.ok(p.returncode == 0 and p.stdout.startswith("hookledger ") and
         p.stderr == "", "cli: --version to a pipe exits 0",
         ["rc %d" % p.returncode, "stdout %r" % p.stdout,
          "stderr %r" % p.stderr])
    if not os.path.exists("/dev/full"):
        t.skip("cli: --version to a full device exits 2", "no /dev/full")
        return
    with open("/dev/full", "w") as full:
        p = subprocess.run([hl.HOOKLEDGER, "--version"], stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=30)
    t.ok(p.returncode == 2 and p.stderr ==
         "hookledger: standard output: No space left on device\n",
         "cli: --version to a full device exits 2 and says why",
         ["rc %d" % p.returncode, "stderr %r" % p.stderr])


GROUPS = [
    ("stripe events", g_stripe),
    ("neutral events", g_neutral),
    ("redelivery", g_redelivery),
    ("concurrent copies", g_concurrent),
    ("timestamps", g_timestamps),
    ("secrets and rotation", g_rotation),
    ("body sizes", g_sizes),
    ("body faults", g_bodies),
    ("config refusals", g_config),
    ("tampering", g_tamper),
    ("logs", g_logs),
    ("security headers", g_headers),
    ("request framing", g_framing),
    ("keep-alive and health", g_keepalive),
    ("shutdown under load", g_shutdown),
    ("cli output", g_cli_output),
]


def run_groups(groups, prefix, leak_what="a secret, a token or a "
               "signature", show=None):
    """Run each (name, fn) of groups as fn(t, tmp) in a fresh temporary
    folder and print the TAP plan; the shared main() of every end-to-end
    file. HL_E2E_ONLY=WORD runs the groups whose name holds WORD;
    HL_KEEP=1 keeps a failed group's folder. A group that raises fails
    with its traceback and the last daemon's log tail. After a full run,
    no daemon's stderr may show anything hlclient marked SENSITIVE.
    show, a path, is named first. Returns the exit status."""
    t = Tap()
    t0 = time.monotonic()
    only = os.environ.get("HL_E2E_ONLY")
    keep = os.environ.get("HL_KEEP")
    if show is not None:
        t.diag("under test: %s" % show)
    for name, fn in groups:
        if only and only not in name:
            continue
        tmp = tempfile.mkdtemp(prefix=prefix)
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
        t.ok(not leaked, "no daemon's stderr, in any group, shows %s" %
             leak_what, ["leaked: %r" % leaked[:3]])
    t.diag("elapsed %.1f s" % (time.monotonic() - t0))
    print("1..%d" % t.n)
    sys.stdout.flush()
    return 1 if t.failed else 0


def main():
    return run_groups(GROUPS, "hl-e2e-", "a secret, a signature or a body marker", show=hl.HOOKLEDGERD)


if __name__ == "__main__":
    sys.exit(main())
