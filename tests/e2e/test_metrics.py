# SPDX-License-Identifier: Apache-2.0
"""Metrics end to end: /metrics scraped over HTTP and parsed strictly as Prometheus text (0.0.4), upstream's
switches (metrics.enabled and webserver.prometheus_metrics_enabled), upstream metric names, and the periodic
"Falco internal: metrics snapshot" through the outputs and into metrics.output_file."""
import json
import os
import threading

import pytest

from conftest import free_port
from falcod import audit_event, json_lines, read_or_empty, wait_for
from outputs_support import LiveFalcoLog, http_get, parse_prometheus, value

UTC = dict(os.environ, TZ="UTC", FALCO_HOSTNAME="test-host")


def web_cfg(port, prom=True, metrics=True, extra_metrics=""):
    return (f"webserver:\n  enabled: true\n  listen_address: 127.0.0.1\n  listen_port: {port}\n"
            f"  prometheus_metrics_enabled: {str(prom).lower()}\n"
            f"metrics:\n  enabled: {str(metrics).lower()}\n  interval: 1h\n  output_rule: false\n{extra_metrics}")


def test_parser_rejects_what_prometheus_rejects():
    with pytest.raises(ValueError):
        parse_prometheus("# TYPE a counter\na 1\n# TYPE a counter\na 2\n")
    with pytest.raises(ValueError):
        parse_prometheus("# TYPE a counter\na{x=\"1\"} 1\na{x=\"1\"} 2\n")
    with pytest.raises(ValueError):
        parse_prometheus("b 1\n")
    with pytest.raises(ValueError):
        parse_prometheus('# TYPE a gauge\na{x="unterminated} 1\n')
    fams = parse_prometheus('# HELP a h\n# TYPE a gauge\na{x="q\\"uo\\\\te\\n"} 1.5\n')
    assert fams["a"]["samples"] == [("a", {"x": 'q"uo\\te\n'}, 1.5)]


def test_metrics_scrape(falco_bin, tmp_path):
    web = free_port()
    f = LiveFalcoLog(falco_bin, tmp_path, config_extra=web_cfg(web), env=UTC)
    try:
        f.wait_port(web)
        events = [audit_event(name=f"p{i}") for i in range(7)] + [audit_event("get", "secrets", "s")] * 2
        assert f.post(events) == 200
        wait_for(lambda: read_or_empty(f.stdout_path).count("\n") == 9, what="9 alerts")
        status, ctype, text = http_get(web, "/metrics")
    finally:
        f.stop()
    assert status == 200
    assert ctype == "text/plain; version=0.0.4"
    fams = parse_prometheus(text)
    # upstream's names and labels
    assert value(fams, "falcosecurity_falco_version_info", version="0.1.0") == 1
    assert value(fams, "falcosecurity_evt_hostname_info", hostname="test-host") == 1
    assert value(fams, "falcosecurity_scap_engine_name_info", evt_source="k8s_audit") == 1
    pod = value(fams, "falcosecurity_falco_rules_matches_total", rule_name="Test Pod Create", priority="4",
                source="k8s_audit", tag_alpha="true", tag_k8s="true", tag_zeta="true")
    assert pod == 7
    assert value(fams, "falcosecurity_falco_rules_matches_total", rule_name="Test Secret Get",
                 priority="3") == 2
    assert fams["falcosecurity_falco_rules_matches_total"]["type"] == "counter"
    assert value(fams, "falcosecurity_falco_outputs_queue_num_drops_total") == 0
    assert value(fams, "falcosecurity_falco_duration_seconds_total") >= 0
    assert value(fams, "falcosecurity_falco_start_timestamp_nanoseconds") > 1.6e18
    assert value(fams, "falcosecurity_falco_host_num_cpus_total") >= 1
    assert value(fams, "falcosecurity_falco_memory_rss_bytes") > 1 << 20
    assert 0 <= value(fams, "falcosecurity_falco_cpu_usage_ratio") <= os.cpu_count()
    assert value(fams, "falcosecurity_falco_reload_timestamp_nanoseconds") == 0
    # ours
    assert value(fams, "falcosecurity_falco_num_evts_total", evt_source="k8s_audit") == 9
    assert value(fams, "falcosecurity_falco_alerts_total", priority="Warning", source="k8s_audit") == 7
    assert value(fams, "falcosecurity_falco_alerts_total", priority="Error", source="k8s_audit") == 2
    assert value(fams, "falcosecurity_falco_rules_loaded") == 2
    assert value(fams, "falcosecurity_falco_rules_enabled") == 2
    assert value(fams, "falcosecurity_falco_reloads_total", result="success") == 0
    assert value(fams, "falcosecurity_falco_outputs_written_total", output="stdout") == 9
    assert value(fams, "falcosecurity_falco_outputs_queue_capacity", output="stdout") == 16384
    assert fams["falcosecurity_falco_outputs_queue_size"]["type"] == "gauge"
    # no driver in this build: no scap counters at all rather than zeros that look real
    assert "falcosecurity_scap_n_evts_total" not in fams
    assert all(n.startswith(("falcosecurity_falco_", "falcosecurity_scap_", "falcosecurity_evt_"))
               for n in fams)


