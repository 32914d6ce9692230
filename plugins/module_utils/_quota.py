# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Project limit requests: validate all of them, then apply them (used by xfs_project_quota)."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from typing import Any

from ansible.module_utils.common.validation import check_type_path, check_type_str

from ansible_collections.mesos.xfs_quota.plugins.module_utils._projects import (
    ProjectFileError, ProjectFiles, validate_id, validate_name, validate_path)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import printable
from ansible_collections.mesos.xfs_quota.plugins.module_utils._sizes import SizeError, format_size, parse_count, parse_size
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import (
    BLOCK_LIMITS, LIMIT_FIELDS, Kernel, Mount, ProjectQuota, XfsError, XfsFilesystem, parse_mountinfo)

LIMIT_OPTIONS = tuple(LIMIT_FIELDS)
SOFT_HARD = (("bsoft", "bhard"), ("isoft", "ihard"), ("rtbsoft", "rtbhard"))
SELECTORS = ("name", "id", "path")
ITEM_DEFAULTS = ("mountpoint", "state", *LIMIT_OPTIONS)  # top-level options that items inherit
ITEM_OPTIONS = (*SELECTORS, *ITEM_DEFAULTS)  # the suboptions of ``projects``, as documented
STATES = ("present", "absent")
_PATH_OPTIONS = frozenset(("path", "mountpoint"))


@dataclass
class QuotaRequest:
    where: str  # prefix naming the item in messages, e.g. "projects[2]."
    state: str
    project_id: int | None = None
    name: str | None = None
    path: str | None = None
    mountpoint: str | None = None
    limits: dict[str, int] = field(default_factory=dict)
    written: dict[str, str] = field(default_factory=dict)  # the limits as the user wrote them, for messages
    predicted: bool = False  # check mode could not resolve it (defined or created by an earlier task)


def check_items(items: list[dict[str, Any]], param: str = "projects") -> list[dict[str, Any]]:
    """The items of ``projects`` with the types of their documented suboptions, in one pass.

    The module leaves this to itself, not to AnsibleModule's suboption check, which copies and tags
    every value (about 60 us an item natively, most of the task at 10,000 projects; bench/limits.sh).
    The rules are Ansible's: unknown options refused, ``str`` options take a number as its digits,
    ``path`` options expand ``~`` and variables, ``state`` one of its choices, ``id`` raw.
    """
    known = frozenset(ITEM_OPTIONS)
    checked = []
    for index, item in enumerate(items):
        unknown = item.keys() - known
        if unknown:
            raise ProjectFileError(
                f"{param}[{index}]: unsupported option {', '.join(sorted(map(str, unknown)))}; "
                f"an item takes {', '.join(ITEM_OPTIONS)}")
        values = {}
        for key, value in item.items():
            if value is None or key == "id":
                values[key] = value
                continue
            values[key] = value = check_type_path(value) if key in _PATH_OPTIONS else check_type_str(value)
            if key == "state" and value not in STATES:
                raise ProjectFileError(f"{param}[{index}].state: {value!r} is not one of {', '.join(STATES)}")
        checked.append(values)
    return checked


