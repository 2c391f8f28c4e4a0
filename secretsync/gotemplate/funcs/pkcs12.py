"""PKCS#12 read and written the way ESO's ``software.sslmate.com/src/go-pkcs12`` (v0.7.4) does.

Why our own codec: a PKCS#12 file names the iteration counts of its own key derivations,
for its MAC and for every encrypted bag, nested. Handed to OpenSSL, a tenant's file could
ask for a billion iterations and pin a worker. Here every derivation is announced to the
render's budget (:meth:`Budget.charge_expensive`) *before* it runs, and refused past the
per-render cost (kind ``expensive call limit``). The rules are go-pkcs12's: version 3, one
or two items in the authenticated safe, a MAC unless the password is empty, exactly one key
bag, the first certificate is the leaf, the rest its chain. Its structures are Go structs read by
``encoding/asn1``: extra elements at the end of one are left unread (:func:`der.fields`), while
bytes after a whole structure (go-pkcs12's ``unmarshal``) are refused. Writing follows its ``Modern``
encoder (PBES2: PBKDF2-HMAC-SHA-256 and AES-256-CBC, 2048 iterations; MAC HMAC-SHA-256).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from secretsync.gotemplate.funcs import der, keys
from secretsync.gotemplate.limits import Budget

OID_DATA = "1.2.840.113549.1.7.1"
OID_ENCRYPTED_DATA = "1.2.840.113549.1.7.6"
OID_KEY_BAG = "1.2.840.113549.1.12.10.1.1"
OID_SHROUDED_KEY_BAG = "1.2.840.113549.1.12.10.1.2"
OID_CERT_BAG = "1.2.840.113549.1.12.10.1.3"
OID_X509_CERT = "1.2.840.113549.1.9.22.1"
OID_LOCAL_KEY_ID = "1.2.840.113549.1.9.21"
OID_FRIENDLY_NAME = "1.2.840.113549.1.9.20"
OID_JAVA_TRUST_STORE = "2.16.840.1.113894.746875.1.1"
OID_ANY_EKU = "2.5.29.37.0"
OID_PBE_3DES = "1.2.840.113549.1.12.1.3"
OID_PBE_RC2_128 = "1.2.840.113549.1.12.1.5"
OID_PBE_RC2_40 = "1.2.840.113549.1.12.1.6"
OID_PBES2 = "1.2.840.113549.1.5.13"
OID_PBKDF2 = "1.2.840.113549.1.5.12"
OID_PBMAC1 = "1.2.840.113549.1.5.14"
OID_HMAC = {"1.2.840.113549.2.7": "sha1", "1.2.840.113549.2.9": "sha256", "1.2.840.113549.2.11": "sha512"}
OID_AES = {"2.16.840.1.101.3.4.1.2": 16, "2.16.840.1.101.3.4.1.22": 24, "2.16.840.1.101.3.4.1.42": 32}
OID_MAC_DIGEST = {
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.3": "sha512",
}

MODERN_ITERATIONS = 2048
ITERATIONS_PER_MS = 2000  # PBKDF2 in OpenSSL and the PKCS#12 KDF over hashlib: ~4,000/ms here
MAX_ENCRYPTED = 1 << 20


class PKCS12Error(ValueError):
    """Not a PKCS#12 file go-pkcs12 would read, or a wrong password. Raised without a message:
    every caller turns it into "function failed"; the reason is a comment at the raise."""


# --- passwords and key derivation -----------------------------------------------------------------


def bmp_password(password: str) -> bytes:
    """go-pkcs12's ``bmpStringZeroTerminated``: UCS-2 big-endian and two zero bytes."""
    out = bytearray()
    for ch in password:
        c = ord(ch)
        if 0xDC80 <= c <= 0xDCFF:  # an invalid UTF-8 byte: Go reads it as U+FFFD
            c = 0xFFFD
        if c > 0xFFFF or 0xD800 <= c <= 0xDFFF:
            raise PKCS12Error  # password not encodable in UCS-2
        out += c.to_bytes(2, "big")
    return bytes(out) + b"\x00\x00"


