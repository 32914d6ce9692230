"""xfs_project through its main(), on the fake host: what a task owns, and only that, changes."""
from __future__ import annotations

import errno
import os
from unittest import mock

import pytest

from ansible_collections.mesos.xfs_quota.plugins.module_utils import _projects, _xfs_project
from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import FileError
from ansible_collections.mesos.xfs_quota.plugins.module_utils._tree_walk import WalkResult
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import FS_XFLAG_PROJINHERIT
from ansible_collections.mesos.xfs_quota.plugins.modules import xfs_project
from ansible_collections.mesos.xfs_quota.tests.unit.plugins.modules.module_runner import FakeHost


@pytest.fixture
def host(tmp_path):
    return FakeHost(tmp_path)


def tree(host, name, files=("f",)):
    path = host.mnt / name
    path.mkdir()
    for f in files:
        (path / f).write_text("x")
    return path


def test_a_boolean_is_not_an_id(host):
    """id=true (yes in YAML) is a boolean, not project 1: refused, so nothing writes 'ok7:True' or assigns project 1."""
    a = tree(host, "a")
    before = host.snapshot()
    result = host.run(xfs_project, {"name": "ok7", "id": True, "paths": [str(a)]})
    assert result.get("failed") and result["msg"].startswith("id: expected a project id"), result
    assert host.snapshot() == before


def test_absent_with_a_name_and_another_projects_id_deletes_nothing(host):
    """A name and an id that belong to different projects name no project: nothing is deleted (not beta by its id)."""
    b = tree(host, "b")
    assert not host.run(xfs_project, {"name": "beta", "id": 1001, "paths": [str(b)]}).get("failed")
    before = host.snapshot()
    result = host.run(xfs_project, {"name": "alpha", "id": 1001, "state": "absent", "clear_ids": True})
    assert result.get("failed") and result["msg"].startswith("id: 1001 belongs to project 'beta'"), result
    assert host.snapshot() == before and host.project_of(b / "f") == 1001


def test_absent_with_a_name_and_an_id_that_disagree_is_an_error(host):
    host.projid.write_text("alpha:1000\nbeta:1001\n")
    result = host.run(xfs_project, {"name": "alpha", "id": 1001, "state": "absent"})
    assert result.get("failed") and result["msg"].startswith("id: project 'alpha' has id 1000"), result
    assert host.projid.read_text() == "alpha:1000\nbeta:1001\n"


def test_deleting_one_name_keeps_the_others_sharing_its_id_and_their_trees(host):
    """A name is deleted alone: another name sharing its id keeps its line, its trees and their project id."""
    t = tree(host, "legacy")
    host.projid.write_text("legacy:1500\nlegacy_alias:1500\n")
    host.projects.write_text(f"1500:{t}\n")
    assert not host.run(xfs_project, {"name": "legacy", "paths": [str(t)]}).get("failed")
    result = host.run(xfs_project, {"name": "legacy", "state": "absent", "clear_ids": True})
    assert result["changed"] and not result.get("failed"), result
    assert host.projid.read_text() == "legacy_alias:1500\n"
    assert host.projects.read_text() == f"1500:{t}\n"
    assert host.project_of(t / "f") == 1500  # still the alias's tree


def test_an_id_shared_by_names_is_not_removed_by_id_alone(host):
    host.projid.write_text("legacy:1500\nlegacy_alias:1500\n")
    result = host.run(xfs_project, {"id": 1500, "state": "absent"})
    assert result.get("failed") and result["msg"].startswith("id: 1500 is shared by the projects 'legacy', 'legacy_alias'")


@pytest.mark.parametrize("bad", ["new\nline", "cr\rhere", "nul\x00", "esc\x1b", "c1\x85", "ls\u2028", "ps\u2029", "t\tab"])
def test_control_characters_in_paths_are_refused(host, bad):
    """A line break or other control character in a path would split its /etc/projects line: refused."""
    if "\x00" not in bad:
        (host.mnt / bad).mkdir()  # such a directory can exist
    before = host.snapshot()
    result = host.run(xfs_project, {"name": "p", "id": 5, "paths": [f"{host.mnt}/{bad}"]})
    assert result.get("failed") and result["msg"].startswith("paths: ") and "control character" in result["msg"], result
    assert host.snapshot() == before


