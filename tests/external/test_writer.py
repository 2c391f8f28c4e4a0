"""Writing the target Secret: stale labels, annotations and merged keys go; others' stay."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from secretsync import kube, model, ownership
from secretsync.external import writer
from secretsync.external.outcome import data_hash
from secretsync.external.render import Desired


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def es_spec(policy: str = "Owner") -> model.ExternalSecretSpec:
    return model.parse_external_secret(
        {
            "metadata": {"name": "app", "namespace": "ns"},
            "spec": {
                "secretStoreRef": {"name": "s"},
                "target": {"creationPolicy": policy},
                "data": [{"secretKey": "k", "remoteRef": {"key": "r"}}],
            },
        }
    )


def wanted(labels: dict[str, str], annotations: dict[str, str], data: dict[str, bytes]) -> dict[str, Any]:
    w = writer.SecretWriter(None, None, lambda *_: None, lambda _: 1.0)  # type: ignore[arg-type]
    return w.body(es_spec(), Desired(data=data, labels=labels, annotations=annotations))


def test_the_body_lists_what_it_manages_and_hashes_its_data() -> None:
    body = wanted({"app": "web"}, {"note": "x"}, {"k": b"v"})
    annotations = body["metadata"]["annotations"]
    assert json.loads(annotations[writer.MANAGED_METADATA]) == {"labels": ["app"], "annotations": ["note"]}
    assert annotations[writer.DATA_HASH] == data_hash({"k": b64("v")})
    assert "type" not in body  # no template type: the existing Secret's, or Opaque when created
    assert writer.MANAGED_METADATA not in wanted({}, {}, {})["metadata"]["annotations"]


def test_labels_and_annotations_it_set_before_and_no_longer_wants_are_removed() -> None:
    existing = {
        "metadata": {
            "name": "app",
            "labels": {"app": "web", "old": "x", "foreign": "kept"},
            "annotations": {
                "gone": "x",
                "foreign": "kept",
                writer.MANAGED_METADATA: json.dumps({"labels": ["app", "old"], "annotations": ["gone"]}),
            },
        },
        "type": "kubernetes.io/tls",
        "data": {"k": b64("old")},
    }
    merged = writer.merge(existing, wanted({"app": "api"}, {}, {"k": b"new"}), "Owner", [])
    assert merged["metadata"]["labels"] == {"app": "api", "foreign": "kept"}
    annotations = merged["metadata"]["annotations"]
    assert "gone" not in annotations and annotations["foreign"] == "kept"
    assert json.loads(annotations[writer.MANAGED_METADATA]) == {"labels": ["app"]}
    assert merged["type"] == "kubernetes.io/tls"  # kept: the template names none
    assert merged["data"] == {"k": b64("new")}


def test_merge_removes_the_keys_this_external_secret_merged_before_and_keeps_the_rest() -> None:
    existing = {
        "metadata": {"name": "shared"},
        "data": {"mine-old": b64("1"), "theirs": b64("2"), "k": b64("0")},
    }
    merged = writer.merge(existing, wanted({}, {}, {"k": b"3"}), "Merge", ["mine-old", "k"])
    assert merged["data"] == {"theirs": b64("2"), "k": b64("3")}
    assert merged["metadata"]["annotations"][writer.DATA_HASH] == data_hash(merged["data"])


def test_a_malformed_record_of_managed_keys_removes_nothing() -> None:
    for text in ("not json", "[1]", '{"labels": "app"}'):
        existing = {"metadata": {"labels": {"app": "x"}, "annotations": {writer.MANAGED_METADATA: text}}}
        assert writer.merge(existing, wanted({}, {}, {}), "Owner", [])["metadata"]["labels"] == {"app": "x"}


def test_intact_means_present_with_the_data_it_wrote() -> None:
    spec = es_spec()
    data = {"k": b64("v")}
    good = {"metadata": {"annotations": {writer.DATA_HASH: data_hash(data)}}, "data": data}
    assert writer.is_intact(good, spec)
    assert not writer.is_intact(None, spec)
    assert not writer.is_intact({**good, "data": {"k": b64("edited")}}, spec)
    for policy in ("Orphan", "None"):  # ESO's isSecretValid: not kept, so always "valid"
        assert writer.is_intact(None, es_spec(policy))


class _RecordingApi:
    """Records replaces; ``fail`` makes them raise as the API server would."""

    def __init__(self, fail: bool = False) -> None:
        self.replaced: list[tuple[str, dict[str, Any]]] = []
        self.fail = fail

    async def replace(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if self.fail:
            raise kube.Conflict(409, "Conflict", "the object has been modified")
        self.replaced.append((path, body))
        return {**body, "metadata": {**body["metadata"], "resourceVersion": "8"}}


ES = {"apiVersion": "secretsync.io/v1alpha1", "kind": "ExternalSecret",
      "metadata": {"name": "app", "namespace": "ns", "uid": "es-uid"}}  # fmt: skip


def _relabel(secret: dict[str, Any], policy: str, api: _RecordingApi) -> tuple[bool, list[tuple[str, str]]]:
    remembered: list[tuple[str, str]] = []
    w = writer.SecretWriter(api, None, lambda *a: remembered.append(a), lambda _: 1.0)  # type: ignore[arg-type]
    return asyncio.run(w.relabel(ES, es_spec(policy), secret)), remembered


def test_relabel_puts_the_watch_label_on_its_own_secret_only() -> None:
    """A Secret written by a version without the label gets it with one update, nothing else
    changed; a Secret that is not plainly this ExternalSecret's is left to a full sync."""
    owned = {
        "metadata": {
            "name": "app",
            "namespace": "ns",
            "resourceVersion": "7",
            "labels": {"a": "b"},
            "ownerReferences": [kube.controller_reference(ES)],
        },
        "data": {"k": b64("v")},
    }
    api = _RecordingApi()
    assert _relabel(owned, "Owner", api) == (True, [("ns/app", "8")])
    ((path, body),) = api.replaced
    assert path == "/api/v1/namespaces/ns/secrets/app"
    assert body["metadata"]["labels"] == {"a": "b", ownership.PRODUCED_LABEL: "true"}
    assert body["metadata"]["resourceVersion"] == "7"  # an update of exactly what was read
    assert body["data"] == owned["data"] and "labels" in owned["metadata"]
    assert owned["metadata"]["labels"] == {"a": "b"}  # the caller's copy is untouched

    other = {"metadata": {"name": "app", "namespace": "ns", "ownerReferences": [
        {**kube.controller_reference(ES), "uid": "someone-else"}]}}  # fmt: skip
    merged = {"metadata": {"name": "app", "namespace": "ns", "annotations": {
        ownership.MERGED_KEYS_ANNOTATION: json.dumps({"app": ["k"]})}}}  # fmt: skip
    api = _RecordingApi()
    assert _relabel(other, "Owner", api)[0] is False
    assert _relabel(merged, "Owner", api)[0] is False  # merged into, not owned
    assert _relabel(merged, "Merge", api)[0] is True
    taken = {"metadata": {**merged["metadata"], "ownerReferences": other["metadata"]["ownerReferences"]}}
    assert _relabel(taken, "Merge", api)[0] is False  # another controller has it since
    assert len(api.replaced) == 1
    assert _relabel(owned, "Owner", _RecordingApi(fail=True)) == (False, [])
