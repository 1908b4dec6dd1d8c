# SPDX-License-Identifier: Apache-2.0
"""falco's command line end to end: --version, --help, bad flags, -V, -L/-l, --list, sources, -M, pidfile,
rule selection flags."""
import json
import os
import re
import time

import pytest

from conftest import run
from falcod import (RULES, LiveFalco, audit_event, falco_cmd, json_lines, wait_for, write, write_config,
                    write_events, write_rules)


def test_version(falco_bin):
    r = run([falco_bin, "--version"])
    assert r.returncode == 0
    assert re.match(r"Falco version: \d+\.\d+\.\d+ \(\S+\)\n", r.stdout)
    assert "Engine:" in r.stdout
    assert r.stderr == ""


def test_help(falco_bin):
    r = run([falco_bin, "--help"])
    assert r.returncode == 0
    assert r.stdout.startswith("Usage: falco")
    for opt in ("-c FILE", "--option", "--validate", "--list[=SOURCE]", "-e FILE", "--enable-source",
                "--disable-source", "--unbuffered", "--pidfile", "--dry-run"):
        assert opt in r.stdout, opt
    assert run([falco_bin, "-h"]).stdout == r.stdout


@pytest.mark.parametrize("args, msg", [
    (["--bogus"], "unknown option '--bogus'"),
    (["-x"], "unknown option '-x'"),
    (["-M", "soon"], "-M needs a non-negative number of seconds"),
    (["-o", "json_output"], "-o needs KEY=VALUE"),
    (["-c"], "option '-c' needs an argument"),
    (["stray"], "unexpected argument 'stray'"),
    (["--enable-source", "syscall", "--disable-source", "k8s_audit"], "cannot be used together"),
    (["-t", "a", "-T", "b"], "both disabled (-T) and enabled (-t) tags"),
])
def test_bad_flags_exit_1(falco_bin, args, msg):
    r = run([falco_bin] + args)
    assert r.returncode == 1
    assert msg in r.stderr
    assert "falco --help" in r.stderr
    assert r.stdout == ""


def test_validate_good_and_bad(falco_bin, tmp_path):
    good = write_rules(tmp_path)
    bad = write(tmp_path, "bad.yaml", "- rule: Broken\n  desc: x\n  condition: ka.verb=\n  output: o\n"
                                      "  priority: WARNING\n  source: k8s_audit\n")
    cfg = write_config(tmp_path)
    r = run([falco_bin, "-c", cfg, "-V", good])
    assert r.returncode == 0, r.stderr
    assert f"{good}: Ok" in r.stdout

    r = run([falco_bin, "-c", cfg, "-V", bad])
    assert r.returncode == 1
    assert f"{bad}: Invalid" in r.stdout

    # several files: one failure fails the run
    r = run([falco_bin, "-c", cfg, "-V", good, "-V", bad])
    assert r.returncode == 1
    assert f"{good}: Ok" in r.stdout and f"{bad}: Invalid" in r.stdout


def test_validate_json_results(falco_bin, tmp_path):
    good = write_rules(tmp_path)
    bad = write(tmp_path, "bad.yaml", "- rule: Broken\n  desc: [unclosed\n")
    cfg = write_config(tmp_path)
    r = run([falco_bin, "-c", cfg, "-o", "json_output=true", "-V", good, "-V", bad])
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    res = doc["falco_load_results"]
    assert [x["name"] for x in res] == [good, bad]
    assert res[0]["successful"] is True and res[0]["errors"] == []
    assert res[1]["successful"] is False
    err = res[1]["errors"][0]
    assert err["code"] == "LOAD_ERR_YAML_PARSE"
    assert {"code", "codedesc", "message", "context"} <= set(err)
    assert isinstance(err["context"]["locations"], list)

    r = run([falco_bin, "-c", cfg, "-o", "json_output=true", "-V", good])
    assert r.returncode == 0
    assert json.loads(r.stdout)["falco_load_results"][0]["successful"] is True


