"""The metrics role installs the exporter with the module_utils it imports, listed by name in
roles/metrics/tasks/install.yml: the list must hold every module_utils the exporter imports,
directly or not, or the exporter fails on the agent with an ImportError."""

from __future__ import annotations

import ast
import os
import re

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../../../.."))
PREFIX = "ansible_collections.mesos.xfs_quota.plugins.module_utils."


def imported_module_utils(name, seen=None):
    seen = set() if seen is None else seen
    if name in seen:
        return seen
    seen.add(name)
    with open(os.path.join(REPO, "plugins/module_utils", name), encoding="utf-8") as stream:
        tree = ast.parse(stream.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PREFIX):
            imported_module_utils(node.module[len(PREFIX):] + ".py", seen)
    return seen


def installed_module_utils():
    with open(os.path.join(REPO, "roles/metrics/tasks/install.yml"), encoding="utf-8") as stream:
        tasks = yaml.safe_load(stream)
    for task in tasks:
        src = (task.get("ansible.builtin.copy") or {}).get("src", "")
        if "plugins/module_utils" in src:
            return set(task["loop"])
    raise AssertionError("install.yml copies no module_utils")


def test_the_exporter_gets_every_module_utils_it_imports():
    with open(os.path.join(REPO, "roles/metrics/files/mesos-xfs-quota-metrics"), encoding="utf-8") as stream:
        entry = re.search(r"module_utils\.(_\w+) import main", stream.read()).group(1) + ".py"
    needed = imported_module_utils(entry)
    assert len(needed) > 3
    assert needed <= installed_module_utils(), f"install.yml misses {sorted(needed - installed_module_utils())}"
