#!/usr/bin/env python3
"""
End-to-end tests of the nightly reconciliation (docs/reconcile.md),
speaking TAP.

Every ledger here is filled by a real hookledgerd on an ephemeral port of
127.0.0.1 with signed Stripe-shaped events whose "created" times are set
to chosen days (the signature's timestamp is the current time; only the
body says when the money moved). Then `hookledger reconcile` runs as cron
would, with --config (a [tenant NAME] section, a top-level alert_command)
or --db, and its --json output is compared whole with what the contract
says it must be, computed here independently from the events sent.

Run from the build directory as `python3 tests/e2e/test_reconcile.py` with
HL_BUILDDIR and HL_TOP_SRCDIR set as for test_e2e.py, whose harness (TAP,
Run) this file shares, as it shares test_money.py's senders. HL_KEEP=1
keeps the directories of groups that failed; HL_E2E_ONLY=WORD runs only
the groups whose name contains WORD; HL_RECONCILE_HTML=FILE copies the
flagged HTML report there, to look at.
"""

import calendar
import datetime
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hlclient as hl  # noqa: E402
from test_e2e import Run, applied, check_verify, run_groups  # noqa: E402
from test_money import (Sender, cli, dispute_obj, exc,  # noqa: E402
                        exception, exceptions, pi_obj, refund_obj,
                        with_verdict)

REPORT_KEYS = ["report", "date", "scope", "ledger", "flagged", "tenants"]
SETTLEMENT_KEYS = ["file", "format", "lines", "missing_from_ledger",
                   "missing_from_settlement", "mismatches",
                   "fee_differences", "fees_not_in_ledger", "payouts",
                   "ignored", "clean"]
HISTORY_DAYS = 28
SOURCE = "<a non-empty source>"


# ---------------------------------------------------------------- time

def utc(s):
    """Unix seconds of "YYYY-MM-DDTHH:MM:SSZ"."""
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def iso(t):
    return hl.rfc3339(t)


def add_days(date, n):
    d = datetime.date.fromisoformat(date) + datetime.timedelta(days=n)
    return d.isoformat()


def at(date, hh, mm=0, ss=0):
    """Unix seconds of date hh:mm:ss UTC."""
    return utc("%sT%02d:%02d:%02dZ" % (date, hh, mm, ss))


def window(zone, date):
    """The half-open Unix-seconds window of calendar day date in zone,
    computed with Python's zoneinfo (not the code under test)."""
    z = zoneinfo.ZoneInfo(zone)
    d = datetime.date.fromisoformat(date)
    start = datetime.datetime(d.year, d.month, d.day, tzinfo=z)
    nd = d + datetime.timedelta(days=1)
    end = datetime.datetime(nd.year, nd.month, nd.day, tzinfo=z)
    return int(start.timestamp()), int(end.timestamp())


# ---------------------------------------------------------------- model

class Book:
    """What was sent, as the ledger must count it: (kind, payment, amount,
    currency, occurred_at) per posted entry."""

    def __init__(self):
        self.entries = []

    def add(self, kind, ref, amount, currency, when):
        self.entries.append((kind, ref, amount, currency, when))

    def metrics(self, frm, to, currency):
        m = {"sales": [0, 0], "refunds": [0, 0], "disputes": [0, 0]}
        key = {"capture": "sales", "refund": "refunds",
               "dispute_opened": "disputes"}
        for kind, _, amount, cur, when in self.entries:
            if cur == currency and frm <= when < to and kind in key:
                m[key[kind]][0] += 1
                m[key[kind]][1] += amount
        return m

    def captures(self, frm, to):
        return len({ref for kind, ref, _, _, when in self.entries
                    if kind == "capture" and frm <= when < to})

    def disputes(self, frm, to):
        return len([1 for kind, _, _, _, when in self.entries
                    if kind == "dispute_opened" and frm <= when < to])


def rate(part, whole):
    return part / whole if whole > 0 else 0.0


def median(v):
    v = sorted(v)
    n = len(v)
    if n == 0:
        return 0.0
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2.0


def baseline(rates, sales, factor):
    """The contract's baseline: same weekday days of history with sales,
    or every day with sales when fewer than two; median and MAD."""
    n = len(rates)
    v = [rates[i] for i in range(n) if (n - i) % 7 == 0 and sales[i] > 0]
    allw = False
    if len(v) < 2:
        v = [rates[i] for i in range(n) if sales[i] > 0]
        allw = True
    med = median(v)
    mad = median([abs(x - med) for x in v])
    thr = max(factor * med, med + 3.0 * 1.4826 * mad)
    return {"median": med, "mad": mad, "threshold": thr, "days": len(v),
            "all_weekdays": allw}


def currency_expect(book, zone, date, currency, factors=(3, 3),
                    days=HISTORY_DAYS):
    """The currencies[] element for currency on date, sca all zero (no
    event here carries a card country)."""
    hist, rr, dr, sales = [], [], [], []
    for i in range(days, 0, -1):
        d = add_days(date, -i)
        m = book.metrics(*window(zone, d), currency)
        r1 = rate(m["refunds"][0], m["sales"][0])
        r2 = rate(m["disputes"][0], m["sales"][0])
        hist.append({"date": d, "sales": m["sales"][0],
                     "refunds": m["refunds"][0],
                     "disputes": m["disputes"][0], "refund_rate": r1,
                     "dispute_rate": r2})
        rr.append(r1)
        dr.append(r2)
        sales.append(m["sales"][0])
    m = book.metrics(*window(zone, date), currency)
    ca = {k: {"count": v[0], "amount": v[1]} for k, v in m.items()}
    return {"currency": currency, "sales": ca["sales"],
            "refunds": ca["refunds"], "disputes": ca["disputes"],
            "refund_rate": rate(m["refunds"][0], m["sales"][0]),
            "dispute_rate": rate(m["disputes"][0], m["sales"][0]),
            "history": hist,
            "baseline": {"refund_rate": baseline(rr, sales, factors[0]),
                         "dispute_rate": baseline(dr, sales, factors[1])},
            "sca": {"applicable": 0, "without_shift": 0,
                    "amount_without_shift": 0}}


