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
  hook_project_ids:
    description:
      - The project ids the Mesos hook gives task sandboxes, as C(FIRST-LAST) (the hook's
        C(project_ids) parameter; the roles pass C(mesos_xfs_quota_hook_parameters.project_ids)).
      - When given, a tree to assign or to give project 0 that holds a file or directory carrying
        an id of this range (a live sandbox of the hook, or files left by one) is refused before
        anything changes, naming the sandbox (or the file) and its id, since assigning it another project would take
        it out of the sandbox's quota. Check mode predicts it. Files carrying the project's own id
        are not refused.
      - Not given, ids are not checked (the walk reads each file's id anyway; the check costs a
        read-only pass over the trees before the one that changes them).
    type: str
    version_added: 0.2.0
  take_hook_files:
    description:
      - With O(hook_project_ids), assign files of the hook's range anyway (for example to take a
        directory back after the agent has gone).
    type: bool
    default: false
    version_added: 0.2.0
notes:
  - "Ownership: a project is its name B(and) its id. It owns its C(name:id) line in O(projid_file),
    the C(id:path) lines of its id in O(projects_file) (while no other name shares the id), and the
    trees listed there. Nothing else in either file is changed: other lines keep their bytes,
    line endings included."
  - "A tree belongs to one project, and project trees do not nest: assigning a tree that another
    project lists, or one inside or around another project's tree, is an error naming both
    projects (XFS counts every file against one project id, so nested projects would take each
    other's files on every run). Trees are told apart by device and inode as well as by path, so
    another project's tree cannot be claimed through a bind mount of it."
  - "Another project's tree found inside a tree that is assigned or given project 0 (a line
    another tool wrote into O(projects_file)) is left alone: the walk stops at its root, judged by
    device and inode, and RV(skipped_projects) names it."
  - "A tree dropped from O(paths), and with O(clear_ids) every tree of a removed project, gets
    project 0 again (recursively), so its usage stops counting against an id nobody uses, unless
    another project still lists that tree or it lies inside a tree the project keeps. A dropped
    tree that no longer exists is skipped."
  - "With O(state=absent), only the project's own well-formed C(name:id) line is removed; a malformed
    line that starts with the same name (C(weird:notanumber), C(svc:5:extra)) is not the project's
    and is kept."
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
trees_assigned:
  description:
    - When the task fails after it gave files a new project id (a later tree, or writing O(projid_file) or
      O(projects_file) failed), the trees in which it did; the task then reports C(changed=true) and
      its message says what was done. Those files are not put back (their previous ids are
      not kept), so fix the cause and run the task again.
  returned: on failure after a change
  type: list
  elements: str
  version_added: 0.2.0
files_written:
  description: When the task fails after it wrote O(projid_file) (and not O(projects_file)), the file written.
  returned: on failure after a change
  type: list
  elements: str
  version_added: 0.2.0
skipped_projects:
  description:
    - Other projects' trees (in O(projects_file)) inside a tree this task assigned or gave project 0;
      the walk stops at their roots and leaves their files alone.
  returned: always
  type: list
  elements: str
  version_added: 0.2.0
walk_fence:
  description:
    - How the tree walk told other mounts apart, probed once per tree; V(statx_mnt_id) on Linux 5.8+,
      else V(mountinfo) with the reason (C(MXQ_WALK_FENCE=mountinfo) in the environment forces it).
  returned: when a tree was walked
  type: str
  sample: statx_mnt_id
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import FileError, locked, printable
from ansible_collections.mesos.xfs_quota.plugins.module_utils._projects import PROJECT_FILE_ARGS, ProjectFileError, ProjectFiles
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import Kernel, XfsError
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs_project import Progress, ProjectRequest, apply_project


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            name={"type": "raw"},  # checked in module_utils: a bool is neither a name nor an id
            id={"type": "raw"},
            state={"type": "str", "choices": ["present", "absent"], "default": "present"},
            paths={"type": "list", "elements": "path"},
            recursive={"type": "bool", "default": True},
            clear_ids={"type": "bool", "default": False},
            hook_project_ids={"type": "str"},  # FIRST-LAST, checked in module_utils
            take_hook_files={"type": "bool", "default": False},
            **PROJECT_FILE_ARGS,
        ),
        required_one_of=[("name", "id")],
        supports_check_mode=True,
    )
    p = module.params
    progress = Progress()
    try:
        request = ProjectRequest.from_params(p)
        with locked(p["projects_file"] + ".lock", "projects_file"):
            files = ProjectFiles(p["projid_file"], p["projects_file"])
            result = apply_project(request, files, module.check_mode, Kernel(), progress)
            if files.changed() and not module.check_mode:
                files.write(progress.files_written)
    except (XfsError, ProjectFileError, FileError) as exc:
        module.fail_json(**printable(progress.failure(str(exc))))

    for warning in result.warnings:
        module.warn(printable(warning))
    output = dict(
        changed=result.changed, id=result.project_id, name=result.name, paths=result.paths,
        inodes_changed=result.walk.changed, inodes_unchanged=result.walk.unchanged,
        skipped_special=result.walk.skipped_special, skipped_mounts=result.walk.skipped_mounts,
        skipped_projects=result.walk.skipped_projects,
    )
    if result.walk.fence:
        output["walk_fence"] = result.walk.fence
    if module._diff:
        output["diff"] = files.diff()
    module.exit_json(**printable(output))  # a name from projid that is not UTF-8 shows as \xNN


if __name__ == "__main__":
    main()
