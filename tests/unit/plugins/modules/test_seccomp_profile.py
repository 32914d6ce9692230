"""seccomp_profile through its main(): check mode, diff, idempotence, root 0644, clear errors."""
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.mesos.xfs_quota.plugins.module_utils import _seccomp
from ansible_collections.mesos.xfs_quota.plugins.modules import seccomp_profile
from ansible_collections.mesos.xfs_quota.tests.unit.plugins.modules.module_runner import FakeHost

BASE = {"defaultAction": "SCMP_ACT_ERRNO", "archMap": [],
        "syscalls": [{"names": ["read", "ioctl"], "action": "SCMP_ACT_ALLOW", "args": [], "includes": {}, "excludes": {}}]}


class ProfileHost(FakeHost):
    """The fake host without the project files the quota modules take."""

    def files_args(self):
        return {}


@pytest.fixture
def host(tmp_path):
    found = ProfileHost(tmp_path)
    (found.etc / "default.json").write_text(json.dumps(BASE))
    return found


def run(host, path, check_mode=False, diff=True, **args):
    args = {key: value for key, value in {"base_path": str(host.etc / "default.json"), **args}.items()
            if value is not None}  # None: the parameter is left out, as with omit
    return host.run(seccomp_profile, {"path": str(path), **args}, check_mode=check_mode, diff=diff)


def test_check_mode_shows_the_profile_and_writes_nothing(host):
    path = host.etc / "seccomp" / "mesos-xfs-quota.json"
    result = run(host, path, check_mode=True)
    assert result["changed"] and not path.parent.exists()
    assert result["diff"]["before"] == "" and json.loads(result["diff"]["after"]) == _seccomp.restrict(BASE).profile
    assert result["denied"]["ioctls"]["FS_IOC_FSSETXATTR"] == "0x401c5820" and result["not_denied"] == []


def test_written_root_owned_0644_then_a_second_run_changes_nothing(host):
    path = host.etc / "seccomp" / "mesos-xfs-quota.json"
    assert run(host, path)["changed"]
    assert json.loads(path.read_text()) == _seccomp.restrict(BASE).profile
    st = os.stat(path)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (0, 0, 0o644)
    assert os.stat(path.parent).st_mode & 0o777 == 0o755
    second = run(host, path)
    assert not second["changed"] and second["diff"]["before"] == second["diff"]["after"]
    assert sorted(os.listdir(path.parent)) == ["mesos-xfs-quota.json"]  # no temporary or lock file left


def test_a_wrong_mode_is_put_right(host):
    path = host.etc / "p.json"
    run(host, path)
    os.chmod(path, 0o600)
    assert run(host, path, check_mode=True)["changed"] and os.stat(path).st_mode & 0o777 == 0o600
    assert run(host, path)["changed"] and os.stat(path).st_mode & 0o777 == 0o644


def test_a_changed_base_rewrites_the_profile(host):
    path = host.etc / "p.json"
    run(host, path)
    base = dict(BASE, defaultAction="SCMP_ACT_KILL")
    result = run(host, path, base_path=None, base_content=base)
    assert result["changed"] and json.loads(path.read_text())["defaultAction"] == "SCMP_ACT_KILL"
    assert not run(host, path, base_path=None, base_content=json.dumps(base))["changed"]


def test_absent_removes_it_and_then_has_nothing_to_do(host):
    path = host.etc / "p.json"
    run(host, path)
    text = path.read_text()
    assert run(host, path, check_mode=True, state="absent")["changed"] and path.exists()
    result = run(host, path, state="absent", base_path=None)
    assert result["changed"] and not path.exists() and result["diff"] == {
        "before": text, "after": "", "before_header": str(path), "after_header": str(path)}
    assert not run(host, path, state="absent", base_path=None)["changed"]


def test_for_mesos_on_an_allow_all_base_it_warns_that_file_setattr_stays_allowed(host):
    path = host.etc / "mesos" / "mesos-xfs-quota.json"
    result = run(host, path, base_path=None, base_allow_all=True, runtime="mesos")
    assert result["changed"] and result["not_denied"] == ["file_setattr"]
    assert any("file_setattr stays allowed" in w for w in result["warnings"]), result["warnings"]
    assert json.loads(path.read_text())["defaultAction"] == "SCMP_ACT_ALLOW"


@pytest.mark.parametrize("args, message", [
    ({"base_path": "/nonexistent/default.json"},
     "base_path (/nonexistent/default.json) does not exist; on Debian, Docker's default profile comes with the "
     "package golang-github-docker-docker-dev"),
    ({"base_path": None}, "state=present needs a base profile: set one of base_path, base_content or base_allow_all=true"),
    ({"base_path": None, "base_allow_all": False}, "state=present needs a base profile"),
    ({"base_path": None, "base_content": "{"}, "base_content is not JSON"),
    ({"base_path": None, "base_content": {"defaultAction": "SCMP_ACT_ALLOW",
                                          "syscalls": [{"names": ["ioctl"], "action": "SCMP_ACT_ALLOW",
                                                        "args": [{"index": 1, "value": 1, "op": "SCMP_CMP_EQ"}]}]}},
     "base_content: syscalls[0] matches ioctl by its arguments"),
    ({"base_content": "{}"}, "parameters are mutually exclusive: base_path|base_content|base_allow_all"),
])
def test_bad_input_names_the_parameter_and_writes_nothing(host, args, message):
    path = host.etc / "p.json"
    result = run(host, path, **args)
    assert result.get("failed") and message in result["msg"], result
    assert not path.exists()


def test_a_directory_as_path_is_a_clear_error(host):
    result = run(host, host.etc)
    assert result.get("failed") and result["msg"].startswith("path: "), result
