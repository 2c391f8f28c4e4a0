"""The GCP Secret Manager provider against the gRPC fake (TLS, the unmodified official client):
versions, payloads, properties, extract, find, regional secrets, error translation, outages and
recovery, call counts, concurrency, credentials handling, and no leaked secrets."""

from __future__ import annotations

import collections
import json
import logging
import re
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import pytest

from secretsync import providers
from secretsync.errors import (
    PropertyNotFound,
    ProviderAuthError,
    ProviderError,
    ProviderUnavailable,
    SecretNotFound,
    SpecError,
)
from secretsync.providers import gcp
from secretsync.providers.base import FindSpec, RemoteRef, SecretKeyRef, StoreContext
from secretsync.providers.gcp import GcpProvider, parse_config

if TYPE_CHECKING:
    from tests.support.gcp_fake import SecretManagerFake

P = "projects/proj/secrets"
CANARY = "canary-7f3a9c-do-not-leak"


# -- helpers ------------------------------------------------------------------------------------------


class Harness:
    """Builds providers with an in-memory credential store, counting ``on_event`` calls."""

    def __init__(self) -> None:
        self.credentials: dict[tuple[str, str], bytes] = {}
        self.events: collections.Counter[str] = collections.Counter()
        self.built: list[GcpProvider] = []

    def read(self, ref: SecretKeyRef) -> bytes:
        try:
            return self.credentials[(ref.name, ref.key)]
        except KeyError:
            raise ProviderAuthError(f"credentials Secret {ref.name} has no key {ref.key!r}") from None

    def on_event(self, event: str) -> None:
        self.events[event] += 1

    def build(self, spec: Mapping[str, Any]) -> GcpProvider:
        context = StoreContext("SecretStore", "gcp", "apps", spec, self.read, on_event=self.on_event)
        provider = GcpProvider(context)
        self.built.append(provider)
        return provider


