"""errors.py: the one exception that leaves the engine, and the rules that keep its message safe.

A TemplateError's text reaches statuses, events and logs, so what it may hold is fixed: a kind from
KINDS (anything else is "internal error"), a source token made printable and cut at 80 characters,
and a hint only by key of HINTS. These pin each rule on the class itself, not through a template.
"""

from __future__ import annotations

import pickle

import pytest

from secretsync.gotemplate import TemplateError
from secretsync.gotemplate.errors import HINTS, Fault


def _err(kind: str = "syntax", detail: str | None = None, hint: str | None = None) -> TemplateError:
    return TemplateError("t", 1, 2, kind, detail, hint)


@pytest.mark.parametrize(
    ("detail", "shown"),
    [
        (None, None),
        ("", None),
        ("abc", "abc"),
        ("a\nb\x00c\u200bd", "a?b?c?d"),  # newline, NUL and a format character: one "?" each
        ("x" * 80, "x" * 80),  # exactly the limit: whole, no ellipsis
        ("x" * 81, "x" * 80 + "..."),
        ("\n" * 100, "?" * 80 + "..."),
    ],
)
def test_detail_is_printable_and_cut_at_80_characters(detail: str | None, shown: str | None) -> None:
    e = _err(detail=detail)
    assert e.detail == shown
    assert str(e) == 'template "t": line 1, column 2: syntax' + (f": {shown}" if shown else "")


def test_an_unknown_kind_is_an_internal_error() -> None:
    assert _err("secret value here").kind == "internal error"
    assert str(_err("secret value here")) == 'template "t": line 1, column 2: internal error'
    assert Fault("secret value here").kind == "internal error"
    assert Fault("step limit").kind == "step limit"


def test_a_hint_is_shown_only_by_a_known_key() -> None:
    assert _err(hint="no such hint").hint is None
    assert str(_err(hint="no such hint")) == 'template "t": line 1, column 2: syntax'
    e = _err(detail="x", hint="jinja")
    assert e.hint == "jinja"
    assert str(e) == f'template "t": line 1, column 2: syntax: x; hint: {HINTS["jinja"]}'


def test_the_message_is_the_exception_argument_and_survives_pickling() -> None:
    e = _err(detail="tok", hint="network")
    assert e.args == (str(e),)
    assert repr(e) == f"TemplateError({str(e)!r})"
    back = pickle.loads(pickle.dumps(e))  # noqa: S301 (our own object)
    assert (back.kind, back.detail, back.hint, str(back)) == (e.kind, e.detail, e.hint, str(e))
