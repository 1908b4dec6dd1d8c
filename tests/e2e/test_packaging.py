# SPDX-License-Identifier: Apache-2.0
"""The deb and rpm packages (packaging/build.sh, `make deb` / `make rpm`).

Both are built from the tested binaries into a temp dir, then:
  - inspected: control fields and version (the Makefile's, which falco and falcoctl print), the runtime
    dependencies against what ldd says the binaries link, the file list and modes, conffiles /
    %config(noreplace), the units and assets byte-identical to the repository's, the maintainer scripts;
    lintian with no error and no warning that packaging/deb/lintian-overrides does not explain;
  - the .deb installed into a real systemd (tests/e2e/nspawn.py: the cached debootstrap tree, which holds the
    binaries' runtime libraries): installing starts nothing, `falcoctl install falco` runs the packaged
    /usr/bin/falco and it alerts, an upgrade restarts it, `dpkg -r` stops it and keeps the configuration,
    `dpkg -P` leaves nothing behind.
Skipped with the reason when dpkg-deb / rpmbuild / lintian are missing (scripts/install-deps.sh installs them).
"""
import glob
import os
import re
import shutil
import subprocess
import time

import pytest

import nspawn
from conftest import BUILD, ROOT, bin_path, run

UNIT = "falco-modern-bpf.service"
UNITS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "systemd", "*.service")))
CONFFILES = ["/etc/falco/falco.yaml", "/etc/falco/falco_rules.local.yaml", "/etc/falco/falco_rules.yaml",
             "/etc/falco/k8s_audit_rules.yaml"]


def alert_re(process):
    """The text output of rules/falco_rules.yaml's "Sensitive File Read by Untrusted Program" (its self-test in
    falcoctl uses dd; these use other programs so the self-test's own alert cannot satisfy them)."""
    return re.compile(r"Sensitive file opened for reading by an untrusted program \(file=/etc/shadow process=" +
                      process + " ")


def makefile_version():
    with open(os.path.join(ROOT, "Makefile")) as f:
        m = re.search(r"^VERSION\s*:=\s*(\S+)", f.read(), re.M)
    assert m, "no VERSION := in the Makefile"
    return m.group(1)


VERSION = makefile_version()


def binaries(release=True):
    bins = [bin_path("falco"), bin_path("falcoctl")]
    for b in bins:
        if not os.access(b, os.X_OK):
            pytest.fail(f"{b} is missing: run make first")
    if release and "libasan" in run(["ldd", bins[0]]).stdout:
        pytest.skip("packages are built from the release tree, not a sanitizer build (make DEBUG=1)")
    return bins


def build_package(kind, out):
    r = run([os.path.join(ROOT, "packaging/build.sh"), kind, BUILD, str(out), VERSION], timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    path = r.stdout.strip().splitlines()[-1]
    assert os.path.isfile(path), r.stdout
    return path


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    if not shutil.which("dpkg-deb") or not shutil.which("dpkg-shlibdeps"):
        pytest.skip("dpkg-deb/dpkg-shlibdeps are not installed (scripts/install-deps.sh installs dpkg-dev)")
    binaries()
    return build_package("deb", tmp_path_factory.mktemp("deb"))


@pytest.fixture(scope="module")
def rpm(tmp_path_factory):
    if not shutil.which("rpmbuild"):
        pytest.skip("rpmbuild is not installed (scripts/install-deps.sh installs rpm)")
    binaries()
    return build_package("rpm", tmp_path_factory.mktemp("rpm"))


def common_functions():
    """packaging/common.sh as pasted into every maintainer script and scriptlet (minus its SPDX line)."""
    with open(os.path.join(ROOT, "packaging/common.sh")) as f:
        return "".join(ln for ln in f if not ln.startswith("# SPDX"))


def needed(bins):
    """{soname: path}: the libraries the binaries link directly (ELF NEEDED), where ldd resolves them."""
    out = {}
    for b in bins:
        names = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", run(["readelf", "-d", b]).stdout)
        resolved = dict(re.findall(r"^\s*(\S+) => (/\S+)", run(["ldd", b]).stdout, re.M))
        for n in names:
            if n.startswith("ld-linux"):
                continue
            assert n in resolved, f"ldd does not resolve {n} for {b}"
            out[n] = resolved[n]
    return out


def dlopen_libs():
    """{soname: path}: packaging/dlopen-libs, which must list exactly what the sources dlopen()."""
    listed = [l.split("#")[0].strip() for l in open(os.path.join(ROOT, "packaging/dlopen-libs"))]
    listed = sorted(l for l in listed if l)
    used = set()
    for d in ("falco", "common"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, d)):
            for f in files:
                if f.endswith(".c"):
                    used.update(re.findall(r'dlopen\("([^"]+)"', open(os.path.join(dirpath, f)).read()))
    assert listed == sorted(used), f"packaging/dlopen-libs {listed} != dlopen() in the sources {sorted(used)}"
    cache = run(["ldconfig", "-p"]).stdout
    out = {}
    for so in listed:
        m = re.search(r"^\s*" + re.escape(so) + r" \(.*x86-64.*\) => (\S+)$", cache, re.M)
        assert m, f"{so} (dlopen'd by falco) is not installed"
        out[so] = m.group(1)
    return out


