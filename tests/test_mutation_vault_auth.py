"""Mutation tests for the Vault provider's authentication and token life (vault.py from
``_translate`` on): the exact messages of failed logins, token look-ups, denials and read errors;
the namespace each token request carries; renewal and re-login decisions (half the login TTL,
renewability lost, a static token whose renewal fails); the refresh lock's non-blocking path; a
second reader recovering a token another reader already replaced; the log lines of logins,
renewals and re-authentication; and the module helpers (_seconds, _safe_reason, _gone,
_listable, _network_reason, _go_text, _names, _ref_text).

A scripted stand-in server (tests.support.rogue.RogueServer) gives the answers OpenBao cannot be
made to give; the provider's clock is a FakeClock, so nothing here waits."""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from secretsync.errors import ProviderAuthError, ProviderError, ProviderUnavailable, SecretNotFound
from secretsync.providers import vault as vault_module
from secretsync.providers.base import RemoteRef
from secretsync.providers.vault import VaultProvider, _listable, _network_reason, _safe_reason, _seconds
from tests.support.fixtures_time import FakeClock
from tests.support.rogue import RogueServer
from tests.test_provider_vault import Harness

REF = "SecretStore apps/vault"  # the Harness's store, as messages and logs name it
LOGGER = "secretsync.providers.vault"
READ = RemoteRef("app/db", property="user")
DATA = "/v1/secret/data/app/db"
LOGIN = "/v1/auth/approle/login"
RENEW = "/v1/auth/token/renew-self"
LOOKUP = "/v1/auth/token/lookup-self"

Reply = tuple[int, Any]
OK: Reply = (200, {"data": {"data": {"user": "app"}, "metadata": {"version": 1}}})
DENIED: Reply = (403, {"errors": ["permission denied"]})


class ScriptedVault:
    """A RogueServer answering by (method, path): a function of the request's token, or a list of
    answers given in turn (the last one repeated); anything else is a 404."""

    def __init__(self, rogue: RogueServer) -> None:
        self.rogue = rogue
        rogue.seen.clear()
        self.addr = self.rogue.url
        self.routes: dict[tuple[str, str], Callable[[str | None], Reply] | list[Reply]] = {}
        self.rogue.answer = self._answer

    def on(self, method: str, path: str, *replies: Reply) -> None:
        self.routes[(method, path)] = list(replies)

    def by_token(self, method: str, path: str, reply: Callable[[str | None], Reply]) -> None:
        self.routes[(method, path)] = reply

    def _answer(self, handler: Any) -> None:
        route = self.routes.get((handler.command, handler.path.partition("?")[0]))
        if route is None:
            status, body = 404, {"errors": []}
        elif callable(route):
            status, body = route(handler.headers.get("X-Vault-Token"))
        else:
            status, body = route.pop(0) if len(route) > 1 else route[0]
        self.rogue.json(status, body)(handler)

    def count(self, path: str) -> int:
        return sum(1 for seen in self.rogue.seen if seen.path.partition("?")[0] == path)

    def namespaces(self) -> list[tuple[str, str | None]]:
        return [(seen.path, seen.headers.get("X-Vault-Namespace")) for seen in self.rogue.seen]


def login_reply(
    token: str = "t1",  # noqa: S107 - a stand-in server's token
    ttl: int = 60,
    *,
    renewable: bool = True,
    policies: list[str] | None = None,
    role: str | None = "r",
) -> Reply:
    auth: dict[str, Any] = {
        "client_token": token,
        "lease_duration": ttl,
        "renewable": renewable,
        "policies": ["default", "p"] if policies is None else policies,
    }
    if role is not None:
        auth["metadata"] = {"role_name": role}
    return 200, {"auth": auth}


def renew_reply(ttl: int, *, renewable: bool = True) -> Reply:
    return 200, {"auth": {"client_token": "t1", "lease_duration": ttl, "renewable": renewable}}


def lookup_reply(ttl: int = 0, *, renewable: bool = False, policies: list[str] | None = None) -> Reply:
    return 200, {"data": {"ttl": ttl, "renewable": renewable, "policies": policies or ["default"]}}


