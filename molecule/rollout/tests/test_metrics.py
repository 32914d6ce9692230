"""The metrics role on a real kernel: its .prom file shows a running sandbox's limit and usage."""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "doubles", "agent"))
from double_api import launch, project_of  # noqa: E402  pylint: disable=wrong-import-position

PROM = "/var/lib/node-exporter-textfile/mesos_xfs_quota.prom"


def sample(text, name, container):
    match = re.search(rf'^mesos_xfs_quota_{name}\{{agent="[^"]+",framework="molecule",executor="metered",'
                      rf'container="{container}",project_id="(\d+)"\}} (\d+)$', text, re.MULTILINE)
    assert match, f"no {name} line for {container} in\n{text}"
    return int(match.group(1)), int(match.group(2))


def test_the_prom_file_has_a_running_sandboxes_limit_and_usage(host):
    sandbox = launch(host, "metered", disk_mb=8)
    host.run_expect([0], f"dd if=/dev/urandom of={sandbox}/data bs=1M count=3 conv=fsync")
    # Twice: a start while the timer's run is under way only waits for that run, which may have read the
    # quotas before the write; the second start is a run of its own (the timer waits 1 min after a run).
    for _start in range(2):
        host.run_expect([0], "systemctl start mesos-xfs-quota-metrics.service")
    text = host.file(PROM).content_string
    project, limit = sample(text, "sandbox_limit_bytes", "run1")
    _project, used = sample(text, "sandbox_used_bytes", "run1")
    assert project == project_of(host, sandbox)
    assert limit == 8 * 1024 * 1024
    assert 3 * 1024 * 1024 <= used < 4 * 1024 * 1024
    assert "mesos_xfs_quota_scrape_success 1" in text.splitlines()
    assert "# TYPE mesos_xfs_quota_sandbox_used_bytes gauge" in text
    f = host.file(PROM)
    assert f.user == "root" and f.mode == 0o644
    # only the .prom files (the metrics role's, the agent's start-up guard's): the temp file was renamed onto it
    assert host.run_expect([0], "ls -A /var/lib/node-exporter-textfile").stdout.split() == [
        "mesos_xfs_quota.prom", "mesos_xfs_quota_guard_mesos-agent-double.prom"]


def test_the_timer_is_enabled_and_running(host):
    timer = host.service("mesos-xfs-quota-metrics.timer")
    assert timer.is_enabled and timer.is_running
