"""Go's predefined template functions (``text/template/funcs.go``); ``call`` is refused.

``and``/``or`` short-circuit in the interpreter; the bodies here only serve a
caller who passes them around. ``slice`` is Go's builtin (strings and lists).
"""

from __future__ import annotations

import urllib.parse

from secretsync.gotemplate import printf
from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.execute import register_and_or
from secretsync.gotemplate.funcs.spec import Table, register
from secretsync.gotemplate.gostrconv import byte_len, from_bytes, to_bytes
from secretsync.gotemplate.limits import Budget
from secretsync.gotemplate.values import GoStruct, StrMap, Value, eq, lt, truth

BUILTINS: Table = {}


@register(BUILTINS, "and", "any", "any", variadic=True)
def and_(budget: Budget, *args: Value) -> Value:
    for a in args:
        if not truth(a):
            return a
    return args[-1]


@register(BUILTINS, "or", "any", "any", variadic=True)
def or_(budget: Budget, *args: Value) -> Value:
    for a in args:
        if truth(a):
            return a
    return args[-1]


register_and_or(and_, or_)


@register(BUILTINS, "not", "any")
def not_(budget: Budget, a: Value) -> bool:
    return not truth(a)


@register(BUILTINS, "len", "any")
def len_(budget: Budget, item: Value) -> int:
    if isinstance(item, str):
        if not item.isascii():
            budget.bytes_step(len(item))
        return byte_len(item)
    if isinstance(item, (list, dict)):
        return len(item)
    raise Fault("wrong type")


def _index_arg(i: Value, cap: int) -> int:
    if not isinstance(i, int) or isinstance(i, bool):
        raise Fault("wrong type")
    if i < 0 or i > cap:
        raise Fault("index out of range")
    return i


@register(BUILTINS, "index", "any", "any", variadic=True)
def index(budget: Budget, item: Value, *indexes: Value) -> Value:
    if item is None:
        raise Fault("wrong type")
    for i in indexes:
        budget.step()
        if isinstance(item, str):
            b = to_bytes(item) if not item.isascii() else None
            x = _index_arg(i, len(b) if b is not None else len(item))
            if x >= (len(b) if b is not None else len(item)):
                raise Fault("index out of range")
            item = b[x] if b is not None else ord(item[x])
        elif isinstance(item, list):
            x = _index_arg(i, len(item))
            if x >= len(item):
                raise Fault("index out of range")
            item = item[x]
        elif isinstance(item, dict) and not isinstance(item, GoStruct):
            if not isinstance(i, str):
                raise Fault("wrong type")
            item = item[i] if i in item else "" if isinstance(item, StrMap) else None
        else:
            raise Fault("wrong type")
    return item


@register(BUILTINS, "slice", "any", "any", variadic=True)
def slice_(budget: Budget, item: Value, *indexes: Value) -> Value:
    if item is None:
        raise Fault("wrong type")
    if len(indexes) > 3:
        raise Fault("wrong number of args")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise Fault("wrong type")
        data = to_bytes(item)
        cap = len(data)
    elif isinstance(item, list):
        cap = len(item)
    else:
        raise Fault("wrong type")
    idx = [0, cap]
    for k, i in enumerate(indexes):
        x = _index_arg(i, cap)
        if k < 2:
            idx[k] = x
        elif x < idx[1]:
            raise Fault("index out of range")
    if idx[0] > idx[1]:
        raise Fault("index out of range")
    budget.step(1 + (idx[1] - idx[0]) // 64)
    if isinstance(item, str):
        return from_bytes(data[idx[0] : idx[1]])
    return item[idx[0] : idx[1]]


@register(BUILTINS, "print", "any", variadic=True)
def print_(budget: Budget, *args: Value) -> str:
    return printf.sprint(budget, args)


@register(BUILTINS, "println", "any", variadic=True)
def println(budget: Budget, *args: Value) -> str:
    return printf.sprintln(budget, args)


@register(BUILTINS, "printf", "str", "any", variadic=True)
def printf_(budget: Budget, fmt: str, *args: Value) -> str:
    return printf.sprintf(budget, fmt, args)


def _eval_args(budget: Budget, args: tuple[Value, ...]) -> str:
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return printf.sprint(budget, ["<no value>" if a is None else a for a in args])


@register(BUILTINS, "html", "any", variadic=True)
def html(budget: Budget, *args: Value) -> str:
    s = _eval_args(budget, args)
    budget.bytes_step(len(s))
    if not any(c in s for c in "'\"&<>\0"):
        return s
    budget.check_size(len(s) * 5)
    table = {"\0": "\ufffd", '"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;"}
    return "".join(table.get(c, c) for c in s)


_JS = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026", "=": "\\u003D"}


@register(BUILTINS, "js", "any", variadic=True)
def js(budget: Budget, *args: Value) -> str:
    s = _eval_args(budget, args)
    budget.bytes_step(len(s))
    out = []
    for c in s:
        r = ord(c)
        if c in _JS:
            out.append(_JS[c])
        elif r < 0x20:
            out.append(f"\\u00{r:02X}")
        elif r < 0x80 or 0xDC80 <= r <= 0xDCFF or c.isprintable():
            out.append(c)
        else:
            out.append(f"\\u{r:04X}")
    result = "".join(out)
    budget.check_size(len(result))  # at most 6 times the input: bounded before we got here
    return result


@register(BUILTINS, "urlquery", "any", variadic=True)
def urlquery(budget: Budget, *args: Value) -> str:
    s = _eval_args(budget, args)
    budget.bytes_step(len(s))
    result = urllib.parse.quote_plus(to_bytes(s), safe="")
    budget.check_size(len(result))  # at most 3 times the input
    return result


@register(BUILTINS, "eq", "any", "any", variadic=True)
def eq_(budget: Budget, a: Value, *others: Value) -> bool:
    return eq(a, *others)


@register(BUILTINS, "ne", "any", "any")
def ne(budget: Budget, a: Value, b: Value) -> bool:
    return not eq(a, b)


@register(BUILTINS, "lt", "any", "any")
def lt_(budget: Budget, a: Value, b: Value) -> bool:
    return lt(a, b)


@register(BUILTINS, "le", "any", "any")
def le(budget: Budget, a: Value, b: Value) -> bool:
    return lt(a, b) or eq(a, b)


@register(BUILTINS, "gt", "any", "any")
def gt(budget: Budget, a: Value, b: Value) -> bool:
    return not (lt(a, b) or eq(a, b))


@register(BUILTINS, "ge", "any", "any")
def ge(budget: Budget, a: Value, b: Value) -> bool:
    return not lt(a, b)
