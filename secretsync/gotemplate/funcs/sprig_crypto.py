"""Sprig's cryptographic functions (``crypto.go``, Masterminds/sprig v3.3.0), bounded for tenants.

Everything that costs real CPU is admitted through the render budget *before* it runs
(:meth:`Budget.expensive`, estimates in milliseconds): RSA-4096 generation (Sprig's
``genPrivateKey "rsa"``) 600, RSA-2048 (the certificate generators) 60, DSA-2048 550 (parameter generation),
bcrypt at Sprig's fixed cost 10: 60, ``derivePassword``'s scrypt (N=32768, r=8, p=2, 32 MiB)
300, a signature with a given key 5 (40 past 4096 bits). A render may run at most
``max_expensive_calls`` of them and ``max_expensive_ms`` in total, so
``{{ range until 1000 }}{{ genPrivateKey "rsa" }}{{ end }}`` stops after the second key.
Randomness comes from ``secrets`` (the OS CSPRNG). bcrypt is the system's libcrypt
(libxcrypt's ``$2a$``, byte-compatible with Go's ``golang.org/x/crypto/bcrypt``).

As in Sprig, several functions put an error *text* in their result instead of failing
(``bcrypt`` on a password over 72 bytes, ``genPrivateKey`` of an unknown type,
``derivePassword`` of an unknown template, ``htpasswd`` with a ``:`` in the user name):
that text lands in the Secret, never in an error message.
"""

from __future__ import annotations

import base64
import binascii
import ctypes
import ctypes.util
import datetime as dt
import hashlib
import hmac
import ipaddress
import secrets
import threading
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs import keys
from secretsync.gotemplate.funcs.spec import Table, register
from secretsync.gotemplate.gostrconv import from_bytes, to_bytes
from secretsync.gotemplate.limits import Budget
from secretsync.gotemplate.values import GoStruct, Value

CRYPTO: Table = {}

# Near the mean measured on a CI machine (2 CPUs, 2026-12):
# RSA-4096 0.75 s (median 0.63 s, slowest of 50 2.4 s), DSA-2048 with fresh parameters 0.52 s
# (slowest of 60 2.0 s), scrypt N=32768 0.32 s, bcrypt cost 10 and RSA-2048 about 0.065 s.
# Within the default 1,200 ms a render gets two RSA-4096 or DSA keys, four scrypt derivations.
COST_RSA4096 = 600
COST_RSA2048 = 60
COST_DSA = 550
COST_BCRYPT = 60
COST_SCRYPT = 300
COST_SIGN = 5
COST_SIGN_LARGE = 40
COST_SMALL = 1

CERT_TYPE = "sprig.certificate"


def sign_cost(key: Any) -> int:
    return COST_SIGN_LARGE if isinstance(key, rsa.RSAPrivateKey) and key.key_size > 4096 else COST_SIGN


# --- bcrypt through libcrypt ------------------------------------------------------------------------

_BCRYPT_B64 = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
)
_CRYPT_DATA_SIZE = 1 << 16  # at least sizeof(struct crypt_data) (32 KiB in libxcrypt)
_libcrypt_lock = threading.Lock()
_libcrypt: list[Any] = []


def _crypt_rn() -> Any:
    with _libcrypt_lock:
        if not _libcrypt:
            name = ctypes.util.find_library("crypt") or "libcrypt.so.1"
            fn = ctypes.CDLL(name).crypt_rn
            fn.restype = ctypes.c_char_p
            fn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
            _libcrypt.append(fn)
        return _libcrypt[0]


def crypt(phrase: bytes, setting: bytes) -> bytes:
    """crypt(3) through the thread-safe ``crypt_rn``; ValueError if it refuses."""
    if b"\x00" in phrase or b"\x00" in setting:
        raise ValueError("NUL byte")
    try:
        fn = _crypt_rn()
    except (OSError, AttributeError):
        raise ValueError("libcrypt unavailable") from None
    buf = ctypes.create_string_buffer(_CRYPT_DATA_SIZE)
    out = fn(phrase, setting, buf, _CRYPT_DATA_SIZE)
    if not out or out.startswith(b"*"):
        raise ValueError("crypt failed")
    return bytes(out)


