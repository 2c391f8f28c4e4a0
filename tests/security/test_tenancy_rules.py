"""The tenancy and ownership rules on their own: exhaustive cases and property-based fuzzing.

The end-to-end attacks are in test_store_identity.py, test_vault_paths.py, test_outbound.py and
test_writers.py; these pin the rules themselves, so a change to one is seen at once.
"""

from __future__ import annotations

import ipaddress
import posixpath
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secretsync import ownership, tenancy
from secretsync.errors import NotPermitted, OwnershipConflict
from secretsync.tenancy import Access, Rules

# ---------------------------------------------------------------------------- identity


@pytest.mark.parametrize(
    ("kind", "opt_in", "access", "allowed"),
    [
        ("SecretStore", False, Access(), True),
        ("SecretStore", False, Access(ambient_identity=True), False),
        ("SecretStore", True, Access(ambient_identity=True), False),  # a SecretStore cannot opt in
        ("ClusterSecretStore", False, Access(ambient_identity=True), False),
        ("ClusterSecretStore", True, Access(ambient_identity=True), True),
        ("ClusterSecretStore", True, Access(ambient_identity=True, servers=(("f", "h:1"),)), False),
        ("ClusterSecretStore", True, Access(servers=(("f", "h:1"),)), False),  # opt-in + a named server
        ("ClusterSecretStore", False, Access(servers=(("f", "h:1"),)), True),
    ],
)
def test_who_may_use_the_operators_identity(kind: str, opt_in: bool, access: Access, allowed: bool) -> None:
    def check() -> None:
        tenancy.check_access(
            store_kind=kind, store_ref=f"{kind} x", operator_identity=opt_in, access=access, rules=Rules()
        )

    if allowed:
        check()
    else:
        with pytest.raises(NotPermitted):
            check()


# ---------------------------------------------------------------------------- servers


@pytest.mark.parametrize(
    "server",
    [
        "http://169.254.169.254",
        "http://169.254.170.2/v2/credentials",  # ECS task credentials
        "http://[::ffff:169.254.169.254]",
        "http://[fe80::1]:80",
        "http://[fd00:ec2::254]",
        "http://metadata.google.internal",
        "http://METADATA.google.internal.",
        "http://100.100.100.200",
        "http://0.0.0.0:8200",
        "169.254.169.254:443",
    ],
)
def test_metadata_addresses_are_always_refused(server: str) -> None:
    with pytest.raises(NotPermitted, match="metadata or link-local"):
        tenancy.check_server(server, Rules(), "server")


@pytest.mark.parametrize(
    ("entry", "server", "allowed"),
    [
        ("vault.internal:8200", "https://vault.internal:8200", True),
        ("vault.internal:8200", "https://vault.internal:8201", False),
        ("vault.internal:8200", "https://vault.internal", False),
        ("vault.internal", "https://vault.internal", True),
        ("vault.internal", "http://vault.internal:9999", True),
        ("*.vault.svc", "https://a.vault.svc:8200", True),
        ("*.vault.svc", "https://vault.svc", False),
        ("*.vault.svc", "https://evil-vault.svc", False),
        ("*.vault.svc:8200", "https://a.b.vault.svc:8200", True),
        ("*.vault.svc:8200", "https://a.vault.svc:443", False),
        ("[::1]:8200", "http://[::1]:8200", True),
        ("10.0.0.5", "10.0.0.5:443", True),
    ],
)
def test_the_allow_list(entry: str, server: str, allowed: bool) -> None:
    rules = Rules(allowed_servers=tenancy.parse_allowed_servers((entry,)))
    if allowed:
        tenancy.check_server(server, rules, "server")
    else:
        with pytest.raises(NotPermitted, match="--allowed-servers"):
            tenancy.check_server(server, rules, "server")


@pytest.mark.parametrize("entry", ["*", "*.", "a*b.com", "http://x", "x:port", "a b", "user@host"])
def test_bad_allow_list_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="--allowed-servers"):
        tenancy.parse_allowed_servers((entry,))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_check_server_only_ever_refuses_cleanly(server: str) -> None:
    try:
        tenancy.check_server(server, Rules(allowed_servers=("ok.example",)), "server")
    except NotPermitted:
        return


