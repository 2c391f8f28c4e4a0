"""The real-cluster tier: a real kube-apiserver, etcd and kube-controller-manager (built from Go
modules by controlplane/build.sh), started once per session on this machine.

Every test here is marked ``cluster``. The operator runs as its ServiceAccount with a token from
the TokenRequest API, installed with the built kubectl exactly as the README says, so the shipped
RBAC is all that authorizes it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.kube_emulator import wait_for as emulator_wait_for
from tests.support.operator_proc import OperatorProcess
from tests.support.real_cluster import ControlPlane

ROOT = Path(__file__).resolve().parents[2]
OPERATOR_NS = "secretsync-system"
SA = "secretsync"
CRDS = tuple(
    f"crd/{plural}.secretsync.io"
    for plural in ("sealedsecrets", "externalsecrets", "secretstores", "clustersecretstores")
)
_counter = itertools.count()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.cluster)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    with ControlPlane(tmp_path_factory.mktemp("cluster")) as plane:
        yield plane


@pytest.fixture(scope="module")
def own_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A control plane for one test module alone (an overlay that must not meet the base's RBAC)."""
    with ControlPlane(tmp_path_factory.mktemp("own-cluster")) as plane:
        yield plane


@pytest.fixture(scope="session")
def installed(cluster: ControlPlane) -> ControlPlane:
    """crds/ and deploy/base applied with the built kubectl, as the README tells users."""
    cluster.kubectl("apply", "--server-side", "-k", str(ROOT / "deploy" / "base"))
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s", *CRDS)
    return cluster


@pytest.fixture
def namespace(cluster: ControlPlane, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace for one test (deleted afterwards; the namespace controller empties it)."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())
    name = f"t{next(_counter)}-{slug}"[:50].rstrip("-")
    cluster.create_namespace(name)
    yield name
    cluster.request("DELETE", f"/api/v1/namespaces/{name}")


OperatorStarter = Callable[..., OperatorProcess]


class Operators:
    """Starts ``secretsync operator`` processes as a ServiceAccount of one cluster; stops them all."""

    def __init__(self, cluster: ControlPlane, workdir: Path) -> None:
        self.cluster = cluster
        self.workdir = workdir
        self.started: list[OperatorProcess] = []

    def start(
        self,
        *args: str,
        service_account: str = SA,
        namespace: str = OPERATOR_NS,
        wait: bool = True,
        expose: bool = True,
        env: dict[str, str] | None = None,
        kubeconfig: Path | None = None,
    ) -> OperatorProcess:
        """The operator as ``namespace/service_account`` (a bound token from the TokenRequest API),
        its HTTP API behind the Service ``secretsync`` port ``http`` and the API server's proxy.
        ``kubeconfig``: another one for the same account (e.g. one with a ``tokenFile``)."""
        kubeconfig = kubeconfig or self.cluster.token_kubeconfig(
            namespace, service_account, self.workdir / f"{service_account}-{len(self.started)}.kubeconfig"
        )
        proc = OperatorProcess(
            str(kubeconfig),
            self.workdir,
            namespace=namespace,
            extra_args=["--key-renew-period", "0", *args],
            env=env,
            bind_address=self.cluster.host,
        ).start()
        self.started.append(proc)
        if expose:
            self.cluster.expose(namespace, "secretsync", "http", proc.http_port)
        if wait:
            proc.wait_ready(timeout=60)
        return proc

    def stop(self) -> None:
        for proc in self.started:
            proc.stop()


@pytest.fixture
def start_operator(installed: ControlPlane, tmp_path: Path) -> Iterator[OperatorStarter]:
    """``start_operator(*flags)``: the operator as ``secretsync-system/secretsync`` on the session's
    cluster, with deploy/base installed."""
    operators = Operators(installed, tmp_path)
    yield operators.start
    operators.stop()


def wait_for(check: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll ``check`` until it is truthy (the emulator tests' helper, at a real cluster's pace)."""
    return emulator_wait_for(check, timeout=timeout, interval=0.2, message=what)
