"""Go's ``strconv`` where templates see it: literals, quoting, number parsing and formatting.

Why hand-written: Python's ``int()``/``float()`` accept what Go refuses (spaces,
``017`` is an error in Python and octal in Go) and print floats differently
(``1e+06`` in Go, ``1000000.0`` in Python). Strings are Python ``str`` whose bytes
are ``s.encode("utf-8", "surrogateescape")``: a Go string holding invalid UTF-8
bytes maps to lone surrogates U+DC80..U+DCFF, and back.
"""

from __future__ import annotations

import functools
import math
import re
import struct

from secretsync.gotemplate.errors import Fault

GO_SPACES = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""Go's ``unicode.IsSpace`` (Python's ``str.isspace`` also counts U+001C..U+001F)."""

ENC = "utf-8"
ERR = "surrogateescape"

INT_MIN = -(1 << 63)
INT_MAX = (1 << 63) - 1


def wrap64(n: int) -> int:
    """Go int64 arithmetic wraps around; so does ours (never a Python big int)."""
    n &= (1 << 64) - 1
    return n - (1 << 64) if n >> 63 else n


def to_bytes(s: str) -> bytes:
    """The Go bytes of a string; stray surrogates (not from a byte) become U+FFFD as in Go."""
    try:
        return s.encode(ENC, ERR)
    except UnicodeEncodeError:
        fixed = "".join(
            "\ufffd" if 0xD800 <= ord(c) <= 0xDFFF and not 0xDC80 <= ord(c) <= 0xDCFF else c for c in s
        )
        return fixed.encode(ENC, ERR)


def from_bytes(b: bytes) -> str:
    return b.decode(ENC, ERR)


def byte_len(s: str) -> int:
    """``len(s)`` in Go: UTF-8 bytes, an escaped byte counting one."""
    if s.isascii():
        return len(s)
    return len(to_bytes(s))


# --- literals -----------------------------------------------------------------------

_SIMPLE_ESC = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, "'": 39, '"': 34}
_HEX = "0123456789abcdefABCDEF"


def _unquote_char(s: str, i: int, quote: str) -> tuple[int, bool, int]:
    """Decode one (possibly escaped) character at ``s[i]``: (value, is_byte, next index)."""
    c = s[i]
    if c == quote and quote in "'\"":
        raise ValueError
    if c != "\\":
        return ord(c), False, i + 1
    if i + 1 >= len(s):
        raise ValueError
    e = s[i + 1]
    if e in _SIMPLE_ESC:
        if e in "'\"" and e != quote:
            raise ValueError
        return _SIMPLE_ESC[e], False, i + 2
    if e in "xuU":
        n = {"x": 2, "u": 4, "U": 8}[e]
        digits = s[i + 2 : i + 2 + n]
        if len(digits) != n or any(d not in _HEX for d in digits):
            raise ValueError
        v = int(digits, 16)
        if e == "x":
            return v, True, i + 2 + n
        if v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
            raise ValueError
        return v, False, i + 2 + n
    if e in "01234567":
        digits = s[i + 1 : i + 4]
        if len(digits) != 3 or any(d not in "01234567" for d in digits):
            raise ValueError
        v = int(digits, 8)
        if v > 255:
            raise ValueError
        return v, True, i + 4
    raise ValueError


def unquote(tok: str) -> str:
    """A Go string literal (interpreted or raw) as written in the source, decoded."""
    if len(tok) < 2 or tok[0] != tok[-1] or tok[0] not in '"`':
        raise Fault("syntax")
    body = tok[1:-1]
    if tok[0] == "`":
        return body.replace("\r", "")
    if "\\" not in body:
        if '"' in body or "\n" in body:
            raise Fault("syntax")
        return body
    out = bytearray()
    i = 0
    try:
        while i < len(body):
            if body[i] == "\n":
                raise ValueError
            v, is_byte, i = _unquote_char(body, i, '"')
            if is_byte:
                out.append(v)
            else:
                out += chr(v).encode(ENC, ERR)
    except (ValueError, IndexError, UnicodeEncodeError):
        raise Fault("syntax") from None
    return from_bytes(bytes(out))


def unquote_char(tok: str) -> int:
    """A Go rune literal such as ``'a'`` or ``'\\n'``: its code point."""
    if len(tok) < 3 or tok[0] != "'" or tok[-1] != "'":
        raise Fault("syntax")
    try:
        v, _, end = _unquote_char(tok, 1, "'")
    except (ValueError, IndexError):
        raise Fault("syntax") from None
    if end != len(tok) - 1:
        raise Fault("syntax")
    return v


def is_print(r: int) -> bool:
    """Go's ``strconv.IsPrint`` (close enough: Python's notion of printable)."""
    if r == 0x20:
        return True
    if r > 0x10FFFF or 0xD800 <= r <= 0xDFFF:
        return False
    return chr(r).isprintable()


def _quote_rune_into(out: list[str], r: int, quote: str, ascii_only: bool) -> None:
    if r == ord(quote) or r == 0x5C:
        out.append("\\" + chr(r))
        return
    if (r < 0x80 or not ascii_only) and is_print(r):
        out.append(chr(r))
        return
    simple = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}
    if r in simple:
        out.append(simple[r])
    elif r < 0x20 or r == 0x7F:
        out.append(f"\\x{r:02x}")
    elif r > 0x10FFFF or 0xD800 <= r <= 0xDFFF:
        out.append("\\ufffd" if ascii_only else "\ufffd")
    elif r < 0x10000:
        out.append(f"\\u{r:04x}")
    else:
        out.append(f"\\U{r:08x}")


def quote(s: str, ascii_only: bool = False) -> str:
    """Go's ``strconv.Quote`` (``QuoteToASCII`` with ``ascii_only``)."""
    out = ['"']
    for ch in s:
        r = ord(ch)
        if 0xDC80 <= r <= 0xDCFF:  # an invalid byte in the Go string
            out.append(f"\\x{r - 0xDC00:02x}")
        else:
            _quote_rune_into(out, r, '"', ascii_only)
    out.append('"')
    return "".join(out)


