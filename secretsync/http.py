"""The operator's HTTP surfaces, built from plain callables (not from the operator).

Handing the server callables, as Bitnami's controller does, keeps it testable
without a cluster and keeps kopf out of this module. Two apps: the API + health
app on ``--http-port`` and the metrics app on ``--metrics-port``.

API (Bitnami-compatible paths):
``GET /v1/cert.pem`` the newest sealing certificate;
``POST /v1/verify`` 200 if the posted SealedSecret can be unsealed, 409 if not (kubeseal's
``--validate``); a batch (a list of SealedSecrets, or a ``List`` of them, at most
``limits.HTTP_VERIFY_MAX_BATCH``) is answered per document (:func:`verify_answer`), 200 only if every
one can be unsealed, 409 otherwise;
``POST /v1/rotate`` the SealedSecret re-encrypted with the newest key, 409 if it
cannot be opened, 400 if the body is not a SealedSecret. Bodies are JSON or
YAML; answers use the format of the request. Nothing served ever contains a
secret value or key material beyond the public certificate.

The POST endpoints are unauthenticated and every cluster user reaches them
through the API server's service proxy, so every byte of a request is hostile:

* the whole body is read (never a partial read), at most ``limits.HTTP_MAX_BODY``
  bytes (413 beyond);
* it is parsed off the event loop, in a small pool of its own, by the bounded
  parser (:mod:`secretsync.safeload`: no aliases or merge keys, depth and node
  budgets, duplicate keys refused), so ``/healthz`` keeps answering;
* each endpoint has a token bucket per client address and one shared by all
  clients (behind the proxy every user has the proxy's address), 429 with
  ``Retry-After`` when empty; a verify batch of N documents costs ceil(N / 10)
  tokens (``limits.HTTP_VERIFY_DOCS_PER_TOKEN``), taken once the body is parsed;
* a parse or spec problem is a 400 with one line that never quotes the body;
  anything unexpected is a 500 with a fixed text;
* rotate answers only the rotated manifest (:func:`sealing.answer_manifest`):
  nothing of the request beyond what a SealedSecret is made of comes back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import yaml
from aiohttp import web

from secretsync import limits, manifests, safeload, sealing
from secretsync.errors import InputError, SecretSyncError, SpecError, UnsealError
from secretsync.metrics import CONTENT_TYPE, Metrics

logger = logging.getLogger("secretsync.http")

MAX_BODY: Final = limits.HTTP_MAX_BODY
INTERNAL_ERROR: Final = "internal error: the request could not be handled (the operator logged it)"
_PRETTY_DEPTH: Final = 8  # answers nested deeper are rendered compactly: indentation must not amplify
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclasses.dataclass(frozen=True)
class ApiHooks:
    """What the API app may ask of the operator."""

    is_ready: Callable[[], bool]
    # Why a reconciling replica is not fit to serve after all (the API cannot be written, the keys
    # cannot be read, the queue stalls): secretsync/health.py. Empty: nothing known to be wrong.
    problems: Callable[[], list[str]] = list
    cert_pem: Callable[[], bytes | None] = lambda: None
    verify: Callable[[dict[str, Any]], Awaitable[None]] | None = None  # raises UnsealError / SpecError
    rotate: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]] | None = None


class RateLimiter:
    """Token buckets for one endpoint: ``rate``/``burst`` per client address, and
    ``global_rate``/``global_burst`` shared by every client.

    /v1/verify answers "can this ciphertext be opened", an oracle worth rate-limiting, and
    /v1/rotate costs RSA work. Behind the API server's service proxy every user has the
    proxy's address, so the shared bucket is what bounds the total; the per-address one
    keeps a direct client from using all of it.
    """

    def __init__(
        self,
        rate: float = limits.HTTP_CLIENT_RATE,
        burst: int = limits.HTTP_CLIENT_BURST,
        *,
        global_rate: float = limits.HTTP_GLOBAL_RATE,
        global_burst: int = limits.HTTP_GLOBAL_BURST,
        max_clients: int = 10_000,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.global_rate = global_rate
        self.global_burst = global_burst
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, at)
        self._global = (float(global_burst), time.monotonic())

    def copy(self) -> RateLimiter:
        """A limiter with the same settings and fresh buckets (for another endpoint)."""
        return RateLimiter(
            self.rate,
            self.burst,
            global_rate=self.global_rate,
            global_burst=self.global_burst,
            max_clients=self.max_clients,
        )

    def check(self, client: str) -> float:
        """0 and a token taken from both buckets, or the seconds until a request may pass."""
        now = time.monotonic()
        tokens, last = self._buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        shared, shared_last = self._global
        shared = min(float(self.global_burst), shared + (now - shared_last) * self.global_rate)
        if tokens < 1:
            self._remember(client, tokens, now)
            self._global = (shared, now)
            return (1 - tokens) / self.rate if self.rate > 0 else math.inf
        if shared < 1:
            self._remember(client, tokens, now)
            self._global = (shared, now)
            return (1 - shared) / self.global_rate if self.global_rate > 0 else math.inf
        self._remember(client, tokens - 1, now)
        self._global = (shared - 1, now)
        return 0.0

    def allow(self, client: str) -> bool:
        return self.check(client) == 0.0

    def charge(self, client: str, tokens: float) -> None:
        """Take ``tokens`` more from both buckets (a request that turned out to cost more than the one
        token :meth:`check` took), into debt if need be: the request is served, the ones after it
        wait for the debt. Never more than a burst, so a debt is always paid off."""
        tokens = min(tokens, float(self.burst), float(self.global_burst))
        if tokens <= 0:
            return
        now = time.monotonic()
        own, last = self._buckets.get(client, (float(self.burst), now))
        own = min(float(self.burst), own + (now - last) * self.rate)
        shared, shared_last = self._global
        shared = min(float(self.global_burst), shared + (now - shared_last) * self.global_rate)
        self._remember(client, own - tokens, now)
        self._global = (shared - tokens, now)

    def _remember(self, client: str, tokens: float, now: float) -> None:
        self._buckets[client] = (tokens, now)
        if len(self._buckets) > self.max_clients:  # forget clients whose bucket has refilled
            full = [c for c, (t, at) in self._buckets.items() if t + (now - at) * self.rate >= self.burst]
            for stale in full:
                del self._buckets[stale]
            if len(self._buckets) > self.max_clients // 2:
                self._buckets.clear()


class _BodyTooLarge(Exception):
    pass


def _wants_json(request: web.Request, raw: bytes) -> bool:
    return "json" in request.content_type or raw.lstrip()[:1] in (b"{", b"[")


async def _read_body(request: web.Request) -> bytes:
    """The whole body (``client_max_size`` bounds it): never what happens to have arrived."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise _BodyTooLarge
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise _BodyTooLarge from None


