"""fromYaml's merge keys and explicit tags, as ESO decodes them (sigs.k8s.io/yaml v1.6.0 on yaml.v2).

Every expected output is what go1.26.8 printed for ``fromYaml`` copied from ESO, through the
harness in tests/differential/yaml (``toJson`` of the result: JSON numbers, so 1 prints as 1).
yaml.v2 applies a merge key (a plain or ``!!merge``-tagged ``<<``; quoted, it is a key) in
document order, later keys replacing earlier ones, and a sequence of mappings from its last
element to its first; an explicit tag of bool/int/float/null/timestamp must be what the text
resolves to, ``!!binary`` is base64, other tags leave the text.
"""

# ruff: noqa: E501

from __future__ import annotations

import pytest

from secretsync.gotemplate import Limits, TemplateError, render

_ERR = '{"Error":"error converting YAML to JSON: yaml: '

MERGE = [
    ("a: 1\n<<: {a: 2, b: 3}\n", '{"a":2,"b":3}'),
    ("<<: {a: 2, b: 3}\na: 1\n", '{"a":1,"b":3}'),
    ("x: &m {p: 1}\nz:\n  <<: *m\n  q: 2\n", '{"x":{"p":1},"z":{"p":1,"q":2}}'),
    (
        "x: &m {p: 1, q: 0}\nz:\n  <<: [*m, {p: 5, r: 6}]\n  q: 2\n",
        '{"x":{"p":1,"q":0},"z":{"p":1,"q":2,"r":6}}',
    ),
    ("x: &m {p: 1}\nz:\n  <<: [{p: 5, r: 6}, *m]\n", '{"x":{"p":1},"z":{"p":5,"r":6}}'),
    (
        "z:\n  <<: 1\n",
        _ERR + 'map merge requires map or sequence of maps as the value"}',
    ),
    (
        "z:\n  <<: [1]\n",
        _ERR + 'map merge requires map or sequence of maps as the value"}',
    ),
    (
        "x: &s [1]\nz:\n  <<: *s\n",
        _ERR + 'map merge requires map or sequence of maps as the value"}',
    ),
    ("z:\n  !!merge <<: {a: 1}\n", '{"z":{"a":1}}'),
    ("z:\n  '<<': {a: 1}\n", '{"z":{"\\u003c\\u003c":{"a":1}}}'),
    ('z:\n  "<<": {a: 1}\n', '{"z":{"\\u003c\\u003c":{"a":1}}}'),
    ("z:\n  << : {a: 1}\n  <<: {b: 2}\n", '{"z":{"a":1,"b":2}}'),
    ("<<: {a: 1}\n", '{"a":1}'),
    ("z: {<<: {a: 1}, b: 2}\n", '{"z":{"a":1,"b":2}}'),
    ("x: &m {p: {deep: 1}}\nz:\n  <<: *m\n  p: {other: 2}\n", '{"x":{"p":{"deep":1}},"z":{"p":{"other":2}}}'),
    (
        "z:\n  <<: ~\n",
        _ERR + 'map merge requires map or sequence of maps as the value"}',
    ),
    ("z:\n  <<: {}\n", '{"z":{}}'),
    ("z:\n  <<: []\n", '{"z":{}}'),
    ("x: &n {<<: {a: 1}}\nz:\n  <<: *n\n", '{"x":{"a":1},"z":{"a":1}}'),
    ("z:\n  ? <<\n  : {a: 1}\n", '{"z":{"a":1}}'),
    ("z:\n  <<: !!map {a: 1}\n", '{"z":{"a":1}}'),
    ("z:\n  !!str <<: {a: 1}\n", '{"z":{"\\u003c\\u003c":{"a":1}}}'),
    ("a: ! '<<'\n", '{"a":"\\u003c\\u003c"}'),
    ("z:\n  ! '<<': {a: 1}\n", '{"z":{"a":1}}'),
    ("z:\n  &m <<: {a: 1}\n  b: *m\n", '{"z":{"a":1,"b":"\\u003c\\u003c"}}'),
    (
        "z:\n  <<: [{a: 1}, 5]\n",
        _ERR + 'map merge requires map or sequence of maps as the value"}',
    ),
    (
        "z:\n  <<: {a: !!int x}\nb: !!int y\n",
        _ERR + 'cannot decode !!str `x` as a !!int"}',
    ),
]

