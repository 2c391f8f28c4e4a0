"""Small readers for provider spec sections, shared so every provider reports bad input alike.

Each raises :class:`SpecError` naming the exact field path (``spec.provider.aws.auth...``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from secretsync.errors import SpecError
from secretsync.providers.base import SecretKeyRef


def opt_str(body: Mapping[str, Any], field: str, where: str) -> str | None:
    """An optional string field; empty counts as absent."""
    value = body.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SpecError(f"{where}.{field}", "must be a string")
    return value


def secret_key_ref(value: Any, where: str, default_key: str | None = None) -> SecretKeyRef:
    """A ``{name, key, namespace}`` reference to a key of a Kubernetes Secret."""
    if not isinstance(value, Mapping):
        raise SpecError(where, "must be an object with name and key")
    name = opt_str(value, "name", where)
    key = opt_str(value, "key", where) or default_key
    if not name:
        raise SpecError(f"{where}.name", "is required")
    if not key:
        raise SpecError(f"{where}.key", "is required")
    return SecretKeyRef(name=name, key=key, namespace=opt_str(value, "namespace", where))
