"""Typed views of ExternalSecret, SecretStore and ClusterSecretStore bodies, parsed once.

Why a model layer: the reconcilers, the providers and the status code should
never dig through raw dicts or guess defaults. Each body is checked once
against a schema that mirrors the CRDs in ``crds/`` field for field
(``tests/test_crds.py`` proves the two agree), then turned into frozen
dataclasses with every default applied *here*, in code. The CRDs carry no
``default:`` on purpose: server-side defaults show up as drift in GitOps tools
for every ESO user who migrates a manifest that omitted them.

Why re-check what the API server already validated: bodies also come from
places without schema validation (the test emulator, ``kubectl apply
--validate=false``, an older CRD still installed), and the CEL one-of rules
are only enforced by a recent API server. Every malformed input raises
:class:`~secretsync.errors.SpecError` naming the exact field path
(``spec.data[2].remoteRef.key``) and never echoing a secret value.

Semantics follow External Secrets Operator (external-secrets.io/v1) where
users can observe them: policy combinations its webhook rejects, the
ClusterSecretStore namespace conditions, the credential namespace rules,
decodingStrategy and the key conversion of ``dataFrom``. Deliberate
differences are called out where they are made.
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from secretsync import regex, tenancy
from secretsync.errors import SpecError
from secretsync.providers.base import FindSpec, RemoteRef

# --------------------------------------------------------------------------- vocabulary

SECRET_STORE: Final = "SecretStore"  # noqa: S105 - a kind, not a password
CLUSTER_SECRET_STORE: Final = "ClusterSecretStore"  # noqa: S105 - a kind
STORE_KINDS: Final = (SECRET_STORE, CLUSTER_SECRET_STORE)
CREATION_POLICIES: Final = ("Owner", "Orphan", "Merge", "None")
DELETION_POLICIES: Final = ("Retain", "Delete", "Merge")
MERGE_POLICIES: Final = ("Replace", "Merge")
DECODING_STRATEGIES: Final = ("None", "Base64", "Base64URL", "Auto")
PROVIDERS: Final = ("vault", "aws", "gcpsm", "fake")
VAULT_AUTH_METHODS: Final = ("tokenSecretRef", "appRole", "kubernetes")
SELECTOR_OPERATORS: Final = ("In", "NotIn", "Exists", "DoesNotExist")

DEFAULT_REFRESH_INTERVAL: Final = 3600.0  # ESO: 1h
NAMESPACE_NAME_LABEL: Final = "kubernetes.io/metadata.name"
MAX_DATA_FROM: Final = 256  # bounds the CEL cost estimate of the per-entry rule
MAX_CONDITIONS: Final = 64
MAX_SELECTOR_TERMS: Final = 64

# Patterns exactly as in the CRDs (anchored; matched with re.fullmatch, so a
# trailing newline never slips past "$" the way it would with re.match).
DNS_SUBDOMAIN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DNS_LABEL: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
SECRET_KEY: Final = r"^[-._a-zA-Z0-9]+$"  # noqa: S105 - a pattern
# Go's time.ParseDuration, which ESO's refreshInterval (a metav1.Duration) uses:
# "0", or one or more <number><unit> with units ns, us, µs (U+00B5), μs (U+03BC), ms, s, m, h.
GO_DURATION: Final = r"^(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$"

_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")

OTHER_ESO_PROVIDERS: Final = (
    "akeyless",
    "azurekv",
    "bitwardensecretsmanager",
    "doppler",
    "gitlab",
    "ibm",
    "infisical",
    "kubernetes",
    "onepassword",
    "onepasswordSDK",
    "oracle",
    "webhook",
)
"""Common ESO providers, declared in the store CRDs only to be refused with a clear message."""
OTHER_VAULT_AUTH_METHODS: Final = ("ldap", "userPass", "jwt", "cert", "iam", "gcp")
"""ESO's other Vault auth methods, declared only to be refused."""

