"""The API client's token source: a bearer token read from a file is re-read as the kubelet rotates it.

Unit tests on a fake clock and a temp file; then the API adapter (``kube.KubeApi``) and kopf's login
handler against a server that refuses stale tokens (a small aiohttp app, and the API emulator with
``authenticate`` on).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import aiohttp
import kopf
import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer

from secretsync import kube, operator
from secretsync.config import Settings

OPERATOR_NS = "secretsync-system"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def write(path: Path, token: str) -> None:
    """Replace the file at once, as the kubelet swaps a projected volume's files."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(token + "\n", encoding="utf-8")
    os.replace(tmp, path)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    write(path, "first")
    return path


def source(path: Path, clock: Clock, **kwargs: Any) -> kube.TokenSource:
    return kube.TokenSource(str(path), clock=clock, **kwargs)


# ---- the token source ---------------------------------------------------------------------------


def test_the_defaults_are_client_go_s() -> None:
    """k8s.io/client-go transport.NewCachedFileTokenSource: period 1 minute, leeway 10 s."""
    assert (kube.TOKEN_PERIOD, kube.TOKEN_LEEWAY) == (60.0, 10.0)


def test_the_file_is_re_read_once_the_period_is_over(token_file: Path, clock: Clock) -> None:
    tokens = source(token_file, clock)
    assert tokens.token() == "first"
    write(token_file, "second")
    clock.now += 49.9  # period 60 s less leeway 10 s: still the token in hand
    assert tokens.token() == "first"
    clock.now += 0.1
    assert tokens.token() == "second"
    write(token_file, "third")
    clock.now += 49.9
    assert tokens.token() == "second"  # the period runs from the last read
    clock.now += 0.1
    assert tokens.token() == "third"


def test_a_seeded_token_counts_as_just_read(token_file: Path, clock: Clock) -> None:
    tokens = kube.TokenSource(str(token_file), "seed", clock=clock)
    assert tokens.token() == "seed"
    clock.now += 50
    assert tokens.token() == "first"


