"""The pieces of the side-by-side benchmark (bench/peers/run.py): the three tools run the same way,
a fast admin client for the API server, readiness tracking by watch, the two audit logs, OpenBao
with a file audit device, and the objects every tool is given.

* :class:`Tool` and its three kinds: :class:`Secretsync` (the operator of this checkout, run as
  ``python -m secretsync operator`` with this repository first on ``PYTHONPATH``, installed with
  ``deploy/overlays/compat`` so it reconciles the very same ``bitnami.com`` and
  ``external-secrets.io`` objects the peers do), :class:`Bitnami` and :class:`Eso` (bench/peers/peers.py
  runs them as their releases do). Each runs as its own ServiceAccount, so the API server's audit
  log counts its requests by user.
* :class:`Api`: admin requests over kept-alive connections, one per thread (``ControlPlane.request``
  builds a TLS context per call: too slow to create 10,000 objects).
* :class:`Tracker`: a list + watch of one collection; when each object first met a readiness test,
  and each ``status.refreshTime`` it showed.
* :class:`KubeAudit` / :class:`BaoAudit`: the two audit logs, read incrementally, counted by user
  (Kubernetes) or by path (OpenBao) over a time window.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.peers import peers  # noqa: E402
from secretsync import crypto, sealing  # noqa: E402
from tests.support import openbao, ports  # noqa: E402
from tests.support.real_cluster import ControlPlane  # noqa: E402
from tests.support.sealed_env import KEY_LABEL  # noqa: E402

BENCH_NS = "bench"
SECRETSYNC_NS = "secretsync-system"
BITNAMI_API = "bitnami.com/v1alpha1"
ESO_API = "external-secrets.io/v1"
PLURALS = {
    "Secret": "secrets",
    "SealedSecret": "sealedsecrets",
    "ExternalSecret": "externalsecrets",
    "SecretStore": "secretstores",
    "Namespace": "namespaces",
}


def wall() -> float:
    return time.time()


# --------------------------------------------------------------------------- the API, as admin


def collection_path(api_version: str, kind: str, namespace: str | None) -> str:
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    plural = PLURALS[kind]
    return f"{base}/namespaces/{namespace}/{plural}" if namespace else f"{base}/{plural}"


def object_path(obj: dict[str, Any]) -> str:
    meta = obj["metadata"]
    return f"{collection_path(obj['apiVersion'], obj['kind'], meta.get('namespace'))}/{meta['name']}"


class Api:
    """Admin requests to one API server over kept-alive HTTPS connections (one per thread)."""

    def __init__(self, cp: ControlPlane) -> None:
        self.port = cp.port
        self.context = ssl.create_default_context(cafile=str(cp.ca_path))
        self.context.load_cert_chain(str(cp.admin_cert), str(cp.admin_key))
        self._local = threading.local()

    def connect(self, timeout: float = 60) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=timeout)

    def call(
        self, method: str, path: str, body: Any = None, content_type: str = "application/json"
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": content_type} if data is not None else {}
        for attempt in range(3):
            conn: http.client.HTTPSConnection | None = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = self.connect()
            try:
                conn.request(method, path, body=data, headers=headers)
                answer = conn.getresponse()
                raw = answer.read()
                break
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        try:
            return answer.status, json.loads(raw)
        except ValueError:
            return answer.status, raw.decode(errors="replace")

    def get(self, path: str) -> dict[str, Any] | None:
        status, body = self.call("GET", path)
        if status == 404:
            return None
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body}")
        return body  # type: ignore[no-any-return]

    def create(self, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        path = collection_path(obj["apiVersion"], obj["kind"], meta.get("namespace"))
        status, body = self.call("POST", path, obj)
        if status != 201:
            raise RuntimeError(f"POST {path} {meta['name']}: {status} {str(body)[:500]}")

    def create_many(self, objs: Sequence[dict[str, Any]], threads: int = 8) -> float:
        """Create the objects from ``threads`` threads; seconds taken."""
        started = time.monotonic()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(self.create, objs))
        return time.monotonic() - started

    def patch_many(self, paths: Sequence[str], patch: dict[str, Any], threads: int = 8) -> None:
        def one(path: str) -> None:
            status, body = self.call("PATCH", path, patch, "application/merge-patch+json")
            if status != 200:
                raise RuntimeError(f"PATCH {path}: {status} {str(body)[:300]}")

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, paths))

    def delete(self, path: str) -> None:
        status, body = self.call("DELETE", path)
        if status not in (200, 202, 404):
            raise RuntimeError(f"DELETE {path}: {status} {str(body)[:300]}")

    def ensure_namespace(self, name: str) -> None:
        status, body = self.call(
            "POST",
            "/api/v1/namespaces",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
        )
        if status not in (201, 409):
            raise RuntimeError(f"namespace {name}: {status} {body}")


def condition_true(obj: dict[str, Any], kind: str) -> bool:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind and cond.get("status") == "True":
            return True
    return False


class Tracker:
    """List, then watch, one collection as admin; records when each object first passed ``ready``
    and every ``status.refreshTime`` it showed (with the wall time it was seen)."""

    def __init__(self, api: Api, path: str, ready: Callable[[dict[str, Any]], bool]) -> None:
        self.api, self.path, self.is_ready = api, path, ready
        self.ready_at: dict[str, float] = {}
        self.refreshes: dict[str, list[tuple[str, float]]] = {}
        self.generation_seen: dict[str, int] = {}
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._conn: http.client.HTTPSConnection | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"track {path}")
        self.error: BaseException | None = None
        self._thread.start()

    def _see(self, obj: dict[str, Any]) -> None:
        name = obj["metadata"]["name"]
        now = wall()
        with self.lock:
            if name not in self.ready_at and self.is_ready(obj):
                self.ready_at[name] = now
            refresh = (obj.get("status") or {}).get("refreshTime")
            if refresh:
                seen = self.refreshes.setdefault(name, [])
                if not seen or seen[-1][0] != refresh:
                    seen.append((refresh, now))

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                listed = self.api.get(self.path) or {}
                for item in listed.get("items") or []:
                    self._see(item)
                rv = listed["metadata"]["resourceVersion"]
                while not self._stop.is_set():
                    rv_next = self._watch(rv)
                    if rv_next is None:
                        break  # 410 Gone: list again
                    rv = rv_next
        except BaseException as exc:  # reported by wait_ready
            if not self._stop.is_set():
                self.error = exc

    def _watch(self, rv: str) -> str | None:
        conn = self._conn = self.api.connect(timeout=600)
        try:
            conn.request(
                "GET", f"{self.path}?watch=1&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=300"
            )
            answer = conn.getresponse()
            if answer.status != 200:
                raise RuntimeError(f"watch {self.path}: {answer.status} {answer.read()[:300]!r}")
            while not self._stop.is_set():
                line = answer.readline()
                if not line:
                    return rv
                event = json.loads(line)
                obj = event.get("object") or {}
                if event.get("type") == "ERROR":
                    return None if obj.get("code") == 410 else rv
                rv = (obj.get("metadata") or {}).get("resourceVersion", rv)
                if event.get("type") in ("ADDED", "MODIFIED"):
                    self._see(obj)
            return rv
        finally:
            conn.close()

    def ready_count(self) -> int:
        with self.lock:
            return len(self.ready_at)

    def wait_ready(self, count: int, timeout: float, alive: Callable[[], bool] | None = None) -> bool:
        """Until ``count`` objects are ready (True) or ``timeout`` (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.error is not None:
                raise RuntimeError(f"tracking {self.path} failed: {self.error!r}")
            if self.ready_count() >= count:
                return True
            if alive is not None and not alive():
                raise RuntimeError("the tool exited")
            time.sleep(0.1)
        return False

    def last_ready(self) -> float:
        with self.lock:
            return max(self.ready_at.values())

    def refresh_counts(self) -> dict[str, int]:
        with self.lock:
            return {name: len(seen) for name, seen in self.refreshes.items()}

    def refreshes_between(self, since: float, until: float) -> int:
        with self.lock:
            return sum(1 for seen in self.refreshes.values() for _, t in seen[1:] if since < t <= until)

    def stop(self) -> None:
        self._stop.set()
        conn = self._conn
        if conn is not None and conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)


