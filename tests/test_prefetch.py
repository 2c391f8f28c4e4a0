"""secretsync.prefetch: a listed copy stands in for a GET at most once, and never when a watch event
has shown the Secret in another state since the list (changed, deleted, or the watch ahead)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from secretsync.prefetch import SecretPrefetch
from secretsync.unsealmark import MARK_ANNOTATION


def _secret(name: str, rv: str, *, marked: bool = True, ns: str = "app") -> dict[str, Any]:
    annotations = {MARK_ANNOTATION: "v1:f:t"} if marked else {"other": "x"}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": ns,
            "resourceVersion": rv,
            "uid": f"u-{name}",
            "annotations": annotations,
            "managedFields": [{"manager": "x" * 1000}],
        },
        "type": "Opaque",
        "data": {"k": "dg=="},
    }


def _pages(*pages: list[dict[str, Any]], fail_after: int | None = None) -> Any:
    async def gen() -> AsyncIterator[dict[str, Any]]:
        for i, items in enumerate(pages):
            if fail_after is not None and i == fail_after:
                raise RuntimeError("the API went away")
            yield {"items": items}

    return gen


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def _watched(p: SecretPrefetch, *secrets: dict[str, Any]) -> None:
    """The Secret watch (kopf's own listing) shows ``secrets`` as they are."""
    for secret in secrets:
        p.observe(None, secret)


def test_inactive_never_answers_and_records_nothing() -> None:
    async def go() -> None:
        p = SecretPrefetch()
        p.observe(None, _secret("a", "1"))
        await p.load(_pages([_secret("a", "1")]))
        assert await p.take("app", "a") is None
        assert not p.active

    run(go())


def test_a_copy_stands_in_once_without_managed_fields() -> None:
    async def go() -> None:
        p = SecretPrefetch()
        p.begin()
        await p.load(_pages([_secret("a", "1"), _secret("b", "2")], [_secret("c", "3")]))
        _watched(p, _secret("c", "3"), _secret("a", "1", ns="other"))
        copy = await p.take("app", "c")
        assert copy is not None and copy["metadata"]["resourceVersion"] == "3"
        assert copy["data"] == {"k": "dg=="} and "managedFields" not in copy["metadata"]
        assert copy["metadata"]["annotations"][MARK_ANNOTATION] == "v1:f:t"
        assert await p.take("app", "c") is None  # at most once
        assert await p.take("other", "a") is None  # namespace is part of the key
        assert p.hits == 1

    run(go())


def test_secrets_without_a_mark_are_kept_too() -> None:
    """ExternalSecrets' targets carry a data hash, not a mark: every produced Secret is kept."""

    async def go() -> None:
        p = SecretPrefetch()
        p.begin()
        await p.load(_pages([_secret("a", "1", marked=False), {"kind": "junk"}, "not an object"]))
        _watched(p, _secret("a", "1"))
        copy = await p.take("app", "a")
        assert copy is not None and copy["metadata"]["annotations"] == {"other": "x"}

    run(go())


@pytest.mark.parametrize(
    ("event", "rv", "usable"),
    [
        (None, "1", True),  # the watch's own listing, same state
        ("MODIFIED", "1", True),
        ("MODIFIED", "7", False),  # changed since (or the watch ahead of the list)
        ("DELETED", "1", False),
        (None, None, False),  # not shown by the watch (yet, or deleted before it began): read it
    ],
)
def test_a_copy_is_used_only_when_the_watch_showed_that_very_state(
    event: str | None, rv: str | None, usable: bool
) -> None:
    async def go() -> None:
        p = SecretPrefetch()
        p.begin()
        p.watch_wait = 0.05
        if rv is not None:
            p.observe(event, _secret("a", rv))  # before the list completes, as after it
        await p.load(_pages([_secret("a", "1")]))
        assert (await p.take("app", "a") is not None) is usable

    run(go())


def test_an_event_after_the_list_voids_it_too() -> None:
    async def go() -> None:
        p = SecretPrefetch()
        p.begin()
        await p.load(_pages([_secret("a", "1"), _secret("b", "1")]))
        _watched(p, _secret("a", "1"), _secret("b", "1"))
        p.observe("MODIFIED", _secret("a", "9"))
        assert await p.take("app", "a") is None
        assert await p.take("app", "b") is not None

    run(go())


def test_a_failed_list_keeps_nothing_and_stops_recording() -> None:
    async def go() -> None:
        p = SecretPrefetch()
        p.begin()
        await p.load(_pages([_secret("a", "1")], [_secret("b", "1")], fail_after=1))
        assert not p.active
        assert await p.take("app", "a") is None

    run(go())


def test_take_waits_for_the_list_then_gives_up_after_its_bound() -> None:
    async def go() -> None:
        p = SecretPrefetch(wait=0.05)
        p.begin()
        started = asyncio.get_running_loop().time()
        assert await p.take("app", "a") is None  # no list ever came
        assert asyncio.get_running_loop().time() - started >= 0.05
        assert not p.active  # too late to help: the next reconcile does not wait again
        started = asyncio.get_running_loop().time()
        assert await p.take("app", "b") is None
        assert asyncio.get_running_loop().time() - started < 0.05

        q = SecretPrefetch(wait=5)
        q.begin()
        waiting = asyncio.create_task(q.take("app", "a"))
        await asyncio.sleep(0.01)
        assert not waiting.done()
        _watched(q, _secret("a", "1"))
        await q.load(_pages([_secret("a", "1")]))
        assert (await waiting) is not None

    run(go())


def test_everything_is_dropped_when_taken_or_expired() -> None:
    async def go() -> None:
        p = SecretPrefetch()
        p.begin()
        await p.load(_pages([_secret("a", "1")]))
        _watched(p, _secret("a", "1"))
        assert await p.take("app", "a") is not None
        assert not p.active  # the last copy taken: nothing held, nothing recorded
        p.observe("MODIFIED", _secret("b", "1"))
        assert p._seen == {}

        q = SecretPrefetch(keep_for=0.01)
        q.begin()
        await q.load(_pages([_secret("a", "1"), _secret("b", "1")]))
        await asyncio.sleep(0.05)
        assert not q.active and await q.take("app", "a") is None

    run(go())


def test_past_its_budget_nothing_is_kept() -> None:
    """Tenants can label big Secrets of their own: the copies stay within max_bytes, or none is kept."""

    async def go() -> None:
        big = _secret("big", "1")
        big["data"] = {"k": "x" * 5000}
        p = SecretPrefetch(max_bytes=4000)
        p.begin()
        _watched(p, _secret("a", "1"), big)
        await p.load(_pages([_secret("a", "1"), big]))
        assert not p.active and await p.take("app", "a") is None

        q = SecretPrefetch(max_bytes=8000)
        q.begin()
        _watched(q, _secret("a", "1"), big)
        await q.load(_pages([_secret("a", "1"), big]))
        assert await q.take("app", "big") is not None

    run(go())


def test_a_copy_waits_briefly_for_the_watch_to_report_its_secret() -> None:
    """kopf's own listing of the Secrets may come after the reconcile: the copy waits for it."""

    async def go() -> None:
        p = SecretPrefetch()
        p.begin()
        await p.load(_pages([_secret("a", "1"), _secret("b", "1")]))
        waiting = asyncio.create_task(p.take("app", "a"))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        p.observe(None, _secret("a", "1"))
        assert (await waiting) is not None
        # Deleted between the list and the start of the watch: never reported, so it is read.
        p.watch_wait = 0.05
        assert await p.take("app", "b") is None
        assert p._reported == {}

    run(go())


def test_the_event_a_waiting_copy_was_waiting_for_is_awaited_not_reconciled_again() -> None:
    async def go() -> None:
        p = SecretPrefetch()
        p.begin()
        await p.load(_pages([_secret("a", "1")]))
        waiting = asyncio.create_task(p.take("app", "a"))
        await asyncio.sleep(0.01)
        assert p.awaited(None, _secret("a", "1"))  # the reconcile holding the copy records it
        assert not p.awaited(None, _secret("a", "2"))  # another state: its own reconcile
        assert not p.awaited("DELETED", _secret("a", "1"))
        p.observe(None, _secret("a", "1"))
        assert (await waiting) is not None
        assert not p.awaited(None, _secret("a", "1"))  # decided: nothing held any more

    run(go())