def bcrypt_hash(password: bytes, cost: int = 10) -> bytes:
    """Go's ``bcrypt.GenerateFromPassword``: ``$2a$``, a random 16-byte salt."""
    salt = base64.b64encode(secrets.token_bytes(16)).rstrip(b"=").translate(_BCRYPT_B64)
    return crypt(password, b"$2a$%02d$" % cost + salt)


def bcrypt_check(hashed: bytes, password: bytes) -> bool:
    try:
        return hmac.compare_digest(crypt(password, hashed), hashed)
    except ValueError:
        return False


def _bcrypt(budget: Budget, s: str) -> str:
    raw = to_bytes(s)
    if len(raw) > 72:
        return "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
    with budget.expensive(COST_BCRYPT):
        try:
            return from_bytes(bcrypt_hash(raw))
        except ValueError:
            raise Fault("function failed") from None


@register(CRYPTO, "bcrypt", "str")
def bcrypt(budget: Budget, s: str) -> str:
    return _bcrypt(budget, s)


@register(CRYPTO, "htpasswd", "str", "str", "lstr", variadic=True)
def htpasswd(budget: Budget, user: str, password: str, *rest: str) -> str:
    """Sprig v3.3.0 (Bitnami) takes (user, password); ESO's vendored Sprig adds the algorithm."""
    if len(rest) > 1:
        raise Fault("wrong number of args")
    algorithm = rest[0] if rest else "bcrypt"
    if ":" in user:
        return "invalid username: " + user
    if algorithm == "sha":
        digest = hashlib.sha1(to_bytes(password)).digest()  # noqa: S324 - Apache's {SHA} scheme
        return f"{user}:{{SHA}}{base64.b64encode(digest).decode()}"
    return f"{user}:{_bcrypt(budget, password)}"


# --- random bytes, AES ------------------------------------------------------------------------------