def programmes_expect(book, zone, date):
    """Every card programme in force in date's month (2026-04 onwards):
    no event here names a brand, so each counts every capture."""
    month = date[:7]
    first = month + "-01"
    prev = (datetime.date.fromisoformat(first) -
            datetime.timedelta(days=1)).isoformat()[:7] + "-01"
    mfrom = window(zone, first)[0]
    pfrom = window(zone, prev)[0]
    to = window(zone, date)[1]
    disputes = book.disputes(mfrom, to)
    txns = book.captures(mfrom, to)
    ptxns = book.captures(pfrom, mfrom)
    out = []
    for net, name, ratio, count, den, eff in (
            ("visa", "VAMP (merchant)", 0.015, 1500, txns, "2026-04-01"),
            ("mastercard", "ECM", 0.015, 100, ptxns, "2023-01-01"),
            ("mastercard", "HECM", 0.03, 300, ptxns, "2023-01-01")):
        out.append({"network": net, "programme": name, "month": month,
                    "currency": "all", "disputes": disputes,
                    "transactions": den, "ratio": rate(disputes, den),
                    "threshold_ratio": ratio, "threshold_count": count,
                    "status": "ok", "source": SOURCE, "effective": eff})
    return out


NO_EXCEPTIONS = {"open": 0, "by_reason": [], "oldest": None,
                 "payments": [], "oldest_age_days": None, "threshold": 0}
NO_PARKED = {"count": 0, "oldest": None, "oldest_age_days": None}


def tenant_expect(book, tenant, zone, date, currencies, flags,
                  settlement=None, exceptions=None):
    frm, to = window(zone, date)
    return {"tenant": tenant, "timezone": zone, "date": date,
            "day": {"from": iso(frm), "to": iso(to)},
            "currencies": [currency_expect(book, zone, date, c)
                           for c in currencies],
            "programmes": programmes_expect(book, zone, date),
            "exceptions": exceptions if exceptions is not None else
            NO_EXCEPTIONS, "parked": NO_PARKED,
            "flags": flags, "settlement": settlement}


def ledger_head(db):
    rows = hl.ledger_rows(db, ("seq", "hash"))
    return {"entries": len(rows), "head_seq": rows[-1][0],
            "head_hash": rows[-1][1].hex()}


def report_expect(db, date, scope, tenants):
    return {"report": "hookledger-reconcile/1", "date": date,
            "scope": scope, "ledger": ledger_head(db),
            "flagged": any(t["flags"] for t in tenants),
            "tenants": tenants}


def mask_sources(rep):
    """Each programme's source is prose kept with the thresholds in
    src/reconcile.c; it must be there, its wording is not asserted."""
    if not isinstance(rep, dict):
        return rep
    for t in rep.get("tenants") or []:
        for p in (t.get("programmes") or []) if isinstance(t, dict) else []:
            if isinstance(p, dict) and isinstance(p.get("source"), str) \
                    and p["source"].strip():
                p["source"] = SOURCE
    return rep


# ---------------------------------------------------------------- CLI

def reconcile(*args):
    """hookledger reconcile ARGS: (rc, stdout, stderr)."""
    return cli("reconcile", *args, timeout=30)


def reconcile_json(*args):
    """hookledger reconcile ARGS --json: (rc, parsed or None, stdout,
    stderr)."""
    rc, out, err = reconcile(*(list(args) + ["--json"]))
    try:
        return rc, json.loads(out), out, err
    except ValueError:
        return rc, None, out, err


def check_report(t, args, rc_want, want, desc):
    """Run reconcile --json with args; one line for the exit status and
    one for the whole report. Returns (parsed report, raw stdout)."""
    rc, got, out, err = reconcile_json(*args)
    t.ok(rc == rc_want, "%s: exit %d" % (desc, rc_want),
         ["exit %d" % rc, "stderr %r" % err[-600:], "stdout %r" %
          out[-600:]])
    eq_report(t, mask_sources(json.loads(out)) if got is not None else out,
              want, "%s: the report is exactly as expected" % desc)
    return got, out


def diff_report(got, want):
    """Where two reports differ, a few paths, for the diagnostics."""
    out = []

    def walk(g, w, path):
        if len(out) >= 8:
            return
        if isinstance(g, dict) and isinstance(w, dict):
            for k in list(w) + [k for k in g if k not in w]:
                walk(g.get(k, "(absent)"), w.get(k, "(absent)"),
                     path + "." + k)
        elif isinstance(g, list) and isinstance(w, list) and \
                len(g) == len(w):
            for i, (a, b) in enumerate(zip(g, w)):
                walk(a, b, "%s[%d]" % (path, i))
        elif g != w:
            out.append("%s: got %r, expected %r" % (path, g, w))
    walk(got, want, "")
    return out


def eq_report(t, got, want, desc):
    return t.ok(got == want, desc, diff_report(got, want))


# ---------------------------------------------------------------- setup

def configure(run, top=(), tenants=()):
    """Add top-level lines (after database) and [tenant NAME] sections to
    the config Run wrote, before the daemon starts."""
    with open(run.config) as f:
        lines = f.read().splitlines()
    i = next(k for k, l in enumerate(lines) if l.startswith("database"))
    lines[i + 1:i + 1] = list(top)
    for name, settings in tenants:
        lines += ["", "[tenant %s]" % name]
        lines += ["%s = %s" % kv for kv in settings]
    with open(run.config, "w") as f:
        f.write("\n".join(lines) + "\n")


def alert_script(tmp):
    """A program that appends "ARGC ARGV1" to a log; (program, log)."""
    log = os.path.join(tmp, "alert.log")
    prog = os.path.join(tmp, "alert.sh")
    fd = os.open(prog, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o700)
    with os.fdopen(fd, "w") as f:
        f.write("#!/bin/sh\nprintf '%%s %%s\\n' \"$#\" \"$1\" >> '%s'\n" %
                log)
    os.chmod(prog, 0o700)
    return prog, log


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def deliver(t, s, book, events, first_seq, desc):
    """Send events (typ, evt, obj, created, book entry or None) in order;
    each that makes an entry is expected applied with the next seq. One
    TAP line. Returns the next seq."""
    seq = first_seq
    bad = []
    for typ, evt, obj, created, entry in events:
        r = s.stripe(typ, evt, obj, created)
        want = applied(evt, seq) if entry is not None else None
        if r.status != 200 or (want is not None and r.json != want):
            bad.append("%s: %r, expected 200 %r" % (evt, r, want))
        if entry is not None:
            book.add(*entry)
            seq += 1
    t.ok(not bad, "%s: %d deliveries answered 200, each applied in turn" %
         (desc, len(events)), bad[:5])
    return seq


def capture(ref, amount, when, cur="usd"):
    return ("payment_intent.succeeded", "evt_c_" + ref,
            pi_obj(ref, amount, cur, charge="ch" + ref[2:]), when,
            ("capture", ref, amount, cur.upper(), when))


def refund(re_id, ref, amount, when, cur="usd"):
    return ("refund.created", "evt_r_" + re_id,
            refund_obj(re_id, ref, "ch" + ref[2:], amount, "succeeded", cur),
            when, ("refund", ref, amount, cur.upper(), when))