TAGS = [
    ("a: !!null ''\n", '{"a":null}'),
    ("a: !!binary aGk=\n", '{"a":"hi"}'),
    (
        "a: !!int 1.5\n",
        _ERR + 'cannot decode !!float `1.5` as a !!int"}',
    ),
    (
        "a: !!float abc\n",
        _ERR + 'cannot decode !!str `abc` as a !!float"}',
    ),
    (
        "a: !!bool maybe\n",
        _ERR + 'cannot decode !!str `maybe` as a !!bool"}',
    ),
    (
        "a: !!timestamp nope\n",
        _ERR + 'cannot decode !!str `nope` as a !!timestamp"}',
    ),
    ("a: !!timestamp 2001-01-01\n", '{"a":"2001-01-01"}'),
    (
        "a: !!int 2001-01-01\n",
        _ERR + 'cannot decode !!str `2001-01-01` as a !!int"}',
    ),
    ("a: !!float 1\n", '{"a":1}'),
    (
        "a: !!float 18446744073709551615\n",
        _ERR + 'cannot decode !!int `18446744073709551615` as a !!float"}',
    ),
    ("a: !!int 18446744073709551615\n", '{"a":18446744073709552000}'),
    ("a: !!int '12'\n", '{"a":12}'),
    ("a: !!str 12\n", '{"a":"12"}'),
    ("a: !foo 12\n", '{"a":"12"}'),
    ("a: ! 12\n", '{"a":"12"}'),
    (
        "a: !!binary |\n  aGk=\n  aGk=\n",
        _ERR + '!!binary value contains invalid base64 data"}',
    ),
    (
        "a: !!binary aGk\n",
        _ERR + '!!binary value contains invalid base64 data"}',
    ),
    ("a: !!binary /w==\n", '{"a":"�"}'),
    ("a: !!binary 4pyT\n", '{"a":"✓"}'),
    ("!!binary aGk=: 1\n", '{"hi":1}'),
    ("a: !!null x\n", _ERR + 'cannot decode !!str `x` as a !!null"}'),
    ("a: !!bool 1\n", _ERR + 'cannot decode !!int `1` as a !!bool"}'),
    ("a: !!float .5\n", '{"a":0.5}'),
    ("a: !!int 0x1F\n", '{"a":31}'),
    (
        "a: !!float 1e400\n",
        _ERR + 'cannot decode !!str `1e400` as a !!float"}',
    ),
    ("a: !!int\n", _ERR + 'cannot decode !!null `` as a !!int"}'),
    ("a: !!null\n", '{"a":null}'),
    ("a: !!str\n", '{"a":""}'),
    ("a: !!seq [1]\n", '{"a":[1]}'),
    ("a: !!map {b: 1}\n", '{"a":{"b":1}}'),
    ("a: !!str {b: 1}\n", '{"a":{"b":1}}'),
    (
        "a: [!!int x, {[1]: 2}]\n",
        _ERR + 'cannot decode !!str `x` as a !!int"}',
    ),
    (
        "a: {[1]: !!int x}\n",
        _ERR + 'invalid map key: []interface {}{1}"}',
    ),
    ("a: !!float -0\n", '{"a":0}'),
    ("a: !!int +5\n", '{"a":5}'),
    ("a: !!bool Yes\n", '{"a":true}'),
    ("a: !!merge 1\n", '{"a":"1"}'),
    ("a: !!binary ''\n", '{"a":""}'),
    (
        "x: {a: !!int q}\n",
        _ERR + 'cannot decode !!str `q` as a !!int"}',
    ),
    (
        "a: !!binary 'a\\x'\n",
        _ERR + '!!binary value contains invalid base64 data"}',
    ),
]