@pytest.fixture(autouse=True)
def no_adc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No Application Default Credentials anywhere, and no 3 s metadata-server probe."""
    from google.auth.compute_engine import _metadata

    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setattr(_metadata, "_NO_GCE_CHECK", True)


@pytest.fixture
def harness() -> Iterator[Harness]:
    h = Harness()
    yield h
    for provider in h.built:
        provider.close()


@pytest.fixture
def store(harness: Harness, gcp_fake: SecretManagerFake) -> GcpProvider:
    """A provider for project ``proj`` on the fake: endpoint override, no auth -> anonymous."""
    return harness.build({"projectID": "proj", "endpoint": gcp_fake.endpoint})


def service_account_json(email: str = "reader@proj.iam.gserviceaccount.com") -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "proj",
            "private_key_id": "abc123",
            "private_key": pem,
            "client_email": email,
            "client_id": "1234567890",
            "token_uri": "https://oauth2.googleapis.com/token",
        }
    ).encode()


# -- spec -------------------------------------------------------------------------------------------


def test_parse_config_defaults_and_regional_endpoint() -> None:
    config = parse_config({"projectID": "p"})
    assert (config.parent, config.endpoint, config.key_ref) == (
        "projects/p",
        "secretmanager.googleapis.com",
        None,
    )
    regional = parse_config({"projectID": "p", "location": "europe-west1"})
    assert regional.parent == "projects/p/locations/europe-west1"
    assert regional.endpoint == "secretmanager.europe-west1.rep.googleapis.com"
    overridden = parse_config({"projectID": "p", "location": "europe-west1", "endpoint": "localhost:1"})
    assert overridden.endpoint == "localhost:1" and overridden.endpoint_overridden
    ref = {"name": "gcp-sa", "key": "key.json", "namespace": "ops"}
    with_key = parse_config({"projectID": "p", "auth": {"secretRef": {"secretAccessKeySecretRef": ref}}})
    assert with_key.key_ref == SecretKeyRef("gcp-sa", "key.json", "ops")


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({}, "projectID"),
        ({"projectID": "a/b"}, "projectID"),
        ({"projectID": "p", "location": "Europe West"}, "location"),
        ({"projectID": "p", "endpoint": "https://x:1"}, "endpoint"),
        ({"projectID": "p", "auth": {"workloadIdentity": {"clusterName": "c"}}}, "auth.workloadIdentity"),
        ({"projectID": "p", "auth": {"secretRef": {}}}, "secretAccessKeySecretRef"),
        ({"projectID": "p", "auth": {"secretRef": {"secretAccessKeySecretRef": {"name": "n"}}}}, ".key"),
    ],
)
def test_parse_config_rejects(spec: dict[str, Any], field: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_config(spec)
    assert field in str(caught.value)


def test_registered_under_gcpsm(harness: Harness) -> None:
    context = StoreContext("SecretStore", "gcp", "apps", {"projectID": "proj"}, harness.read)
    assert isinstance(providers.create("gcpsm", context), GcpProvider)


# -- reads ------------------------------------------------------------------------------------------


def test_latest_and_numbered_versions(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    gcp_fake.put_secret(f"{P}/db", "v1", "v2", "v3")
    assert store.get(RemoteRef("db")) == b"v3"
    assert store.get(RemoteRef("db", version="latest")) == b"v3"
    assert store.get(RemoteRef("db", version="1")) == b"v1"
    assert store.get(RemoteRef("db", version="2")) == b"v2"
    gcp_fake.add_version(f"{P}/db", "v4")
    assert store.get(RemoteRef("db")) == b"v4"


def test_binary_payload_is_returned_as_stored(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    blob = bytes(range(256)) * 4
    gcp_fake.put_secret(f"{P}/blob", blob)
    assert store.get(RemoteRef("blob")) == blob


def test_property_nested_and_list_index(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    doc = {"user": "app", "tls.crt": "PEM", "db": {"port": 5432, "hosts": [{"name": "a"}, {"name": "b"}]}}
    gcp_fake.put_secret(f"{P}/cfg", json.dumps(doc))
    assert store.get(RemoteRef("cfg", property="user")) == b"app"
    assert store.get(RemoteRef("cfg", property="tls.crt")) == b"PEM"  # exact key wins over a path
    assert store.get(RemoteRef("cfg", property="db.port")) == b"5432"
    assert store.get(RemoteRef("cfg", property="db.hosts.1.name")) == b"b"
    # gjson's Result.String(): a list comes back as its text as stored (json.dumps' spaces kept)
    assert store.get(RemoteRef("cfg", property="db.hosts")) == b'[{"name": "a"}, {"name": "b"}]'
    with pytest.raises(
        PropertyNotFound, match=r"secret projects/proj/secrets/cfg version latest has no property"
    ):
        store.get(RemoteRef("cfg", property="db.nope"))


def test_property_on_non_json_is_a_clear_error(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    gcp_fake.put_secret(f"{P}/plain", f"just text {CANARY}")
    with pytest.raises(PropertyNotFound, match=r"is not JSON, so it has no property 'user'") as caught:
        store.get(RemoteRef("plain", property="user"))
    assert CANARY not in str(caught.value)


def test_extract(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    gcp_fake.put_secret(f"{P}/cfg", json.dumps({"a": "x", "n": 1, "o": {"k": [1, 2]}, "inner": '{"z": "y"}'}))
    assert store.get_map(RemoteRef("cfg")) == {
        "a": b"x",
        "n": b"1",
        "o": b'{"k": [1, 2]}',  # json.RawMessage: the text as stored
        "inner": b'{"z": "y"}',
    }
    assert store.get_map(RemoteRef("cfg", property="o")) == {"k": b"[1, 2]"}
    assert store.get_map(RemoteRef("cfg", property="inner")) == {"z": b"y"}  # a string holding JSON
    gcp_fake.put_secret(f"{P}/plain", CANARY)
    with pytest.raises(SpecError, match="cannot be extracted") as caught:
        store.get_map(RemoteRef("plain"))
    assert CANARY not in str(caught.value)


def test_raw_json_text_is_kept_like_eso(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    stored = (
        '{\n  "nested": {"a":  1,\n    "b": [true, null]},\n  "price": 1.50,\n'
        '  "text": "l\\u00e9a\\nf", "exp": -2.5e-3\n}'
    )
    gcp_fake.put_secret(f"{P}/raw", stored)
    assert store.get_map(RemoteRef("raw")) == {
        "nested": b'{"a":  1,\n    "b": [true, null]}',  # spaces and newline as stored
        "price": b"1.50",
        "text": "léa\nf".encode(),  # a string unquoted
        "exp": b"-2.5e-3",
    }
    assert store.get(RemoteRef("raw", property="nested")) == b'{"a":  1,\n    "b": [true, null]}'
    assert store.get(RemoteRef("raw", property="nested.b")) == b"[true, null]"
    assert store.get(RemoteRef("raw", property="price")) == b"1.5"  # gjson: Go's FormatFloat
    assert store.get(RemoteRef("raw", property="exp")) == b"-0.0025"
    assert store.get_map(RemoteRef("raw", property="nested")) == {"a": b"1", "b": b"[true, null]"}


def test_find_by_name_regexp_paginated(
    gcp_fake: SecretManagerFake, store: GcpProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gcp, "FIND_PAGE_SIZE", 4)
    for i in range(10):
        gcp_fake.put_secret(f"{P}/app-{i}", f"value-{i}")
    gcp_fake.put_secret(f"{P}/other", "nope")
    gcp_fake.put_secret(f"{P}/app-empty")  # no versions: skipped, not an error
    gcp_fake.reset_calls()
    found = store.find(FindSpec(name_regexp=r"^app-\d$"))
    assert found == {f"app-{i}": f"value-{i}".encode() for i in range(10)}
    # 12 secrets in pages of 4: 3 ListSecrets; then one AccessSecretVersion per match, no more.
    assert gcp_fake.calls == {"ListSecrets": 3, "AccessSecretVersion": 10}
    assert store.find(FindSpec(path="app-", name_regexp="[0-2]$")) == {
        "app-0": b"value-0",
        "app-1": b"value-1",
        "app-2": b"value-2",
    }


def test_find_by_tags_uses_a_label_filter(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    gcp_fake.put_secret(f"{P}/a", "1", labels={"team": "pay", "env": "prod"})
    gcp_fake.put_secret(f"{P}/b", "2", labels={"team": "pay", "env": "dev"})
    gcp_fake.put_secret(f"{P}/c", "3", labels={"team": "web", "env": "prod"})
    gcp_fake.reset_calls()
    assert store.find(FindSpec(tags={"team": "pay", "env": "prod"})) == {"a": b"1"}
    assert gcp_fake.calls == {"ListSecrets": 1, "AccessSecretVersion": 1}  # filtered server-side
    assert store.find(FindSpec(tags={"team": "pay"}, name_regexp="b")) == {"b": b"2"}
    assert store.find(FindSpec(tags={"team": 'pay" OR labels.team="web'})) == {}  # quoted, not injected
    with pytest.raises(SpecError, match="label key"):
        store.find(FindSpec(tags={"bad key": "x"}))


def test_regional_secrets_with_endpoint_override(gcp_fake: SecretManagerFake, harness: Harness) -> None:
    regional = "projects/proj/locations/europe-west1/secrets"
    gcp_fake.put_secret(f"{regional}/db", "regional", labels={"k": "v"})
    gcp_fake.put_secret(f"{P}/db", "global")
    provider = harness.build({"projectID": "proj", "location": "europe-west1", "endpoint": gcp_fake.endpoint})
    assert provider.get(RemoteRef("db")) == b"regional"
    assert provider.find(FindSpec(tags={"k": "v"})) == {"db": b"regional"}
    with pytest.raises(SecretNotFound, match=f"secret {regional}/missing version latest not found"):
        provider.get(RemoteRef("missing"))
    provider.check()
    assert {c.resource for c in gcp_fake.call_log} <= {
        f"{regional}/db/versions/latest",
        f"{regional}/missing/versions/latest",
        "projects/proj/locations/europe-west1",
    }


def test_one_access_per_get_and_one_client(
    gcp_fake: SecretManagerFake, store: GcpProvider, harness: Harness
) -> None:
    gcp_fake.put_secret(f"{P}/db", json.dumps({"u": "x"}))
    gcp_fake.reset_calls()
    for _ in range(5):
        store.get(RemoteRef("db", property="u"))
    store.get_map(RemoteRef("db"))
    assert gcp_fake.calls == {"AccessSecretVersion": 6}
    store.check()
    assert gcp_fake.calls["ListSecrets"] == 1
    assert harness.events["login"] == 0  # anonymous: nothing was logged in


# -- metadataPolicy: Fetch (labels and annotations, never a version) ---------------------------------------


def _fetch(key: str, prop: str | None = None, **kw: Any) -> RemoteRef:
    return RemoteRef(key, property=prop, metadata_policy="Fetch", **kw)


LABELS = {"team": "pay", "env": "prod"}
ANNOTATIONS = {"owner": "a<b>&c", "cfg": '{"k":"v","n":1}'}


def test_fetch_metadata_reads_labels_and_annotations_with_get_secret(
    gcp_fake: SecretManagerFake, store: GcpProvider
) -> None:
    gcp_fake.put_secret(f"{P}/db", json.dumps({"team": CANARY}), labels=LABELS, annotations=ANNOTATIONS)
    gcp_fake.reset_calls()

    # Go's json.Marshal: keys sorted, compact, HTML characters escaped
    assert store.get(_fetch("db")) == (
        b'{"annotations":{"cfg":"{\\"k\\":\\"v\\",\\"n\\":1}","owner":"a\\u003cb\\u003e\\u0026c"},'
        b'"labels":{"env":"prod","team":"pay"}}'
    )
    assert store.get(_fetch("db", "labels")) == b'{"env":"prod","team":"pay"}'
    assert json.loads(store.get(_fetch("db", "annotations"))) == ANNOTATIONS
    assert store.get(_fetch("db", "labels.team")) == b"pay"
    assert store.get(_fetch("db", "annotations.owner")) == b"a<b>&c"
    assert store.get(_fetch("db", "labels.env", version="7")) == b"prod"  # version is ignored
    assert store.get_map(_fetch("db")) == {
        "annotations": b'{"cfg":"{\\"k\\":\\"v\\",\\"n\\":1}","owner":"a\\u003cb\\u003e\\u0026c"}',
        "labels": b'{"env":"prod","team":"pay"}',
    }
    assert store.get_map(_fetch("db", "labels")) == {"team": b"pay", "env": b"prod"}
    assert store.get_map(_fetch("db", "annotations")) == {k: v.encode() for k, v in ANNOTATIONS.items()}
    assert store.get_map(_fetch("db", "annotations.cfg")) == {"k": b"v", "n": b"1"}
    assert gcp_fake.calls == {"GetSecret": 10}  # never AccessSecretVersion: the value is not read
    assert {c.resource for c in gcp_fake.call_log} == {f"{P}/db"}
    assert store.get(RemoteRef("db", property="team")) == CANARY.encode()  # without Fetch: the value


def test_fetch_metadata_empty_maps_are_null_as_in_eso(
    gcp_fake: SecretManagerFake, store: GcpProvider
) -> None:
    gcp_fake.put_secret(f"{P}/bare", CANARY)
    assert store.get(_fetch("bare")) == b'{"annotations":null,"labels":null}'
    assert store.get(_fetch("bare", "labels")) == b"null"
    assert store.get_map(_fetch("bare")) == {"annotations": b"", "labels": b""}
    assert store.get_map(_fetch("bare", "labels")) == {}
    gcp_fake.put_secret(f"{P}/half", labels={"k": "v"})  # no versions at all: metadata still reads
    assert store.get(_fetch("half")) == b'{"annotations":null,"labels":{"k":"v"}}'


def test_fetch_metadata_errors(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    gcp_fake.put_secret(f"{P}/db", CANARY, labels=LABELS, annotations=ANNOTATIONS)
    errors: list[Exception] = []
    with pytest.raises(PropertyNotFound) as label:
        store.get(_fetch("db", "labels.nope"))
    assert str(label.value) == f"gcp: label with key nope does not exist in secret db (GetSecret {P}/db)"
    with pytest.raises(
        PropertyNotFound, match=r"^gcp: annotation with key nope does not exist in secret db "
    ):
        store.get(_fetch("db", "annotations.nope"))
    gcp_fake.reset_calls()
    for prop in ("team", "annotations.", "label.team", "labelsx"):
        with pytest.raises(SpecError) as invalid:
            store.get(_fetch("db", prop))
        assert str(invalid.value) == (
            f"remoteRef.property: invalid property {prop}: metadata property should start with "
            "annotations or labels"
        )
        errors.append(invalid.value)
    with pytest.raises(SpecError, match=re.escape("remoteRef.key")):
        store.get(_fetch("a/b"))
    assert gcp_fake.total_calls == 0  # refused before any call
    with pytest.raises(SpecError, match="cannot be extracted"):
        store.get_map(_fetch("db", "labels.team"))
    with pytest.raises(SecretNotFound) as missing:
        store.get(_fetch("nope"))
    assert str(missing.value) == f"gcp: {P}/nope not found (GetSecret)"
    with pytest.raises(SecretNotFound):
        store.get_map(_fetch("nope", "labels"))
    gcp_fake.fail_always(grpc.StatusCode.PERMISSION_DENIED, methods=["GetSecret"])
    with pytest.raises(ProviderAuthError) as denied:
        store.get(_fetch("db"))
    assert str(denied.value).startswith(f"gcp: permission denied for GetSecret on {P}/db as anonymous")
    assert "needs secretmanager.secrets.get" in str(denied.value)
    for err in (label.value, missing.value, denied.value, *errors):
        assert CANARY not in str(err)


def test_fetch_metadata_of_a_regional_secret(gcp_fake: SecretManagerFake, harness: Harness) -> None:
    regional = "projects/proj/locations/europe-west1/secrets"
    gcp_fake.put_secret(f"{regional}/db", "regional", labels={"where": "eu"})
    gcp_fake.put_secret(f"{P}/db", "global", labels={"where": "global"})
    provider = harness.build({"projectID": "proj", "location": "europe-west1", "endpoint": gcp_fake.endpoint})
    assert provider.get(_fetch("db", "labels.where")) == b"eu"
    with pytest.raises(SecretNotFound, match=f"^gcp: {regional}/missing not found"):
        provider.get(_fetch("missing"))
    assert [c.resource for c in gcp_fake.call_log] == [f"{regional}/db", f"{regional}/missing"]


# -- errors ------------------------------------------------------------------------------------------


def test_not_found(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    with pytest.raises(SecretNotFound) as caught:
        store.get(RemoteRef("nope"))
    assert str(caught.value) == "gcp: secret projects/proj/secrets/nope version latest not found"
    gcp_fake.put_secret(f"{P}/db", "v1")
    with pytest.raises(SecretNotFound, match="secret projects/proj/secrets/db version 7 not found"):
        store.get(RemoteRef("db", version="7"))


@pytest.mark.parametrize("bad", ["a/b", "../x", "", "a b"])
def test_bad_key_is_a_spec_error_without_a_call(
    gcp_fake: SecretManagerFake, store: GcpProvider, bad: str
) -> None:
    with pytest.raises(SpecError, match=re.escape("remoteRef.key")):
        store.get(RemoteRef(bad))
    with pytest.raises(SpecError, match=re.escape("remoteRef.version")):
        store.get(RemoteRef("db", version="1/../2"))
    assert gcp_fake.total_calls == 0


def test_disabled_and_destroyed_versions(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    gcp_fake.put_secret(f"{P}/db", CANARY, CANARY, "v3")
    gcp_fake.set_version_state(f"{P}/db/versions/1", "DISABLED")
    gcp_fake.set_version_state(f"{P}/db/versions/2", "DESTROYED")
    with pytest.raises(ProviderError) as disabled:
        store.get(RemoteRef("db", version="1"))
    assert type(disabled.value) is ProviderError
    assert disabled.value.reason == "SecretSyncedError"
    assert str(disabled.value) == (
        "gcp: secret projects/proj/secrets/db version 1 is DISABLED: enable it, "
        "or set remoteRef.version to another version"
    )
    with pytest.raises(ProviderError, match="version 2 is DESTROYED: its data is gone") as destroyed:
        store.get(RemoteRef("db", version="2"))
    assert type(destroyed.value) is ProviderError
    assert store.get(RemoteRef("db")) == b"v3"
    gcp_fake.set_version_state(f"{P}/db/versions/3", "DISABLED")
    with pytest.raises(
        ProviderError, match=re.escape("version latest is DISABLED (latest is the newest version")
    ):
        store.get(RemoteRef("db"))
    for err in (disabled.value, destroyed.value):
        assert CANARY not in str(err)


def test_permission_denied_names_method_and_resource(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    gcp_fake.put_secret(f"{P}/db", "v1")
    gcp_fake.fail_next(1, grpc.StatusCode.PERMISSION_DENIED, methods=["AccessSecretVersion"])
    with pytest.raises(ProviderAuthError) as caught:
        store.get(RemoteRef("db"))
    message = str(caught.value)
    assert "permission denied for AccessSecretVersion on projects/proj/secrets/db/versions/latest" in message
    assert "anonymous credentials" in message
    gcp_fake.fail_next(1, grpc.StatusCode.UNAUTHENTICATED, methods=["ListSecrets"])
    with pytest.raises(ProviderAuthError, match="credentials rejected for ListSecrets on projects/proj"):
        store.check()
    assert store.get(RemoteRef("db")) == b"v1"  # one-off faults: the next call is fine


def test_invalid_argument_is_a_spec_error(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    gcp_fake.fail_next(1, grpc.StatusCode.INVALID_ARGUMENT, methods=["ListSecrets"])
    with pytest.raises(
        SpecError, match=re.escape("dataFrom.find: gcp: ListSecrets on projects/proj rejected as invalid")
    ):
        store.find(FindSpec(name_regexp="x"))


def test_throttling_is_unavailable(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    gcp_fake.fail_next(1, grpc.StatusCode.RESOURCE_EXHAUSTED, methods=["AccessSecretVersion"])
    with pytest.raises(ProviderUnavailable, match=f"Secret Manager at {gcp_fake.endpoint} unavailable"):
        store.get(RemoteRef("db"))


def test_outage_fails_fast_then_recovers(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    gcp_fake.put_secret(f"{P}/db", "v1")
    assert store.get(RemoteRef("db")) == b"v1"
    gcp_fake.stop()
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable) as caught:
        store.get(RemoteRef("db"))
    assert time.monotonic() - started < gcp.RETRY_DEADLINE + 3  # not the client's own 60 s
    assert f"Secret Manager at {gcp_fake.endpoint} unavailable for AccessSecretVersion" in str(caught.value)
    gcp_fake.start()
    deadline = time.monotonic() + 15
    while True:  # the same provider (and channel) recovers once the endpoint is back
        try:
            assert store.get(RemoteRef("db")) == b"v1"
            break
        except ProviderUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_unavailable_blip_is_absorbed_by_the_short_retry(
    gcp_fake: SecretManagerFake, store: GcpProvider
) -> None:
    gcp_fake.put_secret(f"{P}/db", "v1")
    gcp_fake.fail_next(2, grpc.StatusCode.UNAVAILABLE, methods=["AccessSecretVersion"])
    assert store.get(RemoteRef("db")) == b"v1"
    assert gcp_fake.calls["AccessSecretVersion"] == 3


# -- concurrency ------------------------------------------------------------------------------------


def test_many_threads_share_one_provider(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    for i in range(20):
        gcp_fake.put_secret(f"{P}/s{i}", json.dumps({"v": i}))
    gcp_fake.reset_calls()
    start = threading.Barrier(16)

    def read(i: int) -> bytes:
        if i < 16:
            start.wait()  # the first reads race the lazy client creation
        return store.get(RemoteRef(f"s{i % 20}", property="v"))

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(read, range(400)))
    assert results == [str(i % 20).encode() for i in range(400)]
    assert gcp_fake.calls == {"AccessSecretVersion": 400}


# -- credentials --------------------------------------------------------------------------------------


def key_store(harness: Harness, endpoint: str | None, raw: bytes) -> GcpProvider:
    harness.credentials[("gcp-sa", "key.json")] = raw
    spec: dict[str, Any] = {
        "projectID": "proj",
        "auth": {"secretRef": {"secretAccessKeySecretRef": {"name": "gcp-sa", "key": "key.json"}}},
    }
    if endpoint:
        spec["endpoint"] = endpoint
    return harness.build(spec)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"not json " + CANARY.encode(), "is not a service-account key JSON"),
        (json.dumps({"type": "authorized_user", "refresh_token": CANARY}).encode(), "type is not"),
        (
            json.dumps({"type": "service_account", "private_key": CANARY}).encode(),
            "lacks client_email, token_uri",
        ),
        (
            json.dumps(
                {
                    "type": "service_account",
                    "client_email": "x@p.iam.gserviceaccount.com",
                    "token_uri": "https://oauth2.googleapis.com/token",
                    "private_key": f"-----BEGIN PRIVATE KEY-----\n{CANARY}\n-----END PRIVATE KEY-----\n",
                }
            ).encode(),
            "unusable private_key",
        ),
    ],
)
def test_malformed_service_account_key_fails_clearly_without_network(
    gcp_fake: SecretManagerFake,
    harness: Harness,
    raw: bytes,
    expected: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    provider = key_store(harness, gcp_fake.endpoint, raw)
    with pytest.raises(ProviderAuthError, match=expected) as caught:
        provider.get(RemoteRef("db"))
    assert "Secret key gcp-sa[key.json]" in str(caught.value)
    assert CANARY not in str(caught.value) and CANARY not in caplog.text
    assert gcp_fake.total_calls == 0 and harness.events["login"] == 0


def test_service_account_key_is_parsed(gcp_fake: SecretManagerFake) -> None:
    ref = SecretKeyRef("gcp-sa", "key.json")
    credentials, identity = gcp.service_account_credentials(service_account_json(), ref)
    assert identity == "service account reader@proj.iam.gserviceaccount.com"
    assert credentials.service_account_email == "reader@proj.iam.gserviceaccount.com"  # type: ignore[attr-defined]


def test_service_account_key_reaches_the_fake(gcp_fake: SecretManagerFake, harness: Harness) -> None:
    """The generated client uses self-signed JWTs for service-account keys, so no token endpoint
    is involved: the data path works end to end (the fake does not check the JWT)."""
    gcp_fake.put_secret(f"{P}/db", "v1")
    provider = key_store(harness, gcp_fake.endpoint, service_account_json())
    assert provider.get(RemoteRef("db")) == b"v1"
    assert provider.get(RemoteRef("db")) == b"v1"
    assert harness.events["login"] == 1  # credentials built once per provider
    gcp_fake.fail_next(1, grpc.StatusCode.PERMISSION_DENIED)
    with pytest.raises(
        ProviderAuthError, match=re.escape("as service account reader@proj.iam.gserviceaccount.com")
    ):
        provider.get(RemoteRef("db"))


def test_missing_credential_secret_is_reported(gcp_fake: SecretManagerFake, harness: Harness) -> None:
    provider = harness.build(
        {
            "projectID": "proj",
            "endpoint": gcp_fake.endpoint,
            "auth": {"secretRef": {"secretAccessKeySecretRef": {"name": "absent", "key": "k"}}},
        }
    )
    with pytest.raises(ProviderAuthError, match="credentials Secret absent has no key 'k'"):
        provider.check()


def test_no_auth_no_adc_no_endpoint_is_an_auth_error(harness: Harness) -> None:
    provider = harness.build({"projectID": "proj"})
    started = time.monotonic()
    with pytest.raises(ProviderAuthError, match="no Application Default Credentials were found"):
        provider.get(RemoteRef("db"))
    assert time.monotonic() - started < 2


def test_adc_is_never_sent_to_an_endpoint_override(
    gcp_fake: SecretManagerFake, harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator has ADC; a store naming an endpoint gets anonymous credentials, never ADC."""
    key_file = tmp_path / "adc.json"
    key_file.write_bytes(service_account_json("adc@proj.iam.gserviceaccount.com"))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    gcp_fake.put_secret(f"{P}/db", "v1")
    provider = harness.build({"projectID": "proj", "endpoint": gcp_fake.endpoint})
    assert provider.access.ambient_identity is False
    assert provider.get(RemoteRef("db")) == b"v1"
    assert harness.events["login"] == 0
    assert [call.authorization for call in gcp_fake.call_log] == [""]  # no bearer token was sent
    gcp_fake.fail_next(1, grpc.StatusCode.PERMISSION_DENIED)
    with pytest.raises(ProviderAuthError, match=r"as anonymous credentials"):
        provider.get(RemoteRef("db"))


