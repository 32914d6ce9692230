"""The agent TEST DOUBLE loads its flags as Mesos's agent does: stout's FlagsBase::load with unknown
flags and duplicates refused, MESOS_<NAME> variables of known flags only, then the agent's main
(src/slave/main.cpp); with the flags of the Mesos release it plays (tests/vectors/mesos_releases.json).
Each rule's source is in the double's README."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from ansible_collections.mesos.xfs_quota.tests.doubles.agent.test_agent_double_version import DOUBLE

RELEASES = json.load(open(os.path.join(os.path.dirname(__file__), "../../vectors/mesos_releases.json"),
                          encoding="utf-8"))["releases"]
SEE_HELP = "\n\nSee `mesos-agent --help` for a list of supported flags.\n"


def start(*argv, env=None, requests=()):
    """The double with --drive and these arguments (no --work_dir added): the finished process and
    its responses."""
    if not os.path.exists(DOUBLE):
        pytest.skip("make hook builds the double")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MESOS_")}
    run = subprocess.run([DOUBLE, "--drive", *argv], input="".join(json.dumps(r) + "\n" for r in requests),
                         env={**environment, **(env or {})}, capture_output=True, text=True, timeout=60, check=False)
    return run, [json.loads(line) for line in run.stdout.splitlines()]


def refused(*argv, env=None):
    """stderr of a double that refuses its flags as the agent's main does: the error, then the advice, status 1."""
    run, _responses = start(*argv, env=env)
    assert run.returncode == 1, run.stderr
    assert run.stderr.endswith(SEE_HELP), run.stderr
    return run.stderr[:-len(SEE_HELP)]


def shown(tmp_path, *argv, env=None):
    run, [flags] = start(f"--work_dir={tmp_path}", *argv, env=env, requests=[{"op": "flags"}])
    assert run.returncode == 0, run.stderr
    return flags["flags"]


def test_an_unknown_flag_on_the_command_line_stops_the_agent(tmp_path):
    # what a stray /etc/mesos-slave/modules.previous becomes through mesos-init-wrapper
    assert refused(f"--work_dir={tmp_path}", "--modules.previous=file:///etc/mesos/modules.json") == \
        "Failed to load unknown flag 'modules.previous'"
    assert refused(f"--work_dir={tmp_path}", "--no-such_switch") == \
        "Failed to load unknown flag 'such_switch' via 'no-such_switch'"


def test_an_unknown_mesos_variable_is_ignored_and_a_known_one_is_a_flag(tmp_path):
    # FlagsBase::extract takes MESOS_<NAME> only for known flags; the command line wins
    flags = shown(tmp_path, "--hooks=", env={"MESOS_MODULES_PREVIOUS": "x", "MESOS_SANDBOX_DIRECTORY": "/env",
                                             "MESOS_hooks": "from_env"})
    assert "modules_previous" not in flags and "modules.previous" not in flags
    assert flags["sandbox_directory"] == "/env" and flags["hooks"] == ""


def test_a_flag_given_twice_is_refused(tmp_path):
    assert refused(f"--work_dir={tmp_path}", "--hooks=a", "--hooks=b") == "Flag 'hooks' is already loaded via name 'hooks'"


@pytest.mark.parametrize("flag, error", [
    ("--authenticate_http_readonly=yes",
     "Failed to load flag 'authenticate_http_readonly': Failed to load value 'yes': Expecting a boolean (e.g., true or false)"),
    ("--no-hooks", "Failed to load non-boolean flag 'hooks' via 'no-hooks'"),
    ("--hooks", "Failed to load non-boolean flag 'hooks': Missing value"),
    ("--no-switch_user=false", "Failed to load boolean flag 'switch_user' via 'no-switch_user' with value 'false'"),
])
def test_values_are_checked_as_stout_checks_them(tmp_path, flag, error):
    assert refused(f"--work_dir={tmp_path}", flag) == error


def test_booleans_are_shown_as_true_or_false(tmp_path):
    flags = shown(tmp_path, "--switch_user=0", "--no-docker_kill_orphans", "--cgroups_enable_cfs")
    assert (flags["switch_user"], flags["docker_kill_orphans"], flags["cgroups_enable_cfs"]) == ("false", "false", "true")


def test_work_dir_is_required():
    assert refused() == "Flag 'work_dir' is required, but it was not provided"


def test_a_deprecated_name_loads_with_a_warning_and_is_shown_under_that_name(tmp_path):
    run, [flags] = start(f"--work_dir={tmp_path}", "--slave_subsystems=cpu", requests=[{"op": "flags"}])
    assert "Loaded deprecated flag 'slave_subsystems'" in run.stderr
    assert flags["flags"]["slave_subsystems"] == "cpu" and "agent_subsystems" not in flags["flags"]


def test_flags_shows_every_flag_with_a_value_and_none_of_the_doubles_own(tmp_path):
    flags = shown(tmp_path, "--double_agent_id=S9")
    defaults = {name: flag["default"] for name, flag in RELEASES["1.11.0"]["agent"]["flags"].items()
                if flag.get("default") is not None}
    assert flags == {**defaults, "work_dir": str(tmp_path)}
    assert (flags["port"], flags["sandbox_directory"], flags["xfs_project_range"]) == (
        "5051", "/mnt/mesos/sandbox", "[5000-10000]")


def release_pairs():
    """(a release, another, a flag the first has and the second knows under no name), for every such pair.
    (1.5 renamed --executor_secret_key to --jwt_secret_key: 1.5+ still load the old name, deprecated.)"""
    for mine, release in RELEASES.items():
        for other, other_release in RELEASES.items():
            known = set(other_release["agent"]["flags"]) | set(other_release["agent"].get("flag_aliases", {}))
            only_mine = sorted(set(release["agent"]["flags"]) - known)
            if only_mine:
                yield mine, other, only_mine[0]


@pytest.mark.parametrize("mine, other, flag", list(release_pairs()))
def test_each_release_knows_its_own_flags(tmp_path, mine, other, flag):
    value = "" if RELEASES[mine]["agent"]["flags"][flag]["boolean"] else "=x"
    assert flag in shown(tmp_path, f"--double_mesos_version={mine}", f"--{flag}{value}")
    assert refused(f"--work_dir={tmp_path}", f"--double_mesos_version={other}", f"--{flag}{value}") == \
        f"Failed to load unknown flag '{flag}'"


def test_a_version_between_releases_plays_the_newest_older_release(tmp_path):
    assert refused(f"--work_dir={tmp_path}", "--double_mesos_version=1.10.7", "--csi_plugin_config_dir=/x") == \
        "Failed to load unknown flag 'csi_plugin_config_dir'"
    assert shown(tmp_path, "--double_mesos_version=1.12.0", "--csi_plugin_config_dir=/x")["csi_plugin_config_dir"] == "/x"


def test_version_prints_the_release_it_plays(tmp_path):
    if not os.path.exists(DOUBLE):
        pytest.skip("make hook builds the double")
    run = subprocess.run([DOUBLE, f"--work_dir={tmp_path}", "--double_mesos_version=1.10.0", "--version"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert (run.returncode, run.stdout) == (0, "mesos 1.10.0\n")