# aliases: an alias of a sequence is no merge source, an alias inside the node it names fails, an
# anchor counts from its node's start (a later one of the same name inside replaces it), keys that
# JSON names alike keep the one with the greatest bytes, a merge refuses a scalar before decoding it
ALIASES = [
    (
        "s: &s [{a: 1}]\nm: {<<: *s}\n",
        _ERR + 'map merge requires map or sequence of maps as the value"}',
    ),
    (
        "a: &e []\nb: {<<: *e}\n",
        _ERR + 'map merge requires map or sequence of maps as the value"}',
    ),
    ("a: &x [*x]\n", _ERR + "anchor 'x' value contains itself\"}"),
    (
        "a: &x {k: *x}\n",
        _ERR + "anchor 'x' value contains itself\"}",
    ),
    ("a: &x [&x 1]\nb: *x\n", '{"a":[1],"b":1}'),
    ("a: &x {k: &x {m: 1}}\nb: {<<: *x}\n", '{"a":{"k":{"m":1}},"b":{"m":1}}'),
    ("{!!binary /w==: a, !!binary /g==: b}\n", '{"�":"a"}'),
    ("{!!binary /g==: b, !!binary /w==: a}\n", '{"�":"a"}'),
    ('{!!binary /w==: b, "\\uFFFD": a}\n', '{"�":"b"}'),
    ('{"\\uFFFD": a, !!binary /w==: b}\n', '{"�":"b"}'),
    ("{!!binary /w==: a, !!binary /w==: b}\n", '{"�":"b"}'),
    (
        "x: {<<: !!int foo}\n",
        _ERR + 'map merge requires map or sequence of maps as the value"}',
    ),
    (
        "x: {<<: !!binary '%%%'}\n",
        _ERR + 'map merge requires map or sequence of maps as the value"}',
    ),
    (
        "x: {<<: &q !!int foo}\ny: *q\n",
        _ERR + 'map merge requires map or sequence of maps as the value"}',
    ),
    (
        "a: &a [1]\nb: {<<: [*a]}\n",
        _ERR + 'map merge requires map or sequence of maps as the value"}',
    ),
    ("a: &a {x: 1}\nb: {<<: [*a, *a]}\n", '{"a":{"x":1},"b":{"x":1}}'),
    (
        "a: &a 5\nb: {<<: *a}\n",
        _ERR + 'map merge requires map or sequence of maps as the value"}',
    ),
    (
        "a: &a {x: 1}\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n",
        '{"a":{"x":1},"b":[{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1},{"x":1}]}',
    ),
]


# decoder.merge refuses an alias of anything but a mapping before it expands it (no alias count,
# no "contains itself"), also as an element of a merged sequence
MERGED_ALIASES = [
    ("a: &x [{<<: *x}]\n", _ERR + 'map merge requires map or sequence of maps as the value"}'),
    ("a: &x {b: {<<: *x}}\n", _ERR + "anchor 'x' value contains itself\"}"),
    ("a: &x [{<<: [*x]}]\n", _ERR + 'map merge requires map or sequence of maps as the value"}'),
    ("s: &s 5\nc: {<<: *s}\n", _ERR + 'map merge requires map or sequence of maps as the value"}'),
    ("s: &s [1]\nc: {<<: *s}\n", _ERR + 'map merge requires map or sequence of maps as the value"}'),
]


def _from_yaml(doc: str) -> str:
    return render({"t": "{{ fromYaml .y | toJson }}"}, {"y": doc})["t"]


@pytest.mark.parametrize(("doc", "expected"), MERGE)
def test_merge_keys_as_yaml_v2(doc: str, expected: str) -> None:
    assert _from_yaml(doc) == expected


@pytest.mark.parametrize(("doc", "expected"), ALIASES)
def test_aliases_and_anchors_as_yaml_v2(doc: str, expected: str) -> None:
    assert _from_yaml(doc) == expected


@pytest.mark.parametrize(("doc", "expected"), MERGED_ALIASES)
def test_a_merged_alias_of_no_mapping_is_refused_first(doc: str, expected: str) -> None:
    assert _from_yaml(doc) == expected


@pytest.mark.parametrize(("doc", "expected"), TAGS)
def test_explicit_tags_as_yaml_v2(doc: str, expected: str) -> None:
    assert _from_yaml(doc) == expected


