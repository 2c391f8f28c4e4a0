"""An in-memory GCP Secret Manager served over gRPC+TLS, reachable by the UNMODIFIED official client.

Why a fake: no emulator for Secret Manager exists (gcplocal's is an unregistered stub). Why gRPC with the
official proto-plus types: the provider will use ``google-cloud-secret-manager`` unchanged, so the fake
must speak its wire protocol; ``Req.deserialize`` / ``Resp.serialize`` make the messages byte-identical.
Why TLS: with a custom ``api_endpoint`` the client always opens a *secure* channel (a plaintext server
makes it retry the handshake for 60 s). It trusts our throwaway CA through
``GRPC_DEFAULT_SSL_ROOTS_FILE_PATH``, which gRPC reads ONCE per process, before the first secure
channel: the pytest plugin sets it at configure time, and a subprocess (the operator) must be given
:meth:`SecretManagerFake.env` in its environment.

Semantics follow real Secret Manager where it is documented or observed:

* ``latest`` is the most recently *created* version whatever its state (proto docs; observed in
  google-github-actions/get-secretmanager-secrets#268 and external-secrets#4042: a disabled newest
  version makes ``latest`` fail with FAILED_PRECONDITION, it does not fall back). ``latest_alias=
  "newest_enabled"`` switches to the falling-back behaviour for tests that want it;
* access to a DISABLED/DESTROYED version: FAILED_PRECONDITION ``Secret Version [...] is in DISABLED
  state.``; unknown secret: NOT_FOUND ``Secret [...] not found or has no versions.``;
* versions are numbered from 1, listed newest first; secrets are listed sorted by name;
* ``data_crc32c`` is returned on access and checked on add (mismatch: INVALID_ARGUMENT);
* payloads over 64 KiB are rejected; secret ids must match ``[A-Za-z0-9_-]{1,255}``;
* global (``projects/P/secrets/S``) and regional (``projects/P/locations/L/secrets/S``) names; a
  project is an opaque string (real GCP answers with the project *number* in names; we echo the id).

Not modelled: IAM, etags as preconditions, expire_time/ttl, rotation, Pub/Sub topics, CMEK, delayed
destruction. Unimplemented methods answer UNIMPLEMENTED.

Test controls: per-method call counters, error injection (next N calls, or until cleared), latency,
stop/start on the same port (data survives, like a real outage), direct seeding that bypasses the
counters.
"""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import grpc
from google.cloud import secretmanager_v1 as sm
from google.protobuf import empty_pb2, field_mask_pb2

from tests.support import ports

if TYPE_CHECKING:
    from tests.support.tls import TLSFiles

__all__ = ["GcpCall", "SecretManagerFake", "crc32c"]

SERVICE = "google.cloud.secretmanager.v1.SecretManagerService"
MAX_PAYLOAD = 64 * 1024
MAX_PAGE_SIZE = 25000
State = sm.SecretVersion.State  # proto-plus enum; members are typed as plain ints

_SECRET_ID = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_PARENT = re.compile(r"^projects/[^/]+(?:/locations/[^/]+)?$")
_SECRET = re.compile(r"^(?P<parent>projects/[^/]+(?:/locations/[^/]+)?)/secrets/(?P<id>[^/]+)$")
_VERSION = re.compile(
    r"^(?P<secret>projects/[^/]+(?:/locations/[^/]+)?/secrets/[^/]+)/versions/(?P<v>[^/]+)$"
)

M = TypeVar("M")


# -- crc32c (Castagnoli): google_crc32c is not installed, and the table version is fast enough ---------


def _crc32c_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC32C as Secret Manager uses it for ``SecretPayload.data_crc32c``."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# -- errors and filters -------------------------------------------------------------------------------


