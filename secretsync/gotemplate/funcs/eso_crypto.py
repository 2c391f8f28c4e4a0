"""ESO's certificate and key functions (external-secrets ``runtime/template/v2``: pkcs12.go,
jwk.go, pem.go, pem_chain.go, decrypt.go), on ``cryptography`` and our own PKCS#12 codec.

PKCS#12 archives arrive as raw bytes (a value from the store, not base64); archives ESO
writes come out base64-encoded, as ESO prints them. Reading an archive is an expensive call
(its key derivations are charged as they are found, see :mod:`.pkcs12`), and so is writing
one. Chains are ordered as ESO orders them (AuthorityKeyId to SubjectKeyId; no signature is
checked: this is formatting, not validation). Every failure is ``function failed`` naming the
function: never the password, the key or the reason text Go would have printed.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs import der, keys, pkcs12
from secretsync.gotemplate.funcs.spec import Table, register
from secretsync.gotemplate.funcs.sprig_crypto import COST_SIGN, sign_cost
from secretsync.gotemplate.funcs.sprig_misc import parse_url, url_string
from secretsync.gotemplate.gostrconv import from_bytes, to_bytes
from secretsync.gotemplate.limits import Budget
from secretsync.gotemplate.values import Value

ESO_CRYPTO: Table = {}

COST_PKCS12 = 5  # the archive's own key derivations are charged on top, as they are read
MAX_CHAIN = 64  # certificates ordered by filterCertChain / pkcs12cert (quadratic in ESO)


def _failed() -> Fault:
    return Fault("function failed")


# --- PEM and certificate helpers ----------------------------------------------------------------------


def _cert_pem(der_bytes: bytes) -> str:
    return keys.pem("CERTIFICATE", der_bytes)


def _decode_first(data: bytes) -> tuple[bytes, bytes]:
    """``pem.Decode`` where ESO then reads ``block.Bytes``: no block is Go's nil dereference."""
    block, rest = keys.first_pem(data)
    if block is None:
        raise _failed()
    return block[1], rest


def _parse_certs_strict(data: bytes) -> list[x509.Certificate]:
    """ESO's ``parseCaCerts``: every block up to the end must be a certificate."""
    out: list[x509.Certificate] = []
    rest = data
    while rest:
        body, rest = _decode_first(rest)
        out.append(_parse_cert(body))
        if len(out) > MAX_CHAIN:
            raise _failed()
    return out


def _parse_cert(body: bytes) -> x509.Certificate:
    try:
        return keys.parse_cert(body)
    except keys.KeyFormatError:
        raise _failed() from None


def _cert_nodes(data: bytes) -> list[x509.Certificate]:
    """ESO's ``pemToNodes``: every PEM block of ``data`` as a certificate (junk around them is skipped)."""
    out = []
    for _, body in keys.pem_blocks(from_bytes(data)):
        out.append(_parse_cert(body))
        if len(out) > MAX_CHAIN:
            raise _failed()
    return out


def _ordered_chain(certs: list[x509.Certificate]) -> list[x509.Certificate] | None:
    """ESO's ``fetchX509CertChains``: leaf first, then each issuer; None where it gives up."""
    akis = [keys.aki(c) or b"" for c in certs]
    skis = [keys.ski(c) for c in certs]
    parent: list[int | None] = [None] * len(certs)
    is_parent = [False] * len(certs)
    for i in range(len(certs)):
        for j in range(len(certs)):
            if i != j and akis[i] == skis[j]:
                is_parent[j] = True
                parent[i] = j
                break
    leaves = [i for i in range(len(certs)) if not is_parent[i]]
    if len(leaves) != 1:
        return None  # "found multiple leaf or disjunct certificates" / "no leaf certificate found"
    chain: list[x509.Certificate] = []
    node: int | None = leaves[0]
    while node is not None:
        if len(chain) >= len(certs):
            return None  # "constructing chain resulted in cycle"
        chain.append(certs[node])
        node = parent[node]
    return chain


def _is_root(cert: x509.Certificate) -> bool:
    a = keys.aki(cert)
    return a is None or a == keys.ski(cert)


# --- PKCS#12 ----------------------------------------------------------------------------------------


def _decode_pkcs12(budget: Budget, password: str, data: str) -> tuple[keys.PrivateKey, bytes, list[bytes]]:
    raw = to_bytes(data)
    budget.bytes_step(len(raw))
    try:
        return pkcs12.decode_chain(budget, raw, password)
    except (pkcs12.PKCS12Error, der.DERError, ValueError, IndexError):
        raise _failed() from None


