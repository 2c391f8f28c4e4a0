"""Who owns which target Secret, and which store each ExternalSecret uses: kept in both directions, so
a reconcile (``_register``) and a deletion (``_forget``) cost the same with 10 or 10,000 objects.

The behaviour is the one of the former scans, which :class:`Scan` keeps as the reference: the last
ExternalSecret registered for a Secret is the one its drift events go to; a retargeted ExternalSecret
lets go of its previous Secret, unless another one has registered that Secret since; a deleted one
lets go of its Secret (same rule) and of its store.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from secretsync import model
from secretsync.external import ExternalController
from secretsync.external.gateway import StoreKey
from secretsync.metrics import Metrics
from secretsync.scheduler import Scheduler
from tests.support.external_env import external_secret

Key = tuple[str, str]


class Scan:
    """The former implementation (a scan of every target and every store per call), as the reference."""

    def __init__(self) -> None:
        self.targets: dict[Key, Key] = {}
        self.users: dict[StoreKey, set[Key]] = {}

    def register(self, ns: str, name: str, target: str, store: StoreKey) -> None:
        for key, owner in list(self.targets.items()):
            if owner == (ns, name) and key != (ns, target):
                del self.targets[key]
        self.targets[(ns, target)] = (ns, name)
        for users in self.users.values():
            users.discard((ns, name))
        self.users.setdefault(store, set()).add((ns, name))

    def forget(self, ns: str, name: str) -> None:
        for key, owner in list(self.targets.items()):
            if owner == (ns, name):
                del self.targets[key]
        for users in self.users.values():
            users.discard((ns, name))


class NoScan(dict[Any, Any]):
    """A map that refuses to be walked: only look-ups by key are allowed."""

    def _refuse(self, *_: Any) -> Any:
        raise AssertionError("walked every entry: O(N) per call")

    __iter__ = items = keys = values = _refuse  # type: ignore[assignment]


@pytest.fixture
def controller() -> Iterator[ExternalController]:
    with ThreadPoolExecutor(1) as executor:
        es = ExternalController(object(), Metrics(), executor, scheduler=Scheduler())  # type: ignore[arg-type]
        woken: list[tuple[str, str, str]] = []

        async def sync_soon(namespace: str, name: str, *, trigger: str) -> None:
            woken.append((namespace, name, trigger))

        es.sync_soon = sync_soon  # type: ignore[method-assign]
        es.woken = woken  # type: ignore[attr-defined]
        yield es


def _body(ns: str, name: str, target: str, store: str = "vault", kind: str = "SecretStore") -> dict[str, Any]:
    body = external_secret(
        name,
        ns,
        store,
        secretStoreRef={"name": store, "kind": kind},
        target={"name": target},
        data=[{"secretKey": "k", "remoteRef": {"key": "k"}}],
    )
    body["metadata"]["uid"] = f"uid-{ns}-{name}"
    return body


def _register(es: ExternalController, ns: str, name: str, target: str, store: str = "vault") -> None:
    body = _body(ns, name, target, store)
    es._register(body, model.parse_external_secret(body))


def _forget(es: ExternalController, ns: str, name: str) -> None:
    es._forget(f"uid-{ns}-{name}", ns, name)


def _users(es: ExternalController) -> dict[StoreKey, set[Key]]:
    return {k: v for k, v in es._users.items() if v}


async def _drift(es: ExternalController, ns: str, secret: str) -> list[tuple[str, str, str]]:
    woken: list[tuple[str, str, str]] = es.woken  # type: ignore[attr-defined]
    woken.clear()
    await es.on_secret_event("DELETED", {"metadata": {"namespace": ns, "name": secret}})
    return list(woken)


async def test_two_external_secrets_on_one_secret_rename_and_deletion(controller: ExternalController) -> None:
    es = controller
    _register(es, "a", "one", "shared")
    _register(es, "a", "two", "shared")  # a conflict: the writer refuses one; the last registered has it
    assert es._targets == {("a", "shared"): ("a", "two")}
    assert await _drift(es, "a", "shared") == [("a", "two", "drift")]
    _register(es, "a", "one", "shared")  # synced again (a retry): it has it again
    assert await _drift(es, "a", "shared") == [("a", "one", "drift")]

    _register(es, "a", "one", "own")  # retargeted: lets go of "shared", which nobody has now
    assert es._targets == {("a", "own"): ("a", "one")}
    assert await _drift(es, "a", "shared") == []
    _register(es, "a", "two", "shared")
    _register(es, "a", "one", "renamed")  # retargeted again: "shared" stays two's
    assert es._targets == {("a", "shared"): ("a", "two"), ("a", "renamed"): ("a", "one")}

    _register(es, "a", "one", "shared")  # onto two's Secret again (a conflict) ...
    _register(es, "a", "two", "elsewhere")  # ... and two moves away: "shared" is one's already
    assert es._targets == {("a", "shared"): ("a", "one"), ("a", "elsewhere"): ("a", "two")}

    _register(es, "b", "one", "shared")  # the same names in another namespace: another Secret
    assert await _drift(es, "b", "shared") == [("b", "one", "drift")]
    assert await _drift(es, "a", "shared") == [("a", "one", "drift")]

    _register(es, "a", "two", "shared")
    _forget(es, "a", "one")  # deleted after two took its Secret: "shared" stays two's
    assert es._targets == {("a", "shared"): ("a", "two"), ("b", "shared"): ("b", "one")}
    _forget(es, "a", "two")
    assert es._targets == {("b", "shared"): ("b", "one")}
    assert await _drift(es, "a", "shared") == []
    _forget(es, "a", "two")  # a second DELETED event: nothing left to drop
    _forget(es, "c", "never-seen")
    assert es._targets == {("b", "shared"): ("b", "one")}
    assert _users(es) == {("SecretStore", "b", "vault"): {("b", "one")}}
    assert es._target_of == {("b", "one"): ("b", "shared")}
    assert es._store_of == {("b", "one"): ("SecretStore", "b", "vault")}


async def test_store_users_follow_a_store_change_and_a_deletion(controller: ExternalController) -> None:
    es = controller
    _register(es, "a", "one", "s1", store="vault")
    _register(es, "a", "two", "s2", store="vault")
    _register(es, "a", "one", "s1", store="aws")  # moved to another store
    assert _users(es) == {
        ("SecretStore", "a", "vault"): {("a", "two")},
        ("SecretStore", "a", "aws"): {("a", "one")},
    }
    _forget(es, "a", "two")
    assert _users(es) == {("SecretStore", "a", "aws"): {("a", "one")}}
    assert es._users == {("SecretStore", "a", "aws"): {("a", "one")}}  # no empty set left behind


def test_random_sequences_match_the_former_scans(controller: ExternalController) -> None:
    es, ref = controller, Scan()
    rng = random.Random(20260511)
    names = [("a", "e1"), ("a", "e2"), ("a", "e3"), ("b", "e1"), ("b", "e4")]
    for _ in range(3000):
        ns, name = rng.choice(names)
        if rng.random() < 0.25:
            _forget(es, ns, name)
            ref.forget(ns, name)
        else:
            target, store = rng.choice(["s1", "s2", "s3"]), rng.choice(["vault", "aws"])
            _register(es, ns, name, target, store)
            ref.register(ns, name, target, ("SecretStore", ns, store))
        assert es._targets == ref.targets
        assert _users(es) == {k: v for k, v in ref.users.items() if v}


def test_register_and_forget_never_walk_every_target(controller: ExternalController) -> None:
    es = controller
    for i in range(50):
        _register(es, "a", f"e{i}", f"s{i}")
    es._targets = NoScan(es._targets)
    es._users = NoScan(es._users)
    _register(es, "a", "e1", "s1")  # a reconcile of an unchanged object
    _register(es, "a", "e2", "moved", store="aws")  # retargeted, another store
    _register(es, "a", "new", "s3")  # a conflict with e3
    _forget(es, "a", "e4")
    _forget(es, "a", "new")
    assert es._targets.get(("a", "moved")) == ("a", "e2") and ("a", "s2") not in es._targets
    assert ("a", "s3") not in es._targets  # "new" had it last, and is gone (as before)
    assert ("a", "s4") not in es._targets and es._targets.get(("a", "s1")) == ("a", "e1")
