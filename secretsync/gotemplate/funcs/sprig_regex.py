"""Sprig's regular expressions on RE2 (``secretsync.regex``): linear time, Go syntax.

Why hand-rolled iteration: Go's ``FindAll``/``ReplaceAll``/``Split`` treat empty
matches next to a previous match differently from Python, and ``$1``/``${name}``
expansion is Go's, not Python's ``\\1``. We match over the Go bytes of the text so
offsets, ``len`` and binary data agree with Go.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from secretsync import regex
from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs.casing import is_digit, is_letter
from secretsync.gotemplate.funcs.spec import Table, alias, register
from secretsync.gotemplate.gostrconv import from_bytes, to_bytes
from secretsync.gotemplate.limits import Budget
from secretsync.gotemplate.values import Value

REGEX: Table = {}


def _compile(budget: Budget, pattern: str) -> Any:
    budget.bytes_step(len(pattern) * 4)
    try:
        return regex.compile(pattern)
    except Exception:
        raise Fault("function failed") from None


def _width(b: bytes, pos: int) -> int:
    """Bytes of the UTF-8 rune at ``pos`` (1 for an invalid byte, 0 at the end)."""
    if pos >= len(b):
        return 0
    if b[pos] < 0x80:
        return 1
    for w in (2, 3, 4):
        try:
            b[pos : pos + w].decode("utf-8")
            return w
        except UnicodeDecodeError:
            continue
    return 1


def _all_matches(budget: Budget, prog: Any, b: bytes, n: int) -> Iterator[Any]:
    """Go's ``allMatches``: successive matches, no empty match right after a match."""
    end = len(b)
    if n < 0:
        n = end + 1
    pos = 0
    i = 0
    prev_end = -1
    while i < n and pos <= end:
        budget.step()
        m = prog.search(b, pos)
        if m is None:
            break
        s, e = m.span()
        accept = True
        if e == pos:
            if s == prev_end:
                accept = False
            w = _width(b, pos)
            pos = pos + w if w > 0 else end + 1
        else:
            pos = e
        prev_end = e
        if accept:
            yield m
            i += 1


@register(REGEX, "regexMatch", "str", "str")
def regex_match(budget: Budget, pattern: str, s: str) -> bool:
    try:
        prog = _compile(budget, pattern)
    except Fault:
        return False
    b = to_bytes(s)
    budget.bytes_step(len(b))
    return prog.search(b) is not None


@register(REGEX, "mustRegexMatch", "str", "str")
def must_regex_match(budget: Budget, pattern: str, s: str) -> bool:
    prog = _compile(budget, pattern)
    b = to_bytes(s)
    budget.bytes_step(len(b))
    return prog.search(b) is not None


@register(REGEX, "regexFind", "str", "str")
def regex_find(budget: Budget, pattern: str, s: str) -> str:
    prog = _compile(budget, pattern)
    b = to_bytes(s)
    budget.bytes_step(len(b))
    m = prog.search(b)
    return "" if m is None else from_bytes(m.group(0))


@register(REGEX, "regexFindAll", "str", "str", "int")
def regex_find_all(budget: Budget, pattern: str, s: str, n: int) -> list[Value]:
    prog = _compile(budget, pattern)
    b = to_bytes(s)
    budget.bytes_step(len(b))
    out: list[Value] = []
    size = 0
    for m in _all_matches(budget, prog, b, n):
        text = from_bytes(m.group(0))
        size += len(text) + 16
        budget.check_size(size)
        out.append(text)
    return out


def _extract(t: str) -> tuple[str, int, str] | None:
    """Go's ``regexp.extract``: a ``name`` or ``{name}`` after ``$`` (name, number, rest)."""
    if not t:
        return None
    brace = t[0] == "{"
    if brace:
        t = t[1:]
    i = 0
    while i < len(t) and (is_letter(t[i]) or is_digit(t[i]) or t[i] == "_"):
        i += 1
    if i == 0:
        return None
    name = t[:i]
    if brace:
        if i >= len(t) or t[i] != "}":
            return None
        i += 1
    num = 0
    for c in name:
        if not "0" <= c <= "9" or num >= 100_000_000:
            num = -1
            break
        num = num * 10 + ord(c) - 48
    if name[0] == "0" and len(name) > 1:
        num = -1
    return name, num, t[i:]


