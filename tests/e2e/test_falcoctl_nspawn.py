# SPDX-License-Identifier: Apache-2.0
"""falcoctl under a real systemd (a debootstrap'ed Debian booted with systemd-nspawn).

Two kinds of falco are installed:
  - the stand-in (tests/fixtures/falcoctl/fake_falco.c): READY=1, /healthz, one alert when /etc/shadow is opened.
    It makes falcoctl's own work testable whatever state the daemon is in: units enabled and active, capability
    limits, the journal alert, a re-run being a no-op, --dry-run, an install killed in the middle of a phase
    (at several points) converging, reset removing exactly what install added, a pre-baked --root tree that
    boots, and the supervised fallback on a host without systemd.
  - the real build/bin/falco with the repository's assets: units enabled and active, the eBPF driver with the
    unit's capabilities, STATUS= and the watchdog, the self-test and an action's alert in the journal and no other
    alert (falco and an installing falcoctl never alert on themselves, also during an upgrade), a no-op re-run,
    and reset removing what install added.
"""
import os
import re
import shlex
import shutil
import time

import pytest

import nspawn
from conftest import BUILD, bin_path, run

# The stand-in's alert goes stdout -> journald -> falcoctl's reader. Twice in clean-clone CI runs (about 1 in 350
# verifies when stress-tested here) it did not arrive within verify's default 15 s while the same journal later held
# a burst of the stand-in's lines stamped milliseconds apart, which points at a stall between the stand-in and the
# journal on the shared machine rather than at the reader (which now also re-reads from scratch every second). A
# longer bound keeps falcoctl's own work under test without timing the machine; the timeout's failure path has its
# own test (test_fake_selftest_timeout_shows_falcos_last_lines).
FAKE = ["--from", "/usr/local/bin/fake-falco", "--assets", "/usr/share/falcoctl-test", "--verify-timeout", "60s"]
UNIT = "falco-modern-bpf.service"
# CAP_DAC_READ_SEARCH(2) CAP_SYS_PTRACE(19) CAP_PERFMON(38) CAP_BPF(39): the unit's CapabilityBoundingSet=
UNIT_CAPS = (1 << 2) | (1 << 19) | (1 << 38) | (1 << 39)
SNAP = ("for d in /etc /usr/bin /usr/local/bin /var/lib/falcoctl /var/lib/falco; do "
        "[ -e $d ] && find $d -xdev \\( -type f -o -type l -o -type d \\) -printf '%y %m %p -> %l\\n'; done | sort; "
        "find /etc /usr/bin /var/lib/falcoctl -xdev -type f -exec sha256sum {} + 2>/dev/null | sort -k2")
TIMINGS = os.path.join(BUILD, "e2e-falcoctl-timings.txt")


def snapshot(m, drop_state=False):
    out = m.run(SNAP).stdout
    if drop_state:  # timestamps inside state.json differ between two separate installs
        out = "\n".join(line for line in out.splitlines() if "state.json" not in line)
    return out


def first_alert_seconds(output):
    m = re.search(r"First alert ([0-9.]+) s after this command started", output)
    return float(m.group(1)) if m else None


def record_timing(what, seconds):
    with open(TIMINGS, "a") as f:
        f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {what}: first alert {seconds:.1f} s after "
                f"`falcoctl install falco` started\n")


@pytest.fixture(scope="module")
def base():
    reason = nspawn.missing_prerequisites()
    if reason:
        pytest.skip(reason)
    bins = [bin_path("falco"), bin_path("falcoctl")]
    for b in bins:
        if not os.access(b, os.X_OK):
            pytest.fail(f"{b} is missing: run make first")
    return nspawn.base_rootfs(bins)


@pytest.fixture(scope="module")
def machine(base, tmp_path_factory):
    ov = nspawn.Overlay(base, "sys")
    nspawn.prepare_tree(ov.merged, BUILD)
    m = nspawn.Machine(ov.merged, str(tmp_path_factory.mktemp("nspawn") / "boot.log"))
    m.env = nspawn.asan_env(bin_path("falcoctl"))
    yield m
    m.stop()
    ov.close()


def fc(m, args, **kw):
    env = dict(m.env)
    env.update(kw.pop("env", {}))
    return m.run(["falcoctl"] + args, env=env, **kw)


# ---- the units and the real daemon -----------------------------------------------------------------------

def test_units_pass_systemd_analyze_verify(machine):
    units = " ".join(f"/usr/share/falcoctl/systemd/{u}" for u in
                     ("falco-modern-bpf.service", "falco-kmod.service", "falco-kmod-inject.service"))
    # --man=no: a minimal system has no man(1) to look the page up with; it is installed, though
    r = machine.run(f"cd /usr/share/falcoctl/systemd && systemd-analyze verify --man=no {units}")
    assert r.returncode == 0, r.stdout
    assert "falco" not in r.stdout, r.stdout  # no warning about our units either
    assert machine.run(["test", "-f", "/usr/share/man/man8/falcoctl.8"]).returncode == 0


