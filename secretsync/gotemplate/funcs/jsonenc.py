"""JSON as Go's ``encoding/json`` writes and reads it for ``interface{}`` values.

Why our own encoder: Go sorts map keys, escapes ``<>&`` and U+2028/2029, writes
floats its own way (``1e+21``, ``1e-7``) and replaces invalid UTF-8 with
``\\ufffd``. The encoder measures its output as it grows and bounds nesting; the
decoder gives Go's types (every number a float64) and refuses NaN and Infinity.
"""

from __future__ import annotations

import json
import math
from typing import Any

from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.gostrconv import format_float, to_bytes
from secretsync.gotemplate.gotime import format_time
from secretsync.gotemplate.limits import Budget
from secretsync.gotemplate.values import GoStruct, GoTime, Value, count_nodes, size_of


class Unsupported(Exception):
    """A value Go's encoder refuses (NaN, infinities): the caller decides (``""`` or fail)."""


_HEX = "0123456789abcdef"


def _escape_char(c: str, escape_html: bool) -> str:
    o = ord(c)
    if c == '"' or c == "\\":
        return "\\" + c
    if c == "\b":
        return "\\b"
    if c == "\f":
        return "\\f"
    if c == "\n":
        return "\\n"
    if c == "\r":
        return "\\r"
    if c == "\t":
        return "\\t"
    if o < 0x20 or (escape_html and c in "<>&"):
        return "\\u00" + _HEX[o >> 4] + _HEX[o & 15]
    if o in (0x2028, 0x2029):
        return "\\u202" + _HEX[o & 15]
    if 0xDC80 <= o <= 0xDCFF:  # an invalid byte (gostrconv): Go writes the escape
        return "\\ufffd"
    if 0xD800 <= o <= 0xDFFF:  # a stray surrogate is the valid rune U+FFFD (to_bytes), written as is
        return "\ufffd"
    return c


_SAFE_ASCII = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}


def quote_json(s: str, escape_html: bool = True) -> str:
    if s.isascii() and all(c in _SAFE_ASCII for c in s) and not (escape_html and any(c in "<>&" for c in s)):
        return '"' + s + '"'
    return '"' + "".join(_escape_char(c, escape_html) for c in s) + '"'


def float_json(f: float) -> str:
    if math.isnan(f) or math.isinf(f):
        raise Unsupported
    a = abs(f)
    fmt = "f"
    if a != 0 and (a < 1e-6 or a >= 1e21):
        fmt = "e"
    s = format_float(f, fmt, -1)
    if fmt == "e" and len(s) >= 4 and s[-4] == "e" and s[-3] == "-" and s[-2] == "0":
        s = s[:-2] + s[-1]
    return s


class _Encoder:
    def __init__(self, budget: Budget, indent: bool, escape_html: bool) -> None:
        self.budget = budget
        self.indent = indent
        self.escape_html = escape_html
        self.parts: list[str] = []
        self.size = 0
        self.max_depth = budget.limits.max_depth

    def put(self, s: str) -> None:
        self.size += len(s)
        if self.size > self.budget.max_value:
            raise Fault("value limit")
        self.parts.append(s)

    def nl(self, depth: int) -> None:
        if self.indent:
            self.put("\n" + "  " * depth)

    def enc(self, v: Value, depth: int) -> None:
        self.budget.step()
        if depth > self.max_depth:
            raise Fault("depth limit")
        if v is None:
            self.put("null")
        elif isinstance(v, bool):
            self.put("true" if v else "false")
        elif isinstance(v, int):
            self.put(str(v))
        elif isinstance(v, float):
            self.put(float_json(v))
        elif isinstance(v, str):
            self.budget.bytes_step(len(v))
            self.put(quote_json(v, self.escape_html))
        elif isinstance(v, list):
            if not v:
                self.put("[]")
                return
            self.put("[")
            for i, e in enumerate(v):
                if i:
                    self.put(",")
                self.nl(depth + 1)
                self.enc(e, depth + 1)
            self.nl(depth)
            self.put("]")
        elif isinstance(v, GoStruct) and v.stringer is not None:
            self.enc(v.stringer, depth)  # semver's Version marshals as its string
        elif isinstance(v, GoStruct):
            self.enc({f: v[f] for f in v.fields}, depth)
        elif isinstance(v, dict):
            if not v:
                self.put("{}")
                return
            self.put("{")
            keys = sorted(v) if all(k.isascii() for k in v) else sorted(v, key=to_bytes)
            for i, k in enumerate(keys):
                if i:
                    self.put(",")
                self.nl(depth + 1)
                self.put(quote_json(k, self.escape_html))
                self.put(": " if self.indent else ":")
                self.enc(v[k], depth + 1)
            self.nl(depth)
            self.put("}")
        elif isinstance(v, GoTime):
            self.put(quote_json(rfc3339_nano(v)))
        else:
            raise Unsupported


def rfc3339_nano(t: GoTime) -> str:
    """``time.Time.MarshalJSON``: RFC 3339 with the fraction's trailing zeros dropped."""
    return format_time(t, "2006-01-02T15:04:05.999999999Z07:00")


def encode(budget: Budget, v: Value, indent: bool = False, escape_html: bool = True) -> str:
    """``json.Marshal`` (``MarshalIndent(v, "", "  ")`` with ``indent``); Unsupported on NaN."""
    e = _Encoder(budget, indent, escape_html)
    e.enc(v, 0)
    return "".join(e.parts)


def _bad_constant(_: str) -> Any:
    raise ValueError


def _number(text: str) -> float:
    f = float(text)
    if math.isinf(f):
        raise ValueError
    return f


def _clean(v: Any, depth: int, max_depth: int) -> Value:
    if depth > max_depth:
        raise Fault("depth limit")
    if isinstance(v, str):
        return valid_utf8(v)
    if isinstance(v, list):
        return [_clean(e, depth + 1, max_depth) for e in v]
    if isinstance(v, dict):
        return {valid_utf8(k): _clean(e, depth + 1, max_depth) for k, e in v.items()}
    return v


def valid_utf8(s: str) -> str:
    """Go's encoding/json writes an invalid byte (a stray surrogate here) as U+FFFD."""
    if s.isascii():
        return s
    return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in s)


def decode(budget: Budget, text: str) -> Value:
    """``json.Unmarshal`` into ``interface{}``; raises ValueError on invalid input."""
    budget.bytes_step(len(text))
    try:
        raw = json.loads(
            text,
            parse_constant=_bad_constant,
            parse_int=_number,
            parse_float=_number,
        )
    except RecursionError:
        raise Fault("depth limit") from None
    limit = budget.limits.max_depth
    v = _clean(raw, 0, limit)
    budget.step(count_nodes(v, 0, limit))
    budget.account(size_of(v, 0, limit))
    return v
