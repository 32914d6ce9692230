"""The agent's start-up guard (_mesos_agent_guard): an out-of-band Mesos upgrade leaves a running agent
and a signal. Inputs are shaped as the agent and the agent role make them: `--version`'s output as
src/slave/main.cpp prints it, the manifest and the drop-in or
flag files as the role writes them (FlagDelivery, manifest_with)."""
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_config import (
    FlagDelivery, manifest_text, manifest_with)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_guard import (
    GuardConfig, GuardError, build_version, decide, guard, installed_version, load_config, main, metric_path,
    parse_config)

HERE = os.path.dirname(__file__)
# `mesos-agent --version` (not recorded: the recorded agent of real_agent/ runs through mesos-local's main);
# src/slave/main.cpp main: `cout << "mesos" << " " << MESOS_VERSION << endl`, exit 0
VERSION_1_11 = "mesos 1.11.0\n"
VERSION_1_12 = VERSION_1_11.replace("1.11.0", "1.12.0")  # what a 1.12.0 agent prints (same format)

DIR = "/usr/lib/mesos/modules"
OLD = f"{DIR}/libmesos_xfs_quota_hook-mesos1.11.0-0123456789ab.so"
NEW = f"{DIR}/libmesos_xfs_quota_hook-mesos1.12.0-ba9876543210.so"
OTHER = "/usr/local/lib/libmxq_test_other_hook.so"
MANIFEST = "/etc/mesos-agent/modules.json"
PARAMS = [("work_dir", "/var/lib/mesos"), ("project_ids", "20000-29999")]
DROPIN = "/etc/systemd/system/mesos-agent.service.d/50-mesos-xfs-quota.conf"


def _config(**kw) -> GuardConfig:
    base = {"service": "mesos-agent", "module": "mesos_xfs_quota_hook", "manifest": MANIFEST,
            "flags_style": "systemd_dropin", "flags_dir": "", "version_command": ["/usr/sbin/mesos-agent", "--version"],
            "on_mismatch": "start_without_hook", "textfile_dir": "/var/lib/prometheus/node-exporter"}
    base.update(kw)
    return GuardConfig(**base)


class Host:
    """Files, builds and commands of an agent host as the agent role leaves it."""

    def __init__(self, version_output: str, style: str = "systemd_dropin", other_hook: bool = True,
                 builds: tuple[str, ...] = (OLD,)):
        manifest = manifest_with({"libraries": [{"file": OTHER, "modules": [{"name": "other_hook"}]}]} if other_hook
                                 else None, OLD, "mesos_xfs_quota_hook", PARAMS)
        hooks = ("other_hook," if other_hook else "") + "mesos_xfs_quota_hook"
        delivery = FlagDelivery(style=style, service="mesos-agent")
        self.files: dict[str, str] = {MANIFEST: manifest_text(manifest)}
        self.files.update({k: v for k, v in delivery.files(
            {"hooks": hooks, "modules": f"file://{MANIFEST}", "isolation": "linux/seccomp"}).items() if v is not None})
        self.builds = [(path, 100.0 + i) for i, path in enumerate(builds)]
        self.version_output = version_output
        self.commands: list[list[str]] = []
        self.written: list[str] = []

    def run(self, argv):
        self.commands.append(argv)
        if argv[-1] == "--version":
            return (0, self.version_output, "") if self.version_output is not None else (127, "", "No such file")
        return 0, "", ""

    def read(self, path):
        return self.files.get(path)

    def write(self, path, content):
        self.written.append(path)
        if content is None:
            self.files.pop(path, None)
        else:
            self.files[path] = content

    def check(self, config):
        return guard(config, run=self.run, read=self.read, list_builds=lambda _lib: self.builds, write=self.write,
                     isdir=lambda path: path == "/var/lib/prometheus/node-exporter")

    def manifest(self):
        return json.loads(self.files[MANIFEST])