ALERT_LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{9}: (Emergency|Alert|Critical|Error|Warning|Notice|Informational|Debug) ")
SELFTEST_ALERT = "Sensitive file opened for reading by an untrusted program (file=/etc/shadow process=dd "


def journal_alerts(m, after_cursor=None):
    """falco's alert lines in the journal (stdout and syslog copies folded), minus the test harness's own
    nsenter into the machine (a namespace change the rules rightly report) and falco's internal notices."""
    args = ["journalctl", "-u", UNIT, "--no-pager", "-o", "cat"]
    if after_cursor:
        args += ["--after-cursor", after_cursor]
    harness = f"cmdline=nsenter -t {m.pid} -a env -i "
    lines = [ln for ln in m.run(args).stdout.splitlines() if ALERT_LINE.match(ln)]
    return sorted({ln for ln in lines if harness not in ln and "Falco internal:" not in ln})


# What falco, falcoctl and an install touch. The probe sees the whole host (every nspawn machine and whatever else
# runs there), so other processes' alerts may show up in this machine's journal; none may be about these.
OURS = re.compile(r"(process|parent|gparent)=(falco|falcoctl) |(file|fd_file)=(/etc/falco|/etc/falcoctl|"
                  r"/etc/systemd/system/falco|/usr/bin/falco|/var/lib/falco|/run/falco)")


def assert_only_selftest_is_ours(alerts):
    assert any(SELFTEST_ALERT in a for a in alerts), "no self-test alert:\n" + "\n".join(alerts)
    ours = [a for a in alerts if OURS.search(a) and SELFTEST_ALERT not in a]
    assert not ours, "falco alerted on itself or on falcoctl's install actions:\n" + "\n".join(ours)


def journal_cursor(m):
    out = m.run(["journalctl", "-u", UNIT, "-n", "0", "--show-cursor", "--no-pager"]).stdout
    return re.search(r"-- cursor: (\S+)", out).group(1)


