"""The online CLI (fetch-cert, validate, reencrypt, keys list/rotate/backup) against a real operator."""

from __future__ import annotations

import asyncio
import base64
import email.utils
import json
import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from secretsync import crypto, remote, sealing
from secretsync.remote import Target
from tests.support.kube_emulator import wait_for
from tests.support.operator_proc import OperatorProcess
from tests.support.rate_limit import Neighbour, run_until_it_waits
from tests.support.sealed_env import OPERATOR_NS, SealedEnv, fresh_key, key_secret, seal, secret, vector_key

NS = "team-a"
CANARY = "canary-online-K2m9"


def cli(
    *args: str, input: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "secretsync", *args],
        capture_output=True,
        text=True,
        input=input,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def env(kube_emulator: Any) -> SealedEnv:
    kube_emulator.ensure_namespace(OPERATOR_NS)
    kube_emulator.ensure_namespace(NS)
    key_pem, cert_pem = vector_key(4096)
    kube_emulator.create(key_secret("sealing-key-vectors", key_pem, cert_pem))
    return SealedEnv(kube_emulator)


@pytest.fixture
def running(env: SealedEnv, operator_factory: Any) -> OperatorProcess:
    proc: OperatorProcess = operator_factory()
    proc.wait_ready()
    return proc


def test_fetch_cert_by_url_then_seal_offline(
    running: OperatorProcess, env: SealedEnv, tmp_path: Path
) -> None:
    out = tmp_path / "cert.pem"
    result = cli("fetch-cert", "--controller-url", running.url, "-w", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().strip() == vector_key(4096)[1].strip()
    plain = yaml.safe_dump(secret("fetched", NS, {"k": CANARY}))
    sealed = cli("seal", "--cert", str(out), input=plain)
    assert sealed.returncode == 0, sealed.stderr
    env.emu.create(yaml.safe_load(sealed.stdout))
    env.wait_ready("fetched", NS)


def test_fetch_cert_and_validate_through_the_api_server_proxy(
    running: OperatorProcess, env: SealedEnv, tmp_path: Path
) -> None:
    """The default path: the kubeconfig's API server proxies to the operator's Service."""
    service_meta = {"name": "secretsync", "namespace": OPERATOR_NS}
    ports = [{"name": "http", "port": 8080}]
    env.emu.create(
        {"apiVersion": "v1", "kind": "Service", "metadata": service_meta, "spec": {"ports": ports}}
    )
    env.emu.register_service_backend(OPERATOR_NS, "secretsync", "http", running.url)
    kube = ["--kubeconfig", str(env.emu.kubeconfig_path)]
    result = cli("fetch-cert", *kube)
    assert result.returncode == 0, result.stderr
    assert result.stdout.encode().strip() == vector_key(4096)[1].strip()
    sealed_file = tmp_path / "s.yaml"
    sealed_file.write_text(
        yaml.safe_dump(seal(result.stdout.encode(), secret("via-proxy", NS, {"k": CANARY})))
    )
    result = cli("validate", *kube, str(sealed_file))
    assert result.returncode == 0, result.stderr
    wrong_ns = cli("fetch-cert", *kube, "--controller-namespace", "nowhere")
    assert wrong_ns.returncode == 1
    assert "service nowhere/secretsync" in wrong_ns.stderr


def test_fetch_cert_unreachable_is_one_clear_line() -> None:
    result = cli("fetch-cert", "--controller-url", "http://127.0.0.1:9")
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot reach the operator at http://127.0.0.1:9")
    assert "Traceback" not in result.stderr


def test_validate_names_every_bad_object(running: OperatorProcess, tmp_path: Path) -> None:
    _, cert = vector_key(4096)
    good = seal(cert, secret("good", NS, {"k": CANARY}))
    moved = seal(cert, secret("moved", NS, {"k": CANARY}))
    moved["metadata"]["name"] = "moved-elsewhere"
    ok_file = tmp_path / "ok.yaml"
    ok_file.write_text(yaml.safe_dump(good))
    bad_file = tmp_path / "bad.yaml"
    bad_file.write_text(yaml.safe_dump_all([good, moved]))
    result = cli("validate", "--controller-url", running.url, str(ok_file))
    assert result.returncode == 0, result.stderr
    assert f"ok: {NS}/good" in result.stdout
    result = cli("validate", "--controller-url", running.url, str(ok_file), str(bad_file))
    assert result.returncode == 1
    assert f"invalid: {NS}/moved-elsewhere" in result.stderr
    assert f"{NS}/good" not in result.stderr
    assert "1 of 3 SealedSecrets cannot be unsealed" in result.stderr
    assert CANARY not in result.stdout + result.stderr


def test_validate_a_whole_repository_waits_out_the_rate_limit(
    running: OperatorProcess, tmp_path: Path
) -> None:
    """The real operator's verify bucket kept empty by a neighbour (as behind the API server's proxy,
    where every user shares it): the CLI meets 429 + Retry-After, waits, and checks 250 documents in
    three batches."""
    _, cert = vector_key(4096)
    repo = tmp_path / "repo.yaml"
    repo.write_text(yaml.safe_dump_all([seal(cert, secret(f"s{i}", NS, {"k": CANARY})) for i in range(250)]))
    with Neighbour(Target(url=running.url)) as neighbour:
        result = run_until_it_waits(["validate", "--controller-url", running.url, str(repo)], neighbour)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok: ") == 250
    assert "waiting " in result.stderr and "rate-limiting (429: too many verify requests" in result.stderr
    assert neighbour.retry_after and all(int(value or "0") >= 1 for value in neighbour.retry_after)


def test_reencrypt_rewrites_files_in_place(running: OperatorProcess, env: SealedEnv, tmp_path: Path) -> None:
    _, old_cert = vector_key(4096)
    tree = tmp_path / "repo" / "apps"
    tree.mkdir(parents=True)
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"a": "b"}}
    yaml_file = tree / "db.yaml"
    yaml_file.write_text(yaml.safe_dump_all([configmap, seal(old_cert, secret("db", NS, {"k": CANARY}))]))
    json_file = tree / "api.json"
    json_file.write_text(json.dumps(seal(old_cert, secret("api", NS, {"k": "v"}))))
    (tree / "notes.txt").write_text("not a manifest")
    key_pem, cert_pem = fresh_key(2048)
    env.emu.create(key_secret("newer", key_pem, cert_pem))
    wait_for(lambda: running.get("/v1/cert.pem")[1].encode().strip() == cert_pem.strip(), timeout=10)

    result = cli("reencrypt", "--controller-url", running.url, str(tmp_path / "repo"))
    assert result.returncode == 0, result.stderr
    assert "re-encrypted 2 SealedSecrets in 2 files" in result.stderr
    docs = list(yaml.safe_load_all(yaml_file.read_text()))
    assert docs[0] == configmap
    new_key = crypto.load_private_keys(key_pem)[0]
    assert (
        crypto.decrypt(new_key, f"{NS}/db".encode(), docs[1]["spec"]["encryptedData"]["k"]) == CANARY.encode()
    )
    api = json.loads(json_file.read_text())  # JSON stays JSON
    assert crypto.decrypt(new_key, f"{NS}/api".encode(), api["spec"]["encryptedData"]["k"]) == b"v"