@settings(max_examples=300, deadline=None)
@given(st.ip_addresses(v=4, network="169.254.0.0/16"), st.integers(1, 65535), st.booleans())
def test_every_link_local_address_is_refused(address: Any, port: int, mapped: bool) -> None:
    host = f"[::ffff:{address}]" if mapped else str(address)
    with pytest.raises(NotPermitted):
        tenancy.check_server(f"http://{host}:{port}", Rules(), "server")
    assert ipaddress.ip_address(str(address)).is_link_local


# ---------------------------------------------------------------------------- paths


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab./\\%?#\x00\n ")), max_size=24))
def test_a_confined_path_never_leaves_its_mount(path: str) -> None:
    try:
        confined = tenancy.confine_path(path, "key")
    except NotPermitted:
        return
    joined = posixpath.normpath(posixpath.join("/mount", confined))
    assert joined == "/mount" or joined.startswith("/mount/")
    assert posixpath.join("/mount", confined).rstrip("/") == joined.rstrip("/") or confined == ""
    assert not any(c in confined for c in "\\%?#\x00\n")


@pytest.mark.parametrize("path", ["a/b", "/a/b/", "team-a/db.v2", "app/..x/y", "a/.hidden"])
def test_ordinary_paths_pass(path: str) -> None:
    assert tenancy.confine_path(path, "key") == path.strip("/")


# ---------------------------------------------------------------------------- tokens


def test_token_audiences() -> None:
    assert tenancy.token_audiences((), Rules(), "f") == ("vault",)
    assert tenancy.token_audiences(("vault",), Rules(), "f") == ("vault",)
    with pytest.raises(NotPermitted):
        tenancy.token_audiences(("https://kubernetes.default.svc",), Rules(), "f")
    assert tenancy.token_audiences(("x",), Rules(token_audiences=("x",)), "f") == ("x",)


@pytest.mark.parametrize(
    ("account", "ok"),
    [
        (None, False),
        ({"metadata": {}}, False),
        ({"metadata": {"annotations": {"secretsync.io/allow-store-tokens": "True"}}}, False),
        ({"metadata": {"annotations": None}}, False),
        ({"metadata": {"annotations": {"secretsync.io/allow-store-tokens": "true"}}}, True),
    ],
)
def test_token_subjects(account: Any, ok: bool) -> None:
    if ok:
        tenancy.check_token_subject(account, "ns", "sa")
    else:
        with pytest.raises(NotPermitted):
            tenancy.check_token_subject(account, "ns", "sa")


# ---------------------------------------------------------------------------- ownership


def _writer(kind: str, name: str, uid: str) -> dict[str, Any]:
    return {"apiVersion": "secretsync.io/v1alpha1", "kind": kind, "metadata": {"name": name, "uid": uid}}


