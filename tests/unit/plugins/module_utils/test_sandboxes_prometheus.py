"""Sandboxes below a Mesos work_dir (_sandboxes) and their export for node_exporter (_prometheus)."""
from __future__ import annotations

import os
import re

import pytest

from ansible_collections.mesos.xfs_quota.plugins.module_utils import _prometheus
from ansible_collections.mesos.xfs_quota.plugins.module_utils._sandboxes import Sandbox, find_sandboxes, sandbox_paths
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import FS_XFLAG_PROJINHERIT, ProjectQuota, XfsFilesystem
from ansible_collections.mesos.xfs_quota.tests.unit.plugins.module_utils.fake_kernel import FakeKernel, mountinfo_line


def run_dir(work_dir, agent="S0", framework="F1", executor="E1", container="C1"):
    path = work_dir / "slaves" / agent / "frameworks" / framework / "executors" / executor / "runs" / container
    path.mkdir(parents=True)
    return path


@pytest.fixture
def fs(tmp_path):
    kernel = FakeKernel("1 0 8:1 / / rw - ext4 /dev/sda rw\n" + mountinfo_line(40, str(tmp_path)))
    return XfsFilesystem(str(tmp_path), kernel)


def assign(fs, path, project_id):
    fs.kernel.attrs[os.lstat(path).st_ino] = (FS_XFLAG_PROJINHERIT, project_id)


def test_sandboxes_are_the_run_directories_with_the_ids_their_path_names(tmp_path, fs):
    ours = run_dir(tmp_path, container="C1")
    assign(fs, ours, 20001)
    other_range = run_dir(tmp_path, executor="E2")
    assign(fs, other_range, 5000)  # Mesos's disk/xfs isolator
    run_dir(tmp_path, executor="E3")  # no project
    (ours.parent / "latest").symlink_to(ours)  # Mesos's runs/latest link is not a second sandbox
    (ours / "slaves").mkdir()  # content of a sandbox is never looked into
    assert find_sandboxes(fs, str(tmp_path), (20000, 29999)) == [
        Sandbox(str(ours), "S0", "F1", "E1", "C1", 20001)]
    assert [s.project_id for s in find_sandboxes(fs, str(tmp_path))] == [20001, 5000]


def test_a_work_dir_without_sandboxes_has_none(tmp_path, fs):
    assert not list(sandbox_paths(str(tmp_path)))
    (tmp_path / "slaves" / "S0" / "frameworks").mkdir(parents=True)
    assert find_sandboxes(fs, str(tmp_path)) == []


@pytest.mark.parametrize("value, escaped", [
    ("plain", "plain"),
    ('say "hi"', 'say \\"hi\\"'),
    ("back\\slash", "back\\\\slash"),
    ("two\nlines", "two\\nlines"),
    ('\\"\n', '\\\\\\"\\n'),
])
def test_label_values_are_escaped(value, escaped):
    assert _prometheus.escape_label_value(value) == escaped


def test_help_text_escapes_backslash_and_line_feed_but_not_quotes():
    assert _prometheus.escape_help('a\\b\n"c"') == 'a\\\\b\\n"c"'


SAMPLE = re.compile(r'^[a-z_:][a-z0-9_:]*(\{([a-z_][a-z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? -?[0-9.e+]+$')


def test_render_is_the_text_format_with_units_and_types():
    quota = ProjectQuota(20001, {"bhard": 10 << 20, "bsoft": 0, "ihard": 0, "isoft": 0, "rtbhard": 0, "rtbsoft": 0},
                         used_bytes=4096, used_inodes=2)
    sandbox = Sandbox("/w/x", "S0", "fw\"1", "ex\\1", "run\n1", 20001)
    text = _prometheus.render([(sandbox, quota)], True, 1700000000.5)
    assert text.endswith("\n")
    lines = text.splitlines()
    labels = 'agent="S0",framework="fw\\"1",executor="ex\\\\1",container="run\\n1",project_id="20001"'
    assert f"mesos_xfs_quota_sandbox_used_bytes{{{labels}}} 4096" in lines
    assert f"mesos_xfs_quota_sandbox_limit_bytes{{{labels}}} {10 << 20}" in lines
    assert "mesos_xfs_quota_scrape_success 1" in lines
    assert "mesos_xfs_quota_scrape_timestamp_seconds 1700000000.500" in lines
    for line in lines:
        if line.startswith("# TYPE "):
            assert line.endswith(" gauge")
        elif not line.startswith("# HELP "):
            assert SAMPLE.match(line), line
    names = [line.split()[2] for line in lines if line.startswith("# TYPE ")]
    assert len(names) == len(set(names)) and all(n.startswith("mesos_xfs_quota_") for n in names)
    # every family's HELP and TYPE come before its samples, and each family is contiguous
    assert [line.split()[2] for line in lines if line.startswith("# HELP ")] == names


