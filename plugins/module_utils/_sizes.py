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

_UNITS = {"": 0, "b": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6}
_SIZE_RE = re.compile(r"^\s*(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>[kmgtpe]?)(?:i?b)?\s*$", re.IGNORECASE)
_MAX_BYTES = 2**63 - 1


class SizeError(ValueError):
    """A size that cannot be parsed; the message names the value and what is accepted."""


def parse_size(value: int | str, name: str = "size") -> int:
    """Return ``value`` in bytes; ``name`` is the parameter named in the error message."""
    if isinstance(value, bool):
        raise SizeError(f"{name}: expected a size such as 512m, 10g or a byte count, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise SizeError(f"{name}: {value} is negative; use 0 for no limit")
        return value
    match = _SIZE_RE.match(str(value))
    if not match:
        raise SizeError(
            f"{name}: cannot read {value!r} as a size; use bytes or a number with k, m, g, t, p "
            "(binary units: 1k = 1024), e.g. 512m or 1.5g"
        )
    number = match.group("num")
    exponent = _UNITS[match.group("unit").lower()]
    if "." in number:
        whole, frac = number.split(".")
        scale = 1024**exponent
        size = int(whole) * scale + (int(frac) * scale) // (10 ** len(frac))
    else:
        size = int(number) * 1024**exponent
    if size > _MAX_BYTES:
        raise SizeError(f"{name}: {value!r} is larger than the largest size XFS can record")
    return size


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
