"""The HTTP API app, built from callables: status codes, formats, rate limit, no secret material."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from secretsync import http
from secretsync.errors import SpecError, UnsealError

CANARY = "canary-http-Qp3"
SEALED = {"apiVersion": "secretsync.io/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "a"}}


async def _verify(body: dict[str, Any]) -> None:
    if body.get("metadata", {}).get("name") == "bad":
        raise UnsealError("SealedSecret ns/bad: cannot unseal key password: the key does not open it")
    if body.get("kind") != "SealedSecret":
        raise SpecError("", "not a SealedSecret")


async def _rotate(body: dict[str, Any]) -> dict[str, Any]:
    await _verify(body)
    return {**body, "metadata": {**body["metadata"], "annotations": {"rotated": "yes"}}}


@pytest.fixture
async def client() -> AsyncIterator[TestClient[Any, Any]]:
    pem = b"-----BEGIN CERTIFICATE-----\n"
    hooks = http.ApiHooks(is_ready=lambda: True, cert_pem=lambda: pem, verify=_verify, rotate=_rotate)
    app = http.api_app(hooks, limiter=http.RateLimiter(rate=0.001, burst=3))
    async with TestClient(TestServer(app)) as c:
        yield c


async def test_health_and_cert(client: TestClient[Any, Any]) -> None:
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/readyz")).status == 200
    resp = await client.get("/v1/cert.pem")
    assert resp.status == 200
    assert (await resp.read()).startswith(b"-----BEGIN CERTIFICATE-----")


async def test_verify_codes(client: TestClient[Any, Any]) -> None:
    assert (await client.post("/v1/verify", data=json.dumps(SEALED))).status == 200
    bad = {**SEALED, "metadata": {"name": "bad"}}
    resp = await client.post("/v1/verify", data=yaml.safe_dump(bad))
    assert resp.status == 409
    assert "cannot unseal key password" in await resp.text()
    assert (await client.post("/v1/verify", data="{not json")).status == 400


async def test_verify_is_rate_limited(client: TestClient[Any, Any]) -> None:
    codes = [(await client.post("/v1/verify", data=json.dumps(SEALED))).status for _ in range(5)]
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]


async def test_rotate_keeps_the_request_format(client: TestClient[Any, Any]) -> None:
    resp = await client.post(
        "/v1/rotate", data=json.dumps(SEALED), headers={"Content-Type": "application/json"}
    )
    assert resp.status == 200
    assert json.loads(await resp.text())["metadata"]["annotations"] == {"rotated": "yes"}
    resp = await client.post("/v1/rotate", data=yaml.safe_dump(SEALED))
    assert resp.status == 200
    assert yaml.safe_load(await resp.text())["metadata"]["annotations"] == {"rotated": "yes"}


async def test_rotate_error_codes(client: TestClient[Any, Any]) -> None:
    resp = await client.post("/v1/rotate", data=json.dumps({**SEALED, "metadata": {"name": "bad"}}))
    assert resp.status == 409
    assert (await client.post("/v1/rotate", data="- a list\n")).status == 400
    assert (await client.post("/v1/rotate", data=json.dumps({"kind": "Secret"}))).status == 400


async def test_not_ready_answers() -> None:
    app = http.api_app(http.ApiHooks(is_ready=lambda: False))
    async with TestClient(TestServer(app)) as c:
        assert (await c.get("/healthz")).status == 200
        assert (await c.get("/readyz")).status == 503
        assert (await c.get("/v1/cert.pem")).status == 503


def test_rate_limiter_refills() -> None:
    limiter = http.RateLimiter(rate=1000.0, burst=1)
    assert limiter.allow("a")
    assert limiter.allow("b")
    time.sleep(0.01)
    assert limiter.allow("a")
