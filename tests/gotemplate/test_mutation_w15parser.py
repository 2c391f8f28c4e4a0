"""Mutation survivors of parser.py (its own run): {{break}} and {{continue}} are allowed exactly
inside a range, however ranges, ifs, withs and blocks nest. Every expected value is go1.26.8's."""

from __future__ import annotations

import pytest

from secretsync.gotemplate import Limits, TemplateError, render
from tests.gotemplate.outcome import output_or_syntax_error


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
        ("{{ range $i := 3 }}{{ if eq $i 1 }}{{ continue }}{{ end }}{{ $i }}{{ end }}", "02"),
        ('{{ block "x" 1 }}{{ break }}{{ end }}', "{{break}} outside {{range}}"),
        ('{{ range 2 }}{{ block "x" 1 }}{{ break }}{{ end }}{{ end }}', "{{break}} outside {{range}}"),
        ('{{ range 2 }}{{ block "x" 1 }}{{ end }}{{ break }}{{ end }}y', "y"),
    ],
)
def test_break_and_continue_only_inside_a_range(source: str, expected: str) -> None:
    assert output_or_syntax_error(source) == expected


# go1.26.8: a float constant that is a whole number is also an int (Go's newNumber: int64(f) == f,
# so -2**63 is one and 2**63 is not), and a uint when 0 <= f < 2**64; a character constant is
# an int, a uint and a float at once. trunc takes an int, round's third argument a float64,
# derivePassword's counter a uint32 (Go: "expected integer; found 1.5"; here "wrong type").
@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('{{ repeat 1e1 "x" }}', "xxxxxxxxxx"),
        ('{{ repeat 1e0 "x" }}', "x"),
        ('{{ trunc 2e2 "abc" }}', "abc"),
        ('{{ trunc -1.5e1 "abcdefghijklmnopqrstuvwxyz" }}', "lmnopqrstuvwxyz"),
        ('{{ trunc -9.223372036854775808e18 "abc" }}', "abc"),
        ('{{ trunc -9.223372036854776e18 "abc" }}', "abc"),
        ('{{ trunc 0x1p1 "abc" }}', "ab"),
        ('{{ trunc 1.5 "abc" }}', "wrong type"),
        ('{{ trunc 1e19 "abc" }}', "wrong type"),
        ('{{ trunc -1e19 "abc" }}', "wrong type"),
        ('{{ trunc 9.223372036854775807e18 "abc" }}', "wrong type"),
        ('{{ trunc 9.223372036854775808e18 "abc" }}', "wrong type"),
        ("{{ trunc 'a' \"x\" }}", "x"),
        ("{{ trunc '\\x02' \"xyz\" }}", "xy"),
        ("{{ round 1.5 0 0 }}", "2"),
        ("{{ round 1.5 0 'a' }}", "1"),
        ("{{ 'a' }}", "97"),
        ("{{ printf \"%T %v\" 'a' 'a' }}", "int 97"),
    ],
)
def test_whole_floats_and_characters_as_ints_uints_and_floats(source: str, expected: str) -> None:
    try:
        got = render({"t": source}, {})["t"]
    except TemplateError as error:
        got = error.kind
    assert got == expected


@pytest.mark.parametrize(
    ("counter", "same_as"), [("0.0", "0"), ("-0.0", "0"), ("-0", "0"), ("'a'", "97"), ("1e1", "10")]
)
def test_a_uint32_parameter_takes_whole_floats_and_characters(counter: str, same_as: str) -> None:
    def password(c: str) -> str:
        return f'{{{{ derivePassword {c} "long" "pw" "u" "s" }}}}'

    out = render({"a": password(counter), "b": password(same_as), "c": password("1")}, {})
    assert out["a"] == out["b"] and (out["a"] != out["c"]) == (same_as != "1")


@pytest.mark.parametrize("counter", ["-1e1", "1.5", "5e-1"])
def test_a_uint32_parameter_refuses_negative_and_fractional_floats(counter: str) -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": f'{{{{ derivePassword {counter} "long" "pw" "u" "s" }}}}'}, {})
    assert info.value.kind == "wrong type"


def test_a_character_constant_that_is_no_function_is_named_as_written() -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": "\n\n{{ 'a' 1 }}"}, {})
    # Go: at <'a'>: can't give argument to non-function 'a'
    assert (info.value.line, info.value.column, info.value.kind, info.value.detail) == (
        3,
        4,
        "not a function",
        "'a'",
    )


