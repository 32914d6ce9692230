"""The agent TEST DOUBLE (not Mesos) serves its one HTTP port with TLS as libprocess (Mesos 1.11.0) does
when the environment says LIBPROCESS_SSL_ENABLED (tests/doubles/agent/README.md cites the source).
Whether it does follows tests/vectors/libprocess_ssl.json, the table the role's filter reads too."""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import json
import os
import ssl
import subprocess

import pytest

HERE = os.path.dirname(__file__)
DOUBLE = os.path.join(HERE, "../../../.build/hook/mesos-agent-double")
VECTORS = json.load(open(os.path.join(HERE, "../../vectors/libprocess_ssl.json"), encoding="utf-8"))["vectors"]
LIBPROCESS_CIPHERS = "AES128-SHA:AES256-SHA:RC4-SHA:DHE-RSA-AES128-SHA:DHE-DSS-AES128-SHA:DHE-RSA-AES256-SHA:DHE-DSS-AES256-SHA"


@pytest.fixture(scope="module", name="pki")
def fixture_pki(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("tls_ca", os.path.join(HERE, "tls_ca.py"))
    tls_ca = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tls_ca)
    directory = tmp_path_factory.mktemp("pki")
    tls_ca.write(directory)
    return directory


@pytest.fixture(autouse=True)
def _built():
    if not os.path.exists(DOUBLE):
        pytest.skip("make hook builds the double")


def tls_environment(pki, *entries):
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LIBPROCESS_SSL_CERT_FILE": str(pki / "agent.crt"),
            "LIBPROCESS_SSL_KEY_FILE": str(pki / "agent.key"), **dict(e.split("=", 1) for e in entries)}


@contextlib.contextmanager
def serving(work_dir, environment):
    """The double serving on a free port: (how it says it serves, port)."""
    with subprocess.Popen([DOUBLE, f"--work_dir={work_dir}", "--port=0"], env=environment, stderr=subprocess.PIPE,
                          text=True) as double:
        try:
            for line in double.stderr:
                if "serving " in line:
                    served, _on, address = line.split("serving ", 1)[1].rpartition(" on ")
                    yield served, int(address.rsplit(":", 1)[1])
                    break
            else:
                pytest.fail(f"the double exited with {double.wait()} without serving")
        finally:
            double.kill()


def get(port, path, context=None):
    connection = (http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10) if context
                  else http.client.HTTPConnection("127.0.0.1", port, timeout=10))
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def client(ca_file, ciphers=LIBPROCESS_CIPHERS):
    context = ssl.create_default_context(cafile=str(ca_file))
    if ciphers:
        context.set_ciphers(ciphers)
    return context


@pytest.mark.parametrize("vector", VECTORS, ids=[v["case"] for v in VECTORS])
def test_tls_is_on_when_libprocess_would_turn_it_on(tmp_path, pki, vector):
    environment = tls_environment(pki, *vector["environ"])
    if "error" in vector:
        run = subprocess.run([DOUBLE, f"--work_dir={tmp_path}", "--drive"], env=environment, input="",
                             capture_output=True, text=True, timeout=30, check=False)
        assert run.returncode != 0 and f"mesos-agent-double: {vector['error']}\n" in run.stderr
        return
    with serving(tmp_path, environment) as (served, _port):
        assert served == ("HTTPS" if vector["enabled"] else "HTTP")


def test_https_with_libprocess_ciphers_and_the_signing_ca_and_nothing_else(tmp_path, pki):
    with serving(tmp_path, tls_environment(pki, "LIBPROCESS_SSL_ENABLED=true")) as (_served, port):
        assert get(port, "/health", client(pki / "ca.crt")) == (200, b"")
        assert json.loads(get(port, "/flags", client(pki / "ca.crt"))[1])["flags"]["work_dir"] == str(tmp_path)
        # the LIBPROCESS_SSL_* settings are libprocess's, not agent flags: /flags does not show them
        assert "ssl_enabled" not in get(port, "/flags", client(pki / "ca.crt"))[1].decode()
        with pytest.raises(ssl.SSLCertVerificationError):
            get(port, "/health", client(pki / "other-ca.crt"))
        # libprocess's default ciphers (RSA key exchange, SHA-1 MACs) are none of Python's defaults
        with pytest.raises(ssl.SSLError, match="HANDSHAKE_FAILURE"):
            get(port, "/health", client(pki / "ca.crt", ciphers=None))
        with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
            get(port, "/health")  # plain HTTP: the handshake fails, the connection is dropped
        assert get(port, "/health", client(pki / "ca.crt")) == (200, b"")  # and it still serves


def test_support_downgrade_serves_plain_http_on_the_same_port(tmp_path, pki):
    environment = tls_environment(pki, "LIBPROCESS_SSL_ENABLED=1", "LIBPROCESS_SSL_SUPPORT_DOWNGRADE=true",
                                  "LIBPROCESS_SSL_CIPHERS=ECDHE-RSA-AES128-GCM-SHA256")
    with serving(tmp_path, environment) as (served, port):
        assert served.startswith("HTTPS (and HTTP")
        assert get(port, "/health") == (200, b"")
        assert get(port, "/health", client(pki / "ca.crt", ciphers=None)) == (200, b"")


@pytest.mark.parametrize("entries, message", [
    ([], "SSL requires key! NOTE: Set path with LIBPROCESS_SSL_KEY_FILE"),
    (["LIBPROCESS_SSL_KEY_FILE=/nonexistent.key"], "SSL requires certificate! NOTE: Set path with LIBPROCESS_SSL_CERT_FILE"),
])
def test_tls_without_key_or_certificate_exits_as_the_agent_does(tmp_path, entries, message):
    environment = {"LIBPROCESS_SSL_ENABLED": "true", **dict(e.split("=", 1) for e in entries)}
    run = subprocess.run([DOUBLE, f"--work_dir={tmp_path}", "--drive"], env=environment, input="",
                         capture_output=True, text=True, timeout=30, check=False)
    assert run.returncode != 0 and message in run.stderr
