"""Attacks on the operator's own identity, each written as the tenant's manifest (docs/security.md 1-4).

The operator runs with real cloud credentials in these tests: moto's access keys in its
environment (AWS), and Application Default Credentials (GCP) whose tokens come from a local
token endpoint, so a leak would be observable: the token is a canary the GCP fake records.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.external_env import API, ExternalEnv, external_secret
from tests.support.operator_proc import OperatorProcess
from tests.support.rogue import TokenServer, service_account_key

TENANT = "tenant-a"
OTHER = "team-b"
OPERATOR_TOKEN = "ya29.operator-canary-Qx81"  # the operator's own Google access token


@pytest.fixture
def env(kube_emulator: Any) -> ExternalEnv:
    for ns in ("secretsync-system", TENANT, OTHER):
        kube_emulator.ensure_namespace(ns)
    return ExternalEnv(kube_emulator)


@pytest.fixture
def token_server() -> Any:
    server = TokenServer(OPERATOR_TOKEN)
    yield server
    server.close()


@pytest.fixture
def operator_with_adc(
    env: ExternalEnv, operator_factory: Any, token_server: TokenServer, tmp_path: Path
) -> OperatorProcess:
    """The operator, holding ADC: a service-account key whose tokens are the canary."""
    key = tmp_path / "adc.json"
    key.write_bytes(service_account_key(f"{token_server.url}/token"))
    proc: OperatorProcess = operator_factory(
        extra_args=["--key-renew-period", "0"], env={"GOOGLE_APPLICATION_CREDENTIALS": str(key)}
    )
    proc.wait_ready()
    return proc


def _store(name: str, namespace: str | None, provider: dict[str, Any], **spec: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {
        "apiVersion": API,
        "kind": "SecretStore" if namespace else "ClusterSecretStore",
        "metadata": meta,
        "spec": {"provider": provider, **spec},
    }


def _no_token_anywhere(proc: OperatorProcess, env: ExternalEnv, gcp_fake: Any) -> None:
    assert all(OPERATOR_TOKEN not in call.authorization for call in gcp_fake.call_log)
    for text in (
        proc.logs(),
        json.dumps(env.emu.list(API, "SecretStore")),
        json.dumps(env.emu.list("v1", "Event")),
    ):
        assert OPERATOR_TOKEN not in text


def test_gcp_endpoint_override_never_receives_the_operators_token(
    env: ExternalEnv, gcp_fake: Any, operator_with_adc: OperatorProcess, token_server: TokenServer
) -> None:
    """Attack 1: a tenant's store names its own endpoint and no auth, hoping for the operator's ADC."""
    gcp_fake.put_secret("projects/p/secrets/k", "v")
    env.emu.create(_store("grab", TENANT, {"gcpsm": {"projectID": "p", "endpoint": gcp_fake.endpoint}}))
    env.emu.create(
        external_secret("es", TENANT, "grab", data=[{"secretKey": "k", "remoteRef": {"key": "k"}}])
    )
    env.wait_synced("es", TENANT)  # anonymous: the endpoint answered, and got nothing of ours
    assert gcp_fake.call_log, "the tenant's endpoint was called"
    assert [call.authorization for call in gcp_fake.call_log] == [""] * len(gcp_fake.call_log)
    assert token_server.seen == []  # ADC was never even refreshed
    _no_token_anywhere(operator_with_adc, env, gcp_fake)


def test_gcp_namespaced_store_without_auth_is_refused(
    env: ExternalEnv, gcp_fake: Any, operator_with_adc: OperatorProcess, token_server: TokenServer
) -> None:
    """Attack 2 (GCP): no auth, no endpoint: ADC would be the operator's identity."""
    env.emu.create(_store("ambient", TENANT, {"gcpsm": {"projectID": "p"}}))
    cond = env.wait_reason("SecretStore", "ambient", TENANT, "NotPermitted")
    assert "must carry its own credentials" in cond["message"]
    env.emu.create(
        external_secret("es", TENANT, "ambient", data=[{"secretKey": "k", "remoteRef": {"key": "k"}}])
    )
    cond = env.wait_reason("ExternalSecret", "es", TENANT, "StoreNotReady")
    assert "NotPermitted" in cond["message"] or "own credentials" in cond["message"]
    assert env.secret("es", TENANT) is None
    assert token_server.seen == []
    _no_token_anywhere(operator_with_adc, env, gcp_fake)


