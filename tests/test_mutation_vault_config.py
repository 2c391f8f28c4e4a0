"""Vault provider, configuration and plumbing (secretsync/providers/vault.py above the provider class),
as the mutation run found them under-tested: every spec error word for word (server, path, version,
caBundle, auth methods, AppRole, Kubernetes, audiences), what a valid spec becomes (trimmed mounts and
server, auth namespace, wrapped base64 CA), ESO's key splitting and list paths, the token's due and
expiry edges, and the HTTP connection: pool size for both schemes, trust from caBundle or
REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE (never none), ``Accept-Encoding: identity``, time-outs, no
redirects, gzip answers decoded in 64 KiB steps, the 4 MiB cap and 60 s deadline at their exact
edges, NaN/Infinity as non-JSON, and the private CA file. Small local HTTP(S) servers stand in for
Vault where OpenBao cannot give the answer; the provider's clock is injected, nothing sleeps."""

# ruff: noqa: F811  (the harness fixture imported from tests.test_provider_vault is a parameter here)

from __future__ import annotations

import base64
import gzip
import json
import os
import socket
import ssl
import stat
import tempfile
import threading
from collections.abc import Iterator, Mapping
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest
import requests
import urllib3.response

from secretsync import limits
from secretsync.errors import NotPermitted, ProviderError, ProviderUnavailable, SpecError
from secretsync.providers import vault as vault_module
from secretsync.providers.base import RemoteRef
from secretsync.providers.vault import KVLayout, _Connection, _HTTPError, _json_or_none, _Token, parse_config
from tests.test_provider_vault import Harness, harness  # noqa: F401  (fixture: harness)

if TYPE_CHECKING:
    from tests.support.tls import TLSFiles

V = "spec.provider.vault"
METHODS = "tokenSecretRef, appRole, kubernetes"
TOKEN = {"tokenSecretRef": {"name": "t", "key": "k"}}
SECRET = {"name": "s", "key": "k"}


def _spec(auth: Any = None, **fields: Any) -> dict[str, Any]:
    return {"server": "http://v", "auth": TOKEN if auth is None else auth, **fields}


def _k8s(**body: Any) -> dict[str, Any]:
    return _spec({"kubernetes": {"role": "r", **body}})


# -- spec errors, word for word -------------------------------------------------------------------------

