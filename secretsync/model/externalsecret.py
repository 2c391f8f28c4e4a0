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
    FrozenMap,
    check_keys,
    check_secret_key,
    compile_regex,
    frozen,
    is_qualified_name,
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
class TemplateItem:
    """``templateFrom[].configMap|secret.items[]``: one key of the ConfigMap or Secret, and how its
    text is used. Values: the text is a template and ``key`` the output key. KeysAndValues: the text
    is a template rendering YAML ``key: value`` lines, each one an output entry."""

    key: str
    template_as: str = "Values"


@dataclasses.dataclass(frozen=True)
class TemplateRef:
    """``templateFrom[].configMap`` or ``.secret``: an object in the ExternalSecret's namespace."""

    name: str
    items: tuple[TemplateItem, ...] = ()


@dataclasses.dataclass(frozen=True)
class TemplateFrom:
    """``spec.target.template.templateFrom[]``: applied in order, configMap, then secret, then
    literal (a KeysAndValues template), each into ``target`` (Data, Annotations or Labels)."""

    config_map: TemplateRef | None = None
    secret: TemplateRef | None = None
    literal: str | None = None
    target: str = "Data"


@dataclasses.dataclass(frozen=True)
class TemplateSpec:
    """``spec.target.template``: shapes the produced Secret."""

    type: str | None = None  # Secret type; None = keep the existing Secret's (Opaque for a new one)
    labels: Mapping[str, str] = EMPTY  # values are templates
    annotations: Mapping[str, str] = EMPTY  # values are templates
    data: Mapping[str, str] = EMPTY  # Secret key -> template source
    merge_policy: str = "Replace"  # Replace: only template data; Merge: fetched data + template data
    engine_version: str = "v2"  # the only engine (ESO's v1 API allows nothing else)
    template_from: tuple[TemplateFrom, ...] = ()

    @property
    def renders_data(self) -> bool:
        """Whether templates produce the data (else the fetched values are the data, as in ESO)."""
        return bool(self.data or self.template_from)


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
class RewriteRegexp:
    """``rewrite[].regexp``: every key -> Go's ``Regexp.ReplaceAllString(key, target)``."""

    source: str
    target: str


@dataclasses.dataclass(frozen=True)
class RewriteTransform:
    """``rewrite[].transform``: every key -> the template rendered with ``.value`` = the key."""

    template: str


@dataclasses.dataclass(frozen=True)
class RewriteMerge:
    """``rewrite[].merge``: values are JSON objects, merged into one (ESO's RewriteMerge)."""

    into: str = ""
    priority: tuple[str, ...] = ()
    priority_policy: str = "Strict"
    conflict_policy: str = "Error"
    strategy: str = "Extract"


Rewrite = RewriteRegexp | RewriteTransform | RewriteMerge


@dataclasses.dataclass(frozen=True)
class DataFromEntry:
    """``spec.dataFrom[]``: exactly one of ``extract`` or ``find`` is set."""

    extract: RemoteRef | None = None
    find: FindSpec | None = None
    decoding: str = "None"
    conversion: str = "Default"  # ESO's conversionStrategy; only used when there is no rewrite
    rewrite: tuple[Rewrite, ...] = ()


@dataclasses.dataclass(frozen=True)
class ExternalSecretSpec:
    """An ExternalSecret, validated and with every default applied."""

    name: str
    namespace: str | None
    store_name: str
    target: TargetSpec
    store_kind: str = SECRET_STORE
    refresh_interval: float = DEFAULT_REFRESH_INTERVAL  # seconds; 0 = fetch once, never refresh
    refresh_policy: str = "Periodic"  # CreatedOnce | Periodic | OnChange (secretsync.external.refresh)
    data: tuple[DataEntry, ...] = ()
    data_from: tuple[DataFromEntry, ...] = ()
    # The ExternalSecret's own labels and annotations: copied to a Secret without template, as ESO.
    labels: Mapping[str, str] = EMPTY
    annotations: Mapping[str, str] = EMPTY


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

    if spec.get("secretStoreRef") is None:
        raise SpecError(
            "spec.secretStoreRef",
            "spec.secretStoreRef is required: name the SecretStore or ClusterSecretStore to read from "
            "(secretsync has no generators)",
        )
    store_ref = sub(spec, "secretStoreRef")
    refresh = spec.get("refreshInterval")
    refresh_interval = DEFAULT_REFRESH_INTERVAL if refresh is None else parse_go_duration(refresh)

    target = _parse_target(sub(spec, "target"), default_name=name)
    data = tuple(_parse_data(i, entry) for i, entry in enumerate(spec.get("data") or []))
    data_from = tuple(_parse_data_from(i, entry) for i, entry in enumerate(spec.get("dataFrom") or []))

    if not data and not data_from and not (target.template and target.template.renders_data):
        # ESO demands data or dataFrom; a Secret made only of templates is a
        # superset that ESO manifests never hit.
        raise SpecError(
            "spec",
            "set data or dataFrom (or target.template.data or templateFrom for a Secret built from "
            "templates only)",
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
        refresh_policy=opt_str(spec, "refreshPolicy") or "Periodic",
        target=target,
        data=data,
        data_from=data_from,
        labels=_meta_map(body, "labels"),
        annotations=_meta_map(body, "annotations"),
    )


