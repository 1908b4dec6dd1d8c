#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# k8s audit webhook load: EventList batches of 100 events (~1 KiB each) over loopback, HTTPS and plain HTTP.
# The server side is bench/webhook_load.c "serve": the real webhook (parse included) with an engine loop that
# frees each batch, so this measures the HTTP + TLS + parse + queue path, not rule evaluation.
# Goal: >= 30k events/s with p99 request latency < 10 ms; the server's RSS is reported under load.
# Usage: bench/bench_webhook.sh [SECONDS]   (BUILD=build by default; run `make` first)
#   FULL=1 also runs the real daemon: $BUILD/bin/falco with the webhook over HTTPS, -r rules/k8s_audit_rules.yaml,
#   alerts to a file in the temp dir (stdout/syslog off), webserver off, no syscall source; the load generator posts
#   EventLists of 100 copies of tests/fixtures/k8s/bench_pod_create.json (~2.8 KB each). falco's CPU (utime+stime
#   from /proc/PID/stat over the load run) and VmRSS (peak of 0.2 s samples during the run) / VmHWM are reported.
#   FULL=only runs just that part.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ROOT=${ROOT:-$(dirname "$here")}
BUILD=${BUILD:-build}
secs=${1:-10}
t=$(mktemp -d)
srv=
fpid=
cleanup() {
    [ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
    [ -n "$fpid" ] && kill "$fpid" 2>/dev/null && wait "$fpid" 2>/dev/null
    rm -rf "$t"
}
trap cleanup EXIT

bin=$t/webhook_load
cc -std=gnu11 -O2 -g -D_GNU_SOURCE -I"$ROOT" -o "$bin" "$here/webhook_load.c" \
    "$ROOT/$BUILD/lib/libfalco.a" "$ROOT/$BUILD/lib/libcommon.a" \
    $(pkg-config --libs libbpf libkmod libsystemd libcurl libarchive openssl yaml-0.1 libcjson libpcre2-8 libevent \
        libevent_openssl libevent_pthreads zlib) -lpthread -lm
"$bin" certs "$t"

# start_server ARGS...: starts "serve", sets $srv and $port
start_server() {
    "$bin" serve "$@" >"$t/serve.out" 2>&1 &
    srv=$!
    for _ in $(seq 100); do
        port=$(awk '/^port/{print $2}' "$t/serve.out")
        [ -n "$port" ] && return 0
        sleep 0.05
    done
    echo "server did not start:"; cat "$t/serve.out"; exit 1
}
stop_server() {
    local last
    last=$(grep '^events' "$t/serve.out" | tail -1)
    echo "server: ${last:-no sample} (rss_kb now, hwm_kb = peak)"
    kill "$srv"; wait "$srv" || true; srv=
}
# a run with errors or non-200 replies is reported, not fatal: the next ones still run
run() { echo "+ webhook_load $*"; "$bin" "$@" | sed 's/^/  /' || echo "  (errors or non-200 replies above)"; }

FULL=${FULL:-0}
[ "$FULL" = only ] && modes=() || modes=(https http)
for mode in "${modes[@]}"; do
    if [ $mode = https ]; then tls=(--tls "$t"); ca=(--ca "$t/ca.pem"); else tls=(); ca=(); fi
    echo "--- $mode: 4 connections, as fast as possible"
    start_server "${tls[@]}"
    run load --port "$port" "${ca[@]}" --conns 4 --batch 100 --seconds "$secs"
    stop_server
    echo "--- $mode: 30000 events/s target (4 connections, fixed schedule, arrivals evenly spaced)"
    start_server "${tls[@]}"
    run load --port "$port" "${ca[@]}" --conns 4 --batch 100 --seconds "$secs" --rate 30000
    stop_server
done

if [ "$FULL" != only ]; then
echo "--- https flood: 120 connections (64 admitted), engine 20 ms per batch: expect 429 and 503, bounded RSS"
start_server --tls "$t" --engine-delay-us 20000
run load --port "$port" --ca "$t/ca.pem" --conns 120 --batch 100 --seconds "$secs"
stop_server
fi

[ "$FULL" != 0 ] || exit 0

# ---- the real daemon: build/bin/falco with rules/k8s_audit_rules.yaml ----
event=$ROOT/tests/fixtures/k8s/bench_pod_create.json
fport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
hz=$(getconf CLK_TCK)
falco_cmd=("$ROOT/$BUILD/bin/falco" -c "$ROOT/falco/falco.yaml" -r "$ROOT/rules/k8s_audit_rules.yaml"
    --enable-source k8s_audit -o engine.kind=nodriver -o watch_config_files=false
    -o stdout_output.enabled=false -o syslog_output.enabled=false -o log_syslog=false
    -o file_output.enabled=true -o "file_output.filename=$t/alerts.txt" -o webserver.enabled=false
    -o k8s_audit.enabled=true -o k8s_audit.listen_address=127.0.0.1 -o "k8s_audit.listen_port=$fport"
    -o k8s_audit.tls.enabled=true -o "k8s_audit.tls.certificate=$t/falco.pem")
start_falco() {
    "${falco_cmd[@]}" >"$t/falco.out" 2>&1 &
    fpid=$!
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$fport") 2>/dev/null && return 0
        kill -0 "$fpid" 2>/dev/null || break
        sleep 0.05
    done
    echo "falco did not start:"; cat "$t/falco.out"; exit 1
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
# run_falco ARGS...: one load run against the running falco, with its CPU and memory over the run
run_falco() {
    local c0 c1 t0 t1 peak=0 r
    c0=$(cpu_ticks "$fpid"); t0=$(date +%s.%N)
    ( while kill -0 "$fpid" 2>/dev/null; do status_kb "$fpid" VmRSS; sleep 0.2; done ) >"$t/rss.txt" &
    local sampler=$!
    run load --port "$fport" --ca "$t/ca.pem" --event "$event" "$@"
    c1=$(cpu_ticks "$fpid"); t1=$(date +%s.%N)
    kill "$sampler"; wait "$sampler" 2>/dev/null || true
    for r in $(cat "$t/rss.txt"); do [ "$r" -gt "$peak" ] && peak=$r; done
    echo "falco: cpu_s $(awk -v a="$c0" -v b="$c1" -v h="$hz" 'BEGIN{printf "%.2f", (b-a)/h}')" \
        "cores $(awk -v a="$c0" -v b="$c1" -v h="$hz" -v x="$t0" -v y="$t1" 'BEGIN{printf "%.2f", (b-a)/h/(y-x)}')" \
        "vmrss_kb_peak $peak vmrss_kb_now $(status_kb "$fpid" VmRSS) vmhwm_kb $(status_kb "$fpid" VmHWM)" \
        "alerts_total $(wc -l <"$t/alerts.txt" 2>/dev/null || echo 0) load $(cut -d' ' -f1 /proc/loadavg)"
}
echo "--- real falco (https, rules/k8s_audit_rules.yaml, events: $(basename "$event") $(wc -c <"$event") bytes)"
echo "+ ${falco_cmd[*]}"
start_falco
echo "falco: startup vmrss_kb $(status_kb "$fpid" VmRSS)"
echo "--- real falco: 4 connections, 30000 events/s target (fixed schedule, arrivals evenly spaced)"
run_falco --conns 4 --batch 100 --seconds "$secs" --rate 30000
echo "--- real falco: 4 connections, 30000 events/s in bursts (the 4 requests sent at the same instants)"
run_falco --conns 4 --batch 100 --seconds "$secs" --rate 30000 --burst
echo "--- real falco: 4 connections, as fast as possible"
run_falco --conns 4 --batch 100 --seconds "$secs"
kill "$fpid"; wait "$fpid" || true; fpid=
echo "falco exit output (last lines):"; tail -n 15 "$t/falco.out" | sed 's/^/  /'
