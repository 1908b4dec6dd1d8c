# SPDX-License-Identifier: Apache-2.0
"""Upstream's rule files must validate with `falco -V` (skipped when ../shared/upstream-rules is absent).

The k8s audit file must load cleanly. The syscall files may, until the syscall source has every field they
use, fail only because of unknown fields: any other error (YAML, structure, overrides, macros, syntax) fails.
"""
import json
import os
import re

import pytest

from conftest import run

SYSCALL_FILES = ["falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"]
OTHER_FILES = ["k8s_audit_rules.yaml"]

# the only errors tolerated in syscall files: a field the syscall source does not provide yet
UNKNOWN_FIELD = re.compile(
    r"^(invalid formatting token \S+: )?filter_check called with nonexistent field [A-Za-z0-9_.]+(\[[^\]]*\])?$")


def _validate(falco_bin, *paths):
    cmd = [falco_bin]
    for p in paths:
        cmd += ["-V", p]
    p = run(cmd + ["-o", "json_output=true"], timeout=60)
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        pytest.fail(f"-V did not print JSON (rc={p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p.returncode, doc["falco_load_results"]


def _check_syscall_result(res):
    for e in res["errors"]:
        assert e["code"] in ("LOAD_ERR_COMPILE_CONDITION", "LOAD_ERR_COMPILE_OUTPUT"), e
        assert UNKNOWN_FIELD.match(e["message"]), e
        loc = e["context"]["locations"][-1]["position"]
        assert loc["line"] > 0 and loc["column"] > 0, e
    for w in res["warnings"]:
        assert w["code"] not in ("LOAD_UNKNOWN_KEY", "LOAD_UNKNOWN_ITEM", "LOAD_INVALID_MACRO_NAME",
                                 "LOAD_INVALID_LIST_NAME"), w


@pytest.mark.parametrize("name", SYSCALL_FILES)
def test_syscall_rules_fail_only_on_unknown_fields(falco_bin, upstream_rules, name):
    path = os.path.join(upstream_rules, name)
    rc, results = _validate(falco_bin, path)
    (res,) = results
    assert res["name"] == path
    _check_syscall_result(res)
    if res["successful"]:
        assert rc == 0
    else:
        assert rc == 1 and res["errors"]


@pytest.mark.parametrize("name", OTHER_FILES)
def test_plugin_rules_load_cleanly(falco_bin, upstream_rules, name):
    path = os.path.join(upstream_rules, name)
    rc, results = _validate(falco_bin, path)
    (res,) = results
    assert res["successful"], res["errors"]
    assert rc == 0
    assert res["errors"] == []


def test_all_files_together(falco_bin, upstream_rules):
    """Stable, incubating and sandbox redefine each other's lists and macros; loading them in one go must still
    give only unknown-field errors."""
    paths = [os.path.join(upstream_rules, n) for n in SYSCALL_FILES + OTHER_FILES]
    rc, results = _validate(falco_bin, *paths)
    assert [r["name"] for r in results] == paths
    for res in results:
        _check_syscall_result(res)
    assert results[-1]["errors"] == []
    assert rc == (0 if all(r["successful"] for r in results) else 1)
