"""Custom resources: the emulator decodes and validates them as the real API server does.

Each case of tests/test_emulator_gaps.py's ``CR_CASES`` (and the ratcheting sequence) goes, as plain
HTTP, to the real kube-apiserver and to a fresh emulator: pruning of unknown fields (warnings, or
400/422 with ``fieldValidation=Strict``), nulls and defaults, the schema's types, formats, enums,
patterns, lengths and bounds, required fields, the CEL rules of our CRDs and of a probe CRD,
``x-kubernetes-preserve-unknown-fields``, the status subresource, creates, PUTs, merge and JSON
patches. Both must answer the same status, the same causes (field, reason and message), the same
warnings and store the same object; and the real server must answer what the case says, so the
fast tier's expectations cannot drift from a real cluster.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.kube_emulator import KubeEmulator
from tests.support.real_cluster import ControlPlane
from tests.test_emulator_gaps import (
    CR_CASES,
    CRDS_PATH,
    NOT_CHECKED,
    PROBE_CRD,
    PROBE_GROUP,
    RATCHET_WRITES,
    CrCase,
    CrOutcome,
    Sender,
    check_cr_outcome,
    run_cr_case,
    run_ratcheting,
    send,
)

NAMESPACE = "cr-parity"


@pytest.fixture(scope="module")
def real(installed: ControlPlane) -> Iterator[Sender]:
    """The real server (as admin) with our CRDs, the probe CRD and the namespace NAMESPACE."""
    context = ssl.create_default_context(cafile=str(installed.ca_path))
    context.load_cert_chain(str(installed.admin_cert), str(installed.admin_key))
    to_real = functools.partial(send, installed.url, context=context)
    installed.create_namespace(NAMESPACE)
    assert to_real("POST", CRDS_PATH, PROBE_CRD).status in (201, 409)
    installed.kubectl("wait", "--for=condition=Established", "--timeout=60s", f"crd/probes.{PROBE_GROUP}")
    probes = f"/apis/{PROBE_GROUP}/v1/namespaces/{NAMESPACE}/probes"
    for _ in range(300):  # Established comes a moment before the resource is served
        if to_real("GET", probes).status == 200:
            break
    yield to_real
    to_real("DELETE", f"{CRDS_PATH}/probes.{PROBE_GROUP}")
    to_real("DELETE", f"/api/v1/namespaces/{NAMESPACE}")


@pytest.fixture
def emulated(kube_emulator: KubeEmulator) -> Sender:
    """A fresh emulator with the same CRDs (ours from crds/, the probe CRD over HTTP) and namespace."""
    to_emulator = functools.partial(send, kube_emulator.url)
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    assert to_emulator("POST", "/api/v1/namespaces", namespace).status == 201
    assert to_emulator("POST", CRDS_PATH, PROBE_CRD).status == 201
    return to_emulator


def comparable(outcome: CrOutcome) -> dict[str, Any]:
    """What must be equal on both servers. The order of several causes varies on a real server (Go
    maps), so causes compare as a multiset, and the message only when it names one field."""
    named = [cause for cause in outcome.causes if cause[0] != NOT_CHECKED]
    return {
        "status": outcome.status,
        "causes": outcome.causes,
        "message": outcome.message if len(named) <= 1 else None,
        "warnings": sorted(outcome.warnings),
        "stored": outcome.stored,
    }


@pytest.mark.parametrize("case", CR_CASES, ids=lambda case: case.id)
def test_the_emulator_answers_as_the_real_server(real: Sender, emulated: Sender, case: CrCase) -> None:
    on_real = run_cr_case(real, case, NAMESPACE)
    on_emulator = run_cr_case(emulated, case, NAMESPACE)
    assert comparable(on_emulator) == comparable(on_real)
    check_cr_outcome(case, on_real)


def test_validation_ratchets_the_same_way(real: Sender, emulated: Sender) -> None:
    on_real = run_ratcheting(real, NAMESPACE)
    assert run_ratcheting(emulated, NAMESPACE) == on_real
    assert on_real == [(422 if fields else 200, fields) for _, _, _, fields in RATCHET_WRITES]
