"""Go's ``time.Parse`` (``format.go`` ``parse``) where templates meet it: Sprig's ``toDate`` & co.

A port over the UTF-8 bytes of the value, as Go reads a string: Go's state (month, day and year
day unset, AM/PM, zone offset and name) and its end-of-parse steps in Go's order. Every scan is
linear in layout plus value, with no regular expression. Layouts are split by
:func:`secretsync.gotemplate.gotime.layout_chunks`, the same tokens ``Format`` uses.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from secretsync.gotemplate.gostrconv import to_bytes
from secretsync.gotemplate.gotime import DAYS, MONTHS, UTC, layout_chunks, leading_int
from secretsync.gotemplate.values import GoTime

_DAYS_BEFORE = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365)  # Go's daysBefore
_SHORT_MONTHS = [m[:3] for m in MONTHS]
_LONG_DAYS = ["Sunday", *DAYS[:6]]  # Go's longDayNames order
_SHORT_DAYS = [d[:3] for d in _LONG_DAYS]


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in(month: int, year: int) -> int:
    if month == 2:
        return 29 if _is_leap(year) else 28
    return _DAYS_BEFORE[month] - _DAYS_BEFORE[month - 1]


def _is_digit(v: bytes, i: int) -> bool:
    return i < len(v) and 48 <= v[i] <= 57


def _getnum(v: bytes, pos: int, fixed: bool) -> tuple[int, int]:
    """Go's ``getnum``: one or two digits at ``pos`` (``fixed``: exactly two); the number, the end."""
    if not _is_digit(v, pos):
        raise ValueError
    if not _is_digit(v, pos + 1):
        if fixed:
            raise ValueError
        return v[pos] - 48, pos + 1
    return (v[pos] - 48) * 10 + v[pos + 1] - 48, pos + 2


def _getnum3(v: bytes, pos: int, fixed: bool) -> tuple[int, int]:
    """Go's ``getnum3``: one to three digits (``fixed``: exactly three)."""
    num = i = 0
    while i < 3 and _is_digit(v, pos + i):
        num = num * 10 + v[pos + i] - 48
        i += 1
    if i == 0 or (fixed and i != 3):
        raise ValueError
    return num, pos + i


def _atoi(s: bytes) -> int:
    """Go's ``atoi`` in format.go: an optional sign, then digits only ("" and "-" are 0)."""
    neg = s[:1] == b"-"
    if s[:1] in (b"-", b"+"):
        s = s[1:]
    text = s.decode("latin-1")  # byte for byte; only ASCII digits pass
    x, end = leading_int(text, 0)
    if end != len(text):
        raise ValueError
    return -x if neg else x


def _lookup(table: list[str], v: bytes, pos: int) -> tuple[int, int]:
    """Go's ``lookup``: the first name that prefixes the value, ASCII letters compared without case
    (Go's ``match``); its index and the end."""
    for k, name in enumerate(table):
        end = pos + len(name)
        if end > len(v):
            continue
        for i, ch in enumerate(name.encode()):
            c = v[pos + i]
            if c != ch and not (c | 32 == ch | 32 and 97 <= c | 32 <= 122):
                break
        else:
            return k, end
    raise ValueError


def _parse_nanoseconds(v: bytes, pos: int, nbytes: int) -> int:
    """Go's ``parseNanoseconds``: a '.' or ',' then digits (at most nine read; Go's ``atoi``, so a
    sign passes and a negative fraction is out of range)."""
    if v[pos] not in b".,":
        raise ValueError
    nbytes = min(nbytes, 10)
    ns = _atoi(v[pos + 1 : pos + nbytes])
    if ns < 0:
        raise ValueError
    for _ in range(10 - nbytes):  # scale to nanoseconds
        ns *= 10
    return ns


def _signed_offset_length(v: bytes, pos: int) -> int:
    """Go's ``parseSignedOffset``: a sign and digits worth at most 23; their length, or 0."""
    if pos >= len(v) or v[pos] not in b"+-":
        return 0
    end, x = pos + 1, 0
    while _is_digit(v, end):
        x = x * 10 + v[end] - 48
        if x > 23:  # Go reads on to the last digit (or overflow) and then refuses the same
            return 0
        end += 1
    return 0 if end == pos + 1 else end - pos


