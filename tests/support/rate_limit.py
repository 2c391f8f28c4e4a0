"""A noisy neighbour for the operator's verify rate limit, and running the CLI against it.

Behind the API server's service proxy every user shares the operator's verify bucket. The
neighbour keeps that bucket empty, as a busy cluster does, so a CLI run is sure to meet 429s.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from typing import Any

from secretsync import remote
from tests.support.kube_emulator import wait_for

CHEAP_BATCH = b"[" + b",".join([b"0"] * 100) + b"]"  # 100 documents (10 tokens), each refused at once


class Neighbour:
    """Another user of the same verify bucket: sends a cheap 100-document batch as soon as the bucket
    lets one through (every 20 ms), so the bucket stays empty, in debt, until :meth:`stop`. A request
    can still slip through in the moment a token appears: meet the 429 for sure with several
    batches. Records the status of every answer and the ``Retry-After`` of every 429 (None if it
    had none)."""

    def __init__(self, target: remote.Target) -> None:
        self.target = target
        self.answers: list[int] = []
        self.retry_after: list[str | None] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        async with remote.Controller(self.target) as ctl:
            while not self._stop.is_set():
                # one attempt, headers and all (Controller.request would wait the 429 out itself)
                status, retry_after, _ = await ctl._once(
                    "POST", "/v1/verify", CHEAP_BATCH, "application/json"
                )
                self.answers.append(status)
                if status == 429:  # a refused request costs no token: ask again soon, to take the next
                    self.retry_after.append(retry_after)
                    await asyncio.sleep(0.02)

    def __enter__(self) -> Neighbour:
        self._thread.start()
        wait_for(lambda: 429 in self.answers, timeout=30)  # the bucket is empty from here on
        return self

    def stop(self) -> None:
        self._stop.set()

    def __exit__(self, *_: Any) -> None:
        self.stop()
        self._thread.join(timeout=30)


def run_until_it_waits(
    args: list[str], neighbour: Neighbour, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run ``secretsync ARGS``; once it says it waits for the rate limit the neighbour stops (else
    the CLI could starve: the neighbour takes every token as soon as it is there)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "secretsync", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.stdout is not None and proc.stderr is not None
    err: list[str] = []

    def read_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            err.append(line)
            if line.startswith("waiting "):
                neighbour.stop()
        neighbour.stop()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    try:
        out = proc.stdout.read()
        proc.wait(timeout=timeout)
    finally:
        neighbour.stop()
        if proc.poll() is None:
            proc.kill()
    reader.join(timeout=10)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, "".join(err))
