"""The Vault provider against a real OpenBao server: auth methods, KV v1/v2, properties, find,
errors, token reuse (renewal, re-login, revocation), outages, concurrency, and no leaked secrets."""

from __future__ import annotations

import base64
import collections
import dataclasses
import glob
import json
import logging
import os
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from secretsync import providers
from secretsync.errors import (
    NotPermitted,
    PropertyNotFound,
    ProviderAuthError,
    ProviderUnavailable,
    SecretNotFound,
    SpecError,
)
from secretsync.providers import vault as vault_module
from secretsync.providers.base import FindSpec, RemoteRef, SecretKeyRef, StoreContext
from secretsync.providers.vault import KVLayout, VaultProvider, parse_config
from tests.support import ports
from tests.support.fixtures_time import FakeClock

if TYPE_CHECKING:
    from tests.support.openbao import AppRoleCredentials, OpenBaoScope, OpenBaoServer
    from tests.support.tls import TLSFiles

Minter = Callable[[str, str | None, tuple[str, ...]], str]


# -- helpers ------------------------------------------------------------------------------------------


class Harness:
    """Builds providers with an in-memory credential store, counting ``on_event`` calls."""

    def __init__(self) -> None:
        self.credentials: dict[tuple[str, str], bytes] = {}
        self.events: collections.Counter[str] = collections.Counter()
        self.minted: list[tuple[str, str | None, tuple[str, ...]]] = []
        self.built: list[VaultProvider] = []

    def read(self, ref: SecretKeyRef) -> bytes:
        try:
            return self.credentials[(ref.name, ref.key)]
        except KeyError:
            raise ProviderAuthError(f"credentials Secret {ref.name} has no key {ref.key!r}") from None

    def on_event(self, event: str) -> None:
        self.events[event] += 1

    def build(self, spec: Mapping[str, Any], mint: Minter | None = None) -> VaultProvider:
        def minter(name: str, namespace: str | None, audiences: tuple[str, ...]) -> str:
            self.minted.append((name, namespace, audiences))
            assert mint is not None
            return mint(name, namespace, audiences)

        context = StoreContext(
            "SecretStore", "vault", "apps", spec, self.read, mint_token=minter, on_event=self.on_event
        )
        provider = VaultProvider(context)
        self.built.append(provider)
        return provider

    def token_store(self, server: str, token: str, secret: str | None = None, **extra: Any) -> VaultProvider:
        """A token store whose token sits in Secret ``secret`` (a fresh name unless given)."""
        secret = secret or f"token-{len(self.built)}"
        self.credentials[(secret, "token")] = token.encode() + b"\n"  # Secrets often end in a newline
        auth = {"tokenSecretRef": {"name": secret, "key": "token"}}
        return self.build({"server": server, "path": "secret", "auth": auth, **extra})

    def approle_store(self, server: str, creds: AppRoleCredentials, **extra: Any) -> VaultProvider:
        secret = f"approle-{len(self.built)}"
        self.credentials[(secret, "secret-id")] = creds.secret_id.encode()
        auth = {"appRole": {"roleId": creds.role_id, "secretRef": {"name": secret, "key": "secret-id"}}}
        return self.build({"server": server, "path": "secret", "auth": auth, **extra})


@pytest.fixture
def harness() -> Iterator[Harness]:
    h = Harness()
    yield h
    for provider in h.built:
        provider.close()


def _write(openbao: OpenBaoScope, name: str, data: Mapping[str, Any]) -> str:
    path = openbao.path(name)
    openbao.client().secrets.kv.v2.create_or_update_secret(path, dict(data))
    return path


def _reader_role(openbao: OpenBaoScope, base: str = "reader", **options: Any) -> AppRoleCredentials:
    hcl = f'path "secret/data/{openbao.prefix}/app/*" {{ capabilities = ["read"] }}'
    return openbao.create_approle(base, policy_hcl=hcl, **options)


def _revoke_role_tokens(server: OpenBaoScope | OpenBaoServer, role_name: str) -> int:
    """Revoke every token AppRole ``role_name`` issued (as an administrator would)."""
    import hvac.exceptions

    root = server.client()
    revoked = 0
    for accessor in root.auth.token.list_accessors()["data"]["keys"]:
        try:
            with_meta = root.auth.token.lookup_accessor(accessor)["data"]
        except hvac.exceptions.VaultError:  # expired since the LIST (other tests' short-lived tokens)
            continue
        if (with_meta.get("meta") or {}).get("role_name") == role_name:
            root.auth.token.revoke_accessor(accessor)
            revoked += 1
    return revoked


DOC = {
    "user": "app",
    "password": "hunter2",
    "tls.crt": "PEM",
    "port": 5432,
    "enabled": True,
    "db": {"host": "db.internal", "replicas": [{"name": "r0"}, {"name": "r1"}], "a.b": "dotted"},
}


# -- spec parsing and paths (no server) ----------------------------------------------------------------


def test_registry_builds_the_provider_without_touching_the_network(harness: Harness) -> None:
    spec = {"server": "http://127.0.0.1:1", "auth": {"tokenSecretRef": {"name": "t", "key": "k"}}}
    context = StoreContext("ClusterSecretStore", "v", None, spec, harness.read)
    provider = providers.create("vault", context)
    assert provider.name == "vault"
    provider.close()


def test_spec_defaults() -> None:
    config = parse_config(
        {"server": "https://v:8200/", "auth": {"kubernetes": {"role": "r", "secretRef": {"name": "s"}}}}
    )
    assert (config.server, config.mount, config.kv_version, config.namespace) == (
        "https://v:8200",
        None,
        2,
        None,
    )
    assert config.auth.mount == "kubernetes"  # type: ignore[union-attr]
    assert config.auth.secret_ref.key == "token"  # type: ignore[union-attr]
    approle = parse_config(
        {"server": "http://v", "path": "/kv/", "version": "v1", "namespace": "team",
         "auth": {"appRole": {"roleRef": {"name": "r", "key": "id"}, "secretRef": {"name": "s", "key": "k"}}}}
    )  # fmt: skip
    assert (approle.mount, approle.kv_version, approle.auth_namespace) == ("kv", 1, "team")
    assert approle.auth.mount == "approle"  # type: ignore[union-attr]


TOKEN = {"tokenSecretRef": {"name": "t", "key": "k"}}
K8S_SECRET = {"role": "r", "secretRef": {"name": "s"}}


