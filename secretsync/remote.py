"""Talking to a running operator from the CLI: directly by URL, or through the API server.

Users reach the operator the way kubeseal users reach Bitnami's controller: the
Kubernetes API service proxy (``services/NAME:http/proxy``), authenticated with
their kubeconfig, so nothing needs exposing. ``--controller-url`` skips the
proxy (port-forwards, tests, other clusters' ingress).

Behind the proxy every user shares the operator's rate limits (one client address: the API
server's), and the API server itself may answer 429 (priority and fairness). A 429, or a 503 with
``Retry-After``, is waited out as client-go does: ``Retry-After`` in seconds or as an HTTP date,
capped at ``limits.CLI_RETRY_AFTER_CAP``, with jitter added (never less than asked), within a budget
for the whole command (``--max-wait``); when the budget runs out :class:`Busy` says so. A rate limit
is never returned to the caller as an answer, so it can never read as a verdict on a document.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import math
import random
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Any

import aiohttp

from secretsync import kube, limits
from secretsync.errors import InputError, UsageError

DEFAULT_CONTROLLER_NAMESPACE = "secretsync-system"
DEFAULT_CONTROLLER_NAME = "secretsync"
PORT_NAME = "http"
MIN_RETRY_DELAY = 0.25  # a Retry-After of 0 (or in the past) still waits this long
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class Busy(InputError):
    """The operator, or the API server before it, still answered 429 (or 503 with ``Retry-After``)
    when the command's wait budget ran out: nothing is known about the request's documents."""


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """A ``Retry-After`` header as seconds from now (RFC 9110: delta-seconds or an HTTP date; a date
    in the past is 0), or None when it is absent or unreadable."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        seconds = float(text)  # delta-seconds; a decimal is tolerated
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds) if math.isfinite(seconds) else None


def answer_detail(body: bytes) -> str:
    """The first line of an answer (control characters dropped, at most 300 characters), or the
    message of a Kubernetes Status (the API server answers with one for its own errors, e.g. when
    the Service has no endpoints)."""
    import json

    text = body[:65536].decode("utf-8", "replace").strip()
    try:
        status = json.loads(text) if text.startswith("{") and len(body) < 65536 else None
    except ValueError:
        status = None
    if isinstance(status, dict) and status.get("kind") == "Status" and isinstance(status.get("message"), str):
        text = status["message"]
    lines = text.splitlines()
    return _CONTROL.sub(" ", lines[0][:300]).strip() if lines else "no detail"


@dataclasses.dataclass(frozen=True)
class Target:
    """Where the operator's HTTP API is."""

    url: str | None = None
    namespace: str = DEFAULT_CONTROLLER_NAMESPACE
    name: str = DEFAULT_CONTROLLER_NAME
    kubeconfig: str | None = None
    context: str | None = None
    origin: str | None = None  # e.g. "SEALED_SECRETS_CONTROLLER_NAMESPACE": named in messages
    max_wait: float = limits.CLI_MAX_WAIT  # seconds waited in all for rate limits (--max-wait)

    def describe(self) -> str:
        where = self.url or f"service {self.namespace}/{self.name} (through the Kubernetes API proxy)"
        return f"{where}, set by {self.origin}" if self.origin else where


