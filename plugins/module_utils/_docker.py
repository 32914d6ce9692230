# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Docker tasks of a Mesos agent and the two directories that hold their data, read from Docker's
own state files under its data root (no daemon call: a report must work when dockerd hangs, which
is when a full disk makes one most needed).

For each container Mesos named ``mesos-<containerId>`` (DOCKER_NAME_PREFIX,
src/slave/containerizer/docker.cpp):
  * the sandbox: the bind mount's source at ``/mnt/mesos/sandbox`` (``containers/<id>/config.v2.json``,
    ``MountPoints``); the hook's project is on it;
  * the writable layer: ``<root>/<driver>/<mount-id>`` (``image/<driver>/layerdb/mounts/<id>/mount-id``,
    moby layer/filestore.go), the UpperDir's parent, which moby's overlay2 driver gives the
    container's own project id (quota/projectquota.go, SetQuota) when it has a size.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import Kernel, Mount, XfsError, XfsFilesystem, mount_of

MESOS_PREFIX = "mesos-"
SANDBOX_MOUNT = "/mnt/mesos/sandbox"
_DOCKER_ID = re.compile(r"[0-9a-f]{64}")  # stringid.GenerateRandomID: container ids and layer mount ids


class DockerStateError(Exception):
    """Docker's state under the data root cannot be read; the message names what and where."""


@dataclass(frozen=True)
class DockerTask:
    name: str
    container_id: str
    sandbox: str | None
    layer: str | None


def _read(path: str) -> str | None:
    """The file's text, or None when it vanished (a container removed while we read)."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return None


def read_docker_tasks(docker_root: str) -> list[DockerTask]:
    """The Mesos tasks among the containers under ``docker_root`` (Docker's data root), by name."""
    containers = os.path.join(docker_root, "containers")
    if not os.path.isdir(containers):
        raise DockerStateError(f"docker_root: {containers} is not a directory: {docker_root} is not Docker's data root "
                               "(`docker info` shows it as 'Docker Root Dir')")
    tasks = []
    for container_id in sorted(os.listdir(containers)):
        if not _DOCKER_ID.fullmatch(container_id):
            continue
        config_path = os.path.join(containers, container_id, "config.v2.json")
        text = _read(config_path)
        if text is None:
            continue
        try:
            config = json.loads(text)
            name = config["Name"].lstrip("/")
            driver = config["Driver"]
            mounts = config.get("MountPoints") or {}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DockerStateError(f"docker_root: {config_path} is not a container's configuration: {exc}") from exc
        if not name.startswith(MESOS_PREFIX):
            continue
        sandbox = (mounts.get(SANDBOX_MOUNT) or {}).get("Source") or None
        mount_id = (_read(os.path.join(docker_root, "image", driver, "layerdb", "mounts", container_id, "mount-id")) or "").strip()
        layer = os.path.join(docker_root, driver, mount_id) if _DOCKER_ID.fullmatch(mount_id) else None
        tasks.append(DockerTask(name, container_id, sandbox, layer))
    return sorted(tasks, key=lambda task: task.name)


def _percent(used: int, limit: int) -> float | None:
    return round(100.0 * used / limit, 2) if limit else None


class DockerTaskUsage:
    """Usage and block limit of each task's sandbox and writable layer, by the project each
    directory carries; one XfsFilesystem per mount, as the two may be on different file systems."""

    def __init__(self, kernel: Kernel, mounts: list[Mount]) -> None:
        self.kernel = kernel
        self.mounts = mounts
        self.filesystems: dict[str, XfsFilesystem] = {}

    def of_directory(self, path: str | None) -> dict | None:
        """{path, project_id, used_bytes, limit_bytes, percent_bytes} of a directory (a link such as
        docker/links/<id> resolved); {path, error} when it cannot be read; None without a path.
        Project 0 is everybody's: no usage of its own to show."""
        if path is None:
            return None
        real = os.path.realpath(path)
        try:
            mountpoint = mount_of(real, self.mounts).mountpoint
            if mountpoint not in self.filesystems:
                self.filesystems[mountpoint] = XfsFilesystem(real, self.kernel, self.mounts)
            fs = self.filesystems[mountpoint]
            project_id = fs.project_of(real)[0]
            if project_id == 0:
                return {"path": real, "project_id": 0, "used_bytes": None, "limit_bytes": 0, "percent_bytes": None}
            quota = fs.get_quota(project_id)
        except XfsError as exc:
            return {"path": real, "error": str(exc)}
        limit = quota.limits["bhard"] or quota.limits["bsoft"]
        return {"path": real, "project_id": project_id, "used_bytes": quota.used_bytes, "limit_bytes": limit,
                "percent_bytes": _percent(quota.used_bytes, limit)}

    def of_tasks(self, tasks: list[DockerTask]) -> list[dict]:
        return [{"container": task.name, "container_id": task.container_id,
                 "sandbox": self.of_directory(task.sandbox), "writable_layer": self.of_directory(task.layer)}
                for task in tasks]
