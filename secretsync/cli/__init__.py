"""The ``secretsync`` command line: flag parsing only; the work lives in library modules.

This package holds the click group ``main`` (the ``secretsync`` entry point) and registers the
commands, each defined in the module of its responsibility:

common.py    shared options, input/output helpers, env-var naming, errors to exit codes
seal.py      seal (kubeseal's seal flags too); kubeseal.py: kubeseal's env vars and flag habits
recovery.py  unseal, and seal --recovery-unseal
online.py    fetch-cert, validate, reencrypt (and seal --fetch-cert/--validate/--re-encrypt)
keys.py      keys generate|info|list|rotate|backup
operator.py  operator

The seal path must start fast and light: ``main`` is a group whose commands are imported by
name, only when run (or listed by ``--help``), so ``secretsync seal`` loads seal.py and what it
imports, never keys.py, operator.py and the rest; and these modules import only click at the top.
Each command imports what it needs inside its body, so ``secretsync seal`` never pays for kopf,
aiohttp or a provider SDK.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from secretsync import __version__

__all__ = [
    "KUBESEAL_ENV_READ",
    "env",
    "fetch_cert_command",
    "friendly_errors",
    "keys_group",
    "main",
    "operator_command",
    "reencrypt_command",
    "seal_command",
    "unseal_command",
    "validate_command",
]

#: Each command: its name on the command line -> (module in this package, attribute). In the
#: registration order of the single-module cli.py (``--help`` lists the commands sorted).
COMMANDS: dict[str, tuple[str, str]] = {
    "seal": ("seal", "seal_command"),
    "unseal": ("recovery", "unseal_command"),
    "keys": ("keys", "keys_group"),
    "fetch-cert": ("online", "fetch_cert_command"),
    "validate": ("online", "validate_command"),
    "reencrypt": ("online", "reencrypt_command"),
    "operator": ("operator", "operator_command"),
}
#: The names this package re-exports (for callers of the single-module cli.py), imported on use.
_EXPORTS: dict[str, tuple[str, str]] = {attr: (module, attr) for module, attr in COMMANDS.values()} | {
    "env": ("common", "env"),
    "friendly_errors": ("common", "friendly_errors"),
    "KUBESEAL_ENV_READ": ("kubeseal", "KUBESEAL_ENV_READ"),
}


def _load(module: str, attr: str) -> Any:
    return getattr(importlib.import_module(f"{__name__}.{module}"), attr)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return _load(*_EXPORTS[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class LazyGroup(click.Group):
    """A click group that imports a command's module when the command is looked up, not before."""

    def __init__(self, *args: Any, lazy_commands: dict[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands and cmd_name not in self.commands:
            command = _load(*self.lazy_commands[cmd_name])
            if not isinstance(command, click.Command) or command.name != cmd_name:
                raise RuntimeError(f"{self.lazy_commands[cmd_name]} is not the {cmd_name!r} command")
            self.add_command(command)
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="secretsync")
def main() -> None:
    """secretsync: Kubernetes Secrets from sealed manifests in Git and from Vault, AWS and GCP.

    \b
    Offline:   seal, unseal, keys generate, keys info
    Online:    fetch-cert, validate, reencrypt, keys list|rotate|backup
    In-cluster: operator
    """
