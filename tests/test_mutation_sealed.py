"""The SealedSecret controller (secretsync/sealed.py) in process, reconcile by reconcile.

The operator-level tests (test_sealed_operator.py, test_sealed_restart.py, the real-cluster tier)
run it in a subprocess, which a mutant of this module never reaches; these drive
:class:`SealedController` directly against an in-memory API (:class:`FakeApi`, with failures on
demand), an inline executor and a real scheduler, and pin what a user sees: the Secret written,
the status, the events, the metrics, the retries and the log lines, word for word.
``make mutation MODULE=secretsync/sealed.py`` (docs/testing.md "Mutation testing").
"""

from __future__ import annotations

import asyncio
import base64
import copy
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import pytest

from secretsync import crypto, kube, ownership, sealing, status, unsealmark
from secretsync.metrics import Metrics
from secretsync.prefetch import SecretPrefetch
from secretsync.scheduler import Backoff, Scheduler
from secretsync.sealed import SKIP_OWNER_ANNOTATION, SealedController
from tests.support.fake_api import ControllerHarness, FakeApi, Inline
from tests.support.fake_api import log_lines as lines
from tests.support.sealed_env import key_secret, vector_key

NS, NAME = "apps", "db"
SEALED_PATH = kube.path_for(sealing.API_VERSION, "sealedsecrets", NS, NAME)
BITNAMI_PATH = kube.path_for(sealing.BITNAMI_API_VERSION, "sealedsecrets", NS, NAME)
SECRET_PATH = kube.path_for("v1", "secrets", NS, NAME)
SECRETS = kube.path_for("v1", "secrets", NS)
EVENTS = kube.path_for("v1", "events", NS)


class Keys:
    """What the controller reads of a KeyManager: the ring and its generation."""

    def __init__(self, *pems: tuple[bytes, bytes]) -> None:
        self.ring = crypto.KeyRing(
            sealing.key_entry_from_secret(key_secret(f"k{i}", key, cert))
            for i, (key, cert) in enumerate(pems)
        )
        self.generation = 1


KEY = vector_key(2048)
OTHER_KEY = vector_key(4096)


def sealed_secret(
    values: dict[str, str] | None = None,
    *,
    uid: str = "uid-1",
    generation: int = 1,
    cert: bytes = KEY[1],
    api_version: str = sealing.API_VERSION,
    template: dict[str, Any] | None = None,
) -> dict[str, Any]:
    plain = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": NAME, "namespace": NS},
        "stringData": values if values is not None else {"password": "hunter2"},
    }
    sealed = sealing.seal_secret(plain, crypto.load_certificate(cert).sealer(), allow_empty_data=not values)
    sealed["apiVersion"] = api_version
    sealed["metadata"].update(uid=uid, generation=generation)
    if template:
        sealed["spec"].setdefault("template", {}).update(template)
    return sealed


class Harness(ControllerHarness):
    def __init__(
        self,
        *,
        keys: Keys | None = None,
        group_version: str = sealing.API_VERSION,
        backoff: Backoff | None = None,
        **kw: Any,
    ) -> None:
        self.api = FakeApi()
        self.secret_path = SECRET_PATH
        self.keys = keys or Keys(KEY)
        self.metrics = Metrics()
        self.scheduler = Scheduler()
        self.controller = SealedController(
            self.api,  # type: ignore[arg-type]
            self.keys,  # type: ignore[arg-type]
            self.metrics,
            Inline(),
            scheduler=self.scheduler,
            backoff=backoff or Backoff(base=1.0, cap=300.0, jitter=0.0),
            group_version=group_version,
            **kw,
        )
        self.path = kube.path_for(group_version, "sealedsecrets", NS, NAME)

    def add(self, sealed: dict[str, Any]) -> dict[str, Any]:
        return self.api.put(kube.path_for(sealed["apiVersion"], "sealedsecrets", NS, NAME), sealed)

    def stored(self) -> dict[str, Any]:
        return self.api.objects[self.path]

    def condition(self) -> dict[str, Any]:
        kind = "Synced" if self.controller.bitnami_status else "Ready"
        found = status.ready_of(self.stored().get("status"), kind)
        assert found is not None
        return dict(found)

    def due(self, key: tuple[str, str]) -> float | None:
        return self.scheduler.due_in(key)


@pytest.fixture
async def h() -> Any:
    harness = Harness()
    yield harness
    await harness.scheduler.close()


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG, logger="secretsync")
    yield caplog


# --------------------------------------------------------------------------------------- first sync


async def test_a_first_sync_creates_the_secret_with_status_event_metrics_and_a_log_line(
    h: Harness, logs: pytest.LogCaptureFixture
) -> None:
    sealed = h.add(sealed_secret({"password": "hunter2", "user": "app"}))
    await h.controller.on_sealed_event("ADDED", sealed)

    secret = h.secret()
    assert secret is not None
    assert h.values() == {"password": b"hunter2", "user": b"app"}
    assert secret["type"] == "Opaque"
    assert secret["metadata"]["ownerReferences"] == [
        {
            "apiVersion": sealing.API_VERSION,
            "kind": "SealedSecret",
            "name": NAME,
            "uid": "uid-1",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert secret["metadata"]["labels"] == {ownership.PRODUCED_LABEL: "true"}
    assert unsealmark.holds(secret, h.keys.ring, status.intent_digest(sealed))
    cond = h.condition()
    assert (cond["status"], cond["reason"]) == ("True", "Unsealed")
    assert cond["message"] == f"unsealed 2 keys into Secret {NS}/{NAME}"
    assert h.stored()["status"]["observedGeneration"] == 1
    assert h.api.events(NS) == [("Normal", "Unsealed", f"unsealed 2 keys into Secret {NS}/{NAME}")]
    assert h.sample("secretsync_ready", kind="SealedSecret", namespace=NS, name=NAME) == 1
    assert h.sample("secretsync_unseal_attempts_total") == 1
    assert h.sample("secretsync_unseal_verified_total") == 0
    assert h.sample("secretsync_reconcile_duration_seconds_count", kind="SealedSecret") == 1
    assert ("INFO", f"SealedSecret {NS}/{NAME}: Secret created") in lines(logs)
    assert h.api.writes() == [
        ("create", SECRETS),
        ("write_status", SEALED_PATH + "/status"),
        ("create", EVENTS),
    ]
    assert h.due(("sealed", "uid-1")) is None
    assert h.due(("sealed-foreign", "uid-1")) is None


async def test_the_same_event_again_does_no_work(h: Harness) -> None:
    sealed = h.add(sealed_secret())
    await h.controller.on_sealed_event("ADDED", sealed)
    calls = len(h.api.calls)
    await h.controller.on_sealed_event("MODIFIED", h.stored())  # our own status write
    assert len(h.api.calls) == calls
    assert h.sample("secretsync_unseal_attempts_total") == 1


async def test_a_new_generation_is_reconciled_again_and_updates_the_secret(
    h: Harness, logs: pytest.LogCaptureFixture
) -> None:
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret({"password": "one"})))
    newer = h.add(sealed_secret({"password": "two"}, generation=2))
    await h.controller.on_sealed_event("MODIFIED", newer)
    assert h.values() == {"password": b"two"}
    assert h.stored()["status"]["observedGeneration"] == 2
    assert ("INFO", f"SealedSecret {NS}/{NAME}: Secret updated") in lines(logs)
    assert h.api.events(NS) == [
        ("Normal", "Unsealed", f"unsealed 1 keys into Secret {NS}/{NAME}"),
        ("Normal", "Unsealed", f"unsealed 1 keys into Secret {NS}/{NAME}"),
    ]


