"""secretsync/sealing.py: what mutation testing found untested (docs/testing.md, "Mutation testing").

The CLI, the HTTP API and the operator's status show these messages as they are, so each names its
object and field word for word here; the rest pins what each function returns for the edge cases
(name and key length limits, template metadata merging, the answer the HTTP API may echo).
"""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from secretsync import crypto, sealing
from secretsync.errors import InputError, SpecError
from tests.test_crypto import make_cert, vector_key

NS_WIDE = sealing.BITNAMI_NAMESPACE_WIDE
CLUSTER_WIDE = sealing.BITNAMI_CLUSTER_WIDE


def sealer() -> crypto.Sealer:
    return crypto.Sealer(vector_key(2048).public_key())


def ring() -> crypto.KeyRing:
    return crypto.KeyRing([crypto.KeyEntry.from_key(vector_key(2048))])


def sealed_object(**metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": sealing.API_VERSION,
        "kind": "SealedSecret",
        "metadata": {"name": "s", "namespace": "ns", **metadata},
        "spec": {"encryptedData": {}},
    }


def secret(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "ns"}, **fields}


def error(exc_type: type[Exception], call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(exc_type) as caught:
        call(*args, **kwargs)
    return str(caught.value)


# --------------------------------------------------------------------------- identity


@pytest.mark.parametrize(
    ("sealed", "message"),
    [
        ("text", "SealedSecret: not a Kubernetes object"),
        ({"kind": "Secret", "apiVersion": "v1"}, "SealedSecret: is v1 Secret, not a SealedSecret"),
        (
            {"kind": "SealedSecret", "apiVersion": "v1"},
            "SealedSecret: is v1 SealedSecret, not a SealedSecret",
        ),
        ({"kind": 7, "apiVersion": "a b"}, "SealedSecret: is ? ?, not a SealedSecret"),
        ({**sealed_object(), "metadata": "x"}, "SealedSecret: metadata: must be a mapping"),
        (
            {**sealed_object(), "metadata": {"namespace": "ns"}},
            "SealedSecret: metadata.name: a SealedSecret needs a name",
        ),
        (
            {**sealed_object(), "metadata": {"name": 5}},
            "SealedSecret: metadata.name: a SealedSecret needs a name",
        ),
        (sealed_object(namespace=3), "SealedSecret: metadata.namespace: must be a string"),
        (sealed_object(name="Bad"), "SealedSecret: metadata.name is not a valid Kubernetes object name"),
        (sealed_object(namespace="Bad"), "SealedSecret: the namespace is not a valid Kubernetes namespace"),
        (sealed_object(annotations="x"), "SealedSecret ns/s: metadata.annotations: must be a mapping"),
        (
            sealed_object(annotations={sealing.SCOPE_ANNOTATION: "global"}),
            "SealedSecret ns/s: annotation secretsync.io/scope has an unknown value, "
            "expected one of strict, namespace-wide, cluster-wide",
        ),
        (
            sealed_object(annotations={sealing.SCOPE_ANNOTATION: "strict", NS_WIDE: "true"}),
            "SealedSecret ns/s: annotation secretsync.io/scope=strict contradicts "
            "the Bitnami namespace-wide annotation",
        ),
    ],
)
def test_sealed_identity_errors_name_the_object_and_field(sealed: Any, message: str) -> None:
    assert error(SpecError, sealing.sealed_identity, sealed) == message


def test_sealed_identity_without_a_namespace() -> None:
    body = sealed_object(annotations={CLUSTER_WIDE: "true"})
    del body["metadata"]["namespace"]
    identity = sealing.sealed_identity(body, where="file x")
    assert (identity.ref, identity.namespace) == ("s", None)
    message = error(SpecError, sealing.sealed_identity, {**body, "metadata": {"name": "s", "annotations": 1}})
    assert message == "SealedSecret s: metadata.annotations: must be a mapping"
    assert error(SpecError, sealing.sealed_identity, "x", where="file x") == "file x: not a Kubernetes object"
    hinted = sealing.sealed_identity(sealed_object(annotations={sealing.FINGERPRINT_ANNOTATION: 7}))
    assert hinted.fingerprint_hint is None
    assert sealing.scope_from_annotations({sealing.SCOPE_ANNOTATION: "namespace-wide"}) == "namespace-wide"


def test_names_at_their_length_limits() -> None:
    longest = "a" * 253
    assert sealing.sealed_identity(sealed_object(name=longest)).name == longest
    assert error(SpecError, sealing.sealed_identity, sealed_object(name="a" * 254)).endswith(
        "metadata.name is not a valid Kubernetes object name"
    )
    assert sealing.sealed_identity(sealed_object(namespace="n" * 63)).namespace == "n" * 63
    assert error(SpecError, sealing.sealed_identity, sealed_object(namespace="n" * 64)).endswith(
        "the namespace is not a valid Kubernetes namespace"
    )


# --------------------------------------------------------------------------- sealing a Secret


def test_secret_keys_at_their_length_limit_and_in_messages() -> None:
    assert sealing.secret_values(secret(stringData={"k" * 253: "v"}), "w") == {"k" * 253: b"v"}
    message = error(InputError, sealing.secret_values, secret(stringData={"k" * 254: "v"}), "w")
    assert message == f"w: stringData key {'k' * 80!r} is not a valid Secret key"
    assert (
        error(InputError, sealing.secret_values, secret(data={5: "v"}), "w")
        == "w: data key '5' is not a valid Secret key"
    )


@pytest.mark.parametrize(
    ("manifest", "kwargs", "message"),
    [
        (
            secret(stringData={"a": "b"}, metadata={"name": "s"}),
            {},
            "Secret s: a strict seal needs a namespace (set metadata.namespace or pass --namespace)",
        ),
        (
            secret(stringData={"a": "b"}, metadata={"name": "Bad", "namespace": "ns"}),
            {},
            "Secret ns/Bad: metadata.name is not a valid Kubernetes object name",
        ),
        (
            secret(stringData={"a": "b"}, metadata={"name": "s", "namespace": "ns", "annotations": {"a": 1}}),
            {},
            "Secret ns/s: metadata.annotations: the value of 'a' must be a string (quote it in YAML)",
        ),
        (
            secret(stringData={"a": "b"}, metadata={"name": "s", "namespace": "ns", "labels": "x"}),
            {},
            "Secret ns/s: metadata.labels must be a mapping",
        ),
        (secret(stringData={"a": "b"}, type=5), {}, "Secret ns/s: type must be a string"),
        (secret(metadata="x"), {}, "input: metadata must be a mapping"),
        (secret(metadata={"namespace": "ns"}), {}, "input: the Secret has no metadata.name"),
        (secret(metadata={"name": "", "namespace": "ns"}), {}, "input: the Secret has no metadata.name"),
        (secret(metadata={"name": "s", "namespace": 4}), {}, "Secret s: metadata.namespace must be a string"),
        ({"kind": "ConfigMap"}, {}, "input: is ? ConfigMap, not a v1 Secret"),
        (
            secret(metadata={"name": "s", "namespace": "ns"}),
            {"where": "doc 2"},
            "Secret ns/s: no data or stringData to seal (pass --allow-empty-data if that is intended)",
        ),
        ({**secret(), "metadata": {"name": 5}}, {"where": "doc 2"}, "doc 2: the Secret has no metadata.name"),
    ],
)
def test_seal_secret_errors_name_the_secret_and_field(manifest: Any, kwargs: Any, message: str) -> None:
    assert error(InputError, sealing.seal_secret, manifest, sealer(), **kwargs) == message


def test_the_namespace_hint_only_when_there_is_no_namespace() -> None:
    bad_name = secret(stringData={"a": "b"}, metadata={"name": "s/x", "namespace": "ns"})
    assert error(InputError, sealing.seal_secret, bad_name, sealer()) == (
        "Secret ns/s/x: metadata.name is not a valid Kubernetes object name"
    )


def test_seal_value_checks_names_only_for_a_strict_seal() -> None:
    s = sealer()
    assert error(InputError, sealing.seal_value, b"v", s, "strict", "ns", "Bad") == (
        "metadata.name is not a valid Kubernetes object name"
    )
    assert error(InputError, sealing.seal_value, b"v", s, "strict", "Bad", "name") == (
        "the namespace is not a valid Kubernetes namespace"
    )
    assert (
        error(InputError, sealing.seal_value, b"v", s, "strict", "ns", None) == "a strict seal needs a name"
    )
    wide = sealing.seal_value(b"v", s, "namespace-wide", "ns", "Any_Name")
    assert crypto.decrypt(vector_key(2048), b"ns", wide) == b"v"


# --------------------------------------------------------------------------- merge


def test_merge_into_errors_name_the_input() -> None:
    s = sealer()
    base = sealed_object()
    cases: list[tuple[Any, str, type[Exception]]] = [
        ([("doc 1", {"kind": "Secret", "metadata": "x"})], "doc 1: metadata must be a mapping", InputError),
        (
            [("doc 1", secret(metadata={"name": "in"}, data={"a": "!"}))],
            "Secret in: data.a is not valid base64",
            InputError,
        ),
        (
            [("doc 1", secret(metadata={"name": "in", "labels": 1}))],
            "Secret in: metadata.labels must be a mapping",
            InputError,
        ),
        (
            [("doc 1", secret(metadata={"name": "in", "annotations": {"a": 1}}, stringData={"a": "b"}))],
            "Secret in: metadata.annotations: the value of 'a' must be a string (quote it in YAML)",
            InputError,
        ),
        ([("doc 1", secret(metadata={}, data={"a": "!"}))], "doc 1: data.a is not valid base64", InputError),
        ([], "no data or stringData to merge (pass --allow-empty-data if that is intended)", InputError),
    ]
    for secrets, message, exc_type in cases:
        assert error(exc_type, sealing.merge_into, base, secrets, s) == message
    assert error(SpecError, sealing.merge_into, "x", [], s) == "SealedSecret: not a Kubernetes object"
    assert (
        error(SpecError, sealing.merge_into, "x", [], s, where="file f") == "file f: not a Kubernetes object"
    )
    one = [("doc", secret(metadata={"name": "in", "labels": {"l": "v"}}, stringData={"a": "b"}))]
    for spec, message in (
        ("x", "SealedSecret ns/s: spec: must be a mapping"),
        ({"encryptedData": "x"}, "SealedSecret ns/s: spec.encryptedData: must be a mapping"),
        ({"template": "x"}, "SealedSecret ns/s: spec.template: must be a mapping"),
        ({"template": {"metadata": "x"}}, "SealedSecret ns/s: spec.template.metadata: must be a mapping"),
        (
            {"template": {"metadata": {"labels": "x"}}},
            "SealedSecret ns/s: spec.template.metadata.labels: must be a mapping",
        ),
        (
            {"template": {"metadata": {"annotations": "x"}}},
            "SealedSecret ns/s: spec.template.metadata.annotations: must be a mapping",
        ),
    ):
        assert error(SpecError, sealing.merge_into, {**base, "spec": spec}, one, s) == message


def test_merge_into_fills_in_what_the_object_lacks() -> None:
    s = sealer()
    base = sealed_object(annotations=None)
    del base["spec"]
    incoming = secret(
        metadata={
            "name": "other",
            "annotations": {"a": "1", sealing.LAST_APPLIED: "{}"},
            "labels": {"l": "v"},
        },
        stringData={"k": "v"},
    )
    merged = sealing.merge_into(base, [("doc", incoming)], s)
    assert set(merged["spec"]["encryptedData"]) == {"k"}
    assert merged["spec"]["template"] == {"metadata": {"labels": {"l": "v"}, "annotations": {"a": "1"}}}
    assert merged["metadata"]["annotations"] == {sealing.FINGERPRINT_ANNOTATION: s.fingerprint}
    assert base == {k: v for k, v in sealed_object(annotations=None).items() if k != "spec"}  # not changed


def test_merge_into_sets_the_templates_scope_annotations_as_kubeseal_does() -> None:
    s = sealer()
    stale = sealed_object()
    stale["spec"]["template"] = {
        "metadata": {"annotations": {NS_WIDE: "true", CLUSTER_WIDE: "true"}},
        "type": "t",
    }
    merged = sealing.merge_into(stale, [("doc", secret(stringData={"k": "v"}))], s)
    # strict: both Bitnami annotations go, and with them the empty annotations and metadata
    assert merged["spec"]["template"] == {"type": "t"}
    only_stale = sealed_object()
    only_stale["spec"]["template"] = {"metadata": {"annotations": {NS_WIDE: "true"}}}
    merged = sealing.merge_into(only_stale, [], s, allow_empty_data=True)
    assert "template" not in merged["spec"]
    wide = sealed_object(annotations={NS_WIDE: "true"})
    wide["spec"]["template"] = {
        "metadata": {"annotations": {CLUSTER_WIDE: "true", "keep": "1"}, "labels": {"a": "b"}}
    }
    merged = sealing.merge_into(wide, [], s, allow_empty_data=True)
    assert merged["spec"]["template"]["metadata"] == {
        "annotations": {"keep": "1", NS_WIDE: "true"},
        "labels": {"a": "b"},
    }
    assert merged["metadata"]["annotations"][NS_WIDE] == "true"


# --------------------------------------------------------------------------- keys


def _tls_secret(key_pem: bytes, cert_pem: bytes | None = None) -> dict[str, Any]:
    data = {"tls.key": base64.b64encode(key_pem).decode()}
    if cert_pem is not None:
        data["tls.crt"] = base64.b64encode(cert_pem).decode()
    return {"data": data}


def test_key_secrets_are_checked_in_words_and_validated_only_when_asked() -> None:
    assert error(InputError, sealing.key_entry_from_secret, {"data": "x"}) == "data must be a mapping"
    assert error(InputError, sealing.key_entry_from_secret, {"data": {"tls.key": "!"}}) == (
        "tls.key or tls.crt is not valid base64"
    )
    assert error(InputError, sealing.key_entry_from_secret, {"data": {}}) == "has no tls.key"
    numbers = vector_key(2048).private_numbers()
    inconsistent = crypto.dump_private_key(
        crypto.rsa.RSAPrivateNumbers(
            numbers.p,
            numbers.q,
            numbers.d + 2,
            numbers.dmp1,
            numbers.dmq1,
            numbers.iqmp,
            numbers.public_numbers,
        ).private_key(unsafe_skip_rsa_key_validation=True)
    )
    assert sealing.key_entry_from_secret(_tls_secret(inconsistent)).certificate is None  # not validated
    assert error(InputError, sealing.key_entry_from_secret, _tls_secret(inconsistent), validate=True) == (
        "its private key cannot be read"
    )
    entry = sealing.key_entry_from_secret(
        _tls_secret(crypto.dump_private_key(vector_key(2048)), make_cert(vector_key(2048)))
    )
    assert entry.certificate is not None


# --------------------------------------------------------------------------- unseal and build


def _sealed_with(values: dict[str, Any], **spec: Any) -> dict[str, Any]:
    body = sealed_object()
    body["spec"] = {"encryptedData": values, **spec}
    return body


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"data": "old"}, "SealedSecret ns/s: spec.data: the pre-0.7 Bitnami format is not supported"),
        ({"encryptedData": "x"}, "SealedSecret ns/s: spec.encryptedData: must be a mapping"),
        ({"template": "x"}, "SealedSecret ns/s: spec.template: must be a mapping"),
        ({"template": {"data": "x"}}, "SealedSecret ns/s: spec.template.data: must be a mapping"),
        ({"template": {"data": {"k": 1}}}, "SealedSecret ns/s: spec.template.data.k: must be a string"),
    ],
)
def test_unseal_structure_errors_name_the_field(spec: Any, message: str) -> None:
    body = sealed_object()
    body["spec"] = spec
    assert error(SpecError, sealing.unseal, body, ring()) == message


