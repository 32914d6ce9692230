from __future__ import annotations

import ctypes

import pytest

from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import (
    FsDiskQuota, XfsError, XfsFilesystem, mount_of, parse_mountinfo)

from ansible_collections.mesos.xfs_quota.tests.unit.plugins.module_utils.fake_kernel import FS_DISK_QUOTA, FakeKernel, mountinfo_line


def fs_for(tmp_path, extra: str = "", **kw) -> tuple[XfsFilesystem, FakeKernel]:
    kernel = FakeKernel("1 0 8:1 / / rw - ext4 /dev/sda rw\n" + mountinfo_line(40, str(tmp_path)) + extra, **kw)
    return XfsFilesystem(str(tmp_path), kernel), kernel


def test_parse_mountinfo_unescapes_and_finds_longest_prefix():
    mounts = parse_mountinfo("1 0 8:1 / / rw - ext4 /dev/sda rw\n" + mountinfo_line(2, "/srv/my data")
                             + mountinfo_line(3, "/srv/my data/vol", root="/other"))
    assert mounts[1].mountpoint == "/srv/my data" and mounts[1].fstype == "xfs"
    assert mounts[1].super_options == ("rw", "prjquota")
    assert mount_of("/srv/my data/x", mounts).mount_id == 2
    assert mount_of("/srv/my data/vol/y", mounts).mount_id == 3
    assert mount_of("/etc", mounts).mount_id == 1


def test_not_xfs_is_refused_with_the_mount(tmp_path):
    kernel = FakeKernel("1 0 8:1 / / rw - ext4 /dev/sda rw\n")
    with pytest.raises(XfsError, match=r"on / \(ext4\), not on XFS"):
        XfsFilesystem(str(tmp_path), kernel)


def test_missing_path_is_refused(tmp_path):
    with pytest.raises(XfsError, match="does not exist"):
        XfsFilesystem(str(tmp_path / "nope"), FakeKernel(""))


def test_quota_off_is_reported(tmp_path):
    fs, _k = fs_for(tmp_path, qstat_flags=0)
    with pytest.raises(XfsError, match="without project quota on; mount it with prjquota"):
        fs.require_project_quota()


def test_limits_round_trip_in_fs_blocks(tmp_path):
    fs, kernel = fs_for(tmp_path)
    assert fs.get_quota(9).limits["bhard"] == 0  # no dquot yet
    fs.set_limits(9, {"bhard": fs.effective_limit("bhard", 1000), "ihard": 50})
    quota = fs.get_quota(9)
    assert quota.limits["bhard"] == fs.block_size and quota.limits["ihard"] == 50
    assert kernel.dquots[9][0] == fs.block_size // 512
    assert [q.project_id for q in fs.all_quotas()] == [9]


def test_fs_disk_quota_has_the_kernel_layout():
    """Named fields with the size and offsets of <linux/dqblk_xfs.h>, as the fake kernel packs them."""
    assert ctypes.sizeof(FsDiskQuota) == FS_DISK_QUOTA.size == 112
    offsets = {name: getattr(FsDiskQuota, name).offset for name, _type in FsDiskQuota._fields_}
    assert (offsets["d_id"], offsets["d_blk_hardlimit"], offsets["d_bcount"], offsets["d_rtb_hardlimit"],
            offsets["d_rtbcount"], offsets["d_padding4"]) == (4, 8, 40, 72, 88, 104)


def test_ids_outside_a_qid_never_reach_quotactl(tmp_path):
    fs, kernel = fs_for(tmp_path)
    for bad in (0, -1, 2**32, 2**32 - 1, True):
        with pytest.raises(XfsError, match=r"^id: "):
            fs.get_quota(bad)
        with pytest.raises(XfsError, match=r"^id: "):
            fs.set_limits(bad, {"bhard": 4096})
    assert not [call for call in kernel.calls if call.startswith("quotactl")]
