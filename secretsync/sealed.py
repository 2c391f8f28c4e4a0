"""Reconcile SealedSecrets into Secrets (no kopf here: the operator module feeds events in).

Flow per object: unseal every value with the key ring (the hinted key first,
RSA on a thread pool) -> render the template -> check ownership -> create or
replace the Secret only if it differs -> write status once, only if changed ->
post an event on a flip. A failure never touches an existing Secret.

Events that would cause no work are dropped cheaply: the controller remembers,
per SealedSecret uid, what it last reconciled (generation, labels and
annotations, key ring generation) and the resourceVersion of the Secret it last
wrote or checked, so its own status and Secret writes do not trigger new RSA work.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

from secretsync import kube, ownership, sealing, secretcheck, status, templating, unsealmark
from secretsync.errors import INTERNAL_REASON, OwnershipConflict, SpecError, TemplateError, unexpected
from secretsync.keys import KeyManager
from secretsync.metrics import Metrics
from secretsync.prefetch import SecretPrefetch
from secretsync.scheduler import Backoff, Scheduler

logger = logging.getLogger("secretsync.sealed")

GROUP_VERSION = sealing.API_VERSION
PLURAL = "sealedsecrets"
SKIP_OWNER_ANNOTATION = "sealedsecrets.bitnami.com/skip-set-owner-references"

Body = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The result of one reconcile: what status to show and whether to retry."""

    ready: bool
    reason: str
    message: str
    retry: bool = False  # retry with backoff (transient API trouble)
    waits_for_key: bool = False  # retried when the key ring changes
    action: str | None = None  # "created" / "updated" / None
    foreign: bool = False  # refused for a Secret that is not ours: looked at again (it is not watched)


_meta = kube.meta


def _ref(body: Mapping[str, Any]) -> str:
    meta = _meta(body)
    return f"{meta.get('namespace')}/{meta.get('name')}"


def skips_owner_reference(desired: Mapping[str, Any]) -> bool:
    """Bitnami's ``sealedsecrets.bitnami.com/skip-set-owner-references: "true"``: read from the
    template's annotations only (``spec.template.metadata``, which are the Secret's), exactly
    ``"true"`` (sealedsecret_expansion.go, ``Unseal``)."""
    annotations = _meta(desired).get("annotations")
    return isinstance(annotations, Mapping) and annotations.get(SKIP_OWNER_ANNOTATION) == "true"


def replace_secret(existing: Body, desired: Body) -> Body:
    """The Secret to write over ``existing``, as Bitnami's controller writes it (controller.go
    ``unseal``, the branch without ``patch``): data, labels, annotations and ownerReferences become
    the desired ones, so an adopted Secret keeps none of its own (its ``managed`` annotation goes
    too, unless the template has it). A controller ownerReference to the same owner is kept as
    stored, so a Secret whose reference Bitnami wrote (no ``blockOwnerDeletion``) is not rewritten
    for that alone."""
    out: Body = json.loads(json.dumps(existing))
    meta = out.setdefault("metadata", {})
    wanted = _meta(desired)
    for section in ("labels", "annotations"):
        entries = wanted.get(section)
        if entries:
            meta[section] = dict(entries)
        else:
            meta.pop(section, None)
    current = [r for r in meta.get("ownerReferences") or [] if isinstance(r, dict) and r.get("controller")]
    refs = [
        next((r for r in current if r.get("uid") == want.get("uid")), want)
        for want in wanted.get("ownerReferences") or []
    ]
    if refs:
        meta["ownerReferences"] = refs
    else:
        meta.pop("ownerReferences", None)
    out["data"] = desired.get("data") or {}
    out.pop("stringData", None)
    # What the spec asks for, even where the API server refuses the change (type, immutable):
    # secretcheck reports that as a spec to change, instead of a silent no-op or a retry loop.
    out["type"] = desired.get("type") or "Opaque"
    if desired.get("immutable"):
        out["immutable"] = True
    else:
        out.pop("immutable", None)
    return out


