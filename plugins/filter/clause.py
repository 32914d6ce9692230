# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: clause
short_description: A message to quote inside a sentence of one's own, without its final full stops
version_added: 0.2.0
description:
  - Returns the text without the full stops and white space it ends with, so that a failure message
    of a task or a log line can be put inside a longer message, which adds its own full stop.
  - Anything that is not a string is turned into one first; nothing else is changed.
options:
  _input:
    description: The message.
    type: raw
    required: true
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
"""

EXAMPLES = r"""
- name: Say why the restart failed, in a sentence of one's own (restart is a registered result)
  ansible.builtin.set_fact:
    restart_failure: "The agent did not come up: {{ restart.msg | mesos.xfs_quota.clause }}. Its log says why."
"""

RETURN = r"""
_value:
  description: The message without its final full stops and white space.
  type: str
"""


def clause(message):
    return str(message).rstrip(". \t\r\n\f\v")


class FilterModule:
    def filters(self):
        return {"clause": clause}
