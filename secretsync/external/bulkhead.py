"""Provider calls in flight, bounded per store and per namespace: one slow backend cannot take
every provider thread.

Every provider call (and every provider build, which may log in) blocks a thread of one shared
pool for as long as the backend takes, up to the SDK's read time-out. Without a bound, a tenant's
Vault that answers slowly (or a server made to) holds every thread with a few dozen
ExternalSecrets, and every other store of every other tenant waits. So a call first takes a slot
of its store (:data:`PER_STORE`), then one of the namespace it is made for (the ExternalSecret's;
a ClusterSecretStore's own check: :data:`CLUSTER`), waiting on the event loop, holding no thread:
a slow store queues behind itself, a tenant with many slow stores behind its namespace, and the
pool (:data:`POOL_THREADS`, more than any one namespace may use) keeps room for everyone else.
Slots are taken store first, then namespace, always in that order (no deadlock), and forgotten
when unused (no growth with the number of stores ever seen).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Hashable
from typing import Final

POOL_THREADS: Final = 64
"""Threads of the provider pool (secretsync.operator makes it)."""
PER_STORE: Final = 8
"""Calls in flight per store; ESO's default is one worker for every ExternalSecret."""
PER_NAMESPACE: Final = 16
"""Calls in flight per namespace (a quarter of the pool): four slow tenants before a fifth waits."""
CLUSTER: Final = "(cluster)"
"""The namespace slot of a ClusterSecretStore checked on its own."""


class _Slots:
    """Semaphores by key, each dropped when nobody holds or waits for it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._held: dict[Hashable, tuple[asyncio.Semaphore, int]] = {}

    @contextlib.asynccontextmanager
    async def take(self, key: Hashable) -> AsyncIterator[None]:
        semaphore, users = self._held.get(key) or (asyncio.Semaphore(self.size), 0)
        self._held[key] = (semaphore, users + 1)
        try:
            async with semaphore:
                yield
        finally:
            semaphore, users = self._held[key]
            if users <= 1:
                del self._held[key]
            else:
                self._held[key] = (semaphore, users - 1)

    def __len__(self) -> int:
        return len(self._held)


class Bulkhead:
    def __init__(self, per_store: int = PER_STORE, per_namespace: int = PER_NAMESPACE) -> None:
        self.stores = _Slots(per_store)
        self.namespaces = _Slots(per_namespace)

    @contextlib.asynccontextmanager
    async def slot(self, store: Hashable, namespace: str | None) -> AsyncIterator[None]:
        """Hold one slot of ``store`` and one of ``namespace`` (None: :data:`CLUSTER`)."""
        async with self.stores.take(store), self.namespaces.take(namespace or CLUSTER):
            yield
