"""The operator's HTTP surfaces, built from plain callables (not from the operator).

Handing the server callables, as Bitnami's controller does, keeps it testable
without a cluster and keeps kopf out of this module. Two apps: the API + health
app on ``--http-port`` and the metrics app on ``--metrics-port``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from aiohttp import web

from secretsync.metrics import CONTENT_TYPE, Metrics


@dataclasses.dataclass(frozen=True)
class ApiHooks:
    """What the API app may ask of the operator."""

    is_healthy: Callable[[], bool]


def api_app(hooks: ApiHooks) -> web.Application:
    """``/healthz`` now; the SealedSecret endpoints join it with the key ring."""

    async def healthz(_: web.Request) -> web.Response:
        if hooks.is_healthy():
            return web.Response(text="ok\n")
        return web.Response(status=503, text="starting\n")

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    return app


def metrics_app(metrics: Metrics) -> web.Application:
    """``/metrics`` in the Prometheus text format, plus ``/healthz`` for probes of this port."""

    async def render(_: web.Request) -> web.Response:
        body = metrics.render()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok\n")

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
