"""Google Cloud Secret Manager through the official gRPC client, with ESO's ``spec.provider.gcpsm`` fields.

Spec (defaults in brackets)::

    projectID: my-project                     # required
    location: europe-west1                    # regional secrets [none: global secrets]
    endpoint: localhost:8443                  # host[:port] override [secretmanager.googleapis.com,
                                              #   or secretmanager.LOCATION.rep.googleapis.com with location]
    auth:                                     # [none: Application Default Credentials]
      secretRef:
        secretAccessKeySecretRef: {name, key, namespace}   # a service-account key JSON

``auth.workloadIdentity`` / ``workloadIdentityFederation`` (ESO) are not supported: on GKE with
Workload Identity, omit ``auth`` and ADC picks up the pod's identity from the metadata server.

Credentials without ``auth``: with ``endpoint`` set, anonymous credentials (that is how emulators
and private endpoints behind an authenticating proxy are reached; the operator's own token never
goes to a host a store names). Without ``endpoint``: Application Default Credentials
(``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's ADC file, the metadata server), which are the
operator's own identity, so secretsync.tenancy allows them only to a ClusterSecretStore that opts
in with ``spec.useOperatorIdentity: true``. A service-account key's ``token_uri`` must be Google's.

Reads, as ESO does them: ``get`` is ``AccessSecretVersion`` of ``remoteRef.version`` [``latest``],
the payload bytes as stored (binary is fine), or with ``property`` the value
:func:`paths.raw_select` finds in the payload as stored (an object or list keeps its stored text);
``get_map`` is that JSON object key by key, strings unquoted and anything else its text exactly
as stored (ESO's ``map[string]json.RawMessage``); ``find`` lists the
project's (or location's) secrets with ``ListSecrets`` (``tags`` become a server-side label filter
``labels.k="v" AND ...``), keeps those whose secret id starts with ``find.path`` (if given) and
matches ``name.regexp`` (applied here, on the id, as ESO does), then reads each match's ``latest``
version: Secret Manager has no batch read, so ``find`` costs one ListSecrets per page plus one
AccessSecretVersion per match. A match that vanished (or has no versions) in between is skipped.

``remoteRef.metadataPolicy: Fetch`` (ESO's ``getSecretMetadata``) reads the secret resource with
``GetSecret`` instead of a version (IAM ``secretmanager.secrets.get``, which
``roles/secretmanager.secretAccessor`` lacks), at the store's ``location`` if set. ``property``
selects: ``""`` -> ``{"annotations": {...}, "labels": {...}}``; ``annotations`` / ``labels`` ->
that map's JSON; ``annotations.<k>`` / ``labels.<k>`` -> that one value (PropertyNotFound if
absent); anything else is a SpecError. JSON is Go's encoding, keys sorted, and an empty map is
``null`` as in ESO (Go decodes an empty proto map to nil). ``get_map`` follows ESO's
``GetSecretMap``: without ``property`` keys ``annotations`` and ``labels`` holding each map's
JSON text (empty when the map is); with ``labels`` one key per label. ``version`` is ignored.

Why this module looks the way it does:

* **One client per provider, no global lock.** ESO serialises all GCP calls behind a process-wide
  lock. Here the controller keeps one provider per store identity; this class builds one
  thread-safe gRPC client lazily (under a lock held only while building it) and every thread
  calls it concurrently.
* **Outages fail in seconds.** The generated client retries UNAVAILABLE for up to 60 s by itself,
  which would pin a worker thread. Every call passes an explicit short retry (UNAVAILABLE only,
  :data:`RETRY_DEADLINE`) and a per-attempt :data:`CALL_TIMEOUT`; the controller's own backoff
  takes over from there. The channel's reconnect backoff is capped (:data:`CHANNEL_OPTIONS`), so a
  recovered endpoint is used again within seconds, not after gRPC's default of up to 120 s.
* **Errors are translated once, here**: NOT_FOUND -> SecretNotFound; a disabled/destroyed version
  (FAILED_PRECONDITION) -> ProviderError saying which version and what to do; PERMISSION_DENIED /
  UNAUTHENTICATED -> ProviderAuthError naming the method, the resource and who we are;
  UNAVAILABLE / DEADLINE_EXCEEDED / RESOURCE_EXHAUSTED -> ProviderUnavailable naming the endpoint;
  INVALID_ARGUMENT -> SpecError. Messages never carry a payload or a credential.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import google.auth
import google.auth.exceptions
from google.api_core import exceptions as gexc
from google.api_core import retry as gretry
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud import secretmanager_v1 as sm
from google.cloud.secretmanager_v1.services.secret_manager_service.transports.grpc import (
    SecretManagerServiceGrpcTransport,
)
from google.oauth2 import service_account

from secretsync import limits
from secretsync.errors import (
    PropertyNotFound,
    ProviderAuthError,
    ProviderError,
    ProviderUnavailable,
    SecretNotFound,
    SpecError,
)
from secretsync.providers import paths, specs
from secretsync.providers.base import Access, FindSpec, RemoteRef, SecretKeyRef, StoreContext

log = logging.getLogger(__name__)

SPEC = "spec.provider.gcpsm"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
CALL_TIMEOUT = 10.0  # seconds per attempt; a black-holed endpoint fails with DEADLINE_EXCEEDED
RETRY_DEADLINE = 3.0  # seconds of client-side retries of UNAVAILABLE before we report the outage
FIND_PAGE_SIZE = 500  # ListSecrets page size for find (the API allows up to 25000)
CHANNEL_OPTIONS: tuple[tuple[str, int], ...] = (
    # gRPC's defaults (1 s initial, 120 s max) can leave a channel refusing calls for minutes
    # after the endpoint is back; an operator wants to notice recovery within seconds.
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.min_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 5000),
    # A secret version holds at most 64 KiB; an endpoint sending more is not Secret Manager.
    ("grpc.max_receive_message_length", limits.PROVIDER_MAX_RESPONSE_BYTES),
)
AUTH_METHODS = ("secretRef",)
_SECRET_ID = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_VERSION = re.compile(r"^(latest|[1-9][0-9]*|[A-Za-z][A-Za-z0-9_-]{0,62})$")  # number, latest, alias
_PROJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:_-]{0,127}$")  # ids, numbers, domain:project
_LOCATION = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_LABEL_KEY = re.compile(r"^[\w-]{1,63}$")
FIND = "dataFrom.find"  # the field a find's errors name
_STATE = re.compile(r"is in (\w+) state")
# The server's text names the version's full resource (a secret id has up to 255 characters)
# before its state: "Secret Version [projects/N/secrets/ID/versions/V] is in DISABLED state."
_REASON_MAX = 1024
FETCH = "Fetch"  # remoteRef.metadataPolicy that reads labels and annotations instead of the value
METADATA_GROUPS = ("annotations", "labels")
METADATA_PERMISSION_HINT = (
    "metadataPolicy Fetch reads the secret resource, which needs secretmanager.secrets.get "
    "(e.g. roles/secretmanager.viewer; roles/secretmanager.secretAccessor does not grant it)"
)

T = TypeVar("T")


# -- configuration ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class GcpConfig:
    """``spec.provider.gcpsm``, validated once when the provider is built."""

    project: str
    location: str | None
    endpoint: str  # host[:port] the client connects to
    endpoint_overridden: bool  # ``endpoint`` was set: anonymous credentials are an allowed fallback
    key_ref: SecretKeyRef | None  # service-account key JSON; None: ADC

    @property
    def parent(self) -> str:
        base = f"projects/{self.project}"
        return f"{base}/locations/{self.location}" if self.location else base


def parse_config(spec: Mapping[str, Any]) -> GcpConfig:
    """Validate the store spec; every SpecError names the field to fix."""
    project = specs.opt_str(spec, "projectID", SPEC)
    if not project:
        raise SpecError(f"{SPEC}.projectID", "is required")
    if not _PROJECT.match(project):
        raise SpecError(f"{SPEC}.projectID", f"{project!r} is not a GCP project id or number")
    location = specs.opt_str(spec, "location", SPEC)
    if location is not None and not _LOCATION.match(location):
        raise SpecError(f"{SPEC}.location", f"{location!r} is not a GCP location such as europe-west1")
    endpoint = specs.opt_str(spec, "endpoint", SPEC)
    if endpoint is not None and ("://" in endpoint or "/" in endpoint or not endpoint.strip()):
        raise SpecError(f"{SPEC}.endpoint", "must be host or host:port, without a scheme or path")
    default = f"secretmanager.{location}.rep.googleapis.com" if location else "secretmanager.googleapis.com"
    return GcpConfig(
        project=project,
        location=location,
        endpoint=endpoint or default,
        endpoint_overridden=endpoint is not None,
        key_ref=_parse_auth(spec.get("auth")),
    )


def _parse_auth(auth: Any) -> SecretKeyRef | None:
    if auth is None:
        return None
    where = f"{SPEC}.auth"
    if not isinstance(auth, Mapping):
        raise SpecError(where, "must be an object")
    unknown = sorted(k for k, v in auth.items() if v is not None and k not in AUTH_METHODS)
    if unknown:
        raise SpecError(
            f"{where}.{unknown[0]}",
            "is not supported by secretsync: use secretRef, or omit auth for Application Default "
            "Credentials (which covers GKE Workload Identity)",
        )
    body = auth.get("secretRef")
    if body is None:
        return None
    if not isinstance(body, Mapping) or body.get("secretAccessKeySecretRef") is None:
        raise SpecError(f"{where}.secretRef.secretAccessKeySecretRef", "is required")
    ref_where = f"{where}.secretRef.secretAccessKeySecretRef"
    return specs.secret_key_ref(body["secretAccessKeySecretRef"], ref_where)


# -- credentials -----------------------------------------------------------------------------------

_KEY_FIELDS = ("client_email", "private_key", "token_uri")


def service_account_credentials(raw: bytes, ref: SecretKeyRef) -> tuple[Credentials, str]:
    """Credentials and a printable identity from a service-account key JSON; no network.

    Every problem is a ProviderAuthError naming the Secret key and the missing or bad part, never
    the key material: google-auth's own messages are not passed on, since a parse error could
    quote the input.
    """
    where = f"Secret key {_ref_text(ref)}"
    try:
        info = paths.loads(raw)
    except ValueError:
        info = None
    if not isinstance(info, dict):
        raise ProviderAuthError(f"gcp: {where} is not a service-account key JSON (not a JSON object)")
    if info.get("type") != "service_account":
        raise ProviderAuthError(
            f'gcp: {where} is not a service-account key JSON (type is not "service_account")'
        )
    missing = [f for f in _KEY_FIELDS if not isinstance(info.get(f), str) or not info[f]]
    if missing:
        raise ProviderAuthError(f"gcp: service-account key in {where} lacks {', '.join(missing)}")
    if not _is_google_token_uri(info["token_uri"]):
        # google-auth POSTs a signed assertion to token_uri and reports the answer: a key naming
        # another host would make the operator probe any server a tenant chooses.
        raise ProviderAuthError(
            f"gcp: service-account key in {where} has a token_uri that is not an https Google endpoint"
        )
    try:
        credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            info, scopes=[CLOUD_PLATFORM]
        )
    except Exception:  # ValueError, or cryptography's errors for a bad PEM: all mean "bad key"
        raise ProviderAuthError(
            f"gcp: service-account key in {where} has an unusable private_key (not an RSA PEM key)"
        ) from None
    return credentials, f"service account {info['client_email']}"


def _is_google_token_uri(uri: str) -> bool:
    try:
        parsed = urllib.parse.urlsplit(uri)
    except ValueError:
        return False
    host = (parsed.hostname or "").lower()
    return parsed.scheme == "https" and (
        host in ("oauth2.googleapis.com", "accounts.google.com") or host.endswith(".googleapis.com")
    )


def _ref_text(ref: SecretKeyRef) -> str:
    where = f"{ref.namespace}/" if ref.namespace else ""
    return f"{where}{ref.name}[{ref.key}]"


def _transport(**kwargs: Any) -> SecretManagerServiceGrpcTransport:
    """The stock gRPC transport, its channel with :data:`CHANNEL_OPTIONS` in place of its own.

    Passed to the client as a callable so the client still resolves credentials and
    ``client_options`` itself (a transport *instance* would forbid both).
    """

    def channel(host: str, **channel_kwargs: Any) -> Any:
        # gRPC takes the *first* value of a repeated option, and the stock transport sets
        # max_receive_message_length to -1 (no limit): ours replace the client's, not follow them.
        ours = {key for key, _ in CHANNEL_OPTIONS}
        theirs = [opt for opt in channel_kwargs.pop("options", None) or [] if opt[0] not in ours]
        options = [*CHANNEL_OPTIONS, *theirs]
        return SecretManagerServiceGrpcTransport.create_channel(host, options=options, **channel_kwargs)

    return SecretManagerServiceGrpcTransport(channel=channel, **kwargs)


# -- the provider ------------------------------------------------------------------------------------


class GcpProvider:
    """One Secret Manager client for one store identity, shared by all its ExternalSecrets."""

    name = "gcpsm"

    def __init__(self, context: StoreContext) -> None:
        """Validate the spec (SpecError if malformed); no credentials and no network until first use."""
        self._context = context
        self._config = parse_config(context.spec)
        # No auth: Application Default Credentials, the operator's own identity, unless an endpoint
        # is set, where the client goes anonymous: the operator's token never goes to such a host.
        ambient = self._config.key_ref is None and not self._config.endpoint_overridden
        endpoint = ((f"{SPEC}.endpoint", self._config.endpoint),) if self._config.endpoint_overridden else ()
        self.access = Access(ambient_identity=ambient, servers=endpoint)
        self._lock = threading.Lock()  # guards building / dropping the client only
        self._client: sm.SecretManagerServiceClient | None = None
        self._identity = "not yet authenticated"
        self._retry = gretry.Retry(
            predicate=gretry.if_exception_type(gexc.ServiceUnavailable),
            initial=0.1,
            maximum=1.0,
            multiplier=2.0,
            timeout=RETRY_DEADLINE,
        )

    # -- Provider interface -----------------------------------------------------------------

    def get(self, ref: RemoteRef) -> bytes:
        if ref.metadata_policy == FETCH:
            return self._metadata_value(ref)
        subject, data = self._read(ref.key, ref.version)
        if not ref.property:
            return data
        return paths.raw_select(data, ref.property, where=f"gcp: {subject}")

    def get_map(self, ref: RemoteRef) -> dict[str, bytes]:
        if ref.metadata_policy == FETCH:
            return self._metadata_map(ref)
        subject, data = self._read(ref.key, ref.version)
        if not ref.property:
            return paths.raw_extract(data, f"gcp: {subject}")
        selected = paths.raw_select(data, ref.property, where=f"gcp: {subject}")
        return paths.raw_extract(selected, f"gcp: {subject} property {ref.property!r}")

    def find(self, spec: FindSpec) -> dict[str, bytes]:
        matcher = paths.compile_name_regexp(spec.name_regexp)
        prefix = (spec.path or "").strip("/")
        label_filter = _label_filter(spec.tags)
        found: dict[str, bytes] = {}
        for full_name in self._list_secrets(label_filter):
            secret_id = full_name.rsplit("/", 1)[-1]
            if prefix and not secret_id.startswith(prefix):
                continue
            if matcher is not None and not matcher.search(secret_id):
                continue
            try:
                paths.check_find_size(len(found) + 1)
                found[secret_id] = self._access(f"{full_name}/versions/latest", "latest", FIND)
            except SecretNotFound:  # deleted since the listing, or no versions yet: skip, like ESO
                continue
        return found

    def check(self) -> None:
        """Prove the store usable: endpoint reachable, credentials accepted, and the identity may
        list secrets in the project (or location). One ListSecrets call with page_size 1; it does
        not prove any particular secret readable."""
        parent = self._config.parent
        request = sm.ListSecretsRequest(parent=parent, page_size=1)
        self._call(
            "ListSecrets",
            parent,
            "find",
            lambda client: client.list_secrets(request=request, retry=self._retry, timeout=CALL_TIMEOUT),
        )

    def close(self) -> None:
        """Close the gRPC channel; a later call would build a new client."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.transport.close()  # type: ignore[no-untyped-call]
            except Exception:  # closing is best effort; never fail a shutdown over it
                log.debug("gcp: closing the client for %s failed", self._context.ref, exc_info=True)

    # -- reads --------------------------------------------------------------------------------

    def _read(self, key: str, version: str | None) -> tuple[str, bytes]:
        """AccessSecretVersion of ``key`` at ``version``; returns a label for messages and the payload."""
        if not _SECRET_ID.match(key):
            raise SpecError(
                "remoteRef.key", f"{key!r} is not a Secret Manager secret id ([A-Za-z0-9_-], 1-255 chars)"
            )
        version = version or "latest"
        if not _VERSION.match(version):
            raise SpecError(
                "remoteRef.version", f"{version!r} is not a version number, latest, or a version alias"
            )
        secret = f"{self._config.parent}/secrets/{key}"
        return f"secret {secret} version {version}", self._access(f"{secret}/versions/{version}", version)

    # -- metadataPolicy: Fetch -------------------------------------------------------------------

    def _metadata_value(self, ref: RemoteRef) -> bytes:
        """ESO's ``getSecretMetadata``: one label or annotation, one map, or both maps, as JSON."""
        group, item = _metadata_selector(ref.property)
        name, metadata = self._read_metadata(ref.key)
        if group is None:
            return paths.go_json({key: metadata[key] or None for key in METADATA_GROUPS})
        if item is None:
            return paths.go_json(metadata[group] or None)
        try:
            return metadata[group][item].encode()
        except KeyError:
            kind = group[:-1]  # annotation | label
            raise PropertyNotFound(
                f"gcp: {kind} with key {item} does not exist in secret {ref.key} (GetSecret {name})"
            ) from None

    def _metadata_map(self, ref: RemoteRef) -> dict[str, bytes]:
        """ESO's ``GetSecretMap`` over :meth:`_metadata_value`: string values unquoted, the rest
        the raw JSON text; Go reads a ``null`` map as no keys (a group) or an empty string (a
        whole map inside the answer without ``property``)."""
        group, item = _metadata_selector(ref.property)
        if group is None:
            _name, metadata = self._read_metadata(ref.key)
            return {key: paths.go_json(metadata[key]) if metadata[key] else b"" for key in METADATA_GROUPS}
        if item is None:
            _name, metadata = self._read_metadata(ref.key)
            return {key: value.encode() for key, value in metadata[group].items()}
        value = self._metadata_value(ref)
        where = f"gcp: {group[:-1]} {item} of secret {ref.key}"
        return paths.raw_extract(value, where)

    def _read_metadata(self, key: str) -> tuple[str, dict[str, dict[str, str]]]:
        """GetSecret (the secret resource, never a version's payload) of ``key`` in the store's
        project or location; returns its full name and its ``annotations`` and ``labels``."""
        if not _SECRET_ID.match(key):
            raise SpecError(
                "remoteRef.key", f"{key!r} is not a Secret Manager secret id ([A-Za-z0-9_-], 1-255 chars)"
            )
        name = f"{self._config.parent}/secrets/{key}"
        secret = self._call(
            "GetSecret",
            name,
            "remoteRef",
            lambda client: client.get_secret(
                request=sm.GetSecretRequest(name=name), retry=self._retry, timeout=CALL_TIMEOUT
            ),
            denied_hint=METADATA_PERMISSION_HINT,
        )
        return name, {"annotations": dict(secret.annotations), "labels": dict(secret.labels)}

    def _access(self, name: str, version: str, field: str = "remoteRef") -> bytes:
        secret = name.rsplit("/versions/", 1)[0]
        response = self._call(
            "AccessSecretVersion",
            name,
            field,
            lambda client: client.access_secret_version(
                request=sm.AccessSecretVersionRequest(name=name), retry=self._retry, timeout=CALL_TIMEOUT
            ),
            secret=secret,
            version=version,
        )
        return bytes(response.payload.data)

    def _list_secrets(self, label_filter: str) -> Iterator[str]:
        """Full names of every secret under the parent matching ``label_filter``, page by page."""
        parent = self._config.parent
        request = sm.ListSecretsRequest(parent=parent, filter=label_filter, page_size=FIND_PAGE_SIZE)
        pager = self._call(
            "ListSecrets",
            parent,
            FIND,
            lambda client: client.list_secrets(request=request, retry=self._retry, timeout=CALL_TIMEOUT),
        )
        # The pager fetches further pages lazily, with the same retry and timeout: translate those too.
        pages = iter(pager.pages)
        while True:
            page = self._call("ListSecrets", parent, FIND, lambda _client: next(pages, None))
            if page is None:
                return
            yield from (secret.name for secret in page.secrets)

    # -- the client and error translation -----------------------------------------------------------

    def _get_client(self) -> sm.SecretManagerServiceClient:
        client = self._client
        if client is not None:
            return client
        with self._lock:
            if self._client is None:
                credentials, self._identity = self._credentials()
                self._client = sm.SecretManagerServiceClient(
                    credentials=credentials,
                    transport=_transport,
                    client_options={"api_endpoint": self._config.endpoint},
                )
                log.info("gcp: %s uses %s at %s", self._context.ref, self._identity, self._config.endpoint)
            return self._client

    def _credentials(self) -> tuple[Credentials, str]:
        """The store's credentials (called with the lock held); ``login`` is reported for real ones."""
        ref = self._config.key_ref
        if ref is not None:
            credentials, identity = service_account_credentials(self._context.read_credential(ref), ref)
            self._context.on_event("login")
            return credentials, identity
        if self._config.endpoint_overridden:
            # Emulators and private endpoints behind an authenticating proxy need no Google token, and
            # the operator's own (ADC) must never travel to a host a store names (secretsync.tenancy).
            return AnonymousCredentials(), "anonymous credentials (endpoint override without auth)"  # type: ignore[no-untyped-call]
        try:
            found, _project = google.auth.default(scopes=[CLOUD_PLATFORM])
        except google.auth.exceptions.DefaultCredentialsError:
            raise ProviderAuthError(
                f"gcp: {self._context.ref} has no auth and no Application Default Credentials were "
                "found: set auth.secretRef.secretAccessKeySecretRef to a service-account key, or run "
                "with GKE Workload Identity / GOOGLE_APPLICATION_CREDENTIALS"
            ) from None
        self._context.on_event("login")
        email = getattr(found, "service_account_email", None)
        identity = "application default credentials" + (f" ({email})" if isinstance(email, str) else "")
        return found, identity

    def _call(
        self,
        method: str,
        resource: str,
        field: str,
        do: Callable[[sm.SecretManagerServiceClient], T],
        *,
        secret: str | None = None,
        version: str | None = None,
        denied_hint: str = "",
    ) -> T:
        """Run one RPC and translate every failure into our taxonomy (see the module docstring);
        ``denied_hint`` is added to a PERMISSION_DENIED message."""
        client = self._get_client()
        try:
            return do(client)
        except gexc.RetryError as err:
            cause = err.cause if isinstance(err.cause, Exception) else err
            raise self._translate(cause, method, resource, field, secret, version, denied_hint) from None
        except (gexc.GoogleAPIError, google.auth.exceptions.GoogleAuthError) as err:
            raise self._translate(err, method, resource, field, secret, version, denied_hint) from None

    def _translate(
        self,
        err: Exception,
        method: str,
        resource: str,
        field: str,
        secret: str | None,
        version: str | None,
        denied_hint: str,
    ) -> Exception:
        """Our error for ``err``: built from the gRPC status code and our own words only. The
        server's message is not passed on: an endpoint a store names is not ours to vouch for."""
        code = _code_name(err)
        subject = f"secret {secret} version {version}" if secret else resource
        if isinstance(err, gexc.NotFound):
            if secret:
                return SecretNotFound(f"gcp: {subject} not found")
            return SecretNotFound(f"gcp: {resource} not found ({method})")
        if isinstance(err, gexc.FailedPrecondition) and secret:
            return ProviderError(f"gcp: {_unusable_version(subject, version, _reason(err), field)}")
        if isinstance(err, gexc.PermissionDenied):
            hint = f"; {denied_hint}" if denied_hint else ""
            return ProviderAuthError(
                f"gcp: permission denied for {method} on {resource} as {self._identity} ({code}){hint}"
            )
        if isinstance(err, gexc.Unauthenticated | google.auth.exceptions.RefreshError):
            return ProviderAuthError(
                f"gcp: credentials rejected for {method} on {resource} ({self._identity}; {code})"
            )
        if isinstance(
            err,
            gexc.ServiceUnavailable
            | gexc.DeadlineExceeded
            | gexc.TooManyRequests
            | gexc.InternalServerError
            | google.auth.exceptions.TransportError,
        ):
            return ProviderUnavailable(
                f"gcp: Secret Manager at {self._config.endpoint} unavailable for {method} on {resource} "
                f"({code})"
            )
        if isinstance(err, gexc.InvalidArgument):
            return SpecError(field, f"gcp: {method} on {resource} rejected as invalid ({code})")
        return ProviderError(f"gcp: {method} on {resource} failed ({code})")


