"""Prometheus instruments, one :class:`Metrics` per operator process.

A registry per instance (not prometheus_client's global one) lets tests run
several operators in one process. Label values are kinds, object names,
reasons and provider operations: never secret material.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_LATEST


class _KeyCollector(Collector):
    """Key ring figures read at scrape time from callables (no state to keep in sync)."""

    def __init__(self) -> None:
        self.active_keys: Callable[[], int] = lambda: 0
        self.newest_key_age: Callable[[], float | None] = lambda: None
        self.rsa_attempts: Callable[[], int] = lambda: 0

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        yield GaugeMetricFamily(
            "secretsync_sealing_keys_active", "Active sealing keys in the key ring.", value=self.active_keys()
        )
        age = self.newest_key_age()
        if age is not None:
            yield GaugeMetricFamily(
                "secretsync_sealing_key_newest_age_seconds", "Age of the newest sealing key.", value=age
            )
        yield CounterMetricFamily(
            "secretsync_rsa_decrypt_attempts",
            "RSA private-key operations spent opening sealed values (1 per value when hints work).",
            value=self.rsa_attempts(),
        )


class Metrics:
    """The operator's instruments."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.up = Gauge(
            "secretsync_operator_up",
            "1 while this replica is reconciling (the leader, with --leader-elect).",
            registry=self.registry,
        )
        self.ready = Gauge(
            "secretsync_ready",
            "1 if the object's Ready condition is True, else 0.",
            ["kind", "namespace", "name"],
            registry=self.registry,
        )
        self.unseal_requests = Counter(
            "secretsync_unseal_attempts",
            "SealedSecret reconciles that tried to unseal.",
            registry=self.registry,
        )
        self.shard_info = Gauge(
            "secretsync_shard_info",
            '1, labelled with this instance\'s --watch-label-selector ("": every object), its shard id '
            "(in its User-Agent), its leader Lease, and whether it manages the sealing keys.",
            ["selector", "shard", "lease", "manages_keys"],
            registry=self.registry,
        )
        self.unseal_verified = Counter(
            "secretsync_unseal_verified",
            "SealedSecrets found synced at a first look without unsealing (the Secret's mark holds).",
            registry=self.registry,
        )
        self.unseal_errors = Counter(
            "secretsync_unseal_errors",
            "Failed SealedSecret reconciles by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.syncs = Counter(
            "secretsync_external_syncs",
            "ExternalSecret syncs.",
            ["namespace", "name"],
            registry=self.registry,
        )
        self.sync_errors = Counter(
            "secretsync_external_sync_errors",
            "Failed ExternalSecret syncs by reason.",
            ["namespace", "name", "reason"],
            registry=self.registry,
        )
        self.sync_duration = Histogram(
            "secretsync_external_sync_duration_seconds",
            "Time of one ExternalSecret sync (fetch, render, write).",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.provider_calls = Counter(
            "secretsync_provider_calls",
            "Provider calls by provider, operation (get, get_map, find, check) and result.",
            ["provider", "operation", "result"],
            registry=self.registry,
        )
        self.provider_events = Counter(
            "secretsync_provider_events",
            "Provider client events, e.g. event=login for each Vault login.",
            ["provider", "event"],
            registry=self.registry,
        )
        self.api_errors = Counter(
            "secretsync_api_errors",
            "Kubernetes API requests that failed, by verb and HTTP status (0: no answer).",
            ["verb", "code"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "secretsync_queue_depth",
            "Scheduled jobs (syncs, refreshes, retries, key upkeep) waiting or running.",
            registry=self.registry,
        )
        self.oldest_job = Gauge(
            "secretsync_queue_oldest_running_seconds",
            "How long the longest-running scheduled job has been running (0: none runs).",
            registry=self.registry,
        )
        self.reconcile_duration = Histogram(
            "secretsync_reconcile_duration_seconds",
            "Time of one reconcile by kind (SealedSecret: unseal and write; ExternalSecret: sync).",
            ["kind"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.keys = _KeyCollector()
        self.registry.register(self.keys)

    def api_answered(self, verb: str, code: int, _reason: str = "") -> None:
        if code >= 400 or code == 0:
            self.api_errors.labels(verb=verb, code=str(code)).inc()

    def set_ready(self, kind: str, namespace: str, name: str, ready: bool) -> None:
        self.ready.labels(kind=kind, namespace=namespace, name=name).set(1 if ready else 0)

    def forget_object(self, kind: str, namespace: str, name: str) -> None:
        with contextlib.suppress(KeyError):
            self.ready.remove(kind, namespace, name)

    def render(self) -> bytes:
        """The text exposition format, as served on ``/metrics``."""
        return generate_latest(self.registry)
