"""The ``secretsync`` command line: flag parsing only; the work lives in library modules.

The seal path must start fast and light: this module imports only click at the
top. Each command imports what it needs inside its body, so ``secretsync seal``
never pays for kopf, kubernetes or a provider SDK.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from secretsync import __version__
from secretsync.errors import SecretSyncError, UsageError

F = TypeVar("F", bound=Callable[..., Any])


def env(flag: str) -> str:
    """The environment variable that backs a flag: ``--http-port`` -> ``SECRETSYNC_HTTP_PORT``."""
    return "SECRETSYNC_" + flag.lstrip("-").replace("-", "_").upper()


def friendly_errors(func: F) -> F:
    """Turn our errors into one line on stderr: exit 2 for usage errors, 1 for the rest.

    No traceback reaches the user, and messages never carry secret values
    (our error messages are built from names and paths only).
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UsageError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except SecretSyncError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="secretsync")
def main() -> None:
    """secretsync: Kubernetes Secrets from sealed manifests in Git and from Vault, AWS and GCP.

    \b
    Offline:   seal, unseal, keys generate, keys info
    Online:    fetch-cert, validate, reencrypt, keys list|rotate|backup
    In-cluster: operator
    """


# --------------------------------------------------------------------------- seal / unseal / keys
# Their imports (crypto, sealing, manifests: cryptography and PyYAML) happen inside the
# commands, so `secretsync --help` and the operator never pay for them, and `seal` never
# pays for kopf, kubernetes, aiohttp or a provider SDK (tests/test_cli_seal.py checks it).

_SCOPES = ("strict", "namespace-wide", "cluster-wide")
_FORMATS = ("yaml", "json")

# kubeseal reads SEALED_SECRETS_<FLAG> for every flag (pkg/pflagenv, prefix "SEALED_SECRETS"); we read
# these three, next to our own SECRETSYNC_* (which win), and name the others when they are set.
KUBESEAL_ENV_READ = (
    "SEALED_SECRETS_CERT",
    "SEALED_SECRETS_CONTROLLER_NAME",
    "SEALED_SECRETS_CONTROLLER_NAMESPACE",
)
_KUBESEAL_ENV_UNREAD = tuple(
    "SEALED_SECRETS_" + flag.replace("-", "_").upper()
    for flag in (
        # kubeseal's own flags (cmd/kubeseal/main.go bindFlags) ...
        "format", "sealed-secret-file", "secret-file", "fetch-cert", "allow-empty-data", "validate",
        "merge-into", "raw", "name", "from-file", "kubeconfig", "scope", "rotate", "re-encrypt",
        "recovery-unseal", "recovery-private-key",
        # ... and kubectl's connection flags (clientcmd.RecommendedConfigOverrideFlags)
        "namespace", "context", "cluster", "user", "server", "token", "as", "as-group", "as-uid",
        "username", "password", "client-certificate", "client-key", "certificate-authority",
        "insecure-skip-tls-verify", "tls-server-name", "request-timeout", "proxy-url",
        "disable-compression",
    )
)  # fmt: skip

# kubectl's connection flags, which kubeseal also takes: secretsync connects only through a kubeconfig.
_KUBECTL_VALUE_FLAGS = (
    ("--as",), ("--as-group",), ("--as-uid",), ("--certificate-authority",), ("--client-certificate",),
    ("--client-key",), ("--cluster",), ("--password",), ("--proxy-url",), ("--request-timeout",),
    ("-s", "--server"), ("--tls-server-name",), ("--token",), ("--user",), ("--username",),
)  # fmt: skip
_KUBECTL_BOOL_FLAGS = (("--insecure-skip-tls-verify",), ("--disable-compression",))
_KUBECTL_USED = "secretsync.kubectl_flags"


