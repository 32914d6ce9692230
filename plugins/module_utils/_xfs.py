# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one kernel interface of the collection: XFS project ids and project quota.

* project id + PROJINHERIT: ``FS_IOC_FSGETXATTR`` / ``FS_IOC_FSSETXATTR`` on an open fd;
* limits and usage: ``quotactl(Q_XGETQUOTA | Q_XGETNEXTQUOTA | Q_XSETQLIM | Q_XGETQSTATV)``;
* mounts: ``/proc/self/mountinfo``;
* the open flags of the tree walk (``_tree_walk``), which uses this module for everything else.

Everything that touches the kernel goes through :class:`Kernel`, which unit tests replace.
No ``xfs_quota`` process is run and none of its output is parsed.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import stat
import struct
from dataclasses import dataclass, field

from ansible_collections.mesos.xfs_quota.plugins.module_utils._project_ids import PROJECT_ID_MAX, ProjectIdError, check_project_id
from ansible_collections.mesos.xfs_quota.plugins.module_utils._sizes import BASIC_BLOCK, round_up

# <linux/fs.h>: struct fsxattr is 28 bytes; _IOR('X', 31, ...) / _IOW('X', 32, ...)
FS_IOC_FSGETXATTR = 0x801C581F
FS_IOC_FSSETXATTR = 0x401C5820
FS_XFLAG_PROJINHERIT = 0x00000200
FSXATTR = struct.Struct("=IIIII8x")  # xflags, extsize, nextents, projid, cowextsize

# <linux/quota.h>, <linux/dqblk_xfs.h>
PRJQUOTA = 2
_XQM_CMD = ord("X") << 8
Q_XGETQUOTA = _XQM_CMD + 3
Q_XSETQLIM = _XQM_CMD + 4
Q_XGETQSTATV = _XQM_CMD + 8
Q_XGETNEXTQUOTA = _XQM_CMD + 9
FS_DQUOT_VERSION = 1
FS_PROJ_QUOTA = 2
FS_QSTATV_VERSION1 = 1


class FsDiskQuota(ctypes.Structure):
    """``struct fs_disk_quota`` of <linux/dqblk_xfs.h> (112 bytes); block fields in 512-byte blocks."""

    _fields_ = [
        ("d_version", ctypes.c_int8), ("d_flags", ctypes.c_int8), ("d_fieldmask", ctypes.c_uint16),
        ("d_id", ctypes.c_uint32),
        ("d_blk_hardlimit", ctypes.c_uint64), ("d_blk_softlimit", ctypes.c_uint64),
        ("d_ino_hardlimit", ctypes.c_uint64), ("d_ino_softlimit", ctypes.c_uint64),
        ("d_bcount", ctypes.c_uint64), ("d_icount", ctypes.c_uint64),
        ("d_itimer", ctypes.c_int32), ("d_btimer", ctypes.c_int32),
        ("d_iwarns", ctypes.c_uint16), ("d_bwarns", ctypes.c_uint16),
        ("d_itimer_hi", ctypes.c_int8), ("d_btimer_hi", ctypes.c_int8),
        ("d_rtbtimer_hi", ctypes.c_int8), ("d_padding2", ctypes.c_int8),
        ("d_rtb_hardlimit", ctypes.c_uint64), ("d_rtb_softlimit", ctypes.c_uint64), ("d_rtbcount", ctypes.c_uint64),
        ("d_rtbtimer", ctypes.c_int32), ("d_rtbwarns", ctypes.c_uint16), ("d_padding3", ctypes.c_int16),
        ("d_padding4", ctypes.c_char * 8),
    ]


# fs_quota_statv: version, pad, flags, incoredqs, 3 x (ino, nblks, nextents, pad), timers...
_QSTATV = struct.Struct("=bBHI" + "QQII" * 3 + "iiiHHHHI56x")

