"""Secret manifest <-> SealedSecret manifest; pure (dicts in, dicts out), shared by the CLI and the operator.

The one rule that keeps this safe: the OAEP label, and so the scope, comes
from the SealedSecret's OWN name, namespace and top-level annotations, never
from ``spec.template`` (CVE-2026-22728: a re-encryption that read the scope from
the template let a namespace-bound value escape). :func:`sealed_identity` is
the only place that derives it; unseal, merge and re-encryption all use it. Bitnami's
controller does the same (``Unseal`` -> ``labelFor(s.GetObjectMeta())`` in its
sealedsecret_expansion.go: only ``sealedsecrets.bitnami.com/cluster-wide|namespace-wide: "true"``
on the object's own metadata); we also read ``secretsync.io/scope`` there, and sealing writes
both spellings, so either controller opens what the other's tools seal.

Messages name the object and the data keys, never a value.
"""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast

from secretsync import crypto
from secretsync.crypto import SCOPES, KeyEntry, KeyRing, Scope, Sealer
from secretsync.errors import InputError, SpecError, UnsealError

Manifest = dict[str, Any]

API_VERSION: Final = "secretsync.io/v1alpha1"
BITNAMI_API_VERSION: Final = "bitnami.com/v1alpha1"
SEALED_API_VERSIONS: Final = (API_VERSION, BITNAMI_API_VERSION)
KIND: Final = "SealedSecret"

SCOPE_ANNOTATION: Final = "secretsync.io/scope"
FINGERPRINT_ANNOTATION: Final = "secretsync.io/key-fingerprint"
BITNAMI_NAMESPACE_WIDE: Final = "sealedsecrets.bitnami.com/namespace-wide"
BITNAMI_CLUSTER_WIDE: Final = "sealedsecrets.bitnami.com/cluster-wide"
LAST_APPLIED: Final = "kubectl.kubernetes.io/last-applied-configuration"
# kubecfg's copy of the applied object: a plaintext copy too (kubeseal strips both).
KUBECFG_LAST_APPLIED: Final = "kubecfg.ksonnet.io/last-applied-configuration"
# Annotations that steer sealing itself, or hold a plaintext copy: never copied as they are into
# the template (the Bitnami scope annotation is written there afresh, for the scope sealed with).
_SEALING_ANNOTATIONS: Final = frozenset(
    {
        SCOPE_ANNOTATION,
        FINGERPRINT_ANNOTATION,
        BITNAMI_NAMESPACE_WIDE,
        BITNAMI_CLUSTER_WIDE,
        LAST_APPLIED,
        KUBECFG_LAST_APPLIED,
    }
)

_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DATA_KEY = re.compile(r"[-._a-zA-Z0-9]+")


# --------------------------------------------------------------------------- scope


def scope_from_annotations(annotations: Mapping[str, Any] | None) -> Scope | None:
    """The scope the annotations ask for, or None when they say nothing (strict by default).

    Bitnami's annotations count only with the exact value ``"true"``;
    cluster-wide wins when both are set. Our ``secretsync.io/scope`` must agree
    with them when both are present: ValueError if not, or if it is unknown.
    """
    annotations = annotations or {}
    if annotations.get(BITNAMI_CLUSTER_WIDE) == "true":
        bitnami: Scope | None = "cluster-wide"
    elif annotations.get(BITNAMI_NAMESPACE_WIDE) == "true":
        bitnami = "namespace-wide"
    else:
        bitnami = None
    ours = annotations.get(SCOPE_ANNOTATION)
    if ours is None:
        return bitnami
    if ours not in SCOPES:  # the value is not quoted: messages never echo annotation values
        raise ValueError(
            f"annotation {SCOPE_ANNOTATION} has an unknown value, expected one of {', '.join(SCOPES)}"
        )
    if bitnami is not None and bitnami != ours:
        raise ValueError(f"annotation {SCOPE_ANNOTATION}={ours} contradicts the Bitnami {bitnami} annotation")
    return cast(Scope, ours)


