"""The deployment manifests: render every kustomization, validate it, and check its contract.

The contract is what the operator and the CLI rely on (README "Running the operator",
"HTTP API and online commands"; secretsync/remote.py, leader.py): the Service and port
names, the Lease, the RBAC the operator needs and nothing more, and a hardened pod.
"""

from __future__ import annotations

import copy
import functools
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from secretsync import sharding
from secretsync.leader import LEASE_NAME
from tests.support import k8s_bin

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
KUSTOMIZATIONS = ("base", "overlays/ha", "overlays/namespaced", "overlays/compat", "overlays/sharded")
KUBE_VERSIONS = ("1.29.0", "1.37.0")
NAMESPACE = "secretsync-system"
SA = {"kind": "ServiceAccount", "name": "secretsync", "namespace": NAMESPACE}
GROUP = "secretsync.io"
CUSTOM = ("sealedsecrets", "externalsecrets", "secretstores", "clustersecretstores")
NAMESPACED_CUSTOM = ("sealedsecrets", "externalsecrets", "secretstores")
RBAC_KINDS = ("Role", "ClusterRole")

# What the operator does, as (apiGroup, resource, verb). The write-up is in deploy/README.md.
NEEDED_CLUSTERWIDE = {
    # produced Secrets, sealing keys, store credentials; delete for deletionPolicy Delete
    *(("", "secrets", v) for v in ("get", "list", "watch", "create", "update", "delete")),
    # kopf lists and watches the custom resources; the operator GETs one before acting
    *((GROUP, r, v) for r in CUSTOM for v in ("get", "list", "watch")),
    *((GROUP, f"{r}/status", "patch") for r in CUSTOM),
    # blockOwnerDeletion on produced Secrets (OwnerReferencesPermissionEnforcement)
    *((GROUP, f"{r}/finalizers", "update") for r in ("sealedsecrets", "externalsecrets")),
    ("", "events", "create"),
    ("", "serviceaccounts", "get"),  # Vault kubernetes auth: the admin's mark on the ServiceAccount
    ("", "serviceaccounts/token", "create"),  # Vault kubernetes auth (TokenRequest)
    ("", "namespaces", "get"),  # ClusterSecretStore conditions
    ("", "configmaps", "get"),  # templateFrom ConfigMaps
    *(("apiextensions.k8s.io", "customresourcedefinitions", v) for v in ("list", "watch")),
}
NEEDED_PER_NAMESPACE = {
    *(("", "secrets", v) for v in ("get", "list", "watch", "create", "update", "delete")),
    *((GROUP, r, v) for r in NAMESPACED_CUSTOM for v in ("get", "list", "watch")),
    *((GROUP, f"{r}/status", "patch") for r in NAMESPACED_CUSTOM),
    *((GROUP, f"{r}/finalizers", "update") for r in ("sealedsecrets", "externalsecrets")),
    ("", "events", "create"),
    ("", "serviceaccounts", "get"),
    ("", "serviceaccounts/token", "create"),
    ("", "configmaps", "get"),
}
# leader.py: get, create, then replace (PUT = update) the Lease secretsync-operator.
NEEDED_LEASE = {("coordination.k8s.io", "leases", v) for v in ("get", "create", "update")}
PROXY_NAMES = {"secretsync", "secretsync:http", "http:secretsync:http"}


