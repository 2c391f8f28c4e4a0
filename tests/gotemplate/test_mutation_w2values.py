"""Mutation survivors in Go value semantics and their users (``values.py``: deep_equal, size_of,
count_nodes; ``execute.py``; ``funcs/sprig_lists.py``, ``eso.py``, ``sprig_regex.py``, ``sprig_math.py``).

Expected values follow Go 1.26 (reflect.DeepEqual, text/template's sorted map keys, regexp's
``extract``), Sprig v3.3.0 with dario.cat/mergo and spf13/cast, and ESO's fromYaml
(sigs.k8s.io/yaml v1.6.0). Depth and size accounting is our own (the value functions' docstrings).
"""

from __future__ import annotations

from typing import Any

import pytest

from secretsync.gotemplate import Limits, TemplateError, render
from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.values import GoStruct, count_nodes, deep_equal, size_of


def r(source: str, data: Any = None, **kw: Any) -> str:
    return render({"t": source}, {} if data is None else data, **kw)["t"]


def fails(source: str, data: Any = None, **kw: Any) -> TemplateError:
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {} if data is None else data, **kw)
    return info.value


def nest(depth: int, kind: str = "list") -> Any:
    """A value whose innermost scalar is at ``depth`` (the outer container at depth 0)."""
    v: Any = 1
    for _ in range(depth):
        v = [v] if kind == "list" else {"k": v}
    return v


def build(depth: int, kind: str = "list", inner: str = "1") -> str:
    """Template text leaving ``$x`` nested ``depth`` levels (built by a loop, so past any import limit)."""
    wrap = "list $x" if kind == "list" else 'dict "k" $x'
    return f"{{{{ $x := {inner} }}}}{{{{ range until {depth} }}}}{{{{ $x = {wrap} }}}}{{{{ end }}}}"


# --- execute: range over a map visits keys in Go's byte order ----------------------------------


def test_range_over_a_map_sorts_keys_by_their_utf8_bytes() -> None:
    # Go sorts string keys bytewise: "\xee\x80\x80" (U+E000) before the lone byte "\xff"; by code
    # point the escaped byte (U+DCFF) would sort first
    assert r('{{ range $k, $v := dict (b64dec "/w==") 1 "\\ue000" 2 }}{{ $v }}{{ end }}') == "21"


# --- values.deep_equal: reflect.DeepEqual ----------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "want"),
    [
        ("{{ deepEqual (dict) (list) }}", "false"),  # a map is never a slice, even both empty
        ('{{ deepEqual (split "," "a") (dict "_0" "a") }}', "false"),  # map[string]string vs interface{}
        ('{{ deepEqual (dict "_0" "a") (split "," "a") }}', "false"),
        ('{{ deepEqual (split "," "a") (split "," "a") }}', "true"),
        ('{{ deepEqual (semver "1.2.3") (semver "1.2.3") }}', "true"),  # pointers to equal structs
        ('{{ deepEqual (semver "1.2.3") (semver "1.2.4") }}', "false"),
        ('{{ deepEqual (semver "1.2.3") (semver "1.2.3").IncMajor }}', "false"),  # *Version vs Version
        ('{{ deepEqual (semver "2.0.0") (semver "1.2.3").IncMajor }}', "false"),
        ('{{ deepEqual (dict "a" 1) (dict "a" 1 "b" 2) }}', "false"),
        ('{{ deepEqual (dict "a" 1 "b" 2) (dict "a" 1) }}', "false"),
        ('{{ deepEqual (dict "a" 1) (dict "a" 2) }}', "false"),
        ('{{ deepEqual (dict "a" 1) (dict "b" 1) }}', "false"),
        ('{{ deepEqual (dict "a" (list 1 2)) (dict "a" (list 1 2)) }}', "true"),
        ('{{ deepEqual (float64 "NaN") (float64 "NaN") }}', "false"),  # NaN != NaN
        ('{{ deepEqual (list (float64 "NaN")) (list (float64 "NaN")) }}', "false"),
        ("{{ deepEqual (list (list 1)) (list (list 1)) }}", "true"),
        ("{{ deepEqual (list (list 1)) (list (list 2)) }}", "false"),
    ],
)
def test_deep_equal_like_reflect(source: str, want: str) -> None:
    assert r(source) == want


