#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Syscall source, userspace side, with the shipped rules (rules/falco_rules.yaml). Per round, alternating:
#
#   live-workload  falco attached while ../shared/bench/workload.c runs SECS s: events through decode + state +
#                  rules per CPU-second of falco (all its threads, from /proc/PID/task/*/schedstat, ns exact; the
#                  tick-sampled utime+stime of /proc/PID/stat is printed alongside), drops, and its memory:
#                  VmRSS split into the ring buffers (the anon_inode:bpf-map mappings of 1 MiB or more: libbpf
#                  maps each ring's data pages twice, so their Rss counts the memory twice; "mem" halves it) and
#                  everything else (heap, tables, libraries: the figure the RSS goal is about).
#   live-storm     the same while ../shared/bench/storm.c (dup/close, unpaced) runs SECS/2 s: drops and events per
#                  CPU-second at the highest single-thread event rate we can make.
#   storm-alone    storm.c without falco: the unpaced rate the probe's cost is compared with.
#   replay-*       falco -w while the workload (SECS s), then the storm (SECS/4 s), run; then falco -e of each
#                  capture: events per CPU-second of the replay (user+sys from wait4's rusage), raw and net of the
#                  start-up (rules, snapshot: the replay of a capture of an idle 0.3 s, subtracted with its events).
#
# Needs root (the probe). Usage: bench/bench_syscall.sh [ROUNDS] [SECS]   (BUILD=build, SHARED=../shared/bench)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ROOT=${ROOT:-$(dirname "$here")}
BUILD=${BUILD:-build}
FALCO=$ROOT/$BUILD/bin/falco
ROUNDS=${1:-3}
SECS=${2:-6}
SHARED=${SHARED:-$ROOT/../shared/bench}
RULES=$ROOT/rules/falco_rules.yaml

if [ "$(id -u)" != 0 ]; then echo "skipped: needs root for the eBPF probe"; exit 0; fi
[ -x "$FALCO" ] || { echo "missing $FALCO: run make"; exit 1; }
[ -f "$SHARED/workload.c" ] && [ -f "$SHARED/storm.c" ] || { echo "skipped: $SHARED/{workload,storm}.c missing"; exit 0; }

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
sched_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%d\n", s}'; }
stat_s() { awk -v t="$ticks" '{printf "%.2f\n", ($14 + $15) / t}' "/proc/$1/stat"; }
# "other_kb ring_rss_kb": ring = bpf-map mappings of 1 MiB or more
rss_of() {
	awk '/^[0-9a-f]+-[0-9a-f]+ /{name = $6} /^Size:/{size = $2}
	     /^Rss:/{ if (name == "anon_inode:bpf-map" && size >= 1024) r += $2; else o += $2 }
	     END {printf "%d %d\n", o, r}' "/proc/$1/smaps"
}
declare -A R # metric -> space-separated values over rounds
add() { R[$1]="${R[$1]:-} $2"; }

start_falco() { # extra falco arguments
	rm -f "$tmp/falco.err"
	"$FALCO" -c "$tmp/falco.yaml" -r "$RULES" "$@" >/dev/null 2>"$tmp/falco.err" &
	fpid=$!
	for _ in $(seq 600); do
		grep -q "probe attached" "$tmp/falco.err" 2>/dev/null && return 0
		kill -0 "$fpid" 2>/dev/null || break
		sleep 0.05
	done
	echo "falco did not attach:"
	cat "$tmp/falco.err"
	exit 1
}
stop_falco() { # sets ev, dr: events and drops of the run (not in a subshell: fpid must be cleared here)
	kill -TERM "$fpid"
	wait "$fpid" || true
	fpid=
	read -r ev dr < <(sed -n 's/.*Syscall source: \([0-9]*\) events.* \([0-9]*\) drops counted.*/\1 \2/p' \
		"$tmp/falco.err" | tail -1)
}

live() { # label, command...
	local label=$1
	shift
	start_falco
	local n0 s0 n1 s1 rss ring out
	n0=$(sched_ns "$fpid")
	s0=$(stat_s "$fpid")
	out=$("$@")
	sleep 0.5 # let the pump drain what is left
	n1=$(sched_ns "$fpid")
	s1=$(stat_s "$fpid")
	read -r rss ring < <(rss_of "$fpid")
	stop_falco
	awk -v l="$label" -v o="$out" -v e="$ev" -v d="$dr" -v n="$((n1 - n0))" -v s0="$s0" -v s1="$s1" \
	    -v rss="$rss" -v ring="$ring" 'BEGIN {
		printf "  %-14s %-22s %9d events, %5.3f CPU-s (stat %4.2f), %5.2f M events/CPU-s, %d drops; rss %.1f MB + rings %.1f MB (mem %.1f MB)\n",
		       l, o, e, n / 1e9, s1 - s0, e / (n / 1e9) / 1e6, d, rss / 1024, ring / 1024, ring / 2048 }'
	add "$label.meps" "$(awk -v e="$ev" -v n="$((n1 - n0))" 'BEGIN {printf "%.2f", e / (n / 1e9) / 1e6}')"
	add "$label.drops" "$dr"
	add "$label.rss" "$(awk -v r="$rss" 'BEGIN {printf "%.1f", r / 1024}')"
	add "$label.rate" "$(awk '{print $2}' <<<"$out")"
}

