"""TEST DOUBLE of the Mesos master's v1 operator API (not Mesos): GET_AGENTS, DRAIN_AGENT and
REACTIVATE_AGENT as Mesos 1.11.0 answers them (see README.md for the source of each behaviour),
plus a test API (/double/...) that starts tasks on the agent test doubles.

    python3 mesos_master_double.py --config /etc/mesos-master-double.json

The config: {"port": 5050, "leader": "//host:port" | null (this master leads) | "" (no leader),
"drain_delay_secs": 2, "agents": [{"id", "hostname", "port", "url", "version", "capabilities"}]}.
Each agent is the URL of an agent TEST DOUBLE; a task is a `sleep` whose cwd is its sandbox (the
executor's stand-in, which keeps the work_dir busy as a real executor does).
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


class Agent:
    def __init__(self, spec: dict) -> None:
        self.spec = spec
        self.deactivated = False
        self.drain_info: dict | None = None
        self.gone = False
        self.tasks: list[dict] = []  # {"framework", "executor", "sandbox", "process"}

    def connected(self) -> bool:
        try:
            with urllib.request.urlopen(self.spec["url"] + "/health", timeout=2) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def model(self) -> dict:
        """One entry of GET_AGENTS (createAgentResponse)."""
        info = {"id": {"value": self.spec["id"]}, "hostname": self.spec["hostname"], "port": self.spec["port"]}
        entry = {"agent_info": info, "active": not self.deactivated and self.connected(),
                 "deactivated": self.deactivated, "version": self.spec.get("version", "1.11.0"),
                 "pid": f"slave(1)@127.0.0.1:{self.spec['port']}",
                 "capabilities": [{"type": c} for c in self.spec.get("capabilities", ["AGENT_DRAINING"])]}
        if self.drain_info is not None:
            entry["drain_info"] = self.drain_info
        return entry

    def call_agent(self, op: str, body: dict) -> dict:
        request = urllib.request.Request(self.spec["url"] + "/double/" + op, data=json.dumps(body).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as resp:
            return json.loads(resp.read().decode() or "{}")


class Master:
    def __init__(self, config: dict) -> None:
        self.config = config
        self.agents = {spec["id"]: Agent(spec) for spec in config["agents"]}
        self.drain_delay = float(config.get("drain_delay_secs", 2))

    def registered(self, agent_id: str) -> Agent | None:
        agent = self.agents.get(agent_id)
        return None if agent is None or agent.gone else agent

    # --- operator calls ----------------------------------------------------------------------------
    def get_agents(self, _call: dict) -> tuple[int, dict | str]:
        with LOCK:
            agents = [a.model() for a in self.agents.values() if not a.gone]
        return 200, {"type": "GET_AGENTS", "get_agents": {"agents": agents, "recovered_agents": []}}

    def drain_agent(self, call: dict) -> tuple[int, dict | str]:
        body = call.get("drain_agent")
        if body is None:
            return 400, "Failed to validate master::Call: Expecting 'drain_agent' to be present"
        agent_id = body.get("agent_id", {}).get("value", "")
        with LOCK:
            agent = self.registered(agent_id)
            if agent is None:
                return 400, "Unknown agent"
            if "AGENT_DRAINING" not in agent.spec.get("capabilities", ["AGENT_DRAINING"]):
                return 400, f"Agent {agent_id} is not capable of draining"
            config = {"mark_gone": bool(body.get("mark_gone", False))}
            if "max_grace_period" in body:
                config["max_grace_period"] = body["max_grace_period"]
            agent.drain_info = {"state": "DRAINING", "config": config}
            agent.deactivated = True
        threading.Thread(target=self.drain, args=(agent,), daemon=True).start()
        return 200, ""

    def drain(self, agent: Agent) -> None:
        """The agent kills every task (Slave::drain); the master marks it DRAINED once it has none
        (Master::checkAndTransitionDrainingAgent). An agent that is down keeps its tasks."""
        time.sleep(self.drain_delay)
        while True:
            with LOCK:
                if agent.drain_info is None or agent.drain_info["state"] != "DRAINING":
                    return
                grace = float(agent.drain_info["config"].get("max_grace_period", {}).get("seconds", 5))
                for task in list(agent.tasks):
                    try:
                        agent.call_agent("remove_executor", {"framework": task["framework"],
                                                             "executor": task["executor"]})
                    except (urllib.error.URLError, OSError):
                        continue  # not connected: the kill waits for the agent
                    stop(task["process"], grace)
                    agent.tasks.remove(task)
                if not agent.tasks:
                    if agent.drain_info["config"]["mark_gone"]:
                        agent.gone = True
                    else:
                        agent.drain_info["state"] = "DRAINED"
                    return
            time.sleep(0.5)

    def reactivate_agent(self, call: dict) -> tuple[int, dict | str]:
        body = call.get("reactivate_agent")
        if body is None:
            return 400, "Failed to validate master::Call: Expecting 'reactivate_agent' to be present"
        with LOCK:
            agent = self.agents.get(body.get("agent_id", {}).get("value", ""))
            if agent is None or not agent.deactivated:
                return 400, "Agent is not deactivated"
            if agent.drain_info is not None and agent.drain_info["state"] == "DRAINING":
                return 400, "Agent is still in the DRAINING state"
            if agent.gone:
                return 409, "Agent removed while processing the call"
            agent.drain_info = None
            agent.deactivated = False
        return 200, ""

    # --- the double's own test API -----------------------------------------------------------------
    def launch(self, request: dict) -> tuple[int, dict | str]:
        with LOCK:
            agent = self.registered(request["agent_id"])
            if agent is None or agent.deactivated:
                return 409, {"ok": False, "error": "agent unknown or deactivated: no offers for it"}
            task = {"framework": request.get("framework", "molecule"), "executor": request["executor"],
                    "container": request.get("container", "run1"), "containerizer": "docker",
                    "disk_mb": request.get("disk_mb", 10)}
            launched = agent.call_agent("launch", task)
            if not launched.get("ok"):
                return 500, launched
            process = subprocess.Popen(["sleep", "infinity"], cwd=launched["sandbox"], start_new_session=True)
            agent.tasks.append({"framework": task["framework"], "executor": task["executor"],
                                "sandbox": launched["sandbox"], "process": process})
            return 200, {"ok": True, "sandbox": launched["sandbox"], "pid": process.pid}

    def tasks(self, _request: dict) -> tuple[int, dict | str]:
        with LOCK:
            return 200, {agent_id: [{"executor": t["executor"], "sandbox": t["sandbox"], "pid": t["process"].pid}
                                    for t in agent.tasks] for agent_id, agent in self.agents.items()}


def stop(process: subprocess.Popen, grace: float) -> None:
    """SIGTERM, then SIGKILL after the grace period (the executor's kill policy)."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


CALLS = {"GET_AGENTS": Master.get_agents, "DRAIN_AGENT": Master.drain_agent,
         "REACTIVATE_AGENT": Master.reactivate_agent}
TEST_API = {"/double/launch": Master.launch, "/double/tasks": Master.tasks}


def handler_for(master: Master) -> type:
    class Handler(BaseHTTPRequestHandler):
        def answer(self, status: int, body: dict | str, headers: dict | None = None) -> None:
            data = (json.dumps(body) if isinstance(body, dict) else body).encode()
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if isinstance(body, dict):
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path == "/api/v1":
                self.api()
            elif self.path == "/health":
                self.answer(200, "")
            else:
                self.answer(404, "")

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            text = self.rfile.read(length).decode() if length else ""
            if self.path == "/api/v1":
                self.api(text)
            elif self.path in TEST_API:
                self.answer(*TEST_API[self.path](master, json.loads(text or "{}")))
            else:
                self.answer(404, "")

        def api(self, text: str | None = None) -> None:
            """Master::Http::api: leader first, then method, content type, parse, validate."""
            leader = master.config.get("leader")
            if leader is not None:
                if not leader:
                    self.answer(503, "No leader elected")
                else:
                    self.answer(307, "", {"Location": leader + self.path})
                return
            if text is None:
                self.answer(405, "", {"Allow": "POST"})
                return
            content_type = self.headers.get("Content-Type")
            if content_type is None:
                self.answer(400, "Expecting 'Content-Type' to be present")
                return
            if content_type != "application/json":
                self.answer(415, "Expecting 'Content-Type' of application/json or application/x-protobuf")
                return
            try:
                call = json.loads(text)
            except ValueError as error:
                self.answer(400, f"Failed to parse body into JSON: {error}")
                return
            if not isinstance(call, dict) or call.get("type") not in CALLS:
                self.answer(501, "")  # the double implements only these calls
                return
            self.answer(*CALLS[call["type"]](master, call))

        def log_message(self, fmt: str, *args) -> None:
            sys.stderr.write("mesos-master-double: " + fmt % args + "\n")

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    args = parser.parse_args()
    with open(args.config, encoding="utf-8") as f:
        config = json.load(f)
    master = Master(config)
    server = ThreadingHTTPServer(("127.0.0.1", int(config.get("port", 5050))), handler_for(master))
    print(f"mesos-master-double: listening on {server.server_address}, pid {os.getpid()}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