@register(ESO_CRYPTO, "pkcs12keyPass", "str", "str")
def pkcs12_key_pass(budget: Budget, password: str, data: str) -> str:
    with budget.expensive(COST_PKCS12):
        key, leaf, chain = _decode_pkcs12(budget, password, data)
        # go-pkcs12's DecodeChain runs x509.ParseCertificates on every cert bag, so a bag holding DER
        # that is no certificate fails ESO's pkcs12keyPass too (the certificates are then dropped)
        for cert in [leaf, *chain]:
            _parse_cert(cert)
        return keys.pem("PRIVATE KEY", keys.marshal_pkcs8(key))


@register(ESO_CRYPTO, "pkcs12key", "str")
def pkcs12_key(budget: Budget, data: str) -> str:
    return pkcs12_key_pass(budget, "", data)


@register(ESO_CRYPTO, "pkcs12certPass", "str", "str")
def pkcs12_cert_pass(budget: Budget, password: str, data: str) -> str:
    with budget.expensive(COST_PKCS12):
        _, leaf, chain = _decode_pkcs12(budget, password, data)
        certs = [_parse_cert(c) for c in [leaf, *chain]]
        if len(certs) > MAX_CHAIN:
            raise _failed()
        ordered = _ordered_chain(certs)
        if ordered is None:
            return "".join(_cert_pem(c) for c in [leaf, *chain])
        return "".join(_cert_pem(c.public_bytes(Encoding.DER)) for c in ordered)


@register(ESO_CRYPTO, "pkcs12cert", "str")
def pkcs12_cert(budget: Budget, data: str) -> str:
    return pkcs12_cert_pass(budget, "", data)


def _eso_private_key(key_pem: str) -> keys.PrivateKey:
    body, _ = _decode_first(to_bytes(key_pem))
    try:
        return keys.parse_private(body, "any")  # ESO's parsePrivateKey: PKCS#1, PKCS#8 or SEC1
    except keys.KeyFormatError:
        raise _failed() from None


