"""Talking to a running operator from the CLI: directly by URL, or through the API server.

Users reach the operator the way kubeseal users reach Bitnami's controller: the
Kubernetes API service proxy (``services/NAME:http/proxy``), authenticated with
their kubeconfig, so nothing needs exposing. ``--controller-url`` skips the
proxy (port-forwards, tests, other clusters' ingress).
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import aiohttp

from secretsync import kube
from secretsync.errors import InputError, UsageError

DEFAULT_CONTROLLER_NAMESPACE = "secretsync-system"
DEFAULT_CONTROLLER_NAME = "secretsync"
PORT_NAME = "http"
RATE_LIMIT_RETRIES = 8  # about 23 s of backoff in all before a 429 is reported


@dataclasses.dataclass(frozen=True)
class Target:
    """Where the operator's HTTP API is."""

    url: str | None = None
    namespace: str = DEFAULT_CONTROLLER_NAMESPACE
    name: str = DEFAULT_CONTROLLER_NAME
    kubeconfig: str | None = None
    context: str | None = None
    origin: str | None = None  # e.g. "SEALED_SECRETS_CONTROLLER_NAMESPACE": named in messages

    def describe(self) -> str:
        where = self.url or f"service {self.namespace}/{self.name} (through the Kubernetes API proxy)"
        return f"{where}, set by {self.origin}" if self.origin else where


class Controller:
    """GET and POST to the operator's API; answers are (status, body) and never raise on status."""

    def __init__(self, target: Target) -> None:
        self.target = target
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
        """One request; a 429 (the operator's rate limits, shared by every user behind the API
        server's proxy) is retried with backoff, up to :data:`RATE_LIMIT_RETRIES` times."""
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            status, body = await self._once(method, path, data, content_type)
            if status != 429 or attempt == RATE_LIMIT_RETRIES:
                return status, body
            await asyncio.sleep(min(0.25 * 2**attempt, 5.0))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(self, method: str, path: str, data: bytes | None, content_type: str) -> tuple[int, bytes]:
        try:
            if self._api is not None:
                return await self._api.raw(
                    method, self._proxy_path(path), data=data, content_type=content_type
                )
            assert self._session is not None and self.target.url is not None
            headers = {"Content-Type": content_type} if data is not None else {}
            url = self.target.url.rstrip("/") + path
            async with self._session.request(method, url, data=data, headers=headers) as resp:
                return resp.status, await resp.read()
        except kube.ApiError as exc:
            raise InputError(f"cannot reach the operator at {self.target.describe()}: {exc}") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise InputError(f"cannot reach the operator at {self.target.describe()}: {exc}") from None
