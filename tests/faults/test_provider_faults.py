"""Provider trouble during a sync: nothing is dropped on the floor (the real operator process, a
private OpenBao, moto in server mode, the GCP Secret Manager fake).

Each case asserts the three things of tests/faults/test_api_faults.py, for a provider fault:

* the good Secret is neither lost nor overwritten while the fault lasts (same data, same
  resourceVersion);
* Ready=False on the ExternalSecret names the real cause while the fault lasts;
* once the fault ends the operator recovers by itself, within the time stated in each docstring.

And a canary value (the provider's secret) never appears in the operator log, an Event or any
status. Every ExternalSecret refreshes every second, so the fault is met within a second or two;
the fault is lifted as soon as Ready=False is seen, so the operator's backoff (1 s doubling for
provider errors, 10 s doubling for auth errors; see ``secretsync/external/base.py``) is still short.

A *slow* Vault (answers held back by a proxy, within and beyond the read time-out, and a slow store
beside a healthy one) is in ``tests/faults/test_slow_provider.py``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import grpc
import pytest

from tests.support.external_env import (
    API,
    ExternalEnv,
    assert_no_leak,
    external_secret,
    token_secret,
    vault_store,
)
from tests.support.kube_emulator import wait_for
from tests.support.operator_proc import OperatorProcess

pytestmark = pytest.mark.slow
NS = "pfaults"
CANARY = "canary-provider-fault-Q7zX"
CANARY_NEXT = "canary-provider-fault-after-W3kP"
FAULT_SEEN = 30.0  # seconds until Ready=False shows the fault (provider time-outs and retries included)


def _store(name: str, provider: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "SecretStore",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"provider": provider},
    }


def _es(store: str, key: str, **extra: Any) -> dict[str, Any]:
    ref = {"key": key, **extra}
    return external_secret("es", NS, store, refreshInterval="1s", data=[{"secretKey": "k", "remoteRef": ref}])


class Kept:
    """The good Secret as synced: later checks prove it neither lost nor overwritten."""

    def __init__(self, env: ExternalEnv, value: str) -> None:
        self.env = env
        self.value = value.encode()
        secret = env.secret("es", NS) or {}
        self.rv = secret.get("metadata", {}).get("resourceVersion")
        assert env.values("es", NS) == {"k": self.value}

    def check(self) -> None:
        secret = self.env.secret("es", NS)
        assert secret is not None, "the good Secret was deleted during a provider fault"
        assert self.env.values("es", NS) == {"k": self.value}
        assert secret["metadata"]["resourceVersion"] == self.rv, "the good Secret was rewritten"


def _fault_reason(env: ExternalEnv, kept: Kept, reason: str, *needles: str) -> dict[str, Any]:
    """Ready=False with ``reason`` whose message holds every needle (case-insensitive)."""
    cond = env.wait_reason("ExternalSecret", "es", NS, reason, timeout=FAULT_SEEN)
    assert cond["status"] == "False"
    for needle in needles:
        assert needle.lower() in cond["message"].lower(), cond
    kept.check()
    return cond


# ---------------------------------------------------------------------------- Vault / OpenBao


@pytest.fixture
def bao(openbao_isolated: Any) -> Iterator[Any]:
    """The private OpenBao, re-seeded with ``bao.value`` under secret/app after every (re)start."""
    server = openbao_isolated
    server.value = CANARY

    def seed(srv: Any) -> None:
        srv.client().secrets.kv.v2.create_or_update_secret("app", {"v": srv.value})

    server.add_seed_hook(seed)
    yield server


def _vault_es(env: ExternalEnv, bao: Any, token: str) -> None:
    env.emu.create(token_secret("vault-token", NS, token))
    auth = {"tokenSecretRef": {"name": "vault-token", "key": "token"}}
    env.emu.create(vault_store("vault", NS, bao.addr, auth))
    env.emu.create(_es("vault", "app", property="v"))
    env.wait_synced("es", NS)


def test_vault_restart_keeps_the_secret_and_recovers(
    env: ExternalEnv, bao: Any, running: OperatorProcess
) -> None:
    """Vault down (killed): Ready=False ProviderUnavailable "cannot reach ... connection refused".
    Recovery within 45 s of the restart (backoff 1 s doubling; the fault lasts a few seconds).
    The dev server forgets its data on restart: the seed hook writes the (new) value again, and the
    root token is fixed, so the store's token is valid again after it."""
    _vault_es(env, bao, bao.root_token)
    kept = Kept(env, CANARY)
    bao.stop()
    _fault_reason(env, kept, "ProviderUnavailable", "cannot reach", bao.addr, "connection refused")
    kept.check()
    bao.value = CANARY_NEXT
    bao.start()
    assert wait_for(lambda: env.values("es", NS) == {"k": CANARY_NEXT.encode()}, timeout=45)
    env.wait_synced("es", NS, timeout=20)
    assert_no_leak(running, env, [CANARY, CANARY_NEXT])


