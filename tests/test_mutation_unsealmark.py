"""secretsync/unsealmark.py: what mutation testing found untested (docs/testing.md, "Mutation testing").

What the mark covers is a persisted format: marks written by one version of the operator are read
by the next one after an upgrade, so the canonical bytes are pinned here, not only their round trip.
"""

from __future__ import annotations

from datetime import UTC, datetime

from secretsync import crypto, unsealmark
from tests.test_crypto import make_cert, vector_key


def test_the_covered_content_is_canonical_json_in_a_fixed_form() -> None:
    secret = {
        "metadata": {
            "name": "ignored",
            "labels": {"b": "2", "a": "1"},
            "annotations": {"z": "1", unsealmark.MARK_ANNOTATION: "v1:old"},
        },
        "data": {"k": "dg=="},
    }
    assert unsealmark.content(secret) == (
        b'{"annotations":{"z":"1"},"data":{"k":"dg=="},"immutable":false,"labels":{"a":"1","b":"2"},'
        b'"type":"Opaque"}'
    )
    typed = {"type": "kubernetes.io/tls", "immutable": True, "metadata": None}
    assert unsealmark.content(typed) == (
        b'{"annotations":{},"data":{},"immutable":true,"labels":{},"type":"kubernetes.io/tls"}'
    )


def test_a_secret_whose_metadata_is_not_an_object_holds_no_mark() -> None:
    ring = crypto.KeyRing([crypto.KeyEntry.from_key(vector_key(2048))])
    assert not unsealmark.holds({"metadata": None, "data": {}}, ring, "intent")
    assert not unsealmark.holds({"metadata": "text"}, ring, "intent")


def _entry(bits: int, year: int) -> crypto.KeyEntry:
    key = vector_key(bits)
    certificate = crypto.load_certificate(make_cert(key, not_before=datetime(year, 1, 1, tzinfo=UTC)))
    return crypto.KeyEntry.from_key(key, certificate)


def test_the_mark_is_made_with_the_key_that_opened_the_values() -> None:
    older, newer = _entry(2048, 2020), _entry(4096, 2025)
    ring = crypto.KeyRing([older, newer])
    assert ring.newest is newer
    secret: dict = {"data": {"k": "dg=="}}  # no metadata yet: stamp makes it
    unsealmark.stamp(secret, ring, ["not in the ring", older.fingerprint], "intent")
    mark = secret["metadata"]["annotations"][unsealmark.MARK_ANNOTATION]
    assert mark.split(":")[1] == older.fingerprint
    assert unsealmark.holds(secret, ring, "intent")
    # no value was opened (template data only): the newest key
    other: dict = {"metadata": {"labels": {"a": "b"}}}
    unsealmark.stamp(other, ring, [], "intent")
    assert other["metadata"]["annotations"][unsealmark.MARK_ANNOTATION].split(":")[1] == newer.fingerprint
    assert other["metadata"]["labels"] == {"a": "b"}
