"""secretsync.model: defaults, every enum, every SpecError path, and ESO's semantics.

The model is the one place defaults live (the CRDs have none) and the one
place ESO's observable rules are encoded, so each default, each enum value,
each rejection path and each ESO rule has a test here.
"""

from __future__ import annotations

import ast
import base64
import copy
import dataclasses
import pathlib
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secretsync import model
from secretsync.errors import SpecError
from secretsync.providers.base import FindSpec, RemoteRef

_DATA = [{"secretKey": "password", "remoteRef": {"key": "db"}}]
_REF = {"name": "creds", "key": "token"}
_VAULT = {"server": "http://vault:8200"}


def es(meta: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    """An ExternalSecret body; ``data`` and ``secretStoreRef`` are filled in unless given."""
    spec.setdefault("secretStoreRef", {"name": "vault"})
    if "data" not in spec and "dataFrom" not in spec:
        spec["data"] = copy.deepcopy(_DATA)
    return {
        "apiVersion": "secretsync.io/v1alpha1",
        "kind": "ExternalSecret",
        "metadata": meta if meta is not None else {"name": "app", "namespace": "demo"},
        "spec": spec,
    }


def store(provider: dict[str, Any] | None = None, kind: str = "SecretStore", **spec: Any) -> dict[str, Any]:
    meta = {"name": "vault"} | ({"namespace": "demo"} if kind == "SecretStore" else {})
    return {
        "apiVersion": "secretsync.io/v1alpha1",
        "kind": kind,
        "metadata": meta,
        "spec": {"provider": provider if provider is not None else {"vault": dict(_VAULT)}, **spec},
    }


def css(*conditions: dict[str, Any]) -> model.StoreSpec:
    return model.parse_store(store(kind="ClusterSecretStore", conditions=list(conditions)))


def spec_error(fn: Any, *args: Any) -> SpecError:
    with pytest.raises(SpecError) as caught:
        fn(*args)
    return caught.value


# --------------------------------------------------------------------------- purity


def test_model_imports_only_what_it_may() -> None:
    """Pure: the standard library plus secretsync's pure leaf modules."""
    package = pathlib.Path(model.__file__).parent
    trees = [ast.parse(path.read_text(encoding="utf-8")) for path in sorted(package.glob("*.py"))]
    imported = {
        (f"{node.module}.{alias.name}" if node.module == "secretsync" else node.module)
        if isinstance(node, ast.ImportFrom)
        else alias.name
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    ours = {
        name
        for name in imported
        if name and name.startswith("secretsync") and not name.startswith("secretsync.model")
    }
    assert ours <= {
        "secretsync.errors",
        "secretsync.config",
        "secretsync.providers.base",
        "secretsync.regex",
        "secretsync.tenancy",
    }
    third_party = {
        name for name in imported if name and name.split(".")[0] not in {"secretsync", "__future__"}
    }
    assert third_party <= {"base64", "binascii", "copy", "dataclasses", "re", "collections.abc", "typing"}


# --------------------------------------------------------------------------- ExternalSecret defaults


def test_external_secret_defaults() -> None:
    spec = model.parse_external_secret(es())
    assert spec == model.ExternalSecretSpec(
        name="app",
        namespace="demo",
        store_name="vault",
        store_kind="SecretStore",
        refresh_interval=3600.0,
        target=model.TargetSpec(
            name="app", creation_policy="Owner", deletion_policy="Retain", immutable=False, template=None
        ),
        data=(model.DataEntry("password", RemoteRef(key="db"), decoding="None"),),
        data_from=(),
    )


def test_dataclass_defaults_are_eso_defaults() -> None:
    assert model.TargetSpec(name="x") == model.TargetSpec("x", "Owner", "Retain", False, None)
    assert model.TemplateSpec() == model.TemplateSpec(None, {}, {}, {}, "Replace", "v2", ())
    assert model.DataEntry("k", RemoteRef("r")).decoding == "None"
    assert model.DataFromEntry().decoding == "None"
    assert model.StoreSpec("SecretStore", "s", "demo", "fake").conditions == ()


def test_template_defaults_and_fields() -> None:
    empty = model.parse_external_secret(es(target={"template": {}})).target.template
    assert empty == model.TemplateSpec()
    assert empty is not None and empty.merge_policy == "Replace"
    full = model.parse_external_secret(
        es(
            target={
                "name": "out",
                "immutable": True,
                "template": {
                    "type": "kubernetes.io/tls",
                    "engineVersion": "v2",
                    "mergePolicy": "Merge",
                    "metadata": {"labels": {"app": "x"}, "annotations": {"example.com/a": "b"}},
                    "data": {"tls.crt": "{{ cert }}"},
                },
            }
        )
    ).target
    assert full == model.TargetSpec(
        name="out",
        immutable=True,
        template=model.TemplateSpec(
            type="kubernetes.io/tls",
            labels={"app": "x"},
            annotations={"example.com/a": "b"},
            data={"tls.crt": "{{ cert }}"},
            merge_policy="Merge",
            engine_version="v2",
        ),
    )


def test_target_name_defaults_to_the_external_secret_name() -> None:
    assert model.parse_external_secret(es({"name": "mine", "namespace": "x"})).target.name == "mine"
    assert model.parse_external_secret(es(target={"name": "other"})).target.name == "other"
    assert model.parse_external_secret(es({"name": "cluster-less"})).namespace is None


def test_remote_refs_and_data_from() -> None:
    spec = model.parse_external_secret(
        es(
            data=[
                {"secretKey": "a", "remoteRef": {"key": "k", "property": "p.q", "version": "3"}},
                {"secretKey": "b", "remoteRef": {"key": "k", "property": "", "version": ""}},
            ],
            dataFrom=[
                {"extract": {"key": "whole", "decodingStrategy": "Base64"}},
                {
                    "find": {
                        "path": "team/",
                        "name": {"regexp": "^db-"},
                        "tags": {"env": "prod"},
                        "decodingStrategy": "Auto",
                    }
                },
                {"find": {"name": {}}},
            ],
        )
    )
    assert spec.data[0].ref == RemoteRef(key="k", property="p.q", version="3")
    assert spec.data[1].ref == RemoteRef(key="k")  # "" means unset, as with ESO's omitempty
    assert spec.data_from == (
        model.DataFromEntry(extract=RemoteRef("whole"), decoding="Base64"),
        model.DataFromEntry(
            find=FindSpec(path="team/", name_regexp="^db-", tags={"env": "prod"}), decoding="Auto"
        ),
        model.DataFromEntry(find=FindSpec()),
    )


def test_specs_are_frozen_hashable_and_do_not_alias_the_body() -> None:
    body = es(dataFrom=[{"find": {"tags": {"env": "prod"}}}], target={"template": {"data": {"k": "v"}}})
    before = copy.deepcopy(body)
    spec = model.parse_external_secret(body)
    assert body == before
    assert hash(spec) == hash(model.parse_external_secret(copy.deepcopy(body)))
    find = spec.data_from[0].find
    assert find is not None and {("find", find): 1}  # usable as a cache key
    body["spec"]["dataFrom"][0]["find"]["tags"]["env"] = "dev"
    assert find.tags == {"env": "prod"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.store_name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        find.tags["env"] = "dev"  # type: ignore[index]


def test_frozen_map() -> None:
    frozen = model.FrozenMap({"a": "1"})
    assert frozen == {"a": "1"} and frozen != {"a": "2"} and len(frozen) == 1 and list(frozen) == ["a"]
    assert hash(frozen) == hash(model.FrozenMap([("a", "1")]))
    assert repr(frozen) == "FrozenMap({'a': '1'})"


# --------------------------------------------------------------------------- enums


@pytest.mark.parametrize("kind", model.STORE_KINDS)
def test_store_kind(kind: str) -> None:
    body = es(secretStoreRef={"name": "s", "kind": kind})
    assert model.parse_external_secret(body).store_kind == kind


@pytest.mark.parametrize("policy", model.CREATION_POLICIES)
def test_creation_policy(policy: str) -> None:
    spec = model.parse_external_secret(es(target={"creationPolicy": policy}))
    assert spec.target.creation_policy == policy


@pytest.mark.parametrize("policy", model.DELETION_POLICIES)
def test_deletion_policy(policy: str) -> None:
    spec = model.parse_external_secret(es(target={"deletionPolicy": policy}))
    assert spec.target.deletion_policy == policy


@pytest.mark.parametrize("policy", model.MERGE_POLICIES)
def test_merge_policy(policy: str) -> None:
    template = model.parse_external_secret(es(target={"template": {"mergePolicy": policy}})).target.template
    assert template is not None and template.merge_policy == policy


@pytest.mark.parametrize("strategy", model.DECODING_STRATEGIES)
def test_decoding_strategy_everywhere(strategy: str) -> None:
    spec = model.parse_external_secret(
        es(
            data=[{"secretKey": "k", "remoteRef": {"key": "r", "decodingStrategy": strategy}}],
            dataFrom=[
                {"extract": {"key": "r", "decodingStrategy": strategy}},
                {"find": {"path": "p", "decodingStrategy": strategy}},
            ],
        )
    )
    assert [e.decoding for e in spec.data] + [e.decoding for e in spec.data_from] == [strategy] * 3


def test_strategies_and_policies_parse_with_esos_defaults() -> None:
    ok = {"key": "r", "conversionStrategy": "Default", "metadataPolicy": "None", "nullBytePolicy": "Ignore"}
    find = {"conversionStrategy": "Default", "nullBytePolicy": "Ignore"}
    spec = model.parse_external_secret(
        es(dataFrom=[{"extract": ok}, {"find": find}, {"extract": {"key": "x"}}])
    )
    assert [(e.conversion, e.rewrite) for e in spec.data_from] == [("Default", ())] * 3
    assert spec.data_from[0].extract is not None and spec.data_from[0].extract.metadata_policy == "None"
    fetch = {"key": "r", "conversionStrategy": "Unicode", "metadataPolicy": "Fetch"}
    spec = model.parse_external_secret(
        es(
            data=[{"secretKey": "k", "remoteRef": fetch}],
            dataFrom=[{"extract": fetch}, {"find": {"conversionStrategy": "Unicode"}}],
        )
    )
    assert spec.data[0].ref.metadata_policy == "Fetch"
    assert [e.conversion for e in spec.data_from] == ["Unicode", "Unicode"]
    assert spec.data_from[0].extract == RemoteRef("r", metadata_policy="Fetch")
    body = es(data=[{"secretKey": "k", "remoteRef": {"key": "r", "nullBytePolicy": "Fail"}}])
    error = spec_error(model.parse_external_secret, body)
    assert error.path == "spec.data[0].remoteRef.nullBytePolicy"
    assert "ESO's nullBytePolicy Fail is not supported" in error.problem
    for field in ("conversionStrategy", "metadataPolicy", "nullBytePolicy"):
        body = es(data=[{"secretKey": "k", "remoteRef": {"key": "r", field: "Other"}}])
        assert "is not one of" in spec_error(model.parse_external_secret, body).problem  # the enum first


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("secretStoreRef.kind", "Store"),
        ("target.creationPolicy", "owner"),
        ("target.deletionPolicy", "Orphan"),
        ("target.template.mergePolicy", "Append"),
        ("data[0].remoteRef.decodingStrategy", "base64"),
    ],
)
def test_unknown_enum_values(field: str, value: str) -> None:
    body = es(secretStoreRef={"name": "s"}, target={"template": {}})
    node: Any = body["spec"]
    steps = re.findall(r"\w+|\[\d+\]", field)
    for step in steps[:-1]:
        node = node[int(step[1:-1])] if step.startswith("[") else node[step]
    node[steps[-1]] = value
    error = spec_error(model.parse_external_secret, body)
    assert error.path == f"spec.{field}"
    assert value in str(error) and "is not one of" in str(error)


# --------------------------------------------------------------------------- refreshInterval


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("15m", 900.0),
        ("90s", 90.0),
        ("1.5h", 5400.0),
        ("500ms", 0.5),
        (".5s", 0.5),
        ("1.s", 1.0),
        ("100us", 1e-4),
        ("1µs", 1e-6),
        ("1μs", 1e-6),
        ("10ns", 1e-8),
        ("2h0m0s", 7200.0),
        ("0s", 0.0),
    ],
)
def test_refresh_interval(text: str, seconds: float) -> None:
    assert model.parse_external_secret(es(refreshInterval=text)).refresh_interval == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["1d", "90", "", " 1h", "1h ", "-1h", "+1h", "h", "1x", "00", "1h\n", "1 h"])
