#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# k8s audit webhook load: EventList batches of 100 events (~1 KiB each) over loopback, HTTPS and plain HTTP.
# The server side is bench/webhook_load.c "serve": the real webhook (parse included) with an engine loop that
# frees each batch, so this measures the HTTP + TLS + parse + queue path, not rule evaluation.
# Goal: >= 30k events/s with p99 request latency < 10 ms; the server's RSS is reported under load.
# Usage: bench/bench_webhook.sh [SECONDS]   (BUILD=build by default; run `make` first)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ROOT=${ROOT:-$(dirname "$here")}
BUILD=${BUILD:-build}
secs=${1:-10}
t=$(mktemp -d)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null; rm -rf "$t"; }
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

for mode in https http; do
    if [ $mode = https ]; then tls=(--tls "$t"); ca=(--ca "$t/ca.pem"); else tls=(); ca=(); fi
    echo "--- $mode: 4 connections, as fast as possible"
    start_server "${tls[@]}"
    run load --port "$port" "${ca[@]}" --conns 4 --batch 100 --seconds "$secs"
    stop_server
    echo "--- $mode: 30000 events/s target (4 connections, fixed schedule)"
    start_server "${tls[@]}"
    run load --port "$port" "${ca[@]}" --conns 4 --batch 100 --seconds "$secs" --rate 30000
    stop_server
done

echo "--- https flood: 120 connections (64 admitted), engine 20 ms per batch: expect 429 and 503, bounded RSS"
start_server --tls "$t" --engine-delay-us 20000
run load --port "$port" --ca "$t/ca.pem" --conns 120 --batch 100 --seconds "$secs"
stop_server