def test_deep_equal_tells_a_struct_from_a_map_with_the_same_entries() -> None:
    s = GoStruct("T", {"a": 1})
    assert not deep_equal(s, {"a": 1})
    assert not deep_equal({"a": 1}, s)
    assert deep_equal(s, GoStruct("T", {"a": 1}))
    assert not deep_equal(s, GoStruct("U", {"a": 1}))


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_deep_equal_compares_down_to_the_depth_limit(kind: str) -> None:
    # the innermost value at depth 100 (our max_depth) is compared; one deeper is refused
    assert r(build(100, kind) + "{{ deepEqual $x $x }}") == "true"
    err = fails(build(101, kind) + "{{ deepEqual $x $x }}")
    assert (err.kind, err.detail) == ("depth limit", "deepEqual")


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_deep_equal_follows_a_larger_depth_limit(kind: str) -> None:
    assert r(build(150, kind) + "{{ deepEqual $x $x }}", limits=Limits(max_depth=200)) == "true"


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_deep_equal_defaults_to_a_depth_of_100(kind: str) -> None:
    assert deep_equal(nest(100, kind), nest(100, kind))
    with pytest.raises(Fault) as info:
        deep_equal(nest(101, kind), nest(101, kind))
    assert info.value.kind == "depth limit"


# --- values.size_of / count_nodes: our accounting ----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "size", "nodes"),
    [
        (1, 8, 1),  # one slot
        (None, 8, 1),
        ("abc", 3 + 8, 1),  # a string: its length and a slot
        ([], 8, 1),
        (["ab", 1], 8 + (2 + 8) + 8, 3),
        ([["abc"]], 8 + 8 + (3 + 8), 3),
        ({"k": "v"}, 8 + (1 + 8) + (1 + 8), 2),  # a map entry: key, a slot, the value
        ({"ab": ["c"], "d": 1}, 8 + (2 + 8 + 8 + 1 + 8) + (1 + 8 + 8), 4),
    ],
)
def test_size_and_node_count_of_values(value: Any, size: int, nodes: int) -> None:
    assert size_of(value) == size
    assert size_of(value, 0, 100) == size
    assert count_nodes(value) == nodes
    assert count_nodes(value, 0, 100) == nodes


@pytest.mark.parametrize("kind", ["list", "dict"])
@pytest.mark.parametrize("walk", [size_of, count_nodes])
def test_size_and_node_count_walk_down_to_the_depth_limit(kind: str, walk: Any) -> None:
    walk(nest(100, kind))  # the default bound is 100, the innermost value at depth 100 is walked
    walk(nest(100, kind), 0, 100)
    walk(nest(150, kind), 0, 200)
    for args in [(), (0, 100)]:
        with pytest.raises(Fault) as info:
            walk(nest(101, kind), *args)
        assert info.value.kind == "depth limit"


# --- sprig_lists: has/uniq (reflect.DeepEqual), merge (mergo) ------------------------------------------


def test_has_compares_down_to_the_depth_limit() -> None:
    assert r(build(100) + "{{ has $x (list 0 $x) }}") == "true"
    assert r(build(150) + "{{ has $x (list 0 $x) }}", limits=Limits(max_depth=200)) == "true"


@pytest.mark.parametrize(
    ("source", "want"),
    [
        # a nil in the source is skipped (no overwrite) and the keys after it are still merged
        ('{{ merge (dict "a" 1) (dict "b" nil "c" 2) }}', "map[a:1 c:2]"),
        ('{{ merge (dict "a" 1) (dict "b" nil "c" 2 "a" 3) }}', "map[a:1 c:2]"),
        # a merged nested map is kept, and the keys after it are still merged
        ('{{ merge (dict "a" (dict "x" 1)) (dict "a" (dict "y" 2) "b" 3) }}', "map[a:map[x:1 y:2] b:3]"),
        # a non-empty list in the destination is kept, and the keys after it are still merged
        ('{{ merge (dict "l" (list 1)) (dict "l" (list 2) "b" 3) }}', "map[b:3 l:[1]]"),
        # with overwrite, nested maps are merged (not replaced) and lists are replaced
        ('{{ mergeOverwrite (dict "a" (dict "x" 1)) (dict "a" (dict "y" 2)) }}', "map[a:map[x:1 y:2]]"),
        (
            '{{ mergeOverwrite (dict "a" (dict "x" 1)) (dict "a" (dict "y" 2) "b" 3) }}',
            "map[a:map[x:1 y:2] b:3]",
        ),
        ('{{ mergeOverwrite (dict "l" (list 1)) (dict "l" (list 2) "b" 3) }}', "map[b:3 l:[2]]"),
    ],
)
def test_merge_like_mergo(source: str, want: str) -> None:
    assert r(source) == want


