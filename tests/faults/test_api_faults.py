"""API trouble on every path of a sync: nothing is dropped on the floor (the real operator, a real
OpenBao, the API emulator answering chosen requests with 429/5xx).

Each case asserts the issue's three things: no good Secret lost or overwritten, Ready shows the
real cause while it lasts, and the operator recovers by itself within a stated time once the API
answers again.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import kmock
import pytest

from tests.support.external_env import ExternalEnv, external_secret, root_token_store
from tests.support.kube_emulator import wait_for
from tests.support.operator_proc import OperatorProcess

pytestmark = pytest.mark.slow
NS = "faults"
RECOVERY = 20.0  # seconds: backoff from 1 s, doubling, after the API answers again


class Faults:
    """Answer the requests ``match`` picks with ``status`` while ``on`` is set."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.on = False
        self.hits = 0

    def inject(self, status: int, match: Callable[[Any], bool], *headers: str) -> None:
        def picked(request: Any) -> bool:
            if self.on and match(request):
                self.hits += 1
                return True
            return False

        reaction = self.emulator.handler[picked] << status
        for header in headers:  # "Name: value": sent as a response header (a bare str would be a body)
            reaction = reaction << kmock.headers(header)


def _path(request: Any) -> str:
    return str(request.url.path)


def test_a_scheduled_refresh_that_meets_api_errors_is_tried_again_not_lost(
    env: ExternalEnv, openbao: Any, running: OperatorProcess
) -> None:
    root_token_store(env.emu, openbao, NS)
    client = openbao.client()
    client.secrets.kv.v2.create_or_update_secret(openbao.path("app"), {"v": "one"})
    data = [{"secretKey": "v", "remoteRef": {"key": openbao.path("app"), "property": "v"}}]
    env.emu.create(external_secret("app", NS, "vault", data=data, refreshInterval="1s"))
    env.wait_synced("app", NS)
    faults = Faults(env.emu)
    # The refresh job reads its ExternalSecret first: 503 there, as an overloaded API server does.
    es_path = f"/apis/secretsync.io/v1alpha1/namespaces/{NS}/externalsecrets/app"
    faults.inject(503, lambda r: r.method == "GET" and _path(r) == es_path)
    faults.on = True
    # a refresh job failed (each read is tried 3 times inside the call first), and so did its retry
    assert wait_for(lambda: running.logs().count("scheduled job") >= 2, timeout=30)
    assert "503" in running.logs()
    client.secrets.kv.v2.create_or_update_secret(openbao.path("app"), {"v": "two"})
    assert env.values("app", NS) == {"v": b"one"}  # the good Secret is kept meanwhile
    faults.on = False
    assert wait_for(lambda: env.values("app", NS) == {"v": b"two"}, timeout=RECOVERY)


def test_a_status_write_that_fails_is_written_later(
    env: ExternalEnv, openbao: Any, running: OperatorProcess
) -> None:
    root_token_store(env.emu, openbao, NS)
    openbao.client().secrets.kv.v2.create_or_update_secret(openbao.path("db"), {"v": "x"})
    faults = Faults(env.emu)
    faults.inject(500, lambda r: r.method == "PATCH" and _path(r).endswith("/externalsecrets/db/status"))
    faults.on = True
    data = [{"secretKey": "v", "remoteRef": {"key": openbao.path("db"), "property": "v"}}]
    env.emu.create(external_secret("db", NS, "vault", data=data))  # refreshInterval 1h
    assert wait_for(lambda: env.secret("db", NS) is not None, timeout=20)  # the Secret is written
    assert wait_for(lambda: faults.hits >= 2, timeout=20)
    assert "status" not in (env.get("ExternalSecret", "db", NS) or {})
    faults.on = False
    env.wait_synced("db", NS, timeout=RECOVERY)  # without waiting an hour for the next refresh


