"""Produced Secrets listed once at start, so that a restart checks each SealedSecret's unsealed mark
(secretsync.unsealmark) and each ExternalSecret's target (its data hash) without one GET per
object: a few paged LISTs where there were N GETs.

A listed copy stands in for a GET at most once, and only while no watch event has shown that Secret
in another state since: the operator's Secret watch (kopf) reports every produced Secret, and
:meth:`SecretPrefetch.observe` records the last resourceVersion each event showed. A copy whose
resourceVersion differs from the last one seen (changed or deleted after the list, or the watch
ahead of the list) is dropped and the caller reads the Secret. A change made after the copy was used
reaches the controller as a watch event with a resourceVersion it has not seen, which reconciles the
object again, as it always has. Copies hold only what those checks read (no managedFields), and all
of them are dropped a few minutes after the list, used or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

Body = dict[str, Any]
Key = tuple[str, str]

logger = logging.getLogger("secretsync.prefetch")

_KEPT_METADATA = ("name", "namespace", "uid", "resourceVersion", "labels", "annotations", "ownerReferences")


def _key(body: Mapping[str, Any]) -> Key:
    meta = body.get("metadata") if isinstance(body.get("metadata"), Mapping) else {}
    return str(meta.get("namespace")), str(meta.get("name"))  # type: ignore[union-attr]


def _rv(body: Mapping[str, Any]) -> str:
    meta = body.get("metadata") if isinstance(body.get("metadata"), Mapping) else {}
    return str(meta.get("resourceVersion") or "")  # type: ignore[union-attr]


def _compact(secret: Mapping[str, Any]) -> Body | None:
    """The parts of a listed Secret a start-up check reads (None: not an object)."""
    meta = secret.get("metadata")
    if not isinstance(meta, Mapping):
        return None
    out: Body = {k: secret[k] for k in ("apiVersion", "kind", "type", "immutable", "data") if k in secret}
    out["metadata"] = {k: meta[k] for k in _KEPT_METADATA if k in meta}
    return out


class SecretPrefetch:
    """Listed copies of produced Secrets, each taken at most once (see the module's docstring).

    Inactive until :meth:`begin`: then every :meth:`take` answers "read it yourself"."""

    def __init__(self, *, wait: float = 30.0, keep_for: float = 300.0) -> None:
        self.wait = wait  # how long a reconcile waits for the list before reading on its own
        self.keep_for = keep_for  # copies not taken by then are dropped
        self._active = False
        self._listed = asyncio.Event()
        self._copies: dict[Key, Body] = {}
        self._seen: dict[Key, str] = {}  # last resourceVersion a watch event showed ("" = deleted)
        self._expiry: asyncio.TimerHandle | None = None
        self.hits = 0

    @property
    def active(self) -> bool:
        return self._active

    def begin(self) -> None:
        """Record watch events from now on; call before the watches start."""
        self._active = True

    async def load(self, pages: Callable[[], AsyncIterator[Body]]) -> None:
        """Keep the Secrets of ``pages`` (a paged LIST); an API failure keeps none."""
        try:
            async for page in pages():
                for item in page.get("items") or []:
                    if isinstance(item, Mapping) and (copy := _compact(item)) is not None:
                        self._copies[_key(copy)] = copy
        except Exception as exc:  # the API or a bug: every reconcile reads its Secret, as before
            logger.warning(
                "listing the produced Secrets at start failed (%s); reading them one by one",
                type(exc).__name__,
            )
            self.close()
        finally:
            self._listed.set()
        if self._active:
            self._expiry = asyncio.get_running_loop().call_later(self.keep_for, self.close)

    def observe(self, event_type: str | None, secret: Mapping[str, Any]) -> None:
        """A watch event for a produced Secret: remember the state it showed."""
        if self._active:
            self._seen[_key(secret)] = "" if event_type == "DELETED" else _rv(secret)

    async def take(self, namespace: str, name: str) -> Body | None:
        """The listed copy of Secret ``namespace/name`` if it may stand in for a GET, else None."""
        if not self._active:
            return None
        if not self._listed.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._listed.wait(), self.wait)
        copy = self._copies.pop((namespace, name), None)
        if copy is None:
            return None
        seen = self._seen.get((namespace, name))
        if seen is not None and seen != _rv(copy):
            return None
        self.hits += 1
        if not self._copies and self._listed.is_set():
            self.close()
        return copy

    def close(self) -> None:
        """Drop every copy; from now on every take answers None."""
        self._active = False
        self._copies.clear()
        self._seen.clear()
        self._listed.set()
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
