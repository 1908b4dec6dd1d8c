# SPDX-License-Identifier: Apache-2.0
"""Alert outputs end to end: the text line, the JSON schema, stdout purity with json_output, the exit summary,
file output and its reopen on SIGHUP/SIGUSR1, buffered and unbuffered writing."""
import json
import os
import re
import signal

import pytest

from conftest import run
from falcod import (TS_NS, LiveFalco, audit_event, falco_cmd, json_lines, read_or_empty, wait_for,
                    write_events)

UTC = dict(os.environ, TZ="UTC", FALCO_HOSTNAME="test-host")


def replay(falco_bin, tmp_path, events, *args, env=UTC):
    r = run(falco_cmd(falco_bin, tmp_path, "-e", write_events(tmp_path, events), *args), env=env)
    assert r.returncode == 0, r.stderr
    return r


def test_text_line(falco_bin, tmp_path):
    r = replay(falco_bin, tmp_path, [audit_event()])
    first = r.stdout.splitlines()[0]
    assert first == ("07:08:09.123456789: Warning Pod created (user=alice ns=shop pod=web code=201 "
                     "uri=/api/v1/namespaces/shop/pods)")

    r = replay(falco_bin, tmp_path, [audit_event()], "-o", "time_format_iso_8601=true")
    assert r.stdout.splitlines()[0].startswith("2024-05-06T07:08:09.123456789+0000: Warning Pod created")


def test_text_line_escapes_control_characters(falco_bin, tmp_path):
    r = replay(falco_bin, tmp_path, [audit_event(user="mal\nlory\x1b")])
    lines = r.stdout.splitlines()
    assert "user=mal\\nlory\\u001b " in lines[0]
    assert lines[1] == "Events detected: 1"


def test_json_schema(falco_bin, tmp_path):
    ev = audit_event(user="mal\"lory\n")
    del ev["objectRef"]["namespace"]
    r = replay(falco_bin, tmp_path, [ev], "-o", "json_output=true")
    [line] = r.stdout.splitlines()
    a = json.loads(line)
    assert list(a) == ["hostname", "output", "output_fields", "priority", "rule", "source", "tags", "time"]
    assert a["hostname"] == "test-host"
    assert a["priority"] == "Warning"
    assert a["rule"] == "Test Pod Create"
    assert a["source"] == "k8s_audit"
    assert a["tags"] == ["alpha", "k8s", "zeta"]
    assert a["time"] == "2024-05-06T07:08:09.123456789Z"
    assert a["output"].startswith("07:08:09.123456789: Warning Pod created (user=mal\"lory\n ns=<NA>")
    f = a["output_fields"]
    assert list(f) == sorted(f)
    assert f["evt.time"] == TS_NS and isinstance(f["evt.time"], int)
    assert f["ka.user.name"] == "mal\"lory\n"
    assert f["ka.target.namespace"] is None
    assert f["ka.target.name"] == "web"

    # iso8601 prefix: the field is named after it, still integer ns
    r = replay(falco_bin, tmp_path, [audit_event()], "-o", "json_output=true", "-o", "time_format_iso_8601=true")
    a = json.loads(r.stdout)
    assert a["output_fields"]["evt.time.iso8601"] == TS_NS
    assert "evt.time" not in a["output_fields"]
    assert a["output"].startswith("2024-05-06T07:08:09.123456789+0000: Warning")


def test_json_optional_properties(falco_bin, tmp_path):
    r = replay(falco_bin, tmp_path, [audit_event()], "-o", "json_output=true",
               "-o", "json_include_output_property=false", "-o", "json_include_tags_property=false",
               "-o", "json_include_output_fields_property=false", "-o", "json_include_message_property=true")
    a = json.loads(r.stdout)
    assert list(a) == ["hostname", "message", "priority", "rule", "source", "time"]
    assert a["message"].startswith("Pod created (user=alice")


def test_json_output_purity_and_summary_on_stderr(falco_bin, tmp_path):
    events = [audit_event(name=f"p{i}") for i in range(20)] + [audit_event("get", "secrets", "s")]
    r = replay(falco_bin, tmp_path, events, "-o", "json_output=true")
    lines = r.stdout.splitlines()
    assert len(lines) == 21
    for line in lines:
        assert isinstance(json.loads(line), dict)
    assert "Events detected: 21" in r.stderr
    assert "Events detected" not in r.stdout


