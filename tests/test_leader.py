"""Lease leader election on observed time (client-go's observedRecord/observedTime), with injected
clocks: every replica has its own fake monotonic clock (with its own rate) and its own fake wall clock
(skewed by minutes or hours), all driven by one simulated "true" time. Nothing here sleeps for real."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from secretsync import kube
from secretsync.leader import LeaderElector

NS = "secretsync-system"
LEASE_PATH = kube.path_for("coordination.k8s.io/v1", "leases", NS, "secretsync-operator")
EPOCH = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


class Sim:
    """One simulated true time and the sleepers waiting on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def sleeper(self, rate: float) -> Callable[[float], Any]:
        async def sleep(seconds: float) -> None:
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiters, (self.now + max(seconds, 0.0) / rate, next(self._seq), fut))
            await fut

        return sleep

    @staticmethod
    async def settle() -> None:
        for _ in range(50):
            await asyncio.sleep(0)

    async def run_until(self, end: float, check: Callable[[], None] | None = None) -> None:
        """Advance true time to ``end``, waking sleepers in order; ``check`` runs after every step."""
        while True:
            await self.settle()
            if check is not None:
                check()
            while self._waiters and self._waiters[0][2].done():
                heapq.heappop(self._waiters)
            if not self._waiters or self._waiters[0][0] > end:
                self.now = end
                await self.settle()
                if check is not None:
                    check()
                return
            when, _, fut = heapq.heappop(self._waiters)
            self.now = max(self.now, when)
            fut.set_result(None)


class FakeLeases:
    """The Lease as the API server keeps it: resourceVersion checks on every write."""

    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        self.lease: dict[str, Any] | None = None
        self.rv = 0
        self.writes: list[tuple[float, dict[str, Any]]] = []  # (true time, spec) of every stored write

    def store(self, spec: dict[str, Any]) -> dict[str, Any]:
        self.rv += 1
        self.lease = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "secretsync-operator", "namespace": NS, "resourceVersion": str(self.rv)},
            "spec": {k: v for k, v in spec.items() if v is not None},
        }
        self.writes.append((self.sim.now, copy.deepcopy(self.lease["spec"])))
        return copy.deepcopy(self.lease)

    @property
    def spec(self) -> dict[str, Any]:
        assert self.lease is not None
        return cast(dict[str, Any], self.lease["spec"])

    def last_change(self) -> float:
        return self.writes[-1][0]


