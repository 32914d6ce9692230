"""xfs_project_quota through its main(), on the fake host."""
from __future__ import annotations

import errno
import json
import os
import socket
from unittest import mock

import pytest
import yaml

from ansible_collections.mesos.xfs_quota.plugins.module_utils import _quota, _xfs
from ansible_collections.mesos.xfs_quota.plugins.modules import xfs_project, xfs_project_quota
from ansible_collections.mesos.xfs_quota.tests.unit.plugins.modules.module_runner import FakeHost


@pytest.fixture
def host(tmp_path):
    host = FakeHost(tmp_path)
    (host.mnt / "sb").mkdir()
    assert not host.run(xfs_project, {"name": "sandbox", "id": 7001, "paths": [str(host.mnt / "sb")]}).get("failed")
    return host


def test_a_boolean_is_not_an_id(host):
    """id=true is refused, not read as project 1."""
    before = host.snapshot()
    result = host.run(xfs_project_quota, {"id": True, "mountpoint": str(host.mnt), "bhard": "1m"})
    assert result.get("failed") and result["msg"].startswith("id: expected a project id"), result
    result = host.run(xfs_project_quota, {"mountpoint": str(host.mnt), "projects": [{"id": True, "bhard": "1m"}]})
    assert result.get("failed") and result["msg"].startswith("projects[0].id: expected a project id"), result
    assert host.snapshot() == before and 1 not in host.kernel.dquots


@pytest.mark.parametrize("key, text", [("bhard", "0.1"), ("ihard", "0.5"), ("isoft", "1.5"), ("bsoft", "0.4b")])
def test_a_limit_that_rounds_to_nothing_is_refused_and_the_old_one_stays(host, key, text):
    """bhard "0.1" is refused: it would round to 0, which means no limit, and remove the existing one."""
    assert host.run(xfs_project_quota, {"path": str(host.mnt / "sb"), "bhard": "10m", "ihard": "100"})["changed"]
    before = host.snapshot()
    result = host.run(xfs_project_quota, {"path": str(host.mnt / "sb"), key: text})
    assert result.get("failed") and result["msg"].startswith(f"{key}: {text!r}"), result
    assert host.snapshot() == before


def test_zero_written_as_zero_removes_a_limit(host):
    host.run(xfs_project_quota, {"path": str(host.mnt / "sb"), "bhard": "10m"})
    result = host.run(xfs_project_quota, {"path": str(host.mnt / "sb"), "bhard": "0"})
    assert result["changed"] and result["projects"][0]["limits"]["bhard"] == 0


@pytest.mark.parametrize("make", ["fifo", "socket"])
def test_a_special_file_as_path_names_path(host, make):
    """path=<a FIFO> fails naming path (not "Inappropriate ioctl for device")."""
    special = host.mnt / "sb" / make
    if make == "fifo":
        os.mkfifo(special)
    else:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(special))
        sock.close()
    host.kernel.calls.clear()
    result = host.run(xfs_project_quota, {"path": str(special), "bhard": "1m"})
    assert result.get("failed") and result["msg"].startswith(f"path: {special} is a"), result
    assert "not a regular file or directory" in result["msg"] and "get" not in host.kernel.calls


def test_soft_above_hard_shows_what_was_written(host):
    """Also: bsoft=10001 bhard=10000 said '9.77 KiB is above bhard (9.77 KiB)'."""
    result = host.run(xfs_project_quota, {"path": str(host.mnt / "sb"), "bsoft": "10001", "bhard": "10000"})
    assert result["msg"] == "bsoft: '10001' is above bhard ('10000'); a soft limit must not exceed the hard one"


def test_absent_with_limits_is_an_error(host):
    """Also: state=absent silently ignored the limits given with it."""
    host.run(xfs_project_quota, {"path": str(host.mnt / "sb"), "bhard": "10m"})
    before = host.snapshot()
    result = host.run(xfs_project_quota, {"path": str(host.mnt / "sb"), "state": "absent", "bhard": "20m"})
    assert result.get("failed") and result["msg"].startswith("state: absent clears every limit"), result
    assert host.snapshot() == before


def test_check_mode_predicts_a_path_and_a_name_of_earlier_tasks(host):
    """Check mode accepts, with a warning, a path or a name an earlier task of the run would create."""
    before = host.snapshot()
    result = host.run(xfs_project_quota, {"mountpoint": str(host.mnt), "projects": [
        {"path": str(host.mnt / "later"), "bhard": "1m"}, {"name": "later", "bhard": "2m"}]}, check_mode=True, diff=True)
    assert not result.get("failed") and result["changed"], result
    assert len(result["warnings"]) == 2 and "does not exist yet" in result["warnings"][0]
    assert "'later' is not in" in result["warnings"][1]
    assert host.snapshot() == before
    real = host.run(xfs_project_quota, {"mountpoint": str(host.mnt), "name": "later", "bhard": "2m"})
    assert real.get("failed") and real["msg"].startswith("name: project 'later' is not in")


