"""xfs_quota_info through its main(), on the fake host."""
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.mesos.xfs_quota.plugins.module_utils import _xfs
from ansible_collections.mesos.xfs_quota.plugins.modules import xfs_quota_info
from ansible_collections.mesos.xfs_quota.tests.unit.plugins.modules.module_runner import FakeHost

MIB = 1 << 20


@pytest.fixture
def host(tmp_path):
    host = FakeHost(tmp_path)
    host.kernel.dquots[7] = [100, 0, 0, 0, 50, 3, 0, 0]
    return host


@pytest.mark.parametrize("ids", [[4294967296], [-1], [0], [True], list(range(1, 70)) + [2**32], [2**64 + 7]])
def test_ids_are_checked_before_any_quotactl(host, ids):
    """Ids past 32 bits or negative are refused naming ids (a C int would truncate 4294967296 to project 0)."""
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
    """Names that are not UTF-8 do not stop the read-only xfs_quota_info (no UnicodeDecodeError)."""
    host.projid.write_bytes(b"# \xe9\xe9\nweb:7\n")
    result = host.run(xfs_quota_info, {"mountpoint": str(host.mnt)})
    assert not result.get("failed") and result["projects"][0]["name"] == "web", result


def test_a_missing_mountpoint_is_named(host):
    result = host.run(xfs_quota_info, {"mountpoint": str(host.mnt / "nope")})
    assert result.get("failed") and result["msg"].startswith("mountpoint: "), result


def docker_container(root, name, sandbox=None, mount_id=None, driver="overlay2", config=None):
    """A container in Docker's state files under ``root``, as dockerd leaves them; its id."""
    container_id = f"{len(os.listdir(root / 'containers')) if (root / 'containers').exists() else 0:064x}"
    (root / "containers" / container_id).mkdir(parents=True)
    mounts = {"/mnt/mesos/sandbox": {"Source": str(sandbox), "Destination": "/mnt/mesos/sandbox"}} if sandbox else {}
    (root / "containers" / container_id / "config.v2.json").write_text(
        config if config is not None else json.dumps({"Name": f"/{name}", "Driver": driver, "MountPoints": mounts}))
    if mount_id:
        (root / "image" / driver / "layerdb" / "mounts" / container_id).mkdir(parents=True)
        (root / "image" / driver / "layerdb" / "mounts" / container_id / "mount-id").write_text(mount_id)
        (root / driver / mount_id / "diff").mkdir(parents=True)
    return container_id


def test_docker_tasks_show_sandbox_and_writable_layer_by_container_name(host):
    root = host.mnt / "docker"
    sandbox = host.mnt / "mesos/slaves/S0/frameworks/F/executors/E/runs/C1"
    sandbox.mkdir(parents=True)
    host.kernel.attrs[os.lstat(sandbox).st_ino] = (0x200, 20001)
    host.kernel.dquots[20001] = [20480, 0, 0, 0, 2048, 3, 0, 0]  # 10 MiB limit, 1 MiB used
    layer = "a" * 64
    task = docker_container(root, "mesos-C1", sandbox, layer)
    host.kernel.attrs[os.lstat(root / "overlay2" / layer).st_ino] = (0x200, 1000002)
    host.kernel.dquots[1000002] = [40960, 0, 0, 0, 8, 1, 0, 0]  # 20 MiB limit, 4 KiB used
    docker_container(root, "registry-cache", sandbox=None, mount_id="b" * 64)  # not a Mesos task
    links = host.mnt / "mesos/slaves/S0/docker/links"
    links.mkdir(parents=True)
    (links / "C2").symlink_to(sandbox)  # a sandbox path with ':' reaches Docker as this link
    unsized = docker_container(root, "mesos-C2", links / "C2", "c" * 64)  # no size: project 0
    result = host.run(xfs_quota_info, {"mountpoint": str(host.mnt), "docker_root": str(root)})
    assert not result.get("failed"), result
    assert result["docker_tasks"] == [
        {"container": "mesos-C1", "container_id": task,
         "sandbox": {"path": str(sandbox), "project_id": 20001, "used_bytes": MIB, "limit_bytes": 10 * MIB,
                     "percent_bytes": 10.0},
         "writable_layer": {"path": str(root / "overlay2" / layer), "project_id": 1000002, "used_bytes": 4096,
                            "limit_bytes": 20 * MIB, "percent_bytes": 0.02}},
        {"container": "mesos-C2", "container_id": unsized,
         "sandbox": {"path": str(sandbox), "project_id": 20001, "used_bytes": MIB, "limit_bytes": 10 * MIB,
                     "percent_bytes": 10.0},
         "writable_layer": {"path": str(root / "overlay2" / ("c" * 64)), "project_id": 0, "used_bytes": None,
                            "limit_bytes": 0, "percent_bytes": None}},
    ]


def test_without_docker_root_there_is_no_docker_tasks_key(host):
    assert "docker_tasks" not in host.run(xfs_quota_info, {"mountpoint": str(host.mnt)})