@pytest.fixture(scope="module")
def rogue() -> Iterator[RogueServer]:
    server = RogueServer()  # one per module: its shutdown takes half a second
    yield server
    server.close()


@pytest.fixture
def vault(rogue: RogueServer) -> ScriptedVault:
    return ScriptedVault(rogue)


@pytest.fixture
def hx() -> Iterator[Harness]:
    h = Harness()
    yield h
    for provider in h.built:
        provider.close()


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(vault_module, "time", fake)
    return fake


def approle(h: Harness, addr: str, *, auth_namespace: str | None = None, **spec: Any) -> VaultProvider:
    h.credentials[("approle", "secret-id")] = b"secret-id"
    auth: dict[str, Any] = {
        "appRole": {"roleId": "role-id", "secretRef": {"name": "approle", "key": "secret-id"}}
    }
    if auth_namespace:
        auth["namespace"] = auth_namespace
    return h.build({"server": addr, "path": "secret", "auth": auth, **spec})


def static(h: Harness, addr: str, *, namespace: str | None = None) -> VaultProvider:
    """A token store whose token (``s1``) sits in Secret ``t`` key ``k`` (in ``namespace`` if given)."""
    h.credentials[("t", "k")] = b"s1\n"
    ref = {"name": "t", "key": "k", **({"namespace": namespace} if namespace else {})}
    return h.build({"server": addr, "path": "secret", "auth": {"tokenSecretRef": ref}})


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


# -- logins ------------------------------------------------------------------------------------------

WHO = "approle login at auth/approle"


@pytest.mark.parametrize(
    ("reply", "error", "message"),
    [
        ((503, {"errors": []}), ProviderUnavailable, "vault: {addr} answered 503 during " + WHO),
        ((500, {"errors": []}), ProviderUnavailable, "vault: {addr} answered 500 during " + WHO),
        ((429, {"errors": []}), ProviderUnavailable, "vault: {addr} is rate limiting (during " + WHO + ")"),
        ((503, {"errors": ["Vault is sealed"]}), ProviderUnavailable, "vault: {addr} is sealed"),
        ((404, {"errors": []}), ProviderAuthError, f"vault: {WHO} failed: no such auth mount"),
        ((405, {"errors": []}), ProviderAuthError, f"vault: {WHO} failed: error 405"),
        (
            (400, {"errors": ["invalid role or secret ID"]}),
            ProviderAuthError,
            f"vault: {WHO} failed: invalid role or secret ID",
        ),
        ((200, {"auth": None}), ProviderAuthError, f"vault: {WHO} returned no token"),
        ((200, {"auth": {"client_token": ""}}), ProviderAuthError, f"vault: {WHO} returned no token"),
    ],
    ids=["503", "500", "429", "sealed", "no-mount", "405", "bad-secret-id", "no-auth", "empty-token"],
)
def test_failed_login_messages(
    vault: ScriptedVault, hx: Harness, reply: Reply, error: type[Exception], message: str
) -> None:
    """5xx and 429 are the server's trouble (retried); anything else is the credentials' (a 404: the
    auth mount is missing)."""
    vault.on("POST", LOGIN, reply)
    with pytest.raises(ProviderError) as caught:
        approle(hx, vault.addr).get(READ)
    assert type(caught.value) is error
    assert str(caught.value) == message.format(addr=vault.addr)


def test_non_utf8_credential_is_named_by_its_secret_key(vault: ScriptedVault, hx: Harness) -> None:
    hx.credentials[("sid", "id")] = b"\xff\xfe"
    auth = {"appRole": {"roleId": "r", "secretRef": {"name": "sid", "key": "id", "namespace": "ops"}}}
    provider = hx.build({"server": vault.addr, "path": "secret", "auth": auth})
    with pytest.raises(ProviderAuthError) as caught:
        provider.get(READ)
    assert str(caught.value) == (
        "vault: Secret key ops/sid[id] is not UTF-8 text, so it cannot be a credential"
    )
    assert vault.rogue.seen == []


