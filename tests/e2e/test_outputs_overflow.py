# SPDX-License-Identifier: Apache-2.0
"""A receiver that hangs: its output's queue overflows and every drop is counted exactly (metrics, log line,
optional internal alert), the other outputs get everything, /healthz turns 503 with a reason, and shutdown stays
bounded by output_timeout."""
import json
import os
import time

from conftest import free_port
from falcod import LiveFalco, audit_event, json_lines, read_or_empty, wait_for
from outputs_support import NODRIVER, LiveFalcoLog, Receiver, http_get, parse_prometheus, value

UTC = dict(os.environ, TZ="UTC", FALCO_HOSTNAME="test-host")
CAP = 5


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
        # 4. the periodic report (a log line within a second, and the internal alert if asked for)
        wait_for(lambda: "cannot keep up" in read_or_empty(f.stderr_path), what="drop report")
        if overflow_alert:
            wait_for(lambda: "Falco internal: output queue full" in read_or_empty(alerts),
                     what="overflow alert")
        t0 = time.monotonic()
    finally:
        rc = f.stop()
        rcv.stop()
    # 5. shutdown did not wait for the hung receiver beyond output_timeout (1 s) by much
    assert time.monotonic() - t0 < 8
    assert rc == 0, f.stderr
    assert f"output 'http' cannot keep up: {n - CAP} alerts dropped because its queue was full" in f.stderr
    assert f"output 'http': still blocked after 1000 ms, {CAP} alerts discarded" in f.stderr
    return n, f.stderr, [a for a in json_lines(read_or_empty(alerts)) if a["source"] == "internal"]


def test_hanging_receiver_overflow_is_counted_exactly(falco_bin, tmp_path):
    n, stderr, internal = overflow_run(falco_bin, tmp_path, False)
    assert f"output 'http': {n - CAP} alerts dropped because its queue was full" in stderr
    assert internal == []


def test_overflow_internal_alert(falco_bin, tmp_path):
    n, stderr, internal = overflow_run(falco_bin, tmp_path, True)
    [a] = internal
    assert a["rule"] == "Falco internal: output queue full"
    assert a["priority"] == "Error"
    assert a["output_fields"]["output.name"] == "http"
    assert a["output_fields"]["output.drops"] == n - CAP
    assert a["output_fields"]["output.drops_total"] == n - CAP
    # the internal alert went to every output: the http queue refused it too, and that is counted
    assert f"output 'http': {n - CAP + 1} alerts dropped because its queue was full" in stderr


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
