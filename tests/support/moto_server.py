"""moto in server mode on a loopback port, with per-operation call counting and real outages.

Why not ``moto.server.ThreadedMotoServer`` as is: it builds its WSGI app inside its thread, so there is
no way to wrap it with a counting middleware, and its ``stop()`` only stops *accepting*: werkzeug's
threaded server speaks HTTP/1.1 keep-alive, so a boto3 client holding a pooled connection keeps being
answered after "stop", and an outage test would silently pass. :class:`MotoServer` uses the same parts
(``DomainDispatcherApplication(create_backend_app)`` + ``MotoRequestHandler`` under werkzeug's threaded
server), wraps the app with :class:`CallCounter`, and on stop also shuts down every open connection.

moto's backends are process globals: data survives stop/start (like a real AWS outage) and is wiped only
by :meth:`MotoServer.reset` (``POST /moto-api/reset``). Anything else in this process that uses moto's
decorators shares that state.
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.support import ports

if TYPE_CHECKING:
    from werkzeug.serving import ThreadedWSGIServer

__all__ = ["DUMMY_ENV", "AwsCall", "CallCounter", "MotoServer"]

REGION = "us-east-1"
DUMMY_ENV: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",  # never wait for an instance-metadata timeout
}

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class AwsCall:
    """One API call as seen on the wire: ``service`` from the SigV4 scope (``secretsmanager``, ``ssm``)."""

    service: str
    operation: str


def _service_from_auth(environ: dict[str, Any]) -> str:
    """``Credential=AKID/20250101/us-east-1/ssm/aws4_request`` -> ``ssm``."""
    auth = str(environ.get("HTTP_AUTHORIZATION", ""))
    marker = "Credential="
    if marker in auth:
        scope = auth.split(marker, 1)[1].split(",", 1)[0].split("/")
        if len(scope) >= 4:
            return scope[3]
    return ""


def _operation(environ: dict[str, Any]) -> AwsCall | None:
    """The AWS operation of a request: JSON protocols name it in ``X-Amz-Target``
    (``secretsmanager.GetSecretValue``, ``AmazonSSM.GetParameter``), query protocols in ``Action``."""
    if str(environ.get("PATH_INFO", "")).startswith("/moto-api"):
        return None
    service = _service_from_auth(environ)
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    if target:
        prefix, _, op = target.rpartition(".")
        return AwsCall(service or prefix, op)
    query = urllib.parse.parse_qs(str(environ.get("QUERY_STRING", "")))
    if "Action" in query:
        return AwsCall(service, query["Action"][0])
    content_type = str(environ.get("CONTENT_TYPE", ""))
    if content_type.startswith("application/x-www-form-urlencoded"):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # give moto the body back
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        if "Action" in form:
            return AwsCall(service, form["Action"][0])
    return None


class CallCounter:
    """WSGI middleware recording every AWS API call (in order) before moto handles it.

    Failed calls count too: the point is to assert how many requests the operator *sends*.
    """

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._log: list[AwsCall] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        call = _operation(environ)
        if call is not None:
            with self._lock:
                self._log.append(call)
        return self.app(environ, start_response)

    @property
    def log(self) -> list[AwsCall]:
        with self._lock:
            return list(self._log)

    def clear(self) -> None:
        with self._lock:
            self._log.clear()


def _make_wsgi_server(host: str, port: int, app: WSGIApp) -> ThreadedWSGIServer:
    """Build (and bind) werkzeug's threaded server in the caller's thread, so a bind error raises here
    instead of calling ``sys.exit`` inside a background thread as werkzeug does."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import ThreadedWSGIServer

    class Handler(MotoRequestHandler):
        # Set here so werkzeug does not set it on moto's shared handler class.
        protocol_version = "HTTP/1.1"

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            """Silence werkzeug's per-request access log (errors are still logged)."""

    class Server(ThreadedWSGIServer):
        """Remembers open connections so stop() can cut them (keep-alive would outlive shutdown)."""

        def __init__(self) -> None:
            self.open_connections: set[socket.socket] = set()
            self.connections_lock = threading.Lock()
            try:
                super().__init__(host, port, app, handler=Handler)
            except SystemExit as exc:  # werkzeug prints the reason and exits on bind errors
                raise OSError(f"moto server cannot listen on {host}:{port}") from exc

        def process_request(
            self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
        ) -> None:
            if isinstance(request, socket.socket):  # TCP: always a socket (tuples are UDP)
                with self.connections_lock:
                    self.open_connections.add(request)
            super().process_request(request, client_address)

        def shutdown_request(self, request: socket.socket | tuple[bytes, socket.socket]) -> None:
            if isinstance(request, socket.socket):
                with self.connections_lock:
                    self.open_connections.discard(request)
            super().shutdown_request(request)

        def cut_connections(self) -> None:
            with self.connections_lock:
                conns = list(self.open_connections)
            for conn in conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    return Server()


