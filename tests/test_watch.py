"""secretsync.watch.Watcher (the key Secrets' list+watch) and KubeApi's paged lists, against the
API emulator: label selection, pages, selector semantics, 410 Gone, failures."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from secretsync import kube
from secretsync.scheduler import Backoff
from secretsync.watch import Watcher
from tests.support.kube_emulator import KubeEmulator

NS = "keys"
LABEL = "secretsync.io/sealing-key"


def _secret(name: str, labels: dict[str, str] | None = None, size: int = 8) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": NS, "labels": labels or {}},
        "data": {"k": base64.b64encode(b"x" * size).decode()},
    }


class Seen:
    def __init__(self) -> None:
        self.events: list[tuple[str | None, str]] = []
        self.listed = 0

    async def on_event(self, kind: str | None, obj: dict[str, Any]) -> None:
        self.events.append((kind, obj["metadata"]["name"]))

    async def on_listed(self) -> None:
        self.listed += 1


async def _until(predicate: Any, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def _watching(emu: KubeEmulator, seen: Seen, **kwargs: Any) -> AsyncIterator[Watcher]:
    api = kube.KubeApi(kube.load_connection(str(emu.kubeconfig_path)))
    watcher = Watcher(
        api, kube.path_for("v1", "secrets", NS), LABEL, seen.on_event, on_listed=seen.on_listed, **kwargs
    )
    task = asyncio.create_task(watcher.run())
    try:
        yield watcher
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await api.close()


def _secret_reads(emu: KubeEmulator) -> list[dict[str, str]]:
    return [p for m, path, p in emu.requests() if m == "GET" and path == f"/api/v1/namespaces/{NS}/secrets"]


def test_lists_in_pages_then_watches_only_labelled_objects(kube_emulator: KubeEmulator) -> None:
    emu = kube_emulator
    emu.ensure_namespace(NS)
    for i in range(5):
        emu.create(_secret(f"key-{i}", {LABEL: "active"}))
    emu.create(_secret("helm-release", {"owner": "helm"}, size=200_000))

    async def scenario() -> Seen:
        seen = Seen()
        async with _watching(emu, seen, page_size=2):
            await _until(lambda: seen.listed == 1)
            assert seen.events == [(None, f"key-{i}") for i in range(5)]
            emu.create(_secret("key-5", {LABEL: "active"}))
            emu.create(_secret("unrelated", {"owner": "helm"}))
            emu.patch("v1", "Secret", "key-0", {"metadata": {"labels": {LABEL: "retired"}}}, NS)  # still one
            emu.patch("v1", "Secret", "key-1", {"metadata": {"labels": {LABEL: None}}}, NS)  # leaves
            emu.patch("v1", "Secret", "unrelated", {"metadata": {"labels": {LABEL: "active"}}}, NS)  # joins
            emu.delete("v1", "Secret", "key-2", NS)
            await _until(lambda: len(seen.events) == 10)
        return seen

    seen = asyncio.run(scenario())
    assert seen.events[5:] == [
        ("ADDED", "key-5"),
        ("MODIFIED", "key-0"),
        ("DELETED", "key-1"),
        ("ADDED", "unrelated"),
        ("DELETED", "key-2"),
    ]
    reads = _secret_reads(emu)
    assert all(p.get("labelSelector") == LABEL for p in reads), reads
    lists = [p for p in reads if p.get("watch") != "true"]
    assert [p.get("limit") for p in lists] == ["2", "2", "2"]  # 5 objects in pages of 2
    assert [("continue" in p) for p in lists] == [False, True, True]
    (watch,) = [p for p in reads if p.get("watch") == "true"]
    assert watch["allowWatchBookmarks"] == "true"
    assert watch["resourceVersion"]  # from the list: nothing lost in between


def test_a_watch_that_ends_goes_on_from_where_it_was_and_410_lists_again(kube_emulator: KubeEmulator) -> None:
    emu = kube_emulator
    emu.ensure_namespace(NS)
    emu.create(_secret("key-a", {LABEL: "active"}))

    async def scenario() -> tuple[Seen, Watcher]:
        seen = Seen()
        async with _watching(emu, seen) as watcher:
            await _until(lambda: seen.listed == 1 and watcher.resource_version is not None)
            emu.end_watches()  # as an API server restart: watch again from the last resourceVersion
            emu.create(_secret("key-b", {LABEL: "active"}))
            await _until(lambda: ("ADDED", "key-b") in seen.events)
            assert seen.listed == 1
            # Writes the selector hides do not move the client's resourceVersion, which then falls
            # out of the server's window: the next watch gets 410 Gone, and the watcher lists again.
            emu.call(lambda: setattr(emu.layer, "max_events", 3))
            for i in range(6):
                emu.create(_secret(f"other-{i}"))
            emu.end_watches()
            await _until(lambda: seen.listed == 2, timeout=10)
            emu.create(_secret("key-c", {LABEL: "active"}))
            await _until(lambda: (None, "key-c") in seen.events or ("ADDED", "key-c") in seen.events)
        return seen, watcher

    seen, watcher = asyncio.run(scenario())
    assert watcher.lists == 2
    assert not [name for _, name in seen.events if name.startswith("other-")]


def test_failures_are_retried_with_backoff(kube_emulator: KubeEmulator) -> None:
    emu = kube_emulator
    emu.ensure_namespace(NS)
    emu.create(_secret("key-a", {LABEL: "active"}))
    failing = {"left": 2}

    async def scenario() -> Seen:
        seen = Seen()
        async with _watching(emu, seen, backoff=Backoff(base=0.05, cap=0.1)) as watcher:
            original = watcher.api.list_pages

            async def flaky(*args: Any, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
                if failing["left"]:
                    failing["left"] -= 1
                    raise kube.ApiError(503, "ServiceUnavailable", "try later")
                async for page in original(*args, **kwargs):
                    yield page

            watcher.api.list_pages = flaky  # type: ignore[method-assign]
            await _until(lambda: seen.listed == 1)
            # a good LIST ends the failure count: a later failure starts again from the base delay,
            # even if no event comes (a quiet key watch)
            assert watcher.backoff.failures(watcher.path) == 0
        return seen

    seen = asyncio.run(scenario())
    assert failing["left"] == 0 and seen.events == [(None, "key-a")]


@pytest.mark.parametrize("limit", [1, 3, 500])
def test_kube_api_list_reads_every_page(kube_emulator: KubeEmulator, limit: int) -> None:
    emu = kube_emulator
    emu.ensure_namespace(NS)
    for i in range(7):
        emu.create(_secret(f"s-{i}", {"set": "a" if i % 2 else "b"}))

    async def scenario() -> tuple[list[str], list[str]]:
        api = kube.KubeApi(kube.load_connection(str(emu.kubeconfig_path)))
        try:
            path = kube.path_for("v1", "secrets", NS)
            every = await api.list(path, limit=limit)
            some = await api.list(path, label_selector="set=a", limit=limit)
        finally:
            await api.close()
        return [s["metadata"]["name"] for s in every], [s["metadata"]["name"] for s in some]

    every, some = asyncio.run(scenario())
    assert every == [f"s-{i}" for i in range(7)]
    assert some == ["s-1", "s-3", "s-5"]
    pages = [p for p in _secret_reads(emu) if "labelSelector" not in p]
    assert len(pages) == -(-7 // limit)