# -- static tokens -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "error", "message"),
    [
        (
            (401, {"errors": []}),
            ProviderAuthError,
            "vault: the token in Secret t[k] was rejected (expired, revoked, or without the default policy)",
        ),
        (
            (403, {"errors": ["permission denied"]}),
            ProviderAuthError,
            "vault: the token in Secret t[k] was rejected (expired, revoked, or without the default policy)",
        ),
        ((500, {"errors": []}), ProviderUnavailable, "vault: {addr} answered 500 looking up the token"),
        ((400, {"errors": []}), ProviderError, "vault: looking up the token failed (400)"),
    ],
    ids=["401", "403", "500", "400"],
)
def test_static_token_lookup_failures(
    vault: ScriptedVault, hx: Harness, reply: Reply, error: type[Exception], message: str
) -> None:
    vault.on("GET", LOOKUP, reply)
    with pytest.raises(ProviderError) as caught:
        static(hx, vault.addr).get(READ)
    assert type(caught.value) is error
    assert str(caught.value) == message.format(addr=vault.addr)


def test_non_renewable_static_token_never_takes_the_refresh_lock(
    vault: ScriptedVault, hx: Harness, fake_clock: FakeClock
) -> None:
    """A static token Vault will not renew has nothing to refresh, whatever TTL it reports: it is
    used as it is (until Vault rejects it), and reads never wait on the refresh lock."""
    vault.on("GET", LOOKUP, lookup_reply(60, renewable=False))
    vault.on("GET", DATA, OK)
    provider = static(hx, vault.addr)
    assert provider.get(READ) == b"app"
    lock = _RecordingLock()
    provider._lock = lock  # type: ignore[assignment]
    for now in (1, 41, 61, 5000):
        fake_clock.now = 1000.0 + now
        assert provider.get(READ) == b"app"
    assert lock.calls == []
    assert (vault.count(LOOKUP), vault.count(RENEW)) == (1, 0)


def test_renewable_static_token_whose_renewal_fails_is_kept_and_not_renewed_again(
    vault: ScriptedVault, hx: Harness, fake_clock: FakeClock
) -> None:
    """The token is the user's: when renew-self refuses, it is used as it is, and never renewed
    again (nor looked up, nor re-read) until Vault rejects it."""
    vault.on("GET", LOOKUP, lookup_reply(60, renewable=True))
    vault.on("POST", RENEW, DENIED)
    vault.on("GET", DATA, OK)
    provider = static(hx, vault.addr)
    for now, renewals in ((0, 0), (41, 1), (100, 1), (1000, 1)):
        fake_clock.now = 1000.0 + now
        assert provider.get(READ) == b"app"
        assert vault.count(RENEW) == renewals, now
    assert vault.count(LOOKUP) == 1
    assert hx.events["login"] == 0


@pytest.mark.parametrize(
    "unwell", [(500, {"errors": []}), (503, {"errors": []}), (429, {"errors": ["rate limit"]})]
)
@pytest.mark.parametrize("kind", ["static", "approle"])
def test_a_renewal_vault_cannot_answer_now_is_tried_again_and_reads_go_on(
    vault: ScriptedVault, hx: Harness, fake_clock: FakeClock, kind: str, unwell: Reply
) -> None:
    """A 5xx or 429 to renew-self is not the token's fault: reads keep using the still valid
    token, and the next use past its refresh time tries the renewal again. (A renewable static
    token once stopped renewing for good here, and expired although Vault had recovered.)"""
    vault.on("GET", LOOKUP, lookup_reply(60, renewable=True))
    vault.on("POST", LOGIN, login_reply(ttl=60))
    vault.on("POST", RENEW, unwell, unwell, renew_reply(60))
    vault.on("GET", DATA, OK)
    provider = static(hx, vault.addr) if kind == "static" else approle(hx, vault.addr)
    for now, renewals in ((0, 0), (41, 1), (45, 2), (50, 3), (55, 3), (100, 4), (102, 4)):
        fake_clock.now = 1000.0 + now
        assert provider.get(READ) == b"app"
        assert vault.count(RENEW) == renewals, now
    assert vault.count(LOGIN) == (1 if kind == "approle" else 0)


