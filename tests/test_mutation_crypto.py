"""secretsync/crypto.py: the behaviour mutation testing found untested (docs/testing.md, "Mutation testing").

Every error a user can see is asserted word for word (the CLI prints them as they are); the DER
readers are fed certificates and keys built here byte by byte, so each check of the hand-written
parser (lengths, tags, the tbsCertificate layout, validity times, the RSA numbers) has a case on
each side of it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from secretsync import crypto
from secretsync.errors import InputError, UnsealError
from tests.test_crypto import ec_key, make_cert, small_rsa_key, vector_key

# --------------------------------------------------------------------------- DER, written out by hand


def tlv(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def integer(value: int) -> bytes:
    """A non-negative DER INTEGER (a leading zero byte when the top bit is set)."""
    return tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _pem(label: str, der: bytes) -> bytes:
    return (
        f"-----BEGIN {label}-----\n".encode() + base64.encodebytes(der) + f"-----END {label}-----\n".encode()
    )


def seq(*parts: bytes) -> bytes:
    return tlv(0x30, b"".join(parts))


RSA_OID = bytes.fromhex("2a864886f70d010101")
EC_OID = bytes.fromhex("2a8648ce3d0201")
UNKNOWN_OID = bytes.fromhex("2a8648ce3d0299")
SHA256_RSA = seq(tlv(0x06, bytes.fromhex("2a864886f70d01010b")), b"\x05\x00")
NAME = seq(tlv(0x31, seq(tlv(0x06, bytes.fromhex("550403")), tlv(0x0C, b"x"))))
VERSION = tlv(0xA0, integer(2))


def rsa_spki(n: int, e: int) -> bytes:
    return seq(seq(tlv(0x06, RSA_OID), b"\x05\x00"), tlv(0x03, b"\x00" + seq(integer(n), integer(e))))


def validity(
    before: bytes = b"300101000000Z", after: bytes = b"400101000000Z", tags: tuple[int, int] = (0x17, 0x17)
) -> bytes:
    return seq(tlv(tags[0], before), tlv(tags[1], after))


def cert(*tbs_fields: bytes) -> bytes:
    return seq(seq(*tbs_fields), SHA256_RSA, tlv(0x03, b"\x00sig"))


def n2048() -> int:
    return vector_key(2048).public_key().public_numbers().n


def tbs_fields(spki: bytes | None = None, valid: bytes | None = None) -> list[bytes]:
    return [
        VERSION,
        integer(7),
        SHA256_RSA,
        NAME,
        valid if valid is not None else validity(),
        NAME,
        spki if spki is not None else rsa_spki(n2048(), 65537),
    ]


def load_error(data: bytes) -> str:
    with pytest.raises(InputError) as caught:
        crypto.load_certificate(data)
    return str(caught.value)


def invalid(reason: str) -> str:
    return f"not a valid X.509 certificate ({reason})"


# --------------------------------------------------------------------------- scope labels and sealing


def test_scope_label_errors_name_the_problem() -> None:
    cases: list[tuple[Any, str | None, str | None, str]] = [
        (
            "global",
            "ns",
            "n",
            "unknown scope 'global' (expected one of strict, namespace-wide, cluster-wide)",
        ),
        ("strict", "a/b", "n", "namespace 'a/b' contains '/'"),
        ("namespace-wide", "a/b", None, "namespace 'a/b' contains '/'"),
        ("strict", "ns", None, "a strict seal needs a name"),
        ("strict", "ns", "x/y", "name 'x/y' contains '/'"),
    ]
    for scope, namespace, name, message in cases:
        with pytest.raises(InputError) as caught:
            crypto.scope_label(scope, namespace, name)
        assert str(caught.value) == message


def test_the_sealer_refuses_what_is_not_a_usable_rsa_key_in_words() -> None:
    with pytest.raises(InputError) as caught:
        crypto.Sealer(ec_key().public_key())  # type: ignore[arg-type]
    assert str(caught.value) == "sealing needs an RSA public key"
    with pytest.raises(InputError) as caught:
        crypto.Sealer(small_rsa_key().public_key())
    assert str(caught.value) == "the sealing key has 1024 bits, fewer than 2048"


def test_the_sealer_keeps_a_given_fingerprint_and_computes_one_otherwise() -> None:
    public = vector_key(2048).public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    computed = crypto.Sealer(public)
    assert computed.fingerprint == hashlib.sha256(der).hexdigest()
    assert computed.key_size == 2048
    assert crypto.Sealer(public, "given").fingerprint == "given"


# --------------------------------------------------------------------------- opening


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\x01", "too short to be a sealed value"),
        (b"\x00\x00", "truncated: shorter than its RSA block and GCM tag"),
        (b"\x00\x00" + bytes(40), "truncated: shorter than its RSA block and GCM tag"),
        (b"\x00\x01" + bytes(16), "truncated: shorter than its RSA block and GCM tag"),
        (b"\x01\x00" + bytes(256 + 10), "truncated: shorter than its RSA block and GCM tag"),
        (b"\x80\x00" + bytes(100), "truncated: shorter than its RSA block and GCM tag"),
    ],
)
def test_split_sealed_refuses_short_and_truncated_values(raw: bytes, message: str) -> None:
    with pytest.raises(UnsealError) as caught:
        crypto.split_sealed(_b64(raw))
    assert str(caught.value) == message


def test_split_sealed_splits_at_the_length_prefix() -> None:
    raw = b"\x00\x01" + b"R" + bytes(16)
    assert crypto.split_sealed(_b64(raw)) == (b"R", bytes(16))
    with pytest.raises(UnsealError) as caught:
        crypto.split_sealed("not base64!")
    assert str(caught.value) == "not valid base64"


def test_unseal_failures_say_what_failed() -> None:
    key = vector_key(2048)
    sealed = crypto.encrypt(key.public_key(), b"ns/name", b"value")
    with pytest.raises(UnsealError) as caught:
        crypto.decrypt(key, b"ns/other", sealed)
    assert str(caught.value) == "the key does not open it (wrong key, or wrong name, namespace or scope)"
    rsa_block, payload = crypto.split_sealed(sealed)
    session_key = key.decrypt(rsa_block, crypto._oaep(b"ns/name"))
    with pytest.raises(UnsealError) as caught:
        crypto.open_payload(session_key, payload[:-1] + bytes([payload[-1] ^ 1]))
    assert str(caught.value) == "AES-GCM authentication failed: the value is corrupt or was tampered with"


def test_the_key_ring_says_why_nothing_opened() -> None:
    key = vector_key(2048)
    sealed = crypto.encrypt(key.public_key(), b"ns/name", b"value")
    with pytest.raises(UnsealError) as caught:
        crypto.KeyRing().open(sealed, b"ns/name")
    assert str(caught.value) == "no private keys to try"
    other_size = crypto.KeyRing([crypto.KeyEntry.from_key(vector_key(4096))])
    with pytest.raises(UnsealError) as caught:
        other_size.open(sealed, b"ns/name")
    assert str(caught.value) == "sealed for a 2048-bit key and no key of that size is available"
    ring = crypto.KeyRing([crypto.KeyEntry.from_key(key)])
    with pytest.raises(UnsealError) as caught:
        ring.open(sealed, b"ns/other")
    assert (
        str(caught.value) == "the key does not open it (wrong key, or the name, namespace or scope changed)"
    )
    assert ring.get("no such fingerprint") is None


def test_a_certificate_of_another_key_is_refused_in_words() -> None:
    certificate = crypto.load_certificate(make_cert(vector_key(4096)))
    with pytest.raises(InputError) as caught:
        crypto.KeyEntry.from_key(vector_key(2048), certificate)
    assert str(caught.value) == "the certificate does not belong to the private key"


# --------------------------------------------------------------------------- fingerprints (the DER writer)


@pytest.mark.parametrize(("n_bits", "e"), [(2048, 65537), (2048, 127), (1020, 3), (1024, 65537)])
def test_fingerprints_are_the_sha256_of_cryptographys_own_der(n_bits: int, e: int) -> None:
    """Lengths of exactly 128 bytes (long form) and INTEGERs whose top bit is the seventh."""
    n = (1 << (n_bits - 1)) | 0x1F  # odd, exactly n_bits long
    public = rsa.RSAPublicNumbers(e, n).public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert crypto.public_key_fingerprint(public) == hashlib.sha256(der).hexdigest()


# --------------------------------------------------------------------------- certificates


def test_validity_is_inclusive_at_both_ends_and_the_dates_are_shown_in_utc(tokyo: None) -> None:
    start = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    certificate = crypto.load_certificate(make_cert(vector_key(2048), not_before=start, days=1))
    assert certificate.validity_problem(start) is None
    assert certificate.validity_problem(start + timedelta(days=1)) is None
    assert (
        certificate.validity_problem(start - timedelta(seconds=1))
        == "is not valid before 2030-01-02T03:04:05Z"
    )
    assert (
        certificate.validity_problem(start + timedelta(days=1, seconds=1))
        == "expired on 2030-01-03T03:04:05Z"
    )


def test_a_hand_built_certificate_reads_back() -> None:
    certificate = crypto.load_certificate(cert(*tbs_fields()))
    assert certificate.not_before == datetime(2030, 1, 1, tzinfo=UTC)
    assert certificate.not_after == datetime(2040, 1, 1, tzinfo=UTC)
    assert certificate.public_key.public_numbers().n == n2048()
    # a version-1 certificate has no [0] version field
    assert crypto.load_certificate(cert(*tbs_fields()[1:])).not_before == datetime(2030, 1, 1, tzinfo=UTC)


def test_the_reader_stops_after_the_fields_it_needs() -> None:
    """Fields after subjectPublicKeyInfo are not parsed (a malformed extension does not matter)."""
    broken_extensions = b"\x1f\x00"  # a tag number form the reader refuses, as the 8th field
    assert crypto.load_certificate(cert(*tbs_fields(), broken_extensions)).not_before.year == 2030
    # without a version field, a seventh field (issuerUniqueID) is just one more field
    v1_with_unique_id = [*tbs_fields()[1:], tlv(0x81, b"\x00\x01")]
    assert crypto.load_certificate(cert(*v1_with_unique_id)).not_after.year == 2040


@pytest.mark.parametrize(
    ("before", "tag", "when"),
    [
        (b"500101000000Z", 0x17, datetime(1950, 1, 1, tzinfo=UTC)),
        (b"491231235959Z", 0x17, datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (b"20500101000000Z", 0x18, datetime(2050, 1, 1, tzinfo=UTC)),
    ],
)
def test_validity_times_utc_and_generalized(before: bytes, tag: int, when: datetime) -> None:
    data = cert(*tbs_fields(valid=validity(before, b"20991231235959Z", (tag, 0x18))))
    assert crypto.load_certificate(data).not_before == when


@pytest.mark.parametrize(
    ("before", "tag", "reason"),
    [
        (b"491231235959Z", 0x18, "unsupported validity time"),  # UTCTime text under the GeneralizedTime tag
        (b"20300101000000Z", 0x17, "unsupported validity time"),
        (b"20300101000000X", 0x18, "unsupported validity time"),
        (b"2030010100000Z", 0x18, "unsupported validity time"),
        (b"2030010100000aZ", 0x18, "unsupported validity time"),
        (b"300101000000", 0x17, "unsupported validity time"),
        (b"3001010000a0Z", 0x17, "unsupported validity time"),
        (b"30010100000\xffZ", 0x17, "unsupported validity time"),
        (b"301301000000Z", 0x17, "invalid validity time"),
        (b"20301301000000Z", 0x18, "invalid validity time"),
        (b"300101000000Z", 0x04, "unsupported validity time"),
    ],
)
def test_bad_validity_times_are_refused_with_the_reason(before: bytes, tag: int, reason: str) -> None:
    data = cert(*tbs_fields(valid=validity(before, b"400101000000Z", (tag, 0x17))))
    assert load_error(data) == invalid(reason)


def _spki_with_bits(bits: bytes, tag: int = 0x03) -> bytes:
    return seq(seq(tlv(0x06, RSA_OID), b"\x05\x00"), tlv(tag, bits))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x30", "truncated"),
        (b"\x30\x05\x30", "truncated"),
        (b"\x30\x02\x3f\x00", "unsupported tag"),
        (b"\x30\x80", "bad length"),
        (b"\x30\x85\x00\x00\x00\x00\x01", "bad length"),
        (b"\x30\x82\x01", "bad length"),
        (b"\x30\x81\x00", "truncated"),  # the length bytes end exactly at the end: read, then too short
        (b"\x30\x81\x05\x00", "truncated"),
        (seq(integer(1)), "no tbsCertificate"),
        (_pem("CERTIFICATE", tlv(0x31, b"")), "not a SEQUENCE"),
        (cert(*tbs_fields()[:-1]), "unexpected tbsCertificate layout"),
        (
            cert(VERSION, integer(7), SHA256_RSA, NAME, validity(), integer(1), NAME),
            "unexpected tbsCertificate layout",
        ),
        (cert(*tbs_fields(spki=tlv(0x30, tlv(0x31, tlv(0x06, RSA_OID))))), "bad SubjectPublicKeyInfo"),
        (cert(*tbs_fields(spki=seq(seq(integer(1))))), "bad SubjectPublicKeyInfo"),
        (cert(*tbs_fields(spki=_spki_with_bits(b""))), "bad public key BIT STRING"),
        (
            cert(*tbs_fields(spki=_spki_with_bits(b"\x01" + seq(integer(3), integer(3))))),
            "bad public key BIT STRING",
        ),
        (
            cert(*tbs_fields(spki=_spki_with_bits(b"\x00" + seq(integer(3)), tag=0x04))),
            "bad public key BIT STRING",
        ),
        (
            cert(*tbs_fields(spki=_spki_with_bits(b"\x00" + seq(tlv(0x02, b""), integer(3))))),
            "bad RSA public key",
        ),
        (
            cert(*tbs_fields(spki=_spki_with_bits(b"\x00" + seq(integer(n2048()), tlv(0x02, b""))))),
            "bad RSA public key",
        ),
        (
            cert(*tbs_fields(spki=_spki_with_bits(b"\x00" + seq(tlv(0x04, b"\x01"), integer(3))))),
            "bad RSA public key",
        ),
        (
            cert(*tbs_fields(spki=_spki_with_bits(b"\x00" + seq(integer(n2048()), tlv(0x04, b"\x03"))))),
            "bad RSA public key",
        ),
        (
            cert(
                *tbs_fields(spki=_spki_with_bits(b"\x00" + seq(tlv(0x02, b"\x80" + bytes(255)), integer(3))))
            ),
            "negative RSA modulus or exponent",
        ),
        (
            cert(*tbs_fields(spki=_spki_with_bits(b"\x00" + seq(integer(n2048()), tlv(0x02, b"\x81"))))),
            "negative RSA modulus or exponent",
        ),
    ],
)
def test_malformed_der_is_refused_with_the_reason(data: bytes, reason: str) -> None:
    assert load_error(data) == invalid(reason)


def test_a_certificate_for_another_key_type_names_it() -> None:
    assert load_error(make_cert(ec_key())) == "its key is EC, not RSA: SealedSecrets need an RSA certificate"
    der = make_cert(ec_key(), der=True)
    assert der.count(EC_OID) == 1
    unknown = der.replace(EC_OID, UNKNOWN_OID)
    assert load_error(unknown) == "its key is of another type, not RSA: SealedSecrets need an RSA certificate"


def test_rsa_certificate_numbers_are_checked_in_words() -> None:
    assert load_error(make_cert(small_rsa_key())) == "its RSA key has 1024 bits, fewer than 2048"
    big_e = cert(*tbs_fields(spki=rsa_spki(n2048(), (1 << 64) + 1)))
    assert load_error(big_e) == "its RSA key has a public exponent over 64 bits"
    even_e = cert(*tbs_fields(spki=rsa_spki(n2048(), 4)))
    assert load_error(even_e) == "its RSA public key is invalid"
    widest = crypto.load_certificate(cert(*tbs_fields(spki=rsa_spki(n2048(), (1 << 63) + 1))))
    assert widest.public_key.public_numbers().e == (1 << 63) + 1


def test_what_is_not_a_certificate_is_refused_in_words() -> None:
    key_pem = crypto.dump_private_key(vector_key(2048))
    cases = [
        (key_pem, "holds a private key, not a certificate (pass the public tls.crt)"),
        (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "no PEM CERTIFICATE block in it"),
        (
            b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
            "its PEM certificate is not valid base64",
        ),
        (b"hello", "not a PEM or DER certificate"),
    ]
    for data, message in cases:
        assert load_error(data) == message
    der = cert(*tbs_fields())
    old_label = (
        b"-----BEGIN X509 CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END X509 CERTIFICATE-----\n"
    )
    assert crypto.load_certificate(old_label).not_before.year == 2030


def test_load_x509_checks_the_key_on_the_der_and_names_what_is_wrong() -> None:
    pem = make_cert(vector_key(2048))
    assert (
        crypto.load_x509(pem).public_key().public_numbers() == vector_key(2048).public_key().public_numbers()
    )
    cases = [
        (make_cert(small_rsa_key()), "its RSA key has 1024 bits, fewer than 2048"),
        (
            cert(*tbs_fields(spki=rsa_spki(n2048(), (1 << 64) + 1))),
            "its RSA key has a public exponent over 64 bits",
        ),
        (cert(*tbs_fields()[:-1]), "not a valid X.509 certificate"),
        (cert(VERSION, integer(7), SHA256_RSA, integer(1), validity(), NAME, tbs_fields()[-1]), ""),
    ]
    for data, message in cases:
        with pytest.raises(InputError) as caught:
            crypto.load_x509(data)
        assert str(caught.value) == (message or "not a valid X.509 certificate")
    assert crypto.load_x509(make_cert(ec_key())).public_key().key_size == 256


def test_key_generation_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[int, int]] = []

    def fake(public_exponent: int, key_size: int) -> str:
        asked.append((public_exponent, key_size))
        return "key"

    monkeypatch.setattr(crypto.rsa, "generate_private_key", fake)
    assert crypto.generate_private_key(16384) == "key"
    assert crypto.generate_private_key(2048) == "key"
    assert asked == [(65537, 16384), (65537, 2048)]
    with pytest.raises(InputError) as caught:
        crypto.generate_private_key(16385)
    assert str(caught.value) == "RSA keys may have at most 16384 bits"


def test_self_signed_certificates_carry_exactly_our_extensions(tokyo: None) -> None:
    pem = crypto.self_signed_certificate(vector_key(2048))
    certificate = x509.load_pem_x509_certificate(pem)
    assert certificate.subject.rfc4514_string() == "CN=secretsync"
    assert abs(certificate.not_valid_before_utc - datetime.now(UTC)) < timedelta(minutes=1)
    basic = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical
    assert (basic.value.ca, basic.value.path_length) == (False, None)
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.key_encipherment
    for flag in ("digital_signature", "content_commitment", "data_encipherment", "key_agreement"):
        assert getattr(usage.value, flag) is False, flag
    assert (usage.value.key_cert_sign, usage.value.crl_sign) == (False, False)
    ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert not ski.critical
    assert ski.value == x509.SubjectKeyIdentifier.from_public_key(vector_key(2048).public_key())


# --------------------------------------------------------------------------- private keys


def _inconsistent_key_pem() -> bytes:
    numbers = vector_key(2048).private_numbers()
    wrong = rsa.RSAPrivateNumbers(
        numbers.p, numbers.q, numbers.d + 2, numbers.dmp1, numbers.dmq1, numbers.iqmp, numbers.public_numbers
    )
    return crypto.dump_private_key(wrong.private_key(unsafe_skip_rsa_key_validation=True))


def load_keys_error(data: bytes) -> str:
    with pytest.raises(InputError) as caught:
        crypto.load_private_keys(data)
    return str(caught.value)


def test_private_keys_are_validated_unless_asked_not_to() -> None:
    pem = _inconsistent_key_pem()
    assert load_keys_error(pem) == "its private key cannot be read"
    assert len(crypto.load_private_keys(pem, validate=False)) == 1


def test_private_key_errors_name_the_problem() -> None:
    n = n2048()
    ec_pkcs8 = ec_key().private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert ec_pkcs8.count(EC_OID) == 1
    legacy_encrypted = vector_key(2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.BestAvailableEncryption(b"pw"),
    )
    assert b"Proc-Type: 4,ENCRYPTED" in legacy_encrypted
    cases = [
        (b"-----BEGIN PRIVATE KEY-----END PRIVATE KEY-----", "no PEM private key in it"),
        (b"nothing", "no PEM private key in it"),
        (legacy_encrypted, "its private key is password-protected; decrypt it first"),
        (_pem("EC PRIVATE KEY", b"\x30\x00"), "its private key is not RSA (expected PKCS#1 or PKCS#8 PEM)"),
        (_pem("PRIVATE KEY", ec_pkcs8), "its private key is EC, not RSA"),
        (
            _pem("PRIVATE KEY", ec_pkcs8.replace(EC_OID, UNKNOWN_OID)),
            "its private key is of another type, not RSA",
        ),
        (b"-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n", "its private key cannot be read"),
        (
            _pem("RSA PRIVATE KEY", seq(integer(0), integer(n), integer((1 << 64) + 1))),
            "its private key has a public exponent over 64 bits",
        ),
        (
            _pem("RSA PRIVATE KEY", seq(integer(0), tlv(0x02, b""), integer(3))),
            "its private key cannot be read",
        ),
        (
            _pem("RSA PRIVATE KEY", seq(integer(0), integer(n), tlv(0x02, b""))),
            "its private key cannot be read",
        ),
        (
            _pem("RSA PRIVATE KEY", seq(tlv(0x04, b"\x00"), integer(1 << 1023), integer(3))),
            "its private key cannot be read",
        ),
        (
            _pem("RSA PRIVATE KEY", seq(integer(0), integer(1 << 1023), integer(3))),
            "its private key has 1024 bits, fewer than 2048",
        ),
    ]
    for data, message in cases:
        assert load_keys_error(data) == message, data[:40]


def test_a_length_may_take_four_bytes() -> None:
    """DER allows long-form lengths of up to four bytes here (non-minimal, but read)."""
    der = cert(*tbs_fields())
    assert der[:2] == b"\x30\x82"
    content = der[4:]
    four = b"\x30\x84" + len(content).to_bytes(4, "big") + content
    assert crypto.load_certificate(four).not_before.year == 2030


def test_load_x509_names_a_certificate_openssl_refuses() -> None:
    no_signature = seq(seq(*tbs_fields()))
    assert crypto.load_certificate(no_signature).not_before.year == 2030  # our reader needs only the tbs
    with pytest.raises(InputError) as caught:
        crypto.load_x509(no_signature)
    assert str(caught.value) == "not a valid X.509 certificate"


def test_check_rsa_size_names_the_key_by_default() -> None:
    with pytest.raises(InputError) as caught:
        crypto.check_rsa_size(1024)
    assert str(caught.value) == "the RSA key has 1024 bits, fewer than 2048"
    with pytest.raises(InputError) as caught:
        crypto.check_rsa_size(16392)
    assert str(caught.value) == "the RSA key has 16392 bits, more than 16384"


def test_the_unsealed_mark_is_a_pinned_hmac_and_only_version_1_holds() -> None:
    """Marks outlive the process that wrote them (an upgrade reads the old ones): the form is fixed."""
    entry = crypto.KeyEntry.from_key(vector_key(2048))
    ring = crypto.KeyRing([entry])
    mark = crypto.unsealed_mark(entry, "intent", b"content")
    tag = hmac.new(entry.mark_key, b"intent\0content", "sha256").hexdigest()
    assert mark == f"v1:{entry.fingerprint}:{tag}"
    assert crypto.mark_holds(ring, mark, "intent", b"content")
    assert not crypto.mark_holds(ring, "v0" + mark[2:], "intent", b"content")
    assert not crypto.mark_holds(ring, mark, "intent", b"other")
