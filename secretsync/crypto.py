"""The Bitnami Sealed Secrets wire format, keys and certificates; pure, no Kubernetes.

Each sealed value is ``base64(u16be(len(rsa_ct)) || rsa_ct || aes_gcm_ct_and_tag)``
where ``rsa_ct`` is the RSA-OAEP(SHA-256, label) encryption of a fresh 32-byte
AES-256 key and the payload is AES-256-GCM under that key with a zero nonce
(safe: every key is used exactly once). The OAEP label binds a value to its
scope (see :func:`scope_label`), which is what makes a strict value useless
once its SealedSecret is renamed or moved.

Speed matters twice here, and shapes the code:

* ``secretsync seal`` is a short-lived process, so the sealing path avoids
  ``cryptography.x509`` and ``...serialization`` (about 27 ms of imports
  together): the few certificate fields sealing needs (validity, RSA modulus
  and exponent) are read by a tiny DER walker, :func:`load_certificate`, and
  fingerprints hash a DER SubjectPublicKeyInfo we encode ourselves. Key
  files, key generation and ``keys info`` import the rest lazily.
* Sealing many values costs one RSA-OAEP encryption each; :class:`Sealer`
  keeps the public key and the OAEP padding objects so nothing is re-parsed
  per value.

Bitnami certificates carry a KeyUsage (``encipherOnly`` without
``keyAgreement``) that makes ``cryptography``'s ``cert.extensions`` raise; we
never parse extensions at all.
"""

from __future__ import annotations

import binascii
import functools
import hmac
import os
import re
import struct
import threading
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final, Literal, get_args

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from secretsync import limits
from secretsync.errors import InputError, UnsealError

# x509 (~17 ms) and serialization (~10 ms, it pulls in the SSH key code) are imported
# lazily, by the functions that need them: never on the seal path.
if TYPE_CHECKING:
    from cryptography import x509

Scope = Literal["strict", "namespace-wide", "cluster-wide"]
SCOPES: Final[tuple[Scope, ...]] = get_args(Scope)

DEFAULT_KEY_BITS: Final = 4096
DEFAULT_VALIDITY: Final = timedelta(days=3650)
MIN_KEY_BITS: Final = limits.RSA_MIN_BITS
MAX_KEY_BITS: Final = limits.RSA_MAX_BITS
SESSION_KEY_BYTES: Final = 32
_GCM_TAG_BYTES: Final = 16
_ZERO_NONCE: Final = bytes(12)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


# --------------------------------------------------------------------------- scope labels


def scope_label(scope: Scope, namespace: str | None, name: str | None) -> bytes:
    """The OAEP label that binds a value to where it may be opened.

    strict: ``namespace/name``; namespace-wide: ``namespace``; cluster-wide: empty.
    A ``/`` inside a name or namespace would make two different objects share a
    label, so it is refused (Kubernetes names never contain one anyway).
    """
    if scope not in SCOPES:
        raise InputError(f"unknown scope {scope!r} (expected one of {', '.join(SCOPES)})")
    if scope == "cluster-wide":
        return b""
    if not namespace:
        raise InputError(f"a {scope} seal needs a namespace")
    if "/" in namespace:
        raise InputError(f"namespace {namespace!r} contains '/'")
    if scope == "namespace-wide":
        return namespace.encode()
    if not name:
        raise InputError("a strict seal needs a name")
    if "/" in name:
        raise InputError(f"name {name!r} contains '/'")
    return f"{namespace}/{name}".encode()


def _oaep(label: bytes) -> padding.OAEP:
    # b"" and None are the same OAEP label (the empty string); we always pass bytes.
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label)


# --------------------------------------------------------------------------- encrypt


def encrypt(public_key: rsa.RSAPublicKey, label: bytes, plaintext: bytes) -> str:
    """Seal one value into its base64 text. Prefer :class:`Sealer` for many values."""
    return Sealer(public_key).seal(plaintext, label)