def test_real_falco_install(machine):
    """The repository's falco, rules and units, end to end under systemd: what issue 4 asks of an install."""
    pristine = snapshot(machine)
    r = fc(machine, ["install", "falco", "--dry-run"], timeout=300)
    assert r.returncode == 0, r.stdout
    assert re.search(r"\[dry-run\] \d+ changes would be made; nothing was touched", r.stdout), r.stdout
    assert "Would run falco --check-driver" in r.stdout, r.stdout
    assert snapshot(machine) == pristine
    r = fc(machine, ["install", "falco"], timeout=300)
    try:
        assert r.returncode == 0, r.stdout
        for line in ("[userspace] Using the installed falco /usr/bin/falco",
                     "[driver] Using the modern_ebpf driver",
                     "[driver] falco --check-driver: the modern_ebpf probe loads and attaches on this kernel",
                     "[rules] Writing /etc/falco/falco_rules.yaml",
                     "[rules] falco --dry-run accepted /etc/falco/falco.yaml and its rules",
                     "[units] Enabled " + UNIT, "[start] " + UNIT + " is active",
                     "[verify] Self-test passed: 'Sensitive File Read by Untrusted Program' fired",
                     "[install] Done"):
            assert line in r.stdout, r.stdout
        t = first_alert_seconds(r.stdout)
        assert t is not None, r.stdout
        record_timing("real falco, modern_ebpf, nspawn", t)

        # units enabled and active, with what falco told systemd
        assert machine.run(["systemctl", "is-enabled", UNIT]).stdout.strip() == "enabled"
        assert machine.run(["systemctl", "is-enabled", "falco.service"]).stdout.strip() == "alias"
        assert machine.run(["systemctl", "is-active", UNIT]).stdout.strip() == "active"
        show = machine.run(["systemctl", "show", "-p", "MainPID,StatusText,WatchdogUSec,NRestarts", UNIT]).stdout
        props = dict(line.split("=", 1) for line in show.splitlines() if "=" in line)
        assert props["StatusText"].startswith("Processing events (syscall): "), show
        assert re.search(r": \d+ rules enabled, \d+ events, \d+ alerts$", props["StatusText"]), show
        assert props["WatchdogUSec"] == "30s" and props["NRestarts"] == "0", show

        # falco on the eBPF driver with the unit's limited capabilities, not full root
        pid = props["MainPID"]
        status = machine.run(["cat", f"/proc/{pid}/status"]).stdout
        assert int(re.search(r"CapEff:\s+([0-9a-f]+)", status).group(1), 16) == UNIT_CAPS, status
        assert int(re.search(r"CapBnd:\s+([0-9a-f]+)", status).group(1), 16) == UNIT_CAPS, status
        assert re.search(r"NoNewPrivs:\s+1", status), status
        ds = fc(machine, ["driver", "status"]).stdout
        m = re.search(r"holds (\d+) BPF programs and (\d+) attached links", ds)
        assert m and int(m.group(1)) > 0 and int(m.group(2)) > 0, ds
        # the drop counters, from falco's /metrics (enabled by falcoctl's /etc/falco/config.d/falcoctl.yaml)
        assert re.search(r"metric falcosecurity_scap_n_drops_total \d+", ds), ds
        journal = machine.run(["journalctl", "-u", UNIT, "--no-pager", "-o", "cat"]).stdout
        assert "modern eBPF probe attached" in journal, journal
        # each log line and alert once: no second copy through syslog (falcoctl's config.d drop-in)
        lines = journal.splitlines()
        assert sum("Falco version: " in ln for ln in lines) == 1, journal
        assert sum(SELFTEST_ALERT in ln for ln in lines) == 1, journal

        # self-protection: the whole install produced no alert but the self-test's
        assert_only_selftest_is_ours(journal_alerts(machine))

        # an action inside the container produces the expected alert in the journal
        cursor = journal_cursor(machine)
        machine.run(["sh", "-c", "cat /etc/shadow > /dev/null"], check=True)
        deadline = time.monotonic() + 10
        while not any("file=/etc/shadow process=cat " in a for a in journal_alerts(machine, cursor)):
            assert time.monotonic() < deadline, "no alert for cat /etc/shadow in the journal within 10 s"
            time.sleep(0.2)

        # a re-run is a no-op: nothing written, falco not restarted
        before = snapshot(machine)
        r2 = fc(machine, ["install", "falco"], timeout=300)
        assert r2.returncode == 0, r2.stdout
        assert "[install] Nothing to do: everything is already in place (nothing changed)" in r2.stdout, r2.stdout
        assert "Writing" not in r2.stdout and "Restarting" not in r2.stdout, r2.stdout
        assert snapshot(machine) == before
        assert machine.run(["systemctl", "show", "-P", "MainPID", UNIT]).stdout.strip() == pid

        # an upgrade while falco watches: new default rules and unit files are written, systemd reloaded and
        # falco restarted by falcoctl, and the only alert is again the self-test's
        machine.run("cp -r /usr/share/falcoctl /tmp/assets && echo '# upgraded' >> /tmp/assets/rules/falco_rules.yaml"
                    " && echo '# upgraded' >> /tmp/assets/systemd/falco-kmod.service", check=True)
        time.sleep(1.5)  # the harness's own commands are judged before the cursor
        cursor = journal_cursor(machine)
        r3 = fc(machine, ["install", "falco", "--assets", "/tmp/assets"], timeout=300)
        assert r3.returncode == 0, r3.stdout
        for line in ("[rules] Updating /etc/falco/falco_rules.yaml",
                     "[units] Updating /etc/systemd/system/falco-kmod.service", "[units] Reloaded systemd",
                     "[start] Restarting " + UNIT, "[verify] Self-test passed"):
            assert line in r3.stdout, r3.stdout
        time.sleep(1.5)
        assert_only_selftest_is_ours(journal_alerts(machine, cursor))
        assert machine.run(["systemctl", "show", "-P", "MainPID", UNIT]).stdout.strip() != pid
    finally:
        rr = fc(machine, ["reset"])
    # reset removes what install added (and keeps the packaged falco, which install did not write)
    assert rr.returncode == 0, rr.stdout
    assert "[start] Stopped " + UNIT in rr.stdout, rr.stdout
    assert machine.run(["systemctl", "is-enabled", UNIT]).returncode != 0
    assert machine.run(["systemctl", "is-active", UNIT]).stdout.strip() in ("inactive", "unknown")
    machine.run("rm -rf /tmp/assets")
    assert snapshot(machine) == pristine
    assert machine.run(["test", "-x", "/usr/bin/falco"]).returncode == 0, "reset removed the packaged falco"


def host_pid_of(m, ns_pid):
    """The host pid of the machine's process ns_pid (what the probe's event headers carry)."""
    ns = os.readlink(f"/proc/{m.pid}/ns/pid")
    for d in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{d}/ns/pid") != ns:
                continue
            with open(f"/proc/{d}/status") as f:
                ids = next((ln.split()[1:] for ln in f if ln.startswith("NSpid:")), [])
        except OSError:
            continue
        if ids and ids[-1] == str(ns_pid):
            return int(ids[0])
    return None


SELF_RULE = """- rule: Falco Own Event
  desc: an event of the falco daemon itself, which the probe must drop (test_real_falco_never_sees_itself)
  condition: evt.type in (open, openat, openat2, close) and (proc.pid = {pid} or proc.name = falco)
  output: "falco own event (pid=%proc.pid name=%proc.name evt=%evt.type file=%fd.name)"
  priority: WARNING
"""


