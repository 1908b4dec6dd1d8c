# SPDX-License-Identifier: Apache-2.0
"""Capture files end to end: `falco -w FILE` records real activity on the live kernel, `falco -e FILE` replays it
through the same rules and gives exactly the alerts the live run gave (twice in a row: replays are deterministic);
damaged captures are refused with the offset and the reason."""
import json
import os
import struct

import pytest

from conftest import run
from syscall_support import (OUR_RULES, BASE_CONFIG, FakeContainer, LiveSyscallFalco, bpf_prerequisites, fields,
                             marker, py, pyexe_named, sh)

pytestmark = pytest.mark.skipif(bpf_prerequisites() is not None, reason=str(bpf_prerequisites()))


def replay(falco_bin, tmp_path, cap, rules=OUR_RULES):
    cfg = tmp_path / "replay.yaml"
    cfg.write_text(BASE_CONFIG)
    return run([falco_bin, "-c", str(cfg), "-r", rules, "-e", str(cap)], timeout=300)


def alerts_of(stdout):
    out = []
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def key(a):
    return (a["time"], a["rule"], a["output"])


@pytest.fixture(scope="module")
def recorded(falco_bin, tmp_path_factory):
    """A live run with -w while a few rules fire; returns (capture path, live alerts)."""
    tmp = tmp_path_factory.mktemp("capture")
    cap = tmp / "live.fcap"
    m = marker()
    with LiveSyscallFalco(falco_bin, tmp, OUR_RULES, args=["-w", str(cap)]) as f:
        py("open('/etc/shadow').read()", exe=pyexe_named(tmp, "capreader"))
        f.wait_alert("Sensitive File Read by Untrusted Program")
        os.symlink("/etc/shadow", str(tmp / f"{m}-sym"))
        f.wait_alert("Symlink Created Over Sensitive File")
        path = f"/etc/{m}.conf"
        py(f"open({path!r},'w')")
        os.unlink(path)
        f.wait_alert("Write Below System Directory", lambda a: fields(a).get("fd.name") == path)
        with FakeContainer() as c:
            c.run(["/bin/sh", "-c", f"echo {m}"])
            f.wait_alert("Shell Spawned in Container")
        sh(["grep", "-rl", "id_rsa", str(tmp)], check=False)
        f.wait_alert("Credential Search")
        f.settle(1)
        f.stop()
        live = list(f.alerts)
        err = "\n".join(f.err_lines)
    assert f.proc.returncode == 0, err
    assert cap.exists() and cap.stat().st_size > 4096
    return cap, live, tmp


def test_replay_gives_the_live_alerts(falco_bin, recorded, tmp_path):
    cap, live, _ = recorded
    r = replay(falco_bin, tmp_path, cap)
    assert r.returncode == 0, r.stderr
    assert "Reading syscall events from capture" in r.stderr
    rep = alerts_of(r.stdout)
    assert len(live) >= 5
    assert sorted(map(key, rep)) == sorted(map(key, live))
    # output fields too (they include the state the capture carried: users, containers, processes)
    by = {key(a): a for a in live}
    for a in rep:
        assert a["output_fields"] == by[key(a)]["output_fields"]
    rules = {a["rule"] for a in rep}
    assert {"Sensitive File Read by Untrusted Program", "Symlink Created Over Sensitive File",
            "Write Below System Directory", "Shell Spawned in Container", "Credential Search"} <= rules


def test_replay_is_deterministic(falco_bin, recorded, tmp_path):
    cap, _, _ = recorded
    a = replay(falco_bin, tmp_path, cap)
    b = replay(falco_bin, tmp_path, cap)
    assert a.returncode == 0 and b.returncode == 0
    assert a.stdout == b.stdout


def test_replay_with_other_rules(falco_bin, recorded, tmp_path):
    """A capture is rules-independent: replayed through another rule set it answers other questions."""
    cap, _, _ = recorded
    rules = tmp_path / "other.yaml"
    rules.write_text("- rule: Any Shadow Open\n  desc: d\n"
                     "  condition: evt.type in (open, openat) and fd.name = /etc/shadow\n"
                     "  output: \"%proc.name %fd.name %user.name\"\n  priority: INFO\n")
    r = replay(falco_bin, tmp_path, cap, rules=str(rules))
    assert r.returncode == 0, r.stderr
    out = alerts_of(r.stdout)
    assert any(a["output"].endswith("capreader /etc/shadow root") for a in out), [a["output"] for a in out]


def corrupt(cap, tmp_path, name, edit):
    data = bytearray(cap.read_bytes())
    edit(data)
    p = tmp_path / name
    p.write_bytes(bytes(data))
    return p


def test_corrupt_captures_rejected(falco_bin, recorded, tmp_path):
    cap, _, _ = recorded
    size = cap.stat().st_size
    cases = {
        "truncated": (lambda d: d.__delitem__(slice(size // 2, None)), "truncated"),
        "no_end": (lambda d: d.__delitem__(slice(size - 24, None)), "without an end block"),
        "version": (lambda d: d.__setitem__(slice(8, 10), struct.pack("<H", 9)), "version 9.0 is not supported"),
        "block_len": (lambda d: d.__setitem__(slice(68, 72), struct.pack("<I", 0x7fffffff)), "exceeds"),
        "block_type": (lambda d: d.__setitem__(slice(64, 68), struct.pack("<I", 0)), "bad block type"),
        "abi": (lambda d: d.__setitem__(slice(20, 24), struct.pack("<I", 99)), "driver ABI 99"),
    }
    for name, (edit, msg) in cases.items():
        p = corrupt(cap, tmp_path, name + ".fcap", edit)
        r = replay(falco_bin, tmp_path, p)
        assert r.returncode == 1, (name, r.stderr)
        assert msg in r.stderr, (name, r.stderr[-800:])
        if name not in ("version", "abi"):
            assert "offset" in r.stderr, (name, r.stderr[-800:])
    # bad magic: not a capture, not JSON either
    p = corrupt(cap, tmp_path, "magic.fcap", lambda d: d.__setitem__(slice(0, 2), b"\x00\x01"))
    r = replay(falco_bin, tmp_path, p)
    assert r.returncode == 1
    assert "cannot tell the format" in r.stderr


def test_capture_write_failure_is_reported(falco_bin, tmp_path):
    """-w into a directory that does not exist: falco refuses to start rather than lose the recording."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(BASE_CONFIG)
    r = run([falco_bin, "-c", str(cfg), "-r", OUR_RULES, "-w", "/nonexistent/dir/x.fcap", "-M", "1"], timeout=120)
    assert r.returncode == 1
    assert "cannot create '/nonexistent/dir/x.fcap'" in r.stderr
