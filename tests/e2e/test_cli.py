#!/usr/bin/env python3
"""
End-to-end tests of the `hookledger` command's edges, speaking TAP: a
mistyped --db never creates a ledger, a --config refuses tenants it does
not name, per-command help and one-line usage errors, the merchant's
`expect` messages, `token list` and `token revoke` (and the daemon's 401
for a revoked token), and hookledgerd's refusal of a config without
endpoints.

Run from the build directory as `python3 tests/e2e/test_cli.py` with
HL_BUILDDIR and HL_TOP_SRCDIR set as for test_e2e.py, whose harness this
file shares. HL_KEEP=1 keeps the directories of groups that failed;
HL_E2E_ONLY=WORD runs only the groups whose name contains WORD.
"""

import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hlclient as hl  # noqa: E402
from test_e2e import Err, Run, expect, run_groups  # noqa: E402

COMMANDS = ("verify", "expect", "token create", "token list",
            "token revoke", "balances", "exceptions", "keygen", "checkpoint",
            "prove", "check-proof", "consistency", "export", "verify-export",
            "reconcile", "pause", "resume")


def cli(*args, timeout=20):
    """hookledger ARGS: (rc, stdout, stderr)."""
    p = subprocess.run([hl.HOOKLEDGER] + list(args),
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def usage_line(cmd, msg):
    return "hookledger %s: %s (see hookledger %s --help)\n" % (cmd, msg, cmd)


def files_of(path):
    """path and its SQLite companions that exist."""
    return [p for p in (path, path + "-wal", path + "-shm", path +
                        "-journal") if os.path.exists(p)]


def shop(tenant="acme"):
    s = hl.stdwh_secret()
    return hl.Endpoint("shop", "standard-webhooks", [s], tenant=tenant), s


# ---------------------------------------------------------------- 1 --db

def g_missing_db(t, tmp):
    """No command creates a ledger: only hookledgerd does."""
    cases = [
        ("pause", ["--tenant", "dev"]),
        ("pause", []),
        ("pause", ["--list"]),
        ("resume", ["--tenant", "dev"]),
        ("token create", ["--tenant", "dev", "--scope", "ledger:read"]),
        ("token list", []),
        ("token revoke", ["--id", "0123456789ab"]),
        ("expect", ["--tenant", "dev", "--payment", "pi_1", "--amount",
                    "2000", "--currency", "USD"]),
        ("balances", ["--tenant", "dev"]),
        ("exceptions", []),
        ("export", []),
        ("verify", []),
    ]
    for i, (cmd, args) in enumerate(cases):
        db = os.path.join(tmp, "typo%d.db" % i)
        rc, out, err = cli(*(cmd.split() + ["--db", db] + args))
        want = "hookledger %s: %s: no such ledger (only hookledgerd " \
            "creates one)\n" % (cmd, db)
        t.eq((rc, out, err, files_of(db)), (2, "", want, []),
             "missing db: %s %s -> exit 2, one line, no file made" %
             (cmd, " ".join(args)))

    # An SQLite file that is not a ledger, and a ledger of an older
    # schema: refused as they are, never converted or migrated.
    other = os.path.join(tmp, "other.db")
    c = sqlite3.connect(other)
    c.execute("CREATE TABLE t (x)")
    c.commit()
    c.close()
    old = os.path.join(tmp, "old.db")
    c = sqlite3.connect(old)
    c.execute("CREATE TABLE t (x)")
    c.execute("PRAGMA user_version = 4")
    c.commit()
    c.close()
    for cmd, args in (("pause", ["--tenant", "dev"]),
                      ("token create", ["--tenant", "dev", "--scope",
                                        "ledger:read"]),
                      ("expect", ["--tenant", "dev", "--payment", "pi_1",
                                  "--amount", "1", "--currency", "USD"])):
        rc, out, err = cli(*(cmd.split() + ["--db", other] + args))
        t.eq((rc, out, err), (2, "", "hookledger %s: %s: not a hookledger "
                              "ledger (schema version 0)\n" % (cmd, other)),
             "not a ledger: %s -> exit 2, one line" % cmd)
        rc, out, err = cli(*(cmd.split() + ["--db", old] + args))
        t.eq((rc, out, err), (2, "", "hookledger %s: %s: schema version 4 "
                              "is older than this build's 6; start "
                              "hookledgerd on it once to upgrade it\n" %
                              (cmd, old)),
             "old schema: %s -> exit 2, one line" % cmd)
    c = sqlite3.connect(old)
    v = c.execute("PRAGMA user_version").fetchone()[0]
    tables = sorted(r[0] for r in c.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'"))
    mode = c.execute("PRAGMA journal_mode").fetchone()[0]
    c.close()
    t.eq((v, tables, mode), (4, ["t"], "delete"),
         "old schema: the refused commands left it at version 4, unchanged")


# ---------------------------------------------------------------- 2 tenants

def g_config_tenant(t, tmp):
    ep, _ = shop("dev")
    run = Run(t, "tenants", tmp, [ep])
    with open(run.config, "a") as f:
        f.write("\n[tenant books]\nrequire_expectations = yes\n")
    with run:
        conf, db = run.config, run.db
        cases = [
            ("pause", ["--tenant", "Dev"]),
            ("resume", ["--tenant", "Dev"]),
            ("token create", ["--tenant", "Dev", "--scope", "ledger:read"]),
            ("token list", ["--tenant", "Dev"]),
            ("expect", ["--tenant", "Dev", "--payment", "pi_1", "--amount",
                        "2000", "--currency", "USD"]),
            ("balances", ["--tenant", "Dev"]),
            ("exceptions", ["--tenant", "Dev"]),
            ("reconcile", ["--tenant", "Dev"]),
        ]
        for cmd, args in cases:
            rc, out, err = cli(*(cmd.split() + ["--config", conf] + args))
            t.eq((rc, out, err), (2, "", "hookledger %s: tenant Dev is not "
                                  "in %s: no [endpoint] or [tenant] section "
                                  "names it\n" % (cmd, conf)),
                 "config tenant: %s --tenant Dev (not configured) -> exit 2,"
                 " one line" % cmd)
        t.eq([hl.count(db, x) for x in ("pauses", "tokens", "expectations")],
             [0, 0, 0], "config tenant: the refused commands stored nothing")

        rc, out, err = cli("pause", "--config", conf, "--tenant", "dev")
        t.eq((rc, out, err), (0, "paused tenant dev: hookledgerd answers 503 "
                              "within 1 s\n", ""),
             "config tenant: pause --tenant dev (an endpoint's tenant) works")
        rc, out, err = cli("resume", "--config", conf, "--tenant", "dev")
        t.eq((rc, err), (0, ""), "config tenant: resume --tenant dev works")
        rc, out, err = cli("balances", "--config", conf, "--tenant", "books")
        t.eq((rc, err), (0, ""), "config tenant: a tenant named only by a "
             "[tenant] section is known")
        rc, out, err = cli("pause", "--db", db, "--tenant", "Dev")
        t.eq(rc, 0, "config tenant: with --db there is no list of tenants "
             "to check against")
        cli("resume", "--db", db, "--tenant", "Dev")
        t.eq(hl.count(db, "pauses"), 0, "config tenant: nothing stays paused")


# ---------------------------------------------------------------- 3 help

def g_help(t, tmp):
    rc, out, err = cli("--help")
    t.ok(rc == 0 and err == "" and out.startswith("usage: hookledger "
                                                   "COMMAND") and
         all(re.search(r"^  %s " % re.escape(c), out, re.M)
             for c in COMMANDS) and
         "hookledger COMMAND --help" in out,
         "help: hookledger --help -> exit 0, the overview naming every "
         "command", ["rc %d stderr %r" % (rc, err), out])
    overview = out
    for cmd in COMMANDS:
        rc, out, err = cli(*(cmd.split() + ["--help"]))
        t.ok(rc == 0 and err == "" and
             out.startswith("usage: hookledger %s" % cmd) and
             "\nExit status:\n" in out and out != overview and
             len(out.splitlines()) < 30,
             "help: hookledger %s --help -> exit 0, its own usage with exit "
             "codes on stdout" % cmd, ["rc %d stderr %r" % (rc, err), out])
    rc, out, err = cli("token", "--help")
    t.ok(rc == 0 and err == "" and all(
        "usage: hookledger token %s" % s in out
        for s in ("create", "list", "revoke")),
        "help: hookledger token --help -> exit 0, its three subcommands",
        ["rc %d stderr %r" % (rc, err), out])
    rc, out, err = cli("help", "balances")
    t.eq((rc, out), (0, cli("balances", "--help")[1]),
         "help: hookledger help balances is balances --help")

    db = os.path.join(tmp, "none.db")
    cases = [
        (["balances", "--db", db], "balances", "--tenant is required"),
        (["balances", "--db", db, "--tenant", "a b"], "balances",
         "--tenant must be 1 to 64 of [A-Za-z0-9_-]"),
        (["verify", "--db", db, "--tenant", "dev"], "verify",
         "--tenant does not apply to verify"),
        (["verify", "--db", db, "--bogus"], "verify",
         "unknown option --bogus"),
        (["verify", "--db"], "verify", "--db needs a value"),
        (["verify", "--db", db, "stray"], "verify",
         "unexpected argument \"stray\""),
        (["pause", "--db", db, "--scope", "ledger:read"], "pause",
         "--scope does not apply to pause"),
        (["token", "create", "--db", db, "--tenant", "dev"], "token create",
         "--scope must be payments:write or ledger:read"),
        (["token", "revoke", "--db", db], "token revoke",
         "--id is required"),
        (["token", "revoke", "--db", db, "--id", "xyz"], "token revoke",
         "--id must be 12 to 64 hexadecimal characters (from hookledger "
         "token list)"),
        (["expect", "--db", db, "--tenant", "dev"], "expect",
         "--payment is required"),
        (["balances", "--tenant", "dev"], "balances",
         "give exactly one of --db FILE or --config FILE"),
        (["keygen"], "keygen", "--out is required"),
        (["keygen", "--out", os.path.join(tmp, "k"), "--db", db], "keygen",
         "--db does not apply to keygen"),
    ]
    for argv, cmd, msg in cases:
        rc, out, err = cli(*argv)
        t.eq((rc, out, err, files_of(db)), (2, "", usage_line(cmd, msg), []),
             "usage: %s -> exit 2, one line and a pointer to --help" %
             " ".join(a.replace(tmp, "T") for a in argv))
    for argv, msg in ((["token"], "hookledger token: expected create, list "
                       "or revoke (see hookledger token --help)\n"),
                      (["token", "delete"], "hookledger token: expected "
                       "create, list or revoke (see hookledger token "
                       "--help)\n"),
                      (["nosuch"], "hookledger: unknown command \"nosuch\" "
                       "(see hookledger --help)\n"),
                      ([], "hookledger: a command is required (see "
                       "hookledger --help)\n")):
        rc, out, err = cli(*argv)
        t.eq((rc, out, err), (2, "", msg), "usage: hookledger %s -> exit 2, "
             "one line" % " ".join(argv))

    script = os.path.join(hl.TOP_SRCDIR, "scripts", "send-test-event")
    p = subprocess.run([script, "--help"], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=20)
    out = p.stdout.decode()
    t.ok(p.returncode == 0 and out.startswith("usage: scripts/send-test-event")
         and p.stderr == b"", "help: scripts/send-test-event --help -> exit "
         "0, its usage on stdout", [p.returncode, out, p.stderr])
    p = subprocess.run([script, "nosuch"], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=20)
    t.eq((p.returncode, p.stdout), (2, b""), "usage: scripts/send-test-event "
         "nosuch -> exit 2")


# ---------------------------------------------------------------- 4 expect

def g_expect(t, tmp):
    ep, _ = shop("dev")
    with Run(t, "expect", tmp, [ep]) as run:
        db = run.db
        base = ["expect", "--db", db, "--tenant", "dev", "--payment",
                "pi_1", "--currency", "USD", "--amount"]
        rc, out, err = cli(*(base + ["2000"]))
        t.eq((rc, out, err), (0, "registered: payment pi_1 of tenant dev is "
                              "expected as 2000 USD (20.00)\n", ""),
             "expect: a new expectation -> exit 0, one line")
        rc, out, err = cli(*(base + ["2000"]))
        t.eq((rc, out, err), (0, "already registered: payment pi_1 of "
                              "tenant dev is expected as 2000 USD "
                              "(20.00)\n", ""),
             "expect: the same again -> exit 0, says so")
        rc, out, err = cli(*(base + ["2001"]))
        t.eq((rc, out, err), (1, "", "hookledger expect: payment pi_1 of "
                              "tenant dev is already expected as 2000 USD, "
                              "not 2001 USD; an expectation cannot be "
                              "changed\n"),
             "expect: other values -> exit 1, one human line on stderr")
        rc, out, err = cli(*(base + ["2001", "--json"]))
        t.eq((rc, json.loads(out) if out else None, err),
             (1, {"error": "expectation_conflict", "message": "this payment "
                  "is already expected with another amount or currency"},
              ""), "expect: --json gives the API's conflict body on stdout")
        rc, out, err = cli(*(base + ["2000", "--json"]))
        t.eq((rc, json.loads(out) if out else None, err),
             (0, {"payment": "pi_1", "amount": 2000, "currency": "USD",
                  "status": "expected"}, ""),
             "expect: --json gives the API's body on stdout")
        t.eq(hl.query(db, "SELECT tenant, payment_ref, amount, currency FROM "
                      "expectations"), [("dev", "pi_1", 2000, "USD")],
             "expect: one expectation row, the first")


# ---------------------------------------------------------------- 5 tokens

def g_tokens(t, tmp):
    ep, _ = shop("dev")
    run = Run(t, "tokens", tmp, [ep])
    with open(run.config, "a") as f:
        f.write("\n[tenant other]\n")
    with run:
        db, conf = run.db, run.config
        rc, out, err = cli("token", "list", "--db", db)
        t.eq((rc, out, err), (0, "no tokens\n", ""),
             "tokens: token list of a new ledger says there are none")
        rd = hl.create_token(db, "dev", "ledger:read")
        wr = hl.create_token(db, "dev", "payments:write")
        ot = hl.create_token(db, "other", "ledger:read")
        rid, wid, oid = (hashlib.sha256(x.encode()).hexdigest()[:12]
                         for x in (rd, wr, ot))
        created = dict((bytes(h).hex()[:12], c) for h, c in hl.query(
            db, "SELECT token_sha256, created_at FROM tokens"))

        def when(i):
            return time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                 time.gmtime(created[i]))
        rc, out, err = cli("token", "list", "--config", conf)
        lines = out.splitlines()
        rows = sorted(l.split() for l in lines[1:])
        t.eq((rc, err, lines[:1], rows),
             (0, "", ["id            tenant           scope           "
                      "created"],
              sorted([[rid, "dev", "ledger:read", when(rid)],
                      [wid, "dev", "payments:write", when(wid)],
                      [oid, "other", "ledger:read", when(oid)]])),
             "tokens: token list shows id, tenant, scope and creation time")
        t.ok(not any(x in out or x[4:] in out for x in (rd, wr, ot)),
             "tokens: token list never shows a token")
        rc, out, err = cli("token", "list", "--db", db, "--tenant", "other",
                           "--json")
        t.eq((rc, json.loads(out) if rc == 0 else out, err),
             (0, [{"id": oid, "tenant": "other", "scope": "ledger:read",
                   "created_at": created[oid]}], ""),
             "tokens: token list --tenant other --json")

        path = "/v1/tenants/dev/balances"
        hdr = hl.api_headers(rd, content_type=None)
        t.eq(run.d.get(path, hdr).status, 200,
             "tokens: GET balances with the read token -> 200")
        rc, out, err = cli("token", "revoke", "--db", db, "--id", rid)
        t.eq((rc, out, err), (0, "revoked token %s (tenant dev, scope "
                              "ledger:read): hookledgerd refuses it from its "
                              "next request\n" % rid, ""),
             "tokens: token revoke --id -> exit 0, says what it revoked")
        expect(t, run.d.get(path, hdr), 401, Err("unauthorized"),
               "tokens: the revoked token's next GET -> 401 unauthorized",
               extra={"WWW-Authenticate": "Bearer"})
        t.eq(sorted(bytes(h).hex()[:12] for (h,) in hl.query(
            db, "SELECT token_sha256 FROM tokens")), sorted([wid, oid]),
             "tokens: the revoked token's row is gone, the others stay")
        rc, out, err = cli("token", "revoke", "--db", db, "--id", rid)
        t.eq((rc, out, err), (2, "", "hookledger token revoke: no token has "
                              "id %s (hookledger token list shows them)\n" %
                              rid),
             "tokens: revoking it again -> exit 2, one line")
        rc, out, err = cli("token", "revoke", "--db", db, "--id",
                           hashlib.sha256(ot.encode()).hexdigest().upper())
        t.eq((rc, err), (0, ""), "tokens: a whole upper-case hash is an id "
             "too")
        t.eq(hl.count(db, "tokens"), 1, "tokens: one token is left")
        rc, out, _ = hl.run_verify(db)
        t.eq(rc, 0, "tokens: verify still passes after revocations")


# ---------------------------------------------------------------- 6 config

def g_no_endpoints(t, tmp):
    conf = hl.write_config(tmp, [], tail=["", "[tenant acme]"])
    db = os.path.join(tmp, "ledger.db")
    rc, out, err = hl.check_config(conf)
    t.eq((rc, out, err), (1, "", "%s: no [endpoint] section\n" % conf),
         "no endpoints: --check-config -> exit 1, one line")
    p = subprocess.run([hl.HOOKLEDGERD, "--config", conf],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=20)
    t.eq((p.returncode, p.stdout, p.stderr.decode(), files_of(db)),
         (1, b"", "%s: no [endpoint] section\n" % conf, []),
         "no endpoints: hookledgerd refuses to start, creates no ledger")


GROUPS = [
    ("missing db", g_missing_db),
    ("config tenant", g_config_tenant),
    ("help", g_help),
    ("expect", g_expect),
    ("tokens", g_tokens),
    ("no endpoints", g_no_endpoints),
]


def main():
    return run_groups(GROUPS, "hl-cli-", "a token or a secret")


if __name__ == "__main__":
    sys.exit(main())