def test_aws_namespaced_store_without_auth_or_with_role_only_is_refused(
    env: ExternalEnv, moto: Any, operator_factory: Any
) -> None:
    """Attack 2 (AWS): no auth (the SDK default chain) or role only (assumed as the operator)."""
    moto.boto3_client("secretsmanager").create_secret(Name="team-b/db", SecretString="b-secret")
    proc: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    proc.wait_ready()
    moto.reset_calls()
    env.emu.create(_store("plain", TENANT, {"aws": {"service": "SecretsManager", "region": "us-east-1"}}))
    role = "arn:aws:iam::123456789012:role/team-b-reader"
    env.emu.create(
        _store("role", TENANT, {"aws": {"service": "SecretsManager", "region": "us-east-1", "role": role}})
    )
    for store in ("plain", "role"):
        cond = env.wait_reason("SecretStore", store, TENANT, "NotPermitted")
        assert "operator's own cloud identity" in cond["message"]
        env.emu.create(
            external_secret(
                f"via-{store}", TENANT, store, data=[{"secretKey": "k", "remoteRef": {"key": "team-b/db"}}]
            )
        )
        env.wait_reason("ExternalSecret", f"via-{store}", TENANT, "StoreNotReady")
        assert env.secret(f"via-{store}", TENANT) is None
    assert sum(moto.calls.values()) == 0, moto.calls  # not one request went out as the operator
    assert "b-secret" not in proc.logs()


def test_cluster_store_conditions_cannot_be_bypassed_with_a_store_of_ones_own(
    env: ExternalEnv, moto: Any, operator_factory: Any
) -> None:
    """Attack 2: refused by a ClusterSecretStore's conditions, the tenant copies its provider section."""
    moto.boto3_client("secretsmanager").create_secret(Name="team-b/db", SecretString="b-secret")
    proc: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    proc.wait_ready()
    aws = {"aws": {"service": "SecretsManager", "region": "us-east-1"}}
    conditions = [{"namespaces": [OTHER]}]
    env.emu.create(_store("shared", None, aws, useOperatorIdentity=True, conditions=conditions))
    env.wait_reason("ClusterSecretStore", "shared", None, "Valid")
    ref = [{"secretKey": "k", "remoteRef": {"key": "team-b/db"}}]
    cluster_ref = {"name": "shared", "kind": "ClusterSecretStore"}
    env.emu.create(external_secret("mine", OTHER, "shared", secretStoreRef=cluster_ref, data=ref))
    env.wait_synced("mine", OTHER)  # team-b is allowed, and gets its value
    env.emu.create(external_secret("steal", TENANT, "shared", secretStoreRef=cluster_ref, data=ref))
    env.wait_reason("ExternalSecret", "steal", TENANT, "StoreNotAllowed")
    env.emu.create(_store("copy", TENANT, aws))  # the same provider section, in a store of its own
    env.emu.create(external_secret("steal2", TENANT, "copy", data=ref))
    env.wait_reason("SecretStore", "copy", TENANT, "NotPermitted")
    env.wait_reason("ExternalSecret", "steal2", TENANT, "StoreNotReady")
    assert env.secret("steal", TENANT) is None and env.secret("steal2", TENANT) is None
    assert "b-secret" not in proc.logs()


def test_cluster_store_needs_the_opt_in_and_never_with_an_endpoint(
    env: ExternalEnv, gcp_fake: Any, operator_with_adc: OperatorProcess, token_server: TokenServer
) -> None:
    """Only an admin's ClusterSecretStore may use the operator's identity, and only by saying so."""
    env.emu.create(_store("no-opt-in", None, {"gcpsm": {"projectID": "p"}}))
    cond = env.wait_reason("ClusterSecretStore", "no-opt-in", None, "NotPermitted")
    assert "spec.useOperatorIdentity: true" in cond["message"]
    env.emu.create(
        _store(
            "opt-in-elsewhere",
            None,
            {"gcpsm": {"projectID": "p", "endpoint": gcp_fake.endpoint}},
            useOperatorIdentity=True,
        )
    )
    # The operator's identity never goes to a host the store names, opt-in or not.
    cond = env.wait_reason("ClusterSecretStore", "opt-in-elsewhere", None, "NotPermitted")
    assert "never sent to a server or endpoint a store names" in cond["message"]
    assert gcp_fake.call_log == [] and token_server.seen == []
    # A namespaced store cannot carry the field at all: the SecretStore CRD does not declare it, so
    # kubectl's strict field validation refuses it and other clients get it pruned, which leaves a
    # SecretStore without auth: not permitted either.
    sneaky = _store("sneaky", TENANT, {"gcpsm": {"projectID": "p"}}, useOperatorIdentity=True)
    strict = env.emu.request(
        "POST", f"/apis/{API}/namespaces/{TENANT}/secretstores?fieldValidation=Strict", sneaky
    )
    assert strict[0] == 400 and 'unknown field "spec.useOperatorIdentity"' in strict[1]["message"]
    assert "useOperatorIdentity" not in env.emu.create(sneaky)["spec"]
    cond = env.wait_reason("SecretStore", "sneaky", TENANT, "NotPermitted")
    assert "has no auth" in cond["message"]
    _no_token_anywhere(operator_with_adc, env, gcp_fake)
