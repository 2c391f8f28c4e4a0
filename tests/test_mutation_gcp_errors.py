"""secretsync/providers/gcp.py: what mutation testing found untested (docs/testing.md, "Mutation testing").

Spec, credential and error messages are what a user reads on the store's status, so they are
asserted word for word: every gRPC status the fake can answer with, PERMISSION_DENIED with and
without the metadata hint, the token_uri check, ADC without a service-account email. Paths the
fake cannot produce (a RetryError wrapping a non-retryable cause, google-auth's own exceptions) use
google.api_core / google.auth exceptions built directly; the channel factory is checked with a
spy on the transport. No network beyond the local fake, no sleeps.
"""

# ruff: noqa: F811  (pytest fixtures imported from tests.test_provider_gcp are parameters here)

from __future__ import annotations

import base64
import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import google.auth.exceptions
import grpc
import pytest
from google.api_core import exceptions as gexc

from secretsync.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderUnavailable,
    SecretNotFound,
    SpecError,
)
from secretsync.providers import gcp
from secretsync.providers.base import RemoteRef, SecretKeyRef
from secretsync.providers.gcp import GcpProvider, parse_config
from tests.test_provider_gcp import (  # noqa: F401  (fixtures: harness, no_adc, store)
    Harness,
    P,
    harness,
    key_store,
    no_adc,
    service_account_json,
    store,
)

if TYPE_CHECKING:
    from tests.support.gcp_fake import SecretManagerFake

ANON = "anonymous credentials (endpoint override without auth)"
DB = f"{P}/db/versions/latest"
KEY_WHERE = "Secret key gcp-sa[key.json]"


@functools.cache
def _sa_info() -> dict[str, Any]:
    """One generated service-account key per process (RSA key generation is the slow part)."""
    info: dict[str, Any] = json.loads(service_account_json())
    return info


def _sa_raw(**overrides: Any) -> bytes:
    return json.dumps({**_sa_info(), **overrides}).encode()


def _raised(provider: GcpProvider, err: BaseException, **kw: Any) -> Exception:
    """What ``_call`` turns ``err`` (raised by the RPC) into."""

    def do(_client: Any) -> Any:
        raise err

    with pytest.raises(Exception) as caught:
        provider._call("AccessSecretVersion", DB, "remoteRef", do, **kw)
    return caught.value


# -- spec -------------------------------------------------------------------------------------------

