"""Secret manifest <-> SealedSecret manifest: scopes, namespaces, templates, merge, re-encryption."""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from secretsync import crypto, sealing
from secretsync.errors import InputError, SpecError, UnsealError
from tests.test_crypto import VECTORS, independent_open, independent_seal, make_cert, vector_key

CANARY = "CANARY-s3cr3t-value-1f2e"


def secret(name: str = "db-creds", namespace: str | None = "team-a", **extra: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    metadata.update(extra.pop("metadata", {}))
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "Secret", "metadata": metadata}
    body.update(extra)
    if "data" not in body and "stringData" not in body:
        body["stringData"] = {"password": "hunter2"}
    return body


@pytest.fixture(scope="module")
def sealer() -> crypto.Sealer:
    return crypto.Sealer(vector_key(2048).public_key())


@pytest.fixture
def ring() -> crypto.KeyRing:
    return crypto.KeyRing([crypto.KeyEntry.from_key(vector_key(2048))])


# --------------------------------------------------------------------------- seal


def test_seal_produces_our_sealed_secret(sealer: crypto.Sealer) -> None:
    body = secret(
        metadata={
            "labels": {"app": "db"},
            "annotations": {
                "note": "kept",
                sealing.LAST_APPLIED: '{"stringData":{"password":"' + CANARY + '"}}',
            },
            "uid": "1234",
            "resourceVersion": "99",
            "creationTimestamp": "2024-01-01T00:00:00Z",
            "managedFields": [{"manager": "kubectl"}],
        },
        type="kubernetes.io/basic-auth",
        immutable=True,
        data={"username": base64.b64encode(b"admin").decode(), "password": "b2xk"},
        stringData={"password": "hunter2"},
    )
    out = sealing.seal_secret(body, sealer)
    assert out["apiVersion"] == "secretsync.io/v1alpha1" and out["kind"] == "SealedSecret"
    assert out["metadata"] == {
        "name": "db-creds",
        "namespace": "team-a",
        "annotations": {
            "secretsync.io/scope": "strict",
            "secretsync.io/key-fingerprint": sealer.fingerprint,
        },
    }
    assert out["spec"]["template"] == {
        "metadata": {"labels": {"app": "db"}, "annotations": {"note": "kept"}},
        "type": "kubernetes.io/basic-auth",
        "immutable": True,
    }
    assert CANARY not in repr(out)
    encrypted = out["spec"]["encryptedData"]
    assert list(encrypted) == ["username", "password"]
    key = vector_key(2048)
    assert independent_open(key, b"team-a/db-creds", encrypted["username"]) == b"admin"
    assert independent_open(key, b"team-a/db-creds", encrypted["password"]) == b"hunter2"  # stringData wins


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        ({}, "strict"),
        ({sealing.BITNAMI_NAMESPACE_WIDE: "true"}, "namespace-wide"),
        ({sealing.BITNAMI_CLUSTER_WIDE: "true"}, "cluster-wide"),
        ({sealing.BITNAMI_CLUSTER_WIDE: "true", sealing.BITNAMI_NAMESPACE_WIDE: "true"}, "cluster-wide"),
        ({sealing.BITNAMI_CLUSTER_WIDE: "True"}, "strict"),  # exactly "true" only
        ({sealing.BITNAMI_NAMESPACE_WIDE: "yes"}, "strict"),
        ({sealing.SCOPE_ANNOTATION: "namespace-wide"}, "namespace-wide"),
        ({sealing.SCOPE_ANNOTATION: "cluster-wide", sealing.BITNAMI_CLUSTER_WIDE: "true"}, "cluster-wide"),
    ],
)
def test_input_scope_annotations_are_honoured(
    sealer: crypto.Sealer, annotations: dict[str, str], expected: str
) -> None:
    out = sealing.seal_secret(secret(metadata={"annotations": annotations}), sealer)
    assert out["metadata"]["annotations"][sealing.SCOPE_ANNOTATION] == expected
    # Exactly kubeseal's annotation for the scope sealed with, on the object and on the template;
    # the input's own scope annotations are not copied as they are.
    kubeseal = sealing.bitnami_scope_annotations(expected)
    own = {k: v for k, v in out["metadata"]["annotations"].items() if k.startswith("sealedsecrets.")}
    assert own == kubeseal
    assert ((out["spec"].get("template") or {}).get("metadata") or {}).get("annotations", {}) == kubeseal


