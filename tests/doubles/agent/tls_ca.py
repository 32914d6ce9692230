"""Throw-away TLS material for tests of an agent serving HTTPS: a CA, the agent's certificate signed by it
(RSA: libprocess's default ciphers, AES128-SHA and the like, need an RSA key; names 127.0.0.1 and
localhost), and a second CA that did not sign it. Usage: python3 tls_ca.py DIRECTORY."""

from __future__ import annotations

import datetime
import ipaddress
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: str, key, issuer: str, issuer_key, ca: bool) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def write(directory: Path) -> None:
    """ca.crt, agent.crt + agent.key (signed by ca), other-ca.crt (signed nothing here)."""
    directory.mkdir(parents=True, exist_ok=True)
    keys = {name: rsa.generate_private_key(public_exponent=65537, key_size=2048) for name in ("ca", "other-ca", "agent")}
    pem = serialization.Encoding.PEM
    for name in ("ca", "other-ca"):
        cert = _certificate(f"mesos.xfs_quota test {name}", keys[name], f"mesos.xfs_quota test {name}", keys[name], True)
        (directory / f"{name}.crt").write_bytes(cert.public_bytes(pem))
    agent = _certificate("localhost", keys["agent"], "mesos.xfs_quota test ca", keys["ca"], False)
    (directory / "agent.crt").write_bytes(agent.public_bytes(pem))
    (directory / "agent.key").write_bytes(keys["agent"].private_bytes(
        pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
    (directory / "agent.key").chmod(0o600)


if __name__ == "__main__":
    write(Path(sys.argv[1]))
