"""In the VM: `docker run` wall time of Docker tasks launched through the agent test double, with the
hook loaded and without, alternating, on the same XFS; prints one JSON line.

    python3 docker_vm.py BUILD_DIR XFS_DIR IMAGE RUNS
Each sample: the launch (decorator, fetch, post-fetch, `docker run` until the container exists) and
the wait for the task (`true`) to end, then remove_executor and gc outside the timing.
"""

from __future__ import annotations

import json
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


def main(build: str, xfs: str, image: str, runs: int) -> None:
    doubles = {"hook": Double(build, os.path.join(xfs, "with-hook"), True),
               "none": Double(build, os.path.join(xfs, "without"), False)}
    wall = {"hook": [], "none": []}
    hooks_us = []
    for n in range(-2, runs):  # two warm-up rounds, not counted
        for kind in (("hook", "none") if n % 2 else ("none", "hook")):  # alternating, each first half the time
            double = doubles[kind]
            task = {"framework": "F1", "executor": f"E{n + 2}", "container": f"bench-{kind}-{n + 2}"}
            started = time.perf_counter()
            launched = double("launch", **task, containerizer="docker", disk_mb=32, image=image, command="true")
            waited = double("wait", framework="F1", executor=task["executor"])
            elapsed = time.perf_counter() - started
            if not launched["ok"] or waited["status"] != 0:
                raise SystemExit(f"{kind}: {launched} {waited}")
            double("remove_executor", framework="F1", executor=task["executor"])
            double("gc", framework="F1", executor=task["executor"])
            if n >= 0:
                wall[kind].append(elapsed)
                if kind == "hook":
                    hooks_us.append(launched["hooks_us"])
    with_hook, without = statistics.median(wall["hook"]), statistics.median(wall["none"])
    print(json.dumps({"runs": runs, "median_with_hook_s": round(with_hook, 4), "median_without_s": round(without, 4),
                      "ratio": round(with_hook / without, 4), "median_hooks_us": statistics.median(hooks_us),
                      "hook_share": round(statistics.median(hooks_us) / 1e6 / with_hook, 5)}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
