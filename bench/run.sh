#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make bench`: runs every benchmark script bench/bench_*.sh in name order and prints their results.
# Each script prints its own figures and the exact command it ran; copy them into docs/BENCHMARKS.md.
# Usage: bench/run.sh [NAME-SUBSTRING...]   (BUILD=build by default)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-build}
export ROOT=$(dirname "$here")
status=0
for b in "$here"/bench_*.sh; do
    [ -e "$b" ] || continue
    name=$(basename "$b" .sh)
    if [ $# -gt 0 ]; then
        match=0
        for f in "$@"; do [[ $name == *"$f"* ]] && match=1; done
        [ $match = 1 ] || continue
    fi
    echo "=== $name"
    if ! bash "$b"; then
        echo "=== $name FAILED"
        status=1
    fi
done
exit $status
