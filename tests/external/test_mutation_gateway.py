"""The gateway's reads of what a provider logs in with, pinned exactly: the namespace a credentials
Secret or a ServiceAccount is read in (SecretStore: its own; ClusterSecretStore: the ref's, else the
ExternalSecret's), the API paths and the TokenRequest sent, the tenancy rules applied before it
(audiences, the admin's mark on the ServiceAccount), and every message a user then reads in a
Ready=False status, with its error type (an API outage is transient, anything else an auth failure).
Also how providers are built (one per store identity, logged in with credentials read in the namespace
ESO reads them in, told which store they serve, judged by the tenancy rules) and closed (on the
gateway's executor, a failure logged by its type only), and how each provider call runs: within a slot
of its store and of its namespace, on the gateway's bounded pool, counted by provider, operation and
result, and tried again after the store's retryInterval (at most a minute; a fake clock here).

``_read_credential`` and ``_mint_token`` run on a provider's worker thread and reach the API on the
event loop (``Gateway._on_loop``), as they do in the operator; the API is a small in-memory fake.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from secretsync import kube, model, tenancy
from secretsync.errors import (
    KubeUnavailable,
    NotPermitted,
    ProviderAuthError,
    ProviderUnavailable,
    SecretNotFound,
    SpecError,
)
from secretsync.external import gateway as gateway_module
from secretsync.external.bulkhead import Bulkhead
from secretsync.external.gateway import Gateway, ReferentCredentials
from secretsync.metrics import Metrics
from secretsync.providers.base import Access, SecretKeyRef
from tests.support.fake_api import Inline

WORKER = "provider-worker"

STORE = model.parse_store(
    {
        "apiVersion": "external-secrets.io/v1",
        "kind": "SecretStore",
        "metadata": {"name": "vault", "namespace": "team-a"},
        "spec": {
            "provider": {
                "vault": {
                    "server": "https://vault.example:8200",
                    "path": "secret",
                    "auth": {"tokenSecretRef": {"name": "vault-token", "key": "token"}},
                }
            }
        },
    }
)
CLUSTER_STORE = model.parse_store(
    {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ClusterSecretStore",
        "metadata": {"name": "shared"},
        "spec": {
            "provider": {
                "vault": {
                    "server": "https://vault.example:8200",
                    "path": "secret",
                    "auth": {"kubernetes": {"role": "r", "serviceAccountRef": {"name": "vault-auth"}}},
                }
            }
        },
    }
)

SECRET_PATH = "/api/v1/namespaces/team-a/secrets/vault-token"
SA_PATH = "/api/v1/namespaces/team-a/serviceaccounts/vault-auth"
TOKEN_PATH = SA_PATH + "/token"
MARKED = {"metadata": {"name": "vault-auth", "annotations": {tenancy.TOKEN_SUBJECT_ANNOTATION: "true"}}}
TOKEN_REQUEST = {
    "apiVersion": "authentication.k8s.io/v1",
    "kind": "TokenRequest",
    "spec": {"audiences": ["vault"], "expirationSeconds": 600},
}


class FakeApi:
    """Objects by path; ``errors`` by (verb, path); every call recorded with the thread it ran on."""

    def __init__(self) -> None:
        self.objects: dict[str, Any] = {}
        self.answers: dict[str, Any] = {}
        self.errors: dict[tuple[str, str | None], Exception] = {}
        self.calls: list[tuple[Any, ...]] = []
        self.threads: set[int] = set()

    async def get(self, path: str) -> Any:
        self.calls.append(("get", path))
        self.threads.add(threading.get_ident())
        if ("get", path) in self.errors:
            raise self.errors[("get", path)]
        return copy.deepcopy(self.objects.get(path))

    async def create(self, path: str, body: Any) -> Any:
        self.calls.append(("create", path, copy.deepcopy(body)))
        self.threads.add(threading.get_ident())
        if ("create", path) in self.errors:
            raise self.errors[("create", path)]
        return copy.deepcopy(self.answers.get(path, {"status": {"token": "minted-jwt"}}))


def make_gateway(api: Any = None, rules: tenancy.Rules | None = None) -> Gateway:
    executor = ThreadPoolExecutor(2, thread_name_prefix="gateway-executor")
    return Gateway(api or FakeApi(), Metrics(), executor, rules or tenancy.Rules())


async def on_worker(gateway: Gateway, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` on a provider thread, the API on this loop (as a provider's build or call)."""
    loop = asyncio.get_running_loop()
    gateway._loop = loop
    with ThreadPoolExecutor(1, thread_name_prefix=WORKER) as pool:
        return await loop.run_in_executor(pool, fn, *args)


