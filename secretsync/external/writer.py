"""Writing an ExternalSecret's Secret: creationPolicy, ownership, and only what changed.

* ``Owner`` / ``Orphan``: the Secret holds exactly the desired data; labels and annotations
  the ExternalSecret set last time and no longer asks for are removed (ESO does this through
  managedFields; here the keys are listed in ``secretsync.io/managed-metadata``), others' stay.
* ``Merge``: the desired keys are added to a Secret that must exist; keys this ExternalSecret
  merged before and no longer produces are removed (its claims in ``secretsync.io/merged-keys``).
* ``None``: nothing is written.

Ownership (who may write an existing Secret) is :mod:`secretsync.ownership`'s; what the API
server would refuse is :mod:`secretsync.secretcheck`'s, checked before the write.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, Final

from secretsync import kube, model, ownership, secretcheck
from secretsync.external.outcome import Flavor, Outcome, data_hash
from secretsync.external.render import Desired

DATA_HASH: Final = "secretsync.io/data-hash"
MANAGED_METADATA: Final = "secretsync.io/managed-metadata"
OWNER_ANNOTATION: Final = ownership.OWNER_ANNOTATION

Body = dict[str, Any]
_meta = kube.meta


def managed_metadata(secret: Body) -> dict[str, list[str]]:
    """The label and annotation keys the ExternalSecret wrote last time (malformed: none)."""
    try:
        parsed = json.loads(str((_meta(secret).get("annotations") or {}).get(MANAGED_METADATA) or "{}"))
    except ValueError:
        return {}
    if not isinstance(parsed, dict):
        return {}
    return {
        k: [str(x) for x in v]
        for k, v in parsed.items()
        if k in ("labels", "annotations") and isinstance(v, list)
    }


def is_intact(secret: Body | None, spec: model.ExternalSecretSpec) -> bool:
    """ESO's isSecretValid: the Secret exists and its data is what was last written (Orphan and
    None: always, as in ESO, since the operator does not keep those Secrets)."""
    if spec.target.creation_policy in ("None", "Orphan"):
        return True
    if secret is None:
        return False
    return bool(
        (_meta(secret).get("annotations") or {}).get(DATA_HASH) == data_hash(secret.get("data") or {})
    )


class SecretWriter:
    """Creates, updates and deletes target Secrets for one controller."""

    def __init__(
        self,
        api: kube.KubeApi,
        flavor: Flavor,
        remember: Callable[[str, str], None],
        retry: Callable[[str], float],
    ) -> None:
        self.api = api
        self.flavor = flavor
        self.remember = remember  # (namespace/ExternalSecret name, resourceVersion written)
        self.retry = retry  # backoff delay for a key

    def body(self, spec: model.ExternalSecretSpec, desired: Desired) -> Body:
        encoded = {k: base64.b64encode(v).decode("ascii") for k, v in desired.data.items()}
        annotations = dict(desired.annotations)
        annotations[DATA_HASH] = data_hash(encoded)
        managed = {
            section: sorted(keys)
            for section, keys in (("labels", desired.labels), ("annotations", desired.annotations))
            if keys
        }
        if managed:
            annotations[MANAGED_METADATA] = json.dumps(managed, separators=(",", ":"))
        secret: Body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": spec.target.name,
                "labels": dict(desired.labels),
                "annotations": annotations,
            },
            "data": encoded,
        }
        if desired.type:
            secret["type"] = desired.type
        if spec.target.immutable:
            secret["immutable"] = True
        return secret

    async def write(self, body: Body, spec: model.ExternalSecretSpec, desired: Desired) -> Outcome:
        meta = _meta(body)
        ns, name = str(meta.get("namespace")), str(meta.get("name"))
        uid = str(meta.get("uid"))
        target = spec.target.name
        path = kube.path_for("v1", "secrets", ns, target)
        policy = spec.target.creation_policy
        count = len(desired.data)
        done = f"synced {count} keys into Secret {ns}/{target}"
        if policy == "None":
            return Outcome(
                True,
                "SecretSynced",
                f"fetched {count} keys (creationPolicy None: no Secret written)",
                synced=True,
            )
        wanted = self.body(spec, desired)
        # Not one of the ExternalSecret's managed-metadata keys: the label stays on while anyone writes.
        ownership.label_produced(wanted)
        existing = await self.api.get(path)
        wanted["metadata"]["namespace"] = ns
        if policy == "Owner":
            wanted["metadata"]["ownerReferences"] = [kube.controller_reference(body)]
        elif policy == "Orphan":
            wanted["metadata"]["annotations"][OWNER_ANNOTATION] = f"{ns}/{name}"
        if existing is None:
            if policy == "Merge":
                return Outcome(
                    False,
                    "SecretMissing",
                    f"Secret {ns}/{target} does not exist and creationPolicy Merge only adds keys to an "
                    "existing Secret",
                    retry=self.retry(uid),
                )
            wanted.setdefault("type", "Opaque")
            secretcheck.check(wanted, None, f"Secret {ns}/{target}")
            try:
                created = await self.api.create(kube.path_for("v1", "secrets", ns), wanted)
            except kube.Conflict:
                return Outcome(
                    False,
                    "ApiError",
                    f"Secret {ns}/{target} appeared while creating it",
                    retry=self.retry(uid),
                )
            self.remember(f"{ns}/{name}", _meta(created).get("resourceVersion", ""))
            return Outcome(True, "SecretSynced", done, action="Created", synced=True)
        previous_claims: list[str] = []
        if policy == "Merge":
            claims_now = ownership.merged_keys(existing)
            previous_claims = claims_now.get(name, [])
            others = [n for n in claims_now if n != name]
            live = [n for n in others if await self.api.get(self._es_path(ns, n))]
            claims = ownership.check_merge(existing, body, wanted["data"], live)
            wanted["metadata"]["annotations"][ownership.MERGED_KEYS_ANNOTATION] = ownership.encode_claims(
                claims
            )
        else:
            mine = (_meta(existing).get("annotations") or {}).get(OWNER_ANNOTATION) == f"{ns}/{name}"
            ownership.check_adopt(existing, body, own_mark=policy == "Orphan" and mine, merge_hint=True)
        merged = merge(existing, wanted, policy, previous_claims)
        if kube.same_secret(existing, merged):
            self.remember(f"{ns}/{name}", _meta(existing).get("resourceVersion", ""))
            return Outcome(True, "SecretSynced", done, synced=True)
        secretcheck.check(merged, existing, f"Secret {ns}/{target}")
        try:
            replaced = await self.api.replace(path, merged)
        except kube.Conflict:
            return Outcome(
                False, "ApiError", f"Secret {ns}/{target} changed while updating it", retry=self.retry(uid)
            )
        self.remember(f"{ns}/{name}", _meta(replaced).get("resourceVersion", ""))
        return Outcome(True, "SecretSynced", done, action="Updated", synced=True)

    async def relabel(self, body: Body, spec: model.ExternalSecretSpec, secret: Body) -> bool:
        """Put the watch label on an intact Secret written by an older version without it (the
        refresh is not due, so nothing else would write it): one update, no fetch. True when done;
        False (the caller syncs in full instead) when the Secret is not plainly this
        ExternalSecret's or the update failed."""
        meta = _meta(body)
        ns, name = str(meta.get("namespace")), str(meta.get("name"))
        if spec.target.creation_policy == "Merge":
            ours = (
                name in ownership.merged_keys(secret) and ownership.foreign_controller(secret, body) is None
            )
        else:
            ours = kube.is_controlled_by(secret, body)
        if not ours:
            return False
        try:
            relabelled = await self.api.replace(
                kube.path_for("v1", "secrets", ns, spec.target.name),
                ownership.label_produced(json.loads(json.dumps(secret))),
            )
        except kube.ApiError:
            return False
        self.remember(f"{ns}/{name}", _meta(relabelled).get("resourceVersion", ""))
        return True

    def _es_path(self, ns: str, name: str) -> str:
        return kube.path_for(self.flavor.group_version, self.flavor.es_plural, ns, name)

    async def delete_target(self, body: Body, spec: model.ExternalSecretSpec) -> Outcome:
        ns = str(_meta(body).get("namespace"))
        target = spec.target.name
        path = kube.path_for("v1", "secrets", ns, target)
        existing = await self.api.get(path)
        message = "every remote secret is gone; Secret deleted (deletionPolicy Delete)"
        if existing is not None and kube.is_controlled_by(existing, body):
            emeta = _meta(existing)
            try:  # the Secret as read: not one re-created or changed since (409 otherwise)
                await self.api.delete(
                    path, uid=emeta.get("uid"), resource_version=emeta.get("resourceVersion")
                )
            except kube.Conflict:
                return Outcome(
                    False,
                    "ApiError",
                    f"Secret {ns}/{target} changed while deleting it",
                    retry=self.retry(str(_meta(body).get("uid"))),
                )
            return Outcome(False, "SecretDeleted", f"{message}: {ns}/{target}", action="Deleted", synced=True)
        if existing is not None:  # another's (no controller reference to this ExternalSecret): kept
            return Outcome(
                False,
                "SecretDeleted",
                f"every remote secret is gone; Secret {ns}/{target} is not this ExternalSecret's "
                "(it has no controller reference to it), so it was left in place",
                synced=True,
            )
        return Outcome(
            False,
            "SecretDeleted",
            f"every remote secret is gone; no Secret {ns}/{target} to delete",
            synced=True,
        )


