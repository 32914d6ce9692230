# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The decisions of ``xfs_mount``: fstab, the running mount, busy mounts and the root's rootflags=.

XFS cannot switch quota with ``mount -o remount`` (it succeeds and changes nothing), so a running
mount that differs is unmounted and mounted again, when allowed and not busy. Whether it is busy is
decided before anything changes, the same way in check mode and in a real run (:func:`mount_users`):
processes with a cwd, root, open file or mapping on the file system, mounts below it, swap files
and loop devices on it, and other mounts of the same device. What the probe cannot see (a kernel
reference such as an NFS export) still makes ``umount`` fail, which is reported the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Protocol

from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import atomic_write, read_text
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mount_options import (
    Fstab, describe, grub_with_rootflags, modes_of_state, rootflags_of, with_quota)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import Mount, XfsFilesystem, parse_mountinfo


class MountError(Exception):
    """What stops the task, with a message naming the parameter and the fix; nothing was changed."""


@dataclass(frozen=True)
class MountRequest:
    path: str
    src: str | None = None
    state: str = "mounted"
    wanted: dict | None = None  # kind -> mode, only the kinds given
    unmount: bool = True
    when_busy: str = "fail"
    fstab: str = "/etc/fstab"
    grub_defaults: str = "/etc/default/grub"
    hide_existing_content: bool = False


class Host(Protocol):
    """What the module lends the decisions: commands, warnings, check mode."""

    check_mode: bool

    def run(self, argv: list[str]) -> tuple[int, str]:
        """Run ``argv``; (rc, stderr or stdout)."""

    def warn(self, msg: str) -> None:
        """A warning for the operator."""

    def which(self, name: str) -> str | None:
        """The path of a command, or None."""


# --- who uses a mount (or a directory), read from /proc without changing anything ------------------
def _device_number(mount: Mount) -> int:
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


# --- the boot loader, for rootflags= on / ------------------------------------------------------------
def boot_config_commands(which: Callable[[str], str | None], bls: bool, rootflags: str | None) -> list[list[str]]:
    """The commands that make the boot loader pass GRUB_CMDLINE_LINUX's new rootflags= (after the write).

    * BLS entries (``/boot/loader/entries``, EL 8+ and Fedora) with ``grubby``: the entries carry
      their own kernel arguments, so grubby edits every entry (and the defaults serve new kernels);
    * ``update-grub`` (Debian, Ubuntu) regenerates grub.cfg from the defaults;
    * ``grubby`` without BLS (EL 7) edits grub.cfg's entries;
    * ``grub2-mkconfig`` otherwise (EL without grubby, SUSE).
    An empty list: nothing found, the operator regenerates by hand.
    """
    grubby, update_grub, mkconfig = which("grubby"), which("update-grub"), which("grub2-mkconfig")
    if grubby and (bls or not update_grub):
        commands = [[grubby, "--update-kernel=ALL", "--remove-args=rootflags"]]
        if rootflags:
            commands.append([grubby, "--update-kernel=ALL", f"--args=rootflags={rootflags}"])
        return commands
    if update_grub:
        return [[update_grub]]
    if mkconfig:
        return [[mkconfig, "-o", "/boot/grub2/grub.cfg"]]
    return []


def live_mount(path: str, mounts: list[Mount]) -> Mount | None:
    """The mount on exactly ``path`` (the last one, which is what is visible)."""
    found = [m for m in mounts if m.mountpoint == path]
    return found[-1] if found else None


