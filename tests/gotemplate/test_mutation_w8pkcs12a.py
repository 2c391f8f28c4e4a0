"""Mutants of pkcs12.py's password forms, key derivations and PBES2 parameters.

Expected values are go-pkcs12 v0.7.4 (bmpStringZeroTerminated, decodeBMPString, pbkdf and
fillWithRepeats, pbkdf2Params with its optional keyLength and prf defaulting to HMAC-SHA-1),
golang.org/x/crypto/pbkdf2 and OpenSSL 3 (``openssl kdf ... PKCS12KDF`` gives the same
vectors). Where a value is our own resource accounting (the budget charge, the size and
iteration bounds checked before any work) the test says so.
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from secretsync.gotemplate import Limits
from secretsync.gotemplate.funcs import der, pkcs12
from secretsync.gotemplate.limits import Budget


def _budget() -> Budget:
    return Budget(Limits())


# --- bmp_password: go-pkcs12's bmpStringZeroTerminated ------------------------------------------------

# U+DC80..U+DCFF stand for invalid UTF-8 bytes, which Go's range over a string reads as U+FFFD;
# every other BMP code point (U+E000, U+FFFF) is two bytes big-endian.
BMP_CASES = [
    ("a\udc80", "0061fffd0000"),
    ("\udcff", "fffd0000"),
    ("\uffff", "ffff0000"),
    ("\ue000\ud7ff", "e000d7ff0000"),
]


@pytest.mark.parametrize(("password", "want"), BMP_CASES)
def test_bmp_password_encodes_as_go_pkcs12(password: str, want: str) -> None:
    assert pkcs12.bmp_password(password).hex() == want


# Go: utf16.EncodeRune(r) != U+FFFD (a rune past the BMP) -> "cannot be encoded in UCS-2"; a lone
# surrogate never comes out of Go's UTF-8 decoding and has no UCS-2 form either
@pytest.mark.parametrize("password", ["\U00010000", "x\U0001f600", "\ud800", "\udc7f", "\udd00", "\udfff"])
def test_bmp_password_refuses_what_ucs2_cannot_hold(password: str) -> None:
    with pytest.raises(pkcs12.PKCS12Error):
        pkcs12.bmp_password(password)


# --- _utf8_password: go-pkcs12's decodeBMPString before PBES2 / PBMAC1 ----------------------------------

UTF8_CASES: list[tuple[bytes | None, bytes]] = [
    (None, b""),  # the nil password of the empty-password MAC retry
    (b"", b""),
    (b"\x00\x00", b""),
    (b"\x00a\x00\x00", b"a"),
    (b"\x00a", b"a"),  # no terminator: nothing stripped
    (b"\xff\xfd\x00\x00", "\ufffd".encode()),
]


@pytest.mark.parametrize(("bmp", "want"), UTF8_CASES)
def test_utf8_password_strips_the_terminator_like_decode_bmp_string(bmp: bytes | None, want: bytes) -> None:
    assert pkcs12._utf8_password(bmp) == want


# --- the RFC 7292 B.2 key derivation (go-pkcs12 pbkdf), vectors checked with OpenSSL 3 PKCS12KDF ------

KDF_CASES = [
    # two hash blocks for 21 bytes: the second uses the adjusted I
    ("sha1", "ff" * 8, "00730065007300610000", 3, 1, 21, "f4d537cc1e62902252b3306febd32ad99ee6611f0b"),
    # a 1-byte salt fills 64 bytes; a 64-byte password exactly one block of v
    ("sha1", "07", "0061" * 32, 2, 3, 20, "103a8d06979792963a077d9552b017905c195343"),
    # an empty password contributes nothing (fillWithRepeats of nothing is nothing)
    ("sha1", "0102030405060708", "", 1, 1, 24, "39d3776b5e1e17a1db1cb6db5ebea05d6ea2fc0edf0c48cf"),
    # and so does an empty salt
    ("sha1", "", "00610000", 1, 1, 24, "f1750286e0297ab79523dae6678f50873aece2b8f786b2a5"),
]


@pytest.mark.parametrize(("algo", "salt", "password", "iterations", "ident", "size", "want"), KDF_CASES)
def test_pkcs12_kdf_known_answers(
    algo: str, salt: str, password: str, iterations: int, ident: int, size: int, want: str
) -> None:
    got = pkcs12.pkcs12_kdf(algo, bytes.fromhex(salt), bytes.fromhex(password), iterations, ident, size)
    assert got.hex() == want


FILL_CASES = [
    (b"", 64, b""),
    (b"\x01", 64, b"\x01" * 64),
    (bytes(range(64)), 64, bytes(range(64))),
    (bytes(range(63)), 64, bytes(range(63)) + b"\x00"),
    (bytes(range(65)), 64, bytes(range(65)) + bytes(range(63))),
]


@pytest.mark.parametrize(("pattern", "v", "want"), FILL_CASES)
def test_fill_repeats_to_a_multiple_of_v(pattern: bytes, v: int, want: bytes) -> None:
    assert pkcs12._fill(pattern, v) == want


# --- our accounting: 1 ms + 1 per ITERATIONS_PER_MS iterations, whole milliseconds ------------------------


def test_charge_is_one_ms_plus_whole_thousands_of_iterations() -> None:
    budget = _budget()
    pkcs12._charge(budget, 2048)
    assert budget.expensive_ms == 2
    pkcs12._charge(budget, 1999)
    assert budget.expensive_ms == 3
    assert isinstance(budget.expensive_ms, int)


# --- _alg: an AlgorithmIdentifier --------------------------------------------------------------------


def test_alg_of_an_empty_sequence_is_refused() -> None:
    with pytest.raises(pkcs12.PKCS12Error):
        pkcs12._alg(der.parse(der.sequence()))


def test_alg_with_a_trailing_element_is_read_as_go_does() -> None:
    # Go's encoding/asn1 reads a SEQUENCE into a struct and leaves extra elements at its end unread:
    # a pkix.AlgorithmIdentifier with a third element parses
    oid, params = pkcs12._alg(der.parse(der.sequence(der.oid(pkcs12.OID_PBKDF2), der.null(), der.null())))
    assert oid == pkcs12.OID_PBKDF2
    assert params is not None and params.tag == der.NULL


# --- _pbkdf2: go-pkcs12's pbkdf2Params ----------------------------------------------------------------

SALT = bytes(range(16))
SALT_TLV = der.octet_string(SALT)
HMAC_SHA256 = der.sequence(der.oid("1.2.840.113549.2.9"), der.null())
HMAC_SHA512 = der.sequence(der.oid("1.2.840.113549.2.11"), der.null())


def _params(*items: bytes) -> der.TLV:
    return der.parse(der.sequence(*items))


def test_pbkdf2_prf_defaults_to_hmac_sha1_and_one_iteration_is_one() -> None:
    # salt and iteration count only: keyLength and prf are optional (prf DEFAULT hmacWithSHA1)
    params = _params(der.octet_string(SALT), der.integer(1))
    want = hashlib.pbkdf2_hmac("sha1", b"pw", SALT, 1, 32)
    assert pkcs12._pbkdf2(_budget(), params, b"pw", 32) == (want, 1)


def test_pbkdf2_takes_the_named_prf_and_the_callers_key_length() -> None:
    params = _params(der.octet_string(SALT), der.integer(3), der.integer(16), HMAC_SHA256)
    want = hashlib.pbkdf2_hmac("sha256", b"pw", SALT, 3, 32)
    assert pkcs12._pbkdf2(_budget(), params, b"pw", 32) == (want, 3)


def test_pbkdf2_refuses_a_salt_that_is_not_an_octet_string() -> None:
    # go-pkcs12: "only octet string salts are supported for pbkdf2"
    params = _params(der.tlv(0x0C, SALT), der.integer(1))
    with pytest.raises(pkcs12.PKCS12Error):
        pkcs12._pbkdf2(_budget(), params, b"pw", 32)


# PBMAC1 (no key length from the cipher): the declared keyLength, 1..64 bytes
@pytest.mark.parametrize(
    ("declared", "prf", "algo"), [(1, HMAC_SHA256, "sha256"), (64, HMAC_SHA512, "sha512")]
)
def test_pbkdf2_declared_key_length_in_range(declared: int, prf: bytes, algo: str) -> None:
    params = _params(der.octet_string(SALT), der.integer(2), der.integer(declared), prf)
    want = hashlib.pbkdf2_hmac(algo, b"pw", SALT, 2, declared)
    assert pkcs12._pbkdf2(_budget(), params, b"pw", None) == (want, 2)


# our bounds, checked before the derivation is charged: no keyLength (0) or one over 64 bytes,
# an iteration count over 2**31, a keyLength over 2**16
@pytest.mark.parametrize(
    ("items", "key_len", "error"),
    [
        ((der.octet_string(SALT), der.integer(1 << 31)), None, pkcs12.PKCS12Error),
        ((SALT_TLV, der.integer(1 << 31), der.integer(65), HMAC_SHA512), None, pkcs12.PKCS12Error),
        ((der.octet_string(SALT), der.integer((1 << 31) + 1)), 32, der.DERError),
        ((der.octet_string(SALT), der.integer(1 << 32)), 32, der.DERError),
        ((der.octet_string(SALT), der.integer(1), der.integer((1 << 16) + 1)), 32, der.DERError),
    ],
)
def test_pbkdf2_bounds_are_checked_before_any_charge(
    items: tuple[bytes, ...], key_len: int | None, error: type[Exception]
) -> None:
    budget = _budget()
    with pytest.raises(error):
        pkcs12._pbkdf2(budget, _params(*items), b"pw", key_len)
    assert budget.expensive_ms == 0


# --- _pb_decrypt: our size bound is inclusive -----------------------------------------------------------


def test_pb_decrypt_takes_exactly_max_encrypted_bytes() -> None:
    iv = bytes(16)
    kdf = der.sequence(der.oid(pkcs12.OID_PBKDF2), der.sequence(der.octet_string(SALT), der.integer(1)))
    scheme = der.sequence(der.oid("2.16.840.1.101.3.4.1.2"), der.octet_string(iv))
    alg = der.parse(der.sequence(der.oid(pkcs12.OID_PBES2), der.sequence(kdf, scheme)))
    key = hashlib.pbkdf2_hmac("sha1", b"pw", SALT, 1, 16)
    plain = bytes(pkcs12.MAX_ENCRYPTED - 16)
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    data = enc.update(plain + bytes([16]) * 16) + enc.finalize()
    assert len(data) == pkcs12.MAX_ENCRYPTED
    assert pkcs12._pb_decrypt(_budget(), alg, data, pkcs12.bmp_password("pw")) == plain
