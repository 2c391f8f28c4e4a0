"""SealedSecrets end to end: the real operator process against the Kubernetes API emulator."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from secretsync import crypto, sealing
from tests.support.kube_emulator import wait_for
from tests.support.operator_proc import OperatorProcess
from tests.support.sealed_env import (
    BITNAMI_KEY_LABEL,
    KEY_LABEL,
    OPERATOR_NS,
    SEALED_API,
    VECTORS,
    SealedEnv,
    decoded,
    fresh_key,
    key_secret,
    seal,
    secret,
    vector_key,
)

NS = "team-a"
CANARY = "canary-sealed-7Hq2-value"
SKIP_OWNER = "sealedsecrets.bitnami.com/skip-set-owner-references"
BITNAMI_MANAGED = "sealedsecrets.bitnami.com/managed"
SEALED_OWNER = "secretsync.io/sealed-secret-owner"
PRODUCED = "secretsync.io/managed-secret"  # on every Secret the operator writes: what it watches
MARK = "secretsync.io/unsealed-from"  # on every Secret it unseals: what a restart checks (unsealmark)


def _annotations(secret: dict[str, Any]) -> dict[str, str]:
    """The Secret's annotations but the unsealed mark, which must be there."""
    found = dict(secret["metadata"].get("annotations") or {})
    assert found.pop(MARK, "").startswith("v1:"), "no unsealed mark"
    return found


@pytest.fixture
def env(kube_emulator: Any) -> SealedEnv:
    kube_emulator.ensure_namespace(OPERATOR_NS)
    kube_emulator.ensure_namespace(NS)
    return SealedEnv(kube_emulator)


@pytest.fixture
def vector_keyed(env: SealedEnv) -> tuple[bytes, bytes]:
    """The independent vectors' RSA-4096 key, pre-seeded as the operator's only sealing key."""
    key_pem, cert_pem = vector_key(4096)
    env.emu.create(key_secret("sealing-key-vectors", key_pem, cert_pem))
    return key_pem, cert_pem


@pytest.fixture
def running(env: SealedEnv, vector_keyed: tuple[bytes, bytes], operator_factory: Any) -> OperatorProcess:
    proc: OperatorProcess = operator_factory()
    proc.wait_ready()
    return proc