@register(CRYPTO, "randBytes", "int")
def rand_bytes(budget: Budget, count: int) -> str:
    if count < 0:
        raise Fault("function failed")  # Go: make([]byte, -1) panics
    budget.check_size(count * 4 // 3 + 4)
    budget.bytes_step(count * 2)
    return base64.b64encode(secrets.token_bytes(count)).decode()


def _aes_key(password: str) -> bytes:
    return to_bytes(password)[:32].ljust(32, b"\x00")


@register(CRYPTO, "encryptAES", "str", "str")
def encrypt_aes(budget: Budget, password: str, plaintext: str) -> str:
    if plaintext == "":
        return ""
    content = to_bytes(plaintext)
    budget.check_size(len(content) * 4 // 3 + 64)
    budget.bytes_step(len(content) * 2)
    pad = 16 - len(content) % 16
    iv = secrets.token_bytes(16)
    enc = Cipher(algorithms.AES(_aes_key(password)), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + enc.update(content + bytes([pad]) * pad) + enc.finalize()).decode()


@register(CRYPTO, "decryptAES", "str", "str")
def decrypt_aes(budget: Budget, password: str, crypt64: str) -> str:
    if crypt64 == "":
        return ""
    raw = to_bytes(crypt64)
    budget.bytes_step(len(raw) * 2)
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise Fault("function failed") from None
    iv, body = data[:16], data[16:]
    if len(iv) < 16 or not body or len(body) % 16:
        raise Fault("function failed")  # Go panics: slice bounds, "input not full blocks"
    dec = Cipher(algorithms.AES(_aes_key(password)), modes.CBC(iv)).decryptor()
    plain = dec.update(body) + dec.finalize()
    pad = plain[-1]
    if pad > len(plain):
        raise Fault("function failed")  # Go panics: slice bounds out of range
    return from_bytes(plain[: len(plain) - pad])


# --- derivePassword (Master Password algorithm) ------------------------------------------------------

_MASTER_SEED = b"com.lyndir.masterpassword"
_PASSWORD_TEMPLATES: dict[str, list[str]] = {
    "maximum": ["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
    "long": [
        "CvcvnoCvcvCvcv", "CvcvCvcvnoCvcv", "CvcvCvcvCvcvno", "CvccnoCvcvCvcv", "CvccCvcvnoCvcv",
        "CvccCvcvCvcvno", "CvcvnoCvccCvcv", "CvcvCvccnoCvcv", "CvcvCvccCvcvno", "CvcvnoCvcvCvcc",
        "CvcvCvcvnoCvcc", "CvcvCvcvCvccno", "CvccnoCvccCvcv", "CvccCvccnoCvcv", "CvccCvccCvcvno",
        "CvcvnoCvccCvcc", "CvcvCvccnoCvcc", "CvcvCvccCvccno", "CvccnoCvcvCvcc", "CvccCvcvnoCvcc",
        "CvccCvcvCvccno",
    ],
    "medium": ["CvcnoCvc", "CvcCvcno"],
    "short": ["Cvcn"],
    "basic": ["aaanaaan", "aannaaan", "aaannaaa"],
    "pin": ["nnnn"],
}  # fmt: skip
_TEMPLATE_CHARACTERS = {
    "V": "AEIOU",
    "C": "BCDFGHJKLMNPQRSTVWXYZ",
    "v": "aeiou",
    "c": "bcdfghjklmnpqrstvwxyz",
    "A": "AEIOUBCDFGHJKLMNPQRSTVWXYZ",
    "a": "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
    "n": "0123456789",
    "o": "@&%?,=[]_:-+*$#!'^~;()/.",
    "x": "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
}


@register(CRYPTO, "derivePassword", "u32", "str", "str", "str", "str")
def derive_password(budget: Budget, counter: int, kind: str, password: str, user: str, site: str) -> str:
    templates = _PASSWORD_TEMPLATES.get(kind)
    if templates is None:
        return "cannot find password template " + kind
    user_b, site_b = to_bytes(user), to_bytes(site)
    budget.bytes_step(len(user_b) + len(site_b) + len(password))
    salt = _MASTER_SEED + len(user_b).to_bytes(4, "big") + user_b
    with budget.expensive(COST_SCRYPT):
        key = hashlib.scrypt(to_bytes(password), salt=salt, n=32768, r=8, p=2, dklen=64, maxmem=64 << 20)
    message = _MASTER_SEED + len(site_b).to_bytes(4, "big") + site_b + counter.to_bytes(4, "big")
    seed = hmac.new(key, message, "sha256").digest()
    template = templates[seed[0] % len(templates)]
    out = []
    for i, element in enumerate(template):
        chars = _TEMPLATE_CHARACTERS[element]
        out.append(chars[seed[i + 1] % len(chars)])
    return "".join(out)


# --- genPrivateKey ----------------------------------------------------------------------------------


def _generate(budget: Budget, typ: str) -> keys.PrivateKey | dsa.DSAPrivateKey | None:
    if typ in ("", "rsa"):
        with budget.expensive(COST_RSA4096):
            return rsa.generate_private_key(65537, 4096)
    if typ == "dsa":
        with budget.expensive(COST_DSA):
            return dsa.generate_private_key(2048)
    if typ == "ecdsa":
        with budget.expensive(COST_SMALL):
            return ec.generate_private_key(ec.SECP256R1())
    if typ == "ed25519":
        with budget.expensive(COST_SMALL):
            return ed25519.Ed25519PrivateKey.generate()
    return None


@register(CRYPTO, "genPrivateKey", "str")
def gen_private_key(budget: Budget, typ: str) -> str:
    key = _generate(budget, typ)
    if key is None:
        return "Unknown type " + typ
    return keys.pem(*keys.sprig_pem_block(key))


# --- certificates -----------------------------------------------------------------------------------

_GO_PRINTABLE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 '()+,-./:=?")
_MAX_DAYS = 106751  # past this, Go's time.Duration overflows


def certificate(cert: str, key: str) -> GoStruct:
    return GoStruct(CERT_TYPE, {"Cert": cert, "Key": key}, ("Cert", "Key"))


def _strings(v: Value) -> list[str]:
    if v is None:
        return []
    if not isinstance(v, list):
        raise Fault("wrong type")  # Go: the parameter is []interface{}
    if any(not isinstance(e, str) for e in v):
        raise Fault("function failed")  # Sprig: "error parsing ip: %v is not a string"
    return list(v)


def _ips(v: Value) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    out: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for s in _strings(v):
        if "%" in s:
            raise Fault("function failed")  # net.ParseIP takes no zone
        try:
            ip = ipaddress.ip_address(s)
        except ValueError:
            raise Fault("function failed") from None
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # Go writes a 4-byte address for an IPv4-mapped one
        out.append(ip)
    return out


def _name(cn: str) -> x509.Name:
    if cn == "":
        return x509.Name([])
    if not all(c in _GO_PRINTABLE for c in cn):
        if any(0xD800 <= ord(c) <= 0xDFFF for c in cn):
            raise Fault("function failed")  # Go: "asn1: string not valid UTF-8"
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn, _type=_ASN1Type.PrintableString)])


