from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_module import (
    MesosModuleError, ModuleInfo, compatibility, library_path_of, read_module, verify)

VECTORS = json.load(open(os.path.join(os.path.dirname(__file__), "../../../vectors/module_compat.json"),
                         encoding="utf-8"))["vectors"]

DESCRIPTOR = r"""
struct ModuleBase { const char* a; const char* v; const char* k; const char* n; const char* e; const char* d;
                    bool (*compatible)(); };
%s
static bool no() { return false; }
extern "C++" ModuleBase %s = {"2", "%s", "Hook", "someone", "someone@example.org", "a test library", %s};
"""


def library(tmp_path, name="test_hook", version="1.11.0", compatible="nullptr", needs=None):
    """A module library; with ``needs``, it links a library of that name in a directory of its own,
    as a hook links libmesos.so from a path only the agent's unit knows."""
    if shutil.which("g++") is None:
        pytest.skip("needs g++")
    extra, link = "", []
    if needs:
        dep_dir = tmp_path / "agent-lib"
        dep_dir.mkdir()
        (dep_dir / "dep.cpp").write_text("int agent_symbol() { return 1; }\n")
        subprocess.run(["g++", "-shared", "-fPIC", "-o", str(dep_dir / f"lib{needs}.so"), str(dep_dir / "dep.cpp")],
                       check=True)
        extra = "int agent_symbol(); int use() { return agent_symbol(); }"
        link = [f"-L{dep_dir}", f"-l{needs}"]
    source = tmp_path / "lib.cpp"
    source.write_text(DESCRIPTOR % (extra, name, version, compatible))
    out = tmp_path / "libtest.so"
    subprocess.run(["g++", "-shared", "-fPIC", "-o", str(out), str(source), *link], check=True)
    return str(out)


def info(**fields):
    base = dict(library="/x.so", name="m", api_version="2", mesos_version="1.11.0", kind="Hook",
                author_name="a", author_email="e", description="d", has_compatible=False)
    return ModuleInfo(**{**base, **fields})


def test_reads_the_descriptor_of_a_real_library(tmp_path):
    read = read_module(library(tmp_path), "test_hook")
    assert (read.api_version, read.mesos_version, read.kind, read.description) == ("2", "1.11.0", "Hook", "a test library")
    assert read.has_compatible is False and read.compatible_result is None


def test_calls_compatible_as_the_agent_does(tmp_path):
    read = read_module(library(tmp_path, compatible="no"), "test_hook")
    assert (read.has_compatible, read.compatible_result) == (True, False)
    assert compatibility(read, "Hook", "1.11.0") == (
        False, "Error verifying module 'test_hook': Module test_hookhas determined to be incompatible")


def test_a_library_that_needs_the_agents_library_path_is_read_with_it(tmp_path):
    lib = library(tmp_path, needs="mxqagentonly")
    with pytest.raises(MesosModuleError, match="libmxqagentonly.so.*set library_path"):
        read_module(lib, "test_hook")
    read = read_module(lib, "test_hook", library_path=[str(tmp_path / "agent-lib")])
    assert read.mesos_version == "1.11.0"


def test_missing_library_and_symbol_name_the_parameter(tmp_path):
    with pytest.raises(MesosModuleError, match="^library: .* does not exist"):
        read_module(str(tmp_path / "none.so"), "x")
    with pytest.raises(MesosModuleError, match="^module: .* exports no symbol 'other'"):
        read_module(library(tmp_path), "other")
    (tmp_path / "garbage.so").write_bytes(b"not an ELF file")
    with pytest.raises(MesosModuleError, match="^library: cannot load"):
        read_module(str(tmp_path / "garbage.so"), "x")


@pytest.mark.parametrize("vector", VECTORS, ids=[v["case"] for v in VECTORS])
def test_verify_follows_the_shared_vectors(vector):
    module = info(name="vec", api_version=vector["api"], mesos_version=vector["mesos_version"], kind=vector["kind"],
                  has_compatible=vector["compatible"] is not None, compatible_result=vector["compatible"])
    expected = None if vector.get("loads") else vector["error"].replace("{module}", "vec")
    assert verify(module, vector["agent_version"]) == expected


@pytest.mark.parametrize("fields, agent, ok, reason", [
    ({}, "1.11.0", True, "an agent of 1.11.0 loads it"),
    ({}, None, True, "not checked"),
    ({"mesos_version": "1.10.0"}, "1.11.0", False, "Minimum supported mesos version for 'Hook' is 1.11.0"),
    ({"api_version": "1"}, None, False, "library requires: 1"),
    ({"kind": "Isolator"}, "1.11.0", False, "module is of kind 'Isolator', but the requested kind is 'Hook'"),
    ({"description": None}, "1.11.0", False, "Error verifying module 'm': Error loading module 'm'; missing fields"),
])
def test_compatibility_says_why_in_the_agents_words(fields, agent, ok, reason):
    compatible, why = compatibility(info(**fields), "Hook", agent)
    assert compatible is ok and reason in why


def test_a_bad_agent_version_names_the_parameter():
    with pytest.raises(MesosModuleError, match="^agent_version: 'x.y' is not a version"):
        verify(info(), "x.y")


def test_library_path_of_a_running_agent_and_of_its_unit():
    # the child says so after its own exec, never before one: /proc/<pid>/environ read during an
    # exec can be empty
    agent = subprocess.Popen([sys.executable, "-c", "import time; print('started', flush=True); time.sleep(30)"],
                             env={"LD_LIBRARY_PATH": "/from/the/process"}, stdout=subprocess.PIPE)
    try:
        agent.stdout.readline()

        def running(argv):
            if "--property=MainPID" in argv:
                return 0, f"{agent.pid}\n", ""
            return 0, "LD_LIBRARY_PATH=/opt/mesos/lib:/usr/local/lib MESOS_WORK_DIR=/x\n", ""

        def stopped(argv):
            return (0, "0\n", "") if "--property=MainPID" in argv else running(argv)

        assert library_path_of(running, "mesos-agent") == ["/from/the/process"]
        assert library_path_of(stopped, "mesos-agent") == ["/opt/mesos/lib", "/usr/local/lib"]
    finally:
        agent.kill()
        agent.communicate()


def test_the_built_hook_when_present():
    built = os.path.join(os.path.dirname(__file__), "../../../../.build/hook/libmesos_xfs_quota_hook.so")
    if not os.path.exists(built):
        pytest.skip("make hook builds it")
    read = read_module(os.path.abspath(built), "mesos_xfs_quota_hook")
    assert (read.api_version, read.kind, read.mesos_version) == ("2", "Hook", "1.11.0")
