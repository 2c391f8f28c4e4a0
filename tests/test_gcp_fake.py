"""The GCP Secret Manager fake's semantics, through the unmodified official client where it matters.

These pin the behaviours the GCP provider will rely on (``latest``, version states, NOT_FOUND shapes,
filters, paging, checksums), so a provider test that passes against the fake means something.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import grpc
import pytest
from google.api_core import exceptions as gexc
from google.cloud import secretmanager_v1 as sm

from tests.support.gcp_fake import RpcError, compile_filter, crc32c

if TYPE_CHECKING:
    from tests.support.gcp_fake import SecretManagerFake

S = "projects/p/secrets/s"


@pytest.fixture
def gsm(gcp_fake: SecretManagerFake) -> Iterator[sm.SecretManagerServiceClient]:
    with gcp_fake.client() as client:
        yield client


def _access(client: sm.SecretManagerServiceClient, name: str) -> sm.AccessSecretVersionResponse:
    """Access without client-side retries, so injected/unavailable errors surface at once."""
    return client.access_secret_version(name=name, retry=None, timeout=5)


# -- latest and version states ------------------------------------------------------------------------


def test_latest_is_newest_created_even_when_disabled(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient
) -> None:
    gcp_fake.put_secret(S, "v1", "v2")
    gsm.disable_secret_version(name=f"{S}/versions/2")

    with pytest.raises(
        gexc.FailedPrecondition,
        match=r"Secret Version \[projects/p/secrets/s/versions/2\] is in DISABLED state",
    ):
        _access(gsm, f"{S}/versions/latest")
    assert gsm.get_secret_version(name=f"{S}/versions/latest").name == f"{S}/versions/2"


def test_latest_can_be_switched_to_newest_enabled(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient
) -> None:
    gcp_fake.latest_alias = "newest_enabled"
    gcp_fake.put_secret(S, "v1", "v2")
    gcp_fake.set_version_state(f"{S}/versions/2", "DISABLED")

    response = _access(gsm, f"{S}/versions/latest")

    assert (response.name, response.payload.data) == (f"{S}/versions/1", b"v1")
    gcp_fake.reset()
    alias: str = gcp_fake.latest_alias
    assert alias == "newest"


def test_destroyed_version_is_terminal_and_has_no_data(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient
) -> None:
    gcp_fake.put_secret(S, "v1")
    destroyed = gsm.destroy_secret_version(name=f"{S}/versions/1")

    assert destroyed.state == sm.SecretVersion.State.DESTROYED and destroyed.destroy_time is not None
    with pytest.raises(gexc.FailedPrecondition, match="is in DESTROYED state"):
        _access(gsm, f"{S}/versions/1")
    with pytest.raises(gexc.FailedPrecondition):
        gsm.enable_secret_version(name=f"{S}/versions/1")


def test_enable_after_disable_restores_access(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient
) -> None:
    gcp_fake.put_secret(S, "v1")
    gsm.disable_secret_version(name=f"{S}/versions/1")
    version = gsm.enable_secret_version(name=f"{S}/versions/1")

    assert version.state == sm.SecretVersion.State.ENABLED
    assert _access(gsm, f"{S}/versions/1").payload.data == b"v1"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "projects/p/secrets/nope/versions/latest",
            "Secret [projects/p/secrets/nope] not found or has no versions.",
        ),
        (
            "projects/p/secrets/nope/versions/1",
            "Secret [projects/p/secrets/nope] not found or has no versions.",
        ),
        (f"{S}/versions/9", f"Secret Version [{S}/versions/9] not found."),
        (
            "projects/p/secrets/empty/versions/latest",
            "Secret [projects/p/secrets/empty] not found or has no versions.",
        ),
    ],
)
def test_not_found_shapes(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient, name: str, message: str
) -> None:
    gcp_fake.put_secret(S, "v1")
    gcp_fake.put_secret("projects/p/secrets/empty")

    with pytest.raises(gexc.NotFound) as err:
        _access(gsm, name)
    assert err.value.message == message


def test_get_missing_secret_is_not_found(gsm: sm.SecretManagerServiceClient) -> None:
    with pytest.raises(gexc.NotFound, match=r"Secret \[projects/p/secrets/x\] not found\."):
        gsm.get_secret(name="projects/p/secrets/x")


def test_get_secret_serves_labels_and_annotations_not_payloads(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient
) -> None:
    regional = "projects/p/locations/europe-west1/secrets/s"
    gcp_fake.put_secret(S, "payload-v1", labels={"team": "pay"}, annotations={"owner": "a<b>"})
    gcp_fake.put_secret(regional, labels={"where": "eu"})  # no versions: still a resource to get

    secret = gsm.get_secret(name=S)
    assert (dict(secret.labels), dict(secret.annotations)) == ({"team": "pay"}, {"owner": "a<b>"})
    assert b"payload-v1" not in sm.Secret.serialize(secret)  # the resource carries no version data
    assert dict(gsm.get_secret(name=regional).labels) == {"where": "eu"}
    gsm.update_secret(
        request={
            "secret": {"name": S, "annotations": {"owner": "b"}},
            "update_mask": {"paths": ["annotations"]},
        }
    )
    assert dict(gsm.get_secret(name=S).annotations) == {"owner": "b"}
    with pytest.raises(
        gexc.NotFound, match=r"Secret \[projects/p/locations/europe-west1/secrets/x\] not found"
    ):
        gsm.get_secret(name="projects/p/locations/europe-west1/secrets/x")


def test_version_alias_via_update_secret(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient
) -> None:
    gcp_fake.put_secret(S, "v1", "v2")
    updated = gsm.update_secret(
        request={
            "secret": {"name": S, "version_aliases": {"stable": 1}},
            "update_mask": {"paths": ["version_aliases"]},
        }
    )

    assert dict(updated.version_aliases) == {"stable": 1}
    assert _access(gsm, f"{S}/versions/stable").payload.data == b"v1"


def test_update_labels_changes_filter_results(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient
) -> None:
    gcp_fake.put_secret(S, labels={"sync": "no"})
    gsm.update_secret(
        request={"secret": {"name": S, "labels": {"sync": "yes"}}, "update_mask": {"paths": ["labels"]}}
    )

    assert [
        s.name for s in gsm.list_secrets(request={"parent": "projects/p", "filter": "labels.sync=yes"})
    ] == [S]


# -- creation rules, payloads, checksums --------------------------------------------------------------


def test_create_rules(gsm: sm.SecretManagerServiceClient) -> None:
    request: dict[str, Any] = {
        "parent": "projects/p",
        "secret_id": "ok_id-1",
        "secret": {"replication": {"automatic": {}}},
    }
    created = gsm.create_secret(request=request)

    assert created.name == "projects/p/secrets/ok_id-1" and created.create_time is not None and created.etag
    with pytest.raises(gexc.AlreadyExists):
        gsm.create_secret(request=request)
    with pytest.raises(gexc.InvalidArgument):
        gsm.create_secret(request={**request, "secret_id": "bad/id"})
    with pytest.raises(gexc.InvalidArgument):
        gsm.create_secret(request={**request, "parent": "organizations/1"})


def test_checksums_round_trip_and_mismatch(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient
) -> None:
    gcp_fake.put_secret(S)
    data = b"payload"
    version = gsm.add_secret_version(
        request={"parent": S, "payload": {"data": data, "data_crc32c": crc32c(data)}}
    )

    assert version.client_specified_payload_checksum
    assert _access(gsm, version.name).payload.data_crc32c == crc32c(data)
    with pytest.raises(gexc.InvalidArgument, match="Checksum mismatch"):
        gsm.add_secret_version(request={"parent": S, "payload": {"data": data, "data_crc32c": 1}})


def test_payload_limit_is_64_kib(gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient) -> None:
    gcp_fake.put_secret(S)
    gsm.add_secret_version(request={"parent": S, "payload": {"data": b"x" * 65536}})
    with pytest.raises(gexc.InvalidArgument):
        gsm.add_secret_version(request={"parent": S, "payload": {"data": b"x" * 65537}})


def test_crc32c_known_vector() -> None:
    assert crc32c(b"123456789") == 0xE3069283


def test_delete_secret_removes_versions(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient
) -> None:
    gcp_fake.put_secret(S, "v1")
    gsm.delete_secret(name=S)

    with pytest.raises(gexc.NotFound):
        _access(gsm, f"{S}/versions/1")
    with pytest.raises(gexc.NotFound):
        gsm.delete_secret(name=S)


# -- listing: regional names, filters, paging, order --------------------------------------------------


def test_regional_and_global_secrets_are_listed_separately(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient
) -> None:
    regional = "projects/p/locations/europe-west1/secrets/r"
    gcp_fake.put_secret(regional, "rv")
    gcp_fake.put_secret(S, "gv")

    assert [s.name for s in gsm.list_secrets(parent="projects/p/locations/europe-west1")] == [regional]
    assert [s.name for s in gsm.list_secrets(parent="projects/p")] == [S]
    assert _access(gsm, f"{regional}/versions/latest").payload.data == b"rv"


def test_list_secrets_pages_through_everything_sorted(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient
) -> None:
    for name in ("e", "b", "a", "d", "c"):
        gcp_fake.put_secret(f"projects/p/secrets/{name}")

    pager = gsm.list_secrets(request={"parent": "projects/p", "page_size": 2})
    names = [s.name.rsplit("/", 1)[1] for s in pager]

    assert names == ["a", "b", "c", "d", "e"]
    assert gcp_fake.calls["ListSecrets"] == 3


def test_page_token_is_bound_to_the_query(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient
) -> None:
    for name in ("a", "b", "c"):
        gcp_fake.put_secret(f"projects/p/secrets/{name}")
    first = gsm.list_secrets(request={"parent": "projects/p", "page_size": 1}).next_page_token

    with pytest.raises(gexc.InvalidArgument):
        gsm.list_secrets(
            request={"parent": "projects/p", "page_size": 1, "page_token": first, "filter": "name:a"}
        )
    with pytest.raises(gexc.InvalidArgument):
        gsm.list_secrets(request={"parent": "projects/p", "page_token": "garbage!"})


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ("labels.env=prod", ["a", "b"]),
        ("labels.env = prod", ["a", "b"]),
        ('labels.env="prod"', ["a", "b"]),
        ("labels.env!=prod", ["c", "d"]),
        ("labels.team:*", ["b", "c"]),
        ("labels:team", ["b", "c"]),
        ("labels.env=prod labels.team=core", ["b"]),
        ("labels.env=prod AND labels.team=core", ["b"]),
        ("labels.env=dev OR labels.team=core", ["b", "c"]),
        ("NOT labels.env=prod", ["c", "d"]),
        ("-labels.env=prod", ["c", "d"]),
        ("(labels.env=dev OR labels.env=prod) labels.team:*", ["b", "c"]),
        ("name:app-", ["a", "b"]),
        ("name=app-b", ["b"]),
        ("name=app-*", ["a", "b"]),
        ("name=projects/p/secrets/c", ["c"]),
        ("name:projects", []),
        ("", ["a", "b", "c", "d"]),
    ],
)
def test_list_secrets_filters(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient, flt: str, expected: list[str]
) -> None:
    gcp_fake.put_secret("projects/p/secrets/app-a", labels={"env": "prod"})
    gcp_fake.put_secret("projects/p/secrets/app-b", labels={"env": "prod", "team": "core"})
    gcp_fake.put_secret("projects/p/secrets/c", labels={"env": "dev", "team": "core"})
    gcp_fake.put_secret("projects/p/secrets/d")

    names = [
        s.name.rsplit("/", 1)[1] for s in gsm.list_secrets(request={"parent": "projects/p", "filter": flt})
    ]

    assert [n.removeprefix("app-") for n in names] == expected


def test_invalid_filter_is_invalid_argument(gsm: sm.SecretManagerServiceClient) -> None:
    with pytest.raises(gexc.InvalidArgument):
        list(gsm.list_secrets(request={"parent": "projects/p", "filter": "(labels.a=b"}))
    with pytest.raises(gexc.InvalidArgument):
        list(gsm.list_secrets(request={"parent": "projects/p", "filter": "create_time>2020"}))


def test_compile_filter_precedence_or_binds_tighter_than_and() -> None:
    predicate = compile_filter("labels.a=1 OR labels.b=1 labels.c=1", ("labels", "name"))

    assert predicate({"labels": {"a": "1", "c": "1"}, "names": ()})
    assert not predicate({"labels": {"a": "1"}, "names": ()})
    with pytest.raises(RpcError):
        compile_filter("labels.a=1 OR", ("labels",))({"labels": {}})


def test_versions_listed_newest_first_with_state_filter(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient
) -> None:
    gcp_fake.put_secret(S, "v1", "v2", "v3")
    gcp_fake.set_version_state(f"{S}/versions/2", "DISABLED")

    everything = [v.name.rsplit("/", 1)[1] for v in gsm.list_secret_versions(parent=S)]
    enabled = [
        v.name.rsplit("/", 1)[1]
        for v in gsm.list_secret_versions(request={"parent": S, "filter": "state:ENABLED"})
    ]

    assert everything == ["3", "2", "1"]
    assert enabled == ["3", "1"]


# -- test controls: faults, latency, counters, stop/start ---------------------------------------------


def test_fail_next_counts_down_and_respects_method_filter(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient
) -> None:
    gcp_fake.put_secret(S, "v1")
    gcp_fake.fail_next(2, methods=["AccessSecretVersion"])

    assert gsm.get_secret(name=S).name == S  # other methods unaffected
    for _ in range(2):
        with pytest.raises(gexc.ServiceUnavailable, match="injected UNAVAILABLE"):
            _access(gsm, f"{S}/versions/1")
    assert _access(gsm, f"{S}/versions/1").payload.data == b"v1"
    assert gcp_fake.calls == {"GetSecret": 1, "AccessSecretVersion": 3}  # failed calls count too


def test_fail_always_until_cleared(gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient) -> None:
    gcp_fake.put_secret(S, "v1")
    gcp_fake.fail_always(
        grpc.StatusCode.PERMISSION_DENIED, message="Permission 'secretmanager.versions.access' denied"
    )

    for _ in range(3):
        with pytest.raises(gexc.PermissionDenied, match=r"secretmanager\.versions\.access"):
            _access(gsm, f"{S}/versions/1")
    gcp_fake.clear_faults()
    assert _access(gsm, f"{S}/versions/1").payload.data == b"v1"


def test_official_client_retries_a_single_unavailable(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient
) -> None:
    """Documents the client's own retry (initial backoff ~1 s) that absorbs one injected UNAVAILABLE."""
    gcp_fake.put_secret(S, "v1")
    gcp_fake.fail_next(1, methods=["AccessSecretVersion"])

    assert gsm.access_secret_version(name=f"{S}/versions/1").payload.data == b"v1"
    assert gcp_fake.calls["AccessSecretVersion"] == 2