def _aliases(levels: int, width: int, merge: bool) -> str:
    """Each level aliases the one before it ``width`` times (in a merge, or a sequence)."""
    first = (
        "{" + ", ".join(f"k{i}: {i}" for i in range(10)) + "}" if merge else "[" + ", ".join(["1"] * 10) + "]"
    )
    doc = f"a0: &a0 {first}\n"
    for n in range(1, levels + 1):
        refs = ", ".join([f"*a{n - 1}"] * width)
        doc += f"a{n}: &a{n} {{<<: [{refs}]}}\n" if merge else f"a{n}: &a{n} [{refs}]\n"
    return doc


@pytest.mark.parametrize(
    ("doc", "expected"),
    [  # go1.26.8: decoder.unmarshal's allowedAliasRatio, 99 % of nodes up to 400,000
        (_aliases(3, 30, merge=True), _ERR + 'document contains excessive aliasing"}'),
        (_aliases(3, 10, merge=False), _ERR + 'document contains excessive aliasing"}'),
        (
            "a: &a {x: 1}\nb: [" + ", ".join(["*a"] * 400) + "]\n",
            '{"a":{"x":1},"b":[' + ",".join(['{"x":1}'] * 400) + "]}",
        ),
        (
            "p: [" + ", ".join(["0"] * 1000) + "]\na: &a {x: 1}\nb: [" + ", ".join(["*a"] * 300) + "]\n",
            '{"a":{"x":1},"b":[' + ",".join(['{"x":1}'] * 300) + '],"p":[' + ",".join(["0"] * 1000) + "]}",
        ),
    ],
)
def test_excessive_aliasing_as_yaml_v2(doc: str, expected: str) -> None:
    assert _from_yaml(doc) == expected


def test_a_merged_value_is_a_copy_for_the_template() -> None:
    # Go decodes the anchored mapping again for each merge: changing one map leaves the other
    source = '{{ $d := fromYaml .y }}{{ $_ := set $d.z "p" "9" }}{{ $d.x.p }}{{ $d.z.p }}'
    assert render({"t": source}, {"y": "x: &m {p: 1}\nz:\n  <<: *m\n"})["t"] == "19"


def _padded_merges(merges: int) -> dict[str, str]:
    """A 2,000-key mapping merged ``merges`` times into one map (one merge key after another), with
    enough ordinary nodes (100,000 zeros) that Go's alias guard allows about 190 merges: our
    budget has to stop the copies before that."""
    keys = ", ".join(f"k{i}: {i}" for i in range(2000))
    pad = ", ".join(["0"] * 100_000)
    return {"y": f"p: [{pad}]\na: &a {{{keys}}}\nm: {{{', '.join(['<<: *a'] * merges)}}}\n"}


@pytest.mark.parametrize(
    ("limits", "kind"),
    [  # the clock is no factor: uncharged, the copies would run to the end and the render succeed
        (Limits(time_budget=600), "value limit"),  # 256 bytes per merged entry against 64 MiB
        (Limits(time_budget=600, max_steps=300_000), "step limit"),  # a step per merged entry
    ],
)
def test_merges_are_charged_to_the_budget(limits: Limits, kind: str) -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": "{{ fromYaml .y | len }}"}, _padded_merges(180), limits=limits)
    assert info.value.kind == kind
    assert render({"t": "{{ fromYaml .y | len }}"}, _padded_merges(10), limits=limits)["t"] == "3"


@pytest.mark.parametrize(("merges", "aliasing"), [(195, False), (200, True)])
def test_a_merged_sequence_node_is_not_counted_as_decoded(merges: int, aliasing: bool) -> None:
    # go1.26.8: decoder.merge decodes a sequence's elements, not the sequence: 195 merges of
    # [*a] (100 keys) pass the alias guard, 200 do not
    doc = "a: &a {" + ", ".join(f"k{i}: 1" for i in range(100)) + "}\n"
    doc += "b: {" + ", ".join(["<<: [*a]"] * merges) + ", z: 1}\n"
    out = _from_yaml(doc)
    assert (out == _ERR + 'document contains excessive aliasing"}') is aliasing