def test_a_renewal_vault_cannot_answer_when_the_token_has_expired_is_reported(
    vault: ScriptedVault, hx: Harness, fake_clock: FakeClock
) -> None:
    vault.on("GET", LOOKUP, lookup_reply(60, renewable=True))
    vault.on("POST", RENEW, (503, {"errors": []}))
    vault.on("GET", DATA, OK)
    provider = static(hx, vault.addr)
    assert provider.get(READ) == b"app"
    fake_clock.now = 1000.0 + 61
    with pytest.raises(ProviderUnavailable) as caught:
        provider.get(READ)
    assert str(caught.value) == f"vault: {vault.addr} answered 503 renewing the token"


def test_a_second_reader_with_the_replaced_static_token_takes_the_new_one(
    vault: ScriptedVault, hx: Harness
) -> None:
    """Two readers held the same token when it was revoked; the first re-read the rotated Secret.
    The second, coming back with the old token, takes the new one without a look-up or a re-read
    (the token generation tells them apart)."""
    revoked: set[str | None] = set()
    vault.by_token("GET", LOOKUP, lambda t: DENIED if t in revoked else lookup_reply(policies=["p"]))
    vault.by_token("GET", DATA, lambda t: DENIED if t in revoked else OK)
    provider = static(hx, vault.addr)
    assert provider.get(READ) == b"app"
    stale = provider._token
    assert stale is not None
    revoked.add("s1")
    hx.credentials[("t", "k")] = b"s2"
    assert provider.get(READ) == b"app"  # the first reader: rejected, looks up, re-reads the Secret
    fresh = provider._token
    assert fresh is not None and fresh.value == "s2"
    before = len(vault.rogue.seen)
    assert provider._recover(stale) is fresh  # the second reader
    assert len(vault.rogue.seen) == before


# -- denials name the identity --------------------------------------------------------------------

DENIAL = "vault: permission denied reading secret/data/app/db (check the policies of {})"


@pytest.mark.parametrize(
    ("login", "identity"),
    [
        (login_reply(), "approle role 'r' (policies: default, p)"),
        (login_reply(role=None, policies=["p"]), "the approle role (policies: p)"),
        (login_reply(policies=[]), "approle role 'r' (policies: none)"),
        (
            login_reply(policies=[f"p{i}" for i in range(1, 10)]),
            "approle role 'r' (policies: p1, p2, p3, p4, p5, p6, p7, p8)",
        ),
    ],
    ids=["role", "no-role-name", "no-policies", "nine-policies"],
)
def test_a_policy_denial_names_the_approle_identity(
    vault: ScriptedVault, hx: Harness, login: Reply, identity: str
) -> None:
    vault.on("POST", LOGIN, login)
    vault.on("GET", DATA, DENIED)
    vault.on("GET", LOOKUP, lookup_reply())
    with pytest.raises(ProviderAuthError) as caught:
        approle(hx, vault.addr).get(READ)
    assert str(caught.value) == DENIAL.format(identity)
    assert vault.count(LOGIN) == 1  # the token is alive: a policy decision, not a reason to log in


def test_a_policy_denial_names_the_static_token_and_its_policies(vault: ScriptedVault, hx: Harness) -> None:
    vault.on("GET", LOOKUP, lookup_reply(policies=["default", "reader"]))
    vault.on("GET", DATA, DENIED)
    with pytest.raises(ProviderAuthError) as caught:
        static(hx, vault.addr, namespace="ops").get(READ)
    assert str(caught.value) == DENIAL.format("the token in Secret ops/t[k] (policies: default, reader)")


def test_a_denial_before_any_token_names_the_store_credentials(hx: Harness) -> None:
    """Only a read racing close() (which drops the token) can get here: no token to describe."""
    provider = static(hx, "http://127.0.0.1:1")
    assert str(provider._denied("reading", "secret/data/app/db")) == DENIAL.format("the store's credentials")


# -- read errors ---------------------------------------------------------------------------------------