# Limit fields: name -> (fs_disk_quota field mask bit, its FsDiskQuota field, unit in bytes; 1 = a count of inodes)
LIMIT_FIELDS = {
    "isoft": (0x01, "d_ino_softlimit", 1),
    "ihard": (0x02, "d_ino_hardlimit", 1),
    "bsoft": (0x04, "d_blk_softlimit", BASIC_BLOCK),
    "bhard": (0x08, "d_blk_hardlimit", BASIC_BLOCK),
    "rtbsoft": (0x10, "d_rtb_softlimit", BASIC_BLOCK),
    "rtbhard": (0x20, "d_rtb_hardlimit", BASIC_BLOCK),
}
BLOCK_LIMITS = ("bsoft", "bhard", "rtbsoft", "rtbhard")

# Never follow a symlink, never block on a FIFO or device, never take a terminal.
OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC

_QSTAT_FLAGS = {
    "user_accounting": 0x01,
    "user_enforcement": 0x02,
    "group_accounting": 0x04,
    "group_enforcement": 0x08,
    "project_accounting": 0x10,
    "project_enforcement": 0x20,
}


class XfsError(Exception):
    """A failure with a message meant for the operator."""


@dataclass(frozen=True)
class Mount:
    """One line of /proc/self/mountinfo."""

    mount_id: int
    parent_id: int
    device: str  # major:minor
    root: str
    mountpoint: str
    options: tuple[str, ...]
    fstype: str
    source: str
    super_options: tuple[str, ...]


@dataclass(frozen=True)
class QuotaState:
    user_accounting: bool = False
    user_enforcement: bool = False
    group_accounting: bool = False
    group_enforcement: bool = False
    project_accounting: bool = False
    project_enforcement: bool = False


@dataclass
class ProjectQuota:
    """Limits (bytes, inode counts; 0 = none) and usage of one project on one file system."""

    project_id: int
    limits: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LIMIT_FIELDS, 0))
    used_bytes: int = 0
    used_inodes: int = 0
    used_rt_bytes: int = 0


