#!/usr/bin/env python3
"""
End-to-end tests of the daemon's limits, speaking TAP: header size and
count (431), rate limits per client address, per endpoint and per tenant
(429 with Retry-After), the total request deadline against a client that
trickles bytes, and connections per client address.

Run from the build directory as `python3 tests/e2e/test_limits.py` with
HL_BUILDDIR and HL_TOP_SRCDIR set as for test_e2e.py, whose harness this
file shares. Clients take distinct loopback addresses (127.0.0.x) so that
each is its own client address. HL_KEEP=1 keeps the directories of groups
that failed; HL_E2E_ONLY=WORD runs only the groups whose name contains WORD.
"""

import os
import select
import socket
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hlclient as hl  # noqa: E402
from test_e2e import Err, Run, expect, run_groups  # noqa: E402

RATE_LIMITED = Err("rate_limited")
TOO_LARGE = Err("headers_too_large")
RETRY_1 = {"Retry-After": "1"}


class LRun(Run):
    """Run with more top-level lines and trailing sections in the config."""

    def __init__(self, t, label, dirpath, endpoints, top=(), tail=()):
        Run.__init__(self, t, label, dirpath, endpoints)
        self.config = hl.write_config(dirpath, endpoints, top=top,
                                      tail=tail)
        self.d = hl.Daemon(self.config)


def stdwh_event(run, ep, sec, msg_id, pay, source=None, secret=None):
    ev = hl.neutral_event("payment.captured", {
        "payment_id": pay, "amount": 100, "currency": "USD"})
    body = hl.body_bytes(ev)
    return run.d.post("/webhooks/" + ep, body,
                      hl.stdwh_headers(secret or sec, msg_id, hl.now(),
                                       body), source=source)


def await_status(fn, want, limit=5.0):
    """Call fn() until its answer has status want, at most limit seconds
    and 100 times; returns the last answer. A refused request takes no
    token, so polling does not delay the refill it waits for."""
    deadline = time.monotonic() + limit
    r = None
    for _ in range(int(limit * 20)):
        r = fn()
        if r.status == want or time.monotonic() > deadline:
            return r
        time.sleep(0.1)
    return r


def logged(run, pred, limit=5):
    return run.d.wait_log(lambda j: j.get("msg") == "request" and pred(j),
                          limit) is not None


def head_of(total, path="/nope"):
    """A GET head of exactly total bytes (request line, fields, blank
    line), padded in one X-Pad field."""
    base = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % path
    pad = total - len(base) - len("X-Pad: \r\n\r\n")
    return (base + "X-Pad: " + "a" * pad + "\r\n\r\n").encode()


# ---------------------------------------------------------------- headers

def g_headers(t, tmp):
    sec = hl.stdwh_secret()
    ep = hl.Endpoint("shop", "standard-webhooks", [sec])
    top = ["max_header_bytes = 2048", "max_headers = 8",
           "connection_memory = 16384"]
    with LRun(t, "headers", tmp, [ep], top=top) as run:
        port = run.d.port
        for total, status in ((2048, 404), (2049, 431)):
            h = head_of(total)
            r, _, note = hl.raw_exchange(port, h, (), timeout=5)
            if r is None:
                t.ok(False, "headers: %d header bytes -> %d" %
                     (total, status), [note])
            elif status == 404:
                expect(t, r, 404, Err("not_found"),
                       "headers: exactly max_header_bytes (2048) -> 404, "
                       "served")
            else:
                expect(t, r, 431, TOO_LARGE,
                       "headers: one byte over max_header_bytes -> 431")
        base = "GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for n, status in ((8, 404), (9, 431)):
            fields = "".join("X-F%d: v\r\n" % i for i in range(n - 1))
            r, _, note = hl.raw_exchange(
                port, (base + fields + "\r\n").encode(), (), timeout=5)
            if r is None:
                t.ok(False, "headers: %d fields" % n, [note])
            elif status == 404:
                expect(t, r, 404, Err("not_found"),
                       "headers: max_headers (8) fields -> 404, served")
            else:
                expect(t, r, 431, TOO_LARGE,
                       "headers: 9 fields, over max_headers -> 431")
        # A correctly signed event refused for its fields, before its
        # body or signature is looked at: nothing is recorded.
        ev = hl.neutral_event("payment.captured", {
            "payment_id": "pay_h1", "amount": 1, "currency": "USD"})
        body = hl.body_bytes(ev)
        hdrs = hl.stdwh_headers(sec, "msg_h1", hl.now(), body)
        for i in range(6):
            hdrs["X-Extra-%d" % i] = "x"
        r = run.d.post("/webhooks/shop", body, hdrs)
        expect(t, r, 431, TOO_LARGE,
               "headers: a signed event with 13 fields -> 431")
        # Past what connection_memory can hold, libmicrohttpd answers
        # 431 itself.
        r, _, note = hl.raw_exchange(port, head_of(20000), (), timeout=5)
        t.eq(r.status if r is not None else note, 431,
             "headers: a head larger than connection_memory -> 431")
        r = run.stdwh("shop", sec, "msg_h2", ev)
        expect(t, r, 200, {"result": "applied", "event_id": "msg_h2",
                           "seq": 1},
               "headers: the same event with its own fields -> 200")
        t.eq(hl.receipt_rows(run.db, ("event_id", "status")),
             [("msg_h2", 200)], "headers: only the admitted event is "
             "recorded")
        t.ok(logged(run, lambda j: j.get("status") == 431 and
                    j.get("code") == "headers_too_large"),
             "headers: the log shows 431 headers_too_large")


