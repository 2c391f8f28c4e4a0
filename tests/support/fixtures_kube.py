"""Pytest fixtures for the Kubernetes API emulator (see ``tests/support/kube_emulator.py``).

- ``kube_emulator`` -> :class:`~tests.support.kube_emulator.KubeEmulator`: ``.url``,
  ``.kubeconfig_path`` (token auth, namespace ``default``), ``.api_client()``,
  ``.connection_info()`` (for ``@kopf.on.login``), ``.request(method, path, body)``, helpers
  ``create/get/list/patch/delete/ensure_namespace/apply_crd/issue_token``, ``.handler`` (kmock:
  DSL reactions, ``.objects``, recorded requests) and ``.layer.events`` (the watch event log).
- ``kube_client`` -> ``kubernetes.client.ApiClient`` bound to it (closed after the test).
- ``crd_paths`` -> the CRD files each emulator serves; override it to change the set.
- ``tests.support.kube_emulator.wait_for(predicate, timeout=5.0, interval=0.02, message=None)``
  -> the predicate's first truthy value, or ``AssertionError`` naming what was awaited.

Support modules are imported inside the fixtures, so runs that do not use them do not pay for them.

Example::

    from tests.support.kube_emulator import wait_for

    def test_secret_appears(kube_emulator, kube_client):
        kube_emulator.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}})
        core = kubernetes.client.CoreV1Api(kube_client)
        assert wait_for(lambda: core.read_namespaced_secret("s", "default")).metadata.uid

Each test gets a fresh emulator: starting one (thread, socket, default namespaces, CRDs) takes
under 10 ms, and a fresh server cannot leak objects, watches or reactions between tests.
As in a cluster, objects can only be created in namespaces that exist: ``default``,
``kube-system``, ``kube-public`` and ``kube-node-lease`` do; others need
``kube_emulator.ensure_namespace(name)`` (or a Namespace created through the API).

CRDs served: the project's ``crds/*.yaml`` (when present) plus the emulator's own test CRDs in
``tests/support/crds_for_tests/``.

``SECRETSYNC_KUBE_EMULATOR=kmock-plain`` serves kmock 0.8 as shipped instead of the layered
emulator. It exists only to show which tests depend on the layer (they fail against it).
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import kubernetes.client

    from tests.support.kube_emulator import KubeEmulator

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
TEST_CRDS_DIR = pathlib.Path(__file__).resolve().parent / "crds_for_tests"
BASELINE_ENV = "SECRETSYNC_KUBE_EMULATOR"


@pytest.fixture
def crd_paths() -> list[pathlib.Path]:
    """CRD files loaded into each emulator; override this fixture to serve a different set."""
    return sorted((REPO_ROOT / "crds").glob("*.yaml")) + sorted(TEST_CRDS_DIR.glob("*.yaml"))


@pytest.fixture
def kube_emulator(tmp_path: pathlib.Path, crd_paths: list[pathlib.Path]) -> Iterator[KubeEmulator]:
    """A running API emulator at ``.url`` with ``.kubeconfig_path`` (namespace ``default``).

    At teardown, exceptions the emulator raised while serving (its own bugs, answered as
    HTTP 500) fail the test: otherwise they would only show up as confusing client errors.
    """
    from tests.support.kube_emulator import KubeEmulator, load_crd_documents, plain_kmock_handler

    crds = load_crd_documents(crd_paths)
    handler = plain_kmock_handler(crds) if os.environ.get(BASELINE_ENV) == "kmock-plain" else None
    emulator = KubeEmulator(workdir=tmp_path / "kube-emulator", crds=crds, handler=handler)
    with emulator:
        yield emulator
        errors = emulator.internal_errors if emulator.is_layered else []
    if errors:
        details = "\n".join(f"- {error!r}" for error in errors)
        pytest.fail(f"the Kubernetes API emulator failed internally while serving:\n{details}")


@pytest.fixture
def kube_client(kube_emulator: KubeEmulator) -> Iterator[kubernetes.client.ApiClient]:
    """A ``kubernetes.client.ApiClient`` bound to the emulator (the global default config is untouched)."""
    client = kube_emulator.api_client()
    try:
        yield client
    finally:
        client.close()  # type: ignore[no-untyped-call]  # kubernetes leaves it unannotated
