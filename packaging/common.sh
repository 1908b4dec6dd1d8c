# SPDX-License-Identifier: Apache-2.0
# Shell functions shared by the deb maintainer scripts and the rpm scriptlets. packaging/build.sh pastes this
# file into each script (a removed package has no files left to source), after setting UNITS to the units of
# systemd/ (daemons first, falco-kmod-inject last so the module is unloaded after falco stopped using it).
#
# What the package does and does not do (as upstream Falco's packages, minus the driver dialog):
#   install   puts files in place and reloads systemd; starts nothing, loads no driver. The admin runs
#             `falcoctl install falco` (driver choice, config, units, start, self-test).
#   upgrade   restarts the falco units that were running (try-restart), nothing else.
#   remove    stops and disables the units, unloads a kernel module falcoctl loaded, removes the unit files
#             falcoctl copied to /etc/systemd/system while they are unchanged. Configuration and falcoctl's
#             state stay (deb: conffiles kept until purge).
#   purge     (deb purge, rpm erase) also removes falcoctl's state, its driver cache and logs, every file or
#             link its state records under /etc, and any falco unit file or link left in /etc/systemd/system.

UNIT_DIR_ETC=/etc/systemd/system
ASSET_UNITS=/usr/share/falcoctl/systemd

have_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

pkg_reload_systemd() {
    if have_systemd; then systemctl daemon-reload || true; fi
}

# falco is stopped whichever way it runs: under systemd, or supervised by falcoctl on a host without it.
pkg_stop() {
    if have_systemd; then
        for u in $UNITS; do
            systemctl stop "$u" >/dev/null 2>&1 || true
        done
    fi
    if [ -r /run/falcoctl/supervisor.pid ]; then
        pid=$(cat /run/falcoctl/supervisor.pid 2>/dev/null || true)
        case "$pid" in
        '' | *[!0-9]*) ;;
        *)
            # the supervisor stops falco on SIGTERM; wait for it (falco's TimeoutStopSec is 30 s) so the
            # binary is not removed under a falco that is still shutting down
            if kill -TERM "$pid" 2>/dev/null; then
                n=0
                while kill -0 "$pid" 2>/dev/null && [ $n -lt 150 ]; do
                    sleep 0.2
                    n=$((n + 1))
                done
            fi
            ;;
        esac
    fi
    # the kernel module, if falcoctl loaded one (modern_ebpf leaves nothing loaded once falco stopped)
    if [ -d /sys/module/falco ] && command -v falcoctl >/dev/null 2>&1; then
        falcoctl driver unload --type kmod >/dev/null 2>&1 || true
    fi
}

pkg_disable() {
    if have_systemd; then
        for u in $UNITS; do
            systemctl disable "$u" >/dev/null 2>&1 || true
        done
    fi
}

# The unit files `falcoctl install falco` copied to /etc/systemd/system would outlive /usr/bin/falco: remove
# each one that is still byte-identical to the packaged copy (an edited one is the admin's and stays until purge).
pkg_remove_unit_copies() {
    for u in $UNITS; do
        if [ -f "$UNIT_DIR_ETC/$u" ] && [ -f "$ASSET_UNITS/$u" ] && cmp -s "$UNIT_DIR_ETC/$u" "$ASSET_UNITS/$u"; then
            rm -f "$UNIT_DIR_ETC/$u"
        fi
    done
}

pkg_purge() {
    # every file and link falcoctl recorded in its state under /etc (falco's config drop-ins, its own
    # configuration, unit copies and their links): on purge they go, edited or not, like the conffiles
    if [ -r /var/lib/falcoctl/state.json ]; then
        grep -o '"path":[[:space:]]*"[^"]*"' /var/lib/falcoctl/state.json | sed 's/.*"\([^"]*\)"$/\1/' |
            while read -r p; do
                case "$p" in
                */../*) ;;
                /etc/falco/* | /etc/falcoctl/* | /etc/systemd/system/*) rm -f "$p" ;;
                esac
            done
    fi
    for u in $UNITS falco.service; do
        rm -f "$UNIT_DIR_ETC/$u"
        for l in "$UNIT_DIR_ETC"/*.wants/"$u" "$UNIT_DIR_ETC"/*.requires/"$u"; do
            [ -L "$l" ] && rm -f "$l"
        done
    done
    rm -rf /var/lib/falcoctl /var/lib/falco /var/log/falco /run/falcoctl
    # falcoctl.yaml is written by falcoctl, not shipped; the new defaults falcoctl left beside edited files too
    rm -f /etc/falcoctl/falcoctl.yaml /etc/falco/*.falcoctl-new
    rmdir /etc/falcoctl/keys /etc/falcoctl /etc/falco/rules.d /etc/falco/config.d /etc/falco 2>/dev/null || true
}

pkg_try_restart() {
    if have_systemd; then
        for u in $UNITS; do
            case "$u" in *-inject.service) continue ;; esac
            systemctl try-restart "$u" >/dev/null 2>&1 || true
        done
    fi
}

pkg_hint() {
    cat <<'MSG'
falco and falcoctl are installed; nothing was started and no driver was loaded.
To choose a driver, enable and start falco, run:
    sudo falcoctl install falco
(`falcoctl install falco --dry-run` shows what it would change first; `man falcoctl` has the details.)
MSG
}
