#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make install: scripts/install.sh BUILD DESTDIR PREFIX SYSCONFDIR
#
# Installs the binaries, and what `falcoctl install falco` installs from (its assets, found by falcoctl next to
# itself in PREFIX/share/falcoctl): falco/falco.yaml, rules/*.yaml, systemd/*.service. The units are not put in
# systemd's search path here: `falcoctl install falco` writes them to /etc/systemd/system and enables the one
# for the chosen driver, so a package install and a checkout behave the same. Also the man page, the bash
# completion and the (empty) pinned-keys directory for signed driver repositories.
set -euo pipefail

build=${1:?usage: install.sh BUILD DESTDIR PREFIX SYSCONFDIR}
destdir=${2:-}
prefix=${3:-/usr}
sysconfdir=${4:-/etc}
src=$(cd "$(dirname "$0")/.." && pwd)

inst() { install -D -m "$1" "$2" "$destdir$3"; }

inst 0755 "$build/bin/falco" "$prefix/bin/falco"
inst 0755 "$build/bin/falcoctl" "$prefix/bin/falcoctl"

assets=$prefix/share/falcoctl
if [ -f "$src/falco/falco.yaml" ]; then
    inst 0644 "$src/falco/falco.yaml" "$assets/falco/falco.yaml"
fi
for f in "$src"/rules/*.yaml; do
    [ -e "$f" ] && inst 0644 "$f" "$assets/rules/$(basename "$f")"
done
for f in "$src"/systemd/*.service; do
    [ -e "$f" ] && inst 0644 "$f" "$assets/systemd/$(basename "$f")"
done

inst 0644 "$src/docs/falcoctl.8" "$prefix/share/man/man8/falcoctl.8"
inst 0644 "$src/falcoctl/falcoctl.bash-completion" "$prefix/share/bash-completion/completions/falcoctl"
install -d -m 0755 "$destdir$sysconfdir/falcoctl/keys"
