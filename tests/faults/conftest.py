"""Fixtures of the fault matrix: each module names its namespace ``NS``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.external_env import ExternalEnv
from tests.support.operator_proc import OperatorProcess


@pytest.fixture
def env(kube_emulator: Any, request: pytest.FixtureRequest) -> ExternalEnv:
    for ns in ("secretsync-system", request.module.NS):
        kube_emulator.ensure_namespace(ns)
    return ExternalEnv(kube_emulator)


@pytest.fixture
def running(env: ExternalEnv, operator_factory: Any) -> OperatorProcess:
    """The operator, ready, watching every namespace."""
    proc: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    proc.wait_ready()
    return proc
