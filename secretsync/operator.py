"""The only module that imports kopf: settings, login, handlers and the run loop.

Handlers here are thin: they parse, call the pure core or the adapters, and map
errors to status, events and retries. :func:`run` starts kopf in-process next to
the HTTP API and metrics servers, so users need no ``kopf run`` wrapper.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from typing import Any

import kopf

from secretsync import http, kube
from secretsync.config import Settings
from secretsync.metrics import Metrics

logger = logging.getLogger("secretsync.operator")

# An explicit registry (not kopf's global default): importing this module
# registers nothing globally, and tests can run several operators in one process.
REGISTRY = kopf.OperatorRegistry()

Flag = asyncio.Event | threading.Event | asyncio.Future[Any]


@dataclasses.dataclass
class Runtime:
    """Per-process state shared by the handlers, carried in kopf's memo."""

    settings: Settings
    metrics: Metrics
    ready: threading.Event = dataclasses.field(default_factory=threading.Event)


def _runtime(memo: kopf.Memo) -> Runtime:
    runtime = memo.get("runtime")
    assert isinstance(runtime, Runtime)
    return runtime


@kopf.on.login(registry=REGISTRY)
def login(memo: kopf.Memo, **_: Any) -> kopf.ConnectionInfo:
    """Authenticate exactly as kubectl would: explicit flags, in-cluster, then KUBECONFIG."""
    settings = _runtime(memo).settings
    conn = kube.load_connection(settings.kubeconfig, settings.context)
    return kopf.ConnectionInfo(
        server=conn.server,
        ca_path=conn.ca_path,
        insecure=conn.insecure,
        scheme=conn.scheme,
        token=conn.token,
        username=conn.username,
        password=conn.password,
        certificate_path=conn.certificate_path,
        private_key_path=conn.private_key_path,
        default_namespace=conn.default_namespace,
    )


def kopf_settings() -> kopf.OperatorSettings:
    """Every kopf setting the operator relies on, each with the reason."""
    settings = kopf.OperatorSettings()
    # Our handlers post their own events with a reason and a clear message;
    # kopf's per-log-line events would flood `kubectl describe`.
    settings.posting.enabled = True
    settings.posting.loggers = False
    # Leader election is ours (a Lease), not kopf's peering CRDs.
    settings.peering.standalone = True
    # Reconnect watches regularly so a silently dropped connection cannot stall the operator.
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = 30
    # Handler progress lives in an annotation we name, not under status.kopf.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="secretsync.io")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix="secretsync.io", key="last-handled-configuration"
    )
    settings.persistence.finalizer = "secretsync.io/finalizer"
    return settings


async def run(
    settings: Settings,
    *,
    stop_flag: Flag | None = None,
    ready_flag: threading.Event | None = None,
) -> None:
    """Run the operator until ``stop_flag`` is set or SIGINT/SIGTERM arrives (main thread)."""
    metrics = Metrics()
    runtime = Runtime(settings=settings, metrics=metrics)
    api = await http.serve(
        http.api_app(http.ApiHooks(is_healthy=runtime.ready.is_set)),
        settings.bind_address,
        settings.http_port,
    )
    metrics_runner = await http.serve(http.metrics_app(metrics), settings.bind_address, settings.metrics_port)
    logger.info(
        "secretsync operator starting: namespace=%s watching=%s http=%s metrics=%s",
        settings.namespace,
        ",".join(settings.watch_namespaces) or "all namespaces",
        settings.http_port,
        settings.metrics_port,
    )
    kopf_ready = asyncio.Event()

    async def mark_ready() -> None:
        await kopf_ready.wait()
        runtime.ready.set()
        metrics.up.set(1)
        if ready_flag is not None:
            ready_flag.set()
        logger.info("secretsync operator is ready")

    marker = asyncio.create_task(mark_ready())
    try:
        await kopf.operator(
            registry=REGISTRY,
            settings=kopf_settings(),
            memo=kopf.Memo(runtime=runtime),
            clusterwide=settings.clusterwide,
            namespaces=settings.watch_namespaces,
            standalone=True,
            stop_flag=stop_flag,
            ready_flag=kopf_ready,
        )
    finally:
        marker.cancel()
        runtime.ready.clear()
        metrics.up.set(0)
        await api.cleanup()
        await metrics_runner.cleanup()
        logger.info("secretsync operator stopped")