def test_reencrypt_leaves_a_file_alone_when_one_object_fails(
    running: OperatorProcess, tmp_path: Path
) -> None:
    _, cert = vector_key(4096)
    bad = seal(cert, secret("x", NS, {"k": "v"}))
    bad["metadata"]["namespace"] = "other"
    path = tmp_path / "mixed.yaml"
    original = yaml.safe_dump_all([seal(cert, secret("y", NS, {"k": "v"})), bad])
    path.write_text(original)
    result = cli("reencrypt", "--controller-url", running.url, str(path))
    assert result.returncode == 1
    assert "document 2 (other/x)" in result.stderr
    assert path.read_text() == original


def test_keys_list_rotate_backup_then_offline_unseal(
    running: OperatorProcess, env: SealedEnv, tmp_path: Path
) -> None:
    kube = ["--kubeconfig", str(env.emu.kubeconfig_path)]
    listed = cli("keys", "list", *kube)
    assert listed.returncode == 0, listed.stderr
    assert "sealing-key-vectors" in listed.stdout and "(newest: seals)" in listed.stdout

    rotated = cli("keys", "rotate", "--bits", "2048", *kube)
    assert rotated.returncode == 0, rotated.stderr
    new_cert = wait_for(
        lambda: (lambda c: c if c.encode().strip() != vector_key(4096)[1].strip() else None)(
            running.get("/v1/cert.pem")[1]
        ),
        timeout=10,
    )
    assert crypto.load_certificate(new_cert.encode()).key_size == 2048
    listed = cli("keys", "list", *kube)
    assert listed.stdout.count("active") == 2

    sealed = seal(new_cert.encode(), secret("after-rotate", NS, {"k": CANARY}))
    backup = tmp_path / "keys.backup.yaml"
    result = cli("keys", "backup", "-w", str(backup), *kube)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    sealed_file = tmp_path / "s.yaml"
    sealed_file.write_text(yaml.safe_dump(sealed))
    plain = cli("unseal", "--private-key", str(backup), "-f", str(sealed_file))
    assert plain.returncode == 0, plain.stderr
    out = yaml.safe_load(plain.stdout)
    assert base64.b64decode(out["data"]["k"]) == CANARY.encode()


