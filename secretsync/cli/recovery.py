"""``secretsync unseal`` and what kubeseal's ``--recovery-unseal`` runs: decrypting SealedSecrets
offline with private keys (PEM files or Secret backups such as ``keys backup`` writes).

Recovery is its own responsibility (it handles plaintext and private keys, and writes mode
0600), shared by two entry points, so it lives apart from sealing. Imports only click and the
light cli helpers at the top; crypto, sealing and manifests inside the functions.
"""

from __future__ import annotations

from typing import Any

import click

from secretsync.cli.common import _FORMATS, _emit, _output_format, _read_inputs, env, friendly_errors


@click.command("unseal")
@click.option(
    "-k",
    "--private-key",
    "key_files",
    multiple=True,
    required=True,
    envvar=env("private-key"),
    metavar="FILE",
    help="PEM RSA private key (PKCS#1 or PKCS#8), or a Secret / List of Secrets with tls.key. Repeatable.",
)
@click.option(
    "-f",
    "--file",
    "files",
    multiple=True,
    metavar="PATH",
    help="SealedSecret manifests; default or '-': stdin.",
)
@click.option("-w", "--output", metavar="PATH", help="Write here (mode 0600, atomically) instead of stdout.")
@click.option("-o", "--format", "fmt", type=click.Choice(_FORMATS), help="Output format (default: yaml).")
@click.option("-n", "--namespace", help="Namespace of SealedSecrets that have none.")
@friendly_errors
def unseal_command(
    key_files: tuple[str, ...],
    files: tuple[str, ...],
    output: str | None,
    fmt: str | None,
    namespace: str | None,
) -> None:
    """Decrypt SealedSecrets (ours or bitnami.com/v1alpha1) offline with private keys; print the Secrets.

    For recovery: the output holds plaintext. Every key is tried for every value.
    kubeseal: --recovery-unseal --recovery-private-key FILE (also taken by secretsync seal).
    """
    _unseal_documents(key_files, files, output, fmt, namespace)


def _unseal_documents(
    key_files: tuple[str, ...],
    files: tuple[str, ...],
    output: str | None,
    fmt: str | None,
    namespace: str | None,
) -> None:
    from secretsync import manifests, sealing
    from secretsync.errors import InputError

    keyring = _load_keyring(key_files)
    objects = _read_inputs(files, "SealedSecret")
    if not objects:
        raise InputError(f"no SealedSecret manifests in {', '.join(files) if files else 'stdin'}")
    secrets = []
    for where, obj in objects:
        result = sealing.unseal(obj, keyring, namespace=namespace, where=where)
        result.raise_for_failures()
        templated = sorted(k for k, v in result.template_data.items() if "{{" in v)
        if templated:
            click.echo(
                f"note: SealedSecret {result.identity.ref}: template data {', '.join(templated)} "
                "copied unrendered (the operator renders templates)",
                err=True,
            )
        literal = {key: value.encode("utf-8") for key, value in result.template_data.items()}
        secrets.append(sealing.build_secret(obj, result, rendered_template_data=literal))
    _emit(manifests.dump_documents(secrets, _output_format(fmt, output)), output, mode=0o600)


def _load_keyring(paths: tuple[str, ...]) -> Any:
    """Every private key in the files: PEM keys, or Secrets (or a List of them) holding tls.key."""
    from secretsync import crypto, manifests
    from secretsync.errors import InputError

    ring = crypto.KeyRing()
    for path in paths:
        data = manifests.read_bytes(path, "private key file")
        try:
            if b"-----BEGIN" in data and b"PRIVATE KEY-----" in data:
                entries = [crypto.KeyEntry.from_key(key) for key in crypto.load_private_keys(data)]
            else:
                entries = _keys_from_backup(data, path)
        except InputError as exc:
            raise InputError(f"private key file {path}: {exc}") from None
        for entry in entries:
            ring.add(entry)
    return ring


def _keys_from_backup(data: bytes, path: str) -> list[Any]:
    """Keys from a Secret backup (``kubectl get secret -o yaml``): every Secret holding a tls.key."""
    from secretsync import manifests, sealing
    from secretsync.errors import InputError

    entries = []
    for where, obj in manifests.load_objects(data, path)[0]:
        secret_data = obj.get("data") if isinstance(obj, dict) else None
        if not (isinstance(secret_data, dict) and obj.get("kind") == "Secret" and "tls.key" in secret_data):
            continue
        try:
            entries.append(sealing.key_entry_from_secret(obj, validate=True))
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None
    if not entries:
        raise InputError("no private key in it (expected PEM, or Secrets with data.tls.key)")
    return entries