def test_an_unreadable_or_empty_file_keeps_the_token_in_hand(
    token_file: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    tokens = source(token_file, clock)
    assert tokens.token() == "first"
    token_file.write_text("  \n", encoding="utf-8")
    clock.now += 50
    with caplog.at_level(logging.ERROR, "secretsync.kube"):
        assert tokens.token() == "first"
    assert "empty token" in caplog.text
    token_file.unlink()
    clock.now += 50
    assert tokens.token() == "first"
    write(token_file, "second")
    clock.now += 50
    assert tokens.token() == "second"


def test_no_token_at_all_is_an_error(tmp_path: Path, clock: Clock) -> None:
    with pytest.raises(kube.ApiError) as caught:
        source(tmp_path / "missing", clock).token()
    assert caught.value.status == 401


def test_a_401_re_reads_the_file_at_once(token_file: Path, clock: Clock) -> None:
    tokens = source(token_file, clock)
    started = clock()
    assert tokens.token() == "first"
    write(token_file, "second")
    clock.now += 1  # well inside the period
    assert tokens.unauthorized("first", started) == "second"
    assert tokens.token() == "second" and tokens.failures == 0


def test_a_token_read_after_the_request_started_is_not_dropped(token_file: Path, clock: Clock) -> None:
    """client-go's ResetTokenOlderThan: a 401 for a request sent with an older token does not force
    another read; the newer token in hand is the one to retry with."""
    tokens = source(token_file, clock)
    started = clock()
    clock.now += 50
    write(token_file, "second")
    assert tokens.token() == "second"  # the periodic re-read, after the request started
    write(token_file, "third")
    assert tokens.unauthorized("first", started) == "second"


def test_a_token_that_stays_invalid_is_an_error_with_backoff(
    token_file: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    tokens = source(token_file, clock, backoff=1.0, backoff_cap=4.0)
    with caplog.at_level(logging.ERROR, "secretsync.kube"):
        assert tokens.unauthorized("first", clock()) is None
        assert (tokens.failures, tokens.backoff) == (1, 1.0)
        assert str(token_file) in caplog.text and "even after re-reading it" in caplog.text
        caplog.clear()
        # Within the backoff: not read again for a 401, and not logged again.
        write(token_file, "second")
        clock.now += 0.5
        assert tokens.unauthorized("first", clock()) is None
        assert tokens.failures == 1 and not caplog.text
        # After it: read again, and a new token is worth a retry.
        clock.now += 0.5
        assert tokens.unauthorized("first", clock()) == "second"
        # The new one is refused too: the backoff doubles, up to the cap.
        for failures, backoff in ((2, 2.0), (3, 4.0), (4, 4.0)):
            assert tokens.unauthorized("second", clock()) is None
            assert (tokens.failures, tokens.backoff) == (failures, backoff)
            clock.now += backoff
        assert caplog.text.count("rejects") == 3
        caplog.clear()
    with caplog.at_level(logging.INFO, "secretsync.kube"):
        tokens.authorized("stale")  # an answer to an older token says nothing about this one
        assert tokens.failures == 4
        tokens.authorized("second")
    assert (tokens.failures, tokens.backoff) == (0, 0.0)
    assert "accepts the token" in caplog.text


def test_a_static_token_is_never_re_read(clock: Clock) -> None:
    tokens = kube.TokenSource(None, "static", clock=clock)
    clock.now += 3600
    assert tokens.token() == tokens.refresh() == "static"
    assert tokens.unauthorized("static", clock()) is None
    assert tokens.failures == 1


def test_refresh_reads_the_file_whatever_the_period(token_file: Path, clock: Clock) -> None:
    tokens = source(token_file, clock)
    assert tokens.token() == "first"
    write(token_file, "second")
    assert tokens.refresh() == "second"


# ---- the API adapter against a server that refuses stale tokens -----------------------------------


class Server:
    """Accepts exactly one bearer token at a time; records what every request carried."""

    def __init__(self) -> None:
        self.valid = "first"
        self.seen: list[tuple[str, str, bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        self.seen.append((request.method, auth, await request.read()))
        if auth != f"Bearer {self.valid}":
            status = {"kind": "Status", "status": "Failure", "reason": "Unauthorized", "code": 401}
            return web.json_response({**status, "message": "Unauthorized"}, status=401)
        return web.json_response({"kind": "Secret", "metadata": {"name": "s"}})


@pytest.fixture
async def server() -> AsyncIterator[tuple[Server, str]]:
    state = Server()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", state.handle)
    test_server = TestServer(app)
    await test_server.start_server()
    try:
        yield state, str(test_server.make_url("")).rstrip("/")
    finally:
        await test_server.close()


async def test_kube_api_retries_a_401_once_with_the_rotated_token(
    server: tuple[Server, str], token_file: Path, clock: Clock
) -> None:
    state, url = server
    conn = kube.Connection(server=url, token="first", token_file=str(token_file))
    api = kube.KubeApi(conn, tokens=kube.TokenSource.for_connection(conn, clock=clock))
    try:
        await api.create("/api/v1/namespaces/default/secrets", {"metadata": {"name": "s"}})
        # The kubelet rotates the file; the old token dies before the period is over.
        write(token_file, "second")
        state.valid = "second"
        clock.now += 5
        await api.create("/api/v1/namespaces/default/secrets", {"metadata": {"name": "s"}})
        body = b'{"metadata": {"name": "s"}}'
        assert state.seen[1:] == [
            ("POST", "Bearer first", body),
            ("POST", "Bearer second", body),  # the same request again, body and all
        ]
        assert await api.get("/api/v1/namespaces/default/secrets/s")
        assert state.seen[-1][1] == "Bearer second" and api.tokens.failures == 0
    finally:
        await api.close()


async def test_kube_api_surfaces_a_token_that_stays_invalid(
    server: tuple[Server, str], token_file: Path, clock: Clock
) -> None:
    state, url = server
    state.valid = "revoked-for-good"
    conn = kube.Connection(server=url, token="first", token_file=str(token_file))
    api = kube.KubeApi(conn, tokens=kube.TokenSource.for_connection(conn, clock=clock))
    try:
        for _ in range(3):
            with pytest.raises(kube.ApiError) as caught:
                await api.get("/api/v1/namespaces/default/secrets/s")
            assert caught.value.status == 401
        assert len(state.seen) == 3  # no retry with the same token, no loop
        assert api.tokens.failures == 1  # once per backoff
        clock.now += api.tokens.backoff
        with pytest.raises(kube.ApiError):
            await api.get("/api/v1/namespaces/default/secrets/s")
        assert api.tokens.failures == 2
        # The kubelet writes a good token: the next 401 re-reads it (after the backoff) and recovers.
        write(token_file, "good")
        state.valid = "good"
        clock.now += api.tokens.backoff
        assert await api.get("/api/v1/namespaces/default/secrets/s")
        assert api.tokens.failures == 0
    finally:
        await api.close()


async def test_kube_api_re_reads_the_token_every_period(
    server: tuple[Server, str], token_file: Path, clock: Clock
) -> None:
    state, url = server
    conn = kube.Connection(server=url, token="first", token_file=str(token_file))
    api = kube.KubeApi(conn, tokens=kube.TokenSource.for_connection(conn, clock=clock))
    try:
        await api.get("/x")
        write(token_file, "second")
        clock.now += 50
        state.valid = "second"
        await api.get("/x")
        assert [auth for _, auth, _ in state.seen] == ["Bearer first", "Bearer second"]  # no 401
    finally:
        await api.close()


# ---- loading the configuration --------------------------------------------------------------------


def kubeconfig(path: Path, server: str, user: dict[str, str]) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u", "namespace": "team-a"}}],
        "current-context": "ctx",
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_a_kubeconfig_token_file_is_kept_to_be_re_read(tmp_path: Path) -> None:
    (tmp_path / "sa").mkdir()
    write(tmp_path / "sa" / "token", "from-file")
    path = kubeconfig(tmp_path / "config", "http://127.0.0.1:1", {"tokenFile": "sa/token", "token": "inline"})
    conn = kube.load_connection(str(path))
    # Relative to the kubeconfig, and the file wins over ``token`` (as client-go and kubectl).
    assert conn.token_file == str(tmp_path / "sa" / "token")
    assert conn.token == "from-file"
    assert conn.default_namespace == "team-a"
    static = kube.load_connection(str(kubeconfig(tmp_path / "static", "http://127.0.0.1:1", {"token": "t"})))
    assert (static.token, static.token_file) == ("t", None)


def test_in_cluster_the_service_account_token_file_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sa_dir = tmp_path / "serviceaccount"
    sa_dir.mkdir()
    write(sa_dir / "token", "projected")
    (sa_dir / "ca.crt").write_text("not checked here\n", encoding="utf-8")
    (sa_dir / "namespace").write_text("secretsync-system\n", encoding="utf-8")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    monkeypatch.setattr(kube, "SERVICE_ACCOUNT_DIR", str(sa_dir))
    conn = kube.load_connection()
    assert conn.server == "https://10.0.0.1:443"
    assert (conn.token, conn.token_file) == ("projected", str(sa_dir / "token"))
    assert conn.ca_path == str(sa_dir / "ca.crt")
    assert conn.default_namespace == "secretsync-system"
    assert kube.TokenSource.for_connection(conn).token() == "projected"


# ---- kopf's login, through the same token source --------------------------------------------------


def runtime_memo(api: kube.KubeApi) -> kopf.Memo:
    nothing = cast(Any, None)
    runtime = operator.Runtime(
        settings=Settings(),
        metrics=nothing,
        api=api,
        keys=nothing,
        sealed=nothing,
        external=nothing,
        scheduler=nothing,
        executor=nothing,
    )
    return kopf.Memo(runtime=runtime)


async def kopf_get(info: kopf.AiohttpSession, path: str) -> int:
    """A request as kopf makes it: the context's server plus the path, on the login's session."""
    async with info.aiohttp_session.get(info.server.rstrip("/") + path) as resp:
        return resp.status


async def test_login_hands_kopf_a_session_on_the_shared_token_source(
    server: tuple[Server, str], token_file: Path, clock: Clock
) -> None:
    state, url = server
    conn = kube.Connection(server=url, token="first", token_file=str(token_file), default_namespace="d")
    api = kube.KubeApi(conn, tokens=kube.TokenSource.for_connection(conn, clock=clock))
    info = await operator.login(memo=runtime_memo(api), retry=0)
    try:
        assert isinstance(info, kopf.AiohttpSession)
        assert (info.server, info.default_namespace) == (url, "d")
        assert await kopf_get(info, "/api/v1/secrets") == 200
        write(token_file, "second")
        state.valid = "second"
        clock.now += 1
        assert await kopf_get(info, "/api/v1/secrets") == 200  # 401, re-read, retried
        assert [auth for _, auth, _ in state.seen] == ["Bearer first", "Bearer first", "Bearer second"]
    finally:
        await info.aiohttp_session.close()
        await api.close()


async def test_login_re_reads_the_file_and_backs_off_while_the_token_is_refused(
    server: tuple[Server, str], token_file: Path, clock: Clock
) -> None:
    state, url = server
    conn = kube.Connection(server=url, token="first", token_file=str(token_file))
    api = kube.KubeApi(conn, tokens=kube.TokenSource.for_connection(conn, clock=clock))
    memo = runtime_memo(api)
    sessions: list[aiohttp.ClientSession] = []

    async def login(retry: int) -> kopf.AiohttpSession:
        info = await operator.login(memo=memo, retry=retry)
        assert isinstance(info, kopf.AiohttpSession)
        sessions.append(info.aiohttp_session)
        return info

    try:
        info = await login(0)
        state.valid = "other"
        assert await kopf_get(info, "/x") == 401  # the file holds the same token: kopf sees the 401
        assert api.tokens.failures == 1
        # kopf logs in again: an error (kopf logs it) with a delay, then a session after the delay.
        with pytest.raises(kopf.TemporaryError) as caught:
            await operator.login(memo=memo, retry=0)
        assert caught.value.delay == api.tokens.backoff == 1.0
        assert "rejects the token in" in str(caught.value)
        # A re-login reads the file afresh, whatever the period: the kubelet rotated it meanwhile.
        write(token_file, "other")
        info = await login(1)
        assert api.tokens.token() == "other"
        assert await kopf_get(info, "/x") == 200
        assert api.tokens.failures == 0
        assert isinstance(await operator.login(memo=memo, retry=0), kopf.AiohttpSession)
    finally:
        for session in sessions:
            await session.close()
        await api.close()


# ---- against the API emulator, with authentication on ---------------------------------------------


async def test_kube_api_survives_rotation_and_revocation_on_the_emulator(
    kube_emulator: Any, tmp_path: Path
) -> None:
    kube_emulator.ensure_namespace(OPERATOR_NS)
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "secretsync"}}
    kube_emulator.create(account, OPERATOR_NS)
    first = kube_emulator.issue_token(OPERATOR_NS, "secretsync")
    path = tmp_path / "token"
    write(path, first)
    kube_emulator.layer.authenticate = True
    api = kube.KubeApi(kube.Connection(server=kube_emulator.url, token=first, token_file=str(path)))
    secrets = kube.path_for("v1", "secrets", OPERATOR_NS)

    def body(name: str) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}}

    try:
        await api.create(secrets, body("before"))
        second = kube_emulator.issue_token(OPERATOR_NS, "secretsync")
        write(path, second)
        kube_emulator.revoke_token(first)
        await api.create(secrets, body("after"))
        assert kube_emulator.layer.unauthorized == [("POST", secrets)]  # once, then the new token
        await api.create(secrets, body("later"))
        assert len(kube_emulator.layer.unauthorized) == 1
        kube_emulator.revoke_token(second)  # and nothing better in the file
        with pytest.raises(kube.ApiError) as caught:
            await api.create(secrets, body("refused"))
        assert caught.value.status == 401
    finally:
        await api.close()
