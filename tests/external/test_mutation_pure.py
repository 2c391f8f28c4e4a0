"""Tests written against mutants of secretsync/external that the other tests let survive.

``make mutation MODULE=secretsync/external`` (docs/testing.md, "Mutation testing") mutates the
package file by file; these tests kill the survivors of the pure parts (writer.py's bodies and
merges, rewrite.py, render.py, outcome.py, refresh.py, and fetch.py: what is read, with which
operation and version, when the Secret goes, and its key pipeline). Each asserts what a user
sees: the exact Secret (data, keys, metadata, type, owner references), every message word for
word, and ESO's semantics where ESO defines them. The survivors that no test can tell
apart are listed, with the reason, in docs/testing.md. Two tests pin where rewrite's merge
wrote JSON other than ESO's (found while checking these mutants against ESO, and fixed).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest

from secretsync import kube, model
from secretsync.errors import RewriteError, SecretNotFound, SpecError, TemplateError, TemplateSourceError
from secretsync.external import fetch, refresh, render, rewrite, writer
from secretsync.external.outcome import data_hash
from secretsync.external.render import Desired
from secretsync.providers.base import FindSpec, RemoteRef

CANARY = "canary-93be41"  # a value; must never appear in a message


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --------------------------------------------------------------------------- fetch: one dataFrom entry

WHERE = "spec.dataFrom[3]"


def entry(**options: Any) -> model.DataFromEntry:
    return model.DataFromEntry(**options)


def spec_error(source: model.DataFromEntry, got: dict[str, bytes]) -> SpecError:
    with pytest.raises(SpecError) as caught:
        fetch.entry_values(source, got, WHERE)
    return caught.value


def test_a_conversion_collision_names_the_data_from_entry() -> None:
    error = spec_error(entry(), {"a/b": b"1", "a_b": b"2"})
    assert error.path == WHERE
    assert str(error) == "spec.dataFrom[3]: remote names 'a/b' and 'a_b' both become Secret key 'a_b'"


def test_a_rewritten_key_that_is_not_valid_names_the_data_from_entry() -> None:
    error = spec_error(entry(rewrite=(model.RewriteRegexp(source="^db-", target="db/"),)), {"db-x": b"1"})
    assert error.path == WHERE
    assert str(error) == (
        "spec.dataFrom[3]: rewrite made 'db/x', which is not a valid Secret key (letters, digits, '-', "
        "'_', '.'; at most 253): change the rewrite so that every key becomes one"
    )


def test_a_rewrite_collision_names_the_data_from_entry_and_the_operation() -> None:
    source = entry(rewrite=(model.RewriteRegexp(source="-(a|b)$", target=""),))
    with pytest.raises(RewriteError) as caught:
        fetch.entry_values(source, {"k-a": b"1", "k-b": b"2"}, WHERE)
    assert str(caught.value) == (
        "spec.dataFrom[3].rewrite[0]: remote keys 'k-a' and 'k-b' both become 'k'; change the "
        "rewrite so that each key stays distinct"
    )


@pytest.mark.parametrize("rewritten", [False, True])
def test_a_value_that_does_not_decode_names_the_entrys_decoding_strategy(rewritten: bool) -> None:
    ops = (model.RewriteRegexp(source="^", target="x-"),) if rewritten else ()
    error = spec_error(entry(decoding="Base64", rewrite=ops), {"k": CANARY.encode() + b"!"})
    assert error.path == "spec.dataFrom[3].decodingStrategy"
    assert str(error) == (
        "spec.dataFrom[3].decodingStrategy: Base64: the remote value is not padded standard base64"
    )
    assert CANARY not in str(error)


# --------------------------------------------------------------------------- fetch: a whole sync's reads


class Remote:
    """A provider's answers (remote key -> text; a map is a JSON object) behind the gateway's ``call``,
    which records every call as (operation, provider method, argument): the operation is the
    ``operation`` label of secretsync_provider_calls_total."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.calls: list[tuple[str, str, Any]] = []

    def get(self, ref: Any) -> bytes:
        if ref.key not in self.values:
            raise SecretNotFound(f"remote key {ref.key!r} not found")
        return self.values[ref.key].encode()

    def get_map(self, ref: Any) -> dict[str, bytes]:
        return {k: str(v).encode() for k, v in json.loads(self.get(ref)).items()}

    def find(self, spec: Any) -> dict[str, bytes]:
        return {k: v.encode() for k, v in self.values.items() if k.startswith(f"{spec.path}/")}

    async def call(self, operation: str, fn: Any, argument: Any) -> Any:
        self.calls.append((operation, fn.__name__, argument))
        return fn(argument)