def _zone_name_length(v: bytes, pos: int) -> int:
    """Go's ``parseTimeZone``: the length of the zone abbreviation at ``pos``, 0 when none. ChST and
    MeST; GMT with an optional signed hour (``parseGMT``); a bare signed hour (+03); otherwise
    three upper-case letters, or four or five ending in T (and WITA), but never six."""
    if len(v) - pos < 3:
        return 0
    if v.startswith((b"ChST", b"MeST"), pos):
        return 4
    if v.startswith(b"GMT", pos):
        return 3 + _signed_offset_length(v, pos + 3)
    if v[pos] in b"+-":
        return _signed_offset_length(v, pos)
    upper = 0
    while upper < 6 and pos + upper < len(v) and 65 <= v[pos + upper] <= 90:
        upper += 1
    if upper == 3:
        return 3
    if upper == 4 and (v[pos + 3] == 84 or v.startswith(b"WITA", pos)):  # 84: "T"
        return 4
    if upper == 5 and v[pos + 4] == 84:
        return 5
    return 0


def _skip(v: bytes, pos: int, prefix: bytes) -> int:
    """Go's ``skip``: the layout's literal text, where a run of spaces in the layout matches a run
    of spaces (maybe none at the end of the value) in the value."""
    i = 0
    while i < len(prefix):
        if prefix[i] == 32:
            if pos < len(v) and v[pos] != 32:
                raise ValueError
            while i < len(prefix) and prefix[i] == 32:
                i += 1
            while pos < len(v) and v[pos] == 32:
                pos += 1
            continue
        if pos >= len(v) or v[pos] != prefix[i]:
            raise ValueError
        i += 1
        pos += 1
    return pos


def _numeric_offset(v: bytes, pos: int, std: str) -> tuple[int, int]:
    """The numeric zone elements of Go's ``parse``: each reads a fixed shape (``-07:00`` needs
    the colon, ``-07`` reads the hours only); hours up to 24, minutes and seconds up to 60."""
    rest = len(v) - pos
    body = std[1:]
    if body == "07:00":
        if rest < 6 or v[pos + 3] != 58:  # 58: ":"
            raise ValueError
        hh, mm, ss, end = v[pos + 1 : pos + 3], v[pos + 4 : pos + 6], b"00", pos + 6
    elif body == "07":
        if rest < 3:
            raise ValueError
        hh, mm, ss, end = v[pos + 1 : pos + 3], b"00", b"00", pos + 3
    elif body == "07:00:00":
        if rest < 9 or v[pos + 3] != 58 or v[pos + 6] != 58:
            raise ValueError
        hh, mm, ss, end = v[pos + 1 : pos + 3], v[pos + 4 : pos + 6], v[pos + 7 : pos + 9], pos + 9
    elif body == "070000":
        if rest < 7:
            raise ValueError
        hh, mm, ss, end = v[pos + 1 : pos + 3], v[pos + 3 : pos + 5], v[pos + 5 : pos + 7], pos + 7
    else:  # 0700
        if rest < 5:
            raise ValueError
        hh, mm, ss, end = v[pos + 1 : pos + 3], v[pos + 3 : pos + 5], b"00", pos + 5
    hr, mi, se = _getnum(hh, 0, True)[0], _getnum(mm, 0, True)[0], _getnum(ss, 0, True)[0]
    if hr > 24 or mi > 60 or se > 60:
        raise ValueError
    offset = (hr * 60 + mi) * 60 + se
    if v[pos] == 45:  # "-"
        offset = -offset
    elif v[pos] != 43:  # "+"
        raise ValueError
    return offset, end


def _lookup_name(tz: dt.tzinfo, name: str, wall: dt.datetime) -> int | None:
    """Go's ``Location.lookupName``: the offset of the local zone's abbreviation ``name``, first as in
    effect at the wall time, else anywhere in the zone. A tzinfo lists no zones, so "anywhere" is
    looked for on 1 January and 1 July of that year (standard and daylight time)."""
    for probe in (wall, wall.replace(fold=1), wall.replace(month=1, day=1), wall.replace(month=7, day=1)):
        d = probe.replace(tzinfo=tz)
        off = d.utcoffset()
        if off is not None and d.tzname() == name:
            return int(off.total_seconds())
    return None


