"""Go value semantics over plain Python values.

Why a closed set of types: the interpreter never touches attributes or methods of
Python objects; it only knows these shapes, each standing for a Go type:

========================  ==============================================
Python                    Go
========================  ==============================================
``None``                  nil / the invalid value (``<no value>``)
``bool``                  bool
``int`` (int64 range)     int, int64 (not told apart)
``float``                 float64
``str``                   string (bytes = UTF-8 + surrogateescape)
``list``                  []interface{} (and []string, []int)
``dict``                  map[string]interface{}
:class:`StrMap`           map[string]string (the data of a Secret)
:class:`GoTime`           time.Time
:class:`GoStruct`         a struct a function returned (Sprig's
                          ``certificate``, semver's ``*Version``)
========================  ==============================================
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.gostrconv import INT_MAX, INT_MIN, to_bytes


class StrMap(dict[str, Any]):
    """A Go ``map[string]string``: a missing key reads as ``""`` where Go gives the zero value."""


class GoStruct(dict[str, Any]):
    """A Go struct (or pointer to one) that a function returned, read-only to templates.

    Its entries are the struct's exported fields and niladic methods, by name (``.Cert``,
    ``.Major``): a template reads them as fields, as Go's ``.Name`` does. ``fields`` are
    the ones ``%v`` prints, in order (``{a b}``); a struct with a ``String`` method has
    ``stringer`` set and prints as that. It is not a map: ``index``, ``range``, ``hasKey``
    and a missing field are errors, whatever the missing-key option.
    """

    __slots__ = ("fields", "go_kind", "go_type", "stringer")

    def __init__(
        self,
        go_type: str,
        items: dict[str, Any],
        fields: tuple[str, ...] = (),
        stringer: str | None = None,
        go_kind: str = "struct",
    ) -> None:
        super().__init__(items)
        self.go_type = go_type
        self.fields = fields
        self.stringer = stringer
        self.go_kind = go_kind


@dataclass(frozen=True)
class GoTime:
    """A Go ``time.Time``: an aware datetime plus nanoseconds beyond its microseconds."""

    dt: _dt.datetime
    nanos: int = 0  # 0..999, added to dt's microseconds

    def unix(self) -> int:
        return int(self.dt.timestamp() // 1)


Value = Any


def truth(v: Value) -> bool:
    """Go's ``template.IsTrue``: zero values are false, structs (times) are true."""
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    if isinstance(v, (str, list, dict)):
        return len(v) > 0
    return True


def type_name(v: Value) -> str:
    """The Go type name printed in fmt's ``%!verb(type=value)`` markers."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "[]interface {}"
    if isinstance(v, StrMap):
        return "map[string]string"
    if isinstance(v, GoStruct):
        return v.go_type
    if isinstance(v, dict):
        return "map[string]interface {}"
    if isinstance(v, GoTime):
        return "time.Time"
    return "interface {}"


def kind_name(v: Value) -> str:
    """Go's ``reflect.Value.Kind().String()`` for our shapes (nil is ``invalid``)."""
    if v is None:
        return "invalid"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "slice"
    if isinstance(v, GoStruct):
        return v.go_kind
    if isinstance(v, dict):
        return "map"
    if isinstance(v, GoTime):
        return "struct"
    return "interface"


def size_of(v: Value, depth: int = 0, max_depth: int = 100) -> int:
    """Approximate bytes held by a value (strings by length, 8 per slot); bounded depth."""
    if depth > max_depth:
        raise Fault("depth limit")
    if isinstance(v, str):
        return len(v) + 8
    if isinstance(v, list):
        return 8 + sum(size_of(e, depth + 1, max_depth) for e in v)
    if isinstance(v, dict):
        return 8 + sum(len(k) + 8 + size_of(e, depth + 1, max_depth) for k, e in v.items())
    return 8


def count_nodes(v: Value, depth: int = 0, max_depth: int = 100) -> int:
    """How many values a walk over ``v`` visits (for step charging); bounded depth."""
    if depth > max_depth:
        raise Fault("depth limit")
    if isinstance(v, list):
        return 1 + sum(count_nodes(e, depth + 1, max_depth) for e in v)
    if isinstance(v, dict):
        return 1 + sum(count_nodes(e, depth + 1, max_depth) for e in v.values())
    return 1


# --- comparisons (Go's eq, lt and friends) --------------------------------------------


def _basic_kind(v: Value) -> str | None:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    return None


def _str_lt(a: str, b: str) -> bool:
    if a.isascii() and b.isascii():
        return a < b
    return to_bytes(a) < to_bytes(b)


