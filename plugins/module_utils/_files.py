# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one way this collection reads, locks and rewrites system files.

Used for /etc/projid, /etc/projects, fstab and the GRUB defaults: every rewrite is a temp file in
the same directory, fsync, rename (mode, owner and SELinux context kept), then an fsync of the
directory. Files are bytes: text is decoded as UTF-8 with ``surrogateescape``, so a byte that is
not UTF-8 is written back as it was read instead of failing the run.
"""

from __future__ import annotations

import errno
import fcntl
import os
import tempfile
from contextlib import contextmanager
from typing import Iterator

SELINUX_XATTR = "security.selinux"
_NO_XATTR = (errno.ENODATA, errno.ENOTSUP, errno.EOPNOTSUPP)


class FileError(OSError):
    """A system file that cannot be read, locked or written, with a message for the operator.

    An OSError, so callers that caught the bare OSError before keep catching it.
    """


def _failure(param: str, path: str, what: str, exc: OSError) -> FileError:
    prefix = f"{param}: " if param else ""
    if exc.errno == errno.EISDIR:
        return FileError(f"{prefix}{path} is a directory; give the path of a file")
    if exc.errno == errno.ENOENT:
        return FileError(f"{prefix}cannot {what} {path}: the directory {os.path.dirname(path) or '.'} does not exist")
    return FileError(f"{prefix}cannot {what} {path}: {exc.strerror}")


def read_bytes(path: str, param: str = "") -> bytes:
    """The bytes of ``path``; empty when it does not exist. ``param`` is named in errors."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        if os.path.isdir(os.path.dirname(os.path.abspath(path))):
            return b""
        raise _failure(param, path, "read", FileNotFoundError(errno.ENOENT, "")) from None
    except OSError as exc:
        raise _failure(param, path, "read", exc) from exc


def read_text(path: str, param: str = "") -> str:
    """The text of ``path`` (undecodable bytes kept as surrogates); empty when it does not exist."""
    return read_bytes(path, param).decode("utf-8", "surrogateescape")


@contextmanager
def locked(lock_path: str, param: str = "") -> Iterator[None]:
    """Hold an exclusive flock on ``lock_path`` (created 0600 if missing)."""
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise _failure(param, lock_path, "create the lock file", exc) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def selinux_context(path: str) -> bytes | None:
    """The SELinux label of ``path`` itself, or None when it has none (SELinux off, no xattrs)."""
    try:
        return os.getxattr(path, SELINUX_XATTR, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in _NO_XATTR or exc.errno == errno.ENOENT:
            return None
        raise


def atomic_write(path: str, content: str | bytes, default_mode: int = 0o644, param: str = "") -> None:
    """Replace ``path`` with ``content``: temp file in the same directory, fsync, rename.

    Mode, owner and SELinux context of the old file are given to the new one before the rename,
    so the file is never visible without them (a rename keeps the temp file's own label).
    """
    data = content.encode("utf-8", "surrogateescape") if isinstance(content, str) else content
    directory = os.path.dirname(os.path.abspath(path))
    try:
        try:
            st = os.stat(path)
            mode, uid, gid = st.st_mode & 0o7777, st.st_uid, st.st_gid
            context = selinux_context(path)
        except FileNotFoundError:
            mode, uid, gid, context = default_mode, -1, -1, None
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=directory)
    except OSError as exc:
        raise _failure(param, path, "write", exc) from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), mode)
            if uid != -1:
                os.fchown(f.fileno(), uid, gid)
            if context is not None:
                os.setxattr(f.fileno(), SELINUX_XATTR, context)
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _failure(param, path, "write", exc) from exc
        raise
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