DESTROYED = {"created_time": "2024-01-01T00:00:00Z", "deletion_time": "", "destroyed": True, "version": 2}


@pytest.mark.parametrize(
    ("reply", "error", "message"),
    [
        ((400, {"errors": []}), ProviderError, "vault: reading secret/data/app/db failed (400)"),
        (
            (400, {"errors": ["unsupported path"]}),
            ProviderError,
            "vault: reading secret/data/app/db failed (400): no such path or mount",
        ),
        (
            (502, "<html>Bad Gateway</html>"),
            ProviderUnavailable,
            "vault: {addr} answered 502 reading secret/data/app/db",
        ),
        (
            (404, {"data": {"data": None, "metadata": DESTROYED}}),
            SecretNotFound,
            "vault: secret/data/app/db was destroyed",
        ),
        (
            (
                404,
                {"data": {"data": None, "metadata": {**DESTROYED, "deletion_time": "2024-01-02T00:00:00Z"}}},
            ),
            SecretNotFound,
            "vault: secret/data/app/db was destroyed",
        ),
        (
            (
                404,
                {"data": {"data": None, "metadata": {**DESTROYED, "destroyed": False, "deletion_time": "x"}}},
            ),
            SecretNotFound,
            "vault: secret/data/app/db was deleted",
        ),
    ],
    ids=["400", "400-known", "502-html", "destroyed", "deleted-then-destroyed", "deleted"],
)
def test_read_error_messages(
    vault: ScriptedVault, hx: Harness, reply: Reply, error: type[Exception], message: str
) -> None:
    vault.on("POST", LOGIN, login_reply())
    vault.on("GET", DATA, reply)
    with pytest.raises(ProviderError) as caught:
        approle(hx, vault.addr).get(READ)
    assert type(caught.value) is error
    assert str(caught.value) == message.format(addr=vault.addr)


def test_metadata_that_is_not_unicode_reads_as_go_reads_it(vault: ScriptedVault, hx: Harness) -> None:
    """A lone surrogate escape in custom_metadata (only a hostile server sends one) becomes U+FFFD,
    as Go's JSON decoder makes it, instead of failing the read."""
    vault.on("POST", LOGIN, login_reply())
    vault.on("GET", "/v1/secret/metadata/app/db", (200, {"data": {"custom_metadata": {"k": "\ud800"}}}))
    got = approle(hx, vault.addr).get(RemoteRef("app/db", property="k", metadata_policy="Fetch"))
    assert got == "\ufffd".encode()


# -- token life -----------------------------------------------------------------------------------------


