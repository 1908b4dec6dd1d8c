#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# falcoctl: `install falco` on a fresh root to the first alert, real falco vs the stand-in, under systemd-nspawn.
# Usage: bench/bench_falcoctl_install.sh   (BUILD=build, ROUNDS=5; needs root, debootstrap, systemd-nspawn)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
echo "command: ROUNDS=${ROUNDS:-5} BUILD=${BUILD:-build} /usr/bin/python3 bench/falcoctl_install.py"
exec /usr/bin/python3 bench/falcoctl_install.py
