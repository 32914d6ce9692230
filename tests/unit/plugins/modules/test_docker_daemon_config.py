"""docker_daemon_config through its main(): check mode, diff, idempotence, bad files left alone."""
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.mesos.xfs_quota.plugins.modules import docker_daemon_config
from ansible_collections.mesos.xfs_quota.tests.unit.plugins.modules.module_runner import FakeHost

WANTED = {"settings": {"data-root": "/var/lib/mesos/docker", "storage-driver": "overlay2"},
          "storage_opts": {"overlay2.size": "10g"}}
EXISTING = '{\n    "log-driver": "journald",\n    "storage-opts": ["dm.basesize=5G"]\n}\n'


class DaemonHost(FakeHost):
    """The fake host without the project files the quota modules take."""

    def files_args(self):
        return {}


@pytest.fixture
def host(tmp_path):
    return DaemonHost(tmp_path)


def run(host, path, check_mode=False, diff=True, **args):
    return host.run(docker_daemon_config, {"path": str(path), **WANTED, **args}, check_mode=check_mode, diff=diff)


def test_check_mode_reports_the_merge_and_writes_nothing(host):
    path = host.etc / "daemon.json"
    path.write_text(EXISTING)
    result = run(host, path, check_mode=True)
    assert result["changed"] and path.read_text() == EXISTING
    assert result["diff"]["before"] == EXISTING and '"overlay2.size=10G"' in result["diff"]["after"]
    assert result["config"]["log-driver"] == "journald"


def test_the_merge_keeps_other_keys_then_a_second_run_changes_nothing(host):
    path = host.etc / "daemon.json"
    path.write_text(EXISTING)
    os.chmod(path, 0o600)
    assert run(host, path)["changed"]
    written = json.loads(path.read_text())
    assert written == {"log-driver": "journald", "storage-opts": ["dm.basesize=5G", "overlay2.size=10G"],
                       "data-root": "/var/lib/mesos/docker", "storage-driver": "overlay2"}
    assert os.stat(path).st_mode & 0o777 == 0o600
    text = path.read_text()
    second = run(host, path)
    assert not second["changed"] and path.read_text() == text and second["diff"]["before"] == second["diff"]["after"]


def test_a_new_file_in_a_missing_directory(host):
    path = host.etc / "docker" / "daemon.json"
    assert run(host, path, check_mode=True)["changed"] and not path.parent.exists()
    assert run(host, path)["changed"]
    assert os.stat(path).st_mode & 0o777 == 0o644 and json.loads(path.read_text())["storage-opts"] == ["overlay2.size=10G"]


@pytest.mark.parametrize("text", ['{"log-driver": "journald",', '{"a": 1, "a": 2}', '"text"', '{"storage-opts": "x"}'])
def test_a_bad_existing_file_fails_clearly_and_stays(host, text):
    path = host.etc / "daemon.json"
    path.write_text(text)
    result = run(host, path)
    assert result.get("failed") and result["msg"].startswith("path: ") and "left unchanged" in result["msg"], result
    assert path.read_text() == text


def test_a_bad_size_names_the_parameter(host):
    path = host.etc / "daemon.json"
    result = host.run(docker_daemon_config, {"path": str(path), "storage_opts": {"overlay2.size": "10 parsecs"}})
    assert result.get("failed") and result["msg"].startswith("storage_opts[overlay2.size]: "), result
    assert not path.exists()


def test_a_directory_as_path_is_a_clear_error(host):
    path = host.etc / "daemon.json"
    path.mkdir()
    result = run(host, path)
    assert result.get("failed") and "is a directory" in result["msg"], result
