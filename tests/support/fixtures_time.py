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
