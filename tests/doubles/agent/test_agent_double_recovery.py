"""The agent TEST DOUBLE recovers as Mesos 1.11.0's agent does (see the double's README): /health
answers from the start (Slave::initialize), /state answers 503 "Agent has not finished recovery"
(Http::state) until recovery ends, and a failed recovery exits the agent from Slave::__recover."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from ansible_collections.mesos.xfs_quota.tests.doubles.agent.test_agent_double_version import DOUBLE, free_port


def get(port, path):
    """(status, content type, body) of GET path, or None while nothing listens."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()
    except (urllib.error.URLError, ConnectionError):
        return None


@pytest.fixture(name="start")
def fixture_start(tmp_path):
    if not os.path.exists(DOUBLE):
        pytest.skip("make hook builds the double")
    agents = []

    def start(*flags):
        port = free_port()
        agent = subprocess.Popen([DOUBLE, f"--work_dir={tmp_path}", "--ip=127.0.0.1", f"--port={port}", *flags],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        agents.append(agent)
        deadline = time.monotonic() + 20
        while get(port, "/health") is None:
            assert agent.poll() is None and time.monotonic() < deadline, "the double did not start"
            time.sleep(0.05)
        return agent, port

    start.work_dir = tmp_path
    yield start
    for agent in agents:
        agent.kill()
        agent.wait()


def test_health_answers_while_state_waits_for_the_end_of_recovery(start):
    _agent, port = start("--double_recovery_secs=2")
    assert get(port, "/health")[0] == 200
    assert get(port, "/state") == (503, "text/plain; charset=utf-8", "Agent has not finished recovery")
    time.sleep(2.5)
    status, content_type, body = get(port, "/state")
    assert (status, content_type) == (200, "application/json")
    state = json.loads(body)
    assert state["version"] == "1.11.0" and state["flags"]["work_dir"] == str(start.work_dir)
    assert "double_recovery_secs" not in state["flags"]  # the double's own flags are not Mesos's
    assert state["pid"] == f"slave(1)@127.0.0.1:{port}"


def test_a_failed_recovery_exits_with_the_reason_once(start, tmp_path):
    failure = tmp_path / "fail-recovery"
    failure.write_text("Incompatible agent info detected. \n")
    agent, port = start("--double_recovery_secs=1", f"--double_fail_recovery_file={failure}")
    assert get(port, "/health")[0] == 200 and get(port, "/state")[0] == 503
    assert agent.wait(timeout=10) == 1
    lines = agent.stderr.read().splitlines()
    reason = [line for line in lines if "EXIT with status 1: " in line]
    assert len(reason) == 1 and reason[0].endswith("] EXIT with status 1: Failed to perform recovery: "
                                                   "Incompatible agent info detected. ")
    assert lines[-1] == "Finally, restart the agent."  # the reason is far above the last line
    assert not failure.exists()  # one failed recovery: the next start recovers
    _agent, port = start("--double_recovery_secs=0", f"--double_fail_recovery_file={failure}")
    deadline = time.monotonic() + 5
    while get(port, "/state")[0] != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_state_needs_the_read_only_credentials_before_it_says_recovering(start, tmp_path):
    credentials = tmp_path / "credentials.json"
    credentials.write_text(json.dumps({"credentials": [{"principal": "p", "secret": "s"}]}))
    _agent, port = start("--double_recovery_secs=30", "--authenticate_http_readonly",
                         f"--http_credentials={credentials}")
    assert get(port, "/state")[0] == 401
    assert get(port, "/flags")[0] == 401
    assert get(port, "/health")[0] == 200


RELEASES = json.load(open(os.path.join(os.path.dirname(__file__), "../../vectors/mesos_releases.json"),
                          encoding="utf-8"))["releases"]
SERVED = {"health", "flags", "state", "version"}  # the routes the double answers; others 404 (README)


@pytest.mark.parametrize("version", sorted(RELEASES))
def test_the_routes_are_the_releases(start, version):
    _agent, port = start(f"--double_mesos_version={version}", "--double_recovery_secs=0")
    deadline = time.monotonic() + 10  # recovery ends asynchronously even with 0 s: /state says 503 until then
    while get(port, "/state")[0] == 503:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    endpoints = RELEASES[version]["agent"]["endpoints"]
    for path, route in endpoints.items():
        assert get(port, path)[0] == (200 if route["handler"] in SERVED else 404), path
    assert get(port, "/state.json")[0] == (200 if "/state.json" in endpoints else 404)
