"""The online CLI and the README's real-cluster commands, as written, against the real API server."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from secretsync.remote import Target
from tests.cluster.conftest import ROOT, OperatorStarter, wait_for
from tests.support import k8s_bin
from tests.support.rate_limit import Neighbour, run_until_it_waits
from tests.support.real_cluster import ControlPlane

CANARY = "canary-cli-real-Wq2e"


def _run(*args: str, kubeconfig: Path, input: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    return subprocess.run(
        [sys.executable, "-m", "secretsync", *args],
        capture_output=True,
        text=True,
        input=input,
        env=env,
        timeout=180,
        check=False,
    )


def test_fetch_validate_reencrypt_and_keys(
    installed: ControlPlane, start_operator: OperatorStarter, namespace: str, tmp_path: Path
) -> None:
    start_operator()
    admin = installed.admin_kubeconfig
    cert = tmp_path / "cert.pem"
    assert _run("fetch-cert", "-w", str(cert), kubeconfig=admin).returncode == 0
    plain = yaml.safe_dump_all(
        [
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": f"s{i}", "namespace": namespace},
                "stringData": {"k": CANARY},
            }
            for i in range(3)
        ]
    )
    sealed = tmp_path / "sealed.yaml"
    result = _run("seal", "--cert", str(cert), "-f", "-", "-w", str(sealed), kubeconfig=admin, input=plain)
    assert result.returncode == 0, result.stderr
    result = _run("validate", str(sealed), kubeconfig=admin)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok: ") == 3

    # a new key, then re-encryption through the proxy: every value now opens with the newest key
    listed_before = _run("keys", "list", kubeconfig=admin)
    assert listed_before.returncode == 0, listed_before.stderr
    rotated = _run("keys", "rotate", kubeconfig=admin)
    assert rotated.returncode == 0, rotated.stderr
    new_cert = tmp_path / "new.pem"
    wait_for(
        lambda: (
            _run("fetch-cert", "-w", str(new_cert), kubeconfig=admin).returncode == 0
            and new_cert.read_bytes() != cert.read_bytes()
        ),
        30,
        "the new certificate to be served",
    )
    before = sealed.read_text()
    result = _run("reencrypt", str(sealed), kubeconfig=admin)
    assert result.returncode == 0, result.stderr
    assert sealed.read_text() != before
    assert _run("validate", str(sealed), kubeconfig=admin).returncode == 0
    backup = tmp_path / "keys.backup.yaml"
    result = _run("keys", "backup", "-w", str(backup), kubeconfig=admin)
    assert result.returncode == 0, result.stderr
    assert len(yaml.safe_load(backup.read_text())["items"]) >= 2
    offline = _run("unseal", "-k", str(backup), "-f", str(sealed), kubeconfig=admin)
    assert offline.returncode == 0, offline.stderr
    opened = [base64.b64decode(doc["data"]["k"]).decode() for doc in yaml.safe_load_all(offline.stdout)]
    assert opened == [CANARY] * 3


def test_validate_through_the_proxy_waits_out_a_shared_rate_limit(
    installed: ControlPlane, start_operator: OperatorStarter, namespace: str, tmp_path: Path
) -> None:
    """Behind the real API server's service proxy every user shares one verify bucket (the operator
    sees the API server's address). Another user keeps it empty: the proxy passes the 429 and its
    Retry-After through, and `validate` waits, then checks 250 documents in three batches."""
    start_operator()
    admin = installed.admin_kubeconfig
    cert = tmp_path / "cert.pem"
    assert _run("fetch-cert", "-w", str(cert), kubeconfig=admin).returncode == 0
    plain = yaml.safe_dump_all(
        [
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": f"s{i}", "namespace": namespace},
                "stringData": {"k": CANARY},
            }
            for i in range(250)
        ]
    )
    sealed = tmp_path / "sealed.yaml"
    result = _run("seal", "--cert", str(cert), "-f", "-", "-w", str(sealed), kubeconfig=admin, input=plain)
    assert result.returncode == 0, result.stderr
    with Neighbour(Target(kubeconfig=str(admin))) as neighbour:
        result = run_until_it_waits(["validate", str(sealed)], neighbour, env={"KUBECONFIG": str(admin)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok: ") == 250
    assert "rate-limiting (429: too many verify requests" in result.stderr
    assert "invalid" not in result.stderr and CANARY not in result.stdout + result.stderr
    assert neighbour.retry_after and all(value and int(value) >= 1 for value in neighbour.retry_after)


def _readme_block(heading: str) -> list[str]:
    """The shell lines of the first ```sh block after ``heading`` in README.md, as written."""
    text = (ROOT / "README.md").read_text()
    start = text.index(heading)
    block = re.search(r"```sh\n(.*?)```", text[start:], re.DOTALL)
    assert block is not None, heading
    lines, current = [], ""
    for raw in block.group(1).splitlines():
        line = raw.split("  #")[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip():
            lines.append(current.strip())
        current = ""
    return lines


def test_the_readmes_real_cluster_commands_as_written(
    installed: ControlPlane, start_operator: OperatorStarter, tmp_path: Path
) -> None:
    """Every command of the install and GitOps blocks that needs no kubelet, Argo CD or git remote."""
    start_operator()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "kubectl").symlink_to(k8s_bin.binary("kubectl"))
    (bindir / "secretsync").symlink_to(Path(sys.executable).with_name("secretsync"))
    for ns in ("team-a", "team-b"):  # the namespaced overlay expects them (deploy/README.md)
        installed.create_namespace(ns)
    env = {
        **os.environ,
        "PATH": f"{bindir}:{os.environ['PATH']}",
        "KUBECONFIG": str(installed.admin_kubeconfig),
    }
    (tmp_path / "keys").mkdir()
    (tmp_path / "apps" / "team-a").mkdir(parents=True)
    (tmp_path / "deploy").symlink_to(ROOT / "deploy")
    (tmp_path / "crds").symlink_to(ROOT / "crds")
    skipped = ("rollout status", "argocd", "git ")  # no kubelet, no Argo CD, no git remote here
    ran = []
    for heading in ("## From `make demo` to a real cluster", "### The GitOps flow (Argo CD)"):
        for line in _readme_block(heading):
            if any(word in line for word in skipped):
                continue
            command = line.replace("--from-literal=password=...", f"--from-literal=password={CANARY}")
            done = subprocess.run(
                ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
            )
            assert done.returncode == 0, f"{command}\n{done.stderr[-2000:]}"
            ran.append(command)
    assert any("apply --server-side -k deploy/overlays/namespaced" in c for c in ran)
    assert any("secretsync validate" in c for c in ran)
    installed.kubectl("apply", "-f", str(tmp_path / "apps" / "team-a" / "db-sealed.yaml"))
    installed.kubectl("wait", "--for=condition=Ready", "--timeout=60s", "sealedsecret/db", "-n", "team-a")
    # the namespaced overlay dropped the base's ClusterRoleBinding: put the base back for the others
    installed.kubectl("apply", "--server-side", "-k", str(ROOT / "deploy" / "base"))
