"""HashiCorp Vault / OpenBao KV v1 and v2 over its HTTP API, with ESO's ``spec.provider.vault`` fields.

Spec (defaults in brackets)::

    server: https://vault.example:8200        # required, http(s) URL
    path: secret                              # KV mount [none: the key's first segment is the mount]
    version: v2                               # v1 | v2 [v2]
    namespace: team-a                         # X-Vault-Namespace (Vault Enterprise / OpenBao) [none]
    caBundle: <base64 PEM>                    # extra trust for https [system roots]
    auth:                                     # exactly one method
      namespace: admin                        # namespace for the login only [spec.namespace]
      tokenSecretRef: {name, key, namespace}
      appRole: {path [approle], roleId | roleRef {name, key, namespace}, secretRef {name, key, namespace}}
      kubernetes: {mountPath [kubernetes], role,
                   serviceAccountRef {name, namespace, audiences [API server default]}
                   | secretRef {name, key [token], namespace}}

``caProvider`` is ignored. Keys follow ESO's ``buildPath``: ``app/db`` and ``secret/app/db`` (and on
v2 ``secret/data/app/db``) all read ``secret/data/app/db`` when ``path: secret``.

Reads, as ESO does them (``client_get.go``): ``get`` is the secret's map as Go's ``json.Marshal``
writes it (keys sorted, ``<``, ``>``, ``&`` escaped, every number with the text Vault sent, as
vault/api's ``UseNumber`` keeps it: ``1e-7`` stays ``1e-7``), or its ``property`` (see
:mod:`secretsync.providers.paths`); ``get_map`` unmarshals those bytes as Go does into
``map[string]any``, so numbers are float64 there (``1e-7`` -> ``0.0000001``) and nested objects
are re-marshalled with float64 numbers; ``find`` LISTs recursively under ``find.path``
and returns, for every secret whose name (relative to the mount, ``/`` kept) matches
``name.regexp`` and whose KV v2 ``custom_metadata`` carries all ``tags``, its whole map as ``get``
gives it. (ESO ignores tags when a name is given; here both must match.)

``remoteRef.metadataPolicy: Fetch`` (ESO's ``readSecretMetadata``, KV v2 only; a KV v1 store
refuses it) reads ``<mount>/metadata/<key>`` instead of the value, so the token needs ``read`` on
that path, not on ``<mount>/data/<key>``. The answer is a map of strings: ``created_time``,
``current_version`` and ``delete_version_after`` (as ESO's newest code adds them), then
``custom_metadata`` over them; ``get`` without ``property`` is its JSON (Go's encoding, keys sorted),
with ``property`` an exact key first, then a gjson-style path, as for values; ``get_map`` is the
map key by key. ``version`` is ignored (metadata covers every version), as in ESO. Where this
differs from ESO: a map with no keys at all (only a server without the system keys sends that) is
``{}`` here, not an empty value, and a ``property`` missing from it is PropertyNotFound; ESO's fallback
to a legacy mount-prefixed metadata path (a bug of its own earlier versions) is not copied.

Why this module looks the way it does:

* **One token per provider.** ESO logs in (and revokes) on every sync, which is its best-known
  scaling problem. Here the controller keeps one provider per store generation, shared by every
  ExternalSecret, and this class keeps one token: it logs in lazily, renews the token
  (``renew-self``) once 2/3 of its TTL has passed, logs in again when renewal fails or the
  token nears its max TTL, and re-authenticates once if Vault says a live-looking token is no
  longer valid (revoked, or the server lost its memory). A 403 from a token that still passes
  ``lookup-self`` is a policy decision and is reported, not retried with a new login.
* **Reads stay concurrent.** Every request carries the token it was issued with, so a refresh
  never races a read; only login and renewal take the lock, and while one thread renews a
  still-valid token the others keep reading with it.
* **Errors are translated once, here**, into SecretNotFound / ProviderAuthError /
  ProviderUnavailable / SpecError with the operation, the Vault path and the reason, and never a
  value or a credential: Vault's own error text is scrubbed of every credential we sent.
* **No environment magic.** Vault clients read ``VAULT_TOKEN``, ``~/.vault-token`` and
  ``VAULT_CACERT``; a multi-tenant operator must not, so requests are made here, with nothing
  taken from the environment but the proxy settings and CA bundle, read once.
* **The server is a tenant's choice** (``spec.provider.vault.server``, within the admin's
  ``--allowed-servers``): answers are read up to ``limits.PROVIDER_MAX_RESPONSE_BYTES``, redirects
  are not followed (they could lead anywhere), every request has connect and read time-outs, the
  server's error text is never passed on: it is mapped to our own words (:func:`_safe_reason`),
  so the store's status cannot be used to read another service's answers.
* **Paths stay inside the store's mount**: every key, find path and listed name goes through
  :func:`secretsync.tenancy.confine_path`, and without a configured mount Vault's own
  ``sys/``, ``auth/``, ``identity/`` and ``cubbyhole/`` are refused as mounts.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import json
import logging
import os
import re
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from secretsync import limits
from secretsync.errors import (
    NotPermitted,
    ProviderAuthError,
    ProviderError,
    ProviderUnavailable,
    SecretNotFound,
    SpecError,
)
from secretsync.providers import paths, specs
from secretsync.providers.base import Access, FindSpec, RemoteRef, SecretKeyRef, StoreContext
from secretsync.tenancy import confine_path

log = logging.getLogger(__name__)

SPEC = "spec.provider.vault"
REFRESH_AT = 2 / 3  # renew (or log in again) once this fraction of the token's TTL has passed
TIMEOUT = (5.0, 30.0)  # connect, read (seconds)
_TOO_SLOW = "answer too slow"  # our whole-answer deadline, told apart from the socket's read time-out
CLOSE_TIMEOUT = (2.0, 2.0)  # revoke-self at close is best effort: never hold a shutdown for long
POOL_SIZE = 32  # connections kept per provider; more threads than this would churn connections
DEFAULT_SA_AUDIENCES: tuple[str, ...] = ()
"""Audiences asked for when ``serviceAccountRef.audiences`` is empty: none, and the token minter
(secretsync.tenancy.token_audiences) then uses its fixed default, ``vault``. Never the API
server's own audience: a token for it would act as the ServiceAccount against the cluster, so
the Vault role must set ``audience=vault`` (or an audience a cluster admin allowed)."""
AUTH_METHODS = ("tokenSecretRef", "appRole", "kubernetes")
RESERVED_MOUNTS = frozenset({"sys", "auth", "identity", "cubbyhole", "v1"})
"""First path segments that are Vault's own API, never a KV mount a key may name."""
FETCH = "Fetch"  # remoteRef.metadataPolicy that reads metadata instead of the value
SYSTEM_METADATA_KEYS = ("created_time", "current_version", "delete_version_after")
"""KV v2 metadata fields ESO's newest ``readSecretMetadata`` adds to ``custom_metadata``."""


