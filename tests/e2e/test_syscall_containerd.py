# SPDX-License-Identifier: Apache-2.0
"""Container metadata of a real containerd container, live: containerd (private --root, the default state dir
/run/containerd, a private socket) runs a container from a tiny OCI image built here from busybox-static, with
the annotations containerd's CRI plugin gives a kubelet container; falco reads the task's OCI bundle
(/run/containerd/io.containerd.runtime.v2.task/k8s.io/<id>/config.json) and its alerts carry the container's
name, image and pod. containerd speaks only gRPC on its socket: nothing here goes through it but ctr."""
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tarfile
import time
import uuid

import pytest

from syscall_support import OUR_RULES, LiveSyscallFalco, bpf_prerequisites, fields, marker

pytestmark = pytest.mark.skipif(bpf_prerequisites() is not None, reason=str(bpf_prerequisites()))

STATE_DIR = "/run/containerd"
IMAGE = "registry.example.com/team/bb:1.0"

RULES = """\
- rule: Shell in containerd container
  desc: test rule printing the metadata falco found for a containerd container
  condition: evt.type in (execve, execveat) and container.id != host and proc.name = sh
  output: >
    shell %proc.cmdline in %container.id type=%container.type name=%container.name image=%container.image
    repo=%container.image.repository tag=%container.image.tag ns=%k8s.ns.name pod=%k8s.pod.name
    uid=%k8s.pod.uid proc_src=%container.mount.source[/proc] start=%container.start_ts
    ns_init=%proc.pidns_init_start_ts
  priority: WARNING
"""


def other_containerd():
    """Why the default state dir is taken, or None: a running containerd (by process name, or a live socket)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == "containerd":
                    return f"another containerd (pid {pid}) is already running and owns {STATE_DIR}"
        except OSError:
            pass
    sock = os.path.join(STATE_DIR, "containerd.sock")
    if os.path.exists(sock):
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(sock)
            return f"another containerd is already serving {sock}"
        except OSError:
            pass
        finally:
            s.close()
    return None


def oci_image_tar(path, ref):
    """An OCI image layout archive with one uncompressed layer: /bin/busybox (static) and its applets we use."""
    def add(tf, name, data):
        ti = tarfile.TarInfo(name)
        ti.size, ti.mode = len(data), 0o644
        tf.addfile(ti, io.BytesIO(data))

    def blob(tf, data):
        digest = hashlib.sha256(data).hexdigest()
        add(tf, "blobs/sha256/" + digest, data)
        return {"digest": "sha256:" + digest, "size": len(data)}

    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as lt:
        for d in ("bin", "dev", "etc", "proc", "sys", "tmp"):
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode = tarfile.DIRTYPE, 0o755
            lt.addfile(ti)
        with open("/bin/busybox", "rb") as f:
            data = f.read()
        ti = tarfile.TarInfo("bin/busybox")
        ti.size, ti.mode = len(data), 0o755
        lt.addfile(ti, io.BytesIO(data))
        for applet in ("sh", "sleep", "echo", "cat"):
            ti = tarfile.TarInfo("bin/" + applet)
            ti.type, ti.linkname = tarfile.SYMTYPE, "busybox"
            lt.addfile(ti)
    with tarfile.open(path, "w") as tf:
        ld = blob(tf, layer.getvalue())
        cfg = blob(tf, json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                                   "rootfs": {"type": "layers", "diff_ids": [ld["digest"]]}}).encode())
        man = blob(tf, json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": dict(cfg, mediaType="application/vnd.oci.image.config.v1+json"),
            "layers": [dict(ld, mediaType="application/vnd.oci.image.layer.v1.tar")]}).encode())
        add(tf, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add(tf, "index.json", json.dumps({"schemaVersion": 2, "manifests": [dict(
            man, mediaType="application/vnd.oci.image.manifest.v1+json",
            annotations={"io.containerd.image.name": ref,
                         "org.opencontainers.image.ref.name": ref.rsplit(":", 1)[1]})]}).encode())


class Containerd:
    """containerd with a private root and socket under tmp, on the default state dir; ctr() talks to it."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.sock = str(tmp / "containerd.sock")
        cfg = tmp / "containerd.toml"
        # the CRI plugin would want CNI and a kubelet; the bundle carries the same annotations without it
        cfg.write_text(f'version = 2\nroot = "{tmp}/root"\nstate = "{STATE_DIR}"\n'
                       f'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "{self.sock}"\n')
        self.log = open(tmp / "containerd.log", "w")
        self.proc = subprocess.Popen(["containerd", "--config", str(cfg)], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while self.ctr("version", check=False).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError("containerd did not start:\n" + (tmp / "containerd.log").read_text()[-3000:])
            time.sleep(0.2)

    def ctr(self, *args, ns="k8s.io", check=True, timeout=60):
        r = subprocess.run(["ctr", "--address", self.sock, "-n", ns, *args], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"ctr {' '.join(args)}: rc={r.returncode}\n{r.stdout}\n{r.stderr}")
        return r

    def remove(self, cid, ns="k8s.io"):
        self.ctr("task", "kill", "-s", "SIGKILL", cid, ns=ns, check=False)
        deadline = time.monotonic() + 10
        while (self.ctr("task", "delete", cid, ns=ns, check=False).returncode != 0
               and cid in self.ctr("task", "ls", "-q", ns=ns, check=False).stdout and time.monotonic() < deadline):
            time.sleep(0.1)
        self.ctr("container", "delete", cid, ns=ns, check=False)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        # shims (started by our containerd, named by our socket) outlive it only when a task was left behind
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        cmd = f.read().split(b"\0")
                except OSError:
                    continue
                if cmd and cmd[0].endswith(b"containerd-shim-runc-v2") and self.sock.encode() in cmd:
                    os.kill(int(pid), signal.SIGKILL)


def mounts_under(*prefixes):
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if any(line.split()[4].startswith(p) for p in prefixes)]


