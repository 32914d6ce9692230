# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one editor of /etc/projid (``name:id``) and /etc/projects (``id:path``).

Lines this collection does not own (comments, blank lines, other projects, malformed lines) are
kept byte for byte: the files are split on ``\\n`` only (never ``str.splitlines``, which also
splits on ``\\f``, ``\\v``, ``\\x85``, U+2028 ...), each line keeps its own terminator (CRLF stays
CRLF), and bytes that are not UTF-8 are carried through as surrogates. Both files are rewritten
atomically (temp file + fsync + rename, mode, owner and SELinux context kept) while an exclusive
``flock`` on a lock file is held, so that Ansible and anything else following the same protocol
never interleave their edits.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterator

from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import FileError, atomic_write, read_text
from ansible_collections.mesos.xfs_quota.plugins.module_utils._project_ids import ProjectIdError, check_project_id

# Argument spec of the two file options (doc fragment mesos.xfs_quota.project_files).
PROJECT_FILE_ARGS = {
    "projid_file": {"type": "path", "default": "/etc/projid"},
    "projects_file": {"type": "path", "default": "/etc/projects"},
}
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
_LINE_BREAKING = ("Cc", "Cs", "Zl", "Zp")  # control characters (C0, C1), lone surrogates, U+2028/9


class ProjectFileError(Exception):
    """A conflict or a bad value, with a message for the operator."""


def validate_id(project_id: object, name: str = "id") -> int:
    """A project id (not a bool, 1 to the maximum); the error names ``name``."""
    try:
        return check_project_id(project_id, name)
    except ProjectIdError as exc:
        raise ProjectFileError(str(exc)) from exc


def validate_name(project_name: object, name: str = "name") -> str:
    if not isinstance(project_name, str) or project_name.isdigit() or not NAME_RE.fullmatch(project_name):
        raise ProjectFileError(
            f"{name}: {project_name!r} is not a usable project name; start with a letter or _, then "
            "letters, digits, _ . - (at most 64), and not all digits"
        )
    return project_name


def validate_path(path: object, name: str = "paths") -> str:
    """A path that fits on one ``id:path`` line and reads back the same."""
    if not isinstance(path, str) or not path:
        raise ProjectFileError(f"{name}: expected a path, got {path!r}")
    bad = next((c for c in path if unicodedata.category(c) in _LINE_BREAKING), None)
    if bad is not None:
        raise ProjectFileError(
            f"{name}: {path!r} contains the control character {bad!r}; /etc/projects holds one path per line, "
            "so paths with control characters or line separators cannot be assigned")
    if path != path.strip():
        raise ProjectFileError(
            f"{name}: {path!r} begins or ends with white space, which /etc/projects does not keep; rename the directory")
    return path


