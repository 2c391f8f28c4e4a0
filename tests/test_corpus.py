"""The migration corpus on the API emulator: ESO's and Bitnami's documentation manifests, synced by
the real operator against real OpenBao, moto and the GCP fake, with ``apiVersion`` changed and
untouched (compatibility mode), each compared with the Secret ESO or Bitnami writes for it.

tests/corpus/README.md says what the cases are and how they are judged; the same cases run on a
real API server in tests/cluster/test_corpus_real.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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
from tests.support.fixtures_kube import REPO_ROOT, TEST_CRDS_DIR
from tests.support.operator_proc import OperatorProcess

pytestmark = pytest.mark.slow
SETTLE = 90.0


@pytest.fixture(scope="module", params=MODES)
def run(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    openbao_server: Any,
    moto_server: Any,
    gcp_fake_server: Any,
) -> Iterator[tuple[Corpus, Operator]]:
    from tests.support.kube_emulator import KubeEmulator, load_crd_documents

    mode: str = request.param
    workdir = tmp_path_factory.mktemp(f"corpus-{mode}")
    ours = sorted((REPO_ROOT / "crds").glob("*.yaml")) + sorted(TEST_CRDS_DIR.glob("*.yaml"))
    moto_server.start()
    moto_server.reset()
    gcp_fake_server.start()
    env = {**moto_server.env(), "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    with KubeEmulator(workdir=workdir / "emulator", crds=load_crd_documents(ours)) as emulator:
        if mode == "untouched":
            for crd in [*upstream.eso_crds(), upstream.bitnami_crd()]:
                emulator.apply_crd(crd)

        def start(flags: list[str]) -> OperatorProcess:
            args = ["--key-renew-period", "0", *flags]
            proc = OperatorProcess(str(emulator.kubeconfig_path), Path(workdir), extra_args=args, env=env)
            proc.start().wait_ready(timeout=60)
            return proc

        backends = Backends(
            openbao_server,
            moto_server,
            gcp_fake_server,
            run=f"c{uuid.uuid4().hex[:6]}",
            kube_auth=lambda _namespaces: {"kubernetes_host": emulator.url},
        )
        with run_mode(emulator, backends, mode, start, SETTLE) as result:
            yield result