def bitnami_scope_annotations(scope: Scope) -> dict[str, str]:
    """What kubeseal writes for a scope (``UpdateScopeAnnotations`` in Bitnami's
    pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go): nothing for strict,
    ``sealedsecrets.bitnami.com/namespace-wide: "true"`` or ``.../cluster-wide: "true"``.

    kubeseal puts it on the SealedSecret's own metadata (what Bitnami's controller derives
    the label from) and, through the copied Secret metadata, on ``spec.template.metadata``.
    """
    if scope == "namespace-wide":
        return {BITNAMI_NAMESPACE_WIDE: "true"}
    if scope == "cluster-wide":
        return {BITNAMI_CLUSTER_WIDE: "true"}
    return {}


@dataclass(frozen=True)
class SealedIdentity:
    """Where a SealedSecret's values may be opened: from its own metadata only."""

    name: str
    namespace: str | None
    scope: Scope
    label: bytes
    fingerprint_hint: str | None

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


def sealed_identity(
    sealed: Mapping[str, Any], *, namespace: str | None = None, where: str = "SealedSecret"
) -> SealedIdentity:
    """Name, namespace, scope and OAEP label of a SealedSecret, from its top-level metadata.

    ``namespace`` fills a missing ``metadata.namespace`` (a manifest read from a
    file may lack one); the object's own namespace always wins. ``where``
    describes the object until its name is known. Raises SpecError naming the
    object and the field.
    """
    if not isinstance(sealed, Mapping):
        raise SpecError(where, "not a Kubernetes object")
    kind, api_version = sealed.get("kind"), sealed.get("apiVersion")
    if kind != KIND or api_version not in SEALED_API_VERSIONS:
        raise SpecError(where, f"is {_shown(api_version)} {_shown(kind)}, not a SealedSecret")
    metadata = _mapping(sealed.get("metadata"), f"{where}: metadata")
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        raise SpecError(f"{where}: metadata.name", "a SealedSecret needs a name")
    own_ns = metadata.get("namespace")
    if own_ns is not None and not isinstance(own_ns, str):
        raise SpecError(f"{where}: metadata.namespace", "must be a string")
    ns = own_ns or namespace or None
    try:  # before the names go into any message
        _check_names(name, ns)
    except ValueError as exc:
        raise SpecError(where, str(exc)) from None
    where = f"SealedSecret {ns}/{name}" if ns else f"SealedSecret {name}"
    annotations = _mapping(metadata.get("annotations"), f"{where}: metadata.annotations")
    try:
        scope = scope_from_annotations(annotations) or "strict"
        label = crypto.scope_label(scope, ns, name)
    except (ValueError, InputError) as exc:
        raise SpecError(where, str(exc)) from None
    hint = annotations.get(FINGERPRINT_ANNOTATION)
    return SealedIdentity(name, ns, scope, label, hint if isinstance(hint, str) else None)


def _check_names(name: str, namespace: str | None) -> None:
    """Kubernetes names; the messages do not repeat them (they may be anything at all)."""
    if len(name) > 253 or not _DNS_SUBDOMAIN.fullmatch(name):
        raise ValueError("metadata.name is not a valid Kubernetes object name")
    if namespace is not None and (len(namespace) > 63 or not _DNS_LABEL.fullmatch(namespace)):
        raise ValueError("the namespace is not a valid Kubernetes namespace")


_SHOWN: Final = re.compile(r"[A-Za-z0-9][-A-Za-z0-9./]{0,62}")


def _shown(value: Any) -> str:
    """An apiVersion or kind for a message: short identifiers as they are, anything else '?'."""
    return value if isinstance(value, str) and _SHOWN.fullmatch(value) else "?"


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SpecError(path, "must be a mapping")
    return value


# --------------------------------------------------------------------------- seal