def test_refresh_interval_rejects_what_go_rejects(text: str) -> None:
    error = spec_error(model.parse_external_secret, es(refreshInterval=text))
    assert error.path == "spec.refreshInterval"


def test_refresh_interval_must_be_a_string() -> None:
    error = spec_error(model.parse_external_secret, es(refreshInterval=0))
    assert error.path == "spec.refreshInterval" and "must be a string" in error.problem


_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


@given(st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(sorted(_UNITS))), min_size=1, max_size=5))
def test_go_duration_sums_its_parts(parts: list[tuple[int, str]]) -> None:
    text = "".join(f"{n}{unit}" for n, unit in parts)
    expected = sum(n * _UNITS[unit] for n, unit in parts)
    assert model.parse_go_duration(text) == pytest.approx(expected)


# --------------------------------------------------------------------------- ExternalSecret errors


def _set(body: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    node: Any = body
    steps = re.findall(r"[^.\[\]]+|\[\d+\]", dotted)
    for step in steps[:-1]:
        node = node[int(step[1:-1])] if step.startswith("[") else node.setdefault(step, {})
    last = steps[-1]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return body


_DELETE = object()
_THREE = [
    {"secretKey": "a", "remoteRef": {"key": "x"}},
    {"secretKey": "b", "remoteRef": {"key": "y"}},
    {"secretKey": "c", "remoteRef": {"key": "z"}},
]


@pytest.mark.parametrize(
    ("dotted", "value", "path", "words"),
    [
        ("spec", _DELETE, "spec", "required"),
        ("spec", [], "spec", "must be an object"),
        ("metadata", _DELETE, "metadata", "required"),
        ("metadata.name", _DELETE, "metadata.name", "required"),
        ("spec.secretStoreRef", _DELETE, "spec.secretStoreRef", "required"),
        ("spec.secretStoreRef.name", _DELETE, "spec.secretStoreRef.name", "required"),
        ("spec.secretStoreRef.name", "Vault_1", "spec.secretStoreRef.name", "DNS subdomain"),
        ("spec.secretStoreRef.name", "", "spec.secretStoreRef.name", "empty"),
        ("spec.secretStoreRef", "vault", "spec.secretStoreRef", "must be an object"),
        ("spec.foo", 1, "spec.foo", "unknown field"),
        (
            "spec.refreshPolicy",
            "Always",
            "spec.refreshPolicy",
            "is not one of: CreatedOnce, Periodic, OnChange",
        ),
        ("spec.target", [], "spec.target", "must be an object"),
        ("spec.target.name", "Not/A/Name", "spec.target.name", "DNS subdomain"),
        ("spec.target.name", "a" * 254, "spec.target.name", "longer than 253"),
        ("spec.target.immutable", "yes", "spec.target.immutable", "true or false"),
        ("spec.target.template", "x", "spec.target.template", "must be an object"),
        ("spec.target.template.templateFrom", {}, "spec.target.template.templateFrom", "must be a list"),
        (
            "spec.target.template.engineVersion",
            "v1",
            "spec.target.template.engineVersion",
            "engine v1 is not",
        ),
        ("spec.target.template.type", 1, "spec.target.template.type", "must be a string"),
        ("spec.target.template.data", {"a/b": "x"}, "spec.target.template.data[a/b]", "Secret key"),
        ("spec.target.template.data", {"k": 1}, "spec.target.template.data[k]", "must be a string"),
        (
            "spec.target.template.metadata.labels",
            {"-bad": "x"},
            "spec.target.template.metadata.labels[-bad]",
            "label key",
        ),
        (
            "spec.target.template.metadata.labels",
            {"ok": 1},
            "spec.target.template.metadata.labels[ok]",
            "string",
        ),
        (
            "spec.target.template.metadata.annotations",
            {"a/b/c": "x"},
            "spec.target.template.metadata.annotations[a/b/c]",
            "annotation key",
        ),
        (
            "spec.target.template.metadata.finalizers",
            [],
            "spec.target.template.metadata.finalizers",
            "not supported",
        ),
        ("spec.data", {}, "spec.data", "must be a list"),
        ("spec.data", [None], "spec.data[0]", "null"),
        ("spec.data", [*_THREE[:2], {"remoteRef": {"key": "z"}}], "spec.data[2].secretKey", "required"),
        ("spec.data", [*_THREE[:2], {"secretKey": "c"}], "spec.data[2].remoteRef", "required"),
        (
            "spec.data",
            [*_THREE[:2], {"secretKey": "c", "remoteRef": {}}],
            "spec.data[2].remoteRef.key",
            "required",
        ),
        ("spec.data", [{"secretKey": "c", "remoteRef": {"key": ""}}], "spec.data[0].remoteRef.key", "empty"),
        (
            "spec.data",
            [{"secretKey": "a/b", "remoteRef": {"key": "x"}}],
            "spec.data[0].secretKey",
            "Secret key",
        ),
        (
            "spec.data",
            [{"secretKey": "..", "remoteRef": {"key": "x"}}],
            "spec.data[0].secretKey",
            "Secret key",
        ),
        ("spec.data", [{"secretKey": "..x", "remoteRef": {"key": "x"}}], "spec.data[0].secretKey", "'..'"),
        (
            "spec.data",
            [{"secretKey": ".", "remoteRef": {"key": "x"}}],
            "spec.data[0].secretKey",
            "Secret key",
        ),
        ("spec.data", [{"secretKey": "k" * 254, "remoteRef": {"key": "x"}}], "spec.data[0].secretKey", "253"),
        (
            "spec.data",
            [{"secretKey": "a", "remoteRef": {"key": "x", "property": 1}}],
            "spec.data[0].remoteRef.property",
            "string",
        ),
        (
            "spec.data",
            [{"secretKey": "a", "remoteRef": {"key": "x"}, "sourceRef": {}}],
            "spec.data[0].sourceRef",
            "not supported",
        ),
        ("spec.dataFrom", [{"extract": {"key": "a"}}] * 257, "spec.dataFrom", "at most 256"),
        ("spec.dataFrom", [{"extract": {"key": "a"}, "find": {}}], "spec.dataFrom[0]", "exactly one"),
        ("spec.dataFrom", [{"extract": {"key": "a"}}, {}], "spec.dataFrom[1]", "exactly one"),
        (
            "spec.dataFrom",
            [{"extract": {"key": "a"}, "rewrite": [{}]}],
            "spec.dataFrom[0].rewrite[0]",
            "set exactly one of regexp, transform or merge",
        ),
        ("spec.dataFrom", [{"extract": {}}], "spec.dataFrom[0].extract.key", "required"),
        (
            "spec.dataFrom",
            [{"find": {"name": {"regexp": "("}}}],
            "spec.dataFrom[0].find.name.regexp",
            "regular expression",
        ),
        ("spec.dataFrom", [{"find": {"tags": {"env": 1}}}], "spec.dataFrom[0].find.tags[env]", "string"),
        ("spec.dataFrom", [{"find": {"name": "db"}}], "spec.dataFrom[0].find.name", "must be an object"),
        (
            "spec.dataFrom",
            [{"find": {"decodingStrategy": "Hex"}}],
            "spec.dataFrom[0].find.decodingStrategy",
            "Hex",
        ),
    ],
)
def test_external_secret_error_paths(dotted: str, value: Any, path: str, words: str) -> None:
    body = es()
    if dotted.startswith("spec.dataFrom"):
        body["spec"].pop("data")  # so the dataFrom entry is the first problem
    error = spec_error(model.parse_external_secret, _set(body, dotted, value))
    assert error.path == path
    assert words in error.problem
    assert str(error) == f"{path}: {error.problem}"


def test_null_means_absent() -> None:
    """The API server prunes nulls of non-nullable fields; so does the model."""
    body = es(refreshInterval=None, target={"name": None, "template": None, "creationPolicy": None})
    spec = model.parse_external_secret(body)
    assert (spec.refresh_interval, spec.target.name, spec.target.template) == (3600.0, "app", None)
    assert spec_error(model.parse_external_secret, es(secretStoreRef=None)).path == "spec.secretStoreRef"


def test_body_must_be_an_object() -> None:
    assert spec_error(model.parse_external_secret, []).path == ""
    assert spec_error(model.parse_store, "x").path == "kind"


@pytest.mark.parametrize(
    ("creation", "deletion"), [("Merge", "Delete"), ("None", "Delete"), ("None", "Merge")]
)
def test_policy_combinations_eso_rejects(creation: str, deletion: str) -> None:
    body = es(target={"creationPolicy": creation, "deletionPolicy": deletion})
    error = spec_error(model.parse_external_secret, body)
    assert error.path == "spec.target.deletionPolicy"
    assert creation in error.problem


@pytest.mark.parametrize(
    ("creation", "deletion"),
    [("Owner", "Delete"), ("Orphan", "Delete"), ("Merge", "Merge"), ("None", "Retain")],
)
def test_policy_combinations_eso_accepts(creation: str, deletion: str) -> None:
    target = model.parse_external_secret(
        es(target={"creationPolicy": creation, "deletionPolicy": deletion})
    ).target
    assert (target.creation_policy, target.deletion_policy) == (creation, deletion)


def test_delete_is_fine_with_the_default_creation_policy() -> None:
    assert (
        model.parse_external_secret(es(target={"deletionPolicy": "Delete"})).target.creation_policy == "Owner"
    )


def test_duplicate_secret_keys_rejected_under_retain_only() -> None:
    """As ESO's webhook: only under Retain (the default)."""
    twice = [_THREE[0], _THREE[1], {"secretKey": "a", "remoteRef": {"key": "other"}}]
    error = spec_error(model.parse_external_secret, es(data=twice))
    assert error.path == "spec.data[2].secretKey" and "spec.data[0]" in error.problem
    for policy in ("Delete", "Merge"):
        spec = model.parse_external_secret(es(data=twice, target={"deletionPolicy": policy}))
        assert len(spec.data) == 3


@pytest.mark.parametrize(
    "spec",
    [
        {"data": []},
        {"dataFrom": []},
        {"data": [], "dataFrom": [], "target": {"template": {"data": {}}}},
        {"data": [], "target": {"template": {"metadata": {"labels": {"a": "b"}}}}},
    ],
)
def test_needs_some_source(spec: dict[str, Any]) -> None:
    body = es(**spec)
    error = spec_error(model.parse_external_secret, body)
    assert error.path == "spec" and "data or dataFrom" in error.problem


def test_template_only_secret_is_allowed() -> None:
    """A superset of ESO (which demands data or dataFrom): documented in the CRD."""
    spec = model.parse_external_secret(es(data=[], target={"template": {"data": {"static": "value"}}}))
    assert spec.data == () and spec.target.template is not None


def test_error_messages_never_echo_free_text_values() -> None:
    secretish = "s3cr3t-v@lue-that-must-not-leak"
    for body in (
        es(data=[{"secretKey": "k", "remoteRef": {"key": "x", "property": 5}}]),
        es(target={"template": {"data": {"k": 5}}}),
    ):
        assert secretish not in str(spec_error(model.parse_external_secret, body))
    fake = store({"fake": {"data": [{"key": "k", "value": 1234567}]}})
    assert "1234567" not in str(spec_error(model.parse_store, fake))


# --------------------------------------------------------------------------- stores


def test_parse_vault_store() -> None:
    body = store(
        {"vault": {**_VAULT, "path": "secret", "version": "v1", "auth": {"tokenSecretRef": dict(_REF)}}},
        refreshInterval=60,
        controller="dev",
        retrySettings={"maxRetries": 3, "retryInterval": "10s"},
    )
    spec = model.parse_store(body)
    assert (spec.kind, spec.name, spec.namespace, spec.provider_name) == (
        "SecretStore",
        "vault",
        "demo",
        "vault",
    )
    assert spec.provider_spec == body["spec"]["provider"]["vault"]
    assert (spec.refresh_interval, spec.controller, spec.conditions) == (60, "dev", ())
    assert spec.ref == "SecretStore demo/vault"
    spec.provider_spec["auth"]["tokenSecretRef"]["name"] = "changed"
    assert body["spec"]["provider"]["vault"]["auth"]["tokenSecretRef"]["name"] == "creds"


def test_store_defaults() -> None:
    spec = model.parse_store(store())
    assert (spec.refresh_interval, spec.controller, spec.conditions) == (0, None, ())
    cluster = model.parse_store(store(kind="ClusterSecretStore"))
    assert (cluster.namespace, cluster.conditions, cluster.ref) == (None, (), "ClusterSecretStore vault")


@pytest.mark.parametrize(
    "provider",
    [
        {"vault": {**_VAULT, "caBundle": base64.b64encode(b"-----BEGIN CERTIFICATE-----").decode()}},
        {"vault": {**_VAULT, "caBundle": base64.encodebytes(b"PEM" * 40).decode()}},  # line breaks, as Go
        {
            "vault": {
                **_VAULT,
                "namespace": "team",
                "auth": {
                    "namespace": "login-ns",
                    "appRole": {"path": "ar", "roleRef": _REF, "secretRef": _REF},
                },
            }
        },
        {"vault": {**_VAULT, "auth": {"kubernetes": {"mountPath": "k8s", "role": "r", "secretRef": _REF}}}},
        {
            "vault": {
                **_VAULT,
                "auth": {
                    "kubernetes": {"role": "r", "serviceAccountRef": {"name": "sa", "audiences": ["vault"]}}
                },
            }
        },
        {"aws": {"service": "ParameterStore", "region": "eu-west-1", "role": "arn:aws:iam::1:role/r"}},
        {
            "aws": {
                "service": "SecretsManager",
                "region": "us-east-1",
                "auth": {
                    "secretRef": {
                        "accessKeyIDSecretRef": _REF,
                        "secretAccessKeySecretRef": _REF,
                        "sessionTokenSecretRef": _REF,
                    }
                },
            }
        },
        {"gcpsm": {}},
        {
            "gcpsm": {
                "projectID": "p",
                "location": "europe-west1",
                "endpoint": "localhost:1",
                "auth": {"secretRef": {"secretAccessKeySecretRef": _REF}},
            }
        },
        {
            "vault": {
                **_VAULT,
                "readYourWrites": False,
                "forwardInconsistent": False,
            }
        },
        {"aws": {"service": "ParameterStore", "region": "r", "sessionTagsPolicy": "None"}},
        {"gcpsm": {"projectID": "p", "secretVersionSelectionPolicy": "LatestOrFail"}},
        {"fake": {"data": [{"key": "k", "value": ""}, {"key": "k", "value": "v", "version": "2"}]}},
    ],
)
def test_valid_providers(provider: dict[str, Any]) -> None:
    (name,) = provider
    for kind in model.STORE_KINDS:
        spec = model.parse_store(store(provider, kind))
        assert spec.provider_name == name and spec.provider_spec == provider[name]


@pytest.mark.parametrize(
    ("provider", "path", "words"),
    [
        ({}, "spec.provider", "exactly one"),
        ({"vault": _VAULT, "fake": {"data": []}}, "spec.provider", "found: vault, fake"),
        ({"azurekv": {}}, "spec.provider.azurekv", "provider azurekv is not supported by secretsync"),
        (
            {"fake": {"data": []}, "webhook": {}},
            "spec.provider.webhook",
            "supported: vault, aws, gcpsm, fake",
        ),
        ({"vault": {}}, "spec.provider.vault.server", "required"),
        ({"vault": {"server": ""}}, "spec.provider.vault.server", "empty"),
        ({"vault": {**_VAULT, "version": "v3"}}, "spec.provider.vault.version", "v1, v2"),
        ({"vault": {**_VAULT, "caBundle": "not base64!"}}, "spec.provider.vault.caBundle", "base64"),
        ({"vault": {**_VAULT, "auth": {"ldap": {}}}}, "spec.provider.vault.auth.ldap", "not supported"),
        ({"vault": {**_VAULT, "auth": {"nope": {}}}}, "spec.provider.vault.auth.nope", "unknown field"),
        ({"vault": {**_VAULT, "readYourWrites": True}}, "spec.provider.vault.readYourWrites", "set false"),
        (
            {"vault": {**_VAULT, "readYourWrites": "no"}},
            "spec.provider.vault.readYourWrites",
            "true or false",
        ),
        (
            {"vault": {**_VAULT, "auth": {"tokenSecretRef": {"key": "k"}}}},
            "spec.provider.vault.auth.tokenSecretRef.name",
            "required",
        ),
        (
            {"vault": {**_VAULT, "auth": {"tokenSecretRef": {"name": "s", "key": "a/b"}}}},
            "spec.provider.vault.auth.tokenSecretRef.key",
            "Secret key",
        ),
        (
            {"vault": {**_VAULT, "auth": {"tokenSecretRef": {"name": "s", "namespace": "Bad_NS"}}}},
            "spec.provider.vault.auth.tokenSecretRef.namespace",
            "namespace name",
        ),
        (
            {
                "vault": {
                    **_VAULT,
                    "auth": {"tokenSecretRef": _REF, "appRole": {"roleId": "r", "secretRef": _REF}},
                }
            },
            "spec.provider.vault.auth",
            "at most one",
        ),
        (
            {"vault": {**_VAULT, "auth": {"appRole": {"secretRef": _REF}}}},
            "spec.provider.vault.auth.appRole",
            "roleId or roleRef",
        ),
        (
            {"vault": {**_VAULT, "auth": {"appRole": {"roleId": "", "secretRef": _REF}}}},
            "spec.provider.vault.auth.appRole",
            "roleId or roleRef",
        ),
        (
            {"vault": {**_VAULT, "auth": {"appRole": {"roleId": "r"}}}},
            "spec.provider.vault.auth.appRole.secretRef",
            "required",
        ),
        (
            {"vault": {**_VAULT, "auth": {"kubernetes": {"role": "r"}}}},
            "spec.provider.vault.auth.kubernetes",
            "serviceAccountRef or secretRef",
        ),
        (
            {"vault": {**_VAULT, "auth": {"kubernetes": {"secretRef": _REF}}}},
            "spec.provider.vault.auth.kubernetes.role",
            "required",
        ),
        (
            {
                "vault": {
                    **_VAULT,
                    "auth": {
                        "kubernetes": {"role": "r", "serviceAccountRef": {"name": "sa", "audiences": "vault"}}
                    },
                }
            },
            "spec.provider.vault.auth.kubernetes.serviceAccountRef.audiences",
            "list",
        ),
        ({"aws": {"region": "r"}}, "spec.provider.aws.service", "required"),
        (
            {"aws": {"service": "KMS", "region": "r"}},
            "spec.provider.aws.service",
            "SecretsManager, ParameterStore",
        ),
        ({"aws": {"service": "SecretsManager"}}, "spec.provider.aws.region", "required"),
        (
            {"aws": {"service": "SecretsManager", "region": "r", "auth": {"jwt": {}}}},
            "spec.provider.aws.auth.jwt",
            "not supported",
        ),
        (
            {"aws": {"service": "SecretsManager", "region": "r", "sessionTagsPolicy": "Tags"}},
            "spec.provider.aws.sessionTagsPolicy",
            "'Tags' is not one of: None, Simple, Custom",
        ),
        (
            {
                "aws": {
                    "service": "SecretsManager",
                    "region": "r",
                    "auth": {"secretRef": {"secretAccessKeySecretRef": _REF}},
                }
            },
            "spec.provider.aws.auth.secretRef.accessKeyIDSecretRef",
            "required",
        ),
        ({"gcpsm": {"projectID": 7}}, "spec.provider.gcpsm.projectID", "string"),
        (
            {"gcpsm": {"auth": {"workloadIdentity": "x"}}},
            "spec.provider.gcpsm.auth.workloadIdentity",
            "not supported",
        ),
        ({"fake": {}}, "spec.provider.fake.data", "required"),
        ({"fake": {"data": [{"value": "v"}]}}, "spec.provider.fake.data[0].key", "required"),
        ({"fake": {"data": [{"key": "k"}]}}, "spec.provider.fake.data[0].value", "required"),
        ({"fake": {"data": [{"key": "k", "value": 1}]}}, "spec.provider.fake.data[0].value", "string"),
    ],
)
def test_store_error_paths(provider: dict[str, Any], path: str, words: str) -> None:
    error = spec_error(model.parse_store, store(provider))
    assert error.path == path and words in error.problem


@pytest.mark.parametrize(
    ("mutate", "path", "words"),
    [
        (lambda b: b.pop("kind"), "kind", "SecretStore, ClusterSecretStore"),
        (lambda b: b.update(kind="Store"), "kind", "one of"),
        (lambda b: b["metadata"].pop("namespace"), "metadata.namespace", "required for a SecretStore"),
        (lambda b: b["metadata"].pop("name"), "metadata.name", "required"),
        (lambda b: b.pop("spec"), "spec", "required"),
        (lambda b: b["spec"].pop("provider"), "spec.provider", "required"),
        (lambda b: b["spec"].update(provider=None), "spec.provider", "required"),
        (lambda b: b["spec"].update(refreshInterval="1h"), "spec.refreshInterval", "integer"),
        (lambda b: b["spec"].update(refreshInterval=True), "spec.refreshInterval", "integer"),
        (lambda b: b["spec"].update(controller=1), "spec.controller", "string"),
        (
            lambda b: b["spec"].update(retrySettings={"maxRetries": "3"}),
            "spec.retrySettings.maxRetries",
            "integer",
        ),
        (lambda b: b["spec"].update(conditions=[]), "spec.conditions", "unknown field"),
    ],
)
def test_store_body_errors(mutate: Any, path: str, words: str) -> None:
    body = store()
    mutate(body)
    error = spec_error(model.parse_store, body)
    assert error.path == path and words in error.problem


def test_kind_argument_overrides_the_body() -> None:
    body = store(kind="ClusterSecretStore")
    body.pop("kind")
    assert model.parse_store(body, kind="ClusterSecretStore").kind == "ClusterSecretStore"


def test_cluster_store_ignores_a_namespace_in_metadata() -> None:
    body = store(kind="ClusterSecretStore")
    body["metadata"]["namespace"] = "stray"
    assert model.parse_store(body).namespace is None


@pytest.mark.parametrize(
    ("provider", "path"),
    [
        (
            {"vault": {**_VAULT, "auth": {"tokenSecretRef": {**_REF, "namespace": "other"}}}},
            "spec.provider.vault.auth.tokenSecretRef.namespace",
        ),
        (
            {
                "vault": {
                    **_VAULT,
                    "auth": {"appRole": {"roleRef": {**_REF, "namespace": "other"}, "secretRef": _REF}},
                }
            },
            "spec.provider.vault.auth.appRole.roleRef.namespace",
        ),
        (
            {
                "vault": {
                    **_VAULT,
                    "auth": {
                        "kubernetes": {"role": "r", "serviceAccountRef": {"name": "sa", "namespace": "other"}}
                    },
                }
            },
            "spec.provider.vault.auth.kubernetes.serviceAccountRef.namespace",
        ),
        (
            {
                "aws": {
                    "service": "SecretsManager",
                    "region": "r",
                    "auth": {
                        "secretRef": {
                            "accessKeyIDSecretRef": _REF,
                            "secretAccessKeySecretRef": {**_REF, "namespace": "other"},
                        }
                    },
                }
            },
            "spec.provider.aws.auth.secretRef.secretAccessKeySecretRef.namespace",
        ),
        (
            {"gcpsm": {"auth": {"secretRef": {"secretAccessKeySecretRef": {**_REF, "namespace": "other"}}}}},
            "spec.provider.gcpsm.auth.secretRef.secretAccessKeySecretRef.namespace",
        ),
    ],
)
def test_secret_store_refs_stay_in_their_namespace(provider: dict[str, Any], path: str) -> None:
    """ESO's webhook rule; a ClusterSecretStore may name any namespace."""
    error = spec_error(model.parse_store, store(provider))
    assert error.path == path and "own namespace 'demo'" in error.problem
    model.parse_store(store(provider, "ClusterSecretStore"))
    same = copy.deepcopy(provider)
    text = repr(same).replace("'other'", "'demo'")
    model.parse_store(store(eval(text)))  # noqa: S307 - a literal we just printed


# --------------------------------------------------------------------------- conditions


def test_parse_conditions() -> None:
    spec = css(
        {"namespaces": ["a", "b"], "namespaceRegexes": ["^team-"]},
        {
            "namespaceSelector": {
                "matchLabels": {"env": "prod"},
                "matchExpressions": [
                    {"key": "tier", "operator": "In", "values": ["gold", "silver"]},
                    {"key": "example.com/legacy", "operator": "DoesNotExist"},
                ],
            }
        },
        {},
    )
    assert spec.conditions == (
        model.StoreCondition(namespaces=("a", "b"), namespace_regexes=("^team-",)),
        model.StoreCondition(
            namespace_selector=model.LabelSelector(
                match_labels={"env": "prod"},
                match_expressions=(
                    model.SelectorRequirement("tier", "In", ("gold", "silver")),
                    model.SelectorRequirement("example.com/legacy", "DoesNotExist"),
                ),
            )
        ),
        model.StoreCondition(),
    )


@pytest.mark.parametrize(
    ("condition", "path", "words"),
    [
        ({"namespaces": ["Bad_Name"]}, "spec.conditions[0].namespaces[0]", "namespace name"),
        ({"namespaces": "demo"}, "spec.conditions[0].namespaces", "list"),
        (
            {"namespaceRegexes": ["ok", "(unclosed"]},
            "spec.conditions[0].namespaceRegexes[1]",
            "regular expression",
        ),
        (
            {"namespaceSelector": {"matchLabels": {"bad key!": "x"}}},
            "spec.conditions[0].namespaceSelector.matchLabels[bad key!]",
            "label key",
        ),
        (
            {"namespaceSelector": {"matchLabels": {"k": "bad value!"}}},
            "spec.conditions[0].namespaceSelector.matchLabels[k]",
            "label value",
        ),
        (
            {"namespaceSelector": {"matchExpressions": [{"key": "k", "operator": "Gt", "values": ["1"]}]}},
            "spec.conditions[0].namespaceSelector.matchExpressions[0].operator",
            "In, NotIn",
        ),
        (
            {"namespaceSelector": {"matchExpressions": [{"operator": "Exists"}]}},
            "spec.conditions[0].namespaceSelector.matchExpressions[0].key",
            "required",
        ),
        (
            {"namespaceSelector": {"matchExpressions": [{"key": "k", "operator": "In"}]}},
            "spec.conditions[0].namespaceSelector.matchExpressions[0].values",
            "must not be empty",
        ),
        (
            {
                "namespaceSelector": {
                    "matchExpressions": [{"key": "k", "operator": "Exists", "values": ["x"]}]
                }
            },
            "spec.conditions[0].namespaceSelector.matchExpressions[0].values",
            "must be empty",
        ),
        (
            {"namespaceSelector": {"matchExpressions": [{"key": "-k", "operator": "Exists"}]}},
            "spec.conditions[0].namespaceSelector.matchExpressions[0].key",
            "label key",
        ),
        (
            {"namespaceSelector": {"matchExpressions": [{"key": "k", "operator": "In", "values": ["a b"]}]}},
            "spec.conditions[0].namespaceSelector.matchExpressions[0].values[0]",
            "label value",
        ),
        ({"namespaceSelector": []}, "spec.conditions[0].namespaceSelector", "object"),
        (
            {"namespaceSelector": {"matchExpressions": [{"key": "k", "operator": "Exists"}] * 65}},
            "spec.conditions[0].namespaceSelector.matchExpressions",
            "at most 64",
        ),
    ],
)
def test_condition_error_paths(condition: dict[str, Any], path: str, words: str) -> None:
    error = spec_error(css, condition)
    assert error.path == path and words in error.problem


def test_too_many_conditions() -> None:
    assert spec_error(css, *([{}] * 65)).path == "spec.conditions"


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("app", True),
        ("app.kubernetes.io/name", True),
        ("a" * 63, True),
        ("a" * 64, False),
        ("example.com/" + "a" * 63, True),
        ("/name", False),
        ("Example.com/name", False),
        ("a/b/c", False),
        ("name-", False),
        ("", False),
    ],
)
def test_qualified_names(key: str, ok: bool) -> None:
    assert model.is_qualified_name(key) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("", True), ("a", True), ("a.b-c_d", True), ("a" * 64, False), ("-a", False), ("a b", False)],
)
def test_label_values(value: str, ok: bool) -> None:
    assert model.is_label_value(value) is ok


