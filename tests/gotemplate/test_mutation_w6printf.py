"""Mutants of printf.sprintf: argument indexes, ``*`` width/precision, ``%.`` and the EXTRA list.

Expected values are Go's fmt.Sprintf (doPrintf / argNumber / parseArgNumber as in Go 1.26 print.go):
an index right before a width or ``.`` is BADINDEX, any ``[n]`` turns off the EXTRA check,
a bare ``.`` means precision 0, ``%v`` moves ``#``/``+`` to sharpV/plusV, and a nil operand of
EXTRA prints ``<nil>``. Called directly on sprintf so each case pins one branch.
"""

from __future__ import annotations

from typing import Any

import pytest

from secretsync.gotemplate import Limits
from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.limits import Budget
from secretsync.gotemplate.printf import sprintf


def _f(fmt: str, *args: Any, limits: Limits | None = None) -> str:
    return sprintf(Budget(limits or Limits()), fmt, list(args))


@pytest.mark.parametrize(
    ("fmt", "args", "want"),
    [
        # an index followed by a width or a precision is BADINDEX ("%[3]2d", "%[3].2d")
        ("%[1]2d", (5,), "%!d(BADINDEX)"),
        ("%[1].2d", (5,), "%!d(BADINDEX)"),
        ("%[1].d", (5,), "%!d(BADINDEX)"),
        # a bad index after "." or after the width is BADINDEX too
        ("%.[9]d", (5,), "%!d(BADINDEX)"),
        ("%5[9]d", (5,), "%!d(BADINDEX)"),
        # indexes after "." / "*" / the width select the operand
        ("%.[1]*[2]d", (3, 5), "005"),
        ("%.*[2]d", (2, 5), "05"),
        ("%.[1]", (5,), "%!(NOVERB)"),
        # any bracket turns the EXTRA check off, wherever it is
        ("%.[2]d", (7, 8, 9), "8"),
        ("%5[2]d", (7, 8, 9), "    8"),
        ("%[1]d%.1d", (1, 2, 3), "12"),
        ("%[1]d%5d", (1, 2, 3), "1    2"),
        # "." needs a character after it; alone, or without digits, it is precision 0
        ("%.", (5,), "%!.(int=5)"),
        ("%.f", (3.7,), "4"),
        ("%.d", (0,), ""),
        ("%.*d", (0, 5), "5"),
        # %v with flags and a width: # and + become sharpV / plusV
        ("%#5v", ("x",), '  "x"'),
        # a nil operand at top level is padded like any %v
        ("%7v", (None,), "  <nil>"),
        ("%5d", (None,), "%!d(<nil>)"),
        # EXTRA: operands separated by ", ", nil as <nil>
        ("", (1, "a"), "%!(EXTRA int=1, string=a)"),
        ("%d", (1, None, 2), "1%!(EXTRA <nil>, int=2)"),
    ],
)
def test_sprintf_follows_go(fmt: str, args: tuple[Any, ...], want: str) -> None:
    assert _f(fmt, *args) == want


def test_sprintf_depth_of_top_level_operands() -> None:
    # Our own depth bound: a top-level operand is at depth 0, in a verb and in EXTRA alike.
    limits = Limits(max_depth=2)
    assert _f("%5v", [[1]], limits=limits) == "[[    1]]"
    assert _f("", [[1]], limits=limits) == "%!(EXTRA []interface {}=[[1]])"
    with pytest.raises(Fault):
        _f("", [[[1]]], limits=limits)