def _code_name(err: Exception) -> str:
    """The gRPC status code's name (``PERMISSION_DENIED``), or the exception class for transport errors."""
    code = getattr(err, "grpc_status_code", None) or getattr(err, "code", None)
    name = getattr(code, "name", None)
    return name if isinstance(name, str) else type(err).__name__


def _unusable_version(subject: str, version: str | None, reason: str, field: str) -> str:
    """Why a version cannot be read (FAILED_PRECONDITION) and what to do about it.

    Only the state is taken from the server's text, and only if it is one we know. ``find``
    has no version to set: it reads each secret's latest."""
    found = _STATE.search(reason)
    state = found.group(1).upper() if found else None
    if field == FIND:
        if state == "DISABLED":
            return (
                f"{subject} is DISABLED ({FIND} reads each secret's newest version): enable it or "
                "add a new one"
            )
        if state == "DESTROYED":
            return (
                f"{subject} is DESTROYED ({FIND} reads each secret's newest version): its data is gone; "
                "add a new version"
            )
        return f"{subject} cannot be accessed (FAILED_PRECONDITION)"
    latest = " (latest is the newest version, whatever its state; it never falls back)"
    latest = latest if version == "latest" else ""
    if state == "DISABLED":
        return f"{subject} is DISABLED{latest}: enable it, or set remoteRef.version to another version"
    if state == "DESTROYED":
        return (
            f"{subject} is DESTROYED{latest}: its data is gone; add a new version or set "
            "remoteRef.version to another one"
        )
    return f"{subject} cannot be accessed (FAILED_PRECONDITION)"


