#!/usr/bin/python
# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: xfs_project_quota
short_description: Set XFS project quota limits by project name, id or path
version_added: 0.1.0
description:
  - Sets block, inode and realtime limits of XFS projects through C(quotactl) (no C(xfs_quota)
    process), for one project or, with O(projects), for many in one task.
  - A project is chosen by O(name) (looked up in O(projid_file)), by numeric O(id), or by
    O(path), which takes the project id that path carries.
  - Returns the limits and the usage of each project. Limits are compared in the units XFS
    keeps them in, so a rounded limit does not report a change on every run.
extends_documentation_fragment:
  - mesos.xfs_quota.project_files
  - mesos.xfs_quota.project_files.LIMITS
  - mesos.xfs_quota.project_files.ATTRIBUTES
options:
  name:
    description: Project name from O(projid_file). Needs O(mountpoint).
    type: str
  id:
    description:
      - Numeric project id, 1 to 4294967294 (a whole number, or its digits as text; a boolean or a
        float is not an id). Needs O(mountpoint).
    type: raw
  path:
    description:
      - A regular file or directory whose project id is used; the mount point follows from it.
        A FIFO, socket or device is refused.
    type: path
  mountpoint:
    description:
      - The XFS mount point (or any path on that file system) the limits apply to.
      - Required with O(name) or O(id); defaults for the items of O(projects).
    type: path
  state:
    description:
      - V(present) sets the limits given; limits not given are left as they are.
      - V(absent) clears every limit of the project (usage is not touched); giving limits with it
        is an error.
    type: str
    choices: [present, absent]
    default: present
  projects:
    description:
      - Many projects in one task. Each item takes O(name), O(id) or O(path), optionally
        O(mountpoint) and O(state), and the limit options; top-level values are the defaults.
    type: list
    elements: dict
    suboptions:
      name:
        description: Project name.
        type: str
      id:
        description: Project id, as the top-level O(id).
        type: raw
      path:
        description: A path whose project id is used.
        type: path
      mountpoint:
        description: Mount point for this item; defaults to the top-level O(mountpoint).
        type: path
      bsoft:
        description: As the top-level O(bsoft).
        type: str
      bhard:
        description: As the top-level O(bhard).
        type: str
      isoft:
        description: As the top-level O(isoft).
        type: str
      ihard:
        description: As the top-level O(ihard).
        type: str
      rtbsoft:
        description: As the top-level O(rtbsoft).
        type: str
      rtbhard:
        description: As the top-level O(rtbhard).
        type: str
      state:
        description: As the top-level O(state), which is the default.
        type: str
        choices: [present, absent]
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
notes:
  - The file system must be mounted with project quota (see M(mesos.xfs_quota.xfs_mount)).
  - All items are validated before any limit is set; a bad item leaves the host unchanged.
  - Items that choose the same project on the same file system (by name, id or path alike) are
    merged before anything is set, so the result is what they ask together (C(bsoft) from one item,
    C(bhard) from another) or an error naming the items (the same limit given two values, V(absent)
    with V(present), or a soft limit above the hard one, whose hard limit XFS would drop). RV(projects)
    has one entry per project.
  - In check mode, an item whose O(path) does not exist yet or whose O(name) is not defined yet is
    reported as a change with a warning (an earlier task of the run would create it).
  - A failure after some limits were set (for example a later project's C(quotactl) fails) reports
    C(changed=true) and names, in its message and in RV(limits_set), the projects whose limits were set.
  - Names from O(projid_file) are shown in results with bytes that are not UTF-8 as C(\xNN)
    (Python's C(backslashreplace)); the file keeps its bytes.
seealso:
  - module: mesos.xfs_quota.xfs_project
  - module: mesos.xfs_quota.xfs_quota_info
"""

EXAMPLES = r"""
# The run's own directory: runs/latest is a symbolic link, and the module does not follow links.
- name: Limit a sandbox by its path (ad hoc - ansible agents -m mesos.xfs_quota.xfs_project_quota -a ...)
  mesos.xfs_quota.xfs_project_quota:
    path: /var/lib/mesos/slaves/S1/frameworks/F1/executors/E1/runs/R1
    bhard: 20g

- name: Limit a named project
  mesos.xfs_quota.xfs_project_quota:
    name: logs
    mountpoint: /var/lib/mesos
    bsoft: 9g
    bhard: 10g
    ihard: 1m

- name: Many projects in one task
  mesos.xfs_quota.xfs_project_quota:
    mountpoint: /var/lib/mesos
    projects:
      - {id: 7001, bhard: 5g}
      - {id: 7002, bhard: 5g}
      - {name: scratch, state: absent}
"""

RETURN = r"""
projects:
  description: Every project handled, after the change (or as it would be, in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Project id.
      type: int
      sample: 7001
    name:
      description: Name from O(projid_file), if it has one.
      type: str
      sample: logs
    mountpoint:
      description: Mount point of the file system.
      type: str
      sample: /var/lib/mesos
    changed:
      description: Whether this project's limits changed.
      type: bool
    limits:
      description: Limits in bytes (block limits) and counts (inode limits); 0 is none.
      type: dict
      sample: {bsoft: 0, bhard: 21474836480, isoft: 0, ihard: 0, rtbsoft: 0, rtbhard: 0}
    used_bytes:
      description: Bytes in use.
      type: int
      sample: 1048576
    used_inodes:
      description: Inodes in use.
      type: int
      sample: 12
limits_set:
  description: When the task fails after it set limits, the ids of the projects whose limits were set.
  returned: on failure after a change
  type: list
  elements: int
  version_added: 0.2.0
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import FileError, printable
from ansible_collections.mesos.xfs_quota.plugins.module_utils._projects import PROJECT_FILE_ARGS, ProjectFileError, ProjectFiles
from ansible_collections.mesos.xfs_quota.plugins.module_utils._quota import (
    LIMIT_OPTIONS, apply_limits, diff_text, failure, merge_items, parse_request)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._sizes import SizeError
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import Kernel, XfsError


def main() -> None:
    limit_spec = {key: {"type": "str"} for key in LIMIT_OPTIONS}
    module = AnsibleModule(
        argument_spec=dict(
            name={"type": "str"}, id={"type": "raw"}, path={"type": "path"},  # id checked in module_utils
            mountpoint={"type": "path"},
            state={"type": "str", "choices": ["present", "absent"], "default": "present"},
            projects={"type": "list", "elements": "dict"},  # items checked in module_utils (_quota.check_items)
            **PROJECT_FILE_ARGS,
            **limit_spec,
        ),
        mutually_exclusive=[("name", "id", "path", "projects")],
        required_one_of=[("name", "id", "path", "projects")],
        supports_check_mode=True,
    )
    warnings: list[str] = []
    limits_set: list[tuple[int, str]] = []
    try:
        names = ProjectFiles(module.params["projid_file"], module.params["projects_file"])
        requests = [parse_request(item, prefix, names, module.check_mode) for prefix, item in merge_items(module.params)]
        results = apply_limits(requests, names, module.check_mode, Kernel(), warnings, limits_set)
    except (XfsError, ProjectFileError, SizeError, FileError) as exc:
        module.fail_json(**printable(failure(str(exc), limits_set)))

    for warning in warnings:
        module.warn(printable(warning))
    changed = any(r["changed"] for r in results)
    output = {"changed": changed, "projects": [r["after"] for r in results]}
    if module._diff:
        output["diff"] = {
            "before": diff_text([r["before"] for r in results]),
            "after": diff_text([r["after"] for r in results]),
        }
    module.exit_json(**output)  # names and mount points in it are printable already (_quota.quota_view)


if __name__ == "__main__":
    main()
