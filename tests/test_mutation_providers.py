"""secretsync/providers: what mutation testing found untested (docs/testing.md, "Mutation testing").

The fake provider's spec errors are what a user sees on the store's status, so they are asserted
word for word; ``find`` by path and ``get_map`` of a versioned entry pin the rest.
"""

from __future__ import annotations

from typing import Any

import pytest

from secretsync.errors import SpecError
from secretsync.providers.base import FindSpec, RemoteRef
from tests.test_provider_fake import make


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("text", "spec.provider.fake.data: must be a list of {key, value, version}"),
        (["x"], "spec.provider.fake.data[0]: must be an object with key and value"),
        ([{"value": "v"}], "spec.provider.fake.data[0].key: is required and must be a non-empty string"),
        (
            [{"key": 5, "value": "v"}],
            "spec.provider.fake.data[0].key: is required and must be a non-empty string",
        ),
        ([{"key": "k", "value": "v", "version": 1}], "spec.provider.fake.data[0].version: must be a string"),
        (
            [{"key": "k", "value": "v", "valueMap": {}}],
            "spec.provider.fake.data[0]: set value or valueMap, not both",
        ),
        (
            [{"key": "k", "value": 1}],
            "spec.provider.fake.data[0].value: must be a string (quote JSON documents)",
        ),
        (
            [{"key": "k", "valueMap": {"a": 1}}],
            "spec.provider.fake.data[0].valueMap: must map strings to strings",
        ),
        ([{"key": "k"}], "spec.provider.fake.data[0].value: is required"),
    ],
)
def test_fake_spec_errors_name_the_field(data: Any, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        make({"data": data})
    assert str(caught.value) == message


def test_fake_find_refuses_tags_in_words() -> None:
    with pytest.raises(SpecError) as caught:
        make({"data": []}).find(FindSpec(tags={"a": "b"}))
    assert str(caught.value) == "dataFrom.find.tags: the fake provider can find by name only"


def test_fake_find_by_path() -> None:
    fake = make({"data": [{"key": "X/k", "value": "1"}, {"key": "other", "value": "2"}]})
    assert fake.find(FindSpec(path="/")) == {"X/k": b"1", "other": b"2"}
    assert fake.find(FindSpec(path="X")) == {"X/k": b"1"}
    assert fake.find(FindSpec(path="/X/")) == {"X/k": b"1"}


def test_fake_get_map_names_the_version_and_property_it_read() -> None:
    fake = make(
        {"data": [{"key": "k", "value": "plain"}, {"key": "k", "value": "also plain", "version": "v2"}]}
    )
    with pytest.raises(SpecError) as caught:
        fake.get_map(RemoteRef(key="k", version="v2"))
    assert "fake: key 'k' (version 'v2')" in str(caught.value)
    nested = make({"data": [{"key": "k", "value": '{"p": "text"}'}]})
    with pytest.raises(SpecError) as caught:
        nested.get_map(RemoteRef(key="k", property="p"))
    assert "fake: key 'k' property 'p'" in str(caught.value)
