# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The state logic of ``xfs_project``: which lines and which trees a request owns, and their changes.

Ownership (also in the module's documentation): a project is its name AND its id. It owns its
``name:id`` line, the ``id:path`` lines of its id while no other name shares that id, and the
trees listed there. A tree belongs to one project, and project trees do not nest. A tree dropped
from a project (or left by a project removed with ``clear_ids``) gets project 0 again, unless
another project still lists it or it lies inside a tree the project keeps.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.mesos.xfs_quota.plugins.module_utils._projects import (
    ProjectFileError, ProjectFiles, _contains, shown, validate_id, validate_name, validate_path)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._project_ids import ProjectIdError, parse_id_range
from ansible_collections.mesos.xfs_quota.plugins.module_utils._sandboxes import sandbox_of
from ansible_collections.mesos.xfs_quota.plugins.module_utils._tree_walk import Guard, ProtectedIdError, WalkResult, assign_tree
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import Kernel, XfsError, XfsFilesystem, parse_mountinfo


def resolve_path(path: str, param: str = "paths") -> str:
    """``path`` made absolute with ``..`` resolved on the file system, not as text.

    The parents are resolved (symlinks and ``..``); the last component is kept as it is, so a
    symlink given as a tree is still refused by the walk (O_NOFOLLOW) instead of followed.
    """
    validate_path(path, param)
    absolute = path if os.path.isabs(path) else os.path.join(os.getcwd(), path)  # not abspath: no textual ".."
    head, tail = os.path.split(absolute.rstrip("/") or "/")
    if tail in ("", ".", ".."):
        resolved = os.path.realpath(absolute)
    else:
        resolved = os.path.join(os.path.realpath(head), tail)
    return validate_path(resolved, param)


@dataclass
class ProjectRequest:
    """What one ``xfs_project`` task asks for, validated."""

    name: str | None
    project_id: int | None
    state: str = "present"
    paths: list[str] | None = None
    recursive: bool = True
    clear_ids: bool = False
    hook_ids: tuple[int, int] | None = None  # the hook's project ids: files carrying one are not taken
    take_hook_files: bool = False

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "ProjectRequest":
        name = validate_name(params["name"]) if params.get("name") is not None else None
        project_id = validate_id(params["id"]) if params.get("id") is not None else None
        if name is None and project_id is None:
            raise ProjectFileError("name/id: give the project's name, its id, or both")
        paths = None
        if params.get("paths") is not None:
            paths = list(dict.fromkeys(resolve_path(path) for path in params["paths"]))
        if params.get("state", "present") == "present" and params.get("clear_ids"):
            raise ProjectFileError("clear_ids: only meaningful with state=absent")
        hook_ids = None
        if params.get("hook_project_ids"):
            try:
                hook_ids = parse_id_range(params["hook_project_ids"], "hook_project_ids")
            except ProjectIdError as exc:
                raise ProjectFileError(str(exc)) from exc
        return cls(name, project_id, params.get("state", "present"), paths,
                   params.get("recursive", True), params.get("clear_ids", False),
                   hook_ids, bool(params.get("take_hook_files")))


@dataclass
class ProjectResult:
    changed: bool
    project_id: int | None
    name: str | None
    paths: list[str]
    walk: WalkResult = field(default_factory=WalkResult)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Progress:
    """What a run has changed so far, so that a failure halfway reports it (``changed: true``).

    Files given a new id are not put back: their previous ids are not kept (a tree may hold millions),
    so the failure names the trees, the count and the files written instead.
    """

    trees: list[str] = field(default_factory=list)  # trees in which at least one inode got a new project id
    inodes_changed: int = 0
    files_written: list[str] = field(default_factory=list)

    def add_walk(self, tree: str, walk: WalkResult | None) -> None:
        if walk is not None and walk.changed:
            self.inodes_changed += walk.changed
            self.trees.append(shown(tree))

    def changed(self) -> bool:
        return bool(self.trees or self.files_written)

    def failure(self, msg: str) -> dict[str, Any]:
        """The arguments of ``fail_json`` for an error ``msg``: what this run changed before it."""
        if not self.changed():
            return {"msg": msg, "changed": False}
        done = []
        if self.trees:
            done.append(f"gave {self.inodes_changed} files and directories a new project id in {', '.join(self.trees)} "
                        "(not undone: run the task again once the cause is fixed)")
        if self.files_written:
            done.append(f"wrote {', '.join(self.files_written)}")
        return {"msg": f"{msg}; before it failed, this run {' and '.join(done)}", "changed": True,
                "trees_assigned": list(self.trees), "inodes_changed": self.inodes_changed,
                "files_written": list(self.files_written)}


@dataclass
class _Plan:
    """Walks to run, all checked before the first one runs."""

    walks: list[tuple[XfsFilesystem, str, int]] = field(default_factory=list)
    predicted: bool = False  # something only check mode could not look at (counts as a change)
    warnings: list[str] = field(default_factory=list)


def _resolve_absent(request: ProjectRequest, files: ProjectFiles) -> tuple[str | None, int | None]:
    """The name and id that state=absent removes; a name and an id that disagree are an error."""
    name, project_id = request.name, request.project_id
    if name is not None:
        current = files.id_of(name)
        if project_id is None:
            return name, current
        if current is not None and current != project_id:
            raise ProjectFileError(
                f"id: project {name!r} has id {current} in {files.projid_path}, not {project_id}; "
                "give its own id (or no id) to remove it")
        owners = files.names_of(project_id)
        if current is None and owners:
            raise ProjectFileError(
                f"id: {project_id} belongs to project {owners[0]!r} in {files.projid_path}, not {name!r}; "
                "nothing of another project is removed")
        return name, project_id
    owners = files.names_of(project_id)  # an id alone: it must not stand for several names
    if len(owners) > 1:
        raise ProjectFileError(
            f"id: {project_id} is shared by the projects {', '.join(map(repr, owners))} in {files.projid_path}; "
            "give the name of the one to remove")
    return (owners[0] if owners else None), project_id


def _check_tree_kind(tree: str) -> None:
    """Only directories and regular files carry a project id (XFS answers ENOTTY for a FIFO, socket
    or device); refused before anything is written. A symbolic link is refused by the walk itself."""
    try:
        mode = os.lstat(tree).st_mode
    except FileNotFoundError:
        return
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        raise ProjectFileError(f"paths: {tree} is neither a directory nor a regular file, and only those carry "
                               "an XFS project id; give the directory that holds it")


def _filesystem(path: str, kernel: Kernel, mounts: list, check_mode: bool, plan: _Plan) -> XfsFilesystem | None:
    if check_mode and not os.path.lexists(path):
        plan.predicted = True
        plan.warnings.append(f"paths: {path} does not exist yet; check mode assumes an earlier task creates it")
        return None
    return XfsFilesystem.with_project_quota(path, kernel, mounts, "paths")


def _nested_trees(files: ProjectFiles, tree: str, project_id: int) -> frozenset[tuple[int, int]]:
    """(st_dev, st_ino) of the other projects' trees inside ``tree``: a walk of ``tree`` leaves them alone.

    By inode, so that a tree listed through another path (a bind mount) is still recognised.
    """
    found = set()
    for key, other in files.trees():
        if key == project_id or other.rstrip("/") == tree.rstrip("/") or not _contains(tree, other):
            continue
        try:
            st = os.lstat(other)
        except OSError:  # gone: nothing of it to protect
            continue
        found.add((st.st_dev, st.st_ino))
    return frozenset(found)


def _guarded_walk(fs: XfsFilesystem, tree: str, new_id: int, request: ProjectRequest, dry_run: bool,
                  guard: Guard | None, stops: frozenset[tuple[int, int]]) -> WalkResult:
    """One walk; a file of the hook's range met on the way is an error naming it (and its sandbox)."""
    try:
        return assign_tree(fs, tree, new_id, recursive=request.recursive or new_id == 0, dry_run=dry_run,
                           guard=guard, stops=stops)
    except ProtectedIdError as exc:
        sandbox = sandbox_of(exc.path)
        where = f"the hook's sandbox {sandbox}" if sandbox else exc.path
        first, last = request.hook_ids or (0, 0)
        failure = XfsError(
            f"paths: {tree} holds {where} ({exc.path} carries project {exc.project_id}, in the hook's range "
            f"{first}-{last} of hook_project_ids); assigning it another project would take it out of the hook's quota. "
            "Leave it out of paths, or set take_hook_files=true to assign it anyway")
        failure.walk = getattr(exc, "walk", None)
        raise failure from exc


def _plan_clear(plan: _Plan, tree: str, kernel: Kernel, mounts: list) -> None:
    """A walk that gives ``tree`` project 0 again."""
    plan.walks.append((XfsFilesystem.with_project_quota(tree, kernel, mounts, "paths"), tree, 0))


def _plan_removal(request: ProjectRequest, files: ProjectFiles, name: str | None, project_id: int,
                  kernel: Kernel, plan: _Plan) -> None:
    """state=absent: drop the project's lines and plan the walks that clear its trees."""
    clear = list(request.paths or [])
    for tree in clear:
        _check_tree_kind(tree)
    if request.clear_ids:
        files.check_ownership(project_id, clear, f"{name or project_id!r}")
    removed = files.undefine(name, project_id)
    if request.clear_ids:
        clear = list(dict.fromkeys(removed + clear))
    mounts = parse_mountinfo(kernel.read_mountinfo()) if clear else []  # no mount table read for nothing to clear
    for tree in clear:
        if os.path.lexists(tree) and not files.listed_elsewhere(tree, project_id):
            _plan_clear(plan, tree, kernel, mounts)


def _present_id(request: ProjectRequest, files: ProjectFiles, check_mode: bool) -> int | None:
    """The id state=present assigns: given, or the name's in projid; None only in check mode (not defined yet)."""
    if request.project_id is not None:
        return request.project_id
    project_id = files.id_of(request.name or "")
    if project_id is None and not check_mode:
        raise ProjectFileError(
            f"id: project {request.name!r} is not defined in {files.projid_path} yet; give its id")
    return project_id


def _predicted_definition(request: ProjectRequest, files: ProjectFiles) -> ProjectResult:
    """Check mode with a name projid does not know yet: an earlier task of the play may define it."""
    return ProjectResult(True, None, request.name, list(request.paths or []), warnings=[
        f"name: project {request.name!r} is not defined in {files.projid_path} yet; check mode assumes "
        "an earlier task defines it"])


def _replace_trees(files: ProjectFiles, name: str | None, project_id: int, trees: list[str],
                   kernel: Kernel, mounts: list, plan: _Plan) -> None:
    """Make ``trees`` the project's only trees; plan the walks that clear the ones it drops."""
    for tree in trees:
        _check_tree_kind(tree)
    files.check_ownership(project_id, trees, f"{name or project_id!r}")
    old = files.paths_of(project_id)
    files.set_paths(project_id, trees)
    for tree in old:
        # kept, inside a kept tree, another project's too, or gone: nothing to clear
        if (tree in trees or any(_contains(kept, tree) for kept in trees)
                or files.listed_elsewhere(tree, project_id) or not os.path.lexists(tree)):
            continue
        _plan_clear(plan, tree, kernel, mounts)


def _plan_assignment(request: ProjectRequest, files: ProjectFiles, name: str | None, project_id: int,
                     kernel: Kernel, check_mode: bool, plan: _Plan) -> None:
    """state=present: the project's lines and the walks that clear dropped trees and assign its trees."""
    if name is not None:
        files.define(name, project_id)
    trees: list[str] = []
    mounts = parse_mountinfo(kernel.read_mountinfo())
    if request.paths is not None:
        trees = request.paths
        _replace_trees(files, name, project_id, trees, kernel, mounts, plan)
    for tree in trees:  # after the dropped ones: a dropped tree around a kept one is reassigned first
        fs = _filesystem(tree, kernel, mounts, check_mode, plan)
        if fs is not None:
            plan.walks.append((fs, tree, project_id))


def _hook_guard(request: ProjectRequest, project_id: int) -> Guard | None:
    """What keeps the walks off the hook's files, unless take_hook_files says to take them."""
    if request.hook_ids is None or request.take_hook_files:
        return None
    return Guard(request.hook_ids[0], request.hook_ids[1], project_id)


def _add_walk(total: WalkResult, result: WalkResult) -> None:
    """Count one tree's walk into the run's."""
    total.skipped_projects += result.skipped_projects
    total.changed += result.changed
    total.unchanged += result.unchanged
    total.skipped_special += result.skipped_special
    total.skipped_mounts += result.skipped_mounts
    total.fence = result.fence or total.fence


def _run_walks(plan: _Plan, request: ProjectRequest, files: ProjectFiles, project_id: int, check_mode: bool,
               progress: Progress) -> WalkResult:
    """Run the planned walks in order; ``progress`` learns each tree assigned, even by a walk that fails."""
    guard = _hook_guard(request, project_id)
    stops = {tree: _nested_trees(files, tree, project_id) for _fs, tree, _new_id in plan.walks}
    if guard is not None and not check_mode:  # every tree looked at before the first file changes
        for fs, tree, new_id in plan.walks:
            _guarded_walk(fs, tree, new_id, request, True, guard, stops[tree])
    walk = WalkResult()
    for fs, tree, new_id in plan.walks:
        try:
            result = _guarded_walk(fs, tree, new_id, request, check_mode, guard, stops[tree])
        except XfsError as exc:
            if not check_mode:
                progress.add_walk(tree, getattr(exc, "walk", None))
            raise
        if not check_mode:
            progress.add_walk(tree, result)
        _add_walk(walk, result)
    return walk


def apply_project(request: ProjectRequest, files: ProjectFiles, check_mode: bool,
                  kernel: Kernel | None = None, progress: Progress | None = None) -> ProjectResult:
    """Edit ``files`` and label trees as ``request`` asks; ``files`` is written by the caller.

    ``progress`` learns each tree as it is assigned, so a later failure can say what changed.
    """
    kernel = kernel or Kernel()
    progress = progress if progress is not None else Progress()
    plan = _Plan()
    if request.state == "absent":
        name, project_id = _resolve_absent(request, files)
        if project_id is None:
            return ProjectResult(False, None, name, [])
        _plan_removal(request, files, name, project_id, kernel, plan)
    else:
        project_id = _present_id(request, files, check_mode)
        if project_id is None:
            return _predicted_definition(request, files)
        name = request.name or files.name_of(project_id)
        _plan_assignment(request, files, name, project_id, kernel, check_mode, plan)
    walk = _run_walks(plan, request, files, project_id, check_mode, progress)
    return ProjectResult(files.changed() or walk.changed > 0 or plan.predicted, project_id, name,
                         [shown(path) for path in files.paths_of(project_id)], walk, plan.warnings)


__all__ = ["Progress", "ProjectRequest", "ProjectResult", "XfsError", "apply_project", "resolve_path"]
