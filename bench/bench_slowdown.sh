#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# How much slower ../shared/bench/workload.c runs while falco watches it (issue 3 §4: ≤ 5% with the shipped rules),
# as production runs it: kernel.bpf_stats_enabled=0 (bpf_stats adds two clock reads to every program run, which
# ../shared/bench/side_by_side.sh switches on to report BPF time; bench/driver_kernel.sh measures that side).
#
# Each round runs the workload SECS s three ways, the order reversed every other round so slow drift of the
# machine does not favour one of them:
#   none   nothing attached
#   empty  an empty tp_btf/sys_exit program: what any syscall tracer costs before running an instruction of its own
#          (the traced-syscall slow path and the tracepoint)
#   falco  build/bin/falco with rules/falco_rules.yaml, from "probe attached" on
# and prints ops/s of each and the ratios to "none" of the same round, and the workload's own CPU time per op
# (user + system of it and its children, from wait4: the probe's programs run in its context and are charged to
# it, while time spent waiting for a CPU taken by another tenant is not). The summary is the median of each
# ratio. The machine is shared, so only ratios within one run mean anything.
#
# Needs root. Usage: bench/bench_slowdown.sh [ROUNDS] [SECS]   (BUILD=build, SHARED=../shared/bench)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ROOT=${ROOT:-$(dirname "$here")}
BUILD=${BUILD:-build}
FALCO=$ROOT/$BUILD/bin/falco
ROUNDS=${1:-6}
SECS=${2:-5}
SHARED=${SHARED:-$ROOT/../shared/bench}
RULES=$ROOT/rules/falco_rules.yaml

if [ "$(id -u)" != 0 ]; then echo "skipped: needs root for the eBPF probe"; exit 0; fi
[ -x "$FALCO" ] || { echo "missing $FALCO: run make"; exit 1; }
[ -f "$SHARED/workload.c" ] || { echo "skipped: $SHARED/workload.c missing"; exit 0; }

tmp=$(mktemp -d /tmp/bench_slowdown.XXXXXX)
pid=
stats0=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$stats0"
	rm -rf "$tmp"
}
trap cleanup EXIT
sysctl -qw kernel.bpf_stats_enabled=0

cc -O2 -o "$tmp/workload" "$SHARED/workload.c"
cat >"$tmp/empty.bpf.c" <<'C'
#define SEC(n) __attribute__((section(n), used))
SEC("tp_btf/sys_exit") int empty_exit(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";
C
clang -O2 -g -target bpf -c "$tmp/empty.bpf.c" -o "$tmp/empty.bpf.o"
cat >"$tmp/load.c" <<'C'
#include <bpf/libbpf.h>
#include <stdio.h>
#include <unistd.h>
int main(int c, char **v)
{
	struct bpf_object *o = bpf_object__open_file(v[c - 1], NULL);
	if (!o || bpf_object__load(o) || !bpf_program__attach(bpf_object__next_program(o, NULL)))
		return 1;
	fprintf(stderr, "probe attached\n");
	pause();
	return 0;
}
C
cc -O2 -o "$tmp/load" "$tmp/load.c" -lbpf
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

start() { # command...: runs it in the background until it says "probe attached"
	rm -f "$tmp/err"
	"$@" >/dev/null 2>"$tmp/err" &
	pid=$!
	for _ in $(seq 600); do
		grep -q "probe attached" "$tmp/err" 2>/dev/null && { sleep 1; return 0; }
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "did not attach: $*"
	cat "$tmp/err"
	exit 1
}
stop() {
	kill -TERM "$pid"
	wait "$pid" || true
	pid=
}
run() { # what -> ops/s
	case $1 in
	empty) start "$tmp/load" "$tmp/empty.bpf.o" ;;
	falco) start "$FALCO" -c "$tmp/falco.yaml" -r "$RULES" ;;
	esac
	# "ops/s cpu_us_per_op"
	python3 -c '
import os, subprocess, sys
p = subprocess.Popen([sys.argv[1], sys.argv[2]], stdout=subprocess.PIPE, text=True)
out = p.stdout.read()
_, _, ru = os.wait4(p.pid, 0)
ops = float(out.split()[1])
print(f"{ops:.0f} {(ru.ru_utime + ru.ru_stime) * 1e6 / (ops * float(sys.argv[2])):.2f}")' "$tmp/workload" "$SECS"
	[ "$1" = none ] || stop
}

echo "workload.c ${SECS}s per run, $ROUNDS rounds, bpf_stats off, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
ratios_e=()
ratios_f=()
cpu_e=()
cpu_f=()
for r in $(seq "$ROUNDS"); do
	order="none empty falco"
	[ $((r % 2)) = 0 ] && order="falco empty none"
	declare -A ops=() cpu=()
	for w in $order; do
		read -r o c < <(run "$w")
		ops[$w]=$o
		cpu[$w]=$c
	done
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
	re=$(ratio "${ops[empty]}" "${ops[none]}")
	rf=$(ratio "${ops[falco]}" "${ops[none]}")
	ce=$(ratio "${cpu[empty]}" "${cpu[none]}")
	cf=$(ratio "${cpu[falco]}" "${cpu[none]}")
	ratios_e+=("$re")
	ratios_f+=("$rf")
	cpu_e+=("$ce")
	cpu_f+=("$cf")
	printf 'round %2d  ops/s none %6d  empty %6d  falco %6d  (empty/none %s  falco/none %s)' \
		"$r" "${ops[none]}" "${ops[empty]}" "${ops[falco]}" "$re" "$rf"
	printf '   CPU us/op none %s  empty %s  falco %s  (%s  %s)\n' \
		"${cpu[none]}" "${cpu[empty]}" "${cpu[falco]}" "$ce" "$cf"
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
awk -v e="$(median "${ratios_e[@]}")" -v f="$(median "${ratios_f[@]}")" \
	-v ce="$(median "${cpu_e[@]}")" -v cf="$(median "${cpu_f[@]}")" 'BEGIN {
	printf "median ops/s empty/none %.3f (slowdown %.1f%%), falco/none %.3f (slowdown %.1f%%; goal <= 5%%)\n",
	       e, (1 - e) * 100, f, (1 - f) * 100
	printf "median CPU per op empty/none %.3f (+%.1f%%), falco/none %.3f (+%.1f%%)\n", ce, (ce - 1) * 100, cf, (cf - 1) * 100 }'
