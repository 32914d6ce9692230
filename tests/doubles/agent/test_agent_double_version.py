"""The agent TEST DOUBLE serves GET /version as Mesos 1.11.0's agent does (src/version/version.hpp
internal::version(); see the double's README), with the version it plays."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

DOUBLE = os.path.join(os.path.dirname(__file__), "../../../.build/hook/mesos-agent-double")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_version(tmp_path, *flags):
    if not os.path.exists(DOUBLE):
        pytest.skip("make hook builds the double")
    port = free_port()
    agent = subprocess.Popen([DOUBLE, f"--work_dir={tmp_path}", "--ip=127.0.0.1", f"--port={port}", *flags],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/version", timeout=2) as response:
                    return json.load(response)
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or agent.poll() is not None:
                    raise
                time.sleep(0.1)
    finally:
        agent.kill()
        agent.wait()


def test_version_is_the_agents_mesos_version(tmp_path):
    version = get_version(tmp_path)
    assert version["version"] == "1.11.0"
    assert {"build_date", "build_time", "build_user"} <= version.keys()


def test_a_double_playing_another_version_says_so(tmp_path):
    assert get_version(tmp_path, "--double_mesos_version=1.10.0")["version"] == "1.10.0"
