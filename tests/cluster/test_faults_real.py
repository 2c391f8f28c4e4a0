"""The fault matrix on a real control plane: kube-apiserver and etcd restarted under a running
operator (a control plane of its own: the restarts must not disturb other modules' tests).

Each case asserts: no good Secret lost or overwritten, and the operator recovers by itself
(watches re-established, new objects synced, a deleted Secret healed) within RECOVERY seconds of
the control plane answering again.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.cluster.conftest import CRDS, ROOT, Operators, wait_for
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
        assert operators.started[0].proc is not None and operators.started[0].proc.poll() is None
        # it noticed: its watches broke and were made again
        assert (
            "Kubernetes API" in operators.started[0].logs() or "watch" in operators.started[0].logs().lower()
        )
    finally:
        operators.stop()