ENDPOINT_MSG = "spec.provider.gcpsm.endpoint: must be host or host:port, without a scheme or path"
UNSUPPORTED = (
    "is not supported by secretsync: use secretRef, or omit auth for Application Default "
    "Credentials (which covers GKE Workload Identity)"
)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "spec.provider.gcpsm.projectID: is required"),
        ({"projectID": ""}, "spec.provider.gcpsm.projectID: is required"),
        ({"projectID": "p", "endpoint": "https://host:1"}, ENDPOINT_MSG),
        ({"projectID": "p", "endpoint": "host:1/v1"}, ENDPOINT_MSG),
        ({"projectID": "p", "endpoint": "host/"}, ENDPOINT_MSG),
        ({"projectID": "p", "endpoint": "   "}, ENDPOINT_MSG),
        ({"projectID": "p", "auth": "key.json"}, "spec.provider.gcpsm.auth: must be an object"),
        ({"projectID": "p", "auth": ["secretRef"]}, "spec.provider.gcpsm.auth: must be an object"),
        (
            {"projectID": "p", "auth": {"workloadIdentity": {"clusterName": "c"}}},
            f"spec.provider.gcpsm.auth.workloadIdentity: {UNSUPPORTED}",
        ),
        (
            {"projectID": "p", "auth": {"secretRef": {}, "workloadIdentityFederation": {"a": 1}}},
            f"spec.provider.gcpsm.auth.workloadIdentityFederation: {UNSUPPORTED}",
        ),
        (
            {"projectID": "p", "auth": {"secretRef": {}}},
            "spec.provider.gcpsm.auth.secretRef.secretAccessKeySecretRef: is required",
        ),
        (
            {"projectID": "p", "auth": {"secretRef": "gcp-sa"}},
            "spec.provider.gcpsm.auth.secretRef.secretAccessKeySecretRef: is required",
        ),
    ],
)
def test_parse_config_messages(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_config(spec)
    assert str(caught.value) == message


@pytest.mark.parametrize("endpoint", ["localhost:8443", "secretmanager.googleapis.com", "[::1]:443"])
def test_parse_config_accepts_host_and_port(endpoint: str) -> None:
    config = parse_config({"projectID": "p", "endpoint": endpoint})
    assert (config.endpoint, config.endpoint_overridden) == (endpoint, True)


# -- service-account keys: token_uri, scopes --------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "https://oauth2.googleapis.com/token",
        "https://OAUTH2.GoogleAPIs.com/token",
        "https://accounts.google.com/o/oauth2/token",  # keys issued before 2019
        "https://www.googleapis.com/oauth2/v4/token",
        "https://sts.googleapis.com/v1/token",
        "https://oauth2.googleapis.com:443/token",
    ],
)
def test_google_token_uris_are_accepted(uri: str) -> None:
    assert gcp._is_google_token_uri(uri)
    credentials, identity = gcp.service_account_credentials(
        _sa_raw(token_uri=uri), SecretKeyRef("gcp-sa", "key.json")
    )
    assert identity == f"service account {_sa_info()['client_email']}"
    assert credentials._token_uri == uri  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "uri",
    [
        "http://oauth2.googleapis.com/token",  # not https: the signed assertion would go in clear
        "http://accounts.google.com/o/oauth2/token",
        "ftp://oauth2.googleapis.com/token",
        "oauth2.googleapis.com/token",  # no scheme
        "https://evil.example/token",
        "https://oauth2.googleapis.com.evil.example/token",
        "https://oauth2.googleapis.com@evil.example/token",
        "https://googleapis.com/token",
        "https://accounts.google.com.evil.example/token",
        "https:///token",  # no host
        "https://[oauth2.googleapis.com/token",  # urlsplit raises ValueError
    ],
)
def test_other_token_uris_are_refused(uri: str) -> None:
    assert not gcp._is_google_token_uri(uri)
    with pytest.raises(ProviderAuthError) as caught:
        gcp.service_account_credentials(_sa_raw(token_uri=uri), SecretKeyRef("gcp-sa", "key.json"))
    assert str(caught.value) == (
        f"gcp: service-account key in {KEY_WHERE} has a token_uri that is not an https Google endpoint"
    )


def test_service_account_credentials_are_scoped_to_cloud_platform(
    gcp_fake: SecretManagerFake,
    harness: Harness,
) -> None:
    """As ESO's ``google.CredentialsFromJSON(ctx, key, CloudPlatformRole)``: the key is scoped, and
    the self-signed JWT the client sends carries that scope."""
    credentials, _identity = gcp.service_account_credentials(_sa_raw(), SecretKeyRef("gcp-sa", "key.json"))
    assert credentials.scopes == [gcp.CLOUD_PLATFORM]  # type: ignore[attr-defined]
    gcp_fake.put_secret(f"{P}/db", "v1")
    provider = key_store(harness, gcp_fake.endpoint, _sa_raw())
    assert provider.get(RemoteRef("db")) == b"v1"
    [call] = gcp_fake.call_log
    scheme, _, token = call.authorization.partition(" ")
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert scheme == "Bearer" and claims["scope"] == gcp.CLOUD_PLATFORM
    assert claims["iss"] == _sa_info()["client_email"]


# -- Application Default Credentials ----------------------------------------------------------------


def test_no_adc_message(harness: Harness) -> None:
    provider = harness.build({"projectID": "proj"})
    with pytest.raises(ProviderAuthError) as caught:
        provider.get(RemoteRef("db"))
    assert str(caught.value) == (
        "gcp: SecretStore apps/gcp has no auth and no Application Default Credentials were found: set "
        "auth.secretRef.secretAccessKeySecretRef to a service-account key, or run with GKE Workload "
        "Identity / GOOGLE_APPLICATION_CREDENTIALS"
    )


