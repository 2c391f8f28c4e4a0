"""Properties of the bounded manifest parser, over random documents and random bytes.

For benign input it must give exactly what PyYAML's safe loader gives (JSON: what
:func:`json.loads` gives); for anything else it may refuse, but only with an InputError
(one line, no canary): never another exception, never a RecursionError or a crash.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secretsync import manifests
from secretsync.errors import InputError

CANARY = "CANARY-91be"
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
)
keys = st.text(max_size=20) | st.integers(min_value=-1000, max_value=1000)
documents = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(keys, children, max_size=6),
    max_leaves=60,
)
json_documents = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=20), children, max_size=6)
    ),
    max_leaves=60,
)


def same(a: Any, b: Any) -> bool:
    """Deep equality with NaN equal to itself and types compared exactly."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def parse(data: str | bytes) -> tuple[list[Any], str] | InputError:
    try:
        return manifests.parse_documents(data, "input")
    except InputError as exc:
        message = str(exc)
        assert "\n" not in message and CANARY not in message
        return exc


@PROPERTY
@given(documents, st.sampled_from([False, True, None]))
def test_benign_yaml_reads_as_pyyaml_reads_it(doc: Any, flow: bool | None) -> None:
    text = yaml.safe_dump({"doc": doc}, default_flow_style=flow, allow_unicode=True)
    result = parse(text)
    assert not isinstance(result, InputError), (result, text)
    assert same(result[0], [yaml.safe_load(text)])


@PROPERTY
@given(st.lists(documents, min_size=1, max_size=4))
def test_benign_multi_document_yaml_reads_as_pyyaml_reads_it(docs: list[Any]) -> None:
    text = yaml.safe_dump_all([{"d": d} for d in docs])
    result = parse(text)
    assert not isinstance(result, InputError), (result, text)
    assert same(result[0], [d for d in yaml.safe_load_all(text) if d is not None])


@PROPERTY
@given(json_documents, st.sampled_from([None, 2]))
def test_benign_json_reads_as_json_reads_it(doc: Any, indent: int | None) -> None:
    text = json.dumps({"doc": doc}, indent=indent, ensure_ascii=False)
    result = parse(text)
    if isinstance(result, InputError):  # only a lone surrogate in a random string may be refused
        assert "surrogate" in str(result)
        return
    assert same(result[0], [json.loads(text)])
    assert result[1] == "json"


@PROPERTY
@given(st.text(max_size=400))
def test_random_text_parses_as_pyyaml_would_or_is_an_input_error(text: str) -> None:
    result = parse(text)
    if isinstance(result, InputError) or result[1] == "json":
        return
    try:
        expected = [d for d in yaml.load_all(text, Loader=yaml.CSafeLoader) if d is not None]
    except Exception:  # PyYAML refusing what we accepted is the failure below
        expected = None
    assert expected is not None and same(result[0], expected), text


@PROPERTY
@given(st.binary(max_size=400))
def test_random_bytes_parse_or_are_an_input_error(data: bytes) -> None:
    parse(data)


yaml_fragments = st.sampled_from(
    ["[", "]", "{", "}", ", ", ": ", "- ", "\n", "  ", "&a ", "*a", "&b ", "*b", "<<: ", "? ", "!!set ",
     "!!binary ", "!!python/object ", "a", "0", "1:2", "'", '"', "#", "---\n", "...\n", "key", CANARY,
     "2001-12-14", ".nan", "~", "|\n", ">\n", "%YAML 1.1\n", "!t ", "\\u"]
)  # fmt: skip


@PROPERTY
@given(st.lists(yaml_fragments, max_size=60))
def test_random_yaml_structure_parses_or_is_an_input_error(fragments: list[str]) -> None:
    text = "".join(fragments)
    result = parse(text)
    if not isinstance(result, InputError) and result[1] == "yaml":
        assert same(result[0], [d for d in yaml.load_all(text, Loader=yaml.CSafeLoader) if d is not None])


@PROPERTY
@given(st.integers(min_value=1, max_value=400), st.sampled_from(["[", "{a: ", "- ", '{"a": ', "["]))
def test_any_depth_is_parsed_or_refused_as_too_deep(depth: int, opener: str) -> None:
    indent = opener == "- "
    text = "".join(("  " * i if indent else "") + opener + ("\n" if indent else "") for i in range(depth))
    text += CANARY
    result = parse(text)
    if isinstance(result, InputError):
        assert "nested deeper than 100 levels" in str(result) or depth <= 100
    else:
        assert depth <= 100


@pytest.mark.parametrize("depth", [99, 100, 101])
def test_the_depth_limit_is_exact(depth: int) -> None:
    assert not isinstance(parse("[" * depth + "]" * depth), InputError) or depth > 100
    yaml_text = "a: " + "[" * (depth - 1) + "]" * (depth - 1)
    result = parse(yaml_text)
    assert isinstance(result, InputError) == (depth > 100)
