"""The one adapter to the Kubernetes API.

Only this module imports the ``kubernetes`` client. It turns the standard client
configuration (``--kubeconfig``/``--context``, ``KUBECONFIG``, ``~/.kube/config``
or the in-cluster service account) into plain :class:`Connection` values that
the operator hands to kopf and to its own API calls.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import os
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiohttp

from secretsync.errors import UsageError

logger = logging.getLogger("secretsync.kube")


@dataclasses.dataclass(frozen=True)
class Connection:
    """Where the API server is and how to authenticate, as loaded from the client config."""

    server: str
    ca_path: str | None = None
    insecure: bool = False
    scheme: str | None = None
    token: str | None = dataclasses.field(default=None, repr=False)
    username: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)
    certificate_path: str | None = None
    private_key_path: str | None = None
    default_namespace: str | None = None


def _in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST"))


def load_connection(kubeconfig: str | None = None, context: str | None = None) -> Connection:
    """Load the standard client configuration, in the order kubectl users expect.

    An explicit ``--kubeconfig`` or ``--context`` wins; otherwise the in-cluster
    service account when running in a pod; otherwise ``KUBECONFIG`` or
    ``~/.kube/config``. Errors become :class:`UsageError` with the reason.
    """
    from kubernetes import client, config

    cfg = client.Configuration()
    default_ns: str | None = None
    try:
        if kubeconfig is None and context is None and _in_cluster():
            config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
            ns_file = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
            if os.path.exists(ns_file):
                with open(ns_file, encoding="utf-8") as fh:
                    default_ns = fh.read().strip() or None
        else:
            config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=cfg)  # type: ignore[no-untyped-call]
            contexts, active = config.list_kube_config_contexts(config_file=kubeconfig)  # type: ignore[no-untyped-call]
            chosen = next((c for c in contexts if c.get("name") == context), active) if context else active
            default_ns = (chosen or {}).get("context", {}).get("namespace")
    except (config.ConfigException, OSError) as exc:
        where = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
        raise UsageError(f"cannot load Kubernetes client configuration from {where}: {exc}") from None

    header = cfg.get_api_key_with_prefix("BearerToken") or cfg.get_api_key_with_prefix("authorization")
    parts = header.split(" ", 1) if header else []
    scheme, token = (
        (None, None) if not parts else (None, parts[0]) if len(parts) == 1 else (parts[0], parts[1])
    )
    return Connection(
        server=cfg.host,
        ca_path=cfg.ssl_ca_cert or None,
        insecure=not cfg.verify_ssl,
        scheme=scheme,
        token=token,
        username=cfg.username or None,
        password=cfg.password or None,
        certificate_path=cfg.cert_file or None,
        private_key_path=cfg.key_file or None,
        default_namespace=default_ns,
    )


class ApiError(Exception):
    """A Kubernetes API call failed; ``status`` is the HTTP status (0 when unreachable)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(f"Kubernetes API {status} {reason}: {message}")


class NotFound(ApiError):
    """404: the object does not exist."""


class Conflict(ApiError):
    """409: already exists, or a stale resourceVersion."""


class Invalid(ApiError):
    """422: the API server refused the object itself (validation, a failed JSON-patch test, an
    immutable field): retrying the same write cannot help. The message names the fields, never
    their values (``invalid_fields``), because a refused value could be a secret."""


FIELD_MANAGER = "secretsync"
"""Who wrote it, in every object's managedFields (server-side apply and ``kubectl`` show it)."""
_WRITES = frozenset({"POST", "PUT", "PATCH"})


def invalid_fields(payload: Mapping[str, Any]) -> str:
    """The fields a 422 Status names, with the kind of problem: ``data[tls.key] (FieldValueRequired)``."""
    causes = (payload.get("details") or {}).get("causes") or []
    named = [
        f"{cause.get('field')} ({cause.get('reason')})"
        for cause in causes
        if isinstance(cause, dict) and cause.get("field")
    ]
    return ", ".join(named[:10]) or str(payload.get("reason") or "Invalid")


Body = dict[str, Any]


