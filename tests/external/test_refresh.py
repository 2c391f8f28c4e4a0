"""refreshPolicy, as ESO's shouldRefresh and isSecretValid decide it, plus our own triggers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from secretsync.external import refresh

NOW = dt.datetime(2026, 11, 30, 12, 0, 0, tzinfo=dt.UTC)
HOUR = 3600.0


def synced(age: float | None = 600.0, version: str | None = "3-abc", ready: str = "True") -> dict[str, Any]:
    st: dict[str, Any] = {"conditions": [{"type": "Ready", "status": ready}]}
    if age is not None:
        st["refreshTime"] = (NOW - dt.timedelta(seconds=age)).strftime("%Y-%m-%dT%H:%M:%SZ")
    if version is not None:
        st["syncedResourceVersion"] = version
    return st


@pytest.mark.parametrize("policy", ["CreatedOnce", "Periodic", "OnChange"])
@pytest.mark.parametrize("st", [None, {}, synced(age=None), synced(version=None), synced(version="")])
def test_every_policy_reads_an_object_that_never_synced(policy: str, st: Any) -> None:
    assert refresh.due(policy, HOUR, st, "3-abc", NOW)


@pytest.mark.parametrize(
    ("policy", "interval", "age", "version", "expected"),
    [
        ("CreatedOnce", HOUR, 600, "3-abc", False),
        ("CreatedOnce", HOUR, 7200, "4-def", False),  # never again, not even when it changed
        ("OnChange", HOUR, 7200, "3-abc", False),  # no timer
        ("OnChange", HOUR, 60, "4-def", True),  # the object changed
        ("Periodic", HOUR, 600, "3-abc", False),
        ("Periodic", HOUR, 3600, "3-abc", True),  # the interval has passed
        ("Periodic", HOUR, 600, "4-def", True),  # the object changed
        ("Periodic", HOUR, -30, "3-abc", True),  # refreshTime in the future: clock skew
        ("Periodic", 0, 10**6, "3-abc", False),  # refreshInterval 0: once
        ("Periodic", 0, 60, "4-def", False),  # ... even when it changed (ESO since 0.11)
    ],
)
def test_should_refresh_as_eso(
    policy: str, interval: float, age: float, version: str, expected: bool
) -> None:
    assert refresh.due(policy, interval, synced(age=age), version, NOW) is expected


@pytest.mark.parametrize("policy", ["CreatedOnce", "Periodic", "OnChange"])
def test_a_broken_or_missing_secret_is_always_written_again(policy: str) -> None:
    st = synced(age=10)
    assert not refresh.must_fetch("event", policy, HOUR, st, "3-abc", target_intact=True, now=NOW)
    assert refresh.must_fetch("drift", policy, HOUR, st, "3-abc", target_intact=False, now=NOW)
    assert refresh.must_fetch("event", policy, 0, st, "3-abc", target_intact=False, now=NOW)


@pytest.mark.parametrize("policy", ["CreatedOnce", "Periodic", "OnChange"])
def test_our_own_timers_and_failed_syncs_always_read(policy: str) -> None:
    st = synced(age=10)
    for trigger in ("refresh", "retry"):
        assert refresh.must_fetch(trigger, policy, HOUR, st, "3-abc", target_intact=True, now=NOW)
    failed = synced(age=10, ready="False")
    assert refresh.must_fetch("event", policy, HOUR, failed, "3-abc", target_intact=True, now=NOW)


def test_a_changed_store_rereads_periodic_objects_only() -> None:
    st = synced(age=10)
    assert refresh.must_fetch("store", "Periodic", HOUR, st, "3-abc", target_intact=True, now=NOW)
    for policy in ("CreatedOnce", "OnChange"):
        assert not refresh.must_fetch("store", policy, HOUR, st, "3-abc", target_intact=True, now=NOW)


@pytest.mark.parametrize(
    ("policy", "interval", "st", "expected"),
    [
        ("Periodic", HOUR, synced(age=600), 3000.0),
        ("Periodic", HOUR, synced(age=7200), 0.0),
        ("Periodic", HOUR, synced(age=-5), 0.0),
        ("Periodic", HOUR, {}, 0.0),
        ("Periodic", 0, synced(age=600), None),
        ("CreatedOnce", HOUR, synced(age=600), None),
        ("OnChange", HOUR, synced(age=600), None),
    ],
)
def test_only_periodic_objects_get_refresh_timers(
    policy: str, interval: float, st: Any, expected: float | None
) -> None:
    assert refresh.next_refresh(policy, interval, st, NOW) == expected


@pytest.mark.parametrize("text", ["", "yesterday", 5, None, "2026-11-30T12:00:00"])
def test_unreadable_refresh_times_count_as_never(text: Any) -> None:
    st = {
        "conditions": [{"type": "Ready", "status": "True"}],
        "refreshTime": text,
        "syncedResourceVersion": "1",
    }
    naive = text == "2026-11-30T12:00:00"  # no zone: read as UTC
    assert refresh.due("CreatedOnce", HOUR, st, "1", NOW) is (not naive)
