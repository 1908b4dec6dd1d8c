#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Outputs benchmark.
#  1. Alerts per second to a JSON file output with falco pinned to one core (taskset -c 0: engine and output
#     workers share it): a replay of EVENTS k8s audit events that all match one rule, unbuffered and
#     buffered_outputs with keep_alive, unbuffered without keep_alive (upstream's default: open, write, close), next
#     to the same replay with no output at all (alerts formatted, then discarded). Rates count the alerts that
#     reached the file (drops at queue overflow are printed). Reported
#     as wall-clock alerts/s and as alerts per CPU second of falco (the machine is shared: see replay()).
#  2. A hanging HTTP receiver (accepts, reads, never answers): A = no http output, B = http_output to it.
#     Throughput: the same replay (both cores), events/s. Latency: live webhook at RATE events/s, each event
#     carrying its send time, tailed from a file output present in both A and B (the probe): send -> alert ms.
#     A and B alternate for ROUNDS rounds; the ratios B/A are printed (goal: within 5%).
# Each configuration runs ROUNDS times; summaries give mean, min and max, and the B/A ratios per round.
# AA=1: a control run of section 2 where B is configured like A (the ratios then show the noise floor).
# Usage: bench/bench_outputs.sh [EVENTS] [LATENCY_SECONDS] [ROUNDS] [RATE]   (BUILD=build; run `make` first)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ROOT=${ROOT:-$(dirname "$here")}
BUILD=${BUILD:-build}
falco=$ROOT/$BUILD/bin/falco
py=/usr/bin/python3
n=${1:-500000}
secs=${2:-8}
rounds=${3:-3}
rate=${4:-5000}
t=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$t"
}
trap cleanup EXIT

"$py" "$here/outputs_load.py" gen "$n" "$t/events.jsonl"
cat >"$t/rules.yaml" <<'EOF'
- rule: Pod Create
  desc: every pod creation
  condition: ka.verb=create and ka.target.resource=pods
  output: Pod created (user=%ka.user.name ns=%ka.target.namespace pod=%ka.target.name code=%ka.response.code)
  priority: WARNING
  source: k8s_audit
  tags: [k8s]
EOF
cat >"$t/base.yaml" <<EOF
webserver:
  enabled: false
log_syslog: false
syslog_output:
  enabled: false
stdout_output:
  enabled: false
json_output: true
output_timeout: 0
engine:
  kind: nodriver
watch_config_files: false
EOF
# output_timeout 0 (above) makes a run end without waiting for a blocked sink; the file runs drain fully
file_cfg=(-o file_output.enabled=true -o file_output.keep_alive=true -o "file_output.filename=$t/alerts.json"
    -o output_timeout=60000)

# replay NAME PIN ARGS...: prints "NAME: N alerts in S s = R alerts/s, C alerts per CPU second"; $last_rate gets R
# (wall clock), $last_cpu_rate C (alerts / falco's user+sys time, all its threads: what one core it had to itself
# would sustain; the machine is shared, so wall clock also measures the neighbours). Both are appended to
# $t/rate.<NAME with blanks as _> and $t/cpurate.<...> for summary.
replay() {
    local name=$1 pin=$2; shift 2
    local pinning=()
    [ "$pin" = 1 ] && pinning=(taskset -c 0)
    rm -f "$t/alerts.json"
    local TIMEFORMAT='%R %U %S'
    { time "${pinning[@]}" "$falco" -c "$t/base.yaml" -r "$t/rules.yaml" -e "$t/events.jsonl" "$@" \
        >/dev/null 2>"$t/err"; } 2>"$t/time"
    local wall cpu u sy
    read -r wall u sy <"$t/time"
    cpu=$(awk -v u="$u" -v s="$sy" 'BEGIN { print u + s }')
    # only alerts that reached the file count (a sink that cannot keep up drops at queue overflow)
    local got=$n
    [ -f "$t/alerts.json" ] && got=$(wc -l <"$t/alerts.json")
    last_rate=$(awk -v n="$got" -v w="$wall" 'BEGIN { printf "%.0f", n / w }')
    last_cpu_rate=$(awk -v n="$got" -v c="$cpu" 'BEGIN { printf "%.0f", n / c }')
    printf '  %-38s %7d alerts in %6.2f s = %7d alerts/s; CPU %5.2f s = %7d alerts/CPU-s%s\n' "$name" "$got" \
        "$wall" "$last_rate" "$cpu" "$last_cpu_rate" "$([ "$got" -lt "$n" ] && echo " ($((n - got)) DROPPED)")"
    echo "$last_rate" >>"$t/rate.${name// /_}"
    echo "$last_cpu_rate" >>"$t/cpurate.${name// /_}"
}

