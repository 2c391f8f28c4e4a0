"""kubeseal compatibility, checked against an independent model of Bitnami's controller, and the
README's sealing commands run as written in a fresh shell.

``bitnami_unseal`` below is written from Bitnami's source, not from secretsync: the label comes
from ``SealedSecret.Unseal`` -> ``labelFor(s.GetObjectMeta())`` -> ``SecretScope`` in
pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go, i.e. ONLY from the SealedSecret's own
``metadata.annotations`` ``sealedsecrets.bitnami.com/cluster-wide`` / ``namespace-wide`` equal to
``"true"`` (never ``secretsync.io/scope``, never ``spec.template``), and the value format from
pkg/crypto's ``HybridDecrypt``, with bare ``cryptography`` primitives.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from secretsync import sealing
from secretsync.cli import main
from tests.support import k8s_bin
from tests.test_crypto import VECTORS, independent_seal, vector_cert_path, vector_key

ROOT = Path(__file__).resolve().parents[1]
SECRETSYNC = ROOT / ".venv" / "bin" / "secretsync"
CLUSTER_WIDE = "sealedsecrets.bitnami.com/cluster-wide"
NAMESPACE_WIDE = "sealedsecrets.bitnami.com/namespace-wide"
CANARY = "CANARY-kubeseal-7f3a"


# --------------------------------------------------------------------------- Bitnami's controller, modelled


class BitnamiUnsealError(Exception):
    pass


def bitnami_label(sealed: dict[str, Any]) -> bytes:
    """EncryptionLabel(ns, name, SecretScope(own metadata)): cluster-wide wins, "true" only."""
    metadata = sealed["metadata"]
    annotations = metadata.get("annotations") or {}
    if annotations.get(CLUSTER_WIDE) == "true":
        return b""
    if annotations.get(NAMESPACE_WIDE) == "true":
        return metadata.get("namespace", "").encode()
    return f"{metadata.get('namespace', '')}/{metadata['name']}".encode()


def bitnami_hybrid_decrypt(key: rsa.RSAPrivateKey, label: bytes, value: str) -> bytes:
    """HybridDecrypt: u16 big-endian RSA length, RSA-OAEP(SHA-256, label) session key, AES-GCM zero nonce."""
    raw = base64.b64decode(value, validate=True)
    size = int.from_bytes(raw[:2], "big")
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=label)
    try:
        session_key = key.decrypt(raw[2 : 2 + size], oaep)
    except ValueError:
        raise BitnamiUnsealError("no key could decrypt secret") from None
    return AESGCM(session_key).decrypt(bytes(12), raw[2 + size :], None)


def bitnami_unseal(sealed: dict[str, Any], key: rsa.RSAPrivateKey) -> dict[str, bytes]:
    label = bitnami_label(sealed)
    return {k: bitnami_hybrid_decrypt(key, label, v) for k, v in sealed["spec"]["encryptedData"].items()}


# --------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    for name in list(os.environ):
        if name.startswith(("SECRETSYNC_", "SEALED_SECRETS_")):
            monkeypatch.delenv(name)


def run(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def plain_secret(name: str = "db", namespace: str | None = "team-a", **annotations: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "stringData": {"password": CANARY, "user": "admin"},
    }


# --------------------------------------------------------------------------- ours -> Bitnami's controller


@pytest.mark.parametrize("scope", ["strict", "namespace-wide", "cluster-wide"])
def test_secretsync_output_opens_with_bitnamis_controller_in_every_scope(scope: str) -> None:
    result = run(
        "seal", "--cert", str(vector_cert_path(2048)), "--scope", scope, input=yaml.safe_dump(plain_secret())
    )
    assert result.exit_code == 0, result.stderr
    sealed = yaml.safe_load(result.stdout)
    key = vector_key(2048)
    assert bitnami_unseal(sealed, key) == {"password": CANARY.encode(), "user": b"admin"}
    # Exactly what kubeseal writes: on the object (what the controller reads) and on the template.
    expected = {"namespace-wide": {NAMESPACE_WIDE: "true"}, "cluster-wide": {CLUSTER_WIDE: "true"}}.get(
        scope, {}
    )
    annotations = sealed["metadata"]["annotations"]
    assert {k: v for k, v in annotations.items() if k.startswith("sealedsecrets.bitnami.com/")} == expected
    assert annotations["secretsync.io/scope"] == scope
    template_annotations = ((sealed["spec"].get("template") or {}).get("metadata") or {}).get("annotations")
    assert (template_annotations or {}) == expected
    # Rolling back: only the apiVersion changes, and the label still matches.
    rolled_back = {**sealed, "apiVersion": "bitnami.com/v1alpha1"}
    assert bitnami_unseal(rolled_back, key)["user"] == b"admin"
    # The label really is bound: a rename breaks strict, a move breaks all but cluster-wide.
    moved = {**sealed, "metadata": {**sealed["metadata"], "namespace": "elsewhere"}}
    if scope == "cluster-wide":
        assert bitnami_unseal(moved, key)["user"] == b"admin"
    else:
        with pytest.raises(BitnamiUnsealError):
            bitnami_unseal(moved, key)


@pytest.mark.parametrize("annotation", [NAMESPACE_WIDE, CLUSTER_WIDE])
def test_scope_from_kubeseal_style_input_annotations_opens_with_bitnamis_controller(annotation: str) -> None:
    """kubeseal habit: the scope comes from the input Secret's own annotation."""
    body = yaml.safe_dump(plain_secret(**{annotation: "true", "team": "payments"}))
    result = run("seal", "--cert", str(vector_cert_path(2048)), input=body)
    assert result.exit_code == 0, result.stderr
    sealed = yaml.safe_load(result.stdout)
    assert sealed["metadata"]["annotations"][annotation] == "true"
    assert sealed["spec"]["template"]["metadata"]["annotations"] == {annotation: "true", "team": "payments"}
    assert bitnami_unseal(sealed, vector_key(2048))["password"] == CANARY.encode()