# --------------------------------------------------------------------------- kubeseal's flags on `seal`

KUBESEAL_NS, KUBESEAL_NAME = "kube-system", "sealed-secrets-controller"


def serve_operator(env: SealedEnv, running: OperatorProcess, namespace: str, name: str) -> None:
    """A Service NAME in NAMESPACE whose port `http` the API server proxies to the operator."""
    env.emu.ensure_namespace(namespace)
    meta = {"name": name, "namespace": namespace}
    ports = [{"name": "http", "port": 8080}]
    env.emu.create({"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": {"ports": ports}})
    env.emu.register_service_backend(namespace, name, "http", running.url)


def no_kubeseal_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("SEALED_SECRETS_", "SECRETSYNC_"))}


def cli_clean(*args: str, input: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "secretsync", *args],
        capture_output=True,
        text=True,
        input=input,
        timeout=120,
        env={**no_kubeseal_env(), **env},
    )


def test_seal_without_cert_fetches_it_through_the_api_server_proxy(
    running: OperatorProcess, env: SealedEnv, tmp_path: Path
) -> None:
    """kubeseal's default: no --cert, so GET /v1/cert.pem from the controller's Service."""
    serve_operator(env, running, OPERATOR_NS, "secretsync")
    kube = ["--kubeconfig", str(env.emu.kubeconfig_path)]
    plain = yaml.safe_dump(secret("no-cert", NS, {"k": CANARY}))
    sealed = cli_clean("seal", *kube, input=plain)
    assert sealed.returncode == 0, sealed.stderr
    assert CANARY not in sealed.stdout + sealed.stderr
    env.emu.create(yaml.safe_load(sealed.stdout))
    env.wait_ready("no-cert", NS)
    assert env.get_secret("no-cert", NS)["data"]["k"] == base64.b64encode(CANARY.encode()).decode()  # type: ignore[index]
    # --fetch-cert prints what fetch-cert prints, through the proxy or by URL
    for args in (kube, ["--controller-url", running.url]):
        fetched = cli_clean("seal", "--fetch-cert", *args)
        assert fetched.returncode == 0, fetched.stderr
        assert fetched.stdout.encode().strip() == vector_key(4096)[1].strip()


def test_seal_without_cert_and_no_operator_fails_with_one_line(env: SealedEnv, tmp_path: Path) -> None:
    out = tmp_path / "sealed.yaml"
    kube = ["--kubeconfig", str(env.emu.kubeconfig_path)]
    result = cli_clean("seal", *kube, "-w", str(out), input=yaml.safe_dump(secret("x", NS, {"k": CANARY})))
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: service secretsync-system/secretsync (through the Kubernetes API proxy)")
    assert 'answered 503: no endpoints available for service "secretsync"' in line
    assert "to seal offline, pass --cert" in line and CANARY not in line
    assert not out.exists()