@pytest.mark.parametrize("state", ["present", "absent"])
def test_a_fifo_as_a_tree_is_refused_naming_paths(host, state):
    """A FIFO (socket, device) carries no project id (XFS answers ENOTTY): refused, naming paths."""
    os.mkfifo(host.mnt / "fifo")
    if state == "absent":
        host.projid.write_text("p:5\n")
    before = host.snapshot()
    result = host.run(xfs_project, {"name": "p", "id": 5, "state": state, "paths": [str(host.mnt / "fifo")]})
    assert result.get("failed") and result["msg"].startswith("paths: ") and "neither a directory nor a regular file" in result["msg"], result
    assert host.snapshot() == before


@pytest.mark.parametrize("bad", ["ends\n", "x\u2028", "tab\t"])
def test_control_characters_in_names_are_refused(host, bad):
    result = host.run(xfs_project, {"name": bad, "id": 5})
    assert result.get("failed") and result["msg"].startswith("name: "), result
    assert not host.projid.exists()


def test_foreign_lines_keep_their_bytes(host):
    """Lines the module does not own keep their bytes: CRLF, \\f, \\v, U+2028 and Latin-1 included."""
    foreign_projid = b"# caf\xe9 latin-1\r\nlegacy:17\r\nform\x0cfeed:18\nvt\x0b:19\n# \xe2\x80\xa8 sep \x1c\x1d\x1e \xc2\x85\n"
    foreign_projects = b"17:/srv/legacy\r\n# \xff\xfe\n18:/srv/f\x0cf"
    host.projid.write_bytes(foreign_projid)
    host.projects.write_bytes(foreign_projects)
    a = tree(host, "a")
    result = host.run(xfs_project, {"name": "sandbox", "id": 7001, "paths": [str(a)]}, diff=True)
    assert result["changed"] and not result.get("failed"), result
    assert host.projid.read_bytes() == foreign_projid + b"sandbox:7001\n"
    assert host.projects.read_bytes() == foreign_projects + f"\n7001:{a}\n".encode()
    again = host.run(xfs_project, {"name": "sandbox", "id": 7001, "paths": [str(a)]})
    assert not again["changed"]
    gone = host.run(xfs_project, {"name": "sandbox", "state": "absent"})
    assert gone["changed"] and host.projid.read_bytes() == foreign_projid
    assert host.projects.read_bytes() == foreign_projects + b"\n"


def test_a_dropped_tree_goes_back_to_project_0(host):
    """A tree dropped from a project goes back to project 0, so it stops counting against the project."""
    a, b = tree(host, "a"), tree(host, "b")
    host.run(xfs_project, {"name": "p", "id": 5, "paths": [str(a), str(b)]})
    assert host.project_of(b / "f") == 5
    result = host.run(xfs_project, {"name": "p", "id": 5, "paths": [str(a)]})
    assert result["changed"] and host.project_of(b / "f") == 0 and host.project_of(b) == 0 and host.project_of(a / "f") == 5
    assert not host.run(xfs_project, {"name": "p", "id": 5, "paths": [str(a)]})["changed"]


def test_a_deleted_projects_trees_go_back_to_project_0_with_clear_ids(host):
    a = tree(host, "a")
    host.run(xfs_project, {"name": "p", "id": 5, "paths": [str(a)]})
    result = host.run(xfs_project, {"name": "p", "state": "absent", "clear_ids": True})
    assert result["changed"] and host.project_of(a / "f") == 0 and host.projects.read_text() == ""


