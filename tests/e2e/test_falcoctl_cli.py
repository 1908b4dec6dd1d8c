# SPDX-License-Identifier: Apache-2.0
"""falcoctl without root privileges over the host: the command line, help and completion, --root pre-baked
trees (complete, convergent, dry-run, reset), user edits, settings precedence, the driver environment and the
kmod paths through the LD_PRELOAD shim (tests/preload/fc_shim.c)."""
import hashlib
import json
import os
import shutil
import subprocess

import pytest

from conftest import BUILD, ROOT, bin_path, run

UNIT = "falco-modern-bpf.service"
SHIM = os.path.join(BUILD, "tests", "preload", "fc_shim.so")


def fc(*args, env=None, **kw):
    e = {k: v for k, v in os.environ.items() if not k.startswith("FALCOCTL_")}
    e.update(env or {})
    return run([bin_path("falcoctl")] + list(args), env=e, **kw)


def tree(root):
    """{relative path: (kind, mode, sha256 or link target)} for everything under root."""
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = ("l", 0, os.readlink(p))
            elif os.path.isdir(p):
                out[rel] = ("d", st.st_mode & 0o7777, "")
            else:
                out[rel] = ("f", st.st_mode & 0o7777, hashlib.sha256(open(p, "rb").read()).hexdigest())
    return out


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "root"
    r.mkdir()
    return str(r)


# ---- command line ---------------------------------------------------------------------------------------

COMMANDS = ["install falco", "install phase", "driver config", "driver printenv", "driver status", "driver load",
            "driver unload", "driver fetch", "driver cleanup", "status", "reset", "version", "completion bash"]


def test_help_everywhere(falcoctl_bin):
    r = fc("--help")
    assert r.returncode == 0
    for c in COMMANDS:
        assert c in r.stdout
        h = fc(*c.split(), "--help")
        assert h.returncode == 0, (c, h.stderr)
        assert h.stdout.startswith(f"Usage: falcoctl {c}"), h.stdout
    h = fc("install", "--help").stdout
    assert 'The "install falco" command executes the following phases:' in h
    for phase in ("preflight", "userspace", "/select", "/fetch", "/load", "config", "rules", "units", "tls",
                  "audit", "start", "verify"):
        assert phase in h
    assert "--skip-phases NAME,..." in fc("install", "falco", "-h").stdout


def test_usage_errors(falcoctl_bin):
    assert fc("frobnicate").returncode == 2
    r = fc("status", "--nope")
    assert r.returncode == 2 and "unknown flag: --nope" in r.stderr
    r = fc("status", "--type", "kmod")
    assert r.returncode == 2 and "flag --type does not apply to 'falcoctl status'" in r.stderr
    r = fc("install", "falco", "--type", "ebpf")
    assert r.returncode == 2 and "invalid driver.type item 'ebpf'" in r.stderr
    r = fc("install")
    assert r.returncode == 2 and "install falco" in r.stderr
    assert fc("version").stdout.startswith("falcoctl version ")
    assert json.loads(fc("version", "-o", "json").stdout)["falcoctl"]


def test_completion_in_sync_and_working(falcoctl_bin):
    gen = fc("completion", "bash").stdout
    with open(os.path.join(ROOT, "falcoctl", "falcoctl.bash-completion")) as f:
        assert f.read() == gen, "falcoctl/falcoctl.bash-completion is stale: regenerate with falcoctl completion bash"

    def complete(*words):
        script = (gen + "\nCOMP_WORDS=(" + " ".join(f"'{w}'" for w in words) + f"); COMP_CWORD={len(words) - 1}\n"
                  "_falcoctl; printf '%s\\n' \"${COMPREPLY[@]}\"\n")
        return subprocess.run(["bash", "-c", script], stdout=subprocess.PIPE, text=True).stdout.split()

    assert "install" in complete("falcoctl", "")
    assert complete("falcoctl", "install", "ph") == ["phase"]
    assert "driver/load" in complete("falcoctl", "install", "phase", "driver")
    assert complete("falcoctl", "driver", "--type", "mo") == ["modern_ebpf"]
    assert "--skip-phases" in complete("falcoctl", "--root", "/x", "install", "falco", "--sk")
    assert "unload" in complete("falcoctl", "driver", "un")


