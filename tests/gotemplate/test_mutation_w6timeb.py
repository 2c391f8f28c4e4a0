"""Sixth-wave (r3-timeB) mutation survivors in gotime.py (``layout_chunks``, ``format_time``, ``parse_time``).

Expected values are Go 1.26's ``time.Time.Format`` / ``time.ParseInLocation`` (``nextStdChunk``:
``_2006`` is a literal ``_`` then the year; ``PM``/``pm`` need both letters; ``.0``/``.9`` runs are
fractions only when no digit follows; anything else is copied as a literal), through Sprig v3's
``date`` and ``toDate``.
"""

from __future__ import annotations

import pytest

from tests.gotemplate.test_mutation_time import START, _render


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        ("_2006", "_2024"),  # _2006 is a literal '_' followed by stdLongYear
        ("x_2006y", "x_2024y"),
        ("X 2006", "X 2024"),  # 'X' is a literal
        ("X07", "X07"),
        ("X9", "X9"),
        (".X", ".X"),  # '.' starts a fraction only before '0' or '9'
        ("P.", "P."),  # a lone 'P'/'p' is a literal
        ("p.", "p."),
        ("pm.", "am."),
        ("pm 2006", "am 2024"),
        ("2006x", "2024x"),  # a trailing literal
        ("2006.", "2024."),
        ("x", "x"),
    ],
)
def test_date_layout_chunks_like_go(layout: str, expected: str) -> None:
    assert _render(f'{{{{ {START} | date "{layout}" }}}}') == expected


@pytest.mark.parametrize(
    ("layout", "value", "expected"),
    [
        ("x_2006y", "x_2024y", "2024-01-01 00:00"),
        ("2006 pm.", "2024 pm.", "2024-01-01 12:00"),
    ],
)
def test_to_date_layout_chunks_like_go(layout: str, value: str, expected: str) -> None:
    source = f'{{{{ toDate "{layout}" "{value}" | date "2006-01-02 15:04" }}}}'
    assert _render(source) == expected


@pytest.mark.xfail(strict=True, reason="Go's Parse defaults the year to 0; datetime has no year 0")
def test_to_date_without_a_year_is_year_zero_like_go() -> None:
    source = '{{ toDate "Jan 2 15:04" "Feb 5 10:30" | date "2006-01-02 15:04" }}'
    assert _render(source) == "0000-02-05 10:30"


def test_to_date_am_pm_is_case_sensitive_like_go() -> None:
    # Go: stdpm accepts only "am"/"pm"; the parse error makes Sprig's toDate return the zero time
    source = '{{ toDate "2006 pm" "2024 PM" | date "2006-01-02 15:04" }}'
    assert _render(source) == "0001-01-01 00:00"