SERVER_ERROR = f"{V}.server: is required and must be an http:// or https:// URL"
CA_ERROR = f"{V}.caBundle: must be base64 of one or more PEM certificates"
ONE_OF = f"{V}.auth: set exactly one of {METHODS}"
ROLE_ID_OR_REF = f"{V}.auth.appRole: set exactly one of roleId and roleRef"
SA_NAME = f"{V}.auth.kubernetes.serviceAccountRef.name: is required"
AUDIENCES = f"{V}.auth.kubernetes.serviceAccountRef.audiences: must be a list of non-empty strings"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"server": "http://v"}, f"{V}.auth: is required: set one of {METHODS}"),
        ({"auth": TOKEN}, SERVER_ERROR),
        (_spec(server="vault:8200"), SERVER_ERROR),
        (_spec(version="V2"), f"{V}.version: must be v1 or v2, not 'V2'"),  # ESO's enum is lower case
        (_spec(caBundle="bm90IGEgY2VydA=="), CA_ERROR),  # base64 of "not a cert"
        (_spec(caBundle="abc"), CA_ERROR),  # not base64 at all (bad padding)
        (_spec({"ldap": {"u": 1}}), f"{V}.auth.ldap: is not supported by secretsync (supported: {METHODS})"),
        (_spec({}), ONE_OF),
        (_spec({"namespace": "admin"}), ONE_OF),  # a namespace is no method
        (_spec({**TOKEN, "kubernetes": {"role": "r"}}), f"{ONE_OF} (found tokenSecretRef, kubernetes)"),
        (_spec({"appRole": "role"}), f"{V}.auth.appRole: must be an object"),
        (_spec({"appRole": {"secretRef": SECRET}}), ROLE_ID_OR_REF),
        (_spec({"appRole": {"roleId": "r", "roleRef": SECRET, "secretRef": SECRET}}), ROLE_ID_OR_REF),
        (
            _spec({"appRole": {"roleId": "r"}}),
            f"{V}.auth.appRole.secretRef: is required (the Secret key holding the secret_id)",
        ),
        (_spec({"kubernetes": {"secretRef": SECRET}}), f"{V}.auth.kubernetes.role: is required"),
        (
            _k8s(),
            f"{V}.auth.kubernetes: set serviceAccountRef or secretRef "
            "(the operator's own pod token is never used)",
        ),
        (_k8s(serviceAccountRef="sa"), SA_NAME),
        (_k8s(serviceAccountRef={}), SA_NAME),
        (_k8s(serviceAccountRef={"namespace": "apps"}), SA_NAME),
        (_k8s(serviceAccountRef={"name": "sa", "audiences": "vault"}), AUDIENCES),
        (_k8s(serviceAccountRef={"name": "sa", "audiences": [""]}), AUDIENCES),
        (_k8s(serviceAccountRef={"name": "sa", "audiences": ["vault", 3]}), AUDIENCES),
    ],
)
def test_spec_errors_word_for_word(spec: Mapping[str, Any], message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_config(spec)
    assert str(caught.value) == message


# -- what a valid spec becomes ---------------------------------------------------------------------------

PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" * 3


def test_valid_spec_fields() -> None:
    config = parse_config(_spec(server="http://vaultX/", path="/Xkv/", version="v2"))
    assert (config.server, config.mount, config.kv_version, config.ca_pem) == (
        "http://vaultX",
        "Xkv",
        2,
        None,
    )
    assert parse_config(_spec(version="", caBundle="")).kv_version == 2  # empty is the default
    assert parse_config(_spec(version="v1")).kv_version == 1
    # the login's own namespace (ESO's auth.namespace) is accepted and wins over spec.namespace
    config = parse_config(_spec({**TOKEN, "namespace": "admin"}, namespace="team"))
    assert (config.namespace, config.auth_namespace) == ("team", "admin")
    # caBundle as Kubernetes writes []byte or a human pastes it: base64 wrapped at 76 columns
    assert parse_config(_spec(caBundle=base64.encodebytes(PEM).decode())).ca_pem == PEM


@pytest.mark.parametrize(
    ("auth", "mount"),
    [
        ({"appRole": {"path": "/Xrole/", "roleId": "r", "secretRef": SECRET}}, "Xrole"),
        ({"appRole": {"path": "/", "roleId": "r", "secretRef": SECRET}}, "approle"),
        ({"kubernetes": {"mountPath": "/Xk8s/", "role": "r", "secretRef": SECRET}}, "Xk8s"),
    ],
)
def test_auth_mounts_are_trimmed_of_slashes(auth: Mapping[str, Any], mount: str) -> None:
    assert parse_config(_spec(auth)).auth.mount == mount  # type: ignore[union-attr]


def test_service_account_ref_wins_over_secret_ref_like_eso() -> None:
    auth = parse_config(_k8s(serviceAccountRef={"name": "sa", "audiences": ["vault"]}, secretRef=SECRET)).auth
    assert (auth.service_account, auth.audiences, auth.secret_ref) == ("sa", ("vault",), None)  # type: ignore[union-attr]


# -- KV paths ------------------------------------------------------------------------------------------


def test_split_errors_name_the_key_field_by_default() -> None:
    with pytest.raises(SpecError) as empty:
        KVLayout(None, 2).split("/")
    assert str(empty.value) == "remoteRef.key: is empty, and the store has no path (mount) to read from"
    with pytest.raises(NotPermitted) as reserved:
        KVLayout(None, 2).split("Sys/policy")
    assert str(reserved.value) == (
        "remoteRef.key: Sys/ is Vault's own API, not a secrets mount; keys are read from KV mounts only "
        "(a store should set path to its mount)"
    )


def test_split_without_mount_takes_the_first_data_segment() -> None:
    """ESO splits at the first ``/data/``: a secret may itself have a folder called data."""
    assert KVLayout(None, 2).split("kv/data/app/data/x") == ("kv", "app/data/x")


@pytest.mark.parametrize(
    ("version", "rel", "expected"),
    [
        (2, "", "secret/metadata/"),
        (2, "a/b", "secret/metadata/a/b/"),
        (1, "", "secret/"),
        (1, "a", "secret/a/"),
    ],
)
def test_list_paths(version: int, rel: str, expected: str) -> None:
    assert KVLayout("secret", version).list_path("secret", rel) == expected


# -- token life edges ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ttl", "now", "due", "expired"),
    [
        (0, 1005.0, False, False),  # ttl 0: nothing to renew, never expires
        (1, 1001.0, True, True),  # a one-second token
        (0.5, 1000.4, True, False),
        (3, 1002.0, True, False),  # exactly 2/3 of the TTL: due
        (3, 1001.9, False, False),
        (3, 1003.0, True, True),  # exactly the TTL: expired
        (10, 1005.0, False, False),
        (10, 999.0, False, False),
    ],
)
def test_token_due_and_expired_edges(ttl: float, now: float, due: bool, expired: bool) -> None:
    token = _Token(
        "v",
        obtained=1000.0,
        ttl=ttl,
        renewable=True,
        logged_in=True,
        login_ttl=ttl,
        identity="i",
        generation=1,
    )
    assert (token.due(now), token.expired(now)) == (due, expired)


