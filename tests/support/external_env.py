"""Helpers for ExternalSecret end-to-end tests: stores, ExternalSecrets, status and metrics."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from typing import Any

from tests.support.kube_emulator import wait_for
from tests.support.operator_proc import OperatorProcess
from tests.support.sealed_env import ready

API = "secretsync.io/v1alpha1"


def token_secret(name: str, namespace: str, token: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"token": base64.b64encode(token.encode()).decode()},
    }


def vault_store(
    name: str,
    namespace: str | None,
    server: str,
    auth: dict[str, Any],
    *,
    path: str = "secret",
    version: str = "v2",
) -> dict[str, Any]:
    kind = "SecretStore" if namespace else "ClusterSecretStore"
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {
        "apiVersion": API,
        "kind": kind,
        "metadata": meta,
        "spec": {"provider": {"vault": {"server": server, "path": path, "version": version, "auth": auth}}},
    }


def external_secret(name: str, namespace: str, store: str, **spec: Any) -> dict[str, Any]:
    spec.setdefault("secretStoreRef", {"name": store, "kind": "SecretStore"})
    spec.setdefault("refreshInterval", "1h")
    return {
        "apiVersion": API,
        "kind": "ExternalSecret",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def root_token_store(emu: Any, openbao: Any, namespace: str, name: str = "vault", **kw: Any) -> None:
    """A SecretStore ``name`` in ``namespace`` using OpenBao's root token (from a Secret beside it)."""
    emu.create(token_secret("vault-token", namespace, openbao.root_token))
    auth = {"tokenSecretRef": {"name": "vault-token", "key": "token"}}
    emu.create(vault_store(name, namespace, openbao.addr, auth, **kw))


class ExternalEnv:
    def __init__(self, emulator: Any) -> None:
        self.emu = emulator

    def get(self, kind: str, name: str, namespace: str | None) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self.emu.get(API, kind, name, namespace)
        return result

    def secret(self, name: str, namespace: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self.emu.get("v1", "Secret", name, namespace)
        return result

    def values(self, name: str, namespace: str) -> dict[str, bytes]:
        secret = self.secret(name, namespace) or {}
        return {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}

    def wait_reason(
        self, kind: str, name: str, namespace: str | None, reason: str, timeout: float = 20.0
    ) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            cond = ready(self.get(kind, name, namespace))
            return cond if cond and cond["reason"] == reason else None

        def last() -> str:
            return str(ready(self.get(kind, name, namespace)))

        try:
            result: dict[str, Any] = wait_for(
                check, timeout=timeout, message=f"{kind} {name} reason={reason}"
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last condition: {last()}") from None
        return result

    def wait_synced(self, name: str, namespace: str, timeout: float = 20.0) -> dict[str, Any]:
        return self.wait_reason("ExternalSecret", name, namespace, "SecretSynced", timeout)

    def events(self, name: str, namespace: str) -> list[dict[str, Any]]:
        return [e for e in self.emu.list("v1", "Event", namespace) if e["involvedObject"].get("name") == name]


def metric_value(proc: OperatorProcess, name: str, /, **labels: str) -> float:
    text = proc.metrics()
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        match = re.match(rf"{re.escape(name)}(\{{[^}}]*\}})? ([0-9.e+-]+)$", line)
        if not match:
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            total += float(match.group(2))
    return total


_STATUS_KINDS = ("ExternalSecret", "SecretStore", "ClusterSecretStore")


def assert_no_leak(proc: OperatorProcess, env: ExternalEnv, secrets: Iterable[str]) -> None:
    """None of ``secrets`` (as is, or base64) in the operator log, an Event or a status."""
    texts = [
        proc.logs(),
        json.dumps(env.emu.list("v1", "Event")),
        *(json.dumps([o.get("status") for o in env.emu.list(API, kind)]) for kind in _STATUS_KINDS),
    ]
    for secret in secrets:
        for needle in (secret, base64.b64encode(secret.encode()).decode()):
            for text in texts:
                assert needle not in text
