"""Compatibility mode: ESO's and Bitnami's own objects, untouched, reconciled by secretsync.

The other tools' CRDs come from their pinned releases (tests/support/upstream.py), so the API
emulator stores what those CRDs make of a manifest (server-side defaults included). Statuses are
then read by Argo CD's own built-in health checks for those kinds, run in Lua 5.1.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import pytest

from tests.support import upstream
from tests.support.argo_health import health
from tests.support.external_env import ExternalEnv, metric_value, token_secret
from tests.support.kube_emulator import wait_for
from tests.support.operator_proc import OperatorProcess
from tests.support.sealed_env import (
    BITNAMI_KEY_LABEL,
    OPERATOR_NS,
    decoded,
    key_secret,
    seal,
    secret,
    vector_key,
)

NS = "legacy"
ESO_API = "external-secrets.io/v1"
BITNAMI_API = "bitnami.com/v1alpha1"
CANARY = "canary-compat-Zt81"


@pytest.fixture
def env(kube_emulator: Any) -> ExternalEnv:
    for crd in [*upstream.eso_crds(), upstream.bitnami_crd()]:
        kube_emulator.apply_crd(crd)
    for ns in (OPERATOR_NS, NS):
        kube_emulator.ensure_namespace(ns)
    return ExternalEnv(kube_emulator)


def _operator(operator_factory: Any, *flags: str) -> OperatorProcess:
    proc: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0", *flags])
    proc.wait_ready()
    return proc


def _get(env: ExternalEnv, api: str, kind: str, name: str, namespace: str | None = NS) -> dict[str, Any]:
    obj = env.emu.get(api, kind, name, namespace)
    assert obj is not None
    return dict(obj)


def _condition(obj: dict[str, Any], type_: str) -> dict[str, Any] | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_:
            return dict(cond)
    return None


def _stays(check: Any, seconds: float = 2.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert check()
        time.sleep(0.1)


def _eso_store(openbao: Any) -> dict[str, Any]:
    # ESO's docs/snippets/vault-token-store.yaml, pointed at the test's OpenBao.
    return {
        "apiVersion": ESO_API,
        "kind": "SecretStore",
        "metadata": {"name": "vault-backend", "namespace": NS},
        "spec": {
            "provider": {
                "vault": {
                    "server": openbao.addr,
                    "path": "secret",
                    "version": "v2",
                    "auth": {"tokenSecretRef": {"name": "vault-token", "key": "token"}},
                }
            }
        },
    }


def _eso_external_secret(openbao: Any, name: str, key: str) -> dict[str, Any]:
    # ESO's docs/snippets/basic-external-secret.yaml, as written (with a reachable remote key).
    return {
        "apiVersion": ESO_API,
        "kind": "ExternalSecret",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": {"name": "vault-backend", "kind": "SecretStore"},
            "target": {"name": f"{name}-secret", "creationPolicy": "Owner"},
            "data": [{"secretKey": "password", "remoteRef": {"key": key, "property": "password"}}],
            "dataFrom": [{"extract": {"key": key}}],
        },
    }


def test_eso_objects_sync_untouched_and_read_healthy_in_argo_cd(
    env: ExternalEnv, openbao: Any, operator_factory: Any
) -> None:
    openbao.client().secrets.kv.v2.create_or_update_secret(
        openbao.path("app"), {"password": CANARY, "user": "u"}
    )
    env.emu.create(token_secret("vault-token", NS, openbao.root_token))
    env.emu.create(_eso_store(openbao))
    env.emu.create(_eso_external_secret(openbao, "app", openbao.path("app")))
    env.emu.create(_eso_external_secret(openbao, "broken", openbao.path("missing")))

    plain = _operator(operator_factory)  # without the flag, ESO's objects are not ours to touch
    _stays(
        lambda: (
            "status" not in _get(env, ESO_API, "ExternalSecret", "app") and not env.secret("app-secret", NS)
        )
    )
    plain.stop()

    proc = _operator(operator_factory, "--eso-compat")
    assert wait_for(lambda: env.secret("app-secret", NS) is not None, timeout=20)
    assert env.values("app-secret", NS) == {"password": CANARY.encode(), "user": b"u"}
    es = _get(env, ESO_API, "ExternalSecret", "app")
    secret = env.secret("app-secret", NS)
    assert secret is not None
    (owner,) = secret["metadata"]["ownerReferences"]
    assert (owner["apiVersion"], owner["kind"], owner["uid"]) == (
        ESO_API,
        "ExternalSecret",
        es["metadata"]["uid"],
    )
    cond = _condition(es, "Ready")
    assert cond is not None and (cond["status"], cond["reason"]) == ("True", "SecretSynced")
    assert es["status"]["binding"] == {"name": "app-secret"} and es["status"]["refreshTime"]
    script = upstream.argocd_health("external-secrets.io", "ExternalSecret")
    assert health(script, es)["status"] == "Healthy"

    store = _get(env, ESO_API, "SecretStore", "vault-backend")
    assert (_condition(store, "Ready") or {}).get("reason") == "Valid"
    assert store["status"]["capabilities"] == "ReadOnly"
    assert health(upstream.argocd_health("external-secrets.io", "SecretStore"), store)["status"] == "Healthy"

    # (a first "store not validated yet" may come before: the store and this object start together)
    broken = wait_for(
        lambda: (
            (c := _condition(_get(env, ESO_API, "ExternalSecret", "broken"), "Ready"))
            and "not found" in str(c.get("message"))
            and c
        ),
        timeout=20,
    )
    assert (broken["status"], broken["reason"]) == ("False", "SecretSyncedError")
    assert "not found" in broken["message"]  # our cause, not ESO's generic text
    argo = health(script, _get(env, ESO_API, "ExternalSecret", "broken"))
    assert argo == {"status": "Degraded", "message": broken["message"]}
    for text in (
        proc.logs(),
        json.dumps(env.emu.list(ESO_API, "ExternalSecret")),
        json.dumps(env.emu.list("v1", "Event")),
    ):
        assert CANARY not in text


def test_eso_stores_of_another_controller_class_stay_untouched(
    env: ExternalEnv, openbao: Any, operator_factory: Any
) -> None:
    env.emu.create(token_secret("vault-token", NS, openbao.root_token))
    store = _eso_store(openbao)
    store["spec"]["controller"] = "eso-legacy"
    env.emu.create(store)
    env.emu.create(_eso_external_secret(openbao, "app", openbao.path("app")))
    mine = _eso_store(openbao)
    mine["metadata"]["name"] = "mine"  # no class: every operator's
    env.emu.create(mine)
    _operator(operator_factory, "--eso-compat")
    assert wait_for(lambda: _condition(_get(env, ESO_API, "SecretStore", "mine"), "Ready"))  # it is working
    _stays(lambda: "status" not in _get(env, ESO_API, "SecretStore", "vault-backend"))
    assert "status" not in _get(env, ESO_API, "ExternalSecret", "app")


def _fake_eso_objects(env: ExternalEnv) -> list[str]:
    """An ESO SecretStore with ESO's fake provider and ExternalSecrets using it; their names."""
    env.emu.create(
        {
            "apiVersion": ESO_API,
            "kind": "SecretStore",
            "metadata": {"name": "fake", "namespace": NS},
            "spec": {"provider": {"fake": {"data": [{"key": "k", "value": "v"}]}}},
        }
    )
    names = ["e0", "e1", "e2", "once"]
    for name in names:
        spec: dict[str, Any] = {
            "refreshInterval": "1h",
            "secretStoreRef": {"name": "fake", "kind": "SecretStore"},
            "target": {"name": f"{name}-secret"},
            "data": [{"secretKey": "k", "remoteRef": {"key": "k"}}],
        }
        if name == "once":
            spec["refreshPolicy"] = "CreatedOnce"
        env.emu.create(
            {
                "apiVersion": ESO_API,
                "kind": "ExternalSecret",
                "metadata": {"name": name, "namespace": NS},
                "spec": spec,
            }
        )
    return names