# --------------------------------------------------------------------------- audit logs


def _epoch(stamp: str) -> float:
    return dt.datetime.fromisoformat(stamp).timestamp()


@dataclasses.dataclass(frozen=True)
class KubeRequest:
    t: float
    verb: str
    resource: str
    code: int


WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})


class KubeAudit:
    """The API server's audit log (Metadata level, stages ResponseStarted and ResponseComplete),
    read incrementally; one :class:`KubeRequest` per audit ID (a watch counts once)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._rest = b""
        self._seen: set[str] = set()
        self.by_user: dict[str, list[KubeRequest]] = {}

    def refresh(self) -> None:
        if not self.path.exists():
            return
        if self.path.stat().st_size < self._offset:
            raise RuntimeError(f"{self.path} was rotated: its counts would be short")
        with self.path.open("rb") as log:
            log.seek(self._offset)
            data = log.read()
        self._offset += len(data)
        lines = (self._rest + data).split(b"\n")
        self._rest = lines.pop()
        for line in lines:
            if not line.strip():
                continue
            event = json.loads(line)
            audit_id = event.get("auditID", "")
            if audit_id in self._seen:
                continue
            self._seen.add(audit_id)
            ref = event.get("objectRef") or {}
            resource = ref.get("resource", event.get("requestURI", "?"))
            if ref.get("subresource"):
                resource += "/" + ref["subresource"]
            self.by_user.setdefault((event.get("user") or {}).get("username", "?"), []).append(
                KubeRequest(
                    t=_epoch(event["requestReceivedTimestamp"]),
                    verb=event.get("verb", "?"),
                    resource=resource,
                    code=int((event.get("responseStatus") or {}).get("code", 0)),
                )
            )

    def requests(self, user: str, since: float = 0.0, until: float = float("inf")) -> list[KubeRequest]:
        self.refresh()
        return [r for r in self.by_user.get(user, []) if since <= r.t <= until]

    def last(self, user: str, since: float = 0.0) -> float | None:
        """Time of the user's last request that is not a watch, since ``since``."""
        times = [r.t for r in self.requests(user, since) if r.verb != "watch"]
        return max(times) if times else None