def test_explicit_scope_overrides_the_annotations(sealer: crypto.Sealer) -> None:
    body = secret(metadata={"annotations": {sealing.BITNAMI_CLUSTER_WIDE: "true"}})
    out = sealing.seal_secret(body, sealer, scope="strict")
    assert out["metadata"]["annotations"][sealing.SCOPE_ANNOTATION] == "strict"
    assert independent_open(vector_key(2048), b"team-a/db-creds", out["spec"]["encryptedData"]["password"])


def test_explicit_scope_rewrites_kubeseals_annotations_as_kubeseal_does(sealer: crypto.Sealer) -> None:
    """UpdateScopeAnnotations: both Bitnami annotations dropped, the one for --scope set."""
    body = secret(metadata={"annotations": {sealing.BITNAMI_CLUSTER_WIDE: "true", "keep": "me"}})
    out = sealing.seal_secret(body, sealer, scope="namespace-wide")
    assert out["metadata"]["annotations"] == {
        sealing.SCOPE_ANNOTATION: "namespace-wide",
        sealing.BITNAMI_NAMESPACE_WIDE: "true",
        sealing.FINGERPRINT_ANNOTATION: sealer.fingerprint,
    }
    assert out["spec"]["template"]["metadata"]["annotations"] == {
        "keep": "me",
        sealing.BITNAMI_NAMESPACE_WIDE: "true",
    }
    strict = sealing.seal_secret(body, sealer, scope="strict")
    assert strict["spec"]["template"]["metadata"]["annotations"] == {"keep": "me"}
    assert not any(k.startswith("sealedsecrets.") for k in strict["metadata"]["annotations"])


def test_plaintext_copies_of_kubectl_and_kubecfg_are_dropped(sealer: crypto.Sealer) -> None:
    copies = {sealing.LAST_APPLIED: CANARY, sealing.KUBECFG_LAST_APPLIED: CANARY}
    out = sealing.seal_secret(secret(metadata={"annotations": copies}), sealer)
    assert CANARY not in repr(out) and "template" not in out["spec"]


def test_name_override_and_namespace_fallback(sealer: crypto.Sealer) -> None:
    out = sealing.seal_secret(secret(namespace=None), sealer, name="other", fallback_namespace="default")
    assert (out["metadata"]["name"], out["metadata"]["namespace"]) == ("other", "default")
    key = vector_key(2048)
    assert independent_open(key, b"default/other", out["spec"]["encryptedData"]["password"]) == b"hunter2"
    wide = sealing.seal_secret(
        secret(namespace=None), sealer, scope="cluster-wide", fallback_namespace="default"
    )
    assert "namespace" not in wide["metadata"]  # kubeseal leaves a cluster-wide Secret's namespace empty


def test_contradicting_scope_annotations_are_refused(sealer: crypto.Sealer) -> None:
    body = secret(
        metadata={"annotations": {sealing.SCOPE_ANNOTATION: "strict", sealing.BITNAMI_CLUSTER_WIDE: "true"}}
    )
    with pytest.raises(InputError, match="contradicts"):
        sealing.seal_secret(body, sealer)
    with pytest.raises(InputError, match="expected one of"):
        sealing.seal_secret(secret(metadata={"annotations": {sealing.SCOPE_ANNOTATION: "wide"}}), sealer)