def dispute(dp, ref, amount, when, cur="usd"):
    return ("charge.dispute.created", "evt_d_" + dp,
            dispute_obj(dp, ref, "ch" + ref[2:], amount, "needs_response",
                        cur), when,
            ("dispute_opened", ref, amount, cur.upper(), when))


def stripe_run(t, label, tmp, tenant="acme"):
    sec = hl.stripe_secret()
    run = Run(t, label, tmp, [hl.Endpoint("stripe", "stripe", [sec],
                                          tenant=tenant)])
    return run, Sender(run, stripe=("stripe", sec))


# ---------------------------------------------------------------- 1, 2

DAY = "2026-11-26"      # a Thursday; its 28 days start on 2026-10-29


def history_events():
    """Four weeks before DAY: 4 to 6 captures a day from 09:00, and on
    every other day one refund at 18:00 of that day's first capture."""
    ev = []
    for i in range(HISTORY_DAYS):
        d = add_days(DAY, i - HISTORY_DAYS)
        tag = d.replace("-", "")
        for k in range(4 + i % 3):
            ev.append(capture("pi_h%s_%d" % (tag, k), 1000 + 100 * k + i,
                              at(d, 9, 10 * k)))
        if i % 2 == 0:
            ev.append(refund("re_h%s" % tag, "pi_h%s_0" % tag, 300 + i,
                             at(d, 18)))
    return ev


def g_history(t, tmp):
    run, s = stripe_run(t, "history", tmp)
    prog, log = alert_script(tmp)
    configure(run, top=["alert_command = " + prog], tenants=[
        ("acme", [("timezone", "UTC"), ("refund_spike_factor", "3"),
                  ("refund_spike_min_count", "5"),
                  ("baseline_days", str(HISTORY_DAYS))])])
    out = os.path.join(tmp, "reports")
    book = Book()
    with run:
        seq = deliver(t, s, book, history_events(), 1,
                      "history: four weeks of captures and refunds")
        quiet = [capture("pi_q%d" % k, 2000 + k, at(DAY, 9) + 600 * k)
                 for k in range(4)]
        quiet.append(refund("re_q0", "pi_q0", 700, at(DAY, 18)))
        seq = deliver(t, s, book, quiet, seq,
                      "history: a quiet %s, 4 captures and 1 refund" % DAY)

        # 1. The quiet day.
        want = report_expect(run.db, DAY, "all", [tenant_expect(
            book, "acme", "UTC", DAY, ["USD"], [])])
        got, _ = check_report(t, ["--config", run.config, "--date", DAY],
                              0, want, "quiet day")
        cur = (got or {}).get("tenants", [{}])[0].get("currencies", [{}])[0]
        t.eq((got.get("flagged") if got else None,
              cur.get("sales"), cur.get("refunds"),
              len(cur.get("history", []))),
             (False, {"count": 4, "amount": 2000 + 2001 + 2002 + 2003},
              {"count": 1, "amount": 700}, 28),
             "quiet day: flagged false, sales 4 for 8006, refunds 1 for "
             "700, 28 days of history")
        t.eq(list(got) if got else None, REPORT_KEYS,
             "quiet day: the report's keys in the documented order")
        rb = cur.get("baseline", {}).get("refund_rate", {})
        t.eq((rb.get("days"), rb.get("all_weekdays"),
              round(rb.get("median", -1), 12),
              round(rb.get("threshold", -1), 6)),
             (4, False, round(1 / 12, 12), 0.453983),
             "quiet day: refund baseline from the 4 Thursdays: median "
             "1/12, threshold 1/12 + 3 x 1.4826 x MAD(1/12) = 0.453983")
        rc, o, e = reconcile("--config", run.config, "--date", DAY,
                             "--out", out)
        t.ok(rc == 0 and read(log) is None and
             os.path.exists(os.path.join(out, "reconcile-%s-all.html" %
                                         DAY)),
             "quiet day: with --out, exit 0, the reports written and no "
             "alert run", ["exit %d, alert log %r, stderr %r" %
                           (rc, read(log), e)])
        t.eq(o.encode(), read(os.path.join(out, "reconcile-%s-all.txt" %
                                           DAY)),
             "quiet day: standard output is the .txt report")
        shutil.rmtree(out)

        # 2. A refund spike on the same day: 10 captures, 6 refunds.
        spike = [capture("pi_q%d" % k, 2000 + k, at(DAY, 9) + 600 * k)
                 for k in range(4, 10)]
        spike += [refund("re_q%d" % k, "pi_q%d" % k, 700 + k,
                         at(DAY, 19, k)) for k in range(1, 6)]
        deliver(t, s, book, spike, seq,
                "spike: 6 more captures and 5 more refunds on %s" % DAY)
        ten = tenant_expect(book, "acme", "UTC", DAY, ["USD"], [])
        base = ten["currencies"][0]["baseline"]["refund_rate"]
        ten["flags"] = [{
            "kind": "refund_spike", "currency": "USD",
            "message": "6 refunds, rate 60.00%% against a baseline of "
                       "%.2f%% (threshold %.2f%%)" %
                       (100 * base["median"], 100 * base["threshold"])}]
        want = report_expect(run.db, DAY, "all", [ten])
        got, out1 = check_report(t, ["--config", run.config, "--date", DAY,
                                     "--out", out], 3, want, "spike")
        cur = (got or {}).get("tenants", [{}])[0].get("currencies", [{}])[0]
        t.eq((got.get("flagged") if got else None,
              [f.get("kind") for f in got["tenants"][0]["flags"]]
              if got else None, cur.get("refunds"), cur.get("refund_rate")),
             (True, ["refund_spike"],
              {"count": 6, "amount": 700 + sum(700 + k for k in
                                               range(1, 6))}, 0.6),
             "spike: flagged, one refund_spike flag, 6 refunds, rate 0.6")
        names = ["reconcile-%s-all.%s" % (DAY, x)
                 for x in ("json", "txt", "html")]
        html = os.path.join(out, names[2])
        t.eq(sorted(os.listdir(out)) if os.path.isdir(out) else None,
             sorted(names), "spike: --out holds exactly the three reports")
        t.eq(read(log), ("1 %s\n" % html).encode(),
             "spike: alert_command ran once, with the .html path as its "
             "only argument")
        t.eq(read(os.path.join(out, names[0])), out1.encode(),
             "spike: the .json file is byte for byte the --json output")
        first = [read(os.path.join(out, n)) for n in names]
        h = (first[2] or b"").decode("utf-8", "replace")
        t.ok(h.startswith("<!doctype html>") and
             h.rstrip().endswith("</html>") and "refund_spike" in h and
             "<script" not in h.lower() and "http://" not in h and
             "https://" not in h,
             "spike: the .html is a page naming refund_spike, with no "
             "script and no remote resource")
        if os.environ.get("HL_RECONCILE_HTML") and first[2]:
            shutil.copyfile(html, os.environ["HL_RECONCILE_HTML"])
        rc, o, e = reconcile("--config", run.config, "--date", DAY,
                             "--out", out)
        again = [read(os.path.join(out, n)) for n in names]
        t.ok(rc == 3 and again == first and None not in first,
             "spike: re-running the date exits 3 and rewrites the three "
             "files byte for byte", ["exit %d stderr %r" % (rc, e)] +
             ["%s differs" % n for n, a, b in zip(names, first, again)
              if a != b])
        t.eq(o.encode(), again[1],
             "spike: standard output without --json is the .txt report")
        t.eq(read(log), ("1 %s\n" % html).encode() * 2,
             "spike: the re-run alerted again, once")
        rc, o, e = reconcile("--config", run.config, "--date", DAY)
        t.ok(rc == 4 and read(log) == ("1 %s\n" % html).encode() * 2 and
             "--out" in e,
             "spike: without --out there is no report to pass: exit 4 (the "
             "alert was not delivered), a line on stderr saying so",
             ["exit %d stderr %r" % (rc, e)])
        rc, o, e = reconcile("--db", run.db, "--date", DAY, "--out", out)
        t.ok(rc == 3 and read(log) == ("1 %s\n" % html).encode() * 2,
             "spike: with --db (no config, no alert_command) exit 3 and no "
             "alert", ["exit %d stderr %r" % (rc, e)])
    check_verify(t, run.db, len(book.entries), "history")


