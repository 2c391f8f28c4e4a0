"""ExternalSecret bodies, validated once into frozen specs with every default applied."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from secretsync import tenancy
from secretsync.errors import SpecError
from secretsync.model.fields import (
    DEFAULT_REFRESH_INTERVAL,
    EMPTY,
    SECRET_STORE,
    check_keys,
    check_secret_key,
    compile_regex,
    frozen,
    metadata_of,
    opt_str,
    parse_go_duration,
    sub,
)
from secretsync.model.schema import spec_of
from secretsync.model.schemas import ES_SPEC_SCHEMA
from secretsync.providers.base import FindSpec, RemoteRef

# --------------------------------------------------------------------------- ExternalSecret


@dataclasses.dataclass(frozen=True)
class TemplateSpec:
    """``spec.target.template``: shapes the produced Secret."""

    type: str | None = None  # Secret type; None = leave it to the writer (Opaque)
    labels: Mapping[str, str] = EMPTY
    annotations: Mapping[str, str] = EMPTY
    data: Mapping[str, str] = EMPTY  # Secret key -> template source
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
    name, namespace = metadata_of(body)
    spec = spec_of(body, ES_SPEC_SCHEMA)

    store_ref = sub(spec, "secretStoreRef")
    refresh = spec.get("refreshInterval")
    refresh_interval = DEFAULT_REFRESH_INTERVAL if refresh is None else parse_go_duration(refresh)

    target = _parse_target(sub(spec, "target"), default_name=name)
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
        store_kind=opt_str(store_ref, "kind") or SECRET_STORE,
        refresh_interval=refresh_interval,
        target=target,
        data=data,
        data_from=data_from,
    )


def _parse_target(target: Mapping[str, Any], *, default_name: str) -> TargetSpec:
    creation = opt_str(target, "creationPolicy") or "Owner"
    deletion = opt_str(target, "deletionPolicy") or "Retain"
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
        template = _parse_template(sub(target, "template"))
    return TargetSpec(
        name=opt_str(target, "name") or default_name,
        creation_policy=creation,
        deletion_policy=deletion,
        immutable=bool(target.get("immutable", False)),
        template=template,
    )


def _parse_template(template: Mapping[str, Any]) -> TemplateSpec:
    path = "spec.target.template"
    meta = sub(template, "metadata")
    labels = frozen(meta.get("labels"))
    annotations = frozen(meta.get("annotations"))
    data = frozen(template.get("data"))
    check_keys(labels, f"{path}.metadata.labels", "label")
    check_keys(annotations, f"{path}.metadata.annotations", "annotation")
    for key in data:
        check_secret_key(key, f"{path}.data[{key}]")
    return TemplateSpec(
        type=opt_str(template, "type"),
        labels=labels,
        annotations=annotations,
        data=data,
        merge_policy=opt_str(template, "mergePolicy") or "Replace",
        engine_version=opt_str(template, "engineVersion"),
    )


def _remote_ref(ref: Mapping[str, Any], path: str) -> RemoteRef:
    key = str(ref["key"])
    tenancy.confine_path(key, f"{path}.key")  # no '..' out of the store's path, for every provider
    return RemoteRef(key=key, property=opt_str(ref, "property"), version=opt_str(ref, "version"))


def _parse_data(index: int, entry: Mapping[str, Any]) -> DataEntry:
    path = f"spec.data[{index}]"
    secret_key = str(entry["secretKey"])
    check_secret_key(secret_key, f"{path}.secretKey")
    ref = sub(entry, "remoteRef")
    return DataEntry(
        secret_key=secret_key,
        ref=_remote_ref(ref, f"{path}.remoteRef"),
        decoding=opt_str(ref, "decodingStrategy") or "None",
    )


def _parse_data_from(index: int, entry: Mapping[str, Any]) -> DataFromEntry:
    path = f"spec.dataFrom[{index}]"
    extract, find = entry.get("extract"), entry.get("find")
    if (extract is None) == (find is None):
        raise SpecError(path, "set exactly one of extract or find")
    if extract is not None:
        ref = sub(entry, "extract")
        return DataFromEntry(
            extract=_remote_ref(ref, f"{path}.extract"), decoding=opt_str(ref, "decodingStrategy") or "None"
        )
    spec = sub(entry, "find")
    find_path = opt_str(spec, "path")
    if find_path is not None:
        tenancy.confine_path(find_path, f"{path}.find.path")
    regexp = opt_str(sub(spec, "name"), "regexp")
    if regexp is not None:
        compile_regex(regexp, f"{path}.find.name.regexp")
    return DataFromEntry(
        find=FindSpec(path=find_path, name_regexp=regexp, tags=frozen(spec.get("tags"))),
        decoding=opt_str(spec, "decodingStrategy") or "None",
    )
