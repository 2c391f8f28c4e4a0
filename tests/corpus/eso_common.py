"""Stores and small pieces the ESO cases complete their manifests with, in ESO's own form.

Where ESO's docs elide the store (``# ...``) or only name it (``kind: ClusterSecretStore,
name: vault-backend``), a case supplies one of these, written as ESO's docs write stores
(docs/provider/*.md). The runner then points it at the test backend like every store.
"""

from __future__ import annotations

from typing import Any

from tests.corpus.backends import CREDS_NS
from tests.corpus.model import ESO_API, Doc, Upstream

CANARY = "canary-corpus-Vq7d"
"""Part of values the docs do not show: it must never appear in logs, events or statuses."""

VAULT_TOKEN_STORE = Upstream("docs/snippets/vault-token-store.yaml")
VAULT_APPROLE_STORE = Upstream("docs/snippets/vault-approle-store.yaml")
VAULT_KUBERNETES_STORE = Upstream("docs/snippets/vault-kubernetes-store.yaml")
AWS_SM_STORE = Upstream("docs/snippets/aws-sm-store.yaml")
AWS_PS_STORE = Upstream("docs/snippets/aws-parameter-store.yaml")
BASIC_STORE = Upstream("docs/snippets/basic-secret-store.yaml")  # AWS Secrets Manager
VAULT_MD = "docs/provider/hashicorp-vault.md"
TEMPLATING = "docs/guides/templating.md"


def _store(kind: str, name: str, provider: dict[str, Any]) -> Doc:
    return {"apiVersion": ESO_API, "kind": kind, "metadata": {"name": name}, "spec": {"provider": provider}}


def vault_store(name: str, *, cluster: bool = False) -> Doc:
    """docs/provider/hashicorp-vault.md's token store (a ClusterSecretStore names the token's
    namespace, as its NOTE says)."""
    ref = {"name": "vault-token", "key": "token"} | ({"namespace": CREDS_NS} if cluster else {})
    vault = {"server": "http://my.vault.server:8200", "path": "secret", "version": "v2"}
    return _store(
        "ClusterSecretStore" if cluster else "SecretStore",
        name,
        {"vault": {**vault, "auth": {"tokenSecretRef": ref}}},
    )


def aws_store(name: str, service: str, *, cluster: bool = False) -> Doc:
    """docs/snippets/aws-sm-store.yaml's form (keys in the Secret ``awssm-secret``)."""
    ns = {"namespace": CREDS_NS} if cluster else {}
    auth = {
        "secretRef": {
            "accessKeyIDSecretRef": {"name": "awssm-secret", "key": "access-key", **ns},
            "secretAccessKeySecretRef": {"name": "awssm-secret", "key": "secret-access-key", **ns},
        }
    }
    return _store(
        "ClusterSecretStore" if cluster else "SecretStore",
        name,
        {"aws": {"service": service, "region": "eu-central-1", "auth": auth}},
    )


def gcp_store(name: str) -> Doc:
    """docs/snippets/gcpsm-sa-secret-store.yaml's form."""
    auth = {
        "secretRef": {
            "secretAccessKeySecretRef": {"name": "gcp-sa-secret", "key": "secret-access-credentials"}
        }
    }
    return _store("SecretStore", name, {"gcpsm": {"projectID": "my-project", "auth": auth}})


def fake_store(name: str, data: dict[str, str], *, cluster: bool = False) -> Doc:
    """docs/snippets/fake-provider-store.yaml's form."""
    entries = [{"key": key, "value": value} for key, value in data.items()]
    return _store("ClusterSecretStore" if cluster else "SecretStore", name, {"fake": {"data": entries}})


def ref(name: str, kind: str = "SecretStore") -> dict[str, str]:
    return {"name": name, "kind": kind}


def data(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    """``spec.data`` entries ``(secretKey, remoteRef.key)``, for docs that elide them."""
    return [{"secretKey": key, "remoteRef": {"key": remote}} for key, remote in pairs]
