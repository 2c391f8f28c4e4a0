"""Sharding (secretsync.sharding): the label selector, what it decides (Lease, keys, stores), and two
real operator processes on the API emulator that split the objects between them.

The selector's syntax and meaning are checked against the real kube-apiserver in
tests/cluster/test_sharding_real.py, which also runs three shards and a failover there.
"""

from __future__ import annotations

import hashlib
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import kopf
import pytest
from click.testing import CliRunner

from secretsync import cli, config, keys, kube, logs, operator, sharding
from secretsync.errors import UsageError
from secretsync.external import ESO, ExternalController
from secretsync.leader import LEASE_NAME
from secretsync.metrics import Metrics
from secretsync.scheduler import Scheduler
from tests.support.external_env import API, ExternalEnv, external_secret
from tests.support.kube_emulator import KubeEmulator, wait_for
from tests.support.operator_proc import OperatorProcess
from tests.support.sealed_env import OPERATOR_NS, SealedEnv, seal, secret

KEY = sharding.SHARD_LABEL
MAIN = sharding.MAIN_SELECTOR
SHARD1 = f"{KEY}=shard1"


# --------------------------------------------------------------------------- the selector


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("", []),
        ("   ", []),
        (f"!{KEY}", [(KEY, "!", set())]),
        (f"! {KEY}", [(KEY, "!", set())]),
        (f"{KEY}=shard1", [(KEY, "=", {"shard1"})]),
        (f"{KEY} == shard1", [(KEY, "=", {"shard1"})]),
        (f"{KEY}!=shard1", [(KEY, "!=", {"shard1"})]),
        (f"{KEY}=", [(KEY, "=", {""})]),
        (f"{KEY} in (a, b)", [(KEY, "in", {"a", "b"})]),
        (f"{KEY} notin (a,b,)", [(KEY, "notin", {"a", "b", ""})]),
        (f"{KEY} in(a)", [(KEY, "in", {"a"})]),
        (f"{KEY} in ()", [(KEY, "in", {""})]),  # the API server reads "()" as the empty value
        (f"{KEY} in (,a)", [(KEY, "in", {"", "a"})]),
        ("in in (in)", [("in", "in", {"in"})]),
        ("team", [("team", "exists", set())]),
        (
            "a=1,!b, c in (x), team",
            [("a", "=", {"1"}), ("b", "!", set()), ("c", "in", {"x"}), ("team", "exists", set())],
        ),
        ("example.com/My_key.1=Va-l.u_e", [("example.com/My_key.1", "=", {"Va-l.u_e"})]),
    ],
)
def test_parses_kubernetes_label_selectors(text: str, terms: list[tuple[str, str, set[str]]]) -> None:
    parsed = sharding.Selector.parse(text)
    assert [(r.key, r.operator, set(r.values)) for r in parsed.requirements] == terms
    assert parsed.text == text.strip()
    assert parsed.sharded == bool(terms)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("a>1", "'>' is not supported"),  # labels.Parse takes it; ParseToLabelSelector (Flux) does not
        ("a < 1", "'<' is not supported"),
        (f"!{KEY}=x", "expected ',' or the end"),
        ("a in (b", "missing ')'"),
        ("a in b", "expected '('"),
        ("a in (b c)", "expected ',' or ')'"),
        ("a b", "expected an operator"),
        ("=b", "expected a label key"),
        ("a,,b", "expected a label key"),
        (",", "expected a label key"),
        ("a,", "expected a label key"),
        ("!", "expected a label key after '!'"),
        ("a=b c", "expected ',' or the end"),
        ("a=(b)", "expected a value"),
        ("-a=b", "invalid label key"),
        ("Example.com/a=b", "prefix must be a DNS subdomain"),
        ("/a", "prefix must be a DNS subdomain"),
        ("example.com/=b", "invalid label key"),
        (f"{'k' * 64}=v", "invalid label key"),
        (f"k={'v' * 64}", "invalid label value"),
        ("k=-v", "invalid label value"),
        ("k=v)", "expected ',' or the end"),
    ],
)
def test_refuses_what_is_not_a_label_selector(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)) as caught:
        sharding.Selector.parse(text)
    assert str(caught.value).startswith(f"{text.strip()!r} is not a label selector: ")


