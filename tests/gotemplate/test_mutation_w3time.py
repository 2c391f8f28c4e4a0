"""Mutation survivors in Go's time layouts (``gotime.format_time``, ``goparse.parse_time``).

Expected values are Go 1.26's ``time.Time.Format`` and ``time.ParseInLocation`` (``format.go``:
``appendFormat``, ``parse``, ``getnum``, ``getnum3``, ``parseTimeZone``), reached through Sprig's
``dateInZone`` / ``date`` and ``mustToDate`` (``ParseInLocation(layout, value, time.Local)``).

The local zone is pinned to a fixed +02:00 zone named ``XST`` so that a time left in the local
zone differs from UTC. Layouts always carry a year: Go's default year is 0, which datetime cannot
hold (see the xfail below). Values start with digits where a zone name follows and with a
weekday where a fraction follows, so no mutant of a scanning loop can spin forever.
"""

from __future__ import annotations

import datetime as dt

import pytest

from secretsync.gotemplate import goparse, gotime
from secretsync.gotemplate.funcs import sprig_dates
from secretsync.gotemplate.values import GoTime
from tests.gotemplate.test_mutation_time import _kind, _render

LOCAL = dt.timezone(dt.timedelta(hours=2), "XST")
RFC = "2006-01-02T15:04:05.999999999Z07:00"
CANON = "2006-01-02 15:04:05.000000000"


@pytest.fixture(autouse=True)
def _local_is_plus_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gotime, "local_zone", lambda: LOCAL)
    monkeypatch.setattr(sprig_dates, "local_zone", lambda: LOCAL)


def _fmt(layout: str, iso: str, zone: str = "UTC") -> str:
    return _render(f'{{{{ dateInZone "{layout}" (mustToDate "{RFC}" "{iso}") "{zone}" }}}}')


def _parsed(layout: str, value: str, zone: str) -> str:
    return _render(f'{{{{ dateInZone "{CANON}" (mustToDate "{layout}" "{value}") "{zone}" }}}}')


# --- Format ----------------------------------------------------------------------------------

T = "2024-03-05T14:07:09.123456789Z"  # a Tuesday, day 65 of a leap year, 2 PM
MIDNIGHT = "2024-12-09T00:03:04Z"  # a Monday in December, day 344, just after midnight
NOON = "2024-03-05T12:00:00Z"


@pytest.mark.parametrize(
    ("layout", "iso", "expected"),
    [
        ("January", T, "March"),
        ("January", MIDNIGHT, "December"),
        ("1", T, "3"),
        ("Monday", T, "Tuesday"),
        ("Monday", MIDNIGHT, "Monday"),
        ("2", T, "5"),
        ("__2", T, " 65"),  # day of year padded with spaces to three
        ("002", T, "065"),
        ("__2", MIDNIGHT, "344"),
        ("3", T, "2"),
        ("03", T, "02"),
        ("3", MIDNIGHT, "12"),  # midnight is 12 AM
        ("03", MIDNIGHT, "12"),
        ("4", T, "7"),
        ("04", T, "07"),
        ("5", T, "9"),
        ("05", T, "09"),
        ("06", T, "24"),
        ("PM", T, "PM"),
        ("pm", T, "pm"),
        ("PM", MIDNIGHT, "AM"),
        ("pm", MIDNIGHT, "am"),
        ("PM", NOON, "PM"),  # noon is 12 PM
        ("pm", NOON, "pm"),
        ("PM", "2024-03-05T11:59:59Z", "AM"),
        (".000000000", T, ".123456789"),  # every nanosecond, the sub-microsecond ones too
        (".999999999", T, ".123456789"),
        (".9", T, ".1"),
        (".0", T, ".1"),
        (".9", NOON, ""),  # an all-zero .9 fraction disappears with its point
        ("15:04:05.99", "2024-03-05T14:07:09.100Z", "14:07:09.1"),
    ],
)
def test_format_elements(layout: str, iso: str, expected: str) -> None:
    assert _fmt(layout, iso) == expected


@pytest.mark.parametrize(
    ("layout", "zone", "expected"),
    [
        ("MST", "Local", "XST"),  # the zone's own abbreviation
        ("MST -0700", "Asia/Kolkata", "IST +0530"),
        ("MST", "UTC", "UTC"),
    ],
)
def test_format_zone_name(layout: str, zone: str, expected: str) -> None:
    assert _fmt(layout, T, zone) == expected


