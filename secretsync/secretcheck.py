"""What the API server will refuse in a Secret, checked before the operator writes one.

The API server validates every Secret write (``ValidateSecret`` / ``ValidateSecretUpdate`` in
Kubernetes' core validation) and answers 422 when a rule is broken. Reported as a generic API
error, that became a transient failure retried forever, a Warning event each time. The rules are
simple and stable, so they are checked here first and reported as what they are: a spec the
user must change, with the field to change. Messages name fields and keys, never values.

Rules (Kubernetes 1.37): data keys are ``[-._a-zA-Z0-9]+`` (at most 253, not ``.`` or ``..``);
all data together at most 1 MiB; by type: ``kubernetes.io/tls`` needs ``tls.crt`` and
``tls.key``, ``kubernetes.io/dockerconfigjson`` a JSON ``.dockerconfigjson``,
``kubernetes.io/dockercfg`` a JSON ``.dockercfg``, ``kubernetes.io/basic-auth`` ``username`` or
``password``, ``kubernetes.io/ssh-auth`` a non-empty ``ssh-privatekey``,
``kubernetes.io/service-account-token`` the ``kubernetes.io/service-account.name`` annotation;
label keys and values and annotation keys as for any object, annotations at most 256 KiB in all.
On update: ``type`` never changes, and an ``immutable`` Secret keeps its data and stays immutable.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from secretsync.errors import SpecError

MAX_SECRET_BYTES = 1 << 20
MAX_ANNOTATION_BYTES = 256 << 10
_DATA_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_NAME_PART = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_REQUIRED_KEYS = {
    "kubernetes.io/tls": (("tls.crt", "tls.key"), "all"),
    "kubernetes.io/basic-auth": (("username", "password"), "any"),
    "kubernetes.io/dockerconfigjson": ((".dockerconfigjson",), "all"),
    "kubernetes.io/dockercfg": ((".dockercfg",), "all"),
    "kubernetes.io/ssh-auth": (("ssh-privatekey",), "all"),
}
_JSON_KEYS = {"kubernetes.io/dockerconfigjson": ".dockerconfigjson", "kubernetes.io/dockercfg": ".dockercfg"}


class InvalidSecret(SpecError):
    """The Secret the spec asks for is one the API server refuses; permanent until the spec changes."""

    reason = "InvalidSecret"


class ImmutableSecret(InvalidSecret):
    """The Secret is immutable and the spec asks for a change; it must be deleted to be re-created."""

    reason = "ImmutableSecretChanged"


def _decoded(data: Mapping[str, Any]) -> dict[str, bytes]:
    out = {}
    for key, value in data.items():
        try:
            out[key] = base64.b64decode(str(value), validate=True)
        except (binascii.Error, ValueError):
            out[key] = b""
    return out


def _qualified(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if "/" in key and not (0 < len(prefix) <= 253 and _DNS_SUBDOMAIN.fullmatch(prefix)):
        return False
    return 0 < len(name) <= 63 and _NAME_PART.fullmatch(name) is not None


def problems(secret: Mapping[str, Any]) -> list[str]:
    """What the API server would refuse in ``secret`` (a Secret body with base64 ``data``)."""
    found: list[str] = []
    data = secret.get("data") if isinstance(secret.get("data"), Mapping) else {}
    values = _decoded(data)  # type: ignore[arg-type]
    for key in values:
        if len(key) > 253 or key in (".", "..") or not _DATA_KEY.fullmatch(key):
            found.append(
                f"data key {key[:80]!r} is not a valid Secret key (letters, digits, '-', '_', '.'; "
                "at most 253; not '.' or '..')"
            )
    total = sum(len(v) for v in values.values())
    if total > MAX_SECRET_BYTES:
        found.append(f"its data is {total:,} bytes; a Secret holds at most 1 MiB")
    kind = str(secret.get("type") or "Opaque")
    if kind in _REQUIRED_KEYS:
        keys, how = _REQUIRED_KEYS[kind]
        present = [k for k in keys if k in values]
        if (how == "all" and len(present) != len(keys)) or (how == "any" and not present):
            need = " and ".join(keys) if how == "all" else " or ".join(keys)
            found.append(f"a Secret of type {kind} needs the key {need}")
        if kind == "kubernetes.io/ssh-auth" and "ssh-privatekey" in values and not values["ssh-privatekey"]:
            found.append("a Secret of type kubernetes.io/ssh-auth needs a non-empty ssh-privatekey")
    if kind in _JSON_KEYS and _JSON_KEYS[kind] in values:
        try:
            parsed = json.loads(values[_JSON_KEYS[kind]])
        except (ValueError, RecursionError):
            parsed = None
        if not isinstance(parsed, dict):
            found.append(f"the key {_JSON_KEYS[kind]} of a Secret of type {kind} must be a JSON object")
    meta = secret.get("metadata") if isinstance(secret.get("metadata"), Mapping) else {}
    annotations = meta.get("annotations") or {}  # type: ignore[union-attr]
    if kind == "kubernetes.io/service-account-token" and not annotations.get(
        "kubernetes.io/service-account.name"
    ):
        found.append(
            "a Secret of type kubernetes.io/service-account-token needs the annotation "
            "kubernetes.io/service-account.name"
        )
    for key, value in (meta.get("labels") or {}).items():  # type: ignore[union-attr]
        if not _qualified(str(key)):
            found.append(f"label key {str(key)[:80]!r} is not a valid label key")
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.fullmatch(value):
            found.append(
                f"the value of label {str(key)[:80]!r} is not a valid label value (at most 63 letters, "
                "digits, '-', '_', '.', beginning and ending with a letter or digit)"
            )
    for key in annotations:
        if not _qualified(str(key)):
            found.append(f"annotation key {str(key)[:80]!r} is not a valid annotation key")
    size = sum(len(str(k)) + len(str(v)) for k, v in annotations.items())
    if size > MAX_ANNOTATION_BYTES:
        found.append(f"its annotations are {size:,} bytes; at most 256 KiB in all")
    return found


def type_problem(existing: Mapping[str, Any], desired: Mapping[str, Any]) -> str | None:
    old_type, new_type = existing.get("type") or "Opaque", desired.get("type") or "Opaque"
    if old_type == new_type:
        return None
    return (
        f"the Secret has type {old_type} and the spec asks for {new_type}; a Secret's type cannot "
        "change: delete the Secret so it is re-created with the new type"
    )


def immutable_problem(existing: Mapping[str, Any], desired: Mapping[str, Any]) -> str | None:
    if not existing.get("immutable"):
        return None
    if not desired.get("immutable"):
        return (
            "the Secret is immutable and the spec no longer asks for that; immutability cannot be "
            "undone: delete the Secret so it is re-created"
        )
    if (existing.get("data") or {}) != (desired.get("data") or {}):
        return (
            "the Secret is immutable and its data would change; left untouched. Fix: delete the "
            "Secret so it is re-created with the new data"
        )
    return None


def check(secret: Mapping[str, Any], existing: Mapping[str, Any] | None, where: str) -> None:
    """Raise :class:`InvalidSecret` naming every problem of writing ``secret`` (over ``existing``), or
    :class:`ImmutableSecret` when the only problem is that ``existing`` is immutable."""
    found = problems(secret)
    if existing is not None and (changed := type_problem(existing, secret)):
        found.append(changed)
    if found:
        raise InvalidSecret(where, "; ".join(found))
    if existing is not None and (frozen := immutable_problem(existing, secret)):
        raise ImmutableSecret(where, frozen)
