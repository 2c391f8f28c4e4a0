"""Attacks 5 and 11: losing a good Secret, and two writers fighting over one (docs/security.md 12-14)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support.external_env import (
    API,
    ExternalEnv,
    external_secret,
    root_token_store,
)
from tests.support.operator_proc import OperatorProcess
from tests.support.sealed_env import seal, secret

NS = "tenant-a"
CANARY = "canary-writers-Kd3q"


@pytest.fixture
def env(kube_emulator: Any) -> ExternalEnv:
    for ns in ("secretsync-system", NS):
        kube_emulator.ensure_namespace(ns)
    return ExternalEnv(kube_emulator)


def _vault(env: ExternalEnv, openbao: Any) -> None:
    root_token_store(env.emu, openbao, NS)


def _rv(env: ExternalEnv, name: str) -> int:
    return int((env.secret(name, NS) or {})["metadata"]["resourceVersion"])


# ---------------------------------------------------------------------------- attack 5


def test_a_property_that_stops_matching_never_deletes_the_secret(
    env: ExternalEnv, openbao: Any, running: OperatorProcess
) -> None:
    kv = openbao.client().secrets.kv.v2
    kv.create_or_update_secret(openbao.path("db"), {"password": CANARY, "nested": {"user": "app"}})
    _vault(env, openbao)
    target = {"name": "db", "deletionPolicy": "Delete"}
    env.emu.create(
        external_secret(
            "db",
            NS,
            "vault",
            refreshInterval="1s",
            target=target,
            data=[
                {"secretKey": "password", "remoteRef": {"key": openbao.path("db"), "property": "password"}}
            ],
            dataFrom=[{"extract": {"key": openbao.path("db"), "property": "nested"}}],
        )
    )
    env.wait_synced("db", NS)
    good = env.values("db", NS)
    assert good == {"password": CANARY.encode(), "user": b"app"}
    # The remote secret still exists, but the property is gone (renamed upstream, or a typo).
    kv.create_or_update_secret(openbao.path("db"), {"passwd": CANARY, "nested": {"user": "app"}})
    cond = env.wait_reason("ExternalSecret", "db", NS, "PropertyNotFound")
    assert "has no property 'password'" in cond["message"]
    time.sleep(1.5)  # more refresh cycles: still nothing deleted
    assert env.values("db", NS) == good
    # A typo in the extract property, on the spec itself, does not delete it either.
    es = env.get("ExternalSecret", "db", NS)
    assert es is not None
    env.emu.patch(
        API,
        "ExternalSecret",
        "db",
        {"spec": {"data": [], "dataFrom": [{"extract": {"key": openbao.path("db"), "property": "nestd"}}]}},
        NS,
    )
    env.wait_reason("ExternalSecret", "db", NS, "PropertyNotFound")
    assert env.values("db", NS) == good
    # ... while the remote secret itself really going away still deletes it, as asked.
    kv.delete_metadata_and_all_versions(openbao.path("db"))
    env.wait_reason("ExternalSecret", "db", NS, "SecretDeleted")
    assert env.secret("db", NS) is None


# ---------------------------------------------------------------------------- attack 11


def test_a_sealed_secret_and_a_merge_external_secret_do_not_fight(
    env: ExternalEnv, openbao: Any, cert: bytes, running: OperatorProcess
) -> None:
    openbao.client().secrets.kv.v2.create_or_update_secret(openbao.path("x"), {"k": "from-vault"})
    _vault(env, openbao)
    env.emu.create(seal(cert, secret("shared", NS, {"k": CANARY})))
    env.emu.create(
        external_secret(
            "merger",
            NS,
            "vault",
            refreshInterval="1s",
            target={"name": "shared", "creationPolicy": "Merge", "immutable": True},
            data=[{"secretKey": "k", "remoteRef": {"key": openbao.path("x"), "property": "k"}}],
        )
    )
    cond = env.wait_reason("ExternalSecret", "merger", NS, "SecretNotOwned")
    assert "controlled by SealedSecret shared" in cond["message"]
    start = _rv(env, "shared")
    rsa_before = _metric(running, "secretsync_rsa_decrypt_attempts_total")
    time.sleep(3)  # three refresh cycles of the merger
    assert _rv(env, "shared") == start, "the Secret was written again: a write loop"
    assert _metric(running, "secretsync_rsa_decrypt_attempts_total") == rsa_before
    shared = env.secret("shared", NS) or {}
    assert env.values("shared", NS) == {"k": CANARY.encode()}
    assert not shared.get("immutable")


def test_merge_never_freezes_or_retypes_a_secret_it_does_not_control(
    env: ExternalEnv, openbao: Any, running: OperatorProcess
) -> None:
    openbao.client().secrets.kv.v2.create_or_update_secret(openbao.path("x"), {"k": "v"})
    _vault(env, openbao)
    # A basic-auth Secret needs a username or a password: the API server refuses one without both.
    env.emu.create(
        secret("helm-made", NS, {"keep": "me", "username": "admin"}, type="kubernetes.io/basic-auth")
    )
    env.emu.create(
        external_secret(
            "merger",
            NS,
            "vault",
            target={
                "name": "helm-made",
                "creationPolicy": "Merge",
                "immutable": True,
                "template": {"type": "Opaque"},
            },
            data=[{"secretKey": "password", "remoteRef": {"key": openbao.path("x"), "property": "k"}}],
        )
    )
    env.wait_synced("merger", NS)
    made = env.secret("helm-made", NS) or {}
    assert env.values("helm-made", NS) == {"keep": b"me", "username": b"admin", "password": b"v"}
    assert not made.get("immutable") and made.get("type") == "kubernetes.io/basic-auth"


def test_two_merge_writers_share_a_secret_but_not_a_key(
    env: ExternalEnv, openbao: Any, running: OperatorProcess
) -> None:
    kv = openbao.client().secrets.kv.v2
    kv.create_or_update_secret(openbao.path("a"), {"k": "from-a"})
    kv.create_or_update_secret(openbao.path("b"), {"k": "from-b"})
    _vault(env, openbao)
    env.emu.create(secret("config", NS, {"base": "1"}))

    def merger(name: str, key: str, path: str) -> dict[str, Any]:
        ref = {"key": openbao.path(path), "property": "k"}
        target = {"name": "config", "creationPolicy": "Merge"}
        return external_secret(
            name,
            NS,
            "vault",
            refreshInterval="1s",
            target=target,
            data=[{"secretKey": key, "remoteRef": ref}],
        )

    env.emu.create(merger("one", "a", "a"))
    env.emu.create(merger("two", "b", "b"))
    env.wait_synced("one", NS)
    env.wait_synced("two", NS)
    assert env.values("config", NS) == {"base": b"1", "a": b"from-a", "b": b"from-b"}
    env.emu.create(merger("three", "a", "b"))  # the same key as "one"
    cond = env.wait_reason("ExternalSecret", "three", NS, "SecretNotOwned")
    assert "already merged by ExternalSecret one" in cond["message"]
    start = _rv(env, "config")
    time.sleep(3)
    assert _rv(env, "config") == start, "the writers fought"
    assert env.values("config", NS)["a"] == b"from-a"
    # When "one" goes away, its key is free for "three".
    env.emu.delete(API, "ExternalSecret", "one", NS)
    env.wait_synced("three", NS, timeout=30)
    assert env.values("config", NS)["a"] == b"from-b"


def test_managed_never_takes_a_secret_from_a_live_controller(
    env: ExternalEnv, openbao: Any, cert: bytes, running: OperatorProcess
) -> None:
    openbao.client().secrets.kv.v2.create_or_update_secret(openbao.path("x"), {"k": "from-vault"})
    _vault(env, openbao)
    env.emu.create(seal(cert, secret("owned", NS, {"k": CANARY})))
    for _ in range(50):
        if env.secret("owned", NS):
            break
        time.sleep(0.1)
    env.emu.patch(
        "v1", "Secret", "owned", {"metadata": {"annotations": {"secretsync.io/managed": "true"}}}, NS
    )
    env.emu.create(
        external_secret(
            "taker",
            NS,
            "vault",
            refreshInterval="1s",
            target={"name": "owned"},
            data=[{"secretKey": "k", "remoteRef": {"key": openbao.path("x"), "property": "k"}}],
        )
    )
    cond = env.wait_reason("ExternalSecret", "taker", NS, "SecretNotOwned")
    assert "controlled by SealedSecret owned" in cond["message"]
    start = _rv(env, "owned")
    time.sleep(2.5)
    assert _rv(env, "owned") == start
    assert env.values("owned", NS) == {"k": CANARY.encode()}


def _metric(proc: OperatorProcess, name: str) -> float:
    for line in proc.metrics().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
