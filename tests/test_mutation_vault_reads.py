"""secretsync/providers/vault.py: what mutation testing found untested in the provider's reads.

get / get_map (a gjson path's numbers, an extract's label), KV v1/v2 reads and versions, metadata
reads, find (tags on v1, the result and folder limits, listing the whole mount, folder names,
tags whose metadata is gone), check (the token lookup, the mount lookup, generic and unversioned
KV mounts), close (revoke-self in the auth namespace with its short time-out), and _call / _raw
(retrying after a re-login, 401 vs 403, redirects, oversized and slow answers). Messages are
asserted word for word: they are what a user reads on the store's status.

No network: the provider's connection (``vault._Connection``) is replaced by :class:`FakeVault`,
which answers from a table, parses bodies with the provider's own JSON reader and records every
request (method, path, headers, query, time-out), as a server (or the socket) would see it.
"""

# ruff: noqa: F811  (the harness fixture imported from tests.test_provider_vault is a parameter here)

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest
import requests

from secretsync import limits
from secretsync.errors import (
    NotPermitted,
    ProviderAuthError,
    ProviderError,
    ProviderUnavailable,
    SecretNotFound,
    SpecError,
)
from secretsync.providers import vault as vault_module
from secretsync.providers.base import Access, FindSpec, RemoteRef
from secretsync.providers.vault import VaultProvider
from tests.test_mutation_vault_auth import approle
from tests.test_provider_vault import Harness, harness  # noqa: F401  (fixture)

SERVER = "http://vault.test:8200"
TOKEN_SOURCE = "the token in Secret vault-token[token] (policies: p)"
LOOKUP = {"data": {"ttl": 0, "renewable": False, "policies": ["p"]}}
LOGIN = {
    "auth": {
        "client_token": "t-login",
        "lease_duration": 0,
        "renewable": False,
        "policies": ["p"],
        "metadata": {"role_name": "r"},
    }
}
SLOW = "did not finish its answer within 60s"
SILENT = "sent no answer within 30s"
STUCK = "(read time-out): the server is overloaded or stuck; retried with backoff"

Answer = tuple[int, Any] | BaseException


@dataclasses.dataclass
class Call:
    method: str
    path: str  # without the leading /v1/
    headers: dict[str, str]
    params: Any
    timeout: tuple[float, float]


