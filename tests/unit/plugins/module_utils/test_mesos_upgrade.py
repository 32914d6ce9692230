"""The upgrade playbook's plan (playbooks/upgrade_mesos.yml): the target, the packages, the roll-back."""
from __future__ import annotations

import pytest

from ansible_collections.mesos.xfs_quota.plugins.filter._mesos_upgrade import mesos_upgrade
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_upgrade import UpgradeError, check_version, plan

# ansible_facts.packages as package_facts reports them (apt, rpm)
APT = {"mesos": [{"name": "mesos", "version": "1.10.0-2.0.4", "source": "apt", "arch": "amd64"}],
       "libc6": [{"name": "libc6", "version": "2.36-9", "source": "apt"}]}
RPM = {"mesos": [{"name": "mesos", "version": "1.10.0", "release": "2.0.4.el8", "epoch": None, "source": "rpm"}],
       "mesos-1": [{"name": "mesos-1", "version": "1", "release": "1", "epoch": 2, "source": "rpm"}]}


@pytest.mark.parametrize("value", ["1.11.0", "1.4.3", "1.11.0-rc1", " 1.10.0 "])
def test_a_mesos_version_is_taken(value):
    assert check_version(value) == value.strip()


@pytest.mark.parametrize("value, says", [
    ("", "mesos_upgrade_version is required"),
    (None, "mesos_upgrade_version is required"),
    (1.1, "1.1 is a number, not a Mesos version: give it as text"),  # an unquoted 1.10 in YAML
    (True, "True is not text"),
    ("1.11", "is not a Mesos version (MAJOR.MINOR.PATCH"),
    ("latest", "is not a Mesos version"),
    ("1.11.0; rm -rf /", "is not a Mesos version"),
])
def test_anything_else_is_refused_naming_the_variable_and_the_form(value, says):
    with pytest.raises(UpgradeError, match="mesos_upgrade_version") as exc:
        check_version(value)
    assert says in str(exc.value)


def test_apt_packages_go_back_to_their_versions_and_new_ones_are_removed():
    out = plan("1.11.0", ["mesos=1.11.0*", "mesos-extras>=1.11.0", "mesos=1.11.0-2.0.1"], APT)
    assert out.names == ["mesos", "mesos-extras"]
    assert out.before == {"mesos": "1.10.0-2.0.4", "mesos-extras": ""}
    assert out.install == ["mesos=1.10.0-2.0.4"]
    assert out.remove == ["mesos-extras"]


def test_rpm_specs_name_the_installed_package_and_go_back_with_epoch_and_release():
    out = plan("1.11.0", ["mesos-1.11.0", "mesos-1-1-1"], RPM)
    assert out.names == ["mesos", "mesos-1"]
    assert out.install == ["mesos-1.10.0-2.0.4.el8", "mesos-1-2:1-1"]
    assert out.remove == []


@pytest.mark.parametrize("specs", [[], "mesos", [""], [42], ["=1.11.0"]])
def test_package_specs_that_name_no_package_are_refused(specs):
    with pytest.raises(UpgradeError, match="mesos_upgrade_packages"):
        plan("1.11.0", specs, APT)


def test_the_filter_gives_the_problem_as_text_for_an_assert():
    assert mesos_upgrade(["mesos=1.11.0*"], "1.11.0", APT)["problem"] == ""
    bad = mesos_upgrade(["mesos=1.11*"], "1.11", {})
    assert bad["problem"].startswith("mesos_upgrade_version: '1.11' is not a Mesos version") and bad["install"] == []
