# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Assign a project to a directory tree: the walk behind ``xfs_project``.

Safety rules, kept on every path:

* every name is opened relative to its directory's fd with ``O_NOFOLLOW | O_NONBLOCK``, and only
  regular files and directories are opened, so no symlink is followed and no FIFO, socket or
  device is opened;
* mount points below the tree are not entered: they come from mountinfo (bind mounts of this same
  file system share its ``st_dev``, so only mountinfo can tell), and ``st_dev`` is checked too.

Speed: setting a project id is one open and two ioctls per inode, and in Python the interpreter,
not the kernel, is the larger part of that. Big trees are therefore labelled by forked worker
processes (threads would share one GIL), one directory per job. The parent only opens
directories and hands their fds to idle workers over a socketpair (``SCM_RIGHTS``); a very large
directory is split between workers by inode number. Small trees never fork.
"""

from __future__ import annotations

import array
import errno
import os
import selectors
import socket
import stat
import struct
from dataclasses import dataclass, field
from typing import NamedTuple

from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import (
    FS_IOC_FSGETXATTR, FS_IOC_FSSETXATTR, FS_XFLAG_PROJINHERIT, FSXATTR, OPEN_FLAGS, XfsError, XfsFilesystem, mounts_below, open_nofollow)

_PROJID = struct.Struct("=I")
_PROJID_AT, _PROJID_END = 12, 16  # fsx_projid in struct fsxattr
_MAX_WORKERS = 4
_FORK_AFTER_ENTRIES = 2000  # below this much work, a fork costs more than it saves
_SPLIT_DIR_BYTES = 64 * 1024  # an XFS directory this large holds some thousands of entries
_FILES_PER_BATCH = 4096
_JOBS_PER_WORKER = 2  # one running, one queued, so a worker never waits for the parent
_FRAME = struct.Struct("=I")
_JOB = struct.Struct("=II")  # part, parts; then the directory's path
_RESULT = struct.Struct("=BQQQ")  # ok, changed, unchanged, skipped special; then a message or names


@dataclass
class WalkResult:
    changed: int = 0
    unchanged: int = 0
    skipped_special: int = 0
    skipped_mounts: list[str] = field(default_factory=list)


class _Job(NamedTuple):
    """One directory (or one part of a large one) to label."""

    own_fd: int | None  # the parent's fd of the directory, to open its subdirectories (part 0 only)
    fd: int  # what the labeller reads: own_fd, or a separate open file for parts > 0
    path: str
    part: int
    parts: int


def _label(kernel, fd: int, buf: bytearray, project_id: int, is_dir: bool, dry_run: bool) -> bool:
    """Give one open inode ``project_id`` (and PROJINHERIT if a directory); True if it changed."""
    kernel.ioctl(fd, FS_IOC_FSGETXATTR, buf, True)
    xflags, extsize, nextents, projid, cow = FSXATTR.unpack_from(buf)
    want_flags = xflags | FS_XFLAG_PROJINHERIT if is_dir else xflags
    if projid == project_id and want_flags == xflags:
        return False
    if not dry_run:
        FSXATTR.pack_into(buf, 0, want_flags, extsize, nextents, project_id, cow)
        kernel.ioctl(fd, FS_IOC_FSSETXATTR, buf, False)
    return True


def _label_files(kernel, dir_fd: int, dir_path: str, names: list[str], buf: bytearray, project_id: int,
                 dry_run: bool) -> tuple[int, int, int]:
    """Label regular files of an open directory; return (changed, unchanged, now symlinks).

    The hot path: per file one open, two ioctls and a close, comparing and patching the project
    id's four bytes in place, with every name looked up once, outside the loop.
    """
    changed = unchanged = links = 0
    want = _PROJID.pack(project_id)
    ioctl, open_, close = kernel.ioctl, os.open, os.close
    for name in names:
        try:
            fd = open_(name, OPEN_FLAGS, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ELOOP):  # gone, or now a symlink: not ours to follow
                links += exc.errno == errno.ELOOP
                continue
            raise XfsError(f"{dir_path}/{name}: cannot open: {exc.strerror}") from exc
        try:
            ioctl(fd, FS_IOC_FSGETXATTR, buf, True)
            if buf[_PROJID_AT:_PROJID_END] == want:
                unchanged += 1
            else:
                changed += 1
                if not dry_run:
                    buf[_PROJID_AT:_PROJID_END] = want
                    ioctl(fd, FS_IOC_FSSETXATTR, buf, False)
        except OSError as exc:
            close(fd)
            raise XfsError(f"{dir_path}/{name}: cannot set project {project_id}: {exc.strerror}") from exc
        close(fd)
    return changed, unchanged, links


def _label_directory(kernel, dir_fd: int, dir_path: str, project_id: int, dry_run: bool,
                     part: int = 0, parts: int = 1) -> tuple[int, int, int, list[str]]:
    """Label an open directory and the regular files in it; return its subdirectories' names.

    With ``parts`` > 1 only files whose inode number is ``part`` modulo ``parts`` are labelled, and
    only part 0 labels the directory itself and reports subdirectories and special files.
    Returns (changed, unchanged, skipped special files, subdirectory names).
    """
    buf = bytearray(FSXATTR.size)
    changed = unchanged = special = 0
    subdirs: list[str] = []
    if part == 0:
        try:
            changed_dir = _label(kernel, dir_fd, buf, project_id, True, dry_run)
        except OSError as exc:
            raise XfsError(f"{dir_path}: cannot set project {project_id}: {exc.strerror}") from exc
        changed, unchanged = int(changed_dir), int(not changed_dir)
    files: list[str] = []
    with os.scandir(dir_fd) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False):
                if parts == 1 or entry.inode() % parts == part:
                    files.append(entry.name)
                    if len(files) == _FILES_PER_BATCH:  # bounds memory in huge directories
                        counts = _label_files(kernel, dir_fd, dir_path, files, buf, project_id, dry_run)
                        changed, unchanged, special = changed + counts[0], unchanged + counts[1], special + counts[2]
                        files = []
            elif part != 0:
                continue
            elif entry.is_dir(follow_symlinks=False):
                subdirs.append(entry.name)
            else:
                special += 1
    counts = _label_files(kernel, dir_fd, dir_path, files, buf, project_id, dry_run)
    return changed + counts[0], unchanged + counts[1], special + counts[2], subdirs


def _send_frame(sock: socket.socket, payload: bytes, fd: int | None = None) -> None:
    data = _FRAME.pack(len(payload)) + payload
    ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))] if fd is not None else []
    sent = sock.sendmsg([data], ancillary)
    if sent < len(data):
        sock.sendall(data[sent:])


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return bytes(data)


def _recv_frame(sock: socket.socket) -> tuple[bytes, int | None]:
    """One frame; a passed fd arrives with the frame's first bytes. EOFError when the peer left."""
    header, ancillary, _flags, _addr = sock.recvmsg(_FRAME.size, socket.CMSG_SPACE(array.array("i").itemsize))
    if not header:
        raise EOFError
    fd = None
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
            fd = fds[0]
    header += _recv_exact(sock, _FRAME.size - len(header))
    return _recv_exact(sock, _FRAME.unpack(header)[0]), fd