def test_format_numeric_zone_abbreviation_as_go() -> None:
    # Go: Format's stdTZ appends the abbreviation when it is not empty; tzdata names Sao Paulo's "-03".
    assert _fmt("MST -0700", T, "America/Sao_Paulo") == "-03 -0300"
    t = GoTime(dt.datetime(2024, 3, 5, 11, 7, 9, tzinfo=dt.timezone(dt.timedelta(hours=-3), "-03")))
    assert gotime.format_time(t, "MST -0700") == "-03 -0300"
    # a datetime.timezone without a name calls itself "UTC-03:00": Go's FixedZone("", ...) has none
    t = GoTime(dt.datetime(2024, 3, 5, 11, 7, 9, tzinfo=dt.timezone(dt.timedelta(hours=-3))))
    assert gotime.format_time(t, "MST -0700") == "-0300 -0300"


class _Anonymous(dt.tzinfo):
    """A zone with neither name nor offset (Go's FixedZone("", 0))."""

    def utcoffset(self, d: dt.datetime | None) -> None:
        return None

    def tzname(self, d: dt.datetime | None) -> None:
        return None

    def dst(self, d: dt.datetime | None) -> None:
        return None


def test_format_a_zone_without_name_or_offset() -> None:
    t = GoTime(dt.datetime(2024, 3, 5, 14, 7, 9, tzinfo=_Anonymous()))
    assert gotime.format_time(t, "MST -07:00:00 Z07") == "+0000 +00:00:00 Z"


@pytest.mark.parametrize(("ns", "expected"), [(3600 * 10**9, "1h0m0s"), (7322 * 10**9, "2h2m2s")])
def test_duration_string_hours(ns: int, expected: str) -> None:
    assert gotime.duration_string(ns) == expected


# --- Parse: no zone in the value, so the local zone --------------------------------------------

D = "2024-03-05 "  # the date part of the expected values below


