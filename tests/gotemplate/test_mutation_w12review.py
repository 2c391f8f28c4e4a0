"""Fixes from the review of the yaml.v2/PKCS#12/time.Parse ports, each pinned.

- fromYaml's ``{"Error": ...}`` map is a value the render built: its text may quote a key or a
  value of the document, so it is charged to the render's allocation budget like any other.
- yaml.v2's timestamp test is Go's ``time.Parse`` under its four layouts: goparse's checks, not a
  second copy of them, and not datetime's range (year 0 and a year-10000 instant parse in Go).
- yaml.v2's integers are strconv's ParseInt/ParseUint (gostrconv), not a second copy.
- Go's ``parse`` keeps "no zone" as an offset of -1: a parsed zone of exactly -1 s is no zone.
- go-pkcs12's MacData is an optional field: a third PFX element that is no SEQUENCE is no MAC
  (Go's asn1 leaves the field unset), so an archive with the empty password still reads.
- Go's ``Format`` signs a numeric zone by its whole minutes (truncated toward zero) and prints the
  seconds with their own sign: -1 to -59 s read "+00:00:-01". Expected texts from go1.26.8.
"""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs import der, pkcs12, yamlv2
from secretsync.gotemplate.funcs.eso import from_yaml
from secretsync.gotemplate.goparse import parse_time, parses
from secretsync.gotemplate.gotime import UTC, format_time, load_zone
from secretsync.gotemplate.limits import ALLOC_FACTOR, Budget, Limits
from secretsync.gotemplate.values import GoTime
from tests.gotemplate.test_mutation_w8pkcs12c import CERT_PEM, _cert_bag, _data, _key_bag, _kind, _read


def test_fromyaml_error_map_quoting_the_document_is_charged_to_the_budget() -> None:
    value = "v" * 5000
    budget = Budget(Limits())
    out = from_yaml(budget, f"~: {value}")
    assert isinstance(out, dict) and value in str(out["Error"])
    assert budget.allocated >= len(value)


def test_fromyaml_error_maps_count_toward_the_renders_total_allocation() -> None:
    budget = Budget(Limits(max_value_bytes=2000))
    doc = "~: " + "v" * 1000
    with pytest.raises(Fault) as info:
        for _ in range(ALLOC_FACTOR * 2 + 1):  # each error map holds over 1,000 bytes
            from_yaml(budget, doc)
    assert info.value.kind == "value limit"


RFC = "2006-1-2T15:4:5.999999999Z07:00"


@pytest.mark.parametrize(
    ("layout", "value", "ok"),
    [
        ("2006-1-2", "0000-01-01", True),  # Go's year 0
        ("2006-1-2", "0000-02-29", True),  # year 0 is a leap year
        ("2006-1-2", "0001-02-29", False),
        (RFC, "9999-12-31T23:59:59-24:00", True),  # an instant in year 10000
        (RFC, "9999-12-31T23:59:59-24:61", False),
        (RFC, "2006-01-02T24:00:00Z", False),
        ("2006-1-2 15:4:5.999999999", "2006-1-2   1:2:3,25", True),  # a run of blanks, "," point
    ],
)
def test_parses_is_go_time_parse_without_datetimes_range(layout: str, value: str, ok: bool) -> None:
    assert parses(layout, value) is ok


def test_a_time_datetime_cannot_hold_parses_but_is_not_built() -> None:
    with pytest.raises((ValueError, OverflowError)):
        parse_time(RFC, "9999-12-31T23:59:59-24:00", UTC)