def merge(existing: Body, wanted: Body, policy: str, previous_claims: list[str]) -> Body:
    """``existing`` updated to ``wanted`` as ``policy`` says; others' labels and annotations stay."""
    out: Body = json.loads(json.dumps(existing))
    meta = out.setdefault("metadata", {})
    wmeta = wanted["metadata"]
    stale = managed_metadata(existing)
    for section in ("labels", "annotations"):
        kept = {k: v for k, v in (meta.get(section) or {}).items() if k not in stale.get(section, [])}
        if section == "annotations":
            kept.pop(MANAGED_METADATA, None)
        kept.update(wmeta.get(section) or {})
        if kept:
            meta[section] = kept
        else:
            meta.pop(section, None)
    if policy == "Merge":
        data = {k: v for k, v in (existing.get("data") or {}).items() if k not in previous_claims}
        data.update(wanted["data"])
        meta.setdefault("annotations", {})[DATA_HASH] = data_hash(data)
        out["data"] = data
    else:
        # What the spec asks for, even where the API server refuses the change (type, immutable):
        # secretcheck reports it as a spec to change, not a silent no-op or a retry loop.
        out["data"] = wanted["data"]
        out["type"] = wanted.get("type") or existing.get("type") or "Opaque"
        if wanted.get("immutable"):
            out["immutable"] = True
        else:
            out.pop("immutable", None)
    if wmeta.get("ownerReferences"):
        refs = [r for r in meta.get("ownerReferences") or [] if not r.get("controller")]
        meta["ownerReferences"] = refs + wmeta["ownerReferences"]
    return out
