"""Mutation survivors of execute.py (its own run): what a template does when run, and the error it
stops with. Every expected value is go1.26.8's (text/template over the same data decoded from JSON);
an error is compared as kind, column and detail, the parts of Go's message that ours keeps."""

from __future__ import annotations

from typing import Any

import pytest

from secretsync.gotemplate import Limits, TemplateError, render


def _error(source: str, data: Any, missing_key: str = "default") -> tuple[str, int, str | None]:
    with pytest.raises(TemplateError) as info:
        render({"t": source}, data, missing_key=missing_key)
    return info.value.kind, info.value.column, info.value.detail


@pytest.mark.parametrize(
    ("source", "data", "expected"),
    [  # go1.26.8: nil pointer evaluating interface {}.<the field after the nil>
        ("{{ .x.a.b }}", {"x": {"a": None}}, ("wrong type", 4, "b")),
        ("{{ $v := .x }}{{ $v.a.b }}", {"x": {"a": None}}, ("wrong type", 18, "b")),
    ],
)
def test_a_field_of_a_stored_nil_names_that_field(
    source: str, data: Any, expected: tuple[str, int, str]
) -> None:
    assert _error(source, data) == expected


@pytest.mark.parametrize(
    ("source", "data", "missing_key", "expected"),
    [
        # go1.26.8: nil pointer evaluating interface {}.<field>: with missingkey=zero a missing key
        # of a map[string]interface{} gives a nil interface, which has no fields
        ("{{ .x.y }}", {}, "zero", ("wrong type", 4, "y")),
        ("{{ .x.y.z }}", {}, "zero", ("wrong type", 4, "y")),
        ("{{ .a.x.y }}", {"a": {}}, "zero", ("wrong type", 4, "y")),
        # go1.26.8: nil data; no entry for key "x"
        ("{{ .x }}", None, "error", ("missing key", 4, "x")),
        ("{{ $v := .a }}{{ $v.x }}", {"a": None}, "error", ("missing key", 18, "x")),
        # go1.26.8: can't evaluate field <name> in type *semver.Version (a struct, not a map:
        # whatever the missing-key option)
        ('{{ (semver "1.2.3").Nope }}', None, "default", ("wrong type", 5, "Nope")),
        ('{{ $v := semver "1.2.3" }}{{ $v.Nope }}', None, "zero", ("wrong type", 30, "Nope")),
        ('{{ (semver "1.2.3").Major.x }}', None, "default", ("wrong type", 5, "x")),
        # go1.26.8: wrong number of args for Major: want 0 got 1
        ('{{ (semver "1.2.3").Major 1 }}', None, "default", ("wrong number of args", 5, "Major")),
        ('{{ 1 | (semver "1.2.3").Major }}', None, "default", ("wrong number of args", 9, "Major")),
    ],
)
def test_fields_of_nothing_and_of_structs(
    source: str, data: Any, missing_key: str, expected: tuple[str, int, str]
) -> None:
    assert _error(source, data, missing_key) == expected


@pytest.mark.parametrize(
    ("source", "data", "expected"),
    [  # go1.26.8: the nil interface is one only inside a chain of fields
        ("{{ $v := .x }}{{ $v.y }}", {}, "<no value>"),
        ("{{ (.x).y }}", {}, "<no value>"),
        ('{{ .x | printf "%v" }}', {}, "<nil>"),
    ],
)
def test_missing_keys_under_missingkey_zero(source: str, data: Any, expected: str) -> None:
    assert render({"t": source}, data, missing_key="zero")["t"] == expected


@pytest.mark.parametrize(
    "source",
    ["{{ and false ($x := 1) }}{{ $x }}", "{{ or true ($x := 1) }}{{ $x }}"],
)
def test_a_variable_declared_in_a_skipped_argument_is_undefined_when_read(source: str) -> None:
    # go1.26.8: executing "t" at <$x>: undefined variable: $x (the parser saw the declaration;
    # and/or never ran it)
    assert _error(source, None) == ("undefined variable", source.index("{{ $x") + 4, "$x")


def test_assigning_in_a_skipped_argument_leaves_the_variable_as_it_was() -> None:
    assert render({"t": "{{ $x := 0 }}{{ and false ($x = 1) }}{{ $x }}"}, None)["t"] == "false0"


@pytest.mark.parametrize(
    ("source", "data"),
    [("{{ range 3 }}{{ end }}", None), ("{{ range .l }}{{ end }}", {"l": [1, 2, 3]})],
)
def test_the_range_limit_names_the_range(source: str, data: Any) -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": source}, data, limits=Limits(max_range_iterations=2))
    assert (info.value.kind, info.value.column, info.value.detail) == ("range limit", 4, "range")


@pytest.mark.parametrize(
    ("source", "data", "expected"),
    [
        # go1.26.8: invalid value; expected string (a missing value for a string parameter)
        ("{{ upper .x }}", {}, ("wrong type", 10, "upper")),
        # go1.26.8: wrong type for value; expected int; got string
        ('{{ repeat .n "x" }}', {"n": "3"}, ("wrong type", 11, "repeat")),
        # go1.26.8: a is not a method but has arguments
        ("{{ $v := .m }}{{ $v.a 1 }}", {"m": {"a": 1}}, ("not a function", 18, "a")),
        # go1.26.8: wrong number of args for Major: want 0 got 1
        ('{{ $v := semver "1.2.3" }}{{ $v.Major 1 }}', None, ("wrong number of args", 30, "Major")),
    ],
)
def test_arguments_of_the_wrong_kind_name_the_function(
    source: str, data: Any, expected: tuple[str, int, str]
) -> None:
    assert _error(source, data) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [  # go1.26.8: a missing value is a nil map where a map is wanted, and no value at the end of a chain
        ("{{ keys .x }}", "[]"),
        ('{{ hasKey .x "a" }}', "false"),
        ("{{ .x.y }}", "<no value>"),
    ],
)
def test_missing_values_under_the_default_option(source: str, expected: str) -> None:
    assert render({"t": source}, {}, missing_key="default")["t"] == expected


