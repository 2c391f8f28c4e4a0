"""Sprig's string functions (Masterminds/sprig ``strings.go`` and ``functions.go``).

Argument order is Sprig's (the subject last, for pipelines: ``trimPrefix "x" .s``).
Where Sprig slices bytes (``trunc``, ``substr``, ``abbrev``, ``nospace``,
``initials``, ``wrap``) we slice the Go bytes too, so results match byte for byte.
Every result's size is checked before it is built.
"""

from __future__ import annotations

import random
import secrets
import string

from secretsync.gotemplate import printf
from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs import casing
from secretsync.gotemplate.funcs.spec import Table, register
from secretsync.gotemplate.gostrconv import byte_len, from_bytes, quote, to_bytes
from secretsync.gotemplate.limits import Budget
from secretsync.gotemplate.values import StrMap, Value

STRINGS: Table = {}


def strval(budget: Budget, v: Value) -> str:
    """Sprig's ``strval``: strings as they are, anything else as ``%v``."""
    if isinstance(v, str):
        return v
    return printf.sprint(budget, [v])


def strslice(budget: Budget, v: Value) -> list[str]:
    """Sprig's ``strslice``: a list's non-nil elements as strings; nil is empty."""
    if isinstance(v, list):
        budget.step(len(v))
        return [strval(budget, e) for e in v if e is not None]
    if v is None:
        return []
    return [strval(budget, v)]


def _sized(budget: Budget, result: str) -> str:
    """Check a result whose size is a small constant factor of an input already checked."""
    budget.check_size(len(result))
    return result


def _bslice(b: bytes, lo: int, hi: int) -> str:
    if not 0 <= lo <= hi <= len(b):
        raise Fault("index out of range")
    return from_bytes(b[lo:hi])


@register(STRINGS, "trim", "str")
def trim(budget: Budget, s: str) -> str:
    budget.bytes_step(len(s))
    return s.strip(casing.GO_SPACES)


@register(STRINGS, "trimAll", "str", "str")
def trim_all(budget: Budget, cutset: str, s: str) -> str:
    budget.bytes_step(len(s))
    return s.strip(cutset)


STRINGS["trimall"] = STRINGS["trimAll"]


@register(STRINGS, "trimPrefix", "str", "str")
def trim_prefix(budget: Budget, prefix: str, s: str) -> str:
    budget.bytes_step(len(s))
    return s.removeprefix(prefix)


@register(STRINGS, "trimSuffix", "str", "str")
def trim_suffix(budget: Budget, suffix: str, s: str) -> str:
    budget.bytes_step(len(s))
    return s.removesuffix(suffix)


@register(STRINGS, "upper", "str")
def upper(budget: Budget, s: str) -> str:
    budget.bytes_step(len(s))
    return casing.map_runes(s, "upper")


@register(STRINGS, "lower", "str")
def lower(budget: Budget, s: str) -> str:
    budget.bytes_step(len(s))
    return casing.map_runes(s, "lower")


@register(STRINGS, "title", "str")
def title(budget: Budget, s: str) -> str:
    budget.bytes_step(len(s))
    return casing.title(s)


@register(STRINGS, "untitle", "str")
def untitle(budget: Budget, s: str) -> str:
    budget.bytes_step(len(s))
    return casing.untitle(s)


@register(STRINGS, "swapcase", "str")
def swapcase(budget: Budget, s: str) -> str:
    budget.bytes_step(len(s))
    return casing.swapcase(s)


@register(STRINGS, "snakecase", "str")
def snakecase(budget: Budget, s: str) -> str:
    budget.bytes_step(len(s) * 4)
    return _sized(budget, casing.camel_to_lower(s, "_"))


@register(STRINGS, "kebabcase", "str")
def kebabcase(budget: Budget, s: str) -> str:
    budget.bytes_step(len(s) * 4)
    return _sized(budget, casing.camel_to_lower(s, "-"))


@register(STRINGS, "camelcase", "str")
def camelcase(budget: Budget, s: str) -> str:
    budget.bytes_step(len(s) * 4)
    return casing.to_camel(s, True)


@register(STRINGS, "shuffle", "str")
def shuffle(budget: Budget, s: str) -> str:
    budget.bytes_step(len(s))
    runes = [casing.fix(c) for c in s]
    random.Random(secrets.randbits(64)).shuffle(runes)
    return "".join(runes)


@register(STRINGS, "repeat", "int", "str")
def repeat(budget: Budget, count: int, s: str) -> str:
    if count < 0:
        raise Fault("function failed")
    budget.check_size(count * byte_len(s))
    budget.bytes_step(count * len(s))
    return s * count