class FakeVault:
    """Stands in for ``vault._Connection`` (it is the class and its one instance): answers each
    (METHOD, path) with the next of its answers (the last one repeats; unknown paths 404). An
    answer is (status, body) -- bytes are sent as they are, anything else as JSON -- or an
    exception to raise. Methods are matched upper-cased, as requests sends them."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Answer]] = {}
        self.calls: list[Call] = []
        self.closed = 0
        self.on("GET", "auth/token/lookup-self", (200, LOOKUP))
        self.on("POST", "auth/approle/login", (200, LOGIN))

    def on(self, method: str, path: str, *answers: Answer) -> None:
        self.routes[(method, path)] = list(answers)

    def __call__(self, config: Any) -> FakeVault:
        return self

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Any,
        params: Any = None,
        payload: Any = None,
        timeout: tuple[float, float] = vault_module.TIMEOUT,
    ) -> tuple[int, Any]:
        assert url.startswith("/v1/")
        path = url[len("/v1/") :]
        self.calls.append(Call(method.upper(), path, dict(headers), params, timeout))  # as sent
        answers = self.routes.get((method.upper(), path), [(404, {"errors": []})])
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, BaseException):
            raise answer
        status, body = answer
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return status, vault_module._json_or_none(raw)

    def close(self) -> None:
        self.closed += 1

    def paths(self, method: str | None = None) -> list[str]:
        return [c.path for c in self.calls if method is None or c.method == method]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeVault:
    vault = FakeVault()
    monkeypatch.setattr(vault_module, "_Connection", vault)
    return vault


def _token_store(harness: Harness, **spec: Any) -> VaultProvider:
    harness.credentials[("vault-token", "token")] = b"s.static\n"
    auth = {"tokenSecretRef": {"name": "vault-token", "key": "token"}}
    return harness.build({"server": SERVER, "path": "secret", "auth": auth, **spec})


def _kv2(data: Any) -> tuple[int, Any]:
    return 200, {"data": {"data": data, "metadata": {"version": 1}}}


def _keys(*names: str) -> tuple[int, Any]:
    return 200, {"data": {"keys": list(names)}}


def _error(call: Callable[[], object]) -> Exception:
    with pytest.raises(Exception) as caught:
        call()
    return caught.value


def _timeout(slow: bool) -> requests.ReadTimeout:
    """What _Connection.request raises: its own deadline's, or the socket read time-out's."""
    return requests.ReadTimeout(vault_module._TOO_SLOW if slow else "Read timed out. (read timeout=30.0)")


# -- the store -----------------------------------------------------------------------------------------


def test_the_store_declares_its_server(harness: Harness) -> None:
    provider = harness.build({"server": SERVER + "/", "auth": {"tokenSecretRef": {"name": "t", "key": "k"}}})
    assert provider.access == Access(servers=(("spec.provider.vault.server", SERVER),))


# -- reads ---------------------------------------------------------------------------------------------


def _fetch(key: str) -> RemoteRef:
    return RemoteRef(key, metadata_policy="Fetch")


READ_ERRORS: list[tuple[str, dict[str, Any], dict[str, Answer], RemoteRef, type, str]] = [
    (
        "key-is-the-mount",
        {},
        {},
        RemoteRef("secret"),
        SpecError,
        "remoteRef.key: 'secret' names the mount secret/, not a secret in it",
    ),
    (
        "metadata-key-is-the-mount",
        {},
        {},
        _fetch("secret"),
        SpecError,
        "remoteRef.key: 'secret' names the mount secret/, not a secret in it",
    ),
    (
        "v1-version",
        {"version": "v1"},
        {},
        RemoteRef("app/db", version="2"),
        SpecError,
        "remoteRef.version: KV v1 secrets have no versions; remove version",
    ),
    (
        "non-ascii-digit-version",  # str.isdigit() says yes; Vault's strconv.Atoi would not
        {},
        {},
        RemoteRef("app/db", version="\u0661"),
        SpecError,
        "remoteRef.version: KV v2 versions are whole numbers (0 is the latest), not '\u0661'",
    ),
    (
        "v2-null-data",
        {},
        {"secret/data/app/db": (200, {"data": {"data": None, "metadata": {"version": 2}}})},
        RemoteRef("app/db", version="2"),
        SecretNotFound,
        "vault: secret/data/app/db (version 2) not found",
    ),
    (
        "v1-no-data",
        {"version": "v1"},
        {"secret/app/db": (200, {"lease_id": ""})},
        RemoteRef("app/db"),
        SecretNotFound,
        "vault: secret/app/db not found",
    ),
    (
        "data-not-a-map",
        {},
        {"secret/data/app/db": _kv2("text")},
        RemoteRef("app/db"),
        ProviderError,
        "vault: secret/data/app/db is not a key/value secret",
    ),
    (
        "metadata-without-data",
        {},
        {"secret/metadata/app/db": (200, {"warnings": None})},
        _fetch("app/db"),
        ProviderError,
        "vault: secret/metadata/app/db answered without KV v2 metadata",
    ),
    (
        "redirect-300",
        {},
        {"secret/data/app/db": (300, {"errors": []})},
        RemoteRef("app/db"),
        ProviderError,
        "vault: reading secret/data/app/db failed (300): redirected (300); redirects are not followed: "
        "point server at the active node",
    ),
    (
        "too-large",
        {},
        {"secret/data/app/db": vault_module._TooLarge()},
        RemoteRef("app/db"),
        ProviderError,
        f"vault: {SERVER} sent more than 4 MiB for one request; refused (a KV secret is far smaller)",
    ),
    (
        "read-too-slow",
        {},
        {"secret/data/app/db": _timeout(slow=True)},
        RemoteRef("app/db"),
        ProviderUnavailable,
        f"vault: {SERVER} {SLOW} to GET /v1/secret/data/app/db {STUCK}",
    ),
    (
        "read-silent",
        {},
        {"secret/data/app/db": _timeout(slow=False)},
        RemoteRef("app/db"),
        ProviderUnavailable,
        f"vault: {SERVER} {SILENT} to GET /v1/secret/data/app/db {STUCK}",
    ),
    (
        "metadata-silent",
        {},
        {"secret/metadata/app/db": _timeout(slow=False)},
        _fetch("app/db"),
        ProviderUnavailable,
        f"vault: {SERVER} {SILENT} to GET /v1/secret/metadata/app/db {STUCK}",
    ),
]


@pytest.mark.parametrize(
    ("spec", "routes", "ref", "kind", "message"),
    [case[1:] for case in READ_ERRORS],
    ids=[case[0] for case in READ_ERRORS],
)
def test_read_errors(
    fake: FakeVault,
    harness: Harness,
    spec: dict[str, Any],
    routes: dict[str, Answer],
    ref: RemoteRef,
    kind: type,
    message: str,
) -> None:
    for path, answer in routes.items():
        fake.on("GET", path, answer)
    error = _error(lambda: _token_store(harness, **spec).get(ref))
    assert type(error) is kind
    assert str(error) == message


def test_a_property_path_gives_numbers_as_gjson_prints_them_and_an_exact_key_as_sent(
    fake: FakeVault, harness: Harness
) -> None:
    """ESO: an exact key is ``GetByteValue`` of the json.Number (its text); a gjson path is gjson's
    ``String()``, Go's FormatFloat of the float64."""
    fake.on("GET", "secret/data/app/db", _kv2({"db": {"n": 1e-7}, "db.n": 2.50}))
    vault = _token_store(harness)
    assert vault.get(RemoteRef("app/db", property="db.n")) == b"2.5"  # exact key first
    fake.on("GET", "secret/data/app/n", (200, b'{"data": {"data": {"db": {"n": 1e-7, "m": 1.50}}}}'))
    assert vault.get(RemoteRef("app/n", property="db.n")) == b"0.0000001"
    assert vault.get(RemoteRef("app/n", property="db.m")) == b"1.5"
    assert vault.get(RemoteRef("app/n")) == b'{"db":{"m":1.50,"n":1e-7}}'


