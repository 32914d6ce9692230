"""Property tests over the arguments of xfs_project, xfs_project_quota and xfs_quota_info.

Whatever an operator types (booleans, floats, huge or negative numbers, control characters,
non-ASCII, empty strings, '..', newlines, trailing spaces), a run either succeeds with a host
state that a second run leaves unchanged, or fails with a message naming a parameter and leaves
the host (fake kernel and files) untouched; and lines of the project files that the run does not
own keep their bytes (any bytes, any line endings).
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from unittest import mock

from ansible.module_utils import basic

from ansible_collections.mesos.xfs_quota.plugins.module_utils import _files, _mount
from ansible_collections.mesos.xfs_quota.plugins.module_utils import _projects as _projects_module
from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import FileError
from ansible_collections.mesos.xfs_quota.plugins.modules import docker_daemon_config, xfs_mount, xfs_project, xfs_project_quota, xfs_quota_info
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
# Malformed lines whose key is one of the names the runs use: never theirs to delete.
MALFORMED_OWN_KEYS = st.sampled_from([b"sandbox:junk", b"legacy:17:extra", b"p:notanumber", b"sandbox:7001:x", b"7001:"])
FOREIGN = st.lists(st.tuples(st.one_of(st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")), MALFORMED_OWN_KEYS),
                             st.sampled_from([b"\n", b"\r\n"])),
                   max_size=5).map(lambda lines: b"".join(line + end for line, end in lines))
OWN_PROJID = b"sandbox:7001\nlegacy:17\nlegacy_alias:17\n"
OWN_PROJECTS = b"7001:{mnt}/sb\n17:{mnt}/b\n9000:{mnt}/sb/nested\n"  # 9000: another project's tree inside sandbox's

PARAMETERS = {"name", "id", "paths", "path", "state", "mountpoint", "ids", "names", "projects", "clear_ids", "recursive",
              "projid_file", "projects_file", "bsoft", "bhard", "isoft", "ihard", "rtbsoft", "rtbhard", "include_empty",
              "hook_project_ids", "take_hook_files"}
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
    (host.mnt / "sb" / "nested").mkdir()
    (host.mnt / "sb" / "nested" / "f").write_text("n")
    for tree, project_id in (("sb", 7001), ("b", 17), ("sb/nested", 9000)):
        for path in (host.mnt / tree, host.mnt / tree / "f"):
            host.kernel.attrs[path.lstat().st_ino] = (0x200 if path.is_dir() else 0, project_id)
    host.kernel.attrs[(host.mnt / "a" / "in" / "f").lstat().st_ino] = (0, 7002)  # a file a sandbox left (no project line)
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
            # a name's line is only its well-formed "name:id" ("weird:junk" is foreign)
            if (not key_is_id and key.decode("utf-8", "replace") in owned_keys and value.isdigit()) or (
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
       projid_extra=FOREIGN, projects_extra=FOREIGN, hook=st.booleans())
@example(name="sandbox", project_id=None, state="absent", trees=None, clear_ids=True, check_mode=False,
         projid_extra=b"", projects_extra=b"", hook=False)
@example(name="p", project_id=5, state="present", trees=["a"], clear_ids=False, check_mode=False,
         projid_extra=b"", projects_extra=b"", hook=True)
def test_xfs_project_any_arguments(name, project_id, state, trees, clear_ids, check_mode, projid_extra, projects_extra, hook):
    with tempfile.TemporaryDirectory() as root:
        host = make_host(Path(root), projid_extra, projects_extra)
        args = {"state": state, "clear_ids": clear_ids}
        if hook:  # sb (7001) stands for a sandbox of the hook's range
            args["hook_project_ids"] = "7000-7999"
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
        # another project's tree nested in ours, and the hook's files, keep their ids
        if 9000 not in owned_ids:
            assert host.project_of(host.mnt / "sb" / "nested" / "f") == 9000
        if hook and 7001 not in owned_ids:
            assert host.project_of(host.mnt / "sb" / "f") == 7001
        if hook and 7002 not in owned_ids:
            assert host.project_of(host.mnt / "a" / "in" / "f") == 7002


LIMITS = st.dictionaries(st.sampled_from(["bsoft", "bhard", "isoft", "ihard", "rtbsoft", "rtbhard"]),
                         st.one_of(NUMBERS, HOSTILE_TEXT, st.sampled_from(["10m", "1g", "0", "1.5k", "100"])), max_size=3)
SELECTOR = st.one_of(st.fixed_dictionaries({"name": NAMES}), st.fixed_dictionaries({"id": VALUES}),
                     st.fixed_dictionaries({"path": TREES}), st.just({}))


# Another item for the project "sandbox" (7001, on mnt/sb): chosen three ways, with its own limits.
SAME_PROJECT = st.tuples(st.sampled_from([{"name": "sandbox"}, {"id": 7001}, {"path": "sb"}]),
                         st.dictionaries(st.sampled_from(["bsoft", "bhard", "isoft", "ihard"]),
                                         st.sampled_from(["0", "100", "512k", "800k", "1m", "20k"]), max_size=3),
                         st.sampled_from(["present", "absent"]))


@SETTINGS
@given(selector=SELECTOR, limits=LIMITS, state=st.sampled_from(["present", "absent"]), many=st.booleans(),
       check_mode=st.booleans(), projid_extra=FOREIGN, projects_extra=FOREIGN,
       same=st.lists(SAME_PROJECT, max_size=2))
@example(selector={"id": 7001}, limits={}, state="present", many=True, check_mode=False, projid_extra=b"", projects_extra=b"",
         same=[({"name": "sandbox"}, {"bsoft": "800k"}, "present"), ({"path": "sb"}, {"bhard": "512k"}, "present")])
def test_xfs_project_quota_any_arguments(selector, limits, state, many, check_mode, projid_extra, projects_extra, same):
    with tempfile.TemporaryDirectory() as root:
        host = make_host(Path(root), projid_extra, projects_extra)
        item = {key: str(host.mnt / value) if key == "path" else value for key, value in selector.items() if value is not None}
        item.update(limits)
        item["state"] = state
        args = {"mountpoint": str(host.mnt), "projects": [item]} if many else {"mountpoint": str(host.mnt), **item}
        if many:  # items for one project are merged: what they ask together, or an error
            for chosen, more, more_state in same:
                args["projects"].append({**{k: str(host.mnt / v) if k == "path" else v for k, v in chosen.items()},
                                         **more, "state": more_state})
        if "path" in item and not many:
            args.pop("mountpoint")
        check_run(host, xfs_project_quota, args, check_mode, set(), set())
        assert host.projid.read_bytes() == projid_extra + OWN_PROJID + projid_extra
        for bhard, bsoft, ihard, isoft, *_rest in host.kernel.dquots.values():  # XFS would drop such a hard limit
            assert not bhard or bsoft <= bhard
            assert not ihard or isoft <= ihard


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


# --- xfs_mount: fstab duplicates and short entries, failures injected after each change ----------
# Lines of an fstab around the mount point {mnt}: comments, foreign entries, entries for {mnt} with 3 to 6
# fields and in other spellings (duplicates), and short or malformed lines for {mnt} that mount(8) skips.
FSTAB_FOREIGN = st.sampled_from(["# a comment", "", "  # indented", "UUID=1 / ext4 defaults 0 1", "/dev/y",
                                 "/dev/other /srv/x xfs defaults 0 0", "/dev/z {mnt}-other xfs noatime"])
FSTAB_OURS = st.builds(
    lambda source, spelling, fields, options: " ".join(
        [source, spelling, "xfs", options, "0", "2"][:fields]),
    st.sampled_from(["/dev/fake", "/dev/old", "UUID=abc"]), st.sampled_from(["{mnt}", "{mnt}/", "{mnt}//"]),
    st.integers(min_value=3, max_value=6), st.sampled_from(["defaults", "noatime,uquota", "pquota", "noquota"]))
FSTAB_BROKEN = st.sampled_from(["/dev/fake {mnt}", "/dev/fake {mnt} xfs defaults x 0", "/dev/fake {mnt} xfs defaults 0 y"])
FSTAB_TEXT = st.lists(st.tuples(st.one_of(FSTAB_FOREIGN, FSTAB_FOREIGN, FSTAB_OURS, FSTAB_BROKEN),
                                st.sampled_from(["\n", "\r\n"])), max_size=5)
QUOTA_FLAGS = {"prjquota": 0x30, "pquota": 0x30, "pqnoenforce": 0x10}


class MountHost(FakeHost):
    """The fake host without the project files the quota modules take."""

    def files_args(self):
        return {}


class MountWorld:
    """The fake kernel's mount of ``mnt`` driven by umount/mount commands; changing steps fail on demand.

    Steps are numbered in the order they happen (umount, mount, the fstab write, and any undo after a
    failure); a step in ``failing`` fails."""

    def __init__(self, host: FakeHost, flags: int, failing: frozenset[int]) -> None:
        self.host, self.failing, self.step = host, failing, 0
        lines = host.kernel.mountinfo.splitlines(keepends=True)
        self.mount_line = self.line_with(lines[-1], flags)  # what the kernel shows matches its quota state
        host.kernel.mountinfo = "".join(lines[:-1]) + self.mount_line
        host.kernel.qstat_flags = flags

    @staticmethod
    def line_with(line: str, flags: int) -> str:
        quota = {0x30: "prjquota", 0x10: "pqnoenforce"}.get(flags, "noquota")
        return line.rsplit(" ", 1)[0] + f" rw,attr2,{quota}\n"

    def next_fails(self) -> bool:
        self.step += 1
        return self.step - 1 in self.failing

    def run_command(self, argv, **_kwargs):
        kernel = self.host.kernel
        if argv[0] == "umount":
            if self.next_fails():
                return 32, "", "umount: an injected failure"
            kernel.mountinfo = kernel.mountinfo.replace(self.mount_line, "")
            return 0, "", ""
        if argv[0] == "mount":
            if self.next_fails():
                return 32, "", "mount: an injected failure"
            options = argv[4].split(",")
            kernel.qstat_flags = max([QUOTA_FLAGS.get(o, 0) for o in options] + [0])
            self.mount_line = self.line_with(self.mount_line, kernel.qstat_flags)
            kernel.mountinfo += self.mount_line
            return 0, "", ""
        raise AssertionError(f"unexpected command {argv}")

    def atomic_write(self, path, content, *args, **kwargs):
        if self.next_fails():
            raise FileError(f"fstab: cannot write {path}: an injected failure")
        _files.atomic_write(path, content, *args, **kwargs)

    @property
    def mounted(self) -> bool:
        return self.mount_line in self.host.kernel.mountinfo


def fstab_oracle(lines: list[tuple[str, str]], mnt: str) -> tuple[str, int | None]:
    """("error", None) for a line for mnt that mount(8) skips; else ("edit", index of the first entry) or
    ("add", None); written here, apart from the code under test."""
    first = None
    for index, (line, _end) in enumerate(lines):
        fields = line.split()
        if not fields or fields[0].startswith("#") or len(fields) < 2 or fields[1].rstrip("/") != mnt:
            continue
        if len(fields) < 3 or any(not f.isdigit() for f in fields[4:6]):
            return "error", None
        first = index if first is None else first
    return ("edit", first) if first is not None else ("add", None)


def run_xfs_mount(host: FakeHost, world: MountWorld, fstab: Path, check_mode: bool = False) -> dict:
    args = {"path": str(host.mnt), "fstab": str(fstab)}
    with mock.patch.object(basic.AnsibleModule, "run_command", lambda _self, argv, **kw: world.run_command(argv)), \
            mock.patch.object(_mount, "atomic_write", world.atomic_write):
        return host.run(xfs_mount, args, check_mode=check_mode)


@SETTINGS
@given(lines=FSTAB_TEXT, quota_on=st.booleans(), failing=st.frozensets(st.integers(min_value=0, max_value=5), max_size=2))
def test_xfs_mount_fstab_shapes_and_failures_after_each_change(lines, quota_on, failing):
    with tempfile.TemporaryDirectory() as root:
        host = MountHost(Path(root))
        mnt = str(host.mnt)
        lines = [(line.replace("{mnt}", mnt), end) for line, end in lines]
        fstab = host.etc / "fstab"
        fstab.write_bytes("".join(line + end for line, end in lines).encode())
        before = fstab.read_bytes()
        flags = 0x30 if quota_on else 0

        predicted = run_xfs_mount(host, MountWorld(host, flags, frozenset()), fstab, check_mode=True)
        assert fstab.read_bytes() == before
        world = MountWorld(host, flags, failing)
        result = run_xfs_mount(host, world, fstab)
        verdict, first = fstab_oracle(lines, mnt)

        if verdict == "error":
            assert result.get("failed") and predicted.get("failed") and result["msg"] == predicted["msg"]
            assert result["msg"].startswith("fstab: line ") and not result["changed"] and world.step == 0
            assert fstab.read_bytes() == before and world.mounted
            return
        assert not predicted.get("failed"), predicted
        assert predicted["remounted"] == (not quota_on)
        if result.get("failed"):
            steps_done = world.step - len(failing & set(range(world.step)))
            assert result["changed"] == (steps_done > 0), (result, world.step, failing)
            assert fstab.read_bytes() == before  # the write is the last step: a failure means it did not happen
            if "NOT mounted" in result["msg"]:
                assert not world.mounted
            elif "it stays mounted with " in result["msg"]:  # the undo failed: the new mount stays, and is named
                assert world.mounted and host.kernel.qstat_flags == 0x30
            else:
                assert world.mounted and host.kernel.qstat_flags == flags, result["msg"]
            assert result["msg"].count("already changed: ") == (1 if result["changed"] else 0), result["msg"]
            return
        # success: the first entry for mnt carries prjquota, every other line keeps its bytes
        after_lines = fstab.read_bytes().decode().split("\n")
        assert world.mounted and host.kernel.qstat_flags == 0x30 and result["changed"] == (predicted["changed"])
        if verdict == "edit":
            edited = after_lines[first].rstrip("\r").split()
            old = lines[first][0].split()
            assert edited[:3] == old[:3] and edited[4:] == old[4:] and "prjquota" in edited[3].split(",")
            assert [l for i, l in enumerate(after_lines) if i != first] == [
                l for i, l in enumerate(before.decode().split("\n")) if i != first]
        else:
            assert fstab.read_bytes().startswith(before) and after_lines[-2].split()[1] == mnt
        again = run_xfs_mount(host, MountWorld(host, 0x30, frozenset()), fstab)
        assert not again.get("failed") and not again["changed"], again


# --- docker_daemon_config: any bytes in daemon.json, any dockerd, key=value text ----------------
DAEMON_JSON = st.one_of(
    st.binary(max_size=40),
    st.builds(lambda prefix, body: prefix + body,
              st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]),
              st.sampled_from([b'{"a": "caf\xe9"}', b'{"a": 1e400}', b'{"a": NaN}', b'{"a": "\\ud800"}', b"{}", b"",
                               b'{"storage-opts": ["x=1"], "b": [1, {"c": null}]}', b'{"a": 1, "a": 2}', b"[1]"])))
SETTINGS_TEXT = st.one_of(
    st.dictionaries(st.sampled_from(["debug", "a", "mtu", "labels"]),
                    st.one_of(NUMBERS, HOSTILE_TEXT, st.none(), st.lists(st.integers(), max_size=2)), max_size=3),
    st.lists(st.tuples(st.sampled_from(["debug", "a", "mtu"]),
                       st.sampled_from(["true", "3", "1e400", "NaN", "[1]", "warn", "'\"3\"'", "null", "-0.5", "é"])),
             min_size=1, max_size=3).map(lambda pairs: " ".join(f"{k}={v}" for k, v in pairs)))
DOCKERD_OUTPUT = st.sampled_from([None, "Docker version 20.10.24+dfsg1, build 297e128", "Docker version 24.0.7, build x"])


@SETTINGS
@given(data=DAEMON_JSON, settings=SETTINGS_TEXT, version=DOCKERD_OUTPUT, check_mode=st.booleans())
def test_docker_daemon_config_any_bytes_and_settings(data, settings, version, check_mode):
    with tempfile.TemporaryDirectory() as root:
        host = MountHost(Path(root))
        path = host.etc / "daemon.json"
        path.write_bytes(data)

        def run(check: bool) -> dict:
            with mock.patch.object(basic.AnsibleModule, "get_bin_path",
                                   lambda _self, name, *a, **k: None if version is None else f"/usr/bin/{name}"), \
                    mock.patch.object(basic.AnsibleModule, "run_command", lambda _self, argv, **k: (0, version, "")):
                return host.run(docker_daemon_config, {"path": str(path), "settings": settings}, check_mode=check, diff=True)

        result = run(check_mode)
        json.dumps(result).encode("utf-8")  # a result Ansible takes: no text that is not UTF-8
        if result.get("failed"):
            assert result["msg"].startswith(("path: ", "settings")) and not result["changed"], result["msg"]
            assert path.read_bytes() == data
            return
        if check_mode:
            assert path.read_bytes() == data
            return
        written = path.read_bytes()
        again = run(False)
        assert not again.get("failed") and not again["changed"] and path.read_bytes() == written, again


@SETTINGS
@given(trees=st.lists(st.sampled_from(["a", "é", "fresh", "fresh/sub"]), min_size=1, max_size=3, unique=True),
       failing=st.sampled_from(["projid_file", "projects_file", "walk"]), after=st.integers(min_value=0, max_value=4))
def test_xfs_project_failures_after_each_change_are_reported(trees, failing, after):
    """A failure injected after some changes (a file write, or the n-th assignment of the
    walk) either left the host untouched and says changed: false, or says changed: true and what it did."""
    with tempfile.TemporaryDirectory() as root:
        host = make_host(Path(root), b"", b"")
        (host.mnt / "fresh" / "sub").mkdir(parents=True)
        (host.mnt / "fresh" / "sub" / "g").write_text("g")
        real_write, real_set, calls = _files.atomic_write, host.kernel.set_fsxattr, [0]

        def atomic_write(path, content, *args, param="", **kwargs):
            if param == failing:
                raise FileError(f"{param}: cannot write {path}: an injected failure")
            return real_write(path, content, *args, param=param, **kwargs)

        def set_fsxattr(fd, buf):
            calls[0] += 1
            if failing == "walk" and calls[0] > after:
                raise OSError(5, "an injected failure")
            real_set(fd, buf)

        before = host.snapshot()
        with mock.patch.object(_projects_module, "atomic_write", atomic_write), \
                mock.patch.object(host.kernel, "set_fsxattr", set_fsxattr):
            result = host.run(xfs_project, {"name": "p", "id": 5, "paths": [str(host.mnt / t) for t in trees]})
        if not result.get("failed"):  # the walk needed fewer assignments than the failure waited for
            assert failing == "walk" and calls[0] <= after, result
            return
        assigned = {path: ids for path, ids in host.snapshot()[1].items() if before[1].get(path) != ids}
        assert result["changed"] == (host.snapshot() != before), result
        if result["changed"]:
            assert "before it failed, this run" in result["msg"]
            assert result["inodes_changed"] == len(assigned)
            assert set(result["files_written"]) <= {str(host.projid), str(host.projects)}