# ---------------------------------------------------------------- rates

def g_rate_ip(t, tmp):
    sec = hl.stdwh_secret()
    ep = hl.Endpoint("shop", "standard-webhooks", [sec])
    with LRun(t, "rate per ip", tmp, [ep],
              top=["rate_per_ip = 1", "burst_per_ip = 3"]) as run:
        a, b = "127.0.0.2", "127.0.0.3"
        got = [run.d.get("/nope", source=a).status for _ in range(3)]
        t.eq(got, [404, 404, 404], "rate per ip: a burst of 3 is served")
        r = run.d.get("/nope", source=a)
        expect(t, r, 429, RATE_LIMITED, "rate per ip: the 4th -> 429 "
               "rate_limited, Retry-After: 1", extra=RETRY_1)
        r = stdwh_event(run, "shop", sec, "msg_i1", "pay_i1", source=a)
        expect(t, r, 429, RATE_LIMITED, "rate per ip: a signed event "
               "from the same address -> 429 too", extra=RETRY_1)
        expect(t, run.d.get("/healthz", source=a), 200, {"status": "ok"},
               "rate per ip: /healthz is not rate limited")
        r = stdwh_event(run, "shop", sec, "msg_i2", "pay_i2", source=b)
        expect(t, r, 200, {"result": "applied", "event_id": "msg_i2",
                           "seq": 1},
               "rate per ip: another address is served meanwhile")
        t.ok(logged(run, lambda j: j.get("status") == 429 and
                    j.get("code") == "rate_limited" and
                    j.get("limit") == "ip"),
             "rate per ip: the log shows 429 rate_limited, limit ip")
        r = await_status(lambda: stdwh_event(run, "shop", sec, "msg_i1",
                                             "pay_i1", source=a), 200)
        expect(t, r, 200, {"result": "applied", "event_id": "msg_i1",
                           "seq": 2},
               "rate per ip: after the wait the address is served again")
        t.eq(hl.receipt_rows(run.db, ("event_id", "status")),
             [("msg_i1", 200), ("msg_i2", 200)],
             "rate per ip: refused events were not recorded")


def g_rate_endpoint(t, tmp):
    sa, sb = hl.stdwh_secret(), hl.stdwh_secret()
    ea = hl.Endpoint("a", "standard-webhooks", [sa], tenant="t1",
                     extra=["rate = 1", "burst = 2"])
    eb = hl.Endpoint("b", "standard-webhooks", [sb], tenant="t2")
    with LRun(t, "rate per endpoint", tmp, [ea, eb]) as run:
        got = [stdwh_event(run, "a", sa, "msg_e%d" % i, "pay_e%d" % i)
               .status for i in (1, 2)]
        t.eq(got, [200, 200], "rate per endpoint: a burst of 2 is served")
        r = stdwh_event(run, "a", sa, "msg_e3", "pay_e3")
        expect(t, r, 429, RATE_LIMITED, "rate per endpoint: the 3rd -> 429 "
               "rate_limited, Retry-After: 1", extra=RETRY_1)
        # Cheap rejection: the limit is checked before the signature.
        r = stdwh_event(run, "a", sa, "msg_e4", "pay_e4",
                        secret=hl.stdwh_secret())
        expect(t, r, 429, RATE_LIMITED, "rate per endpoint: a forged "
               "event is refused 429 before its signature is checked",
               extra=RETRY_1)
        r = stdwh_event(run, "b", sb, "msg_b1", "pay_b1")
        expect(t, r, 200, {"result": "applied", "event_id": "msg_b1",
                           "seq": 3},
               "rate per endpoint: another endpoint is served meanwhile")
        t.ok(logged(run, lambda j: j.get("status") == 429 and
                    j.get("path") == "/webhooks/a" and
                    j.get("endpoint") == "a" and
                    j.get("code") == "rate_limited" and
                    j.get("limit") == "endpoint"),
             "rate per endpoint: the log line names endpoint a, "
             "code rate_limited and limit endpoint")
        r = await_status(lambda: stdwh_event(run, "a", sa, "msg_e3",
                                             "pay_e3"), 200)
        expect(t, r, 200, {"result": "applied", "event_id": "msg_e3",
                           "seq": 4},
               "rate per endpoint: after the wait the endpoint is served")
        t.eq(len(hl.ledger_rows(run.db)), 4,
             "rate per endpoint: 4 entries, none for refused events")


