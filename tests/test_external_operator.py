"""ExternalSecrets end to end: the real operator, a real OpenBao server and the API emulator."""

from __future__ import annotations

import base64
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

NS = "apps"
CANARY = "canary-vault-Wb7x"


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


def _token_store(env: ExternalEnv, openbao: Any, name: str = "vault", namespace: str = NS, **kw: Any) -> None:
    root_token_store(env.emu, openbao, namespace, name, **kw)


def _no_canary(proc: OperatorProcess, env: ExternalEnv, *credentials: str) -> None:
    """Neither the canary value nor any of ``credentials`` (a token, a secret ID), as is or in base64,
    in the operator's log, its metrics, an Event, or an ExternalSecret or store."""
    texts = [
        proc.logs(),
        proc.metrics(),
        json.dumps(env.emu.list("v1", "Event")),
        *(
            json.dumps(env.emu.list(API, kind))
            for kind in ("ExternalSecret", "SecretStore", "ClusterSecretStore")
        ),
    ]
    for secret in (CANARY, *credentials):
        for form in (secret, base64.b64encode(secret.encode()).decode()):
            for text in texts:
                assert form not in text, f"{secret[:4]}... leaked"


def _approle_store(env: ExternalEnv, openbao: Any, name: str = "vault") -> str:
    """A SecretStore logging in with AppRole (read-only on this test's paths); returns the secret ID."""
    policy = f'path "secret/data/{openbao.prefix}/*" {{ capabilities = ["read"] }}'
    role = openbao.create_approle(name, policy_hcl=policy)
    env.emu.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": f"{name}-approle", "namespace": NS},
            "stringData": {"secret-id": role.secret_id},
        }
    )
    auth = {
        "appRole": {
            "path": role.mount_point,
            "roleId": role.role_id,
            "secretRef": {"name": f"{name}-approle", "key": "secret-id"},
        }
    }
    env.emu.create(vault_store(name, NS, openbao.addr, auth))
    return role.secret_id


def _logins(proc: OperatorProcess) -> float:
    return metric_value(proc, "secretsync_provider_events_total", provider="vault", event="login")


def test_token_auth_kv2_data_property_extract_and_template(
    running: OperatorProcess, env: ExternalEnv, openbao: Any
) -> None:
    kv = openbao.client().secrets.kv.v2
    kv.create_or_update_secret(
        openbao.path("db"), {"password": CANARY, "user": "app", "nested": {"list": [{"name": "first"}]}}
    )
    kv.create_or_update_secret(openbao.path("extra"), {"a": "1", "b": "2"})
    _token_store(env, openbao)
    env.wait_reason("SecretStore", "vault", NS, "Valid")
    env.emu.create(
        external_secret(
            "db",
            NS,
            "vault",
            target={
                "name": "db-creds",
                "template": {
                    "type": "kubernetes.io/basic-auth",
                    "metadata": {"labels": {"app": "db"}},
                    "data": {
                        "username": "{{ .user }}",
                        "password": "{{ .password }}",
                        "dsn": "pg://{{ .user }}:{{ .password }}@db/{{ .first }}",
                        "a": "{{ .a }}",
                    },
                },
            },
            data=[
                {"secretKey": "password", "remoteRef": {"key": openbao.path("db"), "property": "password"}},
                {"secretKey": "user", "remoteRef": {"key": openbao.path("db"), "property": "user"}},
                {
                    "secretKey": "first",
                    "remoteRef": {"key": openbao.path("db"), "property": "nested.list.0.name"},
                },
            ],
            dataFrom=[{"extract": {"key": openbao.path("extra")}}],
        )
    )
    cond = env.wait_synced("db", NS)
    assert "db-creds" in cond["message"]
    assert env.values("db-creds", NS) == {
        "username": b"app",
        "password": CANARY.encode(),
        "dsn": f"pg://app:{CANARY}@db/first".encode(),
        "a": b"1",
    }
    secret = env.secret("db-creds", NS)
    assert secret is not None and secret["type"] == "kubernetes.io/basic-auth"
    assert secret["metadata"]["labels"] == {"app": "db", "secretsync.io/managed-secret": "true"}
    es = env.get("ExternalSecret", "db", NS)
    assert es is not None
    assert secret["metadata"]["ownerReferences"][0]["uid"] == es["metadata"]["uid"]
    assert es["status"]["refreshTime"] and es["status"]["syncedResourceVersion"]
    assert es["status"]["observedGeneration"] == es["metadata"]["generation"]
    assert wait_for(lambda: [e for e in env.events("db", NS) if e["reason"] == "Created"])
    # Three data[] entries on one Vault path cost one read; the extract is one more.
    calls = "secretsync_provider_calls_total"
    assert metric_value(running, calls, provider="vault", result="ok", operation="get") == 1
    assert metric_value(running, calls, provider="vault", result="ok", operation="get_map") == 1
    _no_canary(running, env)


