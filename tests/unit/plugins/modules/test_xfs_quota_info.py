"""xfs_quota_info through its main(), on the fake host."""
from __future__ import annotations

import os

import pytest

from ansible_collections.mesos.xfs_quota.plugins.modules import xfs_quota_info
from ansible_collections.mesos.xfs_quota.tests.unit.plugins.modules.module_runner import FakeHost


@pytest.fixture
def host(tmp_path):
    host = FakeHost(tmp_path)
    host.kernel.dquots[7] = [100, 0, 0, 0, 50, 3, 0, 0]
    return host


@pytest.mark.parametrize("ids", [[4294967296], [-1], [0], [True], list(range(1, 70)) + [2**32], [2**64 + 7]])
def test_ids_are_checked_before_any_quotactl(host, ids):
    """Issue 10 item 11: ids=[4294967296] returned project 0 (a C int truncation); -1 did not name ids."""
    result = host.run(xfs_quota_info, {"mountpoint": str(host.mnt), "ids": ids})
    assert result.get("failed") and result["msg"].startswith("ids: "), result
    assert not [call for call in host.kernel.calls if call.startswith("quotactl")]


def test_more_than_63_ids_are_all_reported(host):
    result = host.run(xfs_quota_info, {"mountpoint": str(host.mnt), "ids": list(range(1, 80))})
    assert [p["id"] for p in result["projects"]] == list(range(1, 80))
    assert result["projects"][6]["used_bytes"] == 50 * 512


def test_a_fifo_in_paths_names_paths(host):
    os.mkfifo(host.mnt / "fifo")
    result = host.run(xfs_quota_info, {"mountpoint": str(host.mnt), "paths": [str(host.mnt / "fifo")]})
    assert result.get("failed") and result["msg"].startswith(f"paths: {host.mnt / 'fifo'} is a FIFO"), result


def test_a_non_utf8_projid_does_not_fail_a_read_only_module(host):
    """Issue 10 item 9: even the read-only xfs_quota_info failed with UnicodeDecodeError."""
    host.projid.write_bytes(b"# \xe9\xe9\nweb:7\n")
    result = host.run(xfs_quota_info, {"mountpoint": str(host.mnt)})
    assert not result.get("failed") and result["projects"][0]["name"] == "web", result


def test_a_missing_mountpoint_is_named(host):
    result = host.run(xfs_quota_info, {"mountpoint": str(host.mnt / "nope")})
    assert result.get("failed") and result["msg"].startswith("mountpoint: "), result


def test_sandboxes_below_a_work_dir_with_ids_in_the_range(host):
    run = host.mnt / "slaves/S0/frameworks/F1/executors/E1/runs/C1"
    other = host.mnt / "slaves/S0/frameworks/F1/executors/E2/runs/C2"
    for path, project_id in ((run, 20001), (other, 5000)):
        path.mkdir(parents=True)
        host.kernel.attrs[os.lstat(path).st_ino] = (0x200, project_id)
    host.kernel.dquots[20001] = [20480, 0, 0, 0, 10240, 4, 0, 0]
    result = host.run(xfs_quota_info, {"mountpoint": str(host.mnt), "sandboxes_below": str(host.mnt),
                                       "sandbox_ids": "[20000-29999]"})
    assert result["sandboxes"] == [{
        "path": str(run), "agent": "S0", "framework": "F1", "executor": "E1", "container": "C1", "project_id": 20001,
        "used_bytes": 10240 * 512, "used_inodes": 4, "percent_bytes": 50.0,
        "limits": {"bhard": 20480 * 512, "bsoft": 0, "ihard": 0, "isoft": 0, "rtbhard": 0, "rtbsoft": 0}}]
    everything = host.run(xfs_quota_info, {"mountpoint": str(host.mnt), "sandboxes_below": str(host.mnt)})
    assert [s["project_id"] for s in everything["sandboxes"]] == [20001, 5000]
    assert "sandboxes" not in host.run(xfs_quota_info, {"mountpoint": str(host.mnt)})


@pytest.mark.parametrize("args, message", [
    ({"sandbox_ids": "30000-20000", "sandboxes_below": "MNT"}, "sandbox_ids: "),
    ({"sandbox_ids": "20000-29999", "sandboxes_below": "/"}, "sandboxes_below: / is not a directory on "),
    ({"sandbox_ids": "20000-29999"}, "sandboxes_below"),
])
def test_bad_sandbox_arguments_are_named(host, args, message):
    args = {key: str(host.mnt) if value == "MNT" else value for key, value in args.items()}
    result = host.run(xfs_quota_info, {**args, "mountpoint": str(host.mnt)})
    assert result.get("failed") and message in result["msg"], result
