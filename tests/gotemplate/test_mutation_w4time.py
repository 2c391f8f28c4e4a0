"""Mutation survivors in Go's ``time.ParseDuration`` port (``gotime.leading_int``,
``gotime._leading_fraction``), reached through Sprig's ``dateModify`` / ``mustDateModify``.

Expected values are Go 1.26's ``time.ParseDuration`` (``leadingInt``, ``leadingFraction``: a digit is
exactly ``'0'..'9'``; a duration ending in digits has no unit and is invalid; fraction digits past
what fits in uint64 below ``1<<63`` are skipped, and the kept ones are scaled by Go's one float64
``float64(f) * (float64(unit) / scale)``) and Sprig v3.3.0's ``dateModify`` (the time unchanged on
an invalid duration) and ``mustDateModify`` (the error).
"""

from __future__ import annotations

import pytest

from tests.gotemplate.test_mutation_time import NANOS, START, _kind, _render


@pytest.mark.parametrize(
    ("mod", "expected"),
    [
        ("1.9s", "2024-01-01 00:00:01.900000000"),  # 9 is a fraction digit
        ("1.25s", "2024-01-01 00:00:01.250000000"),  # fraction digits accumulate base ten
        ("1.999999999s", "2024-01-01 00:00:01.999999999"),
        # 19 fraction digits: 9e18 still fits below 1<<63, so float64(9e18) * (6e10 / 1e19) = 54e9;
        # dropping the last zero would give float64(9e17) * (6e10 / 1e18) = 53999999999.99999
        ("0.9000000000000000000m", "2024-01-01 00:00:54.000000000"),
        # invalid (time unchanged): digits to the end have no unit (Go: "missing unit")
        ("1", "2024-01-01 00:00:00.000000000"),
        ("1.5", "2024-01-01 00:00:00.000000000"),
        ("1s1", "2024-01-01 00:00:00.000000000"),
        ("1s1.5", "2024-01-01 00:00:00.000000000"),
        # ':' (just past '9') is no digit, so ":s" is an unknown unit
        ("1:s", "2024-01-01 00:00:00.000000000"),
        ("1.5:s", "2024-01-01 00:00:00.000000000"),
        ("1@s", "2024-01-01 00:00:00.000000000"),
    ],
)
def test_date_modify_parses_digits_like_go(mod: str, expected: str) -> None:
    assert _render(f'{{{{ dateInZone "{NANOS}" (dateModify "{mod}" {START}) "UTC" }}}}') == expected


@pytest.mark.parametrize("mod", ["1", "1.5", "2h1", "1:s", "1.5:s"])
def test_must_date_modify_refuses_digits_without_a_unit(mod: str) -> None:
    assert _kind(f'{{{{ mustDateModify "{mod}" {START} }}}}') == "function failed"
