"""secretsync/providers/gcp.py: what mutation testing found untested: find, retries, metadata, the client.

find's path prefix, name regexp and skips, its result limit and paging errors; the short retry
(exact backoff, measured on a virtual clock: no sleeps) and the per-call timeout every RPC gets;
check's one-item page; metadata reads; the store's declared access; client lifecycle (the channel
with our options, the log line, close). Messages are asserted word for word. The RPC's keyword
arguments are checked with a spy on the official client's methods, which still call the fake.
"""

# ruff: noqa: F811  (pytest fixtures imported from tests.test_provider_gcp are parameters here)

from __future__ import annotations

import logging
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import grpc
import pytest
from google.api_core.retry import retry_base, retry_unary
from google.cloud import secretmanager_v1 as sm

from secretsync import limits
from secretsync.errors import (
    PropertyNotFound,
    ProviderAuthError,
    ProviderError,
    ProviderUnavailable,
    SecretNotFound,
    SpecError,
)
from secretsync.providers import gcp
from secretsync.providers.base import FindSpec, RemoteRef, SecretKeyRef
from secretsync.providers.gcp import GcpProvider
from secretsync.tenancy import Access
from tests.test_provider_gcp import (  # noqa: F401  (fixtures: harness, no_adc, store)
    Harness,
    P,
    harness,
    no_adc,
    store,
)

if TYPE_CHECKING:
    from tests.support.gcp_fake import SecretManagerFake

ANON = "anonymous credentials (endpoint override without auth)"
STORE_REF = "SecretStore apps/gcp"


def _fetch(key: str, prop: str | None = None) -> RemoteRef:
    return RemoteRef(key, property=prop, metadata_policy="Fetch")


# -- virtual clock for google.api_core's retry ------------------------------------------------------


class VirtualClock:
    """Stands in for ``time`` in google.api_core's retry modules: ``sleep`` only advances the
    clock and is recorded; the jitter (``random.uniform(0, d)``) is pinned to its bound ``d``."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> VirtualClock:
    fake = VirtualClock()
    monkeypatch.setattr(retry_unary, "time", fake)
    monkeypatch.setattr(retry_base, "time", fake)
    monkeypatch.setattr(retry_base, "random", types.SimpleNamespace(uniform=lambda _low, high: high))
    return fake


# -- spy on the official client's RPC methods ---------------------------------------------------------


@pytest.fixture
def rpcs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Every call of the client's list/get/access methods, with its keyword arguments."""
    seen: list[tuple[str, dict[str, Any]]] = []
    for method in ("list_secrets", "get_secret", "access_secret_version"):
        original = getattr(sm.SecretManagerServiceClient, method)

        def spy(
            self: Any, *args: Any, _m: str = method, _orig: Callable[..., Any] = original, **kw: Any
        ) -> Any:
            assert not args
            seen.append((_m, kw))
            return _orig(self, **kw)

        monkeypatch.setattr(sm.SecretManagerServiceClient, method, spy)
    return seen


# -- the store's declared access --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "access"),
    [
        ({"projectID": "p"}, Access(ambient_identity=True, servers=())),
        ({"projectID": "p", "location": "europe-west1"}, Access(ambient_identity=True, servers=())),
        (
            {"projectID": "p", "endpoint": "localhost:8443"},
            Access(ambient_identity=False, servers=(("spec.provider.gcpsm.endpoint", "localhost:8443"),)),
        ),
        (
            {
                "projectID": "p",
                "endpoint": "sm.example:443",
                "auth": {"secretRef": {"secretAccessKeySecretRef": {"name": "n", "key": "k"}}},
            },
            Access(ambient_identity=False, servers=(("spec.provider.gcpsm.endpoint", "sm.example:443"),)),
        ),
    ],
)
def test_declared_access(harness: Harness, spec: dict[str, Any], access: Access) -> None:
    """The public default endpoint is no server the spec chose; an override is, for the admin's rules."""
    assert harness.build(spec).access == access


def test_key_ref_namespace_is_named_in_messages() -> None:
    with pytest.raises(ProviderAuthError) as caught:
        gcp.service_account_credentials(b"[]", SecretKeyRef("gcp-sa", "key.json", "ops"))
    assert str(caught.value) == (
        "gcp: Secret key ops/gcp-sa[key.json] is not a service-account key JSON (not a JSON object)"
    )


# -- the short retry and the per-call timeout -----------------------------------------------------------

