# SPDX-License-Identifier: Apache-2.0
"""rules/k8s_audit_rules.yaml end to end: `falco -r RULES -e EVENTS -o json_output=true`.

For every rule of the file there is an authored audit event that fires exactly that rule, and a benign twin
(the same request made harmless) that fires nothing. A coverage test makes sure no rule lacks a case.
"""
import copy
import json
import os
import re

import pytest

from conftest import ROOT, run

RULES = os.path.join(ROOT, "rules", "k8s_audit_rules.yaml")
ADMIN = "kubernetes-admin"
TS = "2024-05-06T07:08:09.123456789Z"


def event(verb, resource, name=None, ns=None, sub=None, user=ADMIN, groups=("system:masters",),
          stage="ResponseComplete", code=None, req=None, uri=None, decision="allow", audit_id="e2e"):
    """One audit.k8s.io/v1 Event, shaped like the API server's."""
    if code is None:
        code = 201 if verb == "create" else 200
    ref = {"resource": resource, "apiVersion": "v1"}
    if name:
        ref["name"] = name
    if ns:
        ref["namespace"] = ns
    if sub:
        ref["subresource"] = sub
    if uri is None:
        uri = "/api/v1/" + (f"namespaces/{ns}/" if ns else "") + resource + (f"/{name}" if name else "") + \
            (f"/{sub}" if sub else "")
    ev = {
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse", "auditID": audit_id,
        "stage": stage, "requestURI": uri, "verb": verb,
        "user": {"username": user, "groups": list(groups)},
        "sourceIPs": ["172.18.0.1"], "userAgent": "kubectl/v1.30.1 (linux/amd64) kubernetes/abc",
        "objectRef": ref,
        "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": TS, "stageTimestamp": TS,
        "annotations": {"authorization.k8s.io/decision": decision, "authorization.k8s.io/reason": "e2e"},
    }
    if req is not None:
        ev["requestObject"] = req
    return ev


def pod(image="nginx:1.25", privileged=None, host_network=None, host_path=None, init_privileged=None,
        debug_privileged=None):
    c = {"name": "app", "image": image}
    if privileged is not None:
        c["securityContext"] = {"privileged": privileged}
    spec = {"containers": [c]}
    if host_network is not None:
        spec["hostNetwork"] = host_network
    if host_path:
        spec["volumes"] = [{"name": "v", "hostPath": {"path": host_path}}]
        c["volumeMounts"] = [{"name": "v", "mountPath": "/host"}]
    if init_privileged is not None:
        spec["initContainers"] = [{"name": "init", "image": "busybox:1.36",
                                   "securityContext": {"privileged": init_privileged}}]
    if debug_privileged is not None:
        spec["ephemeralContainers"] = [{"name": "dbg", "image": "busybox:1.36",
                                        "securityContext": {"privileged": debug_privileged}}]
    return {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "web"}, "spec": spec}


def pod_create(**kw):
    return event("create", "pods", "web", "shop", req=pod(**kw))


def role(kind, name, rules, verb="update", ns=None):
    resource = "clusterroles" if kind == "ClusterRole" else "roles"
    return event(verb, resource, name, ns, req={"kind": kind, "metadata": {"name": name}, "rules": rules})


def binding(role_name, verb="update"):
    return event(verb, "clusterrolebindings", "ops-binding", req={
        "kind": "ClusterRoleBinding", "metadata": {"name": "ops-binding"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role_name},
        "subjects": [{"kind": "User", "name": "bob"},
                     {"kind": "ServiceAccount", "name": "ci", "namespace": "build"}]})


def service(svc_type, verb="update"):
    return event(verb, "services", "web", "shop",
                 req={"kind": "Service", "spec": {"type": svc_type, "ports": [{"port": 80, "nodePort": 30080}]}})


def configmap(data, verb="update"):
    return event(verb, "configmaps", "app-config", "shop", req={"kind": "ConfigMap", "data": data})