def _apply(env: SealedEnv, sealed_obj: dict[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = env.emu.create(sealed_obj)
    return created


def _no_canary(*texts: str) -> None:
    for text in texts:
        assert CANARY not in text
        assert base64.b64encode(CANARY.encode()).decode() not in text


# ---------------------------------------------------------------------------- keys


def test_generates_a_key_at_start_and_serves_its_certificate(env: SealedEnv, operator_factory: Any) -> None:
    proc: OperatorProcess = operator_factory()
    proc.wait_ready()
    keys = env.emu.list("v1", "Secret", OPERATOR_NS)
    active = [k for k in keys if (k["metadata"].get("labels") or {}).get(KEY_LABEL) == "active"]
    assert len(active) == 1
    assert active[0]["type"] == "kubernetes.io/tls"
    status, pem = proc.get("/v1/cert.pem")
    assert status == 200
    cert = crypto.load_certificate(pem.encode())
    assert cert.key_size == 4096
    assert base64.b64decode(active[0]["data"]["tls.crt"]).strip() == pem.encode().strip()
    assert "secretsync_sealing_keys_active 1.0" in proc.metrics()
    # A restart reuses the key: no new key while the newest is younger than the renew period.
    proc.stop()
    again: OperatorProcess = operator_factory()
    again.wait_ready()
    assert len(env.emu.list("v1", "Secret", OPERATOR_NS)) == 1
    assert again.get("/v1/cert.pem") == (200, pem)


def test_key_renewal_adds_keys_and_keeps_old_ones(env: SealedEnv, operator_factory: Any) -> None:
    proc: OperatorProcess = operator_factory(extra_args=["--key-renew-period", "2s"])
    proc.wait_ready()
    first = proc.get("/v1/cert.pem")[1]
    wait_for(lambda: len(env.emu.list("v1", "Secret", OPERATOR_NS)) >= 2, timeout=20)
    wait_for(lambda: proc.get("/v1/cert.pem")[1] != first, timeout=10, message="newest key served")
    labels = [
        (k["metadata"].get("labels") or {}).get(KEY_LABEL) for k in env.emu.list("v1", "Secret", OPERATOR_NS)
    ]
    assert labels.count("active") >= 2  # old keys are never deleted or retired


def test_cutoff_time_forces_a_new_key_at_start(
    env: SealedEnv, vector_keyed: Any, operator_factory: Any
) -> None:
    proc: OperatorProcess = operator_factory(extra_args=["--key-cutoff-time", "2100-01-01T00:00:00Z"])
    proc.wait_ready()
    assert len(env.emu.list("v1", "Secret", OPERATOR_NS)) == 2
    assert crypto.load_certificate(proc.get("/v1/cert.pem")[1].encode()).key_size == 4096
    assert proc.get("/v1/cert.pem")[1].encode().strip() != vector_key(4096)[1].strip()


def test_malformed_key_secret_is_skipped_with_a_warning(env: SealedEnv, operator_factory: Any) -> None:
    broken = key_secret("broken-key", b"not a key", b"not a cert")
    env.emu.create(broken)
    proc: OperatorProcess = operator_factory()
    proc.wait_ready()
    events = wait_for(lambda: env.events("broken-key", OPERATOR_NS))
    assert events[0]["type"] == "Warning"
    assert events[0]["reason"] == "InvalidSealingKey"
    assert "broken-key" in events[0]["message"]
    assert "is unusable and was skipped" in proc.logs()
    assert proc.get("/v1/cert.pem")[0] == 200  # a good key was generated; the operator keeps going


def test_key_added_at_runtime_unblocks_objects_waiting_for_it(
    running: OperatorProcess, env: SealedEnv
) -> None:
    key_pem, cert_pem = fresh_key(2048)
    obj = seal(cert_pem, secret("late", NS, {"password": CANARY}))
    _apply(env, obj)
    cond = env.wait_reason("late", NS, "UnsealFailed")
    assert "password" in cond["message"]
    assert env.get_secret("late", NS) is None
    env.emu.create(key_secret("added-later", key_pem, cert_pem))
    env.wait_ready("late", NS)
    assert decoded(env.get_secret("late", NS))["password"] == CANARY.encode()  # type: ignore[arg-type]


def test_relabelled_key_is_retired_without_restart(running: OperatorProcess, env: SealedEnv) -> None:
    key_pem, cert_pem = fresh_key(2048)
    env.emu.create(key_secret("temp-key", key_pem, cert_pem))
    wait_for(lambda: running.get("/v1/cert.pem")[1].encode().strip() == cert_pem.strip(), timeout=10)
    env.emu.patch(
        "v1", "Secret", "temp-key", {"metadata": {"labels": {KEY_LABEL: "compromised"}}}, OPERATOR_NS
    )
    wait_for(
        lambda: running.get("/v1/cert.pem")[1].encode().strip() == vector_key(4096)[1].strip(), timeout=10
    )


# ---------------------------------------------------------------------------- reconcile


def test_seal_with_fetched_cert_via_cli_becomes_a_secret(
    running: OperatorProcess, env: SealedEnv, tmp_path: Any
) -> None:
    plain = secret(
        "db-creds",
        NS,
        {"password": CANARY, "user": "admin"},
        type="kubernetes.io/basic-auth",
        metadata={"labels": {"app": "db"}, "annotations": {"team": "a"}},
    )
    src = tmp_path / "secret.yaml"
    src.write_text(yaml.safe_dump(plain))
    out = subprocess.run(
        [sys.executable, "-m", "secretsync", "seal", "--cert", f"{running.url}/v1/cert.pem", "-f", str(src)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    sealed_obj = yaml.safe_load(out.stdout)
    assert sealed_obj["metadata"]["annotations"][sealing.FINGERPRINT_ANNOTATION]
    _apply(env, sealed_obj)
    cond = env.wait_ready("db-creds", NS)
    assert cond["reason"] == "Unsealed"
    produced = env.get_secret("db-creds", NS)
    assert produced is not None
    assert decoded(produced) == {"password": CANARY.encode(), "user": b"admin"}
    assert produced["type"] == "kubernetes.io/basic-auth"
    assert produced["metadata"]["labels"] == {"app": "db", PRODUCED: "true"}
    assert produced["metadata"]["annotations"]["team"] == "a"
    sealed_now = env.get_sealed("db-creds", NS)
    assert sealed_now is not None
    (ref,) = produced["metadata"]["ownerReferences"]
    assert ref == {
        "apiVersion": SEALED_API,
        "kind": "SealedSecret",
        "name": "db-creds",
        "uid": sealed_now["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
    assert sealed_now["status"]["observedGeneration"] == sealed_now["metadata"]["generation"]
    normal = wait_for(lambda: [e["reason"] for e in env.events("db-creds", NS) if e["type"] == "Normal"])
    assert normal == ["Unsealed"]
    # Exactly one RSA operation per value, thanks to the fingerprint hint.
    assert "secretsync_rsa_decrypt_attempts_total 2.0" in running.metrics()
    _no_canary(
        running.logs(), json.dumps(env.emu.list("v1", "Event")), json.dumps(sealed_now), running.metrics()
    )


def test_update_reseals_and_updates_the_secret(running: OperatorProcess, env: SealedEnv) -> None:
    _, cert = vector_key(4096)
    _apply(env, seal(cert, secret("app", NS, {"a": "1"})))
    env.wait_ready("app", NS)
    updated = seal(cert, secret("app", NS, {"a": "2", "b": "3"}))
    env.emu.patch(SEALED_API, "SealedSecret", "app", {"spec": updated["spec"]}, NS)
    wait_for(lambda: decoded(env.get_secret("app", NS) or {}) == {"a": b"2", "b": b"3"})
    sealed_now = env.get_sealed("app", NS)
    assert sealed_now is not None
    wait_for(lambda: (env.get_sealed("app", NS) or {}).get("status", {}).get("observedGeneration") == 2)


def test_template_data_is_rendered(running: OperatorProcess, env: SealedEnv) -> None:
    _, cert = vector_key(4096)
    obj = seal(cert, secret("tpl", NS, {"user": "admin", "db-password": CANARY}))
    obj["spec"].setdefault("template", {})["data"] = {
        "dsn": 'postgres://{{ .user }}:{{ index . "db-password" }}@db:5432/app'
    }
    _apply(env, obj)
    env.wait_ready("tpl", NS)
    assert decoded(env.get_secret("tpl", NS))["dsn"] == f"postgres://admin:{CANARY}@db:5432/app".encode()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{{ .usr }}", "missing key: usr"),
        # Each fails while handling the unsealed value: an error built from data would carry it.
        ("{{ fail .user }}", "fail"),
        ("{{ .user | b64enc | fail }}", "fail"),
        ("{{ .user | mustFromJson }}", "function failed: mustFromJson"),
        ('{{ mustRegexMatch (printf "(%s" .user) "x" }}', "function failed: mustRegexMatch"),
        ("{{ index .user 99 }}", "index out of range"),
    ],
)
def test_a_template_error_is_reported_without_the_value(
    running: OperatorProcess, env: SealedEnv, template: str, problem: str
) -> None:
    _, cert = vector_key(4096)
    obj = seal(cert, secret("tpl-bad", NS, {"user": CANARY}))
    obj["spec"].setdefault("template", {})["data"] = {"dsn": template}
    _apply(env, obj)
    cond = env.wait_reason("tpl-bad", NS, "TemplateFailed")
    assert problem in cond["message"], cond["message"]
    assert env.get_secret("tpl-bad", NS) is None
    warnings = wait_for(lambda: [e for e in env.events("tpl-bad", NS) if e["reason"] == "TemplateFailed"])
    everything = [cond["message"], running.logs(), running.metrics(), json.dumps(warnings)]
    _no_canary(*everything, json.dumps(env.get_sealed("tpl-bad", NS)))
    for text in everything:  # nor a transform of it
        for form in (CANARY.upper(), CANARY[::-1], base64.b64encode(CANARY.encode()).decode()[:12]):
            assert form not in text


def test_existing_foreign_secret_is_not_overwritten_until_managed(
    running: OperatorProcess, env: SealedEnv
) -> None:
    env.emu.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "mine", "namespace": NS},
                    "data": {"k": base64.b64encode(b"original").decode()}})  # fmt: skip
    _, cert = vector_key(4096)
    _apply(env, seal(cert, secret("mine", NS, {"k": CANARY})))
    cond = env.wait_reason("mine", NS, "SecretNotOwned")
    assert "secretsync.io/managed=true" in cond["message"]
    warnings = wait_for(lambda: [e for e in env.events("mine", NS) if e["reason"] == "SecretNotOwned"])
    assert warnings[0]["type"] == "Warning"
    assert decoded(env.get_secret("mine", NS)) == {"k": b"original"}  # type: ignore[arg-type]
    env.emu.patch(
        "v1", "Secret", "mine", {"metadata": {"annotations": {"secretsync.io/managed": "true"}}}, NS
    )
    env.wait_ready("mine", NS)
    taken = env.get_secret("mine", NS)
    assert taken is not None and decoded(taken) == {"k": CANARY.encode()}
    assert taken["metadata"]["ownerReferences"][0]["kind"] == "SealedSecret"


def test_self_heal_after_delete_and_after_edit(running: OperatorProcess, env: SealedEnv) -> None:
    _, cert = vector_key(4096)
    _apply(env, seal(cert, secret("heal", NS, {"k": CANARY})))
    env.wait_ready("heal", NS)
    env.emu.delete("v1", "Secret", "heal", NS)
    start = time.monotonic()
    wait_for(lambda: env.get_secret("heal", NS), timeout=10, message="re-created")
    assert time.monotonic() - start < 5
    env.emu.patch("v1", "Secret", "heal", {"data": {"k": base64.b64encode(b"tampered").decode()}}, NS)
    wait_for(lambda: decoded(env.get_secret("heal", NS) or {}).get("k") == CANARY.encode(), timeout=10)


def test_label_taken_off_is_put_back_and_an_unlabelled_secret_is_labelled_at_start(
    env: SealedEnv, vector_keyed: tuple[bytes, bytes], operator_factory: Any
) -> None:
    """The operator watches only Secrets with its label. Taken off by hand, the Secret leaves the
    watch (a DELETED event, by the selector): the SealedSecret syncs and puts it back. A Secret
    written by a version without the label is labelled when its SealedSecret syncs at start."""
    proc: OperatorProcess = operator_factory()
    proc.wait_ready()
    _, cert = vector_key(4096)
    _apply(env, seal(cert, secret("labelled", NS, {"k": CANARY}, metadata={"labels": {"app": "a"}})))
    env.wait_ready("labelled", NS)

    def labels() -> dict[str, str]:
        return dict((env.get_secret("labelled", NS) or {})["metadata"].get("labels") or {})

    assert labels() == {"app": "a", PRODUCED: "true"}
    env.emu.patch("v1", "Secret", "labelled", {"metadata": {"labels": {PRODUCED: None}}}, NS)
    wait_for(lambda: labels() == {"app": "a", PRODUCED: "true"}, timeout=10, message="the label put back")
    env.emu.delete("v1", "Secret", "labelled", NS)  # still watched: re-created at once
    wait_for(lambda: env.get_secret("labelled", NS), timeout=30, message="re-created")
    proc.stop()
    env.emu.patch("v1", "Secret", "labelled", {"metadata": {"labels": {PRODUCED: None}}}, NS)
    assert labels() == {"app": "a"}  # as an older version left it
    operator_factory().wait_ready()
    wait_for(lambda: labels() == {"app": "a", PRODUCED: "true"}, timeout=10, message="labelled at start")
    env.emu.delete("v1", "Secret", "labelled", NS)
    wait_for(lambda: env.get_secret("labelled", NS), timeout=30, message="re-created")


def test_adopting_a_managed_secret_replaces_its_labels_and_annotations(
    running: OperatorProcess, env: SealedEnv
) -> None:
    """Bitnami's controller.go unseal: the adopted Secret's data, labels, annotations and
    ownerReferences become the unsealed Secret's; its managed annotation goes too."""
    env.emu.create({"apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": "adopted", "namespace": NS, "labels": {"stale": "x", "app": "old"},
                                 "annotations": {BITNAMI_MANAGED: "true", "note": "by hand"}},
                    "data": {"old": base64.b64encode(b"old").decode()}})  # fmt: skip
    _, cert = vector_key(4096)
    plain = secret(
        "adopted", NS, {"k": CANARY}, metadata={"labels": {"app": "db"}, "annotations": {"team": "a"}}
    )
    _apply(env, seal(cert, plain))
    env.wait_ready("adopted", NS)
    taken = env.get_secret("adopted", NS)
    assert taken is not None and decoded(taken) == {"k": CANARY.encode()}
    assert taken["metadata"]["labels"] == {"app": "db", PRODUCED: "true"}
    assert _annotations(taken) == {"team": "a"}
    (ref,) = taken["metadata"]["ownerReferences"]
    assert ref["kind"] == "SealedSecret" and ref["controller"] is True
    # The Secret is the template's: a label added by hand is taken off again (drift repair).
    env.emu.patch("v1", "Secret", "adopted", {"metadata": {"labels": {"extra": "y"}}}, NS)
    wait_for(
        lambda: (
            (env.get_secret("adopted", NS) or {})["metadata"].get("labels") == {"app": "db", PRODUCED: "true"}
        ),
        timeout=10,
    )


