"""A small CEL evaluator: exactly the subset of CEL that our CRDs' ``x-kubernetes-validations`` use.

Shared by tests/test_crds.py (which checks that the rules and secretsync.model agree) and the
Kubernetes API emulator (tests/support/kube_emulator.py, which enforces the rules of the CRDs it
serves the way kube-apiserver does). A rule outside the subset fails to compile with
:class:`CelSyntaxError`, so nothing is ever silently skipped.

Supported: int, string, ``true``/``false``/``null`` literals, lists, ``self`` and ``oldSelf``
(transition rules) with field selection, ``has()``, ``size()`` (function and method), ``!``,
``+``, ``-``, comparisons, ``in``, ``&&``, ``||`` and ``?:``. Selecting an absent field is an
error, as in Kubernetes (``no such key: x``), so a rule that forgets a ``has()`` guard fails here
the way it would in a cluster.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["Cel", "CelError", "CelSyntaxError", "cel_failures"]


class CelError(Exception):
    """What the API server would report as an evaluation error (the rule then fails)."""


class CelSyntaxError(ValueError):
    """The rule is not in the supported subset (or not CEL at all)."""


_TOKEN = re.compile(
    r"\s*(?:(?P<int>\d+)|'(?P<sq>[^']*)'|\"(?P<dq>[^\"]*)\"|(?P<id>[A-Za-z_]\w*)"
    r"|(?P<op>&&|\|\||==|!=|<=|>=|[!?:+\-<>()\[\],.]))"
)
Expr = Callable[[dict[str, Any]], Any]
#: The variables a rule may name: the value at the rule's node and, on update, its old value.
_VARIABLES = ("self", "oldSelf")


class Cel:
    """One compiled rule; ``Cel(rule)(value)`` evaluates it with ``self`` bound to ``value``.

    ``uses_old_self`` tells a transition rule (one that names ``oldSelf``): the API server
    evaluates those only on update, with ``oldSelf`` bound to the old value.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens: list[tuple[str, Any]] = []
        pos, source = 0, source.strip()
        while pos < len(source):
            match = _TOKEN.match(source, pos)
            if not match:
                raise CelSyntaxError(f"cannot tokenize {source[pos:]!r}")
            kind = match.lastgroup
            assert kind is not None
            value: Any = match.group(kind)
            if kind in ("sq", "dq"):
                kind = "str"
            elif kind == "int":
                value = int(value)
            self.tokens.append((kind, value))
            pos = match.end()
        self.uses_old_self = ("id", "oldSelf") in self.tokens
        self.pos = 0
        self.expr = self._ternary()
        if self.pos != len(self.tokens):
            raise CelSyntaxError(f"trailing tokens in {source!r}")

    def __call__(self, value: Any, old_self: Any = None) -> Any:
        env = {"self": value}
        if self.uses_old_self:
            env["oldSelf"] = old_self
        return self.expr(env)

    def _fail(self, problem: str) -> CelSyntaxError:
        return CelSyntaxError(f"{problem} at token {self.pos} of {self.source!r}")

    def _peek(self) -> tuple[str, Any]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", None)

    def _take(self, *ops: str) -> str | None:
        kind, value = self._peek()
        if (kind == "op" or (kind == "id" and value == "in")) and value in ops:
            self.pos += 1
            return str(value)
        return None

    def _expect(self, op: str) -> None:
        if not self._take(op):
            raise self._fail(f"expected {op!r}")

    def _ternary(self) -> Expr:
        cond = self._or()
        if not self._take("?"):
            return cond
        yes = self._ternary()
        self._expect(":")
        no = self._ternary()
        return lambda env: yes(env) if _bool(cond(env)) else no(env)

    def _or(self) -> Expr:
        left = self._and()
        while self._take("||"):
            left = (lambda a, b: lambda env: _bool(a(env)) or _bool(b(env)))(left, self._and())
        return left

    def _and(self) -> Expr:
        left = self._rel()
        while self._take("&&"):
            left = (lambda a, b: lambda env: _bool(a(env)) and _bool(b(env)))(left, self._rel())
        return left

    def _rel(self) -> Expr:
        left = self._add()
        op = self._take("==", "!=", "<", "<=", ">", ">=", "in")
        if op is None:
            return left
        right = self._add()
        ops: dict[str, Callable[[Any, Any], bool]] = {
            "==": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
            "in": lambda a, b: a in b,
        }
        fn = ops[op]

        def compare(env: dict[str, Any]) -> bool:
            try:
                return fn(left(env), right(env))
            except TypeError as exc:  # e.g. 'a' < 1: CEL has no such overload
                raise CelError(f"no such overload: {exc}") from None

        return compare

    def _add(self) -> Expr:
        left = self._unary()
        while op := self._take("+", "-"):
            right = self._unary()
            left = (
                (lambda a, b: lambda env: _arith(a(env), b(env), "+"))(left, right)
                if op == "+"
                else (lambda a, b: lambda env: _arith(a(env), b(env), "-"))(left, right)
            )
        return left

    def _unary(self) -> Expr:
        if self._take("!"):
            inner = self._unary()
            return lambda env: not _bool(inner(env))
        return self._postfix(self._primary())

    def _postfix(self, expr: Expr) -> Expr:
        while self._take("."):
            kind, name = self._peek()
            if kind != "id":
                raise self._fail("expected a field name")
            self.pos += 1
            if self._take("("):
                self._expect(")")
                if name != "size":
                    raise self._fail(f"unsupported method {name}")
                expr = (lambda e: lambda env: _size(e(env)))(expr)
            else:
                expr = (lambda e, n: lambda env: _select(e(env), n))(expr, name)
        return expr

    def _primary(self) -> Expr:
        kind, value = self._peek()
        self.pos += 1
        if kind in ("int", "str"):
            return lambda env: value
        if kind == "op" and value == "(":
            inner = self._ternary()
            self._expect(")")
            return inner
        if kind == "op" and value == "[":
            items: list[Expr] = []
            while not self._take("]"):
                items.append(self._ternary())
                self._take(",")
            return lambda env: [item(env) for item in items]
        if kind != "id":
            raise self._fail(f"unexpected token {value!r}")
        if value in ("true", "false"):
            return lambda env: value == "true"
        if value == "null":
            return lambda env: None
        if value == "has":
            self._expect("(")
            target = self._primary_no_select()
            self._expect(")")
            return target
        if value == "size":
            self._expect("(")
            inner = self._ternary()
            self._expect(")")
            return lambda env: _size(inner(env))
        if value not in _VARIABLES:
            raise self._fail(f"undeclared reference to {value!r}")
        return lambda env: env[value]

    def _primary_no_select(self) -> Expr:
        """``has(a.b.c)``: evaluate ``a.b``, then test for ``c`` without selecting it."""
        kind, value = self._peek()
        if kind != "id" or value not in _VARIABLES:
            raise self._fail("has() needs a field selection")
        self.pos += 1
        expr: Expr = lambda env: env[value]  # noqa: E731
        while self._take("."):
            _, name = self._peek()
            self.pos += 1
            if self._peek() == ("op", "."):
                expr = (lambda e, n: lambda env: _select(e(env), n))(expr, name)
            else:
                return (lambda e, n: lambda env: _has(e(env), n))(expr, name)
        raise self._fail("has() needs a field selection")


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise CelError(f"no such overload: {value!r} is not a bool")
    return value


