"""Bitnami Sealed Secrets' own manifests: README.md (overview, templates, scopes, raw mode, managing
existing Secrets, skipping owner references) and docs/examples/config-template.

Bitnami semantics (pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go, ``Unseal``): the
Secret gets the SealedSecret's own name and namespace, ``spec.template.metadata`` as it is
(labels, annotations), ``type`` and ``immutable``; ``data`` is every decrypted value plus each
``spec.template.data`` entry rendered as a Go text/template (with Sprig) over the decrypted values
as strings. The OAEP label, so the scope, comes from the SealedSecret's OWN annotations
(``labelFor(s.GetObjectMeta())``: ``sealedsecrets.bitnami.com/cluster-wide|namespace-wide: "true"``).
A controller ownerReference is set unless the TEMPLATE's annotations say
``sealedsecrets.bitnami.com/skip-set-owner-references: "true"``. kubeseal (``NewSealedSecret``;
pkg/kubeseal ``Seal``) copies the input Secret's whole metadata into the template, the scope
annotations included, and puts the scope annotations on the SealedSecret itself.

The controller (pkg/controller/controller.go, ``unseal``) creates the Secret, or takes over an
existing one that it controls or that is annotated ``sealedsecrets.bitnami.com/managed: "true"``:
data, labels, annotations and ownerReferences are then REPLACED by the unsealed Secret's (only
``sealedsecrets.bitnami.com/patch``, which secretsync refuses, merges). Any other existing Secret is
left alone: "Resource ... already exists and is not managed by SealedSecret".
"""

from __future__ import annotations

from tests.corpus.model import BitnamiCase, SecretOut, Upstream
from tests.support import upstream

README = "README.md"
NAMESPACE_WIDE = "sealedsecrets.bitnami.com/namespace-wide"
CLUSTER_WIDE = "sealedsecrets.bitnami.com/cluster-wide"
MANAGED = "sealedsecrets.bitnami.com/managed"
SKIP_OWNER = "sealedsecrets.bitnami.com/skip-set-owner-references"

# The README's first SealedSecret (mysecret in mynamespace, one value "foo"), which the raw-mode
# and the managing-existing-Secrets sections complete.
OVERVIEW = Upstream(README, block=0, module=upstream.BITNAMI)


def kubectl_secret(annotations: dict[str, str] | None = None) -> dict[str, object]:
    """What ``echo -n bar | kubectl create secret generic mysecret --dry-run=client
    --from-file=foo=/dev/stdin -o json`` prints (README "Usage"), with ``annotations`` added as
    the README has the reader add them to that Secret before kubeseal sees it."""
    metadata: dict[str, object] = {"name": "mysecret", "creationTimestamp": None}
    if annotations:
        metadata["annotations"] = annotations
    return {"kind": "Secret", "apiVersion": "v1", "metadata": metadata, "data": {"foo": "YmFy"}}


# A docker config for the README's dockerconfigjson template (the docs show only its sealed
# form, and the Secret's "ewogICJjcmVk..."): the API server checks it is a docker config JSON.
DOCKER_CONFIG = (
    '{"auths":{"registry.example.com":{"username":"jenkins","password":"hunter2-registry",'
    '"auth":"amVua2luczpodW50ZXIyLXJlZ2lzdHJ5"}}}'
)
# docs/examples/config-template: server1 as its README reseals it ("echo -n baz"); the others
# need escaping by Sprig's toJson, which is Go's json.Marshal: HTML characters become \u00XX.
CONFIG_VALUES = {"server1": "baz", "server2": 's3cr"et\\2', "database1": "<db&pw>"}
CONFIG_JSON = r"""{
       "Server": [{
                       "host": "foobar",
                       "ip": "10.10.10.12",
                       "port": "22",
                       "env": "SOME_ENV",
                       "user": "myuser",
                       "password": "baz",
                       "role": "foo"
               },{
                       "host": "barfoo",
                       "ip": "10.10.10.11",
                       "port": "22",
                       "env": "SOME_OTHER_STUFF",
                       "user": "otheruser",
                       "password": "s3cr\"et\\2",
                       "role": "foo"
               }
       ],
       "Database": [{
                       "host": "somedb",
                       "ip": "10.10.10.10",
                       "port": "1521",
                       "sid": "FOO",
                       "env": "BAZ",
                       "user": "abcdefg123",
                       "password": "\u003cdb\u0026pw\u003e",
                       "role": "foo"
               }
       ]
}
"""

