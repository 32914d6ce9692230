# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Assign a project to a directory tree: the walk behind ``xfs_project``.

Safety rules:

* every name is opened relative to its directory's fd with ``O_NOFOLLOW | O_NONBLOCK``, and only
  regular files and directories are opened, so no symlink is followed and no FIFO, socket or
  device is opened;
* nothing on another mount is entered or assigned, directories and files alike, bind mounts of
  this same file system included (:mod:`._mount_fence` says how);
* an entry that vanishes or turns into a symlink while the walk runs is skipped;
* a directory's names are read and assigned in batches, so a huge directory is never held in
  memory; the walk is depth-first, one open directory per level.

One process: the hook assigns sandboxes in C++; this walk assigns operator trees now and
then, and per file it is one open, two ioctls and a close, in a loop kept free of lookups.
"""

from __future__ import annotations

import errno
import os
import stat
import struct
from dataclasses import dataclass, field

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mount_fence import MountFence
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import (
    FS_IOC_FSGETXATTR, FS_IOC_FSSETXATTR, FS_XFLAG_PROJINHERIT, FSXATTR, OPEN_FLAGS, XfsError, XfsFilesystem, open_nofollow)

_PROJID = struct.Struct("=I")
_PROJID_SLICE = slice(12, 16)  # fsx_projid in struct fsxattr
_FILES_PER_BATCH = 4096
_DIR_FLAGS = OPEN_FLAGS | os.O_DIRECTORY


@dataclass
class WalkResult:
    changed: int = 0
    unchanged: int = 0
    skipped_special: int = 0
    skipped_mounts: list[str] = field(default_factory=list)
    fence: str = ""  # how mounts below the tree were told apart (MountFence.describe)


def _assign(kernel, fd: int, buf: bytearray, project_id: int, is_dir: bool, dry_run: bool) -> bool:
    """Give one open inode ``project_id``; True if it changed. A directory gets PROJINHERIT with a
    project and loses it with project 0, as ``xfs_quota -x -c 'project -C'`` clears a tree."""
    kernel.ioctl(fd, FS_IOC_FSGETXATTR, buf, True)
    xflags, extsize, nextents, projid, cow = FSXATTR.unpack_from(buf)
    want_flags = xflags
    if is_dir:
        want_flags = xflags | FS_XFLAG_PROJINHERIT if project_id else xflags & ~FS_XFLAG_PROJINHERIT
    if projid == project_id and want_flags == xflags:
        return False
    if not dry_run:
        FSXATTR.pack_into(buf, 0, want_flags, extsize, nextents, project_id, cow)
        kernel.ioctl(fd, FS_IOC_FSSETXATTR, buf, False)
    return True


class _Directory:
    """One open directory on the walk's stack: its fd, its entries (read lazily) and pending files."""

    def __init__(self, fd: int, path: str) -> None:
        self.fd = fd
        self.path = path
        self.prefix = path.rstrip("/") + "/"  # the tree may be "/"
        self.files: list[str] = []
        self.entries = os.scandir(fd)

    def close(self) -> None:
        self.entries.close()
        os.close(self.fd)


