"""Mutation survivors in keys.py's private-key parsing (check_rsa, _load_der), seen through ESO's
pemToPkcs12 then pkcs12key: the key PEM is parsed (ESO's parsePrivateKey: PKCS#1, PKCS#8 or SEC1)
and printed back by Go's x509.MarshalPKCS8PrivateKey, or the call fails.

Expected values are Go 1.26's: x509.ParsePKCS1PrivateKey / ParsePKCS8PrivateKey validate the key's
arithmetic (p, q > 1, p*q = n, 2 <= e < 2^31, de = 1 mod p-1 and q-1, and since Go 1.24 the encoded
CRT values dP, dQ, qInv), never primality; encoding/asn1 allows extra elements at the end of a
SEQUENCE (PKCS#8 attributes) and ParsePKCS8PrivateKey ignores bytes after the key. The bounds
MAX_RSA_BITS and MAX_DER are our own, not Go's.
"""

from __future__ import annotations

import base64
import math

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from secretsync.gotemplate import TemplateError
from secretsync.gotemplate.funcs import der, keys
from tests.gotemplate.cases_crypto import F
from tests.gotemplate.test_crypto import run
from tests.gotemplate.test_mutation_w2crypto import _P1, _P2, _Q

ROUND_TRIP = "{{ pemToPkcs12 .leaf .k | b64dec | pkcs12key }}"
E = 65537


def _round_trip(key_pem: str) -> str:
    return run(ROUND_TRIP, {"leaf": F["leaf"], "k": key_pem})


def _fails(key_pem: str) -> str:
    with pytest.raises(TemplateError) as info:
        _round_trip(key_pem)
    return info.value.kind


def _lcm(a: int, b: int) -> int:
    return a * b // math.gcd(a, b)


def _ints(p: int, q: int, e: int = E) -> list[int]:
    """PKCS#1 RSAPrivateKey fields: version, n, e, d, p, q, dP, dQ, qInv (consistent)."""
    d = pow(e, -1, _lcm(p - 1, q - 1))
    return [0, p * q, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p)]


def _pkcs1_pem(ints: list[int]) -> str:
    return keys.pem("RSA PRIVATE KEY", der.sequence(*(der.integer(v) for v in ints)))


def _go_pkcs8(ints: list[int]) -> str:
    _, n, e, d, p, q, dp, dq, qi = ints
    key = rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, rsa.RSAPublicNumbers(e, n)).private_key(
        unsafe_skip_rsa_key_validation=True
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


# Composite "primes" (no primality test anywhere in Go): a 2048-bit key and an 8192-bit one.
P, Q = _P1 * _P2, _Q
P8, Q8 = (1 << 4096) - 1, (1 << 4096) - (1 << 4000) - 1  # |p-q| > 2^(nlen/2-100); n has 8192 bits


def _tweak(ints: list[int], **changes: int) -> list[int]:
    names = ["version", "n", "e", "d", "p", "q", "dp", "dq", "qi"]
    return [changes.get(name, v) for name, v in zip(names, ints, strict=True)]


def _bad_keys() -> dict[str, list[int]]:
    good = _ints(P, Q)
    _, n, e, d, p, q, dp, dq, qi = good
    big_e = (1 << 31) + 3  # odd, coprime to lcm(p-1, q-1): only the 2^31 bound refuses it
    d_q_only = d + (q - 1)  # de = 1 mod q-1 but not mod p-1; its CRT values are consistent
    return {
        "n is not p*q": _tweak(good, n=n + 2),
        "q is 1": [0, p, e, pow(e, -1, p - 1), p, 1, pow(e, -1, p - 1), 0, 1],
        "p is 1": [0, q, e, pow(e, -1, q - 1), 1, q, 0, pow(e, -1, q - 1), 0],
        "e is 2^31+3": _ints(P, Q, big_e),
        "e is 1": _tweak(good, e=1, d=1, dp=1, dq=1),
        "de is 1 mod q-1 only": _tweak(good, d=d_q_only, dp=d_q_only % (p - 1), dq=d_q_only % (q - 1)),
        "dP is wrong": _tweak(good, dp=dp + 1),
        "dQ is wrong": _tweak(good, dq=dq + 1),
        "qInv is wrong": _tweak(good, qi=qi + 1),
    }


BAD = _bad_keys()


@pytest.mark.parametrize("name", list(BAD))
def test_rsa_keys_go_refuses(name: str) -> None:
    assert _fails(_pkcs1_pem(BAD[name])) == "function failed"


@pytest.mark.parametrize(
    ("p", "q"),
    [
        pytest.param(P, Q, id="composite p, 2048 bits (OpenSSL's key check would refuse it)"),
        pytest.param(P8, Q8, id="composite p and q, exactly MAX_RSA_BITS"),
    ],
)
def test_rsa_keys_go_accepts_are_marshalled(p: int, q: int) -> None:
    ints = _ints(p, q)
    if p == P8:
        assert ints[1].bit_length() == keys.MAX_RSA_BITS
    assert _round_trip(_pkcs1_pem(ints)) == _go_pkcs8(ints)


def _pkcs8_with_attributes(size: int) -> bytes:
    """F's PKCS#8 key with an attribute padded so that the whole DER is ``size`` bytes."""
    body = base64.b64decode("".join(F["leaf_key8"].splitlines()[1:-1]))
    items = [i.raw for i in der.seq(body)]
    pad = size - len(body)
    for _ in range(5):
        attr = der.sequence(der.oid("1.2.3.4"), der.set_of(der.octet_string(b"\0" * pad)))
        out = der.sequence(*items, der.tlv(0xA0, attr))
        if len(out) == size:
            return out
        pad += size - len(out)
    raise AssertionError(size)


def test_pkcs8_key_of_exactly_max_der_bytes_is_parsed() -> None:
    # Go keeps extra elements at the end of the PKCS#8 SEQUENCE (its attributes) unread.
    body = _pkcs8_with_attributes(keys.MAX_DER)
    assert _round_trip(keys.pem("PRIVATE KEY", body)) == F["leaf_key8"]
    assert _fails(keys.pem("PRIVATE KEY", _pkcs8_with_attributes(keys.MAX_DER + 1))) == "function failed"


def test_pkcs8_key_with_trailing_bytes_is_parsed_as_go_does() -> None:
    # Go's ParsePKCS8PrivateKey ignores bytes after the key (asn1.Unmarshal's rest)
    body = base64.b64decode("".join(F["leaf_key8"].splitlines()[1:-1]))
    assert _round_trip(keys.pem("PRIVATE KEY", body + b"\0")) == F["leaf_key8"]


def test_bytes_after_a_sec1_key_are_ignored_and_after_a_pkcs1_key_refused_as_go_does() -> None:
    # ESO's parsePrivateKey: x509.ParsePKCS1PrivateKey refuses them ("trailing data"), while
    # ParseECPrivateKey, like ParsePKCS8PrivateKey, ignores asn1.Unmarshal's rest
    def body(name: str) -> bytes:
        return base64.b64decode("".join(F[name].splitlines()[1:-1]))

    assert _round_trip(keys.pem("EC PRIVATE KEY", body("int_key") + b"\0")) == _round_trip(F["int_key"])
    assert _round_trip(F["leaf_key"]).startswith("-----BEGIN PRIVATE KEY-----")
    assert _fails(keys.pem("RSA PRIVATE KEY", body("leaf_key") + b"\0")) == "function failed"
