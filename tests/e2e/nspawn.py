# SPDX-License-Identifier: Apache-2.0
"""A real systemd for falcoctl's end-to-end tests.

One debootstrap'ed Debian tree per machine (cached under $FALCO_E2E_CACHE, default /var/tmp/falco-e2e, keyed
by the runtime packages the built binaries need), an overlay per test machine so every machine starts from
the pristine tree, booted with systemd-nspawn; commands run inside with nsenter. A chroot of the same tree
gives a host *without* systemd as PID 1, for falcoctl's supervised fallback.
"""
import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

CACHE = os.environ.get("FALCO_E2E_CACHE", "/var/tmp/falco-e2e")
SUITE = "bookworm"
MIRROR = os.environ.get("FALCO_E2E_MIRROR", "http://deb.debian.org/debian")
BASE_PACKAGES = ["systemd", "systemd-sysv", "dbus"]
CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _run(cmd, timeout=300, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                          timeout=timeout, **kw)


def missing_prerequisites():
    """Why this machine cannot run the nspawn tests, or None."""
    if os.geteuid() != 0:
        return "needs root (debootstrap, mounts, systemd-nspawn)"
    for tool in ("debootstrap", "systemd-nspawn", "nsenter", "chroot", "unshare"):
        if not shutil.which(tool):
            return f"{tool} is not installed (scripts/install-deps.sh installs debootstrap and systemd-container)"
    with open("/proc/filesystems") as f:
        if "overlay" not in f.read():
            return "the kernel has no overlayfs"
    return None


def dlopen_paths():
    """Where the libraries falco dlopen()s on first use (packaging/dlopen-libs) live here: no ldd sees them."""
    listed = [l.split("#")[0].strip() for l in open(os.path.join(REPO, "packaging/dlopen-libs"))]
    cache = _run(["ldconfig", "-p"]).stdout
    paths = set()
    for so in filter(None, listed):
        m = re.search(r"^\s*" + re.escape(so) + r" \(.*x86-64.*\) => (\S+)$", cache, re.M)
        if m:
            paths.add(m.group(1))
    return paths


def runtime_packages(binaries):
    """Debian packages providing the shared libraries the binaries link or falco dlopen()s (ldd, dpkg -S)."""
    libs = dlopen_paths()
    for b in binaries:
        out = _run(["ldd", b]).stdout
        for line in out.splitlines():
            parts = line.split("=>")
            if len(parts) == 2 and parts[1].strip().startswith("/"):
                libs.add(parts[1].split()[0])
    pkgs = set()
    for lib in sorted(libs):
        for cand in (lib, lib.removeprefix("/usr"), "/usr" + lib, os.path.realpath(lib)):
            r = _run(["dpkg", "-S", cand])
            if r.returncode == 0:
                pkgs.add(r.stdout.split(":")[0].strip())
                break
    return sorted(pkgs)


