"""The agent TEST DOUBLE (tests/doubles/agent, not Mesos) behaves as Mesos 1.11.0 does, on the
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


def fake_docker(tmp_path, run_exit=0):
    """A docker CLI stand-in that appends its argv (one JSON line per call) to calls.jsonl; its
    `run` writes to stderr and exits run_exit, `inspect` finds a container once `run` has started."""
    cli = tmp_path / "docker"
    cli.write_text(f"""#!{shutil.which('python3')}
import json, os, sys
here = {str(tmp_path)!r}
with open(os.path.join(here, "calls.jsonl"), "a") as calls:
    calls.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[3] == "run":
    open(os.path.join(here, "started"), "w").close()
    sys.stderr.write("run's stderr\\n")
    sys.exit({run_exit})
sys.exit(0 if sys.argv[3] != "inspect" or os.path.exists(os.path.join(here, "started")) else 1)
""")
    cli.chmod(0o755)
    return cli


def docker_calls(tmp_path):
    return [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]


def test_docker_task_runs_in_a_container_named_and_mounted_as_mesos_does(tmp_path):
    cli = fake_docker(tmp_path)
    work_dir = tmp_path / "work"
    _run, [launched, waited, removed] = drive(work_dir, [
        {"op": "launch", "framework": "F1", "executor": "E1", "container": "C1", "containerizer": "docker",
         "image": "mxq-busybox:1", "command": "echo hi", "env": {"B": "2", "A": "1"}, "cpus": 0.5, "mem_mb": 16,
         "parameters": [{"key": "storage-opt", "value": "size=20m"}, {"key": "label", "value": "x=y"}]},
        {"op": "wait", "framework": "F1", "executor": "E1"},
        {"op": "remove_executor", "framework": "F1", "executor": "E1"},
    ], f"--docker={cli}", "--docker_stop_timeout=3")
    sandbox = f"{work_dir}/slaves/S0/frameworks/F1/executors/E1/runs/C1"
    socket = ["-H", "unix:///var/run/docker.sock"]
    expected_run = [*socket, "run", "--cpu-shares", "512", "--memory", str(32 << 20),
                    "-e", "A=1", "-e", "B=2", "-e", "MESOS_ALLOCATION_ROLE=*", "-e", "MESOS_CONTAINER_NAME=mesos-C1",
                    "-e", "MESOS_SANDBOX=/mnt/mesos/sandbox", "-v", f"{sandbox}:/mnt/mesos/sandbox", "--net", "host",
                    "--entrypoint", "/bin/sh", "--name", "mesos-C1", "--storage-opt=size=20m", "--label=x=y",
                    "mxq-busybox:1", "-c", "echo hi"]
    assert launched["ok"] and launched["docker_container"] == "mesos-C1", launched
    assert launched["docker_run"] == [str(cli), *expected_run]
    assert waited == {**waited, "ok": True, "status": 0}
    assert removed["ok"] and removed["docker_stop"] == 0 and removed["docker_rm"] == 0, removed
    calls = docker_calls(tmp_path)
    assert expected_run in calls
    assert [*socket, "inspect", "--type=container", "mesos-C1"] in calls
    assert calls[-2:] == [[*socket, "stop", "-t", "3", "mesos-C1"], [*socket, "rm", "-f", "-v", "mesos-C1"]]
    assert (tmp_path / "work/slaves/S0/frameworks/F1/executors/E1/runs/C1/stderr").read_text() == "run's stderr\n"


def test_docker_run_that_never_creates_its_container_fails_the_launch(tmp_path):
    cli = fake_docker(tmp_path, run_exit=125)
    (tmp_path / "docker").write_text((tmp_path / "docker").read_text().replace(
        '"started"), "w").close()', '"never"), "w").close()'))
    _run, [launched] = drive(tmp_path / "work", [
        {"op": "launch", "framework": "F1", "executor": "E1", "container": "C1", "containerizer": "docker",
         "image": "missing:1", "command": "true"}], f"--docker={cli}")
    assert not launched["ok"] and not launched["launched"]
    assert "docker run exited with status 125" in launched["error"]


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
