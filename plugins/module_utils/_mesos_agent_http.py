# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ask a Mesos agent's HTTP endpoints as the agent serves them: HTTPS when libprocess's TLS is on (its
LIBPROCESS_SSL_* environment), offering the agent's own ciphers (libprocess's default list shares none
with Python's default client context), with the CA the operator names (else the agent's
LIBPROCESS_SSL_CA_FILE, else the system's), the agent's own certificate as a client certificate when it
requires one, basic authentication, and a timeout on every request."""

from __future__ import annotations

import json
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.error import HTTPError, URLError

from ansible.module_utils.urls import SSLValidationError, open_url


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

    def get(self, path: str) -> Response:
        """GET ``path``: its status and body, or status 0 and why there was no answer."""
        try:
            answer = open_url(
                self.url.rstrip("/") + path, method="GET", timeout=self.timeout, validate_certs=self.validate_certs,
                url_username=self.user or None, url_password=self.password or None, force_basic_auth=bool(self.user),
                ca_path=self.ca_path or None, ciphers=self.ciphers.split(":") if self.ciphers else None,
                client_cert=self.client_cert or None, client_key=self.client_key or None,
                use_proxy=False, use_netrc=False, follow_redirects="none")
            with answer:
                return Response(answer.status, answer.read(16 << 20).decode("utf-8", "replace"))
        except HTTPError as exc:
            return Response(exc.code, exc.read(65536).decode("utf-8", "replace"), f"HTTP {exc.code} {exc.reason}")
        except SSLValidationError as exc:
            return Response(0, "", str(exc), tls_error=True)
        except URLError as exc:
            reason = exc.reason
            tls = isinstance(reason, ssl.SSLError) or "CERTIFICATE" in str(reason) or "SSL" in str(reason)
            return Response(0, "", str(reason), tls_error=tls)
        except (socket.timeout, TimeoutError):
            return Response(0, "", f"no answer within {self.timeout:g} s")
        except ssl.SSLError as exc:
            return Response(0, "", str(exc), tls_error=True)
        except OSError as exc:
            return Response(0, "", str(exc))

    def tls_hint(self) -> str:
        if not self.validate_certs:
            return ("validate_certs is false, so the certificate is not the reason: check the URL, the scheme and "
                    "the agent's LIBPROCESS_SSL_CIPHERS")
        return ("the agent's certificate (LIBPROCESS_SSL_CERT_FILE) must validate against "
                + (f"agent_http_ca_path={self.ca_path}" if self.ca_path
                   else "the system's CAs (agent_http_ca_path is empty)")
                + " and name the URL's host: set agent_http_ca_path to the CA file on the agent host that signed it, "
                  "or agent_http_validate_certs=false to skip the check")


def agent_flags(endpoint: Endpoint) -> tuple[dict[str, str] | None, Response]:
    """GET /flags: the flags the agent runs with, stringified (None when it does not answer them), and the answer."""
    answer = endpoint.get("/flags")
    try:
        body = answer.json() if answer.status == 200 else None
    except ValueError:
        return None, answer
    flags = body.get("flags") if isinstance(body, dict) else None
    return ({k: str(v) for k, v in flags.items()} if isinstance(flags, dict) else None), answer
