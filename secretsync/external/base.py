"""The state every ExternalSecret controller keeps, and how it writes a status (no kopf here)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from typing import Any

from secretsync import kube, status, tenancy
from secretsync.external.gateway import Gateway, StoreKey
from secretsync.external.outcome import SECRETSYNC, Flavor
from secretsync.external.writer import SecretWriter
from secretsync.metrics import Metrics
from secretsync.prefetch import SecretPrefetch
from secretsync.scheduler import Backoff, Scheduler

logger = logging.getLogger("secretsync.external")

DEFAULT_CONTROLLER_CLASS = "default"  # ESO's --controller-class default

Body = dict[str, Any]
_meta = kube.meta


class ControllerBase:
    """Shared state: the API flavour, the gateway to providers, timers, and who uses what."""

    def __init__(
        self,
        api: kube.KubeApi,
        metrics: Metrics,
        executor: Executor,
        *,
        scheduler: Scheduler | None = None,
        rules: tenancy.Rules | None = None,
        cluster_stores: bool = True,
        controller_class: str = DEFAULT_CONTROLLER_CLASS,
        flavor: Flavor = SECRETSYNC,
        owns_store: Callable[[Mapping[str, Any]], bool] | None = None,
        owns: Callable[[Mapping[str, Any]], bool] | None = None,
        prefetch: SecretPrefetch | None = None,
    ) -> None:
        self.api = api
        # Produced Secrets listed at start (secretsync.prefetch): a restart checks targets without a GET each.
        self.prefetch = prefetch or SecretPrefetch()
        self.flavor = flavor
        self.controller_class = controller_class
        # Sharding (secretsync.sharding): is this store in this instance's shard? Only then does it
        # validate the store and write its status; any store can still be used by its ExternalSecrets.
        self.owns_store: Callable[[Mapping[str, Any]], bool] = owns_store or (lambda _: True)
        # ... and is this ExternalSecret? (a scheduled sync drops one relabelled to another shard)
        self.owns: Callable[[Mapping[str, Any]], bool] = owns or (lambda _: True)
        # Namespaced mode (--watch-namespace) has no rights to cluster-scoped objects.
        self.cluster_stores = cluster_stores
        self.metrics = metrics
        self.executor = executor
        self.scheduler = scheduler or Scheduler()
        self.backoff = Backoff(base=1.0, cap=300.0)
        # Rejected credentials rarely fix themselves within seconds: back off from 10 s.
        self.auth_backoff = Backoff(base=10.0, cap=300.0)
        self.gateway = Gateway(api, metrics, executor, rules or tenancy.Rules())
        self.writer = SecretWriter(api, flavor, self._remember, self.backoff.next_delay)
        self._locks: dict[str, asyncio.Lock] = {}
        self._done: dict[str, tuple[Any, ...]] = {}
        self._secret_rv: dict[str, str] = {}
        self._targets: dict[tuple[str, str], tuple[str, str]] = {}  # (ns, secret name) -> (ns, es name)
        # ... and the other way round, so that a reconcile or a deletion finds an ExternalSecret's
        # previous target in O(1) (not by a scan of every target). It may name a Secret that another
        # ExternalSecret registered since: ``_targets`` says who has it.
        self._target_of: dict[tuple[str, str], tuple[str, str]] = {}  # (ns, es name) -> (ns, secret name)
        self._users: dict[StoreKey, set[tuple[str, str]]] = {}  # store -> ExternalSecrets using it
        self._store_of: dict[tuple[str, str], StoreKey] = {}  # (ns, es name) -> the store it uses
        self._store_state: dict[StoreKey, tuple[str, int, bool]] = {}  # store -> (uid, generation, ready)
        # Stores of other shards: (uid, generation, ready) as their status last said, for that generation.
        self._peer_state: dict[StoreKey, tuple[str, int, bool]] = {}
        # The (uid, generation) of each store whose users were last woken for it, ours or a peer's,
        # kept while it is another class's or shard's: back with a new spec, it is a changed store.
        self._woken_for: dict[StoreKey, tuple[str, int]] = {}
        self._waiting: set[tuple[str, str]] = set()  # ExternalSecrets waiting for their store

    def _remember(self, key: str, resource_version: str) -> None:
        self._secret_rv[key] = resource_version

    def _path(self, plural: str, namespace: str | None, name: str, *sub: str) -> str:
        return kube.path_for(self.flavor.group_version, plural, namespace, name, *sub)

    async def sync_by_name(self, namespace: str, name: str, *, trigger: str) -> None:
        """Read an ExternalSecret again and reconcile it (the controller's)."""
        raise NotImplementedError

    async def sync_soon(self, namespace: str, name: str, *, trigger: str) -> None:
        """:meth:`sync_by_name`, retried with backoff when the API fails (the controller's)."""
        raise NotImplementedError

    async def _write_status(
        self,
        body: Body,
        plural: str,
        ready: bool,
        reason: str,
        message: str,
        extra: dict[str, Any],
        *,
        flip_event: bool = True,
    ) -> None:
        """Write the status if it changed. Events: a Warning for every failure written, a Normal one
        when Ready flips, unless ``flip_event`` is False (the caller posts this sync's own event:
        one Normal event per sync, as ESO's)."""
        meta = _meta(body)
        previous = body.get("status") if isinstance(body.get("status"), dict) else None
        new = status.build(
            previous,
            ready=ready,
            reason=reason,
            message=message,
            # Not for kinds whose CRD prunes it (ESO's): it would never be stored, so the status
            # would never equal the one built, and every look would write it again.
            generation=meta.get("generation") if self.flavor.observed_generation else None,
            extra=extra,
        )
        if new == previous:
            return
        path = self._path(plural, meta.get("namespace"), str(meta.get("name")), "status")
        try:
            await self.api.write_status(path, str(meta.get("uid")), new)  # only onto this very object
        except (kube.NotFound, kube.Conflict):
            return  # deleted or replaced meanwhile: nothing of this object's to report
        except kube.Invalid as exc:  # refused as such: no retry can mend it
            logger.error("the API server refuses the status of %s: %s", kube.ref_of(body), exc)
            return
        except kube.ApiError as exc:
            logger.warning("cannot write status of %s: %s", kube.ref_of(body), exc)
            raise  # the caller retries with backoff
        if not ready or (flip_event and status.flipped(previous, new)):
            kind = str(body.get("kind"))
            await kube.post_event(
                self.api,
                body,
                type_="Normal" if ready else "Warning",
                reason=reason,
                message=f"{kind}: {message}",
            )