def _with_auth(auth: Any, **fields: Any) -> dict[str, Any]:
    return {"server": "http://v", "auth": auth, **fields}


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"auth": TOKEN}, "server"),
        (_with_auth(TOKEN, server="vault:8200"), "server"),
        (_with_auth(TOKEN, version="v3"), "version"),
        ({"server": "http://v"}, "auth"),
        (_with_auth({}), "auth"),
        (_with_auth({**TOKEN, "kubernetes": K8S_SECRET}), "auth"),
        (_with_auth({"ldap": {"username": "u"}}), "auth.ldap"),
        (_with_auth({"tokenSecretRef": {"name": "t"}}), "auth.tokenSecretRef.key"),
        (_with_auth({"appRole": {"roleId": "r"}}), "auth.appRole.secretRef"),
        (_with_auth({"appRole": {"secretRef": {"name": "s", "key": "k"}}}), "auth.appRole"),
        (_with_auth({"kubernetes": {"secretRef": {"name": "s"}}}), "auth.kubernetes.role"),
        (_with_auth({"kubernetes": {"role": "r"}}), "auth.kubernetes"),
        (
            _with_auth({"kubernetes": {"role": "r", "serviceAccountRef": {"name": "sa", "audiences": "x"}}}),
            "auth.kubernetes.serviceAccountRef.audiences",
        ),
        (_with_auth(TOKEN, caBundle="bm90IGEgY2VydA=="), "caBundle"),
        (_with_auth(TOKEN, path=3), "path"),
    ],
)
def test_malformed_spec_is_a_spec_error_naming_the_field(spec: Mapping[str, Any], field: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_config(spec)
    assert caught.value.path == f"spec.provider.vault.{field}"


@pytest.mark.parametrize(
    ("mount", "version", "key", "expected"),
    [  # ESO's buildPath examples
        ("secret", 2, "foo", ("secret", "foo")),
        ("secret", 2, "secret/foo", ("secret", "foo")),
        ("secret", 2, "secret/data/foo", ("secret", "foo")),
        ("secret", 1, "secret/foo", ("secret", "foo")),
        ("secret", 1, "secret/data/foo", ("secret", "data/foo")),
        ("team/kv", 2, "team/kv/app/db", ("team/kv", "app/db")),
        (None, 2, "secret/path/foo", ("secret", "path/foo")),
        (None, 2, "team/kv/data/app", ("team/kv", "app")),
        (None, 1, "kv1/path/foo", ("kv1", "path/foo")),
        ("secret", 2, "/leading/slash/", ("secret", "leading/slash")),
    ],
)
def test_kv_layout_strips_the_mount_like_eso(
    mount: str | None, version: int, key: str, expected: tuple[str, str]
) -> None:
    assert KVLayout(mount, version).split(key) == expected


# -- reading -----------------------------------------------------------------------------------------


def test_kv2_get_whole_map_properties_and_key_forms(openbao: OpenBaoScope, harness: Harness) -> None:
    path = _write(openbao, "db", DOC)
    vault = harness.token_store(openbao.addr, openbao.root_token)

    assert json.loads(vault.get(RemoteRef(path))) == DOC
    # Vault hands maps over with sorted keys (Go's encoder), so this is byte-identical to ESO
    assert vault.get(RemoteRef(path)) == json.dumps(DOC, separators=(",", ":"), sort_keys=True).encode()
    for key in (path, f"secret/{path}", f"secret/data/{path}", f"/{path}"):
        assert vault.get(RemoteRef(key, property="password")) == b"hunter2"
    assert vault.get(RemoteRef(path, property="tls.crt")) == b"PEM"
    assert vault.get(RemoteRef(path, property="port")) == b"5432"
    assert vault.get(RemoteRef(path, property="enabled")) == b"true"
    assert vault.get(RemoteRef(path, property="db.host")) == b"db.internal"
    assert vault.get(RemoteRef(path, property="db.replicas.1.name")) == b"r1"
    assert vault.get(RemoteRef(path, property=r"db.a\.b")) == b"dotted"
    assert json.loads(vault.get(RemoteRef(path, property="db"))) == DOC["db"]
    assert harness.events["login"] == 0  # a static token is not a login


def test_kv2_versions(openbao: OpenBaoScope, harness: Harness) -> None:
    path = _write(openbao, "rotating", {"v": "one"})
    _write(openbao, "rotating", {"v": "two"})
    _write(openbao, "rotating", {"v": "three"})
    vault = harness.token_store(openbao.addr, openbao.root_token)
    assert vault.get(RemoteRef(path, property="v", version="0")) == b"three"  # Vault: 0 is the latest
    assert vault.get(RemoteRef(path, property="v", version="02")) == b"two"
    openbao.client().secrets.kv.v2.delete_secret_versions(path, versions=[3])

    assert vault.get(RemoteRef(path, property="v", version="1")) == b"one"
    assert vault.get(RemoteRef(path, property="v", version="2")) == b"two"
    with pytest.raises(SecretNotFound) as caught:
        vault.get(RemoteRef(path, property="v"))  # the latest version is soft-deleted
    assert str(caught.value) == f"vault: secret/data/{path} was deleted"
    with pytest.raises(SecretNotFound, match=r"\(version 9\) not found"):
        vault.get(RemoteRef(path, version="9"))
    with pytest.raises(
        SpecError, match=r"remoteRef\.version: KV v2 versions are whole numbers \(0 is the latest\)"
    ):
        vault.get(RemoteRef(path, version="latest"))


def test_kv1_store(openbao: OpenBaoScope, harness: Harness) -> None:
    root = openbao.client()
    for name, data in (("cfg", {"k": "v", "n": {"x": 1}}), ("dir/one", {"a": "1"}), ("dir/two", {"b": "2"})):
        root.secrets.kv.v1.create_or_update_secret(openbao.path(name), data, mount_point="kv1")
    vault = harness.token_store(openbao.addr, openbao.root_token, path="kv1", version="v1")

    assert vault.get(RemoteRef(openbao.path("cfg"), property="n.x")) == b"1"
    assert vault.get(RemoteRef(f"kv1/{openbao.path('cfg')}", property="k")) == b"v"
    assert vault.get_map(RemoteRef(openbao.path("cfg"))) == {"k": b"v", "n": b'{"x":1}'}
    assert vault.find(FindSpec(path=openbao.path("dir"))) == {
        openbao.path("dir", "one"): b'{"a":"1"}',
        openbao.path("dir", "two"): b'{"b":"2"}',
    }
    with pytest.raises(SpecError, match="KV v1 secrets have no versions"):
        vault.get(RemoteRef(openbao.path("cfg"), version="1"))
    with pytest.raises(SpecError, match=r"dataFrom\.find\.tags"):
        vault.find(FindSpec(path=openbao.path("dir"), tags={"a": "b"}))
    with pytest.raises(SecretNotFound, match=f"vault: kv1/{openbao.path('nope')} not found"):
        vault.get(RemoteRef(openbao.path("nope")))


def test_store_without_path_takes_the_mount_from_the_key(openbao: OpenBaoScope, harness: Harness) -> None:
    path = _write(openbao, "db", DOC)
    harness.credentials[("t", "k")] = openbao.root_token.encode()
    vault = harness.build({"server": openbao.addr, "auth": {"tokenSecretRef": {"name": "t", "key": "k"}}})
    assert vault.get(RemoteRef(f"secret/{path}", property="user")) == b"app"
    assert vault.get(RemoteRef(f"secret/data/{path}", property="user")) == b"app"
    assert set(vault.find(FindSpec(path=f"secret/{openbao.prefix}"))) == {f"secret/{path}"}
    with pytest.raises(SpecError, match=r"dataFrom\.find\.path: is required"):
        vault.find(FindSpec(name_regexp="."))
    vault.check()


def test_get_map_extracts_top_level_keys(openbao: OpenBaoScope, harness: Harness) -> None:
    path = _write(openbao, "db", {**DOC, "embedded": '{"inner": "json"}'})
    vault = harness.token_store(openbao.addr, openbao.root_token)

    extracted = vault.get_map(RemoteRef(path))
    assert extracted["password"] == b"hunter2"
    assert extracted["port"] == b"5432"
    assert json.loads(extracted["db"]) == DOC["db"]
    assert vault.get_map(RemoteRef(path, property="db.replicas.0")) == {"name": b"r0"}
    assert vault.get_map(RemoteRef(path, property="embedded")) == {
        "inner": b"json"
    }  # a JSON string, like ESO
    with pytest.raises(SpecError) as caught:
        vault.get_map(RemoteRef(path, property="password"))
    assert str(caught.value) == (
        f"dataFrom.extract: vault: secret/data/{path} property 'password' is not a JSON object, "
        "so it cannot be extracted"
    )


def test_values_are_go_marshalled_with_numbers_as_vault_sent_them(
    openbao: OpenBaoScope, harness: Harness
) -> None:
    import requests

    # Written as JSON text; OpenBao answers with Go's float64 text (1.50 -> 1.5, 1e-7 -> 1e-7).
    path = openbao.path("numbers")
    body = (
        '{"data": {"price": 1.50, "tiny": 1e-7, "big": 1e21, "count": 3, "url": "https://x/?a=1&b=<2>",'
        ' "nested": {"z": 1.0, "a": [1e3, "<&>"]}}}'
    )
    answer = requests.post(
        f"{openbao.addr}/v1/secret/data/{path}",
        data=body,
        headers={"X-Vault-Token": openbao.root_token, "Content-Type": "application/json"},
        timeout=10,
    )
    answer.raise_for_status()
    vault = harness.token_store(openbao.addr, openbao.root_token)

    # GetSecret: json.Marshal of vault/api's UseNumber data: keys sorted, HTML-safe, every number
    # with the text the server sent (Python would write 1e-07)
    whole = vault.get(RemoteRef(path))
    assert whole == (
        b'{"big":1e+21,"count":3,"nested":{"a":[1000,"\\u003c\\u0026\\u003e"],"z":1},"price":1.5,'
        b'"tiny":1e-7,"url":"https://x/?a=1\\u0026b=\\u003c2\\u003e"}'
    )
    assert vault.get(RemoteRef(path, property="tiny")) == b"1e-7"  # GetByteValue(json.Number)
    assert vault.get(RemoteRef(path, property="url")) == b"https://x/?a=1&b=<2>"
    assert vault.get(RemoteRef(path, property="nested")) == b'{"a":[1000,"\\u003c\\u0026\\u003e"],"z":1}'
    assert vault.get(RemoteRef(path, property="nested.a")) == b'[1000,"\\u003c\\u0026\\u003e"]'
    assert vault.find(FindSpec(path=openbao.path(""), name_regexp="numbers$")) == {path: whole}
    # GetSecretMap: those bytes unmarshalled into map[string]any (float64), then GetByteValue
    assert vault.get_map(RemoteRef(path)) == {
        "big": b"1000000000000000000000",
        "count": b"3",
        "nested": b'{"a":[1000,"\\u003c\\u0026\\u003e"],"z":1}',
        "price": b"1.5",
        "tiny": b"0.0000001",
        "url": b"https://x/?a=1&b=<2>",
    }
    assert vault.get_map(RemoteRef(path, property="nested")) == {
        "a": b'[1000,"\\u003c\\u0026\\u003e"]',
        "z": b"1",
    }


def test_not_found_messages(openbao: OpenBaoScope, harness: Harness) -> None:
    path = _write(openbao, "db", DOC)
    vault = harness.token_store(openbao.addr, openbao.root_token)
    with pytest.raises(SecretNotFound) as caught:
        vault.get(RemoteRef(openbao.path("nope")))
    assert str(caught.value) == f"vault: secret/data/{openbao.path('nope')} not found"
    with pytest.raises(PropertyNotFound) as caught:
        vault.get(RemoteRef(path, property="db.nope"))
    assert str(caught.value) == f"vault: secret/data/{path} has no property 'db.nope'"
    with pytest.raises(SpecError, match="names the mount secret/"):
        vault.get(RemoteRef("secret"))


def test_find_recursive_by_regexp_and_by_tags(openbao: OpenBaoScope, harness: Harness) -> None:
    for name in ("find/a", "find/b/c", "find/b/d/e", "find/xb"):
        _write(openbao, name, {"name": name})
    openbao.client().secrets.kv.v2.update_metadata(openbao.path("find/b/c"), custom_metadata={"team": "red"})
    openbao.client().secrets.kv.v2.update_metadata(openbao.path("find/a"), custom_metadata={"team": "blue"})
    vault = harness.token_store(openbao.addr, openbao.root_token)
    base = openbao.path("find")

    everything = vault.find(FindSpec(path=base))
    assert list(everything) == [f"{base}/a", f"{base}/b/c", f"{base}/b/d/e", f"{base}/xb"]
    assert everything[f"{base}/b/d/e"] == b'{"name":"find/b/d/e"}'
    assert set(vault.find(FindSpec(path=base, name_regexp=r"/b/"))) == {f"{base}/b/c", f"{base}/b/d/e"}
    assert set(vault.find(FindSpec(path=f"secret/{base}/", name_regexp=r"b$"))) == {f"{base}/xb"}
    assert set(vault.find(FindSpec(path=base, tags={"team": "red"}))) == {f"{base}/b/c"}
    assert vault.find(FindSpec(path=base, tags={"team": "green"})) == {}
    with pytest.raises(
        SecretNotFound, match=f"vault: no secrets under secret/metadata/{openbao.prefix}/void/"
    ):
        vault.find(FindSpec(path=openbao.path("void")))
    with pytest.raises(SpecError, match="invalid regular expression"):
        vault.find(FindSpec(path=base, name_regexp="(["))


# -- metadataPolicy: Fetch (KV v2 metadata, never the value) -------------------------------------------

META_CANARY = "CANARY-vault-meta-5e1d-never-in-metadata"
CUSTOM = {"owner": "team-a", "tls.crt": "cert-name", "cfg": '{"a":{"b":"deep"}}', "html": "<a&b>"}


def _with_metadata(openbao: OpenBaoScope, name: str, custom: Mapping[str, str] | None = None) -> str:
    """A KV v2 secret whose value holds the canary, written twice (current_version 2), with
    custom_metadata written through the HTTP API (hvac's update_metadata)."""
    path = _write(openbao, name, {"password": META_CANARY})
    _write(openbao, name, {"password": META_CANARY, "user": META_CANARY})
    if custom is not None:
        openbao.client().secrets.kv.v2.update_metadata(path, custom_metadata=dict(custom))
    return path


def _fetch(key: str, prop: str | None = None, **kw: Any) -> RemoteRef:
    return RemoteRef(key, property=prop, metadata_policy="Fetch", **kw)


def test_metadata_fetch_reads_custom_and_system_metadata_not_the_value(
    openbao: OpenBaoScope, harness: Harness
) -> None:
    path = _with_metadata(openbao, "meta/db", CUSTOM)
    vault = harness.token_store(openbao.addr, openbao.root_token)

    whole = vault.get(_fetch(path))
    parsed = json.loads(whole)
    assert {k: parsed[k] for k in CUSTOM} == CUSTOM
    assert parsed["current_version"] == "2"  # Go's %v of a number: decimal text, a string
    assert parsed["delete_version_after"] == "0s"
    assert parsed["created_time"].endswith("Z")
    assert set(parsed) == {*CUSTOM, "created_time", "current_version", "delete_version_after"}
    # ESO marshals a Go map: keys sorted, compact, HTML characters escaped
    assert list(parsed) == sorted(parsed)
    assert b'"html":"\\u003ca\\u0026b\\u003e"' in whole
    assert META_CANARY.encode() not in whole

    assert vault.get(_fetch(path, "owner")) == b"team-a"
    assert vault.get(_fetch(path, "tls.crt")) == b"cert-name"  # an exact key wins over a path
    assert vault.get(_fetch(path, r"tls\.crt")) == b"cert-name"  # gjson path with an escaped dot
    assert vault.get(_fetch(path, "html")) == b"<a&b>"
    assert vault.get(_fetch(path, "current_version")) == b"2"
    assert vault.get(_fetch(path, "cfg")) == b'{"a":{"b":"deep"}}'
    # every key form a value read accepts, and version is ignored (metadata spans versions)
    for key in (f"secret/{path}", f"secret/data/{path}", f"/{path}"):
        assert vault.get(_fetch(key, "owner")) == b"team-a"
    assert vault.get(_fetch(path, "owner", version="1")) == b"team-a"
    # and the same ref without Fetch still reads the value
    assert vault.get(RemoteRef(path, property="password")) == META_CANARY.encode()


def test_metadata_fetch_missing_property_and_extract(openbao: OpenBaoScope, harness: Harness) -> None:
    path = _with_metadata(openbao, "meta/db", CUSTOM)
    vault = harness.token_store(openbao.addr, openbao.root_token)

    with pytest.raises(PropertyNotFound) as missing:
        vault.get(_fetch(path, "password"))  # a key of the value, not of the metadata
    assert str(missing.value) == f"vault: secret/metadata/{path} has no property 'password'"
    with pytest.raises(PropertyNotFound):
        vault.get(_fetch(path, "cfg.a"))  # metadata values are strings: no path into them

    extracted = vault.get_map(_fetch(path))
    assert {k: extracted[k] for k in CUSTOM} == {k: v.encode() for k, v in CUSTOM.items()}
    assert extracted["current_version"] == b"2"
    assert META_CANARY.encode() not in b"".join(extracted.values())
    assert vault.get_map(_fetch(path, "cfg")) == {"a": b'{"b":"deep"}'}  # a string holding JSON
    with pytest.raises(SpecError) as not_object:
        vault.get_map(_fetch(path, "owner"))
    assert str(not_object.value) == (
        f"dataFrom.extract: vault: secret/metadata/{path} property 'owner' is not a JSON object, "
        "so it cannot be extracted"
    )


def test_metadata_fetch_without_custom_metadata_has_the_system_keys(
    openbao: OpenBaoScope, harness: Harness
) -> None:
    path = _with_metadata(openbao, "meta/plain")
    vault = harness.token_store(openbao.addr, openbao.root_token)

    system = {"created_time", "current_version", "delete_version_after"}
    assert set(json.loads(vault.get(_fetch(path)))) == system
    assert set(vault.get_map(_fetch(path))) == system
    with pytest.raises(PropertyNotFound):
        vault.get(_fetch(path, "owner"))


def test_metadata_fetch_not_found_kv1_and_confinement(openbao: OpenBaoScope, harness: Harness) -> None:
    vault = harness.token_store(openbao.addr, openbao.root_token)
    nope = openbao.path("meta/nope")
    with pytest.raises(SecretNotFound) as gone:
        vault.get(_fetch(nope))
    assert str(gone.value) == f"vault: secret/metadata/{nope} not found"
    with pytest.raises(SecretNotFound):
        vault.get_map(_fetch(nope))

    root = openbao.client()
    root.secrets.kv.v1.create_or_update_secret(openbao.path("cfg"), {"k": META_CANARY}, mount_point="kv1")
    kv1 = harness.token_store(openbao.addr, openbao.root_token, path="kv1", version="v1")
    for call in (kv1.get, kv1.get_map):
        with pytest.raises(SpecError) as refused:
            call(_fetch(openbao.path("cfg")))
        assert str(refused.value) == (
            "remoteRef.metadataPolicy: cannot fetch metadata from a KV v1 store "
            "(metadataPolicy Fetch needs KV v2)"
        )

    with pytest.raises(NotPermitted):
        vault.get(_fetch(f"{openbao.prefix}/../../sys/mounts"))
    harness.credentials[("t", "k")] = openbao.root_token.encode()
    mountless = harness.build({"server": openbao.addr, "auth": {"tokenSecretRef": {"name": "t", "key": "k"}}})
    with pytest.raises(NotPermitted, match="Vault's own API"):
        mountless.get(_fetch("sys/metadata/x"))
    with pytest.raises(SpecError, match="names the mount secret/"):
        vault.get(_fetch("secret"))


def test_metadata_fetch_needs_read_on_the_metadata_path_only(openbao: OpenBaoScope, harness: Harness) -> None:
    path = _with_metadata(openbao, "app/db", {"owner": "team-a"})
    data_only = harness.approle_store(openbao.addr, _reader_role(openbao))  # read on secret/data/... only
    with pytest.raises(ProviderAuthError) as denied:
        data_only.get(_fetch(path, "owner"))
    assert str(denied.value).startswith(
        f"vault: permission denied reading metadata of secret/metadata/{path} "
    )
    assert str(denied.value).endswith(
        f"; metadataPolicy Fetch needs a policy granting read on secret/metadata/{path}"
    )

    hcl = f'path "secret/metadata/{openbao.prefix}/app/*" {{ capabilities = ["read"] }}'
    metadata_only = harness.approle_store(openbao.addr, openbao.create_approle("meta", policy_hcl=hcl))
    assert metadata_only.get(_fetch(path, "owner")) == b"team-a"
    assert b"team-a" in metadata_only.get(_fetch(path))
    with pytest.raises(ProviderAuthError, match="permission denied reading secret/data/"):
        metadata_only.get(RemoteRef(path))  # this identity cannot read the value at all


# -- auth methods ------------------------------------------------------------------------------------


def test_approle_with_role_id_logs_in_once_for_many_reads(openbao: OpenBaoScope, harness: Harness) -> None:
    path = _write(openbao, "app/db", DOC)
    creds = _reader_role(openbao)
    vault = harness.approle_store(openbao.addr, creds)

    for _ in range(20):
        assert vault.get(RemoteRef(path, property="user")) == b"app"
    vault.check()
    assert harness.events["login"] == 1


def test_approle_with_role_ref_and_custom_mount(openbao: OpenBaoScope, harness: Harness) -> None:
    path = _write(openbao, "app/db", DOC)
    mount = openbao.name("ar")
    root = openbao.client()
    root.sys.enable_auth_method("approle", path=mount)
    try:
        hcl = f'path "secret/data/{openbao.prefix}/*" {{ capabilities = ["read"] }}'
        creds = openbao.server.create_approle(
            openbao.name("r"), policy_hcl=hcl, mount_point=mount, replay=False
        )
        harness.credentials[("ids", "role")] = creds.role_id.encode()
        harness.credentials[("ids", "secret")] = creds.secret_id.encode()
        auth = {
            "appRole": {
                "path": mount,
                "roleRef": {"name": "ids", "key": "role"},
                "secretRef": {"name": "ids", "key": "secret"},
            }
        }
        vault = harness.build({"server": openbao.addr, "path": "secret", "auth": auth})
        assert vault.get(RemoteRef(path, property="password")) == b"hunter2"
        assert harness.events["login"] == 1
    finally:
        root.sys.disable_auth_method(mount)
        root.sys.delete_policy(openbao.name("r"))


def test_approle_login_failure_is_an_auth_error(openbao: OpenBaoScope, harness: Harness) -> None:
    creds = _reader_role(openbao)
    harness.credentials[("approle", "secret-id")] = b"wrong-secret-id"
    auth = {"appRole": {"roleId": creds.role_id, "secretRef": {"name": "approle", "key": "secret-id"}}}
    vault = harness.build({"server": openbao.addr, "path": "secret", "auth": auth})
    with pytest.raises(ProviderAuthError) as caught:
        vault.get(RemoteRef(openbao.path("app/db")))
    assert str(caught.value) == "vault: approle login at auth/approle failed: invalid role or secret ID"
    assert harness.events["login"] == 0

    harness.credentials.clear()  # a missing credential Secret: the reader's error passes through
    with pytest.raises(ProviderAuthError, match="has no key 'secret-id'"):
        vault.check()


def test_kubernetes_auth_with_service_account_ref_and_secret_ref(
    openbao: OpenBaoScope, harness: Harness
) -> None:
    from tests.support.openbao import TokenReviewStub, make_service_account_jwt

    path = _write(openbao, "app/db", DOC)
    policy = openbao.write_policy(
        "k8s", f'path "secret/data/{openbao.prefix}/app/*" {{ capabilities = ["read"] }}'
    )
    with TokenReviewStub() as apiserver:
        mount = openbao.enable_kubernetes_auth(
            apiserver.url,
            role="secretsync",
            bound_sa_names=["secretsync"],
            bound_namespaces=["ops"],
            policies=[policy],
        )

        def mint(name: str, namespace: str | None, audiences: tuple[str, ...]) -> str:
            return make_service_account_jwt(namespace or "ops", name, audience=audiences)

        sa_auth = {
            "kubernetes": {
                "mountPath": mount,
                "role": "secretsync",
                "serviceAccountRef": {"name": "secretsync"},
            }
        }
        vault = harness.build({"server": openbao.addr, "path": "secret", "auth": sa_auth}, mint=mint)
        for _ in range(5):
            assert vault.get(RemoteRef(path, property="user")) == b"app"
        vault.check()
        assert harness.minted == [("secretsync", None, ())]  # default: the API server's own audience
        assert harness.events["login"] == 1
        assert apiserver.reviews == 1

        audience_auth = {
            "kubernetes": {
                "mountPath": mount,
                "role": "secretsync",
                "serviceAccountRef": {"name": "secretsync", "namespace": "ops", "audiences": ["vault"]},
            }
        }
        harness.build({"server": openbao.addr, "path": "secret", "auth": audience_auth}, mint=mint).check()
        assert harness.minted[-1] == ("secretsync", "ops", ("vault",))

        harness.credentials[("sa-token", "token")] = make_service_account_jwt("ops", "secretsync").encode()
        secret_auth = {
            "kubernetes": {"mountPath": mount, "role": "secretsync", "secretRef": {"name": "sa-token"}}
        }
        assert (
            harness.build({"server": openbao.addr, "path": "secret", "auth": secret_auth}).get(
                RemoteRef(path, property="password")
            )
            == b"hunter2"
        )

        # ESO's own kubernetes-auth example sets both refs: serviceAccountRef wins (ESO's getJwtString)
        # and the secretRef, whose Secret does not even exist here, is never read.
        both = {
            "kubernetes": {
                "mountPath": mount,
                "role": "secretsync",
                "serviceAccountRef": {"name": "secretsync"},
                "secretRef": {"name": "never-read", "key": "token"},
            }
        }
        minted = len(harness.minted)
        harness.build({"server": openbao.addr, "path": "secret", "auth": both}, mint=mint).check()
        assert harness.minted[minted:] == [("secretsync", None, ())]

        wrong = {
            "kubernetes": {
                "mountPath": mount,
                "role": "secretsync",
                "serviceAccountRef": {"name": "intruder"},
            }
        }
        with pytest.raises(ProviderAuthError) as caught:
            harness.build({"server": openbao.addr, "path": "secret", "auth": wrong}, mint=mint).check()
        who = f"kubernetes login at auth/{mount} as role 'secretsync' (service account intruder)"
        assert str(caught.value).startswith(f"vault: {who} failed: ")


# -- permissions and check() -------------------------------------------------------------------------


def test_least_privilege_denials_do_not_trigger_logins(openbao: OpenBaoScope, harness: Harness) -> None:
    allowed = _write(openbao, "app/db", DOC)
    forbidden = _write(openbao, "private/x", {"k": "v"})
    creds = _reader_role(openbao)
    vault = harness.approle_store(openbao.addr, creds)

    vault.check()  # read on secret/data/<prefix>/app/* is enough for check()
    assert vault.get(RemoteRef(allowed, property="user")) == b"app"
    for _ in range(3):
        with pytest.raises(ProviderAuthError) as caught:
            vault.get(RemoteRef(forbidden))
    role = openbao.name("reader")
    assert str(caught.value) == (
        f"vault: permission denied reading secret/data/{forbidden} "
        f"(check the policies of approle role {role!r} (policies: default, {role}))"
    )
    with pytest.raises(
        ProviderAuthError, match=f"permission denied listing secret/metadata/{openbao.prefix}/app/"
    ):
        vault.find(FindSpec(path=openbao.path("app")))
    assert harness.events["login"] == 1


def test_check_reports_mount_problems(openbao: OpenBaoScope, harness: Harness) -> None:
    creds = _reader_role(openbao)
    with pytest.raises(ProviderAuthError, match="has no access under mount kv1/"):
        harness.approle_store(openbao.addr, creds, path="kv1", version="v1").check()
    with pytest.raises(SpecError) as caught:
        harness.token_store(openbao.addr, openbao.root_token, version="v1").check()
    assert str(caught.value) == "spec.provider.vault.version: mount secret/ is KV v2 but the store says v1"
    with pytest.raises(ProviderAuthError, match="has no access under mount nowhere/"):
        harness.token_store(openbao.addr, openbao.root_token, path="nowhere").check()
    with pytest.raises(SpecError, match="mount sys/ is a 'system' engine, not kv"):
        harness.token_store(openbao.addr, openbao.root_token, path="sys").check()
    with pytest.raises(ProviderAuthError) as rejected:
        harness.token_store(openbao.addr, "not-a-token", secret="vault-token").check()
    assert str(rejected.value) == (
        "vault: the token in Secret vault-token[token] was rejected "
        "(expired, revoked, or without the default policy)"
    )


# -- token life ---------------------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(vault_module, "time", fake)
    return fake


def _role_tokens(openbao: OpenBaoScope, role_name: str) -> list[dict[str, Any]]:
    """What OpenBao knows of the tokens AppRole ``role_name`` issued (by accessor, as an admin sees them)."""
    import hvac.exceptions

    root = openbao.client()
    found = []
    for accessor in root.auth.token.list_accessors()["data"]["keys"]:
        try:
            data = root.auth.token.lookup_accessor(accessor)["data"]
        except hvac.exceptions.VaultError:  # expired since the LIST (other tests' short-lived tokens)
            continue
        if (data.get("meta") or {}).get("role_name") == role_name:
            found.append(data)
    return found


def test_tokens_are_renewed_and_relogged_only_when_needed(
    openbao: OpenBaoScope, harness: Harness, clock: FakeClock
) -> None:
    """The provider decides on its own clock (here the test's): a renewable AppRole token is renewed
    at 2/3 of its TTL, again and again, with one login; a renewable static token is renewed too,
    never "logged in". OpenBao's own view confirms the renewals."""
    path = _write(openbao, "app/db", DOC)
    long_lived = _reader_role(openbao, "long", token_ttl="60s", token_max_ttl="1h")
    renewable = harness.approle_store(openbao.addr, long_lived)
    policy = openbao.write_policy(
        "static", f'path "secret/data/{openbao.prefix}/*" {{ capabilities = ["read"] }}'
    )
    static_token = openbao.client().auth.token.create(policies=[policy], ttl="60s", renewable=True)["auth"]
    harness.credentials[("static", "t")] = static_token["client_token"].encode()
    static = harness.build(
        {"server": openbao.addr, "path": "secret", "auth": {"tokenSecretRef": {"name": "static", "key": "t"}}}
    )

    def step(to: float) -> tuple[int, int]:
        """Read through both stores at provider time ``to``: (logins, renewals) so far."""
        clock.now = 1000.0 + to
        assert renewable.get(RemoteRef(path, property="user")) == b"app"
        static.check()
        return harness.events["login"], harness.events["renew"]

    assert step(0) == (1, 0)  # the first read logs in (the static token is only looked up)
    assert step(39) == (1, 0)  # before 2/3 of 60 s: nothing to do
    assert step(41) == (1, 2)  # due: both renewed, no new login
    assert step(42) == (1, 2)  # renewed for 60 s from t=41: not due until t=81
    assert step(82) == (1, 4)
    assert step(200) == (1, 6)  # long past due: still renewed (OpenBao's own TTL has not run out)
    (token,) = _role_tokens(openbao, long_lived.role_name)  # one login, one token
    assert token.get("last_renewal_time")  # OpenBao saw the renewals
    assert openbao.client().auth.token.lookup(static_token["client_token"])["data"].get("last_renewal_time")


class _RenewalStub:
    """Plain-HTTP Vault stand-in for AppRole: each login issues a new token with ``login_ttl``; each
    ``renew-self`` grants the next of ``grants`` (None: refuses with 403, as for a dead token)."""

    def __init__(self, login_ttl: int, grants: list[int | None]) -> None:
        self.port = ports.reserve_port()
        self.addr = f"http://127.0.0.1:{self.port}"
        self.calls: list[str] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any) -> None:
                out = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                stub.calls.append(self.path)
                auth = {"renewable": True, "policies": ["p"], "metadata": {"role_name": "r"}}
                if self.path == "/v1/auth/approle/login":
                    logins = stub.calls.count(self.path)
                    self._answer(
                        200, {"auth": {**auth, "client_token": f"t{logins}", "lease_duration": login_ttl}}
                    )
                elif self.path == "/v1/auth/token/renew-self":
                    grant = grants.pop(0)
                    if grant is None:
                        self._answer(403, {"errors": ["permission denied"]})
                    else:
                        token = self.headers.get("X-Vault-Token")
                        self._answer(200, {"auth": {**auth, "client_token": token, "lease_duration": grant}})
                else:
                    self._answer(404, {"errors": []})

            def do_GET(self) -> None:
                stub.calls.append(self.path)
                if self.path == "/v1/secret/data/app/db":
                    self._answer(200, {"data": {"data": {"user": "app"}, "metadata": {"version": 1}}})
                else:
                    self._answer(404, {"errors": []})

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        ports.release_port(self.port)


