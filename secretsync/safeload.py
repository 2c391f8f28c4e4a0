"""The bounded YAML/JSON reader: the one parser for manifests and request bodies written by others.

``yaml.safe_load`` is safe against code execution, not against the size and shape of its
input: aliases turn a 1 KB document into gigabytes for whoever walks or prints the result,
deep nesting overflows the C stack (libyaml's composer recurses) or raises RecursionError,
and a duplicate key silently keeps the last value, hiding a second ``metadata.namespace``
from a reviewer. So this module keeps libyaml's C scanner and parser (the events) and builds
the values itself, in one loop with an explicit stack:

* depth is the number of collections open, so ``[[[[...`` stops at the budget, however deep;
* every node is counted, an alias counting the whole expanded subtree of its anchor (known
  when the anchored node closes), so the budget bounds what any consumer walks or prints, in
  time linear in the document;
* a mapping key given twice (directly or through a ``<<`` merge) is an error naming its path;
* errors carry a position and a problem, never document content (keys in paths are names).

JSON goes through :mod:`json`: duplicate keys are caught by ``object_pairs_hook``, and the
nesting depth is checked first by a linear scan (the C decoder recurses).

Values are those of PyYAML's safe loader for ordinary documents; ``!!set``, ``!!omap``,
``!!pairs`` and recursive aliases are refused. With a ``plain`` budget (the HTTP API) only
JSON-compatible values come out: aliases and merge keys are refused, timestamps stay text
and ``!!binary`` is refused. Only PyYAML and the standard library are used (the seal path
stays light); :mod:`json` is imported when a JSON document arrives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final, Literal

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from secretsync import limits
from secretsync.errors import InputError

Format = Literal["yaml", "json"]


@dataclass(frozen=True)
class Budget:
    """How much one input may hold, and which YAML features it may use.

    ``aliases``: YAML aliases and ``<<`` merge keys are allowed (within ``max_nodes`` and
    ``max_chars`` counted with every alias expanded). ``plain``: only JSON-compatible values
    (timestamps stay text; ``!!binary`` is refused).
    """

    max_bytes: int
    max_depth: int
    max_nodes: int
    max_chars: int
    aliases: bool
    plain: bool


CLI: Final = Budget(
    max_bytes=limits.CLI_MAX_INPUT_BYTES,
    max_depth=limits.CLI_MAX_DEPTH,
    max_nodes=limits.CLI_MAX_NODES,
    max_chars=limits.CLI_MAX_EXPANDED_CHARS,
    aliases=True,
    plain=False,
)
HTTP: Final = Budget(
    max_bytes=limits.HTTP_MAX_BODY,
    max_depth=limits.HTTP_MAX_DEPTH,
    max_nodes=limits.HTTP_MAX_NODES,
    max_chars=limits.HTTP_MAX_BODY,
    aliases=False,
    plain=True,
)


class ParseError(InputError):
    """A document cannot be read: the format, a position and the problem; never content."""

    def __init__(
        self, problem: str, fmt: str | None = "YAML", line: int | None = None, column: int | None = None
    ) -> None:
        self.problem = problem
        self.line = line
        self.column = column
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(f"not valid {fmt}: {where}{problem}" if fmt else f"{where}{problem}")

    @classmethod
    def at(cls, problem: str, mark: Any) -> ParseError:
        """A YAML problem at a libyaml mark (0-based line and column)."""
        if mark is None:
            return cls(problem)
        return cls(problem, "YAML", mark.line + 1, mark.column + 1)


def size_text(size: int) -> str:
    """``64 MiB`` for whole MiB, else bytes: for messages."""
    mib = 1024 * 1024
    return f"{size // mib} MiB" if size >= mib and size % mib == 0 else f"{size:,} bytes"


class _JsonSyntaxError(ParseError):
    """The JSON decoder's own complaint (as opposed to a budget or a duplicate key)."""


class _YamlSyntaxError(ParseError):
    """libyaml's own complaint (as opposed to a budget, an alias or a duplicate key)."""


_SPACE: Final = re.compile(r"\s*")


