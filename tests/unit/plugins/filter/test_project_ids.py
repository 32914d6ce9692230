from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.xfs_quota.plugins.filter.project_ids import project_id_conflicts
from ansible_collections.mesos.xfs_quota.plugins.module_utils._project_ids import (
    PROJECT_ID_MAX, ProjectIdError, check_project_id, parse_id_range)
from ansible_collections.mesos.xfs_quota.tests.unit.plugins import shared_vectors


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


VECTORS = shared_vectors.load("project_ids.json")


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: repr(v["text"]))
def test_id_ranges_follow_the_shared_vectors(vector):
    """tests/vectors/project_ids.json is the rule (the hook's tests read it too); kinds must match."""
    shared_vectors.check(vector, VECTORS, lambda text: parse_id_range(text, "hook"), ProjectIdError,
                         lambda v: (v["first"], v["last"]), "hook")


def test_the_id_maximum_is_the_vectors_and_single_ids_follow_it():
    assert PROJECT_ID_MAX == VECTORS["id_max"]
    assert check_project_id(PROJECT_ID_MAX) == PROJECT_ID_MAX and check_project_id("7001") == 7001  # -a 'id=7001'
    for bad, kind in ((0, "out_of_range"), (PROJECT_ID_MAX + 1, "out_of_range"), ("4294967295", "out_of_range"),
                      (True, "syntax"), (1.0, "syntax"), (float("inf"), "syntax"), ("7.0", "syntax"), (" 7", "syntax"),
                      ("\u0667", "syntax"), (None, "syntax")):
        with pytest.raises(ProjectIdError) as caught:
            check_project_id(bad, "ids")
        assert caught.value.kind == kind and str(caught.value).startswith("ids: ")
