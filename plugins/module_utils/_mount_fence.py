# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The walk fence: which inodes below a tree belong to another mount and are left alone.

A bind mount of the same XFS has the tree's ``st_dev``, so ``st_dev`` alone cannot tell it; a
bind-mounted *file* is a mount point too. Rules, on every kernel:

* names that ``/proc/self/mountinfo`` lists as mount points below the tree, files and directories,
  are skipped before they are opened; mountinfo is read again whenever the mount table changes
  during the walk (``poll`` on it reports ``POLLPRI``, checked before every batch of files and
  every directory), so a mount made mid-walk is seen from the next batch on;
* every directory is checked after it is opened, before it is assigned or entered: ``st_dev``,
  and on Linux 5.8+ (glibc 2.28+) its mount id (``statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID)``)
  against the root's, which catches a bind mount of the same file system with no window at all.

:attr:`MountFence.method` says which directory check runs: ``statx_mnt_id``, or ``mountinfo``
(``st_dev`` only) where the kernel or libc lacks it. ``MXQ_WALK_FENCE=mountinfo`` in the
environment forces the fallback, so tests run both on one kernel. Files are not asked for their
mount id one by one: that syscall from Python cost more than assigning the file (``bench/walker.sh``).
"""

from __future__ import annotations

import ctypes
import os
import select
import struct
from typing import Callable

from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import Mount, mounts_below, parse_mountinfo

STATX_MNT_ID = 0x00001000
FORCE_ENV = "MXQ_WALK_FENCE"
STATX_METHOD = "statx_mnt_id"
MOUNTINFO_METHOD = "mountinfo"
_AT_EMPTY_PATH = 0x1000
_STATX_SIZE = 256  # struct statx
_STATX_MNT_ID_AT = 144  # offset of the u64 stx_mnt_id
_U64 = struct.Struct("=Q")

MountIdReader = Callable[[int], int]


def statx_mount_id_reader() -> tuple[MountIdReader | None, str]:
    """(fd -> mount id, "") where libc and kernel report mount ids, else (None, why not)."""
    statx = getattr(ctypes.CDLL(None, use_errno=True), "statx", None)
    if statx is None:
        return None, "libc has no statx (glibc < 2.28)"
    statx.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p]
    statx.restype = ctypes.c_int
    buf = ctypes.create_string_buffer(_STATX_SIZE)

    def mount_id(fd: int) -> int:
        if statx(fd, b"", _AT_EMPTY_PATH, STATX_MNT_ID, buf) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        return _U64.unpack_from(buf, _STATX_MNT_ID_AT)[0]

    fd = os.open("/", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if statx(fd, b"", _AT_EMPTY_PATH, STATX_MNT_ID, buf) != 0:
            return None, f"statx: {os.strerror(ctypes.get_errno())} (Linux < 4.11)"
        if not _U64.unpack_from(buf, 0)[0] & STATX_MNT_ID:  # stx_mask
            return None, "the kernel does not fill STATX_MNT_ID (Linux < 5.8)"
    finally:
        os.close(fd)
    return mount_id, ""


class MountFence:
    """The mounts a walk of ``root`` must not enter. ``kernel`` may bring its own ``mount_id_reader``."""

    def __init__(self, kernel, root: str, mounts: list[Mount], own: Mount, root_fd: int, root_dev: int) -> None:
        self.kernel, self.root, self.own, self.root_dev = kernel, root, own, root_dev
        # Opened before the table is read, so a change after that read is reported.
        self.watch = select.poll()
        self.table_fd = os.open("/proc/self/mountinfo", os.O_RDONLY | os.O_CLOEXEC)
        self.watch.register(self.table_fd, select.POLLPRI)
        self.watch.poll(0)  # clears the event that a fresh open may carry
        self.by_directory: dict[str, frozenset[str]] = {}
        self.load(mounts)
        self.mount_id: MountIdReader | None = None
        self.root_mount_id = 0
        if os.environ.get(FORCE_ENV) == MOUNTINFO_METHOD:
            self.reason = f"forced by {FORCE_ENV}={MOUNTINFO_METHOD}"
        else:
            self.mount_id, self.reason = getattr(kernel, "mount_id_reader", statx_mount_id_reader)()
        if self.mount_id is not None:
            try:
                self.root_mount_id = self.mount_id(root_fd)
            except OSError as exc:  # e.g. a seccomp filter that denies statx
                self.mount_id, self.reason = None, f"statx: {exc.strerror}"
        self.method = STATX_METHOD if self.mount_id is not None else MOUNTINFO_METHOD

    def load(self, mounts: list[Mount]) -> None:
        found: dict[str, set[str]] = {}
        for path in mounts_below(self.root, mounts, self.own):
            parent, name = os.path.split(path)
            found.setdefault(parent, set()).add(name)
        self.by_directory = {parent: frozenset(names) for parent, names in found.items()}

    def close(self) -> None:
        os.close(self.table_fd)

    def refresh(self) -> None:
        """Read mountinfo again if a mount or unmount happened since the last look."""
        if self.watch.poll(0):
            self.load(parse_mountinfo(self.kernel.read_mountinfo()))

    def names_in(self, directory: str) -> frozenset[str]:
        """Names in ``directory`` that mountinfo lists as mount points (to skip unopened)."""
        return self.by_directory.get(directory, frozenset())

    def other_mount(self, fd: int, st_dev: int) -> bool:
        """Whether an opened directory (with its ``st_dev``) lies on another mount."""
        return st_dev != self.root_dev or (self.mount_id is not None and self.mount_id(fd) != self.root_mount_id)

    def describe(self) -> str:
        return self.method + (f" ({self.reason})" if self.reason else "")
