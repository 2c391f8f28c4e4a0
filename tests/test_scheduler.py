"""Per-object timers and backoff."""

from __future__ import annotations

import asyncio

from secretsync.scheduler import Backoff, Scheduler


def test_backoff_grows_to_the_cap_and_resets() -> None:
    backoff = Backoff(base=1.0, cap=300.0, jitter=0.1)
    delays = [backoff.next_delay("k") for _ in range(12)]
    for n, delay in enumerate(delays):
        expected = min(300.0, 2.0**n)
        assert expected <= delay <= expected * 1.1
    assert backoff.failures("k") == 12
    backoff.reset("k")
    assert backoff.next_delay("k") <= 1.1


async def test_rescheduling_replaces_the_pending_job() -> None:
    scheduler = Scheduler()
    ran: list[str] = []

    def job(tag: str):  # type: ignore[no-untyped-def]
        async def run() -> None:
            ran.append(tag)

        return run

    scheduler.schedule("a", 0.05, job("first"))
    scheduler.schedule("a", 0.01, job("second"))
    scheduler.schedule("b", 0.01, job("other"))
    assert scheduler.due_in("a") is not None
    await asyncio.sleep(0.15)
    assert sorted(ran) == ["other", "second"]
    assert scheduler.due_in("a") is None
    await scheduler.close()


async def test_failing_job_does_not_break_the_scheduler() -> None:
    scheduler = Scheduler()
    ran: list[int] = []

    async def boom() -> None:
        raise RuntimeError("x")

    async def ok() -> None:
        ran.append(1)

    scheduler.schedule("x", 0, boom)
    scheduler.schedule("y", 0.02, ok)
    await asyncio.sleep(0.1)
    assert ran == [1]
    scheduler.schedule("z", 10, ok)
    await scheduler.close()
    scheduler.schedule("after-close", 0, ok)
    assert scheduler.due_in("z") is None and scheduler.due_in("after-close") is None


async def test_run_now_runs_in_the_callers_task_and_retries_a_failure_with_backoff() -> None:
    """Event-triggered work (a SealedSecret or ExternalSecret event meeting a 503): run at once;
    a failure is armed under its key with the scheduler's backoff and runs again until it succeeds."""
    scheduler = Scheduler(retry_cap=60.0)
    scheduler.retry = Backoff(base=0.05, cap=0.5)
    calls: list[float] = []
    loop = asyncio.get_running_loop()

    async def flaky() -> None:
        calls.append(loop.time())
        if len(calls) < 3:
            raise RuntimeError("503 Service Unavailable")

    await scheduler.run_now("k", flaky, "SealedSecret ns/a")
    assert len(calls) == 1  # ran in this task, failed: armed, not raised
    assert scheduler.due_in("k") is not None
    for _ in range(300):
        await asyncio.sleep(0.01)
        if len(calls) == 3:
            break
    assert len(calls) == 3
    assert calls[2] - calls[1] > calls[1] - calls[0] > 0  # backoff grows between tries
    await asyncio.sleep(0.05)
    assert scheduler.due_in("k") is None and scheduler.retry.failures("k") == 0  # done, reset

    async def fine() -> None:
        calls.append(loop.time())

    await scheduler.run_now("k2", fine, "ExternalSecret ns/b")
    assert scheduler.due_in("k2") is None and len(calls) == 4
    await scheduler.close()
