"""ExternalSecrets at scale: the real operator, a real OpenBao server and the API emulator.

Usage: .venv/bin/python bench/external_sync.py [--provider vault|aws|gcp] [--count 1000] [--keys 3]
       [--stores 2] [--cycles 2]

--provider: vault (real OpenBao, AppRole), aws (moto server, Secrets Manager) or gcp (the gRPC
fake over TLS, reached by the official client); backend calls are counted by the backend too.

--count ExternalSecrets, each with --keys data[] entries (distinct Vault paths per object,
properties on the same path for the keys), spread over --stores SecretStores (AppRole auth,
a least-privilege policy). Reports: creation -> all Ready, Vault reads and logins for the
first sync and per refresh cycle (refreshInterval shortened for the cycles), operator CPU
seconds per refresh cycle, and RSS. Vault reads come from the operator's own metric
(secretsync_provider_calls_total); logins from secretsync_provider_events_total{event=login}.
Not a test: prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.external_env import API, external_secret, metric_value, vault_store  # noqa: E402
from tests.support.kube_emulator import KubeEmulator, load_crd_documents  # noqa: E402
from tests.support.openbao import OpenBaoServer  # noqa: E402
from tests.support.operator_proc import OperatorProcess  # noqa: E402

NS = "bench"


def cpu_seconds(proc: OperatorProcess) -> float:
    assert proc.proc is not None
    fields = Path(f"/proc/{proc.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(proc: OperatorProcess) -> float:
    assert proc.proc is not None
    for line in Path(f"/proc/{proc.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def synced_count(emu: KubeEmulator, since: str | None = None) -> int:
    count = 0
    for obj in emu.list(API, "ExternalSecret", NS):
        st = obj.get("status") or {}
        for cond in st.get("conditions") or []:
            fresh = since is None or (st.get("refreshTime") or "") > since
            if cond.get("type") == "Ready" and cond.get("status") == "True" and fresh:
                count += 1
    return count


def wait(what: str, check: Any, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic()
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting for {what}")


class Backend:
    """One secret backend for the bench: start it, seed it, name a store spec, count its calls."""

    name = "vault"

    def __init__(self, work: Path, count: int, keys: int) -> None:
        self.work, self.count, self.keys = work, count, keys

    def value(self, i: int) -> dict[str, str]:
        return {f"k{j}": f"value-{i}-{j}" for j in range(self.keys)}

    def key(self, i: int) -> str:
        return f"bench/s{i}"

    def env(self) -> dict[str, str]:
        return {}

    def reads(self) -> int:
        return -1

    def credential_calls(self) -> int:
        return -1


class VaultBackend(Backend):
    def start(self, emu: KubeEmulator) -> dict[str, Any]:
        self.bao = OpenBaoServer(self.work / "bao")
        self.bao.start()
        role = self.bao.create_approle(
            "bench", policy_hcl='path "secret/data/bench/*" { capabilities = ["read"] }'
        )
        kv = self.bao.client().secrets.kv.v2
        for i in range(self.count):
            kv.create_or_update_secret(self.key(i), self.value(i))
        emu.create(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "approle", "namespace": NS},
                "data": {"secret-id": base64.b64encode(role.secret_id.encode()).decode()},
            }
        )
        auth = {
            "appRole": {
                "path": role.mount_point,
                "roleId": role.role_id,
                "secretRef": {"name": "approle", "key": "secret-id"},
            }
        }
        return dict(vault_store("x", NS, self.bao.addr, auth)["spec"]["provider"])

    def stop(self) -> None:
        self.bao.close()


class AwsBackend(Backend):
    name = "aws"

    def start(self, emu: KubeEmulator) -> dict[str, Any]:
        from tests.support.moto_server import MotoServer

        self.moto = MotoServer()
        self.moto.start()
        sm = self.moto.boto3_client("secretsmanager")
        for i in range(self.count):
            sm.create_secret(Name=self.key(i), SecretString=json.dumps(self.value(i)))
        # A SecretStore carries its own key (docs/security.md); with a role: one STS AssumeRole per
        # store, assumed with that key and cached; the bench counts them per cycle.
        emu.create(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "aws-bench", "namespace": NS},
                "stringData": {"id": "AKIDBENCH", "key": "bench-secret"},
            }
        )
        auth = {
            "secretRef": {
                "accessKeyIDSecretRef": {"name": "aws-bench", "key": "id"},
                "secretAccessKeySecretRef": {"name": "aws-bench", "key": "key"},
            }
        }
        role = "arn:aws:iam::123456789012:role/secretsync-bench"
        return {"aws": {"service": "SecretsManager", "region": self.moto.region, "role": role, "auth": auth}}

    def env(self) -> dict[str, str]:
        return dict(self.moto.env())

    def reads(self) -> int:
        return int(self.moto.calls["GetSecretValue"])

    def credential_calls(self) -> int:
        return int(self.moto.calls["AssumeRole"] + self.moto.calls["GetCallerIdentity"])

    def stop(self) -> None:
        self.moto.stop()


class GcpBackend(Backend):
    name = "gcp"

    def key(self, i: int) -> str:
        return f"bench-s{i}"

    def start(self, emu: KubeEmulator) -> dict[str, Any]:
        from tests.support.gcp_fake import SecretManagerFake
        from tests.support.tls import write_server_bundle

        self.fake = SecretManagerFake(write_server_bundle(self.work / "tls"))
        self.fake.start()
        for i in range(self.count):
            self.fake.put_secret(f"projects/bench/secrets/{self.key(i)}", json.dumps(self.value(i)))
        return {"gcpsm": {"projectID": "bench", "endpoint": self.fake.endpoint}}

    def env(self) -> dict[str, str]:
        return dict(self.fake.env())

    def reads(self) -> int:
        return int(self.fake.calls["AccessSecretVersion"])

    def credential_calls(self) -> int:
        return 0  # anonymous credentials against the fake: no token fetches to count

    def stop(self) -> None:
        self.fake.stop()


def counted(now: int, before: int) -> str:
    """A backend-side count difference, or n/a when the backend cannot count."""
    return "n/a" if now < 0 else str(now - before)


BACKENDS: dict[str, type[Backend]] = {"vault": VaultBackend, "aws": AwsBackend, "gcp": GcpBackend}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--provider", choices=sorted(BACKENDS), default="vault")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--keys", type=int, default=3)
    parser.add_argument("--stores", type=int, default=2)
    parser.add_argument("--cycles", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-external-"))
    backend = BACKENDS[args.provider](work, args.count, args.keys)
    crds = load_crd_documents(sorted((REPO / "crds").glob("*.yaml")))
    with KubeEmulator(work, crds) as emu:
        emu.ensure_namespace("secretsync-system")
        emu.ensure_namespace(NS)
        print(f"seeding {args.count} {args.provider} secrets ...", file=sys.stderr)
        provider = backend.start(emu)
        try:
            for s in range(args.stores):
                emu.create(
                    {
                        "apiVersion": API,
                        "kind": "SecretStore",
                        "metadata": {"name": f"store-{s}", "namespace": NS},
                        "spec": {"provider": provider},
                    }
                )
            proc = OperatorProcess(
                str(emu.kubeconfig_path),
                work,
                extra_args=["--log-level", "warning", "--key-renew-period", "0"],
                env=backend.env(),
            ).start()
            proc.wait_ready(timeout=60)
            cpu0, reads0 = cpu_seconds(proc), backend.reads()
            start = time.monotonic()
            for i in range(args.count):
                data = [
                    {"secretKey": f"k{j}", "remoteRef": {"key": backend.key(i), "property": f"k{j}"}}
                    for j in range(args.keys)
                ]
                emu.create(
                    external_secret(f"es{i}", NS, f"store-{i % args.stores}", refreshInterval="1h", data=data)
                )
            created = time.monotonic()
            done = wait("all Ready", lambda: synced_count(emu) >= args.count, 900)
            first = {
                "ready_s": done - start,
                "create_s": created - start,
                "reads": metric_value(proc, "secretsync_provider_calls_total", operation="get", result="ok"),
                "backend_reads": counted(backend.reads(), reads0),
                "logins": metric_value(proc, "secretsync_provider_events_total", event="login"),
                "cpu": cpu_seconds(proc) - cpu0,
                "rss": rss_mib(proc),
            }
            cycles = []
            for _ in range(args.cycles):
                marker = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                time.sleep(1.1)
                reads_before = metric_value(
                    proc, "secretsync_provider_calls_total", operation="get", result="ok"
                )
                logins_before = metric_value(proc, "secretsync_provider_events_total", event="login")
                backend_before, creds_before = backend.reads(), backend.credential_calls()
                cpu_start, t0 = cpu_seconds(proc), time.monotonic()
                for i in range(args.count):
                    patch = {"metadata": {"annotations": {"force-sync": marker}}}
                    emu.patch(API, "ExternalSecret", f"es{i}", patch, NS)
                t1 = wait("a refresh cycle", lambda m=marker: synced_count(emu, since=m) >= args.count, 900)  # type: ignore[misc]
                cycles.append(
                    {
                        "s": t1 - t0,
                        "reads": metric_value(
                            proc, "secretsync_provider_calls_total", operation="get", result="ok"
                        )
                        - reads_before,
                        "backend_reads": backend.reads() - backend_before,
                        "credential_calls": backend.credential_calls() - creds_before,
                        "logins": metric_value(proc, "secretsync_provider_events_total", event="login")
                        - logins_before,
                        "cpu": cpu_seconds(proc) - cpu_start,
                    }
                )
            rss_end = rss_mib(proc)
            proc.stop()
        finally:
            backend.stop()

    total_keys = args.count * args.keys
    print(
        f"\n### bench/external_sync.py --provider {args.provider} ({time.strftime('%Y-%m-%d')}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs)\n"
    )
    print("| measure | value |\n|---|---|")
    shape = f"{args.count} x {args.keys} = {total_keys}, {args.stores} SecretStores"
    print(f"| ExternalSecrets x keys, stores | {shape} |")
    print(f"| create all objects in the emulator | {first['create_s']:.1f} s |")
    rate = args.count / first["ready_s"]
    print(f"| first create -> all Ready | {first['ready_s']:.1f} s ({rate:.0f} objects/s) |")
    print(
        f"| reads for the first sync (distinct remote secrets: {args.count}) | {first['reads']:.0f} "
        f"(backend counted: {first['backend_reads']}) |"
    )
    print(
        f"| logins / credential fetches for the first sync (stores: {args.stores}) | {first['logins']:.0f} |"
    )
    print(f"| operator CPU for the first sync | {first['cpu']:.1f} s |")
    for n, c in enumerate(cycles, 1):
        print(
            f"| refresh cycle {n}: all {args.count} re-synced | {c['s']:.1f} s, {c['reads']:.0f} reads "
            f"(backend counted: {c['backend_reads']}), {c['logins']:.0f} logins, "
            f"{c['credential_calls']} STS calls, {c['cpu']:.1f} CPU s |"
        )
    print(f"| operator RSS after the first sync / at the end | {first['rss']:.0f} / {rss_end:.0f} MiB |")


if __name__ == "__main__":
    main()