def decode(data: bytes | str) -> str:
    """UTF-8 text (a BOM is dropped); ParseError if it is not UTF-8."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ParseError("not UTF-8 text", None) from None


def detect_format(text: str) -> Format:
    """JSON if the first non-blank character opens a JSON object or array, else YAML."""
    match = _SPACE.match(text)
    start = match.end() if match else 0
    return "json" if text[start : start + 1] in ("{", "[") else "yaml"


def load_documents(data: bytes | str, budget: Budget = CLI) -> tuple[list[Any], Format]:
    """Every document in ``data`` and the format they were in; ParseError (an InputError) if not.

    YAML documents come back as PyYAML's safe loader builds them, empty ones as None;
    JSON may be one value or several concatenated (kubeseal's JSON output). Text that
    starts like JSON but is not (YAML in flow style) is read as YAML; if it is neither,
    the JSON problem is reported.
    """
    if len(data) > budget.max_bytes:
        raise ParseError(f"larger than {size_text(budget.max_bytes)}", None)
    text = decode(data)
    if detect_format(text) == "json":
        try:
            return _load_json(text, budget), "json"
        except _JsonSyntaxError as json_error:
            # Not JSON, but maybe YAML in flow style (``{kind: Secret, ...}``), as PyYAML reads it.
            try:
                return _YamlReader(text, budget).documents(), "yaml"
            except _YamlSyntaxError:
                raise json_error from None
    return _YamlReader(text, budget).documents(), "yaml"


# --------------------------------------------------------------------------- YAML

try:  # libyaml's C parser, for its events only; the pure-Python one gives the same events
    from yaml._yaml import CParser as _EventParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _EventParser(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)


_PREFIX: Final = "tag:yaml.org,2002:"
_STR: Final = _PREFIX + "str"
_NULL: Final = _PREFIX + "null"
_BOOL: Final = _PREFIX + "bool"
_INT: Final = _PREFIX + "int"
_FLOAT: Final = _PREFIX + "float"
_TIMESTAMP: Final = _PREFIX + "timestamp"
_BINARY: Final = _PREFIX + "binary"
_MERGE_TAG: Final = _PREFIX + "merge"
_MAP: Final = _PREFIX + "map"
_SEQ: Final = _PREFIX + "seq"
_KNOWN_TAGS: Final = frozenset(
    {"str", "null", "bool", "int", "float", "timestamp", "binary", "merge", "map", "seq", "set"}
    | {"omap", "pairs", "value", "yaml"}
)
_BOOLS: Final = SafeConstructor.bool_values
_IMPLICIT: Final = Resolver.yaml_implicit_resolvers
_WILDCARD: Final = tuple(Resolver.yaml_implicit_resolvers.get(None, ()))


class _Merge:
    """The value of a plain ``<<`` key: meaningful only as a mapping key."""


_MERGE: Final = _Merge()

# Slots of a stack frame (a list, for speed): one per open collection.
_IS_MAP, _VALUE, _ANCHOR, _NODES, _CHARS, _KEY, _HAS_KEY, _KEY_MARK, _MERGES = range(9)


def _tag_name(tag: str) -> str:
    name = tag[len(_PREFIX) :] if tag.startswith(_PREFIX) else ""
    return f"the YAML tag !!{name}" if name in _KNOWN_TAGS else "this YAML tag"


class _YamlReader:
    """Values from libyaml's events; see the module docstring for what it counts and refuses."""

    def __init__(self, text: str, budget: Budget) -> None:
        self.budget = budget
        self.nodes = 0
        self.chars = 0
        self.constructor = SafeConstructor()
        self.text = text

    def documents(self) -> list[Any]:
        try:
            parser = _EventParser(self.text)
        except UnicodeError:  # a str holding lone surrogates cannot reach libyaml
            raise ParseError("not UTF-8 text", None) from None
        try:
            get_event = parser.get_event
            get_event()  # STREAM-START
            docs: list[Any] = []
            while not isinstance(get_event(), StreamEndEvent):  # DOCUMENT-START or STREAM-END
                docs.append(self._document(get_event))
                get_event()  # DOCUMENT-END
            return docs
        except yaml.MarkedYAMLError as exc:
            raise _YamlSyntaxError.at(_masked(exc.problem), exc.problem_mark) from None
        except yaml.YAMLError:  # libyaml's reader: a byte or character YAML does not allow
            raise _YamlSyntaxError("a character that YAML does not allow") from None
        finally:
            parser.dispose()

    def _document(self, get_event: Any) -> Any:
        """One document's value: the hot loop, one pass over the events with an explicit stack."""
        budget = self.budget
        max_depth, max_nodes, max_chars = budget.max_depth, budget.max_nodes, budget.max_chars
        anchors: dict[str, tuple[Any, int, int]] = {}  # anchor -> (value, expanded nodes, expanded chars)
        opened: set[str] = set()  # anchors of collections still open
        stack: list[list[Any]] = []
        while True:
            event = get_event()
            kind = event.__class__
            if kind is ScalarEvent:
                text = event.value
                self.nodes += 1
                self.chars += len(text)
                mark = event.start_mark
                if self.nodes > max_nodes or self.chars > max_chars:
                    raise self._too_big(mark)
                tag = event.tag
                if tag is None or tag == "!":
                    tag = self._resolve(text) if event.implicit[0] else _STR
                value = text if tag == _STR else self._construct(tag, text, mark)
                anchor = event.anchor
                if anchor is not None:
                    self._new_anchor(anchor, anchors, opened, mark)
                    anchors[anchor] = (value, 1, len(text))
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                mark = event.start_mark
                if len(stack) >= max_depth:
                    raise ParseError.at(f"nested deeper than {max_depth} levels", mark)
                self.nodes += 1
                if self.nodes > max_nodes:
                    raise self._too_big(mark)
                is_map = kind is MappingStartEvent
                tag = event.tag
                if not (tag is None or tag == "!" or tag == (_MAP if is_map else _SEQ)):
                    raise ParseError.at(f"{_tag_name(tag)} is not supported", mark)
                anchor = event.anchor
                if anchor is not None:
                    self._new_anchor(anchor, anchors, opened, mark)
                    opened.add(anchor)
                container: Any = {} if is_map else []
                stack.append([is_map, container, anchor, self.nodes - 1, self.chars, None, False, None, None])
                continue
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                frame = stack.pop()
                mark = event.start_mark
                value = frame[_VALUE] if frame[_MERGES] is None else self._merge(frame, stack)
                anchor = frame[_ANCHOR]
                if anchor is not None:
                    opened.discard(anchor)
                    anchors[anchor] = (value, self.nodes - frame[_NODES], self.chars - frame[_CHARS])
            elif kind is AliasEvent:
                mark = event.start_mark
                if not budget.aliases:
                    raise ParseError.at("YAML aliases are not allowed", mark)
                entry = anchors.get(event.anchor)
                if entry is None:
                    if event.anchor in opened:
                        raise ParseError.at("an alias refers to a node that contains it", mark)
                    raise ParseError.at("an alias refers to no anchor defined before it", mark)
                value, nodes, chars = entry
                self.nodes += nodes
                self.chars += chars
                if self.nodes > max_nodes or self.chars > max_chars:
                    raise self._too_big(mark)
            else:  # pragma: no cover - libyaml sends nothing else inside a document
                raise ParseError.at("unexpected YAML structure", event.start_mark)

            if not stack:
                if value is _MERGE:
                    raise ParseError.at("a << merge key is not a value", mark)
                return value
            top = stack[-1]
            if not top[_IS_MAP]:
                if value is _MERGE:
                    raise ParseError.at("a << merge key is not a value", mark)
                top[_VALUE].append(value)
            elif top[_HAS_KEY]:
                if value is _MERGE:
                    raise ParseError.at("a << merge key is not a value", mark)
                key = top[_KEY]
                if key is _MERGE:
                    top[_MERGES].append((value, top[_KEY_MARK]))
                else:
                    top[_VALUE][key] = value
                top[_HAS_KEY] = False
            else:
                self._key(top, value, mark, stack)

    def _resolve(self, text: str) -> str:
        """The tag of a plain scalar, as PyYAML's resolver picks it."""
        for tag, regexp in _IMPLICIT.get(text[0] if text else "", ()):
            if regexp.match(text):
                return str(tag)
        for tag, regexp in _WILDCARD:
            if regexp.match(text):
                return str(tag)
        return _STR

    def _construct(self, tag: str, text: str, mark: Any) -> Any:
        """A non-string scalar, as PyYAML's SafeConstructor builds it."""
        plain = self.budget.plain
        try:
            if tag == _NULL:
                return None
            if tag == _BOOL:
                return _BOOLS[text.lower()]
            if tag in (_INT, _FLOAT):
                if len(text) > limits.MAX_NUMBER_CHARS:
                    raise ParseError.at(f"a number longer than {limits.MAX_NUMBER_CHARS} characters", mark)
                node = ScalarNode(tag, text)
                if tag == _INT:
                    return self.constructor.construct_yaml_int(node)
                return self.constructor.construct_yaml_float(node)
            if tag == _MERGE_TAG:
                return _MERGE
            if tag == _TIMESTAMP:
                return text if plain else self.constructor.construct_yaml_timestamp(ScalarNode(tag, text))
            if tag == _BINARY and not plain:
                return self.constructor.construct_yaml_binary(ScalarNode(tag, text))
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError, yaml.YAMLError):
            raise ParseError.at("a value that does not fit its YAML type", mark) from None
        raise ParseError.at(f"{_tag_name(tag)} is not supported", mark)

    def _key(self, top: list[Any], key: Any, mark: Any, stack: list[list[Any]]) -> None:
        """``key`` arrived in the mapping ``top``: refuse it if it is there already."""
        if key is _MERGE:
            if not self.budget.aliases:
                raise ParseError.at("YAML merge keys (<<) are not allowed", mark)
            if top[_MERGES] is not None:
                raise ParseError.at(f"duplicate key {_join(_path(stack), '<<')}", mark)
            top[_MERGES] = []
        else:
            try:
                seen = key in top[_VALUE]
            except TypeError:  # a list or mapping as a key: PyYAML refuses it too
                raise ParseError.at("a mapping key must be a scalar", mark) from None
            if seen:
                raise ParseError.at(f"duplicate key {_join(_path(stack), _show_key(key))}", mark)
        top[_KEY] = key
        top[_KEY_MARK] = mark
        top[_HAS_KEY] = True

    def _merge(self, frame: list[Any], stack: list[list[Any]]) -> dict[Any, Any]:
        """The mapping with its ``<<`` merges applied; a key given twice is refused, not overridden."""
        explicit: dict[Any, Any] = frame[_VALUE]
        merged: dict[Any, Any] = {}
        for source, mark in frame[_MERGES]:
            sources = source if isinstance(source, list) else [source]
            for item in reversed(sources):  # PyYAML's order: the last source's keys first
                if not isinstance(item, dict):
                    raise ParseError.at("a << merge takes a mapping or a list of mappings", mark)
                for key, value in item.items():
                    if key in merged or key in explicit:
                        path = _join(_path([*stack, frame]), _show_key(key))
                        raise ParseError.at(f"duplicate key {path} (through a << merge)", mark)
                    merged[key] = value
        merged.update(explicit)
        return merged

    def _new_anchor(self, anchor: str, anchors: dict[str, Any], opened: set[str], mark: Any) -> None:
        if anchor in anchors or anchor in opened:
            raise ParseError.at("an anchor is defined twice", mark)

    def _too_big(self, mark: Any) -> ParseError:
        budget = self.budget
        expanded = " (aliases expanded)" if budget.aliases else ""
        if self.nodes > budget.max_nodes:
            return ParseError.at(f"more than {budget.max_nodes:,} nodes{expanded}", mark)
        return ParseError.at(f"more than {size_text(budget.max_chars)} of text{expanded}", mark)


