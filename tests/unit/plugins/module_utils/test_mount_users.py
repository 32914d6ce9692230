"""Who uses a mount (module_utils._mount_users), read from the real /proc of the test run."""
from __future__ import annotations

import os

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mount_users import mount_users


def test_mount_users_reads_this_process_from_the_real_proc(tmp_path):
    with open(tmp_path / "held", "w", encoding="ascii"):
        assert any(user.startswith(f"pid {os.getpid()} ") for user in mount_users(str(tmp_path), None))
        assert any(user.startswith(f"pid {os.getpid()} ") for user in mount_users("/", os.stat(tmp_path).st_dev))
    assert mount_users(str(tmp_path / "nobody-here"), None) == []