# rule -> (trigger event, benign twin, expected output_fields subset)
CASES = {
    "K8s Pod With Unapproved Image": (
        pod_create(image="evil.example.com/miner:6.1"), pod_create(image="nginx:1.25"),
        {"ka.user.name": ADMIN, "ka.target.name": "web", "ka.req.pod.containers.image": ["evil.example.com/miner:6.1"]}),
    "K8s Privileged Container": (
        pod_create(privileged=True), pod_create(privileged=False),
        {"ka.target.namespace": "shop", "ka.req.pod.containers.privileged": ["true"]}),
    "K8s Sensitive Host Path Mount": (
        pod_create(host_path="/etc"), pod_create(host_path="/data/app"),
        {"ka.req.pod.volumes.hostpath": ["/etc"]}),
    "K8s Pod Shares Host Namespaces": (
        pod_create(host_network=True), pod_create(host_network=False),
        {"ka.req.pod.host_network": "true", "ka.req.pod.host_pid": None}),
    "K8s Pod Or ServiceAccount In System Namespace": (
        event("create", "serviceaccounts", "backdoor", "kube-system"),
        event("get", "serviceaccounts", "backdoor", "kube-system"),
        {"ka.target.resource": "serviceaccounts", "ka.target.namespace": "kube-system"}),
    "K8s Exec Or Attach To Pod": (
        event("create", "pods", "web", "shop", sub="exec", stage="ResponseStarted", code=101,
              uri="/api/v1/namespaces/shop/pods/web/exec?command=sh&command=-c&container=app&stdin=true"),
        event("get", "pods", "web", "shop", sub="log", stage="ResponseStarted",
              uri="/api/v1/namespaces/shop/pods/web/log?container=app&follow=true"),
        {"ka.target.subresource": "exec", "ka.uri.param[command]": "sh", "ka.uri.param[container]": "app"}),
    "K8s NodePort Service": (
        service("NodePort"), service("ClusterIP"),
        {"ka.target.name": "web", "ka.req.service.ports": ['{"port":80,"nodePort":30080}']}),
    "K8s ConfigMap With Credentials": (
        configmap({"aws_access_key_id": "AKIAEXAMPLE", "region": "eu-west-1"}),
        configmap({"color": "blue"}),
        {"ka.req.configmap.name": "app-config", "ka.verb": "update"}),
    "K8s Namespace Outside Allowed Set": (
        event("create", "namespaces", "crypto-mining"), event("get", "namespaces", "crypto-mining"),
        {"ka.target.name": "crypto-mining", "ka.response.code": "201"}),
    "K8s Anonymous Request Allowed": (
        event("get", "secrets", ns="default", user="system:anonymous", groups=("system:unauthenticated",)),
        event("get", "healthz", user="system:anonymous", groups=("system:unauthenticated",), uri="/healthz"),
        {"ka.user.name": "system:anonymous", "ka.auth.reason": "e2e", "ka.sourceips": ["172.18.0.1"]}),
    "K8s System Role Modified": (
        event("patch", "clusterroles", "system:node", req={"metadata": {"labels": {"x": "y"}}}),
        event("patch", "clusterroles", "app-reader", req={"metadata": {"labels": {"x": "y"}}}),
        {"ka.target.name": "system:node", "ka.verb": "patch"}),
    "K8s Binding To Cluster Admin": (
        binding("cluster-admin"), binding("view"),
        {"ka.req.binding.subjects.user_names": ["bob"],
         "ka.req.binding.subjects.serviceaccount_ns_names": ["build:ci"]}),
    "K8s Role With Wildcard": (
        role("ClusterRole", "everything", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get"]}]),
        role("ClusterRole", "everything", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]),
        {"ka.target.name": "everything"}),
    "K8s Role With Pod Exec": (
        role("Role", "debugger", [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}], ns="shop"),
        role("Role", "debugger", [{"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]}], ns="shop"),
        {"ka.req.role.rules.resources": ["pods/exec"], "ka.req.role.rules.verbs": ["create"]}),
    "K8s Role With Write Access": (
        role("Role", "editor", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "update"]}],
             ns="shop"),
        role("Role", "editor", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}], ns="shop"),
        {"ka.req.role.rules.verbs": ["get", "update"]}),
    "K8s Request By Unexpected User": (
        event("list", "pods", ns="shop", user="mallory", groups=("devs",)),
        event("list", "pods", ns="shop"),
        {"ka.user.name": "mallory", "ka.user.groups": ["devs"]}),
    "K8s Deployment Created Or Deleted": (
        event("delete", "deployments", "web", "shop"), event("update", "deployments", "web", "shop"),
        {"ka.verb": "delete", "ka.target.name": "web"}),
    "K8s Service Created Or Deleted": (
        service("ClusterIP", verb="create"), service("ClusterIP"),
        {"ka.req.service.type": "ClusterIP", "ka.verb": "create"}),
    "K8s ConfigMap Created Or Deleted": (
        configmap({"color": "blue"}, verb="create"), configmap({"color": "blue"}),
        {"ka.target.name": "app-config"}),
    "K8s Namespace Created Or Deleted": (
        event("create", "namespaces", "monitoring"), event("get", "namespaces", "monitoring"),
        {"ka.target.name": "monitoring"}),
    "K8s ServiceAccount Created Or Deleted": (
        event("create", "serviceaccounts", "builder", "ci"), event("get", "serviceaccounts", "builder", "ci"),
        {"ka.target.name": "builder", "ka.target.namespace": "ci"}),
    "K8s Role Created Or Deleted": (
        role("Role", "reader", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}], verb="create",
             ns="shop"),
        event("get", "roles", "reader", "shop"),
        {"ka.target.resource": "roles", "ka.target.name": "reader"}),
    "K8s Binding Created Or Deleted": (
        binding("view", verb="create"), event("get", "clusterrolebindings", "ops-binding"),
        {"ka.req.binding.role": "view"}),
    "K8s Secret Created Or Deleted": (
        event("create", "secrets", "db-password", "shop"), event("get", "secrets", "db-password", "shop"),
        {"ka.target.name": "db-password"}),
}

