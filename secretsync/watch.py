"""List, then watch, the objects that carry a label: for the watches kopf cannot make.

kopf watches a resource once, with one server-side label selector (``settings.watching.label_selectors``):
for Secrets that is the produced Secrets' label (:data:`secretsync.ownership.PRODUCED_SELECTOR`). The
sealing key Secrets carry other labels (ours, and Bitnami's with ``--bitnami-keys``: a selector cannot
say "either"), so they are watched here, one :class:`Watcher` per label, in the operator's namespace
only, the way client-go's reflector does it:

* a LIST in pages (``limit`` + ``continue``) gives the objects and a resourceVersion;
* a WATCH from that resourceVersion (``labelSelector``, ``allowWatchBookmarks``) runs until the
  server ends it (``timeoutSeconds``), then the next one goes on from the last resourceVersion
  seen (bookmarks move it too);
* 410 Gone (the resourceVersion or a continue token is too old): LIST again;
* any other failure: wait (1 s doubling to 60 s; a watch that worked resets it), then watch again
  from where it was (LIST again when there is nothing to go on from).

Handlers get ``(type, object)``: type None for the objects of a LIST (kopf's convention),
ADDED / MODIFIED / DELETED afterwards; an object whose label is taken off arrives as DELETED (the
API server's selector semantics). ``on_listed`` runs after every complete LIST, so whatever
happened while the watch was down (a deletion, say) is caught up with.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from secretsync import kube
from secretsync.scheduler import Backoff

logger = logging.getLogger("secretsync.watch")

Body = dict[str, Any]
EventHandler = Callable[[str | None, Body], Awaitable[None]]


class Gone(Exception):
    """410: the resourceVersion to go on from is too old; list again."""


class Watcher:
    """One label-selected list+watch loop over ``path`` (a collection, e.g. one namespace's Secrets)."""

    def __init__(
        self,
        api: kube.KubeApi,
        path: str,
        label_selector: str,
        on_event: EventHandler,
        *,
        on_listed: Callable[[], Awaitable[None]] | None = None,
        page_size: int = kube.LIST_PAGE,
        timeout: float = kube.WATCH_TIMEOUT,
        backoff: Backoff | None = None,
    ) -> None:
        self.api = api
        self.path = path
        self.label_selector = label_selector
        self.on_event = on_event
        self.on_listed = on_listed
        self.page_size = page_size
        self.timeout = timeout
        self.backoff = backoff or Backoff(base=1.0, cap=60.0)
        self.resource_version: str | None = None
        self.lists = 0  # complete LISTs so far (1 at start, +1 per 410 Gone)

    @property
    def what(self) -> str:
        return f"{self.path} ({self.label_selector})"

    async def run(self) -> None:
        """Forever (until cancelled): list, then watch; list again on 410 Gone."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                if self.resource_version is None:
                    await self._list()
                started = loop.time()
                await self._watch()
                self.backoff.reset(self.path)  # the server ended a healthy watch: not a failure
                if loop.time() - started < 1.0:
                    await asyncio.sleep(1.0)  # a server that ends watches at once is not flooded
            except Gone:
                logger.debug(
                    "watch %s: resourceVersion %s is gone, listing again", self.what, self.resource_version
                )
                self.resource_version = None
            except Exception as exc:  # an API failure or a bug: the loop must outlive it
                delay = self.backoff.next_delay(self.path)
                shown = exc if isinstance(exc, kube.ApiError) else f"unexpected {type(exc).__name__}"
                logger.warning("watch %s failed, again in %.1fs: %s", self.what, delay, shown)
                await asyncio.sleep(delay)

    async def _list(self) -> None:
        version: str | None = None
        try:
            async for page in self.api.list_pages(
                self.path, label_selector=self.label_selector, limit=self.page_size
            ):
                version = str((page.get("metadata") or {}).get("resourceVersion") or "") or None
                for item in page.get("items") or []:
                    if isinstance(item, dict):
                        await self.on_event(None, item)
        except kube.ApiError as exc:
            if exc.status == 410:
                raise Gone() from None
            raise
        self.lists += 1
        self.backoff.reset(self.path)
        self.resource_version = version
        if self.on_listed is not None:
            await self.on_listed()

    async def _watch(self) -> None:
        try:
            async for event in self.api.watch(
                self.path,
                label_selector=self.label_selector,
                resource_version=self.resource_version,
                timeout=self.timeout,
            ):
                kind, obj = event.get("type"), event.get("object")
                if not isinstance(obj, dict):
                    continue
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        raise Gone()
                    raise kube.ApiError(
                        int(obj.get("code") or 0), str(obj.get("reason")), str(obj.get("message"))
                    )
                version = (obj.get("metadata") or {}).get("resourceVersion")
                if version:
                    self.resource_version = str(version)
                if kind in ("ADDED", "MODIFIED", "DELETED"):
                    await self.on_event(str(kind), obj)
                self.backoff.reset(self.path)
        except kube.ApiError as exc:
            if exc.status == 410:
                raise Gone() from None
            raise