@pytest.mark.parametrize(
    ("grants", "logins"),
    [
        ([60, 60], 1),  # each renewal grants the full TTL: renewed, never logged in again
        ([60, 20], 2),  # the max TTL is near (less than half the login's TTL granted): log in again
        ([60, None], 2),  # the renewal is refused: log in again
    ],
    ids=["renewed", "capped", "refused"],
)
def test_a_renewal_that_grants_too_little_is_replaced_by_one_login(
    harness: Harness, clock: FakeClock, grants: list[int | None], logins: int
) -> None:
    from tests.support.openbao import AppRoleCredentials

    stub = _RenewalStub(login_ttl=60, grants=list(grants))
    try:
        creds = AppRoleCredentials("r", "role-id", "secret-id", "approle")
        vault = harness.approle_store(stub.addr, creds)
        for now, renewals in ((0, 0), (39, 0), (41, 1), (70, 1), (82, 2), (83, 2)):
            clock.now = 1000.0 + now
            assert vault.get(RemoteRef("app/db", property="user")) == b"app"
            assert stub.calls.count("/v1/auth/token/renew-self") == renewals, now
        assert harness.events["login"] == logins
        assert stub.calls.count("/v1/auth/approle/login") == logins
    finally:
        stub.close()


def test_a_token_past_its_max_ttl_is_replaced_by_exactly_one_login(
    openbao: OpenBaoScope, harness: Harness, clock: FakeClock
) -> None:
    """On a real OpenBao, whose clock is real: a role's token renewed once, then used again after
    its max TTL has passed (the wait is a lower bound only: waiting longer changes nothing)."""
    path = _write(openbao, "app/db", DOC)
    capped = harness.approle_store(
        openbao.addr, _reader_role(openbao, "capped", token_ttl="3s", token_max_ttl="4s")
    )
    logged_in_at = time.monotonic()
    clock.now = 0.0
    assert capped.get(RemoteRef(path, property="user")) == b"app"
    clock.now = 2.1  # past 2/3 of 3 s; OpenBao (its token is 3 s good) grants the full 3 s again
    assert capped.get(RemoteRef(path, property="user")) == b"app"
    assert (harness.events["login"], harness.events["renew"]) == (1, 1)
    time.sleep(max(0.0, logged_in_at + 5.0 - time.monotonic()))  # past the 4 s max TTL, by a second
    clock.now = 4.2  # due again (2.1 + 2/3 of 3 s), not yet expired by the provider's clock
    assert capped.get(RemoteRef(path, property="user")) == b"app"
    assert harness.events["login"] == 2
    clock.now = 4.3  # the new token is fresh: no third login
    assert capped.get(RemoteRef(path, property="user")) == b"app"
    assert harness.events["login"] == 2


