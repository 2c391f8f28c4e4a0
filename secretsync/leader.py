"""Leader election on a ``coordination.k8s.io/v1`` Lease, as client-go does it.

With ``--leader-elect`` every replica runs this; only the holder of the Lease
starts kopf. The holder renews the Lease every ``renew_every`` seconds and
retries a failed renewal every ``retry_every`` seconds. A holder that has not
renewed within ``renew_deadline`` seconds stops reconciling (its process exits
so the pod restarts as a standby) rather than risk two active writers; a holder
that sees another identity in the Lease stops at once.

How expiry is decided (client-go's ``observedRecord``/``observedTime``, see
k8s.io/client-go/tools/leaderelection/leaderelection.go): no replica trusts the
timestamps in the Lease, since they come from other machines' wall clocks. A
standby remembers the last Lease spec it read (the whole record: holder,
``renewTime``, ``acquireTime``, ``leaseDurationSeconds``, ``leaseTransitions``)
and the moment, on its own monotonic clock, when it first read that record.
Any change to the record restarts that moment. The Lease counts as expired only
once the same record has been seen unchanged for its ``leaseDurationSeconds``
of the standby's own time, or once it has no holder (a clean release). The
holder measures its ``renew_deadline`` on its own monotonic clock too, from
the moment it sent its last successful write, which is before any standby can
have seen that write; as ``renew_deadline`` is shorter than the lease duration,
the old holder has stopped before a standby takes over, whatever the wall
clocks say, as long as the clock *rates* differ by less than that ratio (1.5
with the defaults). Taking the Lease over increments ``leaseTransitions``;
``renewTime`` and ``acquireTime`` are still written as wall-clock times, for
humans only, and each renewal makes ``renewTime`` strictly later than the last
so that a renewal always changes the record.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from secretsync import kube

logger = logging.getLogger("secretsync.leader")

LEASE_NAME = "secretsync-operator"

Monotonic = Callable[[], float]
WallClock = Callable[[], dt.datetime]
Sleep = Callable[[float], Awaitable[None]]

_TICK = dt.timedelta(microseconds=1)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _micro(ts: dt.datetime) -> str:
    return ts.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(ts: Any) -> dt.datetime | None:
    if not ts or not isinstance(ts, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _duration(spec: dict[str, Any], default: int) -> int:
    try:
        return int(spec.get("leaseDurationSeconds") or default)
    except (TypeError, ValueError):
        return default


def _transitions(spec: dict[str, Any]) -> int:
    try:
        return int(spec.get("leaseTransitions") or 0)
    except (TypeError, ValueError):
        return 0


def default_identity() -> str:
    """Pod name (the hostname in a pod) plus a random suffix, unique per process."""
    return f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"


class LeaderElector:
    """Acquire, renew and release one Lease, deciding expiry on locally observed time only.

    ``monotonic``, ``wall`` and ``sleep`` are the clocks (injected by tests): ``monotonic`` for
    every decision, ``wall`` only for the timestamps written into the Lease, ``sleep`` for
    waiting (in ``monotonic`` seconds).
    """

    def __init__(
        self,
        api: kube.KubeApi,
        namespace: str,
        *,
        name: str = LEASE_NAME,
        identity: str | None = None,
        lease_seconds: int = 15,
        renew_deadline: float = 10.0,
        renew_every: float = 5.0,
        retry_every: float = 2.0,
        monotonic: Monotonic = time.monotonic,
        wall: WallClock = _now,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not 0 < retry_every < renew_deadline < lease_seconds:
            raise ValueError("leader election needs 0 < retry_every < renew_deadline < lease_seconds")
        if not 0 < renew_every < renew_deadline:
            raise ValueError("leader election needs 0 < renew_every < renew_deadline")
        self.api = api
        self.namespace = namespace
        self.name = name
        self.identity = identity or default_identity()
        self.lease_seconds = lease_seconds
        self.renew_deadline = renew_deadline
        self.renew_every = renew_every
        self.retry_every = retry_every
        self._monotonic = monotonic
        self._wall = wall
        self._sleep = sleep
        self._path = kube.path_for("coordination.k8s.io/v1", "leases", namespace, name)
        self._collection = kube.path_for("coordination.k8s.io/v1", "leases", namespace)
        # client-go's observedRecord / observedRawRecord / observedTime.
        self._observed: dict[str, Any] | None = None
        self._observed_raw: str | None = None
        self._observed_at = 0.0
        # When (monotonic) the write of our last successful acquire or renewal was sent.
        self._renewed_at: float | None = None

    # -- observation --------------------------------------------------------------------------

    def _observe(self, spec: dict[str, Any], at: float | None = None) -> None:
        """Remember ``spec``; the observed time restarts only if the record differs from the last."""
        raw = json.dumps(spec, sort_keys=True, default=str)
        if raw != self._observed_raw:
            if self._observed is not None and spec.get("holderIdentity") != self._observed.get(
                "holderIdentity"
            ):
                logger.info("leader election: lease holder is now %s", spec.get("holderIdentity") or "nobody")
            self._observed = dict(spec)
            self._observed_raw = raw
            self._observed_at = self._monotonic() if at is None else at

    def _observed_valid(self) -> bool:
        """Whether the last observed record is still within its lease, on our own clock."""
        if self._observed is None:
            return False
        duration = _duration(self._observed, self.lease_seconds)
        return self._monotonic() < self._observed_at + duration

    @property
    def observed_holder(self) -> str | None:
        """The holder in the last record we saw or wrote (``None``: none seen, or released)."""
        return (self._observed or {}).get("holderIdentity") or None

    @property
    def leading(self) -> bool:
        """True while our last successful write is younger than the renew deadline (our clock)."""
        return (
            self._renewed_at is not None
            and self.observed_holder == self.identity
            and self._monotonic() < self._renewed_at + self.renew_deadline
        )

    # -- one attempt --------------------------------------------------------------------------

    def _spec(self, previous: dict[str, Any]) -> dict[str, Any]:
        now = self._wall()
        spec = dict(previous)
        if previous.get("holderIdentity") == self.identity:
            # A renewal: keep acquireTime and leaseTransitions; renewTime must move forward so the
            # record changes even if our wall clock stood still or stepped back.
            last = _parse(previous.get("renewTime"))
            if last is not None and now <= last:
                now = last + _TICK
            spec.update(renewTime=_micro(now))
        else:
            stamp = _micro(now)
            spec.update(
                holderIdentity=self.identity,
                acquireTime=stamp,
                renewTime=stamp,
                leaseTransitions=_transitions(previous) + 1 if previous else 0,
            )
        spec["leaseDurationSeconds"] = self.lease_seconds
        return spec

    async def try_acquire_or_renew(self) -> bool:
        """One attempt. True if we hold the Lease afterwards. Conflicts mean someone else won."""
        try:
            lease = await self.api.get(self._path)
            if lease is None:
                fresh = self._spec({})
                body = {
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": {"name": self.name, "namespace": self.namespace},
                    "spec": fresh,
                }
                sent = self._monotonic()
                created = await self.api.create(self._collection, body)
                self._won(created, fresh, sent)
                return True
            spec = lease.get("spec") or {}
            self._observe(spec)
            ours = spec.get("holderIdentity") == self.identity
            if not ours and spec.get("holderIdentity") and self._observed_valid():
                return False
            lease["spec"] = self._spec(spec)
            sent = self._monotonic()
            replaced = await self.api.replace(self._path, lease)
            self._won(replaced, lease["spec"], sent)
            return True
        except kube.Conflict:
            return False
        except kube.ApiError as exc:
            logger.warning("leader election: %s", exc)
            return False

    def _won(self, stored: dict[str, Any] | None, written: dict[str, Any], sent: float) -> None:
        spec = (stored or {}).get("spec") if isinstance(stored, dict) else None
        self._observe(spec if isinstance(spec, dict) and spec else written)
        self._renewed_at = sent

    # -- loops --------------------------------------------------------------------------------

    async def acquire(self) -> None:
        """Wait (as a standby) until we hold the Lease."""
        logger.info("leader election: %s waiting for lease %s/%s", self.identity, self.namespace, self.name)
        while not await self.try_acquire_or_renew():
            # jittered, as client-go's JitterUntil(retryPeriod, 1.2): standbys do not retry in step
            await self._sleep(self.retry_every * (1 + random.uniform(0, 1.2)))
        logger.info("leader election: %s acquired lease %s/%s", self.identity, self.namespace, self.name)

    async def _attempt(self, budget: float) -> bool:
        """One renewal, abandoned after ``budget`` seconds of our clock (a hung request)."""
        attempt = asyncio.ensure_future(self.try_acquire_or_renew())
        timer = asyncio.ensure_future(self._sleep(budget))
        try:
            await asyncio.wait({attempt, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            if not attempt.done():
                attempt.cancel()
        return attempt.done() and not attempt.cancelled() and attempt.result()

    async def hold(self) -> None:
        """Renew until the renew deadline passes without a renewal, or another holder is seen;
        then return (leadership lost). Must follow a successful :meth:`acquire`."""
        if self._renewed_at is None:
            raise RuntimeError("hold() before acquire()")
        due = self._renewed_at + self.renew_every
        while True:
            now = self._monotonic()
            deadline = self._renewed_at + self.renew_deadline
            if now >= deadline:
                logger.error(
                    "leader election: %s could not renew lease %s/%s within %ss",
                    self.identity,
                    self.namespace,
                    self.name,
                    self.renew_deadline,
                )
                return
            if now < due:
                await self._sleep(min(due, deadline) - now)
                continue
            if await self._attempt(deadline - now):
                due = self._renewed_at + self.renew_every
                continue
            if self.observed_holder != self.identity:
                logger.error(
                    "leader election: %s lost lease %s/%s to %s",
                    self.identity,
                    self.namespace,
                    self.name,
                    self.observed_holder or "nobody",
                )
                return
            due = self._monotonic() + self.retry_every

    async def release(self) -> None:
        """Give the Lease up on a clean shutdown, so a standby takes over at once."""
        try:
            lease = await self.api.get(self._path)
            spec = (lease or {}).get("spec") or {}
            if lease and spec.get("holderIdentity") == self.identity:
                stamp = _micro(self._wall())
                lease["spec"] = {
                    **spec,
                    "holderIdentity": None,
                    "leaseDurationSeconds": 1,
                    "renewTime": stamp,
                    "acquireTime": stamp,
                }
                await self.api.replace(self._path, lease)
                self._renewed_at = None
                logger.info("leader election: %s released lease", self.identity)
        except kube.ApiError as exc:
            logger.warning("leader election: could not release the lease: %s", exc)
