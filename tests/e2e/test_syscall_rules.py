# SPDX-License-Identifier: Apache-2.0
"""Our rules/falco_rules.yaml on the live kernel: each test performs a real action and checks the exact rule name
and its key output fields, then performs a benign twin of it and checks that nothing fired for the twin.

Runs as root with the eBPF probe; skipped when BPF is genuinely unavailable (no root, no BTF, the probe refused)."""
import ctypes
import os
import signal
import socket
import subprocess
import time

import pytest

from syscall_support import (OUR_RULES, PY, FakeContainer, LiveSyscallFalco, bpf_prerequisites, copy_true, fields,
                             marker, py, pyexe_named, sh)

pytestmark = pytest.mark.skipif(bpf_prerequisites() is not None, reason=str(bpf_prerequisites()))


@pytest.fixture(scope="module")
def live(falco_bin, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("syscall_rules")
    f = LiveSyscallFalco(falco_bin, tmp, OUR_RULES)
    yield f
    rc = f.stop()
    assert rc == 0, "\n".join(f.err_lines[-30:])


@pytest.fixture
def work(tmp_path):
    return tmp_path


def no_alert(live, rule, pred):
    live.settle()
    assert not live.matching(rule, pred), live.matching(rule, pred)


def test_sensitive_file_read_untrusted(live, work):
    m = marker()
    exe = pyexe_named(work, "reader" + m[-4:])
    py("open('/etc/shadow').read()", exe=exe)
    a = live.wait_alert("Sensitive File Read by Untrusted Program",
                        lambda a: fields(a).get("proc.exepath", "").endswith(os.path.basename(exe))
                        or fields(a).get("proc.name") == os.path.basename(exe)[:15])
    f = fields(a)
    assert f["fd.name"] == "/etc/shadow"
    assert f["proc.name"] == os.path.basename(exe)[:15]
    assert "O_RDONLY" in f["evt.arg.flags"]
    assert f["user.name"] == "root" and f["user.uid"] == 0
    assert f["container.id"] == "host"
    assert a["priority"] == "Warning" and a["source"] == "syscall"
    # twins: the same program on an ordinary file, and a trusted program on /etc/shadow
    twin = pyexe_named(work, "twin" + m[-4:])
    py("open('/etc/hostname').read()", exe=twin)
    trusted = pyexe_named(work, "unix_chkpwd")
    py("open('/etc/shadow').read()", exe=trusted)
    no_alert(live, "Sensitive File Read by Untrusted Program",
             lambda a: fields(a).get("proc.name") in (os.path.basename(twin), "unix_chkpwd"))


def test_write_below_etc(live, work):
    m = marker()
    path = f"/etc/{m}.conf"
    try:
        py(f"open({path!r},'w').write('x')")
        a = live.wait_alert("Write Below System Directory", lambda a: fields(a).get("fd.name") == path)
        f = fields(a)
        assert f["fd.directory"] == "/etc"
        assert f["proc.name"] == "python3"
        assert "O_WRONLY" in f["evt.arg.flags"] and "O_CREAT" in f["evt.arg.flags"]
        assert a["priority"] == "Error"
    finally:
        os.unlink(path)
    other = str(work / f"{m}.conf")
    py(f"open({other!r},'w').write('x')")
    py(f"open('/etc/hostname').read()")
    no_alert(live, "Write Below System Directory",
             lambda a: fields(a).get("fd.name") in (other, "/etc/hostname"))


def test_shell_in_container(live, work):
    m = marker()
    with FakeContainer() as c:
        r = c.run(["/bin/sh", "-c", f"echo {m} >/dev/null"])
        assert r.returncode == 0, r.stderr
        a = live.wait_alert("Shell Spawned in Container",
                            lambda a: m in fields(a).get("proc.cmdline", ""))
        f = fields(a)
        assert f["container.id"] == c.id[:12]
        assert f["proc.name"] == "sh"
        assert f["proc.cmdline"] == f"sh -c echo {m} >/dev/null"
        assert a["priority"] == "Notice"
        # unshare itself changed namespaces outside of any runtime
        n = live.wait_alert("Namespace Change by Non-Runtime Process",
                            lambda a: fields(a).get("proc.name") == "unshare" and
                            fields(a).get("container.id") == c.id[:12])
        assert "CLONE_NEWNS" in fields(n)["evt.arg.flags"] and "CLONE_NEWPID" in fields(n)["evt.arg.flags"]
        # package management at runtime, in the container
        r = c.run(["apt-get", "--version"])
        a = live.wait_alert("Package Management in Container",
                            lambda a: fields(a).get("container.id") == c.id[:12])
        assert fields(a)["proc.name"] == "apt-get"
    # twins on the host: a shell, and the package manager
    sh(f"/bin/sh -c 'echo {m}-host >/dev/null'")
    sh("apt-get --version >/dev/null")
    no_alert(live, "Shell Spawned in Container", lambda a: f"{m}-host" in fields(a).get("proc.cmdline", ""))
    no_alert(live, "Package Management in Container", lambda a: fields(a).get("container.id") == "host")


def test_ptrace_attach_and_antidebug(live, work):
    victim = subprocess.Popen(["sleep", "30"])
    try:
        code = ("import ctypes,os,sys\n"
                "libc=ctypes.CDLL(None,use_errno=True)\n"
                "pid=int(sys.argv[1])\n"
                "assert libc.ptrace(16,pid,0,0)==0, ctypes.get_errno()\n"  # PTRACE_ATTACH
                "os.waitpid(pid,0)\n"
                "libc.ptrace(17,pid,0,0)\n")  # PTRACE_DETACH
        exe = pyexe_named(work, "tracer")
        py(code, str(victim.pid), exe=exe)
        a = live.wait_alert("Ptrace Attach to Process", lambda a: fields(a).get("proc.name") == "tracer")
        f = fields(a)
        assert f["evt.arg.request"] == "PTRACE_ATTACH"
        assert f["evt.arg.pid"] == str(victim.pid)
        # twin: a request on a process we do not trace fails, nothing fires
        twin = pyexe_named(work, "tracer2")
        py("import ctypes,sys\nctypes.CDLL(None).ptrace(7,int(sys.argv[1]),0,0)", str(victim.pid), exe=twin)
        no_alert(live, "Ptrace Attach to Process", lambda a: fields(a).get("proc.name") == "tracer2")
    finally:
        victim.kill()
        victim.wait()
    exe = pyexe_named(work, "antidbg")
    py("import ctypes\nassert ctypes.CDLL(None).ptrace(0,0,0,0)==0", exe=exe)  # PTRACE_TRACEME
    a = live.wait_alert("Ptrace Anti-Debug Attempt", lambda a: fields(a).get("proc.name") == "antidbg")
    assert a["priority"] == "Notice"


def test_outbound_connection_of_system_binary(live, work):
    code = ("import socket,sys\n"
            "s=socket.socket(); s.setblocking(False)\n"
            "s.connect_ex((sys.argv[1],int(sys.argv[2])))\n")
    exe = pyexe_named(work, "sha1sum")
    py(code, "192.0.2.123", "8443", exe=exe)
    a = live.wait_alert("System Binary Outbound Connection",
                        lambda a: fields(a).get("fd.rport") == 8443 and fields(a).get("proc.name") == "sha1sum")
    f = fields(a)
    assert f["fd.rip"] == "192.0.2.123"
    assert f["fd.l4proto"] == "tcp"
    assert f["evt.res"] in ("EINPROGRESS", "SUCCESS")
    assert f["fd.name"].endswith("->192.0.2.123:8443")
    # twins: the same binary on loopback, and a program that may talk to the network
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    port = srv.getsockname()[1]
    py(code, "127.0.0.1", str(port), exe=exe)
    py(code, "192.0.2.123", "8444")
    srv.close()
    no_alert(live, "System Binary Outbound Connection",
             lambda a: fields(a).get("fd.rport") in (port, 8444))


def test_memfd_and_dev_shm_execution(live, work):
    code = ("import os\n"
            "fd=os.memfd_create('payload',0)\n"
            "os.write(fd,open('/bin/true','rb').read())\n"
            "pid=os.fork()\n"
            "if pid==0:\n"
            "    os.execve(f'/proc/self/fd/{fd}',['payload'],{})\n"
            "os.waitpid(pid,0)\n")
    py(code)
    a = live.wait_alert("Fileless Execution via memfd")
    assert fields(a)["proc.name"] in ("3", "4", "5", "payload") or fields(a)["proc.exepath"].startswith("memfd:") \
        or "memfd" in fields(a)["proc.exepath"]
    assert a["priority"] == "Critical"
    m = marker()
    shm = copy_true(f"/dev/shm/{m}")
    tmpcopy = copy_true(str(work / f"{m}-tmp"))
    try:
        sh([shm])
        a = live.wait_alert("Execution from /dev/shm", lambda a: fields(a).get("proc.exepath") == shm)
        assert fields(a)["proc.name"] == m[:15]
    finally:
        os.unlink(shm)
    sh([tmpcopy])
    no_alert(live, "Execution from /dev/shm", lambda a: fields(a).get("proc.exepath") == tmpcopy)
    no_alert(live, "Fileless Execution via memfd", lambda a: fields(a).get("proc.exepath") == tmpcopy)


def test_reverse_shells(live, work):
    nc = pyexe_named(work, "nc")
    subprocess.run([nc, "-c", "pass", "-e", "/bin/sh"], timeout=30)
    a = live.wait_alert("Netcat Remote Command Execution", lambda a: fields(a).get("proc.name") == "nc")
    assert "-e /bin/sh" in fields(a)["proc.cmdline"]
    subprocess.run([nc, "-zv", "127.0.0.1", "9"], timeout=30, stderr=subprocess.DEVNULL)
    no_alert(live, "Netcat Remote Command Execution", lambda a: "-zv" in fields(a).get("proc.cmdline", ""))

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    exe = pyexe_named(work, "revshell")
    code = ("import os,socket,sys\n"
            "s=socket.create_connection(('127.0.0.1',int(sys.argv[1])))\n"
            "os.dup2(s.fileno(),1)\n")
    p = subprocess.Popen([exe, "-c", code, str(port)])
    conn, _ = srv.accept()
    p.wait(timeout=30)
    conn.close()
    srv.close()
    a = live.wait_alert("Standard Stream Redirected to Socket", lambda a: fields(a).get("proc.name") == "revshell")
    f = fields(a)
    assert f["evt.rawres"] == 1
    assert f["fd.name"].endswith(f"->127.0.0.1:{port}")
    # twin: stdout onto a file
    twin = pyexe_named(work, "fileout")
    out = str(work / "out.txt")
    subprocess.run([twin, "-c", f"import os\nos.dup2(os.open({out!r},os.O_WRONLY|os.O_CREAT),1)"], timeout=30)
    no_alert(live, "Standard Stream Redirected to Socket", lambda a: fields(a).get("proc.name") == "fileout")


def test_links_over_sensitive_files(live, work):
    m = marker()
    link = str(work / f"{m}-shadow")
    os.symlink("/etc/shadow", link)
    a = live.wait_alert("Symlink Created Over Sensitive File",
                        lambda a: fields(a).get("evt.arg.linkpath", "").endswith(f"{m}-shadow"))
    assert fields(a)["evt.arg.target"] == "/etc/shadow"
    benign = str(work / f"{m}-hostname")
    os.symlink("/etc/hostname", benign)
    no_alert(live, "Symlink Created Over Sensitive File",
             lambda a: fields(a).get("evt.arg.linkpath", "").endswith(f"{m}-hostname"))
    hl = f"/etc/{m}-hl"
    try:
        os.link("/etc/shadow", hl)
    except OSError as e:
        pytest.skip(f"cannot hard-link /etc/shadow here: {e}")
    try:
        a = live.wait_alert("Hardlink Created Over Sensitive File",
                            lambda a: fields(a).get("evt.arg.newpath") == hl)
        assert fields(a)["evt.arg.oldpath"] == "/etc/shadow"
    finally:
        os.unlink(hl)


def test_log_cleared(live, work):
    m = marker()
    path = f"/var/log/{m}.log"
    try:
        py(f"open({path!r},'a').write('line\\n')")  # twin first: appending clears nothing
        py(f"open({path!r},'w')")
        a = live.wait_alert("Log File Cleared", lambda a: fields(a).get("fd.name") == path)
        assert "O_TRUNC" in fields(a)["evt.arg.flags"]
        assert len(live.matching("Log File Cleared", lambda a: fields(a).get("fd.name") == path)) == 1
    finally:
        os.unlink(path)


def test_credential_search(live, work):
    m = marker()
    sh(["grep", "-rl", "id_rsa", str(work)], check=False)
    a = live.wait_alert("Credential Search", lambda a: str(work) in fields(a).get("proc.cmdline", ""))
    assert fields(a)["proc.name"] == "grep"
    sh(["grep", "-rl", m, str(work)], check=False)
    no_alert(live, "Credential Search", lambda a: m in fields(a).get("proc.cmdline", ""))


def test_setuid_bit(live, work):
    m = marker()
    f1, f2 = work / f"{m}-suid", work / f"{m}-plain"
    f1.write_text("x")
    f2.write_text("x")
    os.chmod(f1, 0o4755)
    a = live.wait_alert("Setuid or Setgid Bit Set", lambda a: fields(a).get("evt.arg.filename") == str(f1))
    assert "S_ISUID" in fields(a)["evt.arg.mode"]
    os.chmod(f2, 0o755)
    no_alert(live, "Setuid or Setgid Bit Set", lambda a: fields(a).get("evt.arg.filename") == str(f2))


def test_terminal_shell(live, work):
    m = marker()
    r = subprocess.run(["script", "-qec", f"sh -c 'echo {m}; true'", "/dev/null"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    if r.returncode != 0 and b"not found" in r.stderr:
        pytest.skip("script(1) missing")
    a = live.wait_alert("Terminal Shell Opened", lambda a: m in fields(a).get("proc.cmdline", ""))
    assert fields(a)["proc.tty"] != 0
    sh(f"sh -c 'echo {m}-notty'")
    no_alert(live, "Terminal Shell Opened", lambda a: f"{m}-notty" in fields(a).get("proc.cmdline", ""))


def test_falco_ignores_its_own_activity(live):
    """Nothing the daemon itself (or a child of it) does reaches the rules."""
    live.settle(0.5)
    assert not [a for a in live.alerts if fields(a).get("proc.name") == "falco"]
