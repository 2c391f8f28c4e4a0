"""Micro benchmark: the ExternalSecret controller's bookkeeping per reconcile and per deletion.

Usage: .venv/bin/python bench/external_index.py [--counts 1000,10000] [--calls 2000]

With N ExternalSecrets registered (each its own target Secret, over 4 stores), times
``ExternalController._register`` (run on every reconcile: an unchanged object, and one retargeted)
and ``_forget`` (run on every deletion), in process, without an API server. Prints microseconds per
call for each N; the cost should not grow with N.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from secretsync import model  # noqa: E402
from secretsync.external import ExternalController  # noqa: E402
from secretsync.metrics import Metrics  # noqa: E402
from secretsync.scheduler import Scheduler  # noqa: E402
from tests.support.external_env import external_secret  # noqa: E402

NS = "bench"


def _parsed(name: str, target: str) -> tuple[dict[str, Any], model.ExternalSecretSpec]:
    body = external_secret(
        name,
        NS,
        f"store{hash(name) % 4}",
        target={"name": target},
        data=[{"secretKey": "k", "remoteRef": {"key": "k"}}],
    )
    body["metadata"]["uid"] = f"uid-{name}"
    return body, model.parse_external_secret(body)


def measure(count: int, calls: int) -> tuple[float, float, float]:
    """Microseconds per call: _register (same target), _register (retargeted), _forget."""
    with ThreadPoolExecutor(1) as executor:
        es = ExternalController(object(), Metrics(), executor, scheduler=Scheduler())  # type: ignore[arg-type]
        objects = [_parsed(f"es{i}", f"secret{i}") for i in range(count)]
        for body, spec in objects:
            es._register(body, spec)
        step = max(1, count // calls)
        sample = objects[::step][:calls]
        moved = [
            _parsed(str(body["metadata"]["name"]), f"moved-{body['metadata']['name']}") for body, _ in sample
        ]

        started = time.perf_counter()
        for body, spec in sample:
            es._register(body, spec)
        same = (time.perf_counter() - started) / len(sample)

        started = time.perf_counter()
        for body, spec in moved:
            es._register(body, spec)
        retarget = (time.perf_counter() - started) / len(moved)

        started = time.perf_counter()
        for body, _ in moved:
            meta = body["metadata"]
            es._forget(meta["uid"], NS, meta["name"])
        forget = (time.perf_counter() - started) / len(moved)
    return same * 1e6, retarget * 1e6, forget * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1000,10000")
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    print("| ExternalSecrets | _register, same target | _register, retargeted | _forget |")
    print("|---:|---:|---:|---:|")
    for count in (int(c) for c in args.counts.split(",")):
        same, retarget, forget = measure(count, min(args.calls, count))
        print(f"| {count:,} | {same:.1f} µs | {retarget:.1f} µs | {forget:.1f} µs |")


if __name__ == "__main__":
    main()
