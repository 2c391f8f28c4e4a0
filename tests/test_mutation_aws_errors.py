"""secretsync/providers/aws.py: what mutation testing found untested (docs/testing.md, "Mutation testing").

Error translation is what a user reads on the store's status, so its messages are asserted word for
word, for every branch: ClientError codes and HTTP statuses, BatchGetSecretValue's per-secret errors,
and the SDK's own exceptions. Answers moto cannot produce (tags without a value, a 503, a
per-secret batch error) come from botocore's Stubber on a real client: no network, no sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore import exceptions as bx
from botocore.stub import Stubber

from secretsync.errors import (
    PropertyNotFound,
    ProviderAuthError,
    ProviderError,
    ProviderUnavailable,
    SecretNotFound,
    SpecError,
)
from secretsync.providers.aws import SERVICES, AwsProvider, _secret_payload, tags_match
from secretsync.providers.base import Access, FindSpec, RemoteRef
from tests.test_provider_aws import _context, _provider

DELETION = "You can't perform this operation on the secret because it was marked for deletion."
AUTH = {
    "secretRef": {
        "accessKeyIDSecretRef": {"name": "aws", "key": "id"},
        "secretAccessKeySecretRef": {"name": "aws", "key": "secret"},
    }
}


def _stubbed(service: str = "SecretsManager") -> tuple[AwsProvider, Stubber]:
    """A provider whose (lazily built) client is a real boto3 client answered by a Stubber."""
    provider = _provider(service, region="us-east-1")
    client = boto3.session.Session(
        aws_access_key_id="AKIASTUB", aws_secret_access_key="stub", region_name="us-east-1"
    ).client(SERVICES[service], endpoint_url="https://aws.invalid")
    stubber = Stubber(client)
    stubber.activate()
    provider._client = client
    return provider, stubber


@pytest.fixture
def stub_sm() -> Iterator[tuple[AwsProvider, Stubber]]:
    provider, stubber = _stubbed()
    yield provider, stubber
    stubber.assert_no_pending_responses()


# -- tags_match, _secret_payload ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "wanted"),
    [
        ([{"Value": "prod"}], {"No": "prod"}),  # a tag without a Key has no key text, not "None"
        ([{"Value": "prod"}], {"XX": "prod"}),
        ([{"Key": "env"}], {"env": "No"}),  # nor a tag without a Value a value text
        ([{"Key": "env"}], {"env": "XX"}),
    ],
)
def test_tags_match_missing_key_or_value_matches_nothing(
    tags: list[dict[str, str]], wanted: dict[str, str]
) -> None:
    assert tags_match(tags, wanted) is False


def test_tags_match_missing_key_or_value_is_empty_text() -> None:
    assert tags_match([{"Value": "prod"}], {"": "prod"}) is True
    assert tags_match([{"Key": "env"}], {"env": ""}) is True


def test_secret_payload_without_string_or_binary_is_empty() -> None:
    assert _secret_payload({"Name": "x", "VersionId": "v"}) == b""
    assert _secret_payload({"SecretBinary": b"\x00"}) == b"\x00"
    assert _secret_payload({"SecretString": "", "SecretBinary": b"b"}) == b""


# -- the provider's declarations, spec errors, fast path ---------------------------------------------


def test_access_declares_ambient_identity_only_without_auth() -> None:
    assert _provider().access == Access(ambient_identity=True)
    assert _provider(role="arn:aws:iam::1:role/r").access == Access(ambient_identity=True)
    explicit = AwsProvider(_context({"service": "ParameterStore", "auth": AUTH}))
    assert explicit.access == Access(ambient_identity=False)


@pytest.mark.parametrize("service", ["SecretsManager", "ParameterStore"])
def test_empty_key_is_a_spec_error_naming_remote_ref_key(service: str) -> None:
    with pytest.raises(SpecError) as info:
        _provider(service).get(RemoteRef(""))
    assert info.value.path == "remoteRef.key"
    assert str(info.value) == "remoteRef.key: is required"


def test_built_client_is_reused_without_taking_the_lock() -> None:
    class NoLock:
        def __enter__(self) -> None:
            raise AssertionError("the lock is only for building the client")

        def __exit__(self, *exc: object) -> None:
            return None

    provider = _provider()
    client = object()
    provider._client = client
    provider._lock = NoLock()  # type: ignore[assignment]
    assert provider._connect() is client


# -- reads through a stubbed client ----------------------------------------------------------------------


def test_get_map_of_a_missing_property_names_the_secret(stub_sm: tuple[AwsProvider, Stubber]) -> None:
    provider, stubber = stub_sm
    stubber.add_response(
        "get_secret_value",
        {"Name": "cfg", "SecretString": '{"a":{"b":1}}'},
        {"SecretId": "cfg", "VersionStage": "AWSCURRENT"},
    )
    with pytest.raises(PropertyNotFound) as info:
        provider.get_map(RemoteRef("cfg", property="nope"))
    assert str(info.value) == "aws: secretsmanager secret cfg has no property 'nope'"


def test_fetch_tags_without_key_or_value_are_empty_text(stub_sm: tuple[AwsProvider, Stubber]) -> None:
    provider, stubber = stub_sm
    # Secrets Manager's Tag shape makes both members optional; a missing one is "", never "None".
    stubber.add_response(
        "describe_secret",
        {"Name": "k", "Tags": [{"Key": "novalue"}, {"Value": "nokey"}]},
        {"SecretId": "k"},
    )
    assert provider.get(RemoteRef("k", metadata_policy="Fetch")) == b'{"":"nokey","novalue":""}'


@pytest.mark.parametrize(
    ("service", "method", "operation"),
    [
        ("SecretsManager", "list_secrets", "secretsmanager:ListSecrets"),
        ("ParameterStore", "describe_parameters", "ssm:DescribeParameters"),
    ],
)
def test_check_is_one_single_item_page(service: str, method: str, operation: str) -> None:
    provider, stubber = _stubbed(service)
    stubber.add_response(method, {}, {"MaxResults": 1})
    stubber.add_client_error(method, "AccessDeniedException", "no", 400, expected_params={"MaxResults": 1})
    provider.check()
    with pytest.raises(ProviderAuthError) as info:
        provider.check()
    assert str(info.value) == f"aws: access denied: {operation} on * (AccessDeniedException)"
    stubber.assert_no_pending_responses()


def test_find_skips_secrets_gone_since_the_listing(stub_sm: tuple[AwsProvider, Stubber]) -> None:
    provider, stubber = stub_sm
    listed = [{"Name": "app/a"}, {"Name": "app/gone"}, {"Name": "app/doomed"}]
    stubber.add_response("list_secrets", {"SecretList": listed})
    stubber.add_response(
        "batch_get_secret_value",
        {
            "SecretValues": [{"Name": "app/a", "SecretString": "va"}],
            "Errors": [
                {"SecretId": "app/gone", "ErrorCode": "ResourceNotFoundException", "Message": "not found"},
                {
                    "SecretId": "app/doomed",
                    "ErrorCode": "InvalidRequestException",
                    "Message": DELETION,
                },
            ],
        },
        {"SecretIdList": ["app/a", "app/gone", "app/doomed"]},
    )
    assert provider.find(FindSpec(path="app/")) == {"app/a": b"va"}


# -- BatchGetSecretValue's per-secret errors ----------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        {"SecretId": "s", "ErrorCode": "ResourceNotFoundException", "Message": "can't find the secret"},
        {"SecretId": "s", "ErrorCode": "ResourceNotFoundException"},
        {"SecretId": "s", "ErrorCode": "InvalidRequestException", "Message": DELETION},
        {"SecretId": "s", "ErrorCode": "InvalidRequestException", "Message": "Secret was DELETED"},
    ],
)
def test_batch_error_skips_secrets_gone_since_the_listing(error: dict[str, str]) -> None:
    assert _provider()._batch_error(error) is None


@pytest.mark.parametrize(
    ("error", "kind", "message"),
    [
        (
            {"SecretId": "s", "ErrorCode": "InvalidRequestException", "Message": "rotation in progress"},
            ProviderError,
            "aws: secretsmanager BatchGetSecretValue on s failed: InvalidRequestException",
        ),
        (
            {"SecretId": "s", "ErrorCode": "InvalidRequestException"},
            ProviderError,
            "aws: secretsmanager BatchGetSecretValue on s failed: InvalidRequestException",
        ),
        (  # "deleted" only means gone with InvalidRequestException
            {"SecretId": "s", "ErrorCode": "InternalServiceError", "Message": "deleted"},
            ProviderError,
            "aws: secretsmanager BatchGetSecretValue on s failed: InternalServiceError",
        ),
        (
            {"SecretId": "s", "ErrorCode": "AccessDeniedException", "Message": "nope"},
            ProviderAuthError,
            "aws: access denied: secretsmanager:BatchGetSecretValue on s (AccessDeniedException)",
        ),
        (
            {"SecretId": "s", "ErrorCode": "DecryptionFailure", "Message": "kms"},
            ProviderAuthError,
            "aws: access denied: secretsmanager:BatchGetSecretValue on s (DecryptionFailure)",
        ),
        (
            {
                "SecretId": "arn:aws:secretsmanager:us-east-1:1:secret:x",
                "ErrorCode": "KMSAccessDeniedException",
            },
            ProviderAuthError,
            "aws: access denied: secretsmanager:BatchGetSecretValue on "
            "arn:aws:secretsmanager:us-east-1:1:secret:x (KMSAccessDeniedException)",
        ),
        (  # no code: nothing invented ("None") in its place
            {"SecretId": "s", "Message": "?"},
            ProviderError,
            "aws: secretsmanager BatchGetSecretValue on s failed: ",
        ),
        (  # no id: likewise
            {"ErrorCode": "InternalServiceError"},
            ProviderError,
            "aws: secretsmanager BatchGetSecretValue on  failed: InternalServiceError",
        ),
    ],
)
def test_batch_error_raises_the_rest(error: dict[str, str], kind: type[Exception], message: str) -> None:
    with pytest.raises(kind) as info:
        _provider()._batch_error(error)
    assert type(info.value) is kind
    assert str(info.value) == message


# -- ClientError translation -------------------------------------------------------------------------


def _client_error(code: str | None, status: int | None, message: str | None = None) -> bx.ClientError:
    error: dict[str, str] = {}
    if code is not None:
        error["Code"] = code
    if message is not None:
        error["Message"] = message
    response: dict[str, Any] = {"Error": error}
    if status is not None:
        response["ResponseMetadata"] = {"HTTPStatusCode": status}
    return bx.ClientError(response, "Op")  # type: ignore[arg-type]


GSV = "secretsmanager GetSecretValue on k"


@pytest.mark.parametrize(
    ("code", "status", "message", "kind", "text"),
    [
        # status decides for codes we do not know
        (
            "ServiceUnavailable",
            503,
            None,
            ProviderUnavailable,
            f"aws: {GSV} unavailable: 503 ServiceUnavailable",
        ),
        ("InternalFailure", 500, None, ProviderUnavailable, f"aws: {GSV} unavailable: 500 InternalFailure"),
        ("SlowDown", 429, None, ProviderUnavailable, f"aws: {GSV} throttled: SlowDown"),
        (
            "RequestLimitExceeded",
            400,
            None,
            ProviderUnavailable,
            f"aws: {GSV} throttled: RequestLimitExceeded",
        ),
        (
            "Nope",
            401,
            None,
            ProviderAuthError,
            "aws: access denied: secretsmanager:GetSecretValue on k (Nope)",
        ),
        (
            "Nope",
            403,
            None,
            ProviderAuthError,
            "aws: access denied: secretsmanager:GetSecretValue on k (Nope)",
        ),
        ("SomethingNew", 400, None, SpecError, f"remoteRef: aws: {GSV} was rejected: SomethingNew"),
        (
            "ValidationException",
            None,
            None,
            SpecError,
            f"remoteRef: aws: {GSV} was rejected: ValidationException",
        ),
        ("Conflict", 409, None, ProviderError, f"aws: {GSV} failed: 409 Conflict"),
        ("Weird", None, None, ProviderError, f"aws: {GSV} failed: 0 Weird"),
        # "delet" in the message only means "scheduled for deletion" with InvalidRequestException
        (
            "InvalidRequestException",
            400,
            "You can't perform this operation on the secret because it was marked for deletion.",
            SecretNotFound,
            "aws: secretsmanager secret k not found (scheduled for deletion)",
        ),
        (
            "InvalidRequestException",
            400,
            "rotation in progress",
            SpecError,
            f"remoteRef: aws: {GSV} was rejected: InvalidRequestException",
        ),
        (
            "InvalidRequestException",
            400,
            None,
            SpecError,
            f"remoteRef: aws: {GSV} was rejected: InvalidRequestException",
        ),
        ("Conflict", 409, "was deleted", ProviderError, f"aws: {GSV} failed: 409 Conflict"),
        # InvalidResourceId is "not found" only for ListTagsForResource
        ("InvalidResourceId", 400, None, SpecError, f"remoteRef: aws: {GSV} was rejected: InvalidResourceId"),
    ],
)
def test_client_errors_by_code_and_status(
    code: str, status: int | None, message: str | None, kind: type[Exception], text: str
) -> None:
    translated = _provider()._translate(_client_error(code, status, message), "GetSecretValue", "k")
    assert type(translated) is kind
    assert str(translated) == text
    if isinstance(translated, SpecError):
        assert translated.path == "remoteRef"


@pytest.mark.parametrize(("status", "kind"), [(503, ProviderUnavailable), (None, ProviderError)])
def test_client_error_without_a_code_invents_none(status: int | None, kind: type[Exception]) -> None:
    # botocore always sets a code; should one be missing, the message must not show "None" or filler
    translated = _provider()._translate(_client_error(None, status), "GetSecretValue", "k")
    assert type(translated) is kind
    assert (
        str(translated).rstrip()
        == {
            503: f"aws: {GSV} unavailable: 503",
            None: f"aws: {GSV} failed: 0",
        }[status]
    )


@pytest.mark.parametrize(
    ("code", "kind", "text"),
    [
        ("InvalidResourceId", SecretNotFound, "aws: ssm parameter /p not found"),
        ("ParameterNotFound", SecretNotFound, "aws: ssm parameter /p not found"),
        (
            "AccessDeniedException",
            ProviderAuthError,
            "aws: access denied: ssm:ListTagsForResource on /p (AccessDeniedException)",
        ),
        ("Conflict", ProviderError, "aws: ssm ListTagsForResource on /p failed: 409 Conflict"),
    ],
)
def test_list_tags_for_resource_errors(code: str, kind: type[Exception], text: str) -> None:
    provider = _provider("ParameterStore")
    translated = provider._translate(
        _client_error(code, 409 if code == "Conflict" else 400), "ListTagsForResource", "/p"
    )
    assert type(translated) is kind
    assert str(translated) == text


# -- the SDK's own exceptions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "kind", "path", "text"),
    [
        (
            bx.NoRegionError(),
            SpecError,
            "spec.provider.aws.region",
            "spec.provider.aws.region: is not set and boto3 found no default region (AWS_REGION)",
        ),
        (
            bx.NoCredentialsError(),
            ProviderAuthError,
            None,
            "aws: no usable credentials for secretsmanager:GetSecretValue on k (NoCredentialsError): "
            "set spec.provider.aws.auth.secretRef or configure the SDK default chain",
        ),
        (
            bx.PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
            ProviderAuthError,
            None,
            "aws: no usable credentials for secretsmanager:GetSecretValue on k (PartialCredentialsError): "
            "set spec.provider.aws.auth.secretRef or configure the SDK default chain",
        ),
        (
            bx.ParamValidationError(report="Invalid length for parameter SecretId"),
            SpecError,
            "remoteRef",
            f"remoteRef: aws: {GSV}: invalid request parameters",
        ),
        (
            bx.EndpointConnectionError(endpoint_url="https://secretsmanager.invalid"),
            ProviderUnavailable,
            None,
            f"aws: {GSV} unreachable (EndpointConnectionError)",
        ),
        (
            bx.ReadTimeoutError(endpoint_url="https://secretsmanager.invalid"),
            ProviderUnavailable,
            None,
            f"aws: {GSV} unreachable (ReadTimeoutError)",
        ),
        (
            bx.DataNotFoundError(data_path="secretsmanager"),
            ProviderError,
            None,
            f"aws: {GSV} failed: DataNotFoundError",
        ),
    ],
)
def test_sdk_errors(exc: Exception, kind: type[Exception], path: str | None, text: str) -> None:
    translated = _provider()._translate(exc, "GetSecretValue", "k")
    assert type(translated) is kind
    assert str(translated) == text
    if path is not None:
        assert isinstance(translated, SpecError)
        assert translated.path == path


def test_get_decryption_failure_is_an_auth_error_like_in_batches(
    stub_sm: tuple[AwsProvider, Stubber],
) -> None:
    provider, stubber = stub_sm
    stubber.add_client_error("get_secret_value", "DecryptionFailure", "can't decrypt", 400)
    with pytest.raises(ProviderAuthError) as info:
        provider.get(RemoteRef("k"))
    assert str(info.value) == "aws: access denied: secretsmanager:GetSecretValue on k (DecryptionFailure)"
