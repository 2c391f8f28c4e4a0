"""The API emulator's own tests: one per gap of kmock 0.8 that breaks kopf or ``kubernetes``.

The gap tests go through HTTP only (the official client or raw requests), never through the
emulator's Python helpers, so they can also run against kmock as shipped:
``SECRETSYNC_KUBE_EMULATOR=kmock-plain pytest tests/test_emulator_gaps.py`` must fail them.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import functools
import http.client
import http.server
import json
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import kmock
import kopf
import pytest
import urllib3
from kopf.testing import KopfRunner
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from tests.support import secret_cases
from tests.support.kube_emulator import KubeEmulator, ResourceDef, wait_for

GROUP = "emulator.secretsync.test"
WIDGETS = (GROUP, "v1", "widgets")


def widget(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/v1", "kind": "Widget", "metadata": {"name": name}, "spec": spec}


def secret(name: str, labels: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "labels": labels or {}},
        "stringData": data,
    }


def api_status(call: Callable[[], Any]) -> int:
    """The HTTP status of an API call that is expected to fail."""
    with pytest.raises(ApiException) as info:
        call()
    return int(info.value.status)


def collect_watch(
    list_fn: Callable[..., Any], *args: Any, count: int, timeout: float = 2.0, **kwargs: Any
) -> list[tuple[str, str]]:
    """(type, name) of up to ``count`` watch events; bounded in time even if the server ignores
    ``timeoutSeconds`` (plain kmock does), so a missing event fails the test instead of hanging it."""
    events: list[tuple[str, str]] = []
    watcher = watch.Watch()
    try:
        for event in watcher.stream(
            list_fn, *args, timeout_seconds=int(timeout), _request_timeout=timeout + 1, **kwargs
        ):
            obj = event["object"]
            name = obj["metadata"]["name"] if isinstance(obj, dict) else obj.metadata.name
            events.append((event["type"], name))
            if len(events) >= count:
                break
    except urllib3.exceptions.ReadTimeoutError:
        pass
    finally:
        watcher.stop()
    return events


@pytest.fixture
def core(kube_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(kube_client)


@pytest.fixture
def custom(kube_client: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(kube_client)


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Every emulator, watch and operator thread started by a test must be gone after it."""
    before = set(threading.enumerate())
    yield
    wait_for(
        lambda: not (set(threading.enumerate()) - before) or None,
        timeout=5,
        message=f"threads of the test to end (alive at teardown: {set(threading.enumerate()) - before})",
        ignore=(),
    )


# ---- gap 1: server-maintained metadata -----------------------------------------------------------


def test_objects_get_resource_version_uid_timestamp_and_generation(custom: client.CustomObjectsApi) -> None:
    custom.create_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], widget("w", size=1))
    meta = custom.get_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], "w")["metadata"]
    assert meta.get("uid") and meta.get("creationTimestamp", "").endswith("Z")
    assert meta["generation"] == 1
    rvs = [meta["resourceVersion"]]

    def patch(body: dict[str, Any], subresource: str = "") -> dict[str, Any]:
        fn = (
            custom.patch_namespaced_custom_object_status
            if subresource
            else custom.patch_namespaced_custom_object
        )
        result: dict[str, Any] = fn(*WIDGETS[:2], "default", WIDGETS[2], "w", body)
        rvs.append(result["metadata"]["resourceVersion"])
        return result

    assert patch({"metadata": {"labels": {"a": "b"}}})["metadata"]["generation"] == 1  # metadata only
    assert patch({"spec": {"size": 2}})["metadata"]["generation"] == 2  # spec changed
    assert patch({"status": {"ready": True}}, subresource="status")["metadata"]["generation"] == 2
    assert len(set(rvs)) == len(rvs), "every write must produce a new resourceVersion"
    assert [int(rv) for rv in rvs] == sorted(int(rv) for rv in rvs)
    unchanged = patch({"spec": {"size": 2}})
    assert unchanged["metadata"]["resourceVersion"] == rvs[-2], "a no-op write keeps the resourceVersion"


def test_built_in_objects_have_no_generation_but_do_have_resource_versions(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_secret("default", secret("s", key="v"))
    assert created.metadata.resource_version and created.metadata.uid and created.metadata.creation_timestamp
    assert created.metadata.generation is None
    assert created.data == {"key": base64.b64encode(b"v").decode()}, "stringData is folded into data"
    assert created.type == "Opaque"
    frozen = core.create_namespaced_secret("default", {**secret("frozen", key="v"), "immutable": True})
    assert (
        api_status(lambda: core.patch_namespaced_secret("frozen", "default", {"stringData": {"key": "w"}}))
        == 422
    )
    assert frozen.metadata.name == "frozen"


# ---- gap 2: list resourceVersion and watch continuation -------------------------------------------


def test_watch_from_a_list_resource_version_replays_everything_after_it(
    custom: client.CustomObjectsApi,
) -> None:
    custom.create_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], widget("old"))
    listing = custom.list_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2])
    list_rv = listing["metadata"]["resourceVersion"]
    assert [item["metadata"]["name"] for item in listing["items"]] == ["old"]

    # Written after the list and before the watch starts: exactly what kopf must not lose.
    custom.create_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], widget("new"))
    custom.patch_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], "old", {"spec": {"x": 1}})
    custom.delete_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], "new")

    events = collect_watch(
        custom.list_namespaced_custom_object,
        *WIDGETS[:2],
        "default",
        WIDGETS[2],
        count=3,
        resource_version=list_rv,
    )
    assert events == [("ADDED", "new"), ("MODIFIED", "old"), ("DELETED", "new")]


def test_watch_continues_with_live_events_after_the_replay(
    kube_emulator: KubeEmulator, custom: client.CustomObjectsApi
) -> None:
    list_rv = custom.list_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2])["metadata"][
        "resourceVersion"
    ]
    custom.create_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], widget("replayed"))

    def create_later() -> None:
        time.sleep(0.2)
        kube_emulator.request("POST", f"/apis/{GROUP}/v1/namespaces/default/widgets", widget("live"))

    writer = threading.Thread(target=create_later)
    writer.start()
    events = collect_watch(
        custom.list_namespaced_custom_object,
        *WIDGETS[:2],
        "default",
        WIDGETS[2],
        count=2,
        resource_version=list_rv,
    )
    writer.join()
    assert events == [("ADDED", "replayed"), ("ADDED", "live")]


def test_watch_without_resource_version_starts_with_the_current_objects(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map("default", {"metadata": {"name": "cm"}, "data": {"a": "b"}})
    events = collect_watch(core.list_namespaced_config_map, "default", count=1, timeout=1)
    assert events == [("ADDED", "cm")]


def test_a_too_old_resource_version_gets_410_gone(kube_emulator: KubeEmulator) -> None:
    kube_emulator.layer.max_events = 2
    for name in ("a", "b", "c", "d"):
        kube_emulator.request("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": name}})
    status, body = kube_emulator.request(
        "GET", "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1"
    )
    assert status == 200
    assert body["type"] == "ERROR" and body["object"]["code"] == 410  # kopf relists on this


# ---- gap 3: namespaces ----------------------------------------------------------------------------


def test_namespaces_are_a_cluster_scoped_resource(core: client.CoreV1Api) -> None:
    assert "default" in [ns.metadata.name for ns in core.list_namespace().items]
    assert core.read_namespace("default").status.phase == "Active"
    created = core.create_namespace({"metadata": {"name": "team-a"}})
    assert created.metadata.uid and created.metadata.labels == {"kubernetes.io/metadata.name": "team-a"}
    assert core.read_namespace("team-a").metadata.uid == created.metadata.uid
    assert api_status(lambda: core.read_namespace("missing")) == 404


def test_objects_cannot_be_created_in_a_missing_namespace(core: client.CoreV1Api) -> None:
    assert api_status(lambda: core.create_namespaced_secret("nowhere", secret("s"))) == 404


def test_deleting_a_namespace_deletes_its_contents(
    core: client.CoreV1Api, custom: client.CustomObjectsApi
) -> None:
    core.create_namespace({"metadata": {"name": "doomed"}})
    core.create_namespaced_secret("doomed", secret("s"))
    held = widget("held")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    custom.create_namespaced_custom_object(*WIDGETS[:2], "doomed", WIDGETS[2], held)

    core.delete_namespace("doomed")
    assert core.read_namespace("doomed").status.phase == "Terminating"  # a finalizer holds the widget
    assert api_status(lambda: core.read_namespaced_secret("s", "doomed")) == 404
    assert api_status(lambda: core.create_namespaced_secret("doomed", secret("late"))) == 403

    custom.patch_namespaced_custom_object(
        *WIDGETS[:2], "doomed", WIDGETS[2], "held", {"metadata": {"finalizers": None}}
    )
    assert api_status(lambda: core.read_namespace("doomed")) == 404


# ---- gap 4: PUT -----------------------------------------------------------------------------------


def test_replace_checks_the_resource_version(core: client.CoreV1Api, custom: client.CustomObjectsApi) -> None:
    created = core.create_namespaced_secret("default", secret("s", key="v1"))
    created.string_data = {"key": "v2"}
    replaced = core.replace_namespaced_secret("s", "default", created)
    assert replaced.data == {"key": base64.b64encode(b"v2").decode()}
    assert replaced.metadata.resource_version != created.metadata.resource_version
    assert replaced.metadata.uid == created.metadata.uid

    created.string_data = {"key": "stale"}  # still carries the old resourceVersion
    assert api_status(lambda: core.replace_namespaced_secret("s", "default", created)) == 409

    body = custom.create_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], widget("w"))
    del body["metadata"]["resourceVersion"]  # custom resources require one on PUT
    assert (
        api_status(
            lambda: custom.replace_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], "w", body)
        )
        == 422
    )