def base_rootfs(binaries):
    """The cached debootstrap tree (built once, ~1 minute), with the binaries' runtime libraries."""
    pkgs = sorted(set(BASE_PACKAGES + runtime_packages(binaries)))
    key = hashlib.sha1(" ".join([SUITE] + pkgs).encode()).hexdigest()[:12]
    root = os.path.join(CACHE, f"{SUITE}-{key}")
    os.makedirs(CACHE, exist_ok=True)
    with open(os.path.join(CACHE, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(os.path.join(root, ".complete")):
            return root
        tmp = root + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        t0 = time.monotonic()
        r = _run(["debootstrap", "--variant=minbase", "--include=" + ",".join(pkgs), SUITE, tmp, MIRROR],
                 timeout=1200)
        if r.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            pytest.skip(f"debootstrap of {SUITE} from {MIRROR} failed (exit {r.returncode}): "
                        f"{r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ''}")
        # minbase has no machine-id; systemd creates one at boot. A fixed hostname keeps journals readable.
        with open(os.path.join(tmp, "etc/hostname"), "w") as f:
            f.write("falco-e2e\n")
        open(os.path.join(tmp, ".complete"), "w").write(f"{time.monotonic() - t0:.0f}s {' '.join(pkgs)}\n")
        os.rename(tmp, root)
        return root


class Overlay:
    """A writable copy of the base tree: an overlay mount (upper and work dirs in a temp dir)."""

    def __init__(self, lower, name):
        self.dir = tempfile.mkdtemp(prefix=f"falco-e2e-{name}-", dir=CACHE)
        self.merged = os.path.join(self.dir, "merged")
        for d in ("upper", "work", "merged"):
            os.makedirs(os.path.join(self.dir, d))
        r = _run(["mount", "-t", "overlay", "overlay", "-o",
                  f"lowerdir={lower},upperdir={self.dir}/upper,workdir={self.dir}/work", self.merged])
        if r.returncode != 0:
            pytest.skip(f"cannot mount an overlay of the test tree: {r.stdout.strip()}")

    def path(self, p):
        return os.path.join(self.merged, p.lstrip("/"))

    def close(self):
        _run(["umount", "-R", "-l", self.merged])
        shutil.rmtree(self.dir, ignore_errors=True)


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


class Machine:
    """A booted systemd in an nspawn container; run() executes inside all of its namespaces."""

    def __init__(self, root, log, private_network=True):
        self.root = root
        self.log = log
        # nspawn keeps its runtime files there; without systemd as the host's PID 1 nothing provides it
        if _comm(1) != "systemd":
            os.makedirs("/run/systemd/nspawn", exist_ok=True)
            if _run(["mountpoint", "-q", "/run/systemd/nspawn"]).returncode != 0:
                _run(["mount", "-t", "tmpfs", "tmpfs", "/run/systemd/nspawn"])
        self.logf = open(log, "w")
        # a private network: each machine's falco gets its own 127.0.0.1:8765
        net = ["--private-network"] if private_network else []
        self.proc = subprocess.Popen(
            ["systemd-nspawn", "-D", root, "--boot", "--register=no", "--keep-unit", "--capability=all",
             "--system-call-filter=bpf perf_event_open", "--console=pipe"] + net,
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self._find_init(30)
        # until systemd listens on its bus, systemctl cannot even ask
        deadline = time.monotonic() + 90
        while True:
            r = self.run(["systemctl", "is-system-running", "--wait"], timeout=90)
            state = r.stdout.strip()
            if state in ("running", "degraded") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if state not in ("running", "degraded"):
            self.stop()
            pytest.fail(f"the container did not boot: {state} (log {log})")

    def _find_init(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"systemd-nspawn exited with {self.proc.returncode}: see {self.log}")
            todo = _children(self.proc.pid)
            while todo:
                p = todo.pop(0)
                if _comm(p) == "systemd" and os.path.exists(f"/proc/{p}/root/run/systemd"):
                    return p
                todo.extend(_children(p))
            time.sleep(0.1)
        pytest.fail(f"no systemd inside the container after {timeout}s: see {self.log}")

    def run(self, cmd, timeout=180, env=None, check=False):
        """Runs cmd (a list, or a string for sh -c) inside the machine with a clean environment."""
        if isinstance(cmd, str):
            cmd = ["sh", "-c", cmd]
        e = ["env", "-i", f"PATH={CLEAN_PATH}", "LANG=C.UTF-8"] + [f"{k}={v}" for k, v in (env or {}).items()]
        r = _run(["nsenter", "-t", str(self.pid), "-a"] + e + cmd, timeout=timeout)
        if check and r.returncode != 0:
            pytest.fail(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}")
        return r

    def stop(self):
        if self.proc.poll() is None:
            self.run(["systemctl", "poweroff", "--no-block"], timeout=30)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.logf.close()


def chroot_script(root, script, timeout=300, env=None):
    """Runs a shell script chrooted into root in fresh mount and pid namespaces: a Linux without systemd as
    PID 1 (everything it starts dies with the namespace)."""
    e = ["env", "-i", f"PATH={CLEAN_PATH}", "LANG=C.UTF-8"] + [f"{k}={v}" for k, v in (env or {}).items()]
    inner = ("mount -t proc proc /proc && mount -t sysfs sysfs /sys 2>/dev/null; "
             "mount -t tmpfs tmpfs /run && mkdir -p /run/lock; " + script)
    return _run(["unshare", "--mount", "--pid", "--fork", "--propagation", "private", "chroot", root] + e +
                ["sh", "-c", inner], timeout=timeout)


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SELFTEST_RULE = "Sensitive File Read by Untrusted Program"


def write_test_assets(dst):
    """falcoctl assets for the stand-in falco: the repository's units, a small falco.yaml, one rule."""
    os.makedirs(os.path.join(dst, "falco"), exist_ok=True)
    os.makedirs(os.path.join(dst, "rules"), exist_ok=True)
    shutil.copytree(os.path.join(REPO, "systemd"), os.path.join(dst, "systemd"), dirs_exist_ok=True)
    with open(os.path.join(dst, "falco", "falco.yaml"), "w") as f:
        f.write("rules_files:\n  - /etc/falco/selftest_rules.yaml\n  - /etc/falco/falco_rules.local.yaml\n"
                "json_output: true\nwebserver:\n  enabled: true\n  listen_port: 8765\n")
    with open(os.path.join(dst, "rules", "selftest_rules.yaml"), "w") as f:
        f.write(f"- rule: {SELFTEST_RULE}\n  desc: falcoctl self-test\n"
                "  condition: evt.type in (open, openat, openat2) and fd.name = /etc/shadow\n"
                "  output: Sensitive file opened for reading by non-trusted program (file=%fd.name)\n"
                "  priority: WARNING\n")


def build_fake_falco(dst):
    """Compiles the stand-in falco (tests/fixtures/falcoctl/fake_falco.c) to dst."""
    cc = os.environ.get("CC", "cc")
    r = _run([cc, "-O2", "-Wall", "-o", dst, os.path.join(REPO, "tests/fixtures/falcoctl/fake_falco.c")])
    if r.returncode != 0:
        pytest.fail(f"cannot build the stand-in falco: {r.stdout}")


def prepare_tree(tree, build):
    """make install into the tree, plus the stand-in falco, the LD_PRELOAD shim and the test assets."""
    r = _run([os.path.join(REPO, "scripts/install.sh"), build, tree, "/usr", "/etc"])
    if r.returncode != 0:
        pytest.fail(f"scripts/install.sh failed: {r.stdout}")
    build_fake_falco(os.path.join(tree, "usr/local/bin/fake-falco"))
    shim = os.path.join(build, "tests/preload/fc_shim.so")
    if os.path.exists(shim):
        os.makedirs(os.path.join(tree, "usr/local/lib"), exist_ok=True)
        shutil.copy(shim, os.path.join(tree, "usr/local/lib/fc_shim.so"))
    write_test_assets(os.path.join(tree, "usr/share/falcoctl-test"))


def asan_env(binary):
    """Sanitizer builds (make check) need this to run under an LD_PRELOAD shim."""
    out = _run(["ldd", binary]).stdout
    return {"ASAN_OPTIONS": "verify_asan_link_order=0:detect_leaks=0"} if "libasan" in out else {}
