#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every build and test dependency with apt. Idempotent: when everything is present it only checks
# (dpkg-query) and exits, so `make test` can call it on every run.
set -euo pipefail

# Build: compilers, the BPF toolchain and the libraries of the design card.
build_pkgs=(
    build-essential pkg-config clang llvm bpftool libbpf-dev
    libyaml-dev libcjson-dev libpcre2-dev libevent-dev libssl-dev libcurl4-openssl-dev
    libarchive-dev libkmod-dev libsystemd-dev zlib1g-dev
)
# Tests: cmocka for unit tests; pytest and helpers from apt (PyPI is not reachable here); containerd, runc and
# busybox-static run a real containerd container (tests/e2e/test_syscall_containerd.py, image built from busybox).
test_pkgs=(
    libcmocka-dev python3 python3-pytest python3-yaml python3-cryptography
    openssl curl procps psmisc iproute2 util-linux
    debootstrap systemd-container systemd
    dpkg-dev rpm lintian
    containerd runc busybox-static
)

want=("${build_pkgs[@]}" "${test_pkgs[@]}")
[ "${1:-}" = "--extra" ] && shift && want+=("$@")

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; refresh them once, then retry the install a few times because the
# archive mirror is occasionally slow to answer.
$sudo apt-get update -qq
for attempt in 1 2 3; do
    if $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
        exit 0
    fi
    echo "install-deps: apt-get install failed (attempt $attempt), retrying" >&2
    sleep 5
    $sudo apt-get update -qq || true
done
echo "install-deps: could not install: ${missing[*]}" >&2
exit 1
