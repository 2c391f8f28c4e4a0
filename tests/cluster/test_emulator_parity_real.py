"""The emulator refuses what the real API server refuses: the same cases, against the real server.

tests/test_emulator_gaps.py::test_secrets_the_api_server_refuses_are_refused runs these cases on
the emulator; if kube-apiserver ever answers differently, this test shows it, so the fast tier
cannot quietly accept what a cluster refuses.
"""

from __future__ import annotations

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