def test_eso_restart_with_everything_synced_writes_no_status(env: ExternalEnv, operator_factory: Any) -> None:
    """ESO's CRDs have no observedGeneration (the API server prunes it): a restart must not take
    every ExternalSecret and store for unacknowledged and write its status again."""
    names = _fake_eso_objects(env)
    first = _operator(operator_factory, "--eso-compat")
    for name in names:
        assert wait_for(
            lambda n=name: (
                (_condition(_get(env, ESO_API, "ExternalSecret", n), "Ready") or {}).get("reason")
                == "SecretSynced"
            ),
            timeout=20,
        )
    assert (_condition(_get(env, ESO_API, "SecretStore", "fake"), "Ready") or {}).get("reason") == "Valid"
    first.stop()
    # While it was down: a spec change that CreatedOnce does not read for (and ESO writes nothing for).
    once = _get(env, ESO_API, "ExternalSecret", "once")
    env.emu.patch(ESO_API, "ExternalSecret", "once", {"spec": {"refreshInterval": "2h"}}, NS)
    assert _get(env, ESO_API, "ExternalSecret", "once")["metadata"]["generation"] == 2
    before = len(env.emu.requests())

    second = _operator(operator_factory, "--eso-compat")

    def looked_at() -> bool:  # every object seen by the restarted operator and found synced
        return metric_value(second, "secretsync_ready", kind="SecretStore", name="fake") == 1 and all(
            metric_value(second, "secretsync_ready", kind="ExternalSecret", name=n) == 1 for n in names
        )

    assert wait_for(looked_at, timeout=30, message="each object looked at")
    time.sleep(1.0)  # anything that would still come
    writes = [
        (method, path)
        for method, path, _ in env.emu.requests()[before:]
        if method in ("PATCH", "PUT", "POST") and ("external-secrets.io" in path or path.endswith("/events"))
    ]
    assert writes == []
    assert _get(env, ESO_API, "ExternalSecret", "once")["status"] == once["status"]
    assert metric_value(second, "secretsync_provider_calls_total", operation="get") == 0


