"""dataFrom[].rewrite: ESO's RewriteRegexp, RewriteTransform and RewriteMerge, and the key pipeline."""

from __future__ import annotations

import json

import pytest

from secretsync import model
from secretsync.errors import RewriteError, SpecError
from secretsync.external import fetch, rewrite

CANARY = "canary-7f3a9c"  # a value; must never appear in a message


def regexp(source: str, target: str) -> model.RewriteRegexp:
    return model.RewriteRegexp(source=source, target=target)


def apply(*ops: model.Rewrite, values: dict[str, bytes]) -> dict[str, bytes]:
    return rewrite.apply(ops, values, path="spec.dataFrom[0]")


@pytest.mark.parametrize(
    ("source", "target", "key", "expected"),
    [
        # ESO's docs (guides/datafrom-rewrite): groups, path prefixes, replacing every match
        ("exp-(.*?)-ression", "rewriting-${1}-with-groups", "exp-test-ression", "rewriting-test-with-groups"),
        ("path/to/my/secrets/(.*)", "$1", "path/to/my/secrets/db", "db"),
        ("/", "_", "a/b/c", "a_b_c"),
        ("^db-", "", "db-password", "password"),
        ("^db-", "", "other", "other"),  # no match: the key as is
        # Go's Regexp.Expand: $name takes the longest run of letters, digits and _, so $1x is group
        # "1x" (empty); ${1}x is group 1 then x; $$ is a dollar; a missing group is empty
        ("(a)(b)", "$1x", "ab", ""),
        ("(a)(b)", "${1}x", "ab", "ax"),
        ("(a)", "$$1", "a", "$1"),
        ("(a)", "$9", "a", ""),
        ("(?P<first>[a-z]+)-(?P<second>[a-z]+)", "${second}_${first}", "left-right", "right_left"),
        ("", "-", "ab", "-a-b-"),  # empty matches, as Go's ReplaceAllString
    ],
)
def test_regexp_is_gos_replace_all_string(source: str, target: str, key: str, expected: str) -> None:
    assert apply(regexp(source, target), values={key: b"v"}) == {expected: b"v"}


def test_operations_apply_in_order_and_values_are_untouched() -> None:
    ops = (
        regexp("^team-a/", ""),
        model.RewriteTransform(template='{{ .value | upper | replace "/" "_" }}'),
        regexp("_", "."),
    )
    assert apply(*ops, values={"team-a/db/user": CANARY.encode()}) == {"DB.USER": CANARY.encode()}


def test_transform_sees_the_key_as_dot_value_and_missing_keys_print_no_value() -> None:
    ops = (model.RewriteTransform(template="{{ .value }}-{{ .other }}"),)
    assert apply(*ops, values={"k": b"v"}) == {"k-<no value>": b"v"}


def test_two_keys_rewritten_to_one_fail_naming_both() -> None:
    with pytest.raises(RewriteError) as caught:
        apply(regexp("-(prod|dev)$", ""), values={"db-prod": CANARY.encode(), "db-dev": b"x"})
    assert str(caught.value) == (
        "spec.dataFrom[0].rewrite[0]: remote keys 'db-dev' and 'db-prod' both become 'db'; change the "
        "rewrite so that each key stays distinct"
    )
    assert CANARY not in str(caught.value)


def test_a_transform_that_does_not_parse_is_a_spec_error() -> None:
    with pytest.raises(SpecError) as caught:
        apply(model.RewriteTransform(template="{{ .value "), values={"k": b"v"})
    assert caught.value.path == "spec.dataFrom[0].rewrite[0].transform.template"


def test_a_regexp_of_unbounded_cost_still_runs_in_linear_time() -> None:
    key = "a" * 20_000 + "!"
    assert apply(regexp("(a+)+$", "x"), values={key: b"v"}) == {key: b"v"}


# --------------------------------------------------------------------------- merge

DB = json.dumps({"host": "db", "port": 5432, "tls": True, "ratio": 0.25, "opts": {"a": [1, 2]}, "none": None})
APP = json.dumps({"user": "app", "password": CANARY})


def merge(values: dict[str, bytes], **options: object) -> dict[str, bytes]:
    return apply(model.RewriteMerge(**options), values=values)  # type: ignore[arg-type]