def owner_package(path):
    for cand in (path, path.removeprefix("/usr"), "/usr" + path, os.path.realpath(path)):
        r = run(["dpkg", "-S", cand])
        if r.returncode == 0:
            return r.stdout.split(":")[0].strip()
    pytest.fail(f"no Debian package holds {path}")


def test_version_is_one_source():
    binaries(release=False)
    falco = run([bin_path("falco"), "--version"]).stdout
    assert re.search(r"^Falco version: " + re.escape(VERSION) + r" ", falco, re.M), falco
    fctl = run([bin_path("falcoctl"), "version"]).stdout
    assert f"falcoctl version {VERSION} " in fctl, fctl


# ---- deb: static inspection ------------------------------------------------------------------------------

def test_deb_control_fields(deb):
    assert os.path.basename(deb) == f"falco_{VERSION}_{run(['dpkg', '--print-architecture']).stdout.strip()}.deb"
    info = run(["dpkg-deb", "-I", deb]).stdout
    fields = dict(re.findall(r"^ (\S[^:]*): (.*)$", info, re.M))
    assert fields["Package"] == "falco"
    assert fields["Version"] == VERSION
    assert "falcoctl install falco" in info  # the description says what to do next
    for script in ("postinst", "prerm", "postrm", "conffiles", "md5sums"):
        assert re.search(rf"^\s+\d+ bytes,\s+\d+ lines\s+\*?\s+{script}\b", info, re.M), info


def test_deb_depends_match_ldd(deb):
    """Depends (dpkg-shlibdeps) names exactly the packages that hold the libraries ldd resolves."""
    depends = run(["dpkg-deb", "-f", deb, "Depends"]).stdout.strip()
    names = {d.split()[0] for d in depends.split(", ")}
    libs = dict(needed(binaries()))
    libs.update(dlopen_libs())  # falco loads these on first use: no ELF scan sees them
    want = {owner_package(path) for path in libs.values()}
    assert names == want, f"Depends: {depends}\nNEEDED + dlopen + ldd + dpkg -S: {sorted(want)}"
    assert re.search(r"libc6 \(>= [0-9.]+\)", depends), depends  # versioned from the symbols used


