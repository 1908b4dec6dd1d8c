# SPDX-License-Identifier: Apache-2.0
"""Upstream's own rule files against our syscall source: the stable, incubating and sandbox files load with no
unknown field, every field we list loads in conditions and outputs, and real actions on the live kernel fire at
least five of upstream's stable rules. Skipped cleanly without ../shared/upstream-rules or without BPF."""
import json
import os
import re
import socket
import subprocess

import pytest

from conftest import run
from syscall_support import (FakeContainer, LiveSyscallFalco, bpf_prerequisites, copy_true, fields, marker, py,
                             pyexe_named, sh)

FILES = ["falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"]


@pytest.mark.parametrize("name", FILES)
def test_upstream_file_loads_without_unknown_fields(falco_bin, upstream_rules, tmp_path, name):
    cfg = tmp_path / "falco.yaml"
    cfg.write_text("json_output: true\n")
    r = run([falco_bin, "-c", str(cfg), "-V", os.path.join(upstream_rules, name)])
    assert r.returncode == 0, r.stdout + r.stderr
    res = json.loads(r.stdout)["falco_load_results"][0]
    assert res["successful"] is True
    assert res["errors"] == []
    bad = [w for w in res["warnings"] if w["code"] not in ("LOAD_UNUSED_MACRO", "LOAD_UNUSED_LIST")]
    assert bad == [], bad
    assert "nonexistent field" not in r.stdout


def test_upstream_files_load_together(falco_bin, upstream_rules, tmp_path):
    cfg = tmp_path / "falco.yaml"
    cfg.write_text("json_output: false\n")
    args = [falco_bin, "-c", str(cfg)]
    for n in FILES:
        args += ["-r", os.path.join(upstream_rules, n)]
    r = run(args + ["-L"])
    assert r.returncode == 0, r.stderr
    assert "Read sensitive file untrusted" in r.stdout
    assert "Unexpected UDP Traffic" in r.stdout or "Launch Sensitive Mount Container" in r.stdout


def listed_fields(falco_bin):
    """Every syscall field `--list syscall` prints, with whether it needs an argument."""
    r = run([falco_bin, "--list=syscall", "-N"])
    assert r.returncode == 0, r.stderr
    names = [n for n in r.stdout.split() if "." in n]
    full = run([falco_bin, "--list=syscall"]).stdout
    return [(n, f"\n{n}[arg]" in "\n" + full) for n in names]


def sample_arg(name):
    if name in ("evt.arg", "evt.rawarg"):
        return "fd"
    if name.startswith("container.mount"):
        return "/etc"
    if name == "proc.env":
        return "HOME"
    return "2"


def test_every_listed_field_in_upstream_style_rules(falco_bin, tmp_path):
    """A rule whose condition and output use every field --list prints loads; run live it fills them all in."""
    flds = listed_fields(falco_bin)
    names = {n for n, _ in flds}
    for must in ("proc.aname", "proc.exe_ino.ctime_duration_proc_start", "thread.cap_permitted", "fd.sip.name",
                 "fd.name_changed", "container.mount.dest", "k8s.pod.name", "evt.arg", "evt.rawarg", "evt.dir",
                 "proc.vpgid", "proc.exe_ino", "container.image.tag", "user.loginname", "group.name",
                 "evt.buffer", "evt.is_open_exec", "proc.is_vpgid_leader", "fd.snet", "evt.time"):
        assert must in names, must
    conds, outs = [], []
    for n, needs_arg in flds:
        if n in ("evt.type", "syscall.type"):
            continue
        ref = f"{n}[{sample_arg(n)}]" if needs_arg else n
        conds.append(f"{ref} exists")
        outs.append(f"{n}=%{ref}")
    rules = tmp_path / "every.yaml"
    rules.write_text("- rule: Every Field\n  desc: every field we list\n"
                     f"  condition: evt.type in (openat, open) and fd.name = /etc/hostname and ({' or '.join(conds)})\n"
                     f"  output: \"{' '.join(outs)}\"\n  priority: INFO\n")
    cfg = tmp_path / "falco.yaml"
    cfg.write_text("json_output: true\n")
    r = run([falco_bin, "-c", str(cfg), "-V", str(rules)])
    assert r.returncode == 0, r.stdout + r.stderr
    why = bpf_prerequisites()
    if why:
        pytest.skip(why)
    with LiveSyscallFalco(falco_bin, tmp_path, rules) as f:
        exe = pyexe_named(tmp_path, "everyfield")
        py("open('/etc/hostname').read()", exe=exe)
        a = f.wait_alert("Every Field", lambda a: fields(a).get("proc.name") == "everyfield")
    of = fields(a)
    for key, want in (("proc.name", "everyfield"), ("fd.name", "/etc/hostname"), ("fd.typechar", "f"),
                      ("evt.category", "file"), ("user.name", "root"), ("container.id", "host"),
                      ("evt.is_open_read", True), ("evt.dir", "<"), ("fd.directory", "/etc")):
        assert of.get(key) == want, (key, of.get(key))
    assert of.get("proc.ppid") > 1 and of.get("thread.tid") > 1
    assert "CAP_SYS_ADMIN" in of.get("thread.cap_effective")


