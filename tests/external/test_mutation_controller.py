"""The ExternalSecret controller in process, reconcile by reconcile, on the fake provider.

The operator-level tests run it in a subprocess that no mutant of secretsync/external reaches;
these drive :class:`ExternalController` directly against the in-memory API of
tests/support/fake_api.py (failures on demand) and a real scheduler, and pin what a user sees:
the Secret, the status, the events, the metrics, the scheduled refreshes and retries, the log
lines. ``make mutation MODULE=secretsync/external`` (docs/testing.md "Mutation testing").
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from secretsync import kube, ownership, status
from secretsync.errors import (
    NotPermitted,
    ProviderAuthError,
    ProviderError,
    ProviderUnavailable,
    SecretNotFound,
)
from secretsync.external import ESO, SECRETSYNC, ExternalController, Flavor
from secretsync.external.outcome import data_hash
from secretsync.external.writer import DATA_HASH
from secretsync.metrics import Metrics
from secretsync.prefetch import SecretPrefetch
from secretsync.providers.fake import FakeProvider
from secretsync.scheduler import Scheduler
from tests.support.fake_api import ControllerHarness, FakeApi, Inline
from tests.support.fake_api import log_lines as lines

NS, NAME, TARGET = "apps", "db", "db-secret"
SECRET_PATH = kube.path_for("v1", "secrets", NS, TARGET)
SECRETS = kube.path_for("v1", "secrets", NS)


class Harness(ControllerHarness):
    def __init__(self, flavor: Flavor = SECRETSYNC, **kw: Any) -> None:
        self.flavor = flavor
        self.api = FakeApi()
        self.secret_path = SECRET_PATH
        self.metrics = Metrics()
        self.scheduler = Scheduler()
        self.es = ExternalController(
            self.api,  # type: ignore[arg-type]
            self.metrics,
            Inline(),
            scheduler=self.scheduler,
            flavor=flavor,
            **kw,
        )
        self.es.backoff.jitter = 0.0
        self.es.auth_backoff.jitter = 0.0
        self.es_path = kube.path_for(flavor.group_version, "externalsecrets", NS, NAME)
        self.store_path = kube.path_for(flavor.group_version, "secretstores", NS, "fake")

    def store(
        self, data: list[dict[str, Any]] | None = None, *, generation: int = 1, **spec: Any
    ) -> dict[str, Any]:
        body = {
            "apiVersion": self.flavor.group_version,
            "kind": "SecretStore",
            "metadata": {"name": "fake", "namespace": NS, "uid": "store-uid", "generation": generation},
            "spec": {
                "provider": {"fake": {"data": data if data is not None else [{"key": "k", "value": "v1"}]}},
                **spec,
            },
        }
        return self.api.put(self.store_path, body)

    def cluster_store(self, data: list[dict[str, Any]], **spec: Any) -> tuple[str, dict[str, Any]]:
        """A ClusterSecretStore "shared" on the fake provider: its path and body as stored."""
        path = kube.path_for(self.flavor.group_version, "clustersecretstores", None, "shared")
        body = {
            "apiVersion": self.flavor.group_version,
            "kind": "ClusterSecretStore",
            "metadata": {"name": "shared", "uid": "cs-uid", "generation": 1},
            "spec": {"provider": {"fake": {"data": data}}, **spec},
        }
        return path, self.api.put(path, body)

    async def ready_store(self, data: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        body = self.store(data)
        await self.es.on_store_event("ADDED", "SecretStore", body)
        return self.api.objects[self.store_path]

    def external(self, *, generation: int = 1, uid: str = "es-uid", **spec: Any) -> dict[str, Any]:
        full: dict[str, Any] = {
            "refreshInterval": "1h",
            "secretStoreRef": {"name": "fake", "kind": "SecretStore"},
            "target": {"name": TARGET},
            "data": [{"secretKey": "password", "remoteRef": {"key": "k"}}],
        }
        full.update(spec)
        body = {
            "apiVersion": self.flavor.group_version,
            "kind": "ExternalSecret",
            "metadata": {"name": NAME, "namespace": NS, "uid": uid, "generation": generation},
            "spec": full,
        }
        previous = self.api.objects.get(self.es_path)
        if (
            previous is not None and "status" in previous
        ):  # a spec update keeps the status, as the API server does
            body["status"] = copy.deepcopy(previous["status"])
        return self.api.put(self.es_path, body)

    def stored(self) -> dict[str, Any]:
        return self.api.objects[self.es_path]

    def condition(self) -> dict[str, Any]:
        found = status.ready_of(self.stored().get("status"))
        assert found is not None
        return dict(found)

    def due(self) -> float | None:
        return self.scheduler.due_in((self.flavor.group_version, "es", NS, NAME))

    def failed(self, reason: str, message: str | None = None) -> dict[str, Any]:
        """The Ready condition, asserted False with ``reason`` (and ``message``, word for word)."""
        cond = self.condition()
        assert (cond["status"], cond["reason"]) == ("False", reason)
        if message is not None:
            assert cond["message"] == message
        return cond

    def retries_in(self, first: float) -> None:
        """A retry is due in ``first`` seconds: the backoff's first step (no jitter here)."""
        due = self.due()
        assert due is not None and 0.9 * first < due <= first

    def refreshes_later(self) -> None:
        """No retry: the next look is the refresh, an hour (plus jitter) away."""
        due = self.due()
        assert due is not None and due >= 3600

    def events(self) -> list[tuple[str, str, str]]:
        return self.api.events(NS, kind="ExternalSecret")


@pytest.fixture
async def h() -> Any:
    harness = Harness()
    yield harness
    await harness.scheduler.close()
    await harness.es.close()


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG, logger="secretsync")
    yield caplog


# --------------------------------------------------------------------------------------------- first sync


async def test_a_first_sync_writes_secret_status_event_metrics(h: Harness) -> None:
    await h.ready_store()
    body = h.external()
    await h.es.on_external_event("ADDED", body)
    secret = h.secret()
    assert secret is not None
    assert h.values() == {"password": b"v1"}
    assert secret["metadata"]["ownerReferences"] == [kube.controller_reference(body)]
    assert secret["metadata"]["labels"][ownership.PRODUCED_LABEL] == "true"
    assert secret["metadata"]["annotations"][DATA_HASH] == data_hash(secret["data"])
    assert secret["type"] == "Opaque"  # no template type: Opaque, as ESO writes it
    cond = h.condition()
    assert (cond["status"], cond["reason"]) == ("True", "SecretSynced")
    assert cond["message"] == f"synced 1 keys into Secret {NS}/{TARGET}"
    st = h.stored()["status"]
    assert st["observedGeneration"] == 1
    assert st["syncedResourceVersion"] == f"1-{status.intent_digest(body)[:12]}"
    assert st["binding"] == {"name": TARGET}
    assert st["refreshTime"]
    assert h.events() == [("Normal", "Created", f"Created Secret {NS}/{TARGET}")]
    assert h.sample("secretsync_ready", kind="ExternalSecret", namespace=NS, name=NAME) == 1
    assert h.sample("secretsync_external_syncs_total", namespace=NS, name=NAME) == 1
    assert h.sample("secretsync_reconcile_duration_seconds_count", kind="ExternalSecret") == 1
    duration = h.sample("secretsync_reconcile_duration_seconds_sum", kind="ExternalSecret")
    assert duration is not None and 0 <= duration < 5
    assert h.sample("secretsync_external_sync_duration_seconds_count") == 1
    sync_time = h.sample("secretsync_external_sync_duration_seconds_sum")
    assert sync_time is not None and 0 <= sync_time < 5
    due = h.due()
    assert due is not None and 3600 <= due <= 3960  # refreshInterval plus up to 10 % jitter
    assert h.es._secret_rv[f"{NS}/{NAME}"] == secret["metadata"]["resourceVersion"]


