"""The one way the ExternalSecret controller reaches a secret backend.

Providers are built once per store identity (kind, namespace, name, uid, generation and the
namespace its credentials are read in) and shared by every ExternalSecret using the store,
so one login serves them all. Building one is judged by :mod:`secretsync.tenancy` before its
first network call; credentials and ServiceAccount tokens are read through this gateway only
(the namespace rules and the admin's opt-ins live there). Every provider call runs in the
thread pool, within the slots of its store and namespace (:mod:`secretsync.external.bulkhead`:
a slow backend cannot take every thread), is counted by provider, operation and result, and is
retried within the sync only as the store's ``retrySettings`` ask (transient failures only).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import logging
from collections.abc import Callable, Hashable
from concurrent.futures import Executor
from typing import Any

from secretsync import kube, model, providers, tenancy
from secretsync.errors import (
    KubeUnavailable,
    NotPermitted,
    ProviderAuthError,
    ProviderError,
    ProviderUnavailable,
    SecretNotFound,
    SecretSyncError,
    SpecError,
)
from secretsync.external.bulkhead import Bulkhead
from secretsync.metrics import Metrics
from secretsync.providers.base import Provider, SecretKeyRef, StoreContext

logger = logging.getLogger("secretsync.external")

StoreKey = tuple[str, str | None, str]  # (kind, namespace or None, name)
MAX_RETRY_WAIT = 60.0  # seconds between two attempts, whatever retrySettings.retryInterval says
API_BRIDGE_TIMEOUT = 120.0  # a provider thread's wait for one API call (its own retries included)


def store_key(spec: model.StoreSpec) -> Hashable:
    """Who a store is, for the bulkhead: its kind, namespace and name."""
    return (spec.kind, spec.namespace if spec.kind == model.SECRET_STORE else None, spec.name)


class ReferentCredentials(SpecError):
    """A ClusterSecretStore credential without a namespace, read while validating the store alone.

    Such credentials are read in each ExternalSecret's own namespace ("referent" auth), so
    the store cannot be checked on its own; it is checked at every sync instead.
    """


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


class Gateway:
    """Builds, calls and closes providers for one controller."""

    def __init__(self, api: kube.KubeApi, metrics: Metrics, executor: Executor, rules: tenancy.Rules) -> None:
        self.api = api
        self.metrics = metrics
        self.executor = executor
        self.rules = rules
        self.cache = ProviderCache()
        self.bulkhead = Bulkhead()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def provider(
        self, spec: model.StoreSpec, uid: str, generation: int, es_namespace: str | None
    ) -> Provider:
        """The store's provider for an ExternalSecret in ``es_namespace`` (None: the store alone)."""
        cred_ns = es_namespace if spec.kind == model.CLUSTER_SECRET_STORE else spec.namespace
        key = (
            spec.kind,
            spec.namespace if spec.kind == model.SECRET_STORE else None,
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
        async with self.bulkhead.slot(store_key(spec), es_namespace or spec.namespace):
            return await self.cache.get(key, build, self.executor)

    # Called from provider threads: bridge to the event loop's API client.
    def _on_loop(self, coro: Any, timeout: float = API_BRIDGE_TIMEOUT) -> Any:
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            message = f"no answer from the Kubernetes API in {timeout:.0f}s"
            raise kube.ApiError(0, "Timeout", message) from None

    @staticmethod
    def _api_failure(what: str, exc: kube.ApiError) -> ProviderError:
        """A failed read of what a provider logs in with: transient (429, 5xx, unreachable) is an
        API failure retried soon; anything else (403, 400) an auth failure the admin must mend."""
        if exc.transient:
            return KubeUnavailable(f"{what}: {exc}")
        return ProviderAuthError(f"{what}: {exc}")

    @staticmethod
    def _namespace_for(spec: model.StoreSpec, ref_ns: str | None, es_ns: str | None) -> str:
        if spec.kind == model.CLUSTER_SECRET_STORE and not ref_ns and not es_ns:
            raise ReferentCredentials(
                "spec.provider", "credentials are read in each ExternalSecret's namespace"
            )
        return model.credential_namespace(spec, ref_ns, es_ns)

    def _read_credential(self, spec: model.StoreSpec, ref: SecretKeyRef, es_ns: str | None) -> bytes:
        namespace = self._namespace_for(spec, ref.namespace, es_ns)
        try:
            secret = self._on_loop(self.api.get(kube.path_for("v1", "secrets", namespace, ref.name)))
        except kube.ApiError as exc:
            raise self._api_failure(f"cannot read credentials Secret {namespace}/{ref.name}", exc) from None
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
            raise self._api_failure(f"cannot read ServiceAccount {namespace}/{name}", exc) from None
        tenancy.check_token_subject(account, namespace, name)
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"audiences": list(granted), "expirationSeconds": tenancy.TOKEN_LIFETIME},
        }
        try:
            answer = self._on_loop(self.api.create(f"{account_path}/token", body))
        except kube.ApiError as exc:
            what = f"cannot mint a token for ServiceAccount {namespace}/{name}"
            raise self._api_failure(what, exc) from None
        token = (answer.get("status") or {}).get("token")
        if not token:
            raise ProviderAuthError(
                f"the TokenRequest for ServiceAccount {namespace}/{name} returned no token"
            )
        return str(token)

    async def call(
        self,
        provider_name: str,
        operation: str,
        fn: Callable[..., Any],
        *args: Any,
        store: Hashable,
        namespace: str | None,
        retry: model.RetrySettings | None = None,
    ) -> Any:
        """One provider call in the thread pool, for ``store`` (:func:`store_key`) and an object
        of ``namespace`` (None: a cluster store's own check), within their slots; a transient
        failure (backend unreachable or throttling) is tried again ``retry.max_retries`` times,
        waiting on the event loop (no worker thread, no slot held) at most :data:`MAX_RETRY_WAIT`
        between attempts."""
        attempts = 1 + (retry.max_retries if retry is not None else 0)
        for attempt in range(1, attempts + 1):
            try:
                async with self.bulkhead.slot(store, namespace):
                    return await self._call_once(provider_name, operation, fn, *args)
            except ProviderUnavailable:
                if attempt >= attempts or retry is None:
                    raise
                self.metrics.provider_events.labels(provider=provider_name, event="retry").inc()
                await asyncio.sleep(min(max(retry.interval, 0.0), MAX_RETRY_WAIT))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _call_once(self, provider_name: str, operation: str, fn: Callable[..., Any], *args: Any) -> Any:
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

    async def close_provider(self, provider: Provider) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self.executor, provider.close)
        except Exception as exc:
            logger.warning("closing a provider failed: %s", type(exc).__name__)

    async def drop_store(self, key: StoreKey, keep_uid_generation: tuple[str, int] | None = None) -> None:
        for provider in self.cache.drop_store(key, keep_uid_generation):
            await self.close_provider(provider)

    async def close(self) -> None:
        for provider in self.cache.all():
            await self.close_provider(provider)
