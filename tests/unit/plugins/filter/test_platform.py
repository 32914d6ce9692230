from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.xfs_quota.plugins.filter._os_packages import os_packages

BUILD = ["c++ compiler", "make", "cmake", "pkg-config"]

# (distribution, os_family, major version) as Ansible's facts report them -> the hook build's packages.
# Only the Debian rows are exercised in a VM (bookworm, bullseye).
DISTRIBUTIONS = [
    ("Debian", "Debian", "12", ["g++", "make", "cmake", "pkg-config"]),
    ("Debian", "Debian", "11", ["g++", "make", "cmake", "pkg-config"]),
    ("Ubuntu", "Debian", "20", ["g++", "make", "cmake", "pkg-config"]),
    ("Ubuntu", "Debian", "18", ["g++", "make", "cmake", "pkg-config"]),
    ("Rocky", "RedHat", "8", ["gcc-c++", "make", "cmake", "pkgconfig"]),
    ("AlmaLinux", "RedHat", "9", ["gcc-c++", "make", "cmake", "pkgconfig"]),
    ("SLES", "Suse", "15", ["gcc-c++", "make", "cmake", "pkg-config"]),
]


@pytest.mark.parametrize("distribution,family,major,packages", DISTRIBUTIONS)
def test_each_distribution_gets_its_own_package_names(distribution, family, major, packages):
    facts = {"distribution": distribution, "os_family": family, "distribution_major_version": major}
    assert os_packages(BUILD, facts) == packages
    assert os_packages(["xfsprogs"], facts) == ["xfsprogs"]


def test_facts_with_the_ansible_prefix_are_read_too():
    assert os_packages(["cmake"], {"ansible_os_family": "RedHat", "ansible_distribution_major_version": "9"}) == ["cmake"]


def test_an_unknown_family_names_the_need_and_the_family():
    with pytest.raises(AnsibleFilterError, match="no package name for 'c\\+\\+ compiler' on os_family 'Archlinux'"):
        os_packages(["c++ compiler"], {"os_family": "Archlinux", "distribution_major_version": "0"})


def test_an_unknown_need_lists_the_known_ones():
    with pytest.raises(AnsibleFilterError, match="'gcc' is not one of c\\+\\+ compiler, cmake, make"):
        os_packages(["gcc"], {"os_family": "Debian"})
