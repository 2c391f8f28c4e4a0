"""ESO's ``fromYaml``: a YAML document decoded as sigs.k8s.io/yaml v1.6.0 decodes it.

sigs.k8s.io/yaml has yaml.v2 (go.yaml.in/yaml/v2 v2.4.x) decode the document into an interface{},
converts the keys to JSON names, marshals the result to JSON and reads it back: every number comes
back a float64, and each step has failures of its own, reported in the ``{"Error": ...}`` map ESO
returns. YAML is read from libyaml's *event* stream by a bounded composer here (PyYAML's C composer
recurses on nesting and crashes the process on deep input), which applies yaml.v2's decoding rules
as it goes: scalar resolution and explicit tags (:mod:`secretsync.gotemplate.funcs.yamlv2`), merge
keys (``<<``), and the order in which Go meets each kind of failure.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import yaml

from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs import yamlv2
from secretsync.gotemplate.funcs.jsonenc import valid_utf8
from secretsync.gotemplate.gostrconv import INT_MAX, format_float, quote, to_bytes
from secretsync.gotemplate.limits import Budget
from secretsync.gotemplate.values import Value

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = yamlv2.LONG_TAG + "merge"


class _Map(dict[str, Value]):
    """A YAML mapping under the names sigs.k8s.io/yaml's JSON step gives its keys; ``raw`` is the
    yaml.v2 map itself (Go-equal keys share an entry), which Go's error texts print with %#v."""

    __slots__ = ("raw",)

    def __init__(self) -> None:
        super().__init__()
        self.raw: dict[object, tuple[Value, Value]] = {}


def _go_key(k: Value, n: int) -> object:
    """The identity of a key in a Go map[interface{}]interface{}: its dynamic type and value."""
    if isinstance(k, float) and math.isnan(k):
        return ("NaN", n)  # NaN != NaN: every NaN key is a key of its own
    return (type(k).__name__ if not isinstance(k, int) or k <= INT_MAX else "uint64", k)


def _key_text(k: Value) -> str | None:
    """sigs.k8s.io/yaml's ``convertToJSONableObject`` on a key: its JSON name, or None for a key it
    refuses (nil, and a uint64: a number past int64 that ParseUint read)."""
    if isinstance(k, str):
        return valid_utf8(k)  # a !!binary key's invalid bytes, as json.Marshal writes them
    if isinstance(k, bool):
        return "true" if k else "false"
    if isinstance(k, int):
        return str(k) if k <= INT_MAX else None
    if isinstance(k, float):
        s = format_float(k, "g", -1, 32)  # strconv.FormatFloat(typedKey, 'g', -1, 32)
        return {"+Inf": ".inf", "-Inf": "-.inf", "NaN": ".nan"}.get(s, s)
    return None


def _fmtsort_key(item: tuple[Value, Value]) -> tuple[int, int, Any]:
    """internal/fmtsort on interface{} keys: nil first, then by dynamic type, then by value.

    Go orders two types by the address of their type descriptors, which no source states; this
    takes reflect.Kind order (bool, int, uint64, float64, string). NaN sorts before numbers.
    """
    k = item[0]
    if k is None:
        return (0, 0, 0)
    if isinstance(k, bool):
        return (1, 0, k)
    if isinstance(k, int):
        return (11 if k > INT_MAX else 2, 0, k)
    if isinstance(k, float):
        return (14, 0, 0.0) if math.isnan(k) else (14, 1, k)
    return (24, 0, to_bytes(k))