def test_man_page_renders():
    if not shutil.which("groff"):
        pytest.skip("groff is not installed")
    r = run(["groff", "-man", "-ww", "-z", os.path.join(ROOT, "docs", "falcoctl.8")])
    assert r.returncode == 0 and r.stderr == "", r.stderr


# ---- --root: a pre-baked tree -----------------------------------------------------------------------------

def test_prebaked_tree_complete_and_convergent(root):
    r = fc("install", "falco", "--root", root)
    assert r.returncode == 0, r.stdout + r.stderr
    t = tree(root)
    assert t["usr/bin/falco"][2] == hashlib.sha256(open(bin_path("falco"), "rb").read()).hexdigest()
    assert t["usr/bin/falco"][1] == 0o755
    if os.path.exists(os.path.join(ROOT, "falco", "falco.yaml")):
        assert t["etc/falco/falco.yaml"][2] == hashlib.sha256(
            open(os.path.join(ROOT, "falco", "falco.yaml"), "rb").read()).hexdigest()
    for rules in os.listdir(os.path.join(ROOT, "rules")):
        if rules.endswith(".yaml"):
            assert f"etc/falco/{rules}" in t
    assert t["etc/falco/falco_rules.local.yaml"][0] == "f"
    assert t["etc/falco/rules.d"][0] == "d"
    for u in ("falco-modern-bpf.service", "falco-kmod.service", "falco-kmod-inject.service"):
        assert t[f"etc/systemd/system/{u}"][1] == 0o644
    assert t[f"etc/systemd/system/multi-user.target.wants/{UNIT}"] == ("l", 0, f"/etc/systemd/system/{UNIT}")
    assert t["etc/systemd/system/falco.service"] == ("l", 0, f"/etc/systemd/system/{UNIT}")
    assert t["var/lib/falcoctl/state.json"][1] == 0o600
    for host_phase in ("driver/load", "start", "verify"):
        assert f"Skipping phase {host_phase}: --root {root} is not the running host" in r.stdout

    r2 = fc("install", "falco", "--root", root)
    assert r2.returncode == 0 and "Nothing to do: everything is already in place (nothing changed)" in r2.stdout
    assert tree(root) == t  # nothing rewritten, the state file included

    r3 = fc("install", "falco", "--root", root, "--dry-run")
    assert r3.returncode == 0 and "0 changes would be made; nothing was touched" in r3.stdout, r3.stdout
    assert tree(root) == t

    r4 = fc("reset", "--root", root)
    assert r4.returncode == 0, r4.stdout + r4.stderr
    assert tree(root) == {}, tree(root)


