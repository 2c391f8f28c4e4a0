"""A throwaway certificate authority and server certificates for loopback test servers.

Why: the official GCP client only speaks TLS to a custom ``api_endpoint`` (a plaintext server makes it
retry the handshake for 60 s), so the gRPC fake needs a certificate that the client trusts. Tests trust
the CA through ``GRPC_DEFAULT_SSL_ROOTS_FILE_PATH``; nothing is ever installed in a system store.
Keys are ECDSA P-256: generating one takes about a millisecond, so a fresh CA per session is free.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CertificateAuthority", "IssuedCert", "TLSFiles", "make_ca", "write_server_bundle"]

DEFAULT_HOSTS: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _san(hosts: Sequence[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


@dataclass(frozen=True)
class IssuedCert:
    """A leaf certificate and its private key, both PEM."""

    cert_pem: bytes
    key_pem: bytes


@dataclass(frozen=True)
class CertificateAuthority:
    """A self-signed CA that can issue leaf certificates for test servers (and clients, for mTLS)."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return _pem_key(self.key)

    def issue(
        self,
        hosts: Sequence[str] = DEFAULT_HOSTS,
        *,
        common_name: str | None = None,
        server: bool = True,
        client: bool = False,
        valid_for: dt.timedelta = dt.timedelta(days=2),
    ) -> IssuedCert:
        """Issue a leaf certificate whose SANs are ``hosts`` (DNS names or IP literals)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        usages = [ExtendedKeyUsageOID.SERVER_AUTH] * server + [ExtendedKeyUsageOID.CLIENT_AUTH] * client
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name or hosts[0])]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))  # tolerate clock skew between processes
            .not_valid_after(now + valid_for)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=True,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
        )
        if hosts:
            builder = builder.add_extension(_san(hosts), critical=False)
        if usages:
            builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        return IssuedCert(cert.public_bytes(serialization.Encoding.PEM), _pem_key(key))


def make_ca(common_name: str = "secretsync throwaway test CA") -> CertificateAuthority:
    """Create a new self-signed CA, valid for two days."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(cert, key)


@dataclass(frozen=True)
class TLSFiles:
    """A CA plus one server certificate, in memory and on disk (for env vars and subprocesses)."""

    ca: CertificateAuthority
    ca_path: Path
    cert_path: Path
    key_path: Path
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes


def write_server_bundle(directory: Path, hosts: Sequence[str] = DEFAULT_HOSTS) -> TLSFiles:
    """Make a CA and a server certificate for ``hosts``; write ca.pem, server.pem and server.key."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = make_ca()
    leaf = ca.issue(hosts)
    ca_path, cert_path, key_path = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca_path.write_bytes(ca.cert_pem)
    cert_path.write_bytes(leaf.cert_pem)
    key_path.touch(mode=0o600)
    key_path.write_bytes(leaf.key_pem)
    return TLSFiles(ca, ca_path, cert_path, key_path, ca.cert_pem, leaf.cert_pem, leaf.key_pem)
