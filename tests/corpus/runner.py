"""Apply one mode of the corpus to an API server (the emulator or a real one) and judge the results.

A mode is ``changed`` (the ESO and Bitnami apiVersions replaced by ``secretsync.io/v1alpha1``,
nothing else touched, the operator started without compatibility flags) or ``untouched`` (the
manifests as they are, the old tools' CRDs installed, the operator with ``--eso-compat
--bitnami-compat --bitnami-keys``). Every case gets a namespace of its own; what the runner does
to a manifest beyond that is mechanical and the same for every case:

- namespaced documents go to the case's namespace, and a ClusterSecretStore is renamed
  ``<name>-<namespace>`` (the references to it follow) so that cases never share one;
- credential references of a store (``{name, namespace}``) name the case's namespace;
- a store is pointed at its test backend (tests/corpus/backends.py) and the values of the case
  are seeded there; what its auth names (a token Secret, a ServiceAccount) is created;
- a SealedSecret's ``encryptedData`` is re-sealed for the run's test key from the case's
  cleartext, with the docs' scope (Bitnami's annotations), metadata and template kept.

Everything is applied first, then the operator starts (as a user who installs secretsync into a
cluster where the objects already are), and then every case is judged until it holds or the
deadline passes.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import dataclasses
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final, Protocol

from secretsync import crypto, sealing
from tests.corpus.backends import Backends
from tests.corpus.model import (
    BITNAMI_API,
    ESO_API,
    OURS,
    BitnamiCase,
    Doc,
    EsoCase,
    Expectation,
    Fails,
    Match,
    Refused,
    SecretOut,
    Untouched,
    key_of,
)

OPERATOR_NS: Final = "secretsync-system"
BITNAMI_KEY_LABEL: Final = "sealedsecrets.bitnami.com/sealed-secrets-key"
COMPAT_FLAGS: Final = ("--eso-compat", "--bitnami-compat", "--bitnami-keys")
OUR_PREFIX: Final = "secretsync.io/"
STORE_KINDS: Final = ("SecretStore", "ClusterSecretStore")
CLUSTER_SCOPED: Final = ("ClusterSecretStore", "Namespace")
_PLURALS: Final = {
    "ExternalSecret": "externalsecrets",
    "SecretStore": "secretstores",
    "ClusterSecretStore": "clustersecretstores",
    "SealedSecret": "sealedsecrets",
    "Secret": "secrets",
    "ConfigMap": "configmaps",
    "ServiceAccount": "serviceaccounts",
    "Event": "events",
}
UNTOUCHED_SETTLE: Final = 4.0
"""How long after the operator is ready an object of another controller must still be untouched."""


class Api(Protocol):
    """What the runner needs of an API server: the emulator and the real one both answer this."""

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]: ...


def api_path(api_version: str, kind: str, namespace: str | None, name: str | None = None) -> str:
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    where = f"/namespaces/{namespace}" if namespace and kind not in CLUSTER_SCOPED else ""
    return f"{base}{where}/{_PLURALS[kind]}" + (f"/{name}" if name else "")


def namespace_of(case_id: str, mode: str) -> str:
    return f"{mode[:2]}-{case_id}"[:63].rstrip("-")


def api_of(doc: Mapping[str, Any], mode: str) -> str:
    api = str(doc["apiVersion"])
    return OURS if mode == "changed" and api in (ESO_API, BITNAMI_API) else api


# --------------------------------------------------------------------------- preparing manifests


def _refs(node: Any) -> Iterator[dict[str, Any]]:
    """Every ``{name, namespace}`` reference under ``node``."""
    if isinstance(node, dict):
        if "name" in node and "namespace" in node and isinstance(node["namespace"], str):
            yield node
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _store_refs(es: Doc) -> Iterator[dict[str, Any]]:
    spec = es.get("spec") or {}
    if spec.get("secretStoreRef"):
        yield spec["secretStoreRef"]
    for entry in [*(spec.get("data") or []), *(spec.get("dataFrom") or [])]:
        store = ((entry or {}).get("sourceRef") or {}).get("storeRef")
        if store:
            yield store


def place(docs: list[Doc], namespace: str, mode: str) -> list[Doc]:
    """The case's documents in its namespace, in ``mode``, ClusterSecretStores renamed."""
    docs = copy.deepcopy(docs)
    renamed = {}
    for doc in docs:
        if doc["kind"] == "ClusterSecretStore":
            old = doc["metadata"]["name"]
            renamed[old] = doc["metadata"]["name"] = f"{old}-{namespace}"[:253]
    for doc in docs:
        doc["apiVersion"] = api_of(doc, mode)
        if doc["kind"] not in CLUSTER_SCOPED:
            doc.setdefault("metadata", {})["namespace"] = namespace
        if doc["kind"] in STORE_KINDS:
            for ref in _refs(doc.get("spec")):
                ref["namespace"] = namespace
        if doc["kind"] == "ExternalSecret":
            for ref in _store_refs(doc):
                if ref.get("kind") == "ClusterSecretStore":
                    if ref.get("name") not in renamed:
                        raise AssertionError(f"ClusterSecretStore {ref.get('name')!r} is not in the case")
                    ref["name"] = renamed[ref["name"]]
    return docs


