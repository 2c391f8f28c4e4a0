"""An in-memory stand-in for :class:`secretsync.kube.KubeApi`, and an executor that runs inline.

For driving a controller in the test process, reconcile by reconcile (the mutation tests,
tests/test_mutation_sealed.py and tests/external/test_mutation_controller.py): objects by REST
path, resourceVersions, the uid precondition of status writes and deletions, and failures on
demand. What the real API server does beyond that is the emulator's and the real-cluster tier's.
"""

from __future__ import annotations

import asyncio
import base64
import copy
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

import pytest

from secretsync import kube
from secretsync.metrics import Metrics


class FakeApi:
    """Objects by path, with resourceVersions, a uid precondition on status writes and deletions,
    and failures on demand: ``fail[(verb, path)] = exc`` raises once (``sticky`` keeps raising)."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.fail: dict[tuple[str, str], Exception] = {}
        self.sticky: set[tuple[str, str]] = set()
        self.sent: list[tuple[str, str, dict[str, Any]]] = []  # (verb, path, body) of every write
        self.deletions: list[tuple[str, str | None, str | None]] = []  # (path, uid, resourceVersion)
        self._rv = 100
        self._names = 0

    def _raise(self, verb: str, path: str) -> None:
        self.calls.append((verb, path))
        exc = self.fail.get((verb, path))
        if exc is not None:
            if (verb, path) not in self.sticky:
                del self.fail[(verb, path)]
            raise exc

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def put(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Store ``body`` at ``path`` as the API server would (a new resourceVersion); a copy back."""
        body = copy.deepcopy(body)
        body.setdefault("metadata", {})["resourceVersion"] = self._next_rv()
        self.objects[path] = body
        return copy.deepcopy(body)

    async def get(self, path: str) -> dict[str, Any] | None:
        self._raise("get", path)
        found = self.objects.get(path)
        return copy.deepcopy(found) if found is not None else None

    async def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        self._raise("create", path)
        self.sent.append(("create", path, copy.deepcopy(body)))
        meta = body.get("metadata") or {}
        name = meta.get("name")
        if not name:
            self._names += 1
            name = f"{meta['generateName']}{self._names}"
        target = f"{path}/{name}"
        if target in self.objects:
            raise kube.Conflict(409, "AlreadyExists", f"{name} already exists")
        created = self.put(target, body)
        self.objects[target]["metadata"]["name"] = created["metadata"]["name"] = name
        self.objects[target]["metadata"].setdefault("uid", f"uid-{name}")
        created["metadata"].setdefault("uid", f"uid-{name}")
        return created

    async def replace(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        self._raise("replace", path)
        self.sent.append(("replace", path, copy.deepcopy(body)))
        return self.put(path, body)

    async def delete(self, path: str, *, uid: str | None = None, resource_version: str | None = None) -> None:
        self._raise("delete", path)
        self.deletions.append((path, uid, resource_version))
        found = self.objects.get(path)
        if found is None:
            raise kube.NotFound(404, "NotFound", "gone")
        meta = found["metadata"]
        if (uid is not None and meta.get("uid") != uid) or (
            resource_version is not None and meta.get("resourceVersion") != resource_version
        ):
            raise kube.Conflict(409, "Conflict", "precondition failed")
        del self.objects[path]

    async def write_status(self, path: str, uid: str, new_status: dict[str, Any]) -> dict[str, Any]:
        self._raise("write_status", path)
        self.sent.append(("write_status", path, copy.deepcopy(new_status)))
        target = path.removesuffix("/status")
        found = self.objects.get(target)
        if found is None:
            raise kube.NotFound(404, "NotFound", "gone")
        if found["metadata"].get("uid") != uid:
            raise kube.Conflict(409, "Conflict", "uid precondition failed")
        found["status"] = copy.deepcopy(new_status)
        found["metadata"]["resourceVersion"] = self._next_rv()
        return copy.deepcopy(found)

    def events(self, namespace: str | None = None, kind: str | None = None) -> list[tuple[str, str, str]]:
        """(type, reason, message) of the Events created (on objects of ``kind``), in order."""
        prefix = kube.path_for("v1", "events", namespace) + "/" if namespace else None
        return [
            (e["type"], e["reason"], e["message"])
            for path, e in self.objects.items()
            if (path.startswith(prefix) if prefix else "/events/" in path)
            and (kind is None or e["involvedObject"].get("kind") == kind)
        ]

    def writes(self) -> list[tuple[str, str]]:
        return [(verb, path) for verb, path in self.calls if verb != "get"]


class Inline(Executor):
    """Runs the submitted call on the caller's thread: deterministic, no thread to fork. (Not for
    code that bridges back to the event loop from a worker thread, as provider credential reads do.)"""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


class ControllerHarness:
    """What a controller test reads back: the Secret written at ``secret_path``, its decoded values,
    and the metrics (subclasses set ``api``, ``metrics`` and ``secret_path``)."""

    api: FakeApi
    metrics: Metrics
    secret_path: str

    def secret(self) -> dict[str, Any] | None:
        return self.api.objects.get(self.secret_path)

    def values(self) -> dict[str, bytes]:
        secret = self.secret()
        assert secret is not None
        return {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}

    def sample(self, metric: str, **labels: str) -> float | None:
        return self.metrics.registry.get_sample_value(metric, labels)

    async def written(self, timeout: float = 3.0) -> dict[str, bytes]:
        """The Secret's values once it exists (a scheduled job writes it), waiting up to ``timeout``."""
        for _ in range(int(timeout / 0.01)):
            if self.secret() is not None:
                break
            await asyncio.sleep(0.01)
        return self.values()


def log_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    """(level, message) of every record of secretsync's loggers."""
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.name.startswith("secretsync")]
