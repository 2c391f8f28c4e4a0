"""Soak: thousands of objects, short refresh intervals, random faults for a bounded time.

Usage: .venv/bin/python bench/soak.py [--external 2000] [--aws-share 0.1] [--sealed 1000]
       [--duration 600] [--refresh 15s] [--seed 1] [--fault-min 5] [--fault-max 20]
       [--kinds api-429,operator-kill] [--memory-margin 0.15] [--operator-log-level warning]

What runs: the API emulator, a real OpenBao dev server (AppRole auth, one SecretStore per
namespace), moto in server mode (Secrets Manager; ``--aws-share`` of the ExternalSecrets), a
sealing key, and the real ``secretsync operator`` process. ``--external`` ExternalSecrets (2 keys
each, ``refreshInterval`` ``--refresh``) and ``--sealed`` SealedSecrets (2 values each, RSA-4096)
are spread over 4 namespaces and created before the operator starts.

After the first sync and a warm-up (the memory baseline is taken then), episodes run back to back
for ``--duration`` seconds, kinds drawn from a shuffled deck (every kind once per round):

* ``rotate``: values change in the providers and in some SealedSecrets, no fault (the baseline
  for the recovery times below);
* ``api-503`` / ``api-429``: the emulator answers some of the operator's requests (reads, watches,
  writes, Secrets, or every request; for 503 a random 30, 70 or 100 % of them) with 503, or with
  429 and Retry-After 1 or 3 s, each with kube-apiserver's Status body; a fault on watches first
  ends the open ones, as an API server restart does;
* ``status-500``: every status write is answered 500;
* ``bao-restart``: OpenBao killed, down for the window, started again (dev mode: empty; the
  bench writes the current values back, so the operator meets 403s and 404s first);
* ``bao-seal``: OpenBao sealed for the window, then unsealed;
* ``aws-errors``: moto answers GetSecretValue with 503 or ThrottlingException;
* ``operator-kill``: the operator SIGKILLed, a new process started after the window (only in the
  first two thirds of the run, so that the last process lives long enough to judge its memory).

Before each fault about 5 % of the objects get new values, so syncs have real work and recovery
means "the new values are in". Recovery time: from the end of the fault (for a kill: the new
process's start) until every object is Ready=True for its generation and its Secret holds exactly
the latest values. Every second the bench also checks that no Secret went back to older values
(a rollback), and counts every Secret deletion in the emulator's event log: both count as lost.

At the end every managed Secret must exist and hold exactly the latest values; a missing or wrong
Secret is a loss. Printed: objects, duration, faults by kind, syncs (operator metrics summed over
its processes, and Secret writes committed in the emulator), errors by kind (metrics), Secrets
lost, recovery times per kind, operator RSS over time. Exit 1 if a Secret was lost, an object is
still not synced at the end, or the RSS at the end exceeds the baseline by more than
``--memory-margin`` (default 15 %). Not a test: its figures go to docs/benchmarks.md ("Soak").
The episode kinds and their windows come from ``--seed``; ``--kinds`` plays only some kinds (to
reproduce one); ``--operator-log-level debug`` for a closer look (its log is in the work dir).

The emulator's request log and object histories are trimmed as the run goes (after counting), so
the bench process itself stays bounded; that changes nothing the operator sees.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import contextlib
import dataclasses
import json
import os
import platform
import random
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import aiohttp.web

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.external_env import API, external_secret, vault_store  # noqa: E402
from tests.support.kube_emulator import (  # noqa: E402
    KubeEmulator,
    KubeEmulatorHandler,
    load_crd_documents,
)
from tests.support.openbao import OpenBaoServer  # noqa: E402
from tests.support.operator_proc import OperatorProcess  # noqa: E402
from tests.support.sealed_env import OPERATOR_NS, key_secret, seal, secret, vector_key  # noqa: E402

NAMESPACES = [f"soak-{i}" for i in range(4)]
KEYS = ("username", "password")
Totals = dict[tuple[str, tuple[tuple[str, str], ...]], float]  # counter name, labels -> value
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ROTATE_SHARE = 0.05
KINDS = (
    "rotate",
    "api-503",
    "api-429",
    "status-500",
    "bao-restart",
    "bao-seal",
    "aws-errors",
    "operator-kill",
)
KILL_UNTIL = 2 / 3  # operator kills only in this share of the fault phase
OPERATOR_ARGS = ["--key-renew-period", "0"]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def b64(values: dict[str, str]) -> dict[str, str]:
    return {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}


# ------------------------------------------------------------------------------------ the objects


@dataclasses.dataclass
class Managed:
    """One ExternalSecret or SealedSecret and the Secret it must produce (same name)."""

    kind: str  # ExternalSecret | SealedSecret
    source: str  # vault | aws | sealed
    ns: str
    name: str
    token: str
    expected: list[dict[str, str]] = dataclasses.field(default_factory=list)  # base64 data by version
    seen: int = -1  # newest version seen in its Secret

    @property
    def version(self) -> int:
        return len(self.expected) - 1

    @property
    def remote_key(self) -> str:
        return f"soak/{self.ns}/{self.name}"

    def bump(self) -> dict[str, str]:
        """The next version's values (remembered as the expected ones)."""
        version = len(self.expected)
        plain = {"username": f"{self.name}-v{version}", "password": f"{self.token}-{version}"}
        self.expected.append(b64(plain))
        return plain