def test_kv1_whole_map_find_and_version(running: OperatorProcess, env: ExternalEnv, openbao: Any) -> None:
    client = openbao.client()
    client.secrets.kv.v1.create_or_update_secret(openbao.path("flat"), {"k": "v1-value"}, mount_point="kv1")
    kv2 = client.secrets.kv.v2
    kv2.create_or_update_secret(openbao.path("app", "one"), {"x": "1"})
    kv2.create_or_update_secret(openbao.path("app", "two"), {"y": "2"})
    kv2.create_or_update_secret(openbao.path("other"), {"z": "3"})
    kv2.create_or_update_secret(openbao.path("versioned"), {"v": "old"})
    kv2.create_or_update_secret(openbao.path("versioned"), {"v": "new"})
    env.emu.create(token_secret("vault-token", NS, openbao.root_token))
    auth = {"tokenSecretRef": {"name": "vault-token", "key": "token"}}
    env.emu.create(vault_store("kv1", NS, openbao.addr, auth, path="kv1", version="v1"))
    env.emu.create(vault_store("kv2", NS, openbao.addr, auth))
    env.emu.create(
        external_secret(
            "flat", NS, "kv1", data=[{"secretKey": "all", "remoteRef": {"key": openbao.path("flat")}}]
        )
    )
    env.emu.create(
        external_secret(
            "found", NS, "kv2", dataFrom=[{"find": {"path": openbao.prefix, "name": {"regexp": "app/"}}}]
        )
    )
    env.emu.create(
        external_secret(
            "old",
            NS,
            "kv2",
            data=[
                {
                    "secretKey": "v",
                    "remoteRef": {"key": openbao.path("versioned"), "property": "v", "version": "1"},
                }
            ],
        )
    )
    env.wait_synced("flat", NS)
    assert json.loads(env.values("flat", NS)["all"]) == {"k": "v1-value"}
    env.wait_synced("found", NS)
    found = env.values("found", NS)
    assert set(found) == {f"{openbao.prefix}_app_one", f"{openbao.prefix}_app_two"}
    assert json.loads(found[f"{openbao.prefix}_app_one"]) == {"x": "1"}
    env.wait_synced("old", NS)
    assert env.values("old", NS) == {"v": b"old"}


def test_approle_and_kubernetes_auth(running: OperatorProcess, env: ExternalEnv, openbao: Any) -> None:
    openbao.client().secrets.kv.v2.create_or_update_secret(openbao.path("svc"), {"token": CANARY})
    policy = f'path "secret/data/{openbao.prefix}/*" {{ capabilities = ["read"] }}'
    role = openbao.create_approle("reader", policy_hcl=policy)
    env.emu.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "approle", "namespace": NS},
            "stringData": {"secret-id": role.secret_id},
        }
    )
    approle_auth = {
        "appRole": {
            "path": role.mount_point,
            "roleId": role.role_id,
            "secretRef": {"name": "approle", "key": "secret-id"},
        }
    }
    env.emu.create(vault_store("approle", NS, openbao.addr, approle_auth))
    policy_name = openbao.write_policy("k8s-reader", policy)
    mount = openbao.enable_kubernetes_auth(
        env.emu.url,
        bound_sa_names=["vault-reader"],
        bound_namespaces=[NS],
        policies=[policy_name],
        audience="vault",  # the fixed audience of the tokens secretsync mints
    )
    env.emu.create(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            # an admin's mark: stores may mint tokens for this ServiceAccount
            "metadata": {
                "name": "vault-reader",
                "namespace": NS,
                "annotations": {"secretsync.io/allow-store-tokens": "true"},
            },
        }
    )
    k8s_auth = {
        "kubernetes": {
            "mountPath": mount,
            "role": "secretsync",
            "serviceAccountRef": {"name": "vault-reader"},
        }
    }
    env.emu.create(vault_store("k8s", NS, openbao.addr, k8s_auth))
    ref = {"key": openbao.path("svc"), "property": "token"}
    env.emu.create(external_secret("via-approle", NS, "approle", data=[{"secretKey": "t", "remoteRef": ref}]))
    env.emu.create(external_secret("via-k8s", NS, "k8s", data=[{"secretKey": "t", "remoteRef": ref}]))
    env.wait_synced("via-approle", NS)
    env.wait_synced("via-k8s", NS)
    assert env.values("via-approle", NS) == env.values("via-k8s", NS) == {"t": CANARY.encode()}
    minted = env.emu.issued_tokens()
    assert minted, "no ServiceAccount token was minted for the kubernetes login"
    assert _logins(running) == 2  # one login per store
    _no_canary(running, env, role.secret_id, *minted)