def test_a_revoked_token_triggers_exactly_one_relogin_under_concurrency(
    openbao: OpenBaoScope, harness: Harness
) -> None:
    path = _write(openbao, "app/db", DOC)
    creds = _reader_role(openbao)
    vault = harness.approle_store(openbao.addr, creds)
    assert vault.get(RemoteRef(path, property="user")) == b"app"
    assert _revoke_role_tokens(openbao, creds.role_name) == 1

    barrier = threading.Barrier(8)

    def read(_: int) -> bytes:
        barrier.wait()
        return vault.get(RemoteRef(path, property="password"))

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(read, range(8))) == [b"hunter2"] * 8
    assert harness.events["login"] == 2


def test_a_revoked_static_token_is_reported_and_a_rotated_one_is_picked_up(
    openbao: OpenBaoScope, harness: Harness
) -> None:
    path = _write(openbao, "app/db", DOC)
    root = openbao.client()
    first = root.auth.token.create(policies=["root"], ttl="1h")["auth"]["client_token"]
    vault = harness.token_store(openbao.addr, first, secret="vault-token")
    assert vault.get(RemoteRef(path, property="user")) == b"app"

    root.auth.token.revoke(first)
    with pytest.raises(ProviderAuthError, match=r"the token in Secret vault-token\[token\] was rejected"):
        vault.get(RemoteRef(path, property="user"))
    second = root.auth.token.create(policies=["root"], ttl="1h")["auth"]["client_token"]
    harness.credentials[("vault-token", "token")] = second.encode()
    assert vault.get(RemoteRef(path, property="user")) == b"app"


