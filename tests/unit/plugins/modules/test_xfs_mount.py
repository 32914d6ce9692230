"""xfs_mount through its main(): what a result carries (changed after a failure halfway, bytes that are
not UTF-8 shown with escapes). The decisions themselves: tests/unit/plugins/module_utils/test_mount.py."""
from __future__ import annotations

import json
from unittest import mock

import pytest
from ansible.module_utils import basic

from ansible_collections.mesos.xfs_quota.plugins.module_utils import _mount
from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import FileError
from ansible_collections.mesos.xfs_quota.plugins.modules import xfs_mount
from ansible_collections.mesos.xfs_quota.tests.unit.plugins.modules.module_runner import FakeHost


class MountHost(FakeHost):
    def files_args(self):
        return {}


@pytest.fixture
def host(tmp_path):
    return MountHost(tmp_path)


def run(host, fstab_bytes, commands=None, **patches):
    fstab = host.etc / "fstab"
    fstab.write_bytes(fstab_bytes)
    ran = []

    def run_command(_self, argv, **_kwargs):
        ran.append(argv)
        return 0, "", ""

    with mock.patch.object(basic.AnsibleModule, "run_command", commands or run_command), \
            mock.patch.multiple(_mount, **patches) if patches else mock.patch.object(_mount, "os", _mount.os):
        result = host.run(xfs_mount, {"path": str(host.mnt), "fstab": str(fstab)}, diff=True)
    return result, ran, fstab


def test_an_fstab_byte_that_is_not_utf8_is_kept_and_shown_escaped_in_the_diff(host):
    result, ran, fstab = run(host, b"# caf\xe9\n/dev/fake " + str(host.mnt).encode() + b" xfs defaults 0 0\n")
    assert result["changed"] and ran == [] and not result.get("failed")  # the fake kernel shows prjquota already
    assert fstab.read_bytes().startswith(b"# caf\xe9\n") and b" xfs defaults,prjquota 0 0\n" in fstab.read_bytes()
    assert "# caf\\xe9" in result["diff"][0]["before"]
    json.dumps(result).encode("utf-8")  # what Ansible does with a result: no lone surrogate left


def test_a_failure_after_the_remount_is_reported_changed(host):
    host.kernel.qstat_flags = 0  # quota off, as mountinfo says too: the module unmounts and mounts
    host.kernel.mountinfo = host.kernel.mountinfo.replace("rw,prjquota\n", "rw,noquota\n")

    def commands(_self, argv, **_kwargs):
        if argv[0] == "mount":
            host.kernel.qstat_flags = 0x30 if "prjquota" in argv[4] else 0
        return 0, "", ""

    def full(path, *args, **kwargs):
        raise FileError(f"fstab: cannot write {path}: No space left on device")

    result, _ran, fstab = run(host, b"/dev/fake " + str(host.mnt).encode() + b" xfs defaults 0 0\n", commands,
                              atomic_write=full)
    assert result["failed"] and result["changed"] and result["remounted"] and not result["fstab_changed"]
    assert "already changed: " in result["msg"] and "mounted again from /dev/fake" in result["msg"]
    assert host.kernel.qstat_flags == 0 and b"prjquota" not in fstab.read_bytes()
