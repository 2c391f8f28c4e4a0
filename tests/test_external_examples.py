"""The README's Vault example (examples/external/) works as written against a real OpenBao server.

Only what a user would change is changed: the Vault address and the token value.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml

from tests.support.external_env import ExternalEnv
from tests.support.operator_proc import OperatorProcess

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "external"


def test_vault_examples_sync(kube_emulator: Any, openbao: Any, operator_factory: Any) -> None:
    env = ExternalEnv(kube_emulator)
    for ns in ("secretsync-system", "demo"):
        kube_emulator.ensure_namespace(ns)
    kv = openbao.client().secrets.kv.v2
    kv.create_or_update_secret("demo/db", {"username": "app", "password": "s3cret"})
    kv.create_or_update_secret("demo/app-config", {"host": "db.demo.svc", "port": "5432", "database": "app"})
    proc: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    proc.wait_ready()
    for doc in yaml.safe_load_all((EXAMPLES / "vault-secretstore.yaml").read_text()):
        if doc["kind"] == "Secret":
            doc.pop("stringData")
            doc["data"] = {"token": base64.b64encode(openbao.root_token.encode()).decode()}
        else:
            doc["spec"]["provider"]["vault"]["server"] = openbao.addr
        kube_emulator.create(doc)
    for doc in yaml.safe_load_all((EXAMPLES / "vault-externalsecret.yaml").read_text()):
        kube_emulator.create(doc)
    env.wait_reason("SecretStore", "vault", "demo", "Valid")
    env.wait_synced("db-credentials", "demo")
    values = env.values("db-credentials", "demo")
    assert values["dsn"] == b"postgres://app:s3cret@db.demo.svc:5432/app"
    assert values["username"] == b"app" and values["host"] == b"db.demo.svc"
