"""docker_daemon_config through its main(): check mode, diff, idempotence, bad files left alone."""
from __future__ import annotations

import contextlib
import json
import os
from unittest import mock

import pytest
from ansible.module_utils import basic

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


# --- values keep their JSON types; bytes and BOMs as the installed dockerd reads them ---------
@contextlib.contextmanager
def dockerd(version_output):
    """The installed dockerd as ``dockerd --version`` answers (None: not installed); records the calls."""
    calls = []

    def get_bin_path(_self, name, *args, **kwargs):
        calls.append(name)
        return None if version_output is None else f"/usr/bin/{name}"

    def run_command(_self, argv, *args, **kwargs):
        assert argv == ["/usr/bin/dockerd", "--version"], argv
        return 0, version_output, ""

    with mock.patch.object(basic.AnsibleModule, "get_bin_path", get_bin_path), \
            mock.patch.object(basic.AnsibleModule, "run_command", run_command):
        yield calls


DOCKER_20 = "Docker version 20.10.24+dfsg1, build 297e128\n"
DOCKER_24 = "Docker version 24.0.7, build afdd53b\n"


@pytest.mark.parametrize("settings, written", [
    ("debug=true", {"debug": True}),  # ad hoc: -a 'settings="debug=true"'
    ("debug=true max-concurrent-downloads=3 log-level=warn data-root=/srv/d",
     {"debug": True, "max-concurrent-downloads": 3, "log-level": "warn", "data-root": "/srv/d"}),
    ("labels='[\"a=b\"]' userns-remap='\"1000\"'", {"labels": ["a=b"], "userns-remap": "1000"}),
    ('{"debug": true, "mtu": 1400}', {"debug": True, "mtu": 1400}),
    ({"debug": True, "log-level": "true"}, {"debug": True, "log-level": "true"}),  # a dict keeps YAML's types
])
def test_settings_keep_their_json_types(host, settings, written):
    path = host.etc / "daemon.json"
    with dockerd(None) as calls:
        result = host.run(docker_daemon_config, {"path": str(path), "settings": settings})
    assert result["changed"] and json.loads(path.read_text()) == written and result["config"] == written
    assert calls == []  # a plain UTF-8 file needs no dockerd version
    with dockerd(None):
        assert not host.run(docker_daemon_config, {"path": str(path), "settings": settings})["changed"]


@pytest.mark.parametrize("settings, words", [
    ("x=1e400", "settings[x]: 1e400 is not a finite number"),
    ({"x": float("inf")}, "settings[x]: inf is not a finite number"),
    ({"x": [1, {"y": float("nan")}]}, "settings[x[1].y]: nan is not a finite number"),
    ({"x": 10**400}, "settings[x]: an integer of 401 digits is not a finite number"),
    (["debug"], "settings: expected a dict"),
    ("labels=a,b", "settings: cannot read"),
])
def test_settings_dockerd_cannot_read_are_refused_naming_the_key(host, settings, words):
    path = host.etc / "daemon.json"
    path.write_text(EXISTING)
    with dockerd(None):
        result = host.run(docker_daemon_config, {"path": str(path), "settings": settings})
    assert result.get("failed") and result["msg"].startswith(words), result
    assert not result["changed"] and path.read_text() == EXISTING


@pytest.mark.parametrize("text, key", [('{"a": 1e400}', "'a'"), ('{"a": {"b": [-Infinity]}}', "'a.b[0]'"),
                                       ('{"a": NaN}', "'a'")])
def test_a_file_with_a_number_dockerd_cannot_read_is_refused_naming_the_key(host, text, key):
    path = host.etc / "daemon.json"
    path.write_text(text)
    with dockerd(None):
        result = host.run(docker_daemon_config, {"path": str(path), "settings": {"debug": True}})
    assert result.get("failed") and f"the value of {key} is " in result["msg"] and "left unchanged" in result["msg"]
    assert path.read_text() == text


BOM_FILE = b"\xef\xbb\xbf" + EXISTING.encode()


@pytest.mark.parametrize("version, words", [
    (DOCKER_20, "starts with a UTF-8 byte order mark, which dockerd 20.10.24+dfsg1 refuses"),
    (None, "starts with a UTF-8 byte order mark, which dockerd before 23.0 refuses, and no dockerd was found"),
])
def test_a_bom_is_refused_where_the_installed_dockerd_refuses_it(host, version, words):
    path = host.etc / "daemon.json"
    path.write_bytes(BOM_FILE)
    with dockerd(version):
        result = host.run(docker_daemon_config, {"path": str(path), "settings": {"debug": True}})
    assert result.get("failed") and result["msg"].startswith(f"path: {path} {words}") and not result["changed"], result
    assert path.read_bytes() == BOM_FILE


@pytest.mark.parametrize("bom, encoding", [(b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")])
def test_a_bom_is_read_and_kept_where_dockerd_23_and_later_read_it(host, bom, encoding):
    path = host.etc / "daemon.json"
    path.write_bytes(bom + EXISTING.encode(encoding))
    with dockerd(DOCKER_24) as calls:
        result = host.run(docker_daemon_config, {"path": str(path), "settings": {"debug": True}})
    data = path.read_bytes()
    assert result["changed"] and calls == ["dockerd"] and data.startswith(bom)
    assert json.loads(data[len(bom):].decode(encoding)) == {**json.loads(EXISTING), "debug": True}
    with dockerd(DOCKER_24):
        assert not host.run(docker_daemon_config, {"path": str(path), "settings": {"debug": True}})["changed"]
    assert path.read_bytes() == data


LATIN1 = b'{"labels": ["caf\xe9"], "log-driver": "journald"}\n'


def test_a_byte_that_is_not_utf8_is_kept_for_dockerd_before_23_and_the_result_does_not_fail(host):
    path = host.etc / "daemon.json"
    path.write_bytes(LATIN1)
    for run in range(2):
        with dockerd(DOCKER_20):
            result = host.run(docker_daemon_config, {"path": str(path), "settings": {"debug": True}}, diff=True)
        assert not result.get("failed") and result["changed"] == (run == 0), result
        assert result["config"]["labels"] == ["caf\\xe9"] and "caf\\xe9" in result["diff"]["after"]
    assert b'"caf\xe9"' in path.read_bytes() and json.loads(path.read_bytes().decode("latin-1"))["debug"] is True


@pytest.mark.parametrize("version, words", [(DOCKER_24, "dockerd 24.0.7 refuses the file"),
                                            (None, "dockerd 23.0 and later refuse the file, and no dockerd was found")])
def test_a_byte_that_is_not_utf8_is_refused_where_dockerd_refuses_it(host, version, words):
    path = host.etc / "daemon.json"
    path.write_bytes(LATIN1)
    with dockerd(version):
        result = host.run(docker_daemon_config, {"path": str(path), "settings": {"debug": True}})
    assert result.get("failed") and "0xe9 at offset 16" in result["msg"] and words in result["msg"], result
    assert path.read_bytes() == LATIN1
