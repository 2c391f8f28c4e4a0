"""The operator's HTTP surfaces, built from plain callables (not from the operator).

Handing the server callables, as Bitnami's controller does, keeps it testable
without a cluster and keeps kopf out of this module. Two apps: the API + health
app on ``--http-port`` and the metrics app on ``--metrics-port``.

API (Bitnami-compatible paths):
``GET /v1/cert.pem`` the newest sealing certificate;
``POST /v1/verify`` 200 if the posted SealedSecret can be unsealed, 409 if not;
``POST /v1/rotate`` the SealedSecret re-encrypted with the newest key, 409 if it
cannot be opened, 400 if the body is not a SealedSecret. Bodies are JSON or
YAML; answers use the format of the request. Nothing served ever contains a
secret value or key material beyond the public certificate.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import yaml
from aiohttp import web

from secretsync.errors import SecretSyncError, SpecError, UnsealError
from secretsync.metrics import CONTENT_TYPE, Metrics

MAX_BODY = 4 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class ApiHooks:
    """What the API app may ask of the operator."""

    is_ready: Callable[[], bool]
    cert_pem: Callable[[], bytes | None] = lambda: None
    verify: Callable[[dict[str, Any]], Awaitable[None]] | None = None  # raises UnsealError / SpecError
    rotate: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]] | None = None


class RateLimiter:
    """A token bucket per client address: ``rate`` requests a second, bursts of ``burst``.

    /v1/verify answers "can this ciphertext be opened", an oracle worth rate-limiting.
    """

    def __init__(self, rate: float = 5.0, burst: int = 10) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        tokens, last = self._buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if len(self._buckets) > 10_000:
            self._buckets.clear()
        if tokens < 1:
            self._buckets[client] = (tokens, now)
            return False
        self._buckets[client] = (tokens - 1, now)
        return True


def _wants_json(request: web.Request, raw: bytes) -> bool:
    return "json" in request.content_type or raw.lstrip()[:1] in (b"{", b"[")


async def _read_manifest(request: web.Request) -> tuple[dict[str, Any], bool]:
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=len(raw))
    try:
        body = yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError):
        raise SpecError("request body", "is not valid JSON or YAML") from None
    if not isinstance(body, dict):
        raise SpecError("request body", "must be one SealedSecret object")
    return body, _wants_json(request, raw)


def _text(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=message.rstrip("\n") + "\n")


def api_app(hooks: ApiHooks, *, limiter: RateLimiter | None = None) -> web.Application:
    """``/healthz`` (liveness: the process serves, also as an HA standby), ``/readyz``
    (this replica reconciles) and the SealedSecret endpoints."""
    limiter = limiter or RateLimiter()

    async def healthz(_: web.Request) -> web.Response:
        return _text(200, "ok")

    async def readyz(_: web.Request) -> web.Response:
        if hooks.is_ready():
            return _text(200, "ready")
        return _text(503, "not ready: starting or standing by for the leader lease")

    async def cert(_: web.Request) -> web.Response:
        pem = hooks.cert_pem()
        if pem is None:
            return _text(503, "no sealing key yet")
        return web.Response(body=pem, content_type="application/x-pem-file")

    async def verify(request: web.Request) -> web.Response:
        if hooks.verify is None:
            return _text(503, "not ready")
        if not limiter.allow(request.remote or "?"):
            return _text(429, "too many verify requests; slow down")
        try:
            body, _ = await _read_manifest(request)
            await hooks.verify(body)
        except SpecError as exc:
            return _text(400, str(exc))
        except UnsealError as exc:
            return _text(409, str(exc))
        return _text(200, "ok: every value can be unsealed")

    async def rotate(request: web.Request) -> web.Response:
        if hooks.rotate is None:
            return _text(503, "not ready")
        try:
            body, as_json = await _read_manifest(request)
            rotated = await hooks.rotate(body)
        except SpecError as exc:
            return _text(400, str(exc))
        except (UnsealError, SecretSyncError) as exc:
            return _text(409, str(exc))
        if as_json:
            return web.Response(text=json.dumps(rotated, indent=2) + "\n", content_type="application/json")
        return web.Response(text=yaml.safe_dump(rotated, sort_keys=False), content_type="application/yaml")

    app = web.Application(client_max_size=MAX_BODY)
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