def test_permission_denied_names_the_path_and_keeps_the_secret(
    running: OperatorProcess, env: ExternalEnv, openbao: Any
) -> None:
    kv = openbao.client().secrets.kv.v2
    kv.create_or_update_secret(openbao.path("allowed"), {"k": CANARY})
    kv.create_or_update_secret(openbao.path("forbidden"), {"k": "nope"})
    token = openbao.client().auth.token.create(
        policies=[
            openbao.write_policy(
                "one", f'path "secret/data/{openbao.path("allowed")}" {{ capabilities = ["read"] }}'
            )
        ],
        ttl="1h",
    )["auth"]["client_token"]
    env.emu.create(token_secret("narrow", NS, token))
    env.emu.create(
        vault_store("narrow", NS, openbao.addr, {"tokenSecretRef": {"name": "narrow", "key": "token"}})
    )
    env.emu.create(
        external_secret(
            "es",
            NS,
            "narrow",
            data=[{"secretKey": "k", "remoteRef": {"key": openbao.path("allowed"), "property": "k"}}],
        )
    )
    env.wait_synced("es", NS)
    env.emu.patch(
        API,
        "ExternalSecret",
        "es",
        {
            "spec": {
                "data": [{"secretKey": "k", "remoteRef": {"key": openbao.path("forbidden"), "property": "k"}}]
            }
        },
        NS,
    )
    cond = env.wait_reason("ExternalSecret", "es", NS, "ProviderAuthFailed")
    assert "permission denied" in cond["message"] and openbao.path("forbidden") in cond["message"]
    assert env.values("es", NS) == {"k": CANARY.encode()}  # untouched
    warnings = wait_for(lambda: [e for e in env.events("es", NS) if e["reason"] == "ProviderAuthFailed"])
    assert warnings[0]["type"] == "Warning"
    assert openbao.path("forbidden") in warnings[0]["message"]
    _no_canary(running, env, token)


@pytest.mark.parametrize("case", ["Retain", "Delete", "Merge", "Delete-one-of-two"])
def test_deletion_policies_when_the_remote_secret_is_gone(
    running: OperatorProcess, env: ExternalEnv, openbao: Any, case: str
) -> None:
    """Retain keeps the Secret and fails; Merge drops the gone source's keys; Delete deletes the
    Secret once every source is gone, and while one is left it drops the gone one's keys only."""
    policy = case.split("-")[0]
    kv = openbao.client().secrets.kv.v2
    kv.create_or_update_secret(openbao.path("gone"), {"k": "1"})
    kv.create_or_update_secret(openbao.path("stays"), {"s": "2"})
    _token_store(env, openbao)
    data = [{"secretKey": "k", "remoteRef": {"key": openbao.path("gone"), "property": "k"}}]
    if case in ("Merge", "Delete-one-of-two"):
        data.append({"secretKey": "s", "remoteRef": {"key": openbao.path("stays"), "property": "s"}})
    env.emu.create(
        external_secret(
            "es",
            NS,
            "vault",
            refreshInterval="1s",
            data=data,
            target={"name": "out", "deletionPolicy": policy},
        )
    )
    env.wait_synced("es", NS)
    openbao.client().secrets.kv.v2.delete_metadata_and_all_versions(openbao.path("gone"))
    if case == "Retain":
        cond = env.wait_reason("ExternalSecret", "es", NS, "SecretMissing")
        assert openbao.path("gone") in cond["message"]
        assert env.values("out", NS) == {"k": b"1"}
    elif case == "Delete":
        env.wait_reason("ExternalSecret", "es", NS, "SecretDeleted")
        wait_for(lambda: env.secret("out", NS) is None)
    else:
        wait_for(lambda: env.values("out", NS) == {"s": b"2"}, timeout=20, message="the gone keys dropped")

        def syncs() -> float:
            return metric_value(running, "secretsync_external_syncs_total", name="es")

        seen = syncs()
        wait_for(lambda: syncs() >= seen + 2, timeout=20, message="two more refreshes")
        assert env.values("out", NS) == {"s": b"2"}  # still there, with the source that is left
        assert env.wait_synced("es", NS)


