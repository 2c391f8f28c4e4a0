"""The provider interface: how the ExternalSecret controller reads from a secret backend.

A provider knows its backend and nothing of Kubernetes or kopf. Everything it
needs from the cluster arrives as plain values and callables in a
:class:`StoreContext`: the provider section of the store spec, a
:class:`CredentialReader` for Secret keys named by the store's auth refs
(namespace rules are the reader's job, not the provider's), and a token
minter for service-account tokens (Vault's kubernetes auth).

Methods are synchronous: the backends' clients (requests, boto3, google-cloud) are;
the controller calls them from a thread pool. Each provider translates its
SDK's errors once, inside the provider, into :class:`SecretNotFound`,
:class:`ProviderAuthError`, :class:`ProviderUnavailable` or :class:`SpecError`,
with a message naming the operation and the path, never a value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from secretsync.tenancy import Access as Access  # re-exported: providers declare their access with it


@dataclasses.dataclass(frozen=True)
class SecretKeyRef:
    """A key of a Kubernetes Secret named by a store's auth section."""

    name: str
    key: str
    namespace: str | None = None  # only a ClusterSecretStore may name one


@dataclasses.dataclass(frozen=True)
class RemoteRef:
    """One remote value: ``data[].remoteRef`` or ``dataFrom[].extract``."""

    key: str
    property: str | None = None
    version: str | None = None
    # ESO's metadataPolicy: "None" reads the value; "Fetch" reads the secret's metadata instead
    # (Vault KV v2 custom_metadata, AWS tags, GCP labels and annotations), as a JSON object of
    # strings, with ``property`` selecting one entry (see each provider for the exact forms).
    metadata_policy: str = "None"


@dataclasses.dataclass(frozen=True)
class FindSpec:
    """``dataFrom[].find``: every remote secret under ``path`` whose name matches / tags match."""

    path: str | None = None
    name_regexp: str | None = None
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)


class CredentialReader(Protocol):
    """Reads a Secret key for a store's auth; raises SpecError / ProviderAuthError with the reason."""

    def __call__(self, ref: SecretKeyRef) -> bytes: ...


class TokenMinter(Protocol):
    """Mints a service-account token (TokenRequest API) for ``name`` with ``audiences``."""

    def __call__(self, name: str, namespace: str | None, audiences: tuple[str, ...]) -> str: ...


def _no_tokens(name: str, namespace: str | None, audiences: tuple[str, ...]) -> str:
    from secretsync.errors import ProviderAuthError

    raise ProviderAuthError("this operator cannot mint service-account tokens")


@dataclasses.dataclass(frozen=True)
class StoreContext:
    """What a provider factory gets: the store's identity, its provider spec and cluster access."""

    store_kind: str  # SecretStore | ClusterSecretStore
    store_name: str
    store_namespace: str | None  # the store's own namespace (None for a ClusterSecretStore)
    spec: Mapping[str, Any]  # spec.provider.<name>
    read_credential: CredentialReader
    mint_token: TokenMinter = _no_tokens
    on_event: Callable[[str], None] = lambda _event: None  # e.g. "login", for metrics

    @property
    def ref(self) -> str:
        where = f"{self.store_namespace}/" if self.store_namespace else ""
        return f"{self.store_kind} {where}{self.store_name}"


class Provider(Protocol):
    """One authenticated client for one store identity, shared by every ExternalSecret using it."""

    name: str
    access: Access
    """What this store will do with whose identity, from its spec alone (set by the constructor,
    before any network): the controller has secretsync.tenancy judge it before the first call."""

    def get(self, ref: RemoteRef) -> bytes:
        """One value: the remote secret, or its ``property``; raises SecretNotFound if absent.
        With ``ref.metadata_policy == "Fetch"``: the secret's metadata instead (see RemoteRef)."""
        ...

    def get_map(self, ref: RemoteRef) -> dict[str, bytes]:
        """``extract``: the remote secret (or its ``property``) as a JSON object, key by key; with
        ``metadata_policy == "Fetch"`` the metadata object, key by key."""
        ...

    def find(self, spec: FindSpec) -> dict[str, bytes]:
        """``find``: remote secret name (``/`` kept) -> value, for every match."""
        ...

    def check(self) -> None:
        """Validate the store: authenticate and reach the backend; raise our errors if not."""
        ...

    def close(self) -> None:
        """Release the client (called when the store changes or the operator stops)."""
        ...


ProviderFactory = Callable[[StoreContext], Provider]