async def test_a_key_ring_change_alone_reconciles_again(h: Harness) -> None:
    sealed = h.add(sealed_secret())
    await h.controller.on_sealed_event("ADDED", sealed)
    h.keys.generation += 1
    await h.controller.on_sealed_event("MODIFIED", h.stored())
    # verified by its mark, no RSA: the Secret is as it should be
    assert h.sample("secretsync_unseal_attempts_total") == 1
    assert h.sample("secretsync_unseal_verified_total") == 1
    assert ("get", SECRET_PATH) in h.api.calls


async def test_an_unchanged_secret_is_not_written_again_nor_announced(h: Harness) -> None:
    sealed = h.add(sealed_secret())
    await h.controller.on_sealed_event("ADDED", sealed)
    # the mark removed: not verifiable, so it is unsealed again, and found the same once stamped
    secret = h.secret()
    assert secret is not None
    before = copy.deepcopy(secret)
    await h.controller.reconcile(h.stored())
    assert h.api.writes()[-1] == ("create", EVENTS)
    assert h.secret() == before
    secret["metadata"]["annotations"].pop(unsealmark.MARK_ANNOTATION)
    h.api.put(SECRET_PATH, secret)
    calls = len(h.api.writes())
    outcome = await h.controller.reconcile(h.stored())
    assert (outcome.ready, outcome.action) == (True, "updated")  # the mark written back
    assert len(h.api.writes()) == calls + 2  # the Secret and its event; the status is unchanged
    assert h.sample("secretsync_unseal_attempts_total") == 2


# --------------------------------------------------------------------------------- deletion, forget


async def test_deleted_forgets_everything_and_drops_the_metric(h: Harness) -> None:
    sealed = h.add(sealed_secret())
    await h.controller.on_sealed_event("ADDED", sealed)
    h.scheduler.schedule(("sealed", "uid-1"), 100, asyncio.sleep)
    h.scheduler.schedule(("sealed-foreign", "uid-1"), 100, asyncio.sleep)
    h.controller._waiting_for_key.add((NS, NAME))
    await h.controller.on_sealed_event("DELETED", sealed)
    assert h.controller._done == {}
    assert h.controller._secret_rv == {}
    assert h.controller._locks == {}
    assert h.controller._by_name == {}
    assert h.controller._waiting_for_key == set()
    assert h.due(("sealed", "uid-1")) is None
    assert h.due(("sealed-foreign", "uid-1")) is None
    assert h.sample("secretsync_ready", kind="SealedSecret", namespace=NS, name=NAME) is None


async def test_forget_keeps_the_name_of_a_newer_object(h: Harness) -> None:
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret(uid="new")))
    h.controller.forget("old", NS, NAME)
    assert h.controller._by_name == {(NS, NAME): "new"}
    assert "new" in h.controller._done


async def test_backoff_and_recheck_are_reset_on_forget(h: Harness) -> None:
    h.controller.backoff.next_delay("uid-1")
    h.controller.recheck.next_delay("uid-1")
    h.controller.forget("uid-1", NS, NAME)
    assert h.controller.backoff.failures("uid-1") == 0
    assert h.controller.recheck.failures("uid-1") == 0


async def test_an_object_being_deleted_is_left_alone(h: Harness) -> None:
    sealed = sealed_secret()
    sealed["metadata"]["deletionTimestamp"] = "2026-12-01T00:00:00Z"
    await h.controller.on_sealed_event("MODIFIED", h.add(sealed))
    assert h.api.calls == []
    assert h.controller._by_name == {}
    await h.controller.reconcile_by_name(NS, NAME)
    assert h.api.calls == [("get", SEALED_PATH)]


async def test_reconcile_by_name_of_a_missing_object_does_nothing(h: Harness) -> None:
    await h.controller.reconcile_by_name(NS, NAME)
    assert h.api.calls == [("get", SEALED_PATH)]


async def test_reconcile_by_name_drops_an_object_of_another_shard() -> None:
    h = Harness(owns=lambda body: body["metadata"]["uid"] != "theirs")
    try:
        await h.controller.on_sealed_event("ADDED", h.add(sealed_secret(uid="theirs")))
        assert h.controller._by_name == {(NS, NAME): "theirs"}
        calls = len(h.api.calls)
        await h.controller.reconcile_by_name(NS, NAME)
        assert h.api.calls[calls:] == [("get", SEALED_PATH)]
        assert h.controller._by_name == {}
        assert "theirs" not in h.controller._done
    finally:
        await h.scheduler.close()


# ----------------------------------------------------------------------------------------- failures


UNSEAL_HINT = (
    "re-seal it with the current certificate (secretsync fetch-cert | secretsync seal --cert -), "
    "and check that name, namespace and scope match what it was sealed for"
)


async def test_a_value_no_key_opens_fails_with_the_fix_and_waits_for_a_new_key(
    logs: pytest.LogCaptureFixture,
) -> None:
    h = Harness(keys=Keys(OTHER_KEY))
    try:
        sealed = h.add(sealed_secret())
        await h.controller.on_sealed_event("ADDED", sealed)
        result = sealing.unseal(sealed, h.keys.ring)
        cond = h.condition()
        assert (cond["status"], cond["reason"]) == ("False", "UnsealFailed")
        assert cond["message"] == f"{result.message}. Fix: {UNSEAL_HINT}"
        assert h.api.events(NS) == [("Warning", "UnsealFailed", cond["message"])]
        assert h.secret() is None
        assert ("WARNING", f"SealedSecret {NS}/{NAME}: UnsealFailed: {cond['message']}") in lines(logs)
        assert h.sample("secretsync_unseal_errors_total", reason="UnsealFailed") == 1
        assert h.sample("secretsync_ready", kind="SealedSecret", namespace=NS, name=NAME) == 0
        assert h.controller._waiting_for_key == {(NS, NAME)}
        assert h.due(("sealed", "uid-1")) is None  # no retry: a new key is what can mend it
        assert h.controller._done["uid-1"] == (1, status.intent_digest(sealed), 1)
        # the same event again: nothing (no second event, no second RSA attempt)
        await h.controller.on_sealed_event("MODIFIED", h.stored())
        assert h.sample("secretsync_unseal_attempts_total") == 1
        # the right key arrives
        h.keys.ring.add(sealing.key_entry_from_secret(key_secret("k", *KEY)))
        h.keys.generation += 1
        await h.controller.on_keys_changed()
        assert h.values() == {"password": b"hunter2"}
        assert h.condition()["reason"] == "Unsealed"
        assert h.controller._waiting_for_key == set()
        assert h.api.events(NS)[-1] == ("Normal", "Unsealed", f"unsealed 1 keys into Secret {NS}/{NAME}")
    finally:
        await h.scheduler.close()


