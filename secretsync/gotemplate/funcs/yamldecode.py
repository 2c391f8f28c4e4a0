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

    __slots__ = ("raw", "repaired")

    def __init__(self) -> None:
        super().__init__()
        self.raw: dict[object, tuple[Value, Value]] = {}
        # JSON name -> the raw bytes of the key holding it, for names a key with invalid UTF-8 took
        self.repaired: dict[str, bytes] = {}


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


# yaml.v2's decoder.unmarshal refuses a document once more than 100 of over 1,000 decoded nodes came
# from alias expansion and their share passes allowedAliasRatio: 99 % up to 400,000 nodes, then
# falling linearly to 10 % at 4,000,000 (a billion-laughs guard).
_ALIAS_LOW, _ALIAS_HIGH = 400_000, 4_000_000
# what one merged entry holds here (two dict slots, the identity and the pair), counted against the
# render's allocation cap while the document is composed
_MERGED_ENTRY_BYTES = 256


def _too_many_aliases(decoded: int, aliased: int) -> bool:
    if aliased <= 100 or decoded <= 1000:
        return False
    if decoded <= _ALIAS_LOW:
        allowed = 0.99
    elif decoded >= _ALIAS_HIGH:
        allowed = 0.10
    else:
        allowed = 0.99 - 0.89 * ((decoded - _ALIAS_LOW) / (_ALIAS_HIGH - _ALIAS_LOW))
    return aliased / decoded > allowed