def secret(data: Any) -> dict[str, Any]:
    return {"metadata": {"name": "vault-token", "namespace": "team-a"}, "data": data}


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def assert_exactly(exc: BaseException, kind: type[BaseException], message: str) -> None:
    assert type(exc) is kind, type(exc)
    assert str(exc) == message
    assert exc.__cause__ is None


# --------------------------------------------------------------------------- _api_failure


@pytest.mark.parametrize(
    ("status", "kind"), [(0, KubeUnavailable), (503, KubeUnavailable), (403, ProviderAuthError)]
)
def test_an_api_failure_says_what_was_read_and_the_api_answer(status: int, kind: type[Exception]) -> None:
    error = Gateway._api_failure("cannot read ServiceAccount ns/app", kube.ApiError(status, "Why", "said so"))
    assert_exactly(error, kind, f"cannot read ServiceAccount ns/app: Kubernetes API {status} Why: said so")


# --------------------------------------------------------------------------- _namespace_for


@pytest.mark.parametrize(
    ("ref_ns", "es_ns"), [(None, None), (None, "app"), ("team-a", None), ("team-a", "app"), ("", "")]
)
def test_a_secret_store_reads_credentials_in_its_own_namespace(ref_ns: str | None, es_ns: str | None) -> None:
    assert Gateway._namespace_for(STORE, ref_ns, es_ns) == "team-a"


def test_a_secret_store_refuses_a_ref_naming_another_namespace() -> None:
    with pytest.raises(SpecError) as caught:
        Gateway._namespace_for(STORE, "other", "app")
    assert_exactly(
        caught.value,
        SpecError,
        "spec.provider: a SecretStore reads credentials only in its own namespace 'team-a', not 'other'",
    )


@pytest.mark.parametrize(
    ("ref_ns", "es_ns", "expected"),
    [("ops", "app", "ops"), ("ops", None, "ops"), (None, "app", "app"), ("", "app", "app")],
)
def test_a_cluster_store_reads_credentials_in_the_refs_namespace_else_the_external_secrets(
    ref_ns: str | None, es_ns: str | None, expected: str
) -> None:
    assert Gateway._namespace_for(CLUSTER_STORE, ref_ns, es_ns) == expected


@pytest.mark.parametrize(("ref_ns", "es_ns"), [(None, None), ("", ""), ("", None)])
def test_a_cluster_store_credential_without_any_namespace_is_referent(
    ref_ns: str | None, es_ns: str | None
) -> None:
    with pytest.raises(ReferentCredentials) as caught:
        Gateway._namespace_for(CLUSTER_STORE, ref_ns, es_ns)
    assert_exactly(
        caught.value,
        ReferentCredentials,
        "spec.provider: credentials are read in each ExternalSecret's namespace",
    )
    assert caught.value.path == "spec.provider"
    assert caught.value.problem == "credentials are read in each ExternalSecret's namespace"


# --------------------------------------------------------------------------- _read_credential


async def test_a_credential_is_read_on_the_loop_and_base64_decoded() -> None:
    api = FakeApi()
    api.objects[SECRET_PATH] = secret({"token": b64(b"s.\x00\xff-hunter2"), "other": b64(b"no")})
    gateway = make_gateway(api)
    value = await on_worker(
        gateway, gateway._read_credential, STORE, SecretKeyRef("vault-token", "token"), "app"
    )
    assert value == b"s.\x00\xff-hunter2"
    assert api.calls == [("get", SECRET_PATH)]
    assert api.threads == {threading.get_ident()}  # the API client is the loop's, never a worker's


async def test_an_empty_credential_is_an_empty_value_not_a_missing_key() -> None:
    api = FakeApi()
    api.objects[SECRET_PATH] = secret({"token": ""})
    gateway = make_gateway(api)
    assert (
        await on_worker(gateway, gateway._read_credential, STORE, SecretKeyRef("vault-token", "token"), None)
        == b""
    )


