"""`make demo`: the main job end to end on a laptop, with no cluster.

Starts a Kubernetes API emulator (the same one the tests use), an OpenBao
(Vault API) dev server and the real `secretsync operator`; fetches the sealing
certificate from the operator with the CLI, seals examples/db-secret.yaml with
it, writes values into Vault, applies the SealedSecret and the Vault
SecretStore + ExternalSecret from examples/external/, waits until all are
Ready and prints the resulting Secrets (values masked) and the statuses, then
shuts everything down. Any failing step stops the demo with the step's name
and a non-zero exit code.
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
from tests.support.openbao import OpenBaoServer  # noqa: E402
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


def ready_condition(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return dict(cond)
    return None


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="secretsync-demo-"))
    crds = load_crd_documents(sorted((REPO / "crds").glob("*.yaml")))
    emulator = step(
        "start the Kubernetes API emulator and install the CRDs", lambda: KubeEmulator(work, crds).start()
    )
    bao = OpenBaoServer(work / "openbao")
    operator: OperatorProcess | None = None
    try:
        for ns in ("secretsync-system", "demo"):
            emulator.ensure_namespace(ns)
        step("start an OpenBao (Vault API) dev server", bao.start)

        def seed_vault() -> None:
            kv = bao.client().secrets.kv.v2
            kv.create_or_update_secret("demo/db", {"username": "app", "password": "vault-password-change-me"})
            kv.create_or_update_secret(
                "demo/app-config", {"host": "db.demo.svc", "port": "5432", "database": "app"}
            )

        step("write demo/db and demo/app-config into Vault", seed_vault)
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

        def apply_external() -> None:
            for doc in yaml.safe_load_all((REPO / "examples/external/vault-secretstore.yaml").read_text()):
                if doc["kind"] == "Secret":  # the dev server's token instead of the example's
                    doc["stringData"] = {"token": bao.root_token}
                else:  # ...and its address
                    doc["spec"]["provider"]["vault"]["server"] = bao.addr
                emulator.create(doc)
            for doc in yaml.safe_load_all((REPO / "examples/external/vault-externalsecret.yaml").read_text()):
                emulator.create(doc)

        step("apply examples/external/vault-secretstore.yaml and vault-externalsecret.yaml", apply_external)
        objects = [
            ("SealedSecret", "db-sealed", "demo"),
            ("SecretStore", "vault", "demo"),
            ("ExternalSecret", "db-credentials", "demo"),
        ]

        def all_ready() -> bool:
            return all(
                (ready_condition(emulator.get("secretsync.io/v1alpha1", kind, name, ns)) or {}).get("status")
                == "True"
                for kind, name, ns in objects
            )

        step("wait until every object is Ready", lambda: wait("all objects Ready", all_ready))
        print()
        for kind, name, ns in objects:
            cond = ready_condition(emulator.get("secretsync.io/v1alpha1", kind, name, ns)) or {}
            state = f"Ready={cond.get('status')} reason={cond.get('reason')}"
            print(f"{kind} {ns}/{name}: {state}: {cond.get('message')}")
        for name in ("db-sealed", "db-credentials"):
            secret = emulator.get("v1", "Secret", name, "demo")
            assert secret is not None
            owner = secret["metadata"]["ownerReferences"][0]["kind"]
            print(f"Secret demo/{name} (type {secret['type']}, owner {owner}):")
            for key, value in sorted(secret["data"].items()):
                print(f"    {key}: {mask(base64.b64decode(value))}")
        print("\ndemo OK")
    finally:
        if operator is not None:
            operator.stop()
        bao.close()
        emulator.stop()


if __name__ == "__main__":
    main()
