"""Sprig's lists and dicts (``list.go``, ``dict.go``), mergo's merge rules included.

Sprig's non-``must`` list functions panic on a non-list; a panic is a template
error in Go, so both spellings fail the same way here. Map iteration is random in
Go (``keys``, ``values``); ours is sorted, one of the orders Go may give. Every
built list or dict is measured (:func:`checked`) before it is returned.
"""

from __future__ import annotations

from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs.spec import Table, alias, register
from secretsync.gotemplate.funcs.sprig_strings import strval
from secretsync.gotemplate.gostrconv import to_bytes
from secretsync.gotemplate.limits import Budget
from secretsync.gotemplate.values import (
    GoStruct,
    Value,
    checked,
    count_nodes,
    deep_copy,
    deep_equal,
    empty,
    size_of,
)

LISTS: Table = {}


def _list(v: Value) -> list[Value]:
    if not isinstance(v, list):
        raise Fault("wrong type")
    return v


def _keys(d: dict[str, Value]) -> list[str]:
    return sorted(d) if all(k.isascii() for k in d) else sorted(d, key=to_bytes)


@register(LISTS, "list", "any", variadic=True)
def list_(budget: Budget, *items: Value) -> list[Value]:
    return checked(budget, list(items))  # type: ignore[no-any-return]


alias(LISTS, "tuple", "list")


@register(LISTS, "append", "any", "any")
def push(budget: Budget, lst: Value, v: Value) -> list[Value]:
    return checked(budget, [*_list(lst), v])  # type: ignore[no-any-return]


@register(LISTS, "prepend", "any", "any")
def prepend(budget: Budget, lst: Value, v: Value) -> list[Value]:
    return checked(budget, [v, *_list(lst)])  # type: ignore[no-any-return]


@register(LISTS, "first", "any")
def first(budget: Budget, lst: Value) -> Value:
    items = _list(lst)
    return items[0] if items else None


@register(LISTS, "last", "any")
def last(budget: Budget, lst: Value) -> Value:
    items = _list(lst)
    return items[-1] if items else None


@register(LISTS, "rest", "any")
def rest(budget: Budget, lst: Value) -> list[Value]:
    return checked(budget, _list(lst)[1:])  # type: ignore[no-any-return]


@register(LISTS, "initial", "any")
def initial(budget: Budget, lst: Value) -> list[Value]:
    return checked(budget, _list(lst)[:-1])  # type: ignore[no-any-return]


@register(LISTS, "reverse", "any")
def reverse(budget: Budget, lst: Value) -> list[Value]:
    return checked(budget, _list(lst)[::-1])  # type: ignore[no-any-return]


def _in_list(budget: Budget, haystack: list[Value], needle: Value) -> bool:
    depth = budget.limits.max_depth
    for h in haystack:
        budget.step()
        if deep_equal(needle, h, 0, depth):
            return True
    return False


@register(LISTS, "uniq", "any")
def uniq(budget: Budget, lst: Value) -> list[Value]:
    out: list[Value] = []
    for item in _list(lst):
        if not _in_list(budget, out, item):
            out.append(item)
    return out


@register(LISTS, "without", "any", "any", variadic=True)
def without(budget: Budget, lst: Value, *omit: Value) -> list[Value]:
    return [item for item in _list(lst) if not _in_list(budget, list(omit), item)]


@register(LISTS, "has", "any", "any")
def has(budget: Budget, needle: Value, haystack: Value) -> bool:
    if haystack is None:
        return False
    return _in_list(budget, _list(haystack), needle)


@register(LISTS, "compact", "any")
def compact(budget: Budget, lst: Value) -> list[Value]:
    items = _list(lst)
    budget.step(len(items))
    return [item for item in items if not empty(item)]


@register(LISTS, "concat", "any", variadic=True)
def concat(budget: Budget, *lists: Value) -> list[Value]:
    out: list[Value] = []
    for lst in lists:
        items = _list(lst)
        budget.step(len(items))
        budget.check_size(8 * (len(out) + len(items)))
        out.extend(items)
    return checked(budget, out)  # type: ignore[no-any-return]


@register(LISTS, "chunk", "int", "any")
def chunk(budget: Budget, size: int, lst: Value) -> list[Value]:
    items = _list(lst)
    if size <= 0:
        raise Fault("function failed")
    budget.step(len(items))
    return [items[i : i + size] for i in range(0, len(items), size)]


for _name in (
    "append",
    "prepend",
    "first",
    "last",
    "rest",
    "initial",
    "reverse",
    "uniq",
    "without",
    "has",
    "compact",
    "chunk",
):
    alias(LISTS, "must" + _name[0].upper() + _name[1:], _name)
alias(LISTS, "push", "append")
alias(LISTS, "mustPush", "append")


# --- dicts --------------------------------------------------------------------------------


@register(LISTS, "dict", "any", variadic=True)
def dict_(budget: Budget, *kv: Value) -> dict[str, Value]:
    out: dict[str, Value] = {}
    for i in range(0, len(kv), 2):
        budget.step()
        key = strval(budget, kv[i])
        out[key] = kv[i + 1] if i + 1 < len(kv) else ""
    return checked(budget, out)  # type: ignore[no-any-return]


