# -*- coding: utf-8 -*-
# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether Mesos's linux/seccomp isolator can guard this agent's Mesos-containerizer tasks with the
collection's profile (a task that may change its files' project id writes without limit).

Decided from the agent binary's --help (whether its build has the isolator: /flags shows only flags
that have a value, src/slave/http.cpp Http::_flags), its /flags (what it runs with), its version and the
kernel's last capability. Never a guess: what cannot be read leaves the isolator off, with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

ISOLATOR = "linux/seccomp"
MODES = ("auto", "on", "off")
# capabilities.cpp of every released Mesos knows capabilities up to CAP_AUDIT_READ (37); with the
# kernel's CAP_PERFMON (38, Linux 5.8) its Mesos-containerizer launcher reaches UNREACHABLE and
# aborts each executor under this isolator (MESOS-10203, fixed on master after 1.11.0, in no release).
FIRST_UNKNOWN_CAPABILITY = 38
FIRST_RELEASE_WITH_FIX = (1, 12, 0)
CAP_LAST_CAP = "/proc/sys/kernel/cap_last_cap"


def read_cap_last_cap(read: Callable[[str, int], str | None]) -> str | None:
    """The kernel's last capability. A small read: a sysctl file refuses a read of more than the kernel
    will allocate (ENOMEM for 4 MiB on Linux 6.x)."""
    return read(CAP_LAST_CAP, 64)


@dataclass(frozen=True)
class SeccompIsolator:
    """``enable``: the role adds the isolator and the profile; ``reason``: why, in an operator's words;
    ``ours_in_use``: the agent runs the isolator with our profile now (what a run that does not enable it
    takes out again: after a kernel upgrade to 5.8 every Mesos-containerizer executor would abort)."""

    enable: bool
    reason: str
    ours_in_use: bool = False

    def as_result(self) -> dict[str, Any]:
        return {"enable": self.enable, "reason": self.reason, "ours_in_use": self.ours_in_use}


class SeccompIsolatorError(Exception):
    """``on`` asked of an agent that cannot start with the isolator: nothing was changed."""


def _numbers(version: str) -> tuple[int, ...] | None:
    match = re.match(r"^(\d+)\.(\d+)(?:\.(\d+))?", version or "")
    return tuple(int(n or 0) for n in match.groups()) if match else None


def built_with_isolator(help_text: str | None) -> bool | None:
    """Whether the agent's build has the isolator: its flags exist only then (src/slave/flags.cpp,
    ENABLE_SECCOMP_ISOLATOR); None when its --help could not be read."""
    return None if help_text is None else "--seccomp_config_dir=" in help_text


def _refused(flags: Mapping[str, str], built: bool, version: str, profile_name: str) -> str:
    """Why the isolator must not be turned on even when asked (on), or ''."""
    if not built:
        return (f"Mesos {version or '(version unknown)'} here was built without the {ISOLATOR} isolator (its --help "
                "has no --seccomp_config_dir; the isolator exists from Mesos 1.8.0 on, built with "
                "--enable-seccomp-isolator)")
    theirs = flags.get("seccomp_profile_name", "")
    if ISOLATOR in flags.get("isolation", "").split(",") and theirs and theirs != profile_name:
        return (f"the agent already runs {ISOLATOR} with its own default profile {theirs!r}; add the collection's "
                "rules to that profile (module seccomp_profile, runtime mesos, base_path) instead")
    return ""


def _cannot(flags: Mapping[str, str] | None, built: bool | None, version: str, cap_last_cap: str | None,
            profile_name: str) -> str:
    """Why the isolator is not turned on by default here, or ''."""
    if flags is None:
        return "the agent's /flags could not be read, so what it runs with is unknown"
    if built is None:
        return "the agent's binary could not be asked for its --help, so whether its Mesos has the isolator is unknown"
    if "mesos" not in [c.strip() for c in flags.get("containerizers", "mesos").split(",")]:
        return (f"the agent runs no Mesos containerizer (--containerizers={flags.get('containerizers')}); Docker "
                "tasks get Docker's profile (the docker_storage role)")
    refused = _refused(flags, built, version, profile_name)
    if refused:
        return refused
    try:
        last = int((cap_last_cap or "").strip())
    except ValueError:
        return f"the kernel's {CAP_LAST_CAP} could not be read"
    numbers = _numbers(version)
    if last >= FIRST_UNKNOWN_CAPABILITY and (numbers is None or numbers < FIRST_RELEASE_WITH_FIX):
        return (f"Mesos {version or '(version unknown)'} aborts every Mesos-containerizer executor under {ISOLATOR} "
                f"on this kernel (cap_last_cap {last}: Linux 5.8 or later; MESOS-10203, fixed in no release)")
    return ""


def seccomp_isolator(mode: str, flags: Mapping[str, str] | None, help_text: str | None, version: str,
                     cap_last_cap: str | None, profile_name: str) -> SeccompIsolator:
    """The decision for ``mode`` (auto: on where it works; on: on unless the agent's build lacks the
    isolator, e.g. for a Mesos patched for MESOS-10203; off)."""
    if mode not in MODES:
        raise SeccompIsolatorError(f"seccomp_isolator: {mode!r} is not one of {', '.join(MODES)}")
    ours = (flags is not None and ISOLATOR in flags.get("isolation", "").split(",")
            and flags.get("seccomp_profile_name") == profile_name)
    if mode == "off":
        return SeccompIsolator(False, "turned off (seccomp_isolator: off)", ours)
    built = built_with_isolator(help_text)
    cannot = _cannot(flags, built, version, cap_last_cap, profile_name)
    if not cannot:
        return SeccompIsolator(True, f"Mesos {version} has the {ISOLATOR} isolator and works with it on this kernel", ours)
    if mode == "auto":
        return SeccompIsolator(False, cannot, ours)
    if flags is not None and built is not None and _refused(flags, built, version, profile_name):
        raise SeccompIsolatorError(f"seccomp_isolator: on, but {cannot}. Use auto or off. Nothing was changed.")
    return SeccompIsolator(True, f"turned on (seccomp_isolator: on) although {cannot}", ours)
