"""Property tests over the arguments of xfs_project, xfs_project_quota and xfs_quota_info (issue 10).

Whatever an operator types (booleans, floats, huge or negative numbers, control characters,
non-ASCII, empty strings, '..', newlines, trailing spaces), a run either succeeds with a host
state that a second run leaves unchanged, or fails with a message naming a parameter and leaves
the host (fake kernel and files) untouched; and lines of the project files that the run does not
own keep their bytes (any bytes, any line endings).
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.mesos.xfs_quota.plugins.modules import xfs_project, xfs_project_quota, xfs_quota_info
from ansible_collections.mesos.xfs_quota.tests.unit.plugins.modules.module_runner import FakeHost

SETTINGS = settings(max_examples=int(os.environ.get("MXQ_PROPERTY_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
HOSTILE_TEXT = st.one_of(
    st.sampled_from(["", " ", "..", ".", "p ", " p", "p\n", "a\nb", "\u2028", "\x85", "\x00", "é", "名前", "~", "$HOME",
                     "0", "-1", "1e3", "0.1", "true", "yes", "4294967296", "10m\n", "١٠m", "p:1", "#p", "/"]),
    st.text(max_size=8),
)
NUMBERS = st.one_of(st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.sampled_from([0, 1, 7001, 4294967294, 4294967295, 2**32]),
                    st.floats(allow_nan=True, allow_infinity=True))
VALUES = st.one_of(NUMBERS, HOSTILE_TEXT, st.none())
NAMES = st.one_of(st.sampled_from(["sandbox", "p", "legacy", "other_1"]), HOSTILE_TEXT, st.booleans(), st.none())
TREES = st.sampled_from(["a", "b", "a/in", "sb", "é", "missing", "a/../b", "a/in/..", "../etc", "fifo", "a ", "a\nb", "x\u2028"])
# Foreign lines: any bytes but "\n", each ended by "\n", "\r\n" or nothing (the last one).
FOREIGN = st.lists(st.tuples(st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")), st.sampled_from([b"\n", b"\r\n"])),
                   max_size=5).map(lambda lines: b"".join(line + end for line, end in lines))
OWN_PROJID = b"sandbox:7001\nlegacy:17\nlegacy_alias:17\n"
OWN_PROJECTS = b"7001:{mnt}/sb\n17:{mnt}/b\n"

PARAMETERS = {"name", "id", "paths", "path", "state", "mountpoint", "ids", "names", "projects", "clear_ids", "recursive",
              "projid_file", "projects_file", "bsoft", "bhard", "isoft", "ihard", "rtbsoft", "rtbhard", "include_empty"}
_PREFIX = re.compile(r"^(?:projects\[\d+\]\.)?([a-z_]+(?:/[a-z_]+)*): ")


def names_a_parameter(msg: str) -> bool:
    """Our messages start with the parameter; Ansible's own argument checks quote it."""
    match = _PREFIX.match(msg)
    if match:
        return all(part in PARAMETERS for part in match.group(1).split("/"))
    return any(f"'{p}'" in msg or f"{p}," in msg or msg.endswith(p) for p in PARAMETERS)


def make_host(root: Path, projid_extra: bytes, projects_extra: bytes) -> FakeHost:
    host = FakeHost(root)
    for tree in ("a/in", "b", "sb", "é"):
        (host.mnt / tree).mkdir(parents=True, exist_ok=True)
        (host.mnt / tree / "f").write_text("x")
    os.mkfifo(host.mnt / "fifo")
    mnt = str(host.mnt).encode()
    host.projid.write_bytes(projid_extra + OWN_PROJID + projid_extra)
    host.projects.write_bytes(projects_extra + OWN_PROJECTS.replace(b"{mnt}", mnt) + projects_extra)
    for tree, project_id in (("sb", 7001), ("b", 17)):
        for path in (host.mnt / tree, host.mnt / tree / "f"):
            host.kernel.attrs[path.lstat().st_ino] = (0x200 if path.is_dir() else 0, project_id)
    host.kernel.dquots[7001] = [20480, 0, 0, 0, 8, 2, 0, 0]
    return host


def foreign_lines(data: bytes, owned_keys: set[str], owned_ids: set[int], key_is_id: bool) -> list[bytes]:
    """Lines (without their "\\n") the run does not own, in order; parsed here, not by the code under test."""
    kept = []
    for line in data.split(b"\n"):
        key, colon, value = line.partition(b":")
        key, value = key.strip(), value.strip()
        if colon and key and not key.startswith(b"#"):
            project_id = key if key_is_id else value
            if (not key_is_id and key.decode("utf-8", "replace") in owned_keys) or (
                    project_id.isdigit() and int(project_id) in owned_ids):
                continue
        kept.append(line)
    return kept[:-1] if kept and kept[-1] == b"" else kept