def test_deb_contents(deb, tmp_path):
    listing = run(["dpkg-deb", "-c", deb]).stdout
    entries = {}
    for line in listing.splitlines():
        parts = line.split()
        entries[parts[5].lstrip(".")] = (parts[0], parts[1])
    for b in ("/usr/bin/falco", "/usr/bin/falcoctl"):
        assert entries[b] == ("-rwxr-xr-x", "root/root"), (b, entries.get(b))
    expected = CONFFILES + [f"/lib/systemd/system/{u}" for u in UNITS] + \
        [f"/usr/share/falcoctl/systemd/{u}" for u in UNITS] + [
        "/usr/share/falcoctl/falco/falco.yaml", "/usr/share/falcoctl/rules/falco_rules.yaml",
        "/usr/share/falcoctl/rules/k8s_audit_rules.yaml", "/usr/share/man/man8/falcoctl.8.gz",
        "/usr/share/bash-completion/completions/falcoctl", "/usr/share/doc/falco/copyright",
        "/usr/share/doc/falco/changelog.gz", "/etc/falco/rules.d/", "/etc/falcoctl/keys/"]
    for p in expected:
        assert p in entries, f"{p} not in the package:\n{listing}"
    assert not any(p.startswith("/usr/lib/systemd") for p in entries), "deb units belong in /lib/systemd/system"

    x = tmp_path / "x"
    assert run(["dpkg-deb", "-x", deb, str(x)]).returncode == 0
    same = {"lib/systemd/system/" + u: "systemd/" + u for u in UNITS}
    same.update({"usr/share/falcoctl/systemd/" + u: "systemd/" + u for u in UNITS})
    same.update({"etc/falco/falco.yaml": "falco/falco.yaml", "usr/share/falcoctl/falco/falco.yaml": "falco/falco.yaml",
                 "etc/falco/falco_rules.yaml": "rules/falco_rules.yaml",
                 "etc/falco/k8s_audit_rules.yaml": "rules/k8s_audit_rules.yaml",
                 "usr/share/bash-completion/completions/falcoctl": "falcoctl/falcoctl.bash-completion"})
    for inpkg, repo in same.items():
        with open(x / inpkg, "rb") as a, open(os.path.join(ROOT, repo), "rb") as b:
            assert a.read() == b.read(), f"{inpkg} differs from {repo}"
    # stripped, and still the same program
    assert ".debug_info" not in run(["readelf", "-S", str(x / "usr/bin/falco")]).stdout
    r = run([str(x / "usr/bin/falco"), "--version"])
    assert f"Falco version: {VERSION}" in r.stdout, r.stdout + r.stderr
    # the local rules file is valid for falco as shipped
    r = run([bin_path("falco"), "-V", str(x / "etc/falco/falco_rules.local.yaml")])
    assert r.returncode == 0, r.stdout + r.stderr


def test_deb_conffiles_and_scripts(deb, tmp_path):
    ctl = tmp_path / "ctl"
    assert run(["dpkg-deb", "-e", deb, str(ctl)]).returncode == 0
    assert (ctl / "conffiles").read_text().split() == CONFFILES
    for s in ("postinst", "prerm", "postrm"):
        p = ctl / s
        assert os.stat(p).st_mode & 0o777 == 0o755
        r = run(["sh", "-n", str(p)])
        assert r.returncode == 0, f"{s}: {r.stderr}"
        text = p.read_text()
        assert common_functions() in text, f"{s} does not carry packaging/common.sh verbatim"
        assert f'UNITS="{" ".join(sorted(UNITS, key=lambda u: "-inject." in u))}"' in text, text[:600]
        # an unknown action is refused, like dpkg expects
        r = run(["sh", str(p), "bogus-action"])
        assert r.returncode == 1 and "unknown argument 'bogus-action'" in r.stderr, r.stderr


def test_deb_lintian(deb):
    if not shutil.which("lintian"):
        pytest.skip("lintian is not installed (scripts/install-deps.sh installs it)")
    r = run(["lintian", "--tag-display-limit", "0", "-I", deb], timeout=300)
    tags = [ln for ln in r.stdout.splitlines() if re.match(r"^[EWI]: ", ln)]
    assert not tags, "lintian tags not accepted in packaging/deb/lintian-overrides:\n" + "\n".join(tags)
    assert r.returncode == 0, r.stdout + r.stderr
    # every accepted tag is explained in packaging/README.md
    with open(os.path.join(ROOT, "packaging/deb/lintian-overrides")) as f:
        accepted = {ln.split()[1] for ln in f if ln.startswith("falco:")}
    with open(os.path.join(ROOT, "packaging/README.md")) as f:
        readme = f.read()
    for tag in accepted:
        assert f"`{tag}`" in readme, f"{tag} is overridden but not explained in packaging/README.md"


# ---- rpm: static inspection ------------------------------------------------------------------------------

def rpmq(args, path):
    r = run(["rpm", "-qp"] + args + [path])
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_rpm_info(rpm):
    assert os.path.basename(rpm) == f"falco-{VERSION}-1.{os.uname().machine}.rpm"
    info = rpmq(["-i"], rpm)
    fields = dict(re.findall(r"^(\w[\w ]*?)\s*: (.*)$", info, re.M))
    assert fields["Name"] == "falco" and fields["Version"] == VERSION and fields["Release"] == "1"
    assert fields["License"] == "Apache-2.0"
    assert "falcoctl install falco" in info


