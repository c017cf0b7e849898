#!/usr/bin/env python3
"""
Full disk, failing disk and read-only storage, speaking TAP.

While the ledger cannot be written, every delivery is answered 503
storage_unavailable with Retry-After, /healthz answers 503, nothing
partial is left (entry, receipt and fact counts stay, every entry keeps
its postings, verify exits 0), and once the storage is back the very
next delivery is 200 without a restart, and every event that was
answered 503, redelivered, is recorded once. Under concurrent load, with
the fault switched on and off many times, every delivery that got a 2xx
is in the ledger exactly once, no event twice, verify passes, and
redelivering everything leaves each event once.

How each fault is made is said in the output; the shim runs everywhere,
the real file systems where this may mount:
  - full disk: a real small tmpfs filled by the test (root, mount
    permitted), and tests/faultfs.so (LD_PRELOAD) failing writes under
    the database's directory with ENOSPC;
  - failing disk: faultfs.so with EIO;
  - read-only while running: faultfs.so with EROFS (the kernel refuses to
    remount a file system read-only while the daemon holds files on it
    open for writing, so that state is reached only through the shim or
    a kernel error);
  - read-only at start-up: a real tmpfs remounted read-only (mount
    permitted), a directory and file without write permission (not
    root), and faultfs.so with EROFS.
"""

import contextlib
import errno
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hlclient as hl  # noqa: E402
from test_crash import (Load, check_ledger, got_balances,  # noqa: E402
                        want_balances)
from test_e2e import Err, Tap, applied, expect  # noqa: E402
from test_money import charge_obj  # noqa: E402

FAULTFS = os.path.join(hl.BUILDDIR, "tests", "faultfs.so")
FILL_LIMIT = 3000       # deliveries to wait for a filled disk to show
# What SQLite makes of each errno, as the outage's log line gives it: a
# write or fsync that fails other than for space is an I/O error to it.
REASONS = {"ENOSPC": "database or disk is full, SQLite code 13",
           "EIO": "disk I/O error, SQLite code 778",
           "EROFS": "disk I/O error, SQLite code 778"}
LOAD_THREADS = 4
LOAD_CYCLES = 8         # fault on, fault off, under load
LOAD_ACKS = (10, 120)   # 2xx answers to await before each fault
LOAD_REFUSALS = 5       # 503s to await while each fault lasts
PHASE_LIMIT = 5.0       # seconds to await either
PROBE_WATCH = 2.5       # seconds /healthz must stay 503 (probes every 1 s)
PROBE_WAIT = 10.0       # seconds for the probe to find storage back
LOAD_LIMIT = 40.0       # seconds for the load phase as a whole
TMPFS_SIZE = "4m"
# Under load the write-ahead log alone grows to 4 MB (1000 pages) before
# SQLite checkpoints it: a file system smaller than that fills by itself.
LOAD_TMPFS_SIZE = "64m"
FILL_WRITES = 8192      # writes of one size, far more than 4m needs
SEED = int(os.environ.get("HL_FAULTS_SEED") or
           int.from_bytes(os.urandom(4), "big"))


def can_mount(tmp):
    """Whether we may mount a tmpfs (root, and the container allows it)."""
    if os.geteuid() != 0:
        return False
    d = os.path.join(tmp, "probe")
    os.mkdir(d)
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs",
                         d], capture_output=True).returncode == 0
    if ok:
        subprocess.run(["umount", d], capture_output=True)
    os.rmdir(d)
    return ok


def mount_tmpfs(d, opts="size=" + TMPFS_SIZE):
    os.makedirs(d, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", d],
                       capture_output=True)
    if p.returncode != 0:
        raise hl.HLError("mount tmpfs %s: %s" % (d, p.stderr))


def umount(d):
    subprocess.run(["umount", d], capture_output=True)


