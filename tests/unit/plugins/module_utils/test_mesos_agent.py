"""The mesos_agent_* logic against a modelled agent host (fake_agent.py) and recorded answers."""
from __future__ import annotations

import json
import os
from unittest import mock

import pytest

from ansible_collections.mesos.xfs_quota.plugins.module_utils import _mesos_agent_hook_check
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_change import (
    AgentChangeError, Desired, converge, plan)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_config import (
    FlagDelivery, environment_file, flags_from, merge_flag, modules_from_text)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_guard import GuardConfig, guard
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_hook_check import (
    HookCheck, check_hook_parameters, hook_in_manifests, tls_failure)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_info import read_agent, read_flags, read_help
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_seccomp import seccomp_isolator
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_wait import (
    WaitResult, reason_from_journal, wait_for_agent)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_module import ParameterCheck
from ansible_collections.mesos.xfs_quota.tests.unit.plugins.module_utils.fake_agent import (
    FIXTURES, FakeAgentHost, FakeEndpoint)

LIB = "/usr/lib/mesos/modules/libmesos_xfs_quota_hook-mesos1.11.0-aaaa.so"
LIB2 = "/usr/lib/mesos/modules/libmesos_xfs_quota_hook-mesos1.11.0-bbbb.so"


def agent(tmp_path, style="systemd_dropin", modules_dir=False, **kwargs):
    root = tmp_path
    (root / "var/lib/mesos").mkdir(parents=True)
    (root / "etc/mesos-agent").mkdir(parents=True, exist_ok=True)
    flags = [f"--work_dir={root}/var/lib/mesos", "--ip=127.0.0.1", "--port=5051"]
    if modules_dir:
        (root / "etc/mesos-agent/modules.d").mkdir(exist_ok=True)
        flags.append(f"--modules_dir={root}/etc/mesos-agent/modules.d")
    host = FakeAgentHost(root, style=style, argv_flags=flags, **kwargs)
    host.start()
    return host


def run(host, tmp_path, library=LIB, present=True, check_mode=False, extra_flags=None, absent_flags=None, **params):
    info = read_agent(host, host.service, flags_dir=str(host.flags_dir),
                      modules_file=str(tmp_path / "etc/mesos-agent/modules.json"))
    parameters = [("work_dir", info.work_dir), *sorted({"project_ids": "20000-29999", **params}.items())]
    desired = Desired(present=present, module="mesos_xfs_quota_hook", library=library, parameters=parameters,
                      extra_flags=extra_flags or {}, absent_flags=absent_flags or {})
    delivery = FlagDelivery(style=info.flags_style, service=host.service, flags_dir=str(host.flags_dir),
                            unit_dir=str(tmp_path / "etc/systemd/system"))
    return converge(host, info, desired, delivery, FakeEndpoint(host), check_mode, wait_timeout=10, wait_delay=0,
                    backup_root=str(tmp_path / "var/lib/mesos-xfs-quota/backups"))


def mesos_read_files(tmp_path):
    """Every file that Mesos or mesos-init-wrapper reads as configuration."""
    out = []
    for directory in ("etc/mesos-slave", "etc/mesos-agent/modules.d", "etc/systemd/system/mesos-agent.service.d"):
        if (tmp_path / directory).is_dir():
            out += sorted(p.name for p in (tmp_path / directory).iterdir())
    return out


@pytest.mark.parametrize("style, modules_dir", [("systemd_dropin", False), ("flag_files", False),
                                                ("systemd_dropin", True)],
                         ids=["systemd drop-in", "flag files", "modules_dir"])
def test_parameter_changes_and_upgrades_twice_converge_in_every_flag_style(tmp_path, style, modules_dir):
    host = agent(tmp_path, style=style, modules_dir=modules_dir)
    steps = [(LIB, "10g"), (LIB, "20g"), (LIB, "30g"), (LIB2, "30g"), (LIB, "30g")]
    for library, limit in steps:
        outcome = run(host, tmp_path, library=library, default_limit=limit)
        assert outcome.changed and outcome.restarted, (library, limit)
        assert host.running and host.n_restarts == 0, host.journal
        assert "mesos_xfs_quota_hook" in host.flags_shown["hooks"]
        assert run(host, tmp_path, library=library, default_limit=limit).changed is False
    # nothing of ours that Mesos reads besides the live files; the backups elsewhere, pruned to 5
    assert not [n for n in mesos_read_files(tmp_path) if "previous" in n or n.startswith(".")]
    backups = tmp_path / "var/lib/mesos-xfs-quota/backups/mesos-agent"
    assert len(list(backups.iterdir())) == 5
    off = run(host, tmp_path, present=False)
    assert off.changed and host.running and "mesos_xfs_quota_hook" not in host.flags_shown.get("hooks", "")
    assert run(host, tmp_path, present=False).changed is False


