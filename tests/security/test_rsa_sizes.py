"""Keys and certificates of hostile sizes: 2048 <= RSA bits <= 16384 wherever one is loaded.

A 65,536-bit certificate used to be accepted and then crash ``seal``; a huge private key
reached OpenSSL from ``unseal -k`` and from the operator's key Secrets. The certificates
and keys here are hand-made DER (no one can generate a 65,536-bit key in a test): the
size must be refused from the DER, naming it, before OpenSSL sees the key.
"""

from __future__ import annotations

import base64
import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization

from secretsync import crypto, sealing
from secretsync.cli import main
from secretsync.errors import InputError
from tests.test_crypto import small_rsa_key

CANARY = "CANARY-91be"
RSA_OID = bytes.fromhex("2a864886f70d010101")
SHA256_RSA_OID = bytes.fromhex("2a864886f70d01010b")
CN_OID = bytes.fromhex("550403")


def der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def der_int(value: int) -> bytes:
    return der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def seq(*parts: bytes) -> bytes:
    return der(0x30, b"".join(parts))


def modulus(bits: int) -> int:
    return secrets.randbits(bits) | (1 << (bits - 1)) | 1


def pem(label: str, body: bytes) -> bytes:
    text = base64.encodebytes(body).replace(b"\n", b"")
    lines = b"\n".join(text[i : i + 64] for i in range(0, len(text), 64))
    return f"-----BEGIN {label}-----\n".encode() + lines + f"\n-----END {label}-----\n".encode()


def certificate(n: int, e: int = 65537) -> bytes:
    """A structurally valid X.509 certificate for the RSA key (n, e), valid now (bad signature)."""
    now = datetime.now(UTC)

    def utc(when: datetime) -> bytes:
        return der(0x17, when.strftime("%y%m%d%H%M%SZ").encode())

    algorithm = seq(der(0x06, SHA256_RSA_OID), der(0x05, b""))
    name = seq(der(0x31, seq(der(0x06, CN_OID), der(0x0C, b"huge"))))
    spki = seq(seq(der(0x06, RSA_OID), der(0x05, b"")), der(0x03, b"\x00" + seq(der_int(n), der_int(e))))
    validity = seq(utc(now - timedelta(days=1)), utc(now + timedelta(days=30)))
    tbs = seq(der(0xA0, der_int(2)), der_int(7), algorithm, name, validity, name, spki)
    return pem("CERTIFICATE", seq(tbs, algorithm, der(0x03, b"\x00" + b"\x01" * 32)))


def pkcs1_key(n: int, e: int = 65537) -> bytes:
    """An RSAPrivateKey with modulus n (the other numbers are junk: it must never be used)."""
    return seq(der_int(0), der_int(n), der_int(e), *(der_int(v) for v in (3, 5, 7, 1, 1, 1)))


def pkcs8_key(n: int) -> bytes:
    algorithm = seq(der(0x06, RSA_OID), der(0x05, b""))
    return seq(der_int(0), algorithm, der(0x04, pkcs1_key(n)))


def seal(cert: Path, *args: str) -> Result:
    secret = f"kind: Secret\nmetadata: {{name: db, namespace: team-a}}\nstringData: {{pw: {CANARY}}}\n"
    return CliRunner().invoke(
        main, ["seal", "--cert", str(cert), *args], input=secret, catch_exceptions=False
    )


def assert_one_line(result: Result, *needles: str) -> None:
    assert result.exit_code == 1, (result.exit_code, result.stderr[-1000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr and CANARY not in result.stderr
    assert result.stdout == ""
    for needle in needles:
        assert needle in lines[0], lines[0]


# --------------------------------------------------------------------------- certificates


@pytest.mark.parametrize(
    ("bits", "needle"),
    [(65536, "65536 bits, more than 16384"), (16385, "16385 bits, more than 16384")],
)
def test_a_huge_certificate_is_refused_naming_its_size(tmp_path: Path, bits: int, needle: str) -> None:
    cert = tmp_path / "huge.crt"
    cert.write_bytes(certificate(modulus(bits)))
    assert_one_line(seal(cert), f"certificate {cert}", needle)
    assert_one_line(CliRunner().invoke(main, ["keys", "info", str(cert)]), needle)
    with pytest.raises(InputError, match=needle):
        crypto.load_x509(cert.read_bytes())
    largest = crypto.load_certificate(certificate(modulus(16384)))  # the bound itself still seals
    assert len(crypto.split_sealed(largest.sealer().seal(b"v", b"team-a/db"))[0]) == 2048


def test_a_certificate_with_a_huge_exponent_is_refused(tmp_path: Path) -> None:
    cert = tmp_path / "odd.crt"
    cert.write_bytes(certificate(modulus(4096), e=(1 << 200) + 1))
    assert_one_line(seal(cert), "public exponent over 64 bits")


# --------------------------------------------------------------------------- private keys


@pytest.mark.parametrize("form", ["pkcs1", "pkcs8"])
def test_a_huge_private_key_never_reaches_openssl(tmp_path: Path, form: str) -> None:
    n = modulus(65536)
    data = pem("RSA PRIVATE KEY", pkcs1_key(n)) if form == "pkcs1" else pem("PRIVATE KEY", pkcs8_key(n))
    start = time.perf_counter()
    with pytest.raises(InputError, match="its private key has 65536 bits, more than 16384"):
        crypto.load_private_keys(data)
    assert time.perf_counter() - start < 0.5
    key_file = tmp_path / "huge.key"
    key_file.write_bytes(data)
    result = CliRunner().invoke(main, ["unseal", "-k", str(key_file)], input="{}", catch_exceptions=False)
    assert_one_line(result, f"private key file {key_file}", "65536 bits")


def test_a_huge_key_secret_in_the_operator_namespace_is_skipped_with_its_size() -> None:
    """The operator reads its key Secrets without OpenSSL's key check (validate=False)."""
    n = modulus(65536)
    secret = {
        "data": {
            "tls.key": base64.b64encode(pem("RSA PRIVATE KEY", pkcs1_key(n))).decode(),
            "tls.crt": base64.b64encode(certificate(n)).decode(),
        }
    }
    with pytest.raises(InputError, match="65536 bits, more than 16384"):
        sealing.key_entry_from_secret(secret, validate=False)


def test_a_small_private_key_is_refused_too() -> None:
    small = small_rsa_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    with pytest.raises(InputError, match="its private key has 1024 bits, fewer than 2048"):
        crypto.load_private_keys(small)
