"""The real operator process keeps working while its bound service account token rotates.

Projected tokens expire (an hour where extension is off) and the kubelet writes a new one into the
file. The operator authenticates from a kubeconfig ``tokenFile`` (the in-cluster token file works the
same way: tests/test_kube_tokens.py), against the API emulator with authentication on: the file is
rotated and the old token revoked, twice, and every client (our writes and status updates, the
Lease, kopf's watches, which the emulator ends so kopf watches again) must carry on with the new one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.kube_emulator import wait_for
from tests.support.operator_proc import OperatorProcess
from tests.support.sealed_env import (
    KEY_LABEL,
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

NS = "team-a"
LEASE = ("coordination.k8s.io/v1", "Lease", "secretsync-operator", OPERATOR_NS)


def write_token(path: Path, token: str) -> None:
    """Replace the file at once, as the kubelet swaps a projected volume's files."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(token, encoding="utf-8")
    os.replace(tmp, path)


def token_file_kubeconfig(path: Path, server: str, token_file: str) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "emulator", "cluster": {"server": server}}],
        "users": [{"name": "secretsync", "user": {"tokenFile": token_file}}],
        "contexts": [{"name": "sa", "context": {"cluster": "emulator", "user": "secretsync"}}],
        "current-context": "sa",
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_operator_keeps_working_when_its_token_rotates_and_the_old_one_is_revoked(
    kube_emulator: Any, tmp_path: Path
) -> None:
    for namespace in (OPERATOR_NS, NS):
        kube_emulator.ensure_namespace(namespace)
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "secretsync"}}
    kube_emulator.create(account, OPERATOR_NS)
    key_pem, cert_pem = vector_key(4096)
    kube_emulator.create(key_secret("key", key_pem, cert_pem, label=KEY_LABEL))
    (tmp_path / "serviceaccount").mkdir()
    token_file = tmp_path / "serviceaccount" / "token"
    first = kube_emulator.issue_token(OPERATOR_NS, "secretsync")
    write_token(token_file, first)
    kubeconfig = token_file_kubeconfig(tmp_path / "sa.kubeconfig", kube_emulator.url, "serviceaccount/token")
    layer = kube_emulator.layer
    kube_emulator.call(lambda: setattr(layer, "authenticate", True))
    env = SealedEnv(kube_emulator)

    proc = OperatorProcess(str(kubeconfig), tmp_path, extra_args=["--leader-elect"]).start()
    try:
        proc.wait_ready()
        proc.wait_reconciling()
        kube_emulator.create(seal(cert_pem, secret("before", NS, {"k": "v1"})))
        env.wait_ready("before", NS)
        assert layer.unauthorized == []

        # The kubelet writes a new token; the old one stops working (expired, or its pod binding
        # gone) while the operator still holds it: the next write, status update or Lease renewal
        # is refused once, and sent again with the token now in the file.
        second = kube_emulator.issue_token(OPERATOR_NS, "secretsync")
        write_token(token_file, second)
        kube_emulator.revoke_token(first)
        renewed = kube_emulator.get(*LEASE)["spec"]["renewTime"]
        kube_emulator.create(seal(cert_pem, secret("after", NS, {"k": "v2"})))
        env.wait_ready("after", NS)
        assert decoded(env.get_secret("after", NS) or {}) == {"k": b"v2"}
        wait_for(lambda: kube_emulator.get(*LEASE)["spec"]["renewTime"] != renewed, timeout=15)
        refused = list(layer.unauthorized)
        assert 1 <= len(refused) <= 5, refused  # the operator's own requests in flight, kopf's watches open

        # Again, and this time an API server restart ends kopf's watches: kopf watches again through
        # the same token source, refused once per watch, then with the new token.
        third = kube_emulator.issue_token(OPERATOR_NS, "secretsync")
        write_token(token_file, third)
        kube_emulator.revoke_token(second)
        kube_emulator.end_watches()
        wait_for(lambda: len(layer.unauthorized) > len(refused), timeout=10)
        renewed = kube_emulator.get(*LEASE)["spec"]["renewTime"]
        resealed = seal(cert_pem, secret("before", NS, {"k": "v1b"}))
        kube_emulator.patch(SEALED_API, "SealedSecret", "before", {"spec": resealed["spec"]}, NS)
        wait_for(lambda: decoded(env.get_secret("before", NS) or {}) == {"k": b"v1b"}, timeout=20)
        wait_for(lambda: (env.get_sealed("before", NS) or {})["status"]["observedGeneration"] == 2)
        wait_for(lambda: kube_emulator.get(*LEASE)["spec"]["renewTime"] != renewed, timeout=15)
        assert proc.reconciling()
        refused = list(layer.unauthorized)
        assert len(refused) <= 20, refused

        # No 401 persists: more work, and not one more refusal.
        kube_emulator.create(seal(cert_pem, secret("later", NS, {"k": "v3"})))
        env.wait_ready("later", NS)
        renewed = kube_emulator.get(*LEASE)["spec"]["renewTime"]
        wait_for(lambda: kube_emulator.get(*LEASE)["spec"]["renewTime"] != renewed, timeout=15)
        assert layer.unauthorized == refused
    finally:
        code = proc.stop()
    logs = proc.logs()
    assert code == 0, logs[-4000:]
    assert "Traceback" not in logs
    assert "rejects the token" not in logs  # no token stayed invalid
    assert "Re-authentication" not in logs  # kopf never saw a 401: its session re-read the file
    assert not any(token in logs for token in (first, second, third))


