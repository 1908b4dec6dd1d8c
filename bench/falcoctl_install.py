# SPDX-License-Identifier: Apache-2.0
"""`falcoctl install falco` on a fresh root to the first alert, under a real systemd (systemd-nspawn).

One booted Debian 12 (tests/e2e/nspawn.py: the cached debootstrap tree, an overlay, `make install` into it), then
ROUNDS rounds, each: `falcoctl reset` (back to the pristine tree) and `falcoctl install falco`, alternating the real
falco and the stand-in daemon (tests/fixtures/falcoctl/fake_falco.c: falcoctl's own overhead) within the round.
The figure is falcoctl's own "First alert X s after this command started" (the verify phase reads the self-test
alert back from the journal). Prints each run and the median/min/max per kind.
"""
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import nspawn  # noqa: E402

BUILD = os.environ.get("BUILD", "build")
ROUNDS = int(os.environ.get("ROUNDS", "5"))
FAKE = ["--from", "/usr/local/bin/fake-falco", "--assets", "/usr/share/falcoctl-test"]


def main():
    reason = nspawn.missing_prerequisites()
    if reason:
        print(f"skipped: {reason}")
        return 0
    bins = [os.path.join(BUILD, "bin", b) for b in ("falco", "falcoctl")]
    base = nspawn.base_rootfs(bins)
    ov = nspawn.Overlay(base, "bench")
    res = {"real": [], "stand-in": []}
    try:
        nspawn.prepare_tree(ov.merged, BUILD)
        m = nspawn.Machine(ov.merged, "/tmp/falcoctl-bench-boot.log")
        try:
            # the stand-in must replace the packaged binary (falcoctl never overwrites a falco it did not install),
            # so the real falco is installed from a copy with --from
            m.run("mv /usr/bin/falco /usr/local/lib/falco.real", check=True)
            kinds = {"real": ["--from", "/usr/local/lib/falco.real"], "stand-in": FAKE}
            for i in range(ROUNDS):
                order = ["real", "stand-in"] if i % 2 == 0 else ["stand-in", "real"]
                for kind in order:
                    r = m.run(["falcoctl", "install", "falco"] + kinds[kind], timeout=300)
                    t = re.search(r"First alert ([0-9.]+) s after this command started", r.stdout)
                    if r.returncode != 0 or not t:
                        print(f"round {i} {kind}: install failed\n{r.stdout}")
                        return 1
                    res[kind].append(float(t.group(1)))
                    print(f"round {i} {kind}: first alert {t.group(1)} s")
                    rr = m.run(["falcoctl", "reset"])
                    if rr.returncode != 0:
                        print(f"reset failed\n{rr.stdout}")
                        return 1
        finally:
            m.stop()
    finally:
        ov.close()
    for kind, v in res.items():
        print(f"{kind}: median {statistics.median(v):.1f} s, min {min(v):.1f} s, max {max(v):.1f} s "
              f"over {len(v)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
