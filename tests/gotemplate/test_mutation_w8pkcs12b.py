"""Mutants of the PKCS#12 reader (pkcs12.py: _pb_decrypt, _mac, safe_bags), through ``pkcs12keyPass``.

Expected values are go-pkcs12 v0.7.4's (ESO's reader): encoding/asn1 allows extra elements at the end
of a SEQUENCE (PBES2, PBE and PBMAC1 parameters), PBMAC1 key lengths of 20 or more, the empty
password retried as an empty byte string, PKCS#7 padding checked byte for byte. Where the value is
our own resource accounting (iteration counts charged to the expensive-call budget) the test says so.
Each archive is built here: a plain key bag and a certificate bag, encrypted as stated, with a MAC.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.decrepit.ciphers.algorithms import RC2, TripleDES
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from secretsync.gotemplate import Limits, TemplateError
from secretsync.gotemplate.funcs import der, pkcs12
from tests.gotemplate.test_mutation_funcsB import CN_X, _cert_pem, r

_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KEY_DER = _KEY.private_bytes(
    serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)
KEY_PEM = _KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
CERT_DER = x509.load_pem_x509_certificate(_cert_pem(CN_X, []).encode()).public_bytes(
    serialization.Encoding.DER
)
PW = "pw"
BMP = pkcs12.bmp_password(PW)
FAILED = "function failed"
LIMIT = "expensive call limit"
HMAC_SHA256 = "1.2.840.113549.2.9"
AES256 = "2.16.840.1.101.3.4.1.42"
SHA256 = "2.16.840.1.101.3.4.2.1"


def _bags(n: int) -> bytes:
    """The certificate bag, then the key bag with an attribute of ``n`` filler bytes (ends in b"k")."""
    attr = der.sequence(der.oid(pkcs12.OID_LOCAL_KEY_ID), der.set_of(der.octet_string(b"k" * n)))
    key_bag = der.sequence(der.oid(pkcs12.OID_KEY_BAG), der.explicit(0, KEY_DER), der.set_of(attr))
    cert = der.sequence(der.oid(pkcs12.OID_X509_CERT), der.explicit(0, der.octet_string(CERT_DER)))
    cert_bag = der.sequence(der.oid(pkcs12.OID_CERT_BAG), der.explicit(0, cert))
    return der.sequence(cert_bag, key_bag)


def _bags_rem(block: int, rem: int) -> bytes:
    """SafeContents whose length is ``rem`` modulo ``block``."""
    return next(b for b in map(_bags, range(1, 100)) if len(b) % block == rem)


def _padded(block: int) -> bytes:
    plain = _bags(1)
    pad = block - len(plain) % block
    return plain + bytes([pad]) * pad


def _pbes2(plain: bytes, *, iterations: int = 1, extra: bool = False, iv: bool = True) -> tuple[bytes, bytes]:
    salt, ivb = b"s" * 8, b"i" * 16
    prf = der.sequence(der.oid(HMAC_SHA256), der.null())
    kdf = der.sequence(
        der.oid(pkcs12.OID_PBKDF2), der.sequence(der.octet_string(salt), der.integer(iterations), prf)
    )
    scheme = der.sequence(der.oid(AES256), *([der.octet_string(ivb)] if iv else []))
    params = der.sequence(kdf, scheme, *([der.null()] if extra else []))
    if iterations > 1000:
        ct = bytes(len(plain))  # never decrypted
    else:
        key = hashlib.pbkdf2_hmac("sha256", PW.encode(), salt, iterations, 32)
        enc = Cipher(algorithms.AES(key), modes.CBC(ivb)).encryptor()
        ct = enc.update(plain) + enc.finalize()
    return der.sequence(der.oid(pkcs12.OID_PBES2), params), ct


def _pbe(
    plain: bytes,
    *,
    oid: str = pkcs12.OID_PBE_3DES,
    iterations: int = 1,
    extra: bool = False,
    pw: bytes = BMP,
) -> tuple[bytes, bytes]:
    salt = b"t" * 8
    params = der.sequence(der.octet_string(salt), der.integer(iterations), *([der.null()] if extra else []))
    if iterations > 100_000:
        ct = bytes(len(plain))  # never decrypted
    else:
        key_len = 24 if oid == pkcs12.OID_PBE_3DES else 16
        key = pkcs12.pkcs12_kdf("sha1", salt, pw, iterations, 1, key_len)
        iv = pkcs12.pkcs12_kdf("sha1", salt, pw, iterations, 2, 8)
        algo = TripleDES(key) if oid == pkcs12.OID_PBE_3DES else RC2(key)
        enc = Cipher(algo, modes.CBC(iv)).encryptor()
        ct = enc.update(plain) + enc.finalize()
    return der.sequence(der.oid(oid), params), ct


def _encrypted(alg_ct: tuple[bytes, bytes]) -> bytes:
    alg, ct = alg_ct
    eci = der.sequence(der.oid(pkcs12.OID_DATA), alg, der.tlv(0x80, ct))
    return der.sequence(
        der.oid(pkcs12.OID_ENCRYPTED_DATA), der.explicit(0, der.sequence(der.integer(0), eci))
    )


def _classic_mac(
    auth: bytes, *, pw: bytes = BMP, iterations: int = 1, salt: bool = True, salt_bytes: bytes = b"m" * 8
) -> bytes:
    used_salt = salt_bytes if salt else b""
    key = pkcs12.pkcs12_kdf("sha256", used_salt, pw, min(iterations, 1), 3, 32)
    digest = hmac.new(key, auth, "sha256").digest()
    mac = der.sequence(der.sequence(der.oid(SHA256)), der.octet_string(digest))
    if not salt:
        return der.sequence(mac)
    return der.sequence(mac, der.octet_string(salt_bytes), der.integer(iterations))


def _pbmac1(
    auth: bytes, *, kdf_oid: str = pkcs12.OID_PBKDF2, key_len: int = 32, extra: bool = False
) -> bytes:
    salt = b"p" * 8
    key = hashlib.pbkdf2_hmac("sha256", PW.encode(), salt, 1, key_len)
    digest = hmac.new(key, auth, "sha256").digest()
    kdf_params = der.sequence(
        der.octet_string(salt),
        der.integer(1),
        der.integer(key_len),
        der.sequence(der.oid(HMAC_SHA256), der.null()),
    )
    params = der.sequence(
        der.sequence(der.oid(kdf_oid), kdf_params),
        der.sequence(der.oid(HMAC_SHA256), der.null()),
        *([der.null()] if extra else []),
    )
    mac = der.sequence(der.sequence(der.oid(pkcs12.OID_PBMAC1), params), der.octet_string(digest))
    return der.sequence(mac, der.octet_string(b"ignored"), der.integer(1))


def _pfx(content: bytes, mac: Callable[[bytes], bytes] = _classic_mac, version: int = 3) -> str:
    auth = der.sequence(content)
    data = der.sequence(der.oid(pkcs12.OID_DATA), der.explicit(0, der.octet_string(auth)))
    return base64.b64encode(der.sequence(der.integer(version), data, mac(auth))).decode()


def _run(p12: str, password: str = PW, **kw: Any) -> str:
    src = "{{ pkcs12keyPass " + f'"{password}"' + " (b64dec .p) }}"
    try:
        return r(src, {"p": p12}, **kw)
    except TemplateError as e:
        return e.kind


def _bad_pad(block: int, tail: bytes) -> bytes:
    return _bags_rem(block, block - len(tail) % block if len(tail) % block else 0) + tail


CASES: list[tuple[str, Callable[[], str], str, str]] = [
    # the baseline: PBES2 (AES-256-CBC) and PBE-SHA1-3DES archives with a classic MAC
    ("pbes2", lambda: _pfx(_encrypted(_pbes2(_padded(16)))), PW, KEY_PEM),
    ("3des", lambda: _pfx(_encrypted(_pbe(_padded(8)))), PW, KEY_PEM),
    # go-pkcs12's pbes2Params / pbeParams / pbmac1Params are asn1 structs: extra trailing elements are
    # allowed (encoding/asn1 parseField: "We allow extra bytes at the end of the SEQUENCE")
    ("pbes2 params + extra", lambda: _pfx(_encrypted(_pbes2(_padded(16), extra=True))), PW, KEY_PEM),
    ("pbe params + extra", lambda: _pfx(_encrypted(_pbe(_padded(8), extra=True))), PW, KEY_PEM),
    ("pbmac1 params + extra", lambda: _pfx(_encrypted(_pbes2(_padded(16))), _pbmac1_extra), PW, KEY_PEM),
    # PBE-SHA1-RC2-128: a 16-byte key
    ("rc2-128", lambda: _pfx(_encrypted(_pbe(_padded(8), oid=pkcs12.OID_PBE_RC2_128))), PW, KEY_PEM),
    # AES without an IV is refused before its key is derived (no 10^8-iteration PBKDF2 is charged)
    (
        "aes no iv",
        lambda: _pfx(_encrypted(_pbes2(_padded(16), iterations=10**8, iv=False))),
        PW,
        FAILED,
    ),
    # iteration counts: at most 2^31 (ours: a bigger INTEGER is refused outright, not charged)
    ("pbe iter 2^31+1", lambda: _pfx(_encrypted(_pbe(_padded(8), iterations=(1 << 31) + 1))), PW, FAILED),
    (
        "mac iter 2^31+1",
        lambda: _pfx(_encrypted(_pbe(_padded(8))), lambda a: _classic_mac(a, iterations=(1 << 31) + 1)),
        PW,
        FAILED,
    ),
    # the empty password: MAC and 3DES keys from an empty byte string (go-pkcs12 retries with nil)
    (
        "empty pw as nil",
        lambda: _pfx(_encrypted(_pbe(_padded(8), pw=b"")), lambda a: _classic_mac(a, pw=b"")),
        "",
        KEY_PEM,
    ),
    # padding: one byte of 01 is fine; wrong bytes or a length past the block size are refused
    ("pad 01 (3des)", lambda: _pfx(_encrypted(_pbe(_bags_rem(8, 7) + b"\x01"))), PW, KEY_PEM),
    ("pad 01 (aes)", lambda: _pfx(_encrypted(_pbes2(_bags_rem(16, 15) + b"\x01"))), PW, KEY_PEM),
    ("pad bytes differ", lambda: _pfx(_encrypted(_pbe(_bad_pad(8, b"\x05\x05\x03")))), PW, FAILED),
    ("pad 09 > block 8", lambda: _pfx(_encrypted(_pbe(_bad_pad(8, b"\x09" * 9)))), PW, FAILED),
    ("pad 11 > block 16", lambda: _pfx(_encrypted(_pbes2(_bad_pad(16, b"\x11" * 17)))), PW, FAILED),
    # PBMAC1 (RFC 9579): PBKDF2 only; a key of 20 bytes is long enough (go-pkcs12: KeyLength < 20)
    ("pbmac1", lambda: _pfx(_encrypted(_pbes2(_padded(16))), _pbmac1), PW, KEY_PEM),
    (
        "pbmac1 key 20",
        lambda: _pfx(_encrypted(_pbes2(_padded(16))), lambda a: _pbmac1(a, key_len=20)),
        PW,
        KEY_PEM,
    ),
    (
        "pbmac1 key 19",
        lambda: _pfx(_encrypted(_pbes2(_padded(16))), lambda a: _pbmac1(a, key_len=19)),
        PW,
        FAILED,
    ),
    (
        "pbmac1 kdf not pbkdf2",
        lambda: _pfx(_encrypted(_pbes2(_padded(16))), lambda a: _pbmac1(a, kdf_oid=pkcs12.OID_PBES2)),
        PW,
        FAILED,
    ),
    # only v3 PFX
    ("version 2", lambda: _pfx(_encrypted(_pbe(_padded(8))), version=2), PW, FAILED),
]


def _pbmac1_extra(auth: bytes) -> bytes:
    return _pbmac1(auth, extra=True)


@pytest.mark.parametrize(("make", "password", "want"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_pkcs12_reader_cases(make: Callable[[], str], password: str, want: str) -> None:
    assert _run(make(), password) == want


# our accounting: 5 ms for the call, 1 + n // 2000 per derivation (MAC: 1 iteration -> 1 ms; the 3DES key
# and IV: 1 + 2 * 3000 // 2000 = 4 ms), 10 ms in all
def test_pkcs12_pbe_iterations_are_charged_twice() -> None:
    p12 = _pfx(_encrypted(_pbe(_padded(8), iterations=3000)))
    assert _run(p12, limits=Limits(max_expensive_ms=10)) == KEY_PEM
    assert _run(p12, limits=Limits(max_expensive_ms=9)) == LIMIT


# go-pkcs12's macData.MacSalt is not optional: a MacData without salt does not unmarshal
def test_pkcs12_mac_without_salt_is_refused_as_go() -> None:
    assert _run(_pfx(_encrypted(_pbe(_padded(8))), lambda a: _classic_mac(a, salt=False))) == FAILED