# -- configuration ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TokenAuth:
    """A static token from a Secret: used as is, renewed if renewable, never revoked by us."""

    ref: SecretKeyRef


@dataclasses.dataclass(frozen=True)
class AppRoleAuth:
    mount: str
    role_id: str | None
    role_ref: SecretKeyRef | None
    secret_ref: SecretKeyRef


@dataclasses.dataclass(frozen=True)
class KubernetesAuth:
    mount: str
    role: str
    service_account: str | None
    service_account_namespace: str | None
    audiences: tuple[str, ...]
    secret_ref: SecretKeyRef | None


Auth = TokenAuth | AppRoleAuth | KubernetesAuth


@dataclasses.dataclass(frozen=True)
class VaultConfig:
    """``spec.provider.vault``, validated once when the provider is built."""

    server: str
    mount: str | None
    kv_version: int
    namespace: str | None
    auth_namespace: str | None
    ca_pem: bytes | None
    auth: Auth


def parse_config(spec: Mapping[str, Any]) -> VaultConfig:
    """Validate the store spec; every SpecError names the field to fix."""
    auth_spec = spec.get("auth")
    if not isinstance(auth_spec, Mapping):
        raise SpecError(f"{SPEC}.auth", f"is required: set one of {', '.join(AUTH_METHODS)}")
    namespace = specs.opt_str(spec, "namespace", SPEC)
    return VaultConfig(
        server=_parse_server(spec.get("server")),
        mount=(specs.opt_str(spec, "path", SPEC) or "").strip("/") or None,
        kv_version=_parse_version(spec.get("version")),
        namespace=namespace,
        auth_namespace=specs.opt_str(auth_spec, "namespace", f"{SPEC}.auth") or namespace,
        ca_pem=_parse_ca(spec.get("caBundle")),
        auth=_parse_auth(auth_spec),
    )


def _parse_server(value: Any) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://[^/\s]+", value):
        raise SpecError(f"{SPEC}.server", "is required and must be an http:// or https:// URL")
    return value.rstrip("/")


def _parse_version(value: Any) -> int:
    if value in (None, "", "v2"):
        return 2
    if value == "v1":
        return 1
    raise SpecError(f"{SPEC}.version", f"must be v1 or v2, not {value!r}")


def _parse_ca(value: Any) -> bytes | None:
    if value in (None, ""):
        return None
    try:
        pem = base64.b64decode(str(value), validate=False)
    except (binascii.Error, ValueError):
        pem = b""
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise SpecError(f"{SPEC}.caBundle", "must be base64 of one or more PEM certificates")
    return pem


def _parse_auth(auth: Mapping[str, Any]) -> Auth:
    unknown = sorted(k for k, v in auth.items() if v is not None and k not in (*AUTH_METHODS, "namespace"))
    if unknown:
        raise SpecError(
            f"{SPEC}.auth.{unknown[0]}",
            f"is not supported by secretsync (supported: {', '.join(AUTH_METHODS)})",
        )
    chosen = [k for k in AUTH_METHODS if auth.get(k) is not None]
    if len(chosen) != 1:
        found = f" (found {', '.join(chosen)})" if chosen else ""
        raise SpecError(f"{SPEC}.auth", f"set exactly one of {', '.join(AUTH_METHODS)}{found}")
    method = chosen[0]
    where = f"{SPEC}.auth.{method}"
    body = auth[method]
    if not isinstance(body, Mapping):
        raise SpecError(where, "must be an object")
    if method == "tokenSecretRef":
        return TokenAuth(specs.secret_key_ref(body, where))
    if method == "appRole":
        return _parse_approle(body, where)
    return _parse_kubernetes(body, where)


def _parse_approle(body: Mapping[str, Any], where: str) -> AppRoleAuth:
    role_id = specs.opt_str(body, "roleId", where)
    role_ref = (
        specs.secret_key_ref(body["roleRef"], f"{where}.roleRef") if body.get("roleRef") is not None else None
    )
    if (role_id is None) == (role_ref is None):
        raise SpecError(where, "set exactly one of roleId and roleRef")
    if body.get("secretRef") is None:
        raise SpecError(f"{where}.secretRef", "is required (the Secret key holding the secret_id)")
    return AppRoleAuth(
        mount=_mount(body, "path", "approle", where),
        role_id=role_id,
        role_ref=role_ref,
        secret_ref=specs.secret_key_ref(body["secretRef"], f"{where}.secretRef"),
    )


