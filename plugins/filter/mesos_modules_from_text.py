# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: mesos_modules_from_text
short_description: Read the --modules value a Mesos agent shows in /flags back into data
version_added: 0.2.0
description:
  - A Mesos 1.11.0 agent shows C(--modules) in C(GET /flags) not as the value it was given but as the
    C(Modules) message in protobuf text format (C(operator<<) prints C(DebugString()),
    include/mesos/module/module.hpp).
  - "This filter parses that text into the manifest data (libraries with C(file) or C(name), each with
    C(modules), each with C(name) and C(parameters) of C(key) and C(value)), so that it can be
    compared with what was written."
options:
  _input:
    description: The text, for example C(flags.modules) of C(/flags).
    type: str
    required: true
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
"""

EXAMPLES = r"""
- name: The agent loaded our library with our parameters
  ansible.builtin.assert:
    that: ours in (agent_flags.json.flags.modules | mesos.xfs_quota.mesos_modules_from_text).libraries
"""

RETURN = r"""
_value:
  description: The manifest data.
  type: dict
"""

import re

from ansible.errors import AnsibleFilterError

_REPEATED = {"libraries", "modules", "parameters"}
_TOKEN = re.compile(r'\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[{}:])|"(?P<string>(?:[^"\\]|\\.)*)")', re.S)
_ESCAPE = re.compile(rb"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))", re.S)
_SIMPLE = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b'"': b'"', b"'": b"'", b"\\": b"\\", b"a": b"\a", b"b": b"\b",
           b"f": b"\f", b"v": b"\v", b"?": b"?"}


def _unescape(text: str) -> str:
    """protobuf's CUnescape: C escapes and octal/hex bytes, then UTF-8."""
    def one(match):
        if match.group(1):
            return bytes([int(match.group(1), 8) & 0xFF])
        if match.group(2):
            return bytes([int(match.group(2), 16)])
        return _SIMPLE.get(match.group(3), match.group(3))
    return _ESCAPE.sub(one, text.encode("utf-8")).decode("utf-8", "replace")


def _tokens(text: str):
    position = 0
    while position < len(text):
        if not text[position:].strip():
            return
        match = _TOKEN.match(text, position)
        if match is None:
            raise AnsibleFilterError(f"mesos_modules_from_text: cannot read {text[position:position + 40]!r}")
        position = match.end()
        yield match


def mesos_modules_from_text(text):
    if text is None:
        return {"libraries": []}
    if not isinstance(text, str):
        raise AnsibleFilterError("mesos_modules_from_text: the input must be the text of /flags' modules")
    stack = [{}]
    tokens = _tokens(text)
    for token in tokens:
        if token.group("punct") == "}":
            if len(stack) == 1:
                raise AnsibleFilterError("mesos_modules_from_text: '}' without '{'")
            stack.pop()
            continue
        name = token.group("name")
        if name is None:
            raise AnsibleFilterError(f"mesos_modules_from_text: a field name was expected, not {token.group(0)!r}")
        following = next(tokens, None)
        if following is not None and following.group("punct") == "{":
            child = {}
            stack[-1].setdefault(name, []).append(child) if name in _REPEATED else stack[-1].__setitem__(name, child)
            stack.append(child)
            continue
        value = next(tokens, None) if following is not None and following.group("punct") == ":" else None
        if value is None or value.group("string") is None:
            raise AnsibleFilterError(f"mesos_modules_from_text: field {name!r} needs a quoted value")
        stack[-1][name] = _unescape(value.group("string"))
    if len(stack) != 1:
        raise AnsibleFilterError("mesos_modules_from_text: a '{' is not closed")
    stack[0].setdefault("libraries", [])
    for library in stack[0]["libraries"]:
        for module in library.get("modules", []):
            module.setdefault("parameters", [])
    return stack[0]


class FilterModule:
    def filters(self):
        return {"mesos_modules_from_text": mesos_modules_from_text}