def test_a_cleared_directory_no_longer_passes_a_project_on(host):
    """Cleared as `xfs_quota -x -c 'project -C'` clears: project 0 and no PROJINHERIT, so new files are not born in p."""
    a = tree(host, "a")
    (a / "d").mkdir()
    host.run(xfs_project, {"name": "p", "id": 5, "paths": [str(a)]})
    assert host.kernel.project_of_path(str(a / "d")) == (FS_XFLAG_PROJINHERIT, 5)
    assert host.run(xfs_project, {"name": "p", "state": "absent", "clear_ids": True})["changed"]
    assert host.kernel.project_of_path(str(a)) == host.kernel.project_of_path(str(a / "d")) == (0, 0)
    host.run(xfs_project, {"name": "p", "id": 5, "paths": [str(a)]})
    assert host.run(xfs_project, {"name": "p", "id": 5, "paths": []})["changed"]  # a dropped tree too
    assert host.kernel.project_of_path(str(a / "d")) == (0, 0)


def test_a_dropped_tree_another_project_lists_keeps_its_project(host):
    a = tree(host, "a")
    host.projid.write_text("p:5\nq:6\n")
    host.projects.write_text(f"5:{a}\n6:{a}\n")  # written by hand: the module refuses this
    host.kernel.attrs[os.lstat(a / "f").st_ino] = (0, 6)
    result = host.run(xfs_project, {"name": "p", "paths": []})
    assert result["changed"] and host.project_of(a / "f") == 6
    assert host.projects.read_text() == f"6:{a}\n"


@pytest.mark.parametrize("other, mine, how", [("a", "a", "is also a tree of"), ("a", "a/in", "is inside"),
                                              ("a/in", "a", "contains")])
def test_a_tree_belongs_to_one_project_and_trees_do_not_nest(host, other, mine, how):
    """One tree, one project: two projects sharing a tree, or nested trees, would reassign each other on every run."""
    tree(host, "a", files=())
    (host.mnt / "a" / "in").mkdir()
    host.run(xfs_project, {"name": "outer", "id": 5, "paths": [str(host.mnt / other)]})
    before = host.snapshot()
    result = host.run(xfs_project, {"name": "inner", "id": 6, "paths": [str(host.mnt / mine)]})
    assert result.get("failed"), result
    assert result["msg"].startswith(f"paths: {host.mnt / mine} (project 'inner') {how} {host.mnt / other} of project 'outer' (5)")
    assert host.snapshot() == before


def test_non_utf8_project_files_do_not_crash(host):
    """Project files are bytes, not UTF-8: a Latin-1 comment is kept byte for byte."""
    host.projid.write_bytes(b"# Projekt f\xfcr Logs\nlogs:17\n")
    result = host.run(xfs_project, {"name": "logs", "state": "absent"})
    assert result["changed"] and host.projid.read_bytes() == b"# Projekt f\xfcr Logs\n"


@pytest.mark.parametrize("param", ["projid_file", "projects_file"])
@pytest.mark.parametrize("where", ["missing/dir/file", "."])
def test_project_files_in_a_missing_directory_or_on_a_directory_are_named(host, param, where):
    """A project file that cannot be locked or written (missing directory, a directory) is named, no traceback."""
    path = host.root / where
    result = host.run(xfs_project, {"name": "p", "id": 5, param: str(path)})
    assert result.get("failed") and result["msg"].startswith(f"{param}: "), result
    assert "Traceback" not in result["msg"]


def test_check_mode_predicts_a_tree_that_an_earlier_task_creates(host):
    """Check mode predicts a tree an earlier task of the same play creates: a warning, not a failure."""
    result = host.run(xfs_project, {"name": "p", "id": 5, "paths": [str(host.mnt / "later")]}, check_mode=True)
    assert not result.get("failed") and result["changed"], result
    assert any("does not exist yet" in w for w in result.get("warnings", []))
    assert not host.projid.exists()


def test_check_mode_predicts_a_name_that_an_earlier_task_defines(host):
    a = tree(host, "a")
    result = host.run(xfs_project, {"name": "p", "paths": [str(a)]}, check_mode=True)
    assert not result.get("failed") and result["changed"], result
    assert any("not defined" in w for w in result.get("warnings", []))
    assert host.run(xfs_project, {"name": "p", "paths": [str(a)]})["msg"].startswith("id: project 'p' is not defined")


