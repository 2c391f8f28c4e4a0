"""Sprig's date functions (``date.go``) over :mod:`secretsync.gotemplate.gotime`.

Bad layouts or values give Go's zero time where Sprig ignores errors (``toDate``),
and fail where Sprig's ``must`` variants would.
"""

from __future__ import annotations

import datetime as dt

from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs.spec import Table, alias, register
from secretsync.gotemplate.goparse import parse_time
from secretsync.gotemplate.gostrconv import parse_int, wrap64
from secretsync.gotemplate.gotime import (
    UTC,
    ZERO_TIME,
    duration_string,
    format_time,
    from_unix,
    load_zone,
    local_zone,
    now,
    parse_duration,
)
from secretsync.gotemplate.limits import Budget
from secretsync.gotemplate.values import GoTime, Value

DATES: Table = {}


# --- functions ------------------------------------------------------------------------------


def _as_time(v: Value, tz: dt.tzinfo) -> GoTime:
    if isinstance(v, GoTime):
        return v
    if isinstance(v, int) and not isinstance(v, bool):
        return from_unix(v, tz)
    return now()


def _in_zone(t: GoTime, tz: dt.tzinfo) -> GoTime:
    try:
        return GoTime(t.dt.astimezone(tz), t.nanos)
    except (OverflowError, ValueError):
        raise Fault("function failed") from None


@register(DATES, "now")
def now_(budget: Budget) -> GoTime:
    return now()


@register(DATES, "dateInZone", "str", "any", "str")
def date_in_zone(budget: Budget, layout: str, date: Value, zone: str) -> str:
    budget.bytes_step(len(layout) * 4)
    budget.check_size(len(layout) * 8)
    tz = load_zone(zone)
    return format_time(_in_zone(_as_time(date, tz), tz), layout)


alias(DATES, "date_in_zone", "dateInZone")


@register(DATES, "date", "str", "any")
def date(budget: Budget, layout: str, d: Value) -> str:
    return date_in_zone(budget, layout, d, "Local")


@register(DATES, "htmlDate", "any")
def html_date(budget: Budget, d: Value) -> str:
    return date_in_zone(budget, "2006-01-02", d, "Local")


@register(DATES, "htmlDateInZone", "any", "str")
def html_date_in_zone(budget: Budget, d: Value, zone: str) -> str:
    return date_in_zone(budget, "2006-01-02", d, zone)


@register(DATES, "toDate", "str", "str")
def to_date(budget: Budget, layout: str, value: str) -> GoTime:
    budget.bytes_step((len(layout) + len(value)) * 4)
    try:
        return parse_time(layout, value, local_zone())
    except (ValueError, OverflowError):
        return ZERO_TIME


@register(DATES, "mustToDate", "str", "str")
def must_to_date(budget: Budget, layout: str, value: str) -> GoTime:
    budget.bytes_step((len(layout) + len(value)) * 4)
    try:
        return parse_time(layout, value, local_zone())
    except (ValueError, OverflowError):
        raise Fault("function failed") from None


@register(DATES, "unixEpoch", "time")
def unix_epoch(budget: Budget, t: GoTime) -> str:
    return str(int((t.dt - dt.datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() // 1))


def _parse_duration(budget: Budget, text: str) -> int:
    """Go's ``time.ParseDuration``, charged one step per character.

    Why per character: Go sets no length limit ("1s" may repeat), and parsing costs about
    0.4 µs a character, so a 1 MiB string charged like other calls (one step) would spend
    ~0.4 s of a worker thread unaccounted.
    """
    budget.step(1 + len(text))
    return parse_duration(text)


def _modify(budget: Budget, layout: str, t: GoTime) -> GoTime:
    d = _parse_duration(budget, layout)
    total_ns = t.nanos + d
    try:
        return GoTime(t.dt + dt.timedelta(microseconds=total_ns // 1000), total_ns % 1000)
    except OverflowError:
        raise Fault("function failed") from None


@register(DATES, "dateModify", "str", "time")
def date_modify(budget: Budget, layout: str, t: GoTime) -> GoTime:
    try:
        return _modify(budget, layout, t)
    except ValueError:
        return t


alias(DATES, "date_modify", "dateModify")


@register(DATES, "mustDateModify", "str", "time")
def must_date_modify(budget: Budget, layout: str, t: GoTime) -> GoTime:
    try:
        return _modify(budget, layout, t)
    except ValueError:
        raise Fault("function failed") from None


alias(DATES, "must_date_modify", "mustDateModify")


@register(DATES, "duration", "any")
def duration(budget: Budget, sec: Value) -> str:
    n = 0
    if isinstance(sec, str):
        n, err = parse_int(sec, 10)
        if err:
            n = 0 if err == "syntax" else n
    elif isinstance(sec, int) and not isinstance(sec, bool):
        n = sec
    return duration_string(wrap64(n * 10**9))


@register(DATES, "durationRound", "any")
def duration_round(budget: Budget, v: Value) -> str:
    d = 0
    if isinstance(v, str):
        try:
            d = _parse_duration(budget, v)
        except ValueError:
            d = 0
    elif isinstance(v, int) and not isinstance(v, bool):
        d = v
    elif isinstance(v, GoTime):
        d = (now().dt - v.dt) // dt.timedelta(microseconds=1) * 1000
    u = abs(d)
    hour = 3600 * 10**9
    for unit, size in (
        ("y", hour * 24 * 365),
        ("mo", hour * 24 * 30),
        ("d", hour * 24),
        ("h", hour),
        ("m", 60 * 10**9),
        ("s", 10**9),
    ):
        if u > size:
            return f"{u // size}{unit}"
    return "0s"


@register(DATES, "ago", "any")
def ago(budget: Budget, v: Value) -> str:
    t = _as_time(v, local_zone())
    delta = now().dt - t.dt
    secs = round(delta.total_seconds())
    return duration_string(secs * 10**9)
