"""A restart redoes no RSA work for SealedSecrets already synced (Bitnami's controller decrypts
everything again at every start), and still heals what changed while the operator was down: a
Secret edited or deleted, a SealedSecret changed. The real operator process, twice, on the API
emulator; the RSA operations are the operator's own counter (``secretsync_rsa_decrypt_attempts``)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.support.external_env import metric_value
from tests.support.kube_emulator import wait_for
from tests.support.operator_proc import OperatorProcess
from tests.support.sealed_env import (
    OPERATOR_NS,
    SEALED_API,
    SealedEnv,
    decoded,
    key_secret,
    seal,
    secret,
    vector_key,
)

pytestmark = pytest.mark.slow
NS = "restart"
COUNT = 30


def _rsa(proc: OperatorProcess) -> float:
    return metric_value(proc, "secretsync_rsa_decrypt_attempts_total")


def _verified(proc: OperatorProcess) -> float:
    return metric_value(proc, "secretsync_unseal_verified_total")


def test_a_restart_redoes_no_rsa_work_and_heals_what_changed_meanwhile(
    kube_emulator: Any, operator_factory: Any
) -> None:
    env = SealedEnv(kube_emulator)
    for namespace in (OPERATOR_NS, NS):
        kube_emulator.ensure_namespace(namespace)
    key_pem, cert_pem = vector_key(4096)
    kube_emulator.create(key_secret("sealing-key", key_pem, cert_pem))
    names = [f"s-{i}" for i in range(COUNT)]
    first: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    first.wait_ready()
    for name in names:
        kube_emulator.create(seal(cert_pem, secret(name, NS, {"k": name})))
    for name in names:
        env.wait_ready(name, NS)
    assert _rsa(first) == COUNT  # one RSA operation per value, the first time
    assert first.stop() == 0
    versions = {name: (env.get_secret(name, NS) or {})["metadata"]["resourceVersion"] for name in names}

    # While it is down: a Secret edited, one deleted, a SealedSecret given a new value.
    tampered, deleted, changed = names[0], names[1], names[2]
    kube_emulator.patch("v1", "Secret", tampered, {"data": {"k": base64.b64encode(b"edited").decode()}}, NS)
    kube_emulator.delete("v1", "Secret", deleted, NS)
    resealed = seal(cert_pem, secret(changed, NS, {"k": "new"}))
    kube_emulator.patch(SEALED_API, "SealedSecret", changed, {"spec": resealed["spec"]}, NS)

    served_before = len(kube_emulator.requests())
    second: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    second.wait_ready()
    wait_for(lambda: _verified(second) >= COUNT - 3, timeout=30, message="every intact Secret verified")
    wait_for(lambda: decoded(env.get_secret(tampered, NS) or {}) == {"k": tampered.encode()}, timeout=20)
    wait_for(lambda: env.get_secret(deleted, NS) is not None, timeout=20, message="the deleted one back")
    wait_for(lambda: decoded(env.get_secret(changed, NS) or {}) == {"k": b"new"}, timeout=20)
    assert _rsa(second) == 3  # only the three that changed were unsealed again
    # The produced Secrets were listed once (secretsync.prefetch), not read one by one: the intact
    # ones were checked on the listed copies; only the three that changed may have been read.
    asked = kube_emulator.requests()[served_before:]
    one_by_one = {p for m, p, _ in asked if m == "GET" and p.startswith(f"/api/v1/namespaces/{NS}/secrets/")}
    assert one_by_one <= {f"/api/v1/namespaces/{NS}/secrets/{n}" for n in (tampered, deleted, changed)}
    lists = [q for m, p, q in asked if m == "GET" and p == "/api/v1/secrets" and "watch" not in q]
    assert any(q.get("labelSelector") == "secretsync.io/managed-secret=true" for q in lists), lists
    for name in names[3:]:  # the others were not even rewritten
        assert (env.get_secret(name, NS) or {})["metadata"]["resourceVersion"] == versions[name]
        assert env.wait_ready(name, NS)
    assert second.stop() == 0
