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

Every failure that can be seen without changing anything (a missing or non-XFS device, an fstab
that cannot be rewritten, a loop device that cannot be held) is found before the first change, in
check mode as in a real run. A step that fails after an earlier one changed the host undoes what it
can (the previous mount is put back, loop device included) and the error says what was changed.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from typing import Callable, Protocol

from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import (
    FileError, atomic_write, inode_flags, read_text, write_problem)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mount_options import (
    Fstab, describe, fstab_entry, grub_with_rootflags, modes_of_state, rootflags_of, with_quota)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mount_users import device_number, kernel_users, mount_users
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import Mount, XfsError, XfsFilesystem, parse_mountinfo


class MountError(Exception):
    """What stops the task, with a message naming the parameter and the fix.

    ``result`` is the module's result so far: ``changed`` is true when something had been changed
    before the failure (the message then says what, and what was undone).
    """

    def __init__(self, msg: str, result: dict | None = None) -> None:
        super().__init__(msg)
        self.result = result or {}


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


# --- devices: what a mount's source is, read without changing anything -------------------------------
# mount(8) options that set up a loop device (libmount); the kernel never sees them
LOOP_OPTIONS = ("loop", "offset", "sizelimit", "encryption")
_EXT_MAGIC_OFFSET, _EXT_MAGIC = 1080, b"\x53\xef"  # ext2/3/4 s_magic 0xEF53, little-endian
_PROBE_BYTES = 65536


def is_loop_option(option: str) -> bool:
    return option.split("=", 1)[0] in LOOP_OPTIONS


def file_system_at(path: str, offset: int = 0) -> str | None:
    """What ``path`` (a block device or an image file) holds at ``offset``: ``xfs``, ``ext2/ext3/ext4``,
    ``nothing`` (zeros: a blank device) or ``other``; None when it cannot be read (no permission)."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            head = f.read(_PROBE_BYTES)
    except OSError:
        return None
    if head[:4] == b"XFSB":
        return "xfs"
    if head[_EXT_MAGIC_OFFSET:_EXT_MAGIC_OFFSET + 2] == _EXT_MAGIC:
        return "ext2/ext3/ext4"
    return "nothing" if not head.strip(b"\0") else "other"


@dataclass(frozen=True)
class LoopDevice:
    node: str  # /dev/loopN
    rdev: int
    backing_file: str
    offset: int = 0
    sizelimit: int = 0


def loop_device_of(live: Mount, sys_block: str = "/sys/block") -> LoopDevice | None:
    """The loop device a mount sits on (its sysfs ``loop`` directory), or None."""
    name = os.path.basename(live.source)
    if not live.source.startswith("/dev/loop") or not name.startswith("loop"):
        return None
    base = f"{sys_block}/{name}"

    def read(what: str) -> str | None:
        try:
            with open(f"{base}/{what}", encoding="utf-8", errors="surrogateescape") as f:
                return f.read().strip()
        except OSError:
            return None

    backing = read("loop/backing_file")
    if backing is None or read("dev") != live.device:
        return None
    numbers = [read(f"loop/{what}") or "0" for what in ("offset", "sizelimit")]
    offset, sizelimit = (int(n) if n.isdigit() else 0 for n in numbers)
    return LoopDevice(live.source, device_number(live), backing, offset, sizelimit)


def open_block_device(node: str, rdev: int) -> int:
    """An fd on the block device ``node``, which must be device ``rdev``. Read-only, not exclusive:
    it only keeps the device open (a loop device with autoclear stays bound while it is open)."""
    fd = os.open(node, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    st = os.fstat(fd)
    if not stat.S_ISBLK(st.st_mode) or st.st_rdev != rdev:
        os.close(fd)
        raise OSError(f"{node} is not the device {os.major(rdev)}:{os.minor(rdev)}")
    return fd


def restore_options(live: Mount) -> list[str]:
    """Mount options that mount ``live``'s file system again as it is: its per-mount options, then
    the file system's own as the kernel shows them (rw/ro once)."""
    options: list[str] = []
    for option in live.options + tuple(o for o in live.super_options if o not in ("rw", "ro")):
        if option and option not in options:
            options.append(option)
    return options


