# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cluster quota report of ``playbooks/report.yml``, from one ``xfs_quota_info`` result per host.

One reading (:func:`build`) gives the rows of each table as data, so that the text tables the
playbook prints and the CSV and JSON files it can write for other tools always agree. Hosts whose
result is missing, unreachable or failed are rows of their own, with the reason.
"""

from __future__ import annotations

import csv
import io
from typing import Callable

from ansible_collections.mesos.xfs_quota.plugins.module_utils._sizes import format_size

PROJECT_COLUMNS = ("host", "mountpoint", "project_id", "name", "used_bytes", "limit_bytes", "percent_used")
SANDBOX_COLUMNS = ("host", "framework", "executor", "container", "project_id", "path", "used_bytes", "limit_bytes",
                   "percent_used")
DOCKER_COLUMNS = ("host", "container", "sandbox_used_bytes", "sandbox_limit_bytes", "sandbox_percent_used",
                  "sandbox_note", "root_used_bytes", "root_limit_bytes", "root_percent_used", "root_note")
FAILED_COLUMNS = ("host", "reason")
NOTE_COLUMNS = ("host", "mountpoint", "note")
COLUMNS = {"failed_hosts": FAILED_COLUMNS, "quota_notes": NOTE_COLUMNS, "projects": PROJECT_COLUMNS,
           "sandboxes": SANDBOX_COLUMNS, "docker_tasks": DOCKER_COLUMNS}


class ReportError(ValueError):
    pass


def text_table(rows: list[tuple[str, ...]], left: tuple[int, ...]) -> list[str]:
    """``rows`` (the header first) as aligned lines: columns in ``left`` left-aligned, the rest right-aligned."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) if column in left else cell.rjust(width)
                      for column, (cell, width) in enumerate(zip(row, widths))).rstrip() for row in rows]


def failure(result: object) -> str | None:
    """Why a host's result holds no report (None when it does)."""
    if not isinstance(result, dict) or not result:
        return "no result: the host was not read (it failed or was unreachable before the read)"
    if result.get("unreachable"):
        return "unreachable: " + str(result.get("msg") or "no reason given").strip()
    if result.get("failed"):
        return "failed: " + str(result.get("msg") or "no reason given").strip()
    if result.get("skipped"):
        return "skipped: " + str(result.get("skip_reason") or "no reason given").strip()
    if "quota_state" not in result:
        return "no quota state in the result"
    return None


def _percent(used: int, limit: int) -> float | None:
    return round(100.0 * used / limit, 1) if limit else None


def _docker_side(host_row: dict, prefix: str, directory: dict | None) -> None:
    used = limit = percent = None
    note = ""
    if not directory:
        note = "not found"
    elif "error" in directory:
        note = str(directory["error"])
    elif not directory.get("project_id"):
        note = "no project, no limit"
    else:
        used, limit = directory["used_bytes"], directory.get("limit_bytes") or 0
        percent = directory.get("percent_bytes")
        note = "" if limit else "no limit"
    host_row.update({f"{prefix}_used_bytes": used, f"{prefix}_limit_bytes": limit,
                     f"{prefix}_percent_used": percent, f"{prefix}_note": note})


_QUOTA_OFF = ("project quota is OFF: no limit is enforced and no usage is counted there "
              "(mount it with prjquota: role mesos.xfs_quota.xfs)")
_NOT_ENFORCED = "project quota counts usage but does not enforce limits"


def _quota_note(state: dict) -> str:
    """What the report says about a file system's project quota ("" when it counts and enforces)."""
    if not state.get("project_accounting"):
        return _QUOTA_OFF
    if not state.get("project_enforcement"):
        return _NOT_ENFORCED
    return ""


def _limited_rows(host: str, items: list[dict], row: Callable[[dict], dict]) -> list[dict]:
    """``row`` of each item (a project or a sandbox) with a byte limit; one without has no percentage to show."""
    rows = []
    for item in items:
        limit = item["limits"]["bhard"] or item["limits"]["bsoft"]
        if limit:
            rows.append({"host": host, **row(item), "used_bytes": item["used_bytes"], "limit_bytes": limit,
                         "percent_used": _percent(item["used_bytes"], limit)})
    return rows


def _project_row(mountpoint: str, project: dict) -> dict:
    return {"mountpoint": mountpoint, "project_id": project["id"], "name": project.get("name") or ""}


def _sandbox_row(sandbox: dict) -> dict:
    return {"framework": sandbox["framework"], "executor": sandbox["executor"], "container": sandbox["container"],
            "project_id": sandbox.get("project_id"), "path": sandbox.get("path", "")}


def _docker_row(host: str, task: dict) -> dict:
    """A Docker task: its sandbox and its writable layer (root), each with its note."""
    row = {"host": host, "container": task["container"]}
    _docker_side(row, "sandbox", task.get("sandbox"))
    _docker_side(row, "root", task.get("writable_layer"))
    return row