class _GoSyntax:
    """fmt's ``%#v`` (also ``%+#v``) of values yaml.v2 decoded into an interface{}, charged as built."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.out: list[str] = []
        self.size = 0

    def write(self, s: str) -> None:
        self.out.append(s)
        self.size += len(s)
        self.budget.check_size(self.size)

    def value(self, v: Value, depth: int = 0) -> None:
        self.budget.step()
        if depth > self.budget.limits.max_depth:
            raise Fault("depth limit")
        if v is None:
            self.write("interface {}(nil)" if depth else "<nil>")
        elif isinstance(v, bool):
            self.write("true" if v else "false")
        elif isinstance(v, int):
            self.write(f"{v:#x}" if v > INT_MAX else str(v))  # a uint64 prints as 0x... (fmt0x64)
        elif isinstance(v, float):
            self.write(format_float(v, "g", -1))
        elif isinstance(v, str):
            self.write(quote(v))
        elif isinstance(v, list):
            self.write("[]interface {}{")
            for i, e in enumerate(v):
                if i:
                    self.write(", ")
                self.value(e, depth + 1)
            self.write("}")
        else:
            self.write("map[interface {}]interface {}{")
            for i, (k, e) in enumerate(sorted(v.raw.values(), key=_fmtsort_key)):
                if i:
                    self.write(", ")
                self.value(k, depth + 1)
                self.write(":")
                self.value(e, depth + 1)
            self.write("}")

    def text(self) -> str:
        return "".join(self.out)


_ELEMENT = object()  # stands for the key of a sequence element in _first_refused


def _first_refused(budget: Budget, doc: Value) -> tuple[Value, Value] | None:
    """The first key, in document order, that ``convertToJSONableObject`` refuses, with its value.

    Go visits each map's keys in random order, a key before its value; document order is one of
    those orders. A container met again (an alias) was searched already.
    """
    seen: set[int] = set()
    todo: list[Iterator[tuple[object, Value]]] = [iter([(_ELEMENT, doc)])]
    while todo:
        pair = next(todo[-1], None)
        if pair is None:
            todo.pop()
            continue
        k, v = pair
        if k is not _ELEMENT and _key_text(k) is None:
            return k, v
        if isinstance(v, (list, _Map)) and id(v) not in seen:
            seen.add(id(v))
            budget.step()
            if len(todo) > budget.limits.max_depth + 1:  # as deep as _json_numbers goes
                raise Fault("depth limit")
            todo.append(iter(v.raw.values()) if isinstance(v, _Map) else ((_ELEMENT, e) for e in v))
    return None


def _compose(budget: Budget, text: str) -> tuple[Value, str | None]:
    """The first YAML document as JSON-like values, composed without recursion, and the error Go
    reports for it, if any.

    yaml.v2 parses the whole document before it decodes it, and sigs.k8s.io/yaml converts the keys
    to JSON names after that: a syntax error anywhere wins over the first decoding error in
    document order (a sequence or mapping used as a key, decode.go's "invalid map key"; a scalar
    its explicit tag refuses; a merge of something that is no mapping), which wins over a key JSON
    cannot name (nil, uint64; Go meets them in random map order, this names the first).
    """
    max_depth = budget.limits.max_depth
    anchors: dict[str, Value] = {}
    stack: list[tuple[Any, str | None, list[Value]]] = []  # (container, anchor, pending key)
    root: list[Value] = []
    faults: list[tuple[bool, Value]] = []  # the first decoding error: (True, invalid key) or (False, text)
    refused = False  # a key convertToJSONableObject refuses was read (it may have been replaced)

    def add(value: Value) -> None:
        nonlocal refused
        if not stack:
            root.append(value)
            return
        container, _, pending = stack[-1]
        if isinstance(container, list):
            container.append(value)
        elif not pending:  # a key: Go meets its faults before anything in its value
            pending.append(value)
            if isinstance(value, (list, dict)):
                if not faults:
                    faults.append((True, value))
            elif value is not _MERGE and _key_text(value) is None:
                refused = True
        else:
            key = pending.pop()
            if key is _MERGE:
                merge(container, value)
            elif not isinstance(key, (list, dict)):
                _put(container, key, value)

    def merge(container: _Map, value: Value) -> None:
        """decoder.merge: a mapping's entries, or each mapping's of a sequence, the first winning."""
        sources = value if isinstance(value, list) else [value]
        if not all(isinstance(m, _Map) for m in sources):
            if not faults:
                faults.append((False, "map merge requires map or sequence of maps as the value"))
            return
        for m in reversed(sources):
            budget.step(1 + len(m.raw))  # aliases make merges cheap to write, not to do
            for key, v in list(m.raw.values()):
                _put(container, key, v)

    for ev in yaml.parse(text, Loader=_LOADER):
        budget.step()
        if isinstance(ev, yaml.ScalarEvent):
            implicit = ev.implicit[0]  # libyaml's plain_implicit: plain and untagged, or tagged "!"
            if ev.value == "<<" and (implicit or ev.tag == _MERGE_TAG) and _at_key(stack):
                if ev.anchor:
                    anchors[ev.anchor] = "<<"
                add(_MERGE)
                continue
            try:
                val = yamlv2.decode_scalar(ev.value, ev.tag, implicit)
            except yamlv2.DecodeError as exc:
                if not faults:
                    faults.append((False, exc.args[0]))
                val = ev.value
            if ev.anchor:
                anchors[ev.anchor] = val
            add(val)
        elif isinstance(ev, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            if len(stack) >= max_depth:
                raise Fault("depth limit")
            stack.append(([] if isinstance(ev, yaml.SequenceStartEvent) else _Map(), ev.anchor, []))
        elif isinstance(ev, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            container, anchor, _ = stack.pop()
            if anchor:
                anchors[anchor] = container
            add(container)
        elif isinstance(ev, yaml.AliasEvent):
            if ev.anchor not in anchors:
                raise ValueError
            add(anchors[ev.anchor])
        elif isinstance(ev, yaml.DocumentEndEvent):
            break
    doc = root[0] if root else None
    first = _first_refused(budget, doc) if refused and not faults else None
    if not faults and first is None:
        return doc, None
    msg = _GoSyntax(budget)
    if faults:
        is_key, what = faults[0]
        if is_key:
            msg.write("yaml: invalid map key: ")  # decode.go's failf("invalid map key: %#v", k)
            msg.value(what)
        else:
            msg.write(f"yaml: {what}")
    elif first is not None:
        key, value = first
        # fmt.Errorf("unsupported map key of type: %s, key: %+#v, value: %+#v", reflect.TypeOf(k), k, v)
        msg.write("unsupported map key of type: %s, key: " % ("%!s(<nil>)" if key is None else "uint64"))
        msg.value(key)
        msg.write(", value: ")
        msg.value(value)
    return doc, msg.text()


_MERGE = object()  # stands for a merge key ("<<") in a mapping being composed


def _at_key(stack: list[tuple[Any, str | None, list[Value]]]) -> bool:
    """The next node is a mapping's key."""
    return bool(stack) and isinstance(stack[-1][0], _Map) and not stack[-1][2]


