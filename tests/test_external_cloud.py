"""ExternalSecrets from AWS (moto server) and GCP (the gRPC fake over TLS) through the real operator."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import grpc
import pytest

from tests.support.external_env import API, ExternalEnv, external_secret, metric_value
from tests.support.kube_emulator import wait_for
from tests.support.operator_proc import OperatorProcess

NS = "cloud"
CANARY = "canary-cloud-Jr4t"


@pytest.fixture
def env(kube_emulator: Any) -> ExternalEnv:
    for ns in ("secretsync-system", NS):
        kube_emulator.ensure_namespace(ns)
    return ExternalEnv(kube_emulator)


def _start(operator_factory: Any) -> OperatorProcess:
    proc: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    proc.wait_ready()
    return proc


def _store(name: str, provider: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "SecretStore",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"provider": provider},
    }


def _cluster_store(name: str, provider: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "ClusterSecretStore",
        "metadata": {"name": name},
        "spec": {"provider": provider, **spec},
    }


def _aws_auth(env: ExternalEnv) -> dict[str, Any]:
    """A Secret with (moto's dummy) access keys in NS, and the store auth naming it."""
    env.emu.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "aws-creds", "namespace": NS},
            "stringData": {"id": "AKIDEXAMPLE", "key": "secret-example"},
        }
    )
    return {
        "secretRef": {
            "accessKeyIDSecretRef": {"name": "aws-creds", "key": "id"},
            "secretAccessKeySecretRef": {"name": "aws-creds", "key": "key"},
        }
    }


def _force_sync(env: ExternalEnv, name: str) -> None:
    env.emu.patch(
        API, "ExternalSecret", name, {"metadata": {"annotations": {"force-sync": str(time.time())}}}, NS
    )


def _no_canary(proc: OperatorProcess, env: ExternalEnv) -> None:
    for text in (
        proc.logs(),
        proc.metrics(),
        json.dumps(env.emu.list("v1", "Event")),
        json.dumps(env.emu.list(API, "ExternalSecret")),
    ):
        assert CANARY not in text


# ---------------------------------------------------------------------------- AWS


def test_aws_secrets_manager_reads_and_calls_per_cycle(
    env: ExternalEnv, moto: Any, operator_factory: Any
) -> None:
    sm = moto.boto3_client("secretsmanager")
    sm.create_secret(
        Name="app/db", SecretString=json.dumps({"user": "app", "password": CANARY, "n": {"l": ["x"]}})
    )
    sm.create_secret(Name="app/blob", SecretBinary=b"\x00\x01binary")
    sm.create_secret(Name="team/one", SecretString="1", Tags=[{"Key": "team", "Value": "a"}])
    sm.create_secret(Name="team/two", SecretString="2", Tags=[{"Key": "team", "Value": "a"}])
    proc = _start(operator_factory)
    # The operator's own AWS identity (moto's keys in its environment), which a cluster admin's
    # ClusterSecretStore may use only by opting in.
    aws = {"aws": {"service": "SecretsManager", "region": "us-east-1"}}
    env.emu.create(_cluster_store("aws", aws, useOperatorIdentity=True))
    env.wait_reason("ClusterSecretStore", "aws", None, "Valid")
    env.emu.create(
        external_secret(
            "es",
            NS,
            "aws",
            secretStoreRef={"name": "aws", "kind": "ClusterSecretStore"},
            data=[
                {"secretKey": "user", "remoteRef": {"key": "app/db", "property": "user"}},
                {"secretKey": "password", "remoteRef": {"key": "app/db", "property": "password"}},
                {"secretKey": "deep", "remoteRef": {"key": "app/db", "property": "n.l.0"}},
                {"secretKey": "blob", "remoteRef": {"key": "app/blob"}},
            ],
            dataFrom=[{"find": {"tags": {"team": "a"}}}],
        )
    )
    env.wait_synced("es", NS)
    assert env.values("es", NS) == {
        "user": b"app",
        "password": CANARY.encode(),
        "deep": b"x",
        "blob": b"\x00\x01binary",
        "team_one": b"1",
        "team_two": b"2",
    }
    # A refresh cycle: one GetSecretValue per distinct secret, no STS or per-secret reads for find.
    moto.reset_calls()
    before = env.get("ExternalSecret", "es", NS)["status"]["refreshTime"]  # type: ignore[index]
    time.sleep(1.1)
    _force_sync(env, "es")
    wait_for(lambda: env.get("ExternalSecret", "es", NS)["status"]["refreshTime"] != before, timeout=10)  # type: ignore[index]
    assert moto.calls["GetSecretValue"] == 2
    assert moto.calls.get("AssumeRole", 0) == 0
    assert sum(moto.calls.values()) <= 4, moto.calls
    _no_canary(proc, env)


