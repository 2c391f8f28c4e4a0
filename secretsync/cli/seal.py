"""``secretsync seal``: its flags (ours and kubeseal's) and the three ways it seals: Secret
manifests, one raw value (--raw), and keys merged into an existing SealedSecret (--merge-into).

kubeseal's other modes, which ``seal`` also takes, only dispatch from here to the command that
owns them: --fetch-cert, --validate and --re-encrypt to online.py, --recovery-unseal to
recovery.py; kubeseal's env-var and flag habits live in kubeseal.py. This is the hot path, so
it imports only click, common.py and kubeseal.py at the top: online.py and recovery.py when their
mode is asked for, crypto, sealing and manifests inside the functions, and the operator and
aiohttp never.
"""

from __future__ import annotations

from typing import Any

import click

from secretsync.cli.common import (
    _FORMATS,
    _controller_options,
    _emit,
    _output_format,
    _read_certificate,
    _read_inputs,
    _stdin_hint,
    env,
    friendly_errors,
)
from secretsync.cli.kubeseal import (
    _KUBECTL_USED,
    _check_seal_usage,
    _kubectl_connection_flags,
    _note_unread_kubeseal_env,
    _split_commas,
)
from secretsync.errors import UsageError

_SCOPES = ("strict", "namespace-wide", "cluster-wide")


