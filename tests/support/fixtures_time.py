"""Fixtures about time: a local time zone far from UTC, so that a conversion to local time shows."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest


@pytest.fixture
def tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The local time zone nine hours east of UTC: a conversion to local time shows."""
    monkeypatch.setenv("TZ", "JST-9")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


class FakeClock:
    """A module's ``time`` as code that reads only ``time.monotonic()`` sees it: moved by the test
    (``clock.now = ...``). Install with ``monkeypatch.setattr(module, "time", FakeClock())``."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now
