"""Go's ``time`` package where templates meet it: zones, layouts, durations.

Why a port: Sprig users write Go layouts (``2006-01-02 15:04:05``), not ``strftime``,
and read Go's ``Duration.String`` (``1h1m1s``) and ``Time.String``. Formatting covers
every layout element; parsing (Go's ``time.Parse``) is in :mod:`secretsync.gotemplate.goparse`.
Zone names are checked before the system zone database is consulted.
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
MONTHS = [
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
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


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


def layout_chunks(layout: str) -> list[tuple[str, str]]:
    """Go's ``nextStdChunk`` over the whole layout: (literal prefix, element) pairs.

    Linear in the layout: tokens are matched in place (``startswith`` at an index), never on a
    copy of the rest of the layout."""
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
        if c == "J" and layout.startswith("Jan", i):
            if layout.startswith("January", i):
                emit("January", i + 7)
                continue
            if not (i + 3 < n and "a" <= layout[i + 3] <= "z"):
                emit("Jan", i + 3)
                continue
        elif c == "M" and n - i >= 3:
            if layout.startswith("Mon", i):
                if layout.startswith("Monday", i):
                    emit("Monday", i + 6)
                    continue
                if not (i + 3 < n and "a" <= layout[i + 3] <= "z"):
                    emit("Mon", i + 3)
                    continue
            if layout.startswith("MST", i):
                emit("MST", i + 3)
                continue
        elif c == "0":
            if i + 1 < n and "1" <= layout[i + 1] <= "6":
                emit(layout[i : i + 2], i + 2)
                continue
            if layout.startswith("002", i):
                emit("002", i + 3)
                continue
        elif c == "1":
            if layout.startswith("15", i):
                emit("15", i + 2)
            else:
                emit("1", i + 1)
            continue
        elif c == "2":
            if layout.startswith("2006", i):
                emit("2006", i + 4)
            else:
                emit("2", i + 1)
            continue
        elif c == "_":
            if layout.startswith("_2", i):
                if layout.startswith("_2006", i):
                    emit("2006", i + 5, i + 1)
                else:
                    emit("_2", i + 2)
                continue
            if layout.startswith("__2", i):
                emit("__2", i + 3)
                continue
        elif c in "345":
            emit(c, i + 1)
            continue
        elif c == "P" and layout.startswith("PM", i):
            emit("PM", i + 2)
            continue
        elif c == "p" and layout.startswith("pm", i):
            emit("pm", i + 2)
            continue
        elif c in "-Z":
            for tok in ("070000", "07:00:00", "0700", "07:00", "07"):
                if layout.startswith(tok, i + 1):
                    emit(c + tok, i + 1 + len(tok))
                    break
            else:
                i += 1
                continue
            continue
        elif c in ".," and i + 1 < n and layout[i + 1] in "09":
            ch = layout[i + 1]
            j = i + 1
            while j < n and layout[j] == ch:
                j += 1
            if not (j < n and "0" <= layout[j] <= "9"):
                emit(layout[i:j], j)
                continue
        i += 1
    if start < n:
        out.append((layout[start:], ""))
    return out


def _go_int(x: int, width: int) -> str:
    """Go's ``appendInt(b, x, width)``: a negative number keeps its "-" before the padded digits."""
    return ("-" if x < 0 else "") + f"{abs(x):0{width}d}"


def _offset_text(secs: int, std: str) -> str:
    """Go's appendFormat for the numeric zones: the sign is that of the offset in whole minutes
    (truncated toward zero), so an offset of -1 to -59 s prints "+00:00:-01" as Go prints it."""
    if std.startswith("Z") and secs == 0:
        return "Z"
    zone = -(-secs // 60) if secs < 0 else secs // 60
    absoffset = secs
    sign = "+"
    if zone < 0:
        sign, zone, absoffset = "-", -zone, -absoffset
    h, m = _go_int(zone // 60, 2), _go_int(zone % 60, 2)
    s = _go_int(absoffset % 60 if absoffset >= 0 else -(-absoffset % 60), 2)
    body = std[1:]
    if body == "07":
        return f"{sign}{h}"
    if body == "0700":
        return f"{sign}{h}{m}"
    if body == "07:00":
        return f"{sign}{h}:{m}"
    if body == "070000":
        return f"{sign}{h}{m}{s}"
    return f"{sign}{h}:{m}:{s}"


def format_time(t: GoTime, layout: str) -> str:
    """Go's ``time.Time.Format``."""
    d = t.dt
    off = d.utcoffset()
    off_secs = int(off.total_seconds()) if off is not None else 0
    nanos = d.microsecond * 1000 + t.nanos
    out: list[str] = []
    for lit, std in layout_chunks(layout):
        out.append(lit)
        if not std:
            continue
        if std == "January":
            out.append(MONTHS[d.month - 1])
        elif std == "Jan":
            out.append(MONTHS[d.month - 1][:3])
        elif std == "1":
            out.append(str(d.month))
        elif std == "01":
            out.append(f"{d.month:02d}")
        elif std == "Monday":
            out.append(DAYS[d.weekday()])
        elif std == "Mon":
            out.append(DAYS[d.weekday()][:3])
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
            # Go's stdTZ: the abbreviation as it is, even a numeric one (-03), else -0700; a
            # datetime.timezone without a name calls itself "UTC+02:00", which Go's has not
            if not name or (name.startswith("UTC") and name != "UTC"):
                name = _offset_text(off_secs, "-0700")
            out.append(name)
        elif std[0] in "-Z":
            out.append(_offset_text(off_secs, std))
        else:  # fractional seconds
            digits = f"{nanos:09d}"[: (len(std) - 1) & 0xFFF]  # Go's digitsLen keeps 12 bits
            if std[1] == "9":
                digits = digits.rstrip("0")
                if digits:
                    out.append(std[0] + digits)
            else:
                out.append(std[0] + digits)
    return "".join(out)


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


def leading_int(s: str, pos: int) -> tuple[int, int]:
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
        whole, pos = leading_int(s, pos)
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