def test_real_falco_never_sees_itself(machine):
    """falco runs in the machine's pid namespace, where getpid() is not the host tgid the probe sees: the probe
    learns that tgid and drops the daemon's events. A rule matching the daemon by host pid or by name stays silent
    while falco reloads (it opens its config and rules), and fires for another process named falco."""
    r = fc(machine, ["install", "falco"], timeout=300)
    try:
        assert r.returncode == 0, r.stdout
        ns_pid = int(machine.run(["systemctl", "show", "-P", "MainPID", UNIT]).stdout.strip())
        host_pid = host_pid_of(machine, ns_pid)
        assert host_pid and host_pid != ns_pid, (host_pid, ns_pid)
        machine.run(f"printf %s {shlex.quote(SELF_RULE.format(pid=host_pid))} > /etc/falco/rules.d/zz-self.yaml",
                    check=True)
        machine.run(["systemctl", "reload", UNIT], check=True)
        time.sleep(3)
        # the rule is live: another process named falco fires it
        cursor = journal_cursor(machine)
        machine.run("cp /bin/cat /tmp/falco && /tmp/falco /etc/hostname > /dev/null", check=True)
        deadline = time.monotonic() + 10
        while not any("falco own event" in a for a in journal_alerts(machine, cursor)):
            assert time.monotonic() < deadline, "the test rule did not fire for /tmp/falco within 10 s"
            time.sleep(0.2)
        # the daemon's own opens (a reload reads falco.yaml and every rules file) never reach it
        cursor = journal_cursor(machine)
        machine.run(["systemctl", "reload", UNIT], check=True)
        time.sleep(3)
        assert int(machine.run(["systemctl", "show", "-P", "MainPID", UNIT]).stdout.strip()) == ns_pid
        journal = machine.run(["journalctl", "-u", UNIT, "--no-pager", "-o", "cat"]).stdout
        assert "reloading configuration and rules" in journal, journal
        own = [a for a in journal_alerts(machine, cursor) if "falco own event" in a or f"pid={host_pid} " in a]
        assert not own, "falco saw its own events:\n" + "\n".join(own)
    finally:
        machine.run("rm -f /etc/falco/rules.d/zz-self.yaml /tmp/falco")
        rr = fc(machine, ["reset"])
    assert rr.returncode == 0, rr.stdout


# ---- falcoctl's own work, with the stand-in falco ----------------------------------------------------------

STATE = {}


def test_fake_fresh_install(machine):
    # the stand-in replaces the packaged binary (falcoctl never overwrites a falco it did not install)
    machine.run("mv /usr/bin/falco /usr/local/lib/falco.packaged", check=True)
    r = fc(machine, ["install", "falco", "--dry-run"] + FAKE)
    assert r.returncode == 0, r.stdout
    assert re.search(r"\[dry-run\] \d+ changes would be made; nothing was touched", r.stdout), r.stdout
    STATE["pristine"] = snapshot(machine)

    r = fc(machine, ["install", "falco"] + FAKE)
    # a self-test timeout here was seen once in a clean-clone run and never reproduced: keep what explains it
    assert r.returncode == 0, r.stdout + "\n--- journal of the unit and of the machine:\n" + machine.run(
        f"journalctl -u {UNIT} -n 20 --no-pager -o short-precise; journalctl -n 40 --no-pager -o short-precise; "
        "ls -li /etc/shadow").stdout
    for line in ("[preflight] Running pre-flight checks", "[userspace] Writing /usr/bin/falco",
                 "[driver] Using the modern_ebpf driver", "[units] Enabled " + UNIT, "[units] Reloaded systemd",
                 "[start] " + UNIT + " is active", "[verify] Self-test passed", "[install] Done"):
        assert line in r.stdout, r.stdout
    t = first_alert_seconds(r.stdout)
    assert t is not None, r.stdout
    record_timing("stand-in falco (falcoctl's own overhead), nspawn", t)

    assert machine.run(["systemctl", "is-enabled", UNIT]).stdout.strip() == "enabled"
    assert machine.run(["systemctl", "is-enabled", "falco.service"]).stdout.strip() == "alias"
    assert machine.run(["systemctl", "is-active", UNIT]).stdout.strip() == "active"
    pid = machine.run(["systemctl", "show", "-P", "MainPID", UNIT]).stdout.strip()
    status = machine.run(["cat", f"/proc/{pid}/status"]).stdout
    assert int(re.search(r"CapEff:\s+([0-9a-f]+)", status).group(1), 16) == UNIT_CAPS, status
    assert int(re.search(r"CapBnd:\s+([0-9a-f]+)", status).group(1), 16) == UNIT_CAPS, status
    assert re.search(r"NoNewPrivs:\s+1", status), status
    journal = machine.run(["journalctl", "-u", UNIT, "--no-pager", "-o", "cat"]).stdout
    assert '"rule":"Sensitive File Read by Untrusted Program"' in journal, journal
    assert fc(machine, ["status"]).returncode == 0
    STATE["installed"] = snapshot(machine)
    STATE["pid"] = pid


