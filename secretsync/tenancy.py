"""Who may use what: the tenant boundary of a shared cluster, in one place (docs/security.md).

Application teams write SecretStores and ExternalSecrets in their own namespace; the
operator holds the strongest credentials in the cluster. Every rule that keeps a
tenant inside its namespace and away from the operator's own identity is a function
here, called at the one gateway where the guarded thing happens:

* :func:`check_access`: before a store's provider is used. A provider *declares* what it
  will do (:class:`Access`: the operator's ambient cloud identity or not, which servers the
  spec points it at); this module *judges*. The operator's own identity is for
  ClusterSecretStores that opt in with ``spec.useOperatorIdentity: true``, and never travels
  to a server or endpoint the spec chose.
* :func:`check_server`: the cluster admin's server allow-list (``--allowed-servers``) and the
  addresses no store may name (cloud metadata services, link-local).
* :func:`confine_path`: remote keys and find paths stay below the store's mount (no ``.`` or
  ``..`` segments, nothing that a server would normalise into another path).
* :func:`token_audiences` and :func:`check_token_subject`: ServiceAccount tokens minted for
  Vault's kubernetes auth carry a fixed audience unless the admin allowed another, and only
  for ServiceAccounts an admin marked as usable by stores.

Everything here is pure: the callers fetch what the rules need (a ServiceAccount body, the
store kind) and the rules raise :class:`~secretsync.errors.NotPermitted` with a message that
says what is refused and how to fix it.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import urllib.parse
from collections.abc import Mapping
from typing import Any, Final

from secretsync.errors import NotPermitted

OPERATOR_IDENTITY_FIELD: Final = "spec.useOperatorIdentity"
DEFAULT_TOKEN_AUDIENCE: Final = "vault"  # noqa: S105 - an audience, not a password
"""The audience of every minted token a store does not ask otherwise for.

HashiCorp's own vault-secrets-operator uses the same default. A token for the API server's
audience would let whoever receives it act as the ServiceAccount against the cluster; a
``vault`` token is only good for a Vault role configured with ``audience=vault``.
"""
TOKEN_SUBJECT_ANNOTATION: Final = "secretsync.io/allow-store-tokens"  # noqa: S105 - an annotation
"""Set to ``"true"`` on a ServiceAccount to let stores mint tokens for it (Vault kubernetes auth)."""
TOKEN_LIFETIME: Final = 600  # seconds; the token is used for one login
# Hosts no store may name, whatever the allow-list says: cloud metadata services hand out the
# node's or the operator's credentials to anyone who asks from inside the pod.
_BLOCKED_HOSTS: Final = frozenset(
    {"metadata.google.internal", "metadata", "instance-data", "metadata.azure.com"}
)
_BLOCKED_NETWORKS: Final = tuple(
    ipaddress.ip_network(net)
    for net in (
        "169.254.0.0/16",  # link-local: AWS/GCP/Azure/OpenStack metadata, ECS credentials
        "fe80::/10",  # IPv6 link-local
        "fd00:ec2::/32",  # AWS IPv6 metadata
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "0.0.0.0/8",  # "this host": reaches local services on some kernels
    )
)


@dataclasses.dataclass(frozen=True)
class Access:
    """What a store's provider will do, declared by the provider from its spec (no network)."""

    ambient_identity: bool = False
    """It would authenticate as the operator itself: SDK default chain, ADC, IRSA, Workload
    Identity, or an AWS role assumed with the operator's credentials."""
    servers: tuple[tuple[str, str], ...] = ()
    """(spec field, URL or host[:port]) for every server the spec chose; empty = public default."""


@dataclasses.dataclass(frozen=True)
class Rules:
    """What the cluster admin decided (operator flags); the defaults are safe for shared clusters."""

    allowed_servers: tuple[str, ...] = ()
    """``host``, ``host:port``, ``*.domain`` or ``*.domain:port``; empty = any host not blocked."""
    token_audiences: tuple[str, ...] = ()
    """Audiences a store may request besides :data:`DEFAULT_TOKEN_AUDIENCE`."""


# --------------------------------------------------------------------------- stores


def check_access(
    *, store_kind: str, store_ref: str, operator_identity: bool, access: Access, rules: Rules
) -> None:
    """May this store do what its provider declared? Raises NotPermitted saying why and what to do."""
    if operator_identity and access.servers:
        field = access.servers[0][0]
        raise NotPermitted(
            OPERATOR_IDENTITY_FIELD,
            f"the operator's own identity is never sent to a server or endpoint a store names ({field}); "
            f"remove {field} or {OPERATOR_IDENTITY_FIELD}",
        )
    if access.ambient_identity:
        if store_kind != "ClusterSecretStore":
            raise NotPermitted(
                "spec.provider",
                f"{store_ref} has no auth, which would use the operator's own cloud identity; a "
                "SecretStore must carry its own credentials (set auth.secretRef), or ask a cluster "
                "admin for a ClusterSecretStore",
            )
        if not operator_identity:
            raise NotPermitted(
                "spec.provider",
                f"{store_ref} has no auth, which would use the operator's own cloud identity; a "
                f"cluster admin must opt in with {OPERATOR_IDENTITY_FIELD}: true, or set auth.secretRef",
            )
        if access.servers:
            field = access.servers[0][0]
            raise NotPermitted(
                field,
                "the operator's own identity is never sent to a server or endpoint a store names; "
                f"remove {field} or give the store its own credentials",
            )
    for field, server in access.servers:
        check_server(server, rules, field)


