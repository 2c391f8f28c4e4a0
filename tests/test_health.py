"""Readiness that means something, API retries of transient answers, and the queue metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from secretsync import http, kube
from secretsync.health import Health
from secretsync.scheduler import Scheduler


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failing_writes_make_the_replica_unready_only_after_the_window() -> None:
    clock = Clock()
    health = Health(api_window=30, api_threshold=3, clock=clock)
    for _ in range(5):
        health.api_answered(401, "HTTP 401 Unauthorized")
    assert health.problems() == []  # a burst is not an outage
    clock.now += 31
    health.api_answered(503, "HTTP 503 ServiceUnavailable")
    (problem,) = health.problems()
    assert "failed for 31s (6 in a row; last: HTTP 503 ServiceUnavailable)" in problem
    health.api_answered(200)
    assert health.problems() == []


def test_answers_about_one_object_say_nothing_about_the_api() -> None:
    clock = Clock()
    health = Health(api_window=1, api_threshold=1, clock=clock)
    for status in (404, 409, 422):
        health.api_answered(status)
    clock.now += 10
    assert health.problems() == []
    health.api_answered(0, "Unreachable")
    clock.now += 2
    health.api_answered(409)  # the API answered: it is reachable and writes are judged
    assert health.problems() == []


def test_unreadable_keys_and_a_stalled_queue_are_reported() -> None:
    health = Health(stall_after=300)
    health.keys_problem = "Kubernetes API 403 Forbidden: secrets is forbidden"
    health.oldest_job = lambda: 301.0
    assert health.problems() == [
        "the sealing keys cannot be read: Kubernetes API 403 Forbidden: secrets is forbidden",
        "the work queue is stalled: a job has been running for 301s",
    ]


async def test_readyz_says_why_a_reconciling_replica_is_not_ready() -> None:
    problems: list[str] = []
    app = http.api_app(http.ApiHooks(is_ready=lambda: True, problems=lambda: list(problems)))
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/readyz")).status == 200
        problems.append("writes to the Kubernetes API have failed for 40s")
        answer = await client.get("/readyz")
        assert answer.status == 503
        assert await answer.text() == "not ready: writes to the Kubernetes API have failed for 40s\n"
        assert (await client.get("/healthz")).status == 200  # liveness: only a dead process fails


async def test_the_queue_shows_its_depth_and_its_oldest_running_job() -> None:
    scheduler = Scheduler()
    release = asyncio.Event()

    async def slow() -> None:
        await release.wait()

    scheduler.schedule("slow", 0, slow)
    scheduler.schedule("later", 60, slow)
    await asyncio.sleep(0.05)
    assert scheduler.depth() == 2
    oldest = scheduler.oldest_running()
    assert oldest is not None and oldest >= 0.04
    release.set()
    await asyncio.sleep(0.02)
    assert scheduler.depth() == 1 and scheduler.oldest_running() is None
    await scheduler.close()


async def test_a_failed_job_is_run_again_with_backoff_until_it_succeeds() -> None:
    scheduler = Scheduler()
    scheduler.retry.base = 0.01
    calls: list[int] = []

    async def flaky() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise kube.ApiError(503, "ServiceUnavailable", "try again")

    scheduler.schedule("job", 0, flaky)
    await asyncio.sleep(0.3)
    assert len(calls) == 3 and scheduler.depth() == 0
    await scheduler.close()


class Flaky:
    """An API server that answers the first ``failures`` requests with ``status``."""

    def __init__(self, status: int, failures: int, headers: dict[str, str] | None = None) -> None:
        self.status, self.failures, self.headers = status, failures, headers or {}
        self.seen: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(request.method)
        if len(self.seen) <= self.failures:
            body = {
                "kind": "Status",
                "reason": "TooManyRequests",
                "message": "slow down",
                "code": self.status,
            }
            return web.json_response(body, status=self.status, headers=self.headers)
        return web.json_response({"kind": "Secret", "metadata": {"name": "s"}})


@pytest.fixture
async def served() -> AsyncIterator[Any]:
    servers: list[TestServer] = []

    async def serve(state: Flaky) -> kube.KubeApi:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", state.handle)
        server = TestServer(app)
        await server.start_server()
        servers.append(server)
        return kube.KubeApi(kube.Connection(server=str(server.make_url("")).rstrip("/"), token="t"))

    yield serve
    for server in servers:
        await server.close()


async def test_a_429_is_retried_after_its_retry_after_for_any_verb(served: Any) -> None:
    state = Flaky(429, 2, {"Retry-After": "0"})
    api: kube.KubeApi = await served(state)
    answers: list[int] = []
    api.observe = lambda verb, code, reason: answers.append(code)
    assert await api.request("POST", "/api/v1/namespaces/d/secrets", body={"metadata": {"name": "s"}})
    assert state.seen == ["POST", "POST", "POST"] and answers == [429, 429, 200]
    await api.close()


async def test_5xx_is_retried_for_reads_only_and_422_never(served: Any) -> None:
    read = Flaky(503, 1)
    api: kube.KubeApi = await served(read)
    assert await api.get("/api/v1/namespaces/d/secrets/s")
    assert read.seen == ["GET", "GET"]
    write = Flaky(503, 1)
    api2: kube.KubeApi = await served(write)
    with pytest.raises(kube.ApiError) as caught:
        await api2.request("PUT", "/api/v1/namespaces/d/secrets/s", body={})
    assert caught.value.status == 503 and write.seen == ["PUT"]  # a write may have happened
    invalid = Flaky(422, 5)
    api3: kube.KubeApi = await served(invalid)
    with pytest.raises(kube.Invalid):
        await api3.get("/api/v1/namespaces/d/secrets/s")
    assert invalid.seen == ["GET"]
    for each in (api, api2, api3):
        await each.close()