def test_skip_set_owner_references_leaves_an_independent_secret_that_stays_ours(
    running: OperatorProcess, env: SealedEnv
) -> None:
    """No ownerReference (Bitnami's Unseal), so the Secret outlives its SealedSecret; without
    Bitnami's managed annotation it is still updated and repaired (a mark names its SealedSecret),
    and a later SealedSecret of that name takes it only once it is annotated managed."""
    _, cert = vector_key(4096)
    plain = secret("indep", NS, {"k": "1"}, metadata={"annotations": {SKIP_OWNER: "true"}})
    first = _apply(env, seal(cert, plain))
    env.wait_ready("indep", NS)
    produced = env.get_secret("indep", NS)
    assert produced is not None and decoded(produced) == {"k": b"1"}
    assert not produced["metadata"].get("ownerReferences")
    assert _annotations(produced) == {
        SKIP_OWNER: "true",
        SEALED_OWNER: f"{SEALED_API}/{first['metadata']['uid']}",
    }

    # Updated, and repaired after an edit and after a deletion, with no managed annotation.
    updated = seal(cert, secret("indep", NS, {"k": "2"}, metadata={"annotations": {SKIP_OWNER: "true"}}))
    env.emu.patch(SEALED_API, "SealedSecret", "indep", {"spec": updated["spec"]}, NS)
    wait_for(lambda: decoded(env.get_secret("indep", NS) or {}) == {"k": b"2"}, timeout=10)
    env.emu.patch("v1", "Secret", "indep", {"data": {"k": base64.b64encode(b"tampered").decode()}}, NS)
    wait_for(lambda: decoded(env.get_secret("indep", NS) or {}) == {"k": b"2"}, timeout=10)
    env.emu.delete("v1", "Secret", "indep", NS)
    wait_for(lambda: env.get_secret("indep", NS), timeout=10, message="re-created")
    assert env.get_sealed("indep", NS)["status"]["conditions"][0]["status"] == "True"  # type: ignore[index]

    # Deleting the SealedSecret leaves the Secret: no garbage collection, no deletion by us.
    env.emu.delete(SEALED_API, "SealedSecret", "indep", NS)
    time.sleep(1.5)
    left = env.get_secret("indep", NS)
    assert left is not None and decoded(left) == {"k": b"2"}

    # A new SealedSecret of that name (another uid) is not the one the mark names: not managed,
    # so refused, as Bitnami refuses an ownerless Secret; annotated managed, it is adopted.
    second = _apply(
        env, seal(cert, secret("indep", NS, {"k": "3"}, metadata={"annotations": {SKIP_OWNER: "true"}}))
    )
    cond = env.wait_reason("indep", NS, "SecretNotOwned")
    assert "managed" in cond["message"]
    assert decoded(env.get_secret("indep", NS) or {}) == {"k": b"2"}
    env.emu.patch("v1", "Secret", "indep", {"metadata": {"annotations": {BITNAMI_MANAGED: "true"}}}, NS)
    env.wait_ready("indep", NS)
    taken = env.get_secret("indep", NS)
    assert taken is not None and decoded(taken) == {"k": b"3"}
    assert _annotations(taken) == {  # managed replaced away: the template does not have it
        SKIP_OWNER: "true",
        SEALED_OWNER: f"{SEALED_API}/{second['metadata']['uid']}",
    }
    assert not taken["metadata"].get("ownerReferences")


