#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Syscall source, userspace side: events per CPU-second through decode + state + rules (shipped rules), live on the
# probe and from a capture replay, plus the daemon's RSS with the ring buffers reported apart.
#
#   1. live: falco -r rules/falco_rules.yaml -w CAP runs while ../shared/bench/workload.c and storm.c generate
#      syscalls; falco's own CPU time (utime+stime of its process) and the events it processed give events/CPU-s;
#      its RSS is sampled from /proc/PID/smaps: the anon_inode:bpf-map mappings (the rings, mapped twice by the
#      kernel) are reported separately from the rest.
#   2. replay: falco -e CAP with the same rules; events / (user+sys CPU of the replay).
# Needs root (the probe). Usage: bench/bench_syscall.sh [WORKLOAD_SECONDS]   (BUILD=build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ROOT=${ROOT:-$(dirname "$here")}
BUILD=${BUILD:-build}
FALCO=$ROOT/$BUILD/bin/falco
SECS=${1:-8}
SHARED=${SHARED:-$ROOT/../shared/bench}
RULES=$ROOT/rules/falco_rules.yaml

if [ "$(id -u)" != 0 ]; then echo "skipped: needs root for the eBPF probe"; exit 0; fi
[ -x "$FALCO" ] || { echo "missing $FALCO: run make"; exit 1; }
[ -f "$SHARED/workload.c" ] || { echo "skipped: $SHARED/workload.c missing"; exit 0; }

tmp=$(mktemp -d /tmp/bench_syscall.XXXXXX)
fpid=
cleanup() {
    [ -n "$fpid" ] && kill -TERM "$fpid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
cc -O2 -o "$tmp/workload" "$SHARED/workload.c"
cc -O2 -o "$tmp/storm" "$SHARED/storm.c"
cat >"$tmp/falco.yaml" <<EOF
webserver:
  enabled: false
log_syslog: false
syslog_output:
  enabled: false
stdout_output:
  enabled: false
watch_config_files: false
EOF
ticks=$(getconf CLK_TCK)
cpu_of() { awk -v t="$ticks" '{print ($14 + $15) / t}' "/proc/$1/stat"; }
rss_of() {
    awk '/^[0-9a-f]+-[0-9a-f]+ /{ring = ($6 == "anon_inode:bpf-map")} /^Rss:/{ if (ring) r += $2; else o += $2 }
         END {printf "%d %d\n", o, r}' "/proc/$1/smaps"
}

# 1. live, twice: without a capture file (the detection figure), then with -w (which the replay reads)
live_run() { # $1: label, $2...: extra falco arguments
    local label=$1
    shift
    local cmd="$FALCO -c $tmp/falco.yaml -r $RULES -P $tmp/falco.pid $*"
    echo "+ $cmd   # while: workload $SECS s, then storm $((SECS / 2)) s"
    rm -f "$tmp/falco.pid"
    $cmd >"$tmp/live.out" 2>"$tmp/live.err" &
    for _ in $(seq 600); do
        grep -q "probe attached" "$tmp/live.err" 2>/dev/null && break
        sleep 0.1
    done
    grep -q "probe attached" "$tmp/live.err" || { echo "falco did not attach:"; cat "$tmp/live.err"; exit 1; }
    fpid=$(cat "$tmp/falco.pid")
    sleep 1
    read -r rss0 ring0 < <(rss_of "$fpid")
    c0=$(cpu_of "$fpid")
    "$tmp/workload" "$SECS" | sed 's/^/  workload: /'
    read -r rss1 ring1 < <(rss_of "$fpid")
    "$tmp/storm" "$((SECS / 2))" | sed 's/^/  storm: /'
    sleep 1
    read -r rss2 ring2 < <(rss_of "$fpid")
    c1=$(cpu_of "$fpid")
    kill -TERM "$fpid"
    while kill -0 "$fpid" 2>/dev/null; do sleep 0.1; done
    fpid=
    line=$(grep "Syscall source:" "$tmp/live.err" | tail -1)
    events=$(sed -n 's/.*Syscall source: \([0-9]*\) events.*/\1/p' <<<"$line")
    drops=$(sed -n 's/.* \([0-9]*\) drops counted.*/\1/p' <<<"$line")
    cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN{print b - a}')
    awk -v l="$label" -v e="$events" -v c="$cpu" -v d="$drops" 'BEGIN {
        printf "%s %d events, %.2f CPU-s in falco, %.2f M events per CPU-second, %d drops\n", l, e, c, e / c / 1e6, d }'
    maxrss=$(printf "%s\n%s\n%s\n" "$rss0" "$rss1" "$rss2" | sort -n | tail -1)
    maxring=$(printf "%s\n%s\n%s\n" "$ring0" "$ring1" "$ring2" | sort -n | tail -1)
    echo "        rss $((maxrss / 1024)) MB without the rings ($maxrss KB: heap, tables, libraries), rings $((maxring / 1024)) MB (peak of 3 samples)"
}
live_run "live:            "
live_run "live + capture:  " -w "$tmp/cap.fcap"

# 2. replay
cmd_rep="$FALCO -c $tmp/falco.yaml -r $RULES -e $tmp/cap.fcap"
echo "+ $cmd_rep"
size=$(stat -c %s "$tmp/cap.fcap")
t=$( { /usr/bin/time -f "%U %S %M" $cmd_rep >/dev/null 2>"$tmp/rep.err"; } 2>&1; tail -1 "$tmp/rep.err")
read -r u s m < <(tail -1 "$tmp/rep.err")
revents=$(sed -n "s/.*finished: \([0-9]*\) events.*/\1/p" "$tmp/rep.err")
awk -v e="$revents" -v u="$u" -v s="$s" -v m="$m" -v z="$size" 'BEGIN {
    printf "replay: %d events (%.0f MB capture), %.2f CPU-s (user %.2f, sys %.2f), %.2f M events per CPU-second, max RSS %d MB\n",
        e, z / 1048576, u + s, u, s, e / (u + s) / 1e6, m / 1024 }'
