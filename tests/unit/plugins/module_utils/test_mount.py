"""xfs_mount's decisions (module_utils._mount) against a fake kernel, a fake /proc and a fake host."""
from __future__ import annotations

import os
import shutil

import pytest

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mount import (
    MountError, MountRequest, XfsMount, boot_config_commands)

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
    image = tmp_path / "xfs.img"
    image.write_bytes(b"XFSB" + bytes(8188))  # an XFS superblock's magic, as mount would find it
    fstab = tmp_path / "fstab"
    fstab.write_text(f"# keep\n{image}  {mnt}  xfs  defaults,noatime  0  0\n")
    return {"tmp": tmp_path, "mnt": str(mnt), "fstab": str(fstab), "device": device, "image": str(image),
            "root_line": "1 0 8:1 / / rw - ext4 /dev/sda rw\n"}


def run(world, kernel, host=None, flags=None, **request):
    host = host or FakeHost(kernel)
    req = MountRequest(path=world["mnt"], fstab=world["fstab"], wanted={"project": "enforced"}, **request)
    result = XfsMount(req, host, kernel, proc=str(world["tmp"] / "proc"), sys_block=str(world["tmp"] / "block"),
                      boot_entries=str(world["tmp"] / "entries"), open_device=getattr(host, "open_device", None),
                      flags_of=flags or (lambda path: 0)).apply()
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


# --- a loop-mounted file system ---------------------------------------------------
LOOP_DEVICE = "7:0"


class LoopHost(FakeHost):
    """A file system on /dev/loop0 that mount(8) set up with autoclear: umount detaches the loop device
    unless something holds it open, and a detached /dev/loop0 cannot be mounted."""

    def __init__(self, kernel, world, check_mode=False, refuse=(), node_opens=True):
        super().__init__(kernel, check_mode=check_mode)
        self.world, self.refuse, self.node_opens = world, refuse, node_opens
        self.opened: list[tuple[str, int]] = []
        self.fds: list[tuple[int, int]] = []  # (fd, inode of the file it was opened on)

    @property
    def attached(self) -> bool:
        return (self.world["tmp"] / "block" / "loop0" / "loop").is_dir()

    @property
    def held(self) -> bool:
        """Whether an fd from open_device is still open (the caller closes it with os.close)."""
        def still_open(fd, inode):
            try:
                return os.fstat(fd).st_ino == inode
            except OSError:
                return False
        return any(still_open(fd, inode) for fd, inode in self.fds)

    def open_device(self, node, rdev):
        if not self.node_opens:
            raise OSError(2, "No such file or directory")
        self.opened.append((node, rdev))
        marker = self.world["tmp"] / f"held-{len(self.opened)}"
        marker.write_text(node)
        fd = os.open(marker, os.O_RDONLY)
        self.fds.append((fd, os.fstat(fd).st_ino))
        return fd

    def run(self, argv):
        self.ran.append(argv)
        if argv[0] == "umount":
            if not self.held:  # LO_FLAGS_AUTOCLEAR: the last close detaches it
                shutil.rmtree(self.world["tmp"] / "block" / "loop0" / "loop")
            self.kernel.qstat_flags = None
            return 0, ""
        if argv[0] == "mount":
            options, source = argv[4].split(","), argv[5]
            if source == "/dev/loop0" and not self.attached:
                return 32, "mount: /mnt: can't read superblock on /dev/loop0."
            if any(option in self.refuse for option in options):
                return 32, "mount: /mnt: wrong fs type, bad option, bad superblock on /dev/loop0"
            self.kernel.qstat_flags = ENFORCED if "prjquota" in options else OFF
            return 0, ""
        return 0, ""


@pytest.fixture
def loop_world(world):
    """``world`` with its image loop-mounted as fstab says: /dev/loop0 (7:0), backing file the image."""
    loop = world["tmp"] / "block" / "loop0"
    (loop / "loop").mkdir(parents=True)
    (loop / "dev").write_text(LOOP_DEVICE + "\n")
    (loop / "loop" / "backing_file").write_text(world["image"] + "\n")
    (loop / "loop" / "offset").write_text("0\n")
    (loop / "loop" / "sizelimit").write_text("0\n")
    (world["tmp"] / "fstab").write_text(f"# keep\n{world['image']} {world['mnt']} xfs loop,noatime 0 0\n")
    return world


def loop_mounted(world, flags=OFF) -> FakeKernel:
    line = f"40 1 {LOOP_DEVICE} / {world['mnt']} rw,noatime shared:1 - xfs /dev/loop0 rw,attr2,inode64,noquota\n"
    return FakeKernel(world["root_line"] + line, qstat_flags=flags)


