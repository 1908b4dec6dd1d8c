# SPDX-License-Identifier: Apache-2.0
"""program_output end to end: alerts on a program's stdin, the program run without a shell unless its command
line needs one, alert text never interpreted by a shell, a keep_alive program that exits being restarted, and
upstream's one-process-per-alert mode."""
import json
import os
import signal
import stat
import time

from conftest import run
from falcod import LiveFalco, audit_event, falco_cmd, read_or_empty, wait_for, write_events
from outputs_support import NODRIVER

UTC = dict(os.environ, TZ="UTC", FALCO_HOSTNAME="test-host")


def script(tmp_path, name, body):
    p = tmp_path / name
    p.write_text("#!/bin/sh\n" + body)
    p.chmod(p.stat().st_mode | stat.S_IXUSR)
    return str(p)


def wait_exited(pid):
    """Until the process is gone or a zombie: a line written to a program that read its one line but has not
    exited yet would be lost with its pipe (see out_program.c)."""
    def gone():
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except FileNotFoundError:
            return True
    wait_for(gone, what=f"process {pid} to exit")


def program_cfg(program, keep_alive):
    return (f"program_output:\n  enabled: true\n  keep_alive: {str(keep_alive).lower()}\n"
            f"  program: {json.dumps(program)}\n")


def test_no_shell_for_a_plain_command_and_alert_text_is_inert(falco_bin, tmp_path):
    out = tmp_path / "got.txt"
    marker = tmp_path / "pwned"
    # an argument with a space and a quote, passed as one word without a shell
    rec = script(tmp_path, "rec.sh", 'printf "%s|" "$@" > "$OUT.args"; echo "$$" >> "$OUT.pids"; cat >> "$OUT"\n')
    env = dict(UTC, OUT=str(out))
    evil = f"$(touch {marker})`touch {marker}`;touch {marker}"
    cmd = falco_cmd(falco_bin, tmp_path, "-e", write_events(tmp_path, [audit_event(user=evil)]),
                    config_extra=program_cfg(f'{rec} "one arg" two\\\'s', True))
    r = run(cmd, env=env)
    assert r.returncode == 0, r.stderr
    assert "runs directly (no shell)" in r.stderr
    assert read_or_empty(str(out) + ".args") == "one arg|two's|"
    assert evil in read_or_empty(out)
    assert not marker.exists()


def test_shell_syntax_runs_through_sh(falco_bin, tmp_path):
    out = tmp_path / "got.txt"
    cmd = falco_cmd(falco_bin, tmp_path, "-e", write_events(tmp_path, [audit_event(), audit_event(name="b")]),
                    config_extra=program_cfg(f"tr a-z A-Z | cat > {out}", True))
    r = run(cmd, env=UTC)
    assert r.returncode == 0, r.stderr
    assert "with /bin/sh -c" in r.stderr
    lines = out.read_text().splitlines()
    assert len(lines) == 2 and "WARNING POD CREATED" in lines[0]


def test_keep_alive_program_that_exits_is_restarted(falco_bin, tmp_path):
    out = tmp_path / "got.txt"
    # reads one line, records it with its pid, exits: each alert needs a fresh process
    once = script(tmp_path, "once.sh", 'read -r line; echo "$$ $line" >> "$OUT"; exit 3\n')
    f = LiveFalco(falco_bin, tmp_path, config_extra=NODRIVER + program_cfg(once, True),
                  env=dict(UTC, OUT=str(out)))
    for i in range(4):
        assert f.post([audit_event(name=f"p{i}")]) == 200
        wait_for(lambda: f"pod=p{i} " in read_or_empty(out), what=f"alert {i} through a restarted program")
        wait_exited(int(read_or_empty(out).splitlines()[-1].split()[0]))
    assert f.stop() == 0, f.stderr
    lines = out.read_text().splitlines()
    assert [l.split(" ", 1)[1].split("pod=")[1].split()[0] for l in lines] == ["p0", "p1", "p2", "p3"]
    assert len({l.split()[0] for l in lines}) == 4  # four different processes
    assert "write errors" not in f.stderr


