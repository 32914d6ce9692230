#!/usr/bin/python
# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: mesos_agent_wait
short_description: Wait until a Mesos agent has recovered, or say at once why it will not
version_added: 0.2.0
description:
  - "Asks the agent's C(GET /state) until it answers 200 (it answers 503 until the agent has recovered its
    checkpoints), and with O(hooks) or O(absent_module) until C(/flags) shows them; reads the unit's state
    at every try and stops at once when the agent's process exited (C(NRestarts) rose, C(auto-restart),
    C(failed)): a crash loop costs one try, not the whole O(timeout)."
  - A failure quotes the agent's own reason from its journal since O(since) (the hook's log line first,
    then stout's C(EXIT with status) line).
extends_documentation_fragment:
  - mesos.xfs_quota.mesos_agent
attributes:
  check_mode:
    support: full
    description: Read-only.
  diff_mode:
    support: none
    description: Nothing changes.
  platform:
    support: full
    platforms: posix
    description: Linux with systemd.
options:
  timeout:
    description: Seconds to wait.
    type: float
    default: 120
  delay:
    description: Seconds between two tries.
    type: float
    default: 2
  hooks:
    description: Hooks that C(/flags) must list.
    type: list
    elements: str
    default: []
  absent_module:
    description: A module that C(/flags) must not load.
    type: str
    default: ""
  since:
    description: The host's clock (seconds since the epoch) from which to read the journal. Empty, now.
    type: str
    default: ""
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
"""

EXAMPLES = r"""
- name: The agent is up with the hook
  mesos.xfs_quota.mesos_agent_wait:
    hooks: [mesos_xfs_quota_hook]
"""

RETURN = r"""
flags:
  description: The agent's C(/flags) (when O(hooks) or O(absent_module) asked for them).
  returned: always
  type: dict
version:
  description: The agent's Mesos version.
  returned: always
  type: str
seconds:
  description: How long it took.
  returned: always
  type: float
tries:
  description: How many tries it took.
  returned: always
  type: int
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_args import AGENT_ARGS, agent_of
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_config import modules_from_text, split_list
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_info import AgentReadError, Host, read_version
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_wait import (
    agent_reason, host_clock, wait_for_agent)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            AGENT_ARGS,
            timeout={"type": "float", "default": 120.0},
            delay={"type": "float", "default": 2.0},
            hooks={"type": "list", "elements": "str", "default": []},
            absent_module={"type": "str", "default": ""},
            since={"type": "str", "default": ""},
        ),
        supports_check_mode=True,
    )
    p = module.params
    host = Host(module.run_command)

    def expect(flags: dict) -> str:
        problems = []
        missing = [h for h in p["hooks"] if h not in split_list(flags.get("hooks"))]
        if missing:
            problems.append(f"hooks={flags.get('hooks', '')} without {', '.join(missing)}")
        loaded = {m.get("name") for lib in modules_from_text(flags.get("modules")).get("libraries", [])
                  for m in lib.get("modules", [])}
        if p["absent_module"] and (p["absent_module"] in loaded or p["absent_module"] in split_list(flags.get("hooks"))):
            problems.append(f"{p['absent_module']} still loaded")
        return ", ".join(problems)

    try:
        since = p["since"] or host_clock(host)
        info, endpoint = agent_of(host, p)
        waited = wait_for_agent(host, info.service, endpoint, timeout=p["timeout"], delay=p["delay"],
                                expect=expect if p["hooks"] or p["absent_module"] else None)
        if not waited.ok:
            said = agent_reason(host, info.service, since)
            module.fail_json(msg=f"The agent {info.service} is not up: {waited.reason}." + (f" {said}." if said else ""),
                             tries=waited.tries, seconds=round(waited.seconds, 1))
        read_version(info, endpoint)
    except AgentReadError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, flags=waited.flags, version=info.version, seconds=round(waited.seconds, 1),
                     tries=waited.tries)


if __name__ == "__main__":
    main()