def test_rpm_files_and_config(rpm):
    files = rpmq(["-l"], rpm).split()
    for p in ["/usr/bin/falco", "/usr/bin/falcoctl", "/usr/share/man/man8/falcoctl.8.gz",
              "/usr/share/bash-completion/completions/falcoctl", "/usr/share/falcoctl/falco/falco.yaml"] + \
            CONFFILES + [f"/usr/lib/systemd/system/{u}" for u in UNITS]:
        assert p in files, f"{p} not in the rpm: {files}"
    assert not any(p.startswith("/lib/") for p in files)
    # the package owns its directories, never the system's
    assert "/etc/falco" in files and "/usr/share/falcoctl" in files and "/usr/bin" not in files
    flags = dict(ln.split(" ", 1) if " " in ln else (ln, "") for ln in
                 rpmq(["--qf", "[%{FILENAMES} %{FILEFLAGS:fflags}\n]"], rpm).splitlines())
    config = sorted(p for p, f in flags.items() if "c" in f)
    assert config == CONFFILES
    assert all("n" in flags[p] for p in CONFFILES), flags  # %config(noreplace)
    modes = dict(ln.split() for ln in rpmq(["--qf", "[%{FILENAMES} %{FILEMODES:perms}\n]"], rpm).splitlines())
    assert modes["/usr/bin/falco"] == "-rwxr-xr-x" and modes["/etc/falco/falco.yaml"] == "-rw-r--r--"


def test_rpm_requires_match_ldd(rpm):
    """rpm's ELF dependency generator asks for every soname ldd resolves, the spec for what falco dlopen()s."""
    reqs = set(rpmq(["--requires"], rpm).splitlines())
    want = set(needed(binaries())) | set(dlopen_libs())
    missing = [s for s in want if f"{s}()(64bit)" not in reqs]
    assert not missing, f"missing from Requires: {missing}\n{sorted(reqs)}"
    extra = [r for r in reqs if r.endswith("()(64bit)") and r[:-len("()(64bit)")] not in want]
    assert not extra, extra


def test_rpm_scripts(rpm, tmp_path):
    text = rpmq(["--scripts"], rpm)
    parts = re.split(r"^(\w+) scriptlet \(using /bin/sh\):$", text, flags=re.M)
    scripts = dict(zip(parts[1::2], parts[2::2]))
    assert set(scripts) == {"postinstall", "preuninstall", "postuninstall"}, text[:300]
    for name, body in scripts.items():
        p = tmp_path / name
        p.write_text(body)
        r = run(["sh", "-n", str(p)])
        assert r.returncode == 0, f"{name}: {r.stderr}"
        # verbatim: neither rpm's macro expansion nor build.sh's templating may alter it (a lost backslash did)
        assert common_functions() in body, f"{name} does not carry packaging/common.sh verbatim"
    assert "pkg_hint" in scripts["postinstall"] and "pkg_stop" in scripts["preuninstall"]
    assert "pkg_purge" in scripts["postuninstall"]
    # a first install only prints what to do next (and reloads systemd when it runs: harmless here)
    r = run(["sh", "-c", scripts["postinstall"], "postinstall", "1"])
    assert r.returncode == 0 and "sudo falcoctl install falco" in r.stdout, r.stdout + r.stderr


# ---- deb: installed into a real systemd --------------------------------------------------------------------

@pytest.fixture(scope="module")
def machine(deb, tmp_path_factory):
    reason = nspawn.missing_prerequisites()
    if reason:
        pytest.skip(reason)
    base = nspawn.base_rootfs(binaries())
    ov = nspawn.Overlay(base, "pkg")
    shutil.copy(deb, ov.path("/root/falco.deb"))
    m = nspawn.Machine(ov.merged, str(tmp_path_factory.mktemp("nspawn-pkg") / "boot.log"))
    yield m
    m.stop()
    ov.close()


def falco_pids(m):
    out = m.run("for p in /proc/[0-9]*; do [ \"$(cat $p/comm 2>/dev/null)\" = falco ] && echo ${p#/proc/}; done").stdout
    return out.split()


