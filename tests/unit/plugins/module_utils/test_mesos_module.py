from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import time

import pytest

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_module import (
    MesosModuleError, ModuleInfo, ParameterCheck, check_parameters, compatibility, library_path_of, read_module, verify,
    version_argument)

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
    with pytest.raises(MesosModuleError, match="^library: .* is not a shared library"):
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


# ---- the loader: a bounded protocol on its own pipe, a timeout, accurate words ----

def hostile(tmp_path, body, name="test_hook"):
    """A module library whose constructor (and destructor) run ``body``'s C++ (a ``load()`` and an
    ``unload()`` function), with a valid descriptor."""
    if shutil.which("g++") is None:
        pytest.skip("needs g++")
    source = tmp_path / "hostile.cpp"
    source.write_text(
        "#include <cstdio>\n#include <cstdlib>\n#include <csignal>\n#include <unistd.h>\n"
        + DESCRIPTOR % ("", name, "1.11.0", "nullptr") + body
        + "\n__attribute__((constructor)) static void on_load() { load(); }\n"
          "__attribute__((destructor)) static void on_unload() { unload(); }\n")
    out = tmp_path / "libhostile.so"
    subprocess.run(["g++", "-shared", "-fPIC", "-o", str(out), str(source)], check=True)
    return str(out)


FORGED = ('{"api_version": "2", "mesos_version": "1.11.0", "kind": "Hook", "author_name": "x", '
          '"author_email": "x", "description": "forged", "has_compatible": false, "compatible_result": null}')


def test_a_constructor_that_hangs_ends_in_a_clear_message(tmp_path):
    lib = hostile(tmp_path, "static void load() { sleep(600); } static void unload() {}")
    started = time.monotonic()
    with pytest.raises(MesosModuleError, match=r"^library: loading .* did not finish within 2 s .*was killed"):
        read_module(lib, "test_hook", timeout=2)
    assert time.monotonic() - started < 10


def test_output_at_load_and_unload_neither_breaks_nor_forges_the_result(tmp_path):
    lib = hostile(tmp_path, 'static void load() { printf("%%s\\n", R"(%s)"); fflush(stdout); }'
                            ' static void unload() { printf("%%s\\n", R"(%s)"); fflush(stdout); }' % (FORGED, FORGED))
    read = read_module(lib, "test_hook")
    assert read.description == "a test library"


def test_a_constructor_that_forks_is_not_waited_for(tmp_path):
    lib = hostile(tmp_path, "static void load() { if (fork() == 0) { sleep(30); } } static void unload() {}")
    started = time.monotonic()
    read = read_module(lib, "test_hook", timeout=20)
    assert read.description == "a test library" and time.monotonic() - started < 10


def test_a_signal_is_named(tmp_path):
    lib = hostile(tmp_path, "static void load() { abort(); } static void unload() {}")
    with pytest.raises(MesosModuleError, match=r"^library: the process that loaded .* was killed by SIGABRT"):
        read_module(lib, "test_hook")


def test_a_directory_a_missing_file_and_another_architecture_are_called_what_they_are(tmp_path):
    with pytest.raises(MesosModuleError, match=r"^library: .* is a directory; give the path of the library file"):
        read_module(str(tmp_path), "x")
    with pytest.raises(MesosModuleError, match=r"^library: .*none\.so does not exist$"):
        read_module(str(tmp_path / "none.so"), "x")
    # an ELF header for AArch64 (e_machine 183), 64-bit little endian
    arm = tmp_path / "libarm.so"
    arm.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack("<HH", 3, 183) + b"\0" * 44)
    with pytest.raises(MesosModuleError, match=r"^library: .*libarm\.so is built for AArch64, this host runs x86-64"):
        read_module(str(arm), "x")


@pytest.mark.parametrize("value", [1.10, 1.1, 1, True])
def test_a_version_that_came_as_a_number_is_refused(value):
    with pytest.raises(MesosModuleError, match=r"^agent_version: .* came as a number.*quote it"):
        version_argument(value)


def test_a_version_as_text_is_kept():
    assert version_argument("1.10") == "1.10" and version_argument(None) is None


CHECKING = r"""
#include <cstring>
#include <cstdio>
struct ModuleBase { const char* a; const char* v; const char* k; const char* n; const char* e; const char* d;
                    bool (*compatible)(); };
extern "C++" ModuleBase test_hook = {"2", "1.11.0", "Hook", "a", "e", "d", nullptr};
extern "C" int test_hook_check_parameters(const char* const* keys, const char* const* values, size_t count,
                                          char* message, size_t size) {
  for (size_t i = 0; i < count; ++i) {
    if (strcmp(keys[i], "default_limit") != 0 && strcmp(keys[i], "work_dir") != 0) {
      snprintf(message, size, "unknown parameter '%s'; the parameters are: default_limit, work_dir", keys[i]);
      return 1;
    }
    if (strcmp(keys[i], "default_limit") == 0 && strcmp(values[i], "10x") == 0) {
      snprintf(message, size, "default_limit: cannot read '10x'");
      return 1;
    }
  }
  return 0;
}
"""


def test_the_librarys_own_parameter_check_is_asked_with_the_exact_parameters(tmp_path):
    if shutil.which("g++") is None:
        pytest.skip("needs g++")
    (tmp_path / "check.cpp").write_text(CHECKING)
    lib = str(tmp_path / "libcheck.so")
    subprocess.run(["g++", "-shared", "-fPIC", "-o", lib, str(tmp_path / "check.cpp")], check=True)
    assert check_parameters(lib, "test_hook", [("work_dir", "/var/lib/mesos"), ("default_limit", "10g")]) == \
        ParameterCheck(exported=True, ok=True, message="")
    typo = check_parameters(lib, "test_hook", [("default_limt", "10g")])
    assert not typo.ok and typo.message == "unknown parameter 'default_limt'; the parameters are: default_limit, work_dir"
    assert check_parameters(lib, "test_hook", [("default_limit", "10x")]).message == "default_limit: cannot read '10x'"
    assert check_parameters(library(tmp_path), "test_hook", []).exported is False


def test_the_built_hooks_own_check_names_a_mistyped_parameter(tmp_path):
    built = os.path.join(os.path.dirname(__file__), "../../../../.build/hook/libmesos_xfs_quota_hook.so")
    if not os.path.exists(built):
        pytest.skip("make hook builds it")
    typo = check_parameters(os.path.abspath(built), "mesos_xfs_quota_hook",
                            [("work_dir", str(tmp_path)), ("project_ids", "20000-29999"), ("default_limt", "10g")])
    assert typo.exported and not typo.ok and typo.message.startswith("unknown parameter 'default_limt'")
    disk = check_parameters(os.path.abspath(built), "mesos_xfs_quota_hook",
                            [("work_dir", str(tmp_path)), ("project_ids", "20000-29999")])
    assert not disk.ok and disk.message.startswith("work_dir: ")  # this host's tmp is not XFS with project quota
