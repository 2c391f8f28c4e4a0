"""Secrets the API server refuses, shared by the emulator's tests and the real-cluster parity test.

Each case: a Secret body (``data`` in base64) and the fields kube-apiserver names in the 422's
``details.causes``. tests/test_emulator_gaps.py checks the emulator refuses each the same way;
tests/cluster/test_emulator_parity_real.py checks the real server does, so the two cannot drift.
"""

from __future__ import annotations

import base64
from typing import Any


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secret(
    name: str, data: dict[str, str], type_: str = "Opaque", labels: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "labels": labels or {}},
        "type": type_,
        "data": {k: _b64(v) for k, v in data.items()},
    }


REFUSED: list[tuple[str, dict[str, Any], set[str]]] = [
    ("bad-key", secret("bad-key", {"bad key": "v"}), {"data[bad key]"}),
    ("dot-key", secret("dot-key", {"..": "v"}), {"data[..]"}),
    ("tls-no-key", secret("tls-no-key", {"tls.crt": "c"}, "kubernetes.io/tls"), {"data[tls.key]"}),
    (
        "docker-not-json",
        secret("docker-not-json", {".dockerconfigjson": "not json"}, "kubernetes.io/dockerconfigjson"),
        {"data[.dockerconfigjson]"},
    ),
    (
        "basic-empty",
        secret("basic-empty", {"other": "x"}, "kubernetes.io/basic-auth"),
        {"data[username]", "data[password]"},
    ),
    ("too-big", secret("too-big", {"a": "x" * 600_000, "b": "y" * 600_000}), {"data"}),
    ("long-label", secret("long-label", {"k": "v"}, labels={"app": "x" * 64}), {"metadata.labels"}),
]
