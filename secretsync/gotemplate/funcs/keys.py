"""Private keys, public keys and certificates in Go's encodings (``crypto/x509``, ``encoding/pem``).

Why our own marshalling: ESO and Sprig print keys the way Go's ``x509.Marshal*`` does
(PKCS#1, SEC1, Go's PKCS#8, the OpenSSL DSA layout), and users diff those outputs.
Parsing goes through ``cryptography`` with RSA validation *skipped* -- OpenSSL's check
runs primality tests that take 0.2 s for a 4096-bit key and 3 s for 8192 bits, a lever
for a hostile tenant -- and replaced by Go's own consistency checks (cheap arithmetic).
Key sizes are bounded: RSA moduli up to :data:`MAX_RSA_BITS`, inputs up to
:data:`MAX_DER` bytes. Every failure here is a ``ValueError`` without data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa, x25519

from secretsync.gotemplate.funcs import der, gopem
from secretsync.gotemplate.gostrconv import from_bytes, to_bytes

MAX_RSA_BITS = 8192
MAX_DER = 64 << 10

PrivateKey = (
    rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | x25519.X25519PrivateKey
)

OID_RSA = "1.2.840.113549.1.1.1"
OID_EC = "1.2.840.10045.2.1"
OID_ED25519 = "1.3.101.112"
OID_X25519 = "1.3.101.110"
CURVES: dict[str, tuple[str, int]] = {  # cryptography's curve name -> (OID, byte size)
    "secp224r1": ("1.3.132.0.33", 28),
    "secp256r1": ("1.2.840.10045.3.1.7", 32),
    "secp384r1": ("1.3.132.0.34", 48),
    "secp521r1": ("1.3.132.0.35", 66),
}


class KeyFormatError(ValueError):
    """Not a key, certificate or PEM block we (or Go) accept. Raised without a message: every
    caller turns it into "function failed"; the reason is a comment at the raise."""


# --- PEM -------------------------------------------------------------------------------------------


def pem_blocks(text: str) -> Iterator[tuple[str, bytes]]:
    """Go's ``pem.Decode`` in a loop: (type, DER) of each block; junk between blocks is skipped."""
    data = to_bytes(text)
    pos = 0
    while True:
        block, pos = gopem.decode(data, pos)
        if block is None:
            return
        yield from_bytes(block[0]), block[2]


def first_pem(data: bytes) -> tuple[tuple[str, bytes] | None, bytes]:
    """Go's ``pem.Decode(data)``: the first block (type, DER) or None, and the rest."""
    block, pos = gopem.decode(data, 0)
    if block is None:
        return None, data
    return (from_bytes(block[0]), block[2]), data[pos:]


def pem(block_type: str, body: bytes) -> str:
    """Go's ``pem.EncodeToMemory`` of a block without headers."""
    return from_bytes(gopem.encode((to_bytes(block_type), {}, body)))


# --- parsing private keys ------------------------------------------------------------------------------


def check_rsa(key: rsa.RSAPrivateKey) -> rsa.RSAPrivateKey:
    """Go's ``(*rsa.PrivateKey).Validate`` arithmetic, instead of OpenSSL's primality tests."""
    if key.key_size > MAX_RSA_BITS:
        raise KeyFormatError  # RSA key too large
    nums = key.private_numbers()
    pub = nums.public_numbers
    p, q, d, e, n = nums.p, nums.q, nums.d, pub.e, pub.n
    if p <= 1 or q <= 1 or p * q != n or e < 2 or e >= (1 << 31):
        raise KeyFormatError  # invalid RSA key
    if (d * e) % (p - 1) != 1 or (d * e) % (q - 1) != 1:
        raise KeyFormatError  # invalid RSA key
    if nums.dmp1 != d % (p - 1) or nums.dmq1 != d % (q - 1) or (nums.iqmp * q) % p != 1:
        raise KeyFormatError  # invalid RSA key
    return key


def _load_der(body: bytes) -> Any:
    if len(body) > MAX_DER:
        raise KeyFormatError  # key too large
    try:
        return serialization.load_der_private_key(body, None, unsafe_skip_rsa_key_validation=True)
    except (ValueError, TypeError):
        raise KeyFormatError from None  # not a private key
    except Exception:  # cryptography's Rust errors (unsupported algorithms and the like)
        raise KeyFormatError from None  # not a private key


