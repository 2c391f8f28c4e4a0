"""The peers of the side-by-side benchmarks, run for real against the test control plane.

Bitnami Sealed Secrets (controller + kubeseal) and External Secrets Operator's controller, built
from their Go modules by ``bench/peers/build.sh`` into a cache outside the repository. For each
peer: :meth:`install` puts its CRDs, namespace, ServiceAccount and RBAC into a
:class:`~tests.support.real_cluster.ControlPlane` as its release does; :meth:`start` runs the peer
as that ServiceAccount (a TokenRequest token, so the API server's audit log names the peer by user
and user agent); :meth:`PeerProcess.stop` stops it and returns its peak RSS and CPU seconds.

Audit: pass :data:`AUDIT_GROUPS` as ``ControlPlane(audit_groups=...)`` so the peers' requests are
logged, then ``cp.audit(peer.username)``.

Where each comes from (module cache or module zip, never copied into this repository):

* sealed-secrets v0.36.0: the SealedSecret CRD from the module zip that ``tests/support/upstream.py``
  pins (``helm/sealed-secrets/crds/``); RBAC as the release's controller.yaml (``controller.jsonnet``:
  ServiceAccount ``kube-system/sealed-secrets-controller``, ClusterRole ``secrets-unsealer``, Roles
  ``sealed-secrets-key-admin`` and ``sealed-secrets-service-proxier``). The controller has no
  kubeconfig flag: it only calls ``rest.InClusterConfig()``, which reads the token, CA and namespace
  from ``/var/run/secrets/kubernetes.io/serviceaccount``. So it runs in a private mount namespace in
  which a tmpfs covers ``/run`` and a directory of ours is bound there, with
  ``KUBERNETES_SERVICE_HOST``/``_PORT`` pointing at the API server (needs root, as the test machine
  gives).
* external-secrets v0.16.2: the CRDs as the release's ``deploy/crds/bundle.yaml`` (20 CRDs, 1.4 MB;
  server-side apply: a client-side apply's last-applied annotation would exceed 256 KiB), from the
  module cache (``go mod download``); RBAC as its Helm chart renders it with the default values
  (release ``external-secrets`` in namespace ``external-secrets``). The controller takes
  ``KUBECONFIG``; its webhook and cert-controller are other subcommands of the same binary, not run:
  the bundle's CRDs have no conversion webhook, and the validating webhooks are only a safety net.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import dataclasses
import functools
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support import ports, upstream  # noqa: E402
from tests.support.real_cluster import ControlPlane  # noqa: E402

HERE = Path(__file__).resolve().parent
BUILD = HERE / "build.sh"

SEALED_SECRETS_MODULE = "github.com/bitnami-labs/sealed-secrets"
SEALED_SECRETS_VERSION = "v0.36.0"  # as pinned in build.sh
ESO_MODULE = "github.com/external-secrets/external-secrets"

# The peers' ServiceAccounts' groups, for ControlPlane(audit_groups=AUDIT_GROUPS).
AUDIT_GROUPS = ("system:serviceaccounts:kube-system", "system:serviceaccounts:external-secrets")
# Token lifetime for a peer: longer than any benchmark, so no refresh is needed.
TOKEN_SECONDS = 24 * 3600


def eso_version() -> str:
    """ESO's version, as pinned by bench/peers/eso/go.mod."""
    for line in (HERE / "eso" / "go.mod").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == ESO_MODULE:
            return parts[1]
    raise RuntimeError(f"{ESO_MODULE} is not required in {HERE / 'eso' / 'go.mod'}")


# --------------------------------------------------------------------------- binaries


class PeerBuildError(RuntimeError):
    """build.sh failed; the message is its last line of stderr."""


# Each binary and the peer (build.sh argument) that provides it.
BINARIES = {
    "sealed-secrets-controller": "sealed-secrets",
    "kubeseal": "sealed-secrets",
    "external-secrets": "external-secrets",
}