# ESO fields secretsync does not implement. Each one is DECLARED in the CRDs (a closed schema
# would otherwise let the API server prune it silently, for every client that does not ask for
# strict field validation: the feature would just not happen) and REFUSED by one CEL rule on its
# parent object whose message is exactly this text (tests/test_crds.py checks that, and that the
# model below refuses the same field with the same text for bodies that skipped the API server).
# Supporting one later: delete its entry here, its ``_refused(...)`` in the schema below and its
# rule in crds/. Keys name the field as the schema below does (tests look them up).
_STS_TAGS: Final = "; roles are assumed without STS session tags"
_AMBIENT: Final = (
    "use auth.secretRef, or omit auth in a ClusterSecretStore with spec.useOperatorIdentity: true "
    "(the operator's own identity)"
)
_AMBIENT_GCP: Final = (
    "use auth.secretRef, or omit auth in a ClusterSecretStore with spec.useOperatorIdentity: true "
    "(Application Default Credentials, which cover GKE Workload Identity)"
)
_UNSUPPORTED: Final[dict[str, str]] = {
    # ExternalSecret
    "refreshPolicy": "ESO's refreshPolicy is not supported; use refreshInterval ('0' = fetch once)",
    "syncWindows": "ESO's syncWindows is not supported; values are read again every refreshInterval",
    "target.manifest": "ESO's target.manifest is not supported; secretsync writes Secrets only",
    "templateFrom": "ESO's templateFrom is not supported; put templates in target.template.data",
    "template.metadata.finalizers": "ESO's target.template.metadata.finalizers is not supported; "
    "remove it (the Secret gets no finalizers)",
    "sourceRef": "ESO's sourceRef (per-entry stores and generators) is not supported; "
    "use spec.secretStoreRef (one store per ExternalSecret)",
    "rewrite": "ESO's dataFrom[].rewrite is not supported; keys are converted as by ESO's "
    "conversionStrategy Default",
    "metadataPolicy": "ESO's metadataPolicy Fetch is not supported; omit it or use None",
    "conversionStrategy": "ESO's conversionStrategy Unicode is not supported; omit it or use Default",
    "nullBytePolicy": "ESO's nullBytePolicy Fail is not supported; omit it or use Ignore "
    "(values are written as fetched)",
    # SecretStore and ClusterSecretStore
    **{
        f"provider.{name}": f"provider {name} is not supported by secretsync; supported: "
        "vault, aws, gcpsm, fake"
        for name in OTHER_ESO_PROVIDERS
    },
    "vault.tls": "ESO's vault.tls (client certificates) is not supported; the Vault server must accept "
    "the connection without one (verify it with caBundle)",
    "vault.caProvider": "ESO's vault.caProvider is not supported; put the CA certificates in vault.caBundle "
    "(base64 of the PEM)",
    "vault.readYourWrites": "ESO's vault.readYourWrites is not supported; omit it or set false",
    "vault.forwardInconsistent": "ESO's vault.forwardInconsistent is not supported; omit it or set false",
    "vault.headers": "ESO's vault.headers is not supported; requests carry only Vault's own headers "
    "(token, namespace)",
    "vault.checkAndSet": "ESO's vault.checkAndSet only applies to PushSecret, which secretsync does not "
    "have; remove it",
    **{
        f"vault.auth.{method}": f"ESO's vault.auth.{method} is not supported; use tokenSecretRef, appRole or "
        "kubernetes"
        for method in OTHER_VAULT_AUTH_METHODS
    },
    "aws.auth.jwt": f"ESO's aws.auth.jwt is not supported; {_AMBIENT}",
    "aws.additionalRoles": "ESO's aws.additionalRoles (role chaining) is not supported; use one role",
    "aws.externalID": "ESO's aws.externalID is not supported; use a role whose trust policy needs no "
    "external ID",
    "aws.sessionTags": f"ESO's aws.sessionTags is not supported{_STS_TAGS}",
    "aws.transitiveTagKeys": f"ESO's aws.transitiveTagKeys is not supported{_STS_TAGS}",
    "aws.sessionTagsPolicy": f"ESO's aws.sessionTagsPolicy Simple and Custom are not supported; omit it "
    f"or use None{_STS_TAGS}",
    "aws.customSessionTags": f"ESO's aws.customSessionTags is not supported{_STS_TAGS}",
    "aws.secretsManager": "ESO's aws.secretsManager only applies to PushSecret, which secretsync does not "
    "have; remove it",
    "aws.prefix": "ESO's aws.prefix is not supported; put the whole name in each remoteRef.key",
    "gcpsm.auth.workloadIdentity": f"ESO's gcpsm.auth.workloadIdentity is not supported; {_AMBIENT_GCP}",
    "gcpsm.auth.workloadIdentityFederation": "ESO's gcpsm.auth.workloadIdentityFederation is not supported; "
    f"{_AMBIENT_GCP}",
    "gcpsm.secretVersionSelectionPolicy": "ESO's gcpsm.secretVersionSelectionPolicy LatestOrFetch is not "
    "supported; omit it or use LatestOrFail",
    "fake.validationResult": "ESO's fake.validationResult is not supported; a fake store is always valid",
}


class FrozenMap(Mapping[str, str]):
    """An immutable, hashable ``str -> str`` mapping.

    Why: specs are frozen dataclasses that callers use as cache keys (a
    :class:`FindSpec` with tags is de-duplicated per sync), and a plain dict
    would make them unhashable and mutable behind the dataclass's back.
    Compares equal to any mapping with the same items.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        self._data: dict[str, str] = dict(data)

    def __getitem__(self, key: str) -> str:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


_EMPTY: Final = FrozenMap()


# --------------------------------------------------------------------------- ExternalSecret


@dataclasses.dataclass(frozen=True)
class TemplateSpec:
    """``spec.target.template``: shapes the produced Secret."""

    type: str | None = None  # Secret type; None = leave it to the writer (Opaque)
    labels: Mapping[str, str] = _EMPTY
    annotations: Mapping[str, str] = _EMPTY
    data: Mapping[str, str] = _EMPTY  # Secret key -> template source
    merge_policy: str = "Replace"  # Replace: only template data; Merge: fetched data + template data
    engine_version: str | None = None  # accepted for ESO manifests, ignored


@dataclasses.dataclass(frozen=True)
class TargetSpec:
    """``spec.target``: which Secret to write and how to own it."""

    name: str  # defaults to the ExternalSecret's own name
    creation_policy: str = "Owner"
    deletion_policy: str = "Retain"
    immutable: bool = False
    template: TemplateSpec | None = None  # None when spec.target.template is absent


@dataclasses.dataclass(frozen=True)
class DataEntry:
    """``spec.data[]``: one remote value into one Secret key."""

    secret_key: str
    ref: RemoteRef
    decoding: str = "None"


@dataclasses.dataclass(frozen=True)
class DataFromEntry:
    """``spec.dataFrom[]``: exactly one of ``extract`` or ``find`` is set."""

    extract: RemoteRef | None = None
    find: FindSpec | None = None
    decoding: str = "None"


@dataclasses.dataclass(frozen=True)
class ExternalSecretSpec:
    """An ExternalSecret, validated and with every default applied."""

    name: str
    namespace: str | None
    store_name: str
    target: TargetSpec
    store_kind: str = SECRET_STORE
    refresh_interval: float = DEFAULT_REFRESH_INTERVAL  # seconds; 0 = fetch once, never refresh
    data: tuple[DataEntry, ...] = ()
    data_from: tuple[DataFromEntry, ...] = ()


# --------------------------------------------------------------------------- stores


@dataclasses.dataclass(frozen=True)
class SelectorRequirement:
    """One ``matchExpressions`` term of a label selector."""

    key: str
    operator: str  # In | NotIn | Exists | DoesNotExist
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Kubernetes semantics: NotIn and DoesNotExist also match when the label is absent."""
        if self.operator == "Exists":
            return self.key in labels
        if self.operator == "DoesNotExist":
            return self.key not in labels
        if self.operator == "In":
            return self.key in labels and labels[self.key] in self.values
        return self.key not in labels or labels[self.key] not in self.values  # NotIn