_QUOTED: Final = re.compile(r"'[^']*'|\"[^\"]*\"")


def _masked(problem: str | None) -> str:
    """A parser's problem text with anything quoted masked (it may quote the document), one line."""
    text = _QUOTED.sub("'…'", problem or "syntax error")
    return " ".join(text.split())[:200]


# --------------------------------------------------------------------------- paths in messages

_PLAIN_KEY: Final = re.compile(r"[A-Za-z0-9_][-A-Za-z0-9_./]{0,99}")


def _show_key(key: Any) -> str:
    """A mapping key for a message: plain names as they are, anything else quoted and cut to 60."""
    if key is _MERGE:
        return "<<"
    if isinstance(key, str):
        text = key
    elif key is None or isinstance(key, bool | int | float):
        text = "null" if key is None else str(key).lower() if isinstance(key, bool) else str(key)
    else:
        return "(a non-string key)"
    if _PLAIN_KEY.fullmatch(text):
        return text
    shown = repr(text[:60])
    return shown[:-1] + "…" + shown[-1] if len(text) > 60 else shown


def _path(frames: list[list[Any]]) -> list[str]:
    """Where the innermost frame sits: each outer frame's current key or index."""
    parts = []
    for frame in frames[:-1]:
        if not frame[_IS_MAP]:
            parts.append(f"[{len(frame[_VALUE])}]")
        else:
            parts.append(_show_key(frame[_KEY]) if frame[_HAS_KEY] else "(a key)")
    return parts


