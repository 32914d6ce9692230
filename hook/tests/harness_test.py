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


def sandbox_bytes(path: str) -> int:
    """Bytes of every inode below `path` (st_blocks, nothing followed), each inode once (a hard link
    is not a second copy): what the sandbox takes on disk, whatever project its files are in."""
    counted: set[tuple[int, int]] = set()
    total = 0
    names = [path]
    for root, dirs, files in os.walk(path):
        names.extend(os.path.join(root, name) for name in dirs + files)
    for name in names:
        try:
            st = os.lstat(name)
        except FileNotFoundError:
            continue
        if (st.st_dev, st.st_ino) not in counted:
            counted.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
    return total


def write_as_fast_as_possible(paths: list[str], stop_after: int) -> int:
    """A task's writer: 1 MiB appended to each of `paths` in turn, from the moment it is called,
    until each refuses (ENOSPC) or `stop_after` bytes are written; the bytes written."""
    chunk = b"w" * MIB
    fds = [os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) for path in paths]
    written = 0
    try:
        while fds and written < stop_after:
            for fd in list(fds):
                try:
                    written += os.write(fd, chunk)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    fds.remove(fd)
                    os.close(fd)
                if written >= stop_after:
                    break
    finally:
        for fd in fds:
            os.fsync(fd)
            os.close(fd)
    return written


def make_files(directory: str, count: int) -> None:
    """`count` empty files f0..f{count-1} in `directory` (empty: no block, one inode each)."""
    os.makedirs(directory, exist_ok=True)
    for n in range(count):
        os.close(os.open(os.path.join(directory, f"f{n}"), os.O_WRONLY | os.O_CREAT, 0o644))