def test_namespace_rules(sealer: crypto.Sealer) -> None:
    assert (
        sealing.seal_secret(secret(namespace=None), sealer, namespace="ns1")["metadata"]["namespace"] == "ns1"
    )
    out = sealing.seal_secret(secret(namespace=None), sealer, fallback_namespace="ctx")
    assert out["metadata"]["namespace"] == "ctx"
    assert (
        sealing.seal_secret(secret(), sealer, fallback_namespace="ctx")["metadata"]["namespace"] == "team-a"
    )
    assert sealing.seal_secret(secret(), sealer, namespace="team-a")["metadata"]["namespace"] == "team-a"
    with pytest.raises(InputError, match="conflicts with --namespace"):
        sealing.seal_secret(secret(), sealer, namespace="team-b")
    scopes: tuple[crypto.Scope, ...] = ("strict", "namespace-wide")
    for scope in scopes:
        with pytest.raises(InputError, match=f"Secret db-creds: a {scope} seal needs a namespace"):
            sealing.seal_secret(secret(namespace=None), sealer, scope=scope)
    out = sealing.seal_secret(secret(namespace=None), sealer, scope="cluster-wide")
    assert "namespace" not in out["metadata"]
    assert independent_open(vector_key(2048), b"", out["spec"]["encryptedData"]["password"]) == b"hunter2"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}},
            "is v1 ConfigMap, not a v1 Secret",
        ),
        ({"apiVersion": "v2", "kind": "Secret", "metadata": {"name": "x"}}, "not a v1 Secret"),
        ({"kind": "Secret", "metadata": {"namespace": "a"}, "stringData": {"k": "v"}}, "no metadata.name"),
        (["a", "list"], "not a Kubernetes object"),
        (secret(data={"pw": CANARY + "!"}), "Secret team-a/db-creds: data.pw is not valid base64"),
        (secret(stringData={"port": 5432}), "stringData.port must be a string"),
        (secret(stringData={"bad key": "v"}), "is not a valid Secret key"),
        (secret(stringData="oops"), "stringData must be a mapping"),
        (secret(name="Not_A_Name"), "not a valid Kubernetes object name"),
        (secret(namespace="a/b"), "is not a valid Kubernetes namespace"),
        (secret(metadata={"labels": {"n": 1}}), "metadata.labels"),
        (secret(type=5), "type must be a string"),
        (secret(immutable="yes"), "immutable must be true or false"),
        (secret(stringData={}), "no data or stringData to seal"),
    ],
)
def test_bad_secrets_are_refused_naming_the_object_never_the_value(
    sealer: crypto.Sealer, body: Any, problem: str
) -> None:
    with pytest.raises(InputError) as caught:
        sealing.seal_secret(body, sealer, where="stdin document 3")
    message = str(caught.value)
    assert problem in message
    assert CANARY not in message and "\n" not in message


def test_unnamed_objects_are_described_by_position(sealer: crypto.Sealer) -> None:
    with pytest.raises(InputError, match=r"^stdin document 3: is v1 ConfigMap"):
        sealing.seal_secret({"apiVersion": "v1", "kind": "ConfigMap"}, sealer, where="stdin document 3")


def test_empty_data_is_allowed_on_request(sealer: crypto.Sealer) -> None:
    out = sealing.seal_secret(secret(stringData={}), sealer, allow_empty_data=True)
    assert out["spec"]["encryptedData"] == {}


def test_raw_values(sealer: crypto.Sealer) -> None:
    key = vector_key(2048)
    assert independent_open(key, b"ns/n", sealing.seal_value(b"v", sealer, "strict", "ns", "n")) == b"v"
    assert (
        independent_open(key, b"ns", sealing.seal_value(b"v", sealer, "namespace-wide", "ns", None)) == b"v"
    )
    assert independent_open(key, b"", sealing.seal_value(b"v", sealer, "cluster-wide", None, None)) == b"v"
    with pytest.raises(InputError):
        sealing.seal_value(b"v", sealer, "strict", "ns", "Bad/Name")


# --------------------------------------------------------------------------- unseal


@pytest.mark.parametrize("scope", crypto.SCOPES)
def test_unseal_round_trip_and_build_secret(sealer: crypto.Sealer, ring: crypto.KeyRing, scope: Any) -> None:
    body = secret(
        metadata={"labels": {"app": "db"}, "annotations": {"a": "b"}},
        type="Opaque",
        immutable=False,
        stringData={"password": "hunter2", "empty": ""},
        data={"bin": base64.b64encode(bytes(range(256))).decode()},
    )
    sealed = sealing.seal_secret(body, sealer, scope=scope)
    result = sealing.unseal(sealed, ring)
    assert result.ok and result.identity.scope == scope
    assert result.values == {"bin": bytes(range(256)), "password": b"hunter2", "empty": b""}
    assert result.fingerprints == (sealer.fingerprint,)
    out = sealing.build_secret(sealed, result)
    assert out["metadata"] == {  # kubeseal's scope annotation too, as Bitnami's controller produces it
        "name": "db-creds",
        "namespace": "team-a",
        "labels": {"app": "db"},
        "annotations": {"a": "b", **sealing.bitnami_scope_annotations(scope)},
    }
    assert out["type"] == "Opaque" and out["immutable"] is False
    assert base64.b64decode(out["data"]["password"]) == b"hunter2"