def _map(d: Value) -> dict[str, Value]:
    if d is None:
        return {}
    if not isinstance(d, dict):
        raise Fault("wrong type")
    return d


@register(LISTS, "get", "map", "str")
def get(budget: Budget, d: Value, key: str) -> Value:
    m = _map(d)
    return m.get(key, "")


@register(LISTS, "set", "map", "str", "any")
def set_(budget: Budget, d: Value, key: str, value: Value) -> Value:
    if d is None:
        raise Fault("function failed")  # assignment to entry in nil map
    m = _map(d)
    m[key] = value
    checked(budget, m)
    return m


@register(LISTS, "unset", "map", "str")
def unset(budget: Budget, d: Value, key: str) -> Value:
    m = _map(d)
    m.pop(key, None)
    return d


@register(LISTS, "hasKey", "map", "str")
def has_key(budget: Budget, d: Value, key: str) -> bool:
    return key in _map(d)


@register(LISTS, "pluck", "str", "map", variadic=True)
def pluck(budget: Budget, key: str, *dicts: Value) -> list[Value]:
    budget.step(len(dicts))
    return [m[key] for m in map(_map, dicts) if key in m]


@register(LISTS, "keys", "map", variadic=True)
def keys(budget: Budget, *dicts: Value) -> list[Value]:
    out: list[Value] = []
    for d in dicts:
        m = _map(d)
        budget.step(len(m))
        out.extend(_keys(m))
    return checked(budget, out)  # type: ignore[no-any-return]


@register(LISTS, "values", "map")
def values(budget: Budget, d: Value) -> list[Value]:
    m = _map(d)
    budget.step(len(m))
    return [m[k] for k in _keys(m)]


@register(LISTS, "pick", "map", "str", variadic=True)
def pick(budget: Budget, d: Value, *names: str) -> dict[str, Value]:
    m = _map(d)
    budget.step(len(names))
    return {k: m[k] for k in names if k in m}


@register(LISTS, "omit", "map", "str", variadic=True)
def omit(budget: Budget, d: Value, *names: str) -> dict[str, Value]:
    m = _map(d)
    budget.step(len(m) + len(names))
    drop = set(names)
    return {k: v for k, v in m.items() if k not in drop}


def _merge_into(
    budget: Budget, dst: dict[str, Value], src: dict[str, Value], overwrite: bool, depth: int
) -> None:
    """mergo's ``Merge`` (``WithOverride`` when ``overwrite``) of map[string]interface{}."""
    if depth > budget.limits.max_depth:
        raise Fault("depth limit")
    for key, sv in list(src.items()):
        budget.step()
        present = key in dst
        dv = dst.get(key)
        if sv is None:
            if overwrite:
                dst[key] = None
            continue
        if isinstance(sv, dict):
            if present and isinstance(dv, dict):
                _merge_into(budget, dv, sv, overwrite, depth + 1)
                if not empty(dv):
                    continue
        elif isinstance(sv, list) and present and not empty(dv):
            if overwrite:
                dst[key] = sv
            continue
        if overwrite or not present or empty(dv):
            dst[key] = sv


def _merge(budget: Budget, dst: Value, srcs: tuple[Value, ...], overwrite: bool) -> Value:
    target = {} if dst is None else _map(dst)  # a nil map: mergo makes one, as Go's template passes it
    for src in srcs:
        _merge_into(budget, target, _map(src), overwrite, 0)
    return checked(budget, target)


@register(LISTS, "merge", "map", "map", variadic=True)
def merge(budget: Budget, dst: Value, *srcs: Value) -> Value:
    return _merge(budget, dst, srcs, False)


@register(LISTS, "mergeOverwrite", "map", "map", variadic=True)
def merge_overwrite(budget: Budget, dst: Value, *srcs: Value) -> Value:
    return _merge(budget, dst, srcs, True)


alias(LISTS, "mustMerge", "merge")
alias(LISTS, "mustMergeOverwrite", "mergeOverwrite")


@register(LISTS, "deepCopy", "any")
def deep_copy_(budget: Budget, v: Value) -> Value:
    if v is None:
        raise Fault("function failed")  # copystructure panics on nil
    depth = budget.limits.max_depth
    budget.step(count_nodes(v, 0, depth))
    budget.account(size_of(v, 0, depth))
    return deep_copy(v, 0, depth)


alias(LISTS, "mustDeepCopy", "deepCopy")


@register(LISTS, "dig", "any", "any", "any", variadic=True)
def dig(budget: Budget, *ps: Value) -> Value:
    d = ps[-1]
    default = ps[-2]
    keys_ = ps[:-2]
    if not isinstance(d, dict) or isinstance(d, GoStruct) or not all(isinstance(k, str) for k in keys_):
        raise Fault("wrong type")
    cur: Value = d
    for i, k in enumerate(keys_):
        budget.step()
        if not isinstance(cur, dict):
            raise Fault("wrong type")
        if k not in cur:
            return default
        cur = cur[k]
        if i == len(keys_) - 1:
            return cur
    return cur
