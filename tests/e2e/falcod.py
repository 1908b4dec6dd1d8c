# SPDX-License-Identifier: Apache-2.0
"""Helpers for the daemon end-to-end tests (test_cli.py, test_config.py, test_outputs_basic.py): a small rules
file of our own, authored audit events, a minimal falco.yaml, and a live falco with its k8s_audit webhook."""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

from conftest import free_port

TS = "2024-05-06T07:08:09.123456789Z"
TS_NS = 1714979289123456789

RULES = """\
- required_engine_version: 0.26.0

- rule: Test Pod Create
  desc: >
    A pod was created
    (test rule).
  condition: ka.verb=create and ka.target.resource=pods
  output: Pod created (user=%ka.user.name ns=%ka.target.namespace pod=%ka.target.name code=%ka.response.code
    uri=%ka.uri)
  priority: WARNING
  source: k8s_audit
  tags: [zeta, alpha, k8s]

- rule: Test Secret Get
  desc: A secret was read.
  condition: ka.verb=get and ka.target.resource=secrets
  output: Secret read (user=%ka.user.name name=%ka.target.name)
  priority: ERROR
  source: k8s_audit
  tags: [secrets, k8s]
"""

# Keeps the tests independent of a falco.yaml installed on the machine, of syslog and of port 8765.
BASE_CONFIG = """\
webserver:
  enabled: false
log_syslog: false
syslog_output:
  enabled: false
"""


def audit_event(verb="create", resource="pods", name="web", ns="shop", user="alice", code=201, uri=None):
    return {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Request",
        "auditID": f"{verb}-{resource}-{name}",
        "stage": "ResponseComplete",
        "requestURI": uri or f"/api/v1/namespaces/{ns}/{resource}",
        "verb": verb,
        "user": {"username": user, "groups": ["system:authenticated"]},
        "sourceIPs": ["10.0.0.7"],
        "objectRef": {"resource": resource, "namespace": ns, "name": name, "apiVersion": "v1"},
        "responseStatus": {"code": code},
        "requestReceivedTimestamp": TS,
        "stageTimestamp": TS,
    }


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def write_rules(tmp_path, text=RULES, name="rules.yaml"):
    return write(tmp_path, name, text)


def write_config(tmp_path, extra="", name="falco.yaml"):
    return write(tmp_path, name, BASE_CONFIG + extra)


def write_events(tmp_path, events, name="events.jsonl"):
    return write(tmp_path, name, "".join(json.dumps(e) + "\n" for e in events))


def falco_cmd(falco_bin, tmp_path, *args, config_extra="", rules=True):
    cmd = [falco_bin, "-c", write_config(tmp_path, config_extra)]
    if rules:
        cmd += ["-r", write_rules(tmp_path)]
    return cmd + list(args)


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class LiveFalco:
    """falco with its k8s_audit webhook on 127.0.0.1:<free port>; events are POSTed, stop() sends SIGTERM."""

    def __init__(self, falco_bin, tmp_path, *args, config_extra="", env=None, port=None):
        """With port=None the webhook is configured through k8s_audit:; else config_extra configures it."""
        extra = config_extra
        if port is None:
            port = free_port()
            extra = (f"k8s_audit:\n  enabled: true\n  listen_address: 127.0.0.1\n  listen_port: {port}\n"
                     + config_extra)
        self.port = port
        self.cmd = falco_cmd(falco_bin, tmp_path, *args, config_extra=extra)
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env)
        self.stdout = self.stderr = None
        self.wait_port(self.port)

    def wait_port(self, port, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise AssertionError(f"falco exited early rc={self.proc.returncode}: {err}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"port {port} never opened")

    def post(self, events, path="/k8s-audit"):
        body = json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": events}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status

    def send(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.stdout, self.stderr = self.proc.communicate(timeout=timeout)
        return self.proc.returncode


def wait_for(pred, timeout=10, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def read_or_empty(path):
    return open(path).read() if os.path.exists(path) else ""
