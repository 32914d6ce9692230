"""Testinfra helpers shared by the scenarios: the HTTP API of the agent TEST DOUBLE (not Mesos),
called from inside the VM, and project ids read with lsattr."""

import importlib.util
import json
import os
import shlex
import sys

WORK_DIR = "/var/lib/mesos"
# libprocess's default LIBPROCESS_SSL_CIPHERS, which a client must offer to an agent serving TLS
LIBPROCESS_CIPHERS = "AES128-SHA:AES256-SHA:RC4-SHA:DHE-RSA-AES128-SHA:DHE-DSS-AES128-SHA:DHE-RSA-AES256-SHA:DHE-DSS-AES256-SHA"


def request(host, method, path, body=None, port=5051, auth=None, ca=None):
    """Call the agent double's HTTP API from inside the VM: (status, body text). With `ca` (a CA file
    in the VM) over TLS, checking the agent's certificate against it."""
    script = (
        "import base64, json, ssl, sys, urllib.error, urllib.request as u;"
        + (f"c = ssl.create_default_context(cafile={json.dumps(ca)}); c.set_ciphers('{LIBPROCESS_CIPHERS}');"
           if ca else "c = None;")
        + f"r = u.Request('{'https' if ca else 'http'}://127.0.0.1:{port}{path}', method='{method}',"
        f" data={json.dumps(json.dumps(body)) + '.encode()' if body is not None else 'None'},"
        " headers={'Content-Type': 'application/json'});"
        + (f"r.add_header('Authorization', 'Basic ' + base64.b64encode({json.dumps(':'.join(auth))}.encode()).decode());"
           if auth else "")
        + "\ntry:\n  resp = u.urlopen(r, timeout=30, context=c); print(resp.status); print(resp.read().decode())"
        "\nexcept urllib.error.HTTPError as e:\n  print(e.code); print(e.read().decode())"
    )
    out = host.run_expect([0], f"python3 -c {shlex.quote(script)}").stdout
    status, _newline, text = out.partition("\n")
    return int(status), text.strip()


def agent(host, method, path, body=None, port=5051, auth=None, ca=None):
    """Call the agent double's HTTP API from inside the VM; the JSON it answers."""
    status, text = request(host, method, path, body, port, auth, ca)
    assert status == 200, (status, text)
    return json.loads(text) if text else {}


def wait_until_serving(host, port=5051, seconds=60):
    """After a restart: until the agent answers /health (the unit is started before the process listens)."""
    script = (
        "import time, urllib.request as u\n"
        f"for _ in range({seconds * 2}):\n"
        "  try:\n"
        f"    u.urlopen('http://127.0.0.1:{port}/health', timeout=5); break\n"
        "  except OSError:\n"
        "    time.sleep(0.5)\n"
        "else:\n"
        "  raise SystemExit('no answer')"
    )
    host.run_expect([0], f"python3 -c {shlex.quote(script)}")


def modules_shown(flags):
    """/flags' modules (the Modules message's text, as Mesos shows it) read back into data."""
    # the collection's own reader (stdlib only, so loaded by its path: no collection tree needed here)
    spec = importlib.util.spec_from_file_location(
        "_mesos_agent_config", os.path.join(os.path.dirname(__file__), "../../../plugins/module_utils/_mesos_agent_config.py"))
    config = importlib.util.module_from_spec(spec)
    # dataclasses resolve its string annotations through sys.modules: the module must be there first
    sys.modules.setdefault(spec.name, config)
    spec.loader.exec_module(config)
    return config.modules_from_text(flags["modules"])


def launch(host, executor, disk_mb=10, port=5051, ca=None):
    """A Docker task with `disk_mb` of disk; returns its sandbox."""
    task = {"framework": "molecule", "executor": executor, "container": "run1", "containerizer": "docker",
            "disk_mb": disk_mb}
    result = agent(host, "POST", "/double/launch", task, port, ca=ca)
    assert result["ok"], result
    return result["sandbox"]


def project_of(host, path):
    return int(host.run_expect([0], f"lsattr -pd {shlex.quote(path)}").stdout.split()[0])


def assert_write_stops_at(host, sandbox, disk_mb):
    """Writing twice the task's disk fails with ENOSPC (XFS's answer to a project quota overrun)."""
    dd = host.run(f"dd if=/dev/zero of={shlex.quote(sandbox)}/big bs=1M count={2 * disk_mb}")
    assert dd.rc != 0
    assert "No space left on device" in dd.stderr
    assert host.file(f"{sandbox}/big").size <= disk_mb * 1024 * 1024


def assert_root_owned_not_group_or_world_writable(host, pattern):
    paths = host.run_expect([0], f"ls -1 {pattern}").stdout.split()
    assert paths, f"nothing matches {pattern}"
    for path in paths:
        f = host.file(path)
        assert f.user == "root" and f.group == "root"
        assert f.mode & 0o022 == 0, oct(f.mode)
