"""
hlclient: helpers for hookledger's end-to-end tests, standard library only.

Everything a test needs to talk to a real hookledgerd: secrets and their
files, a config file, signed requests for both schemes, the daemon's
lifetime and its log, raw sockets for what http.client will not send, the
ledger's rows and the verifier. Every wait here is on a condition with a
deadline; nothing sleeps to synchronise.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import select
import signal
import socket
import sqlite3
import subprocess
import threading
import time

HOST = "127.0.0.1"

_HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("HL_TOP_SRCDIR") or os.path.dirname(
    os.path.dirname(_HERE))
BUILDDIR = os.environ.get("HL_BUILDDIR") or os.getcwd()
HOOKLEDGERD = os.path.join(BUILDDIR, "src", "hookledgerd")
HOOKLEDGER = os.path.join(BUILDDIR, "src", "hookledger")
FIXTURES = os.path.join(TOP_SRCDIR, "tests", "fixtures")

# Every secret made and every signature computed here is remembered, so
# that a test can prove none of them ever reaches the daemon's log.
SENSITIVE = set()
# The stderr of every daemon started, for that same check at the end.
ALL_LOGS = []


class HLError(Exception):
    """A helper could not do what a test asked (not a failed assertion)."""


# ---------------------------------------------------------------- secrets

def stdwh_secret(nbytes=24):
    """A Standard Webhooks secret: whsec_ + base64 of nbytes random bytes."""
    s = "whsec_" + base64.b64encode(os.urandom(nbytes)).decode("ascii")
    SENSITIVE.add(s)
    SENSITIVE.add(s[len("whsec_"):])
    return s


def stripe_secret(nchars=32):
    """A Stripe secret: whsec_ + nchars random alphanumerics; the whole
    string is the HMAC key."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    raw = os.urandom(nchars)
    s = "whsec_" + "".join(alphabet[b % len(alphabet)] for b in raw)
    SENSITIVE.add(s)
    SENSITIVE.add(s[len("whsec_"):])
    return s


def stdwh_key(secret):
    if secret.startswith("whsec_"):
        secret = secret[len("whsec_"):]
    return base64.b64decode(secret, validate=True)


# ---------------------------------------------------------------- signing

def stdwh_signature(secret, msg_id, ts, body):
    """ "v1,<base64 HMAC-SHA256(key, id.ts.body)>" """
    mac = hmac.new(stdwh_key(secret),
                   msg_id.encode() + b"." + str(ts).encode() + b"." + body,
                   hashlib.sha256).digest()
    b64 = base64.b64encode(mac).decode("ascii")
    SENSITIVE.add(b64)
    return "v1," + b64


def stdwh_headers(secrets, msg_id, ts, body,
                  content_type="application/json"):
    """Headers for a Standard Webhooks delivery signed with each secret in
    secrets (a string or a list)."""
    if isinstance(secrets, str):
        secrets = [secrets]
    sigs = " ".join(stdwh_signature(s, msg_id, ts, body) for s in secrets)
    h = {"webhook-id": msg_id, "webhook-timestamp": str(ts),
         "webhook-signature": sigs}
    if content_type is not None:
        h["Content-Type"] = content_type
    return h


def stripe_signature(secret, ts, body):
    """Hex HMAC-SHA256(secret, ts.body), the secret used whole."""
    mac = hmac.new(secret.encode(), str(ts).encode() + b"." + body,
                   hashlib.sha256).hexdigest()
    SENSITIVE.add(mac)
    return mac


def stripe_headers(secrets, ts, body, content_type="application/json"):
    """Headers for a Stripe delivery: Stripe-Signature t=..,v1=..[,v1=..]"""
    if isinstance(secrets, str):
        secrets = [secrets]
    parts = ["t=%d" % ts] + ["v1=" + stripe_signature(s, ts, body)
                             for s in secrets]
    h = {"Stripe-Signature": ",".join(parts)}
    if content_type is not None:
        h["Content-Type"] = content_type
    return h


def now():
    return int(time.time())


