# SPDX-License-Identifier: Apache-2.0
"""Hot reload end to end: rules and configuration changes picked up by inotify (debounced) and by SIGHUP, a
broken rules file that leaves the running rules in place and raises a Critical internal alert, live config keys
versus restart-only keys, and an event stream running through repeated reloads with no event lost or evaluated
twice."""
import json
import os
import re
import signal
import threading
import time

from conftest import free_port
from falcod import RULES, audit_event, json_lines, read_or_empty, wait_for
from outputs_support import LiveFalcoLog, http_get, parse_prometheus, value

UTC = dict(os.environ, TZ="UTC", FALCO_HOSTNAME="test-host")

EXTRA_RULE = """
- rule: Test Configmap Delete
  desc: a configmap was deleted
  condition: ka.verb=delete and ka.target.resource=configmaps
  output: Configmap deleted (name=%ka.target.name)
  priority: NOTICE
  source: k8s_audit
"""


def start(falco_bin, tmp_path, extra="", *args):
    return LiveFalcoLog(falco_bin, tmp_path, *args, config_extra="json_output: true\n" + extra, env=UTC)


def rules_path(tmp_path):
    return tmp_path / "rules.yaml"


def rules_of(f):
    return [a["rule"] for a in json_lines(read_or_empty(f.stdout_path))]


def reloads(f):
    return read_or_empty(f.stderr_path).count("Reloaded (")


def test_rules_change_is_picked_up_by_inotify(falco_bin, tmp_path):
    f = start(falco_bin, tmp_path)
    try:
        assert f.post([audit_event("delete", "configmaps", "c1")]) == 200
        rules_path(tmp_path).write_text(RULES + EXTRA_RULE)
        wait_for(lambda: reloads(f) == 1, what="a reload after the file changed")
        assert f.post([audit_event("delete", "configmaps", "c2")]) == 200
        wait_for(lambda: "Test Configmap Delete" in rules_of(f), what="the new rule firing")
    finally:
        f.stop()
    assert rules_of(f) == ["Test Configmap Delete"]  # c1 came before the reload: no alert
    assert re.search(r"Reloaded \('.*rules\.yaml' changed\): 3 rules, 3 enabled", f.stderr)


def test_sighup_reloads_and_counts(falco_bin, tmp_path):
    web = free_port()
    extra = (f"watch_config_files: false\nwebserver:\n  enabled: true\n  listen_address: 127.0.0.1\n"
             f"  listen_port: {web}\n  prometheus_metrics_enabled: true\nmetrics:\n  enabled: true\n"
             f"  output_rule: false\n")
    f = start(falco_bin, tmp_path, extra)
    try:
        f.wait_port(web)
        assert f.post([audit_event()]) == 200
        wait_for(lambda: rules_of(f) == ["Test Pod Create"], what="first alert")
        rules_path(tmp_path).write_text(RULES + EXTRA_RULE)
        time.sleep(0.8)
        assert reloads(f) == 0  # not watched: nothing happens until SIGHUP
        f.send(signal.SIGHUP)
        wait_for(lambda: reloads(f) == 1, what="reload on SIGHUP")
        assert f.post([audit_event("delete", "configmaps", "c"), audit_event(name="again")]) == 200
        wait_for(lambda: len(rules_of(f)) == 3, what="alerts after the reload")
        fams = parse_prometheus(http_get(web, "/metrics")[2])
    finally:
        f.stop()
    assert value(fams, "falcosecurity_falco_reloads_total", result="success") == 1
    assert value(fams, "falcosecurity_falco_reload_timestamp_nanoseconds") > 0
    assert value(fams, "falcosecurity_falco_rules_loaded") == 3
    # the counter of a rule that survived the reload carries over
    assert value(fams, "falcosecurity_falco_rules_matches_total", rule_name="Test Pod Create") == 2
    assert "SIGHUP received, reopening outputs and reloading configuration and rules" in f.stderr