def summarize_kube(requests: Iterable[KubeRequest]) -> dict[str, Any]:
    reqs = list(requests)
    by = Counter(f"{r.verb} {r.resource}" for r in reqs)
    return {
        "total": len(reqs),
        "writes": sum(1 for r in reqs if r.verb in WRITE_VERBS),
        "reads": sum(1 for r in reqs if r.verb not in WRITE_VERBS),
        "secret_writes": sum(1 for r in reqs if r.verb in WRITE_VERBS and r.resource == "secrets"),
        "errors": sum(1 for r in reqs if r.code >= 400),
        "by": dict(by.most_common()),
    }


@dataclasses.dataclass(frozen=True)
class BaoRequest:
    t: float
    path: str
    operation: str


class BaoAudit:
    """OpenBao's file audit log: one entry per response, our own root-token requests left out."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._rest = b""
        self.entries: list[BaoRequest] = []

    def refresh(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as log:
            log.seek(self._offset)
            data = log.read()
        self._offset += len(data)
        lines = (self._rest + data).split(b"\n")
        self._rest = lines.pop()
        for line in lines:
            if not line.strip():
                continue
            entry = json.loads(line)
            if entry.get("type") != "response":
                continue
            auth = entry.get("auth") or {}
            if auth.get("display_name") == "root" or "root" in (auth.get("policies") or []):
                continue
            request = entry.get("request") or {}
            self.entries.append(
                BaoRequest(_epoch(entry["time"]), request.get("path", "?"), request.get("operation", "?"))
            )

    def requests(self, since: float = 0.0, until: float = float("inf")) -> list[BaoRequest]:
        self.refresh()
        return [e for e in self.entries if since <= e.t <= until]

    def last(self, since: float = 0.0) -> float | None:
        times = [e.t for e in self.requests(since)]
        return max(times) if times else None


def summarize_bao(requests: Iterable[BaoRequest]) -> dict[str, Any]:
    reqs = list(requests)
    return {
        "total": len(reqs),
        "logins": sum(1 for r in reqs if r.path.endswith("/login")),
        "reads": sum(1 for r in reqs if r.path.startswith("secret/data/") and r.operation == "read"),
        "token": sum(1 for r in reqs if r.path.startswith("auth/token/")),
        "by": dict(Counter(re.sub(r"/(es|s)\d+$", "/*", r.path) for r in reqs).most_common()),
    }


class AuditedOpenBao(openbao.OpenBaoServer):
    """The dev server of tests/support/openbao.py with a file audit device from a config file
    (OpenBao refuses to enable audit devices through its API: "use declarative, config-based audit
    device management instead")."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.audit_path = workdir / "audit.log"
        self.config_path = workdir / "audit.hcl"
        self.config_path.write_text(
            f'audit "file" "bench" {{\n  options {{\n    file_path = "{self.audit_path}"\n  }}\n}}\n'
        )
        self.audit = BaoAudit(self.audit_path)

    def __enter__(self) -> AuditedOpenBao:
        self.start()
        return self

    def start(self) -> None:
        if self.running:
            return
        argv = [
            openbao.bao_binary(),
            "server",
            "-dev",
            f"-dev-root-token-id={self.root_token}",
            f"-dev-listen-address=127.0.0.1:{self.port}",
            "-dev-no-store-token",
            f"-config={self.config_path}",
        ]
        with self.log_path.open("ab") as log:
            self._proc = openbao._SPAWNER.submit(
                subprocess.Popen,
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=openbao._clean_env(self.home),
                cwd=self.workdir,
                start_new_session=True,
                preexec_fn=openbao._die_with_parent(),
            ).result()
        self.last_pid = self._proc.pid
        self.starts += 1
        openbao._live_servers.add(self)
        try:
            self._wait_ready()
            self._seed()
        except BaseException:
            self.stop()
            raise


# --------------------------------------------------------------------------- keys and objects


@dataclasses.dataclass(frozen=True)
class SealingKey:
    key_pem: bytes
    cert_pem: bytes


def make_keys(count: int, cache: Path) -> list[SealingKey]:
    """``count`` RSA-4096 keys, oldest first (the last one seals), kept in ``cache`` between runs."""
    cache.mkdir(parents=True, exist_ok=True)
    keys = []
    for i in range(count):
        key_file, cert_file = cache / f"key-{i:02d}.pem", cache / f"cert-{i:02d}.pem"
        if not key_file.exists():
            key = crypto.generate_private_key(4096)
            cert_file.write_bytes(crypto.self_signed_certificate(key))
            key_file.write_bytes(crypto.dump_private_key(key))
            key_file.chmod(0o600)
        keys.append(SealingKey(key_file.read_bytes(), cert_file.read_bytes()))
    return keys


def sealed_value(i: int, j: int) -> str:
    return f"value-{i}-{j}-" + "x" * 32


def sealed_objects(cert_pem: bytes, count: int, values: int) -> list[dict[str, Any]]:
    """``count`` bitnami.com/v1alpha1 SealedSecrets of ``values`` values each, sealed the way
    ``secretsync seal`` does (kubeseal's format, plus the key-fingerprint hint annotation)."""
    sealer = crypto.load_certificate(cert_pem).sealer()
    out = []
    for i in range(count):
        plain = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": f"s{i}", "namespace": BENCH_NS},
            "stringData": {f"k{j}": sealed_value(i, j) for j in range(values)},
        }
        obj = sealing.seal_secret(plain, sealer)
        obj["apiVersion"] = BITNAMI_API
        out.append(obj)
    return out


