"""Attacks on POST /v1/verify and /v1/rotate, each written as the hostile request.

The API is unauthenticated and every cluster user reaches it through the API server's
service proxy, so each test sends what an attacker would: alias bombs, over-deep and
oversized bodies, duplicate keys hiding a second value, slow bodies, floods from one
shared address. A canary planted in hostile bodies must never come back.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from secretsync import crypto, http, sealing
from secretsync.errors import SpecError, UnsealError
from tests.test_crypto import independent_open, vector_cert_path, vector_key

CANARY = "CANARY-91be"
MiB = 1024 * 1024
SEALED = {
    "apiVersion": "secretsync.io/v1alpha1",
    "kind": "SealedSecret",
    "metadata": {"name": "db", "namespace": "team-a"},
    "spec": {"encryptedData": {"password": "AgB="}},
}


async def _fake_verify(body: dict[str, Any]) -> None:
    if body.get("kind") != "SealedSecret":
        raise SpecError("", "not a SealedSecret")
    if body.get("metadata", {}).get("name") == "bad":
        raise UnsealError("SealedSecret team-a/bad: cannot unseal key password: the key does not open it")


async def _fake_rotate(body: dict[str, Any]) -> dict[str, Any]:
    await _fake_verify(body)
    return body  # the old rotate answered a copy of whatever it was given


def _app(**kwargs: Any) -> web.Application:
    hooks = http.ApiHooks(is_ready=lambda: True, verify=_fake_verify, rotate=_fake_rotate)
    kwargs.setdefault("limiter", http.RateLimiter(rate=1000.0, burst=1000))
    return http.api_app(hooks, **kwargs)


@pytest.fixture
async def client() -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(_app())) as c:
        yield c


def _assert_no_canary(text: str) -> None:
    assert CANARY not in text
    assert "Traceback" not in text


def billion_laughs(levels: int = 6, width: int = 10) -> str:
    """A SealedSecret whose template holds width**levels strings through nested aliases."""
    lines = [
        "apiVersion: secretsync.io/v1alpha1",
        "kind: SealedSecret",
        "metadata: {name: db, namespace: team-a}",
        "spec:",
        "  encryptedData: {password: AgB=}",
        "  template:",
        "    metadata:",
        f"      l0: &l0 [{', '.join(['lol'] * width)}]",
    ]
    for level in range(1, levels):
        lines.append(f"      l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- alias amplification


async def test_an_alias_bomb_on_rotate_is_refused_not_expanded_into_the_answer(
    client: TestClient[Any, Any],
) -> None:
    bomb = billion_laughs()  # ~700 bytes in, a million strings out (the reported one: 1,433 B -> 3.2 GB)
    assert len(bomb) < 1500
    resp = await client.post("/v1/rotate", data=bomb, headers={"Content-Type": "application/json"})
    text = await resp.text()
    assert resp.status == 400, text[:200]
    assert "YAML aliases are not allowed" in text
    assert len(text) < 300 and text.count("\n") == 1
    resp = await client.post("/v1/verify", data=bomb)
    assert resp.status == 400 and "YAML aliases are not allowed" in await resp.text()


# --------------------------------------------------------------------------- over-deep, invalid, duplicate

DEEP_YAML = "apiVersion: secretsync.io/v1alpha1\nkind: SealedSecret\nspec:\n  template: " + (
    "[" * 100_000 + f'"{CANARY}"' + "]" * 100_000
)
DEEP_JSON = '{"kind": "SealedSecret", "spec": ' + '{"a": ' * 100_000 + f'"{CANARY}"' + "}" * 100_001
DUPLICATE_YAML = (
    "apiVersion: secretsync.io/v1alpha1\nkind: SealedSecret\n"
    f"metadata:\n  name: db\n  namespace: team-a\n  namespace: {CANARY}\n"
    "spec:\n  encryptedData: {password: AgB=}\n"
)
DUPLICATE_JSON = json.dumps(SEALED)[:-1] + f', "kind": "{CANARY}"}}'
INVALID = f"apiVersion: secretsync.io/v1alpha1\nkind: SealedSecret\nmetadata: {{name: [{CANARY}\n"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (DEEP_YAML, "line 4, column 75: nested deeper than 64 levels"),
        (DEEP_JSON, "nested deeper than 64 levels"),
        (DUPLICATE_YAML, "line 6, column 3: duplicate key metadata.namespace"),
        (DUPLICATE_JSON, "duplicate key kind"),
        (INVALID, "not valid YAML: line 4"),
    ],
    ids=["deep-yaml", "deep-json", "duplicate-yaml", "duplicate-json", "invalid"],
)
@pytest.mark.parametrize("path", ["/v1/verify", "/v1/rotate"])
async def test_hostile_bodies_are_one_line_400s_that_never_quote_the_body(
    client: TestClient[Any, Any], path: str, body: str, needle: str
) -> None:
    resp = await client.post(path, data=body)
    text = await resp.text()
    assert resp.status == 400, text[:300]  # not a 500 (deep), not a 200 or 409 (duplicate: last wins)
    assert text.startswith("request body: not valid ") and needle in text, text
    assert text.count("\n") == 1 and len(text) < 300
    _assert_no_canary(text)


# --------------------------------------------------------------------------- whole bodies only


async def _slowly(data: bytes, pieces: int = 16) -> AsyncIterator[bytes]:
    step = len(data) // pieces + 1
    for start in range(0, len(data), step):
        yield data[start : start + step]
        await asyncio.sleep(0.01)


async def test_a_large_valid_sealed_secret_sent_slowly_is_read_whole() -> None:
    """Bodies over ~64 KB used to get random 400/409s: the server parsed whatever had arrived."""
    seen: list[int] = []

    async def verify(body: dict[str, Any]) -> None:
        seen.append(len(body["spec"]["encryptedData"]))

    big = json.loads(json.dumps(SEALED))
    big["spec"]["encryptedData"] = {f"key-{i:05d}": "Ag" + "A" * 700 for i in range(1500)}  # ~1.1 MB
    data = json.dumps(big).encode()
    assert len(data) > MiB
    hooks = http.ApiHooks(is_ready=lambda: True, verify=verify)
    async with TestClient(TestServer(http.api_app(hooks))) as c:
        for _ in range(3):
            headers = {"Content-Type": "application/json"}
            resp = await c.post("/v1/verify", data=_slowly(data), headers=headers)
            assert resp.status == 200, (await resp.text())[:300]
    assert seen == [1500, 1500, 1500]


async def test_bodies_over_4_mib_get_413_with_a_plain_message(client: TestClient[Any, Any]) -> None:
    exactly = yaml.safe_dump(SEALED).encode()
    exactly += b"#" * (http.MAX_BODY - len(exactly))  # a comment fills it to the limit exactly
    assert len(exactly) == 4 * MiB
    assert (await client.post("/v1/verify", data=exactly)).status == 200
    resp = await client.post("/v1/rotate", data=exactly + b"#")
    assert resp.status == 413
    assert await resp.text() == "request body larger than 4 MiB\n"
    resp = await client.post("/v1/verify", data=_slowly(exactly + b"#" * 1000))  # chunked: no length
    assert resp.status == 413
    assert await resp.text() == "request body larger than 4 MiB\n"


# --------------------------------------------------------------------------- rate limits


async def test_rate_limits_hold_when_every_user_comes_through_the_same_proxy() -> None:
    """Behind the API server's service proxy every user has the proxy's address: the shared
    bucket is what limits them, on rotate as on verify."""
    limiter = http.RateLimiter(rate=1000.0, burst=1000, global_rate=0.001, global_burst=3)
    async with TestClient(TestServer(_app(limiter=limiter))) as c:
        for path in ("/v1/verify", "/v1/rotate"):
            codes = [(await c.post(path, data=json.dumps(SEALED))).status for _ in range(5)]
            assert codes == [200, 200, 200, 429, 429], (path, codes)
        resp = await c.post("/v1/rotate", data=json.dumps(SEALED))
        assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1


async def test_rotate_is_rate_limited_per_client_like_verify() -> None:
    hooks = http.ApiHooks(is_ready=lambda: True, verify=_fake_verify, rotate=_fake_rotate)
    async with TestClient(TestServer(http.api_app(hooks))) as c:  # the defaults: 5/s, bursts of 10
        codes = [(await c.post("/v1/rotate", data=json.dumps(SEALED))).status for _ in range(30)]
    assert codes[:10] == [200] * 10
    assert codes.count(429) >= 15


def test_the_shared_bucket_limits_many_addresses() -> None:
    limiter = http.RateLimiter(rate=1.0, burst=1, global_rate=0.001, global_burst=5)
    allowed = [limiter.allow(f"10.0.0.{i}") for i in range(50)]
    assert allowed.count(True) == 5
    assert limiter.check("10.0.1.1") > 60  # Retry-After: when the shared bucket has a token again


# --------------------------------------------------------------------------- what rotate answers


async def test_rotate_answers_only_the_rotated_manifest() -> None:
    cert = crypto.load_certificate(vector_cert_path(2048).read_bytes())
    ring = crypto.KeyRing([crypto.KeyEntry.from_key(vector_key(2048), cert)])

    async def rotate(body: dict[str, Any]) -> dict[str, Any]:
        return sealing.reencrypt(body, ring, cert.sealer())

    sealed = sealing.seal_secret(
        {
            "kind": "Secret",
            "metadata": {"name": "db", "namespace": "team-a", "labels": {"app": "db"}},
            "stringData": {"password": "hunter2"},
        },
        cert.sealer(),
    )
    hostile = json.loads(json.dumps(sealed))
    hostile["metadata"].update(
        uid="1234",
        resourceVersion="99",
        managedFields=[{"manager": CANARY, "fieldsV1": {"f:x": {}}}] * 200,
    )
    hostile["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = CANARY
    hostile["status"] = {"conditions": [{"message": CANARY}]}
    hostile["spec"]["extra"] = CANARY
    hostile["padding"] = [CANARY] * 1000
    hostile = json.loads(json.dumps(hostile))  # no shared objects: YAML without aliases
    hooks = http.ApiHooks(is_ready=lambda: True, rotate=rotate)
    async with TestClient(TestServer(http.api_app(hooks))) as c:
        for content_type in ("application/json", "application/yaml"):
            body = json.dumps(hostile) if content_type.endswith("json") else yaml.safe_dump(hostile)
            resp = await c.post("/v1/rotate", data=body, headers={"Content-Type": content_type})
            text = await resp.text()
            assert resp.status == 200, text[:300]
            _assert_no_canary(text)
            answer = json.loads(text) if content_type.endswith("json") else yaml.safe_load(text)
            assert set(answer) == {"apiVersion", "kind", "metadata", "spec"}
            assert set(answer["metadata"]) == {"name", "namespace", "annotations"}
            assert set(answer["metadata"]["annotations"]) == {
                "secretsync.io/scope",
                "secretsync.io/key-fingerprint",
            }
            assert answer["spec"]["template"] == sealed["spec"]["template"]
            assert set(answer["spec"]) == {"encryptedData", "template"}
            value = answer["spec"]["encryptedData"]["password"]
            assert independent_open(vector_key(2048), b"team-a/db", value) == b"hunter2"
            assert len(text) < 3 * len(json.dumps(sealed))


async def test_unexpected_failures_are_a_500_with_a_fixed_text() -> None:
    async def broken(body: dict[str, Any]) -> None:
        raise RuntimeError(f"boom {CANARY}")

    async def broken_rotate(body: dict[str, Any]) -> dict[str, Any]:
        raise KeyError(CANARY)

    hooks = http.ApiHooks(is_ready=lambda: True, verify=broken, rotate=broken_rotate)
    async with TestClient(TestServer(http.api_app(hooks))) as c:
        for path in ("/v1/verify", "/v1/rotate"):
            resp = await c.post(path, data=json.dumps(SEALED))
            assert resp.status == 500
            assert await resp.text() == http.INTERNAL_ERROR + "\n"


# --------------------------------------------------------------------------- probes stay up


class _ServerThread:
    """The API app on a loopback port, in a thread with its own event loop (as in the operator)."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.runner = self.loop.run_until_complete(http.serve(self.app, "127.0.0.1", 0))
        self.port = self.runner.addresses[0][1]
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.runner.cleanup())
        self.loop.close()

    def __enter__(self) -> str:
        self.thread.start()
        assert self.ready.wait(10)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *_: Any) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