def _join(parts: list[str], last: str) -> str:
    out = ""
    for part in [*parts, last]:
        out += part if part.startswith("[") or not out else "." + part
    return out


# --------------------------------------------------------------------------- JSON

# Outside strings: a whole string (possessive, so a failed one never backtracks), a structural
# character, or a lone quote (a string with no end: the decoder reports it).
_JSON_TOKENS: Final = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"|[\[\]{}:,]|"', re.DOTALL)
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89abcdefABCDEF]")


def _line_column(text: str, pos: int) -> tuple[int, int]:
    return text.count("\n", 0, pos) + 1, pos - text.rfind("\n", 0, pos)


def _scan_json(text: str, budget: Budget) -> None:
    """Refuse JSON nested deeper than the budget (or with too many values) before decoding it.

    Linear: str.count answers for almost every document; otherwise one regex pass over the
    text outside strings.
    """
    max_depth, max_nodes = budget.max_depth, budget.max_nodes
    opens = text.count("{") + text.count("[")
    if opens <= max_depth and (
        len(text) < max_nodes or opens + text.count(",") + text.count(":") < max_nodes
    ):
        return
    depth, nodes, strings = 0, 1, 0
    for match in _JSON_TOKENS.finditer(text):
        start = match.start()
        char = text[start]
        if char == '"':
            if match.end() - start == 1:
                return
            strings += 1
            if strings > 2 * max_nodes:  # valid JSON has a separator at least every second string
                raise ParseError(f"more than {max_nodes:,} values", "JSON", *_line_column(text, start))
            continue
        if char == "{" or char == "[":
            depth += 1
            nodes += 1
            if depth > max_depth:
                raise ParseError(f"nested deeper than {max_depth} levels", "JSON", *_line_column(text, start))
        elif char == "}" or char == "]":
            depth -= 1
        else:
            nodes += 1
        if nodes > max_nodes:
            raise ParseError(f"more than {max_nodes:,} values", "JSON", *_line_column(text, start))


