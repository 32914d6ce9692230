"""The agent TEST DOUBLE creates the Mesos containerizer's linux/seccomp isolator at start-up as the
agent's main does (src/slave/main.cpp "Failed to create a containerizer", MesosContainerizer::create,
LinuxSeccompIsolatorProcess::create, seccomp_parser.cpp parseProfile): what the agent role relies on
when it turns the isolator on (the profile written before the restart)."""

from __future__ import annotations

import json

from ansible_collections.mesos.xfs_quota.tests.doubles.agent.test_agent_double_flags import start

SECCOMP = "--isolation=posix/cpu,posix/mem,linux/seccomp"


def exit_line(run) -> str:
    assert run.returncode == 1, run.stderr
    return next(line for line in run.stderr.splitlines() if "EXIT with status 1" in line).split("EXIT with status 1: ")[1]


def test_the_isolator_needs_its_config_dir(tmp_path):
    run, _responses = start(f"--work_dir={tmp_path}", SECCOMP)
    assert exit_line(run) == ("Failed to create a containerizer: Failed to create isolator 'linux/seccomp': "
                              "Missing required `--seccomp_config_dir` flag")


def test_a_missing_or_broken_default_profile_stops_the_agent(tmp_path):
    run, _responses = start(f"--work_dir={tmp_path}", SECCOMP, f"--seccomp_config_dir={tmp_path}", "--seccomp_profile_name=p.json")
    assert exit_line(run).endswith(f"Failed to read Seccomp profile file '{tmp_path}/p.json': No such file or directory")
    (tmp_path / "p.json").write_text(json.dumps({"syscalls": []}))
    run, _responses = start(f"--work_dir={tmp_path}", SECCOMP, f"--seccomp_config_dir={tmp_path}", "--seccomp_profile_name=p.json")
    assert "Cannot determine 'defaultAction'" in exit_line(run)


def test_with_its_profile_the_agent_starts_and_shows_the_flags(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}))
    run, [flags] = start(f"--work_dir={tmp_path}", SECCOMP, f"--seccomp_config_dir={tmp_path}",
                         "--seccomp_profile_name=p.json", requests=[{"op": "flags"}])
    assert run.returncode == 0, run.stderr
    assert flags["flags"]["isolation"] == "posix/cpu,posix/mem,linux/seccomp"


def test_a_release_before_1_8_has_no_such_isolator(tmp_path):
    # its flags are unknown there too; the isolator alone is "unknown or unsupported"
    run, _responses = start(f"--work_dir={tmp_path}", SECCOMP, "--double_mesos_version=1.7.3")
    assert exit_line(run) == "Failed to create a containerizer: Unknown or unsupported isolator 'linux/seccomp'"


def test_a_docker_only_agent_creates_no_mesos_containerizer(tmp_path):
    run, _responses = start(f"--work_dir={tmp_path}", SECCOMP, "--containerizers=docker")
    assert run.returncode == 0, run.stderr