def test_merge_into_an_old_file_adds_kubeseals_annotation(tmp_path: Path) -> None:
    """A namespace-wide file sealed before this change (secretsync.io/scope only) becomes openable
    by Bitnami's controller when keys are merged into it."""
    target = tmp_path / "sealed.yaml"
    cert = str(vector_cert_path(2048))
    result = run(
        "seal",
        "--cert",
        cert,
        "--scope",
        "namespace-wide",
        "-w",
        str(target),
        input=yaml.safe_dump(plain_secret()),
    )
    assert result.exit_code == 0, result.stderr
    old = yaml.safe_load(target.read_text())
    del old["metadata"]["annotations"][NAMESPACE_WIDE]
    del old["spec"]["template"]
    target.write_text(yaml.safe_dump(old))
    with pytest.raises(BitnamiUnsealError):
        bitnami_unseal(old, vector_key(2048))  # strict label for a namespace-wide value
    more = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x", "labels": {"tier": "db"}},
            "stringData": {"token": "t"}}  # fmt: skip
    result = run(
        "seal", "--cert", str(vector_cert_path(2048)), "--merge-into", str(target), input=yaml.safe_dump(more)
    )
    assert result.exit_code == 0, result.stderr
    merged = yaml.safe_load(target.read_text())
    assert merged["metadata"]["annotations"][NAMESPACE_WIDE] == "true"
    assert merged["spec"]["template"]["metadata"] == {
        "labels": {"tier": "db"},  # merged from the input Secret, as kubeseal does
        "annotations": {NAMESPACE_WIDE: "true"},
    }
    assert bitnami_unseal(merged, vector_key(2048)) == {
        "password": CANARY.encode(),
        "user": b"admin",
        "token": b"t",
    }


# --------------------------------------------------------------------------- kubeseal's output -> secretsync


def kubeseal_output(scope: str, *, name: str = "db", namespace: str = "team-a") -> dict[str, Any]:
    """A SealedSecret as kubeseal writes one: bitnami.com/v1alpha1, the scope annotation on the
    object and (with the copied Secret metadata) on the template, values sealed with the label
    Bitnami's rule derives."""
    annotations = {"namespace-wide": {NAMESPACE_WIDE: "true"}, "cluster-wide": {CLUSTER_WIDE: "true"}}.get(
        scope, {}
    )
    sealed: dict[str, Any] = {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": None},
        "spec": {
            "template": {
                "metadata": {"name": name, "namespace": namespace, "creationTimestamp": None},
                "type": "Opaque",
            },
            "encryptedData": {},
        },
    }
    if annotations:
        sealed["metadata"]["annotations"] = dict(annotations)
        sealed["spec"]["template"]["metadata"]["annotations"] = dict(annotations)
    public = vector_key(2048).public_key()
    label = bitnami_label(sealed)
    sealed["spec"]["encryptedData"] = {
        "password": independent_seal(public, label, CANARY.encode()),
        "user": independent_seal(public, label, b"admin"),
    }
    return sealed


@pytest.mark.parametrize("scope", ["strict", "namespace-wide", "cluster-wide"])
def test_kubeseal_output_opens_with_secretsyncs_unseal(tmp_path: Path, scope: str) -> None:
    sealed = kubeseal_output(scope)
    path = tmp_path / "sealed.json"
    path.write_text(yaml.safe_dump(sealed))
    key = str(VECTORS / "test-key-2048.pem")
    for args in (
        ["unseal", "-k", key, "-f", str(path)],
        ["seal", "--recovery-unseal", "--recovery-private-key", key, "-f", str(path)],
    ):
        result = run(*args)
        assert result.exit_code == 0, result.stderr
        out = yaml.safe_load(result.stdout)
        assert base64.b64decode(out["data"]["password"]) == CANARY.encode()
        assert out["metadata"]["name"] == "db" and out["metadata"]["namespace"] == "team-a"
    ring_key = vector_key(2048)
    from secretsync import crypto

    result_obj = sealing.unseal(sealed, crypto.KeyRing([crypto.KeyEntry.from_key(ring_key)]))
    assert result_obj.ok and result_obj.identity.scope == scope