def key_secret(name: str, namespace: str, label: str, key: SealingKey) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {"name": name, "namespace": namespace, "labels": {label: "active"}},
        "data": {
            "tls.key": base64.b64encode(key.key_pem).decode(),
            "tls.crt": base64.b64encode(key.cert_pem).decode(),
        },
    }


def vault_store(name: str, server: str, role_id: str) -> dict[str, Any]:
    """The SecretStore both ESO and secretsync read (the same spec shape): Vault KV v2, AppRole."""
    return {
        "apiVersion": ESO_API,
        "kind": "SecretStore",
        "metadata": {"name": name, "namespace": BENCH_NS},
        "spec": {
            "provider": {
                "vault": {
                    "server": server,
                    "path": "secret",
                    "version": "v2",
                    "auth": {
                        "appRole": {
                            "path": "approle",
                            "roleId": role_id,
                            "secretRef": {"name": "approle", "key": "secret-id"},
                        }
                    },
                }
            }
        },
    }


def external_objects(count: int, keys: int, store: str, refresh: str) -> list[dict[str, Any]]:
    """``count`` ExternalSecrets, each with ``keys`` data[] entries: properties of its own KV v2
    secret ``bench/es<i>``."""
    return [
        {
            "apiVersion": ESO_API,
            "kind": "ExternalSecret",
            "metadata": {"name": f"es{i}", "namespace": BENCH_NS},
            "spec": {
                "refreshInterval": refresh,
                "secretStoreRef": {"name": store, "kind": "SecretStore"},
                "target": {"name": f"es{i}"},
                "data": [
                    {"secretKey": f"k{j}", "remoteRef": {"key": f"bench/es{i}", "property": f"k{j}"}}
                    for j in range(keys)
                ],
            },
        }
        for i in range(count)
    ]


