"""A fake of the syscall boundary (_xfs.Kernel): project ids by inode, dquots in a dict."""
from __future__ import annotations

import errno
import os
import stat
import struct

from ansible_collections.mesos.xfs_quota.plugins.module_utils import _xfs


def mountinfo_line(mount_id: int, mountpoint: str, fstype: str = "xfs", source: str = "/dev/fake",
                   super_options: str = "rw,prjquota", root: str = "/") -> str:
    escaped = mountpoint.replace(" ", "\\040")
    return f"{mount_id} 1 8:{mount_id} {root} {escaped} rw,relatime shared:1 - {fstype} {source} {super_options}\n"


# struct fs_disk_quota as <linux/dqblk_xfs.h> lays it out (the kernel's side, written independently of
# _xfs.FsDiskQuota so that a wrong field there shows): version, flags, fieldmask, id, blk hard/soft,
# ino hard/soft, bcount, icount, itimer, btimer, iwarns, bwarns, 4 x s8, rtb hard/soft, rtbcount,
# rtbtimer, rtbwarns, pad, 8 pad.
FS_DISK_QUOTA = struct.Struct("=bbHIQQQQQQiiHHbbbbQQQiHh8x")


class FakeKernel:
    def __init__(self, mountinfo: str, qstat_flags: int = 0x30, mount_ids: bool = True):
        self.mountinfo = mountinfo
        self.qstat_flags = qstat_flags
        self.mount_ids = mount_ids  # False: a kernel without statx STATX_MNT_ID (< 5.8)
        self.mounted: dict[int, int] = {}  # inode -> mount id, for inodes on another mount than 1
        self.attrs: dict[int, tuple[int, int]] = {}
        self.dquots: dict[int, list[int]] = {}  # id -> [bhard, bsoft, ihard, isoft, bcount, icount, rtbhard, rtbsoft]
        self.calls: list[str] = []

    def read_mountinfo(self) -> str:
        return self.mountinfo

    def ioctl(self, fd: int, request: int, buf: bytearray, mutate: bool = True) -> None:
        if request == _xfs.FS_IOC_FSGETXATTR and mutate:
            self.get_fsxattr(fd, buf)
        elif request == _xfs.FS_IOC_FSSETXATTR:
            self.set_fsxattr(fd, buf)
        else:  # pragma: no cover
            raise OSError(errno.ENOTTY, "unexpected ioctl")

    def get_fsxattr(self, fd: int, buf: bytearray) -> None:
        self.calls.append("get")
        if not stat.S_ISREG(os.fstat(fd).st_mode) and not stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.ENOTTY, os.strerror(errno.ENOTTY))  # as XFS answers for a FIFO or device
        xflags, projid = self.attrs.get(os.fstat(fd).st_ino, (0, 0))
        _xfs.FSXATTR.pack_into(buf, 0, xflags, 0, 0, projid, 0)

    def set_fsxattr(self, fd: int, buf: bytearray) -> None:
        self.calls.append("set")
        xflags, _e, _n, projid, _c = _xfs.FSXATTR.unpack_from(buf)
        self.attrs[os.fstat(fd).st_ino] = (xflags, projid)

    def project_of_path(self, path: str) -> tuple[int, int]:
        return self.attrs.get(os.lstat(path).st_ino, (0, 0))

    def mount_id_reader(self):
        if not self.mount_ids:
            return None, "the kernel does not fill STATX_MNT_ID (Linux < 5.8)"
        return self.mount_id, ""

    def mount_id(self, fd: int) -> int:
        self.calls.append("statx")
        return self.mounted.get(os.fstat(fd).st_ino, 1)

    def bind_mount(self, path: str, mount_id: int = 99) -> None:
        """Make ``path`` (a file or directory) appear mounted, as statx would tell, not mountinfo."""
        self.mounted[os.lstat(path).st_ino] = mount_id

    def _pack(self, buf: bytearray, qid: int) -> None:
        bh, bs, ih, is_, bc, ic, rh, rs = self.dquots[qid]
        FS_DISK_QUOTA.pack_into(buf, 0, 1, 2, 0, qid, bh, bs, ih, is_, bc, ic, 0, 0, 0, 0, 0, 0, 0, 0, rh, rs, 0, 0, 0, 0)

    def quotactl(self, cmd: int, device: str, qid: int, buf: bytearray) -> None:
        self.calls.append(f"quotactl:{cmd:#x}")
        assert not isinstance(qid, bool) and 0 <= qid <= 0xFFFFFFFF, f"quotactl got id {qid!r}"  # a qid_t
        if cmd == _xfs.Q_XGETQSTATV:
            if not self.qstat_flags:
                raise OSError(errno.ENOSYS, "quota off")
            buf[2:4] = self.qstat_flags.to_bytes(2, "little")
        elif cmd == _xfs.Q_XGETQUOTA:
            if qid not in self.dquots:
                raise OSError(errno.ENOENT, "no dquot")
            self._pack(buf, qid)
        elif cmd == _xfs.Q_XGETNEXTQUOTA:
            ids = sorted(i for i in self.dquots if i >= qid)
            if not ids:
                raise OSError(errno.ENOENT, "none")
            self._pack(buf, ids[0])
        elif cmd == _xfs.Q_XSETQLIM:
            v = FS_DISK_QUOTA.unpack_from(buf)
            mask, entry = v[2], self.dquots.setdefault(qid, [0] * 8)
            for bit, index, value in ((0x08, 0, v[4]), (0x04, 1, v[5]), (0x02, 2, v[6]), (0x01, 3, v[7]),
                                      (0x20, 6, v[18]), (0x10, 7, v[19])):
                if mask & bit:
                    entry[index] = value
        else:  # pragma: no cover
            raise OSError(errno.EINVAL, "unexpected command")
