"""Sprig's encodings, hashes, JSON, defaults and ``fail``.

``b64dec``/``b32dec`` return Go's error text as their *result* on bad input (that is
Sprig's behaviour: the text lands in the output, never in an error message).
``fail`` fails with kind ``fail`` and drops its message: it may hold a secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import uuid
import zlib

from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs import jsonenc
from secretsync.gotemplate.funcs.spec import Table, register
from secretsync.gotemplate.gostrconv import from_bytes, to_bytes
from secretsync.gotemplate.limits import Budget
from secretsync.gotemplate.values import Value, empty

ENCODING: Table = {}

_B64_FAST = re.compile(rb"[A-Za-z0-9+/]*={0,2}")
_B64_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_B32_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def _b64_error_pos(s: bytes) -> int | None:
    """Where Go's ``base64.StdEncoding.DecodeString`` reports the first error (None: valid)."""
    n = len(s)
    si = 0
    while True:
        j = 0
        while j < 4:
            if si == n:
                return None if j == 0 else si - j
            c = s[si]
            si += 1
            if c in _B64_ALPHABET:
                j += 1
                continue
            if c in (10, 13):
                continue
            if c != 61:  # '='
                return si - 1
            if j in (0, 1):
                return si - 1
            if j == 2:
                while si < n and s[si] in (10, 13):
                    si += 1
                if si == n:
                    return n
                if s[si] != 61:
                    return si - 1
                si += 1
            while si < n and s[si] in (10, 13):
                si += 1
            return si if si < n else None


def _b32_error_pos(s: bytes) -> int:
    """Where Go's ``base32.StdEncoding.DecodeString`` reports an error (after newlines are dropped)."""
    src = s.replace(b"\r", b"").replace(b"\n", b"")
    olen = len(src)
    i = 0
    while i < olen:
        j = 0
        while j < 8:
            if i >= olen:
                return i - j
            c = src[i]
            i += 1
            left = olen - i
            if c == 61 and j >= 2 and left < 8:
                if left + j < 7:
                    return olen
                for k in range(7 - j):
                    if left > k and src[i + k] != 61:
                        return i + k - 1
                if j in (1, 3, 6):
                    return i - 1
                return olen
            if c not in _B32_ALPHABET:
                return i - 1
            j += 1
    return olen