def _parse_body(raw: bytes) -> dict[str, Any]:
    """One SealedSecret object from a request body, by the bounded parser (runs in a worker thread)."""
    docs, _ = manifests.parse_documents(raw, "request body", safeload.HTTP)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise SpecError("request body", "must be one SealedSecret object")
    body: dict[str, Any] = docs[0]
    return body


_LIST_KINDS: Final = ("List", "SealedSecretList")


def _parse_verify_body(raw: bytes) -> dict[str, Any] | list[Any]:
    """/v1/verify's body: one object (a dict), or the items of a batch (a list): a JSON array or
    YAML sequence of SealedSecrets, or a ``List``/``SealedSecretList`` (runs in a worker thread)."""
    docs, _ = manifests.parse_documents(raw, "request body", safeload.HTTP)
    shape = "must be one SealedSecret object, a list of them or a List"
    if len(docs) != 1:
        raise SpecError("request body", shape)
    doc = docs[0]
    items: Any
    if isinstance(doc, list):
        items = doc
    elif isinstance(doc, dict) and doc.get("kind") in _LIST_KINDS:
        items = doc.get("items")
        if not isinstance(items, list):
            raise SpecError("request body", f"{doc['kind']} items must be a list")
    elif isinstance(doc, dict):
        single: dict[str, Any] = doc
        return single
    else:
        raise SpecError("request body", shape)
    if not items:
        raise SpecError("request body", "an empty batch: nothing to verify")
    if len(items) > limits.HTTP_VERIFY_MAX_BATCH:
        raise SpecError(
            "request body", f"a batch of {len(items)} documents; at most {limits.HTTP_VERIFY_MAX_BATCH}"
        )
    batch: list[Any] = items
    return batch