@functools.cache
def bin_dir(*names: str) -> Path:
    """A directory with the binaries of the peers named (all if none), built now if the cache
    lacks them (minutes)."""
    done = subprocess.run(
        ["bash", str(BUILD), *names], capture_output=True, text=True, timeout=7200, check=False
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise PeerBuildError(lines[-1] if lines else f"{BUILD} failed with exit code {done.returncode}")
    return Path(done.stdout.strip().splitlines()[-1])


def binary(name: str) -> str:
    """The path of one peer binary (building that peer if needed)."""
    path = bin_dir(BINARIES[name]) / name
    if not path.exists():
        raise PeerBuildError(f"{BUILD} did not produce {name} in {path.parent}")
    return str(path.resolve())


@functools.cache
def module_dir(path: str, version: str) -> Path:
    """The module's extracted tree in the Go module cache (downloaded if missing)."""
    done = subprocess.run(
        ["go", "mod", "download", "-json", f"{path}@{version}"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=HERE / "eso",
    )
    if done.returncode != 0:
        raise RuntimeError(f"go mod download {path}@{version} failed: {done.stdout}{done.stderr}")
    return Path(json.loads(done.stdout)["Dir"])


# --------------------------------------------------------------------------- processes


@dataclasses.dataclass(frozen=True)
class Usage:
    """What a peer process used. ``peak_rss_mib``: VmHWM (the kernel's high-water mark of the
    resident set, file-backed pages of the binary included; at stop, the larger of the last VmHWM
    read and wait4's ru_maxrss). ``rss_mib`` and ``anon_mib`` (RssAnon: heap and stacks, no binary
    pages): at the time of reading (at stop: just before SIGTERM)."""

    peak_rss_mib: float
    rss_mib: float
    anon_mib: float
    cpu_seconds: float
    user_seconds: float
    system_seconds: float
    wall_seconds: float
    exit_code: int | None = None


def _proc_status(pid: int) -> dict[str, int]:
    """VmHWM, VmRSS and RssAnon in KiB from /proc/PID/status (empty if the process is gone)."""
    values: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS", "RssAnon"):
                values[key] = int(rest.split()[0])
    return values


def _proc_cpu(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a live process, from /proc/PID/stat."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) ": state is fields[0]
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


_live: list[PeerProcess] = []


class PeerProcess:
    """One peer process, in its own process group, killed with the benchmark if that dies."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: dict[str, str],
        log_path: Path,
        username: str,
        preexec: Callable[[], None] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.username = username
        self.ports: list[int] = []
        self.exit_code: int | None = None
        self._final: Usage | None = None
        self._rusage: Any = None  # resource.struct_rusage once reaped
        pdeathsig = _die_with_parent()

        def child() -> None:
            if pdeathsig is not None:
                pdeathsig()
            if preexec is not None:
                preexec()

        with log_path.open("ab") as log:
            self.started = time.monotonic()
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=child,
                cwd=cwd,
            )
        self.pid = self.proc.pid
        _live.append(self)

    def _reap(self) -> bool:
        """Reap the process if it has exited (wait4, keeping its rusage); True if it has."""
        if self._rusage is not None or self.proc.returncode is not None:
            return True
        try:
            pid, status, usage = os.wait4(self.pid, os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere: no rusage
            self.proc.returncode = self.proc.returncode if self.proc.returncode is not None else -1
            return True
        if pid != self.pid:
            return False
        self._rusage = usage
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        return True

    def alive(self) -> bool:
        return not self._reap()

    def sample(self) -> Usage:
        """Usage so far, from /proc, while the process runs."""
        if self._final is not None:
            return self._final
        status = _proc_status(self.pid)
        user, system = _proc_cpu(self.pid)
        return Usage(
            peak_rss_mib=status.get("VmHWM", 0) / 1024,
            rss_mib=status.get("VmRSS", 0) / 1024,
            anon_mib=status.get("RssAnon", 0) / 1024,
            cpu_seconds=user + system,
            user_seconds=user,
            system_seconds=system,
            wall_seconds=time.monotonic() - self.started,
        )

    def stop(self, timeout: float = 20.0) -> Usage:
        """SIGTERM (SIGKILL after ``timeout``), reap with wait4, and return the final usage."""
        if self._final is not None:
            return self._final
        last = _proc_status(self.pid)
        if not self._reap():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while not self._reap():
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
                deadline = time.monotonic() + 10
            time.sleep(0.02)
        wall = time.monotonic() - self.started
        if self._rusage is not None:
            user, system = self._rusage.ru_utime, self._rusage.ru_stime
            maxrss = self._rusage.ru_maxrss  # KiB on Linux
        else:
            user = system = float("nan")
            maxrss = 0
        self.exit_code = self.proc.returncode
        for port in self.ports:
            ports.release_port(port)
        self.ports.clear()
        if self in _live:
            _live.remove(self)
        self._final = Usage(
            peak_rss_mib=max(last.get("VmHWM", 0), maxrss) / 1024,
            rss_mib=last.get("VmRSS", 0) / 1024,
            anon_mib=last.get("RssAnon", 0) / 1024,
            cpu_seconds=user + system,
            user_seconds=user,
            system_seconds=system,
            wall_seconds=wall,
            exit_code=self.exit_code,
        )
        return self._final

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, check: Callable[[], bool], what: str, timeout: float) -> float:
        """Poll ``check`` until true; seconds waited. Fails with the log tail if the peer exits."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.logs()[-3000:]}")
            if check():
                return time.monotonic() - started
            time.sleep(0.05)
        raise RuntimeError(f"{self.name}: {what} not within {timeout:.0f} s; log:\n{self.logs()[-3000:]}")


def _die_with_parent() -> Callable[[], None] | None:
    """PR_SET_PDEATHSIG(SIGKILL), resolved in the parent (as tests/support/openbao.py does)."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    sigkill = int(signal.SIGKILL)

    def child() -> None:
        prctl(1, sigkill, 0, 0, 0)

    return child


@atexit.register
def _stop_leftovers() -> None:
    for peer in list(_live):
        with contextlib.suppress(Exception):
            peer.stop(timeout=5)


def _http_ok(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def _http_get(url: str) -> bytes:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as answer:
        return bytes(answer.read())


def _base_env() -> dict[str, str]:
    """The environment a peer gets: no proxies, no kubeconfig of the developer's."""
    drop = ("KUBECONFIG", "KUBERNETES_", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.setdefault("PATH", "/usr/bin:/bin")
    return env


# --------------------------------------------------------------------------- a pod's ServiceAccount mount

SA_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
_CLONE_NEWNS = 0x00020000
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18


def _service_account_dir(cp: ControlPlane, namespace: str, name: str, target: Path) -> Path:
    """What the kubelet mounts at SA_MOUNT: token, ca.crt, namespace."""
    target.mkdir(parents=True, exist_ok=True)
    (target / "token").write_text(cp.token(namespace, name, seconds=TOKEN_SECONDS))
    (target / "ca.crt").write_bytes(cp.ca_path.read_bytes())
    (target / "namespace").write_text(namespace)
    for child in target.iterdir():
        child.chmod(0o644)
    return target


def _in_pod_mounts(source: Path) -> Callable[[], None]:
    """A preexec_fn: a private mount namespace where ``source`` is at SA_MOUNT (via a tmpfs on
    /run, which /var/run links to, so nothing is created on the host's file systems)."""
    if str(source.resolve()).startswith("/run/"):
        raise ValueError(f"{source}: must not be under /run (hidden by the tmpfs)")
    libc = ctypes.CDLL(None, use_errno=True)
    unshare, mount = libc.unshare, libc.mount
    src = str(source.resolve()).encode()
    target = os.path.realpath(SA_MOUNT.rsplit("/secrets/", 1)[0])  # /run
    mount_point = os.path.join(target, "secrets/kubernetes.io/serviceaccount")

    def check(rc: int, what: str) -> None:
        if rc != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"{what}: {os.strerror(err)}")

    def child() -> None:
        check(unshare(_CLONE_NEWNS), "unshare(CLONE_NEWNS)")
        check(mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "mount --make-rprivate /")
        check(mount(b"tmpfs", target.encode(), b"tmpfs", 0, b"mode=0755"), f"mount tmpfs {target}")
        os.makedirs(mount_point)
        check(mount(src, mount_point.encode(), None, _MS_BIND, None), f"bind {mount_point}")

    return child


def _wait_established(cp: ControlPlane, names: Sequence[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    pending = list(names)
    while pending:
        crd = cp.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{pending[0]}")
        conditions = (crd or {}).get("status", {}).get("conditions", [])
        if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
            pending.pop(0)
            continue
        if time.monotonic() > deadline:
            raise RuntimeError(f"CRD {pending[0]} not Established in {timeout:.0f} s")
        time.sleep(0.05)


def _wait_watchable(cp: ControlPlane, crds: Sequence[dict[str, Any]], timeout: float = 60) -> None:
    """Until a watch-list (``sendInitialEvents``, as client-go's reflectors now ask) of each CRD's
    storage version is served. Right after a CRD is Established the API server answers it 429
    while the new resource's watch cache fills, and the reflector retries a second later: a peer
    started then would take that second to see its first object."""
    context = ssl.create_default_context(cafile=str(cp.ca_path))
    context.load_cert_chain(str(cp.admin_cert), str(cp.admin_key))
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    query = "watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan"
    deadline = time.monotonic() + timeout
    for crd in crds:
        spec = crd["spec"]
        version = next(v["name"] for v in spec["versions"] if v.get("storage"))
        url = f"{cp.url}/apis/{spec['group']}/{version}/{spec['names']['plural']}?{query}&timeoutSeconds=5"
        while True:
            try:
                # The status line comes at once; the stream itself is not read.
                with opener.open(url, timeout=10) as answer:
                    if answer.status == 200:
                        break
            except urllib.error.HTTPError as exc:
                if exc.code != 429:
                    raise
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url}: no watch within {timeout:.0f} s")
            time.sleep(0.05)


def _ensure_namespace(cp: ControlPlane, name: str) -> None:
    if cp.get(f"/api/v1/namespaces/{name}") is None:
        cp.create_namespace(name)


def _rbac(kind: str, name: str, rules: list[dict[str, Any]], namespace: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": metadata, "rules": rules}


def _binding(
    kind: str,
    name: str,
    role_kind: str,
    role: str,
    subjects: list[dict[str, Any]],
    namespace: str | None = None,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": metadata,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        "subjects": subjects,
    }


def _rule(
    groups: list[str], resources: list[str], verbs: list[str], names: list[str] | None = None
) -> dict[str, Any]:
    rule: dict[str, Any] = {"apiGroups": groups, "resources": resources, "verbs": verbs}
    if names:
        rule["resourceNames"] = names
    return rule


# --------------------------------------------------------------------------- Bitnami Sealed Secrets


class SealedSecrets:
    """Bitnami's sealed-secrets controller, as the release's controller.yaml runs it."""

    name = "sealed-secrets"
    version = SEALED_SECRETS_VERSION
    namespace = "kube-system"
    service_account = "sealed-secrets-controller"
    username = f"system:serviceaccount:{namespace}:{service_account}"
    key_label = "sealedsecrets.bitnami.com/sealed-secrets-key"

    def manifests(self) -> list[dict[str, Any]]:
        """ServiceAccount and RBAC of the release's controller.yaml (controller.jsonnet)."""
        ns, sa = self.namespace, self.service_account
        subject = [{"kind": "ServiceAccount", "name": sa, "namespace": ns}]
        return [
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": ns}},
            _rbac(
                "ClusterRole",
                "secrets-unsealer",
                [
                    _rule(["bitnami.com"], ["sealedsecrets"], ["get", "list", "watch"]),
                    _rule(["bitnami.com"], ["sealedsecrets/status"], ["update"]),
                    _rule([""], ["secrets"], ["get", "list", "create", "update", "delete", "watch"]),
                    _rule([""], ["events"], ["create", "patch"]),
                    _rule([""], ["namespaces"], ["get"]),
                ],
            ),
            _rbac("Role", "sealed-secrets-key-admin", [_rule([""], ["secrets"], ["create", "list"])], ns),
            _rbac(
                "Role",
                "sealed-secrets-service-proxier",
                [
                    _rule([""], ["services"], ["get"], ["sealed-secrets-controller"]),
                    _rule(
                        [""],
                        ["services/proxy"],
                        ["create", "get"],
                        [
                            "http:sealed-secrets-controller:",
                            "http:sealed-secrets-controller:http",
                            "sealed-secrets-controller",
                        ],
                    ),
                ],
                ns,
            ),
            _binding(
                "ClusterRoleBinding", "sealed-secrets-controller", "ClusterRole", "secrets-unsealer", subject
            ),
            _binding(
                "RoleBinding", "sealed-secrets-controller", "Role", "sealed-secrets-key-admin", subject, ns
            ),
            _binding(
                "RoleBinding",
                "sealed-secrets-service-proxier",
                "Role",
                "sealed-secrets-service-proxier",
                [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}],
                ns,
            ),
        ]

    def crds(self) -> list[dict[str, Any]]:
        if upstream.BITNAMI.version != self.version:
            raise RuntimeError(
                f"tests/support/upstream.py pins Bitnami {upstream.BITNAMI.version}, not {self.version}"
            )
        return [upstream.bitnami_crd()]

    def install(self, cp: ControlPlane) -> None:
        """The SealedSecret CRD (waits until Established and watchable), ServiceAccount and RBAC."""
        crds = self.crds()
        cp.apply(crds)
        _wait_established(cp, [crd["metadata"]["name"] for crd in crds])
        _wait_watchable(cp, crds)
        _ensure_namespace(cp, self.namespace)
        cp.apply(self.manifests())

    def start(self, cp: ControlPlane, workdir: Path, extra_args: Sequence[str] = ()) -> PeerProcess:
        """Run the controller as its ServiceAccount, in-cluster style (see the module doc).

        Its HTTP server (``/v1/cert.pem``, ``/healthz``, verify, rotate) and metrics listen on loopback
        ports: ``peer.ports[0]`` and ``[1]``. Flags otherwise at the release's defaults: key prefix
        ``sealed-secrets-key``, 4096-bit keys, all namespaces, ``--update-status``, kube client QPS 5
        and burst 10. Not ready until :meth:`wait_ready`.
        """
        workdir.mkdir(parents=True, exist_ok=True)
        sa_dir = _service_account_dir(cp, self.namespace, self.service_account, workdir / "serviceaccount")
        http_port, metrics_port = ports.reserve_port(), ports.reserve_port()
        env = _base_env() | {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(cp.port)}
        peer = PeerProcess(
            self.name,
            [
                binary("sealed-secrets-controller"),
                f"--listen-addr=127.0.0.1:{http_port}",
                f"--listen-metrics-addr=127.0.0.1:{metrics_port}",
                *extra_args,
            ],
            env=env,
            log_path=workdir / "sealed-secrets-controller.log",
            username=self.username,
            preexec=_in_pod_mounts(sa_dir),
        )
        peer.ports += [http_port, metrics_port]
        return peer

    def wait_ready(self, peer: PeerProcess, timeout: float = 120) -> float:
        """Until /healthz answers (after the key is found or generated); seconds waited."""
        return peer.wait_for(
            lambda: _http_ok(f"http://127.0.0.1:{peer.ports[0]}/healthz"), "/healthz", timeout
        )

    def cert(self, peer: PeerProcess) -> bytes:
        """The current sealing certificate, as ``kubeseal --fetch-cert`` gets it."""
        return _http_get(f"http://127.0.0.1:{peer.ports[0]}/v1/cert.pem")

    def kubeseal(
        self, cp: ControlPlane, secret: dict[str, Any], cert: Path, extra_args: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Seal one Secret with the built kubeseal (``--cert FILE``, JSON out)."""
        done = subprocess.run(
            [
                binary("kubeseal"),
                f"--kubeconfig={cp.admin_kubeconfig}",
                f"--cert={cert}",
                "-o",
                "json",
                *extra_args,
            ],
            input=json.dumps(secret),
            capture_output=True,
            text=True,
            timeout=60,
            env=_base_env(),
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"kubeseal failed ({done.returncode}): {done.stderr}")
        sealed: dict[str, Any] = json.loads(done.stdout)
        return sealed


# --------------------------------------------------------------------------- External Secrets Operator


class ExternalSecrets:
    """ESO's controller (no webhook, no cert-controller), as its Helm chart's defaults run it."""

    name = "external-secrets"
    namespace = "external-secrets"
    service_account = "external-secrets"
    username = f"system:serviceaccount:{namespace}:{service_account}"

    @property
    def version(self) -> str:
        return eso_version()

    def crds(self) -> list[dict[str, Any]]:
        bundle = module_dir(ESO_MODULE, self.version) / "deploy" / "crds" / "bundle.yaml"
        return [doc for doc in yaml.safe_load_all(bundle.read_text()) if doc]

    def manifests(self) -> list[dict[str, Any]]:
        """ServiceAccount and RBAC as ``deploy/charts/external-secrets/templates/rbac.yaml`` renders
        with the chart's default values (processClusterStore, processClusterExternalSecret,
        processPushSecret, processClusterPushSecret and openshiftFinalizers all true). The chart's
        aggregated -view and -edit ClusterRoles are for users and left out."""
        ns, sa = self.namespace, self.service_account
        es = ["external-secrets.io"]
        kinds = ["externalsecrets", "secretstores", "clustersecretstores", "clusterexternalsecrets"]
        kinds += ["pushsecrets", "clusterpushsecrets"]
        status = [f"{kind}{suffix}" for kind in kinds for suffix in ("", "/status", "/finalizers")]
        generators = [
            "acraccesstokens",
            "clustergenerators",
            "ecrauthorizationtokens",
            "fakes",
            "gcraccesstokens",
            "githubaccesstokens",
            "quayaccesstokens",
            "passwords",
            "stssessiontokens",
            "uuids",
            "vaultdynamicsecrets",
            "webhooks",
            "grafanas",
        ]
        controller = _rbac(
            "ClusterRole",
            f"{self.name}-controller",
            [
                _rule(
                    es,
                    [
                        "secretstores",
                        "clustersecretstores",
                        "externalsecrets",
                        "clusterexternalsecrets",
                        "pushsecrets",
                        "clusterpushsecrets",
                    ],
                    ["get", "list", "watch"],
                ),
                _rule(es, status, ["get", "update", "patch"]),
                _rule(
                    ["generators.external-secrets.io"],
                    ["generatorstates"],
                    ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"],
                ),
                _rule(["generators.external-secrets.io"], generators, ["get", "list", "watch"]),
                _rule([""], ["serviceaccounts", "namespaces"], ["get", "list", "watch"]),
                _rule([""], ["configmaps"], ["get", "list", "watch"]),
                _rule([""], ["secrets"], ["get", "list", "watch", "create", "update", "delete", "patch"]),
                _rule([""], ["serviceaccounts/token"], ["create"]),
                _rule([""], ["events"], ["create", "patch"]),
                _rule(es, ["externalsecrets"], ["create", "update", "delete"]),
                _rule(es, ["pushsecrets"], ["create", "update", "delete"]),
            ],
        )
        subject = [{"kind": "ServiceAccount", "name": sa, "namespace": ns}]
        return [
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": ns}},
            controller,
            _binding(
                "ClusterRoleBinding",
                f"{self.name}-controller",
                "ClusterRole",
                f"{self.name}-controller",
                subject,
            ),
            _rbac(
                "Role",
                f"{self.name}-leaderelection",
                [
                    _rule([""], ["configmaps"], ["get", "update", "patch"], ["external-secrets-controller"]),
                    _rule([""], ["configmaps"], ["create"]),
                    _rule(["coordination.k8s.io"], ["leases"], ["get", "create", "update", "patch"]),
                ],
                ns,
            ),
            _binding(
                "RoleBinding",
                f"{self.name}-leaderelection",
                "Role",
                f"{self.name}-leaderelection",
                subject,
                ns,
            ),
        ]

    def install(self, cp: ControlPlane) -> None:
        """Namespace, the 20 CRDs of the bundle (server-side apply; waits until Established),
        ServiceAccount and RBAC."""
        crds = self.crds()
        cp.apply(crds)
        _wait_established(cp, [crd["metadata"]["name"] for crd in crds])
        _wait_watchable(cp, crds)
        _ensure_namespace(cp, self.namespace)
        cp.apply(self.manifests())

    def start(
        self, cp: ControlPlane, workdir: Path, *, concurrent: int = 1, extra_args: Sequence[str] = ()
    ) -> PeerProcess:
        """Run the controller as its ServiceAccount (``KUBECONFIG`` with a token file).

        Flags as the chart's defaults: ``--concurrent=1`` (per controller: ExternalSecret,
        SecretStore, ...; raise it for throughput), ``--enable-leader-election=false``
        (chart: leaderElect false), ``--loglevel=info``, ``--zap-time-encoding=epoch``; the binary's
        own defaults for the rest (client QPS 50, burst 100, all reconcilers on, managed-secrets
        caching on). Metrics on a loopback port (``peer.ports[0]``).
        """
        workdir.mkdir(parents=True, exist_ok=True)
        token = workdir / "external-secrets.token"
        token.write_text(cp.token(self.namespace, self.service_account, seconds=TOKEN_SECONDS))
        token.chmod(0o600)
        kubeconfig = cp.token_file_kubeconfig(
            self.service_account, token, self.namespace, workdir / "external-secrets.kubeconfig"
        )
        metrics_port = ports.reserve_port()
        peer = PeerProcess(
            self.name,
            [
                binary("external-secrets"),
                f"--metrics-addr=127.0.0.1:{metrics_port}",
                "--enable-leader-election=false",
                f"--concurrent={concurrent}",
                "--loglevel=info",
                "--zap-time-encoding=epoch",
                *extra_args,
            ],
            env=_base_env() | {"KUBECONFIG": str(kubeconfig)},
            log_path=workdir / "external-secrets.log",
            username=self.username,
        )
        peer.ports.append(metrics_port)
        return peer

    def wait_ready(self, peer: PeerProcess, timeout: float = 120) -> float:
        """Until the ExternalSecret controller has started its workers; seconds waited."""
        pattern = re.compile(r'"Starting workers".*"controller":\s*"externalsecret"', re.IGNORECASE)
        return peer.wait_for(lambda: bool(pattern.search(peer.logs())), "ExternalSecret workers", timeout)


PEERS = (SealedSecrets, ExternalSecrets)