# ---- gap 5: 201 on create -------------------------------------------------------------------------


def test_create_returns_201_and_the_object(core: client.CoreV1Api, custom: client.CustomObjectsApi) -> None:
    _, status, _ = core.create_namespaced_config_map_with_http_info("default", {"metadata": {"name": "cm"}})
    assert status == 201
    created = custom.create_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], widget("w"))
    assert created is not None and created["metadata"]["name"] == "w"
    assert (
        api_status(lambda: core.create_namespaced_config_map("default", {"metadata": {"name": "cm"}})) == 409
    )


# ---- gap 6: generateName --------------------------------------------------------------------------


def test_generate_name_gives_unique_names(core: client.CoreV1Api) -> None:
    names = {
        core.create_namespaced_event(
            "default", {"metadata": {"generateName": "kopf-event-"}, "involvedObject": {"name": "x"}}
        ).metadata.name
        for _ in range(3)
    }
    assert len(names) == 3
    assert all(name.startswith("kopf-event-") and len(name) == len("kopf-event-") + 5 for name in names)


# ---- gap 7: JSON patch ------------------------------------------------------------------------------


def test_failed_json_patch_test_is_422_and_a_passing_one_applies(custom: client.CustomObjectsApi) -> None:
    created = custom.create_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], widget("w"))
    rv = created["metadata"]["resourceVersion"]

    def json_patch(ops: list[dict[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = custom.patch_namespaced_custom_object(
            *WIDGETS[:2], "default", WIDGETS[2], "w", ops, _content_type="application/json-patch+json"
        )
        return result

    # kopf adds and removes finalizers exactly like this: optimistic concurrency via a `test` op.
    stale = [{"op": "test", "path": "/metadata/resourceVersion", "value": "0"}]
    assert (
        api_status(
            lambda: json_patch([*stale, {"op": "add", "path": "/metadata/finalizers", "value": ["f"]}])
        )
        == 422
    )
    fresh = [{"op": "test", "path": "/metadata/resourceVersion", "value": rv}]
    patched = json_patch([*fresh, {"op": "add", "path": "/metadata/finalizers", "value": ["f"]}])
    assert patched["metadata"]["finalizers"] == ["f"]


def test_patch_content_types_behave_as_on_a_real_server(
    core: client.CoreV1Api, custom: client.CustomObjectsApi
) -> None:
    core.create_namespaced_secret("default", secret("s", labels={"a": "1", "b": "2"}, key="v"))
    # kubernetes 37 sends dict patches of built-in kinds as strategic merge patches.
    patched = core.patch_namespaced_secret("s", "default", {"metadata": {"labels": {"a": None, "c": "3"}}})
    assert patched.metadata.labels == {"b": "2", "c": "3"}
    custom.create_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], widget("w", nested={"x": 1}))
    assert (
        api_status(
            lambda: custom.patch_namespaced_custom_object(
                *WIDGETS[:2],
                "default",
                WIDGETS[2],
                "w",
                {"spec": {}},
                _content_type="application/strategic-merge-patch+json",
            )
        )
        == 415
    )  # custom resources have no strategic merge patch
    assert (
        api_status(
            lambda: custom.patch_namespaced_custom_object(
                *WIDGETS[:2],
                "default",
                WIDGETS[2],
                "w",
                {"spec": {}},
                _content_type="application/apply-patch+yaml",
            )
        )
        == 415
    )  # server-side apply is not emulated: say so instead of pretending
    replaced = custom.patch_namespaced_custom_object(
        *WIDGETS[:2], "default", WIDGETS[2], "w", {"spec": {"nested": 5}}
    )
    assert replaced["spec"] == {"nested": 5}  # a merge patch may replace a map by a scalar


# ---- gap 8: CRDs ----------------------------------------------------------------------------------


def test_crds_from_yaml_are_served_with_their_discovery_details(kube_emulator: KubeEmulator) -> None:
    status, resources = kube_emulator.request("GET", f"/apis/{GROUP}/v1")
    assert status == 200
    by_name = {resource["name"]: resource for resource in resources["resources"]}
    assert {"widgets", "widgets/status", "gadgets"} <= set(by_name)
    assert "gadgets/status" not in by_name
    assert by_name["widgets"]["kind"] == "Widget" and by_name["widgets"]["namespaced"] is True
    assert by_name["widgets"]["shortNames"] == ["wdg"]
    assert by_name["gadgets"]["namespaced"] is False
    assert {"list", "watch", "patch"} <= set(by_name["widgets"]["verbs"])  # kopf serves only these
    status, group = kube_emulator.request("GET", f"/apis/{GROUP}")
    assert group["preferredVersion"]["version"] == "v1"  # v1 beats v1beta1
    status, crd = kube_emulator.request(
        "GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.{GROUP}"
    )
    assert (
        status == 200
        and {"type": "Established", "status": "True"}.items() <= crd["status"]["conditions"][1].items()
    )


def test_all_served_versions_share_the_same_objects(custom: client.CustomObjectsApi) -> None:
    custom.create_namespaced_custom_object(
        GROUP, "v1beta1", "default", "widgets", {**widget("w"), "apiVersion": f"{GROUP}/v1beta1"}
    )
    as_v1 = custom.get_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], "w")
    assert as_v1["apiVersion"] == f"{GROUP}/v1"


def test_a_crd_created_through_the_api_is_served(
    kube_client: client.ApiClient, custom: client.CustomObjectsApi
) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "things.late.example.com"},
        "spec": {
            "group": "late.example.com",
            "scope": "Namespaced",
            "names": {"plural": "things", "singular": "thing", "kind": "Thing", "shortNames": ["th"]},
            "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}}}],
        },
    }
    client.ApiextensionsV1Api(kube_client).create_custom_resource_definition(crd)
    thing = {
        "apiVersion": "late.example.com/v1",
        "kind": "Thing",
        "metadata": {"name": "t"},
        "status": {"x": 1},
    }
    created = custom.create_namespaced_custom_object("late.example.com", "v1", "default", "things", thing)
    assert "status" not in created  # the status subresource applies from the start

    client.ApiextensionsV1Api(kube_client).delete_custom_resource_definition("things.late.example.com")
    assert (
        api_status(
            lambda: custom.list_namespaced_custom_object("late.example.com", "v1", "default", "things")
        )
        == 404
    )


# ---- gap 9: the status subresource ----------------------------------------------------------------


def test_status_subresource_separates_status_from_the_rest(custom: client.CustomObjectsApi) -> None:
    custom.create_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], widget("w", size=1))
    after_status = custom.patch_namespaced_custom_object_status(
        *WIDGETS[:2], "default", WIDGETS[2], "w", {"spec": {"size": 99}, "status": {"phase": "Ready"}}
    )
    assert after_status["spec"] == {"size": 1}, "a /status write ignores everything but status"
    assert after_status["status"] == {"phase": "Ready"}

    after_main = custom.patch_namespaced_custom_object(
        *WIDGETS[:2], "default", WIDGETS[2], "w", {"spec": {"size": 2}, "status": {"phase": "Hacked"}}
    )
    assert after_main["status"] == {"phase": "Ready"}, "a main-resource write ignores status"
    assert after_main["metadata"]["generation"] == 2

    after_main["status"] = {"phase": "Hacked again"}
    replaced = custom.replace_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], "w", after_main)
    assert replaced["status"] == {"phase": "Ready"}


def test_without_a_status_subresource_status_is_part_of_the_object(custom: client.CustomObjectsApi) -> None:
    gadget = {
        "apiVersion": f"{GROUP}/v1",
        "kind": "Gadget",
        "metadata": {"name": "g"},
        "status": {"on": False},
    }
    assert custom.create_cluster_custom_object(GROUP, "v1", "gadgets", gadget)["status"] == {"on": False}
    patched = custom.patch_cluster_custom_object(GROUP, "v1", "gadgets", "g", {"status": {"on": True}})
    assert patched["status"] == {"on": True} and patched["metadata"]["generation"] == 2
    assert (
        api_status(lambda: custom.patch_cluster_custom_object_status(GROUP, "v1", "gadgets", "g", {})) == 404
    )


# ---- gap 10: finalizers -----------------------------------------------------------------------------


def test_delete_waits_for_finalizers(custom: client.CustomObjectsApi) -> None:
    body = widget("w")
    body["metadata"]["finalizers"] = ["example.com/cleanup"]
    created = custom.create_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], body)
    custom.delete_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], "w")
    marked = custom.get_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], "w")
    assert marked["metadata"]["deletionTimestamp"]
    assert marked["metadata"]["resourceVersion"] != created["metadata"]["resourceVersion"]
    with_new_finalizer = {"metadata": {"finalizers": ["example.com/cleanup", "example.com/another"]}}
    assert (
        api_status(
            lambda: custom.patch_namespaced_custom_object(
                *WIDGETS[:2], "default", WIDGETS[2], "w", with_new_finalizer
            )
        )
        == 422
    )  # no new finalizers on an object being deleted

    events_from = marked["metadata"]["resourceVersion"]
    custom.patch_namespaced_custom_object(
        *WIDGETS[:2], "default", WIDGETS[2], "w", {"metadata": {"finalizers": []}}
    )
    assert (
        api_status(lambda: custom.get_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], "w"))
        == 404
    )
    events = collect_watch(
        custom.list_namespaced_custom_object,
        *WIDGETS[:2],
        "default",
        WIDGETS[2],
        count=1,
        resource_version=events_from,
    )
    assert events == [("DELETED", "w")]


