"""The unsealed mark (secretsync/unsealmark.py): it holds for exactly the Secret an intent was
unsealed into, under a key of the ring, and for nothing else."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from secretsync import crypto, unsealmark
from tests.support.sealed_env import vector_key

INTENT = "a" * 64


def _ring(bits: int = 2048) -> crypto.KeyRing:
    key_pem, cert_pem = vector_key(bits)
    (key,) = crypto.load_private_keys(key_pem)
    return crypto.KeyRing([crypto.KeyEntry.from_key(key, crypto.load_certificate(cert_pem))])


def _secret(value: bytes = b"v") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "ns", "labels": {"app": "db"}, "annotations": {"team": "a"}},
        "type": "Opaque",
        "data": {"password": base64.b64encode(value).decode()},
    }


@pytest.fixture(scope="module")
def ring() -> crypto.KeyRing:
    return _ring(2048)


def _stamped(ring: crypto.KeyRing, secret: dict[str, Any] | None = None) -> dict[str, Any]:
    secret = secret or _secret()
    unsealmark.stamp(secret, ring, [ring.newest.fingerprint], INTENT)
    return secret


def test_the_mark_holds_for_the_secret_as_written(ring: crypto.KeyRing) -> None:
    secret = _stamped(ring)
    mark = secret["metadata"]["annotations"][unsealmark.MARK_ANNOTATION]
    assert mark.startswith(f"v1:{ring.newest.fingerprint}:") and len(mark.rsplit(":", 1)[1]) == 64
    assert unsealmark.holds(secret, ring, INTENT)
    assert unsealmark.holds(copy.deepcopy(secret), ring, INTENT)  # as read back: same content


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda s: s["data"].update(password=base64.b64encode(b"x").decode()), id="data"),
        pytest.param(lambda s: s["data"].update(extra="eA=="), id="added-key"),
        pytest.param(lambda s: s.update(type="kubernetes.io/tls"), id="type"),
        pytest.param(lambda s: s.update(immutable=True), id="immutable"),
        pytest.param(lambda s: s["metadata"]["labels"].update(app="other"), id="label"),
        pytest.param(lambda s: s["metadata"]["annotations"].pop("team"), id="annotation"),
        pytest.param(
            lambda s: s["metadata"]["annotations"].update({unsealmark.MARK_ANNOTATION: "v1:x:y"}), id="mark"
        ),
        pytest.param(lambda s: s["metadata"]["annotations"].pop(unsealmark.MARK_ANNOTATION), id="no-mark"),
    ],
)
def test_any_change_to_the_secret_breaks_the_mark(ring: crypto.KeyRing, change: Any) -> None:
    secret = _stamped(ring)
    change(secret)
    assert not unsealmark.holds(secret, ring, INTENT)


def test_another_intent_or_a_key_not_in_the_ring_breaks_the_mark(ring: crypto.KeyRing) -> None:
    secret = _stamped(ring)
    assert not unsealmark.holds(secret, ring, "b" * 64)  # the SealedSecret changed
    assert not unsealmark.holds(secret, _ring(4096), INTENT)  # that key was removed from the ring


def test_a_mark_copied_onto_other_data_or_made_without_the_key_does_not_hold(ring: crypto.KeyRing) -> None:
    good = _stamped(ring)
    forged = _secret(b"attacker's value")
    forged["metadata"]["annotations"][unsealmark.MARK_ANNOTATION] = good["metadata"]["annotations"][
        unsealmark.MARK_ANNOTATION
    ]
    assert not unsealmark.holds(forged, ring, INTENT)
    other = _ring(4096)  # an attacker's own key, with our fingerprint written in the mark
    tag = crypto.unsealed_mark(other.newest, INTENT, unsealmark.content(forged)).rsplit(":", 1)[1]
    forged["metadata"]["annotations"][unsealmark.MARK_ANNOTATION] = f"v1:{ring.newest.fingerprint}:{tag}"
    assert not unsealmark.holds(forged, ring, INTENT)


def test_a_secret_of_template_data_only_is_marked_with_the_newest_key(ring: crypto.KeyRing) -> None:
    secret = _secret()
    unsealmark.stamp(secret, ring, [], INTENT)
    assert unsealmark.holds(secret, ring, INTENT)
    empty = crypto.KeyRing()
    bare = _secret()
    unsealmark.stamp(bare, empty, [], INTENT)
    assert unsealmark.MARK_ANNOTATION not in bare["metadata"]["annotations"]
    assert not unsealmark.holds(bare, empty, INTENT)


def test_the_mark_shows_no_value_and_no_key_material(ring: crypto.KeyRing) -> None:
    secret = _stamped(ring, _secret(b"canary-unsealmark-Zq9"))
    mark = secret["metadata"]["annotations"][unsealmark.MARK_ANNOTATION]
    assert "canary" not in mark and base64.b64encode(b"canary-unsealmark-Zq9").decode() not in mark
    assert ring.newest.mark_key.hex() not in mark
