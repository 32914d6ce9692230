"""xfs_mount's decisions (module_utils._mount) against a fake kernel, a fake /proc and a fake host."""
from __future__ import annotations

import os

import pytest

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mount import (
    MountError, MountRequest, XfsMount, boot_config_commands, mount_users)

from ansible_collections.mesos.xfs_quota.tests.unit.plugins.module_utils.fake_kernel import FakeKernel

ENFORCED, OFF = 0x30, 0


class FakeHost:
    """Records commands; a successful `mount` turns the fake kernel's quota flags to ``mounted_flags``."""

    def __init__(self, kernel: FakeKernel, check_mode: bool = False, umount: tuple[int, str] = (0, ""),
                 commands: tuple[str, ...] = ("update-grub",)) -> None:
        self.kernel, self.check_mode, self.umount = kernel, check_mode, umount
        self.commands = commands
        self.ran: list[list[str]] = []
        self.warnings: list[str] = []
        self.mounted_flags = ENFORCED

    def run(self, argv: list[str]) -> tuple[int, str]:
        self.ran.append(argv)
        if argv[0] == "umount":
            return self.umount
        if argv[0] == "mount":
            self.kernel.qstat_flags = self.mounted_flags
        return 0, ""

    def warn(self, msg: str) -> None:
        self.warnings.append(msg)

    def which(self, name: str) -> str | None:
        return f"/usr/sbin/{name}" if name in self.commands else None


def mountinfo(path: str, device: str, mount_id: int = 40, fstype: str = "xfs") -> str:
    return f"{mount_id} 1 {device} / {path} rw,relatime shared:1 - {fstype} /dev/vdb rw\n"


@pytest.fixture
def world(tmp_path):
    """A mount point, an fstab naming it, an empty /proc and /sys/block; the device is tmp_path's own."""
    st = os.stat(tmp_path)
    device = f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}"
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "swaps").write_text("Filename Type Size Used Priority\n")
    (tmp_path / "block").mkdir()
    fstab = tmp_path / "fstab"
    fstab.write_text(f"# keep\n/dev/vdb  {mnt}  xfs  defaults,noatime  0  0\n")
    return {"tmp": tmp_path, "mnt": str(mnt), "fstab": str(fstab), "device": device,
            "root_line": "1 0 8:1 / / rw - ext4 /dev/sda rw\n"}


def run(world, kernel, host=None, **request):
    host = host or FakeHost(kernel)
    req = MountRequest(path=world["mnt"], fstab=world["fstab"], wanted={"project": "enforced"}, **request)
    result = XfsMount(req, host, kernel, proc=str(world["tmp"] / "proc"), sys_block=str(world["tmp"] / "block"),
                      boot_entries=str(world["tmp"] / "entries")).apply()
    return result, host


def mounted(world, flags: int, extra: str = "") -> FakeKernel:
    return FakeKernel(world["root_line"] + mountinfo(world["mnt"], world["device"]) + extra, qstat_flags=flags)


def fstab_line(world) -> str:
    return open(world["fstab"], encoding="utf-8").read().splitlines()[1]


def holder(world, pid: int, cwd: str) -> None:
    """A fake process whose working directory is ``cwd``."""
    base = world["tmp"] / "proc" / str(pid)
    (base / "fd").mkdir(parents=True)
    (base / "cwd").symlink_to(cwd)
    (base / "comm").write_text("agent\n")


def test_already_right_changes_nothing(world):
    (world["tmp"] / "fstab").write_text(f"/dev/vdb {world['mnt']} xfs prjquota 0 0\n")
    result, host = run(world, mounted(world, ENFORCED))
    assert not result["changed"] and host.ran == [] and result["quota"]["project"] == "enforced"


def test_fstab_only_when_the_mount_is_already_right(world):
    result, host = run(world, mounted(world, ENFORCED))
    assert result["fstab_changed"] and not result["remounted"] and host.ran == []
    assert fstab_line(world).endswith("defaults,noatime,prjquota  0  0")