def test_kubeseals_controller_variables_choose_the_service_and_the_flags_win(
    running: OperatorProcess, env: SealedEnv, tmp_path: Path
) -> None:
    serve_operator(env, running, OPERATOR_NS, "secretsync")
    serve_operator(env, running, KUBESEAL_NS, KUBESEAL_NAME)
    kube = ["--kubeconfig", str(env.emu.kubeconfig_path)]
    cert = vector_key(4096)[1].strip()
    kubeseal_vars = {
        "SEALED_SECRETS_CONTROLLER_NAME": KUBESEAL_NAME,
        "SEALED_SECRETS_CONTROLLER_NAMESPACE": KUBESEAL_NS,
    }
    nowhere = {"SEALED_SECRETS_CONTROLLER_NAME": "nothing", "SEALED_SECRETS_CONTROLLER_NAMESPACE": "nowhere"}
    sealed_file = tmp_path / "s.yaml"
    sealed_file.write_text(yaml.safe_dump(seal(cert, secret("vars", NS, {"k": CANARY}))))

    for command in (["fetch-cert"], ["seal", "--fetch-cert"]):
        result = cli_clean(*command, *kube, **kubeseal_vars)  # the variables alone
        assert result.returncode == 0, result.stderr
        assert result.stdout.encode().strip() == cert
        flags = ["--controller-name", "secretsync", "--controller-namespace", OPERATOR_NS]
        result = cli_clean(*command, *kube, *flags, **nowhere)  # flags win over the variables
        assert result.returncode == 0, result.stderr
        ours = {"SECRETSYNC_CONTROLLER_NAME": "secretsync", "SECRETSYNC_CONTROLLER_NAMESPACE": OPERATOR_NS}
        result = cli_clean(*command, *kube, **nowhere, **ours)  # SECRETSYNC_* win over SEALED_SECRETS_*
        assert result.returncode == 0, result.stderr
        result = cli_clean(*command, *kube, **nowhere)
        assert result.returncode == 1
        (line,) = result.stderr.strip().splitlines()
        assert "service nowhere/nothing" in line
        assert "set by SEALED_SECRETS_CONTROLLER_NAMESPACE and SEALED_SECRETS_CONTROLLER_NAME" in line

    for command in (["validate", str(sealed_file)], ["seal", "--validate", "-f", str(sealed_file)]):
        result = cli_clean(*command, *kube, **kubeseal_vars)
        assert result.returncode == 0, result.stderr
        assert f"ok: {NS}/vars" in result.stdout
    plain = yaml.safe_dump(secret("vars-sealed", NS, {"k": CANARY}))
    result = cli_clean("seal", *kube, input=plain, **kubeseal_vars)  # sealing without --cert
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["metadata"]["name"] == "vars-sealed"


def test_seal_validate_like_kubeseal(running: OperatorProcess, env: SealedEnv) -> None:
    _, cert = vector_key(4096)
    good = seal(cert, secret("good", NS, {"k": CANARY}))
    moved = seal(cert, secret("moved", NS, {"k": CANARY}))
    moved["metadata"]["name"] = "moved-elsewhere"
    url = ["--controller-url", running.url]
    result = cli_clean("seal", "--validate", *url, "-o", "yaml", input=yaml.safe_dump(good))  # -o: ignored
    assert result.returncode == 0, result.stderr
    assert f"ok: {NS}/good (stdin document 1)" in result.stdout
    result = cli_clean("seal", "--validate", *url, input=yaml.safe_dump_all([good, moved]))
    assert result.returncode == 1
    assert f"invalid: {NS}/moved-elsewhere" in result.stderr and CANARY not in result.stderr
    assert "1 of 2 SealedSecrets cannot be unsealed" in result.stderr


def test_seal_re_encrypt_like_kubeseal(running: OperatorProcess, env: SealedEnv, tmp_path: Path) -> None:
    """stdin -> stdout, one -f file in place (kubeseal #405), -w; --rotate is the old spelling."""
    _, old_cert = vector_key(4096)
    key_pem, cert_pem = fresh_key(2048)
    env.emu.create(key_secret("newer", key_pem, cert_pem))
    wait_for(lambda: running.get("/v1/cert.pem")[1].encode().strip() == cert_pem.strip(), timeout=10)
    new_key = crypto.load_private_keys(key_pem)[0]
    url = ["--controller-url", running.url]
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"a": "b"}}

    def opens(doc: dict[str, Any], name: str) -> bool:
        value = doc["spec"]["encryptedData"]["k"]
        return crypto.decrypt(new_key, f"{NS}/{name}".encode(), value) == CANARY.encode()

    stream = yaml.safe_dump_all([configmap, seal(old_cert, secret("a", NS, {"k": CANARY}))])
    result = cli_clean("seal", "--re-encrypt", *url, input=stream)
    assert result.returncode == 0, result.stderr
    out = list(yaml.safe_load_all(result.stdout))
    assert out[0] == configmap and opens(out[1], "a")

    in_place = tmp_path / "b.json"
    in_place.write_text(json.dumps(seal(old_cert, secret("b", NS, {"k": CANARY}))))
    result = cli_clean("seal", "--rotate", *url, "-f", str(in_place))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and opens(json.loads(in_place.read_text()), "b")  # JSON stays JSON

    target = tmp_path / "c.yaml"
    result = cli_clean("seal", "--re-encrypt", *url, "-w", str(target), "-o", "json", input=stream)
    assert result.returncode == 0, result.stderr
    assert opens(json.loads(target.read_text())["items"][1], "a")

    bad = seal(old_cert, secret("x", NS, {"k": CANARY}))
    bad["metadata"]["namespace"] = "other"
    broken = tmp_path / "broken.yaml"
    original = yaml.safe_dump_all([seal(old_cert, secret("y", NS, {"k": CANARY})), bad])
    broken.write_text(original)
    result = cli_clean("seal", "--re-encrypt", *url, "-f", str(broken))
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "document 2 (other/x)" in line and CANARY not in line
    assert broken.read_text() == original


