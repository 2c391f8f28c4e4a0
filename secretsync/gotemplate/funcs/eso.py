"""External Secrets Operator's extra template functions (``pkg/template/v2``).

``toYaml``/``fromYaml`` follow sigs.k8s.io/yaml (JSON in between: numbers read back
as float64, keys sorted the way yaml.v2 sorts them, yaml.v2's quoting choices).
YAML is read from libyaml's *event* stream with our own bounded composer: PyYAML's
C composer recurses on nesting and crashes the process on deep input. ``filterPEM``
walks the blocks of Go's ``encoding/pem`` (:mod:`secretsync.gotemplate.funcs.gopem`).

yaml.v2's scalar resolution, quoting and key order are in :mod:`secretsync.gotemplate.funcs.yamlv2`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import yaml

from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs import gopem, jsonenc, yamlv2
from secretsync.gotemplate.funcs.spec import Table, register
from secretsync.gotemplate.gostrconv import INT_MAX, format_float, from_bytes, quote, to_bytes
from secretsync.gotemplate.limits import Budget
from secretsync.gotemplate.values import GoStruct, GoTime, Value, size_of

ESO: Table = {}

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER: Any = getattr(yaml, "CDumper", yaml.Dumper)

# --- toYaml ------------------------------------------------------------------------------------


def _scalar(value: str, style: str | None) -> yaml.ScalarEvent:
    return yaml.ScalarEvent(None, None, (True, True), value, style=style)


# characters yaml.v2's reader refuses ("control characters are not allowed") that encoding/json
# writes raw: Go's toYaml fails on them, and ESO's returns ""
_REFUSED_BY_READER = re.compile("[\x7f-\x84\x86-\x9f\ufffe\uffff]")
_BLANKS = re.compile("[ \x85]+")


def _read_back(s: str) -> str:
    """``s`` as yaml.v2 reads it back from encoding/json's double-quoted string (sigs.k8s.io/yaml's
    JSONToYAML), raising Unsupported where yaml.v2 fails.

    encoding/json escapes every control character, line break and tab but leaves U+0085 (NEL)
    raw, which yaml.v2's scanner reads as a line break and folds like one (scan_flow_scalar):
    spaces before it dropped, spaces after it skipped, one break a space, n breaks n-1 newlines.
    A NEL directly before "---" or "..." and a blank is a document marker: Go fails.
    """
    s = jsonenc.valid_utf8(s)
    if s.isascii():
        if "\x7f" in s:
            raise jsonenc.Unsupported
        return s
    if _REFUSED_BY_READER.search(s):
        raise jsonenc.Unsupported
    if "\x85" not in s:
        return s
    out: list[str] = []
    pos = 0
    for run in _BLANKS.finditer(s):
        out.append(s[pos : run.start()])
        blanks = run.group()
        breaks = blanks.count("\x85")
        if not breaks:
            out.append(blanks)
        else:
            out.append(" " if breaks == 1 else "\n" * (breaks - 1))
            end = run.end()
            if (
                blanks[-1] == "\x85"
                and s[end : end + 3] in ("---", "...")
                and s[end + 3 : end + 4] in (" ", "\x85")
            ):
                raise jsonenc.Unsupported
        pos = run.end()
    out.append(s[pos:])
    return "".join(out)


def _string_event(s: str) -> yaml.ScalarEvent:
    s = _read_back(s)
    if "\n" in s:
        return _scalar(s, "|")
    return _scalar(s, '"' if yamlv2.needs_quotes(s) else None)


# yaml.v2 forgets a possible simple key once the scanner is 1,024 characters past its start (the
# key's opening quote): a key whose JSON text (escapes included) is longer is lost and Go fails
_MAX_KEY_TEXT = 1022


def _json_object(m: dict[str, Value]) -> dict[str, Value]:
    """The map as yaml.v2 reads it back from encoding/json's object.

    JSON writes the keys in byte order, invalid bytes as U+FFFD; keys that become equal are
    repeated in the object and yaml.v2 keeps the last one (decode.go's ``SetMapIndex``). A key
    yaml.v2 cannot read as a key fails Go's toYaml (Unsupported): one whose JSON text is over
    1,022 characters, or one holding a NEL (a line break to yaml.v2: the key spans two lines).
    """
    for k in m:
        if len(k) > _MAX_KEY_TEXT // 6 and len(jsonenc.quote_json(k)) - 2 > _MAX_KEY_TEXT:
            raise jsonenc.Unsupported
    if all(k.isascii() for k in m):
        return m
    out: dict[str, Value] = {}
    for k in sorted(m, key=to_bytes):
        if "\x85" in k:
            raise jsonenc.Unsupported
        out[_read_back(k)] = m[k]
    return out


def _events(budget: Budget, v: Value, out: list[Any], depth: int) -> None:
    budget.step()
    if depth > budget.limits.max_depth:
        raise Fault("depth limit")
    if isinstance(v, GoStruct):  # through JSON, as sigs.k8s.io/yaml does
        v = v.stringer if v.stringer is not None else {f: v[f] for f in v.fields}
    if v is None:
        out.append(_scalar("null", None))
    elif isinstance(v, bool):
        out.append(_scalar("true" if v else "false", None))
    elif isinstance(v, int):
        out.append(_scalar(str(v), None))
    elif isinstance(v, float):
        text = jsonenc.float_json(v)
        back = yamlv2.resolve_plain(text)
        out.append(_scalar(str(back) if isinstance(back, int) else format_float(float(text), "g", -1), None))
    elif isinstance(v, str):
        out.append(_string_event(v))
    elif isinstance(v, GoTime):
        out.append(_string_event(jsonenc.rfc3339_nano(v)))
    elif isinstance(v, list):
        out.append(yaml.SequenceStartEvent(None, None, True, flow_style=not v))
        for e in v:
            _events(budget, e, out, depth + 1)
        out.append(yaml.SequenceEndEvent())
    elif isinstance(v, dict):
        m = _json_object(v)
        out.append(yaml.MappingStartEvent(None, None, True, flow_style=not m))
        for k in sorted(m, key=yamlv2.Key):
            out.append(_string_event(k))
            _events(budget, m[k], out, depth + 1)
        out.append(yaml.MappingEndEvent())
    else:
        raise jsonenc.Unsupported


@register(ESO, "toYaml", "any")
def to_yaml(budget: Budget, v: Value) -> str:
    events: list[Any] = [yaml.StreamStartEvent(), yaml.DocumentStartEvent(explicit=False)]
    try:
        _events(budget, v, events, 0)
    except jsonenc.Unsupported:
        return ""
    events += [yaml.DocumentEndEvent(explicit=False), yaml.StreamEndEvent()]
    budget.step(len(events))
    text = str(yaml.emit(events, Dumper=_DUMPER, allow_unicode=True, width=80, indent=2))
    if text.endswith("\n...\n"):
        text = text[:-4]
    budget.check_size(len(text))
    return text.removesuffix("\n")


# --- fromYaml ----------------------------------------------------------------------------------


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
        return k
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
    reports for its keys, if any.

    yaml.v2 parses the whole document before it decodes it, and sigs.k8s.io/yaml converts the keys
    to JSON names after that: a syntax error anywhere wins over a sequence or mapping used as a key
    (decode.go's "invalid map key", the first in document order), which wins over a key JSON
    cannot name (nil, uint64; Go meets them in random map order, this names the first).
    """
    max_depth = budget.limits.max_depth
    anchors: dict[str, Value] = {}
    stack: list[tuple[Any, str | None, list[Value]]] = []  # (container, anchor, pending key)
    root: list[Value] = []
    invalid: list[Value] = []  # the first key that is a sequence or a mapping
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
                if not invalid:
                    invalid.append(value)
            elif _key_text(value) is None:
                refused = True
        else:
            key = pending.pop()
            if isinstance(key, (list, dict)):
                return
            ident = _go_key(key, len(container.raw))
            container.raw.pop(ident, None)  # an equal key replaces key and value (mapassign)
            container.raw[ident] = (key, value)
            name = _key_text(key)
            if name is not None:
                container[name] = value

    for ev in yaml.parse(text, Loader=_LOADER):
        budget.step()
        if isinstance(ev, yaml.ScalarEvent):
            if ev.tag in ("tag:yaml.org,2002:str", "!") or ev.style:
                val: Value = ev.value
            else:
                val = yamlv2.resolve_plain(ev.value)
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
    first = _first_refused(budget, doc) if refused and not invalid else None
    if not invalid and first is None:
        return doc, None
    msg = _GoSyntax(budget)
    if invalid:
        msg.write("yaml: invalid map key: ")  # decode.go's failf("invalid map key: %#v", k)
        msg.value(invalid[0])
    elif first is not None:
        key, value = first
        # fmt.Errorf("unsupported map key of type: %s, key: %+#v, value: %+#v", reflect.TypeOf(k), k, v)
        msg.write("unsupported map key of type: %s, key: " % ("%!s(<nil>)" if key is None else "uint64"))
        msg.value(key)
        msg.write(", value: ")
        msg.value(value)
    return doc, msg.text()


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
    if isinstance(v, bool) or v is None or isinstance(v, str):
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


@register(ESO, "fromYaml", "str")
def from_yaml(budget: Budget, s: str) -> Value:
    budget.bytes_step(len(s) * 4)
    result = _from_yaml(budget, s)
    # the {"Error": ...} map too: its text may quote a key or value of the document
    budget.account(size_of(result, 0, budget.limits.max_depth))
    return result


def _from_yaml(budget: Budget, s: str) -> Value:
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


# --- filterPEM ---------------------------------------------------------------------------------


@register(ESO, "filterPEM", "str", "str")
def filter_pem(budget: Budget, pem_type: str, s: str) -> str:
    data = to_bytes(s)
    budget.bytes_step(len(data) * 2)
    want = pem_type.casefold()
    blocks: list[bytes] = []
    pos = 0
    size = 0
    while True:
        budget.step()
        block, pos = gopem.decode(data, pos)
        if block is None:
            break
        if from_bytes(block[0]).casefold() != want:
            continue
        try:
            encoded = gopem.encode(block)
        except ValueError:
            raise Fault("function failed") from None
        size += len(encoded)
        budget.check_size(size)
        blocks.append(encoded)
    if not blocks and pos < len(data):
        raise Fault("function failed")  # Go: "error filtering pem: found junk"
    return from_bytes(b"".join(blocks))
