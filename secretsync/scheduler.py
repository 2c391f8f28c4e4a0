"""Per-object timers and backoff for retries and scheduled refreshes.

kopf's timers run at one fixed interval per handler; secretsync needs a delay
per object (backoff after a failure, each ExternalSecret's own
``refreshInterval`` plus jitter), and a later request for the same object must
replace the earlier one. This small asyncio scheduler does exactly that.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Hashable

logger = logging.getLogger("secretsync.scheduler")

Job = Callable[[], Awaitable[None]]


class Backoff:
    """Exponential backoff per key: ``base * 2**failures``, capped, with up to 10% jitter."""

    def __init__(self, base: float = 1.0, cap: float = 300.0, jitter: float = 0.1) -> None:
        self.base = base
        self.cap = cap
        self.jitter = jitter
        self._failures: dict[Hashable, int] = {}

    def next_delay(self, key: Hashable) -> float:
        """Record one more failure for ``key`` and return how long to wait before retrying."""
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        delay: float = min(self.cap, self.base * 2.0**failures)
        return delay * (1 + random.uniform(0, self.jitter))

    def reset(self, key: Hashable) -> None:
        self._failures.pop(key, None)

    def failures(self, key: Hashable) -> int:
        return self._failures.get(key, 0)


class Scheduler:
    """At most one pending job per key; scheduling a key again replaces its pending job.

    A job that fails (an API time-out while a refresh reads its object, a key reload meeting a
    429) runs again with backoff, 1 s doubling to ``retry_cap``, until it succeeds or the key is
    scheduled anew or cancelled: no scheduled work is ever dropped on the floor.
    """

    def __init__(self, retry_cap: float = 60.0) -> None:
        self.retry = Backoff(base=1.0, cap=retry_cap)
        self._timers: dict[Hashable, asyncio.TimerHandle] = {}
        self._due: dict[Hashable, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._running: dict[asyncio.Task[None], float] = {}  # job -> loop time it started
        self._closed = False

    def depth(self) -> int:
        """Jobs waiting for their time plus jobs running: the operator's queue."""
        return len(self._timers) + len(self._tasks)

    def oldest_running(self) -> float | None:
        """Seconds the longest-running job has been running (None: none runs)."""
        if not self._running:
            return None
        return asyncio.get_running_loop().time() - min(self._running.values())

    def schedule(self, key: Hashable, delay: float, job: Job) -> None:
        """Run ``job`` in ``delay`` seconds, in place of anything pending for ``key``."""
        self.retry.reset(key)
        self._arm(key, delay, job)

    async def run_now(self, key: Hashable, job: Job, what: str) -> None:
        """Run ``job`` now, in the caller's task (an event handler's); when it fails (the API
        failing on the way), it is armed under ``key`` and retried with this scheduler's backoff,
        as a failed scheduled job: event-triggered work is never lost either."""
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            delay = self.retry.next_delay(key)
            logger.warning("%s: %s; trying again in %.1fs", what, exc, delay)
            self._arm(key, delay, job)
            return
        self.retry.reset(key)

    def _arm(self, key: Hashable, delay: float, job: Job) -> None:
        if self._closed:
            return
        self._disarm(key)
        loop = asyncio.get_running_loop()
        self._due[key] = loop.time() + max(0.0, delay)
        self._timers[key] = loop.call_later(max(0.0, delay), self._fire, key, job)

    def due_in(self, key: Hashable) -> float | None:
        """Seconds until ``key``'s job runs, or None when nothing is pending."""
        due = self._due.get(key)
        return None if due is None else max(0.0, due - asyncio.get_running_loop().time())

    def cancel(self, key: Hashable) -> None:
        self.retry.reset(key)
        self._disarm(key)

    def _disarm(self, key: Hashable) -> None:
        timer = self._timers.pop(key, None)
        self._due.pop(key, None)
        if timer is not None:
            timer.cancel()

    def _fire(self, key: Hashable, job: Job) -> None:
        self._timers.pop(key, None)
        self._due.pop(key, None)
        task = asyncio.create_task(self._run(key, job))
        self._tasks.add(task)
        self._running[task] = asyncio.get_running_loop().time()
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._running.pop(task, None)

    async def _run(self, key: Hashable, job: Job) -> None:
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a job must never kill the scheduler, nor be lost
            delay = self.retry.next_delay(key)
            name = type(exc).__name__
            logger.warning(
                "scheduled job for %s failed (%s: %s); trying again in %.1fs", key, name, exc, delay
            )
            if key not in self._timers:  # unless it was rescheduled meanwhile
                self._arm(key, delay, job)
            return
        self.retry.reset(key)

    async def close(self) -> None:
        self._closed = True
        for key in list(self._timers):
            self.cancel(key)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
