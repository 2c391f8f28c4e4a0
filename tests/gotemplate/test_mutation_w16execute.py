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