def test_reads_the_version_the_agent_prints_and_the_one_a_build_is_named_for():
    assert installed_version(VERSION_1_11) == "1.11.0"
    assert installed_version("Usage: mesos-agent [options]\n") is None
    assert build_version(OLD) == "1.11.0"
    assert build_version("/usr/lib/mesos/modules/libother.so") is None


def test_a_matching_build_changes_nothing_and_says_so_in_the_metric():
    host = Host(VERSION_1_11)
    report = host.check(_config())
    assert report.exit_code == 0 and report.decision.action == "none"
    assert host.written == [metric_path(_config())]
    assert host.files[metric_path(_config())].endswith('mesos_xfs_quota_hook_version_mismatch{service="mesos-agent"} 0\n')
    assert ["systemctl", "daemon-reload"] not in host.commands


def test_an_upgrade_with_a_build_for_it_beside_the_old_one_switches_the_manifest():
    host = Host(VERSION_1_12, builds=(OLD, NEW))
    before = dict(host.files)
    report = host.check(_config())
    assert report.exit_code == 0 and report.decision.action == "switch"
    libraries = host.manifest()["libraries"]
    assert libraries[0]["file"] == OTHER  # another operator's library stays, in its place
    assert libraries[-1] == {"file": NEW, "modules": [{"name": "mesos_xfs_quota_hook", "parameters": [
        {"key": k, "value": v} for k, v in PARAMS]}]}
    assert host.files[DROPIN] == before[DROPIN]  # --hooks unchanged: the hook still loads
    assert ["systemctl", "daemon-reload"] not in host.commands
    assert report.lines[0].startswith("<4>") and "1.12.0" in report.lines[0] and NEW in report.lines[0]


def test_an_upgrade_without_a_build_starts_the_agent_without_the_hook_and_says_so_loudly():
    host = Host(VERSION_1_12)
    before = dict(host.files)
    report = host.check(_config())
    assert report.exit_code == 0 and report.decision.action == "without_hook"
    assert host.manifest() == {"libraries": [{"file": OTHER, "modules": [{"name": "other_hook"}]}]}
    dropin = host.files[DROPIN]
    assert "Environment=MESOS_HOOKS=other_hook\n" in dropin
    assert "MESOS_ISOLATION=linux/seccomp" in dropin and f"MESOS_MODULES=file://{MANIFEST}" in dropin
    assert dropin != before[DROPIN]
    assert ["systemctl", "daemon-reload"] in host.commands  # this start reads the new Environment=
    line = report.lines[0]
    assert line.startswith("<3>")  # journal priority err
    assert "1.12.0" in line and "1.11.0" in line and "WITHOUT the hook" in line and "rerun the rollout" in line
    metric = host.files[metric_path(_config())]
    assert ('mesos_xfs_quota_hook_version_mismatch{service="mesos-agent",installed="1.12.0",built="1.11.0"} 1\n'
            in metric)
    assert "# TYPE mesos_xfs_quota_hook_version_mismatch gauge" in metric
    # the next start: the hook is out, nothing more to do, the metric is left saying so
    host.written.clear()
    again = host.check(_config())
    assert again.decision.action == "none" and host.written == []


def test_with_only_our_hook_the_hooks_line_goes_and_the_modules_line_stays():
    host = Host(VERSION_1_12, other_hook=False)
    host.check(_config())
    dropin = host.files[DROPIN]
    assert "MESOS_HOOKS" not in dropin  # an empty --hooks is an error: HookManager::initialize splits "" into [""]
    assert f"MESOS_MODULES=file://{MANIFEST}" in dropin
    assert host.manifest() == {"libraries": []}


