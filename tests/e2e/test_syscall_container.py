# SPDX-License-Identifier: Apache-2.0
"""Container metadata from a runtime socket, live: a fake docker API (GET /containers/<id>/json on a unix socket
under $HOST_ROOT/var/run/docker.sock) answers for a docker-named cgroup. The query runs on a worker thread: while
the runtime is slow to answer, events of the container are still evaluated at once (without a name); once it has
answered, alerts carry the name, image and k8s labels it gave. A capture replays with the same metadata."""
import json
import os
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest

from conftest import run
from syscall_support import (OUR_RULES, BASE_CONFIG, FakeContainer, LiveSyscallFalco, bpf_prerequisites, fields,
                             marker)

pytestmark = pytest.mark.skipif(bpf_prerequisites() is not None, reason=str(bpf_prerequisites()))

SHELL_RULE = "Shell Spawned in Container"


class FakeDocker:
    """The subset of docker's engine API the state asks for; the first answer is held back `delay` seconds
    (longer than falco waits for it)."""

    def __init__(self, path, containers, delay):
        self.containers, self.delay, self.requests = containers, delay, []
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append((time.monotonic(), self.path))
                if len(outer.requests) == 1:
                    outer.release.wait(outer.delay)
                cid = self.path.split("/")[2] if self.path.startswith("/containers/") else ""
                body = outer.containers.get(cid)
                try:
                    if body is None or not self.path.endswith("/json"):
                        self.send_response(404)
                        self.end_headers()
                        return
                    data = json.dumps(body).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except BrokenPipeError:
                    pass  # falco gave up waiting, as it should

            def log_message(self, *args):
                pass

        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.srv = socketserver.ThreadingUnixStreamServer(path, Handler)
        self.srv.daemon_threads = True
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()

    def close(self):
        self.release.set()
        self.srv.shutdown()
        self.srv.server_close()


def docker_json(cid, name, image):
    return {"Id": cid, "Name": "/" + name, "Image": "sha256:" + "ab" * 32,
            "State": {"StartedAt": "2026-01-02T03:04:05.123456789Z"},
            "HostConfig": {"Privileged": True},
            "Config": {"Image": image, "Labels": {"io.kubernetes.pod.namespace": "shop",
                                                  "io.kubernetes.pod.name": "web-7d9f"}},
            "Mounts": [{"Source": "/var/run/docker.sock", "Destination": "/var/run/docker.sock", "Mode": "",
                        "RW": True, "Propagation": "rprivate"}]}


RULES = """\
- rule: Shell in named container
  desc: test rule printing the runtime's metadata
  condition: evt.type in (execve, execveat) and evt.dir = < and container.id != host and proc.name = sh
  output: >
    shell %proc.cmdline in %container.id name=%container.name image=%container.image
    repo=%container.image.repository tag=%container.image.tag priv=%container.privileged
    ns=%k8s.ns.name pod=%k8s.pod.name mount=%container.mount.dest[/var/run/docker.sock]
  priority: WARNING
"""


def test_runtime_metadata_is_asynchronous(falco_bin, tmp_path):
    host = tmp_path / "host"
    rules = tmp_path / "ct_rules.yaml"
    rules.write_text(RULES)
    cap = tmp_path / "ct.fcap"
    with FakeContainer() as c:
        docker = FakeDocker(str(host / "var/run/docker.sock"),
                            {c.id: docker_json(c.id, "web-1", "registry.example.com/team/nginx:1.25")}, delay=10)
        # HOST_ROOT must hold the host's /proc: this machine's, through a symlink
        os.symlink("/proc", host / "proc")
        os.environ["HOST_ROOT"] = str(host)
        try:
            f = LiveSyscallFalco(falco_bin, tmp_path, [OUR_RULES, str(rules)], args=["-w", str(cap)],
                                 config_extra="rule_matching: all\n")
        finally:
            del os.environ["HOST_ROOT"]
        try:
            m1 = marker()
            t0 = time.monotonic()
            c.run(["/bin/sh", "-c", f"echo {m1}"])
            a = f.wait_alert("Shell in named container", lambda a: m1 in fields(a).get("proc.cmdline", ""),
                             timeout=10)
            # the runtime holds its first answer 10 s and falco's query gives up after 2 s: an event waiting
            # for it would alert 2 s late at best
            assert time.monotonic() - t0 < 1.5, time.monotonic() - t0
            assert fields(a)["container.id"] == c.id[:12]
            assert fields(a)["container.name"] != "web-1"
            # the worker's query reaches the runtime (perhaps after the alert: it is asynchronous)
            deadline = time.monotonic() + 10
            while not docker.requests and time.monotonic() < deadline:
                time.sleep(0.05)
            assert docker.requests and docker.requests[0][1] == f"/containers/{c.id}/json"
            # held past falco's 2 s: that query fails; the next one (a retry) is answered at once
            time.sleep(max(0.0, docker.requests[0][0] + 2.5 - time.monotonic()))
            docker.release.set()
            # once answered (the daemon polls the worker every second), alerts carry the metadata
            deadline = time.monotonic() + 20
            while True:
                m2 = marker()
                c.run(["/bin/sh", "-c", f"echo {m2}"])
                a = f.wait_alert("Shell in named container", lambda a: m2 in fields(a).get("proc.cmdline", ""))
                if fields(a)["container.name"] == "web-1" or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            fl = fields(a)
            assert fl["container.name"] == "web-1"
            assert fl["container.image"] == "registry.example.com/team/nginx:1.25"
            assert fl["container.image.repository"] == "registry.example.com/team/nginx"
            assert fl["container.image.tag"] == "1.25"
            assert fl["container.privileged"] in (True, "true")
            assert fl["k8s.ns.name"] == "shop"
            assert fl["k8s.pod.name"] == "web-7d9f"
            assert fl["container.mount.dest[/var/run/docker.sock]"] == "/var/run/docker.sock"
            # our own rule shows the name too
            s = f.wait_alert(SHELL_RULE, lambda a: m2 in fields(a).get("proc.cmdline", ""))
            assert fields(s)["container.name"] == "web-1"
            # one query per container, not one per event: the first (timed out) and one retry
            assert len(docker.requests) == 2, docker.requests
            f.settle(1)
        finally:
            rc = f.stop()
            docker.close()
    assert rc == 0, "\n".join(f.err_lines[-20:])
    live = [a for a in f.alerts if a["rule"] == "Shell in named container"]

    # the replay rebuilds the same metadata at the same point of the stream, without any socket
    cfg = tmp_path / "replay.yaml"
    cfg.write_text(BASE_CONFIG + "rule_matching: all\n")
    r = run([falco_bin, "-c", str(cfg), "-r", OUR_RULES, "-r", str(rules), "-e", str(cap)], timeout=300)
    assert r.returncode == 0, r.stderr
    rep = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    rep = [a for a in rep if a["rule"] == "Shell in named container"]
    assert [a["output"] for a in rep] == [a["output"] for a in live]