@pytest.mark.parametrize(
    ("plain", "resolved"),
    [
        ("0000-01-01", ("timestamp", "0000-01-01")),
        ("9999-12-31T23:59:59-24:00", ("timestamp", "9999-12-31T23:59:59-24:00")),
        ("2023-02-29", ("str", "2023-02-29")),
        ("2006-01-02t10:00:00Z", ("timestamp", "2006-01-02t10:00:00Z")),
        ("12006-01-02", ("str", "12006-01-02")),  # five digits: the quick check fails
        ("18446744073709551615", ("int", 18446744073709551615)),  # ParseUint's largest
        ("18446744073709551616", ("float", 1.8446744073709552e19)),
        ("-9223372036854775808", ("int", -9223372036854775808)),
        ("-0b101", ("int", -5)),
        ("0b" + "1" * 64, ("int", 2**64 - 1)),
        ("0b1" + "0" * 64, ("str", "0b1" + "0" * 64)),
    ],
)
def test_yaml_v2_resolution_through_goparse_and_gostrconv(plain: str, resolved: tuple[str, object]) -> None:
    tag, value = yamlv2.resolve(plain)
    assert tag == resolved[0], (plain, tag, value)
    if resolved[1] is not None:
        assert value == resolved[1]


FULL = "2006-01-02T15:04:05.999999999Z07:00 MST"


@pytest.mark.parametrize(
    ("value", "in_utc", "in_new_york"),
    [
        ("2006-01-02 -00:00:01", "2006-01-02T00:00:00Z UTC", "2006-01-02T00:00:00-05:00 EST"),
        ("2006-01-02 -00:00:02", "2006-01-02T00:00:00+00:00 +0000", "2006-01-02T00:00:00+00:00 +0000"),
        ("2006-01-02 +00:00:01", "2006-01-02T00:00:00+00:00 +0000", "2006-01-02T00:00:00+00:00 +0000"),
    ],
)
def test_a_zone_of_minus_one_second_is_no_zone_as_in_go(value: str, in_utc: str, in_new_york: str) -> None:
    layout = "2006-01-02 -07:00:00"
    assert format_time(parse_time(layout, value, UTC), FULL) == in_utc
    assert format_time(parse_time(layout, value, load_zone("America/New_York")), FULL) == in_new_york


GO_ZONES = """\
-1|+00:00:-01|+00:00:-01|+0000-01|+0000|+00|+0000
-2|+00:00:-02|+00:00:-02|+0000-02|+0000|+00|+0000
-59|+00:00:-59|+00:00:-59|+0000-59|+0000|+00|+0000
-60|-00:01:00|-00:01:00|-000100|-0001|-00|-0001
-61|-00:01:01|-00:01:01|-000101|-0001|-00|-0001
-3599|-00:59:59|-00:59:59|-005959|-0059|-00|-0059
-3601|-01:00:01|-01:00:01|-010001|-0100|-01|-0100
59|+00:00:59|+00:00:59|+000059|+0000|+00|+0000
61|+00:01:01|+00:01:01|+000101|+0001|+00|+0001
"""


@pytest.mark.parametrize("row", GO_ZONES.splitlines(), ids=lambda r: r.split("|")[0])
def test_numeric_zones_format_as_go_formats_them(row: str) -> None:
    offset, *expected = row.split("|")
    t = GoTime(dt.datetime(2006, 1, 2, tzinfo=dt.timezone(dt.timedelta(seconds=int(offset)))), 0)
    layouts = ["Z07:00:00", "-07:00:00", "-070000", "MST", "Z07", "-0700"]
    assert [format_time(t, layout) for layout in layouts] == expected


@pytest.mark.parametrize(
    "third",
    [der.integer(5), der.octet_string(b"mac"), der.tlv(0x31, b""), der.tlv(0x10, b"")],
    ids=["integer", "octet-string", "set", "primitive-sequence-tag"],
)
def test_a_pfx_whose_third_element_is_no_sequence_has_no_mac(third: bytes) -> None:
    auth = der.sequence(_data(_cert_bag(), _key_bag()))
    pfx = base64.b64encode(der.sequence(der.integer(3), pkcs12._data_content(auth), third)).decode()
    assert _read("pkcs12cert", pfx) == CERT_PEM
    assert _kind('pkcs12certPass "pw"', pfx) == "function failed"  # a password needs a MAC
