"""The SealedSecret controller's rules for the Secret it writes, on their own (no operator, no API).

Bitnami v0.36.0 is the reference: pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go
``Unseal`` (the ownerReference unless the template skips it) and pkg/controller/controller.go
``unseal`` (an existing Secret's data, labels, annotations and ownerReferences replaced).
End to end: test_sealed_operator.py.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from secretsync import crypto, kube, ownership, sealing
from secretsync.sealed import SKIP_OWNER_ANNOTATION, SealedController, replace_secret, skips_owner_reference
from tests.test_crypto import vector_key

MANAGED = "sealedsecrets.bitnami.com/managed"


def _sealed(api_version: str = sealing.API_VERSION, uid: str = "u-1", **template_meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": "SealedSecret",
        "metadata": {"name": "s", "namespace": "ns", "uid": uid},
        "spec": {"template": {"metadata": template_meta}},
    }


def _existing(**meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "ns", "resourceVersion": "7", "uid": "secret-uid", **meta},
        "type": "Opaque",
        "data": {"old": "b2xk"},
    }


@pytest.mark.parametrize(
    ("annotations", "skips"),
    [
        ({SKIP_OWNER_ANNOTATION: "true"}, True),
        ({SKIP_OWNER_ANNOTATION: "True"}, False),  # Go compares with "true" exactly
        ({SKIP_OWNER_ANNOTATION: "yes"}, False),
        ({SKIP_OWNER_ANNOTATION: ""}, False),
        ({}, False),
    ],
)
def test_skip_set_owner_references_is_exactly_true(annotations: dict[str, str], skips: bool) -> None:
    assert skips_owner_reference({"metadata": {"annotations": annotations}}) is skips


def test_only_the_templates_annotation_skips_the_owner_reference() -> None:
    """Bitnami reads s.Spec.Template.Annotations: on the SealedSecret's own metadata it does nothing."""
    key = vector_key(2048)
    plain = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "ns"},
             "stringData": {"k": "v"}}  # fmt: skip
    sealed = sealing.seal_secret(plain, crypto.Sealer(key.public_key()))
    ring = crypto.KeyRing([crypto.KeyEntry.from_key(key)])
    sealed["metadata"].setdefault("annotations", {})[SKIP_OWNER_ANNOTATION] = "true"
    desired = sealing.build_secret(sealed, sealing.unseal(sealed, ring))
    assert not skips_owner_reference(desired)
    sealed["spec"].setdefault("template", {}).setdefault("metadata", {})["annotations"] = {
        SKIP_OWNER_ANNOTATION: "true"
    }
    desired = sealing.build_secret(sealed, sealing.unseal(sealed, ring))
    assert skips_owner_reference(desired)


def test_adoption_replaces_labels_annotations_and_owner_references() -> None:
    """controller.go unseal, the non-patch branch: nothing of the adopted Secret's metadata stays."""
    sealed = _sealed()
    owner = kube.controller_reference(sealed)
    stranger = {"apiVersion": "v1", "kind": "ConfigMap", "name": "c", "uid": "c-1"}
    existing = _existing(
        labels={"stale": "x", "app": "old"},
        annotations={MANAGED: "true", "secretsync.io/managed": "true", "note": "by hand"},
        ownerReferences=[stranger],
    )
    desired = {
        "metadata": {"name": "s", "namespace": "ns", "labels": {"app": "db"}, "ownerReferences": [owner]},
        "type": "Opaque",
        "data": {"k": base64.b64encode(b"v").decode()},
    }
    out = replace_secret(existing, desired)
    assert out["metadata"]["labels"] == {"app": "db"}
    assert "annotations" not in out["metadata"]  # the managed annotations go too, as in Bitnami
    assert out["metadata"]["ownerReferences"] == [owner]
    assert out["data"] == desired["data"]
    assert out["metadata"]["resourceVersion"] == "7"  # the write is conditional on what was read
    assert existing["metadata"]["labels"] == {"stale": "x", "app": "old"}  # not modified in place


