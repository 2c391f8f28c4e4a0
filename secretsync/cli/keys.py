"""``secretsync keys``: the sealing keys. ``generate`` and ``info`` work offline on files;
``list``, ``rotate`` and ``backup`` work on the key Secrets in the operator's namespace through
the Kubernetes API (secretsync.kube, imported only when they run).

One group, one module: every key-management subcommand and its helpers are here.
"""

from __future__ import annotations

from typing import Any

import click

from secretsync.cli.common import F, _kube_options, _read_certificate, _run, env, friendly_errors


@click.group("keys")
def keys_group() -> None:
    """Sealing keys: generate and inspect offline; list, rotate and back up in the cluster."""


@keys_group.command("generate")
@click.option(
    "--out-dir", required=True, type=click.Path(file_okay=False), help="Directory for tls.key and tls.crt."
)
@click.option("--bits", type=click.Choice(["2048", "3072", "4096"]), default="4096", show_default=True)
@click.option("--validity-days", type=click.IntRange(min=1), default=3650, show_default=True)
@click.option("--common-name", default="secretsync", show_default=True, help="Certificate subject CN.")
@click.option("--force", is_flag=True, help="Overwrite an existing tls.key / tls.crt.")
@friendly_errors
def keys_generate_command(out_dir: str, bits: str, validity_days: int, common_name: str, force: bool) -> None:
    """Write a new RSA key (tls.key, mode 0600) and self-signed certificate (tls.crt).

    For bring-your-own-key and offline bootstrap. Commit only tls.crt (e.g. in keys/);
    back tls.key up somewhere safe and never commit it.
    """
    from datetime import timedelta
    from pathlib import Path

    from secretsync import crypto, manifests
    from secretsync.errors import InputError

    directory = Path(out_dir)
    key_path, cert_path = directory / "tls.key", directory / "tls.crt"
    existing = [str(p) for p in (key_path, cert_path) if p.exists()]
    if existing and not force:
        raise InputError(f"{', '.join(existing)} already exists: pass --force to replace it")
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise InputError(f"cannot create {out_dir}: {exc.strerror or exc}") from None
    key = crypto.generate_private_key(int(bits))
    cert_pem = crypto.self_signed_certificate(
        key, common_name=common_name, validity=timedelta(days=validity_days)
    )
    manifests.write_atomic(str(key_path), crypto.dump_private_key(key), mode=0o600)
    manifests.write_atomic(str(cert_path), cert_pem, mode=0o644)
    click.echo(f"wrote {key_path} (mode 0600: back it up, never commit it)")
    click.echo(f"wrote {cert_path} (public: commit it to seal offline)")
    click.echo(f"fingerprint: {crypto.public_key_fingerprint(key.public_key())}")


