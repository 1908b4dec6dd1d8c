# SPDX-License-Identifier: Apache-2.0
"""falco.yaml end to end: errors with positions, unknown keys, -o overrides that change behaviour, includes,
upstream-shaped files, and k8saudit plugin entries mapped onto the native source."""
import json
import os
import signal
import urllib.request

import pytest

from conftest import ROOT, free_port, run
from falcod import (LiveFalco, audit_event, falco_cmd, json_lines, write, write_config, write_events,
                    write_rules)


def test_missing_config_file(falco_bin, tmp_path):
    r = run([falco_bin, "-c", str(tmp_path / "nope.yaml"), "--dry-run"])
    assert r.returncode == 1
    assert "nope.yaml" in r.stderr
    assert "failed to load the configuration" in r.stderr


def test_type_error_names_file_line_column_and_key(falco_bin, tmp_path):
    cfg = write(tmp_path, "falco.yaml", "log_syslog: false\nfile_output:\n  enabled: perhaps\n")
    r = run([falco_bin, "-c", cfg, "--dry-run", "-r", write_rules(tmp_path)])
    assert r.returncode == 1
    assert f"{cfg}:3:12: file_output.enabled: expected a boolean (true or false), got 'perhaps'" in r.stderr


def test_override_error_names_the_option(falco_bin, tmp_path):
    r = run(falco_cmd(falco_bin, tmp_path, "--dry-run", "-o", "webserver.listen_port=http"))
    assert r.returncode == 1
    assert "-o 'webserver.listen_port=http': webserver.listen_port: expected a non-negative integer" in r.stderr
    r = run(falco_cmd(falco_bin, tmp_path, "--dry-run", "-o", "rules_files[7]=/x.yaml"))
    assert r.returncode == 1
    assert "out of range" in r.stderr


def test_unknown_keys_warn_and_continue(falco_bin, tmp_path):
    r = run(falco_cmd(falco_bin, tmp_path, "--dry-run", "-o", "frobnicate=1",
                      config_extra="not_a_key: true\nwebserver:\n  also_not: 1\n"))
    assert r.returncode == 0, r.stderr
    assert "unknown configuration key 'not_a_key', ignoring" in r.stderr
    assert "unknown configuration key 'webserver.also_not', ignoring" in r.stderr
    assert "-o 'frobnicate=1': unknown configuration key 'frobnicate', ignoring" in r.stderr


@pytest.mark.parametrize("path", ["tests/fixtures/config/upstream-shaped.yaml", "falco/falco.yaml"])
def test_upstream_shaped_and_shipped_files_load(falco_bin, tmp_path, path):
    r = run([falco_bin, "-c", os.path.join(ROOT, path), "-r", write_rules(tmp_path), "--dry-run",
             "-o", "webserver.enabled=false", "-o", "log_syslog=false"])
    assert r.returncode == 0, r.stderr
    assert "unknown configuration key" not in r.stderr


def test_overrides_change_behaviour(falco_bin, tmp_path):
    ev = write_events(tmp_path, [audit_event(), audit_event("get", "secrets", "s1")])

    r = run(falco_cmd(falco_bin, tmp_path, "-e", ev))
    assert r.returncode == 0, r.stderr
    assert ": Warning Pod created" in r.stdout

    # json_output switches the alert format
    r = run(falco_cmd(falco_bin, tmp_path, "-e", ev, "-o", "json_output=true"))
    assert [a["rule"] for a in json_lines(r.stdout)] == ["Test Pod Create", "Test Secret Get"]

    # priority drops less severe rules at load time
    r = run(falco_cmd(falco_bin, tmp_path, "-e", ev, "-o", "json_output=true", "-o", "priority=error"))
    assert [a["rule"] for a in json_lines(r.stdout)] == ["Test Secret Get"]

    # rules_files from -o, as a list element and as a YAML list
    other = write(tmp_path, "other.yaml", "- rule: Other\n  desc: d\n  condition: ka.verb=get\n"
                                          "  output: other %ka.verb\n  priority: NOTICE\n  source: k8s_audit\n")
    cmd = [falco_bin, "-c", write_config(tmp_path, f"rules_files: [{tmp_path}/rules.yaml]\n"),
           "-e", ev, "-o", "json_output=true"]
    r = run(cmd + ["-o", f"rules_files[0]={other}"])
    assert [a["rule"] for a in json_lines(r.stdout)] == ["Other"]
    r = run(cmd + ["-o", f"rules_files=[{tmp_path}/rules.yaml, {other}]", "-o", "rule_matching=all"])
    assert [a["rule"] for a in json_lines(r.stdout)] == ["Test Pod Create", "Test Secret Get", "Other"]

    # stdout_output can be turned off
    r = run(falco_cmd(falco_bin, tmp_path, "-e", ev, "-o", "stdout_output.enabled=false"))
    assert "Pod created" not in r.stdout
    assert "Events detected: 2" in r.stdout