def test_merge_takes_over_the_source_map_when_the_merged_one_stays_empty() -> None:
    # mergo sets dst[key] = src[key] when dst's map is empty after merging: both then name one map
    source = '{{ $d := dict "a" (dict) }}{{ $s := dict "a" (dict) }}{{ $_ := merge $d $s }}'
    assert r(source + '{{ $_ := set $s.a "k" 1 }}{{ $d }}') == "map[a:map[k:1]]"


@pytest.mark.parametrize("name", ["merge", "mergeOverwrite"])
def test_merge_descends_to_the_depth_limit(name: str) -> None:
    # our bound: maps nested 100 deep (the innermost map at depth 100) merge; one deeper is refused
    ok = build(100, "dict", "dict") + "{{ $y := $x }}" + f"{{{{ $m := {name} $x $y }}}}ok"
    assert r(ok) == "ok"
    deep = build(101, "dict", "dict") + "{{ $y := $x }}" + f"{{{{ $m := {name} $x $y }}}}ok"
    err = fails(deep)
    assert (err.kind, err.detail) == ("depth limit", name)


@pytest.mark.parametrize(
    ("source", "want"),
    [('{{ merge nil (dict "a" 1) }}', "map[a:1]"), ('{{ mergeOverwrite nil (dict "a" 1) }}', "map[a:1]")],
)
def test_merge_into_nil_makes_a_map(source: str, want: str) -> None:
    assert r(source) == want


# --- eso fromYaml: sigs.k8s.io/yaml through JSON -----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 99 + "1" + "]" * 99,  # 100 containers, the innermost number at depth 100
        "a: " + "{a: " * 99 + "1" + "}" * 99,
    ],
)
def test_from_yaml_at_the_depth_limit(text: str) -> None:
    assert r("{{ $y := fromYaml .y }}{{ hasKey $y `Error` }}", {"y": text}) == "false"
    assert fails("{{ $y := fromYaml .y }}", {"y": "b: [" + text + "]"}).kind == "depth limit"


@pytest.mark.parametrize(
    "text",
    [
        "a: &x [[[1]]]\nb: [[[*x]]]\nc: .inf\n",
        "a: &x {k: {k: {k: 1}}}\nb: {k: {k: {k: *x}}}\nc: .inf\n",
    ],
)
def test_from_yaml_refuses_an_alias_nested_past_the_depth_limit(text: str) -> None:
    # the document nests 4 containers, but the alias puts the anchored value 7 deep: refused before
    # the later infinity is seen
    err = fails("{{ $y := fromYaml .y }}", {"y": text}, limits=Limits(max_depth=4))
    assert (err.kind, err.detail) == ("depth limit", "fromYaml")


def test_from_yaml_refuses_a_null_key() -> None:
    # convertToJSONableObject: fmt.Errorf("unsupported map key of type: %s, key: %+#v, value: %+#v",
    # reflect.TypeOf(k), k, v); reflect.TypeOf(nil) under %s is "%!s(<nil>)"
    assert r('{{ fromYaml "~: 1" }}') == (
        "map[Error:error converting YAML to JSON: "
        "unsupported map key of type: %!s(<nil>), key: <nil>, value: 1]"
    )