def _sig_hash(key: Any) -> Any:
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 1024:
            raise Fault("function failed")  # Go 1.24+: RSA keys under 1024 bits are refused (rsa1024min)
        return hashes.SHA256()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {"secp384r1": hashes.SHA384(), "secp521r1": hashes.SHA512()}.get(
            key.curve.name, hashes.SHA256()
        )
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    raise Fault("function failed")  # Go: "x509: only RSA, ECDSA and Ed25519 keys supported"


def _make_cert(
    cn: str,
    ips: Value,
    dns: Value,
    days: int,
    signee: Any,
    signer: Any,
    parent: x509.Certificate | None,
    is_ca: bool,
) -> GoStruct:
    if isinstance(signee, dsa.DSAPrivateKey) or isinstance(signer, dsa.DSAPrivateKey):
        raise Fault("function failed")  # Go's x509 neither signs with nor certifies DSA keys
    addresses = _ips(ips)
    names = _strings(dns)
    if not -_MAX_DAYS <= days <= _MAX_DAYS:
        raise Fault("function failed")
    subject = _name(cn)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    signee_pub = signee.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(parent.subject if parent is not None else subject)
        .public_key(signee_pub)
        .serial_number(secrets.randbelow((1 << 128) - 1) + 1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=days))
    )
    builder = builder.add_extension(
        x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=True,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=is_ca,
            crl_sign=False,
            encipher_only=False,
            decipher_only=False,
        ),
        critical=True,
    )
    builder = builder.add_extension(
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
        critical=False,
    )
    builder = builder.add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    if is_ca:
        builder = builder.add_extension(x509.SubjectKeyIdentifier(keys.go_subject_key_id(signee_pub)), False)
    if parent is not None:
        parent_ski = keys.ski(parent)
        if parent_ski and parent.subject.public_bytes() != subject.public_bytes():
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier(parent_ski, None, None), critical=False
            )
    if addresses or names:
        sans: list[x509.GeneralName] = [x509.DNSName(d) for d in names]
        sans += [x509.IPAddress(ip) for ip in addresses]
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=not cn)
    try:
        cert = builder.sign(signer, _sig_hash(signer))
    except Fault:
        raise
    except Exception:
        raise Fault("function failed") from None
    return certificate(
        keys.pem("CERTIFICATE", cert.public_bytes(serialization.Encoding.DER)),
        keys.pem(*keys.sprig_pem_block(signee)),
    )


def _pem_key(budget: Budget, text: str) -> Any:
    budget.bytes_step(len(text))
    try:
        return keys.parse_sprig_pem(text)
    except keys.KeyFormatError:
        raise Fault("function failed") from None