class Sealer:
    """Seals many values with one public key, doing per value only what must be per value.

    Per value that is: 32 random bytes, one RSA-OAEP encryption, one AES-GCM
    encryption and a base64 encoding. The padding object of each label is
    cached (a SealedSecret's values all share one label).
    """

    def __init__(self, public_key: rsa.RSAPublicKey, fingerprint: str | None = None) -> None:
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise InputError("sealing needs an RSA public key")
        check_rsa_size(public_key.key_size, "the sealing key")
        self.public_key = public_key
        self.fingerprint = fingerprint or public_key_fingerprint(public_key)
        self.key_size = public_key.key_size
        self._prefix = struct.pack(">H", (public_key.key_size + 7) // 8)
        self._paddings: dict[bytes, padding.OAEP] = {}

    def seal(self, plaintext: bytes, label: bytes) -> str:
        """One sealed value as it goes into ``spec.encryptedData``: standard base64."""
        return self.seal_all({"": plaintext}, label)[""]

    def seal_all(self, values: Mapping[str, bytes], label: bytes) -> dict[str, str]:
        """Seal every value of a Secret under one label: :meth:`seal` in a loop with its lookups hoisted.

        Bulk sealing must run near the raw RSA-OAEP rate (bench/seal.py), so the
        per-value Python work is kept to the bare calls.
        """
        oaep = self._paddings.get(label) or self._paddings.setdefault(label, _oaep(label))
        encrypt, prefix, urandom, b2a, aead = (
            self.public_key.encrypt,
            self._prefix,
            os.urandom,
            binascii.b2a_base64,
            AESGCM,
        )
        sealed = {}
        for key, plaintext in values.items():
            session_key = urandom(SESSION_KEY_BYTES)
            body = (
                prefix + encrypt(session_key, oaep) + aead(session_key).encrypt(_ZERO_NONCE, plaintext, None)
            )
            sealed[key] = b2a(body, newline=False).decode("ascii")
        return sealed


# --------------------------------------------------------------------------- decrypt


def decode_base64(value: str | bytes) -> bytes:
    """Strict standard base64 (padding required); line breaks are tolerated, as Go's decoder does.

    Raises ValueError (binascii.Error) when invalid. The common unwrapped case
    costs one C call.
    """
    try:
        return binascii.a2b_base64(value, strict_mode=True)
    except ValueError:
        joined = "".join(value.split()) if isinstance(value, str) else b"".join(value.split())
        return binascii.a2b_base64(joined, strict_mode=True)


def split_sealed(value: str | bytes) -> tuple[bytes, bytes]:
    """Decode a sealed value (base64, as text or ASCII bytes) into (RSA block, GCM ciphertext+tag).

    Raises :class:`UnsealError` with a reason that never includes the value.
    """
    try:
        raw = decode_base64(value)
    except ValueError:
        raise UnsealError("not valid base64") from None
    if len(raw) < 2:
        raise UnsealError("too short to be a sealed value")
    (rsa_len,) = struct.unpack_from(">H", raw)
    if rsa_len == 0 or len(raw) < 2 + rsa_len + _GCM_TAG_BYTES:
        raise UnsealError("truncated: shorter than its RSA block and GCM tag")
    return raw[2 : 2 + rsa_len], raw[2 + rsa_len :]


def open_payload(session_key: bytes, payload: bytes) -> bytes:
    """AES-256-GCM open; a failure here means the value was corrupted or tampered with."""
    try:
        return AESGCM(session_key).decrypt(_ZERO_NONCE, payload, None)
    except Exception:  # InvalidTag, or a bad key length from a forged RSA block
        raise UnsealError(
            "AES-GCM authentication failed: the value is corrupt or was tampered with"
        ) from None


def decrypt(private_key: rsa.RSAPrivateKey, label: bytes, value: str | bytes) -> bytes:
    """Open one sealed value (base64, text or ASCII bytes) with one key; UnsealError if it cannot."""
    rsa_ct, payload = split_sealed(value)
    if len(rsa_ct) != (private_key.key_size + 7) // 8:
        raise UnsealError(f"sealed for a {len(rsa_ct) * 8}-bit key, not this {private_key.key_size}-bit one")
    try:
        session_key = private_key.decrypt(rsa_ct, _oaep(label))
    except ValueError:
        raise UnsealError("the key does not open it (wrong key, or wrong name, namespace or scope)") from None
    return open_payload(session_key, payload)


# --------------------------------------------------------------------------- fingerprints


def public_key_fingerprint(public_key: rsa.RSAPublicKey) -> str:
    """Hex SHA-256 of the DER SubjectPublicKeyInfo: stable across PEM/DER, PKCS#1/PKCS#8 and certificates.

    DER is canonical, so encoding (n, e) ourselves gives the very bytes
    ``public_bytes(DER, SubjectPublicKeyInfo)`` would (a test checks it),
    without importing ``serialization``.
    """
    numbers = public_key.public_numbers()
    return _sha256_hex(_rsa_spki(numbers.n, numbers.e))


def _sha256_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    return digest.finalize().hex()


# AlgorithmIdentifier { rsaEncryption, NULL } (RFC 3279 §2.3.1), and the key-type OIDs we name in errors.
_RSA_ENCRYPTION_OID: Final = bytes.fromhex("2a864886f70d010101")
_RSA_ALGORITHM: Final = bytes.fromhex("300d06092a864886f70d0101010500")
_KEY_TYPES: Final = {
    bytes.fromhex("2a8648ce3d0201"): "EC",
    bytes.fromhex("2b6570"): "Ed25519",
    bytes.fromhex("2b6571"): "Ed448",
    bytes.fromhex("2a864886f70d01010a"): "RSA-PSS",
    bytes.fromhex("2a8648ce380401"): "DSA",
}


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def _der_uint(value: int) -> bytes:
    """A non-negative INTEGER, minimal: a leading zero byte only when the top bit is set."""
    return _der(0x02, value.to_bytes((value.bit_length() + 8) // 8, "big"))


def _rsa_spki(n: int, e: int) -> bytes:
    public_key = _der(0x30, _der_uint(n) + _der_uint(e))
    return _der(0x30, _RSA_ALGORITHM + _der(0x03, b"\x00" + public_key))


# --------------------------------------------------------------------------- certificates


@dataclass(frozen=True)
class Certificate:
    """What sealing needs from an X.509 certificate, read without ``cryptography.x509``."""

    der: bytes
    public_key: rsa.RSAPublicKey
    not_before: datetime
    not_after: datetime
    fingerprint: str

    @property
    def key_size(self) -> int:
        return self.public_key.key_size

    def pem(self) -> bytes:
        body = binascii.b2a_base64(self.der, newline=False)
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(lines) + b"\n-----END CERTIFICATE-----\n"

    def validity_problem(self, now: datetime | None = None) -> str | None:
        """Why this certificate must not seal right now, or None. kubeseal refuses expired ones too."""
        now = now or datetime.now(UTC)
        if now < self.not_before:
            return f"is not valid before {_iso(self.not_before)}"
        if now > self.not_after:
            return f"expired on {_iso(self.not_after)}"
        return None

    def sealer(self) -> Sealer:
        return Sealer(self.public_key, self.fingerprint)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_PEM_BEGIN: Final = b"-----BEGIN "
_PEM_END: Final = b"-----END "
_PEM_DASHES: Final = b"-----"
_PEM_LABEL: Final = re.compile(rb"[A-Z0-9 ]*")


def _pem_label(data: bytes, start: int) -> tuple[bytes, int] | None:
    """The label starting at ``start`` (after ``BEGIN ``/``END ``) and the end of its closing dashes."""
    match = _PEM_LABEL.match(data, start)
    end = match.end() if match else start
    if end == start or data[end : end + 5] != _PEM_DASHES:
        return None
    return data[start:end], end + 5


def _pem_blocks(data: bytes) -> list[tuple[str, bytes]]:
    """Every PEM block in ``data`` as (label, PEM bytes), in order.

    A block runs from a ``-----BEGIN LABEL-----`` line to the first ``-----END LABEL-----``
    after it; blocks do not overlap, and a BEGIN with no END is skipped. These are the
    results of the regex ``-----BEGIN ([A-Z0-9 ]+)-----\\s*(.*?)\\s*-----END \\1-----`` this
    replaces, in linear time: END markers are indexed once by label, and each BEGIN finds its
    END by bisection (the regex backtracked: 896 KB of BEGIN lines took 410 s).
    """
    ends: dict[bytes, list[int]] = {}
    pos = data.find(_PEM_END)
    while pos >= 0:
        found = _pem_label(data, pos + len(_PEM_END))
        if found is not None:
            ends.setdefault(found[0], []).append(pos)
        pos = data.find(_PEM_END, pos + len(_PEM_END))
    blocks: list[tuple[str, bytes]] = []
    pos = data.find(_PEM_BEGIN)
    while pos >= 0:
        resume = pos + len(_PEM_BEGIN)
        found = _pem_label(data, resume)
        if found is not None:
            label, body_start = found
            positions = ends.get(label, ())
            index = bisect_left(positions, body_start)
            if index < len(positions):
                resume = positions[index] + len(_PEM_END) + len(label) + len(_PEM_DASHES)
                blocks.append((label.decode("ascii"), bytes(data[pos:resume])))
        pos = data.find(_PEM_BEGIN, resume)
    return blocks


def _pem_body(block: bytes) -> bytes:
    return decode_base64(block.split(b"-----")[2])


def load_certificate(data: bytes) -> Certificate:
    """Read a PEM (first CERTIFICATE block) or DER certificate for sealing.

    Reads only the validity and the SubjectPublicKeyInfo, so certificates that
    ``cryptography`` refuses to fully parse (Bitnami's KeyUsage) still work.
    The RSA key size (2048..16384 bits) is checked on the DER, before OpenSSL
    sees the key. Raises :class:`InputError` with a one-line reason.
    """
    der = _certificate_der(data)
    try:
        not_before, not_after, spki = _read_tbs(der)
        algorithm, n, e = _read_spki(spki)
    except ValueError as exc:
        raise InputError(f"not a valid X.509 certificate ({exc})") from None
    if algorithm != _RSA_ENCRYPTION_OID:
        kind = _KEY_TYPES.get(algorithm, "of another type")
        raise InputError(f"its key is {kind}, not RSA: SealedSecrets need an RSA certificate")
    check_rsa_size(n.bit_length(), "its RSA key")
    _check_exponent(e, "its RSA key")
    try:
        public_key = rsa.RSAPublicNumbers(e, n).public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise InputError("its RSA public key is invalid") from None
    check_rsa_size(public_key.key_size, "its RSA key")
    return Certificate(der, public_key, not_before, not_after, _sha256_hex(_rsa_spki(n, e)))


def _certificate_der(data: bytes) -> bytes:
    """The DER of the first certificate in PEM ``data``, or ``data`` itself if it is DER."""
    blocks = _pem_blocks(data)
    if blocks:
        certs = [pem for label, pem in blocks if label in ("CERTIFICATE", "X509 CERTIFICATE")]
        if not certs:
            if any("PRIVATE KEY" in label for label, _ in blocks):
                raise InputError("holds a private key, not a certificate (pass the public tls.crt)")
            raise InputError("no PEM CERTIFICATE block in it")
        try:
            return _pem_body(certs[0])
        except ValueError:
            raise InputError("its PEM certificate is not valid base64") from None
    if data[:1] == b"\x30":
        return bytes(data)
    raise InputError("not a PEM or DER certificate")


def check_rsa_size(bits: int, what: str = "the RSA key") -> None:
    """Refuse an RSA modulus outside 2048..16384 bits (``limits``), naming its size."""
    if bits < MIN_KEY_BITS:
        raise InputError(f"{what} has {bits} bits, fewer than {MIN_KEY_BITS}")
    if bits > MAX_KEY_BITS:
        raise InputError(f"{what} has {bits} bits, more than {MAX_KEY_BITS}")


def _check_exponent(e: int, what: str) -> None:
    if e.bit_length() > limits.RSA_MAX_EXPONENT_BITS:
        raise InputError(f"{what} has a public exponent over {limits.RSA_MAX_EXPONENT_BITS} bits")


def _der_tlv(buf: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """The DER element at ``pos``: (tag, content start, content end), bounds-checked."""
    if pos + 2 > end:
        raise ValueError("truncated")
    tag, length = buf[pos], buf[pos + 1]
    pos += 2
    if tag & 0x1F == 0x1F:
        raise ValueError("unsupported tag")
    if length & 0x80:
        n = length & 0x7F
        if not 1 <= n <= 4 or pos + n > end:
            raise ValueError("bad length")
        length = int.from_bytes(buf[pos : pos + n], "big")
        pos += n
    if pos + length > end:
        raise ValueError("truncated")
    return tag, pos, pos + length


def _read_tbs(der: bytes) -> tuple[datetime, datetime, bytes]:
    """(notBefore, notAfter, SubjectPublicKeyInfo DER) from a Certificate (RFC 5280 §4.1)."""
    tag, start, end = _der_tlv(der, 0, len(der))
    if tag != 0x30:
        raise ValueError("not a SEQUENCE")
    tag, pos, tbs_end = _der_tlv(der, start, end)
    if tag != 0x30:
        raise ValueError("no tbsCertificate")
    fields: list[tuple[int, int, int, int]] = []  # (tag, tlv start, content start, content end)
    while pos < tbs_end and len(fields) < 7:
        tag, cstart, cend = _der_tlv(der, pos, tbs_end)
        fields.append((tag, pos, cstart, cend))
        pos = cend
    if fields and fields[0][0] == 0xA0:  # [0] EXPLICIT version
        fields = fields[1:]
    # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
    if len(fields) < 6 or [f[0] for f in fields[:6]] != [0x02, 0x30, 0x30, 0x30, 0x30, 0x30]:
        raise ValueError("unexpected tbsCertificate layout")
    _, _, vstart, vend = fields[3]
    tag1, s1, e1 = _der_tlv(der, vstart, vend)
    tag2, s2, e2 = _der_tlv(der, e1, vend)
    not_before = _der_time(tag1, der[s1:e1])
    not_after = _der_time(tag2, der[s2:e2])
    _, spki_start, _, spki_end = fields[5]
    return not_before, not_after, der[spki_start:spki_end]


def _read_spki(spki: bytes) -> tuple[bytes, int, int]:
    """(algorithm OID bytes, n, e) of a SubjectPublicKeyInfo; n and e are 0 unless it is rsaEncryption."""
    _, start, end = _der_tlv(spki, 0, len(spki))
    tag, alg_start, alg_end = _der_tlv(spki, start, end)
    oid_tag, oid_start, oid_end = _der_tlv(spki, alg_start, alg_end)
    if tag != 0x30 or oid_tag != 0x06:
        raise ValueError("bad SubjectPublicKeyInfo")
    algorithm = spki[oid_start:oid_end]
    if algorithm != _RSA_ENCRYPTION_OID:
        return algorithm, 0, 0
    tag, bits_start, bits_end = _der_tlv(spki, alg_end, end)
    if tag != 0x03 or bits_start >= bits_end or spki[bits_start] != 0:
        raise ValueError("bad public key BIT STRING")
    _, seq_start, seq_end = _der_tlv(spki, bits_start + 1, bits_end)
    tag_n, n_start, n_end = _der_tlv(spki, seq_start, seq_end)
    tag_e, e_start, e_end = _der_tlv(spki, n_end, seq_end)
    if tag_n != 0x02 or tag_e != 0x02 or n_start == n_end or e_start == e_end:
        raise ValueError("bad RSA public key")
    if spki[n_start] & 0x80 or spki[e_start] & 0x80:
        raise ValueError("negative RSA modulus or exponent")
    return algorithm, int.from_bytes(spki[n_start:n_end], "big"), int.from_bytes(spki[e_start:e_end], "big")


def _der_time(tag: int, raw: bytes) -> datetime:
    """UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ), as RFC 5280 requires."""
    text = raw.decode("ascii", "replace")
    if tag == 0x17 and len(text) == 13 and text.endswith("Z") and text[:12].isdigit():
        year = int(text[:2])
        text = ("19" if year >= 50 else "20") + text
    elif not (tag == 0x18 and len(text) == 15 and text.endswith("Z") and text[:14].isdigit()):
        raise ValueError("unsupported validity time")
    try:  # not strptime: it imports locale and calendar (~2 ms) on the seal path
        fields = (
            int(text[0:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[8:10]),
            int(text[10:12]),
            int(text[12:14]),
        )
        return datetime(*fields, tzinfo=UTC)
    except ValueError:
        raise ValueError("invalid validity time") from None


def load_x509(data: bytes) -> x509.Certificate:
    """The full ``cryptography`` certificate (for display; imports x509). Never touch ``.extensions``.

    The first certificate of PEM ``data`` (or DER); an RSA key outside 2048..16384 bits is
    refused on the DER, before OpenSSL parses it.
    """
    from cryptography import x509

    der = _certificate_der(data)
    try:
        _, _, spki = _read_tbs(der)
        algorithm, n, e = _read_spki(spki)
    except ValueError:
        raise InputError("not a valid X.509 certificate") from None
    if algorithm == _RSA_ENCRYPTION_OID:
        check_rsa_size(n.bit_length(), "its RSA key")
        _check_exponent(e, "its RSA key")
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        raise InputError("not a valid X.509 certificate") from None


# --------------------------------------------------------------------------- keys


def generate_private_key(bits: int = DEFAULT_KEY_BITS) -> rsa.RSAPrivateKey:
    """A new RSA key, exponent 65537 (0.2-0.7 s for 4096 bits: keep it off an event loop)."""
    if bits < MIN_KEY_BITS:
        raise InputError(f"RSA keys need at least {MIN_KEY_BITS} bits")
    if bits > MAX_KEY_BITS:
        raise InputError(f"RSA keys may have at most {MAX_KEY_BITS} bits")
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def self_signed_certificate(
    private_key: rsa.RSAPrivateKey,
    *,
    common_name: str = "secretsync",
    not_before: datetime | None = None,
    validity: timedelta = DEFAULT_VALIDITY,
) -> bytes:
    """A PEM self-signed certificate for the key, with a KeyUsage ``cryptography`` can read back.

    ``keyEncipherment`` is what the key does (it wraps AES keys); we avoid
    Bitnami's ``encipherOnly`` so our certificates stay fully parseable.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID

    start = (not_before or datetime.now(UTC)).replace(microsecond=0)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    public_key = private_key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    return builder.sign(private_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def dump_private_key(private_key: rsa.RSAPrivateKey) -> bytes:
    """PKCS#1 PEM, unencrypted: the form Bitnami stores in ``tls.key``."""
    from cryptography.hazmat.primitives import serialization

    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def load_private_keys(data: bytes, *, validate: bool = True) -> list[rsa.RSAPrivateKey]:
    """Every RSA private key in PEM ``data`` (PKCS#1 or PKCS#8), in file order.

    ``validate=False`` skips OpenSSL's key check (270 ms per RSA-4096 key);
    use it only for keys we wrote ourselves. The key type and size (2048..16384
    bits) are checked on the DER first: OpenSSL never sees a huge or non-RSA key.
    """
    from cryptography.hazmat.primitives import serialization

    blocks = [(label, pem) for label, pem in _pem_blocks(data) if "PRIVATE KEY" in label]
    if not blocks:
        raise InputError("no PEM private key in it")
    keys = []
    for label, pem in blocks:
        _check_private_key_der(label, pem)
        try:
            key = serialization.load_pem_private_key(
                pem, password=None, unsafe_skip_rsa_key_validation=not validate
            )
        except TypeError:
            raise InputError("its private key is password-protected; decrypt it first") from None
        except (ValueError, UnsupportedAlgorithm):
            raise InputError("its private key cannot be read") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise InputError("its private key is not RSA")
        check_rsa_size(key.key_size, "its private key")
        keys.append(key)
    return keys


def _check_private_key_der(label: str, pem: bytes) -> None:
    """Refuse a PKCS#1 or PKCS#8 private key that is not RSA or whose size is out of bounds.

    Encrypted keys (``ENCRYPTED PRIVATE KEY``, or legacy PEM encryption headers) are left
    to ``cryptography``, which asks for a password without parsing the key.
    """
    if label == "ENCRYPTED PRIVATE KEY" or b"Proc-Type: 4,ENCRYPTED" in pem:
        return
    if label not in ("RSA PRIVATE KEY", "PRIVATE KEY"):
        raise InputError("its private key is not RSA (expected PKCS#1 or PKCS#8 PEM)")
    try:
        der = _pem_body(pem)
        if label == "PRIVATE KEY":
            algorithm, der = _read_pkcs8(der)
            if algorithm != _RSA_ENCRYPTION_OID:
                kind = _KEY_TYPES.get(algorithm, "of another type")
                raise InputError(f"its private key is {kind}, not RSA")
        n, e = _read_pkcs1_public(der)
    except ValueError:
        raise InputError("its private key cannot be read") from None
    check_rsa_size(n.bit_length(), "its private key")
    _check_exponent(e, "its private key")


def _read_pkcs8(der: bytes) -> tuple[bytes, bytes]:
    """(algorithm OID, inner private key DER) of a PKCS#8 PrivateKeyInfo (RFC 5208)."""
    tag, start, end = _der_tlv(der, 0, len(der))
    tag_v, _, version_end = _der_tlv(der, start, end)
    tag_a, alg_start, alg_end = _der_tlv(der, version_end, end)
    tag_o, oid_start, oid_end = _der_tlv(der, alg_start, alg_end)
    tag_k, key_start, key_end = _der_tlv(der, alg_end, end)
    if (tag, tag_v, tag_a, tag_o, tag_k) != (0x30, 0x02, 0x30, 0x06, 0x04):
        raise ValueError("bad PrivateKeyInfo")
    return der[oid_start:oid_end], der[key_start:key_end]


def _read_pkcs1_public(der: bytes) -> tuple[int, int]:
    """(n, e) of a PKCS#1 RSAPrivateKey (RFC 8017 A.1.2): version, modulus, publicExponent, ..."""
    tag, start, end = _der_tlv(der, 0, len(der))
    tag_v, _, version_end = _der_tlv(der, start, end)
    tag_n, n_start, n_end = _der_tlv(der, version_end, end)
    tag_e, e_start, e_end = _der_tlv(der, n_end, end)
    if (tag, tag_v, tag_n, tag_e) != (0x30, 0x02, 0x02, 0x02) or n_start == n_end or e_start == e_end:
        raise ValueError("bad RSAPrivateKey")
    return int.from_bytes(der[n_start:n_end], "big"), int.from_bytes(der[e_start:e_end], "big")


# --------------------------------------------------------------------------- key ring


@dataclass(frozen=True)
class KeyEntry:
    """One private key the operator or ``unseal`` can open values with."""

    fingerprint: str
    private_key: rsa.RSAPrivateKey
    certificate: Certificate | None
    not_before: datetime

    @property
    def modulus_bytes(self) -> int:
        return (self.private_key.key_size + 7) // 8

    @functools.cached_property
    def mark_key(self) -> bytes:
        """The HMAC key of :func:`unsealed_mark`, derived from the private key (HKDF-SHA256): only
        a holder of the private key can make or check a mark; it reveals nothing of the key."""
        secret = self.private_key.private_numbers().d
        material = secret.to_bytes((secret.bit_length() + 7) // 8, "big")
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_MARK_INFO).derive(material)

    @classmethod
    def from_key(cls, private_key: rsa.RSAPrivateKey, certificate: Certificate | None = None) -> KeyEntry:
        """Pair a key with its certificate (if any); the certificate must hold the key's public half."""
        fingerprint = public_key_fingerprint(private_key.public_key())
        if certificate is not None and certificate.fingerprint != fingerprint:
            raise InputError("the certificate does not belong to the private key")
        not_before = certificate.not_before if certificate is not None else _EPOCH
        return cls(fingerprint, private_key, certificate, not_before)


_MARK_INFO: Final = b"secretsync unsealed-secret mark v1"
_MARK_VERSION: Final = "v1"


def unsealed_mark(entry: KeyEntry, intent: str, content: bytes) -> str:
    """``v1:<key fingerprint>:<HMAC-SHA256>`` binding a Secret's ``content`` to the SealedSecret
    ``intent`` (a digest of its spec, labels and annotations) it was unsealed from, under a key
    derived from ``entry``'s private key. Written on the Secret, it lets a restarted operator know
    the Secret is still exactly what that SealedSecret makes without an RSA operation; anyone can
    read it (beside the values it covers, in the same Secret), nobody without the key can forge it."""
    tag = hmac.new(entry.mark_key, intent.encode() + b"\0" + content, "sha256").hexdigest()
    return f"{_MARK_VERSION}:{entry.fingerprint}:{tag}"


def mark_holds(ring: KeyRing, mark: str, intent: str, content: bytes) -> bool:
    """Does ``mark`` (:func:`unsealed_mark`) bind ``content`` to ``intent`` under a key of ``ring``?"""
    version, _, rest = mark.partition(":")
    fingerprint, _, tag = rest.partition(":")
    entry = ring.get(fingerprint) if version == _MARK_VERSION else None
    if entry is None:
        return False
    expected = unsealed_mark(entry, intent, content).rpartition(":")[2]
    return hmac.compare_digest(expected, tag)


class KeyRing:
    """Private keys, newest (by certificate notBefore) first, and a count of RSA decrypt attempts.

    The entries tuple is replaced, never mutated, so readers on other threads
    always see a consistent ring; the counter is guarded by a lock.
    """

    def __init__(self, entries: Iterable[KeyEntry] = ()) -> None:
        self._lock = threading.Lock()
        self._attempts = 0
        self._entries: tuple[KeyEntry, ...] = ()
        for entry in entries:
            self.add(entry)

    def add(self, entry: KeyEntry) -> None:
        """Add (or replace, by fingerprint) a key; keeps newest first, stable for equal dates."""
        with self._lock:
            kept = [e for e in self._entries if e.fingerprint != entry.fingerprint]
            kept.append(entry)
            kept.sort(key=lambda e: e.not_before, reverse=True)
            self._entries = tuple(kept)

    @property
    def entries(self) -> tuple[KeyEntry, ...]:
        return self._entries

    @property
    def newest(self) -> KeyEntry:
        if not self._entries:
            raise LookupError("the key ring is empty")
        return self._entries[0]

    @property
    def decrypt_attempts(self) -> int:
        """RSA private-key operations performed so far (each costs ~1.9 ms for RSA-4096)."""
        return self._attempts

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, fingerprint: str) -> KeyEntry | None:
        return next((e for e in self._entries if e.fingerprint == fingerprint), None)

    def candidates(self, hints: Sequence[str | None] = ()) -> list[KeyEntry]:
        """The keys in trial order: hinted fingerprints first (in hint order), then newest first."""
        entries = list(self._entries)
        front: list[KeyEntry] = []
        for hint in hints:
            for entry in entries:
                if entry.fingerprint == hint and entry not in front:
                    front.append(entry)
        return front + [e for e in entries if e not in front]

    def open(
        self, value: str | bytes, label: bytes, hints: Sequence[str | None] = ()
    ) -> tuple[bytes, KeyEntry]:
        """Open one sealed value, trying the hinted keys first; (plaintext, the key that opened it).

        Keys whose modulus size differs from the value's RSA block are skipped
        without an RSA operation. RSA success with a GCM failure means
        corruption, not a wrong key, so trial stops there.
        """
        rsa_ct, payload = split_sealed(value)
        oaep = _oaep(label)
        tried = 0
        for entry in self.candidates(hints):
            if entry.modulus_bytes != len(rsa_ct):
                continue
            tried += 1
            with self._lock:
                self._attempts += 1
            try:
                session_key = entry.private_key.decrypt(rsa_ct, oaep)
            except ValueError:
                continue
            return open_payload(session_key, payload), entry
        if not self._entries:
            raise UnsealError("no private keys to try")
        if tried == 0:
            raise UnsealError(f"sealed for a {len(rsa_ct) * 8}-bit key and no key of that size is available")
        which = "the key does not open it" if tried == 1 else f"none of {tried} keys opens it"
        raise UnsealError(f"{which} (wrong key, or the name, namespace or scope changed)")
