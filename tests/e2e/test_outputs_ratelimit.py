# SPDX-License-Identifier: Apache-2.0
"""Alert rate limiting: off by default; outputs_rate_limit gives each rule its own token bucket; upstream's legacy
`outputs: {rate, max_burst}` is one bucket for every alert. Throttled matches are still counted as matches and
reported, never silently lost."""
import os

from conftest import run
from falcod import audit_event, falco_cmd, write_events

UTC = dict(os.environ, TZ="UTC", FALCO_HOSTNAME="test-host")
EVENTS = [audit_event(name=f"p{i}") for i in range(10)] + [audit_event("get", "secrets", f"s{i}") for i in range(3)]


def replay(falco_bin, tmp_path, extra=""):
    r = run(falco_cmd(falco_bin, tmp_path, "-e", write_events(tmp_path, EVENTS), config_extra=extra), env=UTC)
    assert r.returncode == 0, r.stderr
    alerts = [l for l in r.stdout.splitlines() if ": Warning " in l or ": Error " in l]
    return r, alerts


def test_off_by_default(falco_bin, tmp_path):
    r, alerts = replay(falco_bin, tmp_path)
    assert len(alerts) == 13
    assert "throttled" not in r.stdout + r.stderr


def test_per_rule_buckets(falco_bin, tmp_path):
    r, alerts = replay(falco_bin, tmp_path, "outputs_rate_limit:\n  rate: 0.001\n  max_burst: 2\n")
    assert sum("Pod created" in a for a in alerts) == 2
    assert sum("Secret read" in a for a in alerts) == 2
    assert "pod=p0 " in alerts[0] and "pod=p1 " in alerts[1]
    assert "Events detected: 13" in r.stdout  # matches are still matches
    assert "Alerts throttled by outputs_rate_limit: 9" in r.stdout
    assert "per rule" in r.stderr


def test_legacy_outputs_key_is_one_global_bucket(falco_bin, tmp_path):
    r, alerts = replay(falco_bin, tmp_path, "outputs:\n  rate: 0.001\n  max_burst: 3\n")
    assert len(alerts) == 3
    assert "Alerts throttled by outputs_rate_limit: 10" in r.stdout
    assert "all rules together" in r.stderr


def test_new_key_wins_over_legacy(falco_bin, tmp_path):
    r, alerts = replay(falco_bin, tmp_path, "outputs:\n  rate: 0.001\n  max_burst: 1\n"
                                            "outputs_rate_limit:\n  rate: 0.001\n  max_burst: 4\n")
    assert len(alerts) == 4 + 3