def secret_values(secret: Mapping[str, Any], where: str) -> dict[str, bytes]:
    """The plaintext of a Secret manifest: ``data`` base64-decoded, then ``stringData`` on top.

    Raises InputError naming the object and the key (never the value).
    """
    values: dict[str, bytes] = {}
    for section in ("data", "stringData"):
        entries = secret.get(section)
        if entries is None:
            continue
        if not isinstance(entries, Mapping):
            raise InputError(f"{where}: {section} must be a mapping")
        for key, value in entries.items():
            if not isinstance(key, str) or len(key) > 253 or not _DATA_KEY.fullmatch(key):
                raise InputError(f"{where}: {section} key {str(key)[:80]!r} is not a valid Secret key")
            if not isinstance(value, str):
                raise InputError(f"{where}: {section}.{key} must be a string (quote it in YAML)")
            if section == "stringData":
                values[key] = value.encode("utf-8")
                continue
            try:
                values[key] = crypto.decode_base64(value)
            except ValueError:
                raise InputError(f"{where}: data.{key} is not valid base64") from None
    return values


def seal_secret(
    secret: Mapping[str, Any],
    sealer: Sealer,
    *,
    scope: Scope | None = None,
    namespace: str | None = None,
    fallback_namespace: str | None = None,
    name: str | None = None,
    allow_empty_data: bool = False,
    where: str = "input",
) -> Manifest:
    """A Secret manifest sealed into a ``secretsync.io/v1alpha1`` SealedSecret manifest.

    ``scope`` None takes the scope from the Secret's annotations (Bitnami's or
    ours), else strict. ``namespace`` (``--namespace``) must agree with the
    Secret's own; ``fallback_namespace`` (the kubeconfig context's, or
    ``default``) only fills a gap, and not for a cluster-wide Secret (kubeseal
    leaves its namespace empty too). ``name`` (``--name``) replaces the Secret's
    name, as kubeseal's does. Labels, annotations, ``type`` and ``immutable`` go
    to ``spec.template``; server-populated fields and the last-applied
    annotations (plaintext copies) are dropped.

    The scope is recorded twice, so that both controllers open the result:
    ``secretsync.io/scope`` and what kubeseal writes (:func:`bitnami_scope_annotations`)
    on the SealedSecret's metadata, and kubeseal's annotation on ``spec.template.metadata``.
    """
    metadata, name, own_ns, where = _secret_identity(secret, namespace, name, where)
    labels = _string_map(metadata.get("labels"), f"{where}: metadata.labels")
    annotations = _string_map(metadata.get("annotations"), f"{where}: metadata.annotations")
    if scope is None:
        try:
            scope = scope_from_annotations(annotations) or "strict"
        except ValueError as exc:
            raise InputError(f"{where}: {exc}") from None
    ns = own_ns or (fallback_namespace if scope != "cluster-wide" else None) or None
    try:
        _check_names(name, ns)
        label = crypto.scope_label(scope, ns, name)
    except (ValueError, InputError) as exc:
        raise InputError(f"{where}: {exc}{_NS_HINT if not ns else ''}") from None
    values = secret_values(secret, where)
    if not values and not allow_empty_data:
        raise InputError(
            f"{where}: no data or stringData to seal (pass --allow-empty-data if that is intended)"
        )

    bitnami = bitnami_scope_annotations(scope)
    sealed_meta: dict[str, Any] = {"name": name}
    if ns:
        sealed_meta["namespace"] = ns
    sealed_meta["annotations"] = {
        SCOPE_ANNOTATION: scope,
        **bitnami,
        FINGERPRINT_ANNOTATION: sealer.fingerprint,
    }
    spec: dict[str, Any] = {"encryptedData": sealer.seal_all(values, label)}
    template = _template(secret, labels, {**_kept(annotations), **bitnami}, where)
    if template:
        spec["template"] = template
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": sealed_meta, "spec": spec}


_NS_HINT: Final = " (set metadata.namespace or pass --namespace)"