FULL_AUDIT_RULE = "K8s Audit Event Logged"


def rule_names():
    try:
        import yaml
    except ImportError:  # PyYAML is optional: our file keeps every rule name on its own "- rule:" line
        with open(RULES) as f:
            return [m.group(1).strip() for m in re.finditer(r"^- rule: (.+)$", f.read(), re.M)]
    with open(RULES) as f:
        doc = yaml.safe_load(f)
    return [i["rule"] for i in doc if isinstance(i, dict) and "rule" in i]


def write_events(tmp_path, events, name="events.jsonl"):
    p = tmp_path / name
    with open(p, "w") as f:
        for i, e in enumerate(events):
            e = copy.deepcopy(e)
            e["auditID"] = f"{e['auditID']}-{i}"
            f.write(json.dumps(e, separators=(",", ":")) + "\n")
    return str(p)


def run_falco(falco_bin, events_file, extra_rules=(), extra_args=()):
    cmd = [falco_bin, "-r", RULES]
    for r in extra_rules:
        cmd += ["-r", r]
    cmd += ["-e", events_file, "-o", "json_output=true"] + list(extra_args)
    r = run(cmd, timeout=60)
    alerts = []
    for line in r.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if "rule" in obj:
                alerts.append(obj)
    return r, alerts


@pytest.fixture(scope="module")
def k8s_falco(falco_bin, tmp_path_factory):
    """falco, checked once to replay an audit file; a failure here fails the module rather than skipping it."""
    tmp = tmp_path_factory.mktemp("k8s-probe")
    events = write_events(tmp, [CASES["K8s Request By Unexpected User"][0]])
    r, alerts = run_falco(falco_bin, events)
    assert r.returncode == 0 and alerts, f"falco cannot replay k8s audit files (rc={r.returncode}): {r.stderr}"
    return falco_bin


def test_every_rule_has_a_case():
    names = rule_names()
    assert len(names) == len(set(names))
    missing = [n for n in names if n not in CASES and n != FULL_AUDIT_RULE]
    assert not missing, f"rules without an e2e case: {missing}"
    extra = [n for n in CASES if n not in names]
    assert not extra, f"cases for unknown rules: {extra}"