def test_deletion_policy_delete_never_deletes_a_secret_it_does_not_control(
    running: OperatorProcess, env: ExternalEnv, openbao: Any
) -> None:
    """Every source gone, deletionPolicy Delete: a Secret of that name that is not this
    ExternalSecret's (nobody's, or another controller's) stays as it is."""
    _token_store(env, openbao)
    other_owner = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner", "namespace": NS}}
    owner = env.emu.create(other_owner)
    foreign = {
        "unowned": None,
        "controlled": {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "name": "owner",
            "uid": owner["metadata"]["uid"],
            "controller": True,
        },
    }
    for name, ref in foreign.items():
        meta: dict[str, Any] = {"name": name, "namespace": NS}
        if ref:
            meta["ownerReferences"] = [ref]
        env.emu.create({"apiVersion": "v1", "kind": "Secret", "metadata": meta, "stringData": {"keep": name}})
        env.emu.create(
            external_secret(
                name,
                NS,
                "vault",
                data=[
                    {"secretKey": "k", "remoteRef": {"key": openbao.path("never-written"), "property": "k"}}
                ],
                target={"name": name, "deletionPolicy": "Delete"},
            )
        )
    for name in foreign:
        cond = env.wait_reason("ExternalSecret", name, NS, "SecretDeleted")  # decided and reported
        assert "is not this ExternalSecret's" in cond["message"] and "left in place" in cond["message"], cond
        assert env.values(name, NS) == {"keep": name.encode()}


def test_creation_policies(running: OperatorProcess, env: ExternalEnv, openbao: Any) -> None:
    openbao.client().secrets.kv.v2.create_or_update_secret(openbao.path("cp"), {"k": "v"})
    _token_store(env, openbao)
    ref = [{"secretKey": "k", "remoteRef": {"key": openbao.path("cp"), "property": "k"}}]
    env.emu.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "existing", "namespace": NS},
            "stringData": {"keep": "me"},
        }
    )
    env.emu.create(
        external_secret(
            "orphan", NS, "vault", data=ref, target={"name": "orphan", "creationPolicy": "Orphan"}
        )
    )
    env.emu.create(
        external_secret(
            "merge", NS, "vault", data=ref, target={"name": "existing", "creationPolicy": "Merge"}
        )
    )
    env.emu.create(
        external_secret("none", NS, "vault", data=ref, target={"name": "nothing", "creationPolicy": "None"})
    )
    env.emu.create(external_secret("owner", NS, "vault", data=ref, target={"name": "existing"}))
    env.wait_synced("orphan", NS)
    assert not (env.secret("orphan", NS) or {})["metadata"].get("ownerReferences")
    env.wait_synced("merge", NS)
    assert env.values("existing", NS) == {"keep": b"me", "k": b"v"}
    env.wait_synced("none", NS)
    assert env.secret("nothing", NS) is None
    cond = env.wait_reason("ExternalSecret", "owner", NS, "SecretNotOwned")
    assert "creationPolicy Merge" in cond["message"]