def test_summary_text(falco_bin, tmp_path):
    events = [audit_event(name="a"), audit_event(name="b"), audit_event("get", "secrets", "s")]
    r = replay(falco_bin, tmp_path, events)
    tail = r.stdout.splitlines()[3:]
    assert tail == [
        "Events detected: 3",
        "Rule counts by severity:",
        "   ERROR: 1",
        "   WARNING: 2",
        "Triggered rules by rule name:",
        "   Test Pod Create: 2",
        "   Test Secret Get: 1",
    ]


def test_file_output(falco_bin, tmp_path):
    out = tmp_path / "alerts.txt"
    out.write_text("existing\n")
    for keep_alive in ("true", "false"):
        r = replay(falco_bin, tmp_path, [audit_event(), audit_event("get", "secrets", "s")],
                   "-o", "file_output.enabled=true", "-o", f"file_output.filename={out}",
                   "-o", f"file_output.keep_alive={keep_alive}", "-o", "stdout_output.enabled=false")
        assert "Pod created" not in r.stdout
    lines = out.read_text().splitlines()
    assert lines[0] == "existing"
    assert len(lines) == 5
    assert re.match(r"07:08:09\.123456789: Error Secret read \(user=alice name=s\)", lines[2])


def test_file_output_unwritable_is_reported(falco_bin, tmp_path):
    r = replay(falco_bin, tmp_path, [audit_event()], "-o", "file_output.enabled=true",
               "-o", "file_output.filename=/nonexistent/dir/alerts.txt")
    assert "output 'file': cannot open '/nonexistent/dir/alerts.txt'" in r.stderr
    assert "Pod created" in r.stdout  # the other outputs are not affected


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGUSR1])
def test_file_reopen_on_signal(falco_bin, tmp_path, sig):
    out = tmp_path / "events.txt"
    rotated = tmp_path / "events.txt.1"
    f = LiveFalco(falco_bin, tmp_path, "-o", "file_output.enabled=true", "-o", f"file_output.filename={out}",
                  "-o", "file_output.keep_alive=true", env=UTC)
    assert f.post([audit_event(name="first")]) == 200
    wait_for(lambda: "pod=first" in read_or_empty(out), what="first alert in the file")
    os.rename(out, rotated)
    f.send(sig)
    # the reopen is queued behind earlier alerts; the next alert lands in the new file
    wait_for(lambda: out.exists(), what="file reopened")
    assert f.post([audit_event(name="second")]) == 200
    wait_for(lambda: "pod=second" in read_or_empty(out), what="second alert in the new file")
    assert f.stop() == 0, f.stderr
    assert "pod=second" not in rotated.read_text()
    assert "pod=first" in rotated.read_text()
    assert f"{signal.Signals(sig).name} received, reopening outputs" in f.stderr


@pytest.mark.parametrize("args", [["-o", "buffered_outputs=true"], ["-o", "buffered_outputs=true", "-U"], []])
def test_buffered_and_unbuffered_deliver_everything(falco_bin, tmp_path, args):
    events = [audit_event(name=f"p{i}") for i in range(300)]
    r = replay(falco_bin, tmp_path, events, "-o", "json_output=true", *args)
    names = [a["output_fields"]["ka.target.name"] for a in json_lines(r.stdout)]
    assert names == [f"p{i}" for i in range(300)]


def test_live_alerts_are_written_while_running(falco_bin, tmp_path):
    f = LiveFalco(falco_bin, tmp_path, "-o", "json_output=true", "-o", "file_output.enabled=true",
                  "-o", f"file_output.filename={tmp_path / 'live.txt'}", env=UTC)
    assert f.post([audit_event("get", "secrets", "s1"), audit_event()]) == 200
    wait_for(lambda: read_or_empty(tmp_path / "live.txt").count("\n") == 2, what="two alerts")
    assert f.stop() == 0
    assert [a["rule"] for a in json_lines(f.stdout)] == ["Test Secret Get", "Test Pod Create"]
    assert "Events detected: 2" in f.stderr