def check_fields(alert, want):
    fields = alert.get("output_fields", {})
    for k, v in want.items():
        assert k in fields, f"{k} missing from output_fields {sorted(fields)}"
        assert fields[k] == v, f"{k}: got {fields[k]!r}, want {v!r}"


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fires_and_twin_is_silent(k8s_falco, tmp_path, rule):
    trigger, twin, want = CASES[rule]
    r, alerts = run_falco(k8s_falco, write_events(tmp_path, [trigger]))
    assert r.returncode == 0, r.stderr
    assert [a["rule"] for a in alerts] == [rule], r.stdout
    a = alerts[0]
    assert a["source"] == "k8s_audit"
    assert "k8s" in a.get("tags", ["k8s"])
    assert a["time"] == "2024-05-06T07:08:09.123456789Z"
    check_fields(a, want)

    r, alerts = run_falco(k8s_falco, write_events(tmp_path, [twin], "twin.jsonl"))
    assert r.returncode == 0, r.stderr
    assert alerts == [], f"benign twin fired: {[a['rule'] for a in alerts]}"


def test_privileged_init_and_ephemeral_containers(k8s_falco, tmp_path):
    init = pod_create(init_privileged=True)
    debug = event("patch", "pods", "web", "shop", sub="ephemeralcontainers", req=pod(debug_privileged=True))
    r, alerts = run_falco(k8s_falco, write_events(tmp_path, [init, debug]))
    assert r.returncode == 0, r.stderr
    assert [a["rule"] for a in alerts] == ["K8s Privileged Container"] * 2
    assert alerts[0]["output_fields"]["ka.req.pod.initContainers.privileged"] == ["true"]
    assert alerts[1]["output_fields"]["ka.req.pod.ephemeralContainers.privileged"] == ["true"]


def test_full_audit_tracking_when_enabled(k8s_falco, tmp_path):
    benign = event("list", "pods", ns="shop")
    events = write_events(tmp_path, [benign])
    r, alerts = run_falco(k8s_falco, events)
    assert r.returncode == 0, r.stderr
    assert alerts == []
    enable = tmp_path / "enable.yaml"
    enable.write_text(f"- rule: {FULL_AUDIT_RULE}\n  enabled: true\n")
    r, alerts = run_falco(k8s_falco, events, extra_rules=[str(enable)])
    assert r.returncode == 0, r.stderr
    assert [a["rule"] for a in alerts] == [FULL_AUDIT_RULE]
    assert alerts[0]["priority"] == "Debug"
    check_fields(alerts[0], {"ka.verb": "list", "ka.target.resource": "pods"})


def test_malformed_lines_are_reported_and_fail_the_run(k8s_falco, tmp_path):
    good = CASES["K8s Request By Unexpected User"][0]
    p = tmp_path / "mixed.jsonl"
    p.write_text(json.dumps(good) + "\n{not json\n" + json.dumps({"kind": "Pod"}) + "\n")
    r, alerts = run_falco(k8s_falco, str(p))
    assert [a["rule"] for a in alerts] == ["K8s Request By Unexpected User"]
    assert r.returncode != 0
    assert f"{p}:2:" in r.stderr
    assert f"{p}:3: data not recognized as a k8s audit event" in r.stderr


