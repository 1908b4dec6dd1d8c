#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Kernel-side cost of one event of each hot kind (run as root, after `make build/bin/falco-drvbench`).
# Usage: bench/driver_events.sh [SECONDS] [ROUNDS]   (DRV=path: another harness)
# For each case, alternating ROUNDS times: falco-drvbench with nothing the loop does made interesting (ptrace: the
# floor, bpf_stats' own clock reads included), then with one event type; bench/driver_loop.c runs one syscall mix.
# Per event = (BPF ns per sys_exit run with the type - floor) * syscalls per iteration / events per iteration,
# counting only the harness's own programs (prog ids from its fdinfo). Prints median and range over the rounds.
set -euo pipefail
secs=${1:-1}; rounds=${2:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$here/build}
drv=${DRV:-$build/bin/falco-drvbench}
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
gcc -O2 -o "$t/loop" "$here/bench/driver_loop.c"
sysctl -qw kernel.bpf_stats_enabled=1
snap() { local ids; ids=$(cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '/^prog_id:/ {print $2}' | sort -u | xargs)
  bpftool prog show -j | python3 -c '
import json,sys
mine=set(sys.argv[1].split()); c=n=0
for p in json.load(sys.stdin):
    if str(p["id"]) in mine and p.get("name","").startswith(("handle_","sys_exit_")):
        n+=p.get("run_time_ns",0); c+=p.get("run_cnt",0) if p["name"]=="handle_sys_exit" else 0
print(c,n)' "$ids"; }
run() { # types mix -> ns per dispatcher run
  local dp c0 n0 c1 n1
  "$drv" --types "$1" "$(python3 -c "print($secs + 2.5)")" 2>"$t/drv.err" >/dev/null & dp=$!; sleep 1.2
  read -r c0 n0 < <(snap $dp); "$t/loop" "$secs" "$2" >/dev/null; read -r c1 n1 < <(snap $dp)
  wait $dp
  python3 -c "print(($n1-$n0)/max($c1-$c0,1))"; }
# name types mix syscalls-per-iteration events-per-iteration
cases="close:close:dup:2:1 dup:dup:dup:2:1 socket:socket:socket:2:1 openat:openat:open:2:1
connect:connect:connect:5:1 accept:accept,accept4:connect:5:1"
for c in $cases; do
  IFS=: read -r name types mix per ev <<<"$c"
  vals=()
  for r in $(seq 1 "$rounds"); do
    f=$(run ptrace "$mix"); v=$(run "$types" "$mix")
    vals+=("$(python3 -c "print(f'{($v-$f)*$per/$ev:.0f}:{$f:.0f}')")")
  done
  python3 - "$name" "${vals[@]}" <<'PY'
import statistics,sys
ev=[float(v.split(':')[0]) for v in sys.argv[2:]]; fl=[float(v.split(':')[1]) for v in sys.argv[2:]]
print(f"{sys.argv[1]:8s} ns/event median {statistics.median(ev):5.0f} range {min(ev):4.0f}-{max(ev):4.0f}   "
      f"floor ns/run median {statistics.median(fl):4.0f}")
PY
done
