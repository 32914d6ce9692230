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
    not enter or assign other mounts below a tree, directories and bind-mounted files alike,
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
      - A letter or C(_), then letters, digits, C(_ . -), at most 64 characters.
    type: raw
  id:
    description: Project id, 1 to 4294967294 (a whole number, or its digits as text; a boolean or a float is not an id).
    type: raw
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
      - C(..) is resolved on the file system (the parents' symlinks followed; the tree itself must
        not be a symlink). Paths with control characters or line separators, or that begin or end
        with white space, are refused, since O(projects_file) holds one path per line.
    type: list
    elements: path
  recursive:
    description: Assign everything below each path, not only the path itself.
    type: bool
    default: true
  clear_ids:
    description:
      - With O(state=absent), give the project's trees (from O(projects_file) and O(paths)) project id 0,
        except trees another project still lists, and all of them only once no other name shares the id.
    type: bool
    default: false
notes:
  - "Ownership: a project is its name B(and) its id. It owns its C(name:id) line in O(projid_file),
    the C(id:path) lines of its id in O(projects_file) (while no other name shares the id), and the
    trees listed there. Nothing else in either file is changed: other lines keep their bytes,
    line endings included."
  - "A tree belongs to one project, and project trees do not nest: assigning a tree that another
    project lists, or one inside or around another project's tree, is an error naming both
    projects (XFS counts every file against one project id, so nested projects would take each
    other's files on every run)."
  - "A tree dropped from O(paths), and with O(clear_ids) every tree of a removed project, gets
    project 0 again (recursively), so its usage stops counting against an id nobody uses, unless
    another project still lists that tree or it lies inside a tree the project keeps. A dropped
    tree that no longer exists is skipped."
  - "With O(state=absent), a O(name) and an O(id) that belong to different projects are an error;
    removing a name leaves other names that share its id, their C(id:path) lines and their trees' project ids
    alone. An O(id) alone that several names share must be removed by name."
  - "In check mode, a tree that does not exist yet, or a O(name) that is not defined yet, is
    reported as a change with a warning (an earlier task of the run would create it)."
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
  description: Mount points below a tree (directories and bind-mounted files) that were not entered or assigned.
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import FileError, locked
from ansible_collections.mesos.xfs_quota.plugins.module_utils._projects import PROJECT_FILE_ARGS, ProjectFileError, ProjectFiles
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import Kernel, XfsError
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs_project import ProjectRequest, apply_project


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            name={"type": "raw"},  # checked in module_utils: a bool is neither a name nor an id
            id={"type": "raw"},
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
    try:
        request = ProjectRequest.from_params(p)
        with locked(p["projects_file"] + ".lock", "projects_file"):
            files = ProjectFiles(p["projid_file"], p["projects_file"])
            result = apply_project(request, files, module.check_mode, Kernel())
            if files.changed() and not module.check_mode:
                files.write()
    except (XfsError, ProjectFileError, FileError) as exc:
        module.fail_json(msg=str(exc))

    for warning in result.warnings:
        module.warn(warning)
    output = dict(
        changed=result.changed, id=result.project_id, name=result.name, paths=result.paths,
        inodes_changed=result.walk.changed, inodes_unchanged=result.walk.unchanged,
        skipped_special=result.walk.skipped_special, skipped_mounts=result.walk.skipped_mounts,
    )
    if result.walk.fence:
        output["walk_fence"] = result.walk.fence
    if module._diff:
        output["diff"] = files.diff()
    module.exit_json(**output)


if __name__ == "__main__":
    main()