# ---------------------------------------------------------------- 3

PDAY = "2026-11-18"


def g_patterns(t, tmp):
    run, s = stripe_run(t, "patterns", tmp)
    configure(run, tenants=[("acme", [("timezone", "UTC")])])
    book = Book()
    y, yy = add_days(PDAY, -1), add_days(PDAY, -2)
    ev = [
        capture("pi_p3", 900, at(yy, 9)),
        refund("re_p3a", "pi_p3", 100, at(yy, 15)),
        capture("pi_p2", 5000, at(y, 8)),
        refund("re_p3b", "pi_p3", 100, at(y, 15)),
        refund("re_p2", "pi_p2", 1000, at(y, 20)),
        capture("pi_p4", 4000, at(PDAY, 9)),
        capture("pi_p5", 4500, at(PDAY, 9, 30)),
        capture("pi_p1", 3000, at(PDAY, 10)),
        refund("re_p1", "pi_p1", 1000, at(PDAY, 10, 10)),
        refund("re_p4", "pi_p4", 400, at(PDAY, 10, 1)),
        refund("re_p5", "pi_p5", 450, at(PDAY, 10, 30)),
        dispute("dp_p2", "pi_p2", 2000, at(PDAY, 14)),
        refund("re_p3c", "pi_p3", 100, at(PDAY, 15)),
    ]
    with run:
        deliver(t, s, book, ev, 1, "patterns: captures, refunds and a "
                "dispute over three days")
    flags = [
        {"kind": "refund_soon_after_capture", "payment": "pi_p1",
         "message": "refunded 10 minutes after its capture"},
        {"kind": "refund_soon_after_capture", "payment": "pi_p5",
         "message": "refunded 60 minutes after its capture"},
        {"kind": "repeated_partial_refunds", "payment": "pi_p3",
         "message": "3 separate refunds on one payment"},
        {"kind": "dispute_after_refund", "payment": "pi_p2",
         "message": "disputed after 1000 (minor units) had been "
                    "refunded: the money may be recovered twice"},
    ]
    want = report_expect(run.db, PDAY, "all", [tenant_expect(
        book, "acme", "UTC", PDAY, ["USD"], flags)])
    got, _ = check_report(t, ["--config", run.config, "--date", PDAY], 3,
                          want, "patterns")
    kinds = [(f.get("kind"), f.get("payment")) for f in
             got["tenants"][0]["flags"]] if got else None
    t.eq(kinds, [("refund_soon_after_capture", "pi_p1"),
                 ("refund_soon_after_capture", "pi_p5"),
                 ("repeated_partial_refunds", "pi_p3"),
                 ("dispute_after_refund", "pi_p2")],
         "patterns: refunds 10 and 60 minutes after capture flagged, 61 "
         "minutes not; three partial refunds; a dispute on a refunded "
         "payment")
    # The day before: pi_p2 refunded, not yet disputed; nothing flagged.
    want = report_expect(run.db, y, "all", [tenant_expect(
        book, "acme", "UTC", y, ["USD"], [])])
    check_report(t, ["--config", run.config, "--date", y], 0, want,
                 "patterns: the day before")
    check_verify(t, run.db, len(book.entries), "patterns")


# ---------------------------------------------------------------- 4

BDAY = "2026-10-25"     # clocks go back in Berlin: 25 hours


def g_berlin(t, tmp):
    run, s = stripe_run(t, "berlin", tmp, tenant="eu")
    configure(run, tenants=[("eu", [("timezone", "Europe/Berlin")])])
    book = Book()
    ev = [capture("pi_b0", 100, utc("2026-10-24T21:59:59Z"), "eur"),
          capture("pi_b1", 200, utc("2026-10-24T22:00:00Z"), "eur"),
          capture("pi_b2", 300, utc("2026-10-25T22:30:00Z"), "eur"),
          capture("pi_b3", 400, utc("2026-10-25T23:00:00Z"), "eur")]
    with run:
        deliver(t, s, book, ev, 1, "berlin: four captures around the "
                "edges of 25 October")
    t.eq(window("Europe/Berlin", BDAY),
         (utc("2026-10-24T22:00:00Z"), utc("2026-10-25T23:00:00Z")),
         "berlin: the reference window itself is 25 hours")
    want = report_expect(run.db, BDAY, "all", [tenant_expect(
        book, "eu", "Europe/Berlin", BDAY, ["EUR"], [])])
    got, _ = check_report(t, ["--config", run.config, "--date", BDAY], 0,
                          want, "berlin")
    ten = got["tenants"][0] if got else {}
    cur = (ten.get("currencies") or [{}])[0]
    t.eq((ten.get("day"), cur.get("sales"),
          (cur.get("history") or [{}])[-1]),
         ({"from": "2026-10-24T22:00:00Z", "to": "2026-10-25T23:00:00Z"},
          {"count": 2, "amount": 500},
          {"date": "2026-10-24", "sales": 1, "refunds": 0, "disputes": 0,
           "refund_rate": 0.0, "dispute_rate": 0.0}),
         "berlin: 22:00:00Z on the 24th and 22:30Z on the 25th count on "
         "the 25th; 21:59:59Z counts on the 24th, 23:00Z on the 26th")

    # The same ledger with --db: no config, so the tenant's day is UTC's.
    want = report_expect(run.db, BDAY, "all", [tenant_expect(
        book, "eu", "UTC", BDAY, ["EUR"], [])])
    got, _ = check_report(t, ["--db", run.db, "--date", BDAY], 0, want,
                          "berlin: with --db, the default zone UTC")
    t.eq(got["tenants"][0]["currencies"][0]["sales"] if got else None,
         {"count": 2, "amount": 700},
         "berlin: in UTC the 25th holds 22:30Z and 23:00Z")

    # Spring forward: 23 hours.
    rc, got, out, err = reconcile_json("--config", run.config, "--date",
                                       "2026-03-29")
    t.eq((rc, got["tenants"][0]["day"] if got else out),
         (0, {"from": "2026-03-28T23:00:00Z",
              "to": "2026-03-29T22:00:00Z"}),
         "berlin: 29 March 2026 runs 23 hours, 23:00Z to 22:00Z")

    # Without --date: yesterday in the tenant's zone.
    z = zoneinfo.ZoneInfo("Europe/Berlin")
    before = (datetime.datetime.now(z).date() -
              datetime.timedelta(days=1)).isoformat()
    rc, got, out, err = reconcile_json("--config", run.config)
    after = (datetime.datetime.now(z).date() -
             datetime.timedelta(days=1)).isoformat()
    d = (got.get("date"), got["tenants"][0].get("date")) if got else out
    t.ok(rc == 0 and d in ((before, before), (after, after)),
         "berlin: without --date the report is for yesterday in "
         "Europe/Berlin (%s)" % before,
         ["exit %d, dates %r, stderr %r" % (rc, d, err)])
    check_verify(t, run.db, len(book.entries), "berlin")


