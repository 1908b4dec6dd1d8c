# SPDX-License-Identifier: Apache-2.0
"""Receivers and helpers for the output, metrics and reload end-to-end tests: an HTTP(S) receiver with real
certificates (mTLS optional, scriptable answers, a "hang" mode), certificate generation with openssl, a strict
Prometheus text parser, and a wrapper that runs a command in a private mount namespace with its own /dev/log or
its own systemd-journald."""
import http.server
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


# ---- certificates ----

def make_certs(d):
    """A CA, a server certificate for 127.0.0.1/localhost and a client certificate, all signed by the CA; plus a
    second, unrelated CA. Returns a dict of paths."""
    d = str(d)

    def ossl(*args):
        subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "other-ca"):
        ossl("req", "-x509", *ec, "-keyout", f"{d}/{ca}.key", "-out", f"{d}/{ca}.pem", "-subj", f"/CN={ca}",
             "-days", "2")
    ext = f"{d}/san.ext"
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    cext = f"{d}/client.ext"
    with open(cext, "w") as f:
        f.write("extendedKeyUsage=clientAuth\n")
    for name, extfile in (("server", ext), ("client", cext)):
        ossl("req", *ec, "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.csr", "-subj", f"/CN={name}")
        ossl("x509", "-req", "-in", f"{d}/{name}.csr", "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key",
             "-CAcreateserial", "-out", f"{d}/{name}.pem", "-days", "2", "-extfile", extfile)
    return {k: f"{d}/{k}" for k in ("ca.pem", "other-ca.pem", "server.pem", "server.key", "client.pem",
                                     "client.key")}


# ---- HTTP(S) receiver ----

class Receiver:
    """Records every POST (path, headers, body). `plan` is a list of statuses answered in order (then 200);
    `hang` makes every request block until release() (or stop())."""

    def __init__(self, certs=None, require_client_cert=False, plan=None, hang=False):
        self.requests = []
        self.plan = list(plan or [])
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.hang = hang
        self.released = threading.Event()
        self.hanging = 0  # requests currently blocked
        self.tls_errors = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body = self._read_chunked()
                with receiver.cond:
                    if receiver.hang:
                        receiver.hanging += 1
                        receiver.cond.notify_all()
                if receiver.hang:
                    receiver.released.wait()
                    with receiver.cond:
                        receiver.hanging -= 1
                    if receiver.stopping:
                        return
                with receiver.cond:
                    status = receiver.plan.pop(0) if receiver.plan else 200
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                              "status": status,
                                              "client_cert": self._peer_cn(), "at": time.monotonic()})
                    receiver.cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def _read_chunked(self):
                out = b""
                while True:
                    size = int(self.rfile.readline().strip(), 16)
                    if size == 0:
                        self.rfile.readline()
                        return out
                    out += self.rfile.read(size)
                    self.rfile.readline()

            def _peer_cn(self):
                try:
                    cert = self.connection.getpeercert()
                except (AttributeError, ValueError):
                    return None
                if not cert:
                    return None
                for rdn in cert.get("subject", ()):
                    for k, v in rdn:
                        if k == "commonName":
                            return v
                return None

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                receiver.tls_errors += 1

        self.stopping = False
        self.server = Server(("127.0.0.1", 0), Handler)
        self.tls = certs is not None
        if certs:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(certs["server.pem"], certs["server.key"])
            if require_client_cert:
                ctx.verify_mode = ssl.CERT_REQUIRED
                ctx.load_verify_locations(certs["ca.pem"])
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True,
                                                 do_handshake_on_connect=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/"

    def wait_requests(self, n, timeout=15):
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"receiver got {len(self.requests)} requests, expected {n}")
                self.cond.wait(left)
            return list(self.requests)

    def wait_hanging(self, n=1, timeout=15):
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.hanging < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no request reached the hanging receiver")
                self.cond.wait(left)

    def release(self):
        self.hang = False
        self.released.set()

    def stop(self):
        self.stopping = True
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


