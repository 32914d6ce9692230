"""The metrics role's Prometheus alert rules and Grafana dashboard read only what its exporter writes.

The rules are checked by Prometheus's own promtool (Debian's `prometheus` package, in the Makefile's
APT_PACKAGES): `check rules` for syntax and `test rules` with series that fire and do not fire each
alert (alerts_test.yml beside this file). The metric names in every rule and dashboard query are
compared with the families the exporter (module_utils/_prometheus.py) renders.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.mesos.xfs_quota.plugins.module_utils import _prometheus
from ansible_collections.mesos.xfs_quota.plugins.module_utils._sandboxes import Sandbox
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import ProjectQuota

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = os.path.join(HERE, "../../../../roles/metrics/files")
RULES = os.path.join(FILES, "prometheus/mesos-xfs-quota-alerts.yml")
DASHBOARD = os.path.join(FILES, "grafana/mesos-xfs-quota-dashboard.json")
ALERTS = ("MesosSandboxNearQuota", "MesosSandboxAtQuota", "MesosXfsProjectQuotaOff", "MesosXfsQuotaHookNotLoaded",
          "MesosSandboxesWithoutQuota", "MesosXfsQuotaExporterFailing", "MesosXfsQuotaExporterStale")

# PromQL words that are not metric names: functions (followed by "("), keywords and operators.
KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}


def _promtool():
    path = shutil.which("promtool")
    assert path, "promtool is missing: install Debian's prometheus package (make deps)"
    return path


def exported_metrics() -> set[str]:
    """Every family the exporter writes, with a sandbox and the node's state."""
    quota = ProjectQuota(20001, {"bhard": 1, "bsoft": 0, "ihard": 0, "isoft": 0, "rtbhard": 0, "rtbsoft": 0})
    text = _prometheus.render([(Sandbox("/w", "S0", "F", "E", "C", 20001), quota)], True, 0.0, _prometheus.NodeState("/w"))
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings (label values, label_values' arguments)
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)  # label lists
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # range selectors
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
        following = expr[match.end():].lstrip()[:1]
        if following == "(" or match.group(0) in KEYWORDS:
            continue
        if match.start() > 0 and (expr[match.start() - 1].isdigit() or expr[match.start() - 1] == "."):
            continue  # a unit suffix of a number such as 5m
        names.add(match.group(0))
    return names


def rule_expressions():
    with open(RULES, encoding="utf-8") as stream:
        groups = yaml.safe_load(stream)["groups"]
    return {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"]}


def dashboard_expressions():
    with open(DASHBOARD, encoding="utf-8") as stream:
        dashboard = json.load(stream)
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            exprs.append(re.fullmatch(r"label_values\((.*),\s*\w+\)", query).group(1))
    return exprs


def test_promtool_checks_the_rules():
    result = subprocess.run([_promtool(), "check", "rules", RULES], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in result.stdout


def test_each_alert_fires_on_its_series_and_not_on_the_others():
    with open(os.path.join(HERE, "alerts_test.yml"), encoding="utf-8") as stream:
        cases = yaml.safe_load(stream)["tests"]
    tested = {case["alertname"] for test in cases for case in test["alert_rule_test"] if case["exp_alerts"]}
    quiet = {case["alertname"] for test in cases for case in test["alert_rule_test"] if not case["exp_alerts"]}
    assert tested == set(ALERTS) == set(rule_expressions()), "every alert has series that fire it"
    # series that must not fire are in every test: the alerts below the threshold or too short for 'for'
    assert quiet >= set(ALERTS) - {"MesosSandboxAtQuota"}
    result = subprocess.run([_promtool(), "test", "rules", "alerts_test.yml"], cwd=HERE, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("expr", list(rule_expressions().values()) + dashboard_expressions())
def test_rules_and_dashboard_read_only_metrics_the_exporter_writes(expr):
    names = metric_names(expr)
    assert names, f"no metric in {expr!r}"
    assert names <= exported_metrics(), f"{expr!r} reads {sorted(names - exported_metrics())}, which the exporter does not write"


def test_the_metric_name_reader_finds_what_it_must():
    """The checker above would pass anything if it found no names: it finds these, and only these."""
    assert metric_names('sum by (instance) (a_b{x="y"}) / (c > 0) and on(instance) d[5m] offset 5m') == {"a_b", "c", "d"}
    assert metric_names("time() - mesos_xfs_quota_scrape_timestamp_seconds > 300") == {"mesos_xfs_quota_scrape_timestamp_seconds"}
    assert "node_filesystem_avail_bytes" not in exported_metrics()
