# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Project limit requests: validate all of them, then apply them (used by xfs_project_quota)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ansible_collections.mesos.xfs_quota.plugins.module_utils._projects import ProjectFileError, ProjectFiles
from ansible_collections.mesos.xfs_quota.plugins.module_utils._sizes import format_size, parse_size
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import (
    BLOCK_LIMITS, LIMIT_FIELDS, Kernel, Mount, ProjectQuota, XfsError, XfsFilesystem, parse_mountinfo)

LIMIT_OPTIONS = tuple(LIMIT_FIELDS)
SOFT_HARD = (("bsoft", "bhard"), ("isoft", "ihard"), ("rtbsoft", "rtbhard"))


@dataclass
class QuotaRequest:
    where: str  # prefix naming the item in messages, e.g. "projects[2]."
    state: str
    project_id: int | None = None
    name: str | None = None
    path: str | None = None
    mountpoint: str | None = None
    limits: dict[str, int] = field(default_factory=dict)


def check_soft_hard(limits: dict[str, int], where: str) -> None:
    for soft, hard in SOFT_HARD:
        if limits.get(hard) and limits.get(soft, 0) > limits[hard]:
            raise ProjectFileError(
                f"{where}{soft}: {format_size(limits[soft]) if soft in BLOCK_LIMITS else limits[soft]} is above "
                f"{hard} ({format_size(limits[hard]) if hard in BLOCK_LIMITS else limits[hard]}); "
                "a soft limit must not exceed the hard one"
            )


def parse_request(item: dict[str, Any], where: str, names: ProjectFiles) -> QuotaRequest:
    """Validate one item (sizes, soft <= hard, name known, mount point given) without touching XFS."""
    limits = {key: parse_size(item[key], where + key) for key in LIMIT_OPTIONS if item.get(key) is not None}
    check_soft_hard(limits, where)
    request = QuotaRequest(where=where, state=item.get("state") or "present", path=item.get("path"),
                           project_id=item.get("id"), name=item.get("name"),
                           mountpoint=item.get("mountpoint"), limits=limits)
    if request.name is not None:
        request.project_id = names.id_of(request.name)
        if request.project_id is None:
            raise ProjectFileError(
                f"{where}name: project {request.name!r} is not in {names.projid_path}; "
                "define it with mesos.xfs_quota.xfs_project or choose it by id"
            )
    if request.path is None and request.mountpoint is None:
        raise ProjectFileError(f"{where}mountpoint: required when the project is chosen by name or id")
    return request


def quota_view(quota: ProjectQuota, fs: XfsFilesystem, names: ProjectFiles, changed: bool) -> dict[str, Any]:
    return {
        "id": quota.project_id,
        "name": names.name_of(quota.project_id),
        "mountpoint": fs.mountpoint,
        "changed": changed,
        "limits": dict(quota.limits),
        "used_bytes": quota.used_bytes,
        "used_inodes": quota.used_inodes,
    }


def apply_limits(requests: list[QuotaRequest], names: ProjectFiles, check_mode: bool,
                 kernel: Kernel | None = None) -> list[dict[str, Any]]:
    """Resolve and check every request first; only then set the limits that differ."""
    kernel = kernel or Kernel()
    mounts: list[Mount] = parse_mountinfo(kernel.read_mountinfo())
    filesystems: dict[str, XfsFilesystem] = {}
    plans = []
    for request in requests:
        target = request.path or request.mountpoint or ""  # parse_request guarantees one
        fs = filesystems.get(target)
        if fs is None:
            param = request.where + ("path" if request.path else "mountpoint")
            fs = filesystems[target] = XfsFilesystem.with_project_quota(target, kernel, mounts, param)
        project_id = request.project_id
        if project_id is None:
            project_id, _inherit = fs.project_of(target)
            if project_id == 0:
                raise XfsError(
                    f"{request.where}path: {target} has no project (id 0); assign one with "
                    "mesos.xfs_quota.xfs_project first"
                )
        current = fs.get_quota(project_id)
        if request.state == "absent":
            desired = dict.fromkeys(LIMIT_FIELDS, 0)
        else:
            desired = dict(current.limits)
            desired.update({key: fs.effective_limit(key, value) for key, value in request.limits.items()})
            check_soft_hard(desired, request.where)
        plans.append((fs, project_id, current, desired))

    results = []
    for fs, project_id, current, desired in plans:
        delta = {key: value for key, value in desired.items() if current.limits[key] != value}
        after = current
        if delta:
            if check_mode:
                after = ProjectQuota(project_id, dict(desired), current.used_bytes, current.used_inodes, current.used_rt_bytes)
            else:
                fs.set_limits(project_id, delta)
                after = fs.get_quota(project_id)
        results.append({
            "changed": bool(delta),
            "before": quota_view(current, fs, names, bool(delta)),
            "after": quota_view(after, fs, names, bool(delta)),
        })
    return results


def diff_text(views: list[dict[str, Any]]) -> str:
    """One line per project, for --diff: limits in readable units."""
    lines = []
    for view in views:
        limits = " ".join(
            f"{key}={format_size(value) if key in BLOCK_LIMITS else value}" if value else f"{key}=none"
            for key, value in view["limits"].items()
        )
        label = f"{view['id']} ({view['name']})" if view["name"] else str(view["id"])
        lines.append(f"project {label} on {view['mountpoint']}: {limits}\n")
    return "".join(lines)
