"""Second-wave mutation survivors in printer.py, gostrconv.py, gotime.py and funcs/sprig_dates.py.

Expected values are Go's: ``fmt`` (fmtFloat's ``#`` handling, NaN/Inf), ``strconv`` (Quote,
QuoteRune, IsPrint, the %x/%b float formats of ftoa.go), ``time`` (Parse's getnum/atoi, year 0
for layouts without a year, LoadLocation) and Sprig v3's ``date.go`` (dateInZone, toDate).
"""

from __future__ import annotations

import datetime as dt

import pytest

from secretsync.gotemplate import Limits, gotime, render
from secretsync.gotemplate import gostrconv as sc
from tests.gotemplate.test_mutation_print import out
from tests.gotemplate.test_mutation_time import _kind

# --- printf of floats: NaN, infinities, %b, %x ------------------------------------------------

FLOATS = [
    # strconv formats NaN and ±Inf the same for every verb; fmt drops the + of NaN only
    ('{{ printf "%x" (float64 "NaN") }}', "NaN"),
    ('{{ printf "%+X" (float64 "NaN") }}', "+NaN"),
    ('{{ printf "%x" (float64 "Inf") }}', "+Inf"),
    ('{{ printf "%X" (float64 "-Inf") }}', "-Inf"),
    ('{{ printf "%b|%b" (float64 "Inf") (float64 "-Inf") }}', "+Inf|-Inf"),
    # %b: the mantissa as an integer; a subnormal has exponent -1074 and no implicit bit
    ('{{ printf "%b" 5e-324 }}', "1p-1074"),
    ('{{ printf "%b" -5e-324 }}', "-1p-1074"),
    ('{{ printf "%b" 1.0000000000000002 }}', "4503599627370497p-52"),
    # %x: shortest hex digits, the odd last bit kept
    ('{{ printf "%x" 1.0000000000000002 }}', "0x1.0000000000001p+00"),
    ('{{ printf "%X" -1.0000000000000002 }}', "-0X1.0000000000001P+00"),
    # %.Nx: precision 13 and more only pads with zeros (the 52-bit fraction is 13 digits)
    ('{{ printf "%.13x" 1.0 }}', "0x1.0000000000000p+00"),
    ('{{ printf "%.14x" 1.0 }}', "0x1.00000000000000p+00"),
    ('{{ printf "%.15x" 1.0000000000000002 }}', "0x1.000000000000100p+00"),
    # rounding to fewer digits is to nearest, ties to even
    ('{{ printf "%.1x" 1.03125 }}', "0x1.0p+00"),  # 1.08: a tie, 0 is even: down
    ('{{ printf "%.1x" 1.09375 }}', "0x1.2p+00"),  # 1.18: a tie, 1 is odd: up
    ('{{ printf "%.1x" 1.0625 }}', "0x1.1p+00"),  # an odd last digit kept
    ('{{ printf "%.12x" 1.000000000000002 }}', "0x1.000000000001p+00"),  # ...09: above the tie
    # rounding up past f.f carries into the exponent
    ('{{ printf "%.1x" 1.99 }}', "0x1.0p+01"),
    ('{{ printf "%.1x" 3.99 }}', "0x1.0p+02"),
    ('{{ printf "%.2X" 3.999 }}', "0X1.00P+02"),
    ('{{ printf "%.0x" 3.99 }}', "0x1p+02"),
    # # on %X: precision 0 still gets a point, before the P
    ('{{ printf "%#.0X" 1.0 }}', "0X1.P+00"),
    ('{{ printf "%#.0x" 1.0 }}', "0x1.p+00"),
]


@pytest.mark.parametrize(("source", "expected"), FLOATS)
def test_float_printf_like_go(source: str, expected: str) -> None:
    assert out(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"), [('{{ printf "%#X" 1.0 }}', "0X1.P+00"), ('{{ printf "%#X" 1.5 }}', "0X1.8P+00")]
)
def test_sharp_upper_x_float_like_go(source: str, expected: str) -> None:
    assert out(source) == expected


def test_bad_verb_prints_its_argument_at_the_top_level() -> None:
    # a scalar re-printed for %!d(bool=true) is not nested: a depth limit of 0 lets it through
    got = render({"t": '{{ printf "%d|%s" true 5 }}'}, {}, limits=Limits(max_depth=0))["t"]
    assert got == "%!d(bool=true)|%!s(int=5)"


