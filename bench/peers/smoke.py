"""Smoke check of the peers against the real test control plane, by hand; prints each step's time.

Usage: .venv/bin/python bench/peers/smoke.py [--keep DIR] [--only sealed-secrets|external-secrets]

* Bitnami: install CRD + RBAC, start the controller (it generates its 4096-bit key), fetch its
  certificate, seal one Secret with the built kubeseal, apply the SealedSecret, wait for the Secret.
* ESO: a real OpenBao dev server with one KV v2 secret, install ESO's CRDs + RBAC, start the
  controller, a SecretStore (Vault provider, token auth) and one ExternalSecret, wait for the Secret.

Each peer is then stopped: peak RSS, CPU seconds, and its requests in the audit log (by user and
user agent). Exit 1 if a Secret does not appear with the expected value.
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.peers import peers
from tests.support.openbao import running_server
from tests.support.real_cluster import ControlPlane

APP_NS = "smoke"


@contextlib.contextmanager
def step(name: str, timings: list[tuple[str, float]]) -> Iterator[None]:
    started = time.monotonic()
    yield
    took = time.monotonic() - started
    timings.append((name, took))
    print(f"  {took:7.2f} s  {name}", flush=True)


def wait_secret(cp: ControlPlane, namespace: str, name: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        secret = cp.get(f"/api/v1/namespaces/{namespace}/secrets/{name}")
        if secret is not None:
            return secret
        time.sleep(0.05)
    raise RuntimeError(f"Secret {namespace}/{name} did not appear in {timeout:.0f} s")


def wait_condition(cp: ControlPlane, path: str, kind: str, timeout: float = 60) -> None:
    """Until the object at ``path`` has condition ``kind`` True."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conditions = ((cp.get(path) or {}).get("status") or {}).get("conditions") or []
        if any(c.get("type") == kind and c.get("status") == "True" for c in conditions):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{path}: no {kind}=True in {timeout:.0f} s")


def decoded(secret: dict[str, Any], key: str) -> str:
    return base64.b64decode(secret.get("data", {}).get(key, "")).decode()


def report(cp: ControlPlane, peer: peers.PeerProcess, usage: peers.Usage) -> None:
    events = cp.audit(peer.username)
    agents = collections.Counter(str(e.get("userAgent", "?")).split(" ")[0] for e in events)
    verbs = collections.Counter(
        f"{e['verb']} {(e.get('objectRef') or {}).get('resource', e.get('requestURI'))}" for e in events
    )
    forbidden = [e for e in events if (e.get("responseStatus") or {}).get("code") == 403]
    print(
        f"  {peer.name}: peak RSS {usage.peak_rss_mib:.1f} MiB (anon {usage.anon_mib:.1f} at stop), "
        f"CPU {usage.cpu_seconds:.2f} s "
        f"(user {usage.user_seconds:.2f}, sys {usage.system_seconds:.2f}) over {usage.wall_seconds:.1f} s, "
        f"exit {usage.exit_code}"
    )
    print(f"  audit: {len(events)} requests by {peer.username}, user agents {dict(agents)}")
    print(f"         {dict(verbs.most_common(12))}")
    if forbidden:
        print(f"  audit: {len(forbidden)} forbidden: {[e['requestURI'] for e in forbidden][:5]}")


def smoke_sealed_secrets(cp: ControlPlane, work: Path) -> bool:
    timings: list[tuple[str, float]] = []
    ss = peers.SealedSecrets()
    print(f"Bitnami sealed-secrets {ss.version}")
    with step("install CRD + ServiceAccount + RBAC", timings):
        ss.install(cp)
    with step("start controller, until /healthz (key generated)", timings):
        proc = ss.start(cp, work / "sealed-secrets")
        ss.wait_ready(proc)
    keys = cp.get(f"/api/v1/namespaces/{ss.namespace}/secrets?labelSelector={ss.key_label}%3Dactive")
    print(
        f"  key Secrets in {ss.namespace}: {[k['metadata']['name'] for k in (keys or {}).get('items', [])]}"
    )
    cert = work / "sealed-secrets-cert.pem"
    with step("fetch /v1/cert.pem", timings):
        cert.write_bytes(ss.cert(proc))
    cp.create_namespace(APP_NS)
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "sealed-db", "namespace": APP_NS},
        "type": "Opaque",
        "stringData": {"password": "s3cret-from-kubeseal"},
    }
    with step("kubeseal --cert (one Secret)", timings):
        sealed = ss.kubeseal(cp, secret, cert)
    with step("kubectl apply SealedSecret", timings):
        cp.apply(sealed)
    with step("-> Secret created by the controller", timings):
        created = wait_secret(cp, APP_NS, "sealed-db")
    with step("-> SealedSecret status Synced=True", timings):
        wait_condition(
            cp, f"/apis/bitnami.com/v1alpha1/namespaces/{APP_NS}/sealedsecrets/sealed-db", "Synced"
        )
    ok = decoded(created, "password") == "s3cret-from-kubeseal"
    owner = [o["kind"] for o in created["metadata"].get("ownerReferences", [])]
    print(f"  Secret {APP_NS}/sealed-db: value {'ok' if ok else 'WRONG'}, owners {owner}")
    with step("stop controller", timings):
        usage = proc.stop()
    report(cp, proc, usage)
    return ok


