"""Certificates, keys and archives the template cases feed to ESO's PEM, PKCS#12 and JWK functions.

Made once per process with ``cryptography`` (deterministic inputs are not needed: the expected
outputs are computed here from the same objects, by the rules ESO's functions follow, cited
in the cases). Go's ``pem.Encode`` writes the same text as ``cryptography``'s PEM output:
64-column base64 between ``-----BEGIN/END <TYPE>-----`` lines, each ending in a newline.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

PKCS12_PASSWORD = "my-password"  # pkcs12-template-v2-external-secret.yaml's pkcs12certPass argument


@dataclass(frozen=True)
class Chain:
    key_pem: bytes  # the leaf's key, PKCS#8 "PRIVATE KEY"
    leaf_pem: bytes
    intermediate_pem: bytes
    root_pem: bytes
    p12: bytes  # leaf key + leaf, intermediate, root; no password
    p12_pass: bytes  # the same, encrypted with PKCS12_PASSWORD
    jwk: str  # the leaf key as a private RSA JWK (JSON)
    public_pem: bytes  # its public key, PKIX "PUBLIC KEY"


def _cert(
    subject: str, key: rsa.RSAPrivateKey, issuer: str, signer: rsa.RSAPrivateKey, ca: bool
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(signer, hashes.SHA256())
    )


def _b64url(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@functools.cache
def chain() -> Chain:
    root_key, mid_key, leaf_key = (rsa.generate_private_key(65537, 2048) for _ in range(3))
    root = _cert("corpus root", root_key, "corpus root", root_key, True)
    mid = _cert("corpus intermediate", mid_key, "corpus root", root_key, True)
    leaf = _cert("app.example.com", leaf_key, "corpus intermediate", mid_key, False)
    pem = serialization.Encoding.PEM
    key_pem = leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    p12 = pkcs12.serialize_key_and_certificates(
        b"app", leaf_key, leaf, [mid, root], serialization.NoEncryption()
    )
    p12_pass = pkcs12.serialize_key_and_certificates(
        b"app",
        leaf_key,
        leaf,
        [mid, root],
        serialization.BestAvailableEncryption(PKCS12_PASSWORD.encode()),
    )
    numbers = leaf_key.private_numbers()
    jwk = {
        "kty": "RSA",
        "kid": "cc34c0a0-bd5a-4a3c-a50d-a2a7db7643df",
        "use": "sig",
        "n": _b64url(numbers.public_numbers.n),
        "e": _b64url(numbers.public_numbers.e),
        "d": _b64url(numbers.d),
        "p": _b64url(numbers.p),
        "q": _b64url(numbers.q),
        "dp": _b64url(numbers.dmp1),
        "dq": _b64url(numbers.dmq1),
        "qi": _b64url(numbers.iqmp),
    }
    return Chain(
        key_pem=key_pem,
        leaf_pem=leaf.public_bytes(pem),
        intermediate_pem=mid.public_bytes(pem),
        root_pem=root.public_bytes(pem),
        p12=p12,
        p12_pass=p12_pass,
        jwk=json.dumps(jwk),
        public_pem=leaf_key.public_key().public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo),
    )
