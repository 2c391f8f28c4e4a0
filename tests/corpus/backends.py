"""Point the corpus' stores at the test backends, create what their auth refers to, seed the values.

Each store gets a backend of its own, so cases never see each other's secrets (a ``find`` over
a whole backend sees only its case's): Vault a KV v2 mount (the store's ``path``), AWS a region
of moto (the store's ``region``), GCP a project of the fake (``projectID``, plus our
``endpoint`` in place of ``auth``: ESO's gcpsm has no endpoint, so GCP cases run with the
apiVersion changed only). What a store's auth names (a token Secret, an AppRole, a
ServiceAccount for Vault's kubernetes auth, AWS keys) is created as the docs assume it exists.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from typing import Any, Final

from tests.corpus.model import AwsSecret, Doc, GcpSecret, Parameter, Seed, VaultKV

CREDS_NS: Final = "corpus-creds"
"""Where a case's ClusterSecretStore finds its credentials (replaced by the run's own namespace)."""
AWS_REGIONS: Final = (
    "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1",
    "eu-north-1", "eu-south-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-southeast-1", "ap-southeast-2", "ca-central-1", "sa-east-1", "me-south-1", "af-south-1",
    "ap-east-1", "eu-central-2", "ap-south-2", "ap-southeast-3", "il-central-1", "me-central-1",
)  # fmt: skip
APPROLE_SECRET_ID: Final = "corpus-approle-secret-id"


@dataclasses.dataclass
class Backends:
    """The servers of one run (``openbao``: an OpenBaoServer; ``moto``: a MotoServer; ``gcp``: a
    SecretManagerFake; each may be None when the tier lacks it) and what was made on them."""

    openbao: Any
    moto: Any
    gcp: Any
    run: str  # unique per run: mount, role and project names
    kube_auth: Callable[[list[str]], dict[str, Any]] | None = None  # enable_kubernetes_auth kwargs
    mounts: list[str] = dataclasses.field(default_factory=list)
    approle_roles: list[str] = dataclasses.field(default_factory=list)
    kube_mounts: list[str] = dataclasses.field(default_factory=list)
    regions: dict[tuple[str, str, str], str] = dataclasses.field(default_factory=dict)

    def _name(self, kind: str, namespace: str, name: str) -> str:
        digest = hashlib.sha256(f"{self.run}/{kind}/{namespace}/{name}".encode()).hexdigest()[:12]
        return f"corpus-{digest}"

    # ------------------------------------------------------------------ stores

    def point(self, store: Doc, creds_ns: str) -> list[Doc]:
        """Point ``store`` at its backend (in place); the objects its auth needs."""
        kind, meta = store["kind"], store["metadata"]
        namespace = meta.get("namespace", "")
        provider = store["spec"]["provider"]
        home = namespace or creds_ns
        if "vault" in provider:
            vault = provider["vault"]
            vault["server"] = self.openbao.addr
            vault["path"] = mount = self._name(kind, namespace, meta["name"])
            if mount not in self.mounts:
                self.mounts.append(mount)
                self.openbao.client().sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})
            return self._vault_auth(vault.get("auth") or {}, home)
        if "aws" in provider:
            aws = provider["aws"]
            aws["region"] = self.region(kind, namespace, meta["name"])
            ref = ((aws.get("auth") or {}).get("secretRef")) or {}
            out = []
            for field in ("accessKeyIDSecretRef", "secretAccessKeySecretRef", "sessionTokenSecretRef"):
                if field in ref:
                    out.append(
                        _secret(ref[field].get("namespace", home), ref[field]["name"], ref[field]["key"], "x")
                    )
            return out
        if "gcpsm" in provider:
            gcp = provider["gcpsm"]
            gcp["projectID"] = self._name(kind, namespace, meta["name"])
            gcp["endpoint"] = self.gcp.endpoint
            gcp.pop("auth", None)
        return []

    def region(self, kind: str, namespace: str, name: str) -> str:
        key = (kind, namespace, name)
        if key not in self.regions:
            self.regions[key] = AWS_REGIONS[len(self.regions)]
        return self.regions[key]

    def _vault_auth(self, auth: dict[str, Any], home: str) -> list[Doc]:
        client = self.openbao.client()
        if "tokenSecretRef" in auth:
            ref = auth["tokenSecretRef"]
            return [_secret(ref.get("namespace", home), ref["name"], ref["key"], self.openbao.root_token)]
        if "appRole" in auth:
            app = auth["appRole"]
            role = f"{self.run}-approle-{len(self.approle_roles)}"
            self.approle_roles.append(role)
            client.sys.create_or_update_policy(name=f"{self.run}-read", policy=_READ_ALL)
            client.auth.approle.create_or_update_approle(
                role, token_policies=[f"{self.run}-read"], mount_point=app["path"]
            )
            client.auth.approle.update_role_id(role, app["roleId"], mount_point=app["path"])
            client.auth.approle.create_custom_secret_id(role, APPROLE_SECRET_ID, mount_point=app["path"])
            ref = app["secretRef"]
            return [_secret(ref.get("namespace", home), ref["name"], ref["key"], APPROLE_SECRET_ID)]
        if "kubernetes" in auth and "serviceAccountRef" in auth["kubernetes"]:
            kube = auth["kubernetes"]
            sa = kube["serviceAccountRef"]
            namespace = sa.get("namespace", home)
            self.kube_mounts.append(json.dumps([kube["mountPath"], kube["role"], sa["name"], namespace]))
            return [
                {
                    "apiVersion": "v1",
                    "kind": "ServiceAccount",
                    # an admin's mark: stores may mint tokens for it (secretsync's docs/security.md)
                    "metadata": {
                        "name": sa["name"],
                        "namespace": namespace,
                        "annotations": {"secretsync.io/allow-store-tokens": "true"},
                    },
                }
            ]
        return []

    def enable_kubernetes_auth(self) -> None:
        """Vault's kubernetes auth for every (mount, role, ServiceAccount) the stores named."""
        if not self.kube_mounts or self.kube_auth is None:
            return
        client = self.openbao.client()
        client.sys.create_or_update_policy(name=f"{self.run}-read", policy=_READ_ALL)
        roles: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for entry in self.kube_mounts:
            mount, role, sa, namespace = json.loads(entry)
            roles.setdefault((mount, role), []).append((sa, namespace))
        for (mount, role), subjects in roles.items():
            self.openbao.enable_kubernetes_auth(
                role=role,
                mount_point=mount,
                bound_sa_names=sorted({s for s, _ in subjects}),
                bound_namespaces=sorted({n for _, n in subjects}),
                policies=[f"{self.run}-read"],
                audience="vault",  # secretsync mints tokens for this audience only
                replay=False,
                **self.kube_auth(sorted({n for _, n in subjects})),
            )

    # ------------------------------------------------------------------ values

    def seed(self, store: Doc, remote: dict[str, Seed]) -> None:
        kind, meta = store["kind"], store["metadata"]
        provider = store["spec"]["provider"]
        if "vault" in provider:
            client = self.openbao.client()
            v2 = client.secrets.kv.v2
            mount = provider["vault"]["path"]
            for key, value in remote.items():
                assert isinstance(value, VaultKV), key
                write = functools.partial(
                    v2.create_or_update_secret, key, dict(value.data), mount_point=mount
                )
                _retry(write)
                if value.custom_metadata:
                    client.secrets.kv.v2.update_metadata(
                        key, custom_metadata=dict(value.custom_metadata), mount_point=mount
                    )
        elif "aws" in provider:
            region = provider["aws"]["region"]
            for key, value in remote.items():
                if isinstance(value, Parameter):
                    self._parameter(region, key, value)
                else:
                    assert isinstance(value, AwsSecret), key
                    self._aws_secret(region, key, value)
        elif "gcpsm" in provider:
            project = provider["gcpsm"]["projectID"]
            for key, value in remote.items():
                assert isinstance(value, GcpSecret), key
                self.gcp.put_secret(
                    f"projects/{project}/secrets/{key}", *value.versions, labels=dict(value.labels)
                )
        else:
            assert not remote, f"{kind}/{meta['name']}: no backend to seed"

    def _client(self, service: str, region: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.moto.url,
            region_name=region,
            aws_access_key_id="corpus",
            aws_secret_access_key="corpus",
        )

    def _aws_secret(self, region: str, name: str, secret: AwsSecret) -> None:
        client = self._client("secretsmanager", region)
        values = [*secret.earlier, secret.value]
        first: dict[str, Any] = {"Name": name, **_payload(values[0])}
        if secret.tags:
            first["Tags"] = [{"Key": k, "Value": v} for k, v in secret.tags.items()]
        client.create_secret(**first)
        for value in values[1:]:
            client.put_secret_value(SecretId=name, **_payload(value))
        for stage, value in secret.stages.items():
            client.put_secret_value(SecretId=name, VersionStages=[stage], **_payload(value))

    def _parameter(self, region: str, name: str, parameter: Parameter) -> None:
        client = self._client("ssm", region)
        extra: dict[str, Any] = {}
        if parameter.tags:
            extra["Tags"] = [{"Key": k, "Value": v} for k, v in parameter.tags.items()]
        client.put_parameter(Name=name, Value=parameter.value, Type=parameter.type, **extra)

    def cleanup(self) -> None:
        if self.openbao is None or not self.openbao.running:
            return
        client = self.openbao.client()
        for undo in _undo(self, client):
            try:
                undo()
            except Exception:  # noqa: S112 - best effort, the server is shared with other tests
                continue


def _undo(backends: Backends, client: Any) -> Iterator[Callable[[], Any]]:
    for mount in backends.mounts:
        yield lambda mount=mount: client.sys.disable_secrets_engine(mount)
    for role in backends.approle_roles:
        yield lambda role=role: client.auth.approle.delete_role(role)
    for mount in {json.loads(entry)[0] for entry in backends.kube_mounts}:
        yield lambda mount=mount: client.sys.disable_auth_method(mount)
    yield lambda: client.sys.delete_policy(f"{backends.run}-read")


def _retry(call: Callable[[], Any], seconds: float = 10.0) -> Any:
    """A first write to a KV v2 mount enabled a moment ago can meet "Upgrading from non-versioned to
    versioned data" while the mount upgrades itself: OpenBao's answer is to try again."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return call()
        except Exception as exc:
            if "Upgrading from non-versioned" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


_READ_ALL: Final = 'path "*" { capabilities = ["read", "list"] }'


def _payload(value: str | bytes) -> dict[str, Any]:
    return {"SecretBinary": value} if isinstance(value, bytes) else {"SecretString": value}


def _secret(namespace: str, name: str, key: str, value: str) -> Doc:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "data": {key: base64.b64encode(value.encode()).decode()},
    }
