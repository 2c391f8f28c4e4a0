"""The fake provider: ESO's ``spec.provider.fake`` shape, served from memory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from secretsync import providers
from secretsync.errors import PropertyNotFound, SecretNotFound, SpecError
from secretsync.providers.base import FindSpec, RemoteRef, SecretKeyRef, StoreContext
from secretsync.providers.fake import FakeProvider

DATA: list[dict[str, Any]] = [
    {"key": "app/db", "value": '{"user": "app", "password": "s3cr3t", "nested": {"port": 5432}}'},
    {"key": "app/api", "value": "plain-token"},
    {"key": "app/rotating", "value": "old", "version": "v1"},
    {"key": "app/rotating", "value": "new", "version": "v2"},
    {"key": "app/both", "value": "versionless"},
    {"key": "app/both", "value": "versioned", "version": "v9"},
    {"key": "other/x", "valueMap": {"a": "1", "b": "2"}},
    {"key": "app/list", "value": "[1, 2]"},
]


def _no_credentials(ref: SecretKeyRef) -> bytes:
    raise AssertionError("the fake provider reads no credentials")


def make(spec: Mapping[str, Any]) -> FakeProvider:
    context = StoreContext("SecretStore", "fake", "default", spec, _no_credentials)
    return FakeProvider(context)


@pytest.fixture
def fake() -> FakeProvider:
    return make({"data": DATA})


def test_registry_builds_it() -> None:
    provider = providers.create(
        "fake", StoreContext("SecretStore", "s", "ns", {"data": DATA}, _no_credentials)
    )
    assert provider.name == "fake"
    assert provider.get(RemoteRef("app/api")) == b"plain-token"


def test_get_returns_the_value_byte_for_byte(fake: FakeProvider) -> None:
    assert fake.get(RemoteRef("app/db")) == DATA[0]["value"].encode()


@pytest.mark.parametrize(
    ("prop", "expected"), [("password", b"s3cr3t"), ("nested.port", b"5432"), ("nested", b'{"port": 5432}')]
)
def test_get_property(fake: FakeProvider, prop: str, expected: bytes) -> None:
    assert fake.get(RemoteRef("app/db", property=prop)) == expected


def test_versions(fake: FakeProvider) -> None:
    assert fake.get(RemoteRef("app/rotating", version="v1")) == b"old"
    assert fake.get(RemoteRef("app/rotating", version="v2")) == b"new"
    assert fake.get(RemoteRef("app/rotating")) == b"new"  # no versionless entry: the last one
    assert fake.get(RemoteRef("app/both")) == b"versionless"
    assert fake.get(RemoteRef("app/both", version="v9")) == b"versioned"
    with pytest.raises(SecretNotFound, match=r"fake: key 'app/rotating' \(version 'v3'\) not found"):
        fake.get(RemoteRef("app/rotating", version="v3"))


def test_not_found_messages_name_key_and_property_only(fake: FakeProvider) -> None:
    with pytest.raises(SecretNotFound, match="fake: key 'nope' not found"):
        fake.get(RemoteRef("nope"))
    with pytest.raises(PropertyNotFound) as caught:
        fake.get(RemoteRef("app/db", property="missing"))
    assert str(caught.value) == "fake: key 'app/db' has no property 'missing'"
    with pytest.raises(PropertyNotFound) as caught:
        fake.get(RemoteRef("app/api", property="x"))
    assert "plain-token" not in str(caught.value)
    assert "is not JSON" in str(caught.value)


def test_get_map(fake: FakeProvider) -> None:
    assert fake.get_map(RemoteRef("app/db")) == {
        "user": b"app",
        "password": b"s3cr3t",
        "nested": b'{"port": 5432}',  # ESO's fake: json.RawMessage, the text as given
    }
    assert fake.get_map(RemoteRef("app/db", property="nested")) == {"port": b"5432"}
    assert fake.get_map(RemoteRef("other/x")) == {"a": b"1", "b": b"2"}


@pytest.mark.parametrize("key", ["app/api", "app/list"])
def test_get_map_of_a_non_object_is_a_spec_error_without_the_value(fake: FakeProvider, key: str) -> None:
    with pytest.raises(SpecError) as caught:
        fake.get_map(RemoteRef(key))
    assert f"fake: key {key!r} is not a JSON object" in str(caught.value)
    assert "plain-token" not in str(caught.value)


def test_find_by_name_and_path(fake: FakeProvider) -> None:
    assert set(fake.find(FindSpec(name_regexp="^app/"))) == {
        "app/db",
        "app/api",
        "app/rotating",
        "app/both",
        "app/list",
    }
    assert fake.find(FindSpec(name_regexp="rot")) == {"app/rotating": b"new"}
    assert fake.find(FindSpec(path="other")) == {"other/x": b'{"a":"1","b":"2"}'}
    assert fake.find(FindSpec(path="app/", name_regexp="b")) == {
        "app/db": DATA[0]["value"].encode(),
        "app/both": b"versionless",
    }
    assert fake.find(FindSpec(name_regexp="nothing-matches")) == {}


def test_find_rejects_tags_and_bad_regexps(fake: FakeProvider) -> None:
    with pytest.raises(SpecError, match=r"dataFrom\.find\.tags"):
        fake.find(FindSpec(tags={"team": "a"}))
    with pytest.raises(SpecError, match=r"dataFrom\.find\.name\.regexp: invalid regular expression"):
        fake.find(FindSpec(name_regexp="("))


def test_check_and_close_are_no_ops(fake: FakeProvider) -> None:
    fake.check()
    fake.close()
    assert make({}).find(FindSpec()) == {}


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"data": "nope"}, "spec.provider.fake.data"),
        ({"data": ["x"]}, "spec.provider.fake.data[0]"),
        ({"data": [{"value": "v"}]}, "spec.provider.fake.data[0].key"),
        ({"data": [{"key": "k", "value": "v"}, {"key": "k2"}]}, "spec.provider.fake.data[1].value"),
        ({"data": [{"key": "k", "value": 3}]}, "spec.provider.fake.data[0].value"),
        ({"data": [{"key": "k", "value": "v", "version": 2}]}, "spec.provider.fake.data[0].version"),
        ({"data": [{"key": "k", "valueMap": {"a": 1}}]}, "spec.provider.fake.data[0].valueMap"),
        ({"data": [{"key": "k", "value": "v", "valueMap": {}}]}, "spec.provider.fake.data[0]"),
    ],
)
def test_malformed_spec_names_the_field(spec: Mapping[str, Any], field: str) -> None:
    with pytest.raises(SpecError) as caught:
        make(spec)
    assert caught.value.path == field


@pytest.mark.parametrize("prop", [None, "password"])
def test_metadata_fetch_is_refused_never_answered_with_the_value(
    fake: FakeProvider, prop: str | None
) -> None:
    ref = RemoteRef("app/db", property=prop, metadata_policy="Fetch")
    for call in (fake.get, fake.get_map):
        with pytest.raises(SpecError) as refused:
            call(ref)
        assert str(refused.value) == (
            "remoteRef.metadataPolicy: the fake provider has no metadata; "
            "metadataPolicy Fetch needs vault, aws or gcpsm"
        )
        assert "s3cr3t" not in str(refused.value)
    # refused before the lookup: a missing key is not reported as SecretNotFound either
    with pytest.raises(SpecError):
        fake.get(RemoteRef("no/such/key", metadata_policy="Fetch"))
    assert fake.get(RemoteRef("app/db", property="password", metadata_policy="None")) == b"s3cr3t"
