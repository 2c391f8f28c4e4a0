"""What readiness means: this replica reconciles, can still write to the API, and its work moves.

Liveness (``/healthz``) only says the process serves; readiness (``/readyz``) also fails when

- writes to the Kubernetes API have failed without a success for ``api_window`` seconds (at
  least ``api_threshold`` in a row: an expired token, RBAC taken away, an API server that
  answers 5xx or nothing); object-level answers (404, 409, 422) say nothing about that and
  do not count;
- the operator's key Secrets cannot be read (the last key reload failed), so it cannot open
  SealedSecrets it has never seen;
- its work queue stalls: a scheduled job (a sync, a refresh) has been running for longer than
  ``stall_after`` seconds, longer than any bounded sync can take.

Pure: fed by the API adapter and the scheduler, read by the HTTP app; clocks are injected.
"""

from __future__ import annotations

import time
from collections.abc import Callable

API_WINDOW = 30.0
API_THRESHOLD = 3
STALL_AFTER = 300.0
# Answers that say the API cannot be written at all, rather than something about one object.
_SYSTEMIC = frozenset({0, 401, 403, 429, 500, 502, 503, 504})


class Health:
    def __init__(
        self,
        *,
        api_window: float = API_WINDOW,
        api_threshold: int = API_THRESHOLD,
        stall_after: float = STALL_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api_window = api_window
        self.api_threshold = api_threshold
        self.stall_after = stall_after
        self.clock = clock
        self.write_failures = 0
        self._failing_since: float | None = None
        self._cause = ""
        self.keys_problem: str | None = None
        self.oldest_job: Callable[[], float | None] = lambda: None  # seconds the oldest job runs

    def api_answered(self, status: int, cause: str = "") -> None:
        """A mutating request got ``status`` (0: no answer at all)."""
        if status in _SYSTEMIC:
            if self._failing_since is None:
                self._failing_since = self.clock()
            self.write_failures += 1
            self._cause = cause or f"HTTP {status}"
        elif status < 500:
            self.write_failures = 0
            self._failing_since = None

    def problems(self) -> list[str]:
        """Why this replica should not be ready (empty: nothing known to be wrong)."""
        out = []
        if self._failing_since is not None and self.write_failures >= self.api_threshold:
            failing = self.clock() - self._failing_since
            if failing >= self.api_window:
                out.append(
                    f"writes to the Kubernetes API have failed for {failing:.0f}s "
                    f"({self.write_failures} in a row; last: {self._cause})"
                )
        if self.keys_problem:
            out.append(f"the sealing keys cannot be read: {self.keys_problem}")
        oldest = self.oldest_job()
        if oldest is not None and oldest >= self.stall_after:
            out.append(f"the work queue is stalled: a job has been running for {oldest:.0f}s")
        return out
