"""Eighth-wave mutation survivors of gostrconv: literal unquoting, ParseFloat and FormatFloat.

Expected values are Go's strconv (Go 1.26): UnquoteChar/Unquote (escape rules, ``\\x``/octal give a
byte, ``\\u``/``\\U`` must be a valid rune, octal at most 255), ParseFloat(s, 64) (returns 0 and
ErrSyntax on bad syntax, ±Inf and ErrRange on overflow, accepts ``[+-]inf``/``[+-]infinity`` in any
case but only an unsigned ``nan``) and FormatFloat. A Go string's byte that is not UTF-8 is a lone
surrogate U+DC80..U+DCFF here.
"""

from __future__ import annotations

import math

import pytest

from secretsync.gotemplate import gostrconv as sc
from secretsync.gotemplate.errors import Fault

# --- Unquote / UnquoteChar ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tok", "want"),
    [
        ('"\\377"', "\udcff"),  # octal escape: one byte 0xff, not U+00FF
        ('"\\001\\177"', "\x01\x7f"),
        ('"\\x41"', "A"),
        ('"\\u00e9"', "\u00e9"),
        ('"\\t\\\\"', "\t\\"),
    ],
)
def test_unquote_decodes_escapes_like_go(tok: str, want: str) -> None:
    assert sc.unquote(tok) == want


@pytest.mark.parametrize(
    "tok",
    [
        '"\\X"',  # unknown escape
        '"\\x4"',  # too few hex digits
        '"\\12"',  # too few octal digits
        '"\\400"',  # octal above 255
        '"\\udc80"',  # a surrogate is not a valid rune
        '"\\U00110000"',
        '"\\n"x"',  # an unescaped quote inside
    ],
)
def test_unquote_refuses_what_go_refuses(tok: str) -> None:
    with pytest.raises(Fault):
        sc.unquote(tok)


@pytest.mark.parametrize(
    "tok",
    ["'''", "'\\ud800'", "'\\udfff'", "'\\U00110000'", "'\\400'", "'\\\"'"],
)
def test_unquote_char_refuses_what_go_refuses(tok: str) -> None:
    with pytest.raises(Fault):
        sc.unquote_char(tok)


@pytest.mark.parametrize(
    ("tok", "want"),
    [("'\\377'", 255), ("'\\ud7ff'", 0xD7FF), ("'\\ue000'", 0xE000), ("'\\U0010ffff'", 0x10FFFF)],
)
def test_unquote_char_reads_escapes(tok: str, want: int) -> None:
    assert sc.unquote_char(tok) == want


# --- ParseFloat ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("s", "want"),
    [
        ("+Infinity", (math.inf, None)),
        ("-INFINITY", (-math.inf, None)),
        ("+nan", (0.0, "syntax")),
        ("-NaN", (0.0, "syntax")),
        ("abc", (0.0, "syntax")),
        ("\u00e9" * 4097, (0.0, "syntax")),
        ("1." + "0" * 5000, (1.0, None)),  # long but plain: Go reads any length
        ("1e400", (math.inf, "range")),
        ("-1e400", (-math.inf, "range")),
        ("0x1p99999", (math.inf, "range")),
        ("-0x1p99999", (-math.inf, "range")),
        ("1_0.5", (10.5, None)),
    ],
)
def test_parse_float_like_go(s: str, want: tuple[float, str | None]) -> None:
    got = sc.parse_float(s)
    assert got == want
    assert math.copysign(1.0, got[0]) == math.copysign(1.0, want[0])


def test_parse_float_nan() -> None:
    v, err = sc.parse_float("NaN")
    assert math.isnan(v) and err is None


# --- FormatFloat -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("f", "fmt", "prec", "want"),
    [
        (1.5, "e", 0, "2e+00"),  # round half to even at one significant digit
        (2.5, "e", 0, "2e+00"),
        (1.5, "g", 0, "2"),  # %g precision 0 means 1
        (1.5, "g", 1, "2"),
        (0.05, "e", -1, "5e-02"),  # shortest: leading zeros are not digits
        (0.05, "E", -1, "5E-02"),
        (0.0012, "e", -1, "1.2e-03"),
        (1e20, "g", 5, "1e+20"),
        (123456.0, "G", 3, "1.23E+05"),
    ],
)
def test_format_float_like_go(f: float, fmt: str, prec: int, want: str) -> None:
    assert sc.format_float(f, fmt, prec) == want