def sync_spec(
    data: list[dict[str, Any]], data_from: tuple[dict[str, Any], ...] = (), deletion: str = "Retain"
) -> model.ExternalSecretSpec:
    return model.parse_external_secret(
        {
            "metadata": {"name": "app", "namespace": "team-a"},
            "spec": {
                "secretStoreRef": {"name": "vault"},
                "target": {"deletionPolicy": deletion},
                "data": data,
                "dataFrom": list(data_from),
            },
        }
    )


async def test_fetch_calls_each_provider_operation_by_its_name_and_passes_the_version_asked_for() -> None:
    remote = Remote({"app": '{"a": "1"}', "db/x": "2", "meta": '{"team": "a"}', "creds": '{"user": "u"}'})
    spec = sync_spec(
        data=[
            {
                "secretKey": "team",
                "remoteRef": {"key": "meta", "metadataPolicy": "Fetch", "property": "team"},
            },
            {"secretKey": "user", "remoteRef": {"key": "creds", "property": "user", "version": "3"}},
        ],
        data_from=({"extract": {"key": "app"}}, {"find": {"path": "db"}}),
    )
    values = await fetch.fetch(spec, remote, remote.call)  # type: ignore[arg-type]
    assert remote.calls == [
        ("get_map", "get_map", RemoteRef("app")),
        ("find", "find", FindSpec(path="db")),
        ("get", "get", RemoteRef("meta", "team", None, "Fetch")),
        ("get", "get", RemoteRef("creds", None, "3")),  # the whole value of version 3, once
    ]
    assert values == {"a": b"1", "db_x": b"2", "team": b'{"team": "a"}', "user": b"u"}


async def test_a_missing_remote_value_with_a_property_is_dropped_under_merge() -> None:
    remote = Remote({"creds": '{"user": "u"}'})
    spec = sync_spec(
        data=[
            {"secretKey": "password", "remoteRef": {"key": "gone", "property": "password"}},
            {"secretKey": "user", "remoteRef": {"key": "creds", "property": "user"}},
        ],
        deletion="Merge",
    )
    assert await fetch.fetch(spec, remote, remote.call) == {"user": b"u"}  # type: ignore[arg-type]


async def test_no_data_at_all_is_deleted_kept_or_written_as_the_deletion_policy_says() -> None:
    """ESO's empty data map: Merge writes what is left (no key; it never deletes the Secret),
    Delete deletes the Secret, Retain leaves it as it is; alike for every source gone and for a
    find that matches nothing. Under Retain a gone source fails the sync instead."""
    remote = Remote({"other/x": "1"})
    gone = [{"secretKey": "k", "remoteRef": {"key": "gone"}}]
    find: Any = ({"find": {"path": "db"}},)
    for policy, nothing in (("Merge", {}), ("Delete", fetch.Nothing.DELETE), ("Retain", fetch.Nothing.KEEP)):
        found = await fetch.fetch(sync_spec(data=[], data_from=find, deletion=policy), remote, remote.call)  # type: ignore[arg-type]
        assert found == nothing, policy
        if policy != "Retain":
            assert await fetch.fetch(sync_spec(gone, deletion=policy), remote, remote.call) == nothing  # type: ignore[arg-type]
    with pytest.raises(SecretNotFound):
        await fetch.fetch(sync_spec(gone, deletion="Retain"), remote, remote.call)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- outcome: the data hash