def quote_rune(r: int, ascii_only: bool = False) -> str:
    """Go's ``strconv.QuoteRune``: ``'a'``, ``'\\n'``; invalid runes print as U+FFFD."""
    if r > 0x10FFFF or 0xD800 <= r <= 0xDFFF or r < 0:
        r = 0xFFFD
    out = ["'"]
    _quote_rune_into(out, r, "'", ascii_only)
    out.append("'")
    return "".join(out)


def can_backquote(s: str) -> bool:
    for ch in s:
        r = ord(ch)
        # U+DC80..U+DCFF stand for bytes that are not UTF-8 (Go: RuneError of width 1); any other
        # lone surrogate is written as U+FFFD, a valid rune Go's CanBackquote accepts
        if ch == "`" or r == 0xFEFF or 0xDC80 <= r <= 0xDCFF:
            return False
        if (r < 0x20 and ch != "\t") or r == 0x7F:
            return False
    return True


# --- integers -------------------------------------------------------------------------


def _underscore_ok(s: str) -> bool:
    saw = "^"
    i = 0
    if s[:1] in ("+", "-"):
        s = s[1:]
    hexa = False
    if len(s) >= 2 and s[0] == "0" and s[1].lower() in "box":
        i = 2
        saw = "0"
        hexa = s[1].lower() == "x"
    while i < len(s):
        c = s[i]
        if "0" <= c <= "9" or (hexa and "a" <= c.lower() <= "f"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
        i += 1
    return saw != "_"


_DIGIT_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"


@functools.cache
def _digits_re(base: int, underscores: bool) -> re.Pattern[str]:
    """The longest run of ``base`` digits (and ``_`` where ParseUint skips them) at a position."""
    chars = _DIGIT_CHARS[:base]
    cls = "".join(sorted(set(chars + chars.upper())))
    return re.compile(f"[{re.escape(cls)}{'_' if underscores else ''}]*")


# underscoreOK on digits ParseUint has already checked: "_" only between digits, or right after
# a base prefix
_UINT_UNDERSCORES = re.compile(r"(?:0[bBoOxX]_?)?[0-9a-zA-Z]+(?:_[0-9a-zA-Z]+)*")


@functools.cache
def _width(base: int, bits: int) -> int:
    """How many ``base`` digits the largest ``bits``-bit number has."""
    n, width = (1 << bits) - 1, 1
    while n >= base:
        n //= base
        width += 1
    return width


def parse_uint(s: str, base: int = 0, bits: int = 64) -> tuple[int, str | None]:
    """Go's ``strconv.ParseUint``: (value, None | "syntax" | "range").

    Go reads digit by digit and stops at the first one that is no digit of the base (syntax) or
    makes the value overflow (range), whichever comes first; underscores (base 0 only) are
    checked last. Here the run of valid digits is found by one regular expression and at most
    ``bits`` digits of it reach ``int()``: linear in the text, at C speed.
    """
    if not s:
        return 0, "syntax"
    base0 = base == 0
    body = s
    if base == 0:
        base = 10
        if s[0] == "0":
            if len(s) >= 3 and s[1].lower() == "b":
                base, body = 2, s[2:]
            elif len(s) >= 3 and s[1].lower() == "o":
                base, body = 8, s[2:]
            elif len(s) >= 3 and s[1].lower() == "x":
                base, body = 16, s[2:]
            else:
                base, body = 8, s[1:]
    # body is empty only for "0" (octal zero): a prefix needs three characters, "" is refused above
    run = _digits_re(base, base0).match(body)
    valid = run.group() if run else ""
    limit = 1 << bits
    digits = valid.replace("_", "").lstrip("0") if base0 else valid.lstrip("0")
    if len(digits) > _width(base, bits) or (digits and int(digits, base) >= limit):
        return limit - 1, "range"  # the overflow comes before any bad character after the run
    if len(valid) != len(body):
        return 0, "syntax"
    if base0 and "_" in valid and not _UINT_UNDERSCORES.fullmatch(s):
        return 0, "syntax"
    return (int(digits, base) if digits else 0), None


def parse_int(s: str, base: int = 0) -> tuple[int, str | None]:
    """Go's ``strconv.ParseInt(s, base, 64)``: clamped value on range errors."""
    if not s:
        return 0, "syntax"
    neg = s[0] == "-"
    body = s[1:] if s[0] in "+-" else s
    u, err = parse_uint(body, base)
    if err == "syntax":
        return 0, err
    # a range error leaves u at the uint64 maximum, which the checks below clamp and name
    if not neg and u > INT_MAX:
        return INT_MAX, "range"
    if neg and u > -INT_MIN:
        return INT_MIN, "range"
    return (-u if neg else u), None


def atoi(s: str) -> tuple[int, str | None]:
    """Go's ``strconv.Atoi``: base 10, sign allowed, no underscores or prefixes."""
    body = s[1:] if s[:1] in ("+", "-") else s
    if not body or not body.isascii() or not body.isdigit():
        return 0, "syntax"
    return parse_int(s, 10)


# --- floats ---------------------------------------------------------------------------

_DEC_FLOAT = re.compile(r"[+-]?(?:[0-9_]+\.?[0-9_]*|\.[0-9_]+)(?:[eE][+-]?[0-9_]+)?")
_HEX_FLOAT = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F_]+\.?[0-9a-fA-F_]*|\.[0-9a-fA-F_]+)[pP][+-]?[0-9_]+")
_SPECIAL = {"inf": math.inf, "+inf": math.inf, "-inf": -math.inf, "infinity": math.inf}


