from __future__ import annotations

from ansible_collections.mesos.xfs_quota.plugins.filter.quota_report import quota_report


def usage(projects, accounting=True, enforcement=True):
    return {"mountpoint": "/var/lib/mesos", "projects": projects,
            "quota_state": {"project_accounting": accounting, "project_enforcement": enforcement}}


def project(pid, name, used, bhard, percent):
    return {"id": pid, "name": name, "used_bytes": used, "limits": {"bhard": bhard, "bsoft": 0}, "percent_bytes": percent}


def test_quota_off_is_said_and_the_table_is_aligned_without_wrapping():
    """Also (issue 10): report.yml said nothing when quota was off, and its lines wrapped mid-value."""
    lines = quota_report(
        [usage([], accounting=False),
         usage([project(20001, None, 5 * 2**20, 10 * 2**20, 50.0),
                project(20002, "a-very-long-framework-task-name", 9 * 2**30, 10 * 2**30, 90.0),
                project(20003, "unlimited", 1, 0, None)])],
        ["agent1.example.com", "agent2"], top=20)
    assert lines[0].startswith("agent1.example.com: project quota is OFF on /var/lib/mesos")
    table = lines[1:]
    assert len(table) == 3 and table[0].split() == ["host", "project", "name", "used", "limit", "used", "%"]
    assert "a-very-long-framework-task-name" in table[1] and "9 GiB" in table[1] and table[1].endswith("90.0")
    assert table[2].endswith("50.0") and " - " in table[2]
    assert len(table[1]) == len(table[2]) == len(table[0])  # columns as wide as their widest value


def test_top_limits_the_rows():
    lines = quota_report([usage([project(i, None, i, 100, float(i)) for i in range(1, 30)])], ["h"], top=3)
    assert [line.split()[1] for line in lines[1:]] == ["29", "28", "27"]