class XfsMount:
    """Make fstab and the running mount of ``request.path`` carry the wanted quota modes."""

    def __init__(self, request: MountRequest, host: Host, kernel, proc: str = "/proc",
                 sys_block: str = "/sys/block", boot_entries: str = "/boot/loader/entries") -> None:
        self.req = request
        self.host = host
        self.kernel = kernel
        self.proc, self.sys_block, self.boot_entries = proc, sys_block, boot_entries
        self.path = os.path.realpath(request.path) if os.path.exists(request.path) else request.path.rstrip("/") or "/"
        self.wanted = dict(request.wanted or {})
        self.result: dict = {"changed": False, "remounted": False, "reboot_required": False,
                             "fstab_changed": False, "grub_changed": False}
        self.diff: list[dict[str, str]] = []

    def modes(self, path: str, mounts: list[Mount]) -> dict[str, str]:
        return modes_of_state(XfsFilesystem(path, self.kernel, mounts).quota_state())

    def differs(self, modes: dict[str, str]) -> bool:
        return any(modes[k] != v for k, v in self.wanted.items())

    def apply(self) -> dict:
        """Decide and (unless check mode) act; the module's result. MountError: nothing changed."""
        mounts = parse_mountinfo(self.kernel.read_mountinfo())
        live = live_mount(self.path, mounts)
        if live is not None and live.fstype != "xfs":
            raise MountError(f"path: {self.path} is mounted as {live.fstype}, not XFS; quota options here are for XFS")
        fstab_text = read_text(self.req.fstab, "fstab")
        fstab = Fstab(fstab_text)
        entry = fstab.entry(self.path)
        if entry is not None:
            if entry.fstype not in ("xfs", "auto"):
                raise MountError(f"path: {self.path} is a {entry.fstype} file system in {self.req.fstab}, not XFS")
            fstab.set_options(entry, with_quota(entry.options, self.wanted))
            options, source = entry.options, entry.source
        else:
            source = self.req.src or (live.source if live else None)
            if source is None:
                raise MountError(f"src: {self.path} is neither in {self.req.fstab} nor mounted; give src (the device) to add it")
            options = with_quota([], self.wanted)
            fstab.add(source, self.path, options)
        self.result["options"] = options
        self.result["fstab_changed"] = fstab.text() != fstab_text
        if self.result["fstab_changed"]:
            self.diff.append({"before_header": self.req.fstab, "before": fstab_text,
                              "after_header": self.req.fstab, "after": fstab.text()})

        if self.path == "/":
            self.root_flags(live, mounts)
        elif live is None:
            if self.req.state == "mounted":
                self.mount(source, options, before=None)
        else:
            self.apply_live(live, options, mounts)

        if self.result["fstab_changed"] and not self.host.check_mode:
            atomic_write(self.req.fstab, fstab.text(), param="fstab")
        self.result["changed"] = any(self.result[k] for k in ("remounted", "fstab_changed", "grub_changed"))
        if self.diff:
            self.result["diff"] = self.diff
        return self.result

    # --- the running mount ---------------------------------------------------------------------
    def apply_live(self, live: Mount, options: list[str], mounts: list[Mount]) -> None:
        before = self.modes(self.path, mounts)
        self.result["quota"] = before
        if not self.differs(before):
            return
        if self.req.state == "present" or not self.req.unmount:
            self.result["reboot_required"] = True
            return
        if self.busy_because(live, mounts):
            return
        if self.host.check_mode:
            self.result["remounted"] = True
            self.diff.append(self.quota_diff(before, {**before, **self.wanted}))
            return
        rc, msg = self.host.run(["umount", self.path])
        if rc != 0:
            if "busy" not in msg:
                raise MountError(f"path: umount {self.path} failed: {msg}")
            self.busy(msg)
            return
        self.mount(live.source, options, before)

    def busy_because(self, live: Mount, mounts: list[Mount]) -> bool:
        """Whether the mount cannot be unmounted now (then handled per when_busy); reads only."""
        others = [m.mountpoint for m in mounts if m.device == live.device and m is not live]
        if others:
            self.busy(f"the file system is also mounted at {', '.join(others)}, so unmounting "
                      f"{self.path} would not reload its options")
            return True
        prefix = self.path.rstrip("/") + "/"
        reasons = [f"{m.mountpoint} is mounted below it" for m in mounts if m.mountpoint.startswith(prefix)]
        reasons += mount_users(self.path, _device_number(live), self.proc)
        reasons += kernel_users(self.path, self.proc, self.sys_block)
        if reasons:
            self.busy("in use: " + "; ".join(reasons[:5]) + ("; ..." if len(reasons) > 5 else ""))
            return True
        return False

    def busy(self, why: str) -> None:
        if self.req.when_busy == "fail":
            raise MountError(f"path: {self.path} cannot be unmounted to change its quota options ({why}); stop what "
                             "uses it, or set when_busy=reboot_required to only write fstab and reboot later")
        self.result["reboot_required"] = True
        self.host.warn(f"{self.path} is busy ({why}); fstab is updated, the quota options apply after a reboot")

    def refuse_to_hide(self) -> None:
        """Never mount over a directory that holds data or that a process uses (a running agent's work_dir)."""
        if self.req.hide_existing_content or not os.path.isdir(self.path):
            return
        names = sorted(os.listdir(self.path))
        users = mount_users(self.path, None, self.proc)
        if not names and not users:
            return
        what = []
        if names:
            shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
            what.append(f"it holds {len(names)} entries ({shown})")
        if users:
            what.append("in use by " + "; ".join(users[:5]))
        # Mesos 1.11.0 Slave::recover (src/slave/slave.cpp) compares the checkpointed SlaveInfo, disk
        # included, under --reconfiguration_policy=equal (src/slave/compatibility.cpp equal)
        raise MountError(
            f"path: {self.path} is not empty ({'; '.join(what)}); mounting the file system there would hide "
            "that content (a running Mesos agent would lose its checkpoints and sandboxes from view). Stop the "
            "agent, move the data onto the new file system (mount it elsewhere, copy, then mount it here; an "
            "agent whose disk changes with the move refuses to recover its checkpoint, 'Incompatible agent info', "
            "until you remove <work_dir>/meta/slaves/latest, and then registers as a new agent), "
            "or set hide_existing_content=true to mount over it anyway")

    def mount(self, source: str, options: list[str], before: dict[str, str] | None) -> None:
        if before is None:  # a new mount here, not the same file system again
            self.refuse_to_hide()
        self.result["remounted"] = True
        if self.host.check_mode:
            return
        if not os.path.isdir(self.path):
            os.makedirs(self.path, mode=0o755)
        rc, msg = self.host.run(["mount", "-t", "xfs", "-o", ",".join(options), source, self.path])
        if rc != 0:
            if before is not None:  # put the old mount back before failing
                self.host.run(["mount", "-t", "xfs", "-o", ",".join(with_quota(options, before)), source, self.path])
            raise MountError(f"path: mount -t xfs -o {','.join(options)} {source} {self.path} failed: {msg}")
        after = self.modes(self.path, parse_mountinfo(self.kernel.read_mountinfo()))
        self.result["quota"] = after
        if self.differs(after):
            raise MountError(f"path: {self.path} was mounted with {','.join(options)} but the kernel reports "
                             f"{describe(after).strip()}; is quota support compiled into this kernel?")
        if before is not None:
            self.diff.append(self.quota_diff(before, after))

    def quota_diff(self, before: dict[str, str], after: dict[str, str]) -> dict[str, str]:
        header = f"quota state of {self.path}"
        return {"before_header": header, "before": describe(before), "after_header": header, "after": describe(after)}

    # --- the root file system ------------------------------------------------------------------
    def root_flags(self, live: Mount | None, mounts: list[Mount]) -> None:
        if live is None or live.fstype != "xfs":
            raise MountError("path: / is not XFS; rootflags= quota options apply to an XFS root only")
        before = self.modes("/", mounts)
        self.result["quota"] = before
        path = self.req.grub_defaults
        text = read_text(path, "grub_defaults")
        new = grub_with_rootflags(text, self.wanted)
        self.result["grub_changed"] = new != text
        self.result["reboot_required"] = self.differs(before)
        if not self.result["grub_changed"]:
            return
        self.diff.append({"before_header": path, "before": text, "after_header": path, "after": new})
        bls = os.path.isdir(self.boot_entries) and bool(os.listdir(self.boot_entries))
        commands = boot_config_commands(self.host.which, bls, rootflags_of(new))
        self.result["boot_loader_commands"] = commands
        if self.host.check_mode:
            return
        atomic_write(path, new, param="grub_defaults")
        if not commands:
            self.host.warn(f"{path} now sets rootflags=; regenerate the boot loader configuration "
                           "(none of grubby, update-grub, grub2-mkconfig found)")
        for argv in commands:
            rc, msg = self.host.run(argv)
            if rc != 0:
                raise MountError(f"grub_defaults: {path} was written but {' '.join(argv)} failed: {msg}")
