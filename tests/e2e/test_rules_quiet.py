# SPDX-License-Identifier: Apache-2.0
"""Our shipped syscall rules (rules/falco_rules.yaml) stay quiet on an ordinary systemd host.

The real falco watches, from the host, a Debian machine (tests/e2e/nspawn.py) boot and then do what such a
host does on its own or under an administrator: sandboxed units start and stop (PrivateTmp=, ProtectSystem=,
DynamicUser=...), the stock timers' services run (tmpfiles cleaning, dpkg database backup, apt's daily job,
fstrim, e2scrub), systemd-tmpfiles and systemd-sysusers run by hand, users are added, given a password, used
and removed, packages are installed, upgraded and purged with dpkg (a local package with maintainer scripts,
and, when cached, real Debian packages: logrotate, openssl, ca-certificates, whose postinst runs
update-ca-certificates), logrotate rotates, the journal is rotated and vacuumed.

Every alert from a process of that machine (its pid namespace: proc.pidns_init_start_ts, appended to every
alert) is a false positive and fails the test, except the one known-bad action done at the end (dd reading
/etc/shadow), which must alert: the rules are not simply deaf inside the machine.
"""
import fcntl
import glob
import os
import secrets
import shutil
import subprocess

import pytest

import nspawn
from conftest import bin_path
from syscall_support import OUR_RULES, LiveSyscallFalco, bpf_prerequisites, fields

pytestmark = pytest.mark.skipif(bpf_prerequisites() is not None, reason=str(bpf_prerequisites()))

NS = "proc.pidns_init_start_ts"
# Real Debian packages for the dpkg part, fetched once with `apt-get download` into the cache; without them (no
# mirror reachable) that part is left out and test_real_packages_were_installed skips.
DEBS = os.path.join(nspawn.CACHE, "debs")
DEB_NAMES = ["libpopt0", "logrotate", "openssl", "ca-certificates"]


def host_codename():
    try:
        with open("/etc/os-release") as f:
            return dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line).get("VERSION_CODENAME")
    except OSError:
        return None


