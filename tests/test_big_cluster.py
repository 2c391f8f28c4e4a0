"""Big clusters: thousands of Secrets that are not the operator's (Helm releases of up to 1 MiB
each) never reach it. The API server selects: every list and watch of Secrets the operator makes
carries a label selector (its produced Secrets' label, or a key label in its own namespace), lists
come in pages, and its memory and CPU do not grow with the cluster's Secrets, at start, while
running, or when a watch expires and kopf lists again."""

from __future__ import annotations

import base64
import os
import re
import time
from pathlib import Path
from typing import Any

from tests.support.external_env import API, ExternalEnv, external_secret
from tests.support.kube_emulator import KubeEmulator, wait_for
from tests.support.operator_proc import OperatorProcess
from tests.support.sealed_env import OPERATOR_NS, SealedEnv, key_secret, seal, secret, vector_key

NS = "apps"
HELM_NAMESPACES = ("helm-a", "helm-b", "helm-c", "helm-d")
SMALL, LARGE, LARGE_BYTES = 2000, 40, 900 * 1024
PRODUCED = "secretsync.io/managed-secret"
SELECTORS = {
    f"{PRODUCED}=true",  # kopf: the produced Secrets, everywhere
    "secretsync.io/sealing-key",  # the key watch, in the operator's namespace
    "secretsync.io/sealing-key=active",  # the key ring's list, there too
}
MIB = 1024 * 1024
SECRET_COLLECTION = re.compile(r"/api/v1(/namespaces/[^/]+)?/secrets")


def _proc_status(proc: OperatorProcess, field: str) -> int:
    """A /proc/<pid>/status memory figure (VmRSS, VmHWM: the peak) in bytes."""
    assert proc.proc is not None
    text = Path(f"/proc/{proc.proc.pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    assert match, text
    return int(match.group(1)) * 1024


def _cpu_seconds(proc: OperatorProcess) -> float:
    assert proc.proc is not None
    fields = Path(f"/proc/{proc.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _helm_release(i: int, size: int) -> dict[str, Any]:
    ns = HELM_NAMESPACES[i % len(HELM_NAMESPACES)]
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "helm.sh/release.v1",
        "metadata": {"name": f"sh.helm.release.v1.app{i}.v1", "namespace": ns, "labels": {"owner": "helm"}},
        "data": {"release": base64.b64encode(b"h" * size).decode()},
    }


def _create_unrelated(emu: KubeEmulator, start: int = 0) -> None:
    for i in range(start, start + SMALL):
        emu.create(_helm_release(i, 200))
    for i in range(start + SMALL, start + SMALL + LARGE):
        emu.create(_helm_release(i, LARGE_BYTES))


def _secret_reads(emu: KubeEmulator) -> list[tuple[str, dict[str, str]]]:
    """The operator's lists and watches of Secrets (collection GETs)."""
    return [(path, p) for m, path, p in emu.requests() if m == "GET" and SECRET_COLLECTION.fullmatch(path)]


def _check_requests(emu: KubeEmulator) -> list[tuple[str, dict[str, str]]]:
    reads = _secret_reads(emu)
    unselected = [(path, p) for path, p in reads if p.get("labelSelector") not in SELECTORS]
    assert not unselected, unselected
    for path, p in reads:
        if p.get("labelSelector") != f"{PRODUCED}=true":
            assert path == f"/api/v1/namespaces/{OPERATOR_NS}/secrets", path  # keys: its namespace only
        if p.get("watch") != "true":
            assert p.get("limit"), (path, p)  # paged
    # Nor is any of the unrelated Secrets ever read by name.
    assert not [path for _, path, _ in emu.requests() if "sh.helm.release" in path]
    return reads


def test_unrelated_secrets_cost_the_operator_nothing(
    kube_emulator: KubeEmulator, operator_factory: Any, tmp_path: Path
) -> None:
    emu = kube_emulator
    for ns in (OPERATOR_NS, NS, *HELM_NAMESPACES):
        emu.ensure_namespace(ns)
    key_pem, cert_pem = vector_key(2048)
    emu.create(key_secret("sealing-key", key_pem, cert_pem))
    emu.create(seal(cert_pem, secret("sealed", NS, {"k": "v"})))
    emu.create(
        {
            "apiVersion": API,
            "kind": "SecretStore",
            "metadata": {"name": "fake", "namespace": NS},
            "spec": {"provider": {"fake": {"data": [{"key": "a", "value": "1"}]}}},
        }
    )
    emu.create(external_secret("external", NS, "fake", data=[{"secretKey": "a", "remoteRef": {"key": "a"}}]))
    sealed_env, external_env = SealedEnv(emu), ExternalEnv(emu)

    first: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    first.wait_ready()
    sealed_env.wait_ready("sealed", NS)
    external_env.wait_synced("external", NS)
    time.sleep(1.0)
    baseline_peak = _proc_status(first, "VmHWM")
    cpu_before = _cpu_seconds(first)

    # While it runs: 2,000 small and 40 large (900 KiB) Secrets appear, which no watch delivers.
    # Then its watches expire (the resourceVersion they go on from is out of the server's window):
    # kopf and the key watch list again, still selected and paged.
    def produced_lists() -> int:  # the operator's (prefetch's, kopf's) lists of the produced Secrets
        return sum(
            1 for path, p in _secret_reads(emu) if path == "/api/v1/secrets" and p.get("watch") != "true"
        )

    emu.call(lambda: setattr(emu.layer, "max_events", 100))
    _create_unrelated(emu)
    listed_before = produced_lists()
    emu.end_watches()
    wait_for(
        lambda: produced_lists() > listed_before,
        timeout=15,
        message="kopf to list the produced Secrets again after 410 Gone",
    )
    time.sleep(1.0)
    grown = _proc_status(first, "VmHWM") - baseline_peak
    cpu = _cpu_seconds(first) - cpu_before
    # Self-heal goes on: deleted, re-created within seconds; label taken off, put back.
    emu.delete("v1", "Secret", "sealed", NS)
    wait_for(lambda: sealed_env.get_secret("sealed", NS), timeout=10, message="sealed re-created")
    emu.patch("v1", "Secret", "external", {"metadata": {"labels": {PRODUCED: None}}}, NS)
    wait_for(
        lambda: (external_env.secret("external", NS) or {})["metadata"].get("labels", {}).get(PRODUCED),
        timeout=10,
        message="the label put back",
    )
    first.stop()

    # A fresh start with all of them there: the start-up lists are selected too.
    second: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    second.wait_ready()
    emu.delete("v1", "Secret", "external", NS)
    wait_for(lambda: external_env.secret("external", NS), timeout=10, message="external re-created")
    time.sleep(1.0)
    second_peak = _proc_status(second, "VmHWM")

    reads = _check_requests(emu)
    assert any(p.get("watch") == "true" and path == "/api/v1/secrets" for path, p in reads)
    # 40 x 900 KiB is 48 MiB of JSON. Without the selector (measured): the peak grew by 75 MiB while
    # they appeared, a start among them peaked 100 MiB higher, and they cost 0.8 s of CPU; with it,
    # 0.2 MiB, the same peak, and 0.01 s.
    assert grown < 25 * MIB, f"peak RSS grew by {grown / MIB:.1f} MiB while unrelated Secrets appeared"
    assert second_peak < baseline_peak + 25 * MIB, (
        f"peak RSS {second_peak / MIB:.1f} MiB at a start among them vs {baseline_peak / MIB:.1f} MiB"
    )
    assert cpu < 0.4, f"{cpu:.2f}s of CPU for Secrets that are not the operator's"
