"""secretsync/status.py: the behaviour mutation testing found untested (docs/testing.md, "Mutation testing").

``intent_digest`` decides which watch events are the operator's own echo; ``build_synced`` is
the status Argo CD's bitnami.com health check reads; ``flipped`` decides when an event fires.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from secretsync import status

T0 = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(minutes=5)


def test_intent_digest_is_the_sha256_of_labels_annotations_and_spec() -> None:
    body = {
        "metadata": {"name": "n", "labels": {"b": "2", "a": "1"}, "annotations": {"x": "y"}, "generation": 3},
        "spec": {"encryptedData": {"k": "v"}, "template": {"type": "Opaque"}},
        "status": {"observedGeneration": 3},
    }
    payload = [
        {"a": "1", "b": "2"},
        {"x": "y"},
        {"encryptedData": {"k": "v"}, "template": {"type": "Opaque"}},
    ]
    expected = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    assert status.intent_digest(body) == expected
    # status and the rest of metadata are not part of it; each of the three is
    same = {**body, "status": {"observedGeneration": 4}, "metadata": {**body["metadata"], "generation": 9}}
    assert status.intent_digest(same) == expected
    for changed in (
        {**body, "spec": {"encryptedData": {"k": "w"}}},
        {**body, "metadata": {**body["metadata"], "labels": {"a": "1"}}},
        {**body, "metadata": {**body["metadata"], "annotations": {"x": "z"}}},
    ):
        assert status.intent_digest(changed) != expected
    none = hashlib.sha256(json.dumps([None, None, None]).encode()).hexdigest()
    assert status.intent_digest({"metadata": "not a mapping"}) == none
    assert status.intent_digest({}) == none


def test_now_is_written_in_utc_whatever_the_local_zone(tokyo: None) -> None:
    written = dt.datetime.strptime(status.now_iso(), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert abs(written - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def test_the_first_synced_condition() -> None:
    assert status.build_synced(None, ready=False, message="bad key", generation=2, now=T0) == {
        "conditions": [
            {
                "type": "Synced",
                "status": "False",
                "message": "bad key",
                "lastTransitionTime": "2030-01-02T03:04:05Z",
                "lastUpdateTime": "2030-01-02T03:04:05Z",
            }
        ],
        "observedGeneration": 2,
    }
    ok = status.build_synced(None, ready=True, message="m", generation=None, now=T0)
    assert "observedGeneration" not in ok
    assert ok["conditions"][0]["status"] == "True"


def test_synced_times_move_only_when_something_changed() -> None:
    first = status.build_synced({"other": 1}, ready=True, message="m", generation=1, now=T0)
    assert first["other"] == 1
    assert status.build_synced(first, ready=True, message="m", generation=1, now=T1) == first
    stamp0, stamp1 = "2030-01-02T03:04:05Z", "2030-01-02T03:09:05Z"
    # a new message or generation: lastUpdateTime moves, lastTransitionTime stays
    for message, generation in (("other", 1), ("m", 2)):
        (cond,) = status.build_synced(first, ready=True, message=message, generation=generation, now=T1)[
            "conditions"
        ]
        assert (cond["lastTransitionTime"], cond["lastUpdateTime"], cond["message"]) == (
            stamp0,
            stamp1,
            message,
        )
    # a flip moves both
    (cond,) = status.build_synced(first, ready=False, message="m", generation=1, now=T1)["conditions"]
    assert (cond["status"], cond["lastTransitionTime"], cond["lastUpdateTime"]) == ("False", stamp1, stamp1)
    # an old condition missing its times gets them now
    bare = {"conditions": [{"type": "Synced", "status": "True", "message": "m"}], "observedGeneration": 1}
    (cond,) = status.build_synced(bare, ready=True, message="m", generation=1, now=T1)["conditions"]
    assert (cond["lastTransitionTime"], cond["lastUpdateTime"]) == (stamp1, stamp1)


def test_synced_replaces_its_own_condition_in_place_and_keeps_the_others() -> None:
    other = {"type": "Other", "status": "True"}
    previous = {
        "conditions": [other, {"type": "Synced", "status": "True", "message": "m"}, "junk"],
        "observedGeneration": 1,
    }
    new = status.build_synced(previous, ready=True, message="m2", generation=1, now=T0)
    assert [c["type"] for c in new["conditions"]] == ["Other", "Synced"]
    assert new["conditions"][0] is other
    assert new["conditions"][1]["message"] == "m2"
    appended = status.build_synced({"conditions": [other]}, ready=True, message="m", generation=None, now=T0)
    assert [c["type"] for c in appended["conditions"]] == ["Other", "Synced"]


def test_ready_false_is_spelled_false() -> None:
    built = status.build(None, ready=False, reason="R", message="m", generation=None, now=T0)
    assert built["conditions"][0]["status"] == "False"


def test_build_keeps_every_previous_field_but_replaces_the_conditions() -> None:
    previous = {"conditions": [{"type": "Ready", "status": "True", "reason": "Old"}], "keep": 1}
    built = status.build(previous, ready=True, reason="New", message="m", generation=None, now=T0)
    assert built["keep"] == 1
    assert [c["reason"] for c in built["conditions"]] == ["New"]


def test_ready_of_skips_conditions_that_are_not_objects() -> None:
    assert status.ready_of({"conditions": ["Ready", {"type": "Ready", "status": "True"}]}) == {
        "type": "Ready",
        "status": "True",
    }


def test_flipped_looks_at_the_condition_type_it_is_given() -> None:
    previous = {"conditions": [{"type": "Synced", "status": "True", "reason": "A"}]}
    same = {"conditions": [{"type": "Synced", "status": "True", "reason": "A"}]}
    assert not status.flipped(previous, same, "Synced")
    assert status.flipped(
        previous, {"conditions": [{"type": "Synced", "status": "False", "reason": "A"}]}, "Synced"
    )
    assert status.flipped(
        previous, {"conditions": [{"type": "Synced", "status": "True", "reason": "B"}]}, "Synced"
    )
    # only a Ready condition counts by default
    assert not status.flipped(previous, {"conditions": [{"type": "Synced", "status": "False"}]})
