from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.xfs_quota.plugins.filter.project_ids import project_id_conflicts


def test_disjoint_ranges_and_free_ids_have_no_conflicts():
    assert project_id_conflicts({"hook": "20000-29999", "isolator": "[5000-10000]"}, {"web": 7}) == []


def test_overlaps_and_used_ids_are_named():
    conflicts = project_id_conflicts({"hook": "9000-20000", "isolator": "[5000-10000]"}, {"web": 9500})
    assert conflicts == [
        "isolator (5000-10000) overlaps hook (9000-20000)",
        "project web (9500) is inside isolator (5000-10000)",
        "project web (9500) is inside hook (9000-20000)",
    ]


@pytest.mark.parametrize("bad", ["20000", "b-c", "0-5", "9-3", "1-4294967295"])
def test_bad_ranges_name_their_owner(bad):
    with pytest.raises(AnsibleFilterError, match="^hook: "):
        project_id_conflicts({"hook": bad})