def test_the_data_hash_is_pinned_and_independent_of_key_order() -> None:
    """The hash is persisted in every Secret's annotation: a change of form (another length, key
    order) would make every Secret written before look edited and be rewritten once."""
    assert data_hash({"a": "MQ==", "b": "Mg=="}) == "167ff753fd9b720cc0b97c6f19abe0c2"
    assert data_hash({"b": "Mg==", "a": "MQ=="}) == "167ff753fd9b720cc0b97c6f19abe0c2"


def test_a_secret_written_in_one_key_order_and_read_back_sorted_is_intact() -> None:
    """The API server returns data keys sorted; the body was built in the template's order."""
    spec = model.parse_external_secret(
        {
            "metadata": {"name": "app", "namespace": "ns"},
            "spec": {
                "secretStoreRef": {"name": "s"},
                "data": [{"secretKey": "k", "remoteRef": {"key": "r"}}],
            },
        }
    )
    w = writer.SecretWriter(None, None, lambda *_: None, lambda _: 1.0)  # type: ignore[arg-type]
    body = w.body(spec, Desired(data={"zeta": b"1", "alpha": b"2"}, labels={}, annotations={}))
    assert list(body["data"]) == ["zeta", "alpha"]
    read_back = {**body, "data": dict(sorted(body["data"].items()))}
    assert writer.is_intact(read_back, spec)


# --------------------------------------------------------------------------- refresh


NOW = dt.datetime(2026, 11, 30, 12, 0, 0, tzinfo=dt.UTC)


def synced_ago(seconds: int) -> dict[str, Any]:
    refreshed = (NOW - dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"syncedResourceVersion": "3-abc", "refreshTime": refreshed}


def test_a_one_second_refresh_interval_is_honoured() -> None:
    assert refresh.due("Periodic", 1.0, synced_ago(1), "3-abc", NOW) is True
    assert refresh.due("Periodic", 1.0, synced_ago(0), "3-abc", NOW) is False


def test_values_read_this_very_second_are_not_due_again() -> None:
    assert refresh.due("Periodic", 3600.0, synced_ago(0), "3-abc", NOW) is False


def test_a_refresh_time_go_cannot_read_is_no_refresh_time() -> None:
    """status.refreshTime is a metav1.Time, read with Go's RFC 3339 layout, which takes an upper-case
    ``Z`` only: a lower-case ``z`` (the CRD's date-time format lets it in) is unreadable, so the values
    are read again now, as for an ExternalSecret that never synced."""
    refreshed = {"syncedResourceVersion": "3-abc", "refreshTime": "2026-11-30T11:59:59Z"}
    assert refresh.due("Periodic", 3600.0, refreshed, "3-abc", NOW) is False
    assert refresh.next_refresh("Periodic", 3600.0, refreshed, NOW) == 3599.0
    lower = {**refreshed, "refreshTime": "2026-11-30T11:59:59z"}
    assert refresh.due("Periodic", 3600.0, lower, "3-abc", NOW) is True
    assert refresh.next_refresh("Periodic", 3600.0, lower, NOW) == 0.0


# --------------------------------------------------------------------------- render


def render_spec(template: dict[str, Any]) -> model.ExternalSecretSpec:
    return model.parse_external_secret(
        {
            "apiVersion": "secretsync.io/v1alpha1",
            "kind": "ExternalSecret",
            "metadata": {"name": "app", "namespace": "team-a"},
            "spec": {
                "secretStoreRef": {"name": "vault"},
                "dataFrom": [{"extract": {"key": "app"}}],
                "target": {"template": template},
            },
        }
    )


def literal(text: str) -> dict[str, bytes]:
    spec = render_spec({"templateFrom": [{"literal": text}]})
    return render.render(spec, {"password": CANARY.encode()}, {}).data


def literal_error(text: str) -> str:
    with pytest.raises(TemplateError) as caught:
        literal(text)
    assert CANARY not in str(caught.value)
    return str(caught.value)