def check_run(host: FakeHost, module, args: dict, check_mode: bool, owned_keys: set[str], owned_ids: set[int]) -> None:
    before = host.snapshot()
    projid_before, projects_before = host.projid.read_bytes(), host.projects.read_bytes()
    result = host.run(module, args, check_mode=check_mode)
    if result.get("failed"):
        assert names_a_parameter(result["msg"]), result["msg"]
        assert host.snapshot() == before, result["msg"]
        return
    if check_mode:
        assert host.snapshot() == before
        return
    after = host.snapshot()
    again = host.run(module, args)
    assert not again.get("failed") and not again["changed"], (result, again)
    assert host.snapshot() == after
    for data_before, data_after, key_is_id in ((projid_before, host.projid.read_bytes(), False),
                                               (projects_before, host.projects.read_bytes(), True)):
        assert foreign_lines(data_after, owned_keys, owned_ids, key_is_id) == foreign_lines(data_before, owned_keys, owned_ids, key_is_id)


@SETTINGS
@given(name=NAMES, project_id=st.one_of(NUMBERS, st.none()), state=st.sampled_from(["present", "absent"]),
       trees=st.one_of(st.none(), st.lists(TREES, max_size=3)), clear_ids=st.booleans(), check_mode=st.booleans(),
       projid_extra=FOREIGN, projects_extra=FOREIGN)
def test_xfs_project_any_arguments(name, project_id, state, trees, clear_ids, check_mode, projid_extra, projects_extra):
    with tempfile.TemporaryDirectory() as root:
        host = make_host(Path(root), projid_extra, projects_extra)
        args = {"state": state, "clear_ids": clear_ids}
        if name is not None:
            args["name"] = name
        if project_id is not None:
            args["id"] = project_id
        if trees is not None:
            args["paths"] = [str(host.mnt / tree) for tree in trees]
        owned_ids = {project_id} if isinstance(project_id, int) else set()
        if isinstance(name, str) and name in ("sandbox", "legacy"):
            owned_ids.add({"sandbox": 7001, "legacy": 17}[name])
        check_run(host, xfs_project, args, check_mode, {name} if isinstance(name, str) else set(), owned_ids)


LIMITS = st.dictionaries(st.sampled_from(["bsoft", "bhard", "isoft", "ihard", "rtbsoft", "rtbhard"]),
                         st.one_of(NUMBERS, HOSTILE_TEXT, st.sampled_from(["10m", "1g", "0", "1.5k", "100"])), max_size=3)
SELECTOR = st.one_of(st.fixed_dictionaries({"name": NAMES}), st.fixed_dictionaries({"id": VALUES}),
                     st.fixed_dictionaries({"path": TREES}), st.just({}))


@SETTINGS
@given(selector=SELECTOR, limits=LIMITS, state=st.sampled_from(["present", "absent"]), many=st.booleans(),
       check_mode=st.booleans(), projid_extra=FOREIGN, projects_extra=FOREIGN)
def test_xfs_project_quota_any_arguments(selector, limits, state, many, check_mode, projid_extra, projects_extra):
    with tempfile.TemporaryDirectory() as root:
        host = make_host(Path(root), projid_extra, projects_extra)
        item = {key: str(host.mnt / value) if key == "path" else value for key, value in selector.items() if value is not None}
        item.update(limits)
        item["state"] = state
        args = {"mountpoint": str(host.mnt), "projects": [item]} if many else {"mountpoint": str(host.mnt), **item}
        if "path" in item and not many:
            args.pop("mountpoint")
        check_run(host, xfs_project_quota, args, check_mode, set(), set())
        assert host.projid.read_bytes() == projid_extra + OWN_PROJID + projid_extra


@SETTINGS
@given(ids=st.one_of(st.none(), st.lists(NUMBERS, max_size=4)), names=st.one_of(st.none(), st.lists(NAMES.filter(lambda n: n is not None), max_size=2)),
       trees=st.one_of(st.none(), st.lists(TREES, max_size=2)), projid_extra=FOREIGN)
def test_xfs_quota_info_any_arguments(ids, names, trees, projid_extra):
    with tempfile.TemporaryDirectory() as root:
        host = make_host(Path(root), projid_extra, b"")
        args = {"mountpoint": str(host.mnt)}
        for key, value in (("ids", ids), ("names", names)):
            if value is not None:
                args[key] = value
        if trees is not None:
            args["paths"] = [str(host.mnt / tree) for tree in trees]
        before = host.snapshot()
        result = host.run(xfs_quota_info, args)
        assert not result.get("failed") or names_a_parameter(result["msg"]), result["msg"]
        assert host.snapshot() == before