@pytest.mark.parametrize(
    ("prop", "where"),
    [(None, "vault: secret/data/app/db"), ("db", "vault: secret/data/app/db property 'db'")],
)
def test_get_map_names_the_secret_and_only_a_given_property(
    fake: FakeVault, harness: Harness, prop: str | None, where: str
) -> None:
    """A number beyond float64 fails Go's json.Unmarshal (ESO: "unable to unmarshal secret")."""
    fake.on("GET", "secret/data/app/db", (200, b'{"data": {"data": {"n": 1e400, "db": {"n": 1e400}}}}'))
    error = _error(lambda: _token_store(harness).get_map(RemoteRef("app/db", property=prop)))
    assert type(error) is SpecError
    assert str(error) == f"dataFrom.extract: {where} is not a JSON object, so it cannot be extracted"


# -- find ----------------------------------------------------------------------------------------------


def test_find_by_tags_on_a_kv1_store_is_refused(fake: FakeVault, harness: Harness) -> None:
    error = _error(lambda: _token_store(harness, version="v1").find(FindSpec(path="app", tags={"a": "b"})))
    assert type(error) is SpecError
    assert str(error) == "dataFrom.find.tags: finding by tags needs KV v2 metadata; this store is v1"
    assert fake.calls == []


def test_find_without_path_lists_the_whole_mount(fake: FakeVault, harness: Harness) -> None:
    fake.on("LIST", "secret/metadata/", _keys("a", "dir/"))
    fake.on("LIST", "secret/metadata/dir/", _keys("b"))
    fake.on("GET", "secret/data/a", _kv2({"k": "1"}))
    fake.on("GET", "secret/data/dir/b", _kv2({"k": "2"}))
    assert _token_store(harness).find(FindSpec()) == {"a": b'{"k":"1"}', "dir/b": b'{"k":"2"}'}
    assert fake.paths("LIST") == ["secret/metadata/", "secret/metadata/dir/"]


def test_find_follows_folders_whose_names_end_in_any_letter(fake: FakeVault, harness: Harness) -> None:
    fake.on("LIST", "secret/metadata/app/", _keys("appX/"))
    fake.on("LIST", "secret/metadata/app/appX/", _keys("k"))
    fake.on("GET", "secret/data/app/appX/k", _kv2({"v": "x"}))
    assert _token_store(harness).find(FindSpec(path="app")) == {"app/appX/k": b'{"v":"x"}'}


