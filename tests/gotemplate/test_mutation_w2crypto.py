"""Mutation survivors in ESO's crypto helpers (eso_crypto.py: certSANs, filterCertChain, the JWK
functions), the RC2 cipher of legacy PKCS#12 files (pkcs12.py) and JSON (jsonenc.py).

Expected values are Go's: ESO's trimJunk before pem.Decode, lestrrat-go/jwx v2 (its base64 decoder
guesses the alphabet and the padding per field: a trailing ``=`` means padded, a ``+`` or ``/``
means the standard alphabet; ``Raw`` copies n and e without checking them) followed by
x509.MarshalPKIXPublicKey / MarshalPKCS8PrivateKey (arithmetic checks, no primality test), RFC 2268
test vectors for RC2, and Sprig's toJson (json.Marshal errors print as the empty string).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import math
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.x509.oid import NameOID

from secretsync.gotemplate import Limits, TemplateError
from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs import eso_crypto, jsonenc, keys, pkcs12
from secretsync.gotemplate.limits import Budget
from tests.gotemplate.cases_crypto import F
from tests.gotemplate.test_crypto import run


def _fails(source: str, data: Any = None) -> str:
    with pytest.raises(TemplateError) as info:
        run(source, data)
    return info.value.kind


def _b64u(n: int) -> str:
    return base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).decode().rstrip("=")


def _int(text: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")


# --- certSANs: ESO trims everything before the first "-----BEGIN" (trimJunk) --------------------------


def test_cert_sans_skips_junk_glued_to_the_pem_block() -> None:
    # pem.Decode alone needs "\n-----BEGIN"; ESO's trimJunk cuts "junk" even with no newline.
    expected = (
        "[svc.example.com *.example.com 10.0.0.1 2001:db8::1 ops@example.com "
        "spiffe://cluster.local/ns/default/sa/app]"
    )
    assert run('{{ certSANs (print "junk" .leaf) }}') == expected
    assert run('{{ certSANs (print "a-----b" .leaf) }}') == expected


# --- filterCertChain of a 64-certificate chain (MAX_CHAIN is the most we order) -------------------------


@functools.cache
def _long_chain(count: int) -> list[str]:
    """``count`` certificates, each naming the previous one's SubjectKeyId as its AuthorityKeyId."""
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32))
    when = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    out = []
    for i in range(count):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"c{i}")]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"c{max(i - 1, 0)}")]))
            .public_key(key.public_key())
            .serial_number(i + 1)
            .not_valid_before(when)
            .not_valid_after(when + dt.timedelta(days=1))
            .add_extension(x509.SubjectKeyIdentifier(bytes([i + 1]) * 20), critical=False)
        )
        if i:
            aki = x509.AuthorityKeyIdentifier(bytes([i]) * 20, None, None)
            builder = builder.add_extension(aki, critical=False)
        cert = builder.sign(key, None)
        out.append(cert.public_bytes(serialization.Encoding.PEM).decode())
    return out


def test_filter_cert_chain_orders_a_chain_of_exactly_max_chain_certificates() -> None:
    certs = _long_chain(eso_crypto.MAX_CHAIN)
    data = {"c": "".join(reversed(certs))}
    assert run('{{ filterCertChain "root" .c }}', data) == certs[0]
    assert run('{{ filterCertChain "leaf" .c }}', data) == certs[-1]
    assert run('{{ filterCertChain "intermediate" .c }}', data) == "".join(reversed(certs[1:-1]))


# --- JWK fields: jwx's base64 guess, n and e bounds ----------------------------------------------------

_N = json.loads(F["rsa_pub"])["n"]


def _rsa_jwk(e: str, n: str = _N) -> str:
    return json.dumps({"kty": "RSA", "n": n, "e": e})


def _public_pem(e: int, n: int) -> str:
    key = rsa.RSAPublicNumbers(e, n).public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@pytest.mark.parametrize(
    ("e", "value"),
    [
        ("AQAB", 65537),
        ("AQAX", 0x010017),  # a trailing X is data, not padding
        ("AXX+XX", 0x0175FE5D),  # "+": jwx decodes with the standard alphabet
        ("AXX/XX", 0x0175FF5D),
        ("Aw==", 3),  # a trailing "=": padded URL alphabet
        ("Aw", 3),
        (_b64u((1 << 31) + 1), (1 << 31) + 1),  # a 32-bit exponent
    ],
)
def test_jwk_rsa_exponent_decodes_as_jwx_does(e: str, value: int) -> None:
    assert run("{{ jwkPublicKeyPem .k }}", {"k": _rsa_jwk(e)}) == _public_pem(value, _int(_N))