async def test_without_any_key_the_message_says_so() -> None:
    h = Harness(keys=Keys())
    try:
        sealed = h.add(sealed_secret())
        await h.controller.on_sealed_event("ADDED", sealed)
        result = sealing.unseal(sealed, h.keys.ring)
        assert (
            h.condition()["message"] == f"{result.message}. Fix: the operator has no active sealing key yet"
        )
        assert h.api.calls[0] == ("get", SECRET_PATH)
    finally:
        await h.scheduler.close()


async def test_keys_changed_retries_only_the_objects_waiting_and_forgets_their_last_result() -> None:
    h = Harness(keys=Keys(OTHER_KEY))
    try:
        await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
        assert "uid-1" in h.controller._done
        h.api.calls.clear()
        await h.controller.on_keys_changed()
        assert h.api.calls[:2] == [("get", SEALED_PATH), ("get", SECRET_PATH)]
        assert h.controller._waiting_for_key == {(NS, NAME)}  # still no key that opens it
        h.api.calls.clear()
        h.controller._waiting_for_key.clear()
        await h.controller.on_keys_changed()
        assert h.api.calls == []
    finally:
        await h.scheduler.close()


async def test_keys_changed_for_a_name_it_has_no_uid_for_still_reads_it(h: Harness) -> None:
    h.add(sealed_secret())
    h.controller._waiting_for_key.add((NS, NAME))
    await h.controller.on_keys_changed()
    assert h.values() == {"password": b"hunter2"}


async def test_a_malformed_spec_is_invalid_and_not_retried(
    h: Harness, logs: pytest.LogCaptureFixture
) -> None:
    sealed = sealed_secret()
    sealed["spec"]["encryptedData"] = "not a map"
    await h.controller.on_sealed_event("ADDED", h.add(sealed))
    cond = h.condition()
    assert (cond["status"], cond["reason"]) == ("False", "InvalidSpec")
    with pytest.raises(sealing.SpecError) as caught:
        sealing.unseal(sealed, h.keys.ring)
    assert cond["message"] == f"{caught.value}; fix the SealedSecret manifest and re-apply it"
    assert h.api.events(NS) == [("Warning", "InvalidSpec", cond["message"])]
    assert h.due(("sealed", "uid-1")) is None
    assert h.controller._waiting_for_key == set()


async def test_a_template_that_fails_names_spec_template_data(h: Harness) -> None:
    sealed = sealed_secret(template={"data": {"url": "{{ .password | nosuchfunction }}"}})
    await h.controller.on_sealed_event("ADDED", h.add(sealed))
    cond = h.condition()
    assert (cond["status"], cond["reason"]) == ("False", "TemplateFailed")
    assert cond["message"].startswith("spec.template.data: ")
    assert "nosuchfunction" in cond["message"]
    assert h.secret() is None


async def test_a_template_renders_into_the_secret(h: Harness) -> None:
    sealed = sealed_secret(template={"data": {"url": "postgres://app:{{ .password }}@db"}})
    await h.controller.on_sealed_event("ADDED", h.add(sealed))
    assert h.values() == {"password": b"hunter2", "url": b"postgres://app:hunter2@db"}
    assert h.condition()["message"] == f"unsealed 2 keys into Secret {NS}/{NAME}"


async def test_a_bad_template_type_is_an_invalid_spec(h: Harness) -> None:
    sealed = sealed_secret(template={"type": 7})
    await h.controller.on_sealed_event("ADDED", h.add(sealed))
    cond = h.condition()
    assert cond["status"] == "False"
    assert (cond["reason"], cond["message"]) == (
        "InvalidSpec",
        f"SealedSecret {NS}/{NAME}: spec.template.type: must be a string",
    )


async def test_reading_the_secret_fails_retries_with_backoff(h: Harness) -> None:
    h.api.fail[("get", SECRET_PATH)] = kube.ApiError(503, "ServiceUnavailable", "etcd is down")
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    cond = h.condition()
    assert (cond["status"], cond["reason"]) == ("False", "ApiError")
    assert (
        cond["message"]
        == f"reading Secret {NS}/{NAME} failed: {kube.ApiError(503, 'ServiceUnavailable', 'etcd is down')}"
    )
    assert h.api.events(NS) == [("Warning", "ApiError", cond["message"])]
    due = h.due(("sealed", "uid-1"))
    assert due is not None and 0.9 < due <= 1.0
    assert "uid-1" not in h.controller._done
    assert h.controller.backoff.failures("uid-1") == 1
    # the same failure again: a Warning again (a retry is news), the backoff doubles
    h.api.fail[("get", SECRET_PATH)] = kube.ApiError(503, "ServiceUnavailable", "etcd is down")
    await h.controller.reconcile_by_name(NS, NAME)
    due = h.due(("sealed", "uid-1"))
    assert due is not None and 1.9 < due <= 2.0
    assert len(h.api.events(NS)) == 2
    # and then it works: backoff reset, no retry pending
    await h.controller.reconcile_by_name(NS, NAME)
    assert h.condition()["reason"] == "Unsealed"
    assert h.controller.backoff.failures("uid-1") == 0
    assert "uid-1" in h.controller._done


async def test_the_scheduled_retry_runs_the_reconcile() -> None:
    h = Harness(backoff=Backoff(base=0.01, cap=0.01, jitter=0.0))
    try:
        h.api.fail[("get", SECRET_PATH)] = kube.ApiError(500, "InternalError", "boom")
        await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
        assert await h.written() == {"password": b"hunter2"}
    finally:
        await h.scheduler.close()


async def test_a_secret_that_appears_while_creating_is_retried(h: Harness) -> None:
    h.api.fail[("create", SECRETS)] = kube.Conflict(409, "AlreadyExists", "exists")
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    cond = h.condition()
    assert cond["status"] == "False"
    assert (cond["reason"], cond["message"]) == ("ApiError", f"Secret {NS}/{NAME} appeared while creating it")
    assert h.due(("sealed", "uid-1")) is not None


async def test_a_secret_that_changes_while_updating_is_retried(h: Harness) -> None:
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret({"password": "one"})))
    h.api.fail[("replace", SECRET_PATH)] = kube.Conflict(409, "Conflict", "changed")
    await h.controller.on_sealed_event("MODIFIED", h.add(sealed_secret({"password": "two"}, generation=2)))
    cond = h.condition()
    assert cond["status"] == "False"
    assert (cond["reason"], cond["message"]) == ("ApiError", f"Secret {NS}/{NAME} changed while updating it")
    assert h.due(("sealed", "uid-1")) is not None
    assert h.values() == {"password": b"one"}


async def test_a_secret_write_refused_as_invalid_is_not_retried(h: Harness) -> None:
    refused = kube.Invalid(422, "Invalid", "data: Too long")
    h.api.fail[("create", SECRETS)] = refused
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    cond = h.condition()
    assert cond["status"] == "False"
    assert (cond["reason"], cond["message"]) == (
        "InvalidSecret",
        f"the API server refused Secret {NS}/{NAME}: {refused}",
    )
    assert h.due(("sealed", "uid-1")) is None