def test_containerd_cri_container_metadata(falco_bin, tmp_path):
    for tool in ("containerd", "ctr", "runc"):
        assert shutil.which(tool), f"{tool} is missing: scripts/install-deps.sh installs containerd and runc"
    assert os.path.exists("/bin/busybox"), "/bin/busybox is missing: scripts/install-deps.sh installs busybox-static"
    busy = other_containerd()
    if busy:
        pytest.skip(busy)

    ctd_tmp = tmp_path / "ctd"
    ctd_tmp.mkdir()
    cid = secrets.token_hex(32)
    pod_uid = str(uuid.uuid4())
    rules = tmp_path / "ctd_rules.yaml"
    rules.write_text(RULES)
    img = tmp_path / "bb.tar"
    oci_image_tar(img, IMAGE)

    ctd = Containerd(ctd_tmp)
    f = None
    try:
        ctd.ctr("image", "import", str(img))
        ann = {"io.kubernetes.cri.container-type": "container",
               "io.kubernetes.cri.container-name": "web",
               "io.kubernetes.cri.image-name": IMAGE,
               "io.kubernetes.cri.sandbox-id": secrets.token_hex(32),
               "io.kubernetes.cri.sandbox-name": "web-7d9f",
               "io.kubernetes.cri.sandbox-namespace": "shop",
               "io.kubernetes.cri.sandbox-uid": pod_uid}
        args = ["run", "-d", "--null-io"]
        for k, v in ann.items():
            args += ["--annotation", f"{k}={v}"]
        ctd.ctr(*args, IMAGE, cid, "/bin/sleep", "600")
        bundle = os.path.join(STATE_DIR, "io.containerd.runtime.v2.task", "k8s.io", cid, "config.json")
        assert os.path.isfile(bundle), f"containerd kept no bundle at {bundle}"

        f = LiveSyscallFalco(falco_bin, tmp_path, [OUR_RULES, str(rules)], config_extra="rule_matching: all\n")
        # the first event of the container asks the worker; alerts carry the metadata once it has answered
        deadline = time.monotonic() + 20
        while True:
            m = marker()
            ctd.ctr("task", "exec", "--exec-id", "e" + secrets.token_hex(4), cid, "/bin/sh", "-c", f"echo {m}")
            a = f.wait_alert("Shell in containerd container", lambda a: m in fields(a).get("proc.cmdline", ""))
            if fields(a).get("container.name") == "web" or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        fl = fields(a)
        assert fl["container.id"] == cid[:12], fl
        assert fl["container.type"] == "containerd", fl
        assert fl["container.name"] == "web", fl
        assert fl["container.image"] == IMAGE, fl
        assert fl["container.image.repository"] == "registry.example.com/team/bb", fl
        assert fl["container.image.tag"] == "1.0", fl
        assert fl["k8s.pod.name"] == "web-7d9f", fl
        assert fl["k8s.ns.name"] == "shop", fl
        assert fl["k8s.pod.uid"] == pod_uid, fl
        assert fl["container.mount.source[/proc]"] == "proc", fl
        # the container started when its init (the task's `sleep`) did: the kernel's value, no runtime asked
        with open(os.path.join(os.path.dirname(bundle), "init.pid")) as pf:
            init_pid = int(pf.read())
        with open(f"/proc/{init_pid}/stat") as sf:
            ticks = int(sf.read().rsplit(")", 1)[1].split()[19])
        boot_epoch = time.time() - time.clock_gettime(time.CLOCK_BOOTTIME)
        init_start_ns = (boot_epoch + ticks / os.sysconf("SC_CLK_TCK")) * 1e9
        assert fl["container.start_ts"] == fl["proc.pidns_init_start_ts"], fl
        assert abs(int(fl["container.start_ts"]) - init_start_ns) < 50e6, (fl, init_start_ns)
        # our own rule names it too
        s = f.wait_alert("Shell Spawned in Container", lambda a: m in fields(a).get("proc.cmdline", ""))
        assert fields(s)["container.name"] == "web"
        rc = f.stop()
        assert rc == 0, "\n".join(f.err_lines[-20:])
        # the exit report counts the runtime's answers
        meta = [l for l in f.err_lines if "Container metadata:" in l]
        assert meta and re.search(r"[1-9]\d* answered", meta[-1]), f.err_lines[-10:]
    finally:
        if f:
            f.stop()
        ctd.remove(cid)
        ctd.ctr("image", "rm", IMAGE, check=False)
        ctd.stop()
    left = mounts_under(str(ctd_tmp), os.path.join(STATE_DIR, "io.containerd.runtime.v2.task", "k8s.io", cid))
    assert not left, f"mounts left behind: {left}"
