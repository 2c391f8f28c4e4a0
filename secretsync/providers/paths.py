"""ESO's ``property`` semantics, shared by every provider whose secrets are JSON documents.

External Secrets Operator resolves ``remoteRef.property`` against a secret's JSON payload in
two steps (``providers/v1/vault/client_get.go``): an exact top-level key wins, so a key such
as ``tls.crt`` works unescaped; otherwise the property is a gjson path (``a.b.c``,
``list.1.name``, ``\\.`` for a literal dot). Users migrate manifests verbatim, so we resolve
exactly the same way, and turn the selected value into bytes the way ESO does
(``esutils.GetByteValue`` and gjson's ``Result.String``):

==============  ===================================================
value           bytes
==============  ===================================================
string          its UTF-8 text, unquoted
number          decimal text, never an exponent (``3``, ``1.5``)
bool            ``true`` / ``false``
null            empty (ESO returns no bytes for a JSON null)
object, list    compact JSON, keys in stored order, UTF-8 unescaped
==============  ===================================================

Supported gjson subset: dotted keys, numeric list indexes, ``\\`` escapes, and ``#`` (a list's
length, or ``list.#.field`` collecting ``field`` from each element). Wildcards, queries and
modifiers (``*``, ``?``, ``#(...)``, ``@reverse``, ``|``) are read as literal key text.

Everything here is pure and never puts a value into an error message: errors name the
secret (``where``) and the property only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from secretsync import limits, regex
from secretsync.errors import PropertyNotFound, SpecError

_MISSING = object()


def select(payload: Any, prop: str | None, *, where: str = "secret") -> Any:
    """The value ``prop`` names in ``payload``: the whole payload when ``prop`` is empty.

    Raises :class:`PropertyNotFound` naming ``where`` and ``prop`` when nothing matches (never
    SecretNotFound: the secret exists, so deletionPolicy must not act).
    """
    if not prop:
        return payload
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
    """A selected value as the bytes ESO would put in the Secret (see the module table)."""
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


# Go's encoder escapes these inside strings (json.Marshal's default HTML-safe mode).
_GO_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


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
    if not math.isfinite(value):  # JSON cannot carry these; be explicit rather than crash
        return str(value)
    text = format(Decimal(repr(value)), "f")
    return text[:-2] if text.endswith(".0") else text


def loads(value: bytes | str) -> Any:
    """Parse JSON from a backend; ValueError for anything unusable, also nesting too deep for the
    parser (RecursionError) or text that is not UTF-8: a remote value is not ours to trust."""
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None


def document(value: bytes | str, where: str, prop: str) -> Any:
    """The JSON document ``property`` is selected from; PropertyNotFound if the value is not JSON."""
    try:
        return loads(value)
    except ValueError:
        raise PropertyNotFound(f"{where} is not JSON, so it has no property {prop!r}") from None


def json_object(value: bytes, where: str) -> dict[str, Any]:
    """Parse ``value`` as a JSON object for ``dataFrom.extract``; SpecError naming ``where`` if not one.

    SpecError because the ExternalSecret asks to extract something that is not a map: the fix is
    usually a different ``key``/``property`` (ESO reports "unable to unmarshal secret").
    """
    try:
        parsed = loads(value)
    except ValueError:
        parsed = _MISSING
    if not isinstance(parsed, dict):
        raise SpecError("dataFrom.extract", f"{where} is not a JSON object, so it cannot be extracted")
    return parsed


def flatten_for_extract(obj: Mapping[str, Any]) -> dict[str, bytes]:
    """One Secret key per top-level key: strings raw, everything else as :func:`to_bytes` gives it."""
    return {key: to_bytes(value) for key, value in obj.items()}


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
