# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The read logic of ``xfs_quota_info``: which projects a request selects, and their usage and limits."""

from __future__ import annotations

import os
from typing import Any

from ansible_collections.mesos.xfs_quota.plugins.module_utils._docker import DockerTaskUsage, read_docker_tasks
from ansible_collections.mesos.xfs_quota.plugins.module_utils._project_ids import ProjectIdError, parse_id_range
from ansible_collections.mesos.xfs_quota.plugins.module_utils._projects import (
    ProjectFileError, ProjectFiles, validate_id, validate_path)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._sandboxes import find_sandboxes, percent, sandbox_usage, sandbox_view
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import (
    Kernel, ProjectQuota, QuotaState, XfsError, XfsFilesystem, mount_of, parse_mountinfo)

# Below this many wanted ids, one Q_XGETQUOTA each; from it on, one walk over every dquot.
_LOOKUPS_MAX = 64


def _checked_ids(params: dict[str, Any]) -> list[int]:
    """The ids asked for; ``paths`` checked as text too. Before any quotactl: a C int would turn
    4294967296 into project 0."""
    ids = [validate_id(project_id, "ids") for project_id in params["ids"] or []]
    for path in params["paths"] or []:
        validate_path(path, "paths")
    return ids


def _open_filesystem(mountpoint: str, kernel: Kernel) -> XfsFilesystem:
    """The XFS at ``mountpoint``; its errors name the parameter."""
    try:
        return XfsFilesystem(validate_path(mountpoint, "mountpoint"), kernel, parse_mountinfo(kernel.read_mountinfo()))
    except XfsError as exc:
        raise XfsError(f"mountpoint: {exc}") from exc


def _ids_of_names(names: ProjectFiles, wanted_names: list[str], projid_file: str) -> set[int]:
    """The projid ids of ``wanted_names``; a name projid does not know is an error."""
    found = set()
    for name in wanted_names:
        project_id = names.id_of(name)
        if project_id is None:
            raise ProjectFileError(f"names: project {name!r} is not in {projid_file}")
        found.add(project_id)
    return found


def _ids_of_paths(fs: XfsFilesystem, paths: list[str]) -> set[int]:
    """The project id each of ``paths`` carries; errors name ``paths``."""
    found = set()
    for path in paths:
        try:
            found.add(fs.project_of(path)[0])
        except XfsError as exc:
            raise XfsError(f"paths: {exc}") from exc
    return found


def _wanted(params: dict[str, Any], ids: list[int], names: ProjectFiles, fs: XfsFilesystem) -> set[int] | None:
    """The ids selected by ``ids``, ``names`` and ``paths``; None when none of them is given (every project)."""
    if not (params["ids"] or params["names"] or params["paths"]):
        return None
    return (set(ids) | _ids_of_names(names, params["names"] or [], params["projid_file"])
            | _ids_of_paths(fs, params["paths"] or []))


def _read_quotas(fs: XfsFilesystem, wanted: set[int] | None) -> list[ProjectQuota]:
    """The quotas of ``wanted`` (every dquot for None), by id; a wanted id without a dquot is reported empty."""
    if wanted is not None and len(wanted) < _LOOKUPS_MAX:
        return [fs.get_quota(project_id) for project_id in sorted(wanted)]
    # one walk over every dquot beats many lookups; ids without a dquot are reported empty too
    quotas = [q for q in fs.all_quotas() if wanted is None or q.project_id in wanted]
    missing = (wanted or set()) - {q.project_id for q in quotas}
    return sorted(quotas + [ProjectQuota(project_id) for project_id in missing], key=lambda q: q.project_id)


def _is_empty(quota: ProjectQuota) -> bool:
    return not (quota.used_bytes or quota.used_inodes or any(quota.limits.values()))


def _project_row(quota: ProjectQuota, names: ProjectFiles) -> dict[str, Any]:
    """One project as the module returns it."""
    return {
        "id": quota.project_id, "name": names.name_of(quota.project_id),
        "used_bytes": quota.used_bytes, "used_inodes": quota.used_inodes, "limits": quota.limits,
        "percent_bytes": percent(quota.used_bytes, quota.limits["bhard"], quota.limits["bsoft"]),
        "percent_inodes": percent(quota.used_inodes, quota.limits["ihard"], quota.limits["isoft"]),
    }


def _project_rows(quotas: list[ProjectQuota], names: ProjectFiles, wanted: set[int] | None,
                  include_empty: bool) -> list[dict[str, Any]]:
    """The rows of ``quotas``; a project with no usage and no limit only when asked for (by id, name or path,
    or include_empty)."""
    return [_project_row(q, names) for q in quotas if include_empty or wanted is not None or not _is_empty(q)]


def sandboxes(fs: XfsFilesystem, work_dir: str, id_range_text: str | None) -> list[dict]:
    """The hook's sandboxes below ``work_dir`` (with ids in ``id_range_text``) and their usage."""
    try:
        id_range = parse_id_range(id_range_text, "sandbox_ids") if id_range_text else None
    except ProjectIdError as exc:
        raise XfsError(str(exc)) from exc
    validate_path(work_dir, "sandboxes_below")
    if not os.path.isdir(work_dir) or mount_of(os.path.realpath(work_dir), fs.mounts) != fs.mount:
        raise XfsError(f"sandboxes_below: {work_dir} is not a directory on {fs.mountpoint} ({fs.device})")
    return [sandbox_view(sandbox, quota) for sandbox, quota in sandbox_usage(fs, find_sandboxes(fs, work_dir, id_range))]


def _extras(params: dict[str, Any], kernel: Kernel, fs: XfsFilesystem, state: QuotaState) -> dict[str, Any]:
    """The optional keys: ``docker_tasks`` and ``sandboxes``, each only when its parameter is given."""
    extras: dict[str, Any] = {}
    if params["docker_root"]:
        extras["docker_tasks"] = DockerTaskUsage(kernel, fs.mounts).of_tasks(read_docker_tasks(params["docker_root"]))
    if params["sandboxes_below"]:
        extras["sandboxes"] = (sandboxes(fs, params["sandboxes_below"], params["sandbox_ids"])
                               if state.project_accounting else [])
    return extras


def quota_info(params: dict[str, Any], kernel: Kernel) -> dict[str, Any]:
    """The result of ``xfs_quota_info`` for its ``params`` (not yet made printable).

    Raises XfsError, ProjectFileError, FileError or DockerStateError, each naming a parameter.
    """
    ids = _checked_ids(params)
    fs = _open_filesystem(params["mountpoint"], kernel)
    state = fs.quota_state()
    names = ProjectFiles(params["projid_file"], params["projects_file"])
    wanted = _wanted(params, ids, names, fs)
    quotas = _read_quotas(fs, wanted) if state.project_accounting else []
    extras = _extras(params, kernel, fs, state)
    projects = _project_rows(quotas, names, wanted, params["include_empty"])
    return dict(changed=False, mountpoint=fs.mountpoint, device=fs.device, quota_state=vars(state),
                projects=projects, **extras)


__all__ = ["quota_info", "sandboxes"]
