#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Kernel-side cost of the probe on ../shared/bench/workload.c (run as root, after `make build/bin/falco-drvbench`).
# Usage: bench/driver_kernel.sh [SECONDS] [ROUNDS] [extra falco-drvbench options...]   (DRV=path: another harness)
# Per round: an empty tp_btf sys_exit program (the floor: the cost of bpf_stats' own clock reads and of the
# tracepoint), then the probe with the default event types (state base set + the stable rules' syscalls) while
# falco-drvbench consumes. Prints BPF ns per workload syscall (all programs, from run_time_ns / dispatcher runs) and
# per op, and the workload's ops/s. PERPROG=1 adds a line per program.
set -euo pipefail
secs=${1:-5}; rounds=${2:-3}; shift $(( $# > 2 ? 2 : $# )) || true
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$here/build}
drv=${DRV:-$build/bin/falco-drvbench}
shared=${SHARED_BENCH:-$here/../shared/bench}
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
gcc -O2 -o "$t/workload" "$shared/workload.c"
sysctl -qw kernel.bpf_stats_enabled=1
cat > "$t/empty.bpf.c" <<'C'
#define SEC(n) __attribute__((section(n), used))
SEC("tp_btf/sys_exit") int empty_exit(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";
C
clang -O2 -g -target bpf -c "$t/empty.bpf.c" -o "$t/empty.bpf.o"
cat > "$t/load.c" <<'C'
#include <bpf/libbpf.h>
#include <unistd.h>
int main(int c, char **v) { struct bpf_object *o = bpf_object__open_file(v[1], NULL);
  if (!o || bpf_object__load(o)) return 1; struct bpf_program *p = bpf_object__next_program(o, NULL);
  if (!bpf_program__attach(p)) return 1; pause(); return 0; }
C
gcc -O2 -o "$t/load" "$t/load.c" -lbpf
# Only the programs of the process being measured count (prog ids from its fds' fdinfo): other probes on the
# machine (another falco) are left out.
snap() { local ids; ids=$(cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '/^prog_id:/ {print $2}' | sort -u | xargs)
  bpftool prog show -j | python3 -c '
import json,sys
mine=set(sys.argv[1].split()); d=json.load(sys.stdin)
print(json.dumps({str(p["id"]):[p["name"],p.get("run_cnt",0),p.get("run_time_ns",0)] for p in d
      if str(p["id"]) in mine and p.get("name","").startswith(("handle_","sys_exit_","empty_exit"))}))' "$ids"; }
report() { python3 - "$1" "$2" "$3" "$4" "$5" <<'PY'
import json,sys
b=json.loads(sys.argv[1]); a=json.loads(sys.argv[2]); ops=float(sys.argv[3]); secs=float(sys.argv[4]); what=sys.argv[5]
tot=0; runs={}
for k,v in a.items():
    o=b.get(k,[v[0],0,0]); d=(v[1]-o[1], v[2]-o[2]); tot+=d[1]
    runs[v[0]]=(runs.get(v[0],(0,0))[0]+d[0], runs.get(v[0],(0,0))[1]+d[1])
sc=runs.get("handle_sys_exit", runs.get("empty_exit", (1,0)))[0]
import os
if os.environ.get("PERPROG"):  # per program (tail calls count in their caller's run time)
    for n,(c,t) in sorted(runs.items(), key=lambda x:-x[1][1]):
        if c:
            print(f"   {n:28s} runs/op {c/(ops*secs):6.2f}  ns/run {t/c:8.1f}  ns/op {t/(ops*secs):7.0f}")
print(f"{what:8s} ops/s {ops:8.0f}  syscalls {sc:8d}  BPF ns/syscall {tot/max(sc,1):6.1f}  BPF ns/op {tot/(ops*secs):7.0f}")
PY
}
for r in $(seq 1 "$rounds"); do
  "$t/load" "$t/empty.bpf.o" & lp=$!; sleep 1
  b=$(snap $lp); ops=$("$t/workload" "$secs" | awk '{print $2}'); a=$(snap $lp)
  kill $lp; wait $lp 2>/dev/null || true
  report "$b" "$a" "$ops" "$secs" "empty"
  "$drv" "$@" $((secs + 3)) 2>"$t/drv.err" & dp=$!; sleep 1.5
  b=$(snap $dp); ops=$("$t/workload" "$secs" | awk '{print $2}'); a=$(snap $dp)
  wait $dp
  report "$b" "$a" "$ops" "$secs" "probe"
  tail -1 "$t/drv.err"
done