def _moved(sealed: dict[str, Any], name: str | None = None, namespace: str | None = None) -> dict[str, Any]:
    moved = copy.deepcopy(sealed)
    if name:
        moved["metadata"]["name"] = name
    if namespace:
        moved["metadata"]["namespace"] = namespace
    return moved


@pytest.mark.parametrize(
    ("scope", "rename_ok", "move_ok"),
    [("strict", False, False), ("namespace-wide", True, False), ("cluster-wide", True, True)],
)
def test_scope_decides_which_moves_keep_values_openable(
    sealer: crypto.Sealer, ring: crypto.KeyRing, scope: Any, rename_ok: bool, move_ok: bool
) -> None:
    sealed = sealing.seal_secret(secret(), sealer, scope=scope)
    assert sealing.unseal(_moved(sealed, name="renamed"), ring).ok is rename_ok
    assert sealing.unseal(_moved(sealed, namespace="elsewhere"), ring).ok is move_ok


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.from_regex(r"[a-z0-9]([-a-z0-9]{0,12}[a-z0-9])?", fullmatch=True),
    namespace=st.from_regex(r"[a-z0-9]([-a-z0-9]{0,12}[a-z0-9])?", fullmatch=True),
    value=st.binary(max_size=64),
)
def test_moving_a_strict_sealed_secret_anywhere_else_fails(name: str, namespace: str, value: bytes) -> None:
    assume((name, namespace) != ("db-creds", "team-a"))
    sealer = crypto.Sealer(vector_key(2048).public_key())
    ring = crypto.KeyRing([crypto.KeyEntry.from_key(vector_key(2048))])
    body = secret(data={"v": base64.b64encode(value).decode()})
    sealed = sealing.seal_secret(body, sealer, allow_empty_data=True)
    assert sealing.unseal(sealed, ring).values == {"v": value}
    result = sealing.unseal(_moved(sealed, name=name, namespace=namespace), ring)
    assert not result.ok and set(result.failures) == {"v"}


def test_scope_comes_from_the_objects_own_metadata_never_the_template(
    sealer: crypto.Sealer, ring: crypto.KeyRing
) -> None:
    """CVE-2026-22728: a cluster-wide value placed in a strict object must not open there."""
    cluster_value = sealing.seal_value(b"v", sealer, "cluster-wide", None, None)
    sneaky: dict[str, Any] = {
        "apiVersion": sealing.BITNAMI_API_VERSION,
        "kind": "SealedSecret",
        "metadata": {"name": "x", "namespace": "victim"},
        "spec": {
            "encryptedData": {"k": cluster_value},
            "template": {"metadata": {"annotations": {sealing.BITNAMI_CLUSTER_WIDE: "true"}}},
        },
    }
    result = sealing.unseal(sneaky, ring)
    assert result.identity.scope == "strict" and not result.ok
    with pytest.raises(UnsealError):
        sealing.reencrypt(sneaky, ring, sealer)
    sneaky["metadata"]["annotations"] = {sealing.BITNAMI_CLUSTER_WIDE: "true"}
    assert sealing.unseal(sneaky, ring).values == {"k": b"v"}


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        ({}, "strict"),
        ({sealing.BITNAMI_NAMESPACE_WIDE: "true"}, "namespace-wide"),
        ({sealing.BITNAMI_CLUSTER_WIDE: "true", sealing.BITNAMI_NAMESPACE_WIDE: "true"}, "cluster-wide"),
        ({sealing.BITNAMI_CLUSTER_WIDE: "TRUE"}, "strict"),
        ({sealing.SCOPE_ANNOTATION: "namespace-wide"}, "namespace-wide"),
    ],
)
def test_sealed_identity_scope(annotations: dict[str, str], expected: str) -> None:
    body = {
        "apiVersion": sealing.API_VERSION,
        "kind": "SealedSecret",
        "metadata": {"name": "x", "namespace": "ns", "annotations": annotations},
    }
    assert sealing.sealed_identity(body).scope == expected


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}},
            "is v1 Secret, not a SealedSecret",
        ),
        ({"apiVersion": sealing.API_VERSION, "kind": "SealedSecret", "metadata": {}}, "metadata.name"),
        (
            {"apiVersion": sealing.API_VERSION, "kind": "SealedSecret", "metadata": {"name": "x"}},
            "needs a namespace",
        ),
        (
            {
                "apiVersion": sealing.API_VERSION,
                "kind": "SealedSecret",
                "metadata": {
                    "name": "x",
                    "namespace": "n",
                    "annotations": {
                        sealing.SCOPE_ANNOTATION: "strict",
                        sealing.BITNAMI_NAMESPACE_WIDE: "true",
                    },
                },
            },
            "contradicts",
        ),
        (
            {
                "apiVersion": sealing.API_VERSION,
                "kind": "SealedSecret",
                "metadata": {"name": "x", "namespace": "n"},
                "spec": {"data": "x"},
            },
            "pre-0.7",
        ),
        (
            {
                "apiVersion": sealing.API_VERSION,
                "kind": "SealedSecret",
                "metadata": {"name": "x", "namespace": "n"},
                "spec": {"encryptedData": []},
            },
            "spec.encryptedData: must be a mapping",
        ),
    ],
)
def test_malformed_sealed_secrets_are_spec_errors(
    ring: crypto.KeyRing, body: dict[str, Any], problem: str
) -> None:
    with pytest.raises(SpecError, match=problem):
        sealing.unseal(body, ring)


