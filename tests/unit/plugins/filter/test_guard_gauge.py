"""The private filter _guard_gauge names the file the start-up guard writes (its one rule, in _mesos_agent_guard)."""
from __future__ import annotations

from ansible_collections.mesos.xfs_quota.plugins.filter._guard_gauge import FilterModule
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_guard import GuardConfig, metric_path

GUARD_GAUGE = FilterModule().filters()["_guard_gauge"]


def test_the_filter_names_the_file_the_guard_writes():
    config = GuardConfig(service="mesos agent@1", module="mesos_xfs_quota_hook", manifest="/etc/mesos/modules.json",
                         flags_style="systemd_dropin", flags_dir="", version_command=["mesos-agent", "--version"],
                         on_mismatch="start_without_hook", textfile_dir="/var/lib/node-exporter-textfile")
    assert GUARD_GAUGE("/var/lib/node-exporter-textfile", "mesos agent@1") == metric_path(config)
    assert metric_path(config) == "/var/lib/node-exporter-textfile/mesos_xfs_quota_guard_mesos_agent_1.prom"


def test_no_directory_no_gauge():
    assert GUARD_GAUGE("", "mesos-agent") == ""
