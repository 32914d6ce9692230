from __future__ import annotations

import errno
import os
import select
import threading

import pytest

from ansible_collections.mesos.xfs_quota.plugins.module_utils import _mount_fence, _tree_walk
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mount_fence import FORCE_ENV, statx_mount_id_reader
from ansible_collections.mesos.xfs_quota.plugins.module_utils._tree_walk import assign_tree
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import FS_XFLAG_PROJINHERIT, XfsError, XfsFilesystem

from ansible_collections.mesos.xfs_quota.tests.unit.plugins.module_utils.fake_kernel import (
    FakeKernel, mountinfo_line)

MOUNTINFO_ROOT = "1 0 8:1 / / rw - ext4 /dev/sda rw\n"


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


@pytest.fixture
def big_tree(tmp_path):
    """40 directories of 60 files, a symlink and a FIFO deep inside, and a bind-mount stand-in."""
    root = tmp_path / "big"
    for d in range(40):
        sub = root / f"d{d % 4}" / f"e{d}"
        sub.mkdir(parents=True)
        for f in range(60):
            (sub / f"f{f}").write_text("")
    (root / "d1" / "e1" / "link").symlink_to("/etc")
    os.mkfifo(root / "d2" / "e2" / "fifo")
    (root / "d3" / "volume").mkdir()
    (root / "d3" / "volume" / "outside").write_text("z")
    return root


def fs_for(tmp_path, extra: str = "", kernel_class=FakeKernel, **kw):
    kernel = kernel_class(MOUNTINFO_ROOT + mountinfo_line(40, str(tmp_path)) + extra, **kw)
    return XfsFilesystem(str(tmp_path), kernel), kernel


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_assigns_files_and_dirs_skips_links_fifos_and_mounts(tmp_path, tree):
    # "volume" is a bind mount of the same file system: only mountinfo can tell.
    fs, kernel = fs_for(tmp_path, mountinfo_line(41, str(tree / "volume"), root="/elsewhere"))
    done = threading.Event()
    result = None

    def run():
        nonlocal result
        result = assign_tree(fs, str(tree), 7001)
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(10), "the walk blocked (FIFO opened?)"
    assert result.changed == 5  # sandbox, a, a/b, a/b/f1, f0
    assert result.skipped_special == 2  # link, fifo
    assert result.skipped_mounts == [str(tree / "volume")]
    assert kernel.project_of_path(str(tree / "a" / "b" / "f1")) == (0, 7001)
    assert kernel.project_of_path(str(tree / "a")) == (FS_XFLAG_PROJINHERIT, 7001)
    assert kernel.project_of_path(str(tree / "volume" / "outside")) == (0, 0)
    again = assign_tree(fs, str(tree), 7001)
    assert (again.changed, again.unchanged) == (0, 5)


def test_dry_run_changes_nothing(tmp_path, tree):
    fs, kernel = fs_for(tmp_path)
    result = assign_tree(fs, str(tree), 7001, dry_run=True)
    assert result.changed == 7 and "set" not in kernel.calls  # volume is no mount here


def test_not_recursive_assigns_the_root_only(tmp_path, tree):
    fs, kernel = fs_for(tmp_path)
    assert assign_tree(fs, str(tree), 7001, recursive=False).changed == 1
    assert kernel.project_of_path(str(tree)) == (FS_XFLAG_PROJINHERIT, 7001)
    assert kernel.project_of_path(str(tree / "f0")) == (0, 0)
    assert assign_tree(fs, str(tree / "f0"), 7001).changed == 1  # a file as the tree
    assert kernel.project_of_path(str(tree / "f0")) == (0, 7001)


def test_refuses_a_symlink_root(tmp_path, tree):
    fs, _k = fs_for(tmp_path)
    with pytest.raises(XfsError, match="symbolic link"):
        assign_tree(fs, str(tree / "link"), 1)
    with pytest.raises(XfsError, match="symbolic link"):
        fs.project_of(str(tree / "link"))


def test_a_large_directory_is_assigned_in_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(_tree_walk, "_FILES_PER_BATCH", 7)
    flat = tmp_path / "flat"
    flat.mkdir()
    for f in range(50):
        (flat / f"f{f}").write_text("")
    os.mkfifo(flat / "fifo")
    fs, kernel = fs_for(tmp_path)
    result = assign_tree(fs, str(flat), 7001)
    assert (result.changed, result.skipped_special) == (51, 1)
    assert all(kernel.project_of_path(str(flat / f"f{f}")) == (0, 7001) for f in range(50))


