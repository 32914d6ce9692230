# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Docker's ``daemon.json``: read it strictly, merge keys and storage options, render it.

Every key the request does not name is kept, with its value and its place. ``storage-opts`` is a
list of ``name=value`` strings (moby ``daemon/config``), merged by option name. Sizes
(``overlay2.size``, ``size``) are compared as byte counts with the collection's size rule
(``_sizes``; binary units, as Docker's ``units.RAMInBytes`` reads them), so ``10G`` and
``10GiB`` are the same setting and an existing spelling is kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ansible_collections.mesos.xfs_quota.plugins.module_utils._sizes import SizeError, parse_size

SIZE_OPTIONS = frozenset({"overlay2.size", "size"})
STORAGE_OPTS = "storage-opts"
_DOCKER_UNITS = ((5, "P"), (4, "T"), (3, "G"), (2, "M"), (1, "K"))


class DockerConfigError(ValueError):
    """A daemon.json or a request that cannot be used; the message names what to fix."""


def docker_size(size: int) -> str:
    """``size`` bytes as Docker writes sizes: the largest binary unit that is exact (``10G``), else bytes."""
    for exponent, suffix in _DOCKER_UNITS:
        if size and size % 1024**exponent == 0:
            return f"{size // 1024**exponent}{suffix}"
    return str(size)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise DockerConfigError(f"the key {key!r} appears twice; keep one (a rewrite would lose the other)")
        seen[key] = value
    return seen


def parse_config(text: str, path: str) -> dict[str, Any]:
    """The object in ``text``; empty text (no file yet) is ``{}``. Anything else is an error."""
    if not text.strip():
        return {}
    try:
        config = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise DockerConfigError(
            f"path: {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "fix the file (dockerd does not start with it either); it was left unchanged") from None
    except DockerConfigError as exc:
        raise DockerConfigError(f"path: {path}: {exc}; it was left unchanged") from None
    if not isinstance(config, dict):
        raise DockerConfigError(f"path: {path} holds a JSON {type(config).__name__}, not an object; it was left unchanged")
    return config


def _split_option(item: Any, path: str) -> tuple[str, str]:
    if not isinstance(item, str) or "=" not in item:
        raise DockerConfigError(f"path: {path}: {STORAGE_OPTS} entry {item!r} is not a name=value string; it was left unchanged")
    name, value = item.split("=", 1)
    return name.strip(), value


def _normalised(name: str, value: Any) -> str | None:
    """The text to write for option ``name``; ``None`` (and a size of 0: no limit) removes it."""
    if value is None:
        return None
    if name in SIZE_OPTIONS:
        try:
            size = parse_size(value, f"storage_opts[{name}]")
        except SizeError as exc:
            raise DockerConfigError(str(exc)) from None
        return docker_size(size) if size else None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise DockerConfigError(f"storage_opts[{name}]: expected a string, got {value!r}")
    return str(value)


def _same_value(name: str, current: str, wanted: str) -> bool:
    if name in SIZE_OPTIONS:
        try:
            return parse_size(current.strip()) == parse_size(wanted)
        except SizeError:
            return False  # an unreadable size in the file is replaced
    return current == wanted


def merge_storage_opts(current: Any, wanted: dict[str, Any], path: str) -> list[str]:
    """``current`` (the file's list) with each option of ``wanted`` set; ``None`` removes it."""
    wanted = {name: _normalised(name, value) for name, value in wanted.items()}
    if current is None:
        current = []
    if not isinstance(current, list):
        raise DockerConfigError(f"path: {path}: {STORAGE_OPTS} is not a list; it was left unchanged")
    result: list[str] = []
    placed: set[str] = set()
    for item in current:
        name, value = _split_option(item, path)
        if name not in wanted:
            result.append(item)
        elif wanted[name] is not None and name not in placed:
            new = wanted[name]
            result.append(item if _same_value(name, value, new) else f"{name}={new}")
            placed.add(name)
    result.extend(f"{name}={value}" for name, value in wanted.items() if value is not None and name not in placed)
    return result


@dataclass
class MergeResult:
    before: dict[str, Any]
    after: dict[str, Any]

    @property
    def changed(self) -> bool:
        return self.before != self.after


def merge_config(before: dict[str, Any], settings: dict[str, Any], storage_opts: dict[str, Any], path: str) -> MergeResult:
    """``before`` with the top-level ``settings`` set (``None`` removes a key) and ``storage_opts`` merged."""
    if STORAGE_OPTS in settings:
        raise DockerConfigError(f"settings: give {STORAGE_OPTS} as storage_opts (merged by option name), not as a setting")
    after = dict(before)
    for key, value in settings.items():
        if value is None:
            after.pop(key, None)
        else:
            after[key] = value
    if storage_opts:
        opts = merge_storage_opts(before.get(STORAGE_OPTS), storage_opts, path)
        if opts:
            after[STORAGE_OPTS] = opts
        else:
            after.pop(STORAGE_OPTS, None)
    return MergeResult(before, after)


def render_config(config: dict[str, Any]) -> str:
    """The file's text: two-space indented JSON, keys in their order, a final newline."""
    return json.dumps(config, indent=2, ensure_ascii=False) + "\n"
