"""External Secrets Operator's extra template functions (``pkg/template/v2``).

``toYaml``/``fromYaml`` follow sigs.k8s.io/yaml (JSON in between: numbers read back
as float64, keys sorted the way yaml.v2 sorts them, yaml.v2's quoting choices).
YAML is read from libyaml's *event* stream with our own bounded composer: PyYAML's
C composer recurses on nesting and crashes the process on deep input. ``filterPEM``
ports Go's ``encoding/pem`` scanner: ``bytes.Index`` based, no regular expression.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from typing import Any

import yaml

from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs import jsonenc
from secretsync.gotemplate.funcs.casing import is_digit, is_letter
from secretsync.gotemplate.funcs.spec import Table, register
from secretsync.gotemplate.gostrconv import format_float, from_bytes, parse_int, to_bytes
from secretsync.gotemplate.limits import Budget
from secretsync.gotemplate.values import GoStruct, GoTime, Value, size_of

ESO: Table = {}

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER: Any = getattr(yaml, "CDumper", yaml.Dumper)

# --- yaml.v2's implicit resolution --------------------------------------------------------------

_BOOL_TRUE = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}
_BOOL_FALSE = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}
_NULL = {"", "~", "null", "Null", "NULL"}
_SPECIAL_FLOAT = {
    ".nan",
    ".NaN",
    ".NAN",
    ".inf",
    ".Inf",
    ".INF",
    "+.inf",
    "+.Inf",
    "+.INF",
    "-.inf",
    "-.Inf",
    "-.INF",
}
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]| )[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]{1,9})?"
    r"(?:Z|[-+][0-9]{2}:[0-9]{2})?)?"
)


def resolve_plain(s: str) -> Value:
    """What yaml.v2 makes of an unquoted scalar: None, bool, int, float, or the string."""
    if s in _NULL:
        return None
    if s in _BOOL_TRUE:
        return True
    if s in _BOOL_FALSE:
        return False
    if s in _SPECIAL_FLOAT:
        low = s.lower()
        return math.nan if "nan" in low else (-math.inf if low.startswith("-") else math.inf)
    if s[0] == "<" and s == "<<":
        return s
    if s[0] == ".":
        return _float_or(s, s)
    if s[0] in "+-0123456789":
        if _TIMESTAMP.fullmatch(s):
            return s  # yaml.v2 keeps timestamps as strings for interface{} targets
        plain = s.replace("_", "")
        n, err = parse_int(plain, 0)
        if err is None:
            return n
        if _YAML_FLOAT.fullmatch(plain):
            return _float_or(plain, s)
        for prefix, sign in (("0b", 1), ("-0b", -1), ("+0b", 1)):
            if plain.startswith(prefix):
                n, err = parse_int(plain[len(prefix) :], 2)
                if err is None:
                    return sign * n
    return s


def _float_or(text: str, default: Value) -> Value:
    try:
        return float(text)
    except ValueError:
        return default


def _needs_quotes(s: str) -> bool:
    return (
        not isinstance(resolve_plain(s), str) or bool(_BASE60.fullmatch(s)) or bool(_TIMESTAMP.fullmatch(s))
    )


# --- toYaml ------------------------------------------------------------------------------------


def _v2_key_less(a: str, b: str) -> bool:
    """yaml.v2's ``keyList.Less``: non-letters first, digit runs compared as numbers."""
    for i in range(min(len(a), len(b))):
        ca, cb = a[i], b[i]
        if ca == cb:
            continue
        al, bl = is_letter(ca), is_letter(cb)
        if al and bl:
            return ca < cb
        if al or bl:
            return bl
        an = bn = 0
        if ca == "0" or cb == "0":
            j = i - 1
            while j >= 0 and is_digit(a[j]):
                if a[j] != "0":
                    an = bn = 1
                    break
                j -= 1
        ai = i
        while ai < len(a) and is_digit(a[ai]):
            an = an * 10 + int(a[ai]) if a[ai].isascii() else an
            ai += 1
        bi = i
        while bi < len(b) and is_digit(b[bi]):
            bn = bn * 10 + int(b[bi]) if b[bi].isascii() else bn
            bi += 1
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return ca < cb
    return len(a) < len(b)


class _Key:
    __slots__ = ("s",)

    def __init__(self, s: str) -> None:
        self.s = s

    def __lt__(self, other: _Key) -> bool:
        return _v2_key_less(self.s, other.s)


def _scalar(value: str, style: str | None) -> yaml.ScalarEvent:
    return yaml.ScalarEvent(None, None, (True, True), value, style=style)


def _string_event(s: str) -> yaml.ScalarEvent:
    if any(0xD800 <= ord(c) <= 0xDFFF for c in s):
        s = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in s)
    if "\n" in s:
        return _scalar(s, "|")
    return _scalar(s, '"' if _needs_quotes(s) else None)


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
        back = resolve_plain(text)
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
        out.append(yaml.MappingStartEvent(None, None, True, flow_style=not v))
        for k in sorted(v, key=_Key):
            out.append(_string_event(k))
            _events(budget, v[k], out, depth + 1)
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


def _key_text(k: Value) -> str:
    if isinstance(k, str):
        return k
    if k is None:
        return "null"
    if isinstance(k, bool):
        return "true" if k else "false"
    if isinstance(k, int):
        return str(k)
    if isinstance(k, float):
        return format_float(k, "g", -1)
    raise ValueError