def _fill(text: str) -> bytes:
    """``text`` padded with a YAML comment to exactly 4 MiB."""
    data = text.encode()
    return data + b"\n#" + b"x" * (http.MAX_BODY - len(data) - 2)


def hostile_4mib_bodies() -> list[tuple[bytes, str]]:
    head = "apiVersion: secretsync.io/v1alpha1\nkind: SealedSecret\nmetadata: {name: db, namespace: n}\n"
    flat = head + "spec:\n  template:\n    data: [" + "a," * (2 * MiB - 64)
    flat = flat[: http.MAX_BODY - 2] + "a]"
    entries = "".join(f"      k{i:012d}: {CANARY}\n" for i in range(125_000))
    keys = head + "spec:\n  template:\n    data:\n" + entries
    template = {"data": {f"k{i:09d}": "v" for i in range(200_000)}}
    many_json = json.dumps({**SEALED, "spec": {"template": template}})
    deep = head + "spec: " + "[" * 3000
    return [
        (_fill(billion_laughs()), "application/json"),  # tiny to parse; the old server expanded it
        (flat.encode(), "application/yaml"),
        (_fill(keys), "application/yaml"),
        (many_json.encode()[: http.MAX_BODY], "application/json"),
        (_fill(deep), "application/yaml"),
    ]