def test_deleting_an_owner_deletes_its_dependents(
    core: client.CoreV1Api, custom: client.CustomObjectsApi
) -> None:
    owner = custom.create_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], widget("owner"))
    ref = {"apiVersion": f"{GROUP}/v1", "kind": "Widget", "name": "owner", "uid": owner["metadata"]["uid"]}
    owned = secret("owned")
    owned["metadata"]["ownerReferences"] = [ref]
    core.create_namespaced_secret("default", owned)
    custom.delete_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], "owner")
    assert api_status(lambda: core.read_namespaced_secret("owned", "default")) == 404

    # A controller that raced the owner's deletion writes the dependent again: it is collected too.
    core.create_namespaced_secret("default", owned)
    assert api_status(lambda: core.read_namespaced_secret("owned", "default")) == 404
    # Owners of kinds the server does not know are left alone (the real collector cannot resolve them).
    unknown = secret("kept")
    unknown["metadata"]["ownerReferences"] = [
        {**ref, "apiVersion": "unknown.example.com/v1", "kind": "Thing"}
    ]
    core.create_namespaced_secret("default", unknown)
    assert core.read_namespaced_secret("kept", "default").metadata.owner_references


# ---- gap 11: built-in resources, TokenRequest and TokenReview -------------------------------------


def test_built_in_resources_are_discoverable(kube_emulator: KubeEmulator) -> None:
    def names(path: str) -> set[str]:
        status, body = kube_emulator.request("GET", path)
        assert status == 200, body
        return {resource["name"] for resource in body["resources"]}

    assert {
        "namespaces",
        "secrets",
        "events",
        "serviceaccounts",
        "serviceaccounts/token",
        "configmaps",
        "services",
    } <= names("/api/v1")
    assert "events" in names("/apis/events.k8s.io/v1")
    assert "leases" in names("/apis/coordination.k8s.io/v1")
    lease = {"metadata": {"name": "leader"}, "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15}}
    assert (
        kube_emulator.request("POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases", lease)[0]
        == 201
    )
    assert (
        kube_emulator.request("GET", "/apis/authentication.k8s.io/v1/tokenreviews")[0] == 405
    )  # create only
    assert "customresourcedefinitions" in names("/apis/apiextensions.k8s.io/v1")
    assert "tokenreviews" in names("/apis/authentication.k8s.io/v1")


def test_token_request_issues_a_token_that_token_review_accepts(
    kube_client: client.ApiClient, core: client.CoreV1Api
) -> None:
    sa = core.create_namespaced_service_account("default", {"metadata": {"name": "app"}})
    request = {"spec": {"audiences": ["openbao"], "expirationSeconds": 600}}
    token = core.create_namespaced_service_account_token("app", "default", request).status
    assert token.token.count(".") == 2 and token.expiration_timestamp

    auth = client.AuthenticationV1Api(kube_client)

    def review(jwt: str, audiences: list[str] | None = None) -> Any:
        spec = {"token": jwt, **({"audiences": audiences} if audiences else {})}
        return auth.create_token_review({"spec": spec}).status

    accepted = review(token.token, ["openbao"])
    assert accepted.authenticated is True
    assert accepted.user.username == "system:serviceaccount:default:app"
    assert accepted.user.uid == sa.metadata.uid
    assert review(token.token, ["someone-else"]).authenticated is False
    assert review("not-a-token").authenticated is False
    core.delete_namespaced_service_account("app", "default")
    assert review(token.token, ["openbao"]).authenticated is False


def test_openbao_kubernetes_auth_logs_in_with_an_emulator_token(
    kube_emulator: KubeEmulator, core: client.CoreV1Api, openbao: Any
) -> None:
    """The consumer TokenReview exists for: OpenBao parses the JWT, then asks the emulator."""
    import hvac.exceptions

    core.create_namespaced_service_account("default", {"metadata": {"name": "secretsync"}})
    mount = openbao.enable_kubernetes_auth(
        kube_emulator.url, role="secretsync", bound_sa_names=["secretsync"], audience="openbao"
    )
    request = {"spec": {"audiences": ["openbao"]}}
    jwt = core.create_namespaced_service_account_token("secretsync", "default", request).status.token
    login = openbao.client().auth.kubernetes.login("secretsync", jwt, mount_point=mount)
    assert login["auth"]["client_token"]
    assert login["auth"]["metadata"]["service_account_name"] == "secretsync"

    core.delete_namespaced_service_account("secretsync", "default")  # its tokens die with it
    with pytest.raises(hvac.exceptions.Forbidden):
        openbao.client().auth.kubernetes.login("secretsync", jwt, mount_point=mount)


def _http_get(
    emulator: KubeEmulator, path: str, token: str | None = None, timeout: float = 5
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    conn = http.client.HTTPConnection(emulator.url.removeprefix("http://"), timeout=timeout)
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
    return conn, conn.getresponse()


def test_bearer_tokens_are_authenticated_when_asked(
    kube_emulator: KubeEmulator, core: client.CoreV1Api
) -> None:
    """With ``authenticate`` on, as a real API server: a bearer token that is not (or no longer)
    valid gets 401 Unauthorized, whatever the path; the kubeconfig's token, a live issued token and
    anonymous requests pass. A watch opened before its token died is not cut (authentication happens
    when a request starts), and TokenReview says why a revoked token is refused."""
    core.create_namespaced_service_account("default", {"metadata": {"name": "app"}})
    request = {"spec": {"expirationSeconds": 600}}
    live = core.create_namespaced_service_account_token("app", "default", request).status.token
    doomed = core.create_namespaced_service_account_token("app", "default", request).status.token
    kube_emulator.layer.authenticate = True

    def status(token: str | None, path: str = "/api/v1/namespaces/default/secrets") -> int:
        conn, resp = _http_get(kube_emulator, path, token)
        body = json.loads(resp.read())
        conn.close()
        if resp.status == 401:
            assert (body["kind"], body["reason"], body["code"]) == ("Status", "Unauthorized", 401)
        return resp.status

    assert status(kube_emulator.token) == status(live) == status(doomed) == status(None) == 200
    assert status("not-issued-here") == status("not-issued-here", "/api") == 401
    conn, watch_resp = _http_get(
        kube_emulator, "/api/v1/namespaces/default/secrets?watch=true&timeoutSeconds=5", doomed
    )
    try:
        assert watch_resp.status == 200
        kube_emulator.revoke_token(doomed)
        assert status(doomed) == 401 and status(live) == 200
        core.create_namespaced_secret("default", secret("after-revocation"))
        event = json.loads(watch_resp.readline())
        assert (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", "after-revocation")
    finally:
        conn.close()
    review = client.AuthenticationV1Api(core.api_client).create_token_review({"spec": {"token": doomed}})
    assert review.status.authenticated is False and "invalidated" in review.status.error
    core.delete_namespaced_service_account("app", "default")  # its tokens die with it
    assert status(live) == 401
    assert kube_emulator.layer.unauthorized[0] == ("GET", "/api/v1/namespaces/default/secrets")
    assert len(kube_emulator.layer.unauthorized) == 4


def test_open_watches_can_be_ended_as_by_an_api_server_restart(
    kube_emulator: KubeEmulator, core: client.CoreV1Api
) -> None:
    """``end_watches()`` ends every open watch stream cleanly (clients watch again, from their last
    resourceVersion); new watches are not affected."""
    conn, first = _http_get(kube_emulator, "/api/v1/namespaces/default/secrets?watch=true&timeoutSeconds=30")
    try:
        assert first.status == 200
        core.create_namespaced_secret("default", secret("seen"))
        assert json.loads(first.readline())["object"]["metadata"]["name"] == "seen"
        started = time.monotonic()
        kube_emulator.end_watches()
        assert first.read() == b""  # the end of the stream
        assert time.monotonic() - started < 5
    finally:
        conn.close()
    assert collect_watch(core.list_namespaced_secret, "default", count=1, timeout=2) == [("ADDED", "seen")]


# ---- label and field selectors ------------------------------------------------------------------------


def test_label_selectors_filter_lists_and_watches(core: client.CoreV1Api) -> None:
    core.create_namespaced_secret("default", secret("k1", labels={"role": "key", "tier": "a", "active": "x"}))
    core.create_namespaced_secret("default", secret("k2", labels={"role": "key", "tier": "b"}))
    core.create_namespaced_secret("default", secret("k3", labels={"role": "key", "tier": "c", "active": "x"}))
    core.create_namespaced_secret("default", secret("other", labels={"role": "app"}))

    def names(selector: str) -> list[str]:
        return [
            s.metadata.name for s in core.list_namespaced_secret("default", label_selector=selector).items
        ]

    assert names("role=key") == ["k1", "k2", "k3"]
    assert names("role==key,tier!=b") == ["k1", "k3"]
    assert names("tier in (a, b)") == ["k1", "k2"]
    assert names("role=key,tier notin (a)") == ["k2", "k3"]
    assert names("active") == ["k1", "k3"]
    assert names("role,!active") == ["k2", "other"]
    assert api_status(lambda: names("bad key=1")) == 400

    list_rv = core.list_namespaced_secret("default").metadata.resource_version
    core.patch_namespaced_secret("k1", "default", {"metadata": {"labels": {"role": None}}})  # leaves
    core.patch_namespaced_secret("other", "default", {"metadata": {"labels": {"role": "key"}}})  # joins
    core.patch_namespaced_secret("k2", "default", {"metadata": {"annotations": {"x": "y"}}})  # stays
    events = collect_watch(
        core.list_namespaced_secret, "default", count=3, resource_version=list_rv, label_selector="role=key"
    )
    assert events == [("DELETED", "k1"), ("ADDED", "other"), ("MODIFIED", "k2")]


def test_field_selectors_and_pagination(core: client.CoreV1Api) -> None:
    for name in ("a", "b", "c"):
        core.create_namespaced_config_map("default", {"metadata": {"name": name}})
    selected = core.list_namespaced_config_map("default", field_selector="metadata.name!=b").items
    assert [cm.metadata.name for cm in selected] == ["a", "c"]
    first = core.list_namespaced_config_map("default", limit=2)
    assert [cm.metadata.name for cm in first.items] == ["a", "b"] and first.metadata.remaining_item_count == 1
    rest = core.list_namespaced_config_map("default", limit=2, _continue=first.metadata._continue)
    assert [cm.metadata.name for cm in rest.items] == ["c"] and not rest.metadata._continue


def test_an_object_leaving_a_watch_selector_is_deleted_with_its_previous_state(
    kube_emulator: KubeEmulator, core: client.CoreV1Api
) -> None:
    """As the real server (tests/cluster/test_emulator_parity_real.py has the same case): the
    DELETED event of an object whose label was taken off shows it as it matched (label still on)
    at the change's resourceVersion; ADDED shows the new state."""
    core.create_namespaced_secret("default", secret("leaves", labels={"sel": "yes", "app": "a"}))
    core.create_namespaced_secret("default", secret("joins", labels={"app": "a"}))
    list_rv = core.list_namespaced_secret("default").metadata.resource_version
    left = core.patch_namespaced_secret("leaves", "default", {"metadata": {"labels": {"sel": None}}})
    joined = core.patch_namespaced_secret("joins", "default", {"metadata": {"labels": {"sel": "yes"}}})
    conn, answer = _http_get(
        kube_emulator,
        f"/api/v1/namespaces/default/secrets?watch=true&labelSelector=sel%3Dyes&resourceVersion={list_rv}"
        "&timeoutSeconds=1",
    )
    try:
        events = [json.loads(line) for line in answer.read().splitlines() if line.strip()]
    finally:
        conn.close()
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("DELETED", "leaves"),
        ("ADDED", "joins"),
    ]
    deleted, added = events[0]["object"]["metadata"], events[1]["object"]["metadata"]
    assert deleted["labels"] == {"sel": "yes", "app": "a"}
    assert deleted["resourceVersion"] == left.metadata.resource_version
    assert added["labels"] == {"sel": "yes", "app": "a"}
    assert added["resourceVersion"] == joined.metadata.resource_version


# ---- the harness itself -----------------------------------------------------------------------------


def test_emulator_stops_cleanly_and_releases_its_port(tmp_path: Any) -> None:
    emulator = KubeEmulator(workdir=tmp_path)
    with emulator:
        port = emulator.server.port
        status, _ = emulator.request("GET", "/version")
        assert status == 200
        assert emulator.kubeconfig_path.read_text().count(emulator.url) == 1
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_reactions_of_a_test_override_the_emulated_api(
    kube_emulator: KubeEmulator, core: client.CoreV1Api
) -> None:
    kube_emulator.handler["post", kmock.resource("", "v1", "secrets")] << 503
    assert api_status(lambda: core.create_namespaced_secret("default", secret("s"))) == 503
    assert kube_emulator.get("v1", "Secret", "s") is None  # an intercepted write changes nothing


def test_helpers_share_state_with_the_api(kube_emulator: KubeEmulator, core: client.CoreV1Api) -> None:
    kube_emulator.ensure_namespace("ns1")
    kube_emulator.create({**secret("s", key="v"), "metadata": {"name": "s", "namespace": "ns1"}})
    assert core.read_namespaced_secret("s", "ns1").data == {"key": "dg=="}
    kube_emulator.register_resource(ResourceDef("", "v1", "pods", "Pod", namespaced=True))
    assert core.list_namespaced_pod("ns1").items == []


def test_wait_for_returns_the_first_truthy_value_and_reports_timeouts() -> None:
    values = iter([0, None, "ready"])
    assert wait_for(lambda: next(values), interval=0.001) == "ready"
    with pytest.raises(AssertionError, match=r"waiting for the answer; last value: 0"):
        wait_for(lambda: 0, timeout=0.05, message="the answer")
    with pytest.raises(AssertionError, match=r"last error: KeyError"):
        wait_for(lambda: {}["missing"], timeout=0.05)


# ---- integration: a real kopf operator ------------------------------------------------------------


def test_kopf_operator_handles_objects_created_while_it_starts(
    kube_emulator: KubeEmulator, custom: client.CustomObjectsApi
) -> None:
    """Objects created before, during (between kopf's list and watch) and after start-up are all
    handled, and deletion goes through kopf's finalizer (JSON patch with a resourceVersion test)."""
    registry = kopf.OperatorRegistry()
    settings = kopf.OperatorSettings()
    settings.posting.loggers = True  # kopf's events use generateName

    # Async handlers: sync ones would run in kopf's thread pool, which outlives the operator.
    @kopf.on.login(registry=registry)
    async def login(**_: Any) -> kopf.ConnectionInfo:
        return kube_emulator.connection_info()

    @kopf.on.create(*WIDGETS, registry=registry)
    async def created(patch: kopf.Patch, **_: Any) -> None:
        patch.status["seen"] = True

    @kopf.on.delete(*WIDGETS, registry=registry)
    async def deleted(**_: Any) -> None:
        pass

    def create(name: str) -> None:
        status, body = kube_emulator.request(
            "POST", f"/apis/{GROUP}/v1/namespaces/default/widgets", widget(name)
        )
        assert status in (200, 201), body  # 200: let plain kmock fail on what this test is about

    # A one-shot reaction on kopf's initial LIST: the object is created while the list is being
    # answered, so it can only reach kopf through the watch that continues from the list.
    writers: list[threading.Thread] = []

    def create_during_startup(_: kmock.Request) -> None:
        writers.append(threading.Thread(target=create, args=("during",)))
        writers[-1].start()

    kube_emulator.handler[kmock.action.LIST, kmock.resource(*WIDGETS)] >> create_during_startup
    create("before")

    def exists(name: str) -> bool:
        try:
            custom.get_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], name)
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def seen(name: str) -> bool:
        obj = custom.get_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], name)
        return bool(obj.get("status", {}).get("seen"))

    with KopfRunner(
        ["run", "--standalone", "-A"], registry=registry, settings=settings, timeout=10
    ) as runner:
        wait_for(lambda: writers, message="kopf's initial list of widgets")
        create("after")
        for name in ("before", "during", "after"):
            wait_for(lambda name=name: seen(name), timeout=5, message=f"kopf to handle {name!r}")
        finalizers = custom.get_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], "during")[
            "metadata"
        ]
        assert finalizers.get("finalizers"), "kopf holds objects with a finalizer for its delete handler"
        custom.delete_namespaced_custom_object(*WIDGETS[:2], "default", WIDGETS[2], "during")
        wait_for(lambda: not exists("during"), timeout=5, message="kopf to release the deleted widget")
    for writer in writers:
        writer.join()
    assert runner.exit_code == 0
    events = client.CoreV1Api(custom.api_client).list_namespaced_event("default").items
    assert any(event.involved_object.name == "during" for event in events)


