"""A Kubernetes API emulator for tests: kmock 0.8 plus what kopf and the official client need.

Why this exists: no real API server (kube-apiserver, kind, k3s, envtest) can be obtained on the
machines that run our tests (see ``TEST-INFRA.md``). kmock 0.8 is an in-memory API server, but as
shipped it lacks behaviour that kopf and ``kubernetes`` 37 depend on: resourceVersions, watch
continuation from a resourceVersion, namespaces as a resource, PUT, 201 on create, generateName,
422 on a failed JSON-patch ``test``, CRD-driven discovery, the ``/status`` subresource semantics,
tokens for OpenBao's kubernetes auth. This module keeps kmock's request parsing, discovery,
request recording, DSL reactions (``emulator.handler['patch', ...] << 500`` for fault injection)
and its ``objects`` array for assertions, and replaces its object store with one that behaves like
the real API server in the ways listed above.

Where a real server refuses or changes what a client sends, so does the emulator: Secrets are
validated as kube-apiserver's ValidateSecret does, and custom resources go through their CRD's
structural schema (pruning of unknown fields with warnings, or 400/422 with
``?fieldValidation=Strict``; nulls and defaults; types, formats, enums, patterns, lengths, bounds,
required fields; the ``x-kubernetes-validations`` CEL rules through ``tests/support/cel.py``;
validation ratcheting on update; the status subresource), with the same Status causes and wording
(see the section "Custom resources" below; tests/cluster/test_emulator_cr_parity_real.py checks it
against a real kube-apiserver).

The layer reaches into kmock internals (``kmock._internal``), so kmock is pinned to 0.8 and the
layer has its own tests (``tests/test_emulator_gaps.py``).

Everything runs in one background thread with its own event loop (:class:`KubeEmulator`), so the
synchronous ``kubernetes`` client in tests, kopf's ``KopfRunner`` thread and operator subprocesses
can all talk to it over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import copy
import dataclasses
import datetime
import functools
import ipaddress
import json
import pathlib
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

import aiohttp.web
import attrs
import jsonpatch
import jsonpointer
import kmock
import yaml
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from kmock._internal import apps, parsing, rendering

from tests.support.cel import Cel, CelError, CelSyntaxError

if TYPE_CHECKING:
    import kopf
    import kubernetes.client

JsonDict = dict[str, Any]
T = TypeVar("T")

#: The verbs a fully writable resource lists in discovery; kopf serves only resources whose
#: discovery entry lists ``list``, ``watch`` and ``patch``.
STANDARD_VERBS: tuple[str, ...] = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
)
#: The issuer and default audience of service-account tokens, as in a default cluster.
TOKEN_ISSUER = "https://kubernetes.default.svc.cluster.local"
#: Namespaces that exist in every fresh cluster.
INITIAL_NAMESPACES: tuple[str, ...] = ("default", "kube-system", "kube-public", "kube-node-lease")
#: The token written into kubeconfigs. The emulator does not authenticate API requests (no RBAC),
#: unless a test sets ``KubeEmulatorHandler.authenticate``: then this token, no token (anonymous)
#: and issued tokens that TokenReview accepts pass, and any other bearer token gets 401.
DUMMY_TOKEN = "kube-emulator-dummy-token"

_GENERATE_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # as the API server's names.SimpleNameGenerator
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_SERVER_MANAGED_METADATA = (
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "resourceVersion",
)


# --------------------------------------------------------------------------------------------------
# Errors: every API-level failure becomes a ``Status`` body with the code the real server uses.
# --------------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An API-level failure, rendered as a ``kind: Status`` body (clients map it by ``code``)."""

    def __init__(self, code: int, reason: str, message: str, details: JsonDict | None = None) -> None:
        super().__init__(f"{code} {reason}: {message}")
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details or {}

    def as_status(self) -> JsonDict:
        """The body a real API server sends for this failure."""
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "details": self.details,
            "code": self.code,
        }


_SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_TYPE_KEYS = {  # Kubernetes' ValidateSecret: keys each type needs ("all" of them, or "any" one)
    "kubernetes.io/tls": (("tls.crt", "tls.key"), all),
    "kubernetes.io/basic-auth": (("username", "password"), any),
    "kubernetes.io/ssh-auth": (("ssh-privatekey",), all),
    "kubernetes.io/dockerconfigjson": ((".dockerconfigjson",), all),
    "kubernetes.io/dockercfg": ((".dockercfg",), all),
}