def test_unmount_and_mount_when_possible(world):
    result, host = run(world, mounted(world, OFF))
    assert [argv[0] for argv in host.ran] == ["umount", "mount"]
    assert host.ran[1] == ["mount", "-t", "xfs", "-o", "defaults,noatime,prjquota", "/dev/vdb", world["mnt"]]
    assert result["remounted"] and result["quota"]["project"] == "enforced"
    assert result["diff"][1]["before"] == "user=off group=off project=off\n"


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check mode"])
def test_busy_fails_before_anything_changes_in_check_mode_as_in_a_run(world, check_mode):
    holder(world, 4242, world["mnt"])
    kernel = mounted(world, OFF)
    before = open(world["fstab"], encoding="utf-8").read()
    with pytest.raises(MountError, match=r"^path: .*/mnt cannot be unmounted .*pid 4242 \(agent\): cwd.*when_busy=reboot_required"):
        run(world, kernel, FakeHost(kernel, check_mode=check_mode))
    assert open(world["fstab"], encoding="utf-8").read() == before


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check mode"])
def test_busy_with_reboot_required_writes_only_fstab(world, check_mode):
    holder(world, 4242, world["mnt"])
    kernel = mounted(world, OFF)
    result, host = run(world, kernel, FakeHost(kernel, check_mode=check_mode), when_busy="reboot_required")
    assert result["reboot_required"] and not result["remounted"] and result["fstab_changed"]
    assert host.ran == [] and "busy" in host.warnings[0]
    assert fstab_line(world).endswith("prjquota  0  0") != check_mode


def test_mounts_below_and_other_mounts_of_the_device_make_it_busy(world):
    below = mounted(world, OFF, mountinfo(world["mnt"] + "/sub", "0:99", mount_id=41, fstype="tmpfs"))
    with pytest.raises(MountError, match="/mnt/sub is mounted below it"):
        run(world, below)
    elsewhere = mounted(world, OFF, mountinfo("/srv/bind", world["device"], mount_id=41))
    with pytest.raises(MountError, match="also mounted at /srv/bind"):
        run(world, elsewhere)


def test_an_unmount_that_the_probe_did_not_foresee_still_counts_as_busy(world):
    kernel = mounted(world, OFF)
    result, host = run(world, kernel, FakeHost(kernel, umount=(32, "umount: target is busy.")),
                       when_busy="reboot_required")
    assert result["reboot_required"] and host.ran == [["umount", world["mnt"]]]


def test_check_mode_predicts_the_remount_and_runs_nothing(world):
    kernel = mounted(world, OFF)
    result, host = run(world, kernel, FakeHost(kernel, check_mode=True))
    assert result["remounted"] and result["fstab_changed"] and host.ran == []
    assert "prjquota" not in open(world["fstab"], encoding="utf-8").read()


def test_present_or_unmount_false_reports_a_reboot(world):
    for request in ({"state": "present"}, {"unmount": False}):
        kernel = mounted(world, OFF)
        result, host = run(world, kernel, **request)
        assert result["reboot_required"] and not result["remounted"] and host.ran == []


def test_an_unmounted_file_system_is_mounted_onto_an_empty_directory(world):
    kernel = FakeKernel(world["root_line"], qstat_flags=OFF)
    host = FakeHost(kernel)

    def mount_it(argv):  # the fake mount also makes mountinfo show it
        host.ran.append(argv)
        kernel.mountinfo += mountinfo(world["mnt"], world["device"])
        kernel.qstat_flags = ENFORCED
        return 0, ""

    host.run = mount_it
    result, _h = run(world, kernel, host)
    assert result["remounted"] and host.ran[0][0] == "mount"


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check mode"])
def test_never_mounts_over_content_or_a_directory_in_use(world, check_mode):
    kernel = FakeKernel(world["root_line"], qstat_flags=OFF)
    (world["tmp"] / "mnt" / "meta").mkdir()
    host = FakeHost(kernel, check_mode=check_mode)
    with pytest.raises(MountError, match=r"^path: .*/mnt is not empty \(it holds 1 entries \(meta\)\).*"
                                         r"Stop the agent, move the data.*"
                                         r"agent whose disk changes.*meta/slaves/latest.*hide_existing_content=true"):
        run(world, kernel, host)
    assert host.ran == [] and "prjquota" not in open(world["fstab"], encoding="utf-8").read()
    os.rmdir(world["tmp"] / "mnt" / "meta")
    holder(world, 77, world["mnt"])
    with pytest.raises(MountError, match=r"in use by pid 77 \(agent\): cwd"):
        run(world, kernel, host)
    result, _h = run(world, kernel, FakeHost(kernel, check_mode=True), hide_existing_content=True)
    assert result["remounted"]


