"""libprocess_ssl_flags reads an agent's TLS settings from its environment as libprocess does; the rule's
table (tests/vectors/libprocess_ssl.json) is the one the agent double is tested against too."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mesos.xfs_quota.plugins.filter.libprocess_ssl_flags import libprocess_ssl_flags

from ansible_collections.mesos.xfs_quota.tests.unit.plugins.shared_vectors import load

VECTORS = load("libprocess_ssl.json")["vectors"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["case"] for v in VECTORS])
def test_enabled_as_libprocess_reads_it(vector):
    if "error" in vector:
        with pytest.raises(AnsibleFilterError) as caught:
            libprocess_ssl_flags(vector["environ"])
        assert str(caught.value) == vector["error"]
    else:
        assert libprocess_ssl_flags(vector["environ"])["enabled"] is vector["enabled"]


def test_defaults_and_the_values_an_agent_sets():
    defaults = libprocess_ssl_flags(["PATH=/bin"])
    assert defaults["ciphers"].split(":")[:2] == ["AES128-SHA", "AES256-SHA"]
    assert defaults["support_downgrade"] is False and defaults["cert_file"] is None
    assert defaults["enable_tls_v1_2"] is True and defaults["enable_tls_v1_3"] is False
    flags = libprocess_ssl_flags(["LIBPROCESS_SSL_ENABLED=1", "LIBPROCESS_SSL_SUPPORT_DOWNGRADE=true",
                                  "LIBPROCESS_SSL_CIPHERS=ECDHE-RSA-AES128-GCM-SHA256", "SSL_CERT_FILE=/etc/a.crt",
                                  "LIBPROCESS_SSL_KEY_FILE=/etc/a.key", "LIBPROCESS_SSL_CERT_FILE=/etc/b.crt"])
    assert flags["enabled"] and flags["support_downgrade"]
    assert flags["ciphers"] == "ECDHE-RSA-AES128-GCM-SHA256"
    assert (flags["cert_file"], flags["key_file"]) == ("/etc/b.crt", "/etc/a.key")


def test_a_value_flag_cannot_be_negated_and_input_must_be_a_list():
    with pytest.raises(AnsibleFilterError, match="Failed to load non-boolean flag 'ciphers' via 'no-ciphers'"):
        libprocess_ssl_flags(["LIBPROCESS_SSL_NO-CIPHERS="])
    with pytest.raises(AnsibleFilterError, match="must be a list"):
        libprocess_ssl_flags("LIBPROCESS_SSL_ENABLED=1")