def _to_pkcs12(budget: Budget, cert_pem: str, key_pem: str, password: str, full: bool) -> str:
    budget.bytes_step(len(cert_pem) + len(key_pem))
    body, rest = _decode_first(to_bytes(cert_pem))
    leaf = _parse_cert(body)
    chain = _parse_certs_strict(rest) if full else []
    key = _eso_private_key(key_pem)
    with budget.expensive(COST_PKCS12):
        try:
            pfx = pkcs12.encode_modern(
                budget,
                keys.marshal_pkcs8(key),
                leaf.public_bytes(Encoding.DER),
                [c.public_bytes(Encoding.DER) for c in chain],
                password,
            )
        except pkcs12.PKCS12Error:
            raise _failed() from None
    budget.check_size(len(pfx) * 4 // 3 + 4)
    return base64.b64encode(pfx).decode()


@register(ESO_CRYPTO, "pemToPkcs12Pass", "str", "str", "str")
def pem_to_pkcs12_pass(budget: Budget, cert: str, key: str, password: str) -> str:
    return _to_pkcs12(budget, cert, key, password, False)


@register(ESO_CRYPTO, "pemToPkcs12", "str", "str")
def pem_to_pkcs12(budget: Budget, cert: str, key: str) -> str:
    return _to_pkcs12(budget, cert, key, "", False)


@register(ESO_CRYPTO, "fullPemToPkcs12Pass", "str", "str", "str")
def full_pem_to_pkcs12_pass(budget: Budget, cert: str, key: str, password: str) -> str:
    return _to_pkcs12(budget, cert, key, password, True)


@register(ESO_CRYPTO, "fullPemToPkcs12", "str", "str")
def full_pem_to_pkcs12(budget: Budget, cert: str, key: str) -> str:
    return _to_pkcs12(budget, cert, key, "", True)


@register(ESO_CRYPTO, "pemTruststoreToPKCS12Pass", "str", "str")
def pem_truststore_to_pkcs12_pass(budget: Budget, cert: str, password: str) -> str:
    budget.bytes_step(len(cert))
    certs = _parse_certs_strict(to_bytes(cert))
    with budget.expensive(COST_PKCS12):
        try:
            pfx = pkcs12.encode_trust_store(
                budget, [(c.public_bytes(Encoding.DER), go_name_string(c.subject)) for c in certs], password
            )
        except pkcs12.PKCS12Error:
            raise _failed() from None
    budget.check_size(len(pfx) * 4 // 3 + 4)
    return base64.b64encode(pfx).decode()


@register(ESO_CRYPTO, "pemTruststoreToPKCS12", "str")
def pem_truststore_to_pkcs12(budget: Budget, cert: str) -> str:
    return pem_truststore_to_pkcs12_pass(budget, cert, "")


# --- Go's pkix.Name.String (the friendly names of a trust store) ----------------------------------------

_TYPE_NAMES = {
    "2.5.4.6": "C",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.3": "CN",
    "2.5.4.5": "SERIALNUMBER",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "STREET",
    "2.5.4.17": "POSTALCODE",
}
_FIELD_ORDER = ["2.5.4.6", "2.5.4.8", "2.5.4.7", "2.5.4.9", "2.5.4.17", "2.5.4.10", "2.5.4.11"]
_GO_PRINTABLE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 '()+,-./:=?")


def _escape_dn(value: str) -> str:
    out = []
    for k, c in enumerate(value):
        esc = c in ',+"\\<>;' or (c == " " and k in (0, len(value) - 1)) or (c == "#" and k == 0)
        out.append("\\" + c if esc else c)
    return "".join(out)


def go_name_string(name: x509.Name) -> str:
    """Go's ``pkix.Name.String()``: known attributes regrouped in Go's order, others as ``oid=#hex``."""
    extra: list[list[tuple[str, str]]] = []
    fields: dict[str, list[str]] = {}
    cn: str | None = None
    serial: str | None = None
    for rdn in name.rdns:
        for atv in rdn:
            oid = atv.oid.dotted_string
            value = atv.value
            if oid in _TYPE_NAMES:
                if not isinstance(value, str):
                    continue
                if oid == "2.5.4.3":
                    cn = value
                elif oid == "2.5.4.5":
                    serial = value
                else:
                    fields.setdefault(oid, []).append(value)
            elif isinstance(value, str):
                tag = 0x13 if all(c in _GO_PRINTABLE for c in value) else 0x0C
                extra.append([(oid, "#" + der.tlv(tag, value.encode("utf-8", "replace")).hex())])
    seq = list(extra)
    for oid in _FIELD_ORDER:
        if fields.get(oid):
            seq.append([(oid, v) for v in fields[oid]])
    if cn:
        seq.append([("2.5.4.3", cn)])
    if serial:
        seq.append([("2.5.4.5", serial)])
    parts = []
    for group in reversed(seq):
        items = []
        for oid, text in group:
            if oid in _TYPE_NAMES:
                items.append(_TYPE_NAMES[oid] + "=" + _escape_dn(text))
            else:
                items.append(oid + "=" + text)
        parts.append("+".join(items))
    return ",".join(parts)


# --- filterCertChain, certSANs ------------------------------------------------------------------------


def _trim_junk(s: str) -> str:
    i = s.find("-----BEGIN")
    return s if i < 0 else s[i:]


@register(ESO_CRYPTO, "filterCertChain", "str", "str")
def filter_cert_chain(budget: Budget, cert_type: str, data: str) -> str:
    budget.bytes_step(len(data) * 2)
    certs = _cert_nodes(to_bytes(data))
    budget.step(len(certs) * len(certs))
    ordered = _ordered_chain(certs)
    if ordered is None:
        raise _failed()
    if cert_type == "leaf":
        leaf = ordered[0]
        a = keys.aki(leaf)
        if a is not None and a != keys.ski(leaf):
            return _cert_pem(leaf.public_bytes(Encoding.DER))
    elif cert_type == "intermediate":
        out = []
        for cert in ordered[1:]:
            if _is_root(cert):
                break
            out.append(_cert_pem(cert.public_bytes(Encoding.DER)))
        return "".join(out)
    elif cert_type == "root":
        root = ordered[-1]
        if _is_root(root):
            return _cert_pem(root.public_bytes(Encoding.DER))
    return ""


def _go_ip(ip: Any) -> str:
    if getattr(ip, "ipv4_mapped", None) is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


@register(ESO_CRYPTO, "certSANs", "str")
def cert_sans(budget: Budget, data: str) -> list[Value]:
    budget.bytes_step(len(data))
    body, _ = _decode_first(to_bytes(_trim_junk(data)))
    cert = _parse_cert(body)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    out: list[Value] = list(san.get_values_for_type(x509.DNSName))
    out += [_go_ip(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    out += list(san.get_values_for_type(x509.RFC822Name))
    for uri in san.get_values_for_type(x509.UniformResourceIdentifier):
        try:
            out.append(from_bytes(url_string(parse_url(to_bytes(uri)))))
        except ValueError:
            raise _failed() from None
    budget.step(len(out))
    return out


# --- JWK ---------------------------------------------------------------------------------------------

_JWK_CURVES = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}


def _b64u(v: Any) -> bytes:
    if not isinstance(v, str):
        raise ValueError("not a string")
    s = v.strip().rstrip("=").replace("+", "-").replace("/", "_")
    try:
        return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("bad base64") from None


def _num(v: Any) -> int:
    return int.from_bytes(_b64u(v), "big")


def _jwk_key(text: str) -> Any:
    """lestrrat-go/jwx ``jwk.ParseKey`` then ``Raw``: the Go key it gives, as ``cryptography`` keys."""
    doc = json.loads(text)
    if not isinstance(doc, dict):
        raise ValueError("not an object")
    kty = doc.get("kty")
    if kty == "RSA":
        n, e = _num(doc["n"]), _num(doc["e"])
        if n.bit_length() > keys.MAX_RSA_BITS or e.bit_length() > 32:
            raise ValueError("RSA key out of bounds")
        pub = rsa.RSAPublicNumbers(e, n)
        if "d" not in doc:
            return pub.public_key()
        d, p, q = _num(doc["d"]), _num(doc["p"]), _num(doc["q"])
        if p <= 1 or q <= 1 or p * q != n:
            raise ValueError("inconsistent RSA key")
        nums = rsa.RSAPrivateNumbers(
            p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q), pub
        )
        key = nums.private_key(unsafe_skip_rsa_key_validation=True)
        return keys.check_rsa(key)
    if kty == "EC":
        curve = _JWK_CURVES[doc["crv"]]
        x, y = _num(doc["x"]), _num(doc["y"])
        pub_nums = ec.EllipticCurvePublicNumbers(x, y, curve)
        if "d" not in doc:
            return pub_nums.public_key()
        return ec.EllipticCurvePrivateNumbers(_num(doc["d"]), pub_nums).private_key()
    if kty == "OKP":
        crv = doc.get("crv")
        if crv == "Ed25519":
            if "d" in doc:
                priv = ed25519.Ed25519PrivateKey.from_private_bytes(_b64u(doc["d"]))
                if priv.public_key().public_bytes_raw() != _b64u(doc["x"]):
                    raise ValueError("inconsistent key")
                return priv
            return ed25519.Ed25519PublicKey.from_public_bytes(_b64u(doc["x"]))
        if crv == "X25519":
            return "x25519"  # jwx's own X25519 type: Go's x509 marshals neither half of it
        raise ValueError("unsupported curve")
    if kty == "oct":
        _b64u(doc["k"])
        return "oct"  # a []byte: Go's x509 marshals no symmetric key
    raise ValueError("unsupported key type")


def _jwk(budget: Budget, text: str) -> Any:
    budget.bytes_step(len(text) * 4)
    if len(text) > keys.MAX_DER:
        raise _failed()
    try:
        return _jwk_key(text)
    except (ValueError, KeyError, TypeError, keys.KeyFormatError):
        raise _failed() from None
    except Exception:
        raise _failed() from None


@register(ESO_CRYPTO, "jwkPublicKeyPem", "str")
def jwk_public_key_pem(budget: Budget, text: str) -> str:
    key = _jwk(budget, text)
    # Go: x509.MarshalPKIXPublicKey of a private key's Raw form is "unsupported public key type"
    if not isinstance(key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey)):
        raise _failed()
    return keys.pem("PUBLIC KEY", keys.marshal_pkix(key))


@register(ESO_CRYPTO, "jwkPrivateKeyPem", "str")
def jwk_private_key_pem(budget: Budget, text: str) -> str:
    key = _jwk(budget, text)
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)):
        raise _failed()
    return keys.pem("PRIVATE KEY", keys.marshal_pkcs8(key))


