"""A *slow* Vault: every answer of a private OpenBao held back by a TCP proxy
(:mod:`tests.support.slow_proxy`), with the real operator process; the store's ``server`` is the proxy.

The Vault client's time-outs are ``secretsync/providers/vault.py`` ``TIMEOUT`` (5 s connect, 30 s
read, per socket read). Three cases:

* slower than usual but within the read time-out: the ExternalSecret syncs and stays Ready=True,
  the Secret is written once, reads do not pile up (no impatient retries);
* slower than the read time-out: the checks of ``tests/faults/test_provider_faults.py`` (the good
  Secret neither lost nor overwritten, Ready=False naming the real cause, a Warning event, recovery
  by itself once the delay is lifted, within the time stated in the docstring);
* a slow store must not stall the others: an ExternalSecret on a healthy store still syncs promptly
  while ExternalSecrets of a very slow store wait for their answers.

And a canary value (the Vault secret) never appears in the operator log, an Event or any status.
Lifting the proxy's delay releases the answers it holds at once, as a Vault that recovers would.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from secretsync.external.bulkhead import PER_STORE, POOL_THREADS
from secretsync.providers.vault import POOL_SIZE, TIMEOUT
from tests.support.external_env import (
    ExternalEnv,
    assert_no_leak,
    external_secret,
    metric_value,
    token_secret,
    vault_store,
)
from tests.support.kube_emulator import wait_for
from tests.support.operator_proc import OperatorProcess
from tests.support.sealed_env import ready
from tests.support.slow_proxy import SlowProxy

pytestmark = pytest.mark.slow
NS = "slowfaults"
CANARY = "canary-slow-vault-M4rT"
CANARY_NEXT = "canary-slow-vault-after-J8nE"
READ_TIMEOUT = TIMEOUT[1]
SLOW_BUT_IN_TIME = 2.0  # seconds every answer is held back in the first case
TOO_SLOW = READ_TIMEOUT + 30.0  # every answer outlasts the read time-out
FAULT_SEEN = READ_TIMEOUT + 15.0  # the read time-out, plus a refresh (1 s) and the status write
RECOVERY = 10.0  # seconds from lifting the delay to the new value in the Secret
PROMPT = 5.0  # seconds a healthy store's new ExternalSecret may take while another store is slow


@pytest.fixture
def bao(openbao_isolated: Any) -> Iterator[Any]:
    """The private OpenBao, seeded with CANARY under secret/app."""
    openbao_isolated.client().secrets.kv.v2.create_or_update_secret("app", {"v": CANARY})
    yield openbao_isolated


@pytest.fixture
def slow(bao: Any, running: OperatorProcess) -> Iterator[SlowProxy]:
    """The proxy in front of ``bao`` (no delay at first). At teardown the delay is lifted (the held
    answers flushed) and the operator stopped before the proxy: no provider thread waits out its read
    time-out during the operator's shutdown, and no connection is left open on the proxy."""
    proxy = SlowProxy("127.0.0.1", bao.port).start()
    yield proxy
    proxy.delay = 0
    wait_for(lambda: proxy.held == 0, timeout=5, message="the proxy flushed its held answers")
    running.stop()
    proxy.stop()


def _stores(env: ExternalEnv, bao: Any, **servers: str) -> None:
    """A SecretStore per name -> server, all with the root token (one token Secret)."""
    env.emu.create(token_secret("vault-token", NS, bao.root_token))
    auth = {"tokenSecretRef": {"name": "vault-token", "key": "token"}}
    for name, server in servers.items():
        env.emu.create(vault_store(name, NS, server, auth))
    for name in servers:
        env.wait_reason("SecretStore", name, NS, "Valid", timeout=30)


def _es(name: str, store: str) -> dict[str, Any]:
    data = [{"secretKey": "k", "remoteRef": {"key": "app", "property": "v"}}]
    return external_secret(name, NS, store, refreshInterval="1s", data=data)


class Kept:
    """A good Secret as synced: later checks prove it neither lost nor overwritten."""

    def __init__(self, env: ExternalEnv, name: str, value: str) -> None:
        self.env, self.name, self.value = env, name, value.encode()
        assert env.values(name, NS) == {"k": self.value}
        self.rv = (env.secret(name, NS) or {})["metadata"]["resourceVersion"]

    def check(self) -> None:
        secret = self.env.secret(self.name, NS)
        assert secret is not None, f"Secret {self.name} was deleted while Vault was slow"
        assert self.env.values(self.name, NS) == {"k": self.value}
        assert secret["metadata"]["resourceVersion"] == self.rv, f"Secret {self.name} was rewritten"


def _secret_writes(env: ExternalEnv) -> list[tuple[str, str]]:
    return [
        (method, path)
        for method, path, _ in env.emu.requests()
        if method in ("POST", "PUT", "PATCH", "DELETE")
        and path.startswith(f"/api/v1/namespaces/{NS}/secrets")
    ]


def _provider_calls(proc: OperatorProcess, operation: str, result: str) -> float:
    return metric_value(
        proc, "secretsync_provider_calls_total", provider="vault", operation=operation, result=result
    )


def _warnings(env: ExternalEnv, name: str) -> list[dict[str, Any]]:
    return [e for e in env.events(name, NS) if e.get("type") == "Warning"]


