"""Parsed templates, ``parse`` and ``render``: the one place internal faults become errors.

Why here: everything raised while parsing or executing -- our own faults, Python's
``RecursionError``/``MemoryError``, anything a function lets slip -- is turned into a
:class:`TemplateError` built from the template name, a position and a fixed kind.
The error is raised *outside* the ``except`` block so it carries no ``__context__``
that could hold a value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from secretsync.gotemplate import funcs as _funcs
from secretsync.gotemplate.errors import Fault, TemplateError
from secretsync.gotemplate.execute import MISSING_KEY_MODES, Exec
from secretsync.gotemplate.gostrconv import byte_len
from secretsync.gotemplate.jinja import looks_like_jinja
from secretsync.gotemplate.limits import Budget, Limits
from secretsync.gotemplate.nodes import ListNode
from secretsync.gotemplate.parser import parse_source
from secretsync.gotemplate.values import import_data

Funcs = Mapping[str, Callable[..., Any]] | None


def _position(source: str, pos: int) -> tuple[int, int]:
    pos = max(0, min(pos, len(source)))
    line = source.count("\n", 0, pos) + 1
    col = pos - (source.rfind("\n", 0, pos) + 1) + 1
    return line, col


def _error(
    name: str, source: str, pos: int, kind: str, detail: str | None = None, hint: str | None = None
) -> TemplateError:
    line, col = _position(source, pos)
    return TemplateError(name, line, col, kind, detail, hint)


class Template:
    """One parsed source: its main template and every ``define``/``block`` in it."""

    def __init__(self, name: str, source: str, trees: dict[str, ListNode], limits: Limits) -> None:
        self.name = name
        self._source = source
        self._trees = trees
        self._limits = limits

    def execute(self, data: Any, *, limits: Limits | None = None, missing_key: str = "error") -> str:
        """Render against ``data`` with a fresh budget (``render`` shares one across templates)."""
        return self._execute(data, Budget(limits or self._limits), missing_key)

    def _execute(self, data: Any, budget: Budget, missing_key: str) -> str:
        err: TemplateError | None = None
        ex: Exec | None = None
        try:
            mode = MISSING_KEY_MODES.get(missing_key) if isinstance(missing_key, str) else None
            if mode is None:
                raise Fault("internal error", "missing_key")
            value = import_data(data, budget.limits.max_depth)
            ex = Exec(self._trees, budget, mode)
            return ex.run(self._trees[self.name], value)
        except Fault as f:
            pos = (
                f.pos if f.pos is not None else (ex.node.pos if ex is not None and ex.node is not None else 0)
            )
            err = _error(self.name, self._source, pos, f.kind, f.detail, f.hint)
        except RecursionError:
            err = _error(self.name, self._source, self._where(ex), "depth limit")
        except MemoryError:
            err = _error(self.name, self._source, self._where(ex), "value limit")
        except Exception:
            err = _error(self.name, self._source, self._where(ex), "internal error")
        raise err

    @staticmethod
    def _where(ex: Exec | None) -> int:
        return ex.node.pos if ex is not None and ex.node is not None else 0


def parse(name: str, source: str, *, limits: Limits = Limits(), funcs: Funcs = None) -> Template:  # noqa: B008
    """Parse ``source``; syntax errors, unknown functions and oversized sources raise TemplateError."""
    err: TemplateError | None = None
    try:
        if not isinstance(name, str) or not isinstance(source, str):
            raise Fault("syntax", "template name and source must be strings")
        if byte_len(source) > limits.max_source_bytes:
            raise Fault("source limit")
        table = _funcs.table(funcs)
        try:
            trees = parse_source(name, source, table, limits.max_depth)
        except Fault as f:
            if (
                f.hint is None
                and f.kind in ("syntax", "unknown function")
                and looks_like_jinja(source, table)
            ):
                f.hint = "jinja"
            raise
        return Template(name, source, trees, limits)
    except Fault as f:
        err = _error(
            str(name), source if isinstance(source, str) else "", f.pos or 0, f.kind, f.detail, f.hint
        )
    except RecursionError:  # only after the type check: name and source are strings
        err = _error(name, source, 0, "depth limit")
    except Exception:
        err = _error(name, source, 0, "internal error")
    raise err


def render(
    templates: Mapping[str, str],
    data: Any,
    *,
    limits: Limits = Limits(),  # noqa: B008
    missing_key: str = "error",
    funcs: Funcs = None,
) -> dict[str, str]:
    """Render every template against ``data``; all of them share one step and time budget."""
    budget = Budget(limits)
    out: dict[str, str] = {}
    for name, source in templates.items():
        tmpl = parse(name, source, limits=limits, funcs=funcs)
        out[name] = tmpl._execute(data, budget, missing_key)
    return out
