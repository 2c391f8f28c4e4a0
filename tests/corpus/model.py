"""The corpus' types: where a manifest comes from, what the case adds to it, what must come out.

A case names upstream files by path (read from the pinned module zips at test time, never
copied here), the small explicit *completions* the docs leave to the reader (a store elided
with ``# ...``, a ConfigMap the page only describes), the values to seed in the backend, and
the Secret ESO or Bitnami would write, derived from their docs and code (cited per case).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

import yaml

from tests.support import upstream

Doc = dict[str, Any]
ESO_API: Final = "external-secrets.io/v1"
BITNAMI_API: Final = "bitnami.com/v1alpha1"
OURS: Final = "secretsync.io/v1alpha1"
MODES: Final = ("changed", "untouched")
DELETE: Final = object()
"""A completion value that removes the field."""

_RAW = re.compile(r"\{%-?\s*(end)?raw\s*-?%\}")
_FENCE = re.compile(r"^```\s*ya?ml\s*$\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


@dataclasses.dataclass(frozen=True)
class Upstream:
    """A file of a pinned upstream release; ``block`` picks the n-th fenced YAML block of a
    Markdown page (0-based), ``docs`` the YAML documents (0-based) of the file or block."""

    path: str
    docs: tuple[int, ...] | None = None
    block: int | None = None
    module: upstream.Module = upstream.ESO

    def text(self) -> str:
        text = upstream.read(self.module, self.path).decode()
        if self.block is not None:
            text = _FENCE.findall(text)[self.block]
        return _RAW.sub("", text)  # mkdocs' {% raw %} guards, not part of the manifest

    def load(self, render: Callable[[str], str] | None = None) -> list[Doc]:
        text = self.text()
        if render is not None:
            text = render(text)
        docs = [doc for doc in yaml.safe_load_all(text) if doc is not None]
        return [docs[i] for i in self.docs] if self.docs is not None else docs

    def __str__(self) -> str:
        where = f" block {self.block}" if self.block is not None else ""
        which = f" docs {list(self.docs)}" if self.docs is not None else ""
        return f"{self.module.path.rsplit('/', 1)[-1]}:{self.path}{where}{which}"


_PRINTF = re.compile(r'\{\{-?\s*printf\s+"((?:[^"\\]|\\.)*)"\s*-?\}\}')
_BACKTICK = re.compile(r"\{\{-?\s*`([^`]*)`\s*-?\}\}")


def helm_render(text: str) -> str:
    """What ``helm template`` makes of the two escapes ESO's docs use for templates inside a chart:
    ``{{ printf "{{ .x }}" }}`` and ``{{ `{{ .x }}` }}`` both become ``{{ .x }}``."""
    text = _PRINTF.sub(lambda m: json.loads(f'"{m.group(1)}"'), text)
    return _BACKTICK.sub(lambda m: m.group(1), text)


def key_of(doc: Mapping[str, Any]) -> str:
    return f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"


def set_path(doc: Doc, path: str, value: Any) -> None:
    """Set (or with :data:`DELETE`, remove) ``a.b.0.c`` in ``doc``; missing maps are created."""
    steps = path.split(".")
    node: Any = doc
    for step in steps[:-1]:
        node = node[int(step)] if isinstance(node, list) else node.setdefault(step, {})
    last = steps[-1]
    if isinstance(node, list):
        if value is DELETE:
            del node[int(last)]
        else:
            node[int(last)] = value
    elif value is DELETE:
        node.pop(last, None)
    else:
        node[last] = value


def complete(docs: list[Doc], completions: Mapping[str, Any]) -> None:
    """Apply ``{"Kind/name:dotted.path": value}`` completions; each must name exactly one document."""
    for target, value in completions.items():
        ref, _, path = target.partition(":")
        found = [doc for doc in docs if key_of(doc) == ref]
        if len(found) != 1:
            raise AssertionError(f"completion {target!r}: {len(found)} documents are {ref}")
        set_path(found[0], path, json.loads(json.dumps(value)) if value is not DELETE else value)


# --------------------------------------------------------------------------- value matchers


class Match:
    """A value the upstream tool makes anew each time (a timestamp, a salted hash)."""

    def __call__(self, value: bytes) -> bool:
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class Regex(Match):
    pattern: str

    def __call__(self, value: bytes) -> bool:
        return re.fullmatch(self.pattern, value.decode(errors="replace"), re.DOTALL) is not None


GO_TIME: Final = Regex(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [+-]\d{4} \S+( m=[+-]\d+\.\d+)?")
"""``time.Now()`` printed by a Go template (``{{ now }}``): ``2006-01-02 15:04:05.999 -0700 MST``."""


@dataclasses.dataclass(frozen=True)
class JsonObject(Match):
    """A JSON object with exactly ``fields`` plus any of ``optional`` (checked by ``optional``'s
    regexes): Go's ``json.Marshal`` of a map, whose values include server timestamps."""

    fields: Mapping[str, str]
    optional: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __call__(self, value: bytes) -> bool:
        try:
            got = json.loads(value)
        except ValueError:
            return False
        if not isinstance(got, dict) or list(got) != sorted(got):  # Go sorts map keys
            return False
        extra = set(got) - set(self.fields)
        return all(got.get(k) == v for k, v in self.fields.items()) and all(
            k in self.optional and re.fullmatch(self.optional[k], str(got[k])) for k in extra
        )


def _crypt(password: str, salted: str) -> str | None:
    lib = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    out = lib.crypt(password.encode(), salted.encode())
    return out.decode() if out else None


