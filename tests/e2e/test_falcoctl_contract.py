# SPDX-License-Identifier: Apache-2.0
"""falco's side of the falcoctl contract, with the real binaries on this host:
  - `falco --check-driver` proves the modern eBPF probe loads and attaches (falcoctl's driver/load phase and
    `falcoctl driver load` run it), and fails with the reason and exit 1 when it cannot;
  - sd_notify under a Type=notify unit: READY=1 with a STATUS=, STATUS= updates with counters, WATCHDOG=1 pings
    only when systemd asks for them (WATCHDOG_USEC), STOPPING=1 on shutdown;
  - self-protection: an installing falcoctl (the trusted binary beside falco) and the falco it runs never reach the
    rules, while any other program it executes (its self-test) does, and so does falcoctl's non-installing commands.
"""
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

import falcod
from syscall_support import OUR_RULES, LiveSyscallFalco, bpf_prerequisites


def test_check_driver_is_documented(falco_bin):
    r = subprocess.run([falco_bin, "--help"], stdout=subprocess.PIPE, text=True, check=True)
    assert "--check-driver" in r.stdout


def test_check_driver_loads_and_attaches(falco_bin):
    reason = bpf_prerequisites()
    if reason:
        pytest.skip(reason)
    # no -c and a missing default config: the check must not depend on falco.yaml (falcoctl runs it first)
    r = subprocess.run([falco_bin, "--check-driver", "-c", "/nonexistent/falco.yaml"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "modern_ebpf: the probe loads and attaches on this kernel", r.stdout


def test_check_driver_fails_clearly_without_privileges(falco_bin):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to drop the BPF capabilities")
    r = subprocess.run(["setpriv", "--bounding-set", "-bpf,-perfmon,-sys_admin", "--inh-caps=-all", "--",
                        falco_bin, "--check-driver"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=120)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert r.stdout == ""
    assert "the modern eBPF probe cannot run here: " in r.stderr, r.stderr
    assert "CAP_BPF" in r.stderr, r.stderr


# ---- sd_notify -------------------------------------------------------------------------------------------

class NotifySocket:
    """A NOTIFY_SOCKET like systemd's: collects every datagram with the time it arrived."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.msgs = []
        self.lock = threading.Lock()
        self.done = False
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        while not self.done:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.msgs.append((time.monotonic(), data.decode()))

    def assignments(self, key):
        with self.lock:
            return [(t, line[len(key) + 1:]) for t, m in self.msgs for line in m.split("\n")
                    if line.startswith(key + "=")]

    def close(self):
        self.done = True
        self.t.join(2)
        self.sock.close()


K8S_ONLY = ("--enable-source", "k8s_audit")  # the webhook alone: no eBPF needed


def notify_env(tmp_path, **extra):
    env = dict(os.environ)
    for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
        env.pop(k, None)
    env["NOTIFY_SOCKET"] = str(tmp_path / "notify.sock")
    env.update(extra)
    return env


def test_sd_notify_ready_status_watchdog_stopping(falco_bin, tmp_path):
    ns = NotifySocket(str(tmp_path / "notify.sock"))
    try:
        f = falcod.LiveFalco(falco_bin, tmp_path, *K8S_ONLY, env=notify_env(tmp_path, WATCHDOG_USEC="3000000"))
        falcod.wait_for(lambda: ns.assignments("READY"), what="READY=1")
        t_ready = ns.assignments("READY")[0][0]
        status = ns.assignments("STATUS")
        assert status and status[0][1] == "Processing events (k8s_audit): 2 rules enabled, 0 events, 0 alerts", \
            status
        assert f.post([falcod.audit_event()]) == 200
        # STATUS= is refreshed every 5 s with the counters; pings come every second (half of 3 s is plenty)
        falcod.wait_for(lambda: any(s.endswith("1 events, 1 alerts") for _, s in ns.assignments("STATUS")),
                        timeout=15, what="a STATUS= with the event and alert counted")
        pings = [t for t, v in ns.assignments("WATCHDOG") if v == "1" and t > t_ready]
        assert len(pings) >= 3, pings
        assert max(b - a for a, b in zip([t_ready] + pings, pings)) < 3.0, pings
        assert not ns.assignments("STOPPING")
        assert f.stop() == 0, f.stderr
        falcod.wait_for(lambda: ns.assignments("STOPPING"), what="STOPPING=1")
        assert ns.assignments("STOPPING")[0][1] == "1"
        assert "systemd watchdog: pinging every 1000 ms (timeout 3000 ms)" in f.stderr, f.stderr
    finally:
        ns.close()


def test_sd_notify_no_watchdog_pings_unless_asked(falco_bin, tmp_path):
    ns = NotifySocket(str(tmp_path / "notify.sock"))
    try:
        f = falcod.LiveFalco(falco_bin, tmp_path, *K8S_ONLY, env=notify_env(tmp_path))
        falcod.wait_for(lambda: ns.assignments("READY"), what="READY=1")
        time.sleep(2.5)
        assert f.stop() == 0, f.stderr
        assert ns.assignments("WATCHDOG") == []
        assert "systemd watchdog" not in f.stderr
    finally:
        ns.close()


def test_sd_notify_watchdog_for_another_pid_is_not_ours(falco_bin, tmp_path):
    """WATCHDOG_PID names the process systemd watches (sd_watchdog_enabled): a child must not ping for it."""
    ns = NotifySocket(str(tmp_path / "notify.sock"))
    try:
        f = falcod.LiveFalco(falco_bin, tmp_path, *K8S_ONLY,
                             env=notify_env(tmp_path, WATCHDOG_USEC="3000000", WATCHDOG_PID="1"))
        falcod.wait_for(lambda: ns.assignments("READY"), what="READY=1")
        time.sleep(2.5)
        assert f.stop() == 0, f.stderr
        assert ns.assignments("WATCHDOG") == []
    finally:
        ns.close()


# ---- self-protection ------------------------------------------------------------------------------------

RULE = "Sensitive File Read by Untrusted Program"


def test_installing_falcoctl_is_excluded_but_not_its_selftest(falco_bin, tmp_path):
    """falco beside a 'falcoctl' (a shell here, so that the test controls what it does): while it runs `install`,
    what falcoctl itself does and the falco it runs are not judged; the programs it executes are."""
    reason = bpf_prerequisites()
    if reason:
        pytest.skip(reason)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    falco = str(bindir / "falco")
    shutil.copy(falco_bin, falco)
    shutil.copy("/bin/dash", bindir / "falcoctl")
    # the self-test's dd runs from here too, so that alerts about other processes on a shared host can be told apart
    shutil.copy(shutil.which("dd"), bindir / "dd")
    work = tmp_path / "work"
    work.mkdir()
    # `falcoctl install` makes dash run the script ./install; `falcoctl status` runs ./status
    script = (
        "read x < /etc/shadow\n"  # falcoctl itself opens /etc/shadow: excluded while installing
        f"{falco} -V /etc/shadow >/dev/null 2>&1\n"  # the falco beside it reads it: excluded too
        f"{bindir}/dd if=/etc/shadow of=/dev/null count=0 status=none\n")  # the self-test: must alert
    (work / "install").write_text(script)
    (work / "status").write_text(script)
    def ours(alerts):  # the probe sees the whole host: keep the alerts about this test's programs
        return [a for a in alerts if str(a["output_fields"].get("proc.exepath", "")).startswith(str(bindir) + "/")]

    with LiveSyscallFalco(falco, tmp_path, OUR_RULES) as f:
        subprocess.run([str(bindir / "falcoctl"), "install"], cwd=work, check=True, timeout=60)
        f.wait_alert(RULE, lambda a: a["output_fields"].get("proc.name") == "dd")
        f.settle()
        installing = ours(f.matching(RULE))
        subprocess.run([str(bindir / "falcoctl"), "status"], cwd=work, check=True, timeout=60)
        f.wait_alert(RULE, lambda a: a["output_fields"].get("proc.name") == "falcoctl")
        f.settle()
        everything = ours(f.matching(RULE))
    procs = sorted(a["output_fields"].get("proc.name") for a in installing)
    assert procs == ["dd"], installing
    assert all(a["output_fields"].get("proc.pname") == "falcoctl" for a in installing), installing
    # not installing: falcoctl status is judged like any program, and so is what it runs
    later = sorted(a["output_fields"].get("proc.name") for a in everything[len(installing):])
    assert later == ["dd", "falco", "falcoctl"], everything