def test_config_files_includes(falco_bin, tmp_path):
    d = tmp_path / "conf.d"
    d.mkdir()
    (d / "10-json.yaml").write_text("json_output: true\n")
    (d / "20-prio.yaml").write_text("priority: error\n")
    ev = write_events(tmp_path, [audit_event(), audit_event("get", "secrets", "s1")])
    r = run(falco_cmd(falco_bin, tmp_path, "-e", ev, config_extra="config_files: [conf.d]\n"))
    assert r.returncode == 0, r.stderr
    assert [a["rule"] for a in json_lines(r.stdout)] == ["Test Secret Get"]
    assert str(d / "10-json.yaml") in r.stderr  # listed among the configuration files


def test_plugin_file_open_params_replays(falco_bin, tmp_path):
    ev = write_events(tmp_path, [audit_event()])
    extra = ("load_plugins: [k8saudit, json]\nplugins:\n  - name: k8saudit\n    library_path: libk8saudit.so\n"
             f"    open_params: {ev}\n  - name: json\n    library_path: libjson.so\n")
    r = run(falco_cmd(falco_bin, tmp_path, "-o", "json_output=true", config_extra=extra), timeout=30)
    assert r.returncode == 0, r.stderr
    assert [a["rule"] for a in json_lines(r.stdout)] == ["Test Pod Create"]


def test_plugin_open_params_overridden_with_o(falco_bin, tmp_path):
    """-o plugins[0].open_params=FILE turns an upstream-style webhook entry into a replay of FILE."""
    ev = write_events(tmp_path, [audit_event(), audit_event("get", "secrets", "s1")])
    extra = ("load_plugins: [k8saudit, json]\nplugins:\n  - name: k8saudit\n    library_path: libk8saudit.so\n"
             "    init_config: ''\n    open_params: 'http://:9765/k8s-audit'\n"
             "  - name: json\n    library_path: libjson.so\n")
    r = run(falco_cmd(falco_bin, tmp_path, "-o", "json_output=true", "-o", f"plugins[0].open_params={ev}",
                      config_extra=extra), timeout=30)
    assert r.returncode == 0, r.stderr
    assert [a["rule"] for a in json_lines(r.stdout)] == ["Test Pod Create", "Test Secret Get"]
    assert f"Reading k8s_audit events from '{ev}'" in r.stderr


def test_plugin_webhook_open_params(falco_bin, tmp_path):
    port = free_port()
    extra = ("load_plugins: [k8saudit]\nplugins:\n  - name: k8saudit\n    library_path: libk8saudit.so\n"
             "    init_config: '{\"maxEventSize\": 262144}'\n"
             f"    open_params: 'http://127.0.0.1:{port}/audit'\n")
    f = LiveFalco(falco_bin, tmp_path, "-o", "json_output=true", config_extra=extra, port=port)
    assert f.post([audit_event()], path="/audit") == 200
    # batches still queued at SIGTERM are evaluated before falco exits
    assert f.stop() == 0, f.stderr
    assert [a["rule"] for a in json_lines(f.stdout)] == ["Test Pod Create"]
    assert f"http://127.0.0.1:{port}/audit" in f.stderr
    assert "plain HTTP" not in f.stderr  # loopback only