@dataclasses.dataclass(frozen=True)
class Htpasswd(Match):
    """Sprig's ``htpasswd``: ``user:$2a$10$...`` lines (bcrypt, random salt), in ``users`` order."""

    users: Mapping[str, str]
    separator: str = "\n"

    def __call__(self, value: bytes) -> bool:
        lines = value.decode().split(self.separator)
        if [line.partition(":")[0] for line in lines] != list(self.users):
            return False
        for line, password in zip(lines, self.users.values(), strict=True):
            salted = line.partition(":")[2]
            if not salted.startswith("$2a$10$") or _crypt(password, salted) != salted:
                return False
        return True


Value = bytes | Match


# --------------------------------------------------------------------------- expectations


@dataclasses.dataclass(frozen=True)
class SecretOut:
    """The Secret ESO or Bitnami writes: ``data`` exactly, ``type``, and exactly these labels and
    annotations once each tool's own bookkeeping is set aside (ours ``secretsync.io/*``; ESO's
    ``reconcile.external-secrets.io/*``, which secretsync does not write)."""

    name: str
    data: Mapping[str, Value]
    type: str = "Opaque"
    labels: Mapping[str, str | Match] = dataclasses.field(default_factory=dict)
    annotations: Mapping[str, str | Match] = dataclasses.field(default_factory=dict)
    immutable: bool = False
    owned: bool = True  # a controller ownerReference to the object (Bitnami's skip annotation: none)


@dataclasses.dataclass(frozen=True)
class Fails:
    """ESO (or Bitnami) fails on this manifest too: not ready, and no Secret ``secret``; our
    condition message contains ``message``."""

    object: str  # "Kind/name" of the object that fails
    message: str
    secret: str | None = None


@dataclasses.dataclass(frozen=True)
class Untouched:
    """Not this controller's object (``spec.controller`` of another class): no status, no Secret."""

    object: str
    secret: str


Expectation = SecretOut | Fails | Untouched


# --------------------------------------------------------------------------- backend values


@dataclasses.dataclass(frozen=True)
class VaultKV:
    """A KV v2 secret (at the store's own mount) and its custom_metadata."""

    data: Mapping[str, Any]
    custom_metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class AwsSecret:
    """A Secrets Manager secret: ``value`` is AWSCURRENT (str: SecretString, bytes: SecretBinary);
    ``earlier`` are older values, oldest first (the last one becomes AWSPREVIOUS); ``stages`` puts
    extra version stages on values (stage -> value, each a new version)."""

    value: str | bytes
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    earlier: tuple[str, ...] = ()
    stages: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Parameter:
    value: str
    type: str = "SecureString"
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class GcpSecret:
    versions: tuple[str | bytes, ...]
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)


Seed = VaultKV | AwsSecret | Parameter | GcpSecret


# --------------------------------------------------------------------------- cases


@dataclasses.dataclass(frozen=True)
class EsoCase:
    """ESO manifests from ``sources`` (the ExternalSecret and, when the docs show it, its store),
    plus ``extra`` objects the docs assume (a store they elide, a ConfigMap), ``completions``,
    the backend ``remote`` values of the store the ExternalSecrets use, and the ``expect``ed
    result per ExternalSecret. ``helm``: the docs write the manifest for a Helm chart, so it is
    rendered as ``helm template`` would first."""

    id: str
    sources: tuple[Upstream, ...]
    provider: str  # vault-token | vault-approle | vault-kubernetes | aws-sm | aws-ssm | gcpsm | fake
    features: tuple[str, ...]
    expect: tuple[Expectation, ...]
    remote: Mapping[str, Seed] = dataclasses.field(default_factory=dict)
    completions: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    extra: tuple[Doc, ...] = ()
    modes: tuple[str, ...] = MODES
    xfail: Mapping[str, str] = dataclasses.field(default_factory=dict)  # mode -> exact difference
    helm: bool = False

    def documents(self) -> list[Doc]:
        """The manifests as a user has them (ESO's apiVersion), completed."""
        docs = [doc for src in self.sources for doc in src.load(helm_render if self.helm else None)]
        docs += json.loads(json.dumps(list(self.extra)))
        complete(docs, self.completions)
        return docs


@dataclasses.dataclass(frozen=True)
class BitnamiCase:
    """A SealedSecret as Bitnami's docs write it (``source``; None: what ``kubeseal`` makes of
    ``secret``), re-sealed for our test key from ``plain`` (the values the docs sealed) with
    the docs' template, metadata and scope kept."""

    id: str
    source: Upstream | None
    plain: Mapping[str, str]
    features: tuple[str, ...]
    expect: Expectation
    secret: Doc | None = None  # the Secret kubeseal is given, when the docs show a command
    raw: bool = False  # sealed value by value with ``--raw``, as the docs' scope examples do
    completions: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    setup: tuple[Doc, ...] = ()  # objects that exist before (a Secret to adopt)
    xfail: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Refused:
    """A manifest using what secretsync does not implement: the API server refuses it when it is
    applied with the apiVersion changed, with a message naming the field."""

    id: str
    source: Upstream
    object: str  # "Kind/name" of the refused document
    messages: tuple[str, ...]  # each appears in the API server's answer
    why: str
    completions: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def document(self) -> Doc:
        docs = self.source.load()
        complete(docs, self.completions)
        (doc,) = [d for d in docs if key_of(d) == self.object]
        return doc