def _expander(prog: Any, template: str) -> Callable[[Any, bytearray], None]:
    """Go's ``Regexp.Expand`` for ``ReplaceAllString``, compiled once per call."""
    names: dict[str, int] = dict(prog.groupindex)
    groups = prog.groups
    pieces: list[tuple[bytes, int]] = []  # (literal bytes, group index or -1)
    t = template
    while True:
        before, sep, after = t.partition("$")
        if not sep:
            break
        pieces.append((to_bytes(before), -1))
        t = after
        if t.startswith("$"):
            pieces.append((b"$", -1))
            t = t[1:]
            continue
        ext = _extract(t)
        if ext is None:
            pieces.append((b"$", -1))
            continue
        name, num, t = ext
        if num < 0:
            num = names.get(name, -2)
        pieces.append((b"", num if 0 <= num <= groups else -2))
    pieces.append((to_bytes(t), -1))

    def expand(m: Any, out: bytearray) -> None:
        for lit, g in pieces:
            if g == -1:
                out += lit
            elif g >= 0:
                s, e = m.span(g)
                if s >= 0:
                    out += m.string[s:e] if isinstance(m.string, bytes) else to_bytes(m.group(g))

    return expand


def _replace_all(budget: Budget, prog: Any, s: str, repl: Callable[[Any, bytearray], None]) -> str:
    b = to_bytes(s)
    budget.bytes_step(len(b))
    out = bytearray()
    last = 0
    search = 0
    limit = budget.max_value
    while search <= len(b):
        budget.step()
        m = prog.search(b, search)
        if m is None:
            break
        ms, me = m.span()
        out += b[last:ms]
        if me > last or ms == 0:
            repl(m, out)
        if len(out) > limit:
            raise Fault("value limit")
        last = me
        w = _width(b, search)
        if search + w > me:
            search += w
        elif search + 1 > me:
            search += 1
        else:
            search = me
    out += b[last:]
    budget.check_size(len(out))
    return from_bytes(bytes(out))


@register(REGEX, "regexReplaceAll", "str", "str", "str")
def regex_replace_all(budget: Budget, pattern: str, s: str, repl: str) -> str:
    prog = _compile(budget, pattern)
    return _replace_all(budget, prog, s, _expander(prog, repl))


@register(REGEX, "regexReplaceAllLiteral", "str", "str", "str")
def regex_replace_all_literal(budget: Budget, pattern: str, s: str, repl: str) -> str:
    prog = _compile(budget, pattern)
    lit = to_bytes(repl)

    def literal(m: Any, out: bytearray) -> None:
        out += lit

    return _replace_all(budget, prog, s, literal)


@register(REGEX, "regexSplit", "str", "str", "int")
def regex_split(budget: Budget, pattern: str, s: str, n: int) -> list[Value]:
    prog = _compile(budget, pattern)
    if n == 0:
        return []
    if pattern and not s:
        return [""]
    b = to_bytes(s)
    budget.bytes_step(len(b))
    out: list[Value] = []
    beg = end = 0
    for m in _all_matches(budget, prog, b, n):
        if n > 0 and len(out) == n - 1:
            break
        ms, me = m.span()
        end = ms
        if me != 0:
            out.append(from_bytes(b[beg:end]))
        beg = me
    if end != len(b):
        out.append(from_bytes(b[beg:]))
    budget.check_size(len(b) + 16 * len(out))
    return out


_META = frozenset("\\.+*?()|[]{}^$")


@register(REGEX, "regexQuoteMeta", "str")
def regex_quote_meta(budget: Budget, s: str) -> str:
    budget.bytes_step(len(s))
    budget.check_size(2 * len(s))
    return "".join("\\" + c if c in _META else c for c in s)


for _name in ("regexFind", "regexFindAll", "regexReplaceAll", "regexReplaceAllLiteral", "regexSplit"):
    alias(REGEX, "must" + _name[0].upper() + _name[1:], _name)
