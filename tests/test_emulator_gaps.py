"""The API emulator's own tests: one per gap of kmock 0.8 that breaks kopf or ``kubernetes``.

The gap tests go through HTTP only (the official client or raw requests), never through the
emulator's Python helpers, so they can also run against kmock as shipped:
``SECRETSYNC_KUBE_EMULATOR=kmock-plain pytest tests/test_emulator_gaps.py`` must fail them.
"""

from __future__ import annotations

import base64
import http.client
import http.server
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

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