def batch_cost(count: int) -> int:
    """Rate-limit tokens a verify batch of ``count`` documents costs."""
    return max(1, math.ceil(count / limits.HTTP_VERIFY_DOCS_PER_TOKEN))


VERIFY_RESULTS_KIND: Final = "VerifyResults"


def verify_answer(results: list[tuple[int, str]]) -> dict[str, Any]:
    """The answer to a verify batch: per document, in request order, its ``index``, ``status``
    (200 can be unsealed, 409 cannot, 400 is not a usable SealedSecret, 500 failed unexpectedly)
    and a one-line ``message`` (names of keys and objects, never a value). Nothing else of the
    request comes back."""
    return {
        "kind": VERIFY_RESULTS_KIND,
        "count": len(results),
        "valid": sum(1 for status, _ in results if status == 200),
        "results": [
            {"index": index, "status": status, "message": message}
            for index, (status, message) in enumerate(results)
        ],
    }


def _depth(value: Any, limit: int) -> int:
    """The nesting depth of ``value``, counted no further than ``limit + 1``."""
    deepest = 0
    todo: list[tuple[Any, int]] = [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            todo.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _render(manifest: dict[str, Any], as_json: bool) -> str:
    """The answer text: indented when shallow (any real SealedSecret), compact otherwise."""
    pretty = _depth(manifest, _PRETTY_DEPTH) <= _PRETTY_DEPTH
    if as_json:
        if pretty:
            return json.dumps(manifest, indent=2, default=str) + "\n"
        return json.dumps(manifest, separators=(",", ":"), default=str) + "\n"
    text: str = yaml.dump(
        manifest,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=not pretty,
        allow_unicode=True,
        width=1 << 30,
    )
    return text


_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _one_line(message: str) -> str:
    """An error message as one line of bounded length."""
    text = _CONTROL.sub(" ", message).strip()
    if len(text) > limits.HTTP_MAX_ERROR_TEXT:
        text = text[: limits.HTTP_MAX_ERROR_TEXT - 1] + "…"
    return text


def _text(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=message.rstrip("\n") + "\n", headers=headers)


def _too_many(wait: float, endpoint: str) -> web.Response:
    retry = str(max(1, math.ceil(wait))) if math.isfinite(wait) else "3600"
    return _text(429, f"too many {endpoint} requests; slow down", {"Retry-After": retry})


_NOT_YET: Final = {"Retry-After": "5"}  # a 503 that passes: the operator is starting or loading keys


def _too_large() -> web.Response:
    return _text(413, f"request body larger than {safeload.size_text(MAX_BODY)}")


def _unexpected(endpoint: str, exc: BaseException) -> web.Response:
    # The type only: an exception's text may quote the request.
    logger.error("unexpected %s in %s", type(exc).__name__, endpoint)
    return _text(500, INTERNAL_ERROR)


async def verify_one(verify: Callable[[dict[str, Any]], Awaitable[None]], item: Any) -> tuple[int, str]:
    """One document of a verify batch: (status, one-line message), as the single form would answer."""
    if not isinstance(item, dict):
        return 400, "not a SealedSecret object"
    try:
        await verify(item)
    except (SpecError, InputError) as exc:
        return 400, _one_line(str(exc))
    except SecretSyncError as exc:
        return 409, _one_line(str(exc))
    except Exception as exc:
        logger.error("unexpected %s in verify (batch)", type(exc).__name__)
        return 500, INTERNAL_ERROR
    return 200, "ok: every value can be unsealed"


def api_app(
    hooks: ApiHooks,
    *,
    limiter: RateLimiter | None = None,
    rotate_limiter: RateLimiter | None = None,
    parse_workers: int = limits.HTTP_PARSE_WORKERS,
) -> web.Application:
    """``/healthz`` (liveness: the process serves, also as an HA standby), ``/readyz``
    (this replica reconciles) and the SealedSecret endpoints.

    ``limiter`` limits /v1/verify and ``rotate_limiter`` /v1/rotate; without one, rotate
    gets a copy of ``limiter``'s settings with buckets of its own.
    """
    verify_limiter = limiter or RateLimiter()
    rotate_limiter = rotate_limiter or verify_limiter.copy()
    parsers = ThreadPoolExecutor(max_workers=parse_workers, thread_name_prefix="secretsync-http-parse")

    async def in_worker(func: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(parsers, func, *args)

    async def read_manifest(request: web.Request) -> tuple[dict[str, Any], bool]:
        raw = await _read_body(request)
        body: dict[str, Any] = await in_worker(_parse_body, raw)
        return body, _wants_json(request, raw)

    async def healthz(_: web.Request) -> web.Response:
        return _text(200, "ok")

    async def readyz(_: web.Request) -> web.Response:
        if not hooks.is_ready():
            return _text(503, "not ready: starting or standing by for the leader lease")
        problems = hooks.problems()
        if problems:
            return _text(503, "not ready: " + "; ".join(problems))
        return _text(200, "ready")

    async def cert(_: web.Request) -> web.Response:
        pem = hooks.cert_pem()
        if pem is None:
            return _text(503, "no sealing key yet", _NOT_YET)
        return web.Response(body=pem, content_type="application/x-pem-file")

    async def verify(request: web.Request) -> web.Response:
        if hooks.verify is None:
            return _text(503, "not ready", _NOT_YET)
        client = request.remote or "?"
        wait = verify_limiter.check(client)
        if wait:
            return _too_many(wait, "verify")
        try:
            raw = await _read_body(request)
            body: dict[str, Any] | list[Any] = await in_worker(_parse_verify_body, raw)
            if isinstance(body, dict):
                await hooks.verify(body)
            else:
                verify_limiter.charge(client, batch_cost(len(body)) - 1)  # check() took one
                results = [await verify_one(hooks.verify, item) for item in body]
                as_json = _wants_json(request, raw)
                text: str = await in_worker(_render, verify_answer(results), as_json)
                valid = all(status == 200 for status, _ in results)
                content_type = "application/json" if as_json else "application/yaml"
                return web.Response(status=200 if valid else 409, text=text, content_type=content_type)
        except _BodyTooLarge:
            return _too_large()
        except (SpecError, InputError) as exc:
            return _text(400, _one_line(str(exc)))
        except SecretSyncError as exc:  # UnsealError and the like: it cannot be unsealed
            return _text(409, _one_line(str(exc)))
        except Exception as exc:
            return _unexpected("verify", exc)
        return _text(200, "ok: every value can be unsealed")

    async def rotate(request: web.Request) -> web.Response:
        if hooks.rotate is None:
            return _text(503, "not ready", _NOT_YET)
        wait = rotate_limiter.check(request.remote or "?")
        if wait:
            return _too_many(wait, "rotate")
        try:
            body, as_json = await read_manifest(request)
            rotated = await hooks.rotate(body)
            answer = sealing.answer_manifest(rotated)
            text: str = await in_worker(_render, answer, as_json)
        except _BodyTooLarge:
            return _too_large()
        except (SpecError, InputError) as exc:
            return _text(400, _one_line(str(exc)))
        except (UnsealError, SecretSyncError) as exc:
            return _text(409, _one_line(str(exc)))
        except Exception as exc:
            return _unexpected("rotate", exc)
        content_type = "application/json" if as_json else "application/yaml"
        return web.Response(text=text, content_type=content_type)

    async def stop_parsers(_: web.Application) -> None:
        parsers.shutdown(wait=False, cancel_futures=True)

    app = web.Application(client_max_size=MAX_BODY)
    app.on_cleanup.append(stop_parsers)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/v1/cert.pem", cert)
    app.router.add_post("/v1/verify", verify)
    app.router.add_post("/v1/rotate", rotate)
    return app


def metrics_app(metrics: Metrics) -> web.Application:
    """``/metrics`` in the Prometheus text format, plus ``/healthz`` for probes of this port."""

    async def render(_: web.Request) -> web.Response:
        body = metrics.render()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    async def healthz(_: web.Request) -> web.Response:
        return _text(200, "ok")

    app = web.Application()
    app.router.add_get("/metrics", render)
    app.router.add_get("/healthz", healthz)
    return app


async def serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start ``app`` on ``host:port``; the caller owns ``runner.cleanup()``."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    return runner
