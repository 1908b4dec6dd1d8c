# SPDX-License-Identifier: Apache-2.0
"""The k8s_audit webhook end to end: the real falco with k8s_audit.tls on, certificates generated here
(python3-cryptography), real audit events POSTed over HTTPS, alerts read from stdout (json_output). Also the
error contract (405, 400 content type, 413, 400 malformed JSON, 404) and mTLS (a client without a certificate
signed by the configured CA is refused)."""
import datetime
import http.client
import ipaddress
import json
import os
import signal
import ssl
import subprocess
import threading
import time
import warnings

import pytest

from conftest import free_port
from falcod import BASE_CONFIG, audit_event, write, write_rules

pytest.importorskip("cryptography", reason="python3-cryptography is needed to generate certificates")
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: E402

MAX_BATCH = 64 * 1024


# ---- certificates ----

def _cert(key, cn, issuer_cert=None, issuer_key=None, ca=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    b = (x509.CertificateBuilder()
         .subject_name(name)
         .issuer_name(issuer_cert.subject if issuer_cert else name)
         .public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(hours=1))
         .not_valid_after(now + datetime.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        b = b.add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                          data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                          crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
    else:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                         x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                            critical=False)
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                   ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return b.sign(issuer_key or key, hashes.SHA256())


def _pem(cert=None, key=None):
    out = b""
    if cert is not None:
        out += cert.public_bytes(serialization.Encoding.PEM)
    if key is not None:
        out += key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    return out


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    ca_key, rogue_ca_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _cert(ca_key, "falco e2e CA", ca=True)
    rogue_ca = _cert(rogue_ca_key, "rogue CA", ca=True)
    keys = {n: ec.generate_private_key(ec.SECP256R1()) for n in ("server", "client", "rogue")}
    certs = {"server": _cert(keys["server"], "localhost", ca, ca_key),
             "client": _cert(keys["client"], "kube-apiserver", ca, ca_key),
             "rogue": _cert(keys["rogue"], "kube-apiserver", rogue_ca, rogue_ca_key)}
    files = {"ca": _pem(ca), "falco": _pem(certs["server"], keys["server"])}
    for n in ("client", "rogue"):
        files[n + "_crt"], files[n + "_key"] = _pem(certs[n]), _pem(key=keys[n])
    paths = {}
    for n, data in files.items():
        p = d / (n + ".pem")
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        paths[n] = str(p)
    return paths


# ---- a live falco with the webhook over HTTPS ----

class Webhook:
    def __init__(self, falco_bin, tmp_path, pki, mtls=False, port=None, config=None):
        """config: a whole falco.yaml of the caller's (listening on port) instead of our k8s_audit: section."""
        self.port = port or free_port()
        self.pki = pki
        tls = f"  tls:\n    enabled: true\n    certificate: {pki['falco']}\n"
        if mtls:
            tls += f"    ca: {pki['ca']}\n    mtls: true\n"
        if config is None:
            config = (BASE_CONFIG + "json_output: true\n"
                      f"k8s_audit:\n  enabled: true\n  listen_address: 127.0.0.1\n  listen_port: {self.port}\n"
                      f"  max_batch_size: {MAX_BATCH}\n" + tls)
        self.cmd = [falco_bin, "-c", write(tmp_path, "falco.yaml", config), "-r", write_rules(tmp_path), "-U"]
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines, self.err = [], []
        self._readers = [threading.Thread(target=self._read, args=(self.proc.stdout, self.lines), daemon=True),
                         threading.Thread(target=self._read, args=(self.proc.stderr, self.err), daemon=True)]
        for t in self._readers:
            t.start()
        self._wait_ready()

    @staticmethod
    def _read(stream, sink):
        for line in stream:
            sink.append(line)

    def _wait_ready(self, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                for t in self._readers:
                    t.join(timeout=5)
                err = "".join(self.err)
                raise AssertionError(f"falco exited early rc={self.proc.returncode}: {err}")
            if any("Opening 'k8s_audit' source" in line for line in self.err):
                return
            time.sleep(0.05)
        raise AssertionError("falco never opened the k8s_audit webhook: " + "".join(self.err))

    def context(self, cert=None, key=None):
        ctx = ssl.create_default_context(cafile=self.pki["ca"])
        if cert:
            ctx.load_cert_chain(cert, key)
        return ctx

    def request(self, method="POST", body=None, content_type="application/json", path="/k8s-audit", ctx=None):
        """Returns (status, body text). TLS failures raise."""
        conn = http.client.HTTPSConnection("localhost", self.port, context=ctx or self.context(), timeout=10)
        try:
            headers = {"Content-Type": content_type} if content_type else {}
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read().decode()
        finally:
            conn.close()

    def post_events(self, events, ctx=None):
        body = json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": events})
        return self.request(body=body, ctx=ctx)

    def alerts(self):
        out = []
        for line in list(self.lines):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def wait_alerts(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.alerts()) >= n:
                return self.alerts()
            time.sleep(0.05)
        raise AssertionError(f"expected {n} alerts on stdout, got {self.alerts()}; stderr: {''.join(self.err)}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=20)
        for t in self._readers:
            t.join(timeout=5)
        return rc


@pytest.fixture
def webhook(falco_bin, tmp_path, pki):
    w = Webhook(falco_bin, tmp_path, pki)
    yield w
    w.stop()


@pytest.fixture
def mtls_webhook(falco_bin, tmp_path, pki):
    w = Webhook(falco_bin, tmp_path, pki, mtls=True)
    yield w
    w.stop()


def _alert_rules(alerts):
    return sorted(a["rule"] for a in alerts)


# ---- tests ----

def test_alerts_over_https(webhook):
    events = [audit_event(), audit_event(verb="get", resource="secrets", name="db-password"),
              audit_event(verb="list", resource="pods", name="benign")]
    assert webhook.post_events(events) == (200, "")
    # a single Event and a top-level array are accepted too
    assert webhook.request(body=json.dumps(audit_event(name="single")))[0] == 200
    assert webhook.request(body=json.dumps([audit_event(name="in-array")]))[0] == 200
    alerts = webhook.wait_alerts(4)
    assert _alert_rules(alerts) == ["Test Pod Create", "Test Pod Create", "Test Pod Create", "Test Secret Get"]
    pods = sorted(a["output_fields"]["ka.target.name"] for a in alerts if a["rule"] == "Test Pod Create")
    assert pods == ["in-array", "single", "web"]
    assert all(a["source"] == "k8s_audit" for a in alerts)
    assert webhook.stop() == 0


def test_error_contract(webhook):
    status, body = webhook.request(method="GET")
    assert (status, body) == (405, "GET method not allowed\n")
    status, body = webhook.request(body=json.dumps(audit_event()), content_type="text/plain")
    assert (status, body) == (400, "wrong Content Type\n")
    status, body = webhook.request(body='{"kind":"EventList","items":[')
    assert status == 400 and body.startswith("bad request: invalid JSON"), body
    status, body = webhook.request(body='{"kind":"Pod"}')
    assert (status, body) == (400, "bad request: data not recognized as a k8s audit event\n")
    status, _ = webhook.request(body=json.dumps(audit_event()), path="/other")
    assert status == 404
    # a body over k8s_audit.max_batch_size
    big = json.dumps({"kind": "EventList", "items": [audit_event(name="x" * 1000)] * (MAX_BATCH // 1000 + 10)})
    assert len(big) > MAX_BATCH
    status, _ = webhook.request(body=big)
    assert status == 413
    # none of that produced an alert, and the webhook still works
    assert webhook.post_events([audit_event(name="after-errors")])[0] == 200
    alerts = webhook.wait_alerts(1)
    assert [a["output_fields"]["ka.target.name"] for a in alerts] == ["after-errors"]
    assert any("invalid JSON" in line for line in webhook.err), "parse errors are logged"


def test_plain_http_is_not_served_on_the_tls_port(webhook):
    conn = http.client.HTTPConnection("127.0.0.1", webhook.port, timeout=10)
    try:
        conn.request("POST", "/k8s-audit", body=json.dumps(audit_event()),
                     headers={"Content-Type": "application/json"})
        status = conn.getresponse().status
    except (ConnectionError, http.client.HTTPException, OSError):
        status = None
    finally:
        conn.close()
    assert status != 200
    time.sleep(0.3)
    assert webhook.alerts() == []


def test_mtls(mtls_webhook, pki):
    w = mtls_webhook
    good = w.context(pki["client_crt"], pki["client_key"])
    assert w.post_events([audit_event(name="with-cert")], ctx=good)[0] == 200
    for ctx in (w.context(), w.context(pki["rogue_crt"], pki["rogue_key"])):
        with pytest.raises((ssl.SSLError, ConnectionError, http.client.HTTPException, OSError)):
            w.post_events([audit_event(name="refused")], ctx=ctx)
    w.wait_alerts(1)
    time.sleep(0.3)
    assert [a["output_fields"]["ka.target.name"] for a in w.alerts()] == ["with-cert"]


def test_tls_1_1_is_refused(webhook):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(webhook.pki["ca"])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        pytest.skip("this Python/OpenSSL cannot offer TLS 1.1")
    with pytest.raises(ssl.SSLError) as e:
        conn = http.client.HTTPSConnection("localhost", webhook.port, context=ctx, timeout=10)
        conn.request("GET", "/k8s-audit")
    # the server's alert, not a client that could not offer TLS 1.1 at all
    assert "TLSV1_ALERT_PROTOCOL_VERSION" in str(e.value), str(e.value)


def test_missing_certificate_is_a_startup_error(falco_bin, tmp_path):
    port = free_port()
    config = (BASE_CONFIG + f"k8s_audit:\n  enabled: true\n  listen_address: 127.0.0.1\n  listen_port: {port}\n"
              f"  tls:\n    enabled: true\n    certificate: {tmp_path}/missing.pem\n")
    cmd = [falco_bin, "-c", write(tmp_path, "falco.yaml", config), "-r", write_rules(tmp_path)]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    assert r.returncode != 0
    assert f"cannot load certificate '{tmp_path}/missing.pem': No such file or directory" in r.stderr, r.stderr


# An upstream Falco 0.4x falco.yaml, written here from the documented keys (not copied from upstream): the
# k8saudit plugin over https with its init_config, json and container plugin entries, and every other section
# such a file carries. It must load unchanged, and the plugin's settings must take effect on our webhook.
UPSTREAM_FALCO_YAML = """\
config_files:
  - {confd}
watch_config_files: true
rules_files:
  - {rules}
rules:
  - disable:
      rule: "Test Secret*"
engine:
  kind: nodriver
  kmod:
    buf_size_preset: 4
    drop_failed_exit: false
  ebpf:
    probe: ${{HOME}}/.falco/falco-bpf.o
    buf_size_preset: 4
    drop_failed_exit: false
  modern_ebpf:
    cpus_for_each_buffer: 2
    buf_size_preset: 4
    drop_failed_exit: false
  replay:
    capture_file: ""
  gvisor:
    config: ""
    root: ""
load_plugins: [k8saudit, json]
plugins:
  - name: k8saudit
    library_path: libk8saudit.so
    init_config:
      sslCertificate: {pem}
      maxEventSize: {max_event}
      webhookMaxBatchSize: {max_batch}
      useAsync: true
    open_params: "https://127.0.0.1:{port}/k8s-audit"
  - name: json
    library_path: libjson.so
    init_config: ""
  - name: container
    library_path: libcontainer.so
    init_config:
      label_max_len: 100
      with_size: false
      engines:
        docker:
          enabled: true
          sockets: [/var/run/docker.sock]
time_format_iso_8601: false
priority: debug
json_output: true
json_include_output_property: true
json_include_message_property: false
json_include_output_fields_property: true
json_include_tags_property: true
buffered_outputs: false
rule_matching: first
outputs_queue:
  capacity: 0
append_output:
  - suggested_output: true
static_fields: {{}}
stdout_output:
  enabled: true
syslog_output:
  enabled: false
file_output:
  enabled: false
  keep_alive: false
  filename: ./events.txt
http_output:
  enabled: false
  url: http://some.url
  user_agent: "falcosecurity/falco"
  insecure: false
  ca_cert: ""
  ca_bundle: ""
  ca_path: "/etc/falco/certs/"
  mtls: false
  client_cert: "/etc/falco/certs/client/client.crt"
  client_key: "/etc/falco/certs/client/client.key"
  echo: false
  compress_uploads: false
  keep_alive: false
  max_consecutive_timeouts: 5
program_output:
  enabled: false
  keep_alive: false
  program: "jq '{{text: .output}}' | curl -d @- -X POST https://hooks.slack.com/services/XXX"
grpc_output:
  enabled: false
grpc:
  enabled: false
  bind_address: "unix:///run/falco/falco.sock"
  threadiness: 0
webserver:
  enabled: false
  threadiness: 0
  listen_port: 8765
  listen_address: 0.0.0.0
  k8s_healthz_endpoint: /healthz
  prometheus_metrics_enabled: false
  ssl_enabled: false
  ssl_certificate: /etc/falco/falco.pem
log_stderr: true
log_syslog: false
log_level: info
libs_logger:
  enabled: false
  severity: debug
output_timeout: 2000
syscall_event_timeouts:
  max_consecutives: 1000
syscall_event_drops:
  threshold: .1
  actions:
    - log
    - alert
  rate: .03333
  max_burst: 1
  simulate_drops: false
metrics:
  enabled: false
  interval: 1h
  output_rule: true
  rules_counters_enabled: true
  resource_utilization_enabled: true
  state_counters_enabled: true
  kernel_event_counters_enabled: true
  kernel_event_counters_per_cpu_enabled: false
  libbpf_stats_enabled: true
  plugins_metrics_enabled: true
  convert_memory_to_mb: true
  include_empty_values: false
base_syscalls:
  custom_set: []
  repair: false
falco_libs:
  thread_table_size: 262144
  snaplen: 80
capture:
  enabled: false
  path_prefix: /tmp/falco
  mode: rules
  default_duration: 5000
plugins_hostinfo: true
buffer_format_base64: false
"""


def test_upstream_falco_yaml_k8saudit_plugin_over_https(falco_bin, tmp_path, pki):
    port, max_event, max_batch = free_port(), 4096, 32 * 1024
    confd = tmp_path / "config.d"
    confd.mkdir()
    config = UPSTREAM_FALCO_YAML.format(confd=confd, rules=write_rules(tmp_path), pem=pki["falco"], port=port,
                                        max_event=max_event, max_batch=max_batch)
    w = Webhook(falco_bin, tmp_path, pki, port=port, config=config)
    try:
        started = "".join(w.err)
        assert "unknown configuration key" not in started, started
        assert f"https://127.0.0.1:{port}/k8s-audit" in started, started

        # the config's rules: section disabled the secret rule; an event over maxEventSize is dropped alone
        big = audit_event(name="big")
        big["annotations"] = {"padding": "p" * max_event}
        events = [audit_event(name="first"), audit_event(verb="get", resource="secrets", name="s"), big,
                  audit_event(name="last")]
        assert w.post_events(events) == (200, "")
        alerts = w.wait_alerts(2)
        time.sleep(0.3)
        alerts = w.alerts()
        assert [a["output_fields"]["ka.target.name"] for a in alerts] == ["first", "last"]
        assert all(a["rule"] == "Test Pod Create" and a["source"] == "k8s_audit" for a in alerts)
        assert any("event larger than maxEventSize" in line for line in w.err), "".join(w.err)

        # a body over webhookMaxBatchSize is refused, and nothing of it is evaluated
        over = [audit_event(name=f"n{i:04d}") for i in range(max_batch // 400)]
        body = json.dumps({"kind": "EventList", "items": over})
        assert len(body) > max_batch
        status, _ = w.request(body=body)
        assert status == 413
        # a body just under the limit is accepted
        under = json.dumps({"kind": "EventList", "items": over[: len(over) // 2]})
        assert len(under) < max_batch
        assert w.request(body=under)[0] == 200
        w.wait_alerts(2 + len(over) // 2)
    finally:
        rc = w.stop()
    assert rc == 0, "".join(w.err)