# --- rsaDecrypt ----------------------------------------------------------------------------------------

_OAEP_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "SHA1": hashes.SHA1,
    "SHA256": hashes.SHA256,
    "SHA512": hashes.SHA512,
}


@register(ESO_CRYPTO, "rsaDecrypt", "str", "str", "str", "str")
def rsa_decrypt(budget: Budget, scheme: str, hash_name: str, data: str, private_key: str) -> str:
    if scheme == "None":
        return data
    if scheme != "RSA-OAEP":
        raise _failed()  # "decryption scheme %v is not supported"
    body, _ = _decode_first(to_bytes(private_key))
    try:
        key = keys.parse_private(body, "any")
    except keys.KeyFormatError:
        raise _failed() from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 1024:
        raise _failed()  # Go 1.24+ refuses RSA keys under 1024 bits (rsa1024min)
    algorithm = _OAEP_HASHES.get(hash_name, hashes.SHA256)()
    with budget.expensive(max(COST_SIGN, sign_cost(key))):
        try:
            plain = key.decrypt(
                to_bytes(data), padding.OAEP(mgf=padding.MGF1(algorithm), algorithm=algorithm, label=None)
            )
        except ValueError:
            raise _failed() from None
    return from_bytes(plain)


__all__ = ["ESO_CRYPTO", "go_name_string"]
