#!/usr/bin/python
# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: docker_daemon_config
short_description: Merge settings and storage options into Docker's daemon.json
version_added: 0.2.0
description:
  - Sets top-level keys of Docker's C(daemon.json) (for example C(data-root), C(storage-driver))
    and merges storage options such as C(overlay2.size) into its C(storage-opts) list by option
    name. Every other key and every other storage option is kept, in its place.
  - The file is rewritten only when its content changes, atomically (temporary file, fsync,
    rename; mode, owner and SELinux label kept) and under a lock (O(path) with C(.lock) appended).
  - An existing file that is not a JSON object (a syntax error, a duplicate key, a C(storage-opts)
    that is not a list of C(name=value) strings) is an error and stays as it is.
  - Docker reads the file only when it starts (a few keys on C(SIGHUP)); restarting it is the
    caller's job, for example a handler notified when this module reports a change.
options:
  path:
    description: The daemon's configuration file (C(dockerd --config-file)).
    type: path
    default: /etc/docker/daemon.json
  settings:
    description:
      - Top-level keys and their JSON values. A key set to V(null) is removed.
      - C(storage-opts) is not allowed here; use O(storage_opts).
    type: dict
    default: {}
  storage_opts:
    description:
      - Storage options by name, merged into C(storage-opts). V(null) removes an option.
      - C(overlay2.size) and C(size) are sizes (C(10g), C(512MiB), bytes; binary units as Docker reads
        them) and compare by value, so an existing C(overlay2.size=10GiB) satisfies V(10G). A new
        value is written in the largest exact binary unit (C(10G)).
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
seealso:
  - module: mesos.xfs_quota.xfs_project
"""

EXAMPLES = r"""
- name: Docker's data root on the XFS with project quota, 10 GiB per container by default
  mesos.xfs_quota.docker_daemon_config:
    settings:
      data-root: /var/lib/mesos/docker
      storage-driver: overlay2
    storage_opts:
      overlay2.size: 10g
  register: docker_config

- name: Drop the daemon-wide default size again
  mesos.xfs_quota.docker_daemon_config:
    storage_opts:
      overlay2.size: null
"""

RETURN = r"""
config:
  description: The configuration after the change (in check mode, what it would be).
  returned: success
  type: dict
  sample: {"data-root": "/var/lib/mesos/docker", "storage-driver": "overlay2", "storage-opts": ["overlay2.size=10G"]}
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mesos.xfs_quota.plugins.module_utils._docker_config import (
    DockerConfigError,
    merge_config,
    parse_config,
    render_config,
)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import FileError, atomic_write, locked, read_text


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path={"type": "path", "default": "/etc/docker/daemon.json"},
            settings={"type": "dict", "default": {}},
            storage_opts={"type": "dict", "default": {}},
        ),
        supports_check_mode=True,
    )
    path = module.params["path"]
    directory = os.path.dirname(path)
    try:
        if not os.path.isdir(directory):
            if module.check_mode:  # nothing to lock or read yet: the file would be new
                plan(module, path, "")
            os.makedirs(directory, mode=0o755)  # the lock file lives beside the file
        with locked(path + ".lock", "path"):
            plan(module, path, read_text(path, "path"))
    except FileError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg=f"path: cannot create {directory}: {exc.strerror}")


def plan(module: AnsibleModule, path: str, text: str) -> None:
    """Merge, write unless in check mode, and exit with the result (the caller holds the lock)."""
    try:
        result = merge_config(parse_config(text, path), module.params["settings"], module.params["storage_opts"], path)
    except DockerConfigError as exc:
        module.fail_json(msg=str(exc))
    after_text = render_config(result.after) if result.changed else text
    if result.changed and not module.check_mode:
        atomic_write(path, after_text, default_mode=0o644, param="path")
    output = dict(changed=result.changed, config=result.after)
    if module._diff:
        output["diff"] = dict(before=text, after=after_text, before_header=path, after_header=path)
    module.exit_json(**output)


if __name__ == "__main__":
    main()