class Sender:
    """Stripe captures, each its own payment, signed and sent."""

    def __init__(self, label, secret):
        self.label = label
        self.secret = secret
        self.bodies = {}
        self.n = 0

    def new(self):
        self.n += 1
        evt = "evt_%s_%d" % (self.label, self.n)
        ev = hl.stripe_event("charge.succeeded", evt, charge_obj(
            "ch_%s_%d" % (self.label, self.n),
            "pi_%s_%d" % (self.label, self.n), 1000 + self.n),
            created=hl.now() - 60)
        self.bodies[evt] = hl.body_bytes(ev)
        return evt

    def send(self, d, evt):
        b = self.bodies[evt]
        return d.post("/webhooks/stripe", b,
                      hl.stripe_headers(self.secret, hl.now(), b))


def skip(t, desc, why):
    """One TAP line that says skip, with why."""
    t.n += 1
    print("ok %d - %s # SKIP %s" % (t.n, desc.replace("#", "no."),
                                     why.replace("#", "no.")))
    sys.stdout.flush()


def slug(label):
    """label as a part of an event id (A-Z a-z 0-9 _ only)."""
    return "".join(c if c.isalnum() else "_" for c in label)


def start_daemon(config, env):
    """A hookledgerd with env added to its environment only (never to the
    CLI's), started and listening."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        d = hl.Daemon(config)
        d.start()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return d


def per_event(db):
    return dict(hl.query(db, "SELECT event_id, count(*) FROM ledger "
                         "GROUP BY event_id"))


def bare_entries(db):
    """Ledger entries without postings, and postings without an entry."""
    return (hl.query(db, "SELECT seq FROM ledger WHERE seq NOT IN "
                     "(SELECT seq FROM postings)"),
            hl.query(db, "SELECT DISTINCT seq FROM postings WHERE seq NOT "
                     "IN (SELECT seq FROM ledger)"))


def check_verify(t, db, n, label):
    rc, out, err = hl.run_verify(db)
    t.ok(rc == 0 and out.startswith("ok: %d entries," % n),
         "%s: hookledger verify exits 0 with %d entries" % (label, n),
         ["rc %d stdout %r stderr %r" % (rc, out, err[:300])])


def fault_flow(t, label, tmp, dbdir, fault_on, fault_off, env,
               first_fails, probe_first=False,
               reason="database or disk is full, SQLite code 13"):
    """Deliveries before, during and after a storage fault. first_fails:
    the first delivery after fault_on() must already be 503 (injection);
    otherwise the fault shows once the disk's slack is used up.
    reason: what the log line of the outage must say.
    probe_first: after the fault, no delivery until /healthz says 200,
    which the writer's own probe write must bring about; otherwise the
    first delivery after the fault is what finds storage back."""
    sec = hl.stripe_secret()
    config = hl.write_config(tmp, [hl.Endpoint("stripe", "stripe", [sec])],
                             database=os.path.join(dbdir, "ledger.db"))
    db = os.path.join(dbdir, "ledger.db")
    s = Sender(slug(label), sec)
    d = start_daemon(config, env)
    try:
        for i in range(3):
            evt = s.new()
            expect(t, s.send(d, evt), 200, applied(evt, i + 1),
                   "%s: before the fault, %s -> applied seq %d" %
                   (label, evt, i + 1))
        fault_on()
        seq = 3
        failed = []
        first = None
        for i in range(1 if first_fails else FILL_LIMIT):
            evt = s.new()
            r = s.send(d, evt)
            if r.status == 200:
                seq += 1
                continue
            first = r
            failed.append(evt)
            break
        t.ok(first is not None, "%s: a delivery is refused once storage "
             "fails (after %d more were recorded)" % (label, seq - 3),
             ["no refusal in %d deliveries" % FILL_LIMIT])
        if first is None:
            return
        expect(t, first, 503, Err("storage_unavailable"),
               "%s: the delivery that meets the fault -> 503 "
               "storage_unavailable, Retry-After 5" % label,
               extra={"Retry-After": "5"})
        entries = hl.count(db, "ledger")
        t.eq((entries, hl.count(db, "receipts")), (seq, seq),
             "%s: %d entries and receipts, the refused event left nothing"
             % (label, seq))
        for i in range(4):
            evt = s.new()
            failed.append(evt)
            expect(t, s.send(d, evt), 503, Err("storage_unavailable"),
                   "%s: during the fault, %s -> 503" % (label, evt),
                   extra={"Retry-After": "5"})
        expect(t, s.send(d, failed[0]), 503, Err("storage_unavailable"),
               "%s: during the fault, a redelivery -> 503" % label,
               extra={"Retry-After": "5"})
        expect(t, d.get("/healthz"), 503, {"status": "storage_unavailable"},
               "%s: /healthz -> 503 storage_unavailable" % label,
               extra={"Retry-After": "5"})
        t.eq((hl.count(db, "ledger"), hl.count(db, "receipts"),
              hl.count(db, "facts")), (entries, entries, entries),
             "%s: entries, receipts and facts unchanged during the fault" %
             label)
        t.eq(bare_entries(db), ([], []), "%s: every entry has its "
             "postings, every posting its entry" % label)
        check_verify(t, db, entries, label + ", during the fault")
        down = [j for j in d.log_json() if isinstance(j, dict) and
                str(j.get("msg", "")).startswith(
                    "ledger: storage unavailable")]
        t.eq(len(down), 1, "%s: the log says once that storage is "
             "unavailable" % label)
        t.ok(len(down) == 1 and reason in down[0]["msg"], "%s: the log line "
             "gives SQLite's reason, %r" % (label, reason),
             ["lines: %r" % down])

        if probe_first:
            # A negative can only be watched for a while: across two
            # probe intervals the probe must not call storage back.
            deadline = time.monotonic() + PROBE_WATCH
            seen = []
            while time.monotonic() < deadline:
                seen.append(d.get("/healthz").status)
                if seen[-1] != 503:
                    break
                time.sleep(0.1)
            t.eq(sorted(set(seen)), [503], "%s: /healthz stays 503 while "
                 "the fault lasts, the writer's probe writes fail (%d polls "
                 "in %.1f s)" % (label, len(seen), PROBE_WATCH))
        fault_off()
        if probe_first:
            deadline = time.monotonic() + PROBE_WAIT
            r = d.get("/healthz")
            while r.status == 503 and time.monotonic() < deadline:
                time.sleep(0.1)
                r = d.get("/healthz")
            expect(t, r, 200, {"status": "ok"}, "%s: storage is back, "
                   "/healthz -> 200 ok within %.0f s with no delivery "
                   "(the writer's probe)" % (label, PROBE_WAIT))
            t.eq(hl.count(db, "ledger"), entries, "%s: the probe added no "
                 "entry" % label)
        evt = s.new()
        expect(t, s.send(d, evt), 200, applied(evt, entries + 1),
               "%s: space is back, the next delivery -> 200 applied seq %d, "
               "no restart" % (label, entries + 1))
        t.ok(d.wait_log(lambda j: str(j.get("msg", "")).startswith(
             "ledger: storage recovered"), timeout=5) is not None,
             "%s: the log says storage recovered" % label)
        expect(t, d.get("/healthz"), 200, {"status": "ok"},
               "%s: /healthz -> 200 ok again" % label)
        n = entries + 1
        for evt in failed:
            n += 1
            expect(t, s.send(d, evt), 200, applied(evt, n),
                   "%s: the 503'd %s redelivered -> 200 applied seq %d" %
                   (label, evt, n))
        counts = per_event(db)
        t.eq(sorted((e, counts.get(e)) for e in s.bodies),
             sorted((e, 1) for e in s.bodies),
             "%s: each of %d events sent is in the ledger once" %
             (label, len(s.bodies)))
        check_verify(t, db, n, label + ", after recovery")
    finally:
        rc = d.stop()
        fault_off()
    t.eq(rc, 0, "%s: the daemon exits 0 on SIGTERM" % label)


class Tmpfs:
    """A real tmpfs of size at tmp/fs, filled to the last byte by on()
    and emptied by off()."""

    def __init__(self, tmp, size=TMPFS_SIZE):
        self.dir = os.path.join(tmp, "fs")
        self.filler = os.path.join(self.dir, "filler")
        mount_tmpfs(self.dir, "size=" + size)

    def on(self):
        """Unbuffered writes of shrinking sizes, each size until ENOSPC
        (bounded: FILL_WRITES of each, far more than the size needs)."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                     0o600)
        try:
            for size in (1 << 20, 1 << 16, 1 << 12, 1 << 9, 1):
                for _ in range(FILL_WRITES):
                    try:
                        os.write(fd, b"\0" * size)
                    except OSError as e:
                        if e.errno != errno.ENOSPC:
                            raise
                        break
        finally:
            os.close(fd)

    def off(self):
        if os.path.exists(self.filler):
            os.unlink(self.filler)

    def close(self):
        umount(self.dir)