async def test_a_secret_write_failing_otherwise_is_retried(h: Harness) -> None:
    failure = kube.ApiError(500, "InternalError", "boom")
    h.api.fail[("create", SECRETS)] = failure
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    cond = h.condition()
    assert cond["status"] == "False"
    assert (cond["reason"], cond["message"]) == ("ApiError", f"writing Secret {NS}/{NAME} failed: {failure}")
    assert h.due(("sealed", "uid-1")) is not None


async def test_a_bug_is_an_internal_error_with_no_value_and_retried(
    h: Harness, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any, **__: Any) -> None:
        raise KeyError("hunter2")

    monkeypatch.setattr(sealing, "build_secret", broken)
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    cond = h.condition()
    assert (cond["status"], cond["reason"]) == ("False", "InternalError")
    assert "hunter2" not in cond["message"] and "KeyError" in cond["message"]
    assert ("ERROR", f"SealedSecret {NS}/{NAME}: unexpected KeyError") in lines(logs)
    assert h.due(("sealed", "uid-1")) is not None
    assert h.sample("secretsync_reconcile_duration_seconds_count", kind="SealedSecret") == 1


# -------------------------------------------------------------------------- the Secret's own events


async def test_secret_events_of_unknown_names_and_of_our_own_writes_are_dropped(h: Harness) -> None:
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    secret = h.secret()
    assert secret is not None
    h.api.calls.clear()
    other = copy.deepcopy(secret)
    other["metadata"]["name"] = "other"
    await h.controller.on_secret_event("MODIFIED", other)
    await h.controller.on_secret_event("MODIFIED", secret)  # the state we wrote
    assert h.api.calls == []
    assert "uid-1" in h.controller._done


async def test_a_secret_changed_by_someone_else_is_put_back(h: Harness) -> None:
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    secret = h.secret()
    assert secret is not None
    secret["data"]["password"] = base64.b64encode(b"tampered").decode()
    changed = h.api.put(SECRET_PATH, secret)
    await h.controller.on_secret_event("MODIFIED", changed)
    assert h.values() == {"password": b"hunter2"}
    assert h.api.calls[-4:-2] == [("get", SEALED_PATH), ("get", SECRET_PATH)]
    assert h.api.events(NS)[-1] == ("Normal", "Unsealed", f"unsealed 1 keys into Secret {NS}/{NAME}")


async def test_a_deleted_secret_is_created_again_even_at_the_version_we_wrote(h: Harness) -> None:
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    secret = h.api.objects.pop(SECRET_PATH)
    await h.controller.on_secret_event("DELETED", secret)
    assert h.values() == {"password": b"hunter2"}
    assert h.sample("secretsync_unseal_attempts_total") == 2


async def test_a_secret_event_the_prefetch_awaits_is_left_to_the_waiting_reconcile(h: Harness) -> None:
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    secret = h.secret()
    assert secret is not None
    h.api.calls.clear()
    h.controller.prefetch = type("Awaiting", (), {"awaited": staticmethod(lambda *_: True)})()  # type: ignore[assignment]
    changed = copy.deepcopy(secret)
    changed["metadata"]["resourceVersion"] = "999"
    await h.controller.on_secret_event("MODIFIED", changed)
    assert h.api.calls == []


async def test_a_secret_event_whose_reconcile_fails_on_the_api_is_retried(h: Harness) -> None:
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    h.api.fail[("get", SEALED_PATH)] = kube.ApiError(503, "ServiceUnavailable", "busy")
    secret = h.api.objects.pop(SECRET_PATH)
    await h.controller.on_secret_event("DELETED", secret)
    due = h.due(("sealed", "uid-1"))
    assert due is not None and 0.9 < due <= 1.1
    assert "uid-1" not in h.controller._done


async def test_reconcile_soon_of_an_unknown_name_keys_its_retry_by_name(h: Harness) -> None:
    h.api.fail[("get", SEALED_PATH)] = kube.ApiError(503, "ServiceUnavailable", "busy")
    await h.controller.reconcile_soon(NS, NAME)
    assert h.due(("sealed", f"{NS}/{NAME}")) is not None


# ---------------------------------------------------------------------------- someone else's Secret


def foreign_secret(**meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": NAME, "namespace": NS, "uid": "s-uid", **meta},
        "type": "Opaque",
        "data": {"mine": base64.b64encode(b"theirs").decode()},
    }


async def test_an_unmanaged_secret_is_left_untouched_and_looked_at_again(
    h: Harness, logs: pytest.LogCaptureFixture
) -> None:
    h.api.put(SECRET_PATH, foreign_secret())
    sealed = h.add(sealed_secret())
    await h.controller.on_sealed_event("ADDED", sealed)
    cond = h.condition()
    assert (cond["status"], cond["reason"]) == ("False", "SecretNotOwned")
    assert cond["message"] == (
        f"Secret {NS}/{NAME} exists and is not managed by this SealedSecret; left untouched. Fix: delete it, "
        f"choose another target name or annotate it {ownership.MANAGED_ANNOTATION}=true to let it be adopted"
    )
    assert h.values() == {"mine": b"theirs"}
    assert h.controller._secret_rv["uid-1"] == h.secret()["metadata"]["resourceVersion"]  # type: ignore[index]
    due = h.due(("sealed-foreign", "uid-1"))
    assert due is not None and 1.9 < due <= 2.2  # recheck: 2 s doubling, 10 % jitter
    assert h.due(("sealed", "uid-1")) is None  # not an API retry
    assert "uid-1" in h.controller._done

    # unchanged when looked at: looked at again later, and nothing else read
    h.api.calls.clear()
    await h.controller._recheck("uid-1", NS, NAME)
    assert h.api.calls == [("get", SECRET_PATH)]
    due = h.due(("sealed-foreign", "uid-1"))
    assert due is not None and 3.9 < due <= 4.4

    # annotated managed: adopted at the next look
    adoptable = h.secret()
    assert adoptable is not None
    adoptable["metadata"]["annotations"] = {ownership.MANAGED_ANNOTATION: "true"}
    h.api.put(SECRET_PATH, adoptable)
    await h.controller._recheck("uid-1", NS, NAME)
    assert h.values() == {"password": b"hunter2"}
    assert h.condition()["reason"] == "Unsealed"
    assert h.due(("sealed-foreign", "uid-1")) is None
    assert h.controller.recheck.failures("uid-1") == 0


async def test_a_recheck_after_the_sealed_secret_is_gone_does_nothing(h: Harness) -> None:
    await h.controller._recheck("uid-1", NS, NAME)
    assert h.api.calls == []


async def test_a_recheck_of_a_deleted_secret_reconciles(h: Harness) -> None:
    h.api.put(SECRET_PATH, foreign_secret())
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    del h.api.objects[SECRET_PATH]
    await h.controller._recheck("uid-1", NS, NAME)
    assert h.values() == {"password": b"hunter2"}


async def test_the_scheduled_recheck_runs() -> None:
    h = Harness()
    h.controller.recheck = Backoff(base=0.01, cap=0.01, jitter=0.0)
    try:
        h.api.put(SECRET_PATH, foreign_secret())
        await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
        del h.api.objects[SECRET_PATH]
        assert await h.written() == {"password": b"hunter2"}
    finally:
        await h.scheduler.close()