def test_dry_run_on_a_fresh_root_creates_nothing(root):
    r = fc("install", "falco", "--root", root, "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "Would write /usr/bin/falco" in r.stdout and "Would create symlink" in r.stdout
    assert "\t+++ b/etc/falco/falco.yaml" in r.stdout  # the new file as a diff
    assert os.listdir(root) == []


def test_user_edits_are_kept(root):
    assert fc("install", "falco", "--root", root).returncode == 0
    yaml = os.path.join(root, "etc/falco/falco.yaml")
    local = os.path.join(root, "etc/falco/falco_rules.local.yaml")
    with open(yaml, "a") as f:
        f.write("# my change\n")
    with open(local, "a") as f:
        f.write("- list: my_list\n  items: []\n")
    edited = open(yaml).read()
    r = fc("install", "falco", "--root", root)
    assert r.returncode == 0
    assert "[WARNING LocalChanges]: /etc/falco/falco.yaml was changed since falcoctl wrote it" in r.stdout
    assert open(yaml).read() == edited
    assert os.path.exists(yaml + ".falcoctl-new")
    r = fc("reset", "--root", root)
    assert r.returncode == 0
    assert "keeping /etc/falco/falco.yaml" in r.stdout
    assert open(yaml).read() == edited and open(local).read().endswith("items: []\n")
    assert not os.path.exists(yaml + ".falcoctl-new")
    assert not os.path.exists(os.path.join(root, "etc/systemd"))


def test_skip_and_single_phase(root):
    r = fc("install", "falco", "--root", root, "--skip-phases", "rules,units")
    assert r.returncode == 0
    assert "Skipping phase rules (--skip-phases)" in r.stdout
    assert not os.path.exists(os.path.join(root, "etc/systemd"))
    assert not os.path.exists(os.path.join(root, "etc/falco/falco_rules.local.yaml"))
    r = fc("install", "phase", "units", "--root", root)
    assert r.returncode == 0 and "[units] Enabled " + UNIT in r.stdout
    assert "[config]" not in r.stdout and "[preflight]" not in r.stdout
    r = fc("install", "phase", "driver/nope", "--root", root)
    assert r.returncode == 1 and "invalid phase name: driver/nope" in r.stderr


def test_failure_reads_like_kubeadm(root):
    r = fc("install", "falco", "--root", root, "--from", "/nonexistent/falco")
    assert r.returncode == 1
    assert r.stderr.strip() == "error execution phase userspace: --from /nonexistent/falco: No such file or directory"
    r = fc("-o", "json", "install", "falco", "--root", root, "--from", "/nonexistent/falco")
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert all({"time", "level", "msg"} <= set(x) for x in lines)
    assert lines[0] == {**lines[0], "level": "info", "phase": "preflight", "msg": "Running pre-flight checks"}
    assert lines[-1]["level"] == "error" and lines[-1]["msg"].startswith("error execution phase userspace:")


def test_a_foreign_falco_is_never_replaced(root):
    os.makedirs(os.path.join(root, "usr/bin"))
    with open(os.path.join(root, "usr/bin/falco"), "w") as f:
        f.write("#!/bin/sh\necho packaged\n")
    os.chmod(os.path.join(root, "usr/bin/falco"), 0o755)
    r = fc("install", "falco", "--root", root)
    assert r.returncode == 1
    assert "/usr/bin/falco exists and was not installed by falcoctl; not replacing it" in r.stderr
    assert open(os.path.join(root, "usr/bin/falco")).read() == "#!/bin/sh\necho packaged\n"
    assert "[WARNING ExistingInstallation]: /usr/bin/falco" in r.stdout


# ---- settings precedence and the driver environment --------------------------------------------------------

def test_settings_precedence(root):
    os.makedirs(os.path.join(root, "etc/falcoctl"))
    cfg = os.path.join(root, "etc/falcoctl/falcoctl.yaml")
    with open(cfg, "w") as f:
        f.write("# kept\nindexes: []\ndriver:\n  type: [kmod]\n  name: fromfile\n  repos: [https://file.example/d]\n")
    r = fc("driver", "config", "--root", root)
    assert "driver.type: kmod (from %s:4)" % cfg in r.stdout, r.stdout
    assert "driver.name: fromfile (from" in r.stdout
    r = fc("driver", "config", "--root", root, env={"FALCOCTL_DRIVER_TYPE": "modern_ebpf",
                                                    "FALCOCTL_DRIVER_NAME": "fromenv"})
    assert "driver.type: modern_ebpf (from env FALCOCTL_DRIVER_TYPE)" in r.stdout
    assert "driver.name: fromenv (from env FALCOCTL_DRIVER_NAME)" in r.stdout
    r = fc("driver", "config", "--root", root, "--name", "fromflag", env={"FALCOCTL_DRIVER_NAME": "fromenv"})
    assert "driver.name: fromflag (from flag --name)" in r.stdout
    assert "driver.version: " in r.stdout and "(from default)" in r.stdout

    # --type writes the file, keeping everything else as written
    r = fc("driver", "config", "--root", root, "--type", "modern_ebpf", "--type", "kmod")
    assert r.returncode == 0, r.stderr
    assert open(cfg).read() == ("# kept\nindexes: []\ndriver:\n  type: [modern_ebpf, kmod]\n  name: fromfile\n"
                                "  repos: [https://file.example/d]\n")
    # an explicit --config is a host path, read as is
    other = os.path.join(root, "other.yaml")
    with open(other, "w") as f:
        f.write("driver: {name: explicit}\n")
    assert "driver.name: explicit" in fc("driver", "config", "--config", other).stdout
    r = fc("driver", "config", "--config", os.path.join(root, "missing.yaml"))
    assert r.returncode == 1 and "missing.yaml" in r.stderr


def shim_env(**extra):
    if not os.path.exists(SHIM):
        pytest.fail(f"{SHIM} is missing (make test-run builds it)")
    e = {"LD_PRELOAD": SHIM, "ASAN_OPTIONS": "verify_asan_link_order=0:detect_leaks=0"}
    e.update(extra)
    return e


def printenv(*args, env=None):
    r = fc("driver", "printenv", *args, env=env)
    assert r.returncode == 0, r.stderr
    return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)


