"""Big clusters: what N Secrets that are not the operator's (Helm releases) cost it.

Usage: .venv/bin/python bench/big_cluster.py [--count 20000] [--kib 100] [--small 0]
       [--running-fraction 0.1] [--settle 5] [--max-ratio 1.10]

Two runs of the same workload, each in a fresh API emulator with a fresh operator process:
a baseline with no unrelated Secrets, then one with --count Secrets of --kib KiB of data each
(and --small ones of 200 bytes), spread over 4 namespaces. The workload: one SealedSecret and one
ExternalSecret (fake store) with their Secrets. The real operator starts (among them); then
--running-fraction of them are created again while it runs (0 in the baseline), its watches are
made to expire (410 Gone: kopf lists again; forced in both runs by 101 writes to one ConfigMap
with the server's event window cut to 100), and a produced Secret is deleted and must be
re-created. After --settle seconds of quiet, reads the operator's figures.

Reports, for both runs and their ratio: wall times, operator CPU seconds, peak RSS (VmHWM) at
start and for the whole run, current RSS (VmRSS) after the run settles, and the Secret lists and
watches the operator asked for (all with a label selector). Exits 1 when either RSS ratio
exceeds --max-ratio. Not a test: prints a Markdown table for docs/benchmarks.md
(tests/test_big_cluster.py asserts the bounds).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.external_env import API, external_secret  # noqa: E402
from tests.support.kube_emulator import KubeEmulator, load_crd_documents, wait_for  # noqa: E402
from tests.support.operator_proc import OperatorProcess  # noqa: E402
from tests.support.sealed_env import OPERATOR_NS, key_secret, seal, secret, vector_key  # noqa: E402
from tests.test_big_cluster import HELM_NAMESPACES, NS, SECRET_COLLECTION, _helm_release  # noqa: E402

SMALL_BYTES = 200
BATCH = 500  # Secrets created per call into the emulator's thread
FILLER_WRITES = 101  # > the event window of 100: every watch's resourceVersion falls out of it


@dataclasses.dataclass(frozen=True)
class Config:
    """What one run puts in the cluster besides the workload."""

    small: int
    large: int
    large_bytes: int
    running_small: int
    running_large: int


@dataclasses.dataclass(frozen=True)
class Figures:
    populate_s: float  # the bench creating the unrelated Secrets (not the operator)
    ready_s: float  # operator start -> ready and the ExternalSecret's Secret written
    start_cpu: float
    start_peak_mib: float
    running_s: float  # watches expire -> listed again -> a deleted produced Secret re-created
    running_cpu: float  # after start_cpu: the running phase's creations, relists, healing
    total_cpu: float  # the whole process lifetime, settle pause included
    peak_mib: float  # VmHWM at the end: the whole run
    settled_mib: float  # VmRSS after the settle pause
    lists: int
    watches: int
    unselected: int


def status_mib(pid: int | str, field: str) -> float:
    """A /proc/<pid>/status memory figure (VmRSS, VmHWM: the peak) in MiB."""
    match = re.search(rf"^{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
    assert match, f"no {field} for {pid}"
    return int(match.group(1)) / 1024


def operator_mib(proc: OperatorProcess, field: str) -> float:
    assert proc.proc is not None
    return status_mib(proc.proc.pid, field)


def cpu_seconds(proc: OperatorProcess) -> float:
    assert proc.proc is not None
    fields = Path(f"/proc/{proc.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def populate(emu: KubeEmulator, start: int, small: int, large: int, large_bytes: int) -> None:
    """Create Helm release Secrets in the emulator's own thread, BATCH per call: the same store
    writes and watch events as API creates, without an HTTP round trip or a copy per object."""
    sizes = [SMALL_BYTES] * small + [large_bytes] * large
    layer = emu.layer
    rdef = emu.call(lambda: layer.resource_def("v1", "Secret"))
    for first in range(0, len(sizes), BATCH):
        objs = [_helm_release(start + i, size) for i, size in enumerate(sizes[first : first + BATCH], first)]

        def create(objs: list[dict[str, Any]] = objs) -> None:
            for obj in objs:
                layer.create_object(rdef, obj["metadata"]["namespace"], obj)

        emu.call(create)


def collection_gets(emu: KubeEmulator) -> list[tuple[str, dict[str, str]]]:
    """(path, query) of the GETs of Secret collections (lists and watches) the operator made."""
    # cast: KubeEmulator.requests' annotation says list[...] inside a class that defines list().
    served = cast("list[tuple[str, str, dict[str, str]]]", emu.requests())
    return [(path, p) for m, path, p in served if m == "GET" and SECRET_COLLECTION.fullmatch(path)]


def produced_lists(emu: KubeEmulator) -> int:
    """kopf's lists of Secrets (cluster-wide; at start and after each expired watch)."""
    return len(
        [p for path, p in collection_gets(emu) if path == "/api/v1/secrets" and p.get("watch") != "true"]
    )


