# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Docker's ``daemon.json``: read it as the installed dockerd does, merge keys and storage options, render it.

Every key the request does not name is kept, with its value and its place. ``storage-opts`` is a
list of ``name=value`` strings (moby ``daemon/config``), merged by option name. Sizes
(``overlay2.size``, ``size``) are compared as byte counts with the collection's size rule
(``_sizes``; binary units, as Docker's ``units.RAMInBytes`` reads them), so ``10G`` and
``10GiB`` are the same setting and an existing spelling is kept.

The file's bytes are read as moby ``daemon/config`` ``getConflictFreeConfiguration`` reads them,
which changed in Docker 23.0: before, the bytes go to ``encoding/json`` as they are (a byte order
mark is "invalid character 'ï' looking for beginning of value"; a byte that is not UTF-8 becomes
U+FFFD); from 23.0 on, ``unicode.BOMOverride`` decodes a UTF-8 or UTF-16 file with a BOM and
``encoding.UTF8Validator`` refuses bytes that are not UTF-8. A file the installed dockerd reads is
written back in its own encoding (BOM kept); one it refuses is an error and is left unchanged.
JSON has no Infinity or NaN and a number must fit Go's float64: other numbers are refused by key.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from ansible.module_utils.common.validation import check_type_dict

from ansible_collections.mesos.xfs_quota.plugins.module_utils._sizes import SizeError, parse_size

SIZE_OPTIONS = frozenset({"overlay2.size", "size"})
STORAGE_OPTS = "storage-opts"
_DOCKER_UNITS = ((5, "P"), (4, "T"), (3, "G"), (2, "M"), (1, "K"))


class DockerConfigError(ValueError):
    """A daemon.json or a request that cannot be used; the message names what to fix."""


# --- the installed dockerd, and how it reads the file's bytes -------------------------------------------
BOM_FROM = (23, 0)  # moby v23.0.0 daemon/config/config.go: BOMOverride + UTF8Validator
_BOMS = ((codecs.BOM_UTF8, "utf-8", "UTF-8"), (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE"),
         (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE"))
_VERSION = re.compile(r"version v?(\d+)\.(\d+)")


@dataclass(frozen=True)
class Dockerd:
    """The installed dockerd as far as it matters here: its version (None: not found or not readable)."""

    version: tuple[int, int] | None
    text: str  # how messages name it: "dockerd 20.10.24" or why it is unknown

    @property
    def decodes_boms(self) -> bool:
        return self.version is not None and self.version >= BOM_FROM

    @property
    def keeps_bad_bytes(self) -> bool:
        return self.version is not None and self.version < BOM_FROM


def dockerd_from_version_output(output: str | None) -> Dockerd:
    """``dockerd --version`` output ("Docker version 20.10.24+dfsg1, build 297e128"), or None (not found)."""
    if output is None:
        return Dockerd(None, "no dockerd was found to tell its version")
    match = _VERSION.search(output)
    if not match:
        return Dockerd(None, f"the version of dockerd cannot be read from {output.strip()[:80]!r}")
    full = re.search(r"version (v?[0-9][^ ,]*)", output)
    return Dockerd((int(match.group(1)), int(match.group(2))), f"dockerd {full.group(1) if full else match.group(0)}")


@dataclass(frozen=True)
class Decoded:
    """A daemon.json's text, and how to write it back: encoding, BOM, whether raw bytes are kept."""

    text: str
    encoding: str = "utf-8"
    bom: bytes = b""
    raw_bytes: bool = False  # bytes that are not UTF-8 ride in the text as surrogates (dockerd < 23 reads them)


def decode_config(data: bytes, path: str, dockerd: Callable[[], Dockerd]) -> Decoded:
    """The text of ``data`` as the installed dockerd reads it; an error (file left unchanged) when it refuses it.

    ``dockerd`` is asked only when the bytes are neither plain UTF-8 nor empty.
    """
    for bom, encoding, name in _BOMS:
        if data.startswith(bom):
            daemon = dockerd()
            if not daemon.decodes_boms:
                if daemon.version:
                    why = (f"which {daemon.text} refuses (\"invalid character '{chr(bom[0])}' looking for beginning "
                           "of value\"; dockerd reads a BOM from 23.0 on)")
                else:
                    why = f"which dockerd before 23.0 refuses, and {daemon.text}"
                raise DockerConfigError(f"path: {path} starts with a {name} byte order mark, {why}; save it as UTF-8 "
                                        "without a BOM; it was left unchanged")
            try:
                text = data[len(bom):].decode(encoding)
            except UnicodeDecodeError as exc:
                raise DockerConfigError(f"path: {path} is not valid {name} at byte {exc.start + len(bom)} "
                                        f"({daemon.text} refuses it); it was left unchanged") from None
            return Decoded(text, encoding, bom)
    try:
        return Decoded(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        daemon = dockerd()
        if not daemon.keeps_bad_bytes:
            reads = (f"{daemon.text} refuses the file" if daemon.version else
                     f"dockerd 23.0 and later refuse the file, and {daemon.text}")
            raise DockerConfigError(
                f"path: {path} has a byte that is not UTF-8 (0x{data[exc.start]:02x} at offset {exc.start}); {reads} "
                f"(\"failed to decode configuration JSON\"); save it as UTF-8; "
                "it was left unchanged") from None
        return Decoded(data.decode("utf-8", "surrogateescape"), raw_bytes=True)


def render_for(config: dict[str, Any], decoded: Decoded) -> str:
    """:func:`render_config` of ``config`` for the file ``decoded`` came from: a lone surrogate that stands
    for a byte of the file stays (it is written back as that byte), any other is written as a JSON escape."""
    return _surrogates(render_config(config), decoded.raw_bytes, _json_escape)


def encode_config(text: str, decoded: Decoded) -> bytes:
    """The bytes of ``text`` (from :func:`render_for`) in the file's own encoding, after its BOM."""
    return decoded.bom + text.encode(decoded.encoding, "surrogateescape" if decoded.raw_bytes else "strict")


def _json_escape(char: str) -> str:
    return f"\\u{ord(char):04x}"


def _surrogates(text: str, raw_bytes: bool, other: Callable[[str], str]) -> str:
    """``text`` with each lone surrogate that is not a byte the file held (``raw_bytes``) replaced by ``other``."""
    def one(match: re.Match) -> str:
        char = match.group(0)
        return char if raw_bytes and 0xDC80 <= ord(char) <= 0xDCFF else other(char)
    return re.sub("[\ud800-\udfff]", one, text)


# --- numbers: finite, and within Go's float64 ----------------------------------------------------------
class _NotFinite(str):
    """A number of the file that dockerd cannot read (its text kept for the message)."""


def _finite_float(text: str) -> Any:
    number = float(text)
    return number if math.isfinite(number) else _NotFinite(text)


def _finite_int(text: str) -> Any:
    number = int(text)
    try:
        float(number)
    except OverflowError:
        return _NotFinite(text)
    return number


def _key_path(parent: str, key: Any) -> str:
    return f"{parent}[{key}]" if isinstance(key, int) else (f"{parent}.{key}" if parent else str(key))


def not_finite(value: Any, where: str = "") -> tuple[str, str] | None:
    """(key path, number as written) of the first number in ``value`` that is not finite, or None."""
    if isinstance(value, _NotFinite):
        return where, str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return where, repr(value)
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            float(value)
        except OverflowError:
            return where, f"an integer of {len(str(abs(value)))} digits"
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = not_finite(item, _key_path(where, key))
        if found:
            return found
    return None


def _refuse_constant(text: str) -> Any:
    return _NotFinite(text)  # NaN, Infinity, -Infinity: Python reads them, JSON and dockerd do not


# --- settings: a dict keeps its YAML types; key=value text is typed as JSON -------------------------------
def settings_from(value: Any) -> dict[str, Any]:
    """The ``settings`` parameter as a dict whose values keep their JSON types.

    A dict (YAML) is taken as it is. Text is a JSON object or ``key=value`` pairs (as ad hoc
    ``-a 'settings="debug=true max-concurrent-downloads=3"'`` gives it); each value of the pairs is
    read as JSON when it is JSON (``true``, ``3``, ``[1]``, ``"3"``) and is a string otherwise
    (``warn``, ``/var/lib/docker``). Numbers that are not finite are refused naming the key.
    """
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            if value.lstrip().startswith("{"):
                value = json.loads(value, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_finite_int)
            else:
                value = {key: _typed(text) for key, text in check_type_dict(value).items()}
        except (TypeError, ValueError) as exc:
            raise DockerConfigError(f"settings: cannot read {value!r} as a JSON object or key=value pairs ({exc}); "
                                    "give a dict") from None
    if not isinstance(value, dict):
        raise DockerConfigError(f"settings: expected a dict (or key=value text), got {type(value).__name__}")
    found = not_finite(value)
    if found:
        raise DockerConfigError(f"settings[{found[0]}]: {found[1]} is not a finite number; JSON has no Infinity or NaN "
                                "and dockerd reads numbers as 64-bit floats; give a number it can hold")
    return value


def _typed(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_finite_int)
    except ValueError:
        return text


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
        config = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant,
                            parse_float=_finite_float, parse_int=_finite_int)
    except json.JSONDecodeError as exc:
        raise DockerConfigError(
            f"path: {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "fix the file (dockerd does not start with it either); it was left unchanged") from None
    except DockerConfigError as exc:
        raise DockerConfigError(f"path: {path}: {exc}; it was left unchanged") from None
    if not isinstance(config, dict):
        raise DockerConfigError(f"path: {path} holds a JSON {type(config).__name__}, not an object; it was left unchanged")
    found = not_finite(config)
    if found:
        raise DockerConfigError(f"path: {path}: the value of {found[0]!r} is {found[1]}, which dockerd cannot read (JSON "
                                "numbers must fit a 64-bit float; Infinity and NaN are not JSON); fix it; it was left unchanged")
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
    return json.dumps(config, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
