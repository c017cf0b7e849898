#!/usr/bin/env python3
"""
End-to-end tests of the money rules (docs/events.md, "How the ledger turns
events into postings" and "Rules, parking and exceptions"), speaking TAP.

Every check goes through a real hookledgerd on an ephemeral port of
127.0.0.1 with signed Stripe-shaped events (built from tests/fixtures/stripe,
ids and amounts overridden) and signed Standard Webhooks events, and then
reads the result back the way an operator would: `hookledger balances
--json`, `hookledger exceptions --json`, `hookledger verify`, plus the
ledger, postings, facts and receipts tables read-only.

Run from the build directory as `python3 tests/e2e/test_money.py` with
HL_BUILDDIR and HL_TOP_SRCDIR set as for test_e2e.py, whose harness (TAP,
Run, expect()) this file shares. HL_KEEP=1 keeps the directories of groups
that failed; HL_E2E_ONLY=WORD runs only the groups whose name contains WORD.
"""

import json
import os
import random
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hlclient as hl  # noqa: E402
from test_e2e import (Err, Run, applied, check_verify,  # noqa: E402
                      expect, recorded, run_groups)

RFC3339 = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


# ---------------------------------------------------------------- answers

def parked(event_id):
    return {"result": "parked", "event_id": event_id,
            "reason": "payment_not_captured"}


def exception(event_id, reason):
    return {"result": "exception", "event_id": event_id, "reason": reason}


def with_verdict(body, verdict):
    return dict(body, verdict=verdict)


# ---------------------------------------------------------------- CLI

