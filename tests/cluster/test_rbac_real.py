"""The shipped RBAC grants exactly the calls the operator makes: none missing, none unused.

On a cluster of its own (so no other test's operator adds calls), deploy/base is installed and
the operator, running as its ServiceAccount with --leader-elect, is driven through everything it
does. The API server's audit log records each request it made; ``kubectl auth can-i --list`` as
the ServiceAccount says what it may do. The two sets must be equal (plus the one permission the
API server checks on the operator's behalf: setting blockOwnerDeletion needs ``update`` on the
owner's ``finalizers``).
"""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path

from tests.cluster.conftest import CRDS, ROOT, Operators, wait_for
from tests.support.external_env import API, external_secret
from tests.support.real_cluster import ControlPlane
from tests.support.rogue import RogueServer
from tests.support.sealed_env import seal, secret

USER = "system:serviceaccount:secretsync-system:secretsync"
TENANT = "tenant"
# Checked by admission on the operator's behalf, never called: blockOwnerDeletion on produced Secrets.
ADMISSION = {
    ("update", "sealedsecrets.secretsync.io/finalizers"),
    ("update", "externalsecrets.secretsync.io/finalizers"),
}
# Granted to every authenticated user, not the operator's own rules.
EVERYONE = re.compile(
    r"^(selfsubject\w+\.(authentication|authorization)\.k8s\.io|services/proxy|clustertrustbundles\.certificates\.k8s\.io)$"
)


def _used(cluster: ControlPlane) -> set[tuple[str, str]]:
    used = set()
    for event in cluster.audit(USER):
        ref = event.get("objectRef") or {}
        if not ref.get("resource"):
            continue
        resource = ref["resource"] + (f".{ref['apiGroup']}" if ref.get("apiGroup") else "")
        if ref.get("subresource"):
            resource += f"/{ref['subresource']}"
        used.add((event["verb"], resource))
    return used


def _granted(cluster: ControlPlane) -> set[tuple[str, str]]:
    granted = set()
    for namespace in (TENANT, "secretsync-system"):
        table = cluster.kubectl("auth", "can-i", "--list", f"--as={USER}", "-n", namespace).stdout
        for line in table.splitlines()[1:]:
            match = re.match(r"^(\S+)\s+\[\]\s+\[(.*?)\]\s+\[(.*?)\]\s*$", line)
            if not match or match.group(2) or EVERYONE.match(match.group(1)):
                continue  # non-resource URLs, named grants, everyone's grants
            granted |= {(verb, match.group(1)) for verb in match.group(3).split()}
    return granted


