"""AwsProvider against moto in server mode: every read mode, call counts, AssumeRole reuse, outages.

The ``moto`` fixture points boto3's standard configuration (``AWS_ENDPOINT_URL``, dummy keys, region)
at a shared moto server, wiped per test, so the provider is exercised exactly as in production: no
test hook in the provider. Call counts come from moto's wire-level counter (``moto.calls``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

import pytest

from secretsync.errors import (
    PropertyNotFound,
    ProviderAuthError,
    ProviderUnavailable,
    SecretNotFound,
    SpecError,
)
from secretsync.providers import create
from secretsync.providers.aws import AwsProvider, literal_prefix, tags_match
from secretsync.providers.base import FindSpec, RemoteRef, SecretKeyRef, StoreContext

CANARY = "CANARY-7f3a9c-do-not-log"
ROLE = "arn:aws:iam::123456789012:role/secretsync-reader"


def _context(spec: Mapping[str, Any], creds: Mapping[str, bytes] | None = None, **kw: Any) -> StoreContext:
    def read(ref: SecretKeyRef) -> bytes:
        assert creds is not None, f"unexpected credential read {ref}"
        return creds[ref.key]

    return StoreContext("SecretStore", "aws", "team-a", spec, read, **kw)


def _provider(service: str = "SecretsManager", **spec: Any) -> AwsProvider:
    return AwsProvider(_context({"service": service, **spec}))


@pytest.fixture
def sm(moto: Any) -> Any:
    return moto.boto3_client("secretsmanager")


@pytest.fixture
def ssm(moto: Any) -> Any:
    return moto.boto3_client("ssm")


# -- spec -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({}, "spec.provider.aws.service"),
        ({"service": "Vault"}, "spec.provider.aws.service"),
        ({"service": "SecretsManager", "region": 3}, "spec.provider.aws.region"),
        ({"service": "SecretsManager", "role": "reader"}, "spec.provider.aws.role"),
        ({"service": "SecretsManager", "auth": {"jwt": {}}}, "spec.provider.aws.auth.jwt"),
        (
            {
                "service": "SecretsManager",
                "auth": {"secretRef": {"accessKeyIDSecretRef": {"name": "a", "key": "b"}}},
            },
            "spec.provider.aws.auth.secretRef.secretAccessKeySecretRef",
        ),
    ],
)
def test_spec_errors_name_the_field(spec: dict[str, Any], field: str) -> None:
    with pytest.raises(SpecError) as info:
        AwsProvider(_context(spec))
    assert info.value.path == field


def test_registry_builds_it_lazily_without_network() -> None:
    provider = create("aws", _context({"service": "ParameterStore", "region": "eu-west-1"}))
    assert isinstance(provider, AwsProvider)
    provider.close()


def test_literal_prefix() -> None:
    assert literal_prefix("^app/db-.*") == "app/db-"
    assert literal_prefix("^apps?") == "app"
    assert literal_prefix("^a|^b") == ""
    assert literal_prefix("db") == ""
    assert literal_prefix(None) == ""


# -- Secrets Manager --------------------------------------------------------------------------------


def test_sm_reads_string_binary_and_properties(moto: Any, sm: Any) -> None:
    doc = {"user": "admin", "db": {"port": 5432, "hosts": ["a", {"name": "b"}]}, "tls.crt": "PEM"}
    sm.create_secret(Name="app/db", SecretString=json.dumps(doc))
    sm.create_secret(Name="app/bin", SecretBinary=b"\x00\xffraw")
    sm.create_secret(Name="app/plain", SecretString="héllo")
    provider = _provider(region="us-east-1")
    moto.reset_calls()

    assert json.loads(provider.get(RemoteRef("app/db"))) == doc
    assert provider.get(RemoteRef("app/bin")) == b"\x00\xffraw"
    assert provider.get(RemoteRef("app/plain")) == "héllo".encode()
    assert provider.get(RemoteRef("app/db", property="user")) == b"admin"
    assert provider.get(RemoteRef("app/db", property="db.port")) == b"5432"
    assert provider.get(RemoteRef("app/db", property="db.hosts.1.name")) == b"b"
    assert provider.get(RemoteRef("app/db", property="tls.crt")) == b"PEM"
    # gjson's Result.String(): an object comes back as its text as stored (json.dumps' spaces kept)
    assert (
        provider.get(RemoteRef("app/db", property="db")) == b'{"port": 5432, "hosts": ["a", {"name": "b"}]}'
    )
    assert moto.calls["GetSecretValue"] == 8  # one per get, nothing else
    assert moto.total_calls == 8

    with pytest.raises(PropertyNotFound, match=r"app/plain is not JSON.*'user'"):
        provider.get(RemoteRef("app/plain", property="user"))
    with pytest.raises(PropertyNotFound, match=r"app/db has no property 'nope'"):
        provider.get(RemoteRef("app/db", property="nope"))


def test_sm_versions_by_stage_and_uuid(sm: Any) -> None:
    first = sm.create_secret(Name="rotated", SecretString="v1")["VersionId"]
    sm.put_secret_value(SecretId="rotated", SecretString="v2")
    sm.put_secret_value(SecretId="rotated", SecretString="v3", VersionStages=["CANARYSTAGE"])
    provider = _provider()
    assert provider.get(RemoteRef("rotated")) == b"v2"
    assert provider.get(RemoteRef("rotated", version="AWSCURRENT")) == b"v2"
    assert provider.get(RemoteRef("rotated", version="AWSPREVIOUS")) == b"v1"
    assert provider.get(RemoteRef("rotated", version="CANARYSTAGE")) == b"v3"
    assert provider.get(RemoteRef("rotated", version=f"uuid/{first}")) == b"v1"
    with pytest.raises(
        SecretNotFound, match=r"aws: secretsmanager secret rotated \(version NOSTAGE\) not found"
    ):
        provider.get(RemoteRef("rotated", version="NOSTAGE"))


def test_sm_extract(sm: Any) -> None:
    sm.create_secret(Name="cfg", SecretString='{"a":"1","n":2,"o":{"x":true},"z":null}')
    sm.create_secret(Name="plain", SecretString="not json")
    provider = _provider()
    assert provider.get_map(RemoteRef("cfg")) == {"a": b"1", "n": b"2", "o": b'{"x":true}', "z": b""}
    assert provider.get_map(RemoteRef("cfg", property="o")) == {"x": b"true"}
    with pytest.raises(SpecError, match="not a JSON object"):
        provider.get_map(RemoteRef("plain"))
    with pytest.raises(SpecError, match="not a JSON object"):
        provider.get_map(RemoteRef("cfg", property="a"))


# A value written by hand: ESO keeps every non-string member's text exactly as stored.
RAW_DOC = """{
  "name": {"first": "Tom",  "last": "Anderson"},
  "friends": [
    {"first": "Dale"},
    {"first": "Roger"}
  ],
  "price": 1.50, "big": 123456789012345678901234567890, "exp": 1E3,
  "text": "caf\\u00e9 \\"q\\"", "yes": true, "none": null
}"""
RAW_FRIENDS = b'[\n    {"first": "Dale"},\n    {"first": "Roger"}\n  ]'


def test_sm_extract_keeps_raw_json_text_like_eso(moto: Any, sm: Any) -> None:
    sm.create_secret(Name="raw", SecretString=RAW_DOC)
    sm.create_secret(Name="raw-bin", SecretBinary=RAW_DOC.encode())
    provider = _provider()
    extracted = {
        "name": b'{"first": "Tom",  "last": "Anderson"}',  # both spaces kept
        "friends": RAW_FRIENDS,  # newlines and indentation kept
        "price": b"1.50",  # not re-formatted as 1.5
        "big": b"123456789012345678901234567890",
        "exp": b"1E3",
        "text": 'café "q"'.encode(),  # a string is unquoted
        "yes": b"true",
        "none": b"",
    }
    assert provider.get_map(RemoteRef("raw")) == extracted
    assert provider.get_map(RemoteRef("raw-bin")) == extracted

    # a property is gjson's Result.String(): objects and lists as stored, strings unquoted,
    # integers as stored, other numbers as Go's FormatFloat
    assert provider.get(RemoteRef("raw", property="name")) == b'{"first": "Tom",  "last": "Anderson"}'
    assert provider.get(RemoteRef("raw", property="friends")) == RAW_FRIENDS
    assert provider.get(RemoteRef("raw", property="friends.1")) == b'{"first": "Roger"}'
    assert provider.get(RemoteRef("raw", property="friends.#.first")) == b'["Dale","Roger"]'
    assert provider.get(RemoteRef("raw", property="text")) == 'café "q"'.encode()
    assert provider.get(RemoteRef("raw", property="price")) == b"1.5"
    assert provider.get(RemoteRef("raw", property="exp")) == b"1000"
    assert provider.get(RemoteRef("raw", property="big")) == b"123456789012345678901234567890"
    # extract of a property: GetSecretMap over that property's text
    assert provider.get_map(RemoteRef("raw", property="name")) == {"first": b"Tom", "last": b"Anderson"}
    with pytest.raises(SpecError, match=r"raw property 'friends' is not a JSON object"):
        provider.get_map(RemoteRef("raw", property="friends"))


def test_ssm_extract_keeps_raw_json_text_like_eso(ssm: Any) -> None:
    ssm.put_parameter(Name="/app/raw", Value=RAW_DOC, Type="SecureString")
    provider = _provider("ParameterStore")
    extracted = provider.get_map(RemoteRef("/app/raw"))
    assert extracted["name"] == b'{"first": "Tom",  "last": "Anderson"}'
    assert extracted["friends"] == RAW_FRIENDS
    assert extracted["price"] == b"1.50"
    assert extracted["text"] == 'café "q"'.encode()
    assert provider.get(RemoteRef("/app/raw", property="friends.0")) == b'{"first": "Dale"}'


def test_sm_not_found_and_scheduled_for_deletion(sm: Any) -> None:
    sm.create_secret(Name="doomed", SecretString="x")
    sm.delete_secret(SecretId="doomed", RecoveryWindowInDays=7)
    provider = _provider()
    with pytest.raises(SecretNotFound, match=r"^aws: secretsmanager secret missing not found$"):
        provider.get(RemoteRef("missing"))
    with pytest.raises(SecretNotFound, match=r"^aws: secretsmanager secret doomed not found"):
        provider.get(RemoteRef("doomed"))
    with pytest.raises(SecretNotFound):
        provider.get_map(RemoteRef("missing"))


def test_sm_find_by_name_and_tags_uses_batches(moto: Any, sm: Any) -> None:
    for i in range(25):
        tags = [{"Key": "team", "Value": "a" if i % 2 else "b"}, {"Key": "env", "Value": "prod"}]
        sm.create_secret(Name=f"app/s{i:02d}", SecretString=f"v{i}", Tags=tags)
    sm.create_secret(Name="other/s", SecretString="o", Tags=[{"Key": "team", "Value": "a"}])
    # As in ESO, tag-key and tag-value are independent filters: team=x plus k=a passes team: a.
    sm.create_secret(
        Name="app/mixed", SecretString="m", Tags=[{"Key": "team", "Value": "x"}, {"Key": "k", "Value": "a"}]
    )
    sm.create_secret(Name="app/gone", SecretString="g", Tags=[{"Key": "team", "Value": "a"}])
    sm.delete_secret(SecretId="app/gone", RecoveryWindowInDays=7)
    provider = _provider()
    moto.reset_calls()

    by_name = provider.find(FindSpec(name_regexp=r"^app/s\d+$"))
    assert by_name == {f"app/s{i:02d}": f"v{i}".encode() for i in range(25)}
    assert moto.calls["GetSecretValue"] == 0
    assert moto.calls["BatchGetSecretValue"] == 2  # 25 secrets, 20 per batch
    assert moto.calls["ListSecrets"] == 1

    moto.reset_calls()
    by_tags = provider.find(FindSpec(tags={"team": "a"}))
    assert by_tags == {
        **{f"app/s{i:02d}": f"v{i}".encode() for i in range(1, 25, 2)},
        "other/s": b"o",
        "app/mixed": b"m",
    }
    assert moto.calls["GetSecretValue"] == 0
    assert moto.calls["BatchGetSecretValue"] == 1

    both = provider.find(FindSpec(name_regexp="s0[0-3]$", tags={"team": "a", "env": "prod"}))
    assert both == {"app/s01": b"v1", "app/s03": b"v3"}
    assert provider.find(FindSpec(path="other/")) == {"other/s": b"o"}
    assert provider.find(FindSpec(tags={"team": "nobody"})) == {}


def test_sm_find_tags_are_independent_prefix_matches_like_eso(moto: Any, sm: Any) -> None:
    # ESO sends find.tags as tag-key / tag-value filters; AWS matches each by case-sensitive prefix,
    # against any of the secret's tags, independently of each other.
    def tagged(name: str, **tags: str) -> None:
        sm.create_secret(Name=name, SecretString=name, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])

    tagged("exact", env="prod")
    tagged("value-prefix", env="production")
    tagged("key-prefix", environment="prod")
    tagged("independent", env="dev", stage="prod")
    tagged("other-case", env="Prod")
    tagged("other-value", env="dev")
    tagged("other-key", team="prod")
    sm.create_secret(Name="untagged", SecretString="u")
    provider = _provider()
    moto.reset_calls()

    found = provider.find(FindSpec(tags={"env": "prod"}))
    assert found == {name: name.encode() for name in ("exact", "value-prefix", "key-prefix", "independent")}
    assert moto.calls["ListSecrets"] == 1
    assert moto.calls["BatchGetSecretValue"] == 1
    assert provider.find(FindSpec(tags={"env": "prod", "stage": "pr"})) == {"independent": b"independent"}
    assert provider.find(FindSpec(tags={"env": "prod"}, name_regexp="prefix$")) == {
        "value-prefix": b"value-prefix",
        "key-prefix": b"key-prefix",
    }


@pytest.mark.parametrize(
    ("tags", "wanted", "passes"),
    [
        ({"env": "prod"}, {"env": "prod"}, True),
        ({"env": "production"}, {"env": "prod"}, True),
        ({"environment": "prod"}, {"env": "prod"}, True),
        ({"env": "dev", "stage": "prod"}, {"env": "prod"}, True),
        ({"env": "Prod"}, {"env": "prod"}, False),  # case-sensitive
        ({"env": "dev"}, {"env": "prod"}, False),
        ({"team": "prod"}, {"env": "prod"}, False),
        ({}, {"env": "prod"}, False),
        ({"env": "prod"}, {"env": "prod", "team": "a"}, False),
        ({"env": "dev"}, {"env": "!prod"}, True),  # AWS's negation: decided by the server
        ({"env": "prod"}, {}, True),
    ],
)
def test_tags_match_is_what_aws_makes_of_esos_filters(
    tags: dict[str, str], wanted: dict[str, str], passes: bool
) -> None:
    assert tags_match([{"Key": k, "Value": v} for k, v in tags.items()], wanted) is passes


# -- Parameter Store ---------------------------------------------------------------------------------


def test_ssm_types_versions_and_properties(moto: Any, ssm: Any) -> None:
    ssm.put_parameter(Name="/app/url", Value="https://x", Type="String")
    ssm.put_parameter(Name="/app/hosts", Value="a,b,c", Type="StringList")
    ssm.put_parameter(Name="/app/pw", Value='{"user":"u","list":[1,{"k":"v"}]}', Type="SecureString")
    ssm.put_parameter(Name="/app/url", Value="https://y", Type="String", Overwrite=True)
    provider = _provider("ParameterStore")
    moto.reset_calls()
    assert provider.get(RemoteRef("/app/url")) == b"https://y"
    assert provider.get(RemoteRef("/app/url", version="1")) == b"https://x"
    assert provider.get(RemoteRef("/app/hosts")) == b"a,b,c"
    assert provider.get(RemoteRef("/app/pw")) == b'{"user":"u","list":[1,{"k":"v"}]}'
    assert provider.get(RemoteRef("/app/pw", property="list.1.k")) == b"v"
    assert provider.get_map(RemoteRef("/app/pw")) == {"user": b"u", "list": b'[1,{"k":"v"}]'}
    assert moto.calls["GetParameter"] == 6
    assert moto.total_calls == 6
    with pytest.raises(SecretNotFound, match=r"^aws: ssm parameter /app/missing not found$"):
        provider.get(RemoteRef("/app/missing"))
    with pytest.raises(SecretNotFound, match=r"^aws: ssm parameter /app/url \(version 9\) not found$"):
        provider.get(RemoteRef("/app/url", version="9"))
    with pytest.raises(PropertyNotFound, match="is not JSON"):
        provider.get(RemoteRef("/app/url", property="x"))


def test_ssm_find_by_path_paginates(moto: Any, ssm: Any) -> None:
    for i in range(23):
        ssm.put_parameter(Name=f"/team/app/p{i:02d}", Value=f"v{i}", Type="SecureString")
    ssm.put_parameter(Name="/team/app/deep/x", Value="deep", Type="String")
    ssm.put_parameter(Name="/elsewhere/p", Value="no", Type="String")
    provider = _provider("ParameterStore")
    moto.reset_calls()
    found = provider.find(FindSpec(path="/team"))
    assert found == {
        **{f"/team/app/p{i:02d}": f"v{i}".encode() for i in range(23)},
        "/team/app/deep/x": b"deep",
    }
    assert moto.calls["GetParametersByPath"] == 3  # 24 parameters, 10 per page
    assert moto.calls["GetParameter"] == 0
    assert provider.find(FindSpec(path="/team", name_regexp="deep")) == {"/team/app/deep/x": b"deep"}


def test_ssm_find_by_tags_and_name(moto: Any, ssm: Any) -> None:
    for i in range(12):
        ssm.put_parameter(
            Name=f"/svc/p{i:02d}",
            Value=f"v{i}",
            Type="String",
            Tags=[{"Key": "team", "Value": "a" if i < 11 else "b"}],
        )
    provider = _provider("ParameterStore")
    moto.reset_calls()
    found = provider.find(FindSpec(tags={"team": "a"}))
    assert found == {f"/svc/p{i:02d}": f"v{i}".encode() for i in range(11)}
    assert moto.calls["GetParameters"] == 2  # 11 names, 10 per call
    assert moto.calls["GetParameter"] == 0
    assert provider.find(FindSpec(name_regexp="^/svc/p1")) == {
        f"/svc/p{i}": f"v{i}".encode() for i in (10, 11)
    }


# -- metadataPolicy: Fetch (tags, never the value) -------------------------------------------------------


def _fetch(key: str, prop: str | None = None, **kw: Any) -> RemoteRef:
    return RemoteRef(key, property=prop, metadata_policy="Fetch", **kw)


TAGS = [
    {"Key": "team", "Value": "pay"},
    {"Key": "env", "Value": "prod"},
    {"Key": "tls.crt", "Value": "cert-name"},
    {"Key": "owner", "Value": "a@b.example"},
]


def test_sm_fetch_metadata_reads_tags_with_describe_secret(moto: Any, sm: Any) -> None:
    sm.create_secret(Name="app/db", SecretString=json.dumps({"password": CANARY, "team": CANARY}), Tags=TAGS)
    sm.create_secret(Name="app/untagged", SecretString=CANARY)
    provider = _provider()
    moto.reset_calls()

    whole = provider.get(_fetch("app/db"))
    # Go's json.Marshal of map[tag]value: keys sorted, compact
    assert whole == b'{"env":"prod","owner":"a@b.example","team":"pay","tls.crt":"cert-name"}'
    assert provider.get(_fetch("app/db", "team")) == b"pay"
    assert provider.get(_fetch("app/db", "tls.crt")) == b"cert-name"  # exact key before a path
    assert provider.get(_fetch("app/db", r"tls\.crt")) == b"cert-name"  # gjson, escaped dot
    assert provider.get(_fetch("app/db", "team", version="AWSPREVIOUS")) == b"pay"  # version ignored
    assert provider.get_map(_fetch("app/db")) == {
        "team": b"pay",
        "env": b"prod",
        "tls.crt": b"cert-name",
        "owner": b"a@b.example",
    }
    assert provider.get(_fetch("app/untagged")) == b"{}"
    assert provider.get_map(_fetch("app/untagged")) == {}
    assert moto.calls["DescribeSecret"] == 8
    assert moto.calls["GetSecretValue"] == 0  # the value is never read
    assert moto.total_calls == 8
    # the same ref without Fetch reads the value
    assert provider.get(RemoteRef("app/db", property="team")) == CANARY.encode()


def test_sm_fetch_metadata_errors(moto: Any, sm: Any) -> None:
    sm.create_secret(Name="app/db", SecretString=CANARY, Tags=TAGS)
    sm.create_secret(Name="doomed", SecretString=CANARY, Tags=TAGS)
    sm.delete_secret(SecretId="doomed", RecoveryWindowInDays=7)
    provider = _provider()

    with pytest.raises(SecretNotFound) as missing:
        provider.get(_fetch("missing"))
    assert str(missing.value) == "aws: secretsmanager secret missing not found (DescribeSecret)"
    with pytest.raises(SecretNotFound):
        provider.get_map(_fetch("missing"))
    with pytest.raises(SecretNotFound) as doomed:
        provider.get(_fetch("doomed", "team"))
    assert str(doomed.value) == (
        "aws: secretsmanager secret doomed not found (scheduled for deletion; DescribeSecret)"
    )
    with pytest.raises(PropertyNotFound) as nope:
        provider.get(_fetch("app/db", "nope"))
    assert str(nope.value) == "aws: secretsmanager secret app/db tags has no property 'nope'"
    with pytest.raises(SpecError, match="not a JSON object"):
        provider.get_map(_fetch("app/db", "team"))
    assert all(CANARY not in str(caught.value) for caught in (missing, doomed, nope))


def test_ssm_fetch_metadata_reads_tags_with_list_tags_for_resource(moto: Any, ssm: Any) -> None:
    ssm.put_parameter(Name="/app/pw", Value=json.dumps({"team": CANARY}), Type="SecureString", Tags=TAGS)
    ssm.put_parameter(Name="/app/plain", Value=CANARY, Type="String")
    provider = _provider("ParameterStore")
    moto.reset_calls()

    assert (
        provider.get(_fetch("/app/pw"))
        == b'{"env":"prod","owner":"a@b.example","team":"pay","tls.crt":"cert-name"}'
    )
    assert provider.get(_fetch("/app/pw", "team")) == b"pay"
    assert provider.get(_fetch("/app/pw", "tls.crt", version="1")) == b"cert-name"
    assert provider.get_map(_fetch("/app/pw"))["owner"] == b"a@b.example"
    assert provider.get(_fetch("/app/plain")) == b"{}"
    assert moto.calls["ListTagsForResource"] == 5
    assert moto.calls["GetParameter"] == 0
    assert moto.total_calls == 5

    with pytest.raises(SecretNotFound) as missing:
        provider.get(_fetch("/app/missing"))
    assert str(missing.value) == "aws: ssm parameter /app/missing not found (ListTagsForResource)"
    with pytest.raises(PropertyNotFound, match=r"^aws: ssm parameter /app/pw tags has no property 'x'$"):
        provider.get(_fetch("/app/pw", "x"))
    with pytest.raises(SpecError, match=r"remoteRef\.key: is required"):
        provider.get(_fetch(""))


# -- credentials, roles ------------------------------------------------------------------------------


def test_assume_role_once_across_many_reads(moto: Any, sm: Any) -> None:
    sm.create_secret(Name="s", SecretString="v")
    events: list[str] = []
    provider = AwsProvider(_context({"service": "SecretsManager", "role": ROLE}, on_event=events.append))
    moto.reset_calls()
    provider.check()
    assert moto.calls["AssumeRole"] == 1
    for _ in range(10):
        assert provider.get(RemoteRef("s")) == b"v"
    assert moto.calls["AssumeRole"] == 1
    assert moto.calls["GetSecretValue"] == 10
    assert events == ["login"]


def test_explicit_credentials_vs_default_chain(moto: Any, sm: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sm.create_secret(Name="s", SecretString="v")
    auth = {
        "secretRef": {
            "accessKeyIDSecretRef": {"name": "aws", "key": "id"},
            "secretAccessKeySecretRef": {"name": "aws", "key": "secret"},
            "sessionTokenSecretRef": {"name": "aws", "key": "token"},
        }
    }
    read: list[SecretKeyRef] = []
    creds = {"id": b"AKIAEXPLICIT\n", "secret": b"explicit-secret", "token": b"tok"}

    def reader(ref: SecretKeyRef) -> bytes:
        read.append(ref)
        return creds[ref.key]

    explicit = AwsProvider(
        StoreContext("SecretStore", "aws", "team-a", {"service": "SecretsManager", "auth": auth}, reader)
    )
    default = _provider()
    assert read == []  # nothing read before first use
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert explicit.get(RemoteRef("s")) == b"v"
    assert [r.key for r in read] == ["id", "secret", "token"]
    explicit.get(RemoteRef("s"))
    assert len(read) == 3  # the client (and its credentials) is built once
    with pytest.raises(
        ProviderAuthError, match=r"no usable credentials for secretsmanager:GetSecretValue on s"
    ):
        default.get(RemoteRef("s"))


def test_no_region_is_a_spec_error(moto: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(SpecError, match=r"spec.provider.aws.region"):
        _provider().check()


def test_check_both_services(moto: Any) -> None:
    _provider().check()
    _provider("ParameterStore").check()
    assert moto.calls["ListSecrets"] == 1
    assert moto.calls["DescribeParameters"] == 1


def test_access_denied_is_an_auth_error() -> None:
    from botocore.exceptions import ClientError

    provider = _provider()
    err = ClientError({"Error": {"Code": "AccessDeniedException", "Message": CANARY}}, "GetSecretValue")
    translated = provider._translate(err, "GetSecretValue", "app/db")
    assert isinstance(translated, ProviderAuthError)
    assert (
        str(translated)
        == "aws: access denied: secretsmanager:GetSecretValue on app/db (AccessDeniedException)"
    )
    throttled = ClientError(
        {"Error": {"Code": "ThrottlingException"}, "ResponseMetadata": {"HTTPStatusCode": 400}},
        "GetSecretValue",
    )
    assert isinstance(provider._translate(throttled, "GetSecretValue", "k"), ProviderUnavailable)


# -- outage, secrecy -----------------------------------------------------------------------------------


def test_outage_fails_fast_and_recovers(moto: Any, sm: Any) -> None:
    sm.create_secret(Name="s", SecretString="v")
    provider = _provider()
    assert provider.get(RemoteRef("s")) == b"v"
    moto.stop()
    try:
        started = time.monotonic()
        with pytest.raises(
            ProviderUnavailable, match=r"^aws: secretsmanager GetSecretValue on s unreachable"
        ):
            provider.get(RemoteRef("s"))
        assert time.monotonic() - started < 5
    finally:
        moto.start()
    assert provider.get(RemoteRef("s")) == b"v"
    provider.close()
    assert provider.get(RemoteRef("s")) == b"v"  # close() drops the client; next use rebuilds it


def test_canary_never_in_errors_or_logs(
    moto: Any, sm: Any, ssm: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sm.create_secret(Name="c/json", SecretString=json.dumps({"k": CANARY, "n": [CANARY]}))
    sm.create_secret(Name="c/plain", SecretString=CANARY)
    ssm.put_parameter(Name="/c/plain", Value=CANARY, Type="SecureString")
    aws = _provider()
    param = _provider("ParameterStore")
    attempts = [
        lambda: aws.get(RemoteRef("c/json", property="missing")),
        lambda: aws.get(RemoteRef("c/plain", property="k")),
        lambda: aws.get_map(RemoteRef("c/plain")),
        lambda: aws.get_map(RemoteRef("c/json", property="k")),
        lambda: param.get(RemoteRef("/c/plain", property="k")),
        lambda: param.get_map(RemoteRef("/c/plain")),
    ]
    messages = []
    for attempt in attempts:
        with pytest.raises((SecretNotFound, PropertyNotFound, SpecError)) as info:
            attempt()
        messages.append(str(info.value))
    assert all(CANARY not in m for m in messages), messages
    assert CANARY not in caplog.text


def test_role_credentials_renew_five_minutes_before_expiry() -> None:
    import datetime

    from secretsync.providers.aws import _RoleCredentials

    fetched: list[int] = []
    lifetime = [datetime.timedelta(minutes=30)]

    def fetch() -> dict[str, str]:
        fetched.append(1)
        expiry = datetime.datetime.now(datetime.UTC) + lifetime[0]
        return {"access_key": "ASIA", "secret_key": "s", "token": "t", "expiry_time": expiry.isoformat()}

    creds = _RoleCredentials(refresh_using=fetch, method="sts-assume-role")
    assert fetched == []  # deferred: nothing until first use
    for _ in range(5):
        creds.get_frozen_credentials()
    assert len(fetched) == 1
    lifetime[0] = datetime.timedelta(minutes=4)  # inside the 5-minute window: renewed on use
    creds._expiry_time = datetime.datetime.now(datetime.UTC) + lifetime[0]
    creds.get_frozen_credentials()
    assert len(fetched) == 2


def test_concurrent_reads_share_one_client(moto: Any, sm: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    sm.create_secret(Name="s", SecretString="v")
    provider = _provider()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: provider.get(RemoteRef("s")), range(32)))
    assert results == [b"v"] * 32
    assert moto.calls["GetSecretValue"] == 32