@pytest.mark.parametrize("prom,metrics", [(True, False), (False, True)])
def test_metrics_needs_both_switches(falco_bin, tmp_path, prom, metrics):
    web = free_port()
    f = LiveFalcoLog(falco_bin, tmp_path, config_extra=web_cfg(web, prom, metrics), env=UTC)
    try:
        f.wait_port(web)
        assert http_get(web, "/metrics")[0] == 404
        assert http_get(web, "/healthz")[0] == 200
    finally:
        f.stop()


def test_scrapes_race_with_events(falco_bin, tmp_path):
    """Scrapes on the webserver thread while the engine counts: every scrape parses, counters never go back."""
    web = free_port()
    f = LiveFalcoLog(falco_bin, tmp_path, "-o", "stdout_output.enabled=false", config_extra=web_cfg(web),
                     env=UTC)
    errors, last = [], [0]
    stop = threading.Event()

    def scraper():
        while not stop.is_set():
            try:
                fams = parse_prometheus(http_get(web, "/metrics")[2])
                v = value(fams, "falcosecurity_falco_num_evts_total", evt_source="k8s_audit")
                if v < last[0]:
                    errors.append(f"went back {last[0]} -> {v}")
                last[0] = v
            except Exception as e:  # noqa: BLE001 - collected for the assertion
                errors.append(repr(e))

    try:
        f.wait_port(web)
        t = threading.Thread(target=scraper)
        t.start()
        for i in range(40):
            assert f.post([audit_event(name=f"p{i}-{k}") for k in range(25)]) == 200
        stop.set()
        t.join()
        fams = parse_prometheus(http_get(web, "/metrics")[2])
    finally:
        stop.set()
        f.stop()
    assert errors == []
    assert value(fams, "falcosecurity_falco_num_evts_total", evt_source="k8s_audit") == 1000


