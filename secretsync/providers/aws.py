"""AWS Secrets Manager and SSM Parameter Store through boto3, with ESO's ``spec.provider.aws`` fields.

Spec (defaults in brackets)::

    service: SecretsManager | ParameterStore   # required
    region: eu-west-1                          # [boto3's own resolution: AWS_REGION, config file, ...]
    role: arn:aws:iam::123456789012:role/x     # AssumeRole with the base credentials [none]
    auth:                                      # [none: the SDK default chain: env, IRSA, pod identity]
      secretRef:
        accessKeyIDSecretRef: {name, key, namespace}
        secretAccessKeySecretRef: {name, key, namespace}
        sessionTokenSecretRef: {name, key, namespace}    # optional

Endpoints follow boto3's standard configuration (``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_<SERVICE>``,
config files), so LocalStack, moto or a VPC endpoint need no operator-specific setting.

Reads, as ESO does them:

* Secrets Manager ``get``: ``GetSecretValue`` at stage ``version`` [``AWSCURRENT``], or at
  ``VersionId`` when ``version`` is ``uuid/<id>``; ``SecretString`` as UTF-8, else ``SecretBinary``
  raw. ``property`` selects from the JSON payload as stored, and objects and lists come back as
  their stored text (:func:`secretsync.providers.paths.raw_select`).
* Parameter Store ``get``: ``GetParameter`` of ``key`` or ``key:version``, decrypted; a StringList
  is its comma-joined text, as AWS sends it.
* ``get_map``: that payload (or its ``property``) as a JSON object, key by key: strings unquoted,
  anything else its text exactly as stored (ESO's ``map[string]json.RawMessage``).
* ``remoteRef.metadataPolicy: Fetch`` reads the tags instead of the value (Secrets Manager
  ``DescribeSecret``, Parameter Store ``ListTagsForResource``; IAM ``secretsmanager:DescribeSecret``
  / ``ssm:ListTagsForResource``), as the JSON object ``{"Key": "Value", ...}`` (``{}`` without
  tags) that ``property`` and ``get_map`` then work on exactly as on a value. ``version`` is
  ignored. Unlike ESO, a missing secret is SecretNotFound here too (deletionPolicy acts as on a
  value read), and so is one scheduled for deletion.
* ``find`` returns remote name -> value. Secrets Manager: ``ListSecrets`` with ESO's filters (a
  ``name`` prefix from ``path``, or from an anchored ``name.regexp``; for each ``tags`` entry
  ``k: v`` a ``tag-key`` filter ``k`` and a ``tag-value`` filter ``v``), then ``BatchGetSecretValue``
  by id, 20 at a time: pages, never one call per secret. As in ESO, ``tags`` therefore mean what
  AWS makes of those filters: case-sensitive *prefix* matches, the key and the value each against
  any of the secret's tags, independently (``env: prod`` also finds ``env=production``, and a
  secret tagged ``env=dev, stage=prod``); :func:`tags_match` re-checks that on ListSecrets' answer.
  This widens nothing a store could not already read: the credentials decide that. Parameter Store:
  without ``tags``, ``GetParametersByPath`` (recursive, ``path`` or ``/``; values included), as ESO;
  with ``tags``, ``DescribeParameters`` with exact ``tag:<k>`` filters (and ``path``), then
  ``GetParameters`` 10 at a time (ESO makes one GetParameter per match). Names keep their leading
  ``/``, as ESO's do; the controller turns ``/`` into ``_`` for Secret keys.

Why this module looks the way it does:

* **One client per provider, built lazily.** The controller keeps one provider per store identity,
  so the boto3 session (not thread-safe) is used once, under a lock, to build a client (thread-safe)
  that every sync reuses with its connection pool. The constructor only validates the spec.
* **AssumeRole once, not per sync** (one of ESO's known scaling problems): the role's temporary
  credentials are botocore refreshable credentials, fetched on the first signed request and renewed
  5 minutes before they expire; each STS call reports ``on_event("login")``.
* **Fail fast.** Short timeouts and three attempts in botocore's standard retry mode: an outage is a
  ProviderUnavailable within seconds, and the controller's own backoff takes over.
* **Errors are translated once, here**, naming the service, the operation and the key, never a value
  or a credential. Only AWS's error *code* is passed on, never its message: a signature mismatch
  echoes the canonical request, and text from a server is not ours to vouch for.
* **No secrets in debug logs.** botocore logs response bodies and canonical requests at DEBUG; a
  filter on those loggers drops their DEBUG records, so ``--log-level debug`` stays safe.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import boto3
import botocore
import botocore.session
from botocore import exceptions as bx
from botocore.config import Config
from botocore.credentials import DeferredRefreshableCredentials

from secretsync.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderUnavailable,
    SecretNotFound,
    SpecError,
)
from secretsync.providers import paths, specs
from secretsync.providers.base import Access, FindSpec, RemoteRef, SecretKeyRef, StoreContext

log = logging.getLogger(__name__)

SPEC = "spec.provider.aws"
SERVICES = {"SecretsManager": "secretsmanager", "ParameterStore": "ssm"}
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
MAX_ATTEMPTS = 3  # botocore standard mode: first try + 2 retries, jittered backoff under ~3 s in all
ROLE_REFRESH_BEFORE = 300  # seconds before expiry the assumed role's credentials are renewed
ROLE_MANDATORY_REFRESH = 60  # below this, every request waits for the renewal
ROLE_SESSION_NAME = "secretsync"
BATCH_GET_IDS = 20  # BatchGetSecretValue's SecretIdList limit
GET_PARAMETERS_NAMES = 10  # GetParameters' Names limit
LIST_PAGE = 100  # ListSecrets maximum page size
SSM_PAGE = 10  # GetParametersByPath maximum page size
DESCRIBE_PAGE = 50  # DescribeParameters maximum page size
FETCH = "Fetch"  # remoteRef.metadataPolicy that reads the tags instead of the value

_NOT_FOUND = {"ResourceNotFoundException", "ParameterNotFound", "ParameterVersionNotFound"}
_AUTH = {
    "DecryptionFailure",  # KMS refused to decrypt: the key policy or IAM, as AccessDenied
    "AccessDenied",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "KMSAccessDeniedException",
}
_THROTTLED = {
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ThrottledException",
}
_INVALID = {
    "ValidationException",
    "InvalidParameterException",
    "InvalidParameterValue",
    "InvalidParameterValueException",
    "InvalidRequestException",
    "ParameterVersionLabelLimitExceeded",
    "InvalidKeyId",
    "InvalidFilterKey",
    "InvalidFilterValue",
    "InvalidFilterOption",
}
_REGEXP_META = frozenset(".^$*+?{}[]\\|()")
# botocore's DEBUG logs carry response bodies (secret values) and canonical requests (session tokens).
_PAYLOAD_LOGGERS = ("botocore.parsers", "botocore.auth", "botocore.endpoint", "botocore.httpchecksum")


class _DropDebug(logging.Filter):
    """Drops DEBUG records of botocore's payload loggers, so debug logging never writes a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def _quiet_payload_logs() -> None:
    for name in _PAYLOAD_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropDebug) for f in logger.filters):
            logger.addFilter(_DropDebug())


