"""The HTTP API app, built from callables: status codes, formats, rate limit, no secret material."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from secretsync import crypto, http, limits, sealing
from secretsync.errors import SpecError, UnsealError
from tests.support.sealed_env import seal, secret, vector_key

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


# --------------------------------------------------------------------------- /v1/verify batches


def _batch_app(limiter: http.RateLimiter | None = None) -> Any:
    """The API app with the real unseal of a 2048-bit test key behind /v1/verify."""
    ring = crypto.KeyRing([crypto.KeyEntry.from_key(crypto.load_private_keys(vector_key(2048)[0])[0])])

    async def verify(body: dict[str, Any]) -> None:
        sealing.unseal(body, ring).raise_for_failures()

    hooks = http.ApiHooks(is_ready=lambda: True, verify=verify)
    return http.api_app(hooks, limiter=limiter or http.RateLimiter(rate=0.001, burst=10))


def _sealed(name: str, value: str = CANARY) -> dict[str, Any]:
    return seal(vector_key(2048)[1], secret(name, "team-a", {"password": value}))


@pytest.fixture
async def batch_client() -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(_batch_app())) as c:
        yield c


async def test_verify_batch_answers_per_document(batch_client: TestClient[Any, Any]) -> None:
    moved = _sealed("moved")
    moved["metadata"]["name"] = "moved-elsewhere"  # strict scope: the label no longer matches
    docs: list[Any] = [
        _sealed("good"),
        moved,
        {"kind": "SealedSecret"},
        "not an object",
        _sealed("also-good"),
    ]
    resp = await batch_client.post("/v1/verify", data=json.dumps(docs))
    assert resp.status == 409  # not every document can be unsealed
    assert resp.content_type == "application/json"
    text = await resp.text()
    answer = json.loads(text)
    assert answer["kind"] == "VerifyResults" and answer["count"] == 5 and answer["valid"] == 2
    assert [r["index"] for r in answer["results"]] == [0, 1, 2, 3, 4]
    assert [r["status"] for r in answer["results"]] == [200, 409, 400, 400, 200]
    assert "team-a/moved-elsewhere" in answer["results"][1]["message"]
    assert "password" in answer["results"][1]["message"]  # the key's name, never its value
    assert answer["results"][3]["message"] == "not a SealedSecret object"
    # nothing of the request comes back: no value, no ciphertext
    assert CANARY not in text
    assert moved["spec"]["encryptedData"]["password"][:40] not in text


async def test_verify_batch_all_valid_is_200_in_the_request_format(
    batch_client: TestClient[Any, Any],
) -> None:
    docs = [_sealed(f"s{i}") for i in range(3)]
    resp = await batch_client.post("/v1/verify", data=json.dumps(docs))
    assert resp.status == 200
    assert [r["status"] for r in json.loads(await resp.text())["results"]] == [200, 200, 200]
    for kind in ("List", "SealedSecretList"):  # kubectl get -o yaml, and the API's own list kind
        listed = {"apiVersion": "v1", "kind": kind, "items": docs}
        resp = await batch_client.post("/v1/verify", data=yaml.safe_dump(listed))
        assert resp.status == 200
        assert resp.content_type == "application/yaml"
        assert yaml.safe_load(await resp.text())["valid"] == 3
    # the single form is unchanged (kubeseal --validate): a plain answer, 200 or 409
    resp = await batch_client.post("/v1/verify", data=json.dumps(docs[0]))
    assert resp.status == 200 and (await resp.text()).startswith("ok")


async def test_verify_batch_bounds(batch_client: TestClient[Any, Any]) -> None:
    one = _sealed("s")
    cases: list[tuple[Any, int, str]] = [
        ("[]", 400, "empty batch"),
        (json.dumps([one] * (limits.HTTP_VERIFY_MAX_BATCH + 1)), 400, "at most 100"),
        (json.dumps({"kind": "List", "items": {"a": one}}), 400, "items must be a list"),
        (yaml.safe_dump_all([one, one]), 400, "a list of them or a List"),  # a YAML stream is not a batch
        ("[" + " " * limits.HTTP_MAX_BODY + "]", 413, "larger than"),
    ]
    for body, status, words in cases:
        resp = await batch_client.post("/v1/verify", data=body)
        assert resp.status == status, (words, await resp.text())
        assert words in await resp.text()
    resp = await batch_client.post("/v1/verify", data=json.dumps([one] * limits.HTTP_VERIFY_MAX_BATCH))
    assert resp.status == 200  # exactly the bound passes


async def test_verify_batch_costs_tokens_by_size_and_429_says_when() -> None:
    """A batch of N costs ceil(N/10) tokens: 100 documents drain a burst of 10, then 429 + Retry-After."""
    limiter = http.RateLimiter(rate=2.0, burst=10, global_rate=100.0, global_burst=100)
    async with TestClient(TestServer(_batch_app(limiter))) as c:
        docs = [_sealed(f"s{i}") for i in range(100)]
        assert (await c.post("/v1/verify", data=json.dumps(docs[:50]))).status == 200  # 5 tokens
        assert (await c.post("/v1/verify", data=json.dumps(docs[:50]))).status == 200  # 5 more: empty
        resp = await c.post("/v1/verify", data=json.dumps(docs[0]))
        assert resp.status == 429
        assert resp.headers["Retry-After"] in ("1", "2")
    # a 100-document batch is admitted on one token and pays the rest as a debt the next requests wait for
    limiter = http.RateLimiter(rate=1.0, burst=10, global_rate=100.0, global_burst=100)
    async with TestClient(TestServer(_batch_app(limiter))) as c:
        for _ in range(9):
            assert (await c.post("/v1/verify", data=json.dumps(docs[0]))).status == 200
        assert (await c.post("/v1/verify", data=json.dumps(docs))).status == 200
        resp = await c.post("/v1/verify", data=json.dumps(docs[0]))
        assert resp.status == 429
        assert 9 <= int(resp.headers["Retry-After"]) <= 10  # the debt of 9 tokens, at 1 a second


def test_batch_cost() -> None:
    assert [http.batch_cost(n) for n in (1, 10, 11, 50, 100)] == [1, 1, 2, 5, 10]
    limiter = http.RateLimiter(rate=0.001, burst=3, global_rate=0.001, global_burst=3)
    assert limiter.allow("a")
    limiter.charge("a", 50)  # never more than a burst (3 - 1 - 3 = -1): the debt is always paid off
    assert limiter.check("a") == pytest.approx((1 - -1) / 0.001, rel=0.01)


async def test_not_ready_503s_say_when_to_come_back() -> None:
    app = http.api_app(http.ApiHooks(is_ready=lambda: False))
    async with TestClient(TestServer(app)) as c:
        for path in ("/v1/verify", "/v1/rotate"):
            resp = await c.post(path, data="{}")
            assert resp.status == 503 and resp.headers["Retry-After"] == "5"
        resp = await c.get("/v1/cert.pem")
        assert resp.status == 503 and resp.headers["Retry-After"] == "5"