def test_a_big_tree_in_one_process_assigns_everything_once_and_leaks_no_fd(tmp_path, big_tree):
    fs, kernel = fs_for(tmp_path, mountinfo_line(41, str(big_tree / "d3" / "volume"), root="/elsewhere"))
    fds = open_fds()
    result = assign_tree(fs, str(big_tree), 7001)
    assert result.changed == 1 + 4 + 40 + 40 * 60  # root, d*, e*, files
    assert result.skipped_special == 2
    assert result.skipped_mounts == [str(big_tree / "d3" / "volume")]
    assert kernel.project_of_path(str(big_tree / "d0" / "e36" / "f59")) == (0, 7001)
    assert kernel.project_of_path(str(big_tree / "d1")) == (FS_XFLAG_PROJINHERIT, 7001)
    assert kernel.project_of_path(str(big_tree / "d3" / "volume" / "outside")) == (0, 0)
    assert open_fds() == fds
    again = assign_tree(fs, str(big_tree), 7001)
    assert (again.changed, again.unchanged) == (0, result.changed)


class FailingKernel(FakeKernel):
    """Fails to set the project id of files named ``fail_on``."""

    def __init__(self, mountinfo: str, fail_on: str):
        super().__init__(mountinfo)
        self.fail_on = fail_on

    def set_fsxattr(self, fd: int, buf: bytearray) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").endswith("/" + self.fail_on):
            raise OSError(errno.EIO, "Input/output error")
        super().set_fsxattr(fd, buf)


def test_a_failure_names_the_file_and_leaks_no_fd(tmp_path, big_tree):
    fs, _k = fs_for(tmp_path, kernel_class=FailingKernel, fail_on="f17")
    fds = open_fds()
    with pytest.raises(XfsError, match=r"/big/d\d/e\d+/f17: cannot set project 7001: Input/output error"):
        assign_tree(fs, str(big_tree), 7001)
    assert open_fds() == fds


class ChangingKernel(FakeKernel):
    """Runs ``change`` once, when the walk first reads the project id of the file ``trigger``."""

    def __init__(self, mountinfo: str, trigger: str, change):
        super().__init__(mountinfo)
        self.trigger, self.change = trigger, change

    def get_fsxattr(self, fd: int, buf: bytearray) -> None:
        if self.change and os.readlink(f"/proc/self/fd/{fd}") == self.trigger:
            change, self.change = self.change, None
            change()
        super().get_fsxattr(fd, buf)


class SortedListing:
    """os.scandir read at once and sorted by name: the walk meets entries in a known order."""

    def __init__(self, fd: int):
        with REAL_SCANDIR(fd) as entries:
            self.entries = iter(sorted(entries, key=lambda e: e.name))

    def __iter__(self):
        return self.entries

    def close(self) -> None:
        pass


REAL_SCANDIR = os.scandir


def test_entries_that_vanish_or_turn_into_symlinks_after_listing_are_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(_tree_walk.os, "scandir", SortedListing)
    flat = tmp_path / "flat"
    (flat / "b_dir").mkdir(parents=True)
    (flat / "b_dir" / "inner").write_text("")
    for name in ("a0", "c1", "c2"):
        (flat / name).write_text("")

    def swap():  # while a0 is assigned: c1 and c2 go, b_dir becomes a symlink to a directory elsewhere
        (flat / "c1").unlink()
        (flat / "c2").unlink()
        (flat / "b_dir").rename(tmp_path / "moved")
        (flat / "b_dir").symlink_to(tmp_path / "moved")

    fs, kernel = fs_for(tmp_path, kernel_class=ChangingKernel, trigger=str(flat / "a0"), change=swap)
    fds = open_fds()
    result = assign_tree(fs, str(flat), 7001)
    assert (result.changed, result.skipped_special) == (2, 1)  # flat and a0; b_dir, now a link
    assert kernel.project_of_path(str(flat / "a0")) == (0, 7001)
    assert kernel.project_of_path(str(tmp_path / "moved")) == (0, 0)
    assert kernel.project_of_path(str(tmp_path / "moved" / "inner")) == (0, 0)
    assert open_fds() == fds


@pytest.mark.parametrize("statx", [True, False], ids=["statx_mnt_id", "mountinfo fallback"])
def test_a_file_bind_mounted_into_the_tree_keeps_its_project(tmp_path, tree, statx):
    # The bound file is listed in mountinfo: both methods leave it alone, unopened.
    bound = tree / "a" / "b" / "f1"
    fs, kernel = fs_for(tmp_path, mountinfo_line(41, str(bound), root="/elsewhere/file"), mount_ids=statx)
    result = assign_tree(fs, str(tree), 7001)
    assert kernel.project_of_path(str(bound)) == (0, 0)
    assert result.skipped_mounts == [str(bound)]
    assert kernel.project_of_path(str(tree / "f0")) == (0, 7001)
    assert result.fence == ("statx_mnt_id" if statx else "mountinfo (the kernel does not fill STATX_MNT_ID (Linux < 5.8))")
    assert ("statx" in kernel.calls) == statx  # asked for each directory