def test_flag_files_lose_our_hook_without_a_daemon_reload():
    host = Host(VERSION_1_12, style="flag_files", other_hook=False)
    assert host.files["/etc/mesos-slave/hooks"] == "mesos_xfs_quota_hook\n"
    report = host.check(_config(flags_style="flag_files", flags_dir="/etc/mesos-slave"))
    assert report.decision.action == "without_hook"
    assert "/etc/mesos-slave/hooks" not in host.files
    assert host.files["/etc/mesos-slave/modules"] == f"file://{MANIFEST}\n"
    assert ["systemctl", "daemon-reload"] not in host.commands


def test_flag_files_keep_another_hook():
    host = Host(VERSION_1_12, style="flag_files")
    host.check(_config(flags_style="flag_files", flags_dir="/etc/mesos-slave"))
    assert host.files["/etc/mesos-slave/hooks"] == "other_hook\n"


def test_refuse_changes_no_file_and_fails_the_start():
    host = Host(VERSION_1_12)
    before = dict(host.files)
    report = host.check(_config(on_mismatch="refuse"))
    assert report.exit_code == 1 and report.decision.action == "refuse"
    assert {k: v for k, v in host.files.items() if k != metric_path(_config())} == before
    assert report.lines[0].startswith("<3>") and "does NOT start" in report.lines[0]
    assert host.files[metric_path(_config())].rstrip().endswith(" 1")


def test_an_older_agent_does_not_load_a_newer_build_either():
    host = Host(VERSION_1_11.replace("1.11.0", "1.10.0"))
    assert host.check(_config()).decision.action == "without_hook"


def test_a_version_that_cannot_be_read_leaves_everything_as_it_is():
    for output in (None, "Usage: mesos-agent [options]\n"):
        host = Host(output)
        before = dict(host.files)
        report = host.check(_config())
        assert report.exit_code == 0 and report.decision.action == "unknown"
        assert host.files == before and report.lines[0].startswith("<4>")


def test_without_the_hook_in_the_manifest_the_agent_is_not_even_asked():
    host = Host(VERSION_1_12)
    host.files[MANIFEST] = manifest_text({"libraries": []})
    report = host.check(_config())
    assert report.decision.action == "none" and host.commands == [] and host.written == []


def test_no_textfile_dir_no_metric():
    for textfile_dir in ("", "/var/lib/node-exporter-not-installed"):
        host = Host(VERSION_1_12)
        host.check(_config(textfile_dir=textfile_dir))
        assert not any(p.endswith(".prom") for p in host.written)


def test_a_build_named_otherwise_is_left_alone():
    host = Host(VERSION_1_12)
    host.files[MANIFEST] = host.files[MANIFEST].replace(OLD, f"{DIR}/libmesos_xfs_quota_hook.so")
    before = dict(host.files)
    report = host.check(_config())
    assert report.decision.action == "unknown" and host.files == before and report.exit_code == 0
    # the hook role's names, whatever follows the version (a hand-made copy of a build, say)
    assert build_version(f"{DIR}/libmesos_xfs_quota_hook-mesos1.11.0-0upgrade.so") == "1.11.0"


def test_decide_takes_the_newest_build_for_the_installed_version():
    manifest = manifest_with(None, OLD, "m", [])
    newer = NEW.replace("ba9876543210", "cccccccccccc")
    decision = decide(manifest, "m", "1.12.0", [(NEW, 5.0), (newer, 9.0), (OLD, 1.0)], "refuse")
    assert decision.action == "switch" and decision.new_library == newer
    # a build of another library family is never taken
    foreign = f"{DIR}/libsomething_else-mesos1.12.0-0123456789ab.so"
    assert decide(manifest, "m", "1.12.0", [(foreign, 9.0)], "refuse").action == "refuse"


GOOD = {"service": "mesos-agent", "module": "mesos_xfs_quota_hook", "manifest": MANIFEST,
        "flags_style": "systemd_dropin", "version_command": ["/usr/sbin/mesos-agent", "--version"]}


