# SPDX-License-Identifier: Apache-2.0
"""State falco keeps from events that are easy to miss, live.

The fd table against descriptors closed without close(2): close_range (what subprocess's close_fds and many daemons
use) and close_range(CLOSE_RANGE_CLOEXEC) followed by exec. A process puts the watched file on fd 7, then (or not)
closes fds 3.. with close_range, then makes sure fd 7 is open again (if it was closed, it creates eventfds, which
the probe does not report, until the kernel hands out 7) and dups it. The dup event's fd.name must name what fd 7
really is: the watched file when it stayed open, and not the watched file once it was closed (falco would
otherwise name a descriptor that no longer exists). The same when fd 7 is replaced by dup2 of a descriptor falco
does not know (an eventfd).

Credentials changed with setreuid/setregid: a root process switches its effective ids to nobody/nogroup that way
and opens the watched file; user.uid and group.gid of that open must be the new ones."""
import subprocess

import pytest

from syscall_support import LiveSyscallFalco, bpf_prerequisites, fields, marker, pyexe_named

pytestmark = pytest.mark.skipif(bpf_prerequisites() is not None, reason=str(bpf_prerequisites()))

RULE = "Dup by fd state test"
RANGE_RULE = "Close range test"
CRED_RULE = "Open by credentials test"
NOBODY = 65534

SETRE = """
import os, sys
os.setregid(0, %d)
os.setreuid(0, %d)
try:
    os.open(sys.argv[1], os.O_RDONLY)
except OSError:
    pass  # the open is what matters, not its result
""" % (NOBODY, NOBODY)

# dup(2) itself: os.dup() uses fcntl(F_DUPFD_CLOEXEC)
CHILD = """
import ctypes, os
try:
    os.fstat(7)
except OSError:
    while os.eventfd(0) != 7:
        pass
ctypes.CDLL(None).dup(7)
"""

# puts the watched file on fd 7, closes fd 3.. (or only marks them close-on-exec) with the raw syscall, then runs
# CHILD in place or after an exec of the same program
CLOSER = """
import ctypes, os, sys
mode, watched, child, exe = sys.argv[1:5]
os.dup2(os.open(watched, os.O_RDONLY), 7)
libc = ctypes.CDLL(None, use_errno=True)
if mode == "dup2over":  # a descriptor falco does not know (eventfds are not reported) replaces fd 7
    os.dup2(os.eventfd(0), 7)
elif mode != "keep":
    flags = 4 if mode == "cloexec" else 0  # CLOSE_RANGE_CLOEXEC
    if libc.syscall(436, 3, 0xFFFFFFFF, flags) != 0:
        sys.exit("close_range: errno %d" % ctypes.get_errno())
if mode == "cloexec":
    os.execv(exe, [exe, "-c", child])
exec(child)
"""


@pytest.fixture(scope="module")
def live(falco_bin, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("state")
    name = marker()[:15]
    rules = tmp / "rules.yaml"
    rules.write_text(f"""
- rule: {RULE}
  desc: every dup by the test's processes, with what falco knows of the old descriptor
  condition: evt.type = dup and proc.name = {name}
  output: dup of fd %evt.arg.oldfd (fd.name=%fd.name fd.num=%fd.num proc.pid=%proc.pid)
  priority: WARNING
- rule: {RANGE_RULE}
  desc: the close_range event itself, as rules see it
  condition: evt.type = close_range and proc.name = {name}
  output: close_range (evt.arg.fd=%evt.arg.fd evt.arg.max_fd=%evt.arg.max_fd evt.arg.flags=%evt.arg.flags evt.res=%evt.res proc.pid=%proc.pid)
  priority: WARNING
- rule: {CRED_RULE}
  desc: opens of the watched file by the test's processes, with the credentials falco knows
  condition: evt.type in (open, openat, openat2) and proc.name = {name} and fd.name = {tmp / "watched.txt"}
  output: open (user.uid=%user.uid group.gid=%group.gid proc.pid=%proc.pid)
  priority: WARNING
""")
    f = LiveSyscallFalco(falco_bin, tmp, [rules])
    f.name = name
    f.exe = pyexe_named(tmp, name)
    f.watched = str(tmp / "watched.txt")
    with open(f.watched, "w") as w:
        w.write("x\n")
    yield f
    rc = f.stop()
    assert rc == 0, "\n".join(f.err_lines[-30:])


def dup_seen(live, mode):
    """Runs CLOSER in the given mode; returns the fd.name of its dup alert."""
    p = subprocess.Popen([live.exe, "-c", CLOSER, mode, live.watched, CHILD, live.exe], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    a = live.wait_alert(RULE, lambda a: fields(a).get("proc.pid") == p.pid)
    assert fields(a)["fd.num"] == 7, a
    if mode in ("close", "cloexec"):
        c = fields(live.wait_alert(RANGE_RULE, lambda a: fields(a).get("proc.pid") == p.pid))
        assert (c["evt.arg.fd"], c["evt.arg.max_fd"], c["evt.res"]) == ("3", "4294967295", "SUCCESS"), c
        assert c["evt.arg.flags"] == ("CLOSE_RANGE_CLOEXEC" if mode == "cloexec" else "0"), c
    return fields(a)["fd.name"]


def test_open_descriptor_is_named(live):
    assert dup_seen(live, "keep") == live.watched


def test_close_range_closes_in_the_fd_table(live):
    assert dup_seen(live, "close") != live.watched


def test_close_range_cloexec_closes_at_exec(live):
    assert dup_seen(live, "cloexec") != live.watched


def test_dup2_of_an_unknown_descriptor_replaces_the_entry(live):
    assert dup_seen(live, "dup2over") != live.watched


def test_setreuid_setregid_change_the_credentials(live):
    p = subprocess.Popen([live.exe, "-c", SETRE, live.watched], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    a = fields(live.wait_alert(CRED_RULE, lambda a: fields(a).get("proc.pid") == p.pid))
    assert (a["user.uid"], a["group.gid"]) == (NOBODY, NOBODY), a
