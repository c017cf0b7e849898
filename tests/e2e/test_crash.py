#!/usr/bin/env python3
"""
kill -9 under load, speaking TAP: nothing acknowledged is ever lost.

Client threads send real signed Stripe and Standard Webhooks captures (each
its own payment, with unique ids, and some deliberate redeliveries) to a
real hookledgerd while the main thread kills it with SIGKILL at random
moments and restarts it on the same database, many times. Every 2xx is
recorded. Afterwards every acknowledged event is in the ledger exactly
once, at the seq its answer named; nothing is there twice; `hookledger
verify` exits 0; balances are exactly what the recorded events imply.
Then everything ever sent is redelivered, and each event is in the ledger
exactly once.

The kill moments come from a seeded random generator; the seed is printed
so that a failure can be rerun with HL_CRASH_SEED=<seed>. HL_CRASH_KILLS
sets the number of kills (default 10).
"""

import os
import random
import shutil
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hlclient as hl  # noqa: E402
from test_e2e import Tap  # noqa: E402
from test_money import balances, charge_obj  # noqa: E402

THREADS = 4
KILLS = int(os.environ.get("HL_CRASH_KILLS") or 12)
DUP_RATE = 0.12                 # share of sends that redeliver an old event
ACKS_BEFORE_KILL = (20, 250)     # 2xx answers to await before a kill
PHASE_LIMIT = 6.0               # seconds a daemon may live before its kill
TOTAL_LIMIT = 45.0              # seconds for the load phase as a whole
MAX_SENDS = 20000               # requests in the load phase, at most


class Load:
    """The daemon's current port, and every event and answer."""

    def __init__(self, seed, stripe_sec, shop_sec):
        self.seed = seed
        self.stripe_sec = stripe_sec
        self.shop_sec = shop_sec
        self.cond = threading.Condition()
        self.port = None
        self.gen = 0
        self.stop = False
        self.sent = {}          # (endpoint, id) -> (body, currency, amount)
        self.acks = {}          # (endpoint, id) -> set of seqs answered
        self.nacks = 0
        self.nsends = 0
        self.odd = []           # answers no delivery should ever get

    def new_event(self, rng, tid, i):
        amount = rng.randint(100, 99999)
        if rng.random() < 0.5:
            evt = "evt_c%d_%d" % (tid, i)
            ev = hl.stripe_event("charge.succeeded", evt,
                                 charge_obj("ch_c%d_%d" % (tid, i),
                                            "pi_c%d_%d" % (tid, i), amount),
                                 created=hl.now() - 60)
            key, cur = ("stripe", evt), "USD"
        else:
            msg = "msg_c%d_%d" % (tid, i)
            ev = hl.neutral_event("payment.captured",
                                  {"payment_id": "pay_c%d_%d" % (tid, i),
                                   "amount": amount, "currency": "EUR"},
                                  ts=hl.now() - 60)
            key, cur = ("shop", msg), "EUR"
        body = hl.body_bytes(ev)
        with self.cond:
            self.sent[key] = (body, cur, amount)
        return key

    def deliver(self, port, key, timeout=5):
        body = self.sent[key][0]
        ts = hl.now()
        if key[0] == "stripe":
            h = hl.stripe_headers(self.stripe_sec, ts, body)
        else:
            h = hl.stdwh_headers(self.shop_sec, key[1], ts, body)
        return hl.request(port, "POST", "/webhooks/" + key[0], body, h,
                          timeout=timeout)

    def note(self, key, r):
        """Record r's answer to key: a 2xx must be an applied capture of
        this very event, with a seq."""
        j = r.json if r.status else None
        with self.cond:
            self.nsends += 1
            if 200 <= r.status < 300:
                if not (r.status == 200 and isinstance(j, dict) and
                        j.get("result") == "applied" and
                        j.get("event_id") == key[1] and
                        isinstance(j.get("seq"), int) and j["seq"] > 0):
                    self.odd.append((key, r.status, r.body[:200]))
                    return
                self.acks.setdefault(key, set()).add(j["seq"])
                self.nacks += 1
                self.cond.notify_all()
            elif r.status not in (0, 409, 503):
                # 0: killed mid-request; 409: a copy in flight at once;
                # 503: storage or shutdown. Nothing else is expected.
                self.odd.append((key, r.status, r.body[:200]))

    def worker(self, tid):
        rng = random.Random(self.seed * 1000 + tid)
        mine = []
        i = 0
        deadline = time.monotonic() + TOTAL_LIMIT + 10
        while time.monotonic() < deadline:
            with self.cond:
                if self.stop or self.nsends >= MAX_SENDS:
                    return
                port, gen = self.port, self.gen
            if port is None:
                self.wait_gen(gen)
                continue
            if mine and rng.random() < DUP_RATE:
                key = rng.choice(mine)
            else:
                key = self.new_event(rng, tid, i)
                mine.append(key)
                i += 1
            r = self.deliver(port, key)
            self.note(key, r)
            if r.status == 0:
                self.wait_gen(gen)

    def wait_gen(self, gen, limit=5.0):
        """Wait for the next daemon (or the stop), bounded."""
        deadline = time.monotonic() + limit
        with self.cond:
            while self.gen == gen and not self.stop:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self.cond.wait(left)

    def set_port(self, port):
        with self.cond:
            self.port = port
            self.gen += 1
            self.cond.notify_all()

    def wait_acks(self, n, limit):
        deadline = time.monotonic() + limit
        with self.cond:
            want = self.nacks + n
            while self.nacks < want:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True


