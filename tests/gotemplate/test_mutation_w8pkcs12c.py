"""Mutation survivors in pkcs12.py's safe_bags, decode_chain and Modern encoder (r5-pkcs12C).

Reading: hand-built PKCS#12 files go through ESO's pkcs12key/pkcs12cert; what must be read or
refused is go-pkcs12 v0.7.4's getSafeContents/DecodeChain (the retry of the MAC with an empty
byte string for the empty password, one or two items in the authenticated safe, version 0
EncryptedData, EncryptedContent as implicit [0], safeBag values as explicit [0], X.509 cert bags
only, one certificate per cert bag, a key bag holding a key x509.ParsePKCS8PrivateKey reads).
Writing: the shape of pemToPkcs12's output is compared with an archive written by go-pkcs12's
Modern encoder (F["p12_modern_nopw"]): 16-byte salts, the PRF AlgorithmIdentifier with its NULL,
localKeyId attributes on the leaf certificate bag and on the key bag.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from secretsync.gotemplate import Limits, TemplateError
from secretsync.gotemplate.funcs import der, pkcs12
from secretsync.gotemplate.limits import Budget
from tests.gotemplate.cases_crypto import F
from tests.gotemplate.test_crypto import run

SHA256 = "2.16.840.1.101.3.4.2.1"
HMAC_SHA256 = "1.2.840.113549.2.9"
AES256 = "2.16.840.1.101.3.4.1.42"

CERT = x509.load_pem_x509_certificate(F["leaf"].encode()).public_bytes(serialization.Encoding.DER)
INTER = x509.load_pem_x509_certificate(F["inter"].encode()).public_bytes(serialization.Encoding.DER)
KEY8 = serialization.load_pem_private_key(F["leaf_key8"].encode(), None).private_bytes(
    serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)
KEY_PEM = (
    serialization.load_der_private_key(KEY8, None)
    .private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    .decode()
)
CERT_PEM = (
    "-----BEGIN CERTIFICATE-----\n"
    + "\n".join(
        base64.b64encode(CERT).decode()[i : i + 64] for i in range(0, len(base64.b64encode(CERT)), 64)
    )
    + "\n-----END CERTIFICATE-----\n"
)


# --- builders (iteration counts of 1: fast) ----------------------------------------------------------


def _cert_bag(cert: bytes = CERT, cert_type: str = pkcs12.OID_X509_CERT) -> bytes:
    value = der.sequence(der.oid(cert_type), der.explicit(0, der.octet_string(cert)))
    return der.sequence(der.oid(pkcs12.OID_CERT_BAG), der.explicit(0, value))


def _key_bag(value: bytes | None = None, wrap: int = 0xA0) -> bytes:
    return der.sequence(der.oid(pkcs12.OID_KEY_BAG), der.tlv(wrap, KEY8 if value is None else value))


def _data(*bags: bytes) -> bytes:
    return pkcs12._data_content(der.sequence(*bags))


def _pbes2(plain: bytes, iterations: int = 1) -> tuple[bytes, bytes]:
    """PBES2 (PBKDF2-HMAC-SHA-256, AES-256-CBC), empty password: (AlgorithmIdentifier, ciphertext)."""
    salt, iv = b"s" * 16, b"i" * 16
    key = hashlib.pbkdf2_hmac("sha256", b"", salt, 1, 32)
    kdf = der.sequence(
        der.octet_string(salt), der.integer(iterations), der.sequence(der.oid(HMAC_SHA256), der.null())
    )
    alg = der.sequence(
        der.oid(pkcs12.OID_PBES2),
        der.sequence(
            der.sequence(der.oid(pkcs12.OID_PBKDF2), kdf), der.sequence(der.oid(AES256), der.octet_string(iv))
        ),
    )
    pad = 16 - len(plain) % 16
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return alg, enc.update(plain + bytes([pad]) * pad) + enc.finalize()


def _shrouded_key_bag(plain: bytes = KEY8, extra: bytes = b"") -> bytes:
    alg, ct = _pbes2(plain)
    info = der.sequence(alg, der.octet_string(ct), extra)  # encryptedPrivateKeyInfo
    return der.sequence(der.oid(pkcs12.OID_SHROUDED_KEY_BAG), der.explicit(0, info))


def _encrypted(
    *bags: bytes, version: int = 0, tag: int | None = 0x80, iterations: int = 1, extra: bytes = b""
) -> bytes:
    alg, ct = _pbes2(der.sequence(*bags), iterations)
    parts = [der.oid(pkcs12.OID_DATA), alg] + ([] if tag is None else [der.tlv(tag, ct)])
    inner = (
        der.sequence(der.integer(version), der.sequence(*parts))
        if not extra
        else der.sequence(der.integer(version), der.sequence(*parts), extra)
    )
    return der.sequence(der.oid(pkcs12.OID_ENCRYPTED_DATA), der.explicit(0, inner))


def _pfx(*infos: bytes, mac_password: bytes = b"\x00\x00") -> str:
    auth = der.sequence(*infos)
    salt = b"m" * 16
    key = pkcs12.pkcs12_kdf("sha256", salt, mac_password, 1, 3, 32)
    digest = hmac.new(key, auth, "sha256").digest()
    mac = der.sequence(
        der.sequence(der.sequence(der.oid(SHA256)), der.octet_string(digest)),
        der.octet_string(salt),
        der.integer(1),
    )
    return base64.b64encode(der.sequence(der.integer(3), pkcs12._data_content(auth), mac)).decode()


def _read(fn: str, pfx: str) -> str:
    return run("{{ .p | b64dec | " + fn + " }}", {"p": pfx})


def _kind(fn: str, pfx: str) -> str:
    with pytest.raises(TemplateError) as info:
        _read(fn, pfx)
    return info.value.kind


# --- reading ------------------------------------------------------------------------------------------

GOOD = [
    # go-pkcs12: MAC over the empty password as an empty byte string (not 00 00) is tried again
    ("mac_empty_bytes", _pfx(_data(_cert_bag(), _key_bag()), mac_password=b"")),
    # one item in the authenticated safe (DecodeChain: getSafeContents(..., 1, 2))
    ("one_item", _pfx(_data(_cert_bag(), _key_bag()))),
    ("two_items", _pfx(_encrypted(_cert_bag()), _data(_key_bag()))),
    ("shrouded_key_bag", _pfx(_encrypted(_cert_bag()), _data(_shrouded_key_bag()))),
    # encryptedPrivateKeyInfo is a Go struct: an extra element at its end is left unread
    ("shrouded_key_bag_extra_element", _pfx(_data(_cert_bag(), _shrouded_key_bag(extra=der.null())))),
    # DecodeChain's x509.ParsePKCS8PrivateKey(bag.Value.Bytes) ignores bytes after the key
    ("key_bag_trailing_bytes", _pfx(_data(_cert_bag(), _key_bag(KEY8 + b"\0")))),
]


@pytest.mark.parametrize(("name", "pfx"), GOOD)
def test_pkcs12_read_as_go_pkcs12(name: str, pfx: str) -> None:
    assert _read("pkcs12key", pfx) == KEY_PEM
    assert _read("pkcs12cert", pfx) == CERT_PEM


BAD = [
    (
        "wrong_mac_password",
        _pfx(_data(_cert_bag(), _key_bag()), mac_password=b"\x00x\x00\x00"),
        "function failed",
    ),
    ("three_items", _pfx(_encrypted(_cert_bag()), _data(_key_bag()), _data()), "function failed"),
    (
        "encrypted_data_version_1",
        _pfx(_encrypted(_cert_bag(), version=1), _data(_key_bag())),
        "function failed",
    ),
    # EncryptedContent is [0] IMPLICIT OCTET STRING: an OCTET STRING (04) is no EncryptedContent
    ("content_tagged_04", _pfx(_encrypted(_cert_bag(), tag=0x04), _data(_key_bag())), "function failed"),
    ("content_tagged_a0", _pfx(_encrypted(_cert_bag(), tag=0xA0), _data(_key_bag())), "function failed"),
    # no EncryptedContent: refused before the key derivation is charged to the budget
    (
        "no_content_huge_iterations",
        _pfx(_encrypted(_cert_bag(), tag=None, iterations=(1 << 31) - 1), _data(_key_bag())),
        "function failed",
    ),
    # safeBag's value is [0] EXPLICIT: a bare SEQUENCE is refused
    (
        "key_bag_value_not_a0",
        _pfx(_data(_cert_bag(), _key_bag(der.tlv(0x30, KEY8), wrap=0x30))),
        "function failed",
    ),
    (
        "sdsi_cert_bag",
        _pfx(_data(_cert_bag(cert_type="1.2.840.113549.1.9.22.2"), _key_bag())),
        "function failed",
    ),
    # x509.ParsePKCS8PrivateKey of a non-SEQUENCE key bag fails DecodeChain, also for pkcs12cert
    ("key_bag_octet_string", _pfx(_data(_cert_bag(), _key_bag(der.octet_string(KEY8)))), "function failed"),
    # decodePkcs8ShroudedKeyBag unmarshals the decrypted key as one element: bytes after it are refused
    (
        "shrouded_key_trailing_bytes",
        _pfx(_data(_cert_bag(), _shrouded_key_bag(KEY8 + b"\0"))),
        "function failed",
    ),
]


@pytest.mark.parametrize(("name", "pfx", "kind"), BAD)
def test_pkcs12_refused_as_go_pkcs12(name: str, pfx: str, kind: str) -> None:
    assert _kind("pkcs12cert", pfx) == kind
    assert _kind("pkcs12key", pfx) == kind


def test_a_cert_bag_with_two_certificates_is_refused() -> None:
    # go-pkcs12 DecodeChain: "expected exactly one certificate in the certBag"
    pfx = _pfx(_data(_cert_bag(CERT + INTER), _key_bag()))
    assert _kind("pkcs12cert", pfx) == "function failed"


# --- writing: the shape of go-pkcs12's Modern encoder -----------------------------------------------


def _shape(pfx_b64: str) -> dict[str, Any]:
    data = base64.b64decode(pfx_b64)
    pfx = der.seq(data)
    mac = der.children(pfx[2])
    bags, _ = pkcs12.safe_bags(Budget(Limits()), data, "", 1, 2)
    infos = der.seq(der.octets(der.parse(pkcs12._content(pfx[1])[1])))
    enc = der.children(der.seq(pkcs12._content(infos[0])[1])[1])
    pbes2s = [enc[1]]
    shape: dict[str, Any] = {"mac_salt": len(der.octets(mac[1])), "bags": []}
    for bag in bags:
        items = der.children(bag)
        attrs = [der.children(a) for a in der.children(items[2])] if len(items) > 2 else []
        names = [(der.to_oid(a[0]), der.children(a[1])[0].raw) for a in attrs]
        shape["bags"].append((der.to_oid(items[0]), names))
        if der.to_oid(items[0]) == pkcs12.OID_SHROUDED_KEY_BAG:
            pbes2s.append(der.seq(items[1].value)[0])
    shape["pbes2"] = []
    for alg in pbes2s:
        kdf, scheme = der.children(der.children(alg)[1])
        kdf_items = der.children(der.children(kdf)[1])
        shape["pbes2"].append((len(kdf_items[0].value), kdf_items[2].raw, len(der.children(scheme)[1].value)))
    return shape


def test_pem_to_pkcs12_has_the_shape_of_go_pkcs12_modern() -> None:
    # F["p12_modern_nopw"] is go-pkcs12 Modern.Encode of the same key and chain
    ours = _shape(run("{{ fullPemToPkcs12 .c .k }}", {"c": F["chain"], "k": F["leaf_key8"]}))
    local_key_id = (pkcs12.OID_LOCAL_KEY_ID, der.octet_string(hashlib.sha1(CERT).digest()))  # noqa: S324
    assert ours == _shape(F["p12_modern_nopw"])
    assert ours["mac_salt"] == 16
    assert ours["pbes2"] == [(16, der.sequence(der.oid(HMAC_SHA256), der.null()), 16)] * 2
    assert ours["bags"] == [
        (pkcs12.OID_CERT_BAG, [local_key_id]),
        (pkcs12.OID_CERT_BAG, []),
        (pkcs12.OID_CERT_BAG, []),
        (pkcs12.OID_SHROUDED_KEY_BAG, [local_key_id]),
    ]


# --- structures go-pkcs12 reads into Go structs; the key bag through x509.ParsePKCS8PrivateKey --------


def test_encrypted_data_with_an_extra_element_is_read_as_go() -> None:
    # encoding/asn1 leaves extra elements at the end of a SEQUENCE read into a struct (encryptedData)
    # unread: go-pkcs12 reads this file
    pfx = _pfx(_encrypted(_cert_bag(), extra=der.null()), _data(_key_bag()))
    assert _read("pkcs12key", pfx) == KEY_PEM


def test_pkcs12cert_refuses_a_key_bag_that_is_no_pkcs8_key() -> None:
    # go-pkcs12 DecodeChain runs x509.ParsePKCS8PrivateKey on the key bag, so pkcs12cert fails too
    pfx = _pfx(_data(_cert_bag(), _key_bag(der.sequence(der.integer(0)))))
    assert _kind("pkcs12cert", pfx) == "function failed"