def external_value(i: int, j: int) -> str:
    return f"value-{i}-{j}"


# --------------------------------------------------------------------------- the tools


def http_get(url: str, timeout: float = 5) -> str:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=timeout) as answer:
        return str(answer.read().decode())


def prometheus_sum(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"{re.escape(name)}(\{{[^}}]*\}})? ([0-9.e+-]+)$", line)
        if match:
            total += float(match.group(2))
    return total


class Tool:
    """One tool as the benchmark runs it."""

    name = ""
    label = ""
    version = ""
    username = ""
    kinds: tuple[str, ...] = ()  # "sealed", "external"

    def install(self, cp: ControlPlane) -> None:
        raise NotImplementedError

    def add_keys(self, api: Api, keys: Sequence[SealingKey]) -> None:
        raise NotImplementedError

    def start(self, cp: ControlPlane, workdir: Path) -> peers.PeerProcess:
        raise NotImplementedError

    def wait_ready(self, proc: peers.PeerProcess, timeout: float = 120) -> float:
        raise NotImplementedError

    def rsa_attempts(self, proc: peers.PeerProcess) -> float | None:
        """RSA decrypt operations so far, where the tool counts them."""
        return None

    def unseal_runs(self, proc: peers.PeerProcess) -> float | None:
        """SealedSecrets unsealed (decrypted) so far, where the tool counts them."""
        return None


class Secretsync(Tool):
    """The operator of this checkout, in compatibility mode: ``deploy/overlays/compat`` applied
    with kubectl as the docs say, the peers' CRDs beside it, ``--eso-compat --bitnami-compat``."""

    name = "secretsync"
    label = "secretsync"
    namespace = SECRETSYNC_NS
    service_account = "secretsync"
    username = f"system:serviceaccount:{SECRETSYNC_NS}:secretsync"
    kinds = ("sealed", "external")

    def __init__(self, source: Path = REPO, version: str | None = None, python: Path | None = None) -> None:
        # source: the checkout whose secretsync/ and deploy/ are run (default: this one).
        self.source = source
        # python: the interpreter it runs on. make bench-peers gives it a venv of secretsync's
        # runtime dependencies only (as its image has): the dev venv's test packages (kubernetes,
        # which kopf imports whenever it is installed) would count in its memory.
        self.python = python or Path(sys.executable)
        self.version = version or _git_version(source)

    def install(self, cp: ControlPlane) -> None:
        cp.kubectl("apply", "--server-side", "-k", str(self.source / "deploy" / "overlays" / "compat"))
        crds = peers.SealedSecrets().crds() + peers.ExternalSecrets().crds()
        cp.apply(crds)
        ours = [
            f"{plural}.secretsync.io"
            for plural in ("sealedsecrets", "externalsecrets", "secretstores", "clustersecretstores")
        ]
        peers._wait_established(cp, [crd["metadata"]["name"] for crd in crds] + ours)
        peers._wait_watchable(cp, crds)

    def add_keys(self, api: Api, keys: Sequence[SealingKey]) -> None:
        for i, key in enumerate(keys):
            api.create(key_secret(f"bench-key-{i:02d}", SECRETSYNC_NS, KEY_LABEL, key))

    def start(self, cp: ControlPlane, workdir: Path) -> peers.PeerProcess:
        workdir.mkdir(parents=True, exist_ok=True)
        token = workdir / "secretsync.token"
        token.write_text(cp.token(self.namespace, self.service_account, seconds=peers.TOKEN_SECONDS))
        token.chmod(0o600)
        kubeconfig = cp.token_file_kubeconfig(
            self.service_account, token, self.namespace, workdir / "secretsync.kubeconfig"
        )
        http_port, metrics_port = ports.reserve_port(), ports.reserve_port()
        env = peers._base_env() | {"PYTHONPATH": str(self.source)}
        proc = peers.PeerProcess(
            self.name,
            [
                str(self.python),
                "-m",
                "secretsync",
                "operator",
                f"--kubeconfig={kubeconfig}",
                f"--namespace={self.namespace}",
                f"--http-port={http_port}",
                f"--metrics-port={metrics_port}",
                "--bind-address=127.0.0.1",
                "--log-format=json",  # as deploy/base runs it; log level: the default (info)
                "--key-renew-period=0",  # the keys are given, as to Bitnami
                "--eso-compat",
                "--bitnami-compat",
            ],
            env=env,
            log_path=workdir / "secretsync.log",
            username=self.username,
            cwd=workdir,  # not the repository: python -m puts the working directory first on sys.path
        )
        proc.ports += [http_port, metrics_port]
        return proc

    def wait_ready(self, proc: peers.PeerProcess, timeout: float = 120) -> float:
        url = f"http://127.0.0.1:{proc.ports[0]}/readyz"
        return proc.wait_for(lambda: peers._http_ok(url), "/readyz", timeout)

    def metrics(self, proc: peers.PeerProcess) -> str:
        return http_get(f"http://127.0.0.1:{proc.ports[1]}/metrics")

    def rsa_attempts(self, proc: peers.PeerProcess) -> float | None:
        return prometheus_sum(self.metrics(proc), "secretsync_rsa_decrypt_attempts_total")


