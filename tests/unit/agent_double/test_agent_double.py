"""The agent TEST DOUBLE (hook/test/agent_double, not Mesos) behaves as Mesos 1.11.0 does, on the
host: no XFS, no root, no hook needed. Each behaviour's Mesos source is in the double's README."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

DOUBLE = os.path.join(os.path.dirname(__file__), "../../../.build/hook/mesos-agent-double")


def drive(work_dir, requests, *flags):
    """Run the double with --drive: one JSON request per line in, one response per line out."""
    if not os.path.exists(DOUBLE):
        pytest.skip("make hook builds the double")
    run = subprocess.run([DOUBLE, f"--work_dir={work_dir}", "--drive", *flags], input="".join(
        json.dumps(r) + "\n" for r in requests), capture_output=True, text=True, timeout=60, check=False)
    return run, [json.loads(line) for line in run.stdout.splitlines()]


def test_docker_sandbox_with_a_colon_is_passed_as_its_docker_links_symlink(tmp_path):
    _run, [plain, colon] = drive(tmp_path, [
        {"op": "launch", "framework": "F1", "executor": "E1", "container": "C1", "containerizer": "docker"},
        {"op": "launch", "framework": "F1", "executor": "E:2", "container": "C2", "containerizer": "docker"},
    ])
    assert plain["container_work_directory"] == plain["sandbox"] == f"{tmp_path}/slaves/S0/frameworks/F1/executors/E1/runs/C1"
    link = f"{tmp_path}/slaves/S0/docker/links/C2"
    assert colon["container_work_directory"] == link
    assert os.readlink(link) == colon["sandbox"] == f"{tmp_path}/slaves/S0/frameworks/F1/executors/E:2/runs/C2"


def test_docker_decorator_gets_the_container_name_the_agents_sandbox_directory_and_a_task_only_for_command_tasks(
        tmp_path):
    # seen on the real Mesos 1.11.0 agent (../shared/real-mesos): container mesos-<id>, bind mount at
    # --sandbox_directory; a custom executor's launch carries no TaskInfo (Slave::launchExecutor)
    _run, [command, custom] = drive(tmp_path, [
        {"op": "launch", "framework": "F1", "executor": "E1", "container": "C1", "containerizer": "docker"},
        {"op": "launch", "framework": "F1", "executor": "E2", "container": "C2", "containerizer": "docker",
         "executor_kind": "custom"},
    ], "--sandbox_directory=/sbx")
    assert command["decorator"] == {"container_name": "mesos-C1", "mapped_sandbox_directory": "/sbx", "task_given": True}
    assert custom["decorator"] == {"container_name": "mesos-C2", "mapped_sandbox_directory": "/sbx", "task_given": False}
    _run, [default] = drive(tmp_path, [
        {"op": "launch", "framework": "F1", "executor": "E3", "container": "C3", "containerizer": "docker"}])
    assert default["decorator"]["mapped_sandbox_directory"] == "/mnt/mesos/sandbox"


def test_nested_container_sandbox_is_below_the_executors_run_directory(tmp_path):
    _run, [nested] = drive(tmp_path, [
        {"op": "launch_nested", "framework": "F1", "executor": "E1", "container": "C1", "nested": ["N1", "N2"],
         "fetch": [{"path": "app.tar", "size_kib": 1}]},
    ])
    assert nested["sandbox"] == f"{tmp_path}/slaves/S0/frameworks/F1/executors/E1/runs/C1/containers/N1/containers/N2"
    assert os.path.getsize(nested["sandbox"] + "/app.tar") == 1024


VECTORS = os.path.join(os.path.dirname(__file__), "../../vectors")
COMPAT = json.load(open(os.path.join(VECTORS, "module_compat.json"), encoding="utf-8"))["vectors"]
TEXT = json.load(open(os.path.join(VECTORS, "modules_text.json"), encoding="utf-8"))["vectors"]


def c_string(value):
    return "nullptr" if value is None else json.dumps(value)


@pytest.fixture(scope="module", name="library")
def fixture_library(tmp_path_factory):
    """libmxqvec.so: one module descriptor per vector of module_compat.json (vec_<n>), and two
    ordinary ones (vec_hook, vec_other), laid out as ModuleBase (include/mesos/module.hpp)."""
    if shutil.which("g++") is None:
        pytest.skip("needs g++")
    directory = tmp_path_factory.mktemp("lib")
    source = ["struct ModuleBase { const char* api; const char* version; const char* kind; const char* author;",
              "  const char* email; const char* description; bool (*compatible)(); };",
              "static bool yes() { return true; }", "static bool no() { return false; }",
              'ModuleBase vec_hook = {"2", "1.11.0", "Hook", "a", "e", "d", nullptr};',
              'ModuleBase vec_other = {"2", "1.11.0", "Hook", "a", "e", "d", nullptr};']
    for n, vector in enumerate(COMPAT):
        compatible = {None: "nullptr", True: "yes", False: "no"}[vector["compatible"]]
        source.append(f'ModuleBase vec_{n} = {{{c_string(vector["api"])}, {c_string(vector["mesos_version"])}, '
                      f'{c_string(vector["kind"])}, "a", "e", "d", {compatible}}};')
    (directory / "lib.cpp").write_text("\n".join(source) + "\n")
    subprocess.run(["g++", "-shared", "-fPIC", "-o", str(directory / "libmxqvec.so"), str(directory / "lib.cpp")],
                   check=True)
    return directory


@pytest.mark.parametrize("n", range(len(COMPAT)), ids=[v["case"] for v in COMPAT])
def test_module_verification_follows_the_shared_vectors(tmp_path, library, n):
    vector = COMPAT[n]
    modules = {"libraries": [{"file": f"{library}/libmxqvec.so", "modules": [{"name": f"vec_{n}"}]}]}
    run, _responses = drive(tmp_path, [], f"--modules={json.dumps(modules)}", f"--double_mesos_version={vector['agent_version']}")
    if vector.get("loads"):
        assert run.returncode == 0, run.stderr
    else:
        assert run.returncode != 0
        error = vector["error"].replace("{module}", f"vec_{n}")
        assert f"Error loading modules: Error verifying module 'vec_{n}': {error}\n" in run.stderr


@pytest.mark.parametrize("vector", TEXT, ids=[v["case"] for v in TEXT])
def test_flags_show_modules_as_the_messages_debug_string(tmp_path, library, vector):
    modules = json.loads(json.dumps(vector["modules"]).replace("{dir}", str(library)))
    manifest = tmp_path / "modules.json"
    manifest.write_text(json.dumps(modules))
    os.environ["LD_LIBRARY_PATH"] = str(library)  # a library given by name is searched for, as dlopen does
    try:
        run, [flags] = drive(tmp_path / "work", [{"op": "flags"}], f"--modules=file://{manifest}", "--hooks=")
    finally:
        del os.environ["LD_LIBRARY_PATH"]
    assert run.returncode == 0, run.stderr
    assert flags["flags"]["modules"] == vector["text"].replace("{dir}", str(library))
    assert flags["flags"]["hooks"] == ""


def test_modules_and_modules_dir_exclude_each_other(tmp_path):
    run, _responses = drive(tmp_path, [], '--modules={"libraries": []}', f"--modules_dir={tmp_path}")
    assert run.returncode != 0
    assert "Only one of --modules or --modules_dir should be specified" in run.stderr


def test_modules_dir_manifests_load_alphabetically_and_hooks_must_name_a_loaded_hook(tmp_path, library):
    manifests = tmp_path / "modules.d"
    manifests.mkdir()
    (manifests / "b.json").write_text(json.dumps(
        {"libraries": [{"file": f"{library}/libmxqvec.so", "modules": [{"name": "vec_0"}]}]}))
    (manifests / "a.json").write_text(json.dumps(
        {"libraries": [{"file": f"{library}/libmxqvec.so", "modules": [{"name": "vec_4"}]}]}))
    run, _responses = drive(tmp_path, [], f"--modules_dir={manifests}")
    assert f"Error loading modules from '{manifests}/a.json': Error verifying module 'vec_4'" in run.stderr
    (manifests / "a.json").unlink()
    run, [flags] = drive(tmp_path, [{"op": "flags"}], f"--modules_dir={manifests}")
    assert run.returncode == 0, run.stderr
    assert flags["flags"]["modules_dir"] == str(manifests) and "modules" not in flags["flags"]
    run, _responses = drive(tmp_path, [], f"--modules_dir={manifests}", "--hooks=other")
    assert "Error installing hooks: No hook module named 'other' available" in run.stderr