def _unseal_key(bao: Any) -> str | None:
    found = re.findall(r"Unseal Key: (\S+)", bao.log_path.read_text(errors="replace"))
    return found[-1] if found else None


def test_vault_sealed_keeps_the_secret_and_recovers_when_unsealed(
    env: ExternalEnv, bao: Any, running: OperatorProcess
) -> None:
    """Vault sealed (``sys/seal``): Ready=False ProviderUnavailable "is sealed"; unsealed with the
    dev server's unseal key (from its log), recovery within 45 s (backoff 1 s doubling)."""
    key = _unseal_key(bao)
    assert key is not None, "the OpenBao dev server printed no unseal key: cannot unseal after sys/seal"
    _vault_es(env, bao, bao.root_token)
    kept = Kept(env, CANARY)
    client = bao.client()
    client.sys.seal()
    assert client.sys.is_sealed()
    _fault_reason(env, kept, "ProviderUnavailable", "sealed", bao.addr)
    bao.client().sys.submit_unseal_key(key)
    assert not bao.client().sys.is_sealed()
    bao.client().secrets.kv.v2.create_or_update_secret("app", {"v": CANARY_NEXT})
    assert wait_for(lambda: env.values("es", NS) == {"k": CANARY_NEXT.encode()}, timeout=45)
    env.wait_synced("es", NS, timeout=20)
    assert_no_leak(running, env, [CANARY, CANARY_NEXT])


def test_vault_revoked_token_reports_auth_and_recovers_with_a_new_token(
    env: ExternalEnv, bao: Any, running: OperatorProcess
) -> None:
    """The token in the store's Secret is revoked: Ready=False ProviderAuthFailed naming the token's
    Secret and "revoked"; once the Secret holds a fresh token, recovery within 90 s (auth errors back
    off from 10 s, doubling: 10 + 20 + 40 s at worst, plus jitter)."""
    root = bao.client()
    bao.write_policy("reader", 'path "secret/*" { capabilities = ["read", "list"] }')
    first = root.auth.token.create(policies=["reader"], ttl="1h")["auth"]["client_token"]
    _vault_es(env, bao, first)
    kept = Kept(env, CANARY)
    root.auth.token.revoke(first)
    _fault_reason(env, kept, "ProviderAuthFailed", "vault-token", "revoked")
    fresh = root.auth.token.create(policies=["reader"], ttl="1h")["auth"]["client_token"]
    root.secrets.kv.v2.create_or_update_secret("app", {"v": CANARY_NEXT})
    env.emu.patch(
        "v1", "Secret", "vault-token", {"data": {"token": base64.b64encode(fresh.encode()).decode()}}, NS
    )
    assert wait_for(lambda: env.values("es", NS) == {"k": CANARY_NEXT.encode()}, timeout=90)
    env.wait_synced("es", NS, timeout=20)
    assert_no_leak(running, env, [CANARY, CANARY_NEXT, first, fresh])


# ---------------------------------------------------------------------------- AWS (moto)


class AwsFaults:
    """WSGI middleware in front of moto: while ``on``, GetSecretValue gets ``status`` + ``code``."""

    def __init__(self, app: Callable[..., Any], status: int, code: str) -> None:
        self.app, self.status, self.code = app, status, code
        self.on = False
        self.hits = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.on and environ.get("HTTP_X_AMZ_TARGET") == "secretsmanager.GetSecretValue":
            self.hits += 1
            body = json.dumps({"__type": self.code, "message": "injected by the fault test"}).encode()
            reason = {400: "Bad Request", 500: "Internal Server Error", 503: "Service Unavailable"}
            start_response(
                f"{self.status} {reason[self.status]}",
                [
                    ("Content-Type", "application/x-amz-json-1.1"),
                    ("Content-Length", str(len(body))),
                    ("x-amzn-ErrorType", self.code),
                ],
            )
            return [body]
        return self.app(environ, start_response)