@dataclasses.dataclass(frozen=True)
class LabelSelector:
    """A ``metav1.LabelSelector``; an empty selector matches every namespace (as in Kubernetes)."""

    match_labels: Mapping[str, str] = _EMPTY
    match_expressions: tuple[SelectorRequirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(labels.get(k) == v for k, v in self.match_labels.items()) and all(
            term.matches(labels) for term in self.match_expressions
        )


@dataclasses.dataclass(frozen=True)
class StoreCondition:
    """One ``spec.conditions[]`` entry of a ClusterSecretStore; any one part matching allows."""

    namespaces: tuple[str, ...] = ()
    namespace_selector: LabelSelector | None = None
    namespace_regexes: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class StoreSpec:
    """A SecretStore or ClusterSecretStore, validated."""

    kind: str  # SecretStore | ClusterSecretStore
    name: str
    namespace: str | None  # None for a ClusterSecretStore
    provider_name: str  # the one key under spec.provider
    # A deep copy of spec.provider.<name>; the provider parses its own section.
    provider_spec: Mapping[str, Any] = dataclasses.field(default_factory=dict, hash=False, compare=True)
    conditions: tuple[StoreCondition, ...] = ()  # ClusterSecretStore only; () = every namespace
    refresh_interval: int = 0  # seconds; accepted for ESO manifests (0 = operator default)
    controller: str | None = None  # accepted for ESO manifests, ignored
    operator_identity: bool = False  # ClusterSecretStore spec.useOperatorIdentity (secretsync.tenancy)

    @property
    def ref(self) -> str:
        """How messages name the store: ``SecretStore demo/vault`` or ``ClusterSecretStore shared``."""
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


# --------------------------------------------------------------------------- schema

# A small schema language mirroring the CRDs' openAPIV3Schema. Why not validate
# against the CRD YAML itself: the model must stay pure (no file reads, no
# jsonschema at run time). The test suite compares both trees node by node.


@dataclasses.dataclass(frozen=True)
class Node:
    """One schema node. ``type``: object, map (string values), any (kept as is), array,
    string, integer or boolean."""

    type: str
    fields: Mapping[str, Node] = dataclasses.field(default_factory=dict)
    required: tuple[str, ...] = ()
    items: Node | None = None
    enum: tuple[str, ...] = ()
    pattern: str | None = None
    hint: str = ""  # what the pattern means, for the error message
    min_length: int | None = None
    max_length: int | None = None
    max_items: int | None = None
    format: str | None = None
    # Declared for ESO manifests but not supported: the message (from _UNSUPPORTED) the CRD's CEL
    # rule on the parent object gives too. ``supported``: the values still accepted (ESO's no-op
    # default, e.g. metadataPolicy None); empty: the field is refused whatever its value.
    refuse: str = ""
    supported: tuple[Any, ...] = ()


def _refused(node: Node, what: str, *supported: Any) -> Node:
    """``node``, declared only to be refused with ``_UNSUPPORTED[what]`` (unless its value is in
    ``supported``)."""
    return dataclasses.replace(node, refuse=_UNSUPPORTED[what], supported=supported)


def _obj(required: Iterable[str] = (), /, **fields: Node) -> Node:
    return Node("object", fields=fields, required=tuple(required))


def _str(
    *,
    enum: Iterable[str] = (),
    pattern: str | None = None,
    hint: str = "",
    min_length: int | None = None,
    max_length: int | None = None,
    format: str | None = None,  # the OpenAPI keyword
) -> Node:
    return Node(
        "string",
        enum=tuple(enum),
        pattern=pattern,
        hint=hint,
        min_length=min_length,
        max_length=max_length,
        format=format,
    )


def _list(item: Node, max_items: int | None = None) -> Node:
    return Node("array", items=item, max_items=max_items)


_STR = _str()
_INT = Node("integer")
_BOOL = Node("boolean")
_MAP = Node("map")
_ANY = Node("any")
_NAME = _str(pattern=DNS_SUBDOMAIN, hint="a DNS subdomain name", min_length=1, max_length=253)
_NS = _str(pattern=DNS_LABEL, hint="a namespace name", min_length=1, max_length=63)
_KEY = _str(
    pattern=SECRET_KEY, hint="a Secret key (letters, digits, '-', '_', '.')", min_length=1, max_length=253
)
_DECODING = _str(enum=DECODING_STRATEGIES)

_SECRET_KEY_REF = _obj(("name",), name=_NAME, key=_KEY, namespace=_NS)
_SERVICE_ACCOUNT_REF = _obj(("name",), name=_NAME, namespace=_NS, audiences=_list(_STR))

# Strings compared in a CEL rule carry a maxLength: it bounds the rule's estimated cost.
_CONVERSION = _refused(_str(enum=("Default", "Unicode"), max_length=16), "conversionStrategy", "Default")
_NULL_BYTES = _refused(_str(enum=("Ignore", "Fail"), max_length=16), "nullBytePolicy", "Ignore")

_REMOTE_REF = _obj(
    ("key",),
    key=_str(min_length=1),
    property=_STR,
    version=_STR,
    decodingStrategy=_DECODING,
    conversionStrategy=_CONVERSION,
    metadataPolicy=_refused(_str(enum=("None", "Fetch"), max_length=16), "metadataPolicy", "None"),
    nullBytePolicy=_NULL_BYTES,
)

ES_SPEC_SCHEMA: Final = _obj(
    ("secretStoreRef",),
    secretStoreRef=_obj(("name",), name=_NAME, kind=_str(enum=STORE_KINDS)),
    refreshInterval=_str(pattern=GO_DURATION, hint="a Go duration such as 1h, 15m, 1h30m or 0"),
    refreshPolicy=_refused(_str(enum=("CreatedOnce", "Periodic", "OnChange")), "refreshPolicy"),
    syncWindows=_refused(_ANY, "syncWindows"),
    target=_obj(
        name=_NAME,
        creationPolicy=_str(enum=CREATION_POLICIES, max_length=16),
        deletionPolicy=_str(enum=DELETION_POLICIES, max_length=16),
        immutable=_BOOL,
        template=_obj(
            type=_STR,
            metadata=_obj(
                labels=_MAP,
                annotations=_MAP,
                finalizers=_refused(_list(_STR), "template.metadata.finalizers"),
            ),
            data=_MAP,
            mergePolicy=_str(enum=MERGE_POLICIES),
            engineVersion=_STR,
            templateFrom=_refused(_list(_ANY), "templateFrom"),
        ),
        manifest=_refused(_ANY, "target.manifest"),
    ),
    data=_list(
        _obj(
            ("secretKey", "remoteRef"),
            secretKey=_KEY,
            remoteRef=_REMOTE_REF,
            sourceRef=_refused(_ANY, "sourceRef"),
        )
    ),
    dataFrom=_list(
        _obj(
            extract=_REMOTE_REF,
            find=_obj(
                path=_STR,
                name=_obj(regexp=_STR),
                tags=_MAP,
                conversionStrategy=_CONVERSION,
                decodingStrategy=_DECODING,
                nullBytePolicy=_NULL_BYTES,
            ),
            rewrite=_refused(_list(_ANY), "rewrite"),
            sourceRef=_refused(_ANY, "sourceRef"),
        ),
        max_items=MAX_DATA_FROM,
    ),
)
"""``spec`` of an ExternalSecret, as in crds/externalsecrets.yaml."""

_VAULT = _obj(
    ("server",),
    server=_str(min_length=1),
    path=_STR,
    version=_str(enum=("v1", "v2")),
    namespace=_STR,
    caBundle=_str(format="byte"),
    auth=_obj(
        namespace=_STR,
        tokenSecretRef=_SECRET_KEY_REF,
        appRole=_obj(
            ("secretRef",),
            path=_STR,
            roleId=_STR,
            roleRef=_SECRET_KEY_REF,
            secretRef=_SECRET_KEY_REF,
        ),
        kubernetes=_obj(
            ("role",),
            mountPath=_STR,
            role=_str(min_length=1),
            serviceAccountRef=_SERVICE_ACCOUNT_REF,
            secretRef=_SECRET_KEY_REF,
        ),
        **{method: _refused(_ANY, f"vault.auth.{method}") for method in OTHER_VAULT_AUTH_METHODS},
    ),
    tls=_refused(_ANY, "vault.tls"),
    caProvider=_refused(_ANY, "vault.caProvider"),
    readYourWrites=_refused(_BOOL, "vault.readYourWrites", False),
    forwardInconsistent=_refused(_BOOL, "vault.forwardInconsistent", False),
    headers=_refused(_MAP, "vault.headers"),
    checkAndSet=_refused(_ANY, "vault.checkAndSet"),
)
_AWS = _obj(
    ("service", "region"),
    service=_str(enum=("SecretsManager", "ParameterStore")),
    region=_str(min_length=1),
    role=_STR,
    auth=_obj(
        secretRef=_obj(
            ("accessKeyIDSecretRef", "secretAccessKeySecretRef"),
            accessKeyIDSecretRef=_SECRET_KEY_REF,
            secretAccessKeySecretRef=_SECRET_KEY_REF,
            sessionTokenSecretRef=_SECRET_KEY_REF,
        ),
        jwt=_refused(_ANY, "aws.auth.jwt"),
    ),
    additionalRoles=_refused(_list(_STR), "aws.additionalRoles"),
    externalID=_refused(_STR, "aws.externalID"),
    sessionTags=_refused(_list(_ANY), "aws.sessionTags"),
    transitiveTagKeys=_refused(_list(_STR), "aws.transitiveTagKeys"),
    sessionTagsPolicy=_refused(
        _str(enum=("None", "Simple", "Custom"), max_length=16), "aws.sessionTagsPolicy", "None"
    ),
    customSessionTags=_refused(_MAP, "aws.customSessionTags"),
    secretsManager=_refused(_ANY, "aws.secretsManager"),
    prefix=_refused(_STR, "aws.prefix"),
)
_GCPSM = _obj(
    projectID=_STR,
    location=_STR,
    endpoint=_STR,
    auth=_obj(
        secretRef=_obj(secretAccessKeySecretRef=_SECRET_KEY_REF),
        workloadIdentity=_refused(_ANY, "gcpsm.auth.workloadIdentity"),
        workloadIdentityFederation=_refused(_ANY, "gcpsm.auth.workloadIdentityFederation"),
    ),
    secretVersionSelectionPolicy=_refused(
        _str(enum=("LatestOrFail", "LatestOrFetch"), max_length=16),
        "gcpsm.secretVersionSelectionPolicy",
        "LatestOrFail",
    ),
)
_FAKE = _obj(
    ("data",),
    data=_list(_obj(("key", "value"), key=_STR, value=_STR, version=_STR)),
    validationResult=_refused(_INT, "fake.validationResult"),
)

_SELECTOR = _obj(
    matchLabels=_MAP,
    matchExpressions=_list(
        _obj(
            ("key", "operator"),
            key=_STR,
            operator=_str(enum=SELECTOR_OPERATORS, max_length=16),
            values=_list(_STR),
        ),
        max_items=MAX_SELECTOR_TERMS,
    ),
)
_STORE_COMMON: Final[dict[str, Node]] = {
    "provider": _obj(
        vault=_VAULT,
        aws=_AWS,
        gcpsm=_GCPSM,
        fake=_FAKE,
        **{name: _refused(_ANY, f"provider.{name}") for name in OTHER_ESO_PROVIDERS},
    ),
    "refreshInterval": _INT,
    "controller": _STR,
    "retrySettings": _obj(maxRetries=_INT, retryInterval=_STR),
}
STORE_SPEC_SCHEMA: Final = _obj(("provider",), **_STORE_COMMON)
"""``spec`` of a SecretStore, as in crds/secretstores.yaml."""

CLUSTER_STORE_SPEC_SCHEMA: Final = _obj(
    ("provider",),
    **_STORE_COMMON,
    useOperatorIdentity=_BOOL,
    conditions=_list(
        _obj(
            namespaces=_list(_NS),
            namespaceSelector=_SELECTOR,
            namespaceRegexes=_list(_STR),
        ),
        max_items=MAX_CONDITIONS,
    ),
)
"""``spec`` of a ClusterSecretStore, as in crds/clustersecretstores.yaml."""


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "an integer"}.get(
        type(value), type(value).__name__
    )