@pytest.fixture(scope="module")
def stable(falco_bin, upstream_rules, tmp_path_factory):
    why = bpf_prerequisites()
    if why:
        pytest.skip(why)
    tmp = tmp_path_factory.mktemp("upstream_live")
    f = LiveSyscallFalco(falco_bin, tmp, os.path.join(upstream_rules, "falco_rules.yaml"))
    yield f, tmp
    f.stop()


def test_upstream_stable_rules_fire_live(stable):
    f, tmp = stable
    m = marker()
    fired = {}

    def expect(rule, pred=None):
        try:
            fired[rule] = f.wait_alert(rule, pred, timeout=10)
        except AssertionError:
            pass

    # Read sensitive file untrusted
    reader = pyexe_named(tmp, "shadowreader")
    py("open('/etc/shadow').read()", exe=reader)
    expect("Read sensitive file untrusted", lambda a: fields(a).get("proc.name") == "shadowreader")
    # Create Symlink Over Sensitive Files / Create Hardlink Over Sensitive Files
    os.symlink("/etc/shadow", str(tmp / f"{m}-sym"))
    expect("Create Symlink Over Sensitive Files")
    hl = f"/etc/{m}-hl"
    try:
        os.link("/etc/shadow", hl)
        expect("Create Hardlink Over Sensitive Files")
    finally:
        if os.path.exists(hl):
            os.unlink(hl)
    # Clear Log Activities
    log = f"/var/log/{m}.log"
    py(f"open({log!r},'w')")
    os.unlink(log)
    expect("Clear Log Activities", lambda a: fields(a).get("fd.name") == log)
    # Search Private Keys or Passwords, Find AWS Credentials
    sh(["grep", "-r", "BEGIN RSA PRIVATE", str(tmp)], check=False)
    expect("Search Private Keys or Passwords")
    sh(["find", str(tmp), "-path", "*/.aws/credentials"], check=False)
    sh(["grep", "-r", "aws_secret_access_key", str(tmp)], check=False)
    expect("Find AWS Credentials")
    # PTRACE attached to process, PTRACE anti-debug attempt
    victim = subprocess.Popen(["sleep", "30"])
    try:
        py("import ctypes,os,sys\nlibc=ctypes.CDLL(None)\npid=int(sys.argv[1])\n"
           "libc.ptrace(16,pid,0,0)\nos.waitpid(pid,0)\nlibc.ptrace(17,pid,0,0)\n", str(victim.pid))
    finally:
        victim.kill()
        victim.wait()
    expect("PTRACE attached to process")
    py("import ctypes\nctypes.CDLL(None).ptrace(0,0,0,0)")
    expect("PTRACE anti-debug attempt")
    # Execution from /dev/shm
    shm = copy_true(f"/dev/shm/{m}")
    try:
        sh([shm])
    finally:
        os.unlink(shm)
    expect("Execution from /dev/shm")
    # Fileless execution via memfd_create
    py("import os\nfd=os.memfd_create('x',0)\nos.write(fd,open('/bin/true','rb').read())\n"
       "pid=os.fork()\nif pid==0:\n    os.execve(f'/proc/self/fd/{fd}',['x'],{})\nos.waitpid(pid,0)\n")
    expect("Fileless execution via memfd_create")
    # in a (fake) container: netcat, stdout to a socket, packet socket
    with FakeContainer() as c:
        nc = pyexe_named(tmp, "nc")
        c.run([nc, "-c", "pass", "-e", "/bin/sh"])
        expect("Netcat Remote Code Execution in Container")
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        port = srv.getsockname()[1]
        c.run([pyexe_named(tmp, "rev"), "-c",
               "import os,socket,sys\ns=socket.create_connection(('127.0.0.1',int(sys.argv[1])))\n"
               "os.dup2(s.fileno(),1)\n", str(port)])
        srv.close()
        expect("Redirect STDOUT/STDIN to Network Connection in Container")
        c.run([pyexe_named(tmp, "pkt"), "-c", "import socket\nsocket.socket(17, socket.SOCK_RAW, 0)"])
        expect("Packet socket created in container")
    print("upstream stable rules fired:", sorted(fired))
    assert len(fired) >= 5, sorted(fired)
    # key fields as upstream's outputs name them
    a = fired.get("Read sensitive file untrusted")
    if a:
        assert fields(a)["fd.name"] == "/etc/shadow"
        assert fields(a)["proc.name"] == "shadowreader"
    a = fired.get("PTRACE attached to process")
    if a:
        assert fields(a)["evt.type"] == "ptrace"
