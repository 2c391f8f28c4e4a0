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


# -- stored JSON text (AWS, GCP, fake): gjson and json.RawMessage ----------------------------------------

STORED = b"""{
  "obj": { "a" : 1,
           "b": [1.50, "x"] },
  "price": 1.50,
  "int": -0012,
  "exp": 1e-7,
  "big": 123456789012345678901234567890,
  "s": "t\\u00e9xt \\ud800 \xff",
  "tls.crt": "PEM",
  "list": [{"name": "a"}, {"other": 1}, {"name": {"deep" : true}}],
  "nul": null, "no": false,
  "dup": 1, "dup": 2
}""".replace(b"-0012", b"-12")


@pytest.mark.parametrize(
    ("prop", "expected"),
    [
        ("obj", b'{ "a" : 1,\n           "b": [1.50, "x"] }'),  # Result.String() of JSON is Raw
        ("obj.b", b'[1.50, "x"]'),
        ("obj.b.0", b"1.5"),  # a number that is not an integer: Go's FormatFloat
        ("price", b"1.5"),
        ("int", b"-12"),
        ("exp", b"0.0000001"),
        ("big", b"123456789012345678901234567890"),  # an integer keeps its digits
        ("s", "téxt \ufffd \ufffd".encode()),  # unquoted; a lone surrogate or a bad byte is U+FFFD
        ("tls.crt", b"PEM"),  # exact top-level key first
        ("list.#", b"3"),
        ("list.#.name", b'["a",{"deep" : true}]'),  # each element's stored text, joined
        ("list.2.name.deep", b"true"),
        ("nul", b""),
        ("no", b"false"),
        ("dup", b"1"),  # gjson takes the first of duplicate keys
    ],
)
def test_raw_select_is_gjsons_string_of_the_stored_text(prop: str, expected: bytes) -> None:
    assert paths.raw_select(STORED, prop, where="aws: x") == expected
    # the controller's form (secretsync.external.fetch): document -> select -> to_bytes
    assert (
        paths.to_bytes(paths.select(paths.document(STORED, "aws: x", prop), prop, where="aws: x")) == expected
    )


def test_raw_extract_is_json_raw_message() -> None:
    assert paths.raw_extract(STORED, "aws: x") == {
        "obj": b'{ "a" : 1,\n           "b": [1.50, "x"] }',  # spaces and newlines as stored
        "price": b"1.50",  # the number's own text
        "int": b"-12",
        "exp": b"1e-7",
        "big": b"123456789012345678901234567890",
        "s": "téxt \ufffd \ufffd".encode(),
        "tls.crt": b"PEM",
        "list": b'[{"name": "a"}, {"other": 1}, {"name": {"deep" : true}}]',
        "nul": b"",  # Go unmarshals null into a string as ""
        "no": b"false",
        "dup": b"2",  # a Go map keeps the last
    }
    assert paths.raw_extract(b"  null\n", "aws: x") == {}  # Go: null into a map is no keys
    assert paths.raw_extract(b'{"a":\t"b\\"c"}', "aws: x") == {"a": b'b"c'}


@pytest.mark.parametrize(
    "value",
    [
        b'"a string"',
        b"[1,2]",
        b"42",
        b"not json",
        b"\xff\xfe",
        b"",
        b'{"a": NaN}',
        b'{"a":1} {}',
        b"[" * 5000,
    ],
)
def test_extract_rejects_non_objects_without_quoting_the_value(value: bytes) -> None:
    for extract in (paths.raw_extract, paths.go_extract):
        with pytest.raises(SpecError) as caught:
            extract(value, "vault: secret/data/x property 'p'")
        message = str(caught.value)
        assert "vault: secret/data/x property 'p' is not a JSON object" in message
        assert not value or value.decode(errors="replace") not in message


