"""deploy/overlays/ha on the real server: two replicas with --leader-elect on a real Lease; the
standby takes over when the leader is killed, and all of it with the shipped RBAC only."""

from __future__ import annotations

import base64
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from tests.cluster.conftest import ROOT, OperatorStarter, wait_for
from tests.support.real_cluster import ControlPlane


def _seal(cert: Path, name: str, namespace: str, value: str) -> str:
    plain = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace},
            "stringData": {"k": value},
        }
    )
    done = subprocess.run(
        [sys.executable, "-m", "secretsync", "seal", "--cert", str(cert)],
        input=plain,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def _value(cluster: ControlPlane, namespace: str, name: str) -> bytes | None:
    secret = cluster.get(f"/api/v1/namespaces/{namespace}/secrets/{name}")
    return base64.b64decode(secret["data"]["k"]) if secret else None


def test_leader_failover_on_a_real_lease(
    installed: ControlPlane, start_operator: OperatorStarter, namespace: str, tmp_path: Path
) -> None:
    installed.kubectl("apply", "--server-side", "-k", str(ROOT / "deploy" / "overlays" / "ha"))
    first = start_operator("--leader-elect")
    first.wait_reconciling(timeout=30)
    second = start_operator("--leader-elect", expose=False)  # a standby: live and Ready, not reconciling
    time.sleep(2)
    assert not second.reconciling()
    lease = installed.get(
        "/apis/coordination.k8s.io/v1/namespaces/secretsync-system/leases/secretsync-operator"
    )
    assert lease is not None and lease["spec"]["holderIdentity"]
    cert = tmp_path / "cert.pem"
    fetched = subprocess.run(
        [
            sys.executable,
            "-m",
            "secretsync",
            "fetch-cert",
            "--kubeconfig",
            str(installed.admin_kubeconfig),
            "-w",
            str(cert),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert fetched.returncode == 0, fetched.stderr
    installed.kubectl("apply", "-f", "-", input=_seal(cert, "before", namespace, "one"))
    wait_for(lambda: _value(installed, namespace, "before") == b"one", 30, "the leader to unseal")
    assert first.proc is not None
    first.proc.send_signal(signal.SIGKILL)  # no Lease release: the standby must wait for expiry
    first.proc.wait(10)
    second.wait_reconciling(timeout=60)
    installed.kubectl("apply", "-f", "-", input=_seal(cert, "after", namespace, "two"))
    wait_for(lambda: _value(installed, namespace, "after") == b"two", 30, "the new leader to unseal")
    holder = installed.get(
        "/apis/coordination.k8s.io/v1/namespaces/secretsync-system/leases/secretsync-operator"
    )
    assert holder is not None and holder["spec"]["holderIdentity"] != lease["spec"]["holderIdentity"]