def _worker_loop(sock: socket.socket, kernel, project_id: int, dry_run: bool) -> None:
    """A forked worker: label each directory it is sent until the parent closes the socket."""
    while True:
        try:
            payload, dir_fd = _recv_frame(sock)
        except EOFError:
            return
        part, parts = _JOB.unpack_from(payload)
        dir_path = os.fsdecode(payload[_JOB.size:])
        try:
            changed, unchanged, special, subdirs = _label_directory(
                kernel, dir_fd, dir_path, project_id, dry_run, part, parts)
            reply = _RESULT.pack(1, changed, unchanged, special) + b"\0".join(os.fsencode(n) for n in subdirs)
        except (XfsError, OSError) as exc:
            message = str(exc) if isinstance(exc, XfsError) else f"{dir_path}: {exc.strerror}"
            reply = _RESULT.pack(0, 0, 0, 0) + message.encode("utf-8", "backslashreplace")
        finally:
            os.close(dir_fd)
        _send_frame(sock, reply)


class _Worker:
    """One forked labelling process and the parent's end of its socketpair."""

    def __init__(self, kernel, project_id: int, dry_run: bool, inherited: list[int]):
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.jobs: list[tuple[int | None, str]] = []  # (the parent's fd for part 0, path) per job sent
        self.pid = os.fork()
        if self.pid == 0:  # the child never returns into the caller's code
            status = 1
            try:
                parent_end.close()
                # Other workers' sockets too: a copy held here would keep them from seeing EOF.
                for fd in inherited:
                    os.close(fd)
                _worker_loop(child_end, kernel, project_id, dry_run)
                status = 0
            finally:
                os._exit(status)  # pylint: disable=protected-access
        child_end.close()
        self.sock = parent_end


