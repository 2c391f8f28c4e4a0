"""Mutation survivors of parser.py (its own run): {{break}} and {{continue}} are allowed exactly
inside a range, however ranges, ifs, withs and blocks nest. Every expected value is go1.26.8's."""

from __future__ import annotations

import pytest

from secretsync.gotemplate import TemplateError, render


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ range 1 }}{{ end }}{{ break }}", "{{break}} outside {{range}}"),
        ("{{ range 1 }}{{ end }}{{ continue }}", "{{continue}} outside {{range}}"),
        ("{{ if 1 }}{{ end }}{{ break }}", "{{break}} outside {{range}}"),
        ("{{ with 1 }}{{ end }}{{ break }}", "{{break}} outside {{range}}"),
        ("{{ range 2 }}{{ range 1 }}{{ end }}{{ break }}{{ end }}x", "x"),
        ("{{ range 3 }}{{ range 1 }}{{ end }}{{ continue }}{{ end }}x", "x"),
        ("{{ range $i := 3 }}{{ if eq $i 1 }}{{ break }}{{ end }}{{ $i }}{{ end }}", "0"),
        ('{{ block "x" 1 }}{{ break }}{{ end }}', "{{break}} outside {{range}}"),
        ('{{ range 2 }}{{ block "x" 1 }}{{ break }}{{ end }}{{ end }}', "{{break}} outside {{range}}"),
        ('{{ range 2 }}{{ block "x" 1 }}{{ end }}{{ break }}{{ end }}y', "y"),
    ],
)
def test_break_and_continue_only_inside_a_range(source: str, expected: str) -> None:
    try:
        got = render({"t": source}, {})["t"]
    except TemplateError as error:
        assert error.kind == "syntax"
        got = str(error.detail)
    assert got == expected