def test_non_utf8_projid_does_not_crash(host):
    """A projid line that is not UTF-8 (a comment) does not stop the module."""
    host.projid.write_bytes(host.projid.read_bytes() + b"# \xe9t\xe9\n")
    result = host.run(xfs_project_quota, {"mountpoint": str(host.mnt), "name": "sandbox", "bhard": "1m"})
    assert result["changed"] and not result.get("failed"), result


def test_project_files_that_are_directories_are_named(host):
    """A project file given as a directory fails naming the parameter."""
    result = host.run(xfs_project_quota, {"mountpoint": str(host.mnt), "id": 7001, "bhard": "1m", "projid_file": str(host.etc)})
    assert result.get("failed") and result["msg"].startswith("projid_file: "), result


def test_check_mode_predicts_a_path_an_earlier_task_gives_a_project(host):
    """Item 12 as well: 'assign a project, then limit it by path' in one check run (the path still has id 0)."""
    (host.mnt / "fresh").mkdir()
    result = host.run(xfs_project_quota, {"path": str(host.mnt / "fresh"), "bhard": "1m"}, check_mode=True)
    assert not result.get("failed") and result["changed"] and "has no project yet" in result["warnings"][0], result
    real = host.run(xfs_project_quota, {"path": str(host.mnt / "fresh"), "bhard": "1m"})
    assert real.get("failed") and "has no project (id 0)" in real["msg"]


def test_items_for_one_project_are_merged_and_a_hard_limit_below_a_soft_one_is_refused(host):
    """Each item alone passes against the old limits; together the hard limit ends below the soft one, which XFS drops."""
    before = host.snapshot()
    result = host.run(xfs_project_quota, {"mountpoint": str(host.mnt), "projects": [
        {"id": 7001, "bsoft": "800k"}, {"path": str(host.mnt / "sb"), "bhard": "512k"}]})
    assert result.get("failed"), result
    assert result["msg"].startswith("projects[1].bhard: projects[0].bsoft ('800k') is above projects[1].bhard ('512k') "
                                    "for project 7001"), result["msg"]
    assert host.snapshot() == before


