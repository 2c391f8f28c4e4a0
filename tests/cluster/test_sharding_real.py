"""Sharding on the real server: deploy/overlays/sharded applies; three instances (the main one and two
shards, each with --leader-elect on a Lease of its own) reconcile every object exactly once, as the
audit log (one User-Agent per shard) and each instance's metrics show; a shard fails over to its
standby without the other shards noticing. And the label selector means what the API server
means by it."""

from __future__ import annotations

import re
import signal
import urllib.parse
from typing import Any

import pytest

from secretsync import kube, sharding
from secretsync.leader import LEASE_NAME
from tests.cluster.conftest import OPERATOR_NS, ROOT, SA, OperatorStarter, wait_for
from tests.support.external_env import API, external_secret
from tests.support.operator_proc import OperatorProcess
from tests.support.real_cluster import ControlPlane
from tests.support.sealed_env import ready, seal, secret

KEY = sharding.SHARD_LABEL
SELECTORS = {"main": sharding.MAIN_SELECTOR, "one": f"{KEY}=shard1", "two": f"{KEY}=shard2"}
SHARD_OF = {"main": None, "one": "shard1", "two": "shard2", "three": "shard3"}  # shard3: no instance
LEASES = "/apis/coordination.k8s.io/v1/namespaces/secretsync-system/leases"
USER = f"system:serviceaccount:{OPERATOR_NS}:{SA}"
SHARDED_PLURALS = ("sealedsecrets", "externalsecrets")


# --------------------------------------------------------------------------- the selector itself

LABEL_SETS = {
    "none": {},
    "other": {"app": "web"},
    "empty": {KEY: ""},
    "s1": {KEY: "shard1"},
    "s2": {KEY: "shard2", "app": "web"},
    "s3": {KEY: "shard3", "team": "a"},
}
SELECTOR_CASES = (
    "",
    sharding.MAIN_SELECTOR,
    f"! {KEY}",
    KEY,
    f"{KEY}=shard1",
    f"{KEY}==shard1",
    f"{KEY}!=shard1",
    f"{KEY}=",
    f"{KEY} in (shard1, shard2)",
    f"{KEY} notin (shard1,shard2)",
    f"{KEY} in (shard1,)",
    f"{KEY} in ()",  # the empty value, to the API server
    f"{KEY} notin ( )",
    f"{KEY}= shard1",
    f"{KEY}=shard2,app=web",
    f"app,{KEY}!=shard2",
    f"!{KEY},!app",
)
INVALID = (
    "a,",
    ",a",
    "a in (b c)",
    "a in (b",
    "a b",
    "=b",
    "a,,b",
    "!",
    "a=b c",
    "-a=b",
    "Example.com/a",
    "k=-v",
    f"!{KEY}=x",
)


def test_the_selector_means_what_the_api_server_means(cluster: ControlPlane, namespace: str) -> None:
    for name, labels in LABEL_SETS.items():
        cluster.apply(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": namespace, "labels": labels},
            }
        )
    collection = f"/api/v1/namespaces/{namespace}/configmaps"
    for text in SELECTOR_CASES:
        status, body = cluster.request("GET", f"{collection}?labelSelector={urllib.parse.quote(text)}")
        assert status == 200, (text, body)
        served = {item["metadata"]["name"] for item in body["items"]} - {"kube-root-ca.crt"}
        selector = sharding.Selector.parse(text)
        ours = {name for name, labels in LABEL_SETS.items() if selector.matches(labels)}
        assert ours == served, text
    for text in INVALID:
        status, _ = cluster.request("GET", f"{collection}?labelSelector={urllib.parse.quote(text)}")
        assert status == 400, text
        with pytest.raises(ValueError, match="is not a label selector"):
            sharding.Selector.parse(text)
    # The one deliberate difference: Flux parses with metav1.ParseToLabelSelector, which has no
    # numeric comparisons; the API server's labels.Parse does.
    status, _ = cluster.request("GET", f"{collection}?labelSelector={urllib.parse.quote('a>1')}")
    assert status == 200
    with pytest.raises(ValueError, match="'>' is not supported"):
        sharding.Selector.parse("a>1")


# --------------------------------------------------------------------------- three shards


def _agent(selector: str) -> str:
    return f"{kube.USER_AGENT} (shard={sharding.Selector.parse(selector).shard_id})"


