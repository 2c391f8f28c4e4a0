"""ESO's pkcs12key / pkcs12keyPass read the certificates too (eso_crypto.py: pkcs12_key_pass).

ESO's ``pkcs12keyPass`` (runtime/template/v2/pkcs12.go) calls go-pkcs12's ``DecodeChain``, which runs
``x509.ParseCertificates`` on every certificate bag before it returns the key: an archive whose
certificate bag holds DER that is no certificate fails ``pkcs12key`` as it fails ``pkcs12cert``,
whether the bad certificate is the leaf or one of the chain, and whichever safe holds it. The
archives are built with the helpers of test_mutation_w8pkcs12c (empty password) and
test_mutation_w8pkcs12b (password "pw").
"""

from __future__ import annotations

import pytest

from secretsync.gotemplate.funcs import der
from tests.gotemplate.test_mutation_w8pkcs12b import PW, _classic_mac
from tests.gotemplate.test_mutation_w8pkcs12b import _pfx as _pfx_pw
from tests.gotemplate.test_mutation_w8pkcs12b import _run as _run_pw
from tests.gotemplate.test_mutation_w8pkcs12c import (
    CERT,
    INTER,
    KEY8,
    KEY_PEM,
    _cert_bag,
    _data,
    _encrypted,
    _key_bag,
    _kind,
    _pfx,
    _read,
    _shrouded_key_bag,
)

# one DER element each (so the bag holds exactly one "certificate"), none of them a certificate
NOT_CERTS = {
    "sequence_of_an_integer": der.sequence(der.integer(0)),
    "pkcs8_key": KEY8,
    "octet_string": der.octet_string(CERT),
    "certificate_body_only": der.children(der.parse(CERT, der.SEQUENCE))[0].raw,  # the TBSCertificate
}


def _archives(bad: bytes) -> dict[str, str]:
    return {
        "bad_leaf": _pfx(_data(_cert_bag(bad), _key_bag())),
        "bad_chain_cert": _pfx(_data(_cert_bag(), _cert_bag(INTER), _cert_bag(bad), _key_bag())),
        "bad_leaf_in_encrypted_safe": _pfx(_encrypted(_cert_bag(bad)), _data(_shrouded_key_bag())),
        "key_bag_first": _pfx(_data(_key_bag(), _cert_bag(), _cert_bag(bad))),
    }


CASES = [
    pytest.param(pfx, id=f"{what}-{layout}")
    for what, bad in NOT_CERTS.items()
    for layout, pfx in _archives(bad).items()
]


@pytest.mark.parametrize("pfx", CASES)
def test_pkcs12key_refuses_a_cert_bag_that_holds_no_certificate(pfx: str) -> None:
    assert _kind("pkcs12key", pfx) == "function failed"
    assert _kind("pkcs12cert", pfx) == "function failed"


@pytest.mark.parametrize("what", sorted(NOT_CERTS))
def test_pkcs12keypass_refuses_a_cert_bag_that_holds_no_certificate(what: str) -> None:
    good = _pfx_pw(_data(_cert_bag(), _key_bag()), _classic_mac)
    bad = _pfx_pw(_data(_cert_bag(), _cert_bag(NOT_CERTS[what]), _key_bag()), _classic_mac)
    assert _run_pw(good, PW) == KEY_PEM
    assert _run_pw(bad, PW) == "function failed"


def test_pkcs12key_reads_an_archive_whose_certificates_all_parse() -> None:
    # the leaf, then its chain: every one a certificate x509.ParseCertificate reads
    pfx = _pfx(_data(_cert_bag(), _cert_bag(INTER), _key_bag()))
    assert _read("pkcs12key", pfx) == KEY_PEM
    pfx = _pfx(_encrypted(_cert_bag(), _cert_bag(INTER)), _data(_shrouded_key_bag()))
    assert _read("pkcs12key", pfx) == KEY_PEM
