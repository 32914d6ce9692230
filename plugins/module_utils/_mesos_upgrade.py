# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The plan of ``playbooks/upgrade_mesos.yml``: is the target a Mesos version, which packages its
specs name, and what puts them back (the versions ``package_facts`` read before the change)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

# What stout's Version::parse takes, in the form Mesos releases carry (1.11.0, 1.11.0-rc1)
_VERSION = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+(?:[-+][0-9A-Za-z.-]+)?")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9+._-]*")
# apt's name=version, name=version*; dnf's "name >= version"
_SPLIT = re.compile(r"\s*(?:=|<|>|!|~)")


class UpgradeError(ValueError):
    """Input the upgrade cannot go on with; the message names the variable and the fix."""


@dataclass
class UpgradePlan:
    version: str
    names: list[str] = field(default_factory=list)
    # the package versions before the change ("" for a package that was not installed)
    before: dict[str, str] = field(default_factory=dict)
    # what the roll-back installs (the versions before) and removes (packages that were not there)
    install: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)


def check_version(value: Any, param: str = "mesos_upgrade_version") -> str:
    """The Mesos version to upgrade to, as text, or an error naming ``param`` and the fix."""
    if value is None or value == "":
        raise UpgradeError(f"{param} is required: the Mesos version to upgrade the agents to, for example "
                           f"-e {param}=1.11.0")
    if not isinstance(value, str):
        # an unquoted 1.10 in YAML is the number 1.1: another release
        kind = "a number" if isinstance(value, (int, float)) and not isinstance(value, bool) else "not text"
        raise UpgradeError(f"{param}: {value!r} is {kind}, not a Mesos version: give it as text (quoted in YAML) "
                           f"with three parts, for example {param}='1.11.0'")
    if not _VERSION.fullmatch(value.strip()):
        raise UpgradeError(f"{param}: {value!r} is not a Mesos version (MAJOR.MINOR.PATCH, as the agent's /version "
                           f"says it, for example 1.11.0)")
    return value.strip()


def package_name(spec: str, installed: dict[str, Any]) -> str:
    """The package a spec names: apt's ``name=version``, ``name>=version``, or dnf's ``name-version``
    (an installed package whose name is followed by ``-`` and a digit)."""
    if spec in installed:
        return spec
    name = _SPLIT.split(spec, maxsplit=1)[0].strip()
    if name != spec:
        return name
    prefixes = [n for n in installed if re.match(re.escape(n) + r"-[0-9]", spec)]
    return max(prefixes, key=len) if prefixes else spec


def _installed_spec(name: str, entry: dict[str, Any]) -> str:
    """How the package manager that reported ``entry`` (package_facts) installs that version again."""
    version = str(entry.get("version", ""))
    if entry.get("source") == "rpm":
        epoch = f"{entry['epoch']}:" if entry.get("epoch") not in (None, "", 0, "0") else ""
        release = f"-{entry['release']}" if entry.get("release") else ""
        return f"{name}-{epoch}{version}{release}"
    return f"{name}={version}"


def plan(version: Any, specs: Any, installed: dict[str, Any] | None = None,
         param: str = "mesos_upgrade_packages") -> UpgradePlan:
    """The checked target and, from ``installed`` (ansible_facts.packages), what the roll-back does."""
    out = UpgradePlan(version=check_version(version))
    if not isinstance(specs, list) or not specs or not all(isinstance(s, str) and s.strip() for s in specs):
        raise UpgradeError(f"{param}: {specs!r} is not a list of package specs: give the packages that install "
                           f"the new Mesos, for example [\"mesos={out.version}*\"]")
    installed = installed or {}
    for spec in specs:
        name = package_name(spec.strip(), installed)
        if not _NAME.fullmatch(name):
            raise UpgradeError(f"{param}: {spec!r} names no package (give name, name=version or name-version)")
        if name in out.names:
            continue
        out.names.append(name)
        entries = installed.get(name) or []
        if entries:
            entry = entries[0]
            out.before[name] = str(entry.get("version", ""))
            out.install.append(_installed_spec(name, entry))
        else:
            out.before[name] = ""
            out.remove.append(name)
    return out


def plan_dict(version: Any, specs: Any, installed: dict[str, Any] | None = None) -> dict[str, Any]:
    """The plan for a playbook: its fields, and ``problem`` (the error's text, "" when there is none)."""
    try:
        return {"problem": "", **asdict(plan(version, specs, installed))}
    except UpgradeError as exc:
        return {"problem": str(exc), "version": "", "names": [], "before": {}, "install": [], "remove": []}
