from __future__ import annotations

import errno
import os
import stat

import pytest

from ansible_collections.mesos.xfs_quota.plugins.module_utils import _files
from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import FileError, atomic_write, locked, read_bytes

CONTEXT = b"system_u:object_r:etc_t:s0\x00"


def test_a_rewrite_keeps_the_selinux_context_mode_and_owner(tmp_path, monkeypatch):
    """A rename keeps the temp file's SELinux context, so the old file's context is copied to it first."""
    target = tmp_path / "projid"
    target.write_bytes(b"a:1\n")
    os.chmod(target, 0o640)
    contexts = {str(target): CONTEXT}
    set_calls = []

    def getxattr(path, name, follow_symlinks=True):
        assert name == "security.selinux" and not follow_symlinks
        if str(path) not in contexts:
            raise OSError(errno.ENODATA, "No data available")
        return contexts[str(path)]

    def setxattr(fd, name, value):
        set_calls.append((os.readlink(f"/proc/self/fd/{fd}"), name, value))

    monkeypatch.setattr(_files.os, "getxattr", getxattr)
    monkeypatch.setattr(_files.os, "setxattr", setxattr)
    atomic_write(str(target), "a:1\nb:2\n")
    assert target.read_bytes() == b"a:1\nb:2\n" and stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert len(set_calls) == 1
    written_to, name, value = set_calls[0]
    assert name == "security.selinux" and value == CONTEXT
    assert os.path.basename(written_to).startswith(".projid.")  # the temp file, before the rename


def test_no_selinux_context_is_set_where_the_file_has_none(tmp_path, monkeypatch):
    monkeypatch.setattr(_files.os, "setxattr", lambda *a: pytest.fail("setxattr without a context to keep"))
    atomic_write(str(tmp_path / "new"), b"x\n")
    atomic_write(str(tmp_path / "new"), b"y\n")
    assert (tmp_path / "new").read_bytes() == b"y\n"


def test_bytes_that_are_not_utf8_survive_a_text_round_trip(tmp_path):
    target = tmp_path / "f"
    target.write_bytes(b"caf\xe9\r\n\xff")
    atomic_write(str(target), _files.read_text(str(target)))
    assert target.read_bytes() == b"caf\xe9\r\n\xff"


@pytest.mark.parametrize("what", ["missing", "directory"])
def test_unusable_paths_are_errors_naming_the_parameter(tmp_path, what):
    path = str(tmp_path / "no" / "such" / "file") if what == "missing" else str(tmp_path)
    with pytest.raises(FileError, match=r"^projid_file: "):
        read_bytes(path, "projid_file") if what == "directory" else atomic_write(path, "x", param="projid_file")
    if what == "missing":
        with pytest.raises(FileError, match=r"^projects_file: cannot create the lock file .*does not exist"):
            with locked(path + ".lock", "projects_file"):
                pass


@pytest.mark.parametrize("flagged, flags, words", [
    ("file", _files.FS_IMMUTABLE_FL, "fstab is immutable (chattr +i"),
    ("file", _files.FS_APPEND_FL, "fstab is append-only (chattr +a"),
    ("dir", _files.FS_IMMUTABLE_FL, "its directory "),
])
def test_write_problem_sees_what_makes_a_rewrite_fail_without_writing(tmp_path, flagged, flags, words):
    target = tmp_path / "fstab"
    target.write_text("x\n")
    which = str(target) if flagged == "file" else str(tmp_path)
    problem = _files.write_problem(str(target), lambda path: flags if path == which else 0)
    assert problem is not None and words in problem and target.read_text() == "x\n"
    assert _files.write_problem(str(target), lambda path: 0) is None
    assert _files.write_problem(str(target), lambda path: None) is None  # no flags to tell: nothing seen


def test_inode_flags_read_the_real_flags_or_none(tmp_path):
    target = tmp_path / "f"
    target.write_text("x")
    flags = _files.inode_flags(str(target))
    assert flags is None or not flags & _files.FS_IMMUTABLE_FL
    assert _files.inode_flags(str(tmp_path / "missing")) is None
    (tmp_path / "link").symlink_to(target)
    assert _files.inode_flags(str(tmp_path / "link")) is None