class MountTableWatch:
    """Stands in for poll() on /proc/self/mountinfo: reports a change once ``changed`` is set."""

    changed = False

    def register(self, fd, events):
        pass

    def poll(self, timeout):
        changed, MountTableWatch.changed = MountTableWatch.changed, False
        return [(0, select.POLLPRI)] if changed else []


def test_a_file_mounted_mid_walk_is_left_alone_from_the_next_batch_on(tmp_path, monkeypatch):
    monkeypatch.setattr(_tree_walk.os, "scandir", SortedListing)
    monkeypatch.setattr(_mount_fence.select, "poll", MountTableWatch)
    flat = tmp_path / "flat"
    (flat / "b_dir").mkdir(parents=True)
    for name in ("a0", "c1", "c2"):
        (flat / name).write_text("")

    def mount_c1():  # while a0 is assigned, c1 becomes a mount point (mountinfo shows it, poll says so)
        kernel.mountinfo += mountinfo_line(41, str(flat / "c1"), root="/elsewhere/file")
        MountTableWatch.changed = True

    fs, kernel = fs_for(tmp_path, kernel_class=ChangingKernel, trigger=str(flat / "a0"), change=mount_c1)
    result = assign_tree(fs, str(flat), 7001)
    assert result.skipped_mounts == [str(flat / "c1")]
    assert kernel.project_of_path(str(flat / "c1")) == (0, 0)
    assert kernel.project_of_path(str(flat / "c2")) == (0, 7001)


@pytest.mark.parametrize("statx", [True, False], ids=["statx_mnt_id", "mountinfo fallback"])
def test_statx_catches_a_directory_bind_mount_that_mountinfo_did_not_show(tmp_path, tree, statx):
    fs, kernel = fs_for(tmp_path, mount_ids=statx)  # mountinfo shows nothing below the tree
    kernel.bind_mount(str(tree / "volume"))  # same st_dev: only the mount id tells
    result = assign_tree(fs, str(tree), 7001)
    if statx:
        assert result.skipped_mounts == [str(tree / "volume")]
        assert kernel.project_of_path(str(tree / "volume" / "outside")) == (0, 0)
    else:  # the fallback's limit: a mount that mountinfo never showed
        assert result.skipped_mounts == []
    assert kernel.project_of_path(str(tree / "a" / "b" / "f1")) == (0, 7001)


def test_the_fallback_can_be_forced_on_a_kernel_with_mount_ids(tmp_path, tree, monkeypatch):
    monkeypatch.setenv(FORCE_ENV, "mountinfo")
    bound = tree / "f0"
    fs, kernel = fs_for(tmp_path, mountinfo_line(41, str(bound), root="/elsewhere/file"))
    result = assign_tree(fs, str(tree), 7001)
    assert result.fence == "mountinfo (forced by MXQ_WALK_FENCE=mountinfo)"
    assert "statx" not in kernel.calls
    assert result.skipped_mounts == [str(bound)] and kernel.project_of_path(str(bound)) == (0, 0)


def test_the_real_statx_probe_reports_mount_ids_on_this_kernel(tmp_path):
    reader, why = statx_mount_id_reader()
    if reader is None:  # pragma: no cover - the CI and VM kernels are 6.x
        pytest.fail(f"this kernel should report mount ids: {why}")
    fd = os.open(str(tmp_path), os.O_RDONLY | os.O_CLOEXEC)
    try:
        with open(tmp_path / "x", "w", encoding="ascii") as f:
            assert reader(f.fileno()) == reader(fd) > 0  # one mount: one id
    finally:
        os.close(fd)


def test_a_statx_that_fails_at_the_probe_falls_back_to_mountinfo(tmp_path, tree):
    bound = tree / "f0"
    fs, kernel = fs_for(tmp_path, mountinfo_line(41, str(bound), root="/elsewhere/file"))

    def denied(fd):
        raise OSError(errno.EPERM, "Operation not permitted")

    kernel.mount_id = denied
    result = assign_tree(fs, str(tree), 7001)
    assert result.fence == "mountinfo (statx: Operation not permitted)"
    assert result.skipped_mounts == [str(bound)] and kernel.project_of_path(str(bound)) == (0, 0)


def test_the_walk_gives_back_the_working_directory(tmp_path, big_tree):
    before = os.getcwd()
    assert assign_tree(fs_for(tmp_path)[0], str(big_tree), 7001).changed > 0
    assert os.getcwd() == before
    with pytest.raises(XfsError):
        assign_tree(fs_for(tmp_path, kernel_class=FailingKernel, fail_on="f17")[0], str(big_tree), 7002)
    assert os.getcwd() == before