class _TreeWalk:
    def __init__(self, fs: XfsFilesystem, root: str, root_fd: int, root_stat: os.stat_result,
                 project_id: int, dry_run: bool) -> None:
        self.kernel = fs.kernel
        self.project_id = project_id
        self.dry_run = dry_run
        self.fence = MountFence(fs.kernel, root, fs.mounts, fs.mount, root_fd, root_stat.st_dev)
        self.result = WalkResult(fence=self.fence.describe())
        self.buf = bytearray(FSXATTR.size)

    def assign_directory(self, fd: int, path: str) -> None:
        try:
            changed = _assign(self.kernel, fd, self.buf, self.project_id, True, self.dry_run)
        except OSError as exc:
            raise XfsError(f"{path}: cannot set project {self.project_id}: {exc.strerror}") from exc
        self.result.changed += changed
        self.result.unchanged += not changed

    def assign_files(self, directory: _Directory) -> None:
        """Assign the pending regular files of ``directory``: the hot path.

        Per file one open, two ioctls and a close, comparing and patching the project id's four
        bytes in place; every name looked up once. A mount made since the names were listed is
        left out here (the fence rereads mountinfo when the table changed).
        """
        names, directory.files = directory.files, []
        if not names:
            return
        self.fence.refresh()
        fenced = self.fence.names_in(directory.path)
        if fenced:
            self.result.skipped_mounts += [directory.prefix + name for name in names if name in fenced]
            names = [name for name in names if name not in fenced]
        changed = unchanged = links = 0
        buf, dir_fd, dry_run = self.buf, directory.fd, self.dry_run
        want, projid = _PROJID.pack(self.project_id), _PROJID_SLICE
        ioctl, open_, close = self.kernel.ioctl, os.open, os.close
        flags, get, set_ = OPEN_FLAGS, FS_IOC_FSGETXATTR, FS_IOC_FSSETXATTR  # locals: no global lookups per file
        # Names are opened relative to the working directory, set to the directory's fd: the same
        # lookup as openat(dir_fd, ...), and a fifth faster than passing dir_fd (bench/walker.sh).
        os.fchdir(dir_fd)
        for name in names:
            try:
                fd = open_(name, flags)
            except OSError as exc:
                if exc.errno in (errno.ENOENT, errno.ELOOP):  # gone, or now a symlink: not ours to follow
                    links += exc.errno == errno.ELOOP
                    continue
                raise XfsError(f"{directory.prefix}{name}: cannot open: {exc.strerror}") from exc
            try:
                ioctl(fd, get, buf, True)
                if buf[projid] == want:
                    unchanged += 1
                else:
                    changed += 1
                    if not dry_run:
                        buf[projid] = want
                        ioctl(fd, set_, buf, False)
            except OSError as exc:
                raise XfsError(f"{directory.prefix}{name}: cannot set project {self.project_id}: "
                               f"{exc.strerror}") from exc
            finally:
                close(fd)
        self.result.changed += changed
        self.result.unchanged += unchanged
        self.result.skipped_special += links

    def open_directory(self, parent: _Directory, name: str) -> _Directory | None:
        """The subdirectory ``name`` opened and assigned, or None if it is not to be entered."""
        path = parent.prefix + name
        self.fence.refresh()
        if name in self.fence.names_in(parent.path):
            self.result.skipped_mounts.append(path)
            return None
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent.fd)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):  # gone, a symlink, or replaced
                self.result.skipped_special += exc.errno != errno.ENOENT
                return None
            raise XfsError(f"{path}: cannot open: {exc.strerror}") from exc
        try:
            if self.fence.other_mount(fd, os.fstat(fd).st_dev):  # mounted since mountinfo was read
                self.result.skipped_mounts.append(path)
                os.close(fd)
                return None
            self.assign_directory(fd, path)
            return _Directory(fd, path)
        except BaseException:
            os.close(fd)
            raise

    def run(self, root: _Directory) -> WalkResult:
        stack = [root]
        cwd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)  # given back at the end
        try:
            self.assign_directory(root.fd, root.path)
            while stack:
                top = stack[-1]
                for entry in top.entries:
                    if entry.is_file(follow_symlinks=False):
                        top.files.append(entry.name)
                        if len(top.files) == _FILES_PER_BATCH:  # bounds memory in huge directories
                            self.assign_files(top)
                    elif entry.is_dir(follow_symlinks=False):
                        self.assign_files(top)
                        child = self.open_directory(top, entry.name)
                        if child is not None:
                            stack.append(child)
                            break  # descend; this directory's listing resumes afterwards
                    else:
                        self.result.skipped_special += 1
                else:
                    self.assign_files(top)
                    stack.pop().close()
        except OSError as exc:  # reading a directory
            where = stack[-1].path if stack else root.path
            raise XfsError(f"{where}: cannot read the directory: {exc.strerror}") from exc
        finally:
            os.fchdir(cwd)
            os.close(cwd)
            for directory in stack:
                directory.close()
            self.fence.close()
        return self.result


def assign_tree(fs: XfsFilesystem, root: str, project_id: int, recursive: bool = True,
                dry_run: bool = False) -> WalkResult:
    """Give ``root`` on ``fs`` (and, if recursive, everything below it) ``project_id``.

    Directories also get PROJINHERIT so new files inherit the id (and lose it with id 0). See the module docstring for
    what is never opened, entered or assigned.
    """
    # Resolve the parents only: a symlink as the tree itself is refused by O_NOFOLLOW.
    root = os.path.abspath(root)
    root = os.path.join(os.path.realpath(os.path.dirname(root)), os.path.basename(root))
    root_fd = open_nofollow(root)
    walk = top = None
    try:
        root_stat = os.fstat(root_fd)
        is_dir = stat.S_ISDIR(root_stat.st_mode)
        if not (recursive and is_dir):
            try:
                changed = _assign(fs.kernel, root_fd, bytearray(FSXATTR.size), project_id, is_dir, dry_run)
            except OSError as exc:
                raise XfsError(f"{root}: cannot set project {project_id}: {exc.strerror}") from exc
            return WalkResult(changed=int(changed), unchanged=int(not changed))
        walk = _TreeWalk(fs, root, root_fd, root_stat, project_id, dry_run)
        top = _Directory(root_fd, root)  # owns root_fd from here; walk.run closes it and the fence
    finally:
        if top is None:
            os.close(root_fd)
            if walk is not None:
                walk.fence.close()
    return walk.run(top)
