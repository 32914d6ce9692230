"""What runs on the agents (modules, module_utils, the metrics exporter) runs on the oldest Python the
users' README promises, 3.9 (Debian 11, run by `make molecule-bullseye`); the README said 3.11."""

from __future__ import annotations

import ast
import glob
import os
import re

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
OLDEST = (3, 9)
ON_AGENTS = sorted(glob.glob(os.path.join(REPO, "plugins/modules/*.py")) + glob.glob(os.path.join(REPO, "plugins/module_utils/*.py"))
                   + [os.path.join(REPO, "roles/metrics/files/mesos-xfs-quota-metrics")])


def test_the_users_readme_names_the_oldest_tested_python_for_agents():
    with open(os.path.join(REPO, "docs/README.md"), encoding="utf-8") as stream:
        text = stream.read()
    promised = re.search(r"On the agents: Python (\d+)\.(\d+) or later", text)
    assert promised, "docs/README.md does not say which Python the agents need"
    assert (int(promised[1]), int(promised[2])) == OLDEST
    assert re.search(r"target Python \| [^|]*3\.9", text), "the support matrix does not list 3.9 for targets"


@pytest.mark.parametrize("path", ON_AGENTS, ids=[os.path.relpath(p, REPO) for p in ON_AGENTS])
def test_code_that_runs_on_agents_parses_as_python_3_9(path):
    with open(path, encoding="utf-8") as stream:
        ast.parse(stream.read(), path, feature_version=OLDEST)
