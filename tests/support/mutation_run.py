"""In a mutation run only (``tests/support/mutation.py`` sets ``SECRETSYNC_MUTATION_RUN``).

Each pytest session gets a temporary directory of its own process: with ``--children 2`` two
sessions run at once, and pytest's shared ``pytest-of-<user>/pytest-<N>`` numbering deletes the
oldest directories while another session may still use them (a test failing for that would count
its mutant as killed). The directory is removed when the session ends.

The template engine's time budget is measured on a clock that runs :data:`SLOWDOWN` times slower.

mutmut routes every call of the mutated package through a trampoline, which makes the template
engine many times slower; its wall-clock budget (one second per render) then stops ordinary
templates that a normal run renders in milliseconds, and the clean run fails. Slowing its clock
keeps each budget as large, relative to the work, as in a normal run. Tests that set their own
clock (``monkeypatch`` of ``limits.time``) still do; tests of the time limit itself with a real
clock are left out of mutation runs (``DESELECT_BY_MODULE``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time

import pytest

SLOWDOWN = 20.0


class SlowClock:
    @staticmethod
    def monotonic() -> float:
        return time.monotonic() / SLOWDOWN


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("SECRETSYNC_MUTATION_RUN"):
        from secretsync.gotemplate import limits

        limits.time = SlowClock  # type: ignore[assignment]
        if not config.option.basetemp:
            config.option.basetemp = os.path.join(tempfile.gettempdir(), f"secretsync-mutation-{os.getpid()}")


def pytest_unconfigure(config: pytest.Config) -> None:
    basetemp = config.option.basetemp
    if os.environ.get("SECRETSYNC_MUTATION_RUN") and basetemp and "secretsync-mutation-" in str(basetemp):
        shutil.rmtree(basetemp, ignore_errors=True)
