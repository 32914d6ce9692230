from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_module import (
    MesosModuleError, ModuleInfo, compatibility, read_module)

DESCRIPTOR = r"""
struct ModuleBase { const char* a; const char* v; const char* k; const char* n; const char* e; const char* d;
                    bool (*compatible)(); };
extern "C++" ModuleBase %s = {"2", "%s", "Hook", "someone", "someone@example.org", "a test library", nullptr};
"""


def library(tmp_path, name="test_hook", version="1.11.0"):
    if shutil.which("g++") is None:
        pytest.skip("needs g++")
    source = tmp_path / "lib.cpp"
    source.write_text(DESCRIPTOR % (name, version))
    out = tmp_path / "libtest.so"
    subprocess.run(["g++", "-shared", "-fPIC", "-o", str(out), str(source)], check=True)
    return str(out)


def info(**fields):
    base = dict(library="/x.so", name="m", api_version="2", mesos_version="1.11.0", kind="Hook",
                author_name="a", author_email="e", description="d", has_compatible=False)
    return ModuleInfo(**{**base, **fields})


def test_reads_the_descriptor_of_a_real_library(tmp_path):
    read = read_module(library(tmp_path), "test_hook")
    assert (read.api_version, read.mesos_version, read.kind, read.description) == ("2", "1.11.0", "Hook", "a test library")
    assert read.has_compatible is False


def test_missing_library_and_symbol_name_the_parameter(tmp_path):
    with pytest.raises(MesosModuleError, match="^library: .* does not exist"):
        read_module(str(tmp_path / "none.so"), "x")
    with pytest.raises(MesosModuleError, match="^module: .* exports no symbol 'other'"):
        read_module(library(tmp_path), "other")
    (tmp_path / "garbage.so").write_bytes(b"not an ELF file")
    with pytest.raises(MesosModuleError, match="^library: cannot load"):
        read_module(str(tmp_path / "garbage.so"), "x")


@pytest.mark.parametrize("fields, agent, ok, reason", [
    ({}, "1.11.0", True, "built for Mesos 1.11.0, as the agent"),
    ({}, None, True, "not checked"),
    ({"mesos_version": "1.10.0"}, "1.11.0", False, "rebuild the module"),
    ({"mesos_version": "1.12.0"}, "1.11.0", False, "newer than the agent"),
    ({"api_version": "1"}, "1.11.0", False, "module API version 1"),
    ({"kind": "Isolator"}, "1.11.0", False, "kind Isolator, expected Hook"),
    ({"description": None}, "1.11.0", False, "lacks description"),
])
def test_compatibility_follows_the_agents_rules(fields, agent, ok, reason):
    compatible, why = compatibility(info(**fields), "Hook", agent)
    assert compatible is ok and reason in why


def test_other_kinds_may_declare_compatibility():
    assert compatibility(info(kind="Isolator", mesos_version="1.10.0", has_compatible=True), "Isolator", "1.11.0")[0]
    assert not compatibility(info(kind="Isolator", mesos_version="1.10.0"), "Isolator", "1.11.0")[0]


def test_the_built_hook_when_present():
    built = os.path.join(os.path.dirname(__file__), "../../../../.build/hook/libmesos_xfs_quota_hook.so")
    if not os.path.exists(built):
        pytest.skip("make hook builds it")
    read = read_module(os.path.abspath(built), "mesos_xfs_quota_hook")
    assert (read.api_version, read.kind, read.mesos_version) == ("2", "Hook", "1.11.0")
