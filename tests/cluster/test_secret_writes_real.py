"""What the real API server refuses in Secret writes, and the preconditions it applies.

Each test fails on the code before the fix: a refused Secret was a transient ApiError retried
forever with a Warning each time; immutable true -> false was sent and refused forever; a type
change was ignored while Ready stayed True; the status "uid precondition" was a merge-patch field
the status subresource drops; deletion had no precondition; writes had no field manager.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from secretsync import kube
from tests.cluster.conftest import OperatorStarter, wait_for
from tests.support.external_env import API
from tests.support.real_cluster import ControlPlane


def _store(namespace: str, data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "SecretStore",
        "metadata": {"name": "fake", "namespace": namespace},
        "spec": {"provider": {"fake": {"data": [{"key": k, "value": v} for k, v in data.items()]}}},
    }


def _es(namespace: str, name: str, target: dict[str, Any], keys: tuple[str, ...] = ("k",)) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "ExternalSecret",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "secretStoreRef": {"name": "fake"},
            "refreshInterval": "1s",
            "target": {"name": name, **target},
            "data": [{"secretKey": k, "remoteRef": {"key": k}} for k in keys],
        },
    }


def _condition(cluster: ControlPlane, namespace: str, name: str) -> dict[str, Any] | None:
    body = cluster.get(f"/apis/secretsync.io/v1alpha1/namespaces/{namespace}/externalsecrets/{name}") or {}
    for cond in (body.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return dict(cond)
    return None


def _reason(cluster: ControlPlane, namespace: str, name: str, reason: str) -> dict[str, Any]:
    found: dict[str, Any] = wait_for(
        lambda: (c := _condition(cluster, namespace, name)) and c["reason"] == reason and c,
        30,
        f"{name} reason={reason}",
    )
    return found


def _warnings(cluster: ControlPlane, namespace: str, name: str) -> int:
    events = json.loads(cluster.kubectl("get", "events", "-n", namespace, "-o", "json").stdout)["items"]
    return sum(
        int(e.get("count") or 1)
        for e in events
        if e.get("type") == "Warning" and (e.get("involvedObject") or {}).get("name") == name
    )


@pytest.mark.parametrize(
    ("target", "keys", "needle"),
    [
        (
            {"template": {"type": "kubernetes.io/tls", "data": {"tls.crt": "{{ .k }}"}}},
            ("k",),
            "needs the key tls.crt and tls.key",
        ),
        (
            {
                "template": {
                    "type": "kubernetes.io/dockerconfigjson",
                    "data": {".dockerconfigjson": "{{ .k }}"},
                }
            },
            ("k",),
            "must be a JSON object",
        ),
        ({"template": {"metadata": {"labels": {"app": "x" * 64}}}}, ("k",), "is not a valid label value"),
        ({}, ("big1", "big2"), "a Secret holds at most 1 MiB"),  # two 600 KB values
    ],
)
def test_a_secret_the_server_would_refuse_is_a_spec_error_not_a_retry_loop(
    cluster: ControlPlane,
    start_operator: OperatorStarter,
    namespace: str,
    target: dict[str, Any],
    keys: tuple[str, ...],
    needle: str,
) -> None:
    start_operator()
    cluster.apply(_store(namespace, {"k": "v", "big1": "x" * 600_000, "big2": "y" * 600_000}))
    cluster.apply(_es(namespace, "bad", target, keys))
    cond = _reason(cluster, namespace, "bad", "InvalidSecret")
    assert needle in cond["message"], cond["message"]
    first = _warnings(cluster, namespace, "bad")
    time.sleep(4)  # four refresh intervals: a retry loop would post a Warning each time
    assert _warnings(cluster, namespace, "bad") == first
    assert cluster.get(f"/api/v1/namespaces/{namespace}/secrets/bad") is None


def test_immutable_and_type_changes_are_reported_not_retried(
    cluster: ControlPlane, start_operator: OperatorStarter, namespace: str
) -> None:
    start_operator()
    cluster.apply(_store(namespace, {"username": "u", "k": "v"}))
    cluster.apply(_es(namespace, "frozen", {"immutable": True}))
    cluster.apply(
        _es(
            namespace,
            "typed",
            {"template": {"type": "Opaque", "data": {"username": "{{ .username }}"}}},
            ("username",),
        )
    )
    wait_for(
        lambda: (c := _condition(cluster, namespace, "frozen")) and c["status"] == "True", 30, "frozen synced"
    )
    wait_for(
        lambda: (c := _condition(cluster, namespace, "typed")) and c["status"] == "True", 30, "typed synced"
    )
    frozen = cluster.get(f"/api/v1/namespaces/{namespace}/secrets/frozen") or {}
    assert frozen.get("immutable") is True

    cluster.request(
        "PATCH",
        f"/apis/secretsync.io/v1alpha1/namespaces/{namespace}/externalsecrets/frozen",
        {"spec": {"target": {"immutable": False}}},
        content_type="application/merge-patch+json",
    )
    cond = _reason(cluster, namespace, "frozen", "ImmutableSecretChanged")
    assert "immutability cannot be undone" in cond["message"]

    cluster.request(
        "PATCH",
        f"/apis/secretsync.io/v1alpha1/namespaces/{namespace}/externalsecrets/typed",
        {"spec": {"target": {"template": {"type": "kubernetes.io/basic-auth"}}}},
        content_type="application/merge-patch+json",
    )
    cond = _reason(cluster, namespace, "typed", "InvalidSecret")
    assert "a Secret's type cannot change" in cond["message"]
    first = _warnings(cluster, namespace, "typed") + _warnings(cluster, namespace, "frozen")
    time.sleep(4)
    assert _warnings(cluster, namespace, "typed") + _warnings(cluster, namespace, "frozen") == first


def test_writes_name_their_field_manager(
    cluster: ControlPlane, start_operator: OperatorStarter, namespace: str
) -> None:
    start_operator()
    cluster.apply(_store(namespace, {"k": "v"}))
    cluster.apply(_es(namespace, "managed", {}))
    wait_for(lambda: cluster.get(f"/api/v1/namespaces/{namespace}/secrets/managed"), 30, "the Secret")
    secret = cluster.get(f"/api/v1/namespaces/{namespace}/secrets/managed") or {}
    managers = {entry["manager"] for entry in secret["metadata"].get("managedFields") or []}
    assert managers == {"secretsync"}, managers
    es = cluster.get(f"/apis/secretsync.io/v1alpha1/namespaces/{namespace}/externalsecrets/managed") or {}
    status_managers = {
        e["manager"] for e in es["metadata"]["managedFields"] if e.get("subresource") == "status"
    }
    assert status_managers == {"secretsync"}, status_managers


def _api(cluster: ControlPlane) -> kube.KubeApi:
    return kube.KubeApi(kube.load_connection(str(cluster.admin_kubeconfig)))


def test_the_status_uid_precondition_is_one_the_server_applies(
    cluster: ControlPlane, installed: ControlPlane, namespace: str
) -> None:
    cluster.apply(_store(namespace, {"k": "v"}))
    store = cluster.get(f"/apis/secretsync.io/v1alpha1/namespaces/{namespace}/secretstores/fake") or {}
    path = kube.path_for("secretsync.io/v1alpha1", "secretstores", namespace, "fake", "status")
    status = {
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "Valid",
                "message": "m",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
            }
        ]
    }

    async def go() -> None:
        api = _api(cluster)
        try:
            # What the old code sent: the server drops metadata from a status patch, so a wrong uid
            # was no precondition at all.
            await api.merge_patch(path, {"metadata": {"uid": "not-this-object"}, "status": status})
            # The real server answers the failed uid test with 422; write_status reads the object
            # back and calls it what it is: another object now (a Conflict, nothing to report).
            with pytest.raises(kube.Conflict, match="replaced meanwhile"):
                await api.write_status(path, "not-this-object", status)
            await api.write_status(path, store["metadata"]["uid"], status)
        finally:
            await api.close()

    asyncio.run(go())


def test_deleting_with_preconditions(cluster: ControlPlane, namespace: str) -> None:
    cluster.kubectl("create", "secret", "generic", "doomed", "-n", namespace, "--from-literal=k=v")
    secret = cluster.get(f"/api/v1/namespaces/{namespace}/secrets/doomed") or {}
    path = kube.path_for("v1", "secrets", namespace, "doomed")

    async def go() -> None:
        api = _api(cluster)
        try:
            with pytest.raises(kube.Conflict):
                await api.delete(path, uid=secret["metadata"]["uid"], resource_version="1")  # changed since
            assert cluster.get(f"/api/v1/namespaces/{namespace}/secrets/doomed") is not None
            await api.delete(
                path, uid=secret["metadata"]["uid"], resource_version=secret["metadata"]["resourceVersion"]
            )
        finally:
            await api.close()

    asyncio.run(go())
    assert cluster.get(f"/api/v1/namespaces/{namespace}/secrets/doomed") is None


def test_a_refused_write_is_invalid_and_names_fields_never_values(
    cluster: ControlPlane, namespace: str
) -> None:
    """kube.Invalid carries the fields the server names, not its message (which may quote a value)."""
    canary = "canary-422-Vb7k"
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "bad", "labels": {"app": canary + "x" * 60}},
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "Y2VydA=="},
    }

    async def go() -> None:
        api = _api(cluster)
        try:
            with pytest.raises(kube.Invalid) as info:
                await api.create(kube.path_for("v1", "secrets", namespace), body)
            assert "data[tls.key] (FieldValueRequired)" in str(info.value)
            assert "metadata.labels" in str(info.value) and canary not in str(info.value)
        finally:
            await api.close()

    asyncio.run(go())