OPERATIONS: list[tuple[str, Callable[[GcpProvider], Any], Any]] = [
    ("AccessSecretVersion", lambda s: s.get(RemoteRef("db")), b"v1"),
    ("GetSecret", lambda s: s.get(_fetch("db", "labels.team")), b"pay"),
    ("ListSecrets", lambda s: s.find(FindSpec(name_regexp="^d")), {"db": b"v1"}),
    ("ListSecrets", lambda s: s.check(), None),
]


@pytest.mark.parametrize(("method", "operation", "expected"), OPERATIONS)
def test_unavailable_is_retried_with_short_backoff(
    gcp_fake: SecretManagerFake,
    store: GcpProvider,
    clock: VirtualClock,
    method: str,
    operation: Callable[[GcpProvider], Any],
    expected: Any,
) -> None:
    """0.1 s doubling up to 1 s, for 3 s: five UNAVAILABLE answers are absorbed, a sixth is not."""
    gcp_fake.put_secret(f"{P}/db", "v1", labels={"team": "pay"})
    gcp_fake.fail_next(5, grpc.StatusCode.UNAVAILABLE, methods=[method])
    assert operation(store) == expected
    assert clock.sleeps == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0])
    assert gcp_fake.calls[method] == 6
    clock.sleeps.clear()
    gcp_fake.fail_next(6, grpc.StatusCode.UNAVAILABLE, methods=[method])
    with pytest.raises(ProviderUnavailable):
        operation(store)
    assert clock.sleeps == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0])


@pytest.mark.parametrize(("method", "operation", "expected"), OPERATIONS)
def test_every_rpc_has_our_retry_and_timeout(
    gcp_fake: SecretManagerFake,
    store: GcpProvider,
    rpcs: list[tuple[str, dict[str, Any]]],
    method: str,
    operation: Callable[[GcpProvider], Any],
    expected: Any,
) -> None:
    gcp_fake.put_secret(f"{P}/db", "v1", labels={"team": "pay"})
    assert operation(store) == expected
    assert rpcs
    for _name, kw in rpcs:
        assert set(kw) == {"request", "retry", "timeout"}
        assert kw["retry"] is store._retry
        assert kw["timeout"] == gcp.CALL_TIMEOUT == 10.0


def test_check_lists_one_secret_of_the_parent(
    gcp_fake: SecretManagerFake, harness: Harness, rpcs: list[tuple[str, dict[str, Any]]]
) -> None:
    provider = harness.build({"projectID": "proj", "location": "europe-west1", "endpoint": gcp_fake.endpoint})
    provider.check()
    [(name, kw)] = rpcs
    assert name == "list_secrets"
    assert kw["request"] == sm.ListSecretsRequest(parent="projects/proj/locations/europe-west1", page_size=1)