async def test_the_same_event_again_does_no_work(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    calls = len(h.api.calls)
    await h.es.on_external_event("MODIFIED", h.stored())
    assert len(h.api.calls) == calls


async def test_a_new_generation_syncs_and_updates(h: Harness) -> None:
    await h.ready_store([{"key": "k", "value": "v1"}, {"key": "k2", "value": "v2"}])
    await h.es.on_external_event("ADDED", h.external())
    newer = h.external(generation=2, data=[{"secretKey": "other", "remoteRef": {"key": "k2"}}])
    await h.es.on_external_event("MODIFIED", newer)
    assert h.values() == {"other": b"v2"}
    assert h.events()[-1] == ("Normal", "Updated", f"Updated Secret {NS}/{TARGET}")
    assert h.stored()["status"]["syncedResourceVersion"].startswith("2-")


async def test_deleted_forgets_everything(h: Harness) -> None:
    await h.ready_store()
    body = h.external()
    await h.es.on_external_event("ADDED", body)
    h.es.backoff.next_delay("es-uid")
    h.es._waiting.add((NS, NAME))
    await h.es.on_external_event("DELETED", body)
    assert h.es._done == {}
    assert h.es._secret_rv == {}
    assert "es-uid" not in h.es._locks
    assert h.es._targets == {}
    assert h.es._target_of == {}
    assert h.es._store_of == {}
    assert h.es._users == {}
    assert h.es._waiting == set()
    assert h.due() is None
    assert h.es.backoff.failures("es-uid") == 0
    assert h.sample("secretsync_ready", kind="ExternalSecret", namespace=NS, name=NAME) is None


async def test_an_object_being_deleted_is_left_alone(h: Harness) -> None:
    await h.ready_store()
    body = h.external()
    body["metadata"]["deletionTimestamp"] = "2026-12-01T00:00:00Z"
    h.api.put(h.es_path, body)
    calls = len(h.api.calls)
    await h.es.on_external_event("MODIFIED", body)
    await h.es.sync_by_name(NS, NAME)
    assert h.api.calls[calls:] == [("get", h.es_path)]
    assert h.secret() is None


async def test_sync_by_name_of_a_missing_object_does_nothing(h: Harness) -> None:
    await h.es.sync_by_name(NS, NAME)
    assert h.api.calls == [("get", h.es_path)]


async def test_sync_by_name_forgets_an_object_of_another_shard() -> None:
    h = Harness(owns=lambda body: body["metadata"]["uid"] != "theirs")
    try:
        await h.ready_store()
        await h.es.on_external_event("ADDED", h.external(uid="theirs"))
        assert h.secret() is not None
        await h.es.sync_by_name(NS, NAME)
        assert h.es._target_of == {}
        assert "theirs" not in h.es._done
    finally:
        await h.scheduler.close()


async def test_sync_by_name_logs_its_trigger(h: Harness, logs: pytest.LogCaptureFixture) -> None:
    await h.ready_store()
    h.external()
    await h.es.sync_by_name(NS, NAME, trigger="drift")
    assert ("DEBUG", f"ExternalSecret {NS}/{NAME}: sync (drift)") in lines(logs)
    await h.es.sync_by_name(NS, NAME)
    assert ("DEBUG", f"ExternalSecret {NS}/{NAME}: sync (refresh)") in lines(logs)


async def test_a_sync_whose_status_is_not_written_raises_for_the_scheduler(
    h: Harness, logs: pytest.LogCaptureFixture
) -> None:
    await h.ready_store()
    h.external()
    failure = kube.ApiError(503, "ServiceUnavailable", "busy")
    h.api.fail[("write_status", h.es_path + "/status")] = failure
    with pytest.raises(kube.ApiError) as caught:
        await h.es.sync_by_name(NS, NAME)
    assert (caught.value.status, caught.value.reason) == (0, "StatusNotWritten")
    assert str(caught.value) == str(kube.ApiError(0, "StatusNotWritten", f"ExternalSecret {NS}/{NAME}"))
    assert ("WARNING", f"cannot write status of {NS}/{NAME}: {failure}") in lines(logs)
    assert "es-uid" not in h.es._done
    due = h.due()
    assert due is not None and 0.9 < due <= 1.0  # the backoff's first step


async def test_sync_soon_retries_under_the_objects_key(h: Harness, logs: pytest.LogCaptureFixture) -> None:
    h.api.fail[("get", h.es_path)] = kube.ApiError(503, "ServiceUnavailable", "busy")
    await h.es.sync_soon(NS, NAME, trigger="drift")
    assert h.due() is not None
    assert any(m.startswith(f"ExternalSecret {NS}/{NAME}: ") for _, m in lines(logs))


# ------------------------------------------------------------------------------------ the target's events


async def test_secret_events_of_other_secrets_and_of_our_own_writes_are_dropped(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    secret = h.secret()
    assert secret is not None
    calls = len(h.api.calls)
    other = copy.deepcopy(secret)
    other["metadata"]["name"] = "unrelated"
    await h.es.on_secret_event("MODIFIED", other)
    await h.es.on_secret_event("MODIFIED", secret)
    assert len(h.api.calls) == calls


async def test_an_edited_target_is_put_back(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    secret = h.secret()
    assert secret is not None
    secret["data"]["password"] = base64.b64encode(b"tampered").decode()
    edited = h.api.put(SECRET_PATH, secret)
    await h.es.on_secret_event("MODIFIED", edited)
    assert h.values() == {"password": b"v1"}
    assert h.events()[-1] == ("Normal", "Updated", f"Updated Secret {NS}/{TARGET}")


async def test_a_deleted_target_is_written_again(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    secret = h.api.objects.pop(SECRET_PATH)
    await h.es.on_secret_event("DELETED", secret)  # at the very version we wrote
    assert h.values() == {"password": b"v1"}


async def test_a_secret_event_a_listed_copy_awaits_is_left_to_it(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    secret = h.api.objects.pop(SECRET_PATH)
    h.es.prefetch._held[(NS, TARGET)] = "999"
    moved = copy.deepcopy(secret)
    moved["metadata"]["resourceVersion"] = "999"
    calls = len(h.api.calls)
    await h.es.on_secret_event("MODIFIED", moved)
    assert len(h.api.calls) == calls
    await h.es.on_secret_event("DELETED", moved)  # a deletion is never the state a copy awaits
    assert h.secret() is not None


# ----------------------------------------------------------------------------------------------- failures


async def test_an_invalid_spec_says_how_to_fix_it_and_is_not_retried(h: Harness) -> None:
    await h.ready_store()
    body = h.external(refreshInterval="often")
    await h.es.on_external_event("ADDED", body)
    cond = h.condition()
    assert (cond["status"], cond["reason"]) == ("False", "InvalidSpec")
    assert cond["message"].endswith("; fix the ExternalSecret and re-apply it")
    assert h.events() == [("Warning", "InvalidSpec", f"ExternalSecret: {cond['message']}")]
    assert h.due() is None
    assert h.es._done["es-uid"] == (1, status.intent_digest(body))
    assert "binding" not in h.stored()["status"]


async def test_a_missing_remote_secret_is_retried_and_keeps_the_secret(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    newer = h.external(generation=2, data=[{"secretKey": "password", "remoteRef": {"key": "gone"}}])
    await h.es.on_external_event("MODIFIED", newer)
    cond = h.condition()
    assert (cond["status"], cond["reason"]) == ("False", "SecretMissing")
    assert cond["message"].endswith(" (deletionPolicy Retain keeps the Secret as it is)")
    assert h.values() == {"password": b"v1"}
    h.retries_in(1.0)
    assert (
        h.sample("secretsync_external_sync_errors_total", namespace=NS, name=NAME, reason="SecretMissing")
        == 1
    )


@pytest.mark.parametrize(
    ("error", "first_delay", "backoff"),
    [
        (ProviderAuthError("fake: permission denied"), 10.0, "auth_backoff"),  # credentials: from 10 s
        (ProviderError("fake: backend unreachable"), 1.0, "backoff"),
    ],
    ids=["auth", "other"],
)
async def test_a_provider_failure_backs_off_and_a_success_resets_both_backoffs(
    h: Harness, monkeypatch: pytest.MonkeyPatch, error: Exception, first_delay: float, backoff: str
) -> None:
    await h.ready_store()

    def failing(self: Any, ref: Any) -> bytes:
        raise error

    monkeypatch.setattr(FakeProvider, "get", failing)
    await h.es.on_external_event("ADDED", h.external())
    cond = h.condition()
    assert (cond["status"], cond["reason"], cond["message"]) == ("False", type(error).reason, str(error))  # type: ignore[attr-defined]
    due = h.due()
    assert due is not None and first_delay * 0.99 < due <= first_delay
    assert getattr(h.es, backoff).failures("es-uid") == 1
    monkeypatch.undo()
    h.es.auth_backoff.next_delay("es-uid")
    h.es.backoff.next_delay("es-uid")
    await h.es.sync_by_name(NS, NAME, trigger="retry")
    assert h.values() == {"password": b"v1"}
    assert h.es.backoff.failures("es-uid") == 0
    assert h.es.auth_backoff.failures("es-uid") == 0
    h.refreshes_later()


async def test_a_bug_in_a_provider_is_an_error_without_its_text(
    h: Harness, monkeypatch: pytest.MonkeyPatch, logs: pytest.LogCaptureFixture
) -> None:
    await h.ready_store()

    def buggy(self: Any, ref: Any) -> bytes:
        raise KeyError("hunter2")

    monkeypatch.setattr(FakeProvider, "get", buggy)
    await h.es.on_external_event("ADDED", h.external())
    cond = h.condition()
    assert cond["status"] == "False"
    assert "hunter2" not in cond["message"]
    assert cond["message"] == "fake: unexpected KeyError during get"
    assert ("ERROR", "provider fake get failed unexpectedly: KeyError") in lines(logs)
    assert h.sample("secretsync_provider_calls_total", provider="fake", operation="get", result="error") == 1


async def test_a_bug_in_the_controller_is_an_internal_error_and_retried(
    h: Harness, monkeypatch: pytest.MonkeyPatch, logs: pytest.LogCaptureFixture
) -> None:
    await h.ready_store()
    from secretsync.external import render

    def broken(*_: Any, **__: Any) -> Any:
        raise KeyError("hunter2")

    monkeypatch.setattr(render, "render", broken)
    await h.es.on_external_event("ADDED", h.external())
    cond = h.condition()
    assert (cond["status"], cond["reason"]) == ("False", "InternalError")
    assert "hunter2" not in cond["message"]
    assert ("ERROR", f"ExternalSecret {NS}/{NAME}: unexpected KeyError") in lines(logs)
    assert h.due() is not None


async def test_an_api_refusal_is_not_retried_and_an_api_failure_is(h: Harness) -> None:
    await h.ready_store()
    h.external()
    refused = kube.Invalid(422, "Invalid", "bad")
    h.api.fail[("get", h.store_path)] = refused
    await h.es.sync_by_name(NS, NAME)
    h.failed("ApiError", f"the Kubernetes API refused a request: {refused}")
    h.refreshes_later()  # not retried; looked at again at the next refresh
    failure = kube.ApiError(503, "ServiceUnavailable", "busy")
    h.api.fail[("get", h.store_path)] = failure
    await h.es.sync_by_name(NS, NAME)
    h.failed("ApiError", f"Kubernetes API: {failure}")
    h.retries_in(1.0)


async def test_writing_the_secret_refused_or_failing(h: Harness) -> None:
    await h.ready_store()
    h.external()
    refused = kube.Invalid(422, "Invalid", "too long")
    h.api.fail[("create", SECRETS)] = refused
    await h.es.sync_by_name(NS, NAME)
    h.failed("InvalidSecret", f"the API server refused Secret {NS}/{TARGET}: {refused}")
    h.refreshes_later()  # not retried; looked at again at the next refresh
    failure = kube.ApiError(500, "InternalError", "boom")
    h.api.fail[("create", SECRETS)] = failure
    await h.es.sync_by_name(NS, NAME)
    h.failed("ApiError", f"writing Secret {NS}/{TARGET} failed: {failure}")
    h.retries_in(1.0)


async def test_a_secret_another_object_controls_is_left_and_looked_at_again(h: Harness) -> None:
    await h.ready_store()
    owner = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d-1", "controller": True}
    h.api.put(
        SECRET_PATH,
        {"metadata": {"name": TARGET, "namespace": NS, "ownerReferences": [owner]}, "data": {"x": "eQ=="}},
    )
    await h.es.on_external_event("ADDED", h.external())
    cond = h.condition()
    assert (cond["status"], cond["reason"]) == ("False", "SecretNotOwned")
    assert cond["message"].startswith(f"Secret {NS}/{TARGET} is controlled by ")
    h.retries_in(1.0)


async def test_a_secret_that_would_be_invalid_says_what_to_fix(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event(
        "ADDED", h.external(target={"name": TARGET, "template": {"type": "kubernetes.io/tls"}})
    )
    cond = h.condition()
    assert (cond["status"], cond["reason"]) == ("False", "InvalidSecret")
    assert cond["message"].endswith("; fix spec.target (or the data it is built from)")
    assert h.secret() is None


async def test_a_template_that_fails_names_spec_target_template(h: Harness) -> None:
    await h.ready_store()
    target = {"name": TARGET, "template": {"data": {"url": "{{ .password | nosuchfunction }}"}}}
    await h.es.on_external_event("ADDED", h.external(target=target))
    cond = h.condition()
    assert (cond["status"], cond["reason"]) == ("False", "TemplateFailed")
    assert cond["message"].startswith("spec.target.template: ")
    h.refreshes_later()  # not retried: read again at the next refresh


async def test_the_sync_of_an_invalid_store_waits_for_it(h: Harness) -> None:
    h.store([{"no": "key"}])
    await h.es.on_store_event("ADDED", "SecretStore", h.api.objects[h.store_path])
    await h.es.on_external_event("ADDED", h.external())
    cond = h.condition()
    assert (cond["status"], cond["reason"]) == ("False", "StoreNotReady")
    assert (NS, NAME) in h.es._waiting
    h.retries_in(1.0)
    # the store mended: the waiting ExternalSecret is synced at once
    body = h.store([{"key": "k", "value": "v1"}], generation=2)
    await h.es.on_store_event("MODIFIED", "SecretStore", body)
    assert h.values() == {"password": b"v1"}
    assert (NS, NAME) not in h.es._waiting


# ------------------------------------------------------------------------------------- restarts: no fetch


@contextlib.asynccontextmanager
async def restart(h: Harness, data: list[dict[str, Any]] | None = None, **kw: Any) -> AsyncIterator[Harness]:
    """An operator restart with the store validated again, closed at the end."""
    after = restarted(h, **kw)
    try:
        await after.ready_store(data)
        yield after
    finally:
        await after.scheduler.close()


def restarted(h: Harness, **kw: Any) -> Harness:
    """A second controller over the same API: an operator restart."""
    again = Harness(h.flavor, **kw)
    again.api = h.api
    again.es = ExternalController(
        h.api,  # type: ignore[arg-type]
        again.metrics,
        Inline(),
        scheduler=again.scheduler,
        flavor=h.flavor,
        **kw,
    )
    return again


@pytest.mark.parametrize("flavor", [SECRETSYNC, ESO], ids=["secretsync", "eso"])
async def test_a_restart_with_everything_synced_reads_only_the_secret(flavor: Flavor) -> None:
    h = Harness(flavor)
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    after = restarted(h)
    try:
        await after.ready_store()
        h.api.calls.clear()
        writes = len(h.api.writes())
        await after.es.on_external_event("ADDED", h.stored())
        assert h.api.calls == [("get", SECRET_PATH)]
        assert len(h.api.writes()) == writes
        assert after.sample("secretsync_ready", kind="ExternalSecret", namespace=NS, name=NAME) == 1
        assert after.sample("secretsync_external_syncs_total", namespace=NS, name=NAME) is None
        secret = h.secret()
        assert secret is not None
        assert after.es._secret_rv[f"{NS}/{NAME}"] == secret["metadata"]["resourceVersion"]
        due = after.due()
        assert due is not None and 3000 < due <= 3960  # what is left of the interval, jittered
        assert "es-uid" in after.es._done
    finally:
        for x in (h, after):
            await x.scheduler.close()


async def test_a_restart_after_a_spec_change_syncs(h: Harness) -> None:
    await h.ready_store([{"key": "k", "value": "v1"}, {"key": "k2", "value": "v2"}])
    await h.es.on_external_event("ADDED", h.external())
    changed = h.stored()
    changed["spec"]["data"] = [{"secretKey": "password", "remoteRef": {"key": "k2"}}]
    changed["metadata"]["generation"] = 2
    h.api.put(h.es_path, changed)
    async with restart(h, [{"key": "k", "value": "v1"}, {"key": "k2", "value": "v2"}]) as after:
        await after.es.on_external_event("ADDED", h.stored())
        assert h.values() == {"password": b"v2"}


async def test_a_restart_with_the_target_gone_or_edited_syncs(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    secret = h.secret()
    assert secret is not None
    secret["data"]["password"] = base64.b64encode(b"edited").decode()
    h.api.put(SECRET_PATH, secret)
    async with restart(h) as after:
        await after.es.on_external_event("ADDED", h.stored())
        assert h.values() == {"password": b"v1"}


async def test_a_restart_relabels_an_intact_secret_without_its_watch_label(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    secret = h.secret()
    assert secret is not None
    del secret["metadata"]["labels"][ownership.PRODUCED_LABEL]
    h.api.put(SECRET_PATH, secret)
    async with restart(h) as after:
        h.api.calls.clear()
        await after.es.on_external_event("ADDED", h.stored())
        assert h.api.calls == [("get", SECRET_PATH), ("replace", SECRET_PATH)]
        relabelled = h.secret()
        assert relabelled is not None
        assert relabelled["metadata"]["labels"][ownership.PRODUCED_LABEL] == "true"
        assert after.es._secret_rv[f"{NS}/{NAME}"] == relabelled["metadata"]["resourceVersion"]


async def test_a_restart_syncs_when_the_relabel_fails(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    secret = h.secret()
    assert secret is not None
    del secret["metadata"]["labels"][ownership.PRODUCED_LABEL]
    h.api.put(SECRET_PATH, secret)
    h.api.fail[("replace", SECRET_PATH)] = kube.ApiError(503, "ServiceUnavailable", "busy")
    async with restart(h) as after:
        await after.es.on_external_event("ADDED", h.stored())
        relabelled = h.secret()
        assert relabelled is not None
        assert relabelled["metadata"]["labels"][ownership.PRODUCED_LABEL] == "true"  # by the full sync
        assert after.sample("secretsync_external_syncs_total", namespace=NS, name=NAME) == 1


@pytest.mark.parametrize("policy", ["None", "Orphan"])
async def test_a_restart_of_a_secret_it_does_not_keep_reads_nothing(h: Harness, policy: str) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external(target={"name": TARGET, "creationPolicy": policy}))
    listing = SecretPrefetch(wait=60.0)
    listing.begin()  # the produced Secrets are being listed, and the list never comes
    async with restart(h, prefetch=listing) as after:
        h.api.calls.clear()
        # nor waits for the list: it keeps no Secret to look for in it
        await asyncio.wait_for(after.es.on_external_event("ADDED", h.stored()), 5.0)
        assert h.api.calls == []


async def test_created_once_acknowledges_a_new_generation_without_fetching(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external(refreshPolicy="CreatedOnce"))
    assert h.due() is None  # no timed refresh
    newer = h.external(
        generation=2, refreshPolicy="CreatedOnce", data=[{"secretKey": "other", "remoteRef": {"key": "k"}}]
    )
    writes = len(h.api.writes())
    await h.es.on_external_event("MODIFIED", newer)
    assert h.values() == {"password": b"v1"}  # not fetched again
    assert h.stored()["status"]["observedGeneration"] == 2  # but the generation is acknowledged
    assert h.condition()["reason"] == "SecretSynced"
    assert h.condition()["message"] == f"synced 1 keys into Secret {NS}/{TARGET}"
    assert len(h.api.writes()) == writes + 1  # the status only: no event for it
    await h.es.on_external_event("MODIFIED", h.stored())
    assert len(h.api.writes()) == writes + 1


async def test_eso_acknowledges_by_the_synced_resource_version() -> None:
    h = Harness(ESO)
    try:
        assert h.es._acknowledged({"metadata": {"generation": 3}}, {"syncedResourceVersion": "3-abc"})
        assert not h.es._acknowledged({"metadata": {"generation": 3}}, {"syncedResourceVersion": "2-abc"})
        assert not h.es._acknowledged({"metadata": {"generation": 3}}, {"syncedResourceVersion": "33-abc"})
        assert not h.es._acknowledged({"metadata": {"generation": 3}}, {"syncedResourceVersion": 3})
        assert not h.es._acknowledged({"metadata": {"generation": 3}}, {"observedGeneration": 3})
        ours = Harness()
        assert ours.es._acknowledged({"metadata": {"generation": 3}}, {"observedGeneration": 3})
        assert not ours.es._acknowledged({"metadata": {"generation": 3}}, {"syncedResourceVersion": "3-abc"})
        assert not ours.es._acknowledged({"metadata": {"generation": 3}}, {"observedGeneration": 2})
    finally:
        await h.scheduler.close()


async def test_eso_statuses_carry_esos_reasons_and_no_observed_generation() -> None:
    h = Harness(ESO)
    try:
        await h.ready_store()
        store_status = h.api.objects[h.store_path]["status"]
        assert store_status["capabilities"] == "ReadOnly"
        await h.es.on_external_event("ADDED", h.external())
        cond = h.condition()
        assert (cond["status"], cond["reason"]) == ("True", "SecretSynced")
        assert "observedGeneration" not in h.stored()["status"]
        newer = h.external(generation=2, data=[{"secretKey": "password", "remoteRef": {"key": "gone"}}])
        await h.es.on_external_event("MODIFIED", newer)
        cond = h.condition()
        assert (cond["status"], cond["reason"]) == ("False", "SecretSyncedError")
        assert (
            h.sample("secretsync_external_sync_errors_total", namespace=NS, name=NAME, reason="SecretMissing")
            == 1
        )
    finally:
        await h.scheduler.close()


# ----------------------------------------------------------------------------------------------- policies


async def test_creation_policy_none_writes_no_secret_and_no_binding(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external(target={"name": TARGET, "creationPolicy": "None"}))
    assert h.secret() is None
    cond = h.condition()
    assert (cond["status"], cond["message"]) == (
        "True",
        "fetched 1 keys (creationPolicy None: no Secret written)",
    )
    assert "binding" not in h.stored()["status"]
    assert h.events() == [
        ("Normal", "SecretSynced", "ExternalSecret: fetched 1 keys (creationPolicy None: no Secret written)")
    ]


async def test_deletion_policy_delete_deletes_the_secret_when_every_source_is_gone(h: Harness) -> None:
    await h.ready_store()
    spec = {"target": {"name": TARGET, "deletionPolicy": "Delete"}}
    await h.es.on_external_event("ADDED", h.external(**spec))
    assert h.secret() is not None
    gone = h.external(generation=2, data=[{"secretKey": "password", "remoteRef": {"key": "gone"}}], **spec)
    await h.es.on_external_event("MODIFIED", gone)
    assert h.secret() is None
    cond = h.condition()
    assert (cond["status"], cond["reason"]) == ("False", "SecretDeleted")
    assert cond["message"] == (
        f"every remote secret is gone; Secret deleted (deletionPolicy Delete): {NS}/{TARGET}"
    )
    assert h.events()[-1] == ("Normal", "Deleted", f"Deleted Secret {NS}/{TARGET}")
    h.refreshes_later()  # synced: looked at again at the next refresh
    # and again, nothing left to delete
    await h.es.sync_by_name(NS, NAME)
    assert h.condition()["message"] == f"every remote secret is gone; no Secret {NS}/{TARGET} to delete"


@pytest.mark.parametrize("policy", ["Retain", "Delete", "Merge"])
async def test_a_find_that_matches_nothing_keeps_deletes_or_empties_the_secret_as_eso(
    h: Harness, policy: str
) -> None:
    await h.ready_store()
    target = {"name": TARGET, "deletionPolicy": policy}
    await h.es.on_external_event("ADDED", h.external(target=target))
    assert h.values() == {"password": b"v1"}
    nothing = [{"find": {"name": {"regexp": "^nothing-by-this-name$"}}}]
    await h.es.on_external_event(
        "MODIFIED", h.external(generation=2, data=[], dataFrom=nothing, target=target)
    )
    cond = h.condition()
    if policy == "Retain":  # left as it is: not a value lost to an empty answer
        assert h.values() == {"password": b"v1"}
        assert (cond["status"], cond["reason"], cond["message"]) == (
            "True",
            "SecretSynced",
            f"the sources hold no data; Secret {NS}/{TARGET} left as it is (deletionPolicy Retain)",
        )
        assert h.stored()["status"]["syncedResourceVersion"].startswith("2-")  # synced, as ESO's markAsDone
        h.refreshes_later()
    elif policy == "Delete":
        assert h.secret() is None
        assert cond["reason"] == "SecretDeleted"
    else:  # Merge drops the keys that are gone and never deletes the Secret
        assert h.secret() is not None and h.values() == {}


async def test_deletion_policy_delete_leaves_a_secret_that_is_not_its_own(h: Harness) -> None:
    await h.ready_store()
    h.api.put(SECRET_PATH, {"metadata": {"name": TARGET, "namespace": NS, "uid": "s"}, "data": {"x": "eQ=="}})
    gone = h.external(
        data=[{"secretKey": "password", "remoteRef": {"key": "gone"}}],
        target={"name": TARGET, "deletionPolicy": "Delete"},
    )
    await h.es.on_external_event("ADDED", gone)
    assert h.secret() is not None
    assert h.condition()["message"] == (
        f"every remote secret is gone; Secret {NS}/{TARGET} is not this ExternalSecret's "
        "(it has no controller reference to it), so it was left in place"
    )


async def test_deletion_policy_delete_of_a_secret_changed_meanwhile_is_retried(h: Harness) -> None:
    await h.ready_store()
    spec = {"target": {"name": TARGET, "deletionPolicy": "Delete"}}
    await h.es.on_external_event("ADDED", h.external(**spec))
    h.api.fail[("delete", SECRET_PATH)] = kube.Conflict(409, "Conflict", "changed")
    gone = h.external(generation=2, data=[{"secretKey": "password", "remoteRef": {"key": "gone"}}], **spec)
    await h.es.on_external_event("MODIFIED", gone)
    assert h.secret() is not None
    cond = h.condition()
    assert (cond["reason"], cond["message"]) == (
        "ApiError",
        f"Secret {NS}/{TARGET} changed while deleting it",
    )
    h.retries_in(1.0)


async def test_deletion_policy_delete_deletes_only_the_secret_as_read(h: Harness) -> None:
    await h.ready_store()
    spec = {"target": {"name": TARGET, "deletionPolicy": "Delete"}}
    await h.es.on_external_event("ADDED", h.external(**spec))
    secret = h.secret()
    assert secret is not None
    await h.es.writer.delete_target(
        h.stored(), __import__("secretsync.model", fromlist=["x"]).parse_external_secret(h.stored())
    )
    assert ("delete", SECRET_PATH) in h.api.calls
    assert h.secret() is None


# ----------------------------------------------------------------------------------- templateFrom sources


async def test_template_from_reads_configmaps_and_secrets_of_its_own_namespace(h: Harness) -> None:
    await h.ready_store()
    h.api.put(
        kube.path_for("v1", "configmaps", NS, "tpl"),
        {"metadata": {"name": "tpl", "namespace": NS}, "data": {"url": "db://{{ .password }}", "n": 3}},
    )
    h.api.put(
        kube.path_for("v1", "secrets", NS, "tpl-s"),
        {
            "metadata": {"name": "tpl-s", "namespace": NS},
            "data": {"user": base64.b64encode(b"{{ .password }}-u").decode(), "bad": 7},
        },
    )
    template = {
        "templateFrom": [
            {"configMap": {"name": "tpl", "items": [{"key": "url"}]}},
            {"secret": {"name": "tpl-s", "items": [{"key": "user"}]}},
        ]
    }
    await h.es.on_external_event("ADDED", h.external(target={"name": TARGET, "template": template}))
    assert h.values() == {"url": b"db://v1", "user": b"v1-u"}
    assert ("get", kube.path_for("v1", "configmaps", NS, "tpl")) in h.api.calls


async def test_template_from_source_failures(h: Harness) -> None:
    await h.ready_store()
    template = {"templateFrom": [{"configMap": {"name": "tpl", "items": [{"key": "url"}]}}]}
    path = kube.path_for("v1", "configmaps", NS, "tpl")
    forbidden = kube.ApiError(403, "Forbidden", "no")
    h.api.fail[("get", path)] = forbidden
    await h.es.on_external_event("ADDED", h.external(target={"name": TARGET, "template": template}))
    cond = h.condition()
    assert cond["status"] == "False"
    assert cond["message"] == f"cannot read ConfigMap {NS}/tpl for templateFrom: {forbidden}"
    h.retries_in(1.0)
    busy = kube.ApiError(503, "ServiceUnavailable", "busy")
    h.api.fail[("get", path)] = busy
    await h.es.sync_by_name(NS, NAME)
    cond = h.condition()
    assert (cond["reason"], cond["message"]) == ("ApiError", f"Kubernetes API: {busy}")


# ------------------------------------------------------------------------------------------------- stores


def store_key_of(h: Harness) -> tuple[str, str, str]:
    return (h.flavor.group_version, "store", ("SecretStore", NS, "fake"))  # type: ignore[return-value]


def store_due(h: Harness) -> float | None:
    return h.scheduler.due_in((h.flavor.group_version, "store", ("SecretStore", NS, "fake")))


def store_condition(h: Harness) -> dict[str, Any]:
    found = status.ready_of(h.api.objects[h.store_path].get("status"))
    assert found is not None
    return dict(found)


async def test_a_valid_store_is_written_once_and_not_checked_again_for_its_own_status(h: Harness) -> None:
    body = h.store()
    await h.es.on_store_event("ADDED", "SecretStore", body)
    cond = store_condition(h)
    assert (cond["status"], cond["reason"], cond["message"]) == ("True", "Valid", "fake: store validated")
    assert h.api.objects[h.store_path]["status"]["observedGeneration"] == 1
    assert "capabilities" not in h.api.objects[h.store_path]["status"]
    assert h.api.events(NS, kind="SecretStore") == [("Normal", "Valid", "SecretStore: fake: store validated")]
    assert h.sample("secretsync_ready", kind="SecretStore", namespace=NS, name="fake") == 1
    assert h.sample("secretsync_provider_calls_total", provider="fake", operation="check", result="ok") == 1
    assert h.es._store_state[("SecretStore", NS, "fake")] == ("store-uid", 1, True)
    assert store_due(h) is None  # no spec.refreshInterval: checked when it changes only
    writes = len(h.api.writes())
    await h.es.on_store_event("MODIFIED", "SecretStore", h.api.objects[h.store_path])  # its own status
    assert len(h.api.writes()) == writes


async def test_a_store_with_a_refresh_interval_is_checked_again_each_interval(h: Harness) -> None:
    body = h.store(refreshInterval=300)
    await h.es.on_store_event("ADDED", "SecretStore", body)
    due = store_due(h)
    assert due is not None and 299 < due <= 300
    await h.es._recheck_store("SecretStore", ("SecretStore", NS, "fake"))
    assert h.sample("secretsync_provider_calls_total", provider="fake", operation="check", result="ok") == 2


async def test_a_recheck_of_a_deleted_store_does_nothing(h: Harness) -> None:
    await h.es._recheck_store("SecretStore", ("SecretStore", NS, "fake"))
    assert h.api.calls == [("get", h.store_path)]


async def test_an_invalid_store_says_why_and_wakes_its_waiting_external_secrets(h: Harness) -> None:
    await h.es.on_external_event("ADDED", h.external())  # no store yet
    cond = h.condition()
    assert (cond["reason"], cond["message"]) == (
        "StoreNotFound",
        f"SecretStore {NS}/fake does not exist; create it, or fix spec.secretStoreRef "
        "(retried when the store appears)",
    )
    assert (NS, NAME) in h.es._waiting
    body = h.store([{"no": "key"}])
    await h.es.on_store_event("ADDED", "SecretStore", body)
    cond = store_condition(h)
    assert (cond["status"], cond["reason"]) == ("False", "InvalidProviderConfig")
    assert store_due(h) is None  # a spec to fix: not retried
    # its ExternalSecret now says why, instead of "does not exist"
    cond = h.condition()
    assert cond["reason"] == "StoreNotReady"
    assert cond["message"] == f"SecretStore {NS}/fake is invalid: {store_condition(h)['message']}"


async def test_a_store_not_validated_yet_says_so(h: Harness) -> None:
    h.store()  # never checked by this controller, no status
    await h.es.on_external_event("ADDED", h.external())
    assert h.condition()["message"] == (
        f"SecretStore {NS}/fake is not ready: not validated yet (synced as soon as the store becomes ready)"
    )


async def test_a_store_whose_provider_refuses_is_checked_again_with_backoff(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(self: Any) -> None:
        raise ProviderAuthError("fake: token revoked")

    monkeypatch.setattr(FakeProvider, "check", refused)
    await h.es.on_store_event("ADDED", "SecretStore", h.store())
    cond = store_condition(h)
    assert (cond["status"], cond["reason"], cond["message"]) == (
        "False",
        ProviderAuthError.reason,
        "fake: token revoked",
    )
    due = store_due(h)
    assert due is not None and 9.9 < due <= 11.0  # auth backoff: 10 s

    def down(self: Any) -> None:
        raise ProviderError("fake: unreachable")

    monkeypatch.setattr(FakeProvider, "check", down)
    await h.es.check_store("SecretStore", h.store(generation=2))
    cond = store_condition(h)
    assert (cond["status"], cond["reason"], cond["message"]) == (
        "False",
        ProviderError.reason,
        "fake: unreachable",
    )
    due = store_due(h)
    assert due is not None and 0.9 < due <= 1.1
    monkeypatch.undo()
    await h.es.check_store("SecretStore", h.store(generation=3))
    assert store_condition(h)["status"] == "True"
    assert h.es.backoff.failures("store:store-uid") == 0
    assert h.es.auth_backoff.failures("store:store-uid") == 0


async def test_a_store_whose_status_cannot_be_written_is_looked_at_again(h: Harness) -> None:
    h.api.fail[("write_status", h.store_path + "/status")] = kube.ApiError(503, "ServiceUnavailable", "busy")
    await h.es.on_store_event("ADDED", "SecretStore", h.store())
    assert ("SecretStore", NS, "fake") not in h.es._store_state
    due = store_due(h)
    assert due is not None and 0.9 < due <= 1.1
    assert h.sample("secretsync_ready", kind="SecretStore", namespace=NS, name="fake") is None
    await h.es._recheck_store("SecretStore", ("SecretStore", NS, "fake"))
    assert store_condition(h)["status"] == "True"


async def test_a_changed_store_resyncs_every_external_secret_using_it(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    assert h.values() == {"password": b"v1"}
    body = h.store([{"key": "k", "value": "v2"}], generation=2)
    await h.es.on_store_event("MODIFIED", "SecretStore", body)
    assert h.values() == {"password": b"v2"}
    assert h.es._users[("SecretStore", NS, "fake")] == {(NS, NAME)}


async def test_a_deleted_store_wakes_its_users_who_then_say_so(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    body = h.api.objects.pop(h.store_path)
    await h.es.on_store_event("DELETED", "SecretStore", body)
    assert ("SecretStore", NS, "fake") not in h.es._store_state
    assert h.condition()["reason"] == "StoreNotFound"
    assert h.values() == {"password": b"v1"}  # the Secret is kept


async def test_a_store_of_another_controller_class_is_left_alone(h: Harness) -> None:
    body = h.store(controller="other")
    await h.es.on_store_event("ADDED", "SecretStore", body)
    assert "status" not in h.api.objects[h.store_path]
    assert ("SecretStore", NS, "fake") not in h.es._store_state
    await h.es.on_external_event("ADDED", h.external())
    assert "status" not in h.stored()  # its ExternalSecrets are not ours either
    assert h.es.serves({"spec": {"controller": "default"}})
    assert h.es.serves({"spec": {}})
    assert h.es.serves({})
    assert not h.es.serves({"spec": {"controller": "other"}})


async def test_a_store_that_does_not_parse_at_sync_time_is_not_ready(h: Harness) -> None:
    h.store({"not": "a list"})  # type: ignore[arg-type]
    await h.es.on_external_event("ADDED", h.external())
    cond = h.condition()
    assert cond["reason"] == "StoreNotReady"
    assert cond["message"].startswith(f"SecretStore {NS}/fake is invalid: ")


async def test_a_cluster_store_is_refused_in_namespaced_mode() -> None:
    h = Harness(cluster_stores=False)
    try:
        await h.es.on_external_event(
            "ADDED", h.external(secretStoreRef={"name": "shared", "kind": "ClusterSecretStore"})
        )
        cond = h.condition()
        assert (cond["reason"], cond["message"]) == (
            "StoreNotAllowed",
            "ClusterSecretStore shared: this operator runs in namespaced mode (--watch-namespace) and serves "
            "SecretStores only; use a SecretStore in this namespace",
        )
        assert [verb for verb, _ in h.api.calls] == ["write_status", "create"]  # no store read
    finally:
        await h.scheduler.close()


async def test_a_cluster_store_with_conditions_serves_only_the_namespaces_it_names(h: Harness) -> None:
    _path, body = h.cluster_store(
        [{"key": "k", "value": "v1"}], conditions=[{"namespaceSelector": {"matchLabels": {"team": "a"}}}]
    )
    await h.es.on_store_event("ADDED", "ClusterSecretStore", body)
    ref = {"name": "shared", "kind": "ClusterSecretStore"}
    ns_path = kube.path_for("v1", "namespaces", None, NS)
    h.api.put(ns_path, {"metadata": {"name": NS, "labels": {"team": "b"}}})
    await h.es.on_external_event("ADDED", h.external(secretStoreRef=ref))
    cond = h.condition()
    assert (cond["reason"], cond["message"]) == (
        "StoreNotAllowed",
        f"ClusterSecretStore shared does not allow namespace {NS} (see its spec.conditions)",
    )
    assert ("get", ns_path) in h.api.calls
    h.api.put(ns_path, {"metadata": {"name": NS, "labels": {"team": "a"}}})
    await h.es.sync_by_name(NS, NAME)
    assert h.values() == {"password": b"v1"}
    # the namespace unreadable (gone): no labels, refused
    del h.api.objects[ns_path]
    await h.es.sync_by_name(NS, NAME, trigger="retry")
    assert h.condition()["reason"] == "StoreNotAllowed"


# --------------------------------------------------------------------------------- peer stores (sharding)


async def test_a_peer_stores_status_wakes_and_resyncs_as_its_own_would() -> None:
    h = Harness(owns_store=lambda body: False)
    try:
        body = h.store()
        await h.es.on_store_event("ADDED", "SecretStore", body)
        assert "status" not in h.api.objects[h.store_path]  # never checked or written here
        assert h.es._peer_state == {}
        await h.es.on_external_event("ADDED", h.external())
        assert h.condition()["reason"] == "StoreNotReady"
        # its owner writes Ready for generation 1
        peer = h.api.objects[h.store_path]
        peer["status"] = status.build(None, ready=True, reason="Valid", message="ok", generation=1)
        peer = h.api.put(h.store_path, peer)
        await h.es.on_store_event("MODIFIED", "SecretStore", peer)
        assert h.es._peer_state[("SecretStore", NS, "fake")] == ("store-uid", 1, True)
        assert h.values() == {"password": b"v1"}
        # a new generation with a stale status: not current, nothing happens
        peer = h.store([{"key": "k", "value": "v2"}], generation=2)
        peer["status"] = status.build(None, ready=True, reason="Valid", message="ok", generation=1)
        peer = h.api.put(h.store_path, peer)
        await h.es.on_store_event("MODIFIED", "SecretStore", peer)
        assert h.es._peer_state[("SecretStore", NS, "fake")] == ("store-uid", 1, True)
        assert h.values() == {"password": b"v1"}
        # its owner checked generation 2: every user resynced with it
        peer["status"] = status.build(None, ready=True, reason="Valid", message="ok", generation=2)
        peer = h.api.put(h.store_path, peer)
        await h.es.on_store_event("MODIFIED", "SecretStore", peer)
        assert h.values() == {"password": b"v2"}
        # the same again (a label): nothing
        calls = len(h.api.calls)
        await h.es.on_store_event("MODIFIED", "SecretStore", h.api.objects[h.store_path])
        assert len(h.api.calls) == calls
        # gone bad: users told at once
        peer["status"] = status.build(
            None, ready=False, reason="InvalidProviderConfig", message="bad", generation=2
        )
        peer = h.api.put(h.store_path, peer)
        await h.es.sync_by_name(NS, NAME)  # (a waiting user is what a bad store wakes)
        assert h.sample("secretsync_ready", kind="SecretStore", namespace=NS, name="fake") is None
    finally:
        await h.scheduler.close()


async def test_a_store_moved_to_another_shard_is_no_longer_checked_here() -> None:
    mine = {"yes": True}
    h = Harness(owns_store=lambda body: mine["yes"])
    try:
        await h.es.on_store_event("ADDED", "SecretStore", h.store(refreshInterval=300))
        assert store_due(h) is not None
        assert h.sample("secretsync_ready", kind="SecretStore", namespace=NS, name="fake") == 1
        mine["yes"] = False
        await h.es.check_store("SecretStore", h.api.objects[h.store_path])
        assert store_due(h) is None
        assert ("SecretStore", NS, "fake") not in h.es._store_state
        assert h.sample("secretsync_ready", kind="SecretStore", namespace=NS, name="fake") is None
    finally:
        await h.scheduler.close()


async def test_an_eso_peer_store_counts_as_it_stands() -> None:
    h = Harness(ESO, owns_store=lambda body: False)
    try:
        assert h.es._status_is_current({}, {"generation": 5})
        ours = Harness(owns_store=lambda body: False)
        assert ours.es._status_is_current({"observedGeneration": 5}, {"generation": 5})
        assert not ours.es._status_is_current({"observedGeneration": 4}, {"generation": 5})
        assert not ours.es._status_is_current({}, {"generation": 5})
    finally:
        await h.scheduler.close()


async def test_a_peer_store_of_another_controller_class_is_forgotten() -> None:
    h = Harness(owns_store=lambda body: False)
    try:
        body = h.store()
        body["status"] = status.build(None, ready=True, reason="Valid", message="ok", generation=1)
        body = h.api.put(h.store_path, body)
        await h.es.on_store_event("ADDED", "SecretStore", body)
        assert ("SecretStore", NS, "fake") in h.es._peer_state
        other = h.store(controller="other")
        other["status"] = body["status"]
        other = h.api.put(h.store_path, other)
        await h.es.on_store_event("MODIFIED", "SecretStore", other)
        assert h.es._peer_state == {}
    finally:
        await h.scheduler.close()


# ---------------------------------------------------------------------------------------------- Merge, jitter


async def test_merge_needs_an_existing_secret(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external(target={"name": TARGET, "creationPolicy": "Merge"}))
    h.failed(
        "SecretMissing",
        f"Secret {NS}/{TARGET} does not exist and creationPolicy Merge only adds keys to an existing Secret",
    )
    h.retries_in(1.0)


async def test_merge_adds_its_keys_and_drops_the_claims_of_external_secrets_that_are_gone(h: Harness) -> None:
    await h.ready_store()
    other_path = kube.path_for(h.flavor.group_version, "externalsecrets", NS, "live")
    h.api.put(other_path, {"metadata": {"name": "live", "namespace": NS, "uid": "l"}})
    claims = '{"gone":["old"],"live":["kept"]}'
    h.api.put(
        SECRET_PATH,
        {
            "metadata": {
                "name": TARGET,
                "namespace": NS,
                "annotations": {ownership.MERGED_KEYS_ANNOTATION: claims},
            },
            "type": "Opaque",
            "data": {"kept": "a2VwdA==", "old": "b2xk", "own": "b3du"},
        },
    )
    await h.es.on_external_event("ADDED", h.external(target={"name": TARGET, "creationPolicy": "Merge"}))
    assert h.values() == {"kept": b"kept", "old": b"old", "own": b"own", "password": b"v1"}
    secret = h.secret()
    assert secret is not None
    assert secret["metadata"]["annotations"][ownership.MERGED_KEYS_ANNOTATION] == (
        '{"db":["password"],"live":["kept"]}'
    )
    assert ("get", other_path) in h.api.calls
    assert ("get", kube.path_for(h.flavor.group_version, "externalsecrets", NS, "gone")) in h.api.calls
    assert "ownerReferences" not in secret["metadata"]
    assert h.events()[-1] == ("Normal", "Updated", f"Updated Secret {NS}/{TARGET}")


async def test_refreshes_are_jittered_by_up_to_a_tenth(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    from secretsync.external import controller

    monkeypatch.setattr(controller.random, "uniform", lambda low, high: high)
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    due = h.due()
    assert due is not None and 3959 < due <= 3960
    async with restart(h) as after:
        await after.es.on_external_event("ADDED", h.stored())
        due = after.due()
        assert due is not None and 3955 < due <= 3960  # what is left of the hour, times 1.1


async def test_a_refresh_interval_of_zero_schedules_nothing(h: Harness) -> None:
    await h.ready_store()
    h.scheduler.schedule(("secretsync.io/v1alpha1", "es", NS, NAME), 100, h.es.close)
    await h.es.on_external_event("ADDED", h.external(refreshInterval="0"))
    assert h.values() == {"password": b"v1"}
    assert h.due() is None


# ---------------------------------------------------------------------------------------------- status writes


@pytest.mark.parametrize(
    "refusal", [kube.NotFound(404, "NotFound", "gone"), kube.Conflict(409, "Conflict", "replaced")]
)
async def test_a_status_of_an_object_gone_or_replaced_is_dropped_without_a_retry(
    h: Harness, refusal: kube.ApiError
) -> None:
    await h.ready_store()
    h.external()
    h.api.fail[("write_status", h.es_path + "/status")] = refusal
    await h.es.sync_by_name(NS, NAME)  # raises nothing: nothing to retry
    assert h.values() == {"password": b"v1"}
    assert h.events() == [("Normal", "Created", f"Created Secret {NS}/{TARGET}")]
    h.refreshes_later()


async def test_a_status_refused_as_invalid_is_logged_as_an_error(
    h: Harness, logs: pytest.LogCaptureFixture
) -> None:
    await h.ready_store()
    h.external()
    refusal = kube.Invalid(422, "Invalid", "status: bad")
    h.api.fail[("write_status", h.es_path + "/status")] = refusal
    await h.es.sync_by_name(NS, NAME)
    assert ("ERROR", f"the API server refuses the status of {NS}/{NAME}: {refusal}") in lines(logs)


async def test_an_unchanged_failure_is_not_written_or_announced_again(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external(refreshInterval="often"))
    writes = len(h.api.writes())
    await h.es.sync_by_name(NS, NAME)
    assert len(h.api.writes()) == writes


async def test_a_failure_logs_a_warning_with_reason_and_message(
    h: Harness, logs: pytest.LogCaptureFixture
) -> None:
    await h.es.on_external_event("ADDED", h.external())
    cond = h.condition()
    assert ("WARNING", f"ExternalSecret {NS}/{NAME}: StoreNotFound: {cond['message']}") in lines(logs)
    assert h.events() == [("Warning", "StoreNotFound", f"ExternalSecret: {cond['message']}")]


async def test_a_ready_flip_without_a_write_posts_the_flip(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    stored = h.stored()
    stored["status"] = status.build(None, ready=False, reason="ApiError", message="old", generation=1)
    h.api.put(h.es_path, stored)
    await h.es.sync_by_name(NS, NAME)  # the Secret is as it should be: no write, but Ready flips
    assert h.condition()["status"] == "True"
    assert h.events()[-1] == (
        "Normal",
        "SecretSynced",
        f"ExternalSecret: synced 1 keys into Secret {NS}/{TARGET}",
    )


# ------------------------------------------------------------------------------------ peer stores, in detail


def peer(
    h: Harness, *, generation: int = 1, ready: bool = True, observed: int | None = 1, **extra: Any
) -> dict[str, Any]:
    body = h.store(generation=generation, **extra)
    body["status"] = status.build(
        None,
        ready=ready,
        reason="Valid" if ready else "InvalidProviderConfig",
        message="peer says",
        generation=observed,
    )
    return h.api.put(h.store_path, body)


def syncs(h: Harness) -> float:
    return h.sample("secretsync_external_syncs_total", namespace=NS, name=NAME) or 0.0


async def test_a_peer_store_first_seen_ready_wakes_only_the_waiting() -> None:
    h = Harness(owns_store=lambda body: False)
    try:
        await h.es.on_store_event("ADDED", "SecretStore", peer(h))
        await h.es.on_external_event("ADDED", h.external())
        assert h.values() == {"password": b"v1"}
        # another controller (a restart) sees the same store for the first time: nobody waits
        again = restarted(h, owns_store=lambda body: False)
        try:
            again.es._register(
                h.stored(), __import__("secretsync.model", fromlist=["m"]).parse_external_secret(h.stored())
            )
            await again.es.on_store_event("ADDED", "SecretStore", h.api.objects[h.store_path])
            assert again.sample("secretsync_external_syncs_total", namespace=NS, name=NAME) is None
        finally:
            await again.scheduler.close()
    finally:
        await h.scheduler.close()


async def test_a_peer_store_turning_ready_for_the_same_generation_wakes_only_the_waiting() -> None:
    h = Harness(owns_store=lambda body: False)
    try:
        await h.es.on_store_event("ADDED", "SecretStore", peer(h))
        await h.es.on_external_event("ADDED", h.external())
        before = syncs(h)
        await h.es.on_store_event("MODIFIED", "SecretStore", peer(h, ready=False))
        assert syncs(h) == before  # not waiting: not woken by the store going bad
        await h.es.on_store_event("MODIFIED", "SecretStore", peer(h, ready=True))
        assert syncs(h) == before  # nor by it turning good again (same generation)
        assert h.es._peer_state[("SecretStore", NS, "fake")] == ("store-uid", 1, True)
    finally:
        await h.scheduler.close()


async def test_a_peer_store_going_bad_tells_its_waiting_users_why() -> None:
    h = Harness(owns_store=lambda body: False)
    try:
        await h.es.on_external_event("ADDED", h.external())  # waits: no store yet
        assert h.condition()["reason"] == "StoreNotFound"
        await h.es.on_store_event("ADDED", "SecretStore", peer(h, ready=False))
        assert h.condition()["message"] == (
            f"SecretStore {NS}/fake is not ready: peer says (synced as soon as the store becomes ready)"
        )
    finally:
        await h.scheduler.close()


async def test_a_changed_peer_store_drops_the_old_provider_and_resyncs_everyone() -> None:
    h = Harness(owns_store=lambda body: False)
    try:
        await h.es.on_store_event("ADDED", "SecretStore", peer(h))
        await h.es.on_external_event("ADDED", h.external())
        old = h.es.gateway.cache.all()
        assert len(old) == 1
        before = syncs(h)
        await h.es.on_store_event("MODIFIED", "SecretStore", peer(h, generation=2, observed=2))
        assert syncs(h) == before + 1
        assert old[0] not in h.es.gateway.cache.all()
        assert len(h.es.gateway.cache.all()) == 1  # the new generation's, made by that sync
    finally:
        await h.scheduler.close()


async def test_a_peer_store_without_generation_or_with_a_status_that_is_no_map() -> None:
    h = Harness(ESO, owns_store=lambda body: False)
    try:
        body = peer(h, observed=None)
        del body["metadata"]["generation"]
        body = h.api.put(h.store_path, body)
        await h.es.on_store_event("ADDED", "SecretStore", body)
        assert h.es._peer_state[("SecretStore", NS, "fake")] == ("store-uid", 0, True)
        body["status"] = "garbage"
        await h.es.on_store_event("MODIFIED", "SecretStore", h.api.put(h.store_path, body))  # no crash
        assert h.es._peer_state[("SecretStore", NS, "fake")] == ("store-uid", 0, True)
    finally:
        await h.scheduler.close()


async def test_a_peer_store_of_another_class_never_seen_is_no_error() -> None:
    h = Harness(owns_store=lambda body: False)
    try:
        await h.es.on_store_event("ADDED", "SecretStore", peer(h, controller="other"))
        assert h.es._peer_state == {}
    finally:
        await h.scheduler.close()


async def test_a_cluster_store_handed_to_a_peer_drops_its_metric() -> None:
    mine = {"yes": True}
    h = Harness(owns_store=lambda body: mine["yes"])
    try:
        path = kube.path_for(h.flavor.group_version, "clustersecretstores", None, "shared")
        body = h.api.put(
            path,
            {
                "apiVersion": h.flavor.group_version,
                "kind": "ClusterSecretStore",
                "metadata": {"name": "shared", "uid": "cs", "generation": 1},
                "spec": {"provider": {"fake": {"data": []}}},
            },
        )
        await h.es.on_store_event("ADDED", "ClusterSecretStore", body)
        assert h.sample("secretsync_ready", kind="ClusterSecretStore", namespace="", name="shared") == 1
        mine["yes"] = False
        await h.es.on_store_event("MODIFIED", "ClusterSecretStore", h.api.objects[path])
        assert h.sample("secretsync_ready", kind="ClusterSecretStore", namespace="", name="shared") is None
    finally:
        await h.scheduler.close()


async def test_a_drift_of_an_intact_secret_fetches_nothing(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    secret = h.secret()
    assert secret is not None
    secret["metadata"]["labels"]["team"] = "x"  # a change that leaves the data intact
    calls = h.sample("secretsync_provider_calls_total", provider="fake", operation="get", result="ok")
    await h.es.on_secret_event("MODIFIED", h.api.put(SECRET_PATH, secret))
    assert h.sample("secretsync_provider_calls_total", provider="fake", operation="get", result="ok") == calls


async def test_the_acknowledged_generation_is_the_part_before_the_first_dash() -> None:
    h = Harness(ESO)
    try:
        assert h.es._acknowledged({"metadata": {"generation": 3}}, {"syncedResourceVersion": "3-ab-cd"})
    finally:
        await h.scheduler.close()


# ------------------------------------------------------------------------- the second pass on the survivors


def scheduled_job(h: Harness, key: Any) -> Any:
    """The job the scheduler holds for ``key`` (to run it now, as its timer would)."""
    return h.scheduler._timers[key]._args[1]  # type: ignore[attr-defined]


async def test_deletion_policy_delete_in_detail(h: Harness) -> None:
    await h.ready_store()
    spec = {"target": {"name": TARGET, "deletionPolicy": "Delete"}}
    await h.es.on_external_event("ADDED", h.external(**spec))
    read = h.secret()
    assert read is not None
    gone = h.external(generation=2, data=[{"secretKey": "password", "remoteRef": {"key": "gone"}}], **spec)
    await h.es.on_external_event("MODIFIED", gone)
    assert h.api.deletions == [(SECRET_PATH, read["metadata"]["uid"], read["metadata"]["resourceVersion"])]
    h.failed("SecretDeleted")
    st = h.stored()["status"]
    assert st["syncedResourceVersion"].startswith("2-") and st["refreshTime"]  # a sync: refreshTime moves
    # another's Secret, or none: also SecretDeleted, also a sync
    h.api.put(SECRET_PATH, {"metadata": {"name": TARGET, "namespace": NS, "uid": "x"}, "data": {}})
    h.stored()["status"]["syncedResourceVersion"] = "stale"
    await h.es.sync_by_name(NS, NAME)
    h.failed("SecretDeleted")
    assert h.stored()["status"]["syncedResourceVersion"].startswith("2-")
    del h.api.objects[SECRET_PATH]
    h.stored()["status"]["syncedResourceVersion"] = "stale"
    await h.es.sync_by_name(NS, NAME)
    h.failed("SecretDeleted")
    assert h.stored()["status"]["syncedResourceVersion"].startswith("2-")


async def test_deletion_policy_delete_conflict_backs_off_for_the_object() -> None:
    h = Harness()
    try:
        await h.ready_store()
        spec = {"target": {"name": TARGET, "deletionPolicy": "Delete"}}
        await h.es.on_external_event("ADDED", h.external(**spec))
        h.api.fail[("delete", SECRET_PATH)] = kube.Conflict(409, "Conflict", "changed")
        gone = h.external(
            generation=2, data=[{"secretKey": "password", "remoteRef": {"key": "gone"}}], **spec
        )
        await h.es.on_external_event("MODIFIED", gone)
        h.failed("ApiError", f"Secret {NS}/{TARGET} changed while deleting it")
        assert h.es.backoff.failures("es-uid") == 1
    finally:
        await h.scheduler.close()


async def test_eso_reports_a_deleted_secret_as_ready() -> None:
    h = Harness(ESO)
    try:
        await h.ready_store()
        spec = {"target": {"name": TARGET, "deletionPolicy": "Delete"}}
        await h.es.on_external_event("ADDED", h.external(**spec))
        gone = h.external(
            generation=2, data=[{"secretKey": "password", "remoteRef": {"key": "gone"}}], **spec
        )
        await h.es.on_external_event("MODIFIED", gone)
        cond = h.condition()
        assert (cond["status"], cond["reason"]) == ("True", "SecretDeleted")
    finally:
        await h.scheduler.close()


def test_esos_store_reasons() -> None:
    assert ESO.store_reason(False, "NotPermitted") == "InvalidProviderConfig"
    assert ESO.store_reason(False, "InvalidProviderConfig") == "InvalidProviderConfig"
    assert ESO.store_reason(False, "ProviderAuthFailed") == "ValidationFailed"
    assert ESO.store_reason(True, "Valid") == "Valid"
    assert SECRETSYNC.store_reason(False, "NotPermitted") == "NotPermitted"


async def test_retries_back_off_per_object(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external(target={"name": TARGET, "creationPolicy": "Merge"}))
    assert h.es.backoff.failures("es-uid") == 1  # SecretMissing
    h.api.fail[("create", SECRETS)] = kube.Conflict(409, "AlreadyExists", "exists")
    await h.es.on_external_event("MODIFIED", h.external(generation=2))
    h.failed("ApiError", f"Secret {NS}/{TARGET} appeared while creating it")
    h.retries_in(2.0)
    assert h.es.backoff.failures("es-uid") == 2


async def test_orphan_marks_its_secret_and_updates_it_later(h: Harness) -> None:
    await h.ready_store([{"key": "k", "value": "v1"}, {"key": "k2", "value": "v2"}])
    target = {"name": TARGET, "creationPolicy": "Orphan"}
    await h.es.on_external_event("ADDED", h.external(target=target))
    secret = h.secret()
    assert secret is not None
    assert secret["metadata"]["annotations"][ownership.OWNER_ANNOTATION] == f"{NS}/{NAME}"
    assert "ownerReferences" not in secret["metadata"]
    newer = h.external(
        generation=2, target=target, data=[{"secretKey": "password", "remoteRef": {"key": "k2"}}]
    )
    await h.es.on_external_event("MODIFIED", newer)
    assert h.values() == {"password": b"v2"}  # its own mark: no managed annotation needed


async def test_the_secret_named_in_invalid_secret_messages(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event(
        "ADDED", h.external(target={"name": TARGET, "template": {"type": "kubernetes.io/tls"}})
    )
    assert h.failed("InvalidSecret")["message"].startswith(f"Secret {NS}/{TARGET}")
    immutable = {"name": TARGET, "immutable": True}
    await h.es.on_external_event("MODIFIED", h.external(generation=2, target=immutable))
    assert h.values() == {"password": b"v1"}
    store = h.store([{"key": "k", "value": "v2"}], generation=2)
    await h.es.on_store_event("MODIFIED", "SecretStore", store)
    cond = h.failed("ImmutableSecretChanged")
    assert cond["message"].startswith(f"Secret {NS}/{TARGET}")


async def test_the_version_of_an_unchanged_or_updated_secret_is_remembered(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    await h.es.sync_by_name(NS, NAME, trigger="refresh")  # unchanged: no write
    secret = h.secret()
    assert secret is not None
    assert h.es._secret_rv[f"{NS}/{NAME}"] == secret["metadata"]["resourceVersion"]
    await h.es.on_store_event("MODIFIED", "SecretStore", h.store([{"key": "k", "value": "v2"}], generation=2))
    secret = h.secret()
    assert secret is not None and h.values() == {"password": b"v2"}
    assert h.es._secret_rv[f"{NS}/{NAME}"] == secret["metadata"]["resourceVersion"]


async def test_merge_drops_the_keys_it_claimed_before(h: Harness) -> None:
    await h.ready_store([{"key": "k", "value": "v1"}])
    h.api.put(
        SECRET_PATH,
        {"metadata": {"name": TARGET, "namespace": NS}, "type": "Opaque", "data": {"theirs": "eA=="}},
    )
    target = {"name": TARGET, "creationPolicy": "Merge"}
    await h.es.on_external_event("ADDED", h.external(target=target))
    assert h.values() == {"theirs": b"x", "password": b"v1"}
    renamed = h.external(
        generation=2, target=target, data=[{"secretKey": "renamed", "remoteRef": {"key": "k"}}]
    )
    await h.es.on_external_event("MODIFIED", renamed)
    assert h.values() == {"theirs": b"x", "renamed": b"v1"}


async def test_the_scheduled_jobs_run_the_sync_with_their_trigger(
    h: Harness, logs: pytest.LogCaptureFixture
) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    key = (h.flavor.group_version, "es", NS, NAME)
    await scheduled_job(h, key)()
    assert ("DEBUG", f"ExternalSecret {NS}/{NAME}: sync (refresh)") in lines(logs)
    h.api.fail[("get", h.store_path)] = kube.ApiError(503, "ServiceUnavailable", "busy")
    await h.es.sync_by_name(NS, NAME)
    await scheduled_job(h, key)()
    assert ("DEBUG", f"ExternalSecret {NS}/{NAME}: sync (retry)") in lines(logs)


async def test_the_scheduled_store_rechecks_run(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    def down(self: Any) -> None:
        raise ProviderError("fake: unreachable")

    monkeypatch.setattr(FakeProvider, "check", down)
    await h.es.on_store_event("ADDED", "SecretStore", h.store())
    assert h.es.backoff.failures("store:store-uid") == 1
    monkeypatch.undo()
    key = (h.flavor.group_version, "store", ("SecretStore", NS, "fake"))
    await scheduled_job(h, key)()
    assert store_condition(h)["status"] == "True"
    body = h.store(refreshInterval=60, generation=2)
    await h.es.on_store_event("MODIFIED", "SecretStore", body)
    await scheduled_job(h, key)()
    assert h.sample("secretsync_provider_calls_total", provider="fake", operation="check", result="ok") == 3


async def test_a_store_recheck_of_the_same_generation_wakes_only_the_waiting(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    before = syncs(h)
    await h.es._recheck_store("SecretStore", ("SecretStore", NS, "fake"))
    assert syncs(h) == before


async def test_a_store_a_tenant_may_not_have_says_why(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    from secretsync.external import gateway as gateway_module
    from secretsync.providers.base import Access

    real = gateway_module.providers.create

    def ambient(name: str, context: Any) -> Any:
        provider = real(name, context)
        monkeypatch.setattr(provider, "access", Access(ambient_identity=True), raising=False)
        return provider

    monkeypatch.setattr(gateway_module.providers, "create", ambient)
    await h.es.on_store_event("ADDED", "SecretStore", h.store())
    cond = store_condition(h)
    assert (cond["status"], cond["reason"]) == ("False", "NotPermitted")
    assert cond["message"].startswith("spec.provider: SecretStore")
    assert "has no auth, which would use the operator's own cloud identity" in cond["message"]
    assert store_due(h) is None


async def test_store_retry_settings_are_used_to_check_and_to_sync(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from secretsync.errors import ProviderUnavailable

    failures = {"check": 1, "get": 1}
    real_get = FakeProvider.get

    def flaky_check(self: Any) -> None:
        if failures["check"]:
            failures["check"] -= 1
            raise ProviderUnavailable("fake: busy")

    def flaky_get(self: Any, ref: Any) -> bytes:
        if failures["get"]:
            failures["get"] -= 1
            raise ProviderUnavailable("fake: busy")
        return real_get(self, ref)

    monkeypatch.setattr(FakeProvider, "check", flaky_check)
    monkeypatch.setattr(FakeProvider, "get", flaky_get)
    await h.es.on_store_event(
        "ADDED", "SecretStore", h.store(retrySettings={"maxRetries": 1, "retryInterval": "1ms"})
    )
    assert store_condition(h)["status"] == "True"
    await h.es.on_external_event("ADDED", h.external())
    assert h.values() == {"password": b"v1"}


async def test_a_store_of_another_class_is_logged_at_debug(
    h: Harness, logs: pytest.LogCaptureFixture
) -> None:
    await h.es.on_store_event("ADDED", "SecretStore", h.store(controller="other"))
    assert ("DEBUG", "SecretStore fake: controller class is not 'default'; left alone") in lines(logs)


async def test_a_cluster_store_without_conditions_reads_no_namespace(h: Harness) -> None:
    path = kube.path_for(h.flavor.group_version, "clustersecretstores", None, "shared")
    body = h.api.put(
        path,
        {
            "apiVersion": h.flavor.group_version,
            "kind": "ClusterSecretStore",
            "metadata": {"name": "shared", "uid": "cs", "generation": 1},
            "spec": {"provider": {"fake": {"data": [{"key": "k", "value": "v1"}]}}},
        },
    )
    await h.es.on_store_event("ADDED", "ClusterSecretStore", body)
    await h.es.on_external_event(
        "ADDED", h.external(secretStoreRef={"name": "shared", "kind": "ClusterSecretStore"})
    )
    assert h.values() == {"password": b"v1"}
    assert ("get", kube.path_for("v1", "namespaces", None, NS)) not in h.api.calls


async def test_store_failures_are_false(h: Harness) -> None:
    h.store()
    await h.es.on_external_event("ADDED", h.external())
    h.failed("StoreNotReady")


async def test_a_status_that_is_no_map_is_replaced(h: Harness) -> None:
    await h.ready_store()
    body = h.external()
    body["status"] = "garbage"
    await h.es.on_external_event("ADDED", h.api.put(h.es_path, body))
    assert h.condition()["reason"] == "SecretSynced"


async def test_the_locks_are_per_object(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    assert "es-uid" in h.es._locks


async def test_an_unchanged_outcome_keeps_the_transition_time(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    stored = h.stored()
    stored["status"]["conditions"][0]["lastTransitionTime"] = "2020-01-01T00:00:00Z"
    await h.es.sync_by_name(NS, NAME, trigger="refresh")
    assert h.condition()["lastTransitionTime"] == "2020-01-01T00:00:00Z"


async def test_a_failure_without_a_retry_keeps_the_backoff_count(h: Harness) -> None:
    await h.ready_store()
    h.es.backoff.next_delay("es-uid")
    target = {"name": TARGET, "template": {"data": {"url": "{{ .password | nosuchfunction }}"}}}
    await h.es.on_external_event("ADDED", h.external(target=target))
    h.failed("TemplateFailed")
    assert h.es.backoff.failures("es-uid") == 1


async def test_waiting_for_a_store_backs_off_for_the_object(h: Harness) -> None:
    await h.es.on_external_event("ADDED", h.external())
    assert h.es.backoff.failures("es-uid") == 1
    h.api.fail[("get", h.store_path)] = kube.ApiError(503, "ServiceUnavailable", "busy")
    await h.es.sync_by_name(NS, NAME)
    assert h.es.backoff.failures("es-uid") == 2


async def test_an_error_raised_while_resolving_the_store_is_reported(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await h.ready_store()

    async def refusing(*_: Any, **__: Any) -> Any:
        raise ProviderError("fake: cannot build")

    monkeypatch.setattr(h.es.gateway, "provider", refusing)
    await h.es.on_external_event("ADDED", h.external())
    h.failed(ProviderError.reason, "fake: cannot build")
    h.retries_in(1.0)


# ------------------------------------------------------------------------------------------------ fetch


async def test_fetch_reads_each_remote_value_once_and_selects_properties(h: Harness) -> None:
    await h.ready_store([{"key": "db", "value": '{"user": "app", "pw": "s3"}'}, {"key": "k", "value": "v1"}])
    data = [
        {"secretKey": "user", "remoteRef": {"key": "db", "property": "user"}},
        {"secretKey": "pw", "remoteRef": {"key": "db", "property": "pw"}},
        {"secretKey": "plain", "remoteRef": {"key": "k"}},
    ]
    await h.es.on_external_event("ADDED", h.external(data=data))
    assert h.values() == {"user": b"app", "pw": b"s3", "plain": b"v1"}
    assert h.sample("secretsync_provider_calls_total", provider="fake", operation="get", result="ok") == 2


async def test_fetch_extract_and_its_errors_name_the_entry(h: Harness) -> None:
    await h.ready_store([{"key": "db", "value": '{"user": "app"}'}, {"key": "k", "value": "not json"}])
    await h.es.on_external_event("ADDED", h.external(data=[], dataFrom=[{"extract": {"key": "db"}}]))
    assert h.values() == {"user": b"app"}
    data = [{"secretKey": "x", "remoteRef": {"key": "k", "property": "p"}}]
    await h.es.on_external_event("MODIFIED", h.external(generation=2, data=data))
    h.failed("PropertyNotFound", "k is not JSON, so it has no property 'p'")
    bad = [{"secretKey": "x", "remoteRef": {"key": "k", "decodingStrategy": "Base64"}}]
    await h.es.on_external_event("MODIFIED", h.external(generation=3, data=bad))
    assert "spec.data[0].remoteRef.decodingStrategy" in h.condition()["message"]
    bad_from = [{"extract": {"key": "db", "decodingStrategy": "Base64"}}]
    await h.es.on_external_event("MODIFIED", h.external(generation=4, data=[], dataFrom=bad_from))
    cond = h.failed("InvalidSpec")
    assert cond["message"].startswith("spec.dataFrom[0].decodingStrategy")


async def test_metadata_fetch_is_refused_by_the_fake_provider(h: Harness) -> None:
    await h.ready_store()
    data = [{"secretKey": "m", "remoteRef": {"key": "k", "metadataPolicy": "Fetch"}}]
    await h.es.on_external_event("ADDED", h.external(data=data))
    cond = h.failed("InvalidSpec")
    assert "metadataPolicy" in cond["message"]
    h.refreshes_later()  # not retried


async def test_deletion_policy_merge_drops_a_missing_key_and_keeps_the_rest(
    h: Harness, logs: pytest.LogCaptureFixture
) -> None:
    await h.ready_store()
    data = [
        {"secretKey": "gone", "remoteRef": {"key": "gone"}},
        {"secretKey": "password", "remoteRef": {"key": "k"}},
    ]
    await h.es.on_external_event(
        "ADDED", h.external(data=data, target={"name": TARGET, "deletionPolicy": "Merge"})
    )
    assert h.values() == {"password": b"v1"}
    assert ("INFO", "ExternalSecret: 1 source(s) not found, dropped (deletionPolicy Merge)") in lines(logs)


# ------------------------------------------------------------------------------------- the provider's context


async def test_the_provider_gets_the_gateways_credential_reader_token_minter_and_event_counter(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from secretsync.errors import NotPermitted, SpecError
    from secretsync.external import gateway as gateway_module
    from secretsync.providers.base import SecretKeyRef

    contexts: list[Any] = []
    built_on: list[str] = []
    real = gateway_module.providers.create

    def capture(name: str, context: Any) -> Any:
        contexts.append(context)
        built_on.append(threading.current_thread().name)
        return real(name, context)

    monkeypatch.setattr(gateway_module.providers, "create", capture)
    await h.es.on_store_event("ADDED", "SecretStore", h.store())
    assert built_on == [threading.current_thread().name]  # on the gateway's executor (inline here)
    context = contexts[0]
    h.api.put(
        kube.path_for("v1", "secrets", NS, "creds"),
        {
            "metadata": {"name": "creds", "namespace": NS},
            "data": {"token": base64.b64encode(b"t0k").decode()},
        },
    )
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(1) as pool:
        value = await loop.run_in_executor(pool, context.read_credential, SecretKeyRef("creds", "token"))
        assert value == b"t0k"
        with pytest.raises(NotPermitted) as refused:
            await loop.run_in_executor(pool, context.mint_token, "vault-auth", None, ("vault",))
        assert f"ServiceAccount {NS}/vault-auth does not exist" in str(refused.value)
        with pytest.raises(SpecError):  # a SecretStore may not name another namespace
            await loop.run_in_executor(pool, context.mint_token, "vault-auth", "elsewhere", ("vault",))
    context.on_event("login")
    assert h.sample("secretsync_provider_events_total", provider="fake", event="login") == 1


def test_next_refresh_at_its_edges() -> None:
    import datetime as dt

    from secretsync.external import refresh

    now = dt.datetime(2026, 12, 1, 0, 0, 30, tzinfo=dt.UTC)
    naive = {"refreshTime": "2026-12-01T00:00:00"}  # no zone: read as UTC
    assert refresh.next_refresh("Periodic", 60, naive, now=now) == 30.0
    exact = {"refreshTime": "2026-12-01T00:00:30Z"}
    assert refresh.next_refresh("Periodic", 60, exact, now=now) == 60.0  # refreshed this instant
    assert refresh.next_refresh("Periodic", 1, exact, now=now) == 1.0  # one second is an interval
    assert refresh.next_refresh("Periodic", 0, exact, now=now) is None


async def test_the_admins_server_rules_apply_to_every_store() -> None:
    from secretsync import tenancy
    from secretsync.external import gateway as gateway_module
    from secretsync.providers.base import Access

    h = Harness(rules=tenancy.Rules(allowed_servers=("vault.internal",)))
    real = gateway_module.providers.create

    def naming_a_server(name: str, context: Any) -> Any:
        provider = real(name, context)
        provider.access = Access(servers=(("spec.provider.fake.server", "https://evil.example:8200"),))
        return provider

    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(gateway_module.providers, "create", naming_a_server)
            await h.es.on_store_event("ADDED", "SecretStore", h.store())
        cond = store_condition(h)
        assert (cond["status"], cond["reason"]) == ("False", "NotPermitted")
        assert cond["message"] == (
            "spec.provider.fake.server: evil.example:8200 is not in the operator's --allowed-servers list; "
            "ask a cluster admin to add it, or use an allowed server"
        )
    finally:
        await h.scheduler.close()


async def test_a_store_refresh_interval_of_one_second_is_honoured(h: Harness) -> None:
    await h.es.on_store_event("ADDED", "SecretStore", h.store(refreshInterval=1))
    due = store_due(h)
    assert due is not None and 0.9 < due <= 1.0


# ------------------------------------------------------------------- the one-worker run's survivors, killed


async def test_an_update_is_ready_and_a_conflicting_update_is_retried(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    await h.es.on_store_event("MODIFIED", "SecretStore", h.store([{"key": "k", "value": "v2"}], generation=2))
    cond = h.condition()
    assert (cond["status"], cond["reason"], cond["message"]) == (
        "True",
        "SecretSynced",
        f"synced 1 keys into Secret {NS}/{TARGET}",
    )
    h.api.fail[("replace", SECRET_PATH)] = kube.Conflict(409, "Conflict", "changed")
    await h.es.on_store_event("MODIFIED", "SecretStore", h.store([{"key": "k", "value": "v3"}], generation=3))
    h.failed("ApiError", f"Secret {NS}/{TARGET} changed while updating it")
    h.retries_in(1.0)
    assert h.es.backoff.failures("es-uid") == 1
    assert h.values() == {"password": b"v2"}


async def test_an_unchanged_refresh_moves_refresh_time_and_remembers_the_version(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    h.stored()["status"]["refreshTime"] = "2020-01-01T00:00:00Z"
    secret = h.secret()
    assert secret is not None
    touched = h.api.put(SECRET_PATH, secret)  # the same content at a new resourceVersion
    await h.es.sync_by_name(NS, NAME, trigger="refresh")
    assert h.stored()["status"]["refreshTime"] != "2020-01-01T00:00:00Z"
    assert h.es._secret_rv[f"{NS}/{NAME}"] == touched["metadata"]["resourceVersion"]


async def test_an_unmanaged_secret_refusal_offers_merge_and_orphan_needs_its_own_mark(h: Harness) -> None:
    await h.ready_store()
    h.api.put(SECRET_PATH, {"metadata": {"name": TARGET, "namespace": NS}, "data": {"x": "eQ=="}})
    await h.es.on_external_event("ADDED", h.external(target={"name": TARGET, "creationPolicy": "Orphan"}))
    cond = h.failed("SecretNotOwned")
    assert cond["message"] == (
        f"Secret {NS}/{TARGET} exists and is not managed by this ExternalSecret; left untouched. Fix: delete "
        f"it, choose another target name, use creationPolicy Merge to add keys to it, or annotate it "
        f"{ownership.MANAGED_ANNOTATION}=true to let it be adopted"
    )
    assert h.values() == {"x": b"y"}


async def test_a_template_from_source_that_does_not_exist(h: Harness) -> None:
    await h.ready_store()
    template = {"templateFrom": [{"configMap": {"name": "nowhere", "items": [{"key": "url"}]}}]}
    await h.es.on_external_event("ADDED", h.external(target={"name": TARGET, "template": template}))
    cond = h.failed(h.condition()["reason"])
    assert "ConfigMap" in cond["message"] and "nowhere" in cond["message"]
    assert h.secret() is None


async def test_a_property_missing_from_a_json_value_names_the_key(h: Harness) -> None:
    await h.ready_store([{"key": "db", "value": '{"user": "app"}'}])
    data = [{"secretKey": "pw", "remoteRef": {"key": "db", "property": "password"}}]
    await h.es.on_external_event("ADDED", h.external(data=data))
    cond = h.failed("PropertyNotFound")
    assert cond["message"].startswith("db")
    assert "'password'" in cond["message"]


def test_a_refresh_time_with_an_offset_is_read_with_it() -> None:
    import datetime as dt

    from secretsync.external import refresh

    now = dt.datetime(2026, 12, 1, 0, 0, 30, tzinfo=dt.UTC)
    plus_two = {"refreshTime": "2026-12-01T02:00:00+02:00"}  # the same instant as 00:00:00Z
    assert refresh.next_refresh("Periodic", 60, plus_two, now=now) == 30.0


async def test_fetch_find_and_each_operation_counted_by_name(h: Harness) -> None:
    await h.ready_store(
        [{"key": "app/db", "value": "d"}, {"key": "app/mq", "value": "m"}, {"key": "k", "value": "v1"}]
    )
    await h.es.on_external_event("ADDED", h.external(dataFrom=[{"find": {"name": {"regexp": "^app/"}}}]))
    assert h.values() == {"app_db": b"d", "app_mq": b"m", "password": b"v1"}
    calls = {
        op: h.sample("secretsync_provider_calls_total", provider="fake", operation=op, result="ok")
        for op in ("find", "get", "get_map")
    }
    assert calls == {"find": 1.0, "get": 1.0, "get_map": None}


async def test_retry_settings_try_exactly_max_retries_more_times(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from secretsync.errors import ProviderUnavailable

    attempts: list[int] = []

    def busy(self: Any) -> None:
        attempts.append(1)
        raise ProviderUnavailable("fake: busy")

    monkeypatch.setattr(FakeProvider, "check", busy)
    await h.es.on_store_event(
        "ADDED", "SecretStore", h.store(retrySettings={"maxRetries": 2, "retryInterval": "1ms"})
    )
    assert len(attempts) == 3
    assert store_condition(h)["status"] == "False"
    assert h.sample("secretsync_provider_events_total", provider="fake", event="retry") == 2
    attempts.clear()
    await h.es.check_store("SecretStore", h.store(generation=2))  # no retrySettings: one try
    assert len(attempts) == 1


# --------------------------------------------------------------------------------------- stores, remembered


def count_builds(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    from secretsync.external import gateway as gateway_module

    built: list[Any] = []
    real = gateway_module.providers.create

    def counting(name: str, context: Any) -> Any:
        built.append(context)
        return real(name, context)

    monkeypatch.setattr(gateway_module.providers, "create", counting)
    return built


async def test_a_store_is_checked_once_per_generation_and_its_provider_shared(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = count_builds(monkeypatch)
    await h.es.on_store_event("ADDED", "SecretStore", h.store())
    await h.es.on_store_event("MODIFIED", "SecretStore", h.api.objects[h.store_path])  # its status
    assert h.sample("secretsync_provider_calls_total", provider="fake", operation="check", result="ok") == 1
    await h.es.on_external_event("ADDED", h.external())
    assert len(built) == 1  # the store's check and its ExternalSecret share one provider (one login)
    await h.es.on_store_event("MODIFIED", "SecretStore", h.store([{"key": "k", "value": "v2"}], generation=2))
    assert h.sample("secretsync_provider_calls_total", provider="fake", operation="check", result="ok") == 2
    assert len(h.es.gateway.cache.all()) == 1  # the old generation's provider dropped


async def test_the_controllers_own_look_at_a_store_wins_over_its_stored_status(h: Harness) -> None:
    await h.ready_store()
    stored = h.api.objects[h.store_path]
    stored["status"] = status.build(None, ready=False, reason="X", message="stale", generation=1)
    await h.es.on_external_event("ADDED", h.external())
    assert h.values() == {"password": b"v1"}


async def test_a_deleted_store_is_forgotten_everywhere(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    assert h.es.gateway.cache.all()
    await h.es.on_store_event("DELETED", "SecretStore", h.api.objects.pop(h.store_path))
    assert h.es._store_state == {} and h.es._peer_state == {}
    assert h.es.gateway.cache.all() == []
    other = Harness(owns_store=lambda body: False)
    try:
        body = peer(other)
        await other.es.on_store_event("ADDED", "SecretStore", body)
        assert other.es._peer_state
        await other.es.on_store_event("DELETED", "SecretStore", body)
        assert other.es._peer_state == {}
        await other.es.on_store_event("DELETED", "SecretStore", body)  # never seen (again): no error
    finally:
        await other.scheduler.close()


async def test_the_shard_rule_is_asked_about_the_store_itself() -> None:
    h = Harness(owns_store=lambda body: body["metadata"]["name"] == "fake")
    try:
        await h.es.on_store_event("ADDED", "SecretStore", h.store())
        assert store_condition(h)["status"] == "True"
        await h.es.check_store("SecretStore", h.store(generation=2))
        assert store_condition(h)["observedGeneration"] == 2
    finally:
        await h.scheduler.close()


async def test_a_cluster_store_naming_the_namespace_serves_it(h: Harness) -> None:
    _path, body = h.cluster_store([{"key": "k", "value": "v1"}], conditions=[{"namespaces": [NS]}])
    await h.es.on_store_event("ADDED", "ClusterSecretStore", body)
    h.api.put(kube.path_for("v1", "namespaces", None, NS), {"metadata": {"name": NS}})
    await h.es.on_external_event(
        "ADDED", h.external(secretStoreRef={"name": "shared", "kind": "ClusterSecretStore"})
    )
    assert h.values() == {"password": b"v1"}


# ------------------------------------------------------------------------------------ the last pass, killed


async def test_a_cluster_store_with_credentials_in_each_namespace_is_valid_until_a_sync(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from secretsync.external import gateway as gateway_module
    from secretsync.providers.base import SecretKeyRef

    real = gateway_module.providers.create

    def reading_credentials(name: str, context: Any) -> Any:
        context.read_credential(SecretKeyRef("creds", "token"))  # as a provider logging in does
        return real(name, context)

    monkeypatch.setattr(gateway_module.providers, "create", reading_credentials)
    path, body = h.cluster_store([{"key": "k", "value": "v1"}])
    await h.es.on_store_event("ADDED", "ClusterSecretStore", body)
    cond = status.ready_of(h.api.objects[path]["status"])
    assert cond is not None
    assert (cond["status"], cond["reason"], cond["message"]) == (
        "True",
        "Valid",
        "credentials are read in each ExternalSecret's namespace: checked at every sync",
    )


async def test_store_backoffs_are_per_store(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(self: Any) -> None:
        raise ProviderAuthError("fake: token revoked")

    monkeypatch.setattr(FakeProvider, "check", refused)
    await h.es.on_store_event("ADDED", "SecretStore", h.store())
    assert h.es.auth_backoff.failures("store:store-uid") == 1
    monkeypatch.undo()
    h.api.fail[("write_status", h.store_path + "/status")] = kube.ApiError(503, "ServiceUnavailable", "busy")
    await h.es.check_store("SecretStore", h.store(generation=2))
    assert h.es.backoff.failures("store:store-uid") == 1
    key = (h.flavor.group_version, "store", ("SecretStore", NS, "fake"))
    await scheduled_job(h, key)()  # the look again after the status could not be written
    assert store_condition(h)["observedGeneration"] == 2


async def test_a_store_going_bad_wakes_only_the_waiting(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    before = syncs(h)
    await h.es.on_store_event("MODIFIED", "SecretStore", h.store([{"no": "key"}], generation=2))
    assert store_condition(h)["status"] == "False"
    assert syncs(h) == before


async def test_esos_store_status_reason_for_a_valid_store() -> None:
    h = Harness(ESO)
    try:
        await h.ready_store()
        cond = store_condition(h)
        assert (cond["status"], cond["reason"]) == ("True", "Valid")
        await h.es.on_store_event("MODIFIED", "SecretStore", h.store([{"no": "key"}], generation=2))
        assert store_condition(h)["reason"] == "InvalidProviderConfig"
    finally:
        await h.scheduler.close()


async def test_an_unreported_sync_and_a_bug_back_off_for_the_object(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await h.ready_store()
    h.external()
    h.api.fail[("write_status", h.es_path + "/status")] = kube.ApiError(503, "ServiceUnavailable", "busy")
    with pytest.raises(kube.ApiError):
        await h.es.sync_by_name(NS, NAME)
    assert h.es.backoff.failures("es-uid") == 1
    from secretsync.external import render

    def broken(*_: Any, **__: Any) -> Any:
        raise KeyError("hunter2")

    monkeypatch.setattr(render, "render", broken)
    await h.es.sync_by_name(NS, NAME, trigger="retry")
    h.failed("InternalError", "unexpected KeyError in the operator (see its log); retried")
    assert h.es.backoff.failures("es-uid") == 2
    h.retries_in(2.0)


async def test_templates_render_on_the_controllers_executor(h: Harness) -> None:
    from concurrent.futures import Future

    ran: list[str] = []

    class Recording(Inline):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
            ran.append(getattr(fn, "__name__", "?"))
            return super().submit(fn, *args, **kwargs)

    h.es.executor = Recording()
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    assert "render" in ran


async def test_a_restart_uses_the_listed_copy_of_an_intact_secret(h: Harness) -> None:
    await h.ready_store()
    await h.es.on_external_event("ADDED", h.external())
    secret = h.secret()
    assert secret is not None
    prefetch = SecretPrefetch()
    prefetch.begin()

    async def pages() -> Any:
        yield {"items": [copy.deepcopy(secret)]}

    await prefetch.load(pages)
    prefetch.observe("ADDED", secret)
    async with restart(h, prefetch=prefetch) as again:
        h.api.calls.clear()
        await again.es.on_external_event("ADDED", h.stored())
        assert h.api.calls == []
        assert prefetch.hits == 1


# ------------------------------------------------------------------ backoff per object, slots, cluster stores

CONFIGMAP = kube.path_for("v1", "configmaps", NS, "tpl")
FROM_CONFIGMAP = {"templateFrom": [{"configMap": {"name": "tpl", "items": [{"key": "url"}]}}]}


def _break(h: Harness, reason: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the next syncs fail with ``reason``, each in its own way; ``_mend`` undoes it."""
    if reason == "SecretMissing":

        def missing(self: Any, ref: Any) -> bytes:
            raise SecretNotFound(f"fake: secret {ref.key!r} not found")

        monkeypatch.setattr(FakeProvider, "get", missing)
    elif reason == "ProviderUnavailable":  # the store's provider cannot be built (a login that fails)

        async def down(*_: Any) -> Any:
            raise ProviderUnavailable("fake: backend unreachable")

        monkeypatch.setattr(h.es.gateway, "provider", down)
    elif reason == "TemplateFailed":  # templateFrom's ConfigMap cannot be read
        h.api.fail[("get", CONFIGMAP)] = kube.ApiError(403, "Forbidden", "no")
        h.api.sticky.add(("get", CONFIGMAP))
    elif reason == "SecretNotOwned":
        owner = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "web",
            "uid": "d-1",
            "controller": True,
        }
        h.api.put(SECRET_PATH, {"metadata": {"name": TARGET, "namespace": NS, "ownerReferences": [owner]}})
    else:  # ApiError: the Secret is gone and creating it fails
        h.api.objects.pop(SECRET_PATH, None)
        h.api.fail[("create", SECRETS)] = kube.ApiError(500, "InternalError", "boom")
        h.api.sticky.add(("create", SECRETS))


def _mend(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()
    h.api.fail.clear()
    h.api.sticky.clear()
    if (h.secret() or {}).get("metadata", {}).get("ownerReferences", [{}])[0].get("kind") == "Deployment":
        del h.api.objects[SECRET_PATH]


@pytest.mark.parametrize(
    "reason", ["SecretMissing", "ProviderUnavailable", "TemplateFailed", "SecretNotOwned", "ApiError"]
)
async def test_each_failure_backs_off_per_object_and_a_success_starts_it_again(
    h: Harness, monkeypatch: pytest.MonkeyPatch, reason: str
) -> None:
    await h.ready_store()
    h.api.put(
        CONFIGMAP, {"metadata": {"name": "tpl", "namespace": NS}, "data": {"url": "db://{{ .password }}"}}
    )
    h.external(target={"name": TARGET, "template": FROM_CONFIGMAP})
    _break(h, reason, monkeypatch)
    await h.es.sync_by_name(NS, NAME)
    h.failed(reason)
    h.retries_in(1.0)
    await h.es.sync_by_name(NS, NAME, trigger="retry")
    h.retries_in(2.0)  # the second step
    _mend(h, monkeypatch)
    await h.es.sync_by_name(NS, NAME, trigger="retry")
    assert h.values() == {"url": b"db://v1"}
    _break(h, reason, monkeypatch)
    await h.es.sync_by_name(NS, NAME, trigger="retry")
    h.failed(reason)
    h.retries_in(1.0)  # the success started this object's backoff again


async def test_a_store_the_tenancy_rules_refuse_at_sync_time_is_not_retried(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await h.ready_store()
    refused = NotPermitted("spec.provider", "this store may not use the operator's identity")

    async def forbidden(*_: Any) -> Any:
        raise refused

    monkeypatch.setattr(h.es.gateway, "provider", forbidden)
    await h.es.on_external_event("ADDED", h.external())
    h.failed("NotPermitted", str(refused))
    h.refreshes_later()  # no retry can mend it: looked at again at the next refresh


async def test_a_cluster_store_that_appears_syncs_the_external_secrets_waiting_for_it(h: Harness) -> None:
    await h.es.on_external_event(
        "ADDED", h.external(secretStoreRef={"name": "shared", "kind": "ClusterSecretStore"})
    )
    h.failed(
        "StoreNotFound",
        "ClusterSecretStore shared does not exist; create it, or fix spec.secretStoreRef "
        "(retried when the store appears)",
    )
    _path, body = h.cluster_store([{"key": "k", "value": "v1"}])
    await h.es.on_store_event("ADDED", "ClusterSecretStore", body)
    assert h.values() == {"password": b"v1"}


async def test_provider_calls_take_a_slot_of_their_store_and_of_their_namespace(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[tuple[Any, str | None]] = []
    slot = h.es.gateway.bulkhead.slot

    def recorded(store: Any, namespace: str | None) -> Any:
        taken.append((store, namespace))
        return slot(store, namespace)

    monkeypatch.setattr(h.es.gateway.bulkhead, "slot", recorded)
    await h.ready_store()
    taken.clear()
    await h.es.on_external_event("ADDED", h.external())
    assert taken == [(("SecretStore", NS, "fake"), NS)] * 2  # the provider (cached), then its get