def _lease(cluster: ControlPlane, selector: str) -> dict[str, Any]:
    lease = cluster.get(f"{LEASES}/{sharding.Selector.parse(selector).lease_name(LEASE_NAME)}")
    assert lease is not None, selector
    return dict(lease["spec"])


def _reconciled(proc: OperatorProcess, namespace: str) -> set[tuple[str, str]]:
    """(kind, name) of every object of ``namespace`` this instance has reconciled (secretsync_ready)."""
    found = set()
    for line in proc.metrics().splitlines():
        if line.startswith("secretsync_ready{"):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
            if labels.get("namespace") == namespace:
                found.add((labels["kind"], labels["name"]))
    return found


def _is_ready(cluster: ControlPlane, plural: str, namespace: str, name: str) -> bool:
    cond = ready(cluster.get(f"/apis/secretsync.io/v1alpha1/namespaces/{namespace}/{plural}/{name}"))
    return bool(cond and cond["status"] == "True")


def _labelled(body: dict[str, Any], prefix: str) -> dict[str, Any]:
    shard = SHARD_OF[prefix]
    if shard:
        body["metadata"].setdefault("labels", {})[KEY] = shard
    return body


def test_three_shards_reconcile_each_object_once_and_a_shard_fails_over(
    installed: ControlPlane, start_operator: OperatorStarter, namespace: str
) -> None:
    cluster = installed
    cluster.kubectl("apply", "--server-side", "-k", str(ROOT / "deploy" / "overlays" / "sharded"))
    # All four at once (a standby for shard1 among them), then wait: starting costs seconds each.
    procs = {
        "main": start_operator("--leader-elect", "--watch-label-selector", SELECTORS["main"], wait=False),
        "one": start_operator(
            "--leader-elect", f"--watch-label-selector={SELECTORS['one']}", expose=False, wait=False
        ),
        "one-b": start_operator(
            "--leader-elect", f"--watch-label-selector={SELECTORS['one']}", expose=False, wait=False
        ),
        "two": start_operator(
            "--leader-elect", f"--watch-label-selector={SELECTORS['two']}", expose=False, wait=False
        ),
    }
    for proc in procs.values():
        proc.wait_ready(timeout=60)
    procs["main"].wait_reconciling(timeout=30)
    procs["two"].wait_reconciling(timeout=30)
    wait_for(lambda: procs["one"].reconciling() or procs["one-b"].reconciling(), 30, "a shard1 leader")
    if procs["one-b"].reconciling():
        procs["one"], procs["one-b"] = procs["one-b"], procs["one"]
    leader, standby = procs["one"], procs["one-b"]
    assert not standby.reconciling()
    # A Lease each (named as Flux names them), each held.
    holders = {prefix: _lease(cluster, selector)["holderIdentity"] for prefix, selector in SELECTORS.items()}
    assert all(holders.values()) and len(set(holders.values())) == 3
    # One key ring: the main instance manages it, the shards read it.
    status, cert = procs["main"].get("/v1/cert.pem")
    assert status == 200
    for proc in procs.values():
        wait_for(lambda p=proc: p.get("/v1/cert.pem") == (200, cert), 20, "the same certificate everywhere")
    for prefix, proc in procs.items():
        info = [line for line in proc.metrics().splitlines() if line.startswith("secretsync_shard_info{")]
        assert len(info) == 1 and f'manages_keys="{str(prefix == "main").lower()}"' in info[0], info

    # Objects in every shard, and in shard3 that nobody serves. ExternalSecrets use another shard's store.
    data = [{"secretKey": "k", "remoteRef": {"key": "k"}}]
    uses = {"main": "one-store", "one": "two-store", "two": "main-store", "three": "main-store"}
    objects: list[dict[str, Any]] = []
    for prefix in SHARD_OF:
        sealed = seal(cert.encode(), secret(f"{prefix}-sealed", namespace, {"k": prefix}))
        objects.append(_labelled(sealed, prefix))
        store = {
            "apiVersion": API,
            "kind": "SecretStore",
            "metadata": {"name": f"{prefix}-store", "namespace": namespace},
            "spec": {"provider": {"fake": {"data": [{"key": "k", "value": prefix}]}}},
        }
        if prefix != "three":
            objects.append(_labelled(store, prefix))
        objects.append(
            _labelled(external_secret(f"{prefix}-external", namespace, uses[prefix], data=data), prefix)
        )
    cluster.apply(objects)
    for prefix in ("main", "one", "two"):
        for plural, name in (
            ("sealedsecrets", f"{prefix}-sealed"),
            ("externalsecrets", f"{prefix}-external"),
            ("secretstores", f"{prefix}-store"),
        ):
            wait_for(
                lambda p=plural, n=name: _is_ready(cluster, p, namespace, n), 30, f"{plural} {name} Ready"
            )
    secret_of = cluster.get(f"/api/v1/namespaces/{namespace}/secrets/main-external") or {}
    assert secret_of.get("data", {}).get("k") == "b25l"  # "one": from shard1's store

    # Exactly once, by each instance's own account ...
    expected = {
        prefix: {
            ("SealedSecret", f"{prefix}-sealed"),
            ("ExternalSecret", f"{prefix}-external"),
            ("SecretStore", f"{prefix}-store"),
        }
        for prefix in ("main", "one", "two")
    }
    for prefix in ("main", "one", "two"):
        assert _reconciled(procs[prefix], namespace) == expected[prefix], prefix
    assert _reconciled(standby, namespace) == set()
    # ... and by the API server's: every request on an object came from its shard's instance.
    agents = {_agent(selector): prefix for prefix, selector in SELECTORS.items()}
    seen: dict[str, set[str]] = {}
    for event in cluster.audit(USER):
        ref = event.get("objectRef") or {}
        agent = str(event.get("userAgent"))
        listed = event["verb"] in ("list", "watch") and ref.get("resource") in SHARDED_PLURALS
        if listed and agent in agents:  # sent with the instance's selector: the server selects
            query = urllib.parse.parse_qs(urllib.parse.urlparse(event["requestURI"]).query)
            assert query.get("labelSelector") == [SELECTORS[agents[agent]]], event["requestURI"]
        if ref.get("namespace") != namespace or not ref.get("name"):
            continue
        name, resource = ref["name"], ref["resource"]
        if resource == "secretstores" and event["verb"] == "get":
            continue  # any instance reads any store (its ExternalSecrets may use it)
        seen.setdefault(f"{resource}/{ref.get('subresource') or ''}/{name}", set()).add(
            agents.get(agent, agent)
        )
    assert seen, "the audit log has the operators' requests"
    for what, by in seen.items():
        name = what.rsplit("/", 1)[1]
        assert by == {name.split("-")[0]}, (what, by)  # its own shard, and only that one
    assert not [what for what in seen if what.rsplit("/", 1)[1].startswith("three-")]
    for plural, name in (("sealedsecrets", "three-sealed"), ("externalsecrets", "three-external")):
        body = cluster.get(f"/apis/secretsync.io/v1alpha1/namespaces/{namespace}/{plural}/{name}")
        assert body is not None and "status" not in body, name  # shard3 has no instance: untouched

    # Failover of shard1: its leader dies without releasing; the standby takes shard1's Lease.
    before = {prefix: _lease(cluster, selector) for prefix, selector in SELECTORS.items()}
    assert leader.proc is not None
    leader.proc.send_signal(signal.SIGKILL)
    leader.proc.wait(10)
    cluster.apply(_labelled(seal(cert.encode(), secret("one-after", namespace, {"k": "after"})), "one"))
    standby.wait_reconciling(timeout=45)
    wait_for(lambda: _is_ready(cluster, "sealedsecrets", namespace, "one-after"), 30, "one-after Ready")
    after = {prefix: _lease(cluster, selector) for prefix, selector in SELECTORS.items()}
    assert after["one"]["holderIdentity"] != before["one"]["holderIdentity"]
    assert after["one"]["leaseTransitions"] == before["one"]["leaseTransitions"] + 1
    for prefix in ("main", "two"):  # the other shards never noticed
        assert after[prefix]["holderIdentity"] == before[prefix]["holderIdentity"]
        assert after[prefix]["leaseTransitions"] == before[prefix]["leaseTransitions"]
        assert ("SealedSecret", "one-after") not in _reconciled(procs[prefix], namespace)
    assert ("SealedSecret", "one-after") in _reconciled(standby, namespace)
    for proc in (procs["main"], procs["two"], standby):
        assert "Traceback" not in proc.logs()