def _secret(
    *, controller: dict[str, Any] | None = None, annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    refs = (
        [
            {
                "kind": controller["kind"],
                "name": controller["metadata"]["name"],
                "uid": controller["metadata"]["uid"],
                "controller": True,
            }
        ]
        if controller
        else []
    )
    return {
        "metadata": {
            "name": "s",
            "namespace": "ns",
            "ownerReferences": refs,
            "annotations": annotations or {},
        }
    }


def test_adopt_rules() -> None:
    me, other = _writer("ExternalSecret", "me", "1"), _writer("SealedSecret", "them", "2")
    ownership.check_adopt(_secret(controller=me), me)
    ownership.check_adopt(_secret(annotations={"secretsync.io/managed": "true"}), me)
    ownership.check_adopt(_secret(), me, own_mark=True)
    for secret in (
        _secret(),
        _secret(controller=other),
        _secret(controller=other, annotations={"secretsync.io/managed": "true"}),
        _secret(controller=other, annotations={"sealedsecrets.bitnami.com/managed": "true"}),
    ):
        with pytest.raises(OwnershipConflict):
            ownership.check_adopt(secret, me)
    with pytest.raises(OwnershipConflict):
        ownership.check_adopt(_secret(controller=other), me, own_mark=True)


def test_a_sealed_secrets_mark_is_a_controller_without_garbage_collection() -> None:
    """skip-set-owner-references: the Secret names its SealedSecret in an annotation instead of an
    ownerReference. That SealedSecret keeps writing it; nobody else adopts or merges into it, even
    with the managed annotation (the SealedSecret would write it back: a loop)."""
    sealed = {**_writer("SealedSecret", "s", "1"), "apiVersion": "bitnami.com/v1alpha1"}
    mark = ownership.sealed_owner_mark(sealed)
    assert mark == "bitnami.com/v1alpha1/1"
    marked = _secret(annotations={ownership.SEALED_OWNER_ANNOTATION: mark, "secretsync.io/managed": "true"})
    assert ownership.controls(marked, sealed)
    ownership.check_adopt(marked, sealed)
    for writer in (_writer("ExternalSecret", "es", "2"), _writer("SealedSecret", "s", "3")):
        assert not ownership.controls(marked, writer)
        with pytest.raises(OwnershipConflict, match=r"controlled by SealedSecret s .*remove it once"):
            ownership.check_adopt(marked, writer)
        with pytest.raises(OwnershipConflict, match="controlled by SealedSecret s"):
            ownership.check_merge(marked, writer, ["k"], [])
        with pytest.raises(OwnershipConflict):
            ownership.check_adopt(marked, writer, own_mark=True)
    # Only the SealedSecret path knows the marked one is gone; then the managed annotation decides.
    successor = _writer("SealedSecret", "s", "3")
    ownership.check_adopt(marked, successor, ignore_mark=True)
    unmanaged = _secret(annotations={ownership.SEALED_OWNER_ANNOTATION: mark})
    with pytest.raises(OwnershipConflict, match="not managed"):
        ownership.check_adopt(unmanaged, successor, ignore_mark=True)
    # A controller ownerReference outranks a mark: the marked SealedSecret does not control it then.
    taken = _secret(controller=_writer("ExternalSecret", "es", "2"))
    taken["metadata"]["annotations"] = {ownership.SEALED_OWNER_ANNOTATION: mark}
    assert not ownership.controls(taken, sealed)
    with pytest.raises(OwnershipConflict, match="controlled by ExternalSecret es"):
        ownership.check_adopt(taken, sealed)


@pytest.mark.parametrize(
    "value", ["1", "", "/1", "v1/1", "example.com/v1/1", "bitnami.com/v1alpha1/", 7, None]
)
def test_a_malformed_mark_is_no_mark(value: Any) -> None:
    secret = _secret(annotations={ownership.SEALED_OWNER_ANNOTATION: value})
    assert ownership.sealed_owner(secret) is None
    assert ownership.foreign_controller(secret, _writer("ExternalSecret", "es", "2")) is None


def test_merge_rules() -> None:
    me, other = _writer("ExternalSecret", "me", "1"), _writer("SealedSecret", "them", "2")
    with pytest.raises(OwnershipConflict, match="controlled by SealedSecret them"):
        ownership.check_merge(_secret(controller=other), me, ["k"], [])
    claimed = _secret(annotations={"secretsync.io/merged-keys": '{"b":["k"],"c":["x"]}'})
    with pytest.raises(OwnershipConflict, match="already merged by ExternalSecret b"):
        ownership.check_merge(claimed, me, ["k"], ["b", "c"])
    assert ownership.check_merge(claimed, me, ["k"], ["c"]) == {"c": ["x"], "me": ["k"]}  # b is gone
    assert ownership.check_merge(claimed, me, ["y"], ["b", "c"]) == {"b": ["k"], "c": ["x"], "me": ["y"]}
    broken = _secret(annotations={"secretsync.io/merged-keys": "not json"})
    assert ownership.check_merge(broken, me, ["k"], []) == {"me": ["k"]}