def smoke_external_secrets(cp: ControlPlane, work: Path) -> bool:
    timings: list[tuple[str, float]] = []
    eso = peers.ExternalSecrets()
    print(f"External Secrets Operator {eso.version}")
    with step("start OpenBao dev server + write secret/app/db", timings):
        bao_ctx = running_server(work / "openbao")
        bao = bao_ctx.__enter__()
        bao.client().secrets.kv.v2.create_or_update_secret(
            path="app/db", secret={"password": "s3cret-from-openbao"}, mount_point="secret"
        )
    try:
        with step("install 20 CRDs (server-side apply) + ServiceAccount + RBAC", timings):
            eso.install(cp)
        with step("start controller, until ExternalSecret workers start", timings):
            proc = eso.start(cp, work / "external-secrets")
            eso.wait_ready(proc)
        cp.create_namespace(APP_NS)
        objects: list[dict[str, Any]] = [
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "bao-token", "namespace": APP_NS},
                "stringData": {"token": bao.root_token},
            },
            {
                "apiVersion": "external-secrets.io/v1",
                "kind": "SecretStore",
                "metadata": {"name": "bao", "namespace": APP_NS},
                "spec": {
                    "provider": {
                        "vault": {
                            "server": bao.addr,
                            "path": "secret",
                            "version": "v2",
                            "auth": {"tokenSecretRef": {"name": "bao-token", "key": "token"}},
                        }
                    }
                },
            },
            {
                "apiVersion": "external-secrets.io/v1",
                "kind": "ExternalSecret",
                "metadata": {"name": "db", "namespace": APP_NS},
                "spec": {
                    "refreshInterval": "1h",
                    "secretStoreRef": {"name": "bao", "kind": "SecretStore"},
                    "target": {"name": "eso-db"},
                    "data": [
                        {"secretKey": "password", "remoteRef": {"key": "app/db", "property": "password"}}
                    ],
                },
            },
        ]
        with step("kubectl apply token Secret + SecretStore + ExternalSecret", timings):
            cp.apply(objects)
        with step("-> Secret created by ESO", timings):
            created = wait_secret(cp, APP_NS, "eso-db")
        with step("-> ExternalSecret status Ready=True", timings):
            wait_condition(
                cp, f"/apis/external-secrets.io/v1/namespaces/{APP_NS}/externalsecrets/db", "Ready"
            )
        ok = decoded(created, "password") == "s3cret-from-openbao"
        store = cp.get(f"/apis/external-secrets.io/v1/namespaces/{APP_NS}/secretstores/bao") or {}
        conditions = [(c["type"], c["status"]) for c in store.get("status", {}).get("conditions", [])]
        print(
            f"  Secret {APP_NS}/eso-db: value {'ok' if ok else 'WRONG'}; SecretStore conditions {conditions}"
        )
        with step("stop controller", timings):
            usage = proc.stop()
        report(cp, proc, usage)
        return ok
    finally:
        bao_ctx.__exit__(None, None, None)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep", type=Path, help="work directory to keep (logs, audit log)")
    parser.add_argument("--only", choices=["sealed-secrets", "external-secrets"])
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="peers-smoke-"))
    work.mkdir(parents=True, exist_ok=True)
    timings: list[tuple[str, float]] = []
    results: dict[str, bool] = {}
    with step("build.sh (cached: checks the pins)", timings):
        print(f"  binaries in {peers.bin_dir(*([args.only] if args.only else []))}")
    cp = ControlPlane(work / "cluster", audit_groups=peers.AUDIT_GROUPS)
    with step("control plane start", timings):
        cp.start()
    try:
        if args.only in (None, "sealed-secrets"):
            results["sealed-secrets"] = smoke_sealed_secrets(cp, work)
        if args.only in (None, "external-secrets"):
            results["external-secrets"] = smoke_external_secrets(cp, work)
    finally:
        cp.stop()
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"logs and audit log in {work}")
    print(f"{sum(results.values())} passed, {len(results) - sum(results.values())} failed")
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