def test_find_path_errors_name_the_find_path(fake: FakeVault, harness: Harness) -> None:
    vault = harness.build({"server": SERVER, "auth": {"tokenSecretRef": {"name": "t", "key": "k"}}})
    error = _error(lambda: vault.find(FindSpec(path="sys/mounts")))
    assert type(error) is NotPermitted
    assert str(error) == (
        "dataFrom.find.path: sys/ is Vault's own API, not a secrets mount; keys are read from KV mounts "
        "only (a store should set path to its mount)"
    )


@pytest.mark.parametrize(("count", "ok"), [(2, True), (3, False)])
def test_find_returns_at_most_the_result_limit(
    fake: FakeVault, harness: Harness, monkeypatch: pytest.MonkeyPatch, count: int, ok: bool
) -> None:
    monkeypatch.setattr(limits, "FIND_MAX_RESULTS", 2)
    names = [f"s{i}" for i in range(count)]
    fake.on("LIST", "secret/metadata/app/", _keys(*names))
    for name in names:
        fake.on("GET", f"secret/data/app/{name}", _kv2({"n": name}))
    find = lambda: _token_store(harness).find(FindSpec(path="app"))  # noqa: E731
    if ok:
        assert list(find()) == ["app/s0", "app/s1"]
        return
    error = _error(find)
    assert type(error) is SpecError
    assert (
        str(error)
        == "dataFrom.find: matches more than 2 remote secrets; narrow it with path, name.regexp or tags"
    )


@pytest.mark.parametrize(("folders", "ok"), [(2, True), (3, False)])
def test_find_lists_at_most_the_folder_limit(
    fake: FakeVault, harness: Harness, monkeypatch: pytest.MonkeyPatch, folders: int, ok: bool
) -> None:
    """The limit counts LIST requests, the first one included: 3 allows the path and 2 folders."""
    monkeypatch.setattr(limits, "FIND_MAX_LISTS", 3)
    fake.on("LIST", "secret/metadata/app/", _keys(*(f"d{i}/" for i in range(folders))))
    for i in range(folders):
        fake.on("LIST", f"secret/metadata/app/d{i}/", _keys("k"))
        fake.on("GET", f"secret/data/app/d{i}/k", _kv2({"i": i}))
    find = lambda: _token_store(harness).find(FindSpec(path="app"))  # noqa: E731
    if ok:
        assert list(find()) == ["app/d0/k", "app/d1/k"]
        return
    error = _error(find)
    assert type(error) is SpecError
    assert str(error) == "dataFrom.find.path: has more than 3 folders below it; narrow the path"
    assert len(fake.paths("LIST")) == 3


def test_find_by_tags_skips_a_secret_whose_metadata_is_gone(fake: FakeVault, harness: Harness) -> None:
    fake.on("LIST", "secret/metadata/app/", _keys("gone", "tagged"))
    fake.on("GET", "secret/metadata/app/tagged", (200, {"data": {"custom_metadata": {"team": "a"}}}))
    fake.on("GET", "secret/data/app/gone", _kv2({"v": "1"}))  # metadata 404, value still answered
    fake.on("GET", "secret/data/app/tagged", _kv2({"v": "2"}))
    assert _token_store(harness).find(FindSpec(path="app", tags={"team": "a"})) == {
        "app/tagged": b'{"v":"2"}'
    }


FIND_ERRORS: list[tuple[str, tuple[str, str], Answer, type, str]] = [
    (
        "list-silent",
        ("LIST", "secret/metadata/app/"),
        _timeout(slow=False),
        ProviderUnavailable,
        f"vault: {SERVER} {SILENT} to LIST /v1/secret/metadata/app/ {STUCK}",
    ),
    (
        "tags-metadata-400",
        ("GET", "secret/metadata/app/a"),
        (400, {"errors": ["bad"]}),
        ProviderError,
        "vault: reading metadata of secret/metadata/app/a failed (400)",
    ),
    (
        "tags-metadata-silent",
        ("GET", "secret/metadata/app/a"),
        _timeout(slow=False),
        ProviderUnavailable,
        f"vault: {SERVER} {SILENT} to GET /v1/secret/metadata/app/a {STUCK}",
    ),
]


