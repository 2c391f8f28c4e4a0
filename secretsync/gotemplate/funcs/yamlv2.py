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
from secretsync.gotemplate.funcs.sprig_encoding import std_b64decode
from secretsync.gotemplate.goparse import parses
from secretsync.gotemplate.gostrconv import INT_MAX, from_bytes, parse_int, parse_uint, to_bytes, wrap64
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
# resolve.go's allowedTimestampFormats, in its order
_TIMESTAMP_LAYOUTS = (
    "2006-1-2T15:4:5.999999999Z07:00",
    "2006-1-2t15:4:5.999999999Z07:00",
    "2006-1-2 15:4:5.999999999",
    "2006-1-2",
)


def _parse_uint(s: str, base: int) -> int | None:
    """``strconv.ParseUint(s, base, 64)``: the value or None (yaml.v2 has removed every ``_``)."""
    n, err = parse_uint(s, base)
    return None if err else n


def _parse_int(s: str, base: int) -> int | None:
    """``strconv.ParseInt(s, base, 64)``: the value or None."""
    n, err = parse_int(s, base)
    return None if err else n


def _is_timestamp(s: str) -> bool:
    """yaml.v2's ``parseTimestamp``: four ASCII digits and "-" (its quick check), then
    ``time.Parse`` accepts ``s`` under one of its four layouts."""
    if len(s) < 5 or not s[:4].isascii() or not s[:4].isdigit() or s[4] != "-":
        return False
    return any(parses(layout, s) for layout in _TIMESTAMP_LAYOUTS)


def _float(text: str) -> float | None:
    """The float64 of text strconv.ParseFloat accepts, None for its ErrRange (past +-MaxFloat64)."""
    f = float(text)
    return None if math.isinf(f) else f


def resolve(s: str, tag: str = "") -> tuple[str, Value]:
    """yaml.v2's ``resolve`` (resolve.go) before its tag check: the tag ``s`` resolves to and its value.

    ``tag`` is "" for a plain scalar, else the short name of a resolvable explicit tag (see
    :func:`decode_scalar`): only "" and "timestamp" look for timestamps. Tags are "null",
    "bool", "int", "float", "timestamp" and "str". An int past int64 is Go's uint64 (ParseUint's
    turn, after ParseInt refused it); a timestamp's value is its text, as yaml.v2 decodes one
    into an interface{}.
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
        if tag in ("", "timestamp") and _is_timestamp(s):
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


LONG_TAG = "tag:yaml.org,2002:"
_RESOLVABLE = frozenset(("str", "bool", "int", "float", "null", "timestamp"))  # resolvableTag


class DecodeError(ValueError):
    """A scalar yaml.v2 refuses to decode; ``args[0]`` is Go's text after "yaml: "."""


def decode_scalar(s: str, tag: str | None, plain_implicit: bool) -> Value:
    """yaml.v2's ``decoder.scalar`` into an interface{}, for a scalar event's tag and implicitness.

    Untagged: a plain scalar is resolved, a quoted one is its text. An explicit tag of the
    resolvable ones must be the tag the text resolves to (``!!float`` also takes an int, but
    not a uint64: resolve's deferred check only converts int); ``!!binary`` is base64
    (``StdEncoding``, so newlines are skipped); any other tag (``!``, ``!foo``, ``!!merge``)
    leaves the text.
    """
    if not tag:
        return resolve(s)[1] if plain_implicit else s
    short = tag[len(LONG_TAG) :] if tag.startswith(LONG_TAG) else ""
    if short == "binary":
        data = std_b64decode(to_bytes(s))
        if isinstance(data, int):
            raise DecodeError("!!binary value contains invalid base64 data")
        return from_bytes(data)
    if short not in _RESOLVABLE or short == "str":
        return s
    rtag, value = resolve(s, short)
    if rtag == short:
        return value
    if short == "float" and rtag == "int" and isinstance(value, int) and value <= INT_MAX:
        return float(value)
    raise DecodeError(f"cannot decode !!{rtag} `{s}` as a !!{short}")


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