def test_printenv_targets(root):
    os.makedirs(os.path.join(root, "etc"))
    with open(os.path.join(root, "etc/os-release"), "w") as f:
        f.write('PRETTY_NAME="Ubuntu 22.04.4 LTS"\nID=ubuntu\n')
    env = shim_env(FC_SHIM_UNAME_RELEASE="5.15.0-1009-aws", FC_SHIM_UNAME_VERSION="#9-Ubuntu SMP Thu Apr 21 2022",
                   FC_SHIM_UNAME_MACHINE="aarch64")
    p = printenv("--root", root, "--type", "kmod", "--repo", "https://dl.example/driver", "--driver-version",
                 "8.0.0+driver", env=env)
    assert p["TARGET_ID"] == '"ubuntu-aws"'
    assert p["KERNEL_RELEASE"] == '"5.15.0-1009-aws"'
    assert p["FIXED_KERNEL_VERSION"] == '"9"'
    assert p["ARCH"] == '"aarch64"'
    assert p["DRIVER"] == '"kmod"'
    assert p["DRIVER_FILE"] == '"falco_ubuntu-aws_5.15.0-1009-aws_9.ko"'
    assert p["DRIVER_URL"] == '"https://dl.example/driver/8.0.0%2Bdriver/aarch64/falco_ubuntu-aws_5.15.0-1009-aws_9.ko"'
    assert p["DRIVER_CACHE"] == '"/var/lib/falcoctl/drivers/8.0.0+driver/aarch64/falco_ubuntu-aws_5.15.0-1009-aws_9.ko"'
    with open(os.path.join(root, "etc/os-release"), "w") as f:
        f.write("ID=debian\n")
    env = shim_env(FC_SHIM_UNAME_RELEASE="6.1.0-18-amd64",
                   FC_SHIM_UNAME_VERSION="#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)")
    p = printenv("--root", root, env=env)
    assert p["TARGET_ID"] == '"debian"' and p["FIXED_KERNEL_RELEASE"] == '"6.1.76-1-amd64"'
    # flags override uname
    p = printenv("--root", root, "--kernelrelease", "5.10.0-0.deb10.22-rt-amd64", "--kernelversion", "5.10.178-3",
                 env=env)
    assert p["FIXED_KERNEL_RELEASE"] == '"5.10.178-3-rt-amd64"' and p["FIXED_KERNEL_VERSION"] == '"1"'
    # JSON lines
    r = fc("-o", "json", "driver", "printenv", "--root", root, env=env)
    kv = {x["key"]: x["value"] for x in map(json.loads, r.stdout.splitlines()) if "key" in x}
    assert kv["TARGET_ID"] == "debian"


