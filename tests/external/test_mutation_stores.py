"""Stores in process, on the survivors of secretsync/external/{stores,base}.py.

Built on the harness of tests/external/test_mutation_controller.py (the controller on the fake
API, an inline executor, no jitter): the retry delays a failing store is looked at again with,
the executor templates render on, stores checked side by side (their locks and their bulkhead
slots), which providers a store change keeps, who a store handed between shards wakes, and the
Ready condition of an ExternalSecret whose ClusterSecretStore it may not use, and a store back in
this controller's care with a new spec (once counted as first seen: only the waiting were woken).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from secretsync import kube, providers, status
from secretsync.errors import ProviderAuthError, ProviderError
from secretsync.external import ExternalController
from secretsync.external.bulkhead import PER_NAMESPACE, PER_STORE
from secretsync.providers.base import SecretKeyRef
from secretsync.providers.fake import FakeProvider
from tests.external.test_mutation_controller import (
    NAME,
    NS,
    Harness,
    count_builds,
    peer,
    restarted,
    scheduled_job,
    store_condition,
    store_due,
    syncs,
)
from tests.support.fake_api import Inline

STORE_KEY = ("SecretStore", NS, "fake")


@contextlib.asynccontextmanager
async def harness(**kw: Any) -> AsyncIterator[Harness]:
    h = Harness(**kw)
    try:
        yield h
    finally:
        await h.scheduler.close()
        await h.es.close()


def recheck_key(h: Harness) -> tuple[str, str, tuple[str, str, str]]:
    return (h.flavor.group_version, "store", STORE_KEY)


def ready_of(h: Harness, path: str) -> tuple[str, str, str]:
    cond = status.ready_of(h.api.objects[path].get("status"))
    assert cond is not None
    return cond["status"], cond["reason"], cond["message"]


def put_store(h: Harness, kind: str, name: str, uid: str) -> tuple[str, dict[str, Any]]:
    """Another store on the fake provider than the harness's own: its path and body as stored."""
    namespace = NS if kind == "SecretStore" else None
    plural = h.flavor.store_plurals[kind]
    path = kube.path_for(h.flavor.group_version, plural, namespace, name)
    meta: dict[str, Any] = {"name": name, "uid": uid, "generation": 1}
    if namespace:
        meta["namespace"] = namespace
    body = {
        "apiVersion": h.flavor.group_version,
        "kind": kind,
        "metadata": meta,
        "spec": {"provider": {"fake": {"data": [{"key": "k", "value": "v1"}]}}},
    }
    return path, h.api.put(path, body)