@functools.cache
def rendered_text(name: str) -> str:
    # The kubectl built from the same Kubernetes release as the test server (never the machine's).
    done = subprocess.run(
        [k8s_bin.binary("kubectl"), "kustomize", str(DEPLOY / name)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"kubectl kustomize deploy/{name} failed:\n{done.stderr}"
    return done.stdout


def rendered(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(rendered_text(name)) if doc]


def objects(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in objects(docs, kind) if d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (deployment,) = objects(docs, "Deployment")
    return container_of(deployment)


def container_of(deployment: dict[str, Any]) -> dict[str, Any]:
    (c,) = deployment["spec"]["template"]["spec"]["containers"]
    return c


def bound_to_operator(docs: list[dict[str, Any]]) -> list[tuple[str | None, dict[str, Any]]]:
    """(namespace or None for cluster-wide, role) for every role bound to the operator's SA."""
    roles = {(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]): d for d in docs}
    out = []
    for binding in objects(docs, "ClusterRoleBinding") + objects(docs, "RoleBinding"):
        if SA not in binding.get("subjects", []):
            continue
        ref = binding["roleRef"]
        ns = binding["metadata"].get("namespace")
        role_ns = ns if ref["kind"] == "Role" else None
        role = roles[(ref["kind"], role_ns, ref["name"])]
        out.append((ns, role))
    return out


def grants(role: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {
        (g, r, v)
        for rule in role.get("rules", [])
        if not rule.get("resourceNames")
        for g in rule.get("apiGroups", [])
        for r in rule.get("resources", [])
        for v in rule.get("verbs", [])
    }


# --------------------------------------------------------------------------- every kustomization


@pytest.mark.parametrize("version", KUBE_VERSIONS)
@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_renders_and_validates(name: str, version: str, tmp_path: Path) -> None:
    out = tmp_path / "rendered.yaml"
    out.write_text(rendered_text(name))
    validator = Path(sys.executable).with_name("kubernetes-validate")
    # Custom resources only warn (no schema); the CRDs themselves are validated.
    done = subprocess.run(
        [str(validator), "--quiet", "--strict", "-k", version, str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, (
        f"deploy/{name} is invalid for Kubernetes {version}:\n{done.stdout}{done.stderr}"
    )


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_no_rbac_wildcards(name: str) -> None:
    for role in [d for d in rendered(name) if d["kind"] in RBAC_KINDS]:
        for rule in role.get("rules", []):
            for field in ("apiGroups", "resources", "verbs", "resourceNames"):
                assert not any("*" in v for v in rule.get(field, [])), (name, role["metadata"]["name"], rule)


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_pod_is_hardened(name: str) -> None:
    deployments = objects(rendered(name), "Deployment")
    assert deployments
    for deployment in deployments:  # overlays/sharded has one per shard
        check_hardened(deployment)


def check_hardened(deployment: dict[str, Any]) -> None:
    pod = deployment["spec"]["template"]["spec"]
    c = container_of(deployment)
    sc = c["securityContext"]
    assert pod["securityContext"]["runAsNonRoot"] is True and sc["runAsNonRoot"] is True
    assert sc["runAsUser"] == 65532
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"] and not sc["capabilities"].get("add")
    assert sc["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    for kind in ("requests", "limits"):
        assert set(c["resources"][kind]) >= {"cpu", "memory"}, kind
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    # The root filesystem is read-only: /tmp must be a writable volume.
    (tmp,) = [m for m in c["volumeMounts"] if m["mountPath"] == "/tmp"]
    assert "emptyDir" in next(v for v in pod["volumes"] if v["name"] == tmp["name"])
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"http": 8080, "metrics": 8081}
    assert pod["serviceAccountName"] == "secretsync" and pod["automountServiceAccountToken"] is True
    assert c["image"].startswith("ghcr.io/secretsync/secretsync:")
    assert c["args"][:3] == ["operator", "--log-format", "json"]
    env = {e["name"]: e for e in c["env"]}
    assert env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    # Without a Lease to arbitrate, a rolling update would run two writers side by side;
    # the HA overlay (leader election) rolls (test_ha_overlay).
    if "--leader-elect" not in c["args"]:
        assert deployment["spec"]["strategy"]["type"] == "Recreate"


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_services_and_proxy_grant(name: str) -> None:
    docs = rendered(name)
    api = one(docs, "Service", "secretsync")
    assert api["metadata"]["namespace"] == NAMESPACE  # remote.DEFAULT_CONTROLLER_NAMESPACE
    # remote.py: services/secretsync:http/proxy
    assert [(p["name"], p["port"], p["targetPort"]) for p in api["spec"]["ports"]] == [("http", 8080, "http")]
    metrics = one(docs, "Service", "secretsync-metrics")
    assert [p["name"] for p in metrics["spec"]["ports"]] == ["metrics"]
    assert metrics["metadata"]["annotations"]["prometheus.io/scrape"] == "true"

    proxy = one(docs, "ClusterRole", "secretsync-proxy")
    (rule,) = proxy["rules"]
    assert {k: v for k, v in rule.items() if k != "resourceNames"} == {
        "apiGroups": [""],
        "resources": ["services/proxy"],
        "verbs": ["get", "create"],
    }
    assert set(rule["resourceNames"]) == PROXY_NAMES
    # Bound only in the operator's namespace (a RoleBinding), to every authenticated user.
    bindings = [
        b
        for b in objects(docs, "RoleBinding") + objects(docs, "ClusterRoleBinding")
        if b["roleRef"]["name"] == "secretsync-proxy"
    ]
    assert [(b["kind"], b["metadata"].get("namespace")) for b in bindings] == [("RoleBinding", NAMESPACE)]
    assert bindings[0]["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}
    ]


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_leader_lease_role(name: str) -> None:
    granted = {g for ns, role in bound_to_operator(rendered(name)) if ns == NAMESPACE for g in grants(role)}
    assert granted >= NEEDED_LEASE


# --------------------------------------------------------------------------- base and ha


@pytest.mark.parametrize("name", ("base", "overlays/ha", "overlays/sharded"))
def test_clusterwide_operator_has_what_it_needs(name: str) -> None:
    docs = rendered(name)
    clusterwide = {g for ns, role in bound_to_operator(docs) if ns is None for g in grants(role)}
    missing = NEEDED_CLUSTERWIDE - clusterwide
    assert not missing, sorted(missing)
    # Least privilege: nothing beyond the list (no create/delete on custom resources, ...).
    assert clusterwide == NEEDED_CLUSTERWIDE, sorted(clusterwide - NEEDED_CLUSTERWIDE)
    crds = objects(docs, "CustomResourceDefinition")
    assert sorted(d["metadata"]["name"] for d in crds) == sorted(f"{r}.{GROUP}" for r in CUSTOM)
    # Argo CD sync wave, added by a patch in deploy/base (crds/ itself stays untouched).
    assert all(d["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "-2" for d in crds)
    assert one(docs, "Namespace", NAMESPACE)


COMPAT_GROUPS = {
    "external-secrets.io": ("externalsecrets", "secretstores", "clustersecretstores"),
    "bitnami.com": ("sealedsecrets",),
}
NEEDED_COMPAT = {
    *((g, r, v) for g, rs in COMPAT_GROUPS.items() for r in rs for v in ("get", "list", "watch")),
    *((g, f"{r}/status", "patch") for g, rs in COMPAT_GROUPS.items() for r in rs),
    ("external-secrets.io", "externalsecrets/finalizers", "update"),
    ("bitnami.com", "sealedsecrets/finalizers", "update"),
}


def test_compat_overlay_adds_the_old_tools_kinds_and_flags() -> None:
    docs = rendered("overlays/compat")
    clusterwide = {g for ns, role in bound_to_operator(docs) if ns is None for g in grants(role)}
    assert clusterwide == NEEDED_CLUSTERWIDE | NEEDED_COMPAT, sorted(
        clusterwide ^ (NEEDED_CLUSTERWIDE | NEEDED_COMPAT)
    )
    args = container(docs)["args"]
    assert args[:3] == ["operator", "--log-format", "json"]
    assert {"--eso-compat", "--bitnami-compat", "--bitnami-keys"} <= set(args)
    # The old tools' CRDs are theirs (installed by them): this overlay ships only ours.
    crds = sorted(d["metadata"]["name"] for d in objects(docs, "CustomResourceDefinition"))
    assert crds == sorted(f"{r}.{GROUP}" for r in CUSTOM)


def test_ha_overlay() -> None:
    docs = rendered("overlays/ha")
    (deployment,) = objects(docs, "Deployment")
    assert deployment["spec"]["replicas"] == 2
    assert "--leader-elect" in container(docs)["args"]
    # Standbys are Ready (they serve the read-only API), so a rolling update can finish.
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    (pdb,) = objects(docs, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"] == deployment["spec"]["selector"]
    (term,) = deployment["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"
    ]
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert term["podAffinityTerm"]["labelSelector"] == deployment["spec"]["selector"]
    base = rendered("base")
    assert objects(base, "Deployment")[0]["spec"]["replicas"] == 1
    assert "--leader-elect" not in container(base)["args"]


# --------------------------------------------------------------------------- sharded

SHARDS = {
    "secretsync": f"!{sharding.SHARD_LABEL}",
    "secretsync-shard1": f"{sharding.SHARD_LABEL}=shard1",
    "secretsync-shard2": f"{sharding.SHARD_LABEL}=shard2",
}
INSTANCE = "app.kubernetes.io/instance"


def test_sharded_overlay() -> None:
    docs, base = rendered("overlays/sharded"), rendered("base")
    # Everything but the Deployments is the base's, as it is (RBAC, CRDs, Services, namespace).
    assert [d for d in docs if d["kind"] != "Deployment"] == [d for d in base if d["kind"] != "Deployment"]
    (original,) = objects(base, "Deployment")
    deployments = {d["metadata"]["name"]: d for d in objects(docs, "Deployment")}
    assert set(deployments) == set(SHARDS)
    selectors: dict[str, sharding.Selector] = {}
    for name, deployment in deployments.items():
        args = container_of(deployment)["args"]
        (flag,) = [a for a in args if a.startswith("--watch-label-selector")]
        assert flag == f"--watch-label-selector={SHARDS[name]}", name
        selectors[name] = sharding.Selector.parse(flag.partition("=")[2])
        # A copy of the base's Deployment: only the flag, the name and (shards) the instance label differ.
        bare = copy.deepcopy(deployment)
        bare["metadata"]["name"] = original["metadata"]["name"]
        container_of(bare)["args"].remove(flag)
        spec = bare["spec"]
        for labels in (spec["selector"]["matchLabels"], spec["template"]["metadata"]["labels"]):
            assert labels.pop(INSTANCE, name) == name  # a shard's is its Deployment's name; main has none
        assert bare == original, name
    # The main Deployment's selector is immutable: the overlay applies over an existing install.
    assert deployments["secretsync"]["spec"]["selector"] == original["spec"]["selector"]
    for name, deployment in deployments.items():
        pods = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= pods.items()
        assert pods["app.kubernetes.io/name"] == "secretsync"  # the API and metrics Services reach it
        # No shard's Deployment selects another instance's pods.
        for other, theirs in deployments.items():
            if name != "secretsync" and other != name:
                pods = theirs["spec"]["template"]["metadata"]["labels"]
                assert not deployment["spec"]["selector"]["matchLabels"].items() <= pods.items()
    # Every object has exactly one instance, whatever its labels; one manages the keys; three Leases.
    for labels, owner in (
        ({}, "secretsync"),
        ({"app": "web"}, "secretsync"),
        ({sharding.SHARD_LABEL: "shard1"}, "secretsync-shard1"),
        ({sharding.SHARD_LABEL: "shard2", "app": "web"}, "secretsync-shard2"),
    ):
        assert [n for n, s in selectors.items() if s.matches(labels)] == [owner], labels
    assert [n for n, s in selectors.items() if s.takes_unlabelled] == ["secretsync"]
    leases = {s.lease_name(LEASE_NAME) for s in selectors.values()}
    assert len(leases) == 3 and LEASE_NAME not in leases


# --------------------------------------------------------------------------- namespaced


def test_namespaced_overlay() -> None:
    docs = rendered("overlays/namespaced")
    args = container(docs)["args"]
    watched = [args[i + 1] for i, a in enumerate(args) if a == "--watch-namespace"]
    assert watched == ["team-a", "team-b"]

    # Nothing cluster-wide on Secrets or custom resources, whoever it is bound to.
    for role in objects(docs, "ClusterRole"):
        for rule in role["rules"]:
            assert "secrets" not in rule["resources"] and GROUP not in rule["apiGroups"], (
                role["metadata"]["name"],
                rule,
            )
    per_ns: dict[str | None, set[tuple[str, str, str]]] = {}
    for ns, role in bound_to_operator(docs):
        per_ns.setdefault(ns, set()).update(grants(role))
    # Nothing cluster-wide at all: kopf is given exact namespaces (no namespace listing) and does
    # not scan CRDs in namespaced mode (tests/cluster/test_namespaced_real.py runs it that way).
    assert None not in per_ns
    # The watched namespaces plus its own (the operator always watches its own: key Secrets).
    assert set(per_ns) == {*watched, NAMESPACE}
    for ns, granted in per_ns.items():
        missing = NEEDED_PER_NAMESPACE - granted
        assert not missing, (ns, sorted(missing))
    # CRDs are installed by a cluster admin (kubectl apply -k crds), not by this overlay.
    assert not objects(docs, "CustomResourceDefinition")


def test_crds_kustomization_lists_every_crd() -> None:
    listed = yaml.safe_load((ROOT / "crds" / "kustomization.yml").read_text())["resources"]
    # .yml, so nothing that loads crds/*.yaml as CRDs (tests/test_crds.py, the emulator) sees it.
    assert sorted(listed) == sorted(p.name for p in (ROOT / "crds").glob("*.yaml"))


# --------------------------------------------------------------------------- Argo CD, Dockerfile


def test_argocd_application() -> None:
    app = yaml.safe_load((DEPLOY / "argocd" / "application.yaml").read_text())
    assert (app["apiVersion"], app["kind"]) == ("argoproj.io/v1alpha1", "Application")
    assert app["spec"]["source"]["path"] == "deploy/base"
    assert (DEPLOY / app["spec"]["source"]["path"].removeprefix("deploy/") / "kustomization.yaml").is_file()
    assert app["spec"]["source"]["targetRevision"] == "main"
    sync = app["spec"]["syncPolicy"]
    assert sync["automated"] == {"prune": True, "selfHeal": True}
    assert {"ServerSideApply=true", "CreateNamespace=false"} <= set(sync["syncOptions"])
    assert app["spec"]["destination"]["namespace"] == NAMESPACE


def test_argocd_health_checks() -> None:
    cm = yaml.safe_load((DEPLOY / "argocd" / "health-checks.yaml").read_text())
    assert (cm["kind"], cm["metadata"]["name"]) == ("ConfigMap", "argocd-cm")
    for kind in ("SealedSecret", "ExternalSecret", "SecretStore", "ClusterSecretStore"):
        lua = cm["data"][f"resource.customizations.health.secretsync.io_{kind}"]
        for needle in (
            "observedGeneration",
            "generation",
            '"Ready"',
            '"Healthy"',
            '"Degraded"',
            '"Progressing"',
        ):
            assert needle in lua, (kind, needle)
        assert "condition.message" in lua and lua.rstrip().endswith("return hs")
        # tests/test_argocd_health.py runs each script in Lua 5.1 against the statuses we write.


def test_dockerfile() -> None:
    text = (ROOT / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert lines[0].startswith("FROM python:3.11-slim-bookworm@sha256:")
    (user,) = [line for line in lines if line.startswith("USER ")]
    assert user.split()[1].split(":")[0] == "65532"
    assert 'ENTRYPOINT ["secretsync"]' in lines and 'CMD ["operator"]' in lines
    assert "-c constraints.txt '.[all]'" in text and "--no-cache-dir" in text
    assert "PYTHONDONTWRITEBYTECODE=1" in text and "PYTHONUNBUFFERED=1" in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", ".pytest_cache"} <= set(ignored)
