"""The wire format against vectors from independent implementations, and keys/certificates.

Helpers at the top (vector loading, an independent decrypter written from
COMPAT §1 with bare ``cryptography`` primitives, odd certificates) are reused
by test_sealing.py and test_cli_seal.py.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import ExtensionOID, NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secretsync import crypto
from secretsync.errors import InputError, UnsealError

VECTORS = Path(__file__).parent / "data" / "vectors"


# --------------------------------------------------------------------------- shared helpers


@functools.cache
def vector_file() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / "sealed-values.json").read_text())
    return data


@functools.cache
def vector_key(bits: int) -> rsa.RSAPrivateKey:
    """The test key of that size (fast load: these are known-good keys)."""
    key = serialization.load_pem_private_key(
        (VECTORS / f"test-key-{bits}.pem").read_bytes(), None, unsafe_skip_rsa_key_validation=True
    )
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def vector_cert_path(bits: int) -> Path:
    return VECTORS / f"test-cert-{bits}.pem"


def independent_open(private_key: rsa.RSAPrivateKey, label: bytes, value: str) -> bytes:
    """A decrypter written from COMPAT §1 alone, using only ``cryptography`` primitives.

    base64( u16be(len(rsa_ct)) || rsa_ct || aes_gcm_ct_and_tag ), RSA-OAEP-SHA256
    with the scope label, AES-256-GCM with a zero nonce and no AAD.
    """
    raw = base64.b64decode(value)
    rsa_len = int.from_bytes(raw[:2], "big")
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label or None)
    session_key = private_key.decrypt(raw[2 : 2 + rsa_len], oaep)
    return AESGCM(session_key).decrypt(b"\x00" * 12, raw[2 + rsa_len :], None)


def independent_seal(public_key: rsa.RSAPublicKey, label: bytes, plaintext: bytes) -> str:
    """The same spec, the other way: what kubeseal would produce."""
    import os

    session_key = os.urandom(32)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label)
    rsa_ct = public_key.encrypt(session_key, oaep)
    body = AESGCM(session_key).encrypt(bytes(12), plaintext, None)
    return base64.b64encode(len(rsa_ct).to_bytes(2, "big") + rsa_ct + body).decode()


def make_cert(
    key: Any,
    *,
    not_before: datetime | None = None,
    days: float = 365,
    bitnami_key_usage: bool = False,
    der: bool = False,
) -> bytes:
    """A self-signed certificate for tests: any key type, any validity, optionally Bitnami's KeyUsage.

    Bitnami's KeyUsage (digitalSignature + encipherOnly, no keyAgreement) cannot
    be built through x509.KeyUsage, so it goes in as raw DER.
    """
    start = not_before or datetime.now(UTC) - timedelta(minutes=1)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sealed-secret")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
    )
    if bitnami_key_usage:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(ExtensionOID.KEY_USAGE, bytes([0x03, 0x02, 0x00, 0x81])), critical=True
        )
    cert = builder.sign(key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.DER if der else serialization.Encoding.PEM)


@functools.cache
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@functools.cache
def small_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 1024)  # noqa: S505 (testing that we refuse it)


# --------------------------------------------------------------------------- known answers


VECTOR_IDS = [v["id"] for v in vector_file()["vectors"]]
NEGATIVE_IDS = [v["id"] for v in vector_file()["negative"]]


def _vector(vid: str, section: str = "vectors") -> dict[str, Any]:
    return next(v for v in vector_file()[section] if v["id"] == vid)


@pytest.mark.parametrize("vid", VECTOR_IDS)
def test_every_vector_decrypts_to_its_plaintext_with_its_scope(vid: str) -> None:
    v = _vector(vid)
    label = crypto.scope_label(v["scope"], v["namespace"], v["name"])
    assert label == v["label"].encode()
    plaintext = crypto.decrypt(vector_key(v["rsa_bits"]), label, v["ciphertext"])
    assert plaintext == base64.b64decode(v["plaintext_b64"])


@pytest.mark.parametrize("vid", VECTOR_IDS)
def test_every_vector_fails_with_a_wrong_label(vid: str) -> None:
    v = _vector(vid)
    wrong = b"team-a" if v["label"] == "" else b""
    with pytest.raises(UnsealError, match="does not open it"):
        crypto.decrypt(vector_key(v["rsa_bits"]), wrong, v["ciphertext"])


@pytest.mark.parametrize("vid", NEGATIVE_IDS)
def test_every_negative_vector_fails_cleanly(vid: str) -> None:
    v = _vector(vid, "negative")
    with pytest.raises(UnsealError) as caught:
        crypto.decrypt(vector_key(v["rsa_bits"]), v["label"].encode(), v["ciphertext"])
    message = str(caught.value)
    assert message and "\n" not in message
    assert v["ciphertext"][:16] not in message


@pytest.mark.parametrize("vid", NEGATIVE_IDS)
def test_every_negative_vector_fails_through_a_key_ring_of_both_keys(vid: str) -> None:
    v = _vector(vid, "negative")
    # "other-key" is sealed for the 4096-bit key: a ring holding it would rightly open it.
    sizes = (2048,) if vid == "other-key" else (2048, 4096)
    ring = crypto.KeyRing(crypto.KeyEntry.from_key(vector_key(bits)) for bits in sizes)
    with pytest.raises(UnsealError):
        ring.open(v["ciphertext"], v["label"].encode())


def test_negative_vectors_give_specific_reasons() -> None:
    key = vector_key(2048)
    reasons = {}
    for v in vector_file()["negative"]:
        with pytest.raises(UnsealError) as caught:
            crypto.decrypt(key, v["label"].encode(), v["ciphertext"])
        reasons[v["id"]] = str(caught.value)
    assert "base64" in reasons["not-base64"]
    assert "too short" in reasons["too-short"]
    assert "truncated" in reasons["truncated"]
    assert "AES-GCM" in reasons["tampered-aes"]
    assert "4096-bit" in reasons["other-key"]
    assert "does not open" in reasons["wrong-name"]


# --------------------------------------------------------------------------- scope labels and sealing


def test_scope_labels() -> None:
    assert crypto.scope_label("strict", "team-a", "db") == b"team-a/db"
    assert crypto.scope_label("namespace-wide", "team-a", "db") == b"team-a"
    assert crypto.scope_label("namespace-wide", "team-a", None) == b"team-a"
    assert crypto.scope_label("cluster-wide", None, None) == b""
    for args in (("strict", None, "db"), ("strict", "ns", None), ("namespace-wide", None, None)):
        with pytest.raises(InputError):
            crypto.scope_label(*args)
    with pytest.raises(InputError, match="contains '/'"):
        crypto.scope_label("strict", "team-a", "x/y")
    with pytest.raises(InputError, match="unknown scope"):
        crypto.scope_label("galaxy-wide", "team-a", "db")  # type: ignore[arg-type]


@pytest.mark.parametrize(("bits", "prefix"), [(2048, "AQ"), (4096, "Ag")])
def test_sealed_values_carry_the_modulus_length_prefix(bits: int, prefix: str) -> None:
    sealed = crypto.Sealer(vector_key(bits).public_key()).seal(b"hunter2", b"team-a/db")
    assert sealed.startswith(prefix)
    raw = base64.b64decode(sealed)
    assert int.from_bytes(raw[:2], "big") == bits // 8
    assert len(raw) == 2 + bits // 8 + len(b"hunter2") + 16


@pytest.mark.parametrize("scope", crypto.SCOPES)
def test_ours_opens_with_an_independent_decrypter_and_theirs_with_ours(scope: crypto.Scope) -> None:
    key = vector_key(4096)
    label = crypto.scope_label(scope, "team-a", "db")
    ours = crypto.Sealer(key.public_key()).seal("päss\x00".encode(), label)
    assert independent_open(key, label, ours) == "päss\x00".encode()
    theirs = independent_seal(key.public_key(), label, b"from elsewhere")
    assert crypto.decrypt(key, label, theirs) == b"from elsewhere"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    plaintext=st.binary(max_size=4096),
    scope=st.sampled_from(crypto.SCOPES),
    namespace=st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True),
    name=st.from_regex(r"[a-z0-9]([-.a-z0-9]{0,30}[a-z0-9])?", fullmatch=True),
)
def test_round_trip_for_any_bytes_and_every_scope(
    plaintext: bytes, scope: crypto.Scope, namespace: str, name: str
) -> None:
    key = vector_key(2048)
    label = crypto.scope_label(scope, namespace, name)
    sealed = crypto.encrypt(key.public_key(), label, plaintext)
    assert crypto.decrypt(key, label, sealed) == plaintext
    assert crypto.decrypt(key, label, sealed.encode()) == plaintext
    assert independent_open(key, label, sealed) == plaintext


def test_decode_base64_is_strict_but_tolerates_line_breaks() -> None:
    assert crypto.decode_base64("aGk=") == b"hi"
    assert crypto.decode_base64(b"aG\nk=\n") == b"hi"
    assert crypto.decode_base64("") == b""
    for bad in ("aGk", "aGk=x", "a-k=", "%%", "äGk="):
        with pytest.raises(ValueError):
            crypto.decode_base64(bad)


def test_decrypt_ignores_newlines_in_base64() -> None:
    key = vector_key(2048)
    sealed = crypto.Sealer(key.public_key()).seal(b"x", b"")
    wrapped = "\n".join(sealed[i : i + 60] for i in range(0, len(sealed), 60))
    assert crypto.decrypt(key, b"", wrapped) == b"x"


def test_a_forged_rsa_block_with_a_short_session_key_is_an_unseal_error() -> None:
    key = vector_key(2048)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    rsa_ct = key.public_key().encrypt(b"short", oaep)
    value = base64.b64encode(len(rsa_ct).to_bytes(2, "big") + rsa_ct + bytes(20)).decode()
    with pytest.raises(UnsealError, match="AES-GCM"):
        crypto.decrypt(key, b"", value)


# --------------------------------------------------------------------------- certificates


def _x509_view(pem_or_der: bytes) -> x509.Certificate:
    if pem_or_der.startswith(b"-----"):
        return x509.load_pem_x509_certificate(pem_or_der)
    return x509.load_der_x509_certificate(pem_or_der)


def _cert_cases() -> list[tuple[str, bytes]]:
    key = vector_key(2048)
    return [
        ("vector-2048", vector_cert_path(2048).read_bytes()),
        ("vector-4096", vector_cert_path(4096).read_bytes()),  # notAfter 2056: GeneralizedTime
        ("ours", crypto.self_signed_certificate(key)),
        ("bitnami-key-usage", make_cert(key, bitnami_key_usage=True)),
        ("der", make_cert(key, der=True)),
        ("utc-1999", make_cert(key, not_before=datetime(1999, 1, 2, 3, 4, 5, tzinfo=UTC), days=10)),
    ]


@pytest.mark.parametrize(("case", "data"), _cert_cases(), ids=[c for c, _ in _cert_cases()])
def test_fast_certificate_reader_agrees_with_x509(case: str, data: bytes) -> None:
    cert = crypto.load_certificate(data)
    full = _x509_view(data)
    assert cert.not_before == full.not_valid_before_utc
    assert cert.not_after == full.not_valid_after_utc
    assert cert.public_key.public_numbers() == full.public_key().public_numbers()  # type: ignore[union-attr]
    assert cert.der == full.public_bytes(serialization.Encoding.DER)
    assert x509.load_pem_x509_certificate(cert.pem()).serial_number == full.serial_number


def test_bitnami_certificates_seal_although_their_extensions_cannot_be_parsed() -> None:
    data = make_cert(vector_key(4096), bitnami_key_usage=True)
    with pytest.raises(ValueError, match="encipher_only"):
        _ = x509.load_pem_x509_certificate(data).extensions
    cert = crypto.load_certificate(data)
    assert cert.validity_problem() is None
    sealed = cert.sealer().seal(b"v", b"ns/n")
    assert crypto.decrypt(vector_key(4096), b"ns/n", sealed) == b"v"


def test_a_pem_chain_uses_the_first_certificate() -> None:
    chain = vector_cert_path(2048).read_bytes() + vector_cert_path(4096).read_bytes()
    assert crypto.load_certificate(chain).key_size == 2048


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"hello", "not a PEM or DER certificate"),
        (b"", "not a PEM or DER certificate"),
        (b"\x30\x82\x01", "not a valid X.509 certificate"),
        (b"-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----\n", "not valid base64"),
        (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "no PEM CERTIFICATE"),
    ],
)
def test_unreadable_certificates_are_one_line_input_errors(data: bytes, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        crypto.load_certificate(data)


def test_a_private_key_is_not_taken_for_a_certificate() -> None:
    with pytest.raises(InputError, match="private key, not a certificate"):
        crypto.load_certificate((VECTORS / "test-key-2048.pem").read_bytes())


def test_truncated_der_never_crashes() -> None:
    der = make_cert(vector_key(2048), der=True)
    for cut in range(1, len(der), 7):
        with pytest.raises(InputError):
            crypto.load_certificate(der[:cut])


def test_non_rsa_and_small_keys_are_refused() -> None:
    with pytest.raises(InputError, match="not RSA"):
        crypto.load_certificate(make_cert(ec_key()))
    with pytest.raises(InputError, match="1024 bits"):
        crypto.load_certificate(make_cert(small_rsa_key()))


def test_validity_problems() -> None:
    key = vector_key(2048)
    now = datetime.now(UTC)
    expired = crypto.load_certificate(make_cert(key, not_before=now - timedelta(days=20), days=10))
    future = crypto.load_certificate(make_cert(key, not_before=now + timedelta(days=1), days=10))
    assert (expired.validity_problem() or "").startswith("expired on ")
    assert (future.validity_problem() or "").startswith("is not valid before ")
    assert crypto.load_certificate(vector_cert_path(2048).read_bytes()).validity_problem() is None


# --------------------------------------------------------------------------- keys


@pytest.fixture(scope="session")
def generated_key() -> rsa.RSAPrivateKey:
    """One default-size key for the whole session (RSA-4096 generation costs up to 0.7 s)."""
    return crypto.generate_private_key()


def test_generated_keys_and_certificates_follow_the_defaults(generated_key: rsa.RSAPrivateKey) -> None:
    assert generated_key.key_size == 4096
    assert generated_key.public_key().public_numbers().e == 65537
    pem = crypto.self_signed_certificate(generated_key)
    cert = x509.load_pem_x509_certificate(pem)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value  # readable, unlike Bitnami's
    assert usage.key_encipherment and not usage.key_agreement
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=3650)
    assert cert.subject == cert.issuer
    parsed = crypto.load_certificate(pem)
    assert parsed.fingerprint == crypto.public_key_fingerprint(generated_key.public_key())


def test_small_keys_are_not_generated() -> None:
    with pytest.raises(InputError, match="at least 2048"):
        crypto.generate_private_key(1024)


def test_fingerprint_is_sha256_of_the_der_subject_public_key_info() -> None:
    key = vector_key(4096)
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    expected = hashlib.sha256(spki).hexdigest()
    assert crypto.public_key_fingerprint(key.public_key()) == expected
    assert crypto.load_certificate(vector_cert_path(4096).read_bytes()).fingerprint == expected
    assert crypto.KeyEntry.from_key(key).fingerprint == expected
    assert len(expected) == 64


@pytest.mark.parametrize(("bits", "exponent"), [(2048, 65537), (4096, 65537), (2050, 65537), (2048, 3)])
def test_our_der_encoding_of_the_public_key_matches_openssl(bits: int, exponent: int) -> None:
    """The fingerprint encodes (n, e) itself to avoid importing serialization: it must match OpenSSL."""
    key = vector_key(bits) if bits in (2048, 4096) and exponent == 65537 else _odd_key(bits, exponent)
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert crypto.public_key_fingerprint(key.public_key()) == hashlib.sha256(spki).hexdigest()
    cert = make_cert(key)
    assert crypto.load_certificate(cert).fingerprint == hashlib.sha256(spki).hexdigest()


@functools.cache
def _odd_key(bits: int, exponent: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(exponent, bits)


def test_private_keys_load_from_pkcs1_and_pkcs8_and_round_trip() -> None:
    key = vector_key(2048)
    pkcs1 = crypto.dump_private_key(key)
    assert pkcs1.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    both = crypto.load_private_keys(pkcs1 + b"\n" + pkcs8, validate=False)
    assert [k.private_numbers() for k in both] == [key.private_numbers()] * 2
    assert crypto.load_private_keys(pkcs1)[0].private_numbers() == key.private_numbers()


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"nothing here", "no PEM private key"),
        (b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", "cannot be read"),
    ],
)
def test_bad_private_key_files(data: bytes, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        crypto.load_private_keys(data)


def test_encrypted_and_non_rsa_private_keys_are_refused() -> None:
    encrypted = vector_key(2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    with pytest.raises(InputError, match="password-protected"):
        crypto.load_private_keys(encrypted)
    ec_pem = ec_key().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(InputError, match="not RSA"):
        crypto.load_private_keys(ec_pem)


# --------------------------------------------------------------------------- key ring


def _entry(bits: int, days_ago: int) -> crypto.KeyEntry:
    key = vector_key(bits)
    cert = crypto.load_certificate(make_cert(key, not_before=datetime.now(UTC) - timedelta(days=days_ago)))
    return crypto.KeyEntry.from_key(key, cert)


def test_key_ring_orders_newest_first_and_replaces_by_fingerprint() -> None:
    old, new = _entry(2048, 60), _entry(4096, 1)
    ring = crypto.KeyRing([old, new])
    assert ring.entries == (new, old)
    assert ring.newest is new
    assert ring.get(old.fingerprint) is old
    assert ring.candidates([old.fingerprint]) == [old, new]
    assert ring.candidates([None, "unknown"]) == [new, old]
    ring.add(_entry(2048, 0))  # the same key again, now newest: replaced, not duplicated
    assert len(ring) == 2 and ring.newest.fingerprint == old.fingerprint
    with pytest.raises(LookupError):
        _ = crypto.KeyRing().newest


def test_key_entry_refuses_a_certificate_of_another_key() -> None:
    with pytest.raises(InputError, match="does not belong"):
        crypto.KeyEntry.from_key(
            vector_key(2048), crypto.load_certificate(vector_cert_path(4096).read_bytes())
        )


def test_key_ring_counts_rsa_attempts_and_skips_keys_of_another_size() -> None:
    a = crypto.KeyEntry.from_key(vector_key(2048))
    b = crypto.KeyEntry.from_key(rsa.generate_private_key(65537, 2048))
    c = crypto.KeyEntry.from_key(vector_key(4096))
    ring = crypto.KeyRing([b, c, a])  # equal dates: insertion order
    value = crypto.Sealer(vector_key(2048).public_key()).seal(b"v", b"l")
    assert ring.open(value, b"l") == (b"v", a)
    assert ring.decrypt_attempts == 2  # b (miss), then a; the 4096-bit key is never tried
    assert ring.open(value, b"l", [a.fingerprint]) == (b"v", a)
    assert ring.decrypt_attempts == 3
    with pytest.raises(UnsealError, match="none of 2 keys opens it"):
        ring.open(value, b"other")
    with pytest.raises(UnsealError, match="no private keys"):
        crypto.KeyRing().open(value, b"l")
    with pytest.raises(UnsealError, match="no key of that size"):
        crypto.KeyRing([c]).open(value, b"l")