def _secret_identity(
    secret: Mapping[str, Any], namespace: str | None, rename: str | None, where: str
) -> tuple[Mapping[str, Any], str, str | None, str]:
    """(metadata, name, namespace or None, description) of an input Secret, checked.

    ``namespace`` (``--namespace``) fills a missing one and must match one that is there;
    ``rename`` (``--name``) replaces the name.
    """
    if not isinstance(secret, Mapping):
        raise InputError(f"{where}: not a Kubernetes object")
    kind, api_version = secret.get("kind"), secret.get("apiVersion")
    metadata = secret.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise InputError(f"{where}: metadata must be a mapping")
    name = rename or metadata.get("name")
    own_ns = metadata.get("namespace")
    if kind != "Secret" or api_version not in (None, "v1"):
        raise InputError(f"{where}: is {_shown(api_version)} {_shown(kind)}, not a v1 Secret")
    if isinstance(name, str) and name:
        where = f"Secret {own_ns}/{name}" if isinstance(own_ns, str) and own_ns else f"Secret {name}"
    if not isinstance(name, str) or not name:
        raise InputError(f"{where}: the Secret has no metadata.name")
    if own_ns is not None and not isinstance(own_ns, str):
        raise InputError(f"{where}: metadata.namespace must be a string")
    if namespace and own_ns and own_ns != namespace:
        raise InputError(f"{where}: its namespace {own_ns!r} conflicts with --namespace {namespace!r}")
    return metadata, name, own_ns or namespace or None, where


def _kept(annotations: Mapping[str, str]) -> dict[str, str]:
    """The annotations that may go to ``spec.template`` as they are."""
    return {k: v for k, v in annotations.items() if k not in _SEALING_ANNOTATIONS}