def test_broken_rules_keep_the_old_set_and_raise_a_critical_alert(falco_bin, tmp_path):
    web = free_port()
    extra = (f"webserver:\n  enabled: true\n  listen_address: 127.0.0.1\n  listen_port: {web}\n"
             f"  prometheus_metrics_enabled: true\nmetrics:\n  enabled: true\n  output_rule: false\n")
    f = start(falco_bin, tmp_path, extra)
    try:
        f.wait_port(web)
        rules_path(tmp_path).write_text(RULES + "\n- rule: Broken\n  condition: ka.verb = = x\n  output: x\n"
                                                "  priority: WARNING\n  desc: d\n  source: k8s_audit\n")
        wait_for(lambda: "Falco internal: reload failed" in rules_of(f), what="the reload failure alert")
        # the old rules still fire
        assert f.post([audit_event()]) == 200
        wait_for(lambda: "Test Pod Create" in rules_of(f), what="old rule still firing")
        fams = parse_prometheus(http_get(web, "/metrics")[2])
        assert value(fams, "falcosecurity_falco_reloads_total", result="failure") == 1
        assert value(fams, "falcosecurity_falco_rules_loaded") == 2
        # fixing the file recovers
        rules_path(tmp_path).write_text(RULES + EXTRA_RULE)
        wait_for(lambda: reloads(f) == 1, what="a successful reload")
    finally:
        f.stop()
    [fail] = [a for a in json_lines(f.stdout) if a["rule"] == "Falco internal: reload failed"]
    assert fail["priority"] == "Critical"
    assert fail["source"] == "internal"
    assert "rules.yaml" in fail["output_fields"]["reload.error"]
    assert "changed" in fail["output_fields"]["reload.trigger"]
    assert "keeping the configuration and rules in use" in f.stderr


def test_broken_config_keeps_the_old_config_and_raises_a_critical_alert(falco_bin, tmp_path):
    """A configuration file that does not load (bad value, then bad YAML) is refused as a whole, with its
    file:line:column: the running configuration stays (priority threshold, tags property), a Critical alert says so,
    and the next good version is applied."""
    cfg = tmp_path / "falco.yaml"
    f = start(falco_bin, tmp_path)
    good = cfg.read_text()
    try:
        # a new priority threshold together with a bad value: nothing of this version may be applied
        cfg.write_text(good + "json_include_tags_property: false\npriority: loud\n")
        wait_for(lambda: rules_of(f).count("Falco internal: reload failed") == 1, what="first failure alert")
        cfg.write_text(good + "priority: [\n")
        wait_for(lambda: rules_of(f).count("Falco internal: reload failed") == 2, what="second failure alert")
        # a Warning rule: it only fires while the old priority threshold holds
        assert f.post([audit_event()]) == 200
        wait_for(lambda: "Test Pod Create" in rules_of(f), what="old configuration still in use")
        cfg.write_text(good + "priority: error\n")
        wait_for(lambda: reloads(f) == 1, what="the fixed configuration applied")
        assert f.post([audit_event(name="after"), audit_event("get", "secrets", "s")]) == 200
        wait_for(lambda: "Test Secret Get" in rules_of(f), what="alert after the fixed reload")
    finally:
        f.stop()
    alerts = json_lines(f.stdout)
    fails = [a for a in alerts if a["rule"] == "Falco internal: reload failed"]
    assert [a["priority"] for a in fails] == ["Critical", "Critical"]
    assert re.search(r"falco\.yaml:\d+:\d+: priority: unknown priority 'loud'",
                     fails[0]["output_fields"]["reload.error"])
    assert re.search(r"falco\.yaml:\d+:\d+: ", fails[1]["output_fields"]["reload.error"])
    pods = [a for a in alerts if a["rule"] == "Test Pod Create"]
    assert len(pods) == 1 and "tags" in pods[0]  # the broken version's tags setting was not applied either
    assert [a["rule"] for a in alerts if a["source"] == "k8s_audit"] == ["Test Pod Create", "Test Secret Get"]
    assert f.stderr.count("keeping the configuration and rules in use") == 2


def test_config_changes_live_and_restart_only(falco_bin, tmp_path):
    cfg = tmp_path / "falco.yaml"
    f = start(falco_bin, tmp_path)
    try:
        assert f.post([audit_event()]) == 200
        wait_for(lambda: rules_of(f) == ["Test Pod Create"], what="first alert")
        # live: priority threshold (the Warning rule is no longer loaded), tags property; restart-only: an
        # output channel and the webserver
        text = cfg.read_text().replace("json_output: true\n", "")
        cfg.write_text(text + "json_output: true\npriority: error\njson_include_tags_property: false\n"
                              "file_output:\n  enabled: true\n  filename: /tmp/never-used-by-this-test\n")
        wait_for(lambda: reloads(f) == 1, what="reload after the configuration changed")
        assert f.post([audit_event(), audit_event("get", "secrets", "s")]) == 200
        wait_for(lambda: len(rules_of(f)) == 2, what="the alert after the reload")
    finally:
        f.stop()
    first, second = json_lines(f.stdout)
    assert "tags" in first and "tags" not in second
    assert second["rule"] == "Test Secret Get"
    assert "configuration changes that need a restart were not applied: file_output" in f.stderr
    assert not os.path.exists("/tmp/never-used-by-this-test")


