#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Helpers for bench/bench_outputs.sh.

  gen N FILE                     N k8s audit "pod create" events (JSON lines), each matching the bench rule
  hang PORTFILE                  an HTTP receiver that accepts connections, reads requests and never answers;
                                 writes its port to PORTFILE
  latency PORT ALERTS RATE SECS  POSTs events to falco's webhook at RATE events/s for SECS seconds (batches every
                                 10 ms), each carrying its send time; tails the ALERTS file (JSON alerts) and
                                 prints the send-to-alert latency percentiles and the achieved rate
"""
import json
import os
import socket
import sys
import threading
import time
import urllib.request

EVENT = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": "x",
         "stage": "ResponseComplete", "requestURI": "/api/v1/namespaces/ns/pods", "verb": "create",
         "user": {"username": "alice"}, "objectRef": {"resource": "pods", "namespace": "ns", "name": "p"},
         "responseStatus": {"code": 201}, "requestReceivedTimestamp": "2024-05-06T07:08:09.123456Z",
         "stageTimestamp": "2024-05-06T07:08:09.123456Z"}


def gen(n, path):
    with open(path, "w") as f:
        for i in range(n):
            EVENT["objectRef"]["name"] = f"p{i}"
            f.write(json.dumps(EVENT, separators=(",", ":")) + "\n")


def hang(portfile):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    with open(portfile, "w") as f:
        f.write(str(srv.getsockname()[1]))
    conns = []

    def drain(c):
        try:
            while c.recv(65536):
                pass
        except OSError:
            pass

    while True:
        c, _ = srv.accept()
        conns.append(c)
        threading.Thread(target=drain, args=(c,), daemon=True).start()


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    return sorted_vals[min(len(sorted_vals) - 1, int(p / 100 * len(sorted_vals)))]


def latency(port, alerts, rate, secs):
    batch = max(1, rate // 100)
    total = int(rate * secs)
    lat, done = [], threading.Event()
    seen = 0

    def reader():
        nonlocal seen
        while not os.path.exists(alerts):
            time.sleep(0.001)
        with open(alerts) as f:
            buf = ""
            while True:
                chunk = f.read()
                now = time.time_ns()
                if not chunk:
                    if done.is_set() and seen >= total:
                        return
                    time.sleep(0.0005)
                    continue
                buf += chunk
                *lines, buf = buf.split("\n")
                for line in lines:
                    i = line.find('"ka.target.name":"t')
                    if i < 0:
                        continue
                    j = line.index('"', i + 19)
                    lat.append((now - int(line[i + 19:j].split("-")[0])) / 1e6)
                    seen += 1

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    url = f"http://127.0.0.1:{port}/k8s-audit"
    start = time.monotonic()
    sent = 0
    rejected = 0
    while sent < total:
        due = start + sent / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        items = []
        for k in range(batch):
            ev = dict(EVENT)
            ev["objectRef"] = dict(EVENT["objectRef"], name=f"t{time.time_ns()}-{sent + k}")
            items.append(ev)
        body = json.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": items}).encode()
        req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(req, timeout=10).read()
        except urllib.error.HTTPError:
            rejected += 1
        sent += batch
    elapsed = time.monotonic() - start
    done.set()
    t.join(timeout=30)
    lat.sort()
    print(f"events {sent} in {elapsed:.2f}s ({sent / elapsed:.0f}/s), alerts seen {seen}, rejected batches "
          f"{rejected}")
    print(f"latency_ms p50 {pct(lat, 50):.3f} p90 {pct(lat, 90):.3f} p99 {pct(lat, 99):.3f} "
          f"p99.9 {pct(lat, 99.9):.3f} max {lat[-1] if lat else float('nan'):.3f}")


def main():
    cmd = sys.argv[1]
    if cmd == "gen":
        gen(int(sys.argv[2]), sys.argv[3])
    elif cmd == "hang":
        hang(sys.argv[2])
    elif cmd == "latency":
        latency(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
