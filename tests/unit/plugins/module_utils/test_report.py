"""The cluster report (playbooks/report.yml): tables as text, CSV and JSON from one reading."""

from __future__ import annotations

import csv
import io
import json

import pytest

from ansible_collections.mesos.xfs_quota.plugins.module_utils._report import COLUMNS, ReportError, build, lines, render

MIB = 2**20


def usage(projects=(), sandboxes=(), docker_tasks=None, accounting=True, enforcement=True):
    result = {"changed": False, "mountpoint": "/var/lib/mesos", "projects": list(projects), "sandboxes": list(sandboxes),
              "quota_state": {"project_accounting": accounting, "project_enforcement": enforcement}}
    if docker_tasks is not None:
        result["docker_tasks"] = docker_tasks
    return result


def project(pid, name, used, bhard, bsoft=0):
    return {"id": pid, "name": name, "used_bytes": used, "limits": {"bhard": bhard, "bsoft": bsoft}}


def sandbox(executor, used, bhard, bsoft=0, framework="marathon-0001"):
    return {"path": f"/var/lib/mesos/slaves/S0/frameworks/{framework}/executors/{executor}/runs/R-{executor}",
            "agent": "S0", "framework": framework, "executor": executor, "container": f"R-{executor}",
            "project_id": 20000, "used_bytes": used, "limits": {"bhard": bhard, "bsoft": bsoft}}


def directory(project_id, used, limit, percent):
    return {"path": "/x", "project_id": project_id, "used_bytes": used, "limit_bytes": limit, "percent_bytes": percent}


def section(text, title):
    """The lines of one section: from its title to the next blank line."""
    start = text.index(title)
    return text[start + 1:text.index("", start) if "" in text[start:] else len(text)]


def test_hosts_not_read_come_first_with_their_reason():
    """Hosts that failed (unreachable, not XFS) are in the report, with why."""
    hosts = ["up", "down", "ext4", "never"]
    results = [usage([project(20001, None, MIB, 2 * MIB)]),
               {"unreachable": True, "msg": "Failed to connect to the host via ssh: Connection refused", "changed": False},
               {"failed": True, "msg": "/var/lib/mesos is on ext4, not XFS"},
               {}]
    text = lines(build(hosts, results))
    assert text[0] == "NOT READ: 3 host(s), not in the tables below"
    assert text[1].split() == ["host", "reason"]
    assert text[2].split(None, 1) == ["down", "unreachable: Failed to connect to the host via ssh: Connection refused"]
    assert text[3].split(None, 1) == ["ext4", "failed: /var/lib/mesos is on ext4, not XFS"]
    assert text[4].startswith("never") and "not read" in text[4]
    assert "FULLEST PROJECTS (top 20)" in text and any(line.startswith("up ") and line.endswith("50.0") for line in text)


def test_quota_off_is_said_and_the_tables_are_aligned():
    hosts = ["agent1.example.com", "agent2"]
    results = [usage(accounting=False),
               usage([project(20001, None, 5 * MIB, 10 * MIB),
                      project(20002, "a-very-long-framework-task-name", 9 * 2**30, 10 * 2**30),
                      project(20003, "unlimited", 1, 0)],
                     [sandbox("web.1", 5 * MIB, 10 * MIB), sandbox("no-limit", 9 * 2**30, 0),
                      sandbox("soft-only", 3 * MIB, 0, 4 * MIB, framework="f2")])]
    text = lines(build(hosts, results))
    assert text[0].startswith("agent1.example.com: /var/lib/mesos: project quota is OFF")
    projects = section(text, "FULLEST PROJECTS (top 20)")
    assert projects[0].split() == ["host", "project", "name", "used", "limit", "used", "%"]
    assert "a-very-long-framework-task-name" in projects[1] and "9 GiB" in projects[1] and projects[1].endswith("90.0")
    assert projects[2].endswith("50.0") and " - " in projects[2] and len(projects) == 3
    assert len({len(line) for line in projects}) == 1
    sandboxes = section(text, "FULLEST TASK SANDBOXES (top 20)")
    assert sandboxes[0].split() == ["host", "framework", "executor", "container", "used", "limit", "used", "%"]
    assert [row.split()[2] for row in sandboxes[1:]] == ["soft-only", "web.1"]
    assert sandboxes[1].endswith("75.0") and len({len(line) for line in sandboxes}) == 1