cpu_of_run() { # command...: prints the user+sys seconds of the command (wait4's rusage, microseconds)
	python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=open(sys.argv[1], "w"))
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.6f" % (r.ru_utime + r.ru_stime))' "$tmp/cmd.err" "$@"
}

replay_of() { # label, command...: records falco -w while the command runs, then replays the capture
	local label=$1 cpu rev size
	shift
	rm -f "$tmp/cap.fcap"
	start_falco -w "$tmp/cap.fcap"
	"$@" >/dev/null
	sleep 0.5
	stop_falco
	cpu=$(cpu_of_run "$FALCO" -c "$tmp/falco.yaml" -r "$RULES" -e "$tmp/cap.fcap")
	rev=$(sed -n "s/.*finished: \([0-9]*\) events.*/\1/p" "$tmp/cmd.err")
	size=$(stat -c %s "$tmp/cap.fcap")
	awk -v l="$label" -v e="$rev" -v c="$cpu" -v s="$startup" -v z="$size" -v ce="$ev" -v cd="$dr" 'BEGIN {
		printf "  %-14s %d events (%.0f MB; recorded %d, %d drops while recording), %.3f CPU-s: %.2f M events/CPU-s, %.2f net of the start-up\n",
		       l, e, z / 1048576, ce, cd, c, e / c / 1e6, (e - be) / (c - s) / 1e6 }' be="$base_ev"
	add "$label.meps" "$(awk -v e="$rev" -v c="$cpu" 'BEGIN {printf "%.2f", e / c / 1e6}')"
	add "$label.net" "$(awk -v e="$rev" -v c="$cpu" -v s="$startup" -v be="$base_ev" 'BEGIN {printf "%.2f", (e - be) / (c - s) / 1e6}')"
}

echo "# $(date -u '+%F %T') $(uname -r), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $FALCO -c falco.yaml -r rules/falco_rules.yaml, rounds $ROUNDS, workload $SECS s, storm $((SECS / 2)) s"
# start-up of a replay (rules, the /proc snapshot): the replay of a capture of an idle 0.3 s, cheapest of 3
start_falco -w "$tmp/base.fcap"
sleep 0.3
stop_falco
startup=9 base_ev=0
for _ in 1 2 3; do
	c=$(cpu_of_run "$FALCO" -c "$tmp/falco.yaml" -r "$RULES" -e "$tmp/base.fcap")
	startup=$(awk -v a="$startup" -v b="$c" 'BEGIN {print (b < a ? b : a)}')
done
base_ev=$(sed -n "s/.*finished: \([0-9]*\) events.*/\1/p" "$tmp/cmd.err")
echo "# replay start-up: $startup CPU-s for a capture of $base_ev events (an idle 0.3 s)"
for round in $(seq "$ROUNDS"); do
	echo "round $round (load $(cut -d' ' -f1 /proc/loadavg))"
	live live-workload "$tmp/workload" "$SECS"
	live live-storm "$tmp/storm" "$((SECS / 2))"
	out=$("$tmp/storm" "$((SECS / 2))")
	echo "  storm-alone    $out"
	add storm-alone.rate "$(awk '{print $2}' <<<"$out")"
	# capture then replay, one capture per loop: the event mixes differ a lot
	replay_of replay-workload "$tmp/workload" "$SECS"
	replay_of replay-storm "$tmp/storm" "$((SECS / 4 > 0 ? SECS / 4 : 1))"
done

echo "summary over $ROUNDS rounds: median [min .. max]"
for k in live-workload.meps live-workload.rss live-workload.drops live-storm.meps live-storm.drops live-storm.rate \
	storm-alone.rate replay-workload.meps replay-workload.net replay-storm.meps replay-storm.net; do
	# shellcheck disable=SC2086
	printf '%s\n' ${R[$k]} | sort -g | awk -v k="$k" '{v[NR] = $1} END {
		printf "  %-20s %s [%s .. %s]\n", k, v[int((NR + 1) / 2)], v[1], v[NR] }'
done