def test_dropping_skip_set_owner_references_restores_the_owner_reference(
    running: OperatorProcess, env: SealedEnv
) -> None:
    _, cert = vector_key(4096)
    skipping = seal(cert, secret("flip", NS, {"k": "1"}, metadata={"annotations": {SKIP_OWNER: "false"}}))
    obj = _apply(env, skipping)  # only "true" skips, as in Bitnami
    env.wait_ready("flip", NS)
    assert len(env.get_secret("flip", NS)["metadata"]["ownerReferences"]) == 1  # type: ignore[index]

    def template_annotations(value: str | None) -> None:
        patch = {"spec": {"template": {"metadata": {"annotations": {SKIP_OWNER: value}}}}}
        env.emu.patch(SEALED_API, "SealedSecret", "flip", patch, NS)

    template_annotations("true")
    wait_for(lambda: not (env.get_secret("flip", NS) or {})["metadata"].get("ownerReferences"), timeout=10)
    marked = env.get_secret("flip", NS) or {}
    assert marked["metadata"]["annotations"][SEALED_OWNER] == f"{SEALED_API}/{obj['metadata']['uid']}"
    template_annotations(None)
    wait_for(lambda: (env.get_secret("flip", NS) or {})["metadata"].get("ownerReferences"), timeout=10)
    owned = env.get_secret("flip", NS) or {}
    assert SEALED_OWNER not in (owned["metadata"].get("annotations") or {})
    # Owned again: deleting the SealedSecret now garbage-collects the Secret.
    env.emu.delete(SEALED_API, "SealedSecret", "flip", NS)
    wait_for(lambda: env.get_secret("flip", NS) is None, timeout=10, message="Secret collected")


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda o: o["metadata"].__setitem__("name", "renamed"), id="renamed"),
        pytest.param(lambda o: o["metadata"].__setitem__("namespace", "team-b"), id="moved"),
        pytest.param(
            lambda o: o["spec"]["encryptedData"].__setitem__(
                "k", o["spec"]["encryptedData"]["k"][:-8] + "AAAAAAA="
            ),
            id="corrupted",
        ),
        pytest.param(lambda o: o["spec"]["encryptedData"].__setitem__("k", "%%%not-base64"), id="bad-base64"),
    ],
)
def test_bad_sealed_secrets_fail_clearly_and_write_nothing(
    running: OperatorProcess, env: SealedEnv, mutate: Callable[[dict[str, Any]], None]
) -> None:
    env.emu.ensure_namespace("team-b")
    _, cert = vector_key(4096)
    # The canary is the value that opens (in "corrupted" and "bad-base64" only k fails): it is
    # decrypted while the object fails, so a message or log built from what was unsealed would carry it.
    obj = seal(cert, secret("victim", NS, {"k": "cannot-open", "ok": CANARY}))
    mutate(obj)
    _apply(env, obj)
    name, ns = obj["metadata"]["name"], obj["metadata"]["namespace"]
    cond = env.wait_reason(name, ns, "UnsealFailed")
    assert cond["status"] == "False"
    assert re.search(r"cannot unseal keys? (ok, )?k\b", cond["message"]), cond["message"]
    assert env.get_secret(name, ns) is None
    warnings = wait_for(lambda: [e for e in env.events(name, ns) if e["type"] == "Warning"])
    assert warnings[0]["reason"] == "UnsealFailed"
    _no_canary(running.logs(), json.dumps(env.emu.list("v1", "Event")), running.metrics())
    # ...and the operator keeps serving other objects.
    _apply(env, seal(cert, secret("bystander", NS, {"x": "y"})))
    env.wait_ready("bystander", NS)


