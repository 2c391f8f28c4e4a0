"""Go's ``time`` package where templates meet it: zones, layouts, durations.

Why a port: Sprig users write Go layouts (``2006-01-02 15:04:05``), not ``strftime``,
and read Go's ``Duration.String`` (``1h1m1s``) and ``Time.String``. Formatting covers
every layout element; parsing covers the numeric, name and zone elements. Zone names
are checked before the system zone database is consulted.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import zoneinfo

from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.values import GoTime

UTC = dt.UTC
ZERO_TIME = GoTime(dt.datetime(1, 1, 1, tzinfo=UTC))
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def local_zone() -> dt.tzinfo:
    return dt.datetime.now().astimezone().tzinfo or UTC


def load_zone(name: str) -> dt.tzinfo:
    """Go's ``time.LoadLocation``; unknown names fall back to UTC as Sprig does."""
    if name == "Local":
        return local_zone()
    if name in ("", "UTC"):
        return UTC
    if len(name) > 64 or ".." in name or not _ZONE_NAME.fullmatch(name):
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except Exception:
        return UTC


def now() -> GoTime:
    ns = time.time_ns()
    return GoTime(
        dt.datetime.fromtimestamp(ns // 1_000_000_000, local_zone()).replace(
            microsecond=(ns // 1000) % 1_000_000
        ),
        ns % 1000,
    )


def from_unix(sec: int, tz: dt.tzinfo) -> GoTime:
    try:
        return GoTime(dt.datetime.fromtimestamp(sec, tz))
    except (OverflowError, OSError, ValueError):
        raise Fault("function failed") from None


# --- layouts --------------------------------------------------------------------------------

_STD0X = ["01", "02", "03", "04", "05", "06"]


def _chunks(layout: str) -> list[tuple[str, str]]:
    """Go's ``nextStdChunk`` over the whole layout: (literal prefix, element) pairs."""
    out: list[tuple[str, str]] = []
    start = 0
    i = 0
    n = len(layout)

    def emit(std: str, end: int, lit_end: int | None = None) -> None:
        nonlocal start, i
        out.append((layout[start : i if lit_end is None else lit_end], std))
        start = i = end

    while i < n:
        c = layout[i]
        rest = layout[i:]
        if c == "J" and rest.startswith("Jan"):
            if rest.startswith("January"):
                emit("January", i + 7)
                continue
            if not (len(rest) > 3 and "a" <= rest[3] <= "z"):
                emit("Jan", i + 3)
                continue
        elif c == "M" and len(rest) >= 3:
            if rest.startswith("Mon"):
                if rest.startswith("Monday"):
                    emit("Monday", i + 6)
                    continue
                if not (len(rest) > 3 and "a" <= rest[3] <= "z"):
                    emit("Mon", i + 3)
                    continue
            if rest.startswith("MST"):
                emit("MST", i + 3)
                continue
        elif c == "0":
            if len(rest) >= 2 and "1" <= rest[1] <= "6":
                emit(rest[:2], i + 2)
                continue
            if rest.startswith("002"):
                emit("002", i + 3)
                continue
        elif c == "1":
            if rest.startswith("15"):
                emit("15", i + 2)
            else:
                emit("1", i + 1)
            continue
        elif c == "2":
            if rest.startswith("2006"):
                emit("2006", i + 4)
            else:
                emit("2", i + 1)
            continue
        elif c == "_":
            if rest.startswith("_2"):
                if rest.startswith("_2006"):
                    emit("2006", i + 5, i + 1)
                else:
                    emit("_2", i + 2)
                continue
            if rest.startswith("__2"):
                emit("__2", i + 3)
                continue
        elif c in "345":
            emit(c, i + 1)
            continue
        elif c == "P" and rest.startswith("PM"):
            emit("PM", i + 2)
            continue
        elif c == "p" and rest.startswith("pm"):
            emit("pm", i + 2)
            continue
        elif c in "-Z":
            for tok in ("070000", "07:00:00", "0700", "07:00", "07"):
                if rest.startswith(c + tok):
                    emit(c + tok, i + 1 + len(tok))
                    break
            else:
                i += 1
                continue
            continue
        elif c in ".," and len(rest) > 1 and rest[1] in "09":
            ch = rest[1]
            j = 1
            while j < len(rest) and rest[j] == ch:
                j += 1
            if not (j < len(rest) and rest[j].isdigit()):
                emit(c + rest[1:j], i + j)
                continue
        i += 1
    if start < n:
        out.append((layout[start:], ""))
    return out


def _offset_text(secs: int, std: str) -> str:
    if std.startswith("Z") and secs == 0:
        return "Z"
    sign = "-" if secs < 0 else "+"
    secs = abs(secs)
    h, m, s = secs // 3600, (secs // 60) % 60, secs % 60
    body = std[1:]
    if body == "07":
        return f"{sign}{h:02d}"
    if body == "0700":
        return f"{sign}{h:02d}{m:02d}"
    if body == "07:00":
        return f"{sign}{h:02d}:{m:02d}"
    if body == "070000":
        return f"{sign}{h:02d}{m:02d}{s:02d}"
    return f"{sign}{h:02d}:{m:02d}:{s:02d}"


def format_time(t: GoTime, layout: str) -> str:
    """Go's ``time.Time.Format``."""
    d = t.dt
    off = d.utcoffset()
    off_secs = int(off.total_seconds()) if off is not None else 0
    nanos = d.microsecond * 1000 + t.nanos
    out: list[str] = []
    for lit, std in _chunks(layout):
        out.append(lit)
        if not std:
            continue
        if std == "January":
            out.append(_MONTHS[d.month - 1])
        elif std == "Jan":
            out.append(_MONTHS[d.month - 1][:3])
        elif std == "1":
            out.append(str(d.month))
        elif std == "01":
            out.append(f"{d.month:02d}")
        elif std == "Monday":
            out.append(_DAYS[d.weekday()])
        elif std == "Mon":
            out.append(_DAYS[d.weekday()][:3])
        elif std == "2":
            out.append(str(d.day))
        elif std == "_2":
            out.append(f"{d.day:2d}")
        elif std == "02":
            out.append(f"{d.day:02d}")
        elif std == "__2":
            out.append(f"{d.timetuple().tm_yday:3d}")
        elif std == "002":
            out.append(f"{d.timetuple().tm_yday:03d}")
        elif std == "15":
            out.append(f"{d.hour:02d}")
        elif std in ("3", "03"):
            h = d.hour % 12 or 12
            out.append(str(h) if std == "3" else f"{h:02d}")
        elif std in ("4", "04"):
            out.append(str(d.minute) if std == "4" else f"{d.minute:02d}")
        elif std in ("5", "05"):
            out.append(str(d.second) if std == "5" else f"{d.second:02d}")
        elif std == "2006":
            out.append(f"{d.year:04d}")
        elif std == "06":
            out.append(f"{d.year % 100:02d}")
        elif std in ("PM", "pm"):
            ampm = "PM" if d.hour >= 12 else "AM"
            out.append(ampm if std == "PM" else ampm.lower())
        elif std == "MST":
            name = d.tzname() or ""
            if not name or name[0] in "+-" or (name.startswith("UTC") and name != "UTC"):
                name = _offset_text(off_secs, "-0700")
            out.append(name)
        elif std[0] in "-Z":
            out.append(_offset_text(off_secs, std))
        else:  # fractional seconds
            digits = f"{nanos:09d}"[: len(std) - 1]
            if std[1] == "9":
                digits = digits.rstrip("0")
                if digits:
                    out.append(std[0] + digits)
            else:
                out.append(std[0] + digits)
    return "".join(out)


def parse_time(layout: str, value: str, tz: dt.tzinfo) -> GoTime:
    """A subset of Go's ``time.ParseInLocation``; raises ValueError when it cannot parse."""
    fields: dict[str, int] = {
        "year": 1,
        "month": 1,
        "day": 1,
        "hour": 0,
        "minute": 0,
        "second": 0,
        "nanos": 0,
    }
    pm: bool | None = None
    offset: int | None = None
    pos = 0

    def number(minimum: int, maximum: int) -> int:
        nonlocal pos
        j = pos
        if j < len(value) and value[j] in "+-" and maximum > 4:
            j += 1
        while j < len(value) and value[j].isdigit() and j - pos < maximum:
            j += 1
        if j - pos < minimum:
            raise ValueError
        n = int(value[pos:j])
        pos = j
        return n

    def name(options: list[str]) -> int:
        nonlocal pos
        for k, opt in enumerate(options):
            if value[pos : pos + len(opt)].lower() == opt.lower():
                pos += len(opt)
                return k
        raise ValueError

    for lit, std in _chunks(layout):
        if value[pos : pos + len(lit)] != lit:
            raise ValueError
        pos += len(lit)
        if not std:
            continue
        if std == "January":
            fields["month"] = name(_MONTHS) + 1
        elif std == "Jan":
            fields["month"] = name([m[:3] for m in _MONTHS]) + 1
        elif std in ("1", "01"):
            fields["month"] = number(2 if std == "01" else 1, 2)
        elif std in ("Monday", "Mon"):
            name(_DAYS if std == "Monday" else [d[:3] for d in _DAYS])
        elif std in ("2", "_2", "02"):
            if std == "_2" and value[pos : pos + 1] == " ":
                pos += 1
            fields["day"] = number(2 if std == "02" else 1, 2)
        elif std in ("__2", "002"):
            number(3 if std == "002" else 1, 3)
        elif std == "15":
            fields["hour"] = number(1, 2)
        elif std in ("3", "03"):
            fields["hour"] = number(2 if std == "03" else 1, 2)
        elif std in ("4", "04"):
            fields["minute"] = number(2 if std == "04" else 1, 2)
        elif std in ("5", "05"):
            fields["second"] = number(2 if std == "05" else 1, 2)
            if value[pos : pos + 1] in (".", ",") and value[pos + 1 : pos + 2].isdigit():
                pos += 1
                start = pos
                while pos < len(value) and value[pos].isdigit():
                    pos += 1
                fields["nanos"] = int((value[start:pos] + "000000000")[:9])
        elif std == "2006":
            fields["year"] = number(4, 4)
        elif std == "06":
            y = number(2, 2)
            fields["year"] = y + (1900 if y >= 69 else 2000)
        elif std in ("PM", "pm"):
            pm = name(["AM", "PM"]) == 1
        elif std == "MST":
            j = pos
            while j < len(value) and value[j].isalpha():
                j += 1
            if j - pos < 3:
                raise ValueError
            if value[pos:j] == "UTC":
                offset = 0
            pos = j
        elif std[0] in "-Z":
            if std[0] == "Z" and value[pos : pos + 1] == "Z":
                pos += 1
                offset = 0
                continue
            m = re.match(r"([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?", value[pos:])
            if not m:
                raise ValueError
            pos += m.end()
            sign = -1 if m.group(1) == "-" else 1
            offset = sign * (int(m.group(2)) * 3600 + int(m.group(3) or 0) * 60 + int(m.group(4) or 0))
        else:
            if value[pos : pos + 1] != std[0]:
                if std[1] == "9":
                    continue
                raise ValueError
            pos += 1
            start = pos
            while pos < len(value) and value[pos].isdigit():
                pos += 1
            if std[1] == "0" and pos - start != len(std) - 1:
                raise ValueError
            fields["nanos"] = int((value[start:pos] + "000000000")[:9])
    if pos != len(value):
        raise ValueError
    hour = fields["hour"]
    if pm is not None:
        if hour > 12:
            raise ValueError
        hour = hour % 12 + (12 if pm else 0)
    zone: dt.tzinfo = (
        tz if offset is None else (UTC if offset == 0 else dt.timezone(dt.timedelta(seconds=offset)))
    )
    nanos = fields["nanos"]
    d = dt.datetime(
        fields["year"],
        fields["month"],
        fields["day"],
        hour,
        fields["minute"],
        fields["second"],
        nanos // 1000,
        zone,
    )
    return GoTime(d, nanos % 1000)


# --- durations ---------------------------------------------------------------------------------

_UNITS = {
    "ns": 1,
    "us": 1000,
    "µs": 1000,
    "μs": 1000,
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}
_MAX = 1 << 63


def _leading_int(s: str, pos: int) -> tuple[int, int]:
    """Go's ``leadingInt``: the digits at ``pos`` as an integer (ValueError past 1<<63), the end."""
    x = 0
    while pos < len(s) and "0" <= s[pos] <= "9":
        if x > _MAX // 10:
            raise ValueError
        x = x * 10 + ord(s[pos]) - 48
        if x > _MAX:
            raise ValueError
        pos += 1
    return x, pos


def _leading_fraction(s: str, pos: int) -> tuple[int, float, int]:
    """Go's ``leadingFraction``: digits after the dot, the power of ten they scale by, the end.
    Digits past what fits are skipped, not an error."""
    x, scale, overflow = 0, 1.0, False
    while pos < len(s) and "0" <= s[pos] <= "9":
        if not overflow:
            y = x * 10 + ord(s[pos]) - 48
            if x > (_MAX - 1) // 10 or y > _MAX:
                overflow = True
            else:
                x, scale = y, scale * 10
        pos += 1
    return x, scale, pos


def parse_duration(s: str) -> int:
    """Go's ``time.ParseDuration`` in nanoseconds, step by step (integers, and Go's one float64
    for a fraction); ValueError when invalid. Linear in the length, as Go's."""
    neg = s[:1] == "-"
    if s[:1] in "+-":
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise ValueError
    total, pos = 0, 0
    while pos < len(s):
        if not (s[pos] == "." or "0" <= s[pos] <= "9"):
            raise ValueError
        start = pos
        whole, pos = _leading_int(s, pos)
        digits_before = pos != start
        frac, scale, digits_after = 0, 1.0, False
        if pos < len(s) and s[pos] == ".":
            start = pos + 1
            frac, scale, pos = _leading_fraction(s, start)
            digits_after = pos != start
        if not digits_before and not digits_after:
            raise ValueError
        start = pos
        while pos < len(s) and not (s[pos] == "." or "0" <= s[pos] <= "9"):
            pos += 1
        unit = _UNITS.get(s[start:pos])
        if unit is None:  # none, or not one of Go's
            raise ValueError
        if whole > _MAX // unit:
            raise ValueError
        value = whole * unit
        if frac > 0:
            # float64, as Go: nanosecond accurate for fractions of an hour
            value += int(float(frac) * (float(unit) / scale))
            if value > _MAX:
                raise ValueError
        total += value
        if total > _MAX:
            raise ValueError
    if not neg and total > _MAX - 1:
        raise ValueError
    return -total if neg else total


def duration_string(d: int) -> str:
    """Go's ``time.Duration.String``."""
    if d == 0:
        return "0s"
    neg = d < 0
    u = -d if neg else d
    if u < 10**9:
        for unit, scale in (("ns", 1), ("µs", 1000), ("ms", 1_000_000)):
            if u < scale * 1000:
                whole, frac = divmod(u, scale)
                text = str(whole)
                if frac:
                    text += "." + f"{frac:0{len(str(scale)) - 1}d}".rstrip("0")
                return ("-" if neg else "") + text + unit
    secs, frac = divmod(u, 10**9)
    text = ""
    if secs >= 3600:
        text += f"{secs // 3600}h"
    if secs >= 60:
        text += f"{(secs // 60) % 60}m"
    text += str(secs % 60)
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    return ("-" if neg else "") + text + "s"


def time_string(t: GoTime) -> str:
    """Go's ``time.Time.String()``: ``2006-01-02 15:04:05.999999999 -0700 MST``."""
    return format_time(t, "2006-01-02 15:04:05.999999999 -0700 MST")
