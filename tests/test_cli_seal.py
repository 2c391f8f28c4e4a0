"""``secretsync seal``, ``unseal`` and ``keys`` through click's CliRunner and as real subprocesses.

Sealed output is always checked with the independent decrypter of
test_crypto.py (written from COMPAT §1, not from secretsync.crypto): "ours
opens with theirs". The vectors prove "theirs opens with ours".
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization

from secretsync.cli import main
from tests.test_crypto import VECTORS, ec_key, independent_open, make_cert, vector_cert_path, vector_key

CANARY = "CANARY-9c1d-do-not-print"
CERT_2048 = str(vector_cert_path(2048))
CERT_4096 = str(vector_cert_path(4096))
KEY_2048 = str(VECTORS / "test-key-2048.pem")
KEY_4096 = str(VECTORS / "test-key-4096.pem")
SECRETSYNC = Path(sys.executable).with_name("secretsync")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real kubeconfig, no certificate from the caller's environment."""
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    for name in list(os.environ):
        if name.startswith(("SECRETSYNC_", "SEALED_SECRETS_")):
            monkeypatch.delenv(name)


def run(*args: str, input: str | bytes | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input, env=env, catch_exceptions=False)


def secret_yaml(
    name: str = "db-creds",
    namespace: str | None = "team-a",
    annotations: dict[str, str] | None = None,
    **data: str,
) -> str:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    if annotations:
        metadata["annotations"] = annotations
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "stringData": data or {"pw": "hunter2"},
    }
    return yaml.safe_dump(body, sort_keys=False)


def docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


def assert_clean_failure(result: Result, code: int = 1, *needles: str) -> str:
    """Exit code, exactly one line on stderr, no traceback, no canary, nothing on stdout."""
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and CANARY not in result.stderr
    assert result.stdout == ""
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# --------------------------------------------------------------------------- seal


def test_seal_multi_document_yaml_in_every_scope_opens_with_an_independent_decrypter() -> None:
    text = "---\n".join(
        [
            secret_yaml("strict-one", pw="s"),
            secret_yaml("ns-one", annotations={"sealedsecrets.bitnami.com/namespace-wide": "true"}, pw="n"),
            secret_yaml("cluster-one", annotations={"secretsync.io/scope": "cluster-wide"}, pw="c"),
        ]
    )
    result = run("seal", "--cert", CERT_4096, input=text)
    assert result.exit_code == 0, result.stderr
    out = docs(result.stdout)
    assert [d["metadata"]["annotations"]["secretsync.io/scope"] for d in out] == [
        "strict",
        "namespace-wide",
        "cluster-wide",
    ]
    key = vector_key(4096)
    for doc, label, plain in zip(
        out, (b"team-a/strict-one", b"team-a", b""), (b"s", b"n", b"c"), strict=True
    ):
        assert doc["apiVersion"] == "secretsync.io/v1alpha1" and doc["kind"] == "SealedSecret"
        assert doc["spec"]["encryptedData"]["pw"].startswith("Ag")
        assert independent_open(key, label, doc["spec"]["encryptedData"]["pw"]) == plain


@pytest.mark.parametrize("scope", ["strict", "namespace-wide", "cluster-wide"])
def test_scope_flag(scope: str) -> None:
    result = run("seal", "--cert", CERT_2048, "--scope", scope, input=secret_yaml(pw="v"))
    value = docs(result.stdout)[0]["spec"]["encryptedData"]["pw"]
    label = {"strict": b"team-a/db-creds", "namespace-wide": b"team-a", "cluster-wide": b""}[scope]
    assert independent_open(vector_key(2048), label, value) == b"v"


def test_json_in_json_out_and_lists() -> None:
    items = [json.loads(json.dumps(yaml.safe_load(secret_yaml(n, pw=n)))) for n in ("a", "b")]
    listed = json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
    result = run("seal", "--cert", CERT_2048, "-o", "json", input=listed)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["kind"] == "List" and [i["metadata"]["name"] for i in out["items"]] == ["a", "b"]
    single = run("seal", "--cert", CERT_2048, "-o", "json", input=json.dumps(items[0]))
    assert json.loads(single.stdout)["kind"] == "SealedSecret"
    concatenated = run("seal", "--cert", CERT_2048, input=json.dumps(items[0]) + "\n" + json.dumps(items[1]))
    assert [d["metadata"]["name"] for d in docs(concatenated.stdout)] == ["a", "b"]  # YAML by default


def test_yaml_list_input() -> None:
    items = [yaml.safe_load(secret_yaml(n)) for n in ("a", "b")]
    result = run(
        "seal",
        "--cert",
        CERT_2048,
        input=yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items}),
    )
    assert [d["metadata"]["name"] for d in docs(result.stdout)] == ["a", "b"]


