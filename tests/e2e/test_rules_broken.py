# SPDX-License-Identifier: Apache-2.0
"""Broken rules files: `falco -V FILE` must exit 1 and name the problem with FILE:LINE:COL and its code.

Each case is a small rules file, the position (line, column) the message must point at, the load code and a
piece of the message. The text output is checked for "FILE:LINE:COL", the JSON output (json_output=true) for
the same code and position in upstream's falco_load_results shape.
"""
import json
import re

import pytest

from conftest import run

# k8s_audit rules: that source has all its fields, so these cases do not depend on the syscall source's progress
RULE = "- rule: r\n  desc: d\n  output: o\n  priority: ERROR\n  source: k8s_audit\n"

# (name, content, line, column, code, message fragment)
CASES = [
    ("yaml_syntax", "- rule: r\n  desc: \"unterminated\n", 3, 1, "LOAD_ERR_YAML_PARSE", "quoted scalar"),
    ("yaml_indent", "- list: a\n  items: [a]\n - list: b\n", 3, 2, "LOAD_ERR_YAML_PARSE", "block collection"),
    ("not_a_sequence", "rule: r\ndesc: d\n", 1, 1, "LOAD_ERR_YAML_VALIDATE",
     "Rules content is not yaml array of objects"),
    ("item_not_a_map", "- list: l\n  items: [a]\n- just text\n", 3, 3, "LOAD_ERR_YAML_VALIDATE",
     "Each element should be a yaml associative array"),
    ("missing_output", "- rule: r\n  desc: d\n  condition: ka.verb = get\n  priority: ERROR\n", 1, 3,
     "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'output'"),
    ("bad_priority", "- rule: r\n  desc: d\n  condition: ka.verb = get\n  output: o\n  priority: SEVERE\n", 5, 13,
     "LOAD_ERR_YAML_VALIDATE", "Invalid priority"),
    ("condition_not_scalar", "- macro: m\n  condition: [a, b]\n", 2, 14, "LOAD_ERR_YAML_VALIDATE",
     "Value is not a scalar value"),
    ("items_not_sequence", "- list: l\n  items: a b c\n", 2, 10, "LOAD_ERR_YAML_VALIDATE",
     "Value is not a sequence"),
    ("bad_bool", "- rule: r\n  desc: d\n  condition: ka.verb = get\n  output: o\n  priority: ERROR\n  enabled: perhaps\n",
     6, 12, "LOAD_ERR_YAML_VALIDATE", "Can't decode YAML scalar value"),
    ("engine_too_new", "- required_engine_version: 0.999.0\n", 1, 3, "LOAD_ERR_VALIDATE",
     "Rules require engine version 0.999.0"),
    ("engine_not_semver", "- required_engine_version: new\n", 1, 3, "LOAD_ERR_YAML_VALIDATE",
     "Unable to parse engine version"),
    ("plugin_missing", "- required_plugin_versions:\n  - name: gitlab\n    version: 0.1.0\n", 2, 5,
     "LOAD_ERR_VALIDATE", "Plugin requirement not satisfied, must load one of: gitlab (>= 0.1.0)"),
    ("append_without_list", "- list: ghost\n  items: [a]\n  override:\n    items: append\n", 1, 3,
     "LOAD_ERR_VALIDATE", "no list by that name already exists"),
    ("append_without_macro", "- macro: ghost\n  condition: and x\n  append: true\n", 1, 3,
     "LOAD_ERR_VALIDATE", "no macro by that name already exists"),
    ("append_without_rule", "- rule: ghost\n  condition: and ka.verb = put\n  override:\n    condition: append\n",
     1, 3, "LOAD_ERR_VALIDATE", "no rule by that name already exists"),
    ("override_and_append", RULE.replace("r\n", "r\n  condition: ka.verb = get\n", 1) +
     "- rule: r\n  condition: and ka.verb != x\n  append: true\n  override:\n    condition: append\n", 7, 3,
     "LOAD_ERR_YAML_VALIDATE", "cannot be used together"),
    ("override_bad_operation", RULE.replace("r\n", "r\n  condition: ka.verb = get\n", 1) +
     "- rule: r\n  condition: and ka.verb != x\n  override:\n    condition: merge\n", 10, 16,
     "LOAD_ERR_YAML_VALIDATE", "Invalid override operation for key 'condition': 'merge'"),
    ("override_not_appendable", RULE.replace("r\n", "r\n  condition: ka.verb = get\n", 1) +
     "- rule: r\n  priority: DEBUG\n  override:\n    priority: append\n", 10, 5, "LOAD_ERR_YAML_VALIDATE",
     "Key 'priority' cannot be appended to, use 'replace' instead"),
    ("override_unlisted_key", RULE.replace("r\n", "r\n  condition: ka.verb = get\n", 1) +
     "- rule: r\n  condition: and ka.verb != x\n  desc: more\n  override:\n    condition: append\n", 7, 3,
     "LOAD_ERR_YAML_VALIDATE", "Unexpected key 'desc': no corresponding entry under 'override' is defined."),
    ("enable_unknown_rule", "- rule: ghost\n  enabled: false\n", 1, 3, "LOAD_ERR_VALIDATE",
     "Rule has 'enabled' key but no rule by that name already exists"),
    ("exception_bad_comp", RULE.replace("r\n", "r\n  condition: ka.verb = get\n", 1) +
     "  exceptions:\n    - name: e\n      fields: [ka.verb]\n      comps: [near]\n      values: [[1]]\n", 8, 7,
     "LOAD_ERR_VALIDATE", "'near' is not a supported comparison operator"),
    ("exception_lengths", RULE.replace("r\n", "r\n  condition: ka.verb = get\n", 1) +
     "  exceptions:\n    - name: e\n      fields: [ka.verb, ka.user.name]\n      values: [[1]]\n", 8, 7,
     "LOAD_ERR_VALIDATE", "Fields and values lists must have equal length"),
    ("exception_bad_field", RULE.replace("r\n", "r\n  condition: ka.verb = get\n", 1) +
     "  exceptions:\n    - name: e\n      fields: [ka.nope]\n      values: [[1]]\n", 8, 7,
     "LOAD_ERR_VALIDATE", "'ka.nope' is not a supported filter field"),
    ("condition_syntax", RULE.replace("r\n", "r\n  condition: ka.verb = get and (ka.verb = x\n", 1), 2, 44,
     "LOAD_ERR_COMPILE_CONDITION", "expected a ')' token"),
    ("condition_unknown_field", RULE.replace("r\n", "r\n  condition: ka.verb = get and ka.nope = 1\n", 1), 2, 32,
     "LOAD_ERR_COMPILE_CONDITION", "nonexistent field ka.nope"),
    ("macro_undefined", RULE.replace("r\n", "r\n  condition: ka.verb = get and\n    not_defined_anywhere\n", 1),
     3, 5, "LOAD_ERR_VALIDATE", "Undefined macro 'not_defined_anywhere' used in filter."),
    ("macro_loop", "- macro: a\n  condition: ka.verb = get\n- macro: b\n  condition: a\n"
     "- macro: a\n  condition: b\n", 4, 14, "LOAD_ERR_VALIDATE", "reference loop in macro 'a'"),
    ("macro_field_in_appended_text", "- macro: m\n  condition: ka.verb = get\n"
     "- macro: m\n  condition: or ka.bogus = 3\n  override:\n    condition: append\n" +
     RULE.replace("r\n", "r\n  condition: m\n", 1), 4, 17, "LOAD_ERR_COMPILE_CONDITION",
     "nonexistent field ka.bogus"),
    ("output_trailing_percent", RULE.replace("output: o", "output: 100%").replace(
        "r\n", "r\n  condition: ka.verb = get\n", 1), 4, 14, "LOAD_ERR_COMPILE_OUTPUT",
     "formatting cannot end with a %"),
    ("output_unknown_field", RULE.replace("output: o", "output: n=%ka.verb x=%ka.nope").replace(
        "r\n", "r\n  condition: ka.verb = get\n", 1), 4, 25, "LOAD_ERR_COMPILE_OUTPUT",
     "invalid formatting token ka.nope"),
    ("source_redefined", RULE.replace("r\n", "r\n  condition: ka.verb = get\n", 1) +
     RULE.replace("r\n", "r\n  condition: proc.name = x\n", 1).replace("k8s_audit", "syscall"), 7, 3,
     "LOAD_ERR_VALIDATE", "Rule has been re-defined with a different source"),
    ("macro_bomb", "- macro: m0\n  condition: ka.verb = get\n" +
     "".join(f"- macro: m{i}\n  condition: m{i - 1} or m{i - 1}\n" for i in range(1, 22)) +
     RULE.replace("r\n", "r\n  condition: m21\n", 1), 36, 21, "LOAD_ERR_VALIDATE",
     "Condition is too complex once macros are expanded"),
]