# --------------------------------------------------------------------------- store_allows


def test_secret_store_serves_its_own_namespace_only() -> None:
    spec = model.parse_store(store())
    assert model.store_allows(spec, "demo", {}) is True
    assert model.store_allows(spec, "other", {}) is False


def test_cluster_store_without_conditions_serves_everyone() -> None:
    spec = css()
    assert all(model.store_allows(spec, ns, {}) for ns in ("demo", "kube-system", "x"))


_PROD = {"env": "prod", "tier": "gold"}


@pytest.mark.parametrize(
    ("conditions", "namespace", "labels", "allowed"),
    [
        ([{"namespaces": ["demo", "web"]}], "demo", {}, True),
        ([{"namespaces": ["demo", "web"]}], "demo-2", {}, False),
        ([{"namespaceRegexes": ["^team-"]}], "team-a", {}, True),
        ([{"namespaceRegexes": ["^team-"]}], "my-team-a", {}, False),
        ([{"namespaceRegexes": ["team"]}], "my-team-a", {}, True),  # unanchored, as Go's MatchString
        ([{"namespaceRegexes": ["^team-a$"]}], "team-ab", {}, False),
        ([{"namespaceRegexes": ["x", "^demo$"]}], "demo", {}, True),
        ([{"namespaceSelector": {"matchLabels": {"env": "prod"}}}], "a", _PROD, True),
        ([{"namespaceSelector": {"matchLabels": {"env": "prod"}}}], "a", {"env": "dev"}, False),
        ([{"namespaceSelector": {"matchLabels": {"env": "prod", "tier": "silver"}}}], "a", _PROD, False),
        ([{"namespaceSelector": {}}], "anything", {}, True),  # empty selector: everything
        ([{"namespaceSelector": {"matchLabels": {model.NAMESPACE_NAME_LABEL: "demo"}}}], "demo", {}, True),
        (
            [{"namespaceSelector": {"matchLabels": {model.NAMESPACE_NAME_LABEL: "demo"}}}],
            "web",
            {model.NAMESPACE_NAME_LABEL: "demo"},
            False,
        ),
        (
            [
                {
                    "namespaceSelector": {
                        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["gold"]}]
                    }
                }
            ],
            "a",
            _PROD,
            True,
        ),
        (
            [
                {
                    "namespaceSelector": {
                        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["gold"]}]
                    }
                }
            ],
            "a",
            {},
            False,
        ),
        (
            [
                {
                    "namespaceSelector": {
                        "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["gold"]}]
                    }
                }
            ],
            "a",
            _PROD,
            False,
        ),
        (
            [
                {
                    "namespaceSelector": {
                        "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["gold"]}]
                    }
                }
            ],
            "a",
            {},
            True,
        ),
        (
            [{"namespaceSelector": {"matchExpressions": [{"key": "env", "operator": "Exists"}]}}],
            "a",
            _PROD,
            True,
        ),
        (
            [{"namespaceSelector": {"matchExpressions": [{"key": "env", "operator": "Exists"}]}}],
            "a",
            {},
            False,
        ),
        (
            [{"namespaceSelector": {"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}}],
            "a",
            {},
            True,
        ),
        (
            [{"namespaceSelector": {"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}}],
            "a",
            _PROD,
            False,
        ),
        (
            [
                {
                    "namespaceSelector": {
                        "matchLabels": {"env": "prod"},
                        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["silver"]}],
                    }
                }
            ],
            "a",
            _PROD,
            False,
        ),  # labels and expressions are ANDed
        (
            [
                {
                    "namespaces": ["x"],
                    "namespaceRegexes": ["^y"],
                    "namespaceSelector": {"matchLabels": {"env": "prod"}},
                }
            ],
            "z",
            _PROD,
            True,
        ),
        ([{"namespaces": ["x"]}, {"namespaceRegexes": ["^y"]}], "y1", {}, True),  # conditions are ORed
        ([{"namespaces": ["x"]}, {"namespaceRegexes": ["^y"]}], "z", {}, False),
        ([{}], "demo", {}, False),  # an empty condition matches nothing (as in ESO)
    ],
)
def test_store_allows(
    conditions: list[dict[str, Any]], namespace: str, labels: dict[str, str], allowed: bool
) -> None:
    assert model.store_allows(css(*conditions), namespace, labels) is allowed


# --------------------------------------------------------------------------- credential_namespace


def test_secret_store_credentials_resolve_in_its_own_namespace() -> None:
    spec = model.parse_store(store())
    assert model.credential_namespace(spec, None, "demo") == "demo"
    assert model.credential_namespace(spec, "", None) == "demo"
    assert model.credential_namespace(spec, "demo", "ignored") == "demo"
    error = spec_error(model.credential_namespace, spec, "other", "demo")
    assert error.path == "spec.provider" and "'other'" in error.problem
    with pytest.raises(SpecError) as caught:
        model.credential_namespace(spec, "other", "demo", path="spec.provider.vault.auth.tokenSecretRef")
    assert caught.value.path == "spec.provider.vault.auth.tokenSecretRef"


def test_secret_store_without_namespace_cannot_resolve() -> None:
    spec = model.StoreSpec("SecretStore", "s", None, "fake")
    assert spec_error(model.credential_namespace, spec, None, "demo").path == "metadata.namespace"


def test_cluster_store_credentials_resolve_in_the_ref_or_the_external_secret_namespace() -> None:
    spec = css()
    assert model.credential_namespace(spec, "vault-creds", "demo") == "vault-creds"
    assert model.credential_namespace(spec, "vault-creds", None) == "vault-creds"
    assert model.credential_namespace(spec, None, "demo") == "demo"
    assert model.credential_namespace(spec, "", "demo") == "demo"
    error = spec_error(model.credential_namespace, spec, None, None)
    assert error.path == "spec.provider" and "ClusterSecretStore vault" in error.problem


# --------------------------------------------------------------------------- decode


def test_decode_strategies() -> None:
    assert model.decode(b"a b!", "None") == b"a b!"
    assert model.decode(b"aGVsbG8=", "Base64") == b"hello"
    assert model.decode(b"aGVs\r\nbG8=\n", "Base64") == b"hello"  # Go skips CR and LF
    assert model.decode(b"_-8=", "Base64URL") == b"\xff\xef"
    assert model.decode(b"/+8=", "Base64") == b"\xff\xef"
    assert model.decode(b"", "Base64") == b""
    assert model.decode(b"/+8=", "Auto") == b"\xff\xef"
    assert model.decode(b"_-8=", "Auto") == b"\xff\xef"
    assert model.decode(b"plain text", "Auto") == b"plain text"
    assert model.decode(b"test", "Auto") == base64.b64decode(b"test")  # ESO's quirk, kept


@pytest.mark.parametrize(
    ("value", "strategy"),
    [
        (b"aGVsbG8", "Base64"),  # padding is required
        (b"aGVsbG8==", "Base64"),
        (b"aGVs bG8=", "Base64"),
        (b"_-8=", "Base64"),
        (b"/+8=", "Base64URL"),
        (b"aGVsbG8=aGVsbG8=", "Base64"),
        (b"YQ=", "Base64"),
    ],
)
def test_decode_rejects_invalid_base64(value: bytes, strategy: str) -> None:
    with pytest.raises(SpecError) as caught:
        model.decode(value, strategy, path="spec.data[1].remoteRef.decodingStrategy")
    assert caught.value.path == "spec.data[1].remoteRef.decodingStrategy"
    assert value.decode() not in str(caught.value)


def test_decode_unknown_strategy() -> None:
    assert spec_error(model.decode, b"x", "Hex").path == "decodingStrategy"


@given(st.binary())
def test_decode_round_trips(raw: bytes) -> None:
    assert model.decode(raw, "None") == raw
    assert model.decode(base64.b64encode(raw), "Base64") == raw
    assert model.decode(base64.urlsafe_b64encode(raw), "Base64URL") == raw
    assert model.decode(base64.b64encode(raw), "Auto") == raw
    assert model.decode(base64.urlsafe_b64encode(raw), "Auto") == raw
    assert model.decode(base64.encodebytes(raw), "Base64") == raw  # with line breaks


@given(st.binary())
def test_auto_keeps_values_that_are_not_base64(raw: bytes) -> None:
    value = raw + b"!"  # "!" is in neither alphabet
    assert model.decode(value, "Auto") == value


@given(st.text(alphabet="ABCab01+/=", max_size=12))
def test_base64_agrees_with_a_strict_decoder(text: str) -> None:
    """Valid exactly when Python's strict decoder accepts the text and its length is a multiple of 4."""
    data = text.encode()
    try:
        expected: bytes | None = base64.b64decode(data, validate=True) if len(data) % 4 == 0 else None
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(SpecError):
            model.decode(data, "Base64")
    else:
        assert model.decode(data, "Base64") == expected


# --------------------------------------------------------------------------- sanitize_key


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("db/prod", "db_prod"),
        ("team/app/db-password", "team_app_db-password"),
        ("a.b-c_D9", "a.b-c_D9"),
        ("a b:c@d", "a_b_c_d"),
        ("café", "caf_"),
        ("日本", "__"),
        ("", ""),
    ],
)
def test_sanitize_key(name: str, key: str) -> None:
    assert model.sanitize_key(name) == key


