"""Pure builders for the status of our custom resources.

One ``Ready`` condition carries the outcome; ``lastTransitionTime`` moves only
when the condition's status flips (so `kubectl get` ages stay meaningful and
GitOps health checks do not flap), and the operator writes status only when
:func:`build` returns something different from what is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

READY = "Ready"


def now_iso(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def intent_digest(body: Mapping[str, Any]) -> str:
    """A digest of what the user asked for: spec, labels and annotations (not status).

    Controllers remember it per object to drop the watch events their own status and
    child writes cause; any label or annotation change (e.g. a force-sync bump) changes it.
    """
    meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    payload = [meta.get("labels"), meta.get("annotations"), body.get("spec")]  # type: ignore[union-attr]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def ready_of(status: Mapping[str, Any] | None, type_: str = READY) -> dict[str, Any] | None:
    """The stored Ready condition (or the one of ``type_``), if any."""
    for cond in (status or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == type_:
            return cond
    return None


def build(
    previous: Mapping[str, Any] | None,
    *,
    ready: bool,
    reason: str,
    message: str,
    generation: int | None,
    now: dt.datetime | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The new status: previous fields kept, Ready replaced, ``extra`` merged on top."""
    old = ready_of(previous)
    flag = "True" if ready else "False"
    transition = old.get("lastTransitionTime") if old and old.get("status") == flag else None
    condition = {
        "type": READY,
        "status": flag,
        "reason": reason,
        "message": message,
        "lastTransitionTime": transition or now_iso(now),
    }
    if generation is not None:
        condition["observedGeneration"] = generation
    others = [
        c for c in (previous or {}).get("conditions") or [] if isinstance(c, dict) and c.get("type") != READY
    ]
    status: dict[str, Any] = {k: v for k, v in (previous or {}).items() if k != "conditions"}
    status["conditions"] = [condition, *others]
    if generation is not None:
        status["observedGeneration"] = generation
    status.update(extra or {})
    return status


def build_synced(
    previous: Mapping[str, Any] | None,
    *,
    ready: bool,
    message: str,
    generation: int | None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Bitnami's SealedSecret status (its controller's updateSealedSecretsStatusConditions): one
    ``Synced`` condition with ``lastUpdateTime``, ``lastTransitionTime`` moved when ``status``
    flips, and ``observedGeneration``; Argo CD's built-in health check for bitnami.com reads it.
    Unlike Bitnami, the message is kept on success too (what was unsealed), and
    ``lastUpdateTime`` moves only when something else changes, so an unchanged object is not
    rewritten."""
    flag = "True" if ready else "False"
    conditions = [c for c in (previous or {}).get("conditions") or [] if isinstance(c, dict)]
    old = next((c for c in conditions if c.get("type") == "Synced"), None)
    stamp = now_iso(now)
    condition: dict[str, Any] = {"type": "Synced", "status": flag, "message": message}
    if old and old.get("status") == flag:
        condition["lastTransitionTime"] = old.get("lastTransitionTime") or stamp
        same = old.get("message") == message and (previous or {}).get("observedGeneration") == generation
        condition["lastUpdateTime"] = (
            old.get("lastUpdateTime") if same and old.get("lastUpdateTime") else stamp
        )
    else:
        condition["lastTransitionTime"] = condition["lastUpdateTime"] = stamp
    status: dict[str, Any] = {k: v for k, v in (previous or {}).items() if k != "conditions"}
    status["conditions"] = (
        [c if c is not old else condition for c in conditions] if old else [*conditions, condition]
    )
    if generation is not None:
        status["observedGeneration"] = generation
    return status


def flipped(previous: Mapping[str, Any] | None, new: Mapping[str, Any], type_: str = READY) -> bool:
    """True when the Ready status changed (or was absent): events fire on flips only."""
    old, cur = ready_of(previous, type_), ready_of(new, type_)
    return (old or {}).get("status") != (cur or {}).get("status") or (old or {}).get("reason") != (
        cur or {}
    ).get("reason")
