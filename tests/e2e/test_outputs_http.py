# SPDX-License-Identifier: Apache-2.0
"""http_output end to end against a real HTTPS receiver (python ssl) with certificates made for the test:
server verification on by default, mTLS, insecure only when asked, JSON and text bodies, custom headers,
retries with backoff on transient answers, no retries for other 4xx."""
import json
import os

import pytest

from conftest import run
from falcod import audit_event, falco_cmd, json_lines, write_events
from outputs_support import Receiver, make_certs

UTC = dict(os.environ, TZ="UTC", FALCO_HOSTNAME="test-host")


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("certs"))


def http_cfg(url, **kv):
    lines = ["http_output:", "  enabled: true", f"  url: \"{url}\""]
    for k, v in kv.items():
        if isinstance(v, dict):
            lines.append(f"  {k}:")
            lines += [f"    {hk}: \"{hv}\"" for hk, hv in v.items()]
        else:
            lines.append(f"  {k}: {json.dumps(v) if isinstance(v, str) else str(v).lower()}")
    return "\n".join(lines) + "\n"


def replay(falco_bin, tmp_path, events, extra, *args):
    cmd = falco_cmd(falco_bin, tmp_path, "-e", write_events(tmp_path, events), *args, config_extra=extra)
    r = run(cmd, env=UTC, timeout=60)
    assert r.returncode == 0, r.stderr
    return r


def test_https_mtls_json_and_headers(falco_bin, tmp_path, certs):
    rcv = Receiver(certs, require_client_cert=True)
    try:
        extra = http_cfg(rcv.url, ca_cert=certs["ca.pem"], mtls=True, client_cert=certs["client.pem"],
                         client_key=certs["client.key"], headers={"Authorization": "Bearer s3cret",
                                                                  "X-Falco-Test": "yes"})
        r = replay(falco_bin, tmp_path, [audit_event(), audit_event("get", "secrets", "s1")], extra,
                   "-o", "json_output=true")
        reqs = rcv.wait_requests(2)
    finally:
        rcv.stop()
    stdout_alerts = json_lines(r.stdout)
    for req, want in zip(reqs, stdout_alerts):
        h = {k.lower(): v for k, v in req["headers"].items()}
        assert req["path"] == "/"  # falcosidekick's endpoint
        assert h["content-type"] == "application/json"
        assert h["user-agent"] == "falcosecurity/falco"
        assert h["authorization"] == "Bearer s3cret"
        assert h["x-falco-test"] == "yes"
        assert "expect" not in h
        assert json.loads(req["body"]) == want  # the very alert stdout printed
        assert req["client_cert"] == "client"
    assert [json.loads(q["body"])["rule"] for q in reqs] == ["Test Pod Create", "Test Secret Get"]
    assert "output 'http'" not in r.stderr


def test_text_mode_is_text_plain(falco_bin, tmp_path, certs):
    rcv = Receiver(certs)
    try:
        r = replay(falco_bin, tmp_path, [audit_event()], http_cfg(rcv.url, ca_cert=certs["ca.pem"]))
        [req] = rcv.wait_requests(1)
    finally:
        rcv.stop()
    assert {k.lower(): v for k, v in req["headers"].items()}["content-type"] == "text/plain"
    assert req["body"].decode() == r.stdout.splitlines()[0]


def test_unknown_ca_is_refused_unless_insecure(falco_bin, tmp_path, certs):
    rcv = Receiver(certs)
    try:
        r = replay(falco_bin, tmp_path, [audit_event()],
                   http_cfg(rcv.url, ca_cert=certs["other-ca.pem"], retries=0))
        assert "output 'http': POST https://127.0.0.1:" in r.stderr
        assert "certificate" in r.stderr.lower()
        assert rcv.requests == []
        # insecure: explicit, and warned about
        r = replay(falco_bin, tmp_path, [audit_event()],
                   http_cfg(rcv.url, ca_cert=certs["other-ca.pem"], insecure=True))
        rcv.wait_requests(1)
        assert "not verified" in r.stderr
    finally:
        rcv.stop()


def test_mtls_without_client_certificate_fails(falco_bin, tmp_path, certs):
    rcv = Receiver(certs, require_client_cert=True)
    try:
        r = replay(falco_bin, tmp_path, [audit_event()],
                   http_cfg(rcv.url, ca_cert=certs["ca.pem"], retries=0))
    finally:
        rcv.stop()
    assert rcv.requests == []
    assert "output 'http': POST https://127.0.0.1:" in r.stderr
    assert "1 write errors" in r.stderr


def test_retries_transient_answers_with_backoff(falco_bin, tmp_path, certs):
    rcv = Receiver(certs, plan=[503, 429])
    try:
        r = replay(falco_bin, tmp_path, [audit_event()],
                   http_cfg(rcv.url, ca_cert=certs["ca.pem"], retries=3, retry_backoff_ms=50))
        reqs = rcv.wait_requests(3)
    finally:
        rcv.stop()
    assert [q["status"] for q in reqs] == [503, 429, 200]
    assert len({q["body"] for q in reqs}) == 1  # the same alert each time
    # retry_backoff_ms first, then doubling (lower bounds only: a busy machine only adds delay)
    gaps = [b["at"] - a["at"] for a, b in zip(reqs, reqs[1:])]
    assert gaps[0] >= 0.045 and gaps[1] >= 0.095, gaps
    assert "write errors" not in r.stderr


def test_client_errors_are_not_retried(falco_bin, tmp_path, certs):
    rcv = Receiver(certs, plan=[400])
    try:
        r = replay(falco_bin, tmp_path, [audit_event(), audit_event(name="second")],
                   http_cfg(rcv.url, ca_cert=certs["ca.pem"], retries=3, retry_backoff_ms=50))
        reqs = rcv.wait_requests(2)
    finally:
        rcv.stop()
    assert [q["status"] for q in reqs] == [400, 200]  # the first alert once, then the second
    assert "answered HTTP 400" in r.stderr


def test_plain_http_and_redacted_url(falco_bin, tmp_path):
    rcv = Receiver(plan=[500, 500])
    try:
        url = f"http://user:pw@127.0.0.1:{rcv.port}/alerts?token=abc"
        r = replay(falco_bin, tmp_path, [audit_event()], http_cfg(url, retries=1, retry_backoff_ms=10))
        reqs = rcv.wait_requests(2)
    finally:
        rcv.stop()
    assert reqs[0]["path"] == "/alerts?token=abc"
    assert f"POST http://127.0.0.1:{rcv.port}/alerts answered HTTP 500" in r.stderr
    assert "token=abc" not in r.stderr and "pw@" not in r.stderr


def test_only_http_schemes(falco_bin, tmp_path):
    r = replay(falco_bin, tmp_path, [audit_event()], http_cfg("file:///etc/passwd"))
    assert "must start with http:// or https://" in r.stderr