async def test_a_secret_controlled_by_another_object_is_a_conflict(h: Harness) -> None:
    owner = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d-1", "controller": True}
    h.api.put(SECRET_PATH, foreign_secret(ownerReferences=[owner]))
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    cond = h.condition()
    assert cond["reason"] == "SecretNotOwned"
    assert cond["message"].startswith(f"Secret {NS}/{NAME} is controlled by ")
    assert h.values() == {"mine": b"theirs"}


async def test_a_managed_secret_is_adopted_with_labels_and_annotations_replaced(h: Harness) -> None:
    h.api.put(
        SECRET_PATH,
        foreign_secret(labels={"team": "a"}, annotations={ownership.MANAGED_ANNOTATION: "true", "x": "y"}),
    )
    await h.controller.on_sealed_event(
        "ADDED", h.add(sealed_secret(template={"metadata": {"labels": {"app": "db"}}}))
    )
    secret = h.secret()
    assert secret is not None
    assert h.values() == {"password": b"hunter2"}
    assert secret["metadata"]["labels"] == {"app": "db", ownership.PRODUCED_LABEL: "true"}
    assert set(secret["metadata"]["annotations"]) == {unsealmark.MARK_ANNOTATION}
    assert secret["metadata"]["uid"] == "s-uid"  # replaced, not re-created
    assert h.api.writes()[0] == ("replace", SECRET_PATH)


# ------------------------------------------------------------------------ skip-set-owner-references


SKIP = {"metadata": {"annotations": {SKIP_OWNER_ANNOTATION: "true"}}}


async def test_skip_set_owner_references_marks_the_secret_instead(h: Harness) -> None:
    sealed = h.add(sealed_secret(template=SKIP))
    await h.controller.on_sealed_event("ADDED", sealed)
    secret = h.secret()
    assert secret is not None
    assert "ownerReferences" not in secret["metadata"]
    assert (
        secret["metadata"]["annotations"][ownership.SEALED_OWNER_ANNOTATION] == f"{sealing.API_VERSION}/uid-1"
    )
    assert secret["metadata"]["annotations"][SKIP_OWNER_ANNOTATION] == "true"
    # its later reconciles still find it theirs: verified, not refused
    h.keys.generation += 1
    await h.controller.on_sealed_event("MODIFIED", h.stored())
    assert h.condition()["reason"] == "Unsealed"
    assert h.sample("secretsync_unseal_verified_total") == 1


async def test_the_mark_of_a_deleted_sealed_secret_does_not_hold_the_secret(h: Harness) -> None:
    """A new SealedSecret of the name: the old one's mark no longer counts as a controller, so the
    Secret is adoptable on the usual terms (managed annotation), not "controlled by" a ghost."""
    await h.controller.on_sealed_event(
        "ADDED", h.add(sealed_secret({"password": "old"}, uid="old", template=SKIP))
    )
    await h.controller.on_sealed_event("DELETED", h.stored())
    await h.controller.on_sealed_event(
        "ADDED", h.add(sealed_secret({"password": "new"}, uid="new", template=SKIP))
    )
    cond = h.condition()
    assert cond["reason"] == "SecretNotOwned"
    assert f"Secret {NS}/{NAME} exists and is not managed by this SealedSecret" in cond["message"]
    secret = h.secret()
    assert secret is not None
    secret["metadata"]["annotations"][ownership.MANAGED_ANNOTATION] = "true"
    h.api.put(SECRET_PATH, secret)
    await h.controller.reconcile(h.stored())
    assert h.values() == {"password": b"new"}
    secret = h.secret()
    assert secret is not None
    assert (
        secret["metadata"]["annotations"][ownership.SEALED_OWNER_ANNOTATION] == f"{sealing.API_VERSION}/new"
    )


async def test_a_mark_that_cannot_be_checked_is_an_api_error(h: Harness) -> None:
    marked = foreign_secret(
        annotations={ownership.SEALED_OWNER_ANNOTATION: f"{sealing.BITNAMI_API_VERSION}/b-1"}
    )
    h.api.put(SECRET_PATH, marked)
    failure = kube.ApiError(403, "Forbidden", "no")
    h.api.fail[("get", BITNAMI_PATH)] = failure
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    cond = h.condition()
    assert cond["status"] == "False"
    assert (cond["reason"], cond["message"]) == (
        "ApiError",
        f"cannot tell whether Secret {NS}/{NAME} is another's: {failure}",
    )
    assert h.due(("sealed", "uid-1")) is not None
    assert h.values() == {"mine": b"theirs"}


# -------------------------------------------------------------- Secrets the API server would refuse


async def test_a_secret_that_would_be_invalid_is_not_created(h: Harness) -> None:
    sealed = h.add(sealed_secret(template={"type": "kubernetes.io/tls"}))
    await h.controller.on_sealed_event("ADDED", sealed)
    cond = h.condition()
    assert cond["status"] == "False"
    assert cond["reason"] == "InvalidSecret"
    assert cond["message"].endswith("; fix spec.template")
    assert f"Secret {NS}/{NAME}" in cond["message"]
    assert h.secret() is None
    assert h.api.writes()[0] == ("write_status", SEALED_PATH + "/status")
    assert h.due(("sealed", "uid-1")) is None


async def test_an_immutable_secret_is_not_changed(h: Harness) -> None:
    await h.controller.on_sealed_event(
        "ADDED", h.add(sealed_secret({"password": "one"}, template={"immutable": True}))
    )
    assert h.secret()["immutable"] is True  # type: ignore[index]
    rv = h.secret()["metadata"]["resourceVersion"]  # type: ignore[index]
    await h.controller.on_sealed_event(
        "MODIFIED", h.add(sealed_secret({"password": "two"}, generation=2, template={"immutable": True}))
    )
    cond = h.condition()
    assert cond["status"] == "False"
    assert cond["reason"] == "ImmutableSecretChanged"
    assert not cond["message"].endswith("; fix spec.template")
    assert h.values() == {"password": b"one"}
    assert h.controller._secret_rv["uid-1"] == rv
    assert h.due(("sealed", "uid-1")) is None


# ---------------------------------------------------------------------------- status writes, events


async def test_a_status_write_that_fails_on_the_api_is_retried(
    h: Harness, logs: pytest.LogCaptureFixture
) -> None:
    failure = kube.ApiError(503, "ServiceUnavailable", "busy")
    h.api.fail[("write_status", SEALED_PATH + "/status")] = failure
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    assert h.values() == {"password": b"hunter2"}  # the Secret is written
    assert ("WARNING", f"cannot write status of SealedSecret {NS}/{NAME}: {failure}") in lines(logs)
    assert h.api.events(NS) == []  # no event for a status nobody could see
    assert "uid-1" not in h.controller._done
    due = h.due(("sealed", "uid-1"))
    assert due is not None and 0.9 < due <= 1.0
    await h.controller.reconcile_by_name(NS, NAME)
    assert h.condition()["reason"] == "Unsealed"
    assert "uid-1" in h.controller._done


@pytest.mark.parametrize(
    "refusal", [kube.NotFound(404, "NotFound", "gone"), kube.Conflict(409, "Conflict", "uid changed")]
)
async def test_a_status_of_an_object_gone_or_replaced_is_dropped(h: Harness, refusal: kube.ApiError) -> None:
    h.api.fail[("write_status", SEALED_PATH + "/status")] = refusal
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    assert h.due(("sealed", "uid-1")) is None
    assert "uid-1" in h.controller._done
    assert h.api.events(NS) == [("Normal", "Unsealed", f"unsealed 1 keys into Secret {NS}/{NAME}")]