def _parse_kubernetes(body: Mapping[str, Any], where: str) -> KubernetesAuth:
    role = specs.opt_str(body, "role", where)
    if not role:
        raise SpecError(f"{where}.role", "is required")
    sa, secret = body.get("serviceAccountRef"), body.get("secretRef")
    if sa is None and secret is None:
        raise SpecError(
            where, "set serviceAccountRef or secretRef (the operator's own pod token is never used)"
        )
    if sa is not None:
        # ESO's precedence (getJwtString): serviceAccountRef wins and secretRef is not read. ESO's own
        # kubernetes-auth example sets both, so refusing that would break a verbatim migration.
        secret = None
    sa_name = sa_namespace = None
    audiences: tuple[str, ...] = DEFAULT_SA_AUDIENCES
    if sa is not None:
        sa_where = f"{where}.serviceAccountRef"
        if not isinstance(sa, Mapping) or not specs.opt_str(sa, "name", sa_where):
            raise SpecError(f"{sa_where}.name", "is required")
        sa_name, sa_namespace = str(sa["name"]), specs.opt_str(sa, "namespace", sa_where)
        audiences = _parse_audiences(sa.get("audiences"), f"{sa_where}.audiences")
    return KubernetesAuth(
        mount=_mount(body, "mountPath", "kubernetes", where),
        role=role,
        service_account=sa_name,
        service_account_namespace=sa_namespace,
        audiences=audiences,
        secret_ref=specs.secret_key_ref(secret, f"{where}.secretRef", default_key="token")
        if secret
        else None,
    )


def _parse_audiences(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_SA_AUDIENCES
    if not isinstance(value, list) or not all(isinstance(a, str) and a for a in value):
        raise SpecError(where, "must be a list of non-empty strings")
    return tuple(value) or DEFAULT_SA_AUDIENCES


def _mount(body: Mapping[str, Any], field: str, default: str, where: str) -> str:
    return (specs.opt_str(body, field, where) or default).strip("/") or default


# -- KV paths ----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class KVLayout:
    """Where a key lives: ESO's ``buildPath`` rules for a mount that may or may not be configured."""

    mount: str | None
    version: int

    def split(self, key: str, field: str = "remoteRef.key") -> tuple[str, str]:
        """(mount, path relative to the mount) for ``key``; the relative path may be empty.

        The key is confined first (no ``.``/``..``/empty segments: secretsync.tenancy), and without a
        configured mount the key's first segment may not be one of Vault's own paths."""
        key = confine_path(key, field)
        if self.mount is not None:
            rel = key
            if key == self.mount or key.startswith(f"{self.mount}/"):
                rel = key[len(self.mount) + 1 :]
                if self.version == 2 and rel.startswith("data/"):
                    rel = rel[len("data/") :]
            return self.mount, rel
        if self.version == 2 and "/data/" in key:
            mount, _, rel = key.partition("/data/")
        else:
            mount, _, rel = key.partition("/")
        if not mount:
            raise SpecError(field, "is empty, and the store has no path (mount) to read from")
        if mount.lower() in RESERVED_MOUNTS:
            raise NotPermitted(
                field,
                f"{mount}/ is Vault's own API, not a secrets mount; keys are read from KV mounts only "
                "(a store should set path to its mount)",
            )
        return mount, rel

    def data_path(self, mount: str, rel: str) -> str:
        return f"{mount}/data/{rel}" if self.version == 2 else f"{mount}/{rel}"

    def list_path(self, mount: str, rel: str) -> str:
        folder = f"{rel}/" if rel else ""
        return f"{mount}/metadata/{folder}" if self.version == 2 else f"{mount}/{folder}"

    def public_key(self, mount: str, rel: str) -> str:
        """How ``find`` names a secret: relative to the store's mount, or with the mount if it has none."""
        return rel if self.mount is not None else f"{mount}/{rel}"


# -- tokens and the HTTP connection -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Token:
    """A Vault token and what we know of its life. ``ttl`` 0 means nothing to refresh."""

    value: str = dataclasses.field(repr=False)
    obtained: float  # time.monotonic() when the request that produced it was sent
    ttl: float
    renewable: bool
    logged_in: bool  # True: from a login we made (so we may log in again, and revoke at close)
    login_ttl: float  # TTL at login: a renewal granting much less means the max TTL is near
    identity: str  # for error messages: "approle role 'x' (policies: default, x)"
    generation: int  # bumped by every login, so concurrent re-authentication happens once

    def due(self, now: float) -> bool:
        return self.ttl > 0 and now >= self.obtained + self.ttl * REFRESH_AT

    def expired(self, now: float) -> bool:
        return self.ttl > 0 and now >= self.obtained + self.ttl


class _HTTPError(Exception):
    """An HTTP error answer from Vault, before it is translated for the operation at hand."""

    def __init__(self, status: int, reason: str | None, body: Any) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason or f"error {status}"  # ours (see _safe_reason), never the server's text
        self.because = f": {reason}" if reason else ""
        self.body = body


class _PermissionDenied(ProviderAuthError):
    """A live token was refused by policy (as opposed to a failed login)."""


class _Connection:
    """One pooled requests session; built lazily, dropped at close."""

    def __init__(self, config: VaultConfig) -> None:
        self._ca_file = _write_ca_file(config.ca_pem) if config.ca_pem else None
        self.base = config.server
        session = requests.Session()
        pool = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE)
        session.mount("http://", pool)
        session.mount("https://", pool)
        # The environment (HTTPS_PROXY/NO_PROXY, REQUESTS_CA_BUNDLE) is read once, here: requests
        # would re-read it, and ~/.netrc, on every request, which cost a quarter of a read's time.
        session.trust_env = False
        session.proxies = requests.utils.get_environ_proxies(config.server)
        env_ca = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        session.verify = self._ca_file or env_ca or True
        # Compressed answers could expand past the size cap before it is checked.
        session.headers["Accept-Encoding"] = "identity"
        self.session = session

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None = None,
        payload: Mapping[str, Any] | None = None,
        timeout: tuple[float, float] = TIMEOUT,
    ) -> tuple[int, Any]:
        """(status, parsed JSON body or None); the body is read up to the response size limit."""
        with self.session.request(
            method,
            self.base + url,
            headers=dict(headers),
            params=params,
            json=payload,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        ) as response:
            # read1: one socket read per call, so a server trickling bytes meets the deadline too
            # (the read time-out alone restarts with every byte).
            deadline = time.monotonic() + limits.PROVIDER_MAX_RESPONSE_SECONDS
            raw = bytearray()
            while chunk := response.raw.read1(64 * 1024, decode_content=True):
                raw += chunk
                if len(raw) > limits.PROVIDER_MAX_RESPONSE_BYTES:
                    raise _TooLarge()
                if time.monotonic() > deadline:
                    raise requests.exceptions.ReadTimeout(_TOO_SLOW)
            return response.status_code, _json_or_none(bytes(raw))

    def close(self) -> None:
        self.session.close()
        if self._ca_file:
            with contextlib.suppress(OSError):
                os.unlink(self._ca_file)
            self._ca_file = None


