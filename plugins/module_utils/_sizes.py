# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one size parser and formatter of the collection.

Sizes follow xfs_quota's convention: suffixes are binary (``k`` = KiB = 1024 bytes) whether
written ``10g``, ``10G``, ``10GiB`` or ``10GB``. A bare number is bytes. ``0`` means no limit.
XFS keeps block limits in 512-byte basic blocks and applies them in file-system blocks, so
limits are compared in file-system blocks (see :func:`round_up`).
"""

from __future__ import annotations

import re

BASIC_BLOCK = 512
MAX_BYTES = 2**63 - 1

# The grammar of tests/vectors/sizes.json: spaces/tabs, ASCII digits, at most 9 after a point,
# spaces/tabs, a unit. Whatever follows the number is the unit text, judged separately.
_SIZE_RE = re.compile(r"[ \t]*([0-9]+)(?:\.([0-9]+))?[ \t]*(.*?)[ \t]*", re.DOTALL)
_UNIT_RE = re.compile(r"(?:b|([kmgtp])(?:b|ib)?)?", re.IGNORECASE)
_UNIT_LIKE_RE = re.compile(r"[A-Za-z][A-Za-z0-9 \t]*")  # a word, but not a unit: "unit", else "syntax"
_EXPONENTS = {"k": 1, "m": 2, "g": 3, "t": 4, "p": 5}
_MAX_FRACTION_DIGITS = 9
_ACCEPTED = "bytes, or a number with k, m, g, t, p (binary units: 1k = 1024), e.g. 512m or 1.5g"


class SizeError(ValueError):
    """A size that cannot be used; the message names the parameter and shows what was written.

    ``kind`` is one of the error kinds of tests/vectors/sizes.json.
    """

    def __init__(self, message: str, kind: str = "syntax"):
        super().__init__(message)
        self.kind = kind


def _exact(value: int | str, name: str) -> tuple[int, int, bool]:
    """``(numerator, denominator, nonzero)`` of the exact size written as ``value``."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise SizeError(f"{name}: expected a size such as 512m, 10g or a byte count, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise SizeError(f"{name}: {value} is negative; use 0 for no limit")
        return value, 1, value != 0
    match = _SIZE_RE.fullmatch(value)
    if not match:
        raise SizeError(f"{name}: cannot read {value!r} as a size; use {_ACCEPTED}")
    whole, fraction, unit_text = match.groups()
    unit = _UNIT_RE.fullmatch(unit_text)
    if unit is None:
        if _UNIT_LIKE_RE.fullmatch(unit_text):
            raise SizeError(f"{name}: {value!r} has an unknown unit {unit_text!r}; use {_ACCEPTED}", "unit")
        raise SizeError(f"{name}: cannot read {value!r} as a size; use {_ACCEPTED}")
    fraction = fraction or ""
    if len(fraction) > _MAX_FRACTION_DIGITS:
        raise SizeError(f"{name}: {value!r} has more than {_MAX_FRACTION_DIGITS} digits after the point", "fraction_digits")
    scale = 1024 ** _EXPONENTS.get((unit.group(1) or "").lower(), 0)
    digits = int(whole + fraction)
    return digits * scale, 10 ** len(fraction), digits != 0


def parse_size(value: int | str, name: str = "size") -> int:
    """``value`` in bytes (rounded down); ``name`` is the parameter named in error messages.

    0 means no limit, so a non-zero size that rounds to 0 bytes is an error, not "unlimited".
    """
    numerator, denominator, nonzero = _exact(value, name)
    size = numerator // denominator
    if size > MAX_BYTES:
        raise SizeError(f"{name}: {value!r} is larger than the largest size XFS can record (8191p)", "too_large")
    if nonzero and size == 0:
        raise SizeError(f"{name}: {value!r} is less than one byte; write 0 for no limit", "rounds_to_zero")
    return size


def parse_count(value: int | str, name: str = "count") -> int:
    """An inode count, same grammar as sizes (``1k`` = 1024 inodes), but only whole numbers."""
    numerator, denominator, _nonzero = _exact(value, name)
    if numerator % denominator:
        raise SizeError(f"{name}: {value!r} is not a whole number of inodes", "rounds_to_zero")
    return parse_size(value, name)


def round_up(size: int, unit: int) -> int:
    """Round ``size`` up to a whole number of ``unit``s (a limit never ends below what was asked)."""
    return -(-size // unit) * unit


def format_size(size: int) -> str:
    """Human-readable binary size: ``10485760`` -> ``'10 MiB'``, ``1536`` -> ``'1.5 KiB'``."""
    if size < 1024:
        return f"{size} B"
    for exponent, suffix in ((6, "EiB"), (5, "PiB"), (4, "TiB"), (3, "GiB"), (2, "MiB"), (1, "KiB")):
        scale = 1024**exponent
        if size >= scale:
            text = f"{size / scale:.2f}".rstrip("0").rstrip(".")
            return f"{text} {suffix}"
    return f"{size} B"  # pragma: no cover - unreachable