def test_dotdot_is_resolved_not_normalised(host):
    """'..' is resolved by the kernel, not as text: /mnt/link/.. is the parent of the link's target."""
    a = tree(host, "a", files=())
    (a / "deep").mkdir()
    os.symlink(a / "deep", host.mnt / "link")
    result = host.run(xfs_project, {"name": "p", "id": 5, "paths": [f"{host.mnt}/link/../"]})
    assert not result.get("failed") and result["paths"] == [str(a)], result


@pytest.mark.parametrize("failing", ["projid_file", "projects_file"])
def test_a_write_that_fails_after_the_walk_reports_what_was_assigned(host, failing):
    """Files that got a new id cannot be put back (their old ids are not kept): the failure says changed and which trees."""
    a = tree(host, "a")
    real = _projects.atomic_write

    def atomic_write(path, content, default_mode=0o644, param=""):
        if param == failing:
            raise FileError(f"{param}: cannot write {path}: No space left on device")
        return real(path, content, default_mode, param)

    with mock.patch.object(_projects, "atomic_write", atomic_write):
        result = host.run(xfs_project, {"name": "p", "id": 5, "paths": [str(a)]})
    assert result.get("failed") and result["changed"], result
    assert result["msg"].startswith(f"{failing}: cannot write"), result["msg"]
    assert f"this run gave 2 files and directories a new project id in {a}" in result["msg"], result["msg"]
    assert result["trees_assigned"] == [str(a)] and result["inodes_changed"] == 2
    assert result["files_written"] == ([] if failing == "projid_file" else [str(host.projid)])
    assert host.project_of(a / "f") == 5


def test_a_walk_that_fails_halfway_reports_the_trees_done(host):
    a, b = tree(host, "a"), tree(host, "b")
    real = host.kernel.set_fsxattr

    def set_fsxattr(fd, buf):
        if os.fstat(fd).st_ino == (b / "f").stat().st_ino:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real(fd, buf)

    with mock.patch.object(host.kernel, "set_fsxattr", set_fsxattr):
        result = host.run(xfs_project, {"name": "p", "id": 5, "paths": [str(a), str(b)]})
    assert result.get("failed") and result["changed"], result
    assert result["trees_assigned"] == [str(a), str(b)] and result["inodes_changed"] == 3, result
    assert not host.projid.exists()  # nothing written after the failed walk


@pytest.mark.parametrize("args", [{"name": "weird", "id": 6}, {"name": "svc", "id": 5}, {"name": "svc"}])
def test_absent_keeps_foreign_malformed_lines_whose_key_matches(host, args):
    """A project owns its well-formed name:id line only; a malformed line with its name is someone else's."""
    host.projid.write_bytes(b"weird:notanumber\nsvc:5:extra\nroot:x:0:0:root:/root:/bin/bash\nsvc:5\n")
    result = host.run(xfs_project, {**args, "state": "absent"})
    assert not result.get("failed"), result
    kept = b"weird:notanumber\nsvc:5:extra\nroot:x:0:0:root:/root:/bin/bash\n"
    assert host.projid.read_bytes() == kept + (b"" if args["name"] == "svc" else b"svc:5\n")
    assert result["changed"] == (args["name"] == "svc")


@pytest.mark.parametrize("param", ["projid_file", "projects_file"])
def test_a_symlinked_project_file_stays_a_link_and_its_target_is_written(host, param):
    """Tools that read the file follow the link: replacing the link by a file would split what they and we see."""
    a = tree(host, "a")
    target = host.root / "managed" / param
    target.parent.mkdir()
    target.write_bytes(b"# managed elsewhere\n")
    link = host.projid if param == "projid_file" else host.projects
    link.symlink_to(target)
    result = host.run(xfs_project, {"name": "p", "id": 5, "paths": [str(a)]})
    assert not result.get("failed") and result["changed"], result
    assert link.is_symlink() and os.readlink(link) == str(target)
    line = b"p:5\n" if param == "projid_file" else f"5:{a}\n".encode()
    assert target.read_bytes() == b"# managed elsewhere\n" + line


