"""Reconcile ExternalSecrets and their stores (no kopf here: the operator module feeds events in).

ExternalSecret flow: parse -> resolve the store (namespace rules, store Ready)
-> the store's provider from a cache keyed by store identity and generation
(one login shared by every ExternalSecret) -> fetch, each distinct remote ref
once, in a thread pool -> dataFrom in order, then data on top -> template ->
creationPolicy -> write only if different -> status once, only if changed.
A provider or template error never touches the existing Secret.

Refreshes are scheduled per object at ``refreshInterval`` plus up to 10 %
jitter, so objects do not refresh in lockstep. After an operator restart an
object that synced recently (status.refreshTime within its interval, same
generation, target Secret intact) is not fetched again: its next refresh is
scheduled for when it is due. This is what avoids ESO's refresh storm.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from typing import Any

from secretsync import kube, model, ownership, providers, secretcheck, status, templating, tenancy
from secretsync.errors import (
    INTERNAL_REASON,
    NotPermitted,
    OwnershipConflict,
    ProviderAuthError,
    ProviderError,
    SecretNotFound,
    SecretSyncError,
    SpecError,
    TemplateError,
    unexpected,
)
from secretsync.metrics import Metrics
from secretsync.providers import paths
from secretsync.providers.base import FindSpec, Provider, RemoteRef, SecretKeyRef, StoreContext
from secretsync.scheduler import Backoff, Scheduler

logger = logging.getLogger("secretsync.external")

GROUP_VERSION = "secretsync.io/v1alpha1"
ES_PLURAL = "externalsecrets"
STORE_PLURALS = {"SecretStore": "secretstores", "ClusterSecretStore": "clustersecretstores"}
DATA_HASH = "secretsync.io/data-hash"
OWNER_ANNOTATION = ownership.OWNER_ANNOTATION
JITTER = 0.1
STORE_WAIT_REASONS = frozenset({"StoreNotReady", "StoreNotFound"})

Body = dict[str, Any]
StoreKey = tuple[str, str | None, str]  # (kind, namespace or None, name)


_meta = kube.meta


def data_hash(data: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(dict(data), sort_keys=True).encode()).hexdigest()[:32]


@dataclasses.dataclass(frozen=True)
class Outcome:
    ready: bool
    reason: str
    message: str
    retry: float | None = None  # seconds until a retry, None = no timed retry
    action: str | None = None  # Created / Updated / Deleted
    synced: bool = False  # a fetch succeeded: refreshTime moves, next refresh is scheduled


class ReferentCredentials(SpecError):
    """A ClusterSecretStore credential without a namespace, read while validating the store alone.

    Such credentials are read in each ExternalSecret's own namespace ("referent" auth), so
    the store cannot be checked on its own; it is checked at every sync instead.
    """


# ---------------------------------------------------------------------------- provider cache


class ProviderCache:
    """One provider per store identity: shared logins, dropped when the store changes."""

    def __init__(self) -> None:
        self._providers: dict[tuple[Any, ...], Provider] = {}

    async def get(self, key: tuple[Any, ...], build: Callable[[], Provider], executor: Executor) -> Provider:
        """The cached provider, or a new one built in ``executor``: a constructor may log in, and
        its credential reads call back into the event loop, so it must never run on the loop."""
        provider = self._providers.get(key)
        if provider is None:
            built = await asyncio.get_running_loop().run_in_executor(executor, build)
            provider = self._providers.setdefault(key, built)
            if provider is not built:
                built.close()
        return provider

    def drop_store(
        self, store: StoreKey, keep_uid_generation: tuple[str, int] | None = None
    ) -> list[Provider]:
        """Remove providers of ``store`` (all, or all but the current uid+generation); returns them."""
        gone = []
        for key in list(self._providers):
            if key[:3] == store and (keep_uid_generation is None or key[3:5] != keep_uid_generation):
                gone.append(self._providers.pop(key))
        return gone

    def all(self) -> list[Provider]:
        return list(self._providers.values())


# ---------------------------------------------------------------------------- controller


class ExternalController:
    """ExternalSecrets and SecretStores/ClusterSecretStores, one reconcile at a time per object."""

    def __init__(
        self,
        api: kube.KubeApi,
        metrics: Metrics,
        executor: Executor,
        *,
        scheduler: Scheduler | None = None,
        rules: tenancy.Rules | None = None,
        cluster_stores: bool = True,
    ) -> None:
        self.api = api
        self.rules = rules or tenancy.Rules()
        # Namespaced mode (--watch-namespace) has no rights to cluster-scoped objects.
        self.cluster_stores = cluster_stores
        self.metrics = metrics
        self.executor = executor
        self.scheduler = scheduler or Scheduler()
        self.backoff = Backoff(base=1.0, cap=300.0)
        # Rejected credentials rarely fix themselves within seconds: back off from 10 s.
        self.auth_backoff = Backoff(base=10.0, cap=300.0)
        self.providers = ProviderCache()
        self._locks: dict[str, asyncio.Lock] = {}
        self._done: dict[str, tuple[Any, ...]] = {}
        self._secret_rv: dict[str, str] = {}
        self._targets: dict[tuple[str, str], tuple[str, str]] = {}  # (ns, secret name) -> (ns, es name)
        self._users: dict[StoreKey, set[tuple[str, str]]] = {}  # store -> ExternalSecrets using it
        self._store_state: dict[StoreKey, tuple[str, int, bool]] = {}  # store -> (uid, generation, ready)
        self._waiting: set[tuple[str, str]] = set()  # ExternalSecrets waiting for their store
        self._loop: asyncio.AbstractEventLoop | None = None

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
        await self.reconcile(body, startup=uid not in self._done)

    async def on_secret_event(self, event_type: str | None, secret: Body) -> None:
        """A target Secret was deleted or edited: sync its ExternalSecret again (drift repair)."""
        meta = _meta(secret)
        owner = self._targets.get((str(meta.get("namespace")), str(meta.get("name"))))
        if owner is None:
            return
        if event_type != "DELETED" and self._secret_rv.get(f"{owner[0]}/{owner[1]}") == meta.get(
            "resourceVersion"
        ):
            return
        await self.sync_by_name(*owner, reason="target Secret changed")

    async def on_store_event(self, event_type: str | None, kind: str, body: Body) -> None:
        meta = _meta(body)
        key: StoreKey = (
            kind,
            meta.get("namespace") if kind == "SecretStore" else None,
            str(meta.get("name")),
        )
        if event_type == "DELETED":
            self._store_state.pop(key, None)
            for provider in self.providers.drop_store(key):
                await self._close(provider)
            await self._wake_users(key)
            return
        uid, generation = str(meta.get("uid")), int(meta.get("generation") or 0)
        state = self._store_state.get(key)
        if state is not None and state[:2] == (uid, generation):
            return  # our own status write, or nothing that matters
        for provider in self.providers.drop_store(key, keep_uid_generation=(uid, generation)):
            await self._close(provider)
        await self.check_store(kind, body)

    # ------------------------------------------------------------------ stores

    async def check_store(self, kind: str, body: Body) -> None:
        meta = _meta(body)
        key: StoreKey = (
            kind,
            meta.get("namespace") if kind == "SecretStore" else None,
            str(meta.get("name")),
        )
        uid, generation = str(meta.get("uid")), int(meta.get("generation") or 0)
        lock = self._locks.setdefault(f"store:{uid}", asyncio.Lock())
        async with lock:
            retry: float | None = None
            try:
                spec = model.parse_store(body)
                provider = await self._provider(spec, uid, generation, es_namespace=meta.get("namespace"))
                await self._call(spec.provider_name, "check", provider.check)
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
            await self._write_status(body, STORE_PLURALS[kind], ready, reason, message, {})
            self.metrics.set_ready(kind, str(meta.get("namespace") or ""), key[2], ready)
            if ready:
                self.backoff.reset(f"store:{uid}")
                self.auth_backoff.reset(f"store:{uid}")
                # A changed store re-syncs everything using it; a store seen for the first time
                # (e.g. at operator start) wakes only the ExternalSecrets that were waiting for it.
                changed = previous is not None and previous[:2] != (uid, generation)
                await self._wake_users(key, only_waiting=not changed)
            elif previous is None or previous[2]:
                # Now known bad: ExternalSecrets waiting for the store show why, not "not validated yet".
                await self._wake_users(key, only_waiting=True)
            if not ready and retry is not None:
                self.scheduler.schedule(("store", key), retry, lambda: self._recheck_store(kind, key))

    async def _recheck_store(self, kind: str, key: StoreKey) -> None:
        body = await self.api.get(kube.path_for(GROUP_VERSION, STORE_PLURALS[kind], key[1], key[2]))
        if body is not None:
            await self.check_store(kind, body)

    async def _wake_users(self, key: StoreKey, *, only_waiting: bool = False) -> None:
        for user in sorted(self._users.get(key, set())):
            if not only_waiting or user in self._waiting:
                await self.sync_by_name(*user, reason=f"{key[0]} {key[2]} changed")

    async def _provider(
        self, spec: model.StoreSpec, uid: str, generation: int, es_namespace: str | None
    ) -> Provider:
        cred_ns = es_namespace if spec.kind == "ClusterSecretStore" else spec.namespace
        key = (
            spec.kind,
            spec.namespace if spec.kind == "SecretStore" else None,
            spec.name,
            uid,
            generation,
            cred_ns,
        )

        def build() -> Provider:
            context = StoreContext(
                store_kind=spec.kind,
                store_name=spec.name,
                store_namespace=spec.namespace,
                spec=spec.provider_spec,
                read_credential=lambda ref: self._read_credential(spec, ref, cred_ns),
                mint_token=lambda name, ns, aud: self._mint_token(spec, name, ns, aud, cred_ns),
                on_event=lambda event: self.metrics.provider_events.labels(
                    provider=spec.provider_name, event=event
                ).inc(),
            )
            provider = providers.create(spec.provider_name, context)
            try:  # before the provider's first network call: what it declared, judged in one place
                tenancy.check_access(
                    store_kind=spec.kind,
                    store_ref=spec.ref,
                    operator_identity=spec.operator_identity,
                    access=provider.access,
                    rules=self.rules,
                )
            except NotPermitted:
                provider.close()
                raise
            return provider

        self._loop = asyncio.get_running_loop()
        return await self.providers.get(key, build, self.executor)

    # Called from provider threads: bridge to the event loop's API client.
    def _on_loop(self, coro: Any, timeout: float = 30.0) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    @staticmethod
    def _namespace_for(spec: model.StoreSpec, ref_ns: str | None, es_ns: str | None) -> str:
        if spec.kind == "ClusterSecretStore" and not ref_ns and not es_ns:
            raise ReferentCredentials(
                "spec.provider", "credentials are read in each ExternalSecret's namespace"
            )
        return model.credential_namespace(spec, ref_ns, es_ns)

    def _read_credential(self, spec: model.StoreSpec, ref: SecretKeyRef, es_ns: str | None) -> bytes:
        namespace = self._namespace_for(spec, ref.namespace, es_ns)
        try:
            secret = self._on_loop(self.api.get(kube.path_for("v1", "secrets", namespace, ref.name)))
        except kube.ApiError as exc:
            raise ProviderAuthError(f"cannot read credentials Secret {namespace}/{ref.name}: {exc}") from None
        if secret is None:
            raise ProviderAuthError(f"credentials Secret {namespace}/{ref.name} not found")
        value = (secret.get("data") or {}).get(ref.key)
        if value is None:
            raise ProviderAuthError(f"credentials Secret {namespace}/{ref.name} has no key {ref.key!r}")
        return base64.b64decode(value)

    def _mint_token(
        self, spec: model.StoreSpec, name: str, ns: str | None, audiences: tuple[str, ...], es_ns: str | None
    ) -> str:
        """The one gateway to ServiceAccount tokens: namespace rules, the admin's mark on the
        ServiceAccount and the audience rules (secretsync.tenancy) before any TokenRequest."""
        namespace = self._namespace_for(spec, ns, es_ns)
        granted = tenancy.token_audiences(
            audiences, self.rules, "spec.provider.vault.auth.kubernetes.serviceAccountRef.audiences"
        )
        account_path = kube.path_for("v1", "serviceaccounts", namespace, name)
        try:
            account = self._on_loop(self.api.get(account_path))
        except kube.ApiError as exc:
            raise ProviderAuthError(f"cannot read ServiceAccount {namespace}/{name}: {exc}") from None
        tenancy.check_token_subject(account, namespace, name)
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"audiences": list(granted), "expirationSeconds": tenancy.TOKEN_LIFETIME},
        }
        path = f"{account_path}/token"
        try:
            answer = self._on_loop(self.api.create(path, body))
        except kube.ApiError as exc:
            raise ProviderAuthError(
                f"cannot mint a token for ServiceAccount {namespace}/{name}: {exc}"
            ) from None
        token = (answer.get("status") or {}).get("token")
        if not token:
            raise ProviderAuthError(
                f"the TokenRequest for ServiceAccount {namespace}/{name} returned no token"
            )
        return str(token)

    async def _call(self, provider_name: str, operation: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run one provider call in the thread pool, counting it by provider, operation and result."""
        self._loop = asyncio.get_running_loop()
        try:
            result = await self._loop.run_in_executor(self.executor, fn, *args)
        except SecretSyncError as exc:
            result_label = "not_found" if isinstance(exc, SecretNotFound) else type(exc).__name__
            self.metrics.provider_calls.labels(
                provider=provider_name, operation=operation, result=result_label
            ).inc()
            raise
        except Exception as exc:  # a provider bug must not kill the reconcile loop, nor leak a value
            self.metrics.provider_calls.labels(
                provider=provider_name, operation=operation, result="error"
            ).inc()
            logger.error(
                "provider %s %s failed unexpectedly: %s", provider_name, operation, type(exc).__name__
            )
            raise ProviderError(
                f"{provider_name}: unexpected {type(exc).__name__} during {operation}"
            ) from None
        self.metrics.provider_calls.labels(provider=provider_name, operation=operation, result="ok").inc()
        return result

    async def _close(self, provider: Provider) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self.executor, provider.close)
        except Exception as exc:
            logger.warning("closing a provider failed: %s", type(exc).__name__)

    async def close(self) -> None:
        for provider in self.providers.all():
            await self._close(provider)

    # ------------------------------------------------------------------ ExternalSecrets

    def _forget(self, uid: str, ns: str, name: str) -> None:
        self._done.pop(uid, None)
        self._secret_rv.pop(f"{ns}/{name}", None)
        self._locks.pop(uid, None)
        for key, owner in list(self._targets.items()):
            if owner == (ns, name):
                del self._targets[key]
        for users in self._users.values():
            users.discard((ns, name))
        self._waiting.discard((ns, name))
        self.scheduler.cancel(("es", ns, name))
        self.backoff.reset(uid)
        self.metrics.forget_object("ExternalSecret", ns, name)

    def _fingerprint(self, body: Mapping[str, Any]) -> tuple[Any, ...]:
        return (_meta(body).get("generation"), status.intent_digest(body))

    async def sync_by_name(self, namespace: str, name: str, *, reason: str = "refresh") -> None:
        body = await self.api.get(kube.path_for(GROUP_VERSION, ES_PLURAL, namespace, name))
        if body is not None and not _meta(body).get("deletionTimestamp"):
            logger.debug("ExternalSecret %s/%s: sync (%s)", namespace, name, reason)
            await self.reconcile(body)

    async def reconcile(self, body: Body, *, startup: bool = False) -> Outcome | None:
        meta = _meta(body)
        uid, ns, name = str(meta.get("uid")), str(meta.get("namespace")), str(meta.get("name"))
        lock = self._locks.setdefault(uid, asyncio.Lock())
        async with lock:
            fingerprint = self._fingerprint(body)
            # Parsed once per reconcile: start-up check, sync and refresh scheduling share it.
            spec: model.ExternalSecretSpec | None
            try:
                spec = model.parse_external_secret(body)
            except SpecError as exc:
                spec, invalid = None, exc
            if spec is not None and startup and await self._still_fresh(body, spec):
                self._done[uid] = fingerprint
                return None
            started = time.perf_counter()
            try:
                if spec is None:
                    outcome = Outcome(
                        False, invalid.reason, f"{invalid}; fix the ExternalSecret and re-apply it"
                    )
                else:
                    outcome = await self._reconcile(body, spec)
            except SecretSyncError as exc:  # anything unforeseen still becomes a clear status
                retry = self.backoff.next_delay(uid) if exc.retryable else None
                outcome = Outcome(False, exc.reason, str(exc), retry=retry)
            except Exception as exc:  # a bug: still a status for this generation, never a value
                logger.error("ExternalSecret %s/%s: unexpected %s", ns, name, type(exc).__name__)
                outcome = Outcome(False, INTERNAL_REASON, unexpected(exc), retry=self.backoff.next_delay(uid))
            self.metrics.sync_duration.observe(time.perf_counter() - started)
            self.metrics.syncs.labels(namespace=ns, name=name).inc()
            await self._report(body, outcome, spec)
            self._done[uid] = fingerprint
            if outcome.reason in STORE_WAIT_REASONS:
                self._waiting.add((ns, name))
                if outcome.retry is None:
                    # Woken when the store becomes ready; and looked at again with backoff, since
                    # the store may have become ready while this reconcile was still reporting.
                    outcome = dataclasses.replace(outcome, retry=self.backoff.next_delay(uid))
            else:
                self._waiting.discard((ns, name))
            if outcome.retry is not None:
                self.scheduler.schedule(("es", ns, name), outcome.retry, lambda: self.sync_by_name(ns, name))
            elif outcome.synced and spec is not None:
                self.backoff.reset(uid)
                self.auth_backoff.reset(uid)
                self._schedule_refresh(ns, name, spec.refresh_interval)
            return outcome

    def _schedule_refresh(self, ns: str, name: str, interval: float, due_in: float | None = None) -> None:
        if interval <= 0:
            self.scheduler.cancel(("es", ns, name))
            return
        delay = (interval if due_in is None else due_in) * (1 + random.uniform(0, JITTER))
        self.scheduler.schedule(
            ("es", ns, name), delay, lambda: self.sync_by_name(ns, name, reason="refresh")
        )

    async def _still_fresh(self, body: Body, spec: model.ExternalSecretSpec) -> bool:
        """At start-up, is the last sync recent and intact? Then only schedule the next refresh."""
        meta = _meta(body)
        st = body.get("status") or {}
        cond = status.ready_of(st)
        if not cond or cond.get("status") != "True" or st.get("observedGeneration") != meta.get("generation"):
            return False
        if st.get("syncedResourceVersion") != self._synced_version(body):
            return False
        refreshed = st.get("refreshTime")
        if not refreshed or spec.refresh_interval <= 0:
            return spec.refresh_interval <= 0 and bool(refreshed) and await self._target_intact(body, spec)
        try:
            when = dt.datetime.fromisoformat(str(refreshed).replace("Z", "+00:00"))
        except ValueError:
            return False
        age = (dt.datetime.now(dt.UTC) - when).total_seconds()
        if age >= spec.refresh_interval or not await self._target_intact(body, spec):
            return False
        self._register(body, spec)
        ns, name = str(meta.get("namespace")), str(meta.get("name"))
        self._schedule_refresh(ns, name, spec.refresh_interval, due_in=spec.refresh_interval - age)
        self.metrics.set_ready("ExternalSecret", ns, name, True)
        return True

    async def _target_intact(self, body: Body, spec: model.ExternalSecretSpec) -> bool:
        if spec.target.creation_policy == "None":
            return True
        ns = str(_meta(body).get("namespace"))
        secret = await self.api.get(kube.path_for("v1", "secrets", ns, spec.target.name))
        if secret is None:
            return False
        annotations = _meta(secret).get("annotations") or {}
        if annotations.get(DATA_HASH) != data_hash(secret.get("data") or {}):
            return False
        self._secret_rv[f"{ns}/{_meta(body).get('name')}"] = _meta(secret).get("resourceVersion", "")
        return True

    def _synced_version(self, body: Body) -> str:
        meta = _meta(body)
        return f"{meta.get('generation')}-{self._fingerprint(body)[1][:12]}"

    def _register(self, body: Body, spec: model.ExternalSecretSpec) -> None:
        meta = _meta(body)
        ns, name = str(meta.get("namespace")), str(meta.get("name"))
        for key, owner in list(self._targets.items()):
            if owner == (ns, name) and key != (ns, spec.target.name):
                del self._targets[key]
        self._targets[(ns, spec.target.name)] = (ns, name)
        store_key: StoreKey = (
            spec.store_kind,
            ns if spec.store_kind == "SecretStore" else None,
            spec.store_name,
        )
        for users in self._users.values():
            users.discard((ns, name))
        self._users.setdefault(store_key, set()).add((ns, name))

    async def _reconcile(self, body: Body, spec: model.ExternalSecretSpec) -> Outcome:
        meta = _meta(body)
        ns, uid = str(meta.get("namespace")), str(meta.get("uid"))
        self._register(body, spec)
        store, provider, problem = await self._resolve_store(spec, ns)
        if problem is not None:
            return problem
        assert store is not None and provider is not None
        try:
            values = await self._fetch(spec, store.provider_name, provider)
        except SecretNotFound as exc:
            return Outcome(
                False,
                "SecretMissing",
                f"{exc} (deletionPolicy Retain keeps the Secret as it is)",
                retry=self.backoff.next_delay(uid),
            )
        except ProviderAuthError as exc:
            return Outcome(False, exc.reason, str(exc), retry=self.auth_backoff.next_delay(uid))
        except ProviderError as exc:
            return Outcome(False, exc.reason, str(exc), retry=self.backoff.next_delay(uid))
        except SpecError as exc:
            return Outcome(False, exc.reason, str(exc))
        if values is None:  # every source gone and deletionPolicy Delete
            return await self._delete_target(body, spec)
        try:  # off the event loop: a template's time budget bounds a worker thread, not the loop
            desired = await asyncio.get_running_loop().run_in_executor(
                self.executor, self._render, spec, values
            )
        except TemplateError as exc:
            return Outcome(False, "TemplateFailed", f"spec.target.template: {exc}")
        try:
            return await self._write(body, spec, desired)
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

    async def _resolve_store(
        self, spec: model.ExternalSecretSpec, ns: str
    ) -> tuple[model.StoreSpec | None, Provider | None, Outcome | None]:
        kind = spec.store_kind
        if kind == "ClusterSecretStore" and not self.cluster_stores:
            message = (
                f"ClusterSecretStore {spec.store_name}: this operator runs in namespaced mode "
                "(--watch-namespace) and serves SecretStores only; use a SecretStore in this namespace"
            )
            return None, None, Outcome(False, "StoreNotAllowed", message)
        store_ns = ns if kind == "SecretStore" else None
        store_body = await self.api.get(
            kube.path_for(GROUP_VERSION, STORE_PLURALS[kind], store_ns, spec.store_name)
        )
        where = f"{kind} {store_ns + '/' if store_ns else ''}{spec.store_name}"
        if store_body is None:
            return (
                None,
                None,
                Outcome(
                    False,
                    "StoreNotFound",
                    f"{where} does not exist; create it, or fix "
                    "spec.secretStoreRef (retried when the store appears)",
                ),
            )
        try:
            store = model.parse_store(store_body)
        except SpecError as exc:
            return None, None, Outcome(False, "StoreNotReady", f"{where} is invalid: {exc}")
        if kind == "ClusterSecretStore" and store.conditions:
            namespace = await self.api.get(kube.path_for("v1", "namespaces", None, ns))
            labels = (_meta(namespace or {}).get("labels")) or {}
            if not model.store_allows(store, ns, labels):
                return (
                    None,
                    None,
                    Outcome(
                        False,
                        "StoreNotAllowed",
                        f"{where} does not allow namespace {ns} (see its spec.conditions)",
                    ),
                )
        smeta = _meta(store_body)
        key: StoreKey = (kind, store_ns, spec.store_name)
        state = self._store_state.get(key)
        cond = status.ready_of(store_body.get("status"))
        ready = (
            state[2]
            if state and state[:2] == (str(smeta.get("uid")), int(smeta.get("generation") or 0))
            else (
                bool(cond)
                and cond.get("status") == "True"  # type: ignore[union-attr]
                and (store_body.get("status") or {}).get("observedGeneration") == smeta.get("generation")
            )
        )
        if not ready:
            message = (cond or {}).get("message") or "not validated yet"
            return (
                None,
                None,
                Outcome(
                    False,
                    "StoreNotReady",
                    f"{where} is not ready: {message} (synced as soon as the store becomes ready)",
                ),
            )
        provider = await self._provider(store, str(smeta.get("uid")), int(smeta.get("generation") or 0), ns)
        return store, provider, None

    async def _fetch(
        self, spec: model.ExternalSecretSpec, provider_name: str, provider: Provider
    ) -> dict[str, bytes] | None:
        """dataFrom in list order, then data on top; each distinct remote ref fetched once.

        Returns None when every source is gone and deletionPolicy is Delete.
        """
        cache: dict[tuple[Any, ...], Any] = {}
        missing: list[str] = []
        policy = spec.target.deletion_policy

        async def once(kind: str, ref: RemoteRef | FindSpec, fn: Callable[[Any], Any]) -> Any:
            key = (kind, ref)
            if key not in cache:
                try:
                    cache[key] = await self._call(provider_name, kind, fn, ref)
                except SecretNotFound as exc:
                    if policy == "Retain":
                        raise
                    cache[key] = exc
            found = cache[key]
            if isinstance(found, SecretNotFound):
                missing.append(str(found))
                return None
            return found

        out: dict[str, bytes] = {}
        for index, source in enumerate(spec.data_from):
            where = f"spec.dataFrom[{index}]"
            got: dict[str, bytes] | None
            if source.extract is not None:
                got = await once("get_map", source.extract, provider.get_map)
            elif source.find is not None:
                got = await once("find", source.find, provider.find)
            else:  # pragma: no cover - the model guarantees one of them
                raise SpecError(where, "needs extract or find")
            if got is not None:
                for key, value in model.sanitize_keys(got, path=where).items():
                    out[key] = model.decode(value, source.decoding, path=f"{where}.decodingStrategy")
        for index, entry in enumerate(spec.data):
            # Entries that differ only in `property` share one read: fetch the whole remote
            # value once and select each property here, with the providers' own path rules.
            whole_ref = RemoteRef(entry.ref.key, None, entry.ref.version)
            whole = await once("get", whole_ref, provider.get)
            if whole is None:
                continue
            value = _property(whole, entry.ref, f"spec.data[{index}].remoteRef")
            path = f"spec.data[{index}].remoteRef.decodingStrategy"
            out[entry.secret_key] = model.decode(value, entry.decoding, path=path)
        if missing and policy == "Delete" and not out:
            return None
        if missing:
            logger.info(
                "ExternalSecret: %d source(s) not found, dropped (deletionPolicy %s)", len(missing), policy
            )
        return out

    def _render(self, spec: model.ExternalSecretSpec, values: dict[str, bytes]) -> Body:
        template = spec.target.template
        data = dict(values)
        secret_type = "Opaque"  # noqa: S105 - a Secret type, not a password
        labels: dict[str, str] = {}
        annotations: dict[str, str] = {}
        if template is not None:
            if template.data:
                rendered = templating.render(template.data, values)
                data = {**values, **rendered} if template.merge_policy == "Merge" else rendered
            secret_type = template.type or "Opaque"
            labels = dict(template.labels)
            annotations = dict(template.annotations)
        encoded = {k: base64.b64encode(v).decode("ascii") for k, v in data.items()}
        annotations[DATA_HASH] = data_hash(encoded)
        secret: Body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": spec.target.name, "labels": labels, "annotations": annotations},
            "type": secret_type,
            "data": encoded,
        }
        if spec.target.immutable:
            secret["immutable"] = True
        return secret

    async def _write(self, body: Body, spec: model.ExternalSecretSpec, desired: Body) -> Outcome:
        meta = _meta(body)
        ns, name = str(meta.get("namespace")), str(meta.get("name"))
        target = spec.target.name
        path = kube.path_for("v1", "secrets", ns, target)
        policy = spec.target.creation_policy
        count = len(desired["data"])
        done = f"synced {count} keys into Secret {ns}/{target}"
        if policy == "None":
            return Outcome(
                True,
                "SecretSynced",
                f"fetched {count} keys (creationPolicy None: no Secret written)",
                synced=True,
            )
        existing = await self.api.get(path)
        desired["metadata"]["namespace"] = ns
        if policy == "Owner":
            desired["metadata"]["ownerReferences"] = [kube.controller_reference(body)]
        elif policy == "Orphan":
            desired["metadata"]["annotations"][OWNER_ANNOTATION] = f"{ns}/{name}"
        if existing is None:
            if policy == "Merge":
                return Outcome(
                    False,
                    "SecretMissing",
                    f"Secret {ns}/{target} does not exist and creationPolicy "
                    "Merge only adds keys to an existing Secret",
                    retry=self.backoff.next_delay(ns + name),
                )
            secretcheck.check(desired, None, f"Secret {ns}/{target}")
            try:
                created = await self.api.create(kube.path_for("v1", "secrets", ns), desired)
            except kube.Conflict:
                return Outcome(
                    False, "ApiError", f"Secret {ns}/{target} appeared while creating it", retry=1.0
                )
            self._secret_rv[f"{ns}/{name}"] = _meta(created).get("resourceVersion", "")
            return Outcome(True, "SecretSynced", done, action="Created", synced=True)
        if policy == "Merge":
            others = [n for n in ownership.merged_keys(existing) if n != name]
            live = [n for n in others if await self.api.get(kube.path_for(GROUP_VERSION, ES_PLURAL, ns, n))]
            claims = ownership.check_merge(existing, body, desired["data"], live)
            desired["metadata"]["annotations"][ownership.MERGED_KEYS_ANNOTATION] = ownership.encode_claims(
                claims
            )
        else:
            mine = (_meta(existing).get("annotations") or {}).get(OWNER_ANNOTATION) == f"{ns}/{name}"
            ownership.check_adopt(existing, body, own_mark=policy == "Orphan" and mine, merge_hint=True)
        merged = self._merge(existing, desired, policy)
        if kube.same_secret(existing, merged):
            self._secret_rv[f"{ns}/{name}"] = _meta(existing).get("resourceVersion", "")
            return Outcome(True, "SecretSynced", done, synced=True)
        secretcheck.check(merged, existing, f"Secret {ns}/{target}")
        try:
            replaced = await self.api.replace(path, merged)
        except kube.Conflict:
            return Outcome(False, "ApiError", f"Secret {ns}/{target} changed while updating it", retry=1.0)
        self._secret_rv[f"{ns}/{name}"] = _meta(replaced).get("resourceVersion", "")
        return Outcome(True, "SecretSynced", done, action="Updated", synced=True)

    @staticmethod
    def _merge(existing: Body, desired: Body, policy: str) -> Body:
        out: Body = json.loads(json.dumps(existing))
        meta = out.setdefault("metadata", {})
        dmeta = desired["metadata"]
        for section in ("labels", "annotations"):
            merged = dict(meta.get(section) or {})
            merged.update(dmeta.get(section) or {})
            if merged:
                meta[section] = merged
        if policy == "Merge":
            data = dict(existing.get("data") or {})
            data.update(desired["data"])
            meta["annotations"][DATA_HASH] = data_hash(data)
            out["data"] = data
        else:
            # What the spec asks for, even where the API server refuses the change (type, immutable):
            # secretcheck reports it as a spec to change, not a silent no-op or a retry loop.
            out["data"] = desired["data"]
            out["type"] = desired.get("type") or "Opaque"
            if desired.get("immutable"):
                out["immutable"] = True
            else:
                out.pop("immutable", None)
        if dmeta.get("ownerReferences"):
            refs = [r for r in meta.get("ownerReferences") or [] if not r.get("controller")]
            meta["ownerReferences"] = refs + dmeta["ownerReferences"]
        return out

    async def _delete_target(self, body: Body, spec: model.ExternalSecretSpec) -> Outcome:
        ns = str(_meta(body).get("namespace"))
        target = spec.target.name
        path = kube.path_for("v1", "secrets", ns, target)
        existing = await self.api.get(path)
        message = "every remote secret is gone; Secret deleted (deletionPolicy Delete)"
        if existing is not None and kube.is_controlled_by(existing, body):
            emeta = _meta(existing)
            try:  # the Secret as read: not one re-created or changed since (409 otherwise)
                await self.api.delete(
                    path, uid=emeta.get("uid"), resource_version=emeta.get("resourceVersion")
                )
            except kube.Conflict:
                return Outcome(
                    False, "ApiError", f"Secret {ns}/{target} changed while deleting it", retry=1.0
                )
            return Outcome(False, "SecretDeleted", f"{message}: {ns}/{target}", action="Deleted", synced=True)
        return Outcome(
            False,
            "SecretDeleted",
            f"every remote secret is gone; no Secret {ns}/{target} to delete",
            synced=True,
        )

    # ------------------------------------------------------------------ status

    async def _write_status(
        self, body: Body, plural: str, ready: bool, reason: str, message: str, extra: dict[str, Any]
    ) -> bool:
        meta = _meta(body)
        previous = body.get("status") if isinstance(body.get("status"), dict) else None
        new = status.build(
            previous,
            ready=ready,
            reason=reason,
            message=message,
            generation=meta.get("generation"),
            extra=extra,
        )
        if new == previous:
            return False
        path = kube.path_for(GROUP_VERSION, plural, meta.get("namespace"), str(meta.get("name")), "status")
        try:
            await self.api.write_status(path, str(meta.get("uid")), new)  # only onto this very object
        except kube.ApiError as exc:
            logger.warning("cannot write status of %s: %s", kube.ref_of(body), exc)
        if status.flipped(previous, new) or not ready:
            kind = str(body.get("kind"))
            await kube.post_event(
                self.api,
                body,
                type_="Normal" if ready else "Warning",
                reason=reason,
                message=f"{kind}: {message}",
            )
        return True

    async def _report(self, body: Body, outcome: Outcome, spec: model.ExternalSecretSpec | None) -> None:
        meta = _meta(body)
        ns, name = str(meta.get("namespace")), str(meta.get("name"))
        extra: dict[str, Any] = {}
        if outcome.synced:
            extra["refreshTime"] = status.now_iso()
            extra["syncedResourceVersion"] = self._synced_version(body)
        self.metrics.set_ready("ExternalSecret", ns, name, outcome.ready)
        if not outcome.ready:
            self.metrics.sync_errors.labels(namespace=ns, name=name, reason=outcome.reason).inc()
            logger.warning("ExternalSecret %s/%s: %s: %s", ns, name, outcome.reason, outcome.message)
        await self._write_status(body, ES_PLURAL, outcome.ready, outcome.reason, outcome.message, extra)
        if outcome.action and spec is not None:
            await kube.post_event(
                self.api,
                body,
                type_="Normal",
                reason=outcome.action,
                message=f"{outcome.action} Secret {ns}/{spec.target.name}",
            )


def _property(whole: bytes, ref: RemoteRef, where: str) -> bytes:
    """``ref.property`` of a whole remote value (JSON), as the providers select it."""
    if ref.property is None:
        return whole
    payload = paths.document(whole, ref.key, ref.property)
    return paths.to_bytes(paths.select(payload, ref.property, where=ref.key))