def reseal(doc: Doc, plain: Mapping[str, str], cert_pem: bytes) -> None:
    """Replace ``spec.encryptedData`` with ``plain`` sealed for ``doc``'s place and scope."""
    meta = doc["metadata"]
    scope = sealing.scope_from_annotations(meta.get("annotations")) or "strict"
    label = crypto.scope_label(scope, meta.get("namespace"), meta.get("name"))
    sealer = crypto.load_certificate(cert_pem).sealer()
    doc["spec"]["encryptedData"] = sealer.seal_all({k: v.encode() for k, v in plain.items()}, label)


def kubeseal(secret: Doc, cert_pem: bytes) -> Doc:
    """What ``kubeseal`` makes of ``secret`` (the namespace is the case's)."""
    plain = copy.deepcopy(secret)
    sealer = crypto.load_certificate(cert_pem).sealer()
    sealed: Doc = sealing.seal_secret(plain, sealer)
    sealed["apiVersion"] = BITNAMI_API
    return sealed


# --------------------------------------------------------------------------- outcomes


@dataclasses.dataclass
class Outcome:
    problems: list[str]
    waited: float


def _decoded(secret: Mapping[str, Any]) -> dict[str, bytes]:
    return {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}


def _same(expected: bytes | str | Match, got: bytes | str) -> bool:
    if isinstance(expected, Match):
        return expected(got.encode() if isinstance(got, str) else got)
    return expected == got


def _mapping_problems(what: str, expected: Mapping[str, Any], got: Mapping[str, Any]) -> list[str]:
    problems = []
    if set(expected) != set(got):
        problems.append(f"{what} keys {sorted(got)} != {sorted(expected)}")
    for key in sorted(set(expected) & set(got)):
        if not _same(expected[key], got[key]):
            shown = got[key] if isinstance(got[key], str) else got[key][:200]
            problems.append(f"{what}[{key!r}] = {shown!r}, expected {expected[key]!r}")
    return problems


def _ours_aside(values: Mapping[str, str] | None) -> dict[str, str]:
    return {k: v for k, v in (values or {}).items() if not k.startswith(OUR_PREFIX)}


def condition(obj: Mapping[str, Any] | None, type_: str) -> dict[str, Any] | None:
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_:
            return dict(cond)
    return None


@dataclasses.dataclass
class Prepared:
    """One case in one mode: its namespace and documents, and how to judge it."""

    case: EsoCase | BitnamiCase | Refused
    namespace: str
    docs: list[Doc]
    expect: tuple[Expectation, ...]
    refused_with: str | None = None  # the API server's answer, for a Refused case


