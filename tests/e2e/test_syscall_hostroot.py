# SPDX-License-Identifier: Apache-2.0
"""HOST_ROOT (upstream's environment variable for falco in a container): the real falco with the live eBPF probe,
run as pid 1 of a new pid namespace with its own /proc, the host's /proc bound at <tmp>/host/proc and a host
/etc/passwd at <tmp>/host/etc. The driver reports host pids, so only $HOST_ROOT/proc resolves them.

The trigger is a host process started before falco (so nothing but /proc describes it): a python under a
distinctive name, running as a uid only the "host" passwd names, holding a descriptor opened before falco started.
Once falco runs, it fchmods the held descriptor (fd.name from the seeded fd table) and opens a watched file.

- with HOST_ROOT: proc.name, proc.cmdline, proc.exepath, proc.pid (host pid), user.name, fd.name of the held
  descriptor and container.id all resolve; falco's own output program (a child it spawns) never reaches the rules
  while the same rule fires for another process.
- without HOST_ROOT (the degradation): falco warns at start; the process is unknown to falco's own /proc, so
  proc.name, proc.exepath and the held descriptor's fd.name are <NA> and proc.cmdline is empty; user.uid reads
  4294967295 and user.name is <NA> (a process known from an event header only has unknown ids, as upstream's);
  only what the event itself carries (the host pid, the opened path) is right. falco's own output program is
  still recognised as its child (through its host pid), so its alerts do not feed back into more alerts.
- a relative HOST_ROOT, or one whose proc is no procfs (or missing), stops falco with an error naming HOST_ROOT.
"""
import os
import subprocess

import pytest

from syscall_support import PY, LiveSyscallFalco, bpf_prerequisites, fields, marker, pyexe_named

pytestmark = pytest.mark.skipif(bpf_prerequisites() is not None, reason=str(bpf_prerequisites()))

UID = 4242  # in no passwd of this machine; named only by the test's host passwd

# Runs falco (argv[2:]) as pid 1 of new pid and mount namespaces: the mount namespace is private (nothing leaks to
# the machine), argv[1] (unless empty) gets a bind of the host's /proc first, then /proc becomes the new pid
# namespace's own, as in a container. SIGTERM/SIGINT are passed on; the exit status is falco's.
WRAPPER = r"""
import ctypes, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
CLONE_NEWNS, CLONE_NEWPID = 0x00020000, 0x20000000
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 1 << 18

def check(r, what):
    if r != 0:
        e = ctypes.get_errno()
        sys.stderr.write(f"hostroot wrapper: {what}: {os.strerror(e)}\n")
        os._exit(97)

check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
if sys.argv[1]:
    check(libc.mount(b"/proc", sys.argv[1].encode(), None, MS_BIND, None), "bind the host's /proc")
check(libc.unshare(CLONE_NEWPID), "unshare(CLONE_NEWPID)")
pid = os.fork()
if pid == 0:
    check(libc.mount(b"proc", b"/proc", b"proc", 0, None), "mount the namespace's /proc")
    os.execv(sys.argv[2], sys.argv[2:])
for s in (signal.SIGTERM, signal.SIGINT):
    signal.signal(s, lambda n, f: os.kill(pid, n))
_, st = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(st)
sys.exit(code if code >= 0 else 128 - code)
"""

# The host process: holds a descriptor from before falco, drops to UID, then (on "go") fchmods the held descriptor
# and opens the watched file.
TRIGGER = r"""
import os, sys
held = os.open(sys.argv[1], os.O_RDONLY)
os.setgroups([])
os.setgid(int(sys.argv[3]))
os.setuid(int(sys.argv[3]))
print("ready", held, flush=True)
sys.stdin.readline()
os.fchmod(held, 0o644)
with open(sys.argv[2]) as f:
    f.read()
print("done", flush=True)
sys.stdin.readline()
"""

