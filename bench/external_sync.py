"""ExternalSecrets at scale: the real operator, a real OpenBao server and the API emulator.

Usage: .venv/bin/python bench/external_sync.py [--count 1000] [--keys 3] [--stores 2] [--cycles 2]

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--keys", type=int, default=3)
    parser.add_argument("--stores", type=int, default=2)
    parser.add_argument("--cycles", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-external-"))
    bao = OpenBaoServer(work / "bao")
    bao.start()
    try:
        policy = 'path "secret/data/bench/*" { capabilities = ["read"] }'
        role = bao.create_approle("bench", policy_hcl=policy)
        kv = bao.client().secrets.kv.v2
        print(f"writing {args.count} Vault secrets ...", file=sys.stderr)
        for i in range(args.count):
            kv.create_or_update_secret(f"bench/s{i}", {f"k{j}": f"value-{i}-{j}" for j in range(args.keys)})
        crds = load_crd_documents(sorted((REPO / "crds").glob("*.yaml")))
        with KubeEmulator(work, crds) as emu:
            emu.ensure_namespace("secretsync-system")
            emu.ensure_namespace(NS)
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
            for s in range(args.stores):
                emu.create(vault_store(f"vault-{s}", NS, bao.addr, auth))
            proc = OperatorProcess(
                str(emu.kubeconfig_path),
                work,
                extra_args=["--log-level", "warning", "--key-renew-period", "0"],
            ).start()
            proc.wait_ready(timeout=60)
            cpu0 = cpu_seconds(proc)
            start = time.monotonic()
            for i in range(args.count):
                data = [
                    {"secretKey": f"k{j}", "remoteRef": {"key": f"bench/s{i}", "property": f"k{j}"}}
                    for j in range(args.keys)
                ]
                emu.create(
                    external_secret(f"es{i}", NS, f"vault-{i % args.stores}", refreshInterval="1h", data=data)
                )
            created = time.monotonic()
            done = wait("all Ready", lambda: synced_count(emu) >= args.count, 900)
            first = {
                "ready_s": done - start,
                "create_s": created - start,
                "reads": metric_value(proc, "secretsync_provider_calls_total", operation="get", result="ok"),
                "logins": metric_value(proc, "secretsync_provider_events_total", event="login"),
                "cpu": cpu_seconds(proc) - cpu0,
                "rss": rss_mib(proc),
            }
            # Refresh cycles: shorten every refreshInterval, then count a cycle's reads, logins and CPU.
            cycles = []
            for _ in range(args.cycles):
                marker = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                time.sleep(1.1)
                reads0 = metric_value(proc, "secretsync_provider_calls_total", operation="get", result="ok")
                logins0 = metric_value(proc, "secretsync_provider_events_total", event="login")
                cpu_start, t0 = cpu_seconds(proc), time.monotonic()
                for i in range(args.count):
                    emu.patch(
                        API,
                        "ExternalSecret",
                        f"es{i}",
                        {"metadata": {"annotations": {"force-sync": marker}}},
                        NS,
                    )
                t1 = wait("a refresh cycle", lambda m=marker: synced_count(emu, since=m) >= args.count, 900)  # type: ignore[misc]
                cycles.append(
                    {
                        "s": t1 - t0,
                        "reads": metric_value(
                            proc, "secretsync_provider_calls_total", operation="get", result="ok"
                        )
                        - reads0,
                        "logins": metric_value(proc, "secretsync_provider_events_total", event="login")
                        - logins0,
                        "cpu": cpu_seconds(proc) - cpu_start,
                    }
                )
            rss_end = rss_mib(proc)
            proc.stop()
    finally:
        bao.close()

    total_keys = args.count * args.keys
    print(
        f"\n### bench/external_sync.py ({time.strftime('%Y-%m-%d')}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs)\n"
    )
    print("| measure | value |\n|---|---|")
    shape = f"{args.count} x {args.keys} = {total_keys}, {args.stores} SecretStores"
    print(f"| ExternalSecrets x keys, stores | {shape} |")
    print(f"| create all objects in the emulator | {first['create_s']:.1f} s |")
    rate = args.count / first["ready_s"]
    print(f"| first create -> all Ready | {first['ready_s']:.1f} s ({rate:.0f} objects/s) |")
    print(f"| Vault reads for the first sync (distinct paths: {args.count}) | {first['reads']:.0f} |")
    print(f"| Vault logins for the first sync (stores: {args.stores}) | {first['logins']:.0f} |")
    print(f"| operator CPU for the first sync | {first['cpu']:.1f} s |")
    for n, c in enumerate(cycles, 1):
        print(
            f"| refresh cycle {n}: all {args.count} re-synced | {c['s']:.1f} s, "
            f"{c['reads']:.0f} Vault reads, {c['logins']:.0f} logins, {c['cpu']:.1f} CPU s |"
        )
    print(f"| operator RSS after the first sync / at the end | {first['rss']:.0f} / {rss_end:.0f} MiB |")


if __name__ == "__main__":
    main()