@pytest.mark.parametrize("alias", [False, True])
def test_projid_and_projects_as_the_same_file_are_refused_naming_both(host, alias):
    """One file for both would make the second write undo the first (a removal reported, then written back)."""
    host.projid.write_bytes(b"p:5\n5:/x\n")
    other = host.projid
    if alias:
        other = host.etc / "alias"
        other.symlink_to(host.projid)
    before = host.snapshot()
    result = host.run(xfs_project, {"name": "p", "state": "absent", "projects_file": str(other)})
    assert result.get("failed") and result["msg"].startswith("projid_file/projects_file: "), result
    assert "same file" in result["msg"] and host.snapshot() == before


def sandbox_host(host):
    """An agent work_dir with one live sandbox of the hook (20001) and a file of the operator's."""
    work = host.mnt / "agent"
    run = work / "slaves" / "S0" / "frameworks" / "F1" / "executors" / "E1" / "runs" / "R1"
    run.mkdir(parents=True)
    (run / "stdout").write_text("x")
    (work / "operator.log").write_text("y")
    for path in (run, run / "stdout"):
        host.kernel.attrs[path.stat().st_ino] = (FS_XFLAG_PROJINHERIT if path.is_dir() else 0, 20001)
    return work, run


@pytest.mark.parametrize("check_mode", [False, True])
def test_a_tree_holding_the_hooks_sandboxes_is_refused_naming_the_sandbox(host, check_mode):
    """A sandbox's files count against the hook's project and limit: another id would take them out of its quota."""
    work, run = sandbox_host(host)
    before = host.snapshot()
    result = host.run(xfs_project, {"name": "agent", "id": 5, "paths": [str(work)], "hook_project_ids": "20000-29999"},
                      check_mode=check_mode)
    assert result.get("failed") and not result["changed"], result
    assert result["msg"].startswith(f"paths: {work} holds the hook's sandbox {run} ("), result["msg"]
    assert "carries project 20001" in result["msg"] and "take_hook_files=true" in result["msg"]
    assert host.snapshot() == before


def test_files_of_the_hooks_range_outside_a_sandbox_are_named_and_own_ids_pass(host):
    work, run = sandbox_host(host)
    stray = work / "operator.log"
    host.kernel.attrs[stray.stat().st_ino] = (0, 29999)
    result = host.run(xfs_project, {"name": "agent", "id": 5, "paths": [str(stray)], "hook_project_ids": "20000-29999"})
    assert result.get("failed") and result["msg"].startswith(f"paths: {stray} holds {stray} ("), result
    # the hook's own id is the project's: clearing a sandbox's project, as the agent role's removal does
    result = host.run(xfs_project, {"id": 20001, "state": "absent", "paths": [str(run)], "clear_ids": True,
                                    "hook_project_ids": "20000-29999"})
    assert not result.get("failed") and result["changed"] and host.project_of(run / "stdout") == 0, result


def test_take_hook_files_assigns_the_sandboxes_anyway(host):
    work, run = sandbox_host(host)
    result = host.run(xfs_project, {"name": "agent", "id": 5, "paths": [str(work)], "hook_project_ids": "20000-29999",
                                    "take_hook_files": True})
    assert not result.get("failed") and result["changed"] and host.project_of(run / "stdout") == 5, result


def test_a_bad_hook_range_is_named(host):
    result = host.run(xfs_project, {"name": "agent", "id": 5, "hook_project_ids": "29999-20000"})
    assert result.get("failed") and result["msg"].startswith("hook_project_ids: '29999-20000' starts above"), result