@pytest.mark.parametrize(
    ("layout", "value", "expected"),
    [
        ("2006 Jan", "2024 Mar", "2024-03-01 00:00:00.000000000"),
        ("2006 January", "2024 March", "2024-03-01 00:00:00.000000000"),
        ("2006 January", "2024 december", "2024-12-01 00:00:00.000000000"),  # names ignore case
        ("2006 1", "2024 3", "2024-03-01 00:00:00.000000000"),
        ("2006 1", "2024 12", "2024-12-01 00:00:00.000000000"),
        ("2006 01", "2024 03", "2024-03-01 00:00:00.000000000"),
        ("2006-105", "2024-1109", "2024-11-01 00:00:09.000000000"),  # "1" takes at most 2 digits
        ("Monday 2006", "Tuesday 2024", "2024-01-01 00:00:00.000000000"),  # weekday only checked
        ("Mon 2006", "Tue 2024", "2024-01-01 00:00:00.000000000"),
        ("2006-01-_2", "2024-03- 5", D + "00:00:00.000000000"),  # _2 skips one space
        ("2006-01-_2", "2024-03-15", "2024-03-15 00:00:00.000000000"),
        ("2006-01-_2", "2024-03-5", D + "00:00:00.000000000"),
        ("2006-01-2", "2024-03-5", D + "00:00:00.000000000"),
        ("2006-01-025", "2024-03-0509", D + "00:00:09.000000000"),  # "02" takes 2 digits
        ("2006-01-02/__2", "2024-03-05/65", D + "00:00:00.000000000"),  # day of year, agreeing
        ("2006-01-02/__2", "2024-01-05/5", "2024-01-05 00:00:00.000000000"),
        ("2006-01-02/__25", "2024-03-05/0659", D + "00:00:09.000000000"),  # at most 3 digits
        ("2006-01-02/002", "2024-03-05/065", D + "00:00:00.000000000"),
        ("2006-01-02T15", "2024-03-05T9", D + "09:00:00.000000000"),
        ("2006-01-02T154", "2024-03-05T1230", D + "12:30:00.000000000"),
        ("2006-01-02T3:04", "2024-03-05T9:30", D + "09:30:00.000000000"),
        ("2006-01-02T03:04", "2024-03-05T09:30", D + "09:30:00.000000000"),
        ("2006-01-02T304", "2024-03-05T1130", D + "11:30:00.000000000"),
        ("2006-01-02T15:4", "2024-03-05T10:7", D + "10:07:00.000000000"),
        ("2006-01-02T15:04", "2024-03-05T10:07", D + "10:07:00.000000000"),
        ("2006-01-02T15:45", "2024-03-05T10:309", D + "10:30:09.000000000"),
        ("2006-01-02T15:04:5", "2024-03-05T10:30:9", D + "10:30:09.000000000"),
        ("2006-01-02T15:04:05", "2024-03-05T10:30:09", D + "10:30:09.000000000"),
        ("15:04:52006-01-02", "10:30:092024-03-05", D + "10:30:09.000000000"),
        ("2006-01-02T15:04:05", "2024-03-05T10:30:09,5", D + "10:30:09.500000000"),  # a comma too
        ("2006-01-02T15:04:05", "2024-03-05T10:30:09.123456789", D + "10:30:09.123456789"),
        ("20060102", "20240305", D + "00:00:00.000000000"),  # "2006" takes exactly 4 digits
        ("06-01-02", "24-03-05", D + "00:00:00.000000000"),
        ("060102", "240305", D + "00:00:00.000000000"),
        ("06", "69", "1969-01-01 00:00:00.000000000"),  # 69 and later: 19xx
        ("06", "70", "1970-01-01 00:00:00.000000000"),
        ("06", "68", "2068-01-01 00:00:00.000000000"),  # before 69: 20xx
        ("06", "00", "2000-01-01 00:00:00.000000000"),
        ("2006-01-02T3PM", "2024-03-05T2PM", D + "14:00:00.000000000"),
        ("2006-01-02T3PM", "2024-03-05T9AM", D + "09:00:00.000000000"),
        ("2006-01-02T3PM", "2024-03-05T12PM", D + "12:00:00.000000000"),  # noon
        ("2006-01-02T3PM", "2024-03-05T12AM", D + "00:00:00.000000000"),  # midnight
        ("2006-01-02T3pm", "2024-03-05T2pm", D + "14:00:00.000000000"),
        ("2006-01-02T3pm", "2024-03-05T9am", D + "09:00:00.000000000"),
        ("2006-01-02T15PM", "2024-03-05T9PM", D + "21:00:00.000000000"),
        ("Mon 15:04.000 2006-01-02", "Tue 10:30.123 2024-03-05", D + "10:30:00.123000000"),
        ("Mon 15:04,000 2006-01-02", "Tue 10:30,123 2024-03-05", D + "10:30:00.123000000"),
        ("Mon 15:04.0 2006-01-02", "Tue 10:30.1 2024-03-05", D + "10:30:00.100000000"),
        ("Mon 15:04.999 2006-01-02", "Tue 10:30.12 2024-03-05", D + "10:30:00.120000000"),
        ("Mon 15:04.9 2006-01-02", "Tue 10:30 2024-03-05", D + "10:30:00.000000000"),  # omitted
        ("Mon 2006-01-02 15:04.9", "Tue 2024-03-05 10:30.123456789", D + "10:30:00.123456789"),
        ("Mon 2006-01-02 15:04.000", "Tue 2024-03-05 10:30.123", D + "10:30:00.123000000"),
    ],
)
def test_parse_without_zone(layout: str, value: str, expected: str) -> None:
    assert _parsed(layout, value, "Local") == expected


@pytest.mark.parametrize(
    ("layout", "value"),
    [
        ("2006 01", "2024 3"),  # 01 needs two digits
        ("2006-01-2", "2024-03- 5"),  # only _2 skips a space
        ("2006-01-02", "2024-03-5"),  # 02 needs two digits
        ("2006-01-02/002", "2024-03-05/65"),  # 002 needs three digits
        ("2006-01-02T03:04", "2024-03-05T9:30"),  # 03 needs two digits
        ("2006-01-02T15:04", "2024-03-05T10:7"),
        ("2006-01-02T15:04:05", "2024-03-05T10:30:9"),
        ("2006 Monday", "2024 Tue"),  # Monday needs the full name
        ("2006 Mon", "2024 Tuesday"),
        ("2006-01-02T15:04MST", "2024-03-05T10:00AB"),  # a zone name has at least 3 letters
        ("Mon 15:04.000 2006-01-02", "Tue 10:30.12 2024-03-05"),  # .000: exactly three digits
        ("Mon 15:04.000 2006-01-02", "Tue 10:30.1234 2024-03-05"),
    ],
)
def test_parse_refuses(layout: str, value: str) -> None:
    assert _kind(f'{{{{ mustToDate "{layout}" "{value}" }}}}') == "function failed"


# --- Parse: a zone in the value --------------------------------------------------------------