def test_rbac_equals_the_calls_the_operator_makes(own_cluster: ControlPlane, tmp_path: Path) -> None:
    cluster = own_cluster
    cluster.kubectl("apply", "--server-side", "-k", str(ROOT / "deploy" / "base"))
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s", *CRDS)
    cluster.create_namespace(TENANT, {"secretsync.test/shared": "yes"})
    rogue = RogueServer()  # stands for Vault: the kubernetes login is made and refused
    operators = Operators(cluster, tmp_path)
    try:
        operator = operators.start("--leader-elect")  # no key yet: it creates one
        operator.wait_reconciling(timeout=30)
        keys = cluster.get("/api/v1/namespaces/secretsync-system/secrets") or {}
        cert_pem = next(
            s["data"]["tls.crt"]
            for s in keys["items"]
            if "secretsync.io/sealing-key" in (s["metadata"].get("labels") or {})
        )
        cert = base64.b64decode(cert_pem)
        cluster.apply(seal(cert, secret("sealed", TENANT, {"k": "v"})))
        fake = {"fake": {"data": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]}}
        cluster.apply(
            [
                {
                    "apiVersion": API,
                    "kind": "SecretStore",
                    "metadata": {"name": "fake", "namespace": TENANT},
                    "spec": {"provider": fake},
                },
                {
                    "apiVersion": API,
                    "kind": "ClusterSecretStore",
                    "metadata": {"name": "shared"},
                    "spec": {
                        "provider": fake,
                        "conditions": [
                            {"namespaceSelector": {"matchLabels": {"secretsync.test/shared": "yes"}}}
                        ],
                    },
                },
                {
                    "apiVersion": "v1",
                    "kind": "ServiceAccount",
                    "metadata": {
                        "name": "reader",
                        "namespace": TENANT,
                        "annotations": {"secretsync.io/allow-store-tokens": "true"},
                    },
                },
            ]
        )
        auth = {
            "kubernetes": {"mountPath": "kubernetes", "role": "r", "serviceAccountRef": {"name": "reader"}}
        }
        cluster.apply(
            {
                "apiVersion": API,
                "kind": "SecretStore",
                "metadata": {"name": "vault", "namespace": TENANT},
                "spec": {"provider": {"vault": {"server": rogue.url, "path": "secret", "auth": auth}}},
            }
        )
        cluster.kubectl("create", "secret", "generic", "merged", "-n", TENANT, "--from-literal=base=1")
        cluster.apply(
            [
                external_secret(
                    "deleting",
                    TENANT,
                    "fake",
                    refreshInterval="1s",
                    target={"name": "deleting", "deletionPolicy": "Delete"},
                    data=[{"secretKey": "b", "remoteRef": {"key": "b"}}],
                ),
                external_secret(
                    "via-cluster",
                    TENANT,
                    "shared",
                    secretStoreRef={"name": "shared", "kind": "ClusterSecretStore"},
                    data=[{"secretKey": "a", "remoteRef": {"key": "a"}}],
                ),
                external_secret(
                    "merging",
                    TENANT,
                    "fake",
                    target={"name": "merged", "creationPolicy": "Merge"},
                    data=[{"secretKey": "a", "remoteRef": {"key": "a"}}],
                ),
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "tpl", "namespace": TENANT},
                    "data": {"t": "{{ .a }}!"},
                },
                external_secret(
                    "templated",
                    TENANT,
                    "fake",
                    target={
                        "template": {
                            "templateFrom": [{"configMap": {"name": "tpl", "items": [{"key": "t"}]}}]
                        }
                    },
                    data=[{"secretKey": "a", "remoteRef": {"key": "a"}}],
                ),
            ]
        )
        for name in ("sealed", "deleting", "via-cluster", "merged", "templated"):
            wait_for(
                lambda name=name: cluster.get(f"/api/v1/namespaces/{TENANT}/secrets/{name}"),
                30,
                f"Secret {name}",
            )
        # drift: an edited Secret is written back (update)
        cluster.request(
            "PATCH",
            f"/api/v1/namespaces/{TENANT}/secrets/sealed",
            {"data": {"k": "eA=="}},
            content_type="application/merge-patch+json",
        )
        # the remote secret goes away: deletionPolicy Delete deletes the Secret
        cluster.request(
            "PATCH",
            f"/apis/secretsync.io/v1alpha1/namespaces/{TENANT}/secretstores/fake",
            {"spec": {"provider": {"fake": {"data": [{"key": "a", "value": "1"}]}}}},
            content_type="application/merge-patch+json",
        )
        wait_for(
            lambda: cluster.get(f"/api/v1/namespaces/{TENANT}/secrets/deleting") is None, 30, "the deletion"
        )
        wait_for(
            lambda: any("/v1/auth/kubernetes/login" in s.path for s in rogue.seen), 30, "the kubernetes login"
        )
        time.sleep(3)  # a few Lease renewals and refreshes
    finally:
        operators.stop()  # releases the Lease
        rogue.close()
    used = _used(cluster) | ADMISSION
    granted = _granted(cluster)
    missing, unused = sorted(used - granted), sorted(granted - used)
    report = json.dumps({"missing": missing, "unused": unused}, indent=1)
    assert not missing and not unused, report
