# SPDX-License-Identifier: Apache-2.0
# Copyright (c) mesos.xfs_quota contributors
"""Churn: launch / remove / garbage-collect cycles through the loaded hook, with agent restarts
(and garbage collection while the agent is down) in between. Then proves zero leaked ids (the
whole range can be handed out again) and zero stale limits (no limit left in the range).

    MXQ_TEST_XFS=/mnt/x MXQ_HOOK_BUILD=/opt/mxq python3 churn_test.py [CYCLES]
Prints one JSON line with the numbers; exits non-zero on any leak.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness_test import XFS, Agent, project_of, wait_until_freed  # noqa: E402  (same directory, stdlib only)

FIRST, SIZE, WINDOW, RESTART_EVERY = 33000, 40, 20, 1000


def limits_in_range(mountpoint: str) -> dict[int, int]:
    """Project id -> block hard limit (KiB) for every project in our range that has a limit."""
    out = subprocess.run(["xfs_quota", "-x", "-c", f"report -p -n -b -N -L {FIRST} -U {FIRST + SIZE - 1}", mountpoint],
                         capture_output=True, text=True, check=True).stdout
    limits = {}
    for line in out.splitlines():
        fields = line.split()
        if fields and fields[0].startswith("#") and (int(fields[2]) or int(fields[3])):
            limits[int(fields[0][1:])] = int(fields[3])
    return limits


def main() -> int:
    cycles = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    root = os.path.join(XFS, "churn")
    shutil.rmtree(root, ignore_errors=True)
    wait_until_freed(XFS, FIRST, FIRST + SIZE - 1)
    work_dir = os.path.join(root, "work")
    os.makedirs(work_dir)
    parameters = {"work_dir": work_dir, "project_ids": f"{FIRST}-{FIRST + SIZE - 1}", "default_limit": "1m",
                  "reclaim_interval_secs": "0"}
    agent = Agent(work_dir, parameters)
    live: list[str] = []
    restarts = gc_while_down = failures = 0
    started = time.monotonic()
    for i in range(cycles):
        executor = f"E{i}"
        result = agent("launch", framework="F1", executor=executor, container=f"C{i}", disk_mb=1,
                       containerizer="docker" if i % 2 else "mesos", fetch=[{"path": "f", "size_kib": 4}])
        if not result["ok"] or not result["launched"]:
            failures += 1
            print(json.dumps({"cycle": i, "failed": result}), file=sys.stderr)
        live.append(executor)
        if len(live) >= WINDOW:
            old = live.pop(0)
            agent("remove_executor", framework="F1", executor=old)
            agent("gc", framework="F1", executor=old)
        if (i + 1) % RESTART_EVERY == 0:
            agent.stop()
            restarts += 1
            if restarts % 2 == 0:  # the agent's GC ran while it was down
                for old in live[: WINDOW // 2]:
                    shutil.rmtree(os.path.join(work_dir, "slaves/S0/frameworks/F1/executors", old))
                live = live[WINDOW // 2:]
                gc_while_down += WINDOW // 2
            agent = Agent(work_dir, parameters)
    for old in live:
        agent("remove_executor", framework="F1", executor=old)
        agent("gc", framework="F1", executor=old)
    elapsed = time.monotonic() - started
    agent.stop()
    wait_until_freed(XFS, FIRST, FIRST + SIZE - 1)  # the agent restarts after its GC's deletes settled

    # zero leaked ids: after a restart the whole range can be handed out again, lowest first
    agent = Agent(work_dir, parameters)
    ids = []
    for n in range(SIZE):
        result = agent("launch", framework="F2", executor=f"X{n}", container="C", disk_mb=1)
        ids.append(project_of(result["sandbox"]) if result["ok"] else None)
    leaked = SIZE - sum(1 for i in ids if i is not None)
    in_order = ids == list(range(FIRST, FIRST + SIZE))
    for n in range(SIZE):
        agent("remove_executor", framework="F2", executor=f"X{n}")
        agent("gc", framework="F2", executor=f"X{n}")
    agent.stop()
    # zero stale limits: one more restart releases what was collected, and nothing is left
    Agent(work_dir, parameters).stop()
    stale = limits_in_range(XFS)

    report = {"cycles": cycles, "restarts": restarts, "gc_while_down": gc_while_down, "launch_failures": failures,
              "leaked_ids": leaked, "ids_in_order": in_order, "stale_limits": len(stale),
              "seconds": round(elapsed, 1), "ms_per_cycle": round(1000 * elapsed / cycles, 2)}
    print(json.dumps(report))
    return 0 if failures == 0 and leaked == 0 and in_order and not stale else 1


if __name__ == "__main__":
    sys.exit(main())
