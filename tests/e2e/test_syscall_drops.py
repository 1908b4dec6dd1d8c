# SPDX-License-Identifier: Apache-2.0
"""Syscall event drops on the live kernel, with upstream's syscall_event_drops semantics: drops are counted
(also with actions: [ignore]), acted on above the threshold (log, alert, exit) and the actions are rate limited
by the token bucket. Real drops are made by stopping falco (SIGSTOP) while a dup/close storm fills a 1 MiB ring;
simulate_drops exercises the actions without any."""
import os
import re
import signal
import subprocess
import time

import pytest

from syscall_support import OUR_RULES, LiveSyscallFalco, bpf_prerequisites

pytestmark = pytest.mark.skipif(bpf_prerequisites() is not None, reason=str(bpf_prerequisites()))

STORM = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                     "shared", "bench", "storm.c")

DROP_RULE = "Falco internal: syscall event drop"


def drops_config(actions, simulate=False, rate="0.03333", max_burst=1, preset=1):
    return (f"engine:\n  kind: modern_ebpf\n  modern_ebpf:\n    buf_size_preset: {preset}\n"
            f"syscall_event_drops:\n  threshold: 0.1\n  actions: [{', '.join(actions)}]\n"
            f"  rate: {rate}\n  max_burst: {max_burst}\n  simulate_drops: {'true' if simulate else 'false'}\n")


@pytest.fixture(scope="module")
def storm(tmp_path_factory):
    """A dup/close loop: ../shared/bench/storm.c when present, else the same loop written here."""
    d = tmp_path_factory.mktemp("storm")
    src = STORM
    if not os.path.exists(src):
        src = str(d / "storm.c")
        with open(src, "w") as f:
            f.write("#include <stdlib.h>\n#include <time.h>\n#include <unistd.h>\n"
                    "int main(int c, char **v) { time_t end = time(0) + atoi(v[1]);\n"
                    "  while (time(0) < end) for (int i = 0; i < 1000; i++) close(dup(0)); return 0; }\n")
    exe = str(d / "storm")
    subprocess.run(["cc", "-O2", "-o", exe, src], check=True)
    return exe


def stopped_during_storm(f, storm, seconds=2):
    """Freezes falco while the storm runs: the ring fills up and the probe drops the rest."""
    os.kill(f.proc.pid, signal.SIGSTOP)
    try:
        subprocess.run([storm, str(seconds)], check=True, stdout=subprocess.DEVNULL, timeout=60)
    finally:
        os.kill(f.proc.pid, signal.SIGCONT)


def final_drops(f):
    for line in reversed(f.err_lines):
        m = re.search(r"Syscall source: (\d+) events .* (\d+) drops counted", line)
        if m:
            return int(m.group(1)), int(m.group(2))
    raise AssertionError("no final 'Syscall source:' line:\n" + "\n".join(f.err_lines[-20:]))


def test_real_drops_counted_logged_and_alerted(falco_bin, tmp_path, storm):
    with LiveSyscallFalco(falco_bin, tmp_path, OUR_RULES, config_extra=drops_config(["log", "alert"])) as f:
        stopped_during_storm(f, storm)
        a = f.wait_alert(DROP_RULE, timeout=20)
        fl = a["output_fields"]
        assert int(fl["n_drops"]) > 0
        assert int(fl["n_drops"]) == int(fl["n_drops_buffer"]) + int(fl["n_drops_max_event_size"])
        # dup and close are in the close and other categories: the per-category counters add up
        cats = sum(int(v) for k, v in fl.items() if k.startswith("n_drops_buffer_"))
        assert cats == int(fl["n_drops_buffer"])
        assert a["priority"] == "Critical"
        assert a["output"].startswith(f"{DROP_RULE}. {fl['n_drops']} system calls dropped in last second.")
        # a second burst within the token bucket's 30 s: counted, no second action
        f.settle(1.5)
        stopped_during_storm(f, storm)
        f.settle(2.5)
        assert len(f.matching(DROP_RULE)) == 1
        rc = f.stop()
    assert rc == 0
    err = "\n".join(f.err_lines)
    assert "Falco internal: syscall event drop." in err  # the log action
    events, drops = final_drops(f)
    assert drops > int(fl["n_drops"]), (drops, fl["n_drops"])  # both bursts
    assert events > 0


def test_ignored_drops_are_still_counted(falco_bin, tmp_path, storm):
    with LiveSyscallFalco(falco_bin, tmp_path, OUR_RULES, config_extra=drops_config(["ignore"])) as f:
        stopped_during_storm(f, storm)
        f.settle(2.5)
        rc = f.stop()
    assert rc == 0
    assert not f.matching(DROP_RULE)
    assert not any("Falco internal: syscall event drop" in line for line in f.err_lines)
    _, drops = final_drops(f)
    assert drops > 0


def test_simulated_drops_rate_limited(falco_bin, tmp_path):
    # every tick "drops"; one token, refilled once a minute: exactly one alert in a few seconds
    with LiveSyscallFalco(falco_bin, tmp_path, OUR_RULES,
                          config_extra=drops_config(["alert"], simulate=True, rate="0.0166")) as f:
        f.wait_alert(DROP_RULE, timeout=10)
        f.settle(3.5)
        assert len(f.matching(DROP_RULE)) == 1
    # a bucket of three allows three actions in a row
    with LiveSyscallFalco(falco_bin, tmp_path, OUR_RULES,
                          config_extra=drops_config(["alert"], simulate=True, rate="0.0166", max_burst=3)) as f:
        deadline = time.monotonic() + 15
        while len(f.matching(DROP_RULE)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        f.settle(2.5)
        assert len(f.matching(DROP_RULE)) == 3


def test_exit_action(falco_bin, tmp_path):
    f = LiveSyscallFalco(falco_bin, tmp_path, OUR_RULES, config_extra=drops_config(["log", "exit"], simulate=True))
    try:
        rc = f.proc.wait(timeout=20)
    finally:
        f.stop()
    assert rc != 0
    err = "\n".join(f.err_lines)
    assert "syscall_event_drops.actions includes exit: exiting" in err
    assert "Falco internal: syscall event drop." in err


@pytest.mark.parametrize("bad,msg", [
    ("syscall_event_drops:\n  actions: [log, explode]\n", "unknown action 'explode'"),
    ("syscall_event_drops:\n  actions: [ignore, log]\n", "ignore cannot be combined"),
    ("syscall_event_drops:\n  threshold: 1.5\n", "must be between 0 and 1"),
])
def test_bad_drop_settings_rejected(falco_bin, tmp_path, bad, msg):
    cfg = tmp_path / "falco.yaml"
    cfg.write_text(bad)
    r = subprocess.run([falco_bin, "-c", str(cfg), "-r", OUR_RULES, "--dry-run"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode != 0
    assert msg in r.stderr
    assert str(cfg) in r.stderr