@dataclasses.dataclass
class Survey:
    """One look at every object, taken in the emulator's thread."""

    ok: int = 0
    not_ready: int = 0
    stale: int = 0
    missing: int = 0
    corrupt: int = 0
    rollbacks: list[str] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)
    causes: Counter[str] = dataclasses.field(default_factory=Counter)  # source, Secret state, reason

    @property
    def converged(self) -> bool:
        return self.not_ready == self.stale == self.missing == self.corrupt == 0


def _ready(obj: dict[str, Any]) -> tuple[bool, str]:
    st = obj.get("status") or {}
    for cond in st.get("conditions") or []:
        if cond.get("type") == "Ready":
            fresh = st.get("observedGeneration") == obj["metadata"].get("generation")
            ok = cond.get("status") == "True" and fresh
            why = f"Ready={cond.get('status')} {cond.get('reason')}"
            if not fresh:
                why += " (older generation)"
            return ok, f"{why}: {str(cond.get('message'))[:160]}"
    return False, "no Ready condition"


def survey(emu: KubeEmulator, objects: list[Managed]) -> Survey:
    layer = emu.layer

    def look() -> Survey:
        rdefs = {kind: layer.resource_def(API, kind) for kind in ("ExternalSecret", "SealedSecret")}
        secrets_def = layer.resource_def("v1", "Secret")
        out = Survey()
        for m in objects:
            owner = layer._current(rdefs[m.kind], m.ns, m.name)
            ready, why = _ready(owner) if owner is not None else (False, "object missing")
            found = layer._current(secrets_def, m.ns, m.name)
            state = "ok"
            if found is None:
                state = "missing"
            else:
                data = found.get("data") or {}
                version = next((v for v in range(m.version, -1, -1) if m.expected[v] == data), None)
                if version is None:
                    state = "corrupt"
                else:
                    if version < m.seen:
                        out.rollbacks.append(f"{m.ns}/{m.name}: v{m.seen} -> v{version}")
                    m.seen = max(m.seen, version)
                    if version != m.version:
                        state = "stale"
            if state == "ok" and ready:
                out.ok += 1
                continue
            if state == "ok":
                out.not_ready += 1
            else:
                setattr(out, state, getattr(out, state) + 1)
            out.causes[f"{m.source} Secret {state}, {why.split(':')[0]}"] += 1
            if len(out.problems) < 6:
                out.problems.append(f"{m.kind} {m.ns}/{m.name}: Secret {state} (v{m.version}), {why}")
        return out

    return emu.call(look)


# ------------------------------------------------------------------------------------ backends


class Vault:
    """OpenBao with the current values of every vault-backed object (written again after restarts)."""

    def __init__(self, work: Path, objects: list[Managed]) -> None:
        self.objects = objects
        self.bao = OpenBaoServer(work / "bao")
        self.pool = concurrent.futures.ThreadPoolExecutor(8, thread_name_prefix="bao-write")

    def start(self) -> None:
        self.bao.start()
        self.role = self.bao.create_approle(
            "soak", policy_hcl='path "secret/data/soak/*" { capabilities = ["read"] }'
        )
        self.bao.add_seed_hook(lambda _srv: self.write(self.objects), run_now=True)

    def write(self, objects: Iterable[Managed]) -> None:
        def put(m: Managed) -> None:
            body = json.dumps({"data": {k: base64.b64decode(v).decode() for k, v in m.expected[-1].items()}})
            req = urllib.request.Request(  # noqa: S310 - our own loopback OpenBao
                f"{self.bao.addr}/v1/secret/data/{m.remote_key}",
                data=body.encode(),
                method="PUT",
                headers={"X-Vault-Token": self.bao.root_token, "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
                resp.read()

        list(self.pool.map(put, [m for m in objects if m.source == "vault"]))

    def seal(self) -> None:
        self.bao.client().sys.seal()

    def unseal(self) -> None:
        keys = re.findall(r"Unseal Key: (\S+)", self.bao.log_path.read_text(errors="replace"))
        self.bao.client().sys.submit_unseal_key(keys[-1])
        if self.bao.client().sys.is_sealed():
            raise SystemExit("OpenBao stayed sealed after the unseal key")

    def store(self, emu: KubeEmulator, ns: str) -> dict[str, Any]:
        emu.create(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "approle", "namespace": ns},
                "stringData": {"secret-id": self.role.secret_id},
            }
        )
        auth = {
            "appRole": {
                "path": self.role.mount_point,
                "roleId": self.role.role_id,
                "secretRef": {"name": "approle", "key": "secret-id"},
            }
        }
        return vault_store("vault", ns, self.bao.addr, auth)

    def close(self) -> None:
        self.pool.shutdown(wait=False)
        self.bao.close()


