"""The CRDs in crds/: valid for the API server, structural, default-free, in step with secretsync.model.

Why each check: ``kubernetes-validate --strict`` catches misspelt CRD fields for
the oldest and newest Kubernetes we support; the structural and no-default
checks encode rules the API server (or GitOps users) would otherwise enforce
late; the model comparison guarantees the operator accepts exactly what the
API server accepts. CEL rules cannot run here without an API server, so a
small evaluator for the subset we use runs them against the same inputs the
model is fed, and both must agree.

ESO fields secretsync does not support are declared in the CRDs (a closed
schema would let the API server prune them silently) and refused by one CEL
rule each; ``REFUSALS`` below puts each one in an otherwise valid object, and
the CEL rule and the model must refuse it with the same path and message
(tests/cluster/test_crd_fields_real.py sends the same objects to a real API
server).
"""

from __future__ import annotations

import copy
import dataclasses
import pathlib
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from secretsync import crypto, model, sealing
from secretsync.errors import SpecError
from tests.support.cel import Cel, CelError, cel_failures
from tests.test_crypto import VECTORS, vector_key

REPO = pathlib.Path(__file__).resolve().parent.parent
CRD_DIR = REPO / "crds"
CRD_FILES = sorted(CRD_DIR.glob("*.yaml"))
OURS = ("externalsecrets.yaml", "secretstores.yaml", "clustersecretstores.yaml")
EXAMPLE_FILES = sorted((REPO / "examples").rglob("*.yaml"))
K8S_VERSIONS = ("1.29.0", "1.37.0")