def test_a_task_whose_directories_are_gone_or_unsafe_gets_its_row_not_a_failure(host):
    root = host.mnt / "docker"
    docker_container(root, "mesos-gone", host.mnt / "removed-sandbox", "d" * 64)
    docker_container(root, "mesos-odd", host.mnt, mount_id="../../etc")  # not a layer id: never joined to a path
    (root / "overlay2" / ("d" * 64) / "diff").rmdir()
    (root / "overlay2" / ("d" * 64)).rmdir()
    result = host.run(xfs_quota_info, {"mountpoint": str(host.mnt), "docker_root": str(root)})
    gone, odd = result["docker_tasks"]
    assert gone["sandbox"]["error"].startswith(f"{host.mnt}/removed-sandbox does not exist"), gone
    assert "error" in gone["writable_layer"], gone
    assert odd["writable_layer"] is None, odd


@pytest.mark.parametrize("config, message", [("{", "is not a container's configuration"),
                                             ('{"Name": "/mesos-x"}', "is not a container's configuration")])
def test_a_broken_docker_state_fails_naming_the_file(host, config, message):
    root = host.mnt / "docker"
    docker_container(root, "mesos-x", config=config)
    result = host.run(xfs_quota_info, {"mountpoint": str(host.mnt), "docker_root": str(root)})
    assert result.get("failed") and result["msg"].startswith(f"docker_root: {root}/containers/") and message in result["msg"]


def test_a_docker_root_that_is_not_one_is_named(host):
    result = host.run(xfs_quota_info, {"mountpoint": str(host.mnt), "docker_root": str(host.mnt)})
    assert result.get("failed") and result["msg"].startswith(f"docker_root: {host.mnt}/containers is not a directory"), result


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


def test_a_foreign_name_that_is_not_utf8_does_not_fail_the_mount(host):
    """Ansible refuses a result that is not UTF-8: a foreign name is shown escaped, not a failure of the whole mount."""
    host.projid.write_bytes(b"caf\xe9:7\n")
    result = host.run(xfs_quota_info, {"mountpoint": str(host.mnt)})
    assert not result.get("failed") and result["projects"][0]["name"] == "caf\\xe9", result
    assert host.projid.read_bytes() == b"caf\xe9:7\n"


def quotactls(host, cmd):
    return [call for call in host.kernel.calls if call == f"quotactl:{cmd:#x}"]


def test_names_and_paths_select_their_projects_and_empty_ones_are_shown_when_asked_for(host):
    """ids, names and paths add up; a project asked for is shown even without usage or limits."""
    host.projid.write_text("web:7\nidle:8\nspare:9\n")
    (host.mnt / "d").mkdir()
    host.kernel.attrs[os.lstat(host.mnt / "d").st_ino] = (0x200, 9)
    result = host.run(xfs_quota_info, {"mountpoint": str(host.mnt), "ids": [3], "names": ["idle"],
                                       "paths": [str(host.mnt / "d")]})
    assert [(p["id"], p["name"], p["used_bytes"]) for p in result["projects"]] == [(3, None, 0), (8, "idle", 0),
                                                                                   (9, "spare", 0)], result
    assert len(quotactls(host, _xfs.Q_XGETQUOTA)) == 3 and not quotactls(host, _xfs.Q_XGETNEXTQUOTA)


def test_a_name_projid_does_not_know_is_named(host):
    host.projid.write_text("web:7\n")
    result = host.run(xfs_quota_info, {"mountpoint": str(host.mnt), "names": ["web", "nope"]})
    assert result.get("failed") and result["msg"] == f"names: project 'nope' is not in {host.projid}", result


@pytest.mark.parametrize("include_empty", [False, True])
def test_every_project_with_a_dquot_and_empty_ones_only_with_include_empty(host, include_empty):
    host.kernel.dquots[8] = [0, 0, 0, 0, 0, 0, 0, 0]  # a dquot without usage or limits
    host.kernel.dquots[9] = [0, 0, 10, 0, 0, 0, 0, 0]  # no usage, an inode limit
    result = host.run(xfs_quota_info, {"mountpoint": str(host.mnt), "include_empty": include_empty})
    shown = [p["id"] for p in result["projects"]]
    assert (8 in shown) == include_empty and {7, 9} <= set(shown), result
    assert quotactls(host, _xfs.Q_XGETNEXTQUOTA) and not quotactls(host, _xfs.Q_XGETQUOTA)


def test_without_project_accounting_there_are_no_projects_nor_sandboxes(host):
    host.kernel.qstat_flags = 0
    result = host.run(xfs_quota_info, {"mountpoint": str(host.mnt), "ids": [7], "sandboxes_below": str(host.mnt)})
    assert not result.get("failed") and result["projects"] == [] and result["sandboxes"] == [], result
    assert not result["quota_state"]["project_accounting"]