@pytest.mark.parametrize(
    ("ref", "es_ns", "path"),
    [
        (SecretKeyRef("creds", "k", "ops"), "app", "/api/v1/namespaces/ops/secrets/creds"),
        (SecretKeyRef("creds", "k", "ops"), None, "/api/v1/namespaces/ops/secrets/creds"),
        (SecretKeyRef("creds", "k"), "app", "/api/v1/namespaces/app/secrets/creds"),
    ],
)
async def test_a_cluster_store_credential_is_read_in_its_namespace(
    ref: SecretKeyRef, es_ns: str | None, path: str
) -> None:
    api = FakeApi()
    api.objects[path] = {"data": {"k": b64(b"v")}}
    gateway = make_gateway(api)
    assert await on_worker(gateway, gateway._read_credential, CLUSTER_STORE, ref, es_ns) == b"v"
    assert api.calls == [("get", path)]


async def test_a_referent_credential_is_not_read_without_an_external_secret() -> None:
    api = FakeApi()
    gateway = make_gateway(api)
    with pytest.raises(ReferentCredentials):
        await on_worker(gateway, gateway._read_credential, CLUSTER_STORE, SecretKeyRef("creds", "k"), None)
    assert api.calls == []


async def test_a_secret_store_credential_in_another_namespace_is_refused_unread() -> None:
    api = FakeApi()
    gateway = make_gateway(api)
    with pytest.raises(SpecError) as caught:
        await on_worker(gateway, gateway._read_credential, STORE, SecretKeyRef("creds", "k", "ops"), "team-a")
    assert str(caught.value) == (
        "spec.provider: a SecretStore reads credentials only in its own namespace 'team-a', not 'ops'"
    )
    assert api.calls == []


async def test_a_missing_credentials_secret_is_an_auth_failure() -> None:
    api = FakeApi()
    gateway = make_gateway(api)
    with pytest.raises(ProviderAuthError) as caught:
        await on_worker(gateway, gateway._read_credential, STORE, SecretKeyRef("vault-token", "token"), None)
    assert_exactly(caught.value, ProviderAuthError, "credentials Secret team-a/vault-token not found")


@pytest.mark.parametrize("data", [{"other": b64(b"x")}, {}, None], ids=["other-key", "empty", "no-data"])
async def test_a_missing_key_is_an_auth_failure_naming_it(data: Any) -> None:
    api = FakeApi()
    api.objects[SECRET_PATH] = secret(data) if data is not None else {"metadata": {"name": "vault-token"}}
    gateway = make_gateway(api)
    with pytest.raises(ProviderAuthError) as caught:
        await on_worker(gateway, gateway._read_credential, STORE, SecretKeyRef("vault-token", "token"), None)
    assert_exactly(
        caught.value, ProviderAuthError, "credentials Secret team-a/vault-token has no key 'token'"
    )


@pytest.mark.parametrize(
    ("status", "reason", "kind"),
    [
        (503, "ServiceUnavailable", KubeUnavailable),
        (429, "TooManyRequests", KubeUnavailable),
        (0, "Unreachable", KubeUnavailable),
        (403, "Forbidden", ProviderAuthError),
    ],
)
async def test_a_failed_credential_read_is_transient_or_an_auth_failure(
    status: int, reason: str, kind: type[Exception]
) -> None:
    api = FakeApi()
    api.errors[("get", SECRET_PATH)] = kube.ApiError(status, reason, "nope")
    gateway = make_gateway(api)
    with pytest.raises(kind) as caught:
        await on_worker(gateway, gateway._read_credential, STORE, SecretKeyRef("vault-token", "token"), None)
    assert_exactly(
        caught.value,
        kind,
        f"cannot read credentials Secret team-a/vault-token: Kubernetes API {status} {reason}: nope",
    )
    assert caught.value.__suppress_context__


# --------------------------------------------------------------------------- _mint_token


async def test_a_token_is_minted_for_a_marked_service_account_with_the_default_audience() -> None:
    api = FakeApi()
    api.objects[SA_PATH] = MARKED
    gateway = make_gateway(api)
    token = await on_worker(gateway, gateway._mint_token, STORE, "vault-auth", None, (), "app")
    assert token == "minted-jwt"
    assert api.calls == [("get", SA_PATH), ("create", TOKEN_PATH, TOKEN_REQUEST)]
    assert tenancy.TOKEN_LIFETIME == 600
    assert api.threads == {threading.get_ident()}