def _compose(budget: Budget, text: str) -> Value:
    """The first YAML document as JSON-like values, composed without recursion."""
    max_depth = budget.limits.max_depth
    anchors: dict[str, Value] = {}
    stack: list[tuple[Any, str | None, list[Value]]] = []  # (container, anchor, pending key)
    root: list[Value] = []
    done = False

    def add(value: Value) -> None:
        if not stack:
            root.append(value)
            return
        container, _, pending = stack[-1]
        if isinstance(container, list):
            container.append(value)
        elif pending:
            container[_key_text(pending.pop())] = value
        else:
            pending.append(value)

    for ev in yaml.parse(text, Loader=_LOADER):
        budget.step()
        if isinstance(ev, yaml.ScalarEvent):
            if ev.tag in ("tag:yaml.org,2002:str", "!") or ev.style:
                val: Value = ev.value
            else:
                val = resolve_plain(ev.value)
            if ev.anchor:
                anchors[ev.anchor] = val
            add(val)
        elif isinstance(ev, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            if len(stack) >= max_depth:
                raise Fault("depth limit")
            stack.append(([] if isinstance(ev, yaml.SequenceStartEvent) else {}, ev.anchor, []))
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
            done = True
            break
    del done
    return root[0] if root else None


def _json_numbers(budget: Budget, v: Value, depth: int) -> Value:
    """sigs.k8s.io/yaml goes through JSON: every number comes back a float64."""
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
    return {k: _json_numbers(budget, e, depth + 1) for k, e in v.items()}


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
    try:
        doc = _compose(budget, s)
        if doc is None:
            return {}
        if not isinstance(doc, dict):
            return {"Error": _not_a_map(doc)}
        result = _json_numbers(budget, doc, 0)
    except _Unsupported as exc:
        return {"Error": f"error converting YAML to JSON: json: unsupported value: {exc.args[0]}"}
    except (yaml.YAMLError, ValueError, TypeError):
        return {"Error": "error converting YAML to JSON: yaml: invalid document"}
    budget.account(size_of(result, 0, budget.limits.max_depth))
    return result


# --- filterPEM ---------------------------------------------------------------------------------

_PEM_START = b"\n-----BEGIN "
_PEM_END = b"\n-----END "
_PEM_EOL = b"-----"


def _get_line(data: bytes, pos: int) -> tuple[bytes, int, int]:
    """Go's pem ``getLine`` from offset ``pos``: (line, next offset, bytes consumed)."""
    i = data.find(b"\n", pos)
    if i < 0:
        i = j = len(data)
    else:
        j = i + 1
        if i > pos and data[i - 1] == 13:
            i -= 1
    return data[pos:i].rstrip(b" \t"), j, j - pos


Block = tuple[bytes, dict[bytes, bytes], bytes]


def pem_decode(data: bytes, start: int) -> tuple[Block | None, int]:
    """Go's ``pem.Decode`` on ``data[start:]``: the next block and where the rest starts.

    Offsets instead of slices keep it linear: each step is a ``find`` from where the
    previous one stopped.
    """
    r = start
    eti = 0
    while True:
        if eti < 0 or eti > len(data) - r:
            return None, start
        r += eti
        ei = data.find(_PEM_END, r)
        if ei < 0:
            return None, start
        ei -= r
        eti = ei + len(_PEM_END)
        bi = data.rfind(_PEM_START[1:], r, r + ei)
        if bi < 0:
            continue
        bi -= r
        if bi > 0 and data[r + bi - 1] != 10:
            continue
        skip = bi + len(_PEM_START) - 1
        r += skip
        ei -= skip
        eti -= skip
        type_line, r, consumed = _get_line(data, r)
        ei -= consumed
        eti -= consumed
        if not type_line.endswith(_PEM_EOL):
            continue
        type_line = type_line[: -len(_PEM_EOL)]
        headers: dict[bytes, bytes] = {}
        while True:
            if r >= len(data):
                return None, start
            line, nxt, consumed = _get_line(data, r)
            key, sep, val = line.partition(b":")
            if not sep:
                break
            headers[key.strip()] = val.strip()
            r = nxt
            ei -= consumed
            eti -= consumed
        if headers and ei < 0:
            continue
        et = r + eti
        trailer_len = len(type_line) + len(_PEM_EOL)
        if len(data) - et < trailer_len:
            continue
        trailer = data[et : et + trailer_len]
        if not trailer.startswith(type_line) or not trailer.endswith(_PEM_EOL):
            continue
        if _get_line(data, et + trailer_len)[0]:
            continue
        body = b""
        if ei > 0:
            raw = data[r : r + ei]
            for ch in (b" ", b"\t", b"\r", b"\n"):
                raw = raw.replace(ch, b"")
            try:
                body = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                continue
        _, nxt, _ = _get_line(data, r + ei + len(_PEM_END) - 1)
        return (type_line, headers, body), nxt


def pem_encode(block: Block) -> bytes:
    """Go's ``pem.Encode``: Proc-Type first, other headers sorted, 64-column base64."""
    typ, headers, body = block
    if any(b":" in k for k in headers):
        raise ValueError
    out = [b"-----BEGIN ", typ, b"-----\n"]
    if headers:
        keys = sorted(k for k in headers if k != b"Proc-Type")
        if b"Proc-Type" in headers:
            keys.insert(0, b"Proc-Type")
        out += [k + b": " + headers[k] + b"\n" for k in keys]
        out.append(b"\n")
    b64 = base64.b64encode(body)
    out += [b64[i : i + 64] + b"\n" for i in range(0, len(b64), 64)]
    out += [b"-----END ", typ, b"-----\n"]
    return b"".join(out)


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
        block, pos = pem_decode(data, pos)
        if block is None:
            break
        if from_bytes(block[0]).casefold() != want:
            continue
        try:
            encoded = pem_encode(block)
        except ValueError:
            raise Fault("function failed") from None
        size += len(encoded)
        budget.check_size(size)
        blocks.append(encoded)
    if not blocks and pos < len(data):
        raise Fault("function failed")  # Go: "error filtering pem: found junk"
    return from_bytes(b"".join(blocks))