def test_versions_report_the_plugins_built_in(falco_bin, tmp_path):
    port, wport = free_port(), free_port()
    extra = ("load_plugins: [k8saudit-eks, json]\nplugins:\n  - name: k8saudit-eks\n"
             "    library_path: libk8saudit-eks.so\n"
             f"    open_params: 'http://127.0.0.1:{port}/k8s-audit'\n"
             "  - name: json\n    library_path: libjson.so\n  - name: container\n")
    f = LiveFalco(falco_bin, tmp_path, "-o", "webserver.enabled=true", "-o", f"webserver.listen_port={wport}",
                  "-o", "webserver.listen_address=127.0.0.1", config_extra=extra, port=port)
    f.wait_port(wport)
    with urllib.request.urlopen(f"http://127.0.0.1:{wport}/versions", timeout=5) as resp:
        v = json.loads(resp.read())
    assert f.stop() == 0, f.stderr
    assert v["engine_version_semver"] == "0.57.0" and v["engine_version"] == "57"
    # the container entry is not in load_plugins: not loaded, not reported
    assert v["plugin_versions"] == {"k8saudit-eks": "0.12.0", "json": "0.7.0"}


def test_plain_http_webhook_beyond_loopback_warns(falco_bin, tmp_path):
    port = free_port()
    extra = ("load_plugins: [k8saudit]\nplugins:\n  - name: k8saudit\n    library_path: libk8saudit.so\n"
             f"    open_params: 'http://:{port}/k8s-audit'\n")
    f = LiveFalco(falco_bin, tmp_path, config_extra=extra, port=port)
    assert f.stop() == 0, f.stderr
    assert "k8s_audit: the webhook serves plain HTTP beyond loopback" in f.stderr


def test_unsupported_plugin_is_an_error(falco_bin, tmp_path):
    extra = "load_plugins: [cloudtrail]\nplugins:\n  - name: cloudtrail\n    library_path: libcloudtrail.so\n"
    r = run(falco_cmd(falco_bin, tmp_path, "--dry-run", config_extra=extra))
    assert r.returncode == 1
    assert "plugin 'cloudtrail' is not supported" in r.stderr


def test_webserver_wiring(falco_bin, tmp_path):
    wport = free_port()
    f = LiveFalco(falco_bin, tmp_path, "-o", "webserver.enabled=true", "-o", f"webserver.listen_port={wport}",
                  "-o", "webserver.listen_address=127.0.0.1")
    f.wait_port(wport)
    with urllib.request.urlopen(f"http://127.0.0.1:{wport}/healthz", timeout=5) as resp:
        assert resp.status == 200
    with urllib.request.urlopen(f"http://127.0.0.1:{wport}/versions", timeout=5) as resp:
        assert b"engine_version" in resp.read()
    assert f.stop(signal.SIGINT) == 0
    assert "SIGINT received" in f.stderr


def test_gvisor_engine_refused_at_start(falco_bin, tmp_path):
    """The probe sees the host, not a gVisor sandbox: falco says so and exits rather than stand in silently."""
    r = run(falco_cmd(falco_bin, tmp_path, "-o", "engine.kind=gvisor"), timeout=30)
    assert r.returncode == 1
    assert "engine.kind=gvisor: this falco has no gVisor source" in r.stderr


def test_kmod_engine_warns_and_uses_the_probe(falco_bin, tmp_path):
    """An upstream falco.yaml with engine.kind=kmod (or ebpf) loads; falco says it captures with its probe."""
    from syscall_support import OUR_RULES, LiveSyscallFalco, bpf_prerequisites
    if bpf_prerequisites() is not None:
        pytest.skip(str(bpf_prerequisites()))
    f = LiveSyscallFalco(falco_bin, tmp_path, OUR_RULES, args=("-o", "engine.kind=kmod"))
    f.stop()
    err = "\n".join(f.err_lines)
    assert "engine.kind=kmod: this falco captures system calls with its modern eBPF probe only" in err
    assert "modern eBPF probe attached" in err
