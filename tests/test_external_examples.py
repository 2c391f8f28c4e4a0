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


def test_aws_examples_sync(kube_emulator: Any, moto: Any, operator_factory: Any) -> None:
    """As written: moto accepts the example's placeholder keys; AWS_ENDPOINT_URL points boto3 at it."""
    env = ExternalEnv(kube_emulator)
    for ns in ("secretsync-system", "demo"):
        kube_emulator.ensure_namespace(ns)
    import boto3

    sm = boto3.client("secretsmanager", region_name="eu-west-1")  # env: moto's endpoint and dummy keys
    sm.create_secret(Name="demo/db", SecretString='{"username": "app", "password": "s3cret"}')
    sm.create_secret(Name="payments/api", SecretString="key-1", Tags=[{"Key": "team", "Value": "payments"}])
    proc: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    proc.wait_ready()
    for name in ("aws-secretstore.yaml", "aws-externalsecret.yaml"):
        for doc in yaml.safe_load_all((EXAMPLES / name).read_text()):
            kube_emulator.create(doc)
    env.wait_reason("SecretStore", "aws", "demo", "Valid")
    env.wait_synced("aws-db", "demo")
    assert env.values("aws-db", "demo") == {
        "username": b"app",
        "password": b"s3cret",
        "payments_api": b"key-1",
    }


def test_gcp_examples_sync(kube_emulator: Any, gcp_fake: Any, operator_factory: Any) -> None:
    """The store points at the fake instead of Google (endpoint) with no key: the only change."""
    env = ExternalEnv(kube_emulator)
    for ns in ("secretsync-system", "demo"):
        kube_emulator.ensure_namespace(ns)
    gcp_fake.put_secret("projects/my-project/secrets/db", '{"username": "app", "password": "s3cret"}')
    gcp_fake.put_secret("projects/my-project/secrets/api-key", "key-1", labels={"sync": "yes"})
    proc: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    proc.wait_ready()
    for doc in yaml.safe_load_all((EXAMPLES / "gcp-secretstore.yaml").read_text()):
        if doc["kind"] == "SecretStore":
            gcpsm = doc["spec"]["provider"]["gcpsm"]
            gcpsm.pop("auth")
            gcpsm["endpoint"] = gcp_fake.endpoint
        kube_emulator.create(doc)
    for doc in yaml.safe_load_all((EXAMPLES / "gcp-externalsecret.yaml").read_text()):
        kube_emulator.create(doc)
    env.wait_reason("SecretStore", "gcp", "demo", "Valid")
    env.wait_synced("gcp-db", "demo")
    assert env.values("gcp-db", "demo") == {"password": b"s3cret", "api-key": b"key-1"}