def test_service_proxy_forwards_to_a_registered_backend(kube_emulator: KubeEmulator) -> None:
    """``services/NAME:PORT/proxy/...`` reaches the test's stand-in endpoint, body and status intact."""

    class Echo(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            reply = f"{self.path}:{body.decode()}".encode()
            self.send_response(409 if body == b"conflict" else 200)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *_: Any) -> None:
            pass

    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=backend.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{backend.server_address[1]}"
        kube_emulator.register_service_backend("default", "svc", "http", url)
        status, _ = kube_emulator.request("GET", "/api/v1/namespaces/default/services/other:http/proxy/x")
        assert status == 503
        conn = http.client.HTTPConnection(kube_emulator.url.removeprefix("http://"), timeout=5)
        conn.request(
            "POST", "/api/v1/namespaces/default/services/http:svc:http/proxy/v1/verify", body=b"conflict"
        )
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (409, b"/v1/verify:conflict")
    finally:
        backend.shutdown()
        backend.server_close()
        thread.join(5)


@pytest.mark.parametrize(
    ("name", "body", "fields"), secret_cases.REFUSED, ids=[c[0] for c in secret_cases.REFUSED]
)
def test_secrets_the_api_server_refuses_are_refused(
    core: client.CoreV1Api, name: str, body: dict[str, Any], fields: set[str]
) -> None:
    """As kube-apiserver's ValidateSecret: 422, the causes naming the fields (tests/cluster checks
    the real server answers the same)."""
    with pytest.raises(ApiException) as info:
        core.create_namespaced_secret("default", body)
    assert info.value.status == 422
    import json

    causes = json.loads(info.value.body)["details"]["causes"]
    assert {c["field"] for c in causes} == fields
    assert all("x" * 50 not in c.get("message", "") for c in causes)


# ---- gap 12: custom resources are pruned, defaulted and validated by their CRD's schema -------------
#
# kmock stores custom resources as sent. kube-apiserver decodes them through the CRD's structural
# schema (pruning, nulls, defaults; ?fieldValidation=Strict), validates them (types, formats, enum,
# pattern, lengths, bounds, required) and runs the CEL rules. Each CR_CASES entry is one write and
# what kube-apiserver v1.37 answers; tests/cluster/test_emulator_cr_parity_real.py sends each of them
# to a real server and to the emulator and checks both answer the same.

