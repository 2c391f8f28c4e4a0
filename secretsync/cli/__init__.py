"""The ``secretsync`` command line: flag parsing only; the work lives in library modules.

This package holds the click group ``main`` (the ``secretsync`` entry point) and registers the
commands, each defined in the module of its responsibility:

common.py    shared options, input/output helpers, env-var naming, errors to exit codes
seal.py      seal (kubeseal's seal flags too); kubeseal.py: kubeseal's env vars and flag habits
recovery.py  unseal, and seal --recovery-unseal
online.py    fetch-cert, validate, reencrypt (and seal --fetch-cert/--validate/--re-encrypt)
keys.py      keys generate|info|list|rotate|backup
operator.py  operator

The seal path must start fast and light: these modules import only click at the top. Each
command imports what it needs inside its body, so ``secretsync seal`` never pays for kopf,
kubernetes or a provider SDK.
"""

from __future__ import annotations

import click

from secretsync import __version__
from secretsync.cli.common import env, friendly_errors
from secretsync.cli.keys import keys_group
from secretsync.cli.kubeseal import KUBESEAL_ENV_READ
from secretsync.cli.online import fetch_cert_command, reencrypt_command, validate_command
from secretsync.cli.operator import operator_command
from secretsync.cli.recovery import unseal_command
from secretsync.cli.seal import seal_command

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


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="secretsync")
def main() -> None:
    """secretsync: Kubernetes Secrets from sealed manifests in Git and from Vault, AWS and GCP.

    \b
    Offline:   seal, unseal, keys generate, keys info
    Online:    fetch-cert, validate, reencrypt, keys list|rotate|backup
    In-cluster: operator
    """


# The registration order of the single-module cli.py (``--help`` lists the commands sorted).
main.add_command(seal_command)
main.add_command(unseal_command)
main.add_command(keys_group)
main.add_command(fetch_cert_command)
main.add_command(validate_command)
main.add_command(reencrypt_command)
main.add_command(operator_command)