def test_dead_token_on_lookup_401_logs_in_again_and_says_so(
    vault: ScriptedVault, hx: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """A 403 on a read, then 401 on lookup-self: the token is dead, so one new login and the read
    again; the logs tell the logins and the re-authentication."""
    caplog.set_level(logging.INFO, LOGGER)
    vault.on("POST", LOGIN, login_reply("t1"), login_reply("t2", 30))
    vault.by_token("GET", DATA, lambda t: DENIED if t == "t1" else OK)
    vault.on("GET", LOOKUP, (401, {"errors": ["missing client token"]}))
    assert approle(hx, vault.addr).get(READ) == b"app"
    assert (vault.count(LOGIN), vault.count(LOOKUP), vault.count(DATA)) == (2, 1, 2)
    assert messages(caplog) == [
        f"vault: {REF} logged in as approle role 'r' (token ttl 60s)",
        f"vault: the token of {REF} was rejected; authenticating again",
        f"vault: {REF} logged in as approle role 'r' (token ttl 30s)",
    ]


def test_lookup_failing_after_a_denial_is_reported_as_the_lookup(vault: ScriptedVault, hx: Harness) -> None:
    vault.on("POST", LOGIN, login_reply())
    vault.on("GET", DATA, DENIED)
    vault.on("GET", LOOKUP, (500, {"errors": []}))
    with pytest.raises(ProviderUnavailable) as caught:
        approle(hx, vault.addr).get(READ)
    assert str(caught.value) == f"vault: {vault.addr} answered 500 looking up the token"


def test_token_requests_carry_the_auth_namespace_and_reads_the_store_namespace(
    vault: ScriptedVault, hx: Harness, fake_clock: FakeClock
) -> None:
    """``auth.namespace`` is where the token lives: login, renew-self and lookup-self go there;
    secrets are read in ``spec.namespace``."""
    vault.on("POST", LOGIN, login_reply())
    vault.on("POST", RENEW, renew_reply(60))
    vault.on("GET", DATA, OK, OK, DENIED)
    vault.on("GET", LOOKUP, lookup_reply())
    provider = approle(hx, vault.addr, auth_namespace="admin", namespace="team")
    assert provider.get(READ) == b"app"
    fake_clock.now = 1041.0
    assert provider.get(READ) == b"app"
    with pytest.raises(ProviderAuthError):
        provider.get(READ)
    assert vault.namespaces() == [
        (LOGIN, "admin"),
        (DATA, "team"),
        (RENEW, "admin"),
        (DATA, "team"),
        (DATA, "team"),
        (LOOKUP, "admin"),
    ]


def test_static_token_is_looked_up_in_the_auth_namespace(vault: ScriptedVault, hx: Harness) -> None:
    vault.on("GET", LOOKUP, lookup_reply())
    vault.on("GET", DATA, OK)
    provider = hx.build(
        {
            "server": vault.addr,
            "path": "secret",
            "namespace": "team",
            "auth": {"namespace": "admin", "tokenSecretRef": {"name": "t", "key": "k"}},
        }
    )
    hx.credentials[("t", "k")] = b"s1"
    assert provider.get(READ) == b"app"
    assert vault.namespaces() == [(LOOKUP, "admin"), (DATA, "team")]


def test_a_renewal_granting_exactly_half_the_login_ttl_is_kept(
    vault: ScriptedVault, hx: Harness, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Half the login's TTL is still useful (less would mean the max TTL is near): no new login.
    The renewal is logged at debug level with the TTL granted."""
    caplog.set_level(logging.DEBUG, LOGGER)
    vault.on("POST", LOGIN, login_reply(ttl=60))
    vault.on("POST", RENEW, renew_reply(30))
    vault.on("GET", DATA, OK)
    provider = approle(hx, vault.addr)
    for now in (0, 41, 42):
        fake_clock.now = 1000.0 + now
        assert provider.get(READ) == b"app"
    assert (vault.count(LOGIN), vault.count(RENEW)) == (1, 1)
    assert f"vault: renewed the token of {REF} for 30.0s" in messages(caplog)


def test_a_renewal_that_makes_the_token_non_renewable_leads_to_a_login_next_time(
    vault: ScriptedVault, hx: Harness, fake_clock: FakeClock
) -> None:
    vault.on("POST", LOGIN, login_reply(ttl=60))
    vault.on("POST", RENEW, renew_reply(60, renewable=False))
    vault.on("GET", DATA, OK)
    provider = approle(hx, vault.addr)
    for now, calls in ((0, (1, 0)), (41, (1, 1)), (82, (2, 1)), (83, (2, 1))):
        fake_clock.now = 1000.0 + now
        assert provider.get(READ) == b"app"
        assert (vault.count(LOGIN), vault.count(RENEW)) == calls, now


class _RecordingLock:
    """The provider's refresh lock, recording each acquire's ``blocking``; while ``busy`` another
    thread is refreshing, so a non-blocking acquire fails (a blocking one waits for it: succeeds)."""

    def __init__(self) -> None:
        self.inner = threading.Lock()
        self.calls: list[bool] = []
        self.busy = False

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        self.calls.append(blocking)
        if self.busy and not blocking:
            return False
        return self.inner.acquire()

    def release(self) -> None:
        self.inner.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


@pytest.mark.parametrize(
    ("now", "acquires", "renewals"),
    [
        (41, [False], 0),  # due but valid: keep reading with it while the other thread refreshes
        (61, [True], 1),  # expired: wait for the lock, then refresh
    ],
    ids=["due", "expired"],
)
def test_refresh_while_another_thread_holds_the_lock(
    vault: ScriptedVault,
    hx: Harness,
    fake_clock: FakeClock,
    now: float,
    acquires: list[bool],
    renewals: int,
) -> None:
    vault.on("POST", LOGIN, login_reply(ttl=60))
    vault.on("POST", RENEW, renew_reply(60))
    vault.on("GET", DATA, OK)
    provider = approle(hx, vault.addr)
    assert provider.get(READ) == b"app"
    lock = _RecordingLock()
    lock.busy = True
    provider._lock = lock  # type: ignore[assignment]
    fake_clock.now = 1000.0 + now
    assert provider.get(READ) == b"app"
    assert lock.calls == acquires
    assert vault.count(RENEW) == renewals


# -- helpers -------------------------------------------------------------------------------------------

TEN_YEARS = 10 * 365 * 86400


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, 0.0),
        (0, 0.0),
        ("", 0.0),
        (60, 60.0),
        ("60", 60.0),
        (0.5, 0.5),
        (3600, 3600.0),
        ("1h", 0.0),
        ([60], 0.0),
        (-5, 0.0),
        (TEN_YEARS - 1, float(TEN_YEARS - 1)),
        (TEN_YEARS, 0.0),
    ],
)
def test_seconds(value: Any, seconds: float) -> None:
    assert _seconds(value) == seconds


REDIRECT = "redirected ({}); redirects are not followed: point server at the active node"


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (300, {"errors": ["permission denied"]}, REDIRECT.format(300)),
        (307, None, REDIRECT.format(307)),
        (399, None, REDIRECT.format(399)),
        (502, "<html>Bad Gateway</html>", None),
        (500, None, None),
        (500, ["permission denied"], None),
        (403, {"errors": ["1 error occurred:\n\t* Permission Denied\n\n"]}, "permission denied"),
        (400, {"errors": "permission denied"}, None),  # not a list: not Vault's shape
        (400, {"errors": ["invalid", "token"]}, "token not valid"),  # the errors are read as one text
        (400, {"errors": ["some text of another service"]}, None),
    ],
)
def test_safe_reason(status: int, body: Any, reason: str | None) -> None:
    assert _safe_reason(status, body) == reason


def test_listable(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, LOGGER)
    table = {
        "app": True,
        "app/": True,
        "a/X": False,
        "a/b/": False,
        "..": False,
        "../x": False,
        "a%2f": False,
    }
    assert {name: _listable(name) for name in table} == table
    assert collections.Counter(messages(caplog)) == {
        "vault: skipped a listed name that would leave its folder": 3
    }


E = requests.exceptions


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (E.SSLError("[SSL: WRONG_VERSION_NUMBER] wrong version number"), "TLS error: handshake failed"),
        (E.ConnectTimeout("Connection to 10.0.0.1 timed out. (connect timeout=5.0)"), "connection timed out"),
        (E.Timeout("Read timed out."), "no answer in time"),
        (E.ConnectionError("[Errno 111] Connection refused"), "connection refused"),
        (E.ConnectionError("Failed to resolve 'v' ([Errno -2] Name or service not known)"), "unknown host"),
        (E.ConnectionError("[Errno -3] Temporary failure in name resolution"), "unknown host"),
        (E.ConnectionError("nodename nor servname provided, or not known"), "unknown host"),
        (E.ConnectionError("('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))"),
         "connection reset"),
        (E.ConnectionError("Max retries exceeded (Caused by RemoteDisconnected('Remote end closed'))"),
         "connection closed by the server"),
        (E.ConnectionError("('Connection aborted.', OSError(107, 'Transport endpoint is not connected'))"),
         "connection closed by the server"),
        (E.ChunkedEncodingError("IncompleteRead"), "connection failed (ChunkedEncodingError)"),
    ],
    ids=["tls", "connect-timeout", "timeout", "refused", "no-host", "dns-temp", "dns-mac", "reset",
         "disconnected", "aborted", "other"],
)  # fmt: skip
def test_network_reason(exc: requests.RequestException, reason: str) -> None:
    assert _network_reason(exc) == reason
