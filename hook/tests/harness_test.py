# SPDX-License-Identifier: Apache-2.0
# Copyright (c) mesos.xfs_quota contributors
"""The built hook .so, loaded the way the agent's ModuleManager loads it, driven on real sandboxes.

The loader is tests/doubles/agent (a TEST DOUBLE of mesos-agent, built against the same test-only
API stub as the .so). Runs as root in the test VM, stdlib only:

    MXQ_TEST_XFS=/mnt/x MXQ_HOOK_BUILD=/opt/mxq python3 -m unittest -v harness_test
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import shutil
import struct
import subprocess
import time
import unittest

BUILD = os.environ.get("MXQ_HOOK_BUILD", "/opt/mxq")
XFS = os.environ.get("MXQ_TEST_XFS", "")
DOUBLE = os.path.join(BUILD, "mesos-agent-double")
LIBRARY = os.path.join(BUILD, "libmesos_xfs_quota_hook.so")
MODULE = "mesos_xfs_quota_hook"
FS_IOC_FSGETXATTR = 0x801C581F
MIB = 1 << 20


def project_of(path: str) -> int:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        buf = bytearray(28)
        fcntl.ioctl(fd, FS_IOC_FSGETXATTR, buf, True)
        return struct.unpack_from("=IIII", buf)[3]
    finally:
        os.close(fd)


def fill(path: str, mib: int) -> tuple[int, int]:
    """Write up to ``mib`` MiB; (bytes written, errno or 0)."""
    written = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for _chunk in range(mib):
            written += os.write(fd, b"\0" * MIB)
        os.fsync(fd)
    except OSError as exc:
        return written, exc.errno
    finally:
        os.close(fd)
    return written, 0


def hard_limit(mountpoint: str, project_id: int) -> int:
    """The block hard limit in bytes, read with xfs_quota: the test checks the hook by another tool."""
    out = subprocess.run(["xfs_quota", "-x", "-c", f"quota -p -N -n -b -v {project_id}", mountpoint],
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[3]) * 1024 if out else 0  # device, used, soft, hard (KiB)


def inodes_in_use(mountpoint: str, first: int, last: int) -> dict[int, int]:
    """Project id -> inodes counted, for ids first..last that count any (read with xfs_quota)."""
    out = subprocess.run(["xfs_quota", "-x", "-c", f"report -p -n -i -N -L {first} -U {last}", mountpoint],
                         capture_output=True, text=True, check=True).stdout
    counts = {}
    for line in out.splitlines():
        fields = line.split()
        if fields and fields[0].startswith("#") and int(fields[1]):
            counts[int(fields[0][1:])] = int(fields[1])
    return counts


def wait_until_freed(mountpoint: str, first: int, last: int) -> None:
    """XFS frees deleted inodes in the background (inodegc); statfs pushes it along. A real
    agent restarts long after its GC ran; the tests wait for that state instead of racing it."""
    for _attempt in range(100):
        if not inodes_in_use(mountpoint, first, last):
            return
        os.statvfs(mountpoint)
        time.sleep(0.05)
    raise AssertionError(f"inodes still counted for projects {first}-{last}: {inodes_in_use(mountpoint, first, last)}")


class Agent:
    """One run of the agent test double with our hook, driven through --drive (JSON lines)."""

    def __init__(self, work_dir: str, parameters: dict[str, str], *extra: str) -> None:
        modules = {"libraries": [{"file": LIBRARY, "modules": [
            {"name": MODULE, "parameters": [{"key": k, "value": v} for k, v in parameters.items()]}]}]}
        self.modules_file = os.path.join(os.path.dirname(work_dir), "modules.json")
        with open(self.modules_file, "w", encoding="utf-8") as f:
            json.dump(modules, f)
        self.argv = [DOUBLE, f"--work_dir={work_dir}", f"--modules=file://{self.modules_file}",
                     f"--hooks={MODULE}", "--drive", *extra]
        # the log goes to a file: a pipe nobody reads would fill up and block the double
        self.log = open(os.path.join(os.path.dirname(work_dir), "agent.log"), "w+", encoding="utf-8")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True)

    def __call__(self, op: str, **request) -> dict:
        self.proc.stdin.write(json.dumps({"op": op, **request}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"the double exited: {self.stop()}")
        return json.loads(line)

    def stop(self) -> str:
        """End the run (like an agent restart); returns what it logged."""
        self.proc.communicate(timeout=60)
        self.log.seek(0)
        err = self.log.read()
        self.log.close()
        return err


@unittest.skipUnless(os.geteuid() == 0 and XFS, "needs root and MXQ_TEST_XFS (the test VM)")
class HookHarness(unittest.TestCase):
    def setUp(self) -> None:
        # a range of its own per test: what one test leaves on the file system never meets another
        self.first = 31000 + 10 * sorted(n for n in dir(self) if n.startswith("test_")).index(self._testMethodName)
        self.root = os.path.join(XFS, "harness-" + self._testMethodName)
        shutil.rmtree(self.root, ignore_errors=True)
        wait_until_freed(XFS, self.first, self.first + 9)
        self.work_dir = os.path.join(self.root, "work")
        os.makedirs(self.work_dir)
        self.parameters = {"work_dir": self.work_dir, "project_ids": f"{self.first}-{self.first + 9}",
                           "default_limit": "2m", "reclaim_interval_secs": "0"}

    def start(self, **overrides: str) -> Agent:
        agent = Agent(self.work_dir, {**self.parameters, **overrides})
        self.addCleanup(lambda: agent.proc.poll() is None and agent.stop())
        return agent

    def refused(self, *extra: str, **overrides: str) -> str:
        agent = Agent(self.work_dir, {**self.parameters, **overrides}, *extra)
        err = agent.stop()
        self.assertNotEqual(agent.proc.returncode, 0, err)
        return err

    def test_docker_launch_gets_a_project_and_the_kernel_enforces_its_disk(self) -> None:
        agent = self.start()
        launched = agent("launch", framework="F1", executor="E1", container="C1", containerizer="docker", disk_mb=4)
        self.assertTrue(launched["ok"], launched)
        sandbox = launched["sandbox"]
        self.assertEqual(project_of(sandbox), self.first)
        self.assertEqual(hard_limit(XFS, self.first), 4 * MIB)
        written, err = fill(os.path.join(sandbox, "big"), 8)
        self.assertEqual(err, errno.ENOSPC)
        self.assertLessEqual(written, 4 * MIB)
        self.assertIn(f"sandbox {sandbox}: project {self.first}, hard limit {4 * MIB} bytes", agent.stop())

    def test_mesos_containerizer_after_fetch_with_fifo_and_symlink(self) -> None:
        agent = self.start()
        launched = agent("launch", framework="F1", executor="E1", container="C1", containerizer="mesos", disk_mb=3,
                         fetch=[{"path": "pipe", "kind": "fifo"}, {"path": "etc", "kind": "symlink", "target": "/etc"},
                                {"path": "dist/app.tar", "size_kib": 64}])
        self.assertTrue(launched["ok"], launched)
        sandbox = launched["sandbox"]
        self.assertEqual(project_of(os.path.join(sandbox, "dist/app.tar")), self.first, "fetched files included")
        self.assertEqual(project_of("/etc"), 0, "the symlink was not followed")
        self.assertEqual(hard_limit(XFS, self.first), 3 * MIB, "the task's disk, learnt before fetch")

    def test_release_after_gc_and_recovery_after_restart(self) -> None:
        agent = self.start()
        for executor in ("E1", "E2", "E3"):
            self.assertTrue(agent("launch", framework="F1", executor=executor, container="C1", disk_mb=1)["ok"])
        agent("remove_executor", framework="F1", executor="E1")
        agent("gc", framework="F1", executor="E1")
        agent.stop()  # restart while E1's id is still held in memory
        wait_until_freed(XFS, self.first, self.first)
        agent = self.start()
        reused = agent("launch", framework="F1", executor="E4", container="C1", disk_mb=1)
        self.assertEqual(project_of(reused["sandbox"]), self.first, "E1's id, freed because its sandbox is gone")
        fresh = agent("launch", framework="F1", executor="E5", container="C1", disk_mb=1)
        self.assertEqual(project_of(fresh["sandbox"]), self.first + 3, "E2 and E3 still hold theirs")
        self.assertIn("recovered 2 sandboxes", agent.stop())

    def test_strict_mode_fails_a_docker_launch_the_default_only_logs(self) -> None:
        lenient = self.start()
        result = lenient("launch", framework="F1", executor="E1", container="C1", containerizer="docker",
                         labels={"xfs_quota.limit": "lots"})
        self.assertTrue(result["launched"], result)
        self.assertIn("label xfs_quota.limit: cannot read 'lots'", lenient.stop())
        strict = self.start(strict="true")
        result = strict("launch", framework="F1", executor="E2", container="C1", containerizer="docker",
                        labels={"xfs_quota.limit": "lots"})
        self.assertFalse(result["launched"], result)
        self.assertIn("label xfs_quota.limit: cannot read 'lots'", result["error"])

    def test_label_capped_by_max_limit(self) -> None:
        agent = self.start(max_limit="5m")
        result = agent("launch", framework="F1", executor="E1", container="C1", containerizer="docker",
                       labels={"xfs_quota.limit": "1g"}, disk_mb=100)
        self.assertTrue(result["ok"], result)
        self.assertEqual(hard_limit(XFS, self.first), 5 * MIB)

    def test_label_of_zero_does_not_lift_the_quota(self) -> None:
        agent = self.start()
        for n, (containerizer, label) in enumerate((("docker", "0"), ("mesos", "0"), ("docker", "0.1"))):
            result = agent("launch", framework="F1", executor=f"E{n}", container="C1", containerizer=containerizer,
                           labels={"xfs_quota.limit": label}, disk_mb=3)
            self.assertTrue(result["launched"], result)
            self.assertEqual(hard_limit(XFS, project_of(result["sandbox"])), 3 * MIB, (containerizer, label))
            written, err = fill(os.path.join(result["sandbox"], "big"), 6)
            self.assertEqual(err, errno.ENOSPC, (containerizer, label))
        log = agent.stop()
        self.assertIn("label xfs_quota.limit: 0 would mean no limit; label ignored", log)

    def test_a_work_dir_the_agent_creates_after_loading_hooks(self) -> None:
        # src/slave/main.cpp initialises hooks before Slave::initialize creates --work_dir
        shutil.rmtree(self.work_dir)
        agent = self.start()
        launched = agent("launch", framework="F1", executor="E1", container="C1", disk_mb=2)
        self.assertTrue(launched["ok"], launched)
        self.assertEqual(hard_limit(XFS, project_of(launched["sandbox"])), 2 * MIB)
        self.assertIn("does not exist yet", agent.stop())

    def test_big_fetched_sandbox_is_labelled_off_the_launch_path(self) -> None:
        agent = self.start(inline_tree_entries="10")
        fetch = [{"path": f"dist/{n // 50}/f{n}", "size_kib": 1} for n in range(300)]
        launched = agent("launch", framework="F1", executor="E1", container="C1", disk_mb=2, fetch=fetch)
        self.assertTrue(launched["ok"], launched)
        self.assertEqual(hard_limit(XFS, self.first), 2 * MIB, "the limit is there when the hook returns")
        done = f"sandbox {launched['sandbox']}: project {self.first}: labelled in the background"
        for _attempt in range(200):
            with open(agent.log.name, encoding="utf-8") as log:
                if done in log.read():
                    break
            time.sleep(0.05)
        else:
            self.fail(f"no '{done}' in the log")
        for item in fetch:
            self.assertEqual(project_of(os.path.join(launched["sandbox"], item["path"])), self.first, item)
        self.assertIn("the rest in the background", agent.stop())

    def test_bad_parameters_stop_the_agent_with_the_parameter_named(self) -> None:
        self.assertIn("default_limit: cannot read '10x'", self.refused(default_limit="10x"))
        self.assertIn("project_ids: '9-3' must go from", self.refused(project_ids="9-3"))
        self.assertIn("unknown parameter 'defualt_limit'", self.refused(defualt_limit="1g"))
        self.assertIn("work_dir: cannot open", self.refused(work_dir="/etc/hostname"))
        self.assertIn("not on XFS", self.refused(work_dir="/var/tmp"))
        self.assertIn("Failed to instantiate hook module 'mesos_xfs_quota_hook'", self.refused(strict="maybe"))

    def test_module_checks_as_the_agent_makes_them(self) -> None:
        # src/module/manager.cpp verifyModule's texts (every rule: tests/vectors/module_compat.json)
        err = self.refused("--double_mesos_version=1.10.0")
        self.assertIn("Mesos has version 1.10.0, but module is compiled with version 1.11.0", err)
        err = self.refused("--double_mesos_version=1.12.0")
        self.assertIn("Minimum supported mesos version for 'Hook' is 1.12.0, but module is compiled with version 1.11.0", err)
        lib = ctypes.CDLL(LIBRARY)
        base = ctypes.cast(ctypes.addressof(ctypes.c_char_p.in_dll(lib, MODULE)), ctypes.POINTER(ctypes.c_char_p * 6))
        api, version, kind = (field.decode() for field in base.contents[:3])
        self.assertEqual((api, version, kind), ("2", "1.11.0", "Hook"))


if __name__ == "__main__":
    unittest.main()
