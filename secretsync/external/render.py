"""What an ExternalSecret asks its Secret to hold: data, labels, annotations and type (pure).

ESO's order (``ApplyTemplate`` and ``setMetadata``), so a migrated manifest gives the same
Secret:

* no ``target.template``: the data is the fetched values, and the ExternalSecret's own labels
  and annotations are copied to the Secret;
* with a template: its ``metadata`` labels and annotations (their values are templates), the
  fetched values first when ``mergePolicy`` is Merge or when the template renders no data at all,
  then every ``templateFrom`` entry in order (its ConfigMap items, Secret items, then literal),
  then ``template.data`` (which wins), each into its target (Data, Annotations or Labels).

Every template of one ExternalSecret renders in one call of the engine, so they share one step
and time budget. A ``templateAs: KeysAndValues`` template (and a ``literal``) renders YAML
``key: value`` lines, read by the bounded YAML reader. Keys under ``secretsync.io/`` are the
operator's own markers: a template may not write them, and they are not copied from the
ExternalSecret. Messages name templates and positions, never a value (nor a key a template made).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Final

from secretsync import model, safeload, templating
from secretsync.errors import TemplateError, TemplateSourceError
from secretsync.gotemplate.gostrconv import format_float

RESERVED_PREFIX: Final = "secretsync.io/"
_OUTPUT: Final = safeload.Budget(
    max_bytes=templating.LIMITS.max_output_bytes,
    max_depth=4,
    max_nodes=10_000,
    max_chars=templating.LIMITS.max_output_bytes,
    aliases=False,
    plain=True,
)

Sources = Mapping[tuple[str, str], Mapping[str, bytes] | None]
"""templateFrom objects read for one render: (ConfigMap|Secret, name) -> data, None if absent."""


@dataclasses.dataclass
class Desired:
    """The Secret as the ExternalSecret asks for it, before ownership marks are added."""

    data: dict[str, bytes]
    labels: dict[str, str]
    annotations: dict[str, str]
    type: str | None = None  # None: keep the existing Secret's type (Opaque for a new Secret)


def source_refs(spec: model.ExternalSecretSpec) -> list[tuple[str, str]]:
    """The (kind, name) of every ConfigMap and Secret the templates read, in order, once each."""
    template = spec.target.template
    refs: list[tuple[str, str]] = []
    for entry in template.template_from if template else ():
        for kind, ref in (("ConfigMap", entry.config_map), ("Secret", entry.secret)):
            if ref is not None and (kind, ref.name) not in refs:
                refs.append((kind, ref.name))
    return refs


def render(spec: model.ExternalSecretSpec, values: Mapping[str, bytes], sources: Sources) -> Desired:
    """The desired Secret; TemplateError / TemplateSourceError say which template and why."""
    template = spec.target.template
    if template is None:
        return Desired(data=dict(values), labels=_copied(spec.labels), annotations=_copied(spec.annotations))
    plan = _Plan(spec.namespace or "")
    for index, entry in enumerate(template.template_from):
        plan.template_from(index, entry, sources)
    for key, source in template.data.items():
        plan.add(key, source, "Data", key, keys_and_values=False)
    for section, target in ((template.labels, "Labels"), (template.annotations, "Annotations")):
        for key, source in section.items():
            plan.add(f"metadata.{target.lower()}[{key}]", source, target, key, keys_and_values=False)
    rendered = templating.render(plan.templates, values)

    desired = Desired(
        data=dict(values) if template.merge_policy == "Merge" or not template.renders_data else {},
        labels=dict(template.labels),  # ESO's setMetadata merges them raw; rendered below
        annotations=dict(template.annotations),
        type=template.type,
    )
    for name, target, out_key, keys_and_values in plan.steps:
        output = rendered[name]
        pairs = _key_values(name, output, target) if keys_and_values else [(str(out_key), output)]
        for key, value in pairs:
            _apply(desired, target, key, value, name)
    return desired


def _copied(section: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in section.items() if not k.startswith(RESERVED_PREFIX)}


class _Plan:
    """Every template of one render, named for messages, and where each output goes."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.templates: dict[str, str] = {}
        self.steps: list[tuple[str, str, str | None, bool]] = []  # (name, target, key, keys_and_values)

    def add(self, name: str, source: str, target: str, key: str | None, *, keys_and_values: bool) -> None:
        self.templates[name] = source
        self.steps.append((name, target, key, keys_and_values))

    def template_from(self, index: int, entry: model.TemplateFrom, sources: Sources) -> None:
        where = f"templateFrom[{index}]"
        for kind, field, ref in (
            ("ConfigMap", "configMap", entry.config_map),
            ("Secret", "secret", entry.secret),
        ):
            if ref is None:
                continue
            data = sources.get((kind, ref.name))
            if data is None:
                raise TemplateSourceError(
                    f"spec.target.template.{where}.{field}: {kind} {self.namespace}/{ref.name} not found "
                    "(templates are read from the ExternalSecret's namespace; retried)"
                )
            for item_index, item in enumerate(ref.items):
                if item.key not in data:
                    raise TemplateSourceError(
                        f"spec.target.template.{where}.{field}.items[{item_index}]: {kind} "
                        f"{self.namespace}/{ref.name} has no key {item.key!r}"
                    )
                text = templating.to_text(data[item.key])
                name = f"{where}.{field}[{ref.name}][{item.key}]"
                self.add(
                    name, text, entry.target, item.key, keys_and_values=item.template_as == "KeysAndValues"
                )
        if entry.literal is not None:
            self.add(f"{where}.literal", entry.literal, entry.target, None, keys_and_values=True)