@pytest.mark.parametrize(
    ("layout", "value", "expected"),
    [
        ("2006-01-02T15:04MST", "2024-03-05T10:00UTC", D + "10:00:00.000000000"),  # UTC anywhere
        ("2006-01-02T15:04 MST", "2024-03-05T10:00 UTC", D + "10:00:00.000000000"),
        ("2006-01-02T15:04MST", "2024-03-05T10:00XST", D + "08:00:00.000000000"),  # the local zone
        ("15:04Z07:00 2006-01-02", "10:00Z 2024-03-05", D + "10:00:00.000000000"),
        ("2006-01-02T15:04Z07:00", "2024-03-05T10:00Z", D + "10:00:00.000000000"),
        ("2006-01-02T15:04-07:00", "2024-03-05T10:00-05:00", D + "15:00:00.000000000"),
        ("2006-01-02T15:04-07:00", "2024-03-05T10:00+05:30", D + "04:30:00.000000000"),
        ("2006-01-02T15:04:05-07:00:00", "2024-03-05T10:00:00+01:00:30", D + "08:59:30.000000000"),
        ("2006-01-02T15:04:05-07:00:00", "2024-03-05T10:00:00+00:00:01", D + "09:59:59.000000000"),
        ("2006-01-02T15:04-07", "2024-03-05T10:00+05", D + "05:00:00.000000000"),
        ("2006-01-02T15:04-0700", "2024-03-05T10:00-0000", D + "10:00:00.000000000"),
    ],
)
def test_parse_with_zone(layout: str, value: str, expected: str) -> None:
    assert _parsed(layout, value, "UTC") == expected


# --- Parse: Go's rules that parse_time once missed (format.go ``parse``; checked with go1.26.8) -----


@pytest.mark.parametrize(
    ("layout", "value", "zone", "expected"),
    [
        # the seconds element leaves a fraction to a .000 that follows it in the layout
        ("2006-01-02T15:04:05.000", "2024-03-05T10:30:09.123", "Local", D + "10:30:09.123000000"),
        # with PM, a 24-hour clock past noon stays as it is (Go adds 12 only below 12)
        ("2006-01-02T15PM", "2024-03-05T13PM", "Local", D + "13:00:00.000000000"),
        # the day of the year sets month and day
        ("2006-002", "2024-065", "Local", D + "00:00:00.000000000"),
        # __2 skips up to two spaces; layout spaces match runs of spaces
        ("2006-01-02/__2", "2024-03-05/ 65", "Local", D + "00:00:00.000000000"),
        ("2006 1 2", "2024  3  5", "Local", D + "00:00:00.000000000"),
        # an unknown zone abbreviation gets offset zero, not the local zone
        ("2006-01-02T15:04MST", "2024-03-05T10:00EST", "UTC", D + "10:00:00.000000000"),
        # parsing ",5" for .9 as a fraction, as for the seconds element
        ("Mon 2006-01-02 15:04.9", "Tue 2024-03-05 10:30,5", "Local", D + "10:30:00.500000000"),
    ],
)
def test_parse_as_go(layout: str, value: str, zone: str, expected: str) -> None:
    assert _parsed(layout, value, zone) == expected


@pytest.mark.parametrize(
    ("layout", "value", "expected"),
    [
        ("06-01-02 15:04", "+5-01-02 10:00", "2005-01-02 08:00:00.000000000"),  # 06 reads with atoi
        ("06-01-02 15:04", "-5-01-02 10:00", "1995-01-02 08:00:00.000000000"),
        ("2006-01-02 15:04:05.000", "2024-03-05 10:30:09.+12", D + "08:30:09.012000000"),
        ("2006-01-02 15:04:05", "2024-03-05 10:30:09,123456789123", D + "08:30:09.123456789"),
        ("2006 15:04:05.0000000000", "2024 10:30:09.123456789x", "2024-01-01 08:30:09.123456789"),
        ("2006-01-02 15:04 MST", "2024-03-05 10:00 GMT+3", D + "10:00:00.000000000"),
        ("2006-01-02 15:04 MST", "2024-03-05 10:00 +03", D + "10:00:00.000000000"),
        ("2006-01-02 15:04 MST", "2024-03-05 10:00 ChST", D + "10:00:00.000000000"),
        ("2006-01-02 15:04 MST", "2024-03-05 10:00 WITA", D + "10:00:00.000000000"),
        ("2006-01-02 15:04 MST", "2024-03-05 10:00 ABCDT", D + "10:00:00.000000000"),
        ("2006-01-02 15:04 MST -0700", "2024-03-05 10:00 EST -0500", D + "15:00:00.000000000"),
        ("2006-01-02 15:04 Z0700 MST", "2024-03-05 10:00 Z EST", D + "10:00:00.000000000"),
        ("2006-01-02 15:04 ", "2024-03-05 10:00", D + "08:00:00.000000000"),  # spaces match none at the end
        ("2006 002", "2024 060", "2024-02-28 22:00:00.000000000"),  # day 60 of a leap year
        ("2006 002 2", "2024 061 1", "2024-02-29 22:00:00.000000000"),
        ("2006 3 PM", "2024 0 PM", "2024-01-01 10:00:00.000000000"),
        ("2006 3 PM", "2024 12 AM", "2023-12-31 22:00:00.000000000"),
        ("2006 Jan Mon", "2024 mAR tUE", "2024-02-29 22:00:00.000000000"),  # names ignore case
        ("2006 .9", "2024 ,123", "2023-12-31 22:00:00.123000000"),
    ],
)
def test_parse_more_as_go(layout: str, value: str, expected: str) -> None:
    assert _parsed(layout, value, "UTC") == expected


