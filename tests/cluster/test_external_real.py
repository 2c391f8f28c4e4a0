"""ExternalSecrets end to end on a real API server: OpenBao (token and kubernetes auth through the
real TokenRequest and TokenReview APIs), AWS (moto) and GCP (the gRPC fake)."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.cluster.conftest import OperatorStarter, wait_for
from tests.support.external_env import API, external_secret, token_secret, vault_store
from tests.support.real_cluster import ControlPlane

CANARY = "canary-ext-real-Pp4d"


def _ready(
    cluster: ControlPlane, plural: str, namespace: str | None, name: str, reason: str
) -> dict[str, Any]:
    where = f"namespaces/{namespace}/" if namespace else ""

    def check() -> dict[str, Any] | None:
        body = cluster.get(f"/apis/secretsync.io/v1alpha1/{where}{plural}/{name}") or {}
        for cond in (body.get("status") or {}).get("conditions") or []:
            if cond.get("type") == "Ready" and cond.get("reason") == reason:
                return dict(cond)
        return None

    found: dict[str, Any] = wait_for(check, 40, f"{plural} {name} reason={reason}")
    return found


def _values(cluster: ControlPlane, namespace: str, name: str) -> dict[str, bytes]:
    secret = cluster.get(f"/api/v1/namespaces/{namespace}/secrets/{name}") or {}
    return {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}


def test_vault_token_and_kubernetes_auth(
    cluster: ControlPlane, start_operator: OperatorStarter, namespace: str, openbao: Any
) -> None:
    start_operator()
    openbao.client().secrets.kv.v2.create_or_update_secret(openbao.path("db"), {"password": CANARY})
    policy = openbao.write_policy(
        "reader", f'path "secret/data/{openbao.prefix}/*" {{ capabilities = ["read"] }}'
    )
    # Vault's own reviewer identity (in a cluster: Vault's pod ServiceAccount), allowed to create
    # TokenReviews; the store's ServiceAccount is one an admin marked for stores.
    delegator = {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "system:auth-delegator",
    }
    cluster.apply(
        [
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": "vault-reviewer", "namespace": namespace},
            },
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": f"{namespace}-vault-reviewer"},
                "roleRef": delegator,
                "subjects": [{"kind": "ServiceAccount", "name": "vault-reviewer", "namespace": namespace}],
            },
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {
                    "name": "vault-reader",
                    "namespace": namespace,
                    "annotations": {"secretsync.io/allow-store-tokens": "true"},
                },
            },
        ]
    )
    mount = openbao.enable_kubernetes_auth(
        cluster.url,
        kubernetes_ca_cert=cluster.ca_path.read_text(),
        token_reviewer_jwt=cluster.token(namespace, "vault-reviewer"),
        bound_sa_names=["vault-reader"],
        bound_namespaces=[namespace],
        policies=[policy],
        audience="vault",  # the tokens secretsync mints carry this audience, never the API server's
    )
    k8s_auth = {
        "kubernetes": {
            "mountPath": mount,
            "role": "secretsync",
            "serviceAccountRef": {"name": "vault-reader"},
        }
    }
    cluster.apply(vault_store("k8s", namespace, openbao.addr, k8s_auth))
    cluster.apply(token_secret("root", namespace, openbao.root_token))
    cluster.apply(
        vault_store("token", namespace, openbao.addr, {"tokenSecretRef": {"name": "root", "key": "token"}})
    )
    ref = [{"secretKey": "password", "remoteRef": {"key": openbao.path("db"), "property": "password"}}]
    cluster.apply(external_secret("via-k8s", namespace, "k8s", data=ref))
    cluster.apply(external_secret("via-token", namespace, "token", data=ref))
    for name in ("via-k8s", "via-token"):
        cluster.kubectl(
            "wait", "--for=condition=Ready", "--timeout=60s", f"externalsecret/{name}", "-n", namespace
        )
        assert _values(cluster, namespace, name) == {"password": CANARY.encode()}
    _ready(cluster, "secretstores", namespace, "k8s", "Valid")


def test_aws_and_gcp(
    cluster: ControlPlane, start_operator: OperatorStarter, namespace: str, moto: Any, gcp_fake: Any
) -> None:
    moto.boto3_client("secretsmanager").create_secret(
        Name="app/db", SecretString=json.dumps({"password": CANARY})
    )
    gcp_fake.put_secret("projects/p/secrets/api", CANARY)
    start_operator()  # after moto: its endpoint and keys are in the environment it inherits
    cluster.kubectl(
        "create",
        "secret",
        "generic",
        "aws-creds",
        "-n",
        namespace,
        "--from-literal=id=AKID",
        "--from-literal=key=s",
    )
    auth = {
        "secretRef": {
            "accessKeyIDSecretRef": {"name": "aws-creds", "key": "id"},
            "secretAccessKeySecretRef": {"name": "aws-creds", "key": "key"},
        }
    }
    stores = [
        {
            "apiVersion": API,
            "kind": "SecretStore",
            "metadata": {"name": "aws", "namespace": namespace},
            "spec": {"provider": {"aws": {"service": "SecretsManager", "region": "us-east-1", "auth": auth}}},
        },
        {
            "apiVersion": API,
            "kind": "SecretStore",
            "metadata": {"name": "gcp", "namespace": namespace},
            "spec": {"provider": {"gcpsm": {"projectID": "p", "endpoint": gcp_fake.endpoint}}},
        },
    ]
    cluster.apply(stores)
    cluster.apply(
        external_secret(
            "from-aws",
            namespace,
            "aws",
            data=[{"secretKey": "p", "remoteRef": {"key": "app/db", "property": "password"}}],
        )
    )
    cluster.apply(
        external_secret("from-gcp", namespace, "gcp", data=[{"secretKey": "p", "remoteRef": {"key": "api"}}])
    )
    for name in ("from-aws", "from-gcp"):
        cluster.kubectl(
            "wait", "--for=condition=Ready", "--timeout=60s", f"externalsecret/{name}", "-n", namespace
        )
        assert _values(cluster, namespace, name) == {"p": CANARY.encode()}
