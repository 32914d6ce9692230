"""agent_flags_style=flag_files on a real kernel: the agent (TEST DOUBLE of mesos-agent, started by
a TEST DOUBLE of mesos-init-wrapper) gets --modules and --hooks from /etc/mesos-slave files on its
command line, not from the environment, and the hook's quota stops a task at its disk."""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "doubles", "agent"))
from double_api import (  # noqa: E402  pylint: disable=wrong-import-position
    agent, assert_root_owned_not_group_or_world_writable, assert_write_stops_at, launch, modules_shown, project_of)


@pytest.mark.parametrize("flag, value", [
    ("modules", "file:///etc/mesos-agent/modules.json"),
    ("hooks", "mesos_xfs_quota_hook"),
])
def test_flag_file_holds_the_value(host, flag, value):
    assert host.file(f"/etc/mesos-slave/{flag}").content_string == value + "\n"
    assert_root_owned_not_group_or_world_writable(host, f"/etc/mesos-slave/{flag}")


def test_no_systemd_drop_in_is_written(host):
    assert not host.file("/etc/systemd/system/mesos-agent-double.service.d/50-mesos-xfs-quota.conf").exists


def test_the_flags_reach_the_agent_on_its_command_line(host):
    pid = host.run_expect([0], "systemctl show -p MainPID --value mesos-agent-double").stdout.strip()
    argv = host.file(f"/proc/{pid}/cmdline").content.split(b"\0")
    assert b"--hooks=mesos_xfs_quota_hook" in argv
    assert b"--modules=file:///etc/mesos-agent/modules.json" in argv
    assert b"MESOS_HOOKS=" not in host.file(f"/proc/{pid}/environ").content
    flags = agent(host, "GET", "/flags")["flags"]
    assert flags["hooks"] == "mesos_xfs_quota_hook"
    assert modules_shown(flags) == json.loads(host.file("/etc/mesos-agent/modules.json").content_string)


def test_a_task_cannot_write_past_its_disk(host):
    sandbox = launch(host, "writer", disk_mb=8)
    assert 20000 <= project_of(host, sandbox) <= 29999
    assert_write_stops_at(host, sandbox, 8)