# summary NAME...: mean, min and max of the rates recorded for each NAME (wall clock, then per CPU second)
summary() {
    for name in "$@"; do
        for kind in rate cpurate; do
            awk -v name="$name" -v kind="$kind" '{ s += $1; if (n == 0 || $1 < lo) lo = $1; if ($1 > hi) hi = $1; n++ }
                END { printf "  summary %-38s %-14s mean %7.0f  min %7.0f  max %7.0f  (n=%d)\n", name,
                      kind == "rate" ? "alerts/s" : "alerts/CPU-s", s / n, lo, hi, n }' "$t/$kind.${name// /_}"
        done
    done
}

echo "--- 1. JSON alerts to a file, one core: taskset -c 0 falco -e <$n events> -o json_output=true"
for i in $(seq "$rounds"); do
    replay "no output (format only)" 1 -o file_output.enabled=false
    replay "file_output, unbuffered" 1 "${file_cfg[@]}" -o buffered_outputs=false
    replay "file_output, buffered_outputs" 1 "${file_cfg[@]}" -o buffered_outputs=true
    replay "file_output, default (no keep_alive)" 1 "${file_cfg[@]}" -o file_output.keep_alive=false
done
summary "no output (format only)" "file_output, unbuffered" "file_output, buffered_outputs" \
    "file_output, default (no keep_alive)"

echo "--- 2. hanging HTTP receiver (accepts, never answers)"
"$py" "$here/outputs_load.py" hang "$t/hang.port" &
pids+=($!)
for _ in $(seq 100); do [ -s "$t/hang.port" ] && break; sleep 0.05; done
hport=$(cat "$t/hang.port")
http_cfg=(-o http_output.enabled=true -o "http_output.url=http://127.0.0.1:$hport/" -o http_output.timeout_ms=600000)
if [ "${AA:-0}" = 1 ]; then
    # control run: B is configured exactly like A, so the B/A spread shows this machine's noise floor
    echo "  AA=1: control run, B has no http output either"
    http_cfg=(-o http_output.enabled=false)
fi

echo "  throughput: falco -e <$n events>, both cores; A = no output, B = http_output to the hanging receiver"
for i in $(seq "$rounds"); do
    replay "A: no output" 0 -o file_output.enabled=false
    a=$last_rate ca=$last_cpu_rate
    replay "B: http_output (hanging)" 0 "${http_cfg[@]}"
    awk -v a="$a" -v b="$last_rate" 'BEGIN { print b / a }' >>"$t/tput.ratio"
    awk -v a="$ca" -v b="$last_cpu_rate" 'BEGIN { print b / a }' >>"$t/cpu.ratio"
done
summary "A: no output" "B: http_output (hanging)"
for kind in tput cpu; do
    sort -g "$t/$kind.ratio" | awk -v kind="$kind" '{ v[NR] = $1; s += $1 }
        END { printf "  %s B/A per round: mean %.3f, median %.3f, min %.3f, max %.3f (n=%d)\n",
              kind == "tput" ? "throughput (alerts/s)" : "efficiency (alerts/CPU-s)", s / NR,
              (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR], NR }'