class RpcError(Exception):
    """Raised inside the store; the gRPC layer turns it into a status."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _invalid(message: str) -> RpcError:
    return RpcError(grpc.StatusCode.INVALID_ARGUMENT, message)


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lpar>\() | (?P<rpar>\)) |
        (?P<kw>AND|OR|NOT)(?=[\s()]|$) |
        (?P<neg>-)(?=[A-Za-z_]) |
        (?P<field>[A-Za-z_][\w.\-]*)\s*(?P<op>!=|>=|<=|=|:|<|>)\s*(?P<value>"(?:[^"\\]|\\.)*"|[^\s()]+)
    )""",
    re.VERBOSE,
)

Predicate = Callable[[dict[str, Any]], bool]


def _match_value(actual: str, op: str, expected: str) -> bool:
    """``=`` exact, ``:`` substring ("has"); ``*`` in the expected value is a wildcard for both."""
    if "*" in expected:
        pattern = expected if op == "=" else f"*{expected}*"
        return fnmatch.fnmatchcase(actual, pattern)
    return actual == expected if op == "=" else expected in actual


def _restriction(field_name: str, op: str, raw: str, fields: Sequence[str]) -> Predicate:
    value = raw[1:-1].replace('\\"', '"') if raw.startswith('"') else raw
    root = field_name.split(".", 1)[0]
    if root not in fields or (root != "labels" and "." in field_name):
        raise _invalid(f"Invalid filter: unsupported field {field_name!r} (fake supports {list(fields)})")
    if op not in ("=", "!=", ":"):
        raise _invalid(f"Invalid filter: operator {op!r} is not supported by the fake")
    negate = op == "!="
    op = "=" if negate else op

    def check(obj: dict[str, Any]) -> bool:
        if field_name == "labels":  # labels:KEY -> has key
            result = value in obj["labels"] or value == "*"
        elif root == "labels":
            key = field_name.split(".", 1)[1]
            if key not in obj["labels"]:
                result = False
            else:
                result = value == "*" or _match_value(obj["labels"][key], op, value)
        elif field_name == "name":  # ":" looks inside the short id only; "=" accepts id or full name
            full_name, short_id = obj["names"]
            candidates = (short_id,) if op == ":" else (short_id, full_name)
            result = any(_match_value(candidate, op, value) for candidate in candidates)
        else:  # state
            result = _match_value(str(obj[field_name]).upper(), op, value.upper())
        return result != negate

    return check


def compile_filter(text: str, fields: Sequence[str]) -> Predicate:
    """A subset of the AIP-160 filter language used by Secret Manager.

    Restrictions ``FIELD=V``, ``FIELD!=V``, ``FIELD:V`` (substring), ``labels.KEY:*`` / ``labels:KEY``
    (key present), ``*`` wildcards in values, quoted values; ``NOT`` / ``-``, parentheses, ``OR``
    binding tighter than ``AND`` (explicit or by juxtaposition), as AIP-160 specifies.
    """
    tokens: list[tuple[str, str, str, str]] = []
    pos, text = 0, text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise _invalid(f"Invalid filter {text!r} at position {pos}")
        pos = match.end()
        if match.group("field"):
            tokens.append(("restriction", match.group("field"), match.group("op"), match.group("value")))
        elif match.group("kw"):
            tokens.append((match.group("kw"), "", "", ""))
        else:
            kind = next(k for k in ("lpar", "rpar", "neg") if match.group(k))
            tokens.append((kind, "", "", ""))
    stream = iter([*tokens, ("end", "", "", "")])
    current = next(stream)

    def advance() -> None:
        nonlocal current
        current = next(stream)

    def parse_expr() -> Predicate:
        terms = [parse_or()]
        while current[0] not in ("end", "rpar"):
            if current[0] == "AND":
                advance()
            terms.append(parse_or())
        return lambda obj: all(term(obj) for term in terms)

    def parse_or() -> Predicate:
        factors = [parse_unary()]
        while current[0] == "OR":
            advance()
            factors.append(parse_unary())
        return lambda obj: any(factor(obj) for factor in factors)

    def parse_unary() -> Predicate:
        if current[0] in ("NOT", "neg"):
            advance()
            inner = parse_unary()
            return lambda obj: not inner(obj)
        if current[0] == "lpar":
            advance()
            inner = parse_expr()
            if current[0] != "rpar":
                raise _invalid(f"Invalid filter {text!r}: missing ')'")
            advance()
            return inner
        if current[0] == "restriction":
            _, name, op, value = current
            advance()
            return _restriction(name, op, value, fields)
        raise _invalid(f"Invalid filter {text!r}: unexpected {current[0]!r}")

    if not tokens:
        return lambda obj: True
    return parse_expr()