def check_schema(value: Any, node: Node, path: str) -> None:
    """Raise SpecError at the first place ``value`` breaks ``node``.

    ``null`` counts as absent, as for the API server (which prunes nulls of
    non-nullable fields). Error messages name types and allowed values, never
    the offending value itself unless it matched no pattern (names, keys,
    durations: nothing secret).
    """
    kind = node.type
    if kind in ("object", "map", "any"):
        if not isinstance(value, Mapping):
            raise SpecError(path, f"must be an object, not {_type_name(value)}")
        if kind == "any":
            return
        if kind == "map":
            for key, item in value.items():
                if not isinstance(item, str):
                    raise SpecError(f"{path}[{key}]", f"must be a string, not {_type_name(item)}")
            return
        for key, item in value.items():
            if key not in node.fields:
                known = ", ".join(k for k, child in node.fields.items() if not child.refuse)
                raise SpecError(f"{path}.{key}", f"unknown field (known here: {known})")
            if item is None:
                continue
            child = node.fields[key]
            if child.refuse and not child.supported:
                raise SpecError(f"{path}.{key}", child.refuse)
            check_schema(item, child, f"{path}.{key}")
            if child.refuse and item not in child.supported:
                raise SpecError(f"{path}.{key}", child.refuse)
        for key in node.required:
            if value.get(key) is None:
                raise SpecError(f"{path}.{key}", "is required")
        return
    if kind == "array":
        if not isinstance(value, list):
            raise SpecError(path, f"must be a list, not {_type_name(value)}")
        if node.max_items is not None and len(value) > node.max_items:
            raise SpecError(path, f"has {len(value)} entries; at most {node.max_items} are allowed")
        assert node.items is not None
        for index, item in enumerate(value):
            if item is None:
                raise SpecError(f"{path}[{index}]", "must not be null")
            check_schema(item, node.items, f"{path}[{index}]")
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            raise SpecError(path, f"must be true or false, not {_type_name(value)}")
        return
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(path, f"must be an integer, not {_type_name(value)}")
        return
    _check_string(value, node, path)


