"""Fourth-wave mutation survivors in nodes.py (``IsEmptyTree``), printer.py, printf.py and values.py.

Expected values are Go's: ``text/template/parse`` (``IsEmptyTree``: nil and comments are empty) and
``fmt`` (fmtUnicode, fmtSbx, fmtFloat, intFromArg). Almost every survivor here is equivalent (no
input tells it apart); the table below pins Go's output at the boundaries those mutants move, so a
later change that does make them differ is caught.
"""

from __future__ import annotations

from typing import Any

import pytest

from secretsync.gotemplate import TemplateError, render
from secretsync.gotemplate import nodes as n

# --- IsEmptyTree --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("node", "want"),
    [
        (n.ListNode(0, [n.TextNode(1, " \t\n"), n.TextNode(4, "\u3000")]), True),
        (n.ListNode(0, [n.TextNode(1, " "), n.ListNode(2, [n.TextNode(3, "x")])]), False),
        (n.TextNode(0, "\u0085"), True),
        (n.DotNode(0), False),
        (n.ListNode(0, [n.TextNode(0, " x ")]), False),
        (n.ListNode(0, []), True),
    ],
)
def test_is_empty_tree_follows_go(node: n.Node, want: bool) -> None:
    assert n.is_empty_tree(node) is want


# --- fmt: the boundaries of the equivalent mutants ----------------------------------------------


def _r(source: str, data: Any = None) -> str:
    return render({"t": source}, {} if data is None else data)["t"]


_DATA = {"a": 1.875, "m": -1.0, "z": -0.0, "b": 1.9999999999999998, "i": float("inf"), "j": float("-inf")}


@pytest.mark.parametrize(
    ("source", "want"),
    [
        # %U: precision 4 is the default; %#U quotes a rune only up to MaxRune and when IsPrint
        ('{{ printf "%.4U|%#U|%#U|%#U" 1 1114111 1114112 65 }}', "U+0001|U+10FFFF|U+110000|U+0041 'A'"),
        # %x of a string: width equal to the output pads nothing; precision equal to the length cuts nothing
        (
            '{{ printf "[%4x][%-4x][%.2x][%5x][%-5x][%x]" "ab" "ab" "ab" "ab" "ab" "" }}',
            "[6162][6162][6162][ 6162][6162 ][]",
        ),
        # %#X of a float: an E in the hex mantissa is a digit, not an exponent; %#x pads to 6 digits
        ('{{ printf "%#X|%#x" .a .a }}', "0X1.EP+00|0x1.e000p+00"),
        # %b and %x of negative numbers and -0; rounding up carries into the exponent
        (
            '{{ printf "%b|%b|%x|%.0x|%.3x" .m .z .m .b .b }}',
            "-4503599627370496p-52|-0p-1074|-0x1p+00|0x1p+01|0x1.000p+01",
        ),
        ('{{ printf "%x|%X" .i .j }}', "+Inf|-Inf"),
        # a non-int * argument: BADWIDTH / BADPREC, the argument is used up, nothing is padded
        (
            '{{ printf "%*d|%.*d|%*d|%.*d" "x" 5 "y" 5 }}',
            "%!(BADWIDTH)5|%!(BADPREC)5|%!(BADWIDTH)%!d(MISSING)|%!(BADPREC)%!d(MISSING)",
        ),
        # lt of an ASCII and a non-ASCII string: UTF-8 byte order, the same as code point order there
        (
            '{{ lt "z" "é" }}|{{ lt "é" "z" }}|{{ lt "a" "aé" }}|{{ lt "ab" "aé" }}|{{ lt "é" "" }}',
            "true|false|true|true|false",
        ),
    ],
)
def test_fmt_boundaries_follow_go(source: str, want: str) -> None:
    assert _r(source, _DATA) == want


def test_a_define_of_blank_text_and_comments_may_be_redefined() -> None:
    # Go (no ParseComments) drops comments, so this body is empty and the second define wins
    source = '{{ define "x" }} {{/* c */}} {{ end }}{{ define "x" }}y{{ end }}{{ template "x" }}'
    assert render({"t": source}, {})["t"] == "y"
    with pytest.raises(TemplateError) as info:
        render({"t": '{{ define "x" }}a{{/* c */}}{{ end }}{{ define "x" }}y{{ end }}'}, {})
    assert info.value.detail == "multiple definition of template"