async def test_a_token_that_is_not_a_string_is_returned_as_one() -> None:
    api = FakeApi()
    api.objects[SA_PATH] = MARKED
    api.answers[TOKEN_PATH] = {"status": {"token": 12345}}
    gateway = make_gateway(api)
    assert await on_worker(gateway, gateway._mint_token, STORE, "vault-auth", "team-a", (), None) == "12345"


@pytest.mark.parametrize(
    ("requested", "granted"),
    [(("vault",), ["vault"]), (("sts",), ["sts"]), (("sts", "vault"), ["sts", "vault"])],
)
async def test_the_audiences_asked_for_are_granted_if_the_admin_allowed_them(
    requested: tuple[str, ...], granted: list[str]
) -> None:
    api = FakeApi()
    api.objects[SA_PATH] = MARKED
    gateway = make_gateway(api, tenancy.Rules(token_audiences=("sts",)))
    await on_worker(gateway, gateway._mint_token, STORE, "vault-auth", None, requested, None)
    assert api.calls[-1] == (
        "create",
        TOKEN_PATH,
        {**TOKEN_REQUEST, "spec": {**TOKEN_REQUEST["spec"], "audiences": granted}},
    )


async def test_an_audience_the_admin_did_not_allow_is_refused_before_any_api_call() -> None:
    api = FakeApi()
    api.objects[SA_PATH] = MARKED
    gateway = make_gateway(api)
    with pytest.raises(NotPermitted) as caught:
        await on_worker(
            gateway, gateway._mint_token, STORE, "vault-auth", None, ("https://kubernetes",), None
        )
    assert_exactly(
        caught.value,
        NotPermitted,
        "spec.provider.vault.auth.kubernetes.serviceAccountRef.audiences: audience 'https://kubernetes' "
        "is not allowed: stores get tokens for 'vault' unless a cluster admin lists another in "
        "--token-audiences",
    )
    assert api.calls == []


@pytest.mark.parametrize(
    ("ns", "es_ns", "where"), [("ops", "app", "ops"), ("ops", None, "ops"), (None, "app", "app")]
)
async def test_a_cluster_store_mints_in_the_refs_namespace_else_the_external_secrets(
    ns: str | None, es_ns: str | None, where: str
) -> None:
    api = FakeApi()
    path = f"/api/v1/namespaces/{where}/serviceaccounts/vault-auth"
    api.objects[path] = MARKED
    gateway = make_gateway(api)
    assert (
        await on_worker(gateway, gateway._mint_token, CLUSTER_STORE, "vault-auth", ns, (), es_ns)
        == "minted-jwt"
    )
    assert api.calls == [("get", path), ("create", f"{path}/token", TOKEN_REQUEST)]


async def test_a_referent_token_is_not_minted_without_an_external_secret() -> None:
    api = FakeApi()
    gateway = make_gateway(api)
    with pytest.raises(ReferentCredentials):
        await on_worker(gateway, gateway._mint_token, CLUSTER_STORE, "vault-auth", None, (), None)
    assert api.calls == []


async def test_a_missing_service_account_is_refused() -> None:
    api = FakeApi()
    gateway = make_gateway(api)
    with pytest.raises(NotPermitted) as caught:
        await on_worker(gateway, gateway._mint_token, STORE, "vault-auth", None, (), None)
    assert_exactly(
        caught.value,
        NotPermitted,
        "auth.kubernetes.serviceAccountRef: ServiceAccount team-a/vault-auth does not exist",
    )
    assert api.calls == [("get", SA_PATH)]


@pytest.mark.parametrize("annotations", [None, {}, {tenancy.TOKEN_SUBJECT_ANNOTATION: "false"}])
async def test_a_service_account_the_admin_did_not_mark_is_refused(annotations: Any) -> None:
    api = FakeApi()
    api.objects[SA_PATH] = {"metadata": {"name": "vault-auth", "annotations": annotations}}
    gateway = make_gateway(api)
    with pytest.raises(NotPermitted) as caught:
        await on_worker(gateway, gateway._mint_token, STORE, "vault-auth", None, (), None)
    assert_exactly(
        caught.value,
        NotPermitted,
        "auth.kubernetes.serviceAccountRef: ServiceAccount team-a/vault-auth is not marked for use by "
        "stores; an admin must annotate it secretsync.io/allow-store-tokens=true",
    )
    assert api.calls == [("get", SA_PATH)]