def _unescape(text: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as octal (\040 ...)
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and text[i + 1:i + 4].isdigit():
            out.append(chr(int(text[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[Mount]:
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 10 or "-" not in fields[6:]:
            continue
        sep = fields.index("-", 6)
        mounts.append(
            Mount(
                mount_id=int(fields[0]),
                parent_id=int(fields[1]),
                device=fields[2],
                root=_unescape(fields[3]),
                mountpoint=_unescape(fields[4]),
                options=tuple(fields[5].split(",")),
                fstype=fields[sep + 1],
                source=_unescape(fields[sep + 2]),
                super_options=tuple(fields[sep + 3].split(",")) if len(fields) > sep + 3 else (),
            )
        )
    return mounts


def mount_of(path: str, mounts: list[Mount]) -> Mount:
    """The mount that holds ``path`` (resolved): longest mount point prefix, last mounted wins."""
    real = os.path.realpath(path)
    best: Mount | None = None
    for mount in mounts:
        mp = mount.mountpoint
        if real == mp or real.startswith(mp.rstrip("/") + "/"):
            if best is None or len(mp) >= len(best.mountpoint):
                best = mount
    if best is None:  # pragma: no cover - "/" is always mounted
        raise XfsError(f"{path}: no mount holds this path")
    return best


def mounts_below(root: str, mounts: list[Mount], own: Mount) -> set[str]:
    """Mount points strictly inside ``root`` (bind mounts of the same file system included)."""
    prefix = root.rstrip("/") + "/"
    return {m.mountpoint for m in mounts if m.mountpoint.startswith(prefix) and m is not own}


class Kernel:
    """The syscall boundary. Unit tests substitute a fake with the same methods."""

    def __init__(self) -> None:
        self._libc = ctypes.CDLL(None, use_errno=True)
        # quotactl(2) takes the id as an int but the kernel reads a qid_t (u32): an unsigned
        # argument, and ids outside 0..2^32-1 are refused here rather than wrapped by ctypes.
        self._libc.quotactl.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32, ctypes.c_void_p]

    def read_mountinfo(self) -> str:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
            return f.read()

    # fcntl.ioctl itself, not a wrapper: the tree walk calls it twice per inode, and one more
    # Python frame per call costs a sixth of the walk's time in the test VM.
    ioctl = staticmethod(fcntl.ioctl)

    def quotactl(self, cmd: int, device: str, qid: int, buf: bytearray) -> None:
        if isinstance(qid, bool) or not 0 <= qid <= 0xFFFFFFFF:
            raise ValueError(f"quotactl: id {qid!r} is not a 32-bit quota id")
        cbuf = (ctypes.c_char * len(buf)).from_buffer(buf)
        if self._libc.quotactl((cmd << 8) | PRJQUOTA, os.fsencode(device), qid, cbuf) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))


class XfsFilesystem:
    """Project ids and project quota on the XFS file system that holds a given path."""

    def __init__(self, path: str, kernel: Kernel | None = None, mounts: list[Mount] | None = None):
        self.kernel = kernel or Kernel()
        self.mounts = mounts if mounts is not None else parse_mountinfo(self.kernel.read_mountinfo())
        if not os.path.exists(path):
            raise XfsError(f"{path} does not exist")
        self.mount = mount_of(path, self.mounts)
        if self.mount.fstype != "xfs":
            raise XfsError(
                f"{path} is on {self.mount.mountpoint} ({self.mount.fstype}), not on XFS; "
                "project quotas need an XFS file system"
            )
        self.mountpoint = self.mount.mountpoint
        self.device = self.mount.source
        self.block_size = os.statvfs(self.mountpoint).f_bsize

    @classmethod
    def with_project_quota(cls, path: str, kernel: Kernel, mounts: list[Mount], param: str) -> "XfsFilesystem":
        """The file system of ``path``, which must have project quota on; errors name ``param``."""
        try:
            fs = cls(path, kernel, mounts)
            fs.require_project_quota()
        except XfsError as exc:
            raise XfsError(f"{param}: {exc}") from exc
        return fs

    # --- quota state -------------------------------------------------------------------------
    def quota_state(self) -> QuotaState:
        buf = bytearray(_QSTATV.size)
        buf[0] = FS_QSTATV_VERSION1
        try:
            self.kernel.quotactl(Q_XGETQSTATV, self.device, 0, buf)
        except OSError as exc:
            if exc.errno in (errno.ENOSYS, errno.ENOTSUP, errno.EINVAL, errno.ESRCH):
                return QuotaState()  # quota off altogether
            raise XfsError(f"{self.mountpoint}: cannot read quota state: {exc.strerror}") from exc
        flags = _QSTATV.unpack_from(buf)[2]
        return QuotaState(**{name: bool(flags & bit) for name, bit in _QSTAT_FLAGS.items()})

    def require_project_quota(self, enforced: bool = False) -> None:
        state = self.quota_state()
        if not state.project_accounting or (enforced and not state.project_enforcement):
            what = "enforced" if enforced else "on"
            raise XfsError(
                f"{self.mountpoint} ({self.device}) is mounted without project quota {what}; "
                "mount it with prjquota (module mesos.xfs_quota.xfs_mount does this)"
            )

    # --- limits and usage ----------------------------------------------------------------------
    @staticmethod
    def _decode(buf: bytearray) -> ProjectQuota:
        dq = FsDiskQuota.from_buffer_copy(buf)
        quota = ProjectQuota(project_id=dq.d_id)
        quota.limits = {name: getattr(dq, fieldname) * unit for name, (_bit, fieldname, unit) in LIMIT_FIELDS.items()}
        quota.used_bytes, quota.used_inodes = dq.d_bcount * BASIC_BLOCK, dq.d_icount
        quota.used_rt_bytes = dq.d_rtbcount * BASIC_BLOCK
        return quota

    @staticmethod
    def _checked_id(project_id: int) -> int:
        """A project id in range before it reaches quotactl (a C int would truncate 2^32 to 0)."""
        try:
            return check_project_id(project_id, "id")
        except ProjectIdError as exc:
            raise XfsError(str(exc)) from exc

    def get_quota(self, project_id: int) -> ProjectQuota:
        self._checked_id(project_id)
        buf = bytearray(ctypes.sizeof(FsDiskQuota))
        try:
            self.kernel.quotactl(Q_XGETQUOTA, self.device, project_id, buf)
        except OSError as exc:
            if exc.errno == errno.ENOENT:  # no dquot yet: no usage, no limits
                return ProjectQuota(project_id=project_id)
            raise XfsError(f"{self.mountpoint}: cannot read quota of project {project_id}: {exc.strerror}") from exc
        return self._decode(buf)

    def all_quotas(self) -> list[ProjectQuota]:
        """Every project with a dquot on this file system (Q_XGETNEXTQUOTA walk)."""
        quotas, next_id = [], 0
        buf = bytearray(ctypes.sizeof(FsDiskQuota))
        while next_id <= PROJECT_ID_MAX:
            try:
                self.kernel.quotactl(Q_XGETNEXTQUOTA, self.device, next_id, buf)
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    break
                raise XfsError(f"{self.mountpoint}: cannot list project quotas: {exc.strerror}") from exc
            quota = self._decode(buf)
            quotas.append(quota)
            next_id = quota.project_id + 1
        return quotas

    def effective_limit(self, name: str, value: int) -> int:
        """The limit XFS will report back for ``value``: block limits in whole fs blocks."""
        if name in BLOCK_LIMITS and value:
            return round_up(value, self.block_size)
        return value

    def set_limits(self, project_id: int, limits: dict[str, int]) -> None:
        self._checked_id(project_id)
        dq = FsDiskQuota(d_version=FS_DQUOT_VERSION, d_flags=FS_PROJ_QUOTA, d_id=project_id)
        for name, value in limits.items():
            bit, fieldname, unit = LIMIT_FIELDS[name]
            dq.d_fieldmask |= bit
            setattr(dq, fieldname, round_up(value, unit) // unit)  # bytes -> 512-byte basic blocks
        buf = bytearray(bytes(dq))
        try:
            self.kernel.quotactl(Q_XSETQLIM, self.device, project_id, buf)
        except OSError as exc:
            raise XfsError(f"{self.mountpoint}: cannot set limits of project {project_id}: {exc.strerror}") from exc

    # --- project ids on inodes -------------------------------------------------------------------
    def project_of(self, path: str) -> tuple[int, bool]:
        """(project id, PROJINHERIT set) of ``path`` itself (symlinks not followed).

        Only a regular file or a directory carries a project id that quotas use; anything else
        (a FIFO, socket or device) is refused before the ioctl, which such files do not take.
        """
        try:
            _require_file_or_directory(path, os.lstat(path).st_mode)  # a socket cannot even be opened
        except OSError as exc:
            raise XfsError(f"{path}: {exc.strerror}") from exc
        fd = open_nofollow(path)
        try:
            _require_file_or_directory(path, os.fstat(fd).st_mode)  # what was opened, if it was swapped
            buf = bytearray(FSXATTR.size)
            self.kernel.ioctl(fd, FS_IOC_FSGETXATTR, buf, True)
        except OSError as exc:
            raise XfsError(f"{path}: cannot read the project id: {exc.strerror}") from exc
        finally:
            os.close(fd)
        xflags, _extsize, _nextents, projid, _cow = FSXATTR.unpack_from(buf)
        return projid, bool(xflags & FS_XFLAG_PROJINHERIT)


_KIND_NAMES = {stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
               stat.S_IFBLK: "a block device"}


def _require_file_or_directory(path: str, mode: int) -> None:
    kind = stat.S_IFMT(mode)
    if kind not in (stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK):  # a symlink: refused by open_nofollow
        raise XfsError(f"{path} is {_KIND_NAMES.get(kind, 'a special file')}, not a regular file or directory")


def open_nofollow(path: str, dir_fd: int | None = None) -> int:
    try:
        return os.open(path, OPEN_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise XfsError(f"{path} is a symbolic link; give the real path") from exc
        raise XfsError(f"{path}: cannot open: {exc.strerror}") from exc
