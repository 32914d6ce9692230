"""The mesos_agent_* modules and mesos_module_info: every documented option is in the argument spec
and the other way round (a missing one fails a play with 'Unsupported parameters')."""
from __future__ import annotations

import ast
import importlib
import os

import pytest
import yaml

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_args import AGENT_ARGS

MODULES = ["mesos_agent_info", "mesos_agent_hook", "mesos_agent_wait", "mesos_module_info"]
FRAGMENT = yaml.safe_load(importlib.import_module(
    "ansible_collections.mesos.xfs_quota.plugins.doc_fragments.mesos_agent").ModuleDocFragment.DOCUMENTATION)["options"]


def spec_of(name):
    source = open(os.path.join(os.path.dirname(__file__), "../../../../plugins/modules", f"{name}.py"), encoding="utf-8").read()
    doc = yaml.safe_load(next(n.value.value for n in ast.parse(source).body
                              if isinstance(n, ast.Assign) and n.targets[0].id == "DOCUMENTATION"))
    options = dict(doc["options"])
    if "mesos.xfs_quota.mesos_agent" in doc.get("extends_documentation_fragment", []):
        options.update(FRAGMENT)
    call = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "AnsibleModule")
    spec = next(k.value for k in call.keywords if k.arg == "argument_spec")
    names = {k.arg for k in spec.keywords if k.arg}
    if any(k.arg is None for k in spec.keywords) or any(isinstance(a, ast.Name) and a.id == "AGENT_ARGS" for a in spec.args):
        names |= set(AGENT_ARGS)
    return set(options), names


@pytest.mark.parametrize("name", MODULES)
def test_documented_options_are_the_argument_spec(name):
    documented, accepted = spec_of(name)
    assert documented == accepted


def test_a_rolled_back_change_reports_its_backup_and_that_it_changed_things():
    # the roll-back's details carry the backup the result already has a key for: one result, no TypeError
    from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_change import AgentChangeError
    from ansible_collections.mesos.xfs_quota.plugins.modules.mesos_agent_hook import failure_result

    read = {"changed": False, "files": [], "restarted": False, "backup": "", "service": "mesos-agent"}
    exc = AgentChangeError("rolled back", changed=True, details={"backup": "/var/lib/mesos-xfs-quota/backups/x",
                                                                 "wait": {"ok": False}})
    assert failure_result(read, exc) == {"changed": True, "files": [], "restarted": False, "service": "mesos-agent",
                                         "backup": "/var/lib/mesos-xfs-quota/backups/x", "wait": {"ok": False}}


def test_a_purge_takes_the_services_backups_and_the_lock_file_of_its_changes(tmp_path):
    """An uninstall's purge leaves nothing of this service in the state directory: its backups and the
    lock file beside the backup directory (mesos_agent_hook's own rule for where it is)."""
    module = importlib.import_module("ansible_collections.mesos.xfs_quota.plugins.modules.mesos_agent_hook")
    backups = tmp_path / "backups"
    (backups / "mesos-agent" / "20261208T000000Z").mkdir(parents=True)
    (backups / "other-agent").mkdir()
    (tmp_path / "mesos-agent.lock").touch()
    (tmp_path / "other-agent.lock").touch()
    assert module._purge_backups(str(backups), "mesos-agent")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backups", "other-agent.lock"]
    assert [p.name for p in backups.iterdir()] == ["other-agent"]
    assert not module._purge_backups(str(backups), "mesos-agent")