def test_adc_service_account_is_scoped_to_cloud_platform(
    harness: Harness,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_file = tmp_path / "adc.json"
    key_file.write_bytes(_sa_raw(client_email="adc@proj.iam.gserviceaccount.com"))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    credentials, identity = harness.build({"projectID": "proj"})._credentials()
    assert identity == "application default credentials (adc@proj.iam.gserviceaccount.com)"
    assert credentials.scopes == [gcp.CLOUD_PLATFORM]  # type: ignore[attr-defined]


def test_adc_user_credentials_have_no_email(
    harness: Harness,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """gcloud's ``application-default login`` file: user credentials, which have no service-account
    email; the identity is then just "application default credentials"."""
    adc = tmp_path / "adc.json"
    adc.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "id.apps.googleusercontent.com",
                "client_secret": "s",
                "refresh_token": "r",
                "quota_project_id": "proj",
            }
        )
    )
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
    provider = harness.build({"projectID": "proj"})
    credentials, identity = provider._credentials()
    assert not hasattr(credentials, "service_account_email")
    assert identity == "application default credentials"
    assert harness.events["login"] == 1


# -- the channel --------------------------------------------------------------------------------------


def test_channel_gets_the_clients_options_then_ours(
    gcp_fake: SecretManagerFake,
    store: GcpProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real client builds its channel through our factory: CHANNEL_OPTIONS replace the
    client's options of the same name (gRPC takes the first value of a repeated option, and the
    client sets no receive limit), the client's others are kept."""
    seen: list[list[tuple[str, Any]]] = []
    real = gcp.SecretManagerServiceGrpcTransport.create_channel

    def spy(host: str, **kwargs: Any) -> Any:
        seen.append(list(kwargs.get("options") or []))
        return real(host, **kwargs)

    monkeypatch.setattr(gcp.SecretManagerServiceGrpcTransport, "create_channel", staticmethod(spy))
    gcp_fake.put_secret(f"{P}/db", "v1")
    assert store.get(RemoteRef("db")) == b"v1"
    assert seen == [[*gcp.CHANNEL_OPTIONS, ("grpc.max_send_message_length", -1)]]


def test_channel_factory_with_and_without_client_options(monkeypatch: pytest.MonkeyPatch) -> None:
    """The factory handed to the transport adds CHANNEL_OPTIONS whether or not the client passes
    options of its own."""
    created: list[tuple[str, dict[str, Any]]] = []
    factories: list[Any] = []

    class Transport:
        def __init__(self, *, channel: Any, **kwargs: Any) -> None:
            factories.append(channel)
            self.kwargs = kwargs

        @staticmethod
        def create_channel(host: str, **kwargs: Any) -> str:
            created.append((host, kwargs))
            return "channel"

    monkeypatch.setattr(gcp, "SecretManagerServiceGrpcTransport", Transport)
    transport: Any = gcp._transport(host="h:1", credentials=None)
    assert transport.kwargs == {"host": "h:1", "credentials": None}
    [factory] = factories
    assert callable(factory)
    assert factory("h:1", scopes=None) == "channel"
    assert factory("h:2", options=[("a", 1)]) == "channel"
    assert factory("h:3", options=None) == "channel"
    assert created == [
        ("h:1", {"options": list(gcp.CHANNEL_OPTIONS), "scopes": None}),
        ("h:2", {"options": [*gcp.CHANNEL_OPTIONS, ("a", 1)]}),
        ("h:3", {"options": list(gcp.CHANNEL_OPTIONS)}),
    ]


# -- error translation: every status the server can answer with -------------------------------------