def test_files_and_output_format_from_the_extension(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(secret_yaml("a"))
    (tmp_path / "b.json").write_text(json.dumps(yaml.safe_load(secret_yaml("b"))))
    files = ["-f", str(tmp_path / "a.yaml"), "-f", str(tmp_path / "b.json")]
    assert run("seal", "--cert", CERT_2048, *files, "-w", str(tmp_path / "out.json")).exit_code == 0
    assert json.loads((tmp_path / "out.json").read_text())["kind"] == "List"
    assert run("seal", "--cert", CERT_2048, *files, "-w", str(tmp_path / "out.yml")).exit_code == 0
    assert len(docs((tmp_path / "out.yml").read_text())) == 2
    assert (
        run("seal", "--cert", CERT_2048, *files, "-o", "yaml", "-w", str(tmp_path / "o.json")).exit_code == 0
    )
    assert not (tmp_path / "o.json").read_text().startswith("{")


def test_template_fields_copied_and_plaintext_copies_stripped() -> None:
    body = yaml.safe_load(secret_yaml(pw=CANARY))
    body["metadata"].update(
        labels={"app": "db"},
        annotations={
            "kubectl.kubernetes.io/last-applied-configuration": json.dumps({"stringData": {"pw": CANARY}}),
            "team": "payments",
        },
        uid="0000-1111",
        resourceVersion="7",
        creationTimestamp="2026-01-01T00:00:00Z",
    )
    body.update(type="kubernetes.io/basic-auth", immutable=True)
    result = run("seal", "--cert", CERT_2048, input=yaml.safe_dump(body))
    assert CANARY not in result.stdout and "0000-1111" not in result.stdout
    (out,) = docs(result.stdout)
    assert out["spec"]["template"] == {
        "metadata": {"labels": {"app": "db"}, "annotations": {"team": "payments"}},
        "type": "kubernetes.io/basic-auth",
        "immutable": True,
    }


def test_the_key_fingerprint_is_recorded() -> None:
    (out,) = docs(run("seal", "--cert", CERT_2048, input=secret_yaml()).stdout)
    info = run("keys", "info", CERT_2048).stdout
    fingerprint = out["metadata"]["annotations"]["secretsync.io/key-fingerprint"]
    assert f"fingerprint: {fingerprint}" in info


def test_namespace_from_the_flag_and_from_the_kubeconfig_context(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "dev",
                "contexts": [
                    {"name": "prod", "context": {"cluster": "c", "namespace": "wrong"}},
                    {"name": "dev", "context": {"cluster": "c", "namespace": "from-context"}},
                ],
            }
        )
    )
    env = {"KUBECONFIG": f"{kubeconfig}{os.pathsep}{tmp_path / 'other'}"}
    (out,) = docs(run("seal", "--cert", CERT_2048, input=secret_yaml(namespace=None), env=env).stdout)
    assert out["metadata"]["namespace"] == "from-context"
    (out,) = docs(
        run("seal", "--cert", CERT_2048, "-n", "flag", input=secret_yaml(namespace=None), env=env).stdout
    )
    assert out["metadata"]["namespace"] == "flag"
    result = run("seal", "--cert", CERT_2048, "-n", "other", input=secret_yaml())
    assert_clean_failure(result, 1, "Secret team-a/db-creds", "conflicts with --namespace")


def test_allow_empty_data() -> None:
    empty = yaml.safe_dump(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "e", "namespace": "n"}}
    )
    assert_clean_failure(run("seal", "--cert", CERT_2048, input=empty), 1, "--allow-empty-data")
    result = run("seal", "--cert", CERT_2048, "--allow-empty-data", input=empty)
    assert docs(result.stdout)[0]["spec"]["encryptedData"] == {}


# --------------------------------------------------------------------------- raw


@pytest.mark.parametrize(
    ("scope", "args", "label"),
    [
        ("strict", ["--name", "db", "--namespace", "team-a"], b"team-a/db"),
        ("namespace-wide", ["--namespace", "team-a"], b"team-a"),
        ("cluster-wide", [], b""),
    ],
)
def test_raw_prints_bare_base64_with_the_scope_label(scope: str, args: list[str], label: bytes) -> None:
    result = run("seal", "--raw", "--cert", CERT_2048, "--scope", scope, *args, input=b"p\xc3\xa4ss\n")
    assert result.exit_code == 0, result.stderr
    assert not result.stdout.endswith("\n") and "\n" not in result.stdout
    assert independent_open(vector_key(2048), label, result.stdout) == b"p\xc3\xa4ss\n"


def test_raw_from_file(tmp_path: Path) -> None:
    (tmp_path / "value").write_bytes(bytes(range(256)))
    result = run(
        "seal",
        "--raw",
        "--cert",
        CERT_2048,
        "--name",
        "n",
        "--namespace",
        "ns",
        "--from-file",
        str(tmp_path / "value"),
    )
    assert independent_open(vector_key(2048), b"ns/n", result.stdout) == bytes(range(256))


# --------------------------------------------------------------------------- merge-into


