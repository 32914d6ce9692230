# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ask a Mesos agent's HTTP endpoints as the agent serves them: HTTPS when libprocess's TLS is on (its
LIBPROCESS_SSL_* environment), offering the agent's own ciphers (libprocess's default list shares none
with Python's default client context), with the CA the operator names (else the agent's
LIBPROCESS_SSL_CA_FILE, else the system's), the agent's own certificate as a client certificate when it
requires one, basic authentication, and a timeout on every request."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Response:
    status: int  # 0: no HTTP answer (see error)
    body: str
    error: str = ""
    tls_error: bool = False

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Endpoint:
    url: str
    user: str = ""
    password: str = ""
    validate_certs: bool = True
    ca_path: str = ""
    ciphers: str = ""
    client_cert: str = ""
    client_key: str = ""
    timeout: float = 10.0

    def _context(self) -> ssl.SSLContext | None:
        if not self.url.startswith("https://"):
            return None
        context = ssl.create_default_context(cafile=self.ca_path or None)
        if not self.validate_certs:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.ciphers:
            try:
                context.set_ciphers(self.ciphers)
            except ssl.SSLError:
                pass  # none of the agent's ciphers is known here: the handshake says so
        if self.client_cert and self.client_key:
            context.load_cert_chain(self.client_cert, self.client_key)
        return context

    def get(self, path: str) -> Response:
        request = urllib.request.Request(self.url.rstrip("/") + path)
        if self.user:
            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            context = self._context()
        except (OSError, ssl.SSLError) as exc:
            return Response(0, "", f"cannot set up TLS: {exc}", tls_error=True)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=context) as answer:  # nosec B310
                return Response(answer.status, answer.read(16 << 20).decode("utf-8", "replace"))
        except urllib.error.HTTPError as exc:
            return Response(exc.code, exc.read(65536).decode("utf-8", "replace"), f"HTTP {exc.code} {exc.reason}")
        except urllib.error.URLError as exc:
            reason = exc.reason
            tls = isinstance(reason, ssl.SSLError) or "CERTIFICATE" in str(reason) or "SSL" in str(reason)
            return Response(0, "", str(reason), tls_error=tls)
        except (socket.timeout, TimeoutError):
            return Response(0, "", f"no answer within {self.timeout:g} s")
        except (OSError, ssl.SSLError) as exc:
            return Response(0, "", str(exc), tls_error=isinstance(exc, ssl.SSLError))

    def tls_hint(self) -> str:
        if not self.validate_certs:
            return ("validate_certs is false, so the certificate is not the reason: check the URL, the scheme and "
                    "the agent's LIBPROCESS_SSL_CIPHERS")
        return ("the agent's certificate (LIBPROCESS_SSL_CERT_FILE) must validate against "
                + (f"agent_http_ca_path={self.ca_path}" if self.ca_path
                   else "the system's CAs (agent_http_ca_path is empty)")
                + " and name the URL's host: set agent_http_ca_path to the CA file on the agent host that signed it, "
                  "or agent_http_validate_certs=false to skip the check")
