"""The ``operator`` fixture: a factory of real operator processes against the emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.operator_proc import OperatorProcess

OperatorFactory = Callable[..., OperatorProcess]


@pytest.fixture
def operator_factory(kube_emulator: Any, tmp_path: Path) -> Iterator[OperatorFactory]:
    """Start operators with ``operator_factory(extra_args=[...], env={...})``; all stop after the test."""
    started: list[OperatorProcess] = []

    def start(**kwargs: Any) -> OperatorProcess:
        proc = OperatorProcess(str(kube_emulator.kubeconfig_path), tmp_path, **kwargs).start()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def operator(operator_factory: OperatorFactory) -> OperatorProcess:
    """One ready operator process watching all namespaces."""
    proc = operator_factory()
    proc.wait_ready()
    return proc
