"""Each role's meta/main.yml names the platforms the tests run it on: Debian 12 (bookworm) for all,
and Debian 11 (bullseye) for the roles of the rollout that `make molecule-bullseye` runs there
(docs/README.md's support matrix). They named bookworm alone."""

from __future__ import annotations

import glob
import os

import pytest
import yaml

ROLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../roles")
# the rollout on a bullseye VM: site.yml's roles (docker_storage is opt-in and not enabled there) and metrics
ON_BULLSEYE = {"agent", "drain", "hook", "metrics", "xfs"}


def debian_versions(role):
    with open(os.path.join(ROLES, role, "meta/main.yml"), encoding="utf-8") as stream:
        platforms = yaml.safe_load(stream)["galaxy_info"]["platforms"]
    return {str(v) for p in platforms if p["name"] == "Debian" for v in p["versions"]}


@pytest.mark.parametrize("role", sorted(os.path.basename(os.path.dirname(os.path.dirname(p)))
                                        for p in glob.glob(os.path.join(ROLES, "*/meta/main.yml"))))
def test_platforms_are_the_tested_ones(role):
    expected = {"bookworm", "bullseye"} if role in ON_BULLSEYE else {"bookworm"}
    assert debian_versions(role) == expected