def test_validate_missing_file(falco_bin, tmp_path):
    r = run([falco_bin, "-c", write_config(tmp_path), "-V", str(tmp_path / "nope.yaml")])
    assert r.returncode == 1
    assert "Invalid" in r.stdout


def test_describe_rules_text_and_json(falco_bin, tmp_path):
    r = run(falco_cmd(falco_bin, tmp_path, "-L"))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["Rule", "Description"]
    assert any(l.startswith("Test Pod Create") and "A pod was created (test rule)." in l for l in lines)
    assert any(l.startswith("Test Secret Get") for l in lines)

    r = run(falco_cmd(falco_bin, tmp_path, "-L", "-o", "json_output=true"))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    infos = {x["info"]["name"]: x["info"] for x in doc["rules"]}
    assert set(infos) == {"Test Pod Create", "Test Secret Get"}
    assert infos["Test Secret Get"]["priority"] == "Error"
    assert infos["Test Secret Get"]["source"] == "k8s_audit"
    assert infos["Test Pod Create"]["tags"] == ["alpha", "k8s", "zeta"]
    assert infos["Test Pod Create"]["enabled"] is True

    r = run(falco_cmd(falco_bin, tmp_path, "-l", "Test Secret Get"))
    assert r.returncode == 0
    assert "Test Secret Get" in r.stdout and "Test Pod Create" not in r.stdout

    r = run(falco_cmd(falco_bin, tmp_path, "-l", "No Such Rule"))
    assert r.returncode == 1
    assert "rule 'No Such Rule' not found" in r.stderr


def test_list_fields(falco_bin, tmp_path):
    cfg = write_config(tmp_path)
    r = run([falco_bin, "-c", cfg, "--list"])
    assert r.returncode == 0
    assert "Field Class:" in r.stdout
    assert re.search(r"^ka\.verb\s+string\s+\S", r.stdout, re.M)
    assert re.search(r"^evt\.type\s+string", r.stdout, re.M)

    r = run([falco_bin, "-c", cfg, "--list=k8s_audit", "-N"])
    assert r.returncode == 0
    names = r.stdout.split()
    assert "ka.user.name" in names and "ka.verb" in names
    assert "syscall.type" not in names
    assert all(" " not in l for l in r.stdout.splitlines())

    # every k8s_audit field has a type and a description; a name too long for its column goes on its own line
    r = run([falco_bin, "-c", cfg, "--list=k8s_audit"])
    assert r.returncode == 0
    lines, rows = r.stdout.splitlines(), {}
    for i, line in enumerate(lines):
        if not re.match(r"(ka|jevt|json)\.", line):
            continue
        if " " not in line.strip():  # a long name alone, its type and description below
            assert lines[i + 1].startswith(" " * 30), lines[i + 1]
            rows[line.strip()] = lines[i + 1][30:].split(None, 1)
        else:
            assert line[29] == " ", f"name runs into its type: {line!r}"
            rows[line[:30].strip()] = line[30:].split(None, 1)
    assert len(rows) >= 98, sorted(rows)
    assert all(len(v) == 2 and v[0] == "string" and v[1].strip() for v in rows.values()), rows
    assert "ka.req.binding.subject.has_name[arg]" in rows and "ka.req.volume.hostpath[arg]" in rows

    r = run([falco_bin, "-c", cfg, "--list=nosuch"])
    assert r.returncode == 1
    assert "unknown event source 'nosuch'" in r.stderr


def test_list_events(falco_bin, tmp_path):
    r = run([falco_bin, "-c", write_config(tmp_path), "--list-events"])
    assert r.returncode == 0
    assert "[syscall events]" in r.stdout
    assert "openat" in r.stdout.split()


def test_no_source_available(falco_bin, tmp_path):
    # the live syscall source is off (no driver), k8s_audit's webhook is not enabled and nothing is replayed
    r = run(falco_cmd(falco_bin, tmp_path, "-o", "engine.kind=nodriver"))
    assert r.returncode == 1
    assert "no event source is available" in r.stderr
    assert "Events detected" not in r.stdout


