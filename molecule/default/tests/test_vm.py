"""The shared Molecule plumbing delivers a VM whose kernel can enforce XFS project quota."""


def test_converge_ran(host):
    marker = host.file("/var/lib/mxq-molecule")
    assert marker.is_directory
    assert marker.user == "root"
    assert marker.mode == 0o755


def test_kernel_has_xfs_quota(host):
    release = host.run("uname -r").stdout.strip()
    config = host.file(f"/boot/config-{release}").content_string
    assert "CONFIG_XFS_FS=m" in config or "CONFIG_XFS_FS=y" in config
    assert "CONFIG_XFS_QUOTA=y" in config


def test_data_disk_present(host):
    assert host.run("test -b /dev/vdb").rc == 0


def test_xfs_quota_tool(host):
    assert host.run_expect([0], "xfs_quota -V").stdout.startswith("xfs_quota version")
