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
    ],
)
def test_a_watch_event_showing_another_state_voids_the_copy(event: str | None, rv: str, usable: bool) -> None:
    async def go() -> None:
        p = SecretPrefetch()
        p.begin()
        p.observe(event, _secret("a", rv))  # before the list completes, as after it
        await p.load(_pages([_secret("a", "1")]))
        assert (await p.take("app", "a") is not None) is usable

    run(go())


def test_an_event_after_the_list_voids_it_too() -> None:
    async def go() -> None:
        p = SecretPrefetch()
        p.begin()
        await p.load(_pages([_secret("a", "1"), _secret("b", "1")]))
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

        q = SecretPrefetch(wait=5)
        q.begin()
        waiting = asyncio.create_task(q.take("app", "a"))
        await asyncio.sleep(0.01)
        assert not waiting.done()
        await q.load(_pages([_secret("a", "1")]))
        assert (await waiting) is not None

    run(go())


def test_everything_is_dropped_when_taken_or_expired() -> None:
    async def go() -> None:
        p = SecretPrefetch()
        p.begin()
        await p.load(_pages([_secret("a", "1")]))
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
