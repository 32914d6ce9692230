from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.xfs_quota.plugins.filter.sandbox_report import sandbox_report


def sandbox(executor, used, bhard, bsoft=0, framework="marathon-0001"):
    return {"path": f"/var/lib/mesos/slaves/S0/frameworks/{framework}/executors/{executor}/runs/R-{executor}",
            "agent": "S0", "framework": framework, "executor": executor, "container": f"R-{executor}",
            "project_id": 20000, "used_bytes": used, "limits": {"bhard": bhard, "bsoft": bsoft}}


def test_fullest_first_across_hosts_with_every_column_aligned():
    lines = sandbox_report(
        [{"sandboxes": [sandbox("web.1", 5 * 2**20, 10 * 2**20), sandbox("no-limit", 9 * 2**30, 0)]},
         {"sandboxes": [sandbox("a-very-long-executor-name", 9 * 2**30, 10 * 2**30),
                        sandbox("soft-only", 3 * 2**20, 0, 4 * 2**20, framework="f2")]},
         {"quota_state": {}}],  # a host without sandboxes adds nothing
        ["agent1.example.com", "agent2", "agent3"])
    header, *rows = lines
    assert header.split() == ["host", "framework", "executor", "container", "used", "limit", "used", "%"]
    assert [row.split()[2] for row in rows] == ["a-very-long-executor-name", "soft-only", "web.1"]
    assert rows[0].split()[0] == "agent2" and rows[0].endswith("90.0") and "9 GiB" in rows[0] and "10 GiB" in rows[0]
    assert rows[1].split()[1] == "f2" and rows[1].endswith("75.0")
    assert rows[2].split()[0] == "agent1.example.com" and rows[2].endswith("50.0")
    assert len({len(line) for line in lines}) == 1  # columns as wide as their widest value


def test_top_limits_the_rows_and_none_is_said():
    lines = sandbox_report([{"sandboxes": [sandbox(f"e{i}", i, 100) for i in range(1, 30)]}], ["h"], top=3)
    assert [line.split()[2] for line in lines[1:]] == ["e29", "e28", "e27"]
    assert sandbox_report([{"sandboxes": [sandbox("x", 1, 0)]}], ["h"]) == ["no sandbox has a block limit"]


@pytest.mark.parametrize("top", [0, -1, True, "3"])
def test_top_must_be_a_positive_whole_number(top):
    with pytest.raises(AnsibleFilterError, match="top must be"):
        sandbox_report([], [], top=top)
