"""Mutation survivors of template.py (round 13): the source limit's boundary and position."""

from __future__ import annotations

import pytest

from secretsync.gotemplate import Limits, TemplateError, parse
from secretsync.gotemplate import template as template_module


def test_a_source_of_exactly_the_limit_parses_one_byte_more_does_not() -> None:
    limits = Limits(max_source_bytes=10)
    assert parse("t", "é" * 5, limits=limits).name == "t"  # 10 bytes in UTF-8
    with pytest.raises(TemplateError) as info:
        parse("t", "é" * 5 + "x", limits=limits)
    assert (info.value.kind, info.value.detail, info.value.line, info.value.column) == (
        "source limit",
        None,
        1,
        1,
    )


@pytest.mark.parametrize("source", [b"{{ 1 }}", 7, None])
def test_a_source_that_is_no_string_is_a_template_error_at_its_start(source: object) -> None:
    with pytest.raises(TemplateError) as info:
        parse("t", source)  # type: ignore[arg-type]
    assert (info.value.name, info.value.line, info.value.column) == ("t", 1, 1)
    assert info.value.detail == "template name and source must be strings"


def test_python_running_out_of_stack_while_parsing_names_the_template(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def deep(*_: object) -> None:
        raise RecursionError

    monkeypatch.setattr(template_module, "parse_source", deep)
    with pytest.raises(TemplateError) as info:
        parse("tmpl", "a\n{{ 1 }}")
    assert (info.value.name, info.value.kind, info.value.line, info.value.column) == (
        "tmpl",
        "depth limit",
        1,
        1,
    )


def test_an_unexpected_error_while_parsing_is_an_internal_error_without_its_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: object) -> None:
        raise ValueError("a secret")

    monkeypatch.setattr(template_module, "parse_source", broken)
    with pytest.raises(TemplateError) as info:
        parse("tmpl", "a\n{{ 1 }}")
    assert (info.value.name, info.value.kind, info.value.line, info.value.column) == (
        "tmpl",
        "internal error",
        1,
        1,
    )
    assert "secret" not in str(info.value)
