"""Sealing speed: cold start of ``secretsync seal`` and bulk throughput, as ratios measured in one run.

Usage: .venv/bin/python bench/seal.py [--runs 31] [--values 10000] [--rounds 3]

1. Cold start. Whole-process wall time of sealing one Secret with 5 keys
   (console script and ``python -m secretsync``), median of --runs runs
   interleaved with the baseline ``python -c "import
   cryptography.hazmat.primitives.asymmetric.rsa, yaml"``. Budget: <= 2x.
2. Throughput. In one process, sealing --values values through
   ``sealing.seal_secret`` (Secrets of 500 keys, one shared Sealer) versus raw
   RSA-OAEP encryptions of 32-byte keys with the same public key, in
   alternating blocks. Budget: >= 90 % of the raw rate.

Ratios, not absolute times, are what to compare across machines: these
shared 2-core machines drift by 10 % or more between runs. Prints a Markdown
table for docs/benchmarks.md. Not a test: it never fails a build.
"""

from __future__ import annotations

import argparse
import base64
import compileall
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cryptography
import yaml
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from secretsync import crypto, sealing  # noqa: E402

BASELINE = "import cryptography.hazmat.primitives.asymmetric.rsa, yaml"


def prepare(workdir: Path) -> tuple[Path, Path]:
    """An RSA-4096 certificate and a Secret with 5 keys."""
    key = crypto.generate_private_key()
    cert = workdir / "tls.crt"
    cert.write_bytes(crypto.self_signed_certificate(key))
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "bench", "namespace": "team-a", "labels": {"app": "bench"}},
        "type": "Opaque",
        "data": {f"key{i}": base64.b64encode(os.urandom(24)).decode() for i in range(4)},
        "stringData": {"password": "hunter2"},
    }
    path = workdir / "secret.yaml"
    path.write_text(yaml.safe_dump(secret, sort_keys=False))
    return cert, path


def cold_start(cert: Path, secret: Path, runs: int, workdir: Path) -> dict[str, float]:
    """Median wall seconds per command, runs interleaved so drift hits every command alike."""
    python = sys.executable
    script = Path(python).with_name("secretsync")
    seal_args = ["seal", "--cert", str(cert), "-f", str(secret)]
    commands = {
        "baseline: python -c 'import ...rsa, yaml'": [python, "-c", BASELINE],
        "secretsync seal (console script)": [str(script), *seal_args],
        "python -m secretsync seal": [python, "-m", "secretsync", *seal_args],
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECRETSYNC_")}
    env["KUBECONFIG"] = str(workdir / "none")
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(runs + 3):
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, env=env, check=True)
            if round_ >= 3:  # the first rounds warm the page cache
                samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def throughput(cert_path: Path, values: int, rounds: int, block: int = 500) -> tuple[float, float]:
    """(raw RSA-OAEP encryptions/s, sealed values/s), medians over rounds.

    Each round seals ``values`` values through ``sealing.seal_secret`` as
    Secrets of ``block`` keys, alternating with ``block`` raw encryptions, so
    the machine's drift (10 % and more here) hits both measures alike. One
    Sealer (one parsed public key) serves the whole run, as in the CLI.
    """
    cert = crypto.load_certificate(cert_path.read_bytes())
    sealer = cert.sealer()
    public_key = cert.public_key
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=b"team-a/bulk")
    secrets = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "bulk", "namespace": "team-a"},
            "data": {f"k{i}": base64.b64encode(os.urandom(32)).decode() for i in range(block)},
        }
        for _ in range(values // block)
    ]

    def raw_block() -> float:
        start = time.perf_counter()
        for _ in range(block):
            public_key.encrypt(os.urandom(32), oaep)
        return time.perf_counter() - start

    def seal_block(secret: dict[str, Any]) -> float:
        start = time.perf_counter()
        sealed = sealing.seal_secret(secret, sealer)
        seconds = time.perf_counter() - start
        assert len(sealed["spec"]["encryptedData"]) == block
        return seconds

    raw_rates, seal_rates = [], []
    for _ in range(rounds):
        raw_seconds = seal_seconds = 0.0
        for index, secret in enumerate(secrets):  # alternate which goes first, too
            if index % 2:
                seal_seconds += seal_block(secret)
                raw_seconds += raw_block()
            else:
                raw_seconds += raw_block()
                seal_seconds += seal_block(secret)
        raw_rates.append(len(secrets) * block / raw_seconds)
        seal_rates.append(len(secrets) * block / seal_seconds)
    return statistics.median(raw_rates), statistics.median(seal_rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=31, help="cold-start runs per command (median)")
    parser.add_argument("--values", type=int, default=10_000, help="values sealed in the throughput test")
    parser.add_argument("--rounds", type=int, default=5, help="throughput rounds (median)")
    args = parser.parse_args()

    # Installed packages ship compiled bytecode; make sure ours has it too, even when
    # PYTHONDONTWRITEBYTECODE is set, or every run would pay for compiling secretsync.
    compileall.compile_dir(str(REPO / "secretsync"), quiet=1)

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        cert, secret = prepare(workdir)
        times = cold_start(cert, secret, args.runs, workdir)
        raw_rate, seal_rate = throughput(cert, args.values, args.rounds)

    baseline = times["baseline: python -c 'import ...rsa, yaml'"]
    print(
        f"Python {platform.python_version()}, cryptography {cryptography.__version__}, "
        f"{os.cpu_count()} CPUs; {args.runs} cold-start runs, {args.values} values x {args.rounds} rounds\n"
    )
    print("| cold start (seal one Secret, 5 keys, RSA-4096) | median | vs baseline |")
    print("|---|---|---|")
    for name, seconds in times.items():
        print(f"| {name} | {seconds * 1000:.1f} ms | {seconds / baseline:.2f}x |")
    worst = max(seconds / baseline for seconds in times.values())
    print(f"\nbudget <= 2.00x: {'met' if worst <= 2.0 else 'MISSED'} (worst {worst:.2f}x)\n")
    print(f"| throughput ({args.values} values, RSA-4096, blocks of 500) | per second | share of raw |")
    print("|---|---|---|")
    print(f"| raw RSA-OAEP encrypt (32-byte key) | {raw_rate:,.0f} | 100 % |")
    print(f"| sealing.seal_secret | {seal_rate:,.0f} | {seal_rate / raw_rate:.1%} |")
    print(f"\nbudget >= 90 %: {'met' if seal_rate / raw_rate >= 0.9 else 'MISSED'}")


if __name__ == "__main__":
    main()
