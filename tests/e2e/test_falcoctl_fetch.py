# SPDX-License-Identifier: Apache-2.0
"""Driver repositories over real HTTPS: a local server with a test CA (python http.server + ssl), a signed
SHA256SUMS (Ed25519), several repositories in order, forgeries, size limits, retries, proxies."""
import datetime
import hashlib
import http.server
import ipaddress
import os
import re
import ssl
import threading
import time

import pytest

from conftest import bin_path, run

crypto = pytest.importorskip("cryptography")
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

VERSION = "8.0.0+driver"
ESCAPED = "8.0.0%2Bdriver"
RELEASE = "6.1.0-18-amd64"
KVERSION = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)"
NAME = "falco_debian_6.1.76-1-amd64_1.ko"
MODULE = b"\x7fELF a prebuilt falco module for the test kernel" * 20


def make_ca_and_cert(d):
    """A test CA and a server certificate for 127.0.0.1/localhost signed by it."""
    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("falcoctl test CA")).issuer_name(name("falcoctl test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name("localhost")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {k: os.path.join(d, k) for k in ("ca.pem", "cert.pem", "key.pem")}
    open(paths["ca.pem"], "wb").write(ca.public_bytes(serialization.Encoding.PEM))
    open(paths["cert.pem"], "wb").write(cert.public_bytes(serialization.Encoding.PEM))
    open(paths["key.pem"], "wb").write(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    return paths


class Repo(http.server.ThreadingHTTPServer):
    """Serves {path: bytes}; fail[path] = n answers 503 n times first; slow[path] = seconds spreads the body over
    that long (8 pieces). Every request path is logged."""

    def __init__(self, tls_paths=None):
        self.files, self.fail, self.slow, self.log = {}, {}, {}, []
        super().__init__(("127.0.0.1", 0), Handler)
        if tls_paths:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls_paths["cert.pem"], tls_paths["key.pem"])
            self.socket = ctx.wrap_socket(self.socket, server_side=True)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        scheme = "https" if isinstance(self.socket, ssl.SSLSocket) else "http"
        return f"{scheme}://127.0.0.1:{self.server_address[1]}"

    def stop(self):
        self.shutdown()
        self.server_close()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        srv = self.server
        srv.log.append(self.path)
        if srv.fail.get(self.path, 0) > 0:
            srv.fail[self.path] -= 1
            self.send_error(503)
            return
        body = srv.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        slow = srv.slow.get(self.path)
        if not slow:
            self.wfile.write(body)
            return
        step = -(-len(body) // 8)
        for i in range(0, len(body), step):
            self.wfile.write(body[i:i + step])
            self.wfile.flush()
            time.sleep(slow / 8)


@pytest.fixture
def env(tmp_path):
    root = tmp_path / "root"
    (root / "etc/falcoctl/keys").mkdir(parents=True)
    os.chmod(root, 0o755)
    (root / "etc/os-release").write_text("ID=debian\n")
    key, other = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    (root / "etc/falcoctl/keys/repo.pem").write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    tls = make_ca_and_cert(str(tmp_path))
    repos = [Repo(tls), Repo(tls)]

    class Env:
        pass
    e = Env()
    e.root, e.key, e.other, e.tls, e.repos = str(root), key, other, tls, repos
    yield e
    for r in repos:
        r.stop()


def publish(repo, key, prefix="/driver", module=MODULE, sums_module=MODULE, signer=None):
    sums = f"{hashlib.sha256(b'other').hexdigest()}  falco_other.ko\n" \
           f"{hashlib.sha256(sums_module).hexdigest()}  {NAME}\n".encode()
    d = f"{prefix}/{ESCAPED}/x86_64"
    repo.files[f"{d}/SHA256SUMS"] = sums
    repo.files[f"{d}/SHA256SUMS.sig"] = (signer or key).sign(sums)
    repo.files[f"{d}/{NAME}"] = module
    return d


def fetch(e, *repos, extra=(), env=None):
    args = [bin_path("falcoctl"), "driver", "fetch", "--type", "kmod", "--root", e.root, "--driver-version", VERSION,
            "--kernelrelease", RELEASE, "--kernelversion", KVERSION, "--ca-file", e.tls["ca.pem"]]
    for r in repos:
        args += ["--repo", r]
    environ = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith("FALCOCTL_")}
    environ.update(env or {})
    return run(args + list(extra), env=environ, timeout=120)


def cached(e):
    p = os.path.join(e.root, "var/lib/falcoctl/drivers", VERSION, "x86_64", NAME)
    return open(p, "rb").read() if os.path.exists(p) else None


def test_fetch_verifies_and_caches(env):
    repo = env.repos[0]
    d = publish(repo, env.key)
    r = fetch(env, repo.url + "/driver/")
    assert r.returncode == 0, r.stdout + r.stderr
    assert repo.log == [f"{d}/SHA256SUMS", f"{d}/SHA256SUMS.sig", f"{d}/{NAME}"]  # list and signature first
    assert cached(env) == MODULE
    assert f"Verified {NAME}" in r.stdout and "signed by repo.pem" in r.stdout
    assert "[driver] Downloaded" not in r.stdout  # a fast download needs no progress lines
    # cached: re-verified, not downloaded again
    r = fetch(env, repo.url + "/driver")
    assert r.returncode == 0 and "Using the cached, verified" in r.stdout
    assert len(repo.log) == 3
    # and reset/cleanup removes exactly what fetch cached
    r = run([bin_path("falcoctl"), "driver", "cleanup", "--root", env.root])
    assert r.returncode == 0, r.stderr
    assert cached(env) is None
    assert not os.path.exists(os.path.join(env.root, "var/lib/falcoctl/drivers"))


def test_repositories_in_order(env):
    first, second = env.repos
    publish(second, env.key, prefix="/mirror")
    r = fetch(env, first.url + "/driver", second.url + "/mirror")
    assert r.returncode == 0, r.stderr
    assert "[WARNING DriverRepo]: " + first.url + "/driver:" in r.stdout and "HTTP 404" in r.stdout
    assert cached(env) == MODULE
    assert second.log[-1].endswith(NAME)


def test_forged_list_rejected(env):
    first, second = env.repos
    publish(first, env.key, signer=env.other)                      # signed by an unknown key
    publish(second, env.key, module=b"evil", sums_module=MODULE)  # module does not match the list
    r = fetch(env, first.url + "/driver", second.url + "/driver")
    assert r.returncode == 1
    assert "SHA256SUMS signature: no pinned key" in r.stderr, r.stderr
    assert f"{NAME}: checksum mismatch" in r.stderr, r.stderr
    assert not any(p.endswith(NAME) for p in first.log)  # an unverified list is not followed
    assert cached(env) is None


def test_truncated_signature_rejected(env):
    repo = env.repos[0]
    d = publish(repo, env.key)
    repo.files[f"{d}/SHA256SUMS.sig"] = repo.files[f"{d}/SHA256SUMS.sig"][:40]
    r = fetch(env, repo.url + "/driver")
    assert r.returncode == 1 and "signature is 40 bytes, expected 64" in r.stderr, r.stderr


def test_https_only_and_ca(env):
    plain = Repo()
    try:
        publish(plain, env.key)
        r = fetch(env, plain.url + "/driver")
        assert r.returncode == 1 and "only https allowed (plain http needs --plain-http)" in r.stderr, r.stderr
        r = fetch(env, plain.url + "/driver", extra=["--plain-http"])
        assert r.returncode == 0, r.stderr  # signatures still protect the content
    finally:
        plain.stop()
    repo = env.repos[1]
    publish(repo, env.key)
    args = [bin_path("falcoctl"), "driver", "fetch", "--type", "kmod", "--root", env.root, "--driver-version",
            VERSION, "--kernelrelease", RELEASE, "--kernelversion", "#2 SMP", "--repo", repo.url + "/driver"]
    r = run(args)  # no --ca-file: the test CA is unknown to the system store
    assert r.returncode == 1 and "TLS failure" in r.stderr, r.stderr


def test_size_limit(env):
    repo = env.repos[0]
    publish(repo, env.key)
    r = fetch(env, repo.url + "/driver", extra=["--max-size", "100"])
    assert r.returncode == 1 and "larger than the limit of 100 bytes" in r.stderr, r.stderr
    assert cached(env) is None


def test_retries_with_backoff(env):
    repo = env.repos[0]
    d = publish(repo, env.key)
    repo.fail[f"{d}/SHA256SUMS"] = 2
    r = fetch(env, repo.url + "/driver", extra=["--http-retries", "2"])
    assert r.returncode == 0, r.stderr
    assert repo.log.count(f"{d}/SHA256SUMS") == 3
    repo.fail[f"{d}/SHA256SUMS"] = 5
    run([bin_path("falcoctl"), "driver", "cleanup", "--root", env.root])
    r = fetch(env, repo.url + "/driver", extra=["--http-retries", "1"])
    assert r.returncode == 1 and "after 2 attempts" in r.stderr and "HTTP 503" in r.stderr, r.stderr


def test_proxy_from_environment(env):
    repo = env.repos[0]
    publish(repo, env.key)
    dead = "http://127.0.0.1:9"  # nothing listens: the request must have gone through the proxy to fail
    r = fetch(env, repo.url + "/driver", extra=["--http-retries", "0"], env={"https_proxy": dead})
    assert r.returncode == 1 and repo.log == [], r.stderr
    r = fetch(env, repo.url + "/driver", env={"https_proxy": dead, "no_proxy": "127.0.0.1"})
    assert r.returncode == 0, r.stderr


def test_long_download_shows_progress(env):
    repo = env.repos[0]
    big = MODULE + os.urandom(256 * 1024)
    d = publish(repo, env.key, module=big, sums_module=big)
    repo.slow[f"{d}/{NAME}"] = 3.5
    r = fetch(env, repo.url + "/driver")
    assert r.returncode == 0, r.stdout + r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("[driver] Downloaded ")]
    assert 2 <= len(lines) <= 5, r.stdout  # about one a second, not one per chunk
    total = len(big) >> 10
    for ln in lines:
        m = re.fullmatch(r"\[driver\] Downloaded (\d+) of (\d+) KiB \((\d+)%\)", ln)
        assert m and int(m.group(2)) == total and 0 < int(m.group(3)) < 100, ln
    assert cached(env) == big