class AwsFaults:
    """WSGI middleware in front of moto: while ``code`` is set, GetSecretValue fails with it."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.code: tuple[int, str] | None = None
        self.hits = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        fault = self.code
        if fault is not None and environ.get("HTTP_X_AMZ_TARGET") == "secretsmanager.GetSecretValue":
            self.hits += 1
            status, code = fault
            body = json.dumps({"__type": code, "message": "injected by bench/soak.py"}).encode()
            reason = {400: "Bad Request", 503: "Service Unavailable"}[status]
            start_response(
                f"{status} {reason}",
                [
                    ("Content-Type", "application/x-amz-json-1.1"),
                    ("Content-Length", str(len(body))),
                    ("x-amzn-ErrorType", code),
                ],
            )
            return [body]
        answer: Iterable[bytes] = self.app(environ, start_response)
        return answer


class Aws:
    def __init__(self, objects: list[Managed]) -> None:
        from tests.support.moto_server import MotoServer

        self.objects = [m for m in objects if m.source == "aws"]
        self.moto = MotoServer()
        self.faults = AwsFaults(self.moto.counter.app)
        self.moto.counter.app = self.faults

    def start(self) -> None:
        self.moto.start()
        self.sm = self.moto.boto3_client("secretsmanager")
        for m in self.objects:
            self.sm.create_secret(Name=m.remote_key, SecretString=self.payload(m))

    @staticmethod
    def payload(m: Managed) -> str:
        return json.dumps({k: base64.b64decode(v).decode() for k, v in m.expected[-1].items()})

    def write(self, objects: Iterable[Managed]) -> None:
        for m in objects:
            if m.source == "aws":
                self.sm.put_secret_value(SecretId=m.remote_key, SecretString=self.payload(m))

    def store(self, emu: KubeEmulator, ns: str) -> dict[str, Any]:
        emu.create(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "aws-creds", "namespace": ns},
                "stringData": {"id": "AKIDSOAK", "key": "soak-secret"},
            }
        )
        auth = {
            "secretRef": {
                "accessKeyIDSecretRef": {"name": "aws-creds", "key": "id"},
                "secretAccessKeySecretRef": {"name": "aws-creds", "key": "key"},
            }
        }
        provider = {"aws": {"service": "SecretsManager", "region": self.moto.region, "auth": auth}}
        return {
            "apiVersion": API,
            "kind": "SecretStore",
            "metadata": {"name": "aws", "namespace": ns},
            "spec": {"provider": provider},
        }

    def close(self) -> None:
        self.moto.close()


# ------------------------------------------------------------------------------------ API faults


def _method(request: Any) -> str:
    return str(getattr(request.method, "value", request.method)).upper()


def _is_watch(request: Any) -> bool:
    return str(request.params.get("watch", "")).lower() in ("true", "1")


def _is_secret(request: Any) -> bool:
    resource = getattr(request, "resource", None)
    return getattr(resource, "plural", None) == "secrets" and not getattr(resource, "group", None)


API_TARGETS: dict[str, Callable[[Any], bool]] = {
    "reads": lambda r: _method(r) == "GET" and not _is_watch(r),
    "watches": _is_watch,
    "writes": lambda r: _method(r) in WRITES,
    "Secrets": lambda r: _is_secret(r),
    "every request": lambda r: True,
}


@dataclasses.dataclass
class ApiFault:
    reaction: tuple[int, int | None]  # (status, Retry-After)
    match: Callable[[Any], bool]
    share: float
    label: str
    ends_watches: bool = False


def _status(code: int, reason: str, message: str, retry_after: int | None = None) -> dict[str, Any]:
    """The Status body kube-apiserver sends with an error."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if retry_after is not None:
        body["details"] = {"retryAfterSeconds": retry_after}
    return body


def request_shape(request: Any) -> str:
    """``GET secrets``, ``PATCH externalsecrets/status``, ``GET sealedsecrets watch``..."""
    resource = getattr(request, "resource", None)
    what = getattr(resource, "plural", None) or str(request.url.path)
    sub = getattr(request, "subresource", None)
    verb = "watch" if _is_watch(request) else "list" if _method(request) == "GET" and not request.name else ""
    return f"{_method(request)} {what}{'/' + sub if sub else ''}{' ' + verb if verb else ''}"


class ApiFaults:
    """Answers some of the operator's requests with an error while ``active`` says so.

    Each answer is what kube-apiserver sends: a Status body, and for 429 a Retry-After header."""

    TEXTS: dict[int, tuple[str, str]] = {
        503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
        500: ("InternalError", "Internal error occurred: injected by bench/soak.py"),
        429: ("TooManyRequests", "Too many requests, please try again later."),
    }

    def __init__(self, seed: int) -> None:
        self.active: ApiFault | None = None
        self.hits: Counter[str] = Counter()
        self.shapes: Counter[str] = Counter()  # of the requests answered by the active fault
        self.rng = random.Random(seed)  # used in the emulator's thread only

    def __call__(self, request: Any) -> aiohttp.web.Response | None:
        fault = self.active
        if fault is None or not fault.match(request):
            return None
        if fault.share < 1.0 and self.rng.random() >= fault.share:
            return None
        self.hits[fault.label] += 1
        self.shapes[request_shape(request)] += 1
        status, retry_after = fault.reaction
        reason, message = self.TEXTS[status]
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        return aiohttp.web.json_response(
            _status(status, reason, message, retry_after), status=status, headers=headers
        )


class FaultyHandler(KubeEmulatorHandler):
    """The emulator with :class:`ApiFaults` consulted before anything else.

    Not kmock's reactions (``handler[predicate] << 503``): kmock 0.8 decides whether a reaction
    applies by scanning every request served so far (``request in reaction``), so each request
    costs O(requests so far) predicate calls: ~25 ms per request after a few hundred, more later,
    which would make the emulator, not the operator, the bottleneck of a soak."""

    faults: ApiFaults | None = None

    async def _handle(self, request: Any) -> aiohttp.web.StreamResponse:
        if self.faults is not None:
            answer = self.faults(request)
            if answer is not None:
                return answer
        response: aiohttp.web.StreamResponse = await super()._handle(request)
        return response


# ------------------------------------------------------------------------------------ the operator


def rss_mib(pid: int) -> float | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else None


