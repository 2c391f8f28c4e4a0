"""Seventh-wave mutation survivor: what compiling a regular expression costs in steps.

``_compile`` charges ``bytes_step(4 * len(pattern))`` (one step, plus one per 64 pattern bytes):
RE2 compiles in time linear in the pattern, and the charge keeps a template that compiles long
patterns in a loop inside the step budget. The charge is measured as the least ``max_steps`` a
render passes with, for two pattern lengths: everything else in the render is the same.
"""

from __future__ import annotations

from secretsync.gotemplate import Limits, TemplateError

from .test_mutation_funcsB import r


def _least_steps(pattern: str) -> int:
    def passes(max_steps: int) -> bool:
        try:
            r('{{ regexMatch .p "x" }}', {"p": pattern}, limits=Limits(max_steps=max_steps))
        except TemplateError as err:
            assert err.kind == "step limit"
            return False
        return True

    low, high = 1, 1000
    assert passes(high)
    while low < high:
        mid = (low + high) // 2
        if passes(mid):
            high = mid
        else:
            low = mid + 1
    return high


def test_compiling_a_pattern_costs_a_step_per_64_bytes() -> None:
    # 1 + (4 * 2560 >> 8) = 41 against 1 + (4 * 256 >> 8) = 5
    assert _least_steps("a" * 2560) - _least_steps("a" * 256) == 36
