"""deploy/overlays/namespaced on a cluster of its own: Roles in team-a and team-b only, no cluster-wide
access to Secrets or our resources. The operator must start reconciling within seconds and stay up."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.cluster.conftest import CRDS, OPERATOR_NS, ROOT, SA, Operators, wait_for
from tests.support.external_env import API
from tests.support.operator_proc import OperatorProcess
from tests.support.real_cluster import ControlPlane

WATCHED = ("team-a", "team-b")
API_PATH = f"/apis/{API}"


@pytest.fixture(scope="module")
def namespaced(own_cluster: ControlPlane) -> ControlPlane:
    """As deploy/README.md says: the namespaces exist, a cluster admin applies the CRDs, then the overlay."""
    for ns in (*WATCHED, "elsewhere"):
        own_cluster.create_namespace(ns)
    own_cluster.kubectl("apply", "--server-side", "-k", str(ROOT / "crds"))
    own_cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s", *CRDS)
    own_cluster.kubectl("apply", "--server-side", "-k", str(ROOT / "deploy" / "overlays" / "namespaced"))
    return own_cluster


@pytest.fixture
def operator(namespaced: ControlPlane, tmp_path: Path) -> Iterator[OperatorProcess]:
    operators = Operators(namespaced, tmp_path)
    started = time.monotonic()
    proc = operators.start("--watch-namespace", "team-a", "--watch-namespace", "team-b")
    proc.wait_reconciling(timeout=20)
    proc.started_in = time.monotonic() - started  # type: ignore[attr-defined]
    yield proc
    operators.stop()


def _fake_store_and_es(namespace: str, value: str) -> list[dict[str, object]]:
    return [
        {
            "apiVersion": API,
            "kind": "SecretStore",
            "metadata": {"name": "fake", "namespace": namespace},
            "spec": {"provider": {"fake": {"data": [{"key": "k", "value": value}]}}},
        },
        {
            "apiVersion": API,
            "kind": "ExternalSecret",
            "metadata": {"name": "es", "namespace": namespace},
            "spec": {
                "secretStoreRef": {"name": "fake"},
                "data": [{"secretKey": "k", "remoteRef": {"key": "k"}}],
            },
        },
    ]


def test_namespaced_mode_reconciles_within_seconds_and_stays_up(
    namespaced: ControlPlane, operator: OperatorProcess
) -> None:
    assert operator.started_in < 15, f"took {operator.started_in:.1f} s to start reconciling"  # type: ignore[attr-defined]
    for ns in WATCHED:
        namespaced.apply(_fake_store_and_es(ns, f"value-{ns}"))
    for ns in WATCHED:
        namespaced.kubectl("wait", "--for=condition=Ready", "--timeout=30s", "externalsecret/es", "-n", ns)
        secret = namespaced.get(f"/api/v1/namespaces/{ns}/secrets/es") or {}
        assert base64.b64decode(secret["data"]["k"]) == f"value-{ns}".encode()
    # A namespace it does not watch is left alone (it has no rights there anyway).
    namespaced.apply(_fake_store_and_es("elsewhere", "x"))
    time.sleep(3)
    assert namespaced.get("/api/v1/namespaces/elsewhere/secrets/es") is None
    # kopf retries a watch the API server refuses and stops the operator once its retries run out
    # (about a minute): so the operator must never have been refused anything, and it must watch
    # (and list) only the namespaces it was given, each of our kinds and Secrets in both.
    events = namespaced.audit(f"system:serviceaccount:{OPERATOR_NS}:{SA}")
    refused = [
        (e["verb"], e["requestURI"]) for e in events if (e.get("responseStatus") or {}).get("code") == 403
    ]
    assert not refused, refused
    watched = {
        e["requestURI"].split("?")[0]
        for e in events
        if e["verb"] in ("watch", "list") and "/namespaces/" in e["requestURI"]
    }
    for ns in WATCHED:
        for path in (f"/api/v1/namespaces/{ns}/secrets", f"{API_PATH}/namespaces/{ns}/externalsecrets"):
            assert path in watched, (path, sorted(watched))
    assert not [p for p in watched if "/namespaces/elsewhere/" in p], sorted(watched)
    assert operator.proc is not None and operator.proc.poll() is None, operator.logs()[-3000:]
    assert operator.reconciling()


def test_a_cluster_secret_store_is_not_something_namespaced_mode_sees(
    namespaced: ControlPlane, operator: OperatorProcess
) -> None:
    namespaced.apply(
        {
            "apiVersion": API,
            "kind": "ClusterSecretStore",
            "metadata": {"name": "shared"},
            "spec": {"provider": {"fake": {"data": [{"key": "k", "value": "v"}]}}},
        }
    )
    namespaced.apply(
        {
            "apiVersion": API,
            "kind": "ExternalSecret",
            "metadata": {"name": "via-cluster-store", "namespace": "team-a"},
            "spec": {
                "secretStoreRef": {"name": "shared", "kind": "ClusterSecretStore"},
                "data": [{"secretKey": "k", "remoteRef": {"key": "k"}}],
            },
        }
    )

    def reason() -> str | None:
        body = (
            namespaced.get("/apis/secretsync.io/v1alpha1/namespaces/team-a/externalsecrets/via-cluster-store")
            or {}
        )
        conds = (body.get("status") or {}).get("conditions") or []
        return conds[0]["reason"] if conds else None

    found = wait_for(reason, 30, "a status on the ExternalSecret")
    assert found == "StoreNotAllowed", found
    assert operator.proc is not None and operator.proc.poll() is None
    assert "Traceback" not in operator.logs()


def test_the_overlay_grants_nothing_cluster_wide_but_discovery(
    namespaced: ControlPlane, tmp_path: Path
) -> None:
    config = namespaced.token_kubeconfig("secretsync-system", "secretsync", tmp_path / "sa.kubeconfig")
    for verb, resource, ns, allowed in (
        ("list", "secrets", "team-a", "yes"),
        ("list", "secrets", "elsewhere", "no"),
        ("list", "secrets", None, "no"),
        ("list", "externalsecrets.secretsync.io", "team-b", "yes"),
        ("list", "clustersecretstores.secretsync.io", None, "no"),
        ("list", "customresourcedefinitions.apiextensions.k8s.io", None, "no"),
        ("get", "namespaces", None, "no"),
    ):
        args = ["auth", "can-i", verb, resource, *(["-n", ns] if ns else ["-A"])]
        answer = namespaced.kubectl(*args, kubeconfig=config, check=False).stdout.strip()
        assert answer == allowed, (verb, resource, ns, answer)
    assert (
        yaml.safe_load(
            namespaced.kubectl(
                "get", "clusterrolebinding", "secretsync", "--ignore-not-found", "-o", "yaml"
            ).stdout
        )
        is None
    )
