from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.xfs_quota.plugins.filter.os_command import os_command
from ansible_collections.mesos.xfs_quota.plugins.filter.os_packages import os_packages

BUILD = ["c++ compiler", "make", "cmake", "pkg-config"]

# (distribution, os_family, major version) as Ansible's facts report them -> the hook build's packages
# and cmake command. Only the Debian rows are exercised in a VM (bookworm, bullseye).
DISTRIBUTIONS = [
    ("Debian", "Debian", "12", ["g++", "make", "cmake", "pkg-config"], "cmake"),
    ("Debian", "Debian", "11", ["g++", "make", "cmake", "pkg-config"], "cmake"),
    ("Ubuntu", "Debian", "20", ["g++", "make", "cmake", "pkg-config"], "cmake"),
    ("Ubuntu", "Debian", "18", ["g++", "make", "cmake", "pkg-config"], "cmake"),
    ("CentOS", "RedHat", "7", ["gcc-c++", "make", "cmake3", "pkgconfig"], "cmake3"),
    ("RedHat", "RedHat", "7", ["gcc-c++", "make", "cmake3", "pkgconfig"], "cmake3"),
    ("Rocky", "RedHat", "8", ["gcc-c++", "make", "cmake", "pkgconfig"], "cmake"),
    ("AlmaLinux", "RedHat", "9", ["gcc-c++", "make", "cmake", "pkgconfig"], "cmake"),
    ("SLES", "Suse", "15", ["gcc-c++", "make", "cmake", "pkg-config"], "cmake"),
]


@pytest.mark.parametrize("distribution,family,major,packages,cmake", DISTRIBUTIONS)
def test_each_distribution_gets_its_own_package_and_command_names(distribution, family, major, packages, cmake):
    facts = {"distribution": distribution, "os_family": family, "distribution_major_version": major}
    assert os_packages(BUILD, facts) == packages
    assert os_packages(["xfsprogs"], facts) == ["xfsprogs"]
    assert os_command("cmake", facts) == cmake
    assert os_command("make", facts) == "make"


def test_facts_with_the_ansible_prefix_are_read_too():
    assert os_packages(["cmake"], {"ansible_os_family": "RedHat", "ansible_distribution_major_version": "7"}) == ["cmake3"]


def test_an_unknown_family_names_the_need_and_the_family():
    with pytest.raises(AnsibleFilterError, match="no package name for 'c\\+\\+ compiler' on os_family 'Archlinux'"):
        os_packages(["c++ compiler"], {"os_family": "Archlinux", "distribution_major_version": "0"})


def test_an_unknown_need_lists_the_known_ones():
    with pytest.raises(AnsibleFilterError, match="'gcc' is not one of c\\+\\+ compiler, cmake, make"):
        os_packages(["gcc"], {"os_family": "Debian"})
