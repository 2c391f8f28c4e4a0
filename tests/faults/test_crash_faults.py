"""The operator killed (SIGKILL) at each step of a sync: a new process finishes the job.

No failpoint in product code: the API emulator kills the operator process when the operator's own
request for the chosen step arrives, then either answers 503 (the write never happened) or lets
the request through (the write was committed, the operator never heard of it). A new operator
process (or, with ``--leader-elect``, the standby) must then finish the sync.

Each case asserts: the Secret exists with the right data, no good Secret was lost or overwritten,
and the status ends Ready=True within ``RECOVERY`` seconds of the new process starting (with
leader election: within ``TAKEOVER`` seconds of the kill, as the 15 s Lease must expire first).
"""

from __future__ import annotations

import base64
import os
import signal
from collections.abc import Callable
from typing import Any

import pytest

from secretsync import crypto, keys
from tests.support.external_env import API, ExternalEnv, external_secret
from tests.support.kube_emulator import wait_for
from tests.support.operator_proc import OperatorProcess
from tests.support.sealed_env import (
    KEY_LABEL,
    OPERATOR_NS,
    SealedEnv,
    decoded,
    key_secret,
    seal,
    secret,
    vector_key,
)

pytestmark = pytest.mark.slow
NS = "crash"
RECOVERY = 20.0  # seconds from the new operator's start to Ready=True
TAKEOVER = 45.0  # seconds from the leader's death: 15 s Lease, 2 s retry, then the sync
ARGS = ["--key-renew-period", "0"]


class Killer:
    """SIGKILL ``pid`` from inside the emulator on the first request ``match`` picks.

    ``applied=False``: the request is then answered 503 and never reaches the store.
    ``applied=True``: the request goes on to the store (committed after the operator died).
    """

    def __init__(self, emulator: Any, match: Callable[[Any], bool], *, applied: bool) -> None:
        self.pid: int | None = None
        self.killed = False

        def picked(request: Any) -> bool:
            if self.pid is None or self.killed or not match(request):
                return False
            self.killed = True
            os.kill(self.pid, signal.SIGKILL)
            return not applied

        emulator.handler[picked] << 503

    def arm(self, proc: OperatorProcess) -> None:
        assert proc.proc is not None
        self.pid = proc.proc.pid

    def wait_dead(self, proc: OperatorProcess, timeout: float = 20.0) -> None:
        assert wait_for(lambda: self.killed, timeout=timeout, message="the chosen request")
        assert proc.proc is not None
        assert proc.proc.wait(timeout=10) == -signal.SIGKILL


def _path(request: Any) -> str:
    return str(request.url.path)


def _name(request: Any) -> str | None:
    data = request.data if isinstance(request.data, dict) else {}
    return (data.get("metadata") or {}).get("name")


def _secret_post(namespace: str, name: str) -> Callable[[Any], bool]:
    return lambda r: (
        r.method == "POST" and _path(r) == f"/api/v1/namespaces/{namespace}/secrets" and _name(r) == name
    )


@pytest.fixture
def sealed(kube_emulator: Any) -> SealedEnv:
    for ns in (OPERATOR_NS, NS):
        kube_emulator.ensure_namespace(ns)
    return SealedEnv(kube_emulator)


def _seed_key(env: SealedEnv) -> bytes:
    key_pem, cert_pem = vector_key(4096)
    env.emu.create(key_secret("sealing-key", key_pem, cert_pem, label=KEY_LABEL))
    return cert_pem


def test_killed_before_the_secret_write_a_new_process_writes_it(
    sealed: SealedEnv, operator_factory: Any
) -> None:
    """Killed on the Secret POST (not applied): no Secret, no status; a new process writes both
    within RECOVERY s, and a good Secret synced before the crash is left as it was."""
    cert_pem = _seed_key(sealed)
    killer = Killer(sealed.emu, _secret_post(NS, "db"), applied=False)
    first: OperatorProcess = operator_factory(extra_args=ARGS)
    killer.arm(first)
    first.wait_ready()
    sealed.emu.create(seal(cert_pem, secret("keep", NS, {"k": "good"})))
    sealed.wait_ready("keep", NS)
    kept = sealed.get_secret("keep", NS) or {}
    sealed.emu.create(seal(cert_pem, secret("db", NS, {"password": "p"})))
    killer.wait_dead(first)
    assert sealed.get_secret("db", NS) is None
    assert (sealed.get_sealed("db", NS) or {}).get("status") is None
    second: OperatorProcess = operator_factory(extra_args=ARGS)
    second.wait_ready()
    sealed.wait_ready("db", NS, timeout=RECOVERY)
    assert decoded(sealed.get_secret("db", NS) or {}) == {"password": b"p"}
    after = sealed.get_secret("keep", NS) or {}
    assert after["metadata"]["uid"] == kept["metadata"]["uid"]
    assert after["metadata"]["resourceVersion"] == kept["metadata"]["resourceVersion"]
    assert decoded(after) == {"k": b"good"}