class _TooLarge(Exception):
    """The server's answer exceeded limits.PROVIDER_MAX_RESPONSE_BYTES (reading stopped there)."""


def _json_or_none(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        # numbers keep their text, as vault/api's UseNumber keeps it; NaN and Infinity are not JSON
        return json.loads(raw, parse_float=paths.JsonNumber, parse_constant=_not_json)
    except (ValueError, RecursionError):
        return None


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _write_ca_file(pem: bytes) -> str:
    """requests takes trust roots from a file only: write the bundle to a private temp file."""
    handle, name = tempfile.mkstemp(prefix="secretsync-vault-ca-", suffix=".pem")
    with os.fdopen(handle, "wb") as out:
        out.write(pem)
    return name


# -- the provider --------------------------------------------------------------------------------------


class VaultProvider:
    """One authenticated Vault client for one store generation, shared by all its ExternalSecrets."""

    name = "vault"

    def __init__(self, context: StoreContext) -> None:
        """Validate the spec (SpecError if malformed); no network until the first call."""
        self._context = context
        self._config = parse_config(context.spec)
        self._kv = KVLayout(self._config.mount, self._config.kv_version)
        self.access = Access(servers=((f"{SPEC}.server", self._config.server),))
        self._lock = threading.Lock()  # guards login and renewal (held across their requests)
        self._connection_lock = threading.Lock()  # guards building/dropping the connection
        self._connection: _Connection | None = None
        self._token: _Token | None = None
        self._generation = 0

    # -- Provider interface -----------------------------------------------------------------

    def get(self, ref: RemoteRef) -> bytes:
        return self._value(ref)[1]

    def get_map(self, ref: RemoteRef) -> dict[str, bytes]:
        subject, value = self._value(ref)
        where = f"vault: {subject}" + (f" property {ref.property!r}" if ref.property else "")
        return paths.go_extract(value, where)

    def find(self, spec: FindSpec) -> dict[str, bytes]:
        if spec.tags and self._kv.version == 1:
            raise SpecError("dataFrom.find.tags", "finding by tags needs KV v2 metadata; this store is v1")
        matcher = paths.compile_name_regexp(spec.name_regexp)
        mount, base = self._find_root(spec.path)
        found: dict[str, bytes] = {}
        for rel in self._list_tree(mount, base):
            name = self._kv.public_key(mount, rel)
            if matcher is not None and not matcher.search(name):
                continue
            if spec.tags and not self._tags_match(mount, rel, spec.tags):
                continue
            paths.check_find_size(len(found) + 1)
            with contextlib.suppress(SecretNotFound):  # deleted between LIST and GET: skip, like ESO
                found[name] = paths.go_marshal(self._read_at(mount, rel, None)[1])
        return found

    def check(self) -> None:
        """Prove the store usable: Vault reachable and unsealed, credentials accepted, and (with
        ``path``) the mount exists, is KV of the declared version, and the token's policies grant
        something under it. It does not prove any particular key readable.

        The mount is inspected through ``sys/internal/ui/mounts/<mount>``, which Vault answers for
        any token with some capability below the mount, so a least-privilege policy such as
        ``read`` on ``secret/data/app/*`` passes, without needing ``sys/mounts``.
        """
        if self._kv.mount is None:
            self._call("GET", "auth/token/lookup-self", "looking up", "the token")
            return
        mount = self._kv.mount
        try:
            body = self._call("GET", f"sys/internal/ui/mounts/{mount}", "looking up", f"mount {mount}/")
        except _PermissionDenied:
            raise ProviderAuthError(
                f"vault: {self._identity()} has no access under mount {mount}/ "
                "(no policy grants anything there, or there is no such mount)"
            ) from None
        self._check_mount(mount, _obj(body.get("data")))

    def close(self) -> None:
        """Drop the connection; revoke the token only if we logged in for it (best effort)."""
        with self._lock, self._connection_lock:
            token, connection = self._token, self._connection
            self._token, self._connection = None, None
        if connection is None:
            return
        if token is not None and token.logged_in:
            with contextlib.suppress(Exception):
                connection.request(
                    "POST",
                    "/v1/auth/token/revoke-self",
                    headers=self._headers(token, self._config.auth_namespace),
                    timeout=CLOSE_TIMEOUT,
                )
        connection.close()

    # -- reads --------------------------------------------------------------------------------

    def _value(self, ref: RemoteRef) -> tuple[str, bytes]:
        """ESO's ``GetSecret``: the map (or with ``metadataPolicy: Fetch`` the metadata map) as Go
        marshals it, an exact key's value as ``esutils.GetByteValue`` gives it, or gjson's
        ``String()`` of a path over the marshalled map. Returns a label for messages too."""
        if ref.metadata_policy == FETCH:
            subject, data = self._read_metadata(ref.key)
        else:
            subject, data = self._read(ref.key, ref.version)
        if not ref.property:
            return subject, paths.go_marshal(data)
        if ref.property in data:
            return subject, paths.go_value(data[ref.property])
        found = paths.select(data, ref.property, where=f"vault: {subject}")
        return subject, paths.go_value(found, numbers_as_sent=False)

    def _read(self, key: str, version: str | None) -> tuple[str, dict[str, Any]]:
        mount, rel = self._kv.split(key)
        if not rel:
            raise SpecError("remoteRef.key", f"{key!r} names the mount {mount}/, not a secret in it")
        return self._read_at(mount, rel, version)

    def _read_at(self, mount: str, rel: str, version: str | None) -> tuple[str, dict[str, Any]]:
        """GET one secret; returns a label for messages (path and version) and its key/value map."""
        path = self._kv.data_path(mount, rel)
        subject = path + (f" (version {version})" if version else "")
        body = self._call("GET", path, "reading", subject, params=self._version_params(version))
        data = body.get("data")
        if self._kv.version == 2 and isinstance(data, dict):
            data = data.get("data")
        if data is None:
            raise SecretNotFound(f"vault: {subject} not found")
        if not isinstance(data, dict):
            raise ProviderError(f"vault: {subject} is not a key/value secret")
        return subject, data

    def _read_metadata(self, key: str) -> tuple[str, dict[str, str]]:
        """``metadataPolicy: Fetch``: the KV v2 metadata endpoint ``<mount>/metadata/<key>`` (never
        the value), as ESO's ``readSecretMetadata`` makes it: the system keys
        :data:`SYSTEM_METADATA_KEYS` (when present), then ``custom_metadata`` over them, every value
        a string (Go's ``%v``: strings as they are, numbers in decimal). Returns a label for
        messages (the metadata path) and that map."""
        if self._kv.version == 1:
            raise SpecError(
                "remoteRef.metadataPolicy",
                "cannot fetch metadata from a KV v1 store (metadataPolicy Fetch needs KV v2)",
            )
        mount, rel = self._kv.split(key)  # the same confinement and reserved mounts as a value read
        if not rel:
            raise SpecError("remoteRef.key", f"{key!r} names the mount {mount}/, not a secret in it")
        path = f"{mount}/metadata/{rel}"
        try:
            body = self._call("GET", path, "reading metadata of", path)
        except _PermissionDenied as err:
            raise _PermissionDenied(
                f"{err}; metadataPolicy Fetch needs a policy granting read on {path}"
            ) from None
        answer = body.get("data")
        if not isinstance(answer, dict):
            raise ProviderError(f"vault: {path} answered without KV v2 metadata")
        found: dict[str, str] = {}
        for name in SYSTEM_METADATA_KEYS:
            if answer.get(name) is not None:
                found[name] = _go_text(answer[name])
        for name, value in _obj(answer.get("custom_metadata")).items():
            if value is not None:
                found[str(name)] = _go_text(value)
        return path, found

    def _version_params(self, version: str | None) -> dict[str, str] | None:
        if not version:
            return None
        if self._kv.version == 1:
            raise SpecError("remoteRef.version", "KV v1 secrets have no versions; remove version")
        if not version.isdigit() or not version.isascii():
            raise SpecError(
                "remoteRef.version", f"KV v2 versions are whole numbers (0 is the latest), not {version!r}"
            )
        return {"version": version}  # passed on as ESO does: Vault reads version 0 as the latest

    def _find_root(self, path: str | None) -> tuple[str, str]:
        if not path and self._kv.mount is None:
            raise SpecError("dataFrom.find.path", "is required when the store has no path (mount)")
        return self._kv.split(path or "", field="dataFrom.find.path")

    def _list_tree(self, mount: str, base: str) -> list[str]:
        """Every secret below ``base`` (relative to the mount), depth first in Vault's order."""
        top = self._list(mount, base)
        if top is None:
            raise SecretNotFound(f"vault: no secrets under {self._kv.list_path(mount, base)}")
        found: list[str] = []
        pending = [*reversed(top)]
        lists = 1
        while pending:
            rel = pending.pop()
            if rel.endswith("/"):
                lists += 1
                if lists > limits.FIND_MAX_LISTS:
                    raise SpecError(
                        "dataFrom.find.path",
                        f"has more than {limits.FIND_MAX_LISTS} folders below it; narrow the path",
                    )
                pending.extend(reversed(self._list(mount, rel.rstrip("/")) or []))
            else:
                found.append(rel)
        return found

    def _list(self, mount: str, folder: str) -> list[str] | None:
        """Entries of one folder as paths relative to the mount (folders end in ``/``); None if absent."""
        path = self._kv.list_path(mount, folder)
        try:
            body = self._call("LIST", path, "listing", path)
        except SecretNotFound:
            return None
        keys = _obj(body.get("data")).get("keys")
        keys = keys if isinstance(keys, list) else []
        prefix = f"{folder}/" if folder else ""
        return [f"{prefix}{key}" for key in keys if isinstance(key, str) and _listable(key)]

    def _tags_match(self, mount: str, rel: str, tags: Mapping[str, str]) -> bool:
        path = f"{mount}/metadata/{rel}"
        try:
            body = self._call("GET", path, "reading metadata of", path)
        except SecretNotFound:
            return False
        custom = _obj(_obj(body.get("data")).get("custom_metadata"))
        return all(key in custom and str(custom[key]) == value for key, value in tags.items())

    def _check_mount(self, mount: str, info: Mapping[str, Any]) -> None:
        engine = info.get("type")
        if engine not in ("kv", "generic"):
            raise SpecError(f"{SPEC}.path", f"mount {mount}/ is a {engine!r} engine, not kv")
        actual = str(_obj(info.get("options")).get("version") or "1")
        if actual != str(self._kv.version):
            raise SpecError(
                f"{SPEC}.version", f"mount {mount}/ is KV v{actual} but the store says v{self._kv.version}"
            )

    # -- authenticated requests -------------------------------------------------------------------

    def _call(
        self, method: str, path: str, action: str, subject: str, params: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """One authenticated request, translated; on 401/403 re-authenticate once if the token died."""
        token = self._current_token()
        try:
            return self._raw(method, path, token, params=params)
        except _HTTPError as err:
            if err.status not in (401, 403):
                raise self._translate(err, action, subject) from None
        fresh = self._recover(token)
        if fresh is None:
            raise self._denied(action, subject) from None
        try:
            return self._raw(method, path, fresh, params=params)
        except _HTTPError as err:
            if err.status in (401, 403):
                raise self._denied(action, subject) from None
            raise self._translate(err, action, subject) from None

    def _raw(
        self,
        method: str,
        path: str,
        token: _Token | None,
        *,
        params: Mapping[str, str] | None = None,
        payload: Mapping[str, Any] | None = None,
        namespace: str | None = None,
    ) -> dict[str, Any]:
        """Send one request; returns the JSON body, raises _HTTPError or ProviderUnavailable."""
        url = "/v1/" + urllib.parse.quote(path, safe="/")
        headers = self._headers(token, namespace)
        try:
            status, answer = self._connection_().request(
                method, url, headers=headers, params=params, payload=payload
            )
        except _TooLarge:
            raise ProviderError(
                f"vault: {self._config.server} sent more than {limits.PROVIDER_MAX_RESPONSE_BYTES >> 20} "
                "MiB for one request; refused (a KV secret is far smaller)"
            ) from None
        except requests.ReadTimeout as exc:
            if _TOO_SLOW in str(exc):
                late = f"did not finish its answer within {limits.PROVIDER_MAX_RESPONSE_SECONDS:g}s"
            else:
                late = f"sent no answer within {TIMEOUT[1]:.0f}s"
            raise ProviderUnavailable(
                f"vault: {self._config.server} {late} to {method} {url} (read time-out): the server is"
                " overloaded or stuck; retried with backoff"
            ) from None
        except requests.RequestException as exc:
            raise ProviderUnavailable(
                f"vault: cannot reach {self._config.server}: {_network_reason(exc)}"
            ) from None
        if status >= 300:
            raise _HTTPError(status, _safe_reason(status, answer), answer)
        return answer if isinstance(answer, dict) else {}

    def _headers(self, token: _Token | None, namespace: str | None = None) -> dict[str, str]:
        headers: dict[str, str] = {}
        if token is not None:
            headers["X-Vault-Token"] = token.value
        if namespace or self._config.namespace:
            headers["X-Vault-Namespace"] = namespace or self._config.namespace or ""
        return headers

    def _connection_(self) -> _Connection:
        connection = self._connection
        if connection is None:
            with self._connection_lock:
                if self._connection is None:
                    self._connection = _Connection(self._config)
                connection = self._connection
        return connection

    def _translate(self, err: _HTTPError, action: str, subject: str) -> ProviderError:
        """An HTTP error (other than 401/403) of a data request as one of our errors."""
        if err.status == 404:
            return SecretNotFound(f"vault: {subject} {_gone(err.body)}")
        if err.status == 429 or err.status >= 500:
            return self._unavailable(err, f"{action} {subject}")
        return ProviderError(f"vault: {action} {subject} failed ({err.status}){err.because}")

    def _unavailable(self, err: _HTTPError, doing: str) -> ProviderUnavailable:
        server = self._config.server
        if "sealed" in err.reason.lower():
            return ProviderUnavailable(f"vault: {server} is sealed")
        if err.status == 429:
            return ProviderUnavailable(f"vault: {server} is rate limiting ({doing})")
        return ProviderUnavailable(f"vault: {server} answered {err.status} {doing}{err.because}")

    def _denied(self, action: str, subject: str) -> ProviderAuthError:
        return _PermissionDenied(
            f"vault: permission denied {action} {subject} (check the policies of {self._identity()})"
        )

    def _identity(self) -> str:
        token = self._token
        return token.identity if token is not None else "the store's credentials"

    # -- token life ---------------------------------------------------------------------------------

    def _current_token(self) -> _Token:
        """A usable token: log in on first use, refresh at 2/3 of the TTL (one thread does it)."""
        token = self._token
        now = time.monotonic()
        if token is not None and not token.due(now):
            return token
        if token is not None and not token.expired(now):
            # Due but still valid: if another thread is already refreshing, keep reading with it.
            if not self._lock.acquire(blocking=False):
                return token
        else:
            self._lock.acquire()
        try:
            return self._refresh_locked()
        except ProviderUnavailable:
            if token is not None and not token.expired(time.monotonic()):
                return token  # Vault is unwell but the token still works: renew at the next use
            raise
        finally:
            self._lock.release()

    def _refresh_locked(self) -> _Token:
        token = self._token
        if token is None:
            token = self._authenticate()
        elif token.due(time.monotonic()):
            token = self._renew_or_login(token)
        self._token = token
        return token

    def _renew_or_login(self, token: _Token) -> _Token:
        """Renew while Vault grants a useful TTL; otherwise log in again (or, for a static token,
        keep it as it is: it is the user's to replace)."""
        if token.renewable:
            with contextlib.suppress(ProviderAuthError):
                renewed = self._renew(token)
                if not token.logged_in or renewed.ttl >= token.login_ttl / 2:
                    return renewed
        if token.logged_in:
            return self._authenticate()
        return dataclasses.replace(token, ttl=0)

    def _renew(self, token: _Token) -> _Token:
        sent = time.monotonic()
        try:
            body = self._raw("POST", "auth/token/renew-self", token, namespace=self._config.auth_namespace)
        except _HTTPError as err:
            if err.status >= 500 or err.status == 429:  # not the token's fault: try again later
                raise self._unavailable(err, "renewing the token") from None
            raise ProviderAuthError(f"vault: token renewal failed: {err.reason}") from None
        auth = _obj(body.get("auth"))
        self._context.on_event("renew")
        log.debug(
            "vault: renewed the token of %s for %ss", self._context.ref, _seconds(auth.get("lease_duration"))
        )
        return dataclasses.replace(
            token,
            obtained=sent,
            ttl=_seconds(auth.get("lease_duration")),
            renewable=bool(auth.get("renewable")),
        )

    def _recover(self, stale: _Token) -> _Token | None:
        """After a 401/403: a newer token if ``stale`` is dead (re-authenticating at most once per
        generation), or None if ``stale`` is alive and the policy simply says no."""
        current = self._token
        if current is not None and current.generation != stale.generation:
            return current
        if self._alive(stale):
            return None
        with self._lock:
            current = self._token
            if current is not None and current.generation != stale.generation:
                return current
            log.info("vault: the token of %s was rejected; authenticating again", self._context.ref)
            self._token = self._authenticate()
            return self._token

    def _alive(self, token: _Token) -> bool:
        try:
            self._raw("GET", "auth/token/lookup-self", token, namespace=self._config.auth_namespace)
        except _HTTPError as err:
            if err.status in (401, 403):
                return False
            raise self._translate(err, "looking up", "the token") from None
        return True

    # -- authentication -----------------------------------------------------------------------------

    def _authenticate(self) -> _Token:
        """Obtain a token with the configured method (called with the lock held)."""
        auth = self._config.auth
        if isinstance(auth, TokenAuth):
            return self._use_static_token(auth)
        if isinstance(auth, AppRoleAuth):
            role_id = auth.role_id or self._credential(auth.role_ref)
            secret_id = self._credential(auth.secret_ref)
            sent, body = self._login(
                auth.mount,
                {"role_id": role_id, "secret_id": secret_id},
                f"approle login at auth/{auth.mount}",
            )
            role_name = _names(_obj(body.get("metadata")).get("role_name"))
            who = f"approle role {role_name!r}" if role_name != "none" else "the approle role"
            return self._logged_in(sent, body, who)
        jwt = self._service_account_jwt(auth)
        who = f"kubernetes login at auth/{auth.mount} as role {auth.role!r}"
        if auth.service_account:
            who += f" (service account {auth.service_account})"
        sent, body = self._login(auth.mount, {"role": auth.role, "jwt": jwt}, who)
        return self._logged_in(sent, body, f"kubernetes role {auth.role!r}")

    def _service_account_jwt(self, auth: KubernetesAuth) -> str:
        if auth.service_account is not None:
            return self._context.mint_token(
                auth.service_account, auth.service_account_namespace, auth.audiences
            )
        assert auth.secret_ref is not None  # parse_config guarantees one of the two
        return self._credential(auth.secret_ref)

    def _credential(self, ref: SecretKeyRef | None) -> str:
        assert ref is not None
        raw = self._context.read_credential(ref)
        try:
            return raw.decode().strip()
        except UnicodeDecodeError:
            raise ProviderAuthError(
                f"vault: Secret key {_ref_text(ref)} is not UTF-8 text, so it cannot be a credential"
            ) from None

    def _login(self, mount: str, payload: Mapping[str, str], who: str) -> tuple[float, dict[str, Any]]:
        """POST ``auth/<mount>/login`` without a token; returns when it was sent and the ``auth`` answer."""
        path = f"auth/{mount}/login"
        sent = time.monotonic()
        try:
            body = self._raw("POST", path, None, payload=payload, namespace=self._config.auth_namespace)
        except _HTTPError as err:
            if err.status == 429 or err.status >= 500:
                raise self._unavailable(err, f"during {who}") from None
            reason = "no such auth mount" if err.status == 404 else err.reason
            raise ProviderAuthError(f"vault: {who} failed: {reason}") from None
        auth = body.get("auth")
        if not isinstance(auth, dict) or not auth.get("client_token"):
            raise ProviderAuthError(f"vault: {who} returned no token")
        return sent, auth

    def _logged_in(self, sent: float, auth: Mapping[str, Any], who: str) -> _Token:
        self._generation += 1
        ttl = _seconds(auth.get("lease_duration"))
        policies = _names(auth.get("policies"))
        self._context.on_event("login")
        log.info("vault: %s logged in as %s (token ttl %ss)", self._context.ref, who, int(ttl))
        return _Token(
            value=str(auth["client_token"]),
            obtained=sent,
            ttl=ttl,
            renewable=bool(auth.get("renewable")),
            logged_in=True,
            login_ttl=ttl,
            identity=f"{who} (policies: {policies})",
            generation=self._generation,
        )

    def _use_static_token(self, auth: TokenAuth) -> _Token:
        """Read the token from its Secret; ``lookup-self`` proves it valid and tells its TTL."""
        value = self._credential(auth.ref)
        source = f"the token in Secret {_ref_text(auth.ref)}"
        probe = _Token(
            value=value,
            obtained=time.monotonic(),
            ttl=0,
            renewable=False,
            logged_in=False,
            login_ttl=0,
            identity=source,
            generation=self._generation + 1,
        )
        try:
            body = self._raw("GET", "auth/token/lookup-self", probe, namespace=self._config.auth_namespace)
        except _HTTPError as err:
            if err.status in (401, 403):
                raise ProviderAuthError(
                    f"vault: {source} was rejected (expired, revoked, or without the default policy)"
                ) from None
            raise self._translate(err, "looking up", "the token") from None
        data = _obj(body.get("data"))
        self._generation += 1
        ttl, renewable = _seconds(data.get("ttl")), bool(data.get("renewable"))
        policies = _names(data.get("policies"))
        return dataclasses.replace(
            probe,
            ttl=ttl if renewable else 0,  # a static token we cannot renew is used until it fails
            renewable=renewable,
            login_ttl=ttl,
            identity=f"{source} (policies: {policies})",
            generation=self._generation,
        )


# -- helpers ----------------------------------------------------------------------------------------


# Vault's error texts we recognise, in our own words. Anything else is reported by status code
# only: the server is the tenant's choice, and its text could be another service's answer.
_KNOWN_REASONS: tuple[tuple[str, str], ...] = (
    ("permission denied", "permission denied"),
    ("vault is sealed", "Vault is sealed"),
    ("sealed", "Vault is sealed"),
    ("invalid role or secret id", "invalid role or secret ID"),
    ("invalid role id", "invalid role or secret ID"),
    ("invalid role_id", "invalid role or secret ID"),
    ("invalid secret id", "invalid role or secret ID"),
    ("invalid secret_id", "invalid role or secret ID"),
    ("failed to validate credentials", "invalid role or secret ID"),
    ("missing client token", "missing client token"),
    ("invalid token", "token not valid"),
    ("bad token", "token not valid"),
    ("token not found", "token not valid"),
    ("audience", "the token's audience is not accepted by the Vault role (set its audience)"),
    ("service account name not authorized", "the ServiceAccount is not bound to the Vault role"),
    ("namespace not authorized", "the ServiceAccount's namespace is not bound to the Vault role"),
    ("could not be found", "no such role"),
    ("invalid role name", "no such role"),
    ("role not found", "no such role"),
    ("no handler for route", "no such path or mount"),
    ("unsupported path", "no such path or mount"),
    ("rate limit", "rate limited"),
    ("lease is not renewable", "token not renewable"),
    ("not renewable", "token not renewable"),
)


def _go_text(value: Any) -> str:
    """A metadata value as ESO's ``fmt.Sprintf("%v", v)`` prints it: strings as they are, numbers in
    decimal (``current_version`` 3 -> ``3``), booleans ``true``/``false``; anything else (never sent
    by Vault) as compact JSON."""
    if isinstance(value, paths.JsonNumber):
        return value.text  # %v of a json.Number: its text
    return value if isinstance(value, str) else paths.to_bytes(value).decode()


def _obj(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one: answers come from a server a tenant chose."""
    return value if isinstance(value, dict) else {}


_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


def _names(value: Any) -> str:
    """Role or policy names from an answer, for messages: only name-like strings, at most 8."""
    items = value if isinstance(value, list) else [value]
    names = [str(v) for v in items if isinstance(v, str) and _NAME.fullmatch(v)][:8]
    return ", ".join(names) or "none"


def _seconds(value: Any) -> float:
    """A TTL from an answer: a non-negative number of seconds, anything else 0 (nothing to renew)."""
    try:
        seconds = float(value or 0)
    except (TypeError, ValueError):
        return 0.0
    return seconds if 0 <= seconds < 10 * 365 * 86400 else 0.0


def _safe_reason(status: int, body: Any) -> str | None:
    """A reason for an error answer in our words (see :data:`_KNOWN_REASONS`), or None: never the
    server's own text."""
    if 300 <= status < 400:
        return f"redirected ({status}); redirects are not followed: point server at the active node"
    errors = body.get("errors") if isinstance(body, dict) else None
    text = " ".join(str(e) for e in errors if isinstance(e, str)).lower() if isinstance(errors, list) else ""
    for needle, reason in _KNOWN_REASONS:
        if needle in text:
            return reason
    return None


def _gone(body: Any) -> str:
    """Why a KV v2 read found nothing: a deleted or destroyed version answers 404 with metadata."""
    metadata = _obj(_obj(body).get("data")).get("metadata")
    if isinstance(metadata, dict):
        if metadata.get("destroyed"):
            return "was destroyed"
        if metadata.get("deletion_time"):
            return "was deleted"
    return "not found"


def _listable(name: str) -> bool:
    """A LIST entry we may follow: one path segment (a folder ends in ``/``) that stays in place."""
    try:
        confine_path(name, "list")
    except NotPermitted:
        log.debug("vault: skipped a listed name that would leave its folder")
        return False
    return "/" not in name.rstrip("/")


def _network_reason(exc: requests.RequestException) -> str:
    """A short cause for a transport failure, without requests' long nested repr."""
    text = str(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        found = re.search(r"certificate verify failed[^'\")\]]*", text)
        return f"TLS error: {found.group(0).strip() if found else 'handshake failed'}"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, requests.exceptions.Timeout):
        return "no answer in time"
    for needle, reason in (
        ("refused", "connection refused"),
        ("Name or service not known", "unknown host"),
        ("Temporary failure in name resolution", "unknown host"),
        ("nodename nor servname", "unknown host"),
        ("reset by peer", "connection reset"),
        ("RemoteDisconnected", "connection closed by the server"),
        ("aborted", "connection closed by the server"),
    ):
        if needle in text:
            return reason
    return f"connection failed ({type(exc).__name__})"


def _ref_text(ref: SecretKeyRef) -> str:
    where = f"{ref.namespace}/" if ref.namespace else ""
    return f"{where}{ref.name}[{ref.key}]"
