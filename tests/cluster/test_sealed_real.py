"""SealedSecrets end to end on a real API server, the operator running as its ServiceAccount."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.cluster.conftest import OperatorStarter, wait_for
from tests.support.real_cluster import ControlPlane

CANARY = "canary-real-Ux3p"
PRODUCED = "secretsync.io/managed-secret"


def cli(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "secretsync", *args],
        capture_output=True,
        text=True,
        input=input,
        timeout=120,
        check=False,
    )


def _secret(name: str, namespace: str, data: dict[str, str]) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace},
            "stringData": data,
        }
    )


def _tenant_kubeconfig(cluster: ControlPlane, namespace: str, tmp_path: Path) -> Path:
    """An ordinary user of the cluster: a ServiceAccount with no rights beyond the defaults."""
    cluster.apply(
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "dev", "namespace": namespace}}
    )
    return cluster.token_kubeconfig(namespace, "dev", tmp_path / "dev.kubeconfig")


def _ready(cluster: ControlPlane, namespace: str, name: str, reason: str | None = None) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        body = cluster.get(f"/apis/secretsync.io/v1alpha1/namespaces/{namespace}/sealedsecrets/{name}") or {}
        for cond in (body.get("status") or {}).get("conditions") or []:
            if cond.get("type") == "Ready" and (reason is None or cond.get("reason") == reason):
                return dict(cond)
        return None

    result: dict[str, Any] = wait_for(check, 30, f"SealedSecret {name} {reason or 'Ready'}")
    return result


def _secret_obj(cluster: ControlPlane, namespace: str, name: str) -> dict[str, Any] | None:
    return cluster.get(f"/api/v1/namespaces/{namespace}/secrets/{name}")


def test_seal_apply_wait_gc_and_heal(
    cluster: ControlPlane, start_operator: OperatorStarter, namespace: str, tmp_path: Path
) -> None:
    operator = start_operator()
    user = _tenant_kubeconfig(cluster, namespace, tmp_path)
    # fetch-cert as an ordinary user, through the API server's service proxy
    cert = tmp_path / "cert.pem"
    result = cli("fetch-cert", "--kubeconfig", str(user), "-w", str(cert))
    assert result.returncode == 0, result.stderr
    sealed = cli("seal", "--cert", str(cert), input=_secret("db", namespace, {"password": CANARY}))
    assert sealed.returncode == 0, sealed.stderr
    cluster.kubectl("apply", "-f", "-", input=sealed.stdout)
    cluster.kubectl("wait", "--for=condition=Ready", "--timeout=60s", "sealedsecret/db", "-n", namespace)
    secret = _secret_obj(cluster, namespace, "db")
    assert secret is not None
    assert base64.b64decode(secret["data"]["password"]).decode() == CANARY
    [owner] = secret["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("SealedSecret", "db", True)

    # self-heal: an edit is reverted, a deletion re-created
    cluster.request(
        "PATCH",
        f"/api/v1/namespaces/{namespace}/secrets/db",
        {"data": {"password": base64.b64encode(b"tampered").decode()}},
        content_type="application/merge-patch+json",
    )
    wait_for(
        lambda: (
            base64.b64decode((_secret_obj(cluster, namespace, "db") or {})["data"]["password"])
            == CANARY.encode()
        ),
        30,
        "the edit reverted",
    )
    cluster.request("DELETE", f"/api/v1/namespaces/{namespace}/secrets/db")
    wait_for(lambda: _secret_obj(cluster, namespace, "db"), 30, "the Secret re-created")
    # The operator watches only Secrets with its label (a server-side selector): one taken off
    # by hand leaves the watch as a DELETED event, and the label is put back.
    assert secret["metadata"]["labels"] == {PRODUCED: "true"}
    cluster.request(
        "PATCH",
        f"/api/v1/namespaces/{namespace}/secrets/db",
        {"metadata": {"labels": {PRODUCED: None}}},
        content_type="application/merge-patch+json",
    )
    wait_for(
        lambda: ((_secret_obj(cluster, namespace, "db") or {})["metadata"].get("labels") or {}).get(PRODUCED),
        30,
        "the label put back",
    )

    # garbage collection by kube-controller-manager when the SealedSecret goes
    cluster.kubectl("delete", "sealedsecret/db", "-n", namespace)
    wait_for(lambda: _secret_obj(cluster, namespace, "db") is None, 60, "the Secret garbage-collected")
    assert CANARY not in operator.logs()


def test_ownership_refusal_and_managed_opt_in(
    cluster: ControlPlane, start_operator: OperatorStarter, namespace: str, tmp_path: Path
) -> None:
    start_operator()
    cert = tmp_path / "cert.pem"
    assert cli("fetch-cert", "--kubeconfig", str(cluster.admin_kubeconfig), "-w", str(cert)).returncode == 0
    cluster.kubectl("create", "secret", "generic", "taken", "-n", namespace, "--from-literal=k=mine")
    sealed = cli("seal", "--cert", str(cert), input=_secret("taken", namespace, {"k": CANARY}))
    cluster.kubectl("apply", "-f", "-", input=sealed.stdout)
    cond = _ready(cluster, namespace, "taken", "SecretNotOwned")
    assert "secretsync.io/managed=true" in cond["message"]
    secret = _secret_obj(cluster, namespace, "taken") or {}
    assert base64.b64decode(secret["data"]["k"]) == b"mine"
    cluster.kubectl("annotate", "secret/taken", "-n", namespace, "secretsync.io/managed=true")
    _ready(cluster, namespace, "taken", "Unsealed")
    secret = _secret_obj(cluster, namespace, "taken") or {}
    assert base64.b64decode(secret["data"]["k"]) == CANARY.encode()
    assert secret["metadata"]["ownerReferences"][0]["kind"] == "SealedSecret"


def test_status_and_events_are_written(
    cluster: ControlPlane, start_operator: OperatorStarter, namespace: str, tmp_path: Path
) -> None:
    start_operator()
    cert = tmp_path / "cert.pem"
    assert cli("fetch-cert", "--kubeconfig", str(cluster.admin_kubeconfig), "-w", str(cert)).returncode == 0
    sealed = yaml.safe_load(
        cli("seal", "--cert", str(cert), input=_secret("moved", namespace, {"k": CANARY})).stdout
    )
    sealed["metadata"]["name"] = "moved-here"  # strict scope: a renamed SealedSecret must not open
    cluster.apply(sealed)
    cond = _ready(cluster, namespace, "moved-here", "UnsealFailed")
    assert cond["status"] == "False"
    events = cluster.kubectl("get", "events", "-n", namespace, "-o", "json").stdout
    assert "UnsealFailed" in events and CANARY not in events
    assert json.loads(events)["items"]