def g_rate_tenant(t, tmp):
    s1, s2, so = hl.stdwh_secret(), hl.stdwh_secret(), hl.stdwh_secret()
    e1 = hl.Endpoint("s1", "standard-webhooks", [s1], tenant="acme")
    e2 = hl.Endpoint("s2", "standard-webhooks", [s2], tenant="acme")
    eo = hl.Endpoint("o", "standard-webhooks", [so], tenant="other")
    tail = ["", "[tenant acme]", "rate = 1", "burst = 3"]
    with LRun(t, "rate per tenant", tmp, [e1, e2, eo], tail=tail) as run:
        got = [stdwh_event(run, "s1", s1, "m1", "p1").status,
               stdwh_event(run, "s2", s2, "m2", "p2").status,
               stdwh_event(run, "s1", s1, "m3", "p3").status]
        t.eq(got, [200, 200, 200], "rate per tenant: a burst of 3 over two "
             "endpoints of the tenant is served")
        for ep, sec, mid in (("s2", s2, "m4"), ("s1", s1, "m5")):
            r = stdwh_event(run, ep, sec, mid, "p" + mid[1:])
            expect(t, r, 429, RATE_LIMITED, "rate per tenant: then %s -> "
                   "429, the tenant's limit is shared" % ep,
                   extra=RETRY_1)
        # The tenant's API draws on the same bucket, before its token.
        r = run.d.get("/v1/tenants/acme/balances")
        expect(t, r, 429, RATE_LIMITED, "rate per tenant: the tenant's API "
               "-> 429 too", extra=RETRY_1)
        expect(t, run.d.get("/v1/tenants/other/balances"), 401,
               Err("unauthorized"), "rate per tenant: another tenant's "
               "API is not limited (401 without a token)")
        r = stdwh_event(run, "o", so, "mo", "po")
        expect(t, r, 200, {"result": "applied", "event_id": "mo", "seq": 4},
               "rate per tenant: another tenant's endpoint is served")
        t.ok(logged(run, lambda j: j.get("status") == 429 and
                    j.get("limit") == "tenant"),
             "rate per tenant: the log shows limit tenant")
        r = await_status(lambda: stdwh_event(run, "s2", s2, "m4", "p4"),
                         200)
        expect(t, r, 200, {"result": "applied", "event_id": "m4", "seq": 5},
               "rate per tenant: after the wait the tenant is served")


# ---------------------------------------------------------------- deadline

def g_slowloris(t, tmp):
    """Clients that send a byte now and then, always within the idle
    timeout, lose their connection at the total deadline."""
    sec = hl.stdwh_secret()
    ep = hl.Endpoint("shop", "standard-webhooks", [sec])
    top = ["timeout = 2", "request_timeout = 3"]
    with LRun(t, "slowloris", tmp, [ep], top=top) as run:
        port = run.d.port
        # One trickles its header fields, one its body.
        heads = [b"POST /webhooks/shop HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                 b"POST /webhooks/shop HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Content-Type: application/json\r\n"
                 b"Content-Length: 1000\r\n\r\n"]
        drips = [b"X-A: b\r\n", b" "]
        socks = []
        for h in heads:
            s = socket.create_connection((hl.HOST, port), timeout=5)
            s.sendall(h)
            socks.append(s)
        t0 = time.monotonic()
        closed = [None, None]
        served = None
        # Bounded: 40 rounds of 0.5 s, well past the 3 s deadline.
        for i in range(40):
            if all(c is not None for c in closed):
                break
            if i == 2 and served is None:
                served = run.d.get("/healthz", timeout=5)
            for k, s in enumerate(socks):
                if closed[k] is not None:
                    continue
                r, _, _ = select.select([s], [], [], 0)
                try:
                    if r and s.recv(4096) == b"":
                        closed[k] = time.monotonic() - t0
                        continue
                    s.sendall(drips[k])
                except OSError:
                    closed[k] = time.monotonic() - t0
            time.sleep(0.5)
        for s in socks:
            s.close()
        t.diag("slowloris: closed after %r s" % (closed,))
        t.ok(closed[0] is not None, "slowloris: a client trickling header "
             "bytes within the idle timeout is cut at the request deadline")
        t.ok(closed[1] is not None, "slowloris: a client trickling its body "
             "within the idle timeout is cut at the request deadline")
        expect(t, served, 200, {"status": "ok"},
               "slowloris: a normal client is served meanwhile")
        j = run.d.wait_log(lambda j: j.get("msg") == "request timeout", 5)
        t.ok(j is not None and j.get("request_timeout") == 3,
             "slowloris: the log says the request deadline cut them",
             [j])
        r = stdwh_event(run, "shop", sec, "msg_s1", "pay_s1")
        expect(t, r, 200, {"result": "applied", "event_id": "msg_s1",
                           "seq": 1},
               "slowloris: afterwards an event is recorded as usual")


