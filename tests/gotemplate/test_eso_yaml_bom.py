"""toYaml of strings that start with a BOM, as ESO's Go writes them (sigs.k8s.io/yaml v1.6.0).

yaml.v2's double-quoted writer asks ``is_bom(value, i)``, which ignores ``i``: when the string starts
with U+FEFF, every character of it is escaped (``"\\uFEFF\\x61"``). A BOM elsewhere is escaped
alone. Expected outputs from go1.26.8 through tests/differential/yaml (``toYAML`` copied from ESO).
"""

# ruff: noqa: E501

from __future__ import annotations

from typing import Any

import pytest

from secretsync.gotemplate import TemplateError, render

CASES: list[tuple[Any, str]] = [
    ("\ufeffa", '"\\uFEFF\\x61"'),
    ({"k": "\ufeffa"}, 'k: "\\uFEFF\\x61"'),
    ({"\ufeffa": 1}, '"\\uFEFF\\x61": 1'),
    (["\ufeffa"], '- "\\uFEFF\\x61"'),
    ("\ufeffab", '"\\uFEFF\\x61\\x62"'),
    ({"k": "\ufeffab"}, 'k: "\\uFEFF\\x61\\x62"'),
    ({"\ufeffab": 1}, '"\\uFEFF\\x61\\x62": 1'),
    (["\ufeffab"], '- "\\uFEFF\\x61\\x62"'),
    ("\ufeff\xe9", '"\\uFEFF\\xE9"'),
    ({"k": "\ufeff\xe9"}, 'k: "\\uFEFF\\xE9"'),
    ({"\ufeff\xe9": 1}, '"\\uFEFF\\xE9": 1'),
    (["\ufeff\xe9"], '- "\\uFEFF\\xE9"'),
    ("\ufeff\u65e5", '"\\uFEFF\\u65E5"'),
    ({"k": "\ufeff\u65e5"}, 'k: "\\uFEFF\\u65E5"'),
    ({"\ufeff\u65e5": 1}, '"\\uFEFF\\u65E5": 1'),
    (["\ufeff\u65e5"], '- "\\uFEFF\\u65E5"'),
    ("\ufeff1", '"\\uFEFF\\x31"'),
    ({"k": "\ufeff1"}, 'k: "\\uFEFF\\x31"'),
    ({"\ufeff1": 1}, '"\\uFEFF\\x31": 1'),
    (["\ufeff1"], '- "\\uFEFF\\x31"'),
    ("\ufeff a", '"\\uFEFF\\x20\\x61"'),
    ({"k": "\ufeff a"}, 'k: "\\uFEFF\\x20\\x61"'),
    ({"\ufeff a": 1}, '"\\uFEFF\\x20\\x61": 1'),
    (["\ufeff a"], '- "\\uFEFF\\x20\\x61"'),
    ("\ufeffa\nb", '"\\uFEFF\\x61\\n\\x62"'),
    ({"k": "\ufeffa\nb"}, 'k: "\\uFEFF\\x61\\n\\x62"'),
    ({"\ufeffa\nb": 1}, '? "\\uFEFF\\x61\\n\\x62"\n: 1'),
    (["\ufeffa\nb"], '- "\\uFEFF\\x61\\n\\x62"'),
    ("\ufeff", '"\\uFEFF"'),
    (
        '\ufeff\x00\x07\x08\t\n\x0b\x0c\r\x1b"\\\xa0\u2028\u2029 \xe9\u20ac\U0001f600~',
        '"\\uFEFF\\0\\a\\b\\t\\n\\v\\f\\r\\e\\"\\\\\\_\\L\\P\\x20\\xE9\\u20AC\\U0001F600\\x7E"',
    ),
    ("a\ufeffb", '"a\\uFEFFb"'),
    (
        {
            "\ufeffkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk": 1
        },
        '? "\\uFEFF\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B"\n: 1',
    ),
    (
        {
            "\ufeffkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk": 1
        },
        '"\\uFEFF\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B": 1',
    ),
    (
        {
            "\ufeffkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk": 1
        },
        '? "\\uFEFF\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B\\x6B"\n: 1',
    ),
    (["\ufeff x y", {"n": ["\ufeffz"]}], '- "\\uFEFF\\x20\\x78\\x20\\x79"\n- "n":\n  - "\\uFEFF\\x7A"'),
    (
        {
            "a": {
                "b": "\ufeffw w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w "
            }
        },
        'a:\n  b: "\\uFEFF\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20\\x77\\x20"',
    ),
    ("\ufeff\x85x", '"\\uFEFF\\x20\\x78"'),
    (
        {"\ufeffa": "\ufeffb", "\ufeffc": ["\ufeffd", "e"]},
        '"\\uFEFF\\x61": "\\uFEFF\\x62"\n"\\uFEFF\\x63":\n- "\\uFEFF\\x64"\n- e',
    ),
]


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_to_yaml_escapes_every_character_of_a_string_that_starts_with_a_bom(
    value: Any, expected: str
) -> None:
    assert render({"t": "{{ toYaml .v }}"}, {"v": value})["t"] == expected


def test_a_document_cannot_forge_the_stand_in() -> None:
    # the stand-ins carry a random nonce: a string that looks like one is left alone
    value = {"a": "\ufeffx", "b": "bom0000000000000000n0"}
    assert (
        render({"t": "{{ toYaml .v }}"}, {"v": value})["t"] == 'a: "\\uFEFF\\x78"\nb: bom0000000000000000n0'
    )


def test_a_huge_string_starting_with_a_bom_is_refused_before_it_is_escaped() -> None:
    # Go's text is at least two characters for each one: past the value limit, refused at once
    with pytest.raises(TemplateError) as info:
        render({"t": '{{ toYaml (print "\ufeff" (repeat 1000000 "a")) }}'}, {})
    assert info.value.kind == "value limit"
    many = render({"t": '{{ toYaml (splitList "," (repeat 2000 "\ufeff,")) }}'}, {})["t"]
    assert many.count('- "\\uFEFF"') == 2000