def test_unseal_spec_errors() -> None:
    body = sealed_object()
    body["spec"] = "x"
    assert error(SpecError, sealing.unseal, body, ring()) == "SealedSecret ns/s: spec: must be a mapping"
    assert error(SpecError, sealing.unseal, "x", ring(), where="doc 3") == "doc 3: not a Kubernetes object"
    # data beside encryptedData is not the old format
    value = crypto.encrypt(vector_key(2048).public_key(), b"ns/s", b"v")
    assert sealing.unseal(_sealed_with({"k": value}, data="x"), ring()).values == {"k": b"v"}


def test_a_value_that_is_not_a_string_fails_alone() -> None:
    value = crypto.encrypt(vector_key(2048).public_key(), b"ns/s", b"v")
    result = sealing.unseal(_sealed_with({"bad": 5, "good": value}), ring())
    assert result.values == {"good": b"v"}
    assert result.failures == {"bad": "not a string"}


def test_build_secret_output_and_errors() -> None:
    value = crypto.encrypt(vector_key(2048).public_key(), b"ns/s", b"v")
    body = _sealed_with({"k": value}, template={"type": "kubernetes.io/tls", "immutable": False})
    result = sealing.unseal(body, ring())
    assert sealing.build_secret(body, result) == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "ns"},
        "immutable": False,
        "type": "kubernetes.io/tls",
        "data": {"k": "dg=="},
    }
    for template, message in (
        ({"immutable": "yes"}, "SealedSecret ns/s: spec.template.immutable: must be true or false"),
        ({"type": 5}, "SealedSecret ns/s: spec.template.type: must be a string"),
        ({"metadata": "x"}, "SealedSecret ns/s: spec.template.metadata: must be a mapping"),
        (
            {"metadata": {"labels": "x"}},
            "SealedSecret ns/s: spec.template.metadata.labels: must be a mapping",
        ),
    ):
        broken = _sealed_with({"k": value}, template=template)
        assert error(SpecError, sealing.build_secret, broken, result) == message
    not_mapping = {**body, "spec": "x"}
    assert (
        error(SpecError, sealing.build_secret, not_mapping, result)
        == "SealedSecret ns/s: spec: must be a mapping"
    )
    with_template_spec = {**body, "spec": {"template": "x"}}
    assert error(SpecError, sealing.build_secret, with_template_spec, result) == (
        "SealedSecret ns/s: spec.template: must be a mapping"
    )