def test_a_backup_beside_the_live_files_is_what_breaks_the_agent(tmp_path):
    """The model refuses what Mesos refuses: the previous manifest left in --modules_dir."""
    host = agent(tmp_path, modules_dir=True)
    run(host, tmp_path, default_limit="10g")
    live = tmp_path / "etc/mesos-agent/modules.d/mesos-xfs-quota.json"
    (live.parent / "mesos-xfs-quota.json.mxq-previous").write_text(live.read_text())
    live.write_text(live.read_text().replace("10g", "20g"))
    host.start()
    assert not host.running and "same name but different parameters" in host.journal[-1]
    # the module removes the earlier release's leftover, and the agent comes up
    outcome = run(host, tmp_path, default_limit="20g")
    assert host.running and any(f.endswith(".mxq-previous") for f in outcome.files)


def test_a_crash_loop_is_seen_at_once_and_rolled_back_with_the_hooks_own_words(tmp_path):
    host = agent(tmp_path, style="flag_files", hook_refuses="10x")
    run(host, tmp_path, default_limit="10g")
    before = {p.name: p.read_text() for p in (tmp_path / "etc/mesos-slave").iterdir()}
    with pytest.raises(AgentChangeError) as failed:
        run(host, tmp_path, default_limit="10x")
    message = str(failed.value)
    assert failed.value.changed
    assert "the agent exited" in message and "seen at try 1" in message
    assert message.index("The hook said: mesos_xfs_quota_hook: bad parameter in modules.json: "
                         "default_limit: cannot read '10x'") < \
        message.index("It exited: EXIT with status 1: Error installing hooks")
    assert "it is healthy again" in message
    assert {p.name: p.read_text() for p in (tmp_path / "etc/mesos-slave").iterdir()} == before
    assert host.running


def test_check_mode_changes_nothing_and_shows_the_diff(tmp_path):
    host = agent(tmp_path)
    snapshot = sorted(str(p) for p in tmp_path.rglob("*"))
    outcome = run(host, tmp_path, check_mode=True, default_limit="10g")
    assert outcome.changed and not outcome.restarted
    assert sorted(str(p) for p in tmp_path.rglob("*")) == snapshot
    assert any("MESOS_HOOKS=mesos_xfs_quota_hook" in d["after"] for d in outcome.diff)