def test_main_writes_the_file_atomically_and_reports_a_failed_read(tmp_path, fs, capsys):
    work_dir = tmp_path / "work"
    sandbox = run_dir(work_dir)
    assign(fs, sandbox, 20002)
    fs.kernel.dquots[20002] = [20480, 0, 0, 0, 8, 1, 0, 0]  # 10 MiB hard limit, 4 KiB used (512-byte blocks)
    out = tmp_path / "textfile"
    out.mkdir()
    argv = ["--work-dir", str(work_dir), "--project-ids", "20000-29999", "--output-dir", str(out)]
    assert _prometheus.main(argv, fs=fs, clock=lambda: 12.0) == 0
    assert os.listdir(out) == ["mesos_xfs_quota.prom"]  # the temp file was renamed, nothing else left
    text = (out / "mesos_xfs_quota.prom").read_text()
    assert 'mesos_xfs_quota_sandbox_limit_bytes{agent="S0",framework="F1",executor="E1",container="C1",project_id="20002"} 10485760' in text
    assert 'mesos_xfs_quota_sandbox_used_bytes{agent="S0",framework="F1",executor="E1",container="C1",project_id="20002"} 4096' in text
    assert oct(os.stat(out / "mesos_xfs_quota.prom").st_mode & 0o777) == "0o644"

    bad = ["--work-dir", str(work_dir), "--project-ids", "29999-20000", "--output-dir", str(out)]
    assert _prometheus.main(bad, fs=fs, clock=lambda: 13.0) == 1
    assert "--project-ids" in capsys.readouterr().err
    text = (out / "mesos_xfs_quota.prom").read_text()
    assert "mesos_xfs_quota_scrape_success 0" in text and "sandbox_used_bytes{" not in text


def test_an_unwritable_output_dir_is_an_error_naming_it_not_a_traceback(tmp_path, fs, capsys):
    argv = ["--work-dir", str(tmp_path), "--output-dir", str(tmp_path / "missing")]
    assert _prometheus.main(argv, fs=fs) == 2
    assert "--output-dir" in capsys.readouterr().err


def fake_proc(root, processes):
    """A /proc with (pid, comm, [mapped paths]) entries."""
    for pid, comm, maps in processes:
        (root / str(pid)).mkdir(parents=True)
        (root / str(pid) / "comm").write_text(comm + "\n")
        (root / str(pid) / "maps").write_text("".join(f"7f00-7f01 r-xp 00000000 08:01 12 {path}\n" for path in maps))
    (root / "self").mkdir(parents=True)
    return str(root)


@pytest.mark.parametrize("processes, expected", [
    ([(1, "systemd", []), (200, "mesos-agent", ["/usr/lib/libmesos-1.11.0.so"])], (True, False)),
    ([(200, "mesos-slave", ["/usr/lib/mesos/modules/libmesos_xfs_quota_hook-mesos1.11.0-0123456789ab.so"])], (True, True)),
    ([(300, "mesos-agent-dou", ["/x/libmesos_xfs_quota_hook-mesos1.11.0-0123456789ab.so"])], (True, True)),
    # another process that maps the library (a debugger, a check) is not the agent
    ([(400, "python3", ["/usr/lib/mesos/modules/libmesos_xfs_quota_hook-mesos1.11.0-0123456789ab.so"])], (False, False)),
    ([], (False, False)),
])
def test_the_agent_and_its_hook_are_found_in_proc(tmp_path, processes, expected):
    assert _prometheus.agent_hook(fake_proc(tmp_path / "proc", processes)) == expected


def test_main_exports_the_quota_state_the_agent_and_the_sandboxes_without_project(tmp_path, fs):
    work_dir = tmp_path / "work"
    assign(fs, run_dir(work_dir, container="C1"), 20002)
    run_dir(work_dir, container="C2")  # no project: no quota
    fs.kernel.dquots[20002] = [20480, 0, 0, 0, 8, 1, 0, 0]
    proc = fake_proc(tmp_path / "proc", [(200, "mesos-agent", [])])
    out = tmp_path / "textfile"
    out.mkdir()
    assert _prometheus.main(["--work-dir", str(work_dir), "--output-dir", str(out)], fs=fs, clock=lambda: 1.0, proc=proc) == 0
    lines = (out / "mesos_xfs_quota.prom").read_text().splitlines()
    mount = f'{{mountpoint="{tmp_path}"}}'
    assert f"mesos_xfs_quota_project_quota_enforced{mount} 1" in lines
    assert f"mesos_xfs_quota_project_quota_accounting{mount} 1" in lines
    assert "mesos_xfs_quota_sandboxes_without_project 1" in lines
    assert "mesos_xfs_quota_agent_running 1" in lines and "mesos_xfs_quota_hook_loaded 0" in lines


def test_quota_off_is_exported_as_such_not_as_a_failed_read(tmp_path, fs):
    fs.kernel.qstat_flags = 0  # mounted without quota
    work_dir = tmp_path / "work"
    assign(fs, run_dir(work_dir), 20002)
    out = tmp_path / "textfile"
    out.mkdir()
    proc = fake_proc(tmp_path / "proc", [])
    assert _prometheus.main(["--work-dir", str(work_dir), "--output-dir", str(out)], fs=fs, clock=lambda: 1.0, proc=proc) == 0
    lines = (out / "mesos_xfs_quota.prom").read_text().splitlines()
    assert f'mesos_xfs_quota_project_quota_enforced{{mountpoint="{tmp_path}"}} 0' in lines
    assert "mesos_xfs_quota_scrape_success 1" in lines and not any(line.startswith("mesos_xfs_quota_sandbox_used_bytes{") for line in lines)