class Corpus:
    """One mode of the corpus on one API server with one set of backends."""

    def __init__(self, api: Api, backends: Backends, mode: str, cert_pem: bytes) -> None:
        self.api = api
        self.backends = backends
        self.mode = mode
        self.cert_pem = cert_pem
        self.prepared: dict[str, Prepared] = {}
        self.outcomes: dict[str, Outcome] = {}
        self.started = 0.0

    # ------------------------------------------------------------------ API helpers

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        status, body = self.api.request("GET", api_path(api_version, kind, namespace, name))
        if status == 404:
            return None
        assert status == 200, (status, body)
        return dict(body)

    def create(self, doc: Doc) -> tuple[int, Any]:
        meta = doc.get("metadata") or {}
        path = api_path(doc["apiVersion"], doc["kind"], meta.get("namespace"))
        return self.api.request("POST", path, doc)

    def must_create(self, doc: Doc) -> None:
        status, body = self.create(doc)
        if status == 409:
            return  # e.g. the ServiceAccount two stores name
        if status not in (200, 201):
            message = body.get("message") if isinstance(body, dict) else body
            raise AssertionError(f"{key_of(doc)} in {doc['metadata'].get('namespace')}: {status} {message}")

    def namespace(self, name: str) -> None:
        status, body = self.api.request(
            "POST",
            "/api/v1/namespaces",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
        )
        assert status in (200, 201, 409), (status, body)

    # ------------------------------------------------------------------ preparing

    def add_eso(self, case: EsoCase) -> None:
        if self.mode not in case.modes:
            return
        namespace = namespace_of(case.id, self.mode)
        docs = place(case.documents(), namespace, self.mode)
        self.prepared[case.id] = Prepared(case, namespace, docs, case.expect)

    def add_bitnami(self, case: BitnamiCase) -> None:
        namespace = namespace_of(case.id, self.mode)
        if case.source is not None:
            docs = [d for d in case.source.load() if d.get("kind") == "SealedSecret"]
            assert len(docs) == 1, f"{case.id}: {len(docs)} SealedSecrets in {case.source}"
            sealed = docs[0]
        else:
            assert case.secret is not None, case.id
            secret = copy.deepcopy(case.secret)
            secret.setdefault("metadata", {})["namespace"] = namespace
            sealed = kubeseal(secret, self.cert_pem)
        from tests.corpus.model import complete

        all_docs = [sealed, *copy.deepcopy(list(case.setup))]
        complete(all_docs, case.completions)
        placed = place(all_docs, namespace, self.mode)
        reseal(placed[0], case.plain, self.cert_pem)
        # the Secret to adopt exists before the SealedSecret (the order of creation below)
        self.prepared[case.id] = Prepared(case, namespace, [*placed[1:], placed[0]], (case.expect,))

    def add_refused(self, case: Refused) -> None:
        namespace = namespace_of(case.id, self.mode)
        (doc,) = place([case.document()], namespace, self.mode)
        expect: tuple[Expectation, ...] = ()
        if self.mode == "untouched":
            # The old tool's CRD takes it: the operator must say what it does not support.
            expect = (Fails(case.object, case.messages[0]),)
        self.prepared[case.id] = Prepared(case, namespace, [doc], expect)

    def apply(self) -> None:
        """Create every prepared case (namespaces, backend values, credentials, manifests)."""
        for prepared in self.prepared.values():
            self.namespace(prepared.namespace)
        extra: list[Doc] = []
        for prepared in self.prepared.values():
            for doc in prepared.docs:
                if doc["kind"] in STORE_KINDS and not isinstance(prepared.case, Refused):
                    extra += self.backends.point(doc, prepared.namespace)
                    if isinstance(prepared.case, EsoCase) and _has_backend(doc):
                        self.backends.seed(doc, dict(prepared.case.remote))
        self.backends.enable_kubernetes_auth()
        for doc in _merged(extra):
            self.must_create(doc)
        for prepared in self.prepared.values():
            for doc in prepared.docs:
                if isinstance(prepared.case, Refused):
                    status, body = self.create(doc)
                    message = body.get("message") if isinstance(body, dict) else str(body)
                    if status not in (200, 201):
                        prepared.refused_with = f"{status} {message}"
                else:
                    self.must_create(doc)

    def key_secret(self, key_pem: bytes) -> Doc:
        """The run's sealing key, where Bitnami keeps its keys' label (read with --bitnami-keys)."""
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "metadata": {
                "name": f"sealed-secrets-key{uuid.uuid4().hex[:5]}",
                "namespace": OPERATOR_NS,
                "labels": {BITNAMI_KEY_LABEL: "active"},
            },
            "data": {
                "tls.key": base64.b64encode(key_pem).decode(),
                "tls.crt": base64.b64encode(self.cert_pem).decode(),
            },
        }

    def operator_flags(self) -> list[str]:
        return [*COMPAT_FLAGS] if self.mode == "untouched" else ["--bitnami-keys"]

    # ------------------------------------------------------------------ judging

    def judge(self, prepared: Prepared) -> list[str]:
        if isinstance(prepared.case, Refused):
            if self.mode == "changed":
                return _refusal_problems(prepared.case, prepared.refused_with)
            if prepared.refused_with is not None:  # the old tool's own CRD refuses it too
                return [] if prepared.refused_with.startswith("422 ") else [prepared.refused_with]
        problems = []
        for expectation in prepared.expect:
            problems += self._expectation(prepared, expectation)
        if isinstance(prepared.case, EsoCase):
            problems += self._all_ready(prepared)
        return problems

    def _object(self, prepared: Prepared, ref: str) -> dict[str, Any] | None:
        kind, _, name = ref.partition("/")
        (doc,) = [d for d in prepared.docs if d["kind"] == kind and _original_name(d, prepared) == name]
        return self.get(doc["apiVersion"], kind, prepared.namespace, doc["metadata"]["name"])

    def _ready_type(self, kind: str) -> str:
        return "Synced" if kind == "SealedSecret" and self.mode == "untouched" else "Ready"

    def _expectation(self, prepared: Prepared, expectation: Expectation) -> list[str]:
        ns = prepared.namespace
        if isinstance(expectation, Fails):
            obj = self._object(prepared, expectation.object)
            cond = condition(obj, self._ready_type(expectation.object.partition("/")[0]))
            problems = []
            if cond is None or cond.get("status") != "False":
                problems.append(f"{expectation.object}: condition {cond}, expected False")
            elif expectation.message not in str(cond.get("message")):
                problems.append(
                    f"{expectation.object}: message {cond.get('message')!r} lacks {expectation.message!r}"
                )
            if expectation.secret and self.get("v1", "Secret", ns, expectation.secret) is not None:
                problems.append(f"Secret {expectation.secret} exists")
            return problems
        if isinstance(expectation, Untouched):
            obj = self._object(prepared, expectation.object)
            problems = []
            if obj is not None and obj.get("status"):
                problems.append(f"{expectation.object} has a status: {obj['status']}")
            if self.get("v1", "Secret", ns, expectation.secret) is not None:
                problems.append(f"Secret {expectation.secret} exists")
            if time.monotonic() - self.started < UNTOUCHED_SETTLE:
                problems.append("not settled yet")
            return problems
        return self._secret_problems(prepared, expectation)

    def _secret_problems(self, prepared: Prepared, want: SecretOut) -> list[str]:
        secret = self.get("v1", "Secret", prepared.namespace, want.name)
        if secret is None:
            return [f"no Secret {want.name}"]
        meta = secret["metadata"]
        problems = _mapping_problems("data", want.data, _decoded(secret))
        if secret.get("type", "Opaque") != want.type:
            problems.append(f"type {secret.get('type')!r} != {want.type!r}")
        problems += _mapping_problems("labels", want.labels, _ours_aside(meta.get("labels")))
        problems += _mapping_problems("annotations", want.annotations, _ours_aside(meta.get("annotations")))
        if bool(secret.get("immutable")) != want.immutable:
            problems.append(f"immutable {secret.get('immutable')!r} != {want.immutable}")
        owners = [o for o in meta.get("ownerReferences") or [] if o.get("controller")]
        kinds = {"ExternalSecret", "SealedSecret"}
        owned = [o for o in owners if o.get("kind") in kinds]
        if want.owned and not owned:
            problems.append(f"no controller ownerReference: {meta.get('ownerReferences')}")
        if not want.owned and owned:
            problems.append(f"owned by {owned}, expected no owner")
        return problems

    def _all_ready(self, prepared: Prepared) -> list[str]:
        """Every ExternalSecret the case does not expect to fail or be left alone is Ready."""
        skipped = {e.object for e in prepared.expect if isinstance(e, Fails | Untouched)}
        problems = []
        for doc in prepared.docs:
            ref = f"{doc['kind']}/{_original_name(doc, prepared)}"
            if doc["kind"] != "ExternalSecret" or ref in skipped:
                continue
            cond = condition(
                self.get(doc["apiVersion"], doc["kind"], prepared.namespace, doc["metadata"]["name"]), "Ready"
            )
            if not cond or cond.get("status") != "True":
                problems.append(f"{ref} not Ready: {cond}")
        return problems

    def settle(self, timeout: float) -> dict[str, Outcome]:
        """Judge every case until it holds or ``timeout`` passes (from the operator's start)."""
        deadline = self.started + timeout
        pending = dict(self.prepared)
        last: dict[str, list[str]] = {}
        while True:
            for case_id, prepared in list(pending.items()):
                last[case_id] = self.judge(prepared)
                if not last[case_id]:
                    self.outcomes[case_id] = Outcome([], time.monotonic() - self.started)
                    del pending[case_id]
            if not pending or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        for case_id in pending:
            self.outcomes[case_id] = Outcome(last[case_id], time.monotonic() - self.started)
        return self.outcomes

    def statuses(self) -> Iterable[Any]:
        """Everything the operator wrote that a canary must not be in: statuses and events."""
        for prepared in self.prepared.values():
            for doc in prepared.docs:
                if doc["kind"] in ("ExternalSecret", *STORE_KINDS, "SealedSecret"):
                    obj = self.get(
                        doc["apiVersion"], doc["kind"], prepared.namespace, doc["metadata"]["name"]
                    )
                    yield (obj or {}).get("status")
            _status, events = self.api.request("GET", api_path("v1", "Event", prepared.namespace))
            yield events