@pytest.mark.parametrize(
    ("text", "labels", "matches"),
    [
        ("", {}, True),
        ("", {KEY: "shard1"}, True),
        (MAIN, {}, True),
        (MAIN, {"app": "web"}, True),
        (MAIN, {KEY: "shard1"}, False),
        (MAIN, {KEY: ""}, False),  # present, if empty
        (SHARD1, {KEY: "shard1"}, True),
        (SHARD1, {KEY: "shard2"}, False),
        (SHARD1, {}, False),
        (f"{KEY}!=shard1", {}, True),
        (f"{KEY}!=shard1", {KEY: "shard1"}, False),
        (f"{KEY}!=shard1", {KEY: "shard2"}, True),
        (f"{KEY} in (a,b)", {KEY: "b"}, True),
        (f"{KEY} in (a,b)", {}, False),
        (f"{KEY} notin (a,b)", {}, True),
        (f"{KEY} notin (a,b)", {KEY: "a"}, False),
        (f"{KEY} notin (a,b)", {KEY: "c"}, True),
        (KEY, {KEY: ""}, True),
        (f"{KEY}=", {KEY: ""}, True),
        (f"{KEY}=", {}, False),
        (f"{KEY}=shard1,app=web", {KEY: "shard1"}, False),  # every term must hold
        (f"{KEY}=shard1,app=web", {KEY: "shard1", "app": "web"}, True),
    ],
)
def test_matches_as_the_api_server_selects(text: str, labels: dict[str, str], matches: bool) -> None:
    selector = sharding.Selector.parse(text)
    assert selector.matches(labels) is matches
    assert selector.selects({"metadata": {"labels": labels}}) is matches
    assert selector.takes_unlabelled is selector.matches({})


def test_selects_tolerates_objects_without_labels() -> None:
    for body in ({}, {"metadata": None}, {"metadata": {"labels": None}}, {"metadata": {"labels": "x"}}):
        assert sharding.Selector.parse(MAIN).selects(body)
        assert not sharding.Selector.parse(SHARD1).selects(body)


def test_lease_names_follow_flux() -> None:
    """Flux's GenerateID: the name alone without a selector, else name-<sha256(selector)[:8]>."""
    assert sharding.Selector.parse("").lease_name(LEASE_NAME) == "secretsync-operator"
    for text in (MAIN, SHARD1, f"{KEY}=shard2"):
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        selector = sharding.Selector.parse(f" {text} ")  # surrounding spaces do not count
        assert selector.shard_id == digest
        assert selector.lease_name(LEASE_NAME) == f"secretsync-operator-{digest}"
    names = {sharding.Selector.parse(t).lease_name(LEASE_NAME) for t in ("", MAIN, SHARD1, f"{KEY}=shard2")}
    assert len(names) == 4


# --------------------------------------------------------------------------- settings and flags


def test_settings_check_the_selector_and_decide_who_manages_keys() -> None:
    with pytest.raises(UsageError, match="--watch-label-selector: 'a>1' is not a label selector"):
        config.Settings(watch_label_selector="a>1")
    assert config.Settings().manages_keys
    assert config.Settings(watch_label_selector=MAIN).manages_keys
    assert config.Settings(watch_label_selector=f"{KEY} notin (shard1,shard2)").manages_keys
    assert not config.Settings(watch_label_selector=SHARD1).manages_keys
    assert not config.Settings(watch_label_selector=f"{KEY} in (a,b)").manages_keys
    assert config.Settings(watch_label_selector=SHARD1, manage_keys=True).manages_keys
    assert not config.Settings(watch_label_selector=MAIN, manage_keys=False).manages_keys
    assert config.Settings(watch_label_selector=SHARD1).shard == sharding.Selector.parse(SHARD1)


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[config.Settings]:
    seen: list[config.Settings] = []

    async def fake_run(settings: config.Settings, **_: Any) -> None:
        seen.append(settings)

    monkeypatch.setattr(operator, "run", fake_run)
    monkeypatch.setattr(logs, "configure", lambda *a, **k: None)
    for name in ("SECRETSYNC_WATCH_LABEL_SELECTOR", "SECRETSYNC_MANAGE_KEYS"):
        monkeypatch.delenv(name, raising=False)
    return seen


