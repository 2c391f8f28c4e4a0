"""ESO and Bitnami fields on a real API server, sent the way most clients send them.

Why: our CRDs are closed schemas, so a real API server silently PRUNES every field they do not
declare for any client that does not ask for strict field validation (Argo CD, Flux, client
libraries, ``kubectl apply --validate=false``): an ESO feature secretsync lacks would simply not
happen. Each such field is declared and refused by one CEL rule; here every one of them
(tests/test_crds.py's ``REFUSALS``) is POSTed as an admin without any ``fieldValidation``
parameter and must be refused with its message, creating nothing. Before the declarations, each
of these POSTs answered 201 with the field gone (metadataPolicy Fetch and conversionStrategy
Unicode answered 422 "Unsupported value", without saying what to do instead).

Bitnami's side: ``kubeseal`` writes ``creationTimestamp: null`` (and whatever metadata the sealed
Secret had) in spec.template.metadata, which Bitnami's CRD keeps; with strict field validation
(kubectl apply's default) our CRD answered 400 "unknown field" before.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.real_cluster import ControlPlane
from tests.test_crds import (
    ESO_PERIODIC_EXAMPLE,
    KUBESEAL_FINALIZER,
    REFUSALS,
    Refusal,
    kubeseal_output,
    set_at,
)

API = "/apis/secretsync.io/v1alpha1"
PLURALS = {
    "ExternalSecret": "externalsecrets",
    "SecretStore": "secretstores",
    "ClusterSecretStore": "clustersecretstores",
}


def _collection(kind: str, namespace: str) -> str:
    where = "" if kind == "ClusterSecretStore" else f"/namespaces/{namespace}"
    return f"{API}{where}/{PLURALS[kind]}"


def _name(case: Refusal, prefix: str) -> str:
    return f"{prefix}-{re.sub(r'[^a-z0-9]+', '-', case.id.lower())}"[:63].strip("-")


def _at(body: Any, path: str) -> Any:
    for part in path.split("."):
        name, *indices = re.split(r"\[(\d+)\]", part)
        body = body[name]
        for index in (int(i) for i in indices if i):
            body = body[index]
    return body


@pytest.fixture(scope="module")
def ns(installed: ControlPlane) -> Iterator[str]:
    """One namespace for every case of this module (nothing is meant to be created in it)."""
    name = "crd-fields-real"
    installed.create_namespace(name)
    yield name
    installed.request("DELETE", f"/api/v1/namespaces/{name}")


@pytest.mark.parametrize("case", REFUSALS, ids=lambda case: case.id)
def test_unsupported_field_is_refused_not_pruned(installed: ControlPlane, ns: str, case: Refusal) -> None:
    name = _name(case, "refused")
    status, answer = installed.request("POST", _collection(case.kind, ns), case.body(name=name, namespace=ns))
    assert status == 422, (status, answer)
    assert case.message in answer["message"]
    (cause,) = answer["details"]["causes"]
    assert cause["field"] == case.path and cause["message"].endswith(case.message)
    assert installed.request("GET", f"{_collection(case.kind, ns)}/{name}")[0] == 404


def _defaults() -> dict[str, list[Refusal]]:
    """The refused fields that have a supported (ESO's no-op) value, grouped into objects: one
    ExternalSecret, and one store per kind and provider."""
    groups: dict[str, list[Refusal]] = {}
    for case in REFUSALS:
        if case.node.supported:
            provider = case.path.split(".")[2] if case.kind != "ExternalSecret" else ""
            groups.setdefault(f"{case.kind}-{provider}".strip("-"), []).append(case)
    return groups


DEFAULTS = _defaults()


@pytest.mark.parametrize("group", DEFAULTS)
def test_esos_defaults_of_unsupported_fields_are_accepted_and_kept(
    installed: ControlPlane, ns: str, group: str
) -> None:
    """metadataPolicy None, nullBytePolicy Ignore, readYourWrites false, ...: stored as written
    (declared, so never pruned), all in one object."""
    cases = DEFAULTS[group]
    name = f"defaults-{group.lower()}"
    body = cases[0].base(name=name, namespace=ns)
    for case in cases:
        set_at(body, case.path, case.node.supported[0])
    collection = _collection(cases[0].kind, ns)
    status, answer = installed.request("POST", collection, body)
    try:
        assert status == 201, (status, answer)
        stored = installed.get(f"{collection}/{name}")
        assert {case.path: _at(stored, case.path) for case in cases} == {
            case.path: case.node.supported[0] for case in cases
        }
    finally:
        installed.request("DELETE", f"{collection}/{name}")


def test_eso_docs_example_with_refresh_policy_periodic(installed: ControlPlane, ns: str) -> None:
    """ESO's documented example, apiVersion changed: accepted as written, stored without defaults."""
    body = copy.deepcopy(ESO_PERIODIC_EXAMPLE)
    body["metadata"]["namespace"] = ns
    status, answer = installed.request("POST", _collection("ExternalSecret", ns), body)
    try:
        assert status == 201, (status, answer)
        assert answer["spec"] == body["spec"]  # no server-side default added: no GitOps drift
    finally:
        installed.request("DELETE", f"{_collection('ExternalSecret', ns)}/example")


def test_eso_engine_v1_is_refused_with_the_alternative(installed: ControlPlane, ns: str) -> None:
    body = copy.deepcopy(ESO_PERIODIC_EXAMPLE)
    body["metadata"]["namespace"] = ns
    body["spec"]["target"]["template"] = {"engineVersion": "v1", "data": {"k": "{{ .key }}"}}
    status, answer = installed.request("POST", _collection("ExternalSecret", ns), body)
    assert status == 422, (status, answer)
    assert answer["message"] == (
        'ExternalSecret.secretsync.io "example" is invalid: spec.target.template.engineVersion: Invalid '
        "value: ESO's template engine v1 is not supported (ESO's v1 API dropped it too); use engineVersion "
        "v2 or omit it: Go text/template with Sprig"
    )


@pytest.mark.parametrize("validation", ["", "Strict"], ids=["default", "strict"])
def test_kubeseal_output_is_accepted_as_bitnami_accepts_it(
    installed: ControlPlane, namespace: str, validation: str
) -> None:
    """creationTimestamp: null (and the rest of the sealed Secret's metadata) in spec.template.metadata,
    finalizers on the object: 201, with or without strict field validation, template kept as written."""
    sealed, _ = kubeseal_output()
    name = f"kubeseal-{validation.lower() or 'default'}"
    sealed["metadata"].update(name=name, namespace=namespace)
    sealed["spec"]["template"]["metadata"].update(name=name, namespace=namespace)
    collection = f"{API}/namespaces/{namespace}/sealedsecrets"
    query = f"?fieldValidation={validation}" if validation else ""
    status, answer = installed.request("POST", collection + query, sealed)
    try:
        assert status == 201, (status, answer)
        stored = installed.get(f"{collection}/{name}")
        assert stored is not None
        assert stored["metadata"]["finalizers"] == [KUBESEAL_FINALIZER]
        assert stored["spec"] == sealed["spec"]  # nothing pruned, creationTimestamp: null included
    finally:
        installed.request(
            "PATCH",
            f"{collection}/{name}",
            {"metadata": {"finalizers": None}},
            content_type="application/merge-patch+json",
        )
        installed.request("DELETE", f"{collection}/{name}")


def test_bitnamis_pre_0_7_format_is_refused_not_pruned(installed: ControlPlane, ns: str) -> None:
    sealed, _ = kubeseal_output()
    sealed["metadata"].update(name="old-format", namespace=ns, finalizers=[])
    sealed["spec"]["data"] = "c2VhbGVk"
    collection = f"{API}/namespaces/{ns}/sealedsecrets"
    status, answer = installed.request("POST", collection, sealed)
    assert status == 422, (status, answer)
    assert "spec.data: Invalid value: spec.data is the pre-0.7 Bitnami format" in answer["message"]
    assert installed.request("GET", f"{collection}/old-format")[0] == 404