class _Fields(NamedTuple):
    """What Go's ``parse`` has read once every check passed, before it builds the time."""

    year: int
    year_set: bool
    month: int
    day: int
    hour: int
    minute: int
    sec: int
    nsec: int
    z_utc: bool
    zone_offset: int | None
    zone_name: str


def parses(layout: str, value: str) -> bool:
    """Go's ``time.Parse(layout, value)`` returns no error (yaml.v2's timestamp test).

    Go's checks only: a year (0 included) that datetime cannot hold still parses."""
    try:
        _fields(layout, value)
    except ValueError:
        return False
    return True


def parse_time(layout: str, value: str, tz: dt.tzinfo) -> GoTime:
    """Go's ``time.ParseInLocation(layout, value, tz)`` (format.go ``parse``); ValueError when Go
    returns an error. Works on the UTF-8 bytes, so lengths are Go's; linear in layout and value.
    Go's default year is 0, which datetime cannot hold: the checks use year 0 as Go does, and the
    time is then built in year 1 (a parsed year 0, or 29 February of the default year, fails)."""
    return _build(_fields(layout, value), tz)


def _fields(layout: str, value: str) -> _Fields:
    """Go's ``parse`` up to building the time: every check, ValueError where Go errs."""
    v = to_bytes(value)
    n = len(v)
    chunks = layout_chunks(layout)
    year, month, day, yday = 0, -1, -1, -1
    year_set = False
    hour = minute = sec = nsec = 0
    am_set = pm_set = z_utc = False
    zone_offset: int | None = None
    zone_name = ""
    pos = 0
    for k, (lit, std) in enumerate(chunks):
        pos = _skip(v, pos, to_bytes(lit))
        if not std:
            continue
        if std == "06":
            if n - pos < 2:
                raise ValueError
            year = _atoi(v[pos : pos + 2])  # Go's atoi: "+5" and "-5" pass
            year += 1900 if year >= 69 else 2000
            year_set = True
            pos += 2
        elif std == "2006":
            if n - pos < 4 or not _is_digit(v, pos):
                raise ValueError
            year = _atoi(v[pos : pos + 4])
            year_set = True
            pos += 4
        elif std in ("January", "Jan"):
            month, pos = _lookup(MONTHS if std == "January" else _SHORT_MONTHS, v, pos)
            month += 1
        elif std in ("1", "01"):
            month, pos = _getnum(v, pos, std == "01")
            if not 1 <= month <= 12:
                raise ValueError
        elif std in ("Monday", "Mon"):
            pos = _lookup(_LONG_DAYS if std == "Monday" else _SHORT_DAYS, v, pos)[1]
        elif std in ("2", "_2", "02"):
            if std == "_2" and pos < n and v[pos] == 32:
                pos += 1
            day, pos = _getnum(v, pos, std == "02")
        elif std in ("__2", "002"):
            if std == "__2":  # up to two spaces
                for _ in range(2):
                    if pos < n and v[pos] == 32:
                        pos += 1
            yday, pos = _getnum3(v, pos, std == "002")
        elif std == "15":
            hour, pos = _getnum(v, pos, False)
            if hour >= 24:
                raise ValueError
        elif std in ("3", "03"):
            hour, pos = _getnum(v, pos, std == "03")
            if hour > 12:
                raise ValueError
        elif std in ("4", "04"):
            minute, pos = _getnum(v, pos, std == "04")
            if minute >= 60:
                raise ValueError
        elif std in ("5", "05"):
            sec, pos = _getnum(v, pos, std == "05")
            if sec >= 60:
                raise ValueError
            # Go: a fraction after the seconds is read here unless the layout's next element is one
            nxt = chunks[k + 1][1] if k + 1 < len(chunks) else ""
            if n - pos >= 2 and v[pos] in b".," and _is_digit(v, pos + 1) and nxt[:1] not in (".", ","):
                end = pos + 2
                while _is_digit(v, end):
                    end += 1
                nsec = _parse_nanoseconds(v, pos, end - pos)
                pos = end
        elif std in ("PM", "pm"):
            if n - pos < 2:
                raise ValueError
            mark = v[pos : pos + 2].decode("latin-1")
            pos += 2
            if mark == ("PM" if std == "PM" else "pm"):  # the layout's case only
                pm_set = True
            elif mark == ("AM" if std == "PM" else "am"):
                am_set = True
            else:
                raise ValueError
        elif std == "MST":
            if v.startswith(b"UTC", pos):
                z_utc = True
                pos += 3
                continue
            length = _zone_name_length(v, pos)
            if length == 0:
                raise ValueError
            zone_name = v[pos : pos + length].decode("ascii")
            pos += length
        elif std[0] in "-Z":
            if std[0] == "Z" and pos < n and v[pos] == 90:  # "Z"
                z_utc = True
                pos += 1
                continue
            zone_offset, pos = _numeric_offset(v, pos, std)
        elif std[1] == "0":  # Go: exactly as many digits as the layout has (digitsLen keeps 12 bits)
            ndigit = 1 + ((len(std) - 1) & 0xFFF)
            if n - pos < ndigit:
                raise ValueError
            nsec = _parse_nanoseconds(v, pos, ndigit)
            pos += ndigit
        else:  # .9: optional, and any number of digits
            if n - pos < 2 or v[pos] not in b".," or not _is_digit(v, pos + 1):
                continue
            end = pos + 2
            while _is_digit(v, end):
                end += 1
            nsec = _parse_nanoseconds(v, pos, end - pos)
            pos = end
    if pos != n:
        raise ValueError
    if pm_set and hour < 12:
        hour += 12
    elif am_set and hour == 12:
        hour = 0
    if yday >= 0:  # Go: the day of the year sets month and day, which must agree if given
        m = d = 0
        if _is_leap(year):
            if yday == 31 + 29:
                m, d = 2, 29
            elif yday > 31 + 29:
                yday -= 1
        if not 1 <= yday <= 365:
            raise ValueError
        if m == 0:
            m = (yday - 1) // 31 + 1
            if _DAYS_BEFORE[m] < yday:
                m += 1
            d = yday - _DAYS_BEFORE[m - 1]
        if (month >= 0 and month != m) or (day >= 0 and day != d):
            raise ValueError
        month, day = m, d
    else:
        month = 1 if month < 0 else month
        day = 1 if day < 0 else day
    if not 1 <= day <= _days_in(month, year):
        raise ValueError
    if zone_offset == -1:  # Go's "unset" is an offset of -1: a zone of exactly -1 s is none
        zone_offset = None
    return _Fields(year, year_set, month, day, hour, minute, sec, nsec, z_utc, zone_offset, zone_name)