@pytest.mark.parametrize("value", [b"not json", b'{"a": Infinity}', b"{" * 5000])
def test_raw_select_of_non_json_is_property_not_found(value: bytes) -> None:
    with pytest.raises(PropertyNotFound, match=r"^gcp: y is not JSON, so it has no property 'a'$"):
        paths.raw_select(value, "a", where="gcp: y")


def test_stored_json_never_shows_its_value() -> None:
    found = paths.document(b'{"password": "s3cr3t"}', "x", "password")
    assert "s3cr3t" not in repr(found) and "s3cr3t" not in str(found)


# -- decoded data (Vault): Go's json.Marshal, GetByteValue, map[string]any -------------------------------


def test_go_marshal_is_gos_json_marshal() -> None:
    decoded = json.loads(
        '{"z": {"b": 1.50, "a": [1, 1.0, 1e21, 2.5e-7, -0.0, null]}, "<&>": "a<b>&\u2028 \ud800", "t": true}',
        parse_float=paths.JsonNumber,
    )
    # UseNumber: every number keeps its text; keys sorted; HTML-safe escapes; U+FFFD for a lone surrogate
    assert (
        paths.go_marshal(decoded)
        == (
            '{"\\u003c\\u0026\\u003e":"a\\u003cb\\u003e\\u0026\\u2028 \ufffd","t":true,'
            '"z":{"a":[1,1.0,1e21,2.5e-7,-0.0,null],"b":1.50}}'
        ).encode()
    )
    # float64 (what map[string]any holds): Go's encoding/json float format
    assert paths.go_marshal(decoded["z"], float64=True) == b'{"a":[1,1,1e+21,2.5e-7,-0,null],"b":1.5}'
    assert paths.go_marshal({"k": "v<"}) == paths.go_json({"k": "v<"})


def test_go_value_and_go_extract() -> None:
    number = paths.JsonNumber("1.50")
    assert number == 1.5 and number.text == "1.50"
    assert paths.go_value(number) == b"1.50"  # GetByteValue of a json.Number
    assert paths.go_value(number, numbers_as_sent=False) == b"1.5"  # gjson's String()
    assert paths.go_value({"b": 1, "a": "<"}) == b'{"a":"\\u003c","b":1}'
    assert paths.go_value(None) == b""
    # GetSecretMap: Unmarshal into map[string]any (numbers float64), then GetByteValue
    assert paths.go_extract(
        b'{"n": 1.50, "i": 12345678901234567890, "o": {"y": 1.0, "x": "&"}, "s": "v"}', "w"
    ) == {
        "n": b"1.5",
        "i": b"12345678901234567000",  # a float64 cannot hold it, as in Go
        "o": b'{"x":"\\u0026","y":1}',
        "s": b"v",
    }
    assert paths.go_extract(b"null", "w") == {}
    with pytest.raises(SpecError):
        paths.go_extract(b'{"n": 1e400}', "w")  # Go: cannot unmarshal number 1e400 into float64


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


@given(json_doc, st.sampled_from([None, 1, 4]))
def test_raw_extract_agrees_with_the_decoded_document(doc: dict[str, Any], indent: int | None) -> None:
    text = json.dumps(doc, indent=indent, ensure_ascii=indent is None)
    extracted = paths.raw_extract(text.encode(), "x")
    assert set(extracted) == set(doc)
    for key, value in doc.items():
        if isinstance(value, str):
            assert extracted[key] == value.encode("utf-8", "replace")
        elif value is None:
            assert extracted[key] == b""
        else:
            assert json.loads(extracted[key]) == value
            assert extracted[key].decode() in text  # its stored text, as is


@given(json_doc)
def test_raw_select_of_an_object_is_its_stored_text(doc: dict[str, Any]) -> None:
    text = json.dumps({"wrapper": doc}, indent=2)
    assert paths.raw_select(text, "wrapper", where="x").decode() in text
    assert json.loads(paths.raw_select(text, "wrapper", where="x")) == doc