def _validate_secret(name: str, obj: JsonDict) -> None:
    """What kube-apiserver refuses in a Secret (core validation ValidateSecret), with the same
    Status shape: causes name fields and never echo a value."""
    causes: list[JsonDict] = []
    data = {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
    for key in data:
        if len(key) > 253 or key in (".", "..") or not _SECRET_KEY.fullmatch(key):
            causes.append({"reason": "FieldValueInvalid", "field": f"data[{key}]"})
    if sum(len(v) for v in data.values()) > 1 << 20:
        causes.append({"reason": "FieldValueTooLong", "field": "data"})
    kind = obj.get("type") or "Opaque"
    if kind in _TYPE_KEYS:
        keys, rule = _TYPE_KEYS[kind]
        if not rule(k in data for k in keys):
            causes.extend(
                {"reason": "FieldValueRequired", "field": f"data[{k}]"} for k in keys if k not in data
            )
    json_key = {
        "kubernetes.io/dockerconfigjson": ".dockerconfigjson",
        "kubernetes.io/dockercfg": ".dockercfg",
    }.get(kind)
    if json_key and json_key in data:
        try:
            valid = isinstance(json.loads(data[json_key]), dict)
        except ValueError:
            valid = False
        if not valid:
            causes.append({"reason": "FieldValueInvalid", "field": f"data[{json_key}]"})
    for value in (_meta(obj).get("labels") or {}).values():
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.fullmatch(value):
            causes.append({"reason": "FieldValueInvalid", "field": "metadata.labels"})
    if causes:
        fields = ", ".join(c["field"] for c in causes)
        raise _invalid(
            f'Secret "{name}" is invalid: {fields}', {"name": name, "kind": "Secret", "causes": causes}
        )


def _bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def _invalid(message: str, details: JsonDict | None = None) -> ApiError:
    return ApiError(422, "Invalid", message, details)


# --------------------------------------------------------------------------------------------------
# Resources: what discovery serves and how each resource's objects are treated.
# --------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ResourceDef:
    """One served group/version/plural with the facts the API machinery needs about it.

    ``storage_version`` is the version objects are kept in: a CRD with several served versions
    has one set of objects, shown under whichever version is requested (no conversion).
    ``custom`` marks resources defined by a CRD: they have no strategic merge patch and their PUT
    requires a resourceVersion, as on a real server. ``generation`` says whether
    ``metadata.generation`` is maintained (custom resources and CRDs; not Secrets or ConfigMaps).
    """

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = STANDARD_VERBS
    subresources: tuple[str, ...] = ()
    storage_version: str = ""
    custom: bool = False
    generation: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def storage_api_version(self) -> str:
        version = self.storage_version or self.version
        return f"{self.group}/{version}" if self.group else version

    @property
    def group_resource(self) -> tuple[str, str]:
        """The identity shared by all served versions of the same resource."""
        return (self.group, self.plural)

    @property
    def storage_key(self) -> kmock.resource:
        """The kmock resource under which objects are kept in ``handler.objects``."""
        return kmock.resource(self.group, self.storage_version or self.version, self.plural)

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    @property
    def display(self) -> str:
        """How error messages name the resource, as the API server does ("secrets", "widgets.x.io")."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


_NAMESPACES = ResourceDef(
    "",
    "v1",
    "namespaces",
    "Namespace",
    namespaced=False,
    short_names=("ns",),
    verbs=tuple(v for v in STANDARD_VERBS if v != "deletecollection"),
    subresources=("finalize", "status"),
)
_SERVICE_ACCOUNTS = ResourceDef(
    "",
    "v1",
    "serviceaccounts",
    "ServiceAccount",
    namespaced=True,
    short_names=("sa",),
    subresources=("token",),
)
_CRDS = ResourceDef(
    "apiextensions.k8s.io",
    "v1",
    "customresourcedefinitions",
    "CustomResourceDefinition",
    namespaced=False,
    short_names=("crd", "crds"),
    categories=("api-extensions",),
    subresources=("status",),
    generation=True,
)
_TOKEN_REVIEWS = ResourceDef(
    "authentication.k8s.io", "v1", "tokenreviews", "TokenReview", namespaced=False, verbs=("create",)
)

#: The built-in resources the operator and its tests use. Others can be added per test with
#: :meth:`KubeEmulatorHandler.register_resource`.
BUILTIN_RESOURCES: tuple[ResourceDef, ...] = (
    _NAMESPACES,
    ResourceDef("", "v1", "secrets", "Secret", namespaced=True),
    ResourceDef("", "v1", "configmaps", "ConfigMap", namespaced=True, short_names=("cm",)),
    _SERVICE_ACCOUNTS,
    ResourceDef(
        "", "v1", "services", "Service", namespaced=True, short_names=("svc",), subresources=("status",)
    ),
    ResourceDef("", "v1", "events", "Event", namespaced=True, short_names=("ev",)),
    ResourceDef("events.k8s.io", "v1", "events", "Event", namespaced=True, short_names=("ev",)),
    ResourceDef("coordination.k8s.io", "v1", "leases", "Lease", namespaced=True),
    _CRDS,
    _TOKEN_REVIEWS,
)

#: Field selectors the real API server accepts beyond metadata.name/metadata.namespace.
_EXTRA_FIELD_LABELS: dict[tuple[str, str], frozenset[str]] = {
    ("", "secrets"): frozenset({"type"}),
    ("", "namespaces"): frozenset({"status.phase"}),
    ("", "events"): frozenset(
        {
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "type",
        }
    ),
}


def _version_priority(version: str) -> tuple[int, int, int]:
    """Sort key: v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > anything else, as Kubernetes ranks them."""
    match = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if match is None:
        return (0, 0, 0)
    major, stage, minor = match.groups()
    stage_rank = {"alpha": 1, "beta": 2, None: 3}[stage]
    return (stage_rank, int(major), int(minor or 0))


def crd_resource_defs(crd: Mapping[str, Any]) -> list[ResourceDef]:
    """The served resources of a ``apiextensions.k8s.io/v1`` CustomResourceDefinition."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    versions = spec.get("versions") or []
    storage = next((v["name"] for v in versions if v.get("storage")), versions[0]["name"] if versions else "")
    return [
        ResourceDef(
            group=spec["group"],
            version=v["name"],
            plural=names["plural"],
            kind=names["kind"],
            namespaced=spec.get("scope", "Namespaced") == "Namespaced",
            singular=names.get("singular") or names["kind"].lower(),
            short_names=tuple(names.get("shortNames") or ()),
            categories=tuple(names.get("categories") or ()),
            subresources=tuple(sorted(v.get("subresources") or {})),
            storage_version=storage,
            custom=True,
            generation=True,
        )
        for v in versions
        if v.get("served", True)
    ]


def _validate_crd(crd: Mapping[str, Any]) -> None:
    """Reject CRDs a real server would reject, so broken manifests fail in tests, not in clusters."""
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        raise _invalid("CustomResourceDefinition: spec is required")
    names = spec.get("names") or {}
    group, plural, kind = spec.get("group"), names.get("plural"), names.get("kind")
    if not group or not plural or not kind:
        raise _invalid(
            "CustomResourceDefinition: spec.group, spec.names.plural and spec.names.kind are required"
        )
    name = (crd.get("metadata") or {}).get("name")
    if name != f"{plural}.{group}":
        raise _invalid(
            f'CustomResourceDefinition "{name}": metadata.name must be spec.names.plural+"."+spec.group'
        )
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        raise _invalid(f'CustomResourceDefinition "{name}": spec.scope must be Namespaced or Cluster')
    versions = spec.get("versions") or []
    if not versions or not all(isinstance(v, dict) and v.get("name") for v in versions):
        raise _invalid(f'CustomResourceDefinition "{name}": spec.versions must list named versions')
    if sum(1 for v in versions if v.get("storage")) != 1:
        raise _invalid(f'CustomResourceDefinition "{name}": exactly one version must be storage=true')


def load_crd_documents(paths: Iterable[pathlib.Path | str]) -> list[JsonDict]:
    """Read CustomResourceDefinitions from multi-document YAML files (other kinds are skipped)."""
    result: list[JsonDict] = []
    for path in paths:
        resolved = pathlib.Path(path).resolve()
        result.extend(copy.deepcopy(_load_crd_file(resolved, resolved.stat().st_mtime_ns)))
    return result


@functools.lru_cache(maxsize=64)
def _load_crd_file(path: pathlib.Path, mtime_ns: int) -> tuple[JsonDict, ...]:
    """Parse once per file version: every test starts a fresh emulator with the same CRDs."""
    del mtime_ns  # only part of the cache key
    with path.open(encoding="utf-8") as stream:
        documents = list(yaml.safe_load_all(stream))
    return tuple(
        doc
        for doc in documents
        if isinstance(doc, dict)
        and doc.get("kind") == "CustomResourceDefinition"
        and str(doc.get("apiVersion", "")).startswith("apiextensions.k8s.io/")
    )


# --------------------------------------------------------------------------------------------------
# Custom resources: the structural schema of the CRD, as kube-apiserver applies it on every write.
# --------------------------------------------------------------------------------------------------
#
# For a create, update or patch of a custom resource the real server (apiextensions-apiserver):
#
# 1. decodes the body: fields the schema does not declare are pruned (kept under
#    ``x-kubernetes-preserve-unknown-fields``; ``metadata`` keeps only ObjectMeta's fields); with
#    ``?fieldValidation=Strict`` each one is an error instead (400, or 422 ``patch`` for a PATCH),
#    with no parameter (``Warn``) a ``Warning`` header. ``null`` in a non-nullable field is dropped,
#    ``default``\ s are applied, and integral numbers come back as integers (Go's JSON);
# 2. validates the result against the schema (type, format, enum, pattern, lengths, items,
#    properties, bounds, required, nullable, embedded resources), with validation ratcheting on
#    update: a value equal to the old one is not checked again (arrays are atomic: their items
#    are not matched with the old items);
# 3. if step 2 found nothing "blocking" (required, enum, type, too long, too many), evaluates the
#    ``x-kubernetes-validations`` CEL rules (``oldSelf`` rules only on update); otherwise it says
#    the rules were not checked.
#
# A write to ``/status`` validates only ``status`` against the schema (messages then name paths
# relative to it); the CEL rules run over the whole object, ratcheted, so unchanged parts pass.
# The wording of each message is kube-apiserver v1.37's (tests/cluster/test_emulator_cr_parity_real.py
# sends the same requests to both). ``x-kubernetes-list-type`` (set/map uniqueness and item
# correlation) and the rarer formats (hostname, email, uri, ...) are not emulated.

_MISSING: Any = object()  # "no old value to ratchet against" (a create, or an array item)

_OBJECT_META_FIELDS = frozenset(
    {
        "name",
        "generateName",
        "namespace",
        "selfLink",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
    }
)
#: Schema errors after which the server does not evaluate the CEL rules.
_BLOCKING_REASONS = frozenset(
    {
        "FieldValueRequired",
        "FieldValueNotSupported",
        "FieldValueTooLong",
        "FieldValueTooMany",
        "FieldValueTypeInvalid",
    }
)
_RULES_NOT_CHECKED = (
    "Invalid value: null: some validation rules were not checked because the object was invalid; "
    "correct the existing errors to complete validation"
)
#: fieldValidation values, in the order the server lists them.
_FIELD_VALIDATION = ("", "Ignore", "Strict", "Warn")


def _cause(reason: str, field: str, message: str) -> JsonDict:
    return {"reason": reason, "message": message, "field": field or "<nil>"}


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _json_type(value: Any) -> str:
    """The JSON type name kube-apiserver's messages use for a value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _go_number(value: float) -> str:
    """A number as Go's ``%v`` prints a float64 (10, 1.5, 1e+21)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def _go_value(value: Any) -> str:
    """A value as Kubernetes' field errors print it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _go_number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json_equal(a: Any, b: Any) -> bool:
    """JSON equality (Python's ``==`` says ``True == 1``)."""
    return (a == b and type(a) is type(b)) or (_json_type(a) == _json_type(b) == "number" and a == b)


def _go_regex(pattern: str) -> re.Pattern[str]:
    """A schema ``pattern`` (Go RE2) for Python's re: ``$`` ends the text only (not before a final
    newline), and ``\\d``, ``\\w``, ``\\s`` are ASCII, as in Go."""
    out, in_class, escaped = [], False, False
    for char in pattern:
        if escaped:
            out.append("Z" if char == "z" else char)
            escaped = False
        elif char == "\\":
            out.append(char)
            escaped = True
        elif char == "[":
            in_class = True
            out.append(char)
        elif char == "]":
            in_class = False
            out.append(char)
        elif char == "$" and not in_class:
            out.append(r"\Z")
        else:
            out.append(char)
    return re.compile("".join(out), re.ASCII)


_TIME = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z", re.IGNORECASE)


def _is_date(text: str) -> bool:
    if not _DATE.match(text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_date_time(text: str) -> bool:
    """kube-openapi's strfmt.IsDateTime: RFC 3339, case-insensitive ``T`` and ``Z``."""
    parts = text.lower().split("t")
    if len(text) < 4 or len(parts) < 2 or not _is_date(parts[0]):
        return False
    match = _TIME.match(parts[1])
    return match is not None and match[1] <= "23" and match[2] <= "59" and match[3] <= "59"


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text.replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _is_ip(text: str, version: int) -> bool:
    try:
        return ipaddress.ip_address(text).version == version
    except ValueError:
        return False


def _is_cidr(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return "/" in text


#: String formats, by kube-openapi's normalized name (lower case, no ``-``/``_``).
_STRING_FORMATS: dict[str, Callable[[str], bool]] = {
    "byte": _is_base64,
    "datetime": _is_date_time,
    "date": _is_date,
    "uuid": lambda text: _UUID.match(text) is not None,
    "ipv4": lambda text: _is_ip(text, 4),
    "ipv6": lambda text: _is_ip(text, 6),
    "cidr": _is_cidr,
}
_INT_RANGES = {"int32": (-(1 << 31), (1 << 31) - 1), "int64": (-(1 << 63), (1 << 63) - 1)}


@dataclasses.dataclass(frozen=True)
class _Rule:
    """One ``x-kubernetes-validations`` entry, compiled (or the reason it cannot be)."""

    source: str
    compiled: Cel | None
    problem: str
    message: str
    field_path: str
    reason: str

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> _Rule:
        source = str(raw.get("rule", ""))
        compiled, problem = None, ""
        try:
            compiled = Cel(source)
        except CelSyntaxError as exc:
            problem = str(exc)
        message = str(raw.get("message") or "").strip()
        return cls(
            source,
            compiled,
            problem,
            message,
            str(raw.get("fieldPath") or ""),
            str(raw.get("reason") or "FieldValueInvalid"),
        )

    @property
    def label(self) -> str:
        """How the server names the rule in an evaluation error."""
        return self.message or self.source.strip()

    def failure(self, field: str, value: Any, node: _SchemaNode) -> JsonDict:
        """The cause for a rule that evaluated to false."""
        message = self.message or f"failed rule: {self.source.strip()}"
        field = field + self.field_path
        if self.reason == "FieldValueForbidden":
            return _cause(self.reason, field, f"Forbidden: {message}")
        if self.reason == "FieldValueRequired":
            return _cause(self.reason, field, f"Required value: {message}")
        if self.reason == "FieldValueDuplicate":
            return _cause(self.reason, field, f"Duplicate value: {_go_value(value)}")
        if node.type in ("object", "array") or isinstance(value, dict | list):
            return _cause("FieldValueInvalid", field, f"Invalid value: {message}")
        return _cause("FieldValueInvalid", field, f"Invalid value: {_go_value(value)}: {message}")


class _SchemaNode:
    """One node of a compiled structural schema."""

    def __init__(self, raw: Mapping[str, Any], resource: bool = False) -> None:
        self.type: str | None = raw.get("type")
        self.int_or_string = raw.get("x-kubernetes-int-or-string") is True
        self.preserve = raw.get("x-kubernetes-preserve-unknown-fields") is True
        self.embedded = raw.get("x-kubernetes-embedded-resource") is True
        #: apiVersion, kind and metadata are the API machinery's, not the schema's (root, embedded)
        self.resource = resource or self.embedded
        self.nullable = raw.get("nullable") is True
        self.has_default = "default" in raw
        self.default = raw.get("default")
        self.properties = {key: _SchemaNode(sub) for key, sub in (raw.get("properties") or {}).items()}
        additional = raw.get("additionalProperties")
        self.additional = _SchemaNode(additional) if isinstance(additional, dict) else None
        if additional is True:
            self.preserve = True
        items = raw.get("items")
        self.items = _SchemaNode(items) if isinstance(items, dict) else None
        self.defaulted = tuple((key, sub) for key, sub in self.properties.items() if sub.has_default)
        self.required = tuple(raw.get("required") or ())
        self.enum: tuple[Any, ...] | None = tuple(raw["enum"]) if raw.get("enum") is not None else None
        self.pattern_text: str | None = raw.get("pattern")
        self.pattern = _go_regex(self.pattern_text) if self.pattern_text is not None else None
        self.format: str | None = raw.get("format")
        normalized = (self.format or "").lower().replace("-", "").replace("_", "")
        self.string_format = _STRING_FORMATS.get(normalized)
        self.int_range = _INT_RANGES.get(normalized)
        self.min_length, self.max_length = raw.get("minLength"), raw.get("maxLength")
        self.min_items, self.max_items = raw.get("minItems"), raw.get("maxItems")
        self.min_properties, self.max_properties = raw.get("minProperties"), raw.get("maxProperties")
        self.minimum, self.maximum = raw.get("minimum"), raw.get("maximum")
        self.exclusive_minimum = raw.get("exclusiveMinimum") is True
        self.exclusive_maximum = raw.get("exclusiveMaximum") is True
        self.multiple_of = raw.get("multipleOf")
        self.rules = tuple(_Rule.of(rule) for rule in raw.get("x-kubernetes-validations") or ())
        children = [*self.properties.values(), self.additional, self.items]
        #: Whether any CEL rule sits here or below (the rule walk skips the rest).
        self.has_rules: bool = bool(self.rules) or any(child.has_rules for child in children if child)

    def child(self, key: str) -> _SchemaNode | None:
        found = self.properties.get(key)
        return found if found is not None else self.additional


def _prune(node: _SchemaNode | None, value: Any, path: str, unknown: list[str]) -> Any:
    """Decode one value in place as the server does: prune undeclared fields (recording their
    paths), drop non-nullable nulls, apply defaults, make integral numbers integers."""
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 1e21 else value
    if isinstance(value, list):
        items = node.items if node is not None else None
        for index, item in enumerate(value):
            if isinstance(item, dict | list | float):
                value[index] = _prune(items, item, f"{path}[{index}]", unknown)
        return value
    if not isinstance(value, dict):
        return value
    if node is None:  # under x-kubernetes-preserve-unknown-fields, without a schema: kept as is
        for key, child in value.items():
            if isinstance(child, dict | list | float):
                value[key] = _prune(None, child, "", unknown)
        return value
    for key in list(value):
        child = value[key]
        if node.resource and key in ("apiVersion", "kind", "metadata"):
            if key == "metadata" and isinstance(child, dict):
                for field in [field for field in child if field not in _OBJECT_META_FIELDS]:
                    unknown.append(f"{_join(path, key)}.{field}")
                    del child[field]
            continue
        sub = node.child(key)
        if sub is None:
            if node.preserve:
                if isinstance(child, dict | list | float):
                    value[key] = _prune(None, child, "", unknown)
            else:
                unknown.append(_join(path, key))
                del value[key]
        elif child is None:
            if not sub.nullable:
                del value[key]
        elif isinstance(child, dict | list | float):
            value[key] = _prune(sub, child, _join(path, key), unknown)
    for key, sub in node.defaulted:
        if key not in value:
            value[key] = _prune(sub, copy.deepcopy(sub.default), _join(path, key), unknown)
    return value


def _check(node: _SchemaNode, value: Any, old: Any, field: str, where: str, causes: list[JsonDict]) -> None:
    """The schema's checks of one value. ``field`` is the path causes name, ``where`` the one
    messages name ("<where> in body ..."); ``old`` is the correlated old value or ``_MISSING``."""
    if old is not _MISSING and old == value and _json_type(old) == _json_type(value):
        return  # ratcheting: an unchanged value is not validated again
    kind = _json_type(value)
    if value is None and node.nullable:
        return
    if node.int_or_string:
        expected, matches = "integer,string", kind in ("integer", "string")
    elif node.type is None:
        expected, matches = "", True
    else:
        expected = node.type
        matches = kind == expected or (expected == "number" and kind == "integer")
    if not matches:
        causes.append(
            _cause(
                "FieldValueTypeInvalid",
                field,
                f'Invalid value: "{kind}": {where} in body must be of type {expected}: "{kind}"',
            )
        )
        if expected == "integer" and kind == "number":
            named = f"with format {node.format}" if node.int_range else "(default format)"
            causes.append(
                _cause(
                    "FieldValueInvalid",
                    "",
                    f'Invalid value: "": Checked value must be of type integer {named} in {where}',
                )
            )
    if node.enum is not None and not any(_json_equal(value, allowed) for allowed in node.enum):
        supported = ", ".join(json.dumps(a if isinstance(a, str) else _go_value(a)) for a in node.enum)
        causes.append(
            _cause(
                "FieldValueNotSupported",
                field,
                f"Unsupported value: {_go_value(value)}: supported values: {supported}",
            )
        )
    if kind == "string":
        _check_string(node, value, field, where, causes)
    elif kind in ("integer", "number"):
        _check_number(node, value, field, where, causes)
    elif kind == "array":
        _check_array(node, value, field, where, causes)
    elif kind == "object":
        _check_object(node, value, old, field, where, causes)


def _check_string(node: _SchemaNode, value: str, field: str, where: str, causes: list[JsonDict]) -> None:
    """maxLength, minLength, pattern: the first that fails (as go-openapi's string validator); the
    format is checked apart."""
    shown = _go_value(value)
    if node.max_length is not None and len(value) > node.max_length:
        causes.append(
            _cause("FieldValueTooLong", field, f"Too long: may not be more than {node.max_length} bytes")
        )
    elif node.min_length is not None and len(value) < node.min_length:
        causes.append(
            _cause(
                "FieldValueInvalid",
                field,
                f"Invalid value: {shown}: {where} in body should be at least {node.min_length} chars long",
            )
        )
    elif node.pattern is not None and node.pattern.search(value) is None:
        causes.append(
            _cause(
                "FieldValueInvalid",
                field,
                f"Invalid value: {shown}: {where} in body should match '{node.pattern_text}'",
            )
        )
    if node.string_format is not None and not node.string_format(value):
        causes.append(
            _cause(
                "FieldValueTypeInvalid",
                field,
                f"Invalid value: {shown}: {where} in body must be of type {node.format}: {shown}",
            )
        )


def _check_number(node: _SchemaNode, value: float, field: str, where: str, causes: list[JsonDict]) -> None:
    """The integer format's range apart, then multipleOf, maximum, minimum: the first that fails."""
    if node.int_range is not None and isinstance(value, int):
        low, high = node.int_range
        if not low <= value <= high:
            causes.append(
                _cause(
                    "FieldValueInvalid",
                    "",
                    f'Invalid value: "": Checked value must be of type integer with format {node.format} '
                    f"in {where}",
                )
            )
    problem = ""
    if node.multiple_of and (value / node.multiple_of) % 1:
        problem = f"should be a multiple of {_go_number(node.multiple_of)}"
    elif node.maximum is not None and (
        value >= node.maximum if node.exclusive_maximum else value > node.maximum
    ):
        relation = "less than" if node.exclusive_maximum else "less than or equal to"
        problem = f"should be {relation} {_go_number(node.maximum)}"
    elif node.minimum is not None and (
        value <= node.minimum if node.exclusive_minimum else value < node.minimum
    ):
        relation = "greater than" if node.exclusive_minimum else "greater than or equal to"
        problem = f"should be {relation} {_go_number(node.minimum)}"
    if problem:
        causes.append(
            _cause(
                "FieldValueInvalid", field, f"Invalid value: {_go_value(value)}: {where} in body {problem}"
            )
        )


def _check_array(node: _SchemaNode, value: list[Any], field: str, where: str, causes: list[JsonDict]) -> None:
    if node.max_items is not None and len(value) > node.max_items:
        causes.append(
            _cause(
                "FieldValueTooMany",
                field,
                f"Too many: {len(value)}: must have at most {node.max_items} items",
            )
        )
    if node.min_items is not None and len(value) < node.min_items:
        causes.append(
            _cause(
                "FieldValueInvalid",
                field,
                f"Invalid value: {len(value)}: {where} in body should have at least {node.min_items} items",
            )
        )
    if node.items is not None:
        for index, item in enumerate(value):  # atomic lists: items have no old value to ratchet on
            _check(node.items, item, _MISSING, f"{field}[{index}]", f"{where}[{index}]", causes)


def _check_object(
    node: _SchemaNode, value: JsonDict, old: Any, field: str, where: str, causes: list[JsonDict]
) -> None:
    for key in node.required:
        if key not in value:
            causes.append(_cause("FieldValueRequired", _join(field, key), "Required value"))
    if node.embedded:
        for key in ("apiVersion", "kind"):
            if not value.get(key):
                causes.append(_cause("FieldValueRequired", _join(field, key), "Required value"))
    if node.max_properties is not None and len(value) > node.max_properties:
        causes.append(
            _cause(
                "FieldValueTooMany",
                field,
                f"Too many: {len(value)}: must have at most {node.max_properties} items",
            )
        )
    if node.min_properties is not None and len(value) < node.min_properties:
        causes.append(
            _cause(
                "FieldValueInvalid",
                field,
                f"Invalid value: {len(value)}: {where} in body should have at least "
                f"{node.min_properties} properties",
            )
        )
    olds = old if isinstance(old, dict) else {}
    for key, child in value.items():
        if node.resource and key in ("apiVersion", "kind", "metadata"):
            continue
        sub = node.child(key)
        if sub is not None:
            _check(sub, child, olds.get(key, _MISSING), _join(field, key), _join(where, key), causes)


def _check_rules(node: _SchemaNode, value: Any, old: Any, field: str, causes: list[JsonDict]) -> None:
    """The CEL rules at and under one value (ratcheted like the schema checks)."""
    if value is None or (old is not _MISSING and old == value and _json_type(old) == _json_type(value)):
        return
    for rule in node.rules:
        if rule.compiled is None:
            raise ApiError(
                500,
                "InternalError",
                f"the emulator cannot evaluate the CEL rule {rule.source!r} "
                f"(tests/support/cel.py implements a subset of CEL): {rule.problem}",
            )
        if rule.compiled.uses_old_self and old is _MISSING:
            continue  # a transition rule: only on update
        try:
            ok = rule.compiled(value, old)
        except CelError as exc:
            causes.append(
                _cause(
                    "FieldValueInvalid",
                    field,
                    f'Invalid value: "{node.type or _json_type(value)}": {exc} evaluating rule: {rule.label}',
                )
            )
            continue
        if ok is not True:
            causes.append(rule.failure(field, value, node))
    olds = old if isinstance(old, dict) else {}
    if isinstance(value, dict):
        for key, child in value.items():
            sub = node.child(key)
            if sub is not None and sub.has_rules and not (node.resource and key == "metadata"):
                _check_rules(sub, child, olds.get(key, _MISSING), _join(field, key), causes)
    elif isinstance(value, list) and node.items is not None and node.items.has_rules:
        for index, item in enumerate(value):
            _check_rules(node.items, item, _MISSING, f"{field}[{index}]", causes)


class CustomResourceSchema:
    """A CRD version's ``openAPIV3Schema``, compiled once: decode (prune, default) and validate."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.root = _SchemaNode(raw, resource=True)

    def decode(self, obj: JsonDict) -> list[str]:
        """Prune, drop nulls and default ``obj`` in place; the pruned fields, as the server lists
        them (metadata's first, then the rest sorted)."""
        unknown: list[str] = []
        _prune(self.root, obj, "", unknown)
        meta = sorted(f for f in unknown if f.startswith("metadata."))
        return meta + sorted(f for f in unknown if not f.startswith("metadata."))

    def validate(self, new: JsonDict, old: Any = _MISSING, status_only: bool = False) -> list[JsonDict]:
        """The causes of a 422, in the server's order (empty when valid). ``old`` ratchets an update;
        ``status_only`` is a write to the status subresource."""
        causes: list[JsonDict] = []
        if status_only:
            node = self.root.properties.get("status")
            if node is not None and "status" in new:
                old_status = old.get("status", _MISSING) if isinstance(old, dict) else _MISSING
                _check(node, new["status"], old_status, "status", "", causes)
        else:
            _check(self.root, new, old, "", "", causes)
        if any(cause["reason"] in _BLOCKING_REASONS for cause in causes):
            causes.append(_cause("FieldValueInvalid", "", _RULES_NOT_CHECKED))
        elif self.root.has_rules:
            _check_rules(self.root, new, old, "", causes)
        return causes


_COMPILED_SCHEMAS: dict[str, CustomResourceSchema] = {}


def compile_schema(raw: Mapping[str, Any]) -> CustomResourceSchema:
    """The compiled schema, shared by every emulator that serves the same one (a test run starts
    thousands of emulators with the same CRDs)."""
    key = json.dumps(raw, sort_keys=True)
    compiled = _COMPILED_SCHEMAS.get(key)
    if compiled is None:
        compiled = _COMPILED_SCHEMAS[key] = CustomResourceSchema(raw)
    return compiled


def crd_version_schemas(crd: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Each served version's ``openAPIV3Schema`` (a version without one is not validated)."""
    result: dict[str, Mapping[str, Any]] = {}
    for version in (crd.get("spec") or {}).get("versions") or []:
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        if isinstance(schema, dict):
            result[version["name"]] = schema
    return result


# --------------------------------------------------------------------------------------------------
# URL parsing: kmock 0.8 fails on /api/v1/namespaces[/NAME] (it takes "namespaces" for a prefix).
# --------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class KubePath:
    """The Kubernetes meaning of a request path; ``plural`` is None for discovery paths."""

    group: str | None = None
    version: str | None = None
    plural: str | None = None
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None


def parse_kube_path(path: str) -> KubePath | None:
    """Parse ``/api/v1/...`` and ``/apis/GROUP/VERSION/...``; None for non-Kubernetes paths.

    ``namespaces`` is both a resource and the prefix of namespaced URLs: ``/api/v1/namespaces``,
    ``/api/v1/namespaces/NAME`` and ``/api/v1/namespaces/NAME/status|finalize`` address Namespace
    objects; a longer path is a namespaced resource in that namespace.
    """
    parts = [part for part in path.split("/") if part]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    elif len(parts) == 2 and parts[0] == "apis":
        return KubePath(group=parts[1])
    else:
        return None
    if not rest:
        return KubePath(group, version)
    if rest[0] == "namespaces":
        if len(rest) <= 2:
            return KubePath(group, version, "namespaces", name=rest[1] if len(rest) == 2 else None)
        if len(rest) == 3 and group == "" and rest[2] in ("status", "finalize"):
            return KubePath(group, version, "namespaces", name=rest[1], subresource=rest[2])
        namespace, rest = rest[1], rest[2:]
    else:
        namespace = None
    return KubePath(
        group,
        version,
        plural=rest[0],
        namespace=namespace,
        name=rest[1] if len(rest) > 1 else None,
        subresource="/".join(rest[2:]) or None,
    )


# --------------------------------------------------------------------------------------------------
# Selectors.
# --------------------------------------------------------------------------------------------------

LabelMatcher = Callable[[Mapping[str, str]], bool]
ObjectMatcher = Callable[[Mapping[str, Any]], bool]


def _split_selector(text: str) -> list[str]:
    """Split on commas that are not inside ``in (a,b)`` parentheses."""
    terms: list[str] = []
    depth, current = 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [term.strip() for term in terms if term.strip()]


def _check_label_key(key: str, selector: str) -> str:
    name = key.rsplit("/", 1)[-1]
    if not name or len(name) > 63 or not _LABEL_NAME.match(name):
        raise _bad_request(f'unable to parse requirement: invalid label key "{key}" in selector "{selector}"')
    return key


def _check_label_value(value: str, selector: str) -> str:
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        raise _bad_request(
            f'unable to parse requirement: invalid label value "{value}" in selector "{selector}"'
        )
    return value


@dataclasses.dataclass(frozen=True)
class Requirement:
    """One term of a label or field selector.

    ``=``/``in`` need the key with one of ``values``; ``!=``/``notin`` match objects that lack the
    key too (as in Kubernetes); ``exists`` and ``!`` test presence only.
    """

    key: str
    operator: str
    values: frozenset[str] = frozenset()

    def matches(self, present: bool, value: str | None) -> bool:
        if self.operator in ("=", "in"):
            return present and value in self.values
        if self.operator in ("!=", "notin"):
            return not present or value not in self.values
        return present if self.operator == "exists" else not present


def _label_requirement(term: str, selector: str) -> Requirement:
    set_based = re.fullmatch(r"(\S+)\s+(in|notin)\s+\((.*)\)", term)
    if set_based:
        values = frozenset(_check_label_value(v.strip(), selector) for v in set_based.group(3).split(","))
        return Requirement(_check_label_key(set_based.group(1), selector), set_based.group(2), values)
    if term.startswith("!"):
        return Requirement(_check_label_key(term[1:].strip(), selector), "!")
    equality = re.fullmatch(r"([^=!]+)(==|=|!=)(.*)", term)
    if equality:
        key, operator, value = (part.strip() for part in equality.groups())
        operator = "=" if operator == "==" else operator
        return Requirement(
            _check_label_key(key, selector), operator, frozenset({_check_label_value(value, selector)})
        )
    return Requirement(_check_label_key(term, selector), "exists")


def parse_label_selector(selector: str) -> LabelMatcher:
    """Compile ``a=b,c!=d,e in (x,y),f notin (z),g,!h`` into a predicate over an object's labels."""
    requirements = [_label_requirement(term, selector) for term in _split_selector(selector)]

    def matches(labels: Mapping[str, str]) -> bool:
        return all(req.matches(req.key in labels, labels.get(req.key)) for req in requirements)

    return matches


def _field_value(obj: Mapping[str, Any], path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return "" if value is None else str(value)


def parse_field_selector(rdef: ResourceDef, selector: str) -> ObjectMatcher:
    """Compile a field selector; only the fields the real server supports for the resource."""
    supported = {"metadata.name", "metadata.namespace"} | _EXTRA_FIELD_LABELS.get(rdef.group_resource, set())
    requirements: list[Requirement] = []
    for term in _split_selector(selector):
        match = re.fullmatch(r"([^=!\s]+)\s*(==|=|!=)\s*(.*)", term)
        if match is None:
            raise _bad_request(f'invalid selector: "{selector}"; can\'t understand "{term}"')
        field, operator, value = match.groups()
        if field not in supported:
            raise _bad_request(f"field label not supported: {field}")
        requirements.append(Requirement(field, "!=" if operator == "!=" else "=", frozenset({value})))

    def matches(obj: Mapping[str, Any]) -> bool:
        return all(req.matches(True, _field_value(obj, req.key)) for req in requirements)

    return matches


# --------------------------------------------------------------------------------------------------
# Patches.
# --------------------------------------------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: dicts merge recursively, ``null`` deletes, anything else replaces.

    kmock's own merge refuses to replace a dict by a scalar; the API server does not.
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: JsonDict, patch: JsonDict) -> JsonDict:
    """Approximate strategic merge patch: a merge patch where ``metadata.finalizers`` (a set) and
    ``metadata.ownerReferences`` (keyed by uid) merge instead of being replaced.

    Other list merge keys (containers by name, ...) and ``$patch`` directives are not emulated;
    directives are refused so that a test cannot pass by accident.
    """

    def reject_directives(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key.startswith("$"):
                    raise ApiError(
                        415,
                        "UnsupportedMediaType",
                        f"the emulator does not implement strategic-merge directive {key!r}",
                    )
                reject_directives(item)
        elif isinstance(value, list):
            for item in value:
                reject_directives(item)

    reject_directives(patch)
    result: JsonDict = merge_patch(target, patch)
    patch_meta: JsonDict = _meta(patch)
    old_meta: JsonDict = _meta(target)
    if isinstance(patch_meta.get("finalizers"), list):
        merged = list(old_meta.get("finalizers") or [])
        merged += [f for f in patch_meta["finalizers"] if f not in merged]
        result["metadata"]["finalizers"] = merged
    if isinstance(patch_meta.get("ownerReferences"), list):
        refs = {ref.get("uid"): ref for ref in old_meta.get("ownerReferences") or []}
        for ref in patch_meta["ownerReferences"]:
            refs[ref.get("uid")] = merge_patch(refs.get(ref.get("uid"), {}), ref)
        result["metadata"]["ownerReferences"] = list(refs.values())
    return result


# --------------------------------------------------------------------------------------------------
# Service-account tokens (TokenRequest / TokenReview) for OpenBao's kubernetes auth.
# --------------------------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclasses.dataclass(frozen=True)
class IssuedToken:
    """What the emulator remembers about a token it issued, to answer TokenReviews."""

    namespace: str
    service_account: str
    service_account_uid: str
    audiences: tuple[str, ...]
    expires_at: float


class TokenAuthority:
    """Issues ES256-signed service-account JWTs and reviews them.

    The tokens are real JWTs with the claims of projected service-account tokens, because
    OpenBao's kubernetes auth parses the JWT (allowing only RS/ES/PS algorithms) before it asks
    TokenReview. Validation is by exact match against issued tokens, so a tampered token fails.
    """

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._kid = _b64url(secrets.token_bytes(16))
        self._issued: dict[str, IssuedToken] = {}
        self._revoked: set[str] = set()

    def revoke(self, token: str) -> None:
        """Invalidate an issued token, as deleting the pod it is bound to does."""
        self._revoked.add(token)

    @property
    def public_key_pem(self) -> str:
        """For OpenBao's ``pem_keys`` if a test wants signatures checked too."""
        return (
            self._key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode("ascii")
        )

    def issue(
        self,
        namespace: str,
        service_account: str,
        uid: str,
        audiences: Sequence[str],
        expiration_seconds: int,
    ) -> tuple[str, float]:
        now = int(time.time())
        expires_at = now + expiration_seconds
        claims = {
            "aud": list(audiences),
            "exp": expires_at,
            "iat": now,
            "nbf": now,
            "iss": TOKEN_ISSUER,
            "jti": str(uuid.uuid4()),
            "sub": f"system:serviceaccount:{namespace}:{service_account}",
            "kubernetes.io": {
                "namespace": namespace,
                "serviceaccount": {"name": service_account, "uid": uid},
            },
        }
        header = {"alg": "ES256", "kid": self._kid, "typ": "JWT"}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        der = self._key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
        r, s = utils.decode_dss_signature(der)
        token = f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
        self._issued[token] = IssuedToken(
            namespace, service_account, uid, tuple(audiences), float(expires_at)
        )
        return token, float(expires_at)

    @property
    def issued(self) -> list[IssuedToken]:
        """Every token issued so far, in order (for tests of who got tokens for what)."""
        return list(self._issued.values())

    def issued_tokens(self) -> list[str]:
        """The tokens themselves, in order (for tests that no token leaks anywhere)."""
        return list(self._issued)

    def review(
        self, token: str, audiences: Sequence[str], current_uid: Callable[[str, str], str | None]
    ) -> JsonDict:
        """The ``status`` of a TokenReview; ``current_uid`` looks up a live service account's uid."""
        issued = self._issued.get(token)
        if issued is None:
            return {"authenticated": False, "error": "invalid bearer token, token not issued by this server"}
        if issued.expires_at <= time.time():
            return {"authenticated": False, "error": "invalid bearer token, token has expired"}
        if token in self._revoked:
            return {"authenticated": False, "error": "invalid bearer token, token has been invalidated"}
        if current_uid(issued.namespace, issued.service_account) != issued.service_account_uid:
            return {"authenticated": False, "error": "invalid bearer token, service account has been deleted"}
        wanted = list(audiences) or [TOKEN_ISSUER]
        matching = [aud for aud in wanted if aud in issued.audiences]
        if not matching:
            return {"authenticated": False, "error": "invalid bearer token, token audiences are invalid"}
        namespace = issued.namespace
        return {
            "authenticated": True,
            "user": {
                "username": f"system:serviceaccount:{namespace}:{issued.service_account}",
                "uid": issued.service_account_uid,
                "groups": [
                    "system:serviceaccounts",
                    f"system:serviceaccounts:{namespace}",
                    "system:authenticated",
                ],
            },
            "audiences": matching,
        }


# --------------------------------------------------------------------------------------------------
# The handler: kmock's KubernetesEmulator with a realistic object store.
# --------------------------------------------------------------------------------------------------

ObjectKey = tuple[kmock.resource, str | None, str]


@dataclasses.dataclass(frozen=True)
class WatchEvent:
    """One entry of the event log; ``seq`` is the resourceVersion the write produced.

    ``old`` is the state before the write, so that a watch with a label selector can turn a
    MODIFIED into ADDED/DELETED when an object starts or stops matching, as the real server does.
    """

    seq: int
    group: str
    plural: str
    type: str
    obj: JsonDict
    old: JsonDict | None


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _meta(obj: Mapping[str, Any]) -> JsonDict:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _omit_empty(meta: JsonDict) -> None:
    """Drop empty metadata lists and maps, as the API server's serialization (omitempty) does.

    E.g. kopf removes the last finalizer with a JSON patch and leaves ``finalizers: []``.
    """
    for field in ("finalizers", "labels", "annotations", "ownerReferences"):
        if field in meta and not meta[field]:
            del meta[field]


def _spec_part(obj: Mapping[str, Any], with_status: bool) -> JsonDict:
    """Everything whose change bumps ``metadata.generation``."""
    ignored = {"metadata", "apiVersion", "kind"} | ({"status"} if with_status else set())
    return {key: value for key, value in obj.items() if key not in ignored}


@attrs.define(kw_only=True)
class KubeEmulatorHandler(kmock.KubernetesEmulator):
    """kmock's KubernetesEmulator with a store that behaves like a real API server.

    Request flow: DSL reactions added by tests win (kmock semantics; the store is then not
    touched, so ``handler['post', ...] << 500`` injects a clean failure), then the emulated API
    serves every resource request, then kmock's own fallbacks serve discovery and 404s.

    The store methods (``create_object``, ``patch_object``, ...) are synchronous and must run in
    the emulator's event-loop thread; :class:`KubeEmulator` marshals calls from other threads.
    Because nothing awaits inside a write, every write is atomic and the event log is totally
    ordered: the global sequence number is both the objects' resourceVersion and the list
    resourceVersion, so ``watch?resourceVersion=N`` replays exactly what happened after N.
    """

    #: Refuse objects in namespaces that do not exist (404), as the real server does.
    strict_namespaces: bool = True
    #: How many events to keep for watch replays; older resourceVersions get 410 Gone.
    max_events: int = 100_000
    #: Authenticate bearer tokens (see ``DUMMY_TOKEN``): a token that is expired, revoked or not
    #: issued here gets 401 Unauthorized, as from a real server. Open watches are not cut.
    authenticate: bool = False
    #: (method, path) of the requests refused with 401, in order.
    unauthorized: list[tuple[str, str]] = attrs.field(factory=list, init=False)
    _watch_epoch: int = attrs.field(default=0, init=False)

    _defs: dict[tuple[str, str, str], ResourceDef] = attrs.field(factory=dict, init=False)
    _builtin_payloads: list[Any] = attrs.field(factory=list, init=False)
    _seq: int = attrs.field(default=0, init=False)
    _log: list[WatchEvent] = attrs.field(factory=list, init=False)
    _wakeup: asyncio.Event = attrs.field(factory=asyncio.Event, init=False)
    _closing: bool = attrs.field(default=False, init=False)
    _tokens: TokenAuthority = attrs.field(factory=TokenAuthority, init=False)
    #: (namespace, service, port name) -> URL standing in for the Service's endpoints (proxy).
    service_backends: dict[tuple[str, str, str], str] = attrs.field(factory=dict, init=False)
    #: (group, version, plural) of a custom resource -> its CRD's schema (compiled on first use).
    _schemas: dict[tuple[str, str, str], Mapping[str, Any] | CustomResourceSchema] = attrs.field(
        factory=dict, init=False
    )
    #: ``Warning`` headers of the request being served (unknown fields pruned, as the server warns).
    _warnings: list[str] = attrs.field(factory=list, init=False)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        # kmock's fallbacks (discovery, its own object store, 404) are consulted only after the
        # emulated API; keep them apart from the reactions tests add later.
        self._builtin_payloads = list(self._payloads)
        self._payloads.clear()
        for rdef in BUILTIN_RESOURCES:
            self.register_resource(rdef)

    # ---- bootstrapping ------------------------------------------------------------------------

    def bootstrap(self, crds: Iterable[Mapping[str, Any]] = ()) -> None:
        """Create the objects every cluster starts with, then the given CRDs (as API objects)."""
        for name in INITIAL_NAMESPACES:
            if self._current(_NAMESPACES, None, name) is None:
                self.create_object(_NAMESPACES, None, {"metadata": {"name": name}})
        for crd in crds:
            self.apply_crd(crd)

    def apply_crd(self, crd: Mapping[str, Any]) -> JsonDict:
        """Create or replace a CRD object; its resources become discoverable immediately."""
        name = _meta(crd).get("name", "")
        current = self._current(_CRDS, None, name)
        if current is None:
            return self.create_object(_CRDS, None, crd)
        body = copy.deepcopy(dict(crd))
        body.setdefault("metadata", {})["resourceVersion"] = _meta(current)["resourceVersion"]
        return self.replace_object(_CRDS, None, name, body)

    def register_resource(self, rdef: ResourceDef) -> None:
        """Serve a resource (and list it in discovery)."""
        self._defs[rdef.group, rdef.version, rdef.plural] = rdef
        self.resources[kmock.resource(rdef.group, rdef.version, rdef.plural)] = kmock.ResourceInfo(
            namespaced=rdef.namespaced,
            kind=rdef.kind,
            singular=rdef.singular or rdef.kind.lower(),
            verbs=set(rdef.verbs),
            shortnames=set(rdef.short_names),
            categories=set(rdef.categories),
            subresources=set(rdef.subresources),
        )

    def unregister_resource(self, group: str, plural: str) -> None:
        """Stop serving all versions of a resource (its CRD was deleted)."""
        for key in [key for key in self._defs if (key[0], key[2]) == (group, plural)]:
            del self._defs[key]
            del self.resources[kmock.resource(*key)]
            self._schemas.pop(key, None)

    def resource_def(self, api_version: str, kind_or_plural: str) -> ResourceDef:
        """Find a served resource by ``apiVersion`` and kind (or plural)."""
        group, _, version = api_version.rpartition("/")
        for rdef in self._defs.values():
            if (rdef.group, rdef.version) == (group, version) and kind_or_plural in (rdef.kind, rdef.plural):
                return rdef
        raise KeyError(f"{api_version} {kind_or_plural} is not served by the emulator")

    @property
    def resource_version(self) -> int:
        """The latest resourceVersion (the global write sequence number)."""
        return self._seq

    @property
    def token_authority(self) -> TokenAuthority:
        return self._tokens

    @property
    def events(self) -> list[WatchEvent]:
        """The retained event log (for assertions on what happened, in order)."""
        return list(self._log)

    def close(self) -> None:
        """End all watch streams, so that the HTTP server can stop without waiting for them."""
        self._closing = True
        self._wakeup.set()

    # ---- request entry points (kmock plumbing) -------------------------------------------------

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        """kmock's ``RawHandler.__call__`` with our URL parser (kmock's fails on namespaces paths)."""
        raw_response: aiohttp.web.StreamResponse | None = None
        try:
            if self.limit is not None and len(self._requests) >= self.limit:
                raise apps.KMockError("Too many requests have been served so far.")
            request = await _parse_request(raw_request, request_id=len(self._requests))
            self._requests.append(request)
            try:
                return await self._handle(request)
            except rendering.StreamingError as exc:  # a test's streaming reaction failed midway
                raw_response = exc.args[0]
                raise exc.__cause__ or exc from None
        except Exception as exc:
            if not self._errors:
                raise
            self._errors[-1].append(exc)
            if raw_response is None or not raw_response.prepared:
                return await self._render_error(exc)
            await self._stream_error(exc, raw_response)
            await raw_response.write_eof()
            return raw_response

    async def _handle(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        if self.authenticate and not self._authenticated(request):
            self.unauthorized.append((str(request.method.value), request.url.path))
            error = ApiError(401, "Unauthorized", "Unauthorized")
            return aiohttp.web.json_response(error.as_status(), status=401)
        response = await self._react(request, self._payloads)
        if response is not None:
            return response
        if request.resource is not None and request.resource.plural is not None:
            return await self._serve_resource_request(request)
        response = await self._react(request, self._builtin_payloads)
        if response is not None:
            return response
        raise kmock.KubernetesEndpointNotFoundError()

    async def _react(
        self, request: rendering.Request, payloads: list[Any]
    ) -> aiohttp.web.StreamResponse | None:
        """kmock's reaction matching (``RawHandler._handle``), over a given set of reactions."""
        width = max((len(payload.priorities) for payload in payloads), default=0)

        def rank(payload: Any) -> tuple[float, ...]:
            negated = tuple(-p for p in payload.priorities)
            return negated + (0,) * (width - len(negated))

        for payload in sorted(payloads, key=rank):
            if request in payload._source and not payload._disabled.is_set():
                try:
                    response: aiohttp.web.StreamResponse = await payload(request)
                except rendering.ReactionMismatchError:
                    payload._disabled.set()
                except NotImplementedError:
                    pass
                else:
                    return response
        return None

    def _authenticated(self, request: rendering.Request) -> bool:
        header = next((v for k, v in request.headers.items() if k.lower() == "authorization"), None)
        if header is None:
            return True  # anonymous: there is no RBAC to refuse it
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or token.strip() == DUMMY_TOKEN:
            return True

        def current_uid(namespace: str, name: str) -> str | None:
            sa = self._current(_SERVICE_ACCOUNTS, namespace, name)
            return None if sa is None else _meta(sa)["uid"]

        return bool(self._tokens.review(token.strip(), (), current_uid)["authenticated"])

    def end_watches(self) -> None:
        """End every open watch stream cleanly, as an API server restart does (clients re-watch)."""
        self._watch_epoch += 1
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    def _get_resources(self) -> list[kmock.resource]:
        """What discovery lists: the served resources (plus kmock's implicit ones from reactions).

        kmock's emulator also lists every resource that ever had an object, so the resources of a
        deleted CRD would linger in discovery; the scaffold's view has only the declared ones.
        """
        return kmock.KubernetesScaffold._get_resources(self)

    async def _serve_apis(self, request: rendering.Request) -> rendering.Payload:
        """``/apis`` with the preferred version a real server picks (kmock picks at random)."""
        groups: dict[str, set[str]] = {}
        for group, version, _ in self._defs:
            if group:
                groups.setdefault(group, set()).add(version)
        return {
            "apiVersion": "v1",
            "kind": "APIGroupList",
            "groups": [self._group_info(group, versions) for group, versions in sorted(groups.items())],
        }

    async def _serve_group(self, request: rendering.Request) -> rendering.Payload:
        """``/apis/GROUP`` with a deterministic preferred version."""
        assert request.resource is not None
        versions = {version for group, version, _ in self._defs if group == request.resource.group}
        if not versions:
            raise kmock.KubernetesResourceNotFoundError()
        return {
            "apiVersion": "v1",
            "kind": "APIGroup",
            **self._group_info(str(request.resource.group), versions),
        }

    @staticmethod
    def _group_info(group: str, versions: set[str]) -> JsonDict:
        ordered = sorted(versions, key=_version_priority, reverse=True)
        entries = [{"groupVersion": f"{group}/{version}", "version": version} for version in ordered]
        return {"name": group, "versions": entries, "preferredVersion": entries[0]}

    # ---- the emulated API ---------------------------------------------------------------------

    async def _serve_resource_request(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        try:
            resource = request.resource
            assert resource is not None and resource.plural is not None
            rdef = self._defs.get((str(resource.group), str(resource.version), resource.plural))
            if rdef is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            if rdef.namespaced is False and request.namespace is not None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            params = dict(request.params)
            sub = request.subresource or ""
            if rdef.group_resource == ("", "services") and (sub == "proxy" or sub.startswith("proxy/")):
                return await self._proxy_to_service(request, sub.removeprefix("proxy"))
            if request.method == "GET" and params.get("watch") in ("true", "1"):
                if "watch" not in rdef.verbs:
                    raise ApiError(
                        405, "MethodNotAllowed", f"the server does not allow watching {rdef.display}"
                    )
                return await self._stream_watch(request, rdef, params)
            self._warnings = []
            status, body = self._route(request, rdef, params)
            return self._with_warnings(aiohttp.web.json_response(body, status=status))
        except ApiError as exc:
            return self._with_warnings(aiohttp.web.json_response(exc.as_status(), status=exc.code))

    def _with_warnings(self, response: aiohttp.web.Response) -> aiohttp.web.Response:
        for warning in self._warnings:
            response.headers.add("Warning", f"299 - {json.dumps(warning, ensure_ascii=False)}")
        self._warnings = []
        return response

    async def _proxy_to_service(self, request: rendering.Request, path: str) -> aiohttp.web.StreamResponse:
        """``services/[SCHEME:]NAME[:PORT]/proxy/...``: forward to the backend a test registered.

        A real API server forwards to the Service's endpoints; the emulator has no pods, so a
        test names the URL that plays the endpoint (``register_service_backend``).
        """
        parts = str(request.name or "").split(":")
        if len(parts) == 3:
            parts = parts[1:]
        service, port = parts[0], parts[1] if len(parts) > 1 else ""
        backend = self.service_backends.get((str(request.namespace), service, port))
        if backend is None:
            raise ApiError(503, "ServiceUnavailable", f'no endpoints available for service "{service}"')
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "accept")}
        query = f"?{request.url.query_string}" if request.url.query_string else ""
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                str(request.method.value), backend.rstrip("/") + (path or "/") + query,
                data=request.body or None, headers=headers,
            ) as resp,
        ):  # fmt: skip
            body = await resp.read()
            return aiohttp.web.Response(
                status=resp.status, body=body, content_type=resp.content_type or "application/octet-stream"
            )

    def _route(
        self, request: rendering.Request, rdef: ResourceDef, params: dict[str, str]
    ) -> tuple[int, Any]:
        method, name, namespace, sub = (
            str(request.method.value),
            request.name,
            request.namespace,
            request.subresource,
        )
        if params.get("dryRun"):
            raise _bad_request("dryRun is not implemented by the emulator")
        field_validation = params.get("fieldValidation", "")
        options = {"POST": "CreateOptions", "PUT": "UpdateOptions", "PATCH": "PatchOptions"}.get(method)
        if options and field_validation not in _FIELD_VALIDATION:
            supported = ", ".join(f'"{value}"' for value in _FIELD_VALIDATION)
            message = f'Unsupported value: "{field_validation}": supported values: {supported}'
            raise _invalid(
                f'{options}.meta.k8s.io "" is invalid: fieldValidation: {message}',
                {
                    "group": "meta.k8s.io",
                    "kind": options,
                    "causes": [
                        {"reason": "FieldValueNotSupported", "message": message, "field": "fieldValidation"}
                    ],
                },
            )
        if rdef.namespaced and name is not None and namespace is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if sub == "token" and rdef.group_resource == _SERVICE_ACCOUNTS.group_resource and method == "POST":
            assert namespace is not None and name is not None
            return 201, self._request_token(namespace, name, request.data)
        if sub is not None and (sub != "status" or not rdef.has_status):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        verb = _VERBS.get((method, name is not None))
        if verb is None or verb not in rdef.verbs:
            raise ApiError(
                405, "MethodNotAllowed", f"the server does not allow this method on {rdef.display}"
            )
        if rdef.group_resource == _TOKEN_REVIEWS.group_resource:
            return 201, self._review_token(request.data)
        body = request.data
        if name is None:
            if method == "GET":
                return 200, self.list_objects(rdef, namespace, params)
            if method == "POST":
                if rdef.namespaced and namespace is None:
                    raise ApiError(404, "NotFound", "the server could not find the requested resource")
                return 201, self.create_object(rdef, namespace, body, field_validation)
            if method == "DELETE":
                return 200, self.delete_collection(rdef, namespace, params)
        else:
            if method == "GET":
                return 200, self.get_object(rdef, namespace, name)
            if method == "PUT":
                return 200, self.replace_object(rdef, namespace, name, body, sub, field_validation)
            if method == "PATCH":
                content_type = next(
                    (v for k, v in request.headers.items() if k.lower() == "content-type"), ""
                )
                return 200, self.patch_object(
                    rdef, namespace, name, body, content_type, sub, field_validation
                )
            if method == "DELETE" and sub is None:
                return 200, self.delete_object(rdef, namespace, name, options=_delete_options(body, params))
        raise ApiError(405, "MethodNotAllowed", f"the server does not allow this method on {rdef.display}")

    # ---- store: reads -------------------------------------------------------------------------

    def _key(self, rdef: ResourceDef, namespace: str | None, name: str) -> ObjectKey:
        return (rdef.storage_key, namespace if rdef.namespaced else None, name)

    def _current(self, rdef: ResourceDef, namespace: str | None, name: str) -> JsonDict | None:
        key = self._key(rdef, namespace, name)
        if key not in self._objects:
            return None
        obj = self._objects[key]
        return None if obj.deleted else obj.last.raw

    def _require(self, rdef: ResourceDef, namespace: str | None, name: str) -> JsonDict:
        current = self._current(rdef, namespace, name)
        if current is None:
            raise ApiError(
                404,
                "NotFound",
                f'{rdef.display} "{name}" not found',
                {"name": name, "group": rdef.group, "kind": rdef.plural},
            )
        return current

    def _live(self, rdef: ResourceDef, namespace: str | None = None) -> Iterator[JsonDict]:
        """Live objects of a resource (all versions share storage), optionally in one namespace."""
        for (resource, obj_namespace, _), obj in list(self._objects.items()):
            if (resource.group, resource.plural) != rdef.group_resource or obj.deleted:
                continue
            if namespace is None or obj_namespace == namespace:
                yield obj.last.raw

    @staticmethod
    def _present(rdef: ResourceDef, obj: Mapping[str, Any]) -> JsonDict:
        """The object as served under the requested version (no conversion, only apiVersion)."""
        rest = {key: value for key, value in obj.items() if key not in ("apiVersion", "kind")}
        return {"apiVersion": rdef.api_version, "kind": rdef.kind, **rest}

    def get_object(self, rdef: ResourceDef, namespace: str | None, name: str) -> JsonDict:
        return self._present(rdef, self._require(rdef, namespace, name))

    def list_objects(self, rdef: ResourceDef, namespace: str | None, params: Mapping[str, str]) -> JsonDict:
        """A list with a resourceVersion to watch from; honours selectors and limit/continue."""
        matches = self._matcher(rdef, namespace, None, params)
        items = sorted(
            (obj for obj in self._live(rdef, namespace) if matches(obj)),
            key=lambda obj: (_meta(obj).get("namespace") or "", _meta(obj).get("name") or ""),
        )
        list_rv, start_after = self._seq, None
        if params.get("continue"):
            try:
                token = json.loads(base64.urlsafe_b64decode(params["continue"].encode()))
                list_rv, start_after = int(token["rv"]), tuple(token["after"])
            except (ValueError, KeyError, TypeError, binascii.Error) as exc:
                raise _bad_request(f"invalid continue token: {exc}") from exc
            items = [
                obj
                for obj in items
                if (_meta(obj).get("namespace") or "", _meta(obj).get("name") or "") > start_after
            ]
        metadata: JsonDict = {"resourceVersion": str(list_rv)}
        limit = int(_number_param(params, "limit") or 0)
        if 0 < limit < len(items):
            last = items[limit - 1]
            after = [_meta(last).get("namespace") or "", _meta(last).get("name") or ""]
            metadata["continue"] = base64.urlsafe_b64encode(
                json.dumps({"rv": list_rv, "after": after}).encode()
            ).decode()
            metadata["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        return {
            "apiVersion": rdef.api_version,
            "kind": f"{rdef.kind}List",
            "metadata": metadata,
            "items": [self._present(rdef, obj) for obj in items],
        }

    def _matcher(
        self, rdef: ResourceDef, namespace: str | None, name: str | None, params: Mapping[str, str]
    ) -> ObjectMatcher:
        labels = parse_label_selector(params.get("labelSelector", ""))
        fields = parse_field_selector(rdef, params.get("fieldSelector", ""))

        def matches(obj: Mapping[str, Any]) -> bool:
            meta = _meta(obj)
            return (
                (namespace is None or meta.get("namespace") == namespace)
                and (name is None or meta.get("name") == name)
                and labels(meta.get("labels") or {})
                and fields(obj)
            )

        return matches

    # ---- store: the single write path ---------------------------------------------------------

    def _commit(self, rdef: ResourceDef, event_type: str, new: JsonDict, old: JsonDict | None) -> JsonDict:
        """Record one write: new resourceVersion, stored state, event log entry, watchers woken."""
        self._seq += 1
        new["metadata"]["resourceVersion"] = str(self._seq)
        meta = new["metadata"]
        key = self._key(rdef, meta.get("namespace"), meta["name"])
        if event_type == "DELETED":
            self._objects[key].delete()
        elif key not in self._objects:
            self._objects[key] = new
        elif self._objects[key].deleted:
            self._objects[key].create(new)
        else:
            self._objects[key].history.append(new)
        self._log.append(WatchEvent(self._seq, rdef.group, rdef.plural, event_type, new, old))
        if len(self._log) > self.max_events:
            del self._log[: len(self._log) - self.max_events]
        self._wakeup.set()
        self._wakeup = asyncio.Event()
        return new

    # ---- store: create ------------------------------------------------------------------------

    def create_object(
        self, rdef: ResourceDef, namespace: str | None, body: Any, field_validation: str = ""
    ) -> JsonDict:
        if not isinstance(body, dict) or not isinstance(body.get("metadata", {}), dict):
            raise _bad_request("the body of the request was in an unknown format")
        if body.get("kind") not in (None, rdef.kind):
            raise _bad_request(f"the kind {body.get('kind')!r} does not match the resource {rdef.display}")
        obj = copy.deepcopy(body)
        if rdef.custom:
            self._decode_custom(rdef, obj, field_validation, "create")
        obj["apiVersion"], obj["kind"] = rdef.storage_api_version, rdef.kind
        meta = obj.setdefault("metadata", {})
        if rdef.namespaced:
            if meta.get("namespace") not in (None, "", namespace):
                raise _bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = namespace
            self._check_namespace_open(namespace)
        else:
            meta.pop("namespace", None)
        namespace = meta.get("namespace")
        if not meta.get("name"):
            meta["name"] = self._generate_name(rdef, namespace, meta.get("generateName"))
        name = meta["name"]
        self._validate_name(rdef, name)
        if self._current(rdef, namespace, name) is not None:
            raise ApiError(
                409,
                "AlreadyExists",
                f'{rdef.display} "{name}" already exists',
                {"name": name, "group": rdef.group, "kind": rdef.plural},
            )
        for field in (*_SERVER_MANAGED_METADATA, "managedFields", "selfLink"):
            meta.pop(field, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = _now()
        if rdef.generation:
            meta["generation"] = 1
        if rdef.custom and rdef.has_status:
            obj.pop("status", None)  # the API server clears status on create
        self._normalize(rdef, obj, None)
        if rdef.custom:
            self._validate_custom(rdef, obj, _MISSING)
        stored = self._commit(rdef, "ADDED", obj, None)
        if rdef.group_resource == _CRDS.group_resource:
            self._register_crd(stored)
        self._collect_if_orphaned(rdef, stored)
        return self._present(rdef, stored)

    def _generate_name(self, rdef: ResourceDef, namespace: str | None, prefix: Any) -> str:
        if not prefix or not isinstance(prefix, str):
            raise _invalid(f"{rdef.kind}: metadata.name: Required value: name or generateName is required")
        for _ in range(100):
            name = prefix + "".join(secrets.choice(_GENERATE_NAME_ALPHABET) for _ in range(5))
            if self._current(rdef, namespace, name) is None:
                return name
        raise ApiError(500, "InternalError", "could not generate a unique name")  # pragma: no cover

    @staticmethod
    def _validate_name(rdef: ResourceDef, name: Any) -> None:
        pattern, limit = (_DNS_LABEL, 63) if rdef.plural == "namespaces" else (_DNS_SUBDOMAIN, 253)
        if not isinstance(name, str) or len(name) > limit or not pattern.match(name):
            raise _invalid(
                f'{rdef.kind} "{name}" is invalid: metadata.name: Invalid value: "{name}": '
                "a lowercase RFC 1123 name must consist of lower case alphanumeric characters, '-' or '.'",
                {"name": name, "group": rdef.group, "kind": rdef.kind},
            )

    def _check_namespace_open(self, namespace: str | None) -> None:
        if not self.strict_namespaces or namespace is None:
            return
        ns = self._current(_NAMESPACES, None, namespace)
        if ns is None:
            raise ApiError(
                404,
                "NotFound",
                f'namespaces "{namespace}" not found',
                {"name": namespace, "kind": "namespaces"},
            )
        if _meta(ns).get("deletionTimestamp"):
            raise ApiError(
                403,
                "Forbidden",
                f"unable to create new content in namespace {namespace} because it is being terminated",
            )

    def _normalize(self, rdef: ResourceDef, obj: JsonDict, old: JsonDict | None) -> None:
        """Server-side defaulting and validation of the built-in kinds the operator writes."""
        name = _meta(obj)["name"]
        group_resource = rdef.group_resource
        if group_resource == ("", "secrets"):
            obj.setdefault("type", "Opaque")
            string_data = obj.pop("stringData", None) or {}
            data = obj.get("data") or {}
            if not isinstance(data, dict) or not isinstance(string_data, dict):
                raise _bad_request(f'Secret "{name}": data and stringData must be maps')
            data = dict(data)
            for key, value in data.items():
                try:
                    base64.b64decode(str(value), validate=True)
                except binascii.Error as exc:
                    raise _invalid(f'Secret "{name}" is invalid: data[{key}]: illegal base64 data') from exc
            for key, value in string_data.items():
                data[key] = base64.b64encode(str(value).encode()).decode()
            if data:
                obj["data"] = data
            else:
                obj.pop("data", None)
            if old is not None and obj["type"] != old.get("type"):
                raise _invalid(f'Secret "{name}" is invalid: type: Invalid value: field is immutable')
            _validate_secret(name, obj)
        if (
            group_resource in (("", "secrets"), ("", "configmaps"))
            and old is not None
            and old.get("immutable")
        ):
            for field in ("data", "binaryData", "immutable"):
                if obj.get(field) != old.get(field):
                    raise _invalid(f'{rdef.kind} "{name}" is invalid: {field}: Forbidden: field is immutable')
        elif group_resource == _NAMESPACES.group_resource:
            _meta(obj).setdefault("labels", {})["kubernetes.io/metadata.name"] = name
            obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            if old is None:
                obj["status"] = {"phase": "Active"}
        elif group_resource == _CRDS.group_resource:
            _validate_crd(obj)
            spec = obj["spec"]
            if old is not None and (spec["group"], spec["names"]["plural"]) != (
                old["spec"]["group"],
                old["spec"]["names"]["plural"],
            ):
                raise _invalid(
                    f'CustomResourceDefinition "{name}" is invalid: spec.group, spec.names.plural: immutable'
                )
            if old is None:
                conditions = [
                    {"type": condition, "status": "True", "reason": reason, "lastTransitionTime": _now()}
                    for condition, reason in (
                        ("NamesAccepted", "NoConflicts"),
                        ("Established", "InitialNamesAccepted"),
                    )
                ]
                obj["status"] = {"conditions": conditions, "storedVersions": []}
            stored_versions = list(obj["status"].get("storedVersions") or [])
            storage = next(v["name"] for v in spec["versions"] if v.get("storage"))
            obj["status"] = {
                **obj["status"],
                "acceptedNames": spec["names"],
                "storedVersions": [*stored_versions, storage]
                if storage not in stored_versions
                else stored_versions,
            }
        _omit_empty(_meta(obj))

    # ---- store: update (PUT, PATCH, /status) --------------------------------------------------

    def replace_object(
        self,
        rdef: ResourceDef,
        namespace: str | None,
        name: str,
        body: Any,
        subresource: str | None = None,
        field_validation: str = "",
    ) -> JsonDict:
        """PUT: optimistic concurrency on ``metadata.resourceVersion`` (409 when stale)."""
        current = self._require(rdef, namespace, name)
        if not isinstance(body, dict) or not isinstance(body.get("metadata", {}), dict):
            raise _bad_request("the body of the request was in an unknown format")
        if _meta(body).get("name") not in (None, name):
            raise _bad_request(
                f"the name of the object ({_meta(body).get('name')}) "
                f"does not match the name on the URL ({name})"
            )
        if rdef.custom and not _meta(body).get("resourceVersion"):
            raise _invalid(
                f'{rdef.kind} "{name}" is invalid: metadata.resourceVersion: Invalid value: 0x0: '
                "must be specified for an update"
            )
        return self._update(rdef, current, copy.deepcopy(body), subresource, field_validation, "update")

    def patch_object(
        self,
        rdef: ResourceDef,
        namespace: str | None,
        name: str,
        patch: Any,
        content_type: str,
        subresource: str | None = None,
        field_validation: str = "",
    ) -> JsonDict:
        """PATCH: JSON patch (a failed ``test`` is 422), merge patch, approximate strategic merge."""
        current = self._require(rdef, namespace, name)
        presented = copy.deepcopy(self._present(rdef, current))
        mime = content_type.split(";", 1)[0].strip().lower()
        patched: Any
        if mime == "application/json-patch+json":
            if not isinstance(patch, list):
                raise _bad_request("a JSON patch must be a list of operations")
            try:
                patched = jsonpatch.apply_patch(presented, copy.deepcopy(patch))
            except jsonpatch.JsonPatchTestFailed as exc:
                raise _invalid(
                    f"the server rejected our request due to an error in our request: {exc}"
                ) from exc
            except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
                raise _invalid(
                    f"the server rejected our request due to an error in our request: {exc}"
                ) from exc
            except (TypeError, KeyError, ValueError) as exc:
                raise _bad_request(f"invalid JSON patch: {exc}") from exc
        elif mime == "application/merge-patch+json":
            if not isinstance(patch, dict):
                raise _bad_request("a merge patch must be a JSON object")
            patched = merge_patch(presented, patch)
        elif mime == "application/strategic-merge-patch+json":
            if rdef.custom:
                raise ApiError(
                    415,
                    "UnsupportedMediaType",
                    "strategic merge patch is not supported for custom resources; use a merge patch",
                )
            if not isinstance(patch, dict):
                raise _bad_request("a strategic merge patch must be a JSON object")
            patched = strategic_merge_patch(presented, patch)
        else:
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the emulator does not support patches of type {content_type!r} "
                "(server-side apply included)",
            )
        if not isinstance(patched, dict):
            raise _invalid("the patched object is not a JSON object")
        return self._update(rdef, current, patched, subresource, field_validation, "patch")

    def _update(
        self,
        rdef: ResourceDef,
        current: JsonDict,
        candidate: JsonDict,
        subresource: str | None,
        field_validation: str = "",
        verb: str = "update",
    ) -> JsonDict:
        """Turn a client's desired state into the stored one, as the API server does."""
        if rdef.custom:
            self._decode_custom(rdef, candidate, field_validation, verb)
        meta = _meta(current)
        name, namespace = meta["name"], meta.get("namespace")
        wanted_rv = _meta(candidate).get("resourceVersion")
        if wanted_rv and wanted_rv != meta["resourceVersion"]:
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {rdef.display} "{name}": the object has been modified; '
                "please apply your changes to the latest version and try again",
                {"name": name, "group": rdef.group, "kind": rdef.plural},
            )
        if subresource == "status":
            new = copy.deepcopy(current)
            if "status" in candidate:
                new["status"] = candidate["status"]
            else:
                new.pop("status", None)
        else:
            new = candidate
            new_meta = new.get("metadata")
            if not isinstance(new_meta, dict):
                raise _invalid(f'{rdef.kind} "{name}" is invalid: metadata: Required value')
            for field, value in (("name", name), ("namespace", namespace)):
                if new_meta.get(field) not in (None, value):
                    raise _invalid(f'{rdef.kind} "{name}" is invalid: metadata.{field}: field is immutable')
            if new_meta.get("uid") not in (None, meta["uid"]):
                raise ApiError(
                    409,
                    "Conflict",
                    f"Precondition failed: UID in precondition: {new_meta['uid']}, "
                    f"UID in object meta: {meta['uid']}",
                )
            new_meta["name"] = name
            if namespace is not None:
                new_meta["namespace"] = namespace
            for field in _SERVER_MANAGED_METADATA:
                if field in meta:
                    new_meta[field] = meta[field]
                else:
                    new_meta.pop(field, None)
            new_meta.pop("managedFields", None)
            if rdef.has_status:  # the main resource ignores status changes
                if "status" in current:
                    new["status"] = copy.deepcopy(current["status"])
                else:
                    new.pop("status", None)
            if meta.get("deletionTimestamp"):
                added = set(new_meta.get("finalizers") or []) - set(meta.get("finalizers") or [])
                if added:
                    raise _invalid(
                        f'{rdef.kind} "{name}" is invalid: metadata.finalizers: Forbidden: '
                        "no new finalizers can be added if the object is being deleted"
                    )
            new["apiVersion"], new["kind"] = current.get("apiVersion"), current.get("kind")
            self._normalize(rdef, new, current)
        if rdef.custom:
            self._validate_custom(rdef, new, current, status_only=subresource == "status")
        _omit_empty(new["metadata"])
        if new == current:
            return self._present(rdef, current)  # a no-op write changes nothing, not even the resourceVersion
        if rdef.generation and _spec_part(new, rdef.has_status) != _spec_part(current, rdef.has_status):
            new["metadata"]["generation"] = int(meta.get("generation") or 0) + 1
        if new["metadata"].get("deletionTimestamp") and self._releasable(rdef, new):
            return self._present(rdef, self._remove(rdef, new, "Background"))
        stored = self._commit(rdef, "MODIFIED", new, current)
        if rdef.group_resource == _CRDS.group_resource:
            self._register_crd(stored)
        self._collect_if_orphaned(rdef, stored)
        return self._present(rdef, stored)

    # ---- store: delete ------------------------------------------------------------------------

    def delete_object(
        self, rdef: ResourceDef, namespace: str | None, name: str, options: Mapping[str, Any] | None = None
    ) -> JsonDict:
        """DELETE: objects with finalizers only get ``deletionTimestamp``; others go at once.

        Built-in resources answer a final deletion with a ``Status``, custom resources with the
        object, as the real server does (``kubernetes`` deserializes them accordingly).
        """
        options = options or {}
        current = self._require(rdef, namespace, name)
        preconditions = options.get("preconditions") or {}
        meta = _meta(current)
        for field in ("uid", "resourceVersion"):
            if preconditions.get(field) not in (None, meta.get(field)):
                raise ApiError(
                    409,
                    "Conflict",
                    f"Precondition failed: {field} in precondition: {preconditions[field]}, "
                    f"{field} in object meta: {meta.get(field)}",
                )
        result = self._delete(rdef, current, str(options.get("propagationPolicy") or "Background"))
        if self._current(rdef, namespace, name) is None and not rdef.custom:
            return {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "details": {"name": name, "group": rdef.group, "kind": rdef.plural, "uid": meta["uid"]},
            }
        return self._present(rdef, result)

    def delete_collection(
        self, rdef: ResourceDef, namespace: str | None, params: Mapping[str, str]
    ) -> JsonDict:
        matches = self._matcher(rdef, namespace, None, params)
        deleted = [
            self._present(rdef, self._delete(rdef, obj, params.get("propagationPolicy") or "Background"))
            for obj in list(self._live(rdef, namespace))
            if matches(obj)
        ]
        return {
            "apiVersion": rdef.api_version,
            "kind": f"{rdef.kind}List",
            "metadata": {"resourceVersion": str(self._seq)},
            "items": deleted,
        }

    def _delete(self, rdef: ResourceDef, current: JsonDict, propagation: str) -> JsonDict:
        meta = _meta(current)
        if meta.get("deletionTimestamp"):
            return current  # already being deleted
        is_namespace = rdef.group_resource == _NAMESPACES.group_resource
        if not meta.get("finalizers") and not is_namespace:
            return self._remove(rdef, current, propagation)
        new = copy.deepcopy(current)
        new["metadata"]["deletionTimestamp"] = _now()
        new["metadata"]["deletionGracePeriodSeconds"] = 0
        if "generation" in meta:
            new["metadata"]["generation"] = int(meta["generation"]) + 1
        if is_namespace:
            new["status"] = {"phase": "Terminating"}
        stored = self._commit(rdef, "MODIFIED", new, current)
        if is_namespace:
            self._terminate_namespace(meta["name"], propagation)
            return self._current(rdef, None, meta["name"]) or stored
        return stored

    def _releasable(self, rdef: ResourceDef, obj: JsonDict) -> bool:
        """Can an object marked for deletion go now? (no finalizers; an empty namespace)"""
        if _meta(obj).get("finalizers"):
            return False
        if rdef.group_resource == _NAMESPACES.group_resource:
            return not any(self._namespace_contents(_meta(obj)["name"]))
        return True

    def _remove(self, rdef: ResourceDef, current: JsonDict, propagation: str) -> JsonDict:
        """The final removal, and what a real cluster's controllers do after it."""
        final = copy.deepcopy(current)
        self._commit(rdef, "DELETED", final, current)
        meta = _meta(final)
        if rdef.group_resource == _CRDS.group_resource:
            self._unregister_crd(final)
        self._collect_garbage(meta["uid"], orphan=propagation == "Orphan")
        namespace = meta.get("namespace")
        if namespace is not None:
            ns = self._current(_NAMESPACES, None, namespace)
            if ns is not None and _meta(ns).get("deletionTimestamp") and self._releasable(_NAMESPACES, ns):
                self._remove(_NAMESPACES, ns, "Background")
        return final

    def _namespace_contents(self, namespace: str) -> Iterator[tuple[ResourceDef, JsonDict]]:
        seen: set[tuple[str, str]] = set()
        for rdef in list(self._defs.values()):
            if rdef.namespaced and rdef.group_resource not in seen:
                seen.add(rdef.group_resource)
                for obj in self._live(rdef, namespace):
                    yield rdef, obj

    def _terminate_namespace(self, namespace: str, propagation: str) -> None:
        """The namespace controller: delete everything inside, then the namespace when empty."""
        for rdef, obj in list(self._namespace_contents(namespace)):
            current = self._current(rdef, namespace, _meta(obj)["name"])
            if current is not None:
                self._delete(rdef, current, propagation)
        ns = self._current(_NAMESPACES, None, namespace)
        if ns is not None and self._releasable(_NAMESPACES, ns):
            self._remove(_NAMESPACES, ns, "Background")

    def _collect_garbage(self, owner_uid: str, orphan: bool) -> None:
        """The garbage collector after an owner's removal: dependents with no owner left are
        deleted (background); with ``Orphan``, or with other owners left, they only lose the reference."""
        for rdef, obj in list(self._all_live()):
            if any(ref.get("uid") == owner_uid for ref in _meta(obj).get("ownerReferences") or []):
                self._drop_owners(rdef, obj, {owner_uid}, delete_if_none_left=not orphan)

    def _collect_if_orphaned(self, rdef: ResourceDef, obj: JsonDict) -> None:
        """The garbage collector for an object written after its owners were already gone.

        A controller racing its owner's deletion can recreate a dependent with a dangling
        ownerReference; a real cluster's garbage collector deletes it, so must we. References to
        kinds the emulator does not serve are left alone, as the real collector cannot resolve them.
        """
        namespace = _meta(obj).get("namespace")
        refs = _meta(obj).get("ownerReferences") or []
        gone = {ref.get("uid") for ref in refs if self._owner_exists(ref, namespace) is False}
        if gone:
            self._drop_owners(rdef, obj, gone, delete_if_none_left=True)

    def _owner_exists(self, ref: Mapping[str, Any], namespace: str | None) -> bool | None:
        """Whether an ownerReference points at a live object (None: its kind is not served)."""
        try:
            owner_def = self.resource_def(str(ref.get("apiVersion")), str(ref.get("kind")))
        except KeyError:
            return None
        owner = self._current(owner_def, namespace if owner_def.namespaced else None, str(ref.get("name")))
        return owner is not None and _meta(owner).get("uid") == ref.get("uid")

    def _drop_owners(
        self, rdef: ResourceDef, obj: JsonDict, gone: set[Any], delete_if_none_left: bool
    ) -> None:
        meta = _meta(obj)
        current = self._current(rdef, meta.get("namespace"), meta["name"])
        if current is None:
            return
        refs = _meta(current).get("ownerReferences") or []
        remaining = [ref for ref in refs if ref.get("uid") not in gone]
        if remaining or not delete_if_none_left:
            new = copy.deepcopy(current)
            new["metadata"]["ownerReferences"] = remaining
            _omit_empty(new["metadata"])
            self._commit(rdef, "MODIFIED", new, current)
        else:
            self._delete(rdef, current, "Background")

    def _all_live(self) -> Iterator[tuple[ResourceDef, JsonDict]]:
        seen: set[tuple[str, str]] = set()
        for rdef in list(self._defs.values()):
            if rdef.group_resource not in seen:
                seen.add(rdef.group_resource)
                for obj in self._live(rdef):
                    yield rdef, obj

    # ---- CRDs as API objects ------------------------------------------------------------------

    def _register_crd(self, crd: JsonDict) -> None:
        spec = crd["spec"]
        self.unregister_resource(spec["group"], spec["names"]["plural"])
        schemas = crd_version_schemas(crd)
        for rdef in crd_resource_defs(crd):
            self.register_resource(rdef)
            if rdef.version in schemas:
                self._schemas[rdef.group, rdef.version, rdef.plural] = schemas[rdef.version]

    def custom_schema(self, rdef: ResourceDef) -> CustomResourceSchema | None:
        """The schema of a custom resource's served version (None: not a CR, or no schema)."""
        key = (rdef.group, rdef.version, rdef.plural)
        schema = self._schemas.get(key)
        if schema is None or isinstance(schema, CustomResourceSchema):
            return schema
        compiled = self._schemas[key] = compile_schema(schema)
        return compiled

    def _decode_custom(self, rdef: ResourceDef, obj: JsonDict, field_validation: str, verb: str) -> None:
        """Prune and default a custom resource as the server decodes a request body; unknown fields
        are a 400 (a 422 ``patch`` for a PATCH) with ``fieldValidation=Strict``, else warnings."""
        schema = self.custom_schema(rdef)
        if schema is None:
            return
        strict = field_validation == "Strict"
        before = json.dumps(obj, sort_keys=True, separators=(",", ":")) if strict and verb == "patch" else ""
        unknown = schema.decode(obj)
        if not unknown:
            return
        if strict:
            detail = "strict decoding error: " + ", ".join(f'unknown field "{field}"' for field in unknown)
            if verb == "patch":
                message = f"Invalid value: {json.dumps(before)}: {detail}"
                raise _invalid(
                    f' "" is invalid: patch: {message}',
                    {"causes": [{"reason": "FieldValueInvalid", "message": message, "field": "patch"}]},
                )
            raise _bad_request(
                f'{rdef.kind} in version "{rdef.version}" cannot be handled as a {rdef.kind}: {detail}'
            )
        if field_validation != "Ignore":
            self._warnings.extend(f'unknown field "{field}"' for field in unknown)

    def _validate_custom(self, rdef: ResourceDef, new: JsonDict, old: Any, status_only: bool = False) -> None:
        """422 with the server's causes when a custom resource breaks its schema or CEL rules."""
        schema = self.custom_schema(rdef)
        if schema is None:
            return
        causes = schema.validate(new, old, status_only=status_only)
        if causes:
            name = _meta(new).get("name", "")
            listed = ", ".join(f"{cause['field']}: {cause['message']}" for cause in causes)
            raise _invalid(
                f'{rdef.kind}.{rdef.group} "{name}" is invalid: '
                + (listed if len(causes) == 1 else f"[{listed}]"),
                {"name": name, "group": rdef.group, "kind": rdef.kind, "causes": causes},
            )

    def _unregister_crd(self, crd: JsonDict) -> None:
        """Deleting a CRD deletes its objects and stops serving it (instantly, unlike a cluster)."""
        group, plural = crd["spec"]["group"], crd["spec"]["names"]["plural"]
        defs = [rdef for rdef in self._defs.values() if rdef.group_resource == (group, plural)]
        if defs:
            for obj in list(self._live(defs[0])):
                self._commit(defs[0], "DELETED", copy.deepcopy(obj), obj)
        self.unregister_resource(group, plural)

    # ---- tokens -------------------------------------------------------------------------------

    def issue_token(
        self,
        namespace: str,
        service_account: str,
        audiences: Sequence[str] = (),
        expiration_seconds: int = 3600,
    ) -> JsonDict:
        """TokenRequest for an existing service account; returns the TokenRequest ``status``."""
        sa = self._require(_SERVICE_ACCOUNTS, namespace, service_account)
        if expiration_seconds < 600:
            raise _invalid(
                "spec.expirationSeconds: Invalid value: may not specify a duration less than 10 minutes"
            )
        token, expires_at = self._tokens.issue(
            namespace,
            service_account,
            _meta(sa)["uid"],
            list(audiences) or [TOKEN_ISSUER],
            expiration_seconds,
        )
        expiration = datetime.datetime.fromtimestamp(expires_at, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"token": token, "expirationTimestamp": expiration}

    def _request_token(self, namespace: str, name: str, body: Any) -> JsonDict:
        spec = body.get("spec") if isinstance(body, dict) else None
        spec = spec if isinstance(spec, dict) else {}
        status = self.issue_token(
            namespace, name, spec.get("audiences") or (), int(spec.get("expirationSeconds") or 3600)
        )
        return {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "metadata": {"name": name, "namespace": namespace, "creationTimestamp": _now()},
            "spec": {**spec, "audiences": spec.get("audiences") or [TOKEN_ISSUER]},
            "status": status,
        }

    def _review_token(self, body: Any) -> JsonDict:
        spec = body.get("spec") if isinstance(body, dict) else None
        if not isinstance(spec, dict) or not spec.get("token"):
            raise _invalid("TokenReview: spec.token: Required value")

        def current_uid(namespace: str, name: str) -> str | None:
            sa = self._current(_SERVICE_ACCOUNTS, namespace, name)
            return None if sa is None else _meta(sa)["uid"]

        status = self._tokens.review(str(spec["token"]), spec.get("audiences") or (), current_uid)
        return {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "metadata": {"creationTimestamp": None},
            "spec": spec,
            "status": status,
        }

    # ---- watch --------------------------------------------------------------------------------

    async def _stream_watch(
        self, request: rendering.Request, rdef: ResourceDef, params: Mapping[str, str]
    ) -> aiohttp.web.StreamResponse:
        """A watch that resumes after ``resourceVersion=N`` (no event lost between list and watch).

        Without a resourceVersion (or with ``0``, or ``sendInitialEvents=true``) it first sends the
        current objects as ADDED. Everything up to the first ``await`` is synchronous, so the
        snapshot and the log position agree.
        """
        matches = self._matcher(rdef, request.namespace, request.name, params)
        rv_param = params.get("resourceVersion", "")
        send_initial = params.get("sendInitialEvents") == "true"
        initial: list[JsonDict] = []
        if rv_param in ("", "0") or send_initial:
            cursor = self._seq
            current = sorted(
                (obj for obj in self._live(rdef, request.namespace) if matches(obj)),
                key=lambda obj: (_meta(obj).get("namespace") or "", _meta(obj)["name"]),
            )
            initial = [{"type": "ADDED", "object": self._present(rdef, obj)} for obj in current]
            if send_initial and params.get("allowWatchBookmarks") == "true":
                initial.append(self._bookmark(rdef, cursor, initial_end=True))
        else:
            try:
                cursor = int(rv_param)
            except ValueError:
                raise _bad_request(f'invalid resource version "{rv_param}"') from None
        timeout = _number_param(params, "timeoutSeconds")

        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        response = aiohttp.web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        raw_request = request._raw_request
        assert raw_request is not None
        epoch = self._watch_epoch
        try:
            await response.prepare(raw_request)
            for event in initial:
                await response.write(json.dumps(event).encode() + b"\n")
            while not self._closing and self._watch_epoch == epoch:
                pending = self._events_after(cursor)
                if pending is None:
                    await response.write(json.dumps(self._expired(cursor)).encode() + b"\n")
                    break
                for entry in pending:
                    cursor = entry.seq
                    seen = self._watch_event(rdef, entry, matches)
                    if seen is not None:
                        await response.write(json.dumps(seen).encode() + b"\n")
                if self._seq > cursor:
                    continue  # more was written while we were sending
                wakeup = self._wakeup
                remaining = None if deadline is None else deadline - loop.time()
                if remaining is not None and remaining <= 0:
                    break
                try:
                    await asyncio.wait_for(wakeup.wait(), remaining)
                except TimeoutError:
                    break
            await response.write_eof()
        except ConnectionError:
            pass  # the client went away
        return response

    def _events_after(self, cursor: int) -> list[WatchEvent] | None:
        """Log entries after ``cursor``; None if some of them were already dropped (410 Gone)."""
        if not self._log:
            return []
        first = self._log[0].seq
        if cursor < first - 1:
            return None
        return self._log[max(0, cursor + 1 - first) :]

    @staticmethod
    def _expired(cursor: int) -> JsonDict:
        return {
            "type": "ERROR",
            "object": {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": f"too old resource version: {cursor}",
                "reason": "Expired",
                "code": 410,
            },
        }

    @staticmethod
    def _bookmark(rdef: ResourceDef, cursor: int, initial_end: bool) -> JsonDict:
        metadata: JsonDict = {"resourceVersion": str(cursor)}
        if initial_end:
            metadata["annotations"] = {"k8s.io/initial-events-end": "true"}
        return {
            "type": "BOOKMARK",
            "object": {"apiVersion": rdef.api_version, "kind": rdef.kind, "metadata": metadata},
        }

    def _watch_event(self, rdef: ResourceDef, entry: WatchEvent, matches: ObjectMatcher) -> JsonDict | None:
        """The event a watcher sees: objects entering/leaving its selector are ADDED/DELETED."""
        if (entry.group, entry.plural) != rdef.group_resource:
            return None
        now = matches(entry.obj)
        if entry.type == "MODIFIED":
            before = entry.old is not None and matches(entry.old)
            event_type = "MODIFIED" if now and before else "ADDED" if now else "DELETED" if before else None
        else:
            event_type = entry.type if now else None
        if event_type is None:
            return None
        if event_type == "DELETED" and entry.type == "MODIFIED" and entry.old is not None:
            # As the API server's cacher: the state that matched, at the change's resourceVersion.
            left = copy.deepcopy(entry.old)
            left["metadata"]["resourceVersion"] = str(entry.seq)
            return {"type": "DELETED", "object": self._present(rdef, left)}
        return {"type": event_type, "object": self._present(rdef, entry.obj)}


#: The RBAC verb of a request, by HTTP method and whether it names an object.
_VERBS: dict[tuple[str, bool], str] = {
    ("GET", False): "list",
    ("GET", True): "get",
    ("POST", False): "create",
    ("PUT", True): "update",
    ("PATCH", True): "patch",
    ("DELETE", True): "delete",
    ("DELETE", False): "deletecollection",
}


def _number_param(params: Mapping[str, str], name: str) -> float | None:
    """A numeric query parameter; a malformed one is the client's error (400), not ours (500)."""
    if not params.get(name):
        return None
    try:
        return float(params[name])
    except ValueError:
        raise _bad_request(f"invalid {name}: {params[name]!r}") from None


def _delete_options(body: Any, params: Mapping[str, str]) -> JsonDict:
    options: JsonDict = dict(body) if isinstance(body, dict) else {}
    if params.get("propagationPolicy"):
        options["propagationPolicy"] = params["propagationPolicy"]
    return options


async def _parse_request(raw_request: aiohttp.web.BaseRequest, request_id: int) -> rendering.Request:
    """kmock's ``Request._parse`` with :func:`parse_kube_path` instead of kmock's path parser."""
    body = await raw_request.read()
    data: Any = None
    if body:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
    kube = parse_kube_path(raw_request.path)
    resource = None
    action = None
    if kube is not None:
        resource = kmock.resource(group=kube.group, version=kube.version, plural=kube.plural)
        parsed = parsing.ParsedPath(
            kube.group, kube.version, kube.plural, kube.namespace, kube.name, kube.subresource
        )
        action = parsing.guess_k8s(parsed, kmock.method(raw_request.method), dict(raw_request.query))
    return rendering.Request(
        id=request_id,
        raw_request=raw_request,
        url=raw_request.url,
        method=raw_request.method,
        params=dict(raw_request.query),
        headers=dict(raw_request.headers),
        cookies=dict(raw_request.cookies),
        body=body,
        text=body.decode("utf-8", errors="replace"),
        data=data,
        action=action,
        resource=resource,
        namespace=None if kube is None else kube.namespace,
        name=None if kube is None else kube.name,
        subresource=None if kube is None else kube.subresource,
    )


# --------------------------------------------------------------------------------------------------
# Running it: a real HTTP server in a background thread with its own event loop.
# --------------------------------------------------------------------------------------------------


def plain_kmock_handler(crds: Iterable[Mapping[str, Any]] = ()) -> kmock.KubernetesEmulator:
    """kmock 0.8 as shipped, with the same resources declared for discovery.

    Only for measuring what the layer adds: ``SECRETSYNC_KUBE_EMULATOR=kmock-plain`` makes the
    fixtures serve this, and the gap tests are expected to fail against it.
    """
    handler = kmock.KubernetesEmulator()
    defs = list(BUILTIN_RESOURCES) + [rdef for crd in crds for rdef in crd_resource_defs(crd)]
    for rdef in defs:
        handler.resources[kmock.resource(rdef.group, rdef.version, rdef.plural)] = kmock.ResourceInfo(
            namespaced=rdef.namespaced,
            kind=rdef.kind,
            singular=rdef.singular or rdef.kind.lower(),
            verbs=set(rdef.verbs),
            shortnames=set(rdef.short_names),
            subresources=set(rdef.subresources),
        )
    return handler


class ServerThread:
    """Serve a kmock handler over HTTP from a dedicated thread and event loop.

    Why not ``kmock.Server``: it also patches aiohttp's DNS resolution process-wide and opens a
    client session, neither of which we need, and the patch must be undone in LIFO order, which
    cannot be guaranteed once several threads (emulator, KopfRunner) run their own loops.
    The port is chosen by the OS (bind to port 0), so parallel servers never collide.
    """

    def __init__(self, handler: apps.RawHandler, host: str = "127.0.0.1", port: int = 0) -> None:
        self.handler = handler
        self.host = host
        self._requested_port = port
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready: concurrent.futures.Future[int] = concurrent.futures.Future()
        self._stopping: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("the server is not running")
        return self._loop

    def start(self, setup: Callable[[], None] | None = None, timeout: float = 10.0) -> None:
        """Start serving; ``setup`` runs in the loop thread before the port accepts requests."""
        self._thread = threading.Thread(target=self._run, args=(setup,), name="kube-emulator", daemon=True)
        self._thread.start()
        try:
            self.port = self._ready.result(timeout=timeout)
        except BaseException:
            self._thread.join(timeout=timeout)
            raise

    def stop(self, timeout: float = 10.0) -> None:
        """Close watch streams and connections, stop the loop, join the thread."""
        if self._thread is None:
            return
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopping.set)
        self._thread.join(timeout=timeout)
        if self._thread.is_alive():
            raise RuntimeError(f"the emulator thread did not stop within {timeout}s")
        self._thread = None

    def call(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """Run ``fn`` in the loop thread (where the handler's state lives) and return its result."""
        if threading.current_thread() is self._thread:
            return fn()

        async def invoke() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(invoke(), self.loop).result(timeout=timeout)

    def _run(self, setup: Callable[[], None] | None) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve(setup))
        except BaseException as exc:
            if not self._ready.done():
                self._ready.set_exception(exc)
            else:
                raise
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            asyncio.set_event_loop(None)

    async def _serve(self, setup: Callable[[], None] | None) -> None:
        self._stopping = asyncio.Event()
        async with self.handler:  # kmock needs this for its stream feeder and error collection
            if setup is not None:
                setup()
            loop = asyncio.get_running_loop()

            def request(message: Any, payload: Any, protocol: Any, writer: Any, task: Any) -> Any:
                # kube-apiserver takes request bodies up to 3 MiB (aiohttp's default is 1 MiB), so
                # a Secret over its 1 MiB data limit reaches validation and gets the real 422.
                return aiohttp.web.BaseRequest(
                    message, payload, protocol, writer, task, loop, client_max_size=3 << 20
                )

            server = aiohttp.web.Server(
                self.handler, request_factory=request, handler_cancellation=True, access_log=None
            )
            runner = aiohttp.web.ServerRunner(server, shutdown_timeout=2.0)
            await runner.setup()
            try:
                site = aiohttp.web.TCPSite(runner, self.host, self._requested_port)
                await site.start()
                self._ready.set_result(int(runner.addresses[0][1]))
                await self._stopping.wait()
            finally:
                if isinstance(self.handler, KubeEmulatorHandler):
                    self.handler.close()
                await runner.cleanup()


def write_kubeconfig(
    path: pathlib.Path, server: str, token: str = DUMMY_TOKEN, namespace: str = "default"
) -> None:
    """A kubeconfig for clients that only take one (operator subprocess, ``kopf run``, kubectl)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kube-emulator", "cluster": {"server": server}}],
        "users": [{"name": "kube-emulator", "user": {"token": token}}],
        "contexts": [
            {
                "name": "kube-emulator",
                "context": {"cluster": "kube-emulator", "user": "kube-emulator", "namespace": namespace},
            }
        ],
        "current-context": "kube-emulator",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


class KubeEmulator:
    """A running API emulator with helpers for tests: the object behind the ``kube_emulator`` fixture.

    Helpers (``create``, ``get``, ``patch``, ...) run in the emulator's own thread, so they are
    safe to call from tests and produce watch events like any API request would. They raise
    :class:`ApiError` exactly where the API would answer with an error.
    """

    def __init__(
        self,
        workdir: pathlib.Path,
        crds: Iterable[Mapping[str, Any]] = (),
        handler: apps.RawHandler | None = None,
    ) -> None:
        self.crds = [dict(crd) for crd in crds]
        self.handler: apps.RawHandler = handler if handler is not None else KubeEmulatorHandler()
        self.server = ServerThread(self.handler)
        self.kubeconfig_path = workdir / "kubeconfig.yaml"
        self.token = DUMMY_TOKEN

    # ---- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Self:
        setup = (
            functools.partial(self.handler.bootstrap, self.crds)
            if isinstance(self.handler, KubeEmulatorHandler)
            else None
        )
        self.server.start(setup=setup)
        write_kubeconfig(self.kubeconfig_path, self.url, self.token)
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def is_layered(self) -> bool:
        """False when serving plain kmock (the baseline for the gap tests)."""
        return isinstance(self.handler, KubeEmulatorHandler)

    @property
    def layer(self) -> KubeEmulatorHandler:
        """The layered handler; the helpers below need it (they do not work on plain kmock)."""
        if not isinstance(self.handler, KubeEmulatorHandler):
            raise TypeError("this helper needs the layered emulator, not plain kmock")
        return self.handler

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def internal_errors(self) -> list[Exception]:
        """Exceptions the emulator raised while serving, other than kmock's deliberate 404s, request
        limits and clients hanging up: bugs, answered as HTTP 500."""
        deliberate = (kmock.KubernetesError, apps.KMockError, ConnectionError)  # clients may hang up
        return [error for error in self.handler.errors if not isinstance(error, deliberate)]

    # ---- clients ------------------------------------------------------------------------------

    def api_client(self) -> kubernetes.client.ApiClient:
        """A ``kubernetes`` ApiClient for this emulator; the global default config is not touched."""
        import kubernetes.client  # lazy: only tests that talk Kubernetes pay for it

        configuration = kubernetes.client.Configuration(
            host=self.url, api_key={"BearerToken": self.token}, api_key_prefix={"BearerToken": "Bearer"}
        )
        configuration.verify_ssl = False
        return kubernetes.client.ApiClient(configuration)

    def connection_info(self) -> kopf.ConnectionInfo:
        """What a ``@kopf.on.login`` handler returns to point kopf at this emulator."""
        import kopf  # lazy: only operator tests import kopf

        return kopf.ConnectionInfo(
            server=self.url, insecure=True, token=self.token, default_namespace="default"
        )

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        content_type: str = "application/json",
        timeout: float = 10.0,
    ) -> tuple[int, Any]:
        """A raw HTTP call; returns the status and the decoded JSON body (or text)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(  # our own http://127.0.0.1 URL
            self.url + path, data=data, method=method, headers={"Content-Type": content_type}
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode("utf-8", errors="replace")

    # ---- state helpers (run in the emulator thread) ------------------------------------------

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` where the emulator's state lives (for direct use of the handler's methods)."""
        return self.server.call(fn)

    def _rdef(self, api_version: str, kind: str) -> ResourceDef:
        return self.call(lambda: self.layer.resource_def(api_version, kind))

    def create(self, obj: Mapping[str, Any], namespace: str | None = None) -> JsonDict:
        """Create an object described by ``apiVersion``/``kind`` (namespace defaults to ``default``)."""
        rdef = self._rdef(str(obj.get("apiVersion")), str(obj.get("kind")))
        ns = (namespace or _meta(obj).get("namespace") or "default") if rdef.namespaced else None
        return copy.deepcopy(self.call(lambda: self.layer.create_object(rdef, ns, dict(obj))))

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> JsonDict | None:
        """The object, or None if it does not exist."""
        rdef = self._rdef(api_version, kind)
        ns = (namespace or "default") if rdef.namespaced else None
        found = self.call(lambda: self.layer._current(rdef, ns, name))
        return None if found is None else copy.deepcopy(self.layer._present(rdef, found))

    def list(
        self, api_version: str, kind: str, namespace: str | None = None, label_selector: str = ""
    ) -> list[JsonDict]:
        """Objects of a kind (all namespaces unless one is given), sorted by namespace and name."""
        rdef = self._rdef(api_version, kind)
        params = {"labelSelector": label_selector}
        listing = self.call(lambda: self.layer.list_objects(rdef, namespace, params))
        return copy.deepcopy(listing["items"])

    def patch(
        self,
        api_version: str,
        kind: str,
        name: str,
        patch: Any,
        namespace: str | None = None,
        subresource: str | None = None,
        content_type: str = "application/merge-patch+json",
    ) -> JsonDict:
        """Patch an object (merge patch by default; ``subresource="status"`` for the status)."""
        rdef = self._rdef(api_version, kind)
        ns = (namespace or "default") if rdef.namespaced else None
        return copy.deepcopy(
            self.call(lambda: self.layer.patch_object(rdef, ns, name, patch, content_type, subresource))
        )

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> JsonDict:
        """Delete an object (honouring finalizers); returns what the API would return."""
        rdef = self._rdef(api_version, kind)
        ns = (namespace or "default") if rdef.namespaced else None
        return copy.deepcopy(self.call(lambda: self.layer.delete_object(rdef, ns, name)))

    def register_service_backend(self, namespace: str, service: str, port: str, url: str) -> None:
        """Make ``services/SERVICE:PORT/proxy/...`` in NAMESPACE forward to ``url``."""
        self.layer.service_backends[(namespace, service, port)] = url

    def ensure_namespace(self, name: str) -> JsonDict:
        """Create a namespace unless it exists (objects can only be created in existing ones)."""
        existing = self.get("v1", "Namespace", name)
        return (
            existing
            if existing is not None
            else self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        )

    def apply_crd(self, crd: Mapping[str, Any]) -> JsonDict:
        """Create or replace a CRD; its resources are served at once."""
        return copy.deepcopy(self.call(lambda: self.layer.apply_crd(crd)))

    def register_resource(self, rdef: ResourceDef) -> None:
        """Serve one more built-in resource (e.g. ``v1/pods``) for a test that needs it."""
        self.call(lambda: self.layer.register_resource(rdef))

    def issue_token(
        self,
        namespace: str,
        service_account: str,
        audiences: Sequence[str] = (),
        expiration_seconds: int = 3600,
    ) -> str:
        """A TokenRequest for an existing service account; the token passes TokenReview."""
        status = self.call(
            lambda: self.layer.issue_token(namespace, service_account, audiences, expiration_seconds)
        )
        return str(status["token"])

    def issued_tokens(self) -> list[str]:
        """Every service-account token issued so far (TokenRequests included), in order."""
        return list(self.call(lambda: self.layer.token_authority.issued_tokens()))

    def revoke_token(self, token: str) -> None:
        """Invalidate an issued token (TokenReview refuses it; with ``layer.authenticate``, so does
        every request that bears it), as deleting the pod it is bound to does."""
        self.call(lambda: self.layer.token_authority.revoke(token))

    def end_watches(self) -> None:
        """End every open watch stream, as an API server restart does; clients watch again."""
        self.call(self.layer.end_watches)

    def requests(self) -> list[tuple[str, str, dict[str, str]]]:
        """(method, path, query parameters) of every API request served so far, in order (what the
        helpers here do is not among them: they do not go through HTTP)."""
        return self.call(
            lambda: [(str(r.method.value), r.url.path, dict(r.params)) for r in self.layer._requests]
        )

    @property
    def resource_version(self) -> int:
        """The latest resourceVersion, i.e. the number of writes so far."""
        return int(self.call(lambda: self.layer.resource_version))

    @property
    def service_account_public_key_pem(self) -> str:
        """The key that signs issued tokens (for OpenBao's ``pem_keys``)."""
        return str(self.layer.token_authority.public_key_pem)


# --------------------------------------------------------------------------------------------------
# Waiting.
# --------------------------------------------------------------------------------------------------


def wait_for(
    predicate: Callable[[], T],
    timeout: float = 5.0,
    interval: float = 0.02,
    message: str | None = None,
    ignore: tuple[type[BaseException], ...] = (Exception,),
) -> T:
    """Poll ``predicate`` until it returns something truthy, and return that.

    Exceptions of the ``ignore`` types (by default any ``Exception``, including ``AssertionError``
    and ``ApiException`` 404s) count as "not yet". On timeout, raise ``AssertionError`` naming the
    condition, the last value and the last exception, so a failing test says what it waited for.
    """
    deadline = time.monotonic() + timeout
    last_value: T | None = None
    last_error: BaseException | None = None
    while True:
        try:
            last_value = predicate()
            last_error = None
            if last_value:
                return last_value
        except ignore as exc:
            last_error = exc
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    what = message or getattr(predicate, "__name__", repr(predicate))
    detail = f"last error: {last_error!r}" if last_error is not None else f"last value: {last_value!r}"
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; {detail}") from last_error