def unit_state(m, unit=UNIT):
    active = m.run(["systemctl", "is-active", unit]).stdout.strip()
    enabled = m.run(["systemctl", "is-enabled", unit]).stdout.strip()
    return active, enabled


def wait_alert(m, since, process, timeout=15):
    pat = alert_re(process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        j = m.run(["journalctl", "-u", UNIT, "--since", since, "--no-pager", "-o", "cat"]).stdout
        if pat.search(j):
            return True
        time.sleep(0.3)
    return False


def test_deb_lifecycle_in_systemd(machine):
    m = machine
    # install: files in place, nothing started, no driver, no falcoctl state
    r = m.run(["dpkg", "-i", "/root/falco.deb"])
    assert r.returncode == 0, r.stdout
    assert "sudo falcoctl install falco" in r.stdout, r.stdout
    assert unit_state(m) == ("inactive", "disabled")
    assert not falco_pids(m)
    assert m.run(["test", "-e", "/var/lib/falcoctl/state.json"]).returncode != 0
    assert m.run(["systemctl", "cat", UNIT]).stdout.startswith("# /lib/systemd/system/" + UNIT)
    assert m.run(["falco", "--version"]).stdout.startswith(f"Falco version: {VERSION}")

    # falcoctl installs falco as a service from the package: it uses /usr/bin/falco as packaged
    r = m.run(["falcoctl", "install", "falco"], timeout=300)
    assert r.returncode == 0, r.stdout
    assert f"[userspace] Using the installed falco /usr/bin/falco (version {VERSION})" in r.stdout, r.stdout
    assert "[verify] Self-test passed" in r.stdout, r.stdout
    assert unit_state(m) == ("active", "enabled")
    v = m.run(["dpkg", "--verify", "falco"])
    assert v.returncode == 0 and v.stdout.strip() == "", f"falcoctl changed packaged files:\n{v.stdout}"

    since = m.run(["date", "+%Y-%m-%d %H:%M:%S"]).stdout.strip()
    m.run("head -c 1 /etc/shadow >/dev/null", check=True)
    assert wait_alert(m, since, "head"), "no alert in the journal after head read /etc/shadow"

    # an upgrade (same package again) restarts the running falco, and it is enabled and alerting still
    pid = m.run(["systemctl", "show", "-P", "MainPID", UNIT]).stdout.strip()
    m.run("echo '# edited by the admin' >> /etc/falco/falco_rules.local.yaml", check=True)
    r = m.run(["dpkg", "-i", "/root/falco.deb"])
    assert r.returncode == 0, r.stdout
    assert "sudo falcoctl install falco" not in r.stdout  # the first-install hint only
    assert unit_state(m) == ("active", "enabled")
    assert m.run(["systemctl", "show", "-P", "MainPID", UNIT]).stdout.strip() not in ("", "0", pid)
    assert "# edited by the admin" in m.run(["cat", "/etc/falco/falco_rules.local.yaml"]).stdout
    since = m.run(["date", "+%Y-%m-%d %H:%M:%S"]).stdout.strip()
    m.run("tail -c 1 /etc/shadow >/dev/null", check=True)
    assert wait_alert(m, since, "tail"), "no alert from the restarted falco"

    # remove: falco stopped and disabled, binaries gone, configuration kept, falcoctl's unit copies gone
    r = m.run(["dpkg", "-r", "falco"])
    assert r.returncode == 0, r.stdout
    assert not falco_pids(m)
    assert m.run(["systemctl", "is-active", UNIT]).stdout.strip() in ("inactive", "unknown")
    assert m.run(["systemctl", "is-enabled", "falco.service"]).returncode != 0
    for p in ("/usr/bin/falco", "/usr/bin/falcoctl", "/etc/systemd/system/" + UNIT, "/lib/systemd/system/" + UNIT):
        assert m.run(["test", "-e", p]).returncode != 0, f"{p} survived dpkg -r"
    for p in CONFFILES:
        assert m.run(["test", "-f", p]).returncode == 0, f"dpkg -r removed the conffile {p}"
    assert "# edited by the admin" in m.run(["cat", "/etc/falco/falco_rules.local.yaml"]).stdout
    assert m.run(["dpkg-query", "-W", "-f=${Status}", "falco"]).stdout == "deinstall ok config-files"

    # reinstalled over the kept configuration and falcoctl state: falcoctl converges again, edits kept
    r = m.run(["dpkg", "-i", "/root/falco.deb"])
    assert r.returncode == 0, r.stdout
    assert unit_state(m) == ("inactive", "disabled")
    r = m.run(["falcoctl", "install", "falco"], timeout=300)
    assert r.returncode == 0 and "[verify] Self-test passed" in r.stdout, r.stdout
    assert unit_state(m) == ("active", "enabled")
    assert "# edited by the admin" in m.run(["cat", "/etc/falco/falco_rules.local.yaml"]).stdout

    # falcoctl reset undoes falcoctl's work but leaves the package's own files to dpkg (it had adopted the
    # packaged falco.yaml and rules, whose content is what it would have written)
    r = m.run(["falcoctl", "reset"], timeout=300)
    assert r.returncode == 0, r.stdout
    assert "Keeping /etc/falco/falco.yaml: it belongs to the package falco" in r.stdout, r.stdout
    assert not falco_pids(m)
    for p in CONFFILES:
        assert m.run(["test", "-f", p]).returncode == 0, f"falcoctl reset removed the conffile {p}\n{r.stdout}"
    v = m.run(["dpkg", "--verify", "falco"])
    assert "missing" not in v.stdout, f"falcoctl reset removed packaged files:\n{v.stdout}"
    assert m.run(["test", "-x", "/usr/bin/falco"]).returncode == 0
    r = m.run(["falcoctl", "install", "falco"], timeout=300)
    assert r.returncode == 0 and "[verify] Self-test passed" in r.stdout, r.stdout
    assert unit_state(m) == ("active", "enabled")

    r = m.run(["dpkg", "-r", "falco"])
    assert r.returncode == 0 and not falco_pids(m), r.stdout

    # purge: nothing of falco or falcoctl is left
    r = m.run(["dpkg", "-P", "falco"])
    assert r.returncode == 0, r.stdout
    left = m.run("ls -d /etc/falco /etc/falcoctl /var/lib/falcoctl /var/lib/falco /var/log/falco "
                 "/usr/share/falcoctl 2>/dev/null; find /etc/systemd /lib/systemd -name 'falco*'").stdout
    assert left.strip() == "", f"left after dpkg -P:\n{left}"
    assert m.run(["dpkg-query", "-W", "falco"]).returncode != 0
    assert m.run(["systemctl", "list-unit-files", "falco*", "--no-legend"]).stdout.strip() == ""


def test_deb_remove_stops_supervised_falco_without_systemd(deb, tmp_path):
    """No systemd as PID 1 (a chroot): falcoctl supervises falco itself, and dpkg -r still stops it."""
    reason = nspawn.missing_prerequisites()
    if reason:
        pytest.skip(reason)
    if run(["sh", "-c", "ss -ltn 2>/dev/null | grep -q ':8765 '"]).returncode == 0:
        pytest.skip("port 8765 is in use on this host (the chroot shares the host network)")
    ov = nspawn.Overlay(nspawn.base_rootfs(binaries()), "pkg-chroot")
    try:
        shutil.copy(deb, ov.path("/root/falco.deb"))
        script = """
dpkg -i /root/falco.deb >/dev/null; echo "rc_dpkg_i=$?"
falcoctl install falco; echo "rc_install=$?"
sup=$(cat /run/falcoctl/supervisor.pid); pid=$(cat /run/falco/falco.pid); echo "falco_pid=$pid"
head -c 1 /etc/shadow >/dev/null; sleep 1
grep -c 'file=/etc/shadow process=head ' /var/log/falco/falco.log | sed 's/^/alerts=/'
dpkg -r falco; echo "rc_dpkg_r=$?"
kill -0 "$pid" 2>/dev/null && echo falco_left
kill -0 "$sup" 2>/dev/null && echo supervisor_left
test -e /usr/bin/falco && echo binary_left
test -f /etc/falco/falco.yaml && echo conffile_kept
dpkg -P falco >/dev/null; echo "rc_dpkg_p=$?"
ls -d /etc/falco /etc/falcoctl /var/lib/falcoctl /var/log/falco 2>/dev/null | sed 's/^/left: /'
echo end
"""
        out = nspawn.chroot_script(ov.merged, script).stdout
        assert "rc_dpkg_i=0" in out and "rc_install=0" in out, out
        assert "systemd is not PID 1 here: starting falco as a daemon supervised by falcoctl" in out, out
        assert re.search(r"alerts=[1-9]", out), out
        assert "rc_dpkg_r=0" in out and "conffile_kept" in out, out
        for bad in ("falco_left", "supervisor_left", "binary_left", "left: "):
            assert bad not in out, out
        assert "rc_dpkg_p=0" in out and out.rstrip().endswith("end"), out
    finally:
        ov.close()


def test_rpm_install_and_erase_scriptlets(rpm):
    """The rpm with its scriptlets, installed with `rpm --root` into a copy of the Debian test tree (rpm runs
    them chrooted there; no systemd runs in it): the first install only prints the hint; an erase removes the
    unit copy falcoctl wrote, falcoctl's state, and keeps an edited config file as .rpmsave."""
    reason = nspawn.missing_prerequisites()
    if reason:
        pytest.skip(reason)
    ov = nspawn.Overlay(nspawn.base_rootfs(binaries()), "rpm")
    try:
        root = ov.merged
        rpmr = ["rpm", "--root", root]
        assert run(rpmr + ["--initdb"]).returncode == 0
        r = run(rpmr + ["--nodeps", "-i", rpm], timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "sudo falcoctl install falco" in r.stdout, r.stdout + r.stderr
        assert sorted(run(rpmr + ["-qc", "falco"]).stdout.split()) == CONFFILES
        assert os.access(ov.path("/usr/bin/falco"), os.X_OK)
        assert not os.path.exists(ov.path("/var/lib/falcoctl"))  # nothing ran falcoctl
        r = run(rpmr + ["-V", "--nodeps", "falco"])  # the Debian tree has no rpm packages to satisfy Requires
        assert r.returncode == 0 and r.stdout == "", r.stdout

        # what `falcoctl install falco` leaves behind: its state, a unit copy and its links; an admin's edit
        os.makedirs(ov.path("/var/lib/falcoctl"))
        # the layout falcoctl's state.c writes (cJSON_Print): a file it recorded under /etc goes on erase
        open(ov.path("/var/lib/falcoctl/state.json"), "w").write(
            '{\n\t"phases":\t{\n\t\t"config":\t{\n\t\t\t"files":\t[{\n\t\t\t\t\t"path":\t'
            '"/etc/falco/config.d/falcoctl.yaml",\n\t\t\t\t\t"sha256":\t"00"\n\t\t\t\t}]\n\t\t}\n\t}\n}\n')
        open(ov.path("/etc/falco/config.d/falcoctl.yaml"), "w").write("engine: {kind: modern_ebpf}\n")
        etc_unit = ov.path("/etc/systemd/system/" + UNIT)
        shutil.copy(ov.path("/usr/share/falcoctl/systemd/" + UNIT), etc_unit)
        os.makedirs(ov.path("/etc/systemd/system/multi-user.target.wants"), exist_ok=True)
        os.symlink("/etc/systemd/system/" + UNIT, ov.path("/etc/systemd/system/multi-user.target.wants/" + UNIT))
        os.symlink("/etc/systemd/system/" + UNIT, ov.path("/etc/systemd/system/falco.service"))
        with open(ov.path("/etc/falco/falco_rules.local.yaml"), "a") as f:
            f.write("# edited by the admin\n")

        r = run(rpmr + ["-e", "falco"], timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        assert run(rpmr + ["-q", "falco"]).returncode != 0
        for p in ("/usr/bin/falco", "/usr/bin/falcoctl", "/var/lib/falcoctl", "/etc/falco/falco.yaml",
                  "/etc/falco/config.d",
                  "/etc/systemd/system/" + UNIT, "/etc/systemd/system/falco.service",
                  "/etc/systemd/system/multi-user.target.wants/" + UNIT, "/usr/share/falcoctl"):
            assert not os.path.lexists(ov.path(p)), f"{p} survived rpm -e"
        with open(ov.path("/etc/falco/falco_rules.local.yaml.rpmsave")) as f:
            assert "# edited by the admin" in f.read()
    finally:
        ov.close()
