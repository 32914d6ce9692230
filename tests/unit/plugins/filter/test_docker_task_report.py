from __future__ import annotations

from ansible_collections.mesos.xfs_quota.plugins.filter.docker_task_report import docker_task_report

MIB = 2**20


def directory(project_id, used, limit, percent):
    return {"path": "/x", "project_id": project_id, "used_bytes": used, "limit_bytes": limit, "percent_bytes": percent}


def test_each_task_by_container_name_with_sandbox_and_container_root_fullest_first():
    lines = docker_task_report([
        {"docker_tasks": [
            {"container": "mesos-C1", "container_id": "1", "sandbox": directory(20001, MIB, 10 * MIB, 10.0),
             "writable_layer": directory(1000002, 4096, 20 * MIB, 0.02)},
            {"container": "mesos-C2", "container_id": "2", "sandbox": directory(20002, 9 * MIB, 10 * MIB, 90.0),
             "writable_layer": directory(0, None, 0, None)}]},
        {"docker_tasks": [{"container": "mesos-C3", "container_id": "3", "sandbox": {"path": "/y", "error": "gone"},
                           "writable_layer": None}]},
    ], ["agent1", "agent2"])
    assert lines[0].split()[:2] == ["host", "container"]
    assert lines[1].split()[:2] == ["agent1", "mesos-C2"] and "9 MiB / 10 MiB" in lines[1] and "no project, no limit" in lines[1]
    assert lines[2].split()[:2] == ["agent1", "mesos-C1"] and "1 MiB / 10 MiB" in lines[2] and "4 KiB / 20 MiB" in lines[2]
    assert lines[3].split()[:2] == ["agent2", "mesos-C3"] and "gone" in lines[3]
    assert len({line.index("sandbox") for line in lines[:1]}) == 1 and len(lines) == 4
    assert lines[2].index("1 MiB") == lines[1].index("9 MiB")  # aligned columns


def test_no_docker_task_is_said():
    assert docker_task_report([{"projects": []}, None], ["a", "b"]) == [
        "no Mesos Docker task (container mesos-<containerId>) on these hosts"]
