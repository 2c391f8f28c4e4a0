"""Produced Secrets listed once at start, so that a restart checks each SealedSecret's unsealed mark
(secretsync.unsealmark) and each ExternalSecret's target (its data hash) without one GET per
object: a few paged LISTs where there were N GETs.

A listed copy stands in for a GET at most once, and only when the operator's Secret watch (kopf)
has shown that Secret in the very state the list did: :meth:`SecretPrefetch.observe` records the
last resourceVersion each watch event showed, and a copy is used only if that is the copy's. A
Secret changed or deleted after the list (or before the watch began: then the watch never reports
it), or not reported by the watch yet, is read by the caller. A change made after the copy was used
reaches the controller as a watch event with a resourceVersion it has not seen, which reconciles the
object again, as it always has. Copies hold only what those checks read (no managedFields), within
a budget (tenants can label Secrets of their own: past it, nothing is kept and every object reads its
Secret, as before); all of them are dropped a few minutes after the list, used or not, and at once
when the list comes too late (one reconcile waited ``wait`` for it: the others do not wait).
"""

from __future__ import annotations

import asyncio
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


def _size(copy: Mapping[str, Any]) -> int:
    """About what a copy holds: its values and annotations (what a tenant can make large)."""
    meta = copy.get("metadata") or {}
    texts = [*(copy.get("data") or {}).values(), *(meta.get("annotations") or {}).values()]
    return 512 + sum(len(t) for t in texts if isinstance(t, str))


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

    def __init__(self, *, wait: float = 10.0, keep_for: float = 300.0, max_bytes: int = 64 * 2**20) -> None:
        self.wait = wait  # how long a reconcile waits for the list before reading on its own
        self.keep_for = keep_for  # copies not taken by then are dropped
        self.max_bytes = max_bytes  # what all copies may hold (their data and annotations)
        self.watch_wait = 2.0  # how long a listed copy waits for the watch to report its Secret
        self._reported: dict[Key, asyncio.Event] = {}  # copies waiting for the watch to report them
        self._held: dict[Key, str] = {}  # copies taken, not decided on yet -> their resourceVersion
        self._bytes = 0
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
                        self._bytes += _size(copy)
                        if self._bytes > self.max_bytes:
                            logger.warning(
                                "the produced Secrets listed at start exceed %d MiB; reading them one by one",
                                self.max_bytes // 2**20,
                            )
                            self.close()
                            return
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
            key = _key(secret)
            self._seen[key] = "" if event_type == "DELETED" else _rv(secret)
            if (reported := self._reported.pop(key, None)) is not None:
                reported.set()

    async def take(self, namespace: str, name: str) -> Body | None:
        """The listed copy of Secret ``namespace/name`` if it may stand in for a GET, else None."""
        if not self._active:
            return None
        if not self._listed.is_set():
            try:
                await asyncio.wait_for(self._listed.wait(), self.wait)
            except TimeoutError:  # too slow to help: nobody waits for it again
                logger.info("the start-up list of produced Secrets is slow; reading them one by one")
                self.close()
                return None
        key = (namespace, name)
        copy = self._copies.pop(key, None)
        if copy is None:
            return None
        self._held[key] = _rv(copy)
        try:
            if key not in self._seen:  # the watch's own listing may not have reached it yet
                reported = self._reported.setdefault(key, asyncio.Event())
                try:
                    await asyncio.wait_for(reported.wait(), self.watch_wait)
                except TimeoutError:
                    self._reported.pop(key, None)
                    return None  # not reported: deleted before the watch began, or the watch is late
            if self._seen.get(key) != _rv(copy):
                return None  # shown by the watch in another state: read it
            self.hits += 1
            return copy
        finally:
            self._held.pop(key, None)
            if not self._copies and not self._held and self._active and self._listed.is_set():
                self.close()  # every copy taken and decided on: nothing more to hold or record

    def awaited(self, event_type: str | None, secret: Mapping[str, Any]) -> bool:
        """Is this watch event the very state a reconcile is about to use from its listed copy?
        (It then records that state itself: the event needs no reconcile of its own.)"""
        held = self._held.get(_key(secret))
        return event_type != "DELETED" and held is not None and held == _rv(secret)

    def close(self) -> None:
        """Drop every copy; from now on every take answers None."""
        self._active = False
        self._copies.clear()
        self._seen.clear()
        for reported in self._reported.values():
            reported.set()  # nobody waits on a closed prefetch (its copies are gone: they read)
        self._reported.clear()
        self._listed.set()
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