class Shim:
    """tests/faultfs.so preloaded into the daemon, failing writes under
    tmp/db with the errno named while on."""

    def __init__(self, tmp, what):
        self.dir = os.path.join(tmp, "db")
        os.mkdir(self.dir)
        self.ctl = os.path.join(tmp, "fault-on")
        self.what = what
        self.env = {"LD_PRELOAD": FAULTFS, "HL_FAULTFS_DIR": self.dir,
                    "HL_FAULTFS_CONTROL": self.ctl}

    def on(self):
        with open(self.ctl + ".t", "w") as f:
            f.write(self.what + "\n")
        os.rename(self.ctl + ".t", self.ctl)

    def off(self):
        if os.path.exists(self.ctl):
            os.unlink(self.ctl)

    def close(self):
        self.off()


def have_shim(t, label):
    return t.ok(os.path.exists(FAULTFS), "%s: %s is built" % (label,
                                                               FAULTFS))


def g_full_disk_tmpfs(t, tmp, mountable):
    if not mountable:
        skip(t, "full disk, tmpfs", "cannot mount a small file system "
             "here (the shim groups still run)")
        return
    t.diag("full disk, tmpfs: method: a real %s tmpfs filled by the test" %
           TMPFS_SIZE)
    fs = Tmpfs(tmp)
    try:
        fault_flow(t, "full disk, tmpfs", tmp, fs.dir, fs.on, fs.off, {},
                   False)
    finally:
        fs.close()