def cached_debs():
    """The .deb of each DEB_NAMES package, downloading the missing ones; None when some cannot be had."""
    os.makedirs(DEBS, exist_ok=True)
    with open(os.path.join(nspawn.CACHE, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        missing = [n for n in DEB_NAMES if not glob.glob(os.path.join(DEBS, f"{n}_*.deb"))]
        # the host's apt fetches for the host's release: only useful when it is the machine's
        if missing and shutil.which("apt-get") and host_codename() == nspawn.SUITE:
            subprocess.run(["apt-get", "download", "-q"] + missing, cwd=DEBS, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=300)
    debs = [p for n in DEB_NAMES for p in sorted(glob.glob(os.path.join(DEBS, f"{n}_*.deb")))[-1:]]
    return debs if len(debs) == len(DEB_NAMES) else None

# A local package with the maintainer scripts packages typically have: a system user, a unit, a conffile.
LOCAL_PKG = r"""
set -e
d=/tmp/pkg/quietd
mkdir -p $d/DEBIAN $d/usr/bin $d/lib/systemd/system $d/etc/quietd
printf '#!/bin/sh\nexec sleep infinity\n' > $d/usr/bin/quietd; chmod 755 $d/usr/bin/quietd
printf '[Service]\nExecStart=/usr/bin/quietd\nDynamicUser=yes\nPrivateTmp=yes\nProtectSystem=strict\n[Install]\nWantedBy=multi-user.target\n' > $d/lib/systemd/system/quietd.service
echo 'level=1' > $d/etc/quietd/quietd.conf
printf 'Package: quietd\nVersion: %s\nArchitecture: all\nMaintainer: e2e <e2e@example.org>\nDescription: test\n' "$1" > $d/DEBIAN/control
echo /etc/quietd/quietd.conf > $d/DEBIAN/conffiles
printf '#!/bin/sh\nset -e\ngetent passwd quietd >/dev/null || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin quietd\nsystemctl daemon-reload\nsystemctl enable quietd.service\nsystemctl restart quietd.service\n' > $d/DEBIAN/postinst
printf '#!/bin/sh\nsystemctl stop quietd.service || true\nsystemctl disable quietd.service || true\n' > $d/DEBIAN/prerm
printf '#!/bin/sh\nif [ "$1" = purge ]; then userdel quietd || true; fi\nsystemctl daemon-reload\n' > $d/DEBIAN/postrm
chmod 755 $d/DEBIAN/postinst $d/DEBIAN/prerm $d/DEBIAN/postrm
dpkg-deb --root-owner-group --build $d /tmp/pkg/quietd_$1_all.deb >/dev/null
"""

ACTIVITIES = [
    # units and their sandboxing
    "systemctl daemon-reload",
    "systemctl restart systemd-journald.service systemd-logind.service",
    "systemd-run --wait --quiet -p PrivateTmp=yes -p ProtectSystem=strict -p ProtectHome=yes -p PrivateDevices=yes"
    " -p ProtectKernelTunables=yes -p PrivateNetwork=yes -p DynamicUser=yes /bin/true",
    "systemd-run --wait --quiet -p ProtectSystem=full -p ReadWritePaths=/var/tmp -p PrivateUsers=yes"
    " sh -c 'ls /etc >/dev/null; date > /var/tmp/stamp'",
    # what the stock timers start
    "systemctl start systemd-tmpfiles-clean.service dpkg-db-backup.service",
    "systemctl start apt-daily.service fstrim.service e2scrub_all.service; true",
    "systemd-tmpfiles --create --remove",
    "systemd-sysusers",
    # users
    "useradd -m -s /bin/bash alice && echo alice:Secret-123 | chpasswd && passwd -S alice && usermod -aG users alice"
    " && su -s /bin/sh alice -c id && runuser -u alice -- id && chage -l alice && pwck -r; grpck -r; true",
    "userdel -r alice",
    # packages
    "sh -c '" + LOCAL_PKG.replace("'", "'\\''") + "' build 1.0 && sh -c '" + LOCAL_PKG.replace("'", "'\\''")
    + "' build 1.1",
    "dpkg -i /tmp/pkg/quietd_1.0_all.deb && systemctl is-active quietd.service && dpkg -i /tmp/pkg/quietd_1.1_all.deb"
    " && dpkg -r quietd && dpkg -P quietd",
    "ls /var/cache/local-debs/*.deb >/dev/null 2>&1 || exit 0; dpkg -i /var/cache/local-debs/*.deb"
    " && dpkg-reconfigure -fnoninteractive ca-certificates"
    " && update-ca-certificates --fresh && logrotate -f /etc/logrotate.conf && systemctl start logrotate.service",
    # the journal
    "journalctl --rotate && journalctl --vacuum-time=1s --quiet; journalctl -n 5 --no-pager >/dev/null",
    "hostnamectl status >/dev/null; timedatectl status >/dev/null; loginctl list-sessions >/dev/null; true",
]

# count= makes this dd's command line unique: falcoctl's self-test, maybe running on the host meanwhile, is a dd of
# /etc/shadow too
BAD = f"dd if=/etc/shadow of=/dev/null status=none count={secrets.randbelow(10**9) + 10**9}"
BAD_RULE = "Sensitive File Read by Untrusted Program"
# Impostors of the programs the fixes trust: the same names, other executables. Each must still alert.
IMPOSTORS = [
    ("cp /usr/bin/touch /tmp/systemd-sysusers && /tmp/systemd-sysusers /etc/impostor-sysusers",
     "Write Below System Directory", "fd.name", "/etc/impostor-sysusers"),
    ("ln -sf /usr/bin/dash /tmp/update-ca-certificates && "
     "/tmp/update-ca-certificates -c 'echo x > /etc/impostor-ca' /usr/sbin/update-ca-certificates",
     "Write Below System Directory", "fd.name", "/etc/impostor-ca"),
    ("cp /usr/bin/unshare /tmp/systemd && /tmp/systemd --uts true", "Namespace Change by Non-Runtime Process",
     "proc.exepath", "/tmp/systemd"),
    ("PERL5OPT=-Mstrict dpkg-reconfigure -fnoninteractive -pcritical debconf",
     "Sensitive File Read by Untrusted Program", "proc.cmdline",
     "dpkg-reconfigur -w /usr/sbin/dpkg-reconfigure -fnoninteractive -pcritical debconf"),
    ("cp /usr/bin/cat /tmp/runuser && /tmp/runuser /etc/pam.d/runuser >/dev/null",
     "Sensitive File Read by Untrusted Program", "proc.exepath", "/tmp/runuser"),
]


def expected(a):
    f = fields(a)
    if a.get("rule") == BAD_RULE and f.get("proc.cmdline") == BAD:
        return True
    return any(a.get("rule") == rule and f.get(k) == v for _, rule, k, v in IMPOSTORS)


APPEND = f"""
append_output:
  - match:
      source: syscall
    extra_fields:
      - {NS}
      - proc.exepath
      - proc.pexepath
      - proc.cmdline
      - proc.pcmdline
      - proc.aname[2]
      - proc.aname[3]
      - proc.aexepath[2]
      - proc.aexepath[3]
      - proc.aexepath[4]
"""


@pytest.fixture(scope="module")
def base():
    reason = nspawn.missing_prerequisites()
    if reason:
        pytest.skip(reason)
    return nspawn.base_rootfs([bin_path("falco"), bin_path("falcoctl")])


@pytest.fixture(scope="module")
def watched(base, falco_bin, tmp_path_factory):
    """falco on the host with the shipped rules, then a machine booting under its eyes and doing its chores."""
    tmp = tmp_path_factory.mktemp("quiet")
    ov = nspawn.Overlay(base, "quiet")
    debs = cached_debs()
    if debs:
        os.makedirs(ov.path("/var/cache/local-debs"))
        for p in debs:
            shutil.copy(p, ov.path("/var/cache/local-debs"))
    live = LiveSyscallFalco(falco_bin, tmp, OUR_RULES, config_extra=APPEND)
    m = None
    try:
        m = nspawn.Machine(ov.merged, str(tmp / "boot.log"))
        results = [(cmd, m.run(cmd, timeout=120)) for cmd in ACTIVITIES]
        bad = m.run(BAD)
        impostors = [(cmd, m.run(cmd)) for cmd, *_ in IMPOSTORS]
        yield live, m, results + impostors, bad
    finally:
        if m:
            m.stop()
        rc = live.stop()
        ov.close()
        assert rc == 0, "\n".join(live.err_lines[-30:])


def machine_ns(live):
    """The machine's pid namespace, as the known-bad action's alert reports it."""
    a = live.wait_alert(BAD_RULE, lambda a: fields(a).get("proc.name") == "dd"
                        and fields(a).get("proc.cmdline") == BAD, timeout=30)
    return fields(a)[NS]


def test_activities_ran(watched):
    live, m, results, bad = watched
    failed = [f"{cmd}\n{r.stdout}" for cmd, r in results if r.returncode != 0]
    assert not failed, "\n\n".join(failed)
    assert bad.returncode == 0, bad.stdout


def test_known_bad_action_still_alerts(watched):
    live, m, results, bad = watched
    ns = machine_ns(live)
    assert ns, "alerts carry no pid namespace"


def test_real_packages_were_installed(watched):
    live, m, results, bad = watched
    if m.run("ls /var/cache/local-debs/*.deb").returncode != 0:
        pytest.skip(f"no cached Debian packages in {DEBS} (apt-get download failed, or the host is not "
                    f"Debian {nspawn.SUITE})")
    r = m.run("dpkg-query -W -f '${Status}\\n' " + " ".join(DEB_NAMES))
    assert r.stdout.split("\n")[:len(DEB_NAMES)] == ["install ok installed"] * len(DEB_NAMES), r.stdout
    # update-ca-certificates did its work, the part that used to alert
    assert m.run("test -s /etc/ssl/certs/ca-certificates.crt").returncode == 0


@pytest.mark.parametrize("cmd,rule,key,value", IMPOSTORS, ids=[i[1] + ":" + i[3] for i in IMPOSTORS])
def test_impostors_of_trusted_programs_alert(watched, cmd, rule, key, value):
    live, m, results, bad = watched
    live.wait_alert(rule, lambda a: fields(a).get(key) == value, timeout=30)


def test_no_false_positive_on_an_ordinary_systemd_host(watched):
    live, m, results, bad = watched
    ns = machine_ns(live)
    live.settle()
    with live.lock:
        alerts = list(live.alerts)
    fps = [a for a in alerts if fields(a).get(NS) == ns and not expected(a)]
    # one line per rule and program (a tool writing a thousand files is one finding)
    kinds = {}
    for a in fps:
        f = fields(a)
        key = (a["rule"], f.get("proc.name"), f.get("proc.exepath"), f.get("proc.pname"))
        kinds.setdefault(key, (0, a["output"]))
        kinds[key] = (kinds[key][0] + 1, kinds[key][1])
    lines = [f"{n}x {rule}: {out.split(': ', 1)[-1]}" for (rule, *_), (n, out) in sorted(kinds.items())]
    assert not lines, f"{len(fps)} false positives of {len(lines)} kinds:\n" + "\n".join(lines)