def test_http_error_carries_our_reason_only() -> None:
    err = _HTTPError(400, "no such path or mount", {"errors": ["server text"]})
    assert (str(err), err.reason, err.because) == (
        "no such path or mount",
        "no such path or mount",
        ": no such path or mount",
    )
    bare = _HTTPError(418, None, None)
    assert (bare.reason, bare.because) == ("error 418", "")


@pytest.mark.parametrize("text", [b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}', b"  \n", b"{"])
def test_non_json_answers_are_none(text: bytes) -> None:
    assert _json_or_none(text) is None


# -- a scriptable Vault stand-in ---------------------------------------------------------------------------

LOOKUP = json.dumps({"data": {"ttl": 0, "renewable": False, "policies": ["p"]}}).encode()
Answer = tuple[int, bytes, dict[str, str]]


class _Stub:
    """HTTP(S) server answering ``routes[path]`` (status, body, headers); 404 otherwise. Records requests."""

    def __init__(self, routes: Mapping[str, Answer], tls: TLSFiles | None = None) -> None:
        self.routes = {"/v1/auth/token/lookup-self": (200, LOOKUP, {}), **routes}
        self.seen: list[tuple[str, Message]] = []  # path, headers (names case-insensitive)
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                stub.seen.append((self.path, self.headers))
                status, body, headers = stub.routes.get(self.path, (404, b'{"errors": []}', {}))
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        scheme = "http"
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(tls.cert_path, tls.key_path)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            scheme = "https"
        self.addr = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def serve() -> Iterator[Any]:
    stubs: list[_Stub] = []

    def start(routes: Mapping[str, Answer], tls: TLSFiles | None = None) -> _Stub:
        stubs.append(_Stub(routes, tls))
        return stubs[-1]

    yield start
    for stub in stubs:
        stub.close()


def _secret(data: Mapping[str, Any]) -> bytes:
    return json.dumps({"data": {"data": dict(data), "metadata": {"version": 1}}}).encode()


def test_a_client_error_names_our_reason(serve: Any, harness: Harness) -> None:
    stub = serve({"/v1/secret/data/odd": (400, b'{"errors": ["1 error occurred: unsupported path"]}', {})})
    with pytest.raises(ProviderError) as caught:
        harness.token_store(stub.addr, "tok").get(RemoteRef("odd"))
    assert str(caught.value) == "vault: reading secret/data/odd failed (400): no such path or mount"


def test_redirects_are_reported_not_followed(serve: Any, harness: Harness) -> None:
    stub = serve(
        {
            "/v1/secret/data/moved": (307, b"", {"Location": "/v1/secret/data/app"}),
            "/v1/secret/data/app": (200, _secret({"k": "v"}), {}),
        }
    )
    with pytest.raises(ProviderError) as caught:
        harness.token_store(stub.addr, "tok").get(RemoteRef("moved"))
    assert str(caught.value) == (
        "vault: reading secret/data/moved failed (307): redirected (307); redirects are not followed: "
        "point server at the active node"
    )
    assert "/v1/secret/data/app" not in [path for path, _ in stub.seen]


def test_identity_encoding_is_asked_and_a_gzip_answer_is_still_decoded(serve: Any, harness: Harness) -> None:
    gzipped = gzip.compress(_secret({"k": "v"}))
    stub = serve({"/v1/secret/data/app": (200, gzipped, {"Content-Encoding": "gzip"})})
    assert harness.token_store(stub.addr, "tok").get(RemoteRef("app", property="k")) == b"v"
    # header names and content codings are case-insensitive (RFC 9110 5.1, 8.4.1): so is this check
    assert [(headers.get("accept-encoding") or "").lower() for _, headers in stub.seen] == ["identity"] * 2


def _padded(size: int) -> bytes:
    body = _secret({"k": "x" * (size - 100)})
    return body + b" " * (size - len(body))


def test_the_size_cap_is_inclusive_and_reads_are_accumulated(serve: Any, harness: Harness) -> None:
    cap = limits.PROVIDER_MAX_RESPONSE_BYTES
    stub = serve(
        {"/v1/secret/data/full": (200, _padded(cap), {}), "/v1/secret/data/over": (200, _padded(cap + 1), {})}
    )
    vault = harness.token_store(stub.addr, "tok")
    assert vault.get(RemoteRef("full", property="k")) == b"x" * (cap - 100)
    with pytest.raises(ProviderError) as caught:
        vault.get(RemoteRef("over"))
    assert str(caught.value) == (
        f"vault: {stub.addr} sent more than 4 MiB for one request; refused (a KV secret is far smaller)"
    )


def test_a_compressed_answer_expands_at_most_64_kib_per_read(
    serve: Any, harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gzip bomb is decoded in 64 KiB steps, so the cap stops it before it fills memory."""
    bomb = gzip.compress(b" " * (16 << 20))
    stub = serve({"/v1/secret/data/bomb": (200, bomb, {"Content-Encoding": "gzip"})})
    sizes: list[int] = []
    read1 = urllib3.response.HTTPResponse.read1

    def spy(self: Any, *args: Any, **kwargs: Any) -> bytes:
        chunk = read1(self, *args, **kwargs)
        sizes.append(len(chunk))
        return chunk

    monkeypatch.setattr(urllib3.response.HTTPResponse, "read1", spy)
    with pytest.raises(ProviderError, match="sent more than 4 MiB"):
        harness.token_store(stub.addr, "tok").get(RemoteRef("bomb"))
    assert max(sizes) == 64 * 1024


class _StepClock:
    """``time.monotonic()`` answering ``first``, then ``then`` (or ``step`` more on every call)."""

    def __init__(self, first: float, then: float | None = None, step: float = 0.0) -> None:
        self.now, self.then, self.step, self.calls = first, then, step, 0

    def monotonic(self) -> float:
        self.calls += 1
        if self.calls == 1:
            return self.now
        self.now = self.then if self.then is not None else self.now + self.step
        return self.now


def test_an_answer_slower_than_the_deadline_is_reported_as_such(
    serve: Any, harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub = serve({})
    monkeypatch.setattr(vault_module, "time", _StepClock(1000.0, step=61.0))
    with pytest.raises(ProviderUnavailable) as caught:
        harness.token_store(stub.addr, "tok").get(RemoteRef("app"))
    assert str(caught.value) == (
        f"vault: {stub.addr} did not finish its answer within 60s to GET /v1/auth/token/lookup-self "
        "(read time-out): the server is overloaded or stuck; retried with backoff"
    )


def test_an_answer_finished_exactly_at_the_deadline_is_accepted(
    serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub = serve({})
    connection = _Connection(parse_config(_spec(server=stub.addr)))
    monkeypatch.setattr(
        vault_module, "time", _StepClock(1000.0, then=1000.0 + limits.PROVIDER_MAX_RESPONSE_SECONDS)
    )
    try:
        assert connection.request("GET", "/v1/auth/token/lookup-self", headers={}) == (
            200,
            json.loads(LOOKUP),
        )
    finally:
        connection.close()


def test_a_silent_server_meets_the_read_timeout() -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # accepts connections (backlog), never answers
    connection = _Connection(parse_config(_spec(server=f"http://127.0.0.1:{listener.getsockname()[1]}")))
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            connection.request("GET", "/v1/sys/health", headers={}, timeout=(2.0, 0.2))
        except BaseException as exc:  # reported below
            outcome.append(exc)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(5.0)
    hung = worker.is_alive()
    listener.close()  # ends a hung request
    worker.join(5.0)
    connection.close()
    assert not hung, "no read time-out: the request waited on a silent server"
    assert [type(exc) for exc in outcome] == [requests.exceptions.ReadTimeout]


# -- the connection: pool, trust, CA file --------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_both_schemes_keep_pool_size_connections(scheme: str) -> None:
    connection = _Connection(parse_config(_spec(server=f"{scheme}://v")))
    try:
        adapter = connection.session.get_adapter(f"{scheme}://v/v1/x")
        assert adapter.poolmanager.connection_pool_kw["maxsize"] == vault_module.POOL_SIZE  # type: ignore[attr-defined]
    finally:
        connection.close()


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", None])
def test_trust_from_the_environment_or_system_roots_never_none(
    variable: str | None,
    serve: Any,
    harness: Harness,
    provider_tls: TLSFiles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    if variable:
        monkeypatch.setenv(variable, str(provider_tls.ca_path))
    stub = serve({"/v1/secret/data/app": (200, _secret({"k": "v"}), {})}, tls=provider_tls)
    vault = harness.token_store(stub.addr, "tok")
    if variable:
        assert vault.get(RemoteRef("app", property="k")) == b"v"
    else:
        with pytest.raises(ProviderUnavailable) as caught:
            vault.get(RemoteRef("app"))
        assert str(caught.value).startswith(
            f"vault: cannot reach {stub.addr}: TLS error: certificate verify failed"
        )


def test_the_ca_bundle_is_a_private_named_temp_file_removed_at_close() -> None:
    connection = _Connection(parse_config(_spec(caBundle=base64.b64encode(PEM).decode())))
    name = connection._ca_file
    assert name is not None
    try:
        assert os.path.dirname(name) == tempfile.gettempdir()
        assert os.path.basename(name).startswith("secretsync-vault-ca-")
        assert name.endswith(".pem")
        assert stat.S_IMODE(os.stat(name).st_mode) == 0o600
        with open(name, "rb") as written:
            assert written.read() == PEM
        assert connection.session.verify == name
    finally:
        connection.close()
    assert not os.path.exists(name)
    connection.close()  # a second close is harmless