def test_killed_between_the_secret_write_and_the_status_write_a_new_process_reports_it(
    kube_emulator: Any, operator_factory: Any
) -> None:
    """ExternalSecret (fake provider): the Secret POST goes through, the kill comes on the status
    PATCH (not applied). A new process keeps that Secret (same uid, same data) and writes
    Ready=True within RECOVERY s."""
    for ns in (OPERATOR_NS, NS):
        kube_emulator.ensure_namespace(ns)
    env = ExternalEnv(kube_emulator)
    fake = {"fake": {"data": [{"key": "db", "value": "s3cr3t"}]}}
    env.emu.create({"apiVersion": API, "kind": "SecretStore", "metadata": {"name": "fake", "namespace": NS},
                    "spec": {"provider": fake}})  # fmt: skip
    status_path = f"/apis/secretsync.io/v1alpha1/namespaces/{NS}/externalsecrets/app/status"
    killer = Killer(env.emu, lambda r: r.method == "PATCH" and _path(r) == status_path, applied=False)
    first: OperatorProcess = operator_factory(extra_args=ARGS)
    killer.arm(first)
    first.wait_ready()
    # the store first: an ExternalSecret that meets a store not validated yet reports that (a
    # status write) before any Secret, which is not the step this case kills at
    env.wait_reason("SecretStore", "fake", NS, "Valid")
    env.emu.create(external_secret("app", NS, "fake", data=[{"secretKey": "pw", "remoteRef": {"key": "db"}}]))
    killer.wait_dead(first)
    written = env.secret("app", NS)
    assert written is not None, "the Secret was to be written before the status"
    assert env.values("app", NS) == {"pw": b"s3cr3t"}
    assert (env.get("ExternalSecret", "app", NS) or {}).get("status") is None
    second: OperatorProcess = operator_factory(extra_args=ARGS)
    second.wait_ready()
    env.wait_synced("app", NS, timeout=RECOVERY)
    assert (env.secret("app", NS) or {})["metadata"]["uid"] == written["metadata"]["uid"]
    assert env.values("app", NS) == {"pw": b"s3cr3t"}


@pytest.mark.parametrize("applied", [False, True], ids=["key-not-stored", "key-stored"])
def test_killed_while_generating_the_first_key_leaves_exactly_one_usable_key(
    sealed: SealedEnv, operator_factory: Any, applied: bool
) -> None:
    """First start, no key: killed on the POST of the new key Secret, stored or not. The new
    process ends with exactly one active key (generated by it, or the stored one reused), and a
    SealedSecret sealed with that key's certificate opens within RECOVERY s."""
    killer = Killer(sealed.emu, _key_post, applied=applied)
    first: OperatorProcess = operator_factory(extra_args=ARGS)
    killer.arm(first)
    killer.wait_dead(first, timeout=60)  # RSA generation first
    stored = _key_secrets(sealed)
    assert len(stored) == (1 if applied else 0)
    second: OperatorProcess = operator_factory(extra_args=ARGS)
    second.wait_ready(timeout=60)
    found = _key_secrets(sealed)
    assert len(found) == 1, [s["metadata"]["name"] for s in found]
    if applied:
        assert found[0]["metadata"]["uid"] == stored[0]["metadata"]["uid"]
    entry = keys.parse_key_secret(found[0])  # a whole key: the certificate matches the private key
    cert_pem = base64.b64decode(found[0]["data"]["tls.crt"])
    assert crypto.load_certificate(cert_pem).sealer()
    status, served = second.get("/v1/cert.pem")
    assert status == 200 and served.encode().strip() == cert_pem.strip()
    sealed.emu.create(seal(cert_pem, secret("db", NS, {"password": "p"})))
    sealed.wait_ready("db", NS, timeout=RECOVERY)
    assert decoded(sealed.get_secret("db", NS) or {}) == {"password": b"p"}
    assert entry.fingerprint


def _key_post(request: Any) -> bool:
    data = request.data if isinstance(request.data, dict) else {}
    labels = (data.get("metadata") or {}).get("labels") or {}
    return (
        request.method == "POST"
        and _path(request) == f"/api/v1/namespaces/{OPERATOR_NS}/secrets"
        and KEY_LABEL in labels
    )


def _key_secrets(env: SealedEnv) -> list[dict[str, Any]]:
    items = env.emu.list("v1", "Secret", OPERATOR_NS) or []
    if isinstance(items, dict):
        items = items.get("items") or []
    return [s for s in items if keys.is_key_secret(s, bitnami=False)]


def test_leader_killed_during_a_sync_the_standby_finishes_it(
    sealed: SealedEnv, operator_factory: Any
) -> None:
    """--leader-elect, two replicas: the leader is killed on the Secret POST (not applied). The
    standby takes the Lease once it expires and the SealedSecret ends Ready=True with its Secret
    within TAKEOVER s of the kill; a good Secret synced before is left as it was."""
    import time

    cert_pem = _seed_key(sealed)
    killer = Killer(sealed.emu, _secret_post(NS, "db"), applied=False)
    args = [*ARGS, "--leader-elect"]
    leader: OperatorProcess = operator_factory(extra_args=args)
    leader.wait_ready()
    leader.wait_reconciling()
    standby: OperatorProcess = operator_factory(extra_args=args)
    standby.wait_ready()
    assert not standby.reconciling()
    killer.arm(leader)
    sealed.emu.create(seal(cert_pem, secret("keep", NS, {"k": "good"})))
    sealed.wait_ready("keep", NS)
    kept = sealed.get_secret("keep", NS) or {}
    sealed.emu.create(seal(cert_pem, secret("db", NS, {"password": "p"})))
    killer.wait_dead(leader)
    killed = time.monotonic()
    assert sealed.get_secret("db", NS) is None
    standby.wait_reconciling(timeout=TAKEOVER)
    sealed.wait_ready("db", NS, timeout=max(1.0, TAKEOVER - (time.monotonic() - killed)))
    assert decoded(sealed.get_secret("db", NS) or {}) == {"password": b"p"}
    after = sealed.get_secret("keep", NS) or {}
    assert after["metadata"]["uid"] == kept["metadata"]["uid"]
    assert after["metadata"]["resourceVersion"] == kept["metadata"]["resourceVersion"]
    assert decoded(after) == {"k": b"good"}
    assert standby.proc is not None and standby.proc.poll() is None
