# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The project-id rule of the collection: the id maximum, one id, and an id range.

Its test vectors are ``tests/vectors/project_ids.json`` (read by the C++ hook's tests too).
Used by ``_xfs`` (before any ``quotactl``), ``_projects`` (ids in /etc/projid) and the
``project_id_conflicts`` filter.
"""

from __future__ import annotations

import re
from typing import Any

PROJECT_ID_MAX = 2**32 - 2  # 0 is the default project; (u32)-1 means "no id" to several tools

# FIRST-LAST, optionally in [ ] as Mesos writes --xfs_project_range; spaces/tabs only, ASCII digits.
_RANGE_RE = re.compile(r"[ \t]*(\[?)[ \t]*([0-9]+)[ \t]*-[ \t]*([0-9]+)[ \t]*(\]?)[ \t]*")


_DECIMAL_RE = re.compile(r"[0-9]{1,20}")


class ProjectIdError(ValueError):
    """A bad id or id range; ``kind`` is one of the vectors' error kinds."""

    def __init__(self, message: str, kind: str):
        super().__init__(message)
        self.kind = kind


def check_project_id(value: Any, param: str = "id") -> int:
    """``value`` as a project id (1 to PROJECT_ID_MAX): an int or its ASCII decimal digits as text.

    Modules take ids as ``raw`` and check them here: Ansible's ``int`` type lets ``True`` through
    (``yes`` in YAML) and ends in a traceback on ``.inf``. A bool or a float is never an id.
    """
    if isinstance(value, str) and _DECIMAL_RE.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProjectIdError(f"{param}: expected a project id (a whole number from 1 to {PROJECT_ID_MAX}), got {value!r}", "syntax")
    if not 1 <= value <= PROJECT_ID_MAX:
        raise ProjectIdError(
            f"{param}: {value} is out of range; project ids are 1 to {PROJECT_ID_MAX} (0 is the default project)",
            "out_of_range")
    return value


def parse_id_range(text: str, param: str = "range") -> tuple[int, int]:
    """``(first, last)`` of ``20000-29999`` or ``[5000-10000]``."""
    match = _RANGE_RE.fullmatch(text) if isinstance(text, str) else None
    if not match or bool(match.group(1)) != bool(match.group(4)):
        raise ProjectIdError(f"{param}: {text!r} is not an id range; write FIRST-LAST, e.g. 20000-29999", "syntax")
    first, last = int(match.group(2)), int(match.group(3))
    if not (1 <= first <= PROJECT_ID_MAX and 1 <= last <= PROJECT_ID_MAX):
        raise ProjectIdError(f"{param}: {text!r} goes outside the project ids 1 to {PROJECT_ID_MAX}", "out_of_range")
    if first > last:
        raise ProjectIdError(f"{param}: {text!r} starts above its end; write FIRST-LAST with FIRST <= LAST", "order")
    return first, last
