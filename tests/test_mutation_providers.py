"""secretsync/providers: what mutation testing found untested (docs/testing.md, "Mutation testing").

The fake provider's spec errors are what a user sees on the store's status, so they are asserted
word for word; ``find`` by path and ``get_map`` of a versioned entry pin the rest.
"""

from __future__ import annotations

from typing import Any

import pytest

from secretsync.errors import PropertyNotFound, SpecError
from secretsync.providers import paths
from secretsync.providers.base import FindSpec, RemoteRef
from tests.test_provider_fake import make


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("text", "spec.provider.fake.data: must be a list of {key, value, version}"),
        (["x"], "spec.provider.fake.data[0]: must be an object with key and value"),
        ([{"value": "v"}], "spec.provider.fake.data[0].key: is required and must be a non-empty string"),
        (
            [{"key": 5, "value": "v"}],
            "spec.provider.fake.data[0].key: is required and must be a non-empty string",
        ),
        ([{"key": "k", "value": "v", "version": 1}], "spec.provider.fake.data[0].version: must be a string"),
        (
            [{"key": "k", "value": "v", "valueMap": {}}],
            "spec.provider.fake.data[0]: set value or valueMap, not both",
        ),
        (
            [{"key": "k", "value": 1}],
            "spec.provider.fake.data[0].value: must be a string (quote JSON documents)",
        ),
        (
            [{"key": "k", "valueMap": {"a": 1}}],
            "spec.provider.fake.data[0].valueMap: must map strings to strings",
        ),
        ([{"key": "k"}], "spec.provider.fake.data[0].value: is required"),
    ],
)
def test_fake_spec_errors_name_the_field(data: Any, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        make({"data": data})
    assert str(caught.value) == message


def test_fake_find_refuses_tags_in_words() -> None:
    with pytest.raises(SpecError) as caught:
        make({"data": []}).find(FindSpec(tags={"a": "b"}))
    assert str(caught.value) == "dataFrom.find.tags: the fake provider can find by name only"


def test_fake_find_by_path() -> None:
    fake = make({"data": [{"key": "X/k", "value": "1"}, {"key": "other", "value": "2"}]})
    assert fake.find(FindSpec(path="/")) == {"X/k": b"1", "other": b"2"}
    assert fake.find(FindSpec(path="X")) == {"X/k": b"1"}
    assert fake.find(FindSpec(path="/X/")) == {"X/k": b"1"}


def test_fake_get_map_names_the_version_and_property_it_read() -> None:
    fake = make(
        {"data": [{"key": "k", "value": "plain"}, {"key": "k", "value": "also plain", "version": "v2"}]}
    )
    with pytest.raises(SpecError) as caught:
        fake.get_map(RemoteRef(key="k", version="v2"))
    assert "fake: key 'k' (version 'v2')" in str(caught.value)
    nested = make({"data": [{"key": "k", "value": '{"p": "text"}'}]})
    with pytest.raises(SpecError) as caught:
        nested.get_map(RemoteRef(key="k", property="p"))
    assert "fake: key 'k' property 'p'" in str(caught.value)


# --------------------------------------------------------------------------- paths: Go's encodings


def test_go_json_is_gos_marshal_of_a_map() -> None:
    assert (
        paths.go_json({"b": 1, "a": "é <&> \u2028"})
        == '{"a":"é \\u003c\\u0026\\u003e \\u2028","b":1}'.encode()
    )
    assert paths.go_json(None) == b"null"
    # lone surrogates (from a "\ud800"-style escape) become U+FFFD, as Go's encoder writes them
    for lone in ("\ud800", "\udbff", "\udc00", "\udfff"):
        assert paths.go_json({"k": lone}) == '{"k":"\ufffd"}'.encode()
    assert paths.go_json({"k": "\ue000"}) == '{"k":"\ue000"}'.encode()
    with pytest.raises(ValueError):
        paths.go_json({"k": float("nan")})


def test_floats_as_go_formats_them() -> None:
    assert [paths.to_bytes(v) for v in (float("nan"), float("inf"), float("-inf"), 1.5, 2.0, 1e21)] == [
        b"NaN",
        b"+Inf",
        b"-Inf",
        b"1.5",
        b"2",
        b"1000000000000000000000",
    ]
    nested = paths.go_extract(
        b'{"o": {"a": 1e-7, "b": -1e-7, "c": 1e-6, "d": 1e21, "e": 1.23456789e28}}', "w"
    )
    assert nested["o"] == b'{"a":1e-7,"b":-1e-7,"c":0.000001,"d":1e+21,"e":1.23456789e+28}'


def test_find_size_and_name_regexp() -> None:
    paths.check_find_size(1000)
    with pytest.raises(SpecError) as caught:
        paths.check_find_size(1001)
    assert str(caught.value) == (
        "dataFrom.find: matches more than 1000 remote secrets; narrow it with path, name.regexp or tags"
    )
    assert paths.compile_name_regexp(None) is None
    assert paths.compile_name_regexp("^team-").search("team-a")
    with pytest.raises(SpecError) as caught:
        paths.compile_name_regexp("(")
    assert str(caught.value).startswith("dataFrom.find.name.regexp: invalid regular expression: ")


def _not_found(value: bytes, prop: str, **where: str) -> str:
    with pytest.raises(PropertyNotFound) as caught:
        paths.raw_select(value, prop, **where)
    return str(caught.value)


def test_raw_select_walks_the_stored_text_as_gjson_does() -> None:
    doc = b'{"a":12,"b":[3,45],"0":"zero","o":{"k":true,"n":null}}'
    assert paths.raw_select(doc, "a") == b"12"
    assert paths.raw_select(doc, "b.1") == b"45"
    assert paths.raw_select(doc, "0") == b"zero"
    assert paths.raw_select(doc, "o") == b'{"k":true,"n":null}'
    assert paths.raw_select(doc, "o.k") == b"true"
    assert paths.raw_select(doc, "o.n") == b""
    assert paths.raw_select(b'[{"x":1},{"x":2}]', "1.x") == b"2"
    assert paths.raw_select(b'{"a" : 12 , "b" : [ 3 , 45 ] }', "b.1") == b"45"
    assert _not_found(doc, "b.2") == "secret has no property 'b.2'"
    assert _not_found(doc, "nope", where="w") == "w has no property 'nope'"
    assert _not_found(b"text", "a", where="w") == "w is not JSON, so it has no property 'a'"
    with pytest.raises(PropertyNotFound) as caught:
        paths.select({"a": 1}, "b")
    assert "secret" in str(caught.value)


def test_go_extract_marshals_nested_values_as_go_does() -> None:
    with pytest.raises(SpecError) as caught:
        paths.go_extract(b"[1]", "w")
    assert str(caught.value) == "dataFrom.extract: w is not a JSON object, so it cannot be extracted"
    found = paths.go_extract(
        b'{"s":"x","n":{"t":true,"f":false,"big":12345678901234567890},"l":[1,"a"]}', "w"
    )
    assert found == {"s": b"x", "n": b'{"big":12345678901234567000,"f":false,"t":true}', "l": b'[1,"a"]'}


def test_small_helpers_of_paths() -> None:
    assert paths.escape_segment("a.b\\c") == "a\\.b\\\\c"
    assert paths.raw_select(b'{"a.b\\\\c":1}', paths.escape_segment("a.b\\c")) == b"1"
    with pytest.raises(ValueError):
        paths.to_json({"a": float("nan")})
    assert paths.loads(b'{"a":[1]}') == {"a": [1]}
    for bad in (b"{", b"[" * 100_000, b"\xff"):
        with pytest.raises(ValueError) as caught:
            paths.loads(bad)
        assert str(caught.value) == "not JSON"
    with pytest.raises(PropertyNotFound) as caught:
        paths.select({"a": 1}, "b")
    assert str(caught.value) == "secret has no property 'b'"
    with pytest.raises(SpecError) as caught:
        paths.go_extract(b"{", "w")
    assert str(caught.value) == "dataFrom.extract: w is not a JSON object, so it cannot be extracted"


def test_go_value_of_decoded_maps() -> None:
    assert paths.go_value({"b": 2, "a": 1e-7}) == b'{"a":1e-7,"b":2}'
    assert paths.go_value({"big": 12345678901234567890}) == b'{"big":12345678901234567890}'
    assert _not_found(b'{"a":"xyz","n":12}', "a.0") == "secret has no property 'a.0'"
    assert _not_found(b'{"a":"xyz","n":12}', "n.b") == "secret has no property 'n.b'"


def test_stored_text_keeps_bytes_that_are_not_utf8() -> None:
    # a lone surrogate in text is read as the three bytes Python writes for it, each one U+FFFD
    assert paths.raw_select('{"a":"\ud800"}', "a") == "\ufffd\ufffd\ufffd".encode()
    assert paths.raw_select(b'{"a":{"b":"\xff"}}', "a") == b'{"b":"\xff"}'  # stored bytes, as stored
    assert paths.raw_select(b'{"a.b":1,"c":2}', "a.b") == b"1"  # an exact top-level key first
    with pytest.raises(ValueError) as caught:
        paths.go_value({"a": float("nan")})
    assert str(caught.value) == "JSON has no NaN or infinity"


def test_go_marshal_without_html_escaping_is_an_encoder_with_set_escape_html_false() -> None:
    """ESO's JSONMarshal (rewrite merge, JSON strategy): <, > and & as they are, in keys and values,
    nested too; U+2028 and U+2029 still escaped, as Go's encoder always does."""
    value = {"<k&>": ["a<b>&c", {"\u2028": "x\u2029y"}], "n": 1.0}
    assert paths.go_marshal(value, float64=True, escape_html=False) == (
        b'{"<k&>":["a<b>&c",{"\\u2028":"x\\u2029y"}],"n":1}'
    )
    assert paths.go_marshal(value, float64=True) == (
        b'{"\\u003ck\\u0026\\u003e":["a\\u003cb\\u003e\\u0026c",{"\\u2028":"x\\u2029y"}],"n":1}'
    )


def test_go_unmarshal_reads_numbers_as_float64_and_refuses_what_go_refuses() -> None:
    assert paths.go_unmarshal(b'{"a": 1, "b": [2.5, true, null, "x"]}') == {
        "a": 1.0,
        "b": [2.5, True, None, "x"],
    }
    assert isinstance(paths.go_unmarshal(b"7"), float)
    for text in (b"1e999", b"NaN", b"[Infinity]", b"{", b"[" * 100000 + b"]" * 100000):
        with pytest.raises(ValueError):
            paths.go_unmarshal(text)


def _run_script(tmp_path: Any, text: str) -> None:
    import subprocess
    import sys

    script = tmp_path / "script.py"
    script.write_text(text)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]