def _metadata_selector(prop: str | None) -> tuple[str | None, str | None]:
    """``property`` under metadataPolicy Fetch, as ESO reads it: (None, None) for both maps,
    (group, None) for ``annotations`` / ``labels``, (group, key) for ``annotations.<key>`` /
    ``labels.<key>``; anything else is a SpecError (checked before any call)."""
    if not prop:
        return None, None
    for group in METADATA_GROUPS:
        if prop.startswith(f"{group}.") and len(prop) > len(group) + 1:
            return group, prop[len(group) + 1 :]
        if prop == group:
            return group, None
    raise SpecError(
        "remoteRef.property",
        f"invalid property {prop}: metadata property should start with annotations or labels",
    )


def _label_filter(tags: Mapping[str, str]) -> str:
    """``find.tags`` as a ListSecrets filter; keys are checked and values quoted so no tag can
    change the filter's meaning."""
    terms = []
    for key, value in sorted(tags.items()):
        if not _LABEL_KEY.match(key):
            raise SpecError("dataFrom.find.tags", f"{key!r} is not a valid GCP label key")
        quoted = str(value).replace("\\", "\\\\").replace('"', '\\"')
        terms.append(f'labels.{key}="{quoted}"')
    return " AND ".join(terms)


def _reason(err: Exception) -> str:
    """The server's one-line reason, trimmed: searched for a known state, never shown to users."""
    text = getattr(err, "message", None) or str(err) or type(err).__name__
    text = " ".join(str(text).split())
    return text if len(text) <= _REASON_MAX else text[: _REASON_MAX - 3] + "..."