def test_aws_parameter_store_and_deletion(env: ExternalEnv, moto: Any, operator_factory: Any) -> None:
    ssm = moto.boto3_client("ssm")
    ssm.put_parameter(Name="/app/url", Value="https://a", Type="String")
    ssm.put_parameter(Name="/app/url", Value="https://b", Type="String", Overwrite=True)
    ssm.put_parameter(Name="/app/list", Value="a,b,c", Type="StringList")
    ssm.put_parameter(Name="/app/secret", Value=CANARY, Type="SecureString")
    ssm.put_parameter(Name="/gone", Value="x", Type="String")
    auth = _aws_auth(env)
    proc = _start(operator_factory)
    env.emu.create(_store("ssm", {"aws": {"service": "ParameterStore", "region": "us-east-1", "auth": auth}}))
    env.emu.create(
        external_secret(
            "params",
            NS,
            "ssm",
            data=[
                {"secretKey": "old", "remoteRef": {"key": "/app/url", "version": "1"}},
                {"secretKey": "list", "remoteRef": {"key": "/app/list"}},
            ],
            dataFrom=[{"find": {"path": "/app"}}],
        )
    )
    env.emu.create(
        external_secret(
            "doomed",
            NS,
            "ssm",
            refreshInterval="1s",
            target={"name": "doomed", "deletionPolicy": "Delete"},
            data=[{"secretKey": "v", "remoteRef": {"key": "/gone"}}],
        )
    )
    env.wait_synced("params", NS)
    values = env.values("params", NS)
    assert values["old"] == b"https://a" and values["list"] == b"a,b,c"
    # ESO keeps the full parameter name; "/" becomes "_" in the Secret key.
    assert values["_app_secret"] == CANARY.encode() and values["_app_url"] == b"https://b"
    env.wait_synced("doomed", NS)
    ssm.delete_parameter(Name="/gone")
    env.wait_reason("ExternalSecret", "doomed", NS, "SecretDeleted")
    wait_for(lambda: env.secret("doomed", NS) is None)
    _no_canary(proc, env)


def test_aws_outage_keeps_the_secret_and_recovers(env: ExternalEnv, moto: Any, operator_factory: Any) -> None:
    moto.boto3_client("secretsmanager").create_secret(Name="k", SecretString=CANARY)
    proc = _start(operator_factory)
    auth = _aws_auth(env)
    env.emu.create(_store("aws", {"aws": {"service": "SecretsManager", "region": "us-east-1", "auth": auth}}))
    env.emu.create(
        external_secret(
            "es", NS, "aws", refreshInterval="1s", data=[{"secretKey": "k", "remoteRef": {"key": "k"}}]
        )
    )
    env.wait_synced("es", NS)
    moto.stop()
    cond = env.wait_reason("ExternalSecret", "es", NS, "ProviderUnavailable", timeout=30)
    assert "aws" in cond["message"]
    assert env.values("es", NS) == {"k": CANARY.encode()}
    moto.start()
    env.wait_synced("es", NS, timeout=40)
    _no_canary(proc, env)


# ---------------------------------------------------------------------------- GCP