def test_program_dying_at_once_is_restarted_with_a_growing_delay(falco_bin, tmp_path):
    """A keep_alive program that keeps dying right after its start is not respawned in a tight loop: each restart
    waits 100 ms, then 200, 400, 800 ms (doubling). Only lower bounds are asserted (a busy machine adds delay)."""
    out = tmp_path / "got.txt"
    once = script(tmp_path, "once.sh", 'read -r line; echo "$(date +%s.%N) $$ $line" >> "$OUT"; exit 3\n')
    f = LiveFalco(falco_bin, tmp_path, config_extra=NODRIVER + program_cfg(once, True),
                  env=dict(UTC, OUT=str(out)))
    delays = []
    try:
        for i in range(5):
            posted = time.time()
            assert f.post([audit_event(name=f"p{i}")]) == 200
            wait_for(lambda: f"pod=p{i} " in read_or_empty(out), what=f"alert {i} through a restarted program")
            line = [l for l in read_or_empty(out).splitlines() if f"pod=p{i} " in l][0]
            delays.append(float(line.split()[0]) - posted)
            wait_exited(int(line.split()[1]))  # the next alert finds it gone
    finally:
        assert f.stop() == 0, f.stderr
    # the first start has no delay; then 0.1, 0.2, 0.4, 0.8 s (10% slack for clock granularity)
    for i, want in enumerate([0.1, 0.2, 0.4, 0.8], start=1):
        assert delays[i] >= want * 0.9, f"restart {i} after {delays[i]:.3f} s, want >= {want} s: {delays}"


def test_program_that_cannot_start_is_reported_and_others_continue(falco_bin, tmp_path):
    cmd = falco_cmd(falco_bin, tmp_path, "-e", write_events(tmp_path, [audit_event()]),
                    config_extra=program_cfg("/nonexistent/prog --flag", True))
    r = run(cmd, env=UTC)
    assert r.returncode == 0, r.stderr
    assert "output 'program': cannot start '/nonexistent/prog --flag'" in r.stderr
    assert "Pod created" in r.stdout


def test_one_process_per_alert_without_keep_alive(falco_bin, tmp_path):
    out = tmp_path / "got.txt"
    rec = script(tmp_path, "rec.sh", 'while read -r l; do echo "$$ $l" >> "$OUT"; done\n')
    events = [audit_event(name=f"p{i}") for i in range(3)]
    cmd = falco_cmd(falco_bin, tmp_path, "-e", write_events(tmp_path, events),
                    config_extra=program_cfg(rec, False))
    r = run(cmd, env=dict(UTC, OUT=str(out)))
    assert r.returncode == 0, r.stderr
    lines = out.read_text().splitlines()
    assert len(lines) == 3
    assert len({l.split()[0] for l in lines}) == 3


def test_reopen_restarts_a_keep_alive_program(falco_bin, tmp_path):
    out = tmp_path / "got.txt"
    rec = script(tmp_path, "rec.sh", 'while read -r l; do echo "$$ $l" >> "$OUT"; done\n')
    f = LiveFalco(falco_bin, tmp_path, config_extra=NODRIVER + program_cfg(rec, True),
                  env=dict(UTC, OUT=str(out)))
    assert f.post([audit_event(name="a")]) == 200
    wait_for(lambda: "pod=a " in read_or_empty(out), what="first alert")
    f.send(signal.SIGUSR1)
    time.sleep(0.5)  # the reopen closes the program's input; the next alert starts a new one
    assert f.post([audit_event(name="b")]) == 200
    wait_for(lambda: "pod=b " in read_or_empty(out), what="second alert")
    assert f.stop() == 0
    pids = [l.split()[0] for l in out.read_text().splitlines()]
    assert len(pids) == 2 and pids[0] != pids[1]