@pytest.mark.parametrize(
    ("status", "code", "needle"),
    [
        (503, "ServiceUnavailable", "unavailable: 503"),
        (500, "InternalServiceError", "unavailable: 500"),
        (400, "ThrottlingException", "throttled: ThrottlingException"),
    ],
    ids=["503", "500", "throttling"],
)
def test_aws_errors_keep_the_secret_and_recover(
    env: ExternalEnv,
    moto: Any,
    running: OperatorProcess,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    code: str,
    needle: str,
) -> None:
    """Secrets Manager answers GetSecretValue with 5xx / ThrottlingException (after botocore's own
    3 attempts): Ready=False ProviderUnavailable naming the operation and the code; recovery within
    45 s once it answers again (backoff 1 s doubling)."""
    sm = moto.boto3_client("secretsmanager")
    sm.create_secret(Name="k", SecretString=CANARY)
    faults = AwsFaults(moto.counter.app, status, code)
    monkeypatch.setattr(moto.counter, "app", faults)
    env.emu.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "aws-creds", "namespace": NS},
            "stringData": {"id": "AKIDEXAMPLE", "key": "secret-example"},
        }
    )
    auth = {
        "secretRef": {
            "accessKeyIDSecretRef": {"name": "aws-creds", "key": "id"},
            "secretAccessKeySecretRef": {"name": "aws-creds", "key": "key"},
        }
    }
    env.emu.create(_store("aws", {"aws": {"service": "SecretsManager", "region": "us-east-1", "auth": auth}}))
    env.emu.create(_es("aws", "k"))
    env.wait_synced("es", NS)
    kept = Kept(env, CANARY)
    faults.on = True
    _fault_reason(env, kept, "ProviderUnavailable", "GetSecretValue", needle)
    assert faults.hits >= 2  # botocore retried before the operator reported it
    sm.put_secret_value(SecretId="k", SecretString=CANARY_NEXT)
    kept.check()
    faults.on = False
    assert wait_for(lambda: env.values("es", NS) == {"k": CANARY_NEXT.encode()}, timeout=45)
    env.wait_synced("es", NS, timeout=20)
    assert_no_leak(running, env, [CANARY, CANARY_NEXT])


# ---------------------------------------------------------------------------- GCP (gRPC fake)


@pytest.mark.parametrize(
    "code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED], ids=lambda c: c.name
)
def test_gcp_unavailable_keeps_the_secret_and_recovers(
    env: ExternalEnv, gcp_fake: Any, running: OperatorProcess, code: grpc.StatusCode
) -> None:
    """Secret Manager fails AccessSecretVersion with UNAVAILABLE (retried client-side for 3 s first)
    or DEADLINE_EXCEEDED: Ready=False ProviderUnavailable naming the endpoint, the secret and the code;
    recovery within 45 s once the faults are cleared (backoff 1 s doubling)."""
    gcp_fake.put_secret("projects/p/secrets/k", CANARY)
    env.emu.create(_store("gcp", {"gcpsm": {"projectID": "p", "endpoint": gcp_fake.endpoint}}))
    env.emu.create(_es("gcp", "k"))
    env.wait_synced("es", NS)
    kept = Kept(env, CANARY)
    gcp_fake.fail_always(code, methods=["AccessSecretVersion"])
    _fault_reason(env, kept, "ProviderUnavailable", gcp_fake.endpoint, "projects/p/secrets/k", code.name)
    gcp_fake.add_version("projects/p/secrets/k", CANARY_NEXT)
    kept.check()
    gcp_fake.clear_faults()
    assert wait_for(lambda: env.values("es", NS) == {"k": CANARY_NEXT.encode()}, timeout=45)
    env.wait_synced("es", NS, timeout=20)
    assert_no_leak(running, env, [CANARY, CANARY_NEXT])
