"""Big clusters: what N Secrets that are not the operator's (Helm releases) cost it.

Usage: .venv/bin/python bench/big_cluster.py [--small 5000] [--large 100] [--large-kib 900]

The API emulator holds --small Secrets of 200 bytes and --large ones of --large-kib KiB each,
spread over 4 namespaces, plus one SealedSecret and one ExternalSecret (fake store) with their
Secrets. The real operator starts among them; then as many again are created while it runs,
and its watches are made to expire (410 Gone: kopf lists again). Reports, for the start and for
the running phase: wall time, operator CPU seconds, peak RSS (VmHWM), and the Secret lists and
watches the operator asked for (all with a label selector). Not a test: prints a Markdown table
for docs/benchmarks.md (tests/test_big_cluster.py asserts the bounds).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.external_env import API, external_secret  # noqa: E402
from tests.support.kube_emulator import KubeEmulator, load_crd_documents, wait_for  # noqa: E402
from tests.support.operator_proc import OperatorProcess  # noqa: E402
from tests.support.sealed_env import OPERATOR_NS, key_secret, seal, secret, vector_key  # noqa: E402
from tests.test_big_cluster import HELM_NAMESPACES, NS, SECRET_COLLECTION, _helm_release  # noqa: E402


def cpu_seconds(proc: OperatorProcess) -> float:
    assert proc.proc is not None
    fields = Path(f"/proc/{proc.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_mib(proc: OperatorProcess) -> float:
    assert proc.proc is not None
    match = re.search(r"^VmHWM:\s+(\d+) kB", Path(f"/proc/{proc.proc.pid}/status").read_text(), re.MULTILINE)
    return int(match.group(1)) / 1024 if match else 0.0


def create(emu: KubeEmulator, start: int, small: int, large: int, large_bytes: int) -> None:
    for i in range(start, start + small):
        emu.create(_helm_release(i, 200))
    for i in range(start + small, start + small + large):
        emu.create(_helm_release(i, large_bytes))


def secret_reads(emu: KubeEmulator) -> list[dict[str, str]]:
    return [p for m, path, p in emu.requests() if m == "GET" and SECRET_COLLECTION.fullmatch(path)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=5000)
    parser.add_argument("--large", type=int, default=100)
    parser.add_argument("--large-kib", type=int, default=900)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-big-cluster-"))
    crds = load_crd_documents(sorted((REPO / "crds").glob("*.yaml")))
    large_bytes = args.large_kib * 1024
    total_mib = args.large * large_bytes * 4 / 3 / 2**20 + args.small * 0.5 / 1024
    with KubeEmulator(work, crds) as emu:
        for ns in (OPERATOR_NS, NS, *HELM_NAMESPACES):
            emu.ensure_namespace(ns)
        key_pem, cert_pem = vector_key(2048)
        emu.create(key_secret("sealing-key", key_pem, cert_pem))
        emu.create(seal(cert_pem, secret("sealed", NS, {"k": "v"})))
        fake = {"fake": {"data": [{"key": "a", "value": "1"}]}}
        emu.create({"apiVersion": API, "kind": "SecretStore", "metadata": {"name": "fake", "namespace": NS},
                    "spec": {"provider": fake}})  # fmt: skip
        emu.create(
            external_secret("external", NS, "fake", data=[{"secretKey": "a", "remoteRef": {"key": "a"}}])
        )
        print(f"creating {args.small} + {args.large} unrelated Secrets ...", file=sys.stderr)
        create(emu, 0, args.small, args.large, large_bytes)

        proc = OperatorProcess(
            str(emu.kubeconfig_path), work, extra_args=["--log-level", "warning", "--key-renew-period", "0"]
        ).start()
        started = time.monotonic()
        proc.wait_ready(timeout=120)
        wait_for(
            lambda: emu.get("v1", "Secret", "external", NS), timeout=60, message="the ExternalSecret's Secret"
        )
        ready_s = time.monotonic() - started
        time.sleep(1.0)
        start = {"wall": ready_s, "cpu": cpu_seconds(proc), "peak": peak_mib(proc)}

        print("as many again while it runs, then its watches expire ...", file=sys.stderr)
        emu.call(lambda: setattr(emu.layer, "max_events", 100))
        began, cpu0 = time.monotonic(), cpu_seconds(proc)
        create(emu, args.small + args.large, args.small, args.large, large_bytes)
        emu.end_watches()
        time.sleep(3.0)
        emu.delete("v1", "Secret", "sealed", NS)
        wait_for(lambda: emu.get("v1", "Secret", "sealed", NS), timeout=30, message="self-heal")
        running = {"wall": time.monotonic() - began, "cpu": cpu_seconds(proc) - cpu0, "peak": peak_mib(proc)}
        reads = secret_reads(emu)
        proc.stop()

    unselected = [p for p in reads if not p.get("labelSelector")]
    print(
        f"\nbig cluster: {args.small} x 200 B + {args.large} x {args.large_kib} KiB unrelated Secrets "
        f"(~{total_mib:.0f} MiB of JSON) at start, as many again while running; "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs\n"
    )
    lists = [p for p in reads if p.get("watch") != "true"]
    watches = [p for p in reads if p.get("watch") == "true"]
    rows = [
        (
            "wall time (start -> synced / creation -> healed)",
            f"{start['wall']:.1f} s",
            f"{running['wall']:.1f} s",
        ),
        ("operator CPU", f"{start['cpu']:.2f} s", f"{running['cpu']:.2f} s"),
        ("operator peak RSS (VmHWM)", f"{start['peak']:.0f} MiB", f"{running['peak']:.0f} MiB"),
        (
            "Secret lists / watches (whole run)",
            f"{len(lists)} / {len(watches)}",
            f"unselected: {len(unselected)}",
        ),
    ]
    print("| measure | start among them | running: as many again, watches expire |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
