"""The agent TEST DOUBLE (hook/test/agent_double, not Mesos) behaves as Mesos 1.11.0 does, on the
host: no XFS, no root, no hook needed. Each behaviour's Mesos source is in the double's README."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

DOUBLE = os.path.join(os.path.dirname(__file__), "../../../.build/hook/mesos-agent-double")


def drive(work_dir, requests, *flags):
    """Run the double with --drive: one JSON request per line in, one response per line out."""
    if not os.path.exists(DOUBLE):
        pytest.skip("make hook builds the double")
    run = subprocess.run([DOUBLE, f"--work_dir={work_dir}", "--drive", *flags], input="".join(
        json.dumps(r) + "\n" for r in requests), capture_output=True, text=True, timeout=60, check=False)
    return run, [json.loads(line) for line in run.stdout.splitlines()]


def test_docker_sandbox_with_a_colon_is_passed_as_its_docker_links_symlink(tmp_path):
    _run, [plain, colon] = drive(tmp_path, [
        {"op": "launch", "framework": "F1", "executor": "E1", "container": "C1", "containerizer": "docker"},
        {"op": "launch", "framework": "F1", "executor": "E:2", "container": "C2", "containerizer": "docker"},
    ])
    assert plain["container_work_directory"] == plain["sandbox"] == f"{tmp_path}/slaves/S0/frameworks/F1/executors/E1/runs/C1"
    link = f"{tmp_path}/slaves/S0/docker/links/C2"
    assert colon["container_work_directory"] == link
    assert os.readlink(link) == colon["sandbox"] == f"{tmp_path}/slaves/S0/frameworks/F1/executors/E:2/runs/C2"


def test_nested_container_sandbox_is_below_the_executors_run_directory(tmp_path):
    _run, [nested] = drive(tmp_path, [
        {"op": "launch_nested", "framework": "F1", "executor": "E1", "container": "C1", "nested": ["N1", "N2"],
         "fetch": [{"path": "app.tar", "size_kib": 1}]},
    ])
    assert nested["sandbox"] == f"{tmp_path}/slaves/S0/frameworks/F1/executors/E1/runs/C1/containers/N1/containers/N2"
    assert os.path.getsize(nested["sandbox"] + "/app.tar") == 1024
