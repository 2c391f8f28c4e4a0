"""What a template source gives, as one string: its output, or its syntax error's text."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from secretsync.gotemplate import TemplateError, render


def output_or_syntax_error(source: str, funcs: Mapping[str, Callable[..., object]] | None = None) -> str:
    """The rendered output (no data), or the detail of the syntax error that refused the source."""
    try:
        return render({"t": source}, {}, funcs=funcs)["t"]
    except TemplateError as error:
        assert error.kind == "syntax"
        return str(error.detail)