def _load_json(text: str, budget: Budget) -> list[Any]:
    import json  # lazily, like every import the YAML-only seal path does not need

    _scan_json(text, budget)
    duplicates: list[tuple[dict[str, Any], str]] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(items)
        if len(obj) != len(items) and not duplicates:
            seen: set[str] = set()
            for key, _ in items:
                if key in seen:
                    duplicates.append((obj, key))
                    break
                seen.add(key)
        return obj

    decoder = json.JSONDecoder(object_pairs_hook=pairs)
    docs: list[Any] = []
    pos, end = 0, len(text)
    while True:
        space = _SPACE.match(text, pos)
        pos = space.end() if space else pos
        if pos >= end:
            break
        try:
            doc, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise _JsonSyntaxError(exc.msg, "JSON", exc.lineno, exc.colno) from None
        except ValueError:  # int() refuses more than 4300 digits
            raise ParseError(f"a number longer than {limits.MAX_NUMBER_CHARS} digits", "JSON") from None
        docs.append(doc)
    if duplicates:
        obj, key = duplicates[0]
        raise ParseError(f"duplicate key {_json_path(docs, obj, key)}", "JSON")
    if "\\u" in text and _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(docs, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError("a string holds an unpaired UTF-16 surrogate escape", "JSON") from None
    return docs


def _json_path(docs: list[Any], target: dict[str, Any], key: str) -> str:
    """The path of ``key`` in the object ``target`` (found by identity; depth is bounded)."""
    todo: list[tuple[Any, list[str]]] = [
        (doc, [] if len(docs) == 1 else [f"[{i}]"]) for i, doc in enumerate(docs)
    ]
    while todo:
        value, parts = todo.pop()
        if value is target:
            return _join(parts, _show_key(key))
        if isinstance(value, dict):
            todo.extend((v, [*parts, _show_key(k)]) for k, v in value.items() if isinstance(v, dict | list))
        elif isinstance(value, list):
            todo.extend((v, [*parts, f"[{i}]"]) for i, v in enumerate(value) if isinstance(v, dict | list))
    return _show_key(key)