def test_an_owner_reference_already_ours_is_kept_as_stored() -> None:
    """Bitnami's reference has no blockOwnerDeletion: taking over from Bitnami rewrites nothing."""
    sealed = _sealed(sealing.BITNAMI_API_VERSION)
    bitnamis = {"apiVersion": sealing.BITNAMI_API_VERSION, "kind": "SealedSecret", "name": "s",
                "uid": "u-1", "controller": True}  # fmt: skip
    existing = _existing(ownerReferences=[bitnamis], annotations={"a": "1"})
    desired = {**existing, "metadata": {"name": "s", "namespace": "ns", "annotations": {"a": "1"},
                                        "ownerReferences": [kube.controller_reference(sealed)]}}  # fmt: skip
    assert kube.same_secret(existing, replace_secret(existing, desired))


def test_skipping_the_owner_reference_drops_ours() -> None:
    """A template that starts skipping it: Bitnami sets OwnerReferences to the (empty) unsealed ones."""
    sealed = _sealed()
    existing = _existing(ownerReferences=[kube.controller_reference(sealed)])
    mark = {
        SKIP_OWNER_ANNOTATION: "true",
        ownership.SEALED_OWNER_ANNOTATION: ownership.sealed_owner_mark(sealed),
    }
    out = replace_secret(existing, {"metadata": {"name": "s", "annotations": mark}, "data": {}})
    assert "ownerReferences" not in out["metadata"]
    assert out["metadata"]["annotations"] == mark
    assert ownership.controls(out, sealed)


class _Api:
    """Answers GETs of SealedSecrets from a dict: path -> body (absent: None, as a 404)."""

    def __init__(self, objects: dict[str, dict[str, Any]], fail: bool = False) -> None:
        self.objects, self.fail, self.paths = objects, fail, list[str]()

    async def get(self, path: str) -> dict[str, Any] | None:
        self.paths.append(path)
        if self.fail:
            raise kube.ApiError(403, "Forbidden", "no")
        return self.objects.get(path)


def _controller(api: _Api, group_version: str = sealing.API_VERSION) -> SealedController:
    return SealedController(api, None, None, None, group_version=group_version)  # type: ignore[arg-type]


async def test_a_mark_of_the_same_group_with_another_uid_is_stale_without_asking() -> None:
    """Names are unique per group: the SealedSecret of this name now is the writer itself."""
    api = _Api({})
    controller = _controller(api)
    old = _existing(annotations={ownership.SEALED_OWNER_ANNOTATION: f"{sealing.API_VERSION}/u-old"})
    assert await controller._stale_mark(old, _sealed(uid="u-new"))
    mine = _existing(annotations={ownership.SEALED_OWNER_ANNOTATION: f"{sealing.API_VERSION}/u-new"})
    assert not await controller._stale_mark(mine, _sealed(uid="u-new"))
    assert not await controller._stale_mark(_existing(), _sealed(uid="u-new"))
    assert api.paths == []


async def test_a_mark_of_the_other_group_stands_while_that_sealed_secret_exists() -> None:
    """Compatibility mode serves both groups: a bitnami.com SealedSecret and a secretsync.io one of
    the same name both want the Secret; the one that marked it keeps it while it exists."""
    path = kube.path_for(sealing.BITNAMI_API_VERSION, "sealedsecrets", "ns", "s")
    marked = _existing(annotations={ownership.SEALED_OWNER_ANNOTATION: f"{sealing.BITNAMI_API_VERSION}/u-b"})
    ours = _sealed(uid="u-ours")
    live = _Api({path: _sealed(sealing.BITNAMI_API_VERSION, uid="u-b")})
    assert not await _controller(live)._stale_mark(marked, ours)
    assert live.paths == [path]
    assert await _controller(_Api({}))._stale_mark(marked, ours)  # gone
    replaced = _Api({path: _sealed(sealing.BITNAMI_API_VERSION, uid="u-b2")})
    assert await _controller(replaced)._stale_mark(marked, ours)  # re-created: another object
    with pytest.raises(kube.ApiError):
        await _controller(_Api({}, fail=True))._stale_mark(marked, ours)
