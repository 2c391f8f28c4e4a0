"""Leader election on a ``coordination.k8s.io/v1`` Lease, as client-go does it.

With ``--leader-elect`` every replica runs this; only the holder of the Lease
starts kopf. The holder renews the Lease every ``renew_every`` seconds; a
standby takes the Lease once it has not been renewed for ``lease_seconds``.
A holder that cannot renew in time stops reconciling (its process exits so the
pod restarts as a standby) rather than risk two active writers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket
import uuid
from typing import Any

from secretsync import kube

logger = logging.getLogger("secretsync.leader")

LEASE_NAME = "secretsync-operator"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _micro(ts: dt.datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(ts: str | None) -> dt.datetime | None:
    if not ts:
        return None
    try:
        return dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None


def default_identity() -> str:
    """Pod name (the hostname in a pod) plus a random suffix, unique per process."""
    return f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"


class LeaderElector:
    """Acquire, renew and release one Lease."""

    def __init__(
        self,
        api: kube.KubeApi,
        namespace: str,
        *,
        name: str = LEASE_NAME,
        identity: str | None = None,
        lease_seconds: int = 15,
        renew_every: float = 5.0,
        retry_every: float = 2.0,
    ) -> None:
        self.api = api
        self.namespace = namespace
        self.name = name
        self.identity = identity or default_identity()
        self.lease_seconds = lease_seconds
        self.renew_every = renew_every
        self.retry_every = retry_every
        self._path = kube.path_for("coordination.k8s.io/v1", "leases", namespace, name)
        self._collection = kube.path_for("coordination.k8s.io/v1", "leases", namespace)
        self._transitions = 0

    def _spec(self, acquire: bool, previous: dict[str, Any]) -> dict[str, Any]:
        now = _micro(_now())
        spec = dict(previous)
        spec.update(
            holderIdentity=self.identity,
            leaseDurationSeconds=self.lease_seconds,
            renewTime=now,
        )
        if acquire:
            spec["acquireTime"] = now
            spec["leaseTransitions"] = int(previous.get("leaseTransitions") or 0) + (1 if previous else 0)
        return spec

    def _expired(self, spec: dict[str, Any]) -> bool:
        if not spec.get("holderIdentity"):
            return True
        renewed = _parse(spec.get("renewTime")) or _parse(spec.get("acquireTime"))
        duration = int(spec.get("leaseDurationSeconds") or self.lease_seconds)
        return renewed is None or (_now() - renewed).total_seconds() > duration

    async def try_acquire_or_renew(self) -> bool:
        """One attempt. True if we hold the Lease afterwards. Conflicts mean someone else won."""
        try:
            lease = await self.api.get(self._path)
            if lease is None:
                body = {
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": {"name": self.name, "namespace": self.namespace},
                    "spec": self._spec(True, {}),
                }
                await self.api.create(self._collection, body)
                return True
            spec = lease.get("spec") or {}
            ours = spec.get("holderIdentity") == self.identity
            if not ours and not self._expired(spec):
                return False
            lease["spec"] = self._spec(not ours, spec)
            await self.api.replace(self._path, lease)
            return True
        except kube.Conflict:
            return False
        except kube.ApiError as exc:
            logger.warning("leader election: %s", exc)
            return False

    async def acquire(self) -> None:
        """Wait (as a standby) until we hold the Lease."""
        logger.info("leader election: %s waiting for lease %s/%s", self.identity, self.namespace, self.name)
        while not await self.try_acquire_or_renew():
            await asyncio.sleep(self.retry_every)
        logger.info("leader election: %s acquired lease %s/%s", self.identity, self.namespace, self.name)

    async def hold(self) -> None:
        """Renew until renewal fails for a whole lease period; then return (leadership lost)."""
        last_ok = asyncio.get_running_loop().time()
        while True:
            await asyncio.sleep(self.renew_every)
            if await self.try_acquire_or_renew():
                last_ok = asyncio.get_running_loop().time()
            elif asyncio.get_running_loop().time() - last_ok > self.lease_seconds - self.renew_every:
                logger.error("leader election: %s lost lease %s/%s", self.identity, self.namespace, self.name)
                return

    async def release(self) -> None:
        """Give the Lease up on a clean shutdown, so a standby takes over at once."""
        try:
            lease = await self.api.get(self._path)
            if lease and (lease.get("spec") or {}).get("holderIdentity") == self.identity:
                lease["spec"]["holderIdentity"] = None
                lease["spec"]["leaseDurationSeconds"] = 1
                await self.api.replace(self._path, lease)
                logger.info("leader election: %s released lease", self.identity)
        except kube.ApiError as exc:
            logger.warning("leader election: could not release the lease: %s", exc)
