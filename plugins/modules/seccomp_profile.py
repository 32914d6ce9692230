#!/usr/bin/python
# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: seccomp_profile
short_description: Write a seccomp profile that denies tasks every change of an XFS project id
version_added: 0.2.0
description:
  - Writes a seccomp profile in Docker's JSON format, for Docker (C(seccomp-profile) in
    C(daemon.json)) or for Mesos's C(linux/seccomp) isolator (C(--seccomp_config_dir)). It is a base
    profile plus rules that make these calls fail with C(EPERM), since a file's owner may otherwise
    move it to project 0 and write without limit.
    C(ioctl) C(FS_IOC_FSSETXATTR) (= C(XFS_IOC_FSSETXATTR), project id and PROJINHERIT),
    C(FS_IOC_SETFLAGS) (= C(XFS_IOC_SETXFLAGS), can clear PROJINHERIT) and C(FS_IOC32_SETFLAGS)
    (the same from 32-bit code), compared on the low 32 bits of the command as the kernel reads
    it; and C(file_setattr) (Linux 6.17).
  - libseccomp silently drops a conditional rule for a syscall that another rule allows
    unconditionally, and Docker's default profile allows C(ioctl) so. Such a rule is replaced by
    rules that allow every other C(ioctl) command (masked comparisons, disjoint from the deny rules).
  - The file is rewritten only when its content changes, atomically, owned by root, mode 0644.
    Docker and Mesos read a profile when they start (Docker) or when a container starts (Mesos);
    restarting Docker is the caller's job.
options:
  path:
    description: The profile to write.
    type: path
    required: true
  state:
    description: V(absent) removes the profile.
    type: str
    choices: [present, absent]
    default: present
  base_path:
    description:
      - A profile on the managed host to start from, for example Docker's default profile as Debian
        ships it in C(golang-github-docker-docker-dev),
        C(/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json).
    type: path
  base_content:
    description: A profile to start from, as a JSON object or its text (for example read on the controller).
    type: raw
  base_allow_all:
    description:
      - V(true) starts from a profile that allows every other call (for Mesos's C(linux/seccomp)
        isolator, whose errno is always C(EPERM); under an allow list glibc 2.34 and newer could not
        start a thread, since it falls back from C(clone3) to C(clone) only on C(ENOSYS)).
      - Exactly one of O(base_path), O(base_content) and O(base_allow_all=true) is required with O(state=present).
    type: bool
  runtime:
    description:
      - Who reads the profile. V(docker) (runc) skips syscall names its libseccomp does not know, so
        C(file_setattr) is named where the base's default action would allow it.
      - V(mesos) (the C(linux/seccomp) isolator of Mesos 1.8 to 1.11) refuses a profile that names a
        call its libseccomp (2.3.3 in 1.11.0) does not know, so C(file_setattr) is not named; with a
        base whose default action allows, it stays allowed and the module warns (it exists from
        Linux 6.17 on). Every rule also gets the keys Mesos's parser requires.
    type: str
    choices: [docker, mesos]
    default: docker
attributes:
  check_mode:
    description: Reports what would change and writes nothing.
    support: full
  diff_mode:
    description: Shows the profile before and after.
    support: full
  platform:
    description: Linux; writing the profile needs root.
    support: full
    platforms: posix
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
seealso:
  - module: mesos.xfs_quota.docker_daemon_config
"""

EXAMPLES = r"""
- name: Docker's default profile (Debian's copy) with the project id calls denied
  mesos.xfs_quota.seccomp_profile:
    path: /etc/docker/seccomp/mesos-xfs-quota.json
    base_path: /usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json

- name: The profile for Mesos's linux/seccomp isolator (--seccomp_config_dir=/etc/mesos/seccomp)
  mesos.xfs_quota.seccomp_profile:
    path: /etc/mesos/seccomp/mesos-xfs-quota.json
    base_allow_all: true
    runtime: mesos
"""

RETURN = r"""
path:
  description: The profile's path.
  returned: always
  type: str
denied:
  description: What the profile denies (the ioctl commands with their numbers, the syscalls, the command mask).
  returned: state=present
  type: dict
  sample: {"ioctls": {"FS_IOC_FSSETXATTR": "0x401c5820", "FS_IOC_SETFLAGS": "0x40086602",
           "FS_IOC32_SETFLAGS": "0x40046602"}, "syscalls": ["file_setattr"], "command_mask": "0xffffffff"}
