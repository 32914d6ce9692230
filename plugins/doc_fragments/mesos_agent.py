# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  service:
    description:
      - The agent's systemd service. Empty or not given, the first of O(service_candidates) that
        systemd has a unit for.
    type: str
    default: ""
  service_candidates:
    description: Units to look for when O(service) is empty, in order.
    type: list
    elements: str
    default: [mesos-agent, mesos-slave]
  flags_style:
    description:
      - How the agent gets its flags. V(systemd_dropin) (C(MESOS_<FLAG>) in a drop-in of the unit),
        V(flag_files) (one file per flag in O(flags_dir), which C(mesos-init-wrapper) turns into
        C(--<flag>=<content>)). Empty, V(flag_files) when the unit starts C(mesos-init-wrapper),
        else V(systemd_dropin).
    type: str
    default: ""
    choices: ["", systemd_dropin, flag_files]
  flags_dir:
    description: The flag files' directory. Empty, C(/etc/mesos-slave) (C(/etc/mesos-agent) for a C(mesos-agent) wrapper).
    type: path
    default: ""
  modules_file:
    description: The modules manifest the agent loads with C(--modules). Empty, the file of its own
      C(--modules), else C(/etc/mesos-agent/modules.json).
    type: path
    default: ""
  http_url:
    description:
      - The agent's HTTP endpoint as reached from the agent host. Empty, O(http_scheme), the agent's
        C(--ip) (C(127.0.0.1) when it listens on every address) and C(--port).
    type: str
    default: ""
  http_scheme:
    description: V(http) or V(https). Empty, V(https) when the agent's environment turns libprocess's
      TLS on (C(LIBPROCESS_SSL_ENABLED), or the deprecated C(SSL_ENABLED)).
    type: str
    default: ""
    choices: ["", http, https]
  http_user:
    description: Principal for the agent's read-only endpoints (C(--authenticate_http_readonly)).
    type: str
    default: ""
  http_password:
    description: Its secret.
    type: str
    default: ""
  http_validate_certs:
    description: Check the agent's certificate.
    type: bool
    default: true
  http_ca_path:
    description: CA file on the agent host to check the agent's certificate against. Empty, the
      agent's own C(LIBPROCESS_SSL_CA_FILE), else the system's CAs.
    type: path
    default: ""
  http_timeout:
    description: Seconds each request to the agent may take.
    type: float
    default: 10
"""
