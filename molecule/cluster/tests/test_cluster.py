"""A cluster rollout (playbooks/site.yml) over five agents in one VM, each a TEST DOUBLE of
mesos-agent on its own XFS, with a TEST DOUBLE of the Mesos master's operator API (not Mesos).
converge.yml ran the rollouts and kept each run's exit code, JSON output and the master's view."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "doubles", "agent"))
from double_api import agent, assert_write_stops_at, project_of, request  # noqa: E402  pylint: disable=wrong-import-position

RUNS = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", ""), "cluster")
SITE_PLAY = "XFS project quota on every task sandbox"
PORTS = {"a": 5061, "b": 5062, "c": 5063, "d": 5064, "e": 5065}
HOOK = "mesos_xfs_quota_hook"


def run(name):
    with open(os.path.join(RUNS, name + ".json"), encoding="utf-8") as f:
        kept = json.load(f)
    # the callback's document comes last; actions may print before it (pause: "Pausing for 12 seconds")
    kept["output"] = json.loads(kept["stdout"][kept["stdout"].index('{"plays"'):])
    return kept


def results(kept, host=None):
    """(play, task, host, result) of a run, in order."""
    return [(play["play"]["name"], task["task"]["name"], name, result)
            for play in kept["output"]["plays"] for task in play["tasks"]
            for name, result in task["hosts"].items() if host in (None, name)]


def failures(kept, host=None):
    return [result.get("msg", "") for _play, _task, _host, result in results(kept, host) if result.get("failed")]


def agent_view(kept, name):
    return next(a for a in kept["agents"] if a["agent_info"]["hostname"] == name)


def test_a_rollout_that_matches_no_agent_fails_saying_so():
    kept = run("no_agent")
    assert kept["rc"] != 0
    assert any("no agent to roll out to" in msg for msg in failures(kept)), failures(kept)


def test_a_busy_agent_without_drain_stops_the_rollout_naming_the_option():
    kept = run("busy_without_drain")
    assert kept["rc"] != 0
    msgs = failures(kept, "a")
    assert len(msgs) == 1 and "cannot be unmounted" in msgs[0] and "drain_enabled=true" in msgs[0], msgs
    assert "Nothing was changed" in msgs[0]
    view = agent_view(kept, "a")
    assert not view["deactivated"] and "drain_info" not in view
    assert len(kept["tasks"]["a-S0"]) == 1  # its task still runs


def test_check_mode_drains_nothing_and_says_what_it_would_do():
    kept = run("check_with_drain")
    assert kept["rc"] == 0, failures(kept)
    assert any("would drain agent a-S0" in str(result.get("msg", "")) for _p, _t, _h, result in results(kept, "a"))
    view = agent_view(kept, "a")
    assert view["active"] and not view["deactivated"] and "drain_info" not in view
    assert len(kept["tasks"]["a-S0"]) == 1


def test_the_rollout_goes_in_batches_and_stops_after_the_failed_one():
    kept = run("batches")
    assert kept["rc"] != 0
    batches = [sorted({host for task in play["tasks"] for host in task["hosts"]})
               for play in kept["output"]["plays"] if play["play"]["name"] == SITE_PLAY]
    assert batches == [["a"], ["b"]]  # c is never reached
    assert "c" not in kept["output"]["stats"]


def test_the_failed_agents_own_reason_is_in_the_failure_message():
    msgs = failures(run("batches"), "b")
    assert msgs, msgs
    assert "default_limit: cannot read '10x'" in msgs[-1]  # the agent role's final message
    assert "it is healthy again" in msgs[-1]


def test_the_busy_agent_was_drained_converted_and_reactivated():
    kept = run("batches")
    done = {task: result for _play, task, _host, result in results(kept, "a")}
    assert done["Drain the agent (its tasks are killed; no new ones are offered)"]["changed"]
    assert done["Stop the agent for the conversion"]["changed"]
    assert done["Reactivate the drained agent (REACTIVATE_AGENT; Mesos refuses it while DRAINING)"]["changed"]
    view = agent_view(kept, "a")
    assert view["active"] and not view["deactivated"] and "drain_info" not in view
    assert kept["tasks"]["a-S0"] == []  # the drain killed its task


def test_the_converted_agent_limits_new_tasks(host):
    mount = host.mount_point("/var/lib/mesos-a")
    assert "prjquota" in mount.options
    assert HOOK in agent(host, "GET", "/flags", port=PORTS["a"])["flags"]["hooks"]
    status, text = request(host, "POST", "/double/launch", {"agent_id": "a-S0", "executor": "after", "disk_mb": 10},
                           port=5050)
    assert status == 200, text
    sandbox = json.loads(text)["sandbox"]
    assert project_of(host, sandbox) >= 20000
    assert_write_stops_at(host, sandbox, 10)


def test_the_failed_agent_runs_again_without_the_hook(host):
    flags = agent(host, "GET", "/flags", port=PORTS["b"])["flags"]
    assert HOOK not in flags.get("hooks", "")
    assert not host.file("/etc/mesos-agent/modules-b.json").exists
    assert not host.file("/etc/systemd/system/mesos-agent-b.service.d/50-mesos-xfs-quota.conf").exists


def test_the_agent_after_the_failed_batch_is_untouched(host):
    assert not host.service("mesos-agent-c").is_running
    assert not host.file("/etc/systemd/system/mesos-agent-c.service.d/50-mesos-xfs-quota.conf").exists
    assert not host.file("/etc/mesos-agent/modules-c.json").exists
    assert host.run("mountpoint -q /var/lib/mesos-c").rc != 0
    assert "/var/lib/mesos-c" not in host.file("/etc/fstab").content_string


def test_the_xfs_phase_alone_drains_converts_restarts_and_reactivates_the_agent():
    kept = run("xfs_phase_with_drain")
    assert kept["rc"] == 0, failures(kept)
    assert kept["services"]["e"] == "active"  # the drain stopped it; nothing else would start it again
    view = agent_view(kept, "e")
    assert view["active"] and not view["deactivated"] and "drain_info" not in view
    assert kept["tasks"]["e-S0"] == []  # the drain killed its task
    done = {task: result for _play, task, _host, result in results(kept, "e")}
    assert done["Drain the agent (its tasks are killed; no new ones are offered)"]["changed"]
    assert done["Mount it with project quota, live and in fstab"]["changed"]
    assert "Restart the agent on the new files" not in done  # the agent phase did not run
    assert done["Start the drained agent again"]["changed"]


def test_a_busy_mount_with_reboot_required_and_xfs_reboot_reboots_and_gets_quota(host):
    kept = run("reboot")
    assert kept["rc"] == 0, failures(kept)
    done = {task: result for _play, task, _host, result in results(kept, "d")}
    assert done["Mount it with project quota, live and in fstab"]["reboot_required"]
    assert done["Reboot, so that the file system is mounted with quota from fstab (or / with rootflags=)"]["rebooted"]
    after = done["The file system has project quota now"]
    assert not after["changed"] and not after["reboot_required"]
    assert "prjquota" in host.mount_point("/var/lib/mesos-d").options


def test_in_one_batch_a_slowly_recovering_agent_is_waited_for_on_its_own(host):
    """e is ready at its first try; d recovers for 30 s and is given its 3 tries 12 s apart all the
    same, each after a wait of its own."""
    kept = run("batch_of_two")
    assert kept["rc"] == 0, failures(kept)
    batches = [sorted({host for task in play["tasks"] for host in task["hosts"]})
               for play in kept["output"]["plays"] if play["play"]["name"] == SITE_PLAY]
    assert batches == [["d", "e"]]

    def tries(name):
        return [result for _p, task, _h, result in results(kept, name)
                if task == "Ask the agent whether it has recovered (/state)" and not result.get("skipped")]

    def waits(name):
        return [result for _p, task, _h, result in results(kept, name)
                if task == "Wait before the next try" and not result.get("skipped")]

    assert [t["status"] for t in tries("e")] == [200] and not waits("e")
    assert tries("d")[-1]["status"] == 200 and len(tries("d")) >= 2
    assert len(waits("d")) == len(tries("d")) - 1  # a wait of its own before each try after the first
    for name in "de":
        assert HOOK in agent(host, "GET", "/flags", port=PORTS[name])["flags"]["hooks"]
