"""Attack 10 against the real operator process: its HTTP API flooded with hostile bodies.

tests/security/test_http_api_abuse.py covers each hostile request against the app; here the
whole operator takes them at once, and must keep its probes fast, keep its memory, and keep
serving tenants: a SealedSecret applied meanwhile becomes Ready.
"""

from __future__ import annotations

import concurrent.futures
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.security.test_http_api_abuse import CANARY, billion_laughs, hostile_4mib_bodies
from tests.support.operator_proc import OperatorProcess
from tests.support.sealed_env import SealedEnv, fresh_key, key_secret, seal, secret

NS = "tenant-b"


def _post(url: str, body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/yaml"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_the_operator_keeps_serving_while_its_api_is_flooded(
    kube_emulator: Any, operator_factory: Any
) -> None:
    for ns in ("secretsync-system", NS):
        kube_emulator.ensure_namespace(ns)
    env = SealedEnv(kube_emulator)
    key_pem, cert_pem = fresh_key()
    kube_emulator.create(key_secret("sealing-key", key_pem, cert_pem))
    proc: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    proc.wait_ready()
    assert proc.proc is not None
    hostile = [body for body, _ in hostile_4mib_bodies()] + [billion_laughs().encode()] * 4
    answers: list[tuple[int, bytes]] = []
    slowest = 0.0
    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        futures = [
            pool.submit(_post, f"{proc.url}{path}", body)
            for _ in range(3)
            for body in hostile
            for path in ("/v1/rotate", "/v1/verify")
        ]
        kube_emulator.create(seal(cert_pem, secret("innocent", NS, {"k": "v"})))
        while not all(f.done() for f in futures):
            started = time.monotonic()
            status, _ = proc.get("/healthz", timeout=5)
            slowest = max(slowest, time.monotonic() - started)
            assert status == 200
            time.sleep(0.05)
        answers = [f.result() for f in futures]
    env.wait_ready("innocent", NS)
    assert slowest < 1.0, f"/healthz took {slowest:.2f} s under the flood"
    statuses = {status for status, _ in answers}
    assert statuses <= {400, 413, 429}, statuses  # refused, too large, or rate-limited: never 200/500
    assert _peak_rss_mib(proc.proc.pid) < 400
    for _, body in answers:
        assert CANARY.encode() not in body and len(body) < 4096
    assert CANARY not in proc.logs() and CANARY not in json.dumps(kube_emulator.list("v1", "Event"))