@register(CRYPTO, "genCA", "str", "int")
def gen_ca(budget: Budget, cn: str, days: int) -> GoStruct:
    with budget.expensive(COST_RSA2048):
        key = rsa.generate_private_key(65537, 2048)
        return _make_cert(cn, None, None, days, key, key, None, True)


@register(CRYPTO, "genCAWithKey", "str", "int", "str")
def gen_ca_with_key(budget: Budget, cn: str, days: int, key_pem: str) -> GoStruct:
    key = _pem_key(budget, key_pem)
    with budget.expensive(sign_cost(key)):
        return _make_cert(cn, None, None, days, key, key, None, True)


@register(CRYPTO, "genSelfSignedCert", "str", "any", "any", "int")
def gen_self_signed(budget: Budget, cn: str, ips: Value, dns: Value, days: int) -> GoStruct:
    with budget.expensive(COST_RSA2048):
        key = rsa.generate_private_key(65537, 2048)
        return _make_cert(cn, ips, dns, days, key, key, None, False)


@register(CRYPTO, "genSelfSignedCertWithKey", "str", "any", "any", "int", "str")
def gen_self_signed_with_key(
    budget: Budget, cn: str, ips: Value, dns: Value, days: int, key_pem: str
) -> GoStruct:
    key = _pem_key(budget, key_pem)
    with budget.expensive(sign_cost(key)):
        return _make_cert(cn, ips, dns, days, key, key, None, False)


def _ca(budget: Budget, ca: Value) -> tuple[x509.Certificate, Any]:
    if not isinstance(ca, GoStruct) or ca.go_type != CERT_TYPE:
        raise Fault("wrong type")  # Go: wrong type for value; expected sprig.certificate
    block, _ = keys.first_pem(to_bytes(ca["Cert"]))
    if block is None:
        raise Fault("function failed")
    try:
        cert = keys.parse_cert(block[1])
    except keys.KeyFormatError:
        raise Fault("function failed") from None
    key = _pem_key(budget, ca["Key"])
    if isinstance(key, dsa.DSAPrivateKey) or key.public_key() != cert.public_key():
        raise Fault("function failed")  # Go: the private key doesn't match the parent's public key
    return cert, key


@register(CRYPTO, "genSignedCert", "str", "any", "any", "int", "any")
def gen_signed(budget: Budget, cn: str, ips: Value, dns: Value, days: int, ca: Value) -> GoStruct:
    with budget.expensive(COST_RSA2048):
        key = rsa.generate_private_key(65537, 2048)
        parent, signer = _ca(budget, ca)
        return _make_cert(cn, ips, dns, days, key, signer, parent, False)


@register(CRYPTO, "genSignedCertWithKey", "str", "any", "any", "int", "any", "str")
def gen_signed_with_key(
    budget: Budget, cn: str, ips: Value, dns: Value, days: int, ca: Value, key_pem: str
) -> GoStruct:
    parent, signer = _ca(budget, ca)
    key = _pem_key(budget, key_pem)
    with budget.expensive(sign_cost(signer)):
        return _make_cert(cn, ips, dns, days, key, signer, parent, False)


@register(CRYPTO, "buildCustomCert", "str", "str")
def build_custom_cert(budget: Budget, b64cert: str, b64key: str) -> GoStruct:
    budget.bytes_step(len(b64cert) + len(b64key))
    try:
        cert = base64.b64decode(to_bytes(b64cert), validate=True)
        key = base64.b64decode(to_bytes(b64key), validate=True)
    except (binascii.Error, ValueError):
        raise Fault("function failed") from None
    block, _ = keys.first_pem(cert)
    if block is None:
        raise Fault("function failed")
    try:
        keys.parse_cert(block[1])
    except keys.KeyFormatError:
        raise Fault("function failed") from None
    _pem_key(budget, from_bytes(key))
    return certificate(from_bytes(cert), from_bytes(key))


__all__ = ["CRYPTO", "bcrypt_check", "bcrypt_hash"]