def test_check_invalid_argument_message(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    gcp_fake.fail_next(1, grpc.StatusCode.INVALID_ARGUMENT, methods=["ListSecrets"])
    with pytest.raises(SpecError) as caught:
        store.check()
    assert (
        str(caught.value) == "find: gcp: ListSecrets on projects/proj rejected as invalid (INVALID_ARGUMENT)"
    )


# -- find -------------------------------------------------------------------------------------------


def _seed(gcp_fake: SecretManagerFake, *ids: str) -> None:
    for secret_id in ids:
        gcp_fake.put_secret(f"{P}/{secret_id}", f"value-{secret_id}")


@pytest.mark.parametrize(
    ("spec", "found"),
    [
        (FindSpec(path="app-"), ["app-1", "app-2"]),
        (FindSpec(path="/app-/"), ["app-1", "app-2"]),
        (FindSpec(path=" app-"), []),  # ids have no spaces: nothing starts with " app-"
        (FindSpec(path="Xa"), ["Xa-1"]),
        (FindSpec(path="a"), ["a-2", "app-1", "app-2"]),
        (FindSpec(path="b"), ["b-3"]),  # earlier ids that do not match do not end the search
        (FindSpec(name_regexp="^b"), ["b-3"]),
        (FindSpec(path="app-", name_regexp="2$"), ["app-2"]),
    ],
)
def test_find_path_is_a_prefix_of_the_secret_id(
    gcp_fake: SecretManagerFake, store: GcpProvider, spec: FindSpec, found: list[str]
) -> None:
    _seed(gcp_fake, "Xa-1", "a-2", "app-1", "app-2", "b-3")
    assert store.find(spec) == {i: f"value-{i}".encode() for i in found}


def test_find_skips_a_secret_without_versions_and_goes_on(
    gcp_fake: SecretManagerFake, store: GcpProvider
) -> None:
    gcp_fake.put_secret(f"{P}/a-empty")
    _seed(gcp_fake, "b", "c")
    assert store.find(FindSpec(name_regexp=".")) == {"b": b"value-b", "c": b"value-c"}
    assert gcp_fake.calls == {"ListSecrets": 1, "AccessSecretVersion": 3}


@pytest.mark.parametrize("count", [1, 2, 3])
def test_find_returns_up_to_the_limit(
    gcp_fake: SecretManagerFake, store: GcpProvider, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    monkeypatch.setattr(limits, "FIND_MAX_RESULTS", 3)
    _seed(gcp_fake, *(f"s{i}" for i in range(count)))
    assert len(store.find(FindSpec(name_regexp="^s"))) == count


def test_find_refuses_more_than_the_limit(
    gcp_fake: SecretManagerFake, store: GcpProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "FIND_MAX_RESULTS", 3)
    _seed(gcp_fake, "s0", "s1", "s2", "s3")
    with pytest.raises(SpecError) as caught:
        store.find(FindSpec(name_regexp="^s"))
    assert str(caught.value) == (
        "dataFrom.find: matches more than 3 remote secrets; narrow it with path, name.regexp or tags"
    )
    assert gcp_fake.calls["AccessSecretVersion"] == 3  # refused before reading the fourth


@pytest.mark.parametrize(
    ("state", "advice"),
    [
        ("DISABLED", "enable it or add a new one"),
        ("DESTROYED", "its data is gone; add a new version"),
    ],
)
def test_find_of_an_unusable_latest_version(
    gcp_fake: SecretManagerFake, store: GcpProvider, state: Literal["DISABLED", "DESTROYED"], advice: str
) -> None:
    """find has no version to set (no remoteRef.version): the advice fits a find."""
    _seed(gcp_fake, "a")
    gcp_fake.set_version_state(f"{P}/a/versions/1", state)
    with pytest.raises(ProviderError) as caught:
        store.find(FindSpec(name_regexp="a"))
    assert str(caught.value) == (
        f"gcp: secret {P}/a version latest is {state} (dataFrom.find reads each secret's newest "
        f"version): {advice}"
    )


def test_find_access_rejected_as_invalid_names_the_find(
    gcp_fake: SecretManagerFake, store: GcpProvider
) -> None:
    _seed(gcp_fake, "a")
    gcp_fake.fail_always(grpc.StatusCode.INVALID_ARGUMENT, methods=["AccessSecretVersion"])
    with pytest.raises(SpecError) as caught:
        store.find(FindSpec(name_regexp="a"))
    assert str(caught.value).startswith("dataFrom.find: gcp: AccessSecretVersion on ")


def test_find_error_on_a_later_page(
    gcp_fake: SecretManagerFake,
    store: GcpProvider,
    monkeypatch: pytest.MonkeyPatch,
    rpcs: list[tuple[str, dict[str, Any]]],
) -> None:
    """The pager fetches page 2 lazily: its errors are translated like the first page's."""
    monkeypatch.setattr(gcp, "FIND_PAGE_SIZE", 1)
    _seed(gcp_fake, "a", "b")
    original = sm.SecretManagerServiceClient.list_secrets  # the spy

    def then_fail(self: Any, **kw: Any) -> Any:
        pager = original(self, **kw)
        gcp_fake.fail_next(1, grpc.StatusCode.INVALID_ARGUMENT, methods=["ListSecrets"])
        return pager

    monkeypatch.setattr(sm.SecretManagerServiceClient, "list_secrets", then_fail)
    with pytest.raises(SpecError) as caught:
        store.find(FindSpec(name_regexp="."))
    assert str(caught.value) == (
        "dataFrom.find: gcp: ListSecrets on projects/proj rejected as invalid (INVALID_ARGUMENT)"
    )
    assert gcp_fake.calls == {"ListSecrets": 2, "AccessSecretVersion": 1}
    [kw] = [kw for name, kw in rpcs if name == "list_secrets"]  # page 2 came from the pager
    assert kw["request"] == sm.ListSecretsRequest(parent="projects/proj", filter="", page_size=1)


class _Pager:
    def __init__(self, *names: str) -> None:
        self.pages = [types.SimpleNamespace(secrets=[types.SimpleNamespace(name=n) for n in names])]


class _ScriptedClient:
    """A client answering ListSecrets with given names and AccessSecretVersion with the name read."""

    def __init__(self, *names: str) -> None:
        self.names = names
        self.accessed: list[str] = []

    def list_secrets(self, **_kw: Any) -> _Pager:
        return _Pager(*self.names)

    def access_secret_version(self, *, request: Any, **_kw: Any) -> Any:
        self.accessed.append(request.name)
        return types.SimpleNamespace(payload=types.SimpleNamespace(data=request.name.encode()))


def test_find_takes_the_id_after_the_last_slash(harness: Harness) -> None:
    """A listed name is cut at its last "/" (a name without one is all id)."""
    provider = harness.build({"projectID": "proj", "endpoint": "localhost:1"})
    client = _ScriptedClient(f"{P}/a", "bare")
    provider._client = client  # type: ignore[assignment]
    assert provider.find(FindSpec()) == {
        "a": f"{P}/a/versions/latest".encode(),
        "bare": b"bare/versions/latest",
    }


# -- reads ------------------------------------------------------------------------------------------


def test_get_map_reads_the_version_asked_for(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    gcp_fake.put_secret(f"{P}/cfg", '{"v": 1}', '{"v": 2}')
    assert store.get_map(RemoteRef("cfg", version="1")) == {"v": b"1"}
    assert store.get_map(RemoteRef("cfg")) == {"v": b"2"}


def test_get_map_missing_property_names_the_version(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    gcp_fake.put_secret(f"{P}/cfg", '{"v": 1}')
    with pytest.raises(PropertyNotFound) as caught:
        store.get_map(RemoteRef("cfg", property="nope"))
    assert str(caught.value) == f"gcp: secret {P}/cfg version latest has no property 'nope'"


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        (
            RemoteRef("a/b"),
            "remoteRef.key: 'a/b' is not a Secret Manager secret id ([A-Za-z0-9_-], 1-255 chars)",
        ),
        (
            _fetch("a/b"),
            "remoteRef.key: 'a/b' is not a Secret Manager secret id ([A-Za-z0-9_-], 1-255 chars)",
        ),
        (
            RemoteRef("db", version="1/2"),
            "remoteRef.version: '1/2' is not a version number, latest, or a version alias",
        ),
    ],
)
def test_bad_key_and_version_messages(
    gcp_fake: SecretManagerFake, store: GcpProvider, ref: RemoteRef, message: str
) -> None:
    with pytest.raises(SpecError) as caught:
        store.get(ref)
    assert str(caught.value) == message
    assert gcp_fake.total_calls == 0


def test_destroyed_version_message(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    gcp_fake.put_secret(f"{P}/db", "v1", "v2")
    gcp_fake.set_version_state(f"{P}/db/versions/1", "DESTROYED")
    with pytest.raises(ProviderError) as caught:
        store.get(RemoteRef("db", version="1"))
    assert str(caught.value) == (
        f"gcp: secret {P}/db version 1 is DESTROYED: its data is gone; add a new version or set "
        "remoteRef.version to another one"
    )


@pytest.mark.parametrize(
    ("method", "read", "message"),
    [
        (
            "AccessSecretVersion",
            RemoteRef("db"),
            f"remoteRef: gcp: AccessSecretVersion on {P}/db/versions/latest rejected as invalid "
            "(INVALID_ARGUMENT)",
        ),
        (
            "GetSecret",
            _fetch("db"),
            f"remoteRef: gcp: GetSecret on {P}/db rejected as invalid (INVALID_ARGUMENT)",
        ),
    ],
)
def test_invalid_argument_of_a_read_blames_remote_ref(
    gcp_fake: SecretManagerFake, store: GcpProvider, method: str, read: RemoteRef, message: str
) -> None:
    gcp_fake.put_secret(f"{P}/db", "v1")
    gcp_fake.fail_next(1, grpc.StatusCode.INVALID_ARGUMENT, methods=[method])
    with pytest.raises(SpecError) as caught:
        store.get(read)
    assert str(caught.value) == message


def test_project_named_versions(gcp_fake: SecretManagerFake, harness: Harness) -> None:
    """The secret is what precedes the *last* "/versions/" (a project may be called versions)."""
    provider = harness.build({"projectID": "versions", "endpoint": gcp_fake.endpoint})
    with pytest.raises(SecretNotFound) as caught:
        provider.get(RemoteRef("db"))
    assert str(caught.value) == "gcp: secret projects/versions/secrets/db version latest not found"
    gcp_fake.put_secret("projects/versions/secrets/db", "v1")
    gcp_fake.set_version_state("projects/versions/secrets/db/versions/1", "DISABLED")
    with pytest.raises(ProviderError) as disabled:
        provider.get(RemoteRef("db", version="1"))
    assert str(disabled.value) == (
        "gcp: secret projects/versions/secrets/db version 1 is DISABLED: enable it, or set "
        "remoteRef.version to another version"
    )


# -- metadataPolicy: Fetch ------------------------------------------------------------------------------


def test_fetch_a_one_character_key(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    gcp_fake.put_secret(f"{P}/db", labels={"a": "x"}, annotations={"b": "y"})
    assert store.get(_fetch("db", "labels.a")) == b"x"
    assert store.get(_fetch("db", "annotations.b")) == b"y"


@pytest.mark.parametrize(("prop", "kind"), [("labels.team", "label"), ("annotations.team", "annotation")])
def test_fetch_map_of_one_value_message(
    gcp_fake: SecretManagerFake, store: GcpProvider, prop: str, kind: str
) -> None:
    gcp_fake.put_secret(f"{P}/db", labels={"team": "pay"}, annotations={"team": "pay"})
    with pytest.raises(SpecError) as caught:
        store.get_map(_fetch("db", prop))
    assert str(caught.value) == (
        f"dataFrom.extract: gcp: {kind} team of secret db is not a JSON object, so it cannot be extracted"
    )


# -- the client: channel options, log line, close -------------------------------------------------------


def test_client_channel_has_our_reconnect_backoff(
    gcp_fake: SecretManagerFake, store: GcpProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client's channel is built with CHANNEL_OPTIONS (a recovered endpoint is used again
    within seconds), not with the stock transport's options alone."""
    channels: list[list[tuple[str, Any]]] = []
    real = grpc.secure_channel

    def spy(target: str, credentials: Any, **kw: Any) -> Any:
        channels.append(list(kw.get("options") or []))
        return real(target, credentials, **kw)

    monkeypatch.setattr(grpc, "secure_channel", spy)
    gcp_fake.put_secret(f"{P}/db", "v1")
    assert store.get(RemoteRef("db")) == b"v1"
    [options] = channels
    for option in (
        ("grpc.initial_reconnect_backoff_ms", 250),
        ("grpc.min_reconnect_backoff_ms", 250),
        ("grpc.max_reconnect_backoff_ms", 5000),
    ):
        assert options.count(option) == 1


def test_client_channel_refuses_an_answer_over_the_cap(
    gcp_fake: SecretManagerFake, store: GcpProvider
) -> None:
    over = limits.PROVIDER_MAX_RESPONSE_BYTES + 1
    gcp_fake.put_secret(f"{P}/big", annotations={"a": "x" * over})
    with pytest.raises(ProviderError):
        store.get(_fetch("big", "annotations.a"))


def test_client_is_logged_once(
    gcp_fake: SecretManagerFake, store: GcpProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="secretsync.providers.gcp")
    gcp_fake.put_secret(f"{P}/db", "v1")
    store.get(RemoteRef("db"))
    store.get(RemoteRef("db"))
    assert [r.getMessage() for r in caplog.records] == [
        f"gcp: {STORE_REF} uses {ANON} at {gcp_fake.endpoint}"
    ]


def test_close_failure_is_logged_not_raised(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="secretsync.providers.gcp")
    provider = harness.build({"projectID": "proj", "endpoint": "localhost:1"})

    def close() -> None:
        raise RuntimeError("channel already gone")

    provider._client = types.SimpleNamespace(transport=types.SimpleNamespace(close=close))  # type: ignore[assignment]
    provider.close()
    [record] = caplog.records
    assert (record.levelno, record.getMessage()) == (
        logging.DEBUG,
        f"gcp: closing the client for {STORE_REF} failed",
    )
    assert record.exc_info is not None and str(record.exc_info[1]) == "channel already gone"
    assert provider._client is None


# -- the ListSecrets label filter -----------------------------------------------------------------------


def test_label_filter_quotes_backslashes_and_quotes() -> None:
    assert gcp._label_filter({"k": 'a\\b"c', "e": "1"}) == 'labels.e="1" AND labels.k="a\\\\b\\"c"'


def test_label_filter_bad_key_message() -> None:
    with pytest.raises(SpecError) as caught:
        gcp._label_filter({"bad key": "x"})
    assert str(caught.value) == "dataFrom.find.tags: 'bad key' is not a valid GCP label key"
