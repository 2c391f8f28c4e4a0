"""Round-1 misc survivors (go_name_string, RC2, base32 error positions, net/url fragments, regexp).

All 27 mutants of this share are equivalent (see /tmp/notes/acct-r1-misc.md), so nothing here kills
one. Looking at ``go_name_string``'s inputs turned up a divergence from Go, pinned below: Go's
crypto/x509 ``parseASN1String`` reads a T61String as Latin-1 (each byte one rune, "what BoringSSL
does"), while cryptography reads it as UTF-8, refusing any other bytes. Go therefore accepts a
certificate whose subject holds ``T61String "A\\xe9"`` (CN=Aé) and reads ``T61String "\\xc3\\xa9"`` as
``Ã©``; secretsync refuses the first and reads the second as ``é``.
"""

from __future__ import annotations

import base64
import functools

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

from secretsync.gotemplate import TemplateError
from tests.gotemplate.test_mutation_funcsB import _cert_pem, r


@functools.cache
def _t61_cert(cn: bytes) -> str:
    """A self-signed certificate (no AKI: a root) whose subject and issuer are ``CN=<T61String cn>``.

    Built with a two-byte placeholder, then patched: the signature no longer matches, which
    x509.ParseCertificate never checks.
    """
    assert len(cn) == 2
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ZQ", _type=_ASN1Type.T61String)])
    der = x509.load_pem_x509_certificate(_cert_pem(name, []).encode()).public_bytes(Encoding.DER)
    assert der.count(b"\x14\x02ZQ") == 2
    body = base64.b64encode(der.replace(b"\x14\x02ZQ", b"\x14\x02" + cn)).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def _friendly_names(pem: str) -> list[bytes | None]:
    pfx = pkcs12.load_pkcs12(base64.b64decode(r("{{ pemTruststoreToPKCS12 .c }}", {"c": pem})), b"")
    return [c.friendly_name for c in pfx.additional_certs]


def test_t61_ascii_control() -> None:
    # What the two pins below build on: an ASCII T61String is read alike by Go and secretsync.
    pem = _t61_cert(b"AB")
    assert r('{{ filterCertChain "root" .c }}', {"c": pem}) == pem
    assert _friendly_names(pem) == [b"CN=AB"]


@pytest.mark.xfail(
    strict=True,
    raises=TemplateError,
    reason="Go reads T61String as Latin-1, accepts byte 0xE9; cryptography wants UTF-8, refuses the cert",
)
def test_t61_latin1_byte_is_accepted_like_go() -> None:
    pem = _t61_cert(b"A\xe9")
    assert r('{{ filterCertChain "root" .c }}', {"c": pem}) == pem


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason='Go reads T61String C3 A9 as Latin-1 "Ã©"; cryptography decodes it as UTF-8 "é"',
)
def test_t61_friendly_name_is_latin1_like_go() -> None:
    assert _friendly_names(_t61_cert(b"\xc3\xa9")) == ["CN=Ã©".encode()]