def test_a_missing_namespace_can_be_supplied(sealer: crypto.Sealer, ring: crypto.KeyRing) -> None:
    sealed = sealing.seal_secret(secret(), sealer)
    del sealed["metadata"]["namespace"]
    assert sealing.unseal(sealed, ring, namespace="team-a").ok
    assert not sealing.unseal(sealed, ring, namespace="team-b").ok


def test_failures_name_every_failing_key_and_never_a_value(
    sealer: crypto.Sealer, ring: crypto.KeyRing
) -> None:
    sealed = sealing.seal_secret(secret(stringData={"a": CANARY, "b": CANARY, "c": CANARY}), sealer)
    enc = sealed["spec"]["encryptedData"]
    enc["b"] = enc["b"][:-8] + ("AAAAAAAA" if not enc["b"].endswith("AAAAAAAA") else "BBBBBBBB")
    enc["c"] = "%%%"
    enc["d"] = sealing.seal_value(b"x", sealer, "cluster-wide", None, None)
    result = sealing.unseal(sealed, ring)
    assert result.values == {"a": CANARY.encode()}
    assert set(result.failures) == {"b", "c", "d"}
    message = result.message
    assert message.startswith("SealedSecret team-a/db-creds (strict scope): cannot unseal keys ")
    for key in ("b:", "c:", "d:"):
        assert key in message
    assert CANARY not in message and enc["b"][:20] not in message
    with pytest.raises(UnsealError, match="cannot unseal keys"):
        result.raise_for_failures()
    with pytest.raises(UnsealError):
        sealing.build_secret(sealed, result)


def test_the_hinted_key_is_tried_first_then_the_key_that_worked(sealer: crypto.Sealer) -> None:
    """A healthy object costs one RSA operation per value even when its key is not the newest."""
    now = datetime.now(UTC)
    entries = [
        crypto.KeyEntry.from_key(
            key, crypto.load_certificate(make_cert(key, not_before=now - timedelta(days=d)))
        )
        for key, d in ((vector_key(2048), 90), *((crypto.generate_private_key(2048), d) for d in (1, 2, 3)))
    ]
    ring = crypto.KeyRing(entries)
    assert ring.newest is not entries[0]
    sealed = sealing.seal_secret(secret(stringData={f"k{i}": "v" for i in range(5)}), sealer)
    assert sealing.unseal(sealed, ring).ok
    assert ring.decrypt_attempts == 5  # the fingerprint annotation pointed at the old key

    del sealed["metadata"]["annotations"][sealing.FINGERPRINT_ANNOTATION]
    before = ring.decrypt_attempts
    assert sealing.unseal(sealed, ring).ok
    assert ring.decrypt_attempts - before == 4 + 4  # 4 trials for the first value, then 1 each


