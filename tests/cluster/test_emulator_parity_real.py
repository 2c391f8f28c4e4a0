"""The emulator refuses what the real API server refuses: the same cases, against the real server.

tests/test_emulator_gaps.py::test_secrets_the_api_server_refuses_are_refused runs these cases on
the emulator; if kube-apiserver ever answers differently, this test shows it, so the fast tier
cannot quietly accept what a cluster refuses.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support import secret_cases
from tests.support.real_cluster import ControlPlane


@pytest.mark.parametrize(
    ("name", "body", "fields"), secret_cases.REFUSED, ids=[c[0] for c in secret_cases.REFUSED]
)
def test_the_real_server_refuses_the_same_secrets(
    cluster: ControlPlane, namespace: str, name: str, body: dict[str, Any], fields: set[str]
) -> None:
    status, answer = cluster.request("POST", f"/api/v1/namespaces/{namespace}/secrets", body)
    assert status == 422, (status, answer)
    causes = answer["details"]["causes"]
    named = {c["field"] for c in causes}
    # The real server names a label by key (metadata.labels: ...): compare the field's stem there.
    assert {f.split(":")[0].strip() for f in named} == fields or named == fields, named


def test_an_object_leaving_a_watch_selector_is_deleted_with_its_previous_state(
    cluster: ControlPlane, namespace: str
) -> None:
    """What the emulator sends a selected watch (tests/test_emulator_gaps.py::
    test_label_selectors_filter_lists_and_watches), on the real server: an object whose label is
    taken off arrives DELETED, as it was before the change (label still on) at the change's
    resourceVersion; one that gets the label arrives ADDED. The operator relies on both (a produced
    Secret whose label is taken off by hand is healed from that DELETED event)."""
    base = f"/api/v1/namespaces/{namespace}/secrets"
    for name in ("leaves", "joins"):
        labels = {"sel": "yes", "app": "a"} if name == "leaves" else {"app": "a"}
        status, _ = cluster.request(
            "POST", base, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "labels": labels}}
        )
        assert status == 201
    list_rv = cluster.get(base)["metadata"]["resourceVersion"]  # type: ignore[index]
    merge = "application/merge-patch+json"
    _, left = cluster.request("PATCH", f"{base}/leaves", {"metadata": {"labels": {"sel": None}}}, merge)
    _, joined = cluster.request("PATCH", f"{base}/joins", {"metadata": {"labels": {"sel": "yes"}}}, merge)
    status, text = cluster.request(
        "GET", f"{base}?watch=true&labelSelector=sel%3Dyes&resourceVersion={list_rv}&timeoutSeconds=2"
    )
    assert status == 200
    events = [json.loads(line) for line in str(text).splitlines() if line.strip()]
    seen = [(e["type"], e["object"]["metadata"]["name"]) for e in events]
    assert seen == [("DELETED", "leaves"), ("ADDED", "joins")], seen
    deleted, added = events[0]["object"]["metadata"], events[1]["object"]["metadata"]
    assert deleted["labels"] == {"sel": "yes", "app": "a"}  # the state that matched
    assert deleted["resourceVersion"] == left["metadata"]["resourceVersion"]  # the change's
    assert added["labels"] == {"sel": "yes", "app": "a"}
    assert added["resourceVersion"] == joined["metadata"]["resourceVersion"]
