# SPDX-License-Identifier: Apache-2.0
"""A receiver that hangs: its output's queue overflows and every drop is counted exactly (metrics, log line,
optional internal alert), the other outputs get everything, /healthz turns 503 with a reason, and shutdown stays
bounded by output_timeout."""
import json
import os
import re
import time

from conftest import free_port
from falcod import LiveFalco, audit_event, json_lines, read_or_empty, wait_for
from outputs_support import NODRIVER, LiveFalcoLog, Receiver, http_get, parse_prometheus, value

UTC = dict(os.environ, TZ="UTC", FALCO_HOSTNAME="test-host")
CAP = 5


def drop_reports(stderr):
    """The periodic drop reports of the http output: [(drops since the previous report, total)]."""
    return [(int(d), int(t)) for d, t in
            re.findall(r"output 'http' cannot keep up: (\d+) alerts dropped because its queue was full "
                       r"\((\d+) in total\)", stderr)]


def internal_alerts(path):
    return [a for a in json_lines(read_or_empty(path)) if a["source"] == "internal"]


def overflow_run(falco_bin, tmp_path, overflow_alert):
    rcv = Receiver(hang=True)
    web = free_port()
    alerts = tmp_path / "alerts.txt"
    extra = f"""
outputs_queue:
  capacity: {CAP}
  stall_timeout: 1000
  overflow_alert: {str(overflow_alert).lower()}
output_timeout: 1000
json_output: true
file_output:
  enabled: true
  filename: {alerts}
http_output:
  enabled: true
  url: {rcv.url}
  timeout_ms: 120000
webserver:
  enabled: true
  listen_address: 127.0.0.1
  listen_port: {web}
  prometheus_metrics_enabled: true
metrics:
  enabled: true
  interval: 1h
  output_rule: false
"""
    f = LiveFalcoLog(falco_bin, tmp_path, config_extra=extra, env=UTC)
    try:
        f.wait_port(web)
        assert http_get(web, "/healthz")[0] == 200
        # 1. one alert reaches the receiver and hangs there: the http worker is now blocked in it
        assert f.post([audit_event(name="first")]) == 200
        rcv.wait_hanging(1)
        # 2. 20 more, one request each (so the file output, with the same small queue, keeps up): 5 fit the
        #    http queue, 15 are dropped; the file output gets all of them
        n = 20
        for i in range(n):
            assert f.post([audit_event(name=f"p{i}")]) == 200
            wait_for(lambda: read_or_empty(alerts).count('"rule":"Test Pod Create"') == i + 2,
                     what=f"alert {i} in the file")
        fams = parse_prometheus(http_get(web, "/metrics")[2])
        assert value(fams, "falcosecurity_falco_outputs_drops_total", output="http") == n - CAP
        assert value(fams, "falcosecurity_falco_outputs_drops_total", output="file") == 0
        assert value(fams, "falcosecurity_falco_outputs_queue_size", output="http") == CAP
        assert value(fams, "falcosecurity_falco_outputs_queue_num_drops_total") == n - CAP
        # 3. health: wedged beyond stall_timeout -> 503 with the reason as JSON
        time.sleep(1.3)
        status, ctype, body = http_get(web, "/healthz")
        assert status == 503
        reason = json.loads(body)
        assert reason["status"] == "error"
        assert reason["reason"].startswith("output 'http' stalled")
        fams = parse_prometheus(http_get(web, "/metrics")[2])
        assert value(fams, "falcosecurity_falco_outputs_stalled_seconds", output="http") >= 1
        # 4. the periodic report: a log line at the next one-second tick, then at most one every 10 s, each
        #    with the drops since the previous one (a tick may fall between two posts above: then the rest
        #    comes with the next report), and the internal alert if asked for
        wait_for(lambda: max([t for _, t in drop_reports(read_or_empty(f.stderr_path))], default=0) >= n - CAP,
                 timeout=15, what="drop report covering every drop")
        if overflow_alert:
            wait_for(lambda: max([a["output_fields"]["output.drops_total"] for a in internal_alerts(alerts)],
                                 default=0) >= n - CAP, what="overflow alert covering every drop")
        t0 = time.monotonic()
    finally:
        rc = f.stop()
        rcv.stop()
    # 5. shutdown did not wait for the hung receiver beyond output_timeout (1 s) by much
    assert time.monotonic() - t0 < 8
    assert rc == 0, f.stderr
    reports = drop_reports(f.stderr)
    assert 1 <= len(reports) <= 2, reports  # rate limited, not one line per drop
    # each report covers the drops since the previous one; the internal alert of an earlier report (if any) was
    # refused by the http queue too
    assert sum(d for d, _ in reports) == reports[-1][1]
    assert n - CAP <= reports[-1][1] <= n - CAP + (len(reports) - 1 if overflow_alert else 0)
    assert f"output 'http': still blocked after 1000 ms, {CAP} alerts discarded" in f.stderr
    return n, f.stderr, internal_alerts(alerts)


def test_hanging_receiver_overflow_is_counted_exactly(falco_bin, tmp_path):
    n, stderr, internal = overflow_run(falco_bin, tmp_path, False)
    assert f"output 'http': {n - CAP} alerts dropped because its queue was full" in stderr
    assert internal == []


def test_overflow_internal_alert(falco_bin, tmp_path):
    n, stderr, internal = overflow_run(falco_bin, tmp_path, True)
    assert 1 <= len(internal) <= 2  # one per report
    for a in internal:
        assert a["rule"] == "Falco internal: output queue full"
        assert a["priority"] == "Error"
        assert a["output_fields"]["output.name"] == "http"
    last = internal[-1]["output_fields"]["output.drops_total"]
    assert sum(a["output_fields"]["output.drops"] for a in internal) == last
    assert n - CAP <= last <= n - CAP + len(internal) - 1
    # the internal alerts went to every output: the http queue refused them too, and that is counted
    assert f"output 'http': {n - CAP + len(internal)} alerts dropped because its queue was full" in stderr


def test_healthz_ok_when_receiver_recovers(falco_bin, tmp_path):
    rcv = Receiver(hang=True)
    web = free_port()
    extra = f"""
outputs_queue:
  stall_timeout: 800
http_output:
  enabled: true
  url: {rcv.url}
  timeout_ms: 120000
webserver:
  enabled: true
  listen_address: 127.0.0.1
  listen_port: {web}
"""
    f = LiveFalco(falco_bin, tmp_path, config_extra=NODRIVER + extra, env=UTC)
    try:
        f.wait_port(web)
        assert f.post([audit_event()]) == 200
        rcv.wait_hanging(1)
        wait_for(lambda: http_get(web, "/healthz")[0] == 503, what="503 while the receiver hangs")
        rcv.release()
        rcv.wait_requests(1)
        wait_for(lambda: http_get(web, "/healthz")[0] == 200, what="200 once it answers")
    finally:
        f.stop()
        rcv.stop()