def test_flags_and_environment(captured: list[config.Settings]) -> None:
    runner = CliRunner()
    assert runner.invoke(cli.main, ["operator"]).exit_code == 0
    assert runner.invoke(cli.main, ["operator", f"--watch-label-selector={SHARD1}"]).exit_code == 0
    env = {"SECRETSYNC_WATCH_LABEL_SELECTOR": MAIN, "SECRETSYNC_MANAGE_KEYS": "false"}
    assert runner.invoke(cli.main, ["operator"], env=env).exit_code == 0
    args = ["operator", "--watch-label-selector", SHARD1, "--manage-keys"]
    assert runner.invoke(cli.main, args).exit_code == 0
    assert [(s.watch_label_selector, s.manage_keys, s.manages_keys) for s in captured] == [
        ("", None, True),
        (SHARD1, None, False),
        (MAIN, False, False),
        (SHARD1, True, True),
    ]
    bad = runner.invoke(cli.main, ["operator", "--watch-label-selector", "team in (a"])
    assert bad.exit_code == 2
    assert bad.output.strip() == (
        "error: --watch-label-selector: 'team in (a' is not a label selector: missing ')' after team in ("
    )
    assert "--watch-label-selector" in runner.invoke(cli.main, ["operator", "--help"]).output


# --------------------------------------------------------------------------- what kopf is told


def _selectors(settings: kopf.OperatorSettings, group: str, version: str, plural: str) -> list[str]:
    return list(settings.watching.label_selectors.collect(kopf.Resource(group, version, plural)))


def test_kopf_sends_the_shard_selector_for_the_reconciled_kinds_only() -> None:
    sharded = operator.kopf_settings(True, SHARD1)
    for group, version in (("secretsync.io", "v1alpha1"), ("bitnami.com", "v1alpha1")):
        assert _selectors(sharded, group, version, "sealedsecrets") == [SHARD1]
    for group, version in (("secretsync.io", "v1alpha1"), ("external-secrets.io", "v1")):
        assert _selectors(sharded, group, version, "externalsecrets") == [SHARD1]
        # Every instance watches every store (its ExternalSecrets may use any of them).
        assert _selectors(sharded, group, version, "secretstores") == []
        assert _selectors(sharded, group, version, "clustersecretstores") == []
    # Produced Secrets: the operator's own label only, in every instance.
    assert _selectors(sharded, "", "v1", "secrets") == ["secretsync.io/managed-secret=true"]
    unsharded = operator.kopf_settings(True)
    assert _selectors(unsharded, "secretsync.io", "v1alpha1", "sealedsecrets") == []
    assert _selectors(unsharded, "", "v1", "secrets") == ["secretsync.io/managed-secret=true"]


def test_a_selector_already_there_is_kept() -> None:
    settings = operator.kopf_settings(True)
    key = ("secretsync.io", "sealedsecrets")
    operator._add_label_selector(settings, key, "team=a")
    operator._add_label_selector(settings, key, SHARD1)
    assert _selectors(settings, "secretsync.io", "v1alpha1", "sealedsecrets") == [f"team=a,{SHARD1}"]


def _runtime(selector: str) -> operator.Runtime:
    stub: Any = object()
    settings = config.Settings(watch_label_selector=selector)
    return operator.Runtime(settings, stub, stub, stub, stub, stub, stub, stub)


def test_an_unsharded_instance_says_once_that_it_reconciles_shard_labelled_objects(
    caplog: pytest.LogCaptureFixture,
) -> None:
    labelled = {"metadata": {"name": "a", "namespace": "apps", "labels": {KEY: "shard1"}}}
    unsharded = _runtime("")
    unsharded.note_shard_label({"metadata": {"name": "plain", "namespace": "apps"}})
    assert not caplog.records
    unsharded.note_shard_label(labelled)
    unsharded.note_shard_label(labelled)
    (record,) = caplog.records
    assert f"--watch-label-selector='{MAIN}'" in record.getMessage() and "apps/a" in record.getMessage()
    caplog.clear()
    for selector in (MAIN, SHARD1):
        _runtime(selector).note_shard_label(labelled)
    assert not caplog.records


