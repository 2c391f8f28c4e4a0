"""Helpers for SealedSecret end-to-end tests: seed keys, seal, read status and events."""

from __future__ import annotations

import base64
import pathlib
from typing import Any

import yaml

from secretsync import crypto, sealing
from tests.support.kube_emulator import wait_for

VECTORS = pathlib.Path(__file__).resolve().parents[1] / "data" / "vectors"
OPERATOR_NS = "secretsync-system"
KEY_LABEL = "secretsync.io/sealing-key"
BITNAMI_KEY_LABEL = "sealedsecrets.bitnami.com/sealed-secrets-key"
SEALED_API = "secretsync.io/v1alpha1"


def vector_key(bits: int = 4096) -> tuple[bytes, bytes]:
    """(PKCS#1 key PEM, certificate PEM) of the independent test vectors."""
    return (VECTORS / f"test-key-{bits}.pem").read_bytes(), (VECTORS / f"test-cert-{bits}.pem").read_bytes()


def key_secret(name: str, key_pem: bytes, cert_pem: bytes, *, label: str = KEY_LABEL) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {"name": name, "namespace": OPERATOR_NS, "labels": {label: "active"}},
        "data": {
            "tls.key": base64.b64encode(key_pem).decode(),
            "tls.crt": base64.b64encode(cert_pem).decode(),
        },
    }


def fresh_key(bits: int = 2048) -> tuple[bytes, bytes]:
    key = crypto.generate_private_key(bits)
    return crypto.dump_private_key(key), crypto.self_signed_certificate(key)


def secret(name: str, namespace: str, data: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, **extra.pop("metadata", {})},
        "stringData": data,
        **extra,
    }


def seal(cert_pem: bytes, plain: dict[str, Any], scope: crypto.Scope | None = None) -> dict[str, Any]:
    sealer = crypto.load_certificate(cert_pem).sealer()
    return sealing.seal_secret(plain, sealer, scope=scope)


def ready(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return dict(cond)
    return None


def decoded(secret_obj: dict[str, Any]) -> dict[str, bytes]:
    return {k: base64.b64decode(v) for k, v in (secret_obj.get("data") or {}).items()}


class SealedEnv:
    """The emulator plus shortcuts for one test."""

    def __init__(self, emulator: Any) -> None:
        self.emu = emulator

    def get_sealed(self, name: str, namespace: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self.emu.get(SEALED_API, "SealedSecret", name, namespace)
        return result

    def get_secret(self, name: str, namespace: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self.emu.get("v1", "Secret", name, namespace)
        return result

    def wait_ready(
        self, name: str, namespace: str, status: str = "True", timeout: float = 20.0
    ) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            cond = ready(self.get_sealed(name, namespace))
            return cond if cond and cond["status"] == status else None

        result: dict[str, Any] = wait_for(
            check, timeout=timeout, message=f"{namespace}/{name} Ready={status}"
        )
        return result

    def wait_reason(self, name: str, namespace: str, reason: str, timeout: float = 20.0) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            cond = ready(self.get_sealed(name, namespace))
            return cond if cond and cond["reason"] == reason else None

        result: dict[str, Any] = wait_for(
            check, timeout=timeout, message=f"{namespace}/{name} reason={reason}"
        )
        return result

    def events(self, name: str, namespace: str) -> list[dict[str, Any]]:
        items = self.emu.list("v1", "Event", namespace) or []
        if isinstance(items, dict):
            items = items.get("items") or []
        return [e for e in items if (e.get("involvedObject") or {}).get("name") == name]

    def dump(self) -> str:
        return yaml.safe_dump(self.emu.list("v1", "Event", None))
