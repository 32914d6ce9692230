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
from ansible_collections.mesos.xfs_quota.plugins.module_utils._tree_walk import WalkResult, assign_tree
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
        return cls(name, project_id, params.get("state", "present"), paths,
                   params.get("recursive", True), params.get("clear_ids", False))


@dataclass
class ProjectResult:
    changed: bool
    project_id: int | None
    name: str | None
    paths: list[str]
    walk: WalkResult = field(default_factory=WalkResult)
    warnings: list[str] = field(default_factory=list)


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


def apply_project(request: ProjectRequest, files: ProjectFiles, check_mode: bool,
                  kernel: Kernel | None = None) -> ProjectResult:
    """Edit ``files`` and assign trees as ``request`` asks; ``files`` is written by the caller."""
    kernel = kernel or Kernel()
    plan = _Plan()
    if request.state == "absent":
        name, project_id = _resolve_absent(request, files)
        if project_id is None:
            return ProjectResult(False, None, name, [])
        clear = list(request.paths or [])
        for tree in clear:
            _check_tree_kind(tree)
        if request.clear_ids:
            files.check_ownership(project_id, clear, f"{name or project_id!r}")
        removed = files.undefine(name, project_id)
        if request.clear_ids:
            clear = list(dict.fromkeys(removed + clear))
        mounts = parse_mountinfo(kernel.read_mountinfo()) if clear else []
        for tree in clear:
            if os.path.lexists(tree) and not files.listed_elsewhere(tree, project_id):
                plan.walks.append((XfsFilesystem.with_project_quota(tree, kernel, mounts, "paths"), tree, 0))
    else:
        name, project_id = request.name, request.project_id
        if project_id is None:
            project_id = files.id_of(name or "")
            if project_id is None:
                if not check_mode:
                    raise ProjectFileError(
                        f"id: project {name!r} is not defined in {files.projid_path} yet; give its id")
                return ProjectResult(True, None, name, list(request.paths or []), warnings=[
                    f"name: project {name!r} is not defined in {files.projid_path} yet; check mode assumes "
                    "an earlier task defines it"])
        name = name or files.name_of(project_id)
        if name is not None:
            files.define(name, project_id)
        trees: list[str] = []
        mounts = parse_mountinfo(kernel.read_mountinfo())
        if request.paths is not None:
            trees = request.paths
            for tree in trees:
                _check_tree_kind(tree)
            files.check_ownership(project_id, trees, f"{name or project_id!r}")
            old = files.paths_of(project_id)
            files.set_paths(project_id, trees)
            for tree in old:
                if (tree in trees or any(_contains(kept, tree) for kept in trees)
                        or files.listed_elsewhere(tree, project_id) or not os.path.lexists(tree)):
                    continue
                plan.walks.append((XfsFilesystem.with_project_quota(tree, kernel, mounts, "paths"), tree, 0))
        for tree in trees:  # after the dropped ones: a dropped tree around a kept one is reassigned first
            fs = _filesystem(tree, kernel, mounts, check_mode, plan)
            if fs is not None:
                plan.walks.append((fs, tree, project_id))

    walk = WalkResult()
    for fs, tree, new_id in plan.walks:
        result = assign_tree(fs, tree, new_id, recursive=request.recursive or new_id == 0, dry_run=check_mode)
        walk.changed += result.changed
        walk.unchanged += result.unchanged
        walk.skipped_special += result.skipped_special
        walk.skipped_mounts += result.skipped_mounts
        walk.fence = result.fence or walk.fence
    return ProjectResult(files.changed() or walk.changed > 0 or plan.predicted, project_id, name,
                         [shown(path) for path in files.paths_of(project_id)], walk, plan.warnings)


__all__ = ["ProjectRequest", "ProjectResult", "XfsError", "apply_project", "resolve_path"]