# ---------------------------------------------------------------- 5

SDAY = "2026-11-10"
CSV_HEADER = ("balance_transaction_id,created_utc,currency,gross,fee,net,"
              "reporting_category,source_id,payment_intent_id,charge_id")


def write_csv(tmp, name, rows):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write("\n".join([CSV_HEADER] + rows) + "\n")
    return path


def g_settlement(t, tmp):
    run, s = stripe_run(t, "settlement", tmp)
    configure(run, tenants=[("acme", [("timezone", "UTC")])])
    book = Book()
    ev = [capture("pi_s1", 2000, at(SDAY, 10)),
          capture("pi_s2", 1500, at(SDAY, 11)),
          refund("re_s1", "pi_s1", 500, at(SDAY, 15))]
    with run:
        deliver(t, s, book, ev, 1, "settlement: two captures and a refund")
    known = [
        "txn_s1,%s 10:00:05,usd,20.00,0.88,19.12,charge,ch_s1,pi_s1,ch_s1" %
        SDAY,
        "txn_s2,%s 11:00:05,usd,15.00,0.74,14.26,charge,ch_s2,pi_s2,ch_s2" %
        SDAY,
        "txn_s3,%s 15:00:05,usd,-5.00,0.00,-5.00,refund,re_s1,pi_s1,ch_s1" %
        SDAY,
    ]
    lost = write_csv(tmp, "lost.csv", known[:1] + [
        "txn_lost,%s 12:00:00,usd,30.00,1.17,28.83,charge,ch_lost,pi_lost,"
        "ch_lost" % SDAY] + known[1:])
    clean = write_csv(tmp, "clean.csv", known + [
        "txn_tr,%s 16:00:00,usd,-10.00,0.00,-10.00,transfer,tr_1,," % SDAY])

    settle = {
        "file": "lost.csv", "format": "stripe_balance_transactions",
        "lines": 4,
        "missing_from_ledger": [{
            "line": 3, "balance_transaction": "txn_lost",
            "category": "charge", "source": "ch_lost", "payment": "pi_lost",
            "currency": "USD", "gross": 3000}],
        "missing_from_settlement": [], "mismatches": [],
        "fee_differences": [],
        "fees_not_in_ledger": [{"currency": "USD", "amount": 88 + 74,
                                "lines": 2}],
        "payouts": [], "ignored": [], "clean": False}
    flags = [{"kind": "settlement", "file": "lost.csv",
              "message": "the settlement file disagrees with the ledger"}]
    want = report_expect(run.db, SDAY, "acme", [tenant_expect(
        book, "acme", "UTC", SDAY, ["USD"], flags, settle)])
    out = os.path.join(tmp, "reports")
    got, _ = check_report(t, ["--config", run.config, "--date", SDAY,
                              "--tenant", "acme", "--settlement", lost,
                              "--out", out], 3, want,
                          "settlement: a charge the ledger never saw")
    st = got["tenants"][0]["settlement"] if got else None
    t.eq(list(st) if isinstance(st, dict) else st, SETTLEMENT_KEYS,
         "settlement: its keys in the documented order")
    t.eq(sorted(os.listdir(out)) if os.path.isdir(out) else None,
         ["reconcile-%s-acme.%s" % (SDAY, x) for x in ("html", "json",
                                                       "txt")],
         "settlement: with --tenant the reports are named after it")

    settle = dict(settle, file="clean.csv", lines=4,
                  missing_from_ledger=[], clean=True,
                  ignored=[{"category": "transfer", "lines": 1}])
    want = report_expect(run.db, SDAY, "acme", [tenant_expect(
        book, "acme", "UTC", SDAY, ["USD"], [], settle)])
    check_report(t, ["--config", run.config, "--date", SDAY, "--tenant",
                     "acme", "--settlement", clean], 0, want,
                 "settlement: a file that agrees")

    # The refund left out of the file: the ledger's movement is missing.
    partial = write_csv(tmp, "partial.csv", known[:2])
    rc, got, out_, err = reconcile_json(
        "--db", run.db, "--date", SDAY, "--tenant", "acme",
        "--settlement", partial)
    st = got["tenants"][0]["settlement"] if got else None
    t.eq((rc, st.get("missing_from_settlement") if st else out_,
          st.get("clean") if st else None),
         (3, [{"seq": 3, "event_id": "evt_r_re_s1", "kind": "refund",
               "payment": "pi_s1", "currency": "USD", "amount": 500}],
          False),
         "settlement: a refund the file does not show is "
         "missing_from_settlement, exit 3")

    rc, o, e = reconcile("--config", run.config, "--date", SDAY,
                         "--settlement", clean)
    t.ok(rc == 2 and o == "" and "--tenant" in e,
         "settlement: --settlement without --tenant -> exit 2, nothing on "
         "stdout", ["exit %d stdout %r stderr %r" % (rc, o, e)])
    bad = write_csv(tmp, "bad.csv", [known[0], "txn_x,%s 10:00:00,usd,"
                                     "1.234,0,1.234,charge,ch_x,pi_x,ch_x" %
                                     SDAY])
    rc, o, e = reconcile("--db", run.db, "--date", SDAY, "--tenant",
                         "acme", "--settlement", bad)
    t.ok(rc == 2 and o == "" and "bad.csv:3" in e,
         "settlement: an amount with too many decimals -> exit 2 naming "
         "bad.csv line 3", ["exit %d stdout %r stderr %r" % (rc, o, e)])
    check_verify(t, run.db, len(book.entries), "settlement")


