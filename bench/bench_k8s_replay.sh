#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# k8s audit replay throughput: `falco -e FILE` of N copies of tests/fixtures/k8s/bench_pod_create.json (one
# 2.8 KB pod-create audit Event per line) through every shipped k8s rule (rules/k8s_audit_rules.yaml), pinned to
# one core (taskset -c 0, so falco's threads share it). Reports, per run, wall time, falco's CPU time (user+sys
# of the process, from wait4) and events per wall second and per CPU second, then the median of the runs. The
# machine is shared: events per CPU second is the steadier figure. Goal (issue 2 §5): >= 100k events/s on one core.
# Usage: bench/bench_k8s_replay.sh [EVENTS] [RUNS]   (BUILD=build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ROOT=${ROOT:-$(dirname "$here")}
BUILD=${BUILD:-build}
FALCO=$ROOT/$BUILD/bin/falco
N=${1:-200000}
RUNS=${2:-5}
[ -x "$FALCO" ] || { echo "missing $FALCO: run make"; exit 1; }

t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
cat >"$t/falco.yaml" <<'EOF'
webserver:
  enabled: false
log_syslog: false
syslog_output:
  enabled: false
stdout_output:
  enabled: false
json_output: false
engine:
  kind: nodriver
watch_config_files: false
EOF

echo "host: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $N events x $RUNS runs"
/usr/bin/python3 - "$FALCO" "$N" "$RUNS" "$ROOT" "$t" <<'EOF'
import os, statistics, subprocess, sys, time
falco, n, runs, root, t = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
line = open(os.path.join(root, "tests/fixtures/k8s/bench_pod_create.json"), "rb").read().strip() + b"\n"
events = os.path.join(t, "events.jsonl")
with open(events, "wb") as f:
    f.write(line * n)
rules = os.path.join(root, "rules/k8s_audit_rules.yaml")
argv = ["taskset", "-c", "0", falco, "-c", os.path.join(t, "falco.yaml"), "-r", rules, "-e", events]
print(f"event size {len(line) - 1} bytes; command: falco -c <bench falco.yaml> -r rules/k8s_audit_rules.yaml "
      f"-e <{n} events> (taskset -c 0)")
# a check run: the replay is accepted, and how many alerts it makes (none: this benign event goes through
# every rule's condition without a match, the costliest case for the engine)
# (peak RSS from GNU time when present: wait4's ru_maxrss of a child spawned from Python counts Python's pages)
gtime = ["/usr/bin/time", "-f", "maxrss_kb=%M"] if os.access("/usr/bin/time", os.X_OK) else []
alerts = subprocess.run(gtime + [falco, "-c", os.path.join(t, "falco.yaml"), "-r", rules, "-e", events,
                                 "-o", "stdout_output.enabled=true"], capture_output=True, text=True)
out = alerts.stderr.splitlines() + alerts.stdout.splitlines()
ndet = [l for l in out if "Events detected" in l]
rss = [l.split("=")[1] for l in out if l.startswith("maxrss_kb=")]
print(f"check run: {ndet[0].strip() if ndet else 'no summary'}"
      f"{f'; peak RSS {int(rss[0]) / 1024:.1f} MiB' if rss else ''}")
rows = []
for i in range(runs):
    with open(os.devnull, "wb") as dn:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=dn, stderr=dn)
        _, st, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(st) != 0:
        sys.exit(f"falco exited {os.waitstatus_to_exitcode(st)}")
    cpu = ru.ru_utime + ru.ru_stime
    rows.append((wall, cpu))
    print(f"  run {i + 1}: wall {wall:6.3f} s  cpu {cpu:6.3f} s  {n / wall:9.0f} events/s  "
          f"{n / cpu:9.0f} events/CPU-s  {cpu / n * 1e6:5.2f} us CPU/event")
wall = statistics.median(r[0] for r in rows)
cpu = statistics.median(r[1] for r in rows)
print(f"median: {n / wall:.0f} events/s (wall), {n / cpu:.0f} events/CPU-s, {cpu / n * 1e6:.2f} us CPU/event")
EOF