_quiet_payload_logs()


# -- configuration ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class StaticAuth:
    """``auth.secretRef``: an access key (and optionally a session token) from Kubernetes Secrets."""

    access_key_id: SecretKeyRef
    secret_access_key: SecretKeyRef
    session_token: SecretKeyRef | None


@dataclasses.dataclass(frozen=True)
class AwsConfig:
    """``spec.provider.aws``, validated once when the provider is built."""

    service: str  # boto3 service name: secretsmanager | ssm
    region: str | None
    role: str | None
    auth: StaticAuth | None  # None: the SDK default credential chain


def parse_config(spec: Mapping[str, Any]) -> AwsConfig:
    """Validate the store spec; every SpecError names the field to fix."""
    service = spec.get("service")
    if service not in SERVICES:
        raise SpecError(f"{SPEC}.service", f"must be one of {', '.join(SERVICES)}, not {service!r}")
    role = specs.opt_str(spec, "role", SPEC)
    if role is not None and not role.startswith("arn:"):
        raise SpecError(f"{SPEC}.role", "must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
    return AwsConfig(
        service=SERVICES[service],
        region=specs.opt_str(spec, "region", SPEC),
        role=role,
        auth=_parse_auth(spec.get("auth")),
    )


def _parse_auth(auth: Any) -> StaticAuth | None:
    if auth is None:
        return None
    where = f"{SPEC}.auth"
    if not isinstance(auth, Mapping):
        raise SpecError(where, "must be an object")
    unknown = sorted(k for k, v in auth.items() if v is not None and k != "secretRef")
    if unknown:
        raise SpecError(f"{where}.{unknown[0]}", "is not supported by secretsync (supported: secretRef)")
    body = auth.get("secretRef")
    if body is None:
        return None
    where = f"{where}.secretRef"
    if not isinstance(body, Mapping):
        raise SpecError(where, "must be an object")
    for required in ("accessKeyIDSecretRef", "secretAccessKeySecretRef"):
        if body.get(required) is None:
            raise SpecError(f"{where}.{required}", "is required")
    token = body.get("sessionTokenSecretRef")
    return StaticAuth(
        access_key_id=specs.secret_key_ref(body["accessKeyIDSecretRef"], f"{where}.accessKeyIDSecretRef"),
        secret_access_key=specs.secret_key_ref(
            body["secretAccessKeySecretRef"], f"{where}.secretAccessKeySecretRef"
        ),
        session_token=specs.secret_key_ref(token, f"{where}.sessionTokenSecretRef")
        if token is not None
        else None,
    )


def tags_match(tags: Sequence[Mapping[str, Any]], wanted: Mapping[str, str]) -> bool:
    """Whether a secret's ``Tags`` pass ESO's ``find.tags`` filters as AWS applies them: for each
    wanted ``k: v``, a ``tag-key`` filter ``k`` and a ``tag-value`` filter ``v``, each a
    case-sensitive prefix match against any of the secret's tags, independently of each other
    (``env: prod`` passes ``env=production``, and ``env=dev, stage=prod``).

    ListSecrets has already applied these filters; checking again here keeps a server that
    ignores them (an emulator) from widening the match. A value starting with ``!`` is AWS's
    negation, left to the server.
    """
    keys = [str(tag.get("Key", "")) for tag in tags]
    values = [str(tag.get("Value", "")) for tag in tags]

    def passes(prefix: str, texts: list[str]) -> bool:
        return prefix.startswith("!") or any(text.startswith(prefix) for text in texts)

    return all(passes(key, keys) and passes(value, values) for key, value in wanted.items())


def literal_prefix(pattern: str | None) -> str:
    """The literal text every match of an anchored ``pattern`` starts with ("" if unknown).

    Used only to narrow a server-side listing; the regexp is still applied to every name.
    """
    if not pattern or not pattern.startswith("^") or "|" in pattern:
        return ""
    prefix: list[str] = []
    for char in pattern[1:]:
        if char in _REGEXP_META:
            if char in "*?{" and prefix:
                prefix.pop()  # the previous character is optional or repeated
            break
        prefix.append(char)
    return "".join(prefix)


# -- the provider --------------------------------------------------------------------------------------


class AwsProvider:
    """One boto3 client for one store identity, shared by all its ExternalSecrets."""

    name = "aws"

    def __init__(self, context: StoreContext) -> None:
        """Validate the spec (SpecError if malformed); no credentials read, no network until first use."""
        self._context = context
        self._config = parse_config(context.spec)
        self._service = self._config.service
        self._noun = "secretsmanager secret" if self._service == "secretsmanager" else "ssm parameter"
        # Without auth.secretRef every call (and AssumeRole of ``role``) runs as the operator itself.
        self.access = Access(ambient_identity=self._config.auth is None)
        # Guards building/dropping the client: boto3 sessions are not thread-safe, clients are.
        self._lock = threading.Lock()
        self._client: Any = None

    # -- Provider interface -----------------------------------------------------------------

    def get(self, ref: RemoteRef) -> bytes:
        subject, value = self._load(ref)
        if not ref.property:
            return value
        return paths.raw_select(value, ref.property, where=subject)

    def get_map(self, ref: RemoteRef) -> dict[str, bytes]:
        subject, value = self._load(ref)
        if not ref.property:
            return paths.raw_extract(value, subject)
        selected = paths.raw_select(value, ref.property, where=subject)
        return paths.raw_extract(selected, f"{subject} property {ref.property!r}")

    def find(self, spec: FindSpec) -> dict[str, bytes]:
        if self._service == "secretsmanager":
            return self._find_secrets(spec)
        return self._find_parameters(spec)

    def check(self) -> None:
        """One cheap authenticated call (plus AssumeRole with ``role``): credentials work, AWS reachable.

        It does not prove any particular secret readable: that needs a key, which a store has not.
        """
        if self._service == "secretsmanager":
            self._call("ListSecrets", "*", MaxResults=1)
        else:
            self._call("DescribeParameters", "*", MaxResults=1)

    def close(self) -> None:
        """Drop the client and its connection pool (and the assumed role's credentials with it)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()

    # -- reads --------------------------------------------------------------------------------

    def _load(self, ref: RemoteRef) -> tuple[str, bytes]:
        """The value, or with ``metadataPolicy: Fetch`` the tags, and a label for messages."""
        if ref.metadata_policy == FETCH:
            return self._read_tags(ref.key)
        return self._read(ref.key, ref.version)

    def _read_tags(self, key: str) -> tuple[str, bytes]:
        """``metadataPolicy: Fetch``, as ESO: the secret's or parameter's tags as a JSON object
        ``{"Key": "Value"}`` (Go's encoding, keys sorted), read with DescribeSecret or
        ListTagsForResource, never the value. ``version`` is ignored: tags belong to the secret (or
        parameter), not to a version. A missing secret, or one scheduled for deletion, is
        SecretNotFound as a value read would say (ESO passes DescribeSecret's error on as is)."""
        if not key:
            raise SpecError("remoteRef.key", "is required")
        subject = f"aws: {self._noun} {key} tags"
        operation = "DescribeSecret" if self._service == "secretsmanager" else "ListTagsForResource"
        try:
            if self._service == "secretsmanager":
                answer = self._call(operation, key, SecretId=key)
                tags = answer.get("Tags") or []
            else:
                answer = self._call(operation, key, ResourceType="Parameter", ResourceId=key)
                tags = answer.get("TagList") or []
        except SecretNotFound:
            raise SecretNotFound(f"aws: {self._noun} {key} not found ({operation})") from None
        if answer.get("DeletedDate"):
            raise SecretNotFound(f"aws: {self._noun} {key} not found (scheduled for deletion; {operation})")
        found = {str(tag.get("Key", "")): str(tag.get("Value", "")) for tag in tags}
        return subject, paths.go_json(found)

    def _read(self, key: str, version: str | None) -> tuple[str, bytes]:
        """One value; returns a label for messages (``aws: <service> <kind> <key> (version v)``) too."""
        if not key:
            raise SpecError("remoteRef.key", "is required")
        label = key + (f" (version {version})" if version else "")
        subject = f"aws: {self._noun} {label}"
        if self._service == "secretsmanager":
            params: dict[str, Any] = {"SecretId": key}
            if version and version.startswith("uuid/"):
                params["VersionId"] = version[len("uuid/") :]
            else:
                params["VersionStage"] = version or "AWSCURRENT"
            return subject, _secret_payload(self._call("GetSecretValue", label, **params))
        name = f"{key}:{version}" if version else key
        answer = self._call("GetParameter", label, Name=name, WithDecryption=True)
        return subject, str(answer["Parameter"]["Value"]).encode()

    def _find_secrets(self, spec: FindSpec) -> dict[str, bytes]:
        matcher = paths.compile_name_regexp(spec.name_regexp)
        path = spec.path or ""
        prefix = path or literal_prefix(spec.name_regexp)
        filters: list[dict[str, Any]] = []
        if prefix:
            filters.append({"Key": "name", "Values": [prefix]})
        for key, value in spec.tags.items():  # ESO's findByTags / findByNameAndTags filters
            filters.append({"Key": "tag-key", "Values": [key]})
            filters.append({"Key": "tag-value", "Values": [value]})
        names: list[str] = []
        for page in self._pages(
            "ListSecrets", "secrets", "SecretList", Filters=filters, MaxResults=LIST_PAGE
        ):
            for entry in page:
                name = str(entry.get("Name", ""))
                if not name.startswith(path) or (matcher is not None and not matcher.search(name)):
                    continue
                if tags_match(entry.get("Tags") or [], spec.tags):
                    names.append(name)
                    paths.check_find_size(len(names))
        found: dict[str, bytes] = {}
        for start in range(0, len(names), BATCH_GET_IDS):
            chunk = names[start : start + BATCH_GET_IDS]
            subject = f"{len(chunk)} secrets ({chunk[0]}, ...)"
            for answer in self._pages("BatchGetSecretValue", subject, None, SecretIdList=chunk):
                for error in answer.get("Errors") or []:
                    self._batch_error(error)
                for entry in answer.get("SecretValues") or []:
                    found[str(entry["Name"])] = _secret_payload(entry)
        return found

    def _batch_error(self, error: Mapping[str, Any]) -> None:
        """A per-secret error of BatchGetSecretValue: gone since the listing is skipped (like ESO)."""
        code, secret = str(error.get("ErrorCode", "")), str(error.get("SecretId", ""))
        gone = code == "ResourceNotFoundException" or (
            code == "InvalidRequestException" and "delet" in str(error.get("Message", "")).lower()
        )
        if gone:
            return
        if code in _AUTH:
            raise ProviderAuthError(
                f"aws: access denied: secretsmanager:BatchGetSecretValue on {secret} ({code})"
            )
        raise ProviderError(f"aws: secretsmanager BatchGetSecretValue on {secret} failed: {code}")

    def _find_parameters(self, spec: FindSpec) -> dict[str, bytes]:
        matcher = paths.compile_name_regexp(spec.name_regexp)
        found: dict[str, bytes] = {}
        if not spec.tags:  # as ESO: one recursive listing that carries the values, from / by default
            path = spec.path or "/"
            pages = self._pages(
                "GetParametersByPath",
                path,
                "Parameters",
                Path=path,
                Recursive=True,
                WithDecryption=True,
                MaxResults=SSM_PAGE,
            )
            for page in pages:
                for parameter in page:
                    name = str(parameter["Name"])
                    if matcher is None or matcher.search(name):
                        found[name] = str(parameter["Value"]).encode()
                        paths.check_find_size(len(found))
            return found
        filters: list[dict[str, Any]] = [
            {"Key": f"tag:{key}", "Option": "Equals", "Values": [value]} for key, value in spec.tags.items()
        ]
        if spec.path:
            filters.append({"Key": "Path", "Option": "Recursive", "Values": [spec.path]})
        names: list[str] = []
        pages = self._pages(
            "DescribeParameters",
            spec.path or "*",
            "Parameters",
            ParameterFilters=filters,
            MaxResults=DESCRIBE_PAGE,
        )
        for page in pages:
            for parameter in page:
                name = str(parameter["Name"])
                if matcher is None or matcher.search(name):
                    names.append(name)
                    paths.check_find_size(len(names))
        for start in range(0, len(names), GET_PARAMETERS_NAMES):
            chunk = names[start : start + GET_PARAMETERS_NAMES]
            answer = self._call("GetParameters", f"{chunk[0]}, ...", Names=chunk, WithDecryption=True)
            for parameter in answer.get("Parameters") or []:  # InvalidParameters: deleted since: skipped
                found[str(parameter["Name"])] = str(parameter["Value"]).encode()
        return found

    # -- calls and errors -----------------------------------------------------------------------------

    def _call(self, operation: str, subject: str, **params: Any) -> dict[str, Any]:
        """One API call, translated; ``subject`` names the key (never a value) in messages."""
        client = self._connect()
        method = getattr(client, botocore.xform_name(operation))
        try:
            answer: dict[str, Any] = method(**params)
        except Exception as exc:
            raise self._translate(exc, operation, subject) from None
        return answer

    def _pages(self, operation: str, subject: str, result_key: str | None, **params: Any) -> Iterator[Any]:
        """Every page of a paginated call (``result_key``'s list, or the whole answer), translated."""
        while True:
            answer = self._call(operation, subject, **params)
            yield (answer.get(result_key) or []) if result_key else answer
            token = answer.get("NextToken")
            if not token:
                return
            params["NextToken"] = token

    def _translate(self, exc: Exception, operation: str, subject: str, service: str = "") -> Exception:
        """An SDK exception as one of our errors, naming ``service:operation`` and ``subject``."""
        service = service or self._service
        if isinstance(exc, ProviderError | SpecError):  # raised by our own credential refresh
            return exc
        if isinstance(exc, bx.ClientError):
            error = exc.response.get("Error") or {}
            code = str(error.get("Code", ""))
            message = str(error.get("Message", ""))
            status = int((exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
            # ListTagsForResource names a missing parameter an invalid resource id.
            if code in _NOT_FOUND or (code == "InvalidResourceId" and operation == "ListTagsForResource"):
                return SecretNotFound(f"aws: {self._noun} {subject} not found")
            if code == "InvalidRequestException" and "delet" in message.lower():
                return SecretNotFound(f"aws: {self._noun} {subject} not found (scheduled for deletion)")
            if code in _AUTH or status in (401, 403):
                return ProviderAuthError(f"aws: access denied: {service}:{operation} on {subject} ({code})")
            if code in _THROTTLED or status == 429:
                return ProviderUnavailable(f"aws: {service} {operation} on {subject} throttled: {code}")
            if status >= 500:
                return ProviderUnavailable(
                    f"aws: {service} {operation} on {subject} unavailable: {status} {code}"
                )
            if code in _INVALID or status == 400:
                return SpecError("remoteRef", f"aws: {service} {operation} on {subject} was rejected: {code}")
            return ProviderError(f"aws: {service} {operation} on {subject} failed: {status} {code}")
        if isinstance(exc, bx.InvalidRegionError):
            return SpecError(f"{SPEC}.region", "is not a valid AWS region name (for example eu-west-1)")
        if isinstance(exc, bx.NoRegionError):
            return SpecError(f"{SPEC}.region", "is not set and boto3 found no default region (AWS_REGION)")
        if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError | bx.CredentialRetrievalError):
            return ProviderAuthError(
                f"aws: no usable credentials for {service}:{operation} on {subject} ({type(exc).__name__}): "
                f"set {SPEC}.auth.secretRef or configure the SDK default chain"
            )
        if isinstance(exc, bx.ParamValidationError):
            return SpecError(
                "remoteRef", f"aws: {service} {operation} on {subject}: invalid request parameters"
            )
        if isinstance(exc, bx.HTTPClientError | bx.ConnectionError):
            return ProviderUnavailable(
                f"aws: {service} {operation} on {subject} unreachable ({type(exc).__name__})"
            )
        if isinstance(exc, bx.BotoCoreError):
            return ProviderError(f"aws: {service} {operation} on {subject} failed: {type(exc).__name__}")
        return exc

    # -- the client ----------------------------------------------------------------------------------

    def _connect(self) -> Any:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._build()
                client = self._client
        return client

    def _build(self) -> Any:
        """Session, credentials and client; runs once per provider (again only after close())."""
        config = Config(
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            # total_max_attempts counts the first try; botocore's max_attempts counts retries only
            retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        )
        session = boto3.session.Session(region_name=self._config.region, **self._static_credentials())
        region = self._config.region or session.region_name
        if not region:
            raise SpecError(f"{SPEC}.region", "is not set and boto3 found no default region (AWS_REGION)")
        try:
            if self._config.role:
                sts = session.client("sts", region_name=region, config=config)
                core = botocore.session.Session()
                core._credentials = _RoleCredentials(  # no public setter for a session's credentials
                    refresh_using=lambda: self._assume_role(sts), method="sts-assume-role"
                )
                session = boto3.session.Session(botocore_session=core, region_name=region)
            return session.client(self._service, region_name=region, config=config)
        except bx.BotoCoreError as exc:
            raise self._translate(exc, "client setup", self._context.ref) from None

    def _static_credentials(self) -> dict[str, str]:
        auth = self._config.auth
        if auth is None:
            return {}

        def read(ref: SecretKeyRef) -> str:
            return self._context.read_credential(ref).decode("utf-8", "replace").strip()

        found = {
            "aws_access_key_id": read(auth.access_key_id),
            "aws_secret_access_key": read(auth.secret_access_key),
        }
        if auth.session_token is not None:
            found["aws_session_token"] = read(auth.session_token)
        return found

    def _assume_role(self, sts: Any) -> dict[str, str]:
        """botocore's refresh callback: AssumeRole with the base credentials (errors translated)."""
        role = self._config.role or ""
        try:
            answer = sts.assume_role(RoleArn=role, RoleSessionName=ROLE_SESSION_NAME)
        except Exception as exc:
            error = self._translate(exc, "AssumeRole", role, service="sts")
            if isinstance(error, ProviderUnavailable | ProviderAuthError):
                raise error from None
            # not the remoteRef: the role, its trust policy or the base credentials are to fix
            raise ProviderAuthError(
                f"aws: sts:AssumeRole of {role} failed ({_error_code(exc)}): "
                f"check {SPEC}.role and the role's trust policy"
            ) from None
        self._context.on_event("login")
        credentials = answer["Credentials"]
        log.debug("aws: assumed %s for %s until %s", role, self._context.ref, credentials["Expiration"])
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": credentials["Expiration"].isoformat(),
        }


class _RoleCredentials(DeferredRefreshableCredentials):  # type: ignore[misc]
    """Assumed-role credentials: fetched on first use, renewed ROLE_REFRESH_BEFORE seconds before expiry.

    botocore's defaults (15/10 minutes) would renew a 15-minute session on every request.
    """

    _advisory_refresh_timeout = ROLE_REFRESH_BEFORE
    _mandatory_refresh_timeout = ROLE_MANDATORY_REFRESH


def _error_code(exc: Exception) -> str:
    """AWS's error code of a ClientError, else the exception's class name (never its message)."""
    if isinstance(exc, bx.ClientError):
        return str((exc.response.get("Error") or {}).get("Code", "")) or "no error code"
    return type(exc).__name__


def _secret_payload(answer: Mapping[str, Any]) -> bytes:
    """A Secrets Manager value: ``SecretString`` as UTF-8, else ``SecretBinary`` as is."""
    text = answer.get("SecretString")
    if text is not None:
        return str(text).encode()
    binary = answer.get("SecretBinary")
    return bytes(binary) if binary is not None else b""