@pytest.mark.parametrize(
    ("status", "kind"), [(503, KubeUnavailable), (429, KubeUnavailable), (403, ProviderAuthError)]
)
async def test_a_failed_service_account_read_is_transient_or_an_auth_failure(
    status: int, kind: type[Exception]
) -> None:
    api = FakeApi()
    api.errors[("get", SA_PATH)] = kube.ApiError(status, "Bad", "no")
    gateway = make_gateway(api)
    with pytest.raises(kind) as caught:
        await on_worker(gateway, gateway._mint_token, STORE, "vault-auth", None, (), None)
    assert_exactly(
        caught.value, kind, f"cannot read ServiceAccount team-a/vault-auth: Kubernetes API {status} Bad: no"
    )
    assert api.calls == [("get", SA_PATH)]


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (kube.ApiError(503, "Bad", "no"), KubeUnavailable),
        (kube.ApiError(429, "Bad", "no"), KubeUnavailable),
        (kube.ApiError(403, "Bad", "no"), ProviderAuthError),
        (kube.NotFound(404, "Bad", "no"), ProviderAuthError),
    ],
)
async def test_a_failed_token_request_is_transient_or_an_auth_failure(
    error: kube.ApiError, kind: type[Exception]
) -> None:
    api = FakeApi()
    api.objects[SA_PATH] = MARKED
    api.errors[("create", TOKEN_PATH)] = error
    gateway = make_gateway(api)
    with pytest.raises(kind) as caught:
        await on_worker(gateway, gateway._mint_token, STORE, "vault-auth", None, (), None)
    assert_exactly(
        caught.value,
        kind,
        f"cannot mint a token for ServiceAccount team-a/vault-auth: Kubernetes API {error.status} Bad: no",
    )


@pytest.mark.parametrize(
    "answer",
    [{}, {"status": None}, {"status": {}}, {"status": {"token": ""}}, {"status": {"token": None}}],
    ids=["no-status", "null-status", "empty-status", "empty-token", "null-token"],
)
async def test_a_token_request_answered_without_a_token_is_an_auth_failure(answer: Any) -> None:
    api = FakeApi()
    api.objects[SA_PATH] = MARKED
    api.answers[TOKEN_PATH] = answer
    gateway = make_gateway(api)
    with pytest.raises(ProviderAuthError) as caught:
        await on_worker(gateway, gateway._mint_token, STORE, "vault-auth", None, (), None)
    assert_exactly(
        caught.value,
        ProviderAuthError,
        "the TokenRequest for ServiceAccount team-a/vault-auth returned no token",
    )


# --------------------------------------------------------------------------- closing providers


class FakeProvider:
    access = Access()  # what tenancy judges: nothing but its own credentials

    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail
        self.closed_on: list[str] = []

    def close(self) -> None:
        self.closed_on.append(threading.current_thread().name)
        if self.fail is not None:
            raise self.fail


async def test_a_provider_is_closed_on_the_gateways_executor(caplog: pytest.LogCaptureFixture) -> None:
    gateway = make_gateway()
    provider = FakeProvider()
    with caplog.at_level(logging.DEBUG, logger="secretsync.external"):
        await gateway.close_provider(provider)  # type: ignore[arg-type]
    assert len(provider.closed_on) == 1
    assert provider.closed_on[0].startswith("gateway-executor")
    assert caplog.record_tuples == []


async def test_a_failing_close_is_logged_by_its_type_only(caplog: pytest.LogCaptureFixture) -> None:
    gateway = make_gateway()
    provider = FakeProvider(RuntimeError("token s.canary-close"))
    with caplog.at_level(logging.DEBUG, logger="secretsync.external"):
        await gateway.close_provider(provider)  # type: ignore[arg-type]
    assert len(provider.closed_on) == 1 and provider.closed_on[0].startswith("gateway-executor")
    assert caplog.record_tuples == [
        ("secretsync.external", logging.WARNING, "closing a provider failed: RuntimeError")
    ]
    assert "canary" not in caplog.text


async def put(gateway: Gateway, key: tuple[Any, ...], provider: FakeProvider) -> None:
    assert await gateway.cache.get(key, lambda: provider, gateway.executor) is provider  # type: ignore[arg-type,return-value]


