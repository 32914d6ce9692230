# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Who uses a mount (or a directory), read from /proc and /sys without changing anything: the probe
``xfs_mount`` asks before it unmounts, in check mode as in a real run."""

from __future__ import annotations

import os

from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import Mount


def device_number(mount: Mount) -> int:
    """The ``st_dev`` of a mount's file system."""
    major, minor = mount.device.split(":")
    return os.makedev(int(major), int(minor))


def mount_users(path: str, device: int | None, proc: str = "/proc") -> list[str]:
    """Processes using the file system ``device`` (or, when None, anything at or below ``path``).

    Each as "pid N (comm): what": its cwd, root, executable, open files and mapped files.
    """
    prefix = path.rstrip("/") + "/"

    def on_target(link: str) -> bool:
        if device is not None:
            try:
                return os.stat(link).st_dev == device
            except OSError:
                return False
        try:
            target = os.readlink(link)
        except OSError:
            return False
        return target == path or target.startswith(prefix)

    users = []
    for pid in (name for name in os.listdir(proc) if name.isdigit()):
        base = f"{proc}/{pid}"
        found = [what for what in ("cwd", "root", "exe") if on_target(f"{base}/{what}")]
        try:
            fds = os.listdir(f"{base}/fd")
        except OSError:  # gone, or not ours to read
            fds = []
        found += [f"fd {fd}" for fd in fds if on_target(f"{base}/fd/{fd}")]
        found += _mapped(f"{base}/maps", path, prefix, device)
        if found:
            try:
                with open(f"{base}/comm", encoding="utf-8", errors="replace") as f:
                    comm = f.read().strip()
            except OSError:
                comm = "?"
            users.append(f"pid {pid} ({comm}): {', '.join(found)}")
    return users


def _mapped(maps: str, path: str, prefix: str, device: int | None) -> list[str]:
    try:
        with open(maps, encoding="utf-8", errors="surrogateescape") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    for line in lines:
        fields = line.split(None, 5)
        if len(fields) < 6:
            continue
        if device is not None:
            major, minor = (int(part, 16) for part in fields[3].split(":"))
            hit = fields[4] != "0" and os.makedev(major, minor) == device
        else:
            hit = fields[5] == path or fields[5].startswith(prefix)
        if hit:
            return ["mapped files"]
    return []


def kernel_users(path: str, proc: str = "/proc", sys_block: str = "/sys/block") -> list[str]:
    """Swap files and loop devices whose backing file is at or below ``path``."""
    prefix = path.rstrip("/") + "/"
    found = []
    try:
        with open(f"{proc}/swaps", encoding="utf-8", errors="surrogateescape") as f:
            found += [f"swap file {line.split()[0]}" for line in f.read().splitlines()[1:]
                      if line.split() and line.split()[0].startswith(prefix)]
    except OSError:
        pass
    try:
        loops = [name for name in os.listdir(sys_block) if name.startswith("loop")]
    except OSError:
        loops = []
    for loop in loops:
        try:
            with open(f"{sys_block}/{loop}/loop/backing_file", encoding="utf-8", errors="surrogateescape") as f:
                backing = f.read().strip()
        except OSError:
            continue
        if backing.startswith(prefix):
            found.append(f"/dev/{loop} backed by {backing}")
    return found