def test_close_revokes_only_tokens_it_logged_in_for(openbao: OpenBaoScope, harness: Harness) -> None:
    path = _write(openbao, "app/db", DOC)
    creds = _reader_role(openbao)
    vault = harness.approle_store(openbao.addr, creds)
    vault.get(RemoteRef(path))
    root = openbao.client()
    policy = openbao.write_policy(
        "static", f'path "secret/data/{openbao.prefix}/*" {{ capabilities = ["read"] }}'
    )
    static = root.auth.token.create(policies=[policy], ttl="1h")["auth"]["client_token"]
    static_store = harness.token_store(openbao.addr, static)
    static_store.check()

    vault.close()
    static_store.close()
    assert _revoke_role_tokens(openbao, creds.role_name) == 0  # already revoked by close()
    assert root.auth.token.lookup(static)["data"]["id"] == static
    vault.close()  # idempotent
    assert vault.get(RemoteRef(path, property="user")) == b"app"  # a closed provider reconnects lazily
    assert harness.events["login"] == 2


# -- outages ------------------------------------------------------------------------------------------


def test_vault_stopped_mid_life_then_back(openbao_isolated: OpenBaoServer, harness: Harness) -> None:
    bao = openbao_isolated
    creds = bao.create_approle("op", policy_hcl='path "secret/data/*" { capabilities = ["read"] }')
    bao.add_seed_hook(lambda s: s.client().secrets.kv.v2.create_or_update_secret("app/db", {"password": "v"}))
    vault = harness.approle_store(bao.addr, creds)
    assert vault.get(RemoteRef("app/db", property="password")) == b"v"

    bao.stop()
    with pytest.raises(ProviderUnavailable) as caught:
        vault.get(RemoteRef("app/db", property="password"))
    assert str(caught.value) == f"vault: cannot reach {bao.addr}: connection refused"
    with pytest.raises(ProviderUnavailable):
        vault.check()

    bao.start()  # in-memory dev server: our token is gone, the AppRole is replayed with the same ids
    assert vault.get(RemoteRef("app/db", property="password")) == b"v"
    assert harness.events["login"] == 2

    bao.client().sys.seal()
    with pytest.raises(ProviderUnavailable) as sealed:
        vault.get(RemoteRef("app/db"))
    assert str(sealed.value) == f"vault: {bao.addr} is sealed"


