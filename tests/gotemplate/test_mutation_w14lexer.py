"""Mutation survivors of lexer.py (round 14, the HEAD run): a field or variable name that runs into
a character no name holds is a syntax error saying so."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from secretsync.gotemplate import TemplateError, render
from tests.gotemplate.outcome import output_or_syntax_error


@pytest.mark.parametrize(
    ("source", "character"),
    [  # go1.26.8: bad character <the character, %#U>
        ("{{ .a\x01 }}", "U+0001"),
        ("{{ $x\x01 }}", "U+0001"),
        ("{{ .a-b }}", "U+002D '-'"),
        ("{{ a\x01 }}", "U+0001"),
        ("{{ and\x01 }}", "U+0001"),
        ("{{ a-b }}", "U+002D '-'"),
        ("{{ .x\u20ac }}", "U+20AC '\u20ac'"),
        ("{{ ab\u00a0 }}", "U+00A0"),
    ],
)
def test_a_name_running_into_a_bad_character_is_a_syntax_error_saying_so(source: str, character: str) -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {})
    assert (info.value.kind, info.value.detail) == ("syntax", "bad character " + character)


@pytest.mark.parametrize(
    ("source", "detail"),
    [  # Go's lexer: a backslash before a newline or the end still leaves the literal unterminated
        ('{{ "a\\\nb" }}', "unterminated quoted string"),
        ('{{ "a\\', "unterminated quoted string"),
        ("{{ 'a\\\n' }}", "unterminated character constant"),
        # a number, a name or spaces at the very end of the source: the action is unclosed, nothing
        # read past the end
        ("{{ 1", "unclosed action"),
        ("{{ 1 ", "unclosed action"),
        ("{{ and", "unclosed action"),
        ("{{ true", "unclosed action"),
        ("{{ .X.Y", "unclosed action"),
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


@pytest.mark.parametrize(  # go1.26.8: bad number syntax: <the number as far as it was read, %q>
    "source, token",
    [
        ("{{ 0o7X }}", '"0o7X"'),
        ("{{ 0b1X }}", '"0b1X"'),
        ("{{ 1X5 }}", '"1X"'),
        ("{{ 1eX }}", '"1eX"'),
        ("{{ 1e+X }}", '"1e+X"'),
        ("{{ 0x1pX }}", '"0x1pX"'),
        ("{{ 0x1p+X }}", '"0x1p+X"'),
        ("{{ 1.X }}", '"1.X"'),
        ("{{ 0x1X }}", '"0x1X"'),
        ("{{ 1X }}", '"1X"'),
        ("{{ +X }}", '"+X"'),  # a sign, then a letter: no number at all
        ("{{ -X1 }}", '"-X"'),
        # a sign right after a number starts Go's complex constant, which must end in 'i'
        ("{{ 1+2 }}", '"1+2"'),
        ("{{ 1-2 }}", '"1-2"'),
        ("{{ 1+ }}", '"1+"'),
        ("{{ 1+-2i }}", '"1+"'),
        ("{{ 1+2x }}", '"1+2x"'),
        ("{{ 1+2", '"1+2"'),
    ],
)
def test_a_malformed_number_is_bad_number_syntax(source: str, token: str) -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {})
    assert (info.value.kind, info.value.detail) == ("syntax", "bad number syntax: " + token)


@pytest.mark.parametrize(
    "source", ["{{ 1i }}", "{{ 2.5i }}", "{{ 1+2i }}", "{{1-2i}}", "{{ 1+i }}", "{{ 1+2i+3 }}"]
)
def test_an_imaginary_constant_is_refused_by_name(source: str) -> None:
    # Go prints (0+1i) and (1+2i) (1+i and 1+2i+3 fail later, in its parser); complex numbers are not
    # supported here, and the error says so
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {})
    assert (info.value.kind, info.value.detail) == ("syntax", "complex numbers are not supported")


@pytest.mark.parametrize("source", ["{{ .X }}", "{{ $X := .X }}{{ $X }}", "{{ .X | printf `%s` }}"])
def test_a_field_or_variable_may_start_with_a_capital_x(source: str) -> None:
    assert render({"t": source}, {"X": "v"})["t"] == "v"


def _break() -> str:
    return "B"


def _continue() -> str:
    return "C"


@pytest.mark.parametrize(
    ("funcs", "source", "expected"),
    [  # go1.26.8: a function named break or continue makes the word an identifier (Go's breakOK)
        ({"break": _break}, "{{ break }}", "B"),
        ({"continue": _continue}, "{{ break }}", "{{break}} outside {{range}}"),
        ({}, "{{ break }}", "{{break}} outside {{range}}"),
        ({"break": _break}, "{{ range 2 }}{{ break }}{{ end }}", "BB"),
        ({"continue": _continue}, "{{ range 2 }}{{ break }}{{ end }}", ""),
        ({"break": _break}, "{{ continue }}", "{{continue}} outside {{range}}"),
        ({"continue": _continue}, "{{ continue }}", "C"),
        ({}, "{{ continue }}", "{{continue}} outside {{range}}"),
        ({"break": _break}, "{{ range 2 }}{{ continue }}x{{ end }}", ""),
        ({"continue": _continue}, "{{ range 2 }}{{ continue }}x{{ end }}", "CxCx"),
    ],
)
def test_break_and_continue_are_functions_when_the_map_has_them(
    funcs: dict[str, Callable[[], str]], source: str, expected: str
) -> None:
    assert output_or_syntax_error(source, funcs) == expected


@pytest.mark.parametrize(
    ("source", "detail"),
    [  # go1.26.8 text/template's lexer errors, each where Go's parser meets no fault first
        ("{{ (1 }}", "unclosed left paren"),
        ("{{ ( ( 1 ) }}", "unclosed left paren"),
        ("{{ ( -}}", "unclosed left paren"),
        ("{{ 1) }}", "unexpected right paren"),
        ("{{ ( 1 ) ) }}", "unexpected right paren"),
        ("{{ $x := 1 }}{{ $x : 2 }}", "expected :="),
        ("{{ 1 : 2 }}", "expected :="),
        ("{{ : }}", "expected :="),
        ("{{ 1 }}{{ :", "expected :="),
        ("{{ `abc }}", "unterminated raw quoted string"),
        ("{{ 1 `x }}", "unterminated raw quoted string"),
        ("{{ 1 'x }}", "unterminated character constant"),
        ("{{ 1 \x01 }}", "unrecognized character in action: U+0001"),
        ("{{ \u2028 }}", "unrecognized character in action: U+2028"),
        ("{{ \U0001f600 }}", "unrecognized character in action: U+1F600 '\U0001f600'"),
        ("{{ -}}", "missing value for command"),
        ("{{  -}}x", "missing value for command"),
        ("{{\t-}}x", "missing value for command"),
        ("{{ - }}", 'illegal number syntax: "-"'),
        ("{{ 1 - }}", 'illegal number syntax: "-"'),
    ],
)
def test_lexer_errors_as_go(source: str, detail: str) -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {})
    assert (info.value.kind, info.value.detail) == ("syntax", detail)


@pytest.mark.parametrize(
    ("source", "expected"),
    [  # go1.26.8: " -}}" trims the spaces after the action; one space or more before the marker
        ("{{ 1 -}}x", "1x"),
        ("{{ 1 -}}  x", "1x"),
        ("{{ 1  -}}  x", "1x"),
        ("{{1 -}}\n x", "1x"),
        ("{{ 1\t-}} \n x", "1x"),
        ("{{ 1 \t -}}\n\tx", "1x"),
        ("{{ (1) -}} y", "1y"),
        ("{{ 1 -}}{{ 2 }}", "12"),
        ("{{ $x := 1 -}} y{{ $x }}", "y1"),
        ("{{ 1 | -}}", "1"),
        ("{{ 1 }} -}}", "1 -}}"),
        ("a {{- 1 -}} b", "a1b"),
        ("{{ 1 -}}}", "1}"),
        ("{{ 1 -}}}}", "1}}"),
        ("{{ 1 -}}\n", "1"),
    ],
)
def test_right_trim_markers_as_go(source: str, expected: str) -> None:
    assert render({"t": source}, {})["t"] == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [  # go1.26.8
        ("a {{- /*/ */}} b", "a b"),  # the comment's end is searched after its "/*"
        ("a {{- /*/ */ -}} b", "ab"),
        ("{{/*/ */}}x", "x"),
        ("{{ $x :=1 }}{{$x}}", "1"),
        ("{{$x:=1}}{{$x}}", "1"),
        ("{{ .0 }}", "0"),  # a dot before a digit starts a number, not a field
        ("{{ .05 }}", "0.05"),
        ("{{ .9 }}", "0.9"),
        ("{{ .5e1 }}", "5"),
    ],
)
def test_comments_declarations_and_leading_dot_numbers_as_go(source: str, expected: str) -> None:
    assert render({"t": source}, {})["t"] == expected


@pytest.mark.parametrize(
    ("source", "detail"),
    [  # go1.26.8
        ("x{{", "unclosed action"),
        ("{{ ; }}", 'unexpected ";" in command'),
        ("{{ @ }}", 'unexpected "@" in command'),
        ("{{ < }}", 'unexpected "<" in command'),
        ("{{ 1 ; }}", 'unexpected ";" in operand'),
    ],
)
def test_an_action_cut_off_or_holding_a_stray_character_as_go(source: str, detail: str) -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {})
    assert (info.value.kind, info.value.detail) == ("syntax", detail)


@pytest.mark.parametrize(
    ("source", "expected"),
    [  # go1.26.8: Go lexes on demand, so a fault its parser finds in the tokens before a lexer
        # error comes first; a source ending inside an action is never read past its end
        ("{{-", ("syntax", 'illegal number syntax: "-"')),
        ("x{{-", ("syntax", 'illegal number syntax: "-"')),
        ("{{ .", ("syntax", 'illegal number syntax: "."')),
        ("{{ 1 -", ("syntax", 'illegal number syntax: "-"')),
        ("{{ $x : 1 }}", ("undefined variable", "$x")),
        ("{{ $y }}{{ 'ab", ("undefined variable", "$y")),
        ("{{ nosuchfn `abc }}", ("unknown function", "nosuchfn")),
        ("{{ if }}{{ `x", ("syntax", "missing value for if")),
        ("{{ 1 }}{{ end }}{{ `x", ("syntax", "unexpected {{end}}")),
        ("{{ 1 | 2 }}{{ `x", ("syntax", "non executable command in pipeline stage 2")),
        # and where the parser finds nothing before, the lexer's fault
        ("{{ $x := 1 }}{{ $x : 2 }}", ("syntax", "expected :=")),
        ("{{ 1X }}{{ `", ("syntax", 'bad number syntax: "1X"')),
    ],
)
def test_the_first_fault_in_reading_order_is_the_one_named(source: str, expected: tuple[str, str]) -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {})
    assert (info.value.kind, info.value.detail) == expected


@pytest.mark.parametrize("name", ["X", "A", "Q"])
def test_a_function_named_by_a_capital_letter_is_an_identifier(name: str) -> None:
    assert render({"t": "{{ " + name + " }}"}, {}, funcs={name: _break})["t"] == "B"


@pytest.mark.parametrize(
    ("source", "expected"),
    [  # go1.26.8: a name holds letters, "_" and decimal digits (unicode.IsDigit), not ² or ①
        ("{{ $a\u00b2 := 1 }}{{ $a\u00b2 }}", "bad character U+00B2 '\u00b2'"),
        ("{{ .\u2460 }}", "bad character U+2460 '\u2460'"),
        ("{{ 1\u00b2 }}", "unrecognized character in action: U+00B2 '\u00b2'"),
        ("{{ 1\u0663 }}", 'bad number syntax: "1\u0663"'),
        ("{{ $x\u0663 := 1 }}{{ $x\u0663 }}", "1"),  # an Arabic-Indic digit is a decimal digit
    ],
)
def test_names_hold_decimal_digits_only(source: str, expected: str) -> None:
    assert output_or_syntax_error(source) == expected