def test_merge_into_keeps_yaml_and_every_other_key(tmp_path: Path) -> None:
    target = tmp_path / "sealed.yaml"
    run(
        "seal",
        "--cert",
        CERT_2048,
        "--scope",
        "namespace-wide",
        "-w",
        str(target),
        input=secret_yaml(a="1", b="2"),
    )
    before = docs(target.read_text())[0]
    before_mode = stat.S_IMODE(target.stat().st_mode)
    result = run(
        "seal",
        "--cert",
        CERT_2048,
        "--merge-into",
        str(target),
        input=secret_yaml("other", "ns", b="new", c="3"),
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    text = target.read_text()
    assert text.startswith("apiVersion: secretsync.io/v1alpha1\n")  # still YAML, not JSON
    after = docs(text)[0]
    assert after["metadata"]["name"] == "db-creds" and after["metadata"]["namespace"] == "team-a"
    assert list(after["spec"]["encryptedData"]) == ["a", "b", "c"]
    assert after["spec"]["encryptedData"]["a"] == before["spec"]["encryptedData"]["a"]
    key = vector_key(2048)
    assert independent_open(key, b"team-a", after["spec"]["encryptedData"]["b"]) == b"new"  # the file's scope
    assert stat.S_IMODE(target.stat().st_mode) == before_mode


def test_merge_into_keeps_json(tmp_path: Path) -> None:
    target = tmp_path / "sealed.json"
    run("seal", "--cert", CERT_2048, "-w", str(target), input=secret_yaml(a="1"))
    assert target.read_text().startswith("{")
    assert (
        run("seal", "--cert", CERT_2048, "--merge-into", str(target), input=secret_yaml(b="2")).exit_code == 0
    )
    merged = json.loads(target.read_text())
    assert set(merged["spec"]["encryptedData"]) == {"a", "b"}


def test_merge_into_refuses_conflicts_and_leaves_the_file_alone(tmp_path: Path) -> None:
    target = tmp_path / "sealed.yaml"
    run("seal", "--cert", CERT_2048, "-w", str(target), input=secret_yaml(a="1"))
    original = target.read_bytes()
    result = run(
        "seal",
        "--cert",
        CERT_2048,
        "--merge-into",
        str(target),
        "--scope",
        "cluster-wide",
        input=secret_yaml(),
    )
    assert_clean_failure(result, 2, "conflicts")
    bad = run("seal", "--cert", CERT_2048, "--merge-into", str(target), input=f"stringData: [{CANARY}")
    assert_clean_failure(bad, 1, "not valid YAML")
    assert target.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sealed.yaml"]  # no temp files left behind


# --------------------------------------------------------------------------- certificates


@pytest.fixture
def cert_server(tmp_path: Path) -> Iterator[str]:
    """A loopback HTTP server for --cert http://... (serves tmp_path)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_cert_from_env_file_url_and_http(tmp_path: Path, cert_server: str) -> None:
    (tmp_path / "cert.pem").write_bytes(vector_cert_path(2048).read_bytes())
    for env, args in (
        ({"SECRETSYNC_CERT": CERT_2048}, []),
        ({}, ["--cert", f"file://{CERT_2048}"]),
        ({}, ["--cert", f"{cert_server}/cert.pem"]),
    ):
        result = run("seal", *args, input=secret_yaml(pw="v"), env=env)
        assert result.exit_code == 0, result.stderr
        value = docs(result.stdout)[0]["spec"]["encryptedData"]["pw"]
        assert independent_open(vector_key(2048), b"team-a/db-creds", value) == b"v"
    assert_clean_failure(
        run("seal", "--cert", f"{cert_server}/missing.pem", input=secret_yaml()), 1, "HTTP 404"
    )


def test_bitnami_certificates_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "bitnami.crt").write_bytes(make_cert(vector_key(2048), bitnami_key_usage=True))
    result = run("seal", "--cert", str(tmp_path / "bitnami.crt"), input=secret_yaml(pw="v"))
    assert result.exit_code == 0, result.stderr
    info = run("keys", "info", str(tmp_path / "bitnami.crt"))
    assert info.exit_code == 0 and "RSA 2048 bits" in info.stdout and "CN=sealed-secret" in info.stdout


@pytest.mark.parametrize("problem", ["expired", "not-yet-valid", "ec", "garbage", "missing", "private-key"])
def test_unusable_certificates_fail_with_one_line_and_write_nothing(tmp_path: Path, problem: str) -> None:
    now = datetime.now(UTC)
    key = vector_key(2048)
    contents = {
        "expired": make_cert(key, not_before=now - timedelta(days=30), days=10),
        "not-yet-valid": make_cert(key, not_before=now + timedelta(days=2), days=10),
        "ec": make_cert(ec_key()),
        "garbage": b"not a certificate",
        "private-key": vector_key(2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    }
    cert = tmp_path / "cert.pem"
    if problem in contents:
        cert.write_bytes(contents[problem])
    out = tmp_path / "out.yaml"
    out.write_text("previous content\n")
    result = run("seal", "--cert", str(cert), "-w", str(out), input=secret_yaml(pw=CANARY))
    expected = {
        "expired": "expired on",
        "not-yet-valid": "is not valid before",
        "ec": "not RSA",
        "garbage": "not a PEM or DER certificate",
        "missing": "cannot read certificate",
        "private-key": "private key, not a certificate",
    }[problem]
    assert_clean_failure(result, 1, expected)
    assert out.read_text() == "previous content\n"


# --------------------------------------------------------------------------- bad input and usage


@pytest.mark.parametrize(
    ("stdin", "needles"),
    [
        (
            f"apiVersion: v1\nkind: Secret\nmetadata: {{name: a}}\nstringData:\n  pw: [{CANARY}\n",
            ["stdin: not valid YAML", "line"],
        ),
        (f'{{"kind": "Secret", "stringData": {{"pw": "{CANARY}"', ["stdin: not valid JSON"]),
        (
            f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm}}\ndata: {{pw: {CANARY}}}\n",
            ["stdin document 1", "ConfigMap"],
        ),
        (secret_yaml(namespace="Team_A", pw=CANARY), ["db-creds", "not a valid Kubernetes namespace"]),
        (
            f"apiVersion: v1\nkind: Secret\nmetadata: {{name: a, namespace: b}}\ndata: {{pw: '{CANARY}!'}}\n",
            ["Secret b/a", "data.pw is not valid base64"],
        ),
        (
            secret_yaml(pw=CANARY)
            + "---\n"
            + f"apiVersion: v1\nkind: Secret\nmetadata: {{name: z, namespace: n}}\ndata: {{k: '{CANARY}'}}\n",
            ["Secret n/z"],
        ),
        ("", ["no Secret manifests in stdin"]),
        (b"\xff\xfe\x00garbage", ["not UTF-8"]),
    ],
)
def test_bad_input_fails_cleanly_and_leaves_the_output_file_unchanged(
    tmp_path: Path, stdin: str | bytes, needles: list[str]
) -> None:
    out = tmp_path / "sealed.yaml"
    out.write_text("previous content\n")
    result = run("seal", "--cert", CERT_2048, "-w", str(out), input=stdin)
    assert_clean_failure(result, 1, *needles)
    assert out.read_text() == "previous content\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sealed.yaml"]


@pytest.mark.parametrize(
    "args",
    [
        ["seal", "--raw", "--merge-into", "x.yaml"],
        ["seal", "--raw", "-f", "x.yaml"],
        ["seal", "--from-file", "x"],
        ["seal", "--merge-into", "x.yaml", "-w", "y.yaml"],
        ["seal", "--raw", "--namespace", "n"],  # strict needs --name
        ["seal", "--raw", "--scope", "namespace-wide"],  # needs a namespace (no kubeconfig)
        ["seal", "--raw", "--name", "n", "--namespace", "ns", "--from-file", "a,b"],
        ["seal", "--validate", "--re-encrypt"],
        ["seal", "--fetch-cert", "--raw"],
        ["seal", "--recovery-unseal"],  # needs --recovery-private-key
        ["seal", "--recovery-private-key", "k.pem"],  # needs --recovery-unseal
        ["seal", "--validate", "-w", "out.yaml"],
        ["seal", "--validate", "--name", "x"],
        ["seal", "--scope", "galaxy"],
        ["seal", "-o", "toml"],
        ["unseal"],  # --private-key is required
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = run(*args, "--cert", CERT_2048, input="") if args[0] == "seal" else run(*args, input="")
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr


def test_no_certificate_is_a_usage_error() -> None:
    assert_clean_failure(run("seal", input=secret_yaml()), 2, "SECRETSYNC_CERT")


# --------------------------------------------------------------------------- unseal


def _bitnami_pairs() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    all_docs = docs((VECTORS / "bitnami-sealedsecrets-4096.yaml").read_text())
    return list(zip(all_docs[0::2], all_docs[1::2], strict=True))


def test_the_bitnami_manifests_unseal_to_the_expected_secrets(tmp_path: Path) -> None:
    pairs = _bitnami_pairs()
    sealed = tmp_path / "bitnami.yaml"
    sealed.write_text(yaml.safe_dump_all([s for s, _ in pairs]))
    result = run("unseal", "--private-key", KEY_4096, "-f", str(sealed))
    assert result.exit_code == 0, result.stderr
    secrets = docs(result.stdout)
    assert len(secrets) == 3
    for got, (_, expected) in zip(secrets, pairs, strict=True):
        expected["metadata"].pop("annotations")  # the vector file's own note
        assert got["apiVersion"] == "v1" and got["kind"] == "Secret"
        assert got["metadata"] == expected["metadata"]
        assert got["data"] == expected["data"]
        assert got["type"] == "Opaque"


def _key_files(tmp_path: Path) -> dict[str, Path]:
    key = vector_key(2048)
    pkcs8 = tmp_path / "pkcs8.pem"
    pkcs8.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {"generateName": "sealed-secrets-key", "name": "sealed-secrets-keyabcde"},
        "data": {
            "tls.key": base64.b64encode(Path(KEY_2048).read_bytes()).decode(),
            "tls.crt": base64.b64encode(vector_cert_path(2048).read_bytes()).decode(),
        },
    }
    backup = tmp_path / "backup.yaml"
    backup.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [key_secret]}))
    single = tmp_path / "single.json"
    single.write_text(json.dumps(key_secret))
    return {"pkcs1": Path(KEY_2048), "pkcs8": pkcs8, "list-backup": backup, "secret-backup": single}


@pytest.mark.parametrize("kind", ["pkcs1", "pkcs8", "list-backup", "secret-backup"])
def test_unseal_accepts_pem_keys_and_secret_backups(tmp_path: Path, kind: str) -> None:
    sealed = run("seal", "--cert", CERT_2048, input=secret_yaml(pw="hunter2")).stdout
    result = run("unseal", "-k", str(_key_files(tmp_path)[kind]), input=sealed)
    assert result.exit_code == 0, result.stderr
    (out,) = docs(result.stdout)
    assert base64.b64decode(out["data"]["pw"]) == b"hunter2"


def test_unseal_tries_every_key_and_reads_bitnami_objects(tmp_path: Path) -> None:
    ours = run(
        "seal", "--cert", CERT_2048, "--scope", "cluster-wide", input=secret_yaml("ours", pw="1")
    ).stdout
    theirs = yaml.safe_dump(_bitnami_pairs()[2][0])  # bitnami.com/v1alpha1, cluster-wide, RSA-4096
    result = run("unseal", "-k", KEY_4096, "-k", KEY_2048, "-o", "json", input=ours + "---\n" + theirs)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert [i["metadata"]["name"] for i in out["items"]] == ["ours", "db-creds"]


def test_unseal_with_the_wrong_key_names_the_object_and_the_keys(tmp_path: Path) -> None:
    sealed = run("seal", "--cert", CERT_2048, input=secret_yaml(password=CANARY, token=CANARY)).stdout
    out = tmp_path / "plain.yaml"
    out.write_text("previous\n")
    result = run("unseal", "-k", KEY_4096, "-w", str(out), input=sealed)
    assert_clean_failure(result, 1, "SealedSecret team-a/db-creds", "password, token", "2048-bit")
    renamed = sealed.replace("name: db-creds", "name: renamed")
    result = run("unseal", "-k", KEY_2048, input=renamed)
    assert_clean_failure(result, 1, "SealedSecret team-a/renamed", "password, token", "does not open it")
    assert out.read_text() == "previous\n"


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"hello", "no private key in it"),
        (b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", "cannot be read"),
        (yaml.safe_dump({"kind": "Secret", "data": {"tls.key": "%%%"}}).encode(), "not valid base64"),
    ],
)
def test_unusable_private_key_files(tmp_path: Path, content: bytes, needle: str) -> None:
    path = tmp_path / "key"
    path.write_bytes(content)
    assert_clean_failure(run("unseal", "-k", str(path), input="{}"), 1, f"private key file {path}", needle)


def test_unseal_writes_plaintext_files_with_mode_0600_and_notes_templates(tmp_path: Path) -> None:
    (sealed,) = docs(run("seal", "--cert", CERT_2048, input=secret_yaml(user="u")).stdout)
    sealed["spec"]["template"] = {"data": {"dsn": "postgres://{{ .user }}@db", "static": "s"}}
    out = tmp_path / "plain.yaml"
    result = run("unseal", "-k", KEY_2048, "-w", str(out), input=yaml.safe_dump(sealed))
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "template data dsn copied unrendered" in result.stderr
    data = docs(out.read_text())[0]["data"]
    assert base64.b64decode(data["static"]) == b"s" and base64.b64decode(data["user"]) == b"u"


def test_unseal_refuses_non_sealed_secrets() -> None:
    assert_clean_failure(
        run("unseal", "-k", KEY_2048, input=secret_yaml()), 1, "stdin document 1", "not a SealedSecret"
    )


# --------------------------------------------------------------------------- keys


def test_keys_generate_and_info(tmp_path: Path) -> None:
    out_dir = tmp_path / "new" / "keys"
    result = run("keys", "generate", "--out-dir", str(out_dir))
    assert result.exit_code == 0, result.stderr
    key_path, cert_path = out_dir / "tls.key", out_dir / "tls.crt"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    key = serialization.load_pem_private_key(key_path.read_bytes(), None)
    assert key.key_size == 4096  # type: ignore[union-attr]
    assert key_path.read_bytes().startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    info = run("keys", "info", str(cert_path))
    assert info.exit_code == 0
    assert "key:         RSA 4096 bits" in info.stdout and "valid, 3649 days left" in info.stdout
    fingerprint = info.stdout.split("fingerprint: ")[1].split()[0]
    assert f"fingerprint: {fingerprint}" in result.stdout

    # The pair works end to end: seal with the certificate, unseal with the key.
    sealed = run("seal", "--cert", str(cert_path), input=secret_yaml(pw="v")).stdout
    assert fingerprint in sealed
    assert (
        base64.b64decode(docs(run("unseal", "-k", str(key_path), input=sealed).stdout)[0]["data"]["pw"])
        == b"v"
    )

    again = run("keys", "generate", "--out-dir", str(out_dir))
    assert_clean_failure(again, 1, "already exists", "--force")
    assert run("keys", "generate", "--out-dir", str(out_dir), "--force", "--bits", "2048").exit_code == 0
    assert "RSA 2048 bits" in run("keys", "info", str(cert_path)).stdout


def test_keys_info_reports_expiry(tmp_path: Path) -> None:
    old = tmp_path / "old.crt"
    old.write_bytes(make_cert(vector_key(2048), not_before=datetime(2020, 1, 1, tzinfo=UTC), days=30))
    info = run("keys", "info", str(old))
    assert info.exit_code == 0
    assert "status:      expired on 2020-01-31T00:00:00Z" in info.stdout
    assert "not before:  2020-01-01T00:00:00Z" in info.stdout
    assert_clean_failure(run("keys", "info", str(tmp_path / "none.crt")), 1, "cannot read certificate")


# --------------------------------------------------------------------------- real subprocesses


def subprocess_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECRETSYNC_")}
    env["KUBECONFIG"] = str(tmp_path / "no-kubeconfig")
    return env


def sh(args: list[str], tmp_path: Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        args, input=stdin, capture_output=True, env=subprocess_env(tmp_path), timeout=60, check=False
    )


def test_console_script_seals_and_unseals(tmp_path: Path) -> None:
    assert SECRETSYNC.exists(), f"the console script is missing: {SECRETSYNC}"
    text = (secret_yaml("a", pw="1") + "---\n" + secret_yaml("b", pw="2")).encode()
    sealed = sh([str(SECRETSYNC), "seal", "--cert", CERT_4096], tmp_path, text)
    assert sealed.returncode == 0, sealed.stderr
    for doc, plain in zip(docs(sealed.stdout.decode()), (b"1", b"2"), strict=True):
        label = f"team-a/{doc['metadata']['name']}".encode()
        assert independent_open(vector_key(4096), label, doc["spec"]["encryptedData"]["pw"]) == plain
    unsealed = sh([str(SECRETSYNC), "unseal", "-k", KEY_4096], tmp_path, sealed.stdout)
    assert unsealed.returncode == 0, unsealed.stderr
    assert [base64.b64decode(d["data"]["pw"]) for d in docs(unsealed.stdout.decode())] == [b"1", b"2"]


def test_python_dash_m_raw(tmp_path: Path) -> None:
    args = [
        sys.executable,
        "-m",
        "secretsync",
        "seal",
        "--raw",
        "--cert",
        CERT_2048,
        "--scope",
        "cluster-wide",
    ]
    result = sh(args, tmp_path, b"value")
    assert result.returncode == 0, result.stderr
    assert independent_open(vector_key(2048), b"", result.stdout.decode()) == b"value"


def test_failing_subprocess_keeps_the_output_file_and_the_secret(tmp_path: Path) -> None:
    out = tmp_path / "sealed.yaml"
    out.write_text("previous content\n")
    bad = f"apiVersion: v1\nkind: Secret\nmetadata: {{name: a, namespace: b}}\ndata:\n  pw: '{CANARY}'\n"
    result = sh([str(SECRETSYNC), "seal", "--cert", CERT_2048, "-w", str(out)], tmp_path, bad.encode())
    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert stderr.count("\n") == 1 and stderr.startswith("error: Secret b/a: data.pw is not valid base64")
    assert CANARY not in stderr and "Traceback" not in stderr and result.stdout == b""
    assert out.read_text() == "previous content\n"
    usage = sh([str(SECRETSYNC), "seal", "--raw", "--merge-into", str(out), "--cert", CERT_2048], tmp_path)
    assert usage.returncode == 2


FORBIDDEN_ON_THE_SEAL_PATH = (
    "kopf",
    "kubernetes",
    "aiohttp",
    "hvac",
    "boto3",
    "botocore",
    "google",
    "re2",
    "secretsync.gotemplate",
)


def test_sealing_imports_no_heavy_dependency(tmp_path: Path) -> None:
    """The seal path must start fast: nothing of the operator or the providers, no x509 or serialization."""
    (tmp_path / "secret.yaml").write_text(secret_yaml(a="1", b="2"))
    args = [sys.executable, "-X", "importtime", "-m", "secretsync", "seal", "--cert", CERT_4096]
    result = sh([*args, "-f", str(tmp_path / "secret.yaml"), "-w", str(tmp_path / "out.yaml")], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.decode().splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "secretsync.sealing" in imported and "yaml" in imported
    top_level = {name.split(".")[0] for name in imported}
    assert not top_level & {*FORBIDDEN_ON_THE_SEAL_PATH, "prometheus_client"}, top_level
    assert "cryptography.x509" not in imported
    assert "cryptography.hazmat.primitives.serialization" not in imported
    # The CLI's other commands and seal's online modes load only when asked for (a lazy group).
    others = {f"secretsync.cli.{m}" for m in ("keys", "online", "operator", "recovery")}
    assert not imported & others, imported & others


# --------------------------------------------------------------------------- kubeseal's flags and habits


def kubeconfig_file(path: Path, namespace: str | None, *, context: str = "dev") -> Path:
    ctx: dict[str, Any] = {"cluster": "c", "user": "u"}
    if namespace:
        ctx["namespace"] = namespace
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": context,
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [
                    {"name": context, "context": ctx},
                    {"name": "other", "context": {"cluster": "c", "user": "u", "namespace": "from-other"}},
                ],
            }
        )
    )
    return path


def test_a_secret_without_namespace_gets_the_contexts_or_default(tmp_path: Path) -> None:
    """As kubectl and kubeseal: -n, else the kubeconfig context's namespace, else default."""
    no_ns = secret_yaml(namespace=None, pw="v")

    def sealed_ns(*args: str, env: dict[str, str] | None = None) -> str:
        result = run("seal", "--cert", CERT_2048, *args, input=no_ns, env=env)
        assert result.exit_code == 0, result.stderr
        (out,) = docs(result.stdout)
        value = out["spec"]["encryptedData"]["pw"]
        ns: str = out["metadata"]["namespace"]
        assert independent_open(vector_key(2048), f"{ns}/db-creds".encode(), value) == b"v"
        return ns

    assert sealed_ns() == "default"  # no kubeconfig at all
    with_ns = kubeconfig_file(tmp_path / "with-ns", "from-context")
    without_ns = kubeconfig_file(tmp_path / "without-ns", None)
    assert sealed_ns(env={"KUBECONFIG": str(with_ns)}) == "from-context"
    assert sealed_ns(env={"KUBECONFIG": str(without_ns)}) == "default"
    assert sealed_ns("--kubeconfig", str(with_ns)) == "from-context"
    assert sealed_ns("--kubeconfig", str(with_ns), "--context", "other") == "from-other"
    assert sealed_ns("--kubeconfig", str(with_ns), "-n", "flag") == "flag"
    # $KUBECONFIG lists are merged as kubectl merges them: a missing file is skipped
    merged = os.pathsep.join([str(tmp_path / "missing"), str(without_ns), str(with_ns)])
    assert sealed_ns(env={"KUBECONFIG": merged}) == "default"
    # A cluster-wide Secret without a namespace stays without (kubeseal leaves it empty too).
    result = run("seal", "--cert", CERT_2048, "--scope", "cluster-wide", input=no_ns)
    assert "namespace" not in docs(result.stdout)[0]["metadata"]
    # An explicit kubeconfig or context that cannot be used is one line, never a guess.
    missing = run("seal", "--cert", CERT_2048, "--kubeconfig", str(tmp_path / "nope"), input=no_ns)
    assert_clean_failure(missing, 1, "cannot read kubeconfig")
    unknown = run("seal", "--cert", CERT_2048, "--kubeconfig", str(with_ns), "--context", "prod", input=no_ns)
    assert_clean_failure(unknown, 1, "--context 'prod'", "no such context")
    broken = tmp_path / "broken"
    broken.write_text(f"current-context: [{CANARY}\n")
    assert_clean_failure(
        run("seal", "--cert", CERT_2048, input=no_ns, env={"KUBECONFIG": str(broken)}), 1, "kubeconfig"
    )


def test_raw_takes_the_context_namespace_or_default_only_with_a_kubeconfig(tmp_path: Path) -> None:
    args = ["seal", "--raw", "--cert", CERT_2048, "--scope", "namespace-wide"]
    with_ns = kubeconfig_file(tmp_path / "with-ns", "ctx-ns")
    without_ns = kubeconfig_file(tmp_path / "without-ns", None)
    value = run(*args, "--kubeconfig", str(with_ns), input="v").stdout
    assert independent_open(vector_key(2048), b"ctx-ns", value) == b"v"
    value = run(*args, "--kubeconfig", str(without_ns), input="v").stdout
    assert independent_open(vector_key(2048), b"default", value) == b"v"
    assert_clean_failure(run(*args, input="v"), 2, "needs --namespace")  # no kubeconfig: kubeseal fails too


def test_kubeseal_file_flags_and_name_override(tmp_path: Path) -> None:
    (tmp_path / "in.yaml").write_text(secret_yaml(pw="v"))
    out = tmp_path / "out.json"
    args = ["--secret-file", str(tmp_path / "in.yaml"), "--sealed-secret-file", str(out), "--name", "renamed"]
    result = run("seal", "--cert", CERT_2048, *args)
    assert result.exit_code == 0, result.stderr
    sealed = json.loads(out.read_text())  # .json: JSON, as kubeseal's default
    assert sealed["metadata"]["name"] == "renamed"
    assert (
        independent_open(vector_key(2048), b"team-a/renamed", sealed["spec"]["encryptedData"]["pw"]) == b"v"
    )
    two = secret_yaml("a") + "---\n" + secret_yaml("b")
    assert_clean_failure(
        run("seal", "--cert", CERT_2048, "--name", "x", input=two), 2, "--name renames one Secret"
    )


@pytest.mark.parametrize(
    "spelling", ["--from-file={}", "--from-file=password={}", "--from-file=/dev/null,{}"]
)
def test_raw_from_file_takes_kubectls_syntax(tmp_path: Path, spelling: str) -> None:
    (tmp_path / "pw.txt").write_bytes(b"from-file")
    args = ["seal", "--raw", "--cert", CERT_2048, "--name", "db", "-n", "ns"]
    result = run(*args, spelling.format(tmp_path / "pw.txt"))
    if spelling.startswith("--from-file=/dev/null,"):  # two values: kubeseal refuses too
        assert_clean_failure(result, 2, "a single --from-file")
        return
    assert result.exit_code == 0, result.stderr
    assert independent_open(vector_key(2048), b"ns/db", result.stdout) == b"from-file"


def test_raw_ignores_the_output_format_as_kubeseal_does() -> None:
    """Aliases like `kubeseal -o yaml` must keep working with --raw."""
    result = run("seal", "--raw", "--cert", CERT_2048, "--scope", "cluster-wide", "-o", "yaml", input="v")
    assert result.exit_code == 0, result.stderr
    assert independent_open(vector_key(2048), b"", result.stdout) == b"v"


def test_certificate_variables_and_precedence(tmp_path: Path) -> None:
    """SEALED_SECRETS_CERT is read; SECRETSYNC_CERT wins over it and --cert over both."""
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")

    def opens_with(bits: int, *args: str, env: dict[str, str]) -> bool:
        result = run("seal", *args, input=secret_yaml(pw="v"), env=env)
        assert result.exit_code == 0, result.stderr
        value = docs(result.stdout)[0]["spec"]["encryptedData"]["pw"]
        return independent_open(vector_key(bits), b"team-a/db-creds", value) == b"v"

    assert opens_with(2048, env={"SEALED_SECRETS_CERT": CERT_2048})
    assert opens_with(4096, env={"SEALED_SECRETS_CERT": str(garbage), "SECRETSYNC_CERT": CERT_4096})
    assert opens_with(2048, "--cert", CERT_2048, env={"SEALED_SECRETS_CERT": str(garbage)})
    failing = run("seal", input=secret_yaml(), env={"SEALED_SECRETS_CERT": str(garbage)})
    assert_clean_failure(failing, 1, f"certificate {garbage}")


def test_fetch_cert_with_cert_prints_that_certificate_only(tmp_path: Path) -> None:
    """kubeseal --fetch-cert --cert X prints X; a private key in the same file is never printed."""
    combined = tmp_path / "combined.pem"
    combined.write_bytes(Path(KEY_2048).read_bytes() + vector_cert_path(2048).read_bytes())
    out = tmp_path / "cert.pem"
    result = run("seal", "--fetch-cert", "--cert", str(combined), "-w", str(out), "-o", "yaml")
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes().strip() == vector_cert_path(2048).read_bytes().strip()
    assert b"PRIVATE KEY" not in out.read_bytes()
    printed = run("seal", "--fetch-cert", env={"SEALED_SECRETS_CERT": CERT_4096})
    assert printed.stdout.strip() == vector_cert_path(4096).read_text().strip()


def test_recovery_unseal_takes_comma_separated_and_repeated_keys(tmp_path: Path) -> None:
    sealed = tmp_path / "sealed.yaml"
    a = run("seal", "--cert", CERT_2048, input=secret_yaml("a", pw="1")).stdout
    b = run("seal", "--cert", CERT_4096, input=secret_yaml("b", pw="2")).stdout
    sealed.write_text(a + "---\n" + b)
    backup = _key_files(tmp_path)["list-backup"]  # holds the 2048-bit key
    out = tmp_path / "plain.yaml"
    for keys in (
        ["--recovery-private-key", f"{KEY_4096},{KEY_2048}"],
        ["--recovery-private-key", KEY_4096, "--recovery-private-key", str(backup)],
    ):
        result = run("seal", "--recovery-unseal", *keys, "-f", str(sealed), "-w", str(out), "-o", "yaml")
        assert result.exit_code == 0, result.stderr
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        assert [base64.b64decode(d["data"]["pw"]) for d in docs(out.read_text())] == [b"1", b"2"]
    wrong = run("seal", "--recovery-unseal", "--recovery-private-key", KEY_4096, input=a)
    assert_clean_failure(wrong, 1, "SealedSecret team-a/a", "2048-bit")


def test_kubectl_connection_flags_fail_with_one_line_and_never_echo_the_value() -> None:
    for args in (
        ["--token", CANARY],
        ["-s", "https://x"],
        ["--insecure-skip-tls-verify"],
        ["--as-group", "g"],
    ):
        result = run("seal", "--cert", CERT_2048, *args, input=secret_yaml())
        line = assert_clean_failure(result, 2, "--kubeconfig/--context")
        assert line.startswith(f"error: {args[0] if args[0] != '-s' else '--server'}:")


def test_unread_kubeseal_variables_are_named_on_stderr_without_their_values() -> None:
    env = {"SEALED_SECRETS_SCOPE": "cluster-wide", "SEALED_SECRETS_FORMAT": CANARY}
    result = run("seal", "--cert", CERT_2048, input=secret_yaml(pw="v"), env=env)
    assert result.exit_code == 0, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "SEALED_SECRETS_FORMAT, SEALED_SECRETS_SCOPE" in line and CANARY not in line
    assert docs(result.stdout)[0]["metadata"]["annotations"]["secretsync.io/scope"] == "strict"


def test_last_applied_copies_of_both_tools_are_stripped() -> None:
    body = yaml.safe_load(secret_yaml(pw=CANARY))
    body["metadata"]["annotations"] = {
        "kubecfg.ksonnet.io/last-applied-configuration": json.dumps({"stringData": {"pw": CANARY}}),
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps({"stringData": {"pw": CANARY}}),
    }
    result = run("seal", "--cert", CERT_2048, input=yaml.safe_dump(body))
    assert result.exit_code == 0 and CANARY not in result.stdout


def test_merge_into_with_a_format_and_the_input_labels_and_annotations(tmp_path: Path) -> None:
    """kubeseal merges the input Secret's labels and annotations into the template and writes -o."""
    target = tmp_path / "sealed.yaml"
    run("seal", "--cert", CERT_2048, "-w", str(target), input=secret_yaml(a="1"))
    more = yaml.safe_load(secret_yaml(b="2"))
    more["metadata"].update(labels={"tier": "db"}, annotations={"team": "x", "secretsync.io/scope": "strict"})
    result = run(
        "seal", "--cert", CERT_2048, "--merge-into", str(target), "-o", "json", input=yaml.safe_dump(more)
    )
    assert result.exit_code == 0, result.stderr
    merged = json.loads(target.read_text())
    assert merged["spec"]["template"]["metadata"] == {"labels": {"tier": "db"}, "annotations": {"team": "x"}}
    assert set(merged["spec"]["encryptedData"]) == {"a", "b"}


def test_failed_seals_leave_no_empty_or_partial_output_file(tmp_path: Path) -> None:
    """-w writes only on success: a new file is not created, an old one is left as it was."""
    fresh = tmp_path / "fresh.yaml"
    bad = secret_yaml("a", pw="1") + "---\n" + secret_yaml("b", namespace="Bad_NS", pw=CANARY)
    for args, stdin in (
        (["--cert", CERT_2048], bad),  # the first Secret seals, the second fails
        (["--cert", str(tmp_path / "missing.crt")], secret_yaml()),
        ([], secret_yaml()),  # no certificate and no kubeconfig to fetch one
    ):
        result = run("seal", *args, "-w", str(fresh), input=stdin)
        assert result.exit_code in (1, 2) and CANARY not in result.stderr
        assert not fresh.exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == []
    sh_result = sh([str(SECRETSYNC), "seal", "--cert", CERT_2048, "-w", str(fresh)], tmp_path, bad.encode())
    assert sh_result.returncode == 1 and not fresh.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_terminal_on_stdin_is_announced_instead_of_a_silent_wait(tmp_path: Path) -> None:
    """kubeseal's "(tty detected ...)": one line on stderr, then the Secret typed in is sealed."""
    import pty

    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [str(SECRETSYNC), "seal", "--cert", CERT_2048],
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=subprocess_env(tmp_path),
        )
        os.close(slave)
        watchdog = threading.Timer(60, proc.kill)  # never hang the suite if the prompt never comes
        watchdog.start()
        assert proc.stderr is not None and proc.stdout is not None
        line = proc.stderr.readline().decode()  # printed before reading: nothing typed yet
        assert line == "reading the Secret from stdin; pipe one in or use -f FILE\n"
        os.write(master, secret_yaml(pw="typed").encode() + b"\x04")  # then Ctrl-D: end of input
        out, err = proc.communicate(timeout=60)
        watchdog.cancel()
    finally:
        os.close(master)
    assert proc.returncode == 0, err
    value = docs(out.decode())[0]["spec"]["encryptedData"]["pw"]
    assert independent_open(vector_key(2048), b"team-a/db-creds", value) == b"typed"
    piped = sh([str(SECRETSYNC), "seal", "--cert", CERT_2048], tmp_path, secret_yaml().encode())
    assert piped.returncode == 0 and piped.stderr == b""  # no message when something is piped in


def test_sealing_without_cert_against_an_unreachable_cluster_is_one_line(tmp_path: Path) -> None:
    kubeconfig = kubeconfig_file(tmp_path / "kubeconfig", "team-a")  # its server is 127.0.0.1:9
    out = tmp_path / "sealed.yaml"
    result = run("seal", "--kubeconfig", str(kubeconfig), "-w", str(out), input=secret_yaml(pw=CANARY))
    line = assert_clean_failure(
        result, 1, "cannot reach the operator at service secretsync-system/secretsync"
    )
    assert line.endswith(
        "(to seal offline, pass --cert PATH|URL (or set SECRETSYNC_CERT or SEALED_SECRETS_CERT))"
    )
    assert not out.exists()
