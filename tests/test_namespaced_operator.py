"""``--watch-namespace`` (deploy/overlays/namespaced) on the fast tier: the real operator process and
the API emulator. The real-cluster tier (tests/cluster/test_namespaced_real.py) adds the RBAC.

The operator reconciles the namespaces it is given and nothing else: it never lists or watches a
resource cluster-wide, never reads or writes anything in another namespace, and does not serve
ClusterSecretStores (a namespaced install has no rights to them).
"""

from __future__ import annotations

import base64
from typing import Any

from tests.support.external_env import API, ExternalEnv, external_secret
from tests.support.kube_emulator import wait_for
from tests.support.operator_proc import OperatorProcess
from tests.support.sealed_env import OPERATOR_NS, fresh_key, key_secret, ready, seal, secret

WATCHED = ("team-a", "team-b")
OTHER = "elsewhere"


def _store_and_es(namespace: str) -> list[dict[str, Any]]:
    store = {
        "apiVersion": API,
        "kind": "SecretStore",
        "metadata": {"name": "fake", "namespace": namespace},
        "spec": {"provider": {"fake": {"data": [{"key": "k", "value": f"from-{namespace}"}]}}},
    }
    es = external_secret("es", namespace, "fake", data=[{"secretKey": "k", "remoteRef": {"key": "k"}}])
    return [store, es]


def test_watch_namespace_mode_reconciles_only_its_namespaces(
    kube_emulator: Any, operator_factory: Any
) -> None:
    env = ExternalEnv(kube_emulator)
    for ns in (OPERATOR_NS, *WATCHED, OTHER):
        kube_emulator.ensure_namespace(ns)
    key_pem, cert_pem = fresh_key()
    kube_emulator.create(key_secret("sealing-key", key_pem, cert_pem))
    for ns in (*WATCHED, OTHER):  # there before the operator starts: its first lists would see them
        for obj in _store_and_es(ns):
            kube_emulator.create(obj)
        kube_emulator.create(seal(cert_pem, secret("sealed", ns, {"p": f"sealed-{ns}"})))
    kube_emulator.create(
        {
            "apiVersion": API,
            "kind": "ClusterSecretStore",
            "metadata": {"name": "shared"},
            "spec": {"provider": {"fake": {"data": [{"key": "k", "value": "v"}]}}},
        }
    )
    ref = {"name": "shared", "kind": "ClusterSecretStore"}
    data = [{"secretKey": "k", "remoteRef": {"key": "k"}}]
    kube_emulator.create(
        external_secret("via-cluster-store", "team-a", "shared", secretStoreRef=ref, data=data)
    )

    args = ["--watch-namespace", WATCHED[0], "--watch-namespace", WATCHED[1], "--key-renew-period", "0"]
    proc: OperatorProcess = operator_factory(extra_args=args)
    proc.wait_ready()
    for ns in WATCHED:
        env.wait_synced("es", ns)
        assert env.values("es", ns) == {"k": f"from-{ns}".encode()}
        wait_for(lambda ns=ns: env.secret("sealed", ns) is not None, timeout=20, message=f"sealed in {ns}")
        value = (env.secret("sealed", ns) or {})["data"]["p"]
        assert base64.b64decode(value) == f"sealed-{ns}".encode()
    cond = env.wait_reason("ExternalSecret", "via-cluster-store", "team-a", "StoreNotAllowed")
    assert "namespaced mode" in cond["message"]

    # Nothing of the other namespace was ever asked for, so nothing there can have been seen;
    # and no list or watch went cluster-wide.
    asked = kube_emulator.requests()
    assert not [r for r in asked if f"/namespaces/{OTHER}/" in r[1]], "requests in a namespace not watched"
    ours = ("sealedsecrets", "externalsecrets", "secretstores", "clustersecretstores", "secrets")
    clusterwide = [
        (method, path)
        for method, path, _ in asked
        if method == "GET" and "/namespaces/" not in path and path.rsplit("/", 1)[-1] in ours
    ]
    assert clusterwide == [], clusterwide
    assert env.secret("es", OTHER) is None and env.secret("sealed", OTHER) is None
    assert ready(env.get("ExternalSecret", "es", OTHER)) is None
    assert ready(env.get("SecretStore", "fake", OTHER)) is None
    assert ready(env.get("ClusterSecretStore", "shared", None)) is None  # not served at all
    assert proc.proc is not None and proc.proc.poll() is None
    assert "Traceback" not in proc.logs()
