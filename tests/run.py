#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs every unit-test binary (cmocka) and the end-to-end suite (pytest), then prints one summary.

Usage: tests/run.py --build DIR [unit binaries...] [-- extra pytest args]
Exit status is non-zero if anything failed.
"""
import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run_unit(binaries, timeout):
    results = []  # (name, passed, failed, ok, seconds, output)
    for b in binaries:
        name = os.path.basename(b)
        t0 = time.monotonic()
        try:
            p = subprocess.run([b], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=timeout, text=True, errors="replace")
            out, rc = p.stdout, p.returncode
        except subprocess.TimeoutExpired as e:
            out, rc = (e.stdout or b"").decode(errors="replace") + "\n(timed out)\n", -1
        dt = time.monotonic() - t0
        passed = sum(int(m) for m in re.findall(r"\[  PASSED  \] (\d+) test", out))
        failed = sum(int(m) for m in re.findall(r"\[  FAILED  \] (\d+) test", out))
        ok = rc == 0 and failed == 0
        if not ok and failed == 0:
            failed = 1  # crashed or timed out before cmocka could count
        print(f"{'PASS' if ok else 'FAIL'} unit {name}: {passed} passed, {failed} failed ({dt:.1f}s)")
        if not ok:
            sys.stdout.write(out)
        results.append((name, passed, failed, ok))
    return results


def run_pytest(build, extra):
    env = dict(os.environ)
    env["FALCO_BUILD"] = os.path.abspath(build)
    cmd = [os.environ.get("PYTHON", "/usr/bin/python3"), "-m", "pytest", "-p", "no:cacheprovider",
           "-q", "-rs", os.path.join(HERE, "e2e")] + extra
    print("+ " + " ".join(cmd), flush=True)
    p = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       errors="replace")
    sys.stdout.write(p.stdout)
    counts = {}
    tail = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    for n, what in re.findall(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|deselected)", tail):
        counts[what.rstrip("s") if what.startswith("error") else what] = int(n)
    # pytest exit 5 = no tests collected: fine while the suite is empty
    ok = p.returncode in (0, 5)
    return counts, ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--unit-timeout", type=int, default=600)
    ap.add_argument("binaries", nargs="*")
    args, extra = ap.parse_known_args()
    extra = [a for a in extra if a != "--"]

    t0 = time.monotonic()
    unit = run_unit(args.binaries, args.unit_timeout)
    e2e, e2e_ok = run_pytest(args.build, extra)
    dt = time.monotonic() - t0

    u_pass = sum(r[1] for r in unit)
    u_fail = sum(r[2] for r in unit)
    u_bad = [r[0] for r in unit if not r[3]]
    print()
    print("=" * 72)
    print(f"unit: {len(unit)} binaries, {u_pass} tests passed, {u_fail} failed"
          + (f"  (failing: {', '.join(u_bad)})" if u_bad else ""))
    print("e2e:  " + ", ".join(f"{v} {k}" for k, v in sorted(e2e.items())) if e2e else "e2e:  no tests ran")
    ok = not u_bad and e2e_ok
    print(f"TOTAL: {'OK' if ok else 'FAILED'} in {dt:.0f}s")
    print("=" * 72)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
