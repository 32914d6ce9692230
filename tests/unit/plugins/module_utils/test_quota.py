from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.mesos.xfs_quota.plugins.module_utils._projects import ProjectFileError, ProjectFiles
from ansible_collections.mesos.xfs_quota.plugins.module_utils._quota import LIMIT_OPTIONS, parse_request
from ansible_collections.mesos.xfs_quota.plugins.module_utils._sizes import SizeError

SIZES = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**40),
    st.from_regex(r"\A-?[0-9]{0,4}(\.[0-9]{0,2})?\s?[kmgtpexyz]?(i?b)?\Z"),
    st.text(max_size=6),
)
ITEMS = st.fixed_dictionaries(
    {},
    optional={
        **{key: SIZES for key in LIMIT_OPTIONS},
        "name": st.sampled_from(["sandbox", "unknown", "x"]),
        "mountpoint": st.just("/mnt"),
        "path": st.just("/mnt/sb"),
    },
)
PARAMETERS = set(LIMIT_OPTIONS) | {"name", "mountpoint", "path", "name/id/path"}


@pytest.fixture(scope="module")
def names(tmp_path_factory):
    root = tmp_path_factory.mktemp("etc")
    (root / "projid").write_text("sandbox:7001\n")
    return ProjectFiles(str(root / "projid"), str(root / "projects"))


@settings(max_examples=400, deadline=None)
@given(item=ITEMS, index=st.integers(min_value=0, max_value=3))
def test_every_bad_item_is_refused_with_a_message_naming_its_parameter(names, item, index):
    where = f"projects[{index}]."
    try:
        request = parse_request(item, where, names)
    except (SizeError, ProjectFileError) as exc:
        message = str(exc)
        assert message.startswith(where), message
        assert message[len(where):].split(":", maxsplit=1)[0] in PARAMETERS, message
        return
    # accepted: every limit is a non-negative byte or inode count, soft never above hard
    assert all(value >= 0 for value in request.limits.values())
    for soft, hard in (("bsoft", "bhard"), ("isoft", "ihard"), ("rtbsoft", "rtbhard")):
        if request.limits.get(hard):
            assert request.limits.get(soft, 0) <= request.limits[hard]
    assert request.path is not None or request.mountpoint is not None


@pytest.mark.parametrize("item, check_mode, message", [
    ({"mountpoint": "/mnt"}, False, "projects[1].name/id/path: give exactly one of name, id or path (got none)"),
    ({"id": 5, "path": "/mnt/sb"}, False, "projects[1].name/id/path: give exactly one of name, id or path (got ['id', 'path'])"),
    ({"name": "other", "mountpoint": "/mnt"}, False, "projects[1].name: project 'other' is not in {projid}; "
                                                     "define it with mesos.xfs_quota.xfs_project or choose it by id"),
    ({"id": 5}, False, "projects[1].mountpoint: required when the project is chosen by name or id"),
    ({"name": "other"}, True, "projects[1].mountpoint: required when the project is chosen by name or id"),
    ({"id": 5, "mountpoint": "/mnt", "bsoft": "2m", "bhard": "1m"}, False, "projects[1].bsoft: '2m' is above bhard ('1m')"),
])
def test_an_item_is_refused_naming_its_place_and_parameter(names, item, check_mode, message):
    with pytest.raises(ProjectFileError) as error:
        parse_request(item, "projects[1].", names, check_mode)
    assert str(error.value).startswith(message.format(projid=names.projid_path))


def test_an_item_is_resolved_by_name_by_id_or_predicted_in_check_mode(names):
    by_name = parse_request({"name": "sandbox", "mountpoint": "/mnt", "bhard": "1m", "isoft": 7}, "", names)
    assert (by_name.project_id, by_name.predicted, by_name.limits, by_name.written) == (
        7001, False, {"bhard": 1 << 20, "isoft": 7}, {"bhard": "1m", "isoft": "7"})
    by_path = parse_request({"path": "/mnt/sb", "state": "absent"}, "", names)
    assert (by_path.project_id, by_path.path, by_path.state, by_path.limits) == (None, "/mnt/sb", "absent", {})
    assert parse_request({"id": 9, "mountpoint": "/mnt"}, "", names).project_id == 9
    later = parse_request({"name": "later", "mountpoint": "/mnt"}, "", names, check_mode=True)
    assert (later.project_id, later.predicted) == (None, True)


def test_a_limit_parsed_before_does_not_stand_for_a_boolean(names):
    """Sizes written as text are parsed once per text; a boolean is still refused after 1 was read."""
    assert parse_request({"id": 7001, "mountpoint": "/mnt", "bhard": 1}, "projects[0].", names).limits == {"bhard": 1}
    with pytest.raises(SizeError, match=r"projects\[1\]\.bhard: expected a size"):
        parse_request({"id": 7001, "mountpoint": "/mnt", "bhard": True}, "projects[1].", names)
    assert parse_request({"id": 7001, "mountpoint": "/mnt", "bhard": "1m"}, "projects[2].", names).limits == {"bhard": 1048576}
    with pytest.raises(SizeError, match=r"projects\[3\]\.bhard: '1x' has an unknown unit"):
        parse_request({"id": 7001, "mountpoint": "/mnt", "bhard": "1x"}, "projects[3].", names)