def _put(container: _Map, key: Value, value: Value) -> None:
    """mapassign: an equal key replaces key and value; the JSON name follows the last one."""
    ident = _go_key(key, len(container.raw))
    container.raw.pop(ident, None)
    container.raw[ident] = (key, value)
    name = _key_text(key)
    if name is not None:
        container[name] = value


def _json_numbers(budget: Budget, v: Value, depth: int) -> Value:
    """sigs.k8s.io/yaml goes through JSON: every number comes back a float64.

    The first number JSON cannot hold is the one encoding/json's ``json.Marshal`` meets first, and it
    stops there: ``mapEncoder.encode`` visits a map's entries in the order of their keys' bytes
    (``slices.SortFunc`` with ``strings.Compare``), ``arrayEncoder`` elements in order, each value
    depth-first before the next key; ``floatEncoder`` refuses ±Inf and NaN (``UnsupportedValueError``).
    """
    budget.step()
    if depth > budget.limits.max_depth:
        raise Fault("depth limit")
    if isinstance(v, str):
        return valid_utf8(v)
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float)):
        f = float(v)
        if math.isinf(f) or math.isnan(f):
            raise _Unsupported(format_float(f, "g", -1))
        return f
    if isinstance(v, list):
        return [_json_numbers(budget, e, depth + 1) for e in v]
    done = {k: _json_numbers(budget, v[k], depth + 1) for k in sorted(v, key=to_bytes)}
    return {k: done[k] for k in v}


class _Unsupported(ValueError):
    """A float JSON cannot hold (Go: ``json: unsupported value: +Inf``)."""


def _not_a_map(doc: Value) -> str:
    kind = "array" if isinstance(doc, list) else "bool" if isinstance(doc, bool) else "string"
    if isinstance(doc, (int, float)) and not isinstance(doc, bool):
        kind = "number"
    return (
        "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal "
        f"{kind} into Go value of type map[string]interface {{}}"
    )


def decode(budget: Budget, s: str) -> Value:
    """What ESO's ``fromYaml`` returns for ``s``: the map, or ``{"Error": <Go's text>}``."""
    try:
        doc, refused = _compose(budget, s)
        if refused is not None:
            return {"Error": "error converting YAML to JSON: " + refused}
        if doc is None:
            return {}
        # yamlToJSONTarget marshals whatever the document holds before JSON is read into the map
        result = _json_numbers(budget, doc, 0)
        if not isinstance(doc, dict):
            return {"Error": _not_a_map(doc)}
    except _Unsupported as exc:
        return {"Error": f"error converting YAML to JSON: json: unsupported value: {exc.args[0]}"}
    except (yaml.YAMLError, ValueError, TypeError):
        return {"Error": "error converting YAML to JSON: yaml: invalid document"}
    return result