def test_mount_users_reads_this_process_from_the_real_proc(tmp_path):
    with open(tmp_path / "held", "w", encoding="ascii"):
        assert any(user.startswith(f"pid {os.getpid()} ") for user in mount_users(str(tmp_path), None))
        assert any(user.startswith(f"pid {os.getpid()} ") for user in mount_users("/", os.stat(tmp_path).st_dev))
    assert mount_users(str(tmp_path / "nobody-here"), None) == []


@pytest.mark.parametrize("found, bls, expected", [
    (("update-grub",), False, [["/usr/sbin/update-grub"]]),  # Debian, Ubuntu
    (("grubby",), True, [["/usr/sbin/grubby", "--update-kernel=ALL", "--remove-args=rootflags"],
                         ["/usr/sbin/grubby", "--update-kernel=ALL", "--args=rootflags=prjquota"]]),  # EL 8+
    (("grubby", "update-grub"), True, [["/usr/sbin/grubby", "--update-kernel=ALL", "--remove-args=rootflags"],
                                       ["/usr/sbin/grubby", "--update-kernel=ALL", "--args=rootflags=prjquota"]]),
    (("grubby", "update-grub"), False, [["/usr/sbin/update-grub"]]),
    (("grubby", "grub2-mkconfig"), False, [["/usr/sbin/grubby", "--update-kernel=ALL", "--remove-args=rootflags"],
                                           ["/usr/sbin/grubby", "--update-kernel=ALL", "--args=rootflags=prjquota"]]),  # EL 7
    (("grub2-mkconfig",), False, [["/usr/sbin/grub2-mkconfig", "-o", "/boot/grub2/grub.cfg"]]),
    ((), True, []),
])
def test_boot_loader_choice(found, bls, expected):
    def which(name):
        return f"/usr/sbin/{name}" if name in found else None

    assert boot_config_commands(which, bls, "prjquota") == expected


def test_boot_loader_choice_without_rootflags_only_removes_them():
    assert boot_config_commands(lambda name: "/sbin/grubby" if name == "grubby" else None, True, None) == [
        ["/sbin/grubby", "--update-kernel=ALL", "--remove-args=rootflags"]]


@pytest.mark.parametrize("found, bls, ran", [
    (("update-grub",), False, ["update-grub"]),
    (("grubby",), True, ["grubby", "grubby"]),
])
def test_root_gets_rootflags_and_the_boot_loader_command(world, found, bls, ran):
    grub = world["tmp"] / "grub"
    grub.write_bytes(b'# cafe\r\nGRUB_CMDLINE_LINUX="console=ttyS0"\n')
    if bls:
        (world["tmp"] / "entries").mkdir()
        (world["tmp"] / "entries" / "a.conf").write_text("title a\n")
    kernel = FakeKernel("1 0 8:1 / / rw - xfs /dev/sda rw\n", qstat_flags=OFF)
    host = FakeHost(kernel, commands=found)
    req = MountRequest(path="/", fstab=world["fstab"], grub_defaults=str(grub), wanted={"project": "enforced"})
    result = XfsMount(req, host, kernel, proc=str(world["tmp"] / "proc"), sys_block=str(world["tmp"] / "block"),
                      boot_entries=str(world["tmp"] / "entries")).apply()
    assert result["grub_changed"] and result["reboot_required"] and not result["remounted"]
    assert [os.path.basename(argv[0]) for argv in host.ran] == ran
    assert grub.read_bytes() == b'# cafe\r\nGRUB_CMDLINE_LINUX="console=ttyS0 rootflags=prjquota"\n'