@dataclass
class Link:
    """One replica's connection to the API server: can fail or hang on demand."""

    leases: FakeLeases
    broken: bool = False
    hang: bool = False

    async def _gate(self) -> None:
        if self.hang:
            await asyncio.get_running_loop().create_future()  # never answers
        if self.broken:
            raise kube.ApiError(0, "Unreachable", "partitioned")

    async def get(self, path: str) -> dict[str, Any] | None:
        await self._gate()
        assert path == LEASE_PATH
        return copy.deepcopy(self.leases.lease)

    async def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        await self._gate()
        if self.leases.lease is not None:
            raise kube.Conflict(409, "AlreadyExists", "lease exists")
        return self.leases.store(body["spec"])

    async def replace(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        await self._gate()
        assert path == LEASE_PATH and self.leases.lease is not None
        if body["metadata"].get("resourceVersion") != self.leases.lease["metadata"]["resourceVersion"]:
            raise kube.Conflict(409, "Conflict", "the object has been modified")
        return self.leases.store(body["spec"])


@dataclass
class Replica:
    """A replica with its own clocks; ``active`` is what the operator does: reconcile between a
    successful acquire() and the return of hold()."""

    sim: Sim
    leases: FakeLeases
    name: str
    rate: float = 1.0  # its monotonic clock runs this fast against true time
    skew: float = 0.0  # its wall clock is this many seconds ahead of true time
    mono_offset: float = 1000.0
    wall_fn: Callable[[float], dt.datetime] | None = None
    link: Link = field(init=False)
    elector: LeaderElector = field(init=False)
    active: bool = False
    started: list[float] = field(default_factory=list)
    stopped: list[float] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.link = Link(self.leases)
        self.elector = LeaderElector(
            cast(kube.KubeApi, self.link),
            NS,
            identity=self.name,
            monotonic=lambda: self.mono_offset + self.rate * self.sim.now,
            wall=self.wall,
            sleep=self.sim.sleeper(self.rate),
        )

    def wall(self) -> dt.datetime:
        if self.wall_fn is not None:
            return self.wall_fn(self.sim.now)
        return EPOCH + dt.timedelta(seconds=self.sim.now + self.skew)

    def start(self) -> Replica:
        async def life() -> None:
            await self.elector.acquire()
            self.active = True
            self.started.append(self.sim.now)
            await self.elector.hold()
            self.active = False
            self.stopped.append(self.sim.now)

        self.task = asyncio.ensure_future(life())
        return self

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


def never_two_leaders(*replicas: Replica) -> Callable[[], None]:
    def check() -> None:
        active = [r.name for r in replicas if r.active]
        assert len(active) <= 1, f"two active leaders: {active}"
        leading = [r.name for r in replicas if r.elector.leading]
        assert len(leading) <= 1, f"two replicas believe they lead: {leading}"

    return check


def world() -> tuple[Sim, FakeLeases]:
    sim = Sim()
    return sim, FakeLeases(sim)


# -- clock skew ----------------------------------------------------------------------------------

SKEWS = [
    pytest.param(0.0, 0.0, id="no-skew"),
    pytest.param(+300.0, -300.0, id="holder-5min-ahead"),
    pytest.param(-300.0, +300.0, id="holder-5min-behind"),
    pytest.param(-3600.0, 0.0, id="holder-1h-behind"),
    pytest.param(+86400.0, 0.0, id="holder-1d-ahead"),
]


@pytest.mark.parametrize(("skew_a", "skew_b"), SKEWS)
async def test_wall_clock_skew_never_gives_two_leaders(skew_a: float, skew_b: float) -> None:
    sim, leases = world()
    a = Replica(sim, leases, "a", skew=skew_a).start()
    await sim.run_until(1.0)
    b = Replica(sim, leases, "b", skew=skew_b).start()
    check = never_two_leaders(a, b)
    await sim.run_until(600.0, check)
    assert a.active and not b.active and not b.started
    assert leases.spec["holderIdentity"] == "a"
    assert leases.spec["leaseTransitions"] == 0
    await a.stop()
    await b.stop()


@pytest.mark.parametrize(("skew_a", "skew_b"), SKEWS)
@pytest.mark.parametrize(
    ("rate_a", "rate_b"),
    [pytest.param(1.0, 1.0, id="same-rate"), pytest.param(0.9, 1.1, id="slow-holder-fast-standby")],
)
async def test_holder_that_stops_renewing_is_taken_over_after_observed_lease_duration(
    skew_a: float, skew_b: float, rate_a: float, rate_b: float
) -> None:
    """The holder is cut off from the API server: the standby takes over after 15 s of its own time
    since it saw the last renewal, whatever the holder's renewTime says; the holder has stopped first."""
    sim, leases = world()
    a = Replica(sim, leases, "a", skew=skew_a, rate=rate_a).start()
    await sim.run_until(1.0)
    b = Replica(sim, leases, "b", skew=skew_b, rate=rate_b).start()
    check = never_two_leaders(a, b)
    await sim.run_until(100.0, check)
    a.link.broken = True
    await sim.run_until(200.0, check)
    last_renewal = max(t for t, spec in leases.writes if spec["holderIdentity"] == "a")
    assert a.stopped and a.stopped[0] <= last_renewal + 10.0 / rate_a + 1e-6
    assert b.active and b.started
    taken = b.started[0]
    # B first saw A's last record at its next poll (every 2 s of B-time, jittered up to 2.2 times
    # that, as client-go's) after the write, counted 15 s of its own time from then, and took the
    # Lease at its first poll after that.
    observed_wait = (taken - last_renewal) * rate_b
    assert 15.0 <= observed_wait <= 15.0 + 2 * 2.0 * 2.2 + 1e-6
    assert a.stopped[0] < taken
    assert leases.spec["holderIdentity"] == "b"
    assert leases.spec["leaseTransitions"] == 1
    await a.stop()
    await b.stop()


async def test_a_fresh_standby_waits_a_full_lease_even_for_an_ancient_record() -> None:
    """A record left by a dead holder, with a renewTime from last year: a new candidate still waits the
    full lease duration from when it first saw it (client-go: a new set of clients must wait)."""
    sim, leases = world()
    leases.store(
        {
            "holderIdentity": "dead",
            "leaseDurationSeconds": 15,
            "renewTime": "2029-01-01T00:00:00.000000Z",
            "acquireTime": "2029-01-01T00:00:00.000000Z",
            "leaseTransitions": 4,
        }
    )
    await sim.run_until(10.0)
    b = Replica(sim, leases, "b").start()
    await sim.run_until(24.9)
    assert not b.active
    await sim.run_until(40.0)
    assert b.started and 25.0 <= b.started[0] <= 25.0 + 2 * 2.2 + 0.1  # next poll: jittered up to 2.2x 2 s
    assert leases.spec["leaseTransitions"] == 5
    await b.stop()


# -- a record that keeps changing ----------------------------------------------------------------


def _change_forever(field_name: str) -> Callable[[int, dict[str, Any]], dict[str, Any]]:
    def change(n: int, spec: dict[str, Any]) -> dict[str, Any]:
        if field_name == "renewTime":  # renewed from a wall clock a day behind
            spec["renewTime"] = (EPOCH - dt.timedelta(days=1, seconds=-n)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        elif field_name == "holderIdentity":
            spec["holderIdentity"] = f"other-{n % 2}"
        elif field_name == "leaseTransitions":
            spec["leaseTransitions"] = n
        return spec

    return change


@pytest.mark.parametrize("changing", ["renewTime", "holderIdentity", "leaseTransitions"])
async def test_a_record_that_keeps_changing_is_never_taken_over(changing: str) -> None:
    sim, leases = world()
    base = {
        "holderIdentity": "other-0",
        "leaseDurationSeconds": 15,
        "renewTime": "2000-01-01T00:00:00.000000Z",
        "acquireTime": "2000-01-01T00:00:00.000000Z",
        "leaseTransitions": 0,
    }
    leases.store(base)
    change = _change_forever(changing)
    writing = True

    async def writer() -> None:
        sleep = sim.sleeper(1.0)
        n = 0
        while writing:
            await sleep(7.0)
            n += 1
            leases.store(change(n, dict(leases.spec)))

    w = asyncio.ensure_future(writer())
    b = Replica(sim, leases, "b", rate=1.1).start()
    await sim.run_until(600.0)
    assert not b.started
    writing = False
    await sim.run_until(700.0)
    last_change = max(t for t, spec in leases.writes if spec["holderIdentity"] != "b")
    # seen at a poll (2 s, jittered up to 2.2 times that), 15 s counted, taken at the next poll
    assert b.started and last_change + 15.0 / 1.1 <= b.started[0] <= last_change + (15.0 + 2 * 4.4) / 1.1
    assert leases.spec["holderIdentity"] == "b"
    w.cancel()
    await b.stop()


# -- the holder's side ---------------------------------------------------------------------------


@pytest.mark.parametrize("failure", ["error", "hang"])
async def test_holder_steps_down_at_the_renew_deadline_on_its_own_clock(failure: str) -> None:
    sim, leases = world()
    a = Replica(sim, leases, "a", rate=1.25, skew=-7200.0).start()
    await sim.run_until(50.0)
    assert a.active
    if failure == "hang":
        a.link.hang = True
    else:
        a.link.broken = True
    await sim.run_until(100.0)
    last_sent = max(t for t, spec in leases.writes if spec["holderIdentity"] == "a")
    assert a.stopped and a.stopped[0] == pytest.approx(last_sent + 10.0 / 1.25)
    assert not a.elector.leading
    await a.stop()


async def test_holder_steps_down_at_once_when_someone_else_holds_the_lease() -> None:
    sim, leases = world()
    a = Replica(sim, leases, "a").start()
    await sim.run_until(50.0)
    leases.store({**leases.spec, "holderIdentity": "intruder"})
    await sim.run_until(60.0)
    assert a.stopped and a.stopped[0] <= 50.0 + 5.0 + 1e-6
    assert a.elector.observed_holder == "intruder"
    await a.stop()


@pytest.mark.parametrize(
    "wall_fn",
    [
        pytest.param(lambda t: EPOCH, id="frozen"),
        pytest.param(lambda t: EPOCH + dt.timedelta(seconds=t if t < 60 else t - 3600), id="steps-back-1h"),
    ],
)
async def test_a_renewal_always_changes_the_record(wall_fn: Callable[[float], dt.datetime]) -> None:
    """A holder whose wall clock stands still or steps back still renews visibly: renewTime always
    moves forward, so the standby never sees an unchanged record from a live holder."""
    sim, leases = world()
    a = Replica(sim, leases, "a", wall_fn=wall_fn).start()
    await sim.run_until(1.0)
    b = Replica(sim, leases, "b").start()
    await sim.run_until(300.0, never_two_leaders(a, b))
    assert a.active and not b.started
    stamps = [spec["renewTime"] for _, spec in leases.writes]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    await a.stop()
    await b.stop()


# -- leaseTransitions, acquireTime, release ------------------------------------------------------


async def test_lease_transitions_and_acquire_time() -> None:
    sim, leases = world()
    a = Replica(sim, leases, "a").start()
    await sim.run_until(30.0)
    first = dict(leases.spec)
    assert first["holderIdentity"] == "a" and first["leaseTransitions"] == 0
    assert first["leaseDurationSeconds"] == 15
    renewals = [spec for _, spec in leases.writes]
    assert len(renewals) >= 5
    assert {s["acquireTime"] for s in renewals} == {first["acquireTime"]}
    assert {s["leaseTransitions"] for s in renewals} == {0}
    assert first["renewTime"] == (EPOCH + dt.timedelta(seconds=leases.last_change())).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ"
    )

    b = Replica(sim, leases, "b").start()
    await sim.run_until(40.0)
    a.link.broken = True  # A dies without releasing
    await sim.run_until(80.0, never_two_leaders(a, b))
    assert leases.spec["holderIdentity"] == "b" and leases.spec["leaseTransitions"] == 1
    assert leases.spec["acquireTime"] != first["acquireTime"]

    c = Replica(sim, leases, "c").start()
    await sim.run_until(100.0, never_two_leaders(a, b, c))
    await b.stop()  # a clean shutdown, as on SIGTERM: cancel hold(), then release
    await b.elector.release()
    b.active = False
    released = leases.last_change()
    assert leases.spec.get("holderIdentity") is None and leases.spec["leaseDurationSeconds"] == 1
    assert leases.spec["leaseTransitions"] == 1
    await sim.run_until(120.0, never_two_leaders(a, b, c))
    # The released lease is taken at the standby's next try, without waiting out a lease.
    assert c.started and c.started[0] <= released + 2.0 * 2.2  # its next poll (jittered, up to 2.2x)
    assert leases.spec["holderIdentity"] == "c" and leases.spec["leaseTransitions"] == 2
    await a.stop()
    await c.stop()


async def test_release_leaves_someone_elses_lease_alone() -> None:
    sim, leases = world()
    leases.store({"holderIdentity": "other", "leaseDurationSeconds": 15, "leaseTransitions": 3})
    a = Replica(sim, leases, "a")
    await a.elector.release()
    assert leases.spec["holderIdentity"] == "other" and len(leases.writes) == 1


async def test_lease_created_when_missing_and_conflict_means_lost() -> None:
    sim, leases = world()
    a = Replica(sim, leases, "a")
    b = Replica(sim, leases, "b")
    assert await a.elector.try_acquire_or_renew()
    assert leases.spec["holderIdentity"] == "a" and leases.spec["leaseTransitions"] == 0
    assert a.elector.leading
    assert not await b.elector.try_acquire_or_renew()  # held and fresh
    assert not b.elector.leading and b.elector.observed_holder == "a"


async def test_hold_requires_acquire() -> None:
    sim, leases = world()
    with pytest.raises(RuntimeError):
        await Replica(sim, leases, "a").elector.hold()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lease_seconds": 10, "renew_deadline": 10.0},
        {"renew_deadline": 2.0, "retry_every": 2.0},
        {"renew_every": 10.0},
        {"retry_every": 0.0},
    ],
)
def test_timings_must_leave_a_margin(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        LeaderElector(cast(kube.KubeApi, None), NS, **kwargs)
