"""Go's rune-level case rules and the word splitting of huandu/xstrings and goutils.

Why ports: ``snakecase``, ``camelcase``, ``kebabcase``, ``swapcase``, ``title`` and
``untitle`` have idiosyncratic rules (``HTTPServer`` -> ``http_server``, digits glued
to words) that templates depend on. Go reads invalid UTF-8 as U+FFFD, so an escaped
byte (U+DC80..U+DCFF here) is treated, and often written, as U+FFFD. Index-based so
every function is linear in its input.
"""

from __future__ import annotations

import unicodedata

from secretsync.gotemplate.gostrconv import GO_SPACES as GO_SPACES

_SPACE_SET = frozenset(GO_SPACES)
ERR = "\ufffd"


def is_err(c: str) -> bool:
    o = ord(c)
    return o == 0xFFFD or 0xD800 <= o <= 0xDFFF


def fix(c: str) -> str:
    """A char as Go re-encodes a decoded rune: escaped bytes become U+FFFD."""
    return ERR if 0xD800 <= ord(c) <= 0xDFFF else c


def is_space(c: str) -> bool:
    return c in _SPACE_SET


def _cat(c: str) -> str:
    return unicodedata.category(c)


def is_upper(c: str) -> bool:
    return "A" <= c <= "Z" if c < "\x80" else _cat(c) == "Lu"


def is_lower(c: str) -> bool:
    return "a" <= c <= "z" if c < "\x80" else _cat(c) == "Ll"


def is_title(c: str) -> bool:
    return c >= "\x80" and _cat(c) == "Lt"


def is_letter(c: str) -> bool:
    return c.isalpha() if c < "\x80" else _cat(c).startswith("L")


def is_digit(c: str) -> bool:
    return "0" <= c <= "9" if c < "\x80" else _cat(c) == "Nd"


def is_number(c: str) -> bool:
    return "0" <= c <= "9" if c < "\x80" else _cat(c).startswith("N")


def is_punct(c: str) -> bool:
    return _cat(c).startswith("P")


def _simple(c: str, mapped: str) -> str:
    return mapped if len(mapped) == 1 else c


def to_upper(c: str) -> str:
    # Python's full upper-case mapping of the Greek letters with ypogegrammeni (U+1F80 -> "\u1f08\u0399")
    # hides their simple one (UnicodeData: U+1F88, what Go's unicode.ToUpper uses): their title case.
    upper = c.upper()
    return upper if len(upper) == 1 else _simple(c, c.title())


def to_lower(c: str) -> str:
    # U+0130 is the one rune whose simple lower-case mapping (UnicodeData: U+0069, what Go's
    # unicode.ToLower uses) Python's full mapping ("i" + U+0307) hides.
    return "i" if c == "\u0130" else _simple(c, c.lower())


def to_title(c: str) -> str:
    return _simple(c, c.title()) if c >= "\x80" else c.upper()


def map_runes(s: str, fn: str) -> str:
    """Go's ``strings.ToUpper``/``ToLower`` (simple case mapping, rune by rune)."""
    if s.isascii():
        return s.upper() if fn == "upper" else s.lower()
    f = to_upper if fn == "upper" else to_lower
    return "".join(f(fix(c)) for c in s)


def title(s: str) -> str:
    """Go's deprecated ``strings.Title``: upper-case the first letter of each word."""

    def separator(c: str) -> bool:
        if c < "\x80":
            return not (c.isalnum() or c == "_")
        if is_letter(c) or is_digit(c):
            return False
        return is_space(c)

    out = []
    prev = " "
    for c in s:
        c = fix(c)
        out.append(to_title(c) if separator(prev) else c)
        prev = c
    return "".join(out)


def untitle(s: str) -> str:
    """goutils ``Uncapitalize``: lower-case the first rune of each whitespace-separated word."""
    out = []
    nxt = True
    for c in s:
        c = fix(c)
        if is_space(c):
            nxt = True
            out.append(c)
        elif nxt:
            out.append(to_lower(c))
            nxt = False
        else:
            out.append(c)
    return "".join(out)


def swapcase(s: str) -> str:
    """goutils ``SwapCase``: upper to lower; lower to title after space, else upper."""
    out = []
    ws = True
    for c in s:
        c = fix(c)
        if is_upper(c) or is_title(c):
            out.append(to_lower(c))
            ws = False
        elif is_lower(c):
            out.append(to_title(c) if ws else to_upper(c))
            ws = False
        else:
            ws = is_space(c)
            out.append(c)
    return "".join(out)


# --- xstrings -----------------------------------------------------------------------------

INVALID, NUMBER, UPPER, ALPHA, CONNECTOR, PUNCT, OTHER = range(7)


def is_connector(c: str) -> bool:
    return c in "-_" or is_space(c)


def is_alphabet(c: str) -> bool:
    if not is_letter(c):
        return False
    o = ord(c)
    if o < 0x3400:
        return True
    return not (0x4E00 <= o <= 0x9FCC or 0x3400 <= o <= 0x4D85 or 0x20000 <= o <= 0x2B81D)


