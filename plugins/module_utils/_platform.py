# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What differs between the distributions Mesos agents run on: package names, command names, and
which systemd unit the agent is.

The roles name what they need ("c++ compiler", "cmake", ...); this table turns that into the host's
package names by ``ansible_facts.os_family`` (Debian: Debian and Ubuntu; RedHat: RHEL, CentOS,
Rocky, Alma; Suse), with (family, major version) entries for the exceptions, which win. Only the
Debian rows run in this collection's tests (Debian 11 and 12 VMs); the others are table-tested.
"""

from __future__ import annotations

# (family, major version) entries may override the family's. EL 7 is not among the hook's targets
# (it needs glibc 2.28 for statx).
PACKAGES: dict[str, dict[object, str]] = {
    "c++ compiler": {"Debian": "g++", "RedHat": "gcc-c++", "Suse": "gcc-c++"},
    "make": {"Debian": "make", "RedHat": "make", "Suse": "make"},
    "cmake": {"Debian": "cmake", "RedHat": "cmake", "Suse": "cmake"},
    "pkg-config": {"Debian": "pkg-config", "RedHat": "pkgconfig", "Suse": "pkg-config"},
    "xfsprogs": {"Debian": "xfsprogs", "RedHat": "xfsprogs", "Suse": "xfsprogs"},
}
# The agent's unit: `mesos-agent` (Apache's naming since 1.0, newer packages), `mesos-slave`
# (Mesosphere's packages, with mesos-init-wrapper).
AGENT_UNITS = ("mesos-agent", "mesos-slave")


class PlatformError(ValueError):
    pass


def _family_of(facts: dict) -> tuple[str, str]:
    family = facts.get("os_family") or facts.get("ansible_os_family") or ""
    major = str(facts.get("distribution_major_version") or facts.get("ansible_distribution_major_version") or "")
    return family, major


def _choose(table: dict[object, str], family: str, major: str) -> str | None:
    return table.get((family, major), table.get(family))


def package_names(needs: list[str], facts: dict, param: str = "packages") -> list[str]:
    """The host's package names for ``needs`` (logical names of PACKAGES); unknown ones fail."""
    family, major = _family_of(facts)
    names = []
    for need in needs:
        if need not in PACKAGES:
            raise PlatformError(f"{param}: '{need}' is not one of {', '.join(sorted(PACKAGES))}")
        name = _choose(PACKAGES[need], family, major)
        if name is None:
            raise PlatformError(
                f"{param}: no package name for '{need}' on os_family '{family or 'unknown'}' "
                f"(known: {', '.join(sorted(k for k in PACKAGES[need] if isinstance(k, str)))}); "
                f"install it yourself and turn the role's package installation off")
        names.append(name)
    return names


def agent_unit(systemctl_show: str, candidates: tuple[str, ...] | list[str] = AGENT_UNITS) -> str:
    """The first of ``candidates`` that systemd has a unit file for, from the output of
    ``systemctl show --property=Id,LoadState CANDIDATE...`` (one block per unit, in order)."""
    loaded = set()
    for block in systemctl_show.strip().split("\n\n"):
        props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        unit = props.get("Id", "")
        if props.get("LoadState") == "loaded" and unit:
            loaded.add(unit[:-len(".service")] if unit.endswith(".service") else unit)
    for unit in candidates:
        if unit in loaded:
            return unit
    raise PlatformError(
        f"agent_service: none of the units {', '.join(candidates)} exists on this host; "
        f"set agent_service to the agent's systemd service")
