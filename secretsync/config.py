"""Operator settings: parsed once from flags and ``SECRETSYNC_*`` variables, then frozen.

The CLI builds a :class:`Settings`; everything downstream reads it and never
looks at ``os.environ`` again, so a running operator cannot change behaviour
because some library touched the environment.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re

from secretsync import sharding, tenancy
from secretsync.errors import UsageError

DEFAULT_NAMESPACE = "secretsync-system"
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str, *, what: str = "duration") -> float:
    """Parse a Go-style duration (``720h``, ``1h30m``, ``90s``, ``0``) into seconds.

    Users bring these strings from Bitnami's flags and ESO's ``refreshInterval``;
    a bare number means seconds.
    """
    value = text.strip()
    if not value:
        raise UsageError(f"{what}: empty duration")
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        return float(value)
    pos = 0
    total = 0.0
    for match in _DURATION_PART.finditer(value):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(value) or pos == 0:
        raise UsageError(f"{what}: {text!r} is not a duration (use e.g. 90s, 15m, 720h, 1h30m)")
    return total


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything the operator process is told at start."""

    namespace: str = DEFAULT_NAMESPACE
    watch_namespaces: tuple[str, ...] = ()
    http_port: int = 8080
    metrics_port: int = 8081
    bind_address: str = "0.0.0.0"  # noqa: S104 - a pod serves its probes on all interfaces
    leader_elect: bool = False
    log_level: str = "info"
    log_format: str = "text"
    kubeconfig: str | None = None
    context: str | None = None
    key_renew_period: float = 720 * 3600.0  # seconds; 0 = never add keys on a schedule
    key_cutoff_time: dt.datetime | None = None  # a newest key older than this is replaced at start
    bitnami_keys: bool = False
    standby_key_reload: float = 15.0  # seconds between key ring reloads on an HA standby
    unready_after: float = 30.0  # seconds of failing API writes before /readyz fails
    allowed_servers: tuple[str, ...] = ()  # secretsync.tenancy: servers stores may name; () = any
    token_audiences: tuple[str, ...] = ()  # extra audiences stores may request for minted tokens
    eso_compat: bool = False  # also reconcile external-secrets.io/v1 ExternalSecrets and stores
    bitnami_compat: bool = False  # also reconcile bitnami.com/v1alpha1 SealedSecrets
    controller_class: str = (
        "default"  # ESO's --controller-class: stores with another spec.controller are left alone
    )
    # Sharding (secretsync.sharding): only the SealedSecrets, ExternalSecrets and stores this label
    # selector matches are reconciled; "" = all of them.
    watch_label_selector: str = ""
    # Generate and renew sealing keys? None: the instance that takes unlabelled objects does.
    manage_keys: bool | None = None

    def __post_init__(self) -> None:
        if self.log_level not in LOG_LEVELS:
            raise UsageError(f"--log-level must be one of {', '.join(LOG_LEVELS)}")
        if self.log_format not in LOG_FORMATS:
            raise UsageError(f"--log-format must be one of {', '.join(LOG_FORMATS)}")
        for port in (self.http_port, self.metrics_port):
            if not 0 <= port <= 65535:
                raise UsageError(f"port {port} is out of range 0-65535")
        if self.http_port and self.http_port == self.metrics_port:
            raise UsageError("--http-port and --metrics-port must differ")
        if self.key_renew_period < 0:
            raise UsageError("--key-renew-period must not be negative")
        try:
            tenancy.parse_allowed_servers(self.allowed_servers)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if any(not audience or audience != audience.strip() for audience in self.token_audiences):
            raise UsageError("--token-audiences entries must be non-empty, without spaces around them")
        if not self.controller_class or self.controller_class != self.controller_class.strip():
            raise UsageError("--controller-class must be non-empty, without spaces around it")
        try:
            sharding.Selector.parse(self.watch_label_selector)
        except ValueError as exc:
            raise UsageError(f"--watch-label-selector: {exc}") from None

    @property
    def tenancy_rules(self) -> tenancy.Rules:
        """What tenants may do, as the cluster admin set it (secretsync.tenancy)."""
        return tenancy.Rules(allowed_servers=self.allowed_servers, token_audiences=self.token_audiences)

    @property
    def clusterwide(self) -> bool:
        return not self.watch_namespaces

    @functools.cached_property
    def shard(self) -> sharding.Selector:
        """The objects this instance reconciles (``--watch-label-selector``)."""
        return sharding.Selector.parse(self.watch_label_selector)

    @property
    def manages_keys(self) -> bool:
        """Does this instance generate and renew sealing keys (else it only reads the key ring)?
        Exactly one instance must: by default the one that takes unlabelled objects (no selector,
        or the main instance's ``!sharding.secretsync.io/key``), never a shard (``key=shard1``)."""
        return self.manage_keys if self.manage_keys is not None else self.shard.takes_unlabelled


def split_list(values: tuple[str, ...]) -> tuple[str, ...]:
    """A list flag: ``--watch-namespace a --watch-namespace b`` or ``SECRETSYNC_WATCH_NAMESPACE="a,b"``."""
    out: list[str] = []
    for value in values:
        for part in re.split(r"[,\s]+", value):
            if part and part not in out:
                out.append(part)
    return tuple(out)


def parse_time(text: str, *, what: str = "time") -> dt.datetime:
    """An RFC 3339 timestamp (``2026-01-31T00:00:00Z``) or a date (``2026-01-31``), as UTC."""
    value = text.strip()
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{what}: {text!r} is not an RFC 3339 time (e.g. 2026-01-31T00:00:00Z)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