def test_keys_and_values_false_becomes_the_string_false() -> None:
    """sigs.k8s.io/yaml: a YAML boolean read into a Go string is ``true`` / ``false``."""
    assert literal("a: false\nb: off\nc: true") == {"a": b"false", "b": b"false", "c": b"true"}


def test_keys_and_values_timestamps_stay_as_written() -> None:
    """go-yaml v2 keeps a timestamp-looking scalar as its text when the target is a string."""
    assert literal("day: 2024-01-01\nat: 2001-12-14t21:59:43.10-05:00") == {
        "day": b"2024-01-01",
        "at": b"2001-12-14t21:59:43.10-05:00",
    }


@pytest.mark.parametrize(
    ("text", "kind"),
    [("true", "a boolean"), ("5", "a number"), ("1.5", "a number"), ("{{ .password }}", "a scalar")],
)
def test_an_output_that_is_one_scalar_says_what_it_is(text: str, kind: str) -> None:
    assert literal_error(text) == (
        f"template templateFrom[0].literal: its output must be YAML key: value lines, not {kind} "
        "(templateAs KeysAndValues)"
    )


def test_an_output_that_is_not_yaml_is_reported_word_for_word() -> None:
    assert literal_error("a: b: {{ .password }}") == (
        "template templateFrom[0].literal: its output is not YAML key: value lines at line 1, column 5 "
        "(templateAs KeysAndValues)"
    )


def test_an_output_rejected_without_a_position_says_no_position() -> None:
    """A duplicate key in JSON-looking output is refused by the reader without a line number."""
    assert literal_error('{"a": "{{ .password }}", "a": "y"}') == (
        "template templateFrom[0].literal: its output is not YAML key: value lines (templateAs KeysAndValues)"
    )


def test_a_missing_template_source_is_reported_word_for_word() -> None:
    spec = render_spec({"templateFrom": [{"secret": {"name": "gone", "items": [{"key": "k"}]}}]})
    with pytest.raises(TemplateSourceError) as caught:
        render.render(spec, {}, {("Secret", "gone"): None})
    assert str(caught.value) == (
        "spec.target.template.templateFrom[0].secret: Secret team-a/gone not found "
        "(templates are read from the ExternalSecret's namespace; retried)"
    )


RESERVED = "keys under secretsync.io/ are the operator's own; use another"


@pytest.mark.parametrize(
    ("section", "key", "source", "message"),
    [
        ("labels", "secretsync.io/x", "v", f"template metadata.labels[secretsync.io/x]: {RESERVED}"),
        (
            "annotations",
            "secretsync.io/x",
            "v",
            f"template metadata.annotations[secretsync.io/x]: {RESERVED}",
        ),
        (
            "annotations",
            "note",
            '{{ fail "no" }}',
            'template "metadata.annotations[note]": line 1, column 4: fail: fail',
        ),
        (
            "labels",
            "team",
            "{{ .nope.x }}",
            'template "metadata.labels[team]": line 1, column 4: missing key: nope',
        ),
    ],
)
def test_a_metadata_template_is_named_by_its_section_and_key(
    section: str, key: str, source: str, message: str
) -> None:
    with pytest.raises(TemplateError) as caught:
        render.render(render_spec({"metadata": {section: {key: source}}}), {"password": CANARY.encode()}, {})
    assert str(caught.value) == message


@pytest.mark.parametrize("target", ["Data", "Labels", "Annotations"])
def test_a_keys_and_values_entry_that_is_not_a_string_names_the_target_it_was_read_for(target: str) -> None:
    spec = render_spec({"templateFrom": [{"literal": "a: [1, 2]", "target": target}]})
    with pytest.raises(TemplateError) as caught:
        render.render(spec, {}, {})
    assert str(caught.value) == (
        "template templateFrom[0].literal: entry 1 of its output is a list, not a string; quote it "
        f"(ESO reads the output as map[string]string for {target})"
    )