def test_refresh_force_sync_and_drift_repair(
    running: OperatorProcess, env: ExternalEnv, openbao: Any
) -> None:
    kv = openbao.client().secrets.kv.v2
    kv.create_or_update_secret(openbao.path("r"), {"k": "one"})
    kv.create_or_update_secret(openbao.path("slow"), {"k": "a"})
    secret_id = _approle_store(env, openbao)  # a store that logs in (a token store never does)
    env.emu.create(
        external_secret(
            "fast",
            NS,
            "vault",
            refreshInterval="1s",
            data=[{"secretKey": "k", "remoteRef": {"key": openbao.path("r"), "property": "k"}}],
        )
    )
    env.emu.create(
        external_secret(
            "slow",
            NS,
            "vault",
            refreshInterval="1h",
            data=[{"secretKey": "k", "remoteRef": {"key": openbao.path("slow"), "property": "k"}}],
        )
    )
    env.wait_synced("fast", NS)
    env.wait_synced("slow", NS)
    kv.create_or_update_secret(openbao.path("r"), {"k": "two"})
    kv.create_or_update_secret(openbao.path("slow"), {"k": "b"})
    wait_for(
        lambda: env.values("fast", NS) == {"k": b"two"}, timeout=20, message="refresh after a Vault change"
    )

    def fast_syncs() -> float:
        return metric_value(running, "secretsync_external_syncs_total", name="fast")

    seen = fast_syncs()
    wait_for(lambda: fast_syncs() >= seen + 2, timeout=20, message="two more refreshes of the 1s object")
    assert env.values("slow", NS) == {"k": b"a"}  # its 1h refresh is not due
    env.emu.patch(
        API, "ExternalSecret", "slow", {"metadata": {"annotations": {"force-sync": str(time.time())}}}, NS
    )
    wait_for(lambda: env.values("slow", NS) == {"k": b"b"}, timeout=10, message="force-sync by annotation")
    env.emu.patch("v1", "Secret", "slow", {"data": {"k": base64.b64encode(b"tampered").decode()}}, NS)
    wait_for(lambda: env.values("slow", NS) == {"k": b"b"}, timeout=10, message="edit repaired")
    env.emu.delete("v1", "Secret", "slow", NS)
    wait_for(lambda: env.values("slow", NS) == {"k": b"b"}, timeout=10, message="delete repaired")
    # One login for the store, however many reads: the store's check, two first syncs, the 1s
    # refreshes, a forced sync and two repairs all share it.
    reads = metric_value(running, "secretsync_provider_calls_total", provider="vault", result="ok")
    assert reads >= 8
    assert _logins(running) == 1
    _no_canary(running, env, secret_id)


def test_label_taken_off_is_put_back_and_an_unlabelled_secret_is_labelled_without_a_fetch(
    env: ExternalEnv, operator_factory: Any
) -> None:
    """The operator watches only Secrets with its label. Taken off by hand, the Secret leaves the
    watch (DELETED, by the selector): the ExternalSecret syncs and puts it back. A Secret written
    by a version without the label is labelled at start, with one update and no provider read
    (its refresh is not due); Merge targets too."""
    produced = "secretsync.io/managed-secret"
    fake = {"fake": {"data": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]}}
    env.emu.create({"apiVersion": API, "kind": "SecretStore", "metadata": {"name": "fake", "namespace": NS},
                    "spec": {"provider": fake}})  # fmt: skip
    env.emu.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "shared", "namespace": NS},
                    "data": {"base": base64.b64encode(b"0").decode()}})  # fmt: skip
    env.emu.create(external_secret("owned", NS, "fake", data=[{"secretKey": "a", "remoteRef": {"key": "a"}}]))
    env.emu.create(
        external_secret(
            "merging",
            NS,
            "fake",
            target={"name": "shared", "creationPolicy": "Merge"},
            data=[{"secretKey": "b", "remoteRef": {"key": "b"}}],
        )
    )
    proc: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    proc.wait_ready()
    env.wait_synced("owned", NS)
    env.wait_synced("merging", NS)

    def labelled(name: str) -> bool:
        return ((env.secret(name, NS) or {})["metadata"].get("labels") or {}).get(produced) == "true"

    assert labelled("owned") and labelled("shared")
    env.emu.patch("v1", "Secret", "owned", {"metadata": {"labels": {produced: None}}}, NS)
    wait_for(lambda: labelled("owned"), timeout=10, message="the label put back")
    env.emu.delete("v1", "Secret", "owned", NS)  # still watched: re-created at once
    wait_for(lambda: env.values("owned", NS) == {"a": b"1"}, timeout=30, message="re-created")
    calls = "secretsync_provider_calls_total"
    assert metric_value(proc, calls, provider="fake", operation="get") > 0
    proc.stop()

    def refresh_time(name: str) -> str:
        return str((env.get("ExternalSecret", name, NS) or {})["status"]["refreshTime"])

    refreshed = {name: refresh_time(name) for name in ("owned", "merging")}
    for name in ("owned", "shared"):  # as an older version left them
        env.emu.patch("v1", "Secret", name, {"metadata": {"labels": {produced: None}}}, NS)
    again: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    again.wait_ready()
    wait_for(lambda: labelled("owned") and labelled("shared"), timeout=10, message="labelled at start")
    assert env.values("shared", NS) == {"base": b"0", "b": b"2"}
    assert {name: refresh_time(name) for name in refreshed} == refreshed
    reads = [metric_value(again, calls, provider="fake", operation=op) for op in ("get", "get_map", "find")]
    assert reads == [0, 0, 0]  # no value read again (the store's own check does run)
    env.emu.delete("v1", "Secret", "owned", NS)
    wait_for(lambda: env.values("owned", NS) == {"a": b"1"}, timeout=30, message="re-created")