def test_kmod_on_a_kernel_without_modules(root):
    if os.path.exists("/proc/modules"):
        pytest.skip("this kernel supports loadable modules (the message is for CONFIG_MODULES=n kernels)")
    r = fc("driver", "load", "--type", "kmod", "--root", root)
    assert r.returncode == 1
    assert "CONFIG_MODULES is not set" in r.stderr and "use modern_ebpf" in r.stderr, r.stderr


def test_kmod_paths_through_the_shim(root, tmp_path):
    """The real libkmod code paths, with finit_module/delete_module/uname/proc answered by the shim."""
    cryptography = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")
    from cryptography.hazmat.primitives import serialization
    key = cryptography.Ed25519PrivateKey.generate()
    os.makedirs(os.path.join(root, "etc/falcoctl/keys"))
    os.chmod(root, 0o755)
    with open(os.path.join(root, "etc/falcoctl/keys/repo.pem"), "wb") as f:
        f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo))
    with open(os.path.join(root, "etc/os-release"), "w") as f:
        f.write("ID=debian\n")
    name = "falco_debian_6.1.76-1-amd64_1.ko"
    cache = os.path.join(root, "var/lib/falcoctl/drivers/0.1.0/x86_64")
    os.makedirs(cache)
    module = b"\x7fELF not really a module"
    open(os.path.join(cache, name), "wb").write(module)
    sums = f"{hashlib.sha256(module).hexdigest()}  {name}\n".encode()
    open(os.path.join(cache, name + ".SHA256SUMS"), "wb").write(sums)
    open(os.path.join(cache, name + ".SHA256SUMS.sig"), "wb").write(key.sign(sums))

    sysmod = str(tmp_path / "sysmodule")
    log = str(tmp_path / "shim.log")
    env = shim_env(FC_SHIM_UNAME_RELEASE="6.1.0-18-amd64",
                   FC_SHIM_UNAME_VERSION="#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)",
                   FC_SHIM_MODULES="1", FC_SHIM_SYSMODULE=sysmod, FC_SHIM_LOG=log)
    base = ["--root", root, "--driver-version", "0.1.0"]
    r = fc("driver", "load", "--type", "kmod", *base, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"finit_module {cache}/{name}" in open(log).read()
    assert "kmod: module falco loaded (live)" in fc("driver", "status", *base, env=env).stdout
    r = fc("driver", "load", "--type", "kmod", *base, env=env)
    assert "already loaded" in r.stdout
    r = fc("driver", "unload", "--type", "kmod", *base, env=env)
    assert r.returncode == 0 and "Unloaded kernel module falco" in r.stdout
    assert "delete_module falco" in open(log).read()

    for errno_, text in ((8, "invalid module format"), (1, "CAP_SYS_MODULE")):
        r = fc("driver", "load", "--type", "kmod", *base, env={**env, "FC_SHIM_FINIT_ERRNO": str(errno_)})
        assert r.returncode == 1 and text in r.stderr, r.stderr
        assert r.stderr.startswith("error execution phase driver/load: could not insert")

    # a cached module that no longer matches its signed list is never loaded
    open(os.path.join(cache, name), "ab").write(b"tampered")
    r = fc("driver", "load", "--type", "kmod", *base, env=env)
    assert r.returncode == 1 and "does not match its signed checksum" in r.stderr, r.stderr
    assert open(log).read().count("finit_module") == 3  # one success, two refused by the "kernel"

    # cleanup removes the cache falcoctl fetched (here: nothing recorded) and unloads nothing
    r = fc("driver", "cleanup", *base, env=env)
    assert r.returncode == 0, r.stderr
