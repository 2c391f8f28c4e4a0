"""Resource limits and the per-render budget that enforces them.

Why a budget object: a hostile template can loop (nested ranges), recurse
(``define`` calling itself), or ask a function for a huge value (``repeat``). Every
node evaluation, loop iteration and function call charges a step; functions charge
extra steps for the elements they process; the wall clock is consulted every 256
steps. One :class:`Budget` is shared by all templates of one ``render`` call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from secretsync.gotemplate.errors import Fault

_TIME_CHECK_EVERY = 256

# Every value a function returns is counted against max_value_bytes * ALLOC_FACTOR per
# render call: each value alone fits the value limit, and this bounds how many of them
# a template can keep alive at once (variables, lists, recursion).
ALLOC_FACTOR = 64


@dataclass(frozen=True)
class Limits:
    """Bounds on one parse or render; the defaults suit Secret templates."""

    max_source_bytes: int = 65536
    max_output_bytes: int = 1 << 20
    max_steps: int = 1_000_000
    max_range_iterations: int = 100_000
    max_depth: int = 100
    max_value_bytes: int = 1 << 20
    time_budget: float = 1.0


class Budget:
    """Steps, time and value sizes left for one render call."""

    __slots__ = (
        "_next_check",
        "allocated",
        "deadline",
        "limits",
        "max_alloc",
        "max_steps",
        "max_value",
        "steps",
    )

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.steps = 0
        self.max_steps = limits.max_steps
        self.max_value = limits.max_value_bytes
        self.max_alloc = limits.max_value_bytes * ALLOC_FACTOR
        self.allocated = 0
        self.deadline = time.monotonic() + limits.time_budget
        self._next_check = _TIME_CHECK_EVERY

    def step(self, n: int = 1) -> None:
        """Charge ``n`` steps; fail once the step or time budget is spent."""
        self.steps += n
        if self.steps > self.max_steps:
            raise Fault("step limit")
        if self.steps >= self._next_check:
            self._next_check = self.steps + _TIME_CHECK_EVERY
            if time.monotonic() > self.deadline:
                raise Fault("time limit")

    def bytes_step(self, nbytes: int) -> None:
        """Charge work proportional to a size: one step per 256 bytes (at least one)."""
        self.step(1 + (nbytes >> 8))

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise Fault("time limit")

    def check_size(self, nbytes: int) -> None:
        """Refuse a value of ``nbytes`` before building it."""
        if nbytes > self.max_value:
            raise Fault("value limit")

    def account(self, nbytes: int) -> None:
        """Count a value just built against the render's total allocation."""
        if nbytes > self.max_value:
            raise Fault("value limit")
        self.allocated += nbytes
        if self.allocated > self.max_alloc:
            raise Fault("value limit")