PROBE_GROUP = "parity.secretsync.test"
PROBE_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"probes.{PROBE_GROUP}"},
    "spec": {
        "group": PROBE_GROUP,
        "scope": "Namespaced",
        "names": {"plural": "probes", "singular": "probe", "kind": "Probe"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "apiVersion": {"type": "string"},
                            "kind": {"type": "string"},
                            "metadata": {"type": "object"},
                            "spec": {
                                "type": "object",
                                "required": ["name"],
                                "x-kubernetes-validations": [
                                    {
                                        "rule": "self.minReplicas <= self.maxReplicas",
                                        "message": "minReplicas must not exceed maxReplicas",
                                    },
                                    {
                                        "rule": "!has(self.forbidden)",
                                        "fieldPath": ".forbidden",
                                        "message": "forbidden is refused",
                                        "reason": "FieldValueForbidden",
                                    },
                                    {
                                        "rule": "!has(self.immutableName) || !has(oldSelf.immutableName)"
                                        " || self.immutableName == oldSelf.immutableName",
                                        "message": "immutableName is immutable",
                                    },
                                ],
                                "properties": {
                                    "name": {
                                        "type": "string",
                                        "minLength": 1,
                                        "maxLength": 8,
                                        "pattern": "^[a-z]+$",
                                    },
                                    "mode": {"type": "string", "enum": ["A", "B"]},
                                    "count": {"type": "integer", "minimum": 0, "maximum": 10},
                                    "ratio": {"type": "number", "exclusiveMaximum": True, "maximum": 1},
                                    "small": {"type": "integer", "format": "int32"},
                                    "flag": {"type": "boolean"},
                                    "blob": {"type": "string", "format": "byte"},
                                    "when": {"type": "string", "format": "date-time"},
                                    "maybe": {"type": "string", "nullable": True},
                                    "port": {"x-kubernetes-int-or-string": True},
                                    "minReplicas": {"type": "integer"},
                                    "maxReplicas": {"type": "integer"},
                                    "forbidden": {"type": "string"},
                                    "immutableName": {"type": "string"},
                                    "tags": {
                                        "type": "array",
                                        "maxItems": 2,
                                        "minItems": 1,
                                        "items": {"type": "string", "maxLength": 3},
                                    },
                                    "labels": {
                                        "type": "object",
                                        "maxProperties": 2,
                                        "additionalProperties": {"type": "string"},
                                    },
                                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                                    "half": {
                                        "type": "object",
                                        "x-kubernetes-preserve-unknown-fields": True,
                                        "properties": {
                                            "inner": {
                                                "type": "object",
                                                "properties": {"x": {"type": "string"}},
                                            }
                                        },
                                    },
                                    "withDefault": {"type": "string", "default": "dflt"},
                                    "nested": {
                                        "type": "object",
                                        "default": {},
                                        "properties": {
                                            "d": {"type": "integer", "default": 7},
                                            "e": {"type": "string"},
                                        },
                                    },
                                    "items": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["k"],
                                            "properties": {"k": {"type": "string"}, "v": {"type": "integer"}},
                                        },
                                    },
                                    "embedded": {
                                        "type": "object",
                                        "x-kubernetes-embedded-resource": True,
                                        "x-kubernetes-preserve-unknown-fields": True,
                                    },
                                },
                            },
                            "status": {
                                "type": "object",
                                "properties": {
                                    "phase": {"type": "string", "enum": ["Ready", "Failed"]},
                                    "observed": {"type": "integer"},
                                    "conditions": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["type"],
                                            "properties": {
                                                "type": {"type": "string"},
                                                "status": {"type": "string"},
                                            },
                                        },
                                    },
                                },
                            },
                        },
                    }
                },
            }
        ],
    },
}
CRDS_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
PROBES = f"/apis/{PROBE_GROUP}/v1/namespaces/{{ns}}/probes"
OURS = "/apis/secretsync.io/v1alpha1"
EXTERNAL_SECRETS = f"{OURS}/namespaces/{{ns}}/externalsecrets"
SECRET_STORES = f"{OURS}/namespaces/{{ns}}/secretstores"
CLUSTER_SECRET_STORES = f"{OURS}/clustersecretstores"
SEALED_SECRETS = f"{OURS}/namespaces/{{ns}}/sealedsecrets"
JSON, MERGE, JSON_PATCH = "application/json", "application/merge-patch+json", "application/json-patch+json"
#: The cause kube-apiserver adds when a schema error stops it from evaluating the CEL rules.
NOT_CHECKED = "<nil>"


class Answer(NamedTuple):
    status: int
    body: Any
    warnings: list[str]


def send(
    base_url: str,
    method: str,
    path: str,
    body: Any = None,
    content_type: str = JSON,
    context: ssl.SSLContext | None = None,
) -> Answer:
    """One plain HTTP request (the emulator's, or a real server's with ``context``); the texts of
    the ``Warning: 299 - "..."`` headers come back too."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base_url + path, data=data, method=method, headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as response:  # our own URL
            status, raw, headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        status, raw, headers = exc.code, exc.read(), exc.headers
    warnings = [json.loads(w.split(" - ", 1)[1]) for w in headers.get_all("Warning") or []]
    try:
        return Answer(status, json.loads(raw) if raw else None, warnings)
    except ValueError:
        return Answer(status, raw.decode(errors="replace"), warnings)


Sender = Callable[..., Answer]


def probe(name: str, /, **spec: Any) -> dict[str, Any]:
    spec = {"name": "abc", "minReplicas": 1, "maxReplicas": 2, **spec}
    return {"apiVersion": f"{PROBE_GROUP}/v1", "kind": "Probe", "metadata": {"name": name}, "spec": spec}


def with_(obj: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of ``obj`` with top-level keys replaced (``spec=...``) or merged (``spec__x=...``)."""
    result = copy.deepcopy(obj)
    for key, value in changes.items():
        top, _, sub = key.partition("__")
        if sub:
            result.setdefault(top, {})[sub] = value
        else:
            result[top] = value
    return result


def external_secret(name: str, /, **spec: Any) -> dict[str, Any]:
    spec = {
        "secretStoreRef": {"name": "store"},
        "data": [{"secretKey": "k", "remoteRef": {"key": "r"}}],
        **spec,
    }
    return {
        "apiVersion": "secretsync.io/v1alpha1",
        "kind": "ExternalSecret",
        "metadata": {"name": name},
        "spec": spec,
    }


def store(name: str, provider: dict[str, Any], kind: str = "SecretStore") -> dict[str, Any]:
    return {
        "apiVersion": "secretsync.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": {"provider": provider},
    }


def sealed(name: str, /, **spec: Any) -> dict[str, Any]:
    spec = {"encryptedData": {"k": "AgBy3i4OJSWK+PiTySYZZA=="}, **spec}
    return {
        "apiVersion": "secretsync.io/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": name},
        "spec": spec,
    }


@dataclasses.dataclass(frozen=True)
class CrCase:
    """Create ``body`` (with ``query``), or create it and then send ``then``: (method, "" or
    "/status", a body or a function of the current object, content type, query). Expected:
    ``status``; for an error the cause fields (sorted, repeats kept) and, when given, the exact
    message; for a success, when given, the stored ``spec``/``status`` (None: absent); the texts
    of the Warning headers."""

    id: str
    collection: str
    body: dict[str, Any]
    status: int
    fields: tuple[str, ...] = ()
    query: str = ""
    then: tuple[str, str, Any, str, str] | None = None
    stored: dict[str, Any] | None = None
    warnings: tuple[str, ...] = ()
    message: str | None = None


def _unknown(*fields: str) -> tuple[str, ...]:
    return tuple(f'unknown field "{field}"' for field in fields)


_PRUNED = with_(
    probe(
        "pruned",
        bogus=1,
        half={"keep": 1, "inner": {"x": "y", "drop": 2}},
        free={"a": {"b": 1}, "n": None},
        items=[{"k": "a", "zz": 1}],
    ),
    extra=2,
    metadata={"name": "pruned", "bogus": 3},
)
_PRUNED_SPEC = {
    "name": "abc",
    "minReplicas": 1,
    "maxReplicas": 2,
    "half": {"keep": 1, "inner": {"x": "y"}},
    "free": {"a": {"b": 1}, "n": None},
    "items": [{"k": "a"}],
    "withDefault": "dflt",
    "nested": {"d": 7},
}
_DEFAULTED = {"withDefault": "dflt", "nested": {"d": 7}}
_BASE_SPEC = {"name": "abc", "minReplicas": 1, "maxReplicas": 2, **_DEFAULTED}
_STRICT_400 = (
    'Probe in version "v1" cannot be handled as a Probe: strict decoding error: '
    'unknown field "metadata.bogus", unknown field "extra", unknown field "spec.bogus", '
    'unknown field "spec.half.inner.drop", unknown field "spec.items[0].zz"'
)
_NOT_CHECKED_MESSAGE = (
    "<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; "
    "correct the existing errors to complete validation"
)


def invalid(name: str, *errors: str, kind: str = f"Probe.{PROBE_GROUP}") -> str:
    """A 422's message as kube-apiserver words it: one error as is, several in brackets."""
    listed = ", ".join(errors)
    return f'{kind} "{name}" is invalid: ' + (listed if len(errors) == 1 else f"[{listed}]")


