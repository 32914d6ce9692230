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
  - For C(/), the kernel reads quota options only from C(rootflags=) on its command line. The module
    writes C(rootflags=) into GRUB_CMDLINE_LINUX in O(grub_defaults), runs C(update-grub) when it
    exists, and reports RV(reboot_required).
  - After acting it reads the quota state back from the kernel (C(quotactl Q_XGETQSTATV)) and fails
    if accounting or enforcement is not what was asked for.
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
  description: Whether the file system was (or in check mode would be) unmounted and mounted.
  returned: always
  type: bool
reboot_required:
  description: The running mount still differs from the wanted quota; a reboot (or a later unmount) applies it.
  returned: always
  type: bool
fstab_changed:
  description: Whether fstab was (or would be) rewritten.
  returned: always
  type: bool
grub_changed:
  description: Whether the GRUB defaults were (or would be) rewritten.
  returned: always
  type: bool
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mesos.xfs_quota.plugins.module_utils._files import atomic_write, read_text
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mount_options import (
    Fstab, MountOptionError, describe, grub_with_rootflags, modes_of_state, with_quota)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._xfs import (
    Kernel, Mount, XfsError, XfsFilesystem, parse_mountinfo)


def live_mount(path: str, mounts: list[Mount]) -> Mount | None:
    """The mount on exactly ``path`` (the last one, which is what is visible)."""
    found = [m for m in mounts if m.mountpoint == path]
    return found[-1] if found else None


def live_modes(path: str, kernel: Kernel, mounts: list[Mount]) -> dict[str, str]:
    return modes_of_state(XfsFilesystem(path, kernel, mounts).quota_state())


