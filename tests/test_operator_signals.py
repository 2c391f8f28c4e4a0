"""SIGTERM and SIGINT at each point of the operator's start-up: the process exits at once, cleanly.

Kubernetes sends SIGTERM to a pod that is still starting (a rollout, a node drain) and kills it
after the grace period; an operator that sits on the signal delays every rollout. kopf puts its
own signal handlers in place while it starts, and a signal that reaches them left its waiter of
our stop flag hanging for kopf's 5 s grace period (fixed in secretsync/operator.py: ours replace
kopf's the moment kopf has installed them).
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support import slow_kopf_start
from tests.support.kube_emulator import wait_for
from tests.support.operator_proc import OperatorProcess

OPERATOR_NS = "secretsync-system"
# A clean exit takes ~0.2 s here; the bug took 5 s (kopf's fixed wait for hung tasks). The bound
# is generous for a loaded machine and still far below the 5 s.
PROMPT = 3.0


def _exit_after(proc: OperatorProcess, sig: int) -> tuple[int, float]:
    assert proc.proc is not None and proc.proc.poll() is None, proc.logs()[-2000:]
    started = time.monotonic()
    proc.proc.send_signal(sig)
    code = proc.proc.wait(timeout=30)
    return code, time.monotonic() - started


def _assert_clean(proc: OperatorProcess, code: int, took: float) -> None:
    logs = proc.logs()
    assert code == 0, logs[-3000:]
    assert took < PROMPT, f"took {took:.1f}s to exit:\n{logs[-3000:]}"
    assert "secretsync operator stopped" in logs and "Traceback" not in logs


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_while_kopf_is_still_starting_stops_the_operator_at_once(
    kube_emulator: Any, tmp_path: Path, sig: int
) -> None:
    kube_emulator.ensure_namespace(OPERATOR_NS)
    proc = OperatorProcess(
        str(kube_emulator.kubeconfig_path), tmp_path, extra_args=["--key-renew-period", "0"]
    )
    proc.args = [sys.executable, slow_kopf_start.__file__, *proc.cli_args]
    proc.start()
    try:
        wait_for(lambda: slow_kopf_start.MARK in proc.logs(), timeout=30, message="kopf's startup activity")
        code, took = _exit_after(proc, sig)
    finally:
        proc.stop()
    _assert_clean(proc, code, took)
    assert "secretsync operator is ready" not in proc.logs()


def test_sigterm_while_the_key_ring_cannot_be_read_at_start(
    kube_emulator: Any, operator_factory: Any
) -> None:
    """Before kopf: the key list answered 503, retried with backoff."""
    kube_emulator.ensure_namespace(OPERATOR_NS)
    keys = f"/api/v1/namespaces/{OPERATOR_NS}/secrets"
    kube_emulator.handler[lambda r: r.method == "GET" and str(r.url.path) == keys] << 503
    proc: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    wait_for(lambda: "cannot load the sealing keys yet" in proc.logs(), timeout=30, message="key retry")
    _assert_clean(proc, *_exit_after(proc, signal.SIGTERM))


def test_sigterm_while_standing_by_for_the_lease(kube_emulator: Any, operator_factory: Any) -> None:
    """A standby waiting for a Lease another replica holds."""
    kube_emulator.ensure_namespace(OPERATOR_NS)
    holder: OperatorProcess = operator_factory(extra_args=["--leader-elect", "--key-renew-period", "0"])
    holder.wait_reconciling()
    standby: OperatorProcess = operator_factory(extra_args=["--leader-elect", "--key-renew-period", "0"])
    standby.wait_ready()  # a standby is Ready: it serves the read-only API
    assert not standby.reconciling()
    _assert_clean(standby, *_exit_after(standby, signal.SIGTERM))
    assert holder.reconciling()
