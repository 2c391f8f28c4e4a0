"""docs/migration.md's commands, as written, on a real API server with the kubectl of its release."""

from __future__ import annotations

import base64
import os
import re
import subprocess
from pathlib import Path

from tests.cluster.conftest import ROOT, OperatorStarter
from tests.support import k8s_bin
from tests.support.real_cluster import ControlPlane
from tests.support.sealed_env import BITNAMI_KEY_LABEL, key_secret, seal, secret, vector_key

DOC = ROOT / "docs" / "migration.md"


def _block(marker: str) -> str:
    """The shell block that follows ``<!-- test: marker -->``."""
    found = re.search(rf"<!-- test: {marker} -->\s*```sh\n(.*?)```", DOC.read_text(), re.S)
    assert found, marker
    return found.group(1)


def test_copying_bitnamis_keys_as_the_guide_says_lets_secretsync_open_bitnami_sealed_secrets(
    installed: ControlPlane, start_operator: OperatorStarter, tmp_path: Path
) -> None:
    key_pem, cert_pem = vector_key(2048)
    bitnami_key = key_secret("sealed-secrets-keymigr8", key_pem, cert_pem, label=BITNAMI_KEY_LABEL)
    bitnami_key["metadata"]["namespace"] = "kube-system"
    installed.apply(bitnami_key)
    copied_path = "/api/v1/namespaces/secretsync-system/secrets/sealed-secrets-keymigr8"
    try:
        bindir = tmp_path / "bin"
        bindir.mkdir()
        (bindir / "kubectl").symlink_to(k8s_bin.binary("kubectl"))
        env = {
            **os.environ,
            "PATH": f"{bindir}:{os.environ['PATH']}",
            "KUBECONFIG": str(installed.admin_kubeconfig),
        }
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", _block("copy-bitnami-keys")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        copied = installed.get(copied_path)
        assert copied is not None and copied["type"] == "kubernetes.io/tls"
        assert copied["metadata"]["labels"][BITNAMI_KEY_LABEL] == "active"
        assert base64.b64decode(copied["data"]["tls.key"]) == key_pem
        # The operator with --bitnami-keys opens what Bitnami's key sealed.
        start_operator("--bitnami-keys")
        installed.create_namespace("migrated")
        installed.apply(seal(cert_pem, secret("db", "migrated", {"password": "from-bitnami"})))
        installed.kubectl(
            "wait", "--for=condition=Ready", "--timeout=60s", "sealedsecret/db", "-n", "migrated"
        )
        opened = installed.get("/api/v1/namespaces/migrated/secrets/db") or {}
        assert base64.b64decode(opened["data"]["password"]) == b"from-bitnami"
    finally:
        installed.request("DELETE", "/api/v1/namespaces/kube-system/secrets/sealed-secrets-keymigr8")
        installed.request("DELETE", copied_path)