def _compose(budget: Budget, text: str) -> tuple[Value, str | None]:
    """The first YAML document as JSON-like values, composed without recursion, and the error Go
    reports for it, if any.

    yaml.v2 parses the whole document before it decodes it, and sigs.k8s.io/yaml converts the keys
    to JSON names after that: a syntax error anywhere wins over the first decoding error in
    document order (a sequence or mapping used as a key, decode.go's "invalid map key"; a scalar
    its explicit tag refuses; a merge of something that is no mapping; an alias inside the node it
    names; excessive aliasing), which wins over a key JSON cannot name (nil, uint64; Go meets them
    in random map order, this names the first). After the first decoding error nothing more is
    built: only the rest of the syntax is checked.

    yaml.v2 decodes an alias by decoding the node it names again; here the value is shared and each
    node's decode count (``sizes``) stands for the work, as Go's alias-ratio guard counts it.
    """
    max_depth = budget.limits.max_depth
    anchors: dict[str, Value] = {}
    sizes: dict[int, int] = {}  # id of a finished container -> nodes Go decodes for it
    open_ids: set[int] = set()  # containers being composed
    # (container, pending key, [nodes decoded for it so far])
    stack: list[tuple[Any, list[Value], list[int]]] = []
    root: list[Value] = []
    faults: list[tuple[bool, Value]] = []  # the first decoding error: (True, invalid key) or (False, text)
    counts = [1, 0]  # nodes decoded (the document node first), of them by alias expansion
    refused = False  # a key convertToJSONableObject refuses was read (it may have been replaced)

    def fault(text: str) -> None:
        if not faults:
            faults.append((False, text))

    def add(value: Value, size: int, alias: bool = False) -> None:
        nonlocal refused
        if faults:
            return
        if not stack:
            root.append(value)
            return
        container, pending, decoded = stack[-1]
        if isinstance(container, list):
            container.append(value)
            decoded[0] += size
        elif not pending:  # a key: Go meets its faults before anything in its value
            pending.append(value)
            if value is _MERGE:
                return  # isMerge: the key itself is not decoded
            decoded[0] += size
            if isinstance(value, (list, dict)):
                faults.append((True, value))
            elif _key_text(value) is None:
                refused = True
        else:
            key = pending.pop()
            if key is _MERGE:
                # decoder.merge decodes a sequence's elements, not the sequence node
                decoded[0] += size - 1 if isinstance(value, list) and not alias else size
                merge(container, value, alias)
            else:
                decoded[0] += size
                if not isinstance(key, (list, dict)):
                    _put(container, key, value)

    def merge(container: _Map, value: Value, alias: bool) -> None:
        """decoder.merge: a mapping's entries, or each mapping's of a sequence, the first winning."""
        if isinstance(value, _Map):
            sources = [value]
        elif isinstance(value, list) and not alias and all(isinstance(m, _Map) for m in value):
            sources = value
        else:  # a scalar, an alias of a sequence, a sequence holding anything but mappings
            fault("map merge requires map or sequence of maps as the value")
            return
        for m in reversed(sources):
            budget.step(1 + len(m.raw))  # aliases make merges cheap to write, not to do
            budget.hold(_MERGED_ENTRY_BYTES * len(m.raw))
            for key, v in list(m.raw.values()):
                _put(container, key, v)

    for ev in yaml.parse(text, Loader=_LOADER):
        budget.step()
        if isinstance(ev, yaml.ScalarEvent):
            counts[0] += 1
            implicit = ev.implicit[0]  # libyaml's plain_implicit: plain and untagged, or tagged "!"
            at_key = _at_key(stack)
            if at_key and ev.value == "<<" and (implicit or ev.tag == _MERGE_TAG):
                counts[0] -= 1  # isMerge: not decoded
                val: Value = _MERGE
            elif _at_merge_value(stack):
                val = ev.value  # decoder.merge refuses a scalar before it would decode it
            else:
                try:
                    val = yamlv2.decode_scalar(ev.value, ev.tag, implicit)
                except yamlv2.DecodeError as exc:
                    fault(exc.args[0])
                    val = ev.value
            if ev.anchor:
                anchors[ev.anchor] = "<<" if val is _MERGE else val
            add(val, 1)
        elif isinstance(ev, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            # decoder.merge decodes a sequence's elements, not the sequence node
            counts[0] += 0 if isinstance(ev, yaml.SequenceStartEvent) and _at_merge_value(stack) else 1
            if len(stack) >= max_depth:
                raise Fault("depth limit")
            container: Any = [] if isinstance(ev, yaml.SequenceStartEvent) else _Map()
            if ev.anchor:
                anchors[ev.anchor] = container  # the parser's anchor: from the node's start
            open_ids.add(id(container))
            stack.append((container, [], [1]))
        elif isinstance(ev, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            container, _, decoded = stack.pop()
            open_ids.discard(id(container))
            sizes[id(container)] = decoded[0]
            add(container, decoded[0])
        elif isinstance(ev, yaml.AliasEvent):
            if ev.anchor not in anchors:
                raise ValueError  # yaml.v2's parser: unknown anchor referenced
            target = anchors[ev.anchor]
            merged = _at_merge_value(stack) or (
                len(stack) > 1 and isinstance(stack[-1][0], list) and _at_merge_value(stack[:-1])
            )
            if merged and not isinstance(target, _Map):
                # decoder.merge refuses an alias of anything but a mapping before it expands it
                fault("map merge requires map or sequence of maps as the value")
                continue
            if id(target) in open_ids:
                fault(f"anchor '{ev.anchor}' value contains itself")
                continue
            size = sizes.get(id(target), 1) if isinstance(target, (list, dict)) else 1
            counts[0] += 1 + size
            counts[1] += size
            if _too_many_aliases(counts[0], counts[1]):
                fault("document contains excessive aliasing")
            add(target, 1 + size, alias=True)
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


def _at_key(stack: list[tuple[Any, list[Value], list[int]]]) -> bool:
    """The next node is a mapping's key."""
    return bool(stack) and isinstance(stack[-1][0], _Map) and not stack[-1][1]


def _at_merge_value(stack: list[tuple[Any, list[Value], list[int]]]) -> bool:
    """The next node is the value of a merge key."""
    return bool(stack) and stack[-1][1] == [_MERGE]


def _put(container: _Map, key: Value, value: Value) -> None:
    """mapassign: an equal key replaces key and value. Keys that JSON names alike (invalid UTF-8 read
    as U+FFFD) all reach json.Marshal, which writes them in the order of their bytes; reading
    that back, the last one wins: the key with the greatest bytes."""
    ident = _go_key(key, len(container.raw))
    container.raw.pop(ident, None)
    container.raw[ident] = (key, value)
    name = _key_text(key)
    if name is None:
        return
    if isinstance(key, str) and (name != key or name in container.repaired):
        raw = to_bytes(key)
        held = container.repaired.get(name, to_bytes(name) if name in container else b"")
        if raw < held:
            return
        container.repaired[name] = raw
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