def wait_for_line(agent: "Agent", text: str, seconds: float) -> bool:
    """Until the agent's log has `text` (the hook's worker reports a finished walk there)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with open(agent.log.name, encoding="utf-8", errors="replace") as log:
            if text in log.read():
                return True
        time.sleep(0.1)
    return False


def check_parameters(parameters: dict[str, str], size: int = 4096) -> tuple[int, str]:
    """mesos_xfs_quota_hook_check_parameters from the built library, loaded as a role's child
    process loads it (dlopen); (status, message)."""
    check = ctypes.CDLL(LIBRARY).mesos_xfs_quota_hook_check_parameters
    check.restype = ctypes.c_int
    check.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t,
                      ctypes.c_char_p, ctypes.c_size_t]
    keys = (ctypes.c_char_p * len(parameters))(*(k.encode() for k in parameters))
    values = (ctypes.c_char_p * len(parameters))(*(v.encode() for v in parameters.values()))
    message = ctypes.create_string_buffer(size)
    status = check(keys, values, len(parameters), message, size)
    return status, message.value.decode()


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

    def kill(self) -> str:
        """SIGKILL: an agent that stops with nothing run after it (OOM killer, power loss)."""
        self.proc.kill()
        return self.stop()


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

    # --- no task escapes its quota. Each writer starts the instant the task would, and
    # writes as fast as it can; what the sandbox takes on disk must stay within its limit (no byte
    # past it: XFS reserves every block against the project's hard limit before it is written).

    def assert_within(self, sandbox: str, limit: int, written: int) -> None:
        past = sandbox_bytes(sandbox) - limit
        self.assertLessEqual(past, 0, f"{past} bytes past the limit of {limit} ({written} written by the task)")

    def pre_hook_sandbox(self, executor: str = "E1") -> str:
        """A run directory with content in it before the hook sees it (Mesos makes it empty: this
        is what a walk is for)."""
        run = os.path.join(self.work_dir, "slaves/S0/frameworks/F1/executors", executor, "runs/C1")
        os.makedirs(run)
        return run

    def test_fetched_files_are_born_in_the_project(self) -> None:
        # 8,000 fetched files in 80 directories; the task writes into all of them at once
        agent = self.start()
        fetch = [{"path": f"dist/{n // 100}/f{n}", "size_kib": 0} for n in range(8000)]
        launched = agent("launch", framework="F1", executor="E1", container="C1", containerizer="mesos",
                         disk_mb=40, fetch=fetch)
        sandbox = launched["sandbox"]
        written = write_as_fast_as_possible([os.path.join(sandbox, f"dist/{d}/w") for d in range(80)], 80 * MIB)
        self.assertTrue(launched["ok"], launched)
        self.assert_within(sandbox, 40 * MIB, written)
        self.assertEqual(project_of(os.path.join(sandbox, "dist/79/f7999")), self.first)
        self.assertIn(f"sandbox {sandbox}: project {self.first}, hard limit {40 * MIB} bytes, soft 0, "
                      f"inodes {40 * MIB // 4096}, assigned before anything was in it", agent.stop())

    def test_a_walk_cut_short_by_an_agent_kill_goes_on_at_the_next_start(self) -> None:
        # what predates the hook is walked; SIGKILL mid-walk, then the agent starts again
        run = self.pre_hook_sandbox()
        for d in range(20):
            make_files(os.path.join(run, f"d{d}"), 1000)
        agent = self.start(inline_tree_entries="0")
        launched = agent("launch", framework="F1", executor="E1", container="C1", disk_mb=8)
        self.assertTrue(launched["ok"], launched)
        agent.kill()
        agent = self.start()
        walked = wait_for_line(agent, f"sandbox {run}: project {self.first}: the files already there are assigned", 60)
        written = write_as_fast_as_possible([os.path.join(run, f"d{d}/f999") for d in range(20)], 16 * MIB)
        self.assertTrue(walked, "the walk did not go on after the restart")
        self.assert_within(run, 8 * MIB, written)

    def test_a_tree_deeper_than_256_directories_is_counted_to_the_bottom(self) -> None:
        run = self.pre_hook_sandbox()
        bottom = os.path.join(run, *["d"] * 300)
        os.makedirs(bottom)
        agent = self.start()
        self.assertTrue(agent("launch", framework="F1", executor="E1", container="C1", disk_mb=4)["ok"])
        walked = wait_for_line(agent, f"sandbox {run}: project {self.first}: the files already there are assigned", 60)
        written = write_as_fast_as_possible([os.path.join(bottom, "deep")], 8 * MIB)
        self.assertTrue(walked, "the walk did not finish")
        self.assert_within(run, 4 * MIB, written)
        self.assertEqual(project_of(os.path.join(bottom, "deep")), self.first)

    def test_a_sandbox_of_more_than_100000_entries_is_counted_whole(self) -> None:
        # 'a' (100,000 files) is walked before 'z' (the task's file)
        run = self.pre_hook_sandbox()
        make_files(os.path.join(run, "a"), 100000)
        make_files(os.path.join(run, "z"), 1)
        agent = self.start()
        self.assertTrue(agent("launch", framework="F1", executor="E1", container="C1", disk_mb=4)["ok"])
        walked = wait_for_line(agent, f"sandbox {run}: project {self.first}: the files already there are assigned", 180)
        written = write_as_fast_as_possible([os.path.join(run, "z/f0")], 8 * MIB)
        self.assertTrue(walked, "the walk did not finish")
        self.assert_within(run, 4 * MIB, written)

    def hard_link_pairs(self) -> tuple[str, str]:
        """A run directory with a pair of names for one file inside it (a fetched archive's pair)
        and a name for a file outside it; (run directory, the outside file)."""
        run = self.pre_hook_sandbox()
        os.makedirs(os.path.join(run, "lib"))
        make_files(run, 1)
        os.link(os.path.join(run, "f0"), os.path.join(run, "lib/f0-again"))
        outside = os.path.join(self.root, "not-the-tasks")
        make_files(outside, 1)
        os.link(os.path.join(outside, "f0"), os.path.join(run, "linked-in"))
        return run, os.path.join(outside, "f0")

    def assert_hard_links_counted(self, run: str, outside: str, written: int) -> None:
        self.assertEqual(project_of(os.path.join(run, "f0")), self.first, "the pair inside is the task's")
        self.assertEqual(project_of(outside), 0, "someone else's file keeps its project")
        os.unlink(os.path.join(run, "linked-in"))  # not the task's: not counted below
        self.assert_within(run, 4 * MIB, written)

    def test_a_hard_link_pair_inside_the_sandbox_is_counted_by_the_walk(self) -> None:
        # on the worker (inline_tree_entries=0): its log line says what it did with each link
        run, outside = self.hard_link_pairs()
        agent = self.start(inline_tree_entries="0")
        self.assertTrue(agent("launch", framework="F1", executor="E1", container="C1", disk_mb=4)["ok"])
        walked = wait_for_line(agent, f"sandbox {run}: project {self.first}: the files already there are assigned", 60)
        written = write_as_fast_as_possible([os.path.join(run, "lib/f0-again")], 8 * MIB)
        self.assertTrue(walked, "the walk did not finish")
        self.assert_hard_links_counted(run, outside, written)
        log = agent.stop()
        self.assertIn("1 files with several names, all in the sandbox, assigned, "
                      "1 files with a name outside the sandbox left in their project", log)

    def test_a_hard_link_pair_inside_the_sandbox_is_counted_on_the_launch_path(self) -> None:
        # a tree this small (default inline_tree_entries=16) is assigned before the launch
        # returns: no background walk, and the launch's own line says what it did
        run, outside = self.hard_link_pairs()
        agent = self.start()
        self.assertTrue(agent("launch", framework="F1", executor="E1", container="C1", disk_mb=4)["ok"])
        written = write_as_fast_as_possible([os.path.join(run, "lib/f0-again")], 8 * MIB)
        self.assert_hard_links_counted(run, outside, written)
        log = agent.stop()
        self.assertIn(f"sandbox {run}: project {self.first}, hard limit {4 * MIB} bytes", log)
        self.assertIn("1 files with several names, all in the sandbox, assigned, "
                      "1 files with a name outside the sandbox left in their project", log)
        self.assertNotIn("a tree walk in the background", log)

    def test_an_id_still_charged_is_quarantined_not_handed_to_the_next_task(self) -> None:
        # a file moved out of the sandbox (same file system) keeps its project and its charge
        agent = self.start(project_ids=f"{self.first}-{self.first + 1}", reclaim_per_launch="1")
        first = agent("launch", framework="F1", executor="E1", container="C1", disk_mb=4)
        self.assertEqual(fill(os.path.join(first["sandbox"], "kept"), 1), (MIB, 0))
        os.rename(os.path.join(first["sandbox"], "kept"), os.path.join(self.root, "escaped"))
        agent("remove_executor", framework="F1", executor="E1")
        agent("gc", framework="F1", executor="E1")
        wait_until_freed(XFS, self.first + 5, self.first + 5)  # (any id: lets XFS settle)
        second = agent("launch", framework="F1", executor="E2", container="C1", disk_mb=4)
        written, err = fill(os.path.join(second["sandbox"], "big"), 8)
        self.assertEqual(err, errno.ENOSPC)
        self.assertNotEqual(project_of(second["sandbox"]), self.first, "the charged id was handed out again")
        self.assertGreaterEqual(written, 4 * MIB - 64 * 1024, "the second task lost part of its quota")
        self.assertIn(f"project {self.first} of sandbox {first['sandbox']} (garbage-collected) is quarantined: "
                      f"{MIB} bytes and 1 inodes are still charged", agent.stop())

    def test_inodes_are_limited(self) -> None:
        # directories and empty files cost no blocks
        agent = self.start()
        sandbox = agent("launch", framework="F1", executor="E1", container="C1", disk_mb=1)["sandbox"]
        made = 0
        with self.assertRaises(OSError) as refused:
            for made in range(5000):
                os.mkdir(os.path.join(sandbox, f"d{made}"))
        self.assertEqual(refused.exception.errno, errno.ENOSPC)
        self.assertEqual(made, 255, "one inode per 4 KiB of the 1 MiB limit, the sandbox one of them")

    def test_a_label_cannot_lift_the_limit_past_the_file_system(self) -> None:
        agent = self.start()
        launched = agent("launch", framework="F1", executor="E1", container="C1", containerizer="docker",
                         labels={"xfs_quota.limit": "8191p"})
        self.assertTrue(launched["ok"], launched)
        size = os.statvfs(XFS).f_blocks * os.statvfs(XFS).f_frsize
        self.assertEqual(hard_limit(XFS, self.first), size)
        self.assertIn(f"capped at the file system's size {size} bytes", agent.stop())

    def test_a_label_cannot_forge_an_agent_log_line(self) -> None:
        agent = self.start()
        forged = "E1207 00:00:00.000000 1 slave.cpp:1] forged"
        launched = agent("launch", framework="F1", executor="E1", container="C1", containerizer="docker",
                         labels={"xfs_quota.limit": f"1g\n{forged}"})
        self.assertTrue(launched["launched"], launched)
        log = agent.stop()
        self.assertNotIn("\n" + forged, log)
        self.assertIn("cannot read '1g\\x0aE1207 00:00:00.000000 1 slave.cpp:1] forged' as a size", log)

    def test_a_docker_task_that_opts_out_of_seccomp_is_refused(self) -> None:
        # Docker: --privileged or another seccomp profile lets a task change its files' project
        agent = self.start()
        probe = agent("launch", framework="F1", executor="E0", container="C0", containerizer="docker", privileged=True)
        if "container" not in probe:
            self.skipTest("the agent double does not pass ContainerInfo yet (requested)")
        self.assertFalse(probe["launched"], probe)
        self.assertIn("the task asks Docker for --privileged", probe["error"])
        self.assertIn("refuse_seccomp_opt_outs=false", probe["error"])
        for n, parameter in enumerate(({"key": "security-opt", "value": "seccomp=unconfined"},
                                       {"key": "cap-add", "value": "SYS_ADMIN"})):
            refused = agent("launch", framework="F1", executor=f"E{n + 1}", container=f"C{n + 1}",
                            containerizer="docker", parameters=[parameter])
            self.assertFalse(refused["launched"], refused)
        allowed = self.start(refuse_seccomp_opt_outs="false")
        self.assertTrue(allowed("launch", framework="F1", executor="E9", container="C9", containerizer="docker",
                                privileged=True)["launched"])

    def test_an_unconfined_mesos_task_is_logged_as_an_error(self) -> None:
        # Mesos containerizer: the hook cannot refuse the launch; it says so loudly
        agent = self.start()
        launched = agent("launch", framework="F1", executor="E1", container="C1", containerizer="mesos",
                         seccomp_unconfined=True)
        if "container" not in launched:
            self.skipTest("the agent double does not pass ContainerInfo yet (requested)")
        self.assertIn(f"sandbox {launched['sandbox']}: a task of executor F1/executors/E1 asks to run without the "
                      "seccomp profile (LinuxInfo.seccomp.unconfined)", agent.stop())

    def test_a_fetched_hard_link_pair_is_counted(self) -> None:
        agent = self.start()
        launched = agent("launch", framework="F1", executor="E1", container="C1", containerizer="mesos", disk_mb=2,
                         fetch=[{"path": "a", "size_kib": 4}, {"path": "lib/b", "kind": "hardlink", "target": "a"}])
        b = os.path.join(launched["sandbox"], "lib/b")
        if not os.path.exists(b):
            self.skipTest("the agent double does not fetch hard links yet (requested)")
        written = write_as_fast_as_possible([b], 4 * MIB)
        self.assert_within(launched["sandbox"], 2 * MIB, written)

    # --- the parameter check roles run before a restart, through dlopen as they do

    def test_the_parameter_check_accepts_what_the_hook_starts_with_and_names_what_it_refuses(self) -> None:
        status, message = check_parameters(self.parameters)
        self.assertEqual((status, message), (0, ""))
        self.assertEqual(check_parameters({**self.parameters, "work_dir": "/var/tmp"})[0], 1)
        self.assertIn("not on XFS", check_parameters({**self.parameters, "work_dir": "/var/tmp"})[1])
        status, message = check_parameters({**self.parameters, "work_dir": os.path.join(self.root, "later")})
        self.assertEqual(status, 0)
        self.assertIn("does not exist yet", message)
        self.assertFalse(os.path.exists(os.path.join(self.work_dir, "slaves")), "the check changes nothing")


if __name__ == "__main__":
    unittest.main()
