"""SecretStores and ClusterSecretStores: validation, their status, and resolving one for a sync.

A store is checked when it appears or changes (its provider built and ``check`` called) and
again every ``spec.refreshInterval`` seconds when it sets one (ESO's store refresh), its status
written once per change, and the ExternalSecrets waiting for it woken when it becomes
ready; a changed store re-syncs every ExternalSecret using it. Stores of another controller class
(ESO's ``spec.controller``) are left alone, and so are their ExternalSecrets.

Sharding (secretsync.sharding): every instance watches every store, since its ExternalSecrets may
use any of them, but only the instance whose shard the store is in (``owns_store``) checks it and
writes its status. The others follow that status (:meth:`StoreHandling._on_peer_store`): their
ExternalSecrets are woken when the store becomes ready and synced again when it changed, as the
owner does for its own; resolving a store for a sync reads its status as written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from secretsync import kube, model, status
from secretsync.errors import NotPermitted, ProviderAuthError, SecretSyncError, SpecError
from secretsync.external.base import Body, ControllerBase
from secretsync.external.gateway import ReferentCredentials, StoreKey, store_key
from secretsync.external.outcome import SKIP, Outcome
from secretsync.providers.base import Provider

logger = logging.getLogger("secretsync.external")
_meta = kube.meta


class StoreHandling(ControllerBase):
    """The store half of the ExternalSecret controller."""

    def serves(self, store_body: Mapping[str, Any]) -> bool:
        """ESO's ShouldProcessStore: a store without ``spec.controller`` is everyone's."""
        spec = store_body.get("spec")
        controller = spec.get("controller") if isinstance(spec, Mapping) else None
        return not controller or controller == self.controller_class

    async def on_store_event(self, event_type: str | None, kind: str, body: Body) -> None:
        meta = _meta(body)
        key: StoreKey = (
            kind,
            meta.get("namespace") if kind == "SecretStore" else None,
            str(meta.get("name")),
        )
        if event_type == "DELETED":
            self._store_state.pop(key, None)
            self._peer_state.pop(key, None)
            self._woken_for.pop(key, None)
            await self.gateway.drop_store(key)
            await self._wake_users(key)
            return
        if not self.owns_store(body):
            await self._on_peer_store(kind, key, body)
            return
        self._peer_state.pop(key, None)
        uid, generation = str(meta.get("uid")), int(meta.get("generation") or 0)
        state = self._store_state.get(key)
        if state is not None and state[:2] == (uid, generation):
            return  # our own status write, or nothing that matters
        await self.gateway.drop_store(key, keep_uid_generation=(uid, generation))
        await self.check_store(kind, body)

    async def check_store(self, kind: str, body: Body) -> None:
        meta = _meta(body)
        key: StoreKey = (
            kind,
            meta.get("namespace") if kind == "SecretStore" else None,
            str(meta.get("name")),
        )
        uid, generation = str(meta.get("uid")), int(meta.get("generation") or 0)
        if not self.serves(body):
            logger.debug("%s %s: controller class is not %r; left alone", kind, key[2], self.controller_class)
            self._store_state.pop(key, None)
            return
        if not self.owns_store(body):  # moved to another shard before this (scheduled) look
            await self._on_peer_store(kind, key, body)
            return
        lock = self._locks.setdefault(f"store:{uid}", asyncio.Lock())
        async with lock:
            retry: float | None = None
            spec: model.StoreSpec | None = None
            try:
                spec = model.parse_store(body)
                provider = await self.gateway.provider(
                    spec, uid, generation, es_namespace=meta.get("namespace")
                )
                await self.gateway.call(
                    spec.provider_name,
                    "check",
                    provider.check,
                    store=store_key(spec),
                    namespace=meta.get("namespace"),
                    retry=spec.retry,
                )
                ready, reason, message = True, "Valid", f"{spec.provider_name}: store validated"
            except ReferentCredentials:
                ready, reason = True, "Valid"
                message = "credentials are read in each ExternalSecret's namespace: checked at every sync"
            except NotPermitted as exc:
                ready, reason, message = False, exc.reason, str(exc)
            except SpecError as exc:
                ready, reason, message = False, "InvalidProviderConfig", str(exc)
            except ProviderAuthError as exc:
                ready, reason, message = False, exc.reason, str(exc)
                retry = self.auth_backoff.next_delay(f"store:{uid}")
            except SecretSyncError as exc:
                ready, reason, message = False, exc.reason, str(exc)
                retry = self.backoff.next_delay(f"store:{uid}")
            previous = self._store_state.get(key)
            self._store_state[key] = (uid, generation, ready)
            plural = self.flavor.store_plurals[kind]
            extra = {"capabilities": "ReadOnly"} if self.flavor.eso_status else {}
            try:
                await self._write_status(
                    body, plural, ready, self.flavor.store_reason(ready, reason), message, extra
                )
            except kube.ApiError:
                retry = self.backoff.next_delay(f"store:{uid}")
                self._store_state.pop(key, None)  # not reported: the next look writes it
                self.scheduler.schedule(
                    (self.flavor.group_version, "store", key), retry, lambda: self._recheck_store(kind, key)
                )
                return
            self.metrics.set_ready(kind, str(meta.get("namespace") or ""), key[2], ready)
            if ready:
                self.backoff.reset(f"store:{uid}")
                self.auth_backoff.reset(f"store:{uid}")
                # A changed store re-syncs everything using it; a store seen for the first time
                # (e.g. at operator start) wakes only the ExternalSecrets that were waiting for it.
                await self._wake_users(key, only_waiting=not self._changed(key, uid, generation))
            elif previous is None or previous[2]:
                # Now known bad: ExternalSecrets waiting for the store show why, not "not validated yet".
                self._changed(key, uid, generation)
                await self._wake_users(key, only_waiting=True)
            if not ready and retry is not None:
                self.scheduler.schedule(
                    (self.flavor.group_version, "store", key), retry, lambda: self._recheck_store(kind, key)
                )
            elif spec is not None and spec.refresh_interval > 0:
                # ESO's store refreshInterval: validated again every interval (a revoked token
                # or a deleted role shows on the store, not only on its ExternalSecrets' syncs)
                self.scheduler.schedule(
                    (self.flavor.group_version, "store", key),
                    spec.refresh_interval,
                    lambda: self._recheck_store(kind, key),
                )

    async def _on_peer_store(self, kind: str, key: StoreKey, body: Body) -> None:
        """A store of another shard: never checked or written here. Its status, once written for
        its generation, wakes this instance's ExternalSecrets as :meth:`check_store` would."""
        # Ours before (relabelled)? Then no recheck of ours writes its status any more.
        self._store_state.pop(key, None)
        self.scheduler.cancel((self.flavor.group_version, "store", key))
        self.metrics.forget_object(kind, str(_meta(body).get("namespace") or ""), key[2])
        if not self.serves(body):
            self._peer_state.pop(key, None)
            return
        meta = _meta(body)
        uid, generation = str(meta.get("uid")), int(meta.get("generation") or 0)
        stored = body.get("status") if isinstance(body.get("status"), Mapping) else None
        cond = status.ready_of(stored)
        if cond is None or not self._status_is_current(stored or {}, meta):
            return  # its owner has not looked at this generation yet
        ready = cond.get("status") == "True"
        previous = self._peer_state.get(key)
        if previous == (uid, generation, ready):
            return  # nothing that matters (another status field, a label)
        self._peer_state[key] = (uid, generation, ready)
        changed = self._changed(key, uid, generation)
        if changed:
            await self.gateway.drop_store(key, keep_uid_generation=(uid, generation))
        if ready:
            await self._wake_users(key, only_waiting=not changed)
        elif previous is None or previous[2]:
            await self._wake_users(key, only_waiting=True)

    def _changed(self, key: StoreKey, uid: str, generation: int) -> bool:
        """Is this another store, or another generation, than the one its users were last woken for?
        (A store never seen before is not: at operator start every store is new.) Records it."""
        before = self._woken_for.get(key)
        self._woken_for[key] = (uid, generation)
        return before is not None and before != (uid, generation)

    def _status_is_current(self, stored: Mapping[str, Any], meta: Mapping[str, Any]) -> bool:
        """Was a store's stored status written for its current generation? ESO's CRDs prune
        ``observedGeneration`` (Flavor.observed_generation): there, as in ESO, the Ready
        condition is taken as it stands; its owner's next check rewrites it after an edit."""
        if not self.flavor.observed_generation:
            return True
        return bool(stored.get("observedGeneration") == meta.get("generation"))

    async def _recheck_store(self, kind: str, key: StoreKey) -> None:
        body = await self.api.get(self._path(self.flavor.store_plurals[kind], key[1], key[2]))
        if body is not None:
            await self.check_store(kind, body)

    async def _wake_users(self, key: StoreKey, *, only_waiting: bool = False) -> None:
        for user in sorted(self._users.get(key, set())):
            if not only_waiting or user in self._waiting:
                await self.sync_soon(*user, trigger="store")

    async def _resolve_store(
        self, spec: model.ExternalSecretSpec, ns: str
    ) -> tuple[model.StoreSpec, Provider] | Outcome:
        kind = spec.store_kind
        if kind == "ClusterSecretStore" and not self.cluster_stores:
            return Outcome(
                False,
                "StoreNotAllowed",
                f"ClusterSecretStore {spec.store_name}: this operator runs in namespaced mode "
                "(--watch-namespace) and serves SecretStores only; use a SecretStore in this namespace",
            )
        store_ns = ns if kind == "SecretStore" else None
        store_body = await self.api.get(
            self._path(self.flavor.store_plurals[kind], store_ns, spec.store_name)
        )
        where = f"{kind} {store_ns + '/' if store_ns else ''}{spec.store_name}"
        if store_body is None:
            return Outcome(
                False,
                "StoreNotFound",
                f"{where} does not exist; create it, or fix spec.secretStoreRef "
                "(retried when the store appears)",
            )
        if not self.serves(store_body):  # another controller class's: its ExternalSecrets are not ours
            return SKIP
        try:
            store = model.parse_store(store_body)
        except SpecError as exc:
            return Outcome(False, "StoreNotReady", f"{where} is invalid: {exc}")
        if kind == "ClusterSecretStore" and store.conditions:
            namespace = await self.api.get(kube.path_for("v1", "namespaces", None, ns))
            labels = (_meta(namespace or {}).get("labels")) or {}
            if not model.store_allows(store, ns, labels):
                return Outcome(
                    False,
                    "StoreNotAllowed",
                    f"{where} does not allow namespace {ns} (see its spec.conditions)",
                )
        smeta = _meta(store_body)
        key: StoreKey = (kind, store_ns, spec.store_name)
        state = self._store_state.get(key)
        cond = status.ready_of(store_body.get("status"))
        if state and state[:2] == (str(smeta.get("uid")), int(smeta.get("generation") or 0)):
            ready = state[2]
        else:
            stored = store_body.get("status") or {}
            ready = (
                cond is not None and cond.get("status") == "True" and self._status_is_current(stored, smeta)
            )
        if not ready:
            message = (cond or {}).get("message") or "not validated yet"
            return Outcome(
                False,
                "StoreNotReady",
                f"{where} is not ready: {message} (synced as soon as the store becomes ready)",
            )
        provider = await self.gateway.provider(
            store, str(smeta.get("uid")), int(smeta.get("generation") or 0), ns
        )
        return store, provider