def test_a_token_that_stays_invalid_is_an_error_with_backoff_until_the_file_has_a_good_one(
    kube_emulator: Any, tmp_path: Path
) -> None:
    """The old token dies and the file is not rewritten (yet): kopf's watches are refused after the
    re-read, kopf logs in again (which reads the file again) with a growing delay, each round logged
    as an error; no tight loop of 401s. Once the file holds a good token, everything recovers."""
    import time

    for namespace in (OPERATOR_NS, NS):
        kube_emulator.ensure_namespace(namespace)
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "secretsync"}}
    kube_emulator.create(account, OPERATOR_NS)
    key_pem, cert_pem = vector_key(4096)
    kube_emulator.create(key_secret("key", key_pem, cert_pem, label=KEY_LABEL))
    token_file = tmp_path / "token"
    first = kube_emulator.issue_token(OPERATOR_NS, "secretsync")
    write_token(token_file, first)
    kubeconfig = token_file_kubeconfig(tmp_path / "sa.kubeconfig", kube_emulator.url, str(token_file))
    layer = kube_emulator.layer
    kube_emulator.call(lambda: setattr(layer, "authenticate", True))
    env = SealedEnv(kube_emulator)

    proc = OperatorProcess(str(kubeconfig), tmp_path).start()
    try:
        proc.wait_ready()
        kube_emulator.revoke_token(first)
        kube_emulator.end_watches()
        wait_for(lambda: "logging in again in" in proc.logs(), timeout=10)
        time.sleep(4)
        assert len(layer.unauthorized) < 100, len(layer.unauthorized)  # backoff, not a tight loop
        assert proc.proc is not None and proc.proc.poll() is None  # still running, still trying
        logs = proc.logs()
        assert "rejects the token in" in logs and "even after re-reading it" in logs

        write_token(token_file, kube_emulator.issue_token(OPERATOR_NS, "secretsync"))
        kube_emulator.create(seal(cert_pem, secret("recovered", NS, {"k": "v"})))
        env.wait_ready("recovered", NS, timeout=40)
        refused = len(layer.unauthorized)
        kube_emulator.create(seal(cert_pem, secret("later", NS, {"k": "v"})))
        env.wait_ready("later", NS)
        assert len(layer.unauthorized) == refused
        assert "accepts the token in" in proc.logs()
    finally:
        code = proc.stop()
    assert code == 0, proc.logs()[-4000:]