def _shape(key: der.TLV) -> str:
    """Which DER layout ``key`` has: ``pkcs1``, ``pkcs8``, ``sec1``, ``dsa`` or ``?``."""
    if key.tag != der.SEQUENCE:
        return "?"
    try:
        items = der.children(key)
    except der.DERError:
        return "?"
    if len(items) >= 3 and items[0].tag == der.INTEGER and items[1].tag == der.SEQUENCE:
        return "pkcs8"
    if len(items) >= 2 and items[0].tag == der.INTEGER and items[1].tag == der.OCTET_STRING:
        return "sec1"
    if len(items) == 9 and all(i.tag == der.INTEGER for i in items):
        return "pkcs1"
    if len(items) >= 9 and all(i.tag == der.INTEGER for i in items):
        return "pkcs1"  # multi-prime: refused below like Go 1.26 refuses it
    if len(items) == 6 and all(i.tag == der.INTEGER for i in items):
        return "dsa"
    return "?"


def _accept(key: Any) -> PrivateKey:
    if isinstance(key, rsa.RSAPrivateKey):
        return check_rsa(key)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.name not in CURVES:
            raise KeyFormatError  # unsupported curve
        return key
    if isinstance(key, (ed25519.Ed25519PrivateKey, x25519.X25519PrivateKey)):
        return key
    raise KeyFormatError  # unsupported key type


def parse_private(body: bytes, layout: str) -> PrivateKey:
    """A private key in one of Go's layouts (``pkcs1``, ``pkcs8``, ``sec1``), or ``any`` of them.

    Bytes after the key: ``x509.ParsePKCS1PrivateKey`` refuses them ("trailing data"), while
    ``ParsePKCS8PrivateKey`` and ``ParseECPrivateKey`` ignore what ``asn1.Unmarshal`` leaves over
    (its ``rest``); ESO's parsePrivateKey tries those three in turn, so the same holds for ``any``.
    """
    try:
        first, end = der.read(body)
    except der.DERError:
        raise KeyFormatError from None  # unexpected key layout
    shape = _shape(first)
    if shape == "?" or shape == "dsa" or (layout != "any" and shape != layout):
        raise KeyFormatError  # unexpected key layout
    if shape == "pkcs1" and end != len(body):
        raise KeyFormatError  # trailing data
    if shape == "pkcs1" and len(der.children(first)) != 9:
        raise KeyFormatError  # multi-prime RSA
    key = _accept(_load_der(first.raw))
    if shape == "pkcs1" and not isinstance(key, rsa.RSAPrivateKey):
        raise KeyFormatError  # unexpected key layout
    if shape == "sec1" and not isinstance(key, ec.EllipticCurvePrivateKey):
        raise KeyFormatError  # unexpected key layout
    return key


def parse_sprig_pem(text: str) -> PrivateKey | dsa.DSAPrivateKey:
    """Sprig's ``parsePrivateKeyPEM``: the layout follows the PEM block's type."""
    block, _ = first_pem(to_bytes(text))
    if block is None:
        raise KeyFormatError  # no PEM data
    typ, body = block
    if typ == "PRIVATE KEY":
        return parse_private(body, "pkcs8")
    if not typ.endswith(" PRIVATE KEY"):
        raise KeyFormatError  # not a private key block
    kind = typ[:-12]
    if kind == "RSA":
        return parse_private(body, "pkcs1")
    if kind == "EC":
        return parse_private(body, "sec1")
    if kind == "DSA":
        return _parse_dsa(body)
    raise KeyFormatError  # unknown private key type


def _parse_dsa(body: bytes) -> dsa.DSAPrivateKey:
    if len(body) > MAX_DER:
        raise KeyFormatError  # key too large
    try:
        items = der.children(der.read(body)[0])
        _, p, q, g, y, x = (der.to_int(i) for i in items[:6])
        if p.bit_length() > 4096:
            raise KeyFormatError  # DSA key too large
        return dsa.DSAPrivateNumbers(
            x, dsa.DSAPublicNumbers(y, dsa.DSAParameterNumbers(p, q, g))
        ).private_key()
    except (der.DERError, ValueError, TypeError):
        raise KeyFormatError from None  # invalid DSA key


# --- Go's marshalling --------------------------------------------------------------------------------


def marshal_pkcs1(key: rsa.RSAPrivateKey) -> bytes:
    n = key.private_numbers()
    return der.sequence(
        *(
            der.integer(v)
            for v in (0, n.public_numbers.n, n.public_numbers.e, n.d, n.p, n.q, n.dmp1, n.dmq1, n.iqmp)
        )
    )


