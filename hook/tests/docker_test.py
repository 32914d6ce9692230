# SPDX-License-Identifier: Apache-2.0
# Copyright (c) mesos.xfs_quota contributors
"""Docker tasks in real containers: the agent test double launches them as Mesos 1.11.0's Docker
containerizer and executor do (`docker run --name mesos-<containerId> -v <sandbox>:/mnt/mesos/sandbox`),
with the built hook loaded; the writes come from inside the container. Runs as root in the test VM
with Docker running and the image MXQ_DOCKER_IMAGE imported, stdlib only:

    MXQ_TEST_XFS=/mnt/x MXQ_HOOK_BUILD=/opt/mxq MXQ_DOCKER_IMAGE=mxq-busybox:1 python3 -m unittest -v docker_test
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness_test import MIB, XFS, Agent, hard_limit, project_of, wait_until_freed  # noqa: E402  (stdlib only)

IMAGE = os.environ.get("MXQ_DOCKER_IMAGE", "")


def docker(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *argv], capture_output=True, text=True, check=False)


def logs(container: str) -> str:
    """What the task wrote, from Docker's log of it: the sandbox's stderr file is full when dd fails."""
    return docker("logs", container).stderr


@unittest.skipUnless(os.geteuid() == 0 and XFS and IMAGE, "needs root, MXQ_TEST_XFS and MXQ_DOCKER_IMAGE (the test VM)")
class DockerTasks(unittest.TestCase):
    def setUp(self) -> None:
        self.first = 35000 + 10 * sorted(n for n in dir(self) if n.startswith("test_")).index(self._testMethodName)
        self.root = os.path.join(XFS, "docker-" + self._testMethodName)
        shutil.rmtree(self.root, ignore_errors=True)
        wait_until_freed(XFS, self.first, self.first + 9)
        self.work_dir = os.path.join(self.root, "work")
        os.makedirs(self.work_dir)

    def start(self, ids: str) -> Agent:
        agent = Agent(self.work_dir, {"work_dir": self.work_dir, "project_ids": ids, "default_limit": "2m",
                                      "reclaim_interval_secs": "0"})
        self.addCleanup(lambda: agent.proc.poll() is None and agent.stop())
        return agent

    def launch(self, agent: Agent, executor: str, container: str, command: str, disk_mb: float) -> dict:
        launched = agent("launch", framework="F1", executor=executor, container=container, containerizer="docker",
                         disk_mb=disk_mb, image=IMAGE, command=command)
        self.addCleanup(docker, "rm", "-f", f"mesos-{container}")
        self.assertTrue(launched["ok"], launched)
        return launched

    def test_a_write_from_inside_the_container_stops_at_the_tasks_disk(self) -> None:
        agent = self.start(f"{self.first}-{self.first + 9}")
        launched = self.launch(agent, "E1", "C1", "dd if=/dev/zero of=/mnt/mesos/sandbox/big bs=1M count=8", 4)
        sandbox = launched["sandbox"]
        found = docker("inspect", "--type=container", "mesos-C1")
        self.assertEqual(found.returncode, 0, f"the launch ran no container mesos-C1: {found.stderr.strip()}")
        inspected = json.loads(found.stdout)[0]
        self.assertEqual(inspected["Name"], "/mesos-C1")
        self.assertIn({"Source": sandbox, "Destination": "/mnt/mesos/sandbox"},
                      [{"Source": m["Source"], "Destination": m["Destination"]} for m in inspected["Mounts"]])
        waited = agent("wait", framework="F1", executor="E1")
        self.assertNotEqual(waited["status"], 0, waited)
        self.assertIn("No space left on device", logs("mesos-C1"))
        self.assertEqual(project_of(os.path.join(sandbox, "big")), self.first)
        self.assertEqual(hard_limit(XFS, self.first), 4 * MIB)
        self.assertLessEqual(os.path.getsize(os.path.join(sandbox, "big")), 4 * MIB)

    def test_removal_stops_and_removes_the_container_and_releases_its_id(self) -> None:
        agent = self.start(f"{self.first}-{self.first}")  # one id: the second task gets it only if it was released
        first = self.launch(agent, "E1", "C1", "sleep 600", 2)
        self.assertEqual(project_of(first["sandbox"]), self.first)
        self.assertEqual(docker("inspect", "--format", "{{.State.Running}}", "mesos-C1").stdout.strip(), "true")
        removed = agent("remove_executor", framework="F1", executor="E1")
        self.assertTrue(removed["ok"], removed)
        self.assertNotEqual(removed["status"], 0, "the task was stopped, not finished")
        self.assertNotEqual(docker("inspect", "--type=container", "mesos-C1").returncode, 0, "the container is gone")
        agent("gc", framework="F1", executor="E1")
        second = self.launch(agent, "E2", "C2", "dd if=/dev/zero of=/mnt/mesos/sandbox/big bs=1M count=4", 1)
        self.assertEqual(project_of(second["sandbox"]), self.first, "the first task's id was released")
        self.assertNotEqual(agent("wait", framework="F1", executor="E2")["status"], 0)
        self.assertIn("No space left on device", logs("mesos-C2"))
        self.assertIn(f"sandbox {second['sandbox']}: project {self.first}, hard limit {MIB} bytes", agent.stop())


if __name__ == "__main__":
    unittest.main()