class Held(Inline):
    """A backend that does not answer a store's check until told: each ``check`` submitted stays
    pending (a slow Vault); everything else runs inline."""

    def __init__(self) -> None:
        self.pending: list[Future[Any]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if getattr(fn, "__name__", "") == "check":
            future: Future[Any] = Future()
            self.pending.append(future)
            return future
        return super().submit(fn, *args, **kwargs)

    def in_flight(self) -> int:
        return sum(not f.done() for f in self.pending)

    def answer(self) -> None:
        for future in self.pending:
            if not future.done():
                future.set_result(None)


async def settle() -> None:
    """Let every task run as far as it can (no timer is involved: a fixed number of loop turns)."""
    for _ in range(100):
        await asyncio.sleep(0)


async def answer_all(held: Held, tasks: list[asyncio.Task[None]]) -> None:
    for _ in range(len(tasks) + 1):
        held.answer()
        await settle()
    await asyncio.gather(*tasks)


# ------------------------------------------------------------------------------- backoff of store checks


@pytest.mark.parametrize(
    ("error", "delays"),
    [
        (ProviderError("fake: unreachable"), [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]),
        (ProviderAuthError("fake: token revoked"), [10, 20, 40, 80, 160, 300, 300]),
    ],
    ids=["unreachable-from-1s", "credentials-from-10s"],
)
async def test_a_failing_store_is_looked_at_again_doubling_up_to_five_minutes(
    monkeypatch: pytest.MonkeyPatch, error: Exception, delays: list[int]
) -> None:
    def failing(self: Any) -> None:
        raise error

    monkeypatch.setattr(FakeProvider, "check", failing)
    async with harness() as h:
        await h.es.on_store_event("ADDED", "SecretStore", h.store())
        assert ready_of(h, h.store_path) == ("False", type(error).reason, str(error))  # type: ignore[attr-defined]
        seen = [store_due(h)]
        for _ in delays[1:]:
            await scheduled_job(h, recheck_key(h))()
            seen.append(store_due(h))
        for due, delay in zip(seen, delays, strict=True):
            assert due is not None and 0.99 * delay < due <= delay, (seen, delays)


# ------------------------------------------------------------------------------------------- the executor


async def test_templates_render_on_the_executor_the_controller_is_built_with() -> None:
    ran: list[str] = []

    class Recording(Inline):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
            ran.append(getattr(fn, "__name__", "?"))
            return super().submit(fn, *args, **kwargs)

    async with harness() as h:
        h.es = ExternalController(h.api, h.metrics, Recording(), scheduler=h.scheduler)  # type: ignore[arg-type]
        await h.ready_store()
        await h.es.on_external_event("ADDED", h.external())
        assert h.values() == {"password": b"v1"}
        assert "render" in ran


# ------------------------------------------------------------------------------- stores checked side by side


async def test_two_stores_are_checked_at_once() -> None:
    """One store's slow backend does not hold another store's check (the lock is per store)."""
    async with harness() as h:
        held = Held()
        h.es.gateway.executor = held
        other_path, other = put_store(h, "SecretStore", "other", "other-uid")
        first = asyncio.create_task(h.es.on_store_event("ADDED", "SecretStore", h.store()))
        await settle()
        assert held.in_flight() == 1
        second = asyncio.create_task(h.es.on_store_event("ADDED", "SecretStore", other))
        await settle()
        assert held.in_flight() == 2  # checked while the first store's backend still thinks
        await answer_all(held, [first, second])
        assert ready_of(h, h.store_path) == ("True", "Valid", "fake: store validated")
        assert ready_of(h, other_path) == ("True", "Valid", "fake: store validated")


async def test_each_store_checks_within_its_own_slots() -> None:
    """More slow stores than one store's slots (bulkhead.PER_STORE): every one is checked at once."""
    async with harness() as h:
        held = Held()
        h.es.gateway.executor = held
        stores = [put_store(h, "SecretStore", f"s{i}", f"uid-{i}") for i in range(PER_STORE + 1)]
        tasks = [asyncio.create_task(h.es.on_store_event("ADDED", "SecretStore", body)) for _, body in stores]
        await settle()
        assert held.in_flight() == PER_STORE + 1
        await answer_all(held, tasks)
        assert {ready_of(h, path)[0] for path, _ in stores} == {"True"}


async def test_a_secret_stores_check_takes_a_slot_of_its_namespace_not_of_the_cluster() -> None:
    """ClusterSecretStores checked on their own share one namespace slot (bulkhead.CLUSTER); when
    slow ones fill it, a tenant's SecretStore is still checked, and another cluster store waits."""
    async with harness() as h:
        held = Held()
        h.es.gateway.executor = held
        cluster = [put_store(h, "ClusterSecretStore", f"c{i}", f"cuid-{i}") for i in range(PER_NAMESPACE)]
        tasks = [
            asyncio.create_task(h.es.on_store_event("ADDED", "ClusterSecretStore", body))
            for _, body in cluster
        ]
        await settle()
        assert held.in_flight() == PER_NAMESPACE
        tasks.append(asyncio.create_task(h.es.on_store_event("ADDED", "SecretStore", h.store())))
        await settle()
        assert held.in_flight() == PER_NAMESPACE + 1  # the tenant's store is checked now
        late_path, late = put_store(h, "ClusterSecretStore", "late", "late-uid")
        tasks.append(asyncio.create_task(h.es.on_store_event("ADDED", "ClusterSecretStore", late)))
        await settle()
        assert held.in_flight() == PER_NAMESPACE + 1  # ... and one more cluster store waits its turn
        await answer_all(held, tasks)
        assert ready_of(h, h.store_path) == ("True", "Valid", "fake: store validated")
        assert ready_of(h, late_path)[0] == "True"


# --------------------------------------------------------------------------------- providers kept or dropped


async def test_a_restart_checks_the_store_with_the_provider_its_external_secrets_logged_in_with(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with harness() as h:
        await h.ready_store([{"key": "k", "value": "v1"}, {"key": "k2", "value": "v2"}])
        await h.es.on_external_event("ADDED", h.external())
        h.external(generation=2, data=[{"secretKey": "password", "remoteRef": {"key": "k2"}}])
        built = count_builds(monkeypatch)
        after = restarted(h)
        try:
            # after the restart the ExternalSecret's event comes first: it uses the stored status
            await after.es.on_external_event("ADDED", h.stored())
            assert h.values() == {"password": b"v2"}
            assert len(built) == 1
            await after.es.on_store_event("ADDED", "SecretStore", h.api.objects[h.store_path])
            assert (
                after.sample(
                    "secretsync_provider_calls_total", provider="fake", operation="check", result="ok"
                )
                == 1
            )
            assert len(built) == 1  # the same provider checked: no second login
            assert len(after.es.gateway.cache.all()) == 1
        finally:
            await after.scheduler.close()
            await after.es.close()


async def test_a_changed_peer_store_keeps_the_provider_already_built_for_its_new_generation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built = count_builds(monkeypatch)
    async with harness(owns_store=lambda body: False) as h:
        await h.es.on_store_event("ADDED", "SecretStore", peer(h))
        await h.es.on_external_event("ADDED", h.external())
        assert len(built) == 1
        # the peer checked generation 2; a refresh here reads with it before its event arrives
        peer(h, generation=2, observed=2, data=[{"key": "k", "value": "v2"}])
        await h.es.sync_by_name(NS, NAME)
        assert h.values() == {"password": b"v2"}
        assert len(built) == 2
        current = h.es.gateway.cache.all()[-1]
        before = syncs(h)
        await h.es.on_store_event("MODIFIED", "SecretStore", h.api.objects[h.store_path])
        assert syncs(h) == before + 1  # a changed store resyncs its users ...
        assert h.es.gateway.cache.all() == [current]  # ... with the provider of generation 2, kept
        assert len(built) == 2


# ----------------------------------------------------------------------------- stores between shards


async def test_a_store_handed_back_to_its_peer_after_a_change_here_is_not_resynced_again() -> None:
    mine = {"yes": False}
    async with harness(owns_store=lambda body: mine["yes"]) as h:
        await h.es.on_store_event("ADDED", "SecretStore", peer(h))
        await h.es.on_external_event("ADDED", h.external())
        mine["yes"] = True  # relabelled into this shard
        await h.es.on_store_event("MODIFIED", "SecretStore", h.api.objects[h.store_path])
        assert store_condition(h)["message"] == "fake: store validated"
        await h.es.on_store_event(
            "MODIFIED", "SecretStore", h.store([{"key": "k", "value": "v2"}], generation=2)
        )
        assert h.values() == {"password": b"v2"}  # changed here: resynced here
        before = syncs(h)
        mine["yes"] = False  # relabelled back; its status says Ready for generation 2
        await h.es.on_store_event("MODIFIED", "SecretStore", h.api.objects[h.store_path])
        assert h.es._peer_state[STORE_KEY] == ("store-uid", 2, True)
        assert syncs(h) == before  # nothing changed since that resync


# ----------------------------------------------------------------------------- a store deleted meanwhile


async def test_a_store_deleted_while_its_recheck_cannot_write_the_status(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with harness() as h:
        await h.es.on_store_event("ADDED", "SecretStore", h.store(refreshInterval=300))
        assert store_condition(h)["status"] == "True"

        def down(self: Any) -> None:
            raise ProviderError("fake: unreachable")

        monkeypatch.setattr(FakeProvider, "check", down)
        entered, answer = asyncio.Event(), asyncio.Event()

        async def slow_then_failing(path: str, uid: str, new: dict[str, Any]) -> dict[str, Any]:
            entered.set()
            await answer.wait()
            raise kube.ApiError(503, "ServiceUnavailable", "busy")

        monkeypatch.setattr(h.api, "write_status", slow_then_failing)
        recheck = asyncio.create_task(scheduled_job(h, recheck_key(h))())  # the refresh, on its timer
        await settle()
        assert entered.is_set()
        gone = h.api.objects.pop(h.store_path)
        await h.es.on_store_event("DELETED", "SecretStore", gone)
        answer.set()
        await recheck  # no error out of the scheduled job
        due = store_due(h)
        assert due is not None and 1.9 < due <= 2.0  # looked at again (second failure: 2 s) ...
        calls = len(h.api.calls)
        await scheduled_job(h, recheck_key(h))()
        assert h.api.calls[calls:] == [("get", h.store_path)]  # ... and found gone: nothing more


# --------------------------------------------------------------------- cluster stores an ES may not use


async def test_a_cluster_store_not_allowed_is_not_ready() -> None:
    ref = {"name": "shared", "kind": "ClusterSecretStore"}
    async with harness(cluster_stores=False) as h:
        await h.es.on_external_event("ADDED", h.external(secretStoreRef=ref))
        h.failed(
            "StoreNotAllowed",
            "ClusterSecretStore shared: this operator runs in namespaced mode (--watch-namespace) and "
            "serves SecretStores only; use a SecretStore in this namespace",
        )
        assert h.sample("secretsync_ready", kind="ExternalSecret", namespace=NS, name=NAME) == 0
    async with harness() as h:
        _path, body = h.cluster_store(
            [{"key": "k", "value": "v1"}], conditions=[{"namespaceSelector": {"matchLabels": {"team": "a"}}}]
        )
        await h.es.on_store_event("ADDED", "ClusterSecretStore", body)
        h.api.put(kube.path_for("v1", "namespaces", None, NS), {"metadata": {"name": NS}})
        await h.es.on_external_event("ADDED", h.external(secretStoreRef=ref))
        h.failed(
            "StoreNotAllowed",
            f"ClusterSecretStore shared does not allow namespace {NS} (see its spec.conditions)",
        )
        assert h.sample("secretsync_ready", kind="ExternalSecret", namespace=NS, name=NAME) == 0


async def test_a_cluster_store_logs_in_with_the_credentials_of_the_external_secrets_namespace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = providers.create
    tokens: list[bytes] = []

    def reading_credentials(name: str, context: Any) -> Any:
        tokens.append(context.read_credential(SecretKeyRef("creds", "token")))  # as a login does
        return real(name, context)

    monkeypatch.setattr(providers, "create", reading_credentials)  # as the gateway builds them
    pool = ThreadPoolExecutor(max_workers=2)  # credential reads call back into the event loop
    try:
        async with harness() as h:
            h.es.gateway.executor = pool
            h.api.put(
                kube.path_for("v1", "secrets", NS, "creds"),
                {"metadata": {"name": "creds", "namespace": NS}, "data": {"token": "dGVuYW50"}},
            )
            path, body = h.cluster_store([{"key": "k", "value": "v1"}])
            await h.es.on_store_event("ADDED", "ClusterSecretStore", body)
            assert ready_of(h, path) == (
                "True",
                "Valid",
                "credentials are read in each ExternalSecret's namespace: checked at every sync",
            )
            await h.es.on_external_event(
                "ADDED", h.external(secretStoreRef={"name": "shared", "kind": "ClusterSecretStore"})
            )
            assert h.condition()["reason"] == "SecretSynced"
            assert h.values() == {"password": b"v1"}
            assert tokens == [b"tenant"]
    finally:
        pool.shutdown(wait=True)


# ----------------------------------------------------------------------------------------- known bugs


async def test_a_store_back_from_another_controller_class_with_a_new_spec_resyncs_its_users() -> None:
    async with harness() as h:
        await h.ready_store()
        await h.es.on_external_event("ADDED", h.external())
        other = h.store([{"key": "k", "value": "v2"}], generation=2, controller="other")
        await h.es.on_store_event("MODIFIED", "SecretStore", other)
        back = h.store([{"key": "k", "value": "v3"}], generation=3)
        await h.es.on_store_event("MODIFIED", "SecretStore", back)
        assert store_condition(h)["observedGeneration"] == 3
        assert h.values() == {"password": b"v3"}  # as for any changed store (it is still v1)


async def test_a_store_moved_into_this_shard_with_a_new_spec_resyncs_its_users() -> None:
    mine = {"yes": False}
    async with harness(owns_store=lambda body: mine["yes"]) as h:
        await h.es.on_store_event("ADDED", "SecretStore", peer(h))
        await h.es.on_external_event("ADDED", h.external())
        mine["yes"] = True
        await h.es.on_store_event(
            "MODIFIED", "SecretStore", h.store([{"key": "k", "value": "v2"}], generation=2)
        )
        assert store_condition(h)["observedGeneration"] == 2
        assert h.values() == {"password": b"v2"}  # as for any changed store (it is still v1)