def test_source_selection_errors(falco_bin, tmp_path):
    r = run(falco_cmd(falco_bin, tmp_path, "--disable-source", "syscall", "--disable-source", "k8s_audit"))
    assert r.returncode == 1
    assert "every event source is disabled" in r.stderr
    r = run(falco_cmd(falco_bin, tmp_path, "--enable-source", "bogus"))
    assert r.returncode == 1
    assert "unknown event source 'bogus'" in r.stderr
    # a replay of a disabled source is refused
    ev = write_events(tmp_path, [audit_event()])
    r = run(falco_cmd(falco_bin, tmp_path, "--enable-source", "syscall", "-e", ev))
    assert r.returncode == 1
    assert "k8s_audit source is disabled" in r.stderr


def test_dry_run(falco_bin, tmp_path):
    r = run(falco_cmd(falco_bin, tmp_path, "--dry-run"))
    assert r.returncode == 0, r.stderr
    assert "Dry run" in r.stderr
    assert r.stdout == ""


def test_startup_log_lines(falco_bin, tmp_path):
    r = run(falco_cmd(falco_bin, tmp_path, "--dry-run"))
    assert re.search(r"Falco version: \d+\.\d+\.\d+", r.stderr)
    assert "Loading rules from:" in r.stderr
    assert str(tmp_path / "rules.yaml") in r.stderr


def test_duration_stops_live_falco(falco_bin, tmp_path):
    t0 = time.monotonic()
    f = LiveFalco(falco_bin, tmp_path, "-M", "1")
    f.proc.wait(timeout=15)
    rc = f.stop()
    assert rc == 0, f.stderr
    assert time.monotonic() - t0 < 10
    assert "Run duration of 1 seconds reached" in f.stderr
    assert "Events detected: 0" in f.stdout


def test_pidfile_and_sigterm(falco_bin, tmp_path):
    pid = tmp_path / "falco.pid"
    f = LiveFalco(falco_bin, tmp_path, "-P", str(pid))
    wait_for(lambda: pid.exists(), what="pid file")
    assert int(pid.read_text()) == f.proc.pid
    assert f.stop() == 0
    assert "SIGTERM received" in f.stderr
    assert not pid.exists()


def test_rule_selection_flags(falco_bin, tmp_path):
    ev = write_events(tmp_path, [audit_event(), audit_event("get", "secrets", "s1")])

    def fired(*args):
        r = run(falco_cmd(falco_bin, tmp_path, "-e", ev, "-o", "json_output=true", *args))
        assert r.returncode == 0, r.stderr
        return sorted(a["rule"] for a in json_lines(r.stdout))

    assert fired() == ["Test Pod Create", "Test Secret Get"]
    assert fired("-D", "Test Pod*") == ["Test Secret Get"]
    # without wildcards, as upstream's -D: any rule whose name contains the text
    assert fired("-D", "Secret") == ["Test Pod Create"]
    assert fired("-D", "Test") == []
    assert fired("-D", "Pod Create", "-D", "Secret G") == []
    # -t selects, then -D takes rules out of the selection
    assert fired("-t", "k8s", "-D", "Secret") == ["Test Pod Create"]
    # a falco.yaml rules: entry with both rule and tag applies each on its own, as upstream
    assert fired("-o", "rules=[{disable: {rule: Test Pod Create, tag: secrets}}]") == []
    assert fired("-o", "rules=[{disable: {rule: '*'}}, {enable: {rule: Test Pod*, tag: secrets}}]") == \
        ["Test Pod Create", "Test Secret Get"]
    assert fired("-T", "secrets") == ["Test Pod Create"]
    assert fired("-t", "secrets") == ["Test Secret Get"]
    assert fired("-t", "zeta", "-t", "secrets") == ["Test Pod Create", "Test Secret Get"]
    assert fired("-o", "rules[].disable.rule=*", "-o", "rules[].enable.tag=zeta") == ["Test Pod Create"]
