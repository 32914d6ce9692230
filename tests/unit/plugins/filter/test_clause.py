from __future__ import annotations

import pytest

from ansible_collections.mesos.xfs_quota.plugins.filter.clause import clause


@pytest.mark.parametrize(
    "message, expected",
    [
        ("Status code was -1 and not [200]: Request failed.", "Status code was -1 and not [200]: Request failed"),
        ("ends in dots... \n", "ends in dots"),
        ("v1.11.0 kept inside", "v1.11.0 kept inside"),
        ("", ""),
        (". .", ""),
        (503, "503"),
    ],
)
def test_only_the_final_full_stops_and_white_space_go(message, expected):
    assert clause(message) == expected
