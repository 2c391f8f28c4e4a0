"""Mutation survivors of lexer.py (round 14, the HEAD run): a field or variable name that runs into
a character no name holds is a syntax error saying so."""

from __future__ import annotations

import pytest

from secretsync.gotemplate import TemplateError, render


@pytest.mark.parametrize("source", ["{{ .a\x01 }}", "{{ $x\x01 }}", "{{ .a-b }}"])
def test_a_name_running_into_a_bad_character_is_a_syntax_error_saying_so(source: str) -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {})
    assert (info.value.kind, info.value.detail) == ("syntax", "bad character")


@pytest.mark.parametrize(
    ("source", "detail"),
    [  # Go's lexer: a backslash before a newline or the end still leaves the literal unterminated
        ('{{ "a\\\nb" }}', "unterminated quoted string"),
        ('{{ "a\\', "unterminated quoted string"),
        ("{{ 'a\\\n' }}", "unterminated character constant"),
        # a number at the very end of the source: the action is unclosed, nothing read past the end
        ("{{ 1", "unclosed action"),
        ("{{ 0x1", "unclosed action"),
    ],
)
def test_literals_cut_off_are_syntax_errors_naming_what_is_unterminated(source: str, detail: str) -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {})
    assert (info.value.kind, info.value.detail) == ("syntax", detail)


@pytest.mark.parametrize(
    ("source", "expected"),
    [  # go1.26.8 text/template: prefixes and exponents in either case
        ("{{ 0X1F }}", "31"),
        ("{{ 0O17 }}", "15"),
        ("{{ 0B101 }}", "5"),
        ("{{ 1E5 }}", "100000"),
        ("{{ 0x1P4 }}", "16"),
        ("{{ -0x1p-2 }}", "-0.25"),
        ("{{ 1e+2 }}", "100"),
    ],
)
def test_number_prefixes_and_exponents_as_go(source: str, expected: str) -> None:
    assert render({"t": source}, {})["t"] == expected


@pytest.mark.parametrize(  # go1.26.8: bad number syntax: "<the number as far as it was read>"
    "source",
    [
        "{{ 0o7X }}",
        "{{ 0b1X }}",
        "{{ 1X5 }}",
        "{{ 1eX }}",
        "{{ 1e+X }}",
        "{{ 0x1pX }}",
        "{{ 0x1p+X }}",
        "{{ 1.X }}",
        "{{ 0x1X }}",
        "{{ 1X }}",
        # a sign right after a number starts Go's complex constant, which must end in 'i'
        "{{ 1+2 }}",
        "{{ 1-2 }}",
        "{{ 1+ }}",
        "{{ 1+-2i }}",
        "{{ 1+2x }}",
        "{{ 1+2",
    ],
)
def test_a_malformed_number_is_bad_number_syntax(source: str) -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {})
    assert (info.value.kind, info.value.detail) == ("syntax", "bad number syntax")


@pytest.mark.parametrize(
    "source", ["{{ 1i }}", "{{ 2.5i }}", "{{ 1+2i }}", "{{1-2i}}", "{{ 1+i }}", "{{ 1+2i+3 }}"]
)
def test_an_imaginary_constant_is_refused_by_name(source: str) -> None:
    # Go prints (0+1i) and (1+2i) (1+i and 1+2i+3 fail later, in its parser); complex numbers are not
    # supported here, and the error says so
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {})
    assert (info.value.kind, info.value.detail) == ("syntax", "complex numbers are not supported")