def test_template_data_overrides_decrypted_keys(sealer: crypto.Sealer, ring: crypto.KeyRing) -> None:
    sealed = sealing.seal_secret(secret(stringData={"password": "p", "user": "u"}), sealer)
    sealed["spec"]["template"] = {"data": {"user": "admin", "dsn": "{{ .user }}"}}
    result = sealing.unseal(sealed, ring)
    assert result.template_data == {"user": "admin", "dsn": "{{ .user }}"}
    out = sealing.build_secret(sealed, result, rendered_template_data={"user": b"admin", "dsn": b"rendered"})
    decoded = {k: base64.b64decode(v) for k, v in out["data"].items()}
    assert decoded == {"password": b"p", "user": b"admin", "dsn": b"rendered"}
    assert out["type"] == "Opaque"


def test_bitnami_manifests_unseal_to_the_expected_secrets() -> None:
    docs = list(yaml.safe_load_all((VECTORS / "bitnami-sealedsecrets-4096.yaml").read_text()))
    ring = crypto.KeyRing([crypto.KeyEntry.from_key(vector_key(4096))])
    scopes = []
    for sealed, expected in zip(docs[0::2], docs[1::2], strict=True):
        result = sealing.unseal(sealed, ring)
        assert result.ok, result.message
        scopes.append(result.identity.scope)
        assert sealing.build_secret(sealed, result)["data"] == expected["data"]
    assert scopes == ["strict", "namespace-wide", "cluster-wide"]


# --------------------------------------------------------------------------- merge and re-encrypt


def test_merge_into_keeps_other_keys_and_uses_the_files_identity(
    sealer: crypto.Sealer, ring: crypto.KeyRing
) -> None:
    base = sealing.seal_secret(
        secret(stringData={"keep": "1", "replace": "old"}), sealer, scope="namespace-wide"
    )
    base["metadata"]["labels"] = {"extra": "field"}
    original = copy.deepcopy(base)
    incoming = secret(name="ignored", namespace="ignored-too", stringData={"replace": "new", "add": "2"})
    merged = sealing.merge_into(base, [("stdin document 1", incoming)], sealer)
    assert base == original  # the input is not mutated
    assert list(merged["spec"]["encryptedData"]) == ["keep", "replace", "add"]
    assert merged["spec"]["encryptedData"]["keep"] == base["spec"]["encryptedData"]["keep"]
    assert merged["metadata"]["labels"] == {"extra": "field"}
    assert sealing.unseal(merged, ring).values == {"keep": b"1", "replace": b"new", "add": b"2"}
    with pytest.raises(InputError, match="no data"):
        sealing.merge_into(base, [], sealer)
    with pytest.raises(InputError, match="not a v1 Secret"):
        sealing.merge_into(base, [("doc", {"kind": "ConfigMap"})], sealer)


def test_merge_into_a_bitnami_object_with_theirs_inside(ring: crypto.KeyRing) -> None:
    key = vector_key(2048)
    theirs = {
        "apiVersion": sealing.BITNAMI_API_VERSION,
        "kind": "SealedSecret",
        "metadata": {
            "name": "app",
            "namespace": "prod",
            "annotations": {sealing.BITNAMI_CLUSTER_WIDE: "true"},
        },
        "spec": {"encryptedData": {"old": independent_seal(key.public_key(), b"", b"o")}},
    }
    merged = sealing.merge_into(
        theirs, [("d", secret(stringData={"new": "n"}))], crypto.Sealer(key.public_key())
    )
    assert merged["apiVersion"] == sealing.BITNAMI_API_VERSION
    assert independent_open(key, b"", merged["spec"]["encryptedData"]["new"]) == b"n"
    assert sealing.unseal(merged, ring).values == {"old": b"o", "new": b"n"}