def _worker_count() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return min(_MAX_WORKERS, cpus)


class _TreeWalk:
    """Depth-first over directories; each directory's contents are one job (or a few, if huge)."""

    def __init__(self, fs: XfsFilesystem, root: str, project_id: int, dry_run: bool):
        self.kernel = fs.kernel
        self.project_id = project_id
        self.dry_run = dry_run
        self.fence = mounts_below(root, fs.mounts, fs.mount)
        self.result = WalkResult()
        self.root_dev = 0
        # Directories whose subdirectories are still to be opened: (fd, path, names left).
        self.stack: list[tuple[int, str, list[str]]] = []
        self.ready: list[_Job] = []
        self.workers: list[_Worker] = []
        self.entries_done = 0

    # --- producing jobs ----------------------------------------------------------------------------
    def add_directory(self, fd: int, path: str, size: int) -> None:
        """Queue an open directory of ``size`` bytes (its st_size); a large one as one job per worker."""
        parts = len(self.workers) if self.workers and size >= _SPLIT_DIR_BYTES else 1
        self.ready.append(_Job(fd, fd, path, 0, parts))
        for part in range(1, parts):
            # Each part reads the directory through its own open file: getdents shares the offset.
            self.ready.append(_Job(None, os.open(".", OPEN_FLAGS, dir_fd=fd), path, part, parts))

    def next_job(self) -> _Job | None:
        while not self.ready and self.stack:
            dir_fd, dir_path, names = self.stack[-1]
            if not names:
                os.close(dir_fd)
                self.stack.pop()
                continue
            parent = dir_path.rstrip("/")  # the tree may be "/"
            self.open_subdirectory(dir_fd, f"{parent}/{names.pop()}", len(parent) + 1)
        return self.ready.pop(0) if self.ready else None

    def open_subdirectory(self, dir_fd: int, path: str, name_at: int) -> None:
        if path in self.fence:
            self.result.skipped_mounts.append(path)
            return
        try:
            fd = os.open(path[name_at:], OPEN_FLAGS, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ELOOP):  # gone, or now a symlink
                self.result.skipped_special += exc.errno == errno.ELOOP
                return
            raise XfsError(f"{path}: cannot open: {exc.strerror}") from exc
        st = os.fstat(fd)
        if st.st_dev != self.root_dev:  # a mount that mountinfo did not show yet
            os.close(fd)
            self.result.skipped_mounts.append(path)
        elif not stat.S_ISDIR(st.st_mode):  # replaced since it was listed
            os.close(fd)
        else:
            self.add_directory(fd, path, st.st_size)

    # --- consuming results -------------------------------------------------------------------------
    def done(self, own_fd: int | None, path: str, changed: int, unchanged: int, special: int,
             subdirs: list[str]) -> None:
        self.result.changed += changed
        self.result.unchanged += unchanged
        self.result.skipped_special += special
        self.entries_done += changed + unchanged + special + len(subdirs)
        if own_fd is not None:
            self.stack.append((own_fd, path, subdirs))

    def run(self, root_fd: int, root: str, root_stat: os.stat_result) -> WalkResult:
        self.root_dev = root_stat.st_dev
        self.add_directory(root_fd, root, root_stat.st_size)
        try:
            self.run_inline()
            if self.stack or self.ready:
                self.run_parallel()
        finally:
            for worker in self.workers:
                worker.sock.close()  # each worker sees EOF and exits
            for worker in self.workers:
                os.waitpid(worker.pid, 0)
            for job in self.ready:
                os.close(job.fd)
            for dir_fd, _path, _names in self.stack:
                os.close(dir_fd)
        return self.result

    def run_inline(self) -> None:
        """Label in this process until the tree proves big enough to be worth forking for."""
        workers = _worker_count()
        while True:
            job = self.next_job()
            if job is None:
                return
            if workers > 1 and self.entries_done >= _FORK_AFTER_ENTRIES:
                self.ready.insert(0, job)
                return
            try:
                changed, unchanged, special, subdirs = _label_directory(
                    self.kernel, job.fd, job.path, self.project_id, self.dry_run)
            except BaseException:
                os.close(job.fd)
                raise
            self.done(job.own_fd, job.path, changed, unchanged, special, subdirs)

    def run_parallel(self) -> None:
        while len(self.workers) < _worker_count():
            inherited = [worker.sock.fileno() for worker in self.workers]
            inherited += [dir_fd for dir_fd, _path, _names in self.stack]
            inherited += [job.fd for job in self.ready]
            self.workers.append(_Worker(self.kernel, self.project_id, self.dry_run, inherited))
        # Work already queued as one job is split now that there are workers to share it.
        queued, self.ready = self.ready, []
        for job in queued:
            if job.own_fd is not None:
                self.add_directory(job.own_fd, job.path, os.fstat(job.own_fd).st_size)
            else:
                os.close(job.fd)
        selector = selectors.DefaultSelector()
        for worker in self.workers:
            selector.register(worker.sock, selectors.EVENT_READ, worker)
        error = None
        try:
            while True:
                for worker in self.workers:
                    while error is None and len(worker.jobs) < _JOBS_PER_WORKER:
                        job = self.next_job()
                        if job is None:
                            break
                        worker.jobs.append((job.own_fd, job.path))
                        try:
                            _send_frame(worker.sock, _JOB.pack(job.part, job.parts) + os.fsencode(job.path), job.fd)
                        except OSError as exc:
                            raise XfsError(f"{job.path}: cannot hand it to a worker process (pid {worker.pid}): "
                                           f"{exc.strerror}") from exc
                        finally:
                            if job.own_fd is None:
                                os.close(job.fd)  # the worker holds its own copy now
                if not any(worker.jobs for worker in self.workers):
                    break
                for key, _events in selector.select():
                    worker = key.data
                    try:
                        payload, _fd = _recv_frame(worker.sock)
                    except (EOFError, OSError) as exc:
                        raise XfsError(f"{worker.jobs[0][1]}: the worker process labelling it (pid {worker.pid}) "
                                       "died; the tree is only partly labelled, run the task again") from exc
                    own_fd, path = worker.jobs.pop(0)
                    ok, changed, unchanged, special = _RESULT.unpack_from(payload)
                    rest = payload[_RESULT.size:]
                    if not ok:
                        error = error or rest.decode("utf-8")
                        if own_fd is not None:
                            os.close(own_fd)
                        continue
                    subdirs = [os.fsdecode(name) for name in rest.split(b"\0")] if rest else []
                    self.done(own_fd, path, changed, unchanged, special, subdirs)
        finally:
            selector.close()
            for worker in self.workers:
                for own_fd, _path in worker.jobs:
                    if own_fd is not None:
                        os.close(own_fd)
                worker.jobs.clear()
        if error is not None:
            raise XfsError(error)


def assign_tree(fs: XfsFilesystem, root: str, project_id: int, recursive: bool = True,
                dry_run: bool = False) -> WalkResult:
    """Give ``root`` on ``fs`` (and, if recursive, everything below it) ``project_id``.

    Directories also get PROJINHERIT so new files inherit the id. See the module docstring for
    what is never opened or entered.
    """
    # Resolve the parents only: a symlink as the tree itself is refused by O_NOFOLLOW.
    root = os.path.abspath(root)
    root = os.path.join(os.path.realpath(os.path.dirname(root)), os.path.basename(root))
    root_fd = open_nofollow(root)
    root_stat = os.fstat(root_fd)
    is_dir = stat.S_ISDIR(root_stat.st_mode)
    if not (recursive and is_dir):
        try:
            changed = _label(fs.kernel, root_fd, bytearray(FSXATTR.size), project_id, is_dir, dry_run)
        except OSError as exc:
            raise XfsError(f"{root}: cannot set project {project_id}: {exc.strerror}") from exc
        finally:
            os.close(root_fd)
        return WalkResult(changed=int(changed), unchanged=int(not changed))
    return _TreeWalk(fs, root, project_id, dry_run).run(root_fd, root, root_stat)