def eq(a: Value, *others: Value) -> bool:
    """Go's ``eq``: true if ``a`` equals any of ``others``; mixed basic kinds are an error."""
    if not others:
        raise Fault("wrong number of args")
    k1 = _basic_kind(a)
    for b in others:
        k2 = _basic_kind(b)
        if k1 != k2:
            if a is not None and b is not None:
                raise Fault("incompatible types")
            continue
        if k1 is not None:
            if a == b:
                return True
            continue
        # Neither is a basic kind: nil compares with anything, otherwise same comparable type.
        if a is None or b is None:
            if a is None and b is None:
                return True
            continue
        if isinstance(a, GoTime) and isinstance(b, GoTime):
            if a == b:
                return True
            continue
        raise Fault("incompatible types")
    return False


def lt(a: Value, b: Value) -> bool:
    """Go's ``lt``: both basic, same kind, ordered (bools are not)."""
    k1 = _basic_kind(a)
    k2 = _basic_kind(b)
    if k1 is None or k2 is None or k1 != k2 or k1 == "bool":
        raise Fault("incompatible types")
    if k1 == "string":
        return _str_lt(a, b)
    return bool(a < b)


def deep_equal(a: Value, b: Value, depth: int = 0, max_depth: int = 100) -> bool:
    """Go's ``reflect.DeepEqual`` on our shapes (int and float never equal)."""
    if depth > max_depth:
        raise Fault("depth limit")
    if type(a) is not type(b):
        if (
            isinstance(a, dict)
            and isinstance(b, dict)
            and not (isinstance(a, StrMap) ^ isinstance(b, StrMap))
            and not (isinstance(a, GoStruct) or isinstance(b, GoStruct))
        ):
            pass
        else:
            return False
    if isinstance(a, GoStruct) and isinstance(b, GoStruct) and a.go_type != b.go_type:
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(
            deep_equal(x, y, depth + 1, max_depth) for x, y in zip(a, b, strict=True)
        )
    if isinstance(a, dict):
        if len(a) != len(b):
            return False
        return all(k in b and deep_equal(x, b[k], depth + 1, max_depth) for k, x in a.items())
    if isinstance(a, float) and math.isnan(a):
        return False
    return bool(a == b)


# --- importing caller data --------------------------------------------------------------


def import_data(data: Any, max_depth: int) -> Value:
    """Copy caller data into our shapes; a dict of only strings becomes a :class:`StrMap`.

    A copy, so that ``set``/``unset`` in a template never mutate the caller's objects;
    anything else (objects, sets, big ints) is refused: no attribute access, ever.
    """
    return _import(data, 0, max_depth)


def _import(v: Any, depth: int, max_depth: int) -> Value:
    if depth > max_depth:
        raise Fault("depth limit")
    if v is None or isinstance(v, (bool, str, float, GoTime)):
        return v
    if isinstance(v, int):
        if not INT_MIN <= v <= INT_MAX:
            raise Fault("wrong type")
        return int(v)
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", "surrogateescape")
    if isinstance(v, Mapping):
        items = {}
        for k, e in v.items():
            if not isinstance(k, str):
                raise Fault("wrong type")
            items[k] = _import(e, depth + 1, max_depth)
        if isinstance(v, StrMap) or (items and all(isinstance(e, str) for e in items.values())):
            return StrMap(items)
        return items
    if isinstance(v, (list, tuple)):
        return [_import(e, depth + 1, max_depth) for e in v]
    raise Fault("wrong type")


def empty(v: Value) -> bool:
    """Sprig's ``empty``: the zero value of its type (times are never empty)."""
    return not truth(v)


def checked(budget: Any, v: Value) -> Value:
    """Refuse a list or dict built by a function past the value limit (its own slots).

    Elements were counted when they were made (``Budget.account``), so only the new
    slots are measured here; a copy of ``n`` slots costs ``n / 16`` steps.
    """
    if isinstance(v, (list, dict)):
        slots = len(v)
        budget.step(1 + (slots >> 4))
        budget.check_size(8 + 8 * slots + (sum(len(k) for k in v) if isinstance(v, dict) else 0))
    return v


def deep_copy(v: Value, depth: int = 0, max_depth: int = 100) -> Value:
    if depth > max_depth:
        raise Fault("depth limit")
    if isinstance(v, list):
        return [deep_copy(e, depth + 1, max_depth) for e in v]
    if isinstance(v, GoStruct):
        return v  # read-only to templates: sharing it is a copy
    if isinstance(v, dict):
        items = {k: deep_copy(e, depth + 1, max_depth) for k, e in v.items()}
        return StrMap(items) if isinstance(v, StrMap) else items
    return v