def _build(f: _Fields, tz: dt.tzinfo) -> GoTime:
    """The time Go's ``parse`` builds from what it read (``Date`` in UTC, a fixed or the local zone)."""
    year, month, day, hour, minute, sec, nsec = f.year, f.month, f.day, f.hour, f.minute, f.sec, f.nsec
    z_utc, zone_offset, zone_name = f.z_utc, f.zone_offset, f.zone_name
    wall = dt.datetime(year if f.year_set else 1, month, day, hour, minute, sec, nsec // 1000)
    if z_utc:
        t = wall.replace(tzinfo=UTC)
    elif zone_offset is not None:
        if abs(zone_offset) >= 86400:  # Go takes up to 24:60:60; datetime holds no such zone: UTC
            t = (wall.replace(tzinfo=UTC) - dt.timedelta(seconds=zone_offset)).astimezone(UTC)
        else:
            # Go: the local zone if it has that offset (and name) at that instant, else FixedZone
            t = wall.replace(tzinfo=dt.timezone(dt.timedelta(seconds=zone_offset), zone_name))
            local = t.astimezone(tz)
            off = local.utcoffset()
            same = off is not None and int(off.total_seconds()) == zone_offset
            if same and (not zone_name or local.tzname() == zone_name):
                t = local
    elif zone_name:
        # Go: the local zone's offset for that abbreviation; an unknown one is offset 0 (GMT+h: h)
        found = _lookup_name(tz, zone_name, wall)
        if found is not None:
            t = (wall.replace(tzinfo=UTC) - dt.timedelta(seconds=found)).astimezone(tz)
        else:
            hours = _atoi(zone_name[3:].encode()) if len(zone_name) > 3 and zone_name[:3] == "GMT" else 0
            # Go's setLoc relabels without moving the instant: the wall time is read as UTC
            t = wall.replace(tzinfo=UTC).astimezone(dt.timezone(dt.timedelta(hours=hours), zone_name))
    else:
        t = wall.replace(tzinfo=tz)
    return GoTime(t, nsec % 1000)
