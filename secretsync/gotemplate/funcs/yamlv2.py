"""yaml.v2's rules for plain scalars and map keys, as sigs.k8s.io/yaml uses them.

The yaml.v2 meant is the one sigs.k8s.io/yaml v1.6.0 uses (go.yaml.in/yaml/v2 v2.4.x, the code
of gopkg.in/yaml.v2 v2.4.0): ``resolve.go`` (what an unquoted scalar means), ``encode.go``
(when a string needs quotes) and ``sorter.go`` (the order of map keys). Pure functions over
text; the template functions built on them are in :mod:`secretsync.gotemplate.funcs.eso`.
"""

from __future__ import annotations

import math
import re

from secretsync.gotemplate.funcs.casing import is_digit, is_letter
from secretsync.gotemplate.gostrconv import INT_MAX, wrap64
from secretsync.gotemplate.values import Value

# --- yaml.v2's implicit resolution --------------------------------------------------------------
#
# Go's strconv is ported here as exact predicates over ASCII text: Python's int() and float()
# accept what strconv refuses (Unicode digits, surrounding blanks, "_" anywhere, "nan" and
# "infinity" spellings), so they only ever compute the value of text already checked.

_RESOLVE_MAP: dict[str, tuple[str, Value]] = {
    **{s: ("bool", True) for s in ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")},
    **{
        s: ("bool", False)
        for s in ("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")
    },
    **{s: ("null", None) for s in ("", "~", "null", "Null", "NULL")},
    **{s: ("float", math.nan) for s in (".nan", ".NaN", ".NAN")},
    **{s: ("float", math.inf) for s in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")},
    **{s: ("float", -math.inf) for s in ("-.inf", "-.Inf", "-.INF")},
}
# resolveTable: the first byte's hint. Any other first byte (a letter, "<" of "<<", any non-ASCII
# character) leaves the scalar a string without looking it up.
_HINTED = frozenset("+-0123456789yYnNtTfFoO~.")
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")  # yamlStyleFloat
# strconv.ParseFloat's syntax (readFloat + underscoreOK) for text that starts with ".": digits with
# single "_" between them, an optional exponent whose first character is a digit.
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:_[0-9]+)*(?:[eE][-+]?[0-9]+(?:_[0-9]+)*)?")
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")  # encode.go's base60float
_DIGITS = {b: re.compile(f"[{d}]*") for b, d in ((2, "01"), (8, "0-7"), (10, "0-9"), (16, "0-9a-fA-F"))}
_WIDTH = {2: 64, 8: 22, 10: 20, 16: 16}  # digits of 2**64 - 1 in each base
_PREFIX_BASE = {"b": 2, "o": 8, "x": 16}
_DAYS_IN = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _parse_uint(s: str, base: int) -> int | None:
    """``strconv.ParseUint(s, base, 64)`` for base 0 or 2, on text without ``_``: the value or None.

    yaml.v2 removes every ``_`` before it parses a number, so the underscore rules never apply.
    Leading zeros stripped, at most 64 binary digits reach ``int()``: no work grows past that.
    """
    if not s:
        return None
    body = s
    if base == 0:  # ParseUint's prefixes: 0b, 0o, 0x (len >= 3), else a leading 0 is octal
        base = 10
        if s[0] == "0":
            base, body = 8, s[1:]
            if len(s) >= 3 and s[1] in "bBoOxX":
                base, body = _PREFIX_BASE[s[1].lower()], s[2:]
    if not _DIGITS[base].fullmatch(body):
        return None
    body = body.lstrip("0")
    if len(body) > _WIDTH[base]:
        return None
    n = int(body or "0", base)
    return n if n >> 64 == 0 else None


def _parse_int(s: str, base: int) -> int | None:
    """``strconv.ParseInt(s, base, 64)`` (one sign, then ParseUint) on text without ``_``."""
    neg = s[:1] == "-"
    u = _parse_uint(s[1:] if s[:1] in ("+", "-") else s, base)
    if u is None or u > INT_MAX + neg:
        return None
    return -u if neg else u


def _getnum(s: str, i: int) -> tuple[int, int]:
    """time's ``getnum(s[i:], false)``: one or two ASCII digits and where they end; -1 for none."""
    if s[i : i + 1].isdigit():
        if s[i + 1 : i + 2].isdigit():
            return int(s[i : i + 2]), i + 2
        return int(s[i]), i + 1
    return -1, i


def _is_timestamp(s: str) -> bool:
    """yaml.v2's ``parseTimestamp``: ``time.Parse`` accepts ``s`` under one of its four layouts.

    The layouts ("2006-1-2T15:4:5.999999999Z07:00", the same with "t", "2006-1-2 15:4:5.999999999"
    and "2006-1-2") share the date, and what follows it picks one. As Go's time.Parse reads them:
    month, day, hour, minute and second of one or two digits (getnum), a run of blanks for the
    layout's blank (skip), any number of fraction digits after "." or "," (stdFracSecond9), "Z" or
    "+hh:mm" / "-hh:mm" with hh <= 24 and mm <= 60 (stdISO8601ColonTZ), the day checked last.
    """
    # the quick check: exactly four ASCII digits, then "-"; every layout element is ASCII
    if len(s) < 5 or not s.isascii() or not s[:4].isdigit() or s[4] != "-":
        return False
    month, i = _getnum(s, 5)
    if month < 0 or s[i : i + 1] != "-":
        return False
    day, i = _getnum(s, i + 1)
    if day < 0:
        return False
    if i < len(s):
        sep = s[i]
        if sep not in "Tt ":
            return False
        i += 1
        while sep == " " and s[i : i + 1] == " ":
            i += 1
        hour, i = _getnum(s, i)
        if not 0 <= hour < 24 or s[i : i + 1] != ":":
            return False
        minute, i = _getnum(s, i + 1)
        if not 0 <= minute < 60 or s[i : i + 1] != ":":
            return False
        second, i = _getnum(s, i + 1)
        if not 0 <= second < 60:
            return False
        if s[i : i + 1] in (".", ",") and s[i + 1 : i + 2].isdigit():
            i += 2
            while s[i : i + 1].isdigit():
                i += 1
        if sep != " ":
            zone = s[i : i + 6]
            if zone[:1] == "Z":
                i += 1
            elif (
                len(zone) == 6
                and zone[0] in "+-"
                and zone[3] == ":"
                and (zone[1:3] + zone[4:6]).isdigit()
                and int(zone[1:3]) <= 24
                and int(zone[4:6]) <= 60
            ):
                i += 6
            else:
                return False
        if i != len(s):
            return False
    year = int(s[:4])
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return 1 <= month <= 12 and 1 <= day <= _DAYS_IN[month - 1] + (month == 2 and leap)


def _float(text: str) -> float | None:
    """The float64 of text strconv.ParseFloat accepts, None for its ErrRange (past +-MaxFloat64)."""
    f = float(text)
    return None if math.isinf(f) else f


def resolve(s: str) -> tuple[str, Value]:
    """yaml.v2's ``resolve("", s)`` (resolve.go) for a plain scalar: its tag and value.

    Tags are "null", "bool", "int", "float", "timestamp" and "str". An int past int64 is Go's
    uint64 (ParseUint's turn, after ParseInt refused it); a timestamp's value is its text, as
    yaml.v2 decodes one into an interface{}.
    """
    if s and s[0] not in _HINTED:
        return "str", s
    item = _RESOLVE_MAP.get(s)
    if item is not None:
        return item
    if s[0] == ".":  # a float, maybe: strconv.ParseFloat(in, 64), underscores and all
        f = _float(s.replace("_", "")) if _DOT_FLOAT.fullmatch(s) else None
        return ("str", s) if f is None else ("float", f)
    if s[0] in "+-0123456789":  # an int, a float or a timestamp
        if _is_timestamp(s):
            return "timestamp", s
        plain = s.replace("_", "")
        n = _parse_int(plain, 0)
        if n is None:
            n = _parse_uint(plain, 0)
        if n is not None:
            return "int", n
        if _YAML_FLOAT.fullmatch(plain):
            f = _float(plain)
            if f is not None:
                return "float", f
        # Only "0b" and "-0b" have a branch: "0b-101" is ParseInt("-101", 2), "-0b-101" is
        # ParseInt("--101", 2), a syntax error, and "+0b..." stays a string.
        if plain.startswith("0b"):
            n = _parse_int(plain[2:], 2)
            if n is None:
                n = _parse_uint(plain[2:], 2)
        elif plain.startswith("-0b"):
            n = _parse_int("-" + plain[3:], 2)
        if n is not None:
            return "int", n
    return "str", s


def resolve_plain(s: str) -> Value:
    """What yaml.v2 makes of an unquoted scalar: None, bool, int, float, or the string."""
    return resolve(s)[1]


def needs_quotes(s: str) -> bool:
    """encode.go's ``stringv``: plain only if it resolves to a string and is no base 60 float."""
    return resolve(s)[0] != "str" or bool(_BASE60.fullmatch(s))


def key_less(a: str, b: str) -> bool:
    """yaml.v2's ``keyList.Less``: non-letters first, digit runs compared as numbers.

    A run's number is Go's ``an = an*10 + int64(r-'0')`` for every ``unicode.IsDigit`` rune: a
    non-ASCII digit adds its distance from '0' (U+0663 adds 1587), and int64 wraps around.
    """
    for i in range(min(len(a), len(b))):
        ca, cb = a[i], b[i]
        if ca == cb:
            continue
        al, bl = is_letter(ca), is_letter(cb)
        if al and bl:
            return ca < cb
        if al or bl:
            return bl
        an = bn = 0
        if ca == "0" or cb == "0":
            j = i - 1
            while j >= 0 and is_digit(a[j]):
                if a[j] != "0":
                    an = bn = 1
                    break
                j -= 1
        ai = i
        while ai < len(a) and is_digit(a[ai]):
            an = wrap64(an * 10 + ord(a[ai]) - 48)
            ai += 1
        bi = i
        while bi < len(b) and is_digit(b[bi]):
            bn = wrap64(bn * 10 + ord(b[bi]) - 48)
            bi += 1
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return ca < cb
    return len(a) < len(b)


class Key:
    __slots__ = ("s",)

    def __init__(self, s: str) -> None:
        self.s = s

    def __lt__(self, other: Key) -> bool:
        return key_less(self.s, other.s)