@pytest.mark.parametrize(
    ("code", "kind", "message"),
    [
        ("NOT_FOUND", SecretNotFound, "gcp: secret projects/proj/secrets/db version latest not found"),
        (
            "FAILED_PRECONDITION",
            ProviderError,
            "gcp: secret projects/proj/secrets/db version latest cannot be accessed (FAILED_PRECONDITION)",
        ),
        (
            "PERMISSION_DENIED",
            ProviderAuthError,
            f"gcp: permission denied for AccessSecretVersion on {DB} as {ANON} (PERMISSION_DENIED)",
        ),
        (
            "UNAUTHENTICATED",
            ProviderAuthError,
            f"gcp: credentials rejected for AccessSecretVersion on {DB} ({ANON}; UNAUTHENTICATED)",
        ),
        ("DEADLINE_EXCEEDED", ProviderUnavailable, "unavailable"),
        ("RESOURCE_EXHAUSTED", ProviderUnavailable, "unavailable"),
        ("INTERNAL", ProviderUnavailable, "unavailable"),
        (
            "INVALID_ARGUMENT",
            SpecError,
            f"remoteRef: gcp: AccessSecretVersion on {DB} rejected as invalid (INVALID_ARGUMENT)",
        ),
        ("ABORTED", ProviderError, f"gcp: AccessSecretVersion on {DB} failed (ABORTED)"),
        ("UNIMPLEMENTED", ProviderError, f"gcp: AccessSecretVersion on {DB} failed (UNIMPLEMENTED)"),
        ("UNKNOWN", ProviderError, f"gcp: AccessSecretVersion on {DB} failed (UNKNOWN)"),
        ("DATA_LOSS", ProviderError, f"gcp: AccessSecretVersion on {DB} failed (DATA_LOSS)"),
        ("ALREADY_EXISTS", ProviderError, f"gcp: AccessSecretVersion on {DB} failed (ALREADY_EXISTS)"),
        ("OUT_OF_RANGE", ProviderError, f"gcp: AccessSecretVersion on {DB} failed (OUT_OF_RANGE)"),
    ],
)
def test_access_errors_word_for_word(
    gcp_fake: SecretManagerFake, store: GcpProvider, code: str, kind: type[Exception], message: str
) -> None:
    gcp_fake.put_secret(f"{P}/db", "v1")
    gcp_fake.fail_next(1, getattr(grpc.StatusCode, code), methods=["AccessSecretVersion"])
    with pytest.raises(Exception) as caught:
        store.get(RemoteRef("db"))
    assert type(caught.value) is kind
    if message == "unavailable":
        message = (
            f"gcp: Secret Manager at {gcp_fake.endpoint} unavailable for AccessSecretVersion on {DB} ({code})"
        )
    assert str(caught.value) == message


def test_permission_denied_hint_only_where_given(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    gcp_fake.put_secret(f"{P}/db", "v1")
    gcp_fake.fail_always(grpc.StatusCode.PERMISSION_DENIED)
    with pytest.raises(ProviderAuthError) as listed:
        store.check()
    assert str(listed.value) == (
        f"gcp: permission denied for ListSecrets on projects/proj as {ANON} (PERMISSION_DENIED)"
    )
    with pytest.raises(ProviderAuthError) as fetched:
        store.get(RemoteRef("db", metadata_policy="Fetch"))
    assert str(fetched.value) == (
        f"gcp: permission denied for GetSecret on {P}/db as {ANON} (PERMISSION_DENIED); "
        f"{gcp.METADATA_PERMISSION_HINT}"
    )


def test_not_found_of_a_resource_names_the_method(gcp_fake: SecretManagerFake, store: GcpProvider) -> None:
    with pytest.raises(SecretNotFound) as caught:
        store.get(RemoteRef("nope", metadata_policy="Fetch"))
    assert str(caught.value) == f"gcp: {P}/nope not found (GetSecret)"


# -- _call: a RetryError is translated as its cause ----------------------------------------------------

DISABLED = gexc.FailedPrecondition(f"Secret Version [{P}/db/versions/3] is in DISABLED state.")
CALL_KW = {"secret": f"{P}/db", "version": "3", "denied_hint": "ask for secretmanager.versions.access"}


@pytest.mark.parametrize(
    ("cause", "kind", "message"),
    [
        (gexc.NotFound("gone"), SecretNotFound, f"gcp: secret {P}/db version 3 not found"),
        (
            DISABLED,
            ProviderError,
            f"gcp: secret {P}/db version 3 is DISABLED: enable it, or set remoteRef.version to another "
            "version",
        ),
        (
            gexc.PermissionDenied("no"),
            ProviderAuthError,
            f"gcp: permission denied for AccessSecretVersion on {DB} as {ANON} (PERMISSION_DENIED); "
            "ask for secretmanager.versions.access",
        ),
        (
            gexc.ServiceUnavailable("down"),
            ProviderUnavailable,
            f"gcp: Secret Manager at localhost:1 unavailable for AccessSecretVersion on {DB} (UNAVAILABLE)",
        ),
    ],
)
def test_retry_error_is_translated_as_its_cause(
    harness: Harness,
    cause: Exception,
    kind: type[Exception],
    message: str,
) -> None:
    provider = harness.build({"projectID": "proj", "endpoint": "localhost:1"})
    provider._identity = ANON  # what building the client sets; no call is made
    direct = _raised(provider, cause, **CALL_KW)
    wrapped = _raised(provider, gexc.RetryError("Timeout of 3.0s exceeded", cause), **CALL_KW)
    for err in (direct, wrapped):
        assert type(err) is kind and str(err) == message


def test_retry_error_without_a_cause(harness: Harness) -> None:
    provider = harness.build({"projectID": "proj", "endpoint": "localhost:1"})
    err = _raised(provider, gexc.RetryError("Timeout", None), **CALL_KW)
    assert type(err) is ProviderError
    assert str(err) == f"gcp: AccessSecretVersion on {DB} failed (RetryError)"


@pytest.mark.parametrize(
    ("err", "kind", "message"),
    [
        (
            google.auth.exceptions.RefreshError("invalid_grant"),
            ProviderAuthError,
            f"gcp: credentials rejected for AccessSecretVersion on {DB} ({ANON}; RefreshError)",
        ),
        (
            google.auth.exceptions.TransportError("connection reset"),
            ProviderUnavailable,
            f"gcp: Secret Manager at localhost:1 unavailable for AccessSecretVersion on {DB} "
            "(TransportError)",
        ),
    ],
)
def test_google_auth_errors(
    harness: Harness,
    err: Exception,
    kind: type[Exception],
    message: str,
) -> None:
    provider = harness.build({"projectID": "proj", "endpoint": "localhost:1"})
    provider._identity = ANON
    translated = _raised(provider, err)
    assert type(translated) is kind and str(translated) == message


# -- _code_name, _reason ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("err", "name"),
    [
        (gexc.PermissionDenied("x"), "PERMISSION_DENIED"),  # api_core's ``code`` is the HTTP 403
        (gexc.NotFound("x"), "NOT_FOUND"),
        (gexc.from_grpc_status(grpc.StatusCode.DATA_LOSS, "x"), "DATA_LOSS"),
        (gexc.MethodNotAllowed("x"), "METHOD_NOT_ALLOWED"),  # HTTP-only: its ``code`` is an HTTPStatus
        (google.auth.exceptions.RefreshError("x"), "RefreshError"),
        (google.auth.exceptions.TransportError("x"), "TransportError"),
        (gexc.RetryError("x", None), "RetryError"),
        (ValueError("x"), "ValueError"),
    ],
)
def test_code_name(err: Exception, name: str) -> None:
    assert gcp._code_name(err) == name