def path_for(
    api_version: str,
    plural: str,
    namespace: str | None = None,
    name: str | None = None,
    sub: str | None = None,
) -> str:
    """The REST path of a resource: ``v1`` -> ``/api/v1``, ``group/v`` -> ``/apis/group/v``."""
    base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    parts = [base]
    if namespace is not None:
        parts.append(f"namespaces/{quote(namespace, safe='')}")
    parts.append(plural)
    if name is not None:
        parts.append(quote(name, safe=""))
    if sub is not None:
        parts.append(sub)
    return "/".join(parts)


class KubeApi:
    """A small async REST client over aiohttp, sharing one connection pool.

    The operator's writes (Secrets, status, events, leases) go through here. It
    speaks plain JSON to the API server, which is all the operator needs, and
    keeps the heavy generated client off the hot path.
    """

    def __init__(self, conn: Connection, *, timeout: float = 30.0) -> None:
        self.conn = conn
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def _ssl(self) -> ssl.SSLContext | bool:
        if not self.conn.server.startswith("https"):
            return False
        if self.conn.insecure:
            return False
        ctx = ssl.create_default_context(cafile=self.conn.ca_path)
        if self.conn.certificate_path and self.conn.private_key_path:
            ctx.load_cert_chain(self.conn.certificate_path, self.conn.private_key_path)
        return ctx

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.conn.token:
            headers["Authorization"] = f"{self.conn.scheme or 'Bearer'} {self.conn.token}"
        return headers

    async def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            auth = None
            if self.conn.username and self.conn.password:
                auth = aiohttp.BasicAuth(self.conn.username, self.conn.password)
            self._session = aiohttp.ClientSession(
                base_url=self.conn.server.rstrip("/") + "/",
                headers=self._headers(),
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                connector=aiohttp.TCPConnector(ssl=self._ssl(), limit=64),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Body | list[Any] | None = None,
        params: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Body:
        session = await self.session()
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": content_type} if data is not None else {}
        if method in _WRITES:
            params = {"fieldManager": FIELD_MANAGER, **(params or {})}
        try:
            async with session.request(
                method, path.lstrip("/"), data=data, params=params, headers=headers
            ) as resp:
                text = await resp.text()
                if resp.status >= 400:
                    reason, message = resp.reason or "", text[:300]
                    try:
                        payload = json.loads(text)
                        reason = payload.get("reason", reason)
                        message = payload.get("message", message)
                    except ValueError:
                        payload = {}
                    if resp.status == 422:
                        raise Invalid(422, str(reason), invalid_fields(payload) if payload else "Invalid")
                    cls = NotFound if resp.status == 404 else Conflict if resp.status == 409 else ApiError
                    raise cls(resp.status, str(reason), str(message))
                return json.loads(text) if text else {}
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ApiError(0, "Unreachable", f"{type(exc).__name__}: {exc}") from None

    async def raw(
        self, method: str, path: str, *, data: bytes | None = None, content_type: str = "application/json"
    ) -> tuple[int, bytes]:
        """A request whose answer is not JSON (the service proxy): (status, body); never raises on status."""
        session = await self.session()
        headers = {"Content-Type": content_type, "Accept": "*/*"} if data is not None else {"Accept": "*/*"}
        try:
            async with session.request(method, path.lstrip("/"), data=data, headers=headers) as resp:
                return resp.status, await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ApiError(0, "Unreachable", f"{type(exc).__name__}: {exc}") from None

    async def get(self, path: str) -> Body | None:
        try:
            return await self.request("GET", path)
        except NotFound:
            return None

    async def list(self, path: str, *, label_selector: str | None = None) -> list[Body]:
        params = {"labelSelector": label_selector} if label_selector else None
        items = (await self.request("GET", path, params=params)).get("items") or []
        return [item for item in items if isinstance(item, dict)]

    async def create(self, path: str, body: Body) -> Body:
        return await self.request("POST", path, body=body)

    async def replace(self, path: str, body: Body) -> Body:
        return await self.request("PUT", path, body=body)

    async def merge_patch(self, path: str, body: Body) -> Body:
        return await self.request("PATCH", path, body=body, content_type="application/merge-patch+json")

    async def write_status(self, path: str, uid: str, new_status: Body) -> Body:
        """Set ``status`` (``path`` ends in ``/status``) only if the object still has ``uid``.

        A JSON patch whose ``test`` op the API server evaluates against the stored object: a late
        reconcile of a deleted object never writes onto a new object of the same name (a uid in a
        merge patch of the status subresource is simply dropped by the server)."""
        ops = [
            {"op": "test", "path": "/metadata/uid", "value": uid},
            {"op": "add", "path": "/status", "value": new_status},
        ]
        return await self.request("PATCH", path, body=ops, content_type="application/json-patch+json")

    async def delete(self, path: str, *, uid: str | None = None, resource_version: str | None = None) -> None:
        """Delete; with ``uid``/``resource_version`` only that very object, unchanged since it was read
        (the server answers 409 otherwise, which raises :class:`Conflict`). Absent is not an error."""
        preconditions = {k: v for k, v in (("uid", uid), ("resourceVersion", resource_version)) if v}
        body = (
            {"apiVersion": "v1", "kind": "DeleteOptions", "preconditions": preconditions}
            if preconditions
            else None
        )
        with contextlib.suppress(NotFound):
            await self.request("DELETE", path, body=body)


def meta(body: Mapping[str, Any]) -> dict[str, Any]:
    """``metadata`` of an object, or {} when it is missing or malformed (never raises)."""
    found = body.get("metadata")
    return found if isinstance(found, dict) else {}


def same_secret(existing: Body, desired: Body) -> bool:
    """Would writing ``desired`` over ``existing`` change anything a controller manages?

    Data, type, immutability, labels, annotations and ownerReferences; an absent map and an
    empty one count as equal, so a no-op never becomes a write.
    """
    if any(existing.get(k) != desired.get(k) for k in ("data", "type", "immutable")):
        return False
    a, b = meta(existing), meta(desired)
    return all((a.get(k) or None) == (b.get(k) or None) for k in ("labels", "annotations", "ownerReferences"))


def ref_of(body: Body) -> str:
    """``namespace/name`` (or ``name`` for cluster objects) for messages and logs."""
    meta = body.get("metadata") or {}
    ns, name = meta.get("namespace"), meta.get("name", "?")
    return f"{ns}/{name}" if ns else str(name)


def controller_reference(owner: Body) -> Body:
    """An ownerReference that makes ``owner`` the controller, so Kubernetes garbage-collects the child."""
    meta = owner.get("metadata") or {}
    return {
        "apiVersion": owner.get("apiVersion"),
        "kind": owner.get("kind"),
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def is_controlled_by(child: Body, owner: Body) -> bool:
    uid = (owner.get("metadata") or {}).get("uid")
    refs = (child.get("metadata") or {}).get("ownerReferences") or []
    return any(ref.get("controller") and ref.get("uid") == uid for ref in refs if isinstance(ref, dict))


def controller_of(child: Body) -> Body | None:
    """The controller ownerReference of ``child``, if any."""
    refs = (child.get("metadata") or {}).get("ownerReferences") or []
    return next((r for r in refs if isinstance(r, dict) and r.get("controller")), None)


async def post_event(
    api: KubeApi,
    involved: Body,
    *,
    type_: str,
    reason: str,
    message: str,
    component: str = "secretsync",
) -> None:
    """Record a core/v1 Event on ``involved``. Best effort: a failed event never fails a reconcile."""
    meta = involved.get("metadata") or {}
    namespace = meta.get("namespace") or "default"
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{meta.get('name', 'object')}.", "namespace": namespace},
        "involvedObject": {
            "apiVersion": involved.get("apiVersion"),
            "kind": involved.get("kind"),
            "name": meta.get("name"),
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
        },
        "type": type_,
        "reason": reason,
        "message": message[:1024],
        "source": {"component": component},
        "reportingComponent": component,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    try:
        await api.create(path_for("v1", "events", namespace), body)
    except ApiError as exc:
        logger.warning("could not post event %s on %s: %s", reason, ref_of(involved), exc)
