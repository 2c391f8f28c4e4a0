"""``secretsync operator``: the in-cluster entry point, flags and SECRETSYNC_* variables to
config.Settings, then secretsync.operator.run.

secretsync.operator (kopf, kubernetes, aiohttp, prometheus_client, the providers) is imported
inside the command, never at the top: ``secretsync.cli`` imports this module to register the
command, and ``secretsync seal`` must not pay for the operator.
"""

from __future__ import annotations

from typing import Any

import click

from secretsync.cli.common import env, friendly_errors


@click.command("operator")
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
    "--watch-label-selector",
    envvar=env("watch-label-selector"),
    default="",
    help="Sharding: reconcile only the SealedSecrets, ExternalSecrets and stores this label selector "
    "matches (Kubernetes syntax), e.g. sharding.secretsync.io/key=shard1 for a shard and "
    "'!sharding.secretsync.io/key' for the main instance. Default: all of them.",
)
@click.option(
    "--manage-keys/--no-manage-keys",
    envvar=env("manage-keys"),
    default=None,
    help="Generate and renew the sealing keys (exactly one instance must). Default: yes, unless "
    "--watch-label-selector selects no unlabelled object (a shard: it reads the key ring only).",
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
    "--eso-compat/--no-eso-compat",
    envvar=env("eso-compat"),
    default=False,
    show_default=True,
    help="Also reconcile External Secrets Operator's own external-secrets.io/v1 ExternalSecrets, "
    "SecretStores and ClusterSecretStores (their CRDs must be installed; scale ESO to zero first).",
)
@click.option(
    "--bitnami-compat/--no-bitnami-compat",
    envvar=env("bitnami-compat"),
    default=False,
    show_default=True,
    help="Also reconcile Bitnami's own bitnami.com/v1alpha1 SealedSecrets (its CRD must be installed; "
    "scale Bitnami's controller to zero first; with --bitnami-keys for its keys).",
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
    "--unready-after",
    envvar=env("unready-after"),
    default="30s",
    show_default=True,
    help="/readyz fails once writes to the Kubernetes API have failed for this long (Go duration).",
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
        eso_compat=opts["eso_compat"],
        bitnami_compat=opts["bitnami_compat"],
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
        unready_after=parse_duration(opts["unready_after"], what="--unready-after"),
        watch_label_selector=opts["watch_label_selector"],
        manage_keys=opts["manage_keys"],
    )
    import asyncio

    from secretsync import logs, operator

    logs.configure(settings.log_level, settings.log_format)
    asyncio.run(operator.run(settings))