def parse_metrics(text: str) -> Totals:
    """Counters summed over objects: (name, labels without namespace/name) -> value."""
    out: Totals = {}
    for line in text.splitlines():
        match = re.match(r"(secretsync_\w+_total)(\{[^}]*\})? ([0-9.e+-]+)$", line)
        if not match:
            continue
        labels = tuple(
            (k, v)
            for k, v in re.findall(r'(\w+)="([^"]*)"', match.group(2) or "")
            if k not in ("namespace", "name")
        )
        key = (match.group(1), labels)
        out[key] = out.get(key, 0.0) + float(match.group(3))
    return out


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclasses.dataclass
class Sample:
    t: float
    generation: int
    rss: float


class Operator:
    """The operator process, its restarts, and what is sampled from it (RSS, metrics)."""

    def __init__(self, emu: KubeEmulator, work: Path, env: dict[str, str], log_level: str) -> None:
        self.emu, self.work, self.env = emu, work, env
        self.args = [*OPERATOR_ARGS, "--log-level", log_level]
        self.proc: OperatorProcess | None = None
        self.generation = 0
        self.logs: list[Path] = []
        self.lock = threading.Lock()
        self.metrics: dict[int, Totals] = {}
        self.samples: list[Sample] = []
        self.cpu: dict[int, float] = {}  # generation -> CPU seconds at its last sample

    def start(self) -> None:
        proc = OperatorProcess(str(self.emu.kubeconfig_path), self.work, extra_args=self.args, env=self.env)
        with self.lock:
            self.generation += 1
            self.proc = proc.start()
            self.logs.append(proc.log_path)
        proc.wait_ready(timeout=180)

    @property
    def pid(self) -> int:
        assert self.proc is not None and self.proc.proc is not None
        return self.proc.proc.pid

    def scrape(self) -> None:
        """Keep the newest metrics of the current process (counters start at 0 in each process)."""
        with self.lock:
            if self.proc is None:
                return
            with contextlib.suppress(OSError):
                self.metrics[self.generation] = parse_metrics(self.proc.metrics())

    def sample(self, t0: float) -> None:
        with self.lock:
            if self.proc is None or self.proc.proc is None:
                return
            rss, cpu = rss_mib(self.proc.proc.pid), cpu_seconds(self.proc.proc.pid)
            if rss is not None and cpu is not None and self.proc.proc.poll() is None:
                self.samples.append(Sample(time.monotonic() - t0, self.generation, rss))
                self.cpu[self.generation] = cpu

    def kill(self, t0: float) -> None:
        self.scrape()
        self.sample(t0)
        with self.lock:
            assert self.proc is not None and self.proc.proc is not None
            os.kill(self.proc.proc.pid, signal.SIGKILL)
            self.proc.proc.wait(timeout=10)
            self.proc.stop()  # gives the ports back
            self.proc = None

    def stop(self) -> int:
        self.scrape()
        with self.lock:
            assert self.proc is not None
            code = self.proc.stop()
            self.proc = None
            return code

    def totals(self) -> Totals:
        out: Totals = {}
        for counts in self.metrics.values():
            for key, value in counts.items():
                out[key] = out.get(key, 0.0) + value
        return out


class EmulatorTally:
    """Committed writes counted from the emulator's event log; request log and histories trimmed."""

    def __init__(self, emu: KubeEmulator) -> None:
        self.emu = emu
        self.last_seq = 0
        self.events: Counter[tuple[str, str]] = Counter()  # (plural, event type) in our namespaces
        self.requests: Counter[str] = Counter()
        self.gaps = 0  # events that fell out of the log before they were counted

    def run(self) -> None:
        layer = self.emu.layer

        def tally() -> None:
            log = layer._log
            fresh = []
            for entry in reversed(log):
                if entry.seq <= self.last_seq:
                    break
                fresh.append(entry)
            if fresh and fresh[-1].seq > self.last_seq + 1 and self.last_seq:
                self.gaps += fresh[-1].seq - self.last_seq - 1
            for entry in fresh:
                if (entry.obj.get("metadata") or {}).get("namespace") in NAMESPACES:
                    self.events[(entry.plural, entry.type)] += 1
            if fresh:
                self.last_seq = fresh[0].seq
            for request in layer._requests:
                self.requests[_method(request)] += 1
            layer._requests.clear()
            for obj in layer._objects.values():
                history = obj.history
                if len(history) > 2:
                    del history[:-2]

        self.emu.call(tally)


class Sampler(threading.Thread):
    def __init__(self, op: Operator, tally: EmulatorTally, every: float, t0: float) -> None:
        super().__init__(name="soak-sampler", daemon=True)
        self.op, self.tally, self.every, self.t0 = op, tally, every, t0
        self.halt = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.halt.wait(self.every):
            n += 1
            self.op.sample(self.t0)
            if n % 2 == 0:
                self.op.scrape()
            with contextlib.suppress(Exception):
                self.tally.run()


# ------------------------------------------------------------------------------------ the run


@dataclasses.dataclass
class Episode:
    kind: str
    detail: str
    hold: float
    rotated: int
    recovery: float | None  # None: not recovered within the limit
    fault_hits: int = 0
    shapes: str = ""  # the requests answered by the fault, most frequent first
    rss: float = 0.0  # operator RSS once recovered, MiB


class Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.work = Path(tempfile.mkdtemp(prefix="bench-soak-"))
        self.objects: list[Managed] = []
        self.episodes: list[Episode] = []
        self.rollbacks: list[str] = []
        self.t0 = 0.0  # when the first operator process started
        self.vault: Vault
        self.aws: Aws | None = None

    # -- set-up

    def build_objects(self) -> None:
        n_aws = round(self.args.external * self.args.aws_share)
        for i in range(self.args.external):
            source = "aws" if i < n_aws else "vault"
            ns = NAMESPACES[i % len(NAMESPACES)]
            token = f"{self.rng.getrandbits(64):016x}"
            self.objects.append(Managed("ExternalSecret", source, ns, f"es-{source}-{i}", token))
        for i in range(self.args.sealed):
            ns = NAMESPACES[i % len(NAMESPACES)]
            self.objects.append(
                Managed("SealedSecret", "sealed", ns, f"sealed-{i}", f"{self.rng.getrandbits(64):016x}")
            )
        for m in self.objects:
            m.bump()

    def sealed_object(self, m: Managed) -> dict[str, Any]:
        plain = {k: base64.b64decode(v).decode() for k, v in m.expected[-1].items()}
        return seal(self.cert_pem, secret(m.name, m.ns, plain))

    def create(self, emu: KubeEmulator) -> None:
        for ns in (OPERATOR_NS, *NAMESPACES):
            emu.ensure_namespace(ns)
        key_pem, self.cert_pem = vector_key(4096)
        emu.create(key_secret("sealing-key", key_pem, self.cert_pem))
        for ns in NAMESPACES:
            emu.create(self.vault.store(emu, ns))
            if self.aws is not None:
                emu.create(self.aws.store(emu, ns))
        for m in self.objects:
            if m.kind == "SealedSecret":
                emu.create(self.sealed_object(m))
                continue
            data = [{"secretKey": k, "remoteRef": {"key": m.remote_key, "property": k}} for k in KEYS]
            emu.create(external_secret(m.name, m.ns, m.source, refreshInterval=self.args.refresh, data=data))

    # -- waiting and watching

    def look(self, emu: KubeEmulator) -> Survey:
        s = survey(emu, self.objects)
        if s.rollbacks:
            self.rollbacks.extend(s.rollbacks)
            log(f"ROLLBACK: {s.rollbacks[:5]}")
        return s

    def watch(self, emu: KubeEmulator, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.look(emu)
            time.sleep(min(1.0, max(0.0, end - time.monotonic())))

    def converge(self, emu: KubeEmulator, timeout: float) -> tuple[float | None, Survey]:
        start = last_note = time.monotonic()
        while True:
            s = self.look(emu)
            if s.converged:
                return time.monotonic() - start, s
            if time.monotonic() - start > timeout:
                return None, s
            if time.monotonic() - last_note >= 15:
                last_note = time.monotonic()
                log(
                    f"  converging: {s.ok} ok, {s.not_ready} not Ready, {s.stale} stale, {s.missing} gone, "
                    f"{s.corrupt} wrong; {dict(s.causes.most_common(4))}"
                )
            time.sleep(1.0)

    # -- episodes

    def rotate(self, emu: KubeEmulator) -> int:
        chosen = self.rng.sample(self.objects, max(1, round(len(self.objects) * ROTATE_SHARE)))
        for m in chosen:
            m.bump()
        self.vault.write(chosen)
        if self.aws is not None:
            self.aws.write(chosen)
        for m in chosen:
            if m.kind == "SealedSecret":
                spec = self.sealed_object(m)["spec"]
                emu.patch(
                    API, "SealedSecret", m.name, {"spec": {"encryptedData": spec["encryptedData"]}}, m.ns
                )
        return len(chosen)

    def api_fault(self, kind: str) -> ApiFault:
        if kind == "status-500":
            return ApiFault(
                (500, None),
                lambda r: _method(r) in ("PATCH", "PUT") and str(r.url.path).endswith("/status"),
                1.0,
                kind,
            )
        target = self.rng.choice(sorted(API_TARGETS))
        # A fault on watches meets the watches made after it begins: the open ones are ended then,
        # as an API server restart does.
        ends = target in ("watches", "every request")
        more = ", watches ended" if ends else ""
        if kind == "api-429":
            after = self.rng.choice([1, 3])
            label = f"429 (Retry-After {after}) on {target}{more}"
            return ApiFault((429, after), API_TARGETS[target], 1.0, label, ends)
        share = self.rng.choice([0.3, 0.7, 1.0])
        return ApiFault(
            (503, None), API_TARGETS[target], share, f"503 on {share:.0%} of {target}{more}", ends
        )

    def episode(self, emu: KubeEmulator, kind: str) -> Episode:
        hold = self.rng.uniform(self.args.fault_min, self.args.fault_max)
        rotated = self.rotate(emu)
        detail, hits, shapes = "", 0, ""
        if kind in ("api-503", "api-429", "status-500"):
            fault = self.api_fault(kind)
            detail = fault.label
            before = self.faults.hits[fault.label]
            self.faults.shapes.clear()
            self.faults.active = fault
            if fault.ends_watches:
                emu.end_watches()
            self.watch(emu, hold)
            self.faults.active = None
            hits = self.faults.hits[fault.label] - before
            shapes = ", ".join(f"{k} {v}" for k, v in self.faults.shapes.most_common(3))
        elif kind == "bao-restart":
            self.vault.bao.stop()
            self.watch(emu, hold)
            self.vault.bao.start()  # the seed hook writes the current values back
        elif kind == "bao-seal":
            self.vault.seal()
            self.watch(emu, hold)
            self.vault.unseal()
        elif kind == "aws-errors":
            assert self.aws is not None
            self.aws.faults.code = self.rng.choice(
                [(503, "ServiceUnavailable"), (400, "ThrottlingException")]
            )
            detail = f"{self.aws.faults.code[0]} {self.aws.faults.code[1]}"
            before = self.aws.faults.hits
            self.watch(emu, hold)
            self.aws.faults.code = None
            hits = self.aws.faults.hits - before
        elif kind == "operator-kill":
            self.operator.kill(self.t0)
            hold = self.rng.uniform(1.0, 5.0)
            self.watch(emu, hold)
            self.operator.start()
        else:  # rotate: no fault
            hold = 0.0
        recovery, s = self.converge(emu, self.args.recovery_timeout)
        if recovery is None:
            log(f"NOT RECOVERED after {kind}: {s}")
        self.operator.sample(self.t0)
        rss = self.operator.samples[-1].rss if self.operator.samples else 0.0
        return Episode(kind, detail, hold, rotated, recovery, hits, shapes, rss)

    # -- the whole run

    def run(self) -> int:
        args = self.args
        self.build_objects()
        crds = load_crd_documents(sorted((REPO / "crds").glob("*.yaml")))
        log(f"work dir {self.work}")
        handler = FaultyHandler()
        handler.faults = self.faults = ApiFaults(args.seed + 1)
        with KubeEmulator(self.work, crds, handler=handler) as emu:
            self.vault = Vault(self.work, self.objects)
            try:
                env: dict[str, str] = {}
                if any(m.source == "aws" for m in self.objects):
                    self.aws = Aws(self.objects)
                    self.aws.start()
                    env = dict(self.aws.moto.env())
                log(f"seeding OpenBao with {sum(m.source == 'vault' for m in self.objects)} secrets ...")
                self.vault.start()
                t_create = time.monotonic()
                self.create(emu)
                create_s = time.monotonic() - t_create
                log(f"{len(self.objects)} objects created in {create_s:.1f}s; starting the operator")
                self.operator = Operator(emu, self.work, env, args.operator_log_level)
                tally = EmulatorTally(emu)
                t0 = self.t0 = time.monotonic()
                sampler = Sampler(self.operator, tally, args.sample_every, t0)
                self.operator.start()
                sampler.start()
                first, s = self.converge(emu, 900)
                if first is None:
                    raise SystemExit(f"the first sync did not finish: {s}")
                log(f"all {len(self.objects)} synced {time.monotonic() - t0:.1f}s after the operator started")
                initial_s = time.monotonic() - t0
                self.watch(emu, args.warmup)
                self.operator.sample(t0)
                base_samples = [x.rss for x in self.operator.samples if x.t >= time.monotonic() - t0 - 15]
                baseline = statistics.mean(base_samples[-3:])
                log(f"warm-up done; baseline RSS {baseline:.0f} MiB; faults for {args.duration}s")
                phase_start = time.monotonic()
                kinds = [k for k in KINDS if k != "aws-errors" or self.aws is not None]
                if args.kinds:
                    kinds = [k for k in args.kinds.split(",") if k in kinds]
                deck: list[str] = []
                while time.monotonic() - phase_start < args.duration:
                    if not deck:
                        deck = list(kinds)
                        self.rng.shuffle(deck)
                    kind = deck.pop()
                    elapsed = time.monotonic() - phase_start
                    if kind == "operator-kill" and elapsed > args.duration * KILL_UNTIL:
                        self.watch(emu, 1.0)
                        continue
                    self.watch(emu, self.rng.uniform(2.0, 8.0))
                    ep = self.episode(emu, kind)
                    self.episodes.append(ep)
                    rec = "NOT RECOVERED" if ep.recovery is None else f"recovered in {ep.recovery:.1f}s"
                    log(
                        f"t+{time.monotonic() - phase_start:5.0f}s {kind:13} {ep.detail:32} "
                        f"hold {ep.hold:4.1f}s, {ep.rotated} rotated, {rec}, RSS {ep.rss:.0f} MiB"
                    )
                phase_s = time.monotonic() - phase_start
                final_wait, final = self.converge(emu, args.recovery_timeout)
                self.operator.sample(t0)
                sampler.halt.set()
                sampler.join()
                tally.run()
                end_rss = self.operator.samples[-1].rss
                exit_code = self.operator.stop()
                internal = len(emu.internal_errors)
            finally:
                op: Operator | None = getattr(self, "operator", None)
                if op is not None and op.proc is not None:  # the run broke off: no operator left behind
                    with contextlib.suppress(Exception):
                        op.proc.stop(signal.SIGKILL)
                if self.aws is not None:
                    self.aws.close()
                self.vault.close()
        return self.report(
            create_s=create_s,
            initial_s=initial_s,
            phase_s=phase_s,
            baseline=baseline,
            end_rss=end_rss,
            final=final,
            final_wait=final_wait,
            tally=tally,
            exit_code=exit_code,
            internal=internal,
        )

    # -- the report

    def report(
        self,
        *,
        create_s: float,
        initial_s: float,
        phase_s: float,
        baseline: float,
        end_rss: float,
        final: Survey,
        final_wait: float | None,
        tally: EmulatorTally,
        exit_code: int,
        internal: int,
    ) -> int:
        args, op = self.args, self.operator
        totals = op.totals()

        def metric(name: str, **labels: str) -> float:
            return sum(
                v
                for (n, ls), v in totals.items()
                if n == name and all(dict(ls).get(k) == x for k, x in labels.items())
            )

        def by(name: str, label: str) -> Counter[str]:
            out: Counter[str] = Counter()
            for (n, ls), v in totals.items():
                if n == name:
                    out[dict(ls).get(label, "")] += int(v)
            return out

        n_ext = sum(m.kind == "ExternalSecret" for m in self.objects)
        n_aws = sum(m.source == "aws" for m in self.objects)
        n_sealed = len(self.objects) - n_ext
        deletions = tally.events[("secrets", "DELETED")]
        lost = final.missing + final.corrupt + final.stale
        logs = "".join(p.read_text(errors="replace") for p in op.logs if p.exists())
        tracebacks = logs.count("Traceback")
        errors_logged = len(re.findall(r" ERROR +secretsync", logs))
        kopf_errors = len(re.findall(r" ERROR +kopf", logs))

        print(
            f"\n### bench/soak.py (seed {args.seed}; {time.strftime('%Y-%m-%d')}, "
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs)\n"
        )
        print("| measure | value |\n|---|---|")
        rows: list[tuple[str, str]] = [
            (
                "objects",
                f"{n_ext} ExternalSecrets ({n_ext - n_aws} OpenBao, {n_aws} AWS/moto) + "
                f"{n_sealed} SealedSecrets (RSA-4096) = {len(self.objects)}, 2 keys each, 4 namespaces",
            ),
            ("refreshInterval", args.refresh),
            ("create all objects / operator start -> all Ready", f"{create_s:.1f} s / {initial_s:.1f} s"),
            ("fault phase", f"{phase_s:.0f} s (requested {args.duration} s), {len(self.episodes)} episodes"),
        ]
        kinds = Counter(e.kind for e in self.episodes)
        rows.append(("faults injected", ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))))
        rotated = sum(e.rotated for e in self.episodes)
        rows.append(("values rotated (objects)", f"{rotated} (about {ROTATE_SHARE:.0%} per episode)"))
        syncs = metric("secretsync_external_syncs_total")
        unseals = metric("secretsync_unseal_attempts_total")
        rows.append(
            (
                "syncs (operator metrics, all processes)",
                f"{syncs:.0f} ExternalSecret syncs + {unseals:.0f} unseals",
            )
        )
        reads_ok = metric("secretsync_provider_calls_total", operation="get", result="ok") + metric(
            "secretsync_provider_calls_total", operation="get_map", result="ok"
        )
        rows.append(("provider reads ok", f"{reads_ok:.0f}"))
        rows.append(
            (
                "writes committed in the emulator (soak namespaces)",
                f"Secrets: {tally.events[('secrets', 'ADDED')]} created, "
                f"{tally.events[('secrets', 'MODIFIED')]} updated, {deletions} deleted; status/spec writes: "
                f"{tally.events[('externalsecrets', 'MODIFIED')]} ExternalSecret, "
                f"{tally.events[('sealedsecrets', 'MODIFIED')]} SealedSecret"
                + (f"; {tally.gaps} events left the log before they were counted" if tally.gaps else ""),
            )
        )
        rows.append(
            ("API requests served", f"{sum(tally.requests.values())} ({dict(tally.requests.most_common())})")
        )
        fault_hits = sum(self.faults.hits.values())
        aws_hits = self.aws.faults.hits if self.aws is not None else 0
        rows.append(
            ("requests answered by an injected fault", f"API {fault_hits}, AWS GetSecretValue {aws_hits}")
        )
        ext_errors = by("secretsync_external_sync_errors_total", "reason")
        rows.append(("ExternalSecret sync errors by reason", _fmt(ext_errors)))
        rows.append(
            ("SealedSecret unseal errors by reason", _fmt(by("secretsync_unseal_errors_total", "reason")))
        )
        api_errors: Counter[str] = Counter()
        for (n, ls), v in totals.items():
            if n == "secretsync_api_errors_total":
                d = dict(ls)
                api_errors[f"{d.get('verb')} {d.get('code')}"] += int(v)
        rows.append(("Kubernetes API errors seen by the operator (verb code)", _fmt(api_errors)))
        prov_err: Counter[str] = Counter()
        for (n, ls), v in totals.items():
            if n == "secretsync_provider_calls_total" and dict(ls).get("result") != "ok":
                d = dict(ls)
                prov_err[f"{d.get('provider')} {d.get('operation')} {d.get('result')}"] += int(v)
        rows.append(("provider call failures (provider operation result)", _fmt(prov_err)))
        rows.append(
            (
                "Secrets lost",
                f"{lost} at the end (missing {final.missing}, wrong {final.corrupt}, stale {final.stale}); "
                f"{deletions} deleted and {len(self.rollbacks)} rolled back during the run",
            )
        )
        rows.append(
            (
                "objects not Ready at the end",
                f"{final.not_ready}"
                + (
                    ""
                    if final_wait is None
                    else f" (final convergence {final_wait:.1f} s after the last episode)"
                ),
            )
        )
        for kind in sorted(kinds):
            times = [e.recovery for e in self.episodes if e.kind == kind and e.recovery is not None]
            failed = sum(1 for e in self.episodes if e.kind == kind and e.recovery is None)
            holds = [e.hold for e in self.episodes if e.kind == kind]
            text = (
                f"median {statistics.median(times):.1f} s, max {max(times):.1f} s"
                if times
                else "none recovered"
            )
            if failed:
                text += f", {failed} NOT recovered within {args.recovery_timeout:.0f} s"
            rows.append(
                (f"recovery: {kind} (n={kinds[kind]}, fault {statistics.mean(holds):.0f} s avg)", text)
            )
        cpu = sum(op.cpu.values())
        rows.append(
            (
                "operator CPU (all processes)",
                f"{cpu:.0f} s over {op.samples[-1].t:.0f} s ({cpu / op.samples[-1].t:.0%} of one CPU); "
                f"{1000 * cpu / max(1.0, syncs + unseals):.1f} ms per sync",
            )
        )
        gens = sorted({x.generation for x in op.samples})
        rss = [x.rss for x in op.samples]
        growth = end_rss - baseline
        rows.append(
            (
                "operator RSS: baseline (after warm-up) / end / max",
                f"{baseline:.0f} / {end_rss:.0f} / {max(rss):.0f} MiB (end - baseline {growth:+.0f} MiB, "
                f"{growth / baseline:+.1%}; margin {args.memory_margin:.0%}); {len(gens)} processes",
            )
        )
        last = [x for x in op.samples if x.generation == gens[-1]]
        if len(last) > 4:
            half = last[len(last) // 2 :]
            rows.append(
                (
                    "last process: RSS over its second half",
                    f"{half[0].rss:.0f} -> {half[-1].rss:.0f} MiB over {half[-1].t - half[0].t:.0f} s",
                )
            )
        lives = []
        for gen in gens:
            own = [x for x in op.samples if x.generation == gen]
            warm = [x for x in own if x.t - own[0].t >= 60] or own[-1:]
            lives.append(
                f"#{gen}: {own[0].rss:.0f} at start, {warm[0].rss:.0f} after 60 s, "
                f"{own[-1].rss:.0f} at its end ({own[-1].t - own[0].t:.0f} s)"
            )
        rows.append(("RSS per operator process", "; ".join(lives)))
        with (self.work / "rss.csv").open("w") as out:
            out.write("t_s,process,rss_mib\n")
            out.writelines(f"{x.t:.1f},{x.generation},{x.rss:.1f}\n" for x in op.samples)
        picks = [op.samples[round(i * (len(op.samples) - 1) / 9)] for i in range(10)] if op.samples else []
        rows.append(
            (
                "RSS samples (t: MiB, process)",
                ", ".join(f"{x.t:.0f}s: {x.rss:.0f} (#{x.generation})" for x in picks),
            )
        )
        rows.append(
            (
                "operator log",
                f"{errors_logged} ERROR lines of secretsync, {kopf_errors} of kopf (its retries), "
                f"{tracebacks} tracebacks; last process exit code {exit_code}; "
                f"emulator internal errors {internal}",
            )
        )
        for name, value in rows:
            print(f"| {name} | {value} |")
        print("\nEpisodes:\n")
        print(
            "| # | kind | detail | fault s | rotated | faulted requests (most frequent) | recovery s "
            "| RSS MiB |\n"
            "|---|---|---|---|---|---|---|---|"
        )
        for i, e in enumerate(self.episodes, 1):
            rec = "NOT recovered" if e.recovery is None else f"{e.recovery:.1f}"
            hits = f"{e.fault_hits} ({e.shapes})" if e.shapes else str(e.fault_hits)
            print(
                f"| {i} | {e.kind} | {e.detail} | {e.hold:.1f} | {e.rotated} | {hits} | {rec} | {e.rss:.0f} |"
            )
        if final.problems:
            print("\nNot synced at the end:\n" + "\n".join(f"- {p}" for p in final.problems))
        if self.rollbacks:
            print("\nRollbacks:\n" + "\n".join(f"- {r}" for r in self.rollbacks[:20]))
        print(f"\nwork dir (operator logs, rss.csv): {self.work}")

        failures = []
        if lost or deletions or self.rollbacks:
            failures.append(
                f"Secrets lost: {lost} at the end, {deletions} deleted, {len(self.rollbacks)} rolled back"
            )
        if final.not_ready:
            failures.append(f"{final.not_ready} objects not Ready at the end")
        if end_rss > baseline * (1 + args.memory_margin):
            failures.append(
                f"RSS grew from {baseline:.0f} to {end_rss:.0f} MiB (margin {args.memory_margin:.0%})"
            )
        if failures:
            print("\nFAILED: " + "; ".join(failures))
            return 1
        print("\nOK: no Secret lost, every object synced, memory flat within the margin")
        return 0


def _fmt(counts: Counter[str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.most_common() if v) or "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--external", type=int, default=2000, help="ExternalSecrets")
    parser.add_argument("--aws-share", type=float, default=0.1, help="share of them read from moto")
    parser.add_argument("--sealed", type=int, default=1000, help="SealedSecrets")
    parser.add_argument("--duration", type=float, default=600, help="seconds of faults")
    parser.add_argument("--refresh", default="15s", help="refreshInterval of every ExternalSecret")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fault-min", type=float, default=5.0, help="shortest fault window, seconds")
    parser.add_argument("--fault-max", type=float, default=20.0, help="longest fault window, seconds")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds after the first sync")
    parser.add_argument("--recovery-timeout", type=float, default=180.0)
    parser.add_argument("--sample-every", type=float, default=5.0, help="RSS sample period, seconds")
    parser.add_argument("--operator-log-level", default="warning")
    parser.add_argument("--kinds", default="", help=f"comma-separated subset of {','.join(KINDS)}")
    parser.add_argument("--memory-margin", type=float, default=0.15, help="allowed RSS growth (fraction)")
    sys.exit(Soak(parser.parse_args()).run())


if __name__ == "__main__":
    main()
