"""The online CLI (fetch-cert, validate, reencrypt, keys list/rotate/backup) against a real operator."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from secretsync import crypto
from tests.support.kube_emulator import wait_for
from tests.support.operator_proc import OperatorProcess
from tests.support.sealed_env import OPERATOR_NS, SealedEnv, fresh_key, key_secret, seal, secret, vector_key

NS = "team-a"
CANARY = "canary-online-K2m9"


def cli(
    *args: str, input: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "secretsync", *args],
        capture_output=True,
        text=True,
        input=input,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def env(kube_emulator: Any) -> SealedEnv:
    kube_emulator.ensure_namespace(OPERATOR_NS)
    kube_emulator.ensure_namespace(NS)
    key_pem, cert_pem = vector_key(4096)
    kube_emulator.create(key_secret("sealing-key-vectors", key_pem, cert_pem))
    return SealedEnv(kube_emulator)


@pytest.fixture
def running(env: SealedEnv, operator_factory: Any) -> OperatorProcess:
    proc: OperatorProcess = operator_factory()
    proc.wait_ready()
    return proc


def test_fetch_cert_by_url_then_seal_offline(
    running: OperatorProcess, env: SealedEnv, tmp_path: Path
) -> None:
    out = tmp_path / "cert.pem"
    result = cli("fetch-cert", "--controller-url", running.url, "-w", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().strip() == vector_key(4096)[1].strip()
    plain = yaml.safe_dump(secret("fetched", NS, {"k": CANARY}))
    sealed = cli("seal", "--cert", str(out), input=plain)
    assert sealed.returncode == 0, sealed.stderr
    env.emu.create(yaml.safe_load(sealed.stdout))
    env.wait_ready("fetched", NS)


def test_fetch_cert_and_validate_through_the_api_server_proxy(
    running: OperatorProcess, env: SealedEnv, tmp_path: Path
) -> None:
    """The default path: the kubeconfig's API server proxies to the operator's Service."""
    service_meta = {"name": "secretsync", "namespace": OPERATOR_NS}
    ports = [{"name": "http", "port": 8080}]
    env.emu.create(
        {"apiVersion": "v1", "kind": "Service", "metadata": service_meta, "spec": {"ports": ports}}
    )
    env.emu.register_service_backend(OPERATOR_NS, "secretsync", "http", running.url)
    kube = ["--kubeconfig", str(env.emu.kubeconfig_path)]
    result = cli("fetch-cert", *kube)
    assert result.returncode == 0, result.stderr
    assert result.stdout.encode().strip() == vector_key(4096)[1].strip()
    sealed_file = tmp_path / "s.yaml"
    sealed_file.write_text(
        yaml.safe_dump(seal(result.stdout.encode(), secret("via-proxy", NS, {"k": CANARY})))
    )
    result = cli("validate", *kube, str(sealed_file))
    assert result.returncode == 0, result.stderr
    wrong_ns = cli("fetch-cert", *kube, "--controller-namespace", "nowhere")
    assert wrong_ns.returncode == 1
    assert "service nowhere/secretsync" in wrong_ns.stderr


def test_fetch_cert_unreachable_is_one_clear_line() -> None:
    result = cli("fetch-cert", "--controller-url", "http://127.0.0.1:9")
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot reach the operator at http://127.0.0.1:9")
    assert "Traceback" not in result.stderr


def test_validate_names_every_bad_object(running: OperatorProcess, tmp_path: Path) -> None:
    _, cert = vector_key(4096)
    good = seal(cert, secret("good", NS, {"k": CANARY}))
    moved = seal(cert, secret("moved", NS, {"k": CANARY}))
    moved["metadata"]["name"] = "moved-elsewhere"
    ok_file = tmp_path / "ok.yaml"
    ok_file.write_text(yaml.safe_dump(good))
    bad_file = tmp_path / "bad.yaml"
    bad_file.write_text(yaml.safe_dump_all([good, moved]))
    result = cli("validate", "--controller-url", running.url, str(ok_file))
    assert result.returncode == 0, result.stderr
    assert f"ok: {NS}/good" in result.stdout
    result = cli("validate", "--controller-url", running.url, str(ok_file), str(bad_file))
    assert result.returncode == 1
    assert f"invalid: {NS}/moved-elsewhere" in result.stderr
    assert f"{NS}/good" not in result.stderr
    assert "1 of 3 SealedSecrets cannot be unsealed" in result.stderr
    assert CANARY not in result.stdout + result.stderr


def test_validate_a_whole_repository_waits_out_the_rate_limit(
    running: OperatorProcess, tmp_path: Path
) -> None:
    """More documents than the verify burst (10 per client, 40 for everyone): 429s are waited out."""
    _, cert = vector_key(4096)
    repo = tmp_path / "repo.yaml"
    repo.write_text(yaml.safe_dump_all([seal(cert, secret(f"s{i}", NS, {"k": CANARY})) for i in range(30)]))
    result = cli("validate", "--controller-url", running.url, str(repo))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok: ") == 30


def test_reencrypt_rewrites_files_in_place(running: OperatorProcess, env: SealedEnv, tmp_path: Path) -> None:
    _, old_cert = vector_key(4096)
    tree = tmp_path / "repo" / "apps"
    tree.mkdir(parents=True)
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"a": "b"}}
    yaml_file = tree / "db.yaml"
    yaml_file.write_text(yaml.safe_dump_all([configmap, seal(old_cert, secret("db", NS, {"k": CANARY}))]))
    json_file = tree / "api.json"
    json_file.write_text(json.dumps(seal(old_cert, secret("api", NS, {"k": "v"}))))
    (tree / "notes.txt").write_text("not a manifest")
    key_pem, cert_pem = fresh_key(2048)
    env.emu.create(key_secret("newer", key_pem, cert_pem))
    wait_for(lambda: running.get("/v1/cert.pem")[1].encode().strip() == cert_pem.strip(), timeout=10)

    result = cli("reencrypt", "--controller-url", running.url, str(tmp_path / "repo"))
    assert result.returncode == 0, result.stderr
    assert "re-encrypted 2 SealedSecrets in 2 files" in result.stderr
    docs = list(yaml.safe_load_all(yaml_file.read_text()))
    assert docs[0] == configmap
    new_key = crypto.load_private_keys(key_pem)[0]
    assert (
        crypto.decrypt(new_key, f"{NS}/db".encode(), docs[1]["spec"]["encryptedData"]["k"]) == CANARY.encode()
    )
    api = json.loads(json_file.read_text())  # JSON stays JSON
    assert crypto.decrypt(new_key, f"{NS}/api".encode(), api["spec"]["encryptedData"]["k"]) == b"v"


def test_reencrypt_leaves_a_file_alone_when_one_object_fails(
    running: OperatorProcess, tmp_path: Path
) -> None:
    _, cert = vector_key(4096)
    bad = seal(cert, secret("x", NS, {"k": "v"}))
    bad["metadata"]["namespace"] = "other"
    path = tmp_path / "mixed.yaml"
    original = yaml.safe_dump_all([seal(cert, secret("y", NS, {"k": "v"})), bad])
    path.write_text(original)
    result = cli("reencrypt", "--controller-url", running.url, str(path))
    assert result.returncode == 1
    assert "document 2 (other/x)" in result.stderr
    assert path.read_text() == original


def test_keys_list_rotate_backup_then_offline_unseal(
    running: OperatorProcess, env: SealedEnv, tmp_path: Path
) -> None:
    kube = ["--kubeconfig", str(env.emu.kubeconfig_path)]
    listed = cli("keys", "list", *kube)
    assert listed.returncode == 0, listed.stderr
    assert "sealing-key-vectors" in listed.stdout and "(newest: seals)" in listed.stdout

    rotated = cli("keys", "rotate", "--bits", "2048", *kube)
    assert rotated.returncode == 0, rotated.stderr
    new_cert = wait_for(
        lambda: (lambda c: c if c.encode().strip() != vector_key(4096)[1].strip() else None)(
            running.get("/v1/cert.pem")[1]
        ),
        timeout=10,
    )
    assert crypto.load_certificate(new_cert.encode()).key_size == 2048
    listed = cli("keys", "list", *kube)
    assert listed.stdout.count("active") == 2

    sealed = seal(new_cert.encode(), secret("after-rotate", NS, {"k": CANARY}))
    backup = tmp_path / "keys.backup.yaml"
    result = cli("keys", "backup", "-w", str(backup), *kube)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    sealed_file = tmp_path / "s.yaml"
    sealed_file.write_text(yaml.safe_dump(sealed))
    plain = cli("unseal", "--private-key", str(backup), "-f", str(sealed_file))
    assert plain.returncode == 0, plain.stderr
    out = yaml.safe_load(plain.stdout)
    import base64

    assert base64.b64decode(out["data"]["k"]) == CANARY.encode()
