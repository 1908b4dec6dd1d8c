# SPDX-License-Identifier: Apache-2.0
"""syslog_output end to end: falco runs in a private mount namespace whose /dev/log is a unix datagram socket
of ours, so glibc's syslog(3) really writes to our listener. The priority of each message is LOG_USER plus the
rule's priority as the syslog level."""
import os

import pytest

from conftest import run
from falcod import audit_event, falco_cmd, write_events
from outputs_support import UnixDgramListener, can_unshare, with_devlog

pytestmark = pytest.mark.skipif(not can_unshare(), reason="needs root and unshare -m")

UTC = dict(os.environ, TZ="UTC", FALCO_HOSTNAME="test-host")


def test_syslog_priorities_and_lines(falco_bin, tmp_path):
    listener = UnixDgramListener(tmp_path / "log.sock")
    try:
        events = [audit_event(), audit_event("get", "secrets", "s1")]
        cmd = falco_cmd(falco_bin, tmp_path, "-e", write_events(tmp_path, events),
                        "-o", "syslog_output.enabled=true", "-o", "stdout_output.enabled=false")
        r = run(with_devlog(tmp_path, cmd), env=UTC)
        assert r.returncode == 0, r.stderr
        msgs = listener.wait(lambda m: len(m) >= 2)
    finally:
        listener.close()
    assert len(msgs) == 2
    # <PRI> = facility LOG_USER (1) * 8 + level: Warning = 4, Error = 3
    assert msgs[0].startswith("<12>"), msgs[0]
    assert msgs[1].startswith("<11>"), msgs[1]
    assert " falco[" in msgs[0] or " falco: " in msgs[0]  # ident: the program name, or openlog()'s
    assert msgs[0].endswith("07:08:09.123456789: Warning Pod created (user=alice ns=shop pod=web code=201 "
                            "uri=/api/v1/namespaces/shop/pods)")
    assert "Error Secret read (user=alice name=s1)" in msgs[1]


def test_syslog_json_mode(falco_bin, tmp_path):
    listener = UnixDgramListener(tmp_path / "log.sock")
    try:
        cmd = falco_cmd(falco_bin, tmp_path, "-e", write_events(tmp_path, [audit_event()]),
                        "-o", "syslog_output.enabled=true", "-o", "json_output=true")
        r = run(with_devlog(tmp_path, cmd), env=UTC)
        assert r.returncode == 0, r.stderr
        [msg] = listener.wait(lambda m: len(m) >= 1)
    finally:
        listener.close()
    body = msg[msg.index("{"):]
    assert '"rule":"Test Pod Create"' in body
    assert body == r.stdout.strip()  # the same line as stdout's


def test_syslog_listener_gone_does_not_block(falco_bin, tmp_path):
    """No /dev/log reader at all: syslog(3) fails silently, the other outputs keep working."""
    cmd = falco_cmd(falco_bin, tmp_path, "-e", write_events(tmp_path, [audit_event()]),
                    "-o", "syslog_output.enabled=true")
    r = run(with_devlog(tmp_path, cmd), env=UTC, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "Pod created" in r.stdout