CASES: tuple[BitnamiCase, ...] = (
    BitnamiCase(
        id="bitnami-overview-strict",
        source=OVERVIEW,
        plain={"foo": "bar"},
        features=("strict",),
        # README block 1, the Secret it unseals into: "foo: YmFy  # <- base64 encoded "bar""
        expect=SecretOut("mysecret", {"foo": b"bar"}),
    ),
    BitnamiCase(
        id="bitnami-usage-kubeseal",
        source=None,
        secret=kubectl_secret(),
        plain={"foo": "bar"},
        features=("strict", "kubeseal", "kubectl-default-namespace"),
        # README "Usage": "kubectl get secret mysecret" after "kubectl create -f
        # mysealedsecret.json"; kubeseal fills the namespace from the kubeconfig context.
        expect=SecretOut("mysecret", {"foo": b"bar"}),
    ),
    BitnamiCase(
        id="bitnami-template-dockerconfigjson",
        source=Upstream(README, block=2, module=upstream.BITNAMI),
        plain={".dockerconfigjson": DOCKER_CONFIG},
        features=("template-type", "template-labels", "template-annotations", "immutable"),
        # README block 3, "The controller would unseal that into": the template's labels,
        # annotations, type and immutable; not the SealedSecret's own last-applied annotation.
        expect=SecretOut(
            "mysecret",
            {".dockerconfigjson": DOCKER_CONFIG.encode()},
            type="kubernetes.io/dockerconfigjson",
            labels={"jenkins.io/credentials-type": "usernamePassword"},
            annotations={"jenkins.io/credentials-description": "credentials from Kubernetes"},
            immutable=True,
        ),
    ),
    BitnamiCase(
        id="bitnami-raw-namespace-wide",
        source=OVERVIEW,
        # README "Raw mode": "echo -n foo | kubeseal --raw --namespace bar --scope namespace-wide",
        # then "Include the sealedsecrets.bitnami.com/namespace-wide annotation" (block 4)
        completions={"SealedSecret/mysecret:metadata.annotations": {NAMESPACE_WIDE: "true"}},
        plain={"foo": "foo"},
        raw=True,
        features=("namespace-wide", "raw"),
        # the annotation is the SealedSecret's, not the template's: the Secret has none
        expect=SecretOut("mysecret", {"foo": b"foo"}),
    ),
    BitnamiCase(
        id="bitnami-raw-cluster-wide",
        source=OVERVIEW,
        # README "Raw mode": "echo -n foo | kubeseal --raw --scope cluster-wide" and block 5
        completions={"SealedSecret/mysecret:metadata.annotations": {CLUSTER_WIDE: "true"}},
        plain={"foo": "foo"},
        raw=True,
        features=("cluster-wide", "raw"),
        expect=SecretOut("mysecret", {"foo": b"foo"}),
    ),
    BitnamiCase(
        id="bitnami-scope-annotation-cluster-wide",
        source=None,
        # README "Scopes": "request a scope via annotations in the input secret you pass to
        # kubeseal: sealedsecrets.bitnami.com/cluster-wide: "true""
        secret=kubectl_secret({CLUSTER_WIDE: "true"}),
        plain={"foo": "bar"},
        features=("cluster-wide", "kubeseal", "scope-annotation"),
        # kubeseal copies the Secret's metadata, the annotation included, into the template
        # (NewSealedSecret), and Unseal copies the template's metadata to the Secret.
        expect=SecretOut("mysecret", {"foo": b"bar"}, annotations={CLUSTER_WIDE: "true"}),
    ),
    BitnamiCase(
        id="bitnami-config-template",
        source=Upstream("docs/examples/config-template/sealedsecret.yaml", module=upstream.BITNAMI),
        plain=CONFIG_VALUES,
        features=("template-data", "sprig-toJson", "template-metadata-name-namespace"),
        # The template's own name/namespace (example/default) and creationTimestamp: null are
        # copied and then overridden by the SealedSecret's ("Ensure these are set to what we
        # expect"). data: the decrypted values AND the rendered template key (Unseal fills
        # secret.Data with both); the example's README: "templating encrypted secret values into
        # a plaintext key template".
        expect=SecretOut(
            "example",
            {
                "server1": b"baz",
                "server2": b's3cr"et\\2',
                "database1": b"<db&pw>",
                "myconfig.json": CONFIG_JSON.encode(),
            },
        ),
    ),
    BitnamiCase(
        id="bitnami-managed-adoption",
        source=OVERVIEW,
        plain={"foo": "bar"},
        features=("managed", "adopt-existing"),
        # README "Managing existing secrets": an existing Secret annotated
        # sealedsecrets.bitnami.com/managed: "true" "will be overwritten when unsealing a
        # SealedSecret with the same name and namespace, and the SealedSecret will take
        # ownership". As kubectl create secret generic mysecret --from-literal=foo=old made it.
        setup=(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {
                    "name": "mysecret",
                    "namespace": "mynamespace",
                    "annotations": {MANAGED: "true"},
                },
                "data": {"foo": "b2xk"},
            },
        ),
        # controller.go: secret.Data, .Annotations, .Labels and .OwnerReferences replaced by
        # the unsealed Secret's: the template has no annotations, so "managed" is gone too.
        expect=SecretOut("mysecret", {"foo": b"bar"}),
    ),
    BitnamiCase(
        id="bitnami-skip-set-owner-references",
        source=None,
        # README "Seal secret which can skip set owner references": annotate the Secret with
        # skip-set-owner-references "ahead of applying the Usage steps", and "You still may also
        # add sealedsecrets.bitnami.com/managed" (without it Bitnami's controller creates the
        # ownerless Secret and then fails on it: "already exists and is not managed").
        secret=kubectl_secret({SKIP_OWNER: "true", MANAGED: "true"}),
        plain={"foo": "bar"},
        features=("skip-set-owner-references", "managed", "kubeseal"),
        # Unseal: no ownerReference when the template's annotations skip it; the template's
        # annotations are the Secret's.
        expect=SecretOut(
            "mysecret", {"foo": b"bar"}, annotations={SKIP_OWNER: "true", MANAGED: "true"}, owned=False
        ),
    ),
)
