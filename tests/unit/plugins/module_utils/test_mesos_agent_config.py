"""The agent's configuration as data (_mesos_agent_config) and its unit (_mesos_agent_info.find_service)."""
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_config import (
    AgentConfigError, flags_from, libprocess_ssl, manifest_with, manifest_without, modules_from_text)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_info import (
    AgentReadError, Host, find_service)
from ansible_collections.mesos.xfs_quota.tests.unit.plugins.shared_vectors import load

TEXT = json.load(open(os.path.join(os.path.dirname(__file__), "../../../vectors/modules_text.json"),
                      encoding="utf-8"))["vectors"]
SSL = load("libprocess_ssl.json")["vectors"]
OURS = "/usr/lib/mesos/modules/libmesos_xfs_quota_hook-mesos1.11.0-0123456789ab.so"


@pytest.mark.parametrize("vector", TEXT, ids=[v["case"] for v in TEXT])
def test_reads_back_what_the_agent_shows_in_flags(vector):
    expected = json.loads(json.dumps(vector["modules"]))
    for library in expected["libraries"]:
        for module in library.get("modules", []):
            module.setdefault("parameters", [])
    assert modules_from_text(vector["text"]) == expected


@pytest.mark.parametrize("text, error", [
    ("libraries {\n  file: \"x\"\n", "not closed"),
    ("}", "without"),
    ("libraries {\n  file: x\n}\n", "needs a quoted value"),
    ("file://etc/mesos-agent/modules.json", "cannot read|needs a quoted value"),
])
def test_text_that_is_not_a_modules_message_is_refused(text, error):
    with pytest.raises(AgentConfigError, match=error):
        modules_from_text(text)


def test_other_libraries_are_kept_and_an_earlier_build_of_ours_replaced():
    current = {"libraries": [
        {"name": "other_isolator", "modules": [{"name": "org_other_isolator"}]},
        {"file": "/usr/lib/mesos/modules/libmesos_xfs_quota_hook-mesos1.10.0-aaaaaaaaaaaa.so",
         "modules": [{"name": "mesos_xfs_quota_hook", "parameters": []}]},
        {"file": "/opt/hooks/libcustom.so", "modules": [{"name": "org_custom_hook", "parameters": [{"key": "a", "value": "1"}]}]},
    ]}
    params = [("work_dir", "/var/lib/mesos"), ("reclaim", "2")]
    result = manifest_with(current, OURS, "mesos_xfs_quota_hook", params)
    assert result["libraries"] == [current["libraries"][0], current["libraries"][2], {
        "file": OURS, "modules": [{"name": "mesos_xfs_quota_hook", "parameters": [
            {"key": "work_dir", "value": "/var/lib/mesos"}, {"key": "reclaim", "value": "2"}]}]}]
    assert manifest_with(result, OURS, "mesos_xfs_quota_hook", params) == result


def test_a_library_that_declares_our_module_name_is_dropped_and_no_manifest_is_an_empty_one():
    current = {"libraries": [{"file": "/elsewhere/libhook.so", "modules": [{"name": "mesos_xfs_quota_hook"}]}]}
    assert [lib["file"] for lib in manifest_with(current, OURS, "mesos_xfs_quota_hook", [])["libraries"]] == [OURS]
    assert manifest_with(None, OURS, "mesos_xfs_quota_hook", [])["libraries"][0]["file"] == OURS
    with pytest.raises(AgentConfigError, match="not a list"):
        manifest_with({"libraries": "x"}, OURS, "mesos_xfs_quota_hook", [])


def test_removing_the_hook_keeps_every_other_library_and_key():
    other = {"file": "/usr/lib/libother.so", "modules": [{"name": "other_hook"}]}
    ours = {"file": OURS, "modules": [{"name": "mesos_xfs_quota_hook", "parameters": [{"key": "work_dir", "value": "/w"}]}]}
    named = {"name": "isolator", "modules": [{"name": "org_example_isolator"}]}
    manifest = {"libraries": [other, ours, named], "extra": 1}
    assert manifest_without(manifest, "mesos_xfs_quota_hook") == {"libraries": [other, named], "extra": 1}
    assert manifest_without(None, "mesos_xfs_quota_hook") == {"libraries": []}