async def test_close_closes_every_cached_provider_even_after_a_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = make_gateway()
    providers = [FakeProvider(), FakeProvider(ValueError("x")), FakeProvider()]
    for i, provider in enumerate(providers):
        await put(gateway, ("SecretStore", "team-a", f"s{i}", "uid", 1, "team-a"), provider)
    with caplog.at_level(logging.DEBUG, logger="secretsync.external"):
        await gateway.close()
    assert [len(p.closed_on) for p in providers] == [1, 1, 1]
    assert caplog.record_tuples == [
        ("secretsync.external", logging.WARNING, "closing a provider failed: ValueError")
    ]


async def test_drop_store_closes_the_stores_providers_but_the_kept_generation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = make_gateway()
    old, current, other = FakeProvider(), FakeProvider(), FakeProvider()
    await put(gateway, ("SecretStore", "team-a", "vault", "uid", 1, "team-a"), old)
    await put(gateway, ("SecretStore", "team-a", "vault", "uid", 2, "team-a"), current)
    await put(gateway, ("SecretStore", "team-b", "vault", "uid", 1, "team-b"), other)
    await gateway.drop_store(("SecretStore", "team-a", "vault"), ("uid", 2))
    assert (len(old.closed_on), len(current.closed_on), len(other.closed_on)) == (1, 0, 0)
    assert gateway.cache.all() == [current, other]
    await gateway.drop_store(("SecretStore", "team-a", "vault"))
    assert (len(old.closed_on), len(current.closed_on), len(other.closed_on)) == (1, 1, 0)
    assert gateway.cache.all() == [other]
    assert caplog.record_tuples == []


# --------------------------------------------------------------------------- building a provider


class Factory:
    """Stands in for ``providers.create``: records each store context it gets and, like a provider
    that logs in from its constructor, runs ``login(context)`` on the building thread."""

    def __init__(self) -> None:
        self.login: Callable[[Any], None] | None = None
        self.access = Access()
        self.contexts: list[Any] = []
        self.built: list[FakeProvider] = []

    def __call__(self, name: str, context: Any) -> FakeProvider:
        self.contexts.append(context)
        if self.login is not None:
            self.login(context)
        provider = FakeProvider()
        provider.access = self.access
        self.built.append(provider)
        return provider


@pytest.fixture
def factory(monkeypatch: pytest.MonkeyPatch) -> Factory:
    made = Factory()
    monkeypatch.setattr(gateway_module.providers, "create", made)
    return made


def ns_path(namespace: str, resource: str, name: str) -> str:
    return f"/api/v1/namespaces/{namespace}/{resource}/{name}"


async def test_a_cluster_stores_provider_logs_in_with_what_the_external_secrets_namespace_holds(
    factory: Factory,
) -> None:
    """ESO's referent auth: a ClusterSecretStore's credential refs without a namespace are read in
    the namespace of the ExternalSecret being synced; a ref's own namespace wins; the audiences the
    provider asks for are the ones minted (the admin allowed ``sts``)."""
    api = FakeApi()
    api.objects[ns_path("app", "secrets", "creds")] = {"data": {"k": b64(b"t0k")}}
    api.objects[ns_path("app", "serviceaccounts", "vault-auth")] = MARKED
    api.objects[ns_path("ops", "serviceaccounts", "vault-auth")] = MARKED
    logged_in: list[Any] = []

    def login(context: Any) -> None:
        logged_in.append(context.read_credential(SecretKeyRef("creds", "k")))
        logged_in.append(context.mint_token("vault-auth", None, ()))
        logged_in.append(context.mint_token("vault-auth", "ops", ("sts",)))

    factory.login = login
    gateway = make_gateway(api, tenancy.Rules(token_audiences=("sts",)))  # its loop not known yet
    provider = await gateway.provider(CLUSTER_STORE, "uid-1", 3, "app")
    assert provider is factory.built[0]
    assert logged_in == [b"t0k", "minted-jwt", "minted-jwt"]
    sts = {**TOKEN_REQUEST, "spec": {**TOKEN_REQUEST["spec"], "audiences": ["sts"]}}
    assert api.calls == [
        ("get", ns_path("app", "secrets", "creds")),
        ("get", ns_path("app", "serviceaccounts", "vault-auth")),
        ("create", ns_path("app", "serviceaccounts", "vault-auth") + "/token", TOKEN_REQUEST),
        ("get", ns_path("ops", "serviceaccounts", "vault-auth")),
        ("create", ns_path("ops", "serviceaccounts", "vault-auth") + "/token", sts),
    ]


