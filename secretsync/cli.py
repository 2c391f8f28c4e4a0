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


def _not_yet(name: str, issue: str) -> click.Command:
    """A command group that later work fills; it says so instead of pretending to work."""

    @click.command(name, context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    def command() -> None:
        click.echo(f"error: `secretsync {name}` is not available in this build yet ({issue}).", err=True)
        sys.exit(2)

    command.help = f"(not available yet: {issue})"
    return command


for _name, _issue in (
    ("seal", "sealing core"),
    ("unseal", "sealing core"),
    ("keys", "sealing core"),
    ("fetch-cert", "SealedSecret operator"),
    ("validate", "SealedSecret operator"),
    ("reencrypt", "SealedSecret operator"),
):
    main.add_command(_not_yet(_name, _issue))


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
    from secretsync.config import Settings, split_namespaces

    settings = Settings(
        namespace=opts["namespace"],
        watch_namespaces=split_namespaces(tuple(opts["watch_namespaces"])),
        http_port=opts["http_port"],
        metrics_port=opts["metrics_port"],
        bind_address=opts["bind_address"],
        leader_elect=opts["leader_elect"],
        log_level=opts["log_level"].lower(),
        log_format=opts["log_format"].lower(),
        kubeconfig=opts["kubeconfig"],
        context=opts["context"],
    )
    import asyncio

    from secretsync import logs, operator

    logs.configure(settings.log_level, settings.log_format)
    asyncio.run(operator.run(settings))
