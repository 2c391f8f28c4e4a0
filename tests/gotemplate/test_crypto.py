"""ESO's key and certificate functions and Sprig's crypto functions.

Deterministic results are a table checked against Go (``cases_crypto.py``). Random and
time-dependent ones are checked by shape here: the PEM parses, the certificate verifies
against its CA and carries the extensions Go's ``x509.CreateCertificate`` writes, the
PKCS#12 archive loads with ``cryptography`` and holds the key and chain, bcrypt verifies.
(Each of these was also fed back to Go once -- go-pkcs12, x/crypto/bcrypt, crypto/x509 --
see the docstring of ``cases_crypto.py``.)
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import time
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12 as crypto_pkcs12

from secretsync.gotemplate import Limits, TemplateError, render
from secretsync.gotemplate.funcs import der
from secretsync.gotemplate.funcs.eso_crypto import go_name_string
from secretsync.gotemplate.funcs.sprig_crypto import bcrypt_check
from tests.gotemplate import cases_crypto
from tests.gotemplate.cases_crypto import F

ROWS = [(fn, *case) for fn, cases in sorted(cases_crypto.CASES.items()) for case in cases]


def run(source: str, data: Any = None, **kw: Any) -> str:
    return render({"t": source}, F if data is None else data, **kw)["t"]


@pytest.mark.parametrize(("fn", "source", "expected", "kind"), ROWS)
def test_against_go(fn: str, source: str, expected: str | None, kind: str | None) -> None:
    if kind is None:
        assert run(source) == expected
    else:
        with pytest.raises(TemplateError) as info:
            run(source)
        assert info.value.kind == kind


# --- genPrivateKey ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "pem_type", "key_type"),
    [
        ("ecdsa", "EC PRIVATE KEY", ec.EllipticCurvePrivateKey),
        ("ed25519", "PRIVATE KEY", ed25519.Ed25519PrivateKey),
        ("dsa", "DSA PRIVATE KEY", dsa.DSAPrivateKey),
        ("rsa", "RSA PRIVATE KEY", rsa.RSAPrivateKey),
        ("", "RSA PRIVATE KEY", rsa.RSAPrivateKey),
    ],
)
def test_gen_private_key_shape(kind: str, pem_type: str, key_type: type) -> None:
    out = run(f'{{{{ genPrivateKey "{kind}" }}}}')
    assert out.startswith(f"-----BEGIN {pem_type}-----\n") and out.endswith(f"-----END {pem_type}-----\n")
    key = serialization.load_pem_private_key(out.encode(), None)
    assert isinstance(key, key_type)
    if isinstance(key, rsa.RSAPrivateKey):
        assert key.key_size == 4096  # Sprig's size
    if isinstance(key, ec.EllipticCurvePrivateKey):
        assert key.curve.name == "secp256r1"
    if isinstance(key, dsa.DSAPrivateKey):
        assert key.key_size == 2048 and key.parameters().parameter_numbers().q.bit_length() == 256


def test_gen_private_key_is_random() -> None:
    assert run('{{ genPrivateKey "ed25519" }}') != run('{{ genPrivateKey "ed25519" }}')


# --- certificates -------------------------------------------------------------------------------


def _cert(text: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(text.encode())


def _ext(cert: x509.Certificate, cls: type) -> Any:
    return cert.extensions.get_extension_for_class(cls)


def test_gen_ca_and_signed_cert() -> None:
    out = run(
        '{{ $ca := genCA "my-ca" 365 }}'
        '{{ $c := genSignedCert "svc" (list "10.0.0.1" "2001:db8::1") (list "svc.local" "*.svc.local") 30 $ca }}'  # noqa: E501
        '{{ dict "ca" $ca.Cert "caKey" $ca.Key "cert" $c.Cert "key" $c.Key | toJson }}'
    )
    d = json.loads(out)
    ca, cert = _cert(d["ca"]), _cert(d["cert"])
    ca_key = serialization.load_pem_private_key(d["caKey"].encode(), None)
    key = serialization.load_pem_private_key(d["key"].encode(), None)
    assert d["caKey"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert isinstance(ca_key, rsa.RSAPrivateKey) and ca_key.key_size == 2048
    assert ca_key.public_key() == ca.public_key() and key.public_key() == cert.public_key()
    # the CA: self-signed, CA:TRUE critical, certSign, Go 1.26's SHA-256 subject key id
    assert ca.subject == ca.issuer and ca.subject.rfc4514_string() == "CN=my-ca"
    assert _ext(ca, x509.BasicConstraints).value.ca and _ext(ca, x509.BasicConstraints).critical
    assert _ext(ca, x509.KeyUsage).value.key_cert_sign and _ext(ca, x509.KeyUsage).critical
    spki = der.seq(
        ca.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    assert _ext(ca, x509.SubjectKeyIdentifier).value.digest == hashlib.sha256(spki[1].value[1:]).digest()[:20]
    assert (ca.not_valid_after_utc - ca.not_valid_before_utc) == dt.timedelta(days=365)
    # the leaf: signed by the CA, its AKI is the CA's SKI, SANs as given, server+client auth
    assert isinstance(ca.public_key(), rsa.RSAPublicKey)
    ca.public_key().verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), hashes.SHA256())
    assert cert.issuer == ca.subject
    ca_ski = _ext(ca, x509.SubjectKeyIdentifier).value.digest
    assert _ext(cert, x509.AuthorityKeyIdentifier).value.key_identifier == ca_ski
    sans = _ext(cert, x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["svc.local", "*.svc.local"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["10.0.0.1", "2001:db8::1"]
    assert not _ext(cert, x509.BasicConstraints).value.ca
    assert list(_ext(cert, x509.ExtendedKeyUsage).value) == [
        x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,
        x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH,
    ]
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc) == dt.timedelta(days=30)
    assert 0 < cert.serial_number < 1 << 128


def test_self_signed_with_key_keeps_the_key_and_uses_its_algorithm() -> None:
    out = run('{{ $c := genSelfSignedCertWithKey "ec" nil nil 1 .ec_key }}{{ $c.Key }}|{{ $c.Cert }}')
    key_pem, cert_pem = out.split("|")
    assert key_pem == F["ec_key"]
    cert = _cert(cert_pem)
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA384)  # P-384 signs with SHA-384, as in Go
    assert x509.SubjectKeyIdentifier not in [e.value.__class__ for e in cert.extensions]


def test_ed25519_ca_signs_an_ed25519_leaf() -> None:
    out = run(
        '{{ $ca := genCAWithKey "ed-ca" 1 .ed_key }}'
        '{{ $c := genSignedCertWithKey "leaf" nil nil 1 $ca .ed_key }}'
        "{{ $ca.Cert }}{{ $c.Cert }}"
    )
    certs = x509.load_pem_x509_certificates(out.encode())
    assert len(certs) == 2 and certs[1].signature_hash_algorithm is None
    pub = certs[0].public_key()
    assert isinstance(pub, ed25519.Ed25519PublicKey)
    pub.verify(certs[1].signature, certs[1].tbs_certificate_bytes)


def test_certificate_struct_behaves_like_go() -> None:
    base = "{{ $ca := buildCustomCert (b64enc .root) (b64enc .root_key) }}"
    assert run(base + "{{ typeOf $ca }} {{ kindOf $ca }}") == "sprig.certificate struct"
    assert run(base + "{{ $ca.Cert | eq .root }} {{ $ca.Key | eq .root_key }}") == "true true"
    assert run(base + "{{ printf `%v` $ca }}") == "{" + F["root"] + " " + F["root_key"] + "}"
    assert json.loads(run(base + "{{ toJson $ca }}")) == {"Cert": F["root"], "Key": F["root_key"]}
    bads = ("{{ $ca.Nope }}", '{{ index $ca "Cert" }}', "{{ range $ca }}{{ end }}", '{{ hasKey $ca "Cert" }}')
    for bad in bads:
        with pytest.raises(TemplateError) as info:
            run(base + bad, missing_key="zero")
        assert info.value.kind == "wrong type", bad


def test_gen_ca_cn_string_types() -> None:
    printable = _cert(json.loads(run('{{ genCA "web-01.example" 1 | toJson }}'))["Cert"])
    utf8 = _cert(json.loads(run('{{ genCA "ü&*" 1 | toJson }}'))["Cert"])
    # Go's asn1: PrintableString when it can, UTF8String otherwise
    assert printable.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0]._type.value == 19
    assert utf8.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0]._type.value == 12


# --- bcrypt, htpasswd, randBytes, AES -----------------------------------------------------------


def test_bcrypt_verifies_and_reads_go_hashes() -> None:
    out = run('{{ bcrypt "hunter2" }}')
    assert out.startswith("$2a$10$") and len(out) == 60
    assert bcrypt_check(out.encode(), b"hunter2") and not bcrypt_check(out.encode(), b"hunter3")
    assert bcrypt_check(cases_crypto.GO_BCRYPT.encode(), b"correct horse")
    user, _, hashed = cases_crypto.GO_HTPASSWD.partition(":")
    assert user == "alice" and bcrypt_check(hashed.encode(), b"s3cret")
    assert run('{{ bcrypt "x" }}') != run('{{ bcrypt "x" }}')  # a fresh salt each time


def test_htpasswd_forms() -> None:
    user, _, hashed = run('{{ htpasswd "bob" "pw" }}').partition(":")
    assert user == "bob" and bcrypt_check(hashed.encode(), b"pw")
    sha = base64.b64encode(hashlib.sha1(b"pw").digest()).decode()  # noqa: S324 - Apache's {SHA}
    assert run('{{ htpasswd "bob" "pw" "sha" }}') == "bob:{SHA}" + sha
    assert bcrypt_check(run('{{ htpasswd "bob" "pw" "bcrypt" }}')[4:].encode(), b"pw")


def test_rand_bytes_and_aes_round_trip() -> None:
    a, b = run("{{ randBytes 32 }}"), run("{{ randBytes 32 }}")
    assert len(base64.b64decode(a)) == 32 and a != b
    assert run('{{ encryptAES "k" .v | decryptAES "k" }}', {"v": "plain\x00text"}) == "plain\x00text"
    assert run('{{ encryptAES "k" "x" }}') != run('{{ encryptAES "k" "x" }}')  # a random IV


# --- PKCS#12 written by us, read by cryptography (OpenSSL) -------------------------------------------


def _load_p12(b64: str, password: bytes | None) -> Any:
    return crypto_pkcs12.load_pkcs12(base64.b64decode(b64), password)


def test_pem_to_pkcs12_loads_with_openssl() -> None:
    p12 = _load_p12(run('{{ pemToPkcs12Pass .leaf .leaf_key "s3cret" }}'), b"s3cret")
    leaf_key = serialization.load_pem_private_key(F["leaf_key"].encode(), None)
    assert p12.key.private_numbers() == leaf_key.private_numbers()
    assert p12.cert.certificate == _cert(F["leaf"]) and p12.additional_certs == []
    p12 = _load_p12(run("{{ pemToPkcs12 .ed_cert .ed_key }}"), b"")
    assert isinstance(p12.key, ed25519.Ed25519PrivateKey)


def test_full_pem_to_pkcs12_keeps_the_chain() -> None:
    p12 = _load_p12(run('{{ fullPemToPkcs12Pass .chain .leaf_key "pw" }}'), b"pw")
    assert p12.cert.certificate == _cert(F["leaf"])
    assert [c.certificate for c in p12.additional_certs] == [_cert(F["inter"]), _cert(F["root"])]


def test_trust_store_marks_and_names_certificates() -> None:
    p12 = _load_p12(run("{{ pemTruststoreToPKCS12 (print .root .inter) }}"), b"")
    assert p12.key is None and p12.cert is None
    assert [c.certificate for c in p12.additional_certs] == [_cert(F["root"]), _cert(F["inter"])]
    assert [c.friendly_name for c in p12.additional_certs] == [
        b"CN=Test Root CA,O=Example\\, Inc.",
        b"CN=Test Intermediate",
    ]


@pytest.mark.parametrize(("pem", "expected"), cases_crypto.SUBJECTS)
def test_friendly_names_are_gos_subject_strings(pem: str, expected: str) -> None:
    assert go_name_string(_cert(pem).subject) == expected


def test_reads_archives_openssl_wrote() -> None:
    key = serialization.load_pem_private_key(F["leaf_key"].encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    chain = [_cert(F["inter"]), _cert(F["root"])]
    for enc in (
        serialization.BestAvailableEncryption(b"pw"),
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(5000)
        .key_cert_algorithm(crypto_pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())  # noqa: S303 - a legacy archive, on purpose
        .build(b"pw"),
    ):
        blob = crypto_pkcs12.serialize_key_and_certificates(b"x", key, _cert(F["leaf"]), chain, enc)
        data = {"p": blob.decode("utf-8", "surrogateescape")}
        assert run('{{ pkcs12keyPass "pw" .p }}', data).startswith("-----BEGIN PRIVATE KEY-----")
        assert run('{{ pkcs12certPass "pw" .p }}', data) == F["chain"]


# --- limits: iteration counts in a hostile archive ----------------------------------------------------


def _with_mac_iterations(blob: bytes, iterations: int) -> bytes:
    pfx = der.seq(blob)
    mac = der.children(pfx[2])
    new_mac = der.sequence(mac[0].raw, mac[1].raw, der.integer(iterations))
    return der.sequence(pfx[0].raw, pfx[1].raw, new_mac)


def test_hostile_iteration_count_is_refused_before_deriving() -> None:
    blob = base64.b64decode(F["p12_modern_pw"])
    data = {"p": _with_mac_iterations(blob, 2_000_000_000).decode("utf-8", "surrogateescape")}
    start = time.monotonic()
    with pytest.raises(TemplateError) as info:
        run('{{ pkcs12keyPass "pw" .p }}', data)
    assert info.value.kind == "expensive call limit" and info.value.detail == "pkcs12keyPass"
    assert time.monotonic() - start < 0.5
    # an ordinary count in the same place is fine (the MAC then fails: wrong digest)
    data = {"p": _with_mac_iterations(blob, 2048).decode("utf-8", "surrogateescape")}
    assert run('{{ pkcs12keyPass "pw" .p }}', data).startswith("-----BEGIN PRIVATE KEY-----")


def test_many_archives_share_one_budget() -> None:
    src = '{{ range until 1000 }}{{ $_ := pkcs12keyPass "pw" (b64dec $.p12_iter100k_pw) }}{{ end }}'
    start = time.monotonic()
    with pytest.raises(TemplateError) as info:
        run(src)
    assert info.value.kind == "expensive call limit"
    assert time.monotonic() - start < 2.0


def test_rsa_key_validation_is_cheap_and_bounded() -> None:
    # OpenSSL's own check takes 0.2 s for 4096 bits; ours is arithmetic
    big = rsa.generate_private_key(65537, 4096)
    fmt = serialization.PrivateFormat.TraditionalOpenSSL
    pem = big.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()
    start = time.monotonic()
    for _ in range(20):
        limits = Limits(max_expensive_ms=10_000)
        assert run("{{ (genCAWithKey `x` 1 .k).Key | eq .k }}", {"k": pem}, limits=limits) == "true"
    assert time.monotonic() - start < 3.0
