"""Fixtures the security tests share: a sealing key and a running operator."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.operator_proc import OperatorProcess
from tests.support.sealed_env import fresh_key, key_secret


@pytest.fixture
def cert(kube_emulator: Any) -> bytes:
    """A fresh 2048-bit sealing key in the operator's namespace; its certificate."""
    kube_emulator.ensure_namespace("secretsync-system")
    key_pem, cert_pem = fresh_key()
    kube_emulator.create(key_secret("sealing-key", key_pem, cert_pem))
    return cert_pem


@pytest.fixture
def running(env: Any, cert: bytes, operator_factory: Any) -> OperatorProcess:
    """The operator, ready, once the test module's ``env`` fixture has made its namespaces."""
    proc: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    proc.wait_ready()
    return proc