# --------------------------------------------------------------------------- sealing keys


async def test_a_read_only_key_ring_never_adds_a_key() -> None:
    manager = keys.KeyManager(object(), OPERATOR_NS, read_only=True)  # type: ignore[arg-type]
    assert len(manager.ring) == 0
    assert not manager.needs_key(at_start=True)
    assert manager.renewal_due_in() is None  # no renewal timer either
    with pytest.raises(RuntimeError, match="reads the key ring only"):
        await manager.generate()
    managing = keys.KeyManager(object(), OPERATOR_NS)  # type: ignore[arg-type]
    assert managing.needs_key() and managing.renewal_due_in() == 0.0


# --------------------------------------------------------------------------- stores of other shards


class RecordingApi:
    """Records status writes and events; a store of another shard must cause neither."""

    def __init__(self) -> None:
        self.writes: list[str] = []

    async def write_status(self, path: str, uid: str, new_status: dict[str, Any]) -> dict[str, Any]:
        self.writes.append(path)
        return {}

    async def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        self.writes.append(path)
        return {}

    async def get(self, path: str) -> None:
        raise AssertionError(f"unexpected GET {path}")


def _store(labels: dict[str, str], generation: int = 1, ready: str | None = None, observed: int = 1) -> Any:
    body: dict[str, Any] = {
        "apiVersion": API,
        "kind": "SecretStore",
        "metadata": {
            "name": "vault",
            "namespace": "apps",
            "uid": "u1",
            "generation": generation,
            "labels": labels,
        },
        "spec": {"provider": {"fake": {"data": [{"key": "a", "value": "1"}]}}, "refreshInterval": 60},
    }
    if ready is not None:
        body["status"] = {
            "observedGeneration": observed,
            "conditions": [{"type": "Ready", "status": ready, "reason": "Valid", "message": "m"}],
        }
    return body


def _shard1_controller(
    api: RecordingApi, executor: ThreadPoolExecutor, **kwargs: Any
) -> tuple[ExternalController, list[tuple[str, str, str]]]:
    """Shard 1's ExternalSecret controller, and the ExternalSecrets it wakes (recorded, not synced)."""
    controller = ExternalController(
        api,  # type: ignore[arg-type]
        Metrics(),
        executor,
        scheduler=Scheduler(),
        owns_store=sharding.Selector.parse(SHARD1).selects,
        **kwargs,
    )
    woken: list[tuple[str, str, str]] = []

    async def sync_soon(namespace: str, name: str, *, trigger: str) -> None:
        woken.append((namespace, name, trigger))

    controller.sync_soon = sync_soon  # type: ignore[method-assign]
    return controller, woken


async def test_a_store_of_another_shard_is_followed_not_written() -> None:
    api = RecordingApi()
    with ThreadPoolExecutor(1) as executor:
        controller, woken = _shard1_controller(api, executor)
        key = ("SecretStore", "apps", "vault")
        controller._users[key] = {("apps", "waiting"), ("apps", "synced")}
        controller._waiting.add(("apps", "waiting"))

        async def event(body: Any, kind: str = "MODIFIED") -> list[tuple[str, str, str]]:
            woken.clear()
            await controller.on_store_event(kind, "SecretStore", body)
            return sorted(woken)

        unlabelled: dict[str, str] = {}
        assert await event(_store(unlabelled)) == []  # its owner has not validated it yet
        assert await event(_store(unlabelled, ready="True")) == [("apps", "waiting", "store")]
        assert await event(_store({"app": "x"}, ready="True")) == []  # nothing that matters
        assert await event(_store(unlabelled, generation=2, ready="True", observed=1)) == []  # not yet
        changed = await event(_store(unlabelled, generation=2, ready="True", observed=2))
        assert changed == [("apps", "synced", "store"), ("apps", "waiting", "store")]  # a changed store
        assert await event(_store(unlabelled, generation=2, ready="False", observed=2)) == [
            ("apps", "waiting", "store")
        ]
        assert api.writes == []  # never validated or written here
        assert controller._store_state == {}

        # Its own shard's store: validated and written here, and checked again every refreshInterval.
        await event(_store({KEY: "shard1"}, generation=3))
        assert api.writes and all(w.endswith("/status") or "/events" in w for w in api.writes)
        assert controller._store_state[key][:2] == ("u1", 3)
        assert controller.scheduler.depth() == 1
        # Moved to another shard: no recheck of ours writes it any more.
        api.writes.clear()
        await event(_store(unlabelled, generation=3, ready="True", observed=3))
        assert controller._store_state == {} and controller.scheduler.depth() == 0
        assert api.writes == []
        await controller.close()
        await controller.scheduler.close()