def shown(text: str) -> str:
    """``text`` for output: bytes that are not UTF-8 (kept as surrogates) shown as U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def split_lines(text: str) -> list[str]:
    """Lines of ``text`` with their own ``\\n`` (the last one may have none); splits on ``\\n`` only."""
    lines = text.split("\n")
    last = lines.pop()
    return [line + "\n" for line in lines] + ([last] if last else [])


def _entries(lines: list[str]) -> Iterator[tuple[str, str]]:
    """(key, value) of every ``key:value`` line; comments, blank and key-less lines are skipped.

    str.partition in one loop, not a regular expression or a call per line: a projid file of
    10,000 projects is parsed on every module run, and this takes a third of the time.
    """
    for line in lines:
        key, colon, value = line.partition(":")
        key = key.strip()
        if colon and key and key[0] != "#":
            yield key, value.strip()


def _entry(line: str) -> tuple[str, str] | None:
    return next(_entries([line]), None)


def parse_projid(text: str) -> dict[str, int]:
    """name -> id of every well-formed ``name:id`` line of a projid text (the first line of a name wins)."""
    names: dict[str, int] = {}
    for name, value in _entries(split_lines(text)):
        if value.isdecimal() and value.isascii() and name not in names:
            names[name] = int(value)
    return names


def _contains(outer: str, inner: str) -> bool:
    """``inner`` is ``outer`` or a path below it."""
    return inner == outer or inner.startswith(outer.rstrip("/") + "/")


@dataclass
class ProjectFiles:
    """Both files in memory; edits change ``projid`` / ``projects`` lines, ``write`` saves them."""

    projid_path: str = "/etc/projid"
    projects_path: str = "/etc/projects"

    def __post_init__(self) -> None:
        if os.path.realpath(self.projid_path) == os.path.realpath(self.projects_path):
            # each edit would undo the other's: a name removed from one is written back by the second write
            raise ProjectFileError(
                f"projid_file/projects_file: {self.projid_path} and {self.projects_path} are the same file; "
                "name lines (name:id) and tree lines (id:path) need a file each, e.g. /etc/projid and /etc/projects")
        self.projid_before = read_text(self.projid_path, "projid_file")
        self.projects_before = read_text(self.projects_path, "projects_file")
        self.projid = split_lines(self.projid_before)
        self.projects = split_lines(self.projects_before)
        self._names: dict[str, int] | None = None  # derived from self.projid; reset on edit
        self._ids: dict[int, list[str]] = {}

    # --- queries ------------------------------------------------------------------------------
    def names(self) -> dict[str, int]:
        """name -> id for every well-formed projid line (first line wins), parsed once per edit."""
        if self._names is None:
            self._names = parse_projid("".join(self.projid))
            ids: dict[int, list[str]] = {}
            for name, project_id in self._names.items():
                ids.setdefault(project_id, []).append(name)
            self._ids = ids
        return self._names

    def id_of(self, name: str) -> int | None:
        return self.names().get(name)

    def names_of(self, project_id: int) -> list[str]:
        """Every name bound to ``project_id``, in file order."""
        self.names()
        return list(self._ids.get(project_id, []))

    def name_of(self, project_id: int) -> str | None:
        return next(iter(self.names_of(project_id)), None)

    def trees(self) -> Iterator[tuple[int, str]]:
        """(id, path) of every well-formed ``id:path`` line."""
        return self._trees()

    def _trees(self) -> Iterator[tuple[int, str]]:
        for key, path in _entries(self.projects):
            if key.isdecimal() and key.isascii():
                yield int(key), path

    def paths_of(self, project_id: int) -> list[str]:
        return [path for key, path in self._trees() if key == project_id]

    def listed_elsewhere(self, path: str, project_id: int) -> bool:
        """Another project lists exactly this tree."""
        return any(key != project_id and other == path for key, other in self._trees())

    def check_ownership(self, project_id: int, paths: list[str], label: str, name: str = "paths") -> None:
        """Refuse a tree that another project has, or that is inside or around one of its trees."""
        for path in paths:
            for key, other in self._trees():
                if key == project_id or not (_contains(other, path) or _contains(path, other)):
                    continue
                owner = self.name_of(key)
                other_label = f"{owner!r} ({key})" if owner else f"id {key}"
                how = "is also a tree of" if other.rstrip("/") == path.rstrip("/") else (
                    "is inside" if _contains(other, path) else "contains")
                raise ProjectFileError(
                    f"{name}: {path} (project {label}) {how} {other} of project {other_label} in {self.projects_path}; "
                    "a tree belongs to one project and project trees do not nest: remove it from that project first")
        self._check_aliases(project_id, paths, label, name)

    def _check_aliases(self, project_id: int, paths: list[str], label: str, name: str) -> None:
        """Refuse a tree that is another project's tree reached by another path (a bind mount of it, a
        hard link to a file tree): judged by (st_dev, st_ino) of the roots, not by the path."""
        wanted = {}
        for path in paths:
            try:
                st = os.lstat(path)
            except OSError:  # not there yet: it has no other name
                continue
            wanted[(st.st_dev, st.st_ino)] = path
        if not wanted:
            return
        for key, other in self._trees():
            if key == project_id:
                continue
            try:
                st = os.lstat(other)
            except OSError:
                continue
            path = wanted.get((st.st_dev, st.st_ino))
            if path is not None:
                owner = self.name_of(key)
                other_label = f"{owner!r} ({key})" if owner else f"id {key}"
                raise ProjectFileError(
                    f"{name}: {path} (project {label}) is {other}, a tree of project {other_label} in "
                    f"{self.projects_path}, under another path (the same device and inode: a bind mount, or a hard "
                    "link to a file); a tree belongs to one project: remove it from that project first")

    # --- edits --------------------------------------------------------------------------------
    def define(self, name: str, project_id: int) -> None:
        """Make ``name:id`` present; a name or id already bound otherwise is an error."""
        current = self.id_of(name)
        if current is not None and current != project_id:
            raise ProjectFileError(
                f"name: project {name!r} already has id {current} in {self.projid_path}; "
                f"use id={current}, another name, or remove it first"
            )
        owner = self.name_of(project_id)
        if owner is not None and current is None:
            raise ProjectFileError(
                f"id: {project_id} already belongs to project {owner!r} in {self.projid_path}; "
                "choose a free id or use that name"
            )
        if current is None:
            self.projid = _append(self.projid, f"{name}:{project_id}")
            self._names = None

    def undefine(self, name: str | None, project_id: int) -> list[str]:
        """Remove ``name``'s projid lines; once no name has ``project_id``, its /etc/projects lines.

        Returns the trees removed from /etc/projects (none while another name keeps the id).
        """
        if name is not None:  # only its own well-formed name:id lines; "name:junk" or "name:5:x" are not ours
            self.projid = [line for line in self.projid if not _is_binding(_entry(line), name, project_id)]
            self._names = None
        if self.names_of(project_id):
            return []
        trees = self.paths_of(project_id)
        self.set_paths(project_id, [])
        return trees

    def set_paths(self, project_id: int, paths: list[str]) -> None:
        """Make exactly ``paths`` the directory trees of ``project_id`` (order kept, new ones last)."""
        wanted = list(dict.fromkeys(paths))
        present: set[str] = set()
        lines = []
        for line in self.projects:
            entry = _entry(line)
            if entry and entry[0].isdecimal() and entry[0].isascii() and int(entry[0]) == project_id:
                if entry[1] not in wanted or entry[1] in present:
                    continue
                present.add(entry[1])
            lines.append(line)
        for path in wanted:
            if path not in present:
                lines = _append(lines, f"{project_id}:{path}")
        self.projects = lines

    # --- results ------------------------------------------------------------------------------
    def rendered(self) -> tuple[str, str]:
        return "".join(self.projid), "".join(self.projects)

    def _edited(self) -> tuple[bool, bool]:
        projid, projects = self.rendered()
        return projid != self.projid_before, projects != self.projects_before

    def changed(self) -> bool:
        return any(self._edited())

    def diff(self) -> list[dict[str, str]]:
        projid, projects = self.rendered()
        return [
            {"before_header": self.projid_path, "after_header": self.projid_path,
             "before": shown(self.projid_before), "after": shown(projid)},
            {"before_header": self.projects_path, "after_header": self.projects_path,
             "before": shown(self.projects_before), "after": shown(projects)},
        ]

    def write(self, written: list[str] | None = None) -> None:
        """Save the edited files; each one saved is appended to ``written`` (a failure's report).

        A file that is a symbolic link stays one: its target is rewritten atomically (as the
        tools that read it follow the link), instead of the link being replaced by a regular file.
        """
        written = written if written is not None else []
        projid_edited, projects_edited = self._edited()
        projid, projects = self.rendered()
        if projid_edited:
            atomic_write(os.path.realpath(self.projid_path), projid, param="projid_file")
            written.append(self.projid_path)
        if projects_edited:
            atomic_write(os.path.realpath(self.projects_path), projects, param="projects_file")
            written.append(self.projects_path)


def _is_binding(entry: tuple[str, str] | None, name: str, project_id: int) -> bool:
    """``entry`` is the line ``name:project_id`` (white space around either part allowed)."""
    return (entry is not None and entry[0] == name and entry[1].isdecimal() and entry[1].isascii()
            and int(entry[1]) == project_id)


def _append(lines: list[str], line: str) -> list[str]:
    """``lines`` plus ``line``; a last line without a terminator gets a ``\\n`` first."""
    if lines and not lines[-1].endswith("\n"):
        lines = lines[:-1] + [lines[-1] + "\n"]
    return lines + [line + "\n"]


__all__ = ["FileError", "ProjectFileError", "ProjectFiles", "parse_projid", "shown", "split_lines", "validate_id",
           "validate_name", "validate_path"]
