"""The one adapter to the Kubernetes API.

Only this module imports the ``kubernetes`` client. It turns the standard client
configuration (``--kubeconfig``/``--context``, ``KUBECONFIG``, ``~/.kube/config``
or the in-cluster service account) into plain :class:`Connection` values that
the operator hands to kopf and to its own API calls.
"""

from __future__ import annotations

import dataclasses
import os

from secretsync.errors import UsageError


@dataclasses.dataclass(frozen=True)
class Connection:
    """Where the API server is and how to authenticate, as loaded from the client config."""

    server: str
    ca_path: str | None = None
    insecure: bool = False
    scheme: str | None = None
    token: str | None = dataclasses.field(default=None, repr=False)
    username: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)
    certificate_path: str | None = None
    private_key_path: str | None = None
    default_namespace: str | None = None


def _in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST"))


def load_connection(kubeconfig: str | None = None, context: str | None = None) -> Connection:
    """Load the standard client configuration, in the order kubectl users expect.

    An explicit ``--kubeconfig`` or ``--context`` wins; otherwise the in-cluster
    service account when running in a pod; otherwise ``KUBECONFIG`` or
    ``~/.kube/config``. Errors become :class:`UsageError` with the reason.
    """
    from kubernetes import client, config

    cfg = client.Configuration()
    default_ns: str | None = None
    try:
        if kubeconfig is None and context is None and _in_cluster():
            config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
            ns_file = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
            if os.path.exists(ns_file):
                with open(ns_file, encoding="utf-8") as fh:
                    default_ns = fh.read().strip() or None
        else:
            config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=cfg)  # type: ignore[no-untyped-call]
            contexts, active = config.list_kube_config_contexts(config_file=kubeconfig)  # type: ignore[no-untyped-call]
            chosen = next((c for c in contexts if c.get("name") == context), active) if context else active
            default_ns = (chosen or {}).get("context", {}).get("namespace")
    except (config.ConfigException, OSError) as exc:
        where = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
        raise UsageError(f"cannot load Kubernetes client configuration from {where}: {exc}") from None

    header = cfg.get_api_key_with_prefix("BearerToken") or cfg.get_api_key_with_prefix("authorization")
    parts = header.split(" ", 1) if header else []
    scheme, token = (
        (None, None) if not parts else (None, parts[0]) if len(parts) == 1 else (parts[0], parts[1])
    )
    return Connection(
        server=cfg.host,
        ca_path=cfg.ssl_ca_cert or None,
        insecure=not cfg.verify_ssl,
        scheme=scheme,
        token=token,
        username=cfg.username or None,
        password=cfg.password or None,
        certificate_path=cfg.cert_file or None,
        private_key_path=cfg.key_file or None,
        default_namespace=default_ns,
    )
