"""Status writes: a failed uid ``test`` (the object was replaced) against a status the API server
refuses. The first is a Conflict (nothing of this object's to report), the second Invalid (a
422: never retried as if transient). Against the API emulator, which answers a failed JSON-patch
``test`` with 422 as kube-apiserver does."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from secretsync import kube
from tests.support.kube_emulator import KubeEmulator
from tests.support.sealed_env import SEALED_API, seal, secret, vector_key

NS = "status-writes"


def _sealed(emu: KubeEmulator, name: str) -> dict[str, Any]:
    emu.ensure_namespace(NS)
    _, cert_pem = vector_key(2048)
    return emu.create(seal(cert_pem, secret(name, NS, {"k": "v"})))  # type: ignore[no-any-return]


def _write(emu: KubeEmulator, name: str, uid: str) -> Any:
    async def scenario() -> Any:
        api = kube.KubeApi(kube.load_connection(str(emu.kubeconfig_path)))
        try:
            path = kube.path_for(SEALED_API, "sealedsecrets", NS, name, "status")
            return await api.write_status(path, uid, {"observedGeneration": 1})
        finally:
            await api.close()

    return asyncio.run(scenario())


def test_a_status_for_a_replaced_object_is_a_conflict(kube_emulator: KubeEmulator) -> None:
    created = _sealed(kube_emulator, "replaced")
    with pytest.raises(kube.Conflict, match="replaced meanwhile"):
        _write(kube_emulator, "replaced", "not-" + created["metadata"]["uid"])
    assert not (kube_emulator.get(SEALED_API, "SealedSecret", "replaced", NS) or {}).get("status")


def test_a_status_the_server_refuses_stays_invalid(kube_emulator: KubeEmulator) -> None:
    created = _sealed(kube_emulator, "refused")
    kube_emulator.handler[lambda request: request.url.path.endswith("/refused/status")] << 422
    with pytest.raises(kube.Invalid):
        _write(kube_emulator, "refused", created["metadata"]["uid"])


def test_a_status_write_on_the_object_itself_succeeds(kube_emulator: KubeEmulator) -> None:
    created = _sealed(kube_emulator, "mine")
    written = _write(kube_emulator, "mine", created["metadata"]["uid"])
    assert written["status"] == {"observedGeneration": 1}
