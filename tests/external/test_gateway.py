"""What a provider's reads through the API (credentials Secrets, ServiceAccount tokens) turn into
when the API fails: a transient failure is an ``ApiError`` retried soon, anything else an auth
failure the admin must mend; a read that gets no answer in time is an API failure, not a bug."""

from __future__ import annotations

import asyncio
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from secretsync import kube
from secretsync.errors import KubeUnavailable, ProviderAuthError, ProviderError
from secretsync.external.gateway import Gateway
from secretsync.metrics import Metrics
from secretsync.tenancy import Rules


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
    assert isinstance(exc, kube.ApiError) and (exc.status, exc.reason) == (0, "Timeout")
    assert str(exc) == "Kubernetes API 0 Timeout: no answer from the Kubernetes API in 0s"
    assert cancelled == [True]


CANARY = "canary-gateway-Qx71"


@pytest.mark.parametrize(
    "error",
    [
        ValueError(f"could not parse {CANARY!r}"),  # a library quoting what it was given
        KeyError(CANARY),
        UnicodeDecodeError("utf-8", CANARY.encode() + b"\xff", len(CANARY), len(CANARY) + 1, "invalid"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_an_unexpected_provider_error_is_reported_and_logged_by_its_type_only(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    """A provider bug, or a library raising what the provider did not translate: the sync fails as
    a ProviderError naming the provider, the operation and the exception's type; its text (which
    may hold the value being parsed) is in no message, log record or traceback."""

    def broken(ref: str) -> bytes:
        raise error

    metrics = Metrics()
    caplog.set_level("DEBUG")
    with ThreadPoolExecutor(1) as executor:
        gateway = Gateway(None, metrics, executor, Rules())  # type: ignore[arg-type]
        with pytest.raises(ProviderError) as caught:
            await gateway.call(
                "vault", "get", broken, "app/db", store=("SecretStore", "ns", "s"), namespace="ns"
            )
    message = str(caught.value)
    assert message == f"vault: unexpected {type(error).__name__} during get"
    shown = "".join(traceback.format_exception(caught.value))  # as a log record's traceback shows it
    assert CANARY not in shown
    logged = "\n".join(
        [r.getMessage() for r in caplog.records] + [r.exc_text or "" for r in caplog.records if r.exc_info]
    )
    assert CANARY not in logged and CANARY not in message
    assert type(error).__name__ in logged
    labels = {"provider": "vault", "operation": "get", "result": "error"}
    assert metrics.registry.get_sample_value("secretsync_provider_calls_total", labels) == 1
