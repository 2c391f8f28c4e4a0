"""The real `secretsync operator` process against the API emulator: start, serve, stop."""

from __future__ import annotations

import signal
from typing import Any

from tests.support.kube_emulator import wait_for
from tests.support.operator_proc import OperatorProcess

OPERATOR_NS = "secretsync-system"


def test_operator_starts_serves_and_stops_on_sigterm(kube_emulator: Any, operator_factory: Any) -> None:
    kube_emulator.ensure_namespace(OPERATOR_NS)
    proc: OperatorProcess = operator_factory()
    proc.wait_ready()
    assert proc.get("/healthz") == (200, "ok\n")
    assert proc.get("/readyz")[0] == 200
    assert "secretsync_operator_up 1.0" in proc.metrics()
    assert proc.stop(signal.SIGTERM) == 0
    logs = proc.logs()
    assert "secretsync operator stopped" in logs
    assert "Traceback" not in logs
    assert proc.get("/healthz")[0] == 0  # the servers are gone with the process


def test_operator_stops_on_sigint(kube_emulator: Any, operator_factory: Any) -> None:
    kube_emulator.ensure_namespace(OPERATOR_NS)
    proc: OperatorProcess = operator_factory()
    proc.wait_ready()
    assert proc.stop(signal.SIGINT) == 0


def test_operator_json_logs(kube_emulator: Any, operator_factory: Any) -> None:
    import json

    kube_emulator.ensure_namespace(OPERATOR_NS)
    proc: OperatorProcess = operator_factory(extra_args=["--log-format", "json"])
    proc.wait_ready()
    proc.stop()
    lines = [line for line in proc.logs().splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]
    assert any(p["message"] == "secretsync operator is ready" for p in parsed)
    assert all({"time", "level", "logger", "message"} <= p.keys() for p in parsed)


def test_leader_election_one_active_one_standby_and_failover(
    kube_emulator: Any, operator_factory: Any
) -> None:
    kube_emulator.ensure_namespace(OPERATOR_NS)
    first: OperatorProcess = operator_factory(extra_args=["--leader-elect"])
    first.wait_ready()
    second: OperatorProcess = operator_factory(extra_args=["--leader-elect"])
    second.wait_ready(path="/healthz")
    lease = kube_emulator.get("coordination.k8s.io/v1", "Lease", "secretsync-operator", OPERATOR_NS)
    assert lease is not None and lease["spec"]["holderIdentity"]
    # The standby is Ready (it serves the read-only API from the same keys) but does not reconcile.
    second.wait_ready()
    assert first.reconciling() and not second.reconciling()
    assert second.get("/v1/cert.pem") == first.get("/v1/cert.pem")
    assert first.stop() == 0  # releases the lease
    second.wait_reconciling(timeout=30)
    holder = wait_for(
        lambda: kube_emulator.get("coordination.k8s.io/v1", "Lease", "secretsync-operator", OPERATOR_NS)[
            "spec"
        ]["holderIdentity"]
    )
    assert holder != lease["spec"]["holderIdentity"]


def test_standby_takes_over_within_30s_when_the_leader_dies(
    kube_emulator: Any, operator_factory: Any
) -> None:
    """HA: the active replica is killed (no clean release); the standby takes the Lease once it
    expires and processes a SealedSecret created after the crash."""
    import time

    from tests.support.sealed_env import KEY_LABEL, key_secret, seal, secret, vector_key

    kube_emulator.ensure_namespace(OPERATOR_NS)
    kube_emulator.ensure_namespace("team-a")
    key_pem, cert_pem = vector_key(4096)
    kube_emulator.create(key_secret("key", key_pem, cert_pem, label=KEY_LABEL))
    leader: OperatorProcess = operator_factory(extra_args=["--leader-elect"])
    leader.wait_ready()
    standby: OperatorProcess = operator_factory(extra_args=["--leader-elect"])
    standby.wait_ready()
    assert not standby.reconciling()
    leader.stop(signal.SIGKILL)
    killed = time.monotonic()
    kube_emulator.create(seal(cert_pem, secret("after-failover", "team-a", {"k": "v"})))
    standby.wait_reconciling(timeout=30)
    wait_for(lambda: kube_emulator.get("v1", "Secret", "after-failover", "team-a"), timeout=30)
    assert time.monotonic() - killed < 30
