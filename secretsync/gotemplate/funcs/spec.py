"""How a template function is declared: its Go parameter types and its Python body.

Why declared types: Go checks every argument against the function's signature
(``repeat`` wants an ``int`` and a ``string``) and template authors rely on those
errors. Parameter type codes:

``any``   interface{}: anything, nil included
``str``   string
``int``   int (a Go integer; not a bool, not a float)
``float`` float64
``bool``  bool
``map``   map[string]interface{} (nil allowed)
``time``  time.Time
``lstr``  a named string type: only a string constant written in the template converts
``u32``   uint32: only a non-negative integer constant written in the template converts

Bodies take the render :class:`Budget` first, to charge steps and check sizes,
and raise ``Fault(kind)`` (no detail) on failure; any other exception becomes
``function failed`` and its text is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from secretsync.gotemplate.limits import Budget

Body = Callable[..., Any]
F = TypeVar("F", bound=Body)

NILABLE = frozenset({"any", "map"})


@dataclass(frozen=True)
class FuncSpec:
    """A function as the interpreter sees it."""

    name: str
    fn: Body
    params: tuple[str, ...]
    variadic: bool = False  # the last parameter repeats (``...T``)
    raw: bool = False  # a caller's plain callable: no budget argument

    def call(self, budget: Budget, args: list[Any]) -> Any:
        if self.raw:
            return self.fn(*args)
        return self.fn(budget, *args)


Table = dict[str, FuncSpec]


def register(table: Table, name: str, *params: str, variadic: bool = False) -> Callable[[F], F]:
    """Decorator: add ``fn`` to ``table`` under ``name`` with Go parameter types ``params``."""

    def deco(fn: F) -> F:
        table[name] = FuncSpec(name, fn, tuple(params), variadic)
        return fn

    return deco


def alias(table: Table, name: str, target: str) -> None:
    spec = table[target]
    table[name] = FuncSpec(name, spec.fn, spec.params, spec.variadic, spec.raw)


def wrap_callable(name: str, fn: Callable[..., Any] | FuncSpec) -> FuncSpec:
    """A caller-supplied Python callable: variadic ``any``, no budget argument."""
    if isinstance(fn, FuncSpec):
        return fn
    return FuncSpec(name, fn, ("any",), variadic=True, raw=True)