def setup_workload(emu: KubeEmulator) -> None:
    for ns in (OPERATOR_NS, NS, *HELM_NAMESPACES):
        emu.ensure_namespace(ns)
    key_pem, cert_pem = vector_key(2048)
    emu.create(key_secret("sealing-key", key_pem, cert_pem))
    emu.create(seal(cert_pem, secret("sealed", NS, {"k": "v"})))
    fake = {"fake": {"data": [{"key": "a", "value": "1"}]}}
    emu.create({"apiVersion": API, "kind": "SecretStore", "metadata": {"name": "fake", "namespace": NS},
                "spec": {"provider": fake}})  # fmt: skip
    emu.create(external_secret("external", NS, "fake", data=[{"secretKey": "a", "remoteRef": {"key": "a"}}]))
    emu.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "filler", "namespace": NS}})


def run(crds: list[dict[str, Any]], config: Config, settle: float, label: str) -> Figures:
    with (
        tempfile.TemporaryDirectory(prefix="bench-big-cluster-") as tmp,
        KubeEmulator(Path(tmp), crds) as emu,
    ):
        work = Path(tmp)
        setup_workload(emu)
        print(f"[{label}] creating {config.small} + {config.large} unrelated Secrets ...", file=sys.stderr)
        began = time.monotonic()
        populate(emu, 0, config.small, config.large, config.large_bytes)
        populate_s = time.monotonic() - began

        proc = OperatorProcess(
            str(emu.kubeconfig_path), work, extra_args=["--log-level", "warning", "--key-renew-period", "0"]
        ).start()
        try:
            started = time.monotonic()
            proc.wait_ready(timeout=120)
            wait_for(
                lambda: emu.get("v1", "Secret", "external", NS),
                timeout=60,
                message="the ExternalSecret's Secret",
            )
            ready_s = time.monotonic() - started
            time.sleep(1.0)
            start_cpu, start_peak = cpu_seconds(proc), operator_mib(proc, "VmHWM")

            print(
                f"[{label}] {config.running_small} + {config.running_large} more while it runs, "
                "then its watches expire ...",
                file=sys.stderr,
            )
            # Created with the server's full event window, as a real one serves watchers that keep up
            # (created BATCH at a time, they would otherwise outrun it and expire every watch).
            start = config.small + config.large
            populate(emu, start, config.running_small, config.running_large, config.large_bytes)
            # Then every watch's resourceVersion falls out of a window cut to 100 events, and the
            # streams end (an API server restart): kopf and the key watch resume, get 410, list again.
            began = time.monotonic()
            emu.call(lambda: setattr(emu.layer, "max_events", FILLER_WRITES - 1))
            for i in range(FILLER_WRITES):
                emu.patch("v1", "ConfigMap", "filler", {"data": {"n": str(i)}}, NS)
            lists_before = produced_lists(emu)
            emu.end_watches()
            wait_for(lambda: produced_lists(emu) > lists_before, timeout=60, message="kopf to list again")
            emu.delete("v1", "Secret", "sealed", NS)
            wait_for(lambda: emu.get("v1", "Secret", "sealed", NS), timeout=60, message="self-heal")
            running_s = time.monotonic() - began
            running_cpu = cpu_seconds(proc) - start_cpu

            time.sleep(settle)
            total_cpu = cpu_seconds(proc)
            peak, settled = operator_mib(proc, "VmHWM"), operator_mib(proc, "VmRSS")
            reads = [p for _, p in collection_gets(emu)]
        finally:
            proc.stop()
    print(
        f"[{label}] bench process (emulator) peak RSS: {status_mib('self', 'VmHWM'):.0f} MiB", file=sys.stderr
    )
    return Figures(
        populate_s=populate_s,
        ready_s=ready_s,
        start_cpu=start_cpu,
        start_peak_mib=start_peak,
        running_s=running_s,
        running_cpu=running_cpu,
        total_cpu=total_cpu,
        peak_mib=peak,
        settled_mib=settled,
        lists=sum(1 for p in reads if p.get("watch") != "true"),
        watches=sum(1 for p in reads if p.get("watch") == "true"),
        unselected=sum(1 for p in reads if not p.get("labelSelector")),
    )