def test_an_api_outage_reading_a_template_source_is_an_api_error_not_a_template_error(
    env: ExternalEnv, openbao: Any, running: OperatorProcess
) -> None:
    root_token_store(env.emu, openbao, NS)
    openbao.client().secrets.kv.v2.create_or_update_secret(openbao.path("tpl"), {"v": "x"})
    env.emu.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "tpl", "namespace": NS},
            "data": {"conf": "v={{ .v }}"},
        }
    )
    faults = Faults(env.emu)
    faults.inject(503, lambda r: r.method == "GET" and _path(r) == f"/api/v1/namespaces/{NS}/configmaps/tpl")
    faults.on = True
    data = [{"secretKey": "v", "remoteRef": {"key": openbao.path("tpl"), "property": "v"}}]
    template = {"templateFrom": [{"configMap": {"name": "tpl", "items": [{"key": "conf"}]}}]}
    env.emu.create(
        external_secret("tpl", NS, "vault", data=data, target={"name": "tpl", "template": template})
    )
    cond = env.wait_reason("ExternalSecret", "tpl", NS, "ApiError", timeout=30)
    assert "503" in cond["message"]
    faults.on = False
    env.wait_synced("tpl", NS, timeout=RECOVERY)
    assert env.values("tpl", NS) == {"conf": b"v=x"}


def test_a_sealed_secret_whose_status_write_fails_is_reported_later(
    env: ExternalEnv, operator_factory: Any
) -> None:
    from tests.support.sealed_env import KEY_LABEL, OPERATOR_NS, key_secret, seal, secret, vector_key

    key_pem, cert_pem = vector_key(4096)
    env.emu.create(key_secret("sealing-key", key_pem, cert_pem, label=KEY_LABEL))
    faults = Faults(env.emu)
    faults.inject(503, lambda r: r.method == "PATCH" and _path(r).endswith("/sealedsecrets/db/status"))
    faults.on = True
    proc: OperatorProcess = operator_factory(
        extra_args=["--key-renew-period", "0", "--namespace", OPERATOR_NS]
    )
    proc.wait_ready()
    env.emu.create(seal(cert_pem, secret("db", NS, {"password": "p"})))
    assert wait_for(lambda: env.secret("db", NS) is not None, timeout=20)
    assert base64.b64decode((env.secret("db", NS) or {})["data"]["password"]) == b"p"
    assert wait_for(lambda: faults.hits >= 2, timeout=20)
    faults.on = False

    def ready() -> bool:
        obj = env.emu.get("secretsync.io/v1alpha1", "SealedSecret", "db", NS) or {}
        return any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in (obj.get("status") or {}).get("conditions") or []
        )

    assert wait_for(ready, timeout=RECOVERY)


def test_readiness_fails_while_the_api_cannot_be_written_and_recovers(
    env: ExternalEnv, operator_factory: Any
) -> None:
    from tests.support.sealed_env import KEY_LABEL, key_secret, seal, secret, vector_key

    key_pem, cert_pem = vector_key(4096)
    env.emu.create(key_secret("sealing-key", key_pem, cert_pem, label=KEY_LABEL))
    proc: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0", "--unready-after", "2s"])
    proc.wait_ready()
    faults = Faults(env.emu)
    faults.inject(503, lambda r: r.method in ("POST", "PUT", "PATCH", "DELETE"))
    faults.on = True
    env.emu.create(seal(cert_pem, secret("db", NS, {"password": "p"})))  # the test's own write: direct
    status = wait_for(lambda: (s := proc.get("/readyz")) and s[0] == 503 and s, timeout=30)
    assert "writes to the Kubernetes API have failed for" in status[1] and "503" in status[1]
    assert proc.get("/healthz")[0] == 200  # alive: nothing a restart would mend
    assert "secretsync_api_errors_total" in proc.metrics()
    faults.on = False
    assert wait_for(lambda: proc.get("/readyz")[0] == 200, timeout=RECOVERY)
    assert wait_for(lambda: env.secret("db", NS) is not None, timeout=RECOVERY)


