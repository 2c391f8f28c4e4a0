"""Prometheus instruments, one :class:`Metrics` per operator process.

A registry per instance (not prometheus_client's global one) lets tests run
several operators in one process. Label values are object names, reasons and
provider operations: never secret material.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """The operator's instruments. Later features add theirs here."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.up = Gauge(
            "secretsync_operator_up",
            "1 while the operator is running and connected to the Kubernetes API.",
            registry=self.registry,
        )

    def render(self) -> bytes:
        """The text exposition format, as served on ``/metrics``."""
        return generate_latest(self.registry)
