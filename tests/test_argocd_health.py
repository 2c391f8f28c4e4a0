"""Argo CD health, computed by the Lua scripts themselves (Lua 5.1, as Argo CD runs them).

Argo CD's built-in checks for ESO's and Bitnami's kinds (pinned argo-cd release) must read the
status secretsync writes in compatibility mode as they read ESO's and Bitnami's; ours
(deploy/argocd/health-checks.yaml) must read what secretsync writes for its own kinds.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from secretsync import status
from secretsync.external.outcome import ESO, Outcome
from tests.support import upstream
from tests.support.argo_health import health

ROOT = Path(__file__).resolve().parents[1]
ARGO_KINDS = [
    ("external-secrets.io", "ExternalSecret"),
    ("external-secrets.io", "SecretStore"),
    ("external-secrets.io", "ClusterSecretStore"),
    ("bitnami.com", "SealedSecret"),
]
NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


def _argo_cases() -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    cases = []
    for group, kind in ARGO_KINDS:
        base = f"resource_customizations/{group}/{kind}"
        tests = yaml.safe_load(upstream.read(upstream.ARGOCD, f"{base}/health_test.yaml"))["tests"]
        for test in tests:
            obj = yaml.safe_load(upstream.read(upstream.ARGOCD, f"{base}/{test['inputPath']}"))
            cases.append((group, kind, obj, test["healthStatus"]))
    return cases


@pytest.mark.parametrize(("group", "kind", "obj", "expected"), _argo_cases())
def test_the_harness_agrees_with_argo_cds_own_test_cases(
    group: str, kind: str, obj: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert health(upstream.argocd_health(group, kind), obj) == expected


def _object(kind: str, st: dict[str, Any], generation: int = 1, **spec: Any) -> dict[str, Any]:
    return {"kind": kind, "metadata": {"name": "x", "generation": generation}, "spec": spec, "status": st}


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (Outcome(True, "SecretSynced", "synced 2 keys into Secret ns/db"), "Healthy"),
        (Outcome(False, "ProviderUnavailable", "vault: cannot reach https://vault:8200"), "Degraded"),
        (Outcome(False, "SecretDeleted", "every remote secret is gone; Secret deleted"), "Healthy"),
    ],
)
def test_eso_health_reads_the_external_secret_status_of_compatibility_mode(
    outcome: Outcome, expected: str
) -> None:
    ready, reason = ESO.es_condition(outcome)
    st = status.build(None, ready=ready, reason=reason, message=outcome.message, generation=1, now=NOW)
    st["refreshTime"] = status.now_iso(NOW)
    got = health(
        upstream.argocd_health("external-secrets.io", "ExternalSecret"), _object("ExternalSecret", st)
    )
    assert got == {"status": expected, "message": outcome.message}
    assert reason in ("SecretSynced", "SecretSyncedError", "SecretDeleted")


@pytest.mark.parametrize("kind", ["SecretStore", "ClusterSecretStore"])
@pytest.mark.parametrize(
    ("ready", "reason", "expected"), [(True, "Valid", "Healthy"), (False, "ProviderAuthFailed", "Degraded")]
)
def test_eso_health_reads_the_store_status_of_compatibility_mode(
    kind: str, ready: bool, reason: str, expected: str
) -> None:
    st = status.build(
        None, ready=ready, reason=ESO.store_reason(ready, reason), message="m", generation=1, now=NOW
    )
    assert health(upstream.argocd_health("external-secrets.io", kind), _object(kind, st)) == {
        "status": expected,
        "message": "m",
    }


def test_bitnami_health_reads_the_synced_status_of_compatibility_mode() -> None:
    script = upstream.argocd_health("bitnami.com", "SealedSecret")
    ok = status.build_synced(None, ready=True, message="unsealed 2 keys", generation=1, now=NOW)
    assert health(script, _object("SealedSecret", ok)) == {"status": "Healthy", "message": "unsealed 2 keys"}
    bad = status.build_synced(
        ok, ready=False, message="cannot open key a", generation=2, now=NOW + dt.timedelta(1)
    )
    assert health(script, _object("SealedSecret", bad, 2)) == {
        "status": "Degraded",
        "message": "cannot open key a",
    }
    (cond,) = bad["conditions"]
    assert cond["lastTransitionTime"] == cond["lastUpdateTime"] == "2026-12-01T12:00:00Z"
    assert bad["observedGeneration"] == 2


def test_bitnami_status_moves_times_as_bitnamis_controller_does() -> None:
    first = status.build_synced(None, ready=True, message="m", generation=1, now=NOW)
    later = NOW + dt.timedelta(hours=1)
    assert status.build_synced(first, ready=True, message="m", generation=1, now=later) == first  # no rewrite
    changed = status.build_synced(first, ready=True, message="m2", generation=1, now=later)
    (cond,) = changed["conditions"]
    assert (cond["lastTransitionTime"], cond["lastUpdateTime"]) == (
        "2026-11-30T12:00:00Z",
        "2026-11-30T13:00:00Z",
    )
    other = {"type": "Other", "status": "True"}
    kept = status.build_synced({"conditions": [other]}, ready=True, message="m", generation=1, now=NOW)
    assert kept["conditions"][0] == other and kept["conditions"][1]["type"] == "Synced"


# --------------------------------------------------------------------------- our own checks

OURS = yaml.safe_load((ROOT / "deploy" / "argocd" / "health-checks.yaml").read_text())["data"]


@pytest.mark.parametrize("kind", ["SealedSecret", "ExternalSecret", "SecretStore", "ClusterSecretStore"])
def test_our_health_checks_read_what_the_operator_writes(kind: str) -> None:
    script = OURS[f"resource.customizations.health.secretsync.io_{kind}"]
    assert health(script, {"kind": kind, "metadata": {"generation": 1}})["status"] == "Progressing"
    good = status.build(None, ready=True, reason="Valid", message="ok", generation=1, now=NOW)
    assert health(script, _object(kind, good)) == {"status": "Healthy", "message": "ok"}
    bad = status.build(
        None, ready=False, reason="ProviderAuthFailed", message="denied", generation=1, now=NOW
    )
    assert health(script, _object(kind, bad)) == {
        "status": "Degraded",
        "message": "ProviderAuthFailed: denied",
    }
    stale = health(script, _object(kind, good, generation=2))
    assert stale["status"] == "Progressing" and "generation 2" in stale["message"]
