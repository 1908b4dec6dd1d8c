# SPDX-License-Identifier: Apache-2.0
"""/healthz follows falco's real health: it turns 503 with the reason when the engine thread stops making
progress or when the k8s_audit webhook thread is stuck, and back to 200 once they run again.

The stuck threads are real: falco's stderr is a pipe (as under a container runtime or a supervisor) that the test
stops reading. A thread that logs then blocks in write(2) once the pipe is full, exactly as it would when the
log collector stalls. The engine thread is made to log with SIGHUPs (each logs a line), the webhook thread with
malformed audit payloads (each is reported as a warning from that thread). Reading the pipe again unblocks them.
(The output-stall branch is covered by test_outputs_overflow.py.)"""
import fcntl
import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

from conftest import free_port
from falcod import falco_cmd, wait_for
from outputs_support import NODRIVER, http_get

STALL_MS = 1000


class StderrPipe:
    """A small pipe for falco's stderr, read by a thread that can be paused (the writer then blocks once the pipe
    is full) and resumed."""

    def __init__(self):
        self.r, self.w = os.pipe()
        fcntl.fcntl(self.w, fcntl.F_SETPIPE_SZ, 4096)
        self.data = bytearray()
        self.lock = threading.Lock()
        self.reading = threading.Event()
        self.reading.set()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            self.reading.wait()
            chunk = os.read(self.r, 65536)
            if not chunk:
                return
            with self.lock:
                self.data += chunk

    def text(self):
        with self.lock:
            return self.data.decode(errors="replace")

    def pause(self):
        self.reading.clear()

    def resume(self):
        self.reading.set()

    def close(self):
        self.resume()
        self.thread.join(timeout=10)
        os.close(self.r)


class PipedFalco:
    """falco (nodriver, k8s_audit webhook and webserver on free ports) with stderr into a StderrPipe."""

    def __init__(self, falco_bin, tmp_path):
        self.port, self.web = free_port(), free_port()
        extra = NODRIVER + f"""
k8s_audit:
  enabled: true
  listen_address: 127.0.0.1
  listen_port: {self.port}
webserver:
  enabled: true
  listen_address: 127.0.0.1
  listen_port: {self.web}
outputs_queue:
  stall_timeout: {STALL_MS}
stdout_output:
  enabled: false
"""
        self.err = StderrPipe()
        self.proc = subprocess.Popen(falco_cmd(falco_bin, tmp_path, config_extra=extra),
                                     stdout=subprocess.DEVNULL, stderr=self.err.w)
        os.close(self.err.w)
        wait_for(lambda: self.proc.poll() is not None or "Starting health webserver" in self.err.text(),
                 timeout=30, what="the webserver")
        assert self.proc.poll() is None, self.err.text()

    def health(self):
        status, _, body = http_get(self.web, "/healthz")
        return status, json.loads(body)

    def post_raw(self, body):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/k8s-audit", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=1) as resp:
                return resp.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return None  # no answer: the webhook thread is stuck

    def stop(self):
        self.err.resume()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=30)
        self.err.close()
        return rc


def until_unhealthy(f, provoke, what):
    """Calls provoke() until /healthz answers 503; returns the reason."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status, body = f.health()
        if status == 503:
            assert body["status"] == "error"
            return body["reason"]
        assert status == 200 and body == {"status": "ok"}, (status, body)
        provoke()
        time.sleep(0.05)
    raise AssertionError(f"/healthz never turned 503: {what}")


def test_engine_stall_is_reported_and_clears(falco_bin, tmp_path):
    f = PipedFalco(falco_bin, tmp_path)
    try:
        assert f.health() == (200, {"status": "ok"})
        f.err.pause()
        reason = until_unhealthy(f, lambda: f.proc.send_signal(signal.SIGHUP), "engine thread blocked in a log write")
        assert reason.startswith("the engine loop has not run for "), reason
        assert int(reason.split()[-2]) > STALL_MS
        # the webhook still accepts (its thread is fine) but the engine takes nothing
        assert f.post_raw(b'{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[]}') == 200
        f.err.resume()
        wait_for(lambda: f.health() == (200, {"status": "ok"}), timeout=30, what="healthy again")
        assert "SIGHUP received" in f.err.text()
    finally:
        rc = f.stop()
    assert rc == 0, f.err.text()


def test_webhook_thread_stuck_is_reported_and_clears(falco_bin, tmp_path):
    f = PipedFalco(falco_bin, tmp_path)
    try:
        assert f.health() == (200, {"status": "ok"})
        f.err.pause()
        # each malformed payload makes the webhook thread log a warning; once the pipe is full it blocks there
        bad = b'{"kind":"EventList","items":[' + b'{"kind":"Pod"},' * 50 + b'{"kind":"Pod"}]}'
        posters = []

        def provoke():
            t = threading.Thread(target=f.post_raw, args=(bad,), daemon=True)
            t.start()
            posters.append(t)

        reason = until_unhealthy(f, provoke, "webhook thread blocked in a log write")
        assert reason.startswith("k8s_audit webhook: its thread has been stuck for "), reason
        assert reason.endswith("audit events are not received"), reason
        # the engine keeps ticking: this is not reported as an engine stall
        time.sleep(STALL_MS / 1000 + 1.5)
        status, body = f.health()
        assert status == 503 and body["reason"].startswith("k8s_audit webhook: its thread has been stuck"), body
        f.err.resume()
        for t in posters:
            t.join(timeout=30)
        wait_for(lambda: f.health() == (200, {"status": "ok"}), timeout=30, what="healthy again")
        assert f.post_raw(b'{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[]}') == 200
        assert "k8s_audit webhook: " in f.err.text()
    finally:
        rc = f.stop()
    assert rc == 0, f.err.text()
