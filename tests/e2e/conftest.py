# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures for the end-to-end tests: where the built binaries are, temp dirs, free ports."""
import os
import socket
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("FALCO_BUILD", os.path.join(ROOT, "build"))
UPSTREAM_RULES = os.path.join(os.path.dirname(ROOT), "shared", "upstream-rules")


def bin_path(name):
    return os.path.join(BUILD, "bin", name)


@pytest.fixture(scope="session")
def falco_bin():
    p = bin_path("falco")
    if not os.access(p, os.X_OK):
        pytest.fail(f"{p} is missing: run make first")
    return p


@pytest.fixture(scope="session")
def falcoctl_bin():
    p = bin_path("falcoctl")
    if not os.access(p, os.X_OK):
        pytest.fail(f"{p} is missing: run make first")
    return p


@pytest.fixture(scope="session")
def upstream_rules():
    """The folder of upstream's unmodified rule files; tests using it skip cleanly when it is absent."""
    if not os.path.isdir(UPSTREAM_RULES):
        pytest.skip(f"{UPSTREAM_RULES} not present")
    return UPSTREAM_RULES


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, timeout=60, **kw):
    """Runs a command, returning CompletedProcess with text stdout/stderr."""
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout, **kw)