@pytest.mark.parametrize("change, error", [
    ({"on_mismatch": "ignore"}, "on_mismatch is 'ignore'; use one of start_without_hook, refuse"),
    ({"flags_style": "modules_dir"}, "flags_style"),
    ({"version_command": []}, "version_command"),
    ({"manifest": "modules.json"}, "manifest must be an absolute path"),
    ({"service": None}, "service must be a str"),
])
def test_a_bad_config_is_refused_naming_the_field(change, error):
    with pytest.raises(GuardError, match=error):
        parse_config(json.dumps({**GOOD, **change}), "/etc/mesos-xfs-quota/guard-mesos-agent.json")


def test_the_config_must_be_writable_by_root_alone(tmp_path):
    path = tmp_path / "guard.json"
    path.write_text(json.dumps(GOOD))
    os.chmod(path, 0o644)
    if os.geteuid() == 0:
        assert load_config(str(path)).service == "mesos-agent"
    os.chmod(path, 0o664)
    with pytest.raises(GuardError, match="writable by root alone"):
        load_config(str(path))


def test_main_never_blocks_the_agent_on_its_own_failure(tmp_path, capsys):
    path = tmp_path / "guard.json"
    path.write_text("{")
    os.chmod(path, 0o644)
    assert main(["mesos-xfs-quota-guard", str(path)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("<3>mesos-xfs-quota-guard: ") and "the agent starts unchecked" in err
    assert main(["mesos-xfs-quota-guard"]) == 2


REPO = os.path.abspath(os.path.join(HERE, "../../../.."))


def test_the_installed_guard_runs_from_what_the_role_copies(tmp_path):
    """The files tasks/guard.yml copies (and nothing else of the collection) run the guard with the python3
    of ExecStartPre: the import closure of _mesos_agent_guard is all there."""
    if os.geteuid() != 0:
        pytest.skip("the guard reads only a root-owned config")
    import shutil
    import subprocess
    import sys

    import yaml

    with open(os.path.join(REPO, "roles/agent/tasks/guard.yml"), encoding="utf-8") as f:
        tasks = yaml.safe_load(f)
    copy = next(t for t in tasks if "loop" in t and "ansible.builtin.copy" in t)
    where = {"_agent_utils": os.path.join(REPO, "plugins/module_utils"), "_agent_pkg": copy["vars"]["_agent_pkg"]}
    install = tmp_path / "guard"
    for item in copy["loop"]:
        src, dest = item["src"], item["dest"]
        for name, value in where.items():
            src, dest = src.replace("{{ %s }}" % name, value), dest.replace("{{ %s }}" % name, value)
        src = src if os.path.isabs(src) else os.path.join(REPO, "roles/agent/files", src)
        (install / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, install / dest)
    # an agent whose Mesos was upgraded to 1.12.0, flag files (no systemctl needed here)
    agent = tmp_path / "mesos-slave"
    agent.write_text("#!/bin/sh\necho 'mesos 1.12.0'\n")
    agent.chmod(0o755)
    flags = tmp_path / "etc-mesos-slave"
    flags.mkdir()
    (flags / "hooks").write_text("mesos_xfs_quota_hook\n")
    manifest = tmp_path / "modules.json"
    manifest.write_text(manifest_text(manifest_with(None, OLD, "mesos_xfs_quota_hook", PARAMS)))
    config = install / "guard-mesos-slave.json"
    config.write_text(json.dumps({**GOOD, "service": "mesos-slave", "manifest": str(manifest), "flags_style": "flag_files",
                                  "flags_dir": str(flags), "version_command": [str(agent), "--version"]}))
    config.chmod(0o644)
    done = subprocess.run([sys.executable, "-I", str(install / "mesos_xfs_quota_guard.py"), str(config)],
                          capture_output=True, text=True, check=False, env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("<3>mesos-xfs-quota-guard: Mesos 1.12.0 is installed"), done.stderr
    assert not (flags / "hooks").exists() and json.loads(manifest.read_text()) == {"libraries": []}