def test_upstream_k8s_rules_load(k8s_falco, upstream_rules, tmp_path):
    """Upstream's k8s rules compile against our fields and fire on one of our events."""
    path = os.path.join(upstream_rules, "k8s_audit_rules.yaml")
    if not os.path.exists(path):
        pytest.skip("upstream k8s_audit_rules.yaml absent")
    r = run([k8s_falco, "-V", path], timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    priv = pod_create(privileged=True)
    cmd = [k8s_falco, "-r", path, "-e", write_events(tmp_path, [priv]), "-o", "json_output=true"]
    r = run(cmd, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "Create Privileged Pod" in r.stdout


# Upstream's k8s rules on our authored events: their macros, lists and fields must behave as upstream's plugin
# (create-only rules need verb=create; the twin events above mostly use update).
UPSTREAM_FIRES = [
    (lambda: binding("cluster-admin", verb="create"), {"Attach to cluster-admin Role"}),
    (lambda: role("ClusterRole", "everything", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get"]}],
                  verb="create"), {"ClusterRole With Wildcard Created"}),
    (lambda: role("Role", "d", [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}], ns="shop",
                  verb="create"), {"ClusterRole With Write Privileges Created", "ClusterRole With Pod Exec Created"}),
    (lambda: service("NodePort", verb="create"), {"Create NodePort Service"}),
    (lambda: pod_create(host_path="/etc"), {"Create Sensitive Mount Pod"}),
    (lambda: pod_create(host_network=True), {"Create HostNetwork Pod"}),
    (lambda: configmap({"aws_access_key_id": "AKIAEXAMPLE"}), {"Create/Modify Configmap With Private Credentials"}),
    (lambda: event("create", "pods", "web", "shop", sub="exec", stage="ResponseStarted",
                   uri="/api/v1/namespaces/shop/pods/web/exec?command=sh"),
     {"Attach/Exec Pod"}),
]


@pytest.mark.parametrize("i", range(len(UPSTREAM_FIRES)))
def test_upstream_k8s_rules_fire_on_our_events(k8s_falco, upstream_rules, tmp_path, i):
    path = os.path.join(upstream_rules, "k8s_audit_rules.yaml")
    if not os.path.exists(path):
        pytest.skip("upstream k8s_audit_rules.yaml absent")
    make, want = UPSTREAM_FIRES[i]
    cmd = [k8s_falco, "-c", "/dev/null", "-r", path, "-e", write_events(tmp_path, [make()]),
           "-o", "json_output=true", "-o", "rule_matching=all"]
    r = run(cmd, timeout=60)
    assert r.returncode == 0, r.stderr
    fired = {json.loads(line)["rule"] for line in r.stdout.splitlines() if line.startswith("{")}
    assert want <= fired, f"fired {sorted(fired)}"


def test_users_customise_through_lists_and_macros(k8s_falco, tmp_path):
    """A local rules file loaded after ours tunes it the upstream way: list appends and macro replacement."""
    image, _, _ = CASES["K8s Pod With Unapproved Image"]
    mount = pod_create(host_path="/data/app")
    exec_, _, _ = CASES["K8s Exec Or Attach To Pod"]
    events = write_events(tmp_path, [image, mount, exec_])
    r, alerts = run_falco(k8s_falco, events)
    assert r.returncode == 0, r.stderr
    assert [a["rule"] for a in alerts] == ["K8s Pod With Unapproved Image", "K8s Exec Or Attach To Pod"]

    local = tmp_path / "k8s_audit_rules.local.yaml"
    local.write_text(
        "- list: ka_allowed_image_repos\n  items: [evil.example.com/miner]\n  override:\n    items: append\n"
        "- list: ka_sensitive_host_paths\n  items: [/data/app]\n  override:\n    items: append\n"
        f"- list: ka_exec_ok_users\n  items: [{ADMIN}]\n  override:\n    items: replace\n")
    r, alerts = run_falco(k8s_falco, events, extra_rules=[str(local)])
    assert r.returncode == 0, r.stderr
    assert [a["rule"] for a in alerts] == ["K8s Sensitive Host Path Mount"]

    macro = tmp_path / "macro.local.yaml"
    macro.write_text("- macro: ka_exec_ok\n  condition: (ka.uri.param[container] = app)\n"
                     "  override:\n    condition: replace\n")
    r, alerts = run_falco(k8s_falco, events, extra_rules=[str(macro)])
    assert r.returncode == 0, r.stderr
    assert [a["rule"] for a in alerts] == ["K8s Pod With Unapproved Image"]


@pytest.mark.parametrize("path", ["/", "/var/run", "/run", "/var/lib/kubelet", "/run/containerd/containerd.sock"])
def test_sensitive_host_paths(k8s_falco, tmp_path, path):
    r, alerts = run_falco(k8s_falco, write_events(tmp_path, [pod_create(host_path=path)]))
    assert r.returncode == 0, r.stderr
    assert [a["rule"] for a in alerts] == ["K8s Sensitive Host Path Mount"]
    assert alerts[0]["output_fields"]["ka.req.pod.volumes.hostpath"] == [path]