def test_fake_rerun_is_a_noop(machine):
    before = snapshot(machine)
    r = fc(machine, ["install", "falco"] + FAKE)
    assert r.returncode == 0, r.stdout + "\n--- journal of the machine:\n" + machine.run(
        "journalctl -n 40 --no-pager -o short-precise").stdout
    assert "[install] Nothing to do: everything is already in place (nothing changed)" in r.stdout, r.stdout
    assert "Writing" not in r.stdout and "Reloaded" not in r.stdout and "Restarting" not in r.stdout
    assert snapshot(machine) == before  # state.json included: not even rewritten
    assert machine.run(["systemctl", "show", "-P", "MainPID", UNIT]).stdout.strip() == STATE["pid"]


def test_fake_dry_run_changes_nothing(machine):
    machine.run("cp /etc/falco/falco.yaml /tmp/orig && echo '# edited by the admin' >> /etc/falco/falco.yaml",
                check=True)
    before = snapshot(machine)
    r = fc(machine, ["install", "falco", "--dry-run"] + FAKE)
    assert r.returncode == 0, r.stdout
    assert "[WARNING LocalChanges]: /etc/falco/falco.yaml was changed since falcoctl wrote it" in r.stdout
    assert "\t-# edited by the admin" in r.stdout, r.stdout  # the diff against the new default
    assert "nothing was touched" in r.stdout
    assert snapshot(machine) == before
    r = fc(machine, ["reset", "--dry-run"])
    assert r.returncode == 0 and "Would stop " + UNIT in r.stdout, r.stdout
    assert snapshot(machine) == before
    assert machine.run(["systemctl", "is-active", UNIT]).stdout.strip() == "active"
    machine.run("cp /tmp/orig /etc/falco/falco.yaml", check=True)


