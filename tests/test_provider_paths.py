"""ESO's ``property`` semantics (exact key first, then a gjson path) and ESO's value-to-bytes rules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secretsync.errors import PropertyNotFound, SpecError
from secretsync.providers import paths

DOC: dict[str, Any] = {
    "user": "app",
    "tls.crt": "PEM",
    "port": 5432,
    "ratio": 0.25,
    "enabled": True,
    "nothing": None,
    "db": {"host": "h", "ports": [1, 2], "a.b": "dotted"},
    "list": [{"name": "first"}, {"name": "second"}, {"other": 1}],
    "1": "key named one",
}


@pytest.mark.parametrize(
    ("prop", "expected"),
    [
        ("user", b"app"),
        ("tls.crt", b"PEM"),  # exact top-level key wins over the path reading
        ("port", b"5432"),
        ("ratio", b"0.25"),
        ("enabled", b"true"),
        ("nothing", b""),  # ESO gives no bytes for null
        ("db.host", b"h"),
        ("db.ports", b"[1,2]"),
        ("db.ports.1", b"2"),
        (r"db.a\.b", b"dotted"),
        ("list.1.name", b"second"),
        ("list.#", b"3"),
        ("list.#.name", b'["first","second"]'),
        ("1", b"key named one"),
        ("db", b'{"host":"h","ports":[1,2],"a.b":"dotted"}'),
    ],
)
def test_property_selects_like_eso(prop: str, expected: bytes) -> None:
    assert paths.to_bytes(paths.select(DOC, prop)) == expected


def test_no_property_is_the_whole_document_as_compact_json_in_stored_order() -> None:
    doc = {"b": 1, "a": "ü", "c": {"z": [True, None]}}
    assert paths.to_bytes(paths.select(doc, None)) == '{"b":1,"a":"ü","c":{"z":[true,null]}}'.encode()
    assert paths.select(doc, "") is doc


@pytest.mark.parametrize(
    "prop", ["missing", "db.missing", "list.9.name", "list.x", "user.deeper", "db.ports.-1"]
)
def test_missing_property_is_not_found_naming_where_and_property_never_values(prop: str) -> None:
    with pytest.raises(PropertyNotFound) as caught:
        paths.select(DOC, prop, where="vault: secret/data/app/db")
    assert str(caught.value) == f"vault: secret/data/app/db has no property {prop!r}"
    assert "app" not in str(caught.value).replace("app/db", "")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text", b"text"),
        ("ünï", "ünï".encode()),
        (b"raw", b"raw"),
        (0, b"0"),
        (-7, b"-7"),
        (12345678901234567890, b"12345678901234567890"),
        (1.5, b"1.5"),
        (1e20, b"100000000000000000000"),  # Go's FormatFloat(f, 'f', -1): never an exponent
        (1e-7, b"0.0000001"),
        (2.0, b"2"),
        (False, b"false"),
        (None, b""),
        ([1, "a"], b'[1,"a"]'),
        ({"k": "v"}, b'{"k":"v"}'),
    ],
)
def test_to_bytes(value: Any, expected: bytes) -> None:
    assert paths.to_bytes(value) == expected


@pytest.mark.parametrize(
    ("prop", "segments"),
    [
        ("a.b.c", ["a", "b", "c"]),
        (r"a\.b.c", ["a.b", "c"]),
        (r"a\\.b", ["a\\", "b"]),
        ("a", ["a"]),
        ("a.", ["a", ""]),
        ("trailing\\", ["trailing\\"]),
    ],
)
def test_split_path(prop: str, segments: list[str]) -> None:
    assert paths.split_path(prop) == segments


def test_json_object_and_flatten_for_extract() -> None:
    obj = paths.json_object(b'{"s": "x", "n": 3, "b": false, "o": {"k": [1]}, "z": null}', "vault: a")
    assert paths.flatten_for_extract(obj) == {
        "s": b"x",
        "n": b"3",
        "b": b"false",
        "o": b'{"k":[1]}',
        "z": b"",
    }


@pytest.mark.parametrize("value", [b'"a string"', b"[1,2]", b"42", b"not json", b"\xff\xfe"])
def test_json_object_rejects_non_objects_without_quoting_the_value(value: bytes) -> None:
    with pytest.raises(SpecError) as caught:
        paths.json_object(value, "vault: secret/data/x property 'p'")
    message = str(caught.value)
    assert "vault: secret/data/x property 'p' is not a JSON object" in message
    assert value.decode(errors="replace") not in message


# -- properties -------------------------------------------------------------------------------------

json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text()
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
json_doc = st.dictionaries(st.text(max_size=10), json_value, max_size=6)


@given(json_doc)
def test_whole_document_round_trips(doc: dict[str, Any]) -> None:
    assert json.loads(paths.to_bytes(paths.select(doc, None))) == doc


@given(json_doc, st.data())
def test_every_top_level_key_selects_itself_even_with_dots(doc: dict[str, Any], data: st.DataObject) -> None:
    if not doc:
        return
    key = data.draw(st.sampled_from(sorted(doc)))
    if key:
        assert paths.select(doc, key) is doc[key]


@given(st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=4), json_leaf)
def test_escaped_path_reaches_nested_value(keys: list[str], leaf: Any) -> None:
    doc: Any = leaf
    for key in reversed(keys):
        doc = {key: doc}
    prop = ".".join(paths.escape_segment(k) for k in keys)
    assert paths.select({"wrapper": 0, **doc}, prop) == leaf


@given(st.lists(json_leaf, min_size=1, max_size=5), st.data())
def test_numeric_segments_index_lists(items: list[Any], data: st.DataObject) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(items) - 1))
    assert paths.select({"l": items}, f"l.{index}") == items[index]
    with pytest.raises(PropertyNotFound):
        paths.select({"l": items}, f"l.{len(items)}")