def test_gcp_reads_find_by_labels_and_calls_per_cycle(
    env: ExternalEnv, gcp_fake: Any, operator_factory: Any
) -> None:
    gcp_fake.put_secret(
        "projects/p/secrets/db",
        json.dumps({"password": "old"}),
        json.dumps({"password": CANARY, "list": [{"name": "n0"}]}),
    )
    gcp_fake.put_secret("projects/p/secrets/svc-a", "A", labels={"sync": "yes"})
    gcp_fake.put_secret("projects/p/secrets/svc-b", "B", labels={"sync": "yes"})
    gcp_fake.put_secret("projects/p/secrets/other", "O", labels={"sync": "no"})
    proc = _start(operator_factory)
    env.emu.create(_store("gcp", {"gcpsm": {"projectID": "p", "endpoint": gcp_fake.endpoint}}))
    env.wait_reason("SecretStore", "gcp", NS, "Valid")
    env.emu.create(
        external_secret(
            "es",
            NS,
            "gcp",
            data=[
                {"secretKey": "password", "remoteRef": {"key": "db", "property": "password"}},
                {"secretKey": "first", "remoteRef": {"key": "db", "property": "list.0.name"}},
                {"secretKey": "v1", "remoteRef": {"key": "db", "version": "1", "property": "password"}},
            ],
            dataFrom=[{"find": {"tags": {"sync": "yes"}}}],
        )
    )
    env.wait_synced("es", NS)
    assert env.values("es", NS) == {
        "password": CANARY.encode(),
        "first": b"n0",
        "v1": b"old",
        "svc-a": b"A",
        "svc-b": b"B",
    }
    gcp_fake.reset_calls()
    before = env.get("ExternalSecret", "es", NS)["status"]["refreshTime"]  # type: ignore[index]
    time.sleep(1.1)
    _force_sync(env, "es")
    wait_for(lambda: env.get("ExternalSecret", "es", NS)["status"]["refreshTime"] != before, timeout=10)  # type: ignore[index]
    # db latest, db v1, and the two found secrets: one access each; one ListSecrets page.
    assert gcp_fake.calls["AccessSecretVersion"] == 4, gcp_fake.calls
    assert gcp_fake.calls["ListSecrets"] == 1, gcp_fake.calls
    _no_canary(proc, env)


def test_gcp_errors_are_clear_and_recoverable(env: ExternalEnv, gcp_fake: Any, operator_factory: Any) -> None:
    gcp_fake.put_secret("projects/p/secrets/k", CANARY)
    proc = _start(operator_factory)
    env.emu.create(_store("gcp", {"gcpsm": {"projectID": "p", "endpoint": gcp_fake.endpoint}}))
    env.emu.create(
        external_secret(
            "es", NS, "gcp", refreshInterval="1s", data=[{"secretKey": "k", "remoteRef": {"key": "k"}}]
        )
    )
    env.emu.create(
        external_secret("missing", NS, "gcp", data=[{"secretKey": "k", "remoteRef": {"key": "nope"}}])
    )
    env.wait_synced("es", NS)
    cond = env.wait_reason("ExternalSecret", "missing", NS, "SecretMissing")
    assert "nope" in cond["message"]
    gcp_fake.fail_always(grpc.StatusCode.PERMISSION_DENIED, methods=["AccessSecretVersion"])
    cond = env.wait_reason("ExternalSecret", "es", NS, "ProviderAuthFailed", timeout=20)
    assert "projects/p/secrets/k" in cond["message"]
    assert env.values("es", NS) == {"k": CANARY.encode()}
    gcp_fake.clear_faults()
    gcp_fake.stop()
    env.wait_reason("ExternalSecret", "es", NS, "ProviderUnavailable", timeout=60)
    assert env.values("es", NS) == {"k": CANARY.encode()}
    gcp_fake.start()
    env.wait_synced("es", NS, timeout=60)
    _no_canary(proc, env)
    assert base64.b64encode(CANARY.encode()).decode() not in proc.logs()
    assert metric_value(proc, "secretsync_provider_calls_total", provider="gcpsm", result="ok") > 0