# --------------------------------------------------------------------------- what the HTTP API answers


def test_answer_manifest_keeps_only_what_a_sealed_secret_is_made_of() -> None:
    sealed = {
        "apiVersion": sealing.API_VERSION,
        "kind": "SealedSecret",
        "metadata": {
            "name": "s",
            "uid": "u",
            "annotations": {sealing.LAST_APPLIED: "{plaintext}", "a": "1"},
            "managedFields": [],
        },
        "spec": {"encryptedData": {"k": "v"}, "extra": 1},
        "status": {},
    }
    assert sealing.answer_manifest(sealed) == {
        "apiVersion": sealing.API_VERSION,
        "kind": "SealedSecret",
        "metadata": {"name": "s", "annotations": {"a": "1"}},
        "spec": {"encryptedData": {"k": "v"}},
    }
    assert sealed["metadata"]["annotations"][sealing.LAST_APPLIED] == "{plaintext}"  # the input is kept
    plain = {"metadata": {"annotations": {"a": "1"}}, "spec": "x"}
    assert sealing.answer_manifest(plain) == {
        "apiVersion": None,
        "kind": None,
        "metadata": {"annotations": {"a": "1"}},
        "spec": {},
    }
    assert sealing.answer_manifest({"metadata": ["name"], "spec": ["encryptedData"]}) == {
        "apiVersion": None,
        "kind": None,
        "metadata": {},
        "spec": {},
    }


