"""The one adapter to the Kubernetes API.

It turns the standard client configuration (``--kubeconfig``/``--context``,
``KUBECONFIG``, ``~/.kube/config`` or the in-cluster service account, read by
:mod:`secretsync.kubeconfig` as client-go reads them) into plain :class:`Connection`
values that the operator hands to kopf and to its own API calls.

Every session it makes (ours and kopf's) authenticates through one :class:`TokenSource`: a
bearer token that comes from a file (the projected service account token, a kubeconfig's
``tokenFile``) is re-read as the kubelet rotates it, as client-go does.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import os
import random
import ssl
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Final
from urllib.parse import quote

import aiohttp
from aiohttp import hdrs

from secretsync import __version__
from secretsync import kubeconfig as kubeconfig_loader
from secretsync.errors import UsageError

logger = logging.getLogger("secretsync.kube")

#: What every request says it comes from (the API server's audit log shows it); a shard adds
#: its id (secretsync.operator), so its requests can be told apart from the others'.
USER_AGENT = f"secretsync/{__version__}"

#: Where a pod's service account (token, CA, namespace) is mounted; tests point it elsewhere.
SERVICE_ACCOUNT_DIR = kubeconfig_loader.SERVICE_ACCOUNT_DIR
#: How long a token read from a file is used before the file is read again, and how much earlier
#: than that the re-read happens: client-go's ``NewCachedFileTokenSource`` (k8s.io/client-go
#: transport/token_source.go: a ``fileTokenSource`` with a 1 minute period under a
#: ``cachingTokenSource`` with 10 s leeway). Half the time between the kubelet rotating a projected
#: token (at 80 % of its life) and its expiry, for the shortest (10 minute) tokens.
TOKEN_PERIOD = 60.0
TOKEN_LEEWAY = 10.0
#: After a 401 that re-reading the file did not cure, the file is not re-read for a 401 again for
#: this long, doubling per further failure up to the cap (the periodic re-read goes on regardless).
TOKEN_BACKOFF = 1.0
TOKEN_BACKOFF_CAP = 60.0


@dataclasses.dataclass(frozen=True)
class Connection:
    """Where the API server is and how to authenticate, as loaded from the client config.

    ``token_file``: the file ``token`` was read from (the in-cluster service account token, a
    kubeconfig's ``tokenFile``), so that it can be re-read (:class:`TokenSource`)."""

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
    token_file: str | None = None
    # PEM bytes from a kubeconfig's *-data fields or an exec plugin, instead of the paths above.
    ca_data: bytes | None = dataclasses.field(default=None, repr=False)
    certificate_data: bytes | None = dataclasses.field(default=None, repr=False)
    private_key_data: bytes | None = dataclasses.field(default=None, repr=False)

    @property
    def has_client_certificate(self) -> bool:
        return bool(self.certificate_path or self.certificate_data) and bool(
            self.private_key_path or self.private_key_data
        )


def load_connection(
    kubeconfig: str | None = None,
    context: str | None = None,
    *,
    service_account_dir: str | None = None,
    allow_exec: bool = True,
) -> Connection:
    """Load the standard client configuration, in the order kubectl users expect.

    An explicit ``--kubeconfig`` or ``--context`` wins; otherwise the in-cluster
    service account when running in a pod (``service_account_dir``, by default
    :data:`SERVICE_ACCOUNT_DIR`); otherwise ``KUBECONFIG`` or ``~/.kube/config``.
    Read by :mod:`secretsync.kubeconfig` (client-go's rules, no ``kubernetes`` package).
    Errors become :class:`UsageError` with the reason, never with a credential.
    """
    cfg = kubeconfig_loader.load(
        kubeconfig,
        context,
        service_account_dir=service_account_dir or SERVICE_ACCOUNT_DIR,
        allow_exec=allow_exec,  # False for the operator: an exec credential expires unrefreshed
    )
    conn = Connection(
        server=cfg.server,
        ca_path=cfg.ca_file,
        ca_data=cfg.ca_data,
        insecure=cfg.insecure,
        token=cfg.token,
        username=cfg.username,
        password=cfg.password,
        certificate_path=cfg.cert_file,
        private_key_path=cfg.key_file,
        certificate_data=cfg.cert_data,
        private_key_data=cfg.key_data,
        default_namespace=cfg.namespace,
        token_file=cfg.token_file if cfg.token else None,
    )
    if (
        conn.server.startswith("https")
        and not conn.insecure
        and (conn.ca_data or conn.has_client_certificate)
    ):
        what = "the client certificate and key" if conn.has_client_certificate else "the CA certificate"
        try:
            ssl_context(conn)
        except (ssl.SSLError, ValueError):
            # OpenSSL's reason names no content; ours says which part of the configuration failed.
            raise UsageError(
                f"cannot load Kubernetes client configuration from {cfg.source}: {what} cannot be loaded "
                "(not PEM, or a key that does not match its certificate)"
            ) from None
        except OSError as exc:  # a file that cannot be read, or no writable temporary directory
            raise UsageError(
                f"cannot load Kubernetes client configuration from {cfg.source}: {what} cannot be "
                f"read: {exc.strerror or type(exc).__name__}"
            ) from None
    return conn


def ssl_context(conn: Connection) -> ssl.SSLContext:
    """The TLS context of an https connection: the CA (file or data; else the system's) and the
    client certificate. Certificate data is loaded through a private temporary directory that
    is removed at once (``ssl`` loads a certificate chain from files only)."""
    cadata = conn.ca_data.decode("ascii") if conn.ca_data else None
    ctx = ssl.create_default_context(cafile=conn.ca_path, cadata=cadata)
    if not conn.has_client_certificate:
        return ctx
    if conn.certificate_data is None and conn.private_key_data is None:
        ctx.load_cert_chain(conn.certificate_path or "", conn.private_key_path)
        return ctx
    import tempfile

    with tempfile.TemporaryDirectory(prefix="secretsync-tls-") as tmp:  # mode 0700
        paths = []
        for name, data, path in (
            ("tls.crt", conn.certificate_data, conn.certificate_path),
            ("tls.key", conn.private_key_data, conn.private_key_path),
        ):
            if data is None:
                paths.append(path or "")
                continue
            target = os.path.join(tmp, name)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            paths.append(target)
        ctx.load_cert_chain(paths[0], paths[1])
    return ctx


class ApiError(Exception):
    """A Kubernetes API call failed; ``status`` is the HTTP status (0 when unreachable)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        self.status = status
        self.reason = reason
        self.retry_after: float | None = None  # the answer's Retry-After, in seconds
        super().__init__(f"Kubernetes API {status} {reason}: {message}")

    @property
    def transient(self) -> bool:
        """The API's own trouble (unreachable, 429, 5xx), not the request's: worth trying again."""
        return self.status in (0, 429) or self.status >= 500


TRANSIENT_ATTEMPTS: Final = 3
"""Tries of one request that meets a transient answer; the controllers' backoff takes it from there."""
_RETRY_AFTER_CAP: Final = 10.0


def _retry_after(header: str | None) -> float | None:
    try:
        return max(0.0, float(header)) if header else None
    except ValueError:
        return None  # an HTTP date: the API server sends seconds


def _transient_delay(method: str, error: ApiError, attempt: int) -> float | None:
    """How long to wait before trying ``error``'s request again inside the call, or None.

    429 (API Priority and Fairness, never processed): any method, after its Retry-After. 5xx, a
    time-out or no answer: only reads, which are safe to repeat (a write may have happened; the
    controller's own retry reads the state first). Never 4xx otherwise: a 422 is not transient.
    """
    if attempt + 1 >= TRANSIENT_ATTEMPTS:
        return None
    jitter = 1 + random.uniform(0, 0.2)
    if error.status == 429:
        return min(error.retry_after if error.retry_after is not None else 1.0, _RETRY_AFTER_CAP) * jitter
    if method == "GET" and (error.status == 0 or error.status >= 500):
        return 0.2 * float(2**attempt) * jitter
    return None


class NotFound(ApiError):
    """404: the object does not exist."""


class Conflict(ApiError):
    """409: already exists, or a stale resourceVersion."""


class Invalid(ApiError):
    """422: the API server refused the object itself (validation, a failed JSON-patch test, an
    immutable field): retrying the same write cannot help. The message names the fields, never
    their values (``invalid_fields``), because a refused value could be a secret."""


class TokenSource:
    """The bearer token every request carries, re-read from its file as the kubelet rotates it.

    client-go's ``cachingTokenSource`` over a ``fileTokenSource`` (``NewCachedFileTokenSource``):
    a token read from ``path`` is used for ``period - leeway`` seconds, then the file is read again;
    a read that fails (or finds the file empty) keeps the token in hand and says so. After a 401 the
    file is read again at once unless it was read after the failed request started (client-go's
    ``ResetTokenOlderThan``), and :meth:`middleware` retries the request once when that gives
    another token. A token the server still rejects after the re-read is an error, logged, and
    counted in :attr:`failures`, which sets the :attr:`backoff` of the next forced re-read (and of
    kopf's re-login); any accepted request with the current token clears it.

    Without ``path`` the token (or none: certificates, basic auth) is static: 401s only count.
    ``clock`` is monotonic seconds (a fake one in tests). Thread-safe; reads are small and local.
    """

    def __init__(
        self,
        path: str | None = None,
        token: str | None = None,
        *,
        scheme: str | None = None,
        period: float = TOKEN_PERIOD,
        leeway: float = TOKEN_LEEWAY,
        backoff: float = TOKEN_BACKOFF,
        backoff_cap: float = TOKEN_BACKOFF_CAP,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.scheme = "Bearer" if not scheme or scheme.lower() == "bearer" else scheme
        self._period, self._leeway = period, leeway
        self._backoff, self._backoff_cap = backoff, backoff_cap
        self.now = clock
        self._lock = threading.Lock()
        self._token = token.strip() if token else None
        self._read_at: float | None = clock() if self._token and path else None
        self.failures = 0
        self._quiet_until = 0.0  # no forced re-read (nor error log) before this, while failing

    @classmethod
    def for_connection(cls, conn: Connection, **kwargs: Any) -> TokenSource:
        return cls(conn.token_file, conn.token, scheme=conn.scheme, **kwargs)

    @property
    def what(self) -> str:
        return f"the token in {self.path}" if self.path else "the configured credentials"

    @property
    def backoff(self) -> float:
        """How long to wait before trying the token again (0 while it is not failing)."""
        if not self.failures:
            return 0.0
        return float(min(self._backoff * 2 ** (self.failures - 1), self._backoff_cap))

    def _read(self, now: float) -> None:
        """Read the file (lock held); on failure keep the token in hand, as client-go does."""
        assert self.path is not None
        self._read_at = now
        try:
            with open(self.path, encoding="utf-8") as fh:
                fresh = fh.read().strip()
            if not fresh:
                raise OSError(f"read an empty token from {self.path}")
        except (OSError, UnicodeDecodeError) as exc:
            if self._token is None:
                raise ApiError(401, "Unauthorized", f"cannot read the token file: {exc}") from None
            logger.error("cannot re-read the token file, still using the last token read: %s", exc)
            return
        if fresh != self._token:
            logger.debug("read a new token from %s", self.path)
            self._token = fresh

    def token(self) -> str | None:
        """The token to send now: re-read first when the last read is ``period - leeway`` old."""
        if self.path is None:
            return self._token
        now = self.now()
        read_at = self._read_at
        if self._token is not None and read_at is not None and now < read_at + self._period - self._leeway:
            return self._token
        with self._lock:
            read_at = self._read_at
            if self._token is None or read_at is None or now >= read_at + self._period - self._leeway:
                self._read(now)
            return self._token

    def refresh(self) -> str | None:
        """Read the file now, whatever the period (kopf's re-login never gets a cached token)."""
        if self.path is None:
            return self._token
        with self._lock:
            self._read(self.now())
            return self._token

    def unauthorized(self, used: str | None, started: float) -> str | None:
        """A request sent at ``started`` with ``used`` got 401: the token to retry it with, if any.

        Another token when the file (re-read now, unless it was read after ``started``) holds one;
        None when it still holds the rejected token: that is logged as an error, once per
        :attr:`backoff`, during which the file is not re-read for a 401 (the period still runs)."""
        with self._lock:
            now = self.now()
            if self.path is not None and now >= self._quiet_until:
                if self._read_at is None or self._read_at <= started:
                    self._read(now)
                if self._token != used:
                    logger.info(
                        "the Kubernetes API server refused a token; retrying with the one now in %s",
                        self.path,
                    )
                    return self._token
            elif self._token != used:
                return self._token  # rotated meanwhile: the current token is worth one try
            if now < self._quiet_until:
                return None  # failing, and already said so
            self.failures += 1
            self._quiet_until = now + self.backoff
            logger.error(
                "the Kubernetes API server rejects %s (401 Unauthorized)%s (failure %d, next try in %.0fs)",
                self.what,
                " even after re-reading it" if self.path else "",
                self.failures,
                self.backoff,
            )
            return None

    def authorized(self, used: str | None) -> None:
        """A request with ``used`` was not refused: a failing token is good again."""
        if self.failures and used == self._token:
            with self._lock:
                if self.failures and used == self._token:
                    logger.info("the Kubernetes API server accepts %s again", self.what)
                    self.failures, self._quiet_until = 0, 0.0

    async def middleware(
        self, request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        """aiohttp client middleware: the current token on every request, one retry after a 401
        when the token changed (a re-read file, or a rotation by a concurrent request)."""
        token = self.token()
        started = self.now()
        if token is not None:
            request.headers[hdrs.AUTHORIZATION] = f"{self.scheme} {token}"
        response = await handler(request)
        if response.status != 401:
            self.authorized(token)
            return response
        retry_with = self.unauthorized(token, started)
        if retry_with is None:
            return response
        response.release()
        started = self.now()
        request.headers[hdrs.AUTHORIZATION] = f"{self.scheme} {retry_with}"
        response = await handler(request)
        if response.status == 401:
            self.unauthorized(retry_with, started)  # counted and logged; no second retry
        else:
            self.authorized(retry_with)
        return response


LIST_PAGE = 500
"""Objects per page of a list (kubectl's default chunk size)."""
WATCH_TIMEOUT = 300.0
"""Seconds a watch request asks the server to keep it open (``timeoutSeconds``)."""

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

    def __init__(
        self,
        conn: Connection,
        *,
        timeout: float = 30.0,
        tokens: TokenSource | None = None,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.conn = conn
        self.user_agent = user_agent
        self.tokens = tokens if tokens is not None else TokenSource.for_connection(conn)
        self._timeout = timeout
        # Told of every answer: (method, HTTP status or 0 for none, reason). Health and metrics.
        self.observe: Callable[[str, int, str], None] | None = None
        self._session: aiohttp.ClientSession | None = None

    def _ssl(self) -> ssl.SSLContext | bool:
        if not self.conn.server.startswith("https"):
            return False
        if self.conn.insecure:
            return False
        return ssl_context(self.conn)

    def new_session(self, *, limit: int = 0, **kwargs: Any) -> aiohttp.ClientSession:
        """A session to the API server (TLS and client certificate as configured) that authenticates
        through :attr:`tokens`: the bearer token is set per request, re-read as it rotates, and a
        401 is retried once with a re-read token. The operator gives kopf a new one at each login;
        ``limit`` caps its connections (0: none, as kopf's own sessions, for its many watches)."""
        auth = None
        if self.conn.username and self.conn.password:
            auth = aiohttp.BasicAuth(self.conn.username, self.conn.password)
        headers = {hdrs.USER_AGENT: self.user_agent, **(kwargs.pop("headers", None) or {})}
        return aiohttp.ClientSession(
            auth=auth,
            middlewares=(self.tokens.middleware,),
            connector=aiohttp.TCPConnector(ssl=self._ssl(), limit=limit),
            headers=headers,
            **kwargs,
        )

    async def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = self.new_session(
                limit=64,
                base_url=self.conn.server.rstrip("/") + "/",
                headers={"Accept": "application/json"},
                timeout=aiohttp.ClientTimeout(total=self._timeout),
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
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": content_type} if data is not None else {}
        if method in _WRITES:
            params = {"fieldManager": FIELD_MANAGER, **(params or {})}
        for attempt in range(TRANSIENT_ATTEMPTS):
            try:
                answer = await self._request_once(method, path, data, params, headers)
            except ApiError as exc:
                if self.observe is not None:
                    self.observe(method, exc.status, exc.reason)
                delay = _transient_delay(method, exc, attempt)
                if delay is None:
                    raise
                await asyncio.sleep(delay)
                continue
            if self.observe is not None:
                self.observe(method, 200, "")
            return answer
        raise AssertionError("unreachable")  # pragma: no cover - the last attempt raises

    async def _request_once(
        self,
        method: str,
        path: str,
        data: bytes | None,
        params: dict[str, str] | None,
        headers: dict[str, str],
    ) -> Body:
        session = await self.session()
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
                    except (ValueError, AttributeError):  # not JSON, or JSON but not a Status object
                        payload = {}
                    if resp.status == 422:
                        raise Invalid(422, str(reason), invalid_fields(payload) if payload else "Invalid")
                    cls = NotFound if resp.status == 404 else Conflict if resp.status == 409 else ApiError
                    error = cls(resp.status, str(reason), str(message))
                    error.retry_after = _retry_after(resp.headers.get("Retry-After"))
                    raise error
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

    async def list(
        self, path: str, *, label_selector: str | None = None, limit: int = LIST_PAGE
    ) -> list[Body]:
        """Every object at ``path`` (matching ``label_selector``), fetched in pages of ``limit``."""
        items: list[Body] = []
        async for page in self.list_pages(path, label_selector=label_selector, limit=limit):
            items.extend(item for item in page.get("items") or [] if isinstance(item, dict))
        return items

    async def list_pages(
        self, path: str, *, label_selector: str | None = None, limit: int = LIST_PAGE
    ) -> AsyncIterator[Body]:
        """A list as the API server's pages (``limit`` + ``continue``, as kubectl and client-go's
        reflector list), so a large namespace or cluster never arrives as one response. Each page is
        the List object; its ``metadata.resourceVersion`` is the list's (the same in every page).
        An expired ``continue`` token is ApiError 410: list again from the start."""
        params = {"limit": str(limit)}
        if label_selector:
            params["labelSelector"] = label_selector
        while True:
            page = await self.request("GET", path, params=params)
            yield page
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return
            params = {**params, "continue": str(token)}

    async def watch(
        self,
        path: str,
        *,
        label_selector: str | None = None,
        resource_version: str | None = None,
        timeout: float = WATCH_TIMEOUT,
    ) -> AsyncIterator[Body]:
        """The events (``type``, ``object``) of one watch request: from ``resource_version``, with
        bookmarks, until the server ends it after ``timeout`` s. An event of type ERROR carries the
        server's Status (code 410: the resourceVersion is too old, list again); a refused request
        raises ApiError (410 too), a broken or silent connection ApiError 0."""
        params = {"watch": "true", "allowWatchBookmarks": "true", "timeoutSeconds": str(int(timeout))}
        if label_selector:
            params["labelSelector"] = label_selector
        if resource_version:
            params["resourceVersion"] = resource_version
        session = await self.session()
        # No total time-out (the server ends the watch); a silent connection is dead after sock_read.
        limits = aiohttp.ClientTimeout(total=None, sock_connect=self._timeout, sock_read=timeout + 30)
        try:
            async with session.get(path.lstrip("/"), params=params, timeout=limits) as resp:
                if resp.status >= 400:
                    text = await resp.text()
                    reason, message = resp.reason or "", text[:300]
                    with contextlib.suppress(ValueError, AttributeError):
                        payload = json.loads(text)
                        reason, message = payload.get("reason", reason), payload.get("message", message)
                    raise ApiError(resp.status, str(reason), str(message))
                pending = bytearray()
                async for chunk in resp.content.iter_any():  # lines may exceed aiohttp's line limit
                    pending += chunk
                    while (end := pending.find(b"\n")) >= 0:
                        line, pending[: end + 1] = bytes(pending[:end]), b""
                        if line.strip():
                            event = json.loads(line)
                            if isinstance(event, dict):
                                yield event
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ApiError(0, "Unreachable", f"watch {path}: {type(exc).__name__}: {exc}") from None

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
        try:
            return await self.request("PATCH", path, body=ops, content_type="application/json-patch+json")
        except Invalid:
            # A failed ``test`` is a 422 too: an object replaced meanwhile (as a 409 would say) is
            # told apart from a status the server refuses (which no retry can mend).
            current = await self.get(path.rsplit("/", 1)[0])
            if current is None or meta(current).get("uid") != uid:
                raise Conflict(409, "Conflict", "the object was replaced meanwhile") from None
            raise

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
    except Exception as exc:  # an Event is best effort: it never fails the sync that reports
        logger.warning(
            "could not post event %s on %s: unexpected %s", reason, ref_of(involved), type(exc).__name__
        )