async def test_a_status_refused_as_invalid_is_logged_and_not_retried(
    h: Harness, logs: pytest.LogCaptureFixture
) -> None:
    refusal = kube.Invalid(422, "Invalid", "status.conditions: Too many")
    h.api.fail[("write_status", SEALED_PATH + "/status")] = refusal
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    assert ("ERROR", f"the API server refuses the status of SealedSecret {NS}/{NAME}: {refusal}") in lines(
        logs
    )
    assert h.due(("sealed", "uid-1")) is None


async def test_the_status_is_written_with_the_objects_uid_as_precondition(h: Harness) -> None:
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    # a late reconcile of an object replaced by another of the same name writes nothing onto it
    old = copy.deepcopy(h.stored())
    h.add(sealed_secret(uid="uid-2"))
    old["status"] = {}
    await h.controller.reconcile(old)
    assert "status" not in h.stored()


async def test_a_failure_unchanged_and_not_retried_posts_no_second_event(h: Harness) -> None:
    sealed = sealed_secret()
    sealed["spec"]["encryptedData"] = "not a map"
    await h.controller.on_sealed_event("ADDED", h.add(sealed))
    await h.controller.reconcile(h.stored())
    assert [e[1] for e in h.api.events(NS)] == ["InvalidSpec"]


async def test_a_ready_object_reconciled_again_posts_no_event(h: Harness) -> None:
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    await h.controller.reconcile(h.stored())
    assert len(h.api.events(NS)) == 1


async def test_ready_after_a_failure_posts_the_flip(h: Harness) -> None:
    h.api.fail[("get", SECRET_PATH)] = kube.ApiError(503, "ServiceUnavailable", "busy")
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    await h.controller.reconcile_by_name(NS, NAME)
    assert [e[:2] for e in h.api.events(NS)] == [("Warning", "ApiError"), ("Normal", "Unsealed")]
    # verified later (no write): the stored message stays, no event
    h.keys.generation += 1
    await h.controller.on_sealed_event("MODIFIED", h.stored())
    assert len(h.api.events(NS)) == 2


# ----------------------------------------------------------------------------- verified without RSA


async def test_a_restart_verifies_by_the_mark_and_keeps_the_stored_message(h: Harness) -> None:
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret({"a": "1", "b": "2"})))
    stored = h.stored()
    stored["status"]["conditions"][0]["message"] = "unsealed 2 keys into Secret apps/db (as written before)"
    h.api.put(h.path, stored)
    restarted = Harness()
    restarted.api = h.api
    restarted.controller.api = h.api  # type: ignore[assignment]
    try:
        calls = len(h.api.writes())
        await restarted.controller.on_sealed_event("ADDED", h.stored())
        assert restarted.sample("secretsync_unseal_attempts_total") == 0
        assert restarted.sample("secretsync_unseal_verified_total") == 1
        assert len(h.api.writes()) == calls  # nothing to write: same status, no event
        assert h.condition()["message"] == "unsealed 2 keys into Secret apps/db (as written before)"
        assert restarted.controller._secret_rv["uid-1"] == h.secret()["metadata"]["resourceVersion"]  # type: ignore[index]
        assert restarted.sample("secretsync_ready", kind="SealedSecret", namespace=NS, name=NAME) == 1
    finally:
        await restarted.scheduler.close()


async def test_a_verified_secret_under_a_false_status_gets_a_fresh_message(h: Harness) -> None:
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret({"a": "1", "b": "2", "c": "3"})))
    stored = h.stored()
    stored["status"] = status.build(None, ready=False, reason="ApiError", message="old trouble", generation=1)
    h.api.put(h.path, stored)
    h.keys.generation += 1
    await h.controller.on_sealed_event("MODIFIED", h.stored())
    cond = h.condition()
    assert (cond["status"], cond["message"]) == ("True", f"unsealed 3 keys into Secret {NS}/{NAME}")
    assert h.sample("secretsync_unseal_attempts_total") == 1


async def test_a_mark_is_not_trusted_on_a_secret_that_is_not_ours(h: Harness) -> None:
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    secret = h.secret()
    assert secret is not None
    secret["metadata"].pop("ownerReferences")
    secret["metadata"]["annotations"][ownership.MANAGED_ANNOTATION] = "true"
    h.api.put(SECRET_PATH, secret)
    h.keys.generation += 1
    await h.controller.on_sealed_event("MODIFIED", h.stored())
    assert h.sample("secretsync_unseal_verified_total") == 0
    assert h.sample("secretsync_unseal_attempts_total") == 2
    assert h.secret()["metadata"]["ownerReferences"][0]["uid"] == "uid-1"  # type: ignore[index]


async def test_a_mark_of_another_spec_is_not_trusted(h: Harness) -> None:
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret({"password": "one"})))
    h.controller._done.clear()
    newer = sealed_secret({"password": "two"}, generation=2)
    await h.controller.on_sealed_event("MODIFIED", h.add(newer))
    assert h.values() == {"password": b"two"}
    assert h.sample("secretsync_unseal_verified_total") == 0


async def test_without_keys_nothing_is_verified() -> None:
    h = Harness(keys=Keys())
    try:
        assert h.controller._verified(sealed_secret(), foreign_secret()) is None
        assert h.controller._verified(sealed_secret(), None) is None
    finally:
        await h.scheduler.close()


async def test_a_listed_copy_stands_in_for_the_read() -> None:
    prefetch = SecretPrefetch()
    h = Harness(prefetch=prefetch)
    try:
        await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
        secret = h.secret()
        assert secret is not None
        prefetch.begin()

        async def pages() -> Any:
            yield {"items": [copy.deepcopy(secret)]}

        await prefetch.load(pages)
        prefetch.observe("ADDED", secret)
        h.api.calls.clear()
        h.keys.generation += 1
        await h.controller.on_sealed_event("MODIFIED", h.stored())
        assert h.api.calls == []
        assert prefetch.hits == 1
        assert h.sample("secretsync_unseal_verified_total") == 1
    finally:
        await h.scheduler.close()


async def test_a_listed_copy_that_does_not_verify_is_read_again() -> None:
    prefetch = SecretPrefetch()
    h = Harness(prefetch=prefetch)
    try:
        h.add(sealed_secret())
        stale = foreign_secret(resourceVersion="5")
        prefetch.begin()

        async def pages() -> Any:
            yield {"items": [stale]}

        await prefetch.load(pages)
        prefetch.observe("ADDED", stale)
        await h.controller.on_sealed_event("ADDED", h.stored())
        assert h.api.calls[0] == ("get", SECRET_PATH)
        assert h.values() == {"password": b"hunter2"}
    finally:
        await h.scheduler.close()


# ----------------------------------------------------------------------- Bitnami's group and status