class XfsMount:
    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.p = module.params
        self.path = os.path.realpath(self.p["path"]) if os.path.exists(self.p["path"]) else self.p["path"].rstrip("/") or "/"
        self.wanted = {k: self.p[k] for k in ("user", "group", "project") if self.p[k] is not None}
        self.kernel = Kernel()
        self.result = {"changed": False, "remounted": False, "reboot_required": False,
                       "fstab_changed": False, "grub_changed": False}
        self.diff: list[dict[str, str]] = []

    def fail(self, msg: str) -> None:
        self.module.fail_json(msg=msg)

    def run(self, argv: list[str]) -> tuple[int, str]:
        rc, out, err = self.module.run_command(argv)
        return rc, (err or out).strip()

    def main(self) -> None:
        mounts = parse_mountinfo(self.kernel.read_mountinfo())
        live = live_mount(self.path, mounts)
        if live is not None and live.fstype != "xfs":
            self.fail(f"path: {self.path} is mounted as {live.fstype}, not XFS; quota options here are for XFS")
        fstab = Fstab(read_text(self.p["fstab"]))
        fstab_before = fstab.text()
        entry = fstab.entry(self.path)
        if entry is not None:
            if entry.fstype not in ("xfs", "auto"):
                self.fail(f"path: {self.path} is a {entry.fstype} file system in {self.p['fstab']}, not XFS")
            fstab.set_options(entry, with_quota(entry.options, self.wanted))
            options, source = entry.options, entry.source
        else:
            source = self.p["src"] or (live.source if live else None)
            if source is None:
                self.fail(f"src: {self.path} is neither in {self.p['fstab']} nor mounted; give src (the device) to add it")
            options = with_quota([], self.wanted)
            fstab.add(source, self.path, options)
        self.result["options"] = options
        self.result["fstab_changed"] = fstab.text() != fstab_before
        if self.result["fstab_changed"]:
            self.diff.append({"before_header": self.p["fstab"], "before": fstab_before,
                              "after_header": self.p["fstab"], "after": fstab.text()})

        if self.path == "/":
            self.root_flags(live, mounts)
        elif live is None:
            if self.p["state"] == "mounted":
                self.mount(source, options, mounts, before=None)
        else:
            self.apply_live(live, source, options, mounts)

        if self.result["fstab_changed"] and not self.module.check_mode:
            atomic_write(self.p["fstab"], fstab.text())
        self.result["changed"] = any(self.result[k] for k in ("remounted", "fstab_changed", "grub_changed"))
        if self.module._diff and self.diff:
            self.result["diff"] = self.diff
        self.module.exit_json(**self.result)

    # --- the running mount ---------------------------------------------------------------------
    def differs(self, modes: dict[str, str]) -> bool:
        return any(modes[k] != v for k, v in self.wanted.items())

    def apply_live(self, live: Mount, source: str, options: list[str], mounts: list[Mount]) -> None:
        before = live_modes(self.path, self.kernel, mounts)
        self.result["quota"] = before
        if not self.differs(before):
            return
        if self.p["state"] == "present" or not self.p["unmount"]:
            self.result["reboot_required"] = True
            return
        others = [m.mountpoint for m in mounts if m.device == live.device and m is not live]
        if others:
            return self.busy(f"the file system is also mounted at {', '.join(others)}, so unmounting "
                             f"{self.path} would not reload its options")
        if self.module.check_mode:
            self.result["remounted"] = True
            self.diff.append(self.quota_diff(before, {**before, **self.wanted}))
            return
        rc, msg = self.run(["umount", self.path])
        if rc != 0:
            return self.busy(msg) if "busy" in msg else self.fail(f"path: umount {self.path} failed: {msg}")
        self.mount(live.source, options, None, before)

    def busy(self, why: str) -> None:
        if self.p["when_busy"] == "fail":
            self.fail(f"path: {self.path} cannot be unmounted to change its quota options ({why}); stop what "
                      "uses it, or set when_busy=reboot_required to only write fstab and reboot later")
        self.result["reboot_required"] = True
        self.module.warn(f"{self.path} is busy ({why}); fstab is updated, the quota options apply after a reboot")

    def mount(self, source: str, options: list[str], mounts: list[Mount] | None, before: dict[str, str] | None) -> None:
        self.result["remounted"] = True
        if self.module.check_mode:
            return
        if not os.path.isdir(self.path):
            os.makedirs(self.path, mode=0o755)
        rc, msg = self.run(["mount", "-t", "xfs", "-o", ",".join(options), source, self.path])
        if rc != 0:
            if before is not None:  # put the old mount back before failing
                self.run(["mount", "-t", "xfs", "-o", ",".join(with_quota(options, before)), source, self.path])
            self.fail(f"path: mount -t xfs -o {','.join(options)} {source} {self.path} failed: {msg}")
        mounts = parse_mountinfo(self.kernel.read_mountinfo())
        after = live_modes(self.path, self.kernel, mounts)
        self.result["quota"] = after
        if self.differs(after):
            self.fail(f"path: {self.path} was mounted with {','.join(options)} but the kernel reports "
                      f"{describe(after).strip()}; is quota support compiled into this kernel?")
        if before is not None:
            self.diff.append(self.quota_diff(before, after))

    def quota_diff(self, before: dict[str, str], after: dict[str, str]) -> dict[str, str]:
        header = f"quota state of {self.path}"
        return {"before_header": header, "before": describe(before), "after_header": header, "after": describe(after)}

    # --- the root file system ------------------------------------------------------------------
    def root_flags(self, live: Mount | None, mounts: list[Mount]) -> None:
        if live is None or live.fstype != "xfs":
            self.fail("path: / is not XFS; rootflags= quota options apply to an XFS root only")
        before = live_modes("/", self.kernel, mounts)
        self.result["quota"] = before
        path = self.p["grub_defaults"]
        text = read_text(path)
        new = grub_with_rootflags(text, self.wanted)
        self.result["grub_changed"] = new != text
        self.result["reboot_required"] = self.differs(before)
        if not self.result["grub_changed"]:
            return
        self.diff.append({"before_header": path, "before": text, "after_header": path, "after": new})
        if self.module.check_mode:
            return
        atomic_write(path, new)
        update = self.module.get_bin_path("update-grub")
        if update is None:
            self.module.warn(f"{path} now sets rootflags=; regenerate the boot loader configuration (no update-grub found)")
            return
        rc, msg = self.run([update])
        if rc != 0:
            self.fail(f"grub_defaults: {path} was written but update-grub failed: {msg}")


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path={"type": "path", "required": True},
            src={"type": "str"},
            state={"type": "str", "choices": ["mounted", "present"], "default": "mounted"},
            project={"type": "str", "choices": ["enforced", "accounting", "off"], "default": "enforced"},
            user={"type": "str", "choices": ["enforced", "accounting", "off"]},
            group={"type": "str", "choices": ["enforced", "accounting", "off"]},
            unmount={"type": "bool", "default": True},
            when_busy={"type": "str", "choices": ["fail", "reboot_required"], "default": "fail"},
            fstab={"type": "path", "default": "/etc/fstab"},
            grub_defaults={"type": "path", "default": "/etc/default/grub"},
        ),
        supports_check_mode=True,
    )
    try:
        XfsMount(module).main()
    except (XfsError, MountOptionError, OSError) as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