done

# live NAME ARGS...: falco with the webhook on a free port and a file output as the latency probe
live() {
    local name=$1; shift
    local port
    port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    rm -f "$t/alerts.json"
    "$falco" -c "$t/base.yaml" -r "$t/rules.yaml" -o k8s_audit.enabled=true -o k8s_audit.listen_address=127.0.0.1 \
        -o "k8s_audit.listen_port=$port" "${file_cfg[@]}" -o output_timeout=2000 "$@" >/dev/null 2>"$t/err" &
    local fp=$!
    for _ in $(seq 200); do
        "$py" -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
        sleep 0.05
    done
    local out
    out=$("$py" "$here/outputs_load.py" latency "$port" "$t/alerts.json" "$rate" "$secs")
    kill "$fp"; wait "$fp" || true
    echo "$out" | sed "s/^/  $name: /"
    echo "$out" | awk '/^latency_ms/ { print $3, $7 }' >>"$t/lat.$name"
}
# the probe has seen every alert before falco is stopped: output_timeout 2000 (not 60000) only bounds B's
# shutdown, where the http worker stays blocked in the hanging receiver

echo "  latency: webhook at $rate events/s for $secs s; probe = file output; A = no http output, B = + hanging http"
for i in $(seq "$rounds"); do
    live A
    live B "${http_cfg[@]}"
done
awk 'FNR == 1 { f++ } { p50[f] += $1; p99[f] += $2; n[f]++ }
     END { printf "  latency mean of rounds: A p50 %.3f ms p99 %.3f ms; B p50 %.3f ms p99 %.3f ms; B/A p50 %.3f p99 %.3f\n",
           p50[1] / n[1], p99[1] / n[1], p50[2] / n[2], p99[2] / n[2], (p50[2] / n[2]) / (p50[1] / n[1]),
           (p99[2] / n[2]) / (p99[1] / n[1]) }' "$t/lat.A" "$t/lat.B"
# per round (A and B of one round ran back to back): the spread of the ratio
paste "$t/lat.A" "$t/lat.B" | awk '{ r = $3 / $1; s += r; if (NR == 1 || r < lo) lo = r; if (r > hi) hi = r }
    END { printf "  latency p50 B/A per round: mean %.3f, min %.3f, max %.3f (n=%d)\n", s / NR, lo, hi, NR }'

# 3. The same comparison in instructions, which a busy machine does not blur: callgrind counts every instruction
#    falco executes (all threads) for a replay of min(EVENTS, 50000) events, A = no output, B = http_output to the
#    hanging receiver. B - A is what the hanging output costs event processing (plus libcurl's one-time setup).
if command -v valgrind >/dev/null; then
    m=$(( n < 50000 ? n : 50000 ))
    head -n "$m" "$t/events.jsonl" >"$t/events.cg.jsonl"
    echo "--- 3. instructions (valgrind --tool=callgrind), replay of $m events; A = no output, B = + hanging http"
    for cfg in A B; do
        extra=(-o http_output.enabled=false)
        [ "$cfg" = B ] && extra=("${http_cfg[@]}")
        valgrind --tool=callgrind --callgrind-out-file="$t/cg.$cfg" "$falco" -c "$t/base.yaml" -r "$t/rules.yaml" \
            -e "$t/events.cg.jsonl" "${extra[@]}" >/dev/null 2>"$t/vg.$cfg"
        awk -v cfg="$cfg" -v m="$m" '/Collected :/ { printf "  %s: %d instructions = %.0f per event\n", cfg, $4, $4 / m }' \
            "$t/vg.$cfg"
        awk '/Collected :/ { print $4 }' "$t/vg.$cfg" >"$t/ir.$cfg"
    done
    awk -v a="$(cat "$t/ir.A")" -v b="$(cat "$t/ir.B")" 'BEGIN { printf "  instructions B/A = %.4f\n", b / a }'
fi