def test_adc_without_endpoint_is_the_operators_identity(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without auth and endpoint the provider declares ambient identity and loads ADC (no network)."""
    key_file = tmp_path / "adc.json"
    key_file.write_bytes(service_account_json("adc@proj.iam.gserviceaccount.com"))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    provider = harness.build({"projectID": "proj"})
    assert provider.access.ambient_identity is True
    _credentials, identity = provider._credentials()
    assert identity == "application default credentials (adc@proj.iam.gserviceaccount.com)"
    assert harness.events["login"] == 1


def test_canary_never_in_errors_or_logs(
    gcp_fake: SecretManagerFake, store: GcpProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gcp_fake.put_secret(f"{P}/db", json.dumps({"user": CANARY, "n": [CANARY]}))
    gcp_fake.put_secret(f"{P}/raw", CANARY)
    errors: list[Exception] = []
    for ref in (
        RemoteRef("db", property="missing"),
        RemoteRef("db", property="n.5"),
        RemoteRef("raw", property="x"),
        RemoteRef("db", version="9"),
    ):
        with pytest.raises((ProviderError, SpecError)) as caught:
            store.get(ref)
        errors.append(caught.value)
    with pytest.raises(SpecError) as spec_error:
        store.get_map(RemoteRef("db", property="user"))
    errors.append(spec_error.value)
    gcp_fake.set_version_state(f"{P}/raw/versions/1", "DISABLED")
    with pytest.raises(ProviderError) as disabled:
        store.get(RemoteRef("raw"))
    errors.append(disabled.value)
    for err in errors:
        assert CANARY not in str(err) and CANARY not in repr(err)
    assert CANARY not in caplog.text


def test_close_releases_and_a_later_call_rebuilds(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    gcp_fake.put_secret(f"{P}/db", "v1")
    assert store.get(RemoteRef("db")) == b"v1"
    store.close()
    store.close()  # idempotent
    assert store.get(RemoteRef("db")) == b"v1"