def describe(small: int, large: int, large_bytes: int) -> str:
    parts = []
    if large:
        parts.append(f"{large:,} x {large_bytes // 1024} KiB")
    if small:
        parts.append(f"{small:,} x {SMALL_BYTES} B")
    return " + ".join(parts) or "none"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--count",
        "--large",
        type=int,
        default=20_000,
        help="unrelated Secrets of --kib each (--large: the old name)",
    )
    parser.add_argument("--kib", "--large-kib", type=int, default=100, help="KiB of data per Secret")
    parser.add_argument("--small", type=int, default=0, help="unrelated Secrets of 200 bytes, besides")
    parser.add_argument(
        "--running-fraction",
        type=float,
        default=0.1,
        help="created again while the operator runs, as a fraction of the start (1: as many again)",
    )
    parser.add_argument("--settle", type=float, default=5.0, help="seconds of quiet before the final RSS")
    parser.add_argument("--max-ratio", type=float, default=1.10, help="fail when an RSS ratio exceeds this")
    args = parser.parse_args()

    crds = load_crd_documents(sorted((REPO / "crds").glob("*.yaml")))
    large_bytes = args.kib * 1024
    loaded = Config(
        small=args.small,
        large=args.count,
        large_bytes=large_bytes,
        running_small=round(args.small * args.running_fraction),
        running_large=round(args.count * args.running_fraction),
    )
    baseline = Config(small=0, large=0, large_bytes=large_bytes, running_small=0, running_large=0)
    json_mib = (loaded.large * large_bytes * 4 / 3 + loaded.small * 512) / 2**20
    base = run(crds, baseline, args.settle, "baseline")
    big = run(crds, loaded, args.settle, "unrelated")

    at_start = describe(loaded.small, loaded.large, large_bytes)
    running = describe(loaded.running_small, loaded.running_large, large_bytes)
    print(
        f"\nbig cluster: baseline with no unrelated Secrets vs {at_start} unrelated Secrets "
        f"(~{json_mib:,.0f} MiB of JSON, created in {big.populate_s:.1f} s) at start, {running} more "
        f"while running; Python {platform.python_version()}, {os.cpu_count()} CPUs\n"
    )

    def row(measure: str, fmt: Callable[[Figures], str], value: Callable[[Figures], float] | None) -> str:
        ratio = "" if value is None or value(base) <= 0 else f"{value(big) / value(base):.3f}"
        return f"| {measure} | {fmt(base)} | {fmt(big)} | {ratio} |"

    rows = [
        row("start -> synced (wall)", lambda f: f"{f.ready_s:.1f} s", lambda f: f.ready_s),
        row("operator CPU, start", lambda f: f"{f.start_cpu:.2f} s", lambda f: f.start_cpu),
        row(
            "operator peak RSS at synced (VmHWM)",
            lambda f: f"{f.start_peak_mib:.1f} MiB",
            lambda f: f.start_peak_mib,
        ),
        row(
            "running: watches expire -> listed again -> healed (wall)",
            lambda f: f"{f.running_s:.1f} s",
            lambda f: f.running_s,
        ),
        row("operator CPU, running phase", lambda f: f"{f.running_cpu:.2f} s", None),
        row("operator CPU, whole run", lambda f: f"{f.total_cpu:.2f} s", lambda f: f.total_cpu),
        row(
            "**operator peak RSS, whole run (VmHWM)**",
            lambda f: f"{f.peak_mib:.1f} MiB",
            lambda f: f.peak_mib,
        ),
        row(
            f"**operator RSS after the run settles ({args.settle:g} s, VmRSS)**",
            lambda f: f"{f.settled_mib:.1f} MiB",
            lambda f: f.settled_mib,
        ),
        row(
            "Secret lists / watches (without a label selector)",
            lambda f: f"{f.lists} / {f.watches} ({f.unselected})",
            None,
        ),
    ]
    print(f"| measure | no unrelated Secrets | {at_start} | ratio |\n|---|---|---|---|")
    print("\n".join(rows))

    ratios = {"peak RSS": big.peak_mib / base.peak_mib, "settled RSS": big.settled_mib / base.settled_mib}
    over = [f"{name} {ratio:.3f}" for name, ratio in ratios.items() if ratio > args.max_ratio]
    summary = ", ".join(f"{name} {ratio:.3f}" for name, ratio in ratios.items())
    if over:
        print(f"\nFAIL: {', '.join(over)} > {args.max_ratio:.2f}", file=sys.stderr)
        return 1
    print(f"\nOK: {summary} <= {args.max_ratio:.2f}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
