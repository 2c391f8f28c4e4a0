"""Round-2 regex survivors (sprig_regex's rune width, $-expansion, replaceAll's value limit) and
walk_if's depth bookkeeping.

Expected values are Go 1.26 regexp: ``replaceAll`` and ``allMatches`` step past an empty match by
``utf8.DecodeRune``'s width (1 for a byte that starts no valid rune), ``Regexp.Expand`` treats a
``$`` without a valid name as raw text and expands an unknown name to nothing. The depth and value
limits are our own: an ``if`` gives back the nesting level it took, and a replacement result of
exactly ``max_value_bytes`` is allowed.
"""

from __future__ import annotations

import pytest

from secretsync.gotemplate import Limits

from .test_mutation_funcsB import fails, r

# --- sprig_regex: an empty match advances by one whole rune ------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("éa", "-é-a-"),  # a 2-byte rune, then a 1-byte one
        ("€a", "-€-a-"),  # 3 bytes
        ("😀a", "-😀-a-"),  # 4 bytes
        ("€", "-€-"),  # a 3-byte rune at the very end
        ("\\xffa", "-\udcff-a-"),  # a byte that starts no rune is one position
        ("\\x80a", "-\udc80-a-"),
        ("\\xe2\\x82a", "-\udce2-\udc82-a-"),  # a truncated 3-byte rune: each byte alone
    ],
)
def test_empty_matches_step_over_whole_runes(text: str, want: str) -> None:
    # ``text`` is the body of a Go string literal, where \xNN is one byte
    assert r('{{ regexReplaceAll "x*" "' + text + '" "-" }}') == want
    assert r('{{ regexFindAll "x*" "' + text + '" -1 | len }}') == str(want.count("-"))


# --- sprig_regex: Regexp.Expand -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "template", "want"),
    [
        ("(a)", "$$-$1", "$-ab"),  # expansion goes on after an escaped dollar
        ("(a)", "$-$1", "$-ab"),  # ... and after a dollar that names nothing
        ("(a)(b)", "[${x}]", "[]"),  # an unknown name is empty, not some group
        ("(a)(b)", "[$x|$2|$3]", "[|b|]"),
    ],
)
def test_expand_template(pattern: str, template: str, want: str) -> None:
    assert r(f'{{{{ regexReplaceAll "{pattern}" "ab" "{template}" }}}}') == want


# --- sprig_regex: replaceAll's value limit --------------------------------------------------------------


def test_replace_all_may_fill_the_value_limit_exactly() -> None:
    limits = Limits(max_value_bytes=64)
    for s, repl in (("a" * 64, "b"), ("a" * 32, "bb")):
        assert r(f'{{{{ regexReplaceAll "a" .s "{repl}" }}}}', {"s": s}, limits=limits) == "b" * 64
        err = fails(f'{{{{ regexReplaceAll "a" .s "{repl}" }}}}', {"s": s + "a"}, limits=limits)
        assert (err.kind, err.detail) == ("value limit", "regexReplaceAll")


# --- execute: an if gives its nesting level back ---------------------------------------------------------

_RECURSE = '{{ define "r" }}{{ if . }}.{{ template "r" (rest .) }}{{ end }}{{ end }}{{ template "r" .v }}'


def test_if_gives_its_nesting_level_back() -> None:
    limits = Limits(max_depth=10)
    # ten nested ifs use the whole depth, whatever ifs ran before them
    for before in ("", "{{ if 1 }}{{ end }}", "{{ if 0 }}{{ else }}{{ end }}" * 30):
        assert r(before + "{{ if 1 }}" * 10 + "x" + "{{ end }}" * 10, limits=limits) == "x"
    # recursion through a template: four levels fit in a depth of 10, five do not, ifs before or not
    for before in ("", "{{ if 1 }}{{ end }}" * 30):
        assert r(before + _RECURSE, {"v": [1, 2, 3, 4]}, limits=limits) == "...."
        assert fails(before + _RECURSE, {"v": [1, 2, 3, 4, 5]}, limits=limits).kind == "depth limit"
