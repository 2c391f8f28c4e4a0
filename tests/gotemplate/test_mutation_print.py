"""Go value printing, ``printf`` and ``strconv`` edges that mutants of printer.py, printf.py and
gostrconv.py showed untested.

Expected values follow Go's ``fmt`` (fmtC, fmtQc, fmtUnicode, fmtSbx, intFromArg) and ``strconv``
(Atoi, QuoteRune, CanBackquote, underscoreOK), not our implementation.
"""

from __future__ import annotations

import pytest

from secretsync.gotemplate import Limits, TemplateError, render
from secretsync.gotemplate import gostrconv as sc
from secretsync.gotemplate.errors import Fault

# A 1e6-wide pad is legal in Go (tooLarge is > 1e6) and fits the default value limit (1 MiB); no
# clock so a traced mutation run is not stopped by the time budget.
NO_CLOCK = Limits(time_budget=3600.0)


def out(source: str, data: object = None) -> str:
    return render({"t": source}, data or {}, limits=NO_CLOCK)["t"]


PRINTF = [
    # %c: a code point is printed as is up to U+10FFFF, except surrogates; anything else is U+FFFD
    ('{{ printf "%c" 0 }}', "\x00"),
    ('{{ printf "%c" 0x10FFFF }}', "\U0010ffff"),
    ('{{ printf "%c" 0x110000 }}', "\ufffd"),
    ('{{ printf "%c" 0xD800 }}', "\ufffd"),
    ('{{ printf "%c" 0xDFFF }}', "\ufffd"),
    ('{{ printf "%c" 0xE000 }}', "\ue000"),
    ('{{ printf "%c" -1 }}', "\ufffd"),
    # %q of an integer: QuoteRune, with invalid runes (negative, too big) as U+FFFD
    ('{{ printf "%q" -1 }}', "'\ufffd'"),
    ('{{ printf "%+q" -1 }}', "'\\ufffd'"),
    ('{{ printf "%q" 0x110000 }}', "'\ufffd'"),
    ('{{ printf "%q" 0 }}', "'\\x00'"),
    ('{{ printf "%q" 0x10FFFF }}', "'\\U0010ffff'"),
    ('{{ printf "%q" 0xE000 }}', "'\\ue000'"),
    ('{{ printf "%q" 0xE9 }}', "'\u00e9'"),
    ('{{ printf "%+q" 0xE9 }}', "'\\u00e9'"),
    # %U: precision only counts above 4
    ('{{ printf "%.2U" 0x41 }}', "U+0041"),
    ('{{ printf "%.4U" 0x41 }}', "U+0041"),
    ('{{ printf "%.5U" 0x41 }}', "U+00041"),
    ('{{ printf "%#U" 0x41 }}', "U+0041 'A'"),
    ('{{ printf "%#U" 0x10FFFF }}', "U+10FFFF"),
    # %x of a string: widths count the encoding, flags, separators
    ('{{ printf "%10x" "ab" }}', "      6162"),
    ('{{ printf "%8x" "ab" }}', "    6162"),
    ('{{ printf "%-8x" "ab" }}', "6162    "),
    ('{{ printf "%4x|%-4x" "ab" "ab" }}', "6162|6162"),
    ('{{ printf "% 12x" "abc" }}', "    61 62 63"),
    ('{{ printf "%- 12x|" "abc" }}', "61 62 63    |"),
    ('{{ printf "% #14x" "ab" }}', "     0x61 0x62"),
    ('{{ printf "% #14X" "ab" }}', "     0X61 0X62"),
    ('{{ printf "% #x" "abc" }}', "0x61 0x62 0x63"),
    ('{{ printf "%#8x" "ab" }}', "  0x6162"),
    ('{{ printf "%-#8X|" "ab" }}', "0X6162  |"),
    ('{{ printf "%.1x" "ab" }}', "61"),
    ('{{ printf "%.2x" "ab" }}', "6162"),
    ('{{ printf "%8.1x" "ab" }}', "      61"),
    # an empty string prints only the width's padding
    ('{{ printf "%#x|% x|% #x" "" "" "" }}', "||"),
    ('{{ printf "% 5x|" "" }}', "     |"),
    ('{{ printf "%#3x|" "" }}', "   |"),
    ('{{ printf "% #3X|" "" }}', "   |"),
    # * takes a width or precision argument: |n| <= 1e6 is fine, missing or too large is BAD*
    ('{{ printf "%*d" }}', "%!(BADWIDTH)%!d(MISSING)"),
    ('{{ printf "%.*d" }}', "%!(BADPREC)%!d(MISSING)"),
    ('{{ printf "%*d" 1000001 7 }}', "%!(BADWIDTH)7"),
    ('{{ printf "%*d" -1000001 7 }}', "%!(BADWIDTH)7"),
    ('{{ printf "%.*d" 1000001 7 }}', "%!(BADPREC)7"),
    ('{{ printf "%*d" "3" 7 }}', "%!(BADWIDTH)7"),
    ('{{ printf "%.*d" "3" 7 }}', "%!(BADPREC)7"),
    ('{{ printf "%*d" -3 7 }}', "7  "),
]