async def test_health_answers_within_a_second_while_4_mib_hostile_bodies_are_parsed() -> None:
    bodies = hostile_4mib_bodies()
    assert all(len(body) <= http.MAX_BODY for body, _ in bodies)
    with _ServerThread(_app()) as url:
        done = asyncio.Event()
        latencies: list[float] = []
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(timeout=timeout) as session:

            async def probe() -> None:
                while not done.is_set():
                    start = time.monotonic()
                    async with session.get(url + "/healthz") as resp:
                        assert resp.status == 200
                        await resp.read()
                    latencies.append(time.monotonic() - start)
                    await asyncio.sleep(0.05)

            async def attack(body: bytes, content_type: str) -> tuple[int, str]:
                headers = {"Content-Type": content_type}
                async with session.post(url + "/v1/rotate", data=body, headers=headers) as resp:
                    return resp.status, await resp.text()

            prober = asyncio.create_task(probe())
            await asyncio.sleep(0.1)
            started = time.monotonic()
            answers = await asyncio.gather(*(attack(b, t) for b, t in bodies * 2))
            elapsed = time.monotonic() - started
            await asyncio.sleep(0.2)
            done.set()
            await prober
    assert len(latencies) >= 3
    assert max(latencies) < 1.0, (max(latencies), elapsed)
    for status, text in answers:
        assert status == 400, (status, text[:200])
        assert text.count("\n") == 1 and len(text) < 300
        _assert_no_canary(text)
