#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Reader wakeup strategies of the driver, measured with falco-drvbench as the consumer (run as root):
#   timer   BPF_RB_NO_WAKEUP on every record; the reader drains on an adaptive timer (500 us doubling to 30 ms)
#   thresh  the probe forces a wakeup when a ring's unread data crosses 512 KiB (bpf_ringbuf_query per record);
#           the reader sleeps in poll() on the rings, with the same timer as a fallback
#   each    libbpf's default: wake whenever the reader has caught up (one wakeup per record at low rates)
# For the storm (dup/close, unpaced) and the workload: records/s, drops, consumer CPU, poll wakeups, BPF ns/syscall.
# Usage: bench/driver_wakeup.sh [SECONDS]
set -euo pipefail
secs=${1:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$here/build}
drv=$build/bin/falco-drvbench
shared=${SHARED_BENCH:-$here/../shared/bench}
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
gcc -O2 -o "$t/workload" "$shared/workload.c"
gcc -O2 -o "$t/storm" "$shared/storm.c"
sysctl -qw kernel.bpf_stats_enabled=1
bpfns() { bpftool prog show -j | python3 -c '
import json,sys
d=json.load(sys.stdin); ps=[p for p in d if p.get("name","").startswith(("handle_","sys_exit_"))]
print(sum(p.get("run_time_ns",0) for p in ps), sum(p.get("run_cnt",0) for p in ps if p["name"]=="handle_sys_exit"))'; }
for load in storm workload; do
  for mode in "timer 0" "thresh 524288" "each each"; do
    set -- $mode
    "$drv" --wakeup "$2" $((secs + 3)) 2>"$t/drv.err" & dp=$!; sleep 1.5
    read -r n0 c0 < <(bpfns)
    rate=$("$t/$load" "$secs" | awk '{print $2}')
    read -r n1 c1 < <(bpfns)
    wait $dp
    python3 - "$load" "$1" "$rate" "$((n1 - n0))" "$((c1 - c0))" "$(tail -1 "$t/drv.err")" <<'PY'
import re,sys
load,mode,rate,ns,runs,err=sys.argv[1:]
g=lambda k: re.search(k, err).group(1)
drops=g(r"drops_buffer (\d+)"); cpu=g(r"consumer CPU ([0-9.]+) s"); wk=g(r"poll wakeups (\d+)")
per=int(ns)/max(int(runs),1)
print(f"{load:8s} {mode:6s} rate {float(rate):10.0f}/s  drops {drops:>6s}  consumer CPU {cpu:>6s}s  "
      f"poll wakeups {wk:>7s}  BPF ns/syscall {per:6.1f}")
PY
  done
done