@pytest.mark.parametrize(
    ("route", "answer", "kind", "message"),
    [case[1:] for case in FIND_ERRORS],
    ids=[case[0] for case in FIND_ERRORS],
)
def test_find_errors(
    fake: FakeVault, harness: Harness, route: tuple[str, str], answer: Answer, kind: type, message: str
) -> None:
    fake.on("LIST", "secret/metadata/app/", _keys("a"))
    fake.on(*route, answer)
    error = _error(lambda: _token_store(harness).find(FindSpec(path="app", tags={"t": "v"})))
    assert type(error) is kind
    assert str(error) == message


# -- check ---------------------------------------------------------------------------------------------


def _ui_mount(info: Any) -> tuple[int, Any]:
    return 200, {"data": info}


CHECK_ERRORS: list[tuple[str, dict[str, Any], tuple[str, str], Answer, type, str]] = [
    (
        "no-mount-lookup-400",
        {"path": None},
        ("GET", "auth/token/lookup-self"),
        (400, {"errors": []}),
        ProviderError,
        "vault: looking up the token failed (400)",
    ),
    (
        "no-mount-lookup-500",
        {"path": None},
        ("GET", "auth/token/lookup-self"),
        (500, {"errors": []}),
        ProviderUnavailable,
        f"vault: {SERVER} answered 500 looking up the token",
    ),
    (
        "no-mount-lookup-silent",
        {"path": None},
        ("GET", "auth/token/lookup-self"),
        _timeout(slow=False),
        ProviderUnavailable,
        f"vault: {SERVER} {SILENT} to GET /v1/auth/token/lookup-self {STUCK}",
    ),
    (
        "mount-lookup-400",
        {},
        ("GET", "sys/internal/ui/mounts/secret"),
        (400, {"errors": []}),
        ProviderError,
        "vault: looking up mount secret/ failed (400)",
    ),
    (
        "mount-lookup-silent",
        {},
        ("GET", "sys/internal/ui/mounts/secret"),
        _timeout(slow=False),
        ProviderUnavailable,
        f"vault: {SERVER} {SILENT} to GET /v1/sys/internal/ui/mounts/secret {STUCK}",
    ),
    (
        "kv-without-version-is-v1",
        {},
        ("GET", "sys/internal/ui/mounts/secret"),
        _ui_mount({"type": "kv", "options": {}}),
        SpecError,
        "spec.provider.vault.version: mount secret/ is KV v1 but the store says v2",
    ),
]


@pytest.mark.parametrize(
    ("spec", "route", "answer", "kind", "message"),
    [case[1:] for case in CHECK_ERRORS],
    ids=[case[0] for case in CHECK_ERRORS],
)
def test_check_errors(
    fake: FakeVault,
    harness: Harness,
    spec: dict[str, Any],
    route: tuple[str, str],
    answer: Answer,
    kind: type,
    message: str,
) -> None:
    """AppRole, so the token lookup in check() is check's own (a static token's first lookup is not)."""
    fake.on(*route, answer)
    error = _error(approle(harness, SERVER, **spec).check)
    assert type(error) is kind
    assert str(error) == message


def test_check_without_access_under_the_mount(fake: FakeVault, harness: Harness) -> None:
    fake.on("GET", "sys/internal/ui/mounts/secret", (403, {"errors": ["permission denied"]}))
    error = _error(_token_store(harness).check)
    assert type(error) is ProviderAuthError
    assert str(error) == (
        f"vault: {TOKEN_SOURCE} has no access under mount secret/ "
        "(no policy grants anything there, or there is no such mount)"
    )


@pytest.mark.parametrize(
    ("info", "version"),
    [
        ({"type": "generic", "options": None}, "v1"),  # kv's name before Vault 0.8
        ({"type": "kv", "options": None}, "v1"),
        ({"type": "kv", "options": {"version": "2"}}, "v2"),
    ],
)
def test_check_accepts_kv_mounts_of_the_declared_version(
    fake: FakeVault, harness: Harness, info: dict[str, Any], version: str
) -> None:
    fake.on("GET", "sys/internal/ui/mounts/secret", _ui_mount(info))
    _token_store(harness, version=version).check()


