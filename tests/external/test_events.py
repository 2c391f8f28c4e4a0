"""Events on an ExternalSecret: one Normal event per sync, as ESO (``Created`` / ``Updated`` /
``Deleted`` when the Secret was written, else the Ready flip's), and a Warning for every failure.

The controller runs in process against the API emulator with the fake provider, for secretsync's own
kinds and for ESO's (compatibility mode, ESO's CRDs).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from secretsync import kube
from secretsync.external import ESO, SECRETSYNC, ExternalController, Flavor
from secretsync.metrics import Metrics
from secretsync.scheduler import Scheduler
from tests.support import upstream

NS = "apps"


@pytest.fixture
def flavor(request: pytest.FixtureRequest) -> Flavor:
    result: Flavor = getattr(request, "param", SECRETSYNC)
    return result


# ESO's CRDs take seconds to load into the emulator: the kinds matter for the first sync's events
# and the failures' reasons; the rest is the same code.
both_flavors = pytest.mark.parametrize("flavor", [SECRETSYNC, ESO], ids=["secretsync", "eso"], indirect=True)


@pytest.fixture
def emu(kube_emulator: Any, flavor: Flavor) -> Any:
    if flavor is ESO:
        for crd in upstream.eso_crds():
            kube_emulator.apply_crd(crd)
    kube_emulator.ensure_namespace(NS)
    kube_emulator.create(
        {
            "apiVersion": flavor.group_version,
            "kind": "SecretStore",
            "metadata": {"name": "fake", "namespace": NS},
            "spec": {"provider": {"fake": {"data": [{"key": "k", "value": "v"}]}}},
        }
    )
    return kube_emulator


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(2) as pool:
        yield pool


class Harness:
    def __init__(self, emu: Any, flavor: Flavor, executor: ThreadPoolExecutor) -> None:
        self.emu, self.flavor = emu, flavor
        self.api = kube.KubeApi(kube.load_connection(str(emu.kubeconfig_path)))
        self.scheduler = Scheduler()
        self.es = ExternalController(self.api, Metrics(), executor, scheduler=self.scheduler, flavor=flavor)

    async def start(self) -> None:
        store = self.emu.get(self.flavor.group_version, "SecretStore", "fake", NS)
        await self.es.on_store_event("ADDED", "SecretStore", store)

    def create(self, name: str, key: str = "k", **target: Any) -> None:
        self.emu.create(
            {
                "apiVersion": self.flavor.group_version,
                "kind": "ExternalSecret",
                "metadata": {"name": name, "namespace": NS},
                "spec": {
                    "refreshInterval": "1h",
                    "secretStoreRef": {"name": "fake", "kind": "SecretStore"},
                    "target": {"name": name, **target},
                    "data": [{"secretKey": "k", "remoteRef": {"key": key}}],
                },
            }
        )

    async def event(self, name: str) -> None:
        """The ExternalSecret's watch event, as kopf delivers it."""
        await self.es.on_external_event(
            "MODIFIED", self.emu.get(self.flavor.group_version, "ExternalSecret", name, NS)
        )

    def events(self, name: str) -> list[tuple[str, str]]:
        """(type, reason) of the ExternalSecret's events, sorted (their names, hence the order of the
        list, are random)."""
        found = [
            e
            for e in self.emu.list("v1", "Event", NS)
            if (e["involvedObject"].get("kind"), e["involvedObject"].get("name")) == ("ExternalSecret", name)
        ]
        return sorted((e["type"], e["reason"]) for e in found)

    async def close(self) -> None:
        await self.scheduler.close()
        await self.es.close()
        await self.api.close()


@pytest.fixture
async def harness(emu: Any, flavor: Flavor, executor: ThreadPoolExecutor) -> Any:
    h = Harness(emu, flavor, executor)
    await h.start()
    yield h
    await h.close()


@both_flavors
async def test_a_first_sync_posts_one_event(harness: Harness) -> None:
    harness.create("db")
    await harness.event("db")
    assert harness.emu.get("v1", "Secret", "db", NS) is not None
    assert harness.events("db") == [("Normal", "Created")]


@both_flavors
async def test_a_failure_then_a_fix_posts_a_warning_then_one_event(harness: Harness) -> None:
    harness.create("db", key="nope")
    await harness.event("db")
    warning = ("Warning", "SecretMissing" if harness.flavor is SECRETSYNC else "SecretSyncedError")
    assert harness.events("db") == [warning]
    harness.emu.patch(
        harness.flavor.group_version,
        "ExternalSecret",
        "db",
        {"spec": {"data": [{"secretKey": "k", "remoteRef": {"key": "k"}}]}},
        NS,
    )
    await harness.event("db")
    assert harness.events("db") == [("Normal", "Created"), warning]  # and not the Ready flip too


async def test_a_sync_that_writes_no_secret_posts_the_ready_flip(harness: Harness) -> None:
    harness.create("nothing", creationPolicy="None")
    await harness.event("nothing")
    assert harness.emu.get("v1", "Secret", "nothing", NS) is None
    assert harness.events("nothing") == [("Normal", "SecretSynced")]