@register(ENCODING, "b64enc", "str")
def b64enc(budget: Budget, s: str) -> str:
    raw = to_bytes(s)
    budget.check_size(len(raw) * 4 // 3 + 4)
    budget.bytes_step(len(raw))
    return base64.b64encode(raw).decode("ascii")


def std_b64decode(raw: bytes) -> bytes | int:
    """Go's ``base64.StdEncoding.DecodeString``: the bytes, or where Go reports the first error."""
    stripped = raw.replace(b"\r", b"").replace(b"\n", b"")
    if len(stripped) % 4 == 0 and _B64_FAST.fullmatch(stripped):
        try:
            return binascii.a2b_base64(stripped, strict_mode=True)
        except binascii.Error:
            pass
    pos = _b64_error_pos(raw)
    return base64.b64decode(stripped) if pos is None else pos


@register(ENCODING, "b64dec", "str")
def b64dec(budget: Budget, s: str) -> str:
    raw = to_bytes(s)
    budget.bytes_step(len(raw))
    budget.step(len(raw) >> 4)
    out = std_b64decode(raw)
    return f"illegal base64 data at input byte {out}" if isinstance(out, int) else from_bytes(out)


@register(ENCODING, "b32enc", "str")
def b32enc(budget: Budget, s: str) -> str:
    raw = to_bytes(s)
    budget.check_size(len(raw) * 8 // 5 + 8)
    budget.bytes_step(len(raw))
    return base64.b32encode(raw).decode("ascii")


@register(ENCODING, "b32dec", "str")
def b32dec(budget: Budget, s: str) -> str:
    raw = to_bytes(s)
    budget.bytes_step(len(raw))
    try:
        return from_bytes(base64.b32decode(raw.replace(b"\r", b"").replace(b"\n", b"")))
    except (binascii.Error, ValueError):
        budget.step(len(raw) >> 4)
        return f"illegal base32 data at input byte {_b32_error_pos(raw)}"


def _digest(budget: Budget, s: str, algo: str) -> str:
    raw = to_bytes(s)
    budget.bytes_step(len(raw))
    return hashlib.new(algo, raw).hexdigest()


@register(ENCODING, "sha1sum", "str")
def sha1sum(budget: Budget, s: str) -> str:
    return _digest(budget, s, "sha1")


@register(ENCODING, "sha256sum", "str")
def sha256sum(budget: Budget, s: str) -> str:
    return _digest(budget, s, "sha256")


@register(ENCODING, "sha512sum", "str")
def sha512sum(budget: Budget, s: str) -> str:
    return _digest(budget, s, "sha512")


@register(ENCODING, "adler32sum", "str")
def adler32sum(budget: Budget, s: str) -> str:
    raw = to_bytes(s)
    budget.bytes_step(len(raw))
    return str(zlib.adler32(raw))


@register(ENCODING, "uuidv4")
def uuidv4(budget: Budget) -> str:
    return str(uuid.uuid4())


# --- JSON -------------------------------------------------------------------------------------


@register(ENCODING, "fromJson", "str")
def from_json(budget: Budget, s: str) -> Value:
    try:
        return jsonenc.decode(budget, s)
    except ValueError:
        return None


@register(ENCODING, "mustFromJson", "str")
def must_from_json(budget: Budget, s: str) -> Value:
    try:
        return jsonenc.decode(budget, s)
    except ValueError:
        raise Fault("function failed") from None


def _to_json(budget: Budget, v: Value, indent: bool, escape_html: bool, must: bool) -> str:
    try:
        return jsonenc.encode(budget, v, indent, escape_html)
    except jsonenc.Unsupported:
        if must:
            raise Fault("function failed") from None
        return ""


@register(ENCODING, "toJson", "any")
def to_json(budget: Budget, v: Value) -> str:
    return _to_json(budget, v, False, True, False)


@register(ENCODING, "mustToJson", "any")
def must_to_json(budget: Budget, v: Value) -> str:
    return _to_json(budget, v, False, True, True)


@register(ENCODING, "toPrettyJson", "any")
def to_pretty_json(budget: Budget, v: Value) -> str:
    return _to_json(budget, v, True, True, False)


@register(ENCODING, "mustToPrettyJson", "any")
def must_to_pretty_json(budget: Budget, v: Value) -> str:
    return _to_json(budget, v, True, True, True)


@register(ENCODING, "toRawJson", "any")
def to_raw_json(budget: Budget, v: Value) -> str:
    return _to_json(budget, v, False, False, True)  # Sprig panics on error


@register(ENCODING, "mustToRawJson", "any")
def must_to_raw_json(budget: Budget, v: Value) -> str:
    return _to_json(budget, v, False, False, True)


# --- defaults and flow ----------------------------------------------------------------------


@register(ENCODING, "default", "any", "any", variadic=True)
def default(budget: Budget, d: Value, *given: Value) -> Value:
    if not given or empty(given[0]):
        return d
    return given[0]


@register(ENCODING, "empty", "any")
def empty_(budget: Budget, v: Value) -> bool:
    return empty(v)


@register(ENCODING, "coalesce", "any", variadic=True)
def coalesce(budget: Budget, *vals: Value) -> Value:
    for v in vals:
        if not empty(v):
            return v
    return None


@register(ENCODING, "all", "any", variadic=True)
def all_(budget: Budget, *vals: Value) -> bool:
    return all(not empty(v) for v in vals)


@register(ENCODING, "any", "any", variadic=True)
def any_(budget: Budget, *vals: Value) -> bool:
    return any(not empty(v) for v in vals)


@register(ENCODING, "ternary", "any", "any", "bool")
def ternary(budget: Budget, vt: Value, vf: Value, cond: bool) -> Value:
    return vt if cond else vf


@register(ENCODING, "fail", "str")
def fail(budget: Budget, msg: str) -> str:
    raise Fault("fail")


__all__ = ["ENCODING", "uuid"]
