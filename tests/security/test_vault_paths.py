"""Attack 3: keys and find paths that leave the store's mount (docs/security.md rule 8).

Through a shared ClusterSecretStore, a tenant asked for ``../auth/token/lookup-self`` with
property ``id`` and got the store's own Vault token written into its Secret.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from secretsync.errors import NotPermitted
from secretsync.providers.base import FindSpec, RemoteRef, StoreContext
from secretsync.providers.vault import KVLayout, VaultProvider
from tests.support.external_env import API, ExternalEnv, external_secret, token_secret, vault_store
from tests.support.operator_proc import OperatorProcess
from tests.support.rogue import RogueServer

TENANT = "tenant-a"
ESCAPES = [
    "../auth/token/lookup-self",
    "app/../../auth/token/lookup-self",
    "./app/db",
    "app//db",
    "app/%2e%2e/%2e%2e/auth/token/lookup-self",
    "app\\..\\..\\auth",
    "app/db?list=true",
    "app/db#x",
    "app/\x00db",
]


@pytest.fixture
def env(kube_emulator: Any) -> ExternalEnv:
    for ns in ("secretsync-system", TENANT):
        kube_emulator.ensure_namespace(ns)
    return ExternalEnv(kube_emulator)


def _shared_store(
    env: ExternalEnv, openbao: Any, *, path: str | None = "secret", version: str = "v2"
) -> None:
    """An admin's ClusterSecretStore with the root token: exactly what a tenant must not reach."""
    env.emu.create(token_secret("root-token", "secretsync-system", openbao.root_token))
    auth = {"tokenSecretRef": {"name": "root-token", "key": "token", "namespace": "secretsync-system"}}
    store = vault_store("shared", None, openbao.addr, auth, path=path or "", version=version)
    if path is None:
        del store["spec"]["provider"]["vault"]["path"]
    env.emu.create(store)
    env.wait_reason("ClusterSecretStore", "shared", None, "Valid")


def _assert_token_nowhere(proc: OperatorProcess, env: ExternalEnv, token: str) -> None:
    for text in (
        proc.logs(),
        json.dumps(env.emu.list("v1", "Secret", TENANT)),
        json.dumps(env.emu.list(API, "ExternalSecret")),
        json.dumps(env.emu.list("v1", "Event")),
    ):
        assert token not in text


def test_dotdot_keys_and_find_paths_never_leave_the_mount(
    env: ExternalEnv, openbao: Any, operator_factory: Any
) -> None:
    proc: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    proc.wait_ready()
    _shared_store(env, openbao)
    cluster_ref = {"name": "shared", "kind": "ClusterSecretStore"}
    for index, key in enumerate(ESCAPES):
        ref = {"key": key, "property": "id"}
        env.emu.create(
            external_secret(
                f"data-{index}",
                TENANT,
                "shared",
                secretStoreRef=cluster_ref,
                data=[{"secretKey": "t", "remoteRef": ref}],
            )
        )
    env.emu.create(
        external_secret(
            "extract",
            TENANT,
            "shared",
            secretStoreRef=cluster_ref,
            dataFrom=[{"extract": {"key": ESCAPES[0]}}],
        )
    )
    env.emu.create(
        external_secret(
            "find",
            TENANT,
            "shared",
            secretStoreRef=cluster_ref,
            dataFrom=[{"find": {"path": "../../auth/token"}}],
        )
    )
    for name in [f"data-{i}" for i in range(len(ESCAPES))] + ["extract", "find"]:
        cond = env.wait_reason("ExternalSecret", name, TENANT, "NotPermitted")
        assert "store's path" in cond["message"] or "control characters" in cond["message"]
        assert env.secret(name, TENANT) is None
    _assert_token_nowhere(proc, env, openbao.root_token)


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_without_a_mount_vaults_own_api_is_not_a_mount(
    env: ExternalEnv, openbao: Any, operator_factory: Any, version: str
) -> None:
    """A store without ``path``: the key's first segment is the mount, but never sys/ or auth/."""
    proc: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    proc.wait_ready()
    _shared_store(env, openbao, path=None, version=version)
    cluster_ref = {"name": "shared", "kind": "ClusterSecretStore"}
    for index, key in enumerate(
        ["auth/token/lookup-self", "sys/mounts", "identity/entity/id", "cubbyhole/x"]
    ):
        env.emu.create(
            external_secret(
                f"api-{index}",
                TENANT,
                "shared",
                secretStoreRef=cluster_ref,
                data=[{"secretKey": "t", "remoteRef": {"key": key, "property": "id"}}],
            )
        )
        cond = env.wait_reason("ExternalSecret", f"api-{index}", TENANT, "NotPermitted")
        assert "Vault's own API" in cond["message"]
    _assert_token_nowhere(proc, env, openbao.root_token)


def _vault(server: str, mount: str | None = "secret") -> VaultProvider:
    spec: dict[str, Any] = {"server": server, "auth": {"tokenSecretRef": {"name": "t", "key": "t"}}}
    if mount:
        spec["path"] = mount
    return VaultProvider(
        StoreContext("ClusterSecretStore", "shared", None, spec, read_credential=lambda ref: b"s.tok")
    )


@pytest.mark.parametrize("key", ESCAPES)
def test_the_provider_refuses_escapes_itself(key: str) -> None:
    """Defense in depth: even a key that skipped the model never becomes a request path."""
    layout = KVLayout("secret", 2)
    with pytest.raises(NotPermitted):
        layout.split(key)
    vault = _vault("http://127.0.0.1:9")
    with pytest.raises(NotPermitted):
        vault.get(RemoteRef(key))


def test_listed_names_that_would_escape_are_not_followed() -> None:
    """A hostile server answers LIST with ``../`` entries; they are skipped, never requested."""
    rogue = RogueServer()
    try:

        def answer(handler: Any) -> None:
            if handler.command == "GET" and handler.path.startswith("/v1/auth/token/lookup-self"):
                rogue.json(200, {"data": {"ttl": 0}})(handler)
            elif handler.command == "LIST":
                rogue.json(200, {"data": {"keys": ["../../auth/token/", "..", "a/b", "ok"]}})(handler)
            else:
                rogue.json(200, {"data": {"data": {"k": "v"}}})(handler)

        rogue.answer = answer
        found = _vault(rogue.url).find(FindSpec(path="app"))
        assert found == {"app/ok": b'{"k":"v"}'}
        paths = [seen.path for seen in rogue.seen]
        assert all(".." not in p for p in paths), paths
    finally:
        rogue.close()
