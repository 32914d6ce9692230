#!/usr/bin/python
# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: xfs_project
short_description: Define XFS projects and assign directory trees to them
version_added: 0.1.0
description:
  - Keeps a project's C(name:id) line in O(projid_file) and its C(id:path) lines in
    O(projects_file), and gives the directory trees in O(paths) the project id (with the
    PROJINHERIT flag on directories, so new files inherit it) through C(FS_IOC_FSSETXATTR).
  - The tree walk never follows symbolic links, never opens FIFOs, sockets or devices, and does
    not enter or relabel other mounts below a tree, directories and bind-mounted files alike,
    including bind mounts of the same file system (which share its device number and which
    C(xfs_quota project -s) enters). RV(walk_fence) says how mounts were told apart.
  - The walk runs in the module's own process.
extends_documentation_fragment:
  - mesos.xfs_quota.project_files
  - mesos.xfs_quota.project_files.ATTRIBUTES
options:
  name:
    description:
      - Project name. With O(state=present) and no O(id), the name must already be defined.
    type: str
  id:
    description: Project id, 1 to 4294967294.
    type: int
  state:
    description:
      - V(present) defines the project and assigns O(paths).
      - V(absent) removes its lines from both files; with O(clear_ids) the trees it had are
        given project 0 again.
    type: str
    choices: [present, absent]
    default: present
  paths:
    description:
      - Directory trees of the project. When given, they become exactly the project's lines in
        O(projects_file) and each tree is assigned the id. Each must be on XFS with project quota.
      - Not given means the project's paths are left as they are.
    type: list
    elements: path
  recursive:
    description: Assign everything below each path, not only the path itself.
    type: bool
    default: true
  clear_ids:
    description: With O(state=absent), give the project's trees (from O(projects_file) and O(paths)) project id 0.
    type: bool
    default: false
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
seealso:
  - module: mesos.xfs_quota.xfs_project_quota
"""

EXAMPLES = r"""
- name: A project for the agent's log directory
  mesos.xfs_quota.xfs_project:
    name: agent_logs
    id: 4000
    paths: [/var/lib/mesos/logs]

- name: Remove it and give its files back to project 0
  mesos.xfs_quota.xfs_project:
    name: agent_logs
    state: absent
    clear_ids: true
"""

RETURN = r"""
id:
  description: Project id.
  returned: always
  type: int
  sample: 4000
name:
  description: Project name, if it has one.
  returned: always
  type: str
  sample: agent_logs
paths:
  description: The project's trees in O(projects_file) after the change.
  returned: always
  type: list
  elements: str
inodes_changed:
  description: Files and directories whose project id or inherit flag was (or would be) changed.
  returned: always
  type: int
  sample: 1200
inodes_unchanged:
  description: Files and directories that already had the project.
  returned: always
  type: int
skipped_special:
  description: Symbolic links, FIFOs, sockets and devices left alone.
  returned: always
  type: int
skipped_mounts:
  description: Mount points below a tree (directories and bind-mounted files) that were not entered or relabelled.
  returned: always
  type: list
  elements: str
walk_fence:
  description:
    - How the tree walk told other mounts apart, probed once per tree; V(statx_mnt_id) on Linux 5.8+,
      else V(mountinfo) with the reason (C(MXQ_WALK_FENCE=mountinfo) in the environment forces it).
  returned: when a tree was walked
  type: str
  sample: statx_mnt_id
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import locked
from ansible_collections.mesos.xfs_quota.plugins.module_utils._projects import (
    PROJECT_FILE_ARGS, ProjectFileError, ProjectFiles, validate_id, validate_name)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._tree_walk import WalkResult, assign_tree
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import Kernel, XfsError, XfsFilesystem, parse_mountinfo


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            name={"type": "str"},
            id={"type": "int"},
            state={"type": "str", "choices": ["present", "absent"], "default": "present"},
            paths={"type": "list", "elements": "path"},
            recursive={"type": "bool", "default": True},
            clear_ids={"type": "bool", "default": False},
            **PROJECT_FILE_ARGS,
        ),
        required_one_of=[("name", "id")],
        supports_check_mode=True,
    )
    p = module.params
    walk = WalkResult()
    try:
        if p["name"] is not None:
            validate_name(p["name"])
        if p["id"] is not None:
            validate_id(p["id"])
        paths = [os.path.abspath(path).rstrip("/") or "/" for path in p["paths"] or []]
        with locked(p["projects_file"] + ".lock"):
            files = ProjectFiles(p["projid_file"], p["projects_file"])
            project_id = p["id"] if p["id"] is not None else files.id_of(p["name"])
            if project_id is None:
                if p["state"] == "absent":
                    module.exit_json(changed=False, id=None, name=p["name"], paths=[], inodes_changed=0,
                                     inodes_unchanged=0, skipped_special=0, skipped_mounts=[])
                raise ProjectFileError(f"id: project {p['name']!r} is not defined yet; give its id")
            name = p["name"] or files.name_of(project_id)

            kernel = Kernel()
            mounts = parse_mountinfo(kernel.read_mountinfo())
            if p["state"] == "present":
                if name is not None:
                    files.define(name, project_id)
                if p["paths"] is not None:
                    files.set_paths(project_id, paths)
                trees, new_id = paths, project_id
            else:
                trees = list(dict.fromkeys(files.paths_of(project_id) + paths)) if p["clear_ids"] else []
                files.undefine(project_id)
                new_id = 0

            # Check every tree before changing anything.
            targets = [(XfsFilesystem.with_project_quota(path, kernel, mounts, "paths"), path) for path in trees]
            for fs, path in targets:
                result = assign_tree(fs, path, new_id, recursive=p["recursive"], dry_run=module.check_mode)
                walk.changed += result.changed
                walk.unchanged += result.unchanged
                walk.skipped_special += result.skipped_special
                walk.skipped_mounts += result.skipped_mounts
                walk.fence = result.fence or walk.fence

            files_changed = files.changed()
            if files_changed and not module.check_mode:
                files.write()
    except (XfsError, ProjectFileError) as exc:
        module.fail_json(msg=str(exc))

    output = dict(
        changed=files_changed or walk.changed > 0,
        id=project_id, name=name, paths=files.paths_of(project_id),
        inodes_changed=walk.changed, inodes_unchanged=walk.unchanged,
        skipped_special=walk.skipped_special, skipped_mounts=walk.skipped_mounts,
    )
    if walk.fence:
        output["walk_fence"] = walk.fence
    if module._diff:
        output["diff"] = files.diff()
    module.exit_json(**output)


if __name__ == "__main__":
    main()
