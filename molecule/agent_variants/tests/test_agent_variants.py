"""The agent role against an agent (TEST DOUBLE of mesos-agent) that already ran with --modules_dir,
another operator's hook and HTTP authentication on its read-only endpoints, on port 5052, with TLS."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "doubles", "agent"))
from double_api import (  # noqa: E402  pylint: disable=wrong-import-position
    WORK_DIR, agent, assert_root_owned_not_group_or_world_writable, assert_write_stops_at, launch, project_of, request)

PORT = 5052
AUTH = ("operator", "s3cret-for-tests")
MODULES_DIR = "/etc/mesos-agent/modules.d"
DROP_IN = "/etc/systemd/system/mesos-agent-double.service.d/50-mesos-xfs-quota.conf"
CA = "/etc/mesos-agent/tls/ca.crt"


def test_the_agent_serves_tls_only_and_the_role_left_its_tls_alone(host):
    assert request(host, "GET", "/health", port=PORT, ca=CA)[0] == 200
    plain = host.run(f"python3 -c \"import urllib.request as u; u.urlopen('http://127.0.0.1:{PORT}/health', timeout=10)\"")
    assert plain.rc != 0 and ("Connection reset" in plain.stderr or "Remote end closed" in plain.stderr), plain.stderr
    assert "LIBPROCESS_SSL" not in host.file(DROP_IN).content_string
    environ = host.run_expect([0], "cat /proc/$(systemctl show --property=MainPID --value mesos-agent-double)/environ").stdout
    assert "LIBPROCESS_SSL_ENABLED=1" in environ.split("\0")


def test_flags_need_the_credentials_health_does_not(host):
    assert request(host, "GET", "/flags", port=PORT, ca=CA)[0] == 401
    assert request(host, "GET", "/flags", port=PORT, auth=("operator", "wrong"), ca=CA)[0] == 401
    assert request(host, "GET", "/health", port=PORT, ca=CA)[0] == 200


def test_our_manifest_goes_into_the_modules_dir_and_modules_is_not_set(host):
    ours = json.loads(host.file(f"{MODULES_DIR}/mesos-xfs-quota.json").content_string)
    assert [m["name"] for lib in ours["libraries"] for m in lib["modules"]] == ["mesos_xfs_quota_hook"]
    assert {"key": "work_dir", "value": WORK_DIR} in ours["libraries"][0]["modules"][0]["parameters"]
    assert "org_example_other_hook" in host.file(f"{MODULES_DIR}/10-other.json").content_string
    assert_root_owned_not_group_or_world_writable(host, f"{MODULES_DIR}/mesos-xfs-quota.json")
    assert "MESOS_MODULES" not in host.file(DROP_IN).content_string
    assert not host.file("/etc/mesos-agent/modules.json").exists
    flags = agent(host, "GET", "/flags", port=PORT, auth=AUTH, ca=CA)["flags"]
    assert flags["modules_dir"] == MODULES_DIR and "modules" not in flags


def test_the_other_hook_is_kept_and_ours_appended(host):
    flags = agent(host, "GET", "/flags", port=PORT, auth=AUTH, ca=CA)["flags"]
    assert flags["hooks"] == "org_example_other_hook,mesos_xfs_quota_hook"
    assert flags["work_dir"] == WORK_DIR


def test_a_task_cannot_write_past_its_disk(host):
    sandbox = launch(host, "writer", disk_mb=8, port=PORT, ca=CA)
    assert 20000 <= project_of(host, sandbox) <= 29999
    assert_write_stops_at(host, sandbox, 8)