# ---- Prometheus text exposition (version 0.0.4), parsed strictly ----

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(rf"^({_NAME})(?:\{{(.*)\}})? ([^ ]+)(?: (-?\d+))?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_prometheus(text):
    """Returns {family: {"type": t, "help": h, "samples": [(name, {labels}, value)]}}. Raises ValueError on
    anything the format does not allow: a TYPE after samples, a second TYPE, an unknown type, a malformed
    sample or label, a sample of an undeclared family, a duplicate series, a missing final newline."""
    if text and not text.endswith("\n"):
        raise ValueError("no final newline")
    fams, seen, current = {}, set(), None
    for ln, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("# HELP "):
            name, _, help_ = line[7:].partition(" ")
            fam = fams.setdefault(name, {"type": None, "help": None, "samples": []})
            if fam["help"] is not None:
                raise ValueError(f"line {ln}: second HELP for {name}")
            fam["help"] = help_
            continue
        if line.startswith("# TYPE "):
            name, _, typ = line[7:].partition(" ")
            if typ not in ("counter", "gauge", "histogram", "summary", "untyped"):
                raise ValueError(f"line {ln}: bad type {typ!r}")
            fam = fams.setdefault(name, {"type": None, "help": None, "samples": []})
            if fam["type"] is not None or fam["samples"]:
                raise ValueError(f"line {ln}: TYPE for {name} repeated or after its samples")
            fam["type"] = typ
            current = name
            continue
        if line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise ValueError(f"line {ln}: malformed sample {line!r}")
        name, labels_s, value = m.group(1), m.group(2), m.group(3)
        labels = {}
        if labels_s:
            pos = 0
            while pos < len(labels_s):
                lm = _LABEL.match(labels_s, pos)
                if not lm:
                    raise ValueError(f"line {ln}: malformed labels {labels_s!r}")
                v = re.sub(r"\\(.)", lambda x: {"n": "\n", "\\": "\\", '"': '"'}[x.group(1)], lm.group(2))
                if lm.group(1) in labels:
                    raise ValueError(f"line {ln}: duplicate label {lm.group(1)}")
                labels[lm.group(1)] = v
                pos = lm.end()
        fv = float(value)  # NaN/+Inf parse too
        if name != current:
            raise ValueError(f"line {ln}: sample {name} outside its family (current {current})")
        key = (name, tuple(sorted(labels.items())))
        if key in seen:
            raise ValueError(f"line {ln}: duplicate series {key}")
        seen.add(key)
        if fams[name]["type"] == "counter" and fv < 0:
            raise ValueError(f"line {ln}: negative counter")
        fams[name]["samples"].append((name, labels, fv))
    for name, fam in fams.items():
        if fam["type"] is None:
            raise ValueError(f"{name}: HELP without TYPE")
    return fams


def value(fams, name, **labels):
    """The value of the one sample of name whose labels include `labels`."""
    hits = [v for (_, l, v) in fams.get(name, {"samples": []})["samples"]
            if all(l.get(k) == want for k, want in labels.items())]
    if len(hits) != 1:
        raise AssertionError(f"{name}{labels}: {len(hits)} samples")
    return hits[0]


def http_get(port, path, timeout=5):
    """(status, content-type, body) of GET http://127.0.0.1:port/path, errors included."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


# ---- private mount namespaces ----

def can_unshare():
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "true"], capture_output=True)
    return r.returncode == 0


DEVLOG_WRAPPER = r"""
set -e
T=$1; shift
mkdir -p "$T/olddev"
mount --rbind /dev "$T/olddev"
mount -t tmpfs -o mode=755 tmpfs /dev
for d in null zero full random urandom tty; do touch /dev/$d; mount --bind "$T/olddev/$d" /dev/$d; done
mkdir /dev/shm /dev/pts
mount --rbind "$T/olddev/shm" /dev/shm
mount --rbind "$T/olddev/pts" /dev/pts
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin; ln -s /proc/self/fd/1 /dev/stdout; ln -s /proc/self/fd/2 /dev/stderr
umount -l "$T/olddev"
ln -s "$T/log.sock" /dev/log
exec "$@"
"""


def with_devlog(tmp, cmd):
    """cmd run in a private mount namespace whose /dev/log is a symlink to tmp/log.sock (the host's /dev is
    untouched)."""
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", DEVLOG_WRAPPER, "sh", str(tmp)] + list(cmd)


JOURNAL_WRAPPER = r"""
set -e
OUT=$1; shift
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/journal /run/log/journal
if [ -d /var/log/journal ]; then mount -t tmpfs tmpfs /var/log/journal; fi
/lib/systemd/systemd-journald >"$OUT/journald.log" 2>&1 &
jd=$!
i=0
while [ ! -S /run/systemd/journal/socket ]; do
    i=$((i+1)); [ $i -gt 100 ] && { echo "journald did not start" >&2; exit 97; }
    sleep 0.05
done
set +e
"$@" >"$OUT/cmd.out" 2>"$OUT/cmd.err"
echo $? >"$OUT/cmd.rc"
# journald handles datagrams asynchronously: --sync returns once everything received is written
journalctl --sync >/dev/null 2>&1
journalctl -D /run/log/journal -o json --no-pager SYSLOG_IDENTIFIER=falco >"$OUT/journal.json" 2>"$OUT/journalctl.err"
kill $jd; wait $jd
exit 0
"""


def run_with_journald(tmp, cmd, timeout=60):
    """Runs cmd in a private mount namespace with a systemd-journald of its own; returns (rc, stdout, stderr,
    [journal entries as dicts]) where the entries are read back with journalctl."""
    out = str(tmp)
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", JOURNAL_WRAPPER, "sh", out]
                       + list(cmd), capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError(f"journal wrapper failed rc={r.returncode}: {r.stderr}")
    rd = lambda n: open(os.path.join(out, n)).read() if os.path.exists(os.path.join(out, n)) else ""
    entries = [json.loads(l) for l in rd("journal.json").splitlines() if l.strip()]
    return int(rd("cmd.rc") or -1), rd("cmd.out"), rd("cmd.err"), entries


def journald_available():
    return os.path.exists("/lib/systemd/systemd-journald") and shutil.which("journalctl") and can_unshare()


class UnixDgramListener:
    """A syslog listener on a unix datagram socket (what syslog(3) writes to through /dev/log)."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)
        self.messages = []
        self.lock = threading.Lock()
        self.stopped = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.sock.settimeout(0.2)
        while not self.stopped:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.messages.append(data.decode(errors="replace"))

    def wait(self, pred, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                msgs = list(self.messages)
            if pred(msgs):
                return msgs
            time.sleep(0.05)
        raise AssertionError(f"syslog listener: condition not met, got {self.messages}")

    def close(self):
        self.stopped = True
        self.sock.close()


NODRIVER = "engine:\n  kind: nodriver\n"


class LiveFalcoLog:
    """Like falcod.LiveFalco (webhook on a free port), with stdout and stderr going to files that tests can read
    while falco runs (stdout_path, stderr_path); stop() fills .stdout and .stderr. The syscall source is off
    (engine.kind: nodriver) so counts only depend on the events a test posts."""

    def __init__(self, falco_bin, tmp_path, *args, config_extra="", env=None, rules=True, driver=False):
        from conftest import free_port
        from falcod import falco_cmd
        self.port = free_port()
        extra = (f"k8s_audit:\n  enabled: true\n  listen_address: 127.0.0.1\n  listen_port: {self.port}\n"
                 + ("" if driver else NODRIVER) + config_extra)
        self.cmd = falco_cmd(falco_bin, tmp_path, *args, config_extra=extra, rules=rules)
        self.stdout_path = os.path.join(str(tmp_path), "falco.stdout")
        self.stderr_path = os.path.join(str(tmp_path), "falco.stderr")
        self._out = open(self.stdout_path, "w")
        self._err = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(self.cmd, stdout=self._out, stderr=self._err, env=env)
        self.stdout = self.stderr = None
        self.wait_port(self.port, timeout=60 if driver else 10)

    def wait_port(self, port, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"falco exited early rc={self.proc.returncode}: {self.read_err()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"port {port} never opened")

    def read_out(self):
        return open(self.stdout_path).read()

    def read_err(self):
        return open(self.stderr_path).read()

    def post(self, events, path="/k8s-audit", timeout=10, retry_busy=True):
        """POSTs an EventList; a 429 (the engine's queue is full) is retried like the API server does."""
        body = json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": events}).encode()
        for _ in range(200):
            req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    return resp.status
            except urllib.error.HTTPError as e:
                if e.code != 429 or not retry_busy:
                    raise
                time.sleep(0.02)
        raise AssertionError("webhook kept answering 429")

    def send(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=None, timeout=30):
        import signal as _signal
        if self.proc.poll() is None:
            self.proc.send_signal(sig or _signal.SIGTERM)
        self.proc.wait(timeout=timeout)
        self._out.close()
        self._err.close()
        self.stdout, self.stderr = self.read_out(), self.read_err()
        return self.proc.returncode
