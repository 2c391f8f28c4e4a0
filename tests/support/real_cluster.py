"""A real Kubernetes control plane on this machine: etcd, kube-apiserver, kube-controller-manager.

The binaries come from tests/cluster/controlplane/build.sh (Go modules, pinned). Everything listens on
loopback except where the API server must reach the operator (its service proxy refuses loopback
endpoints): the operator then binds the host's own address, :func:`host_ip`.

* TLS everywhere, with a CA made here: the API server's serving certificate, an admin client
  certificate (``O=system:masters``), a ServiceAccount signing key.
* ``--authorization-mode=Node,RBAC`` and ``OwnerReferencesPermissionEnforcement`` (as OpenShift
  runs it) on top of the default admission plugins; kube-controller-manager runs the garbage
  collector and namespace controllers, so ownerReference deletion is real.
* :meth:`ControlPlane.token_kubeconfig` writes a kubeconfig for a ServiceAccount token from the
  TokenRequest API: the operator then runs with exactly the rights the shipped RBAC gives it.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import datetime as dt
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from tests.support import k8s_bin, ports

SERVICE_CIDR = "10.0.0.0/24"
ISSUER = "https://kubernetes.default.svc.cluster.local"


def host_ip() -> str:
    """This machine's own (non-loopback) IPv4 address: where the API server can proxy to."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent; the kernel picks the source address
        address = probe.getsockname()[0]
    if ipaddress.ip_address(address).is_loopback:
        raise RuntimeError("the real-cluster tests need a non-loopback IPv4 address on this machine")
    return str(address)


# --------------------------------------------------------------------------- certificates


def _name(common: str, org: str | None = None) -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COMMON_NAME, common)]
    if org:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(parts)


def _pem_key(key: Any) -> bytes:
    return key.private_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class _CA:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name("secretsync-test-ca"))
            .issuer_name(_name("secretsync-test-ca"))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    def issue(
        self, common: str, *, org: str | None = None, dns: Sequence[str] = (), ips: Sequence[str] = ()
    ) -> tuple[bytes, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common, org))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=2))
        )
        sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
        sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


# --------------------------------------------------------------------------- the control plane