RULES = """\
- rule: HostRoot Watched Open
  desc: the trigger opens the watched file
  condition: evt.type in (open, openat, openat2) and fd.name = "{watched}"
  output: >
    watched open (proc.name=%proc.name proc.cmdline=%proc.cmdline proc.pid=%proc.pid proc.exepath=%proc.exepath
    user.name=%user.name user.uid=%user.uid container.id=%container.id fd.name=%fd.name)
  priority: WARNING
- rule: HostRoot Held Fchmod
  desc: the trigger changes the mode of a descriptor it held before falco started
  condition: evt.type = fchmod and proc.pid = {pid}
  output: held fchmod (proc.name=%proc.name fd.num=%fd.num fd.name=%fd.name)
  priority: WARNING
- rule: HostRoot Marked Exec
  desc: any program whose command line carries the test's marker, falco's output program included
  condition: evt.type in (execve, execveat) and proc.cmdline contains "{mark}"
  output: marked exec (proc.name=%proc.name proc.cmdline=%proc.cmdline proc.pid=%proc.pid proc.ppid=%proc.ppid)
  priority: WARNING
"""


class Scenario:
    """The host tree, the held and watched files, the trigger process and the rules for one falco run."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.mark = marker()
        self.host = tmp_path / "host"
        (self.host / "proc").mkdir(parents=True)
        (self.host / "etc").mkdir()
        self.user = "hr" + self.mark[-8:]
        (self.host / "etc" / "passwd").write_text(
            f"root:x:0:0:root:/root:/bin/sh\n{self.user}:x:{UID}:{UID}::/nonexistent:/usr/sbin/nologin\n")
        (self.host / "etc" / "group").write_text(f"root:x:0:\n{self.user}:x:{UID}:\n")
        # in /tmp (1777): the trigger runs as UID, which cannot enter pytest's 0700 directories
        self.held = f"/tmp/{self.mark}.held"
        self.watched = f"/tmp/{self.mark}.watched"
        for p in (self.held, self.watched):
            with open(p, "w") as f:
                f.write("x")
            os.chown(p, UID, UID)
        self.script = tmp_path / "trigger.py"
        self.script.write_text(TRIGGER)
        self.wrapper = tmp_path / "wrapper.py"
        self.wrapper.write_text(WRAPPER)
        self.name = "hr" + self.mark[-8:]  # comm: at most 15 characters
        self.exe = pyexe_named(tmp_path, self.name)
        self.trig = subprocess.Popen([self.exe, str(self.script), self.held, self.watched, str(UID)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        line = self.trig.stdout.readline().split()
        assert line[:1] == ["ready"], (line, self.trig.stderr.read() if self.trig.poll() is not None else "")
        self.held_fd = int(line[1])
        self.rules = tmp_path / "hostroot_rules.yaml"
        self.rules.write_text(RULES.format(watched=self.watched, pid=self.trig.pid, mark=self.mark))
        self.cmdline = f"{self.name} {self.script} {self.held} {self.watched} {UID}"

    def fire(self):
        self.trig.stdin.write("go\n")
        self.trig.stdin.flush()
        assert self.trig.stdout.readline().strip() == "done", self.trig.stderr.read()

    def falco(self, falco_bin, host_root):
        """falco in its own pid namespace; host_root None: no HOST_ROOT (and no bind)."""
        env = {k: v for k, v in os.environ.items() if k != "HOST_ROOT"}
        if host_root is not None:
            env["HOST_ROOT"] = host_root
        # a program per alert whose command line carries the marker: falco's own child
        cfg = ("program_output:\n  enabled: true\n  keep_alive: false\n"
               f"  program: \"cat >/dev/null # {self.mark}\"\n")
        bind = str(self.host / "proc") if host_root is not None else ""
        return LiveSyscallFalco(falco_bin, self.tmp, self.rules, config_extra=cfg,
                                wrap=[PY, str(self.wrapper), bind], env=env)

    def close(self):
        if self.trig.poll() is None:
            self.trig.kill()
        self.trig.wait()
        for p in (self.held, self.watched):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass


@pytest.fixture
def scenario(tmp_path):
    s = Scenario(tmp_path)
    yield s
    s.close()


def test_host_root_resolves_host_processes(falco_bin, scenario):
    s = scenario
    with s.falco(falco_bin, str(s.host)) as f:
        assert any(f"processes loaded from {s.host}/proc" in l for l in f.err_lines), f.err_lines
        assert not any("pid namespace" in l for l in f.err_lines), f.err_lines
        s.fire()
        a = f.wait_alert("HostRoot Watched Open", lambda a: fields(a).get("proc.pid") == s.trig.pid)
        x = fields(a)
        assert x["proc.name"] == s.name
        assert x["proc.cmdline"] == s.cmdline
        assert x["proc.exepath"] == os.path.realpath(PY)
        assert x["user.uid"] == UID
        assert x["user.name"] == s.user  # from $HOST_ROOT/etc/passwd: no NSS of this machine knows UID
        assert x["container.id"] == "host"
        assert x["fd.name"] == s.watched
        h = fields(f.wait_alert("HostRoot Held Fchmod"))
        assert h["fd.num"] == s.held_fd
        assert h["fd.name"] == s.held  # seeded from $HOST_ROOT/proc/PID/fd
        assert h["proc.name"] == s.name
        # falco's output program ran once per alert: a child of falco, never judged by the rules ...
        f.settle()
        assert not f.matching("HostRoot Marked Exec"), f.matching("HostRoot Marked Exec")
        # ... while the same rule fires for anyone else
        subprocess.run(["/bin/sh", "-c", f": {s.mark}"], check=True)
        m = fields(f.wait_alert("HostRoot Marked Exec"))
        assert m["proc.name"] == "sh" and m["proc.ppid"] == os.getpid()
        assert f.stop() == 0, "\n".join(f.err_lines[-30:])


def test_without_host_root_host_processes_are_unknown(falco_bin, scenario):
    """The degradation HOST_ROOT exists for: falco's own /proc numbers other processes."""
    s = scenario
    with s.falco(falco_bin, None) as f:
        assert any("processes loaded from /proc" in l for l in f.err_lines), f.err_lines
        s.fire()
        a = f.wait_alert("HostRoot Watched Open", lambda a: fields(a).get("proc.pid") == s.trig.pid)
        x = fields(a)
        # what the event carries is right
        assert x["proc.pid"] == s.trig.pid and x["fd.name"] == s.watched
        # what only /proc could tell is not (JSON null is <NA>)
        assert x["proc.name"] is None, x
        assert x["proc.cmdline"] == "", x
        assert x["proc.exepath"] is None, x
        assert str(x["user.uid"]) == "4294967295" and x["user.name"] is None, x  # unknown, never root
        h = fields(f.wait_alert("HostRoot Held Fchmod"))
        assert h["fd.num"] == s.held_fd and h["fd.name"] is None, h
        # falco's children stay its own: no alert on the output program, so no alert loop
        f.settle()
        assert not f.matching("HostRoot Marked Exec"), len(f.matching("HostRoot Marked Exec"))
        assert any("pid namespace other than the host's" in l and "HOST_ROOT" in l for l in f.err_lines)
        assert f.stop() == 0, "\n".join(f.err_lines[-30:])


def run_falco_expecting_failure(falco_bin, s, host_root):
    env = dict(os.environ, HOST_ROOT=host_root)
    cfg = s.tmp / "bad.yaml"
    cfg.write_text("webserver:\n  enabled: false\nlog_syslog: false\nsyslog_output:\n  enabled: false\n")
    r = subprocess.run([falco_bin, "-c", str(cfg), "-U", "-r", str(s.rules)], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    return r


@pytest.mark.parametrize("kind", ["relative", "not_procfs", "missing_proc"])
def test_bad_host_root_refuses_to_start(falco_bin, scenario, kind):
    s = scenario
    if kind == "relative":
        value = "host"
        want = "is not an absolute path"
    elif kind == "not_procfs":
        value = str(s.host)  # host/proc is a plain directory: nothing bound there
        want = "is not a proc filesystem"
    else:
        value = str(s.tmp / "nothing-here")
        want = "No such file or directory"
    r = run_falco_expecting_failure(falco_bin, s, value)
    assert r.returncode != 0, r.stderr
    line = [l for l in r.stderr.splitlines() if "HOST_ROOT" in l]
    assert line, r.stderr
    assert want in line[0] and "failed to open the syscall source" in line[0], line
    assert "probe attached" not in r.stderr
