"""Reading an ExternalSecret's values from its store: ``dataFrom`` in order, then ``data`` on top.

Each distinct remote ref is read once per sync (``data`` entries that differ only in
``property`` share one read of the whole value; a metadata read is its own). Per ``dataFrom``
entry, ESO's order: the provider's answer -> ``rewrite`` -> ``conversionStrategy`` (only when
there is no rewrite) -> key check -> ``decodingStrategy``. ``deletionPolicy`` decides what a
missing remote secret does: Retain fails the sync, Merge and Delete drop its keys. A sync that
finds no data at all (every source gone, a ``find`` that matches nothing) does what ESO does with
an empty data map: Delete deletes the Secret, Retain leaves it as it is (:class:`Nothing`), Merge
writes what is left.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from secretsync import model
from secretsync.errors import SecretNotFound, SpecError
from secretsync.external import rewrite
from secretsync.providers import paths
from secretsync.providers.base import FindSpec, Provider, RemoteRef

logger = logging.getLogger("secretsync.external")

Call = Callable[..., Awaitable[Any]]
"""``call(operation, fn, argument)``: one provider call through the gateway."""


class Nothing(enum.Enum):
    """No data found at all, from an ExternalSecret that has sources: what becomes of its Secret."""

    DELETE = "delete"  # deletionPolicy Delete: deleted
    KEEP = "keep"  # deletionPolicy Retain: left as it is (and not created), as ESO


async def fetch(spec: model.ExternalSecretSpec, provider: Provider, call: Call) -> dict[str, bytes] | Nothing:
    """Secret key -> value, or what to do when there is none (:class:`Nothing`)."""
    cache: dict[tuple[Any, ...], Any] = {}
    missing: list[str] = []
    policy = spec.target.deletion_policy

    async def once(kind: str, ref: RemoteRef | FindSpec, fn: Callable[[Any], Any]) -> Any:
        key = (kind, ref)
        if key not in cache:
            try:
                cache[key] = await call(kind, fn, ref)
            except SecretNotFound as exc:
                if policy == "Retain":
                    raise
                cache[key] = exc
        found = cache[key]
        if isinstance(found, SecretNotFound):
            missing.append(str(found))
            return None
        return found

    out: dict[str, bytes] = {}
    for index, source in enumerate(spec.data_from):
        where = f"spec.dataFrom[{index}]"
        got: dict[str, bytes] | None
        if source.extract is not None:
            got = await once("get_map", source.extract, provider.get_map)
        elif source.find is not None:
            got = await once("find", source.find, provider.find)
        else:  # pragma: no cover - the model guarantees one of them
            raise SpecError(where, "needs extract or find")
        if got is not None:
            out.update(entry_values(source, got, where))
    for index, entry in enumerate(spec.data):
        if entry.ref.metadata_policy == "Fetch":
            # Metadata has its own property forms (GCP's labels.<k>): the provider selects.
            value = await once("get", entry.ref, provider.get)
        else:
            # Entries that differ only in `property` share one read: fetch the whole remote
            # value once and select each property here, with the providers' own path rules.
            whole = await once("get", RemoteRef(entry.ref.key, None, entry.ref.version), provider.get)
            value = None if whole is None else _property(whole, entry.ref)
        if value is None:
            continue
        path = f"spec.data[{index}].remoteRef.decodingStrategy"
        out[entry.secret_key] = model.decode(value, entry.decoding, path=path)
    if not out and (spec.data or spec.data_from) and policy != "Merge":
        # Not for a Secret built from templates only (it has no sources to find nothing in).
        return Nothing.DELETE if policy == "Delete" else Nothing.KEEP
    if missing:
        logger.info(
            "ExternalSecret: %d source(s) not found, dropped (deletionPolicy %s)", len(missing), policy
        )
    return out


def entry_values(source: model.DataFromEntry, got: dict[str, bytes], where: str) -> dict[str, bytes]:
    """One ``dataFrom`` entry's answer as Secret keys and values, in ESO's order."""
    if source.rewrite:
        keyed = model.check_rewritten_keys(rewrite.apply(source.rewrite, got, path=where), path=where)
    else:
        keyed = model.sanitize_keys(got, path=where, strategy=source.conversion)
    decoding = f"{where}.decodingStrategy"
    return {key: model.decode(value, source.decoding, path=decoding) for key, value in keyed.items()}


def _property(whole: bytes, ref: RemoteRef) -> bytes:
    """``ref.property`` of a whole remote value (JSON), as the providers select it."""
    if ref.property is None:
        return whole
    payload = paths.document(whole, ref.key, ref.property)
    return paths.to_bytes(paths.select(payload, ref.property, where=ref.key))