def test_gcp_tests_pass_twice_in_one_process(tmp_path: Any) -> None:
    """mutmut calls ``pytest.main`` several times in one process; gRPC reads its roots once.

    With a CA per pytest session the second session's fake was not trusted and every mutant
    of providers/gcp.py "failed" the clean run.
    """
    _run_script(
        tmp_path,
        "import sys, pytest\n"
        "args = ['-q', '-p', 'no:randomly', '-p', 'no:cacheprovider', 'tests/test_provider_gcp.py',"
        " '-k', 'fetch or get']\n"
        "sys.exit(max(pytest.main(args), pytest.main(args)))\n",
    )


def test_openbao_starts_in_a_child_forked_after_a_session_used_it(tmp_path: Any) -> None:
    """mutmut forks a child per mutant from a process whose earlier session started OpenBao.

    The bao spawner thread does not survive fork; without a new one the child waited forever.
    """
    _run_script(
        tmp_path,
        "import os, sys, pytest\n"
        "args = ['-q', '-p', 'no:randomly', '-p', 'no:cacheprovider',"
        " 'tests/test_provider_vault.py::test_find_recursive_by_regexp_and_by_tags']\n"
        "assert pytest.main(args) == 0\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os._exit(int(pytest.main(args)))\n"
        "sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n",
    )