# -- close ---------------------------------------------------------------------------------------------


def test_close_revokes_in_the_auth_namespace_with_the_short_timeout(
    fake: FakeVault, harness: Harness
) -> None:
    fake.on("GET", "secret/data/app/db", _kv2({"k": "v"}))
    vault = approle(harness, SERVER, auth_namespace="admin", namespace="team-a")
    assert vault.get(RemoteRef("app/db", property="k")) == b"v"
    vault.close()
    revoke = fake.calls[-1]
    assert (revoke.method, revoke.path) == ("POST", "auth/token/revoke-self")
    assert revoke.headers == {"X-Vault-Token": "t-login", "X-Vault-Namespace": "admin"}
    assert revoke.timeout == vault_module.CLOSE_TIMEOUT
    assert fake.closed == 1


# -- _call and _raw ------------------------------------------------------------------------------------


def test_logins_and_lookups_go_to_the_auth_namespace_reads_to_the_store_namespace(
    fake: FakeVault, harness: Harness
) -> None:
    fake.on("GET", "secret/data/app/db", _kv2({"k": "v"}))
    harness.credentials[("vault-token", "token")] = b"s.static"
    vault = harness.build(
        {
            "server": SERVER,
            "path": "secret",
            "namespace": "team-a",
            "auth": {"namespace": "admin", "tokenSecretRef": {"name": "vault-token", "key": "token"}},
        }
    )
    assert vault.get(RemoteRef("app/db", property="k")) == b"v"
    assert [(c.path, c.headers.get("X-Vault-Namespace")) for c in fake.calls] == [
        ("auth/token/lookup-self", "admin"),
        ("secret/data/app/db", "team-a"),
    ]


def test_a_401_from_a_live_token_is_a_policy_denial(fake: FakeVault, harness: Harness) -> None:
    fake.on("GET", "secret/data/app/db", (401, {"errors": []}))
    error = _error(lambda: _token_store(harness).get(RemoteRef("app/db")))
    assert type(error) is vault_module._PermissionDenied
    assert (
        str(error)
        == f"vault: permission denied reading secret/data/app/db (check the policies of {TOKEN_SOURCE})"
    )
    assert fake.paths() == ["auth/token/lookup-self", "secret/data/app/db", "auth/token/lookup-self"]


def test_the_retry_after_a_relogin_asks_for_the_same_version(fake: FakeVault, harness: Harness) -> None:
    fake.on("GET", "auth/token/lookup-self", (200, LOOKUP), (403, {"errors": []}), (200, LOOKUP))
    fake.on("GET", "secret/data/app/db", (403, {"errors": ["permission denied"]}), _kv2({"k": "v2"}))
    assert _token_store(harness).get(RemoteRef("app/db", property="k", version="2")) == b"v2"
    reads = [c.params for c in fake.calls if c.path == "secret/data/app/db"]
    assert reads == [{"version": "2"}, {"version": "2"}]


@pytest.mark.parametrize(
    ("status", "kind", "message"),
    [
        (
            401,
            vault_module._PermissionDenied,
            f"vault: permission denied reading secret/data/app/db (check the policies of {TOKEN_SOURCE})",
        ),
        (
            403,
            vault_module._PermissionDenied,
            f"vault: permission denied reading secret/data/app/db (check the policies of {TOKEN_SOURCE})",
        ),
        (404, SecretNotFound, "vault: secret/data/app/db not found"),
    ],
)
def test_the_retry_after_a_relogin_is_translated(
    fake: FakeVault, harness: Harness, status: int, kind: type, message: str
) -> None:
    """The token died (lookup-self 403), the store logged in again (here: re-read its token), and
    the retry's own answer decides: refused again is a denial (no third try), 404 not found."""
    fake.on("GET", "auth/token/lookup-self", (200, LOOKUP), (403, {"errors": []}), (200, LOOKUP))
    fake.on("GET", "secret/data/app/db", (403, {"errors": []}), (status, {"errors": []}))
    error = _error(lambda: _token_store(harness).get(RemoteRef("app/db")))
    assert type(error) is kind
    assert str(error) == message
    assert fake.paths().count("secret/data/app/db") == 2
