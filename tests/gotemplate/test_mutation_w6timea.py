"""Round-3 mutation survivors in gotime.py: ``layout_chunks`` (Go's ``nextStdChunk``).

Expected values are Go 1.26's ``time.Time.Format`` (src/time/format.go ``nextStdChunk``): ``Jan``/``Mon``
are elements only when not followed by a lower-case ASCII letter (``startsWithLowerCase``: 'a'..'z');
``January``/``Monday`` always are; ``0`` + '1'..'6' is ``01``..``06``; ``002`` is the year day; ``_2006``
is the literal ``_`` followed by ``2006``. The time is 2024-03-01 00:00:00 UTC, a Friday (year day 61).
"""

from __future__ import annotations

import pytest

from tests.gotemplate.test_mutation_time import _render

_T = 1709251200  # 2024-03-01T00:00:00Z, Friday


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        ("", ""),
        ("hello", "hello"),  # no element: the whole layout is the literal tail
        ("xJan", "xMar"),  # the first literal starts at 0
        ("_2006", "_2024"),  # '_' stays literal before 2006
        ("_2006x_2", "_2024x 1"),
        ("J", "J"),
        ("Jx", "Jx"),
        ("January!", "March!"),
        ("January 2006", "March 2024"),
        ("Jana", "Jana"),  # lower-case after Jan: not an element
        ("Janz", "Janz"),
        ("JanY", "MarY"),  # upper-case after Jan: an element
        ("Jan_", "Mar_"),
        ("Jan.a", "Mar.a"),
        ("Jan", "Mar"),
        ("Mon", "Fri"),
        ("Mona", "Mona"),
        ("Monz", "Monz"),
        ("MonY", "FriY"),
        ("Mon_", "Fri_"),
        ("Mon.a", "Fri.a"),
        ("07", "07"),  # '0' + '7' is no element
        ("09:", "09:"),
        ("0X", "0X"),
        ("002x", "061x"),
        ("002 2006", "061 2024"),
    ],
)
def test_format_layout_chunks_like_go(layout: str, expected: str) -> None:
    assert _render(f'{{{{ dateInZone "{layout}" {_T} "UTC" }}}}') == expected
