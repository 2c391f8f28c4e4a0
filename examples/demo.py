"""`make demo`: the main job end to end on a laptop, with no cluster.

Starts a Kubernetes API emulator (the same one the tests use) and the real
`secretsync operator`, fetches the sealing certificate from the operator with
the CLI, seals examples/db-secret.yaml with it, applies the SealedSecret,
waits until it is Ready and prints the resulting Secret (values masked) and
the status, then shuts everything down. Any failing step stops the demo with
the step's name and a non-zero exit code.
"""

from __future__ import annotations

import base64
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.kube_emulator import KubeEmulator, load_crd_documents  # noqa: E402
from tests.support.operator_proc import OperatorProcess  # noqa: E402

T = TypeVar("T")
SECRETSYNC = [sys.executable, "-m", "secretsync"]


def step(name: str, action: Callable[[], T]) -> T:
    print(f"==> {name}", flush=True)
    try:
        return action()
    except Exception as exc:
        print(f"\nDEMO FAILED at step: {name}\n  {type(exc).__name__}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


def cli(*args: str, stdin: str | None = None) -> str:
    proc = subprocess.run([*SECRETSYNC, *args], input=stdin, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"secretsync {args[0]} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


def wait(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not happen within {timeout:.0f}s")


def mask(value: bytes) -> str:
    return f"{len(value)} bytes, {'*' * min(len(value), 8)}"


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="secretsync-demo-"))
    crds = load_crd_documents(sorted((REPO / "crds").glob("*.yaml")))
    emulator = step(
        "start the Kubernetes API emulator and install the CRDs", lambda: KubeEmulator(work, crds).start()
    )
    operator: OperatorProcess | None = None
    try:
        for ns in ("secretsync-system", "demo"):
            emulator.ensure_namespace(ns)
        operator = OperatorProcess(str(emulator.kubeconfig_path), work, extra_args=["--log-level", "info"])
        step("start `secretsync operator`", lambda: operator.start().wait_ready(timeout=60))  # type: ignore[union-attr]
        cert = work / "cert.pem"
        step(
            "fetch the sealing certificate from the operator (secretsync fetch-cert)",
            lambda: cli("fetch-cert", "--controller-url", operator.url, "-w", str(cert)),  # type: ignore[union-attr]
        )
        print(cli("keys", "info", str(cert)), end="")
        sealed_text = step(
            "seal examples/db-secret.yaml (secretsync seal)",
            lambda: cli("seal", "--cert", str(cert), "-f", str(REPO / "examples" / "db-secret.yaml")),
        )
        sealed = yaml.safe_load(sealed_text)
        print(
            "    sealed values:",
            ", ".join(f"{k}: {v[:16]}..." for k, v in sealed["spec"]["encryptedData"].items()),
        )
        step("apply the SealedSecret", lambda: emulator.create(sealed))

        def ready() -> Any:
            obj = emulator.get("secretsync.io/v1alpha1", "SealedSecret", "db-credentials", "demo")
            conds = [
                c for c in ((obj or {}).get("status") or {}).get("conditions") or [] if c["type"] == "Ready"
            ]
            return obj if conds and conds[0]["status"] == "True" else None

        obj = step("wait for Ready", lambda: wait("SealedSecret demo/db-credentials Ready", ready))
        secret = emulator.get("v1", "Secret", "db-credentials", "demo")
        assert secret is not None
        print("\nSealedSecret demo/db-credentials:")
        for cond in obj["status"]["conditions"]:
            print(f"    {cond['type']}={cond['status']} reason={cond['reason']}: {cond['message']}")
        owner = secret["metadata"]["ownerReferences"][0]["kind"]
        print(f"Secret demo/db-credentials (type {secret['type']}, owner {owner}):")
        for key, value in sorted(secret["data"].items()):
            print(f"    {key}: {mask(base64.b64decode(value))}")
        print("\ndemo OK")
    finally:
        if operator is not None:
            operator.stop()
        emulator.stop()


if __name__ == "__main__":
    main()