def parse_float(s: str) -> tuple[float, str | None]:
    """Go's ``strconv.ParseFloat(s, 64)``: (value, None | "syntax" | "range")."""
    low = s.lower()
    if low in _SPECIAL or low in ("+infinity", "-infinity"):
        return (-math.inf if low.startswith("-") else math.inf), None
    if low in ("nan", "+nan", "-nan"):
        return (math.nan, None) if low == "nan" else (0.0, "syntax")
    if len(s) > 4096 and not s.isascii():
        return 0.0, "syntax"
    if _HEX_FLOAT.fullmatch(s):
        if "_" in s and not _underscore_ok(s):
            return 0.0, "syntax"
        try:
            v = float.fromhex(s.replace("_", ""))
        except (ValueError, OverflowError):
            return (math.copysign(math.inf, -1.0 if s.startswith("-") else 1.0)), "range"
        return v, None
    if not _DEC_FLOAT.fullmatch(s) or not any(c.isdigit() for c in s.split("e")[0].split("E")[0]):
        return 0.0, "syntax"
    if "_" in s and not _underscore_ok(s):
        return 0.0, "syntax"
    try:
        v = float(s.replace("_", ""))
    except (ValueError, OverflowError):
        return 0.0, "syntax"
    if math.isinf(v):
        return v, "range"
    return v, None