@pytest.mark.parametrize(
    "source",
    [  # go1.26.8: can't use 3 to iterate over more than one variable; range can't iterate over <value>
        "{{ range $i, $e := 3 }}{{ end }}",
        '{{ range "abc" }}{{ end }}',
        "{{ range true }}{{ end }}",
        "{{ range $i, $e := 3.5 }}{{ end }}",
    ],
)
def test_a_value_range_cannot_iterate_names_the_range(source: str) -> None:
    assert _error(source, None) == ("wrong type", 4, "range")


@pytest.mark.parametrize(
    ("source", "data", "expected"),
    [  # go1.26.8
        ("{{ range .l }}x{{ else }}e{{ end }}", {"l": [1]}, "x"),
        ("{{ range .l }}x{{ else }}e{{ end }}", {"l": []}, "e"),
        # a break leaves the range's own variables behind, as the end of the range does
        ('{{ $x := "outer" }}{{ range $x := .l }}{{ break }}{{ end }}{{ $x }}', {"l": ["inner"]}, "outer"),
    ],
)
def test_range_else_and_break(source: str, data: Any, expected: str) -> None:
    assert render({"t": source}, data)["t"] == expected


@pytest.mark.parametrize(
    ("before", "output"),
    [("", ""), ("{{ range 1 }}{{ end }}" * 3, ""), ("{{ print (print 1) }}" * 3, "111")],
)
def test_a_finished_range_or_parenthesis_gives_its_nesting_level_back(before: str, output: str) -> None:
    # Each level of "r" takes two (the template call and its if) and its argument one more while
    # evaluated: 3 levels need max_depth 8 exactly, 4 need 10, whatever ran before.
    recurse = '{{ define "r" }}{{ if . }}{{ template "r" (sub . 1) }}{{ end }}{{ end }}'
    limits = Limits(max_depth=8)
    assert render({"t": before + recurse + '{{ template "r" 3 }}'}, None, limits=limits)["t"] == output
    with pytest.raises(TemplateError) as info:
        render({"t": before + recurse + '{{ template "r" 4 }}'}, None, limits=limits)
    assert info.value.kind == "depth limit"


def test_a_chain_as_an_argument_starts_from_the_dot() -> None:
    assert render({"t": "{{ print (.a).b }}"}, {"a": {"b": "B"}})["t"] == "B"  # go1.26.8


def test_the_else_of_an_empty_range_runs_on_the_outer_dot() -> None:
    data = {"l": [], "a": "A"}
    assert render({"t": "{{ range .l }}{{ else }}{{ .a }}{{ end }}"}, data)["t"] == "A"  # go1.26.8


@pytest.mark.parametrize(
    ("source", "data", "expected"),
    [
        # go1.26.8: wrong type for value; expected string; got float64 (a dot of the wrong type)
        ("{{ upper . }}", 1, ("wrong type", 10, "upper")),
        ("{{ upper . }}", None, ("wrong type", 10, "upper")),
    ],
)
def test_a_dot_of_the_wrong_type_names_the_function(
    source: str, data: Any, expected: tuple[str, int, str]
) -> None:
    assert _error(source, data) == expected


def test_a_constant_algorithm_for_htpasswd_is_taken() -> None:
    # ESO's vendored Sprig: htpasswd(user, password, ...HashAlgorithm); a constant string converts
    # to the named type, a computed one does not (tests/gotemplate/cases_crypto.py)
    assert render({"t": '{{ htpasswd "u" "p" "sha" }}'}, None)["t"] == "u:{SHA}UWuXg/ylF+7L0dBk2i0WUxCxl1k="


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # go1.26.8: wrong number of args for printf: want at least 1 got 0
        ("{{ printf }}", ("wrong number of args", 4, "printf")),
        ('{{ htpasswd "u" }}', ("wrong number of args", 4, "htpasswd")),
        # go1.26.8: wrong type for value; expected string; got int (the piped value)
        ("{{ 1 | upper }}", ("wrong type", 8, "upper")),
    ],
)
def test_call_errors_name_the_function(source: str, expected: tuple[str, int, str]) -> None:
    assert _error(source, None) == expected


def _recurse() -> str:
    return _recurse()


def _out_of_memory() -> str:
    raise MemoryError


def _fails() -> str:
    raise ValueError("no part of this text may reach the error")


@pytest.mark.parametrize(
    ("name", "fn", "kind"),
    [
        ("deep", _recurse, "depth limit"),
        ("big", _out_of_memory, "value limit"),
        ("bad", _fails, "function failed"),
    ],
)
def test_a_callers_function_that_breaks_is_named_and_its_exception_dropped(
    name: str, fn: Any, kind: str
) -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": "{{ " + name + " }}"}, None, funcs={name: fn})
    assert (info.value.kind, info.value.column, info.value.detail) == (kind, 4, name)
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_nil_is_not_a_command() -> None:
    assert _error("{{ nil }}", None) == ("wrong type", 4, "nil")  # go1.26.8: nil is not a command


@pytest.mark.parametrize(("source", "column"), [('ab{{ "abc" }}', 6), ("x{{ .a }}", 5)])
def test_the_output_limit_names_the_action_that_passed_it(source: str, column: int) -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {"a": "abcdef"}, limits=Limits(max_output_bytes=3))
    assert (info.value.kind, info.value.column) == ("output limit", column)
