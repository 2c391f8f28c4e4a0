"""secretsync/http.py: what mutation testing found untested (docs/testing.md, "Mutation testing").

The answers' exact text, status, content type and ``Retry-After``; the token buckets on a clock
of the test's own (no sleeping: every wait is computed exactly); the answer's rendering (pretty
when shallow, compact when deep, keys in order, unicode as is); the parse worker pool.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import signal
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import yaml
from aiohttp import ClientSession
from aiohttp.test_utils import TestClient, TestServer

from secretsync import http, limits
from secretsync.errors import SpecError, UnsealError
from secretsync.metrics import CONTENT_TYPE, Metrics
from tests.support.ports import release_port, reserve_port

SEALED = {"apiVersion": "secretsync.io/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "a"}}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(http.time, "monotonic", fake)
    yield fake


# --------------------------------------------------------------------------- token buckets


def test_a_client_bucket_refills_at_its_rate(clock: Clock) -> None:
    limiter = http.RateLimiter(rate=2.0, burst=2, global_rate=1000.0, global_burst=1000)
    assert limiter.check("a") == 0.0
    assert limiter.check("a") == 0.0
    assert limiter.check("a") == 0.5
    clock.now += 0.25
    assert limiter.check("a") == 0.25
    assert limiter.check("b") == 0.0  # another client has its own bucket
    clock.now += 0.25
    assert limiter.check("a") == 0.0


def test_the_shared_bucket_bounds_every_client_together(clock: Clock) -> None:
    limiter = http.RateLimiter(rate=1000.0, burst=100, global_rate=2.0, global_burst=1)
    assert limiter.check("a") == 0.0  # exactly one shared token: it passes
    assert limiter.check("b") == 0.5
    clock.now += 0.25
    assert limiter.check("c") == 0.25
    clock.now += 0.25
    assert limiter.check("c") == 0.0


def test_a_zero_rate_never_refills() -> None:
    own = http.RateLimiter(rate=0.0, burst=1, global_rate=1.0, global_burst=10)
    assert own.check("a") == 0.0
    assert own.check("a") == float("inf")
    shared = http.RateLimiter(rate=1.0, burst=10, global_rate=0.0, global_burst=1)
    assert shared.check("a") == 0.0
    assert shared.check("b") == float("inf")


def test_a_copy_has_the_settings_and_fresh_buckets(clock: Clock) -> None:
    limiter = http.RateLimiter(rate=3.0, burst=4, global_rate=5.0, global_burst=6, max_clients=7)
    limiter.check("a")
    copy = limiter.copy()
    settings = ("rate", "burst", "global_rate", "global_burst", "max_clients")
    assert [getattr(copy, s) for s in settings] == [3.0, 4, 5.0, 6, 7]
    assert copy._buckets == {}


def test_charge_takes_at_most_a_burst_from_each_bucket(clock: Clock) -> None:
    limiter = http.RateLimiter(rate=1.0, burst=3, global_rate=1000.0, global_burst=1000)
    limiter.charge("new client", 100)  # a client never seen: a full bucket, into debt by a burst at most
    assert limiter.check("new client") == 1.0
    shared = http.RateLimiter(rate=1000.0, burst=1000, global_rate=1.0, global_burst=2)
    shared.charge("a", 100)
    assert shared.check("b") == 1.0
    nothing = http.RateLimiter(rate=1.0, burst=1, global_rate=1.0, global_burst=1)
    nothing.charge("a", 0)
    assert nothing.check("a") == 0.0
    one = http.RateLimiter(rate=1.0, burst=2, global_rate=1000.0, global_burst=1000)
    one.charge("a", 1)
    assert one.check("a") == 0.0
    assert one.check("a") == 1.0


def test_charge_counts_what_refilled_since(clock: Clock) -> None:
    own = http.RateLimiter(rate=2.0, burst=4, global_rate=1000.0, global_burst=1000)
    shared = http.RateLimiter(rate=1000.0, burst=1000, global_rate=2.0, global_burst=4)
    for limiter in (own, shared):
        for client in "abcd":
            assert limiter.check(client if limiter is shared else "a") == 0.0
    clock.now += 1  # two tokens back in the drained bucket of each
    for limiter in (own, shared):
        limiter.charge("a", 1)  # one left
        assert limiter.check("a") == 0.0
        assert limiter.check("a") == 0.5


def test_the_client_table_is_bounded(clock: Clock) -> None:
    limiter = http.RateLimiter(rate=1.0, burst=1, global_rate=1000.0, global_burst=1000, max_clients=4)
    for client in "abcd":
        assert limiter.check(client) == 0.0
    assert limiter.check("a") == 1.0  # four clients: still remembered
    assert limiter.check("e") == 0.0  # a fifth: none has refilled, so the table is cleared
    assert limiter.check("a") == 0.0
    # clients whose bucket refilled are the ones forgotten; the rest are kept
    limiter = http.RateLimiter(rate=2.0, burst=1, global_rate=1000.0, global_burst=1000, max_clients=4)
    for client in "abc":
        limiter.check(client)
    clock.now += 0.5  # exactly refilled
    limiter.check("d")
    limiter.check("e")  # five: a, b and c are full again and go; d and e stay
    assert set(limiter._buckets) == {"d", "e"}
    assert limiter.check("d") == 0.5


# --------------------------------------------------------------------------- rendering and messages


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"k": value}
    return value


def test_answers_are_pretty_up_to_eight_levels_and_compact_beyond() -> None:
    eight, nine = _nested(8), _nested(9)
    assert http._render(eight, True) == json.dumps(eight, indent=2) + "\n"
    assert http._render(nine, True) == json.dumps(nine, separators=(",", ":")) + "\n"
    listed = {"k": [[[[[[[[{}]]]]]]]]}  # nine levels through lists
    assert http._render(listed, True) == json.dumps(listed, separators=(",", ":")) + "\n"
    assert "\n  " in http._render(eight, False)  # YAML block style
    assert http._render(nine, False).startswith("{")  # YAML flow style
    assert http._depth("text", 8) == 0
    assert http._depth([], 8) == 1


def test_rendering_keeps_order_unicode_long_lines_and_dates() -> None:
    note = "é" + " word" * 50  # longer than a YAML line: folded unless the width is unbounded
    manifest = {"kind": "K", "apiVersion": "v", "note": note, "when": dt.date(2030, 1, 2)}
    assert http._render(manifest, False) == f"kind: K\napiVersion: v\nnote: {note}\nwhen: 2030-01-02\n"
    assert http._render(manifest, True) == json.dumps(manifest, indent=2, default=str) + "\n"
    deep = {"when": dt.date(2030, 1, 2), "k": _nested(9)}
    assert http._render(deep, True) == json.dumps(deep, separators=(",", ":"), default=str) + "\n"


def test_one_line_messages() -> None:
    assert http._one_line(" a\nb\tc\u2028d ") == "a b c d"
    limit = limits.HTTP_MAX_ERROR_TEXT
    assert http._one_line("x" * limit) == "x" * limit
    assert http._one_line("x" * (limit + 5)) == "x" * (limit - 1) + "…"


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    for wait, header in ((0.2, "1"), (2.5, "3"), (float("inf"), "3600")):
        answer = http._too_many(wait, "verify")
        assert (answer.status, answer.headers["Retry-After"], answer.text) == (
            429,
            header,
            "too many verify requests; slow down\n",
        )
    assert http._text(200, "\nok\n").text == "\nok\n"
    assert http._text(200, "ok \n").text == "ok \n"
    assert http._text(200, "X").text == "X\n"


async def test_verify_one_answers_and_logs_by_type(caplog: pytest.LogCaptureFixture) -> None:
    async def ok(_: dict[str, Any]) -> None:
        return None

    async def broken(_: dict[str, Any]) -> None:
        raise RuntimeError("quoted request text")

    async def spec(_: dict[str, Any]) -> None:
        raise SpecError("SealedSecret x", "bad\nfield")

    assert await http.verify_one(ok, {}) == (200, "ok: every value can be unsealed")
    assert await http.verify_one(spec, {}) == (400, "SealedSecret x: bad field")
    with caplog.at_level(logging.ERROR, logger=http.logger.name):
        assert await http.verify_one(broken, {}) == (500, http.INTERNAL_ERROR)
    assert [r.getMessage() for r in caplog.records] == ["unexpected RuntimeError in verify (batch)"]


# --------------------------------------------------------------------------- the app


class Recording(http.RateLimiter):
    def __init__(self) -> None:
        super().__init__(rate=1000.0, burst=1000)
        self.clients: list[str] = []

    def check(self, client: str) -> float:
        self.clients.append(client)
        return super().check(client)


async def _verify(body: dict[str, Any]) -> None:
    if body.get("metadata", {}).get("name") == "bad":
        raise UnsealError("cannot unseal")
    if body.get("metadata", {}).get("name") == "boom":
        raise RuntimeError("boom")


async def _rotate(body: dict[str, Any]) -> dict[str, Any]:
    await _verify(body)
    return {**body, "status": {"dropped": True}}


@pytest.fixture
async def client() -> AsyncIterator[TestClient[Any, Any]]:
    hooks = http.ApiHooks(is_ready=lambda: True, cert_pem=lambda: b"PEM", verify=_verify, rotate=_rotate)
    app = http.api_app(hooks, limiter=Recording(), rotate_limiter=Recording())
    async with TestClient(TestServer(app)) as c:
        yield c


async def _answer(response: Any) -> tuple[int, str, str]:
    return response.status, response.content_type, await response.text()


async def test_health_readiness_and_certificate_answers() -> None:
    problems: list[str] = []
    ready = [False]
    hooks = http.ApiHooks(is_ready=lambda: ready[0], problems=lambda: problems, cert_pem=lambda: None)
    async with TestClient(TestServer(http.api_app(hooks))) as c:
        assert await (await c.get("/healthz")).text() == "ok\n"
        not_ready = await _answer(await c.get("/readyz"))
        assert not_ready == (503, "text/plain", "not ready: starting or standing by for the leader lease\n")
        ready[0] = True
        assert await _answer(await c.get("/readyz")) == (200, "text/plain", "ready\n")
        problems[:] = ["keys unreadable", "queue stalled"]
        assert await (await c.get("/readyz")).text() == "not ready: keys unreadable; queue stalled\n"
        assert (await c.get("/readyz")).status == 503
        no_cert = await c.get("/v1/cert.pem")
        assert (no_cert.status, await no_cert.text(), no_cert.headers["Retry-After"]) == (
            503,
            "no sealing key yet\n",
            "5",
        )
        for path in ("/v1/verify", "/v1/rotate"):
            resp = await c.post(path, data="{}")
            assert (resp.status, await resp.text(), resp.headers["Retry-After"]) == (503, "not ready\n", "5")


async def test_the_certificate_is_served_as_pem(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/v1/cert.pem")
    assert (resp.status, resp.content_type, await resp.read()) == (200, "application/x-pem-file", b"PEM")


async def test_each_endpoint_asks_its_own_bucket_by_address() -> None:
    verify_limiter, rotate_limiter = Recording(), Recording()
    hooks = http.ApiHooks(is_ready=lambda: True, verify=_verify, rotate=_rotate)
    app = http.api_app(hooks, limiter=verify_limiter, rotate_limiter=rotate_limiter)
    async with TestClient(TestServer(app)) as c:
        await c.post("/v1/verify", data=json.dumps(SEALED))
        await c.post("/v1/rotate", data=json.dumps(SEALED))
    assert verify_limiter.clients == ["127.0.0.1"]
    assert rotate_limiter.clients == ["127.0.0.1"]


async def test_429_names_the_endpoint() -> None:
    hooks = http.ApiHooks(is_ready=lambda: True, verify=_verify, rotate=_rotate)
    limiter = http.RateLimiter(rate=0.0, burst=1)
    app = http.api_app(hooks, limiter=limiter, rotate_limiter=limiter.copy())
    async with TestClient(TestServer(app)) as c:
        for path, name in (("/v1/verify", "verify"), ("/v1/rotate", "rotate")):
            await c.post(path, data=json.dumps(SEALED))
            resp = await c.post(path, data=json.dumps(SEALED))
            assert (resp.status, await resp.text()) == (429, f"too many {name} requests; slow down\n")
            assert resp.headers["Retry-After"] == "3600"


async def test_rotate_answers_in_the_request_format(client: TestClient[Any, Any]) -> None:
    as_yaml = "apiVersion: secretsync.io/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: a\n"
    status, content_type, text = await _answer(await client.post("/v1/rotate", data=as_yaml))
    assert (status, content_type) == (200, "application/yaml")
    assert yaml.safe_load(text) == {**SEALED, "spec": {}}
    # a JSON content type wins over a YAML-looking body; a body starting with "{" after blanks is JSON
    json_type = await client.post("/v1/rotate", data=as_yaml, headers={"Content-Type": "application/json"})
    assert json_type.content_type == "application/json"
    assert json.loads(await json_type.text()) == {**SEALED, "spec": {}}
    padded = await client.post("/v1/rotate", data="  \n" + json.dumps(SEALED))
    assert padded.content_type == "application/json"


async def test_rotate_and_verify_errors(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    bad = json.dumps({**SEALED, "metadata": {"name": "bad"}})
    assert await _answer(await client.post("/v1/rotate", data=bad)) == (409, "text/plain", "cannot unseal\n")
    boom = json.dumps({**SEALED, "metadata": {"name": "boom"}})
    with caplog.at_level(logging.ERROR, logger=http.logger.name):
        for path, name in (("/v1/rotate", "rotate"), ("/v1/verify", "verify")):
            caplog.clear()
            assert await _answer(await client.post(path, data=boom)) == (
                500,
                "text/plain",
                http.INTERNAL_ERROR + "\n",
            )
            assert [r.getMessage() for r in caplog.records] == [f"unexpected RuntimeError in {name}"]
    two = "a: 1\n---\nb: 2\n"
    assert await (await client.post("/v1/rotate", data=two)).text() == (
        "request body: must be one SealedSecret object\n"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("a: 1\n---\nb: 2\n", "request body: must be one SealedSecret object, a list of them or a List"),
        ("just text", "request body: must be one SealedSecret object, a list of them or a List"),
        ('{"kind": "List", "items": 5}', "request body: List items must be a list"),
        ('{"kind": "SealedSecretList", "items": {}}', "request body: SealedSecretList items must be a list"),
        ("[]", "request body: an empty batch: nothing to verify"),
        (
            json.dumps([SEALED] * (limits.HTTP_VERIFY_MAX_BATCH + 1)),
            f"request body: a batch of {limits.HTTP_VERIFY_MAX_BATCH + 1} documents; "
            f"at most {limits.HTTP_VERIFY_MAX_BATCH}",
        ),
    ],
)
async def test_verify_body_errors(client: TestClient[Any, Any], body: str, message: str) -> None:
    assert await _answer(await client.post("/v1/verify", data=body)) == (400, "text/plain", message + "\n")


async def test_verify_batches_answer_in_the_request_format(client: TestClient[Any, Any]) -> None:
    batch = [SEALED, {**SEALED, "metadata": {"name": "bad"}}]
    as_json = await client.post("/v1/verify", data=" " + json.dumps(batch))
    assert (as_json.status, as_json.content_type) == (409, "application/json")
    assert json.loads(await as_json.text())["valid"] == 1
    as_yaml = await client.post("/v1/verify", data=yaml.safe_dump(batch))
    assert (as_yaml.status, as_yaml.content_type) == (409, "application/yaml")
    answer = yaml.safe_load(await as_yaml.text())
    assert [r["message"] for r in answer["results"]] == ["ok: every value can be unsealed", "cannot unseal"]


async def test_bodies_are_parsed_on_the_apps_own_bounded_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    parse = http._parse_body

    def recording(raw: bytes) -> dict[str, Any]:
        seen.append(threading.current_thread().name)
        threading.Event().wait(0.05)
        return parse(raw)

    monkeypatch.setattr(http, "_parse_body", recording)
    hooks = http.ApiHooks(is_ready=lambda: True, rotate=_rotate)
    app = http.api_app(hooks, rotate_limiter=Recording(), parse_workers=1)
    async with TestClient(TestServer(app)) as c:
        answers = await asyncio.gather(*(c.post("/v1/rotate", data=json.dumps(SEALED)) for _ in range(4)))
    assert [a.status for a in answers] == [200] * 4
    assert len(seen) == 4
    assert len(set(seen)) == 1  # one worker
    assert seen[0].startswith("secretsync-http-parse")


# --------------------------------------------------------------------------- the metrics port and serve()


async def test_the_metrics_app_and_serve(caplog: pytest.LogCaptureFixture) -> None:
    metrics = Metrics()
    port = reserve_port()
    before = signal.getsignal(signal.SIGTERM)
    runner = await http.serve(http.metrics_app(metrics), "127.0.0.1", port)
    try:
        assert runner.addresses == [("127.0.0.1", port)]  # that host only, that port
        (site,) = runner.sites
        (sock,) = site._server.sockets  # type: ignore[union-attr]
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
        assert signal.getsignal(signal.SIGTERM) == before  # the operator handles signals itself
        with caplog.at_level(logging.DEBUG, logger="aiohttp.access"):
            async with ClientSession() as session:
                resp = await session.get(f"http://127.0.0.1:{port}/metrics")
                assert (resp.status, resp.headers["Content-Type"]) == (200, CONTENT_TYPE)
                assert await resp.read() == metrics.render()
                health = await session.get(f"http://127.0.0.1:{port}/healthz")
                assert (health.status, await health.text()) == (200, "ok\n")
        assert not [r for r in caplog.records if r.name == "aiohttp.access"]  # no access log
    finally:
        await runner.cleanup()
        release_port(port)


def test_a_refused_request_keeps_its_clients_bucket(clock: Clock) -> None:
    """A refusal is remembered under the client's own address: the table does not grow, and the
    client's bucket (not a fresh one) decides its next request."""
    own = http.RateLimiter(rate=1.0, burst=1, global_rate=1000.0, global_burst=1000, max_clients=4)
    for client in "abcd":
        own.check(client)
    assert own.check("a") == 1.0
    assert own.check("a") == 1.0  # still four clients: nothing was forgotten
    shared = http.RateLimiter(rate=0.001, burst=2, global_rate=1.0, global_burst=1, max_clients=1)
    assert shared.check("a") == 0.0
    assert shared.check("a") == 1.0  # refused by the shared bucket
    clock.now += 1
    assert shared.check("a") == 0.0  # its last own token
    clock.now += 1
    assert shared.check("a") > 900  # its own bucket is empty: it waits for its own refill


def test_the_client_table_holds_ten_thousand_clients(clock: Clock) -> None:
    limiter = http.RateLimiter(rate=1.0, burst=1, global_rate=1e9, global_burst=10**9)
    for client in range(10_000):
        limiter.check(str(client))
    assert limiter.check("0") == 1.0  # remembered
    limiter.check("one more")  # 10,001: none has refilled, so the table is cleared
    assert limiter.check("0") == 0.0