@given(st.text(max_size=40))
def test_sanitize_key_properties(name: str) -> None:
    key = model.sanitize_key(name)
    assert len(key) == len(name)
    assert model.sanitize_key(key) == key
    assert key == "" or re.fullmatch(model.SECRET_KEY, key)
    if re.fullmatch(model.SECRET_KEY, name):
        assert key == name


def test_sanitize_keys() -> None:
    assert model.sanitize_keys({"a/b": b"1", "c": b"2", "": b"3"}) == {"a_b": b"1", "c": b"2"}
    error = spec_error(lambda: model.sanitize_keys({"a/b": b"1", "a_b": b"2"}, path="spec.dataFrom[3]"))
    assert error.path == "spec.dataFrom[3]" and "'a_b'" in error.problem
    assert "1" not in error.problem.replace("[3]", "")
    for bad in (".", "..", "..x", "k" * 254):
        with pytest.raises(SpecError):
            model.sanitize_keys({bad: b"v"})


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("a", True),
        (".a", True),
        ("a..b", True),
        (".", False),
        ("..", False),
        ("..a", False),
        ("", False),
        ("a/b", False),
        ("k" * 253, True),
        ("k" * 254, False),
    ],
)
def test_is_secret_key(key: str, ok: bool) -> None:
    assert model.is_secret_key(key) is ok


