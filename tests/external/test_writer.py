"""Writing the target Secret: stale labels, annotations and merged keys go; others' stay."""

from __future__ import annotations

import base64
import json
from typing import Any

from secretsync import model
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
