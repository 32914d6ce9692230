# SPDX-License-Identifier: GPL-3.0-or-later
"""In the VM, xfs_project_quota as the AnsiballZ payloads Ansible sent (kept with
ANSIBLE_KEEP_REMOTE_FILES), without SSH or ansible-playbook in the timing:

    python3 limits_vm.py N first|idempotent ROUNDS
        N projects on the plain XFS and on the one that also holds 10,000 unrelated limited
        projects (whose project files name them too), alternately ROUNDS times so that drift hits
        both alike. Prints both medians.
    python3 limits_vm.py curve ROUNDS N...
        The cost per project beyond the module's start at each N (limits set from none, chosen by
        id), against one `xfs_quota -x` exec with N `limit` commands beyond its own start: the
        payload ours-curve-N.py for each N and for 1 (the start). Alternately, medians.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

MOUNTS = {"plain": "/mnt/bench", "10k": "/mnt/bench10k"}
CURVE_LIMITS = "bhard=10m ihard=1000"  # what bench/playbooks/limits.yml's step=curve asks per project


def xfs_quota(mount: str, commands: list[str]) -> float:
    """Seconds one `xfs_quota -x` takes to run ``commands`` (numeric ids: no project files read)."""
    args = ["xfs_quota", "-x", "-D", "/dev/null", "-P", "/dev/null"]
    for command in commands:
        args += ["-c", command]
    started = time.monotonic()
    subprocess.run(args + [mount], check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def clear_limits(mount: str, count: int) -> None:
    xfs_quota(mount, [f"limit -p bhard=0 bsoft=0 ihard=0 {20000 + i}" for i in range(1, count + 1)])


def run_payload(payload: str, changed: bool) -> float:
    started = time.monotonic()
    done = subprocess.run(["python3", payload], check=True, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    result = json.loads(done.stdout)
    assert not result.get("failed") and result["changed"] == changed, done.stdout[:2000]
    return elapsed


def compare_targets(count: int, run: str, rounds: int) -> None:
    times: dict[str, list[float]] = {"10k": [], "plain": []}
    for _round in range(rounds):
        for target in times:
            if run == "first":  # a first run starts from no limits
                clear_limits(MOUNTS[target], count)
            times[target].append(run_payload(f"/opt/bench/ours-{count}-{target}.py", run == "first"))
    print(f"{statistics.median(times['10k']):.3f} {statistics.median(times['plain']):.3f}")


def curve(rounds: int, counts: list[int]) -> None:
    medians: dict[int, tuple[float, float]] = {}
    for count in [1, *counts]:
        ours, reference = [], []
        for _round in range(rounds):
            clear_limits(MOUNTS["plain"], count)
            ours.append(run_payload(f"/opt/bench/ours-curve-{count}.py", True))
            clear_limits(MOUNTS["plain"], count)
            reference.append(xfs_quota(MOUNTS["plain"], [f"limit -p {CURVE_LIMITS} {20000 + i}" for i in range(1, count + 1)]))
        medians[count] = statistics.median(ours), statistics.median(reference)
    start_ours, start_reference = medians[1]
    print(f"module start (1 project) {start_ours:.3f} s; xfs_quota start (1 command) {start_reference:.3f} s")
    for count in counts:
        ours_each = (medians[count][0] - start_ours) / (count - 1)
        reference_each = (medians[count][1] - start_reference) / (count - 1)
        print(f"limits, {count:>6} projects, per project beyond the start: ours {ours_each * 1e3:8.3f} ms "
              f"vs xfs_quota {reference_each * 1e3:7.3f} ms  ratio {ours_each / reference_each:6.1f}x  (goal <= 2x)")


def main() -> None:
    if sys.argv[1] == "curve":
        curve(int(sys.argv[2]), [int(count) for count in sys.argv[3:]])
    else:
        compare_targets(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]))


if __name__ == "__main__":
    main()