def g_held(t, tmp):
    """A request whose event waits for the writer longer than the deadline
    is not cut, while a trickling client alongside is."""
    sec = hl.stdwh_secret()
    ep = hl.Endpoint("shop", "standard-webhooks", [sec])
    top = ["timeout = 10", "request_timeout = 2"]
    with LRun(t, "held for the writer", tmp, [ep], top=top) as run:
        # Another process holds the write lock, so the writer's commit
        # waits (its busy timeout is 5 s) with the request suspended.
        lock = sqlite3.connect(run.db, timeout=5, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        out = {}
        th = threading.Thread(target=lambda: out.update(
            r=stdwh_event(run, "shop", sec, "msg_w1", "pay_w1")))
        th.start()
        s = socket.create_connection((hl.HOST, run.d.port), timeout=5)
        s.sendall(b"POST /webhooks/shop HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        cut = False
        # The lock is held for 3.5 s (14 rounds), past the 2 s deadline.
        for _ in range(14):
            r, _, _ = select.select([s], [], [], 0)
            try:
                if r and s.recv(4096) == b"":
                    cut = True
                if not cut:
                    s.sendall(b"X-A: b\r\n")
            except OSError:
                cut = True
            time.sleep(0.25)
        s.close()
        lock.execute("COMMIT")
        lock.close()
        th.join(10)
        expect(t, out.get("r"), 200, {"result": "applied",
                                      "event_id": "msg_w1", "seq": 1},
               "held for the writer: an event committed after the "
               "deadline is answered 200, not cut")
        t.ok(cut, "held for the writer: a trickling client was cut "
             "meanwhile")
        t.eq(hl.receipt_rows(run.db, ("event_id", "status")),
             [("msg_w1", 200)], "held for the writer: the event is "
             "recorded once")


# ---------------------------------------------------------------- conns

def g_connections(t, tmp):
    sec = hl.stdwh_secret()
    ep = hl.Endpoint("shop", "standard-webhooks", [sec])
    top = ["max_connections = 16", "max_connections_per_ip = 2"]
    with LRun(t, "connections per ip", tmp, [ep], top=top) as run:
        port = run.d.port
        a, b = "127.0.0.2", "127.0.0.3"
        held = []
        for _ in range(2):
            s = socket.create_connection((hl.HOST, port), timeout=5,
                                         source_address=(a, 0))
            s.sendall(b"GET /healthz HTTP/1.1\r\n")
            held.append(s)
        try:
            r, _, note = hl.raw_exchange(
                port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", (),
                timeout=5, source=a)
        except OSError as e:
            r, note = None, "send failed: %r" % e
        t.ok(r is None, "connections per ip: a 3rd from the same address "
             "is closed without an answer", [r, note])
        r = run.d.get("/healthz", source=b)
        expect(t, r, 200, {"status": "ok"}, "connections per ip: another "
               "address is served meanwhile")
        held[1].close()
        # The daemon frees the slot when it sees the close; on a loaded
        # machine (the sanitizer stage runs tests side by side) that can
        # take seconds, so the wait is generous but bounded.
        t0 = time.monotonic()
        r = await_status(lambda: run.d.get("/healthz", source=a,
                                           timeout=5), 200, limit=20.0)
        t.diag("slot freed after %.2f s" % (time.monotonic() - t0))
        expect(t, r, 200, {"status": "ok"}, "connections per ip: once one "
               "closes, the address is served again")
        # The held connection was accepted all along: it is answered once
        # its request is complete.
        held[0].sendall(b"Host: x\r\n\r\n")
        r = hl._read_response(held[0], time.monotonic() + 5)
        expect(t, r, 200, {"status": "ok"}, "connections per ip: a held "
               "connection is served when it completes its request")
        held[0].close()


GROUPS = [
    ("header limits", g_headers),
    ("rate per ip", g_rate_ip),
    ("rate per endpoint", g_rate_endpoint),
    ("rate per tenant", g_rate_tenant),
    ("slowloris", g_slowloris),
    ("held for the writer", g_held),
    ("connections per ip", g_connections),
]


def main():
    return run_groups(GROUPS, "hl-limits-", "a secret or a signature", show=hl.HOOKLEDGERD)


if __name__ == "__main__":
    sys.exit(main())
