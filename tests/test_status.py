"""Status builders: one Ready condition, transitions only on flips."""

from __future__ import annotations

import datetime as dt

from secretsync import status

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(minutes=5)


def test_first_status() -> None:
    new = status.build(None, ready=True, reason="Unsealed", message="m", generation=3, now=T0)
    assert new["observedGeneration"] == 3
    (cond,) = new["conditions"]
    assert cond == {
        "type": "Ready",
        "status": "True",
        "reason": "Unsealed",
        "message": "m",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
        "observedGeneration": 3,
    }
    assert status.flipped(None, new)


def test_transition_time_moves_only_on_flip() -> None:
    first = status.build(None, ready=False, reason="UnsealFailed", message="a", generation=1, now=T0)
    same = status.build(first, ready=False, reason="UnsealFailed", message="b", generation=2, now=T1)
    assert status.ready_of(same)["lastTransitionTime"] == "2026-01-01T00:00:00Z"  # type: ignore[index]
    assert not status.flipped(first, same)
    flipped = status.build(same, ready=True, reason="Unsealed", message="c", generation=2, now=T1)
    assert status.ready_of(flipped)["lastTransitionTime"] == "2026-01-01T00:05:00Z"  # type: ignore[index]
    assert status.flipped(same, flipped)


def test_rebuilding_identical_status_is_equal() -> None:
    first = status.build(None, ready=True, reason="Unsealed", message="m", generation=1, now=T0)
    again = status.build(first, ready=True, reason="Unsealed", message="m", generation=1, now=T1)
    assert again == first


def test_other_fields_and_conditions_are_kept() -> None:
    prev = {"refreshTime": "x", "conditions": [{"type": "Other", "status": "True"}]}
    new = status.build(prev, ready=True, reason="R", message="m", generation=None, now=T0, extra={"a": 1})
    assert new["refreshTime"] == "x" and new["a"] == 1
    assert [c["type"] for c in new["conditions"]] == ["Ready", "Other"]
    assert "observedGeneration" not in new