@register(STRINGS, "substr", "int", "int", "str")
def substr(budget: Budget, start: int, end: int, s: str) -> str:
    b = to_bytes(s)
    if start < 0:
        return _bslice(b, 0, end)
    if end < 0 or end > len(b):
        return _bslice(b, start, len(b))
    return _bslice(b, start, end)


@register(STRINGS, "trunc", "int", "str")
def trunc(budget: Budget, c: int, s: str) -> str:
    b = to_bytes(s)
    if c < 0 and len(b) + c > 0:
        return from_bytes(b[len(b) + c :])
    if c >= 0 and len(b) > c:
        return from_bytes(b[:c])
    return s


def _abbreviate_full(b: bytes, offset: int, width: int) -> bytes:
    """goutils ``AbbreviateFull`` on bytes; errors give the empty result, as Sprig does."""
    if not b:
        return b
    if width < 4:
        return b""
    if len(b) <= width:
        return b
    offset = min(offset, len(b))
    if len(b) - offset < width - 3:
        offset = len(b) - (width - 3)
    if offset <= 4:
        return b[: width - 3] + b"..."
    if width < 7:
        return b""
    if offset + width - 3 < len(b):
        return b"..." + _abbreviate_full(b[offset:], 0, width - 3)
    return b"..." + b[len(b) - (width - 3) :]


@register(STRINGS, "abbrev", "int", "str")
def abbrev(budget: Budget, width: int, s: str) -> str:
    if width < 4:
        return s
    return from_bytes(_abbreviate_full(to_bytes(s), 0, width))


@register(STRINGS, "abbrevboth", "int", "int", "str")
def abbrevboth(budget: Budget, left: int, right: int, s: str) -> str:
    if right < 4 or (left > 0 and right < 7):
        return s
    return from_bytes(_abbreviate_full(to_bytes(s), left, right))


def _byte_is_space(c: int) -> bool:
    return c in (9, 10, 11, 12, 13, 32, 0x85, 0xA0)


@register(STRINGS, "initials", "str")
def initials(budget: Budget, s: str) -> str:
    """goutils ``Initials``: Go reads the string byte by byte, each byte as a rune."""
    b = to_bytes(s)
    budget.bytes_step(len(b))
    out = bytearray()
    gap = True
    for c in b:
        if _byte_is_space(c):
            gap = True
        elif gap:
            out.append(c)
            gap = False
    return out.decode("latin-1")


@register(STRINGS, "nospace", "str")
def nospace(budget: Budget, s: str) -> str:
    """goutils ``DeleteWhiteSpace``: byte by byte, as Go's code does (bytes read as runes)."""
    b = to_bytes(s)
    budget.bytes_step(len(b))
    kept = bytes(c for c in b if not _byte_is_space(c))
    if len(kept) == len(b):
        return s
    return kept.decode("latin-1")


