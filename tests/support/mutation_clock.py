"""In a mutation run only (``tests/support/mutation.py`` sets ``SECRETSYNC_MUTATION_RUN``): the
template engine's time budget is measured on a clock that runs :data:`SLOWDOWN` times slower.

mutmut routes every call of the mutated package through a trampoline, which makes the template
engine many times slower; its wall-clock budget (one second per render) then stops ordinary
templates that a normal run renders in milliseconds, and the clean run fails. Slowing its clock
keeps each budget as large, relative to the work, as in a normal run. Tests that set their own
clock (``monkeypatch`` of ``limits.time``) still do; tests of the time limit itself with a real
clock are left out of mutation runs (``DESELECT_BY_MODULE``).
"""

from __future__ import annotations

import os
import time

SLOWDOWN = 20.0


class SlowClock:
    @staticmethod
    def monotonic() -> float:
        return time.monotonic() / SLOWDOWN


def pytest_configure() -> None:
    if os.environ.get("SECRETSYNC_MUTATION_RUN"):
        from secretsync.gotemplate import limits

        limits.time = SlowClock  # type: ignore[assignment]