async def test_one_login_serves_a_store_and_its_external_secrets_but_referent_ones_per_namespace(
    factory: Factory,
) -> None:
    """A SecretStore's provider, built for its own check, is the one its ExternalSecrets use; a
    ClusterSecretStore logs in once per ExternalSecret namespace (its credentials are read there)."""
    gateway = make_gateway()
    checked = await gateway.provider(STORE, "uid-1", 1, None)
    assert await gateway.provider(STORE, "uid-1", 1, "team-a") is checked
    assert len(factory.built) == 1
    app = await gateway.provider(CLUSTER_STORE, "uid-2", 1, "app")
    assert await gateway.provider(CLUSTER_STORE, "uid-2", 1, "app") is app
    other = await gateway.provider(CLUSTER_STORE, "uid-2", 1, "other")
    assert other is not app
    assert len(factory.built) == 3


@pytest.mark.parametrize(
    ("store", "named"),
    [(STORE, ("SecretStore", "vault", "team-a", "SecretStore team-a/vault")),
     (CLUSTER_STORE, ("ClusterSecretStore", "shared", None, "ClusterSecretStore shared"))],
)  # fmt: skip
async def test_a_provider_is_told_which_store_it_serves_as_its_logs_and_messages_name_it(
    factory: Factory, store: model.StoreSpec, named: tuple[Any, ...]
) -> None:
    await make_gateway().provider(store, "uid-1", 1, "app")
    context = factory.contexts[0]
    assert (context.store_kind, context.store_name, context.store_namespace, context.ref) == named
    assert context.spec == store.provider_spec


AMBIENT_CLUSTER_STORE = model.parse_store(
    {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ClusterSecretStore",
        "metadata": {"name": "cloud"},
        "spec": {
            "useOperatorIdentity": True,
            "provider": {"aws": {"service": "SecretsManager", "region": "eu-west-1"}},
        },
    }
)


async def test_a_cluster_store_the_admin_opted_in_may_use_the_operators_own_identity(
    factory: Factory,
) -> None:
    factory.access = Access(ambient_identity=True)
    provider = await make_gateway().provider(AMBIENT_CLUSTER_STORE, "uid-1", 1, None)
    assert provider is factory.built[0] and factory.built[0].closed_on == []


# --------------------------------------------------------------------------- slots, the pool, metrics


async def waits_behind(gateway: Gateway, held: tuple[Any, str | None], start: Callable[[], Any]) -> bool:
    """Does ``start()`` wait while another call holds one slot of store ``held[0]`` and namespace
    ``held[1]`` (one slot per store and per namespace)? The gateway's executor runs inline, so a
    call that does not wait is done within a few turns of the loop."""
    gateway.bulkhead = Bulkhead(per_store=1, per_namespace=1)
    async with gateway.bulkhead.slot(*held):
        task = asyncio.ensure_future(start())
        for _ in range(5):
            await asyncio.sleep(0)
        waited = not task.done()
    await task
    return waited


VAULT_TEAM_A = ("SecretStore", "team-a", "vault")
SHARED = ("ClusterSecretStore", None, "shared")


@pytest.mark.parametrize(
    ("store", "es_ns", "held", "waits"),
    [
        (STORE, "team-a", (VAULT_TEAM_A, "elsewhere"), True),  # its store's slot
        (STORE, "team-a", (("SecretStore", "team-b", "vault"), "team-b"), False),  # a namesake elsewhere
        (STORE, None, (("SecretStore", "team-a", "other"), "team-a"), True),  # checked alone: its namespace
        (CLUSTER_STORE, "app", (SHARED, "elsewhere"), True),
        (CLUSTER_STORE, "app", (("SecretStore", "app", "s"), "app"), True),  # the ExternalSecret's namespace
        (CLUSTER_STORE, None, (("SecretStore", "app", "s"), None), True),  # checked alone: "(cluster)"
        (CLUSTER_STORE, "app", (("SecretStore", "app", "s"), None), False),
    ],
)
async def test_building_a_provider_takes_a_slot_of_its_store_and_of_the_namespace_it_serves(
    factory: Factory, store: model.StoreSpec, es_ns: str | None, held: tuple[Any, str | None], waits: bool
) -> None:
    gateway = Gateway(FakeApi(), Metrics(), Inline(), tenancy.Rules())  # type: ignore[arg-type]
    assert await waits_behind(gateway, held, lambda: gateway.provider(store, "uid-1", 1, es_ns)) is waits
    assert len(factory.built) == 1


