"""A small schema language mirroring the CRDs' openAPIV3Schema, and the checker that walks it.

Why not validate against the CRD YAML itself: the model must stay pure (no file
reads, no jsonschema at run time). tests/test_crds.py compares both trees node
by node.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

from secretsync.errors import SpecError
from secretsync.model.fields import DECODING_STRATEGIES, DNS_LABEL, DNS_SUBDOMAIN, SECRET_KEY, type_name
from secretsync.model.refusals import UNSUPPORTED
from secretsync.model.values import b64decode

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
    minimum: int | None = None
    maximum: int | None = None
    # Declared for ESO manifests but not supported: the message (from UNSUPPORTED) the CRD's CEL
    # rule on the parent object gives too. ``supported``: the values still accepted (ESO's no-op
    # default, e.g. metadataPolicy None); empty: the field is refused whatever its value.
    refuse: str = ""
    supported: tuple[Any, ...] = ()


def refused(node: Node, what: str, *supported: Any) -> Node:
    """``node``, declared only to be refused with ``UNSUPPORTED[what]`` (unless its value is in
    ``supported``)."""
    return dataclasses.replace(node, refuse=UNSUPPORTED[what], supported=supported)


def obj(required: Iterable[str] = (), /, **fields: Node) -> Node:
    return Node("object", fields=fields, required=tuple(required))


def string(
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


def array(item: Node, max_items: int | None = None) -> Node:
    return Node("array", items=item, max_items=max_items)


STR = string()
INT = Node("integer")


def integer(*, minimum: int | None = None, maximum: int | None = None) -> Node:
    return Node("integer", minimum=minimum, maximum=maximum)


BOOL = Node("boolean")
MAP = Node("map")
ANY = Node("any")
NAME = string(pattern=DNS_SUBDOMAIN, hint="a DNS subdomain name", min_length=1, max_length=253)
NS = string(pattern=DNS_LABEL, hint="a namespace name", min_length=1, max_length=63)
KEY = string(
    pattern=SECRET_KEY, hint="a Secret key (letters, digits, '-', '_', '.')", min_length=1, max_length=253
)
DECODING = string(enum=DECODING_STRATEGIES)

SECRET_KEY_REF = obj(("name",), name=NAME, key=KEY, namespace=NS)
SERVICE_ACCOUNT_REF = obj(("name",), name=NAME, namespace=NS, audiences=array(STR))


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
            raise SpecError(path, f"must be an object, not {type_name(value)}")
        if kind == "any":
            return
        if kind == "map":
            for key, item in value.items():
                if not isinstance(item, str):
                    raise SpecError(f"{path}[{key}]", f"must be a string, not {type_name(item)}")
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
            raise SpecError(path, f"must be a list, not {type_name(value)}")
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
            raise SpecError(path, f"must be true or false, not {type_name(value)}")
        return
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(path, f"must be an integer, not {type_name(value)}")
        if node.minimum is not None and value < node.minimum:
            raise SpecError(path, f"must be at least {node.minimum}")
        if node.maximum is not None and value > node.maximum:
            raise SpecError(path, f"must be at most {node.maximum}")
        return
    _check_string(value, node, path)


def _check_string(value: Any, node: Node, path: str) -> None:
    if not isinstance(value, str):
        raise SpecError(path, f"must be a string, not {type_name(value)}")
    if node.enum and value not in node.enum:
        raise SpecError(path, f"{value[:40]!r} is not one of: {', '.join(node.enum)}")
    if node.min_length is not None and len(value) < node.min_length:
        raise SpecError(path, "must not be empty" if node.min_length == 1 else "is too short")
    if node.max_length is not None and len(value) > node.max_length:
        raise SpecError(path, f"is longer than {node.max_length} characters")
    if node.pattern is not None and not re.fullmatch(node.pattern, value):
        raise SpecError(path, f"{value[:80]!r} is not {node.hint or 'valid'}")
    if node.format == "byte" and b64decode(value.encode("ascii", "replace"), b"+/") is None:
        raise SpecError(path, "must be base64 (standard alphabet, padded)")


def spec_of(body: Mapping[str, Any], schema: Node) -> Mapping[str, Any]:
    spec = body.get("spec")
    if spec is None:
        raise SpecError("spec", "is required")
    check_schema(spec, schema, "spec")
    assert isinstance(spec, Mapping)
    return spec