def merge_items(params: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(message prefix, item) per project: the top-level selector, or each of ``projects`` (checked) with the defaults."""
    defaults = {key: params.get(key) for key in ITEM_DEFAULTS}
    if params.get("projects") is None:
        raw_items, where = [{key: params.get(key) for key in SELECTORS}], ""
    else:
        raw_items, where = check_items(params["projects"]), "projects[{}]."
    items = []
    for index, raw in enumerate(raw_items):
        item = {key: raw.get(key) if raw.get(key) is not None else defaults.get(key) for key in (*SELECTORS, *ITEM_DEFAULTS)}
        items.append((where.format(index), item))
    return items


def _shown_limit(key: str, value: int, written: dict[str, str]) -> str:
    if key in written:
        return repr(written[key])
    return format_size(value) if key in BLOCK_LIMITS else str(value)


def check_soft_hard(limits: dict[str, int], where: str, written: dict[str, str] | None = None) -> None:
    written = written or {}
    for soft, hard in SOFT_HARD:
        if limits.get(hard) and limits.get(soft, 0) > limits[hard]:
            raise ProjectFileError(
                f"{where}{soft}: {_shown_limit(soft, limits[soft], written)} is above "
                f"{hard} ({_shown_limit(hard, limits[hard], written)}); a soft limit must not exceed the hard one"
            )


def _written_limits(item: dict[str, Any], where: str, state: str) -> dict[str, Any]:
    """The limits the item gives, as written; none with state=absent, which clears them all."""
    written = {key: item[key] for key in LIMIT_OPTIONS if item.get(key) is not None}
    if state == "absent" and written:
        raise ProjectFileError(
            f"{where}state: absent clears every limit of the project; do not give {', '.join(written)} with it")
    return written


@functools.lru_cache(maxsize=1024)
def _limit_of_text(key: str, text: str) -> int:
    """One limit written as text, in bytes or inodes: most items of a long list repeat a few sizes."""
    return (parse_size if key in BLOCK_LIMITS else parse_count)(text, key)


def _limit_of(key: str, value: Any, where: str) -> int:
    """One limit as written; text is parsed once per distinct text (not a number: True would hit 1's entry)."""
    if isinstance(value, str):
        try:
            return _limit_of_text(key, value)
        except SizeError:
            pass  # again, below, for the message that names the item
    return (parse_size if key in BLOCK_LIMITS else parse_count)(value, where + key)


def _parsed_limits(written: dict[str, Any], where: str) -> dict[str, int]:
    """The written limits in bytes (block limits) or counts (inodes); a soft one above its hard one is an error."""
    limits = {key: _limit_of(key, value, where) for key, value in written.items()}
    check_soft_hard(limits, where, written)
    return limits


@functools.lru_cache(maxsize=64)
def _checked_mountpoint(mountpoint: str) -> str:
    return validate_path(mountpoint)


def _validate_selector(item: dict[str, Any], request: QuotaRequest) -> None:
    """The item's id, path and mount point checked (the id and path kept in ``request``)."""
    where = request.where
    if item.get("id") is not None:
        request.project_id = validate_id(item["id"], where + "id")
    if item.get("path") is not None:
        request.path = validate_path(item["path"], where + "path")
    if item.get("mountpoint") is not None:
        try:
            _checked_mountpoint(item["mountpoint"])  # every item repeats the default: checked once
        except (ProjectFileError, TypeError):
            validate_path(item["mountpoint"], where + "mountpoint")


def _resolve_name(request: QuotaRequest, names: ProjectFiles, check_mode: bool) -> None:
    """The id of the item's project name from projid; a name not there yet is predicted in check mode only."""
    where = request.where
    validate_name(request.name, where + "name")
    request.project_id = names.id_of(request.name)
    if request.project_id is not None:
        return
    if not check_mode:
        raise ProjectFileError(
            f"{where}name: project {request.name!r} is not in {names.projid_path}; "
            "define it with mesos.xfs_quota.xfs_project or choose it by id"
        )
    request.predicted = True


def parse_request(item: dict[str, Any], where: str, names: ProjectFiles, check_mode: bool = False) -> QuotaRequest:
    """Validate one item (selector, sizes, soft <= hard, name known, mount point given) without touching XFS."""
    chosen = [key for key in SELECTORS if item.get(key) is not None]
    if len(chosen) != 1:
        raise ProjectFileError(f"{where}name/id/path: give exactly one of name, id or path (got {chosen or 'none'})")
    state = item.get("state") or "present"
    written = _written_limits(item, where, state)
    limits = _parsed_limits(written, where)
    request = QuotaRequest(where=where, state=state, name=item.get("name"), mountpoint=item.get("mountpoint"),
                           limits=limits, written={key: str(value) for key, value in written.items()})
    _validate_selector(item, request)
    if request.name is not None:
        _resolve_name(request, names, check_mode)
    if request.path is None and request.mountpoint is None:
        raise ProjectFileError(f"{where}mountpoint: required when the project is chosen by name or id")
    return request


@functools.lru_cache(maxsize=None)
def _shown(text: str | None) -> str | None:
    """Text from the host (a name in projid, a mount point) fit for a result: see ``printable``."""
    return text if text is None else printable(text)


def quota_view(quota: ProjectQuota, fs: XfsFilesystem, names: ProjectFiles, changed: bool) -> dict[str, Any]:
    """One project's result; its text already printable (the result is not walked again at 10,000 projects)."""
    return {
        "id": quota.project_id,
        "name": _shown(names.name_of(quota.project_id)),
        "mountpoint": _shown(fs.mountpoint),
        "changed": changed,
        "limits": dict(quota.limits),
        "used_bytes": quota.used_bytes,
        "used_inodes": quota.used_inodes,
    }


def _predicted(request: QuotaRequest, why: str, warnings: list[str]) -> dict[str, Any]:
    """The result check mode reports for an item it cannot look at yet: a change, with a warning."""
    warnings.append(f"{why}; check mode assumes an earlier task in this run does it")
    limits = dict.fromkeys(LIMIT_FIELDS, 0)
    limits.update(request.limits)
    view = {"id": request.project_id, "name": _shown(request.name), "mountpoint": _shown(request.mountpoint or request.path),
            "changed": True, "limits": limits, "used_bytes": 0, "used_inodes": 0}
    return {"changed": True, "before": dict(view, limits=dict.fromkeys(LIMIT_FIELDS, 0)), "after": view}


@dataclass
class _Merged:
    """Every item that chose one project on one file system, merged into the limits set once.

    XFS keeps each Q_XSETQLIM on its own, so two items applied one after the other (``bsoft: 800k``,
    then ``bhard: 512k``) would each pass the soft <= hard check against the old limits, and XFS
    would drop the hard limit that ended below the soft one.
    """

    fs: XfsFilesystem
    project_id: int
    current: ProjectQuota
    state: str
    requests: list[QuotaRequest]
    asked: dict[str, tuple[int, QuotaRequest]] = field(default_factory=dict)  # limit -> (bytes or count, item)

    def label(self) -> str:
        return f"project {self.project_id} on {self.fs.mountpoint}"

    def desired(self) -> dict[str, int]:
        if self.state == "absent":
            return dict.fromkeys(LIMIT_FIELDS, 0)
        desired = dict(self.current.limits)
        desired.update({key: value for key, (value, _request) in self.asked.items()})
        for soft, hard in SOFT_HARD:
            if not desired.get(hard) or desired.get(soft, 0) <= desired[hard]:
                continue
            if len(self.requests) == 1:
                check_soft_hard(desired, self.requests[0].where, self.requests[0].written)
            # name the item each limit comes from (none: the limit the project has now)
            parts = []
            for key in (soft, hard):
                origin = self.asked.get(key)
                parts.append(f"{origin[1].where}{key} ({origin[1].written[key]!r})" if origin
                             else f"its current {key} ({_shown_limit(key, desired[key], {})})")
            lead_key = hard if hard in self.asked else soft
            raise ProjectFileError(
                f"{self.asked[lead_key][1].where}{lead_key}: {parts[0]} is above {parts[1]} for {self.label()} "
                "(items for one project are merged before they are set); a soft limit must not exceed the hard "
                "one, and XFS would drop the hard limit: change one of them")
        return desired


def _merge(plan: _Merged, request: QuotaRequest, asked: dict[str, int]) -> None:
    """Add one more item for ``plan``'s project; items that contradict each other are an error naming both."""
    first = plan.requests[0]
    if request.state != plan.state:
        clearing, setting = (request, first) if request.state == "absent" else (first, request)
        raise ProjectFileError(
            f"{request.where}state: {clearing.where.rstrip('.')} clears every limit of {plan.label()} (state=absent) "
            f"and {setting.where.rstrip('.')} sets limits of it; give one item per project")
    for key, value in asked.items():
        if key in plan.asked and plan.asked[key][0] != value:
            other = plan.asked[key][1]
            raise ProjectFileError(
                f"{request.where}{key}: {request.written[key]!r} for {plan.label()}, which {other.where}{key} "
                f"sets to {other.written[key]!r}; give each limit of a project once")
        plan.asked.setdefault(key, (value, request))
    plan.requests.append(request)


def failure(msg: str, limits_set: list[tuple[int, str]]) -> dict[str, Any]:
    """The arguments of ``fail_json`` for ``msg``: with the limits this run set before it failed."""
    if not limits_set:
        return {"msg": msg, "changed": False}
    done = ", ".join(f"{project_id} on {mountpoint}" for project_id, mountpoint in limits_set)
    return {"msg": f"{msg}; before it failed, this run set the limits of project {done}", "changed": True,
            "limits_set": [project_id for project_id, _mountpoint in limits_set]}


def _filesystem_of(target: str, param: str, kernel: Kernel, mounts: list[Mount],
                   filesystems: dict[str, XfsFilesystem]) -> XfsFilesystem:
    """The file system of ``target``, checked once per target for all items that give it."""
    fs = filesystems.get(target)
    if fs is None:
        fs = filesystems[target] = XfsFilesystem.with_project_quota(target, kernel, mounts, param)
    return fs


def _project_of_path(fs: XfsFilesystem, target: str, param: str, check_mode: bool) -> int:
    """The project ``target`` carries; 0 (none) only in check mode, where an earlier task may assign one."""
    try:
        project_id, _inherit = fs.project_of(target)
    except XfsError as exc:
        raise XfsError(f"{param}: {exc}") from exc
    if project_id == 0 and not check_mode:
        raise XfsError(
            f"{param}: {target} has no project (id 0); assign one with "
            "mesos.xfs_quota.xfs_project first"
        )
    return project_id


def _resolve(request: QuotaRequest, names: ProjectFiles, check_mode: bool, kernel: Kernel, mounts: list[Mount],
             filesystems: dict[str, XfsFilesystem], warnings: list[str]) -> tuple[XfsFilesystem, int] | dict[str, Any]:
    """The file system and project id of one item; in check mode, the predicted result of an item whose name,
    path or project an earlier task would create."""
    if request.predicted:
        return _predicted(request, f"{request.where}name: project {request.name!r} is not in {names.projid_path} yet", warnings)
    target = request.path or request.mountpoint or ""  # parse_request guarantees one
    param = request.where + ("path" if request.path else "mountpoint")
    if check_mode and request.path and not os.path.lexists(request.path):
        return _predicted(request, f"{param}: {request.path} does not exist yet", warnings)
    fs = _filesystem_of(target, param, kernel, mounts, filesystems)
    project_id = request.project_id
    if project_id is None:
        project_id = _project_of_path(fs, target, param, check_mode)
        if project_id == 0:
            return _predicted(request, f"{param}: {target} has no project yet", warnings)
    return fs, project_id


def _add_to_plans(plans: list[_Merged | dict[str, Any]], merged: dict[tuple[str, int], _Merged],
                  request: QuotaRequest, fs: XfsFilesystem, project_id: int) -> None:
    """A new plan for the item's project, or the item merged into the plan of an earlier item for it."""
    asked = {key: fs.effective_limit(key, value) for key, value in request.limits.items()}
    key = (fs.device, project_id)
    if key in merged:
        _merge(merged[key], request, asked)
        return
    merged[key] = _Merged(fs, project_id, fs.get_quota(project_id), request.state, [request])
    merged[key].asked.update({name: (value, request) for name, value in asked.items()})
    plans.append(merged[key])


def _apply_plan(plan: _Merged, names: ProjectFiles, check_mode: bool, limits_set: list[tuple[int, str]]) -> dict[str, Any]:
    """Set the limits of one project that differ (in check mode, only say what they would be)."""
    fs, project_id, current, desired = plan.fs, plan.project_id, plan.current, plan.desired()
    delta = {key: value for key, value in desired.items() if current.limits[key] != value}
    after = current
    if delta:
        if check_mode:
            after = ProjectQuota(project_id, dict(desired), current.used_bytes, current.used_inodes, current.used_rt_bytes)
        else:
            fs.set_limits(project_id, delta)
            limits_set.append((project_id, fs.mountpoint))
            after = fs.get_quota(project_id)
    return {
        "changed": bool(delta),
        "before": quota_view(current, fs, names, bool(delta)),
        "after": quota_view(after, fs, names, bool(delta)),
    }


def apply_limits(requests: list[QuotaRequest], names: ProjectFiles, check_mode: bool,
                 kernel: Kernel | None = None, warnings: list[str] | None = None,
                 limits_set: list[tuple[int, str]] | None = None) -> list[dict[str, Any]]:
    """Resolve and check every request first; only then set the limits that differ.

    In check mode an item whose name or path an earlier task would create is reported as a
    change with a warning (in ``warnings``), not as a failure. Each project whose limits were set
    is appended to ``limits_set`` at once, so that a later failure can say so.
    """
    limits_set = limits_set if limits_set is not None else []
    kernel = kernel or Kernel()
    warnings = warnings if warnings is not None else []
    mounts: list[Mount] = parse_mountinfo(kernel.read_mountinfo())
    filesystems: dict[str, XfsFilesystem] = {}
    plans: list[_Merged | dict[str, Any]] = []
    merged: dict[tuple[str, int], _Merged] = {}  # (device, project id): several items for one project become one
    for request in requests:
        resolved = _resolve(request, names, check_mode, kernel, mounts, filesystems, warnings)
        if isinstance(resolved, dict):
            plans.append(resolved)
        else:
            _add_to_plans(plans, merged, request, *resolved)
    # in order, one project after the other: limits_set names those set before a later one fails
    return [plan if isinstance(plan, dict) else _apply_plan(plan, names, check_mode, limits_set) for plan in plans]


def diff_text(views: list[dict[str, Any]]) -> str:
    """One line per project, for --diff: limits in readable units."""
    lines = []
    for view in views:
        limits = " ".join(
            f"{key}={format_size(value) if key in BLOCK_LIMITS else value}" if value else f"{key}=none"
            for key, value in view["limits"].items()
        )
        label = f"{view['id']} ({view['name']})" if view["name"] else str(view["id"])
        if view["id"] is None:
            label = f"{view['name'] or view['mountpoint']} (not resolved in check mode)"
        lines.append(f"project {label} on {view['mountpoint']}: {limits}\n")
    return "".join(lines)