class SealedController:
    """Turns SealedSecret and Secret events into reconciles, one at a time per object."""

    def __init__(
        self,
        api: kube.KubeApi,
        keys: KeyManager,
        metrics: Metrics,
        executor: Executor,
        *,
        scheduler: Scheduler | None = None,
        backoff: Backoff | None = None,
        now: Callable[[], Any] | None = None,
        group_version: str = GROUP_VERSION,
        owns: Callable[[Mapping[str, Any]], bool] | None = None,
        prefetch: SecretPrefetch | None = None,
    ) -> None:
        self.api = api
        # Produced Secrets listed at start (secretsync.prefetch): a restart checks marks without a GET each.
        self.prefetch = prefetch or SecretPrefetch()
        # Sharding (secretsync.sharding): is this object in this instance's shard? A scheduled
        # retry reads the object again and drops it if it was relabelled to another shard.
        self.owns: Callable[[Mapping[str, Any]], bool] = owns or (lambda _: True)
        # secretsync.io's own SealedSecrets, or Bitnami's bitnami.com ones in compatibility mode
        # (--bitnami-compat): the same objects, with Bitnami's status (a Synced condition).
        self.group_version = group_version
        self.bitnami_status = group_version == sealing.BITNAMI_API_VERSION
        self.keys = keys
        self.metrics = metrics
        self.executor = executor
        self.scheduler = scheduler or Scheduler()
        self.backoff = backoff or Backoff(base=1.0, cap=300.0)
        self._locks: dict[str, asyncio.Lock] = {}
        self._done: dict[str, tuple[Any, ...]] = {}  # uid -> fingerprint of the last finished reconcile
        self._secret_rv: dict[str, str] = {}  # uid -> resourceVersion of the Secret as we last left it
        self._by_name: dict[tuple[str, str], str] = {}  # (namespace, name) -> uid
        self._waiting_for_key: set[tuple[str, str]] = set()
        # A Secret the operator does not own carries no watch label, so its changes (an adopting
        # annotation, its deletion) are not seen: a SealedSecret refused for it reads it again.
        self.recheck = Backoff(base=2.0, cap=60.0)

    # ------------------------------------------------------------------ events in

    async def on_sealed_event(self, event_type: str | None, body: Body) -> None:
        meta = _meta(body)
        uid, ns, name = str(meta.get("uid")), str(meta.get("namespace")), str(meta.get("name"))
        if event_type == "DELETED":
            self.forget(uid, ns, name)
            return
        if meta.get("deletionTimestamp"):
            return
        self._by_name[(ns, name)] = uid
        if self._done.get(uid) == self._fingerprint(body):
            return
        await self.reconcile(body)

    async def on_secret_event(self, event_type: str | None, secret: Body) -> None:
        """A Secret changed: if a SealedSecret of the same name produces it, check it still matches."""
        meta = _meta(secret)
        key = (str(meta.get("namespace")), str(meta.get("name")))
        uid = self._by_name.get(key)
        if uid is None or self.prefetch.awaited(event_type, secret):
            return
        if event_type != "DELETED" and self._secret_rv.get(uid) == meta.get("resourceVersion"):
            return  # our own write, or a state we already checked
        self._done.pop(uid, None)
        await self.reconcile_soon(*key)

    async def on_keys_changed(self) -> None:
        """Objects that failed for lack of a key get another chance with the new ring."""
        waiting, self._waiting_for_key = self._waiting_for_key, set()
        for ns, name in waiting:
            uid = self._by_name.get((ns, name))
            if uid:
                self._done.pop(uid, None)
            await self.reconcile_soon(ns, name)

    def forget(self, uid: str, ns: str, name: str) -> None:
        self._done.pop(uid, None)
        self._secret_rv.pop(uid, None)
        self._locks.pop(uid, None)
        self._waiting_for_key.discard((ns, name))
        if self._by_name.get((ns, name)) == uid:
            del self._by_name[(ns, name)]
        self.scheduler.cancel(("sealed", uid))
        self.scheduler.cancel(("sealed-foreign", uid))
        self.backoff.reset(uid)
        self.recheck.reset(uid)
        self.metrics.forget_object("SealedSecret", ns, name)

    async def reconcile_by_name(self, namespace: str, name: str) -> None:
        """Fetch the current SealedSecret (events may be stale) and reconcile it. An API error
        is raised: the scheduler runs the job again with backoff."""
        body = await self.api.get(kube.path_for(self.group_version, PLURAL, namespace, name))
        if body is not None and not self.owns(body):
            self.forget(str(_meta(body).get("uid")), namespace, name)  # another shard's now
            return
        if body is not None and not _meta(body).get("deletionTimestamp"):
            await self.reconcile(body)

    async def reconcile_soon(self, namespace: str, name: str) -> None:
        """Reconcile now; when the API fails on the way, retry with backoff instead of losing it."""
        uid = self._by_name.get((namespace, name), f"{namespace}/{name}")
        await self.scheduler.run_now(
            ("sealed", uid),
            lambda: self.reconcile_by_name(namespace, name),
            f"SealedSecret {namespace}/{name}",
        )

    # ------------------------------------------------------------------ reconcile

    def _fingerprint(self, body: Mapping[str, Any]) -> tuple[Any, ...]:
        return (_meta(body).get("generation"), status.intent_digest(body), self.keys.generation)

    async def reconcile(self, body: Body) -> Outcome:
        uid = str(_meta(body).get("uid"))
        lock = self._locks.setdefault(uid, asyncio.Lock())
        async with lock:
            fingerprint = self._fingerprint(body)
            started = time.perf_counter()
            try:
                outcome = await self._reconcile(body)
            except Exception as exc:  # a bug: still a status for this generation, never a value
                logger.error("SealedSecret %s: unexpected %s", _ref(body), type(exc).__name__)
                outcome = Outcome(False, INTERNAL_REASON, unexpected(exc), retry=True)
            self.metrics.reconcile_duration.labels(kind="SealedSecret").observe(time.perf_counter() - started)
            reported = await self._report(body, outcome)
            key = (str(_meta(body).get("namespace")), str(_meta(body).get("name")))
            if outcome.waits_for_key:
                self._waiting_for_key.add(key)
            else:
                self._waiting_for_key.discard(key)
            if outcome.foreign:
                ns, name = key
                delay = self.recheck.next_delay(uid)
                self.scheduler.schedule(("sealed-foreign", uid), delay, lambda: self._recheck(uid, ns, name))
            else:
                self.scheduler.cancel(("sealed-foreign", uid))
                self.recheck.reset(uid)
            if outcome.retry or not reported:
                self._done.pop(uid, None)
                delay = self.backoff.next_delay(uid)
                ns, name = key
                self.scheduler.schedule(("sealed", uid), delay, lambda: self.reconcile_by_name(ns, name))
            else:
                self.backoff.reset(uid)
                self._done[uid] = fingerprint
            return outcome

    async def _recheck(self, uid: str, namespace: str, name: str) -> None:
        """The Secret this SealedSecret was refused for (another's, unlabelled, not watched): if it
        changed (annotated managed, its controller gone) or is gone, reconcile; else look later."""
        if self._by_name.get((namespace, name)) != uid:
            return  # deleted meanwhile
        secret = await self.api.get(kube.path_for("v1", "secrets", namespace, name))
        if secret is not None and _meta(secret).get("resourceVersion") == self._secret_rv.get(uid):
            delay = self.recheck.next_delay(uid)
            self.scheduler.schedule(
                ("sealed-foreign", uid), delay, lambda: self._recheck(uid, namespace, name)
            )
            return
        self._done.pop(uid, None)
        await self.reconcile_by_name(namespace, name)

    async def _reconcile(self, body: Body) -> Outcome:
        loop = asyncio.get_running_loop()
        meta = _meta(body)
        ns, name = str(meta.get("namespace")), str(meta.get("name"))
        listed = await self.prefetch.take(ns, name)  # a copy from the list at start, or None
        if listed is not None and (verified := self._verified(body, listed)) is not None:
            return verified
        try:  # read it (again, when the listed copy did not verify: it is not written from)
            existing = await self.api.get(kube.path_for("v1", "secrets", ns, name))
        except kube.ApiError as exc:
            return Outcome(False, "ApiError", f"reading Secret {ns}/{name} failed: {exc}", retry=True)
        verified = self._verified(body, existing)
        if verified is not None:
            return verified
        self.metrics.unseal_requests.inc()
        try:
            result = await loop.run_in_executor(self.executor, sealing.unseal, body, self.keys.ring)
        except SpecError as exc:
            return Outcome(False, "InvalidSpec", f"{exc}; fix the SealedSecret manifest and re-apply it")
        if not result.ok:
            hint = (
                "re-seal it with the current certificate (secretsync fetch-cert | secretsync seal --cert -), "
                "and check that name, namespace and scope match what it was sealed for"
            )
            if not len(self.keys.ring):
                hint = "the operator has no active sealing key yet"
            return Outcome(False, "UnsealFailed", f"{result.message}. Fix: {hint}", waits_for_key=True)
        try:  # off the event loop: a template's time budget bounds a worker thread, not the loop
            rendered = await loop.run_in_executor(
                self.executor, templating.render, result.template_data, result.values
            )
            desired = sealing.build_secret(body, result, rendered_template_data=rendered)
        except TemplateError as exc:
            return Outcome(False, "TemplateFailed", f"spec.template.data: {exc}")
        except SpecError as exc:
            return Outcome(False, "InvalidSpec", str(exc))
        if skips_owner_reference(desired):
            # No ownerReference, as in Bitnami (the Secret outlives its SealedSecret); the mark
            # says whose it is, so later reconciles still update it and nobody else takes it.
            desired["metadata"].setdefault("annotations", {})[ownership.SEALED_OWNER_ANNOTATION] = (
                ownership.sealed_owner_mark(body)
            )
        else:
            desired["metadata"]["ownerReferences"] = [kube.controller_reference(body)]
        ownership.label_produced(desired)  # the operator's Secret watch selects this label
        try:
            return await self._write(
                body, desired, len(result.values) + len(rendered), result.fingerprints, existing
            )
        except kube.Invalid as exc:  # refused as invalid: the same write can never pass
            return Outcome(False, "InvalidSecret", f"the API server refused Secret {_ref(desired)}: {exc}")
        except kube.ApiError as exc:
            return Outcome(False, "ApiError", f"writing Secret {_ref(desired)} failed: {exc}", retry=True)

    def _verified(self, sealed: Body, secret: Body | None) -> Outcome | None:
        """Synced already, with no RSA operation (secretsync.unsealmark): the Secret is this
        SealedSecret's and its mark binds its current content to the current spec under a key of
        the ring (after a restart, or when a stale Secret event comes in). None: unseal."""
        meta = _meta(sealed)
        ns, name = str(meta.get("namespace")), str(meta.get("name"))
        if secret is None or not len(self.keys.ring):
            return None
        owner_mark = (_meta(secret).get("annotations") or {}).get(ownership.SEALED_OWNER_ANNOTATION)
        if not kube.is_controlled_by(secret, sealed) and owner_mark != ownership.sealed_owner_mark(sealed):
            return None
        if not unsealmark.holds(secret, self.keys.ring, status.intent_digest(sealed)):
            return None
        self._secret_rv[str(meta.get("uid"))] = _meta(secret).get("resourceVersion", "")
        self.metrics.unseal_verified.inc()
        previous = status.ready_of(
            sealed.get("status") if isinstance(sealed.get("status"), dict) else None,
            "Synced" if self.bitnami_status else status.READY,
        )
        if previous and previous.get("status") == "True" and previous.get("message"):
            message = str(previous["message"])
        else:
            message = f"unsealed {len(secret.get('data') or {})} keys into Secret {ns}/{name}"
        return Outcome(True, "Unsealed", message)

    async def _write(
        self, sealed: Body, desired: Body, count: int, fingerprints: Sequence[str], existing: Body | None
    ) -> Outcome:
        uid = str(_meta(sealed).get("uid"))
        ns, name = _meta(desired).get("namespace"), _meta(desired)["name"]
        path = kube.path_for("v1", "secrets", ns, name)
        done = f"unsealed {count} keys into Secret {ns}/{name}"
        intent = status.intent_digest(sealed)
        if existing is None:
            unsealmark.stamp(desired, self.keys.ring, fingerprints, intent)
            try:
                secretcheck.check(desired, None, f"Secret {ns}/{name}")
            except secretcheck.InvalidSecret as exc:
                return Outcome(False, exc.reason, f"{exc}; fix spec.template")
            try:
                created = await self.api.create(kube.path_for("v1", "secrets", ns), desired)
            except kube.Conflict:
                return Outcome(
                    False, "ApiError", f"Secret {ns}/{name} appeared while creating it", retry=True
                )
            self._secret_rv[uid] = _meta(created).get("resourceVersion", "")
            return Outcome(True, "Unsealed", done, action="created")
        try:
            stale = await self._stale_mark(existing, sealed)
        except kube.ApiError as exc:
            return Outcome(
                False, "ApiError", f"cannot tell whether Secret {ns}/{name} is another's: {exc}", retry=True
            )
        try:
            ownership.check_adopt(existing, sealed, ignore_mark=stale)
        except OwnershipConflict as exc:
            self._secret_rv[uid] = _meta(existing).get("resourceVersion", "")
            return Outcome(False, exc.reason, str(exc), foreign=True)
        merged = replace_secret(existing, desired)
        unsealmark.stamp(merged, self.keys.ring, fingerprints, intent)
        if kube.same_secret(existing, merged):
            self._secret_rv[uid] = _meta(existing).get("resourceVersion", "")
            return Outcome(True, "Unsealed", done)
        try:
            secretcheck.check(merged, existing, f"Secret {ns}/{name}")
        except secretcheck.InvalidSecret as exc:
            self._secret_rv[uid] = _meta(existing).get("resourceVersion", "")
            return Outcome(False, exc.reason, str(exc))
        try:
            replaced = await self.api.replace(path, merged)
        except kube.Conflict:
            return Outcome(False, "ApiError", f"Secret {ns}/{name} changed while updating it", retry=True)
        self._secret_rv[uid] = _meta(replaced).get("resourceVersion", "")
        return Outcome(True, "Unsealed", done, action="updated")

    async def _stale_mark(self, existing: Body, sealed: Body) -> bool:
        """Is the SealedSecret named by the Secret's mark (a skip-set-owner-references Secret) gone?

        Names are unique per API group: a mark of this group with another uid was left by a deleted
        SealedSecret of this name (``sealed`` is the one now). A mark of the other group (both are
        served in compatibility mode) stands while that SealedSecret exists with that uid."""
        mark = ownership.sealed_owner(existing)
        if mark is None or mark["uid"] == _meta(sealed).get("uid"):
            return False
        if mark["apiVersion"] == sealed.get("apiVersion"):
            return True
        meta = _meta(existing)
        other = await self.api.get(
            kube.path_for(mark["apiVersion"], PLURAL, meta.get("namespace"), meta["name"])
        )
        return other is None or _meta(other).get("uid") != mark["uid"]

    # ------------------------------------------------------------------ status, events, metrics

    async def _report(self, body: Body, outcome: Outcome) -> bool:
        """Status, metrics, events; False when the status could not be written (retried)."""
        meta = _meta(body)
        previous = body.get("status") if isinstance(body.get("status"), dict) else None
        if self.bitnami_status:
            new = status.build_synced(
                previous, ready=outcome.ready, message=outcome.message, generation=meta.get("generation")
            )
        else:
            new = status.build(
                previous,
                ready=outcome.ready,
                reason=outcome.reason,
                message=outcome.message,
                generation=meta.get("generation"),
            )
        ns, name = str(meta.get("namespace")), str(meta.get("name"))
        self.metrics.set_ready("SealedSecret", ns, name, outcome.ready)
        if not outcome.ready:
            self.metrics.unseal_errors.labels(reason=outcome.reason).inc()
            logger.warning("SealedSecret %s/%s: %s: %s", ns, name, outcome.reason, outcome.message)
        elif outcome.action:
            logger.info("SealedSecret %s/%s: Secret %s", ns, name, outcome.action)
        changed = new != previous
        if changed:
            try:
                # The uid is a precondition: a late reconcile of a deleted object must not write
                # its status onto a new object of the same name.
                await self.api.write_status(
                    kube.path_for(self.group_version, PLURAL, ns, name, "status"), str(meta.get("uid")), new
                )
            except (kube.NotFound, kube.Conflict):
                pass  # deleted or replaced meanwhile: nothing of this object's to report
            except kube.Invalid as exc:  # refused as such: no retry can mend it
                logger.error("the API server refuses the status of SealedSecret %s/%s: %s", ns, name, exc)
            except kube.ApiError as exc:
                logger.warning("cannot write status of SealedSecret %s/%s: %s", ns, name, exc)
                return False
        condition = "Synced" if self.bitnami_status else status.READY
        if outcome.ready and (status.flipped(previous, new, condition) or outcome.action):
            await kube.post_event(self.api, body, type_="Normal", reason="Unsealed", message=outcome.message)
        elif not outcome.ready and (changed or outcome.retry):
            await kube.post_event(
                self.api, body, type_="Warning", reason=outcome.reason, message=outcome.message
            )
        return True