def _arith(left: Any, right: Any, op: str) -> Any:
    try:
        return left + right if op == "+" else left - right
    except TypeError as exc:
        raise CelError(f"no such overload: {exc}") from None


def _select(value: Any, name: str) -> Any:
    if not isinstance(value, dict) or value.get(name) is None:
        raise CelError(f"no such key: {name}")
    return value[name]


def _has(value: Any, name: str) -> bool:
    if not isinstance(value, dict):
        raise CelError(f"has() on a non-object: {name}")
    return value.get(name) is not None


def _size(value: Any) -> int:
    if not isinstance(value, (list, dict, str)):
        raise CelError("size() of a non-collection")
    return len(value)


def cel_failures(schema: dict[str, Any], value: Any, path: str = "") -> list[tuple[str, str]]:
    """Every (path, message) whose ``x-kubernetes-validations`` rule is false or errors."""
    failures: list[tuple[str, str]] = []
    for rule in schema.get("x-kubernetes-validations") or []:
        try:
            ok = Cel(rule["rule"])(value)
        except CelError:
            ok = False
        if ok is not True:
            # fieldPath (refusal rules): the API server reports the field, not the object
            failures.append((path + rule.get("fieldPath", ""), rule["message"]))
    if isinstance(value, dict):
        for key, child in value.items():
            sub = (schema.get("properties") or {}).get(key) or schema.get("additionalProperties")
            if isinstance(sub, dict) and child is not None:
                failures.extend(cel_failures(sub, child, f"{path}.{key}" if path else key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, child in enumerate(value):
            failures.extend(cel_failures(schema["items"], child, f"{path}[{index}]"))
    return failures
