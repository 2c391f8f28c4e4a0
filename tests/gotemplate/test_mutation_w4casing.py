"""Mutation survivors (fourth wave) in Go's rune case rules (``funcs/casing.py``).

Every survivor of this wave turned out equivalent (see the accounting notes). These cases pin Go's
behaviour at the boundaries those mutants move (ASCII vs. the Unicode category tables, U+0080,
the first rune of ``camelcase``), and one divergence: Go's ``unicode.ToUpper`` is the *simple*
upper-case mapping (UnicodeData), which for U+1F80..U+1FA7's ypogegrammeni letters and U+1FB3,
U+1FC3, U+1FF3 is one rune, where Python's full mapping is two (``"ᾀ".upper() == "ἈΙ"``).

Expected values follow Go's ``strings.ToUpper``/``strings.Title``, goutils ``SwapCase`` and
huandu/xstrings ``ToPascalCase`` (sprig's ``camelcase``).
"""

from __future__ import annotations

import pytest

from .test_mutation_funcsB import r


@pytest.mark.parametrize(
    ("source", "want"),
    [
        # swapcase: ASCII punctuation has no case and ends a "whitespace" run: the next lower-case
        # rune takes ToUpper (DŽ), after a space ToTitle (Dž); U+01C6..U+01C4 tell the two apart
        ('{{ swapcase "\u01c6[\u01c6 \u01c6" }}', "\u01c5[\u01c4 \u01c5"),
        ('{{ swapcase "\u01c6`\u01c6_\u01c6" }}', "\u01c5`\u01c4_\u01c4"),
        ('{{ swapcase "\u01c6\u0080\u01c6\u0085\u01c6" }}', "\u01c5\u0080\u01c4\u0085\u01c5"),
        ('{{ swapcase "aZ[z\u01c5" }}', "Az[Z\u01c6"),  # a title-case rune goes to lower case
        # title: U+0080 is not a separator (not a space), U+0085 is; the first rune is title-cased
        ('{{ title "\u0080\u01c6 \u0085\u01c6" }}', "\u0080\u01c6 \u0085\u01c5"),
        ('{{ title "\u01c6a_b c" }}', "\u01c5a_b C"),
        ('{{ title "\u0101\u0661x \u0661x" }}', "\u0100\u0661x \u0661x"),  # a digit glues the word
        # camelcase (ToPascalCase): one rune, leading connectors kept, first rune upper-cased
        ('{{ camelcase "a" }}', "A"),
        ('{{ camelcase "__" }}', "___"),  # xstrings writes the last connector twice (its size != 0)
        ('{{ camelcase "_a" }}', "_A"),
        ('{{ camelcase "\u01c6" }}', "\u01c4"),
        ('{{ camelcase "AB_cD" }}', "AbCD"),
    ],
)
def test_case_rules_at_the_ascii_boundary(source: str, want: str) -> None:
    assert r(source) == want


# Go's unicode.ToUpper is the simple mapping: U+1F80 -> U+1F88, U+1FB3 -> U+1FBC (casing kept the rune
# because Python's full upper-case mapping is two runes); a title-case U+1F88 and "ß" have none.
@pytest.mark.parametrize(
    ("source", "want"),
    [
        ('{{ upper "\u1f80\u1f97\u1fa7\u1fb3\u1fc3\u1ff3" }}', "\u1f88\u1f9f\u1faf\u1fbc\u1fcc\u1ffc"),
        ('{{ swapcase "\u1f80\u1f80" }}', "\u1f88\u1f88"),  # ToTitle, then ToUpper
        ('{{ camelcase "\u1f80" }}', "\u1f88"),
        ('{{ camelcase "a_\u1f80" }}', "A\u1f88"),
        ('{{ upper "\u1f88\u00df\ufb00" }}', "\u1f88\u00df\ufb00"),
    ],
)
def test_upper_uses_the_simple_case_mapping(source: str, want: str) -> None:
    assert r(source) == want