def test_bad_update_never_overwrites_a_good_secret(running: OperatorProcess, env: SealedEnv) -> None:
    _, cert = vector_key(4096)
    _apply(env, seal(cert, secret("keep", NS, {"k": CANARY})))
    env.wait_ready("keep", NS)
    other = seal(cert, secret("other-name", NS, {"k": "new"}))  # strict: sealed for another name
    env.emu.patch(SEALED_API, "SealedSecret", "keep", {"spec": other["spec"]}, NS)
    env.wait_reason("keep", NS, "UnsealFailed")
    assert decoded(env.get_secret("keep", NS)) == {"k": CANARY.encode()}  # type: ignore[arg-type]


def test_immutable_secret_change_is_reported_not_retried(running: OperatorProcess, env: SealedEnv) -> None:
    _, cert = vector_key(4096)
    _apply(env, seal(cert, secret("frozen", NS, {"k": "1"}, immutable=True)))
    env.wait_ready("frozen", NS)
    assert env.get_secret("frozen", NS)["immutable"] is True  # type: ignore[index]
    updated = seal(cert, secret("frozen", NS, {"k": "2"}, immutable=True))
    env.emu.patch(SEALED_API, "SealedSecret", "frozen", {"spec": updated["spec"]}, NS)
    cond = env.wait_reason("frozen", NS, "ImmutableSecretChanged")
    assert "delete the Secret" in cond["message"]
    assert decoded(env.get_secret("frozen", NS)) == {"k": b"1"}  # type: ignore[arg-type]


