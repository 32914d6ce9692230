# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The per-distribution filter (_os_packages) chooses by the host's facts.
    HOST_FACTS = r"""
options:
  facts:
    description: The host's C(ansible_facts) (C(os_family), C(distribution_major_version)).
    type: dict
    required: true
"""
