# SPDX-License-Identifier: Apache-2.0
"""journald_output end to end against a real systemd-journald: falco and a journald of its own run in a private
mount namespace (tmpfs /run, so the host is untouched), and journalctl reads back what was written."""
import os

import pytest

from falcod import audit_event, falco_cmd, write_events
from outputs_support import journald_available, run_with_journald

pytestmark = pytest.mark.skipif(not journald_available(), reason="needs root, unshare and systemd-journald")

UTC = dict(os.environ, TZ="UTC", FALCO_HOSTNAME="test-host")


def alerts(entries):
    return [e for e in entries if "FALCO_RULE" in e]


def test_journald_structured_fields(falco_bin, tmp_path):
    events = [audit_event(user="mal\nlory"), audit_event("get", "secrets", "s1")]
    cmd = falco_cmd(falco_bin, tmp_path, "-e", write_events(tmp_path, events),
                    "-o", "journald_output.enabled=true", "-o", "stdout_output.enabled=false")
    rc, out, err, entries = run_with_journald(tmp_path, cmd)
    assert rc == 0, err
    got = alerts(entries)
    assert len(got) == 2, entries
    pod, secret = got
    assert pod["FALCO_RULE"] == "Test Pod Create"
    assert pod["FALCO_PRIORITY"] == "Warning"
    assert pod["PRIORITY"] == "4"
    assert pod["FALCO_SOURCE"] == "k8s_audit"
    assert pod["FALCO_TAGS"] == "alpha,k8s,zeta"
    assert pod["FALCO_TIME"] == "2024-05-06T07:08:09.123456789Z"
    assert pod["SYSLOG_IDENTIFIER"] == "falco"
    # output fields, one journal field each; the newline survives in the value
    assert pod["FALCO_FIELD_KA_USER_NAME"] == "mal\nlory"
    assert pod["FALCO_FIELD_KA_TARGET_NAME"] == "web"
    assert pod["FALCO_FIELD_KA_RESPONSE_CODE"] == "201"
    assert pod["MESSAGE"].startswith("07:08:09.123456789: Warning Pod created (user=mal\\nlory ")
    assert secret["PRIORITY"] == "3"
    assert secret["FALCO_PRIORITY"] == "Error"
    assert secret["FALCO_FIELD_KA_TARGET_NAME"] == "s1"


def test_journald_json_mode_message_is_the_json_alert(falco_bin, tmp_path):
    cmd = falco_cmd(falco_bin, tmp_path, "-e", write_events(tmp_path, [audit_event()]),
                    "-o", "journald_output.enabled=true", "-o", "json_output=true")
    rc, out, err, entries = run_with_journald(tmp_path, cmd)
    assert rc == 0, err
    [a] = alerts(entries)
    assert a["MESSAGE"] == out.strip()
    assert a["FALCO_FIELD_EVT_TIME"] == "1714979289123456789"
    assert a["FALCO_FIELD_KA_TARGET_NAMESPACE"] == "shop"


def test_journald_missing_socket_is_reported(falco_bin, tmp_path):
    """Without a journal the sink reports its error and the other outputs are unaffected."""
    import subprocess
    cmd = falco_cmd(falco_bin, tmp_path, "-e", write_events(tmp_path, [audit_event()]),
                    "-o", "journald_output.enabled=true")
    script = "mount -t tmpfs tmpfs /run && exec \"$@\""
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"] + cmd,
                       capture_output=True, text=True, env=UTC, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "output 'journald': cannot send to the journal" in r.stderr
    assert "Pod created" in r.stdout