def at_second_start(margin=0.4, limit=2.0):
    """Return once the wall clock is early in a second (fraction below
    margin), so that a timestamp taken now and checked by the daemon a
    moment later still falls in the same second. Bounded by limit."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        frac = time.time() % 1.0
        if frac < margin:
            return
        # Wait out the rest of this second; this is polling the clock, not
        # synchronising with the daemon.
        time.sleep(min(1.0 - frac + 0.01, 0.2))


# ---------------------------------------------------------------- payloads

def body_bytes(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=False).encode()


def load_fixture(scheme, typ):
    """The fixture tests/fixtures/<scheme>/<typ>.json as a dict, or None."""
    path = os.path.join(FIXTURES, scheme, typ + ".json")
    try:
        with open(path, "rb") as f:
            return json.loads(f.read())
    except (OSError, ValueError):
        return None


def _merge(dst, over):
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            _merge(dst[k], v)
        else:
            dst[k] = v


def stripe_event(typ, evt_id, obj, created=None):
    """A Stripe event envelope of type typ: the fixture when there is one
    (so the body has the provider's real shape), with id, type, created
    and the fields in obj set to what the test asserts on."""
    ev = load_fixture("stripe", typ)
    if not isinstance(ev, dict):
        ev = {"object": "event", "api_version": "2024-06-20",
              "livemode": False, "pending_webhooks": 1,
              "request": {"id": None, "idempotency_key": None},
              "data": {"object": {}}}
    ev["id"] = evt_id
    ev["type"] = typ
    ev["created"] = now() if created is None else created
    if not isinstance(ev.get("data"), dict):
        ev["data"] = {}
    if not isinstance(ev["data"].get("object"), dict):
        ev["data"]["object"] = {}
    _merge(ev["data"]["object"], obj)
    return ev


def rfc3339(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def neutral_event(typ, data, ts=None):
    """A neutral Standard Webhooks payload {"type","timestamp","data"}:
    the fixture's shape when there is one, data fields overridden."""
    ev = load_fixture("neutral", typ)
    if not isinstance(ev, dict):
        ev = {"data": {}}
    ev["type"] = typ
    ev["timestamp"] = rfc3339(now() if ts is None else ts)
    if not isinstance(ev.get("data"), dict):
        ev["data"] = {}
    _merge(ev["data"], data)
    return ev


# ---------------------------------------------------------------- config

class Endpoint:
    """One [endpoint NAME] section and its secrets."""

    def __init__(self, name, scheme, secrets, tenant="acme", tolerance=None,
                 modes=None, extra=()):
        self.name = name
        self.extra = list(extra)        # more "key = value" lines
        self.scheme = scheme
        self.secrets = list(secrets)
        self.tenant = tenant
        self.tolerance = tolerance
        self.modes = modes or [0o600] * len(self.secrets)
        self.files = []


def write_secret_file(path, secret, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, secret.encode() + b"\n")
    finally:
        os.close(fd)
    os.chmod(path, mode)


def write_config(dirpath, endpoints, max_body=None, database="ledger.db",
                 listen="127.0.0.1:0", name="hookledger.conf", top=(),
                 tail=()):
    """Write the secrets of each endpoint and a config naming them into
    dirpath; top holds more top-level lines, tail more lines at the end
    (such as [tenant] sections). Returns the config's absolute path."""
    lines = ["# written by tests/e2e/hlclient.py",
             "listen = " + listen,
             "database = " + database]
    if max_body is not None:
        lines.append("max_body = %d" % max_body)
    lines += list(top)
    for ep in endpoints:
        lines += ["", "[endpoint %s]" % ep.name,
                  "tenant = " + ep.tenant, "scheme = " + ep.scheme]
        if ep.tolerance is not None:
            lines.append("tolerance = %d" % ep.tolerance)
        ep.files = []
        for i, (s, mode) in enumerate(zip(ep.secrets, ep.modes)):
            fname = "%s.secret%d" % (ep.name, i)
            write_secret_file(os.path.join(dirpath, fname), s, mode)
            ep.files.append(fname)
            lines.append("secret_file = " + fname)
        lines += ep.extra
    lines += list(tail)
    path = os.path.join(os.path.abspath(dirpath), name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def check_config(config_path, timeout=10):
    """Run hookledgerd --check-config; returns (rc, stdout, stderr)."""
    p = subprocess.run([HOOKLEDGERD, "--check-config", "--config",
                        config_path], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


# ---------------------------------------------------------------- daemon

class Daemon:
    """A hookledgerd in the foreground, its stderr read by a thread."""

    def __init__(self, config_path):
        self.config = config_path
        self.proc = None
        self.port = None
        self.lines = []
        self.out = []
        self.eof = False
        self.cond = threading.Condition()
        self.threads = []
        self.rc = None
        self.stuck = None       # state when SIGTERM did not stop it

    def _reader(self, stream, sink, is_err):
        try:
            for raw in iter(stream.readline, b""):
                with self.cond:
                    sink.append(raw.decode("utf-8", "replace")
                                .rstrip("\n"))
                    self.cond.notify_all()
        finally:
            if is_err:
                with self.cond:
                    self.eof = True
                    self.cond.notify_all()

    def start(self, timeout=10):
        """Start and wait for the "listening" line; returns the port.
        Raises HLError with the daemon's stderr when it does not listen."""
        if not os.access(HOOKLEDGERD, os.X_OK):
            raise HLError("no daemon at %s" % HOOKLEDGERD)
        self.proc = subprocess.Popen(
            [HOOKLEDGERD, "--config", self.config],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        ALL_LOGS.append(self.lines)
        for stream, sink, is_err in ((self.proc.stderr, self.lines, True),
                                     (self.proc.stdout, self.out, False)):
            t = threading.Thread(target=self._reader,
                                 args=(stream, sink, is_err), daemon=True)
            t.start()
            self.threads.append(t)
        line = self.wait_log(lambda j: j.get("msg") == "listening", timeout)
        if line is None:
            code = self.proc.poll()
            state = self.proc_state()
            self.kill()
            raise HLError("daemon did not report listening within %ds "
                          "(exit %r, %s); stderr: %s" %
                          (timeout, code, state,
                           " | ".join(self.lines[-10:])))
        listen = str(line.get("listen", ""))
        host, _, port = listen.rpartition(":")
        if host != HOST or not port.isdigit():
            self.kill()
            raise HLError("unexpected listen value %r" % listen)
        self.port = int(port)
        return self.port

    def proc_state(self):
        """The process's scheduler state and wait channel, for diagnosing
        a daemon that hangs."""
        pid = self.proc.pid if self.proc is not None else None
        try:
            with open("/proc/%d/status" % pid) as f:
                st = [l.strip() for l in f if l.startswith(("State:",
                                                           "Threads:"))]
            with open("/proc/%d/wchan" % pid) as f:
                st.append("wchan: " + f.read().strip())
            return ", ".join(st)
        except (OSError, TypeError):
            return "no /proc entry"

    def log_json(self):
        """Every stderr line parsed as JSON; unparseable lines as None."""
        with self.cond:
            lines = list(self.lines)
        out = []
        for l in lines:
            try:
                out.append(json.loads(l))
            except ValueError:
                out.append(None)
        return out

    def wait_log(self, pred, timeout=5, count=1):
        """Wait until count JSON log lines satisfy pred; return the last of
        them, or None at the deadline or at the end of the stream."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                hits = []
                for l in self.lines:
                    try:
                        j = json.loads(l)
                    except ValueError:
                        continue
                    if isinstance(j, dict) and pred(j):
                        hits.append(j)
                if len(hits) >= count:
                    return hits[count - 1]
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    return None
                self.cond.wait(left)

    def stop(self, timeout=10):
        """SIGTERM and wait; returns the exit status (or None when it had to
        be killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.stuck = self.proc_state()
                self.kill()
                self.rc = None
        else:
            self.rc = self.proc.returncode
        self._join()
        return self.rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self._join()

    def _join(self):
        for t in self.threads:
            t.join(5)
        for s in (self.proc.stdout, self.proc.stderr):
            if s is not None:
                s.close()

    def stderr_text(self):
        with self.cond:
            return "\n".join(self.lines)

    # requests -----------------------------------------------------------

    def post(self, path, body, headers, **kw):
        return request(self.port, "POST", path, body, headers, **kw)

    def get(self, path, headers=None, **kw):
        return request(self.port, "GET", path, None, headers or {}, **kw)


class Response:
    """An answer; status 0 and error set when there was none (the daemon
    closed or reset the connection, or did not answer in time)."""

    def __init__(self, status, headers, body, error=None):
        self.status = status
        self.headers = headers          # list of (name, value)
        self.body = body
        self.error = error

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    @property
    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def __repr__(self):
        if self.error is not None:
            return "<no response: %s>" % self.error
        return "<%d %r>" % (self.status, self.body[:300])


def request(port, method, path, body=None, headers=None, timeout=10,
            chunks=None, source=None):
    """One request on a fresh connection, from the loopback address source
    when given (any 127.x.y.z). With chunks (a list of bytes) the body goes
    out with Transfer-Encoding: chunked."""
    conn = http.client.HTTPConnection(
        HOST, port, timeout=timeout,
        source_address=(source, 0) if source is not None else None)
    try:
        if chunks is not None:
            conn.request(method, path, body=iter(chunks),
                         headers=headers or {}, encode_chunked=True)
        else:
            conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, r.getheaders(), data)
    except (OSError, http.client.HTTPException) as e:
        return Response(0, [], b"", error=repr(e))
    finally:
        conn.close()


class Closed:
    """What came back instead of a response: how the connection ended."""

    def __init__(self, how):
        self.how = how


def _read_response(sock, deadline, limit=1 << 20):
    """Read one HTTP/1.1 response from sock before deadline. Returns a
    Response, or a Closed saying whether the peer closed (EOF) or reset
    the connection without sending a byte of one."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        if len(buf) > limit:
            raise HLError("response head too long")
        left = deadline - time.monotonic()
        if left <= 0:
            raise HLError("no response before the deadline")
        sock.settimeout(left)
        try:
            got = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            if buf:
                _bad(buf)
            return Closed("reset by the daemon, no response bytes")
        except socket.timeout:
            raise HLError("no response before the deadline")
        if not got:
            if buf:
                _bad(buf)
            return Closed("closed by the daemon (EOF), no response bytes")
        buf += got
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("iso-8859-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise HLError("bad status line %r" % lines[0])
    headers = []
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers.append((k.strip(), v.strip()))
    resp = Response(int(parts[1]), headers, b"")
    cl = resp.header("Content-Length")
    want = int(cl) if cl is not None and cl.isdigit() else None
    while want is None or len(rest) < want:
        if len(rest) > limit:
            break
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            got = sock.recv(65536)
        except (OSError, socket.timeout):
            break
        if not got:
            break
        rest += got
    resp.body = rest if want is None else rest[:want]
    return resp


def _bad(buf):
    raise HLError("connection closed mid-response: %r" % buf[:200])


def raw_exchange(port, head, body_parts=(), timeout=10, source=None):
    """Send a hand-made request head, then each of body_parts, stopping as
    soon as the daemon answers; then read the answer. source, when given,
    is the loopback address to send from.

    Returns (response, sent bytes of body, note); response is None when
    the connection was closed or reset without an answer, and note then
    says which."""
    sock = socket.create_connection(
        (HOST, port), timeout=timeout,
        source_address=(source, 0) if source is not None else None)
    deadline = time.monotonic() + timeout
    sent = 0
    note = ""
    try:
        sock.sendall(head)
        for part in body_parts:
            r, _, _ = select.select([sock], [], [], 0)
            if r:
                note = "answered early"
                break
            if time.monotonic() > deadline:
                note = "deadline while sending"
                break
            try:
                sock.sendall(part)
            except (BrokenPipeError, ConnectionResetError) as e:
                note = "send failed: %s" % e.__class__.__name__
                break
            sent += len(part)
        r = _read_response(sock, deadline)
        if isinstance(r, Closed):
            return None, sent, (note + "; " if note else "") + r.how
        return r, sent, note
    finally:
        sock.close()


# ---------------------------------------------------------------- ledger

LEDGER_COLS = ("seq", "tenant", "endpoint", "event_id", "kind",
               "payment_ref", "amount", "currency", "occurred_at")


def _ro(db):
    conn = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def ledger_rows(db, cols=LEDGER_COLS):
    """The ledger as a list of tuples of cols, by seq."""
    conn = _ro(db)
    try:
        return [tuple(r) for r in conn.execute(
            "SELECT %s FROM ledger ORDER BY seq" % ", ".join(cols))]
    finally:
        conn.close()


def receipt_rows(db, cols=("endpoint", "event_id", "tenant", "event_type",
                           "outcome", "entry_seq", "status")):
    conn = _ro(db)
    try:
        return [tuple(r) for r in conn.execute(
            "SELECT %s FROM receipts ORDER BY endpoint, event_id" %
            ", ".join(cols))]
    finally:
        conn.close()


def count(db, table):
    conn = _ro(db)
    try:
        return conn.execute("SELECT count(*) FROM %s" % table).fetchone()[0]
    finally:
        conn.close()


def backup_copy(src, dst):
    """Copy a database through SQLite's backup API (WAL content included)."""
    s = sqlite3.connect(src, timeout=5)
    d = sqlite3.connect(dst)
    try:
        s.backup(d)
    finally:
        d.close()
        s.close()


def run_verify(db, timeout=30):
    """hookledger verify --db db: (rc, stdout, stderr)."""
    p = subprocess.run([HOOKLEDGER, "verify", "--db", db],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


# ---------------------------------------------------------------- API

def create_token(db, tenant, scope, timeout=10):
    """hookledger token create --db db --tenant tenant --scope scope: the
    token it prints as its only line, remembered as sensitive. Raises
    HLError when the command fails or prints anything else."""
    p = subprocess.run([HOOKLEDGER, "token", "create", "--db", db,
                        "--tenant", tenant, "--scope", scope],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout)
    out = p.stdout.decode("utf-8", "replace")
    lines = out.splitlines()
    if p.returncode != 0 or len(lines) != 1 or not out.endswith("\n"):
        raise HLError("token create exited %d, stdout %r, stderr %r" %
                      (p.returncode, out[:200],
                       p.stderr.decode("utf-8", "replace")[:300]))
    SENSITIVE.add(lines[0])
    return lines[0]


def api_headers(token=None, idem_key=None, content_type="application/json",
                extra=None):
    """Headers for an API request: Authorization: Bearer token, the
    Idempotency-Key and the Content-Type, each left out when None."""
    h = {}
    if token is not None:
        h["Authorization"] = "Bearer " + token
    if idem_key is not None:
        h["Idempotency-Key"] = idem_key
    if content_type is not None:
        h["Content-Type"] = content_type
    h.update(extra or {})
    return h


def query(db, sql, params=()):
    """Every row of a read-only query, as a list of tuples."""
    conn = _ro(db)
    try:
        return [tuple(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()