def recorded(db):
    """(endpoint, event_id) -> list of (seq, payment_ref, amount, currency)
    of its ledger entries, and the receipts' keys with their counts."""
    entries = {}
    for ep, evt, seq, ref, amt, cur in hl.query(
            db, "SELECT endpoint, event_id, seq, payment_ref, amount, "
            "currency FROM ledger ORDER BY seq"):
        entries.setdefault((ep, evt), []).append((seq, ref, amt, cur))
    receipts = {(ep, evt): n for ep, evt, n in hl.query(
        db, "SELECT endpoint, event_id, count(*) FROM receipts "
        "GROUP BY endpoint, event_id")}
    return entries, receipts


def want_balances(load, keys):
    """The balances rows the captures in keys imply: provider_balance up
    and sales down by each amount, per currency (zeros left out)."""
    tot = {}
    for k in keys:
        _, cur, amt = load.sent[k]
        tot[cur] = tot.get(cur, 0) + amt
    rows = []
    for cur in sorted(tot):
        if tot[cur]:
            rows += [{"account": "provider_balance", "currency": cur,
                      "balance": tot[cur]},
                     {"account": "sales", "currency": cur,
                      "balance": -tot[cur]}]
    return {"tenant": "acme", "at": None, "balances": rows}


def got_balances(db):
    rc, got = balances(db, "acme")
    if isinstance(got, dict) and isinstance(got.get("balances"), list):
        got = dict(got, balances=[b for b in got["balances"]
                                  if not isinstance(b, dict) or
                                  b.get("balance") != 0])
    return rc, got


def check_ledger(t, load, db, must, label):
    """Every key in must is in the ledger exactly once (one receipt, one
    entry); nothing else is there twice; every ledger event was sent."""
    entries, receipts = recorded(db)
    missing = sorted(k for k in must if k not in entries)
    t.ok(not missing, "%s: every one of %d events is in the ledger" %
         (label, len(must)), ["missing %d: %r" % (len(missing),
                                                  missing[:5])])
    twice = sorted(k for k, v in entries.items() if len(v) != 1)
    t.ok(not twice, "%s: no event has more than one ledger entry" % label,
         ["twice: %r" % [(k, entries[k]) for k in twice[:5]]])
    refs = {}
    for v in entries.values():
        for seq, ref, _, _ in v:
            refs.setdefault(ref, []).append(seq)
    t.eq(sorted(r for r, s in refs.items() if len(s) > 1), [],
         "%s: no payment is captured twice" % label)
    t.eq(sorted(k for k, n in receipts.items() if n != 1), [],
         "%s: one receipt per event" % label)
    t.eq(sorted(k for k in set(entries) | set(receipts)
                if k not in load.sent), [],
         "%s: the ledger holds only events that were sent" % label)
    t.eq(sorted(k for k in receipts if k not in entries), [],
         "%s: every receipt has its entry (each event is a capture)" %
         label)
    bad = []
    for k in receipts:
        if k in entries:
            _, ref, amt, cur = entries[k][0]
            _, wcur, wamt = load.sent[k]
            if (amt, cur) != (wamt, wcur):
                bad.append((k, amt, cur, wamt, wcur))
    t.eq(bad, [], "%s: each entry has the amount and currency sent" %
         label)
    return entries, receipts


def check_verify(t, db, n, label):
    rc, out, err = hl.run_verify(db)
    t.ok(rc == 0 and out.startswith("ok: %d entries," % n),
         "%s: hookledger verify exits 0 with %d entries" % (label, n),
         ["rc %d stdout %r stderr %r" % (rc, out, err[:300])])