def _validate(falco_bin, path, *extra):
    return run([falco_bin, "-V", str(path), *extra], timeout=30)


@pytest.mark.parametrize("name,content,line,col,code,fragment", CASES, ids=[c[0] for c in CASES])
def test_broken_rules_file_text(falco_bin, tmp_path, name, content, line, col, code, fragment):
    path = tmp_path / f"{name}.yaml"
    path.write_text(content)
    p = _validate(falco_bin, path)
    out = p.stdout + p.stderr
    assert p.returncode == 1, out
    assert f"{path}:{line}:{col}" in out, out
    assert code in out, out
    assert fragment in out, out


@pytest.mark.parametrize("name,content,line,col,code,fragment", CASES, ids=[c[0] for c in CASES])
def test_broken_rules_file_json(falco_bin, tmp_path, name, content, line, col, code, fragment):
    path = tmp_path / f"{name}.yaml"
    path.write_text(content)
    p = _validate(falco_bin, path, "-o", "json_output=true")
    assert p.returncode == 1, p.stdout + p.stderr
    doc = json.loads(p.stdout)
    (res,) = doc["falco_load_results"]
    assert res["name"] == str(path)
    assert res["successful"] is False
    err = res["errors"][0]
    assert set(err) == {"code", "codedesc", "message", "context"}
    assert err["code"] == code
    assert fragment in err["message"]
    locs = err["context"]["locations"]
    assert locs[0]["item_type"] == "rules content"
    inner = locs[-1]["position"]
    assert (inner["name"], inner["line"], inner["column"]) == (str(path), line, col)
    assert isinstance(inner["offset"], int)
    assert isinstance(err["context"]["snippet"], str)


def test_at_least_twenty_kinds():
    assert len({c[4] + c[5] for c in CASES}) >= 20


def test_valid_file_passes(falco_bin, tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("- macro: m\n  condition: ka.verb = get\n" + RULE.replace("r\n", "r\n  condition: m\n", 1))
    p = _validate(falco_bin, path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert re.search(r"ok\.yaml: Ok", p.stdout), p.stdout


def test_missing_file(falco_bin, tmp_path):
    p = _validate(falco_bin, tmp_path / "absent.yaml")
    assert p.returncode == 1
    assert "LOAD_ERR_FILE_READ" in p.stdout + p.stderr