REFUSED = "map[Error:error converting YAML to JSON: unsupported map key of type: "


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("~:", "%!s(<nil>), key: <nil>, value: <nil>"),
        ("null: x", '%!s(<nil>), key: <nil>, value: "x"'),
        ("~: 1\n~: 2", "%!s(<nil>), key: <nil>, value: 2"),  # the later value replaced the first
        ("a: {~: 1.5}", "%!s(<nil>), key: <nil>, value: 1.5"),
        ("~: 1e6", "%!s(<nil>), key: <nil>, value: 1e+06"),
        ("~: 0xFFFFFFFFFFFFFFFF", "%!s(<nil>), key: <nil>, value: 0xffffffffffffffff"),  # %#v of a uint64
        (
            "~: [1, ~, x, true, [], {}]",
            '%!s(<nil>), key: <nil>, value: []interface {}{1, interface {}(nil), "x", '
            "true, []interface {}{}, map[interface {}]interface {}{}}",
        ),
        (
            "~: {b: 1, a: [2], ~: 3}",
            "%!s(<nil>), key: <nil>, value: map[interface {}]interface {}{"
            'interface {}(nil):3, "a":[]interface {}{2}, "b":1}',
        ),
        ('~: "q\\"\\u00e9\\n"', '%!s(<nil>), key: <nil>, value: "q\\"é\\n"'),  # strconv.Quote
        ("0xFFFFFFFFFFFFFFFF: a", 'uint64, key: 0xffffffffffffffff, value: "a"'),
        ("18446744073709551615: a", 'uint64, key: 0xffffffffffffffff, value: "a"'),
        ("a: .nan\n~: 1", "%!s(<nil>), key: <nil>, value: 1"),  # before json.Marshal meets the NaN
        ("- ~: 1", "%!s(<nil>), key: <nil>, value: 1"),  # before JSON refuses the list for the map
        ("a: {b: {~: 1}}\n~: 2", "%!s(<nil>), key: <nil>, value: 1"),  # the first in document order
        ("x: &x {~: 5}\ny: *x", "%!s(<nil>), key: <nil>, value: 5"),
    ],
)
def test_from_yaml_refused_keys(text: str, want: str) -> None:
    assert r("{{ fromYaml .y }}", {"y": text}) == REFUSED + want + "]"


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("[1, 2]: a", "[]interface {}{1, 2}"),
        ("? {a: 1}\n: b", 'map[interface {}]interface {}{"a":1}'),
        ("~: 1\n[x]: 2", '[]interface {}{"x"}'),  # yaml.v2's decoder fails before keys become JSON
        ("[1]: {[2]: x}", "[]interface {}{1}"),  # the key is checked before its value is decoded
        ("? {[2]: x}\n: y", "[]interface {}{2}"),  # decoding the key meets the inner one first
    ],
)
def test_from_yaml_sequence_or_mapping_as_a_key(text: str, want: str) -> None:
    assert (
        r("{{ fromYaml .y }}", {"y": text})
        == f"map[Error:error converting YAML to JSON: yaml: invalid map key: {want}]"
    )


def test_from_yaml_refused_key_replaced_before_json() -> None:
    # the map holding the null key is gone (a: 2 replaced it) when keys become JSON names
    assert r("{{ fromYaml .y }}", {"y": "a: {~: 1}\na: 2"}) == "map[a:2]"


def test_from_yaml_syntax_error_wins_over_keys() -> None:
    assert r("{{ fromYaml .y }}", {"y": "~: 1\n[1]: 2\nb: ["}) == (
        "map[Error:error converting YAML to JSON: yaml: invalid document]"
    )


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("3.14159265358979: a", "map[3.1415927:a]"),  # strconv.FormatFloat(k, 'g', -1, 32)
        (".inf: a", "map[.inf:a]"),
        ("-.inf: a", "map[-.inf:a]"),
        (".nan: a", "map[.nan:a]"),
        ("1e40: a", "map[.inf:a]"),  # past float32
        ("1e6: a", "map[1e+06:a]"),
        ("1.0: a", "map[1:a]"),
        ("0x10: a\ntrue: b\n-1: c", "map[-1:c 16:a true:b]"),
    ],
)
def test_from_yaml_float_keys_like_go_yaml(text: str, want: str) -> None:
    assert r("{{ fromYaml .y }}", {"y": text}) == want


def test_from_yaml_non_finite_number_outside_a_map() -> None:
    # yamlToJSONTarget marshals the document before JSON is read into the map
    assert r("{{ fromYaml .y }}", {"y": "- .inf"}) == (
        "map[Error:error converting YAML to JSON: json: unsupported value: +Inf]"
    )
    assert r("{{ fromYaml .y }}", {"y": ".nan"}) == (
        "map[Error:error converting YAML to JSON: json: unsupported value: NaN]"
    )


# --- sprig_regex: regexp.extract stops a group number at 1e8 -------------------------------------------


@pytest.mark.parametrize("ref", ["$1000000000", "${1000000000}"])
def test_a_ten_digit_group_reference_is_a_name(ref: str) -> None:
    # Go: past 1e8 the digits are not a number but a name, here of a named group
    assert r(f'{{{{ regexReplaceAll "(?P<1000000000>x)" "axb" "[{ref}]" }}}}') == "a[x]b"


# --- sprig_math: spf13/cast trimZeroDecimal ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "want"),
    [
        ('{{ int64 "5." }}', "0"),  # no zero after the point: nothing trimmed, not an integer
        ('{{ int64 "5.0" }}', "5"),
        ('{{ int64 "50" }}', "50"),
        ('{{ int64 ".0" }}', "0"),
    ],
)
def test_int64_of_decimal_strings_like_cast(source: str, want: str) -> None:
    assert r(source) == want
