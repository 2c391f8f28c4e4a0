"""The migration corpus on a real API server: every case of tests/corpus/, both modes.

A control plane of its own (the compat overlay grants the operator ESO's and Bitnami's kinds,
which the session cluster's RBAC tests must not see), deploy/overlays/compat installed with the
built kubectl as docs/migration.md says, ESO's and Bitnami's CRDs from their pinned releases. The
operator runs as its ServiceAccount; the API server (not the emulator) validates every manifest,
refuses the unsupported fields with its CEL rules, and runs garbage collection.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.conftest import CRDS, ROOT, Operators
from tests.corpus.backends import Backends
from tests.corpus.model import MODES
from tests.corpus.runner import Corpus, Operator, run_mode
from tests.corpus.suite import (  # noqa: F401 - collected here, run with this module's fixture
    test_bitnami_manifest_opens_as_bitnami_would,
    test_eso_manifest_syncs_as_eso_would,
    test_no_value_of_the_corpus_leaks,
    test_unsupported_field_is_refused_with_a_clear_message,
)
from tests.support import upstream
from tests.support.real_cluster import ControlPlane

SETTLE = 120.0
REVIEWER = ("default", "corpus-vault-reviewer")


@pytest.fixture(scope="module")
def compat_cluster(own_cluster: ControlPlane) -> ControlPlane:
    cluster = own_cluster
    cluster.kubectl("apply", "--server-side", "-k", str(ROOT / "deploy" / "overlays" / "compat"))
    cluster.apply([*upstream.eso_crds(), upstream.bitnami_crd()])
    old = [f"crd/{crd['metadata']['name']}" for crd in [*upstream.eso_crds(), upstream.bitnami_crd()]]
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s", *CRDS, *old)
    namespace, name = REVIEWER
    cluster.apply(
        [
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": name, "namespace": namespace},
            },
            {  # Vault's TokenReview identity (in a cluster: Vault's own pod ServiceAccount)
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": name},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": "system:auth-delegator",
                },
                "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
            },
        ]
    )
    return cluster


@pytest.fixture(scope="module", params=MODES)
def run(
    request: pytest.FixtureRequest,
    compat_cluster: ControlPlane,
    tmp_path_factory: pytest.TempPathFactory,
    openbao_server: Any,
    moto_server: Any,
    gcp_fake_server: Any,
) -> Iterator[tuple[Corpus, Operator]]:
    cluster = compat_cluster
    mode: str = request.param
    moto_server.start()
    moto_server.reset()
    gcp_fake_server.start()
    env = {**moto_server.env(), "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    operators = Operators(cluster, Path(tmp_path_factory.mktemp(f"corpus-{mode}")))

    def start(flags: list[str]) -> Any:
        return operators.start(*flags, env=env)

    backends = Backends(
        openbao_server,
        moto_server,
        gcp_fake_server,
        run=f"r{uuid.uuid4().hex[:6]}",
        kube_auth=lambda _namespaces: {
            "kubernetes_host": cluster.url,
            "kubernetes_ca_cert": cluster.ca_path.read_text(),
            "token_reviewer_jwt": cluster.token(*REVIEWER),
        },
    )
    with run_mode(cluster, backends, mode, start, SETTLE) as result:
        yield result