# -- the store ----------------------------------------------------------------------------------------


def _copy(message: M) -> M:
    cls: Any = type(message)
    copied: M = cls.deserialize(cls.serialize(message))
    return copied


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _etag() -> str:
    return f'"{uuid.uuid4().hex[:14]}"'


@dataclass
class _Version:
    meta: sm.SecretVersion
    data: bytes | None


@dataclass
class _Secret:
    meta: sm.Secret
    versions: list[_Version] = field(default_factory=list)  # versions[i] is version i + 1


def _page(items: list[M], page_size: int, page_token: str, salt: str) -> tuple[list[M], str]:
    """Offset pagination with an opaque token bound to the query (a changed filter is rejected)."""
    if page_size < 0:
        raise _invalid("page_size must not be negative")
    size = min(page_size or MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    offset = 0
    if page_token:
        try:
            decoded_offset, decoded_salt = base64.urlsafe_b64decode(page_token).decode().split("|", 1)
            offset = int(decoded_offset)
        except ValueError as exc:
            raise _invalid("Invalid page token") from exc
        if decoded_salt != salt:
            raise _invalid("Invalid page token: the request changed between pages")
    chunk = items[offset : offset + size]
    following = offset + size
    token = (
        base64.urlsafe_b64encode(f"{following}|{salt}".encode()).decode() if following < len(items) else ""
    )
    return chunk, token


class _Store:
    """All secrets, guarded by one lock; every method takes and returns proto-plus messages (copies)."""

    def __init__(self, latest_alias: Literal["newest", "newest_enabled"]) -> None:
        self.latest_alias = latest_alias
        self.lock = threading.RLock()
        self.secrets: dict[str, _Secret] = {}

    def clear(self) -> None:
        with self.lock:
            self.secrets.clear()

    # lookups

    def _secret(self, name: str, *, access: bool = False) -> _Secret:
        if not _SECRET.match(name):
            raise _invalid(f"Invalid resource field value in the request: {name!r}")
        secret = self.secrets.get(name)
        if secret is None:
            suffix = " not found or has no versions." if access else " not found."
            raise RpcError(grpc.StatusCode.NOT_FOUND, f"Secret [{name}]{suffix}")
        return secret

    def _version(self, name: str, *, access: bool = False) -> tuple[_Secret, _Version]:
        match = _VERSION.match(name)
        if not match:
            raise _invalid(f"Invalid resource field value in the request: {name!r}")
        secret = self._secret(match["secret"], access=access)
        ref = match["v"]
        if ref == "latest":
            if not secret.versions:
                raise RpcError(
                    grpc.StatusCode.NOT_FOUND, f"Secret [{match['secret']}] not found or has no versions."
                )
            chosen = secret.versions[-1]
            if self.latest_alias == "newest_enabled":
                enabled = [v for v in secret.versions if v.meta.state == State.ENABLED]
                chosen = enabled[-1] if enabled else chosen
            return secret, chosen
        if ref.isdigit():
            number = int(ref)
        elif ref in secret.meta.version_aliases:
            number = int(secret.meta.version_aliases[ref])
        else:
            number = 0
        if not 1 <= number <= len(secret.versions):
            raise RpcError(grpc.StatusCode.NOT_FOUND, f"Secret Version [{name}] not found.")
        return secret, secret.versions[number - 1]

    # secrets

    def create_secret(self, parent: str, secret_id: str, template: sm.Secret) -> sm.Secret:
        if not _PARENT.match(parent):
            raise _invalid(f"Invalid resource field value in the request: parent {parent!r}")
        if not _SECRET_ID.match(secret_id):
            raise _invalid(f"Invalid secret_id {secret_id!r}: must match [a-zA-Z0-9_-]{{1,255}}")
        name = f"{parent}/secrets/{secret_id}"
        with self.lock:
            if name in self.secrets:
                raise RpcError(grpc.StatusCode.ALREADY_EXISTS, f"Secret [{name}] already exists.")
            meta = _copy(template)
            meta.name = name
            meta.create_time = _now()
            meta.etag = _etag()
            self.secrets[name] = _Secret(meta)
            return _copy(meta)

    def get_secret(self, name: str) -> sm.Secret:
        with self.lock:
            return _copy(self._secret(name).meta)

    def update_secret(self, secret: sm.Secret, mask: field_mask_pb2.FieldMask) -> sm.Secret:
        allowed = {"labels", "annotations", "version_aliases"}
        paths = list(mask.paths)
        if not paths or not set(paths) <= allowed:
            raise _invalid(f"update_mask must name some of {sorted(allowed)} in the fake, got {paths}")
        with self.lock:
            stored = self._secret(secret.name)
            for path in paths:
                target = getattr(stored.meta, path)
                target.clear()
                target.update(dict(getattr(secret, path)))
            stored.meta.etag = _etag()
            return _copy(stored.meta)

    def list_secrets(self, parent: str, flt: str, page_size: int, page_token: str) -> sm.ListSecretsResponse:
        if not _PARENT.match(parent):
            raise _invalid(f"Invalid resource field value in the request: parent {parent!r}")
        predicate = compile_filter(flt, ("name", "labels"))
        with self.lock:
            matching = [
                s.meta
                for name, s in sorted(self.secrets.items())
                if _SECRET.match(name)["parent"] == parent  # type: ignore[index]
                and predicate({"names": (name, name.rsplit("/", 1)[1]), "labels": dict(s.meta.labels)})
            ]
            chunk, token = _page(matching, page_size, page_token, f"{parent}?{flt}")
            return sm.ListSecretsResponse(
                secrets=[_copy(m) for m in chunk], next_page_token=token, total_size=len(matching)
            )

    def delete_secret(self, name: str) -> None:
        with self.lock:
            self._secret(name)
            del self.secrets[name]

    # versions

    def add_version(self, parent: str, payload: sm.SecretPayload) -> sm.SecretVersion:
        data = bytes(payload.data)
        if len(data) > MAX_PAYLOAD:
            raise _invalid(f"Secret payload is {len(data)} bytes; the maximum is {MAX_PAYLOAD}.")
        checksum_given = "data_crc32c" in payload
        if checksum_given and payload.data_crc32c != crc32c(data):
            raise _invalid("Checksum mismatch: data_crc32c does not match the payload.")
        with self.lock:
            secret = self._secret(parent)
            meta = sm.SecretVersion(
                name=f"{parent}/versions/{len(secret.versions) + 1}",
                create_time=_now(),
                state=State.ENABLED,
                etag=_etag(),
                client_specified_payload_checksum=checksum_given,
            )
            secret.versions.append(_Version(meta, data))
            return _copy(meta)

    def get_version(self, name: str) -> sm.SecretVersion:
        with self.lock:
            return _copy(self._version(name)[1].meta)

    def list_versions(
        self, parent: str, flt: str, page_size: int, page_token: str
    ) -> sm.ListSecretVersionsResponse:
        predicate = compile_filter(flt, ("name", "state"))
        with self.lock:
            secret = self._secret(parent)
            matching = [
                v.meta
                for v in reversed(secret.versions)
                if predicate(
                    {"names": (v.meta.name, v.meta.name.rsplit("/", 1)[1]), "state": v.meta.state.name}
                )
            ]
            chunk, token = _page(matching, page_size, page_token, f"{parent}?{flt}")
            return sm.ListSecretVersionsResponse(
                versions=[_copy(m) for m in chunk], next_page_token=token, total_size=len(matching)
            )

    def access(self, name: str) -> sm.AccessSecretVersionResponse:
        with self.lock:
            _, version = self._version(name, access=True)
            if version.meta.state != State.ENABLED or version.data is None:
                raise RpcError(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    f"Secret Version [{version.meta.name}] is in {version.meta.state.name} state.",
                )
            data = version.data
            return sm.AccessSecretVersionResponse(
                name=version.meta.name, payload=sm.SecretPayload(data=data, data_crc32c=crc32c(data))
            )

    def set_state(self, name: str, state: int) -> sm.SecretVersion:
        with self.lock:
            _, version = self._version(name)
            if version.meta.state == State.DESTROYED:
                raise RpcError(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    f"Secret Version [{version.meta.name}] is in DESTROYED state.",
                )
            version.meta.state = State(state)
            version.meta.etag = _etag()
            if state == State.DESTROYED:
                version.data = None
                version.meta.destroy_time = _now()
            return _copy(version.meta)


# -- the gRPC service ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GcpCall:
    """One RPC as received: method name and the resource it named (``name`` or ``parent``)."""

    method: str
    resource: str
    authorization: str = ""  # the call's "authorization" metadata (a bearer token), "" if none


@dataclass
class _Fault:
    code: grpc.StatusCode
    message: str
    methods: frozenset[str] | None
    remaining: int | None  # None: until cleared


class SecretManagerFake:
    """The fake server. Safe to share across tests when :meth:`reset` runs between them."""

    def __init__(
        self,
        tls: TLSFiles,
        *,
        port: int | None = None,
        latest_alias: Literal["newest", "newest_enabled"] = "newest",
        max_workers: int = 16,
    ) -> None:
        self.tls = tls
        self._owns_port = port is None
        self.port = port if port is not None else ports.reserve_port()
        self.endpoint = f"localhost:{self.port}"
        self.ca_path = tls.ca_path
        self.max_workers = max_workers
        self._default_latest_alias: Literal["newest", "newest_enabled"] = latest_alias
        self._store = _Store(latest_alias)
        self._lock = threading.RLock()
        self._log: list[GcpCall] = []
        self._faults: list[_Fault] = []
        self._latency: tuple[float, frozenset[str] | None] = (0.0, None)
        self._server: grpc.Server | None = None
        self._executor: futures.ThreadPoolExecutor | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        """Listen with TLS on 127.0.0.1:PORT (no-op if running). Data from before a stop is kept."""
        with self._lock:
            if self._server is not None:
                return
            executor = futures.ThreadPoolExecutor(self.max_workers, thread_name_prefix="gcp-fake")
            # so_reuseport=0: two servers must never share a port silently (gRPC enables it by default).
            server = grpc.server(executor, options=[("grpc.so_reuseport", 0)])
            server.add_generic_rpc_handlers(
                (grpc.method_handlers_generic_handler(SERVICE, self._handlers()),)
            )
            credentials = grpc.ssl_server_credentials([(self.tls.key_pem, self.tls.cert_pem)])
            try:
                server.add_secure_port(f"127.0.0.1:{self.port}", credentials)
            except RuntimeError as exc:
                executor.shutdown(wait=False)
                raise OSError(f"GCP fake cannot listen on 127.0.0.1:{self.port}") from exc
            server.start()
            self._server, self._executor = server, executor

    def stop(self) -> None:
        """Close the listener and every connection now (in-flight RPCs get CANCELLED/UNAVAILABLE)."""
        with self._lock:
            server, executor = self._server, self._executor
            self._server = self._executor = None
        if server is not None:
            server.stop(grace=0).wait(5)
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        if self._owns_port:
            ports.release_port(self.port)

    def __enter__(self) -> SecretManagerFake:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def latest_alias(self) -> Literal["newest", "newest_enabled"]:
        """How ``versions/latest`` resolves; :meth:`reset` restores the constructor's choice."""
        return self._store.latest_alias

    @latest_alias.setter
    def latest_alias(self, value: Literal["newest", "newest_enabled"]) -> None:
        self._store.latest_alias = value

    def reset(self) -> None:
        """Forget all secrets, calls, faults and latency (cheap: a dict clear)."""
        self._store.clear()
        self._store.latest_alias = self._default_latest_alias
        with self._lock:
            self._log.clear()
            self._faults.clear()
            self._latency = (0.0, None)

    # -- clients --------------------------------------------------------------------------------

    def client(self, **client_options: Any) -> sm.SecretManagerServiceClient:
        """The official client, unmodified, pointed at this fake with anonymous credentials."""
        from google.auth.credentials import AnonymousCredentials

        return sm.SecretManagerServiceClient(
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options={"api_endpoint": self.endpoint, **client_options},
        )

    def env(self) -> dict[str, str]:
        """What a subprocess needs to trust this fake (plus its own ``api_endpoint`` setting)."""
        return {"GRPC_DEFAULT_SSL_ROOTS_FILE_PATH": str(self.ca_path)}

    # -- call counting --------------------------------------------------------------------------

    @property
    def calls(self) -> Counter[str]:
        """RPCs per method since the last reset, e.g. ``calls["AccessSecretVersion"]`` (failed ones too)."""
        with self._lock:
            return Counter(call.method for call in self._log)

    @property
    def call_log(self) -> list[GcpCall]:
        with self._lock:
            return list(self._log)

    @property
    def total_calls(self) -> int:
        with self._lock:
            return len(self._log)

    def reset_calls(self) -> None:
        with self._lock:
            self._log.clear()

    # -- fault injection ------------------------------------------------------------------------

    def fail_next(
        self,
        times: int = 1,
        code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE,
        *,
        methods: Sequence[str] | None = None,
        message: str | None = None,
    ) -> None:
        """Make the next ``times`` calls (of ``methods``, default any) fail with ``code``.

        Note the official client itself retries UNAVAILABLE for AccessSecretVersion (backoff from 1 s,
        deadline 60 s): an injected UNAVAILABLE is usually absorbed by one client-side retry.
        """
        self._add_fault(times, code, methods, message)

    def fail_always(
        self,
        code: grpc.StatusCode = grpc.StatusCode.PERMISSION_DENIED,
        *,
        methods: Sequence[str] | None = None,
        message: str | None = None,
    ) -> None:
        """Fail every matching call until :meth:`clear_faults`."""
        self._add_fault(None, code, methods, message)

    def _add_fault(
        self, times: int | None, code: grpc.StatusCode, methods: Sequence[str] | None, message: str | None
    ) -> None:
        text = message or f"injected {code.name} by SecretManagerFake"
        with self._lock:
            self._faults.append(_Fault(code, text, frozenset(methods) if methods else None, times))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def set_latency(self, seconds: float, *, methods: Sequence[str] | None = None) -> None:
        """Delay every matching call by ``seconds`` (0 to turn off), e.g. to test client timeouts."""
        with self._lock:
            self._latency = (seconds, frozenset(methods) if methods else None)

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.methods is not None and method not in fault.methods:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    # -- direct seeding (no RPC, not counted) ---------------------------------------------------

    def put_secret(
        self,
        name: str,
        *versions: bytes | str,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
    ) -> sm.Secret:
        """Create ``projects/P[/locations/L]/secrets/S`` with ``versions`` (1, 2, ...) in one go."""
        match = _SECRET.match(name)
        if not match:
            raise ValueError(f"not a secret name: {name!r}")
        template = sm.Secret(labels=labels or {}, annotations=annotations or {})
        if "/locations/" not in name:
            template.replication = sm.Replication(automatic=sm.Replication.Automatic())
        secret = self._store.create_secret(match["parent"], match["id"], template)
        for data in versions:
            self.add_version(name, data)
        return secret

    def add_version(self, secret_name: str, data: bytes | str) -> sm.SecretVersion:
        """Append a version; returns its metadata (``.name`` ends in the new number)."""
        raw = data.encode() if isinstance(data, str) else data
        return self._store.add_version(secret_name, sm.SecretPayload(data=raw))

    def set_version_state(
        self, version_name: str, state: Literal["ENABLED", "DISABLED", "DESTROYED"]
    ) -> None:
        self._store.set_state(version_name, getattr(State, state))

    def secret_names(self) -> list[str]:
        with self._store.lock:
            return sorted(self._store.secrets)

    # -- gRPC plumbing --------------------------------------------------------------------------

    def _handlers(self) -> dict[str, grpc.RpcMethodHandler]:
        store = self._store

        def delete_secret(request: sm.DeleteSecretRequest) -> empty_pb2.Empty:
            store.delete_secret(request.name)
            return empty_pb2.Empty()

        table: dict[str, tuple[Any, Any, Callable[[Any], Any]]] = {
            "CreateSecret": (
                sm.CreateSecretRequest,
                sm.Secret,
                lambda r: store.create_secret(r.parent, r.secret_id, r.secret),
            ),
            "GetSecret": (sm.GetSecretRequest, sm.Secret, lambda r: store.get_secret(r.name)),
            "UpdateSecret": (
                sm.UpdateSecretRequest,
                sm.Secret,
                lambda r: store.update_secret(r.secret, r.update_mask),
            ),
            "ListSecrets": (
                sm.ListSecretsRequest,
                sm.ListSecretsResponse,
                lambda r: store.list_secrets(r.parent, r.filter, r.page_size, r.page_token),
            ),
            "DeleteSecret": (sm.DeleteSecretRequest, None, delete_secret),
            "AddSecretVersion": (
                sm.AddSecretVersionRequest,
                sm.SecretVersion,
                lambda r: store.add_version(r.parent, r.payload),
            ),
            "GetSecretVersion": (
                sm.GetSecretVersionRequest,
                sm.SecretVersion,
                lambda r: store.get_version(r.name),
            ),
            "ListSecretVersions": (
                sm.ListSecretVersionsRequest,
                sm.ListSecretVersionsResponse,
                lambda r: store.list_versions(r.parent, r.filter, r.page_size, r.page_token),
            ),
            "AccessSecretVersion": (
                sm.AccessSecretVersionRequest,
                sm.AccessSecretVersionResponse,
                lambda r: store.access(r.name),
            ),
            "DisableSecretVersion": (
                sm.DisableSecretVersionRequest,
                sm.SecretVersion,
                lambda r: store.set_state(r.name, State.DISABLED),
            ),
            "EnableSecretVersion": (
                sm.EnableSecretVersionRequest,
                sm.SecretVersion,
                lambda r: store.set_state(r.name, State.ENABLED),
            ),
            "DestroySecretVersion": (
                sm.DestroySecretVersionRequest,
                sm.SecretVersion,
                lambda r: store.set_state(r.name, State.DESTROYED),
            ),
        }
        handlers: dict[str, grpc.RpcMethodHandler] = {}
        for method, (request_type, response_type, impl) in table.items():
            serializer = (
                response_type.serialize if response_type is not None else empty_pb2.Empty.SerializeToString
            )
            handlers[method] = grpc.unary_unary_rpc_method_handler(
                self._wrap(method, impl),
                request_deserializer=request_type.deserialize,
                response_serializer=serializer,
            )
        return handlers

    def _wrap(self, method: str, impl: Callable[[Any], Any]) -> Callable[[Any, grpc.ServicerContext], Any]:
        def handle(request: Any, context: grpc.ServicerContext) -> Any:
            resource = str(
                getattr(request, "name", "")
                or getattr(request, "parent", "")
                or getattr(getattr(request, "secret", None), "name", "")
            )
            metadata = dict(context.invocation_metadata() or ())
            with self._lock:
                self._log.append(GcpCall(method, resource, str(metadata.get("authorization", ""))))
                delay, delayed = self._latency
            if delay and (delayed is None or method in delayed):
                time.sleep(delay)
            fault = self._take_fault(method)
            if fault is not None:
                context.abort(fault.code, fault.message)
            try:
                return impl(request)
            except RpcError as err:
                context.abort(err.code, err.message)

        return handle