def test_the_operator_waits_out_an_api_that_cannot_list_its_keys_at_start(
    env: ExternalEnv, operator_factory: Any
) -> None:
    """The key ring is read before anything is reconciled; an API answering 503 there (after the
    client's own three tries) is retried with backoff, not a crash: the process stays up, alive and
    not ready, and syncs within RECOVERY s of the API answering again."""
    from tests.support.sealed_env import KEY_LABEL, OPERATOR_NS, key_secret, seal, secret, vector_key

    key_pem, cert_pem = vector_key(4096)
    env.emu.create(key_secret("sealing-key", key_pem, cert_pem, label=KEY_LABEL))
    faults = Faults(env.emu)
    faults.inject(
        503,
        lambda r: r.method == "GET" and _path(r) == f"/api/v1/namespaces/{OPERATOR_NS}/secrets",
    )
    faults.on = True
    proc: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0"])
    assert wait_for(lambda: "cannot load the sealing keys yet" in proc.logs(), timeout=30)
    assert wait_for(lambda: faults.hits >= 6, timeout=30)  # tried again, with backoff
    assert proc.proc is not None and proc.proc.poll() is None  # no crash
    assert proc.get("/healthz")[0] == 200 and proc.get("/readyz")[0] != 200
    # no second key generated over the one it could not list
    assert len(env.emu.list("v1", "Secret", OPERATOR_NS, label_selector=KEY_LABEL)) == 1
    faults.on = False
    proc.wait_ready(timeout=RECOVERY + 30)
    env.emu.create(seal(cert_pem, secret("db", NS, {"password": "p"})))
    assert wait_for(lambda: env.secret("db", NS) is not None, timeout=RECOVERY)


def test_a_429_storm_is_waited_out_and_nothing_is_lost(
    env: ExternalEnv, openbao: Any, running: OperatorProcess
) -> None:
    """API Priority and Fairness sheds every request of the operator with 429 and Retry-After for
    a while: the good Secret stays, the operator keeps running, and once the storm ends a change
    made during it is synced within RECOVERY s."""
    root_token_store(env.emu, openbao, NS)
    client = openbao.client()
    client.secrets.kv.v2.create_or_update_secret(openbao.path("storm"), {"v": "one"})
    data = [{"secretKey": "v", "remoteRef": {"key": openbao.path("storm"), "property": "v"}}]
    env.emu.create(external_secret("storm", NS, "vault", data=data, refreshInterval="1s"))
    env.wait_synced("storm", NS)
    faults = Faults(env.emu)
    faults.inject(429, lambda r: "/secretsync.io/" in _path(r) or "/secrets" in _path(r), "Retry-After: 1")
    faults.on = True
    assert wait_for(lambda: faults.hits >= 10, timeout=30)
    client.secrets.kv.v2.create_or_update_secret(openbao.path("storm"), {"v": "two"})
    assert env.values("storm", NS) == {"v": b"one"}
    assert running.proc is not None and running.proc.poll() is None
    faults.on = False
    assert wait_for(lambda: env.values("storm", NS) == {"v": b"two"}, timeout=RECOVERY)
    env.wait_synced("storm", NS, timeout=RECOVERY)


def test_a_slow_api_server_slows_the_operator_down_and_nothing_else(
    env: ExternalEnv, openbao: Any, operator_factory: Any, tmp_path: Any
) -> None:
    """Every answer of the API server held back 1.5 s (an overloaded control plane): objects still
    sync to the right Secret, each Secret written once (no duplicate writes from impatient
    retries), Ready=True; once the API is fast again the operator is too."""
    from urllib.parse import urlsplit

    from tests.support.kube_emulator import write_kubeconfig
    from tests.support.slow_proxy import SlowProxy

    where = urlsplit(env.emu.url)
    proxy = SlowProxy(where.hostname or "127.0.0.1", where.port or 80).start()
    try:
        kubeconfig = tmp_path / "slow.kubeconfig"
        write_kubeconfig(kubeconfig, proxy.url)
        root_token_store(env.emu, openbao, NS)
        openbao.client().secrets.kv.v2.create_or_update_secret(openbao.path("slow"), {"v": "one"})
        proc = OperatorProcess(str(kubeconfig), tmp_path, extra_args=["--key-renew-period", "0"]).start()
        try:
            proc.wait_ready(timeout=60)
            proxy.delay = 1.5
            data = [{"secretKey": "v", "remoteRef": {"key": openbao.path("slow"), "property": "v"}}]
            env.emu.create(external_secret("slow", NS, "vault", data=data))
            env.wait_synced("slow", NS, timeout=60)
            assert env.values("slow", NS) == {"v": b"one"}
            creates = [
                r for r in env.emu.requests() if r[0] == "POST" and r[1] == f"/api/v1/namespaces/{NS}/secrets"
            ]
            assert len(creates) == 1, creates
            proxy.delay = 0
            env.emu.create(external_secret("fast", NS, "vault", data=data))
            env.wait_synced("fast", NS, timeout=RECOVERY)
        finally:
            proc.stop()
    finally:
        proxy.stop()
