"""Smoke tests: each provider harness works with the official client library the provider will use,
counts calls, survives stop/start on the same port, and leaves no process or token file behind."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import hvac
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from google.api_core import exceptions as gexc
from google.cloud import secretmanager_v1 as sm

from tests.support import ports

if TYPE_CHECKING:
    from tests.support.gcp_fake import SecretManagerFake
    from tests.support.moto_server import MotoServer
    from tests.support.openbao import OpenBaoScope, OpenBaoServer


REAL_TOKEN_FILE = Path(os.path.expanduser("~")) / ".vault-token"


def _token_file_state() -> int | None:
    """mtime of the real ``~/.vault-token`` (None if absent): it must not change during the tests."""
    try:
        return REAL_TOKEN_FILE.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# -- OpenBao / hvac -----------------------------------------------------------------------------------


def test_openbao_kv2_write_read_and_specific_version(openbao: OpenBaoScope) -> None:
    client = openbao.client()
    path = openbao.path("db")
    client.secrets.kv.v2.create_or_update_secret(path, {"password": "one"})
    client.secrets.kv.v2.create_or_update_secret(path, {"password": "two"})

    latest = client.secrets.kv.v2.read_secret_version(path, raise_on_deleted_version=True)
    first = client.secrets.kv.v2.read_secret_version(path, version=1, raise_on_deleted_version=True)

    assert latest["data"]["data"] == {"password": "two"}
    assert latest["data"]["metadata"]["version"] == 2
    assert first["data"]["data"] == {"password": "one"}


def test_openbao_kv1_mount(openbao: OpenBaoScope) -> None:
    client = openbao.client()
    client.secrets.kv.v1.create_or_update_secret(openbao.path("cfg"), {"k": "v"}, mount_point="kv1")

    assert client.secrets.kv.v1.read_secret(openbao.path("cfg"), mount_point="kv1")["data"] == {"k": "v"}


def test_openbao_approle_login_and_token_lookup(openbao: OpenBaoScope) -> None:
    admin = openbao.client()
    admin.secrets.kv.v2.create_or_update_secret(openbao.path("app", "x"), {"v": "1"})
    admin.secrets.kv.v2.create_or_update_secret("elsewhere/x", {"v": "no"})
    creds = openbao.create_approle(
        "reader", policy_hcl=f'path "secret/data/{openbao.prefix}/*" {{ capabilities = ["read"] }}'
    )

    app = openbao.client(token="none-yet")
    app.auth.approle.login(creds.role_id, creds.secret_id)
    me = app.auth.token.lookup_self()["data"]

    assert openbao.name("reader") in me["policies"]
    assert app.secrets.kv.v2.read_secret_version(openbao.path("app", "x"), raise_on_deleted_version=True)[
        "data"
    ]["data"] == {"v": "1"}
    with pytest.raises(hvac.exceptions.Forbidden):
        app.secrets.kv.v2.read_secret_version("elsewhere/x", raise_on_deleted_version=True)


def test_openbao_kubernetes_auth_full_login(openbao: OpenBaoScope) -> None:
    from tests.support.openbao import TokenReviewStub, make_service_account_jwt

    policy = openbao.write_policy("k8s", 'path "secret/data/*" { capabilities = ["read"] }')
    with TokenReviewStub() as apiserver:
        mount = openbao.enable_kubernetes_auth(
            apiserver.url,
            role="secretsync",
            bound_sa_names=["secretsync"],
            bound_namespaces=["ops"],
            policies=[policy],
        )
        client = openbao.client(token="none-yet")
        login = client.auth.kubernetes.login(
            "secretsync", make_service_account_jwt("ops", "secretsync"), mount_point=mount
        )
        with pytest.raises(hvac.exceptions.Forbidden):  # namespace not bound
            client.auth.kubernetes.login(
                "secretsync", make_service_account_jwt("other", "secretsync"), mount_point=mount
            )

    assert policy in login["auth"]["policies"]
    assert apiserver.reviews >= 1  # Vault asked the (stub) API server to review the token


def test_openbao_restart_same_port_replays_config_and_seed(openbao_isolated: OpenBaoServer) -> None:
    bao = openbao_isolated
    creds = bao.create_approle("op", policy_hcl='path "secret/data/*" { capabilities = ["read"] }')
    bao.add_seed_hook(lambda s: s.client().secrets.kv.v2.create_or_update_secret("seeded", {"v": "1"}))
    old_pid, old_addr = bao.pid, bao.addr
    assert old_pid is not None

    bao.restart()

    assert bao.addr == old_addr and bao.pid not in (None, old_pid)
    assert not _pid_alive(old_pid)
    app = bao.client(token="none-yet")
    app.auth.approle.login(creds.role_id, creds.secret_id)  # same credentials still valid
    assert app.secrets.kv.v2.read_secret_version("seeded", raise_on_deleted_version=True)["data"]["data"] == {
        "v": "1"
    }
    assert "kv1/" in bao.client().sys.list_mounted_secrets_engines()["data"]


def test_openbao_outage_then_recovery(openbao_isolated: OpenBaoServer) -> None:
    client = openbao_isolated.client(timeout=2)
    openbao_isolated.stop()
    with pytest.raises(Exception) as excinfo:  # requests' ConnectionError: nothing listens
        client.sys.read_health_status(method="GET")
    assert "Connection" in type(excinfo.value).__name__
    openbao_isolated.start()
    assert client.sys.is_initialized()


def test_openbao_stop_leaves_no_process_and_no_token_file(tmp_path: Path) -> None:
    from tests.support.openbao import OpenBaoServer

    before = _token_file_state()
    server = OpenBaoServer(tmp_path / "bao")
    server.start()
    pid = server.pid
    assert pid is not None and _pid_alive(pid)

    server.close()

    assert not _pid_alive(pid)
    assert ports.is_port_free(server.port)
    assert _token_file_state() == before
    assert not (server.home / ".vault-token").exists()


# -- moto / boto3 -------------------------------------------------------------------------------------


def test_moto_secretsmanager_stages_and_binary(moto: MotoServer) -> None:
    sm_client = moto.boto3_client("secretsmanager")
    sm_client.create_secret(Name="app/db", SecretString='{"user":"a"}')
    sm_client.put_secret_value(SecretId="app/db", SecretString='{"user":"b"}')
    sm_client.create_secret(Name="app/cert", SecretBinary=b"\x00\x01binary")

    current = sm_client.get_secret_value(SecretId="app/db")
    previous = sm_client.get_secret_value(SecretId="app/db", VersionStage="AWSPREVIOUS")
    by_id = sm_client.get_secret_value(SecretId="app/db", VersionId=previous["VersionId"])
    binary = sm_client.get_secret_value(SecretId="app/cert")

    assert current["SecretString"] == '{"user":"b"}' and "AWSCURRENT" in current["VersionStages"]
    assert previous["SecretString"] == by_id["SecretString"] == '{"user":"a"}'
    assert binary["SecretBinary"] == b"\x00\x01binary"


def test_moto_ssm_securestring_and_by_path(moto: MotoServer) -> None:
    ssm = moto.boto3_client("ssm")
    ssm.put_parameter(Name="/app/db/password", Value="s3cret", Type="SecureString")
    ssm.put_parameter(Name="/app/db/user", Value="admin", Type="String")
    ssm.put_parameter(Name="/app/other", Value="x", Type="String")

    decrypted = ssm.get_parameter(Name="/app/db/password", WithDecryption=True)["Parameter"]
    encrypted = ssm.get_parameter(Name="/app/db/password", WithDecryption=False)["Parameter"]
    pages = list(
        ssm.get_paginator("get_parameters_by_path").paginate(
            Path="/app", Recursive=True, WithDecryption=True, PaginationConfig={"PageSize": 1}
        )
    )
    found = {p["Name"]: p["Value"] for page in pages for p in page["Parameters"]}

    assert decrypted["Value"] == "s3cret" and encrypted["Value"] != "s3cret"
    assert found == {"/app/db/password": "s3cret", "/app/db/user": "admin", "/app/other": "x"}
    assert moto.calls["GetParametersByPath"] == len(pages) >= 3  # one call per page of 1


def test_moto_env_points_plain_boto3_at_moto_and_counts_calls(moto: MotoServer) -> None:
    seed = moto.boto3_client("secretsmanager")
    seed.create_secret(Name="k", SecretString="v")
    moto.reset_calls()

    plain = boto3.client("secretsmanager")  # no endpoint, no credentials: the env does it
    for _ in range(3):
        plain.get_secret_value(SecretId="k")
    plain.describe_secret(SecretId="k")

    assert moto.calls == {"GetSecretValue": 3, "DescribeSecret": 1}
    assert moto.calls_by_service["secretsmanager:GetSecretValue"] == 3
    assert moto.total_calls == 4


def test_moto_reset_wipes_data(moto: MotoServer) -> None:
    client = moto.boto3_client("secretsmanager")
    client.create_secret(Name="gone", SecretString="v")
    moto.reset()
    with pytest.raises(ClientError) as err:
        client.get_secret_value(SecretId="gone")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert moto.total_calls == 1


def test_moto_outage_cuts_keepalive_connections_and_keeps_data(moto: MotoServer) -> None:
    client = moto.boto3_client("secretsmanager")
    client.create_secret(Name="k", SecretString="v")  # the pool now holds a keep-alive connection

    moto.stop()
    with pytest.raises(EndpointConnectionError):
        client.get_secret_value(SecretId="k")
    assert ports.is_port_free(moto.port)
    moto.start()

    assert client.get_secret_value(SecretId="k")["SecretString"] == "v"


# -- GCP Secret Manager fake / google-cloud-secret-manager -------------------------------------------


@pytest.fixture
def gsm(gcp_fake: SecretManagerFake) -> Iterator[sm.SecretManagerServiceClient]:
    with gcp_fake.client() as client:
        yield client


def test_gcp_official_client_roundtrip(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient
) -> None:
    secret = gsm.create_secret(
        request={
            "parent": "projects/p1",
            "secret_id": "db",
            "secret": {"replication": {"automatic": {}}, "labels": {"team": "core"}},
        }
    )
    gsm.create_secret(
        request={"parent": "projects/p1", "secret_id": "other", "secret": {"replication": {"automatic": {}}}}
    )
    gsm.add_secret_version(request={"parent": secret.name, "payload": {"data": b"one"}})
    gsm.add_secret_version(request={"parent": secret.name, "payload": {"data": b"two"}})

    latest = gsm.access_secret_version(name=f"{secret.name}/versions/latest")
    first = gsm.access_secret_version(name=f"{secret.name}/versions/1")
    labelled = [
        s.name for s in gsm.list_secrets(request={"parent": "projects/p1", "filter": "labels.team=core"})
    ]
    gsm.disable_secret_version(name=f"{secret.name}/versions/1")

    assert latest.name == f"{secret.name}/versions/2" and latest.payload.data == b"two"
    assert first.payload.data == b"one"
    assert labelled == ["projects/p1/secrets/db"]
    with pytest.raises(gexc.FailedPrecondition, match="is in DISABLED state"):
        gsm.access_secret_version(name=f"{secret.name}/versions/1")
    with pytest.raises(gexc.NotFound):
        gsm.access_secret_version(name="projects/p1/secrets/missing/versions/latest")
    assert gcp_fake.calls["AccessSecretVersion"] == 4
    assert gcp_fake.calls["CreateSecret"] == 2


def test_gcp_call_counting_ignores_direct_seeding(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient
) -> None:
    gcp_fake.put_secret("projects/p/secrets/a", "v1", "v2", labels={"sync": "yes"})
    assert gcp_fake.total_calls == 0

    for _ in range(3):
        gsm.access_secret_version(name="projects/p/secrets/a/versions/latest")

    assert gcp_fake.calls == {"AccessSecretVersion": 3}
    assert {c.resource for c in gcp_fake.call_log} == {"projects/p/secrets/a/versions/latest"}


def test_gcp_outage_and_restart_same_port(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient
) -> None:
    gcp_fake.put_secret("projects/p/secrets/a", "v1")
    port = gcp_fake.port

    gcp_fake.stop()
    with pytest.raises(gexc.ServiceUnavailable):
        gsm.access_secret_version(name="projects/p/secrets/a/versions/1", retry=None, timeout=2)
    assert ports.is_port_free(port)
    gcp_fake.start()

    response = gsm.access_secret_version(name="projects/p/secrets/a/versions/1", timeout=10)
    assert gcp_fake.port == port and response.payload.data == b"v1"


def test_gcp_injected_permission_denied(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient
) -> None:
    import grpc

    gcp_fake.put_secret("projects/p/secrets/a", "v1")
    gcp_fake.fail_next(1, grpc.StatusCode.PERMISSION_DENIED, methods=["AccessSecretVersion"])

    with pytest.raises(gexc.PermissionDenied):
        gsm.access_secret_version(name="projects/p/secrets/a/versions/1")
    assert gsm.access_secret_version(name="projects/p/secrets/a/versions/1").payload.data == b"v1"


def test_gcp_trust_root_env_is_set_for_the_session(gcp_fake: SecretManagerFake) -> None:
    roots = Path(os.environ["GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"]).read_bytes()
    assert gcp_fake.ca_path.read_bytes().strip() in roots
    assert gcp_fake.env() == {"GRPC_DEFAULT_SSL_ROOTS_FILE_PATH": str(gcp_fake.ca_path)}


# -- helpers ------------------------------------------------------------------------------------------


def test_reserved_ports_are_outside_the_ephemeral_range() -> None:
    low, _ = ports._ephemeral_range()
    port = ports.reserve_port()
    try:
        assert ports.is_port_free(port)
        assert port < low or low <= 20000
    finally:
        ports.release_port(port)


def test_service_account_jwt_is_well_formed() -> None:
    from tests.support.openbao import make_service_account_jwt

    token = make_service_account_jwt("ns", "sa", audience=["vault"])
    _header, claims, signature = token.split(".")
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(claims + "=="))
    assert decoded["sub"] == "system:serviceaccount:ns:sa" and decoded["aud"] == ["vault"]
    assert len(base64.urlsafe_b64decode(signature + "==")) == 64
