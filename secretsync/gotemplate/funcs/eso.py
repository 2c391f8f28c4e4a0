"""External Secrets Operator's extra template functions (``pkg/template/v2``).

``toYaml``/``fromYaml`` follow sigs.k8s.io/yaml (JSON in between: numbers read back
as float64, keys sorted the way yaml.v2 sorts them, yaml.v2's quoting choices); ``fromYaml``'s
decoder is :mod:`secretsync.gotemplate.funcs.yamldecode`. ``filterPEM`` walks the blocks of
Go's ``encoding/pem`` (:mod:`secretsync.gotemplate.funcs.gopem`).

yaml.v2's scalar resolution, quoting and key order are in :mod:`secretsync.gotemplate.funcs.yamlv2`.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import yaml

from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs import gopem, jsonenc, yamldecode, yamlv2
from secretsync.gotemplate.funcs.spec import Table, register
from secretsync.gotemplate.gostrconv import byte_len, format_float, from_bytes, to_bytes
from secretsync.gotemplate.limits import Budget
from secretsync.gotemplate.values import GoStruct, GoTime, Value, size_of

ESO: Table = {}

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


# yaml.v2's double-quoted writer: the escapes it has a letter for, others as \xXX, \uXXXX, \UXXXXXXXX
_LETTER_ESCAPES = {
    "\0": "0", "\a": "a", "\b": "b", "\t": "t", "\n": "n", "\v": "v", "\f": "f", "\r": "r",
    "\x1b": "e", '"': '"', "\\": "\\", "\x85": "N", "\xa0": "_", "\u2028": "L", "\u2029": "P",
}  # fmt: skip


def _escape_every_char(s: str) -> str:
    """yaml.v2's ``is_bom`` ignores its index: once a string starts with a BOM, the double-quoted
    writer escapes every character of it (``"\\uFEFF\\x61"`` for BOM + "a")."""
    out = ['"']
    for c in s:
        letter = _LETTER_ESCAPES.get(c)
        o = ord(c)
        if letter:
            out.append("\\" + letter)
        elif o <= 0xFF:
            out.append(f"\\x{o:02X}")
        else:
            out.append(f"\\u{o:04X}" if o <= 0xFFFF else f"\\U{o:08X}")
    out.append('"')
    return "".join(out)


_BREAKS = re.compile("[\r\n\x85\u2028\u2029]")


def _swap_bom_strings(budget: Budget, events: list[Any]) -> tuple[re.Pattern[str], list[str]]:
    """Give each string that starts with a BOM a double-quoted ASCII stand-in numbered in order; returns
    the pattern of the stand-ins as the emitter writes them and Go's text for each number. A key's
    stand-in is a simple key exactly when the string is: on the same side of the 128-byte limit,
    multi-line (an escaped "\\n") when the string is."""
    go_texts: list[str] = []
    nonce = secrets.token_hex(8)
    for i, ev in enumerate(events):
        if isinstance(ev, yaml.ScalarEvent) and ev.value.startswith("\ufeff"):
            stand_in = f"bom{nonce}n{len(go_texts)}"
            if byte_len(ev.value) > 128:
                stand_in = stand_in.ljust(129, "x")
            multiline = bool(_BREAKS.search(ev.value))
            events[i] = _scalar(stand_in + "\n" if multiline else stand_in, '"')
            budget.check_size(2 * len(ev.value))  # Go's text: at least two characters for each
            budget.bytes_step(len(ev.value))
            go_texts.append(_escape_every_char(ev.value))
    return re.compile(f'"bom{nonce}n(\\d+)x*(?:\\\\n)?"'), go_texts


_LINE_SEPARATORS = re.compile("[\u2028\u2029]")
# libyaml 0.2.5 ends a single-quoted scalar whose last characters are line breaks with an indent
# before the closing quote; yaml.v2 (older libyaml) does not. A raw U+2028/U+2029 is only ever
# written in a single-quoted or literal scalar (plain refuses breaks, double-quoted escapes them),
# and inside a single-quoted one a quote after it is doubled: so "separator, spaces, a lone quote"
# is such an ending, provided no literal scalar holds a separator and no string has spaces after
# its last one (those spaces would be its own).
_TRAILING_INDENT = re.compile("([\u2028\u2029]) +'(?!')")


def _safe_to_trim(events: list[Any]) -> bool:
    """No literal scalar (a string with "\\n") holds a separator, no string ends in one and spaces."""
    for ev in events:
        if not isinstance(ev, yaml.ScalarEvent) or not _LINE_SEPARATORS.search(ev.value):
            continue
        bare = ev.value.rstrip(" ")
        if "\n" in ev.value or (len(bare) < len(ev.value) and bare[-1:] in ("\u2028", "\u2029")):
            return False
    return True


@register(ESO, "toYaml", "any")
def to_yaml(budget: Budget, v: Value) -> str:
    events: list[Any] = [yaml.StreamStartEvent(), yaml.DocumentStartEvent(explicit=False)]
    try:
        _events(budget, v, events, 0)
    except jsonenc.Unsupported:
        return ""
    events += [yaml.DocumentEndEvent(explicit=False), yaml.StreamEndEvent()]
    budget.step(len(events))
    stand_ins, go_texts = _swap_bom_strings(budget, events)
    text = str(yaml.emit(events, Dumper=_DUMPER, allow_unicode=True, width=80, indent=2))
    # libyaml closes an open-ended document (a kept final break) with "...", yaml.v2 does not; after a
    # final U+2028/U+2029 (a line break to libyaml) the marker follows it directly
    if text.endswith("\n...\n") or (text.endswith("...\n") and text[-5:-4] in ("\u2028", "\u2029")):
        text = text[:-4]
    if _LINE_SEPARATORS.search(text) and _safe_to_trim(events):
        text = _TRAILING_INDENT.sub(r"\1'", text)
    if go_texts:
        budget.check_size(len(text) + sum(map(len, go_texts)))
        text = stand_ins.sub(lambda m: go_texts[int(m.group(1))], text)
    budget.check_size(len(text))
    return text.removesuffix("\n")


# --- fromYaml ----------------------------------------------------------------------------------


@register(ESO, "fromYaml", "str")
def from_yaml(budget: Budget, s: str) -> Value:
    budget.bytes_step(len(s) * 4)
    result = yamldecode.decode(budget, s)
    # the {"Error": ...} map too: its text may quote a key or value of the document
    budget.account(size_of(result, 0, budget.limits.max_depth))
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
