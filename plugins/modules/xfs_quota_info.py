#!/usr/bin/python
# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: xfs_quota_info
short_description: Report XFS quota state, project usage and limits
version_added: 0.1.0
description:
  - Reads, for one XFS file system, whether user, group and project quota are accounted and
    enforced, and every project's usage, limits and percentage used (C(quotactl), one walk over
    the kernel's project dquots; no C(xfs_quota) process).
  - Read-only; safe in check mode.
extends_documentation_fragment:
  - mesos.xfs_quota.project_files
attributes:
  check_mode:
    support: full
    description: Read-only; runs in check mode as it does otherwise.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
  platform:
    support: full
    platforms: posix
    description: Linux with XFS.
options:
  mountpoint:
    description: The XFS mount point, or any path on that file system.
    type: path
    required: true
  ids:
    description:
      - Only these project ids (each 1 to 4294967294, a whole number or its digits as text, checked
        before any C(quotactl)).
    type: list
    elements: raw
  names:
    description: Only these project names (from O(projid_file)).
    type: list
    elements: str
  paths:
    description: Only the projects these paths carry.
    type: list
    elements: path
  include_empty:
    description: Also list projects with neither usage nor limits.
    type: bool
    default: false
  docker_root:
    version_added: 0.2.0
    description:
      - Docker's data root (C(Docker Root Dir) in C(docker info), usually C(/var/lib/docker)).
        With it, RV(docker_tasks) lists every Mesos Docker task (container C(mesos-<containerId>)) with
        the usage and limit of its sandbox (the hook's project) and of its container's writable layer
        (Docker's project on C(<docker_root>/overlay2/<layer>) when the container has a size).
      - Read from Docker's state files (C(containers/<id>/config.v2.json),
        C(image/<driver>/layerdb/mounts/<id>/mount-id)); no call to the daemon.
    type: path
  sandboxes_below:
    version_added: 0.2.0
    description:
      - A Mesos agent's C(--work_dir) on this file system. Its task sandboxes
        (C(slaves/*/frameworks/*/executors/*/runs/*), symlinks not followed, nothing inside a
        sandbox read) that carry a project id are returned in RV(sandboxes).
    type: path
  sandbox_ids:
    version_added: 0.2.0
    description:
      - Only sandboxes whose project id is in this range (V(20000-29999) or V([20000-29999])), for
        example the hook's C(project_ids). Needs O(sandboxes_below).
    type: str
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
seealso:
  - module: mesos.xfs_quota.xfs_project_quota
"""

EXAMPLES = r"""
- name: Usage of every project on the agent's work_dir
  mesos.xfs_quota.xfs_quota_info:
    mountpoint: /var/lib/mesos
  register: usage

- name: Projects above 90 %
  ansible.builtin.debug:
    msg: "{{ usage.projects | rejectattr('percent_bytes', 'none') | selectattr('percent_bytes', 'gt', 90) | list }}"

- name: Sandbox and container root of every Mesos Docker task
  mesos.xfs_quota.xfs_quota_info:
    mountpoint: /var/lib/mesos
    docker_root: /var/lib/docker
  register: docker_usage
- name: The task sandboxes that carry one of the hook's project ids, with their usage and limits
  mesos.xfs_quota.xfs_quota_info:
    mountpoint: /var/lib/mesos
    sandboxes_below: /var/lib/mesos
    sandbox_ids: 20000-29999
  register: sandbox_usage
"""

RETURN = r"""
mountpoint:
  description: Mount point of the file system.
  returned: always
  type: str
device:
  description: Its block device.
  returned: always
  type: str
quota_state:
  description: Accounting and enforcement of user, group and project quota.
  returned: always
  type: dict
  sample: {project_accounting: true, project_enforcement: true, user_accounting: false}
projects:
  description: One entry per project, sorted by id.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Project id.
      type: int
    name:
      description:
        - Name from O(projid_file), if it has one. A byte that is not UTF-8 is shown as C(\xNN)
          (Python's C(backslashreplace)), so one such name does not fail the report; the file keeps its bytes.
      type: str
    used_bytes:
      description: Bytes used.
      type: int
    used_inodes:
      description: Inodes used.
      type: int
    limits:
      description: Limits in bytes (block limits) and counts (inode limits); 0 is none.
      type: dict
    percent_bytes:
      description: Bytes used as a percentage of the block hard limit (or soft, without a hard one); null without a limit.
      type: float
    percent_inodes:
      description: Inodes used as a percentage of the inode hard limit (or soft); null without a limit.
      type: float
docker_tasks:
  description:
    - With O(docker_root), one entry per Mesos Docker task, sorted by container name. C(sandbox) and
      C(writable_layer) each hold C(path), C(project_id), C(used_bytes), C(limit_bytes) (0 is none) and
      C(percent_bytes); C(used_bytes) is null for project 0 (no project of its own, so no usage of
      its own); C(error) instead when it cannot be read; null when the container has no such directory.
  returned: when O(docker_root) is set
  type: list
  elements: dict
  sample:
    - container: mesos-3f1c2a
      container_id: 9d2b...
      sandbox: {path: /var/lib/mesos/slaves/S0/frameworks/F/executors/E/runs/3f1c2a, project_id: 20001,
                used_bytes: 1048576, limit_bytes: 10485760, percent_bytes: 10.0}
      writable_layer: {path: /var/lib/docker/overlay2/5e0a..., project_id: 1000002, used_bytes: 4096,
                       limit_bytes: 20971520, percent_bytes: 0.02}
sandboxes:
  description: With O(sandboxes_below), each task sandbox that carries a project id (in O(sandbox_ids)), by path.
  returned: when O(sandboxes_below) is given
  type: list
  elements: dict
  contains:
    path:
      description: The sandbox (run directory).
      type: str
    agent:
      description: Agent id from its path.
      type: str
    framework:
      description: Framework id from its path.
      type: str
    executor:
      description: Executor id from its path.
      type: str
    container:
      description: Container (run) id from its path.
      type: str
    project_id:
      description: Project id the sandbox carries.
      type: int
    used_bytes:
      description: Bytes its project uses.
      type: int
    used_inodes:
      description: Inodes its project uses.
      type: int
    limits:
      description: Its project's limits, as in RV(projects).
      type: dict
    percent_bytes:
      description: As in RV(projects).
      type: float
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mesos.xfs_quota.plugins.module_utils._docker import DockerStateError
from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import FileError, printable
from ansible_collections.mesos.xfs_quota.plugins.module_utils._projects import PROJECT_FILE_ARGS, ProjectFileError
from ansible_collections.mesos.xfs_quota.plugins.module_utils._quota_info import quota_info
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import Kernel, XfsError


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            mountpoint={"type": "path", "required": True},
            ids={"type": "list", "elements": "raw"},  # checked in module_utils: no bools, no floats
            names={"type": "list", "elements": "str"},
            paths={"type": "list", "elements": "path"},
            include_empty={"type": "bool", "default": False},
            docker_root={"type": "path"},
            sandboxes_below={"type": "path"},
            sandbox_ids={"type": "str"},
            **PROJECT_FILE_ARGS,
        ),
        required_by={"sandbox_ids": "sandboxes_below"},
        supports_check_mode=True,
    )
    try:
        result = quota_info(module.params, Kernel())
    except (XfsError, ProjectFileError, FileError, DockerStateError) as exc:
        module.fail_json(msg=printable(str(exc)))
    # Names come from a file we do not own: a byte that is not UTF-8 is shown as \xNN (backslashreplace),
    # not a failure of the whole report; the file keeps its bytes.
    module.exit_json(**printable(result))


if __name__ == "__main__":
    main()