# ---------------------------------------------------------------- 6

def g_tamper(t, tmp):
    run, s = stripe_run(t, "tamper", tmp)
    book = Book()
    ev = [capture("pi_t%d" % k, 1000 * k, at(SDAY, 9 + k))
          for k in range(1, 5)]
    with run:
        deliver(t, s, book, ev, 1, "tamper: four captures")
    rc, got, o, e = reconcile_json("--db", run.db, "--date", SDAY)
    t.ok(rc == 0 and got is not None,
         "tamper: the untouched ledger reconciles, exit 0",
         ["exit %d stderr %r" % (rc, e)])

    copy = os.path.join(tmp, "tampered.db")
    hl.backup_copy(run.db, copy)
    c = sqlite3.connect(copy)
    for trg in ("ledger_no_update", "ledger_no_delete",
                "receipts_no_update", "receipts_no_delete"):
        c.execute("DROP TRIGGER %s" % trg)
    c.execute("UPDATE ledger SET amount = amount + 1 WHERE seq = 3")
    c.commit()
    c.close()
    out = os.path.join(tmp, "reports")
    rc, o, e = reconcile("--db", copy, "--date", SDAY, "--out", out,
                         "--json")
    m = re.search(r"entry (\d+):", o)
    t.ok(rc == 1 and m is not None and m.group(1) == "3" and
         o.startswith("TAMPERED: ") and
         o.endswith("not reconciled: the ledger failed verification\n"),
         "tamper: an edited amount -> exit 1, stdout names entry 3 and "
         "says it was not reconciled", ["exit %d stdout %r stderr %r" %
                                        (rc, o, e)])
    t.ok(not os.path.exists(out),
         "tamper: no report written (the --out directory not even made)",
         [repr(os.listdir(out)) if os.path.isdir(out) else "exists"])

    copy2 = os.path.join(tmp, "triggers.db")
    hl.backup_copy(run.db, copy2)
    c = sqlite3.connect(copy2)
    c.execute("DROP TRIGGER ledger_no_update")
    c.commit()
    c.close()
    rc, o, e = reconcile("--db", copy2, "--date", SDAY, "--out", out)
    t.ok(rc == 1 and "TAMPERED" in o and not os.path.exists(out),
         "tamper: a dropped trigger alone -> exit 1, no report",
         ["exit %d stdout %r stderr %r" % (rc, o, e)])

    # Usage and I/O errors.
    for date in ("2026-02-30", "2026-2-3", "2026-13-01", "20261101",
                 "2026-11-10x"):
        rc, o, e = reconcile("--db", run.db, "--date", date)
        t.ok(rc == 2 and o == "" and "--date" in e,
             "usage: --date %s -> exit 2, nothing on stdout" % date,
             ["exit %d stdout %r stderr %r" % (rc, o, e)])
    absent = os.path.join(tmp, "absent.db")
    rc, o, e = reconcile("--db", absent, "--date", SDAY)
    t.ok(rc == 2 and o == "" and not os.path.exists(absent),
         "usage: a missing database -> exit 2, and it is not created",
         ["exit %d stdout %r stderr %r" % (rc, o, e)])
    rc, o, e = reconcile("--config", os.path.join(tmp, "absent.conf"),
                         "--date", SDAY)
    t.ok(rc == 2 and o == "", "usage: a missing config -> exit 2",
         ["exit %d stdout %r stderr %r" % (rc, o, e)])
    for args, what in ((["--date", SDAY], "neither --db nor --config"),
                       (["--db", run.db, "--tenant", "a b"],
                        "a malformed --tenant"),
                       (["--db", run.db, "stray"], "a stray argument")):
        rc, o, e = reconcile(*args)
        t.ok(rc == 2 and o == "", "usage: %s -> exit 2" % what,
             ["exit %d stdout %r stderr %r" % (rc, o, e)])
    blocker = os.path.join(tmp, "file")
    with open(blocker, "w") as f:
        f.write("x")
    rc, o, e = reconcile("--db", run.db, "--date", SDAY, "--out",
                         os.path.join(blocker, "sub"))
    t.ok(rc == 2, "usage: an --out directory that cannot be made -> exit 2",
         ["exit %d stderr %r" % (rc, e)])


# ---------------------------------------------------------------- 7

ADAY = "2026-11-12"
ALERT_BOUND = 10        # seconds: far above the 1 s alert_timeout