# --------------------------------------------------------------------------- rate limits: 429 and Retry-After

Gate = Callable[[str, int, bytes], "web.StreamResponse | None"]


class StubOperator:
    """The real API app (unseal and re-encrypt with the 2048-bit test key) on a thread of its own,
    behind a ``gate`` that may answer a request first: ``gate(path, n, body)`` for the n-th request
    to ``path`` returns a response, or None to let the app answer. Logs (path, documents, status)."""

    def __init__(self, gate: Gate) -> None:
        key_pem, self.cert = vector_key(2048)
        self.ring = crypto.KeyRing([crypto.KeyEntry.from_key(crypto.load_private_keys(key_pem)[0])])
        self.gate = gate
        self.log: list[tuple[str, int, int]] = []
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _app(self) -> web.Application:
        from secretsync import http

        ring, sealer = self.ring, crypto.load_certificate(self.cert).sealer()

        async def verify(body: dict[str, Any]) -> None:
            sealing.unseal(body, ring).raise_for_failures()

        async def rotate(body: dict[str, Any]) -> dict[str, Any]:
            return sealing.reencrypt(body, ring, sealer)

        hooks = http.ApiHooks(is_ready=lambda: True, verify=verify, rotate=rotate)
        app = http.api_app(hooks, limiter=http.RateLimiter(rate=1000, burst=1000))
        counts: dict[str, int] = {}

        @web.middleware
        async def front(request: web.Request, handler: Any) -> web.StreamResponse:
            body = await request.read()
            counts[request.path] = counts.get(request.path, 0) + 1
            docs = len(json.loads(body)) if body.startswith(b"[") else 1
            response = self.gate(request.path, counts[request.path], body)
            if response is None:
                response = await handler(request)
            self.log.append((request.path, docs, response.status))
            return response

        app.middlewares.append(front)
        return app

    def _serve(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._runner = web.AppRunner(self._app())
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._ready.set()
        self._loop.run_forever()

    def __enter__(self) -> StubOperator:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *_: Any) -> None:
        assert self._loop is not None and self._runner is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def calls(self, path: str) -> list[tuple[int, int]]:
        return [(docs, status) for p, docs, status in self.log if p == path]


def too_many(retry_after: str | None = "1", status: int = 429) -> web.Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return web.Response(status=status, text="too many verify requests; slow down\n", headers=headers)


def http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


def first(count: int, answer: Callable[[int], web.Response], path: str = "/v1/verify") -> Gate:
    """A gate answering the first ``count`` requests to ``path`` with ``answer(n)``."""
    return lambda p, n, _: answer(n) if p == path and n <= count else None


def _repository(tmp_path: Path, cert: bytes, files: int, per_file: int, bad: set[int]) -> list[Path]:
    """files x per_file SealedSecrets; the documents numbered in ``bad`` are moved (cannot be unsealed)."""
    paths = []
    for f in range(files):
        docs = []
        for d in range(per_file):
            number = f * per_file + d
            doc = seal(cert, secret(f"s{number}", NS, {"k": CANARY}))
            if number in bad:
                doc["metadata"]["name"] = f"moved{number}"
            docs.append(doc)
        path = tmp_path / f"app{f}.yaml"
        path.write_text(yaml.safe_dump_all(docs))
        paths.append(path)
    return paths