def nested_host(host):
    """Our project 'outer' (10) with another's tree inside it: 'inner' (11, a directory) and 'one' (12, a file)."""
    outer = tree(host, "outer")
    inner = outer / "inner"
    inner.mkdir()
    (inner / "data").write_text("z")
    one = outer / "one.img"
    one.write_text("w")
    host.projid.write_text("outer:10\ninner:11\none:12\n")
    host.projects.write_text(f"10:{outer}\n11:{inner}\n12:{one}\n")
    for path, project_id in ((outer, 10), (outer / "f", 10), (inner, 11), (inner / "data", 11), (one, 12)):
        host.kernel.attrs[path.stat().st_ino] = (FS_XFLAG_PROJINHERIT if path.is_dir() else 0, project_id)
    return outer, inner, one


@pytest.mark.parametrize("args", [{"state": "absent", "clear_ids": True}, {"paths": ["elsewhere"]}])
def test_a_nested_foreign_project_is_left_alone_when_ours_is_removed_or_moved(host, args):
    """Files of a project nested in ours are that project's: the walk stops at its root."""
    outer, inner, one = nested_host(host)
    if "paths" in args:
        (host.mnt / "elsewhere").mkdir()
        args = {"paths": [str(host.mnt / "elsewhere")]}
    result = host.run(xfs_project, {"name": "outer", **args})
    assert not result.get("failed") and result["changed"], result
    assert host.project_of(outer / "f") == 0 and host.project_of(outer) == 0
    assert host.project_of(inner) == 11 and host.project_of(inner / "data") == 11 and host.project_of(one) == 12
    assert sorted(result["skipped_projects"]) == sorted([str(inner), str(one)])
    assert f"11:{inner}\n12:{one}\n" in host.projects.read_text()


def test_another_path_to_another_projects_tree_cannot_be_claimed(host):
    """Through another path (a bind mount), a second project would take the first's files on every run.

    A hard link to a file tree is the alias the fake host can make; the bind mount is tried in the VM
    (tests/integration/targets/xfs_tree_walk)."""
    (host.mnt / "x").mkdir()
    (host.mnt / "y").mkdir()
    first = host.mnt / "x" / "disk.img"
    first.write_text("data")
    alias = host.mnt / "y" / "disk.img"
    os.link(first, alias)
    assert not host.run(xfs_project, {"name": "one", "id": 31, "paths": [str(first)]}).get("failed")
    before = host.snapshot()
    result = host.run(xfs_project, {"name": "two", "id": 32, "paths": [str(alias)]})
    assert result.get("failed"), result
    assert result["msg"].startswith(f"paths: {alias} (project 'two') is {first}, a tree of project 'one' (31)"), result
    assert host.snapshot() == before and host.project_of(first) == 31


def test_the_walks_of_several_trees_are_counted_together(host):
    """The result sums every tree's walk: a count of the last tree alone would hide the others'."""
    a, b = tree(host, "a"), tree(host, "b", files=("f", "g"))
    os.mkfifo(a / "fifo")
    os.mkfifo(b / "fifo")
    first = host.run(xfs_project, {"name": "p", "id": 5, "paths": [str(a), str(b)]})
    assert (first["inodes_changed"], first["inodes_unchanged"], first["skipped_special"]) == (5, 0, 2), first
    again = host.run(xfs_project, {"name": "p", "id": 5, "paths": [str(a), str(b)]})
    assert (again["inodes_changed"], again["inodes_unchanged"], again["skipped_special"]) == (0, 5, 2), again


def test_add_walk_sums_counts_and_lists_and_keeps_the_last_fence():
    total = WalkResult(changed=1, unchanged=2, skipped_special=3, skipped_mounts=["/m1"], fence="", skipped_projects=["/p1"])
    _xfs_project._add_walk(total, WalkResult(changed=10, unchanged=20, skipped_special=30, skipped_mounts=["/m2"],
                                             fence="mount id", skipped_projects=["/p2"]))
    _xfs_project._add_walk(total, WalkResult())  # a walk that saw no mount keeps the fence told before
    assert total == WalkResult(changed=11, unchanged=22, skipped_special=33, skipped_mounts=["/m1", "/m2"],
                               fence="mount id", skipped_projects=["/p1", "/p2"])