def _string_map(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError(f"{where} must be a mapping")
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise InputError(f"{where}: the value of {str(key)[:80]!r} must be a string (quote it in YAML)")
    return dict(value)


def _template(
    secret: Mapping[str, Any], labels: dict[str, str], annotations: dict[str, str], where: str
) -> dict[str, Any]:
    template: dict[str, Any] = {}
    metadata = {key: value for key, value in (("labels", labels), ("annotations", annotations)) if value}
    if metadata:
        template["metadata"] = metadata
    secret_type = secret.get("type")
    if secret_type is not None:
        if not isinstance(secret_type, str):
            raise InputError(f"{where}: type must be a string")
        template["type"] = secret_type
    immutable = secret.get("immutable")
    if immutable is not None:
        if not isinstance(immutable, bool):
            raise InputError(f"{where}: immutable must be true or false")
        template["immutable"] = immutable
    return template


def seal_value(value: bytes, sealer: Sealer, scope: Scope, namespace: str | None, name: str | None) -> str:
    """One bare sealed value (``--raw``) for the given scope."""
    if name is not None and scope == "strict":
        try:
            _check_names(name, namespace)
        except ValueError as exc:
            raise InputError(str(exc)) from None
    return sealer.seal(value, crypto.scope_label(scope, namespace, name))


def merge_into(
    sealed: Mapping[str, Any],
    secrets: Sequence[tuple[str, Mapping[str, Any]]],
    sealer: Sealer,
    *,
    allow_empty_data: bool = False,
    where: str = "SealedSecret",
) -> Manifest:
    """A copy of ``sealed`` with the values of ``secrets`` sealed for it and merged in.

    The SealedSecret's own name, namespace and scope decide the label (the
    input Secrets' names are ignored, as kubeseal does); same-named keys are
    replaced, every other key and field is kept. As kubeseal does, the input
    Secrets' labels and annotations are merged into ``spec.template.metadata``
    (never the sealing or last-applied annotations). Kubeseal's scope annotation
    is added where the object lacks it, so Bitnami's controller derives the
    scope this object's values are sealed for. ``secrets`` are (description,
    manifest) pairs.
    """
    identity = sealed_identity(sealed, where=where)
    values: dict[str, bytes] = {}
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    for where, secret in secrets:
        if not isinstance(secret, Mapping) or secret.get("kind") != "Secret":
            raise InputError(f"{where}: not a v1 Secret")
        described = _describe_secret(secret, where)
        metadata = secret.get("metadata") or {}
        if not isinstance(metadata, Mapping):
            raise InputError(f"{described}: metadata must be a mapping")
        labels.update(_string_map(metadata.get("labels"), f"{described}: metadata.labels"))
        annotations.update(
            _kept(_string_map(metadata.get("annotations"), f"{described}: metadata.annotations"))
        )
        values.update(secret_values(secret, described))
    if not values and not allow_empty_data:
        raise InputError("no data or stringData to merge (pass --allow-empty-data if that is intended)")
    merged = copy.deepcopy(dict(sealed))
    ref = f"SealedSecret {identity.ref}"
    spec = merged.setdefault("spec", {})
    if not isinstance(spec, dict):
        raise SpecError(f"{ref}: spec", "must be a mapping")
    encrypted = spec.get("encryptedData")
    if encrypted is None:
        encrypted = spec["encryptedData"] = {}
    if not isinstance(encrypted, dict):
        raise SpecError(f"{ref}: spec.encryptedData", "must be a mapping")
    encrypted.update(sealer.seal_all(values, identity.label))
    bitnami = bitnami_scope_annotations(identity.scope)
    _merge_template_metadata(spec, ref, labels, annotations, bitnami)
    _set_fingerprint(merged, sealer.fingerprint)
    merged["metadata"]["annotations"].update(bitnami)
    return merged


def _merge_template_metadata(
    spec: dict[str, Any],
    ref: str,
    labels: dict[str, str],
    annotations: dict[str, str],
    bitnami: dict[str, str],
) -> None:
    """Merge labels and annotations into ``spec.template.metadata``; its Bitnami scope
    annotations are then set as kubeseal's ``UpdateScopeAnnotations`` does (both removed,
    ``bitnami`` added), so the template agrees with the object's own scope."""
    template = spec.get("template")
    existing = template.get("metadata") if isinstance(template, dict) else None
    scoped = isinstance(existing, dict) and isinstance(existing.get("annotations"), dict)
    if not (labels or annotations or bitnami or scoped):
        return
    if template is None:
        template = spec["template"] = {}
    if not isinstance(template, dict):
        raise SpecError(f"{ref}: spec.template", "must be a mapping")
    metadata = template.setdefault("metadata", {})
    if not isinstance(metadata, dict):
        raise SpecError(f"{ref}: spec.template.metadata", "must be a mapping")
    for section, entries in (("labels", labels), ("annotations", annotations)):
        current = metadata.get(section)
        if current is not None and not isinstance(current, dict):
            raise SpecError(f"{ref}: spec.template.metadata.{section}", "must be a mapping")
        if entries:
            metadata[section] = {**(current or {}), **entries}
    current = metadata.get("annotations") or {}
    for key in (BITNAMI_NAMESPACE_WIDE, BITNAMI_CLUSTER_WIDE):
        current.pop(key, None)
    current.update(bitnami)
    if current:
        metadata["annotations"] = current
    else:
        metadata.pop("annotations", None)
    if not metadata:
        del template["metadata"]
    if not template:
        del spec["template"]


def _describe_secret(secret: Mapping[str, Any], where: str) -> str:
    metadata = secret.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    return f"Secret {name}" if isinstance(name, str) and name else where


def _set_fingerprint(sealed: dict[str, Any], fingerprint: str) -> None:
    metadata = sealed.setdefault("metadata", {})
    annotations = metadata.get("annotations")
    if not isinstance(annotations, dict):
        annotations = metadata["annotations"] = {}
    annotations[FINGERPRINT_ANNOTATION] = fingerprint


# --------------------------------------------------------------------------- keys


def key_entry_from_secret(secret: Mapping[str, Any], *, validate: bool = False) -> KeyEntry:
    """A key Secret (``kubernetes.io/tls``: ``tls.key`` + ``tls.crt``; ours or Bitnami's) -> KeyEntry.

    Shared by the operator's key ring and offline ``unseal`` of a backup.
    ``validate`` runs OpenSSL's key check (270 ms per RSA-4096 key): worth it
    for files of unknown origin, not for keys the operator reads on every
    start. A certificate that does not hold the key's public half is refused.
    Raises InputError naming the problem, never key material.
    """
    data = secret.get("data") or {}
    if not isinstance(data, Mapping):
        raise InputError("data must be a mapping")
    try:
        key_pem = crypto.decode_base64(data.get("tls.key") or "")
        cert_pem = crypto.decode_base64(data.get("tls.crt") or "")
    except (ValueError, TypeError):
        raise InputError("tls.key or tls.crt is not valid base64") from None
    if not key_pem:
        raise InputError("has no tls.key")
    private_key = crypto.load_private_keys(key_pem, validate=validate)[0]
    certificate = crypto.load_certificate(cert_pem) if cert_pem else None
    return KeyEntry.from_key(private_key, certificate)


# --------------------------------------------------------------------------- unseal


@dataclass(frozen=True)
class UnsealResult:
    """Every value of one SealedSecret that opened, and why each other one did not.

    Any failure fails the whole object (COMPAT §1): callers use :attr:`ok` or
    :meth:`raise_for_failures`, whose message names every failing key.
    """

    identity: SealedIdentity
    values: dict[str, bytes]
    failures: dict[str, str]
    fingerprints: tuple[str, ...] = ()  # the keys that opened values, in first-use order
    template_data: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def message(self) -> str:
        """One line naming the object, the scope and every failing key, grouped by reason."""
        if not self.failures:
            return f"SealedSecret {self.identity.ref}: unsealed {len(self.values)} keys"
        by_reason: dict[str, list[str]] = {}
        for key, reason in self.failures.items():
            by_reason.setdefault(reason, []).append(key)
        parts = "; ".join(f"{', '.join(keys)}: {reason}" for reason, keys in by_reason.items())
        noun = "key" if len(self.failures) == 1 else "keys"
        return f"SealedSecret {self.identity.ref} ({self.identity.scope} scope): cannot unseal {noun} {parts}"

    def raise_for_failures(self) -> None:
        if self.failures:
            raise UnsealError(self.message)


def unseal(
    sealed: Mapping[str, Any], keyring: KeyRing, *, namespace: str | None = None, where: str = "SealedSecret"
) -> UnsealResult:
    """Open every value of a SealedSecret (ours or Bitnami's) with the key ring.

    The key named by the fingerprint annotation is tried first; once a key
    opens one value it is tried first for the rest, so a healthy object costs
    one RSA operation per value. Structural problems raise SpecError;
    per-value failures are collected in the result.
    """
    identity = sealed_identity(sealed, namespace=namespace, where=where)
    ref = f"SealedSecret {identity.ref}"
    spec = _mapping(sealed.get("spec"), f"{ref}: spec")
    if "data" in spec and "encryptedData" not in spec:
        raise SpecError(f"{ref}: spec.data", "the pre-0.7 Bitnami format is not supported")
    encrypted = _mapping(spec.get("encryptedData"), f"{ref}: spec.encryptedData")
    template = _mapping(spec.get("template"), f"{ref}: spec.template")
    template_data = _mapping(template.get("data"), f"{ref}: spec.template.data")
    for key, text in template_data.items():
        if not isinstance(text, str):
            raise SpecError(f"{ref}: spec.template.data.{key}", "must be a string")

    values: dict[str, bytes] = {}
    failures: dict[str, str] = {}
    used: dict[str, None] = {}  # fingerprints that opened values, in first-use order
    last: str | None = None
    for key, value in encrypted.items():
        if not isinstance(value, str):
            failures[str(key)] = "not a string"
            continue
        try:
            values[str(key)], entry = keyring.open(value, identity.label, (last, identity.fingerprint_hint))
        except UnsealError as exc:
            failures[str(key)] = str(exc)
            continue
        last = entry.fingerprint
        used.setdefault(last)
    return UnsealResult(
        identity=identity,
        values=values,
        failures=failures,
        fingerprints=tuple(used),
        template_data=dict(template_data),
    )


def build_secret(
    sealed: Mapping[str, Any],
    result: UnsealResult,
    *,
    rendered_template_data: Mapping[str, bytes] | None = None,
) -> Manifest:
    """The plain ``v1`` Secret a SealedSecret describes: its own name and namespace,
    the template's labels, annotations, ``type`` and ``immutable``, the decrypted
    values, and template data (already rendered by the caller) overriding same-named keys.
    """
    result.raise_for_failures()
    ref = f"SealedSecret {result.identity.ref}"
    spec = _mapping(sealed.get("spec"), f"{ref}: spec")
    template = _mapping(spec.get("template"), f"{ref}: spec.template")
    template_meta = _mapping(template.get("metadata"), f"{ref}: spec.template.metadata")
    metadata: dict[str, Any] = {"name": result.identity.name}
    if result.identity.namespace:
        metadata["namespace"] = result.identity.namespace
    for section in ("labels", "annotations"):
        entries = _mapping(template_meta.get(section), f"{ref}: spec.template.metadata.{section}")
        if entries:
            metadata[section] = dict(entries)
    secret: Manifest = {"apiVersion": "v1", "kind": "Secret", "metadata": metadata}
    immutable, secret_type = template.get("immutable"), template.get("type")
    if immutable is not None and not isinstance(immutable, bool):
        raise SpecError(f"{ref}: spec.template.immutable", "must be true or false")
    if secret_type is not None and not isinstance(secret_type, str):
        raise SpecError(f"{ref}: spec.template.type", "must be a string")
    if immutable is not None:
        secret["immutable"] = immutable
    secret["type"] = secret_type or "Opaque"
    data = dict(result.values)
    data.update(rendered_template_data or {})
    secret["data"] = {key: base64.b64encode(value).decode("ascii") for key, value in data.items()}
    return secret


def answer_manifest(sealed: Mapping[str, Any]) -> Manifest:
    """Only what a SealedSecret is made of, for an answer to an untrusted caller.

    ``apiVersion``, ``kind``, ``metadata`` (``name``, ``namespace``, ``labels``,
    ``annotations`` without ``last-applied-configuration``) and ``spec``
    (``encryptedData``, ``template``), as given; everything else (``managedFields``,
    ``uid``, ``status``, unknown fields) is dropped, so the HTTP API never echoes
    arbitrary input back.
    """
    metadata = sealed.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    meta: dict[str, Any] = {key: metadata[key] for key in _ANSWER_METADATA if key in metadata}
    annotations = meta.get("annotations")
    if isinstance(annotations, Mapping) and LAST_APPLIED in annotations:
        meta["annotations"] = {key: value for key, value in annotations.items() if key != LAST_APPLIED}
    spec = sealed.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    return {
        "apiVersion": sealed.get("apiVersion"),
        "kind": sealed.get("kind"),
        "metadata": meta,
        "spec": {key: spec[key] for key in _ANSWER_SPEC if key in spec},
    }


_ANSWER_METADATA: Final = ("name", "namespace", "labels", "annotations")
_ANSWER_SPEC: Final = ("encryptedData", "template")


def reencrypt(sealed: Mapping[str, Any], keyring: KeyRing, sealer: Sealer) -> Manifest:
    """``sealed`` with every value re-sealed by ``sealer`` (the newest key), and nothing else.

    The label is the one the values were opened with, from the object's own
    metadata; the template is never consulted (the CVE-2026-22728 lesson).
    Only the fields of :func:`answer_manifest` are kept (this is what the HTTP
    API answers). Raises UnsealError naming every key that cannot be opened.
    """
    result = unseal(sealed, keyring)
    result.raise_for_failures()
    out = copy.deepcopy(answer_manifest(sealed))
    out["spec"]["encryptedData"] = sealer.seal_all(result.values, result.identity.label)
    _set_fingerprint(out, sealer.fingerprint)
    return out
