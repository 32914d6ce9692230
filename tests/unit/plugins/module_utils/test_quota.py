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
