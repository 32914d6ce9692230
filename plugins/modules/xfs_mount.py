#!/usr/bin/python
# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: xfs_mount
short_description: Make an XFS mount carry project (and user/group) quota, live and in fstab
version_added: 0.1.0
description:
  - Sets the quota mount options of an XFS file system in fstab, keeping every other option,
    line and comment, and makes the running mount match.
  - "XFS cannot switch quota on or off with C(mount -o remount): the call succeeds and nothing
    changes (M(ansible.posix.mount) reports success in that case). This module therefore unmounts
    and mounts the file system when O(unmount=true) and the mount is not busy. When it cannot, it
    fails with a message saying why, or reports RV(reboot_required) (O(when_busy))."
  - Whether the mount is busy is decided before anything changes, in check mode as in a real run, from
    C(/proc) (processes with a working directory, root, executable, open file or mapped file on the
    file system), mounts below O(path), other mounts of the same device, swap files and loop devices
    backed by files on it. What C(/proc) cannot show (an NFS export, for example) still makes
    C(umount) fail, which is reported the same way, but check mode then predicts a remount.
  - A file system is never mounted onto a directory that has content or that a process uses (a
    running Mesos agent's work_dir), because the content would vanish under the mount. The task fails and
    names the entries and processes, unless O(hide_existing_content=true).
  - For C(/), the kernel reads quota options only from C(rootflags=) on its command line. The module
    writes C(rootflags=) into GRUB_CMDLINE_LINUX in O(grub_defaults), makes the boot loader use it
    (see RV(boot_loader_commands)) and reports RV(reboot_required).
  - After acting it reads the quota state back from the kernel (C(quotactl Q_XGETQSTATV)) and fails
    if accounting or enforcement is not what was asked for.
  - "The fstab entry edited is the one mount(8) and systemd use for O(path): the first one (libmount
    C(mnt_table_find_target); systemd's fstab-generator keeps the first line per mount unit). Later
    entries for the same mount point are left alone with a warning. When mount(8) and systemd would
    read different lines (the mount point spelled through a symlink in one of them), or a line for
    O(path) is one they skip (fewer than 3 fields, C(dump) or C(pass) not a number), the task fails
    naming the lines. An entry of 3 fields gets its options field; fields 4 to 6 are optional."
  - "A file system on a loop device that mount(8) set up (C(-o loop), fstab C(image /mnt xfs loop))
    keeps that loop device: the module holds C(/dev/loopN) open while the file system is unmounted
    (an autoclear loop device detaches on the last close) and mounts the same device again. A new
    fstab entry for such a mount names the image with C(loop), not C(/dev/loopN)."
  - Everything that makes a real run fail and can be seen without changing anything is checked first,
    in check mode as in a real run, before the first change. A missing O(src) (or fstab device), one
    that holds another file system, an O(fstab) or O(grub_defaults) that cannot be rewritten
    (immutable or append-only, read-only file system) and a loop device that cannot be held all fail
    with nothing changed. A blank device is only warned about in check mode, since an earlier task
    of the same play may make its file system.
  - "A step that fails after an earlier one changed the host is undone where possible: a new mount
    that fails, or whose quota the kernel does not report, or an fstab that cannot be written after
    the remount, puts the previous mount back (same device, loop device included, the options the
    kernel showed). The failed result then has C(changed=true) and says what was changed and what
    was undone; the file system having been unmounted and mounted again counts as a change even
    when the previous mount was put back."
attributes:
  check_mode:
    support: full
    description: Reports what would change; nothing is unmounted, mounted or written.
  diff_mode:
    support: full
    description: Shows the fstab and GRUB defaults lines, and the kernel's quota state before and after.
  platform:
    support: full
    platforms: posix
    description: Linux with XFS.
options:
  path:
    description: Mount point of the XFS file system.
    type: path
    required: true
  src:
    description:
      - Device (or C(UUID=), C(LABEL=)) to mount.
      - Needed only when O(path) is neither in O(fstab) nor mounted.
    type: str
  state:
    description:
      - V(mounted) makes fstab and the running mount carry the options (and mounts an unmounted file
        system).
      - V(present) only edits fstab, and reports RV(reboot_required) when the running mount differs.
    type: str
    choices: [mounted, present]
    default: mounted
  project:
    description: Project quota. V(accounting) counts usage without enforcing limits.
    type: str
    choices: [enforced, accounting, 'off']
    default: enforced
  user:
    description: User quota; left as it is when not given.
    type: str
    choices: [enforced, accounting, 'off']
  group:
    description: Group quota; left as it is when not given.
    type: str
    choices: [enforced, accounting, 'off']
  unmount:
    description:
      - Allow unmounting and mounting O(path) to change its quota options.
      - With V(false), a running mount that differs is reported with RV(reboot_required).
    type: bool
    default: true
  when_busy:
    description:
      - What to do when O(path) cannot be unmounted (open files, mounts below it, bind mounts of the
        same file system elsewhere).
      - V(fail) fails and changes nothing; V(reboot_required) writes fstab and reports RV(reboot_required).
    type: str
    choices: [fail, reboot_required]
    default: fail
  fstab:
    description: The fstab file to edit.
    type: path
    default: /etc/fstab
  grub_defaults:
    description: GRUB defaults file that gets C(rootflags=) when O(path) is C(/).
    type: path
    default: /etc/default/grub
  hide_existing_content:
    version_added: 0.2.0
    description:
      - Mount onto O(path) even when the directory holds files or a process uses it. They stay on the
        file system below, hidden until the new one is unmounted.
      - The safe way instead is to stop what uses it, mount the new file system elsewhere, move the
        data onto it, and mount it at O(path).
    type: bool
    default: false
notes:
  - "Boot loader for C(rootflags=): with BLS entries (C(/boot/loader/entries), EL 8+, Fedora) and
    C(grubby), every entry is edited with C(grubby --update-kernel=ALL); otherwise C(update-grub)
    (Debian, Ubuntu), C(grubby) (EL 7) or C(grub2-mkconfig -o /boot/grub2/grub.cfg), the first found.
    Only the Debian path (C(update-grub)) runs in the tests; the choice is unit-tested, the EL paths
    are untested on real hardware."
  - Lines of O(fstab) and O(grub_defaults) the module does not own keep their bytes, line endings
    included; only LF ends a line. In the diff and in messages a byte that is not UTF-8 is shown as
    C(\xNN).
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
seealso:
  - module: mesos.xfs_quota.xfs_quota_info
  - name: xfs(5) mount options
    description: The quota mount options and their aliases.
    link: https://man7.org/linux/man-pages/man5/xfs.5.html
"""

EXAMPLES = r"""
- name: Enforce project quota on the agent's work_dir (unmounts and mounts it if needed)
  mesos.xfs_quota.xfs_mount:
    path: /var/lib/mesos

- name: Account project usage without enforcing, never unmount; reboot later if needed
  mesos.xfs_quota.xfs_mount:
    path: /var/lib/mesos
    project: accounting
    unmount: false
  register: quota_mount

- name: Project quota on an XFS root file system (GRUB rootflags=, takes effect after a reboot)
  mesos.xfs_quota.xfs_mount:
    path: /
  notify: Reboot
"""

RETURN = r"""
quota:
  description: Quota mode per kind that the kernel reports at the end (V(enforced), V(accounting), V(off)).
  returned: when the file system is mounted
  type: dict
  sample: {user: "off", group: "off", project: enforced}
options:
  description: The mount options in fstab after the task.
  returned: always
  type: list
  elements: str
  sample: [defaults, noatime, prjquota]
remounted:
  description:
    - Whether the file system was (or in check mode would be) unmounted and mounted.
    - In a failed result, whether it had been unmounted and mounted (or mounted) before the failure.
  returned: always
  type: bool
reboot_required:
  description: The running mount still differs from the wanted quota; a reboot (or a later unmount) applies it.
  returned: always
  type: bool
fstab_changed:
  description: Whether fstab was (or would be) rewritten; in a failed result, whether it had been.
  returned: always
  type: bool
grub_changed:
  description: Whether the GRUB defaults were (or would be) rewritten.
  returned: always
  type: bool
boot_loader_commands:
  description: The commands that make the boot loader use the new C(rootflags=) (run, or in check mode to run).
  returned: when the GRUB defaults change
  type: list
  elements: list
  sample: [["/usr/sbin/update-grub"]]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import printable
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mount import MountError, MountRequest, XfsMount
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mount_options import MODES, MountOptionError
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import Kernel, XfsError


class ModuleHost:
    """The module's side of _mount.Host."""

    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.check_mode = module.check_mode

    def run(self, argv: list[str]) -> tuple[int, str]:
        rc, out, err = self.module.run_command(argv)
        return rc, (err or out).strip()

    def warn(self, msg: str) -> None:
        self.module.warn(msg)

    def which(self, name: str) -> str | None:
        return self.module.get_bin_path(name)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path={"type": "path", "required": True},
            src={"type": "str"},
            state={"type": "str", "choices": ["mounted", "present"], "default": "mounted"},
            project={"type": "str", "choices": list(MODES), "default": "enforced"},
            user={"type": "str", "choices": list(MODES)},
            group={"type": "str", "choices": list(MODES)},
            unmount={"type": "bool", "default": True},
            when_busy={"type": "str", "choices": ["fail", "reboot_required"], "default": "fail"},
            fstab={"type": "path", "default": "/etc/fstab"},
            grub_defaults={"type": "path", "default": "/etc/default/grub"},
            hide_existing_content={"type": "bool", "default": False},
        ),
        supports_check_mode=True,
    )
    p = module.params
    request = MountRequest(
        path=p["path"], src=p["src"], state=p["state"], unmount=p["unmount"], when_busy=p["when_busy"],
        wanted={k: p[k] for k in ("user", "group", "project") if p[k] is not None},
        fstab=p["fstab"], grub_defaults=p["grub_defaults"], hide_existing_content=p["hide_existing_content"])
    error: Exception | None = None
    try:
        result = XfsMount(request, ModuleHost(module), Kernel()).apply()
    except MountError as exc:
        error, result = exc, exc.result
    except (XfsError, MountOptionError, OSError) as exc:
        error, result = exc, {"changed": False}
    # outside the except block: ansible-core 2.19 reports a fail_json there as an exception
    # fstab and GRUB lines that are not UTF-8 are shown with \xNN escapes (Ansible refuses such text)
    if error is not None:
        module.fail_json(msg=printable(str(error)), **printable(result))
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**printable(result))


if __name__ == "__main__":
    main()