@pytest.mark.parametrize(
    ("err", "reason"),
    [
        (
            gexc.FailedPrecondition("Secret Version [v] is in DISABLED state."),
            "Secret Version [v] is in DISABLED state.",
        ),
        (gexc.FailedPrecondition(" two\n  lines\t"), "two lines"),
        (gexc.FailedPrecondition(""), "400"),  # no message: str() is "400 "
        (ValueError("plain"), "plain"),
        (ValueError(""), "ValueError"),
        (ValueError(), "ValueError"),
        (gexc.FailedPrecondition("x" * 1024), "x" * 1024),
        (gexc.FailedPrecondition("x" * 1025), "x" * 1021 + "..."),
        (gexc.FailedPrecondition("y" * 3000), "y" * 1021 + "..."),
    ],
)
def test_reason(err: Exception, reason: str) -> None:
    assert gcp._reason(err) == reason


@pytest.mark.parametrize(
    ("state", "advice"),
    [
        ("DISABLED", "is DISABLED: enable it, or set remoteRef.version to another version"),
        (
            "DESTROYED",
            "is DESTROYED: its data is gone; add a new version or set remoteRef.version to another one",
        ),
    ],
)
def test_unusable_version_of_a_long_secret_id_names_the_state(
    gcp_fake: SecretManagerFake, store: GcpProvider, state: Literal["DISABLED", "DESTROYED"], advice: str
) -> None:
    """Secret Manager answers "Secret Version [projects/N/secrets/ID/versions/1] is in DISABLED
    state." whatever the id's length; the advice must not depend on it."""
    key = "k" * 200
    gcp_fake.put_secret(f"{P}/{key}", "v1", "v2")
    gcp_fake.set_version_state(f"{P}/{key}/versions/1", state)
    with pytest.raises(ProviderError) as caught:
        store.get(RemoteRef(key, version="1"))
    assert str(caught.value) == f"gcp: secret {P}/{key} version 1 {advice}"
