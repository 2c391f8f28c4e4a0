"""Survivors of ESO's fromYaml (eso.py) and of the JWK and certSANs helpers (eso_crypto.py), round 2.

Expected values are ESO v2 over sigs.k8s.io/yaml (YAML -> JSON through encoding/json, whose
UnsupportedValueError shows the float as strconv.FormatFloat(f, 'g', -1, 64) and whose map encoder
visits keys in sorted order), lestrrat-go/jwx ``jwk.ParseKey`` + ``Raw`` followed by crypto/x509
marshalling, and encoding/pem. None of this share's mutants can be told apart from the original by a
Go-faithful test (the error texts they change are never shown: every JWK error is "function failed");
these tests pin the behaviour around them.
"""

from __future__ import annotations

import json

import pytest

from .test_mutation_funcsB import fails, r

# --- fromYaml: a number JSON cannot hold --------------------------------------------------------------


@pytest.mark.parametrize(
    ("yaml", "shown"),
    [
        ("a: .inf", "+Inf"),
        ("a: -.inf", "-Inf"),
        ("a: .nan", "NaN"),
        ("a: [1, -.inf]", "-Inf"),
        ("a: {b: .nan}", "NaN"),
    ],
)
def test_from_yaml_non_finite_number(yaml: str, shown: str) -> None:
    want = f"map[Error:error converting YAML to JSON: json: unsupported value: {shown}]"
    assert r("{{ fromYaml .y }}", {"y": yaml}) == want


@pytest.mark.parametrize(
    ("yaml", "shown"),
    [
        ("b: .inf\na: -.inf", "-Inf"),
        ("b: .nan\na: .inf", "+Inf"),
        ("b: [.inf]\na: {c: .nan}", "NaN"),
        ("a: [1, .nan, -.inf]", "NaN"),  # sequence elements in order
        ("b: .nan\na: {d: .inf, c: 1}", "+Inf"),  # a whole value before the next key
        ("a: .nan\nB: .inf", "+Inf"),  # keys compared as bytes (strings.Compare): "B" < "a"
        ("é: .nan\nz: .inf", "+Inf"),  # UTF-8 bytes: "z" (7a) < "é" (c3 a9)
    ],
)
def test_from_yaml_reports_the_first_non_finite_number_in_key_order(yaml: str, shown: str) -> None:
    # sigs.k8s.io/yaml's yamlToJSONTarget runs json.Marshal on the converted document: mapEncoder
    # visits keys sorted, depth-first, and the first UnsupportedValueError stops it
    want = f"map[Error:error converting YAML to JSON: json: unsupported value: {shown}]"
    assert r("{{ fromYaml .y }}", {"y": yaml}) == want


# --- JWK: keys without an x509 form, and documents jwx refuses ---------------------------------------


_NOT_MARSHALLED = [
    {"kty": "oct", "k": "AAAA"},  # a []byte: x509 marshals no symmetric key
    {"kty": "OKP", "crv": "X25519", "x": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},  # jwx's own type
    {"kty": "OKP", "crv": "X25519", "x": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "d": "AA"},
    {"kty": "OKP", "crv": "Ed448", "x": "AA"},  # jwx: unsupported curve
    {"kty": "OCT", "k": "AAAA"},  # key types are case-sensitive
    {"kty": "foo", "k": "AAAA"},
    {"k": "AAAA"},
    [],
]


@pytest.mark.parametrize("fn", ["jwkPublicKeyPem", "jwkPrivateKeyPem"])
@pytest.mark.parametrize("doc", _NOT_MARSHALLED)
def test_jwk_without_an_x509_form_fails(fn: str, doc: object) -> None:
    assert fails("{{ " + fn + " .k }}", {"k": json.dumps(doc)}).kind == "function failed"


# --- certSANs: no PEM block is Go's nil dereference ---------------------------------------------------


@pytest.mark.parametrize("data", ["", "x", "no block here", "-----END CERTIFICATE-----\n"])
def test_cert_sans_without_a_pem_block_fails(data: str) -> None:
    assert fails("{{ certSANs .d }}", {"d": data}).kind == "function failed"
