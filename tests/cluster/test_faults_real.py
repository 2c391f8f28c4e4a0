"""The fault matrix on a real control plane: kube-apiserver and etcd restarted under a running
operator, watches resumed from a resourceVersion the API server no longer has (410 Gone), and
the operator's ServiceAccount token expiring (a control plane of its own: the restarts must not
disturb other modules' tests).

Each case asserts: no good Secret lost or overwritten, and the operator recovers by itself
(watches re-established, new objects synced, a deleted Secret healed) within RECOVERY seconds of
the control plane answering again (or of a valid token in the file).
"""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.conftest import CRDS, OPERATOR_NS, ROOT, SA, Operators, wait_for
from tests.support.real_cluster import ControlPlane
from tests.support.sealed_env import KEY_LABEL, key_secret, seal, secret, vector_key

NS = "faults"
RECOVERY = 60.0


@pytest.fixture(scope="module")
def plane(own_cluster: ControlPlane) -> ControlPlane:
    own_cluster.kubectl("apply", "--server-side", "-k", str(ROOT / "deploy" / "base"))
    own_cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s", *CRDS)
    own_cluster.create_namespace(NS)
    return own_cluster


def _values(cluster: ControlPlane, name: str) -> dict[str, bytes] | None:
    try:
        found = cluster.get(f"/api/v1/namespaces/{NS}/secrets/{name}")
    except (OSError, AssertionError):
        return None  # the API server is still coming back
    if found is None:
        return None
    return {k: base64.b64decode(v) for k, v in (found.get("data") or {}).items()}


def _watch_from(cluster: ControlPlane, path: str, version: str) -> list[dict[str, Any]]:
    """The events of a one-second watch of ``path`` from ``version`` (as admin)."""
    status, body = cluster.request("GET", f"{path}?watch=true&resourceVersion={version}&timeoutSeconds=1")
    assert status == 200, (status, body)
    if isinstance(body, dict):
        return [body]
    return [json.loads(line) for line in str(body).splitlines() if line.strip()]


def _lists_since(cluster: ControlPlane, since: str) -> set[str]:
    """The collections the operator LISTed after the UTC timestamp ``since`` (from the audit log)."""
    return {
        event["requestURI"].split("?")[0]
        for event in cluster.audit(f"system:serviceaccount:{OPERATOR_NS}:{SA}")
        if event["verb"] == "list" and event["stageTimestamp"] > since
    }


@pytest.mark.parametrize("component", ["kube-apiserver", "etcd"])
def test_the_operator_rides_out_a_control_plane_restart(
    plane: ControlPlane, tmp_path: Path, component: str
) -> None:
    cluster = plane
    key_pem, cert_pem = vector_key(4096)
    cluster.apply(key_secret(f"key-{component}", key_pem, cert_pem, label=KEY_LABEL))
    operators = Operators(cluster, tmp_path)
    try:
        operators.start()
        before = seal(cert_pem, secret(f"before-{component}", NS, {"v": "kept"}))
        cluster.apply(before)
        wait_for(lambda: _values(cluster, f"before-{component}") == {"v": b"kept"}, 30, "the first Secret")
        uid = (cluster.get(f"/api/v1/namespaces/{NS}/secrets/before-{component}") or {})["metadata"]["uid"]
        sealed_path = "/apis/secretsync.io/v1alpha1/sealedsecrets"
        seen = (cluster.get(sealed_path) or {})["metadata"]["resourceVersion"]
        restarted_at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())

        cluster.restart(component, down_for=3.0)

        # a new object after the restart: the SealedSecret watch is back
        cluster.apply(seal(cert_pem, secret(f"after-{component}", NS, {"v": "new"})))
        wait_for(lambda: _values(cluster, f"after-{component}") == {"v": b"new"}, RECOVERY, "the new Secret")
        # a deleted produced Secret is healed: the Secret watch is back too
        cluster.request("DELETE", f"/api/v1/namespaces/{NS}/secrets/before-{component}")
        healed = wait_for(
            lambda: (s := cluster.get(f"/api/v1/namespaces/{NS}/secrets/before-{component}")) and s,
            RECOVERY,
            "the healed Secret",
        )
        assert healed["metadata"]["uid"] != uid  # re-created, with the same data
        assert _values(cluster, f"before-{component}") == {"v": b"kept"}
        if component == "kube-apiserver":
            # The restarted API server's watch cache starts at etcd's current revision: a watch
            # resumed from what the operator had seen is answered 410 Gone, so the operator must
            # LIST again (kopf for its resources, secretsync/watch.py for the key Secrets).
            gone = _watch_from(cluster, sealed_path, seen)
            assert gone and gone[0]["type"] == "ERROR" and gone[0]["object"]["code"] == 410, gone
            relisted = wait_for(
                lambda: (
                    {
                        sealed_path,
                        "/apis/secretsync.io/v1alpha1/externalsecrets",
                        f"/api/v1/namespaces/{OPERATOR_NS}/secrets",
                        "/api/v1/secrets",
                    }
                    <= (found := _lists_since(cluster, restarted_at))
                    and found
                ),
                RECOVERY,
                "every watched collection listed again",
            )
            assert sealed_path in relisted
        assert operators.started[0].proc is not None and operators.started[0].proc.poll() is None
        # it noticed: its watches broke and were made again
        assert (
            "Kubernetes API" in operators.started[0].logs() or "watch" in operators.started[0].logs().lower()
        )
    finally:
        operators.stop()


