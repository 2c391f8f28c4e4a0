"""Mutation survivors in Go's ``time`` port and Sprig's date functions (``gotime.py``,
``funcs/sprig_dates.py``).

Expected values are Go's (go1.26 ``time.Duration.String``, ``time.ParseDuration``, ``Time.Add`` and
``Format``) and Sprig v3.3.0's ``date.go``. Sprig's ``duration`` multiplies its seconds by
``time.Second`` in int64, so a large count wraps around to any multiple of 512 ns: that is how a
template reaches the sub-second forms of ``Duration.String``.
"""

from __future__ import annotations

import types

import pytest

from secretsync.gotemplate import TemplateError, gotime, render
from secretsync.gotemplate.gotime import duration_string

NANOS = "2006-01-02 15:04:05.000000000"
START = '(toDate "2006-01-02T15:04:05Z07:00" "2024-01-01T00:00:00Z")'


def _render(source: str) -> str:
    return render({"t": source}, {})["t"]


def _kind(source: str) -> str:
    with pytest.raises(TemplateError) as info:
        _render(source)
    return info.value.kind


def _seconds_wrapping_to(ns: int) -> int:
    """A count of seconds n with int64(n * time.Second) == ns (ns a multiple of 512 = 2**9)."""
    assert ns % 512 == 0
    mod = 1 << 55  # 10**9 = 2**9 * 1953125: the product is fixed modulo 2**64 by n modulo 2**55
    return (ns // 512 % mod) * pow(1953125, -1, mod) % mod


# --- Duration.String through Sprig's duration ------------------------------------------------


@pytest.mark.parametrize(
    ("ns", "expected"),
    [
        (512, "512ns"),  # below a microsecond: whole nanoseconds
        (-512, "-512ns"),  # the sign on the short forms
        (1024, "1.024µs"),  # microseconds with three fraction digits
        (-1024, "-1.024µs"),  # a negative duration is formatted from its magnitude
        (1536, "1.536µs"),
        (512_000, "512µs"),  # no fraction: no point
        (999_424, "999.424µs"),  # the largest microsecond form reachable here
        (1_000_448, "1.000448ms"),  # just past a millisecond: milliseconds, six digits
        (1_024_000, "1.024ms"),  # trailing zeros of the fraction dropped, leading ones kept
        (-1_024_000, "-1.024ms"),
        (1_000_000_512, "1.000000512s"),  # seconds with nine fraction digits
        (1_000_512_000, "1.000512s"),  # trailing zeros dropped there too
    ],
)
def test_duration_wraps_like_go_int64_and_prints_sub_second_units(ns: int, expected: str) -> None:
    assert _render(f'{{{{ duration "{_seconds_wrapping_to(ns)}" }}}}') == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        ("60", "1m0s"),  # exactly a minute: minutes appear
        ("120", "2m0s"),
        ("3600", "1h0m0s"),  # exactly an hour: hours appear, with zero minutes
        ("7200", "2h0m0s"),
        ("3661", "1h1m1s"),  # hours, minutes and seconds together
        ("-1", "-1s"),
        ("-90", "-1m30s"),
        ("9223372037", "-2562047h47m16.709551616s"),  # int64 overflow wraps negative, as in Go
    ],
)
def test_duration_prints_hours_minutes_seconds(seconds: str, expected: str) -> None:
    assert _render(f'{{{{ duration "{seconds}" }}}}') == expected


@pytest.mark.parametrize(
    ("ns", "expected"),
    [
        # Not reachable from a template (duration gives multiples of 512 ns): the unit boundaries.
        (1000, "1µs"),
        (1_000_000, "1ms"),
        (999, "999ns"),
        (1001, "1.001µs"),
        (2**63 - 1, "2562047h47m16.854775807s"),
        (-(2**63), "-2562047h47m16.854775808s"),
    ],
)
def test_duration_string_unit_boundaries(ns: int, expected: str) -> None:
    assert duration_string(ns) == expected