def test_independent_bitnami_manifests_unseal_with_bitnami_keys(
    env: SealedEnv, operator_factory: Any
) -> None:
    key_pem, cert_pem = vector_key(4096)
    env.emu.create(key_secret("sealed-secrets-keyabcde", key_pem, cert_pem, label=BITNAMI_KEY_LABEL))
    proc: OperatorProcess = operator_factory(extra_args=["--bitnami-keys"])
    proc.wait_ready()
    docs = list(yaml.safe_load_all((VECTORS / "bitnami-sealedsecrets-4096.yaml").read_text()))
    pairs = [(docs[i], docs[i + 1]) for i in range(0, len(docs), 2)]
    assert len(pairs) == 3  # strict, namespace-wide, cluster-wide: all named team-a/db-creds
    for sealed_doc, expected in pairs:
        name, ns = sealed_doc["metadata"]["name"], sealed_doc["metadata"]["namespace"]
        migrated = {**sealed_doc, "apiVersion": SEALED_API}  # migration: only the apiVersion changes
        _apply(env, migrated)
        env.wait_ready(name, ns)
        assert env.get_secret(name, ns)["data"] == expected["data"]  # type: ignore[index]
        # Deleting the SealedSecret garbage-collects its Secret (ownerReference) before the next scope.
        env.emu.delete(SEALED_API, "SealedSecret", name, ns)
        wait_for(lambda: env.get_secret(name, ns) is None, message="Secret collected")  # noqa: B023
    # Without --bitnami-keys the same key would not be loaded: only ours count.
    assert len(env.emu.list("v1", "Secret", OPERATOR_NS)) == 1