def test_a_keys_and_values_output_that_makes_an_invalid_secret_key_names_the_template() -> None:
    assert literal_error("bad key!: {{ .password }}") == (
        "template templateFrom[0].literal: it makes a Secret key that is not valid (letters, digits, -, _, .)"
    )


# --------------------------------------------------------------------------- rewrite


def apply(*ops: model.Rewrite, values: dict[str, bytes]) -> dict[str, bytes]:
    return rewrite.apply(ops, values, path="spec.dataFrom[2]")


def test_a_transform_that_does_not_parse_is_reported_word_for_word() -> None:
    with pytest.raises(SpecError) as caught:
        apply(model.RewriteTransform(template="{{ .value "), values={"k": b"v"})
    assert caught.value.path == "spec.dataFrom[2].rewrite[0].transform.template"
    assert caught.value.problem == 'template "transform": line 1, column 11: syntax: unclosed action'
    assert str(caught.value) == (
        'spec.dataFrom[2].rewrite[0].transform.template: template "transform": line 1, column 11: '
        "syntax: unclosed action"
    )


def test_a_transform_that_fails_names_the_operation() -> None:
    ops = (model.RewriteRegexp(source="^", target="x"), model.RewriteTransform(template='{{ fail "no" }}'))
    with pytest.raises(RewriteError) as caught:
        apply(*ops, values={"k": CANARY.encode()})
    assert str(caught.value) == (
        'spec.dataFrom[2].rewrite[1].transform.template: template "transform": line 1, column 4: fail: fail'
    )


def test_a_regexp_that_fails_names_the_operation() -> None:
    ops = (model.RewriteTransform(template="{{ .value }}"), model.RewriteRegexp(source="(", target="x"))
    with pytest.raises(RewriteError) as caught:
        apply(*ops, values={"k": CANARY.encode()})
    assert str(caught.value) == "spec.dataFrom[2].rewrite[1].regexp: function failed"


def test_a_transform_collision_names_the_operation() -> None:
    with pytest.raises(RewriteError) as caught:
        apply(model.RewriteTransform(template="same"), values={"k": b"1", "j": b"2"})
    assert str(caught.value) == (
        "spec.dataFrom[2].rewrite[0]: remote keys 'j' and 'k' both become 'same'; change the rewrite "
        "so that each key stays distinct"
    )


def merge(values: dict[str, bytes], **options: Any) -> dict[str, bytes]:
    return apply(model.RewriteMerge(**options), values=values)


def test_merge_ignore_not_found_skips_a_missing_priority_key_and_goes_on() -> None:
    """ESO's merge: ``continue`` past a missing priority key; the keys after it still count."""
    values = {"a": b'{"x": "a", "only-a": "1"}', "b": b'{"x": "b", "only-b": "2"}'}
    out = merge(values, priority=("missing", "a"), priority_policy="IgnoreNotFound", conflict_policy="Ignore")
    assert out == {"x": b"a", "only-a": b"1", "only-b": b"2"}


def test_merge_a_missing_priority_key_is_reported_word_for_word() -> None:
    with pytest.raises(RewriteError) as caught:
        merge({"a": b"{}"}, priority=("missing",))
    assert str(caught.value) == (
        "spec.dataFrom[2].rewrite[0].merge: priority key 'missing' is not among the remote keys; add it, "
        "or set priorityPolicy IgnoreNotFound"
    )


def test_merge_extract_writes_false_nested_objects_sorted_and_text_as_utf8() -> None:
    """ESO's GetByteValue: FormatBool, and json.Marshal (sorted keys, UTF-8 kept) for objects."""
    doc = {
        "off": False,
        "on": True,
        "nested": {"z": "café", "a": [False, None]},
        "list": ["é", {"b": 1, "a": 2}],
    }
    assert merge({"k": json.dumps(doc).encode()}) == {
        "off": b"false",
        "on": b"true",
        "nested": '{"a":[false,null],"z":"café"}'.encode(),
        "list": '["é",{"a":2,"b":1}]'.encode(),
    }