def test_merge_extract_flattens_json_objects_with_esos_value_formats() -> None:
    out = merge({"db": DB.encode(), "app": APP.encode()})
    assert out == {
        "host": b"db",
        "port": b"5432",
        "tls": b"true",
        "ratio": b"0.25",
        "opts": b'{"a":[1,2]}',
        "none": b"",
        "user": b"app",
        "password": CANARY.encode(),
    }


def test_merge_json_keeps_the_inputs_and_adds_the_merged_object_under_into() -> None:
    out = merge({"db": DB.encode(), "app": APP.encode()}, strategy="JSON", into="all")
    assert out["db"] == DB.encode() and out["app"] == APP.encode()
    assert json.loads(out["all"]) == {**json.loads(DB), **json.loads(APP)}


def test_merge_order_is_sorted_keys_then_priority_keys_later_wins() -> None:
    values = {"b": b'{"x": "b"}', "a": b'{"x": "a"}', "c": b'{"x": "c"}'}
    assert merge(values, conflict_policy="Ignore") == {"x": b"c"}
    assert merge(values, conflict_policy="Ignore", priority=("c", "a")) == {"x": b"a"}


def test_merge_conflicts_fail_unless_ignored_and_name_remote_keys_only() -> None:
    values = {"one": json.dumps({CANARY: 1}).encode(), "two": json.dumps({CANARY: 2}).encode()}
    with pytest.raises(RewriteError) as caught:
        merge(values)
    assert "1 field(s) appear in more than one value (first between remote keys 'one' and 'two')" in str(
        caught.value
    )
    assert CANARY not in str(caught.value)
    assert merge(values, conflict_policy="Ignore") == {CANARY: b"2"}


def test_merge_priority_keys_must_exist_unless_ignore_not_found() -> None:
    with pytest.raises(RewriteError, match="priority key 'missing' is not among the remote keys"):
        merge({"a": b"{}"}, priority=("missing",))
    assert merge({"a": b'{"k": "v"}'}, priority=("missing",), priority_policy="IgnoreNotFound") == {"k": b"v"}


@pytest.mark.parametrize("value", [b"not json", b"[1, 2]", b'"text"', b"5", CANARY.encode()])
def test_merge_needs_json_objects_and_never_shows_the_value(value: bytes) -> None:
    with pytest.raises(RewriteError) as caught:
        merge({"a": b"{}", "b": value})
    assert (
        str(caught.value)
        == "spec.dataFrom[0].rewrite[0].merge: the value of remote key 'b' is not a JSON object"
    )


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (5, "5"),
        (5.0, "5"),
        (-0.5, "-0.5"),
        (1e21, "1000000000000000000000"),
        (1e-7, "0.0000001"),
        (123.456, "123.456"),
    ],
)
def test_numbers_are_formatted_as_gos_format_float(number: float, text: str) -> None:
    assert merge({"a": json.dumps({"n": number}).encode()}) == {"n": text.encode()}


# --------------------------------------------------------------------------- the key pipeline


def test_conversion_applies_only_without_rewrite_and_rewritten_keys_must_be_valid() -> None:
    got = {"db/user": b"u", "db/pass": b"cA=="}
    converted = fetch.entry_values(model.DataFromEntry(decoding="None"), got, "spec.dataFrom[0]")
    assert converted == {"db_user": b"u", "db_pass": b"cA=="}
    unicode = fetch.entry_values(model.DataFromEntry(conversion="Unicode"), got, "spec.dataFrom[0]")
    assert unicode == {"db_U002f_user": b"u", "db_U002f_pass": b"cA=="}
    rewritten = model.DataFromEntry(rewrite=(regexp("^db/", ""),), decoding="Base64")
    with pytest.raises(SpecError, match="not a valid Secret key"):
        fetch.entry_values(rewritten, {"db/user": b"dQ==", "x/y": b"dQ=="}, "spec.dataFrom[0]")
    # rewrite, then decoding of the values; an empty key is dropped, as ESO's ValidateKeys does
    assert fetch.entry_values(rewritten, {"db/user": b"dQ==", "db/": b"dQ=="}, "spec.dataFrom[0]") == {
        "user": b"u"
    }