def _check_string(value: Any, node: Node, path: str) -> None:
    if not isinstance(value, str):
        raise SpecError(path, f"must be a string, not {_type_name(value)}")
    if node.enum and value not in node.enum:
        raise SpecError(path, f"{value[:40]!r} is not one of: {', '.join(node.enum)}")
    if node.min_length is not None and len(value) < node.min_length:
        raise SpecError(path, "must not be empty" if node.min_length == 1 else "is too short")
    if node.max_length is not None and len(value) > node.max_length:
        raise SpecError(path, f"is longer than {node.max_length} characters")
    if node.pattern is not None and not re.fullmatch(node.pattern, value):
        raise SpecError(path, f"{value[:80]!r} is not {node.hint or 'valid'}")
    if node.format == "byte" and _b64decode(value.encode("ascii", "replace"), b"+/") is None:
        raise SpecError(path, "must be base64 (standard alphabet, padded)")


# --------------------------------------------------------------------------- parsing helpers


def _opt_str(obj: Mapping[str, Any], key: str) -> str | None:
    """An optional string field; ESO treats "" like absent (Go's omitempty)."""
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


def _sub(obj: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = obj.get(key)
    return value if isinstance(value, Mapping) else {}


def _frozen(value: Any) -> FrozenMap:
    return FrozenMap(value) if isinstance(value, Mapping) else _EMPTY


def _metadata(body: Mapping[str, Any]) -> tuple[str, str | None]:
    if not isinstance(body, Mapping):
        raise SpecError("", f"a resource must be an object, not {_type_name(body)}")
    meta = body.get("metadata")
    if not isinstance(meta, Mapping):
        raise SpecError("metadata", "is required")
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise SpecError("metadata.name", "is required")
    namespace = meta.get("namespace")
    return name, namespace if isinstance(namespace, str) and namespace else None


def _spec(body: Mapping[str, Any], schema: Node) -> Mapping[str, Any]:
    spec = body.get("spec")
    if spec is None:
        raise SpecError("spec", "is required")
    check_schema(spec, schema, "spec")
    assert isinstance(spec, Mapping)
    return spec


def parse_go_duration(text: str, path: str = "spec.refreshInterval") -> float:
    """A Go duration (``1h``, ``1h30m``, ``500ms``, ``0``) in seconds.

    Why not :func:`secretsync.config.parse_duration`: that one is for our own
    flags and accepts ``d`` and bare numbers, which Go (so ESO, so the CRD
    pattern) rejects, and lacks ``ns``/``us``. A value the API server refuses
    must not work here either.
    """
    if not isinstance(text, str) or not re.fullmatch(GO_DURATION, text):
        raise SpecError(path, f"{str(text)[:40]!r} is not a Go duration such as 1h, 15m, 1h30m or 0")
    return sum(float(num) * _UNIT_SECONDS[unit] for num, unit in _DURATION_PART.findall(text))


def is_secret_key(key: str) -> bool:
    """Whether ``key`` may name a Secret data key (Kubernetes ``IsConfigMapKey``)."""
    return (
        0 < len(key) <= 253
        and re.fullmatch(SECRET_KEY, key) is not None
        and key not in (".", "..")
        and not key.startswith("..")
    )


def _check_secret_key(key: str, path: str) -> None:
    if not is_secret_key(key):
        raise SpecError(
            path,
            f"{key[:80]!r} is not a valid Secret key: use 1-253 letters, digits, '-', '_' or '.', "
            "and not '.', '..' or a name starting with '..'",
        )


def is_qualified_name(key: str) -> bool:
    """A label or annotation key: ``[prefix/]name``, prefix a DNS subdomain, name up to 63."""
    prefix, _, name = key.rpartition("/")
    if "/" in key and not (0 < len(prefix) <= 253 and re.fullmatch(DNS_SUBDOMAIN, prefix)):
        return False
    return 0 < len(name) <= 63 and _LABEL_NAME.fullmatch(name) is not None


def is_label_value(value: str) -> bool:
    return len(value) <= 63 and _LABEL_VALUE.fullmatch(value) is not None


def _check_keys(mapping: Mapping[str, Any], path: str, what: str) -> None:
    for key in mapping:
        if not is_qualified_name(key):
            raise SpecError(
                f"{path}[{key}]",
                f"is not a valid {what} key: [prefix/]name, name up to 63 letters, digits, '-', '_', '.'",
            )


def _compile(pattern: str, path: str) -> None:
    """Tenant patterns run on RE2 (secretsync.regex): linear time, Go's regexp syntax, as in ESO."""
    try:
        regex.compile(pattern)
    except regex.RegexError as exc:
        raise SpecError(path, f"is not a valid regular expression: {exc}") from None


# --------------------------------------------------------------------------- ExternalSecret


def parse_external_secret(body: Mapping[str, Any]) -> ExternalSecretSpec:
    """Validate an ExternalSecret body and apply every default.

    Defaults (ESO's): ``secretStoreRef.kind`` SecretStore; ``refreshInterval``
    1h; ``target.name`` the ExternalSecret's name; ``creationPolicy`` Owner;
    ``deletionPolicy`` Retain; ``mergePolicy`` Replace; ``decodingStrategy``
    None. Rejects what ESO's admission webhook rejects (policy combinations,
    both extract and find, duplicate secretKeys under Retain) plus what would
    fail later anyway (invalid Secret keys, regexps that do not compile).
    """
    name, namespace = _metadata(body)
    spec = _spec(body, ES_SPEC_SCHEMA)

    store_ref = _sub(spec, "secretStoreRef")
    refresh = spec.get("refreshInterval")
    refresh_interval = DEFAULT_REFRESH_INTERVAL if refresh is None else parse_go_duration(refresh)

    target = _parse_target(_sub(spec, "target"), default_name=name)
    data = tuple(_parse_data(i, entry) for i, entry in enumerate(spec.get("data") or []))
    data_from = tuple(_parse_data_from(i, entry) for i, entry in enumerate(spec.get("dataFrom") or []))

    if not data and not data_from and not (target.template and target.template.data):
        # ESO demands data or dataFrom; a Secret made only of templates is a
        # superset that ESO manifests never hit.
        raise SpecError(
            "spec", "set data or dataFrom (or target.template.data for a Secret built from templates only)"
        )
    if target.deletion_policy == "Retain":
        # As ESO's webhook: duplicates only rejected under Retain (where a
        # missing source errors instead of dropping keys).
        seen: dict[str, int] = {}
        for index, entry in enumerate(data):
            if entry.secret_key in seen:
                raise SpecError(
                    f"spec.data[{index}].secretKey",
                    f"duplicate secretKey {entry.secret_key!r} (also spec.data[{seen[entry.secret_key]}])",
                )
            seen[entry.secret_key] = index

    return ExternalSecretSpec(
        name=name,
        namespace=namespace,
        store_name=str(store_ref["name"]),
        store_kind=_opt_str(store_ref, "kind") or SECRET_STORE,
        refresh_interval=refresh_interval,
        target=target,
        data=data,
        data_from=data_from,
    )


def _parse_target(target: Mapping[str, Any], *, default_name: str) -> TargetSpec:
    creation = _opt_str(target, "creationPolicy") or "Owner"
    deletion = _opt_str(target, "deletionPolicy") or "Retain"
    # The same combinations ESO's admission webhook rejects (validatePolicies).
    if deletion == "Delete" and creation in ("Merge", "None"):
        raise SpecError(
            "spec.target.deletionPolicy",
            f"Delete must not be used with creationPolicy {creation}: the operator does not own "
            "that Secret. Use creationPolicy Owner (or Orphan), or deletionPolicy Retain or Merge",
        )
    if deletion == "Merge" and creation == "None":
        raise SpecError(
            "spec.target.deletionPolicy",
            "Merge must not be used with creationPolicy None: there is no Secret to merge with",
        )
    template = None
    if target.get("template") is not None:
        template = _parse_template(_sub(target, "template"))
    return TargetSpec(
        name=_opt_str(target, "name") or default_name,
        creation_policy=creation,
        deletion_policy=deletion,
        immutable=bool(target.get("immutable", False)),
        template=template,
    )


def _parse_template(template: Mapping[str, Any]) -> TemplateSpec:
    path = "spec.target.template"
    meta = _sub(template, "metadata")
    labels = _frozen(meta.get("labels"))
    annotations = _frozen(meta.get("annotations"))
    data = _frozen(template.get("data"))
    _check_keys(labels, f"{path}.metadata.labels", "label")
    _check_keys(annotations, f"{path}.metadata.annotations", "annotation")
    for key in data:
        _check_secret_key(key, f"{path}.data[{key}]")
    return TemplateSpec(
        type=_opt_str(template, "type"),
        labels=labels,
        annotations=annotations,
        data=data,
        merge_policy=_opt_str(template, "mergePolicy") or "Replace",
        engine_version=_opt_str(template, "engineVersion"),
    )


def _remote_ref(ref: Mapping[str, Any], path: str) -> RemoteRef:
    key = str(ref["key"])
    tenancy.confine_path(key, f"{path}.key")  # no '..' out of the store's path, for every provider
    return RemoteRef(key=key, property=_opt_str(ref, "property"), version=_opt_str(ref, "version"))


def _parse_data(index: int, entry: Mapping[str, Any]) -> DataEntry:
    path = f"spec.data[{index}]"
    secret_key = str(entry["secretKey"])
    _check_secret_key(secret_key, f"{path}.secretKey")
    ref = _sub(entry, "remoteRef")
    return DataEntry(
        secret_key=secret_key,
        ref=_remote_ref(ref, f"{path}.remoteRef"),
        decoding=_opt_str(ref, "decodingStrategy") or "None",
    )


def _parse_data_from(index: int, entry: Mapping[str, Any]) -> DataFromEntry:
    path = f"spec.dataFrom[{index}]"
    extract, find = entry.get("extract"), entry.get("find")
    if (extract is None) == (find is None):
        raise SpecError(path, "set exactly one of extract or find")
    if extract is not None:
        ref = _sub(entry, "extract")
        return DataFromEntry(
            extract=_remote_ref(ref, f"{path}.extract"), decoding=_opt_str(ref, "decodingStrategy") or "None"
        )
    spec = _sub(entry, "find")
    find_path = _opt_str(spec, "path")
    if find_path is not None:
        tenancy.confine_path(find_path, f"{path}.find.path")
    regexp = _opt_str(_sub(spec, "name"), "regexp")
    if regexp is not None:
        _compile(regexp, f"{path}.find.name.regexp")
    return DataFromEntry(
        find=FindSpec(path=find_path, name_regexp=regexp, tags=_frozen(spec.get("tags"))),
        decoding=_opt_str(spec, "decodingStrategy") or "None",
    )


# --------------------------------------------------------------------------- stores


def parse_store(body: Mapping[str, Any], kind: str | None = None) -> StoreSpec:
    """Validate a SecretStore or ClusterSecretStore body.

    ``kind`` defaults to the body's own ``kind``. Beyond the schema: exactly one
    provider; the vault one-of rules of the CRD; a namespaced SecretStore may
    not point any credential ref at another namespace (ESO's webhook rejects
    that too); ClusterSecretStore regexes and selectors must be valid.
    """
    kind = kind or (body.get("kind") if isinstance(body, Mapping) else None)
    if kind not in STORE_KINDS:
        raise SpecError("kind", f"must be one of: {', '.join(STORE_KINDS)}")
    name, namespace = _metadata(body)
    if kind == SECRET_STORE and namespace is None:
        raise SpecError("metadata.namespace", "is required for a SecretStore")
    if kind == CLUSTER_SECRET_STORE:
        namespace = None
    spec = _spec(body, CLUSTER_STORE_SPEC_SCHEMA if kind == CLUSTER_SECRET_STORE else STORE_SPEC_SCHEMA)

    provider = _sub(spec, "provider")
    chosen = [p for p in PROVIDERS if provider.get(p) is not None]
    if len(chosen) != 1:
        found = f" (found: {', '.join(chosen)})" if chosen else ""
        raise SpecError("spec.provider", f"set exactly one of {', '.join(PROVIDERS)}{found}")
    provider_name = chosen[0]
    section = _sub(provider, provider_name)
    if provider_name == "vault":
        _check_vault(section)
    if kind == SECRET_STORE:
        _check_own_namespace(section, f"spec.provider.{provider_name}", str(namespace))

    conditions: tuple[StoreCondition, ...] = ()
    if kind == CLUSTER_SECRET_STORE:
        conditions = tuple(_parse_condition(i, c) for i, c in enumerate(spec.get("conditions") or []))
    return StoreSpec(
        kind=kind,
        name=name,
        namespace=namespace,
        provider_name=provider_name,
        provider_spec=copy.deepcopy(dict(section)),
        conditions=conditions,
        refresh_interval=int(spec.get("refreshInterval") or 0),
        controller=_opt_str(spec, "controller"),
        operator_identity=kind == CLUSTER_SECRET_STORE and spec.get("useOperatorIdentity") is True,
    )


def _check_vault(vault: Mapping[str, Any]) -> None:
    """The vault rules the CRD states in CEL, for bodies that skipped the API server."""
    path = "spec.provider.vault.auth"
    auth = _sub(vault, "auth")
    methods = [m for m in VAULT_AUTH_METHODS if auth.get(m) is not None]
    if len(methods) > 1:
        raise SpecError(
            path, f"set at most one of {', '.join(VAULT_AUTH_METHODS)} (found: {', '.join(methods)})"
        )
    app_role = auth.get("appRole")
    if isinstance(app_role, Mapping) and not (_opt_str(app_role, "roleId") or app_role.get("roleRef")):
        raise SpecError(f"{path}.appRole", "set roleId or roleRef")
    kubernetes = auth.get("kubernetes")
    if isinstance(kubernetes, Mapping) and not (
        kubernetes.get("serviceAccountRef") or kubernetes.get("secretRef")
    ):
        # ESO would fall back to the controller's own token: any namespace's
        # store could then log in to Vault as the operator. Refused on purpose.
        raise SpecError(f"{path}.kubernetes", "set serviceAccountRef or secretRef")


def _check_own_namespace(section: Mapping[str, Any], path: str, namespace: str) -> None:
    """Every ``*Ref`` with a namespace must name the SecretStore's own namespace."""
    for key, value in section.items():
        if not isinstance(value, Mapping):
            continue
        where = f"{path}.{key}"
        ref_ns = value.get("namespace")
        if key.endswith("Ref") and isinstance(ref_ns, str) and ref_ns and ref_ns != namespace:
            raise SpecError(
                f"{where}.namespace",
                f"a SecretStore reads credentials only in its own namespace {namespace!r}; "
                f"remove namespace {ref_ns!r} or use a ClusterSecretStore",
            )
        _check_own_namespace(value, where, namespace)


def _parse_condition(index: int, cond: Mapping[str, Any]) -> StoreCondition:
    path = f"spec.conditions[{index}]"
    regexes = tuple(str(r) for r in cond.get("namespaceRegexes") or [])
    for i, pattern in enumerate(regexes):
        _compile(pattern, f"{path}.namespaceRegexes[{i}]")
    selector = None
    if cond.get("namespaceSelector") is not None:
        selector = _parse_selector(_sub(cond, "namespaceSelector"), f"{path}.namespaceSelector")
    return StoreCondition(
        namespaces=tuple(str(n) for n in cond.get("namespaces") or []),
        namespace_selector=selector,
        namespace_regexes=regexes,
    )


def _parse_selector(selector: Mapping[str, Any], path: str) -> LabelSelector:
    """What ``metav1.LabelSelectorAsSelector`` accepts; ESO fails at sync time, we at parse time."""
    labels = _frozen(selector.get("matchLabels"))
    _check_keys(labels, f"{path}.matchLabels", "label")
    for key, value in labels.items():
        if not is_label_value(value):
            raise SpecError(f"{path}.matchLabels[{key}]", "is not a valid label value")
    terms = []
    for i, term in enumerate(selector.get("matchExpressions") or []):
        where = f"{path}.matchExpressions[{i}]"
        key, operator = str(term["key"]), str(term["operator"])
        values = tuple(str(v) for v in term.get("values") or [])
        if not is_qualified_name(key):
            raise SpecError(f"{where}.key", "is not a valid label key")
        if operator in ("In", "NotIn") and not values:
            raise SpecError(f"{where}.values", f"must not be empty for operator {operator}")
        if operator in ("Exists", "DoesNotExist") and values:
            raise SpecError(f"{where}.values", f"must be empty for operator {operator}")
        for j, value in enumerate(values):
            if not is_label_value(value):
                raise SpecError(f"{where}.values[{j}]", "is not a valid label value")
        terms.append(SelectorRequirement(key=key, operator=operator, values=values))
    return LabelSelector(match_labels=labels, match_expressions=tuple(terms))


def store_allows(store: StoreSpec, namespace: str, namespace_labels: Mapping[str, str]) -> bool:
    """May an ExternalSecret in ``namespace`` use ``store``? ESO's rule, exactly.

    A SecretStore serves its own namespace only. A ClusterSecretStore without
    conditions serves every namespace; otherwise a namespace is allowed when
    ANY condition matches, and a condition matches when ANY of its parts does:
    the name is in ``namespaces``; the selector matches the namespace's labels
    (an empty selector matches all); a regex in ``namespaceRegexes`` matches
    somewhere in the name (unanchored, like Go's ``regexp.MatchString``: write
    ``^team-a$`` for an exact match).

    ``namespace_labels`` always gets ``kubernetes.io/metadata.name`` = the
    namespace, as the API server guarantees; ESO matches ``namespaces``
    through that label too.
    """
    if store.kind != CLUSTER_SECRET_STORE:
        return namespace == store.namespace
    if not store.conditions:
        return True
    labels = {**namespace_labels, NAMESPACE_NAME_LABEL: namespace}
    for cond in store.conditions:
        if namespace in cond.namespaces:
            return True
        if cond.namespace_selector is not None and cond.namespace_selector.matches(labels):
            return True
        if any(regex.search(pattern, namespace) for pattern in cond.namespace_regexes):
            return True
    return False


def credential_namespace(
    store: StoreSpec, ref_namespace: str | None, es_namespace: str | None, *, path: str = "spec.provider"
) -> str:
    """The namespace where a store's credential ref (Secret or ServiceAccount) is read.

    A namespaced SecretStore: always its own namespace; a ref naming another
    one is a SpecError (ESO's webhook rejects it; ESO's resolver would
    silently ignore it). A ClusterSecretStore: the ref's namespace, else the
    namespace of the ExternalSecret being synced (ESO's "referent" auth); with
    neither (e.g. validating the store on its own) there is nowhere to read.
    """
    if store.kind == SECRET_STORE:
        own = store.namespace
        if own is None:
            raise SpecError("metadata.namespace", "is required for a SecretStore")
        if ref_namespace and ref_namespace != own:
            raise SpecError(
                path,
                f"a SecretStore reads credentials only in its own namespace {own!r}, not {ref_namespace!r}",
            )
        return own
    if ref_namespace:
        return ref_namespace
    if es_namespace:
        return es_namespace
    raise SpecError(
        path,
        f"{store.ref} names a credential without a namespace: set the ref's namespace, "
        "or it is read in the namespace of each ExternalSecret that uses the store",
    )


# --------------------------------------------------------------------------- values


def _is_base64(data: bytes, alt: bytes) -> bool:
    return bool(re.fullmatch(b"[A-Za-z0-9" + re.escape(alt) + b"]*={0,2}", data)) and len(data) % 4 == 0


def _b64decode(value: bytes, alt: bytes) -> bytes | None:
    """Go's padded ``base64.StdEncoding`` / ``URLEncoding`` ``DecodeString``: CR and LF are
    skipped, padding is required, anything else outside the alphabet fails."""
    data = value.replace(b"\r", b"").replace(b"\n", b"")
    if not _is_base64(data, alt):
        return None
    try:
        return base64.b64decode(data, altchars=alt, validate=True)
    except (binascii.Error, ValueError):  # pragma: no cover - the regex already excludes these
        return None


def decode(value: bytes, strategy: str, *, path: str = "decodingStrategy") -> bytes:
    """Apply an ESO ``decodingStrategy`` to a fetched value.

    None: as is. Base64 / Base64URL: padded standard / URL-safe alphabet, CR/LF
    ignored, anything else an error. Auto: Base64, else Base64URL, else the
    value as is (so a plain string that happens to be valid base64, such as
    ``test``, is decoded, exactly as ESO does). The error never shows the value.
    """
    if strategy == "None":
        return value
    if strategy == "Base64":
        out = _b64decode(value, b"+/")
    elif strategy == "Base64URL":
        out = _b64decode(value, b"-_")
    elif strategy == "Auto":
        out = _b64decode(value, b"+/")
        if out is None:
            out = _b64decode(value, b"-_")
        return value if out is None else out
    else:
        raise SpecError(path, f"{strategy!r} is not one of: {', '.join(DECODING_STRATEGIES)}")
    if out is None:
        alphabet = "URL-safe" if strategy == "Base64URL" else "standard"
        raise SpecError(path, f"{strategy}: the remote value is not padded {alphabet} base64")
    return out


def sanitize_key(remote_name: str) -> str:
    """A remote name as a Secret key: ESO's conversionStrategy Default.

    ESO replaces every character that is not a letter, a digit, ``-``, ``.``
    or ``_`` with ``_`` (so ``db/prod`` becomes ``db_prod``); nothing is dropped.
    ESO's "letter" and "digit" are Unicode ones, which the API server then
    refuses in a Secret key; here non-ASCII characters become ``_`` as well,
    so a name ESO can sync comes out the same and one it cannot still works.
    """
    return "".join(c if (c.isascii() and c.isalnum()) or c in "-._" else "_" for c in remote_name)


def sanitize_keys(values: Mapping[str, bytes], *, path: str = "spec.dataFrom") -> dict[str, bytes]:
    """:func:`sanitize_key` over an extract or find result, with ESO's checks.

    ESO converts the keys of both ``extract`` and ``find`` results, fails on a
    collision (``a/b`` and ``a_b``), and drops empty keys. Keys that are still
    not valid Secret keys (``.``, ``..``, over 253 characters) fail here
    instead of at the API server.
    """
    out: dict[str, bytes] = {}
    origin: dict[str, str] = {}
    for remote_name, value in values.items():
        key = sanitize_key(remote_name)
        if not key:
            continue
        if key in out:
            raise SpecError(
                path, f"remote names {origin[key]!r} and {remote_name!r} both become Secret key {key!r}"
            )
        if not is_secret_key(key):
            raise SpecError(path, f"remote name {remote_name[:80]!r} does not make a valid Secret key")
        out[key] = value
        origin[key] = remote_name
    return out