def _put(**changes: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda current: with_(current, **changes)


CR_CASES: list[CrCase] = [
    # -- decoding: pruning, fieldValidation, nulls, defaults, numbers
    CrCase(
        "unknown-fields-pruned-with-warnings",
        PROBES,
        _PRUNED,
        201,
        stored={"spec": _PRUNED_SPEC},
        warnings=_unknown(
            "metadata.bogus", "extra", "spec.bogus", "spec.half.inner.drop", "spec.items[0].zz"
        ),
    ),
    CrCase(
        "unknown-fields-strict-400",
        PROBES,
        _PRUNED,
        400,
        query="?fieldValidation=Strict",
        message=_STRICT_400,
    ),
    CrCase(
        "unknown-fields-ignore",
        PROBES,
        _PRUNED,
        201,
        query="?fieldValidation=Ignore",
        stored={"spec": _PRUNED_SPEC},
    ),
    CrCase(
        "unknown-fields-warn",
        PROBES,
        _PRUNED,
        201,
        query="?fieldValidation=Warn",
        warnings=_unknown(
            "metadata.bogus", "extra", "spec.bogus", "spec.half.inner.drop", "spec.items[0].zz"
        ),
    ),
    CrCase(
        "field-validation-value",
        PROBES,
        probe("fv"),
        422,
        ("fieldValidation",),
        query="?fieldValidation=strict",
    ),
    CrCase(
        "strict-before-validation",
        PROBES,
        probe("sv", count="x", bogus=1),
        400,
        query="?fieldValidation=Strict",
    ),
    CrCase(
        "nulls-dropped-unless-nullable",
        PROBES,
        probe("nulls", mode=None, maybe=None, labels={"a": None}, half=None, withDefault=None),
        201,
        stored={"spec": {**_BASE_SPEC, "maybe": None, "labels": {}}},
    ),
    CrCase("null-array-item", PROBES, probe("nullitem", tags=[None]), 422, (NOT_CHECKED, "spec.tags[0]")),
    CrCase("null-required", PROBES, probe("nullreq", name=None), 422, (NOT_CHECKED, "spec.name")),
    CrCase(
        "defaults-and-integral-numbers",
        PROBES,
        probe("defaults", count=2.0, nested={"e": "x"}, ratio=0.5),
        201,
        stored={"spec": {**_BASE_SPEC, "count": 2, "ratio": 0.5, "nested": {"d": 7, "e": "x"}}},
    ),
    CrCase(
        "status-dropped-on-create",
        PROBES,
        with_(probe("statuscreate"), status={"phase": "Nope", "bogus": 1}),
        201,
        stored={"spec": _BASE_SPEC, "status": None},
        warnings=_unknown("status.bogus"),
    ),
    CrCase(
        "embedded-resource",
        PROBES,
        probe(
            "embedded",
            embedded={
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "x", "bogus": 1},
                "data": {"a": "b"},
            },
        ),
        201,
        stored={
            "spec": {
                **_BASE_SPEC,
                "embedded": {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "x"},
                    "data": {"a": "b"},
                },
            }
        },
        warnings=_unknown("spec.embedded.metadata.bogus"),
    ),
    CrCase(
        "embedded-resource-needs-kind",
        PROBES,
        probe("embeddedbad", embedded={"data": {}}),
        422,
        (NOT_CHECKED, "spec.embedded.apiVersion", "spec.embedded.kind"),
    ),
    # -- the schema
    CrCase(
        "wrong-type",
        PROBES,
        probe("wrongtype", count="three"),
        422,
        (NOT_CHECKED, "spec.count"),
    ),
    CrCase(
        "wrong-types",
        PROBES,
        probe("wrongtypes", flag="yes", tags="x", labels=[1], port=True),
        422,
        (NOT_CHECKED, "spec.flag", "spec.labels", "spec.port", "spec.tags"),
    ),
    CrCase("map-value-type", PROBES, probe("mapvalue", labels={"a": 5}), 422, (NOT_CHECKED, "spec.labels.a")),
    CrCase("spec-not-an-object", PROBES, with_(probe("specstring"), spec="x"), 422, (NOT_CHECKED, "spec")),
    CrCase(
        "required",
        PROBES,
        with_(probe("required"), spec={"minReplicas": 1, "maxReplicas": 2}),
        422,
        (NOT_CHECKED, "spec.name"),
        message=invalid("required", "spec.name: Required value", _NOT_CHECKED_MESSAGE),
    ),
    CrCase("enum", PROBES, probe("enum", mode="C"), 422, (NOT_CHECKED, "spec.mode")),
    CrCase(
        "pattern",
        PROBES,
        probe("pattern", name="ABC"),
        422,
        ("spec.name",),
        message=invalid(
            "pattern", "spec.name: Invalid value: \"ABC\": spec.name in body should match '^[a-z]+$'"
        ),
    ),
    CrCase("pattern-dollar-is-end-of-text", PROBES, probe("newline", name="abc\n"), 422, ("spec.name",)),
    CrCase("max-length", PROBES, probe("maxlength", name="abcdefghi"), 422, (NOT_CHECKED, "spec.name")),
    CrCase("max-length-counts-characters", PROBES, probe("runes", tags=["éé"]), 201),
    CrCase("min-length", PROBES, probe("minlength", name=""), 422, ("spec.name",)),
    CrCase("max-items", PROBES, probe("maxitems", tags=["a", "b", "c"]), 422, (NOT_CHECKED, "spec.tags")),
    CrCase("min-items", PROBES, probe("minitems", tags=[]), 422, ("spec.tags",)),
    CrCase("item-max-length", PROBES, probe("itemlength", tags=["abcd"]), 422, (NOT_CHECKED, "spec.tags[0]")),
    CrCase(
        "max-properties",
        PROBES,
        probe("maxprops", labels={"a": "1", "b": "2", "c": "3"}),
        422,
        (NOT_CHECKED, "spec.labels"),
    ),
    CrCase("maximum", PROBES, probe("maximum", count=11), 422, ("spec.count",)),
    CrCase("minimum", PROBES, probe("minimum", count=-1), 422, ("spec.count",)),
    CrCase("exclusive-maximum", PROBES, probe("exclusive", ratio=1), 422, ("spec.ratio",)),
    CrCase("int32", PROBES, probe("int32", small=1 << 40), 422, (NOT_CHECKED,)),
    CrCase(
        "integer-not-a-fraction",
        PROBES,
        probe("fraction", count=2.5),
        422,
        (NOT_CHECKED, NOT_CHECKED, "spec.count"),
    ),
    CrCase("byte", PROBES, probe("byte", blob="not base64!"), 422, (NOT_CHECKED, "spec.blob")),
    CrCase("byte-needs-padding", PROBES, probe("bytepad", blob="aGVsbG8"), 422, (NOT_CHECKED, "spec.blob")),
    CrCase("byte-ok", PROBES, probe("byteok", blob="aGVsbG8="), 201),
    CrCase("date-time", PROBES, probe("datetime", when="yesterday"), 422, (NOT_CHECKED, "spec.when")),
    CrCase("date-time-ok", PROBES, probe("datetimeok", when="2024-01-02t03:04:05.123+01:00"), 201),
    CrCase("int-or-string", PROBES, probe("intorstring", port="http"), 201),
    CrCase(
        "int-or-string-number", PROBES, probe("intorstringbad", port=1.5), 422, (NOT_CHECKED, "spec.port")
    ),
    CrCase(
        "array-items",
        PROBES,
        probe("arrayitems", items=[{"v": 1}, {"k": "a", "v": "x"}]),
        422,
        (NOT_CHECKED, "spec.items[0].k", "spec.items[1].v"),
    ),
    CrCase(
        "many-at-once",
        PROBES,
        probe("many", count=20, mode="Z", name="A"),
        422,
        (NOT_CHECKED, "spec.count", "spec.mode", "spec.name"),
    ),
    # -- CEL
    CrCase(
        "cel-rule",
        PROBES,
        probe("cel", minReplicas=3),
        422,
        ("spec",),
        message=invalid("cel", "spec: Invalid value: minReplicas must not exceed maxReplicas"),
    ),
    CrCase(
        "cel-evaluation-error",
        PROBES,
        with_(probe("celerror"), spec={"name": "abc"}),
        422,
        ("spec",),
        message=invalid(
            "celerror",
            'spec: Invalid value: "object": no such key: minReplicas evaluating rule: '
            "minReplicas must not exceed maxReplicas",
        ),
    ),
    CrCase(
        "cel-field-path-and-reason",
        PROBES,
        probe("celforbidden", forbidden="x"),
        422,
        ("spec.forbidden",),
        message=invalid("celforbidden", "spec.forbidden: Forbidden: forbidden is refused"),
    ),
    CrCase(
        "cel-not-after-blocking-errors",
        PROBES,
        probe("blocking", count="x", forbidden="y", minReplicas=5),
        422,
        (NOT_CHECKED, "spec.count"),
    ),
    CrCase(
        "cel-after-other-errors",
        PROBES,
        probe("nonblocking", name="X", forbidden="y"),
        422,
        ("spec.forbidden", "spec.name"),
    ),
    # -- our CRDs
    CrCase(
        "es-refused-field",
        EXTERNAL_SECRETS,
        external_secret("refused", syncWindows={"kind": "allow"}),
        422,
        ("spec.syncWindows",),
        message=invalid(
            "refused",
            "spec.syncWindows: Invalid value: "
            "ESO's syncWindows is not supported; values are read again every refreshInterval",
            kind="ExternalSecret.secretsync.io",
        ),
    ),
    CrCase(
        "es-two-refusals",
        EXTERNAL_SECRETS,
        external_secret(
            "refusals", syncWindows={"any": {"thing": 1}}, target={"template": {"engineVersion": "v1"}}
        ),
        422,
        ("spec.syncWindows", "spec.target.template.engineVersion"),
    ),
    CrCase(
        "es-refresh-policy-accepted",
        EXTERNAL_SECRETS,
        external_secret("refresh", refreshPolicy="OnChange"),
        201,
    ),
    CrCase(
        "es-unknown-field-pruned",
        EXTERNAL_SECRETS,
        external_secret(
            "esunknown", data=[{"secretKey": "k", "remoteRef": {"key": "r", "bogus": 1}}], bogus=2
        ),
        201,
        stored={
            "spec": {
                "secretStoreRef": {"name": "store"},
                "data": [{"secretKey": "k", "remoteRef": {"key": "r"}}],
            }
        },
        warnings=_unknown("spec.bogus", "spec.data[0].remoteRef.bogus"),
    ),
    CrCase(
        "es-unknown-field-strict",
        EXTERNAL_SECRETS,
        external_secret("esstrict", bogus=2),
        400,
        query="?fieldValidation=Strict",
        message='ExternalSecret in version "v1alpha1" cannot be handled as a ExternalSecret: '
        'strict decoding error: unknown field "spec.bogus"',
    ),
    CrCase(
        "es-pattern-and-cel",
        EXTERNAL_SECRETS,
        external_secret(
            "esbadname",
            secretStoreRef={"name": "Bad_Name"},
            target={"creationPolicy": "None", "deletionPolicy": "Merge"},
        ),
        422,
        ("spec.secretStoreRef.name", "spec.target"),
    ),
    CrCase(
        "es-required",
        EXTERNAL_SECRETS,
        with_(external_secret("esrequired"), spec={"data": [{"secretKey": "k", "remoteRef": {"key": "r"}}]}),
        422,
        ("spec",),  # a CEL rule asks for the store (so that the other rules still run)
    ),
    CrCase("es-no-data", EXTERNAL_SECRETS, external_secret("esnodata", data=[]), 422, ("spec",)),
    CrCase(
        "es-enum",
        EXTERNAL_SECRETS,
        external_secret("esenum", target={"creationPolicy": "Sometimes"}),
        422,
        (NOT_CHECKED, "spec.target.creationPolicy"),
    ),
    CrCase(
        "store-two-providers",
        SECRET_STORES,
        store("twoproviders", {"fake": {"data": []}, "aws": {"service": "SecretsManager", "region": "x"}}),
        422,
        ("spec.provider",),
    ),
    CrCase("store-no-provider", SECRET_STORES, store("noprovider", {}), 422, ("spec.provider",)),
    CrCase(
        "store-kubernetes-auth",
        SECRET_STORES,
        store("kubeauth", {"vault": {"server": "http://v", "auth": {"kubernetes": {"role": "r"}}}}),
        422,
        ("spec.provider.vault.auth.kubernetes",),
    ),
    CrCase(
        "store-ca-bundle-base64",
        SECRET_STORES,
        store("cabundle", {"vault": {"server": "http://v", "caBundle": "-----BEGIN CERTIFICATE-----"}}),
        422,
        (NOT_CHECKED, "spec.provider.vault.caBundle"),
    ),
    CrCase(
        "cluster-store-two-providers",
        CLUSTER_SECRET_STORES,
        store(
            "cluster-twoproviders", {"fake": {"data": []}, "gcpsm": {"projectID": "p"}}, "ClusterSecretStore"
        ),
        422,
        ("spec.provider",),
    ),
    CrCase(
        "sealed-template-metadata-kept",
        SEALED_SECRETS,
        sealed(
            "kept",
            template={
                "metadata": {"creationTimestamp": None, "labels": {"a": "b"}, "uid": "x"},
                "data": None,
            },
        ),
        201,
        stored={
            "spec": {
                "encryptedData": {"k": "AgBy3i4OJSWK+PiTySYZZA=="},
                "template": {
                    "metadata": {"creationTimestamp": None, "labels": {"a": "b"}, "uid": "x"},
                    "data": None,
                },
            }
        },
    ),
    CrCase(
        "sealed-pre-0-7-format", SEALED_SECRETS, sealed("oldformat", data="c2VhbGVk"), 422, ("spec.data",)
    ),
    # -- updates: PUT, merge patch, JSON patch
    CrCase(
        "put-unknown-field",
        PROBES,
        probe("putunknown"),
        200,
        then=("PUT", "", _put(spec__bogus=1, spec__count=3), JSON, ""),
        stored={"spec": {**_BASE_SPEC, "count": 3}},
        warnings=_unknown("spec.bogus"),
    ),
    CrCase(
        "put-unknown-field-strict",
        PROBES,
        probe("putstrict"),
        400,
        then=("PUT", "", _put(spec__bogus=1), JSON, "?fieldValidation=Strict"),
    ),
    CrCase(
        "put-enum",
        PROBES,
        probe("putenum"),
        422,
        (NOT_CHECKED, "spec.mode"),
        then=("PUT", "", _put(spec__mode="Q"), JSON, ""),
    ),
    CrCase(
        "put-transition-rule",
        PROBES,
        probe("transition", immutableName="i"),
        422,
        ("spec",),
        then=("PUT", "", _put(spec__immutableName="j"), JSON, ""),
        message=invalid("transition", "spec: Invalid value: immutableName is immutable"),
    ),
    CrCase(
        "merge-transition-rule-removed",
        PROBES,
        probe("transitionremoved", immutableName="i"),
        200,
        then=("PATCH", "", {"spec": {"immutableName": None}}, MERGE, ""),
    ),
    CrCase(
        "merge-unknown-field",
        PROBES,
        probe("mergeunknown"),
        200,
        then=("PATCH", "", {"spec": {"bogus": 1, "count": 4}}, MERGE, ""),
        stored={"spec": {**_BASE_SPEC, "count": 4}},
        warnings=_unknown("spec.bogus"),
    ),
    CrCase(
        "merge-unknown-field-strict",
        PROBES,
        probe("mergestrict"),
        422,
        ("patch",),
        then=("PATCH", "", {"spec": {"bogus": 1, "zzz": 2}}, MERGE, "?fieldValidation=Strict"),
    ),
    CrCase(
        "merge-invalid",
        PROBES,
        probe("mergeinvalid"),
        422,
        (NOT_CHECKED, "spec.count", "spec.name"),
        then=("PATCH", "", {"spec": {"count": "x", "name": "BAD"}}, MERGE, ""),
    ),
    CrCase(
        "merge-removes-required",
        PROBES,
        probe("mergerequired"),
        422,
        (NOT_CHECKED, "spec.name"),
        then=("PATCH", "", {"spec": {"name": None}}, MERGE, ""),
    ),
    CrCase(
        "merge-cel",
        PROBES,
        probe("mergecel"),
        422,
        ("spec",),
        then=("PATCH", "", {"spec": {"minReplicas": 9}}, MERGE, ""),
    ),
    CrCase(
        "json-patch-unknown-field-strict",
        PROBES,
        probe("jsonstrict"),
        422,
        ("patch",),
        then=(
            "PATCH",
            "",
            [{"op": "add", "path": "/spec/bogus", "value": 1}],
            JSON_PATCH,
            "?fieldValidation=Strict",
        ),
    ),
    CrCase(
        "json-patch-invalid",
        PROBES,
        probe("jsoninvalid"),
        422,
        ("spec.count",),
        then=(
            "PATCH",
            "",
            [
                {"op": "replace", "path": "/spec/name", "value": "abc"},
                {"op": "add", "path": "/spec/count", "value": 99},
            ],
            JSON_PATCH,
            "",
        ),
    ),
    CrCase(
        "patch-field-validation-value",
        PROBES,
        probe("patchfv"),
        422,
        ("fieldValidation",),
        then=("PATCH", "", {}, MERGE, "?fieldValidation=x"),
    ),
    CrCase(
        "es-merge-refused-field",
        EXTERNAL_SECRETS,
        external_secret("esmerge"),
        422,
        ("spec.syncWindows",),
        then=("PATCH", "", {"spec": {"syncWindows": {"kind": "allow"}}}, MERGE, ""),
    ),
    # -- the status subresource
    CrCase(
        "status-merge",
        PROBES,
        probe("statusmerge"),
        200,
        then=(
            "PATCH",
            "/status",
            {"status": {"phase": "Ready", "observed": 1}, "spec": {"count": "x"}},
            MERGE,
            "",
        ),
        stored={"spec": _BASE_SPEC, "status": {"phase": "Ready", "observed": 1}},
    ),
    CrCase(
        "status-merge-enum",
        PROBES,
        probe("statusenum"),
        422,
        (NOT_CHECKED, "status.phase"),
        then=("PATCH", "/status", {"status": {"phase": "Bad"}}, MERGE, ""),
    ),
    CrCase(
        "status-merge-types",
        PROBES,
        probe("statustypes"),
        422,
        (NOT_CHECKED, "status.conditions[0].type", "status.observed"),
        then=("PATCH", "/status", {"status": {"observed": "x", "conditions": [{"status": "x"}]}}, MERGE, ""),
    ),
    CrCase(
        "status-message-path-is-relative",
        PROBES,
        probe("statusrelative"),
        422,
        (NOT_CHECKED, "status.observed"),
        then=("PATCH", "/status", {"status": {"observed": "x"}}, MERGE, ""),
        message=invalid(
            "statusrelative",
            'status.observed: Invalid value: "string": observed in body must be of type integer: "string"',
            _NOT_CHECKED_MESSAGE,
        ),
    ),
    CrCase(
        "status-merge-unknown-fields",
        PROBES,
        probe("statusunknown"),
        200,
        then=(
            "PATCH",
            "/status",
            {"status": {"bogus": 1, "conditions": [{"type": "A", "zz": 1}]}},
            MERGE,
            "",
        ),
        stored={"status": {"conditions": [{"type": "A"}]}},
        warnings=_unknown("status.bogus", "status.conditions[0].zz"),
    ),
    CrCase(
        "status-merge-unknown-fields-strict",
        PROBES,
        probe("statusstrict"),
        422,
        ("patch",),
        then=("PATCH", "/status", {"status": {"bogus": 1}}, MERGE, "?fieldValidation=Strict"),
    ),
    CrCase(
        "status-put-enum",
        PROBES,
        probe("statusput"),
        422,
        (NOT_CHECKED, "status.phase"),
        then=("PUT", "/status", _put(status={"phase": "Nope"}), JSON, ""),
    ),
    CrCase(
        "status-put-strict",
        PROBES,
        probe("statusputstrict"),
        400,
        then=("PUT", "/status", _put(status={"phase": "Ready", "bogus": 1}), JSON, "?fieldValidation=Strict"),
    ),
    CrCase(
        "status-put-ignores-spec",
        PROBES,
        probe("statusignores"),
        200,
        then=("PUT", "/status", _put(status={"phase": "Failed"}, spec__count="zz"), JSON, ""),
        stored={"spec": _BASE_SPEC, "status": {"phase": "Failed"}},
    ),
    CrCase(
        "main-put-ignores-status",
        PROBES,
        probe("mainignores"),
        200,
        then=("PUT", "", _put(status={"phase": "Nope"}), JSON, ""),
        stored={"status": None},
    ),
    CrCase(
        "main-merge-status-unknown-strict",
        PROBES,
        probe("mainstrict"),
        422,
        ("patch",),
        then=("PATCH", "", {"status": {"zz": 1}}, MERGE, "?fieldValidation=Strict"),
    ),
    CrCase(
        "es-status-date-time",
        EXTERNAL_SECRETS,
        external_secret("esstatus"),
        422,
        (NOT_CHECKED, "status.conditions[0].lastTransitionTime"),
        then=(
            "PATCH",
            "/status",
            {"status": {"conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "now"}]}},
            MERGE,
            "",
        ),
    ),
    CrCase(
        "es-status-kept-and-pruned",
        EXTERNAL_SECRETS,
        external_secret("esstatusok"),
        200,
        then=(
            "PUT",
            "/status",
            _put(
                status={
                    "conditions": [{"type": "Ready", "status": "True", "extra": 1}],
                    "anything": {"x": 1},
                    "refreshTime": None,
                }
            ),
            JSON,
            "",
        ),
        stored={
            "status": {
                "conditions": [{"type": "Ready", "status": "True"}],
                "anything": {"x": 1},
                "refreshTime": None,
            }
        },
        warnings=_unknown("status.conditions[0].extra"),
    ),
]


@dataclasses.dataclass
class CrOutcome:
    """What a server answered to a CrCase, normalized for comparison between servers."""

    status: int
    fields: tuple[str, ...]
    causes: list[tuple[str, str, str]]
    message: str | None
    warnings: list[str]
    stored: dict[str, Any] | None


def _strict_tail(text: str) -> str:
    """A strict PATCH error quotes the whole patched object (managedFields, timestamps): keep what
    follows it."""
    marker = "strict decoding error:"
    return text[text.index(marker) :] if marker in text else text


def run_cr_case(send_to: Sender, case: CrCase, namespace: str) -> CrOutcome:
    collection = case.collection.format(ns=namespace)
    name = case.body["metadata"]["name"]
    if case.then is None:
        answer = send_to("POST", collection + case.query, case.body)
    else:
        created = send_to("POST", collection, case.body)
        assert created.status == 201, created
        method, sub, change, content_type, query = case.then
        if callable(change):
            change = change(send_to("GET", f"{collection}/{name}").body)
        answer = send_to(method, f"{collection}/{name}{sub}{query}", change, content_type)
    found = send_to("GET", f"{collection}/{name}")
    send_to("DELETE", f"{collection}/{name}")
    body = answer.body if isinstance(answer.body, dict) else {}
    causes = sorted(
        (c.get("field", ""), c.get("reason", ""), _strict_tail(c.get("message", "")))
        for c in (body.get("details") or {}).get("causes") or []
        if body.get("kind") == "Status"
    )
    return CrOutcome(
        status=answer.status,
        fields=tuple(sorted(field for field, _, _ in causes)),
        causes=causes,
        message=_strict_tail(body["message"]) if body.get("kind") == "Status" else None,
        warnings=answer.warnings,
        stored={k: v for k, v in found.body.items() if k != "metadata"} if found.status == 200 else None,
    )


def check_cr_outcome(case: CrCase, outcome: CrOutcome) -> None:
    """The outcome is what the case says kube-apiserver answers."""
    assert (outcome.status, outcome.fields) == (case.status, tuple(sorted(case.fields))), outcome
    if case.message is not None:
        assert outcome.message == _strict_tail(case.message)
    assert outcome.warnings == list(case.warnings)
    if case.status >= 400:
        assert (outcome.stored is None) == (case.then is None), "a refused write changes nothing"
    for key, value in (case.stored or {}).items():
        assert outcome.stored is not None and outcome.stored.get(key) == value, (key, outcome.stored)


@pytest.fixture
def probes(kube_emulator: KubeEmulator) -> Sender:
    """A sender to the emulator, which serves PROBE_CRD (created over HTTP). The cases run in
    ``default``; 2xx, not 201, so that on plain kmock (200) the gap shows in the test itself."""
    url = kube_emulator.url
    assert send(url, "POST", CRDS_PATH, PROBE_CRD).status // 100 == 2
    return functools.partial(send, url)


@pytest.mark.parametrize("case", CR_CASES, ids=lambda case: case.id)
def test_custom_resources_are_decoded_and_validated_as_the_api_server_does(
    probes: Sender, case: CrCase
) -> None:
    check_cr_outcome(case, run_cr_case(probes, case, "default"))


RATCHET_GROUP = "ratchet.secretsync.test"


def regroup(obj: dict[str, Any], group: str) -> dict[str, Any]:
    """PROBE_CRD, or a Probe, moved to another API group (a CRD a test may change on its own)."""
    obj = copy.deepcopy(obj)
    if obj["kind"] == "CustomResourceDefinition":
        obj["metadata"]["name"] = f"probes.{group}"
        obj["spec"]["group"] = group
    else:
        obj["apiVersion"] = f"{group}/v1"
    return obj


def tighten(crd: dict[str, Any]) -> dict[str, Any]:
    """The probe CRD made stricter than the objects already stored (for validation ratcheting)."""
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    spec["properties"]["name"]["maxLength"] = 3
    spec["properties"]["mode"]["enum"] = ["B"]
    spec["properties"]["items"]["items"]["required"] = ["k", "v"]
    spec["properties"]["tags"]["items"]["x-kubernetes-validations"] = [
        {"rule": "self != 'a'", "message": "no a"}
    ]
    spec["x-kubernetes-validations"].append({"rule": "self.maxReplicas < 2", "message": "max below 2"})
    return crd


#: After ``tighten``: each write to the object created by RATCHET_OBJECT, and the cause fields of
#: the answer (none: accepted). Unchanged invalid values pass (ratcheting); changed ones, and CEL
#: rules on changed objects, do not; array items are never matched with old ones.
RATCHET_OBJECT = regroup(
    probe("ratchet", name="abcdefg", tags=["a"], items=[{"k": "x"}], mode="A"), RATCHET_GROUP
)
RATCHET_WRITES: list[tuple[str, str, dict[str, Any], tuple[str, ...]]] = [
    ("metadata-only", "", {"metadata": {"labels": {"x": "y"}}}, ()),
    ("status-only", "/status", {"status": {"phase": "Ready"}}, ()),
    ("unrelated-field", "", {"spec": {"count": 1}}, ("spec",)),
    ("changed-name", "", {"spec": {"name": "abcdefgh"}}, (NOT_CHECKED, "spec.name")),
    ("changed-item", "", {"spec": {"items": [{"k": "y"}]}}, (NOT_CHECKED, "spec.items[0].v")),
    ("changed-list", "", {"spec": {"tags": ["a", "a"]}}, ("spec", "spec.tags[0]", "spec.tags[1]")),
]


def _until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """A real server applies a CRD change after a moment; the emulator at once."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def run_ratcheting(send_to: Sender, namespace: str) -> list[tuple[int, tuple[str, ...]]]:
    """Serve the probe CRD in RATCHET_GROUP, create RATCHET_OBJECT, tighten the CRD, then send each
    of RATCHET_WRITES; (status, sorted cause fields) of each. The CRD is deleted at the end."""
    crd_path = f"{CRDS_PATH}/probes.{RATCHET_GROUP}"
    objects = f"/apis/{RATCHET_GROUP}/v1/namespaces/{namespace}/probes"
    assert send_to("POST", CRDS_PATH, regroup(PROBE_CRD, RATCHET_GROUP)).status == 201
    try:
        _until(lambda: send_to("GET", objects).status == 200, "the CRD to be served")
        assert send_to("POST", objects, RATCHET_OBJECT).status == 201
        assert send_to("PUT", crd_path, tighten(send_to("GET", crd_path).body)).status == 200
        canary = regroup(probe("canary", mode="A"), RATCHET_GROUP)

        def tightened() -> bool:
            if send_to("POST", objects, canary).status == 422:
                return True
            send_to("DELETE", f"{objects}/canary")
            return False

        _until(tightened, "the tightened CRD to apply")
        results = []
        for _, sub, patch, _ in RATCHET_WRITES:
            answer = send_to("PATCH", f"{objects}/ratchet{sub}", patch, MERGE)
            causes = (answer.body.get("details") or {}).get("causes") or [] if answer.status != 200 else []
            results.append((answer.status, tuple(sorted(c["field"] for c in causes))))
        return results
    finally:
        send_to("DELETE", crd_path)


def test_validation_ratchets_on_update(probes: Sender) -> None:
    """As kube-apiserver since 1.30 (CRDValidationRatcheting): after a CRD gets stricter, an update
    that leaves an invalid value as it was is accepted."""
    results = run_ratcheting(probes, "default")
    assert results == [(422 if fields else 200, fields) for _, _, _, fields in RATCHET_WRITES]


def test_a_cel_rule_the_emulator_cannot_evaluate_is_an_error_not_a_pass(probes: Sender) -> None:
    crd = copy.deepcopy(PROBE_CRD)
    crd["metadata"]["name"] = "strangers.parity.secretsync.test"
    crd["spec"]["names"] = {"plural": "strangers", "singular": "stranger", "kind": "Stranger"}
    rules = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"][
        "x-kubernetes-validations"
    ]
    rules[:] = [{"rule": "self.name.startsWith('a')", "message": "starts with a"}]
    assert probes("POST", CRDS_PATH, crd).status == 201
    answer = probes(
        "POST", f"/apis/{PROBE_GROUP}/v1/namespaces/default/strangers", {**probe("x"), "kind": "Stranger"}
    )
    assert answer.status == 500 and "cannot evaluate the CEL rule" in answer.body["message"]
