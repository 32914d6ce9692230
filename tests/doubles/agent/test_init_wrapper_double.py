"""The TEST DOUBLE of mesos-init-wrapper (tests/doubles/roles/agent_double) reads the agent's flags as
the packaged wrapper does (mesosphere/mesos-deb-packaging `mesos-init-wrapper`, `slave`): every
regular file of the flags directory is a flag, whatever its name, so a stray file there is an
unknown flag that the agent (double) refuses as Mesos does."""

from __future__ import annotations

import json
import os
import shlex
import subprocess

import jinja2
import pytest

from ansible_collections.mesos.xfs_quota.tests.doubles.agent.test_agent_double_version import DOUBLE

TEMPLATE = os.path.join(os.path.dirname(__file__), "../roles/agent_double/templates/mesos-init-wrapper-double.j2")


@pytest.fixture(name="wrapper")
def fixture_wrapper(tmp_path):
    """The rendered wrapper, its flags directory and its two environment files."""
    if not os.path.exists(DOUBLE):
        pytest.skip("make hook builds the double")
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    environment.filters["quote"] = lambda value: shlex.quote(str(value))
    with open(TEMPLATE, encoding="utf-8") as template:
        text = environment.from_string(template.read()).render(
            ansible_managed="test", agent_double_flags_dir=str(tmp_path / "mesos-slave"),
            agent_double_wrapper_environment_files=[str(tmp_path / "default-mesos"), str(tmp_path / "default-mesos-slave")],
            agent_double_binary=os.path.abspath(DOUBLE))
    script = tmp_path / "mesos-init-wrapper-double"
    script.write_text(text)
    script.chmod(0o755)
    (tmp_path / "mesos-slave").mkdir()
    return script


def run(wrapper, work_dir):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MESOS_")}
    return subprocess.run([str(wrapper), f"--work_dir={work_dir}", "--drive"], input=json.dumps({"op": "flags"}) + "\n",
                          env=environment, capture_output=True, text=True, timeout=60, check=False)


def test_every_file_is_a_flag_and_a_question_mark_file_a_boolean(wrapper, tmp_path):
    flags_dir = tmp_path / "mesos-slave"
    (flags_dir / "hostname").write_text("agent-1\n")
    (flags_dir / "?cgroups_enable_cfs").write_text("")
    (flags_dir / "?no-switch_user").write_text("")
    (flags_dir / "attributes").mkdir()
    (flags_dir / "attributes" / "rack").write_text("north\n")
    (flags_dir / "attributes" / "zone").write_text("a")
    (tmp_path / "default-mesos-slave").write_text("MESOS_SANDBOX_DIRECTORY=/sbx\nIP=127.0.0.2\n")
    done = run(wrapper, tmp_path / "work")
    assert done.returncode == 0, done.stderr
    flags = json.loads(done.stdout)["flags"]
    assert (flags["hostname"], flags["cgroups_enable_cfs"], flags["switch_user"]) == ("agent-1", "true", "false")
    assert (flags["attributes"], flags["sandbox_directory"], flags["ip"]) == ("rack:north;zone:a", "/sbx", "127.0.0.2")


def test_a_stray_backup_in_the_flags_directory_is_an_unknown_flag_the_agent_refuses(wrapper, tmp_path):
    flags_dir = tmp_path / "mesos-slave"
    (flags_dir / "hooks").write_text("org_example_other_hook\n")
    (flags_dir / "hooks.previous").write_text("\n")
    done = run(wrapper, tmp_path / "work")
    assert done.returncode == 1
    assert done.stderr == ("Failed to load unknown flag 'hooks.previous'\n\n"
                           "See `mesos-agent --help` for a list of supported flags.\n")
