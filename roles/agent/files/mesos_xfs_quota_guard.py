# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The agent's start-up guard, run by its unit before the agent (ExecStartPre of the drop-in
40-mesos-xfs-quota-guard.conf that the agent role writes):
    <python3> mesos_xfs_quota_guard.py <guard-SERVICE.json>

The logic is the collection's module_utils _mesos_agent_guard, installed beside this file."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_guard import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv))
