"""A Mesos agent host in a tmp directory, for the mesos_agent_* module_utils: systemd's answers, the
agent's HTTP answers and its journal come from a small model of the agent that reads the files the
way Mesos does (every file of --modules_dir is a manifest, ModuleManager::load; every file of
mesos-init-wrapper's directory is a flag, and an unknown flag stops the agent, stout flags.hpp), so a
stray file there makes it crash-loop as the real one does. The texts are those a real Mesos 1.11.0
agent gave (real_agent/1.11.0/README.md says how they were recorded)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_config import (
    environment_file, flags_from, unit_environment)
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_http import Response
from ansible_collections.mesos.xfs_quota.plugins.module_utils._mesos_agent_info import Host

FIXTURES = Path(__file__).parent / "real_agent" / "1.11.0"
# flags this model knows (Mesos has ~150; these are the ones the tests use)
KNOWN_FLAGS = {"work_dir", "ip", "port", "modules", "modules_dir", "hooks", "isolation", "seccomp_config_dir",
               "seccomp_profile_name", "authenticate_http_readonly", "http_credentials"}


class FakeAgentHost(Host):
    """Files live under ``root`` (absolute paths are given below it by the tests); commands are modelled."""

    def __init__(self, root: Path, service: str = "mesos-agent", style: str = "systemd_dropin",
                 argv_flags: list[str] | None = None, env_file: str = "", hook_refuses: str = ""):
        super().__init__(self._run)
        self.root = root
        self.service = service
        self.style = style
        self.unit = root / "etc/systemd/system" / f"{service}.service"
        self.dropins = root / "etc/systemd/system" / f"{service}.service.d"
        self.flags_dir = root / "etc/mesos-slave"
        self.env_file = env_file
        self.argv_flags = argv_flags or [f"--work_dir={root}/var/lib/mesos", "--ip=127.0.0.1", "--port=5051"]
        self.hook_refuses = hook_refuses  # a parameter value that makes the hook's create() fail
        self.running = False
        self.n_restarts = 0
        self.state = "inactive"
        self.journal: list[str] = []
        self.clock = 1000
        self.commands: list[list[str]] = []
        self.flags_shown: dict[str, str] = {}
        self.dropins.mkdir(parents=True, exist_ok=True)
        program = "/usr/bin/mesos-init-wrapper" if style == "flag_files" else "/usr/sbin/mesos-agent"
        self.unit.write_text("[Service]\nExecStart=" + program + " " + " ".join(
            self.argv_flags if style != "flag_files" else ["slave"]) + "\n")
        if style == "flag_files":
            self.flags_dir.mkdir(parents=True, exist_ok=True)
            for arg in self.argv_flags:
                name, _sep, value = arg[2:].partition("=")
                (self.flags_dir / name).write_text(value + "\n")

    # ---- systemd -------------------------------------------------------------------------------------
    def _show(self, props: list[str]) -> str:
        dropins = " ".join(str(p) for p in sorted(self.dropins.glob("*.conf")))
        program = "/usr/bin/mesos-init-wrapper" if self.style == "flag_files" else "/usr/sbin/mesos-agent"
        argv = [program] + (["slave"] if self.style == "flag_files" else self.argv_flags)
        values = {
            "Id": f"{self.service}.service", "LoadState": "loaded", "ActiveState": self.state,
            "SubState": {"active": "running", "inactive": "dead", "failed": "failed"}.get(self.state, self.state),
            "MainPID": "4242" if self.running else "0", "ExecStart": f"{{ path={program} ; argv[]={' '.join(argv)} ; ignore_errors=no }}",
            "Environment": "", "EnvironmentFiles": f"{self.env_file} (ignore_errors=yes)" if self.env_file else "",
            "DropInPaths": dropins, "FragmentPath": str(self.unit), "NRestarts": str(self.n_restarts),
            "ExecMainStatus": "0" if self.running else "1", "Result": "success"}
        return "".join(f"{p}={values.get(p, '')}\n" for p in props)

    def _run(self, argv: list[str]) -> tuple[int, str, str]:
        self.commands.append(argv)
        if argv[:2] == ["systemctl", "show"]:
            props = argv[2].split("=", 1)[1].split(",")
            if "--" in argv and len(argv) > argv.index("--") + 2:  # several candidates
                return 0, "\n".join(self._show(["Id", "LoadState"]) if u == self.service
                                    else f"Id={u}.service\nLoadState=not-found\n" for u in argv[argv.index("--") + 1:]), ""
            return 0, self._show(props), ""
        if argv[:2] in (["systemctl", "restart"], ["systemctl", "start"]):
            self.start()
            return 0, "", ""
        if argv[:2] in (["systemctl", "daemon-reload"], ["systemctl", "reset-failed"]):
            return 0, "", ""
        if argv[0] == "date":
            self.clock += 1
            return 0, f"{self.clock}\n", ""
        if argv == ["/proc/4242/exe", "--help"] and self.running:  # stout's usage(): every flag of the build
            return 0, "Usage: mesos-agent [options]\n\n" + "".join(f"  --{name}=VALUE\n" for name in sorted(KNOWN_FLAGS)), ""
        if argv[0] == "journalctl":
            return 0, "\n".join(self.journal) + "\n", ""
        return 1, "", f"not modelled: {argv}"

    def read(self, path: str, limit: int = 4 << 20) -> str | None:
        if path.startswith("/proc/4242/"):  # the running agent's process, as it was started
            argv, env = self.started_with
            return "\0".join(argv if path.endswith("cmdline") else env) + "\0"
        return super().read(path, limit)

    # ---- the agent -------------------------------------------------------------------------------------
    def configuration(self) -> tuple[list[str], list[str]]:
        env: list[str] = []
        for path in [self.unit] + sorted(self.dropins.glob("*.conf")):
            env += [f"{k}={v}" for k, v in unit_environment(path.read_text())]
        if self.env_file and os.path.exists(self.env_file):
            env += [f"{k}={v}" for k, v in environment_file(Path(self.env_file).read_text())]
        argv = ["mesos-agent"] + (self.argv_flags if self.style != "flag_files" else [])
        if self.style == "flag_files":
            argv += [f"--{p.name}={p.read_text().strip()}" for p in sorted(self.flags_dir.iterdir()) if p.is_file()]
        return argv, env

    def start(self) -> None:
        self.journal = []
        argv, env = self.configuration()
        for arg in argv[1:]:
            name = arg[2:].partition("=")[0]
            if name not in KNOWN_FLAGS:
                return self.exit(f"Failed to load unknown flag '{name}'")
        flags = flags_from(argv, env)
        self.started_with = (argv, env)
        if "modules" in flags and "modules_dir" in flags:
            return self.exit("Only one of --modules or --modules_dir should be specified")
        seen: dict[str, tuple[str, list]] = {}
        manifests = []
        if "modules_dir" in flags:
            for name in sorted(os.listdir(flags["modules_dir"])):
                manifests.append((os.path.join(flags["modules_dir"], name),
                                  json.loads(Path(flags["modules_dir"], name).read_text())))
        if "modules" in flags:
            path = flags["modules"].replace("file://", "")
            manifests.append((path, json.loads(Path(path).read_text())))
        for path, manifest in manifests:
            for library in manifest.get("libraries", []):
                for module in library.get("modules", []):
                    params = module.get("parameters", [])
                    if module["name"] in seen and seen[module["name"]] != (library.get("file"), params):
                        what = ("A module with same name but different parameters already exists"
                                if seen[module["name"]][0] == library.get("file")
                                else "The same module appears in two different module libraries")
                        return self.exit(f"Error loading modules from '{path}': Error verifying module "
                                         f"'{module['name']}': {what}")
                    seen[module["name"]] = (library.get("file"), params)
        for hook in [h for h in flags.get("hooks", "").split(",") if h]:
            if hook not in seen:
                return self.exit(f"Error installing hooks: No hook module named '{hook}' available")
            for param in seen[hook][1]:
                if self.hook_refuses and param["value"] == self.hook_refuses:
                    self.journal.append(f"E1207 04:20:11.201010  4242 xfs_quota_hook.cpp:244] {hook}: bad parameter "
                                        f"in modules.json: {param['key']}: cannot read '{param['value']}'")
                    return self.exit(f"Error installing hooks: Failed to instantiate hook module '{hook}': "
                                     f"Error creating Module instance for '{hook}'")
        modules_text = ""
        for path, manifest in manifests if "modules_dir" not in flags else []:
            for library in manifest.get("libraries", []):
                modules_text += f'libraries {{\n  file: "{library["file"]}"\n'
                for module in library.get("modules", []):
                    modules_text += f'  modules {{\n    name: "{module["name"]}"\n'
                    for param in module.get("parameters", []):
                        modules_text += (f'    parameters {{\n      key: "{param["key"]}"\n'
                                         f'      value: "{param["value"]}"\n    }}\n')
                    modules_text += "  }\n"
                modules_text += "}\n"
        # /flags shows every flag that has a value, a default too (src/slave/http.cpp Http::_flags)
        self.flags_shown = {"isolation": "posix/cpu,posix/mem", **flags}
        if "modules" in flags:
            self.flags_shown["modules"] = modules_text
        self.running, self.state = True, "active"
        return None

    def exit(self, message: str) -> None:
        self.journal.append(f"E1207 04:20:11.201234  4242 main.cpp:481] EXIT with status 1: {message}")
        self.running, self.state = False, "failed"
        self.n_restarts += 1  # Restart=always: systemd starts it again, and again


class FakeEndpoint:
    """The agent's HTTP endpoints, answered by the model."""

    url = "http://127.0.0.1:5051"

    def __init__(self, host: FakeAgentHost, recovering_tries: int = 0):
        self.host = host
        self.recovering_tries = recovering_tries
        self.asked: list[str] = []

    def get(self, path: str) -> Response:
        self.asked.append(path)
        if not self.host.running:
            return Response(0, "", "[Errno 111] Connection refused")
        if path == "/state" and self.recovering_tries > 0:
            self.recovering_tries -= 1
            return Response(503, (FIXTURES / "state_recovering.txt").read_text(), "HTTP 503 Service Unavailable")
        if path == "/flags":
            return Response(200, json.dumps({"flags": self.host.flags_shown}))
        if path == "/version":
            return Response(200, (FIXTURES / "version.json").read_text())
        return Response(200, "{}")

    def tls_hint(self) -> str:
        return "no TLS here"