def _ec_point(pub: ec.EllipticCurvePublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def marshal_sec1(key: ec.EllipticCurvePrivateKey, with_oid: bool = True) -> bytes:
    """Go's ``x509.MarshalECPrivateKey`` (with the curve) or its PKCS#8 inner form (without)."""
    oid, size = CURVES[key.curve.name]
    parts = [der.integer(1), der.octet_string(key.private_numbers().private_value.to_bytes(size, "big"))]
    if with_oid:
        parts.append(der.explicit(0, der.oid(oid)))
    parts.append(der.explicit(1, der.bit_string(_ec_point(key.public_key()))))
    return der.sequence(*parts)


def marshal_pkcs8(key: PrivateKey) -> bytes:
    """Go's ``x509.MarshalPKCS8PrivateKey``."""
    if isinstance(key, rsa.RSAPrivateKey):
        alg = der.sequence(der.oid(OID_RSA), der.null())
        inner = marshal_pkcs1(key)
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        alg = der.sequence(der.oid(OID_EC), der.oid(CURVES[key.curve.name][0]))
        inner = marshal_sec1(key, with_oid=False)
    else:
        raw = key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        alg = der.sequence(der.oid(OID_ED25519 if isinstance(key, ed25519.Ed25519PrivateKey) else OID_X25519))
        inner = der.octet_string(raw)
    return der.sequence(der.integer(0), alg, der.octet_string(inner))


def marshal_dsa(key: dsa.DSAPrivateKey) -> bytes:
    n = key.private_numbers()
    p = n.public_numbers.parameter_numbers
    return der.sequence(*(der.integer(v) for v in (0, p.p, p.q, p.g, n.public_numbers.y, n.x)))


def sprig_pem_block(key: PrivateKey | dsa.DSAPrivateKey) -> tuple[str, bytes]:
    """Sprig's ``pemBlockForKey``."""
    if isinstance(key, rsa.RSAPrivateKey):
        return "RSA PRIVATE KEY", marshal_pkcs1(key)
    if isinstance(key, dsa.DSAPrivateKey):
        return "DSA PRIVATE KEY", marshal_dsa(key)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "EC PRIVATE KEY", marshal_sec1(key)
    return "PRIVATE KEY", marshal_pkcs8(key)


def marshal_pkix(pub: Any) -> bytes:
    """Go's ``x509.MarshalPKIXPublicKey`` for the key types it takes."""
    if not isinstance(
        pub, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey, x25519.X25519PublicKey)
    ):
        raise KeyFormatError  # unsupported public key type
    return pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def subject_public_key_bits(pub: Any) -> bytes:
    """The contents of SubjectPublicKeyInfo's BIT STRING (what a key identifier hashes)."""
    items = der.seq(marshal_pkix(pub))
    return items[1].value[1:]


def go_subject_key_id(pub: Any) -> bytes:
    """Go 1.26's generated SubjectKeyId: SHA-256 of the public key bits, first 20 bytes (RFC 7093)."""
    return hashlib.sha256(subject_public_key_bits(pub)).digest()[:20]


# --- certificates ------------------------------------------------------------------------------------


# crypto/x509's parseASN1String: the string types a name attribute may have (ASN.1 tags T61String,
# PrintableString, UTF8String, BMPString, IA5String, NumericString); any other is "unsupported
# string type" and the certificate does not parse.
_GO_NAME_STRING_TAGS = frozenset({20, 19, 12, 30, 22, 18})


def parse_cert(body: bytes) -> x509.Certificate:
    if len(body) > MAX_DER:
        raise KeyFormatError  # certificate too large
    try:
        cert = x509.load_der_x509_certificate(body)
        cert.public_key()  # Go parses the key and the extensions too: bad ones fail the certificate
        _ = cert.extensions
        names_go_reads = all(
            attribute._type.value in _GO_NAME_STRING_TAGS  # the tag is kept only there
            for name in (cert.subject, cert.issuer)
            for attribute in name
        )
    except Exception:
        raise KeyFormatError from None  # not a certificate
    if not names_go_reads:
        raise KeyFormatError  # not a certificate
    return cert


def ski(cert: x509.Certificate) -> bytes:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return b""


def aki(cert: x509.Certificate) -> bytes | None:
    """The certificate's AuthorityKeyId, None where it has none (Go's nil)."""
    try:
        v = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except x509.ExtensionNotFound:
        return None
    return v or None