class ControlPlane:
    """etcd + kube-apiserver + kube-controller-manager, started together, stopped together."""

    def __init__(
        self,
        workdir: Path,
        apiserver_args: Sequence[str] = (),
        audit_groups: Sequence[str] = (),
        etcd_args: Sequence[str] = (),
    ) -> None:
        self.dir = workdir
        self.apiserver_args = list(apiserver_args)
        # More etcd flags, e.g. "--quota-backend-bytes=8589934592" for a benchmark that stores more
        # than etcd's default 2 GiB.
        self.etcd_args = list(etcd_args)
        # More user groups whose requests go to the audit log (e.g. a benchmark peer's namespace:
        # "system:serviceaccounts:kube-system").
        self.audit_groups = list(audit_groups)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.host = host_ip()
        self.etcd_port = ports.reserve_port()
        self.peer_port = ports.reserve_port()
        self.port = ports.reserve_port()
        self.kcm_port = ports.reserve_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._args: dict[str, list[str]] = {}
        self.started_in = 0.0

    # ------------------------------------------------------------------ files

    def _write(self, name: str, data: bytes, mode: int = 0o600) -> Path:
        path = self.dir / name
        path.write_bytes(data)
        path.chmod(mode)
        return path

    def _prepare(self) -> None:
        ca = _CA()
        self.ca_path = self._write("ca.crt", ca.pem, 0o644)
        serving = ca.issue(
            "kube-apiserver",
            dns=[
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
            ],
            ips=["127.0.0.1", self.host, "10.0.0.1"],
        )
        self.serving_cert = self._write("apiserver.crt", serving[0], 0o644)
        self.serving_key = self._write("apiserver.key", serving[1])
        admin = ca.issue("kubernetes-admin", org="system:masters")
        self.admin_cert = self._write("admin.crt", admin[0], 0o644)
        self.admin_key = self._write("admin.key", admin[1])
        sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.sa_key = self._write("sa.key", _pem_key(sa_key))
        self.sa_pub = self._write(
            "sa.pub",
            sa_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            0o644,
        )
        # Every request of a ServiceAccount in secretsync-system, for the RBAC test: what the
        # operator really calls, against what its roles grant.
        self.audit_policy = self._write(
            "audit-policy.yaml",
            yaml.safe_dump(
                {
                    "apiVersion": "audit.k8s.io/v1",
                    "kind": "Policy",
                    "omitStages": ["RequestReceived"],
                    "rules": [
                        {
                            "level": "Metadata",
                            "userGroups": ["system:serviceaccounts:secretsync-system", *self.audit_groups],
                        },
                        {"level": "None"},
                    ],
                }
            ).encode(),
            0o644,
        )
        self.audit_log = self.dir / "audit.log"
        self.admin_kubeconfig = self.dir / "admin.kubeconfig"
        self._write_kubeconfig(
            self.admin_kubeconfig,
            "admin",
            {"client-certificate": str(self.admin_cert), "client-key": str(self.admin_key)},
        )

    def _write_kubeconfig(
        self, path: Path, user: str, credentials: dict[str, str], namespace: str = "default"
    ) -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "real", "cluster": {"server": self.url, "certificate-authority": str(self.ca_path)}}
            ],
            "users": [{"name": user, "user": credentials}],
            "contexts": [
                {"name": user, "context": {"cluster": "real", "user": user, "namespace": namespace}}
            ],
            "current-context": user,
        }
        path.write_text(yaml.safe_dump(config))
        path.chmod(0o600)
        return path

    # ------------------------------------------------------------------ processes

    def _spawn(self, name: str, args: list[str]) -> None:
        log = (self.dir / f"{name}.log").open("ab")
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.procs.append((name, proc))
        self._args[name] = args

    def restart(self, name: str, *, down_for: float = 0.0) -> None:
        """Stop one component (SIGTERM, as a rolling upgrade does; SIGKILL after 20 s), keep it down
        ``down_for`` seconds, start it again with the same arguments and data, wait until the
        API server is ready again."""
        index = next(i for i, (n, _) in enumerate(self.procs) if n == name)
        proc = self.procs[index][1]
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        time.sleep(down_for)
        log = (self.dir / f"{name}.log").open("ab")
        new = subprocess.Popen(self._args[name], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.procs[index] = (name, new)
        self._wait(self._ready, f"{name} restarted", 90)

    def start(self) -> ControlPlane:
        started = time.monotonic()
        atexit.register(self.stop)
        self._prepare()
        bins = k8s_bin.bin_dir()
        self._spawn(
            "etcd",
            [
                str(bins / "etcd"),
                "--name=test",
                f"--data-dir={self.dir / 'etcd'}",
                f"--listen-client-urls=http://127.0.0.1:{self.etcd_port}",
                f"--advertise-client-urls=http://127.0.0.1:{self.etcd_port}",
                f"--listen-peer-urls=http://127.0.0.1:{self.peer_port}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{self.peer_port}",
                f"--initial-cluster=test=http://127.0.0.1:{self.peer_port}",
                "--unsafe-no-fsync",  # a throwaway store: durability costs seconds per test run
                "--log-level=warn",
                *self.etcd_args,
            ],
        )
        self._wait(lambda: _http_ok(f"http://127.0.0.1:{self.etcd_port}/health"), "etcd", 30)
        self._spawn(
            "kube-apiserver",
            [
                str(bins / "kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
                "--bind-address=127.0.0.1",
                f"--advertise-address={self.host}",
                f"--secure-port={self.port}",
                f"--cert-dir={self.dir / 'certs'}",
                f"--tls-cert-file={self.serving_cert}",
                f"--tls-private-key-file={self.serving_key}",
                f"--client-ca-file={self.ca_path}",
                f"--service-account-issuer={ISSUER}",
                f"--service-account-key-file={self.sa_pub}",
                f"--service-account-signing-key-file={self.sa_key}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--authorization-mode=Node,RBAC",
                "--enable-admission-plugins=OwnerReferencesPermissionEnforcement",
                "--endpoint-reconciler-type=none",
                f"--audit-policy-file={self.audit_policy}",
                f"--audit-log-path={self.audit_log}",
                "--audit-log-format=json",
                "--audit-log-mode=blocking",
                "--profiling=false",
                "--v=1",
                *self.apiserver_args,
            ],
        )
        self._wait(self._ready, "kube-apiserver", 90)
        kcm_kubeconfig = self.admin_kubeconfig
        self._spawn(
            "kube-controller-manager",
            [
                str(bins / "kube-controller-manager"),
                f"--kubeconfig={kcm_kubeconfig}",
                "--controllers=garbagecollector,namespace",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                f"--secure-port={self.kcm_port}",
                f"--cert-dir={self.dir / 'kcm-certs'}",
                "--concurrent-gc-syncs=5",
                "--v=1",
            ],
        )
        self.started_in = time.monotonic() - started
        return self

    def _ready(self) -> bool:
        try:
            return self.request("GET", "/readyz")[0] == 200
        except OSError:
            return False

    def _wait(self, check: Any, what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.procs:
                if proc.poll() is not None:
                    tail = (self.dir / f"{name}.log").read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")
            if check():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{what} did not become ready in {timeout:.0f} s (logs in {self.dir})")

    def stop(self) -> None:
        """Kill the three at once: a throwaway cluster needs no graceful drain (kube-apiserver's takes
        seconds). Also run at interpreter exit, so no process outlives an interrupted test run."""
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.kill()
        for _, proc in reversed(self.procs):
            proc.wait(10)
        self.procs.clear()
        for port in (self.etcd_port, self.peer_port, self.port, self.kcm_port):
            ports.release_port(port)

    def __enter__(self) -> ControlPlane:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *_: object) -> None:
        self.stop()

    def alive(self) -> bool:
        return all(proc.poll() is None for _, proc in self.procs)

    # ------------------------------------------------------------------ the API, as admin

    def _ssl(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca_path))
        context.load_cert_chain(str(self.admin_cert), str(self.admin_key))
        return context

    def request(
        self, method: str, path: str, body: Any = None, content_type: str = "application/json"
    ) -> tuple[int, Any]:
        """One admin request; (status, parsed JSON or text)."""
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        req = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": content_type}
        )
        try:
            with urllib.request.urlopen(req, context=self._ssl(), timeout=30) as answer:
                raw = answer.read()
                status = answer.status
        except urllib.error.HTTPError as exc:
            raw, status = exc.read(), exc.code
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")

    def kubectl(
        self,
        *args: str,
        kubeconfig: Path | None = None,
        input: str | None = None,
        check: bool = True,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        """The built kubectl, as admin unless another kubeconfig is given."""
        done = subprocess.run(
            [k8s_bin.binary("kubectl"), f"--kubeconfig={kubeconfig or self.admin_kubeconfig}", *args],
            capture_output=True,
            text=True,
            input=input,
            timeout=timeout,
            env={**os.environ, "KUBECONFIG": ""},
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}"
            )
        return done

    def apply(self, obj: dict[str, Any] | list[dict[str, Any]], *, kubeconfig: Path | None = None) -> None:
        docs = obj if isinstance(obj, list) else [obj]
        self.kubectl(
            "apply",
            "--server-side",
            "--force-conflicts",
            "-f",
            "-",
            input=yaml.safe_dump_all(docs),
            kubeconfig=kubeconfig,
        )

    def get(self, api_path: str) -> dict[str, Any] | None:
        status, body = self.request("GET", api_path)
        if status == 404:
            return None
        assert status == 200, (status, body)
        return body  # type: ignore[no-any-return]

    def create_namespace(self, name: str, labels: dict[str, str] | None = None) -> None:
        status, body = self.request(
            "POST",
            "/api/v1/namespaces",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}},
        )
        assert status in (201, 409), (status, body)

    def token(
        self, namespace: str, service_account: str, seconds: int = 3600, audiences: Sequence[str] = ()
    ) -> str:
        spec: dict[str, Any] = {"expirationSeconds": seconds}
        if audiences:
            spec["audiences"] = list(audiences)
        status, body = self.request(
            "POST",
            f"/api/v1/namespaces/{namespace}/serviceaccounts/{service_account}/token",
            {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec},
        )
        assert status == 201, (status, body)
        return str(body["status"]["token"])

    def mint_token(self, namespace: str, service_account: str, expires_in: float) -> str:
        """A ServiceAccount token as the API server issues it, signed with its signing key, that
        expires ``expires_in`` seconds from now (may be negative). The TokenRequest API refuses
        lifetimes under 10 minutes; the fault matrix needs a token that expires during a test."""
        sa = self.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/{service_account}")
        assert sa is not None, f"no ServiceAccount {namespace}/{service_account}"
        now = int(time.time())
        claims = {
            "aud": [ISSUER],
            "iss": ISSUER,
            "sub": f"system:serviceaccount:{namespace}:{service_account}",
            "iat": now - 60,
            "nbf": now - 60,
            "exp": now + int(expires_in),
            "kubernetes.io": {
                "namespace": namespace,
                "serviceaccount": {"name": service_account, "uid": sa["metadata"]["uid"]},
            },
        }

        def part(value: dict[str, Any]) -> str:
            raw = json.dumps(value, separators=(",", ":")).encode()
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

        signing_input = f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}"
        key = serialization.load_pem_private_key(self.sa_key.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"

    def token_file_kubeconfig(
        self, service_account: str, token_file: Path, namespace: str, path: Path
    ) -> Path:
        """A kubeconfig whose user reads its token from ``token_file`` (``tokenFile``), as the
        projected token the kubelet rotates."""
        return self._write_kubeconfig(path, service_account, {"tokenFile": str(token_file)}, namespace)

    def token_kubeconfig(self, namespace: str, service_account: str, path: Path | None = None) -> Path:
        """A kubeconfig that authenticates as the ServiceAccount (a bound token, 1 h)."""
        token = self.token(namespace, service_account)
        target = path or self.dir / f"{namespace}-{service_account}.kubeconfig"
        return self._write_kubeconfig(target, service_account, {"token": token}, namespace)

    def expose(self, namespace: str, service: str, port_name: str, port: int) -> None:
        """Point a Service at the operator on this host, as the kubelet and the endpoint controllers
        would (neither runs here). The API server's service proxy only goes to addresses that are
        pods' IPs, so a Pod object stands for the operator, with this host's address as its IP."""
        pod_name = f"{service}-operator"
        status, _ = self.request("GET", f"/api/v1/namespaces/{namespace}/pods/{pod_name}")
        if status == 404:
            pod = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": pod_name,
                    "namespace": namespace,
                    "labels": {"secretsync.test/endpoint": service},
                },
                "spec": {
                    "serviceAccountName": "secretsync",
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 65532,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "operator",
                            "image": "ghcr.io/secretsync/secretsync:0.1.0",
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "capabilities": {"drop": ["ALL"]},
                            },
                        }
                    ],
                },
            }
            created, body = self.request("POST", f"/api/v1/namespaces/{namespace}/pods", pod)
            assert created == 201, (created, body)
        patched, body = self.request(
            "PATCH",
            f"/api/v1/namespaces/{namespace}/pods/{pod_name}/status",
            {"status": {"phase": "Running", "podIP": self.host, "podIPs": [{"ip": self.host}]}},
            content_type="application/merge-patch+json",
        )
        assert patched == 200, (patched, body)
        slice_ = {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": f"{service}-test",
                "namespace": namespace,
                "labels": {"kubernetes.io/service-name": service},
            },
            "addressType": "IPv4",
            "endpoints": [
                {
                    "addresses": [self.host],
                    "conditions": {"ready": True},
                    "targetRef": {"kind": "Pod", "name": pod_name, "namespace": namespace},
                }
            ],
            "ports": [{"name": port_name, "port": port, "protocol": "TCP"}],
        }
        self.apply(slice_)

    def audit(self, username: str) -> list[dict[str, Any]]:
        """The audit events (stage ResponseComplete) of requests ``username`` made so far."""
        events = []
        if self.audit_log.exists():
            for line in self.audit_log.read_text().splitlines():
                event = json.loads(line)
                if (
                    event.get("stage") == "ResponseComplete"
                    and (event.get("user") or {}).get("username") == username
                ):
                    events.append(event)
        return events

    def logs(self, name: str) -> str:
        return (self.dir / f"{name}.log").read_text(errors="replace")


def _http_ok(url: str) -> bool:
    with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as answer:
        return bool(answer.status == 200)
    return False


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