@pytest.fixture
def stub() -> Iterator[Callable[[Gate], StubOperator]]:
    started: list[StubOperator] = []

    def start(gate: Gate) -> StubOperator:
        server = StubOperator(gate).__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__()


def test_validate_fifty_documents_through_429s(stub: Callable[[Gate], StubOperator], tmp_path: Path) -> None:
    """429 with Retry-After in seconds, then as an HTTP date: waited out; 50 documents, one request."""
    server = stub(first(2, lambda n: too_many("1" if n == 1 else http_date(3))))  # a date: whole seconds
    paths = _repository(tmp_path, server.cert, files=5, per_file=10, bad={13, 37})
    started = time.monotonic()
    result = cli("validate", "--controller-url", server.url, *map(str, paths))
    assert time.monotonic() - started >= 2.8  # both waits were honoured (1 s, then 2 to 3 s)
    assert result.returncode == 1
    assert result.stdout.count("ok: ") == 48
    assert f"ok: {NS}/s12 ({paths[1]} document 3)" in result.stdout
    invalid = [line for line in result.stderr.splitlines() if line.startswith("invalid: ")]
    assert [line.split(": ")[1] for line in invalid] == [
        f"{NS}/moved13 ({paths[1]} document 4)",
        f"{NS}/moved37 ({paths[3]} document 8)",
    ]
    assert "cannot unseal" in invalid[0]
    assert result.stderr.count("waiting ") == 2
    assert "error: 2 of 50 SealedSecrets cannot be unsealed" in result.stderr
    assert "not checked" not in result.stderr and CANARY not in result.stdout + result.stderr
    assert server.calls("/v1/verify") == [(50, 429), (50, 429), (50, 409)]


def test_validate_a_rate_limit_beyond_max_wait_is_no_verdict(
    stub: Callable[[Gate], StubOperator], tmp_path: Path
) -> None:
    server = stub(first(10**6, lambda _: too_many("30")))
    (path,) = _repository(tmp_path, server.cert, files=1, per_file=3, bad=set())
    started = time.monotonic()
    result = cli("validate", "--controller-url", server.url, "--max-wait", "5", str(path))
    assert time.monotonic() - started < 20
    assert result.returncode == 1
    assert "invalid" not in result.stderr and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: the operator at {server.url} is rate-limited (429): too many verify")
    assert "asks for 30 s more, beyond --max-wait (5 s)" in line

    # the first batch passes, the second meets a rate limit that outlasts the budget: 100 ok, 50 unchecked
    server = stub(lambda p, n, _: too_many("30") if p == "/v1/verify" and n > 1 else None)
    (path,) = _repository(tmp_path, server.cert, files=1, per_file=150, bad=set())
    result = cli("validate", "--controller-url", server.url, "--max-wait", "0", str(path))
    assert result.returncode == 1
    assert result.stdout.count("ok: ") == 100
    assert result.stderr.count("not checked: ") == 50 and "invalid" not in result.stderr
    assert "error: 50 of 150 SealedSecrets could not be checked: the operator at" in result.stderr
    assert server.calls("/v1/verify") == [(100, 200), (50, 429)]


def test_validate_503_with_and_without_retry_after(
    stub: Callable[[Gate], StubOperator], tmp_path: Path
) -> None:
    server = stub(first(1, lambda _: too_many("1", status=503)))
    (path,) = _repository(tmp_path, server.cert, files=1, per_file=2, bad=set())
    result = cli("validate", "--controller-url", server.url, str(path))
    assert result.returncode == 0, result.stderr
    assert "waiting 1." in result.stderr and "unavailable (503" in result.stderr
    server = stub(first(10, lambda _: too_many(None, status=503)))  # no Retry-After: not retried
    result = cli("validate", "--controller-url", server.url, str(path))
    assert result.returncode == 1
    assert result.stderr.count("not checked: ") == 2 and "invalid" not in result.stderr
    assert "the operator answered 503" in result.stderr
    assert "2 of 2 SealedSecrets could not be checked" in result.stderr


