# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Wait for a Mesos agent after a (re)start: until it has recovered (GET /state answers 200; it answers
503 "Agent has not finished recovery" until Slave::__recover ends, src/slave/http.cpp Http::state),
optionally until /flags shows what was asked; or, at once, until its unit shows that its process exited
(a crash loop: NRestarts rose, SubState auto-restart, ActiveState failed or inactive). Then the agent's
own reason from its journal: the hook's line (``mesos_xfs_quota_hook: ...``) first, stout's
``EXIT with status`` line next, never the protobuf dump of its flags."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Callable

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_http import Endpoint, agent_flags
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_info import Host, systemctl_show

HOOK_LOG_PREFIX = "mesos_xfs_quota_hook: "
_EXIT = re.compile(r"EXIT with status [1-9][0-9]*: .*")
# lines that quote the agent's whole configuration: long, and never the reason
_DUMP = re.compile(r"Flags at startup:|^\s*(libraries|modules|parameters)\s*\{|^\s*(key|value|file|name):\s*\"")
_GLOG_INFO = re.compile(r"I\d{4} ")
_STATE_PROPS = ("ActiveState", "SubState", "NRestarts", "MainPID", "ExecMainStatus", "Result")


@dataclass
class WaitResult:
    ok: bool
    reason: str = ""
    tries: int = 0
    seconds: float = 0.0
    exits: int = 0
    flags: dict[str, str] = field(default_factory=dict)
    state_status: int = 0
    tls_error: bool = False


def host_clock(host: Host) -> str:
    """The host's clock in seconds, for ``journalctl --since @...``."""
    rc, out, _err = host.run(["date", "+%s"])
    return out.strip() if rc == 0 else ""


def agent_reason(host: Host, service: str, since: str, lines: int = 8, hook_prefix: str = HOOK_LOG_PREFIX) -> str:
    """Why the agent did not come up, from its journal since ``since``: the hook's own line, stout's EXIT
    line, then its last lines (without dumps of its configuration)."""
    argv = ["journalctl", "--unit", service, "--lines", "2000", "--no-pager", "--output", "cat"]
    if since:
        argv += ["--since", f"@{since}"]
    rc, out, _err = host.run(argv)
    if rc != 0:
        return ""
    return reason_from_journal(out.splitlines(), lines, hook_prefix)


def _sentence(text: str) -> str:
    return text.strip().rstrip(".").strip()


def reason_from_journal(journal: list[str], lines: int = 8, hook_prefix: str = HOOK_LOG_PREFIX) -> str:
    parts = []
    # the hook's errors and warnings (glog's E and W lines); its information lines are not a reason
    hook = [line[line.index(hook_prefix):] for line in journal
            if hook_prefix in line and not _GLOG_INFO.match(line.lstrip())]
    if hook:
        parts.append(f"The hook said: {_sentence(hook[-1])}")
    exits = [m.group(0) for m in (_EXIT.search(line) for line in journal) if m]
    if exits:
        parts.append(f"It exited: {_sentence(exits[-1])}")
    tail = [line.strip()[:300] for line in journal if line.strip() and not _DUMP.search(line)][-lines:]
    if tail:
        parts.append("Its last log lines: " + " | ".join(_sentence(t) for t in tail))
    return ". ".join(parts)


def unit_state(host: Host, service: str) -> dict[str, str]:
    return systemctl_show(host, service, _STATE_PROPS)


def exited_since(first: dict[str, str], now: dict[str, str]) -> int:
    """How often the agent's process exited since ``first`` (at least): systemd's own restarts (NRestarts
    rose), plus one when the unit waits to start it again or has given up."""
    try:
        restarts = int(now.get("NRestarts", "0") or 0) - int(first.get("NRestarts", "0") or 0)
    except ValueError:
        restarts = 0
    down = now.get("ActiveState") in ("failed", "inactive") or now.get("SubState") == "auto-restart"
    return max(restarts, 0) + (1 if down else 0)


def wait_for_agent(host: Host, service: str, endpoint: Endpoint, timeout: float = 120.0, delay: float = 2.0,
                   expect: Callable[[dict[str, str]], str] | None = None,
                   sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> WaitResult:
    """Ask until the agent has recovered and (``expect``) its /flags show what was asked (``expect``
    returns "" then, else what differs), or its unit shows it exited, or ``timeout`` s passed."""
    started = clock()
    first: dict[str, str] | None = None
    tries = 0
    last = WaitResult(ok=False, reason="no answer yet")
    while True:
        tries += 1
        state = unit_state(host, service)
        if first is None:
            first = state
        exits = exited_since(first, state)
        if exits:
            # systemd resets ExecMainStatus to 0 when the next start begins (an ExecStartPre runs):
            # only a non-zero status is the exit's own
            code = state.get("ExecMainStatus", "0")
            status = f" (status {code})" if state.get("MainPID", "0") == "0" and code not in ("", "0") else ""
            return WaitResult(ok=False, tries=tries, seconds=clock() - started, exits=exits,
                              reason=f"the agent exited{status} at least {exits} time{'s' if exits != 1 else ''} "
                                     f"(seen at try {tries}, after {clock() - started:.0f} s)")
        answer = endpoint.get("/state")
        if answer.tls_error:
            return WaitResult(ok=False, tries=tries, seconds=clock() - started, tls_error=True,
                              reason=f"{endpoint.url}/state does not answer over TLS: {answer.error}; {endpoint.tls_hint()}")
        if answer.status == 401:
            return WaitResult(ok=False, tries=tries, seconds=clock() - started, state_status=401,
                              reason=f"{endpoint.url}/state asks for credentials (the agent runs with "
                                     "--authenticate_http_readonly): set agent_http_user and agent_http_password")
        if answer.status == 200:
            flags: dict[str, str] = {}
            problem = ""
            if expect is not None:
                read, shown = agent_flags(endpoint)
                flags = read or {}
                problem = expect(flags) if flags else f"its /flags did not answer ({shown.error or shown.status})"
            if not problem:
                return WaitResult(ok=True, tries=tries, seconds=clock() - started, flags=flags, state_status=200)
            # a recovered agent's flags do not change any more
            return WaitResult(ok=False, tries=tries, seconds=clock() - started, flags=flags, state_status=200,
                              reason=f"it runs, but its /flags show {problem}")
        elif answer.status == 503:
            last = WaitResult(ok=False, tries=tries, seconds=clock() - started, state_status=503,
                              reason=f"it had not finished recovery after {clock() - started:.0f} s "
                                     "(raise agent_wait_timeout if its recovery takes longer)")
        else:
            last = WaitResult(ok=False, tries=tries, seconds=clock() - started, state_status=answer.status,
                              reason=f"{endpoint.url}/state: {answer.error or answer.status}")
        if clock() - started + delay > timeout:
            last.tries = tries
            return last
        sleep(delay)