def test_bitnami_sealed_secrets_unseal_untouched_with_bitnamis_status(
    env: ExternalEnv, operator_factory: Any
) -> None:
    key_pem, cert_pem = vector_key(4096)
    bitnami_key = key_secret("sealed-secrets-keyabc12", key_pem, cert_pem, label=BITNAMI_KEY_LABEL)
    env.emu.create(bitnami_key)  # copied from kube-system, as docs/migration.md says
    good = seal(cert_pem, secret("db", NS, {"password": CANARY}))
    good["apiVersion"] = BITNAMI_API
    wrong = copy.deepcopy(good)
    wrong["metadata"]["name"] = "renamed"  # sealed for "db": Bitnami refuses it too
    env.emu.create(good)
    env.emu.create(wrong)
    _operator(operator_factory, "--bitnami-compat", "--bitnami-keys")
    assert wait_for(lambda: env.secret("db", NS) is not None, timeout=20)
    assert decoded(env.secret("db", NS) or {}) == {"password": CANARY.encode()}
    obj = _get(env, BITNAMI_API, "SealedSecret", "db")
    cond = wait_for(lambda: _condition(_get(env, BITNAMI_API, "SealedSecret", "db"), "Synced"))
    assert cond["status"] == "True" and cond["lastUpdateTime"] and cond["lastTransitionTime"]
    obj = _get(env, BITNAMI_API, "SealedSecret", "db")
    assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"]
    script = upstream.argocd_health("bitnami.com", "SealedSecret")
    assert health(script, obj)["status"] == "Healthy"
    bad = wait_for(lambda: _condition(_get(env, BITNAMI_API, "SealedSecret", "renamed"), "Synced"))
    assert bad["status"] == "False"
    assert health(script, _get(env, BITNAMI_API, "SealedSecret", "renamed"))["status"] == "Degraded"
    assert env.secret("renamed", NS) is None