def test_both_controllers_ignore_a_template_that_claims_a_wider_scope() -> None:
    """CVE-2026-22728: a cluster-wide value in a strict object opens in neither controller."""
    sealed = kubeseal_output("cluster-wide")
    del sealed["metadata"]["annotations"]  # the object says strict; only the template says cluster-wide
    assert sealed["spec"]["template"]["metadata"]["annotations"] == {CLUSTER_WIDE: "true"}
    with pytest.raises(BitnamiUnsealError):
        bitnami_unseal(sealed, vector_key(2048))
    from secretsync import crypto

    result = sealing.unseal(sealed, crypto.KeyRing([crypto.KeyEntry.from_key(vector_key(2048))]))
    assert result.identity.scope == "strict" and not result.ok


# --------------------------------------------------------------------------- the README, as written


def _readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else None]


def _sh_blocks(section: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def _fixtures(work: Path) -> None:
    """The files the README's commands name (the commands themselves are run verbatim)."""
    (work / "keys").mkdir()
    (work / "sealed").mkdir()
    (work / "keys" / "prod.crt").write_bytes(vector_cert_path(2048).read_bytes())
    app = plain_secret("app", "team-a")
    (work / "secret.yaml").write_text(yaml.safe_dump(app))
    more = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "more"},
        "stringData": {"api-key": "k-1"},
    }
    (work / "more-keys.yaml").write_text(yaml.safe_dump(more))
    (work / "password.txt").write_text("pw-from-file")
    key_secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {"name": "sealing-key-1", "namespace": "secretsync-system"},
        "data": {
            "tls.key": base64.b64encode((VECTORS / "test-key-2048.pem").read_bytes()).decode(),
            "tls.crt": base64.b64encode(vector_cert_path(2048).read_bytes()).decode(),
        },
    }
    backup = {"apiVersion": "v1", "kind": "List", "items": [key_secret]}
    (work / "sealing-keys.backup.yaml").write_text(yaml.safe_dump(backup))


def test_the_readme_sealing_commands_run_as_written_in_a_fresh_shell(tmp_path: Path) -> None:
    """HOME is an empty directory, no KUBECONFIG, no cluster: kubectl's Secret has no namespace."""
    section = _readme_section("Sealing secrets (offline)")
    blocks = _sh_blocks(section)
    assert len(blocks) == 4, "sealing, recovery, keys, kubeseal habits"
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    _fixtures(work)
    path = os.pathsep.join([k8s_bin.bin_dir().as_posix(), str(SECRETSYNC.parent), "/usr/bin", "/bin"])
    env = {"HOME": str(home), "PATH": path, "LANG": "C.UTF-8"}
    script = "set -euo pipefail\n" + "\n".join(blocks)
    done = subprocess.run(
        ["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    assert CANARY not in done.stderr

    key = vector_key(2048)
    app = yaml.safe_load((work / "sealed" / "app.json").read_text())  # the kubeseal-habits block
    assert bitnami_unseal(app, key)["password"] == CANARY.encode()
    db = yaml.safe_load((work / "sealed" / "db.yaml").read_text())
    assert db["metadata"]["namespace"] == "default"  # no kubeconfig: default, as kubectl does
    assert bitnami_unseal(db, key) == {"password": b"s3cr3t", "api-key": b"k-1"}  # merged in place
    plain = yaml.safe_load((work / "db.plain.yaml").read_text())
    assert {k: base64.b64decode(v) for k, v in plain["data"].items()} == {
        "password": b"s3cr3t",
        "api-key": b"k-1",
    }
    assert (home / "secure" / "keys" / "tls.key").stat().st_mode & 0o777 == 0o600
    assert "kind: Secret" in done.stdout  # --recovery-unseal of the last block prints the Secret


def test_the_readme_lists_every_kubeseal_flag_and_variable() -> None:
    table = _readme_section("Sealing secrets (offline)").split("### Coming from kubeseal", 1)[1]
    flags = [
        "--cert", "--controller-name", "--controller-namespace", "--kubeconfig", "--context",
        "--namespace", "--scope", "--secret-file", "--sealed-secret-file", "--format", "--merge-into",
        "--raw", "--from-file", "--name", "--allow-empty-data", "--validate", "--re-encrypt", "--rotate",
        "--recovery-unseal",
        "--recovery-private-key", "--fetch-cert", "--version", "--help", "--token", "--server", "--user",
        "--cluster", "--as", "--as-group", "--as-uid", "--username", "--password", "--client-certificate",
        "--client-key", "--certificate-authority", "--insecure-skip-tls-verify", "--tls-server-name",
        "--proxy-url", "--disable-compression", "--request-timeout", "SEALED_SECRETS_CERT",
        "SEALED_SECRETS_CONTROLLER_NAME", "SEALED_SECRETS_CONTROLLER_NAMESPACE", "SEALED_SECRETS_<FLAG>",
        "KUBECONFIG",
    ]  # fmt: skip
    missing = [flag for flag in flags if f"`{flag}" not in table and f"{flag}`" not in table]
    assert not missing, missing