def _meta_map(body: Mapping[str, Any], section: str) -> FrozenMap:
    """``metadata.labels`` or ``.annotations`` as strings (the API server guarantees that shape)."""
    value = sub(sub(body, "metadata"), section)
    return FrozenMap((str(k), str(v)) for k, v in value.items() if isinstance(v, str))


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
        template_from=tuple(
            _parse_template_from(f"{path}.templateFrom[{i}]", entry)
            for i, entry in enumerate(template.get("templateFrom") or [])
        ),
    )


def _parse_template_from(path: str, entry: Mapping[str, Any]) -> TemplateFrom:
    target = opt_str(entry, "target") or "Data"
    refs: dict[str, TemplateRef] = {}
    for field in ("configMap", "secret"):
        ref = entry.get(field)
        if ref is None:
            continue
        items = []
        for i, item in enumerate(sub(entry, field).get("items") or []):
            key, scope = str(item["key"]), opt_str(item, "templateAs") or "Values"
            where = f"{path}.{field}.items[{i}].key"
            check_secret_key(key, where)  # a ConfigMap key and a Secret key obey the same rule
            if scope == "Values" and target != "Data" and not is_qualified_name(key):
                raise SpecError(
                    where, f"{key[:80]!r} is the {target[:-1].lower()} key and is not a valid one"
                )
            items.append(TemplateItem(key=key, template_as=scope))
        refs[field] = TemplateRef(name=str(ref["name"]), items=tuple(items))
    literal = entry.get("literal")
    return TemplateFrom(
        config_map=refs.get("configMap"),
        secret=refs.get("secret"),
        literal=literal if isinstance(literal, str) else None,
        target=target,
    )


def _remote_ref(ref: Mapping[str, Any], path: str) -> RemoteRef:
    key = str(ref["key"])
    tenancy.confine_path(key, f"{path}.key")  # no '..' out of the store's path, for every provider
    return RemoteRef(
        key=key,
        property=opt_str(ref, "property"),
        version=opt_str(ref, "version"),
        metadata_policy=opt_str(ref, "metadataPolicy") or "None",
    )


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
    rewrite = tuple(
        _parse_rewrite(f"{path}.rewrite[{i}]", op) for i, op in enumerate(entry.get("rewrite") or [])
    )
    if extract is not None:
        ref = sub(entry, "extract")
        return DataFromEntry(
            extract=_remote_ref(ref, f"{path}.extract"),
            decoding=opt_str(ref, "decodingStrategy") or "None",
            conversion=opt_str(ref, "conversionStrategy") or "Default",
            rewrite=rewrite,
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
        conversion=opt_str(spec, "conversionStrategy") or "Default",
        rewrite=rewrite,
    )


def _parse_rewrite(path: str, op: Mapping[str, Any]) -> Rewrite:
    """One ``rewrite[]`` operation; ESO's CRD demands exactly one of regexp, transform, merge."""
    present = [name for name in ("regexp", "transform", "merge") if op.get(name) is not None]
    if len(present) != 1:
        raise SpecError(path, "set exactly one of regexp, transform or merge")
    if present[0] == "regexp":
        regexp = sub(op, "regexp")
        compile_regex(str(regexp["source"]), f"{path}.regexp.source")
        return RewriteRegexp(source=str(regexp["source"]), target=str(regexp["target"]))
    if present[0] == "transform":
        return RewriteTransform(template=str(sub(op, "transform")["template"]))
    merge = sub(op, "merge")
    strategy = opt_str(merge, "strategy") or "Extract"
    into = opt_str(merge, "into") or ""
    if strategy == "JSON" and not into:
        raise SpecError(f"{path}.merge.into", "is required with strategy JSON (the key of the merged JSON)")
    return RewriteMerge(
        into=into,
        priority=tuple(str(p) for p in merge.get("priority") or []),
        priority_policy=opt_str(merge, "priorityPolicy") or "Strict",
        conflict_policy=opt_str(merge, "conflictPolicy") or "Error",
        strategy=strategy,
    )
