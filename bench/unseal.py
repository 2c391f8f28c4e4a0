"""Unsealing at scale: the real operator against the API emulator, with ratios measured in one run.

Usage: .venv/bin/python bench/unseal.py [--count 1000] [--values 3] [--keys 12] [--rss-count 10000]

1. --count SealedSecrets x --values values, sealed with one RSA-4096 key of a
   --keys key ring (the other keys are RSA-4096 too, so a wrong guess costs a
   full RSA operation), created in the emulator while the operator runs:
   time from the first create to all Ready, versus the raw RSA-4096 OAEP
   decrypt time of the same values (1 thread and 2 threads) in this process.
2. RSA decrypt attempts per value from the operator's own metric, with the
   fingerprint hint, and again after restarting the operator on objects
   whose hint annotation was removed.
3. Operator RSS (VmRSS) with --rss-count SealedSecrets (1 value each) Ready.

Prints a Markdown summary for docs/benchmarks.md. Not a test.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from secretsync import crypto, sealing  # noqa: E402
from tests.support.kube_emulator import KubeEmulator, load_crd_documents  # noqa: E402
from tests.support.operator_proc import OperatorProcess  # noqa: E402
from tests.support.sealed_env import OPERATOR_NS, key_secret, vector_key  # noqa: E402

NS = "bench"
SEALED_API = sealing.API_VERSION


def ready_count(emu: KubeEmulator) -> int:
    count = 0
    for obj in emu.list(SEALED_API, "SealedSecret", NS):
        for cond in (obj.get("status") or {}).get("conditions") or []:
            if cond.get("type") == "Ready" and cond.get("status") == "True":
                count += 1
    return count


def wait_all_ready(emu: KubeEmulator, n: int, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if ready_count(emu) >= n:
            return time.monotonic()
        time.sleep(0.25)
    raise SystemExit(f"only {ready_count(emu)} of {n} Ready after {timeout}s")


def metric(proc: OperatorProcess, name: str) -> float:
    match = re.search(rf"^{name} ([0-9.e+]+)$", proc.metrics(), re.M)
    return float(match.group(1)) if match else 0.0


def rss_kib(proc: OperatorProcess) -> int:
    assert proc.proc is not None
    text = Path(f"/proc/{proc.proc.pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", text)
    return int(match.group(1)) if match else 0


def make_sealed(cert_pem: bytes, n: int, values: int, prefix: str = "s") -> list[dict[str, Any]]:
    sealer = crypto.load_certificate(cert_pem).sealer()
    out = []
    for i in range(n):
        plain = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": f"{prefix}{i}", "namespace": NS},
            "stringData": {f"k{j}": f"value-{i}-{j}-" + "x" * 32 for j in range(values)},
        }
        out.append(sealing.seal_secret(plain, sealer))
    return out


def raw_decrypt(key: Any, objs: list[dict[str, Any]], threads: int) -> float:
    jobs = []
    for obj in objs:
        label = f"{NS}/{obj['metadata']['name']}".encode()
        jobs.extend((label, v) for v in obj["spec"]["encryptedData"].values())
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda job: crypto.decrypt(key, job[0], job[1]), jobs))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--values", type=int, default=3)
    parser.add_argument("--keys", type=int, default=12)
    parser.add_argument("--rss-count", type=int, default=10000)
    args = parser.parse_args()

    key_pem, cert_pem = vector_key(4096)
    private_key = crypto.load_private_keys(key_pem)[0]
    print(f"generating {args.keys - 1} extra RSA-4096 keys ...", file=sys.stderr)
    extra = [crypto.generate_private_key(4096) for _ in range(args.keys - 1)]
    objs = make_sealed(cert_pem, args.count, args.values)
    total_values = args.count * args.values

    raw1 = raw_decrypt(private_key, objs, 1)
    raw2 = raw_decrypt(private_key, objs, 2)

    work = Path(tempfile.mkdtemp(prefix="bench-unseal-"))
    crds = load_crd_documents(sorted((REPO / "crds").glob("*.yaml")))
    results: dict[str, Any] = {}
    with KubeEmulator(work, crds) as emu:
        emu.ensure_namespace(OPERATOR_NS)
        emu.ensure_namespace(NS)
        # The vectors' key is the oldest; the extra keys are newer, so without a hint the
        # operator's newest-first trial order would try every extra key before the right one.
        emu.create(key_secret("key-00-vectors", key_pem, cert_pem))
        for i, key in enumerate(extra, 1):
            emu.create(
                key_secret(f"key-{i:02d}", crypto.dump_private_key(key), crypto.self_signed_certificate(key))
            )
        proc = OperatorProcess(str(emu.kubeconfig_path), work, extra_args=["--log-level", "warning"]).start()
        proc.wait_ready(timeout=60)
        start = time.monotonic()
        for obj in objs:
            emu.create(obj)
        created = time.monotonic()
        done = wait_all_ready(emu, args.count, timeout=600)
        results["all_ready_s"] = done - start
        results["create_s"] = created - start
        results["attempts_hint"] = metric(proc, "secretsync_rsa_decrypt_attempts_total") / total_values
        results["rss_1000"] = rss_kib(proc)
        proc.stop()

        # Without hints: strip the annotation, restart (a restart re-checks every object).
        for obj in objs:
            emu.patch(
                SEALED_API,
                "SealedSecret",
                obj["metadata"]["name"],
                {"metadata": {"annotations": {sealing.FINGERPRINT_ANNOTATION: None}}},
                NS,
            )
        proc = OperatorProcess(str(emu.kubeconfig_path), work, extra_args=["--log-level", "warning"]).start()
        proc.wait_ready(timeout=60)
        start = time.monotonic()
        deadline = start + 600
        while (
            metric(proc, "secretsync_rsa_decrypt_attempts_total") < total_values
            and time.monotonic() < deadline
        ):
            time.sleep(0.5)
        last, stable_since = -1.0, time.monotonic()
        while time.monotonic() - stable_since < 3 and time.monotonic() < deadline:
            now = metric(proc, "secretsync_rsa_decrypt_attempts_total")
            if now != last:
                last, stable_since = now, time.monotonic()
            time.sleep(0.5)
        results["attempts_nohint"] = last / total_values
        results["restart_recheck_s"] = stable_since - start
        proc.stop()

    if args.rss_count:
        work2 = Path(tempfile.mkdtemp(prefix="bench-unseal-rss-"))
        with KubeEmulator(work2, crds) as emu:
            emu.ensure_namespace(OPERATOR_NS)
            emu.ensure_namespace(NS)
            emu.create(key_secret("key-00-vectors", key_pem, cert_pem))
            many = make_sealed(cert_pem, args.rss_count, 1, prefix="r")
            proc = OperatorProcess(
                str(emu.kubeconfig_path), work2, extra_args=["--log-level", "warning"]
            ).start()
            proc.wait_ready(timeout=60)
            idle = rss_kib(proc)
            start = time.monotonic()
            for obj in many:
                emu.create(obj)
            done = wait_all_ready(emu, args.rss_count, timeout=1200)
            results["rss_many_s"] = done - start
            results["rss_idle"] = idle
            results["rss_many"] = rss_kib(proc)
            proc.stop()

    print(f"\n### bench/unseal.py ({time.strftime('%Y-%m-%d')}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs)\n")  # fmt: skip
    print("| measure | value |\n|---|---|")
    print(f"| SealedSecrets x values | {args.count} x {args.values} = {total_values} |")
    print(f"| keys in the ring (all RSA-4096) | {args.keys} |")
    print(f"| create all objects in the emulator | {results['create_s']:.1f} s |")
    print(f"| first create -> all Ready (operator) | {results['all_ready_s']:.1f} s "
          f"({total_values / results['all_ready_s']:.0f} values/s) |")  # fmt: skip
    print(
        f"| raw RSA-4096 decrypt of the same values, 1 thread | {raw1:.1f} s ({total_values / raw1:.0f}/s) |"
    )
    print(
        f"| raw RSA-4096 decrypt of the same values, 2 threads | {raw2:.1f} s ({total_values / raw2:.0f}/s) |"
    )
    print(f"| operator time / raw 2-thread time | {results['all_ready_s'] / raw2:.2f}x |")
    print(f"| RSA decrypt attempts per value, with fingerprint hints | {results['attempts_hint']:.2f} |")
    print(f"| RSA decrypt attempts per value, hints removed (restart) | {results['attempts_nohint']:.2f} |")
    print(
        f"| restart re-check of {args.count} objects without hints | {results['restart_recheck_s']:.1f} s |"
    )
    print(f"| operator RSS with {args.count} objects | {results['rss_1000'] / 1024:.0f} MiB |")
    if args.rss_count:
        print(f"| operator RSS idle / with {args.rss_count} objects (1 value each) | "
              f"{results['rss_idle'] / 1024:.0f} / {results['rss_many'] / 1024:.0f} MiB |")  # fmt: skip
        print(f"| {args.rss_count} objects -> all Ready | {results['rss_many_s']:.1f} s |")


if __name__ == "__main__":
    main()