def test_top_limits_the_rows_and_none_is_said():
    report = build(["h"], [usage([project(i, None, i, 100) for i in range(1, 30)], [sandbox("x", 1, 0)])])
    projects = section(lines(report, top=3), "FULLEST PROJECTS (top 3)")
    assert [line.split()[1] for line in projects[1:]] == ["29", "28", "27"]
    assert section(lines(report), "FULLEST TASK SANDBOXES (top 20)") == ["no sandbox has a block limit"]


def test_docker_tasks_by_container_name_fullest_first():
    report = build(["agent1", "agent2"], [
        usage(docker_tasks=[
            {"container": "mesos-C1", "sandbox": directory(20001, MIB, 10 * MIB, 10.0),
             "writable_layer": directory(1000002, 4096, 20 * MIB, 0.02)},
            {"container": "mesos-C2", "sandbox": directory(20002, 9 * MIB, 10 * MIB, 90.0),
             "writable_layer": directory(0, None, 0, None)}]),
        usage(docker_tasks=[{"container": "mesos-C3", "sandbox": {"path": "/y", "error": "gone"}, "writable_layer": None}])])
    rows = section(lines(report, docker=True), "DOCKER TASKS (top 20): sandbox and container root")
    assert rows[1].split()[:2] == ["agent1", "mesos-C2"] and "9 MiB / 10 MiB" in rows[1] and "no project, no limit" in rows[1]
    assert rows[2].split()[:2] == ["agent1", "mesos-C1"] and "4 KiB / 20 MiB" in rows[2]
    assert rows[3].split()[:2] == ["agent2", "mesos-C3"] and "gone" in rows[3]
    assert "DOCKER TASKS (top 20): sandbox and container root" not in lines(report)


def test_csv_and_json_hold_the_same_rows_as_the_text():
    hosts = ["up", "down"]
    results = [usage([project(20001, 'a "quoted", name', MIB, 2 * MIB)], [sandbox("web.1", MIB, 4 * MIB)]),
               {"unreachable": True, "msg": "timed out"}]
    rendered = render(hosts, results)
    assert set(rendered["csv"]) == set(COLUMNS)
    projects = list(csv.DictReader(io.StringIO(rendered["csv"]["projects"])))
    assert projects == [{"host": "up", "mountpoint": "/var/lib/mesos", "project_id": "20001", "name": 'a "quoted", name',
                         "used_bytes": str(MIB), "limit_bytes": str(2 * MIB), "percent_used": "50.0"}]
    failed = list(csv.DictReader(io.StringIO(rendered["csv"]["failed_hosts"])))
    assert failed == [{"host": "down", "reason": "unreachable: timed out"}]
    assert rendered["csv"]["sandboxes"].splitlines()[0] == ",".join(COLUMNS["sandboxes"])
    data = json.loads(json.dumps(rendered["data"]))
    assert data["sandboxes"][0]["percent_used"] == 25.0 and data["failed_hosts"][0]["host"] == "down"


@pytest.mark.parametrize("top", [0, -1, True, "3"])
def test_top_must_be_a_positive_whole_number(top):
    with pytest.raises(ReportError, match="top must be"):
        lines(build([], []), top=top)


def test_hosts_and_results_must_pair_up():
    with pytest.raises(ReportError, match="as many"):
        build(["a", "b"], [usage()])


def test_a_host_that_counts_without_enforcing_is_noted_and_one_that_does_not_count_has_no_rows():
    counting = usage([project(1, "p", MIB, 2 * MIB)], [sandbox("web.1", MIB, 4 * MIB)], enforcement=False)
    del counting["mountpoint"]
    report = build(["counting", "off"], [counting, usage([project(2, "q", MIB, 2 * MIB)], [sandbox("x", 1, 2)],
                                                         accounting=False, enforcement=True)])
    assert report["quota_notes"] == [
        {"host": "counting", "mountpoint": "?", "note": "project quota counts usage but does not enforce limits"},
        {"host": "off", "mountpoint": "/var/lib/mesos", "note": "project quota is OFF: no limit is enforced and no usage "
                                                                "is counted there (mount it with prjquota: role mesos.xfs_quota.xfs)"}]
    assert report["projects"] == [{"host": "counting", "mountpoint": "?", "project_id": 1, "name": "p", "used_bytes": MIB,
                                   "limit_bytes": 2 * MIB, "percent_used": 50.0}]
    assert [list(row) for row in report["projects"]] == [list(COLUMNS["projects"])]
    assert [(row["host"], row["executor"], row["percent_used"]) for row in report["sandboxes"]] == [("counting", "web.1", 25.0)]
    assert [list(row) for row in report["sandboxes"]] == [list(COLUMNS["sandboxes"])]