def test_merge_json_writes_the_merged_object_compact_sorted_and_unescaped() -> None:
    """ESO's JSON strategy: JSONMarshal, i.e. json.Marshal with SetEscapeHTML(false)."""
    values = {
        "b": json.dumps({"z": "café <&>", "m": {"y": 1, "b": True}}).encode(),
        "a": json.dumps({"a": "x"}).encode(),
    }
    out = merge(values, strategy="JSON", into="all")
    assert out["all"] == '{"a":"x","m":{"b":true,"y":1},"z":"café <&>"}'.encode()
    assert out["a"] == values["a"] and out["b"] == values["b"]


def test_merge_writes_top_level_numbers_as_strconv_format_float_and_refuses_what_go_cannot_read() -> None:
    """ESO's GetByteValue: a float64 as FormatFloat(f, 'f', -1, 64); json.Unmarshal refuses 1e999 and
    NaN (Python's json would read them as inf and nan)."""
    assert merge({"k": b'{"half": 0.5, "minus": -2.0, "big": 1e21}'}) == {
        "half": b"0.5",
        "minus": b"-2",
        "big": b"1000000000000000000000",
    }
    for text in (b'{"n": 1e999}', b'{"n": NaN}', b'{"n": -Infinity}'):
        with pytest.raises(RewriteError) as caught:
            merge({"k": text})
        assert str(caught.value).endswith("the value of remote key 'k' is not a JSON object")


def test_merge_escapes_strings_inside_json_as_go_does() -> None:
    out = merge({"k": json.dumps({"conn": {"url": "db?a=1&b=<2>", "sep": "\u2028"}}).encode()})
    assert out == {"conn": b'{"sep":"\\u2028","url":"db?a=1\\u0026b=\\u003c2\\u003e"}'}
    out = merge({"k": json.dumps({"x": "<\u2028>"}).encode()}, strategy="JSON", into="all")
    assert out["all"] == b'{"x":"<\\u2028>"}'


def test_merge_writes_numbers_inside_json_as_go_does() -> None:
    values = {"k": b'{"conn": {"ratio": 1.0, "tiny": 1e-7, "big": 12345678901234567890}}'}
    go = b'{"big":12345678901234567000,"ratio":1,"tiny":1e-7}'
    assert merge(values) == {"conn": go}
    assert merge(values, strategy="JSON", into="all")["all"] == b'{"conn":' + go + b"}"


# --------------------------------------------------------------------------- writer: body


def writer_spec(policy: str = "Owner", immutable: bool = False) -> model.ExternalSecretSpec:
    return model.parse_external_secret(
        {
            "metadata": {"name": "app", "namespace": "ns"},
            "spec": {
                "secretStoreRef": {"name": "s"},
                "target": {"creationPolicy": policy, "immutable": immutable},
                "data": [{"secretKey": "k", "remoteRef": {"key": "r"}}],
            },
        }
    )


def body(desired: Desired, immutable: bool = False) -> dict[str, Any]:
    w = writer.SecretWriter(None, None, lambda *_: None, lambda _: 1.0)  # type: ignore[arg-type]
    return w.body(writer_spec(immutable=immutable), desired)


def test_the_body_is_a_v1_secret_with_type_immutable_and_a_compact_managed_list() -> None:
    desired = Desired(
        data={"k": b"v"}, labels={"app": "web"}, annotations={"note": "x"}, type="kubernetes.io/basic-auth"
    )
    assert body(desired, immutable=True) == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "app",
            "labels": {"app": "web"},
            "annotations": {
                "note": "x",
                writer.DATA_HASH: data_hash({"k": b64("v")}),
                writer.MANAGED_METADATA: '{"labels":["app"],"annotations":["note"]}',
            },
        },
        "data": {"k": b64("v")},
        "type": "kubernetes.io/basic-auth",
        "immutable": True,
    }


# --------------------------------------------------------------------------- writer: merge

ES = {"apiVersion": "secretsync.io/v1alpha1", "kind": "ExternalSecret",
      "metadata": {"name": "app", "namespace": "ns", "uid": "es-uid"}}  # fmt: skip
