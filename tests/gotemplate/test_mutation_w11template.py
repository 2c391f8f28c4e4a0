"""template.py: where an error is reported (line and column) and what a bad option says.

Go's text/template counts lines from 1 and columns from 1 after the last newline before the error;
ours counts characters. Newlines before, at and after the error's position all matter, and so
does a newline as the very first character.
"""

from __future__ import annotations

import pytest

from secretsync.gotemplate import Limits, TemplateError, parse, render
from secretsync.gotemplate import template as template_module
from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.template import _position


@pytest.mark.parametrize(
    ("source", "pos", "where"),
    [
        ("abc", 0, (1, 1)),
        ("abc", 2, (1, 3)),
        ("abc", 99, (1, 4)),  # past the end: the end
        ("abc", -5, (1, 1)),
        ("\nabc", 0, (1, 1)),
        ("\nabc", 1, (2, 1)),  # a newline at index 0 counts
        ("\nabc", 3, (2, 3)),
        ("a\nb\nc\nd", 2, (2, 1)),  # newlines after the position do not count
        ("a\nb\nc\nd", 5, (3, 2)),  # the column starts after the last newline before it
        ("ab\ncd\n\n", 4, (2, 2)),
    ],
)
def test_position_is_line_and_column_from_one(source: str, pos: int, where: tuple[int, int]) -> None:
    assert _position(source, pos) == where


def test_an_error_on_a_middle_line_names_that_line_and_column() -> None:
    source = "\nfirst {{ .a }}\n  {{ .nope }}\nlast\n"
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {"a": "1"})
    assert (info.value.line, info.value.column, info.value.kind) == (3, 6, "missing key")


def test_a_bad_missing_key_option_is_named_in_the_error() -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": "x"}, {}, missing_key="bogus")
    assert (info.value.kind, info.value.detail) == ("internal error", "missing_key")


def test_a_fault_before_execution_starts_is_at_line_1_column_1() -> None:
    deep: object = "x"
    for _ in range(5):
        deep = [deep]
    with pytest.raises(TemplateError) as info:
        render({"t": "abc\n{{ . }}"}, deep, limits=Limits(max_depth=2))
    assert (info.value.kind, info.value.line, info.value.column) == ("depth limit", 1, 1)
    with pytest.raises(TemplateError) as info:
        render({"t": "abc"}, {}, missing_key="bogus")
    assert (info.value.line, info.value.column) == (1, 1)


def test_a_fault_carrying_its_own_position_and_hint_is_reported_there() -> None:
    # the engine's own functions raise Fault without either; the template layer still honours them
    def placed() -> str:
        raise Fault("fail", "x", pos=4, hint="jinja")

    with pytest.raises(TemplateError) as info:
        render({"t": "ab\ncd {{ placed }}"}, {}, funcs={"placed": placed})
    assert (info.value.line, info.value.column, info.value.hint) == (2, 2, "jinja")


def test_python_running_out_of_stack_is_a_depth_limit_where_the_recursion_is() -> None:
    # with the engine's own depth bound raised out of reach, Python's RecursionError ends the
    # recursion; it is reported at the node running then (line 2), not at the start of the source
    source = '\n{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}'
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {}, limits=Limits(max_depth=100_000))
    assert (info.value.kind, info.value.line) == ("depth limit", 2)


class _RunningNode:
    pos = 4  # line 2, column 2 of the source below


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (MemoryError(), "value limit"),
        (ValueError("a secret"), "internal error"),
        (RecursionError(), "depth limit"),
    ],
)
def test_python_errors_while_executing_become_fixed_kinds_at_the_running_node(
    monkeypatch: pytest.MonkeyPatch, exc: BaseException, kind: str
) -> None:
    class FailingExec:
        def __init__(self, *_: object) -> None:
            self.node = _RunningNode()

        def run(self, *_: object) -> str:
            raise exc

    monkeypatch.setattr(template_module, "Exec", FailingExec)
    with pytest.raises(TemplateError) as info:
        render({"t": "ab\ncd {{ 1 }}"}, {})
    assert (info.value.kind, info.value.line, info.value.column) == (kind, 2, 2)
    assert "secret" not in str(info.value)


def test_a_name_or_source_that_is_no_string_is_a_syntax_error_saying_so() -> None:
    with pytest.raises(TemplateError) as info:
        parse(1, "x")  # type: ignore[arg-type]
    assert (info.value.kind, info.value.detail) == ("syntax", "template name and source must be strings")
