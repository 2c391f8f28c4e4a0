"""Mutation survivors of template.py (round 13): the source limit's boundary and position."""

from __future__ import annotations

import pytest

from secretsync.gotemplate import Limits, TemplateError, parse


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
