"""The master TEST DOUBLE (tests/doubles/master/) answers as its README says Mesos 1.11.0 does, against
a stand-in agent double on this host (no VM needed)."""

import http.client
import importlib.util
import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "mesos_master_double", os.path.join(os.path.dirname(__file__), "mesos_master_double.py"))
double = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(double)


class FakeAgent(BaseHTTPRequestHandler):
    """The agent double's /health and test API, recording the calls."""
    calls: list = []
    sandbox = ""

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode())
        FakeAgent.calls.append((self.path, body))
        data = json.dumps({"ok": True, "sandbox": FakeAgent.sandbox}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@pytest.fixture(name="cluster")
def fixture_cluster(tmp_path):
    FakeAgent.calls, FakeAgent.sandbox = [], str(tmp_path)
    agent = serve(FakeAgent)
    url = f"http://127.0.0.1:{agent.server_address[1]}"
    master = double.Master({"drain_delay_secs": 0.2, "agents": [
        {"id": "A-S0", "hostname": "a", "port": agent.server_address[1], "url": url},
        {"id": "OLD-S1", "hostname": "old", "port": 1, "url": "http://127.0.0.1:1", "capabilities": []}]})
    leader = serve(double.handler_for(master))
    leader_at = f"127.0.0.1:{leader.server_address[1]}"
    follower = serve(double.handler_for(double.Master({"leader": "//" + leader_at, "agents": []})))
    nobody = serve(double.handler_for(double.Master({"leader": "", "agents": []})))
    yield {"master": f"http://{leader_at}", "follower": f"http://127.0.0.1:{follower.server_address[1]}",
           "nobody": f"http://127.0.0.1:{nobody.server_address[1]}", "state": master}
    for server in (agent, leader, follower, nobody):
        server.shutdown()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def post(base, body, path="/api/v1", content_type="application/json"):
    if content_type is None:  # urllib would add a form content type
        connection = http.client.HTTPConnection(base.split("//")[1], timeout=10)
        connection.request("POST", path, body=json.dumps(body))
        resp = connection.getresponse()
        return resp.status, resp.read().decode(), dict(resp.headers)
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST")
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as resp:
            return resp.status, resp.read().decode(), dict(resp.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def agents(base):
    status, text, _headers = post(base, {"type": "GET_AGENTS"})
    assert status == 200
    return {a["agent_info"]["hostname"]: a for a in json.loads(text)["get_agents"]["agents"]}


def drain(agent_id, **extra):
    return {"type": "DRAIN_AGENT", "drain_agent": {"agent_id": {"value": agent_id}, **extra}}


def reactivate(agent_id):
    return {"type": "REACTIVATE_AGENT", "reactivate_agent": {"agent_id": {"value": agent_id}}}


def test_a_master_that_does_not_lead_redirects_to_the_leader_and_without_one_says_so(cluster):
    status, _text, headers = post(cluster["follower"], {"type": "GET_AGENTS"})
    assert status == 307 and headers["Location"] == "//" + cluster["master"].split("//")[1] + "/api/v1"
    assert post(cluster["nobody"], {"type": "GET_AGENTS"})[:2] == (503, "No leader elected")


def test_requests_the_api_refuses(cluster):
    assert post(cluster["master"], {"type": "GET_AGENTS"}, content_type=None)[:2] == (
        400, "Expecting 'Content-Type' to be present")
    assert post(cluster["master"], {"type": "GET_AGENTS"}, content_type="text/plain")[0] == 415
    assert post(cluster["master"], {"type": "DRAIN_AGENT"})[:2] == (
        400, "Failed to validate master::Call: Expecting 'drain_agent' to be present")
    assert post(cluster["master"], drain("NOPE"))[:2] == (400, "Unknown agent")
    assert post(cluster["master"], drain("OLD-S1"))[:2] == (400, "Agent OLD-S1 is not capable of draining")
    assert post(cluster["master"], reactivate("A-S0"))[:2] == (400, "Agent is not deactivated")


def test_a_drain_kills_the_tasks_and_then_the_agent_is_drained_until_reactivated(cluster):
    status, text, _headers = post(cluster["master"], {"agent_id": "A-S0", "executor": "e1"}, path="/double/launch")
    assert status == 200
    pid = json.loads(text)["pid"]
    assert os.readlink(f"/proc/{pid}/cwd") == FakeAgent.sandbox  # the executor's stand-in keeps it busy

    assert post(cluster["master"], drain("A-S0", max_grace_period={"seconds": 1}))[:2] == (200, "")
    view = agents(cluster["master"])["a"]
    assert view["deactivated"] and not view["active"]
    assert view["drain_info"] == {"state": "DRAINING", "config": {"mark_gone": False, "max_grace_period": {"seconds": 1}}}
    assert post(cluster["master"], reactivate("A-S0"))[:2] == (400, "Agent is still in the DRAINING state")
    assert post(cluster["master"], {"agent_id": "A-S0", "executor": "e2"}, path="/double/launch")[0] == 409

    deadline = time.monotonic() + 10
    while agents(cluster["master"])["a"]["drain_info"]["state"] != "DRAINED":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat", encoding="ascii").read().split()[2] == "Z"
    assert ("/double/remove_executor", {"framework": "molecule", "executor": "e1"}) in FakeAgent.calls

    assert post(cluster["master"], reactivate("A-S0"))[:2] == (200, "")
    view = agents(cluster["master"])["a"]
    assert view["active"] and not view["deactivated"] and "drain_info" not in view


def test_a_drain_with_mark_gone_removes_the_agent(cluster):
    assert post(cluster["master"], drain("A-S0", mark_gone=True))[0] == 200
    deadline = time.monotonic() + 10
    while "a" in agents(cluster["master"]):
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_the_stand_in_executor_gets_sigterm_then_sigkill_after_the_grace_period():
    process = subprocess.Popen(["sh", "-c", "trap '' TERM; sleep 30"])
    time.sleep(0.2)
    started = time.monotonic()
    double.stop(process, 0.5)
    assert process.returncode == -9 and time.monotonic() - started < 5
