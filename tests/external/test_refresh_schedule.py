"""When the controller reads an ExternalSecret again: ``refreshInterval`` plus up to 10 % jitter after
a sync, and after a restart what is left of the interval since ``status.refreshTime`` (with the
same jitter), never a full interval again and never at once.

The controller runs in process against the API emulator with the fake provider; a scheduler that
records what it is asked to schedule stands in for the clock, so nothing here waits.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Hashable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from secretsync import kube
from secretsync.external import ExternalController
from secretsync.metrics import Metrics
from secretsync.scheduler import Job, Scheduler
from tests.support.external_env import API, external_secret

NS = "apps"
HOUR = 3600.0
JITTER = 0.1  # what the README promises: up to 10 %


class RecordingScheduler(Scheduler):
    """A scheduler that remembers every delay it was given, by the object name in the key."""

    def __init__(self) -> None:
        super().__init__()
        self.delays: dict[str, list[float]] = {}

    def schedule(self, key: Hashable, delay: float, job: Job) -> None:
        if isinstance(key, tuple) and key and isinstance(key[-1], str):
            self.delays.setdefault(key[-1], []).append(delay)
        super().schedule(key, delay, job)


@pytest.fixture
def seeded() -> Iterator[None]:
    state = random.getstate()
    random.seed(20261130)
    yield
    random.setstate(state)


@pytest.fixture
def emu(kube_emulator: Any) -> Any:
    kube_emulator.ensure_namespace(NS)
    kube_emulator.create(
        {
            "apiVersion": API,
            "kind": "SecretStore",
            "metadata": {"name": "fake", "namespace": NS},
            "spec": {"provider": {"fake": {"data": [{"key": "k", "value": "v"}]}}},
        }
    )
    return kube_emulator


class Controller:
    """One controller (one operator process's worth of state) over the emulator."""

    def __init__(self, emu: Any, executor: ThreadPoolExecutor) -> None:
        self.emu = emu
        self.api = kube.KubeApi(kube.load_connection(str(emu.kubeconfig_path)))
        self.scheduler = RecordingScheduler()
        self.metrics = Metrics()
        self.es = ExternalController(self.api, self.metrics, executor, scheduler=self.scheduler)

    async def start(self) -> None:
        """As at an operator's start: the store is seen (and checked) first."""
        store = self.emu.get(API, "SecretStore", "fake", NS)
        await self.es.on_store_event("ADDED", "SecretStore", store)

    async def see(self, name: str) -> None:
        """The ExternalSecret's event, as kopf delivers it (its first one: a start-up look)."""
        await self.es.on_external_event("ADDED", self.emu.get(API, "ExternalSecret", name, NS))

    def reads(self) -> float:
        labels = {"provider": "fake", "operation": "get", "result": "ok"}
        return self.metrics.registry.get_sample_value("secretsync_provider_calls_total", labels) or 0.0

    async def close(self) -> None:
        await self.scheduler.close()
        await self.es.close()
        await self.api.close()


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(2) as pool:
        yield pool


def _create(emu: Any, name: str, interval: str = "1h") -> None:
    data = [{"secretKey": "k", "remoteRef": {"key": "k"}}]
    emu.create(external_secret(name, NS, "fake", refreshInterval=interval, data=data))


async def test_after_a_sync_the_next_read_is_the_interval_plus_up_to_ten_percent_jitter(
    emu: Any, executor: ThreadPoolExecutor, seeded: None
) -> None:
    names = [f"es{i}" for i in range(12)]
    for name in names:
        _create(emu, name)
    controller = Controller(emu, executor)
    try:
        await controller.start()
        for name in names:
            await controller.see(name)
        assert controller.reads() == len(names)  # each read once (none had synced before)
        delays = [controller.scheduler.delays[name][-1] for name in names]
    finally:
        await controller.close()
    for name in names:
        reason = ((emu.get(API, "ExternalSecret", name, NS) or {}).get("status") or {})["conditions"][0]
        assert reason["reason"] == "SecretSynced"
    assert all(HOUR <= d <= HOUR * (1 + JITTER) for d in delays), delays
    # jittered: the objects do not come due together (12 draws over 360 s, spread over most of it)
    assert len(set(delays)) == len(delays)
    assert max(delays) - min(delays) > HOUR * JITTER / 2, delays


async def test_after_a_restart_the_next_read_is_what_is_left_of_the_interval(
    emu: Any, executor: ThreadPoolExecutor, seeded: None
) -> None:
    """Synced 40 min ago by the previous process: read again in 20 min (plus jitter), not now and
    not in an hour; synced just now: in an hour; synced 2 h ago: read at once."""
    ages = {"fresh": 0.0, "older-a": 40 * 60.0, "older-b": 40 * 60.0, "older-c": 40 * 60.0}
    ages["overdue"] = 2 * HOUR
    for name in ages:
        _create(emu, name)
    first = Controller(emu, executor)
    try:
        await first.start()
        for name in ages:
            await first.see(name)
    finally:
        await first.close()
    now = dt.datetime.now(dt.UTC)
    for name, age in ages.items():
        when = (now - dt.timedelta(seconds=age)).strftime("%Y-%m-%dT%H:%M:%SZ")
        emu.patch(API, "ExternalSecret", name, {"status": {"refreshTime": when}}, NS, subresource="status")

    within = [name for name in ages if name != "overdue"]
    again = Controller(emu, executor)
    try:
        await again.start()
        for name in within:
            await again.see(name)
        assert again.reads() == 0  # all still within their interval: nothing read at start
        delays = {name: again.scheduler.delays[name][-1] for name in within}
        await again.see("overdue")
        assert again.reads() == 1  # past its interval: read at start
    finally:
        await again.close()
    slack = 5.0  # seconds: refreshTime has whole seconds, and the test takes a moment
    for name in within:
        left = HOUR - ages[name]
        assert left - slack <= delays[name] <= (left + slack) * (1 + JITTER), (name, delays[name])
    older = [delays[name] for name in within if name.startswith("older")]
    assert max(older) < HOUR / 2  # the object's age counts
    assert len(set(older)) == len(older)  # jittered here too: the same age, different times
