"""The unsealed mark: a Secret says, verifiably, which SealedSecret spec it was unsealed from.

Bitnami's controller decrypts every SealedSecret again each time it starts (users report 20-30
minutes for 4,000 of them). Here the operator writes an annotation on each Secret it unseals:
``v1:<key fingerprint>:<HMAC>`` over the SealedSecret's intent (a digest of its spec, labels and
annotations: ``status.intent_digest``) and the Secret's content as written (type, immutable, data,
labels, annotations but the mark itself), under a key derived from the private key that opened it
(:func:`secretsync.crypto.unsealed_mark`). A restarted operator that finds the mark holding for the
current SealedSecret and the current Secret knows the Secret is exactly what unsealing would write,
and does no RSA operation; anything else (the Secret edited or deleted meanwhile, the SealedSecret
changed, the key gone from the ring, no mark) takes the full path, which heals it.

The mark reveals nothing a reader of the Secret does not already have (it sits beside the values it
covers), and without the private key nobody can make one that holds: a tenant who writes a Secret
with a copied mark and other data gets it overwritten at the next start, as before.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from secretsync import crypto

MARK_ANNOTATION: Final = "secretsync.io/unsealed-from"


def content(secret: Mapping[str, Any]) -> bytes:
    """What the mark covers, canonical: type, immutable, data, labels, annotations but the mark."""
    meta = secret.get("metadata") if isinstance(secret.get("metadata"), Mapping) else {}
    annotations = dict(meta.get("annotations") or {})  # type: ignore[union-attr]
    annotations.pop(MARK_ANNOTATION, None)
    covered = {
        "type": secret.get("type") or "Opaque",
        "immutable": bool(secret.get("immutable")),
        "data": secret.get("data") or {},
        "labels": meta.get("labels") or {},  # type: ignore[union-attr]
        "annotations": annotations,
    }
    return json.dumps(covered, sort_keys=True, separators=(",", ":")).encode()


def stamp(secret: dict[str, Any], ring: crypto.KeyRing, fingerprints: Sequence[str], intent: str) -> None:
    """Put the mark on ``secret`` (as it is about to be written), under the first key that opened
    its values, or the newest key when it has none (a SealedSecret of template data only)."""
    entry = next((e for e in (ring.get(f) for f in fingerprints) if e is not None), None)
    if entry is None:
        if not len(ring):
            return
        entry = ring.newest
    mark = crypto.unsealed_mark(entry, intent, content(secret))
    secret.setdefault("metadata", {}).setdefault("annotations", {})[MARK_ANNOTATION] = mark


def holds(secret: Mapping[str, Any], ring: crypto.KeyRing, intent: str) -> bool:
    """Is ``secret`` exactly what the SealedSecret of ``intent`` was unsealed into, by a key of ``ring``?"""
    meta = secret.get("metadata") if isinstance(secret.get("metadata"), Mapping) else {}
    mark = (meta.get("annotations") or {}).get(MARK_ANNOTATION)  # type: ignore[union-attr]
    return isinstance(mark, str) and crypto.mark_holds(ring, mark, intent, content(secret))
