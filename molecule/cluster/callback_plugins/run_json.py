"""Test-only stdout callback of the cluster scenario: a whole ansible-playbook run as one JSON document
({"plays": [{"play": {"name"}, "tasks": [{"task": {"name"}, "hosts": {HOST: RESULT}}]}], "stats": {HOST: {...}}}),
read by tests/test_cluster.py. ansible-core ships no JSON callback (ansible.posix has one; not installed here).
A play with serial gets one entry per batch (the play start is reported per batch)."""

import json

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: run_json
type: stdout
short_description: the run as one JSON document (mesos.xfs_quota tests only)
description: [The run as one JSON document, for the cluster Molecule scenario's tests.]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "run_json"

    def __init__(self):
        super().__init__()
        self.plays = []

    def v2_playbook_on_play_start(self, play):
        self.plays.append({"play": {"name": play.get_name()}, "tasks": []})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.plays[-1]["tasks"].append({"task": {"name": task.name}, "hosts": {}})

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def _keep(self, result, **extra):
        self.plays[-1]["tasks"][-1]["hosts"][result._host.get_name()] = dict(result._result, **extra)

    def v2_runner_on_ok(self, result):
        self._keep(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._keep(result, failed=True)

    def v2_runner_on_skipped(self, result):
        self._keep(result, skipped=True)

    def v2_runner_on_unreachable(self, result):
        self._keep(result, unreachable=True, failed=True)

    def v2_playbook_on_stats(self, stats):
        summary = {host: stats.summarize(host) for host in sorted(stats.processed)}
        self._display.display(json.dumps({"plays": self.plays, "stats": summary}, default=str))
