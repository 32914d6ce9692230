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
  - "The file's bytes are read as the installed dockerd reads them (its version from C(dockerd --version),
    asked only when the file has a byte order mark or bytes that are not UTF-8). Docker 23.0 and later
    accept a UTF-8 or UTF-16 byte order mark and refuse bytes that are not UTF-8; older versions refuse a
    byte order mark and read such bytes as U+FFFD. A file the installed dockerd reads is written back in
    its own encoding, BOM and bytes kept; one it refuses is an error and stays as it is. When no dockerd is
    found, only a file every version reads (UTF-8 without a BOM) is accepted."
  - A number that is not finite (C(1e400), C(Infinity), C(NaN)) in the file or in O(settings) is refused,
    naming its key, because dockerd reads JSON numbers as 64-bit floats and refuses the file.
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
      - A dict keeps the types YAML gives its values (V(true) is a boolean, V("true") a string).
      - "Text is a JSON object or C(key=value) pairs, as an ad hoc C(-a 'settings=\"debug=true
        max-concurrent-downloads=3\"') gives it. Each value of the pairs is read as JSON when it is JSON
        (C(true), C(3), C(null), C([\"a\"])) and is a string otherwise (C(warn), C(/srv/docker)); to keep a
        value that reads as JSON as a string, quote it as JSON inside the pair (C(userns-remap='\"1000\"'))."
      - C(storage-opts) is not allowed here; use O(storage_opts).
    type: raw
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
    description: Reports what would change and writes nothing.
    support: full
  diff_mode:
    description: Shows the file before and after.
    support: full
  platform:
    description: Any POSIX host with Docker's daemon.json; writing it needs root.
    support: full
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

# ad hoc: ansible agents -m mesos.xfs_quota.docker_daemon_config -a 'settings="debug=true max-concurrent-downloads=3"'
- name: Key=value text, typed as JSON (debug is the boolean true, the count a number)
  mesos.xfs_quota.docker_daemon_config:
    settings: "debug=true max-concurrent-downloads=3"
"""

RETURN = r"""
config:
  description:
    - The configuration after the change (in check mode, what it would be).
    - A byte of the file that is not UTF-8 (kept in the file, as dockerd before 23.0 reads it) is shown
      as C(\xNN), a lone UTF-16 surrogate written as an escape in the file as C(\udXXX); the same in the diff.
  returned: success
  type: dict
  sample: {"data-root": "/var/lib/mesos/docker", "storage-driver": "overlay2", "storage-opts": ["overlay2.size=10G"]}
"""

import os
from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mesos.xfs_quota.plugins.module_utils._docker_config import (
    DockerConfigError,
    Dockerd,
    decode_config,
    dockerd_from_version_output,
    encode_config,
    merge_config,
    parse_config,
    render_for,
    settings_from,
)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import FileError, atomic_write, locked, printable, read_bytes


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path={"type": "path", "default": "/etc/docker/daemon.json"},
            settings={"type": "raw", "default": {}},
            storage_opts={"type": "dict", "default": {}},
        ),
        supports_check_mode=True,
    )
    error = ""
    try:
        result = apply(module)
    except (DockerConfigError, FileError) as exc:
        error = str(exc)
    except OSError as exc:
        error = f"path: cannot create {os.path.dirname(module.params['path'])}: {exc.strerror}"
    # outside the except block: ansible-core 2.19 reports a fail_json there as an exception
    if error:  # every failure comes before the write, so nothing was changed
        module.fail_json(msg=error, changed=False)
    module.exit_json(**result)


def apply(module: AnsibleModule) -> dict[str, Any]:
    path = module.params["path"]
    settings = settings_from(module.params["settings"])
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        if module.check_mode:  # nothing to lock or read yet: the file would be new
            return plan(module, path, b"", settings)
        os.makedirs(directory, mode=0o755)  # the lock file lives beside the file
    with locked(path + ".lock", "path"):
        return plan(module, path, read_bytes(path, "path"), settings)


def installed_dockerd(module: AnsibleModule) -> Dockerd:
    binary = module.get_bin_path("dockerd")
    if binary is None:
        return dockerd_from_version_output(None)
    rc, out, err = module.run_command([binary, "--version"])
    return dockerd_from_version_output(out if rc == 0 else f"rc {rc}: {err or out}")


def plan(module: AnsibleModule, path: str, data: bytes, settings: dict[str, Any]) -> dict[str, Any]:
    """Merge, and write unless in check mode (the caller holds the lock); the result."""
    decoded = decode_config(data, path, lambda: installed_dockerd(module))
    result = merge_config(parse_config(decoded.text, path), settings, module.params["storage_opts"], path)
    after_text = render_for(result.after, decoded) if result.changed else decoded.text
    if result.changed and not module.check_mode:
        atomic_write(path, encode_config(after_text, decoded), default_mode=0o644, param="path")
    output: dict[str, Any] = dict(changed=result.changed, config=printable(result.after, decoded.raw_bytes))
    if module._diff:
        output["diff"] = dict(before=printable(decoded.text, decoded.raw_bytes), after=printable(after_text, decoded.raw_bytes),
                              before_header=path, after_header=path)
    return output


if __name__ == "__main__":
    main()
