"""Sprig's numbers (``numeric.go``, ``functions.go``): spf13/cast conversions, int64
arithmetic that wraps as Go's does, shopspring/decimal float helpers, ranges.

Integer results never grow past 64 bits (``mul`` chains wrap); division and modulo
by zero fail with ``division by zero``; ``until``/``untilStep``/``seq`` size their
result before building it.
"""

from __future__ import annotations

import decimal
import math
import secrets

from secretsync.gotemplate import printf
from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs.spec import Table, register
from secretsync.gotemplate.gostrconv import INT_MAX, INT_MIN, atoi, parse_float, parse_int, wrap64
from secretsync.gotemplate.limits import Budget
from secretsync.gotemplate.values import Value

MATH: Table = {}


def float_to_int(f: float) -> int:
    """Go's ``int64(f)`` on amd64: truncation; NaN and out-of-range give the minimum int."""
    if math.isnan(f) or not -(2.0**63) <= f < 2.0**63:
        return INT_MIN
    return int(f)


def _trim_zero_decimal(s: str) -> str:
    found_zero = False
    for i in range(len(s), 0, -1):
        c = s[i - 1]
        if c == ".":
            if found_zero:
                return s[: i - 1]
        elif c == "0":
            found_zero = True
        else:
            return s
    return s


def to_int64(v: Value) -> int:
    """spf13/cast ``ToInt64`` with its error ignored (0), as Sprig does."""
    if v is None:
        return 0
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return float_to_int(v)
    if isinstance(v, str):
        n, err = parse_int(_trim_zero_decimal(v), 0)
        return 0 if err else n
    return 0


def to_float64(v: Value) -> float:
    """spf13/cast ``ToFloat64`` with its error ignored (0)."""
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        f, err = parse_float(v)
        return 0.0 if err else f
    return 0.0


@register(MATH, "atoi", "str")
def atoi_(budget: Budget, s: str) -> int:
    n, err = atoi(s)
    return 0 if err == "syntax" else n


@register(MATH, "int", "any")
def int_(budget: Budget, v: Value) -> int:
    return to_int64(v)


@register(MATH, "int64", "any")
def int64_(budget: Budget, v: Value) -> int:
    return to_int64(v)


@register(MATH, "float64", "any")
def float64_(budget: Budget, v: Value) -> float:
    return to_float64(v)


@register(MATH, "toDecimal", "any")
def to_decimal(budget: Budget, v: Value) -> int:
    n, err = parse_int(v if isinstance(v, str) else printf.sprint(budget, [v]), 8)
    return 0 if err else n


@register(MATH, "add1", "any")
def add1(budget: Budget, v: Value) -> int:
    return wrap64(to_int64(v) + 1)


@register(MATH, "add", "any", variadic=True)
def add(budget: Budget, *vals: Value) -> int:
    total = 0
    for v in vals:
        total = wrap64(total + to_int64(v))
    return total


@register(MATH, "sub", "any", "any")
def sub(budget: Budget, a: Value, b: Value) -> int:
    return wrap64(to_int64(a) - to_int64(b))


def go_div(a: int, b: int) -> int:
    if b == 0:
        raise Fault("division by zero")
    q = abs(a) // abs(b)
    return wrap64(q if (a < 0) == (b < 0) else -q)


def go_mod(a: int, b: int) -> int:
    if b == 0:
        raise Fault("division by zero")
    r = abs(a) % abs(b)
    return -r if a < 0 else r


@register(MATH, "div", "any", "any")
def div(budget: Budget, a: Value, b: Value) -> int:
    return go_div(to_int64(a), to_int64(b))


@register(MATH, "mod", "any", "any")
def mod(budget: Budget, a: Value, b: Value) -> int:
    return go_mod(to_int64(a), to_int64(b))


@register(MATH, "mul", "any", "any", variadic=True)
def mul(budget: Budget, a: Value, *vals: Value) -> int:
    total = to_int64(a)
    for v in vals:
        total = wrap64(total * to_int64(v))
    return total


@register(MATH, "max", "any", "any", variadic=True)
def max_(budget: Budget, a: Value, *vals: Value) -> int:
    return max([to_int64(a), *map(to_int64, vals)])


MATH["biggest"] = MATH["max"]


@register(MATH, "min", "any", "any", variadic=True)
def min_(budget: Budget, a: Value, *vals: Value) -> int:
    return min([to_int64(a), *map(to_int64, vals)])


def _go_max(a: float, b: float) -> float:
    if (math.isinf(a) and a > 0) or (math.isinf(b) and b > 0):
        return math.inf
    if math.isnan(a) or math.isnan(b):
        return math.nan
    if a == 0 and b == 0:
        return a if math.copysign(1, a) > 0 else b
    return a if a > b else b


def _go_min(a: float, b: float) -> float:
    if (math.isinf(a) and a < 0) or (math.isinf(b) and b < 0):
        return -math.inf
    if math.isnan(a) or math.isnan(b):
        return math.nan
    if a == 0 and b == 0:
        return a if math.copysign(1, a) < 0 else b
    return a if a < b else b


@register(MATH, "maxf", "any", "any", variadic=True)
def maxf(budget: Budget, a: Value, *vals: Value) -> float:
    out = to_float64(a)
    for v in vals:
        out = _go_max(out, to_float64(v))
    return out


@register(MATH, "minf", "any", "any", variadic=True)
def minf(budget: Budget, a: Value, *vals: Value) -> float:
    out = to_float64(a)
    for v in vals:
        out = _go_min(out, to_float64(v))
    return out


