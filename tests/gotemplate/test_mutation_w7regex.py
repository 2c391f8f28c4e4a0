"""Seventh-wave mutation survivor: what compiling a regular expression costs in steps.

``_compile`` charges ``bytes_step(4 * len(pattern))`` (one step, plus one per 64 pattern bytes):
RE2 compiles in time linear in the pattern, and the charge keeps a template that compiles long
patterns in a loop inside the step budget. The charge is measured as the least ``max_steps`` a
render passes with, for two pattern lengths: everything else in the render is the same.
"""

from __future__ import annotations

from .test_mutation_funcsB import least_limit


def _least_steps(pattern: str) -> int:
    return least_limit('{{ regexMatch .p "x" }}', "max_steps", {"p": pattern}, kind="step limit", high=1000)


def test_compiling_a_pattern_costs_a_step_per_64_bytes() -> None:
    # 1 + (4 * 2560 >> 8) = 41 against 1 + (4 * 256 >> 8) = 5
    assert _least_steps("a" * 2560) - _least_steps("a" * 256) == 36