def g_crash(t, tmp, seed):
    rng = random.Random(seed)
    stripe_sec = hl.stripe_secret()
    shop_sec = hl.stdwh_secret()
    eps = [hl.Endpoint("stripe", "stripe", [stripe_sec], tenant="acme"),
           hl.Endpoint("shop", "standard-webhooks", [shop_sec],
                       tenant="acme")]
    config = hl.write_config(tmp, eps)
    db = os.path.join(tmp, "ledger.db")
    load = Load(seed, stripe_sec, shop_sec)
    threads = [threading.Thread(target=load.worker, args=(i,), daemon=True)
               for i in range(THREADS)]
    for th in threads:
        th.start()
    t0 = time.monotonic()
    kills = 0
    d = None
    try:
        for k in range(KILLS):
            if time.monotonic() - t0 > TOTAL_LIMIT:
                break
            d = hl.Daemon(config)
            load.set_port(d.start())
            want = rng.randint(*ACKS_BEFORE_KILL)
            load.wait_acks(want, PHASE_LIMIT)
            d.kill()
            load.set_port(None)
            kills += 1
            d = None
    finally:
        with load.cond:
            load.stop = True
            load.cond.notify_all()
        for th in threads:
            th.join(15)
        if d is not None:
            d.kill()
    t.diag("load: %d kills, %d requests, %d 2xx answers for %d events, "
           "%d events sent, %.1f s" % (kills, load.nsends, load.nacks,
                                       len(load.acks), len(load.sent),
                                       time.monotonic() - t0))
    t.eq(kills, KILLS, "crash: the daemon was killed with SIGKILL %d "
         "times under load" % KILLS)
    t.ok(not any(th.is_alive() for th in threads),
         "crash: every client thread finished")
    t.ok(len(load.acks) >= KILLS * ACKS_BEFORE_KILL[0],
         "crash: at least %d events were acknowledged (got %d)" %
         (KILLS * ACKS_BEFORE_KILL[0], len(load.acks)))
    t.eq(load.odd, [], "crash: every answer was an applied capture, "
         "409 in flight, 503 or no answer")
    dups = sum(1 for v in load.acks.values() if len(v) > 1)
    t.eq(dups, 0, "crash: a redelivered event is answered with the seq of "
         "its first answer")

    # The ledger as the kills left it, read-only, daemon stopped.
    acked = set(load.acks)
    entries, receipts = check_ledger(t, load, db, acked, "after the kills")
    wrong = sorted((k, sorted(load.acks[k]), entries[k][0][0])
                   for k in acked if k in entries and
                   load.acks[k] != {entries[k][0][0]})
    t.eq(wrong, [], "after the kills: each acknowledged event is at the "
         "seq its 2xx named")
    n = len(entries)
    seqs = sorted(v[0][0] for v in entries.values())
    t.eq(seqs, list(range(1, n + 1)), "after the kills: entries are "
         "numbered 1..%d without gaps" % n)
    check_verify(t, db, n, "after the kills")
    t.eq(got_balances(db), (0, want_balances(load, receipts.keys())),
         "after the kills: balances --json equals the sum of the recorded "
         "captures (%d of them, %d acknowledged)" % (len(receipts),
                                                     len(acked)))

    # Redeliver everything ever sent, acknowledged or not.
    d = hl.Daemon(config)
    port = d.start()
    keys = sorted(load.sent)
    answers = {}
    lock = threading.Lock()

    def redeliver(part):
        for key in part:
            r = load.deliver(port, key, timeout=10)
            with lock:
                answers[key] = r

    parts = [keys[i::THREADS] for i in range(THREADS)]
    ths = [threading.Thread(target=redeliver, args=(p,), daemon=True)
           for p in parts]
    for th in ths:
        th.start()
    for th in ths:
        th.join(60)
    not200 = sorted((k, answers[k].status) for k in keys
                    if k not in answers or answers[k].status != 200)
    t.eq(not200[:10], [], "redelivery: every one of %d events is answered "
         "200" % len(keys))
    replay_bad = sorted(k for k in acked if k in answers and
                        answers[k].header("Idempotent-Replayed") != "true")
    t.eq(replay_bad, [], "redelivery: every acknowledged event is answered "
         "as a replay")
    rc = d.stop()
    t.eq(rc, 0, "redelivery: the daemon exits 0 on SIGTERM")
    entries, receipts = check_ledger(t, load, db, set(keys), "redelivery")
    t.eq(len(entries), len(keys), "redelivery: exactly %d entries, one per "
         "event sent" % len(keys))
    check_verify(t, db, len(keys), "redelivery")
    t.eq(got_balances(db), (0, want_balances(load, keys)),
         "redelivery: balances --json equals the sum of every capture sent")


def main():
    t = Tap()
    t0 = time.monotonic()
    seed = int(os.environ.get("HL_CRASH_SEED") or
               int.from_bytes(os.urandom(4), "big"))
    t.diag("seed %d (rerun with HL_CRASH_SEED=%d), %d kills, %d client "
           "threads" % (seed, seed, KILLS, THREADS))
    tmp = tempfile.mkdtemp(prefix="hl-crash-")
    try:
        g_crash(t, tmp, seed)
    except Exception:
        diag = traceback.format_exc().splitlines()
        if hl.ALL_LOGS:
            diag += ["last daemon's stderr, tail:"] + hl.ALL_LOGS[-1][-10:]
        t.ok(False, "crash: ran to the end", diag)
    if t.failed and os.environ.get("HL_KEEP"):
        t.diag("kept %s" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    t.diag("elapsed %.1f s" % (time.monotonic() - t0))
    print("1..%d" % t.n)
    sys.stdout.flush()
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