def shim_flow(t, label, tmp, what, probe_first=False):
    if not have_shim(t, label):
        return
    t.diag("%s: method: faultfs.so injecting %s" % (label, what))
    sh = Shim(tmp, what)
    try:
        fault_flow(t, label, tmp, sh.dir, sh.on, sh.off, sh.env, True,
                   probe_first, REASONS[what])
    finally:
        sh.close()


def g_full_disk_shim(t, tmp, mountable):
    shim_flow(t, "full disk, shim", tmp, "ENOSPC")


def g_disk_error_shim(t, tmp, mountable):
    shim_flow(t, "I/O error, shim", tmp, "EIO", probe_first=True)


def g_read_only_running(t, tmp, mountable):
    t.diag("read-only while running: a file system cannot be remounted "
           "read-only while the daemon has files on it open for writing; "
           "the shim stands in")
    shim_flow(t, "read-only fs, shim", tmp, "EROFS", probe_first=True)


class Refusals(Load):
    """Load that also checks and counts each 503: it must be the
    service's storage_unavailable error with Retry-After 5."""

    def __init__(self, *a):
        Load.__init__(self, *a)
        self.refused = 0

    def note(self, key, r):
        if r.status == 503:
            j = r.json
            with self.cond:
                self.nsends += 1
                if (Err("storage_unavailable").problems(j) or
                        r.header_all("Retry-After") != ["5"]):
                    self.odd.append((key, r.status, r.body[:200]))
                else:
                    self.refused += 1
                    self.cond.notify_all()
            return
        Load.note(self, key, r)

    def wait_refused(self, n, limit):
        deadline = time.monotonic() + limit
        with self.cond:
            want = self.refused + n
            while self.refused < want:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True