def test_vault_outage_keeps_the_secret_and_recovers(
    env: ExternalEnv, openbao_isolated: Any, operator_factory: Any
) -> None:
    bao = openbao_isolated
    bao.add_seed_hook(lambda s: s.client().secrets.kv.v2.create_or_update_secret("outage", {"k": CANARY}))
    bao.client().secrets.kv.v2.create_or_update_secret("outage", {"k": CANARY})
    proc: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    proc.wait_ready()
    _token_store(env, bao)
    env.emu.create(
        external_secret(
            "es",
            NS,
            "vault",
            refreshInterval="1s",
            data=[{"secretKey": "k", "remoteRef": {"key": "outage", "property": "k"}}],
        )
    )
    env.wait_synced("es", NS)
    bao.stop()
    cond = env.wait_reason("ExternalSecret", "es", NS, "ProviderUnavailable", timeout=20)
    assert bao.addr.removeprefix("http://") in cond["message"]
    assert env.values("es", NS) == {"k": CANARY.encode()}
    bao.start()
    env.wait_synced("es", NS, timeout=30)
    _no_canary(proc, env)


def test_store_not_ready_then_ready(running: OperatorProcess, env: ExternalEnv, openbao: Any) -> None:
    openbao.client().secrets.kv.v2.create_or_update_secret(openbao.path("w"), {"k": "v"})
    env.emu.create(
        vault_store("later", NS, openbao.addr, {"tokenSecretRef": {"name": "missing-token", "key": "token"}})
    )
    env.emu.create(
        external_secret(
            "waits",
            NS,
            "later",
            data=[{"secretKey": "k", "remoteRef": {"key": openbao.path("w"), "property": "k"}}],
        )
    )
    cond = env.wait_reason("SecretStore", "later", NS, "ProviderAuthFailed")
    assert "missing-token" in cond["message"]
    env.wait_reason("ExternalSecret", "waits", NS, "StoreNotReady")
    env.emu.create(token_secret("missing-token", NS, openbao.root_token))
    # Touch the store so it is validated again at once (its retry backoff would get there too).
    env.emu.patch(API, "SecretStore", "later", {"metadata": {"annotations": {"touch": "1"}}}, NS)
    env.wait_synced("waits", NS, timeout=40)