# ---------------------------------------------------------------------------- HTTP API


def test_verify_and_rotate_endpoints(running: OperatorProcess, env: SealedEnv) -> None:
    import urllib.request

    _, cert = vector_key(4096)
    good = seal(cert, secret("v", NS, {"k": CANARY}))

    def post(path: str, body: dict[str, Any]) -> tuple[int, str]:
        req = urllib.request.Request(running.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})  # fmt: skip
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    assert post("/v1/verify", good)[0] == 200
    moved = json.loads(json.dumps(good))
    moved["metadata"]["name"] = "elsewhere"
    code, text = post("/v1/verify", moved)
    assert code == 409 and "cannot unseal" in text

    # Rotate with a new newest key: values re-sealed for the newest key, same (own-metadata) scope.
    key_pem, cert_pem = fresh_key(2048)
    env.emu.create(key_secret("newer", key_pem, cert_pem))
    wait_for(lambda: running.get("/v1/cert.pem")[1].encode().strip() == cert_pem.strip(), timeout=10)
    code, text = post("/v1/rotate", good)
    assert code == 200, text
    rotated = json.loads(text)
    new_value = rotated["spec"]["encryptedData"]["k"]
    assert crypto.split_sealed(new_value)[0].__len__() == 256  # sealed with the 2048-bit newest key
    new_key = crypto.load_private_keys(key_pem)[0]
    assert crypto.decrypt(new_key, f"{NS}/v".encode(), new_value) == CANARY.encode()

    # CVE-2026-22728: a template claiming cluster-wide must not widen the scope on rotate.
    tricked = json.loads(json.dumps(good))
    tricked["spec"].setdefault("template", {})["metadata"] = {
        "annotations": {"sealedsecrets.bitnami.com/cluster-wide": "true"}
    }
    code, text = post("/v1/rotate", tricked)
    assert code == 200
    value = json.loads(text)["spec"]["encryptedData"]["k"]
    assert crypto.decrypt(new_key, f"{NS}/v".encode(), value) == CANARY.encode()
    with pytest.raises(Exception, match="does not open"):
        crypto.decrypt(new_key, b"", value)

    assert post("/v1/rotate", moved)[0] == 409
    assert post("/v1/rotate", {"kind": "ConfigMap"})[0] == 400
    _no_canary(running.logs(), running.metrics())