@pytest.mark.parametrize(
    "e",
    [
        "AA=+=",  # "=" inside the data
        "=A+",  # a leading "=" in the unpadded alphabet
        "A=+",
        "A=_",
    ],
)
def test_jwk_rsa_exponent_go_refuses(e: str) -> None:
    assert _fails("{{ jwkPublicKeyPem .k }}", {"k": _rsa_jwk(e)}) == "function failed"


@pytest.mark.xfail(
    strict=True,
    reason="bug: _b64u strips spaces and '=' and accepts mixed alphabets; jwx's decoder refuses these",
)
@pytest.mark.parametrize("e", ["AQAB=", " AQAB", "A-A/"])
def test_jwk_rsa_exponent_malformed_base64_is_refused_as_jwx_does(e: str) -> None:
    assert _fails("{{ jwkPublicKeyPem .k }}", {"k": _rsa_jwk(e)}) == "function failed"


@pytest.mark.xfail(
    strict=True,
    reason="bug: exponents of 33+ bits are refused; jwx's Raw and MarshalPKIXPublicKey keep them (int64)",
)
def test_jwk_rsa_public_exponent_of_33_bits_is_marshalled() -> None:
    e = (1 << 32) + 1
    assert run("{{ jwkPublicKeyPem .k }}", {"k": _rsa_jwk(_b64u(e))}) == _public_pem(e, _int(_N))


def test_jwk_rsa_modulus_of_max_rsa_bits_is_marshalled() -> None:
    n = (1 << (keys.MAX_RSA_BITS - 1)) + 1
    assert run("{{ jwkPublicKeyPem .k }}", {"k": _rsa_jwk("AQAB", _b64u(n))}) == _public_pem(65537, n)


def test_jwk_rsa_modulus_over_max_rsa_bits_is_refused() -> None:
    # Our bound (keys.MAX_RSA_BITS), not Go's: a small exponent does not lift it.
    n = (1 << keys.MAX_RSA_BITS) + 1
    assert _fails("{{ jwkPublicKeyPem .k }}", {"k": _rsa_jwk("Aw", _b64u(n))}) == "function failed"


def test_jwk_text_of_exactly_max_der_bytes_is_parsed() -> None:
    text = F["rsa_pub"]
    padded = text[:-1] + " " * (keys.MAX_DER - len(text)) + "}"
    assert len(padded) == keys.MAX_DER
    assert run("{{ jwkPublicKeyPem .k }}", {"k": padded}) == run("{{ jwkPublicKeyPem .rsa_pub }}")
    assert _fails("{{ jwkPublicKeyPem .k }}", {"k": padded + " "}) == "function failed"


def test_jwk_parse_is_charged_four_steps_per_byte() -> None:
    budget = Budget(Limits())
    text = F["rsa_pub"] + " " * 2000
    eso_crypto._jwk(budget, text)
    assert budget.steps == 1 + ((len(text) * 4) >> 8)


# A 2048-bit RSA key whose p is the product of two 512-bit primes: Go checks the arithmetic
# (p*q = n, de = 1 mod p-1 and q-1, |p-q|, d's size), not primality, so it marshals it;
# OpenSSL's key check would refuse it.
_P1 = int(
    "df996c98ad7068483ead87565906abf3070a5f4c1b337b568b24e3d36fe109c662c5a0ab8749e31a761eb911fe20"
    "8af8acbb4115d80bb8e709350e12364f0cf5",
    16,
)
_P2 = int(
    "c2297b099883c80145cdb96c6f492b6f007703d8e983b9f74647f862b829b2cb104c1984605474886a66de13f928"
    "99e680b2ed0a04e2b3d4da68f8876e3e0ef9",
    16,
)
_Q = int(
    "e81fe8694084b134c62f83b58f0c0018abfb80e8c9ec807844118e8aaf30e1951388e69670806dc0e4550dd4665c"
    "1e3d8e6b9c2f6f816e24d76bc2974e478d5d2fc15f850429c5a397923e9ce96c982863e6e1f6a054ccee8fa8b449"
    "18c469789adfac6838dbda318783fede6e606680288aca8fbf84dd428da925108c1d37e7",
    16,
)


