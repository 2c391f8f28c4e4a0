"""Reconcile ExternalSecrets (no kopf here: the operator module feeds events in).

Stores are :mod:`.stores`' half of the class, the shared state and status writing :mod:`.base`'s.

ExternalSecret flow: parse -> resolve the store (controller class, namespace rules, store
Ready) -> decide whether to read at all (:mod:`.refresh`: refreshPolicy, target intact) -> the
store's provider (:mod:`.gateway`, one login shared by every ExternalSecret) -> fetch
(:mod:`.fetch`: dataFrom in order with rewrite, then data on top) -> templates (:mod:`.render`,
off the event loop) -> creationPolicy and ownership (:mod:`.writer`: write only if different)
-> status once, only if changed. A provider, rewrite or template error never touches the
existing Secret.

Refreshes (``Periodic``) are scheduled per object at ``refreshInterval`` plus up to 10 %
jitter, so objects do not refresh in lockstep. After an operator restart an object that synced
recently (status.refreshTime within its interval, same generation, target Secret intact) is not
fetched again: its next refresh is scheduled for when it is due. This is what avoids ESO's
refresh storm.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import logging
import random
import time
from collections.abc import Mapping
from typing import Any

from secretsync import kube, model, ownership, secretcheck, status
from secretsync.errors import (
    INTERNAL_REASON,
    OwnershipConflict,
    ProviderAuthError,
    ProviderError,
    RewriteError,
    SecretNotFound,
    SecretSyncError,
    SpecError,
    TemplateError,
    TemplateSourceError,
    unexpected,
)
from secretsync.external import fetch, refresh, render
from secretsync.external.base import DEFAULT_CONTROLLER_CLASS, Body
from secretsync.external.gateway import StoreKey, store_key
from secretsync.external.outcome import SKIP, Outcome
from secretsync.external.stores import StoreHandling
from secretsync.external.writer import is_intact

logger = logging.getLogger("secretsync.external")

JITTER = 0.1
STORE_WAIT_REASONS = frozenset({"StoreNotReady", "StoreNotFound"})
_meta = kube.meta
__all__ = ["DEFAULT_CONTROLLER_CLASS", "ExternalController"]


class ExternalController(StoreHandling):
    """ExternalSecrets and SecretStores/ClusterSecretStores, one reconcile at a time per object."""

    # ------------------------------------------------------------------ events in

    async def on_external_event(self, event_type: str | None, body: Body) -> None:
        meta = _meta(body)
        uid, ns, name = str(meta.get("uid")), str(meta.get("namespace")), str(meta.get("name"))
        if event_type == "DELETED":
            self._forget(uid, ns, name)
            return
        if meta.get("deletionTimestamp"):
            return
        if self._done.get(uid) == self._fingerprint(body):
            return
        await self.reconcile(body)  # first seen (at start) or changed: alike to refresh.must_fetch

    async def on_secret_event(self, event_type: str | None, secret: Body) -> None:
        """A target Secret was deleted or edited: sync its ExternalSecret again (drift repair)."""
        meta = _meta(secret)
        owner = self._targets.get((str(meta.get("namespace")), str(meta.get("name"))))
        if owner is None or self.prefetch.awaited(event_type, secret):
            return
        if event_type != "DELETED" and self._secret_rv.get(f"{owner[0]}/{owner[1]}") == meta.get(
            "resourceVersion"
        ):
            return
        await self.sync_soon(*owner, trigger="drift")

    async def close(self) -> None:
        await self.gateway.close()

    # ------------------------------------------------------------------ ExternalSecrets

    def _forget(self, uid: str, ns: str, name: str) -> None:
        self._done.pop(uid, None)
        self._secret_rv.pop(f"{ns}/{name}", None)
        self._locks.pop(uid, None)
        self._unbind_target((ns, name))
        self._unbind_store((ns, name))
        self._waiting.discard((ns, name))
        self.scheduler.cancel((self.flavor.group_version, "es", ns, name))
        self.backoff.reset(uid)
        self.metrics.forget_object("ExternalSecret", ns, name)

    def _fingerprint(self, body: Mapping[str, Any]) -> tuple[Any, ...]:
        return (_meta(body).get("generation"), status.intent_digest(body))

    def _synced_version(self, body: Body) -> str:
        """ESO's resource version: the generation and a digest of what the user asked for."""
        return f"{_meta(body).get('generation')}-{self._fingerprint(body)[1][:12]}"

    async def sync_by_name(self, namespace: str, name: str, *, trigger: str = "refresh") -> None:
        """Read the ExternalSecret and sync it. An API error is raised: run by the scheduler, the
        job then runs again with backoff (a failed scheduled refresh is never lost)."""
        body = await self.api.get(self._path(self.flavor.es_plural, namespace, name))
        if body is not None and not self.owns(body):
            self._forget(str(_meta(body).get("uid")), namespace, name)  # relabelled to another shard
            return
        if body is not None and not _meta(body).get("deletionTimestamp"):
            logger.debug("ExternalSecret %s/%s: sync (%s)", namespace, name, trigger)
            outcome = await self.reconcile(body, trigger=trigger)
            if outcome is not None and outcome.unreported:
                raise kube.ApiError(0, "StatusNotWritten", f"ExternalSecret {namespace}/{name}")

    async def sync_soon(self, namespace: str, name: str, *, trigger: str) -> None:
        """Sync now; when the API fails on the way, retry with backoff instead of losing it."""
        await self.scheduler.run_now(
            (self.flavor.group_version, "es", namespace, name),
            lambda: self.sync_by_name(namespace, name, trigger=trigger),
            f"ExternalSecret {namespace}/{name}",
        )

    async def reconcile(self, body: Body, *, trigger: str = "event") -> Outcome | None:
        meta = _meta(body)
        uid, ns, name = str(meta.get("uid")), str(meta.get("namespace")), str(meta.get("name"))
        lock = self._locks.setdefault(uid, asyncio.Lock())
        async with lock:
            fingerprint = self._fingerprint(body)
            spec: model.ExternalSecretSpec | None
            try:
                spec = model.parse_external_secret(body)
            except SpecError as exc:
                spec, invalid = None, exc
            started = time.perf_counter()
            try:
                if spec is None:
                    outcome = Outcome(
                        False, invalid.reason, f"{invalid}; fix the ExternalSecret and re-apply it"
                    )
                else:
                    outcome = await self._reconcile(body, spec, trigger)
            except SecretSyncError as exc:  # anything unforeseen still becomes a clear status
                retry = self.backoff.next_delay(uid) if exc.retryable else None
                outcome = Outcome(False, exc.reason, str(exc), retry=retry)
            except kube.Invalid as exc:  # a 422 is never transient
                outcome = Outcome(False, "ApiError", f"the Kubernetes API refused a request: {exc}")
            except kube.ApiError as exc:  # 429, 5xx, time-outs: the real cause, and a retry
                outcome = Outcome(
                    False, "ApiError", f"Kubernetes API: {exc}", retry=self.backoff.next_delay(uid)
                )
            except Exception as exc:  # a bug: still a status for this generation, never a value
                logger.error("ExternalSecret %s/%s: unexpected %s", ns, name, type(exc).__name__)
                outcome = Outcome(False, INTERNAL_REASON, unexpected(exc), retry=self.backoff.next_delay(uid))
            self._done[uid] = fingerprint
            if outcome.skip:
                return None
            self.metrics.sync_duration.observe(time.perf_counter() - started)
            self.metrics.reconcile_duration.labels(kind="ExternalSecret").observe(
                time.perf_counter() - started
            )
            self.metrics.syncs.labels(namespace=ns, name=name).inc()
            if not await self._report(body, outcome, spec):
                self._done.pop(uid, None)
                outcome = dataclasses.replace(
                    outcome, unreported=True, retry=outcome.retry or self.backoff.next_delay(uid)
                )
            if outcome.reason in STORE_WAIT_REASONS:
                self._waiting.add((ns, name))
                if outcome.retry is None:
                    # Woken when the store becomes ready; and looked at again with backoff, since
                    # the store may have become ready while this reconcile was still reporting.
                    outcome = dataclasses.replace(outcome, retry=self.backoff.next_delay(uid))
            else:
                self._waiting.discard((ns, name))
            if outcome.retry is not None:
                self.scheduler.schedule(
                    (self.flavor.group_version, "es", ns, name),
                    outcome.retry,
                    lambda: self.sync_by_name(ns, name, trigger="retry"),
                )
            elif outcome.synced and spec is not None:
                self.backoff.reset(uid)
                self.auth_backoff.reset(uid)
                self._schedule_refresh(ns, name, spec, None)
            elif spec is not None:
                # Not retried (a retry cannot mend it: a remote value that does not decode, a
                # template that fails on the data, a key the provider refuses), but the remote
                # side may still be mended: it is looked at again at the next refresh, as ESO does.
                self._schedule_refresh(ns, name, spec, None)
            return outcome

    def _schedule_refresh(self, ns: str, name: str, spec: model.ExternalSecretSpec, st: Any) -> None:
        due_in = refresh.next_refresh(spec.refresh_policy, spec.refresh_interval, st)
        if due_in is None:
            self.scheduler.cancel((self.flavor.group_version, "es", ns, name))
            return
        delay = (spec.refresh_interval if st is None else due_in) * (1 + random.uniform(0, JITTER))
        self.scheduler.schedule(
            (self.flavor.group_version, "es", ns, name),
            delay,
            lambda: self.sync_by_name(ns, name, trigger="refresh"),
        )

    async def _skip_fetch(self, body: Body, spec: model.ExternalSecretSpec, trigger: str) -> bool:
        """No read now (refreshPolicy, target intact)? Then the next refresh is scheduled, if any.

        Decided before the store is even looked at: at start-up, thousands of intact objects cost
        one Secret read each and nothing else."""
        st = body.get("status") if isinstance(body.get("status"), dict) else None
        version = self._synced_version(body)
        policy, interval = spec.refresh_policy, spec.refresh_interval
        if refresh.must_fetch(trigger, policy, interval, st, version, target_intact=True):
            return False  # whatever the Secret looks like
        ns, name = str(_meta(body).get("namespace")), str(_meta(body).get("name"))
        secret = None
        if spec.target.creation_policy not in ("None", "Orphan"):
            secret = await self.prefetch.take(ns, spec.target.name)  # listed at start, or None
            if not is_intact(secret, spec):  # read it (again: a listed copy is never written from)
                secret = await self.api.get(kube.path_for("v1", "secrets", ns, spec.target.name))
            if not is_intact(secret, spec):
                return False
            if secret is not None and not ownership.is_labelled(secret):
                # Written by a version without the watch label, or the label was taken off by
                # hand: put it back (the operator only sees labelled Secrets), still without a fetch.
                if not await self.writer.relabel(body, spec, secret):
                    return False
                secret = None  # remembered by relabel
        if secret is not None:
            self._remember(f"{ns}/{name}", _meta(secret).get("resourceVersion", ""))
        self._schedule_refresh(ns, name, spec, st or {})
        self.metrics.set_ready("ExternalSecret", ns, name, True)
        cond = status.ready_of(st) or {}
        if not self._acknowledged(body, st or {}):
            # A spec change the policy does not read for (CreatedOnce, refreshInterval 0): the
            # generation is still acknowledged, or health checks would wait for it forever.
            await self._write_status(
                body, self.flavor.es_plural, True, str(cond.get("reason")), str(cond.get("message")), {}
            )
        return True

    def _acknowledged(self, body: Body, st: Mapping[str, Any]) -> bool:
        """Does the stored status acknowledge the object's generation?"""
        generation = _meta(body).get("generation")
        if self.flavor.observed_generation:
            return bool(st.get("observedGeneration") == generation)
        # ESO's CRD prunes observedGeneration: the generation is the one of the last sync, which
        # syncedResourceVersion names (:meth:`_synced_version`).
        synced = st.get("syncedResourceVersion")
        return isinstance(synced, str) and synced.partition("-")[0] == str(generation)

    def _register(self, body: Body, spec: model.ExternalSecretSpec) -> None:
        meta = _meta(body)
        ns, name = str(meta.get("namespace")), str(meta.get("name"))
        es, target = (ns, name), (ns, spec.target.name)
        if self._target_of.get(es) != target:
            self._unbind_target(es)  # retargeted: its previous Secret is no longer watched for it
        self._targets[target] = es  # the last one registered has it, as before
        self._target_of[es] = target
        store_key: StoreKey = (
            spec.store_kind,
            ns if spec.store_kind == "SecretStore" else None,
            spec.store_name,
        )
        if self._store_of.get(es) != store_key:
            self._unbind_store(es)
        self._users.setdefault(store_key, set()).add(es)
        self._store_of[es] = store_key

    def _unbind_target(self, es: tuple[str, str]) -> None:
        """Drop the ExternalSecret's target from ``_targets``, unless another has registered it since."""
        target = self._target_of.pop(es, None)
        if target is not None and self._targets.get(target) == es:
            del self._targets[target]

    def _unbind_store(self, es: tuple[str, str]) -> None:
        store = self._store_of.pop(es, None)
        if store is not None:
            users = self._users.get(store)
            if users is not None:
                users.discard(es)
                if not users:  # no empty sets left behind by ExternalSecrets that came and went
                    del self._users[store]

    async def _reconcile(self, body: Body, spec: model.ExternalSecretSpec, trigger: str) -> Outcome:
        meta = _meta(body)
        ns, uid = str(meta.get("namespace")), str(meta.get("uid"))
        self._register(body, spec)
        if await self._skip_fetch(body, spec, trigger):
            return SKIP
        resolved = await self._resolve_store(spec, ns)
        if isinstance(resolved, Outcome):
            return resolved
        store, provider = resolved
        try:
            values = await fetch.fetch(
                spec,
                provider,
                lambda op, fn, ref: self.gateway.call(
                    store.provider_name, op, fn, ref, store=store_key(store), namespace=ns, retry=store.retry
                ),
            )
        except SecretNotFound as exc:
            return Outcome(
                False,
                "SecretMissing",
                f"{exc} (deletionPolicy Retain keeps the Secret as it is)",
                retry=self.backoff.next_delay(uid),
            )
        except ProviderAuthError as exc:
            return Outcome(False, exc.reason, str(exc), retry=self.auth_backoff.next_delay(uid))
        except (ProviderError, RewriteError) as exc:
            return Outcome(False, exc.reason, str(exc), retry=self.backoff.next_delay(uid))
        except SpecError as exc:
            return Outcome(False, exc.reason, str(exc))
        if values is fetch.Nothing.DELETE:
            return await self.writer.delete_target(body, spec)
        if values is fetch.Nothing.KEEP:
            return Outcome(
                True,
                "SecretSynced",
                f"the sources hold no data; Secret {ns}/{spec.target.name} left as it is "
                "(deletionPolicy Retain)",
                synced=True,
            )
        try:
            sources = await self._template_sources(spec, ns)
            # Off the event loop: a template's time budget bounds a worker thread, not the loop.
            desired = await asyncio.get_running_loop().run_in_executor(
                self.executor, render.render, spec, values, sources
            )
        except TemplateSourceError as exc:
            return Outcome(False, exc.reason, str(exc), retry=self.backoff.next_delay(uid))
        except TemplateError as exc:
            return Outcome(False, "TemplateFailed", f"spec.target.template: {exc}")
        try:
            return await self.writer.write(body, spec, desired)
        except secretcheck.InvalidSecret as exc:
            return Outcome(False, exc.reason, f"{exc}; fix spec.target (or the data it is built from)")
        except OwnershipConflict as exc:
            # The other writer may go away (deleted, retargeted): look again, slowly (backoff to 5 min).
            return Outcome(False, exc.reason, str(exc), retry=self.backoff.next_delay(uid))
        except kube.Invalid as exc:  # refused as invalid: the same write can never pass
            return Outcome(
                False, "InvalidSecret", f"the API server refused Secret {ns}/{spec.target.name}: {exc}"
            )
        except kube.ApiError as exc:
            return Outcome(
                False,
                "ApiError",
                f"writing Secret {ns}/{spec.target.name} failed: {exc}",
                retry=self.backoff.next_delay(uid),
            )

    async def _template_sources(self, spec: model.ExternalSecretSpec, ns: str) -> render.Sources:
        """templateFrom's ConfigMaps and Secrets, read in the ExternalSecret's own namespace only."""
        found: dict[tuple[str, str], Mapping[str, bytes] | None] = {}
        for kind, name in render.source_refs(spec):
            plural = "configmaps" if kind == "ConfigMap" else "secrets"
            try:
                obj = await self.api.get(kube.path_for("v1", plural, ns, name))
            except kube.ApiError as exc:
                if exc.transient:
                    raise  # the API's trouble, not the template's: reported as ApiError
                raise TemplateSourceError(f"cannot read {kind} {ns}/{name} for templateFrom: {exc}") from None
            found[(kind, name)] = None if obj is None else _object_data(kind, obj)
        return found

    # ------------------------------------------------------------------ status

    async def _report(self, body: Body, outcome: Outcome, spec: model.ExternalSecretSpec | None) -> bool:
        """Status, metrics, events; False when the status could not be written (retried)."""
        meta = _meta(body)
        ns, name = str(meta.get("namespace")), str(meta.get("name"))
        extra: dict[str, Any] = {}
        if outcome.synced:
            extra["refreshTime"] = status.now_iso()
            extra["syncedResourceVersion"] = self._synced_version(body)
            if spec is not None and spec.target.creation_policy != "None":
                extra["binding"] = {"name": spec.target.name}
        self.metrics.set_ready("ExternalSecret", ns, name, outcome.ready)
        if not outcome.ready:
            self.metrics.sync_errors.labels(namespace=ns, name=name, reason=outcome.reason).inc()
            logger.warning("ExternalSecret %s/%s: %s: %s", ns, name, outcome.reason, outcome.message)
        ready, reason = self.flavor.es_condition(outcome)
        # One Normal event per sync, as ESO: the action's (Created / Updated / Deleted) when there is
        # one, else the Ready flip's. Failures still get their Warning.
        action = outcome.action if spec is not None else None
        try:
            await self._write_status(
                body, self.flavor.es_plural, ready, reason, outcome.message, extra, flip_event=not action
            )
        except kube.ApiError:
            return False
        if action and spec is not None:
            await kube.post_event(
                self.api,
                body,
                type_="Normal",
                reason=action,
                message=f"{action} Secret {ns}/{spec.target.name}",
            )
        return True


def _object_data(kind: str, obj: Mapping[str, Any]) -> dict[str, bytes]:
    """A Secret's data, or a ConfigMap's data (ESO reads ``data`` only, not ``binaryData``), as bytes."""
    if kind == "Secret":
        return {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items() if isinstance(v, str)}
    return {k: v.encode() for k, v in (obj.get("data") or {}).items() if isinstance(v, str)}