def test_reencrypt_leaves_its_input_alone() -> None:
    value = crypto.encrypt(vector_key(2048).public_key(), b"ns/s", b"v")
    body = _sealed_with({"k": value})
    body["metadata"]["annotations"] = {"a": "1"}
    before = copy.deepcopy(body)
    out = sealing.reencrypt(body, ring(), sealer())
    assert body == before
    assert out["metadata"]["annotations"] == {"a": "1", sealing.FINGERPRINT_ANNOTATION: sealer().fingerprint}


def test_more_messages_and_merges() -> None:
    long_key = "k" * 100
    manifest = secret(
        stringData={"a": "b"}, metadata={"name": "s", "namespace": "ns", "labels": {long_key: 1}}
    )
    assert error(InputError, sealing.seal_secret, manifest, sealer()) == (
        f"Secret ns/s: metadata.labels: the value of {'k' * 80!r} must be a string (quote it in YAML)"
    )
    unnamed = secret(metadata={"name": 5}, data={"a": "!"})
    assert error(InputError, sealing.merge_into, sealed_object(), [("doc 1", unnamed)], sealer()) == (
        "doc 1: data.a is not valid base64"
    )
    assert error(SpecError, sealing.unseal, "x", ring()) == "SealedSecret: not a Kubernetes object"
    labels_only = secret(metadata={"name": "in", "labels": {"l": "v"}}, stringData={"k": "v"})
    merged = sealing.merge_into(sealed_object(), [("doc", labels_only)], sealer())
    assert merged["spec"]["template"] == {"metadata": {"labels": {"l": "v"}}}