def test_items_for_one_project_that_fit_together_are_set_once(host):
    result = host.run(xfs_project_quota, {"mountpoint": str(host.mnt), "projects": [
        {"id": 7001, "bhard": "1m"}, {"name": "sandbox", "bsoft": "512k"}, {"id": 7001, "bhard": "1024k"}]})
    assert not result.get("failed") and result["changed"], result
    assert [p["id"] for p in result["projects"]] == [7001]
    assert result["projects"][0]["limits"]["bsoft"] == 512 * 1024 and result["projects"][0]["limits"]["bhard"] == 1 << 20
    assert host.kernel.dquots[7001][:2] == [(1 << 20) // 512, 512 * 1024 // 512]
    again = host.run(xfs_project_quota, {"mountpoint": str(host.mnt), "projects": [
        {"id": 7001, "bhard": "1m"}, {"name": "sandbox", "bsoft": "512k"}]})
    assert not again["changed"], again


@pytest.mark.parametrize("items, start", [
    ([{"id": 7001, "bhard": "1m"}, {"id": 7001, "bhard": "2m"}], "projects[1].bhard: '2m' for project 7001 on "),
    ([{"id": 7001, "bhard": "1m"}, {"id": 7001, "state": "absent"}], "projects[1].state: projects[1] clears every limit"),
])
def test_items_for_one_project_that_contradict_each_other_name_both(host, items, start):
    before = host.snapshot()
    result = host.run(xfs_project_quota, {"mountpoint": str(host.mnt), "projects": items})
    assert result.get("failed") and result["msg"].startswith(start), result
    assert "projects[0]" in result["msg"] and host.snapshot() == before


def test_a_hard_limit_below_the_current_soft_one_is_refused(host):
    host.run(xfs_project_quota, {"id": 7001, "mountpoint": str(host.mnt), "bsoft": "800k"})
    before = host.snapshot()
    result = host.run(xfs_project_quota, {"id": 7001, "mountpoint": str(host.mnt), "bhard": "512k"})
    assert result.get("failed") and result["msg"].startswith("bsoft: 800 KiB is above bhard ('512k')"), result
    assert host.snapshot() == before


def test_a_foreign_name_that_is_not_utf8_is_shown_escaped_and_kept_in_the_file(host):
    """Ansible refuses a result that is not UTF-8, after the limit was set: a foreign name is shown escaped."""
    host.projid.write_bytes(host.projid.read_bytes() + b"caf\xe9:7002\n")
    result = host.run(xfs_project_quota, {"mountpoint": str(host.mnt), "id": 7002, "bhard": "1m"}, diff=True)
    assert not result.get("failed") and result["changed"], result
    assert result["projects"][0]["name"] == "caf\\xe9"  # backslashreplace: the byte as \xNN
    json.dumps(result, ensure_ascii=False).encode("utf-8")  # what Ansible does with a result; a surrogate fails
    assert host.projid.read_bytes().endswith(b"caf\xe9:7002\n")


def test_a_limit_that_fails_after_another_was_set_reports_changed(host):
    real = host.kernel.quotactl

    def quotactl(cmd, device, qid, buf):
        if cmd == _xfs.Q_XSETQLIM and qid == 7002:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real(cmd, device, qid, buf)

    with mock.patch.object(host.kernel, "quotactl", quotactl):
        result = host.run(xfs_project_quota, {"mountpoint": str(host.mnt), "projects": [
            {"id": 7001, "bhard": "1m"}, {"id": 7002, "bhard": "1m"}]})
    assert result.get("failed") and result["changed"], result
    assert "before it failed, this run set the limits of project 7001" in result["msg"], result["msg"]
    assert result["limits_set"] == [7001] and host.kernel.dquots[7001][0] == (1 << 20) // 512


def test_check_mode_reports_the_limits_it_would_set_and_sets_none(host):
    """Check mode says what the limits would be after the run (merged with the project's others), with the usage now."""
    host.run(xfs_project_quota, {"path": str(host.mnt / "sb"), "ihard": "100"})
    before = host.snapshot()
    result = host.run(xfs_project_quota, {"path": str(host.mnt / "sb"), "bhard": "10m"}, check_mode=True, diff=True)
    assert result["changed"] and not result.get("failed"), result
    after = result["projects"][0]
    assert (after["id"], after["changed"], after["limits"]["bhard"], after["limits"]["ihard"]) == (7001, True, 10 << 20, 100)
    assert "bhard=none" in result["diff"]["before"] and "bhard=10 MiB" in result["diff"]["after"], result["diff"]
    assert host.snapshot() == before
    assert not host.run(xfs_project_quota, {"path": str(host.mnt / "sb"), "ihard": "100"}, check_mode=True)["changed"]


@pytest.mark.parametrize("item, message", [
    ({"id": 7001, "bogus": 1}, "projects[1]: unsupported option bogus; an item takes name, id, path, mountpoint"),
    ({"id": 7001, "state": "gone"}, "projects[1].state: 'gone' is not one of present, absent"),
    ({"id": 7001, "bhard": [1]}, "projects[1].bhard: cannot read '[1]' as a size"),
])
def test_a_bad_item_is_refused_naming_it_before_any_limit_is_set(host, item, message):
    """The items of ``projects`` are checked by the collection (not AnsibleModule's suboptions): an
    unknown option, a state out of its choices or a value of the wrong type names the item, and no
    item's limits are set."""
    before = host.snapshot()
    result = host.run(xfs_project_quota, {"mountpoint": str(host.mnt), "projects": [{"id": 7001, "bhard": "1m"}, item]})
    assert result.get("failed") and result["msg"].startswith(message), result
    assert host.snapshot() == before


def test_items_take_their_options_as_ansible_types_them(host, monkeypatch):
    """A limit written as a number is its digits (bytes), a path expands ~ and variables, as the
    documented suboption types (str, path) would give them."""
    monkeypatch.setenv("SANDBOXES", str(host.mnt))
    result = host.run(xfs_project_quota, {"projects": [
        {"path": "$SANDBOXES/sb", "bhard": 1048576},
        {"id": 7001, "mountpoint": "$SANDBOXES", "ihard": 100},
    ]})
    assert not result.get("failed"), result
    assert result["projects"] == [dict(result["projects"][0], id=7001, mountpoint=str(host.mnt))]
    assert result["projects"][0]["limits"]["bhard"] == 1048576 and result["projects"][0]["limits"]["ihard"] == 100


def test_the_documented_suboptions_are_the_ones_checked():
    """The item check and the DOCUMENTATION of ``projects`` name the same options and states."""
    suboptions = yaml.safe_load(xfs_project_quota.DOCUMENTATION)["options"]["projects"]["suboptions"]
    assert set(suboptions) == set(_quota.ITEM_OPTIONS)
    assert suboptions["state"]["choices"] == list(_quota.STATES)
    assert {key for key, doc in suboptions.items() if doc["type"] == "path"} == _quota._PATH_OPTIONS