def test_an_integer_past_uint64_is_an_integer_overflow_where_it_stands() -> None:
    # Go: integer overflow: "99999999999999999999"
    with pytest.raises(TemplateError) as info:
        render({"t": "{{ 99999999999999999999 }}"}, {})
    assert (info.value.kind, info.value.column, info.value.detail) == (
        "syntax",
        4,
        'integer overflow: "99999999999999999999"',
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [  # go1.26.8
        ("{{ if 0 }}a{{ else if 0 }}b{{ else if 1 }}c{{ end }}", "c"),
        ("{{ if 0 }}a{{ else if 0 }}b{{ else if 0 }}c{{ else }}d{{ end }}", "d"),
        ("{{ with 0 }}a{{ else with 0 }}b{{ else with 1 }}c{{ end }}", "c"),
        ("{{ with 0 }}a{{ else with 0 }}b{{ else with 0 }}c{{ else }}d{{ end }}", "d"),
        ("{{ if 1 }}{{ else if }}{{ end }}", "missing value for if"),
        ("{{ with 1 }}{{ else with }}{{ end }}", "missing value for with"),
        ("{{ if 1 }}{{ else }}{{ else }}{{ end }}", "expected end; found {{else}}"),
        ("{{ range 1 }}{{ else }}{{ else }}{{ end }}", "expected end; found {{else}}"),
        ("{{ if 0 }}{{ else if 0 }}{{ else with 1 }}w{{ end }}", "unexpected <with> in input"),
    ],
)
def test_else_chains_as_go(source: str, expected: str) -> None:
    assert output_or_syntax_error(source) == expected


@pytest.mark.parametrize(
    ("source", "column"),
    [
        ("{{ if 1 }}{{ end }}{{ if 1 }}{{ if 1 }}{{ if 1 }}x{{ end }}{{ end }}{{ end }}", 43),
        ('{{ if 1 }}{{ if 1 }}{{ block "x" . }}x{{ end }}{{ end }}{{ end }}', 24),
    ],
)
def test_the_nesting_limit_counts_open_controls_only(source: str, column: int) -> None:
    assert (
        render(
            {"t": "{{ if 1 }}{{ end }}{{ if 1 }}{{ if 1 }}x{{ end }}{{ end }}"},
            {},
            limits=Limits(max_depth=2),
        )["t"]
        == "x"
    )
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {}, limits=Limits(max_depth=2))
    assert (info.value.kind, info.value.column) == ("depth limit", column)


def test_an_overflowing_constant_is_named_as_written() -> None:
    # go1.26.8: at <0x8000000000000000>: 0x8000000000000000 overflows int
    with pytest.raises(TemplateError) as info:
        render({"t": "{{ 0x8000000000000000 }}"}, {})
    assert (info.value.kind, info.value.detail) == ("wrong type", "0x8000000000000000 overflows int")


@pytest.mark.parametrize(
    ("source", "term"),
    [  # go1.26.8: unexpected . after term <the term as written, %q-quoted>
        ("{{ ..x }}", '"."'),
        ("{{ 'a'.x }}", "\"'a'\""),
        ("{{ `r`.x }}", '"`r`"'),
        ("{{ false.x }}", '"false"'),
        ("{{ true.x }}", '"true"'),
        ("{{ nil.x }}", '"nil"'),
        ('{{ "abcdefghijklmnop".x }}', '"\\"abcdefghijklmnop\\""'),
    ],
)
def test_a_field_after_a_constant_names_the_constant(source: str, term: str) -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {})
    assert (info.value.kind, info.value.column, info.value.detail) == (
        "syntax",
        4,
        "unexpected . after term " + term,
    )


