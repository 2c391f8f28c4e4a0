"""Tests written against mutants of secretsync/external that the other tests let survive.

``make mutation MODULE=secretsync/external`` (docs/testing.md, "Mutation testing") mutates the
package file by file; these tests kill the survivors of the pure parts (writer.py's bodies and
merges, rewrite.py, render.py, outcome.py, refresh.py, fetch.py's key pipeline). Each asserts
what a user sees: the exact Secret (data, keys, metadata, type, owner references), every message
word for word, and ESO's semantics where ESO defines them. The survivors that no test can tell
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
from secretsync.errors import RewriteError, SpecError, TemplateError, TemplateSourceError
from secretsync.external import fetch, refresh, render, rewrite, writer
from secretsync.external.outcome import data_hash
from secretsync.external.render import Desired

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
