"""ESO fields end to end: refreshPolicy, metadata propagation, templateFrom, rewrite, metadataPolicy,
the controller class and retrySettings (the real operator, a real OpenBao server, the API emulator)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.support.external_env import (
    API,
    ExternalEnv,
    external_secret,
    metric_value,
    root_token_store,
    token_secret,
    vault_store,
)
from tests.support.kube_emulator import wait_for
from tests.support.operator_proc import OperatorProcess
from tests.support.ports import reserve_port

NS = "fidelity"
CANARY = "canary-fidelity-Qm4t"
PRODUCED = "secretsync.io/managed-secret"  # on every Secret the operator writes


@pytest.fixture
def env(kube_emulator: Any) -> ExternalEnv:
    for ns in ("secretsync-system", NS):
        kube_emulator.ensure_namespace(ns)
    return ExternalEnv(kube_emulator)


@pytest.fixture
def running(env: ExternalEnv, operator_factory: Any) -> OperatorProcess:
    proc: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    proc.wait_ready()
    return proc


@pytest.fixture
def store(env: ExternalEnv, openbao: Any) -> Any:
    root_token_store(env.emu, openbao, NS)
    env.wait_reason("SecretStore", "vault", NS, "Valid")
    return openbao


def _write(openbao: Any, name: str, data: dict[str, Any]) -> str:
    openbao.client().secrets.kv.v2.create_or_update_secret(openbao.path(name), data)
    return str(openbao.path(name))


def _status(env: ExternalEnv, name: str) -> dict[str, Any]:
    es = env.get("ExternalSecret", name, NS)
    assert es is not None
    return dict(es.get("status") or {})


def _touch(env: ExternalEnv, name: str, value: str) -> None:
    """Change the ExternalSecret's annotations (what ESO's OnChange watches besides the spec)."""
    env.emu.patch(API, "ExternalSecret", name, {"metadata": {"annotations": {"touched": value}}}, NS)


def _stays(check: Any, seconds: float = 2.5) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert check()
        time.sleep(0.1)


def _no_canary(proc: OperatorProcess, env: ExternalEnv) -> None:
    for text in (
        proc.logs(),
        proc.metrics(),
        json.dumps(env.emu.list("v1", "Event")),
        json.dumps(env.emu.list(API, "ExternalSecret")),
    ):
        assert CANARY not in text


# --------------------------------------------------------------------------- refreshPolicy


def test_created_once_reads_once_and_repairs_a_deleted_secret(
    running: OperatorProcess, env: ExternalEnv, store: Any
) -> None:
    key = _write(store, "once", {"v": "first"})
    data = [{"secretKey": "v", "remoteRef": {"key": key, "property": "v"}}]
    env.emu.create(
        external_secret("once", NS, "vault", refreshPolicy="CreatedOnce", refreshInterval="1s", data=data)
    )
    env.wait_synced("once", NS)
    assert env.values("once", NS) == {"v": b"first"}
    synced = _status(env, "once")["syncedResourceVersion"]
    _write(store, "once", {"v": "second"})
    _touch(env, "once", "1")  # a change: ESO's CreatedOnce does not read again; nor does a timer
    _stays(lambda: env.values("once", NS) == {"v": b"first"})
    assert _status(env, "once")["syncedResourceVersion"] == synced
    # A spec change is not read for either, but its generation is acknowledged (health checks).
    env.emu.patch(API, "ExternalSecret", "once", {"spec": {"refreshInterval": "2s"}}, NS)
    assert wait_for(lambda: _status(env, "once").get("observedGeneration") == 2)
    assert env.values("once", NS) == {"v": b"first"}
    env.emu.delete("v1", "Secret", "once", NS)  # a missing Secret is always written again
    assert wait_for(lambda: env.values("once", NS) == {"v": b"second"}, timeout=15)


def test_on_change_reads_when_the_external_secret_changes_and_never_on_a_timer(
    running: OperatorProcess, env: ExternalEnv, store: Any
) -> None:
    key = _write(store, "change", {"v": "first"})
    data = [{"secretKey": "v", "remoteRef": {"key": key, "property": "v"}}]
    env.emu.create(
        external_secret("change", NS, "vault", refreshPolicy="OnChange", refreshInterval="1s", data=data)
    )
    env.wait_synced("change", NS)
    _write(store, "change", {"v": "second"})
    _stays(lambda: env.values("change", NS) == {"v": b"first"})
    _touch(env, "change", "1")
    assert wait_for(lambda: env.values("change", NS) == {"v": b"second"}, timeout=15)


def test_periodic_reads_every_interval_and_interval_zero_reads_once(
    running: OperatorProcess, env: ExternalEnv, store: Any
) -> None:
    key = _write(store, "periodic", {"v": "first"})
    data = [{"secretKey": "v", "remoteRef": {"key": key, "property": "v"}}]
    env.emu.create(
        external_secret("every", NS, "vault", refreshPolicy="Periodic", refreshInterval="1s", data=data)
    )
    env.emu.create(external_secret("zero", NS, "vault", refreshInterval="0", data=data))
    env.wait_synced("every", NS)
    env.wait_synced("zero", NS)
    _write(store, "periodic", {"v": "second"})
    assert wait_for(lambda: env.values("every", NS) == {"v": b"second"}, timeout=15)
    _touch(env, "zero", "1")  # ESO since 0.11: refreshInterval 0 reads once, even after a change
    _stays(lambda: env.values("zero", NS) == {"v": b"first"})
    env.emu.patch("v1", "Secret", "zero", {"data": {"v": "ZWRpdGVk"}}, NS)  # an edited Secret is repaired
    assert wait_for(lambda: env.values("zero", NS) == {"v": b"second"}, timeout=15)


# --------------------------------------------------------------------------- metadata


def test_labels_and_annotations_follow_the_external_secret_or_its_template(
    running: OperatorProcess, env: ExternalEnv, store: Any
) -> None:
    key = _write(store, "meta", {"user": "app", "password": CANARY})
    body = external_secret("meta", NS, "vault", dataFrom=[{"extract": {"key": key}}])
    body["metadata"]["labels"] = {"app": "web", "tier": "db"}
    body["metadata"]["annotations"] = {"owner": "team-a"}
    env.emu.create(body)
    env.wait_synced("meta", NS)
    secret = env.secret("meta", NS)
    assert secret is not None
    assert secret["metadata"]["labels"] == {"app": "web", "tier": "db", PRODUCED: "true"}
    assert secret["metadata"]["annotations"]["owner"] == "team-a"
    # Someone else's label stays; a label the ExternalSecret drops goes, as with ESO's managedFields.
    env.emu.patch("v1", "Secret", "meta", {"metadata": {"labels": {"other": "kept"}}}, NS)
    env.emu.patch(API, "ExternalSecret", "meta", {"metadata": {"labels": {"tier": None}}}, NS)
    assert wait_for(
        lambda: (
            (env.secret("meta", NS) or {})["metadata"].get("labels")
            == {"app": "web", "other": "kept", PRODUCED: "true"}
        ),
        timeout=15,
    )
    # With a template, its metadata (rendered) replaces the ExternalSecret's own.
    template = {"metadata": {"labels": {"user": "{{ .user }}"}, "annotations": {"note": "static"}}}
    env.emu.patch(API, "ExternalSecret", "meta", {"spec": {"target": {"template": template}}}, NS)

    def templated() -> bool:
        meta = (env.secret("meta", NS) or {})["metadata"]
        annotations = meta.get("annotations") or {}
        labels = {"user": "app", "other": "kept", PRODUCED: "true"}
        return meta.get("labels") == labels and "owner" not in annotations

    assert wait_for(templated, timeout=15)
    assert (env.secret("meta", NS) or {})["metadata"]["annotations"]["note"] == "static"
    assert env.values("meta", NS) == {"user": b"app", "password": CANARY.encode()}  # no data templates
    _no_canary(running, env)


# --------------------------------------------------------------------------- templateFrom


def test_template_from_config_map_secret_and_literal(
    running: OperatorProcess, env: ExternalEnv, store: Any
) -> None:
    key = _write(store, "tpl", {"user": "app", "password": CANARY})
    template = {
        "engineVersion": "v2",
        "templateFrom": [
            {"configMap": {"name": "grafana-tpl", "items": [{"key": "config.yaml"}]}},
            {"secret": {"name": "pairs-tpl", "items": [{"key": "pairs", "templateAs": "KeysAndValues"}]}},
            {"target": "Annotations", "literal": "synced-user: '{{ .user }}'"},
        ],
        "data": {"dsn": "pg://{{ .user }}:{{ .password }}@db"},
    }
    env.emu.create(
        external_secret(
            "tpl", NS, "vault", dataFrom=[{"extract": {"key": key}}], target={"template": template}
        )
    )
    cond = env.wait_reason("ExternalSecret", "tpl", NS, "TemplateFailed")
    assert "ConfigMap fidelity/grafana-tpl not found" in cond["message"]
    env.emu.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "grafana-tpl", "namespace": NS},
            "data": {"config.yaml": 'datasources:\n- user: "{{ .user }}"\n  password: "{{ .password }}"\n'},
        }
    )
    env.emu.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "pairs-tpl", "namespace": NS},
            "stringData": {"pairs": "user-upper: '{{ .user | upper }}'\nstatic: value"},
        }
    )
    env.wait_synced("tpl", NS, timeout=30)  # retried with backoff until the sources exist
    assert env.values("tpl", NS) == {
        "config.yaml": f'datasources:\n- user: "app"\n  password: "{CANARY}"\n'.encode(),
        "user-upper": b"APP",
        "static": b"value",
        "dsn": f"pg://app:{CANARY}@db".encode(),
    }
    assert (env.secret("tpl", NS) or {})["metadata"]["annotations"]["synced-user"] == "app"
    _no_canary(running, env)


# --------------------------------------------------------------------------- rewrite and Fetch


def test_rewrite_regexp_transform_and_merge_over_find_and_extract(
    running: OperatorProcess, env: ExternalEnv, store: Any
) -> None:
    _write(store, "svc/db-one", {"host": "one"})
    _write(store, "svc/db-two", {"port": "5432"})
    prefix = store.prefix
    env.emu.create(
        external_secret(
            "rewrite",
            NS,
            "vault",
            dataFrom=[
                {
                    "find": {"path": prefix, "name": {"regexp": "svc/db-"}},
                    "rewrite": [
                        {"regexp": {"source": f"^{prefix}/svc/db-(.*)$", "target": "db_${1}"}},
                        {"transform": {"template": "{{ .value | upper }}"}},
                    ],
                },
                {
                    "find": {"path": prefix, "name": {"regexp": "svc/db-"}},
                    "rewrite": [{"merge": {"strategy": "Extract"}}],
                },
            ],
        )
    )
    env.wait_synced("rewrite", NS)
    values = env.values("rewrite", NS)
    assert json.loads(values["DB_ONE"]) == {"host": "one"}
    assert json.loads(values["DB_TWO"]) == {"port": "5432"}
    assert (values["host"], values["port"]) == (b"one", b"5432")


def test_metadata_policy_fetch_reads_vault_custom_metadata(
    running: OperatorProcess, env: ExternalEnv, store: Any
) -> None:
    key = _write(store, "withmeta", {"password": CANARY})
    store.client().secrets.kv.v2.update_metadata(
        key, custom_metadata={"owner": "team-a", "rotated": "2026-11"}
    )
    env.emu.create(
        external_secret(
            "fetched",
            NS,
            "vault",
            data=[
                {
                    "secretKey": "owner",
                    "remoteRef": {"key": key, "property": "owner", "metadataPolicy": "Fetch"},
                }
            ],
            dataFrom=[{"extract": {"key": key, "metadataPolicy": "Fetch"}}],
        )
    )
    env.wait_synced("fetched", NS)
    values = env.values("fetched", NS)
    assert values["owner"] == b"team-a" and values["rotated"] == b"2026-11"
    assert CANARY.encode() not in b"".join(values.values())
    _no_canary(running, env)


# --------------------------------------------------------------------------- stores


def test_stores_of_another_controller_class_are_left_alone(
    env: ExternalEnv, openbao: Any, operator_factory: Any
) -> None:
    env.emu.create(token_secret("vault-token", NS, openbao.root_token))
    auth = {"tokenSecretRef": {"name": "vault-token", "key": "token"}}
    for name, controller in (("mine", None), ("theirs", "dev")):
        body = vault_store(name, NS, openbao.addr, auth)
        if controller:
            body["spec"]["controller"] = controller
        env.emu.create(body)
    key = _write(openbao, "classes", {"v": "x"})
    data = [{"secretKey": "v", "remoteRef": {"key": key, "property": "v"}}]
    env.emu.create(external_secret("mine", NS, "mine", data=data))
    env.emu.create(external_secret("theirs", NS, "theirs", data=data))
    proc: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    proc.wait_ready()
    env.wait_synced("mine", NS)
    _stays(lambda: "status" not in (env.get("SecretStore", "theirs", NS) or {}), 1.5)
    assert "status" not in (env.get("ExternalSecret", "theirs", NS) or {})
    assert env.secret("theirs", NS) is None
    proc.stop()
    dev: OperatorProcess = operator_factory(
        extra_args=["--key-renew-period", "0", "--controller-class", "dev"]
    )
    dev.wait_ready()
    env.wait_synced("theirs", NS)  # the "dev" operator serves it (and stores without a class too)


def test_retry_settings_retry_transient_failures_within_a_sync(
    running: OperatorProcess, env: ExternalEnv, openbao: Any
) -> None:
    port = reserve_port()  # reserved, so nothing listens there: connections are refused
    env.emu.create(token_secret("vault-token", NS, openbao.root_token))
    auth = {"tokenSecretRef": {"name": "vault-token", "key": "token"}}
    body = vault_store("down", NS, f"http://127.0.0.1:{port}", auth)
    body["spec"]["retrySettings"] = {"maxRetries": 2, "retryInterval": "100ms"}
    env.emu.create(body)
    cond = env.wait_reason("SecretStore", "down", NS, "ProviderUnavailable")
    assert "127.0.0.1" in cond["message"]
    assert wait_for(lambda: metric_value(running, "secretsync_provider_events_total", event="retry") >= 2)


def test_a_store_with_refresh_interval_is_validated_again_and_shows_a_revoked_token(
    env: ExternalEnv, openbao: Any, running: OperatorProcess
) -> None:
    client = openbao.client()
    policy = openbao.write_policy("store-check", 'path "secret/*" { capabilities = ["read", "list"] }')
    for name, interval in (("checked", 1), ("unchecked", None)):
        token = client.auth.token.create(policies=[policy], ttl="1h")["auth"]["client_token"]
        env.emu.create(token_secret(f"{name}-token", NS, token))
        body = vault_store(
            name, NS, openbao.addr, {"tokenSecretRef": {"name": f"{name}-token", "key": "token"}}
        )
        if interval:
            body["spec"]["refreshInterval"] = interval  # ESO's store field: seconds
        env.emu.create(body)
        env.wait_reason("SecretStore", name, NS, "Valid")
        client.auth.token.revoke(token)

    def ready(name: str) -> str | None:
        for cond in ((env.get("SecretStore", name, NS) or {}).get("status") or {}).get("conditions") or []:
            if cond.get("type") == "Ready":
                return str(cond.get("status"))
        return None

    assert wait_for(lambda: ready("checked") == "False", timeout=15)
    # without refreshInterval a store is validated when it changes (its ExternalSecrets still fail
    # at their next sync with the cause)
    assert ready("unchecked") == "True"