@pytest.mark.parametrize(
    ("layout", "value", "expected"),
    [
        # an unknown abbreviation relabels the time as UTC read (Go's setLoc), GMT+h with h hours
        ("2006-01-02 15:04 MST", "2024-03-05 10:00 GMT+3", D + "13:00:00 +0300 GMT+3"),
        ("2006-01-02 15:04 MST", "2024-03-05 10:00 +03", D + "10:00:00 +0000 +03"),
        ("2006-01-02 15:04 MST", "2024-03-05 10:00 EST", D + "10:00:00 +0000 EST"),
        ("2006-01-02 15:04 MST", "2024-03-05 10:00 XST", D + "10:00:00 +0200 XST"),  # the local zone's
        ("2006-01-02 15:04 MST -0700", "2024-03-05 10:00 EST -0500", D + "10:00:00 -0500 EST"),
        ("2006-01-02 15:04 MST -0700", "2024-03-05 10:00 XST +0200", D + "10:00:00 +0200 XST"),
        ("2006-01-02 15:04 -0700", "2024-03-05 10:00 +0000", D + "10:00:00 +0000 +0000"),  # FixedZone("")
        ("2006-01-02 15:04 -0700", "2024-03-05 10:00 +0200", D + "10:00:00 +0200 XST"),
    ],
)
def test_parse_keeps_the_zone_as_go(layout: str, value: str, expected: str) -> None:
    t = goparse.parse_time(layout, value, LOCAL)
    assert gotime.format_time(t, "2006-01-02 15:04:05 -0700 MST") == expected


@pytest.mark.parametrize(
    ("layout", "value"),
    [
        ("2006-01-02T3PM", "2024-03-05T9am"),  # PM matches only "AM"/"PM", case and all
        ("2006-01-02T3pm", "2024-03-05T9PM"),
        ("2006-01-02/002", "2024-03-05/066"),  # the day of the year must agree
        ("2006-01-02T15:04-07:00", "2024-03-05T10:00+0530"),  # -07:00 needs the colon
        ("2006-01-02T15:04-07", "2024-03-05T10:00+0530"),  # -07 takes the hours only
        ("2006-01-02 15:04:05 .000", "2024-03-05 10:30:09.123 .456"),  # the fraction waits for .000
        ("2006-01-02 15:04 MST", "2024-03-05 10:00 ABCD"),  # four letters need a final T
        ("2006-01-02 15:04 MST", "2024-03-05 10:00 ABCDEF"),  # six are too many
        ("2006-01-02 15:04 -0700", "2024-03-05 10:00 +2500"),  # offset hours up to 24
        ("2006-01-02 15:04", "2024-03-05 10:00 "),
        ("2006 002", "2023 366"),
        ("2006 01 02", "2024 0\u0663 05"),  # ASCII digits only
        ("2006 1 _2", "2023 2 29"),
        ("2006 15:04:05.0000000000", "2024 10:30:09.123456789\u00e9"),  # Go counts UTF-8 bytes
    ],
)
def test_parse_refuses_as_go(layout: str, value: str) -> None:
    with pytest.raises(ValueError):
        goparse.parse_time(layout, value, LOCAL)
    assert _kind(f'{{{{ mustToDate "{layout}" "{value}" }}}}') == "function failed"


# --- Go behaviour this port does not have yet ------------------------------------------------


@pytest.mark.xfail(strict=True, reason="datetime has no year 0, Go's default year when parsing")
def test_parse_default_year_is_zero() -> None:
    assert _parsed("15:04", "10:30", "Local") == "0000-01-01 10:30:00.000000000"