@dataclass
class Plan:
    """What a run does, decided before anything changes."""

    new_fstab: str
    source: str | None = None
    options: list[str] = field(default_factory=list)
    action: str | None = None  # "mount", "remount" or None
    before: dict[str, str] | None = None  # quota modes of the live mount
    loop: LoopDevice | None = None
    new_grub: str | None = None
    commands: list[list[str]] = field(default_factory=list)


class XfsMount:
    """Make fstab and the running mount of ``request.path`` carry the wanted quota modes."""

    def __init__(self, request: MountRequest, host: Host, kernel, proc: str = "/proc",
                 sys_block: str = "/sys/block", boot_entries: str = "/boot/loader/entries",
                 open_device: Callable[[str, int], int] | None = None,
                 flags_of: Callable[[str], int | None] | None = None) -> None:
        self.req = request
        self.host = host
        self.kernel = kernel
        self.proc, self.sys_block, self.boot_entries = proc, sys_block, boot_entries
        self.open_device = open_device or open_block_device
        self.flags_of = flags_of or inode_flags
        self.path = os.path.realpath(request.path) if os.path.exists(request.path) else request.path.rstrip("/") or "/"
        self.wanted = dict(request.wanted or {})
        self.result: dict = {"changed": False, "remounted": False, "reboot_required": False,
                             "fstab_changed": False, "grub_changed": False}
        self.diff: list[dict[str, str]] = []
        self.done: list[str] = []  # what a real run changed so far, for the message of a later failure
        self.remounting = False  # the run unmounts a live mount (not only mounts a new one)

    def modes(self, path: str, mounts: list[Mount]) -> dict[str, str]:
        return modes_of_state(XfsFilesystem(path, self.kernel, mounts).quota_state())

    def differs(self, modes: dict[str, str]) -> bool:
        return any(modes[k] != v for k, v in self.wanted.items())

    def apply(self) -> dict:
        """Decide, check everything that can be checked, then (unless check mode) act; the result.

        MountError before the first change: nothing changed. After it: ``error.result`` says what did.
        """
        mounts = parse_mountinfo(self.kernel.read_mountinfo())
        live = live_mount(self.path, mounts)
        if live is not None and live.fstype != "xfs":
            raise MountError(f"path: {self.path} is mounted as {live.fstype}, not XFS; quota options here are for XFS")
        plan = self.plan_fstab(live)
        if self.path == "/":
            self.plan_root(plan, live, mounts)
        elif live is None:
            if self.req.state == "mounted":
                self.refuse_to_hide()
                self.check_source(plan)
                plan.action = "mount"
        else:
            self.plan_live(plan, live, mounts)
        if plan.action:
            self.result["remounted"] = True
        if self.result["fstab_changed"]:
            self.check_writable(self.req.fstab, "fstab")
        if self.result["grub_changed"]:
            self.check_writable(self.req.grub_defaults, "grub_defaults")
        if not self.host.check_mode:
            self.act(plan, live)
        self.result["changed"] = any(self.result[k] for k in ("remounted", "fstab_changed", "grub_changed"))
        if self.diff:
            self.result["diff"] = self.diff
        return self.result

    # --- deciding (reads only; the same in check mode and in a run) ------------------------------
    def plan_fstab(self, live: Mount | None) -> Plan:
        fstab_text = read_text(self.req.fstab, "fstab")
        fstab = Fstab(fstab_text)
        entry, ignored = fstab_entry(fstab, self.path, self.req.fstab)
        loop = loop_device_of(live, self.sys_block) if live is not None and self.path != "/" else None
        if entry is not None:
            if entry.fstype not in ("xfs", "auto"):
                raise MountError(f"path: {self.path} is a {entry.fstype} file system in {self.req.fstab}, not XFS")
            for other in ignored:
                self.host.warn(f"fstab: line {other.line} of {self.req.fstab} is another entry for {self.path}; mount(8) "
                               f"and systemd use only the first one (line {entry.line}), which is the one edited. "
                               "Remove the other to avoid confusion")
            fstab.set_options(entry, with_quota(entry.options, self.wanted))
            options, source = entry.options, entry.source
        elif self.req.src is None and loop is not None:
            # not /dev/loopN, which exists only while mounted: the image, as mount(8) sets it up at boot
            if loop.backing_file.endswith(" (deleted)"):
                raise MountError(f"src: {self.path} is mounted from {loop.node}, whose image "
                                 f"{loop.backing_file[:-len(' (deleted)')]} was deleted; give src to add it to "
                                 f"{self.req.fstab}")
            source = loop.backing_file
            loop_options = ["loop"] + [f"{name}={value}" for name, value in
                                       (("offset", loop.offset), ("sizelimit", loop.sizelimit)) if value]
            options = with_quota(loop_options, self.wanted)
            fstab.add(source, self.path, options)
        else:
            source = self.req.src or (live.source if live else None)
            if source is None:
                raise MountError(f"src: {self.path} is neither in {self.req.fstab} nor mounted; give src (the device) to add it")
            options = with_quota([], self.wanted)
            fstab.add(source, self.path, options)
        new_fstab = fstab.text()
        self.result["options"] = options
        self.result["fstab_changed"] = new_fstab != fstab_text
        if self.result["fstab_changed"]:
            self.diff.append({"before_header": self.req.fstab, "before": fstab_text,
                              "after_header": self.req.fstab, "after": new_fstab})
        return Plan(new_fstab, source, options, loop=loop)

    def check_writable(self, path: str, param: str) -> None:
        problem = write_problem(path, self.flags_of)
        if problem:
            raise MountError(f"{param}: cannot rewrite {path}: {problem}; nothing was changed")

    def check_source(self, plan: Plan) -> None:
        """The device or image a new mount would use exists and holds XFS (a blank one is only warned
        about in check mode: an earlier task of the same play may make the file system)."""
        source, param = plan.source or "", "src" if self.req.src and plan.source == self.req.src else "fstab"
        if "=" in source.split("/", 1)[0]:  # UUID=, LABEL=, PARTUUID=, PARTLABEL=
            findfs = self.host.which("findfs")
            if findfs is None:
                return
            rc, out = self.host.run([findfs, source])
            if rc != 0:
                raise MountError(f"{param}: no device has {source} ({out or 'findfs found none'}); nothing was changed")
            source = out.splitlines()[-1].strip() if out else source
        if not os.path.exists(source):
            raise MountError(f"{param}: {source} does not exist, so {self.path} cannot be mounted from it; "
                             "give the device (or image file) that holds the XFS; nothing was changed")
        mode = os.stat(source).st_mode
        if not (stat.S_ISBLK(mode) or stat.S_ISREG(mode)):
            raise MountError(f"{param}: {source} is neither a block device nor an image file; nothing was changed")
        offsets = [o.split("=", 1)[1] for o in plan.options if o.startswith("offset=")]
        offset = int(offsets[-1]) if offsets and offsets[-1].isdigit() else 0
        found = file_system_at(source, offset)
        if found == "nothing":
            if self.host.check_mode:
                self.host.warn(f"{source} holds no file system yet; mounting it fails unless one is made first")
                return
            raise MountError(f"{param}: {source} holds no file system (make one with mkfs.xfs); nothing was changed")
        if found in ("ext2/ext3/ext4", "other"):
            what = "an ext2/ext3/ext4 file system" if found != "other" else "no XFS file system"
            raise MountError(f"{param}: {source} holds {what}, not XFS; give the device that holds the XFS "
                             "(quota options here are XFS options); nothing was changed")

    def plan_live(self, plan: Plan, live: Mount, mounts: list[Mount]) -> None:
        before = self.modes(self.path, mounts)
        self.result["quota"] = before
        if not self.differs(before):
            return
        if self.req.state == "present" or not self.req.unmount:
            self.result["reboot_required"] = True
            return
        if self.busy_because(live, mounts):
            return
        if plan.loop is not None:  # a loop device set up by mount(8) detaches when unmounted: hold it
            with self.holding(plan.loop):
                pass
        plan.action, plan.before = "remount", before
        if self.host.check_mode:
            self.diff.append(self.quota_diff(before, {**before, **self.wanted}))

    def busy_because(self, live: Mount, mounts: list[Mount]) -> bool:
        """Whether the mount cannot be unmounted now (then handled per when_busy); reads only."""
        others = [m.mountpoint for m in mounts if m.device == live.device and m is not live]
        if others:
            self.busy(f"the file system is also mounted at {', '.join(others)}, so unmounting "
                      f"{self.path} would not reload its options")
            return True
        prefix = self.path.rstrip("/") + "/"
        reasons = [f"{m.mountpoint} is mounted below it" for m in mounts if m.mountpoint.startswith(prefix)]
        reasons += mount_users(self.path, device_number(live), self.proc)
        reasons += kernel_users(self.path, self.proc, self.sys_block)
        if reasons:
            self.busy("in use: " + "; ".join(reasons[:5]) + ("; ..." if len(reasons) > 5 else ""))
            return True
        return False

    def busy(self, why: str) -> None:
        if self.req.when_busy == "fail":
            raise MountError(f"path: {self.path} cannot be unmounted to change its quota options ({why}); stop what "
                             "uses it, or set when_busy=reboot_required to only write fstab and reboot later",
                             self.partial())
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

    def holding(self, loop: LoopDevice) -> _Held:
        try:
            fd = self.open_device(loop.node, loop.rdev)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise MountError(
                f"path: {self.path} is mounted from the loop device {loop.node} (image {loop.backing_file}), which "
                f"must be held open while the file system is unmounted, or it detaches; it cannot be opened "
                f"({reason})", self.partial()) from None
        return _Held(fd)

    # --- the root file system ------------------------------------------------------------------
    def plan_root(self, plan: Plan, live: Mount | None, mounts: list[Mount]) -> None:
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
        plan.commands = boot_config_commands(self.host.which, bls, rootflags_of(new))
        plan.new_grub = new
        self.result["boot_loader_commands"] = plan.commands

    # --- acting (a real run): each step after the first change reports what was changed --------------
    def partial(self) -> dict:
        """The result for a failure now: what was changed so far."""
        result = {k: v for k, v in self.result.items() if k != "diff"}
        result["changed"] = bool(self.done)
        for key in ("remounted", "fstab_changed", "grub_changed"):
            result[key] = key in self.done
        return result

    def fail(self, msg: str, undone: str = "") -> MountError:
        if self.done:
            mounted = f"{self.path} was unmounted and mounted" if self.remounting else f"{self.path} was mounted"
            what = {"remounted": mounted, "fstab_changed": f"{self.req.fstab} was written",
                    "grub_changed": f"{self.req.grub_defaults} was written"}
            msg += "; already changed: " + ", ".join(what[d] for d in self.done) + (f"; {undone}" if undone else "")
        elif undone:
            msg += f"; {undone}"
        return MountError(msg, self.partial())

    def act(self, plan: Plan, live: Mount | None) -> None:
        if plan.new_grub is not None:  # / : fstab first (harmless for a mounted root), then the boot loader
            for path, text, param in ((self.req.fstab, plan.new_fstab, "fstab"),
                                      (self.req.grub_defaults, plan.new_grub, "grub_defaults")):
                problem = self.write(path, text, param)
                if problem:
                    raise self.fail(problem)
            if not plan.commands:
                self.host.warn(f"{self.req.grub_defaults} now sets rootflags=; regenerate the boot loader "
                               "configuration (none of grubby, update-grub, grub2-mkconfig found)")
            for argv in plan.commands:
                rc, msg = self.host.run(argv)
                if rc != 0:
                    raise self.fail(f"grub_defaults: {self.req.grub_defaults} was written but {' '.join(argv)} "
                                    f"failed: {msg}", "the new GRUB defaults stay; run the command again once it works")
            return
        if plan.action == "mount":
            self.mount(plan)
        elif plan.action == "remount" and live is not None:
            self.remount(plan, live)
        problem = self.write(self.req.fstab, plan.new_fstab, "fstab")
        if problem:
            raise self.fail(problem, self.undo_mount(plan, live) if "remounted" in self.done else "")

    def write(self, path: str, text: str, param: str) -> str:
        """Write ``path`` if the run changes it; the error, or "" when written (or nothing to write)."""
        key = "fstab_changed" if param == "fstab" else "grub_changed"
        if not self.result[key]:
            return ""
        try:
            atomic_write(path, text, param=param)
        except FileError as exc:
            return str(exc)
        self.done.append(key)
        return ""

    def mount(self, plan: Plan) -> None:
        """Mount an unmounted file system (mount(8) sets up a loop device for an image itself)."""
        if not os.path.isdir(self.path):
            os.makedirs(self.path, mode=0o755)
        argv = ["mount", "-t", "xfs", "-o", ",".join(plan.options), plan.source or "", self.path]
        rc, msg = self.host.run(argv)
        if rc != 0:
            raise self.fail(f"path: {' '.join(argv)} failed: {msg}")
        self.done.append("remounted")
        self.verify(plan, None)

    def remount(self, plan: Plan, live: Mount) -> None:
        """Unmount and mount again with the new options; on failure, mount it as it was."""
        self.remounting = True
        with self.holding(plan.loop) if plan.loop is not None else _Held(None):
            rc, msg = self.host.run(["umount", self.path])
            if rc != 0:
                if "busy" not in msg:
                    raise self.fail(f"path: umount {self.path} failed: {msg}")
                self.busy(msg)
                self.result["remounted"] = False
                return
            self.done.append("remounted")
            source = plan.loop.node if plan.loop is not None else live.source
            options = [o for o in plan.options if not (plan.loop is not None and is_loop_option(o))] or ["defaults"]
            argv = ["mount", "-t", "xfs", "-o", ",".join(options), source, self.path]
            rc, msg = self.host.run(argv)
            if rc != 0:
                raise self.fail(f"path: {' '.join(argv)} failed: {msg}", self.put_back(live, source))
        self.verify(plan, live)

    def verify(self, plan: Plan, live: Mount | None) -> None:
        try:
            after = self.modes(self.path, parse_mountinfo(self.kernel.read_mountinfo()))
        except XfsError as exc:
            raise self.fail(f"path: {self.path} was mounted but its quota state cannot be read: {exc}") from None
        self.result["quota"] = after
        if self.differs(after):
            undone = self.undo_mount(plan, live)
            raise self.fail(f"path: {self.path} was mounted with {','.join(plan.options)} but the kernel reports "
                            f"{describe(after).strip()}; is quota support compiled into this kernel?", undone)
        if plan.before is not None:
            self.diff.append(self.quota_diff(plan.before, after))

    def undo_mount(self, plan: Plan, live: Mount | None) -> str:
        """Take back this run's mount: unmount a new one; mount a remounted one as it was. What was done."""
        if live is None:
            rc, msg = self.host.run(["umount", self.path])
            return "it was unmounted again" if rc == 0 else f"unmounting it again failed too: {msg}"
        held, problem = self.try_holding(plan.loop)
        if problem:
            return f"the previous mount was not put back ({problem}); it stays mounted with {','.join(plan.options)}"
        with held:
            rc, msg = self.host.run(["umount", self.path])
            if rc != 0:
                return (f"putting the previous mount back failed: umount {self.path}: {msg}; it stays mounted with "
                        f"{','.join(plan.options)}")
            return self.put_back(live, plan.loop.node if plan.loop is not None else live.source)

    def try_holding(self, loop: LoopDevice | None) -> tuple[_Held, str]:
        if loop is None:
            return _Held(None), ""
        try:
            return self.holding(loop), ""
        except MountError as exc:
            return _Held(None), str(exc)

    def put_back(self, live: Mount, source: str) -> str:
        """Mount ``live``'s file system from ``source`` with the options it had (the caller unmounted it,
        and holds its loop device)."""
        options = restore_options(live)
        rc, msg = self.host.run(["mount", "-t", "xfs", "-o", ",".join(options), source, self.path])
        if rc == 0:
            try:
                self.result["quota"] = self.modes(self.path, parse_mountinfo(self.kernel.read_mountinfo()))
            except XfsError:
                self.result.pop("quota", None)
            return f"it was mounted again from {source} with its previous options ({','.join(options)})"
        self.result.pop("quota", None)
        return (f"mounting it again from {source} with its previous options failed too ({msg}): {self.path} is NOT "
                f"mounted now; mount it by hand: mount -t xfs -o {','.join(options)} {source} {self.path}")

    def quota_diff(self, before: dict[str, str], after: dict[str, str]) -> dict[str, str]:
        header = f"quota state of {self.path}"
        return {"before_header": header, "before": describe(before), "after_header": header, "after": describe(after)}


class _Held:
    """An open fd on a device for the length of a ``with`` block (None: nothing held)."""

    def __init__(self, fd: int | None) -> None:
        self.fd = fd

    def __enter__(self) -> _Held:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
