"""What every ``secretsync`` command shares: flag/env-var naming, errors to exit codes, the
kubeconfig and controller options, reading inputs and writing outputs.

Kept apart from the commands so each command module imports one small, light module: this
imports only click at the top, and everything else (manifests, crypto, asyncio) inside the
helpers, so ``secretsync seal`` never pays for what it does not run.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from secretsync.errors import SecretSyncError, UsageError

F = TypeVar("F", bound=Callable[..., Any])

_FORMATS = ("yaml", "json")


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
    from secretsync import limits  # constants only: imports nothing

    func = click.option(
        "--max-wait",
        envvar=env("max-wait"),
        type=click.FloatRange(min=0),
        default=limits.CLI_MAX_WAIT,
        show_default=True,
        metavar="SECONDS",
        help="Longest time in all to wait out the operator's rate limit (429, or 503 with Retry-After) "
        "before giving up with an error.",
    )(func)
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


def _run(coro: Any) -> Any:
    import asyncio

    return asyncio.run(coro)
