"""One Secret, one writer: who may write an existing Secret, decided in one place for both controllers.

Two controllers writing one Secret never agree: each sees the other's write as drift and
writes again, forever (a SealedSecret and an ExternalSecret with ``creationPolicy: Merge`` on
one name did 3,880 writes in 10 s). The rules:

* A Secret with a controller ownerReference belongs to that controller. Nobody else writes it:
  not an ExternalSecret with ``Merge``, not a SealedSecret or ExternalSecret told to take it over.
* A SealedSecret told not to set an ownerReference (Bitnami's
  ``sealedsecrets.bitnami.com/skip-set-owner-references: "true"``) marks the Secret instead:
  ``secretsync.io/sealed-secret-owner: <apiVersion>/<uid>``. The mark counts as a controller
  (without garbage collection): nobody else writes the Secret while it stands. Only the
  SealedSecret path can tell a stale mark (its SealedSecret gone) and set it aside.
* ``secretsync.io/managed: "true"`` (or Bitnami's ``sealedsecrets.bitnami.com/managed``) lets a
  SealedSecret or ExternalSecret *adopt* a Secret that has no controller. It never takes a
  Secret away from a live controller.
* An ExternalSecret with ``creationPolicy: Orphan`` writes the Secret it created (named in
  ``secretsync.io/external-secret``), unless another controller has since adopted it.
* ``Merge`` writers add keys to a Secret nobody controls. Several may merge into one Secret as
  long as each key has one writer: the claims are kept in ``secretsync.io/merged-keys``
  (writer name -> keys), and a key claimed by another live ExternalSecret is refused.

A refusal is an :class:`~secretsync.errors.OwnershipConflict` whose message names the other
writer and the ways out; the refused object gets ``Ready=False`` and nothing is written.

Every Secret the operator writes (SealedSecret and ExternalSecret outputs, adopted and merged
ones too) carries the label ``secretsync.io/managed-secret: "true"``: the operator watches Secrets
through that label only (a server-side selector), so the cluster's other Secrets (Helm releases
of up to 1 MiB each, service account tokens) never reach it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from secretsync import kube, sealing
from secretsync.errors import OwnershipConflict

MANAGED_ANNOTATION = "secretsync.io/managed"
BITNAMI_MANAGED_ANNOTATION = "sealedsecrets.bitnami.com/managed"
OWNER_ANNOTATION = "secretsync.io/external-secret"
MERGED_KEYS_ANNOTATION = "secretsync.io/merged-keys"
SEALED_OWNER_ANNOTATION = "secretsync.io/sealed-secret-owner"
PRODUCED_LABEL = "secretsync.io/managed-secret"
PRODUCED_SELECTOR = f"{PRODUCED_LABEL}=true"
"""The label selector of the Secrets the operator watches: the ones it writes."""

Body = Mapping[str, Any]


def _annotations(secret: Body) -> Mapping[str, Any]:
    found = kube.meta(secret).get("annotations")
    return found if isinstance(found, Mapping) else {}


def is_labelled(secret: Body) -> bool:
    """Does the Secret carry :data:`PRODUCED_LABEL` (so the operator's watch sees it)?"""
    labels = kube.meta(secret).get("labels")
    return isinstance(labels, Mapping) and labels.get(PRODUCED_LABEL) == "true"


def label_produced(secret: dict[str, Any]) -> dict[str, Any]:
    """Put :data:`PRODUCED_LABEL` on a Secret about to be written (whatever a template said)."""
    metadata = secret.setdefault("metadata", {})
    labels = metadata.get("labels")
    metadata["labels"] = {**(labels if isinstance(labels, Mapping) else {}), PRODUCED_LABEL: "true"}
    return secret


def is_managed(secret: Body) -> bool:
    annotations = _annotations(secret)
    return "true" in (annotations.get(MANAGED_ANNOTATION), annotations.get(BITNAMI_MANAGED_ANNOTATION))


def sealed_owner_mark(sealed: Body) -> str:
    """The value of :data:`SEALED_OWNER_ANNOTATION` for the Secret ``sealed`` writes without an
    ownerReference: ``<apiVersion>/<uid>`` (the name is the Secret's own)."""
    return f"{sealed.get('apiVersion')}/{kube.meta(sealed).get('uid')}"


def sealed_owner(secret: Body) -> Mapping[str, Any] | None:
    """The SealedSecret the Secret's mark names, shaped like an ownerReference (``apiVersion``,
    ``kind``, ``name``, ``uid``, and ``mark: True``); None without a well-formed mark."""
    value = _annotations(secret).get(SEALED_OWNER_ANNOTATION)
    if not isinstance(value, str):
        return None
    api_version, _, uid = value.rpartition("/")
    if api_version not in sealing.SEALED_API_VERSIONS or not uid:
        return None
    name = kube.meta(secret).get("name")
    return {"apiVersion": api_version, "kind": sealing.KIND, "name": name, "uid": uid, "mark": True}


def foreign_controller(secret: Body, writer: Body, *, ignore_mark: bool = False) -> Mapping[str, Any] | None:
    """The Secret's controller if it is not ``writer``: its controller ownerReference or, without
    one, the SealedSecret its mark names (``ignore_mark``: the caller knows that one is gone)."""
    ref: Mapping[str, Any] | None = kube.controller_of(dict(secret))
    if ref is None and not ignore_mark:
        ref = sealed_owner(secret)
    if ref is None or ref.get("uid") == kube.meta(writer).get("uid"):
        return None
    return ref


def _describe(ref: Mapping[str, Any]) -> str:
    if ref.get("mark"):
        return (
            f"{ref.get('kind')} {ref.get('name')} (no ownerReference: annotation {SEALED_OWNER_ANNOTATION}"
            f"={ref.get('apiVersion')}/{ref.get('uid')}; remove it once that SealedSecret is gone)"
        )
    return f"{ref.get('kind')} {ref.get('name')}"


def controls(secret: Body, writer: Body) -> bool:
    """``writer`` controls the Secret: by a controller ownerReference, or by its mark."""
    if kube.is_controlled_by(dict(secret), dict(writer)):
        return True
    mark = sealed_owner(secret)
    return (
        kube.controller_of(dict(secret)) is None
        and mark is not None
        and mark["uid"] == kube.meta(writer).get("uid")
    )


def check_adopt(
    secret: Body,
    writer: Body,
    *,
    own_mark: bool = False,
    merge_hint: bool = False,
    ignore_mark: bool = False,
) -> None:
    """May ``writer`` (which wants to control the Secret) write it?

    Yes if it already controls it (:func:`controls`), or (``own_mark``: the Secret names it, e.g.
    Orphan's annotation) no other controller has it, or it is marked managed and nobody controls
    it. ``merge_hint``: the writer could merge instead (an ExternalSecret), so the message offers
    that too. ``ignore_mark``: the SealedSecret named by the Secret's mark is known to be gone.
    """
    if controls(secret, writer):
        return
    other = foreign_controller(secret, writer, ignore_mark=ignore_mark)
    where = f"Secret {kube.ref_of(dict(secret))}"
    if other is not None:
        raise OwnershipConflict(
            f"{where} is controlled by {_describe(other)}; two writers would overwrite each other, so "
            "it is left untouched. Fix: choose another target name, or delete the other object"
        )
    if own_mark or is_managed(secret):
        return
    merge = ", use creationPolicy Merge to add keys to it," if merge_hint else ""
    raise OwnershipConflict(
        f"{where} exists and is not managed by this {writer.get('kind')}; left untouched. Fix: delete "
        f"it, choose another target name{merge} or annotate it {MANAGED_ANNOTATION}=true to let it "
        "be adopted"
    )


def merged_keys(secret: Body) -> dict[str, list[str]]:
    """The key claims of Merge writers: writer name -> keys (malformed annotations count as none)."""
    try:
        parsed = json.loads(str(_annotations(secret).get(MERGED_KEYS_ANNOTATION) or "{}"))
    except ValueError:
        return {}
    if not isinstance(parsed, dict):
        return {}
    return {str(name): [str(k) for k in keys] for name, keys in parsed.items() if isinstance(keys, list)}


def check_merge(
    secret: Body, writer: Body, keys: Iterable[str], live_writers: Iterable[str]
) -> dict[str, list[str]]:
    """May ``writer`` merge ``keys`` into ``secret``? Returns the claims to store with the write.

    ``live_writers``: the names (in the Secret's namespace) of the ExternalSecrets that still exist
    among the other claimants; claims of deleted ones are dropped.
    """
    other = foreign_controller(secret, writer)
    where = f"Secret {kube.ref_of(dict(secret))}"
    if other is not None:
        raise OwnershipConflict(
            f"{where} is controlled by {_describe(other)}, which rewrites its data; merging into it "
            "would start a write loop, so it is left untouched. Fix: merge into another Secret, or "
            "add the keys to the controlling object"
        )
    me = str(kube.meta(writer).get("name"))
    alive = set(live_writers)
    claims = {name: ks for name, ks in merged_keys(secret).items() if name == me or name in alive}
    wanted = sorted(set(keys))
    for name, claimed in sorted(claims.items()):
        if name == me:
            continue
        shared = sorted(set(claimed) & set(wanted))
        if shared:
            raise OwnershipConflict(
                f"{where}: key {shared[0]!r} is already merged by ExternalSecret {name}; one key has one "
                "writer, so nothing was written. Fix: rename the key (secretKey or a template), or "
                "remove it from one of the two ExternalSecrets"
            )
    claims[me] = wanted
    return claims


def encode_claims(claims: Mapping[str, list[str]]) -> str:
    return json.dumps({name: claims[name] for name in sorted(claims)}, separators=(",", ":"))
