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
import re
import sys
import tempfile
from contextlib import contextmanager
from typing import Any, Callable, Iterator

SELINUX_XATTR = "security.selinux"
_NO_XATTR = (errno.ENODATA, errno.ENOTSUP, errno.EOPNOTSUPP)

# <linux/fs.h>: FS_IOC_GETFLAGS = _IOR('f', 1, long); the kernel reads and writes an int
FS_IOC_GETFLAGS = 0x80086601
FS_IMMUTABLE_FL = 0x00000010  # chattr +i
FS_APPEND_FL = 0x00000020  # chattr +a


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


def printable(value: Any, raw_bytes: bool = True) -> Any:
    """``value`` (text, or lists and dicts of it) fit for a module result, which Ansible refuses when it is
    not UTF-8: a byte of a file that is not UTF-8 (a ``surrogateescape`` surrogate, when ``raw_bytes``) is
    shown as ``\\xNN``, any other lone surrogate as ``\\udXXX``. The files themselves keep their bytes."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub(lambda m: _shown(m.group(0), raw_bytes), value)
    if isinstance(value, list):
        return [printable(item, raw_bytes) for item in value]
    if isinstance(value, tuple):
        return tuple(printable(item, raw_bytes) for item in value)
    if isinstance(value, dict):
        return {printable(key, raw_bytes): printable(item, raw_bytes) for key, item in value.items()}
    return value


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _shown(char: str, raw_bytes: bool) -> str:
    code = ord(char)
    return f"\\x{code - 0xDC00:02x}" if raw_bytes and 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


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
    so the file is never visible without them (a rename keeps the temp file's own SELinux context).
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


def inode_flags(path: str) -> int | None:
    """The inode flags of ``path`` itself (``lsattr``), or None when it has none to tell (a symlink,
    a file system without them, a path that does not exist)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        buf = bytearray(8)
        fcntl.ioctl(fd, FS_IOC_GETFLAGS, buf)
        return int.from_bytes(buf[:4], sys.byteorder)
    except OSError:
        return None
    finally:
        os.close(fd)


def write_problem(path: str, flags_of: Callable[[str], int | None] = inode_flags) -> str | None:
    """Why :func:`atomic_write` of ``path`` must fail, as far as can be seen without writing; else None.

    The rewrite creates a file in the directory and renames it over ``path``: an immutable or
    append-only file or directory, a read-only file system or a directory we may not write refuse it.
    Read-only, so check mode can predict the failure.
    """
    directory = os.path.dirname(os.path.abspath(path))
    for target, what in ((path, path), (directory, f"its directory {directory}")):
        flags = flags_of(target)
        if flags is not None and flags & FS_IMMUTABLE_FL:
            return f"{what} is immutable (chattr +i; lsattr shows 'i'): remove the flag with chattr -i"
        if flags is not None and flags & FS_APPEND_FL:
            return f"{what} is append-only (chattr +a; lsattr shows 'a'): remove the flag with chattr -a"
    if not os.path.isdir(directory):
        return None  # read_bytes and atomic_write say so in their own words
    try:
        if os.statvfs(directory).f_flag & os.ST_RDONLY:
            return f"{directory} is on a read-only file system"
    except OSError:
        return None
    if not os.access(directory, os.W_OK):
        return f"{directory} is not writable for this user"
    return None