def _add_host(report: dict[str, list[dict]], host: str, result: dict) -> None:
    """The rows of one host whose result holds a report."""
    mountpoint = result.get("mountpoint") or "?"
    state = result.get("quota_state") or {}
    note = _quota_note(state)
    if note:
        report["quota_notes"].append({"host": host, "mountpoint": mountpoint, "note": note})
    if not state.get("project_accounting"):  # nothing counted: no usage to show
        return
    report["projects"] += _limited_rows(host, result.get("projects") or [],
                                        lambda project: _project_row(mountpoint, project))
    report["sandboxes"] += _limited_rows(host, result.get("sandboxes") or [], _sandbox_row)
    report["docker_tasks"] += [_docker_row(host, task) for task in result.get("docker_tasks") or []]


def _fullest(row: dict) -> float:
    return max((row.get(key) or 0.0) for key in ("percent_used", "sandbox_percent_used", "root_percent_used"))


def build(hosts: list[str], results: list[object]) -> dict[str, list[dict]]:
    """Rows of every table (see COLUMNS), fullest first, from the hosts' results in the same order."""
    if not isinstance(hosts, list) or not isinstance(results, list) or len(hosts) != len(results):
        raise ReportError("the report needs a list of hosts and a list of as many xfs_quota_info results")
    report: dict[str, list[dict]] = {name: [] for name in COLUMNS}
    for host, result in zip(hosts, results):
        reason = failure(result)
        if reason:
            report["failed_hosts"].append({"host": host, "reason": reason})
        else:
            _add_host(report, host, result)
    for name in ("projects", "sandboxes", "docker_tasks"):
        report[name].sort(key=lambda row: (-_fullest(row), row["host"], str(row.get("project_id") or row.get("container"))))
    return report


def _size(value: int | None) -> str:
    return "-" if value is None else format_size(value)


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def lines(report: dict[str, list[dict]], top: int = 20, docker: bool = False) -> list[str]:
    """The report as text: hosts not read, quota notes, then the fullest projects, sandboxes (and Docker tasks)."""
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ReportError(f"top must be a whole number of at least 1, got {top!r}")
    out = []
    failed = report["failed_hosts"]
    if failed:
        out.append(f"NOT READ: {len(failed)} host(s), not in the tables below")
        out += text_table([("host", "reason")] + [(r["host"], r["reason"]) for r in failed], left=(0, 1))
        out.append("")
    for note in report["quota_notes"]:
        out.append(f"{note['host']}: {note['mountpoint']}: {note['note']}")
    if report["quota_notes"]:
        out.append("")
    out.append(f"FULLEST PROJECTS (top {top})")
    if report["projects"]:
        out += text_table([("host", "project", "name", "used", "limit", "used %")] + [
            (r["host"], str(r["project_id"]), r["name"] or "-", _size(r["used_bytes"]), _size(r["limit_bytes"]),
             _pct(r["percent_used"])) for r in report["projects"][:top]], left=(0, 2))
    else:
        out.append("no project has a block limit")
    out.append("")
    out.append(f"FULLEST TASK SANDBOXES (top {top})")
    if report["sandboxes"]:
        out += text_table([("host", "framework", "executor", "container", "used", "limit", "used %")] + [
            (r["host"], r["framework"], r["executor"], r["container"], _size(r["used_bytes"]), _size(r["limit_bytes"]),
             _pct(r["percent_used"])) for r in report["sandboxes"][:top]], left=(0, 1, 2, 3))
    else:
        out.append("no sandbox has a block limit")
    if docker:
        out.append("")
        out.append(f"DOCKER TASKS (top {top}): sandbox and container root")
        if report["docker_tasks"]:
            def cells(row, side):
                if row[f"{side}_used_bytes"] is None:
                    return row[f"{side}_note"], ""
                limit = _size(row[f"{side}_limit_bytes"]) if row[f"{side}_limit_bytes"] else "no limit"
                return f"{_size(row[f'{side}_used_bytes'])} / {limit}", _pct(row[f"{side}_percent_used"])
            out += text_table([("host", "container", "sandbox used / limit", "%", "container root used / limit", "%")] + [
                (r["host"], r["container"], *cells(r, "sandbox"), *cells(r, "root")) for r in report["docker_tasks"][:top]],
                left=(0, 1, 2, 4))
        else:
            out.append("no Mesos Docker task (container mesos-<containerId>) on these hosts")
    return out


def csv_text(rows: list[dict], columns: tuple[str, ...]) -> str:
    """RFC 4180 CSV with a header line; empty cells for None."""
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=list(columns), lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return stream.getvalue()


def render(hosts: list[str], results: list[object], top: int = 20, docker: bool = False) -> dict:
    """What the playbook prints and writes: text lines, one CSV text per table, and the data for JSON."""
    report = build(hosts, results)
    return {"lines": lines(report, top, docker), "csv": {name: csv_text(report[name], COLUMNS[name]) for name in COLUMNS},
            "data": report}


__all__ = ["COLUMNS", "ReportError", "build", "csv_text", "failure", "lines", "render", "text_table"]
