"""The other projects' own files, pinned: ESO's and Bitnami's CRDs and doc manifests, Argo CD's checks.

Migration tests need what users already have: External Secrets Operator's and Bitnami Sealed
Secrets' CRDs (installed by those tools, reconciled by secretsync in compatibility mode), the
manifests of their documentation (the migration corpus), and Argo CD's built-in Lua health
checks for their kinds. All three projects are Go modules, so the Go module proxy serves each
release as one zip of its repository: fetched once per machine into the cache
(``~/.cache/secretsync/upstream``, or ``$XDG_CACHE_HOME``), checked against the SHA-256 pinned
here, and read in place. Nothing of theirs is copied into this repository.

``python -m tests.support.upstream`` fetches everything (``make upstream``, run by ``make test``),
so the tests never download. ``GOPROXY`` is honoured (its first http(s) entry).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import yaml


@dataclasses.dataclass(frozen=True)
class Module:
    path: str
    version: str
    sha256: str

    @property
    def prefix(self) -> str:
        return f"{self.path}@{self.version}/"


ESO = Module(
    "github.com/external-secrets/external-secrets",
    "v1.3.2",
    "ff62f532fe5bbce8e749b41b46294ed6dddff86c9560c200c6304f7ef660e342",
)
BITNAMI = Module(
    "github.com/bitnami-labs/sealed-secrets",
    "v0.36.0",
    "11b9b7ef9c9c25a42b01cf748ebe53247202a2178a6cd71e70b0cb59895140f1",
)
ARGOCD = Module(
    "github.com/argoproj/argo-cd/v3",
    "v3.2.6",
    "c61bfd030930227c4df6cf26d48651e0fb649d284e1236630f169536b238a790",
)
MODULES = (ESO, BITNAMI, ARGOCD)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "secretsync" / "upstream"


def _proxy() -> str:
    for entry in (os.environ.get("GOPROXY") or "").replace("|", ",").split(","):
        if entry.startswith(("https://", "http://")):
            return entry.rstrip("/")
    return "https://proxy.golang.org"


def _escaped(path: str) -> str:
    """The module proxy's case encoding: upper-case letters become ``!`` + lower case."""
    return "".join(f"!{c.lower()}" if c.isupper() else c for c in path)


def zip_path(module: Module) -> Path:
    return cache_dir() / f"{_escaped(module.path).replace('/', '_')}@{module.version}.zip"


def fetch(module: Module) -> Path:
    """The module's zip in the cache, downloaded and verified if it is not there yet."""
    target = zip_path(module)
    if target.is_file() and _sha256(target) == module.sha256:
        return target
    url = f"{_proxy()}/{_escaped(module.path)}/@v/{module.version}.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp,
        urllib.request.urlopen(url, timeout=120) as answer,
    ):
        while chunk := answer.read(1 << 20):
            tmp.write(chunk)
    digest = _sha256(Path(tmp.name))
    if digest != module.sha256:
        os.unlink(tmp.name)
        raise RuntimeError(f"{url}: SHA-256 {digest}, expected {module.sha256}")
    os.replace(tmp.name, target)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@functools.cache
def _archive(module: Module) -> zipfile.ZipFile:
    return zipfile.ZipFile(fetch(module))


def read(module: Module, path: str) -> bytes:
    """One file of the module, by its path in the repository."""
    return _archive(module).read(module.prefix + path)


def listing(module: Module, directory: str) -> list[str]:
    """Repository paths under ``directory`` (recursive), sorted."""
    start = module.prefix + directory.rstrip("/") + "/"
    return sorted(n.removeprefix(module.prefix) for n in _archive(module).namelist() if n.startswith(start))


def yaml_documents(module: Module, path: str) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(read(module, path)) if doc is not None]


def eso_crds() -> list[dict[str, Any]]:
    """ESO's ExternalSecret, SecretStore and ClusterSecretStore CRDs, as its release installs them."""
    base = "config/crds/bases/external-secrets.io_"
    return [
        yaml_documents(ESO, f"{base}{name}.yaml")[0]
        for name in ("externalsecrets", "secretstores", "clustersecretstores")
    ]


def bitnami_crd() -> dict[str, Any]:
    doc: dict[str, Any] = yaml_documents(BITNAMI, "helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml")[
        0
    ]
    return doc


def argocd_health(group: str, kind: str) -> str:
    return read(ARGOCD, f"resource_customizations/{group}/{kind}/health.lua").decode()


if __name__ == "__main__":
    for module in MODULES:
        print(f"{module.path}@{module.version}: {fetch(module)}", file=sys.stderr)
