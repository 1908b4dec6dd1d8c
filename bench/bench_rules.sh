#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Rules load speed: `falco -V` as a whole process (exec, dynamic linking, config, YAML, compile, exit), timed
# from spawn to reap, N runs each, median / min / max / p90, the median CPU time of the process (user+sys: what
# a run costs when it does not wait for a core, the steadier figure on a shared machine) and its peak RSS.
#   1. upstream's stable file:        falco -c falco/falco.yaml -V falco_rules.yaml
#   2. stable + sandbox files:        falco -c falco/falco.yaml -V falco_rules.yaml -V falco-sandbox_rules.yaml
#   3. the shipped k8s audit rules:   falco -c falco/falco.yaml -V rules/k8s_audit_rules.yaml
#   4. `falco --version` (process start and exit alone, the floor under 1-3)
# Goal (issue 2 §5): 2. ≤ 5 ms. Usage: bench/bench_rules.sh [N]   (BUILD=build; UPSTREAM=dir of upstream rules;
# BASE=path of another falco binary: its cases run interleaved with ours, for an A/B on the same machine state)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ROOT=${ROOT:-$(dirname "$here")}
BUILD=${BUILD:-build}
FALCO=$ROOT/$BUILD/bin/falco
N=${1:-200}
UPSTREAM=${UPSTREAM:-$ROOT/../shared/upstream-rules}
[ -x "$FALCO" ] || { echo "missing $FALCO: run make"; exit 1; }
cd "$ROOT"

cases=()
if [ -f "$UPSTREAM/falco_rules.yaml" ] && [ -f "$UPSTREAM/falco-sandbox_rules.yaml" ]; then
    cases+=("stable|-c falco/falco.yaml -V $UPSTREAM/falco_rules.yaml")
    cases+=("stable+sandbox|-c falco/falco.yaml -V $UPSTREAM/falco_rules.yaml -V $UPSTREAM/falco-sandbox_rules.yaml")
else
    echo "note: $UPSTREAM missing, upstream cases skipped"
fi
cases+=("k8s_audit (shipped)|-c falco/falco.yaml -V rules/k8s_audit_rules.yaml")
cases+=("--version|--version")

echo "host: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $N runs per case, alternating"
/usr/bin/python3 - "$FALCO" "$N" "${BASE:-}" "${cases[@]}" <<'EOF'
import os, shlex, statistics, sys, time
falco, n, base = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cases = [(name, falco, args) for name, args in (c.split("|", 1) for c in sys.argv[4:])]
if base:
    cases += [(name + " [BASE]", base, args) for name, _, args in cases]
devnull = os.open(os.devnull, os.O_RDWR)
times = {name: [] for name, _, _ in cases}
cpu = {name: [] for name, _, _ in cases}  # user+sys of the process: what it costs without waiting for a core
rss = {name: 0 for name, _, _ in cases}
# peak RSS from GNU time when present: wait4's ru_maxrss of a child spawned from Python counts Python's pages
if os.access("/usr/bin/time", os.X_OK):
    import subprocess
    for name, exe, args in cases:
        p = subprocess.run(["/usr/bin/time", "-f", "maxrss_kb=%M", exe] + shlex.split(args),
                           capture_output=True, text=True)
        kb = [l.split("=")[1] for l in p.stderr.splitlines() if l.startswith("maxrss_kb=")]
        rss[name] = int(kb[0]) if kb else 0
argv = {name: [exe] + shlex.split(args) for name, exe, args in cases}
for name, a in argv.items():  # warm the page cache; check it passes
    pid = os.posix_spawn(a[0], a, os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, st, _ = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(st) != 0:
        sys.exit(f"{name}: falco {' '.join(a[1:])} exited {os.waitstatus_to_exitcode(st)}")
for i in range(n):  # interleave the cases so drift in machine load hits them all alike
    for name, a in argv.items():
        t0 = time.perf_counter()
        pid = os.posix_spawn(a[0], a, os.environ,
                             file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
        _, _, ru = os.wait4(pid, 0)
        times[name].append((time.perf_counter() - t0) * 1e3)
        cpu[name].append((ru.ru_utime + ru.ru_stime) * 1e3)
print(f"{'case':<29} {'median ms':>9} {'min':>7} {'p90':>7} {'max':>7} {'stdev':>6} {'CPU ms':>7} {'RSS MiB':>8}")
for name, _, args in cases:
    t = sorted(times[name])
    p90 = t[min(len(t) - 1, int(len(t) * 0.9))]
    print(f"{name:<29} {statistics.median(t):9.2f} {t[0]:7.2f} {p90:7.2f} {t[-1]:7.2f} "
          f"{statistics.pstdev(t):6.2f} {statistics.median(cpu[name]):7.2f} {rss[name] / 1024:8.1f}")
for name, exe, args in cases:
    print(f"  {name}: {os.path.relpath(exe)} {args}")
EOF
