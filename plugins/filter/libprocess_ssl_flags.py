# Copyright (c) mesos.xfs_quota contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: libprocess_ssl_flags
short_description: Whether a Mesos agent serves TLS, from its environment
version_added: 0.2.0
description:
  - "Reads the TLS settings of a Mesos (1.11.0) process's HTTP port from its environment as libprocess
    does (C(3rdparty/libprocess/src/openssl.cpp)): C(LIBPROCESS_SSL_<NAME>), and the deprecated
    C(SSL_<NAME>) where C(LIBPROCESS_SSL_) does not set that name. They are not agent flags: C(/flags)
    does not show them."
  - A boolean is V(true) or V(1), V(false) or V(0); an empty value is V(true). Anything else makes the
    agent exit at start, and this filter fail with the agent's own message.
  - With O(enabled=true) the agent serves HTTPS on its one C(--ip)/C(--port) (and plain HTTP too with
    C(support_downgrade)); the agent itself derives C(https) from it the same way (C(src/slave/main.cpp)).
options:
  _input:
    description: The environment, as C(NAME=value) strings (for example C(/proc/<pid>/environ) split at NUL bytes).
    type: list
    elements: str
    required: true
author:
  - mesos.xfs_quota developers (@mesos-xfs-quota)
"""

EXAMPLES = r"""
- name: The scheme of the running agent's endpoints
  ansible.builtin.debug:
    msg: "{{ 'https' if (environ.split('\u0000') | mesos.xfs_quota.libprocess_ssl_flags).enabled else 'http' }}"
"""

RETURN = r"""
_value:
  description: The SSL flags, with libprocess's defaults where the environment does not set them.
  type: dict
  contains:
    enabled:
      description: Whether the agent's HTTP port speaks TLS.
      type: bool
    support_downgrade:
      description: Whether it also accepts plain HTTP on that port.
      type: bool
    ciphers:
      description: The TLS 1.2 cipher list it accepts, C(:)-separated (libprocess's default offers no
        cipher that Python 3.10+'s default client context does; a client must offer these).
      type: str
    cert_file:
      description: Its certificate (chain) file, if set.
      type: str
    key_file:
      description: Its key file, if set.
      type: str
"""

from ansible.errors import AnsibleFilterError

# openssl.cpp Flags::Flags: every flag libprocess knows under the prefix, booleans with their default
BOOLEANS = {
    "enabled": False, "support_downgrade": False, "verify_cert": False, "verify_server_cert": False,
    "require_cert": False, "require_client_cert": False, "verify_ipadd": False, "enable_ssl_v3": False,
    "enable_tls_v1_0": False, "enable_tls_v1_1": False, "enable_tls_v1_2": True, "enable_tls_v1_3": False,
}
VALUES = {
    "cert_file": None, "key_file": None, "verification_depth": "4", "ca_dir": None, "ca_file": None,
    "ciphers": "AES128-SHA:AES256-SHA:RC4-SHA:DHE-RSA-AES128-SHA:DHE-DSS-AES128-SHA:DHE-RSA-AES256-SHA:DHE-DSS-AES256-SHA",
    "ecdh_curves": "auto", "hostname_validation_scheme": "legacy",
}
FAILED = "Failed to load flags from environment variables prefixed by LIBPROCESS_SSL_ or SSL_ (deprecated): "


def _extract(environ, prefix):
    """FlagsBase::extract: known names under the prefix, lower-cased; the later variable in sort order wins."""
    variables = {}
    for entry in environ:
        variable, sep, value = str(entry).partition("=")
        if sep and variable.startswith(prefix):
            variables[variable] = value
    values = {}
    for variable in sorted(variables):
        name = variable[len(prefix):].lower()
        flag = name[3:] if name.startswith("no-") else name
        if flag in BOOLEANS or flag in VALUES:
            values[name] = variables[variable]
    return values


def libprocess_ssl_flags(environ):
    if not isinstance(environ, list):
        raise AnsibleFilterError("libprocess_ssl_flags: the environment must be a list of NAME=value strings")
    values = _extract(environ, "LIBPROCESS_SSL_")
    for name, value in _extract(environ, "SSL_").items():
        values.setdefault(name, value)
    flags = dict(BOOLEANS, **VALUES)
    loaded_via = {}
    for name in sorted(values):  # FlagsBase::load walks its map in key order
        value = values[name]
        negated = name.startswith("no-")
        flag = name[3:] if negated else name
        if flag in loaded_via:
            raise AnsibleFilterError(f"{FAILED}Flag '{flag}' is already loaded via name '{loaded_via[flag]}'")
        loaded_via[flag] = name
        if flag in VALUES:
            if negated:
                raise AnsibleFilterError(f"{FAILED}Failed to load non-boolean flag '{flag}' via '{name}'")
            flags[flag] = value
            continue
        if negated and value:
            raise AnsibleFilterError(
                f"{FAILED}Failed to load boolean flag '{flag}' via '{name}' with value '{value}'")
        text = value or ("false" if negated else "true")
        if text not in ("true", "1", "false", "0"):
            raise AnsibleFilterError(f"{FAILED}Failed to load flag '{flag}': Expecting a boolean (e.g., true or false)")
        flags[flag] = text in ("true", "1")
    return flags


class FilterModule:
    def filters(self):
        return {"libprocess_ssl_flags": libprocess_ssl_flags}