class MotoServer:
    """moto (all services) on ``http://127.0.0.1:PORT``; stop()/start() keep the port and the data."""

    def __init__(self, *, port: int | None = None, region: str = REGION) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self._owns_port = port is None
        self.port = port if port is not None else ports.reserve_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.region = region
        self.counter = CallCounter(DomainDispatcherApplication(create_backend_app))
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        """Listen again (no-op if running). Returns once the socket is bound and accepting."""
        with self._lock:
            if self._server is not None:
                return
            server = _make_wsgi_server("127.0.0.1", self.port, self.counter)
            # poll_interval bounds how long shutdown() waits for the accept loop (default 0.5 s).
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="moto", daemon=True
            )
            thread.start()
            self._server, self._thread = server, thread

    def stop(self) -> None:
        """Stop accepting, close the listener and cut keep-alive connections: clients see an outage."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            if server is None:
                return
            server.shutdown()
            server.server_close()
            server.cut_connections()
            if thread is not None:
                thread.join(5)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        if self._owns_port:
            ports.release_port(self.port)

    def __enter__(self) -> MotoServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- state ----------------------------------------------------------------------------------

    def reset(self) -> None:
        """Wipe every moto backend (``POST /moto-api/reset``) and the call log."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        request = urllib.request.Request(f"{self.url}/moto-api/reset", data=b"", method="POST")
        with opener.open(request, timeout=10) as response:
            response.read()
        self.counter.clear()

    # -- call counting --------------------------------------------------------------------------

    @property
    def calls(self) -> Counter[str]:
        """Calls per operation name since the last reset, e.g. ``calls["GetSecretValue"]``."""
        return Counter(call.operation for call in self.counter.log)

    @property
    def calls_by_service(self) -> Counter[str]:
        """Calls keyed ``"service:Operation"``, e.g. ``"ssm:GetParametersByPath"``."""
        return Counter(f"{call.service}:{call.operation}" for call in self.counter.log)

    @property
    def call_log(self) -> list[AwsCall]:
        """Every call in arrival order."""
        return self.counter.log

    @property
    def total_calls(self) -> int:
        return len(self.counter.log)

    def reset_calls(self) -> None:
        """Zero the counters without touching data, e.g. after seeding and before a refresh cycle."""
        self.counter.clear()

    # -- clients --------------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """Variables that point any AWS SDK (boto3 honours ``AWS_ENDPOINT_URL``) at this server."""
        return {
            **DUMMY_ENV,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ENDPOINT_URL": self.url,
        }

    def boto3_client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client for this server with dummy credentials; no retries, short timeouts, so a
        test client fails fast during an outage (override with ``config=``)."""
        import boto3
        from botocore.config import Config

        kwargs.setdefault(
            "config",
            Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 1, "mode": "standard"}),
        )
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=self.region,
            aws_access_key_id=DUMMY_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=DUMMY_ENV["AWS_SECRET_ACCESS_KEY"],
            **kwargs,
        )