@click.command("seal")
@click.option(
    "-f",
    "--file",
    "--secret-file",
    "files",
    multiple=True,
    metavar="PATH",
    help="Input manifests: YAML or JSON, multi-document or a v1 List. Repeatable; default or '-': stdin.",
)
@click.option(
    "-w",
    "--output",
    "--sealed-secret-file",
    "output",
    metavar="PATH",
    help="Write here, not stdout: atomically, only on success (a failure leaves the file as it was).",
)
@click.option(
    "-o",
    "--format",
    "fmt",
    type=click.Choice(_FORMATS),
    help="Output format. Default: yaml (kubeseal's: json), or what the -w file's extension says.",
)
@click.option(
    "--cert",
    envvar=[env("cert"), "SEALED_SECRETS_CERT"],
    metavar="PATH|URL",
    help="The cluster's public certificate: a file, file://, http:// or https:// URL. Without it, it is "
    "fetched from the operator (--controller-*). Env: SECRETSYNC_CERT, SEALED_SECRETS_CERT.",
)
@click.option(
    "--scope",
    type=click.Choice(_SCOPES),
    help="Default: the Secret's scope annotations (Bitnami's or secretsync.io/scope), else strict.",
)
@click.option(
    "-n",
    "--namespace",
    help="Namespace of Secrets that have none (default: the kubeconfig context's, else 'default'). "
    "Must match any they have.",
)
@click.option(
    "--name",
    help="Replace the Secret's name (one Secret); with --raw, the name to seal for (strict scope).",
)
@click.option("--raw", is_flag=True, help="Seal one value (--from-file or stdin); print its bare base64.")
@click.option(
    "--from-file",
    "from_files",
    multiple=True,
    metavar="[KEY=]PATH",
    help="With --raw: the file holding the value (kubectl's syntax; the key is not used).",
)
@click.option(
    "--merge-into",
    metavar="PATH",
    help="Seal for this SealedSecret file (its name, namespace, scope) and merge the keys into it in place.",
)
@click.option("--allow-empty-data", is_flag=True, help="Allow a Secret with no data.")
@click.option(
    "--fetch-cert",
    is_flag=True,
    help="Print the certificate (--cert's, else the operator's) and exit: secretsync fetch-cert.",
)
@click.option(
    "--validate",
    is_flag=True,
    help="Ask the operator whether the SealedSecrets (-f or stdin) can be unsealed: secretsync validate.",
)
@click.option(
    "--re-encrypt",
    "re_encrypt",
    is_flag=True,
    help="Re-encrypt the SealedSecrets (-f or stdin) with the operator's newest key, to -w, else back "
    "into the one -f file, else stdout: secretsync reencrypt.",
)
@click.option("--rotate", is_flag=True, hidden=True)  # kubeseal's deprecated spelling of --re-encrypt
@click.option(
    "--recovery-unseal",
    is_flag=True,
    help="Decrypt the SealedSecrets (-f or stdin) with --recovery-private-key: secretsync unseal.",
)
@click.option(
    "--recovery-private-key",
    "recovery_keys",
    multiple=True,
    metavar="FILE[,FILE...]",
    help="With --recovery-unseal: PEM keys or Secret / List backups, comma-separated or repeated.",
)
@_controller_options
@_kubectl_connection_flags
@friendly_errors
def seal_command(
    files: tuple[str, ...],
    output: str | None,
    fmt: str | None,
    cert: str | None,
    scope: str | None,
    namespace: str | None,
    name: str | None,
    raw: bool,
    from_files: tuple[str, ...],
    merge_into: str | None,
    allow_empty_data: bool,
    fetch_cert: bool,
    validate: bool,
    re_encrypt: bool,
    rotate: bool,
    recovery_unseal: bool,
    recovery_keys: tuple[str, ...],
    **opts: Any,
) -> None:
    """Seal Secret manifests with the cluster's public certificate (offline with --cert).

    Takes kubeseal's flags too (see the kubeseal table in README.md).

    \b
    secretsync seal --cert keys/prod.crt -f secret.yaml -w sealed.yaml
    secretsync seal --raw --name db --namespace team-a --from-file password.txt
    secretsync seal --merge-into sealed.yaml < more-keys.yaml
    """
    kubectl_flags = click.get_current_context().meta.get(_KUBECTL_USED)
    if kubectl_flags:
        raise UsageError(
            f"{kubectl_flags[0]}: secretsync connects through a kubeconfig only: "
            "put the setting in a context and pass --kubeconfig/--context"
        )
    re_encrypt = re_encrypt or rotate
    key_files = _split_commas(recovery_keys)
    value_files = _split_commas(from_files)
    modes = {
        "--raw": raw,
        "--merge-into": bool(merge_into),
        "--fetch-cert": fetch_cert,
        "--validate": validate,
        "--re-encrypt": re_encrypt,
        "--recovery-unseal": recovery_unseal,
    }
    mode = _check_seal_usage(
        [flag for flag, on in modes.items() if on], files, output, name, value_files, key_files
    )
    _note_unread_kubeseal_env()

    # The other commands' modes: their modules are imported only for them (seal alone is hot).
    if mode == "--recovery-unseal":
        from secretsync.cli.recovery import _unseal_documents

        _unseal_documents(tuple(key_files), files, output, fmt, namespace)
        return
    if mode == "--validate":
        from secretsync.cli.online import _sealed_documents, _validate_documents

        _validate_documents(_sealed_documents(files, "-f FILE"), opts)
        return
    if mode == "--re-encrypt":
        from secretsync.cli.online import _reencrypt_stream

        _reencrypt_stream(files, output, fmt, opts)
        return
    if mode == "--fetch-cert":
        if cert:
            _, certificate = _read_certificate(cert)
            _emit(certificate.pem().decode("ascii"), output)
        else:
            from secretsync.cli.online import _fetch_certificate

            _emit(_fetch_certificate(opts).decode("ascii"), output)
        return

    sealer = _load_sealer(cert) if cert else _fetched_sealer(opts)
    if raw:
        _seal_raw(sealer, scope, namespace, name, value_files, output, opts)
    elif merge_into:
        _seal_merge(sealer, files, merge_into, scope, namespace, allow_empty_data, fmt)
    else:
        _seal_documents(
            sealer, files, output, _output_format(fmt, output), scope, namespace, name, allow_empty_data, opts
        )


def _load_sealer(location: str) -> Any:
    """The Sealer for a certificate, refusing an expired, not-yet-valid or non-RSA one."""
    _, certificate = _read_certificate(location)
    return _usable(certificate, location)


def _usable(certificate: Any, where: str) -> Any:
    from secretsync.errors import InputError

    problem = certificate.validity_problem()
    if problem:
        raise InputError(f"certificate {where} {problem}: fetch the current one (secretsync fetch-cert)")
    return certificate.sealer()


def _fetched_sealer(opts: dict[str, Any]) -> Any:
    """No --cert: the operator's certificate, through the API server's service proxy (or a URL),
    as kubeseal fetches its controller's. Imports what fetch-cert imports, only now."""
    from secretsync import crypto
    from secretsync.cli.online import _fetch_certificate, _target

    data = _fetch_certificate(opts, for_seal=True)
    return _usable(crypto.load_certificate(data), _target(opts).describe())