async def test_an_eso_store_of_another_shard_counts_as_ready_without_observed_generation() -> None:
    """ESO's CRD prunes status.observedGeneration: a peer's Ready store still wakes, as in ESO."""
    api = RecordingApi()
    with ThreadPoolExecutor(1) as executor:
        controller, woken = _shard1_controller(api, executor, flavor=ESO)
        controller._users[("SecretStore", "apps", "vault")] = {("apps", "waiting")}
        controller._waiting.add(("apps", "waiting"))
        body = _store({}, ready="True")
        body["apiVersion"] = ESO.group_version
        del body["status"]["observedGeneration"]  # as the API server stores it for ESO's kinds
        await controller.on_store_event("MODIFIED", "SecretStore", body)
        assert woken == [("apps", "waiting", "store")]
        assert api.writes == []
        await controller.close()
        await controller.scheduler.close()


# --------------------------------------------------------------------------- two instances, end to end

NS = "apps"


def _agent(selector: str) -> str:
    return f"{kube.USER_AGENT} (shard={sharding.Selector.parse(selector).shard_id})"


def _requests(emu: KubeEmulator) -> list[tuple[str, str, dict[str, str], str]]:
    """(method, path, query, User-Agent) of every request the operators made."""
    return emu.call(
        lambda: [
            (str(r.method.value), r.url.path, dict(r.params), str(r.headers.get("User-Agent", "")))
            for r in emu.layer._requests
        ]
    )


def _labelled(body: dict[str, Any], shard: str | None) -> dict[str, Any]:
    if shard:
        body["metadata"].setdefault("labels", {})[KEY] = shard
    return body


def _fake_store(name: str, shard: str | None) -> dict[str, Any]:
    store = {
        "apiVersion": API,
        "kind": "SecretStore",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"provider": {"fake": {"data": [{"key": "k", "value": name}]}}},
    }
    return _labelled(store, shard)


