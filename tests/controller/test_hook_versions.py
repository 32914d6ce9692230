"""The hook role with agents of two Mesos versions, on this host (no VM): two agent TEST DOUBLES
(tests/doubles/agent, not Mesos) play 1.11.0 and 1.10.0 and serve GET /version; the role reads
each agent's version from it, builds the hook once per version (against the test-only API stub)
and gives each agent the build of its own version; a library for another version than the running
agent's stops the role (mesos_module_info, as the agent's module manager would refuse it)."""

from __future__ import annotations

import os
import re
import subprocess
import textwrap

import pytest

from ansible_collections.mesos.xfs_quota.tests.doubles.agent.test_agent_double_version import DOUBLE, free_port

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
PLAYBOOK = """
- hosts: all
  gather_facts: false
  vars:
    _hook_test_api_stub: {REPO}/tests/doubles/mesos_stub
    hook_build_host: localhost
    hook_build_dir: {build}/{{{{ hook_mesos_version }}}}
    hook_artifacts_dir: {tmp}/artifacts
    hook_install_dir: {tmp}/installed/{{{{ inventory_hostname }}}}
    agent_service: no-such-unit
  roles:
    - mesos.xfs_quota.hook
  post_tasks:
    - name: Report
      ansible.builtin.debug:
        msg: "LIBRARY {{{{ inventory_hostname }}}} {{{{ hook_library | basename }}}}"
"""


@pytest.fixture(name="agents")
def fixture_agents(tmp_path):
    if not os.path.exists(DOUBLE):
        pytest.skip("make hook builds the double")
    ports, processes = {}, []
    for name, version in (("a1", "1.11.0"), ("a2", "1.10.0")):
        ports[name] = free_port()
        (tmp_path / name).mkdir()
        processes.append(subprocess.Popen(
            [DOUBLE, f"--work_dir={tmp_path / name}", "--ip=127.0.0.1", f"--port={ports[name]}",
             f"--double_mesos_version={version}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(textwrap.dedent(f"""
        all:
          hosts:
            a1: {{hook_agent_url: "http://127.0.0.1:{ports['a1']}"}}
            a2: {{hook_agent_url: "http://127.0.0.1:{ports['a2']}"}}
          vars: {{ansible_connection: local, ansible_python_interpreter: /usr/bin/python3}}
        """))
    playbook = tmp_path / "hook.yml"
    # the builds are kept between runs (one per version), like the role's own build directory
    playbook.write_text(PLAYBOOK.format(REPO=REPO, build=os.path.join(REPO, ".build/test-hook-versions"), tmp=tmp_path))
    yield inventory, playbook
    for process in processes:
        process.kill()
        process.wait()


def run(inventory, playbook, *args):
    return subprocess.run(["ansible-playbook", "-i", str(inventory), str(playbook), *args],
                          capture_output=True, text=True, timeout=1800, check=False, cwd=REPO)


def test_each_agent_gets_the_build_of_its_own_version(agents):
    result = run(*agents)
    assert result.returncode == 0, result.stdout[-3000:]
    libraries = dict(re.findall(r"LIBRARY (a\d) (\S+)", result.stdout))
    assert re.fullmatch(r"libmesos_xfs_quota_hook-mesos1\.11\.0-[0-9a-f]{12}\.so", libraries["a1"])
    assert re.fullmatch(r"libmesos_xfs_quota_hook-mesos1\.10\.0-[0-9a-f]{12}\.so", libraries["a2"])


def test_a_library_for_another_version_than_the_running_agents_stops_the_role(agents):
    result = run(*agents, "--limit", "a1", "-e", "hook_mesos_version=1.10.0")
    assert result.returncode != 0
    assert ("Minimum supported mesos version for 'Hook' is 1.11.0, but module is compiled with version 1.10.0"
            in result.stdout), result.stdout[-3000:]
    assert "LIBRARY a1" not in result.stdout