@pytest.mark.parametrize(("source", "expected"), PRINTF)
def test_printf_like_go(source: str, expected: str) -> None:
    assert out(source) == expected


def test_a_width_argument_of_minus_one_million_left_justifies() -> None:
    assert out('{{ printf "%*d" -1000000 7 }}') == "7" + " " * 999_999


def test_a_width_argument_of_one_million_pads() -> None:
    assert out('{{ printf "%*d" 1000000 7 }}') == " " * 999_999 + "7"


def test_a_precision_argument_of_one_million_pads_with_zeros() -> None:
    assert out('{{ printf "%.*d" 1000000 7 }}') == "0" * 999_999 + "7"


NUMBERS = [
    # underscores may follow a base prefix and sit between (hex) digits
    ("{{ 0x_a }}", "10"),
    ("{{ 0x_A }}", "10"),
    ("{{ 0xa_a }}", "170"),
    ("{{ 0x_f_f }}", "255"),
    ("{{ 1_0e1_0 }}", "1e+11"),
    # sprig atoi is strconv.Atoi: base 10 only, one digit is a number, errors give 0
    ('{{ atoi "7" }}', "7"),
    ('{{ atoi "-7" }}', "-7"),
    ('{{ atoi "010" }}', "10"),
    ('{{ atoi "0x10" }}', "0"),
    ('{{ atoi "1_0" }}', "0"),
    ('{{ atoi "+" }}', "0"),
    ('{{ atoi "" }}', "0"),
]


@pytest.mark.parametrize(("source", "expected"), NUMBERS)
def test_numbers_like_go(source: str, expected: str) -> None:
    assert out(source) == expected


@pytest.mark.parametrize("source", ["{{ 1_E5 }}", "{{ 1_e5 }}", "{{ 0x_g }}", "{{ 1__0 }}", "{{ 1_ }}"])
def test_misplaced_underscores_are_illegal_number_syntax(source: str) -> None:
    with pytest.raises(TemplateError):
        out(source)


@pytest.mark.parametrize(
    ("s", "expected"),
    [
        ("7", (7, None)),
        ("+7", (7, None)),
        ("-7", (-7, None)),
        ("010", (10, None)),
        ("x", (0, "syntax")),
        ("", (0, "syntax")),
        ("-", (0, "syntax")),
        ("0x1", (0, "syntax")),
        ("1_0", (0, "syntax")),
        ("99999999999999999999", (sc.INT_MAX, "range")),
    ],
)
def test_atoi_is_strconv_atoi(s: str, expected: tuple[int, str | None]) -> None:
    assert sc.atoi(s) == expected


def test_quote_rune_is_not_ascii_only_by_default() -> None:
    assert sc.quote_rune(0xE9) == "'\u00e9'"
    assert sc.quote_rune(0xE9, ascii_only=True) == "'\\u00e9'"


@pytest.mark.parametrize("tok", ["xa'", "'a", "''", "'", "'ab'", "a"])
def test_unquote_char_refuses_what_is_not_one_rune_literal(tok: str) -> None:
    with pytest.raises(Fault):
        sc.unquote_char(tok)


def test_unquote_char_reads_a_rune_literal() -> None:
    assert sc.unquote_char("'a'") == 97
    assert sc.unquote_char("'\\n'") == 10


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('{{ printf "%#q" "a\\tb" }}', "`a\tb`"),
        ('{{ printf "%#q" "\\uFFFDx" }}', "`\ufffdx`"),
        ('{{ printf "%#q" "\\uFEFF" }}', '"\\ufeff"'),
        ('{{ printf "%#q" "a`b" }}', '"a`b"'),
        ('{{ printf "%#q" (b64dec "/w==") }}', '"\\xff"'),
    ],
)
def test_sharp_q_backquotes_when_go_can(source: str, expected: str) -> None:
    assert out(source) == expected


# A Python str holding a lone surrogate outside U+DC80..U+DCFF is not a Go string; everything else
# reads it as U+FFFD (gostrconv.to_bytes), which Go's CanBackquote accepts (a valid 3-byte rune).
@pytest.mark.parametrize("stray", ["\ud800", "\udfff"])
def test_sharp_q_of_a_stray_surrogate_backquotes_as_u_fffd(stray: str) -> None:
    assert sc.to_bytes(out('{{ printf "%#q" .a }}', {"a": stray + "x"})) == "`\ufffdx`".encode()
