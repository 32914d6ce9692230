# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The options every mesos_agent_* module shares (doc fragment mesos.xfs_quota.mesos_agent), and how
they become the agent's description and its endpoint."""

from __future__ import annotations

from typing import Any

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_http import Endpoint
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_info import (
    AGENT_UNITS, AgentInfo, Host, endpoint_for, find_service, read_agent)

AGENT_ARGS: dict[str, dict[str, Any]] = {
    "service": {"type": "str", "default": ""},
    "service_candidates": {"type": "list", "elements": "str", "default": list(AGENT_UNITS)},
    "flags_style": {"type": "str", "default": "", "choices": ["", "systemd_dropin", "flag_files"]},
    "flags_dir": {"type": "path", "default": ""},
    "modules_file": {"type": "path", "default": ""},
    "http_url": {"type": "str", "default": ""},
    "http_scheme": {"type": "str", "default": "", "choices": ["", "http", "https"]},
    "http_user": {"type": "str", "default": ""},
    "http_password": {"type": "str", "default": "", "no_log": True},
    "http_validate_certs": {"type": "bool", "default": True},
    "http_ca_path": {"type": "path", "default": ""},
    "http_timeout": {"type": "float", "default": 10.0},
}


def agent_of(host: Host, params: dict[str, Any]) -> tuple[AgentInfo, Endpoint]:
    service = params["service"] or find_service(host, params["service_candidates"])
    info = read_agent(host, service, flags_style=params["flags_style"], flags_dir=params["flags_dir"] or "",
                      modules_file=params["modules_file"] or "", url=params["http_url"], scheme=params["http_scheme"])
    endpoint = endpoint_for(info, user=params["http_user"], password=params["http_password"],
                            validate_certs=params["http_validate_certs"], ca_path=params["http_ca_path"] or "",
                            timeout=params["http_timeout"])
    return info, endpoint