def test_a_loop_mount_keeps_its_loop_device_through_the_remount(loop_world):
    kernel = loop_mounted(loop_world)
    host = LoopHost(kernel, loop_world)
    result, _h = run(loop_world, kernel, host)
    assert host.ran == [["umount", loop_world["mnt"]],
                        ["mount", "-t", "xfs", "-o", "noatime,prjquota", "/dev/loop0", loop_world["mnt"]]]
    assert host.attached and not host.held and host.opened[-1] == ("/dev/loop0", os.makedev(7, 0))
    assert result["remounted"] and result["quota"]["project"] == "enforced"
    assert fstab_line(loop_world) == f"{loop_world['image']} {loop_world['mnt']} xfs loop,noatime,prjquota 0 0"


def test_a_loop_mount_whose_remount_fails_is_put_back_as_it_was(loop_world):
    kernel = loop_mounted(loop_world)
    host = LoopHost(kernel, loop_world, refuse=("prjquota",))  # a kernel that refuses the new option
    before = open(loop_world["fstab"], encoding="utf-8").read()
    with pytest.raises(MountError) as failure:
        run(loop_world, kernel, host)
    assert host.ran[-1] == ["mount", "-t", "xfs", "-o", "rw,noatime,attr2,inode64,noquota", "/dev/loop0",
                            loop_world["mnt"]]
    assert host.attached and not host.held
    assert failure.value.result["changed"] and failure.value.result["remounted"]
    assert not failure.value.result["fstab_changed"] and open(loop_world["fstab"], encoding="utf-8").read() == before
    assert "already changed: " in str(failure.value) and "mounted again from /dev/loop0 with its previous options" in str(failure.value)


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check mode"])
def test_a_loop_device_that_cannot_be_held_fails_before_anything_changes(loop_world, check_mode):
    kernel = loop_mounted(loop_world)
    host = LoopHost(kernel, loop_world, check_mode=check_mode, node_opens=False)
    with pytest.raises(MountError, match=r"^path: .* loop device /dev/loop0 .*cannot be opened") as failure:
        run(loop_world, kernel, host)
    assert host.ran == [] and not failure.value.result["changed"] and host.attached


def test_check_mode_predicts_the_loop_remount_and_holds_nothing(loop_world):
    kernel = loop_mounted(loop_world)
    host = LoopHost(kernel, loop_world, check_mode=True)
    result, _h = run(loop_world, kernel, host)
    assert result["remounted"] and result["fstab_changed"] and host.ran == [] and not host.held


def test_a_loop_mount_without_an_fstab_entry_gets_its_image_there_not_the_loop_device(loop_world):
    (loop_world["tmp"] / "fstab").write_text("# keep\n")
    kernel = loop_mounted(loop_world)
    result, host = run(loop_world, kernel, LoopHost(kernel, loop_world))
    assert fstab_line(loop_world) == f"{loop_world['image']} {loop_world['mnt']} xfs loop,prjquota 0 0"
    assert host.ran[-1][-2] == "/dev/loop0" and host.attached


# --- a failure halfway is reported truthfully, undone where it can be (item 7) ------------------------
def test_an_fstab_write_that_fails_after_the_remount_puts_the_mount_back(world, monkeypatch):
    from ansible_collections.mesos.xfs_quota.plugins.module_utils import _mount
    from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import FileError

    def no_space(path, *args, **kwargs):
        raise FileError(f"fstab: cannot write {path}: No space left on device")

    monkeypatch.setattr(_mount, "atomic_write", no_space)
    kernel = mounted(world, OFF)
    host = FakeHost(kernel)
    with pytest.raises(MountError) as failure:
        run(world, kernel, host)
    assert [argv[0] for argv in host.ran] == ["umount", "mount", "umount", "mount"]
    assert host.ran[-1][4] == "rw,relatime"  # the options the kernel showed before
    result = failure.value.result
    assert result["changed"] and result["remounted"] and not result["fstab_changed"]
    assert str(failure.value).startswith("fstab: cannot write ") and "No space left on device" in str(failure.value)
    assert "already changed: " in str(failure.value) and "mounted again from /dev/vdb with its previous options" in str(failure.value)


def test_a_mount_whose_quota_does_not_show_is_unmounted_again(world):
    kernel = FakeKernel(world["root_line"], qstat_flags=OFF)
    host = FakeHost(kernel)

    def mount_it(argv):  # a kernel without quota support: the mount shows, its quota does not
        host.ran.append(argv)
        if argv[0] == "mount":
            kernel.mountinfo += mountinfo(world["mnt"], world["device"])
        return 0, ""

    host.run = mount_it
    with pytest.raises(MountError, match="is quota support compiled into this kernel") as failure:
        run(world, kernel, host)
    assert [argv[0] for argv in host.ran] == ["mount", "umount"] and failure.value.result["changed"]
    assert "it was unmounted again" in str(failure.value) and "prjquota" not in open(world["fstab"], encoding="utf-8").read()