def test_validate_falls_back_to_one_document_at_a_time(
    stub: Callable[[Gate], StubOperator], tmp_path: Path
) -> None:
    """Bitnami's controller (or an older secretsync) answers a list 500: the CLI asks per document."""
    server = stub(lambda p, _, body: web.Response(status=500) if body.startswith(b"[") else None)
    paths = _repository(tmp_path, server.cert, files=2, per_file=3, bad={4})
    result = cli("validate", "--controller-url", server.url, *map(str, paths))
    assert result.returncode == 1
    assert result.stdout.count("ok: ") == 5
    assert f"invalid: {NS}/moved4 ({paths[1]} document 2)" in result.stderr
    assert "1 of 6 SealedSecrets cannot be unsealed" in result.stderr
    assert server.calls("/v1/verify") == [(6, 500)] + [(1, 200)] * 4 + [(1, 409), (1, 200)]


def test_reencrypt_waits_out_429s(stub: Callable[[Gate], StubOperator], tmp_path: Path) -> None:
    server = stub(first(2, lambda n: too_many("1" if n == 1 else http_date(1)), path="/v1/rotate"))
    paths = _repository(tmp_path, server.cert, files=3, per_file=1, bad=set())
    before = [p.read_text() for p in paths]
    result = cli("reencrypt", "--controller-url", server.url, *map(str, paths))
    assert result.returncode == 0, result.stderr
    assert "re-encrypted 3 SealedSecrets in 3 files" in result.stderr
    assert result.stderr.count("waiting ") == 2
    for path, old in zip(paths, before, strict=True):
        doc = yaml.safe_load(path.read_text())
        assert path.read_text() != old and sealing.unseal(doc, server.ring).ok
    assert [status for _, status in server.calls("/v1/rotate")] == [429, 429, 200, 200, 200]

    # a rate limit that outlasts --max-wait: the first file fails with the reason, the rest are not tried
    server = stub(first(10**6, lambda _: too_many("30"), path="/v1/rotate"))
    before = [p.read_text() for p in paths]
    result = cli("reencrypt", "--controller-url", server.url, "--max-wait", "1", *map(str, paths))
    assert result.returncode == 1
    assert f"error: {paths[0]}: the operator at {server.url} is rate-limited (429)" in result.stderr
    assert "1 files could not be re-encrypted, and 2 more were not tried" in result.stderr
    assert [p.read_text() for p in paths] == before
    assert len(server.calls("/v1/rotate")) == 1

    # seal --re-encrypt (kubeseal's form) waits too
    server = stub(first(1, lambda _: too_many("1"), path="/v1/rotate"))
    result = cli("seal", "--re-encrypt", "--controller-url", server.url, "-f", str(paths[0]), "-w", "-")
    assert result.returncode == 0, result.stderr
    assert "waiting " in result.stderr and sealing.unseal(yaml.safe_load(result.stdout), server.ring).ok


def test_retry_after_forms() -> None:
    now = time.time()
    assert remote.retry_after_seconds("5") == 5
    assert remote.retry_after_seconds(" 2.5 ") == 2.5
    assert remote.retry_after_seconds("-3") == 0
    assert remote.retry_after_seconds(email.utils.formatdate(now + 30, usegmt=True), now) == pytest.approx(
        30, abs=1
    )
    assert remote.retry_after_seconds(email.utils.formatdate(now - 30, usegmt=True), now) == 0
    for unreadable in (None, "", "soon", "nan", "inf", "1e999", "Mon, 99 Foo 2020"):
        assert remote.retry_after_seconds(unreadable) is None


def test_the_wait_budget_counts_every_request_and_adds_jitter(
    stub: Callable[[Gate], StubOperator], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Waits are never shorter than asked (capped at 30 s), jittered, and summed over the command.

    The jitter is the test's own (0.5, 2 and the most it may be, 0.1 + 0.2 x 30 = 6.1 s): with
    random jitter two large draws left no room for the third wait, about one run in fifteen."""
    server = stub(lambda p, n, _: too_many("3600") if n % 2 else None)  # every other request: 429
    slept: list[float] = []
    jitters = iter([0.5, 2.0, 6.1])
    monkeypatch.setattr(remote.random, "uniform", lambda low, high: min(high, next(jitters)))

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def run() -> None:
        target = Target(url=server.url, max_wait=100)
        async with remote.Controller(target, sleep=sleep) as ctl:
            for _ in range(3):
                status, _ = await ctl.request("GET", "/healthz")
                assert status == 200
            with pytest.raises(remote.Busy, match="asks for 3600 s more, beyond --max-wait"):
                await ctl.request("GET", "/healthz")  # 3 x 30+ s slept: no room for another 30

    asyncio.run(run())
    assert slept == [30.5, 32.0, 36.1]
