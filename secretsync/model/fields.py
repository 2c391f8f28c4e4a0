"""Vocabulary, patterns and small field helpers shared by the ExternalSecret and store models."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from secretsync import regex
from secretsync.errors import SpecError

# --------------------------------------------------------------------------- vocabulary

SECRET_STORE: Final = "SecretStore"  # noqa: S105 - a kind, not a password
CLUSTER_SECRET_STORE: Final = "ClusterSecretStore"  # noqa: S105 - a kind
STORE_KINDS: Final = (SECRET_STORE, CLUSTER_SECRET_STORE)
CREATION_POLICIES: Final = ("Owner", "Orphan", "Merge", "None")
DELETION_POLICIES: Final = ("Retain", "Delete", "Merge")
MERGE_POLICIES: Final = ("Replace", "Merge")
REFRESH_POLICIES: Final = ("CreatedOnce", "Periodic", "OnChange")
CONVERSION_STRATEGIES: Final = ("Default", "Unicode")
METADATA_POLICIES: Final = ("None", "Fetch")
TEMPLATE_SCOPES: Final = ("Values", "KeysAndValues")
TEMPLATE_TARGETS: Final = ("Data", "Annotations", "Labels")
MERGE_PRIORITY_POLICIES: Final = ("Strict", "IgnoreNotFound")
MERGE_CONFLICT_POLICIES: Final = ("Error", "Ignore")
MERGE_STRATEGIES: Final = ("Extract", "JSON")
DECODING_STRATEGIES: Final = ("None", "Base64", "Base64URL", "Auto")
PROVIDERS: Final = ("vault", "aws", "gcpsm", "fake")
VAULT_AUTH_METHODS: Final = ("tokenSecretRef", "appRole", "kubernetes")
SELECTOR_OPERATORS: Final = ("In", "NotIn", "Exists", "DoesNotExist")

DEFAULT_REFRESH_INTERVAL: Final = 3600.0  # ESO: 1h
NAMESPACE_NAME_LABEL: Final = "kubernetes.io/metadata.name"
MAX_DATA_FROM: Final = 256  # bounds the CEL cost estimate of the per-entry rule
MAX_CONDITIONS: Final = 64
MAX_TEMPLATE_FROM: Final = 64
MAX_TEMPLATE_ITEMS: Final = 256
MAX_REWRITES: Final = 32
MAX_RETRIES: Final = 10  # retrySettings.maxRetries: each retry holds the ExternalSecret's sync
MAX_SELECTOR_TERMS: Final = 64

# Patterns exactly as in the CRDs (anchored; matched with re.fullmatch, so a
# trailing newline never slips past "$" the way it would with re.match).
DNS_SUBDOMAIN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DNS_LABEL: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
SECRET_KEY: Final = r"^[-._a-zA-Z0-9]+$"  # noqa: S105 - a pattern
# Go's time.ParseDuration, which ESO's refreshInterval (a metav1.Duration) uses:
# "0", or one or more <number><unit> with units ns, us, µs (U+00B5), μs (U+03BC), ms, s, m, h.
GO_DURATION: Final = r"^(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$"

_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")


class FrozenMap(Mapping[str, str]):
    """An immutable, hashable ``str -> str`` mapping.

    Why: specs are frozen dataclasses that callers use as cache keys (a
    :class:`FindSpec` with tags is de-duplicated per sync), and a plain dict
    would make them unhashable and mutable behind the dataclass's back.
    Compares equal to any mapping with the same items.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        self._data: dict[str, str] = dict(data)

    def __getitem__(self, key: str) -> str:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


EMPTY: Final = FrozenMap()


def type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "an integer"}.get(
        type(value), type(value).__name__
    )


# --------------------------------------------------------------------------- parsing helpers


def opt_str(obj: Mapping[str, Any], key: str) -> str | None:
    """An optional string field; ESO treats "" like absent (Go's omitempty)."""
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


def sub(obj: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = obj.get(key)
    return value if isinstance(value, Mapping) else {}


def frozen(value: Any) -> FrozenMap:
    return FrozenMap(value) if isinstance(value, Mapping) else EMPTY


def metadata_of(body: Mapping[str, Any]) -> tuple[str, str | None]:
    if not isinstance(body, Mapping):
        raise SpecError("", f"a resource must be an object, not {type_name(body)}")
    meta = body.get("metadata")
    if not isinstance(meta, Mapping):
        raise SpecError("metadata", "is required")
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise SpecError("metadata.name", "is required")
    namespace = meta.get("namespace")
    return name, namespace if isinstance(namespace, str) and namespace else None


def parse_go_duration(text: str, path: str = "spec.refreshInterval") -> float:
    """A Go duration (``1h``, ``1h30m``, ``500ms``, ``0``) in seconds.

    Why not :func:`secretsync.config.parse_duration`: that one is for our own
    flags and accepts ``d`` and bare numbers, which Go (so ESO, so the CRD
    pattern) rejects, and lacks ``ns``/``us``. A value the API server refuses
    must not work here either.
    """
    if not isinstance(text, str) or not re.fullmatch(GO_DURATION, text):
        raise SpecError(path, f"{str(text)[:40]!r} is not a Go duration such as 1h, 15m, 1h30m or 0")
    return sum(float(num) * _UNIT_SECONDS[unit] for num, unit in _DURATION_PART.findall(text))


def is_secret_key(key: str) -> bool:
    """Whether ``key`` may name a Secret data key (Kubernetes ``IsConfigMapKey``)."""
    return (
        0 < len(key) <= 253
        and re.fullmatch(SECRET_KEY, key) is not None
        and key not in (".", "..")
        and not key.startswith("..")
    )


def check_secret_key(key: str, path: str) -> None:
    if not is_secret_key(key):
        raise SpecError(
            path,
            f"{key[:80]!r} is not a valid Secret key: use 1-253 letters, digits, '-', '_' or '.', "
            "and not '.', '..' or a name starting with '..'",
        )


def is_qualified_name(key: str) -> bool:
    """A label or annotation key: ``[prefix/]name``, prefix a DNS subdomain, name up to 63."""
    prefix, _, name = key.rpartition("/")
    if "/" in key and not (0 < len(prefix) <= 253 and re.fullmatch(DNS_SUBDOMAIN, prefix)):
        return False
    return 0 < len(name) <= 63 and _LABEL_NAME.fullmatch(name) is not None


def is_label_value(value: str) -> bool:
    return len(value) <= 63 and _LABEL_VALUE.fullmatch(value) is not None


def check_keys(mapping: Mapping[str, Any], path: str, what: str) -> None:
    for key in mapping:
        if not is_qualified_name(key):
            raise SpecError(
                f"{path}[{key}]",
                f"is not a valid {what} key: [prefix/]name, name up to 63 letters, digits, '-', '_', '.'",
            )


def compile_regex(pattern: str, path: str) -> None:
    """Tenant patterns run on RE2 (secretsync.regex): linear time, Go's regexp syntax, as in ESO."""
    try:
        regex.compile(pattern)
    except regex.RegexError as exc:
        raise SpecError(path, f"is not a valid regular expression: {exc}") from None
