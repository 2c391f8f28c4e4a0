"""ESO's ``property`` and ``dataFrom.extract`` semantics, shared by every provider whose secrets are JSON.

External Secrets Operator resolves ``remoteRef.property`` against a secret's JSON payload in
two steps (``providers/v1/vault/client_get.go``, ``aws/secretsmanager.go escapeDotsIfRequired``,
``gcp/secretmanager/client.go getDataByProperty``): an exact top-level key wins, so a key such
as ``tls.crt`` works unescaped; otherwise the property is a gjson path (``a.b.c``,
``list.1.name``, ``\\.`` for a literal dot). Users migrate manifests verbatim, so we resolve
exactly the same way. How the selected value becomes bytes depends on what the provider works on.

**Stored JSON text** (AWS Secrets Manager and Parameter Store, GCP, the fake provider): ESO runs
gjson on the text as stored and takes ``Result.String()``; ``GetSecretMap`` unmarshals the text
into ``map[string]json.RawMessage`` and unquotes the members that are strings. So
:func:`raw_select` and :func:`raw_extract` work on the text itself, never re-encoding it:

==============  ==============================  ===========================================
value           ``property`` (gjson String)     ``dataFrom.extract`` member (RawMessage)
==============  ==============================  ===========================================
string          its UTF-8 text, unquoted        its UTF-8 text, unquoted
number          integer text as stored; else    its text as stored (``1.50``, ``1e3``)
                Go's FormatFloat (``1.5``)
bool            ``true`` / ``false``            ``true`` / ``false``
null            empty                           empty
object, list    its text as stored, spaces      its text as stored, spaces and newlines
                and newlines kept               kept
==============  ==============================  ===========================================

(The first of duplicate keys wins a gjson lookup, the last an extract, as in Go.)

**Decoded data** (Vault): ESO gets the secret as Go values (``vault/api`` decodes with
``UseNumber``) and encodes them with ``json.Marshal`` (:func:`go_marshal`: keys sorted, ``<``,
``>``, ``&`` escaped, numbers as Vault sent them); a property's bytes are ``esutils.GetByteValue`` of an exact
key's value (:func:`go_value`) or gjson's ``String()`` of a path over that JSON
(:func:`go_value` with ``numbers_as_sent=False``); ``GetSecretMap`` unmarshals those bytes into
``map[string]any``, so numbers become float64 (:func:`go_extract`).

Supported gjson subset: dotted keys, numeric list indexes, ``\\`` escapes, and ``#`` (a list's
length, or ``list.#.field`` collecting ``field`` from each element). Wildcards, queries and
modifiers (``*``, ``?``, ``#(...)``, ``@reverse``, ``|``) are read as literal key text.

Everything here is pure and never puts a value into an error message: errors name the
secret (``where``) and the property only. Parsing is bounded like :func:`loads` (too deep a
nesting is "not JSON", never a crash); the size of a value is bounded by the provider's read.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from secretsync import limits, regex
from secretsync.errors import PropertyNotFound, SpecError

_MISSING = object()


def select(payload: Any, prop: str | None, *, where: str = "secret") -> Any:
    """The value ``prop`` names in ``payload``: the whole payload when ``prop`` is empty.

    ``payload`` is decoded data (Vault), or a :class:`StoredJson` from :func:`document`, searched as
    gjson searches the stored text and answered with the :class:`StoredJson` of what it finds.
    Raises :class:`PropertyNotFound` naming ``where`` and ``prop`` when nothing matches (never
    SecretNotFound: the secret exists, so deletionPolicy must not act).
    """
    if not prop:
        return payload
    if isinstance(payload, StoredJson):
        return _select_stored(payload, prop, where)
    if isinstance(payload, Mapping) and prop in payload:
        return payload[prop]
    found = _walk(payload, split_path(prop))
    if found is _MISSING:
        raise PropertyNotFound(f"{where} has no property {prop!r}")
    return found


def split_path(prop: str) -> list[str]:
    r"""Split a gjson path on unescaped dots: ``a\.b.c`` -> ``["a.b", "c"]``.

    A backslash makes the next character literal (as in gjson); a trailing backslash is kept.
    """
    segments: list[str] = []
    current: list[str] = []
    chars = iter(prop)
    for char in chars:
        if char == "\\":
            current.append(next(chars, "\\"))
        elif char == ".":
            segments.append("".join(current))
            current = []
        else:
            current.append(char)
    segments.append("".join(current))
    return segments


def escape_segment(key: str) -> str:
    r"""Escape one key for use inside a gjson path (``a.b`` -> ``a\.b``)."""
    return key.replace("\\", "\\\\").replace(".", "\\.")


def _walk(node: Any, segments: list[str]) -> Any:
    """Follow ``segments`` from ``node``; :data:`_MISSING` if any step does not exist."""
    for index, segment in enumerate(segments):
        if isinstance(node, list) and segment == "#":
            rest = segments[index + 1 :]
            if not rest:
                return len(node)
            # gjson's ``list.#.field``: the field of every element that has it.
            return [found for item in node if (found := _walk(item, rest)) is not _MISSING]
        node = _step(node, segment)
        if node is _MISSING:
            return _MISSING
    return node


def _step(node: Any, segment: str) -> Any:
    if isinstance(node, Mapping):
        return node.get(segment, _MISSING)
    if isinstance(node, list) and segment.isdigit() and segment.isascii():
        position = int(segment)
        return node[position] if position < len(node) else _MISSING
    return _MISSING


def to_bytes(value: Any) -> bytes:
    """A selected value as the bytes ESO would put in the Secret: gjson's ``String()`` of a
    :class:`StoredJson`, else ``esutils.GetByteValue`` of a decoded value (objects and lists as
    compact JSON in their order; :func:`go_value` sorts and escapes them as Go does)."""
    if isinstance(value, StoredJson):
        return _gjson_string(value.raw)
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if value is None:
        return b""
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, float):
        return _format_float(value).encode()
    return to_json(value)


def to_json(value: Any) -> bytes:
    """Compact JSON, keys in their stored order, non-ASCII kept as UTF-8 (like Go's encoder)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


# Go's encoder escapes these inside strings (json.Marshal's default HTML-safe mode) ...
_GO_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)
# ... and these two even with SetEscapeHTML(false).
_GO_LINE_ESCAPES = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029"})