def check_server(server: str, rules: Rules, field: str) -> None:
    """``server`` (a URL or host[:port]) must be allowed by the admin and not a metadata address."""
    host, port = _host_port(server, field)
    if host in _BLOCKED_HOSTS or _blocked_address(host):
        raise NotPermitted(
            field, f"{host} is a cloud metadata or link-local address, which no store may name"
        )
    if rules.allowed_servers and not any(_allows(entry, host, port) for entry in rules.allowed_servers):
        raise NotPermitted(
            field,
            f"{host}:{port} is not in the operator's --allowed-servers list; ask a cluster admin "
            "to add it, or use an allowed server",
        )


def _host_port(server: str, field: str) -> tuple[str, int]:
    text = server if "://" in server else f"tcp://{server}"
    try:
        parsed = urllib.parse.urlsplit(text)
        host, port = parsed.hostname, parsed.port
    except ValueError:
        host, port = None, None
    if not host:
        raise NotPermitted(field, "is not a valid host[:port] or URL")
    default = 80 if parsed.scheme == "http" else 443
    return host.lower().rstrip("."), port or default


def _blocked_address(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in net for net in _BLOCKED_NETWORKS if net.version == address.version)


def _split_entry(entry: str) -> tuple[str, str]:
    """An allow-list entry as (host pattern, port): port "" or "*" means any port."""
    text = entry.strip().lower()
    if text.startswith("["):  # [v6-address]:port
        host, _, rest = text[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else ""
    if text.count(":") == 1:
        host, port = text.split(":")
        return host.rstrip("."), port
    return text.rstrip("."), ""


def _allows(entry: str, host: str, port: int) -> bool:
    pattern, want_port = _split_entry(entry)
    if want_port not in ("", "*", str(port)):
        return False
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern


def parse_allowed_servers(values: tuple[str, ...]) -> tuple[str, ...]:
    """Validate ``--allowed-servers`` entries; ValueError names a bad one."""
    out = []
    for value in values:
        if not value.strip():
            continue
        pattern, port = _split_entry(value)
        body = pattern[2:] if pattern.startswith("*.") else pattern
        if not body or any(c in body for c in "*/ @") or not (port in ("", "*") or port.isdigit()):
            raise ValueError(f"--allowed-servers entry {value!r} is not host, host:port or *.domain[:port]")
        out.append(value.strip().lower())
    return tuple(out)


# --------------------------------------------------------------------------- paths


def confine_path(path: str, field: str) -> str:
    """``path`` with surrounding slashes trimmed, refused if any segment could leave its mount.

    Vault (and any HTTP server in front of it) normalises ``a/../b`` to ``b``: through a shared
    ClusterSecretStore a key ``../auth/token/lookup-self`` would read the store's own token. Empty
    segments (``a//b``), ``.`` and ``..`` are refused, and so are characters that some server or
    proxy could decode into a separator or a dot (backslash, percent-escapes, control characters).
    """
    trimmed = path.strip("/")
    for segment in trimmed.split("/") if trimmed else ():
        if segment in ("", ".", ".."):
            raise NotPermitted(
                field, "must not contain empty, '.' or '..' path segments (keys stay inside the store's path)"
            )
    if any(c in trimmed for c in "\\%?#") or any(ord(c) < 0x20 or ord(c) == 0x7F for c in trimmed):
        raise NotPermitted(field, "must not contain backslashes, '%', '?', '#' or control characters")
    return trimmed


# --------------------------------------------------------------------------- service-account tokens


def token_audiences(requested: tuple[str, ...], rules: Rules, field: str) -> tuple[str, ...]:
    """The audiences to mint a token for: the fixed default, or ones the admin allowed."""
    if not requested:
        return (DEFAULT_TOKEN_AUDIENCE,)
    allowed = {DEFAULT_TOKEN_AUDIENCE, *rules.token_audiences}
    for audience in requested:
        if audience not in allowed:
            raise NotPermitted(
                field,
                f"audience {audience!r} is not allowed: stores get tokens for {DEFAULT_TOKEN_AUDIENCE!r} "
                "unless a cluster admin lists another in --token-audiences",
            )
    return requested


def check_token_subject(service_account: Mapping[str, Any] | None, namespace: str, name: str) -> None:
    """Only a ServiceAccount an admin marked with :data:`TOKEN_SUBJECT_ANNOTATION` may be minted for."""
    if service_account is None:
        raise NotPermitted(
            "auth.kubernetes.serviceAccountRef", f"ServiceAccount {namespace}/{name} does not exist"
        )
    meta = service_account.get("metadata") if isinstance(service_account.get("metadata"), dict) else {}
    annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}  # type: ignore[union-attr]
    if (annotations or {}).get(TOKEN_SUBJECT_ANNOTATION) != "true":
        raise NotPermitted(
            "auth.kubernetes.serviceAccountRef",
            f"ServiceAccount {namespace}/{name} is not marked for use by stores; an admin must annotate "
            f"it {TOKEN_SUBJECT_ANNOTATION}=true",
        )