def _default_namespace(opts: dict[str, Any]) -> tuple[str, bool]:
    """(the namespace for objects that have none, whether a kubeconfig was found): the
    kubeconfig context's (--kubeconfig/--context honoured), else ``default``, as kubectl does."""
    from secretsync import manifests

    found, any_config = manifests.context_namespace(opts.get("kubeconfig"), opts.get("context"))
    return found or manifests.DEFAULT_NAMESPACE, any_config


def _seal_documents(
    sealer: Any,
    files: tuple[str, ...],
    output: str | None,
    fmt: str,
    scope: str | None,
    namespace: str | None,
    name: str | None,
    allow_empty_data: bool,
    opts: dict[str, Any],
) -> None:
    from secretsync import manifests, sealing
    from secretsync.errors import InputError

    objects = _read_inputs(files)
    if not objects:
        raise InputError(f"no Secret manifests in {', '.join(files) if files else 'stdin'}")
    if name and len(objects) != 1:
        raise UsageError(f"--name renames one Secret; the input has {len(objects)} objects")
    needs_fallback = not namespace and any(_lacks_namespace(obj) for _, obj in objects)
    fallback = _default_namespace(opts)[0] if needs_fallback else None
    sealed = [
        sealing.seal_secret(
            obj,
            sealer,
            scope=scope,  # type: ignore[arg-type]
            namespace=namespace,
            fallback_namespace=fallback,
            name=name,
            allow_empty_data=allow_empty_data,
            where=where,
        )
        for where, obj in objects
    ]
    _emit(manifests.dump_documents(sealed, fmt), output)  # type: ignore[arg-type]


def _lacks_namespace(obj: Any) -> bool:
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    return not (isinstance(metadata, dict) and metadata.get("namespace"))


def _seal_raw(
    sealer: Any,
    scope: str | None,
    namespace: str | None,
    name: str | None,
    value_files: list[str],
    output: str | None,
    opts: dict[str, Any],
) -> None:
    from secretsync import manifests, sealing

    scope = scope or "strict"
    if scope == "strict" and not name:
        raise UsageError("--raw with the strict scope needs --name (or pick another --scope)")
    if scope != "cluster-wide" and not namespace:
        namespace, any_config = _default_namespace(opts)
        if not any_config:  # as kubeseal: a bare value shows no namespace, so never guess one
            raise UsageError(f"--raw with the {scope} scope needs --namespace (or a kubeconfig context)")
    if value_files:
        path = value_files[0].split("=", 1)[-1]  # kubectl's [KEY=]PATH; the key names nothing here
        value = manifests.read_bytes(path, "value file")
    else:
        _stdin_hint("value", "--from-file FILE")
        value = manifests.read_bytes(manifests.STDIN, "value")
    _emit(sealing.seal_value(value, sealer, scope, namespace, name), output)  # type: ignore[arg-type]


def _seal_merge(
    sealer: Any,
    files: tuple[str, ...],
    merge_into: str,
    scope: str | None,
    namespace: str | None,
    allow_empty_data: bool,
    fmt: str | None,
) -> None:
    from secretsync import manifests, sealing
    from secretsync.errors import InputError

    docs, file_fmt = manifests.parse_documents(
        manifests.read_bytes(merge_into, "SealedSecret file"), merge_into
    )
    if len(docs) != 1:
        raise InputError(f"{merge_into}: --merge-into needs one SealedSecret, found {len(docs)} documents")
    identity = sealing.sealed_identity(docs[0], where=merge_into)
    if scope and scope != identity.scope:
        raise UsageError(f"--scope {scope} conflicts with {merge_into}, which is {identity.scope}")
    if namespace and identity.namespace and namespace != identity.namespace:
        raise UsageError(f"--namespace {namespace} conflicts with {merge_into} (in {identity.namespace})")
    merged = sealing.merge_into(
        docs[0], _read_inputs(files), sealer, allow_empty_data=allow_empty_data, where=merge_into
    )
    text = manifests.dump_documents([merged], fmt or file_fmt)  # type: ignore[arg-type]
    manifests.write_atomic(merge_into, text.encode("utf-8"))
