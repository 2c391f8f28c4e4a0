"""What a provider's reads through the API (credentials Secrets, ServiceAccount tokens) turn into
when the API fails: a transient failure is an ``ApiError`` retried soon, anything else an auth
failure the admin must mend; a read that gets no answer in time is an API failure, not a bug."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from secretsync import kube
from secretsync.errors import KubeUnavailable, ProviderAuthError
from secretsync.external.gateway import Gateway


@pytest.mark.parametrize("status", [0, 429, 500, 503, 504])
def test_a_transient_api_failure_is_an_api_error_retried_soon(status: int) -> None:
    error = Gateway._api_failure(
        "cannot read credentials Secret ns/vault-token", kube.ApiError(status, "X", "y")
    )
    assert isinstance(error, KubeUnavailable) and error.retryable
    assert error.reason == "ApiError" and "ns/vault-token" in str(error)


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_any_other_api_failure_is_an_auth_failure(status: int) -> None:
    error = Gateway._api_failure("cannot read ServiceAccount ns/app", kube.ApiError(status, "X", "y"))
    assert isinstance(error, ProviderAuthError) and not isinstance(error, KubeUnavailable)
    assert error.reason == "ProviderAuthFailed"


def test_a_read_that_gets_no_answer_in_time_is_an_api_failure_and_is_cancelled() -> None:
    cancelled = []

    async def hung() -> Any:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def scenario() -> BaseException:
        gateway = Gateway(None, None, ThreadPoolExecutor(1), None)  # type: ignore[arg-type]
        gateway._loop = asyncio.get_running_loop()
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, lambda: gateway._on_loop(hung(), timeout=0.2))
        except BaseException as exc:  # the very exception is the point
            await asyncio.sleep(0.05)
            return exc
        raise AssertionError("no time-out")

    exc = asyncio.run(scenario())
    assert isinstance(exc, kube.ApiError) and exc.status == 0 and "no answer" in str(exc)
    assert cancelled == [True]