class Bitnami(Tool):
    name = "sealed-secrets"
    label = "Bitnami sealed-secrets"
    username = peers.SealedSecrets.username
    kinds = ("sealed",)

    def __init__(self) -> None:
        self.peer = peers.SealedSecrets()
        self.version = self.peer.version

    def install(self, cp: ControlPlane) -> None:
        self.peer.install(cp)

    def add_keys(self, api: Api, keys: Sequence[SealingKey]) -> None:
        for i, key in enumerate(keys):
            api.create(
                key_secret(f"sealed-secrets-key{i:02d}", self.peer.namespace, self.peer.key_label, key)
            )

    def start(self, cp: ControlPlane, workdir: Path) -> peers.PeerProcess:
        # No key renewal: the keys are given (as secretsync's --key-renew-period=0).
        return self.peer.start(cp, workdir, extra_args=["--key-renew-period=0"])

    def wait_ready(self, proc: peers.PeerProcess, timeout: float = 120) -> float:
        return self.peer.wait_ready(proc, timeout)

    def unseal_runs(self, proc: peers.PeerProcess) -> float | None:
        text = http_get(f"http://127.0.0.1:{proc.ports[1]}/metrics")
        return prometheus_sum(text, "sealed_secrets_controller_unseal_requests_total")


class Eso(Tool):
    name = "external-secrets"
    label = "External Secrets Operator"
    username = peers.ExternalSecrets.username
    kinds = ("external",)

    def __init__(self) -> None:
        self.peer = peers.ExternalSecrets()
        self.version = self.peer.version

    def install(self, cp: ControlPlane) -> None:
        self.peer.install(cp)

    def start(self, cp: ControlPlane, workdir: Path) -> peers.PeerProcess:
        return self.peer.start(cp, workdir)

    def wait_ready(self, proc: peers.PeerProcess, timeout: float = 120) -> float:
        return self.peer.wait_ready(proc, timeout)


TOOLS: dict[str, type[Tool]] = {"secretsync": Secretsync, "sealed-secrets": Bitnami, "external-secrets": Eso}


def _git_version(source: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(source), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    commit = done.stdout.strip() or "unknown"
    version = "0.1.0"
    with contextlib.suppress(OSError):
        match = re.search(r'^version = "([^"]+)"', (source / "pyproject.toml").read_text(), re.M)
        if match:
            version = match.group(1)
    return f"{version} ({commit})" if commit != "unknown" else version


def cpu_count() -> int:
    return os.cpu_count() or 1