class Controller:
    """GET and POST to the operator's API; answers are (status, body) and never raise on status,
    except a rate limit that outlasts the wait budget (:class:`Busy`)."""

    def __init__(
        self,
        target: Target,
        *,
        on_wait: Callable[[float, int, str], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """``on_wait(seconds, status, detail)`` is told of every wait before it starts."""
        self.target = target
        self.waited = 0.0  # seconds slept for rate limits so far, by every request of this controller
        self._on_wait = on_wait
        self._sleep = sleep
        self._api: kube.KubeApi | None = None
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Controller:
        if self.target.url is None:
            self._api = kube.KubeApi(kube.load_connection(self.target.kubeconfig, self.target.context))
        else:
            if not self.target.url.startswith(("http://", "https://")):
                raise UsageError(f"--controller-url must be an http(s) URL, not {self.target.url!r}")
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        return self

    async def __aexit__(self, *_: Any) -> None:
        if self._api is not None:
            await self._api.close()
        if self._session is not None:
            await self._session.close()

    def _proxy_path(self, path: str) -> str:
        svc = f"{self.target.name}:{PORT_NAME}"
        return kube.path_for("v1", "services", self.target.namespace, svc, "proxy") + path

    async def request(
        self, method: str, path: str, data: bytes | None = None, content_type: str = "application/json"
    ) -> tuple[int, bytes]:
        """One request, its 429s (and 503s with ``Retry-After``) waited out: the operator's rate
        limits are shared by every user behind the API server's proxy. Raises :class:`Busy` when
        the wait budget (``Target.max_wait``, for all requests together) or
        ``limits.CLI_MAX_RETRIES`` runs out; any other answer is returned as it is."""
        for attempt in range(limits.CLI_MAX_RETRIES + 1):
            status, retry_after, body = await self._once(method, path, data, content_type)
            asked = retry_after_seconds(retry_after)
            if status != 429 and not (status == 503 and asked is not None):
                return status, body
            if attempt == limits.CLI_MAX_RETRIES:
                raise self._busy(status, body, f"still so after {attempt} retries: try again later")
            if asked is None:  # a 429 without Retry-After: exponential backoff
                asked = 0.5 * 2**attempt
            wait = max(MIN_RETRY_DELAY, min(asked, limits.CLI_RETRY_AFTER_CAP))
            left = self.target.max_wait - self.waited
            if wait > left:
                raise self._busy(
                    status,
                    body,
                    f"it asks for {math.ceil(asked)} s more, beyond --max-wait ({self.target.max_wait:g} s):"
                    " try again later, or allow a longer --max-wait",
                )
            wait = min(left, wait + random.uniform(0, 0.1 + 0.2 * wait))  # jitter: never less than asked
            if self._on_wait is not None:
                self._on_wait(wait, status, answer_detail(body))
            await self._sleep(wait)
            self.waited += wait
        raise AssertionError("unreachable")  # pragma: no cover

    def _busy(self, status: int, body: bytes, why: str) -> Busy:
        what = "rate-limited (429)" if status == 429 else "unavailable (503)"
        return Busy(
            f"the operator at {self.target.describe()} is {what}: {answer_detail(body)};"
            f" waited {self.waited:.0f} s in all; {why}"
        )

    async def _once(
        self, method: str, path: str, data: bytes | None, content_type: str
    ) -> tuple[int, str | None, bytes]:
        """(status, Retry-After header, body) of one request."""
        headers = {"Accept": "*/*"}
        if data is not None:
            headers["Content-Type"] = content_type
        try:
            if self._api is not None:
                # the API server's session (authentication, TLS), not KubeApi.raw: the headers matter
                session = await self._api.session()
                url = self._proxy_path(path).lstrip("/")
            else:
                assert self._session is not None and self.target.url is not None
                session, url = self._session, self.target.url.rstrip("/") + path
            async with session.request(method, url, data=data, headers=headers) as resp:
                return resp.status, resp.headers.get("Retry-After"), await _read_bounded(resp)
        except kube.ApiError as exc:
            raise InputError(f"cannot reach the operator at {self.target.describe()}: {exc}") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise InputError(f"cannot reach the operator at {self.target.describe()}: {exc}") from None


async def _read_bounded(resp: aiohttp.ClientResponse, limit: int = limits.CLI_MAX_INPUT_BYTES) -> bytes:
    """The whole answer, refused beyond ``limit`` bytes (an answer is read like any input)."""
    too_large = f"the operator's answer is larger than {limit // (1024 * 1024)} MiB"
    if resp.content_length is not None and resp.content_length > limit:
        raise InputError(too_large)
    chunks, size = [], 0
    async for chunk in resp.content.iter_chunked(65536):
        size += len(chunk)
        if size > limit:
            raise InputError(too_large)
        chunks.append(chunk)
    return b"".join(chunks)