OURS = kube.controller_reference(ES)
OTHER_OWNER = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "name": "a", "uid": "argo-uid"}


def wanted(desired: Desired, policy: str = "Owner", immutable: bool = False) -> dict[str, Any]:
    out = body(desired, immutable=immutable)
    if policy == "Owner":
        out["metadata"]["ownerReferences"] = [OURS]
    return out


def test_a_malformed_managed_record_of_the_wrong_shape_removes_nothing() -> None:
    record = json.dumps({"labels": "ab", "annotations": 5})
    existing = {
        "metadata": {
            "labels": {"a": "1", "b": "2"},
            "annotations": {"c": "3", writer.MANAGED_METADATA: record},
        }
    }
    assert writer.managed_metadata(existing) == {}
    merged = writer.merge(existing, wanted(Desired(data={}, labels={}, annotations={})), "Owner", [])
    assert merged["metadata"]["labels"] == {"a": "1", "b": "2"}
    assert merged["metadata"]["annotations"]["c"] == "3"


def test_when_nothing_is_managed_any_more_the_record_and_the_stale_keys_go() -> None:
    existing = {
        "metadata": {
            "name": "app",
            "labels": {"old": "x"},
            "annotations": {
                "gone": "y",
                "foreign": "kept",
                writer.MANAGED_METADATA: json.dumps({"labels": ["old"], "annotations": ["gone"]}),
            },
        },
        "type": "Opaque",
        "data": {"k": b64("old")},
    }
    merged = writer.merge(existing, wanted(Desired(data={"k": b"v"}, labels={}, annotations={})), "Owner", [])
    assert merged["metadata"] == {
        "name": "app",
        "annotations": {"foreign": "kept", writer.DATA_HASH: data_hash({"k": b64("v")})},
        "ownerReferences": [OURS],
    }


def test_the_secret_type_is_the_templates_else_the_existing_one_else_opaque() -> None:
    desired = Desired(data={}, labels={}, annotations={}, type="kubernetes.io/tls")
    assert writer.merge({"metadata": {}, "type": "Opaque"}, wanted(desired), "Owner", [])["type"] == (
        "kubernetes.io/tls"
    )
    untyped = wanted(Desired(data={}, labels={}, annotations={}))
    assert writer.merge({"metadata": {}, "type": "kubernetes.io/tls"}, untyped, "Owner", [])["type"] == (
        "kubernetes.io/tls"
    )
    assert writer.merge({"metadata": {}}, untyped, "Owner", [])["type"] == "Opaque"


def test_immutable_follows_the_spec_both_ways() -> None:
    """What the spec asks for; secretcheck then reports an immutable Secret that cannot change."""
    desired = Desired(data={}, labels={}, annotations={})
    made = writer.merge({"metadata": {}}, wanted(desired, immutable=True), "Owner", [])
    assert made["immutable"] is True
    dropped = writer.merge({"metadata": {}, "immutable": True}, wanted(desired), "Owner", [])
    assert "immutable" not in dropped


def test_owner_policy_adds_its_controller_reference_and_keeps_other_owners() -> None:
    desired = Desired(data={}, labels={}, annotations={})
    # creationPolicy Orphan -> Owner: the Secret has another owner's reference and no controller
    existing = {"metadata": {"ownerReferences": [OTHER_OWNER]}}
    merged = writer.merge(existing, wanted(desired), "Owner", [])
    assert merged["metadata"]["ownerReferences"] == [OTHER_OWNER, OURS]
    # written before: its own controller reference is replaced, not repeated
    existing = {"metadata": {"ownerReferences": [OTHER_OWNER, OURS]}}
    merged = writer.merge(existing, wanted(desired), "Owner", [])
    assert merged["metadata"]["ownerReferences"] == [OTHER_OWNER, OURS]
    # Orphan: no reference is added, the existing ones stay
    merged = writer.merge(existing, wanted(desired, policy="Orphan"), "Orphan", [])
    assert merged["metadata"]["ownerReferences"] == [OTHER_OWNER, OURS]
