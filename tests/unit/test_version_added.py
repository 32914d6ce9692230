"""`version_added` says which release first shipped a plugin, role, entry point or option.

What 0.1.0 shipped is what its release notes announced (changelogs/changelog.yaml) with the
options those plugins and roles had then (below, read from the 0.1.0 release commit). Everything
else in the tree is new in the version galaxy.yml names, and antsibull-changelog announces a new
plugin or role only when its `version_added` equals the release's version.
"""

from __future__ import annotations

import ast
import glob
import os

import pytest
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))

# The options each plugin and role entry point had in 0.1.0 (`git show 87d3602:<file>`).
OPTIONS_0_1_0 = {
    "filter/project_id_conflicts": ["_input", "used"],
    "module/mesos_module_info": ["library", "module", "kind", "agent_version"],
    "module/xfs_mount": ["path", "src", "state", "project", "user", "group", "unmount", "when_busy", "fstab",
                         "grub_defaults"],
    "module/xfs_project": ["name", "id", "state", "paths", "recursive", "clear_ids"],
    "module/xfs_project_quota": ["name", "id", "path", "mountpoint", "state", "projects", "projects.name",
                                 "projects.id", "projects.path", "projects.mountpoint", "projects.bsoft",
                                 "projects.bhard", "projects.isoft", "projects.ihard", "projects.rtbsoft",
                                 "projects.rtbhard", "projects.state"],
    "module/xfs_quota_info": ["mountpoint", "ids", "names", "paths", "include_empty"],
    "role/agent:main": ["agent_service", "agent_modules_file", "agent_flags_style", "agent_flags_dir",
                        "agent_hook_library", "agent_hook_module", "agent_work_dir", "agent_hook_parameters",
                        "agent_other_hooks", "agent_http", "agent_verify_retries", "agent_verify_delay"],
    "role/hook:main": ["hook_mesos_version", "hook_mesos_root", "hook_api", "hook_build_host", "hook_build_dir",
                       "hook_install_build_deps", "hook_build_packages", "hook_artifacts_dir", "hook_install_dir"],
    "role/xfs:main": ["xfs_mountpoint", "xfs_device", "xfs_format", "xfs_project_quota", "xfs_unmount",
                      "xfs_when_busy", "xfs_id_ranges", "xfs_projid_file"],
}


def _load(path):
    with open(path, encoding="utf-8") as stream:
        return yaml.safe_load(stream)


VERSION = str(_load(os.path.join(REPO, "galaxy.yml"))["version"])
RELEASES = _load(os.path.join(REPO, "changelogs/changelog.yaml"))["releases"]


def _announced_in(release):
    """Names (kind/name) a release of changelog.yaml announced."""
    data = RELEASES.get(release) or {}
    names = {f"module/{m['name']}" for m in data.get("modules", [])}
    for kind, entries in (data.get("plugins") or {}).items():
        names |= {f"{kind}/{e['name']}" for e in entries}
    for kind, entries in (data.get("objects") or {}).items():
        names |= {f"{kind}/{e['name']}" for e in entries}
    return names


ANNOUNCED_0_1_0 = _announced_in("0.1.0")


def _documentation(path):
    for node in ast.parse(open(path, encoding="utf-8").read()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
            return yaml.safe_load(node.value.value)
    raise AssertionError(f"{path} has no DOCUMENTATION")


def _options(options, prefix=""):
    for name, spec in (options or {}).items():
        yield prefix + name, spec or {}
        yield from _options((spec or {}).get("suboptions"), f"{prefix}{name}.")


def _documented():
    """(key, version_added, {option: spec}) of every plugin and role entry point in the tree."""
    found = []
    for kind, folder in (("module", "modules"), ("filter", "filter")):
        for path in sorted(glob.glob(os.path.join(REPO, "plugins", folder, "[!_]*.py"))):  # _name: private, undocumented
            doc = _documentation(path)
            name = doc.get("module") or doc.get("name")
            found.append((f"{kind}/{name}", doc.get("version_added"), dict(_options(doc.get("options")))))
    for path in sorted(glob.glob(os.path.join(REPO, "roles/*/meta/argument_specs.yml"))):
        role = path.split(os.sep)[-3]
        for entry, spec in _load(path)["argument_specs"].items():
            found.append((f"role/{role}:{entry}", spec.get("version_added"), dict(_options(spec.get("options")))))
    return found


DOCUMENTED = _documented()


def test_the_release_is_newer_than_0_1_0():
    assert VERSION != "0.1.0" and "0.1.0" in RELEASES


@pytest.mark.parametrize("key, version_added, options", DOCUMENTED, ids=[d[0] for d in DOCUMENTED])
def test_version_added_names_the_release_that_first_shipped_it(key, version_added, options):
    name, entry = (key.split(":") + [""])[:2]
    shipped_in_0_1_0 = name in ANNOUNCED_0_1_0 and (entry in ("", "main") or key in OPTIONS_0_1_0)
    assert str(version_added) == ("0.1.0" if shipped_in_0_1_0 else VERSION), (
        f"{key}: version_added {version_added}, but {'0.1.0 announced it' if shipped_in_0_1_0 else 'it is new'}")
    if not shipped_in_0_1_0:
        return  # its options came with it
    old = OPTIONS_0_1_0[key]
    for option, spec in options.items():
        expected = None if option in old else VERSION
        assert (str(spec["version_added"]) if "version_added" in spec else None) == expected, (
            f"{key} option {option}: version_added {spec.get('version_added')}, expected {expected}")


def test_0_1_0_options_are_all_known():
    """Every plugin or role that 0.1.0 announced has its 0.1.0 options listed above."""
    keys = {key.partition(":")[0] for key in OPTIONS_0_1_0}
    assert {name for name in ANNOUNCED_0_1_0 if not name.startswith("playbook/")} <= keys | {"filter/project_id_conflicts"}
