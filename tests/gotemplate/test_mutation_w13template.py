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


@pytest.mark.parametrize(
    ("raised", "kind"),
    [(RecursionError(), "depth limit"), (ValueError("a secret"), "internal error")],
)
def test_an_unexpected_error_while_parsing_names_the_template_without_its_text(
    raised: Exception, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise raised

    monkeypatch.setattr(template_module, "parse_source", broken)
    with pytest.raises(TemplateError) as info:
        parse("tmpl", "a\n{{ 1 }}")
    assert (info.value.name, info.value.kind, info.value.line, info.value.column) == ("tmpl", kind, 1, 1)
    assert "secret" not in str(info.value)