def _decimal(f: float, mode: str, prec: int) -> tuple[str, int]:
    """Digits of |f| (no leading or trailing zeros) and the decimal point position.

    ``mode`` "s" is Go's shortest round trip, "e" rounds to ``prec`` significant digits,
    "f" to ``prec`` digits after the point; Python rounds exactly as Go does.
    """
    a = abs(f)
    if mode == "s32":
        text = _shortest32(a)
    elif mode == "s":
        text = repr(a)
    elif mode == "e":
        text = f"{a:.{max(prec - 1, 0)}e}"
    else:
        text = f"{a:.{prec}f}"
    mant, _, exp = text.partition("e")
    ip, _, fp = mant.partition(".")
    digits = ip + fp
    dp = len(ip) + (int(exp) if exp else 0)
    stripped = digits.lstrip("0")
    dp -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    if not digits:
        return "", 0
    return digits, dp


def _float32(f: float) -> float:
    try:
        return float(struct.unpack("<f", struct.pack("<f", f))[0])
    except OverflowError:  # beyond float32: Go's conversion gives an infinity
        return math.copysign(math.inf, f)


def _shortest32(a: float) -> str:
    """The fewest significant digits that read back as the same float32 (Go's shortest, bitSize 32)."""
    a32 = _float32(a)
    for digits in range(1, 10):
        text = f"{a32:.{digits - 1}e}"
        if _float32(float(text)) == a32:
            return text
    return f"{a32:.8e}"


def _fmt_e(digits: str, dp: int, prec: int, echar: str) -> str:
    out = [digits[0] if digits else "0"]
    if prec > 0:
        out.append(".")
        frac = digits[1 : prec + 1]
        out.append(frac + "0" * (prec - len(frac)))
    exp = dp - 1 if digits else 0
    out.append(f"{echar}{'-' if exp < 0 else '+'}{abs(exp):02d}")
    return "".join(out)


def _fmt_f(digits: str, dp: int, prec: int) -> str:
    ip = digits[:dp] + "0" * max(0, dp - len(digits)) if dp > 0 else "0"
    if prec <= 0:
        return ip
    frac = []
    for i in range(1, prec + 1):
        j = dp + i - 1
        frac.append(digits[j] if 0 <= j < len(digits) else "0")
    return ip + "." + "".join(frac)


def format_float(f: float, fmt: str, prec: int, bits: int = 64) -> str:
    """Go's ``strconv.FormatFloat(f, fmt, prec, bits)`` for fmt in e, E, f, g, G (``bits`` 32
    only for the shortest form, ``prec`` -1)."""
    if bits == 32:
        f = _float32(f)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, f) < 0 else ""
    shortest = prec < 0
    low = fmt.lower()
    if shortest:
        digits, dp = _decimal(f, "s32" if bits == 32 else "s", 0)
        nd = len(digits)
        prec = {"e": max(nd - 1, 0), "f": max(nd - dp, 0), "g": nd}[low]
    elif low == "e":
        digits, dp = _decimal(f, "e", prec + 1)
    elif low == "f":
        digits, dp = _decimal(f, "f", prec)
    else:
        if prec == 0:
            prec = 1
        digits, dp = _decimal(f, "e", prec)
    nd = len(digits)
    if low == "e":
        return sign + _fmt_e(digits, dp, prec, fmt)
    if low == "f":
        return sign + _fmt_f(digits, dp, prec)
    eprec = prec
    if eprec > nd and nd >= dp:
        eprec = nd
    if shortest:
        eprec = 6
    exp = dp - 1
    if exp < -4 or exp >= eprec:
        if prec > nd:
            prec = nd
        return sign + _fmt_e(digits, dp, prec - 1, "e" if fmt == "g" else "E")
    if prec > dp:
        prec = nd
    return sign + _fmt_f(digits, dp, max(prec - dp, 0))
