# SPDX-License-Identifier: Apache-2.0
"""The binaries exist and report their version."""
from conftest import run


def test_falco_version(falco_bin):
    r = run([falco_bin, "--version"])
    assert r.returncode == 0
    assert "Falco version" in r.stdout


def test_falcoctl_version(falcoctl_bin):
    r = run([falcoctl_bin, "version"])
    assert r.returncode == 0
    assert "falcoctl" in r.stdout