def test_merge_into_makes_the_template_agree_with_the_objects_own_scope(
    sealer: crypto.Sealer, ring: crypto.KeyRing
) -> None:
    """Merging never widens: the template's Bitnami annotations are set from the object's own scope."""
    base = sealing.seal_secret(secret(stringData={"a": "1"}), sealer)  # strict
    base["spec"]["template"] = {"metadata": {"annotations": {sealing.BITNAMI_CLUSTER_WIDE: "true", "x": "y"}}}
    incoming = secret(metadata={"labels": {"l": "1"}, "annotations": {sealing.BITNAMI_CLUSTER_WIDE: "true"}})
    merged = sealing.merge_into(base, [("d", incoming)], sealer)
    assert merged["spec"]["template"]["metadata"] == {"annotations": {"x": "y"}, "labels": {"l": "1"}}
    assert not any(k.startswith("sealedsecrets.") for k in merged["metadata"]["annotations"])
    assert sealing.unseal(merged, ring).values == {"a": b"1", "password": b"hunter2"}
    wide = sealing.seal_secret(secret(stringData={"a": "1"}), sealer, scope="namespace-wide")
    del wide["metadata"]["annotations"][sealing.BITNAMI_NAMESPACE_WIDE]  # sealed by an older secretsync
    del wide["spec"]["template"]
    merged = sealing.merge_into(wide, [("d", secret(stringData={"b": "2"}))], sealer)
    assert merged["metadata"]["annotations"][sealing.BITNAMI_NAMESPACE_WIDE] == "true"
    assert merged["spec"]["template"] == {
        "metadata": {"annotations": {sealing.BITNAMI_NAMESPACE_WIDE: "true"}}
    }
    assert sealing.unseal(merged, ring).values == {"a": b"1", "b": b"2"}


def test_reencrypt_moves_values_to_the_new_key_keeping_everything_else(ring: crypto.KeyRing) -> None:
    old_sealer = crypto.Sealer(vector_key(2048).public_key())
    sealed = sealing.seal_secret(secret(metadata={"labels": {"a": "b"}}, stringData={"x": "1"}), old_sealer)
    new_key = vector_key(4096)
    ring.add(crypto.KeyEntry.from_key(new_key))
    new_sealer = crypto.Sealer(new_key.public_key())
    out = sealing.reencrypt(sealed, ring, new_sealer)
    assert out["metadata"]["annotations"][sealing.FINGERPRINT_ANNOTATION] == new_sealer.fingerprint
    assert out["spec"]["template"] == sealed["spec"]["template"]
    assert out["spec"]["encryptedData"]["x"].startswith("Ag")
    assert independent_open(new_key, b"team-a/db-creds", out["spec"]["encryptedData"]["x"]) == b"1"


# --------------------------------------------------------------------------- key Secrets


def _key_secret(key_pem: bytes, cert_pem: bytes = b"") -> dict[str, Any]:
    data = {"tls.key": base64.b64encode(key_pem).decode()}
    if cert_pem:
        data["tls.crt"] = base64.b64encode(cert_pem).decode()
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls", "data": data}


def test_key_entries_from_key_secrets() -> None:
    key_pem = (VECTORS / "test-key-4096.pem").read_bytes()
    cert_pem = (VECTORS / "test-cert-4096.pem").read_bytes()
    entry = sealing.key_entry_from_secret(_key_secret(key_pem, cert_pem))
    assert entry.certificate is not None and entry.not_before == entry.certificate.not_before
    assert entry.fingerprint == crypto.public_key_fingerprint(vector_key(4096).public_key())
    assert sealing.key_entry_from_secret(_key_secret(key_pem)).certificate is None
    wrapped = _key_secret(key_pem)
    text = wrapped["data"]["tls.key"]
    wrapped["data"]["tls.key"] = "\n".join(text[i : i + 76] for i in range(0, len(text), 76))
    assert sealing.key_entry_from_secret(wrapped, validate=True).fingerprint == entry.fingerprint


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"data": {}}, "has no tls.key"),
        ({"data": {"tls.key": "%%%"}}, "not valid base64"),
        ({"data": {"tls.key": 5}}, "not valid base64"),
        ({"data": "x"}, "data must be a mapping"),
        (_key_secret(b"garbage"), "no PEM private key"),
        (
            _key_secret(
                (VECTORS / "test-key-2048.pem").read_bytes(), (VECTORS / "test-cert-4096.pem").read_bytes()
            ),
            "does not belong",
        ),
    ],
)
def test_bad_key_secrets(body: dict[str, Any], problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        sealing.key_entry_from_secret(body)