def _record_kubectl_flag(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Remember that a kubectl connection flag was given (never its value: it may be a token)."""
    if value:
        ctx.meta.setdefault(_KUBECTL_USED, []).append(max(param.opts, key=len))
    return value


def _kubectl_connection_flags(func: F) -> F:
    """Hidden: kubectl's connection flags, refused with one line naming what to do instead."""
    for names in _KUBECTL_VALUE_FLAGS:
        func = click.option(
            *names, multiple=True, hidden=True, expose_value=False, callback=_record_kubectl_flag
        )(func)
    for names in _KUBECTL_BOOL_FLAGS:
        func = click.option(
            *names, is_flag=True, hidden=True, expose_value=False, callback=_record_kubectl_flag
        )(func)
    return func


def _kube_options(func: F) -> F:
    func = click.option("--context", envvar=env("context"), help="Kubeconfig context (default: current).")(
        func
    )
    func = click.option(
        "--kubeconfig",
        envvar=env("kubeconfig"),
        type=click.Path(dir_okay=False),
        help="Kubeconfig file (default: $KUBECONFIG or ~/.kube/config).",
    )(func)
    return func


def _controller_options(func: F) -> F:
    func = click.option(
        "--controller-url",
        envvar=env("controller-url"),
        help="The operator's HTTP API URL, bypassing the Kubernetes API proxy (e.g. http://localhost:8080).",
    )(func)
    func = click.option(
        "--controller-name",
        envvar=[env("controller-name"), "SEALED_SECRETS_CONTROLLER_NAME"],
        default="secretsync",
        show_default=True,
        help="Name of the operator's Service (kubeseal's default: sealed-secrets-controller). "
        "Env: SECRETSYNC_CONTROLLER_NAME, SEALED_SECRETS_CONTROLLER_NAME.",
    )(func)
    func = click.option(
        "--controller-namespace",
        envvar=[env("controller-namespace"), "SEALED_SECRETS_CONTROLLER_NAMESPACE"],
        default="secretsync-system",
        show_default=True,
        help="Namespace of the operator's Service (kubeseal's default: kube-system). "
        "Env: SECRETSYNC_CONTROLLER_NAMESPACE, SEALED_SECRETS_CONTROLLER_NAMESPACE.",
    )(func)
    return _kube_options(func)


@main.command("seal")
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

    if mode == "--recovery-unseal":
        _unseal_documents(tuple(key_files), files, output, fmt, namespace)
        return
    if mode == "--validate":
        _validate_documents(_sealed_documents(files, "-f FILE"), opts)
        return
    if mode == "--re-encrypt":
        _reencrypt_stream(files, output, fmt, opts)
        return
    if mode == "--fetch-cert":
        if cert:
            _, certificate = _read_certificate(cert)
            _emit(certificate.pem().decode("ascii"), output)
        else:
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


def _split_commas(values: tuple[str, ...]) -> list[str]:
    """Repeated and comma-separated values, as kubeseal's (pflag) string-slice flags take them."""
    return [part for value in values for part in value.split(",") if part]


def _check_seal_usage(
    modes: list[str],
    files: tuple[str, ...],
    output: str | None,
    name: str | None,
    value_files: list[str],
    key_files: list[str],
) -> str | None:
    """The mode (a flag) or None for plain sealing; option combinations that cannot mean anything
    are refused (exit 2) before any input is read. What kubeseal ignores, we ignore too
    (-o with --raw, --validate or --fetch-cert; --controller-* with --cert)."""
    if len(modes) > 1:
        raise UsageError(f"{modes[0]} and {modes[1]} cannot be combined")
    mode = modes[0] if modes else None
    if key_files and mode != "--recovery-unseal":
        raise UsageError(
            "--recovery-private-key only applies to --recovery-unseal (or: secretsync unseal -k FILE)"
        )
    if mode == "--recovery-unseal" and not key_files:
        raise UsageError(
            "--recovery-unseal needs --recovery-private-key FILE[,FILE...] (or: secretsync unseal -k FILE)"
        )
    if value_files and mode != "--raw":
        raise UsageError(
            "--from-file requires --raw; to seal files as a Secret: kubectl create secret generic NAME "
            "--from-file=... --dry-run=client -o yaml | secretsync seal"
        )
    if mode == "--raw" and files:
        raise UsageError("--raw reads the value from --from-file or stdin, not -f")
    if mode == "--raw" and len(value_files) > 1:
        raise UsageError("--raw seals one value: pass a single --from-file")
    if name and mode not in (None, "--raw"):
        raise UsageError(f"--name applies to sealing a Secret or --raw, not {mode}")
    if mode == "--merge-into" and output:
        raise UsageError("--merge-into updates the file in place: drop -w")
    if mode == "--validate" and output:
        raise UsageError("--validate writes no file: drop -w")
    return mode


def _note_unread_kubeseal_env() -> None:
    """One line naming the kubeseal variables that are set but not read (never their values)."""
    import os

    unread = [name for name in _KUBESEAL_ENV_UNREAD if os.environ.get(name)]
    if unread:
        click.echo(
            f"note: secretsync does not read {', '.join(unread)}: pass the flags instead "
            "(it reads only SEALED_SECRETS_CERT and SEALED_SECRETS_CONTROLLER_NAME/NAMESPACE)",
            err=True,
        )


def _stdin_hint(what: str, alternative: str) -> None:
    """kubeseal's "(tty detected: ...)": say what we wait for instead of waiting silently."""
    if sys.stdin is not None and sys.stdin.isatty():
        click.echo(f"reading the {what} from stdin; pipe one in or use {alternative}", err=True)


def _read_certificate(location: str) -> tuple[bytes, Any]:
    """(raw bytes, crypto.Certificate) from a path or URL; errors name the location."""
    from secretsync import crypto, manifests
    from secretsync.errors import InputError

    data = manifests.read_location(location, "certificate")
    try:
        return data, crypto.load_certificate(data)
    except InputError as exc:
        raise InputError(f"certificate {location}: {exc}") from None


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

    data = _fetch_certificate(opts, for_seal=True)
    return _usable(crypto.load_certificate(data), _target(opts).describe())


def _read_inputs(
    files: tuple[str, ...], what: str = "Secret", alternative: str = "-f FILE"
) -> list[tuple[str, Any]]:
    """All objects of all inputs, each with a description like ``secret.yaml document 2``."""
    from secretsync import manifests

    objects: list[tuple[str, Any]] = []
    for location in files or (manifests.STDIN,):
        if location == manifests.STDIN:
            _stdin_hint(what, alternative)
        source = "stdin" if location == manifests.STDIN else location
        found, _ = manifests.load_objects(manifests.read_bytes(location), source)
        objects.extend(found)
    return objects


def _output_format(fmt: str | None, output: str | None, default: str = "yaml") -> Any:
    """-o wins; else the -w file's extension; else ``default``."""
    from secretsync import manifests

    chosen = fmt or (manifests.format_for_path(output) if output and output != "-" else None)
    return chosen or default


def _emit(text: str, output: str | None, mode: int | None = None) -> None:
    """Print, or write the file atomically: only ever called once everything succeeded."""
    if output and output != "-":
        from secretsync import manifests

        manifests.write_atomic(output, text.encode("utf-8"), mode)
    else:
        click.echo(text, nl=False)


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


@main.command("unseal")
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


@main.group("keys")
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


# --------------------------------------------------------------------------- online commands
# They talk to a running operator (through the Kubernetes API service proxy, or a URL) or to
# the Kubernetes API; aiohttp and the kubernetes client are imported only when they run.


def _target(opts: dict[str, Any]) -> Any:
    import os

    from secretsync.remote import Target

    origins = []  # kubeseal's variables are named in messages: they may point at Bitnami's controller
    ctx = click.get_current_context(silent=True)
    if ctx is not None and not opts.get("controller_url"):
        from click.core import ParameterSource

        for param in ("controller_namespace", "controller_name"):
            flag = param.replace("_", "-")
            kubeseal_var = "SEALED_SECRETS_" + param.upper()
            if (
                ctx.get_parameter_source(param) == ParameterSource.ENVIRONMENT
                and not os.environ.get(env(flag))
                and os.environ.get(kubeseal_var)
            ):
                origins.append(kubeseal_var)
    return Target(
        url=opts.get("controller_url"),
        namespace=opts["controller_namespace"],
        name=opts["controller_name"],
        kubeconfig=opts.get("kubeconfig"),
        context=opts.get("context"),
        origin=" and ".join(origins) or None,
    )


def _run(coro: Any) -> Any:
    import asyncio

    return asyncio.run(coro)


def _fetch_certificate(opts: dict[str, Any], *, for_seal: bool = False) -> bytes:
    """The operator's current certificate (PEM, checked to be one): GET /v1/cert.pem.

    ``for_seal``: sealing without --cert, so a failure says how to seal offline instead.
    """
    from secretsync import crypto
    from secretsync.errors import InputError
    from secretsync.remote import Controller

    target = _target(opts)

    async def fetch() -> tuple[int, bytes]:
        async with Controller(target) as ctl:
            result: tuple[int, bytes] = await ctl.request("GET", "/v1/cert.pem")
            return result

    offline = "pass --cert PATH|URL (or set SECRETSYNC_CERT or SEALED_SECRETS_CERT)"
    status: int
    body: bytes
    try:
        status, body = _run(fetch())
    except UsageError as exc:
        if for_seal:
            reason = " ".join(str(exc).split())
            raise UsageError(f"no certificate: {offline}, or fetch it from the operator: {reason}") from None
        raise
    except InputError as exc:
        if for_seal:
            raise InputError(f"{exc} (to seal offline, {offline})") from None
        raise
    if status != 200:
        hint = f" (to seal offline, {offline})" if for_seal else ""
        raise InputError(f"{target.describe()} answered {status}: {_answer_detail(body)}{hint}")
    try:
        crypto.load_certificate(body)  # refuse to hand out something that is not a certificate
    except InputError as exc:
        raise InputError(f"the certificate from {target.describe()}: {exc}") from None
    return body


def _answer_detail(body: bytes) -> str:
    """The first line of an answer, or the message of a Kubernetes Status (the API server's proxy
    answers with one when the Service has no endpoints)."""
    import json

    text = body.decode("utf-8", "replace").strip()
    try:
        status = json.loads(text) if text.startswith("{") and len(text) < 65536 else None
    except ValueError:
        status = None
    if isinstance(status, dict) and status.get("kind") == "Status" and isinstance(status.get("message"), str):
        text = status["message"]
    lines = text.splitlines()
    return lines[0][:300] if lines else "no detail"


@main.command("fetch-cert")
@_controller_options
@click.option("-w", "--output", type=click.Path(dir_okay=False), help="Write the PEM here (atomically).")
@friendly_errors
def fetch_cert_command(output: str | None, **opts: Any) -> None:
    """Print the operator's current sealing certificate (PEM), for offline sealing.

    kubeseal: --fetch-cert (also taken by secretsync seal).
    """
    _emit(_fetch_certificate(opts).decode("ascii"), output)


def _sealed_documents(paths: tuple[str, ...], alternative: str = "FILES") -> list[tuple[str, dict[str, Any]]]:
    from secretsync import manifests, sealing

    found: list[tuple[str, dict[str, Any]]] = []
    for path in paths or (manifests.STDIN,):
        if path == manifests.STDIN:
            _stdin_hint("SealedSecret", alternative)
        source = "stdin" if path == manifests.STDIN else path
        objects, _ = manifests.load_objects(manifests.read_bytes(path), source)
        for where, obj in objects:
            if isinstance(obj, dict) and obj.get("kind") == sealing.KIND:
                found.append((where, obj))
    return found


@main.command("validate")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@_controller_options
@friendly_errors
def validate_command(files: tuple[str, ...], **opts: Any) -> None:
    """Check with the operator that every SealedSecret in FILES (or stdin) can be unsealed.

    Exits 1 naming every object that cannot, 0 when all can. kubeseal: --validate.
    """
    _validate_documents(_sealed_documents(files), opts)


def _validate_documents(documents: list[tuple[str, dict[str, Any]]], opts: dict[str, Any]) -> None:
    """POST each SealedSecret to /v1/verify: ``ok:`` lines on stdout, one line per bad one on stderr."""
    import json

    from secretsync.errors import InputError
    from secretsync.remote import Controller

    if not documents:
        raise InputError("no SealedSecret found in the input")

    async def check() -> list[tuple[str, dict[str, Any], int, str]]:
        out = []
        async with Controller(_target(opts)) as ctl:
            for where, obj in documents:
                status, body = await ctl.request("POST", "/v1/verify", json.dumps(obj).encode())
                out.append((where, obj, status, body.decode("utf-8", "replace").strip()))
        return out

    failed = 0
    for where, obj, status, text in _run(check()):
        meta = obj.get("metadata") or {}
        ref = f"{meta.get('namespace') or '?'}/{meta.get('name') or '?'}"
        if status == 200:
            click.echo(f"ok: {ref} ({where})")
        else:
            failed += 1
            click.echo(f"invalid: {ref} ({where}): {text}", err=True)
    if failed:
        raise InputError(f"{failed} of {len(documents)} SealedSecrets cannot be unsealed")


def _expand(paths: tuple[str, ...]) -> list[str]:
    import os

    out: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                out.extend(
                    os.path.join(root, n)
                    for n in sorted(names)
                    if n.lower().endswith((".yaml", ".yml", ".json"))
                )
        else:
            out.append(path)
    return out


async def _rotate_one(ctl: Any, doc: dict[str, Any], where: str) -> dict[str, Any]:
    """One SealedSecret re-encrypted by the operator (POST /v1/rotate); InputError naming it if not."""
    import json

    from secretsync import manifests
    from secretsync.errors import InputError

    status, body = await ctl.request("POST", "/v1/rotate", json.dumps(doc).encode())
    if status != 200:
        meta = doc.get("metadata") or {}
        raise InputError(
            f"{where} ({meta.get('namespace')}/{meta.get('name')}): {body.decode('utf-8', 'replace').strip()}"
        )
    # the answer is parsed like any input: bounded, one object
    answer, _ = manifests.parse_documents(body, f"{where}: the operator's answer")
    if len(answer) != 1 or not isinstance(answer[0], dict):
        raise InputError(f"{where}: the operator's answer is not one SealedSecret")
    return answer[0]


def _is_sealed(doc: Any) -> bool:
    from secretsync import sealing

    return isinstance(doc, dict) and doc.get("kind") == sealing.KIND


@main.command("reencrypt")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@_controller_options
@friendly_errors
def reencrypt_command(paths: tuple[str, ...], **opts: Any) -> None:
    """Re-encrypt every SealedSecret in PATHS with the operator's newest key, in place.

    Directories are searched recursively for .yaml/.yml/.json files. Other documents in
    a file and its format are kept; a file is rewritten only if all of its SealedSecrets
    re-encrypt. YAML comments are not preserved. kubeseal: --re-encrypt (also taken by
    secretsync seal, on stdin or one file).
    """
    import sys as _sys

    from secretsync import manifests
    from secretsync.errors import InputError
    from secretsync.remote import Controller

    files = _expand(paths)

    async def rotate_all() -> tuple[int, int, list[str]]:
        changed, objects, problems = 0, 0, []
        async with Controller(_target(opts)) as ctl:
            with click.progressbar(
                files, label="re-encrypting", file=_sys.stderr, show_pos=True, hidden=not _sys.stderr.isatty()
            ) as bar:
                for path in bar:
                    data = manifests.read_bytes(path)
                    try:
                        docs, fmt = manifests.parse_documents(data, path)
                    except InputError as exc:
                        problems.append(f"{path}: {exc}")
                        continue
                    new_docs, touched = [], 0
                    try:
                        for index, doc in enumerate(docs, 1):
                            if _is_sealed(doc):
                                doc = await _rotate_one(ctl, doc, f"{path} document {index}")
                                touched += 1
                            new_docs.append(doc)
                    except InputError as exc:
                        problems.append(str(exc))
                        continue
                    if not touched:
                        continue
                    manifests.write_atomic(path, manifests.dump_documents(new_docs, fmt).encode("utf-8"))
                    changed += 1
                    objects += touched
        return changed, objects, problems

    changed, objects, problems = _run(rotate_all())
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    click.echo(f"re-encrypted {objects} SealedSecrets in {changed} files", err=True)
    if problems:
        raise InputError(f"{len(problems)} files could not be re-encrypted; they were left unchanged")


def _reencrypt_stream(
    files: tuple[str, ...], output: str | None, fmt: str | None, opts: dict[str, Any]
) -> None:
    """``seal --re-encrypt``: the SealedSecrets of -f (or stdin) re-encrypted, other documents kept,
    written to -w, else back into the single -f file (as kubeseal does), else to stdout; all or nothing.
    """
    from secretsync import manifests
    from secretsync.errors import InputError
    from secretsync.remote import Controller

    if not output and len(files) == 1 and files[0] != manifests.STDIN:
        output = files[0]
    inputs: list[tuple[str, Any]] = []
    in_fmt = None
    for location in files or (manifests.STDIN,):
        if location == manifests.STDIN:
            _stdin_hint("SealedSecret", "-f FILE")
        source = "stdin" if location == manifests.STDIN else location
        docs, found_fmt = manifests.parse_documents(manifests.read_bytes(location), source)
        in_fmt = in_fmt or found_fmt
        inputs.extend((f"{source} document {i}", doc) for i, doc in enumerate(docs, 1))
    if not any(_is_sealed(doc) for _, doc in inputs):
        raise InputError(f"no SealedSecret in {', '.join(files) if files else 'stdin'}")

    async def rotate_all() -> list[Any]:
        async with Controller(_target(opts)) as ctl:
            return [await _rotate_one(ctl, doc, where) if _is_sealed(doc) else doc for where, doc in inputs]

    new_docs = _run(rotate_all())
    _emit(manifests.dump_documents(new_docs, _output_format(fmt, output, in_fmt or "yaml")), output)


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
    try:
        items = await api.list(kube.path_for("v1", "secrets", opts["controller_namespace"]))
    except kube.ApiError as exc:
        from secretsync.errors import InputError

        raise InputError(f"cannot list key Secrets in {opts['controller_namespace']}: {exc}") from None
    finally:
        await api.close()
    return [s for s in items if keys.is_key_secret(s, bitnami=True)]


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


@main.command("operator")
@click.option(
    "--kubeconfig",
    envvar=env("kubeconfig"),
    type=click.Path(dir_okay=False),
    help="Kubeconfig file (default: in-cluster service account, else $KUBECONFIG or ~/.kube/config).",
)
@click.option(
    "--context", envvar=env("context"), help="Kubeconfig context to use (default: the current one)."
)
@click.option(
    "--namespace",
    envvar=[env("namespace"), "POD_NAMESPACE"],
    default="secretsync-system",
    show_default=True,
    help="The operator's own namespace (keys, leases). Env: POD_NAMESPACE.",
)
@click.option(
    "--watch-namespace",
    "watch_namespaces",
    envvar=env("watch-namespace"),
    multiple=True,
    help="Namespace to watch; repeat for several. Default: all namespaces.",
)
@click.option(
    "--http-port",
    envvar=env("http-port"),
    type=int,
    default=8080,
    show_default=True,
    help="Port of the HTTP API and /healthz.",
)
@click.option(
    "--metrics-port",
    envvar=env("metrics-port"),
    type=int,
    default=8081,
    show_default=True,
    help="Port of /metrics.",
)
@click.option(
    "--bind-address",
    envvar=env("bind-address"),
    default="0.0.0.0",  # noqa: S104
    show_default=True,
    help="Address the HTTP and metrics servers listen on.",
)
@click.option(
    "--leader-elect/--no-leader-elect",
    envvar=env("leader-elect"),
    default=False,
    show_default=True,
    help="Run as one of several replicas: only the Lease holder reconciles.",
)
@click.option(
    "--key-renew-period",
    envvar=env("key-renew-period"),
    default="720h",
    show_default=True,
    help="Add a new sealing key this long after the newest one (Go duration; 0 = never).",
)
@click.option(
    "--key-cutoff-time",
    envvar=env("key-cutoff-time"),
    default=None,
    help="At start, add a new key if the newest is older than this RFC 3339 time.",
)
@click.option(
    "--bitnami-keys/--no-bitnami-keys",
    envvar=env("bitnami-keys"),
    default=False,
    show_default=True,
    help="Also load Bitnami Sealed Secrets keys from the operator namespace (migration).",
)
@click.option(
    "--allowed-servers",
    envvar=env("allowed-servers"),
    multiple=True,
    help="Servers stores may name (vault.server, gcpsm.endpoint): host, host:port, *.domain[:port]; "
    "repeat or comma-separate. Default: any host except cloud metadata and link-local addresses.",
)
@click.option(
    "--token-audiences",
    envvar=env("token-audiences"),
    multiple=True,
    help="Audiences stores may request for ServiceAccount tokens (Vault kubernetes auth) besides "
    "'vault'; repeat or comma-separate.",
)
@click.option(
    "--controller-class",
    envvar=env("controller-class"),
    default="default",
    show_default=True,
    help="Serve stores whose spec.controller is this class or empty, as ESO's --controller-class; "
    "stores of another class, and their ExternalSecrets, are left alone.",
)
@click.option(
    "--log-level",
    envvar=env("log-level"),
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
)
@click.option(
    "--log-format",
    envvar=env("log-format"),
    default="text",
    show_default=True,
    type=click.Choice(["text", "json"], case_sensitive=False),
)
@friendly_errors
def operator_command(**opts: Any) -> None:
    """Run the secretsync operator (kopf, in-process) against the configured cluster.

    Every flag can also be set through SECRETSYNC_<FLAG>, e.g. SECRETSYNC_HTTP_PORT=9000.
    """
    from secretsync.config import Settings, parse_duration, parse_time, split_list

    cutoff = opts["key_cutoff_time"]
    settings = Settings(
        key_renew_period=parse_duration(opts["key_renew_period"], what="--key-renew-period"),
        key_cutoff_time=parse_time(cutoff, what="--key-cutoff-time") if cutoff else None,
        bitnami_keys=opts["bitnami_keys"],
        namespace=opts["namespace"],
        watch_namespaces=split_list(tuple(opts["watch_namespaces"])),
        http_port=opts["http_port"],
        metrics_port=opts["metrics_port"],
        bind_address=opts["bind_address"],
        leader_elect=opts["leader_elect"],
        log_level=opts["log_level"].lower(),
        log_format=opts["log_format"].lower(),
        kubeconfig=opts["kubeconfig"],
        context=opts["context"],
        allowed_servers=split_list(tuple(opts["allowed_servers"])),
        token_audiences=split_list(tuple(opts["token_audiences"])),
        controller_class=opts["controller_class"],
    )
    import asyncio

    from secretsync import logs, operator

    logs.configure(settings.log_level, settings.log_format)
    asyncio.run(operator.run(settings))
