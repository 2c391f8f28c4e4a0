"""Remaining mutants of der.py (INTEGER, to_int, children), eso.py (toYaml), gopem.py and pkcs12.py.

der.integer writes a minimal two's-complement INTEGER as Go's encoding/asn1 makeBigInt does (a 0x00 lead
byte only when the top bit would be set, 0xff lead only when needed for a negative value). The DER and
PKCS#12 reasons are never shown to a template author (callers raise "function failed"), so they are
asserted on the module, as in test_mutation_w8der.py.
"""

from __future__ import annotations

import base64

import pytest
import yaml

from secretsync.gotemplate.funcs import der, eso, gopem, pkcs12
from tests.gotemplate.test_mutation_funcsB import r
from tests.gotemplate.test_mutation_w8der import _reason, _t
from tests.gotemplate.test_mutation_w8pkcs12a import _budget
from tests.gotemplate.test_mutation_w8pkcs12b import _bags, _pfx

INTEGER_CASES = [
    (0, "020100"),
    (1, "020101"),
    (127, "02017f"),
    (128, "02020080"),
    (255, "020200ff"),
    (256, "02020100"),
    (-1, "0201ff"),
    (-128, "020180"),
    (-129, "0202ff7f"),
    (-256, "0202ff00"),
    (-257, "0202feff"),
    (-32769, "0203ff7fff"),
    (-(1 << 80), "020bff" + "00" * 10),
    (-(1 << 80) - 1, "020bfe" + "ff" * 10),
    ((1 << 80) - 1, "020b00" + "ff" * 10),
]


@pytest.mark.parametrize(("n", "want"), INTEGER_CASES)
def test_integer_is_minimal_twos_complement(n: int, want: str) -> None:
    assert der.integer(n).hex() == want
    assert der.to_int(der.parse(der.integer(n))) == n


def test_to_int_minimality_checks_only_the_two_lead_bytes() -> None:
    assert der.to_int(_t(der.INTEGER, b"\x01\x00")) == 256
    assert der.to_int(_t(der.INTEGER, b"\x01\x7f")) == 383
    assert _reason(der.to_int, _t(der.INTEGER, b"\xff\x80")) == "non-minimal integer"
    assert _reason(der.to_int, _t(der.INTEGER, b"\x00\x00")) == "non-minimal integer"


def test_children_limit_reason() -> None:
    assert _reason(der.children, _t(der.SEQUENCE, b"\x05\x00" * 2), 1) == "too many elements"


def test_to_yaml_is_the_same_with_the_pure_python_emitter(monkeypatch: pytest.MonkeyPatch) -> None:
    # eso falls back to yaml.Dumper when libyaml is missing; output must not change
    src = '{{ dict "a" (dict "b" 1) "c" (list 1 (dict)) "d" (list) | toYaml }}'
    want = "a:\n  b: 1\nc:\n- 1\n- {}\nd: []"
    assert r(src) == want
    monkeypatch.setattr(eso, "_DUMPER", yaml.Dumper)
    assert r(src) == want


def test_pem_encode_refuses_a_header_key_with_a_colon() -> None:
    # Go's pem.Encode: "pem: cannot encode a header key that contains a colon"
    want = b"-----BEGIN X-----\na: b\n\nAQ==\n-----END X-----\n"
    assert gopem.encode((b"X", {b"a": b"b"}, b"\x01")) == want
    for key in (b"a:b", b":", b"k:"):
        with pytest.raises(ValueError):
            gopem.encode((b"X", {key: b"v"}, b""))


def _pkcs12_refused(data: bytes, password: str) -> bool:
    with pytest.raises(pkcs12.PKCS12Error):
        pkcs12.safe_bags(_budget(), data, password, 1, 10)
    return True


def test_pkcs12_refusals() -> None:
    # PKCS12Error carries no text (every caller says "function failed"): what counts is the refusal
    ci = der.parse(der.sequence(der.oid(pkcs12.OID_DATA), der.octet_string(b"x")))
    with pytest.raises(pkcs12.PKCS12Error):
        pkcs12._content(ci)  # a Data content that is no [0] EXPLICIT
    good = base64.b64decode(_pfx(_bags(1)))
    assert _pkcs12_refused(good, "")  # a wrong password
    v2 = base64.b64decode(_pfx(_bags(1), version=2))
    assert _pkcs12_refused(v2, "pw")  # only version 3