def _key_values(name: str, output: bytes, target: str) -> list[tuple[str, bytes]]:
    """ESO reads a KeysAndValues output as YAML into ``map[string]string``."""
    try:
        documents, _ = safeload.load_documents(output, _OUTPUT)
    except safeload.ParseError as exc:
        where = f" at line {exc.line}, column {exc.column}" if exc.line is not None else ""
        raise TemplateError(
            f"template {name}: its output is not YAML key: value lines{where} (templateAs KeysAndValues)"
        ) from None
    found = [doc for doc in documents if doc is not None]
    if len(found) > 1:
        raise TemplateError(f"template {name}: its output holds {len(found)} YAML documents; write one")
    document = found[0] if found else {}
    if not isinstance(document, dict):
        raise TemplateError(
            f"template {name}: its output must be YAML key: value lines, not {_kind(document)} "
            "(templateAs KeysAndValues)"
        )
    pairs: list[tuple[str, bytes]] = []
    for position, (key, value) in enumerate(document.items(), start=1):
        if value is None:
            value = ""  # Go's json.Unmarshal leaves a null string as ""
        value = _go_string(value)
        if not isinstance(value, str):
            raise TemplateError(
                f"template {name}: entry {position} of its output is {_kind(value)}, not a string; "
                f"quote it (ESO reads the output as map[string]string for {target})"
            )
        pairs.append((_yaml_key(key), templating.to_bytes(value)))
    return pairs


def _go_string(value: Any) -> Any:
    """A YAML scalar read into a Go string as sigs.k8s.io/yaml does for ``map[string]string``:
    booleans ``true``/``false``, integers in decimal, floats by ``FormatFloat(v, 'g', -1, 32)``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value, "g", -1, 32)
    return value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "a scalar"


def _yaml_key(key: Any) -> str:
    """A YAML key as Go's YAML-to-JSON conversion writes it (``true``, ``1``)."""
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _apply(desired: Desired, target: str, key: str, value: bytes, name: str) -> None:
    if target == "Data":
        if not model.is_secret_key(key):
            raise TemplateError(
                f"template {name}: it makes a Secret key that is not valid (letters, digits, -, _, .)"
            )
        desired.data[key] = value
        return
    if key.startswith(RESERVED_PREFIX):
        raise TemplateError(
            f"template {name}: keys under {RESERVED_PREFIX} are the operator's own; use another"
        )
    if not model.is_qualified_name(key):
        raise TemplateError(f"template {name}: it makes a {target[:-1].lower()} key that is not valid")
    section = desired.labels if target == "Labels" else desired.annotations
    section[key] = templating.to_text(value)
