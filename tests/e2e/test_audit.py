#!/usr/bin/env python3
"""
End-to-end tests of the tamper evidence an auditor relies on: keys,
signed checkpoints written by the daemon and by the CLI, verify against
checkpoints (truncation, rollback, fork, full rewrite, forged
checkpoints), inclusion and consistency proofs, and the export. Speaks
TAP.

Every expected root, audit path and hash is recomputed here in Python from
docs/ledger-format.md (RFC 9162 for the tree), independently of the C code.
Run from the build directory with HL_BUILDDIR and HL_TOP_SRCDIR set, as
`make check` does. HL_KEEP=1 keeps the directory when something failed.
"""

import base64
import hashlib
import json
import os
import re
import select
import shutil
import sqlite3
import stat
import struct
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hlclient as hl  # noqa: E402

KEY_NAME = "audit.example/ledger"
EM_DASH = "\u2014"
ZERO = bytes(32)


# ---------------------------------------------------------------- TAP

class Tap:
    def __init__(self):
        self.n = 0
        self.failed = []

    def ok(self, cond, desc, diag=()):
        self.n += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n,
                              desc.replace("#", "no.")))
        if not cond:
            self.failed.append(self.n)
            for d in diag:
                for line in str(d).splitlines() or [""]:
                    print("# " + line)
        sys.stdout.flush()
        return cond

    def run(self, res, rc, out, desc, err=None):
        """One TAP line: a CLI result (rc, stdout, stderr) has exit status
        rc, stdout exactly out (or matching it, if a compiled regex) and,
        when err is not None, stderr exactly err."""
        got_rc, got_out, got_err = res
        p = []
        if got_rc != rc:
            p.append("exit %d, expected %d" % (got_rc, rc))
        if hasattr(out, "fullmatch"):
            if not out.fullmatch(got_out):
                p.append("stdout %r does not match %r" % (got_out,
                                                          out.pattern))
        elif got_out != out:
            p.append("stdout %r, expected %r" % (got_out, out))
        if err is not None and got_err != err:
            p.append("stderr %r, expected %r" % (got_err, err))
        if p:
            p.append("stderr: %r" % got_err[:600])
        return self.ok(not p, desc, p)


# ---------------------------------------------------------------- helpers