# --- strconv.Quote, QuoteRune, IsPrint ---------------------------------------------------------


@pytest.mark.parametrize(
    ("r", "expected"),
    [
        (0x20, True),  # the ASCII space is printable
        (0x41, True),
        (0x7F, False),
        (0xA0, False),  # other spaces are not
        (0xD800, False),
        (0xDFFF, False),
        (0xE000, False),  # private use
        (0xFFFD, True),
        (0x10000, True),
        (0x10FFFF, False),
        (0x110000, False),  # not a rune at all
    ],
)
def test_is_print_is_strconv_is_print(r: int, expected: bool) -> None:
    assert sc.is_print(r) is expected


STRAYS = {"d800": "\ud800", "dbff": "\udbff", "dc7f": "\udc7f", "dd00": "\udd00", "dfff": "\udfff"}

QUOTES = [
    ('{{ printf "%q|%+q" " " " " }}', '" "|" "'),
    ("{{ printf \"%#U\" ' ' }}", "U+0020 ' '"),
    # the named escapes
    ('{{ printf "%q" "\\a\\b\\f\\n\\r\\t\\v" }}', '"\\a\\b\\f\\n\\r\\t\\v"'),
    ('{{ printf "%q %q %q %q %q %q %q" 7 8 12 10 13 9 11 }}', "'\\a' '\\b' '\\f' '\\n' '\\r' '\\t' '\\v'"),
    ('{{ printf "%q" "\\x0e\\x1f\\x7f" }}', '"\\x0e\\x1f\\x7f"'),
    # only the quote and the backslash are escaped among printable ASCII
    ('{{ printf "%q" "a\\\\b]" }}', '"a\\\\b]"'),
    ('{{ printf "%q" "]" }}', '"]"'),
    # \u below U+10000, \U above; printable runes kept unless %+q
    ('{{ printf "%q|%+q" "\\uffff" "\\uffff" }}', '"\\uffff"|"\\uffff"'),
    ('{{ printf "%q|%+q" "\\U00010000" "\\U00010000" }}', '"\U00010000"|"\\U00010000"'),
    ('{{ printf "%q|%+q" "\\U0010FFFF" "\\U0010FFFF" }}', '"\\U0010ffff"|"\\U0010ffff"'),
    ('{{ printf "%q" "\\ue000" }}', '"\\ue000"'),
    # a stray surrogate in the data is U+FFFD, printable (escaped with %+q)
    ('{{ printf "%q|%+q" .d800 .d800 }}', '"\ufffd"|"\\ufffd"'),
    ('{{ printf "%q|%+q" .dfff .dfff }}', '"\ufffd"|"\\ufffd"'),
    ('{{ printf "%q|%+q" .dbff .dc7f }}', '"\ufffd"|"\\ufffd"'),
    ('{{ printf "%q|%+q" .dd00 .dd00 }}', '"\ufffd"|"\\ufffd"'),
    # an invalid byte of a Go string is \xNN
    ('{{ printf "%q|%q" (b64dec "gA==") (b64dec "/w==") }}', '"\\x80"|"\\xff"'),
    ('{{ printf "%q" (b64dec "gIE=") }}', '"\\x80\\x81"'),
    # Sprig's quote is fmt's %q: not ASCII-only
    ('{{ quote "é" "\\u2028" }}', '"é" "\\u2028"'),
]


@pytest.mark.parametrize(("source", "expected"), QUOTES)
def test_quote_like_go(source: str, expected: str) -> None:
    assert out(source, STRAYS) == expected


# --- time.Parse through toDate ---------------------------------------------------------------