def _wrap(budget: Budget, s: str, width: int, newline: str, long_words: bool) -> str:
    """goutils ``WrapCustom`` over bytes."""
    if not s:
        return ""
    nl = to_bytes(newline or "\n")
    width = max(width, 1)
    b = to_bytes(s)
    budget.check_size(len(b) + (len(b) // width + 1) * len(nl))
    n = len(b)
    offset = 0
    out = bytearray()
    while n - offset > width:
        budget.step()
        if b[offset] == 0x20:
            offset += 1
            continue
        end = width + offset + 1
        space = b.rfind(b" ", offset, end)
        if space >= offset:
            out += b[offset:space] + nl
            offset = space + 1
        elif long_words:
            out += b[offset : width + offset] + nl
            offset += width
        else:
            end = width + offset
            idx = b.find(b" ", end)
            if idx < 0:
                out += b[offset:]
                offset = n
            else:
                out += b[offset:idx] + nl
                offset = idx + 1
    out += b[offset:]
    return from_bytes(bytes(out))


@register(STRINGS, "wrap", "int", "str")
def wrap(budget: Budget, width: int, s: str) -> str:
    return _wrap(budget, s, width, "", False)


@register(STRINGS, "wrapWith", "int", "str", "str")
def wrap_with(budget: Budget, width: int, sep: str, s: str) -> str:
    return _wrap(budget, s, width, sep, True)


@register(STRINGS, "contains", "str", "str")
def contains(budget: Budget, sub: str, s: str) -> bool:
    budget.bytes_step(len(s))
    return sub in s


@register(STRINGS, "hasPrefix", "str", "str")
def has_prefix(budget: Budget, prefix: str, s: str) -> bool:
    return s.startswith(prefix)


@register(STRINGS, "hasSuffix", "str", "str")
def has_suffix(budget: Budget, suffix: str, s: str) -> bool:
    return s.endswith(suffix)


def _joined(budget: Budget, parts: list[str], sep: str) -> str:
    budget.step(len(parts))
    budget.check_size(sum(len(p) for p in parts) + len(sep) * max(len(parts) - 1, 0))
    return sep.join(parts)


@register(STRINGS, "quote", "any", variadic=True)
def quote_(budget: Budget, *args: Value) -> str:
    parts = []
    for a in args:
        if a is not None:
            s = strval(budget, a)
            budget.bytes_step(len(s))
            parts.append(_sized(budget, quote(s)))
    return _joined(budget, parts, " ")


@register(STRINGS, "squote", "any", variadic=True)
def squote(budget: Budget, *args: Value) -> str:
    return _joined(budget, ["'" + strval(budget, a) + "'" for a in args if a is not None], " ")


@register(STRINGS, "cat", "any", variadic=True)
def cat(budget: Budget, *args: Value) -> str:
    return _joined(budget, [strval(budget, a) for a in args if a is not None], " ")


def _indent(budget: Budget, spaces: int, s: str) -> str:
    if spaces < 0:
        raise Fault("function failed")
    budget.check_size(len(s) + (s.count("\n") + 1) * spaces)
    budget.bytes_step(len(s))
    pad = " " * spaces
    return pad + s.replace("\n", "\n" + pad)


@register(STRINGS, "indent", "int", "str")
def indent(budget: Budget, spaces: int, s: str) -> str:
    return _indent(budget, spaces, s)


@register(STRINGS, "nindent", "int", "str")
def nindent(budget: Budget, spaces: int, s: str) -> str:
    return "\n" + _indent(budget, spaces, s)


@register(STRINGS, "replace", "str", "str", "str")
def replace(budget: Budget, old: str, new: str, src: str) -> str:
    budget.bytes_step(len(src))
    count = len(src) + 1 if old == "" else src.count(old)
    budget.check_size(len(src) + count * max(len(new) - len(old), 0))
    return src.replace(old, new)


@register(STRINGS, "plural", "str", "str", "int")
def plural(budget: Budget, one: str, many: str, count: int) -> str:
    return one if count == 1 else many


@register(STRINGS, "toString", "any")
def to_string(budget: Budget, v: Value) -> str:
    return strval(budget, v)


@register(STRINGS, "toStrings", "any")
def to_strings(budget: Budget, v: Value) -> list[Value]:
    return list(strslice(budget, v))


def _split_parts(budget: Budget, sep: str, s: str, n: int = -1) -> list[str]:
    """Go's ``strings.SplitN`` (n < 0: all)."""
    budget.bytes_step(len(s))
    if n == 0:
        return []
    if sep == "":
        runes = list(s)
        if 0 < n < len(runes):
            runes = [*runes[: n - 1], "".join(runes[n - 1 :])]
        budget.check_size(len(runes) * 16)
        return runes
    parts = s.split(sep, n - 1) if n > 0 else s.split(sep)
    budget.check_size(len(s) + len(parts) * 16)
    return parts


@register(STRINGS, "split", "str", "str")
def split(budget: Budget, sep: str, s: str) -> StrMap:
    return StrMap({f"_{i}": p for i, p in enumerate(_split_parts(budget, sep, s))})


@register(STRINGS, "splitn", "str", "int", "str")
def splitn(budget: Budget, sep: str, n: int, s: str) -> StrMap:
    return StrMap({f"_{i}": p for i, p in enumerate(_split_parts(budget, sep, s, n))})


@register(STRINGS, "splitList", "str", "str")
def split_list(budget: Budget, sep: str, s: str) -> list[Value]:
    return list(_split_parts(budget, sep, s))


@register(STRINGS, "join", "str", "any")
def join(budget: Budget, sep: str, v: Value) -> str:
    return _joined(budget, strslice(budget, v), sep)


@register(STRINGS, "sortAlpha", "any")
def sort_alpha(budget: Budget, v: Value) -> list[Value]:
    if isinstance(v, list):
        parts = strslice(budget, v)
        budget.step(len(parts))
        return list(sorted(parts, key=to_bytes))
    return [strval(budget, v)]


def _random(budget: Budget, count: int, alphabet: str) -> str:
    if count <= 0:
        return ""
    budget.check_size(count)
    budget.bytes_step(count * 8)
    return "".join(secrets.choice(alphabet) for _ in range(count))


@register(STRINGS, "randAlphaNum", "int")
def rand_alpha_num(budget: Budget, count: int) -> str:
    return _random(budget, count, string.ascii_letters + string.digits)


@register(STRINGS, "randAlpha", "int")
def rand_alpha(budget: Budget, count: int) -> str:
    return _random(budget, count, string.ascii_letters)


@register(STRINGS, "randNumeric", "int")
def rand_numeric(budget: Budget, count: int) -> str:
    return _random(budget, count, string.digits)


@register(STRINGS, "randAscii", "int")
def rand_ascii(budget: Budget, count: int) -> str:
    return _random(budget, count, "".join(chr(c) for c in range(32, 127)))