def cli(*args, timeout=20):
    """hookledger ARGS: (rc, stdout, stderr)."""
    p = subprocess.run([hl.HOOKLEDGER] + list(args),
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def bal(*rows):
    """The balances array for rows of (currency, account, balance), in the
    order the command prints them: by currency, then account."""
    return [{"account": a, "currency": c, "balance": b} for c, a, b in rows]


def balances(db, tenant):
    """`hookledger balances --json` parsed; (rc, object or raw text)."""
    rc, out, err = cli("balances", "--db", db, "--tenant", tenant, "--json")
    try:
        return rc, json.loads(out)
    except ValueError:
        return rc, "stdout %r stderr %r" % (out, err)


def check_balances(t, db, tenant, rows, desc, nonzero=False):
    """`hookledger balances --tenant T --json` exits 0 and prints exactly
    {"tenant": T, "at": null, "balances": rows}. With nonzero, accounts
    whose balance is 0 are left out of the comparison (whether a zero row
    shows depends on whether the account was ever posted to)."""
    rc, got = balances(db, tenant)
    if nonzero and isinstance(got, dict) and \
            isinstance(got.get("balances"), list):
        got = dict(got, balances=[b for b in got["balances"]
                                  if not isinstance(b, dict) or
                                  b.get("balance") != 0])
    want = {"tenant": tenant, "at": None, "balances": bal(*rows)}
    return t.eq((rc, got), (0, want), desc)


def exceptions(db, tenant=None):
    """`hookledger exceptions --json`: (rc, list without recorded_at,
    problems with recorded_at)."""
    args = ["exceptions", "--db", db, "--json"]
    if tenant is not None:
        args += ["--tenant", tenant]
    rc, out, err = cli(*args)
    try:
        got = json.loads(out)
    except ValueError:
        return rc, "stdout %r stderr %r" % (out, err), []
    if not isinstance(got, dict) or set(got) != {"exceptions", "parked"} \
            or not isinstance(got["exceptions"], list) or \
            got["parked"] != []:
        return rc, got, []
    bad = []
    for x in got["exceptions"]:
        stamp = x.pop("recorded_at", None) if isinstance(x, dict) else None
        if not isinstance(stamp, str) or not re.fullmatch(RFC3339, stamp):
            bad.append("recorded_at %r is not RFC 3339" % (stamp,))
    return rc, got["exceptions"], bad


def exc(event_id, ref, reason, posted, tenant="acme", endpoint="stripe"):
    return {"tenant": tenant, "endpoint": endpoint, "event_id": event_id,
            "payment_ref": ref, "reason": reason, "posted": posted}


def check_exceptions(t, db, want, desc, tenant=None):
    rc, got, bad = exceptions(db, tenant)
    t.eq((rc, got), (0, want), desc)
    if want:
        t.ok(not bad, desc + ": each has an RFC 3339 recorded_at", bad)


def postings(db, seqs=None):
    rows = hl.query(db, "SELECT seq, n, account, debit, credit FROM "
                    "postings ORDER BY seq, n")
    return [r for r in rows if seqs is None or r[0] in seqs]


def payment_balances(db, tenant, ref):
    """One payment's balances from the postings, zeros left out."""
    rows = hl.query(db, "SELECT p.account, sum(p.debit) - sum(p.credit) "
                    "FROM postings p JOIN ledger l ON l.seq = p.seq WHERE "
                    "l.tenant = ? AND l.payment_ref = ? GROUP BY p.account "
                    "ORDER BY p.account", (tenant, ref))
    return {a: b for a, b in rows if b != 0}


FACT_COLS = ("event_id", "kind", "payment_ref", "object_id", "amount",
             "currency", "status", "cumulative", "fee", "verdict",
             "sca_result", "liability_shift")


def facts(db, cols=FACT_COLS):
    return hl.query(db, "SELECT %s FROM facts ORDER BY arrival" %
                    ", ".join(cols))


def receipts(db):
    return hl.query(db, "SELECT event_id, event_type, outcome, entry_seq, "
                    "status FROM receipts ORDER BY event_id")


# ---------------------------------------------------------------- senders

def pi_obj(pi, amount, currency="usd", charge=None):
    return {"id": pi, "object": "payment_intent", "amount": amount,
            "amount_received": amount, "amount_capturable": 0,
            "currency": currency, "status": "succeeded",
            "latest_charge": charge}


def charge_obj(ch, pi, amount, currency="usd", refunded=0, captured=True):
    return {"id": ch, "object": "charge", "amount": amount,
            "amount_captured": amount if captured else 0,
            "amount_refunded": refunded, "currency": currency,
            "payment_intent": pi, "captured": captured, "paid": True,
            "refunded": refunded == amount, "status": "succeeded"}


def three_ds(result):
    return {"payment_method_details": {"card": {"three_d_secure": {
        "authentication_flow": "challenge", "result": result,
        "result_reason": None, "version": "2.2.0"}}}}


def refund_obj(re_id, pi, ch, amount, status, currency="usd"):
    return {"id": re_id, "object": "refund", "amount": amount, "charge": ch,
            "payment_intent": pi, "currency": currency, "status": status}


def dispute_obj(dp, pi, ch, amount, status, currency="usd"):
    return {"id": dp, "object": "dispute", "amount": amount, "charge": ch,
            "payment_intent": pi, "currency": currency, "status": status,
            "reason": "fraudulent"}


def payout_obj(po, amount, status, currency="usd"):
    return {"id": po, "object": "payout", "amount": amount,
            "currency": currency, "status": status}


def merge(dst, over):
    """Set over's members in dst, merging nested objects."""
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            merge(dst[k], v)
        else:
            dst[k] = v


class Sender:
    """Signs and sends events to one running daemon, remembering every
    body so that a redelivery sends the same bytes with a new signature."""

    def __init__(self, run, stripe=None, shop=None):
        self.run = run
        self.stripe_ep = stripe         # (name, secret)
        self.shop_ep = shop             # (name, secret)
        self.bodies = {}                # event id -> (scheme, bytes)

    def stripe_body(self, typ, evt, obj, created, extra=None):
        ev = hl.stripe_event(typ, evt, obj, created)
        merge(ev["data"]["object"], extra or {})
        return hl.body_bytes(ev)

    def stripe(self, typ, evt, obj, created, extra=None):
        b = self.stripe_body(typ, evt, obj, created, extra)
        self.bodies[evt] = ("stripe", b)
        return self.resend(evt)

    def neutral(self, typ, msg_id, data, ts):
        b = hl.body_bytes(hl.neutral_event(typ, data, ts))
        self.bodies[msg_id] = ("shop", b)
        return self.resend(msg_id)

    def resend(self, evt):
        scheme, b = self.bodies[evt]
        if scheme == "stripe":
            name, sec = self.stripe_ep
            return self.run.stripe(name, sec, None, raw=b)
        name, sec = self.shop_ep
        return self.run.stdwh(name, sec, evt, None, raw=b)


def stripe_run(t, label, tmp, extra_endpoints=(), shop=False):
    sec = hl.stripe_secret()
    eps = [hl.Endpoint("stripe", "stripe", [sec], tenant="acme")]
    nsec = None
    if shop:
        nsec = hl.stdwh_secret()
        eps.append(hl.Endpoint("shop", "standard-webhooks", [nsec],
                               tenant="acme"))
    eps += list(extra_endpoints)
    run = Run(t, label, tmp, eps)
    return run, sec, nsec


# ---------------------------------------------------------------- 1 capture

def g_capture(t, tmp):
    run, sec, _ = stripe_run(t, "capture", tmp)
    with run:
        s = Sender(run, stripe=("stripe", sec))
        base = hl.now() - 3600
        r = s.stripe("charge.succeeded", "evt_g1_ch",
                     charge_obj("ch_g1", "pi_g1", 2000), base,
                     three_ds("authenticated"))
        expect(t, r, 200, applied("evt_g1_ch", 1),
               "capture: charge.succeeded with 3-D Secure authenticated -> "
               "applied seq 1")
        r = s.stripe("payment_intent.succeeded", "evt_g1_pi",
                     pi_obj("pi_g1", 2000, charge="ch_g1"), base + 1)
        expect(t, r, 200, recorded("evt_g1_pi", "capture_already_posted"),
               "capture: payment_intent.succeeded of the same payment -> "
               "recorded, capture_already_posted")
        r = s.stripe("charge.captured", "evt_g1_cap",
                     charge_obj("ch_g1", "pi_g1", 2000), base + 2)
        expect(t, r, 200, recorded("evt_g1_cap", "capture_already_posted"),
               "capture: charge.captured of the same payment -> recorded, "
               "capture_already_posted")
        r = s.resend("evt_g1_pi")
        expect(t, r, 200, recorded("evt_g1_pi", "capture_already_posted"),
               "capture: a redelivery replays the recorded answer",
               replayed=True)
        r = s.stripe("charge.succeeded", "evt_g1_auth",
                     charge_obj("ch_g1b", "pi_g1b", 900, captured=False),
                     base + 3)
        expect(t, r, 200, recorded("evt_g1_auth"),
               "capture: charge.succeeded with captured false (authorised "
               "only) -> recorded, nothing posted")

        t.eq(hl.ledger_rows(run.db),
             [(1, "acme", "stripe", "evt_g1_ch", "capture", "pi_g1", 2000,
               "USD", base)],
             "capture: exactly one ledger entry, the capture of pi_g1")
        t.eq(postings(run.db), [(1, 0, "provider_balance", 2000, 0),
                                (1, 1, "sales", 0, 2000)],
             "capture: its postings debit provider_balance and credit "
             "sales 2000")
        t.eq(facts(run.db), [
            ("evt_g1_ch", "capture", "pi_g1", "", 2000, "USD", "none", 0, 0,
             "unverified", "authenticated", 1),
            ("evt_g1_pi", "capture", "pi_g1", "", 2000, "USD", "none", 0, 0,
             "unverified", "", -1),
            ("evt_g1_cap", "capture", "pi_g1", "", 2000, "USD", "none", 0, 0,
             "unverified", "", -1),
        ], "capture: facts: charge.succeeded keeps sca_result "
           "authenticated, liability_shift 1; the others unknown ('', -1)")
        t.eq(receipts(run.db), [
            ("evt_g1_auth", "charge.succeeded", "recorded", None, 200),
            ("evt_g1_cap", "charge.captured", "duplicate", None, 200),
            ("evt_g1_ch", "charge.succeeded", "applied", 1, 200),
            ("evt_g1_pi", "payment_intent.succeeded", "duplicate", None,
             200),
        ], "capture: one receipt per event")
        check_balances(t, run.db, "acme", [
            ("USD", "provider_balance", 2000), ("USD", "sales", -2000)],
            "capture: balances: provider_balance 2000, sales -2000")
        check_exceptions(t, run.db, [], "capture: no exceptions")
    check_verify(t, run.db, 1, "capture")


# ---------------------------------------------------------------- 2 refunds

def g_refunds(t, tmp):
    run, sec, _ = stripe_run(t, "refunds", tmp)
    with run:
        s = Sender(run, stripe=("stripe", sec))
        base = hl.now() - 3600
        r = s.stripe("payment_intent.succeeded", "evt_g2_pi",
                     pi_obj("pi_g2", 2000, charge="ch_g2"), base)
        expect(t, r, 200, applied("evt_g2_pi", 1),
               "refunds: capture of pi_g2 2000 USD -> applied seq 1")

        r = s.stripe("refund.created", "evt_g2_rc",
                     refund_obj("re_g2a", "pi_g2", "ch_g2", 500, "pending"),
                     base + 1)
        expect(t, r, 200, applied("evt_g2_rc", 2),
               "refunds: refund.created re_g2a 500 pending -> applied seq 2")
        check_balances(t, run.db, "acme", [
            ("USD", "provider_balance", 1500),
            ("USD", "refunds_pending", 500), ("USD", "sales", -2000)],
            "refunds: pending: 500 held in refunds_pending")

        r = s.stripe("charge.refund.updated", "evt_g2_ru",
                     refund_obj("re_g2a", "pi_g2", "ch_g2", 500,
                                "succeeded"), base + 2)
        expect(t, r, 200, applied("evt_g2_ru", 3),
               "refunds: charge.refund.updated re_g2a succeeded -> applied "
               "seq 3")
        check_balances(t, run.db, "acme", [
            ("USD", "provider_balance", 1500), ("USD", "refunds", 500),
            ("USD", "refunds_pending", 0), ("USD", "sales", -2000)],
            "refunds: succeeded: 500 moved from refunds_pending to refunds")

        r = s.stripe("charge.refunded", "evt_g2_cr1",
                     charge_obj("ch_g2", "pi_g2", 2000, refunded=500),
                     base + 3)
        expect(t, r, 200, recorded("evt_g2_cr1", "refund_already_posted"),
               "refunds: charge.refunded amount_refunded 500 -> recorded, "
               "refund_already_posted")
        check_balances(t, run.db, "acme", [
            ("USD", "provider_balance", 1500), ("USD", "refunds", 500),
            ("USD", "refunds_pending", 0), ("USD", "sales", -2000)],
            "refunds: the equal running total changes nothing")

        r = s.stripe("charge.refunded", "evt_g2_cr2",
                     charge_obj("ch_g2", "pi_g2", 2000, refunded=800),
                     base + 4)
        expect(t, r, 200, applied("evt_g2_cr2", 4),
               "refunds: charge.refunded amount_refunded 800 (a second "
               "refund known by its total only) -> applied seq 4")
        check_balances(t, run.db, "acme", [
            ("USD", "provider_balance", 1200), ("USD", "refunds", 800),
            ("USD", "refunds_pending", 0), ("USD", "sales", -2000)],
            "refunds: the increment 300 is posted")

        r = s.stripe("refund.created", "evt_g2_rc2",
                     refund_obj("re_g2b", "pi_g2", "ch_g2", 300,
                                "succeeded"), base + 5)
        expect(t, r, 200, recorded("evt_g2_rc2", "refund_already_posted"),
               "refunds: the late refund.created re_g2b 300 behind that "
               "total -> recorded, refund_already_posted")
        r = s.resend("evt_g2_cr2")
        expect(t, r, 200, applied("evt_g2_cr2", 4),
               "refunds: redelivery of the total replays seq 4",
               replayed=True)

        r = s.stripe("refund.created", "evt_g2_rc3",
                     refund_obj("re_g2c", "pi_g2", "ch_g2", 200, "pending"),
                     base + 6)
        expect(t, r, 200, applied("evt_g2_rc3", 5),
               "refunds: a third refund re_g2c 200 pending -> applied seq 5")
        check_balances(t, run.db, "acme", [
            ("USD", "provider_balance", 1000), ("USD", "refunds", 800),
            ("USD", "refunds_pending", 200), ("USD", "sales", -2000)],
            "refunds: 200 held in refunds_pending")
        r = s.stripe("refund.failed", "evt_g2_rf3",
                     refund_obj("re_g2c", "pi_g2", "ch_g2", 200, "failed"),
                     base + 7)
        expect(t, r, 200, applied("evt_g2_rf3", 6),
               "refunds: refund.failed re_g2c -> applied seq 6")
        r = s.stripe("charge.refund.updated", "evt_g2_ru3",
                     refund_obj("re_g2c", "pi_g2", "ch_g2", 200, "pending"),
                     base + 8)
        expect(t, r, 200, recorded("evt_g2_ru3", "refund_already_posted"),
               "refunds: a late pending report of the failed refund -> "
               "recorded (failed is final)")

        t.eq(hl.ledger_rows(run.db), [
            (1, "acme", "stripe", "evt_g2_pi", "capture", "pi_g2", 2000,
             "USD", base),
            (2, "acme", "stripe", "evt_g2_rc", "refund", "pi_g2", 500, "USD",
             base + 1),
            (3, "acme", "stripe", "evt_g2_ru", "refund", "pi_g2", 500, "USD",
             base + 2),
            (4, "acme", "stripe", "evt_g2_cr2", "refund", "pi_g2", 300,
             "USD", base + 4),
            (5, "acme", "stripe", "evt_g2_rc3", "refund", "pi_g2", 200,
             "USD", base + 6),
            (6, "acme", "stripe", "evt_g2_rf3", "refund", "pi_g2", 200,
             "USD", base + 7),
        ], "refunds: ledger: capture, pending, success, increment, "
           "pending, failed")
        t.eq(postings(run.db, {2, 3, 4, 5, 6}), [
            (2, 0, "provider_balance", 0, 500),
            (2, 1, "refunds_pending", 500, 0),
            (3, 0, "refunds", 500, 0),
            (3, 1, "refunds_pending", 0, 500),
            (4, 0, "provider_balance", 0, 300),
            (4, 1, "refunds", 300, 0),
            (5, 0, "provider_balance", 0, 200),
            (5, 1, "refunds_pending", 200, 0),
            (6, 0, "provider_balance", 200, 0),
            (6, 1, "refunds_pending", 0, 200),
        ], "refunds: postings of entries 2 to 6: the failed refund returns "
           "to provider_balance")
        check_balances(t, run.db, "acme", [
            ("USD", "provider_balance", 1200), ("USD", "refunds", 800),
            ("USD", "refunds_pending", 0), ("USD", "sales", -2000)],
            "refunds: final balances")
        check_exceptions(t, run.db, [], "refunds: no exceptions")
    check_verify(t, run.db, 6, "refunds")


# ---------------------------------------------------------------- 3 parking

def g_parking(t, tmp):
    run, sec, nsec = stripe_run(t, "parking", tmp, shop=True)
    with run:
        s = Sender(run, stripe=("stripe", sec), shop=("shop", nsec))
        base = hl.now() - 3600
        # The dispute arrives first but happened after the refund: the
        # parked events post in order of arrival, not of event time.
        r = s.stripe("charge.dispute.created", "evt_g3_dp",
                     dispute_obj("dp_g3", "pi_g3", "ch_g3", 1000,
                                 "needs_response"), base + 6)
        expect(t, r, 200, parked("evt_g3_dp"),
               "parking: charge.dispute.created before its capture -> 200 "
               "parked, payment_not_captured")
        r = s.stripe("refund.created", "evt_g3_re",
                     refund_obj("re_g3", "pi_g3", "ch_g3", 400, "succeeded"),
                     base + 5)
        expect(t, r, 200, parked("evt_g3_re"),
               "parking: refund.created succeeded before its capture -> "
               "200 parked")
        r = s.resend("evt_g3_dp")
        expect(t, r, 200, parked("evt_g3_dp"),
               "parking: a redelivery of a parked event replays parked",
               replayed=True)
        t.eq(hl.count(run.db, "ledger"), 0,
             "parking: nothing is posted while the payment is not captured")
        check_balances(t, run.db, "acme", [],
                       "parking: balances are empty while parked")

        # The same through the neutral schema.
        r = s.neutral("dispute.opened", "msg_g3_dp",
                      {"payment_id": "pay_g3", "dispute_id": "dsp_g3",
                       "amount": 250, "currency": "EUR"}, base + 7)
        expect(t, r, 200, parked("msg_g3_dp"),
               "parking: neutral dispute.opened before payment.captured -> "
               "parked")

        r = s.stripe("payment_intent.succeeded", "evt_g3_pi",
                     pi_obj("pi_g3", 3000, charge="ch_g3"), base)
        expect(t, r, 200, applied("evt_g3_pi", 1),
               "parking: the capture arrives -> applied seq 1")
        r = s.stripe("charge.succeeded", "evt_g3_ch",
                     charge_obj("ch_g3", "pi_g3", 3000), base + 1)
        expect(t, r, 200, recorded("evt_g3_ch", "capture_already_posted"),
               "parking: charge.succeeded after it -> capture_already_posted")
        r = s.neutral("payment.captured", "msg_g3_pc",
                      {"payment_id": "pay_g3", "amount": 1000,
                       "currency": "EUR"}, base + 2)
        expect(t, r, 200, applied("msg_g3_pc", 4),
               "parking: neutral payment.captured -> applied seq 4")

        t.eq(hl.ledger_rows(run.db), [
            (1, "acme", "stripe", "evt_g3_pi", "capture", "pi_g3", 3000,
             "USD", base),
            (2, "acme", "stripe", "evt_g3_dp", "dispute_opened", "pi_g3",
             1000, "USD", base + 6),
            (3, "acme", "stripe", "evt_g3_re", "refund", "pi_g3", 400, "USD",
             base + 5),
            (4, "acme", "shop", "msg_g3_pc", "capture", "pay_g3", 1000,
             "EUR", base + 2),
            (5, "acme", "shop", "msg_g3_dp", "dispute_opened", "pay_g3", 250,
             "EUR", base + 7),
        ], "parking: capture, then each parked event in order of arrival, "
           "each its own entry")
        t.eq(receipts(run.db), [
            ("evt_g3_ch", "charge.succeeded", "duplicate", None, 200),
            ("evt_g3_dp", "charge.dispute.created", "parked", None, 200),
            ("evt_g3_pi", "payment_intent.succeeded", "applied", 1, 200),
            ("evt_g3_re", "refund.created", "parked", None, 200),
            ("msg_g3_dp", "dispute.opened", "parked", None, 200),
            ("msg_g3_pc", "payment.captured", "applied", 4, 200),
        ], "parking: parked events keep their parked receipt, no entry_seq")
        r = s.resend("evt_g3_re")
        expect(t, r, 200, parked("evt_g3_re"),
               "parking: a redelivery after release still replays the "
               "first answer", replayed=True)
        check_balances(t, run.db, "acme", [
            ("EUR", "disputes_open", 250), ("EUR", "provider_balance", 750),
            ("EUR", "sales", -1000),
            ("USD", "disputes_open", 1000),
            ("USD", "provider_balance", 1600), ("USD", "refunds", 400),
            ("USD", "sales", -3000)],
            "parking: balances after release")
        check_exceptions(t, run.db, [], "parking: no exceptions")
    check_verify(t, run.db, 5, "parking")


# ---------------------------------------------------------------- 4 disputes

def g_disputes(t, tmp):
    run, sec, _ = stripe_run(t, "disputes", tmp)
    with run:
        s = Sender(run, stripe=("stripe", sec))
        base = hl.now() - 3600
        r = s.stripe("payment_intent.succeeded", "evt_g4_pa",
                     pi_obj("pi_g4a", 5000, charge="ch_g4a"), base)
        expect(t, r, 200, applied("evt_g4_pa", 1),
               "disputes: capture pi_g4a 5000 -> seq 1")
        r = s.stripe("charge.dispute.created", "evt_g4_da",
                     dispute_obj("dp_g4a", "pi_g4a", "ch_g4a", 2000,
                                 "needs_response"), base + 1)
        expect(t, r, 200, applied("evt_g4_da", 2),
               "disputes: dispute dp_g4a 2000 created -> seq 2")
        check_balances(t, run.db, "acme", [
            ("USD", "disputes_open", 2000),
            ("USD", "provider_balance", 3000), ("USD", "sales", -5000)],
            "disputes: an open dispute holds its amount")
        r = s.stripe("charge.dispute.closed", "evt_g4_la",
                     dispute_obj("dp_g4a", "pi_g4a", "ch_g4a", 2000, "lost"),
                     base + 2)
        expect(t, r, 200, applied("evt_g4_la", 3),
               "disputes: dp_g4a closed lost -> seq 3")
        check_balances(t, run.db, "acme", [
            ("USD", "disputes_lost", 2000), ("USD", "disputes_open", 0),
            ("USD", "provider_balance", 3000), ("USD", "sales", -5000)],
            "disputes: lost: the amount moves to disputes_lost")

        r = s.stripe("payment_intent.succeeded", "evt_g4_pb",
                     pi_obj("pi_g4b", 4000, charge="ch_g4b"), base + 3)
        expect(t, r, 200, applied("evt_g4_pb", 4),
               "disputes: capture pi_g4b 4000 -> seq 4")
        r = s.stripe("charge.dispute.created", "evt_g4_db",
                     dispute_obj("dp_g4b", "pi_g4b", "ch_g4b", 1500,
                                 "needs_response"), base + 4)
        expect(t, r, 200, applied("evt_g4_db", 5),
               "disputes: dispute dp_g4b 1500 created -> seq 5")
        check_balances(t, run.db, "acme", [
            ("USD", "disputes_lost", 2000), ("USD", "disputes_open", 1500),
            ("USD", "provider_balance", 5500), ("USD", "sales", -9000)],
            "disputes: the second dispute holds 1500")
        r = s.stripe("charge.dispute.closed", "evt_g4_wb",
                     dispute_obj("dp_g4b", "pi_g4b", "ch_g4b", 1500, "won"),
                     base + 5)
        expect(t, r, 200, applied("evt_g4_wb", 6),
               "disputes: dp_g4b closed won -> seq 6")
        r = s.stripe("charge.dispute.closed", "evt_g4_wc",
                     dispute_obj("dp_g4c", "pi_g4b", "ch_g4b", 900,
                                 "warning_closed"), base + 6)
        expect(t, r, 200, recorded("evt_g4_wc"),
               "disputes: an inquiry closed warning_closed -> recorded, "
               "moves nothing")
        r = s.resend("evt_g4_la")
        expect(t, r, 200, applied("evt_g4_la", 3),
               "disputes: redelivery of the lost close replays seq 3",
               replayed=True)

        t.eq(hl.ledger_rows(run.db), [
            (1, "acme", "stripe", "evt_g4_pa", "capture", "pi_g4a", 5000,
             "USD", base),
            (2, "acme", "stripe", "evt_g4_da", "dispute_opened", "pi_g4a",
             2000, "USD", base + 1),
            (3, "acme", "stripe", "evt_g4_la", "dispute_lost", "pi_g4a",
             2000, "USD", base + 2),
            (4, "acme", "stripe", "evt_g4_pb", "capture", "pi_g4b", 4000,
             "USD", base + 3),
            (5, "acme", "stripe", "evt_g4_db", "dispute_opened", "pi_g4b",
             1500, "USD", base + 4),
            (6, "acme", "stripe", "evt_g4_wb", "dispute_won", "pi_g4b",
             1500, "USD", base + 5),
        ], "disputes: six entries")
        t.eq(postings(run.db, {2, 3, 5, 6}), [
            (2, 0, "provider_balance", 0, 2000),
            (2, 1, "disputes_open", 2000, 0),
            (3, 0, "disputes_open", 0, 2000),
            (3, 1, "disputes_lost", 2000, 0),
            (5, 0, "provider_balance", 0, 1500),
            (5, 1, "disputes_open", 1500, 0),
            (6, 0, "provider_balance", 1500, 0),
            (6, 1, "disputes_open", 0, 1500),
        ], "disputes: postings of the dispute entries")
        t.eq(payment_balances(run.db, "acme", "pi_g4b"),
             {"provider_balance": 4000, "sales": -4000},
             "disputes: pi_g4b's won dispute is back in provider_balance")
        t.eq(payment_balances(run.db, "acme", "pi_g4a"),
             {"disputes_lost": 2000, "provider_balance": 3000,
              "sales": -5000},
             "disputes: pi_g4a's lost dispute stays in disputes_lost")
        check_balances(t, run.db, "acme", [
            ("USD", "disputes_lost", 2000), ("USD", "disputes_open", 0),
            ("USD", "provider_balance", 7000), ("USD", "sales", -9000)],
            "disputes: final balances")
        check_exceptions(t, run.db, [], "disputes: no exceptions")
    check_verify(t, run.db, 6, "disputes")


# ---------------------------------------------------------------- 5 over

def g_over_refund(t, tmp):
    run, sec, nsec = stripe_run(t, "over-refund", tmp, shop=True)
    with run:
        s = Sender(run, stripe=("stripe", sec), shop=("shop", nsec))
        base = hl.now() - 3600
        r = s.stripe("payment_intent.succeeded", "evt_g5_pi",
                     pi_obj("pi_g5", 1000, charge="ch_g5"), base)
        expect(t, r, 200, applied("evt_g5_pi", 1),
               "over-refund: capture pi_g5 1000 -> seq 1")
        r = s.stripe("refund.created", "evt_g5_ra",
                     refund_obj("re_g5a", "pi_g5", "ch_g5", 600,
                                "succeeded"), base + 1)
        expect(t, r, 200, applied("evt_g5_ra", 2),
               "over-refund: refund re_g5a 600 -> seq 2")
        r = s.stripe("refund.created", "evt_g5_rb",
                     refund_obj("re_g5b", "pi_g5", "ch_g5", 600,
                                "succeeded"), base + 2)
        expect(t, r, 200, exception("evt_g5_rb", "exceeds_captured_amount"),
               "over-refund: refund re_g5b 600 more -> 200 exception "
               "exceeds_captured_amount")
        r = s.resend("evt_g5_rb")
        expect(t, r, 200, exception("evt_g5_rb", "exceeds_captured_amount"),
               "over-refund: its redelivery replays the exception",
               replayed=True)
        r = s.stripe("refund.created", "evt_g5_rc",
                     refund_obj("re_g5c", "pi_g5", "ch_g5", 500, "pending"),
                     base + 3)
        # A pending refund is a hold, not money gone: held at most to
        # what the capture has left (400), never an exception, because
        # an earlier refund's failure may still be on its way.
        expect(t, r, 200, applied("evt_g5_rc", 3),
               "over-refund: a pending refund of 500 over the rest -> "
               "held to the 400 left")
        r = s.stripe("charge.refunded", "evt_g5_cr",
                     charge_obj("ch_g5", "pi_g5", 1000, refunded=600),
                     base + 4)
        expect(t, r, 200, recorded("evt_g5_cr", "refund_already_posted"),
               "over-refund: charge.refunded total 600 -> recorded (the "
               "refused refunds do not count)")

        # The same rule through the neutral schema.
        r = s.neutral("payment.captured", "msg_g5_pc",
                      {"payment_id": "pay_g5", "amount": 1000,
                       "currency": "EUR"}, base + 5)
        expect(t, r, 200, applied("msg_g5_pc", 4),
               "over-refund: neutral capture pay_g5 1000 EUR -> seq 4")
        r = s.neutral("payment.refunded", "msg_g5_r1",
                      {"payment_id": "pay_g5", "refund_id": "rfd_g5a",
                       "amount": 600, "currency": "EUR"}, base + 6)
        expect(t, r, 200, applied("msg_g5_r1", 5),
               "over-refund: neutral refund 600 -> seq 5")
        r = s.neutral("payment.refunded", "msg_g5_r2",
                      {"payment_id": "pay_g5", "refund_id": "rfd_g5b",
                       "amount": 600, "currency": "EUR"}, base + 7)
        expect(t, r, 200, exception("msg_g5_r2", "exceeds_captured_amount"),
               "over-refund: neutral refund 600 more -> exception")

        # A parked refund larger than the capture that releases it.
        r = s.stripe("refund.created", "evt_g5_pr",
                     refund_obj("re_g5p", "pi_g5p", "ch_g5p", 1200,
                                "succeeded"), base + 9)
        expect(t, r, 200, parked("evt_g5_pr"),
               "over-refund: refund 1200 before its capture -> parked")
        r = s.stripe("payment_intent.succeeded", "evt_g5_pp",
                     pi_obj("pi_g5p", 1000, charge="ch_g5p"), base + 8)
        expect(t, r, 200, applied("evt_g5_pp", 6),
               "over-refund: its capture of 1000 -> applied seq 6, the "
               "parked refund posts nothing")

        t.eq([row[:7] for row in hl.ledger_rows(run.db)], [
            (1, "acme", "stripe", "evt_g5_pi", "capture", "pi_g5", 1000),
            (2, "acme", "stripe", "evt_g5_ra", "refund", "pi_g5", 600),
            (3, "acme", "stripe", "evt_g5_rc", "refund", "pi_g5", 400),
            (4, "acme", "shop", "msg_g5_pc", "capture", "pay_g5", 1000),
            (5, "acme", "shop", "msg_g5_r1", "refund", "pay_g5", 600),
            (6, "acme", "stripe", "evt_g5_pp", "capture", "pi_g5p", 1000),
        ], "over-refund: only the refunds within the capture are posted")
        t.eq([r_[:3] for r_ in receipts(run.db)], [
            ("evt_g5_cr", "charge.refunded", "duplicate"),
            ("evt_g5_pi", "payment_intent.succeeded", "applied"),
            ("evt_g5_pp", "payment_intent.succeeded", "applied"),
            ("evt_g5_pr", "refund.created", "parked"),
            ("evt_g5_ra", "refund.created", "applied"),
            ("evt_g5_rb", "refund.created", "exception"),
            ("evt_g5_rc", "refund.created", "applied"),
            ("msg_g5_pc", "payment.captured", "applied"),
            ("msg_g5_r1", "payment.refunded", "applied"),
            ("msg_g5_r2", "payment.refunded", "exception"),
        ], "over-refund: receipts record the exceptions")
        check_exceptions(t, run.db, [
            exc("evt_g5_rb", "pi_g5", "exceeds_captured_amount", False),
            exc("msg_g5_r2", "pay_g5", "exceeds_captured_amount", False,
                endpoint="shop"),
            exc("evt_g5_pr", "pi_g5p", "exceeds_captured_amount", False),
        ], "over-refund: hookledger exceptions lists them, posted false")
        check_balances(t, run.db, "acme", [
            ("EUR", "provider_balance", 400), ("EUR", "refunds", 600),
            ("EUR", "sales", -1000),
            ("USD", "provider_balance", 1000), ("USD", "refunds", 600),
            ("USD", "refunds_pending", 400), ("USD", "sales", -2000)],
            "over-refund: balances show 600 refunded and 400 held")
    check_verify(t, run.db, 6, "over-refund")


# ---------------------------------------------------------------- 6 expect

def g_expectations(t, tmp):
    ssec = hl.stripe_secret()
    strict = hl.Endpoint("strict", "stripe", [ssec], tenant="strict")
    run, sec, _ = stripe_run(t, "expectations", tmp, [strict])
    with open(run.config, "a") as f:
        f.write("\n[tenant strict]\nrequire_expectations = yes\n")
    rc, out, err = hl.check_config(run.config)
    t.ok(rc == 0 and err == "", "expectations: a config with [tenant "
         "strict] require_expectations = yes is valid",
         ["exit %d stderr %r" % (rc, err)])
    with run:
        s = Sender(run, stripe=("stripe", sec))
        st = Sender(run, stripe=("strict", ssec))
        db = run.db
        base = hl.now() - 3600

        def expect_cli(tenant, ref, amount, cur):
            rc, out, err = cli("expect", "--db", db, "--tenant", tenant,
                               "--payment", ref, "--amount", str(amount),
                               "--currency", cur, "--json")
            try:
                j = json.loads(out)
            except ValueError:
                j = out
            return rc, j, err

        want = {"payment": "pi_g6x", "amount": 2000, "currency": "USD",
                "status": "expected"}
        rc, j, err = expect_cli("acme", "pi_g6x", 2000, "USD")
        t.eq((rc, j), (0, want), "expectations: hookledger expect pi_g6x "
             "2000 USD -> exit 0, the expectation")
        rc, j, err = expect_cli("acme", "pi_g6x", 2000, "USD")
        t.eq((rc, j), (0, want), "expectations: the same again -> exit 0")
        rc, j, err = expect_cli("acme", "pi_g6x", 2001, "USD")
        t.ok(rc == 1 and err == "" and isinstance(j, dict) and
             j.get("error") == "expectation_conflict",
             "expectations: other values for pi_g6x -> exit 1, "
             "expectation_conflict", ["rc %d stdout %r stderr %r" %
                                      (rc, j, err)])
        for tenant, ref, amount, cur in (("acme", "pi_g6v", 700, "USD"),
                                         ("acme", "pi_g6w", 2000, "USD"),
                                         ("strict", "pi_g6t", 800, "USD")):
            rc, j, err = expect_cli(tenant, ref, amount, cur)
            t.eq((rc, j), (0, {"payment": ref, "amount": amount,
                               "currency": cur, "status": "expected"}),
                 "expectations: expect %s %s %d %s" % (tenant, ref, amount,
                                                       cur))

        r = s.stripe("payment_intent.succeeded", "evt_g6_x",
                     pi_obj("pi_g6x", 1999, charge="ch_g6x"), base)
        expect(t, r, 200, with_verdict(applied("evt_g6_x", 1),
                                       "amount_mismatch"),
               "expectations: capture 1999 against 2000 -> applied, "
               "verdict amount_mismatch")
        t.eq(postings(db, {1}), [(1, 0, "provider_balance", 1999, 0),
                                 (1, 1, "suspense", 0, 1999)],
             "expectations: the short capture credits suspense, not sales")
        check_balances(t, db, "acme", [
            ("USD", "provider_balance", 1999), ("USD", "suspense", -1999)],
            "expectations: balances after the short capture")
        r = s.stripe("charge.succeeded", "evt_g6_xc",
                     charge_obj("ch_g6x", "pi_g6x", 1999), base + 1)
        expect(t, r, 200, recorded("evt_g6_xc", "capture_already_posted"),
               "expectations: its charge.succeeded -> "
               "capture_already_posted, no second verdict")
        r = s.stripe("payment_intent.succeeded", "evt_g6_v",
                     pi_obj("pi_g6v", 700), base + 2)
        expect(t, r, 200, applied("evt_g6_v", 2),
               "expectations: capture matching its expectation -> applied, "
               "no verdict (verified)")
        r = s.stripe("payment_intent.succeeded", "evt_g6_w",
                     pi_obj("pi_g6w", 2000, currency="eur"), base + 3)
        expect(t, r, 200, with_verdict(applied("evt_g6_w", 3),
                                       "amount_mismatch"),
               "expectations: right amount, wrong currency -> "
               "amount_mismatch")
        r = s.stripe("payment_intent.succeeded", "evt_g6_u",
                     pi_obj("pi_g6u", 300), base + 4)
        expect(t, r, 200, applied("evt_g6_u", 4),
               "expectations: no expectation, not required -> applied "
               "(unverified, counts as paid)")
        r = st.stripe("payment_intent.succeeded", "evt_g6_s",
                      pi_obj("pi_g6s", 500), base + 5)
        expect(t, r, 200, with_verdict(applied("evt_g6_s", 5),
                                       "no_expectation"),
               "expectations: strict tenant, nothing expected -> applied, "
               "verdict no_expectation")
        r = st.stripe("payment_intent.succeeded", "evt_g6_t",
                      pi_obj("pi_g6t", 800), base + 6)
        expect(t, r, 200, applied("evt_g6_t", 6),
               "expectations: strict tenant, expected and matching -> "
               "applied, no verdict")
        r = st.resend("evt_g6_s")
        expect(t, r, 200, with_verdict(applied("evt_g6_s", 5),
                                       "no_expectation"),
               "expectations: redelivery replays the verdict",
               replayed=True)

        t.eq(facts(db, ("event_id", "payment_ref", "amount", "currency",
                        "verdict")), [
            ("evt_g6_x", "pi_g6x", 1999, "USD", "amount_mismatch"),
            ("evt_g6_xc", "pi_g6x", 1999, "USD", "amount_mismatch"),
            ("evt_g6_v", "pi_g6v", 700, "USD", "verified"),
            ("evt_g6_w", "pi_g6w", 2000, "EUR", "amount_mismatch"),
            ("evt_g6_u", "pi_g6u", 300, "USD", "unverified"),
            ("evt_g6_s", "pi_g6s", 500, "USD", "no_expectation"),
            ("evt_g6_t", "pi_g6t", 800, "USD", "verified"),
        ], "expectations: each capture fact keeps its verdict")
        check_balances(t, db, "acme", [
            ("EUR", "provider_balance", 2000), ("EUR", "suspense", -2000),
            ("USD", "provider_balance", 2999), ("USD", "sales", -1000),
            ("USD", "suspense", -1999)],
            "expectations: acme: mismatches in suspense, the rest in sales")
        check_balances(t, db, "strict", [
            ("USD", "provider_balance", 1300), ("USD", "sales", -800),
            ("USD", "suspense", -500)],
            "expectations: strict: the unexpected capture in suspense")
        check_exceptions(t, db, [
            exc("evt_g6_x", "pi_g6x", "amount_mismatch", True),
            exc("evt_g6_w", "pi_g6w", "amount_mismatch", True),
            exc("evt_g6_s", "pi_g6s", "no_expectation", True,
                tenant="strict", endpoint="strict"),
        ], "expectations: exceptions amount_mismatch (twice) and "
           "no_expectation, all posted true")
        check_exceptions(t, db, [
            exc("evt_g6_s", "pi_g6s", "no_expectation", True,
                tenant="strict", endpoint="strict"),
        ], "expectations: exceptions --tenant strict", tenant="strict")
    check_verify(t, run.db, 6, "expectations")


# ---------------------------------------------------------------- 7 order

def order_events(base):
    """The fixed event set: (scheme, type, id, object or data, time)."""
    S, N = "stripe", "shop"
    return [
        # pi_o1: two reports of one capture, a refund pending then
        # succeeded, the charge's running total for it, and a second
        # refund pending then failed.
        (S, "payment_intent.succeeded", "evt_o01",
         pi_obj("pi_o1", 5000, charge="ch_o1"), base),
        (S, "charge.succeeded", "evt_o02",
         charge_obj("ch_o1", "pi_o1", 5000), base + 1),
        (S, "refund.created", "evt_o03",
         refund_obj("re_o1", "pi_o1", "ch_o1", 1000, "pending"), base + 2),
        (S, "charge.refund.updated", "evt_o04",
         refund_obj("re_o1", "pi_o1", "ch_o1", 1000, "succeeded"),
         base + 3),
        (S, "charge.refunded", "evt_o05",
         charge_obj("ch_o1", "pi_o1", 5000, refunded=1000), base + 4),
        (S, "refund.created", "evt_o19",
         refund_obj("re_o1b", "pi_o1", "ch_o1", 400, "pending"), base + 18),
        (S, "refund.failed", "evt_o20",
         refund_obj("re_o1b", "pi_o1", "ch_o1", 400, "failed"), base + 19),
        # pi_o5: an open dispute leaves room for only 1000 of a pending
        # refund of 1500, whichever arrives first.
        (S, "payment_intent.succeeded", "evt_o21",
         pi_obj("pi_o5", 3000, charge="ch_o5"), base + 20),
        (S, "charge.dispute.created", "evt_o22",
         dispute_obj("dp_o5", "pi_o5", "ch_o5", 2000, "needs_response"),
         base + 21),
        (S, "refund.created", "evt_o23",
         refund_obj("re_o5", "pi_o5", "ch_o5", 1500, "pending"), base + 22),
        # pi_o6: a running total of 500, its refund failed, the total back
        # to 0.
        (S, "payment_intent.succeeded", "evt_o24",
         pi_obj("pi_o6", 1000, charge="ch_o6"), base + 23),
        (S, "charge.refunded", "evt_o25",
         charge_obj("ch_o6", "pi_o6", 1000, refunded=500), base + 24),
        (S, "refund.failed", "evt_o26",
         refund_obj("re_o6", "pi_o6", "ch_o6", 500, "failed"), base + 25),
        (S, "charge.refunded", "evt_o27",
         charge_obj("ch_o6", "pi_o6", 1000, refunded=0), base + 26),
        # pi_o2: a dispute opened and won.
        (S, "payment_intent.succeeded", "evt_o06",
         pi_obj("pi_o2", 8000, charge="ch_o2"), base + 5),
        (S, "charge.dispute.created", "evt_o07",
         dispute_obj("dp_o2", "pi_o2", "ch_o2", 3000, "needs_response"),
         base + 6),
        (S, "charge.dispute.closed", "evt_o08",
         dispute_obj("dp_o2", "pi_o2", "ch_o2", 3000, "won"), base + 7),
        # pi_o3 (EUR): a refund and a lost dispute.
        (S, "charge.captured", "evt_o09",
         charge_obj("ch_o3", "pi_o3", 2500, currency="eur"), base + 8),
        (S, "refund.created", "evt_o10",
         refund_obj("re_o3", "pi_o3", "ch_o3", 500, "succeeded", "eur"),
         base + 9),
        (S, "charge.dispute.created", "evt_o11",
         dispute_obj("dp_o3", "pi_o3", "ch_o3", 700, "needs_response",
                     "eur"), base + 10),
        (S, "charge.dispute.closed", "evt_o12",
         dispute_obj("dp_o3", "pi_o3", "ch_o3", 700, "lost", "eur"),
         base + 11),
        # Payouts: po_o1 paid; po_o2 paid, then failed.
        (S, "payout.paid", "evt_o13", payout_obj("po_o1", 2000, "paid"),
         base + 12),
        (S, "payout.paid", "evt_o14", payout_obj("po_o2", 1500, "paid"),
         base + 13),
        (S, "payout.failed", "evt_o15", payout_obj("po_o2", 1500, "failed"),
         base + 14),
        # pay_o4 (GBP, neutral): a fee, a refund pending then succeeded.
        (N, "payment.captured", "msg_o16",
         {"payment_id": "pay_o4", "amount": 900, "currency": "GBP",
          "fee": 30}, base + 15),
        (N, "payment.refunded", "msg_o17",
         {"payment_id": "pay_o4", "refund_id": "rfd_o4", "amount": 200,
          "currency": "GBP", "status": "pending"}, base + 16),
        (N, "refund.updated", "msg_o18",
         {"payment_id": "pay_o4", "refund_id": "rfd_o4", "amount": 200,
          "currency": "GBP", "status": "succeeded"}, base + 17),
    ]


# Worked out by hand from docs/events.md, zero balances left out:
#   USD: captured 5000 + 8000 + 3000 + 1000 = 17000; refunded 1000 (re_o1
#        once, the total 1000 says the same; re_o1b failed: nothing; pi_o6's
#        total is back to 0); dp_o2 won: nothing held; dp_o5 open 2000, so
#        re_o5 pending is held to the 1000 left; payouts 2000 (po_o2
#        failed: nothing); provider 17000 - 1000 - 2000 - 1000 - 2000 =
#        11000.
#   EUR: captured 2500; refunded 500; lost 700; provider 2500 - 500 - 700.
#   GBP: captured 900; fee 30; refunded 200; provider 900 - 30 - 200.
ORDER_BALANCES = [
    ("EUR", "disputes_lost", 700), ("EUR", "provider_balance", 1300),
    ("EUR", "refunds", 500), ("EUR", "sales", -2500),
    ("GBP", "fees", 30), ("GBP", "provider_balance", 670),
    ("GBP", "refunds", 200), ("GBP", "sales", -900),
    ("USD", "disputes_open", 2000),
    ("USD", "payouts", 2000), ("USD", "provider_balance", 11000),
    ("USD", "refunds", 1000), ("USD", "refunds_pending", 1000),
    ("USD", "sales", -17000),
]
ORDER_SEEDS = (1, 7, 42, 1234, 99991)


def g_order(t, tmp):
    base = hl.now() - 7200
    events = order_events(base)
    finals = []
    results = {}
    for seed in ORDER_SEEDS:
        rng = random.Random(seed)
        order = list(range(len(events)))
        rng.shuffle(order)
        # Three redeliveries, each after its original.
        plan = [("send", i) for i in order]
        for _ in range(3):
            pos = rng.randrange(1, len(plan) + 1)
            done = [x[1] for x in plan[:pos] if x[0] == "send"]
            plan.insert(pos, ("again", rng.choice(done)))
        label = "order seed %d" % seed
        d = os.path.join(tmp, "seed%d" % seed)
        os.mkdir(d)
        run, sec, nsec = stripe_run(t, label, d, shop=True)
        t.diag("%s: %s" % (label, " ".join(
            ("+" if a == "again" else "") + events[i][2] for a, i in plan)))
        with run:
            s = Sender(run, stripe=("stripe", sec), shop=("shop", nsec))
            answers = {}
            bad = []
            for action, i in plan:
                scheme, typ, evt, obj, ts = events[i]
                if action == "again":
                    r = s.resend(evt)
                    if r.status != 200 or r.body != answers[evt].body or \
                            r.header_all("Idempotent-Replayed") != ["true"]:
                        bad.append("redelivery of %s: %r, first %r" %
                                   (evt, r, answers[evt]))
                    continue
                if scheme == "stripe":
                    r = s.stripe(typ, evt, obj, ts)
                else:
                    r = s.neutral(typ, evt, obj, ts)
                answers[evt] = r
                j = r.json if r.error is None else None
                if r.status != 200 or not isinstance(j, dict) or \
                        j.get("event_id") != evt or j.get("result") not in (
                            "applied", "recorded", "parked"):
                    bad.append("%s %s: %r" % (typ, evt, r))
            t.ok(not bad, "%s: every event answered 200 applied, recorded "
                 "or parked; every redelivery replayed" % label, bad)
            for r in answers.values():
                res = (r.json or {}).get("result")
                results[res] = results.get(res, 0) + 1
            rows = hl.ledger_rows(run.db, ("seq", "event_id"))
            seq_of = {e: q for q, e in rows}
            mism = ["%s answered seq %r, ledger %r" %
                    (e, (r.json or {}).get("seq"), seq_of.get(e))
                    for e, r in answers.items()
                    if (r.json or {}).get("result") == "applied" and
                    (r.json or {}).get("seq") != seq_of.get(e)]
            t.ok(not mism and len(seq_of) == len(rows),
                 "%s: each applied answer's seq is its event's entry" %
                 label, mism)
            check_balances(t, run.db, "acme", ORDER_BALANCES,
                           "%s: balances (non-zero) equal the expected "
                           "list" % label, nonzero=True)
            check_exceptions(t, run.db, [], "%s: no exceptions" % label)
            finals.append(balances(run.db, "acme"))
        check_verify(t, run.db, len(rows), "%s (%d entries)" %
                     (label, len(rows)))
    nz = [(rc, [b for b in j["balances"] if b.get("balance") != 0])
          if isinstance(j, dict) else (rc, j) for rc, j in finals]
    t.ok(all(x == nz[0] for x in nz), "order: all %d orders give identical "
         "balances" % len(nz), ["%r" % (x,) for x in nz])
    t.diag("order: answers over all orders: %r" % sorted(results.items()))
    t.ok(min(results.get(k, 0) for k in ("applied", "recorded", "parked"))
         > 0, "order: the orders exercised applied, recorded and parked "
         "answers", ["%r" % sorted(results.items())])


# ---------------------------------------------------------------- 8 amounts

def g_amounts(t, tmp):
    run, sec, _ = stripe_run(t, "amounts", tmp)
    with run:
        s = Sender(run, stripe=("stripe", sec))
        base = hl.now() - 3600
        good = [
            ("JPY 1500", "evt_g8_jpy", "pi_g8j", 1500, "jpy", 1500),
            ("KWD 1234 (3 decimals)", "evt_g8_kwd", "pi_g8k", 1234, "kwd",
             1234),
            ("ISK 10000 (Stripe's two decimals)", "evt_g8_isk", "pi_g8i",
             10000, "isk", 100),
            ("MGA 5000 (whole ariary)", "evt_g8_mga", "pi_g8m", 5000, "mga",
             500000),
        ]
        want_rows = []
        for n, (what, evt, pi, amount, cur, stored) in enumerate(good, 1):
            r = s.stripe("payment_intent.succeeded", evt,
                         pi_obj(pi, amount, currency=cur), base + n)
            expect(t, r, 200, applied(evt, n),
                   "amounts: Stripe %s -> applied seq %d" % (what, n))
            want_rows.append((n, "acme", "stripe", evt, "capture", pi,
                              stored, cur.upper(), base + n))
        t.eq(hl.ledger_rows(run.db), want_rows,
             "amounts: stored in ISO minor units: JPY 1500, KWD 1234, "
             "ISK 100, MGA 500000")

        bad = [
            ("ISK 10050 (not a multiple of 100)", "isk", b"10050"),
            ("10.5", "usd", b"10.5"),
            ('"1000"', "usd", b'"1000"'),
            ("1e3", "usd", b"1e3"),
            ("1000.0", "usd", b"1000.0"),
            ("-5", "usd", b"-5"),
            ("0", "usd", b"0"),
            ("null", "usd", b"null"),
            ("true", "usd", b"true"),
            ("9007199254740992 (2^53)", "usd", b"9007199254740992"),
            ("USD 10^14 + 1 (over the currency maximum)", "usd",
             b"100000000000001"),
        ]
        marker = b'"amount_received":777000777'
        for k, (what, cur, lit) in enumerate(bad):
            evt = "evt_g8_bad%d" % k
            b = s.stripe_body("payment_intent.succeeded", evt,
                              pi_obj("pi_g8_bad%d" % k, 777000777,
                                     currency=cur), base + 10 + k)
            if b.count(marker) != 1:
                raise hl.HLError("marker not found once in the body")
            b = b.replace(marker, b'"amount_received":' + lit)
            r = run.stripe("stripe", sec, None, raw=b)
            ok = expect(t, r, 422, Err("invalid_event"),
                        "amounts: amount_received %s -> 422 invalid_event" %
                        what)
            msg = (r.json or {}).get("message", "") if ok else ""
            if ok:
                t.ok("data.object.amount_received" in msg,
                     "amounts: the reason names data.object.amount_received"
                     " (%s)" % what, ["message %r" % msg])
        t.eq((hl.count(run.db, "ledger"), hl.count(run.db, "receipts"),
              hl.count(run.db, "facts")), (4, 4, 4),
             "amounts: nothing recorded for any refused amount")
        check_balances(t, run.db, "acme", [
            ("ISK", "provider_balance", 100), ("ISK", "sales", -100),
            ("JPY", "provider_balance", 1500), ("JPY", "sales", -1500),
            ("KWD", "provider_balance", 1234), ("KWD", "sales", -1234),
            ("MGA", "provider_balance", 500000), ("MGA", "sales", -500000)],
            "amounts: balances in minor units")
    check_verify(t, run.db, 4, "amounts")


# ---------------------------------------------------------------- 9 rules

def g_rules(t, tmp):
    run, sec, _ = stripe_run(t, "rules", tmp)
    with run:
        s = Sender(run, stripe=("stripe", sec))
        base = hl.now() - 3600
        steps = [
            ("payment_intent.succeeded", "evt_g9_pi",
             pi_obj("pi_g9", 1000, charge="ch_g9"), applied("evt_g9_pi", 1),
             "capture pi_g9 1000 -> seq 1"),
            ("charge.succeeded", "evt_g9_ch",
             charge_obj("ch_g9", "pi_g9", 999),
             exception("evt_g9_ch", "capture_amount_conflict"),
             "a second capture report of 999 -> capture_amount_conflict"),
            ("refund.created", "evt_g9_r1",
             refund_obj("re_g9", "pi_g9", "ch_g9", 100, "pending"),
             applied("evt_g9_r1", 2), "refund re_g9 100 pending -> seq 2"),
            ("refund.updated", "evt_g9_r2",
             refund_obj("re_g9", "pi_g9", "ch_g9", 150, "succeeded"),
             exception("evt_g9_r2", "amount_conflict"),
             "re_g9 reported again with 150 -> amount_conflict"),
            ("charge.dispute.created", "evt_g9_d1",
             dispute_obj("dp_g9", "pi_g9", "ch_g9", 200, "needs_response"),
             applied("evt_g9_d1", 3), "dispute dp_g9 200 -> seq 3"),
            ("charge.dispute.closed", "evt_g9_d2",
             dispute_obj("dp_g9", "pi_g9", "ch_g9", 200, "won"),
             applied("evt_g9_d2", 4), "dp_g9 won -> seq 4"),
            ("charge.dispute.closed", "evt_g9_d3",
             dispute_obj("dp_g9", "pi_g9", "ch_g9", 200, "lost"),
             exception("evt_g9_d3", "status_conflict"),
             "dp_g9 also lost -> status_conflict"),
            ("refund.created", "evt_g9_r3",
             refund_obj("re_g9b", "pi_g9", "ch_g9", 50, "succeeded", "eur"),
             exception("evt_g9_r3", "currency_mismatch"),
             "a EUR refund of a USD payment -> currency_mismatch"),
            ("payout.paid", "evt_g9_p1", payout_obj("pi_g9", 300, "paid"),
             exception("evt_g9_p1", "reference_conflict"),
             "a payout under the payment's id -> reference_conflict"),
            ("payout.paid", "evt_g9_p2", payout_obj("po_g9", 300, "paid"),
             applied("evt_g9_p2", 5), "payout po_g9 300 -> seq 5"),
            ("payout.failed", "evt_g9_p3", payout_obj("po_g9", 301, "failed"),
             exception("evt_g9_p3", "amount_conflict"),
             "po_g9 failed with another amount -> amount_conflict"),
        ]
        for k, (typ, evt, obj, want, what) in enumerate(steps):
            r = s.stripe(typ, evt, obj, base + k)
            expect(t, r, 200, want, "rules: " + what)
        r = s.resend("evt_g9_d3")
        expect(t, r, 200, exception("evt_g9_d3", "status_conflict"),
               "rules: redelivery of an exception replays it", replayed=True)
        t.eq([row[:7] for row in hl.ledger_rows(run.db)], [
            (1, "acme", "stripe", "evt_g9_pi", "capture", "pi_g9", 1000),
            (2, "acme", "stripe", "evt_g9_r1", "refund", "pi_g9", 100),
            (3, "acme", "stripe", "evt_g9_d1", "dispute_opened", "pi_g9",
             200),
            (4, "acme", "stripe", "evt_g9_d2", "dispute_won", "pi_g9", 200),
            (5, "acme", "stripe", "evt_g9_p2", "payout", "po_g9", 300),
        ], "rules: the events that broke a rule posted nothing")
        check_exceptions(t, run.db, [
            exc("evt_g9_ch", "pi_g9", "capture_amount_conflict", False),
            exc("evt_g9_r2", "pi_g9", "amount_conflict", False),
            exc("evt_g9_d3", "pi_g9", "status_conflict", False),
            exc("evt_g9_r3", "pi_g9", "currency_mismatch", False),
            exc("evt_g9_p1", "pi_g9", "reference_conflict", False),
            exc("evt_g9_p3", "po_g9", "amount_conflict", False),
        ], "rules: each is listed with its reason, posted false")
        check_balances(t, run.db, "acme", [
            ("USD", "disputes_open", 0), ("USD", "payouts", 300),
            ("USD", "provider_balance", 600),
            ("USD", "refunds_pending", 100), ("USD", "sales", -1000)],
            "rules: balances hold only the valid movements")
    check_verify(t, run.db, 5, "rules")


# ---------------------------------------------------------------- 10 limit

def g_dispute_limit(t, tmp):
    run, sec, _ = stripe_run(t, "dispute-limit", tmp)
    with run:
        s = Sender(run, stripe=("stripe", sec))
        base = hl.now() - 3600
        r = s.stripe("payment_intent.succeeded", "evt_gh_pi",
                     pi_obj("pi_H", 2000, charge="ch_H"), base)
        expect(t, r, 200, applied("evt_gh_pi", 1),
               "dispute-limit: capture pi_H 2000 -> seq 1")
        r = s.stripe("charge.dispute.created", "evt_gh_d1",
                     dispute_obj("dp_H1", "pi_H", "ch_H", 2000,
                                 "needs_response"), base + 1)
        expect(t, r, 200, applied("evt_gh_d1", 2),
               "dispute-limit: dispute dp_H1 2000 -> seq 2")
        r = s.stripe("charge.dispute.created", "evt_gh_d2",
                     dispute_obj("dp_H2", "pi_H", "ch_H", 2000,
                                 "needs_response"), base + 2)
        expect(t, r, 200, exception("evt_gh_d2", "exceeds_captured_amount"),
               "dispute-limit: a second dispute of 2000 -> exception "
               "exceeds_captured_amount")
        r = s.stripe("refund.created", "evt_gh_r",
                     refund_obj("re_H", "pi_H", "ch_H", 2000, "pending"),
                     base + 3)
        expect(t, r, 200, recorded("evt_gh_r", "pending_refund_not_held"),
               "dispute-limit: a pending refund of 2000 -> held to the 0 "
               "left, posts nothing")
        t.eq(payment_balances(run.db, "acme", "pi_H"),
             {"disputes_open": 2000, "sales": -2000},
             "dispute-limit: pi_H: disputes_open 2000, provider_balance 0, "
             "nothing pending")

        # A refund beside an open dispute of the whole capture is refused;
        # the dispute's close is not.
        r = s.stripe("payment_intent.succeeded", "evt_gk_pi",
                     pi_obj("pi_K", 2000, charge="ch_K"), base + 4)
        expect(t, r, 200, applied("evt_gk_pi", 3),
               "dispute-limit: capture pi_K 2000 -> seq 3")
        r = s.stripe("charge.dispute.created", "evt_gk_d",
                     dispute_obj("dp_K", "pi_K", "ch_K", 2000,
                                 "needs_response"), base + 5)
        expect(t, r, 200, applied("evt_gk_d", 4),
               "dispute-limit: dispute dp_K 2000 -> seq 4")
        r = s.stripe("refund.created", "evt_gk_r",
                     refund_obj("re_K", "pi_K", "ch_K", 500, "succeeded"),
                     base + 6)
        expect(t, r, 200, exception("evt_gk_r", "exceeds_captured_amount"),
               "dispute-limit: refund 500 beside it -> exception")
        r = s.stripe("charge.dispute.closed", "evt_gk_l",
                     dispute_obj("dp_K", "pi_K", "ch_K", 2000, "lost"),
                     base + 7)
        expect(t, r, 200, applied("evt_gk_l", 5),
               "dispute-limit: dp_K closed lost -> applied seq 5")
        t.eq(payment_balances(run.db, "acme", "pi_K"),
             {"disputes_lost": 2000, "sales": -2000},
             "dispute-limit: pi_K: disputes_lost 2000, nothing open")
        check_exceptions(t, run.db, [
            exc("evt_gh_d2", "pi_H", "exceeds_captured_amount", False),
            exc("evt_gk_r", "pi_K", "exceeds_captured_amount", False),
        ], "dispute-limit: both refusals are listed, posted false")
        check_balances(t, run.db, "acme", [
            ("USD", "disputes_lost", 2000), ("USD", "disputes_open", 2000),
            ("USD", "provider_balance", 0), ("USD", "sales", -4000)],
            "dispute-limit: balances: no payment gives back more than it "
            "took")
    check_verify(t, run.db, 5, "dispute-limit")


# ---------------------------------------------------------------- 11 late

LATE_MSG = ("this payment's capture is already posted and was judged when "
            "it arrived; an expectation must be registered before the "
            "capture")


def g_late_expectation(t, tmp):
    ssec = hl.stripe_secret()
    strict = hl.Endpoint("strict", "stripe", [ssec], tenant="strict")
    run, sec, _ = stripe_run(t, "late-expectation", tmp, [strict])
    with open(run.config, "a") as f:
        f.write("\n[tenant strict]\nrequire_expectations = yes\n")
    with run:
        s = Sender(run, stripe=("stripe", sec))
        st = Sender(run, stripe=("strict", ssec))
        db = run.db
        base = hl.now() - 3600
        aw = hl.create_token(db, "acme", "payments:write")
        ar = hl.create_token(db, "acme", "ledger:read")
        sw = hl.create_token(db, "strict", "payments:write")
        sr = hl.create_token(db, "strict", "ledger:read")

        def api_expect(tenant, tok, key, ref, amount, cur):
            body = json.dumps({"payment": ref, "amount": amount,
                               "currency": cur}).encode()
            return run.d.post("/v1/tenants/%s/payments" % tenant, body,
                              hl.api_headers(tok, key))

        def payment(tenant, tok, ref):
            return run.d.get("/v1/tenants/%s/payments/%s" % (tenant, ref),
                             hl.api_headers(tok, content_type=None))

        r = s.stripe("payment_intent.succeeded", "evt_gz_pi",
                     pi_obj("pi_Z", 2000), base)
        expect(t, r, 200, applied("evt_gz_pi", 1),
               "late-expectation: capture pi_Z 2000 USD -> seq 1")
        r = api_expect("acme", aw, "k-z1", "pi_Z", 999999, "JPY")
        ok = expect(t, r, 409, Err("payment_already_captured"),
                    "late-expectation: POST an expectation for pi_Z after "
                    "its capture -> 409 payment_already_captured")
        if ok:
            t.eq(r.json["message"], LATE_MSG,
                 "late-expectation: the message says why")
        r = api_expect("acme", aw, "k-z2", "pi_Z", 2000, "USD")
        expect(t, r, 409, Err("payment_already_captured"),
               "late-expectation: matching values are refused too")
        rc, out, err = cli("expect", "--db", db, "--tenant", "acme",
                           "--payment", "pi_Z", "--amount", "999999",
                           "--currency", "JPY")
        t.eq((rc, out, err), (1, "", "hookledger expect: payment pi_Z of "
                              "tenant acme is already captured; an "
                              "expectation must be registered before the "
                              "capture\n"),
             "late-expectation: hookledger expect after the capture -> "
             "exit 1, one line")
        t.eq(hl.count(db, "expectations"), 0,
             "late-expectation: no expectation stored")
        want_z = {"tenant": "acme", "payment": "pi_Z", "expected": None,
                  "captured": {"amount": 2000, "currency": "USD",
                               "verdict": "unverified", "sca_result": None,
                               "liability_shift": None},
                  "paid": True, "refunded": 0, "refund_pending": 0,
                  "disputed": 0, "dispute_lost": 0}
        expect(t, payment("acme", ar, "pi_Z"), 200, want_z,
               "late-expectation: pi_Z stays unverified, paid")

        # Strict tenant: a capture with no expectation stays in suspense;
        # a late expectation cannot release it.
        r = st.stripe("payment_intent.succeeded", "evt_gz_st",
                      pi_obj("pi_T", 800), base + 1)
        expect(t, r, 200, with_verdict(applied("evt_gz_st", 2),
                                       "no_expectation"),
               "late-expectation: strict capture pi_T -> no_expectation")
        r = api_expect("strict", sw, "k-t1", "pi_T", 800, "USD")
        expect(t, r, 409, Err("payment_already_captured"),
               "late-expectation: a matching expectation after it -> 409")
        expect(t, payment("strict", sr, "pi_T"), 200,
               dict(want_z, tenant="strict", payment="pi_T",
                    captured=dict(want_z["captured"], amount=800,
                                  verdict="no_expectation"), paid=False),
               "late-expectation: pi_T stays no_expectation, not paid")

        # paid is net of what went back to the customer.
        steps = [
            ("payment_intent.succeeded", "evt_gp_1", pi_obj("pi_P1", 1000)),
            ("refund.created", "evt_gp_2",
             refund_obj("re_P1", "pi_P1", "ch_P1", 1000, "succeeded")),
            ("payment_intent.succeeded", "evt_gp_3", pi_obj("pi_P2", 1000)),
            ("charge.dispute.created", "evt_gp_4",
             dispute_obj("dp_P2", "pi_P2", "ch_P2", 1000, "needs_response")),
            ("charge.dispute.closed", "evt_gp_5",
             dispute_obj("dp_P2", "pi_P2", "ch_P2", 1000, "lost")),
            ("payment_intent.succeeded", "evt_gp_6", pi_obj("pi_P3", 1000)),
            ("refund.created", "evt_gp_7",
             refund_obj("re_P3", "pi_P3", "ch_P3", 400, "succeeded")),
        ]
        for k, (typ, evt, obj) in enumerate(steps):
            r = s.stripe(typ, evt, obj, base + 10 + k)
            expect(t, r, 200, applied(evt, 3 + k),
                   "late-expectation: %s %s -> applied" % (typ, evt))
        for ref, extra, paid in (
                ("pi_P1", {"refunded": 1000}, False),
                ("pi_P2", {"dispute_lost": 1000}, False),
                ("pi_P3", {"refunded": 400}, True)):
            want = dict(want_z, payment=ref, paid=paid,
                        captured=dict(want_z["captured"], amount=1000))
            want.update(extra)
            expect(t, payment("acme", ar, ref), 200, want,
                   "late-expectation: %s %r -> paid %s" % (ref, extra, paid))
    check_verify(t, run.db, 9, "late-expectation")


# ---------------------------------------------------------------- 12 zero

def g_total_zero(t, tmp):
    run, sec, _ = stripe_run(t, "total-zero", tmp)
    with run:
        s = Sender(run, stripe=("stripe", sec))
        base = hl.now() - 3600
        r = s.stripe("payment_intent.succeeded", "evt_g0_pi",
                     pi_obj("pi_0", 2000, charge="ch_0"), base)
        expect(t, r, 200, applied("evt_g0_pi", 1),
               "total-zero: capture pi_0 2000 -> seq 1")
        r = s.stripe("charge.refunded", "evt_g0_t1",
                     charge_obj("ch_0", "pi_0", 2000, refunded=500),
                     base + 1)
        expect(t, r, 200, applied("evt_g0_t1", 2),
               "total-zero: charge.refunded amount_refunded 500 -> seq 2")
        r = s.stripe("refund.failed", "evt_g0_f",
                     refund_obj("re_0", "pi_0", "ch_0", 500, "failed"),
                     base + 2)
        expect(t, r, 200, recorded("evt_g0_f", "refund_already_posted"),
               "total-zero: refund.failed re_0 -> recorded (the total "
               "still counts it)")
        r = s.stripe("charge.refunded", "evt_g0_t0",
                     charge_obj("ch_0", "pi_0", 2000, refunded=0), base + 3)
        expect(t, r, 200, applied("evt_g0_t0", 3),
               "total-zero: charge.refunded amount_refunded 0 -> seq 3")
        t.eq(postings(run.db, {3}), [(3, 0, "provider_balance", 500, 0),
                                     (3, 1, "refunds", 0, 500)],
             "total-zero: the entry returns 500 from refunds")
        r = s.stripe("charge.refunded", "evt_g0_bad",
                     charge_obj("ch_0", "pi_0", 2000, refunded=-1), base + 4)
        ok = expect(t, r, 422, Err("invalid_event"),
                    "total-zero: amount_refunded -1 -> 422 invalid_event")
        if ok:
            t.eq(r.json["message"], "data.object.amount_refunded must be an "
                 "integer of 0 or more in minor units",
                 "total-zero: the reason names the rule")
        check_balances(t, run.db, "acme", [
            ("USD", "provider_balance", 2000), ("USD", "refunds", 0),
            ("USD", "sales", -2000)],
            "total-zero: balances: nothing refunded")
        check_exceptions(t, run.db, [], "total-zero: no exceptions")
    check_verify(t, run.db, 3, "total-zero")


# ---------------------------------------------------------------- 13 parked

def g_parked_visible(t, tmp):
    run, sec, _ = stripe_run(t, "parked-visible", tmp)
    with run:
        s = Sender(run, stripe=("stripe", sec))
        db = run.db
        base = hl.now() - 3600
        ar = hl.create_token(db, "acme", "ledger:read")
        t0 = hl.now()
        r = s.stripe("refund.created", "evt_gp_r",
                     refund_obj("re_P", "pi_P", "ch_P", 500, "succeeded"),
                     base)
        expect(t, r, 200, parked("evt_gp_r"),
               "parked-visible: refund re_P 500 before its capture -> "
               "parked")
        t1 = hl.now()
        rc, out, err = cli("exceptions", "--db", db, "--json")
        try:
            got = json.loads(out)
        except ValueError:
            got = out
        lst = got.get("parked") if isinstance(got, dict) else None
        stamp = lst[0].pop("received_at", None) if lst else None
        t.eq((rc, got), (0, {"exceptions": [], "parked": [
            {"tenant": "acme", "endpoint": "stripe", "event_id": "evt_gp_r",
             "payment_ref": "pi_P", "kind": "refund", "amount": 500,
             "currency": "USD", "reason": "payment_not_captured"}]}),
             "parked-visible: hookledger exceptions --json lists it under "
             "parked")
        t.ok(isinstance(stamp, str) and re.fullmatch(RFC3339, stamp) and
             hl.rfc3339(t0) <= stamp <= hl.rfc3339(t1),
             "parked-visible: its received_at is the time it arrived",
             ["received_at %r" % (stamp,)])
        rc, out, err = cli("exceptions", "--db", db)
        t.ok(rc == 0 and err == "" and re.fullmatch(
            RFC3339 + r"  acme +parked +pi_P +evt_gp_r +waiting for its "
            r"capture\n", out) is not None,
            "parked-visible: hookledger exceptions prints one line for it",
            ["rc %d stdout %r stderr %r" % (rc, out, err)])
        r = run.d.get("/v1/tenants/acme/exceptions",
                      hl.api_headers(ar, content_type=None))
        j = r.json if r.status == 200 else None
        if isinstance(j, dict) and j.get("parked"):
            j["parked"][0].pop("received_at", None)
        t.eq((r.status, j), (200, {"exceptions": [], "parked": [
            {"tenant": "acme", "endpoint": "stripe", "event_id": "evt_gp_r",
             "payment_ref": "pi_P", "kind": "refund", "amount": 500,
             "currency": "USD", "reason": "payment_not_captured"}]}),
             "parked-visible: GET /exceptions lists it under parked")
        r = s.stripe("payment_intent.succeeded", "evt_gp_c",
                     pi_obj("pi_P", 2000, charge="ch_P"), base + 1)
        expect(t, r, 200, applied("evt_gp_c", 1),
               "parked-visible: its capture arrives -> applied")
        check_exceptions(t, db, [], "parked-visible: once released, "
                         "nothing is parked or excepted")
        check_balances(t, db, "acme", [
            ("USD", "provider_balance", 1500), ("USD", "refunds", 500),
            ("USD", "sales", -2000)],
            "parked-visible: balances after the release")
    check_verify(t, run.db, 2, "parked-visible")


# ---------------------------------------------------------------- 14 range

def g_sum_range(t, tmp):
    run, sec, nsec = stripe_run(t, "sum-range", tmp, shop=True)
    with run:
        s = Sender(run, stripe=("stripe", sec), shop=("shop", nsec))
        db = run.db
        base = hl.now() - 3600
        ar = hl.create_token(db, "acme", "ledger:read")
        # 1025 captures of 2^53 - 1 CLF (the most one may be) pass
        # 2^63 - 1 together.
        bad = []
        for i in range(1025):
            r = s.neutral("payment.captured", "msg_gr_%d" % i,
                          {"payment_id": "pay_gr_%d" % i,
                           "amount": 9007199254740991, "currency": "CLF"},
                          base + i)
            if r.status != 200 or (r.json or {}).get("result") != "applied":
                bad.append("msg_gr_%d: %r" % (i, r))
        t.ok(not bad, "sum-range: 1025 captures of 9007199254740991 CLF "
             "applied", bad[:3])
        rc, out, err = cli("balances", "--db", db, "--tenant", "acme")
        t.eq((rc, out, err), (2, "", "hookledger: query failed: a sum of "
                              "amounts exceeds the 64-bit range of minor "
                              "units\n"),
             "sum-range: hookledger balances -> exit 2, says the sum is out "
             "of range")
        r = run.d.get("/v1/tenants/acme/balances",
                      hl.api_headers(ar, content_type=None))
        ok = expect(t, r, 500, Err("balance_out_of_range"),
                    "sum-range: GET /balances -> 500 balance_out_of_range, "
                    "not storage_unavailable")
        if ok:
            t.eq(r.json["message"], "a balance exceeds the 64-bit range of "
                 "minor units and cannot be given; the ledger itself is "
                 "intact", "sum-range: its message")
        day = time.strftime("%Y-%m-%d", time.gmtime(base))
        rc, out, err = cli("reconcile", "--db", db, "--date", day,
                           "--json", timeout=60)
        t.eq((rc, err), (2, "hookledger: reading the ledger "
                         "failed: a sum of amounts exceeds the 64-bit range "
                         "of minor units\n"),
             "sum-range: hookledger reconcile -> exit 2 with the reason, "
             "not \"not an error\"")
    check_verify(t, run.db, 1025, "sum-range")


# ---------------------------------------------------------------- main

GROUPS = [
    ("one capture, three reports", g_capture),
    ("refunds by id and total", g_refunds),
    ("parking", g_parking),
    ("disputes", g_disputes),
    ("over-refund", g_over_refund),
    ("expectations", g_expectations),
    ("order independence", g_order),
    ("amounts", g_amounts),
    ("rule exceptions", g_rules),
    ("disputes count against the capture", g_dispute_limit),
    ("expectations after the capture", g_late_expectation),
    ("a running total back to zero", g_total_zero),
    ("parked events are listed", g_parked_visible),
    ("sums beyond 64 bits", g_sum_range),
]


def main():
    return run_groups(GROUPS, "hl-money-", "a secret or a signature", show=hl.HOOKLEDGERD)


if __name__ == "__main__":
    sys.exit(main())