def test_rules_directory_gets_a_new_file(falco_bin, tmp_path):
    d = tmp_path / "rules.d"
    d.mkdir()
    (d / "a.yaml").write_text(RULES)
    f = LiveFalcoLog(falco_bin, tmp_path, config_extra=f"json_output: true\nrules_files:\n  - {d}\n", env=UTC,
                     rules=False)
    try:
        (d / "notes.txt").write_text("not a rules file")
        time.sleep(0.8)
        assert reloads(f) == 0
        (d / "b.yaml").write_text(EXTRA_RULE)
        wait_for(lambda: reloads(f) == 1, what="a reload for the new file")
        assert f.post([audit_event("delete", "configmaps", "c")]) == 200
        wait_for(lambda: rules_of(f) == ["Test Configmap Delete"], what="rule from the new file")
    finally:
        f.stop()


def test_burst_of_changes_is_debounced(falco_bin, tmp_path):
    f = start(falco_bin, tmp_path)
    try:
        for i in range(20):
            rules_path(tmp_path).write_text(RULES + f"\n# edit {i}\n")
            time.sleep(0.02)
        wait_for(lambda: reloads(f) >= 1, what="a reload")
        time.sleep(1.0)
    finally:
        f.stop()
    assert reloads(f) <= 2


VERSIONED = """\
- required_engine_version: 0.26.0
- rule: Numbered
  desc: every numbered pod
  condition: ka.verb=create and ka.target.resource=pods
  output: {tag} n=%ka.target.name
  priority: WARNING
  source: k8s_audit
"""


def test_event_stream_through_reloads_loses_nothing(falco_bin, tmp_path):
    """Numbered events are POSTed continuously while the rules flip between two versions a few times (file
    changes and SIGHUPs): every event gives exactly one alert, from exactly one rule set, in order."""
    rules_path(tmp_path).write_text(VERSIONED.format(tag="V0"))
    f = LiveFalcoLog(falco_bin, tmp_path, "-r", str(rules_path(tmp_path)),
                     config_extra="json_output: true\n", env=UTC, rules=False)
    total, batch = 4000, 20
    sent = threading.Event()
    errors = []

    def sender():
        try:
            for start_n in range(0, total, batch):
                f.post([audit_event(name=f"n{i}") for i in range(start_n, start_n + batch)])
                time.sleep(0.01)  # a steady stream of about 3 s
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
        sent.set()

    try:
        t = threading.Thread(target=sender)
        t.start()
        flips = 0
        while not sent.is_set() and flips < 8:
            time.sleep(0.3)
            flips += 1
            rules_path(tmp_path).write_text(VERSIONED.format(tag=f"V{flips}"))
            if flips % 2 == 0:
                f.send(signal.SIGHUP)
        t.join()
        assert errors == []
        wait_for(lambda: read_or_empty(f.stdout_path).count("\n") >= total, timeout=30, what="all alerts")
        time.sleep(0.3)
    finally:
        f.stop()
    alerts = [a for a in json_lines(f.stdout) if a["rule"] == "Numbered"]
    nums = [int(a["output_fields"]["ka.target.name"][1:]) for a in alerts]
    assert len(nums) == total, f"{len(nums)} alerts for {total} events"
    assert nums == list(range(total))  # none lost, none twice, in order
    tags = [int(a["output"].split(" ")[2][1:]) for a in alerts]
    assert tags == sorted(tags)  # each event saw one rule set, and sets only move forward
    assert len(set(tags)) >= 3 and reloads(f) >= 2  # the stream really ran through several reloads


def test_reload_reopens_the_file_output_after_rotation(falco_bin, tmp_path):
    """logrotate's `mv` then a configuration touch (or SIGHUP): the reload reopens the file output."""
    out = tmp_path / "events.txt"
    f = start(falco_bin, tmp_path, f"file_output:\n  enabled: true\n  keep_alive: true\n  filename: {out}\n")
    try:
        assert f.post([audit_event(name="before")]) == 200
        wait_for(lambda: "before" in read_or_empty(out), what="first alert in the file")
        os.rename(out, tmp_path / "events.txt.1")
        cfg = tmp_path / "falco.yaml"
        cfg.write_text(cfg.read_text() + "\n# rotated\n")
        wait_for(lambda: reloads(f) == 1, what="reload")
        wait_for(lambda: out.exists(), what="file reopened")
        assert f.post([audit_event(name="after")]) == 200
        wait_for(lambda: "after" in read_or_empty(out), what="alert in the new file")
    finally:
        f.stop()
    assert "after" not in (tmp_path / "events.txt.1").read_text()
