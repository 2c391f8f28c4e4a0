"""The provider bulkhead: calls in flight bounded per store and per namespace, waiting on the loop."""

from __future__ import annotations

import asyncio

from secretsync.external.bulkhead import CLUSTER, Bulkhead


async def _hold(
    bulkhead: Bulkhead, store: str, namespace: str | None, gate: asyncio.Event, running: list[str]
) -> None:
    async with bulkhead.slot(store, namespace):
        running.append(store)
        await gate.wait()


def test_a_store_gets_its_slots_and_no_more_while_other_stores_go_on() -> None:
    async def scenario() -> None:
        bulkhead = Bulkhead(per_store=2, per_namespace=10)
        gate, running = asyncio.Event(), []
        slow = [asyncio.create_task(_hold(bulkhead, "slow", "team-a", gate, running)) for _ in range(5)]
        await asyncio.sleep(0.01)
        assert running == ["slow", "slow"]  # the other three wait on the loop, holding nothing
        async with bulkhead.slot("healthy", "team-a"):
            running.append("healthy")
        assert running[-1] == "healthy"
        gate.set()
        await asyncio.gather(*slow)
        assert running.count("slow") == 5
        assert len(bulkhead.stores) == 0 and len(bulkhead.namespaces) == 0  # nothing kept

    asyncio.run(scenario())


def test_a_namespace_with_many_slow_stores_is_bounded_and_others_go_on() -> None:
    async def scenario() -> None:
        bulkhead = Bulkhead(per_store=2, per_namespace=3)
        gate, running = asyncio.Event(), []
        tasks = [
            asyncio.create_task(_hold(bulkhead, f"store-{i}", "hostile", gate, running)) for i in range(6)
        ]
        await asyncio.sleep(0.01)
        assert len(running) == 3  # the namespace's slots, however many stores it makes
        async with bulkhead.slot("store-x", "team-b"):
            running.append("team-b")
        async with bulkhead.slot("cluster-store", None):
            running.append(CLUSTER)
        assert running[-2:] == ["team-b", CLUSTER]
        gate.set()
        await asyncio.gather(*tasks)
        assert len(running) == 8

    asyncio.run(scenario())


def test_a_cancelled_waiter_gives_its_place_back() -> None:
    async def scenario() -> None:
        bulkhead = Bulkhead(per_store=1, per_namespace=1)
        gate, running = asyncio.Event(), []
        first = asyncio.create_task(_hold(bulkhead, "s", "ns", gate, running))
        waiting = asyncio.create_task(_hold(bulkhead, "s", "ns", gate, running))
        await asyncio.sleep(0.01)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        gate.set()
        await first
        assert running == ["s"] and len(bulkhead.stores) == 0 and len(bulkhead.namespaces) == 0

    asyncio.run(scenario())