# ------------------------------------------------- ESO fields: templateFrom, rewrite, retries


def test_template_from_rewrite_and_refresh_policy_parse_with_esos_defaults() -> None:
    template = {
        "templateFrom": [
            {
                "configMap": {
                    "name": "tpl",
                    "items": [{"key": "a.yaml"}, {"key": "b", "templateAs": "KeysAndValues"}],
                }
            },
            {"target": "Labels", "literal": "team: a"},
        ]
    }
    rewrite = [
        {"regexp": {"source": "^db-", "target": ""}},
        {"transform": {"template": "{{ .value }}"}},
        {"merge": {}},
    ]
    spec = model.parse_external_secret(
        es(
            meta={"name": "app", "namespace": "demo", "labels": {"l": "1"}, "annotations": {"a": "2"}},
            refreshPolicy="OnChange",
            target={"template": template},
            dataFrom=[{"extract": {"key": "x"}, "rewrite": rewrite}],
        )
    )
    assert spec.refresh_policy == "OnChange"
    assert (dict(spec.labels), dict(spec.annotations)) == ({"l": "1"}, {"a": "2"})
    assert spec.target.template is not None
    first, second = spec.target.template.template_from
    assert first.config_map == model.TemplateRef(
        "tpl", (model.TemplateItem("a.yaml", "Values"), model.TemplateItem("b", "KeysAndValues"))
    )
    assert (first.target, second.target, second.literal) == ("Data", "Labels", "team: a")
    assert spec.data_from[0].rewrite == (
        model.RewriteRegexp("^db-", ""),
        model.RewriteTransform("{{ .value }}"),
        model.RewriteMerge("", (), "Strict", "Error", "Extract"),
    )
    assert spec.target.template.engine_version == "v2"