def go_json(value: Any) -> bytes:
    """Go's ``json.Marshal`` of a map built in Go: compact, object keys sorted, ``<``, ``>``, ``&``,
    U+2028 and U+2029 escaped as ``\\u003c``... and a lone surrogate as U+FFFD.

    ESO builds metadataPolicy Fetch answers (Vault custom_metadata, AWS tags, GCP labels and
    annotations) as Go maps and marshals them this way, so these bytes equal ESO's. (A ``None``
    marshals as ``null``, as Go's nil map does.)
    """
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False, sort_keys=True)
    text = text.translate(_GO_ESCAPES)
    if any("\ud800" <= char <= "\udfff" for char in text):  # only from a "\ud800"-style escape
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text.encode()


def _format_float(value: float) -> str:
    """Go's ``strconv.FormatFloat(f, 'f', -1, 64)``: shortest exact digits, never an exponent."""
    if not math.isfinite(value):  # JSON cannot carry these; spelled as Go spells them
        return "NaN" if math.isnan(value) else "+Inf" if value > 0 else "-Inf"
    text = format(Decimal(repr(value)), "f")
    return text[:-2] if text.endswith(".0") else text


def loads(value: bytes | str) -> Any:
    """Parse JSON from a backend; ValueError for anything unusable, also nesting too deep for the
    parser (RecursionError) or text that is not UTF-8: a remote value is not ours to trust."""
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None


def document(value: bytes | str, where: str, prop: str) -> StoredJson:
    """The stored JSON value ``property`` is selected from (a :class:`StoredJson`, for
    :func:`select` and :func:`to_bytes`); PropertyNotFound if the value is not JSON."""
    try:
        text, start, end = _root(value)
    except ValueError:
        raise PropertyNotFound(f"{where} is not JSON, so it has no property {prop!r}") from None
    return StoredJson(text[start:end])


def _extract_error(where: str) -> SpecError:
    """``dataFrom.extract`` of something that is not a JSON object; SpecError because the fix is
    usually a different ``key``/``property`` (ESO reports "unable to unmarshal secret")."""
    return SpecError("dataFrom.extract", f"{where} is not a JSON object, so it cannot be extracted")


# -- stored JSON text: AWS, GCP, fake ----------------------------------------------------------------


