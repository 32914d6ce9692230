"""In the VM: `docker run` wall time of Docker tasks launched through the agent test double, with the
hook loaded and without, on the same XFS; prints one JSON line.

    python3 docker_vm.py BUILD_DIR XFS_DIR IMAGE RUNS
Each sample: the launch (decorator, fetch, post-fetch, `docker run` until the container exists) and
the wait for the task (`true`) to end; then remove_executor (docker stop, docker rm) and gc, and a
`sync`, outside the timing, so that one container's clean-up is not charged to the next.

Three doubles: one with the hook, two without. The second one without the hook is the control: the
same launch on both sides, so its ratio shows how far this host's noise alone moves a ratio (under
TCG on shared cores one launch varies by tens of percent, and a median of 30 by several). Each round
times all three back to back, in an order that rotates through all six, so the host's drifting load
hits the three alike; the ratios are taken per round (paired) and their median is reported with a
distribution-free 95% confidence interval (order statistics of the binomial).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import time


class Double:
    def __init__(self, build: str, root: str, hook: bool) -> None:
        self.work_dir = os.path.join(root, "work")
        os.makedirs(self.work_dir, exist_ok=True)
        argv = [os.path.join(build, "mesos-agent-double"), f"--work_dir={self.work_dir}", "--drive"]
        if hook:
            modules = {"libraries": [{"file": os.path.join(build, "libmesos_xfs_quota_hook.so"), "modules": [
                {"name": "mesos_xfs_quota_hook", "parameters": [
                    {"key": "work_dir", "value": self.work_dir}, {"key": "project_ids", "value": "40000-40999"},
                    {"key": "default_limit", "value": "64m"}]}]}]}
            with open(os.path.join(root, "modules.json"), "w", encoding="utf-8") as f:
                json.dump(modules, f)
            argv += [f"--modules=file://{root}/modules.json", "--hooks=mesos_xfs_quota_hook"]
        self.log = open(os.path.join(root, "agent.log"), "w", encoding="utf-8")  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True)

    def __call__(self, op: str, **request) -> dict:
        self.proc.stdin.write(json.dumps({"op": op, **request}) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())


def median_interval(values: list[float]) -> tuple[float, float]:
    """A 95% confidence interval of the median: the k-th smallest and k-th largest value, k the largest
    with P(Binomial(n, 1/2) < k) <= 2.5%."""
    ordered, n = sorted(values), len(values)
    k, below = 0, 0.0
    while below + math.comb(n, k) / 2 ** n <= 0.025:
        below += math.comb(n, k) / 2 ** n
        k += 1
    k = max(k, 1)
    return ordered[k - 1], ordered[n - k]


def launch(double: Double, kind: str, n: int, image: str) -> tuple[float, int]:
    """One Docker task through the double: its wall time, and the time inside the hooks (us)."""
    task = {"framework": "F1", "executor": f"E{n}", "container": f"bench-{kind}-{n}"}
    started = time.perf_counter()
    launched = double("launch", **task, containerizer="docker", disk_mb=32, image=image, command="true")
    waited = double("wait", framework="F1", executor=task["executor"])
    elapsed = time.perf_counter() - started
    if not launched["ok"] or waited["status"] != 0:
        raise SystemExit(f"{kind}: {launched} {waited}")
    removed = double("remove_executor", framework="F1", executor=task["executor"])
    double("gc", framework="F1", executor=task["executor"])
    if not removed["ok"]:
        raise SystemExit(f"{kind}: {removed}")
    subprocess.run(["sync"], check=True)
    return elapsed, launched["hooks_us"]


def main(build: str, xfs: str, image: str, runs: int) -> None:
    doubles = {"hook": Double(build, os.path.join(xfs, "with-hook"), True),
               "none": Double(build, os.path.join(xfs, "without"), False),
               "control": Double(build, os.path.join(xfs, "control"), False)}
    orders = list(itertools.permutations(doubles))
    wall: dict[str, list[float]] = {kind: [] for kind in doubles}
    hooks_us = []
    for n in range(-2, runs):  # two warm-up rounds, not counted
        sample = {}
        for kind in orders[n % len(orders)]:
            sample[kind], spent = launch(doubles[kind], kind, n + 2, image)
            if kind == "hook" and n >= 0:
                hooks_us.append(spent)
        if n >= 0:
            for kind, elapsed in sample.items():
                wall[kind].append(elapsed)
    medians = {kind: statistics.median(values) for kind, values in wall.items()}
    paired = {kind: [ours / ref for ours, ref in zip(wall[kind], wall["none"])] for kind in ("hook", "control")}
    print(json.dumps({
        "runs": runs, "median_with_hook_s": round(medians["hook"], 4), "median_without_s": round(medians["none"], 4),
        "median_control_s": round(medians["control"], 4), "ratio": round(medians["hook"] / medians["none"], 4),
        "paired_ratio": round(statistics.median(paired["hook"]), 4),
        "paired_ratio_ci95": [round(v, 4) for v in median_interval(paired["hook"])],
        "control_paired_ratio": round(statistics.median(paired["control"]), 4),
        "control_paired_ratio_ci95": [round(v, 4) for v in median_interval(paired["control"])],
        "spread": round(statistics.quantiles(wall["none"], n=4)[2] / statistics.quantiles(wall["none"], n=4)[0], 3),
        "median_hooks_us": statistics.median(hooks_us),
        "hook_share": round(statistics.median(hooks_us) / 1e6 / medians["hook"], 5),
        "samples": {kind: [round(v, 3) for v in values] for kind, values in wall.items()}}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
