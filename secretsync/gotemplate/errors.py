"""The one exception that leaves this package, and the internal fault it is built from.

Why a fixed vocabulary: templates are written by tenants and rendered over secret
values, and error messages travel to ``kubectl describe``, events and logs. A message
built from a runtime value, a function argument or a Python exception's text could
carry a secret out. So a :class:`TemplateError` says only *where* (template name,
line, column), *what* (one of :data:`KINDS`) and, optionally, *which* (a token as
written in the template source: a function, field, variable or template name).
"""

from __future__ import annotations

KINDS = frozenset(
    {
        "syntax",
        "unknown function",
        "undefined variable",
        "unknown template",
        "missing key",
        "wrong type",
        "wrong number of args",
        "incompatible types",
        "index out of range",
        "division by zero",
        "not a function",
        "step limit",
        "expensive call limit",
        "not supported",
        "output limit",
        "time limit",
        "depth limit",
        "range limit",
        "value limit",
        "source limit",
        "function failed",
        "fail",
        "internal error",
    }
)

MAX_DETAIL = 80  # characters of a source token an error message keeps

# Fixed advice appended to a message (``; hint: ...``): chosen by key, never built from data.
HINTS = {
    "jinja": 'this is not Go template syntax (Jinja2?): write {{ .key }} or {{ index . "key" }}',
    "environment": "it would read the operator's environment",
    "network": "it would make the operator resolve DNS names (network I/O)",
    "cluster": "it would read Secrets with the operator's own credentials",
    "call": "it calls arbitrary functions",
}


def _clean_detail(detail: str | None) -> str | None:
    """Keep a source token printable and short: it is quoted in one line of a status."""
    if not detail:
        return None
    text = "".join(ch if ch.isprintable() else "?" for ch in detail[:MAX_DETAIL])
    return text + ("..." if len(detail) > MAX_DETAIL else "")


class TemplateError(Exception):
    """A template failed to parse or execute; the message never contains data.

    ``kind`` is one of :data:`KINDS`; ``detail`` is a token from the template source
    (never a runtime value) or ``None``; ``line`` and ``column`` are 1-based, the column
    counted in characters; ``hint`` is a key of :data:`HINTS` (fixed advice) or ``None``.
    """

    name: str
    line: int
    column: int
    kind: str
    detail: str | None
    hint: str | None

    def __init__(
        self, name: str, line: int, column: int, kind: str, detail: str | None = None, hint: str | None = None
    ) -> None:
        if kind not in KINDS:
            kind = "internal error"
        self.name = name
        self.line = line
        self.column = column
        self.kind = kind
        self.detail = _clean_detail(detail)
        self.hint = hint if hint in HINTS else None
        super().__init__(self._message())

    def _message(self) -> str:
        tail = f": {self.detail}" if self.detail else ""
        if self.hint:
            tail += f"; hint: {HINTS[self.hint]}"
        return f'template "{self.name}": line {self.line}, column {self.column}: {self.kind}{tail}'

    def __str__(self) -> str:
        return self._message()

    def __repr__(self) -> str:
        return f"TemplateError({self._message()!r})"

    def __reduce__(self) -> tuple[type[TemplateError], tuple[str, int, int, str, str | None, str | None]]:
        return (TemplateError, (self.name, self.line, self.column, self.kind, self.detail, self.hint))


class Fault(Exception):
    """Internal: a failure of a fixed kind, positioned later by the parser or interpreter.

    Functions raise ``Fault(kind)`` with no detail; only the parser and interpreter add a
    detail, and only from source tokens. A ``Fault`` never leaves the package.
    """

    def __init__(
        self, kind: str, detail: str | None = None, pos: int | None = None, hint: str | None = None
    ) -> None:
        super().__init__(kind)
        self.kind = kind if kind in KINDS else "internal error"
        self.detail = detail
        self.pos = pos
        self.hint = hint
