"""The rollout on a real kernel: the agent (TEST DOUBLE of mesos-agent) runs the hook, and the
hook's quota stops a task's sandbox at its disk resource."""

import json
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "doubles", "agent"))
from double_api import (  # noqa: E402  pylint: disable=wrong-import-position
    WORK_DIR, agent, assert_root_owned_not_group_or_world_writable, assert_write_stops_at, launch, modules_shown,
    project_of, wait_until_serving)


def test_work_dir_is_xfs_with_project_quota_live_and_in_fstab(host):
    mount = host.mount_point(WORK_DIR)
    assert mount.filesystem == "xfs"
    assert "prjquota" in mount.options
    assert any(line.split()[1:4] == [WORK_DIR, "xfs", line.split()[3]] and "prjquota" in line
               for line in host.file("/etc/fstab").content_string.splitlines() if len(line.split()) > 3)


@pytest.mark.parametrize("pattern", [
    "/usr/lib/mesos/modules/libmesos_xfs_quota_hook-mesos1.11.0-*.so",
    "/etc/mesos-agent/modules.json",
    "/etc/systemd/system/mesos-agent-double.service.d/50-mesos-xfs-quota.conf",
])
def test_installed_files_are_root_owned_and_not_group_or_world_writable(host, pattern):
    assert_root_owned_not_group_or_world_writable(host, pattern)


def test_agent_runs_with_the_hook(host):
    assert host.service("mesos-agent-double").is_running
    flags = agent(host, "GET", "/flags")["flags"]
    assert flags["hooks"] == "mesos_xfs_quota_hook"
    modules = json.loads(host.file("/etc/mesos-agent/modules.json").content_string)
    # Mesos shows --modules as the Modules message's text, not the file:// it was given
    assert flags["modules"].startswith("libraries {\n  file: ")
    assert modules_shown(flags) == modules
    assert flags["work_dir"] == WORK_DIR
    ours = modules["libraries"][-1]
    assert ours["modules"][0]["name"] == "mesos_xfs_quota_hook"
    assert {"key": "project_ids", "value": "20000-29999"} in ours["modules"][0]["parameters"]


def test_a_task_cannot_write_past_its_disk(host):
    sandbox = launch(host, "writer", disk_mb=10)
    assert 20000 <= project_of(host, sandbox) <= 29999
    assert_write_stops_at(host, sandbox, 10)


def test_restart_recovers_and_never_reuses_a_live_sandbox_id(host):
    before = launch(host, "before-restart")
    host.run_expect([0], "systemctl restart mesos-agent-double")
    wait_until_serving(host)
    after = launch(host, "after-restart")
    assert project_of(host, after) != project_of(host, before)
    log = host.run("journalctl -u mesos-agent-double -n 50 --no-pager").stdout
    assert "recovered" in log and "sandboxes with project ids in 20000-29999" in log


def hard_limit(host, project):
    out = host.run_expect([0], f"xfs_quota -x -c 'quota -v -p -N -n -b {project}' {WORK_DIR}").stdout.split()
    return int(out[3]) if out else 0


def test_removed_and_collected_sandbox_frees_its_id_and_limit(host):
    sandbox = launch(host, "short-lived", disk_mb=5)
    project = project_of(host, sandbox)
    assert hard_limit(host, project) == 5 * 1024
    agent(host, "POST", "/double/remove_executor", {"framework": "molecule", "executor": "short-lived"})
    agent(host, "POST", "/double/gc", {"framework": "molecule", "executor": "short-lived"})
    # the hook's reclaim timer (reclaim_interval_secs=2 in converge) clears the limit
    for _attempt in range(30):
        if hard_limit(host, project) == 0:
            break
        time.sleep(0.5)
    assert hard_limit(host, project) == 0, "the collected sandbox's limit was not cleared"
    reused = launch(host, "next", disk_mb=5)
    assert project_of(host, reused) == project, "the lowest free id, released after garbage collection"
