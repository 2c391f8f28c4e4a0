"""A remote value that no retry can mend, mended at the remote side: the ExternalSecret is not
retried in a loop (the error is not transient) but is looked at again at its next refresh, as ESO
requeues it, so fixing the value in Vault is enough (no edit of the ExternalSecret, no restart).
The good Secret from before is kept while the value is bad."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.support.external_env import ExternalEnv, external_secret, metric_value, root_token_store
from tests.support.kube_emulator import wait_for
from tests.support.operator_proc import OperatorProcess
from tests.support.sealed_env import ready

pytestmark = pytest.mark.slow
NS = "remote-errors"
REFRESH = 2.0


def test_a_bad_remote_value_is_read_again_at_the_next_refresh_not_retried_in_a_loop(
    env: ExternalEnv, openbao: Any, running: OperatorProcess
) -> None:
    root_token_store(env.emu, openbao, NS)
    client = openbao.client()
    path = openbao.path("encoded")
    client.secrets.kv.v2.create_or_update_secret(path, {"v": base64.b64encode(b"first").decode()})
    ref = {"key": path, "property": "v", "decodingStrategy": "Base64"}
    data = [{"secretKey": "v", "remoteRef": ref}]
    env.emu.create(external_secret("app", NS, "vault", data=data, refreshInterval=f"{REFRESH:.0f}s"))
    env.wait_synced("app", NS)
    kept = (env.secret("app", NS) or {})["metadata"]

    client.secrets.kv.v2.create_or_update_secret(path, {"v": "%%% not base64 %%%"})
    cond = env.wait_reason("ExternalSecret", "app", NS, "InvalidSpec", timeout=20)
    assert "not padded standard base64" in cond["message"] and "%%%" not in cond["message"]
    syncs_then = _syncs(running)
    wait_for(lambda: _syncs(running) >= syncs_then + 2, timeout=4 * REFRESH + 5)  # refreshed, not dropped
    assert _syncs(running) <= syncs_then + 6  # ~1 per refresh interval: no retry loop
    now = (env.secret("app", NS) or {})["metadata"]
    assert (now["uid"], now["resourceVersion"]) == (kept["uid"], kept["resourceVersion"])

    client.secrets.kv.v2.create_or_update_secret(path, {"v": base64.b64encode(b"mended").decode()})
    wait_for(lambda: env.values("app", NS) == {"v": b"mended"}, timeout=3 * REFRESH + 5)
    assert (ready(env.get("ExternalSecret", "app", NS)) or {}).get("status") == "True"


def _syncs(proc: OperatorProcess) -> float:
    return metric_value(proc, "secretsync_external_syncs_total", namespace=NS)  # its only object