def _accepted(cluster: ControlPlane, token: str) -> bool:
    """Whether the API server authenticates ``token`` (a SelfSubjectReview, allowed to anyone)."""
    import ssl
    import urllib.error
    import urllib.request

    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    request = urllib.request.Request(
        cluster.url + "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        data=json.dumps(review).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=str(cluster.ca_path))):
            return True
    except urllib.error.HTTPError as exc:
        assert exc.code == 401, exc.code
        return False


def _write_token(path: Path, token: str) -> None:
    """Replace the file at once, as the kubelet swaps a projected volume's files."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(token, encoding="utf-8")
    os.replace(tmp, path)


def test_an_expired_token_is_reported_and_the_next_one_in_the_file_picked_up(
    plane: ControlPlane, tmp_path: Path
) -> None:
    """The operator's token expires and the API server refuses it (its own check: expiry plus its
    60 s leeway and 10 s authentication cache), with no new token in the file yet, as when the
    kubelet cannot refresh it: the operator says so in its log (naming the token file, never the
    token), keeps the Secrets it made, and does not give up; once the file holds a valid token it
    goes on by itself: an object created while it was locked out is synced within RECOVERY s.
    (The TokenRequest API will not issue a token under 10 minutes, so the test signs one as the API
    server does, with its ServiceAccount signing key.)"""
    cluster = plane
    key_pem, cert_pem = vector_key(4096)
    cluster.apply(key_secret("key-token", key_pem, cert_pem, label=KEY_LABEL))
    token_file = tmp_path / "token"
    expiring = cluster.mint_token(OPERATOR_NS, SA, expires_in=-40)  # refused in ~20-30 s
    _write_token(token_file, expiring)
    kubeconfig = cluster.token_file_kubeconfig(SA, token_file, OPERATOR_NS, tmp_path / "file.kubeconfig")
    operators = Operators(cluster, tmp_path)
    try:
        proc = operators.start(kubeconfig=kubeconfig, expose=False)
        cluster.apply(seal(cert_pem, secret("token-before", NS, {"v": "kept"})))
        wait_for(lambda: _values(cluster, "token-before") == {"v": b"kept"}, 30, "the first Secret")
        kept = (cluster.get(f"/api/v1/namespaces/{NS}/secrets/token-before") or {})["metadata"]

        wait_for(lambda: not _accepted(cluster, expiring), 60, "the API server to refuse the expired token")
        cluster.apply(seal(cert_pem, secret("token-locked-out", NS, {"v": "later"})))
        wait_for(lambda: "rejects the token in" in proc.logs(), 60, "the refusal in the operator log")
        assert _values(cluster, "token-locked-out") is None  # it could not write: nothing half-done
        assert proc.proc is not None and proc.proc.poll() is None  # still running, still trying
        logs = proc.logs()
        assert str(token_file) in logs and expiring not in logs and expiring[-24:] not in logs

        _write_token(token_file, cluster.mint_token(OPERATOR_NS, SA, expires_in=3600))
        wait_for(lambda: _values(cluster, "token-locked-out") == {"v": b"later"}, RECOVERY, "the late Secret")
        still = (cluster.get(f"/api/v1/namespaces/{NS}/secrets/token-before") or {})["metadata"]
        assert (still["uid"], still["resourceVersion"]) == (kept["uid"], kept["resourceVersion"])
        wait_for(lambda: proc.get("/readyz")[0] == 200, RECOVERY, "ready again")
    finally:
        operators.stop()


def _flow_control(seats_of: str) -> list[dict[str, Any]]:
    """API Priority and Fairness as a busy cluster applies it to the operator: its ServiceAccount in
    a priority level of its own with the smallest share (a few seats of the server's 600) and no
    queue, so requests beyond those seats are answered 429 with Retry-After, by the real server."""
    level = {
        "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
        "kind": "PriorityLevelConfiguration",
        "metadata": {"name": seats_of},
        "spec": {
            "type": "Limited",
            "limited": {
                "nominalConcurrencyShares": 1,
                "lendablePercent": 0,
                "borrowingLimitPercent": 0,
                "limitResponse": {"type": "Reject"},
            },
        },
    }
    schema = {
        "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
        "kind": "FlowSchema",
        "metadata": {"name": seats_of},
        "spec": {
            "priorityLevelConfiguration": {"name": seats_of},
            "matchingPrecedence": 100,
            "distinguisherMethod": {"type": "ByUser"},
            "rules": [
                {
                    "subjects": [
                        {"kind": "ServiceAccount", "serviceAccount": {"name": SA, "namespace": OPERATOR_NS}}
                    ],
                    "resourceRules": [
                        {
                            "verbs": ["*"],
                            "apiGroups": ["*"],
                            "resources": ["*"],
                            "namespaces": ["*"],
                            "clusterScope": True,
                        }
                    ],
                }
            ],
        },
    }
    return [level, schema]


def test_a_429_storm_from_priority_and_fairness_is_waited_out(plane: ControlPlane, tmp_path: Path) -> None:
    """The real API server's flow control rejects the operator's requests beyond its seats (429,
    Retry-After) while 60 SealedSecrets arrive at once: every one is unsealed and Ready, none is
    reported failed for good, and the 429s (counted in the audit log) were really met."""
    cluster = plane
    key_pem, cert_pem = vector_key(4096)
    cluster.apply(key_secret("key-apf", key_pem, cert_pem, label=KEY_LABEL))
    operators = Operators(cluster, tmp_path)
    user = f"system:serviceaccount:{OPERATOR_NS}:{SA}"
    try:
        operators.start()
        cluster.apply(_flow_control("secretsync-tiny"))
        wait_for(  # the API server's flow-control config controller has digested it
            lambda: any(
                c.get("type") == "Dangling" and c.get("status") == "False"
                for c in (
                    (cluster.get("/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas/secretsync-tiny") or {})
                    .get("status", {})
                    .get("conditions")
                    or []
                )
            ),
            30,
            "the FlowSchema in force",
        )
        before = sum(1 for e in cluster.audit(user) if (e.get("responseStatus") or {}).get("code") == 429)
        names = [f"apf-{i}" for i in range(60)]
        cluster.apply([seal(cert_pem, secret(name, NS, {"v": name})) for name in names])

        def all_ready() -> bool:
            listed = cluster.get(f"/apis/secretsync.io/v1alpha1/namespaces/{NS}/sealedsecrets") or {}
            ready = {
                item["metadata"]["name"]
                for item in listed.get("items") or []
                for cond in (item.get("status") or {}).get("conditions") or []
                if cond.get("type") == "Ready" and cond.get("status") == "True"
            }
            return set(names) <= ready

        wait_for(all_ready, 120, "every SealedSecret Ready")
        for name in names:
            assert _values(cluster, name) == {"v": name.encode()}
        rejected = sum(1 for e in cluster.audit(user) if (e.get("responseStatus") or {}).get("code") == 429)
        assert rejected > before, "flow control never rejected the operator: the storm did not happen"
        assert operators.started[0].proc is not None and operators.started[0].proc.poll() is None
    finally:
        for plural in ("flowschemas", "prioritylevelconfigurations"):
            cluster.request("DELETE", f"/apis/flowcontrol.apiserver.k8s.io/v1/{plural}/secretsync-tiny")
        operators.stop()