def test_a_failing_boot_loader_command_reports_the_written_grub_defaults(world):
    grub = world["tmp"] / "grub"
    grub.write_text('GRUB_CMDLINE_LINUX="console=ttyS0"\n')
    kernel = FakeKernel("1 0 8:1 / / rw - xfs /dev/sda rw\n", qstat_flags=OFF)
    host = FakeHost(kernel)
    host.run = lambda argv: (host.ran.append(argv), (1, "update-grub: /boot is full"))[1]
    req = MountRequest(path="/", fstab=world["fstab"], grub_defaults=str(grub), wanted={"project": "enforced"})
    with pytest.raises(MountError, match=r"^grub_defaults: .* was written but .*update-grub failed: update-grub: /boot is full") as failure:
        XfsMount(req, host, kernel, proc=str(world["tmp"] / "proc"), sys_block=str(world["tmp"] / "block"),
                 boot_entries=str(world["tmp"] / "entries"), flags_of=lambda path: 0).apply()
    assert failure.value.result["changed"] and failure.value.result["grub_changed"]
    assert "rootflags=prjquota" in grub.read_text()


# --- check mode predicts what can be known without changing anything (item 11) --------------------------
IMMUTABLE = 0x10


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check mode"])
def test_an_immutable_fstab_fails_before_the_remount(world, check_mode):
    kernel = mounted(world, OFF)
    host = FakeHost(kernel, check_mode=check_mode)
    with pytest.raises(MountError, match=r"^fstab: cannot rewrite .*fstab: .*is immutable \(chattr \+i") as failure:
        run(world, kernel, host, flags=lambda path: IMMUTABLE if path == world["fstab"] else 0)
    assert host.ran == [] and not failure.value.result.get("changed")


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check mode"])
@pytest.mark.parametrize("content, words", [
    (None, r"^src: .*/missing does not exist"),
    (bytes(1080) + b"\x53\xef" + bytes(100), r"^src: .*/missing holds an ext2/ext3/ext4 file system, not XFS"),
    (b"LVM2 001" + bytes(600), r"^src: .*/missing holds no XFS file system"),
])
def test_a_source_that_cannot_be_mounted_fails_before_anything_changes(world, check_mode, content, words):
    source = world["tmp"] / "missing"
    if content is not None:
        source.write_bytes(content)
    (world["tmp"] / "fstab").write_text("# keep\n")
    kernel = FakeKernel(world["root_line"], qstat_flags=OFF)
    host = FakeHost(kernel, check_mode=check_mode)
    with pytest.raises(MountError, match=words):
        run(world, kernel, host, src=str(source))
    assert host.ran == [] and open(world["fstab"], encoding="utf-8").read() == "# keep\n"


def test_a_blank_source_is_a_warning_in_check_mode_and_an_error_in_a_run(world):
    blank = world["tmp"] / "blank"
    blank.write_bytes(bytes(70000))
    (world["tmp"] / "fstab").write_text("# keep\n")
    kernel = FakeKernel(world["root_line"], qstat_flags=OFF)
    result, host = run(world, kernel, FakeHost(kernel, check_mode=True), src=str(blank))
    assert result["remounted"] and "holds no file system yet" in host.warnings[0]
    with pytest.raises(MountError, match=r"^src: .*/blank holds no file system \(make one with mkfs.xfs\)"):
        run(world, kernel, src=str(blank))


# --- the fstab entry mount(8) and systemd use (item 5) ---------------------------------------------------
def test_two_entries_for_the_mount_point_edit_the_first_and_warn_about_the_second(world):
    (world["tmp"] / "fstab").write_text(f"{world['image']} {world['mnt']} xfs defaults 0 0\n"
                                        f"/dev/old {world['mnt']}/ xfs noatime 0 0\n")
    kernel = mounted(world, ENFORCED)
    result, host = run(world, kernel)
    assert open(world["fstab"], encoding="utf-8").read().splitlines() == [
        f"{world['image']} {world['mnt']} xfs defaults,prjquota 0 0", f"/dev/old {world['mnt']}/ xfs noatime 0 0"]
    assert result["fstab_changed"] and "line 2 of" in host.warnings[0] and "(line 1)" in host.warnings[0]


def test_a_three_field_entry_gets_its_options_not_a_second_entry(world):
    (world["tmp"] / "fstab").write_text(f"{world['image']}\t{world['mnt']}\txfs\n")
    result, _host = run(world, mounted(world, ENFORCED))
    assert open(world["fstab"], encoding="utf-8").read() == f"{world['image']}\t{world['mnt']}\txfs\tprjquota\n"
    assert result["options"] == ["prjquota"]
