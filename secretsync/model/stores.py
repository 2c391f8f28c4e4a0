"""SecretStore and ClusterSecretStore bodies, validated; ESO's namespace and credential rules."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from typing import Any

from secretsync import regex
from secretsync.errors import SpecError
from secretsync.model.fields import (
    CLUSTER_SECRET_STORE,
    EMPTY,
    NAMESPACE_NAME_LABEL,
    PROVIDERS,
    SECRET_STORE,
    STORE_KINDS,
    VAULT_AUTH_METHODS,
    check_keys,
    compile_regex,
    frozen,
    is_label_value,
    is_qualified_name,
    metadata_of,
    opt_str,
    parse_go_duration,
    sub,
)
from secretsync.model.schema import spec_of
from secretsync.model.schemas import CLUSTER_STORE_SPEC_SCHEMA, STORE_SPEC_SCHEMA

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

    match_labels: Mapping[str, str] = EMPTY
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
class RetrySettings:
    """``spec.retrySettings``: how often a failing provider call is tried again within one sync
    before the sync fails (and the reconcile backoff takes over). ESO passes these to the Vault and
    AWS clients as HTTP retries; here they apply to every provider, to transient failures only."""

    max_retries: int = 0
    interval: float = 1.0  # seconds between attempts (Vault's client waits about 1 s by default)


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
    refresh_interval: int = 0  # seconds between validations (ESO's); 0 = only when the store changes
    controller: str | None = None  # ESO's controller class: None = every operator's store
    retry: RetrySettings | None = None  # spec.retrySettings; None = no retry inside a sync
    operator_identity: bool = False  # ClusterSecretStore spec.useOperatorIdentity (secretsync.tenancy)

    @property
    def ref(self) -> str:
        """How messages name the store: ``SecretStore demo/vault`` or ``ClusterSecretStore shared``."""
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


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
    name, namespace = metadata_of(body)
    if kind == SECRET_STORE and namespace is None:
        raise SpecError("metadata.namespace", "is required for a SecretStore")
    if kind == CLUSTER_SECRET_STORE:
        namespace = None
    spec = spec_of(body, CLUSTER_STORE_SPEC_SCHEMA if kind == CLUSTER_SECRET_STORE else STORE_SPEC_SCHEMA)

    provider = sub(spec, "provider")
    chosen = [p for p in PROVIDERS if provider.get(p) is not None]
    if len(chosen) != 1:
        found = f" (found: {', '.join(chosen)})" if chosen else ""
        raise SpecError("spec.provider", f"set exactly one of {', '.join(PROVIDERS)}{found}")
    provider_name = chosen[0]
    section = sub(provider, provider_name)
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
        controller=opt_str(spec, "controller"),
        retry=_parse_retry(sub(spec, "retrySettings")) if spec.get("retrySettings") is not None else None,
        operator_identity=kind == CLUSTER_SECRET_STORE and spec.get("useOperatorIdentity") is True,
    )


def _check_vault(vault: Mapping[str, Any]) -> None:
    """The vault rules the CRD states in CEL, for bodies that skipped the API server."""
    path = "spec.provider.vault.auth"
    auth = sub(vault, "auth")
    methods = [m for m in VAULT_AUTH_METHODS if auth.get(m) is not None]
    if len(methods) > 1:
        raise SpecError(
            path, f"set at most one of {', '.join(VAULT_AUTH_METHODS)} (found: {', '.join(methods)})"
        )
    app_role = auth.get("appRole")
    if isinstance(app_role, Mapping) and not (opt_str(app_role, "roleId") or app_role.get("roleRef")):
        raise SpecError(f"{path}.appRole", "set roleId or roleRef")
    kubernetes = auth.get("kubernetes")
    if isinstance(kubernetes, Mapping) and not (
        kubernetes.get("serviceAccountRef") or kubernetes.get("secretRef")
    ):
        # ESO would fall back to the controller's own token: any namespace's
        # store could then log in to Vault as the operator. Refused on purpose.
        raise SpecError(
            f"{path}.kubernetes",
            "kubernetes auth needs serviceAccountRef or secretRef; secretsync never logs in with its own "
            "ServiceAccount token (ESO's fallback when neither is set)",
        )


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
        compile_regex(pattern, f"{path}.namespaceRegexes[{i}]")
    selector = None
    if cond.get("namespaceSelector") is not None:
        selector = _parse_selector(sub(cond, "namespaceSelector"), f"{path}.namespaceSelector")
    return StoreCondition(
        namespaces=tuple(str(n) for n in cond.get("namespaces") or []),
        namespace_selector=selector,
        namespace_regexes=regexes,
    )


def _parse_selector(selector: Mapping[str, Any], path: str) -> LabelSelector:
    """What ``metav1.LabelSelectorAsSelector`` accepts; ESO fails at sync time, we at parse time."""
    labels = frozen(selector.get("matchLabels"))
    check_keys(labels, f"{path}.matchLabels", "label")
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


def _parse_retry(settings: Mapping[str, Any]) -> RetrySettings:
    interval = opt_str(settings, "retryInterval")
    return RetrySettings(
        max_retries=int(settings.get("maxRetries") or 0),
        interval=1.0 if interval is None else parse_go_duration(interval, "spec.retrySettings.retryInterval"),
    )