def test_a_template_from_only_external_secret_is_valid() -> None:
    body = es(target={"template": {"templateFrom": [{"literal": "k: v"}]}})
    del body["spec"]["data"]
    assert model.parse_external_secret(body).data == ()


@pytest.mark.parametrize(
    ("template_from", "path", "words"),
    [
        (
            [{"configMap": {"name": "t"}}],
            "spec.target.template.templateFrom[0].configMap.items",
            "is required",
        ),
        ([{"secret": {"name": "t", "items": [{"key": "a/b"}]}}], ".secret.items[0].key", "Secret key"),
        ([{"target": "Spec", "literal": "x"}], "spec.target.template.templateFrom[0].target", "not one of"),
        (
            [{"target": "Labels", "configMap": {"name": "t", "items": [{"key": "_bad"}]}}],
            "spec.target.template.templateFrom[0].configMap.items[0].key",
            "label key and is not a valid one",
        ),
    ],
)
def test_template_from_errors(template_from: list[Any], path: str, words: str) -> None:
    error = spec_error(model.parse_external_secret, es(target={"template": {"templateFrom": template_from}}))
    assert error.path.endswith(path) and words in error.problem


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, model.RetrySettings(0, 1.0)),
        ({"maxRetries": 3}, model.RetrySettings(3, 1.0)),
        ({"maxRetries": 10, "retryInterval": "250ms"}, model.RetrySettings(10, 0.25)),
    ],
)
def test_retry_settings(settings: dict[str, Any], expected: model.RetrySettings) -> None:
    assert model.parse_store(store(retrySettings=settings)).retry == expected
    assert model.parse_store(store()).retry is None


@pytest.mark.parametrize(
    ("settings", "path", "words"),
    [
        ({"maxRetries": 11}, "spec.retrySettings.maxRetries", "at most 10"),
        ({"maxRetries": -1}, "spec.retrySettings.maxRetries", "at least 0"),
        ({"retryInterval": "1 second"}, "spec.retrySettings.retryInterval", "Go duration"),
    ],
)
def test_retry_settings_errors(settings: dict[str, Any], path: str, words: str) -> None:
    error = spec_error(model.parse_store, store(retrySettings=settings))
    assert (error.path, words in error.problem) == (path, True)


@pytest.mark.parametrize(
    ("name", "default", "unicode"),
    [
        ("db/prod", "db_prod", "db_U002f_prod"),
        ("a b", "a_b", "a_U0020_b"),
        ("clé", "cl_", "cl_U00e9_"),
        ("ok-._9", "ok-._9", "ok-._9"),
    ],
)
def test_conversion_strategies(name: str, default: str, unicode: str) -> None:
    assert model.sanitize_key(name) == default
    assert model.sanitize_key(name, "Unicode") == unicode
