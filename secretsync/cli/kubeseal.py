"""kubeseal compatibility for ``secretsync seal``: its environment variables, kubectl's connection
flags (accepted, hidden, then refused with one line), its string-slice flags, and which of its mode
flags (--raw, --merge-into, --fetch-cert, --validate, --re-encrypt, --recovery-unseal) combine.

Apart from seal.py so that the seal command reads as what it does, and what merely mirrors
kubeseal's habits is in one place; the tables here follow kubeseal's cmd/kubeseal/main.go.
"""

from __future__ import annotations

from typing import Any

import click

from secretsync.cli.common import F
from secretsync.errors import UsageError

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
