from __future__ import annotations

import os
import threading

import pytest

from ansible_collections.mesos.xfs_quota.plugins.module_utils import _tree_walk
from ansible_collections.mesos.xfs_quota.plugins.module_utils._tree_walk import assign_tree
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import FS_XFLAG_PROJINHERIT, XfsError, XfsFilesystem

from ansible_collections.mesos.xfs_quota.tests.unit.plugins.module_utils.fake_kernel import (
    FakeKernel, FileBackedKernel, mountinfo_line)

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


@pytest.fixture
def forking(monkeypatch):
    """Workers from the first directory on, two of them, whatever this machine's CPU count."""
    monkeypatch.setattr(_tree_walk, "_FORK_AFTER_ENTRIES", 0)
    monkeypatch.setattr(_tree_walk, "_worker_count", lambda: 2)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def assert_no_children_left():
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_labels_files_and_dirs_skips_links_fifos_and_mounts(tmp_path, tree):
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


def test_not_recursive_labels_the_root_only(tmp_path, tree):
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


def test_workers_label_the_same_as_one_process(tmp_path, big_tree, forking):
    fs, kernel = fs_for(tmp_path, mountinfo_line(41, str(big_tree / "d3" / "volume"), root="/elsewhere"),
                        kernel_class=FileBackedKernel)
    fds = open_fds()
    result = assign_tree(fs, str(big_tree), 7001)
    assert result.changed == 1 + 4 + 40 + 40 * 60  # root, d*, e*, files
    assert result.skipped_special == 2
    assert result.skipped_mounts == [str(big_tree / "d3" / "volume")]
    assert kernel.project_of_path(str(big_tree / "d0" / "e36" / "f59")) == (0, 7001)
    assert kernel.project_of_path(str(big_tree / "d1")) == (FS_XFLAG_PROJINHERIT, 7001)
    assert kernel.project_of_path(str(big_tree / "d3" / "volume" / "outside")) == (0, 0)
    assert open_fds() == fds
    assert_no_children_left()

    again = assign_tree(fs, str(big_tree), 7001)
    assert (again.changed, again.unchanged) == (0, result.changed)
    dry = assign_tree(fs, str(big_tree), 7002, dry_run=True)
    assert dry.changed == result.changed
    assert kernel.project_of_path(str(big_tree / "d0" / "e36" / "f59")) == (0, 7001)


def test_a_large_directory_is_split_between_workers_without_labelling_twice(tmp_path, monkeypatch, forking):
    monkeypatch.setattr(_tree_walk, "_SPLIT_DIR_BYTES", 0)
    flat = tmp_path / "flat"
    flat.mkdir()
    for f in range(500):
        (flat / f"f{f}").write_text("")
    (flat / "sub").mkdir()
    fs, kernel = fs_for(tmp_path, kernel_class=FileBackedKernel)
    result = assign_tree(fs, str(flat), 7001)
    assert (result.changed, result.unchanged) == (502, 0)  # each inode counted once
    assert all(kernel.project_of_path(str(flat / f"f{f}")) == (0, 7001) for f in range(500))
    assert kernel.project_of_path(str(flat / "sub")) == (FS_XFLAG_PROJINHERIT, 7001)
    assert_no_children_left()


def test_a_large_directory_is_labelled_in_batches(tmp_path, monkeypatch):
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


@pytest.mark.parametrize("fault, message", [
    ({"fail_on": "f17"}, r"/big/d\d/e\d+/f17: cannot set project 7001: Input/output error"),
    ({"exit_on": "f3"}, r"/big/d\d/e\d+: the worker process labelling it \(pid \d+\) died"),  # not a hang
])
def test_a_worker_fault_is_an_error_naming_the_place_and_leaks_nothing(tmp_path, big_tree, forking, fault, message):
    fs, _k = fs_for(tmp_path, kernel_class=FileBackedKernel, **fault)
    fds = open_fds()
    with pytest.raises(XfsError, match=message):
        assign_tree(fs, str(big_tree), 7001)
    assert open_fds() == fds
    assert_no_children_left()