def load_flow(t, label, tmp, dbdir, fault, env, seed):
    """Client threads send signed captures (and redeliveries) to one
    daemon while the main thread switches the fault on and off
    LOAD_CYCLES times at random moments; the daemon is never restarted.
    Then the ledger is checked as test_crash checks it, and everything
    sent is redelivered."""
    rng = random.Random(seed)
    stripe_sec = hl.stripe_secret()
    shop_sec = hl.stdwh_secret()
    eps = [hl.Endpoint("stripe", "stripe", [stripe_sec], tenant="acme"),
           hl.Endpoint("shop", "standard-webhooks", [shop_sec],
                       tenant="acme")]
    db = os.path.join(dbdir, "ledger.db")
    config = hl.write_config(tmp, eps, database=db)
    load = Refusals(seed, stripe_sec, shop_sec)
    d = start_daemon(config, env)
    threads = [threading.Thread(target=load.worker, args=(i,), daemon=True)
               for i in range(LOAD_THREADS)]
    t0 = time.monotonic()
    cycles = refused_cycles = recovered = 0
    try:
        load.set_port(d.port)
        for th in threads:
            th.start()
        for _ in range(LOAD_CYCLES):
            if time.monotonic() - t0 > LOAD_LIMIT:
                break
            load.wait_acks(rng.randint(*LOAD_ACKS), PHASE_LIMIT)
            fault.on()
            refused_cycles += load.wait_refused(LOAD_REFUSALS, PHASE_LIMIT)
            fault.off()
            recovered += load.wait_acks(1, PHASE_LIMIT)
            cycles += 1
        load.wait_acks(LOAD_ACKS[0], PHASE_LIMIT)
    finally:
        fault.off()
        with load.cond:
            load.stop = True
            load.cond.notify_all()
        for th in threads:
            th.join(15)
    t.diag("%s: %d fault cycles, %d requests, %d 2xx for %d events, "
           "%d answered 503, %d events sent, %.1f s" %
           (label, cycles, load.nsends, load.nacks, len(load.acks),
            load.refused, len(load.sent), time.monotonic() - t0))
    t.eq(cycles, LOAD_CYCLES, "%s: the fault came and went %d times under "
         "load" % (label, LOAD_CYCLES))
    t.eq(refused_cycles, LOAD_CYCLES, "%s: every fault was answered with "
         "503s (at least %d each)" % (label, LOAD_REFUSALS))
    t.eq(recovered, LOAD_CYCLES, "%s: after every fault a delivery was "
         "answered 2xx again, the daemon never restarted" % label)
    t.ok(not any(th.is_alive() for th in threads),
         "%s: every client thread finished" % label)
    t.eq(load.odd, [], "%s: every answer was an applied capture, 409 in "
         "flight, or 503 storage_unavailable with Retry-After 5" % label)
    t.eq(sum(1 for v in load.acks.values() if len(v) > 1), 0,
         "%s: a redelivered event is answered with the seq of its first "
         "answer" % label)
    t.eq(d.proc.poll(), None, "%s: the daemon is still running" % label)

    acked = set(load.acks)
    entries, receipts = check_ledger(t, load, db, acked, label)
    wrong = sorted((k, sorted(load.acks[k]), entries[k][0][0])
                   for k in acked if k in entries and
                   load.acks[k] != {entries[k][0][0]})
    t.eq(wrong, [], "%s: each acknowledged event is at the seq its 2xx "
         "named" % label)
    n = len(entries)
    t.eq(sorted(v[0][0] for v in entries.values()), list(range(1, n + 1)),
         "%s: entries are numbered 1..%d without gaps" % (label, n))
    t.eq(bare_entries(db), ([], []), "%s: every entry has its postings, "
         "every posting its entry" % label)
    check_verify(t, db, n, label)
    t.eq(got_balances(db), (0, want_balances(load, receipts.keys())),
         "%s: balances equal the sum of the recorded captures" % label)

    # Redeliver everything ever sent, to the same daemon, storage back.
    keys = sorted(load.sent)
    answers = {}
    lock = threading.Lock()

    def redeliver(part):
        for key in part:
            r = load.deliver(d.port, key, timeout=10)
            with lock:
                answers[key] = r

    ths = [threading.Thread(target=redeliver, args=(keys[i::LOAD_THREADS],),
                            daemon=True) for i in range(LOAD_THREADS)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(60)
    t.eq(sorted((k, answers[k].status if k in answers else None)
                for k in keys if k not in answers or
                answers[k].status != 200)[:10], [],
         "%s, redelivery: every one of %d events is answered 200" %
         (label, len(keys)))
    t.eq(sorted(k for k in acked if k in answers and
                answers[k].header("Idempotent-Replayed") != "true"), [],
         "%s, redelivery: every acknowledged event is answered as a replay"
         % label)
    t.eq(d.stop(), 0, "%s: the daemon exits 0 on SIGTERM" % label)
    entries, _ = check_ledger(t, load, db, set(keys), label +
                              ", redelivery")
    t.eq(len(entries), len(keys), "%s, redelivery: exactly %d entries, one "
         "per event sent" % (label, len(keys)))
    t.eq(bare_entries(db), ([], []), "%s, redelivery: every entry has its "
         "postings" % label)
    check_verify(t, db, len(keys), label + ", redelivery")


def g_load_shim(t, tmp, mountable):
    label = "under load, full disk, shim"
    if not have_shim(t, label):
        return
    seed = SEED
    t.diag("%s: method: faultfs.so injecting ENOSPC, seed %d" %
           (label, seed))
    sh = Shim(tmp, "ENOSPC")
    try:
        load_flow(t, label, tmp, sh.dir, sh, sh.env, seed)
    finally:
        sh.close()


def g_load_tmpfs(t, tmp, mountable):
    label = "under load, full disk, tmpfs"
    if not mountable:
        skip(t, label, "cannot mount a small file system here")
        return
    t.diag("%s: method: a real %s tmpfs filled and emptied, seed %d" %
           (label, LOAD_TMPFS_SIZE, SEED + 1))
    fs = Tmpfs(tmp, LOAD_TMPFS_SIZE)
    try:
        load_flow(t, label, tmp, fs.dir, fs, {}, SEED + 1)
    finally:
        fs.off()
        fs.close()


def start_fails(t, config, db, label, reason, env=None):
    """hookledgerd run on config (with env added) exits 1 with one line on
    stderr naming db and reason."""
    p = subprocess.run([hl.HOOKLEDGERD, "--config", config],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=10, env=dict(os.environ, **(env or {})))
    err = p.stderr.decode("utf-8", "replace")
    lines = err.splitlines()
    t.ok(p.returncode == 1 and len(lines) == 1 and
         lines[0].startswith("hookledgerd: %s: " % db) and reason in lines[0],
         "%s: hookledgerd exits 1 with one line naming the database and "
         "%r" % (label, reason),
         ["exit %d, stderr %r" % (p.returncode, err[:400])])


def ro_start_flow(t, label, tmp, fsdir, make_ro, reason, env=None):
    sec = hl.stripe_secret()
    db = os.path.join(fsdir, "ledger.db")
    config = hl.write_config(tmp, [hl.Endpoint("stripe", "stripe", [sec])],
                             database=db)
    s = Sender(slug(label), sec)
    d = hl.Daemon(config)
    d.start()
    evt = s.new()
    expect(t, s.send(d, evt), 200, applied(evt, 1),
           "%s: one event recorded while writable" % label)
    t.eq(d.stop(), 0, "%s: the daemon exits 0" % label)
    make_ro(db)
    start_fails(t, config, db, label, reason, env)
    check_verify(t, db, 1, label + ", the read-only ledger")
    # Read as immutable: SQLite cannot make its -shm on a read-only mount.
    uri = "file:%s?immutable=1" % urllib.parse.quote(db)
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as c:
        got = c.execute("SELECT event_id, count(*) FROM ledger GROUP BY "
                        "event_id").fetchall()
    t.eq(got, [(evt, 1)], "%s: the ledger is as it was" % label)


def g_read_only_start_mount(t, tmp, mountable):
    label = "read-only at start, mount"
    if not mountable:
        skip(t, label, "cannot mount a file system here")
        return
    t.diag("%s: method: a real tmpfs remounted read-only" % label)
    fs = os.path.join(tmp, "fs")
    mount_tmpfs(fs)

    def make_ro(db):
        p = subprocess.run(["mount", "-o", "remount,ro", fs],
                           capture_output=True)
        t.eq(p.returncode, 0, "%s: the file system is remounted "
             "read-only" % label)
    try:
        ro_start_flow(t, label, tmp, fs, make_ro, "Read-only file system")
    finally:
        umount(fs)


def g_read_only_start_chmod(t, tmp, mountable):
    label = "read-only at start, chmod"
    if os.geteuid() == 0:
        skip(t, label, "root writes whatever the file modes say")
        return
    t.diag("%s: method: directory and file without write permission" %
           label)
    fs = os.path.join(tmp, "fs")
    os.mkdir(fs)

    def make_ro(db):
        os.chmod(db, 0o400)
        os.chmod(fs, 0o500)
    try:
        ro_start_flow(t, label, tmp, fs, make_ro, "Permission denied")
    finally:
        os.chmod(fs, 0o700)


def g_read_only_start_shim(t, tmp, mountable):
    label = "read-only at start, shim"
    if not have_shim(t, label):
        return
    t.diag("%s: method: faultfs.so answering EROFS" % label)
    sh = Shim(tmp, "EROFS")
    try:
        ro_start_flow(t, label, tmp, sh.dir, lambda db: sh.on(),
                      "Read-only file system", sh.env)
    finally:
        sh.close()


GROUPS = [
    ("full_disk_tmpfs", g_full_disk_tmpfs),
    ("full_disk_shim", g_full_disk_shim),
    ("disk_error_shim", g_disk_error_shim),
    ("read_only_running", g_read_only_running),
    ("read_only_start_mount", g_read_only_start_mount),
    ("read_only_start_chmod", g_read_only_start_chmod),
    ("read_only_start_shim", g_read_only_start_shim),
    ("load_shim", g_load_shim),
    ("load_tmpfs", g_load_tmpfs),
]


def main():
    t = Tap()
    t0 = time.monotonic()
    only = os.environ.get("HL_E2E_ONLY")
    keep = os.environ.get("HL_KEEP")
    probe = tempfile.mkdtemp(prefix="hl-faults-")
    try:
        # HL_FAULTS_NO_MOUNT=1 runs as where mounting is not permitted.
        mountable = (not os.environ.get("HL_FAULTS_NO_MOUNT") and
                     can_mount(probe))
    finally:
        shutil.rmtree(probe, ignore_errors=True)
    t.diag("running as uid %d; may mount a tmpfs: %s; seed %d (rerun "
           "with HL_FAULTS_SEED=%d)" % (os.geteuid(), "yes" if mountable
                                        else "no", SEED, SEED))
    for name, fn in GROUPS:
        if only and only not in name:
            continue
        tmp = tempfile.mkdtemp(prefix="hl-faults-")
        before = len(t.failed)
        g0 = time.monotonic()
        nlogs = len(hl.ALL_LOGS)
        try:
            fn(t, tmp, mountable)
        except Exception:
            diag = traceback.format_exc().splitlines()
            if len(hl.ALL_LOGS) > nlogs:
                diag += ["last daemon's stderr, tail:"]
                diag += hl.ALL_LOGS[-1][-10:]
            t.ok(False, "%s: ran to the end" % name, diag)
        t.diag("%s: %.1f s" % (name, time.monotonic() - g0))
        if len(t.failed) > before and keep:
            t.diag("%s: kept %s" % (name, tmp))
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    t.diag("elapsed %.1f s" % (time.monotonic() - t0))
    print("1..%d" % t.n)
    sys.stdout.flush()
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
