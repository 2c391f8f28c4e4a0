"""Resource limits and the per-render budget that enforces them.

Why a budget object: a hostile template can loop (nested ranges), recurse
(``define`` calling itself), or ask a function for a huge value (``repeat``). Every
node evaluation, loop iteration and function call charges a step; functions charge
extra steps for the elements they process; the wall clock is consulted every 256
steps. One :class:`Budget` is shared by all templates of one ``render`` call.

Expensive calls (key generation, bcrypt, scrypt, PKCS#12 key derivation) are admitted
*before* they run by :meth:`Budget.expensive`, with an estimate of their CPU cost in
milliseconds: at most ``max_expensive_calls`` heavy ones (``HEAVY_MS`` or more) per
render, at most ``max_expensive_ms`` estimated in total (work found inside a call, such
as a PKCS#12 file's iteration counts, is added by :meth:`Budget.charge_expensive` before
it runs), each charged ``STEPS_PER_MS`` steps per estimated millisecond. The time spent
inside admitted calls is given back to the deadline, so a render's wall time is bounded
by ``time_budget`` plus the expensive work admitted, and
``{{ range until 1000 }}{{ genPrivateKey "rsa" }}{{ end }}`` stops at the third key
(kind ``expensive call limit``) instead of pinning a worker for minutes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from types import TracebackType

from secretsync.gotemplate.errors import Fault

_TIME_CHECK_EVERY = 256

# Every value a function returns is counted against max_value_bytes * ALLOC_FACTOR per
# render call: each value alone fits the value limit, and this bounds how many of them
# a template can keep alive at once (variables, lists, recursion).
ALLOC_FACTOR = 64

# Steps charged per estimated millisecond of an expensive call (1,200 ms is 120,000 steps).
STEPS_PER_MS = 100
# Calls estimated at this many milliseconds or more count against max_expensive_calls
# (key generation, bcrypt, scrypt); cheaper ones (an EC key, a signature, a PKCS#12 archive
# with ordinary iteration counts) only against max_expensive_ms.
HEAVY_MS = 20


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
    max_expensive_calls: int = 8
    max_expensive_ms: int = 1200


class Budget:
    """Steps, time and value sizes left for one render call."""

    __slots__ = (
        "_mark",
        "_next_check",
        "allocated",
        "deadline",
        "expensive_calls",
        "expensive_ms",
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
        self.expensive_calls = 0
        self.expensive_ms = 0
        self._mark: float | None = None  # when the running expensive call was last credited

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
        self.check_size(nbytes)
        self.hold(nbytes)

    def hold(self, nbytes: int) -> None:
        """Count memory a function holds while it works (not one value) against the render's total."""
        self.allocated += nbytes
        if self.allocated > self.max_alloc:
            raise Fault("value limit")

    def expensive(self, cost_ms: int) -> _Expensive:
        """Admit one expensive call estimated at ``cost_ms`` of CPU, before it runs.

        Use as ``with budget.expensive(500): ...``: refused (``expensive call limit``) past
        the per-render count or total estimate; the time the call takes is given back to
        the deadline when it ends, since it was paid for here.
        """
        if cost_ms >= HEAVY_MS:
            self.expensive_calls += 1
            if self.expensive_calls > self.limits.max_expensive_calls:
                raise Fault("expensive call limit")
        self.charge_expensive(cost_ms)
        return _Expensive(self)

    def charge_expensive(self, cost_ms: int) -> None:
        """Add work found inside an admitted call (a key derivation's iterations) before it runs."""
        self.credit()
        self.expensive_ms += max(cost_ms, 1)
        if self.expensive_ms > self.limits.max_expensive_ms:
            raise Fault("expensive call limit")
        self.step(max(cost_ms, 1) * STEPS_PER_MS)
        self.check_time()

    def credit(self) -> None:
        """Give the time spent in the running expensive call so far back to the deadline."""
        if self._mark is not None:
            now = time.monotonic()
            self.deadline += now - self._mark
            self._mark = now


class _Expensive:
    """The context of one admitted expensive call: its duration goes back to the deadline."""

    __slots__ = ("_budget",)

    def __init__(self, budget: Budget) -> None:
        self._budget = budget

    def __enter__(self) -> None:
        self._budget._mark = time.monotonic()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._budget.credit()
        self._budget._mark = None