def test_fake_action_raises_alert(machine):
    since = machine.run(["date", "+%Y-%m-%d %H:%M:%S"]).stdout.strip()
    machine.run(["dd", "if=/etc/shadow", "of=/dev/null", "count=0", "status=none"], check=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        j = machine.run(["journalctl", "-u", UNIT, "--since", since, "--no-pager", "-o", "cat"]).stdout
        if "Sensitive File Read by Untrusted Program" in j:
            return
        time.sleep(0.2)
    pytest.fail("no alert in the journal within 10 s")


def test_fake_selftest_timeout_shows_falcos_last_lines(machine):
    # an action that cannot raise the alert: verify fails, names the rule, and shows what falco said last
    r = fc(machine, ["install", "phase", "verify", "--verify-timeout", "2s"],
           env={"FALCOCTL_VERIFY_COMMAND": "true"})
    assert r.returncode != 0, r.stdout
    assert "self-test: running 'true' did not produce the 'Sensitive File Read by Untrusted Program' alert" \
        in r.stdout, r.stdout
    assert "falco's last log lines (journalctl -u falco):" in r.stdout, r.stdout
    # the stand-in's earlier alerts (the snapshots above hash /etc/shadow) are its last lines
    tail = r.stdout.split("falco's last log lines")[1]
    assert "Sensitive file opened for reading by non-trusted program" in tail, r.stdout


def test_fake_reset_removes_what_install_added(machine):
    r = fc(machine, ["reset"])
    assert r.returncode == 0, r.stdout
    assert "[start] Stopped " + UNIT in r.stdout, r.stdout
    assert machine.run(["systemctl", "is-enabled", UNIT]).returncode != 0
    assert snapshot(machine) == STATE["pristine"]
    assert fc(machine, ["status"]).returncode == 3
    r = fc(machine, ["reset"])
    assert r.returncode == 0 and "Nothing to reset" in r.stdout, r.stdout


@pytest.mark.parametrize("kill_after", [3, 8, 13, 19, 25])
def test_fake_install_killed_mid_phase_converges(machine, kill_after):
    """SIGKILL right after the Nth rename (every atomic write and symlink ends in one), then re-run."""
    if not machine.run(["test", "-e", "/usr/local/lib/fc_shim.so"]).returncode == 0:
        pytest.fail("build/tests/preload/fc_shim.so is missing (make test-run builds it)")
    r = fc(machine, ["install", "falco"] + FAKE,
           env={"LD_PRELOAD": "/usr/local/lib/fc_shim.so", "FC_SHIM_KILL_AFTER_RENAMES": str(kill_after),
                "FC_SHIM_LOG": "/tmp/shim.log"})
    log = machine.run(["cat", "/tmp/shim.log"]).stdout
    assert f"killed after rename {kill_after}" in log, r.stdout + log
    assert r.returncode != 0
    r = fc(machine, ["install", "falco"] + FAKE)
    assert r.returncode == 0, r.stdout
    assert "[verify] Self-test passed" in r.stdout, r.stdout
    assert snapshot(machine, drop_state=True) == "\n".join(
        line for line in STATE["installed"].splitlines() if "state.json" not in line)
    assert fc(machine, ["reset"]).returncode == 0
    machine.run(["rm", "-f", "/tmp/shim.log"])
    assert snapshot(machine) == STATE["pristine"]


def test_fake_killed_before_restart_still_restarts(machine):
    """A rules change written by a run killed before its start phase: the re-run restarts falco anyway."""
    assert fc(machine, ["install", "falco"] + FAKE).returncode == 0
    pid = machine.run(["systemctl", "show", "-P", "MainPID", UNIT]).stdout.strip()
    rules = "/usr/share/falcoctl-test/rules/selftest_rules.yaml"
    machine.run(f"cp {rules} /tmp/rules.orig && echo '# new default' >> {rules}", check=True)
    try:
        r = fc(machine, ["install", "falco"] + FAKE,
               env={"LD_PRELOAD": "/usr/local/lib/fc_shim.so", "FC_SHIM_KILL_AFTER_RENAMES": "2",
                    "FC_SHIM_LOG": "/tmp/shim.log"})
        log = machine.run(["cat", "/tmp/shim.log"]).stdout
        assert "killed after rename 2: /etc/falco/selftest_rules.yaml" in log, r.stdout + log
        assert machine.run(["systemctl", "show", "-P", "MainPID", UNIT]).stdout.strip() == pid
        r = fc(machine, ["install", "falco"] + FAKE)
        assert r.returncode == 0, r.stdout
        assert "An earlier run changed what falco reads and did not get to restart it" in r.stdout, r.stdout
        assert "[start] Restarting " + UNIT in r.stdout, r.stdout
        assert machine.run(["systemctl", "show", "-P", "MainPID", UNIT]).stdout.strip() != pid
        r = fc(machine, ["install", "falco"] + FAKE)
        assert "Nothing to do" in r.stdout, r.stdout
    finally:
        machine.run(f"cp /tmp/rules.orig {rules}; rm -f /tmp/shim.log")
        assert fc(machine, ["reset"]).returncode == 0
    assert snapshot(machine) == STATE["pristine"]


# ---- a pre-baked tree, booted ------------------------------------------------------------------------------

def test_prebaked_root_boots_with_falco_enabled(base, tmp_path_factory):
    ov = nspawn.Overlay(base, "baked")
    try:
        nspawn.prepare_tree(ov.merged, BUILD)
        os.rename(ov.path("/usr/bin/falco"), ov.path("/usr/local/lib/falco.packaged"))
        args = [bin_path("falcoctl"), "install", "falco", "--root", ov.merged, "--from",
                ov.path("/usr/local/bin/fake-falco"), "--assets", ov.path("/usr/share/falcoctl-test")]
        r = run(args)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "is a complete pre-baked tree" in r.stdout
        for skipped in ("driver/load", "start", "verify"):
            assert f"Skipping phase {skipped}: --root {ov.merged} is not the running host" in r.stdout
        link = os.readlink(ov.path("/etc/systemd/system/multi-user.target.wants/" + UNIT))
        assert link == "/etc/systemd/system/" + UNIT
        assert os.readlink(ov.path("/etc/systemd/system/falco.service")) == "/etc/systemd/system/" + UNIT
        r2 = run(args)
        assert r2.returncode == 0 and "Nothing to do" in r2.stdout, r2.stdout

        m = nspawn.Machine(ov.merged, str(tmp_path_factory.mktemp("baked") / "boot.log"))
        try:
            state = m.run(["systemctl", "is-active", UNIT]).stdout.strip()
            assert state == "active", m.run(["journalctl", "-u", UNIT, "--no-pager"]).stdout
            r3 = fc_env(m, ["install", "falco"] + FAKE)
            assert r3.returncode == 0, r3.stdout
            assert "Nothing to do" in r3.stdout and "[verify] Self-test passed" in r3.stdout, r3.stdout
        finally:
            m.stop()
    finally:
        ov.close()


def fc_env(m, args):
    return m.run(["falcoctl"] + args, env=nspawn.asan_env(bin_path("falcoctl")))


# ---- no systemd as PID 1: the supervised fallback ---------------------------------------------------------

def test_supervised_daemon_without_systemd(base):
    if run(["sh", "-c", "ss -ltn 2>/dev/null | grep -q ':8765 '"]).returncode == 0:
        pytest.skip("port 8765 is in use on this host (the chroot shares the host network)")
    ov = nspawn.Overlay(base, "chroot")
    try:
        nspawn.prepare_tree(ov.merged, BUILD)
        os.rename(ov.path("/usr/bin/falco"), ov.path("/usr/local/lib/falco.packaged"))
        fake = " ".join(FAKE)
        script = f"""
falcoctl install falco {fake}; echo "rc_install=$?"
pid=$(cat /run/falco/falco.pid); echo "falco_pid=$pid"
grep -E 'CapEff|NoNewPrivs' /proc/$pid/status
falcoctl install falco {fake} | tail -1; echo "rc_rerun=$?"
FALCOCTL_VERIFY_COMMAND=true falcoctl install phase verify --verify-timeout 2s; echo "rc_verify_true=$?"
kill -9 $pid; sleep 3.5; pid2=$(cat /run/falco/falco.pid 2>/dev/null); echo "restarted_pid=$pid2"
dd if=/etc/shadow of=/dev/null count=0 status=none; sleep 1
echo "alerts=$(grep -c 'Sensitive File Read by Untrusted Program' /var/log/falco/falco.log)"
falcoctl status >/dev/null; echo "rc_status=$?"
falcoctl reset; echo "rc_reset=$?"
test -e /run/falco/falco.pid && echo pidfile_left
kill -0 $pid2 2>/dev/null && echo falco_left
test -d /run/falco && echo rundir_left
echo end
"""
        r = nspawn.chroot_script(ov.merged, script, env=nspawn.asan_env(bin_path("falcoctl")))
        out = r.stdout
        assert "rc_install=0" in out, out
        assert "systemd is not PID 1 here: starting falco as a daemon supervised by falcoctl" in out, out
        assert "[verify] Self-test passed" in out, out
        caps = int(re.search(r"CapEff:\s+([0-9a-f]+)", out).group(1), 16)
        assert caps == UNIT_CAPS, out  # the unit's CapabilityBoundingSet=, applied by the supervisor
        assert re.search(r"NoNewPrivs:\s+1", out), out
        assert "Nothing to do" in out and "rc_rerun=0" in out, out
        # a self-test that cannot fire fails and shows the end of falco's log (the stand-in's alerts above)
        assert "rc_verify_true=1" in out, out
        tail = out.split("falco's last log lines (/var/log/falco/falco.log):")[1]
        assert "Sensitive file opened for reading by non-trusted program" in tail.split("rc_verify_true")[0], out
        m1, m2 = re.search(r"falco_pid=(\d+)", out), re.search(r"restarted_pid=(\d+)", out)
        assert m1 and m2 and m1.group(1) != m2.group(1), out  # Restart=on-failure
        assert int(re.search(r"alerts=(\d+)", out).group(1)) >= 2, out
        assert "rc_status=0" in out and "rc_reset=0" in out, out
        assert "Stopped the supervised falco" in out, out
        assert "pidfile_left" not in out and "falco_left" not in out and "rundir_left" not in out, out
    finally:
        ov.close()


def test_readme_quickstart_real_falco_supervised(base):
    """The README's command, `build/bin/falcoctl install falco` from a checkout, with the real falco on a Linux
    whose PID 1 is not systemd (like this CI machine): falco is installed from the build tree and runs as a
    supervised daemon on the eBPF driver with the unit's capabilities; re-run and reset as on a systemd host."""
    if run(["sh", "-c", "ss -ltn 2>/dev/null | grep -q ':8765 '"]).returncode == 0:
        pytest.skip("port 8765 is in use on this host (the chroot shares the host network)")
    ov = nspawn.Overlay(base, "quickstart")
    try:
        nspawn.prepare_tree(ov.merged, BUILD)
        os.unlink(ov.path("/usr/bin/falco"))  # a checkout, not a package: falcoctl installs the build's falco
        co = ov.path("/opt/falco-c")
        os.makedirs(os.path.join(co, "build/bin"))
        for b in ("falco", "falcoctl"):
            shutil.copy2(bin_path(b), os.path.join(co, "build/bin", b))
        for d in ("falco", "rules", "systemd"):
            os.makedirs(os.path.join(co, d))
        shutil.copy2(os.path.join(nspawn.REPO, "falco/falco.yaml"), os.path.join(co, "falco/falco.yaml"))
        for d, ext in (("rules", ".yaml"), ("systemd", ".service")):
            for f in os.listdir(os.path.join(nspawn.REPO, d)):
                if f.endswith(ext):
                    shutil.copy2(os.path.join(nspawn.REPO, d, f), os.path.join(co, d, f))
        script = f"""
cd /opt/falco-c
{SNAP} > /tmp/pristine
build/bin/falcoctl install falco; echo "rc_install=$?"
pid=$(cat /run/falco/falco.pid); echo "falco_pid=$pid"
grep -E 'CapEff|NoNewPrivs' /proc/$pid/status
build/bin/falcoctl driver status
build/bin/falcoctl install falco | tail -1; echo "rc_rerun=$?"
build/bin/falcoctl reset; echo "rc_reset=$?"
{SNAP} > /tmp/after
cmp -s /tmp/pristine /tmp/after && echo pristine_restored
diff /tmp/pristine /tmp/after | head -20
kill -0 $pid 2>/dev/null && echo falco_left
echo end
"""
        r = nspawn.chroot_script(ov.merged, script, env=nspawn.asan_env(bin_path("falcoctl")))
        out = r.stdout
        assert "rc_install=0" in out, out
        for line in ("systemd is not PID 1 here: starting falco as a daemon supervised by falcoctl",
                     "[userspace] Writing /usr/bin/falco",
                     "[driver] falco --check-driver: the modern_ebpf probe loads and attaches on this kernel",
                     "[rules] falco --dry-run accepted /etc/falco/falco.yaml and its rules",
                     "[verify] Self-test passed: 'Sensitive File Read by Untrusted Program' fired"):
            assert line in out, out
        t = first_alert_seconds(out)
        assert t is not None, out
        record_timing("real falco, modern_ebpf, supervised (no systemd), checkout", t)
        assert int(re.search(r"CapEff:\s+([0-9a-f]+)", out).group(1), 16) == UNIT_CAPS, out
        assert re.search(r"NoNewPrivs:\s+1", out), out
        m = re.search(r"holds (\d+) BPF programs and (\d+) attached links", out)
        assert m and int(m.group(2)) > 0, out
        assert "Nothing to do" in out and "rc_rerun=0" in out, out
        assert "rc_reset=0" in out and "[userspace] Removed /usr/bin/falco" in out, out
        assert "pristine_restored" in out and "falco_left" not in out, out
    finally:
        ov.close()


def test_supervised_watchdog(base):
    """Without systemd, falcoctl's supervisor enforces the unit's WatchdogSec= too: falco gets WATCHDOG_USEC, a
    pinging falco is left alone, a falco that stops pinging (SIGSTOP) is aborted and restarted."""
    if run(["sh", "-c", "ss -ltn 2>/dev/null | grep -q ':8765 '"]).returncode == 0:
        pytest.skip("port 8765 is in use on this host (the chroot shares the host network)")
    ov = nspawn.Overlay(base, "watchdog")
    try:
        nspawn.prepare_tree(ov.merged, BUILD)
        os.rename(ov.path("/usr/bin/falco"), ov.path("/usr/local/lib/falco.packaged"))
        unit = ov.path("/usr/share/falcoctl-test/systemd/" + UNIT)
        text = open(unit).read()
        assert "\nWatchdogSec=30s\n" in text
        open(unit, "w").write(text.replace("\nWatchdogSec=30s\n", "\nWatchdogSec=2s\n"))
        fake = " ".join(FAKE)
        script = f"""
falcoctl install falco {fake} >/tmp/install.out; echo "rc_install=$?"
pid=$(cat /run/falco/falco.pid); echo "falco_pid=$pid"
tr '\\0' '\\n' < /proc/$pid/environ | grep -E '^WATCHDOG_(USEC|PID)='
sleep 5; echo "after_5s_pid=$(cat /run/falco/falco.pid)"
kill -STOP $pid
for i in $(seq 1 100); do
    new=$(cat /run/falco/falco.pid 2>/dev/null)
    [ -n "$new" ] && [ "$new" != "$pid" ] && break
    sleep 0.2
done
echo "restarted_pid=$new"
echo "notes=$(grep -c 'watchdog timeout (no WATCHDOG=1 for 2000 ms' /var/log/falco/falco.log)"
falcoctl reset >/dev/null; echo "rc_reset=$?"
kill -0 $pid 2>/dev/null && echo stopped_falco_left
echo end
"""
        r = nspawn.chroot_script(ov.merged, script, env=nspawn.asan_env(bin_path("falcoctl")))
        out = r.stdout
        assert "rc_install=0" in out, out
        pid = re.search(r"falco_pid=(\d+)", out).group(1)
        assert "WATCHDOG_USEC=2000000" in out and f"WATCHDOG_PID={pid}" in out, out
        assert f"after_5s_pid={pid}" in out, out  # pings every second: not aborted
        m = re.search(r"restarted_pid=(\d+)", out)
        assert m and m.group(1) != pid, out  # stopped pinging: aborted, restarted
        assert "notes=1" in out, out
        assert "rc_reset=0" in out and "stopped_falco_left" not in out, out
    finally:
        ov.close()