@pytest.mark.parametrize(
    ("source", "where", "detail"),
    [  # go1.26.8 names the line and the text; the column is the token the error is about
        ("{{ 1 | 2 }}", (1, 10), "non executable command in pipeline stage 2"),
        ('{{ 1 | printf "%v" | . }}', (1, 24), "non executable command in pipeline stage 3"),
        ('\n{{ 1 | printf "%v" | "x" }}', (2, 26), "non executable command in pipeline stage 3"),
        ("{{ if 1 | 2 }}{{ end }}", (1, 13), "non executable command in pipeline stage 2"),
        ("{{ if }}{{ end }}", (1, 7), "missing value for if"),
        # Go: invalid syntax (strconv.Unquote's error)
        ('{{ "\\q" }}', (1, 4), "bad string literal"),
        ('\n{{ 1 }}{{ "\\u12" }}', (2, 11), "bad string literal"),
        ("\n{{ with 1 }}x{{ else }}{{ else }}{{ end }}", (2, 32), "expected end; found {{else}}"),
        # go1.26.8: template: multiple definition of template "x"
        ('{{ define "x" }}a{{ end }}{{ block "x" . }}b{{ end }}', (1, 36), "multiple definition of template"),
        # a control's keyword where none is open; the column is the action's closing delimiter
        ("{{end}}", (1, 6), "unexpected {{end}}"),
        ("x{{ end }}", (1, 9), "unexpected {{end}}"),
        ("{{ if 1 }}x{{ end }}{{ else }}", (1, 29), "unexpected {{else}}"),
        ("{{ range $i := 3 }}{{ break 1 }}{{ end }}", (1, 29), 'unexpected "1" in {{break}}'),
        ("{{ range $i := 3 }}{{ continue 1 }}{{ end }}", (1, 32), 'unexpected "1" in {{continue}}'),
        ("{{ break }}", (1, 4), "{{break}} outside {{range}}"),
        ("\n{{ continue }}", (2, 4), "{{continue}} outside {{range}}"),
        ("{{ if 1 }}{{ end 1 }}", (1, 18), 'unexpected "1" in end'),
        ("{{ range $i, $j, $k := 3 }}{{ end }}", (1, 16), "too many declarations in range"),
        ("{{ range $i, 1 }}{{ end }}", (1, 12), "range can only initialize variables"),
        ("{{ $i, $j := 1 }}", (1, 6), "too many declarations in command"),
        ("{{ 1 = }}", (1, 6), 'unexpected "=" in operand'),
        ("{{ 1 := }}", (1, 6), 'unexpected ":=" in operand'),
        ("{{ $ ; }}", (1, 6), 'unexpected ";" in operand'),  # only "," declares another variable
        ("{{ () }}", (1, 5), "missing value for parenthesized pipeline"),
        ("{{ (1 | = ) }}", (1, 9), 'unexpected "=" in parenthesized pipeline'),
        ("{{ 1.e }}", (1, 4), 'illegal number syntax: "1.e"'),
        ("{{ 0xFFFFFFFFFFFFFFFFFFFF }}", (1, 4), 'illegal number syntax: "0xFFFFFFFFFFFFFFFFFFFF"'),
    ],
)
def test_syntax_errors_say_what_and_where(source: str, where: tuple[int, int], detail: str) -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {})
    assert (info.value.kind, (info.value.line, info.value.column), info.value.detail) == (
        "syntax",
        where,
        detail,
    )


def test_hexadecimal_integers_are_ints_and_exponents_make_floats() -> None:
    # go1.26.8: the prefix is 0x or 0X; an exponent (e, E, p, P) makes a float64 even when whole
    source = '{{ printf "%T %T %T %T %T %T" 0xE 0X1E 0x1P4 0X1p4 1E3 1e3 }}'
    assert render({"t": source}, {})["t"] == "int int float64 float64 float64 float64"


@pytest.mark.parametrize(
    ("source", "expected"),
    [  # a closed parenthesis or control gives its level back, exactly; max_depth=2
        ("{{ (1) }}{{ if 0 }}{{ if 1 }}x{{ end }}{{ end }}ok", "1ok"),
        ("{{ (1) }}{{ (1) }}{{ (1) }}{{ if 0 }}{{ (1) }}{{ end }}ok", "111ok"),
        ("{{ (1) }}{{ if 0 }}{{ if 1 }}{{ if 1 }}x{{ end }}{{ end }}{{ end }}", "depth limit"),
        ("{{ if 1 }}{{ end }}{{ if 0 }}{{ if 1 }}{{ if 1 }}x{{ end }}{{ end }}{{ end }}", "depth limit"),
        ("{{ if 0 }}{{ ((1)) }}{{ end }}", "depth limit"),
    ],
)
def test_the_nesting_limit_holds_in_branches_that_never_run(source: str, expected: str) -> None:
    # the branches are not executed, so only the parser's count can refuse them
    try:
        assert render({"t": source}, {}, limits=Limits(max_depth=2))["t"] == expected
    except TemplateError as error:
        assert error.kind == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [  # go1.26.8: assigning to a variable that was never declared fails only when executed
        ("{{ if false }}{{ $x = 1 }}{{ end }}ok", "ok"),
        ("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}", "2"),
    ],
)
def test_assigning_an_undeclared_variable_is_an_execution_error(source: str, expected: str) -> None:
    assert render({"t": source}, {})["t"] == expected
    # go1.26.8: template: t:1:8: executing "t" at <1>: undefined variable: $x
    with pytest.raises(TemplateError) as info:
        render({"t": "{{ $x = 1 }}"}, {})
    assert (info.value.kind, info.value.column, info.value.detail) == ("undefined variable", 9, "$x")


def test_reading_an_undeclared_variable_is_a_parse_error_where_it_stands() -> None:
    # go1.26.8: template: t:1: undefined variable "$y"
    with pytest.raises(TemplateError) as info:
        render({"t": "{{ if false }}{{ $y }}{{ end }}"}, {})
    assert (info.value.kind, info.value.column, info.value.detail) == ("undefined variable", 18, "$y")