def _next_valid(s: str, i: int, prev: str) -> tuple[str, int]:
    size = 0
    while i < len(s):
        c = s[i]
        size += 1
        if not is_err(c):
            return c, size
        i += 1
    return prev, size


def _next_word(s: str, start: int) -> tuple[int, int, int]:
    """(word type, word start, word end); the remaining text starts at the end."""
    n = len(s)
    if start >= n:
        return INVALID, start, start
    r, size = _next_valid(s, start, ERR)
    off = size
    if r == ERR:
        return INVALID, start, start + off

    def run(pred: object, r: str) -> int:
        nonlocal off
        while start + off < n:
            r, sz = _next_valid(s, start + off, r)
            if not pred(r):  # type: ignore[operator]
                break
            off += sz
        return off

    if is_connector(r):
        run(is_connector, r)
        return CONNECTOR, start, start + off
    if is_punct(r):
        run(is_punct, r)
        return PUNCT, start, start + off
    if is_upper(r):
        if start + off >= n:
            return UPPER, start, start + off
        r2, sz = _next_valid(s, start + off, r)
        if is_upper(r2):
            prev_size = sz
            off += sz
            while start + off < n:
                r2, sz = _next_valid(s, start + off, r2)
                if not is_upper(r2):
                    break
                prev_size = sz
                off += sz
            if start + off < n and is_alphabet(r2):
                off -= prev_size
        elif is_alphabet(r2):
            off += sz
            run(lambda c: is_alphabet(c) and not is_upper(c), r2)
        return UPPER, start, start + off
    if is_alphabet(r):
        run(lambda c: is_alphabet(c) and not is_upper(c), r)
        return ALPHA, start, start + off
    if is_number(r):
        run(is_number, r)
        return NUMBER, start, start + off
    while start + off < n:
        r, sz = _next_valid(s, start + off, r)
        if sz == 0 or is_connector(r) or is_alphabet(r) or is_number(r) or is_punct(r):
            break
        off += sz
    return OTHER, start, start + off


def _to_lower(out: list[str], wt: int, word: str, connector: str) -> None:
    if wt not in (UPPER, CONNECTOR):
        out.append(word)
        return
    for c in word:
        c = fix(c)
        if is_connector(c):
            out.append(connector)
        elif is_upper(c):
            out.append(to_lower(c))
        else:
            out.append(c)


def camel_to_lower(s: str, connector: str) -> str:
    """xstrings ``ToSnakeCase`` (``_``) and ``ToKebabCase`` (``-``)."""
    if not s:
        return ""
    out: list[str] = []
    n = len(s)
    wt, a, b = _next_word(s, 0)
    while b < n:
        if wt != CONNECTOR:
            _to_lower(out, wt, s[a:b], connector)
        prev, last = wt, s[a:b]
        wt, a, b = _next_word(s, b)
        if prev == NUMBER:
            while wt in (ALPHA, NUMBER):
                _to_lower(out, wt, s[a:b], connector)
                wt, a, b = _next_word(s, b)
            if wt not in (INVALID, PUNCT, CONNECTOR):
                out.append(connector)
        elif prev == CONNECTOR:
            _to_lower(out, prev, last, connector)
        elif prev == PUNCT:
            pass
        else:
            if wt != NUMBER:
                if wt not in (CONNECTOR, PUNCT):
                    out.append(connector)
                continue
            if b >= n:
                continue
            last = s[a:b]
            wt, a, b = _next_word(s, b)
            if wt != ALPHA:
                _to_lower(out, NUMBER, last, connector)
                if wt not in (CONNECTOR, PUNCT):
                    out.append(connector)
                continue
            out.append(connector)
            _to_lower(out, NUMBER, last, connector)
            while wt in (ALPHA, NUMBER):
                _to_lower(out, wt, s[a:b], connector)
                wt, a, b = _next_word(s, b)
            if wt not in (INVALID, CONNECTOR, PUNCT):
                out.append(connector)
    _to_lower(out, wt, s[a:b], connector)
    return "".join(out)


def to_camel(s: str, big: bool) -> str:
    """xstrings ``toCamelCase``; sprig's ``camelcase`` is ``ToPascalCase`` (big=True)."""
    if not s:
        return ""
    out: list[str] = []
    i = 0
    n = len(s)
    first_upper = False
    r0 = ""
    size = 0
    while i < n:
        r0 = fix(s[i])
        i += 1
        size = 1
        if not is_connector(r0):
            first_upper = is_upper(r0)
            r0 = to_upper(r0) if big else to_lower(r0)
            break
        out.append(r0)
    if i >= n:
        if size:
            out.append(r0)
        return "".join(out)
    while i < n:
        r1 = r0
        r0 = fix(s[i])
        i += 1
        if is_connector(r0) and is_connector(r1):
            out.append(r1)
            continue
        if is_connector(r1):
            first_upper = is_upper(r0)
            r0 = to_upper(r0)
        else:
            if first_upper:
                if is_upper(r0):
                    r0 = to_lower(r0)
                else:
                    first_upper = False
            out.append(r1)
    if first_upper and not big:
        r0 = to_lower(r0)
    out.append(r0)
    return "".join(out)