def _go_floor(x: float) -> float:
    return x if math.isinf(x) or math.isnan(x) else float(math.floor(x))


def _go_ceil(x: float) -> float:
    return x if math.isinf(x) or math.isnan(x) else float(math.ceil(x))


def go_fdiv(a: float, b: float) -> float:
    """IEEE division as Go does it: no exception on zero."""
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


@register(MATH, "floor", "any")
def floor(budget: Budget, a: Value) -> float:
    return _go_floor(to_float64(a))


@register(MATH, "ceil", "any")
def ceil(budget: Budget, a: Value) -> float:
    return _go_ceil(to_float64(a))


@register(MATH, "round", "any", "int", "float", variadic=True)
def round_(budget: Budget, a: Value, places: int, *opt: float) -> float:
    round_on = opt[0] if opt else 0.5
    val = to_float64(a)
    try:
        pw = math.pow(10.0, float(places))
    except OverflowError:
        pw = math.inf
    digit = pw * val
    frac = math.nan if math.isinf(digit) or math.isnan(digit) else math.modf(digit)[0]
    r = _go_ceil(digit) if frac >= round_on else _go_floor(digit)
    return go_fdiv(r, pw)


# --- shopspring/decimal helpers ---------------------------------------------------------------

# shopspring adds, subtracts and multiplies exactly. Every float64 is a multiple of 1e-340 below 2e308,
# so 700 digits hold any sum of them exactly (and any product of up to ~40); the bound keeps a product
# of thousands of arguments from growing without end.
_DEC = decimal.Context(prec=700, rounding=decimal.ROUND_HALF_UP, Emax=999999, Emin=-999999)
# DivRound(d, 16): the quotient rounded at 16 decimal places, which needs exponent + 17 digits
_DIV_PLACES = decimal.Decimal("1e-16")
_QUANTIZABLE = _DEC.prec - 17


def _dec(v: Value) -> decimal.Decimal:
    f = to_float64(v)
    if math.isnan(f) or math.isinf(f):
        raise Fault("function failed")
    return decimal.Decimal(repr(f))


def _dec_op(a: Value, rest: tuple[Value, ...], op: str) -> float:
    acc = _dec(a)
    for v in rest:
        d = _dec(v)
        if op == "+":
            acc = _DEC.add(acc, d)
        elif op == "-":
            acc = _DEC.subtract(acc, d)
        elif op == "*":
            acc = _DEC.multiply(acc, d)
        else:
            if d == 0:
                raise Fault("division by zero")
            acc = _DEC.divide(acc, d)
            # a quotient too large to hold 16 places (past 1e683) is +-Inf as a float64 anyway
            if acc.adjusted() <= _QUANTIZABLE:
                acc = acc.quantize(_DIV_PLACES, rounding=decimal.ROUND_HALF_UP, context=_DEC)
    return float(acc)


@register(MATH, "add1f", "any")
def add1f(budget: Budget, a: Value) -> float:
    return _dec_op(a, (1,), "+")


@register(MATH, "addf", "any", variadic=True)
def addf(budget: Budget, *vals: Value) -> float:
    return _dec_op(0.0, vals, "+")


@register(MATH, "subf", "any", "any", variadic=True)
def subf(budget: Budget, a: Value, *vals: Value) -> float:
    return _dec_op(a, vals, "-")


@register(MATH, "mulf", "any", "any", variadic=True)
def mulf(budget: Budget, a: Value, *vals: Value) -> float:
    return _dec_op(a, vals, "*")


@register(MATH, "divf", "any", "any", variadic=True)
def divf(budget: Budget, a: Value, *vals: Value) -> float:
    return _dec_op(a, vals, "/")


# --- ranges -----------------------------------------------------------------------------------


def until_step(budget: Budget, start: int, stop: int, step: int) -> list[Value]:
    """Sprig's ``untilStep``, sized before it is built."""
    if stop < start:
        if step >= 0:
            return []
        count = -((start - stop) // step)
    else:
        if step <= 0:
            return []
        count = -((start - stop) // step)
    budget.check_size(8 * count)
    budget.step(count)
    return list(range(start, stop, step))


@register(MATH, "until", "int")
def until(budget: Budget, count: int) -> list[Value]:
    return until_step(budget, 0, count, -1 if count < 0 else 1)


@register(MATH, "untilStep", "int", "int", "int")
def until_step_(budget: Budget, start: int, stop: int, step: int) -> list[Value]:
    return until_step(budget, start, stop, step)


@register(MATH, "seq", "int", variadic=True)
def seq(budget: Budget, *params: int) -> str:
    if len(params) == 1:
        start, end = 1, params[0]
        inc = -1 if end < start else 1
        nums = until_step(budget, start, wrap64(end + inc), inc)
    elif len(params) == 2:
        start, end = params
        inc = -1 if end < start else 1
        nums = until_step(budget, start, wrap64(end + inc), inc)
    elif len(params) == 3:
        start, step, end = params
        inc = 1
        if end < start:
            inc = -1
            if step > 0:
                return ""
        nums = until_step(budget, start, wrap64(end + inc), step)
    else:
        return ""
    budget.check_size(21 * len(nums))
    return " ".join(str(x) for x in nums)


@register(MATH, "randInt", "int", "int")
def rand_int(budget: Budget, lo: int, hi: int) -> int:
    if hi - lo <= 0:
        raise Fault("function failed")
    return lo + secrets.randbelow(hi - lo)


__all__ = ["INT_MAX", "MATH", "float_to_int", "to_float64", "to_int64"]