def test_latency_triggers_client_deadline(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient
) -> None:
    gcp_fake.put_secret(S, "v1")
    gcp_fake.set_latency(0.5, methods=["AccessSecretVersion"])

    with pytest.raises(gexc.DeadlineExceeded):
        gsm.access_secret_version(name=f"{S}/versions/1", retry=None, timeout=0.1)


def test_unimplemented_methods_say_so(gsm: sm.SecretManagerServiceClient) -> None:
    with pytest.raises(gexc.MethodNotImplemented):
        gsm.get_iam_policy(request={"resource": S})


def test_stop_start_keeps_data_and_port(
    gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient
) -> None:
    gcp_fake.put_secret(S, "v1")
    endpoint = gcp_fake.endpoint

    gcp_fake.restart()

    assert gcp_fake.endpoint == endpoint and gcp_fake.running
    assert gsm.access_secret_version(name=f"{S}/versions/1", timeout=10).payload.data == b"v1"


def test_reset_forgets_everything(gcp_fake: SecretManagerFake, gsm: sm.SecretManagerServiceClient) -> None:
    gcp_fake.put_secret(S, "v1")
    _access(gsm, f"{S}/versions/1")
    gcp_fake.fail_always()

    gcp_fake.reset()

    assert gcp_fake.secret_names() == [] and gcp_fake.total_calls == 0
    with pytest.raises(gexc.NotFound):
        _access(gsm, f"{S}/versions/1")