def test_jwk_private_key_with_a_composite_prime_is_marshalled_as_go_does() -> None:
    p, q, e = _P1 * _P2, _Q, 65537
    n = p * q
    d = pow(e, -1, (p - 1) * (q - 1) // math.gcd(p - 1, q - 1))
    doc = {"kty": "RSA", "n": _b64u(n), "e": "AQAB", "d": _b64u(d), "p": _b64u(p), "q": _b64u(q)}
    nums = rsa.RSAPrivateNumbers(
        p,
        q,
        d,
        rsa.rsa_crt_dmp1(d, p),
        rsa.rsa_crt_dmq1(d, q),
        rsa.rsa_crt_iqmp(p, q),
        rsa.RSAPublicNumbers(e, n),
    )
    key = nums.private_key(unsafe_skip_rsa_key_validation=True)
    expected = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    assert run("{{ jwkPrivateKeyPem .k }}", {"k": json.dumps(doc)}) == expected


# --- RC2 (RFC 2268 section 5 test vectors) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("t1", "key", "plain", "cipher"),
    [
        (63, "0000000000000000", "0000000000000000", "ebb773f993278eff"),
        (64, "ffffffffffffffff", "ffffffffffffffff", "278b27e42e2f0d49"),
        (64, "3000000000000000", "1000000000000001", "30649edf9be7d2c2"),
        (64, "88", "0000000000000000", "61a8a244adacccf0"),
        (64, "88bca90e90875a", "0000000000000000", "6ccf4308974c267f"),
        (64, "88bca90e90875a7f0f79c384627bafb2", "0000000000000000", "1a807d272bbe5db1"),
        (128, "88bca90e90875a7f0f79c384627bafb2", "0000000000000000", "2269552ab0f85ca6"),
        (
            129,
            "88bca90e90875a7f0f79c384627bafb216f80a6f85920584c42fceb0be255daf1e",
            "0000000000000000",
            "5b78d3a43dfff1f1",
        ),
    ],
)
def test_rc2_decrypts_the_rfc_2268_vectors(t1: int, key: str, plain: str, cipher: str) -> None:
    k = pkcs12._rc2_expand(bytes.fromhex(key), t1)
    assert pkcs12._rc2_decrypt_block(k, bytes.fromhex(cipher)).hex() == plain


def test_rc2_cbc_decrypts_with_the_key_length_as_effective_bits_and_charges_four_steps_a_byte() -> None:
    # 128-bit RC2 (pbeWithSHAAnd128BitRC2-CBC): effective key bits = 8 * key length.
    budget = Budget(Limits())
    key = bytes.fromhex("88bca90e90875a7f0f79c384627bafb2")
    cipher = bytes.fromhex("2269552ab0f85ca6") * 2
    plain = pkcs12._rc2_cbc_decrypt(budget, key, bytes(8), cipher)
    assert plain == bytes(8) + bytes.fromhex("2269552ab0f85ca6")
    assert budget.steps == 4 * len(cipher)


# --- JSON ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        '{{ toJson (float64 "NaN") }}',
        '{{ toJson (float64 "+Inf") }}',
        '{{ toJson (list 1.5 (float64 "-Inf")) }}',
    ],
)
def test_to_json_of_nan_or_infinity_is_empty(source: str) -> None:
    # Sprig: output, _ := json.Marshal(v) - "json: unsupported value" prints nothing.
    assert run(source, {}) == ""


def _nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def test_json_decode_reaches_exactly_max_depth() -> None:
    budget = Budget(Limits(max_depth=10))
    assert jsonenc.decode(budget, _nested(10)) == [[[[[[[[[[1]]]]]]]]]]
    with pytest.raises(Fault, match="depth limit"):
        jsonenc.decode(Budget(Limits(max_depth=10)), _nested(11))


def test_json_decode_uses_the_configured_depth_not_the_default() -> None:
    budget = Budget(Limits(max_depth=150))
    v = jsonenc.decode(budget, _nested(140))
    for _ in range(140):
        v = v[0]
    assert v == 1


def test_json_decode_charges_a_step_per_node_and_accounts_the_value() -> None:
    budget = Budget(Limits())
    text = "[" + ",".join(["1"] * 1000) + "]"
    jsonenc.decode(budget, text)
    assert budget.steps >= 1001
    assert budget.allocated >= 8 * 1001
    with pytest.raises(Fault, match="value limit"):
        jsonenc.decode(Budget(Limits(max_value_bytes=1000)), '"' + "x" * 2000 + '"')