def test_each_instance_reconciles_its_shard_only(kube_emulator: KubeEmulator, operator_factory: Any) -> None:
    emu = kube_emulator
    for ns in (OPERATOR_NS, NS):
        emu.ensure_namespace(ns)
    # No key yet: the main instance makes the one key; the shard only reads it, through its watch.
    main: OperatorProcess = operator_factory(extra_args=["--watch-label-selector", MAIN])
    shard1: OperatorProcess = operator_factory(extra_args=[f"--watch-label-selector={SHARD1}"])
    main.wait_ready()
    shard1.wait_ready()
    status, cert = wait_for(lambda: (lambda got: got if got[0] == 200 else None)(main.get("/v1/cert.pem")))
    wait_for(lambda: shard1.get("/v1/cert.pem") == (status, cert), message="the shard to load the key")
    assert len(emu.list("v1", "Secret", OPERATOR_NS)) == 1

    sealed_env, external_env = SealedEnv(emu), ExternalEnv(emu)
    for name, shard in (("main", None), ("one", "shard1"), ("two", "shard2")):
        emu.create(_labelled(seal(cert.encode(), secret(f"{name}-sealed", NS, {"k": name})), shard))
    emu.create(_fake_store("main-store", None))
    emu.create(_fake_store("one-store", "shard1"))
    data = [{"secretKey": "k", "remoteRef": {"key": "k"}}]
    # ExternalSecrets use stores of the other shard: any instance reads any store.
    for name, shard, store in (
        ("main", None, "one-store"),
        ("one", "shard1", "main-store"),
        ("two", "shard2", "main-store"),
    ):
        emu.create(_labelled(external_secret(f"{name}-external", NS, store, data=data), shard))

    for name in ("main", "one"):
        sealed_env.wait_ready(f"{name}-sealed", NS)
        external_env.wait_synced(f"{name}-external", NS)
    assert external_env.values("main-external", NS) == {"k": b"one-store"}
    assert external_env.values("one-external", NS) == {"k": b"main-store"}
    for store in ("main-store", "one-store"):
        assert (external_env.get("SecretStore", store, NS) or {}).get("status"), store
    time.sleep(1.0)  # whatever else either instance would do, it would have done by now
    # shard2 has no instance: nobody touched its objects.
    for kind, name in (("SealedSecret", "two-sealed"), ("ExternalSecret", "two-external")):
        assert "status" not in (emu.get(API, kind, name, NS) or {}), name
    assert sealed_env.get_secret("two-sealed", NS) is None and external_env.secret("two-external", NS) is None

    agents = {_agent(MAIN): "main", _agent(SHARD1): "one"}
    requests = _requests(emu)
    assert {agent for *_, agent in requests} == set(agents), "every request names its instance"
    for method, path, query, agent in requests:
        mine = agents[agent]
        # kopf lists and watches the reconciled kinds with the instance's selector, the rest without.
        if method == "GET" and re.search(r"/(sealedsecrets|externalsecrets)$", path):
            assert query.get("labelSelector") == (MAIN if mine == "main" else SHARD1), (agent, path, query)
        if method == "GET" and re.search(r"/(secretstores|clustersecretstores)$", path):
            assert "labelSelector" not in query, (agent, path, query)
        name = path.rsplit("/", 2)[-2] if path.endswith("/status") else path.rsplit("/", 1)[-1]
        if name.startswith("two-"):
            raise AssertionError(f"{agent} touched {path}")
        if re.fullmatch(r"(main|one)-(sealed|external)", name):
            # Objects and their Secrets: read and written by their own instance only. No instance
            # reads another's Secrets when their events arrive (every instance sees them).
            assert name.startswith(f"{mine}-"), (method, path, agent)
        if path.endswith("/status") and "secretstores" in path:
            assert name.startswith(f"{mine}-"), (method, path, agent)  # a store's status: its shard's
        if method in ("POST", "PUT", "PATCH", "DELETE") and "/secrets" in path and OPERATOR_NS in path:
            assert mine == "main", (method, path, agent)  # the shard never adds a key

    # Relabelled into shard1: shard1 takes it over from nobody.
    emu.patch(API, "SealedSecret", "two-sealed", {"metadata": {"labels": {KEY: "shard1"}}}, NS)
    sealed_env.wait_ready("two-sealed", NS)
    written = [a for m, p, _, a in _requests(emu) if m in ("POST", "PATCH", "PUT") and "two-sealed" in p]
    assert written and set(written) == {_agent(SHARD1)}
    # And out of it again, to the main instance: the shard forgets it and stays away from it.
    emu.patch(API, "SealedSecret", "one-sealed", {"metadata": {"labels": {KEY: None}}}, NS)
    before = len(_requests(emu))
    emu.delete("v1", "Secret", "one-sealed", NS)
    wait_for(
        lambda: sealed_env.get_secret("one-sealed", NS), timeout=10, message="the main instance heals it"
    )
    after = [(m, p, a) for m, p, _, a in _requests(emu)[before:] if "one-sealed" in p]
    assert after and {a for *_, a in after} == {_agent(MAIN)}, after
    for proc in (main, shard1):
        assert "Traceback" not in proc.logs()
    assert "sealing-keys=read only" in shard1.logs() and "sealing-keys=managed here" in main.logs()
