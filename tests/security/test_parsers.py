"""Attacks on ``secretsync seal`` (and the other commands that read manifests), as hostile files.

Each input is what an attacker commits for a CI job or a colleague to seal: deep nesting
(a segfault at 100k levels), alias amplification, a second ``metadata.namespace`` that a
reviewer does not see, endless input. Every one must end as one line on stderr, exit code
1, no traceback, nothing written, and never the planted canary.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from secretsync import manifests
from secretsync.cli import main
from secretsync.errors import InputError
from tests.test_crypto import VECTORS, vector_cert_path

CANARY = "CANARY-91be"
CERT = str(vector_cert_path(2048))
KEY = str(VECTORS / "test-key-2048.pem")
MiB = 1024 * 1024
SECRETSYNC = Path(sys.executable).with_name("secretsync")
HEAD = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: team-a\n"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    for name in ("SECRETSYNC_CERT", "SECRETSYNC_PRIVATE_KEY"):
        monkeypatch.delenv(name, raising=False)


def seal(stdin: str | bytes, *args: str) -> Result:
    return CliRunner().invoke(main, ["seal", "--cert", CERT, *args], input=stdin, catch_exceptions=False)


def assert_one_clean_line(stderr: str, exit_code: int, stdout: str, *needles: str) -> str:
    assert exit_code == 1, (exit_code, stderr[-2000:])
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr[-2000:]
    assert "Traceback" not in stderr and CANARY not in stderr and CANARY not in stdout
    assert len(lines[0]) < 300, lines[0][:300]
    assert stdout == ""
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def billion_laughs(kind: str = "Secret", **fields: str) -> str:
    """A manifest whose ``fields`` expand to a million strings each (about 500 bytes of aliases).

    The anchors sit in a field nothing reads; ``fields`` maps a top-level key to YAML that
    refers to ``*x5`` (ten levels of ten).
    """
    anchors = [f"x0: &x0 [{', '.join([CANARY] * 10)}]"]
    anchors += [f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 10)}]" for i in range(1, 6)]
    head = {"apiVersion": "v1" if kind == "Secret" else "secretsync.io/v1alpha1", "kind": kind}
    head.update(fields)
    return (
        "x-anchors:\n"
        + "".join(f"  {line}\n" for line in anchors)
        + "metadata: {name: db, namespace: team-a}\n"
        + "".join(f"{key}: {value}\n" for key, value in head.items())
    )


# --------------------------------------------------------------------------- as a real process
# A segfault kills the process: these run the console script.


@pytest.mark.parametrize(
    ("stdin", "needle"),
    [
        (HEAD + "stringData:\n  pw: " + "[" * 100_000 + CANARY, "nested deeper than 100 levels"),
        (HEAD + "stringData:\n  pw: " + "{a: " * 100_000 + CANARY, "nested deeper than 100 levels"),
        ('{"kind": "Secret", "stringData": ' + '{"a": ' * 100_000 + f'"{CANARY}"', "nested deeper than"),
        ("- " * 100_000 + CANARY, "nested deeper than 100 levels"),
    ],
    ids=["yaml-flow-sequences", "yaml-flow-mappings", "json-objects", "yaml-block-sequences"],
)
def test_100k_deep_input_is_one_line_not_a_segfault(tmp_path: Path, stdin: str, needle: str) -> None:
    out = tmp_path / "sealed.yaml"
    out.write_text("previous\n")
    result = subprocess.run(
        [str(SECRETSYNC), "seal", "--cert", CERT, "-w", str(out)],
        input=stdin.encode(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, (result.returncode, result.stderr.decode()[-2000:])
    line = assert_one_clean_line(result.stderr.decode(), result.returncode, result.stdout.decode(), needle)
    assert line.startswith("error: stdin: not valid ")
    assert out.read_text() == "previous\n"


# --------------------------------------------------------------------------- in process


@pytest.mark.parametrize("field", ["kind", "apiVersion"])
def test_alias_amplification_in_a_secret_stops_at_the_node_budget(field: str) -> None:
    """The old error message quoted the expanded structure: a million canaries on one line."""
    result = seal(billion_laughs(**{field: "*x5", "stringData": "{pw: x}"}))
    assert_one_clean_line(result.stderr, result.exit_code, result.stdout, "aliases expanded")


def test_alias_amplification_in_a_sealed_secret_to_unseal_stops_at_the_node_budget() -> None:
    """``unseal -o json`` used to print the expanded template: megabytes, or a MemoryError."""
    sealed = billion_laughs(
        "SealedSecret", spec="{encryptedData: {}, template: {metadata: {labels: {a: *x5}}}}"
    )
    args = ["unseal", "-k", KEY, "-o", "json"]
    result = CliRunner().invoke(main, args, input=sealed, catch_exceptions=False)
    assert_one_clean_line(result.stderr, result.exit_code, result.stdout, "aliases expanded")


def test_deep_json_to_unseal_and_merge_into_is_one_line(tmp_path: Path) -> None:
    deep = '{"kind": "SealedSecret", "spec": ' + "[" * 50_000 + f'"{CANARY}"' + "]" * 50_000 + "}"
    result = CliRunner().invoke(main, ["unseal", "-k", KEY], input=deep, catch_exceptions=False)
    assert_one_clean_line(result.stderr, result.exit_code, result.stdout)
    target = tmp_path / "sealed.json"
    target.write_text(deep)
    result = seal(HEAD + "stringData: {a: b}\n", "--merge-into", str(target))
    assert_one_clean_line(result.stderr, result.exit_code, result.stdout, "nested deeper than 100 levels")
    assert target.read_text() == deep


@pytest.mark.parametrize(
    ("stdin", "path"),
    [
        (
            HEAD + f"  namespace: {CANARY}\nstringData: {{pw: x}}\n",
            "metadata.namespace",
        ),
        (HEAD + f"stringData:\n  password: harmless\n  password: {CANARY}\n", "stringData.password"),
        (HEAD + f"data:\n  pw: eA==\ndata:\n  pw: {CANARY}\n", "data"),
        (
            '{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "team-a", '
            f'"namespace": "{CANARY}"}}, "stringData": {{"pw": "x"}}}}',
            "metadata.namespace",
        ),
        (
            '{"kind": "List", "items": [{"kind": "Secret", "metadata": {"name": "a"}, '
            f'"stringData": {{"k": "1", "k": "{CANARY}"}}}}]}}',
            "items[0].stringData.k",
        ),
        (
            f"x-defaults: &defaults {{namespace: {CANARY}}}\napiVersion: v1\nkind: Secret\n"
            "metadata:\n  <<: *defaults\n  name: db\n  namespace: team-a\nstringData: {pw: x}\n",
            "metadata.namespace",
        ),
    ],
    ids=["yaml-namespace", "yaml-data-key", "yaml-section", "json-namespace", "json-list-item", "yaml-merge"],
)
def test_a_second_value_for_a_key_is_refused_naming_its_path(tmp_path: Path, stdin: str, path: str) -> None:
    out = tmp_path / "sealed.yaml"
    out.write_text("previous\n")
    result = seal(stdin, "-w", str(out))
    line = assert_one_clean_line(result.stderr, result.exit_code, result.stdout, f"duplicate key {path}")
    assert line.startswith("error: stdin: not valid ")
    assert out.read_text() == "previous\n"


def test_duplicate_keys_in_key_backups_and_kubeconfigs(tmp_path: Path) -> None:
    backup = tmp_path / "backup.yaml"
    backup.write_text("kind: List\nitems: []\nitems: [{kind: Secret, data: {tls.key: AAAA}}]\n")
    result = CliRunner().invoke(main, ["unseal", "-k", str(backup)], input="", catch_exceptions=False)
    assert_one_clean_line(result.stderr, result.exit_code, result.stdout, "duplicate key items")
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "current-context: dev\ncontexts:\n- name: dev\n  context: {namespace: team-a, namespace: other}\n"
    )
    assert manifests.kubeconfig_namespace({"KUBECONFIG": str(kubeconfig)}) is None


def test_input_beyond_64_mib_is_refused_before_parsing() -> None:
    huge = b"#" * (64 * MiB + 1)  # a comment: the old reader parsed all of it
    result = seal(huge)
    assert_one_clean_line(result.stderr, result.exit_code, result.stdout, "stdin is larger than 64 MiB")


def test_a_sexagesimal_number_cannot_burn_quadratic_time() -> None:
    result = seal(HEAD + "stringData:\n  pw: 1" + ":1" * 200_000 + "\n")
    assert_one_clean_line(result.stderr, result.exit_code, result.stdout, "a number longer than")


def test_the_operator_answer_to_reencrypt_is_parsed_with_the_same_budgets() -> None:
    bomb = billion_laughs("SealedSecret", spec="{encryptedData: {}, template: *x5}")
    with pytest.raises(InputError, match="aliases expanded"):
        manifests.parse_documents(bomb.encode(), "the operator's answer")
    with pytest.raises(InputError, match="nested deeper"):
        manifests.parse_documents(("[" * 200_000).encode(), "answer")


def test_json_with_too_many_values_or_a_surrogate_is_refused() -> None:
    values = "[" + ",".join(["0"] * 1_000_001) + "]"
    with pytest.raises(InputError, match="more than 1,000,000 values"):
        manifests.parse_documents(values, "stdin")
    result = seal(json.dumps({"kind": "Secret", "metadata": {"name": "a"}, "stringData": {"k": "\ud800"}}))
    assert_one_clean_line(result.stderr, result.exit_code, result.stdout, "surrogate")