async def test_bitnami_mode_writes_a_synced_condition() -> None:
    h = Harness(group_version=sealing.BITNAMI_API_VERSION)
    try:
        assert h.controller.bitnami_status
        await h.controller.on_sealed_event(
            "ADDED", h.add(sealed_secret(api_version=sealing.BITNAMI_API_VERSION))
        )
        assert h.api.writes()[1] == ("write_status", BITNAMI_PATH + "/status")
        cond = h.condition()
        assert cond["status"] == "True"
        assert status.ready_of(h.stored()["status"], "Ready") is None
        assert h.stored()["status"]["observedGeneration"] == 1
        assert h.api.events(NS) == [("Normal", "Unsealed", f"unsealed 1 keys into Secret {NS}/{NAME}")]
        assert h.secret()["metadata"]["ownerReferences"][0]["apiVersion"] == sealing.BITNAMI_API_VERSION  # type: ignore[index]
        # a later verification keeps the Synced message
        stored = h.stored()
        stored["status"]["conditions"][0]["message"] = "kept"
        h.api.put(h.path, stored)
        h.keys.generation += 1
        await h.controller.on_sealed_event("MODIFIED", h.stored())
        assert h.condition()["message"] == "kept"
        assert len(h.api.events(NS)) == 1
        # and a failure is a Synced=False with a Warning
        h.api.fail[("get", SECRET_PATH)] = kube.ApiError(503, "ServiceUnavailable", "busy")
        await h.controller.reconcile(h.stored())
        assert h.condition()["status"] == "False"
        assert h.api.events(NS)[-1][:2] == ("Warning", "ApiError")
    finally:
        await h.scheduler.close()


def test_the_default_group_is_secretsyncs() -> None:
    controller = SealedController(None, None, None, None)  # type: ignore[arg-type]
    assert controller.group_version == sealing.API_VERSION
    assert not controller.bitnami_status
    assert controller.owns({}) is True
    assert (controller.backoff.base, controller.backoff.cap) == (1.0, 300.0)
    assert (controller.recheck.base, controller.recheck.cap) == (2.0, 60.0)
    assert not controller.prefetch.active


# ------------------------------------------------------------------ replace_secret, edge by edge


def test_replace_secret_on_a_secret_without_metadata() -> None:
    from secretsync.sealed import replace_secret

    out = replace_secret(
        {"data": {}}, {"metadata": {"name": NAME, "labels": {"a": "b"}}, "data": {"k": "dg=="}}
    )
    assert out["metadata"] == {"labels": {"a": "b"}}
    assert out["data"] == {"k": "dg=="}


def test_replace_secret_keeps_only_controller_references_as_stored() -> None:
    from secretsync.sealed import replace_secret

    plain_ref = {"apiVersion": sealing.API_VERSION, "kind": "SealedSecret", "name": NAME, "uid": "uid-1"}
    wanted = {**plain_ref, "controller": True, "blockOwnerDeletion": True}
    existing = {"metadata": {"name": NAME, "ownerReferences": [plain_ref]}, "data": {}}
    out = replace_secret(existing, {"metadata": {"name": NAME, "ownerReferences": [wanted]}, "data": {}})
    assert out["metadata"]["ownerReferences"] == [wanted]


def test_replace_secret_writes_type_and_immutability_as_the_spec_says() -> None:
    from secretsync.sealed import replace_secret

    existing = {
        "metadata": {"name": NAME},
        "type": "kubernetes.io/tls",
        "immutable": True,
        "stringData": {"x": "y"},
        "data": {"old": "b2xk"},
    }
    out = replace_secret(existing, {"metadata": {"name": NAME}, "data": {"k": "dg=="}})
    assert out == {"metadata": {"name": NAME}, "type": "Opaque", "data": {"k": "dg=="}}
    out = replace_secret(
        {"metadata": {"name": NAME}, "type": "Opaque"},
        {"metadata": {"name": NAME}, "type": "kubernetes.io/basic-auth", "immutable": True, "data": {}},
    )
    assert (out["type"], out["immutable"]) == ("kubernetes.io/basic-auth", True)
    assert out["immutable"] is True


# ------------------------------------------------------------------ the details the first tests left open


class Counting(Inline):
    def __init__(self) -> None:
        self.calls: list[str] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.calls.append(fn.__name__)
        return super().submit(fn, *args, **kwargs)


async def test_unsealing_and_rendering_run_on_the_given_executor(h: Harness) -> None:
    executor = Counting()
    h.controller.executor = executor
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    assert executor.calls == ["unseal", "render"]
    assert SealedController(None, None, None, executor).executor is executor  # type: ignore[arg-type]


async def test_the_time_of_a_reconcile_is_measured_not_summed_with_the_clock(h: Harness) -> None:
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    total = h.sample("secretsync_reconcile_duration_seconds_sum", kind="SealedSecret")
    assert total is not None and 0 <= total < 5


async def test_an_event_triggered_reconcile_that_fails_says_which_object_in_the_log(
    h: Harness, logs: pytest.LogCaptureFixture
) -> None:
    h.api.fail[("get", SEALED_PATH)] = kube.ApiError(503, "ServiceUnavailable", "busy")
    await h.controller.reconcile_soon(NS, NAME)
    assert any(
        level == "WARNING" and message.startswith(f"SealedSecret {NS}/{NAME}: ")
        for level, message in lines(logs)
    )


async def test_a_deletion_event_is_not_mistaken_for_the_state_a_listed_copy_awaits() -> None:
    prefetch = SecretPrefetch()
    h = Harness(prefetch=prefetch)
    try:
        await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
        secret = h.api.objects.pop(SECRET_PATH)
        prefetch._held[(NS, NAME)] = secret["metadata"]["resourceVersion"]
        await h.controller.on_secret_event("DELETED", secret)
        assert h.values() == {"password": b"hunter2"}  # re-created
    finally:
        await h.scheduler.close()


async def test_a_secret_event_after_a_failed_reconcile_reconciles(h: Harness) -> None:
    h.api.fail[("get", SECRET_PATH)] = kube.ApiError(503, "ServiceUnavailable", "busy")
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    assert "uid-1" not in h.controller._done
    await h.controller.on_secret_event(
        "ADDED", {"metadata": {"name": NAME, "namespace": NS, "resourceVersion": "1"}}
    )
    assert h.values() == {"password": b"hunter2"}


async def test_a_success_after_waiting_for_a_key_no_longer_waits(h: Harness) -> None:
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret(cert=OTHER_KEY[1])))
    assert h.controller._waiting_for_key == {(NS, NAME)}
    await h.controller.on_sealed_event("MODIFIED", h.add(sealed_secret(generation=2)))
    assert h.condition()["reason"] == "Unsealed"
    assert h.controller._waiting_for_key == set()


async def test_a_retried_failure_forgets_the_last_good_result(h: Harness) -> None:
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    body = h.stored()
    h.api.fail[("get", SECRET_PATH)] = kube.ApiError(503, "ServiceUnavailable", "busy")
    h.api.objects.pop(SECRET_PATH)
    await h.controller.reconcile(body)
    await h.controller.on_sealed_event("MODIFIED", body)  # same generation, same ring as the good one
    assert h.values() == {"password": b"hunter2"}


async def test_the_rescheduled_recheck_looks_again(h: Harness) -> None:
    h.controller.recheck = Backoff(base=0.01, cap=0.01, jitter=0.0)
    h.api.put(SECRET_PATH, foreign_secret())
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    for _ in range(300):  # the first look finds it unchanged and schedules the next
        if h.api.calls.count(("get", SECRET_PATH)) >= 3:
            break
        await asyncio.sleep(0.01)
    del h.api.objects[SECRET_PATH]
    assert await h.written() == {"password": b"hunter2"}


