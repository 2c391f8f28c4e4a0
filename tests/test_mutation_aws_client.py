"""AwsProvider: the gaps mutation testing found: spec messages, find's requests (filters, page
sizes, pagination, batch errors), the client's configuration, static credentials and AssumeRole.

What moto cannot show (the exact request parameters, per-secret batch errors, STS failures) is checked
against a scripted fake client set where the provider keeps its client, or by calling the provider's
AssumeRole callback with a fake STS client: no network, no clock.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import boto3
import botocore.exceptions as bx
import pytest
from botocore.exceptions import ClientError

from secretsync.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderUnavailable,
    SpecError,
)
from secretsync.providers import aws
from secretsync.providers.aws import AwsProvider, literal_prefix, parse_config
from secretsync.providers.base import FindSpec, SecretKeyRef, StoreContext
from tests.test_provider_aws import ROLE, _context, _provider


def _error(code: str, status: int = 400, message: str = "") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "op"
    )


class FakeClient:
    """A boto3 client stand-in: each method answers from its script, in order, and records its params."""

    def __init__(self, **script: list[Any]) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._script = {name: list(answers) for name, answers in script.items()}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        def call(**params: Any) -> Any:
            self.calls.append((name, dict(params)))
            answer = self._script[name].pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer

        return call


def _with_fake(service: str = "SecretsManager", **script: list[Any]) -> tuple[AwsProvider, FakeClient]:
    provider = _provider(service, region="eu-west-1")
    fake = FakeClient(**script)
    provider._client = fake
    return provider, fake


# -- debug logs --------------------------------------------------------------------------------------


def test_payload_loggers_get_one_debug_filter_and_the_root_logger_none() -> None:
    root = logging.getLogger()
    before = list(root.filters)
    try:
        aws._quiet_payload_logs()  # again, as a re-import would: idempotent
        aws._quiet_payload_logs()
        for name in aws._PAYLOAD_LOGGERS:
            logger = logging.getLogger(name)
            assert sum(isinstance(f, aws._DropDebug) for f in logger.filters) == 1, name
            assert not logger.filter(logger.makeRecord(name, logging.DEBUG, "f", 1, "body", None, None))
            assert logger.filter(logger.makeRecord(name, logging.INFO, "f", 1, "retry", None, None))
        assert not any(isinstance(f, aws._DropDebug) for f in root.filters)
    finally:
        for added in [f for f in root.filters if f not in before]:
            root.removeFilter(added)


# -- spec messages -------------------------------------------------------------------------------------

KEY = {"name": "aws", "key": "k"}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"service": "Vault"},
            "spec.provider.aws.service: must be one of SecretsManager, ParameterStore, not 'Vault'",
        ),
        ({}, "spec.provider.aws.service: must be one of SecretsManager, ParameterStore, not None"),
        (
            {"service": "SecretsManager", "role": "reader"},
            "spec.provider.aws.role: must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
        ),
        ({"service": "SecretsManager", "auth": "static"}, "spec.provider.aws.auth: must be an object"),
        (
            {"service": "SecretsManager", "auth": {"jwt": {}, "secretRef": None}},
            "spec.provider.aws.auth.jwt: is not supported by secretsync (supported: secretRef)",
        ),
        (
            {"service": "SecretsManager", "auth": {"secretRef": "x"}},
            "spec.provider.aws.auth.secretRef: must be an object",
        ),
        (
            {"service": "SecretsManager", "auth": {"secretRef": {"secretAccessKeySecretRef": KEY}}},
            "spec.provider.aws.auth.secretRef.accessKeyIDSecretRef: is required",
        ),
        (
            {"service": "SecretsManager", "auth": {"secretRef": {"accessKeyIDSecretRef": KEY}}},
            "spec.provider.aws.auth.secretRef.secretAccessKeySecretRef: is required",
        ),
    ],
)
def test_spec_error_messages(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_config(spec)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("auth", "token"),
    [
        ({"secretRef": {"accessKeyIDSecretRef": KEY, "secretAccessKeySecretRef": KEY}}, None),
        (
            {
                "secretRef": {
                    "accessKeyIDSecretRef": KEY,
                    "secretAccessKeySecretRef": KEY,
                    "sessionTokenSecretRef": None,
                }
            },
            None,
        ),
        (
            {
                "secretRef": {
                    "accessKeyIDSecretRef": KEY,
                    "secretAccessKeySecretRef": KEY,
                    "sessionTokenSecretRef": {"name": "aws", "key": "t"},
                }
            },
            SecretKeyRef("aws", "t"),
        ),
    ],
)
def test_session_token_is_optional(auth: dict[str, Any], token: SecretKeyRef | None) -> None:
    config = parse_config({"service": "SecretsManager", "auth": auth})
    assert config.auth is not None
    assert config.auth.access_key_id == SecretKeyRef("aws", "k")
    assert config.auth.session_token == token


def test_literal_prefix_drops_an_optional_or_repeated_last_character() -> None:
    assert literal_prefix("^ab*c") == "a"
    assert literal_prefix("^ab?") == "a"
    assert literal_prefix("^ab{2}") == "a"
    assert literal_prefix("^ab+") == "ab"  # b at least once: kept
    assert literal_prefix("^ab.") == "ab"


# -- Secrets Manager find: the requests ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "filters"),
    [
        (FindSpec(), []),
        (FindSpec(path="app/"), [{"Key": "name", "Values": ["app/"]}]),
        (FindSpec(name_regexp="^app/db-.*"), [{"Key": "name", "Values": ["app/db-"]}]),
        (FindSpec(name_regexp="db-.*"), []),
        (FindSpec(path="app/", name_regexp="^other"), [{"Key": "name", "Values": ["app/"]}]),
        (
            FindSpec(name_regexp="^app/", tags={"env": "prod", "team": "a"}),
            [
                {"Key": "name", "Values": ["app/"]},
                {"Key": "tag-key", "Values": ["env"]},
                {"Key": "tag-value", "Values": ["prod"]},
                {"Key": "tag-key", "Values": ["team"]},
                {"Key": "tag-value", "Values": ["a"]},
            ],
        ),
    ],
)
def test_sm_find_sends_esos_list_filters(spec: FindSpec, filters: list[dict[str, Any]]) -> None:
    provider, fake = _with_fake(list_secrets=[{"SecretList": []}])
    assert provider.find(spec) == {}
    assert fake.calls == [("list_secrets", {"Filters": filters, "MaxResults": 100})]


def test_sm_find_pages_through_the_listing_and_batches_by_id() -> None:
    provider, fake = _with_fake(
        list_secrets=[
            {"SecretList": [{"Name": "app/a"}, {"Tags": []}], "NextToken": "t1"},  # a nameless entry: skipped
            {"SecretList": [{"Name": "app/b"}]},
        ],
        batch_get_secret_value=[
            {"SecretValues": [{"Name": "app/a", "SecretString": "A"}], "NextToken": "b1"},
            {"SecretValues": [{"Name": "app/b", "SecretBinary": b"\x00B"}]},
        ],
    )
    assert provider.find(FindSpec(name_regexp=".")) == {"app/a": b"A", "app/b": b"\x00B"}
    assert fake.calls == [
        ("list_secrets", {"Filters": [], "MaxResults": 100}),
        ("list_secrets", {"Filters": [], "MaxResults": 100, "NextToken": "t1"}),
        ("batch_get_secret_value", {"SecretIdList": ["app/a", "app/b"]}),
        ("batch_get_secret_value", {"SecretIdList": ["app/a", "app/b"], "NextToken": "b1"}),
    ]


@pytest.mark.parametrize(
    ("errors", "raised", "message"),
    [
        ([{"SecretId": "app/b", "ErrorCode": "ResourceNotFoundException"}], None, ""),
        (
            [
                {
                    "SecretId": "app/b",
                    "ErrorCode": "InvalidRequestException",
                    "Message": "You can't perform this operation on the secret because it was marked for "
                    "Deletion.",
                }
            ],
            None,
            "",
        ),
        (
            [{"SecretId": "app/b", "ErrorCode": "AccessDeniedException", "Message": "CANARY"}],
            ProviderAuthError,
            "aws: access denied: secretsmanager:BatchGetSecretValue on app/b (AccessDeniedException)",
        ),
        (
            [{"SecretId": "app/b", "ErrorCode": "DecryptionFailure"}],
            ProviderAuthError,
            "aws: access denied: secretsmanager:BatchGetSecretValue on app/b (DecryptionFailure)",
        ),
        (
            [{"SecretId": "app/b", "ErrorCode": "InternalServiceError"}],
            ProviderError,
            "aws: secretsmanager BatchGetSecretValue on app/b failed: InternalServiceError",
        ),
    ],
)
def test_sm_find_batch_errors(
    errors: list[dict[str, str]], raised: type[Exception] | None, message: str
) -> None:
    provider, _ = _with_fake(
        list_secrets=[{"SecretList": [{"Name": "app/a"}, {"Name": "app/b"}]}],
        batch_get_secret_value=[{"SecretValues": [{"Name": "app/a", "SecretString": "A"}], "Errors": errors}],
    )
    if raised is None:  # gone since the listing: skipped, as ESO does
        assert provider.find(FindSpec()) == {"app/a": b"A"}
        return
    with pytest.raises(raised) as info:
        provider.find(FindSpec())
    assert type(info.value) is raised
    assert str(info.value) == message


def test_sm_find_listing_errors_name_the_listing() -> None:
    provider, _ = _with_fake(list_secrets=[_error("AccessDeniedException", 400, "CANARY")])
    with pytest.raises(ProviderAuthError) as info:
        provider.find(FindSpec(path="app/"))
    assert (
        str(info.value) == "aws: access denied: secretsmanager:ListSecrets on secrets (AccessDeniedException)"
    )


# -- Parameter Store find: the requests ------------------------------------------------------------------


def test_ssm_find_by_path_asks_for_full_pages() -> None:
    provider, fake = _with_fake(
        "ParameterStore",
        get_parameters_by_path=[
            {"Parameters": [{"Name": "/t/a", "Value": "1"}], "NextToken": "n"},
            {"Parameters": [{"Name": "/t/b", "Value": "2"}]},
        ],
    )
    assert provider.find(FindSpec(path="/t")) == {"/t/a": b"1", "/t/b": b"2"}
    params = {"Path": "/t", "Recursive": True, "WithDecryption": True, "MaxResults": 10}
    assert fake.calls == [
        ("get_parameters_by_path", params),
        ("get_parameters_by_path", {**params, "NextToken": "n"}),
    ]


def test_ssm_find_by_tags_sends_esos_filters_and_decrypts() -> None:
    provider, fake = _with_fake(
        "ParameterStore",
        describe_parameters=[
            {"Parameters": [{"Name": "/svc/app/a"}, {"Name": "/svc/other"}], "NextToken": "n"},
            {"Parameters": [{"Name": "/svc/app/b"}]},
        ],
        get_parameters=[
            {"Parameters": [{"Name": "/svc/app/a", "Value": "A"}, {"Name": "/svc/app/b", "Value": "B"}]}
        ],
    )
    found = provider.find(FindSpec(path="/svc", name_regexp="/app/", tags={"team": "a"}))
    assert found == {"/svc/app/a": b"A", "/svc/app/b": b"B"}
    (first, first_params), (second, second_params), (get, get_params) = fake.calls
    assert (first, second, get) == ("describe_parameters", "describe_parameters", "get_parameters")
    assert first_params["ParameterFilters"] == [
        {"Key": "tag:team", "Option": "Equals", "Values": ["a"]},
        {"Key": "Path", "Option": "Recursive", "Values": ["/svc"]},
    ]
    assert 10 <= first_params["MaxResults"] <= 50
    assert second_params == {**first_params, "NextToken": "n"}
    assert get_params == {"Names": ["/svc/app/a", "/svc/app/b"], "WithDecryption": True}


def test_ssm_find_by_tags_asks_for_full_describe_pages() -> None:
    provider, fake = _with_fake("ParameterStore", describe_parameters=[{"Parameters": []}])
    provider.find(FindSpec(tags={"team": "a"}))
    assert fake.calls[0][1]["MaxResults"] == 50


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (None, "aws: access denied: ssm:DescribeParameters on * (AccessDeniedException)"),
        ("/svc", "aws: access denied: ssm:DescribeParameters on /svc (AccessDeniedException)"),
    ],
)
def test_ssm_find_by_tags_errors_name_the_path(path: str | None, message: str) -> None:
    provider, _ = _with_fake("ParameterStore", describe_parameters=[_error("AccessDeniedException")])
    with pytest.raises(ProviderAuthError) as info:
        provider.find(FindSpec(path=path, tags={"team": "a"}))
    assert str(info.value) == message


def test_ssm_find_by_tags_path_and_name_on_moto(moto: Any) -> None:
    ssm = moto.boto3_client("ssm")
    team = [{"Key": "team", "Value": "a"}]
    ssm.put_parameter(Name="/svc/app/pw", Value="secret-pw", Type="SecureString", Tags=team)
    ssm.put_parameter(Name="/svc/app/deep/url", Value="u", Type="String", Tags=team)
    ssm.put_parameter(Name="/svc/db/pw", Value="db", Type="SecureString", Tags=team)
    ssm.put_parameter(Name="/other/app/pw", Value="no", Type="SecureString", Tags=team)
    ssm.put_parameter(Name="/svc/app/untagged", Value="no", Type="String")
    provider = _provider("ParameterStore")
    assert provider.find(FindSpec(path="/svc", tags={"team": "a"})) == {
        "/svc/app/pw": b"secret-pw",  # decrypted
        "/svc/app/deep/url": b"u",  # recursive
        "/svc/db/pw": b"db",
    }
    assert provider.find(FindSpec(path="/svc", name_regexp="app/", tags={"team": "a"})) == {
        "/svc/app/pw": b"secret-pw",
        "/svc/app/deep/url": b"u",
    }


# -- the client ----------------------------------------------------------------------------------------


@pytest.fixture
def made_clients(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    made: list[tuple[str, Any]] = []
    original = boto3.session.Session.client

    def spy(self: boto3.session.Session, service: str, *args: Any, **kwargs: Any) -> Any:
        client = original(self, service, *args, **kwargs)
        made.append((service, client))
        return client

    monkeypatch.setattr(boto3.session.Session, "client", spy)
    return made


@pytest.mark.parametrize(("spec", "services"), [({}, ["ssm"]), ({"role": ROLE}, ["sts", "ssm"])])
def test_every_client_fails_fast(
    moto: Any, made_clients: list[tuple[str, Any]], spec: dict[str, Any], services: list[str]
) -> None:
    provider = _provider("ParameterStore", region="eu-west-2", **spec)
    provider._connect()
    assert [service for service, _ in made_clients] == services
    for service, client in made_clients:
        config = client.meta.config
        assert (config.connect_timeout, config.read_timeout) == (5.0, 10.0), service
        assert config.retries["mode"] == "standard", service
        assert config.retries["total_max_attempts"] == 3, service
        assert client.meta.region_name == "eu-west-2", service


def test_three_attempts_in_all(moto: Any) -> None:
    client = _provider(region="eu-west-2")._connect()
    assert client.meta.config.retries["total_max_attempts"] == 3


def test_role_credentials_are_deferred_assumed_role_credentials(moto: Any) -> None:
    client = _provider(region="eu-west-2", role=ROLE)._connect()
    credentials = client._request_signer._credentials
    assert isinstance(credentials, aws._RoleCredentials)
    assert credentials.method == "sts-assume-role"


def test_no_region_message(moto: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(SpecError) as info:
        _provider().check()
    assert str(info.value) == (
        "spec.provider.aws.region: is not set and boto3 found no default region (AWS_REGION)"
    )


@pytest.mark.parametrize("role", [None, ROLE])
def test_an_invalid_region_names_the_field(moto: Any, role: str | None) -> None:
    provider = _provider(region="eu west 1", role=role)
    with pytest.raises(SpecError) as info:
        provider.check()
    assert str(info.value) == (
        "spec.provider.aws.region: is not a valid AWS region name (for example eu-west-1)"
    )


def test_static_credentials_are_trimmed_and_never_fail_to_decode() -> None:
    auth = {
        "secretRef": {
            "accessKeyIDSecretRef": {"name": "aws", "key": "id"},
            "secretAccessKeySecretRef": {"name": "aws", "key": "secret"},
            "sessionTokenSecretRef": {"name": "aws", "key": "token"},
        }
    }
    creds = {"id": b"AKIA\xff\n", "secret": b" s3cret ", "token": b"tok\r\n"}
    provider = AwsProvider(_context({"service": "SecretsManager", "auth": auth}, creds))
    assert provider._static_credentials() == {
        "aws_access_key_id": "AKIA\ufffd",
        "aws_secret_access_key": "s3cret",
        "aws_session_token": "tok",
    }


# -- AssumeRole ------------------------------------------------------------------------------------------


class FakeSts:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls: list[dict[str, Any]] = []

    def assume_role(self, **params: Any) -> Any:
        self.calls.append(params)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def _role_provider(events: list[str] | None = None) -> AwsProvider:
    spec = {"service": "SecretsManager", "region": "eu-west-1", "role": ROLE}
    if events is None:
        return AwsProvider(_context(spec))
    return AwsProvider(
        StoreContext("SecretStore", "aws", "team-a", spec, lambda ref: b"", on_event=events.append)
    )


def test_assume_role_returns_refreshable_credentials_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="secretsync.providers.aws")
    expiry = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    sts = FakeSts(
        {
            "Credentials": {
                "AccessKeyId": "ASIA1",
                "SecretAccessKey": "sk",
                "SessionToken": "st",
                "Expiration": expiry,
            }
        }
    )
    events: list[str] = []
    assert _role_provider(events)._assume_role(sts) == {
        "access_key": "ASIA1",
        "secret_key": "sk",
        "token": "st",
        "expiry_time": "2030-01-02T03:04:05+00:00",
    }
    assert sts.calls == [{"RoleArn": ROLE, "RoleSessionName": "secretsync"}]
    assert events == ["login"]
    messages = [r.getMessage() for r in caplog.records if r.name == "secretsync.providers.aws"]
    assert messages == [f"aws: assumed {ROLE} for SecretStore team-a/aws until 2030-01-02 03:04:05+00:00"]


@pytest.mark.parametrize(
    ("error", "raised", "message"),
    [
        (
            _error("AccessDenied", 403, "CANARY"),
            ProviderAuthError,
            f"aws: access denied: sts:AssumeRole on {ROLE} (AccessDenied)",
        ),
        (
            _error("Throttling", 400),
            ProviderUnavailable,
            f"aws: sts AssumeRole on {ROLE} throttled: Throttling",
        ),
        (
            _error("InternalFailure", 500),
            ProviderUnavailable,
            f"aws: sts AssumeRole on {ROLE} unavailable: 500 InternalFailure",
        ),
        (
            _error("ValidationError", 400),
            ProviderAuthError,
            f"aws: sts:AssumeRole of {ROLE} failed (ValidationError): check spec.provider.aws.role and "
            "the role's trust policy",
        ),
        (
            _error("RegionDisabledException", 403),
            ProviderAuthError,
            f"aws: access denied: sts:AssumeRole on {ROLE} (RegionDisabledException)",
        ),
        (
            _error("PackedPolicyTooLarge", 409),
            ProviderAuthError,
            f"aws: sts:AssumeRole of {ROLE} failed (PackedPolicyTooLarge): check spec.provider.aws.role "
            "and the role's trust policy",
        ),
        (
            ClientError({"Error": {}, "ResponseMetadata": {"HTTPStatusCode": 409}}, "AssumeRole"),
            ProviderAuthError,
            f"aws: sts:AssumeRole of {ROLE} failed (no error code): check spec.provider.aws.role "
            "and the role's trust policy",
        ),
        (
            bx.ParamValidationError(report="CANARY"),
            ProviderAuthError,
            f"aws: sts:AssumeRole of {ROLE} failed (ParamValidationError): check spec.provider.aws.role "
            "and the role's trust policy",
        ),
    ],
)
def test_assume_role_errors(error: Exception, raised: type[Exception], message: str) -> None:
    events: list[str] = []
    with pytest.raises(raised) as info:
        _role_provider(events)._assume_role(FakeSts(error))
    assert type(info.value) is raised
    assert str(info.value) == message
    assert events == []


def test_assume_role_rejection_does_not_blame_remote_ref() -> None:
    with pytest.raises(ProviderAuthError) as info:
        _role_provider()._assume_role(FakeSts(_error("ValidationError", 400)))
    assert "remoteRef" not in str(info.value)


def test_other_client_setup_errors_name_the_store(moto: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A botocore error building the client other than a bad region: named by store, never raw."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise bx.UnknownServiceError(service_name="CANARY", known_service_names=[])

    monkeypatch.setattr(boto3.session.Session, "client", broken)
    with pytest.raises(ProviderError) as info:
        _provider(region="eu-west-2").check()
    assert (
        str(info.value)
        == "aws: secretsmanager client setup on SecretStore team-a/aws failed: UnknownServiceError"
    )
