from __future__ import annotations

import os
import threading

import pytest

from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import (
    FS_XFLAG_PROJINHERIT, XfsError, XfsFilesystem, mount_of, parse_mountinfo)

from ansible_collections.mesos.xfs_quota.tests.unit.plugins.module_utils.fake_kernel import FakeKernel, mountinfo_line


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "sandbox"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "f1").write_text("x")
    (root / "f0").write_text("y")
    (root / "link").symlink_to("/etc")
    os.mkfifo(root / "fifo")
    (root / "volume").mkdir()
    (root / "volume" / "outside").write_text("z")
    return root


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


def test_assign_tree_labels_files_and_dirs_skips_links_fifos_and_mounts(tmp_path, tree):
    # "volume" is a bind mount of the same file system: only mountinfo can tell.
    fs, kernel = fs_for(tmp_path, mountinfo_line(41, str(tree / "volume"), root="/elsewhere"))
    done = threading.Event()
    result = None

    def run():
        nonlocal result
        result = fs.assign_tree(str(tree), 7001)
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(10), "the walk blocked (FIFO opened?)"
    assert result.changed == 5  # sandbox, a, a/b, a/b/f1, f0
    assert result.skipped_special == 2  # link, fifo
    assert result.skipped_mounts == [str(tree / "volume")]
    assert kernel.project_of_path(str(tree / "a" / "b" / "f1")) == (0, 7001)
    assert kernel.project_of_path(str(tree / "a")) == (FS_XFLAG_PROJINHERIT, 7001)
    assert kernel.project_of_path(str(tree / "volume" / "outside")) == (0, 0)
    again = fs.assign_tree(str(tree), 7001)
    assert (again.changed, again.unchanged) == (0, 5)


def test_assign_tree_dry_run_changes_nothing(tmp_path, tree):
    fs, kernel = fs_for(tmp_path)
    result = fs.assign_tree(str(tree), 7001, dry_run=True)
    assert result.changed == 7 and "set" not in kernel.calls  # volume is no mount here


def test_assign_tree_refuses_a_symlink_root(tmp_path, tree):
    fs, _k = fs_for(tmp_path)
    with pytest.raises(XfsError, match="symbolic link"):
        fs.assign_tree(str(tree / "link"), 1)
    with pytest.raises(XfsError, match="symbolic link"):
        fs.project_of(str(tree / "link"))


def test_limits_round_trip_in_fs_blocks(tmp_path):
    fs, kernel = fs_for(tmp_path)
    assert fs.get_quota(9).limits["bhard"] == 0  # no dquot yet
    fs.set_limits(9, {"bhard": fs.effective_limit("bhard", 1000), "ihard": 50})
    quota = fs.get_quota(9)
    assert quota.limits["bhard"] == fs.block_size and quota.limits["ihard"] == 50
    assert kernel.dquots[9][0] == fs.block_size // 512
    assert [q.project_id for q in fs.all_quotas()] == [9]