def _original_name(doc: Doc, prepared: Prepared) -> str:
    name = str(doc["metadata"]["name"])
    suffix = f"-{prepared.namespace}"
    return name[: -len(suffix)] if doc["kind"] == "ClusterSecretStore" and name.endswith(suffix) else name


def _merged(docs: list[Doc]) -> list[Doc]:
    """Credential Secrets that several references name once, with all their keys."""
    out: dict[tuple[str, str, str | None], Doc] = {}
    for doc in docs:
        key = (doc["kind"], doc["metadata"]["name"], doc["metadata"].get("namespace"))
        if key in out and doc["kind"] == "Secret":
            out[key]["data"] = {**out[key].get("data", {}), **doc.get("data", {})}
        else:
            out.setdefault(key, copy.deepcopy(doc))
    return list(out.values())


def _has_backend(store: Doc) -> bool:
    return bool({"vault", "aws", "gcpsm"} & set(store["spec"].get("provider") or {}))


def _refusal_problems(case: Refused, answer: str | None) -> list[str]:
    if answer is None or not answer.startswith("422 "):
        return [f"{case.object} was not refused with 422: {answer}"]
    return [f"the answer lacks {m!r}: {answer}" for m in case.messages if m not in answer]


def leaks(texts: Iterable[Any], canaries: Iterable[str]) -> list[str]:
    """The canaries (and their base64) found in any of ``texts``."""
    blob = "\n".join(t if isinstance(t, str) else json.dumps(t) for t in texts)
    found = []
    for canary in canaries:
        for form in (canary, base64.b64encode(canary.encode()).decode().rstrip("=")[:-2]):
            if re.search(re.escape(form), blob):
                found.append(form)
    return found