@keys_group.command("info")
@click.argument("cert", metavar="CERT")
@friendly_errors
def keys_info_command(cert: str) -> None:
    """Print a certificate's fingerprint, validity and key size. CERT: a path or URL."""
    from datetime import UTC, datetime

    from secretsync import crypto
    from secretsync.errors import InputError

    data, certificate = _read_certificate(cert)
    try:
        subject = crypto.load_x509(data).subject.rfc4514_string()  # never .extensions (Bitnami)
    except (InputError, ValueError):
        subject = "?"
    now = datetime.now(UTC)
    problem = certificate.validity_problem(now)
    status = problem or f"valid, {(certificate.not_after - now).days} days left"
    for label, value in (
        ("fingerprint", certificate.fingerprint),
        ("subject", subject),
        ("not before", certificate.not_before.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("not after", certificate.not_after.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("key", f"RSA {certificate.key_size} bits"),
        ("status", status),
    ):
        click.echo(f"{label + ':':<13}{value}")


def _operator_namespace_option(func: F) -> F:
    func = click.option(
        "--controller-namespace",
        envvar=env("controller-namespace"),
        default="secretsync-system",
        show_default=True,
        help="The operator's namespace, where the key Secrets live.",
    )(func)
    return _kube_options(func)


async def _key_secrets(opts: dict[str, Any]) -> list[dict[str, Any]]:
    from secretsync import keys, kube

    api = kube.KubeApi(kube.load_connection(opts.get("kubeconfig"), opts.get("context")))
    path = kube.path_for("v1", "secrets", opts["controller_namespace"])
    items: list[dict[str, Any]] = []
    try:
        # by label only (ours and Bitnami's): the namespace's other Secrets are never read
        for label in (keys.KEY_LABEL, keys.BITNAMI_KEY_LABEL):
            items += await api.list(path, label_selector=label)
    except kube.ApiError as exc:
        from secretsync.errors import InputError

        raise InputError(f"cannot list key Secrets in {opts['controller_namespace']}: {exc}") from None
    finally:
        await api.close()
    unique = {str((s.get("metadata") or {}).get("uid")): s for s in items}  # a Secret with both labels
    return [s for s in unique.values() if keys.is_key_secret(s, bitnami=True)]


@keys_group.command("list")
@_operator_namespace_option
@friendly_errors
def keys_list_command(**opts: Any) -> None:
    """List the cluster's sealing keys: newest first, with fingerprint, validity and state."""
    from secretsync import keys
    from secretsync.errors import InputError

    rows = []
    for secret in _run(_key_secrets(opts)):
        meta = secret.get("metadata") or {}
        labels = meta.get("labels") or {}
        state = labels.get(keys.KEY_LABEL) or labels.get(keys.BITNAMI_KEY_LABEL) or "?"
        try:
            entry = keys.parse_key_secret(secret)
            fingerprint, since = entry.fingerprint[:16], entry.not_before.strftime("%Y-%m-%dT%H:%M:%SZ")
            order = entry.not_before.timestamp()
        except InputError as exc:
            fingerprint, since, order, state = "-", "-", 0.0, f"unusable ({exc})"
        rows.append((order, meta.get("name", "?"), fingerprint, since, state))
    rows.sort(key=lambda r: r[0], reverse=True)
    click.echo(f"{'NAME':<40} {'FINGERPRINT':<17} {'NOT-BEFORE':<21} STATE")
    newest_marked = False
    for _, name, fingerprint, since, state in rows:
        mark = ""
        if state == keys.ACTIVE and not newest_marked:
            mark, newest_marked = " (newest: seals)", True
        click.echo(f"{name:<40} {fingerprint:<17} {since:<21} {state}{mark}")


@keys_group.command("rotate")
@_operator_namespace_option
@click.option("--bits", type=click.Choice(["2048", "3072", "4096"]), default="4096", show_default=True)
@friendly_errors
def keys_rotate_command(bits: str, **opts: Any) -> None:
    """Add a new active key: the operator seals with it from now on and keeps the old ones.

    The key is generated here and stored as a Secret in the operator's namespace; the
    running operator picks it up within seconds, no restart needed.
    """
    from secretsync import crypto, keys, kube

    key_pem, cert_pem = keys.new_key_material(int(bits))
    namespace = opts["controller_namespace"]

    async def create() -> dict[str, Any]:
        api = kube.KubeApi(kube.load_connection(opts.get("kubeconfig"), opts.get("context")))
        try:
            created: dict[str, Any] = await api.create(
                kube.path_for("v1", "secrets", namespace), keys.key_secret(key_pem, cert_pem, namespace)
            )
            return created
        except kube.ApiError as exc:
            from secretsync.errors import InputError

            raise InputError(f"cannot create the key Secret in {namespace}: {exc}") from None
        finally:
            await api.close()

    created = _run(create())
    fingerprint = crypto.load_certificate(cert_pem).fingerprint
    click.echo(
        f"created key Secret {namespace}/{created['metadata']['name']} (fingerprint {fingerprint[:16]})"
    )


@keys_group.command("backup")
@_operator_namespace_option
@click.option(
    "-w", "--output", required=True, type=click.Path(dir_okay=False), help="Backup file (mode 0600)."
)
@friendly_errors
def keys_backup_command(output: str, **opts: Any) -> None:
    """Write every key Secret (active and retired) as a v1 List that `unseal --private-key` reads.

    The file holds private keys: it is written with mode 0600; keep it out of Git.
    """
    from secretsync import manifests

    items = []
    for secret in _run(_key_secrets(opts)):
        meta = secret.get("metadata") or {}
        clean_meta = {k: meta[k] for k in ("name", "namespace", "labels", "annotations") if meta.get(k)}
        items.append({"apiVersion": "v1", "kind": "Secret", "type": secret.get("type", "kubernetes.io/tls"),
                      "metadata": clean_meta, "data": secret.get("data") or {}})  # fmt: skip
    backup = {"apiVersion": "v1", "kind": "List", "items": items}
    manifests.write_atomic(output, manifests.dump_documents([backup], "yaml").encode("utf-8"), 0o600)
    click.echo(f"wrote {len(items)} key Secrets to {output} (mode 0600)", err=True)