def test_a_run_that_changes_nothing_leaves_nothing_behind(tmp_path):
    """No lock file, no backup directory: an uninstall that removed them stays done at its second run."""
    host = agent(tmp_path)
    run(host, tmp_path, default_limit="10g")
    state_dir = tmp_path / "var/lib/mesos-xfs-quota"
    for path in sorted(state_dir.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    outcome = run(host, tmp_path, default_limit="10g")
    assert not outcome.changed and not outcome.restarted
    assert list(state_dir.rglob("*")) == []


def test_a_stopped_agent_is_started_and_that_is_a_change(tmp_path):
    host = agent(tmp_path)
    run(host, tmp_path, default_limit="10g")
    host.running, host.state = False, "inactive"
    outcome = run(host, tmp_path, default_limit="10g")
    assert outcome.changed and outcome.files == [] and host.running


def test_an_environment_file_that_sets_hooks_is_refused_saying_where_they_go(tmp_path):
    env = tmp_path / "etc/default/mesos-agent"
    env.parent.mkdir(parents=True)
    env.write_text(f"MESOS_HOOKS=org_example_other_hook\nMESOS_MODULES_DIR={tmp_path}/etc/mesos-agent/modules.d\n")
    (tmp_path / "etc/mesos-agent/modules.d").mkdir(parents=True)
    (tmp_path / "etc/mesos-agent/modules.d/10-other.json").write_text(json.dumps(
        {"libraries": [{"file": "/usr/local/lib/libother.so", "modules": [{"name": "org_example_other_hook"}]}]}))
    host = agent(tmp_path, env_file=str(env))
    with pytest.raises(AgentChangeError) as failed:
        run(host, tmp_path, default_limit="10g")
    message = str(failed.value)
    assert "sets MESOS_HOOKS" in message and "MESOS_MODULES_DIR" not in message
    assert "its value 'org_example_other_hook' is kept" in message and "Nothing was changed" in message
    env.write_text(f"MESOS_MODULES_DIR={tmp_path}/etc/mesos-agent/modules.d\n")
    host.start()
    run(host, tmp_path, default_limit="10g")  # MESOS_MODULES_DIR there is fine: the drop-in never sets it
    assert host.flags_shown["hooks"] == "mesos_xfs_quota_hook"


def test_other_hooks_and_libraries_are_kept_in_their_order(tmp_path):
    host = agent(tmp_path)
    modules = tmp_path / "etc/mesos-agent/modules.json"
    modules.write_text(json.dumps({"libraries": [{"file": "/usr/local/lib/libother.so",
                                                  "modules": [{"name": "org_example_other_hook"}]}]}))
    (host.dropins / "40-operator.conf").write_text(
        f"[Service]\nEnvironment=MESOS_HOOKS=org_example_other_hook\nEnvironment=MESOS_MODULES=file://{modules}\n")
    host.start()
    run(host, tmp_path, default_limit="10g")
    assert host.flags_shown["hooks"] == "org_example_other_hook,mesos_xfs_quota_hook"
    run(host, tmp_path, present=False)
    assert host.flags_shown["hooks"] == "org_example_other_hook"
    assert [lib["file"] for lib in json.loads(modules.read_text())["libraries"]] == ["/usr/local/lib/libother.so"]


def test_the_seccomp_flags_are_a_table_entry():
    assert merge_flag("isolation", "posix/cpu,posix/mem", ["linux/seccomp"]) == "posix/cpu,posix/mem,linux/seccomp"
    assert merge_flag("isolation", "posix/cpu,linux/seccomp", None, remove=["linux/seccomp"]) == "posix/cpu"
    assert merge_flag("seccomp_profile_name", None, "default.json") == "default.json"


def test_a_list_flag_keeps_the_operators_items_first_once_each_and_ours_after_them():
    assert merge_flag("hooks", "a,b,a", ["c", "a"]) == "b,c,a"  # ours moves behind the operator's, once
    assert merge_flag("hooks", "a,b,c", "c,d") == "a,b,c,d"  # ours as text
    assert merge_flag("hooks", "a,b,c", None, remove="b,c") == "a"  # removed as text
    assert merge_flag("hooks", "x", None, remove=["x"]) is None  # nothing left, and no default to keep
    assert merge_flag("hooks", None, None) is None


SECCOMP = {"isolation": ["linux/seccomp"], "seccomp_config_dir": "/etc/mesos/seccomp",
           "seccomp_profile_name": "mesos-xfs-quota.json"}


@pytest.mark.parametrize("style", ["systemd_dropin", "flag_files"])
def test_the_seccomp_isolator_goes_in_and_out_again_while_the_hook_stays(tmp_path, style):
    host = agent(tmp_path, style=style)
    run(host, tmp_path, extra_flags=SECCOMP)
    assert host.flags_shown["isolation"] == "posix/cpu,posix/mem,linux/seccomp"
    assert host.flags_shown["seccomp_profile_name"] == "mesos-xfs-quota.json"
    outcome = run(host, tmp_path, absent_flags=SECCOMP)
    assert outcome.changed and "mesos_xfs_quota_hook" in host.flags_shown["hooks"]
    assert host.flags_shown["isolation"] == "posix/cpu,posix/mem"  # Mesos's default, no flag of ours
    assert not {"seccomp_config_dir", "seccomp_profile_name"} & set(host.flags_shown)
    assert not any("isolation" in arg.lower() for arg in host.started_with[0] + host.started_with[1])
    assert not run(host, tmp_path, absent_flags=SECCOMP).changed


def test_flags_absent_keeps_what_is_not_ours(tmp_path):
    host = agent(tmp_path)
    host.argv_flags += ["--isolation=posix/cpu,linux/seccomp", "--seccomp_config_dir=/site",
                        "--seccomp_profile_name=site.json"]
    host.start()
    run(host, tmp_path, absent_flags={"seccomp_config_dir": "/etc/mesos/seccomp",
                                      "seccomp_profile_name": "mesos-xfs-quota.json"})
    assert (host.flags_shown["seccomp_config_dir"], host.flags_shown["seccomp_profile_name"]) == ("/site", "site.json")


def test_an_isolator_joins_mesos_default_isolators_when_the_agent_sets_none():
    # Mesos's default (src/slave/flags.cpp) is what an unset --isolation means: ours joins it, never replaces it
    assert merge_flag("isolation", None, ["linux/seccomp"]) == "posix/cpu,posix/mem,linux/seccomp"
    # and taken out again, Mesos's default needs no flag
    assert merge_flag("isolation", "posix/cpu,posix/mem,linux/seccomp", None, remove=["linux/seccomp"]) is None


def test_the_seccomp_verdict_asks_the_running_binary_and_its_flags(tmp_path):
    host = agent(tmp_path)
    info = read_agent(host, host.service)
    flags, help_text = read_flags(info, FakeEndpoint(host)), read_help(host, info)
    assert ["/proc/4242/exe", "--help"] in host.commands and flags["work_dir"] == info.work_dir
    assert seccomp_isolator("auto", flags, help_text, "1.11.0", "37", "p.json").enable
    host.running = False
    stopped = read_agent(host, host.service)
    assert read_flags(stopped, FakeEndpoint(host)) is None and read_help(host, stopped) is None
    assert not seccomp_isolator("auto", None, None, "", "37", "p.json").enable


def test_wait_sees_recovery_then_the_flags():
    class Host:  # systemd says it runs
        def run(self, argv):
            return 0, "ActiveState=active\nSubState=running\nNRestarts=0\nMainPID=42\nExecMainStatus=0\nResult=success\n", ""

    class Endpoint:
        url, asked = "http://127.0.0.1:5051", []

        def get(self, path):
            from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_http import Response
            self.asked.append(path)
            if path == "/state" and self.asked.count("/state") < 3:
                return Response(503, (FIXTURES / "state_recovering.txt").read_text())
            return Response(200, (FIXTURES / "flags.json").read_text())

    result = wait_for_agent(Host(), "mesos-agent", Endpoint(), timeout=10, delay=0,
                            expect=lambda f: "" if "mesos_xfs_quota_hook" in f["hooks"] else "no hook")
    # recorded from mesos-local's agent, whose --work_dir is its own --work_dir + agents/0/work (src/local/local.cpp)
    assert result.ok and result.tries == 3 and result.flags["work_dir"] == "/var/lib/mesos/agents/0/work"


def test_the_reason_is_the_hooks_line_then_the_exit_line_never_a_flags_dump():
    bad = reason_from_journal((FIXTURES / "journal_bad_parameter.txt").read_text().splitlines())
    assert bad.startswith("The hook said: mesos_xfs_quota_hook: bad parameter in modules.json: "
                          "unknown parameter 'default_limt'")
    assert "It exited: EXIT with status 1: Error installing hooks" in bad
    recovery = reason_from_journal((FIXTURES / "journal_recovery_failed.txt").read_text().splitlines())
    assert "It exited: EXIT with status 1: Failed to perform recovery: Incompatible agent info detected" in recovery
    assert 'key: "default_limit"' not in recovery and "parameters {" not in recovery


def test_the_recorded_flags_read_back():
    flags = json.loads((FIXTURES / "flags.json").read_text())["flags"]
    libraries = modules_from_text(flags["modules"])["libraries"]
    assert libraries[-1]["modules"][0]["parameters"][2] == {"key": "default_limit", "value": "10g"}


def test_flags_and_environment_files_are_read_as_stout_and_systemd_do():
    assert flags_from(["mesos-agent", "--hooks=a", "--no-strict", "--x"], ["MESOS_HOOKS=b", "MESOS_WORK_DIR=/w"]) == \
        {"hooks": "a", "work_dir": "/w", "strict": "false", "x": "true"}
    assert environment_file('# c\nexport MESOS_A="x y"\n; d\nMESOS_B=1\nnot a line\n') == [("MESOS_A", "x y"), ("MESOS_B", "1")]


def test_a_plan_in_modules_dir_removes_other_manifests_that_declare_our_module(tmp_path):
    host = agent(tmp_path, modules_dir=True)
    stray = tmp_path / "etc/mesos-agent/modules.d/90-copy.json"
    stray.write_text(json.dumps({"libraries": [{"file": LIB, "modules": [{"name": "mesos_xfs_quota_hook"}]}]}))
    info = read_agent(host, host.service)
    planned = plan(host, info, Desired(present=True, module="mesos_xfs_quota_hook", library=LIB,
                                       parameters=[("work_dir", info.work_dir)]),
                   FlagDelivery("systemd_dropin", host.service, unit_dir=str(tmp_path / "etc/systemd/system")))
    assert planned.files[str(stray)] is None
    assert os.path.basename(planned.manifest_path) == "mesos-xfs-quota.json"


def planned_for(host, tmp_path, style="systemd_dropin", **desired):
    """plan() for the agent of ``host`` as read now (nothing written)."""
    info = read_agent(host, host.service, flags_dir=str(host.flags_dir),
                      modules_file=str(tmp_path / "etc/mesos-agent/modules.json"))
    delivery = FlagDelivery(style, host.service, flags_dir=str(host.flags_dir),
                            unit_dir=str(tmp_path / "etc/systemd/system"))
    return plan(host, info, Desired(module="mesos_xfs_quota_hook", library=LIB, **desired), delivery)


def test_a_plan_adds_our_extra_flags_and_removes_only_ours(tmp_path):
    """A list flag keeps the operator's items (ours once, after them); a value flag is ours while present, and
    on removal goes only when it still has our value."""
    (tmp_path / "var/lib/mesos").mkdir(parents=True)
    host = FakeAgentHost(tmp_path, argv_flags=[
        f"--work_dir={tmp_path}/var/lib/mesos", "--isolation=filesystem/linux,linux/seccomp",
        "--seccomp_config_dir=/etc/mesos/seccomp", "--seccomp_profile_name=theirs.json"])
    extra = {"isolation": ["linux/seccomp"], "seccomp_config_dir": "/etc/mesos/seccomp",
             "seccomp_profile_name": "ours.json"}
    present = planned_for(host, tmp_path, present=True, extra_flags=extra)
    assert {name: present.flags[name] for name in extra} == {
        "isolation": "filesystem/linux,linux/seccomp", "seccomp_config_dir": "/etc/mesos/seccomp",
        "seccomp_profile_name": "ours.json"}
    absent = planned_for(host, tmp_path, present=False, extra_flags=extra)
    assert {name: absent.flags[name] for name in extra} == {
        "isolation": "filesystem/linux", "seccomp_config_dir": None, "seccomp_profile_name": "theirs.json"}


@pytest.mark.parametrize("own_dir", [False, True])
def test_a_plan_names_modules_beside_modules_dir_unless_we_move_to_a_dir(tmp_path, own_dir):
    """Mesos refuses --modules with --modules_dir; a modules_dir we are given ourselves replaces --modules."""
    modules_dir = str(tmp_path / "etc/mesos-agent/modules.d")
    os.makedirs(modules_dir)
    (tmp_path / "var/lib/mesos").mkdir(parents=True)
    host = FakeAgentHost(tmp_path, argv_flags=[f"--work_dir={tmp_path}/var/lib/mesos", f"--modules_dir={modules_dir}",
                                               f"--modules=file://{tmp_path}/etc/mesos-agent/modules.json"])
    planned = planned_for(host, tmp_path, present=True, modules_dir=modules_dir if own_dir else "")
    both = [c for c in planned.conflicts if "both --modules and --modules_dir" in c]
    assert both == ([] if own_dir else [f"the agent has both --modules and --modules_dir ({modules_dir}); "
                                        "Mesos refuses that: remove one of them"])


def test_a_plan_in_modules_dir_with_flag_files_removes_a_modules_flag_file(tmp_path):
    """mesos-init-wrapper would pass a stale modules file as --modules beside --modules_dir: the agent exits."""
    host = agent(tmp_path, style="flag_files", modules_dir=True)
    planned = planned_for(host, tmp_path, style="flag_files", present=True)
    assert "modules" in planned.flags and planned.flags["modules"] is None
    assert planned.files[str(host.flags_dir / "modules")] is None
    assert planned.files[str(host.flags_dir / "hooks")] == "mesos_xfs_quota_hook\n"


def test_a_purging_removal_leaves_no_emptied_manifest(tmp_path):
    host = agent(tmp_path)
    run(host, tmp_path, default_limit="10g")
    info = read_agent(host, host.service, modules_file=str(tmp_path / "etc/mesos-agent/modules.json"))
    desired = Desired(present=False, module="mesos_xfs_quota_hook", purge=True)
    delivery = FlagDelivery("systemd_dropin", host.service, unit_dir=str(tmp_path / "etc/systemd/system"))
    converge(host, info, desired, delivery, FakeEndpoint(host), False, wait_timeout=10, wait_delay=0,
             backup_root=str(tmp_path / "var/lib/mesos-xfs-quota/backups"))
    assert not (tmp_path / "etc/mesos-agent/modules.json").exists() and host.running
    assert not list((tmp_path / "etc/systemd/system/mesos-agent.service.d").iterdir())


def test_flag_files_keep_the_operators_hooks(tmp_path):
    host = agent(tmp_path, style="flag_files")
    modules = tmp_path / "etc/mesos-agent/modules.json"
    modules.write_text(json.dumps({"libraries": [{"file": "/usr/local/lib/libother.so",
                                                  "modules": [{"name": "org_example_other_hook"}]}]}))
    (tmp_path / "etc/mesos-slave/modules").write_text(f"file://{modules}\n")
    (tmp_path / "etc/mesos-slave/hooks").write_text("org_example_other_hook\n")
    host.start()
    run(host, tmp_path, default_limit="10g")
    assert (tmp_path / "etc/mesos-slave/hooks").read_text() == "org_example_other_hook,mesos_xfs_quota_hook\n"
    run(host, tmp_path, present=False)
    assert (tmp_path / "etc/mesos-slave/hooks").read_text() == "org_example_other_hook\n"
    assert host.running and host.flags_shown["hooks"] == "org_example_other_hook"


def test_a_hooks_flag_on_the_units_command_line_is_refused_before_any_change(tmp_path):
    host = agent(tmp_path)
    host.argv_flags.append("--hooks=")  # the command line wins over the drop-in's MESOS_HOOKS
    host.start()
    with pytest.raises(AgentChangeError, match="ExecStart gives --hooks.*Nothing was changed"):
        run(host, tmp_path, default_limit="10g")
    assert not (host.dropins / "50-mesos-xfs-quota.conf").exists()


@pytest.mark.parametrize("style, modules_dir", [("systemd_dropin", False), ("flag_files", False),
                                                ("systemd_dropin", True)],
                         ids=["systemd drop-in", "flag files", "modules_dir"])
def test_after_an_out_of_band_upgrade_the_guard_brings_the_agent_up_without_the_hook(tmp_path, style, modules_dir):
    """The agent as the role leaves it, Mesos upgraded under it with no build for the new version: with the
    guard's files the agent starts (without the hook); the next rollout puts the hook back."""
    host = agent(tmp_path, style=style, modules_dir=modules_dir)
    outcome = run(host, tmp_path, library=LIB)
    config = GuardConfig(service=host.service, module="mesos_xfs_quota_hook", manifest=outcome.manifest_path,
                         flags_style=style, flags_dir=str(host.flags_dir), version_command=["/usr/sbin/mesos-agent", "--version"],
                         unit_dir=str(tmp_path / "etc/systemd/system"))

    def upgraded(argv):
        return (0, "mesos 1.12.0\n", "") if argv[-1] == "--version" else host.run(argv)

    report = guard(config, run=upgraded, read=host.read, list_builds=lambda _library: [])
    assert report.decision.action == "without_hook" and report.exit_code == 0
    assert (["systemctl", "daemon-reload"] in host.commands) == (style == "systemd_dropin")
    host.start()
    assert host.running, host.journal
    assert "mesos_xfs_quota_hook" not in host.flags_shown.get("hooks", "")
    assert not [n for n in mesos_read_files(tmp_path) if n.startswith(".")]  # no temp file left where Mesos reads
    back = run(host, tmp_path, library=LIB)  # the fix the guard names: the rollout again
    assert back.changed and host.running and "mesos_xfs_quota_hook" in host.flags_shown["hooks"]


def test_an_exit_seen_while_the_next_start_runs_its_start_up_check_shows_no_false_status():
    # systemd resets ExecMainStatus to 0 when the next start begins (the guard's ExecStartPre runs);
    # the agent exited with 1 before: "(status 0)" would be false, so only a non-zero status is shown
    states = iter([
        "ActiveState=active\nSubState=running\nNRestarts=0\nMainPID=42\nExecMainStatus=0\nResult=success\n",
        "ActiveState=activating\nSubState=start-pre\nNRestarts=1\nMainPID=0\nExecMainStatus=0\nResult=exit-code\n",
    ])

    class Host:
        def run(self, argv):
            return 0, next(states), ""

    class Endpoint:
        url = "http://127.0.0.1:5051"

        def get(self, path):
            from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_http import Response
            return Response(503, (FIXTURES / "state_recovering.txt").read_text())

    during_check = wait_for_agent(Host(), "mesos-agent", Endpoint(), timeout=10, delay=0)
    assert not during_check.ok and "the agent exited at least 1 time" in during_check.reason


def hook_check(tmp_path, verdict, disk_ready, defer, library_path=None, given=None):
    """check_hook_parameters with the library's ``verdict`` and the work_dir's quota state given; its result and
    what the library was asked."""
    host = agent(tmp_path)
    info = read_agent(host, host.service)
    asked = []

    def check_parameters(library, module, parameters, library_path):
        asked.append((library, module, parameters, library_path))
        return verdict

    with mock.patch.object(_mesos_agent_hook_check, "check_parameters", check_parameters), \
            mock.patch.object(_mesos_agent_hook_check, "has_project_quota", lambda path, mounts: disk_ready):
        check = check_hook_parameters(host, info, LIB, "mesos_xfs_quota_hook", given or {"default_limit": 10},
                                      library_path, defer)
    return check, asked, info


def test_the_library_is_asked_with_the_agents_work_dir_and_the_parameters_as_text(tmp_path):
    check, asked, info = hook_check(tmp_path, ParameterCheck(exported=True, ok=True, message=""), True, False)
    assert check == HookCheck(checked=True)
    assert asked == [(LIB, "mesos_xfs_quota_hook", [("work_dir", info.work_dir), ("default_limit", "10")],
                      info.library_path)]
    _check, asked, _info = hook_check(tmp_path / "b", ParameterCheck(exported=True, ok=True, message=""), True, False,
                                      library_path=["/opt/lib"], given={"work_dir": "/elsewhere"})
    assert asked[0][2:] == ([("work_dir", "/elsewhere")], ["/opt/lib"])


@pytest.mark.parametrize("message, disk_ready, defer, deferred", [
    ("work_dir: /var/lib/mesos has no project quota", False, True, True),  # the disk is prepared later
    ("work_dir: /var/lib/mesos has no project quota", False, False, False),  # not asked to wait for it
    ("work_dir: /var/lib/mesos is not on XFS", True, True, False),  # the disk is ready: the refusal stands
    ("default_limit: 'x' is not a size", False, True, False),  # not about the disk
])
def test_a_refusal_fails_unless_it_is_the_disks_and_the_disk_is_awaited(tmp_path, message, disk_ready, defer, deferred):
    check, _asked, info = hook_check(tmp_path, ParameterCheck(exported=True, ok=False, message=message), disk_ready, defer)
    if deferred:
        assert check == HookCheck(checked=True, refused=message, warnings=[
            f"the hook library refuses the parameters while {info.work_dir} has no project quota yet ({message}); "
            "they are checked again before the agent is restarted"])
    else:
        assert check == HookCheck(failure=f"parameters: the hook would not start with these parameters on this host: "
                                          f"{message}. Nothing was changed.")


def test_a_library_without_a_check_is_reported_unchecked_with_a_warning(tmp_path):
    message = f"{LIB} exports no mesos_xfs_quota_hook_check_parameters"
    check, _asked, _info = hook_check(tmp_path, ParameterCheck(exported=False, ok=True, message=message), True, False)
    assert check == HookCheck(checked=False, warnings=[f"{message}: its parameters are checked only when the agent starts it"])


@pytest.mark.parametrize("running, timeout, waited, expected", [
    (True, 5.0, WaitResult(ok=False, reason="certificate verify failed", tls_error=True),
     "The agent mesos-agent does not answer over TLS: certificate verify failed. Nothing was changed."),
    (True, 5.0, WaitResult(ok=False, reason="no answer"), ""),  # only slow: reported as it is
    (True, 0.0, None, ""),  # no wait asked for
    (False, 5.0, None, ""),  # nothing runs that could answer
])
def test_only_an_agent_that_does_not_answer_over_tls_after_the_wait_fails(tmp_path, running, timeout, waited, expected):
    host = agent(tmp_path)
    info = read_agent(host, host.service)
    info.running, info.active_state = running, "active" if running else "inactive"
    calls = []

    def wait_for_agent(host_, service, endpoint, timeout, delay):
        calls.append((service, timeout))
        return waited

    with mock.patch.object(_mesos_agent_hook_check, "wait_for_agent", wait_for_agent):
        assert tls_failure(host, info, FakeEndpoint(host), timeout) == expected
    assert calls == ([("mesos-agent", timeout)] if waited else [])


def test_the_hook_in_the_manifests_is_the_first_that_declares_it(tmp_path):
    host = agent(tmp_path, modules_dir=True)
    (tmp_path / "etc/mesos-agent/modules.d/other.json").write_text(json.dumps({"libraries": [
        {"file": "/usr/lib/libother.so", "modules": [{"name": "org_example_other"}]},
        {"file": LIB, "modules": [{"name": "mesos_xfs_quota_hook",
                                   "parameters": [{"key": "default_limit", "value": "10g"}]}]}]}))
    host.start()
    info = read_agent(host, host.service)
    assert hook_in_manifests(info, "mesos_xfs_quota_hook") == ({"default_limit": "10g"}, LIB)
    assert hook_in_manifests(info, "absent_module") == ({}, "")


class _ReleaseEndpoint(FakeEndpoint):
    """The agent answers the release its binary is (a package upgrade swaps the binary; the running
    process is the old one until it is restarted)."""

    def __init__(self, host, installed: str):
        super().__init__(host)
        self.installed = installed
        self.running_release = "1.10.0"
        host_start = host.start

        def start():
            host_start()
            self.running_release = self.installed
        host.start = start

    def get(self, path):
        if path == "/version" and self.host.running:
            from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_http import Response
            return Response(200, json.dumps({"version": self.running_release}))
        return super().get(path)


def _upgrade(host, tmp_path, endpoint, version, library=LIB):
    info = read_agent(host, host.service, modules_file=str(tmp_path / "etc/mesos-agent/modules.json"))
    info.version = endpoint.running_release  # as mesos_agent_hook reads it before converge
    desired = Desired(present=True, module="mesos_xfs_quota_hook", library=library,
                      parameters=[("work_dir", info.work_dir), ("project_ids", "20000-29999")])
    delivery = FlagDelivery(style=info.flags_style, service=host.service, unit_dir=str(tmp_path / "etc/systemd/system"))
    return converge(host, info, desired, delivery, endpoint, False, wait_timeout=10, wait_delay=0,
                    backup_root=str(tmp_path / "var/lib/mesos-xfs-quota/backups"), version=version)


def test_after_a_package_upgrade_the_agent_is_restarted_even_when_no_file_changes(tmp_path):
    host = agent(tmp_path)
    endpoint = _ReleaseEndpoint(host, installed="1.10.0")
    assert _upgrade(host, tmp_path, endpoint, "1.10.0").changed  # the hook in
    endpoint.installed = "1.11.0"  # the package changed under the running agent
    outcome = _upgrade(host, tmp_path, endpoint, "1.11.0")
    assert outcome.changed and outcome.restarted and outcome.files == []
    assert endpoint.running_release == "1.11.0"
    again = _upgrade(host, tmp_path, endpoint, "1.11.0")
    assert not again.changed and not again.restarted


def test_an_agent_that_comes_up_on_another_version_is_rolled_back_saying_which(tmp_path):
    host = agent(tmp_path)
    endpoint = _ReleaseEndpoint(host, installed="1.10.0")
    _upgrade(host, tmp_path, endpoint, "1.10.0", library=LIB)
    before = (tmp_path / "etc/mesos-agent/modules.json").read_text()
    endpoint.installed = "1.11.1"  # the packages brought another release than the one asked for
    with pytest.raises(AgentChangeError) as exc:
        _upgrade(host, tmp_path, endpoint, "1.11.0", library=LIB2)
    assert "it answers Mesos 1.11.1 at /version, not 1.11.0" in str(exc.value)
    assert "The previous files are back" in str(exc.value)
    assert (tmp_path / "etc/mesos-agent/modules.json").read_text() == before
