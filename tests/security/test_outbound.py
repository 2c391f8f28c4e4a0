"""Attacks 6 and 7: where the operator's requests and minted tokens go (docs/security.md 5-10).

A tenant's SecretStore names the server. It must not make the operator mint a token for any
ServiceAccount or audience it likes and post it there, reach cloud metadata or servers the admin
did not allow, read another service's answers back through the store's status, or fill the
operator's memory with an endless answer.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.external_env import API, ExternalEnv, token_secret, vault_store
from tests.support.kube_emulator import TOKEN_ISSUER, wait_for
from tests.support.operator_proc import OperatorProcess
from tests.support.rogue import RogueServer

TENANT = "tenant-a"
INTERNAL = "INTERNAL-ANSWER-7d1c"  # what a service inside the cluster would answer


@pytest.fixture
def env(kube_emulator: Any) -> ExternalEnv:
    for ns in ("secretsync-system", TENANT):
        kube_emulator.ensure_namespace(ns)
    return ExternalEnv(kube_emulator)


@pytest.fixture
def rogue() -> Any:
    server = RogueServer()
    yield server
    server.close()


def _start(operator_factory: Any, *args: str) -> OperatorProcess:
    proc: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "0", *args])
    proc.wait_ready()
    return proc


def _service_account(env: ExternalEnv, name: str, *, marked: bool) -> None:
    annotations = {"secretsync.io/allow-store-tokens": "true"} if marked else {}
    env.emu.create(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": TENANT, "annotations": annotations},
        }
    )


def _k8s_store(
    env: ExternalEnv, name: str, server: str, account: str, audiences: list[str] | None = None
) -> None:
    ref: dict[str, Any] = {"name": account}
    if audiences is not None:
        ref["audiences"] = audiences
    auth = {"kubernetes": {"mountPath": "kubernetes", "role": "r", "serviceAccountRef": ref}}
    env.emu.create(vault_store(name, TENANT, server, auth))


def _logins(rogue: RogueServer) -> list[dict[str, Any]]:
    return [json.loads(s.body) for s in rogue.seen if s.path.startswith("/v1/auth/kubernetes/login")]


# ---------------------------------------------------------------------------- attack 6


def test_tokens_only_for_marked_service_accounts_with_a_fixed_audience(
    env: ExternalEnv, kube_emulator: Any, operator_factory: Any, rogue: RogueServer
) -> None:
    _start(operator_factory)
    authority = kube_emulator.layer.token_authority
    _service_account(env, "deployer", marked=False)  # say, the namespace's CI identity
    _service_account(env, "vault-reader", marked=True)

    _k8s_store(env, "unmarked", rogue.url, "deployer")
    cond = env.wait_reason("SecretStore", "unmarked", TENANT, "NotPermitted")
    assert "secretsync.io/allow-store-tokens=true" in cond["message"]

    _k8s_store(env, "api-audience", rogue.url, "vault-reader", audiences=[TOKEN_ISSUER])
    cond = env.wait_reason("SecretStore", "api-audience", TENANT, "NotPermitted")
    assert f"audience {TOKEN_ISSUER!r} is not allowed" in cond["message"]
    assert authority.issued == [] and _logins(rogue) == []  # nothing minted, nothing sent

    rogue.answer = rogue.json(400, {"errors": ["invalid role name"]})
    _k8s_store(env, "fixed", rogue.url, "vault-reader")
    env.wait_reason("SecretStore", "fixed", TENANT, "ProviderAuthFailed")
    [issued] = authority.issued
    assert (issued.service_account, issued.audiences) == ("vault-reader", ("vault",))
    [login] = _logins(rogue)
    # What the server got is useless against the API server: a TokenReview for its audience fails.
    review = authority.review(login["jwt"], [], lambda ns, name: issued.service_account_uid)
    assert review["authenticated"] is False


def test_an_admin_may_allow_another_audience(
    env: ExternalEnv, kube_emulator: Any, operator_factory: Any, rogue: RogueServer
) -> None:
    _start(operator_factory, "--token-audiences", "vault.example.com")
    _service_account(env, "vault-reader", marked=True)
    rogue.answer = rogue.json(400, {"errors": ["invalid role name"]})
    _k8s_store(env, "custom", rogue.url, "vault-reader", audiences=["vault.example.com"])
    env.wait_reason("SecretStore", "custom", TENANT, "ProviderAuthFailed")
    [issued] = kube_emulator.layer.token_authority.issued
    assert issued.audiences == ("vault.example.com",)


# ---------------------------------------------------------------------------- attack 7


def _token_store(env: ExternalEnv, name: str, server: str) -> None:
    env.emu.create(token_secret("tok", TENANT, "s.tenant-token"))
    env.emu.create(vault_store(name, TENANT, server, {"tokenSecretRef": {"name": "tok", "key": "token"}}))


def test_servers_outside_the_allow_list_and_metadata_addresses_are_never_contacted(
    env: ExternalEnv, operator_factory: Any, rogue: RogueServer
) -> None:
    _start(operator_factory, "--allowed-servers", "vault.internal:8200,*.vault.svc")
    env.emu.create(token_secret("tok", TENANT, "s.tenant-token"))
    auth = {"tokenSecretRef": {"name": "tok", "key": "token"}}
    for name, server in (
        ("elsewhere", rogue.url),
        ("metadata", "http://169.254.169.254"),
        ("metadata-v6", "http://[::ffff:169.254.169.254]:80"),
        ("gce", "http://metadata.google.internal"),
    ):
        env.emu.create(vault_store(name, TENANT, server, auth))
        cond = env.wait_reason("SecretStore", name, TENANT, "NotPermitted")
        assert "--allowed-servers" in cond["message"] or "metadata" in cond["message"]
    assert rogue.seen == []


def test_metadata_is_refused_even_without_an_allow_list(env: ExternalEnv, operator_factory: Any) -> None:
    _start(operator_factory)
    _token_store(env, "imds", "http://169.254.169.254:80")
    cond = env.wait_reason("SecretStore", "imds", TENANT, "NotPermitted")
    assert "cloud metadata or link-local" in cond["message"]


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, {"errors": [INTERNAL]}),
        (403, {"errors": [f"1 error occurred: * {INTERNAL}"]}),
        (400, {"errors": [f"invalid request: {INTERNAL}"]}),
        (404, {"errors": [INTERNAL], "data": {"metadata": {"note": INTERNAL}}}),
        (200, {"data": f"<html>{INTERNAL}</html>"}),
        (418, f"<html>{INTERNAL}</html>"),
    ],
)
def test_a_servers_answers_never_reach_the_status(
    env: ExternalEnv, operator_factory: Any, rogue: RogueServer, status: int, body: Any
) -> None:
    """The store points at an internal service: its answers must not be readable from the status."""
    proc = _start(operator_factory)
    rogue.answer = rogue.json(status, body)
    # AppRole: the first request is the login, whose error text the old code passed on verbatim.
    env.emu.create(token_secret("approle", TENANT, "secret-id"))
    auth = {"appRole": {"roleId": "r", "secretRef": {"name": "approle", "key": "token"}}}
    env.emu.create(vault_store("probe", TENANT, rogue.url, auth))
    wait_for(lambda: ((env.get("SecretStore", "probe", TENANT) or {}).get("status") or {}).get("conditions"))
    assert rogue.seen, "the store's server was asked"
    for text in (
        proc.logs(),
        json.dumps(env.emu.list(API, "SecretStore")),
        json.dumps(env.emu.list("v1", "Event")),
    ):
        assert INTERNAL not in text


def test_redirects_are_not_followed(env: ExternalEnv, operator_factory: Any, rogue: RogueServer) -> None:
    _start(operator_factory)
    second = RogueServer()
    try:
        rogue.answer = rogue.redirect(f"{second.url}/latest/meta-data/iam/security-credentials/")
        _token_store(env, "hop", rogue.url)
        cond = env.wait_reason("SecretStore", "hop", TENANT, "SecretSyncedError")
        assert "redirects are not followed" in cond["message"]
        assert second.seen == []
    finally:
        second.close()


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_an_endless_answer_is_cut_off(env: ExternalEnv, operator_factory: Any, rogue: RogueServer) -> None:
    """A 300 MB answer once took the operator to 640 MB; now reading stops at 4 MiB."""
    proc = _start(operator_factory)
    rogue.answer = rogue.endless()
    _token_store(env, "flood", rogue.url)
    cond = env.wait_reason("SecretStore", "flood", TENANT, "SecretSyncedError", timeout=30)
    assert "more than 4 MiB" in cond["message"]
    assert proc.proc is not None
    assert _peak_rss_mib(proc.proc.pid) < 300
    assert rogue.bytes_sent < 64 << 20  # the operator hung up long before 300 MB


def test_a_trickling_answer_meets_a_deadline(rogue: RogueServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every read succeeds (a byte each 0.2 s) but the answer never ends: the whole has a deadline."""
    from secretsync import limits
    from secretsync.errors import ProviderUnavailable
    from secretsync.providers.base import StoreContext
    from secretsync.providers.vault import VaultProvider

    monkeypatch.setattr(limits, "PROVIDER_MAX_RESPONSE_SECONDS", 1.0)
    rogue.answer = rogue.trickle()
    spec = {"server": rogue.url, "auth": {"tokenSecretRef": {"name": "t", "key": "t"}}}
    vault = VaultProvider(StoreContext("SecretStore", "s", "ns", spec, read_credential=lambda ref: b"tok"))
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="did not finish its answer within 1s"):
        vault.check()
    assert time.monotonic() - started < 5