def alt_config(run, name, top):
    """A copy of run's config, in the same folder, with top-level lines
    added after database; its path."""
    with open(run.config) as f:
        lines = f.read().splitlines()
    i = next(k for k, l in enumerate(lines) if l.startswith("database"))
    lines[i + 1:i + 1] = list(top)
    path = os.path.join(os.path.dirname(run.config), name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def program(tmp, name, body):
    """An executable /bin/sh script tmp/name; its path."""
    path = os.path.join(tmp, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o700)
    with os.fdopen(fd, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, 0o700)
    return path


def g_alert(t, tmp):
    """An alert that is not delivered fails the run with exit 4, which
    the systemd unit does not count as success; one that is delivered
    gets the report's paths and a summary."""
    run, s = stripe_run(t, "alert", tmp)
    configure(run, tenants=[("acme", [("timezone", "UTC")])])
    book = Book()
    with run:
        deliver(t, s, book, [capture("pi_a1", 3000, at(ADAY, 10)),
                             refund("re_a1", "pi_a1", 1000, at(ADAY, 10, 5))],
                1, "alert: a refund 5 minutes after its capture")
    out = os.path.join(tmp, "reports")
    html = os.path.join(out, "reconcile-%s-all.html" % ADAY)
    base = html[:-len(".html")]
    summary = ("hookledger reconciliation for %s: 1 flag (acme: "
               "refund_soon_after_capture)" % ADAY)

    # Delivered: exit 3, as before; the program gets the report.
    log = os.path.join(tmp, "ok.log")
    ok = program(tmp, "ok.sh", (
        "{ printf '%%s|%%s|%%s|%%s|%%s|%%s|%%s\\n' \"$#\" \"$1\" "
        "\"$HOOKLEDGER_REPORT_TEXT\" \"$HOOKLEDGER_REPORT_JSON\" "
        "\"$HOOKLEDGER_DATE\" \"$HOOKLEDGER_SCOPE\" "
        "\"$HOOKLEDGER_SUMMARY\"; cat; } >> '%s'\n") % log)
    cfg = alt_config(run, "ok.conf", ["alert_command = " + ok])
    rc, o, e = reconcile("--config", cfg, "--date", ADAY, "--out", out)
    t.eq((rc, e), (3, ""), "alert: delivered -> exit 3, nothing on stderr")
    t.eq(read(log), ("1|%s|%s.txt|%s.json|%s|all|%s\n" %
                     (html, base, base, ADAY, summary)).encode(),
         "alert: the program ran once with the .html path as its only "
         "argument, the .txt and .json paths, date, scope and summary in "
         "its environment, and nothing on its standard input")
    t.eq(read(base + ".txt"), o.encode(),
         "alert: HOOKLEDGER_REPORT_TEXT is the text report printed")

    # Started with SIGCHLD ignored (as some supervisors leave it): the
    # program's exit status is still seen.
    try:
        p = subprocess.run([hl.HOOKLEDGER, "reconcile", "--config", cfg,
                            "--date", ADAY, "--out", out],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=ALERT_BOUND, preexec_fn=lambda:
                           signal.signal(signal.SIGCHLD, signal.SIG_IGN))
        got = (p.returncode, p.stderr, read(log).count(b"\n"))
    except subprocess.TimeoutExpired:
        got = "still running after %d s" % ALERT_BOUND
    t.eq(got, (3, b"", 2), "alert: with SIGCHLD ignored by whoever "
         "started the run, a delivered alert is still exit 3, at once")

    # Exits 7: not delivered, exit 4, one line.
    seven = program(tmp, "seven.sh", "exit 7\n")
    cfg = alt_config(run, "seven.conf", ["alert_command = " + seven])
    rc, o, e = reconcile("--config", cfg, "--date", ADAY, "--out", out)
    t.eq((rc, e), (4, "hookledger: alert not delivered: %s exited with "
                      "status 7\n" % seven),
         "alert: a program that exits 7 -> exit 4 and one line saying so")
    t.eq(read(base + ".txt"), o.encode(),
         "alert: exits 7: the reports are written and printed all the same")

    # Hangs, and leaves a child behind: killed at alert_timeout, exit 4.
    pidf = os.path.join(tmp, "hang.pid")
    hang = program(tmp, "hang.sh", "echo $$ > '%s'\nsleep 300\nexit 0\n"
                   % pidf)
    cfg = alt_config(run, "hang.conf", ["alert_command = " + hang,
                                        "alert_timeout = 1"])
    t0 = time.monotonic()
    rc, o, e = reconcile("--config", cfg, "--date", ADAY, "--out", out)
    took = time.monotonic() - t0
    t.eq((rc, e), (4, "hookledger: alert not delivered: %s did not finish "
                      "within 1 s and was killed\n" % hang),
         "alert: a program that hangs -> exit 4 and one line saying so")
    t.ok(1.0 <= took < ALERT_BOUND,
         "alert: the hang is cut at alert_timeout (1 s), and its sleeping "
         "child does not hold the run's output open (took %.1f s)" % took)

    # Cannot start; killed by a signal.
    absent = os.path.join(tmp, "absent.sh")
    cfg = alt_config(run, "absent.conf", ["alert_command = " + absent])
    rc, o, e = reconcile("--config", cfg, "--date", ADAY, "--out", out)
    t.eq((rc, e), (4, "hookledger: alert not delivered: cannot run %s: No "
                      "such file or directory\n" % absent),
         "alert: a program that does not exist -> exit 4")
    term = program(tmp, "term.sh", "kill -TERM $$\nexit 0\n")
    cfg = alt_config(run, "term.conf", ["alert_command = " + term])
    rc, o, e = reconcile("--config", cfg, "--date", ADAY, "--out", out)
    t.eq((rc, e), (4, "hookledger: alert not delivered: %s was killed by "
                      "signal 15 (Terminated)\n" % term),
         "alert: a program killed by SIGTERM -> exit 4")

    # No --out: there is no report to pass, so no alert went out.
    cfg = alt_config(run, "ok2.conf", ["alert_command = " + ok])
    rc, o, e = reconcile("--config", cfg, "--date", ADAY)
    t.eq((rc, e), (4, "hookledger: alert not delivered: alert_command needs "
                      "--out DIR, for a report to pass to %s\n" % ok),
         "alert: without --out -> exit 4, the program not run")
    t.eq(read(log).count(b"\n"), 2, "alert: ok.sh was not run again")

    # A clean day runs no alert at all.
    rc, o, e = reconcile("--config", cfg, "--date", add_days(ADAY, -1),
                         "--out", out)
    t.eq((rc, e, read(log).count(b"\n")), (0, "", 2),
         "alert: a clean day -> exit 0 and no alert")

    # The shipped unit: 3 is a success for systemd, 4 is not.
    unit = os.path.join(os.environ.get("HL_TOP_SRCDIR", "."), "etc",
                        "hookledger-reconcile.service")
    with open(unit) as f:
        ok_codes = [w for line in f if line.startswith("SuccessExitStatus=")
                    for w in line.split("=", 1)[1].split()]
    t.eq(ok_codes, ["3"], "alert: the unit's SuccessExitStatus is 3 alone, "
         "so an undelivered alert (4) fails the unit")


# ---------------------------------------------------------------- 8

def g_tenant(t, tmp):
    """--tenant must name a tenant of the config or of the ledger."""
    run, s = stripe_run(t, "tenant", tmp)
    configure(run, tenants=[("quiet", [("timezone", "UTC")])])
    book = Book()
    with run:
        deliver(t, s, book, [capture("pi_n1", 1000, at(SDAY, 9))], 1,
                "tenant: one capture for acme")
    for args, what, line in (
            (["--config", run.config], "with --config",
             "hookledger reconcile: tenant nosuch is not in %s: no "
             "[endpoint] or [tenant] section names it\n" % run.config),
            (["--db", run.db], "with --db",
             "hookledger: --tenant nosuch: no such tenant (not in the "
             "config, nothing in the ledger)\n")):
        rc, o, e = reconcile(*(args + ["--date", SDAY, "--tenant",
                                       "nosuch"]))
        t.eq((rc, o, e), (2, "", line),
             "tenant: %s, --tenant nosuch -> exit 2, one line naming it" %
             what)
    for args, name, what in (
            (["--config", run.config], "acme", "an endpoint's tenant"),
            (["--config", run.config], "quiet", "a [tenant] section alone"),
            (["--db", run.db], "acme", "in the ledger, without a config")):
        rc, got, o, e = reconcile_json(*(args + ["--date", SDAY, "--tenant",
                                                 name]))
        t.eq((rc, got.get("scope") if got else o, e), (0, name, ""),
             "tenant: %s (%s) -> a report, exit 0" % (name, what))
    rc, o, e = reconcile("--db", run.db, "--date", SDAY, "--tenant",
                         "quiet")
    t.eq((rc, e.startswith("hookledger: --tenant quiet: no such tenant")),
         (2, True), "tenant: quiet without its config -> exit 2")


# ---------------------------------------------------------------- 9

def g_exceptions(t, tmp):
    """Open exceptions make the report not clean: 50.00 USD of an
    amount_mismatch in suspense and a refund above the captured amount."""
    run, s = stripe_run(t, "exceptions", tmp)
    configure(run, tenants=[("acme", [("timezone", "UTC")])])
    book = Book()
    base = hl.now() - 3 * 3600
    with run:
        rc, o, e = cli("expect", "--db", run.db, "--tenant", "acme",
                       "--payment", "pi_x1", "--amount", "6000",
                       "--currency", "USD")
        t.eq((rc, e), (0, ""), "exceptions: pi_x1 expected at 60.00 USD")
        sent = [
            (capture("pi_x1", 5000, base), with_verdict(
                applied("evt_c_pi_x1", 1), "amount_mismatch")),
            (capture("pi_x2", 1000, base + 60), applied("evt_c_pi_x2", 2)),
            (refund("re_x2a", "pi_x2", 600, base + 7200),
             applied("evt_r_re_x2a", 3)),
            (refund("re_x2b", "pi_x2", 600, base + 7260),
             exception("evt_r_re_x2b", "exceeds_captured_amount")),
        ]
        bad = []
        for (typ, evt, obj, created, entry), want in sent:
            r = s.stripe(typ, evt, obj, created)
            if r.status != 200 or r.json != want:
                bad.append("%s: %r, expected 200 %r" % (evt, r, want))
            if want["result"] == "applied":
                book.add(*entry)
        t.ok(not bad, "exceptions: a capture 10.00 USD short (suspense), a "
             "capture, its refund, and a refund above what is left",
             bad)
    rc, got, _ = exceptions(run.db)
    t.eq((rc, got), (0, [
        exc("evt_c_pi_x1", "pi_x1", "amount_mismatch", True),
        exc("evt_r_re_x2b", "pi_x2", "exceeds_captured_amount", False)]),
        "exceptions: hookledger exceptions lists the two")

    c = sqlite3.connect("file:%s?mode=ro" % run.db, uri=True)
    stamps = [r[0] for r in c.execute(
        "SELECT recorded_at FROM exceptions ORDER BY id")]
    c.close()
    date = time.strftime("%Y-%m-%d", time.gmtime(max(stamps)))
    end = window("UTC", date)[1]
    age = (end - min(stamps)) // 86400
    section = {"open": 2, "by_reason": [
        {"currency": "USD", "reason": "amount_mismatch", "count": 1,
         "amount": 5000},
        {"currency": "USD", "reason": "exceeds_captured_amount",
         "count": 1, "amount": 600}],
        "oldest": iso(min(stamps)), "payments": ["pi_x1", "pi_x2"],
        "oldest_age_days": age, "threshold": 0}
    flags = [{"kind": "open_exceptions", "message":
              "2 open exceptions, more than the threshold of 0; the "
              "oldest, recorded %s, is %d day%s old" %
              (iso(min(stamps)), age, "" if age == 1 else "s")}]
    want = report_expect(run.db, date, "all", [tenant_expect(
        book, "acme", "UTC", date, ["USD"], flags, exceptions=section)])
    check_report(t, ["--config", run.config, "--date", date], 3, want,
                 "exceptions: two open on %s" % date)

    out = os.path.join(tmp, "reports")
    rc, o, e = reconcile("--config", run.config, "--date", date, "--out",
                         out)
    t.eq((rc, e), (3, ""), "exceptions: the text report exits 3")
    lines = o.splitlines()
    want_lines = [
        "hookledger reconciliation for %s: 1 flag" % date,
        "  ! open_exceptions: " + flags[0]["message"],
        "  open exceptions: 2 (threshold 0), the oldest recorded %s, %d "
        "day%s old" % (iso(min(stamps)), age, "" if age == 1 else "s"),
        "    amount_mismatch: 1, 50.00 USD",
        "    exceeds_captured_amount: 1, 6.00 USD",
        "    first payments: pi_x1, pi_x2"]
    t.ok(all(w in lines for w in want_lines),
         "exceptions: the text report says 1 flag and lists them with "
         "their amounts", ["missing %r" % w for w in want_lines
                           if w not in lines] + ["stdout %r" % o])
    h = (read(os.path.join(out, "reconcile-%s-all.html" % date)) or
         b"").decode()
    t.ok("<h3>Open exceptions</h3>\n<p>2 open (threshold 0)" in h and
         "<td>USD</td><td>amount_mismatch</td><td class=\"n\">1</td>"
         "<td class=\"n\">50.00</td>" in h and
         "<p>First payments: <code>pi_x1</code>, <code>pi_x2</code></p>"
         in h, "exceptions: the page has the section, its table and the "
         "payments")

    # The day before they were recorded: none open, clean.
    prev = add_days(date, -1)
    rc, got, o, e = reconcile_json("--config", run.config, "--date", prev)
    ten = got["tenants"][0] if got else {}
    n = len([x for x in stamps if x < window("UTC", prev)[1]])
    t.eq((rc, (ten.get("exceptions") or {}).get("open")),
         (3 if n else 0, n),
         "exceptions: the report of the day before counts only the %d "
         "recorded by its end" % n)

    # At the tenant's threshold: reported, not a finding.
    cfg = os.path.join(os.path.dirname(run.config), "lenient.conf")
    with open(run.config) as f:
        text = f.read()
    with open(cfg, "w") as f:
        f.write(text.replace("[tenant acme]\n",
                             "[tenant acme]\nexceptions_threshold = 2\n"))
    rc, got, o, e = reconcile_json("--config", cfg, "--date", date)
    ten = got["tenants"][0] if got else {}
    t.eq((rc, ten.get("exceptions"), ten.get("flags")),
         (0, dict(section, threshold=2), []),
         "exceptions: exceptions_threshold = 2 -> reported, clean, exit 0")
    check_verify(t, run.db, len(book.entries), "exceptions")


# ---------------------------------------------------------------- main

GROUPS = [
    ("history", g_history),
    ("patterns", g_patterns),
    ("berlin", g_berlin),
    ("settlement", g_settlement),
    ("tamper", g_tamper),
    ("alert", g_alert),
    ("tenant", g_tenant),
    ("exceptions", g_exceptions),
]


def main():
    return run_groups(GROUPS, "hl-reconcile-", "a secret or a signature", show=hl.HOOKLEDGER)


if __name__ == "__main__":
    sys.exit(main())