PARSES = [
    # a layout without a year still parses (the clock is what matters here)
    ('{{ toDate "15:04" "10:30" | date "15:04:05 Jan 2" }}', "10:30:00 Jan 1"),
    # getnum takes at most two digits for a month or a day
    ('{{ toDate "0102 2006" "1231 2024" | date "2006-01-02" }}', "2024-12-31"),
    ('{{ toDate "1 2006" "12 2024" | date "2006-01-02" }}', "2024-12-01"),
    # a fixed-width element needs all its digits; none takes a sign or a space
    ('{{ toDate "2006-01-02" "2024-1-02" }}', "0001-01-01 00:00:00 +0000 UTC"),
    ('{{ toDate "2006-01-02" "2024-01-2" }}', "0001-01-01 00:00:00 +0000 UTC"),
    ('{{ toDate "1/2/2006" "+1/2/2024" }}', "0001-01-01 00:00:00 +0000 UTC"),
    ('{{ toDate "1/2/2006" "-1/2/2024" }}', "0001-01-01 00:00:00 +0000 UTC"),
    ('{{ toDate "1/2/2006" " 1/2/2024" }}', "0001-01-01 00:00:00 +0000 UTC"),
    ('{{ toDate "2006" "+123" }}', "0001-01-01 00:00:00 +0000 UTC"),
    ('{{ toDate "2006" "-123" }}', "0001-01-01 00:00:00 +0000 UTC"),
    ('{{ toDate "15:04" "+1:30" }}', "0001-01-01 00:00:00 +0000 UTC"),
    # the value ends where a number is due
    ('{{ toDate "2006-01" "2024-" }}', "0001-01-01 00:00:00 +0000 UTC"),
    ('{{ toDate "2006-01-02 15" "2024-01-02 " }}', "0001-01-01 00:00:00 +0000 UTC"),
]


@pytest.mark.parametrize(("source", "expected"), PARSES)
def test_to_date_parses_like_go(source: str, expected: str) -> None:
    assert out(source) == expected


def test_must_to_date_fails_where_a_number_is_missing() -> None:
    assert _kind('{{ mustToDate "2006-01" "2024-" }}') == "function failed"


@pytest.mark.xfail(strict=True, reason="time.Parse leaves the year at 0 when the layout has none; we use 1")
@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('{{ toDate "15:04" "10:30" }}', "0000-01-01 10:30:00 +0000 UTC"),
        ('{{ toDate "15:04" "10:30" | date "Mon" }}', "Sat"),
    ],
)
def test_to_date_without_a_year_is_year_zero(source: str, expected: str) -> None:
    assert out(source) == expected


# --- dateInZone: zones and dates -------------------------------------------------------------


def test_local_is_the_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    zone = dt.timezone(dt.timedelta(hours=5, minutes=30), "IST")
    monkeypatch.setattr(gotime, "local_zone", lambda: zone)
    assert out('{{ dateInZone "15:04 MST" 0 "Local" }}') == "05:30 IST"
    # only the exact name: LoadLocation("local") fails, and Sprig falls back to UTC
    assert out('{{ dateInZone "15:04 MST" 0 "local" }}|{{ dateInZone "MST" 0 "LOCAL" }}') == "00:00 UTC|UTC"


@pytest.mark.parametrize("date", ['"2024"', "true", "1.5", "(list 1)"])
def test_a_date_that_is_not_a_time_or_an_integer_is_now(date: str) -> None:
    # Sprig's dateInZone: time.Time, *time.Time, int, int32, int64 or else time.Now()
    got = out(f'{{{{ dateInZone "2006 MST" {date} "UTC" }}}}')
    year, zone = got.split()
    assert zone == "UTC"
    assert int(year) >= 2024


def test_date_in_zone_keeps_the_nanoseconds() -> None:
    source = (
        '{{ dateInZone "15:04:05.000000000 -0700" (toDate "2006-01-02T15:04:05Z07:00" '
        '"2024-01-01T00:00:00.123456789Z") "Asia/Tokyo" }}'
    )
    assert out(source) == "09:00:00.123456789 +0900"


MOVED_PAST_9999 = (
    '{{ dateInZone "2006-01-02" (toDate "2006-01-02 15:04 -0700" "9999-12-31 23:30 +0000") "Asia/Tokyo" }}'
)


def test_a_zone_moving_a_time_past_9999_fails_cleanly() -> None:
    # Go prints 10000-01-01; datetime cannot: the call fails as "function failed", not internally
    assert _kind(MOVED_PAST_9999) == "function failed"


@pytest.mark.xfail(strict=True, reason="datetime cannot hold years past 9999; Go time.Time can")
def test_a_zone_moving_a_time_past_9999_formats_as_go() -> None:
    assert out(MOVED_PAST_9999) == "10000-01-01"