def cli(*args, cwd=None, timeout=60):
    """hookledger ARGS: (exit status, stdout, stderr)."""
    p = subprocess.run([hl.HOOKLEDGER] + list(args), cwd=cwd,
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def write(path, text):
    with open(path, "wb" if isinstance(text, bytes) else "w") as f:
        f.write(text)
    return path


def sha(b):
    return hashlib.sha256(b).digest()


def b64(b):
    return base64.b64encode(b).decode("ascii")


def flip(b, i, bit=0):
    """b with bit `bit` of byte i inverted."""
    b = bytearray(b)
    b[i] ^= 1 << bit
    return bytes(b)


# RFC 9162 section 2.1, over entry hashes.
def leaf(h):
    return sha(b"\x00" + h)


def split(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves):
    if not leaves:
        return sha(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = split(len(leaves))
    return sha(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def audit_path(m, leaves):
    if len(leaves) <= 1:
        return []
    k = split(len(leaves))
    if m < k:
        return audit_path(m, leaves[:k]) + [mth(leaves[k:])]
    return audit_path(m - k, leaves[k:]) + [mth(leaves[:k])]


def subproof(m, leaves, whole):
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = split(n)
    if m <= k:
        return subproof(m, leaves[:k], whole) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def leaves_of(db):
    return [leaf(h) for (h,) in hl.ledger_rows(db, ("hash",))]


# docs/ledger-format.md, "The encoding".
def s_(x):
    b = x.encode()
    return struct.pack(">I", len(b)) + b


def entry_hash(r, prev, postings):
    enc = (b"HLE" + bytes([r["format"]]) + struct.pack(">Q", r["seq"]) +
           s_(r["tenant"]) + s_(r["endpoint"]) + s_(r["event_id"]) +
           s_(r["kind"]) + s_(r["payment_ref"]) +
           struct.pack(">q", r["amount"]) + s_(r["currency"]) +
           struct.pack(">q", r["occurred_at"]) +
           struct.pack(">q", r["recorded_at"]) + r["body_sha256"] + prev)
    if r["format"] == 2:
        enc += struct.pack(">I", len(postings))
        for account, debit, credit in postings:
            enc += s_(account) + struct.pack(">q", debit) + \
                struct.pack(">q", credit)
    return sha(enc)


ENTRY_COLS = ("seq", "format", "tenant", "endpoint", "event_id", "kind",
              "payment_ref", "amount", "currency", "occurred_at",
              "recorded_at", "body_sha256", "prev_hash", "hash")


def entries(conn):
    """Every ledger row as a dict, with its postings as (account, debit,
    credit) in n order."""
    out = []
    for row in conn.execute("SELECT %s FROM ledger ORDER BY seq" %
                            ", ".join(ENTRY_COLS)).fetchall():
        r = dict(zip(ENTRY_COLS, row))
        r["postings"] = [tuple(p) for p in conn.execute(
            "SELECT account, debit, credit FROM postings WHERE seq = ? "
            "ORDER BY n", (r["seq"],))]
        out.append(r)
    return out


class Attacker:
    """Someone with write access to a copy of the file: drops every
    trigger, does what he likes, and puts the triggers back exactly as
    they were, so that nothing but the hashes and checkpoints remain."""

    def __init__(self, path):
        self.conn = sqlite3.connect(path)
        self.triggers = [sql for (sql,) in self.conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' "
            "ORDER BY name")]
        for (name,) in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        ).fetchall():
            self.conn.execute("DROP TRIGGER %s" % name)

    def rebuild_tree(self):
        """merkle_nodes as the daemon would have stored it for the
        current entries: every perfect subtree."""
        leaves = [leaf(h) for (h,) in self.conn.execute(
            "SELECT hash FROM ledger ORDER BY seq")]
        self.conn.execute("DELETE FROM merkle_nodes")
        level, h = leaves, 0
        while level:
            for i, x in enumerate(level):
                self.conn.execute("INSERT INTO merkle_nodes (level, idx, "
                                  "hash) VALUES (?, ?, ?)", (h, i, x))
            level = [sha(b"\x01" + level[i] + level[i + 1])
                     for i in range(0, len(level) - 1, 2)]
            h += 1

    def rechain(self):
        """Recompute every prev_hash and hash in seq order."""
        prev = ZERO
        for r in entries(self.conn):
            h = entry_hash(r, prev, r["postings"])
            self.conn.execute("UPDATE ledger SET prev_hash = ?, hash = ? "
                              "WHERE seq = ?", (prev, h, r["seq"]))
            prev = h

    def close(self):
        for sql in self.triggers:
            self.conn.execute(sql)
        self.conn.commit()
        self.conn.close()


def insert_global(config_path, lines):
    """Put global keys into a config hlclient wrote, before its first
    section."""
    text = read(config_path).splitlines()
    first = next(i for i, l in enumerate(text) if l.startswith("["))
    write(config_path, "\n".join(text[:first] + lines + [""] +
                                 text[first:]) + "\n")


def capture(d, sec, msg_id, pay_id, amount):
    """Deliver one signed capture and insist on its 200."""
    body = hl.body_bytes(hl.neutral_event("payment.captured", {
        "payment_id": pay_id, "amount": amount, "currency": "USD"}))
    r = d.post("/webhooks/shop", body,
               hl.stdwh_headers(sec, msg_id, hl.now(), body))
    if r.status != 200:
        raise hl.HLError("delivery %s: %r" % (msg_id, r))
    return r.json


def cp_name(size):
    return "checkpoint-%020d.txt" % size


def sig_line(text):
    return text.rstrip("\n").split("\n")[-1]


def resign_line(text, raw):
    """The checkpoint text with its signature bytes replaced by raw."""
    lines = text.rstrip("\n").split("\n")
    name = lines[-1].split(" ")[1]
    lines[-1] = "%s %s %s" % (EM_DASH, name, b64(raw))
    return "\n".join(lines) + "\n"


def sig_raw(text):
    return base64.b64decode(sig_line(text).split(" ")[2])


def key_id(name, pk):
    return sha(name.encode() + b"\n\x01" + pk)[:4]


def head_line(db, ncp=None):
    rows = hl.ledger_rows(db, ("seq", "hash"))
    s = "ok: %d entries, head seq %d, head hash %s" % (
        len(rows), rows[-1][0], rows[-1][1].hex())
    if ncp is not None:
        s += ", tree root %s, extends %d checkpoint%s" % (
            mth(leaves_of(db)).hex(), ncp, "" if ncp == 1 else "s")
    return s + "\n"


# ---------------------------------------------------------------- 1 keys

def g_keys(t, tmp, st):
    prefix = os.path.join(tmp, "cp")
    res = cli("keygen", "--out", prefix, "--name", KEY_NAME)
    t.run(res, 0, "wrote %s.key (keep it secret, mode 0600) and %s.pub "
          "(give it to the auditors)\n" % (prefix, prefix),
          "keygen: exit 0, names both files", err="")
    key, pub = prefix + ".key", prefix + ".pub"
    t.ok(stat.S_IMODE(os.stat(key).st_mode) == 0o600,
         "keygen: the private key is mode 0600",
         ["mode %o" % stat.S_IMODE(os.stat(key).st_mode)])
    ptext, ktext = read(pub), read(key)
    m = re.fullmatch(r"(\S+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]{44})\n", ptext)
    pk = base64.b64decode(m.group(3)) if m else b""
    t.ok(m is not None and m.group(1) == KEY_NAME and len(pk) == 33 and
         pk[0] == 1 and bytes.fromhex(m.group(2)) ==
         key_id(KEY_NAME, pk[1:]),
         "keygen: PREFIX.pub is NAME+<id of the key>+<base64 0x01||pk>",
         [repr(ptext)])
    km = re.fullmatch(r"PRIVATE\+KEY\+(\S+)\+([0-9a-f]{8})\+"
                      r"([A-Za-z0-9+/]{44})\n", ktext)
    t.ok(km is not None and km.group(1) == KEY_NAME and m is not None and
         km.group(2) == m.group(2) and
         base64.b64decode(km.group(3))[0] == 1,
         "keygen: PREFIX.key is PRIVATE+KEY+NAME+<same id>+<base64 seed>",
         ["key file does not have the expected shape"])
    st["key"], st["pub"], st["key_id"] = key, pub, bytes.fromhex(
        m.group(2)) if m else b""

    before = (ktext, ptext)
    res = cli("keygen", "--out", prefix, "--name", KEY_NAME)
    t.run(res, 2, "", "keygen: an existing PREFIX.key is not overwritten "
          "(exit 2)", err="hookledger: %s already exists; not overwriting "
          "it\n" % key)
    t.ok((read(key), read(pub)) == before,
         "keygen: the refused run left both files as they were")
    t.run(cli("keygen", "--name", KEY_NAME), 2, "",
          "keygen: without --out -> exit 2 with its usage",
          err="hookledger keygen: --out is required (see hookledger keygen "
          "--help)\n")

    other = os.path.join(tmp, "other")
    t.run(cli("keygen", "--out", other, "--name", KEY_NAME), 0,
          re.compile(r"wrote .*\n"), "keygen: a second key of the same name")
    st["other_key"] = other + ".key"

    # A key others can read is refused, by the CLI and by the daemon.
    loose = os.path.join(tmp, "loose")
    cli("keygen", "--out", loose, "--name", KEY_NAME)
    db = os.path.join(tmp, "empty.db")
    for mode in (0o640, 0o604, 0o620):
        os.chmod(loose + ".key", mode)
        t.run(cli("checkpoint", "--db", db, "--key", loose + ".key"), 2, "",
              "checkpoint: a key of mode %04o -> exit 2, one line, nothing "
              "signed" % mode,
              err="hookledger: signer key file %s.key: is readable or "
              "writable by group or others (mode %04o); chmod 600 it\n" %
              (loose, mode))
    t.ok(not os.path.exists(db), "checkpoint: the refused key left no "
         "database behind")

    os.chmod(loose + ".key", 0o640)
    cpdir = os.path.join(tmp, "cps-loose")
    os.mkdir(cpdir)
    sec = hl.stdwh_secret()
    conf = hl.write_config(tmp, [hl.Endpoint("shop", "standard-webhooks",
                                             [sec])], name="loose.conf",
                           database="loose.db")
    insert_global(conf, ["checkpoint_key = " + loose + ".key",
                         "checkpoint_dir = " + cpdir])
    want = ("%s: checkpoint_key: signer key file %s.key: is readable or "
            "writable by group or others (mode 0640); chmod 600 it\n" %
            (conf, loose))
    rc, out, err = hl.check_config(conf)
    t.run((rc, out, err), 1, "", "daemon: --check-config refuses a "
          "checkpoint_key of mode 0640 (exit 1, one line)", err=want)
    p = subprocess.run([hl.HOOKLEDGERD, "--config", conf],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=20)
    t.run((p.returncode, p.stdout.decode(), p.stderr.decode()), 1, "",
          "daemon: refuses to start with a checkpoint_key of mode 0640 "
          "(exit 1, one line)", err=want)
    t.ok(os.listdir(cpdir) == [], "daemon: the refused start wrote no "
         "checkpoint", [repr(os.listdir(cpdir))])

    os.chmod(loose + ".key", 0o600)
    rc, out, err = hl.check_config(conf)
    t.run((rc, out, err), 0, "%s: ok, 1 endpoint\n" % conf,
          "daemon: --check-config accepts the key once it is 0600", err="")

    # An origin the signer would refuse is refused at start-up.
    bad = hl.write_config(tmp, [hl.Endpoint("shop", "standard-webhooks",
                                            [sec])], name="origin.conf",
                          database="origin.db")
    insert_global(bad, ["checkpoint_key = " + loose + ".key",
                        "checkpoint_dir = " + cpdir,
                        "checkpoint_origin = l\u00e9dger.example"])
    lineno = read(bad).splitlines().index(
        "checkpoint_origin = l\u00e9dger.example") + 1
    rc, out, err = hl.check_config(bad)
    t.run((rc, out, err), 1, "", "daemon: a non-ASCII checkpoint_origin is "
          "refused at its line (exit 1)",
          err="%s:%d: checkpoint_origin must be 1 to 128 printable ASCII "
          "characters without spaces or +\n" % (bad, lineno))


# ---------------------------------------------------------------- 2 daemon

def g_daemon(t, tmp, st):
    sec = hl.stdwh_secret()
    cpdir = os.path.join(tmp, "checkpoints")
    os.mkdir(cpdir)
    conf = hl.write_config(tmp, [hl.Endpoint("shop", "standard-webhooks",
                                             [sec])])
    insert_global(conf, ["checkpoint_key = " + st["key"],
                         "checkpoint_dir = " + cpdir,
                         "checkpoint_every = 2"])
    db = os.path.join(tmp, "ledger.db")
    d = hl.Daemon(conf)
    d.start()
    try:
        for i in range(1, 7):
            capture(d, sec, "msg_a%d" % i, "pay_a%d" % i, 1000 + i)
            if i == 3:
                # Two copies of the first three entries: an old backup,
                # and the common prefix of a fork.
                hl.backup_copy(db, os.path.join(tmp, "backup3.db"))
                hl.backup_copy(db, os.path.join(tmp, "fork.db"))
        # Sequential deliveries commit one by one: a checkpoint after the
        # first commit, then every 2 entries.
        hit = d.wait_log(lambda j: j.get("msg") == "checkpoint" and
                         j.get("tree_size") == 5, timeout=10)
        t.ok(hit is not None and hit.get("file") == cp_name(5),
             "daemon: logs the checkpoint of 5 entries and its file",
             [repr(hit)])
        logged = [j.get("tree_size") for j in d.log_json()
                  if isinstance(j, dict) and j.get("msg") == "checkpoint"]
        t.ok(logged == [1, 3, 5], "daemon: checkpoints at 1, 3, 5 entries "
             "while running (checkpoint_every = 2)", [repr(logged)])
    finally:
        rc = d.stop()
    t.ok(rc == 0, "daemon: exits 0 on SIGTERM", ["exit %r" % rc] +
         d.lines[-5:])
    names = sorted(os.listdir(cpdir))
    t.ok(names == sorted([cp_name(n) for n in (1, 3, 5, 6)] +
                         ["latest.txt"]),
         "daemon: checkpoint_dir holds the checkpoints of 1, 3, 5 entries, "
         "the last one of 6 written at stop, and latest.txt", [repr(names)])
    cps = {n: os.path.join(cpdir, cp_name(n)) for n in (1, 3, 5, 6)}
    t.ok(os.path.exists(cps[6]) and
         read(os.path.join(cpdir, "latest.txt")) == read(cps[6]),
         "daemon: latest.txt is the checkpoint of 6 entries")

    leaves = leaves_of(db)
    for n, path in sorted(cps.items()):
        text = read(path) if os.path.exists(path) else ""
        want = "%s\n%d\n%s\n\n" % (KEY_NAME, n, b64(mth(leaves[:n])))
        t.ok(text.startswith(want) and
             sig_line(text).startswith(EM_DASH + " " + KEY_NAME + " ") and
             sig_raw(text)[:4] == st["key_id"] and len(sig_raw(text)) == 68,
             "daemon: checkpoint of %d entries is origin, size, the root "
             "of the first %d entries (recomputed), blank line, signature "
             "by the key" % (n, n), [repr(text)])
        t.run(cli("verify", "--db", db, "--checkpoint", path, "--pubkey",
                  st["pub"]), 0, head_line(db, 1),
              "daemon: verify --checkpoint (size %d) --pubkey -> exit 0" %
              n, err="")
    args = []
    for path in cps.values():
        args += ["--checkpoint", path]
    t.run(cli("verify", "--db", db, "--pubkey", st["pub"], *args), 0,
          head_line(db, 4), "daemon: verify against all four checkpoints "
          "-> exit 0", err="")

    # The fork: the same first three entries, then other events.
    fconf = hl.write_config(tmp, [hl.Endpoint("shop", "standard-webhooks",
                                              [sec])], name="fork.conf",
                            database="fork.db")
    f = hl.Daemon(fconf)
    f.start()
    try:
        for i in (4, 5):
            capture(f, sec, "msg_b%d" % i, "pay_b%d" % i, 2000 + i)
    finally:
        frc = f.stop()
    t.ok(frc == 0, "fork: its daemon exits 0 on SIGTERM")
    st.update(db=db, cps=cps, fork=os.path.join(tmp, "fork.db"),
              backup=os.path.join(tmp, "backup3.db"), conf=conf, sec=sec)


# ---------------------------------------------------------------- 3 CLI

def g_checkpoint_cli(t, tmp, st):
    db = st["db"]
    res = cli("checkpoint", "--db", db, "--key", st["key"], "--origin",
              "books.example/acme")
    lines = res[1].split("\n")
    root = b64(mth(leaves_of(db)))
    t.ok(res[0] == 0 and res[2] == "" and len(lines) == 6 and
         lines[:4] == ["books.example/acme", "6", root, ""] and
         lines[4].startswith(EM_DASH + " " + KEY_NAME + " ") and
         lines[5] == "",
         "checkpoint --origin: exit 0; origin, size 6 (the entry count), "
         "base64 root (recomputed), blank line, signature line", [res])
    raw = sig_raw(res[1]) if res[0] == 0 else b""
    t.ok(len(raw) == 68 and raw[:4] == st["key_id"],
         "checkpoint: the signature is the key id (4 bytes) and 64 bytes "
         "of Ed25519", [raw.hex()])
    cp = write(os.path.join(tmp, "cli-6.txt"), res[1])
    t.run(cli("verify", "--db", db, "--checkpoint", cp, "--pubkey",
              st["pub"]), 0, head_line(db, 1),
          "checkpoint: verify --checkpoint --pubkey accepts it (exit 0)",
          err="")
    res = cli("checkpoint", "--db", db, "--key", st["key"])
    t.ok(res[0] == 0 and res[1].split("\n")[0] == KEY_NAME,
         "checkpoint: without --origin, the origin is the key's name",
         [res])
    t.run(cli("verify", "--db", db, "--checkpoint", cp), 2, "",
          "checkpoint: verify --checkpoint without --pubkey -> exit 2",
          err="hookledger verify: --pubkey FILE is required to check a "
          "signature (see hookledger verify --help)\n")
    bad = os.path.join(tmp, "bad.db")
    shutil.copy(db, bad)
    a = Attacker(bad)
    a.conn.execute("UPDATE ledger SET amount = amount + 1 WHERE seq = 2")
    a.close()
    t.run(cli("checkpoint", "--db", bad, "--key", st["key"]), 1,
          re.compile(r"TAMPERED: entry 2: hash mismatch: .*\nnot signed\n"),
          "checkpoint: a tampered ledger is not signed (exit 1)", err="")


# ---------------------------------------------------------------- 4 tamper

def g_tamper(t, tmp, st):
    db, cps, pub = st["db"], st["cps"], st["pub"]

    def fresh(name):
        path = os.path.join(tmp, name + ".db")
        hl.backup_copy(db, path)
        return path

    def verify(path, *cp):
        args = ["verify", "--db", path, "--pubkey", pub]
        for c in cp:
            args += ["--checkpoint", c]
        return cli(*args)

    clean = fresh("clean")
    t.run(verify(clean, cps[5], cps[6]), 0, head_line(clean, 2),
          "tamper: the untampered copy -> exit 0", err="")

    # Truncation, done cleanly: the chain alone still verifies.
    cut = fresh("cut")
    a = Attacker(cut)
    a.conn.execute("DELETE FROM postings WHERE seq > 4")
    a.conn.execute("DELETE FROM receipts WHERE entry_seq > 4")
    a.conn.execute("DELETE FROM ledger WHERE seq > 4")
    # The facts behind them too, or verify sees postings missing.
    a.conn.execute("DELETE FROM facts WHERE payment_ref IN "
                   "('pay_a5', 'pay_a6')")
    a.rebuild_tree()
    a.close()
    t.run(cli("verify", "--db", cut), 0, head_line(cut),
          "tamper: truncated to 4 entries, triggers restored: the chain "
          "alone passes (exit 0)", err="")
    t.run(verify(cut, cps[5]), 1, "TAMPERED: %s: checkpoint %s has 5 "
          "entries but the ledger has 4: entries were cut off its end or "
          "an older copy was restored\n" % (cut, cps[5]),
          "tamper: truncation -> exit 1, the checkpoint of 5 names it",
          err="")

    backup = st["backup"]
    t.run(cli("verify", "--db", backup), 0, head_line(backup),
          "tamper: the older backup verifies alone (exit 0)", err="")
    t.run(verify(backup, cps[5]), 1, "TAMPERED: %s: checkpoint %s has 5 "
          "entries but the ledger has 3: entries were cut off its end or "
          "an older copy was restored\n" % (backup, cps[5]),
          "tamper: rollback to the backup of 3 entries -> exit 1", err="")

    fork = st["fork"]
    t.run(cli("verify", "--db", fork), 0, head_line(fork),
          "tamper: the fork verifies alone (exit 0)", err="")
    froot = mth(leaves_of(fork)).hex()
    t.run(verify(fork, cps[3], cps[5]), 1, "TAMPERED: %s: entry 5: the "
          "ledger does not extend checkpoint %s: its first 5 entries have "
          "root %s, not the checkpoint's (a fork, a rewrite or a restored "
          "copy)\n" % (fork, cps[5], froot),
          "tamper: fork after 3 entries, our checkpoint of 5 -> exit 1 "
          "naming it", err="")
    res = cli("checkpoint", "--db", fork, "--key", st["key"])
    fcp = write(os.path.join(tmp, "fork-5.txt"), res[1])
    st["fork_cp"] = fcp
    aroot = mth(leaves_of(db)[:5]).hex()
    t.run(verify(clean, fcp), 1, "TAMPERED: %s: entry 5: the ledger does "
          "not extend checkpoint %s: its first 5 entries have root %s, not "
          "the checkpoint's (a fork, a rewrite or a restored copy)\n" %
          (clean, fcp, aroot),
          "tamper: the fork's checkpoint against our ledger -> exit 1",
          err="")

    # A full rewrite: entry 2 doubled, every hash after it recomputed,
    # the tree rebuilt, the triggers put back.
    rw = fresh("rewrite")
    a = Attacker(rw)
    old = a.conn.execute("SELECT amount FROM ledger WHERE seq = 2"
                         ).fetchone()[0]
    posts = a.conn.execute("SELECT debit, credit FROM postings WHERE "
                           "seq = 2").fetchall()
    if any(max(p) != old for p in posts):
        raise hl.HLError("entry 2's postings are not all of its amount: "
                         "%r" % posts)
    a.conn.execute("UPDATE ledger SET amount = ? WHERE seq = 2", (2 * old,))
    a.conn.execute("UPDATE postings SET debit = debit * 2, "
                   "credit = credit * 2 WHERE seq = 2")
    # And the fact the postings derive from, or verify sees the postings
    # disagree with it.
    a.conn.execute("UPDATE facts SET amount = amount * 2 WHERE "
                   "payment_ref = (SELECT payment_ref FROM ledger "
                   "WHERE seq = 2)")
    a.rechain()
    a.rebuild_tree()
    a.close()
    t.run(cli("verify", "--db", rw), 0, head_line(rw),
          "tamper: rewrite (entry 2's amount doubled, chain recomputed in "
          "Python): the chain alone passes (exit 0)", err="")
    t.run(verify(rw, cps[1], cps[5]), 1, "TAMPERED: %s: entry 5: the ledger "
          "does not extend checkpoint %s: its first 5 entries have root %s, "
          "not the checkpoint's (a fork, a rewrite or a restored copy)\n" %
          (rw, cps[5], mth(leaves_of(rw)[:5]).hex()),
          "tamper: rewrite -> exit 1, the checkpoint of 5 catches it",
          err="")

    text = read(cps[5])
    raw = sig_raw(text)
    forged = write(os.path.join(tmp, "badsig.txt"),
                   resign_line(text, flip(raw, 20, 3)))
    t.run(verify(clean, forged), 1, "BAD CHECKPOINT: %s: bad signature by "
          "%s\n" % (forged, KEY_NAME),
          "tamper: one bit flipped in the signature -> exit 1", err="")
    res = cli("checkpoint", "--db", clean, "--key", st["other_key"])
    other = write(os.path.join(tmp, "otherkey.txt"), res[1])
    t.run(verify(clean, other), 1, "BAD CHECKPOINT: %s: no signature by "
          "%s\n" % (other, KEY_NAME),
          "tamper: a checkpoint signed by another key of the same name -> "
          "exit 1", err="")
    body = text.split("\n")
    body[1] = "4"
    resized = write(os.path.join(tmp, "resized.txt"), "\n".join(body))
    t.run(verify(clean, resized), 1, "BAD CHECKPOINT: %s: bad signature by "
          "%s\n" % (resized, KEY_NAME),
          "tamper: the size line of a checkpoint edited -> exit 1", err="")


# ---------------------------------------------------------------- 4b books

def g_books(t, tmp, st):
    """Facts against postings, the schema's exact set of objects, and the
    empty file."""
    db, sec, cps, pub = st["db"], st["sec"], st["cps"], st["pub"]

    def fresh(name):
        path = os.path.join(tmp, name + ".db")
        hl.backup_copy(db, path)
        return path

    def pb_line(path, seq, ref, acct, facts, postings):
        return ("TAMPERED: %s: entry %d: payment acme/%s: %s USD: its facts "
                "make the balance %d, its postings %d (debit minus credit): "
                "a fact or a posting was altered\n" %
                (path, seq, ref, acct, facts, postings))

    # A fact edited, no entry after it: the postings no longer follow.
    lone = fresh("fact-lone")
    a = Attacker(lone)
    a.conn.execute("UPDATE facts SET amount = 20000 WHERE "
                   "payment_ref = 'pay_a2'")
    a.close()
    t.run(cli("verify", "--db", lone), 1,
          pb_line(lone, 2, "pay_a2", "provider_balance", 20000, 1002),
          "books: capture pay_a2's fact edited (1002 -> 20000), triggers "
          "restored -> exit 1 naming the payment, account and amounts",
          err="")

    # The review's attack: the same edit, then the daemon derives a new,
    # correctly chained entry from the edited fact.
    att = fresh("fact-daemon")
    a = Attacker(att)
    a.conn.execute("UPDATE facts SET amount = 20000 WHERE "
                   "payment_ref = 'pay_a2'")
    a.close()
    conf = hl.write_config(tmp, [hl.Endpoint("shop", "standard-webhooks",
                                             [sec])], name="books.conf",
                           database="fact-daemon.db")
    d = hl.Daemon(conf)
    d.start()
    try:
        body = hl.body_bytes(hl.neutral_event("payment.refunded", {
            "payment_id": "pay_a2", "refund_id": "rfd_9", "amount": 100,
            "currency": "USD"}))
        r = d.post("/webhooks/shop", body,
                   hl.stdwh_headers(sec, "msg_books1", hl.now(), body))
    finally:
        rc = d.stop()
    posts = hl.query(att, "SELECT account, debit, credit FROM postings "
                     "WHERE seq = 7 ORDER BY n")
    t.ok(r.status == 200 and rc == 0 and
         sorted(posts) == [("provider_balance", 18898, 0),
                           ("refunds", 100, 0), ("sales", 0, 18998)],
         "books: on the edited copy the daemon posts entry 7 from the "
         "edited fact (18998 of sales from nothing)",
         [repr(r), "exit %r" % rc, repr(posts)])
    t.run(cli("verify", "--db", att), 1,
          pb_line(att, 2, "pay_a2", "provider_balance", 20000, 1002),
          "books: ... and verify still names the payment whose entry 2 no "
          "longer follows from its facts (exit 1)", err="")

    # The verdict (from the expectations at capture time) picks sales or
    # suspense: editing it is caught the same way.
    vd = fresh("verdict")
    a = Attacker(vd)
    a.conn.execute("UPDATE facts SET verdict = 'amount_mismatch' WHERE "
                   "payment_ref = 'pay_a3'")
    a.close()
    t.run(cli("verify", "--db", vd), 1,
          pb_line(vd, 3, "pay_a3", "sales", 0, -1003),
          "books: a capture's verdict edited (paid -> amount_mismatch) -> "
          "exit 1", err="")

    # A fact deleted: its entry has nothing to derive from.
    gone = fresh("fact-gone")
    a = Attacker(gone)
    a.conn.execute("DELETE FROM facts WHERE payment_ref = 'pay_a4'")
    a.close()
    t.run(cli("verify", "--db", gone), 1, "TAMPERED: %s: entry 4: payment "
          "acme/pay_a4: no released fact of this payment is its event's: a "
          "fact was altered, deleted or refused afterwards\n" % gone,
          "books: a capture's fact deleted -> exit 1 naming its entry",
          err="")

    # A refused event: its fact does not count while its exception
    # stands; without the exception the facts break a rule.
    rf = fresh("refused")
    conf = hl.write_config(tmp, [hl.Endpoint("shop", "standard-webhooks",
                                             [sec])], name="refused.conf",
                           database="refused.db")
    d = hl.Daemon(conf)
    d.start()
    try:
        body = hl.body_bytes(hl.neutral_event("payment.refunded", {
            "payment_id": "pay_a1", "refund_id": "rfd_big", "amount": 5000,
            "currency": "USD"}))
        r = d.post("/webhooks/shop", body,
                   hl.stdwh_headers(sec, "msg_refused1", hl.now(), body))
    finally:
        rc = d.stop()
    t.ok(r.status == 200 and rc == 0 and
         hl.count(rf, "exceptions") == 1 and hl.count(rf, "ledger") == 6,
         "books: a refund larger than its capture is refused (an "
         "exception, no entry)", [repr(r), "exit %r" % rc])
    t.run(cli("verify", "--db", rf), 0, head_line(rf),
          "books: ... and the refused fact does not count: exit 0", err="")
    a = Attacker(rf)
    a.conn.execute("DELETE FROM exceptions")
    a.close()
    t.run(cli("verify", "--db", rf), 1, "TAMPERED: %s: entry 1: payment "
          "acme/pay_a1: its facts, up to the one of event msg_refused1, "
          "break a rule (exceeds_captured_amount), yet none was refused: a "
          "fact was altered or an exception deleted\n" % rf,
          "books: the refusing exception deleted -> exit 1", err="")

    # The schema: exactly its triggers, tables and views.
    def schema_case(name, sql, line, desc):
        path = fresh(name)
        c = sqlite3.connect(path)
        c.executescript(sql)
        c.close()
        t.run(cli("verify", "--db", path), 1, "TAMPERED: %s: %s\n" %
              (path, line), desc, err="")

    schema_case("extra-trigger", "CREATE TRIGGER zz BEFORE INSERT ON ledger "
                "BEGIN SELECT RAISE(IGNORE); END;",
                "the trigger zz is not in the schema: the schema was altered",
                "schema: an extra trigger that drops inserts -> exit 1 "
                "naming it")
    schema_case("extra-view", "CREATE VIEW balances_v AS SELECT 1;",
                "the view balances_v is not in the schema: the schema was "
                "altered", "schema: an extra view -> exit 1 naming it")
    schema_case("extra-table", "CREATE TABLE notes (x TEXT);",
                "the table notes is not in the schema: the schema was "
                "altered", "schema: an extra table -> exit 1 naming it")
    schema_case("no-facts-trigger", "DROP TRIGGER facts_no_update;",
                "the append-only trigger facts_no_update is missing: the "
                "schema was altered",
                "schema: the facts' append-only trigger dropped -> exit 1")

    # The empty file: not a ledger, unless a checkpoint says it had one.
    empty = write(os.path.join(tmp, "empty.db"), "")
    t.run(cli("verify", "--db", empty), 2, "",
          "empty file: verify -> exit 2, not a ledger",
          err="hookledger verify: %s: the file is empty: not a ledger\n" %
          empty)
    t.run(cli("verify", "--db", empty, "--checkpoint", cps[5], "--pubkey",
              pub), 1, "TAMPERED: %s: the file is empty, but checkpoint %s "
          "has 5 entries: the ledger was cut short\n" % (empty, cps[5]),
          "empty file: verify with a checkpoint -> exit 1, cut short",
          err="")


# ---------------------------------------------------------------- 5 proofs

def g_proofs(t, tmp, st):
    db, cp5, pub = st["db"], st["cps"][5], st["pub"]
    res = cli("prove", "--db", db, "--seq", "3", "--checkpoint", cp5)
    try:
        proof = json.loads(res[1])
    except ValueError:
        proof = None
    conn = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    row = entries(conn)[2]
    conn.close()
    want_entry = {k: (row[k].hex() if isinstance(row[k], bytes) else row[k])
                  for k in ENTRY_COLS}
    want_entry["postings"] = [{"account": a, "debit": d, "credit": c}
                              for a, d, c in row["postings"]]
    leaves = leaves_of(db)
    want = {"entry": want_entry, "entry_hash": row["hash"].hex(),
            "leaf_index": 2, "tree_size": 5,
            "proof": [b64(x) for x in audit_path(2, leaves[:5])],
            "checkpoint": read(cp5)}
    t.ok(res[0] == 0 and proof == want,
         "prove --seq 3: exit 0, JSON with the entry as stored, its hash, "
         "leaf_index 2, tree_size 5, the RFC 9162 audit path (recomputed) "
         "and the checkpoint", [res, "expected %r" % want])
    pdir = os.path.join(tmp, "offline")
    os.mkdir(pdir)
    pf = write(os.path.join(pdir, "proof.json"), res[1])
    ok_line = "ok: entry 3 is in the tree of 5 entries signed by %s\n" % \
        KEY_NAME
    t.run(cli("check-proof", "--proof", pf, "--pubkey", pub, cwd=pdir), 0,
          ok_line, "check-proof: valid without the database (exit 0)",
          err="")
    t.run(cli("prove", "--db", db, "--seq", "6", "--checkpoint", cp5), 2,
          "", "prove: entry 6 is not under the checkpoint of 5 -> exit 2 "
          "(a usage error, not tampering)",
          err="hookledger prove: --seq 6: the checkpoint covers 5 entries; "
          "sign a newer one (see hookledger prove --help)\n")
    nent = len(leaves_of(db))
    t.run(cli("prove", "--db", db, "--seq", "99", "--checkpoint", cp5), 2,
          "", "prove: an entry beyond the ledger -> exit 2, its size named",
          err="hookledger prove: --seq 99: the ledger has %d entries (see "
          "hookledger prove --help)\n" % nent)
    t.run(cli("prove", "--db", st["fork"], "--seq", "2", "--checkpoint",
              cp5), 1, "", "prove: against a ledger that forked from the "
          "checkpoint -> exit 1",
          err="hookledger: this ledger's tree of 5 entries does not have "
          "the checkpoint's root: one of them is of a fork or a rewrite\n")

    def check(mutated, desc, reason):
        path = write(os.path.join(pdir, "bad.json"), json.dumps(mutated))
        t.run(cli("check-proof", "--proof", path, "--pubkey", pub,
                  cwd=pdir), 1, "INVALID: %s\n" % reason, desc, err="")

    changed = "the entry's fields do not hash to entry_hash: the entry " \
        "was changed"
    m = json.loads(res[1])
    m["entry"]["amount"] ^= 1
    check(m, "check-proof: one bit of the entry's amount -> exit 1", changed)
    m = json.loads(res[1])
    m["entry"]["payment_ref"] = m["entry"]["payment_ref"][:-1] + chr(
        ord(m["entry"]["payment_ref"][-1]) ^ 1)
    check(m, "check-proof: one bit of the entry's payment_ref -> exit 1",
          changed)
    m = json.loads(res[1])
    m["entry_hash"] = flip(bytes.fromhex(m["entry_hash"]), 31).hex()
    check(m, "check-proof: one bit of entry_hash -> exit 1", changed)
    m = json.loads(res[1])
    m["entry"]["amount"] ^= 1
    r = dict(row, amount=m["entry"]["amount"])
    m["entry_hash"] = entry_hash(r, row["prev_hash"], row["postings"]).hex()
    check(m, "check-proof: entry and entry_hash changed together -> exit 1",
          "the audit path does not lead to the checkpoint's root")
    for i in range(len(want["proof"])):
        m = json.loads(res[1])
        m["proof"][i] = b64(flip(base64.b64decode(m["proof"][i]), 0))
        check(m, "check-proof: one bit of proof hash %d -> exit 1" % i,
              "the audit path does not lead to the checkpoint's root")
    text = read(cp5)
    lines = text.split("\n")
    lines[2] = b64(flip(base64.b64decode(lines[2]), 7))
    m = json.loads(res[1])
    m["checkpoint"] = "\n".join(lines)
    check(m, "check-proof: one bit of the checkpoint's root -> exit 1",
          "bad signature by %s" % KEY_NAME)
    m = json.loads(res[1])
    m["checkpoint"] = resign_line(text, flip(sig_raw(text), 40))
    check(m, "check-proof: one bit of the checkpoint's signature -> exit 1",
          "bad signature by %s" % KEY_NAME)
    m = json.loads(res[1])
    m["checkpoint"] = read(st["fork_cp"])
    check(m, "check-proof: the proof under the fork's checkpoint -> exit 1",
          "the audit path does not lead to the checkpoint's root")

    # An inner node of the stored tree, off its right edge: verify checks
    # only the right edge, so prove must check its own proof.
    inner = os.path.join(tmp, "inner-node.db")
    hl.backup_copy(db, inner)
    a = Attacker(inner)
    a.conn.execute("UPDATE merkle_nodes SET hash = ? WHERE level = 1 AND "
                   "idx = 0", (sha(b"not the node"),))
    a.close()
    t.run(cli("verify", "--db", inner), 0, head_line(inner),
          "prove: an inner Merkle node off the right edge corrupted: "
          "verify passes (it checks the right edge)", err="")
    t.run(cli("prove", "--db", inner, "--seq", "3", "--checkpoint", cp5), 1,
          "", "prove: ... but prove checks its proof: exit 1, no proof "
          "printed", err="hookledger: TAMPERED: the stored Merkle tree is "
          "damaged: the audit path of entry 3 does not lead to the "
          "checkpoint's root; no proof printed\n")


# ---------------------------------------------------------------- 6 consistency

def g_consistency(t, tmp, st):
    db, cps, pub = st["db"], st["cps"], st["pub"]
    leaves = leaves_of(db)
    res = cli("consistency", "--db", db, "--old", cps[3], "--new", cps[5],
              "--pubkey", pub)
    try:
        got = json.loads(res[1])
    except ValueError:
        got = None
    want = {"old_size": 3, "new_size": 5, "old_root": b64(mth(leaves[:3])),
            "new_root": b64(mth(leaves[:5])),
            "proof": [b64(x) for x in subproof(3, leaves[:5], True)]}
    t.ok(res[0] == 0 and got == want and res[2] == "ok: the checkpoint of "
         "5 entries extends the one of 3\n",
         "consistency 3 -> 5: exit 0, the RFC 9162 proof (recomputed), "
         "ok on stderr", [res, "expected %r" % want])
    for old, new in ((1, 6), (5, 6), (6, 6)):
        t.run(cli("consistency", "--db", db, "--old", cps[old], "--new",
                  cps[new], "--pubkey", pub), 0, re.compile(r"\{.*\}\n",
                                                             re.S),
              "consistency %d -> %d: exit 0" % (old, new),
              err="ok: the checkpoint of %d entries extends the one of "
              "%d\n" % (new, old))
    t.run(cli("consistency", "--db", db, "--old", cps[5], "--new",
              st["fork_cp"], "--pubkey", pub), 1,
          "INCONSISTENT: this ledger's tree of 5 entries does not have the "
          "new checkpoint's root: one of them is of a fork or a rewrite\n",
          "consistency: our checkpoint of 5 and the fork's -> exit 1",
          err="")
    t.run(cli("consistency", "--db", st["fork"], "--old", cps[5], "--new",
              st["fork_cp"], "--pubkey", pub), 1,
          "INCONSISTENT: this ledger's tree of 5 entries does not have the "
          "old checkpoint's root: one of them is of a fork or a rewrite\n",
          "consistency: the same pair checked on the fork -> exit 1",
          err="")
    t.run(cli("consistency", "--db", db, "--old", cps[5], "--new", cps[3],
              "--pubkey", pub), 1,
          "INCONSISTENT: the old checkpoint (5 entries) is larger than the "
          "new (3)\n", "consistency: old newer than new -> exit 1", err="")
    t.run(cli("consistency", "--db", db, "--old", cps[3], "--new", cps[5]),
          2, "", "consistency: without --pubkey -> exit 2",
          err="hookledger consistency: --pubkey FILE is required to check a "
          "signature (see hookledger consistency --help)\n")


# ---------------------------------------------------------------- 7 export

def g_export(t, tmp, st):
    db, cps, pub = st["db"], st["cps"], st["pub"]
    out = os.path.join(tmp, "ledger.jsonl")
    t.run(cli("export", "--db", db, "--out", out), 0, "",
          "export --out: exit 0, nothing on stdout", err="")
    lines = read(out).splitlines(keepends=True)
    conn = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    rows = entries(conn)
    conn.close()
    want = []
    for r in rows:
        e = {k: (r[k].hex() if isinstance(r[k], bytes) else r[k])
             for k in ENTRY_COLS if k != "hash"}
        e["postings"] = [{"account": a, "debit": d, "credit": c}
                         for a, d, c in r["postings"]]
        e["entry_hash"] = r["hash"].hex()
        e["leaf_hash"] = leaf(r["hash"]).hex()
        want.append(e)
    t.ok([json.loads(x) for x in lines] == want,
         "export: one JSON line per entry, fields as stored, entry_hash and "
         "leaf_hash (recomputed)", [lines[:2], want[:2]])
    t.run(cli("export", "--db", db, "--out", out), 2, "",
          "export: an existing --out file is not overwritten (exit 2)",
          err="hookledger: %s: File exists\n" % out)

    def ve(path, *cp):
        args = ["verify-export", path, "--pubkey", pub]
        for c in cp:
            args += ["--checkpoint", c]
        return cli(*args, cwd=tmp)

    t.run(ve(out, cps[3], cps[6]), 0, "ok: 6 entries, head seq 6, head hash "
          "%s, tree root %s\n" % (rows[-1]["hash"].hex(),
                                  mth(leaves_of(db)).hex()),
          "verify-export: intact, with two checkpoints, no database -> "
          "exit 0", err="")

    def bad(name, new_lines, desc, reason, *cp):
        path = write(os.path.join(tmp, name), "".join(new_lines))
        t.run(ve(path, *cp), 1, "TAMPERED: %s: %s\n" % (path, reason),
              desc, err="")

    e = json.loads(lines[2])
    e["amount"] += 1
    bad("edited.jsonl", lines[:2] + [json.dumps(e) + "\n"] + lines[3:],
        "verify-export: line 3's amount edited -> exit 1 naming line 3",
        "line 3: entry 3: hash mismatch: its fields were changed")
    bad("deleted.jsonl", lines[:2] + lines[3:],
        "verify-export: line 3 deleted -> exit 1 naming line 3",
        "line 3: holds entry 4, expected entry 3 (lines deleted, added or "
        "reordered)")
    bad("swapped.jsonl", lines[:1] + [lines[3], lines[2], lines[1]] +
        lines[4:], "verify-export: lines 2 and 4 swapped -> exit 1 naming "
        "line 2", "line 2: holds entry 4, expected entry 2 (lines deleted, "
        "added or reordered)")
    bad("cut.jsonl", lines[:5], "verify-export: last line cut, checkpoint "
        "of 6 -> exit 1", "checkpoint %s has 6 entries but the export has 5: "
        "entries were cut off its end or it is of an older copy" % cps[6],
        cps[6])
    bad("garbage.jsonl", lines[:4] + ["{\"seq\": 5,\n"] + lines[5:],
        "verify-export: line 5 not JSON -> exit 1 naming line 5",
        "line 5: not JSON (column 10)")

    # Rewritten consistently: only a checkpoint catches it.
    rw, prev = [], ZERO
    for r in rows:
        r = dict(r)
        if r["seq"] == 2:
            r["payment_ref"] = "pay_forged"
        h = entry_hash(r, prev, r["postings"])
        e = json.loads(lines[r["seq"] - 1])
        e.update(payment_ref=r["payment_ref"], prev_hash=prev.hex(),
                 entry_hash=h.hex(), leaf_hash=leaf(h).hex())
        rw.append(json.dumps(e) + "\n")
        prev = h
    path = write(os.path.join(tmp, "rewritten.jsonl"), "".join(rw))
    t.run(ve(path), 0, re.compile(r"ok: 6 entries, .*\n"),
          "verify-export: rewritten in Python, no checkpoint -> passes "
          "(exit 0)", err="")
    bad("rewritten2.jsonl", rw, "verify-export: rewritten, checkpoint of 3 "
        "-> exit 1 naming line 3", "line 3: the export does not extend "
        "checkpoint %s: its first 3 entries have another root (a fork or a "
        "rewrite)" % cps[3], cps[3])

    # Postings whose sums wrap around 2^64 to the amount must not pass.
    r = dict(rows[0])
    big = 2 ** 63 - 1
    extra = 2 ** 64 - 2 * big
    r["postings"] = [("provider_balance", big, 0),
                     ("provider_balance", big, 0),
                     ("provider_balance", r["amount"] + extra, 0),
                     ("sales", 0, big), ("sales", 0, big),
                     ("sales", 0, r["amount"] + extra)]
    h = entry_hash(r, ZERO, r["postings"])
    e = json.loads(lines[0])
    e.update(postings=[{"account": a, "debit": d, "credit": c}
                       for a, d, c in r["postings"]],
             entry_hash=h.hex(), leaf_hash=leaf(h).hex())
    bad("overflow.jsonl", [json.dumps(e) + "\n"],
        "verify-export: postings that sum past 2^64 back to the amount -> "
        "exit 1", "line 1: entry 1: a posting is malformed")


# ---------------------------------------------------------------- 8 progress

def g_progress(t, tmp, st):
    db = st["db"]
    t.run(cli("verify", "--db", db), 0, head_line(db),
          "progress: stderr of a clean verify into a pipe is empty", err="")
    master, slave = os.openpty()
    try:
        p = subprocess.Popen([hl.HOOKLEDGER, "verify", "--db", db],
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        slave = None
        got, deadline = b"", time.monotonic() + 30
        while time.monotonic() < deadline and len(got) < 4096:
            r, _, _ = select.select([master], [], [], 1)
            if not r:
                if p.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 1024)
            except OSError:         # EIO: the terminal's last writer left
                break
            if not chunk:
                break
            got += chunk
        out = p.communicate(timeout=30)[0].decode()
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    t.ok(p.returncode == 0 and out == head_line(db) and
         got.decode() == "\rverify: 6 of 6 entries (100%)\r\n",
         "progress: on a terminal, stderr shows the progress line",
         [p.returncode, repr(out), repr(got)])


GROUPS = [("keys", g_keys), ("daemon", g_daemon),
          ("checkpoint-cli", g_checkpoint_cli), ("tamper", g_tamper),
          ("books", g_books),
          ("proofs", g_proofs), ("consistency", g_consistency),
          ("export", g_export), ("progress", g_progress)]


def main():
    t = Tap()
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="hl-audit-")
    st = {}
    for name, fn in GROUPS:
        nlogs = len(hl.ALL_LOGS)
        try:
            fn(t, tmp, st)
        except Exception:
            diag = traceback.format_exc().splitlines()
            if len(hl.ALL_LOGS) > nlogs:
                diag += ["last daemon's stderr, tail:"] + \
                    hl.ALL_LOGS[-1][-10:]
            t.ok(False, "%s: ran to the end" % name, diag)
            # Later groups build on this one's ledger.
            break
    texts = ["\n".join(lines) for lines in hl.ALL_LOGS]
    leaked = [s for s in hl.SENSITIVE if any(s in x for x in texts)]
    t.ok(not leaked, "no daemon's stderr shows a secret or a signature",
         ["leaked: %r" % leaked[:3]])
    if t.failed and os.environ.get("HL_KEEP"):
        print("# kept %s" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print("# elapsed %.1f s" % (time.monotonic() - t0))
    print("1..%d" % t.n)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
