# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  projid_file:
    description:
      - The file that maps project names to ids (C(name:id) lines).
      - Lines and comments this module does not own are kept byte for byte (line endings and bytes
        that are not UTF-8 included).
    type: path
    default: /etc/projid
  projects_file:
    description:
      - The file that maps project ids to directory trees (C(id:path) lines).
      - Edits of both files hold an exclusive C(flock) on O(projects_file) with C(.lock)
        appended and are written atomically (temporary file and rename; mode, owner and SELinux
        context kept).
      - Either file may be a symbolic link; the link is followed and its target is rewritten
        atomically, so the link stays a link. O(projid_file) and O(projects_file) naming the same
        file (directly or through links) is an error.
    type: path
    default: /etc/projects
"""

    LIMITS = r"""
options:
  bsoft:
    description:
      - Block soft limit. Bytes, or a number with C(k), C(m), C(g), C(t), C(p) (binary units, so
        C(1k) is 1024 bytes; C(GiB) and C(GB) are read alike; ASCII digits, at most 9 after the point).
        Nothing else is accepted (no C(e), no exponent).
      - V(0) means no limit, and only V(0) does; a non-zero size below one byte (V(0.1)) is an error.
      - XFS applies block limits in whole file-system blocks, so the limit is rounded up to one.
      - Not given means left as it is.
    type: str
  bhard:
    description:
      - Block hard limit; a write past it fails with C(ENOSPC). Same format as O(bsoft).
    type: str
  isoft:
    description:
      - Inode soft limit, a whole count (C(k), C(m) suffixes allowed, so V(1.5k) is 1536, but V(0.5)
        is an error). V(0) means no limit.
    type: str
  ihard:
    description:
      - Inode hard limit, a count. V(0) means no limit.
    type: str
  rtbsoft:
    description:
      - Realtime block soft limit. Same format as O(bsoft).
    type: str
  rtbhard:
    description:
      - Realtime block hard limit. Same format as O(bsoft).
    type: str
"""

    ATTRIBUTES = r"""
attributes:
  check_mode:
    support: full
    description: Reports what would change and changes nothing.
  diff_mode:
    support: full
    description: Shows the changed lines and limits.
  platform:
    support: full
    platforms: posix
    description: Linux with XFS; runs as root.
"""