def test_namespace_rules(running: OperatorProcess, env: ExternalEnv, openbao: Any) -> None:
    openbao.client().secrets.kv.v2.create_or_update_secret(openbao.path("n"), {"k": "v"})
    for ns in ("team-a", "team-b", "ops"):
        env.emu.ensure_namespace(ns)
    env.emu.create(token_secret("vault-token", "ops", openbao.root_token))
    # A namespaced store may not point its credentials at another namespace.
    env.emu.create(
        vault_store(
            "sneaky",
            "team-a",
            openbao.addr,
            {"tokenSecretRef": {"name": "vault-token", "key": "token", "namespace": "ops"}},
        )
    )
    cond = env.wait_reason("SecretStore", "sneaky", "team-a", "InvalidProviderConfig")
    assert "namespace" in cond["message"]
    # A ClusterSecretStore may, and its conditions restrict who uses it.
    store = vault_store(
        "shared",
        None,
        openbao.addr,
        {"tokenSecretRef": {"name": "vault-token", "key": "token", "namespace": "ops"}},
    )
    store["spec"]["conditions"] = [{"namespaces": ["team-a"]}]
    env.emu.create(store)
    env.wait_reason("ClusterSecretStore", "shared", None, "Valid")
    ref = {"name": "shared", "kind": "ClusterSecretStore"}
    data = [{"secretKey": "k", "remoteRef": {"key": openbao.path("n"), "property": "k"}}]
    env.emu.create(external_secret("ok", "team-a", "shared", secretStoreRef=ref, data=data))
    env.emu.create(external_secret("denied", "team-b", "shared", secretStoreRef=ref, data=data))
    env.wait_synced("ok", "team-a")
    cond = env.wait_reason("ExternalSecret", "denied", "team-b", "StoreNotAllowed")
    assert "team-b" in cond["message"]


def test_invalid_spec_is_reported_with_the_field_path(
    running: OperatorProcess, env: ExternalEnv, openbao: Any
) -> None:
    _token_store(env, openbao)
    # Valid for the CRD (an API server would refuse refreshInterval "soon" itself; the emulator now
    # does too), refused by the operator: the regexp does not compile.
    env.emu.create(external_secret("bad", NS, "vault", dataFrom=[{"find": {"name": {"regexp": "("}}}]))
    cond = env.wait_reason("ExternalSecret", "bad", NS, "InvalidSpec")
    assert "spec.dataFrom[0].find.name.regexp" in cond["message"]


def test_restart_does_not_refetch_fresh_objects(
    env: ExternalEnv, openbao: Any, operator_factory: Any
) -> None:
    kv = openbao.client().secrets.kv.v2
    for i in range(5):
        kv.create_or_update_secret(openbao.path(f"s{i}"), {"k": str(i)})
    _token_store(env, openbao)
    first: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    first.wait_ready()
    for i in range(5):
        env.emu.create(
            external_secret(
                f"e{i}",
                NS,
                "vault",
                data=[{"secretKey": "k", "remoteRef": {"key": openbao.path(f"s{i}"), "property": "k"}}],
            )
        )
    for i in range(5):
        env.wait_synced(f"e{i}", NS)
    first.stop()
    # While it is down, a target Secret edited by hand: the one object the restart fetches again.
    env.emu.patch("v1", "Secret", "e1", {"data": {"k": base64.b64encode(b"edited").decode()}}, NS)
    served_before = len(env.emu.requests())
    second: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    second.wait_ready()

    def looked_at(i: int) -> bool:  # the restarted operator has seen e{i} and found it synced
        return metric_value(second, "secretsync_ready", kind="ExternalSecret", name=f"e{i}") == 1

    wait_for(lambda: all(looked_at(i) for i in range(5)), timeout=30, message="each object looked at")
    wait_for(lambda: env.values("e1", NS) == {"k": b"1"}, timeout=10, message="the edited Secret healed")
    assert metric_value(second, "secretsync_provider_calls_total", operation="get") == 1  # e1's
    # The targets were checked on one list of the produced Secrets (secretsync.prefetch), not read
    # one by one; only the edited one may have been.
    one_by_one = {
        path
        for method, path, _ in env.emu.requests()[served_before:]
        if method == "GET" and path.startswith(f"/api/v1/namespaces/{NS}/secrets/e")
    }
    assert one_by_one <= {f"/api/v1/namespaces/{NS}/secrets/e1"}, one_by_one
    # ...but a Secret deleted while it was down is restored at start.
    env.emu.delete("v1", "Secret", "e0", NS)
    wait_for(lambda: env.values("e0", NS) == {"k": b"0"}, timeout=10)