def test_unreachable_server_before_any_login(harness: Harness) -> None:
    port = ports.reserve_port()
    try:
        vault = harness.token_store(f"http://127.0.0.1:{port}", "whatever")
        with pytest.raises(
            ProviderUnavailable, match=f"vault: cannot reach http://127.0.0.1:{port}: connection refused"
        ):
            vault.check()
    finally:
        ports.release_port(port)


# -- concurrency ----------------------------------------------------------------------------------------


def test_many_threads_share_one_login(openbao: OpenBaoScope, harness: Harness) -> None:
    paths = [_write(openbao, f"app/s{i}", {"i": str(i)}) for i in range(8)]
    vault = harness.approle_store(openbao.addr, _reader_role(openbao))
    barrier = threading.Barrier(16)

    def work(worker: int) -> list[bytes]:
        barrier.wait()
        return [vault.get(RemoteRef(paths[(worker + n) % 8], property="i")) for n in range(25)]

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(work, range(16)))
    for worker, values in enumerate(results):
        assert values == [str((worker + n) % 8).encode() for n in range(25)]
    assert harness.events["login"] == 1


# -- no secret ever leaks into a message or a log record -------------------------------------------------


def test_canaries_never_reach_messages_or_logs(
    openbao: OpenBaoScope, harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = f"canary{uuid.uuid4().hex}"
    root = openbao.client()
    path = _write(openbao, "app/c", {"password": canary, "nested": {"k": canary}, "list": [canary]})
    creds = _reader_role(openbao)
    canary_secret_id = f"{canary}-secret-id"
    root.auth.approle.create_custom_secret_id(creds.role_name, canary_secret_id)
    canary_token = root.auth.token.create(id=f"{canary}tok", policies=["default"], ttl="1h")["auth"][
        "client_token"
    ]

    errors: list[Exception] = []

    def expect_error(call: Callable[[], object]) -> None:
        with pytest.raises(Exception) as caught:
            call()
        errors.append(caught.value)

    good = harness.approle_store(openbao.addr, dataclasses.replace(creds, secret_id=canary_secret_id))
    assert good.get(RemoteRef(path, property="password")) == canary.encode()
    expect_error(lambda: good.get(RemoteRef(path, property="missing")))
    expect_error(lambda: good.get_map(RemoteRef(path, property="password")))
    expect_error(lambda: good.get_map(RemoteRef(path, property="list")))
    expect_error(lambda: good.get(RemoteRef(openbao.path("private/x"))))
    expect_error(lambda: good.find(FindSpec(path=openbao.path("app"))))
    bad_login = harness.approle_store(openbao.addr, dataclasses.replace(creds, secret_id=f"{canary}-wrong"))
    expect_error(bad_login.check)
    with_token = harness.token_store(openbao.addr, canary_token)
    expect_error(lambda: with_token.get(RemoteRef(path)))  # default policy: denied
    revoked = harness.token_store(openbao.addr, f"{canary}-invalid")
    expect_error(revoked.check)
    port = ports.reserve_port()
    try:
        expect_error(harness.token_store(f"http://127.0.0.1:{port}", canary_token).check)
    finally:
        ports.release_port(port)

    expected = [PropertyNotFound, SpecError, SpecError] + [ProviderAuthError] * 5 + [ProviderUnavailable]
    assert len(errors) == len(expected)
    for error, kind in zip(errors, expected, strict=True):
        assert isinstance(error, kind), (error, kind)
    for error in errors:
        assert canary not in str(error) and canary not in repr(error)
        # no requests exception chained on, whose text a traceback would print
        assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    assert caplog.records  # logins were logged...
    assert canary not in caplog.text  # ...without any credential or value


# -- TLS, namespaces and server errors (a small HTTPS stand-in for Vault) --------------------------------


class _VaultStub:
    """HTTPS server answering the few endpoints a token store needs; records request headers."""

    def __init__(self, tls: TLSFiles) -> None:
        self.port = ports.reserve_port()
        self.addr = f"https://127.0.0.1:{self.port}"
        self.headers: list[dict[str, str]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                stub.headers.append(dict(self.headers))
                answers: dict[str, tuple[int, Any]] = {
                    "/v1/auth/token/lookup-self": (
                        200,
                        {"data": {"ttl": 0, "renewable": False, "policies": ["p"]}},
                    ),
                    "/v1/secret/data/app/db": (
                        200,
                        {"data": {"data": {"k": "v"}, "metadata": {"version": 1}}},
                    ),
                    "/v1/secret/data/boom": (500, {"errors": ["internal error"]}),
                    "/v1/secret/data/busy": (429, {"errors": ["rate limit quota exceeded"]}),
                }
                status, body = answers.get(self.path, (404, {"errors": []}))
                out = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls.cert_path, tls.key_path)
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        ports.release_port(self.port)


@pytest.fixture
def vault_stub(provider_tls: TLSFiles) -> Iterator[_VaultStub]:
    stub = _VaultStub(provider_tls)
    yield stub
    stub.close()


def test_ca_bundle_namespace_and_server_errors(
    vault_stub: _VaultStub, provider_tls: TLSFiles, harness: Harness
) -> None:
    ca_files = set(glob.glob(os.path.join(tempfile.gettempdir(), "secretsync-vault-ca-*")))
    ca_bundle = base64.b64encode(provider_tls.ca_pem).decode()
    vault = harness.token_store(vault_stub.addr, "tok", caBundle=ca_bundle, namespace="team-a")

    assert vault.get(RemoteRef("app/db", property="k")) == b"v"
    assert {h.get("X-Vault-Namespace") for h in vault_stub.headers} == {"team-a"}
    assert {h.get("X-Vault-Token") for h in vault_stub.headers} == {"tok"}
    with pytest.raises(ProviderUnavailable) as caught:
        vault.get(RemoteRef("boom"))
    assert (
        # the server's own text ("internal error") is not passed on: only the status
        str(caught.value) == f"vault: {vault_stub.addr} answered 500 reading secret/data/boom"
    )
    with pytest.raises(ProviderUnavailable, match="is rate limiting"):
        vault.get(RemoteRef("busy"))
    vault.close()
    assert set(glob.glob(os.path.join(tempfile.gettempdir(), "secretsync-vault-ca-*"))) == ca_files

    untrusting = harness.token_store(vault_stub.addr, "tok")
    with pytest.raises(ProviderUnavailable) as tls_error:
        untrusting.check()
    assert str(tls_error.value).startswith(
        f"vault: cannot reach {vault_stub.addr}: TLS error: certificate verify failed"
    )
