# SPDX-License-Identifier: GPL-3.0-or-later
"""In the VM: xfs_project_quota for N projects, as the AnsiballZ payloads Ansible sent (kept with
ANSIBLE_KEEP_REMOTE_FILES), on the plain XFS and on the one that also holds 10,000 unrelated
limited projects (whose project files name them too). The two run alternately ROUNDS times, so
drift hits both alike, and without SSH or ansible-playbook in the timing. Prints both medians.

    python3 limits_vm.py N first|idempotent ROUNDS
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

N, RUN, ROUNDS = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
MOUNTS = {"plain": "/mnt/bench", "10k": "/mnt/bench10k"}


def clear_limits(mount: str) -> None:
    args = ["xfs_quota", "-x", "-D", "/dev/null", "-P", "/dev/null"]  # numeric ids: no project files
    for i in range(1, N + 1):
        args += ["-c", f"limit -p bhard=0 bsoft=0 {20000 + i}"]
    subprocess.run(args + [mount], check=True, stdout=subprocess.DEVNULL)


def run_module(target: str) -> float:
    if RUN == "first":  # a first run starts from no limits
        clear_limits(MOUNTS[target])
    started = time.monotonic()
    done = subprocess.run(["python3", f"/opt/bench/ours-{N}-{target}.py"], check=True, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    result = json.loads(done.stdout)
    assert not result.get("failed") and result["changed"] == (RUN == "first"), result
    return elapsed


def main() -> None:
    times: dict[str, list[float]] = {"10k": [], "plain": []}
    for _round in range(ROUNDS):
        for target in times:
            times[target].append(run_module(target))
    print(f"{statistics.median(times['10k']):.3f} {statistics.median(times['plain']):.3f}")


if __name__ == "__main__":
    main()
