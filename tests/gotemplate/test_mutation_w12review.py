"""Fixes from the review of the yaml.v2/PKCS#12/time.Parse ports, each pinned.

- fromYaml's ``{"Error": ...}`` map is a value the render built: its text may quote a key or a
  value of the document, so it is charged to the render's allocation budget like any other.
- yaml.v2's timestamp test is Go's ``time.Parse`` under its four layouts: goparse's checks, not a
  second copy of them, and not datetime's range (year 0 and a year-10000 instant parse in Go).
- yaml.v2's integers are strconv's ParseInt/ParseUint (gostrconv), not a second copy.
"""

from __future__ import annotations

import pytest

from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs import yamlv2
from secretsync.gotemplate.funcs.eso import from_yaml
from secretsync.gotemplate.goparse import parse_time, parses
from secretsync.gotemplate.gotime import UTC
from secretsync.gotemplate.limits import ALLOC_FACTOR, Budget, Limits


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