def _load(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((CRD_DIR / name).read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


CRDS = {name: _load(name) for name in OURS}
BY_KIND = {crd["spec"]["names"]["kind"]: crd for crd in CRDS.values()}


def _schema(crd: dict[str, Any]) -> dict[str, Any]:
    (version,) = crd["spec"]["versions"]
    schema = version["schema"]["openAPIV3Schema"]
    assert isinstance(schema, dict)
    return schema


def _at(schema: dict[str, Any], *path: str) -> dict[str, Any]:
    """The schema node under ``path`` (``[]`` steps into array items)."""
    node = schema
    for step in path:
        node = node["items"] if step == "[]" else node["properties"][step]
    return node


# --------------------------------------------------------------------------- kubernetes-validate


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("path", CRD_FILES, ids=lambda p: p.name)
def test_crd_passes_kubernetes_validate_strict(path: pathlib.Path, version: str) -> None:
    for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        kubernetes_validate.validate(doc, version, strict=True)


def test_kubernetes_validate_cli_accepts_every_crd() -> None:
    """The exact command from the docs, once, for both versions."""
    exe = pathlib.Path(sys.executable).parent / "kubernetes-validate"
    for version in K8S_VERSIONS:
        result = subprocess.run(
            [str(exe), "--quiet", "--strict", "-k", version, *map(str, CRD_FILES)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- shape


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}[{index}]")


def _schema_nodes(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, node
    for key, child in (node.get("properties") or {}).items():
        yield from _schema_nodes(child, f"{path}.{key}")
    if isinstance(node.get("items"), dict):
        yield from _schema_nodes(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _schema_nodes(node["additionalProperties"], f"{path}{{}}")


@pytest.mark.parametrize("name", OURS)
def test_no_server_side_defaults(name: str) -> None:
    """ESO users get GitOps drift from server-side defaults; ours are applied in code."""
    found = [path for path, node in _walk(CRDS[name]) if isinstance(node, dict) and "default" in node]
    assert found == []


@pytest.mark.parametrize("name", [*OURS, "sealedsecrets.yaml"])
def test_schema_is_structural(name: str) -> None:
    """The rules the API server applies to a structural schema, checked before a cluster does."""
    schema = _schema(CRDS[name] if name in CRDS else _load(name))
    for path, node in _schema_nodes(schema):
        where = path or "<root>"
        preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
        assert "type" in node or preserve or node.get("x-kubernetes-int-or-string"), f"{where}: no type"
        assert not ("properties" in node and "additionalProperties" in node), f"{where}: both"
        if node.get("type") == "array":
            assert isinstance(node.get("items"), dict), f"{where}: array without items"
        for banned in ("$ref", "allOf", "oneOf", "anyOf", "not", "definitions", "dependencies"):
            assert banned not in node, f"{where}: {banned} is not allowed"
    assert _at(schema, "metadata") == {"type": "object"}


def test_names_scope_and_status_subresource() -> None:
    expected = {
        "externalsecrets.yaml": ("ExternalSecret", "Namespaced", ["es"]),
        "secretstores.yaml": ("SecretStore", "Namespaced", ["ss"]),
        "clustersecretstores.yaml": ("ClusterSecretStore", "Cluster", ["css"]),
    }
    for name, (kind, scope, short) in expected.items():
        spec = CRDS[name]["spec"]
        assert spec["group"] == "secretsync.io"
        assert CRDS[name]["metadata"]["name"] == f"{spec['names']['plural']}.secretsync.io"
        assert (spec["names"]["kind"], spec["scope"], spec["names"]["shortNames"]) == (kind, scope, short)
        assert spec["names"]["categories"] == ["secretsync"]
        (version,) = spec["versions"]
        assert (version["name"], version["served"], version["storage"]) == ("v1alpha1", True, True)
        assert version["subresources"] == {"status": {}}


def _columns(name: str) -> dict[str, tuple[str, str]]:
    (version,) = CRDS[name]["spec"]["versions"]
    return {c["name"]: (c["type"], c["jsonPath"]) for c in version["additionalPrinterColumns"]}


def test_printer_columns() -> None:
    ready = ("string", '.status.conditions[?(@.type=="Ready")].status')
    reason = ("string", '.status.conditions[?(@.type=="Ready")].reason')
    age = ("date", ".metadata.creationTimestamp")
    assert _columns("externalsecrets.yaml") == {
        "Store": ("string", ".spec.secretStoreRef.name"),
        "Refresh Interval": ("string", ".spec.refreshInterval"),
        "Ready": ready,
        "Reason": reason,
        "Last Sync": ("date", ".status.refreshTime"),
        "Age": age,
    }
    for name in ("secretstores.yaml", "clustersecretstores.yaml"):
        columns = _columns(name)
        assert {k: columns[k] for k in ("Ready", "Reason", "Age")} == {
            "Ready": ready,
            "Reason": reason,
            "Age": age,
        }


def test_store_crds_share_the_provider_schema() -> None:
    """One provider vocabulary: a store moves between SecretStore and ClusterSecretStore unchanged."""
    ss, css = (_schema(CRDS[n]) for n in ("secretstores.yaml", "clustersecretstores.yaml"))
    css_spec = copy.deepcopy(_at(css, "spec"))
    del css_spec["properties"]["conditions"]
    # Only a cluster admin's store may opt in to the operator's own identity (secretsync.tenancy).
    assert css_spec["properties"].pop("useOperatorIdentity")["type"] == "boolean"
    assert "useOperatorIdentity" not in _at(ss, "spec")["properties"]
    assert _at(ss, "spec") == css_spec
    assert _at(ss, "status") == _at(css, "status")


# --------------------------------------------------------------------------- model agrees


def _compare(node: model.Node, schema: dict[str, Any], path: str) -> Iterator[str]:
    kind = schema.get("type")
    if node.type == "any":
        if not (kind == "object" and schema.get("x-kubernetes-preserve-unknown-fields") is True):
            yield f"{path}: the model keeps it as is, the CRD does not preserve unknown fields"
        return
    if node.type == "map":
        if kind != "object" or schema.get("additionalProperties") != {"type": "string"}:
            yield f"{path}: the model has a string map, the CRD {schema}"
        return
    if node.type == "object":
        if kind != "object" or "additionalProperties" in schema:
            yield f"{path}: type differs"
            return
        crd_fields = set(schema.get("properties") or {})
        if crd_fields != set(node.fields):
            only_crd, only_model = crd_fields - set(node.fields), set(node.fields) - crd_fields
            yield f"{path}: fields differ: crd-only {only_crd}, model-only {only_model}"
        if set(schema.get("required") or []) != set(node.required):
            yield f"{path}: required differs: crd {schema.get('required')}, model {node.required}"
        for key in crd_fields & set(node.fields):
            yield from _compare(node.fields[key], schema["properties"][key], f"{path}.{key}")
        return
    if kind != node.type:
        yield f"{path}: type crd {kind} != model {node.type}"
        return
    if node.type == "array":
        if schema.get("maxItems") != node.max_items:
            yield f"{path}: maxItems crd {schema.get('maxItems')} != model {node.max_items}"
        assert node.items is not None
        yield from _compare(node.items, schema["items"], f"{path}[]")
        return
    if node.type == "integer":
        for word, (crd_value, model_value) in {
            "minimum": (schema.get("minimum"), node.minimum),
            "maximum": (schema.get("maximum"), node.maximum),
        }.items():
            if crd_value != model_value:
                yield f"{path}: {word} crd {crd_value!r} != model {model_value!r}"
        return
    if node.type == "string":
        pairs = {
            "enum": (list(schema.get("enum") or []), list(node.enum)),
            "pattern": (schema.get("pattern"), node.pattern),
            "minLength": (schema.get("minLength"), node.min_length),
            "maxLength": (schema.get("maxLength"), node.max_length),
            "format": (schema.get("format"), node.format),
        }
        for word, (crd_value, model_value) in pairs.items():
            if crd_value != model_value:
                yield f"{path}: {word} crd {crd_value!r} != model {model_value!r}"


@pytest.mark.parametrize(
    ("name", "node"),
    [
        ("externalsecrets.yaml", model.ES_SPEC_SCHEMA),
        ("secretstores.yaml", model.STORE_SPEC_SCHEMA),
        ("clustersecretstores.yaml", model.CLUSTER_STORE_SPEC_SCHEMA),
    ],
)
def test_model_schema_matches_crd(name: str, node: model.Node) -> None:
    assert list(_compare(node, _at(_schema(CRDS[name]), "spec"), "spec")) == []


# --------------------------------------------------------------------------- a CEL subset
# The evaluator lives in tests/support/cel.py: the API emulator enforces the same rules with it.


def test_cel_evaluator_basics() -> None:
    assert Cel("(has(self.a) ? 1 : 0) + (has(self.b) ? 1 : 0) == 1")({"a": 1}) is True
    assert Cel("has(self.a) != has(self.b)")({}) is False
    assert Cel("self.op in ['In', 'NotIn'] ? size(self.v) > 0 : true")({"op": "In", "v": [1]}) is True
    assert Cel("!(has(self.x) && self.x == 'y')")({"x": "y"}) is False
    assert Cel("has(self.a.b)")({"a": {"b": 1}}) is True
    with pytest.raises(CelError):
        Cel("has(self.a.b)")({})  # as in Kubernetes: guard with has(self.a) first
    with pytest.raises(CelError):
        Cel("self.a == 1")({})


# --------------------------------------------------------------------------- CEL rules == model


def _cel_rules(schema: dict[str, Any]) -> dict[str, list[str]]:
    return {
        path: [rule["rule"] for rule in node["x-kubernetes-validations"]]
        for path, node in _schema_nodes(schema)
        if node.get("x-kubernetes-validations")
    }


def test_every_cel_rule_is_where_we_expect_it() -> None:
    """Each rule sits on the node it constrains, carries a message, and parses in our subset."""
    where = {name: set(_cel_rules(_schema(crd))) for name, crd in CRDS.items()}
    provider = {
        ".spec.provider",
        ".spec.provider.vault.auth",
        ".spec.provider.vault.auth.appRole",
        ".spec.provider.vault.auth.kubernetes",
    }
    refusing = {kind: {parent for parent, _, _ in _refusals(node)} for kind, node in SCHEMAS.items()}
    assert (
        where["externalsecrets.yaml"]
        == {
            ".spec",
            ".spec.target",
            ".spec.dataFrom[]",
            ".spec.dataFrom[].rewrite[]",
            ".spec.dataFrom[].rewrite[].merge",
        }
        | refusing["ExternalSecret"]
    )
    assert where["secretstores.yaml"] == provider | refusing["SecretStore"]
    assert where["clustersecretstores.yaml"] == provider | refusing["ClusterSecretStore"] | {
        ".spec.conditions[].namespaceSelector.matchExpressions[]"
    }
    for crd in CRDS.values():
        for _, node in _schema_nodes(_schema(crd)):
            for rule in node.get("x-kubernetes-validations") or []:
                assert set(rule) - {"fieldPath"} == {"rule", "message"} and rule["message"]
                Cel(rule["rule"])  # parses


def _es(**spec: Any) -> dict[str, Any]:
    spec.setdefault("secretStoreRef", {"name": "store"})
    return {
        "apiVersion": "secretsync.io/v1alpha1",
        "kind": "ExternalSecret",
        "metadata": {"name": "es", "namespace": "demo"},
        "spec": spec,
    }


def _store(provider: dict[str, Any], kind: str = "SecretStore", **spec: Any) -> dict[str, Any]:
    meta = {"name": "store"} | ({"namespace": "demo"} if kind == "SecretStore" else {})
    return {
        "apiVersion": "secretsync.io/v1alpha1",
        "kind": kind,
        "metadata": meta,
        "spec": {"provider": provider, **spec},
    }


_DATA = [{"secretKey": "k", "remoteRef": {"key": "r"}}]
_REF = {"name": "s", "key": "k"}
_VAULT = {"server": "http://vault:8200"}


def _parse(body: dict[str, Any]) -> None:
    if body["kind"] == "ExternalSecret":
        model.parse_external_secret(body)
    else:
        model.parse_store(body)


def _agree(body: dict[str, Any], model_path: str | None) -> None:
    """CEL (over the whole CRD schema) and the model must both accept, or both reject."""
    failures = cel_failures(_schema(BY_KIND[body["kind"]]), body)
    if model_path is None:
        assert failures == []
        _parse(body)
    else:
        assert failures, "the CRD's CEL rules accept what the model rejects"
        with pytest.raises(SpecError) as caught:
            _parse(body)
        assert caught.value.path == model_path


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ({"data": _DATA}, None),
        ({"dataFrom": [{"extract": {"key": "r"}}]}, None),
        ({"target": {"template": {"data": {"k": "static"}}}}, None),
        ({}, "spec"),
        ({"data": [], "dataFrom": []}, "spec"),
        ({"target": {}}, "spec"),
        ({"target": {"template": {}}}, "spec"),
        ({"target": {"template": {"data": {}}}}, "spec"),
        ({"target": {"template": {"templateFrom": [{"literal": "k: v"}]}}}, None),
        ({"target": {"template": {"templateFrom": []}}}, "spec"),
    ],
)
def test_cel_data_or_data_from(spec: dict[str, Any], error: str | None) -> None:
    _agree(_es(**spec), error)


@pytest.mark.parametrize("creation", [None, *model.CREATION_POLICIES])
@pytest.mark.parametrize("deletion", [None, *model.DELETION_POLICIES])
def test_cel_policy_combinations(creation: str | None, deletion: str | None) -> None:
    target = {k: v for k, v in (("creationPolicy", creation), ("deletionPolicy", deletion)) if v}
    rejected = (deletion == "Delete" and creation in ("Merge", "None")) or (
        deletion == "Merge" and creation == "None"
    )
    _agree(_es(data=_DATA, target=target), "spec.target.deletionPolicy" if rejected else None)


@pytest.mark.parametrize(
    ("entry", "ok"),
    [
        ({"extract": {"key": "r"}}, True),
        ({"find": {"name": {"regexp": "^a"}}}, True),
        ({"extract": {"key": "r"}, "find": {"path": "p"}}, False),
        ({}, False),
    ],
)
def test_cel_extract_xor_find(entry: dict[str, Any], ok: bool) -> None:
    _agree(_es(dataFrom=[{"extract": {"key": "x"}}, entry]), None if ok else "spec.dataFrom[1]")


_REGEXP = {"regexp": {"source": "^db-", "target": ""}}
_TRANSFORM = {"transform": {"template": "{{ .value | upper }}"}}


@pytest.mark.parametrize(
    ("rewrite", "error"),
    [
        ([_REGEXP, _TRANSFORM, {"merge": {}}], None),
        ([{"merge": {"strategy": "JSON", "into": "all"}}], None),
        ([{"merge": {"strategy": "Extract"}}], None),
        ([{}], "spec.dataFrom[0].rewrite[0]"),
        ([_TRANSFORM, {**_REGEXP, **_TRANSFORM}], "spec.dataFrom[0].rewrite[1]"),
        ([{"merge": {"strategy": "JSON"}}], "spec.dataFrom[0].rewrite[0].merge.into"),
        ([{"merge": {"strategy": "JSON", "into": ""}}], "spec.dataFrom[0].rewrite[0].merge.into"),
    ],
)
def test_cel_rewrite_operations(rewrite: list[dict[str, Any]], error: str | None) -> None:
    """ESO's CRD: exactly one operation per rewrite entry (Min/MaxProperties 1); into for JSON."""
    _agree(_es(dataFrom=[{"extract": {"key": "r"}, "rewrite": rewrite}]), error)


_ONE_PROVIDER = {
    "vault": _VAULT,
    "aws": {"service": "SecretsManager", "region": "eu-west-1"},
    "gcpsm": {"projectID": "p"},
    "fake": {"data": []},
}


@pytest.mark.parametrize("kind", model.STORE_KINDS)
@pytest.mark.parametrize(
    "names", [(), ("vault",), ("aws",), ("gcpsm",), ("fake",), ("vault", "aws"), ("gcpsm", "fake", "aws")]
)
def test_cel_exactly_one_provider(kind: str, names: tuple[str, ...]) -> None:
    provider = {name: _ONE_PROVIDER[name] for name in names}
    _agree(_store(provider, kind), None if len(names) == 1 else "spec.provider")


_AUTH = {
    "tokenSecretRef": _REF,
    "appRole": {"roleId": "r", "secretRef": _REF},
    "kubernetes": {"role": "r", "serviceAccountRef": {"name": "sa"}},
}


@pytest.mark.parametrize(
    "methods",
    [(), ("tokenSecretRef",), ("appRole",), ("kubernetes",), ("tokenSecretRef", "appRole"), tuple(_AUTH)],
)
def test_cel_vault_auth_at_most_one(methods: tuple[str, ...]) -> None:
    auth = {m: _AUTH[m] for m in methods}
    _agree(
        _store({"vault": {**_VAULT, "auth": auth}}), None if len(methods) <= 1 else "spec.provider.vault.auth"
    )


@pytest.mark.parametrize(
    ("app_role", "ok"),
    [
        ({"roleId": "r", "secretRef": _REF}, True),
        ({"roleRef": _REF, "secretRef": _REF}, True),
        ({"roleId": "r", "roleRef": _REF, "secretRef": _REF}, True),
        ({"secretRef": _REF}, False),
    ],
)
def test_cel_app_role_needs_a_role(app_role: dict[str, Any], ok: bool) -> None:
    body = _store({"vault": {**_VAULT, "auth": {"appRole": app_role}}})
    _agree(body, None if ok else "spec.provider.vault.auth.appRole")


@pytest.mark.parametrize(
    ("kube", "ok"),
    [
        ({"role": "r", "serviceAccountRef": {"name": "sa"}}, True),
        ({"role": "r", "secretRef": _REF}, True),
        ({"role": "r"}, False),
    ],
)
def test_cel_kubernetes_auth_needs_a_token_source(kube: dict[str, Any], ok: bool) -> None:
    body = _store({"vault": {**_VAULT, "auth": {"kubernetes": kube}}})
    _agree(body, None if ok else "spec.provider.vault.auth.kubernetes")


@pytest.mark.parametrize(
    ("term", "ok"),
    [
        ({"key": "team", "operator": "In", "values": ["a"]}, True),
        ({"key": "team", "operator": "NotIn", "values": ["a", "b"]}, True),
        ({"key": "team", "operator": "Exists"}, True),
        ({"key": "team", "operator": "DoesNotExist", "values": []}, True),
        ({"key": "team", "operator": "In"}, False),
        ({"key": "team", "operator": "NotIn", "values": []}, False),
        ({"key": "team", "operator": "Exists", "values": ["a"]}, False),
    ],
)
def test_cel_selector_terms(term: dict[str, Any], ok: bool) -> None:
    cond = {"namespaceSelector": {"matchExpressions": [term]}}
    body = _store({"fake": {"data": []}}, "ClusterSecretStore", conditions=[cond])
    _agree(body, None if ok else "spec.conditions[0].namespaceSelector.matchExpressions[0].values")


# --------------------------------------------------------------------------- declared but refused

SCHEMAS: dict[str, model.Node] = {
    "ExternalSecret": model.ES_SPEC_SCHEMA,
    "SecretStore": model.STORE_SPEC_SCHEMA,
    "ClusterSecretStore": model.CLUSTER_STORE_SPEC_SCHEMA,
}


def _refusals(node: model.Node, path: str = ".spec") -> Iterator[tuple[str, str, model.Node]]:
    """(parent path as ``_schema_nodes`` names it, field, the field's node) for every refused field."""
    if node.type == "object":
        for key, child in node.fields.items():
            if child.refuse:
                yield path, key, child
            else:
                yield from _refusals(child, f"{path}.{key}")
    elif node.type == "array":
        assert node.items is not None
        yield from _refusals(node.items, f"{path}[]")


def _cel_literal(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else f"'{value}'"


def refusal_rule(field: str, node: model.Node) -> str:
    """The one CEL rule, on the parent object, that refuses ``field`` (but its supported values)."""
    if not node.supported:
        return f"!has(self.{field})"
    allowed = [_cel_literal(value) for value in node.supported]
    test = f"== {allowed[0]}" if len(allowed) == 1 else f"in [{', '.join(allowed)}]"
    return f"!has(self.{field}) || self.{field} {test}"


@pytest.mark.parametrize("kind", SCHEMAS)
def test_each_refused_field_has_one_cel_rule_with_the_models_message(kind: str) -> None:
    """Exactly the model's refusals, each one rule with a fieldPath, and the same message."""
    expected: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for parent, field, node in _refusals(SCHEMAS[kind]):
        expected[parent].append((refusal_rule(field, node), f".{field}", node.refuse))
    found: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for path, node in _schema_nodes(_schema(BY_KIND[kind])):
        for rule in node.get("x-kubernetes-validations") or []:
            if "fieldPath" in rule:
                found[path].append((" ".join(rule["rule"].split()), rule["fieldPath"], rule["message"]))
    assert {k: sorted(v) for k, v in found.items()} == {k: sorted(v) for k, v in expected.items()}


def test_every_unsupported_message_is_used_by_the_schema() -> None:
    """model.UNSUPPORTED is the one source of the messages: no entry without its field."""
    used = {node.refuse for schema in SCHEMAS.values() for _, _, node in _refusals(schema)}
    assert used == set(model.UNSUPPORTED.values())


def set_at(obj: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at a dotted path with list indices (``spec.data[0].sourceRef``), making objects."""
    steps: list[str | int] = []
    for part in path.split("."):
        name, *indices = re.split(r"\[(\d+)\]", part)
        steps.append(name)
        steps.extend(int(i) for i in indices if i)
    node: Any = obj
    for step in steps[:-1]:
        node = node.setdefault(step, {}) if isinstance(step, str) else node[step]
    node[steps[-1]] = value


def _node_at(node: model.Node, path: str) -> model.Node:
    for part in re.sub(r"\[\d+\]", "", path).split(".")[1:]:
        while node.type == "array":
            assert node.items is not None
            node = node.items
        node = node.fields[part]
    return node


_ES_SPEC: dict[str, Any] = {
    "secretStoreRef": {"name": "store"},
    "target": {"template": {"metadata": {}}},
    "data": [{"secretKey": "password", "remoteRef": {"key": "db"}}],
    "dataFrom": [{"extract": {"key": "app"}}, {"find": {"path": "app/"}}],
}
_PROVIDERS: dict[str, dict[str, Any]] = {
    "vault": {"server": "https://vault.example.com:8200"},
    "aws": {"service": "SecretsManager", "region": "eu-west-1"},
    "gcpsm": {"projectID": "my-project"},
    "fake": {"data": [{"key": "k", "value": "v"}]},
}
_KEY_REF = {"name": "creds", "key": "key"}

# Each refused field, with a value as ESO's docs write it.
_ES_REFUSED: dict[str, Any] = {
    "spec.syncWindows": {"kind": "allow", "windows": [{"schedule": "0 9 * * 1-5", "duration": "8h"}]},
    "spec.target.manifest": {"apiVersion": "v1", "kind": "ConfigMap"},
    "spec.target.template.engineVersion": "v1",
    "spec.target.template.metadata.finalizers": ["example.com/cleanup"],
    "spec.data[0].sourceRef": {"storeRef": {"name": "other", "kind": "ClusterSecretStore"}},
    "spec.data[0].remoteRef.nullBytePolicy": "Fail",
    "spec.dataFrom[0].sourceRef": {
        "generatorRef": {
            "apiVersion": "generators.external-secrets.io/v1alpha1",
            "kind": "Password",
            "name": "pw",
        }
    },
    "spec.dataFrom[0].extract.nullBytePolicy": "Fail",
    "spec.dataFrom[1].find.nullBytePolicy": "Fail",
}
_STORE_REFUSED: dict[str, Any] = {
    **{f"spec.provider.{name}": {} for name in model.OTHER_ESO_PROVIDERS},
    "spec.provider.azurekv": {"vaultUrl": "https://my-vault.vault.azure.net", "authType": "WorkloadIdentity"},
    "spec.provider.vault.tls": {"certSecretRef": _KEY_REF, "keySecretRef": _KEY_REF},
    "spec.provider.vault.caProvider": {"type": "ConfigMap", "name": "ca", "key": "ca.crt"},
    "spec.provider.vault.readYourWrites": True,
    "spec.provider.vault.forwardInconsistent": True,
    "spec.provider.vault.headers": {"X-Vault-Request": "true"},
    "spec.provider.vault.checkAndSet": {"required": True},
    "spec.provider.vault.auth.ldap": {"path": "ldap", "username": "u", "secretRef": _KEY_REF},
    "spec.provider.vault.auth.userPass": {"path": "userpass", "username": "u", "secretRef": _KEY_REF},
    "spec.provider.vault.auth.jwt": {"path": "jwt", "role": "r", "secretRef": _KEY_REF},
    "spec.provider.vault.auth.cert": {"clientCert": _KEY_REF, "secretRef": _KEY_REF},
    "spec.provider.vault.auth.iam": {"vaultRole": "r", "region": "eu-west-1"},
    "spec.provider.vault.auth.gcp": {"role": "r", "projectID": "p"},
    "spec.provider.aws.auth.jwt": {"serviceAccountRef": {"name": "irsa"}},
    "spec.provider.aws.additionalRoles": ["arn:aws:iam::123456789012:role/hop"],
    "spec.provider.aws.externalID": "tenant-1",
    "spec.provider.aws.sessionTags": [{"key": "team", "value": "a"}],
    "spec.provider.aws.transitiveTagKeys": ["team"],
    "spec.provider.aws.sessionTagsPolicy": "Simple",
    "spec.provider.aws.customSessionTags": {"team": "a"},
    "spec.provider.aws.secretsManager": {"forceDeleteWithoutRecovery": True},
    "spec.provider.aws.prefix": "team-a/",
    "spec.provider.gcpsm.auth.workloadIdentity": {"serviceAccountRef": {"name": "wi"}, "clusterName": "c"},
    "spec.provider.gcpsm.auth.workloadIdentityFederation": {
        "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/k",
        "serviceAccountRef": {"name": "wif"},
    },
    "spec.provider.gcpsm.secretVersionSelectionPolicy": "LatestOrFetch",
    "spec.provider.fake.validationResult": 2,
}


@dataclasses.dataclass(frozen=True)
class Refusal:
    """One refused ESO field, set in an otherwise valid object."""

    kind: str
    path: str  # where the value goes, and the path the API server and the model both report
    value: Any

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.path.removeprefix('spec.')}"

    @property
    def node(self) -> model.Node:
        return _node_at(SCHEMAS[self.kind], self.path)

    @property
    def message(self) -> str:
        return self.node.refuse

    def body(self, value: Any = None, *, name: str = "demo", namespace: str = "demo") -> dict[str, Any]:
        """The object with the refused value (or ``value``: a supported one)."""
        body = self.base(name=name, namespace=namespace)
        set_at(body, self.path, self.value if value is None else value)
        return body

    def base(self, *, name: str = "demo", namespace: str = "demo") -> dict[str, Any]:
        """The same object without the field: valid everywhere."""
        if self.kind == "ExternalSecret":
            spec = copy.deepcopy(_ES_SPEC)
        else:
            provider = self.path.split(".")[2]
            provider = provider if provider in _PROVIDERS else "fake"
            spec = {"provider": {provider: copy.deepcopy(_PROVIDERS[provider])}}
        meta = {"name": name} | ({} if self.kind == "ClusterSecretStore" else {"namespace": namespace})
        return {"apiVersion": "secretsync.io/v1alpha1", "kind": self.kind, "metadata": meta, "spec": spec}


REFUSALS: list[Refusal] = [Refusal("ExternalSecret", path, value) for path, value in _ES_REFUSED.items()] + [
    Refusal(kind, path, value) for kind in model.STORE_KINDS for path, value in _STORE_REFUSED.items()
]


def test_every_refused_field_has_a_case() -> None:
    for kind, schema in SCHEMAS.items():
        fields = {f"{parent}.{field}" for parent, field, _ in _refusals(schema)}
        assert {"." + re.sub(r"\[\d+\]", "[]", case.path) for case in REFUSALS if case.kind == kind} == fields


@pytest.mark.parametrize("case", REFUSALS, ids=lambda case: case.id)
def test_refused_field(case: Refusal) -> None:
    """Declared (kubectl's strict validation knows it), refused by its CEL rule and by the model,
    both with the same path and message; the same object without it is valid."""
    schema = _schema(BY_KIND[case.kind])
    base, body = case.base(), case.body()
    assert cel_failures(schema, base) == []
    _parse(base)
    jsonschema.validate(body, _strict(schema))
    assert cel_failures(schema, body) == [(case.path, case.message)]
    with pytest.raises(SpecError) as caught:
        _parse(body)
    assert (caught.value.path, caught.value.problem) == (case.path, case.message)


@pytest.mark.parametrize("case", [case for case in REFUSALS if case.node.supported], ids=lambda case: case.id)
def test_esos_default_of_a_refused_field_is_accepted(case: Refusal) -> None:
    """metadataPolicy None, readYourWrites false, ...: ESO's no-op values stay valid."""
    schema = _schema(BY_KIND[case.kind])
    for value in case.node.supported:
        body = case.body(value)
        jsonschema.validate(body, _strict(schema))
        assert cel_failures(schema, body) == []
        _parse(body)


ESO_PERIODIC_EXAMPLE: dict[str, Any] = yaml.safe_load(
    """
# ESO's docs: docs/snippets/basic-external-secret.yaml with the "Periodic" refresh policy of
# docs/api/externalsecret.md, as a user migrating it writes it (only apiVersion changed).
apiVersion: secretsync.io/v1alpha1
kind: ExternalSecret
metadata:
  name: example
spec:
  refreshPolicy: Periodic
  refreshInterval: 1h  # Update every hour
  secretStoreRef:
    name: secretstore-sample
    kind: SecretStore
  target:
    name: secret-to-be-created
    creationPolicy: Owner
  data:
  - secretKey: secret-key-to-be-managed
    remoteRef:
      key: provider-key
      version: provider-key-version
      property: provider-key-property
  dataFrom:
  - extract:
      key: remote-key-in-the-provider
"""
)


def test_eso_docs_example_with_every_refresh_policy_is_accepted() -> None:
    body = copy.deepcopy(ESO_PERIODIC_EXAMPLE) | {"metadata": {"name": "example", "namespace": "demo"}}
    for policy in model.REFRESH_POLICIES:
        body["spec"]["refreshPolicy"] = policy
        assert cel_failures(_schema(BY_KIND["ExternalSecret"]), body) == []
        assert model.parse_external_secret(body).refresh_policy == policy
    del body["spec"]["refreshPolicy"]
    assert model.parse_external_secret(body).refresh_policy == "Periodic"  # ESO's default branch


# --------------------------------------------------------------------------- SealedSecret

SEALED = _load("sealedsecrets.yaml")
KUBESEAL_FINALIZER = "example.com/keep"


def kubeseal_output() -> tuple[dict[str, Any], dict[str, Any]]:
    """A SealedSecret as ``kubeseal`` writes it, with our apiVersion, and the Secret it opens to.

    kubeseal (NewSealedSecret) serialises a SealedSecret whose metadata is name, namespace and the
    scope annotations, and whose spec.template.metadata is a copy of the sealed Secret's whole
    ObjectMeta: a zero creationTimestamp is written as ``creationTimestamp: null`` in both, and a
    Secret read from a cluster brings its finalizers, uid and resourceVersion along. The values
    are tests/data/vectors' real kubeseal output.
    """
    sealed, expected = list(yaml.safe_load_all((VECTORS / "bitnami-sealedsecrets-4096.yaml").read_text()))[:2]
    sealed["apiVersion"] = "secretsync.io/v1alpha1"
    sealed["metadata"].update(creationTimestamp=None, finalizers=[KUBESEAL_FINALIZER])
    sealed["spec"]["template"]["metadata"].update(
        creationTimestamp=None,
        finalizers=[KUBESEAL_FINALIZER],
        uid="5c0e3bd6-6d5e-4cbe-9b41-2a4b0d8a9c11",
        resourceVersion="4242",
        labels={"app": "db"},
    )
    return sealed, expected


def test_kubeseal_output_passes_the_crd_strictly_and_unseals() -> None:
    """kubectl apply (strict field validation) of kubeseal's output: Bitnami's CRD keeps unknown
    fields in spec.template.metadata, ours must too; sealing.py reads only labels and annotations."""
    sealed, expected = kubeseal_output()
    schema = _schema(SEALED)
    jsonschema.validate(sealed, _strict(schema))
    assert cel_failures(schema, sealed) == []
    ring = crypto.KeyRing([crypto.KeyEntry.from_key(vector_key(4096))])
    result = sealing.unseal(sealed, ring)
    assert result.ok, result.message
    secret = sealing.build_secret(sealed, result)
    assert secret["data"] == expected["data"]
    assert secret["metadata"] == {"name": "db-creds", "namespace": "team-a", "labels": {"app": "db"}}
    for nulls in ({"metadata": None}, {"metadata": None, "data": None}):
        sealed["spec"]["template"].update(nulls)  # Bitnami's CRD has both nullable
        jsonschema.validate(sealed, _strict(schema))
        assert sealing.build_secret(sealed, sealing.unseal(sealed, ring))["data"] == expected["data"]


def test_the_pre_0_7_bitnami_format_is_declared_and_refused() -> None:
    sealed, _ = kubeseal_output()
    sealed["spec"]["data"] = "c2VhbGVk"
    schema = _schema(SEALED)
    jsonschema.validate(sealed, _strict(schema))
    ((path, message),) = cel_failures(schema, sealed)
    assert path == "spec.data" and "pre-0.7 Bitnami format" in message and "not supported" in message


# --------------------------------------------------------------------------- examples


def _strict(schema: Any) -> Any:
    """The CRD schema as plain JSON Schema, with unknown fields rejected (kubectl's strict mode)."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) for k, v in schema.items() if not k.startswith("x-kubernetes-")}
    if schema.get("nullable"):
        out["type"] = [schema["type"], "null"]
        del out["nullable"]
    if "properties" in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


def _example_documents() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in EXAMPLE_FILES:
        for index, doc in enumerate(yaml.safe_load_all(path.read_text(encoding="utf-8"))):
            if doc is not None:
                out.append((f"{path.relative_to(REPO)}#{index}", doc))
    return out


EXAMPLES = _example_documents()


def test_examples_exist() -> None:
    names = {pathlib.Path(where.split("#")[0]).name for where, _ in EXAMPLES}
    assert {
        "db-secret.yaml",
        "vault-secretstore.yaml",
        "vault-externalsecret.yaml",
        "fake-secretstore.yaml",
        "fake-externalsecret.yaml",
        "clustersecretstore.yaml",
    } <= names
    kinds = {doc["kind"] for _, doc in EXAMPLES}
    assert {"ExternalSecret", "SecretStore", "ClusterSecretStore", "Secret"} <= kinds


@pytest.mark.parametrize(("where", "doc"), EXAMPLES, ids=[where for where, _ in EXAMPLES])
def test_example_is_valid(where: str, doc: dict[str, Any]) -> None:
    """Built-in kinds through kubernetes-validate; ours through the CRD schema, CEL and the model."""
    crd = BY_KIND.get(doc["kind"])
    if crd is None:
        for version in K8S_VERSIONS:
            kubernetes_validate.validate(doc, version, strict=True)
        return
    assert doc["apiVersion"] == "secretsync.io/v1alpha1"
    jsonschema.validate(doc, _strict(_schema(crd)))
    assert cel_failures(_schema(crd), doc) == []
    _parse(doc)
    if crd["spec"]["scope"] == "Namespaced":
        assert doc["metadata"]["namespace"] == "demo"


def test_strict_schema_catches_a_typo() -> None:
    """The example check is only worth something if it rejects unknown fields."""
    doc = _es(data=_DATA, target={"nmae": "x"})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, _strict(_schema(BY_KIND["ExternalSecret"])))