not_denied:
  description: Calls of those that the profile leaves to a default action that allows them.
  returned: state=present
  type: list
  elements: str
  sample: ["file_setattr"]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import FileError, atomic_write, read_text
from ansible_collections.mesos.xfs_quota.plugins.module_utils._seccomp import (
    ALLOW_ALL,
    SeccompProfileError,
    check_profile,
    parse_profile,
    render_profile,
    restrict,
    summary,
)

BASES = ("base_path", "base_content", "base_allow_all")


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path={"type": "path", "required": True},
            state={"type": "str", "choices": ["present", "absent"], "default": "present"},
            base_path={"type": "path"},
            base_content={"type": "raw"},
            base_allow_all={"type": "bool"},
            runtime={"type": "str", "choices": ["docker", "mesos"], "default": "docker"},
        ),
        mutually_exclusive=[BASES],
        supports_check_mode=True,
    )
    params = module.params
    path = params["path"]
    try:
        before = read_text(path, "path") if os.path.lexists(path) else ""
    except FileError as exc:
        module.fail_json(msg=str(exc))
    if params["state"] == "absent":
        finish(module, path, before, None, {})
    try:
        restricted = restrict(base(module), params["runtime"], base_source(params))
    except SeccompProfileError as exc:
        module.fail_json(msg=str(exc))
    if restricted.not_denied:
        module.warn(f"{', '.join(restricted.not_denied)} stays allowed by the base's default action: runtime "
                    f"{params['runtime']} cannot name it; use a base whose default action denies")
    finish(module, path, before, render_profile(restricted.profile),
           dict(denied=summary(), not_denied=list(restricted.not_denied)))


def base_source(params: dict) -> str:
    if params["base_path"]:
        return f"base_path ({params['base_path']})"
    return "base_content" if params["base_content"] is not None else "base_allow_all"


def base(module: AnsibleModule) -> dict:
    """The base profile the parameters name; a clear error naming the parameter otherwise."""
    params = module.params
    if params["base_path"]:
        source = base_source(params)
        if not os.path.isfile(params["base_path"]):
            raise SeccompProfileError(f"{source} does not exist; on Debian, Docker's default profile comes with "
                                      "the package golang-github-docker-docker-dev")
        try:
            text = read_text(params["base_path"], "base_path")
        except FileError as exc:
            raise SeccompProfileError(str(exc)) from None
        return parse_profile(text, source)
    if params["base_content"] is not None:
        content = params["base_content"]
        if isinstance(content, str):
            return parse_profile(content, "base_content")
        return check_profile(content, "base_content")
    if params["base_allow_all"]:
        return dict(ALLOW_ALL)
    raise SeccompProfileError(f"state=present needs a base profile: set one of {', '.join(BASES[:2])} "
                              "or base_allow_all=true")


def finish(module: AnsibleModule, path: str, before: str, after: str | None, extra: dict) -> None:
    """Write (or remove) unless in check mode, and exit with the result."""
    changed = before != (after or "") or (after is None and os.path.lexists(path))
    if after is not None and not changed:
        changed = not owned_as_wanted(path)
    if changed and not module.check_mode:
        try:
            if after is None:
                os.unlink(path)
            else:
                write(path, after)
        except FileError as exc:
            module.fail_json(msg=str(exc))
        except OSError as exc:
            module.fail_json(msg=f"path: cannot {'remove' if after is None else 'write'} {path}: {exc.strerror}")
    output = dict(changed=changed, path=path, **extra)
    if module._diff:
        output["diff"] = dict(before=before, after=after or "", before_header=path, after_header=path)
    module.exit_json(**output)


def owned_as_wanted(path: str) -> bool:
    st = os.stat(path)
    return st.st_uid == 0 and st.st_gid == 0 and st.st_mode & 0o7777 == 0o644


def write(path: str, text: str) -> None:
    """The profile, atomically, root-owned 0644 (in a directory made 0755 if missing)."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o755)
    atomic_write(path, text, default_mode=0o644, param="path")
    if not owned_as_wanted(path):
        os.chown(path, 0, 0)
        os.chmod(path, 0o644)


if __name__ == "__main__":
    main()