@pytest.mark.parametrize(
    ("held", "waits"),
    [
        ((VAULT_TEAM_A, "elsewhere"), True),
        ((("SecretStore", "team-a", "other"), "team-a"), True),
        ((("SecretStore", "team-a", "other"), None), False),
    ],
)
async def test_a_provider_call_takes_a_slot_of_its_store_and_of_its_namespace(
    held: tuple[Any, str | None], waits: bool
) -> None:
    gateway = Gateway(FakeApi(), Metrics(), Inline(), tenancy.Rules())  # type: ignore[arg-type]

    def call() -> Any:
        return gateway.call(
            "vault", "get", lambda ref: b"v", "app/db", store=VAULT_TEAM_A, namespace="team-a"
        )

    assert await waits_behind(gateway, held, call) is waits


async def test_provider_calls_run_on_the_gateways_bounded_pool() -> None:
    gateway = make_gateway()
    thread = await gateway.call(
        "vault",
        "get",
        lambda ref: threading.current_thread().name,
        "app/db",
        store=VAULT_TEAM_A,
        namespace="a",
    )
    assert thread.startswith("gateway-executor")


def provider_calls(metrics: Metrics) -> dict[tuple[str, str, str], float]:
    """secretsync_provider_calls_total by (provider, operation, result), the series that counted."""
    return {
        (s.labels["provider"], s.labels["operation"], s.labels["result"]): s.value
        for family in metrics.registry.collect()
        for s in family.samples
        if s.name == "secretsync_provider_calls_total" and s.value
    }


@pytest.mark.parametrize(
    ("error", "result"),
    [
        (None, "ok"),
        (SecretNotFound("vault: app/db not found"), "not_found"),
        (ProviderAuthError("vault: permission denied"), "ProviderAuthError"),
        (ProviderUnavailable("vault: 503"), "ProviderUnavailable"),
        (SpecError("spec.data[0]", "bad"), "SpecError"),
    ],
)
async def test_every_provider_call_is_counted_by_provider_operation_and_result(
    error: Exception | None, result: str
) -> None:
    def get_map(ref: str) -> dict[str, bytes]:
        if error is not None:
            raise error
        return {"k": b"v"}

    gateway = make_gateway()
    try:
        await gateway.call("gcpsm", "get_map", get_map, "app/db", store=VAULT_TEAM_A, namespace="team-a")
    except type(error or Exception) as exc:
        assert exc is error
    assert provider_calls(gateway.metrics) == {("gcpsm", "get_map", result): 1.0}


def retry_settings(interval: str) -> model.RetrySettings | None:
    """A SecretStore's ``spec.retrySettings``: two more attempts, ``interval`` apart."""
    body = {
        "apiVersion": "external-secrets.io/v1",
        "kind": "SecretStore",
        "metadata": {"name": "vault", "namespace": "team-a"},
        "spec": {
            "retrySettings": {"maxRetries": 2, "retryInterval": interval},
            "provider": {"fake": {"data": []}},
        },
    }
    return model.parse_store(body).retry


@pytest.mark.parametrize(("interval", "wait"), [("250ms", 0.25), ("0s", 0.0), ("10m", 60.0)])
async def test_a_transient_failure_is_tried_again_after_the_stores_retry_interval(
    monkeypatch: pytest.MonkeyPatch, interval: str, wait: float
) -> None:
    """retrySettings.retryInterval as written (250ms is a quarter second), at most a minute."""
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(delay: float) -> None:
        waits.append(delay)
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    answers: list[Any] = [ProviderUnavailable("vault: 503"), ProviderUnavailable("vault: 503"), b"v"]

    def get(ref: str) -> bytes:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    gateway = make_gateway()
    retry = retry_settings(interval)
    got = await gateway.call(
        "vault", "get", get, "app/db", store=VAULT_TEAM_A, namespace="team-a", retry=retry
    )
    assert got == b"v"
    assert waits == [wait, wait]
    assert provider_calls(gateway.metrics) == {
        ("vault", "get", "ProviderUnavailable"): 2.0,
        ("vault", "get", "ok"): 1.0,
    }
    retries = {"provider": "vault", "event": "retry"}
    assert gateway.metrics.registry.get_sample_value("secretsync_provider_events_total", retries) == 2
