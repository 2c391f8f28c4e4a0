"""toYaml of strings holding U+2028/U+2029 (line breaks to YAML), as ESO's Go writes them.

libyaml 0.2.5 (PyYAML's emitter) writes an indent between a single-quoted scalar's final line
breaks and its closing quote, and closes a document ending in one with "..."; yaml.v2 does
neither. Expected outputs from go1.26.8 + sigs.k8s.io/yaml v1.6.0 (tests/differential/yaml).
"""

# ruff: noqa: E501

from __future__ import annotations

from typing import Any

import pytest

from secretsync.gotemplate import render

CASES: list[tuple[Any, str]] = [
    ("\u2028", "'\u2028'"),
    ("\u2029", "'\u2029'"),
    ("a\u2028", "'a\u2028'"),
    ("a\u2028\u2029", "'a\u2028\u2029'"),
    ("\u2028\u2028", "'\u2028\u2028'"),
    ({"\u2028": 1}, "? '\u2028'\n: 1"),
    ({"k\u2029": "v\u2028"}, "? 'k\u2029'\n: 'v\u2028'"),
    ([["\u2028"]], "- - '\u2028'"),
    ({"a": {"b": {"c": "x\u2028"}}}, "a:\n  b:\n    c: 'x\u2028'"),
    ([{"a": ["\u2028", {"b": "\u2029"}]}], "- a:\n  - '\u2028'\n  - b: '\u2029'"),
    ("\u2028 ", '"\\L "'),
    ("\u2028 'x", '"\\L \'x"'),
    ("x\u2028 '", '"x\\L \'"'),
    ("x\u2028'", "'x\u2028  '''"),
    ("x\u2028''", "'x\u2028  '''''"),
    ("'\u2028'", "'''\u2028  '''"),
    ("\u2028 ''", "\"\\L ''\""),
    ("a\n\u2028 'b", "|-\n  a\n\u2028   'b"),
    ("a \u2028", '"a \\L"'),
    ("a\u2028b", "'a\u2028  b'"),
    ("a\u2028 b", '"a\\L b"'),
    (" \u2028", '" \\L"'),
    ("\u2028x\u2028", "'\u2028  x\u2028'"),
    ("a\n\u2028", "|+\n  a\n\u2028"),
    ("a\n\u2029\n", "|+\n  a\n\u2029"),
    ({"k": "a\n\u2028"}, "k: |+\n  a\n\u2028"),
    ("\ufeff\u2028", '"\\uFEFF\\L"'),
    ({"\ufeffk": "\u2028"}, "\"\\uFEFF\\x6B\": '\u2028'"),
    (
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx \u2028",
        '"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n  \\L"',
    ),
    (
        "x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x \u2028",
        '"x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x\n  x x x x x x x x x \\L"',
    ),
    (
        {
            "long long long long long long long long long long long long long long long long long long long long long long long long long long long long long long \u2028": 1
        },
        '? "long long long long long long long long long long long long long long long long\n  long long long long long long long long long long long long long long \\L"\n: 1',
    ),
    (["\u2028", "", "\u2029"], "- '\u2028'\n- \"\"\n- '\u2029'"),
    ("#\u2028", "'#\u2028'"),
    ("- \u2028", '"- \\L"'),
    (": \u2028", '": \\L"'),
    ("\u2028: x", "'\u2028  : x'"),
]

# Where trimming the indent could also touch a string's own text (a literal block holding a
# separator, a string ending in a separator and spaces), the indent stays: the output differs from
# Go's by those spaces but still reads back as the same value.
KEPT: list[Any] = [
    {"a": "a\n\u2028 'b", "b": "x\u2028"},
    {"a": "\u2028 ", "b": "x\u2028"},
]


def _to_yaml(value: Any) -> str:
    return render({"t": "{{ toYaml .v }}"}, {"v": value})["t"]


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_to_yaml_of_line_separators_as_go(value: Any, expected: str) -> None:
    assert _to_yaml(value) == expected


@pytest.mark.parametrize("value", KEPT)
def test_where_the_indent_stays_the_value_reads_back_unchanged(value: Any) -> None:
    back = render({"t": "{{ toYaml .v | fromYaml | toJson }}"}, {"v": value})["t"]
    assert back == render({"t": "{{ toJson .v }}"}, {"v": value})["t"]