def _not_a_number(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # Python reads NaN and Infinity; Go (and JSON) do not


def _ignored(_text: str) -> None:
    """Numbers are checked by the scanner's grammar and kept as text: nothing to build."""


# Checks a text with Go's rules and finds where each value ends; builds no numbers (so no size
# limit on integer digits applies) and refuses NaN/Infinity.
_CHECKER = json.JSONDecoder(parse_int=_ignored, parse_float=_ignored, parse_constant=_not_a_number)
_JSON_SPACE = " \t\n\r"
_INTEGER = re.compile(r"-?[0-9]+")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(value: bytes | str) -> str:
    """A stored value as text. Bytes that are not UTF-8 become lone surrogates, so slices of the
    text encode back to exactly the stored bytes (:func:`_stored`) and, inside strings, read as
    U+FFFD as Go reads them (:func:`_go_str`). Text is taken as its UTF-8 bytes (a lone
    surrogate in it as the bytes Python would write for it)."""
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogatepass")
    return value.decode("utf-8", "surrogateescape")


def _stored(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _go_str(text: str) -> str:
    """A decoded string as Go holds it: a lone surrogate (from ``\\ud800`` or a byte that is not
    UTF-8) is U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def _value_end(text: str, start: int) -> int:
    """Where the JSON value starting at ``start`` ends; ValueError if there is none."""
    try:
        return int(_CHECKER.raw_decode(text, start)[1])
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _JSON_SPACE:
        pos += 1
    return pos


def _root(value: bytes | str) -> tuple[str, int, int]:
    """The text of one whole JSON value and where the value starts and ends in it (surrounding
    whitespace allowed, as in Go); ValueError if the text is anything else."""
    text = _text(value)
    start = _skip_space(text, 0)
    end = _value_end(text, start)
    if _skip_space(text, end) != len(text):
        raise ValueError("not one JSON value")
    return text, start, end


def _members(text: str, start: int) -> list[tuple[str, int, int]]:
    """(key, value start, value end) of each member of the checked object whose ``{`` is at
    ``start``, in stored order."""
    found: list[tuple[str, int, int]] = []
    pos = _skip_space(text, start + 1)
    while text[pos] != "}":
        key, pos = json.decoder.scanstring(text, pos + 1)  # type: ignore[attr-defined]
        pos = _skip_space(text, _skip_space(text, pos) + 1)  # past the ":"
        end = _value_end(text, pos)
        found.append((_go_str(key), pos, end))
        pos = _skip_space(text, end)
        if text[pos] == ",":
            pos = _skip_space(text, pos + 1)
    return found


def _items(text: str, start: int) -> list[tuple[int, int]]:
    """(start, end) of each element of the checked list whose ``[`` is at ``start``."""
    found: list[tuple[int, int]] = []
    pos = _skip_space(text, start + 1)
    while text[pos] != "]":
        end = _value_end(text, pos)
        found.append((pos, end))
        pos = _skip_space(text, end)
        if text[pos] == ",":
            pos = _skip_space(text, pos + 1)
    return found


def _raw_walk(text: str, start: int, end: int, segments: list[str]) -> str | None:
    """The stored text ``segments`` reach from the value at ``start:end``, or None. As gjson:
    ``#`` on a list is its length, ``list.#.rest`` the texts ``rest`` reaches in each element,
    joined as a JSON list."""
    for index, segment in enumerate(segments):
        if text[start] == "[" and segment == "#":
            items = _items(text, start)
            rest = segments[index + 1 :]
            if not rest:
                return str(len(items))
            reached = (_raw_walk(text, item_start, item_end, rest) for item_start, item_end in items)
            return "[" + ",".join(found for found in reached if found is not None) + "]"
        step = _raw_step(text, start, segment)
        if step is None:
            return None
        start, end = step
    return text[start:end]


def _raw_step(text: str, start: int, segment: str) -> tuple[int, int] | None:
    if text[start] == "{":
        # gjson takes the first member with that key
        return next(((s, e) for key, s, e in _members(text, start) if key == segment), None)
    if text[start] == "[" and segment.isdigit() and segment.isascii():
        items = _items(text, start)
        position = int(segment)
        return items[position] if position < len(items) else None
    return None


def _gjson_string(raw: str) -> bytes:
    """gjson's ``Result.String()`` of a value's stored text, as bytes."""
    first = raw[0]
    if first == '"':
        return _raw_string(raw)
    if first in "{[":
        return _stored(raw)
    if first in "tfn":
        return b"" if first == "n" else raw.encode()
    if _INTEGER.fullmatch(raw):  # an integer keeps its digits, however many
        return raw.encode()
    return _format_float(float(raw)).encode()


def _raw_string(raw: str) -> bytes:
    """A stored JSON string, unquoted, as Go's decoder reads it (U+FFFD for what is not UTF-8)."""
    return _go_str(json.decoder.scanstring(raw, 1)[0]).encode()  # type: ignore[attr-defined]


class StoredJson:
    """One JSON value exactly as stored, checked (bytes that are not UTF-8 kept as lone
    surrogates): what :func:`document` returns, what :func:`select` finds in it as gjson does,
    and what :func:`to_bytes` turns into gjson's ``String()``. Its repr never shows the value."""

    __slots__ = ("raw",)

    def __init__(self, raw: str) -> None:
        self.raw = raw

    def __repr__(self) -> str:
        return f"StoredJson(<{len(self.raw)} characters>)"


def _select_stored(payload: StoredJson, prop: str, where: str) -> StoredJson:
    """gjson's ``Get(raw, prop)`` (an exact top-level key first, the first of duplicates)."""
    raw = payload.raw
    found: str | None = None
    if raw[0] == "{":
        found = next((raw[s:e] for key, s, e in _members(raw, 0) if key == prop), None)
    if found is None:
        found = _raw_walk(raw, 0, len(raw), split_path(prop))
    if found is None:
        raise PropertyNotFound(f"{where} has no property {prop!r}")
    return StoredJson(found)


def raw_select(value: bytes | str, prop: str, *, where: str = "secret") -> bytes:
    """ESO's bytes for ``property`` of a stored JSON text: gjson's ``Get(text, prop).String()``, an
    exact top-level key first (see the module table: objects and lists keep their stored text).

    PropertyNotFound naming ``where`` and ``prop`` when the text is not JSON or nothing matches.
    """
    return to_bytes(select(document(value, where, prop), prop, where=where))


def raw_extract(value: bytes | str, where: str) -> dict[str, bytes]:
    """ESO's ``GetSecretMap`` of a stored JSON text: ``json.Unmarshal`` into
    ``map[string]json.RawMessage``, then a string member unquoted and any other member its text
    exactly as stored (``{"a": 1}`` keeps its spaces, ``1.50`` its zero). A ``null`` text is no
    keys, as in Go. SpecError naming ``where`` if the text is not a JSON object.
    """
    try:
        text, start, _end = _root(value)
    except ValueError:
        raise _extract_error(where) from None
    if text[start] == "n":
        return {}
    if text[start] != "{":
        raise _extract_error(where)
    found: dict[str, bytes] = {}
    for key, member_start, member_end in _members(text, start):
        raw = text[member_start:member_end]
        found[key] = _raw_string(raw) if raw[0] == '"' else b"" if raw == "null" else _stored(raw)
    return found


# -- decoded data: Vault ----------------------------------------------------------------------------


class JsonNumber(float):
    """A JSON number with a fraction or an exponent, decoded as Go's ``UseNumber`` does: its value
    (for arithmetic and gjson) and its text as sent (what ``json.Marshal`` writes back)."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> JsonNumber:
        number = super().__new__(cls, text)
        number.text = text
        return number


def go_marshal(value: Any, *, float64: bool = False, escape_html: bool = True) -> bytes:
    """Go's ``json.Marshal`` of a decoded value: compact, object keys sorted, ``<``, ``>``, ``&``,
    U+2028, U+2029 escaped, a lone surrogate read as U+FFFD, a :class:`JsonNumber` as its text.

    ``float64``: every number as Go writes a float64 (what Go decoded into ``any`` holds):
    ``1.0`` -> ``1``, ``1e21`` -> ``1e+21``. ``escape_html=False``: an Encoder with
    ``SetEscapeHTML(false)`` (``<``, ``>``, ``&`` as they are; U+2028 and U+2029 still escaped).
    ValueError for what JSON cannot hold (NaN, infinity, other types).
    """
    parts: list[str] = []
    pending: list[Any] = [value]
    while pending:  # a loop, not recursion: depth is whatever the parser accepted
        item = pending.pop()
        if isinstance(item, _Token):
            parts.append(item.text)
        elif isinstance(item, dict):
            members = sorted({_go_str(str(key)): member for key, member in item.items()}.items())
            pending.append(_Token("}"))
            for position in range(len(members) - 1, -1, -1):
                key, member = members[position]
                pending.append(member)
                pending.append(_Token(("," if position else "") + _go_quote(key, escape_html) + ":"))
            pending.append(_Token("{"))
        elif isinstance(item, list | tuple):
            pending.append(_Token("]"))
            for position in range(len(item) - 1, -1, -1):
                pending.append(item[position])
                if position:
                    pending.append(_Token(","))
            pending.append(_Token("["))
        else:
            parts.append(_go_scalar(item, float64, escape_html))
    return "".join(parts).encode()


class _Token:
    """Literal JSON text queued by :func:`go_marshal` (never confused with a string value)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _go_scalar(value: Any, float64: bool, escape_html: bool) -> str:
    if isinstance(value, str):
        return _go_quote(value, escape_html)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, JsonNumber) and not float64:
        return value.text
    if isinstance(value, int) and not float64:
        return str(value)
    if isinstance(value, int | float):
        return _go_float_json(float(value))
    raise ValueError(f"{type(value).__name__} is not JSON")


def _go_quote(text: str, escape_html: bool) -> str:
    return json.dumps(_go_str(text), ensure_ascii=False).translate(
        _GO_ESCAPES if escape_html else _GO_LINE_ESCAPES
    )


def _go_float_json(value: float) -> str:
    """Go's encoding/json float64: FormatFloat 'f' (shortest), or 'e' below 1e-6 and from 1e21 on,
    with a negative exponent's leading zero dropped (``1e-7``, ``1e+21``)."""
    if not math.isfinite(value):
        raise ValueError("JSON has no NaN or infinity")
    size = abs(value)
    if size == 0 or 1e-6 <= size < 1e21:
        return _format_float(value)
    _sign, digits, exponent = Decimal(repr(size)).normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    power = exponent + len(text) - 1
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    sign = "-" if value < 0 else ""
    return f"{sign}{mantissa}e-{-power}" if power < 0 else f"{sign}{mantissa}e+{power:02d}"


def go_value(value: Any, *, numbers_as_sent: bool = True) -> bytes:
    """ESO's ``esutils.GetByteValue`` of a decoded value: a string's UTF-8, a number's decimal text
    (a :class:`JsonNumber`'s own text with ``numbers_as_sent``, else Go's FormatFloat as gjson's
    ``String()`` gives it), ``true``/``false``, nothing for null, :func:`go_marshal` of the rest.
    """
    if isinstance(value, str):
        return _go_str(value).encode()
    if isinstance(value, JsonNumber) and numbers_as_sent:
        return value.text.encode()
    if isinstance(value, dict | list):
        return go_marshal(value)
    return to_bytes(value)


def go_extract(value: bytes, where: str) -> dict[str, bytes]:
    """ESO's Vault ``GetSecretMap`` of the JSON ``value``: ``json.Unmarshal`` into ``map[string]any``
    (every number a float64), then :func:`go_value` of each member (a nested object as Go marshals
    it: keys sorted, numbers as float64). A ``null`` text is no keys, as in Go. SpecError naming
    ``where`` if ``value`` is not a JSON object.
    """
    try:
        parsed = go_unmarshal(value)
    except ValueError:
        raise _extract_error(where) from None
    if parsed is None:
        return {}
    if not isinstance(parsed, dict):
        raise _extract_error(where)
    found: dict[str, bytes] = {}
    try:
        for key, member in parsed.items():
            nested = isinstance(member, dict | list)
            found[_go_str(key)] = go_marshal(member, float64=True) if nested else go_value(member)
    except ValueError:
        raise _extract_error(where) from None
    return found


def go_unmarshal(value: bytes | str) -> Any:
    """Go's ``json.Unmarshal`` into ``any``: every number a float64 (ValueError beyond its range, as
    Go's "cannot unmarshal number"), no NaN or Infinity, strings as Go holds them once read through
    :func:`go_value` / :func:`go_marshal` (bytes that are not UTF-8 and lone surrogates as U+FFFD).
    ValueError for anything that is not JSON, also nesting too deep for the parser."""
    try:
        return json.loads(
            _text(value), parse_int=_float64, parse_float=_float64, parse_constant=_not_a_number
        )
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _float64(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # Go: "cannot unmarshal number ... into float64"
        raise ValueError("number out of range")
    return number


def check_find_size(count: int) -> None:
    """Refuse a ``find`` that would return more than :data:`limits.FIND_MAX_RESULTS` secrets."""
    if count > limits.FIND_MAX_RESULTS:
        raise SpecError(
            "dataFrom.find",
            f"matches more than {limits.FIND_MAX_RESULTS} remote secrets; narrow it with path, "
            "name.regexp or tags",
        )


def compile_name_regexp(pattern: str | None) -> Any:
    """``dataFrom.find.name.regexp``, compiled once on RE2 (linear time); None matches every name."""
    if not pattern:
        return None
    try:
        return regex.compile(pattern)
    except regex.RegexError as exc:
        raise SpecError("dataFrom.find.name.regexp", f"invalid regular expression: {exc}") from None