async def test_a_recheck_after_a_status_that_could_not_be_written(h: Harness) -> None:
    h.api.put(SECRET_PATH, foreign_secret())
    h.api.fail[("write_status", SEALED_PATH + "/status")] = kube.ApiError(503, "ServiceUnavailable", "busy")
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    assert "uid-1" not in h.controller._done
    del h.api.objects[SECRET_PATH]
    await h.controller._recheck("uid-1", NS, NAME)
    assert h.values() == {"password": b"hunter2"}


async def test_our_own_update_is_not_reconciled_again(h: Harness) -> None:
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret({"password": "one"})))
    await h.controller.on_sealed_event("MODIFIED", h.add(sealed_secret({"password": "two"}, generation=2)))
    secret = h.secret()
    assert secret is not None
    assert h.controller._secret_rv["uid-1"] == secret["metadata"]["resourceVersion"]
    h.api.calls.clear()
    await h.controller.on_secret_event("MODIFIED", secret)
    assert h.api.calls == []


async def test_a_template_only_sealed_secret_without_keys_is_not_rewritten() -> None:
    """No key, no values, only template data: no mark can be made, and the second reconcile finds
    the Secret as it would write it, so it writes nothing and remembers the version it saw."""
    h = Harness(keys=Keys())
    try:
        sealed = sealed_secret({}, template={"data": {"greeting": "hello"}})
        await h.controller.on_sealed_event("ADDED", h.add(sealed))
        assert h.values() == {"greeting": b"hello"}
        secret = h.secret()
        assert secret is not None
        h.controller._secret_rv.clear()
        writes = len(h.api.writes())
        outcome = await h.controller.reconcile(h.stored())
        assert (outcome.ready, outcome.reason, outcome.action) == (True, "Unsealed", None)
        assert outcome.message == f"unsealed 1 keys into Secret {NS}/{NAME}"
        assert len(h.api.writes()) == writes
        assert h.controller._secret_rv["uid-1"] == secret["metadata"]["resourceVersion"]
    finally:
        await h.scheduler.close()


async def test_a_status_that_is_not_a_map_is_replaced_not_a_crash(h: Harness) -> None:
    sealed = sealed_secret()
    sealed["status"] = "garbage"
    await h.controller.on_sealed_event("ADDED", h.add(sealed))
    assert h.condition()["reason"] == "Unsealed"
    # and a verified restart with such a status
    stored = h.stored()
    stored["status"] = ["garbage"]
    h.api.put(h.path, stored)
    h.keys.generation += 1
    await h.controller.on_sealed_event("MODIFIED", h.stored())
    assert h.condition()["reason"] == "Unsealed"
    assert h.sample("secretsync_unseal_verified_total") == 1


async def test_an_unchanged_outcome_keeps_the_transition_time_and_writes_no_status(h: Harness) -> None:
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    stored = h.stored()
    stored["status"]["conditions"][0]["lastTransitionTime"] = "2020-01-01T00:00:00Z"
    h.api.put(h.path, stored)
    h.keys.generation += 1
    writes = len(h.api.writes())
    await h.controller.on_sealed_event("MODIFIED", h.stored())
    assert len(h.api.writes()) == writes
    assert h.condition()["lastTransitionTime"] == "2020-01-01T00:00:00Z"


async def test_bitnami_mode_keeps_the_transition_time_too() -> None:
    h = Harness(group_version=sealing.BITNAMI_API_VERSION)
    try:
        await h.controller.on_sealed_event(
            "ADDED", h.add(sealed_secret(api_version=sealing.BITNAMI_API_VERSION))
        )
        stored = h.stored()
        stored["status"]["conditions"][0]["lastTransitionTime"] = "2020-01-01T00:00:00Z"
        h.api.put(h.path, stored)
        h.keys.generation += 1
        await h.controller.on_sealed_event("MODIFIED", h.stored())
        assert h.condition()["lastTransitionTime"] == "2020-01-01T00:00:00Z"
    finally:
        await h.scheduler.close()


@pytest.mark.parametrize("group_version", [sealing.API_VERSION, sealing.BITNAMI_API_VERSION])
async def test_a_flip_to_ready_without_a_write_posts_an_event(group_version: str) -> None:
    h = Harness(group_version=group_version)
    try:
        await h.controller.on_sealed_event("ADDED", h.add(sealed_secret(api_version=group_version)))
        stored = h.stored()
        if h.controller.bitnami_status:
            stored["status"] = status.build_synced(None, ready=False, message="old trouble", generation=1)
        else:
            stored["status"] = status.build(None, ready=False, reason="ApiError", message="old", generation=1)
        h.api.put(h.path, stored)
        h.keys.generation += 1
        await h.controller.on_sealed_event("MODIFIED", h.stored())
        assert h.condition()["status"] == "True"
        assert h.api.writes()[-1] == ("create", EVENTS)
        assert [e[:2] for e in h.api.events(NS)] == [("Normal", "Unsealed"), ("Normal", "Unsealed")]
        assert h.sample("secretsync_unseal_attempts_total") == 1
    finally:
        await h.scheduler.close()


async def test_an_immutable_secret_change_names_the_secret(h: Harness) -> None:
    await h.controller.on_sealed_event(
        "ADDED", h.add(sealed_secret({"password": "one"}, template={"immutable": True}))
    )
    await h.controller.on_sealed_event(
        "MODIFIED", h.add(sealed_secret({"password": "two"}, generation=2, template={"immutable": True}))
    )
    cond = h.condition()
    assert cond["status"] == "False"
    assert cond["message"].startswith(f"Secret {NS}/{NAME}")


async def test_keys_changed_for_an_object_whose_status_was_not_written() -> None:
    h = Harness(keys=Keys(OTHER_KEY))
    try:
        h.api.fail[("write_status", SEALED_PATH + "/status")] = kube.ApiError(503, "ServiceUnavailable", "x")
        await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
        assert "uid-1" not in h.controller._done
        assert h.controller._waiting_for_key == {(NS, NAME)}
        h.keys.ring.add(sealing.key_entry_from_secret(key_secret("k", *KEY)))
        h.keys.generation += 1
        await h.controller.on_keys_changed()
        assert h.values() == {"password": b"hunter2"}
    finally:
        await h.scheduler.close()


async def test_a_recheck_that_fails_to_read_the_sealed_secret_forgets_the_last_result(h: Harness) -> None:
    h.api.put(SECRET_PATH, foreign_secret())
    await h.controller.on_sealed_event("ADDED", h.add(sealed_secret()))
    body = h.stored()
    del h.api.objects[SECRET_PATH]
    h.api.fail[("get", SEALED_PATH)] = kube.ApiError(503, "ServiceUnavailable", "busy")
    with pytest.raises(kube.ApiError):
        await h.controller._recheck("uid-1", NS, NAME)  # the scheduler runs it again
    await h.controller.on_sealed_event("MODIFIED", body)  # the same state as last reconciled
    assert h.values() == {"password": b"hunter2"}
