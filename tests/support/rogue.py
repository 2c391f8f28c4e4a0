"""Hostile and helper HTTP servers for the security tests, on 127.0.0.1.

* :class:`RogueServer`: answers every request the way a test tells it (a status and body, an
  endless body, a redirect) and records what it received, headers included, so a test can
  prove that no credential and no more than a bounded number of bytes changed hands.
* :class:`TokenServer`: an OAuth2 token endpoint (``POST`` -> ``{"access_token": ...}``), standing
  in for Google's, so the operator can hold real Application Default Credentials in a test.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support import ports


@dataclasses.dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Answer = Callable[["_Handler"], None]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.owner.record(Seen(self.command, self.path, dict(self.headers.items()), body))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a bounded client hung up
            self.server.owner.answer(self)

    do_GET = do_POST = do_PUT = do_LIST = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: RogueServer


class RogueServer:
    """A server a tenant controls. ``answer`` decides every reply; see the class methods below."""

    def __init__(self) -> None:
        self.port = ports.reserve_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.seen: list[Seen] = []
        self.bytes_sent = 0
        self._lock = threading.Lock()
        self.answer: Answer = self.json(200, {})
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def count(self, sent: int) -> None:
        with self._lock:
            self.bytes_sent += sent

    def json(self, status: int, body: Any) -> Answer:
        raw = json.dumps(body).encode()

        def reply(handler: _Handler) -> None:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(raw)))
            handler.end_headers()
            handler.wfile.write(raw)
            self.count(len(raw))

        return reply

    def endless(
        self, chunk: bytes = b'{"data": {"data": {"k": "' + b"x" * 65536, limit: int = 300 << 20
    ) -> Answer:
        """200 with a body that never ends (up to ``limit`` bytes): a 300 MB answer."""

        def reply(handler: _Handler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(limit))
            handler.end_headers()
            sent = 0
            while sent < limit:
                handler.wfile.write(chunk)
                sent += len(chunk)
                self.count(len(chunk))

        return reply

    def trickle(self, every: float = 0.2, limit: int = 1000) -> Answer:
        """200 with a body that arrives one byte at a time: each read succeeds, the whole never ends."""

        def reply(handler: _Handler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(limit))
            handler.end_headers()
            for _ in range(limit):
                handler.wfile.write(b" ")
                handler.wfile.flush()
                self.count(1)
                time.sleep(every)

        return reply

    def redirect(self, location: str, status: int = 307) -> Answer:
        def reply(handler: _Handler) -> None:
            handler.send_response(status)
            handler.send_header("Location", location)
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        return reply

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        ports.release_port(self.port)


class TokenServer(RogueServer):
    """An OAuth2 token endpoint handing out ``token`` (a canary the tests look for elsewhere)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.answer = self.json(200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"})


def service_account_key(token_uri: str, email: str = "operator@proj.iam.gserviceaccount.com") -> bytes:
    """A service-account key JSON with a fresh RSA key, whose tokens come from ``token_uri``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "proj",
            "private_key_id": "1",
            "private_key": pem,
            "client_email": email,
            "client_id": "1",
            "token_uri": token_uri,
        }
    ).encode()