def test_periodic_snapshot_as_internal_alert_and_file(falco_bin, tmp_path):
    web = free_port()
    snap_file = tmp_path / "metrics.jsonl"
    extra = (f"json_output: true\nmetrics:\n  enabled: true\n  interval: 200ms\n  output_rule: true\n"
             f"  output_file: {snap_file}\n")
    f = LiveFalcoLog(falco_bin, tmp_path, config_extra=extra, env=UTC)
    try:
        assert f.post([audit_event()]) == 200
        wait_for(lambda: read_or_empty(snap_file).count("\n") >= 3, what="three snapshots in the file")
        wait_for(lambda: '"Test Pod Create"' in read_or_empty(f.stdout_path), what="the alert")
    finally:
        f.stop()
    snaps = [a for a in json_lines(f.stdout) if a["rule"] == "Falco internal: metrics snapshot"]
    assert len(snaps) >= 2
    s = snaps[-1]
    assert s["source"] == "internal"
    assert s["priority"] == "Informational"
    assert s["output"] == "Falco metrics snapshot"
    of = s["output_fields"]
    assert of["falco.version"] == "0.1.0"
    assert of["evt.source"] == "k8s_audit"
    assert of["evt.hostname"] == "test-host"
    assert of["falco.num_evts"] == 1
    assert of["falco.rules.Test_Pod_Create"] == 1
    assert of["falco.rules.matches_total"] == 1
    assert of["falco.outputs_queue_num_drops"] == 0
    assert of["falco.memory_rss_mb"] > 1
    assert isinstance(of["evt.time"], int)
    file_snaps = [json.loads(l) for l in read_or_empty(snap_file).splitlines()]
    assert all(x["rule"] == "Falco internal: metrics snapshot" for x in file_snaps)
    assert "falco.num_evts" in file_snaps[-1]["output_fields"]


def test_snapshot_text_mode(falco_bin, tmp_path):
    extra = "metrics:\n  enabled: true\n  interval: 150ms\n  output_rule: true\n"
    f = LiveFalcoLog(falco_bin, tmp_path, config_extra=extra, env=UTC)
    try:
        wait_for(lambda: "Falco metrics snapshot" in read_or_empty(f.stdout_path), what="a snapshot")
    finally:
        f.stop()
    line = next(l for l in f.stdout.splitlines() if "Falco metrics snapshot" in l)
    assert ": Informational Falco metrics snapshot (" in line
    assert " falco.num_evts=0 " in line


def test_interval_below_minimum_is_refused(falco_bin, tmp_path):
    from conftest import run
    from falcod import falco_cmd
    r = run(falco_cmd(falco_bin, tmp_path, "--dry-run", "-o", "metrics.interval=50ms"))
    assert r.returncode != 0
    assert "below the minimum of 100ms" in r.stderr


def test_driver_counters_with_the_live_syscall_source(falco_bin, tmp_path):
    from syscall_support import bpf_prerequisites
    why = bpf_prerequisites()
    if why:
        pytest.skip(why)
    web = free_port()
    extra = web_cfg(web, extra_metrics="  kernel_event_counters_per_cpu_enabled: true\n")
    f = LiveFalcoLog(falco_bin, tmp_path, "-o", "stdout_output.enabled=false", config_extra=extra, env=UTC,
                     driver=True)
    try:
        f.wait_port(web, timeout=60)

        def scap_events():
            fams = parse_prometheus(http_get(web, "/metrics")[2])
            return "falcosecurity_scap_n_evts_total" in fams and \
                value(fams, "falcosecurity_scap_n_evts_total") > 0
        wait_for(scap_events, timeout=60, what="driver counters in /metrics")
        fams = parse_prometheus(http_get(web, "/metrics")[2])
    finally:
        f.stop()
    assert value(fams, "falcosecurity_scap_engine_name_info", evt_source="syscall") == 1
    assert value(fams, "falcosecurity_falco_num_evts_total", evt_source="syscall") > 0
    drops = fams["falcosecurity_scap_n_drops_buffer_total"]
    assert fams["falcosecurity_scap_n_drops_buffer_total"]["type"] == "counter"
    assert {l["drop"] for (_, l, _) in drops["samples"]} >= {"clone_fork", "execve", "open", "connect",
                                                             "close", "proc_exit", "other_interest"}
    assert value(fams, "falcosecurity_scap_n_drops_total") >= 0
    per_cpu = fams["falcosecurity_scap_n_evts_cpu_total"]["samples"]
    assert len(per_cpu) >= 1 and sum(v for (_, _, v) in per_cpu) > 0
    assert {l["cpu"] for (_, l, _) in per_cpu} == {str(i) for i in range(len(per_cpu))}
