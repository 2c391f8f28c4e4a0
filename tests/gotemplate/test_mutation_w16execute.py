"""Mutation survivors of execute.py (its own run): what a template does when run, and the error it
stops with. Every expected value is go1.26.8's (text/template over the same data decoded from JSON);
an error is compared as kind, column and detail, the parts of Go's message that ours keeps."""

from __future__ import annotations

from typing import Any

import pytest

from secretsync.gotemplate import TemplateError, render


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
