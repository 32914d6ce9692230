from __future__ import annotations

import json
import os

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.xfs_quota.plugins.filter.mesos_modules_from_text import mesos_modules_from_text
from ansible_collections.mesos.xfs_quota.plugins.filter.mesos_modules_with_hook import mesos_modules_with_hook

TEXT = json.load(open(os.path.join(os.path.dirname(__file__), "../../../vectors/modules_text.json"),
                      encoding="utf-8"))["vectors"]
OURS = "/usr/lib/mesos/modules/libmesos_xfs_quota_hook-mesos1.11.0-0123456789ab.so"


@pytest.mark.parametrize("vector", TEXT, ids=[v["case"] for v in TEXT])
def test_reads_back_what_the_agent_shows_in_flags(vector):
    expected = json.loads(json.dumps(vector["modules"]))
    for library in expected["libraries"]:
        for module in library.get("modules", []):
            module.setdefault("parameters", [])
    assert mesos_modules_from_text(vector["text"]) == expected


@pytest.mark.parametrize("text, error", [
    ("libraries {\n  file: \"x\"\n", "not closed"),
    ("}", "without"),
    ("libraries {\n  file: x\n}\n", "needs a quoted value"),
    ("file://etc/mesos-agent/modules.json", "cannot read|needs a quoted value"),
])
def test_text_that_is_not_a_modules_message_is_refused(text, error):
    with pytest.raises(AnsibleFilterError, match=error):
        mesos_modules_from_text(text)


def test_other_libraries_are_kept_and_an_earlier_build_of_ours_replaced():
    current = {"libraries": [
        {"name": "other_isolator", "modules": [{"name": "org_other_isolator"}]},
        {"file": "/usr/lib/mesos/modules/libmesos_xfs_quota_hook-mesos1.10.0-aaaaaaaaaaaa.so",
         "modules": [{"name": "mesos_xfs_quota_hook", "parameters": []}]},
        {"file": "/opt/hooks/libcustom.so", "modules": [{"name": "org_custom_hook", "parameters": [{"key": "a", "value": "1"}]}]},
    ]}
    result = mesos_modules_with_hook(current, OURS, "mesos_xfs_quota_hook", {"work_dir": "/var/lib/mesos", "reclaim": 2})
    assert result["libraries"] == [current["libraries"][0], current["libraries"][2], {
        "file": OURS, "modules": [{"name": "mesos_xfs_quota_hook", "parameters": [
            {"key": "work_dir", "value": "/var/lib/mesos"}, {"key": "reclaim", "value": "2"}]}]}]
    assert mesos_modules_with_hook(result, OURS, "mesos_xfs_quota_hook", {"work_dir": "/var/lib/mesos", "reclaim": 2}) == result


def test_a_library_that_declares_our_module_name_is_dropped_and_no_manifest_is_an_empty_one():
    current = {"libraries": [{"file": "/elsewhere/libhook.so", "modules": [{"name": "mesos_xfs_quota_hook"}]}]}
    assert [lib["file"] for lib in mesos_modules_with_hook(current, OURS, "mesos_xfs_quota_hook")["libraries"]] == [OURS]
    assert mesos_modules_with_hook(None, OURS, "mesos_xfs_quota_hook")["libraries"][0]["file"] == OURS


@pytest.mark.parametrize("current", [[], {"libraries": "x"}, {"libraries": ["x"]}])
def test_a_manifest_that_is_not_one_is_refused(current):
    with pytest.raises(AnsibleFilterError, match="mesos_modules_with_hook: "):
        mesos_modules_with_hook(current, OURS, "mesos_xfs_quota_hook")


def test_agent_flags_from_environment_and_command_line_which_wins():
    from ansible_collections.mesos.xfs_quota.plugins.filter.mesos_agent_flags import mesos_agent_flags
    flags = mesos_agent_flags(
        ["/usr/sbin/mesos-agent", "--work_dir=/srv/mesos", "--authenticate_http_readonly", "--no-hostname_lookup",
         "--hooks=a,b", "positional"],
        ["PATH=/bin", "MESOS_WORK_DIR=/var/lib/mesos", "MESOS_MODULES_DIR=/etc/mesos/modules.d", "MESOS_=x"])
    assert flags == {"work_dir": "/srv/mesos", "modules_dir": "/etc/mesos/modules.d", "authenticate_http_readonly": "true",
                     "hostname_lookup": "false", "hooks": "a,b"}
    with pytest.raises(AnsibleFilterError, match="must be lists"):
        mesos_agent_flags("--work_dir=/x")


def test_removing_the_hook_keeps_every_other_library_and_key():
    from ansible_collections.mesos.xfs_quota.plugins.filter.mesos_modules_without_hook import mesos_modules_without_hook
    other = {"file": "/usr/lib/libother.so", "modules": [{"name": "other_hook"}]}
    ours = {"file": "/usr/lib/mesos/modules/libmesos_xfs_quota_hook-mesos1.11.0-abc.so",
            "modules": [{"name": "mesos_xfs_quota_hook", "parameters": [{"key": "work_dir", "value": "/w"}]}]}
    named = {"name": "isolator", "modules": [{"name": "org_example_isolator"}]}
    manifest = {"libraries": [other, ours, named], "extra": 1}
    assert mesos_modules_without_hook(manifest, "mesos_xfs_quota_hook") == {"libraries": [other, named], "extra": 1}
    assert mesos_modules_without_hook({"libraries": [other]}, "mesos_xfs_quota_hook") == {"libraries": [other]}
    assert mesos_modules_without_hook(None, "mesos_xfs_quota_hook") == {"libraries": []}