def test_a_slow_vault_within_the_read_timeout_syncs_and_stays_ready(
    env: ExternalEnv, bao: Any, slow: SlowProxy, running: OperatorProcess
) -> None:
    """Every answer held back 2 s (well within the 30 s read time-out): the store validates, the
    ExternalSecret syncs, and over 12 s of 1 s refreshes it stays Ready=True with no Warning, its
    Secret written once (one create, nothing after), and Vault read at most once per 3 s (2 s
    answer + 1 s interval: one read at a time, no retry piled on a slow one), none failing."""
    slow.delay = SLOW_BUT_IN_TIME
    _stores(env, bao, vault=slow.url)
    env.emu.create(_es("es", "vault"))
    env.wait_synced("es", NS, timeout=30)
    kept = Kept(env, "es", CANARY)
    reads_before = _provider_calls(running, "get", "ok")
    window, start = 12.0, time.monotonic()
    while time.monotonic() - start < window:
        cond = ready(env.get("ExternalSecret", "es", NS)) or {}
        assert (cond.get("status"), cond.get("reason")) == ("True", "SecretSynced"), cond
        time.sleep(0.2)
    kept.check()
    reads = _provider_calls(running, "get", "ok") - reads_before
    assert 2 <= reads <= window / (SLOW_BUT_IN_TIME + 1) + 1, reads
    for result in ("ProviderUnavailable", "ProviderError", "error"):
        assert _provider_calls(running, "get", result) == 0, result
    assert _secret_writes(env) == [("POST", f"/api/v1/namespaces/{NS}/secrets")]
    assert _warnings(env, "es") == [] and _warnings(env, "vault") == []
    assert_no_leak(running, env, [CANARY])


def test_a_vault_slower_than_the_read_timeout_keeps_the_secret_and_recovers(
    env: ExternalEnv, bao: Any, slow: SlowProxy, running: OperatorProcess
) -> None:
    """Every answer held back 60 s (past the 30 s read time-out): Ready=False ProviderUnavailable
    "vault: <server> sent no answer within 30s to GET <path> (read time-out)" within 45 s (the
    time-out ends the read, after 30 s), a Warning event with the same words, the good Secret kept
    as it is; once the delay is lifted, the new value is in the Secret within 10 s (one failure:
    backoff 1 s)."""
    _stores(env, bao, vault=slow.url)
    env.emu.create(_es("es", "vault"))
    env.wait_synced("es", NS)
    kept = Kept(env, "es", CANARY)
    slow.delay = TOO_SLOW
    slowed = time.monotonic()
    cond = env.wait_reason("ExternalSecret", "es", NS, "ProviderUnavailable", timeout=FAULT_SEEN)
    waited = time.monotonic() - slowed
    assert cond["status"] == "False"
    # the server, what was asked, and that it did not answer within the read time-out
    for needle in (slow.url, f"no answer within {READ_TIMEOUT:.0f}s", "/v1/", "read time-out"):
        assert needle in cond["message"], cond
    assert waited >= READ_TIMEOUT - 1, f"failed after {waited:.1f}s, before the read time-out"
    kept.check()
    warnings = wait_for(lambda: _warnings(env, "es"), timeout=10, message="a Warning event")
    for event in warnings:
        assert (event["reason"], event["message"]) == (
            "ProviderUnavailable",
            f"ExternalSecret: {cond['message']}",
        ), event
    bao.client().secrets.kv.v2.create_or_update_secret("app", {"v": CANARY_NEXT})  # not through the proxy
    time.sleep(2)  # a retry (backoff 1 s) is under way, held by the proxy
    kept.check()
    slow.delay = 0
    assert wait_for(lambda: env.values("es", NS) == {"k": CANARY_NEXT.encode()}, timeout=RECOVERY)
    env.wait_synced("es", NS, timeout=RECOVERY)
    assert_no_leak(running, env, [CANARY, CANARY_NEXT])


@pytest.mark.parametrize("slow_count", [6, POOL_THREADS + 8], ids=["several", "more-than-the-pool"])
def test_a_slow_store_does_not_stall_the_other_stores(
    env: ExternalEnv, bao: Any, slow: SlowProxy, running: OperatorProcess, slow_count: int
) -> None:
    """``slow_count`` ExternalSecrets (1 s refresh) on a store whose every answer is held back 60 s,
    each one waiting for its read: an ExternalSecret created then on a healthy store (the same
    OpenBao, directly) syncs within 5 s, and the slow ones keep their Secrets. With more slow
    ExternalSecrets than the operator's provider threads, the slow store holds only its own slots
    (secretsync/external/bulkhead.py: PER_STORE) and the rest queue on the event loop: before the
    bulkhead, the healthy one waited with no status at all until the slow reads timed out (~30 s)."""
    assert POOL_SIZE >= PER_STORE  # the HTTP connection pool is not the limit
    _stores(env, bao, slowstore=slow.url, healthy=bao.addr)
    names = [f"slow-{i}" for i in range(slow_count)]
    for name in names:
        env.emu.create(_es(name, "slowstore"))
    for name in names:
        env.wait_synced(name, NS, timeout=30)
    kept = [Kept(env, name, CANARY) for name in names]
    slow.delay = TOO_SLOW
    in_flight = min(slow_count, PER_STORE)
    wait_for(lambda: slow.held >= in_flight, timeout=10, message=f"{in_flight} slow reads held")
    env.emu.create(_es("fast", "healthy"))
    try:
        env.wait_synced("fast", NS, timeout=PROMPT)
    except AssertionError as exc:
        raise AssertionError(
            f"the healthy store's ExternalSecret did not sync within {PROMPT}s while "
            f"{slow.held} reads of the slow store were held: {exc}"
        ) from None
    assert slow.held >= in_flight, "the slow reads were no longer held: the case proved nothing"
    assert slow.held <= PER_STORE, "more reads of one store in flight than its slots"
    assert env.values("fast", NS) == {"k": CANARY.encode()}
    for one in kept:
        one.check()
    assert_no_leak(running, env, [CANARY])