# --------------------------------------------------------------------------- one whole mode


def prepare(
    corpus: Corpus, eso: Iterable[EsoCase], bitnami: Iterable[BitnamiCase], refused: Iterable[Refused]
) -> None:
    for case in eso:
        corpus.add_eso(case)
    for bcase in bitnami:
        corpus.add_bitnami(bcase)
    for rcase in refused:
        corpus.add_refused(rcase)


class Operator(Protocol):
    def logs(self) -> str: ...

    def stop(self) -> None: ...


@contextlib.contextmanager
def run_mode(
    api: Api,
    backends: Backends,
    mode: str,
    start_operator: Callable[[list[str]], Operator],
    settle: float,
) -> Iterator[tuple[Corpus, Operator]]:
    """The whole corpus in ``mode``: applied, the operator started with ``start_operator(flags)``
    (it returns once the operator is ready), every case settled; cleaned up afterwards."""
    from tests.corpus import cases
    from tests.support.sealed_env import vector_key

    key_pem, cert_pem = vector_key(4096)
    corpus = Corpus(api, backends, mode, cert_pem)
    try:
        prepare(corpus, cases.ESO, cases.BITNAMI, cases.REFUSED)
        corpus.namespace(OPERATOR_NS)
        corpus.apply()
        corpus.must_create(corpus.key_secret(key_pem))
        operator = start_operator(corpus.operator_flags())
        try:
            corpus.started = time.monotonic()
            corpus.settle(settle)
            yield corpus, operator
        finally:
            operator.stop()
    finally:
        backends.cleanup()


def judge(corpus: Corpus, case: EsoCase | BitnamiCase | Refused) -> None:
    """Pass, fail, skip or xfail (strict) one case of a settled run, as a pytest outcome."""
    import pytest

    state, details = verdict(corpus, case.id, corpus.mode, getattr(case, "xfail", {}))
    if state == "skip":
        pytest.skip(details)
    if state == "xfail":
        pytest.xfail(details)
    if state == "xpass":
        pytest.fail(f"marked as differing ({details}) but it matched: remove the xfail")
    assert state == "pass", details


def verdict(corpus: Corpus, case_id: str, mode: str, xfail: Mapping[str, str]) -> tuple[str, str]:
    """("pass" | "fail" | "xfail" | "xpass" | "skip", details) for one case of a settled run."""
    outcome = corpus.outcomes.get(case_id)
    if outcome is None:
        return "skip", f"not run in mode {mode}"
    details = "\n".join(outcome.problems)
    expected = xfail.get(mode)
    if expected is None:
        return ("fail", details) if outcome.problems else ("pass", "")
    return ("xfail", f"{expected}\n{details}") if outcome.problems else ("xpass", expected)
