"""An in-memory provider configured entirely by the store spec, like ESO's ``fake`` provider.

It exists so demos, docs and controller tests can exercise ExternalSecrets without a backend.
Spec (``spec.provider.fake``), ESO's shape::

    data:
      - key: app/db                      # required
        value: '{"user": "app", "password": "..."}'   # or valueMap: {user: app, ...}
        version: "v1"                    # optional

Semantics, matching ESO where it has them:

* ``get``: the entry with that ``key`` and ``version``. Without a version, the entry that has
  none, else the last entry for the key (ESO only accepts the versionless one; taking the last
  keeps demos with only versioned entries working). Without a property the value comes back
  byte for byte; with one, the property is resolved in the value as stored, as for AWS and GCP
  (:func:`paths.raw_select`: an exact top-level key first, which ESO's fake skips: there
  ``tls.crt`` is always a path).
* ``get_map``: the value (or its property) as a JSON object, key by key, strings unquoted and
  anything else its text as stored (ESO's ``map[string]json.RawMessage``).
* ``find``: every key (its current entry, as ``get`` picks it) under ``path`` whose name matches
  ``name.regexp``; tags are not supported (ESO's fake supports name only).
* ``check``: always fine; a malformed spec fails in the constructor with a SpecError.
* ``remoteRef.metadataPolicy: Fetch``: a SpecError (entries have no metadata), never the value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from secretsync.errors import SecretNotFound, SpecError
from secretsync.providers import paths
from secretsync.providers.base import Access, FindSpec, RemoteRef, StoreContext

SPEC_PATH = "spec.provider.fake"


@dataclasses.dataclass(frozen=True)
class FakeEntry:
    """One ``data[]`` item: the value is kept as the text the spec gave."""

    key: str
    value: str
    version: str | None = None


class FakeProvider:
    """Serves the entries of ``spec.provider.fake.data``; no I/O, no state beyond the spec."""

    name = "fake"
    access = Access()  # in-memory: no identity, no server

    def __init__(self, context: StoreContext) -> None:
        self._entries = parse_entries(context.spec)

    # -- Provider interface -----------------------------------------------------------------

    def get(self, ref: RemoteRef) -> bytes:
        _refuse_metadata(ref)
        entry = self._entry(ref.key, ref.version)
        if not ref.property:
            return entry.value.encode()
        return paths.raw_select(entry.value, ref.property, where=f"fake: {_describe(entry)}")

    def get_map(self, ref: RemoteRef) -> dict[str, bytes]:
        _refuse_metadata(ref)
        entry = self._entry(ref.key, ref.version)
        where = f"fake: {_describe(entry)}" + (f" property {ref.property!r}" if ref.property else "")
        return paths.raw_extract(self.get(ref), where)

    def find(self, spec: FindSpec) -> dict[str, bytes]:
        if spec.tags:
            raise SpecError("dataFrom.find.tags", "the fake provider can find by name only")
        matcher = paths.compile_name_regexp(spec.name_regexp)
        prefix = f"{spec.path.strip('/')}/" if spec.path and spec.path.strip("/") else ""
        found: dict[str, bytes] = {}
        for key in dict.fromkeys(entry.key for entry in self._entries):
            if key.startswith(prefix) and (matcher is None or matcher.search(key)):
                found[key] = self._entry(key, None).value.encode()
        return found

    def check(self) -> None:
        """Nothing to reach: the spec was validated when the provider was built."""

    def close(self) -> None:
        """Nothing to release."""

    # -- helpers ----------------------------------------------------------------------------

    def _entry(self, key: str, version: str | None) -> FakeEntry:
        candidates = [entry for entry in self._entries if entry.key == key]
        if version:
            chosen = [entry for entry in candidates if entry.version == version]
        else:
            chosen = [entry for entry in candidates if entry.version is None] or candidates
        if not chosen:
            suffix = f" (version {version!r})" if version else ""
            raise SecretNotFound(f"fake: key {key!r}{suffix} not found")
        return chosen[-1]


def parse_entries(spec: Mapping[str, Any]) -> tuple[FakeEntry, ...]:
    """Validate ``spec.provider.fake`` into entries; SpecError names the offending field."""
    data = spec.get("data", [])
    if not isinstance(data, Sequence) or isinstance(data, str | bytes):
        raise SpecError(f"{SPEC_PATH}.data", "must be a list of {key, value, version}")
    return tuple(_parse_entry(item, f"{SPEC_PATH}.data[{index}]") for index, item in enumerate(data))


def _parse_entry(item: Any, where: str) -> FakeEntry:
    if not isinstance(item, Mapping):
        raise SpecError(where, "must be an object with key and value")
    key = item.get("key")
    if not isinstance(key, str) or not key:
        raise SpecError(f"{where}.key", "is required and must be a non-empty string")
    version = item.get("version")
    if version is not None and not isinstance(version, str):
        raise SpecError(f"{where}.version", "must be a string")
    return FakeEntry(key=key, value=_parse_value(item, where), version=version or None)


def _parse_value(item: Mapping[str, Any], where: str) -> str:
    """``value`` as given, or ``valueMap`` (ESO's deprecated form) as a compact JSON object."""
    value, value_map = item.get("value"), item.get("valueMap")
    if value is not None and value_map is not None:
        raise SpecError(where, "set value or valueMap, not both")
    if value is not None:
        if not isinstance(value, str):
            raise SpecError(f"{where}.value", "must be a string (quote JSON documents)")
        return value
    if isinstance(value_map, Mapping) and all(isinstance(v, str) for v in value_map.values()):
        return paths.to_json(dict(value_map)).decode()
    if value_map is not None:
        raise SpecError(f"{where}.valueMap", "must map strings to strings")
    raise SpecError(f"{where}.value", "is required")


def _refuse_metadata(ref: RemoteRef) -> None:
    """The spec's entries carry no metadata, so ``metadataPolicy: Fetch`` has nothing to read:
    refused, rather than answering with the value the ref explicitly did not ask for."""
    if ref.metadata_policy == "Fetch":
        raise SpecError(
            "remoteRef.metadataPolicy",
            "the fake provider has no metadata; metadataPolicy Fetch needs vault, aws or gcpsm",
        )


def _describe(entry: FakeEntry) -> str:
    return f"key {entry.key!r}" + (f" (version {entry.version!r})" if entry.version else "")