def _utf8_password(bmp: bytes | None) -> bytes:
    """PBES2 and PBMAC1 take the password as UTF-8: decode go-pkcs12's BMP form back."""
    if not bmp:
        return b""
    if bmp.endswith(b"\x00\x00"):
        bmp = bmp[:-2]
    return bmp.decode("utf-16-be", "surrogatepass").encode("utf-8", "surrogatepass")


def _fill(pattern: bytes, v: int) -> bytes:
    if not pattern:
        return b""
    n = v * ((len(pattern) + v - 1) // v)
    return (pattern * (n // len(pattern) + 1))[:n]


_HASH_UV = {"sha1": (20, 64), "sha256": (32, 64), "sha512": (64, 128)}


def pkcs12_kdf(algo: str, salt: bytes, password: bytes, iterations: int, ident: int, size: int) -> bytes:
    """RFC 7292 appendix B.2, as go-pkcs12's ``pbkdf``."""
    u, v = _HASH_UV[algo]
    new: Callable[[bytes], Any] = getattr(hashlib, algo)
    d = bytes([ident]) * v
    i_buf = bytearray(_fill(salt, v) + _fill(password, v))
    c = (size + u - 1) // u
    out = bytearray()
    for block in range(c):
        a = new(d + bytes(i_buf)).digest()
        for _ in range(1, iterations):
            a = new(a).digest()
        out += a
        if block < c - 1:
            b = int.from_bytes((a * (v // u + 1))[:v], "big")
            for j in range(len(i_buf) // v):
                ij = (int.from_bytes(i_buf[j * v : (j + 1) * v], "big") + b + 1) % (1 << (8 * v))
                i_buf[j * v : (j + 1) * v] = ij.to_bytes(v, "big")
    return bytes(out[:size])


def _charge(budget: Budget, iterations: int) -> None:
    budget.charge_expensive(1 + iterations // ITERATIONS_PER_MS)


# --- RC2 (RFC 2268), decryption only: legacy files use 40-bit RC2 for their certificates ------------

_PI = bytes.fromhex(
    "d978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2179a59f587b34f1361456d8d09817d32"
    "bd8f40eb86b77b0bf09521225c6b4e8254d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626"
    "6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed708e8eade8052eef784aa72ac354d6a2a"
    "961ad2715a1549744b9fd05e0418a4ecc2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731"
    "2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a90d38341bab33ffb0bb480c5fb9b1cd2e"
    "c5f3db47e5a59c770aa62068fe7fc1ad"
)


def _rc2_expand(key: bytes, t1: int) -> list[int]:
    buf = bytearray(128)
    buf[: len(key)] = key
    t = len(key)
    t8 = (t1 + 7) // 8
    tm = 255 % (1 << (8 + t1 - 8 * t8))
    for i in range(t, 128):
        buf[i] = _PI[(buf[i - 1] + buf[(i - t) & 0xFF]) & 0xFF]
    buf[128 - t8] = _PI[buf[128 - t8] & tm]
    for i in range(127 - t8, -1, -1):
        buf[i] = _PI[buf[i + 1] ^ buf[i + t8]]
    return [buf[2 * i] | (buf[2 * i + 1] << 8) for i in range(64)]


def _rc2_decrypt_block(k: list[int], block: bytes) -> bytes:
    r = [int.from_bytes(block[i : i + 2], "little") for i in (0, 2, 4, 6)]
    m = 0xFFFF

    def ror(x: int, b: int) -> int:
        return ((x >> b) | (x << (16 - b))) & m

    j = 63
    for stop in (44, 20, 0):
        while j >= stop:
            for idx, shift in ((3, 5), (2, 3), (1, 2), (0, 1)):
                a, b2, c = r[(idx - 1) % 4], r[(idx - 2) % 4], r[(idx - 3) % 4]
                r[idx] = (ror(r[idx], shift) - k[j] - (a & b2) - ((~a & m) & c)) & m
                j -= 1
        if stop:
            r[3] = (r[3] - k[r[2] & 63]) & m
            r[2] = (r[2] - k[r[1] & 63]) & m
            r[1] = (r[1] - k[r[0] & 63]) & m
            r[0] = (r[0] - k[r[3] & 63]) & m
    return b"".join(x.to_bytes(2, "little") for x in r)


def _rc2_cbc_decrypt(budget: Budget, key: bytes, iv: bytes, data: bytes) -> bytes:
    budget.step(len(data) * 4)
    k = _rc2_expand(key, len(key) * 8)
    out = bytearray()
    prev = iv
    for i in range(0, len(data), 8):
        block = data[i : i + 8]
        plain = _rc2_decrypt_block(k, block)
        out += bytes(x ^ y for x, y in zip(plain, prev, strict=True))
        prev = block
    return bytes(out)


# --- decryption ------------------------------------------------------------------------------------


def _alg(tlv: der.TLV) -> tuple[str, der.TLV | None]:
    """pkix.AlgorithmIdentifier: the algorithm and its optional parameters (any tag, asn1.RawValue)."""
    items = der.fields(tlv, 2)
    if not items:
        raise PKCS12Error  # bad algorithm identifier
    return der.to_oid(items[0]), items[1] if len(items) > 1 else None


def _pbkdf2(
    budget: Budget, params: der.TLV | None, password: bytes, key_len: int | None
) -> tuple[bytes, int]:
    if params is None:
        raise PKCS12Error  # missing PBKDF2 parameters
    # pbkdf2Params{Salt, Iterations, KeyLength optional, Prf optional}: Go reads the fourth element
    # only when the third was the key length
    items = der.fields(params, 3)
    if len(items) < 2 or items[0].tag != der.OCTET_STRING:
        raise PKCS12Error  # only octet string salts
    salt = items[0].value
    iterations = der.small_int(items[1], 1 << 31)
    declared = 0
    has_length = len(items) > 2 and items[2].tag == der.INTEGER
    if has_length:
        declared = der.small_int(items[2], 1 << 16)
        items = der.fields(params, 4)
    rest = items[3:] if has_length else items[2:]
    prf = "sha1"
    if rest:
        prf_oid, _ = _alg(rest[0])
        if prf_oid not in OID_HMAC:
            raise PKCS12Error  # unsupported PRF
        prf = OID_HMAC[prf_oid]
    length = key_len if key_len is not None else declared
    if length <= 0 or length > 64:
        raise PKCS12Error  # bad key length
    _charge(budget, iterations)
    return hashlib.pbkdf2_hmac(prf, password, salt, max(iterations, 1), length), iterations


def _pb_decrypt(budget: Budget, alg: der.TLV, data: bytes, password: bytes | None) -> bytes:
    oid, params = _alg(alg)
    if not data:
        raise PKCS12Error  # empty encrypted data
    if len(data) > MAX_ENCRYPTED:
        raise PKCS12Error  # too large
    budget.bytes_step(len(data))
    if oid == OID_PBES2:
        if params is None:
            raise PKCS12Error  # missing PBES2 parameters
        pbes2_params = der.fields(params, 2)
        if len(pbes2_params) < 2:
            raise PKCS12Error  # bad PBES2 parameters
        kdf, scheme = pbes2_params
        kdf_oid, kdf_params = _alg(kdf)
        if kdf_oid != OID_PBKDF2:
            raise PKCS12Error  # unsupported KDF
        enc_oid, iv_tlv = _alg(scheme)
        if enc_oid not in OID_AES or iv_tlv is None:
            raise PKCS12Error  # unsupported cipher
        key, _ = _pbkdf2(budget, kdf_params, _utf8_password(password), OID_AES[enc_oid])
        iv = der.octets(iv_tlv)
        if len(iv) != 16:
            raise PKCS12Error  # bad IV
        block = 16
        if len(data) % block:
            raise PKCS12Error  # not a multiple of the block size
        dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        plain = dec.update(data) + dec.finalize()
    elif oid in (OID_PBE_3DES, OID_PBE_RC2_128, OID_PBE_RC2_40):
        if params is None:
            raise PKCS12Error  # missing PBE parameters
        pbe_params = der.fields(params, 2)
        if len(pbe_params) < 2:
            raise PKCS12Error  # bad PBE parameters
        salt_tlv, iter_tlv = pbe_params
        salt = der.octets(salt_tlv)
        iterations = der.small_int(iter_tlv, 1 << 31)
        pw = password or b""
        key_len = {OID_PBE_3DES: 24, OID_PBE_RC2_128: 16, OID_PBE_RC2_40: 5}[oid]
        _charge(budget, 2 * iterations)
        key = pkcs12_kdf("sha1", salt, pw, iterations, 1, key_len)
        iv = pkcs12_kdf("sha1", salt, pw, iterations, 2, 8)
        block = 8
        if len(data) % block:
            raise PKCS12Error  # not a multiple of the block size
        if oid == OID_PBE_3DES:
            dec = Cipher(TripleDES(key), modes.CBC(iv)).decryptor()
            plain = dec.update(data) + dec.finalize()
        else:
            plain = _rc2_cbc_decrypt(budget, key, iv, data)
    else:
        raise PKCS12Error  # unsupported PBE algorithm
    pad = plain[-1]
    if pad == 0 or pad > block or len(plain) < pad or plain[-pad:] != bytes([pad]) * pad:
        raise PKCS12Error  # decryption error
    return plain[:-pad]


def _mac_data(tlv: der.TLV) -> tuple[der.TLV, bytes, bytes, der.TLV | None]:
    """go-pkcs12's macData: (the digest's AlgorithmIdentifier, the digest, the salt, the iteration count).

    macData{Mac digestInfo{Algorithm, Digest}, MacSalt []byte, Iterations optional}: MacSalt is no
    optional field, so a MacData without one does not unmarshal and go-pkcs12 fails whatever the
    password and whatever the algorithm (PBMAC1 ignores the salt, but it must be there).
    """
    mac_data = der.fields(tlv, 3)
    if len(mac_data) < 2:
        raise PKCS12Error  # bad MAC data
    digest_info = der.fields(mac_data[0], 2)
    if len(digest_info) < 2:
        raise PKCS12Error  # bad MAC digest
    digest = der.octets(digest_info[1])
    salt = der.octets(mac_data[1])
    return digest_info[0], digest, salt, mac_data[2] if len(mac_data) > 2 else None


def _mac(
    budget: Budget,
    mac_data: tuple[der.TLV, bytes, bytes, der.TLV | None],
    message: bytes,
    password: bytes | None,
) -> bytes:
    alg, _, salt, iterations_tlv = mac_data
    alg_oid, alg_params = _alg(alg)
    if alg_oid == OID_PBMAC1:
        if alg_params is None:
            raise PKCS12Error  # missing PBMAC1 parameters
        pbmac1_params = der.fields(alg_params, 2)
        if len(pbmac1_params) < 2:
            raise PKCS12Error  # bad PBMAC1 parameters
        kdf, mac_alg = pbmac1_params
        kdf_oid, kdf_params = _alg(kdf)
        mac_oid, _ = _alg(mac_alg)
        if kdf_oid != OID_PBKDF2 or mac_oid not in OID_HMAC:
            raise PKCS12Error  # unsupported PBMAC1
        key, _ = _pbkdf2(budget, kdf_params, _utf8_password(password), None)
        if len(key) < 20:
            raise PKCS12Error  # PBMAC1 key too short
        return hmac.new(key, message, OID_HMAC[mac_oid]).digest()
    if alg_oid not in OID_MAC_DIGEST:
        raise PKCS12Error  # unsupported MAC
    algo = OID_MAC_DIGEST[alg_oid]
    iterations = der.small_int(iterations_tlv, 1 << 31) if iterations_tlv is not None else 1
    _charge(budget, iterations)
    key = pkcs12_kdf(algo, salt, password or b"", iterations, 3, _HASH_UV[algo][0])
    return hmac.new(key, message, algo).digest()


def _content(ci: der.TLV) -> tuple[str, bytes]:
    """A ContentInfo's type and the bytes inside its explicit [0]."""
    items = der.fields(ci, 2)
    if not items:
        raise PKCS12Error  # empty content info
    kind = der.to_oid(items[0])
    if len(items) < 2:
        return kind, b""
    if items[1].tag != 0xA0:
        raise PKCS12Error  # bad content
    return kind, items[1].value


def safe_bags(
    budget: Budget, data: bytes, password: str, min_items: int, max_items: int
) -> tuple[list[der.TLV], bytes | None]:
    """go-pkcs12's ``getSafeContents``: every SafeBag, and the password form that worked."""
    pw: bytes | None = bmp_password(password)
    pfx = der.fields(der.parse(data, der.SEQUENCE), 3)
    if len(pfx) < 2 or der.small_int(pfx[0], 1 << 16) != 3:
        raise PKCS12Error  # only v3 PFX
    kind, inner = _content(pfx[1])
    if kind != OID_DATA:
        raise PKCS12Error  # only password-protected PFX
    auth_safe_bytes = der.octets(der.parse(inner))
    empty = pw == b"\x00\x00"
    # MacData is an optional struct field: an element that is no SEQUENCE leaves it unset (asn1's
    # setDefaultValue) and is not read, as if the PFX had none
    if len(pfx) < 3 or pfx[2].tag != der.SEQUENCE:
        if not empty:
            raise PKCS12Error  # no MAC
    else:
        mac_data = _mac_data(pfx[2])
        digest = mac_data[1]
        if not hmac.compare_digest(_mac(budget, mac_data, auth_safe_bytes, pw), digest):
            if not empty:
                raise PKCS12Error  # incorrect password
            pw = None  # some writers use an empty byte string for the empty password
            if not hmac.compare_digest(_mac(budget, mac_data, auth_safe_bytes, pw), digest):
                raise PKCS12Error  # incorrect password
    infos = der.seq(auth_safe_bytes)
    if not min_items <= len(infos) <= max_items:
        raise PKCS12Error  # unexpected number of items
    bags: list[der.TLV] = []
    for ci in infos:
        kind, inner = _content(ci)
        if kind == OID_DATA:
            contents = der.octets(der.parse(inner))
        elif kind == OID_ENCRYPTED_DATA:
            # encryptedData{Version, EncryptedContentInfo}: extra elements after those are unread
            enc = der.fields(der.parse(inner, der.SEQUENCE), 2)
            if len(enc) < 2 or der.small_int(enc[0], 1 << 16) != 0:
                raise PKCS12Error  # only version 0 EncryptedData
            eci = der.fields(enc[1], 3)
            if len(eci) < 2:
                raise PKCS12Error  # bad encrypted content info
            payload = eci[2].value if len(eci) > 2 and eci[2].tag == 0x80 else b""
            contents = _pb_decrypt(budget, eci[1], payload, pw)
        else:
            raise PKCS12Error  # unsupported content type
        bags += der.seq(contents)
    return bags, pw


def decode_chain(budget: Budget, data: bytes, password: str) -> tuple[keys.PrivateKey, bytes, list[bytes]]:
    """go-pkcs12's ``DecodeChain``: (the parsed key, leaf certificate, chain), the certificates DER
    (the caller parses them: it needs them as ``x509.ParseCertificate`` reads them)."""
    bags, pw = safe_bags(budget, data, password, 1, 2)
    key: keys.PrivateKey | None = None
    leaf: bytes | None = None
    chain: list[bytes] = []
    for bag in bags:
        items = der.fields(bag, 3)  # safeBag{Id, Value, Attributes optional}
        if len(items) < 2 or items[1].tag != 0xA0:
            raise PKCS12Error  # bad safe bag
        bag_id = der.to_oid(items[0])
        value = items[1].value
        if bag_id == OID_CERT_BAG:
            cert_bag = der.fields(der.parse(value, der.SEQUENCE), 2)
            if len(cert_bag) < 2 or der.to_oid(cert_bag[0]) != OID_X509_CERT or cert_bag[1].tag != 0xA0:
                raise PKCS12Error  # only X.509 certificate bags
            cert_der = der.octets(der.parse(cert_bag[1].value))
            if len(_split_certs(cert_der)) != 1:
                raise PKCS12Error  # expected exactly one certificate in the certBag
            if leaf is None:
                leaf = cert_der
            else:
                chain.append(cert_der)
        elif bag_id == OID_KEY_BAG:
            if key is not None:
                raise PKCS12Error  # expected exactly one key bag
            key = _pkcs8_key(value)
        elif bag_id == OID_SHROUDED_KEY_BAG:
            if key is not None:
                raise PKCS12Error  # expected exactly one key bag
            info = der.fields(der.parse(value, der.SEQUENCE), 2)  # encryptedPrivateKeyInfo
            if len(info) < 2:
                raise PKCS12Error  # bad shrouded key bag
            plain = _pb_decrypt(budget, info[0], der.octets(info[1]), pw)
            der.parse(plain)  # decodePkcs8ShroudedKeyBag: one element, nothing after it
            key = _pkcs8_key(plain)
    if leaf is None:
        raise PKCS12Error  # certificate missing
    if key is None:
        raise PKCS12Error  # private key missing
    return key, leaf, chain


def _pkcs8_key(data: bytes) -> keys.PrivateKey:
    """``x509.ParsePKCS8PrivateKey``, which DecodeChain runs on either kind of key bag.

    A key bag that holds no PKCS#8 key Go parses fails DecodeChain, so pkcs12cert fails too. Go
    ignores bytes after the key (what asn1.Unmarshal leaves over).
    """
    try:
        return keys.parse_private(data, "pkcs8")
    except keys.KeyFormatError:
        raise PKCS12Error from None  # bad private key


def _split_certs(data: bytes) -> list[bytes]:
    """Go's ``x509.ParseCertificates`` splits concatenated DER certificates."""
    out = []
    pos = 0
    while pos < len(data):
        tlv, pos = der.read(data, pos)
        out.append(tlv.raw)
    return out


# --- encoding (go-pkcs12's Modern encoder) -----------------------------------------------------------


def _pbes2_encrypt(budget: Budget, data: bytes, password: bytes) -> tuple[bytes, bytes]:
    """(AlgorithmIdentifier, ciphertext) for PBES2 with PBKDF2-HMAC-SHA-256 and AES-256-CBC."""
    salt = secrets.token_bytes(16)
    iv = secrets.token_bytes(16)
    _charge(budget, MODERN_ITERATIONS)
    key = hashlib.pbkdf2_hmac("sha256", _utf8_password(password), salt, MODERN_ITERATIONS, 32)
    kdf_params = der.sequence(
        der.octet_string(salt),
        der.integer(MODERN_ITERATIONS),
        der.sequence(der.oid("1.2.840.113549.2.9"), der.null()),
    )
    params = der.sequence(
        der.sequence(der.oid(OID_PBKDF2), kdf_params),
        der.sequence(der.oid("2.16.840.1.101.3.4.1.42"), der.octet_string(iv)),
    )
    pad = 16 - len(data) % 16
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    cipher_text = enc.update(data + bytes([pad]) * pad) + enc.finalize()
    return der.sequence(der.oid(OID_PBES2), params), cipher_text


def _attribute(oid: str, value: bytes) -> bytes:
    return der.sequence(der.oid(oid), der.set_of(value))


def _safe_bag(oid: str, value: bytes, attributes: list[bytes]) -> bytes:
    parts = [der.oid(oid), der.explicit(0, value)]
    if attributes:
        parts.append(der.set_of(*attributes))
    return der.sequence(*parts)


def _cert_bag(cert: bytes, attributes: list[bytes]) -> bytes:
    value = der.sequence(der.oid(OID_X509_CERT), der.explicit(0, der.octet_string(cert)))
    return _safe_bag(OID_CERT_BAG, value, attributes)


def _data_content(content: bytes) -> bytes:
    return der.sequence(der.oid(OID_DATA), der.explicit(0, der.octet_string(content)))


def _encrypted_content(budget: Budget, content: bytes, password: bytes) -> bytes:
    alg, cipher_text = _pbes2_encrypt(budget, content, password)
    eci = der.sequence(der.oid(OID_DATA), alg, der.tlv(0x80, cipher_text))
    return der.sequence(der.oid(OID_ENCRYPTED_DATA), der.explicit(0, der.sequence(der.integer(0), eci)))


def _pfx(budget: Budget, infos: list[bytes], password: bytes) -> bytes:
    auth_safe = der.sequence(*infos)
    salt = secrets.token_bytes(16)
    _charge(budget, MODERN_ITERATIONS)
    mac_key = pkcs12_kdf("sha256", salt, password, MODERN_ITERATIONS, 3, 32)
    digest = hmac.new(mac_key, auth_safe, "sha256").digest()
    mac_data = der.sequence(
        der.sequence(der.sequence(der.oid("2.16.840.1.101.3.4.2.1")), der.octet_string(digest)),
        der.octet_string(salt),
        der.integer(MODERN_ITERATIONS),
    )
    return der.sequence(der.integer(3), _data_content(auth_safe), mac_data)


def encode_modern(budget: Budget, key_pkcs8: bytes, cert: bytes, chain: list[bytes], password: str) -> bytes:
    """go-pkcs12's ``Modern.Encode``: encrypted certificates, then the shrouded key."""
    pw = bmp_password(password)
    local_key_id = _attribute(OID_LOCAL_KEY_ID, der.octet_string(hashlib.sha1(cert).digest()))  # noqa: S324
    cert_bags = [_cert_bag(cert, [local_key_id])] + [_cert_bag(c, []) for c in chain]
    alg, cipher_text = _pbes2_encrypt(budget, key_pkcs8, pw)
    key_bag = _safe_bag(
        OID_SHROUDED_KEY_BAG, der.sequence(alg, der.octet_string(cipher_text)), [local_key_id]
    )
    infos = [
        _encrypted_content(budget, der.sequence(*cert_bags), pw),
        _data_content(der.sequence(key_bag)),
    ]
    return _pfx(budget, infos, pw)


def encode_trust_store(budget: Budget, certs: list[tuple[bytes, str]], password: str) -> bytes:
    """go-pkcs12's ``Modern.EncodeTrustStore``: certificates marked as Java trust anchors."""
    pw = bmp_password(password)
    trust = _attribute(OID_JAVA_TRUST_STORE, der.oid(OID_ANY_EKU))
    bags = []
    for cert, name in certs:
        friendly = _attribute(OID_FRIENDLY_NAME, der.tlv(der.BMP_STRING, bmp_password(name)[:-2]))
        bags.append(_cert_bag(cert, [trust, friendly]))
    return _pfx(budget, [_encrypted_content(budget, der.sequence(*bags), pw)], pw)
