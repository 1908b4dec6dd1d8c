# SPDX-License-Identifier: Apache-2.0
"""Helpers for the syscall-source end-to-end tests (tests/e2e/test_syscall_*.py): a live falco on the eBPF probe
whose JSON alerts are collected as they come, a fake container (a cgroup named as docker names it, entered through
new mount and pid namespaces), and small actions run as real processes."""
import json
import os
import secrets
import shutil
import signal
import subprocess
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUR_RULES = os.path.join(ROOT, "rules", "falco_rules.yaml")
PY = "/usr/bin/python3"

BASE_CONFIG = """\
webserver:
  enabled: false
log_syslog: false
syslog_output:
  enabled: false
json_output: true
json_include_output_fields_property: true
"""


def bpf_prerequisites():
    """Reason to skip, or None: the live tests need root and kernel BTF (the probe checks the rest)."""
    if os.geteuid() != 0:
        return "the eBPF probe needs root"
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        return "no kernel BTF (/sys/kernel/btf/vmlinux)"
    return None


class LiveSyscallFalco:
    """falco capturing live with the given rules; alerts (JSON) are parsed from stdout as they arrive."""

    def __init__(self, falco_bin, tmp_path, rules, args=(), config_extra="", start_timeout=60, wrap=(), env=None):
        """wrap: a command line falco runs under (e.g. a namespace wrapper); env: falco's environment."""
        cfg = tmp_path / "falco.yaml"
        cfg.write_text(BASE_CONFIG + config_extra)
        self.cmd = list(wrap) + [falco_bin, "-c", str(cfg), "-U"]
        for r in rules if isinstance(rules, (list, tuple)) else [rules]:
            self.cmd += ["-r", str(r)]
        self.cmd += list(args)
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     errors="replace", env=env)
        self.alerts, self.err_lines, self.other_out = [], [], []
        self.lock = threading.Lock()
        self.attached = threading.Event()
        self.t_out = threading.Thread(target=self._read_out, daemon=True)
        self.t_err = threading.Thread(target=self._read_err, daemon=True)
        self.t_out.start()
        self.t_err.start()
        deadline = time.monotonic() + start_timeout
        while not self.attached.is_set():
            if self.proc.poll() is not None:
                self.t_err.join(5)
                err = "\n".join(self.err_lines)
                if "not supported" in err or "Operation not permitted" in err or "BTF" in err:
                    pytest.skip(f"eBPF unavailable: {err[-500:]}")
                raise AssertionError(f"falco exited early rc={self.proc.returncode}:\n{err}")
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError("falco never attached:\n" + "\n".join(self.err_lines))
            time.sleep(0.05)

    def _read_out(self):
        for line in self.proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                a = json.loads(line)
            except ValueError:
                with self.lock:
                    self.other_out.append(line)
                continue
            with self.lock:
                self.alerts.append(a)

    def _read_err(self):
        for line in self.proc.stderr:
            with self.lock:
                self.err_lines.append(line.rstrip("\n"))
            if "probe attached" in line:
                self.attached.set()

    def matching(self, rule, pred=None):
        with self.lock:
            return [a for a in self.alerts if a.get("rule") == rule and (pred is None or pred(a))]

    def wait_alert(self, rule, pred=None, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.matching(rule, pred)
            if m:
                return m[0]
            time.sleep(0.05)
        with self.lock:
            seen = sorted({a.get("rule") for a in self.alerts})
        raise AssertionError(f"no alert of rule {rule!r} (seen rules: {seen})")

    def settle(self, seconds=1.5):
        """Gives the pump time to drain what the kernel produced so far (its idle timer tops at 30 ms)."""
        time.sleep(seconds)

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.t_out.join(5)
        self.t_err.join(5)
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def fields(a):
    return a.get("output_fields", {})


def sh(cmd, check=True, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=30, **kw)


def py(code, *args, check=True, exe=PY, **kw):
    return subprocess.run([exe, "-c", code, *args], check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=30, **kw)


def marker():
    return "falcoe2e" + secrets.token_hex(4)


def pyexe_named(tmp_path, name):
    """A symlink to the python interpreter called name: its processes are named (comm) after the link."""
    d = tmp_path / "bin"
    d.mkdir(exist_ok=True)
    link = d / name
    if not link.exists():
        os.symlink(os.path.realpath(PY), link)
    return str(link)


class FakeContainer:
    """A docker-named cgroup (docker-<64 hex>.scope) in the hierarchies the probe reports; run() starts a command
    in it, in new mount and pid namespaces, as `docker run` would."""

    def __init__(self):
        self.id = secrets.token_hex(32)
        self.dirs = []
        if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
            roots = ["/sys/fs/cgroup"]  # cgroup v2
        else:
            roots = [f"/sys/fs/cgroup/{c}" for c in ("pids", "memory", "cpu")
                     if os.path.isdir(f"/sys/fs/cgroup/{c}")]
        for r in roots:
            d = os.path.join(r, "system.slice", f"docker-{self.id}.scope")
            try:
                os.makedirs(d, exist_ok=True)
                self.dirs.append(d)
            except OSError:
                pass
        if not self.dirs:
            pytest.skip("cannot create cgroups here")

    def run(self, argv, timeout=30, check=False):
        # the wrapper joins the cgroups, then becomes unshare: everything after inherits the container's cgroup
        procs = [os.path.join(d, "cgroup.procs") for d in self.dirs]
        code = ("import os,sys\n"
                "for p in sys.argv[1].split(','):\n"
                "    open(p,'w').write(str(os.getpid()))\n"
                "a=['unshare','--mount','--pid','--fork','--mount-proc']+sys.argv[2:]\n"
                "os.execvp(a[0],a)\n")
        return subprocess.run([PY, "-c", code, ",".join(procs), *argv], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=timeout, check=check)

    def close(self):
        for d in self.dirs:
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    time.sleep(0.1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def copy_true(dst):
    shutil.copy("/bin/true", dst)
    os.chmod(dst, 0o755)
    return dst