# --- ParseDuration through durationRound and dateModify --------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("X5s", "0s"),  # only + and - are signs; anything else makes the duration invalid
        ("1s" * 100, "1m"),  # 200 characters: a long valid duration still parses
        ("-9223372036854775808ns", "292y"),  # -2**63 is a Duration
        ("9300000000000000000ns", "0s"),  # past 2**63: invalid, so zero
        ("9223372036854775808ns", "0s"),  # +2**63 is not a Duration
        ("1s" * 99 + "10s", "1m"),  # 203 characters: Go has no length limit
    ],
)
def test_duration_round_parses_like_go(text: str, expected: str) -> None:
    assert _render(f'{{{{ durationRound "{text}" }}}}') == expected


@pytest.mark.parametrize(
    ("fn", "mod", "expected"),
    [
        ("mustDateModify", "0", "2024-01-01 00:00:00.000000000"),  # a bare 0 needs no unit
        ("mustDateModify", "-0", "2024-01-01 00:00:00.000000000"),
        ("dateModify", "1ns", "2024-01-01 00:00:00.000000001"),  # nanoseconds survive the addition
        ("dateModify", "1500ns", "2024-01-01 00:00:00.000001500"),  # split into µs + ns exactly
        ("dateModify", "-1ns", "2023-12-31 23:59:59.999999999"),
        ("dateModify", "", "2024-01-01 00:00:00.000000000"),  # invalid: the time unchanged
        ("dateModify", "1.001s", "2024-01-01 00:00:01.001000000"),  # Go: integers, not float(1.001)*1e9
        ("dateModify", "9007199254740993ns", "2024-04-14 05:59:59.254740993"),  # past 2**53: exact
        ("dateModify", "9223372036854775807ns", "2316-04-11 23:47:16.854775807"),
    ],
)
def test_date_modify_adds_exact_nanoseconds(fn: str, mod: str, expected: str) -> None:
    assert _render(f'{{{{ dateInZone "{NANOS}" ({fn} "{mod}" {START}) "UTC" }}}}') == expected


@pytest.mark.parametrize("mod", ["", "-", "+"])
def test_must_date_modify_refuses_an_empty_duration(mod: str) -> None:
    assert _kind(f'{{{{ mustDateModify "{mod}" {START} }}}}') == "function failed"


# --- times past year 9999 --------------------------------------------------------------------

# Go formats years past 9999 (``10000-01-02``, ``11476-08-15``); Python's datetime stops at 9999,
# so these fail as "function failed" (not an internal error). The Go outputs are the xfails below.
BEYOND_9999 = [
    (
        '{{ dateInZone "2006-01-02" (dateModify "8784h" (toDate "2006-01-02T15:04:05Z07:00" '
        '"9999-01-01T00:00:00Z")) "UTC" }}',
        "10000-01-02",
    ),
    ('{{ dateInZone "2006-01-02" 300000000000 "UTC" }}', "11476-08-15"),
]


@pytest.mark.parametrize(("source", "go"), BEYOND_9999)
def test_a_time_past_year_9999_fails_as_function_failed(source: str, go: str) -> None:
    assert _kind(source) == "function failed"


@pytest.mark.xfail(strict=True, reason="datetime cannot hold years past 9999; Go time.Time can")
@pytest.mark.parametrize(("source", "go"), BEYOND_9999)
def test_a_time_past_year_9999_formats_as_go(source: str, go: str) -> None:
    assert _render(source) == go


# --- now --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ns", "expected"),
    [
        (1_700_000_000_999_999_999, "2023-11-14 22:13:20.999999999"),  # no rounding up to 21s
        (1_700_000_000_123_456_789, "2023-11-14 22:13:20.123456789"),
    ],
)
def test_now_keeps_every_nanosecond_of_the_clock(
    monkeypatch: pytest.MonkeyPatch, ns: int, expected: str
) -> None:
    monkeypatch.setattr(gotime, "time", types.SimpleNamespace(time_ns=lambda: ns))
    assert _render(f'{{{{ dateInZone "{NANOS}" (now) "UTC" }}}}') == expected
