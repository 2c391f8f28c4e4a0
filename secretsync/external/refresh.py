"""When an ExternalSecret's values are read again: ESO's ``refreshPolicy``, decided in one place (pure).

ESO skips a sync when ``shouldRefresh`` says no *and* the target Secret is intact (it exists
and its data is what the operator last wrote); a deleted or edited Secret is always written
again. ``shouldRefresh``, by policy, once the ExternalSecret has synced (``syncedResourceVersion``
and ``refreshTime`` set):

* ``CreatedOnce``: never again.
* ``OnChange``: when the ExternalSecret changed since (generation, labels or annotations).
* ``Periodic`` (the default): when it changed, or ``refreshInterval`` has passed since
  ``refreshTime``; with ``refreshInterval: 0`` never again, even when it changed (ESO since
  0.11; ``OnChange`` is the policy that follows changes).

On top of ESO: a sync that failed (``Ready`` is not True) is always tried again (ESO waits for
the next interval), and a timer this operator set (a refresh, a retry) syncs unconditionally.
Only ``Periodic`` objects with an interval get refresh timers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

from secretsync import status

TRIGGERS: Final = ("event", "refresh", "retry", "drift", "store")
"""Why a reconcile runs: the object changed or was seen for the first time (at operator start too),
a timer fired (refresh, retry), the target Secret changed, the store changed."""


def due(
    policy: str,
    interval: float,
    st: Mapping[str, Any] | None,
    version: str,
    now: dt.datetime | None = None,
) -> bool:
    """ESO's ``shouldRefresh``: must the values be read again (the Secret being intact)?"""
    st = st or {}
    synced, refreshed = st.get("syncedResourceVersion"), _time(st.get("refreshTime"))
    if not synced or refreshed is None:
        return True
    if policy == "CreatedOnce":
        return False
    if policy == "OnChange":
        return bool(synced != version)
    if interval <= 0:
        return False
    if synced != version:
        return True
    age = ((now or dt.datetime.now(dt.UTC)) - refreshed).total_seconds()
    return age < 0 or age >= interval


def must_fetch(
    trigger: str,
    policy: str,
    interval: float,
    st: Mapping[str, Any] | None,
    version: str,
    *,
    target_intact: bool,
    now: dt.datetime | None = None,
) -> bool:
    """Read the remote values now? (False: the Secret stays as it is and nothing is written.)"""
    if trigger in ("refresh", "retry"):
        return True
    if trigger == "store" and policy == "Periodic":
        return True  # the store changed (new credentials, another path): read with it at once
    cond = status.ready_of(st)
    if not cond or cond.get("status") != "True":
        return True
    return not target_intact or due(policy, interval, st, version, now)


def next_refresh(
    policy: str, interval: float, st: Mapping[str, Any] | None, now: dt.datetime | None = None
) -> float | None:
    """Seconds until the next timed refresh (0 if overdue), None if this object has none."""
    if policy != "Periodic" or interval <= 0:
        return None
    refreshed = _time((st or {}).get("refreshTime"))
    if refreshed is None:
        return 0.0
    age = ((now or dt.datetime.now(dt.UTC)) - refreshed).total_seconds()
    return max(0.0, interval - age) if age >= 0 else 0.0


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