def test_agent_flags_from_environment_and_command_line_which_wins():
    flags = flags_from(
        ["/usr/sbin/mesos-agent", "--work_dir=/srv/mesos", "--authenticate_http_readonly", "--no-hostname_lookup",
         "--hooks=a,b", "positional"],
        ["PATH=/bin", "MESOS_WORK_DIR=/var/lib/mesos", "MESOS_MODULES_DIR=/etc/mesos/modules.d", "MESOS_=x"])
    assert flags == {"work_dir": "/srv/mesos", "modules_dir": "/etc/mesos/modules.d", "authenticate_http_readonly": "true",
                     "hostname_lookup": "false", "hooks": "a,b"}


@pytest.mark.parametrize("vector", SSL, ids=[v["case"] for v in SSL])
def test_tls_is_on_as_libprocess_reads_it(vector):
    if "error" in vector:
        with pytest.raises(AgentConfigError) as caught:
            libprocess_ssl(vector["environ"])
        assert str(caught.value) == vector["error"]
    else:
        assert libprocess_ssl(vector["environ"])["enabled"] is vector["enabled"]


def test_tls_defaults_and_the_values_an_agent_sets():
    defaults = libprocess_ssl(["PATH=/bin"])
    assert defaults["ciphers"].split(":")[:2] == ["AES128-SHA", "AES256-SHA"]
    assert defaults["enable_tls_v1_2"] is True and defaults["cert_file"] is None
    flags = libprocess_ssl(["LIBPROCESS_SSL_ENABLED=1", "LIBPROCESS_SSL_CIPHERS=ECDHE-RSA-AES128-GCM-SHA256",
                            "SSL_CERT_FILE=/etc/a.crt", "LIBPROCESS_SSL_KEY_FILE=/etc/a.key",
                            "LIBPROCESS_SSL_CERT_FILE=/etc/b.crt"])
    assert flags["enabled"] and flags["ciphers"] == "ECDHE-RSA-AES128-GCM-SHA256"
    assert (flags["cert_file"], flags["key_file"]) == ("/etc/b.crt", "/etc/a.key")
    with pytest.raises(AgentConfigError, match="Failed to load non-boolean flag 'ciphers' via 'no-ciphers'"):
        libprocess_ssl(["LIBPROCESS_SSL_NO-CIPHERS="])


class Units(Host):
    def __init__(self, loaded):
        super().__init__(self.show)
        self.loaded = loaded

    def show(self, argv):
        return 0, "\n\n".join(f"Id={u}.service\nLoadState={'loaded' if u in self.loaded else 'not-found'}"
                              for u in argv[argv.index("--") + 1:]) + "\n", ""


@pytest.mark.parametrize("loaded, expected", [
    ({"mesos-agent"}, "mesos-agent"), ({"mesos-slave"}, "mesos-slave"), ({"mesos-agent", "mesos-slave"}, "mesos-agent")])
def test_the_agent_unit_is_the_first_candidate_systemd_has(loaded, expected):
    assert find_service(Units(loaded)) == expected


def test_no_agent_unit_asks_for_agent_service():
    assert find_service(Units({"x"}), ["mesos-agent", "x"]) == "x"
    with pytest.raises(AgentReadError, match="agent_service: none of the units mesos-agent, mesos-slave exists"):
        find_service(Units(set()))


def test_project_quota_is_judged_on_the_mount_that_holds_the_work_dir():
    from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_info import has_project_quota
    mounts = ("/dev/vda / ext4 rw 0 0\n/dev/vdb /var/lib/mesos xfs rw,relatime,prjquota 0 0\n"
              "/dev/vdc /var/lib/mesos/x xfs rw,pqnoenforce 0 0\n/dev/vdd /srv/a\\040b xfs rw,pquota 0 0\n")
    assert has_project_quota("/var/lib/mesos", mounts) and has_project_quota("/var/lib/mesos/slaves", mounts)
    assert not has_project_quota("/var/lib/mesos/x/y", mounts)  # accounting only
    assert not has_project_quota("/var/lib/mesosx", mounts) and not has_project_quota("/tmp", mounts)
    assert has_project_quota("/srv/a b/w", mounts)
