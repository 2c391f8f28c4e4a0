"""Mutants of der.py, the strict DER reader behind PKCS#12 and the key parsers, tested on the module.

The reader follows Go's encoding/asn1 strictness: definite lengths of 1..4 bytes only, minimal
lengths (a long form below 0x80 or with a leading zero byte is refused), minimal INTEGERs, no
high tag numbers, no trailing data; OBJECT IDENTIFIER's first byte splits as in Go's
parseObjectIdentifier (v/40, v%40 below 80, else 2 and v-80) and each arc is read as its
parseBase128Int reads it (no leading 0x80, at most five bytes, at most 2**31 - 1). Its error
reasons are never shown to a template author (callers turn every DERError into "function
failed"), so they are asserted here, on the module: each refusal must be a DERError with its
exact reason.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from secretsync.gotemplate import TemplateError
from secretsync.gotemplate.funcs import der
from secretsync.gotemplate.funcs.der import TLV
from tests.gotemplate.cases_crypto import F
from tests.gotemplate.test_crypto import run


def _reason(fn: Callable[..., Any], *args: Any) -> str:
    with pytest.raises(der.DERError) as info:
        fn(*args)
    return str(info.value)


def _t(tag: int, value: bytes) -> TLV:
    return TLV(tag, value, der.tlv(tag, value))


LONG = bytes(range(128)) + bytes(200)  # 328 content bytes


@pytest.mark.parametrize(
    ("data", "want"),
    [
        (b"", "truncated"),
        (b"\x04", "truncated"),
        (b"\x1f\x00", "high tag numbers are not supported"),
        (b"\x3f\x00", "high tag numbers are not supported"),
        (b"\x04\x80", "indefinite or huge length"),
        (b"\x04\x80\x00", "indefinite or huge length"),
        (b"\x04\x85\x01\x00\x00\x00\x00", "indefinite or huge length"),
        (b"\x04\x84\x01\x00\x00\x00", "truncated"),  # 4 length bytes are allowed: 16 MiB announced
        (b"\x04\x82\x01", "truncated"),  # the length bytes themselves are missing
        (b"\x04\x81\x05", "non-minimal length"),  # long form for a short length, no content bytes
        (b"\x04\x81\x05" + bytes(5), "non-minimal length"),
        (b"\x04\x82\x00\x80" + bytes(128), "non-minimal length"),  # leading zero length byte
        (b"\x04\x81\x80", "truncated"),
        (b"\x04\x05\x00", "truncated"),
    ],
)
def test_read_refuses_malformed_der(data: bytes, want: str) -> None:
    assert _reason(der.read, data) == want


@pytest.mark.parametrize(
    ("data", "pos", "want"),
    [
        (b"\x05\x00", 0, (TLV(5, b"", b"\x05\x00"), 2)),
        (b"\x00\x04\x01\x07", 1, (TLV(4, b"\x07", b"\x04\x01\x07"), 4)),
        (b"\x04\x81\x80" + LONG[:128], 0, (TLV(4, LONG[:128], b"\x04\x81\x80" + LONG[:128]), 131)),
        (b"\x04\x82\x01\x48" + LONG, 0, (TLV(4, LONG, b"\x04\x82\x01\x48" + LONG), 332)),
    ],
)
def test_read_returns_the_element_and_the_next_offset(data: bytes, pos: int, want: tuple[TLV, int]) -> None:
    assert der.read(data, pos) == want


def test_parse_refuses_trailing_data_and_a_wrong_tag() -> None:
    assert _reason(der.parse, b"\x05\x00\x00") == "trailing data"
    assert _reason(der.parse, b"\x05\x00", der.SEQUENCE) == "unexpected tag"
    assert _reason(der.seq, b"\x31\x00") == "unexpected tag"
    assert der.seq(b"\x30\x02\x05\x00") == [TLV(5, b"", b"\x05\x00")]


@pytest.mark.parametrize("tag", [0x04, 0x01, 0x02, 0x05])
def test_children_refuses_a_primitive_element(tag: int) -> None:
    assert _reason(der.children, _t(tag, b"\x05\x00")) == "not constructed"


def test_children_allows_at_most_ten_thousand_elements() -> None:
    assert len(der.children(_t(der.SEQUENCE, b"\x05\x00" * 10_000))) == 10_000
    assert _reason(der.children, _t(der.SEQUENCE, b"\x05\x00" * 10_001)) == "too many elements"
    assert _reason(der.children, _t(der.SET, b"\x05\x00" * 4), 3) == "too many elements"


@pytest.mark.parametrize(
    ("tlv", "want"),
    [
        (_t(der.INTEGER, b"\x00"), 0),
        (_t(der.INTEGER, b"\xff"), -1),
        (_t(der.INTEGER, b"\x7f"), 127),
        (_t(der.INTEGER, b"\x00\x80"), 128),
        (_t(der.INTEGER, b"\xff\x7f"), -129),
        (_t(der.INTEGER, b"\x80"), -128),
        (_t(der.INTEGER, b"\x01\x00"), 256),
    ],
)
def test_to_int_reads_minimal_twos_complement(tlv: TLV, want: int) -> None:
    assert der.to_int(tlv) == want


@pytest.mark.parametrize(
    ("tlv", "want"),
    [
        (_t(der.OCTET_STRING, b"\x01"), "not an integer"),
        (_t(der.INTEGER, b""), "not an integer"),
        (_t(der.INTEGER, b"\x00\x01"), "non-minimal integer"),
        (_t(der.INTEGER, b"\x00\x7f"), "non-minimal integer"),
        (_t(der.INTEGER, b"\xff\x80"), "non-minimal integer"),
        (_t(der.INTEGER, b"\xff\xff"), "non-minimal integer"),
    ],
)
def test_to_int_refuses(tlv: TLV, want: str) -> None:
    assert _reason(der.to_int, tlv) == want


def test_small_int_bounds() -> None:
    assert der.small_int(_t(der.INTEGER, b"\x05"), 5) == 5
    assert der.small_int(_t(der.INTEGER, b"\x01" + bytes(7)), 1 << 60) == 1 << 56
    for tlv, bound in [
        (_t(der.OCTET_STRING, b"\x01"), 5),
        (_t(der.INTEGER, b"\x01" + bytes(8)), 1 << 70),  # 9 bytes: refused before the bound
        (_t(der.INTEGER, b"\x06"), 5),
        (_t(der.INTEGER, b"\xff"), 5),
    ]:
        assert _reason(der.small_int, tlv, bound) == "integer out of range"


@pytest.mark.parametrize(
    ("value", "want"),
    [
        (b"\x00", "0.0"),
        (b"\x27", "0.39"),
        (b"\x28", "1.0"),
        (b"\x4f", "1.39"),
        (b"\x50", "2.0"),
        (b"\x2a\x86\x48", "1.2.840"),
        (b"\x88\x37\x01", "2.999.1"),
    ],
)
def test_to_oid_splits_the_first_byte_as_go_does(value: bytes, want: str) -> None:
    assert der.to_oid(_t(der.OID, value)) == want


@pytest.mark.parametrize(
    "tlv",
    [_t(der.OID, b""), _t(der.OID, b"\x2a\x86"), _t(der.OID, b"\x86"), _t(der.OCTET_STRING, b"\x2a")],
)
def test_to_oid_refuses(tlv: TLV) -> None:
    assert _reason(der.to_oid, tlv) == "not an object identifier"


# Go's parseBase128Int: at most five bytes an arc, no leading 0x80, nothing past math.MaxInt32
def test_to_oid_reads_an_arc_up_to_max_int32() -> None:
    assert der.to_oid(_t(der.OID, b"\x2a\x87\xff\xff\xff\x7f")) == "1.2.2147483647"


@pytest.mark.parametrize(
    ("value", "want"),
    [
        (b"\x80\x01", "non-minimal object identifier"),  # the first arc as well
        (b"\x2a\x80\x7f", "non-minimal object identifier"),
        (b"\x2a\x88\x80\x80\x80\x00", "object identifier arc too large"),  # 2**31
        (b"\x2a\x81\x80\x80\x80\x80\x00", "object identifier arc too large"),  # a sixth byte
    ],
)
def test_to_oid_refuses_arcs_go_refuses(value: bytes, want: str) -> None:
    assert _reason(der.to_oid, _t(der.OID, value)) == want


def test_fields_reads_the_first_elements_of_a_sequence_and_leaves_the_rest_unread() -> None:
    # encoding/asn1 reading a struct: one element per field, then "We allow extra bytes at the end"
    null = TLV(5, b"", b"\x05\x00")
    body = b"\x05\x00" * 2 + b"\x04\x05\x00"  # a truncated third element
    assert der.fields(_t(der.SEQUENCE, body), 2) == [null, null]
    assert der.fields(_t(der.SEQUENCE, b"\x05\x00"), 3) == [null]
    assert _reason(der.fields, _t(der.SEQUENCE, body), 3) == "truncated"
    assert _reason(der.fields, _t(der.SET, b"\x05\x00"), 1) == "unexpected tag"


def test_octets() -> None:
    assert der.octets(_t(der.OCTET_STRING, b"\x01")) == b"\x01"
    assert _reason(der.octets, _t(der.NULL, b"")) == "not an octet string"


# --- OBJECT IDENTIFIER arcs as Go's parseBase128Int reads them -------------------------------------


def _with_outer_oid(p12: bytes, oid_value: bytes) -> str:
    """The PFX with its authSafe ContentInfo's contentType (outside the MAC) replaced."""
    version, auth_safe, mac = der.seq(p12)
    _, content = der.children(auth_safe)
    rebuilt = der.sequence(version.raw, der.sequence(der.tlv(der.OID, oid_value), content.raw), mac.raw)
    return base64.b64encode(rebuilt).decode()


_P12 = base64.b64decode(F["p12_modern_pw"])
_DATA = der.oid("1.2.840.113549.1.7.1")[2:]
_KEY = "{{ .p | b64dec | pkcs12keyPass .pw }}"


def test_rebuilt_pfx_still_decodes() -> None:
    assert run(_KEY, {"p": _with_outer_oid(_P12, _DATA), "pw": "pw"}).startswith("-----BEGIN PRIVATE KEY")


def test_non_minimal_oid_arc_is_refused_as_go_does() -> None:
    # Go's encoding/asn1 parseBase128Int: an arc led by 0x80 is "integer is not minimally encoded",
    # so go-pkcs12 fails on 2a..07 80 01 where a lax reader sees 1.2.840.113549.1.7.1
    with pytest.raises(TemplateError) as info:
        run(_KEY, {"p": _with_outer_oid(_P12, _DATA[:-1] + b"\x80" + _DATA[-1:]), "pw": "pw"})
    assert info.value.kind == "function failed"
