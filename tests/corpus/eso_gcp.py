"""ESO's GCP Secret Manager manifests: docs/provider/google-secrets-manager.md's service-account store
and ExternalSecret, the gcpsm-* snippets (a plain read, dataFrom, and the docker config, SSH and
TLS templates of docs/guides/common-k8s-secret-types.md) and docs/guides/all-keys-one-secret.md.

GCP semantics (providers/v1/gcp/secretmanager/client.go): ``GetSecret`` is AccessSecretVersion of
``version`` [latest] and returns the payload's bytes as stored (binary included); a ``property``
is the whole property as one escaped key first, then a gjson path; ``GetSecretMap``
(``dataFrom.extract``) unmarshals the payload into ``map[string]json.RawMessage``: strings
unquoted, anything else its raw text. Template values are the fetched bytes as strings (template
engine v2, the default of ESO's v1 API). The snippets name SecretStores they do not show
(``example``, ``gcp-store``): gcp_store gives them the page's service-account form.

Every case runs with the apiVersion changed only: ESO's gcpsm has no ``endpoint``, so a store
applied as ESO's cannot be pointed at the GCP fake; backends.point replaces ``auth`` with ours.

Skipped: the Workload Identity stores (gcpsm-wif-iam-secret-store.yaml,
gcpsm-wif-sa-secret-store.yaml, gcpsm-wif-sa-secret-store-with-explicit-name-and-location.yaml,
gcpsm-wif-non-native-iam-secret-store.yaml): ``auth.workloadIdentity`` and
``workloadIdentityFederation`` are refused by secretsync (tests/corpus/refused.py) and there is no
GKE metadata server or STS to emulate; gcpsm-wif-core-controller-secret-store.yaml: a namespaced
SecretStore without auth uses the operator's own identity, which secretsync allows only to a
ClusterSecretStore with ``spec.useOperatorIdentity`` (secretsync.tenancy), and the fake's
endpoint would turn it into an anonymous one anyway; the PushSecrets (google-secrets-manager.md
blocks 11-13: secretsync has no PushSecret); the CMEK and regional stores (blocks 14, 15): their
``location`` reads ``projects/P/locations/L/secrets/...``, and backends.py seeds global secrets
only; the ``secretVersionSelectionPolicy: LatestOrFetch`` store (block 16): refused by secretsync.
"""

from __future__ import annotations

import base64

from tests.corpus.eso_common import CANARY, gcp_store
from tests.corpus.fixtures import chain
from tests.corpus.model import EsoCase, GcpSecret, SecretOut, Upstream

CHANGED = ("changed",)  # ESO's gcpsm has no endpoint: see the module docstring

# A docker config as `docker login` writes it (indented): no property, so the payload is used as is.
_AUTH = base64.b64encode(f"robot:{CANARY}".encode()).decode()
DOCKER_CONFIG = (
    f'{{\n\t"auths": {{\n\t\t"registry.example.com": {{\n\t\t\t"auth": "{_AUTH}"\n\t\t}}\n\t}}\n}}'
)
SSH_KEY = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{CANARY}\n-----END OPENSSH PRIVATE KEY-----\n"
P12 = chain()  # leaf key, leaf, intermediate and root in one PKCS#12 archive without password

CASES = (
    EsoCase(
        id="gcp-external-secret",
        sources=(Upstream("docs/snippets/gcpsm-external-secret.yaml"),),
        provider="gcpsm",
        features=("get", "latest-version"),
        extra=(gcp_store("gcp-store"),),  # the snippet names it only
        remote={
            "database_username": GcpSecret(("admin",)),
            # "latest" is the newest version
            "database_password": GcpSecret((f"old-{CANARY}", f"new-{CANARY}")),
        },
        modes=CHANGED,
        expect=(
            SecretOut(
                "database-credentials",
                {"database_username": b"admin", "database_password": f"new-{CANARY}".encode()},
            ),
        ),
    ),
    EsoCase(
        id="gcp-sa-store",
        # the page's service-account store (its block 10 includes the snippet) and the
        # ExternalSecret the page shows for demo-store
        sources=(
            Upstream("docs/snippets/gcpsm-sa-secret-store.yaml"),
            Upstream("docs/snippets/gcpsm-wif-externalsecret.yaml"),
        ),
        provider="gcpsm",
        features=("service-account-store", "get"),
        remote={"demo-secret": GcpSecret((f"demo-{CANARY}",))},
        modes=CHANGED,
        expect=(SecretOut("secret-to-be-created", {"DEMO_SECRET": f"demo-{CANARY}".encode()}),),
    ),
    EsoCase(
        id="gcp-data-from",
        sources=(Upstream("docs/snippets/gcpsm-data-from-external-secret.yaml"),),
        provider="gcpsm",
        features=("extract", "latest-version"),
        extra=(gcp_store("example"),),
        remote={
            # docs/guides/all-keys-one-secret.md: a JSON string with keys username and surname
            "all-keys-example-secret": GcpSecret(
                ('{"username":"old"}', f'{{"username": "jdoe-{CANARY}", "surname": "Doe"}}')
            ),
        },
        modes=CHANGED,
        # the guide reads .data.username and .data.surname of secret-to-be-created
        expect=(
            SecretOut("secret-to-be-created", {"username": f"jdoe-{CANARY}".encode(), "surname": b"Doe"}),
        ),
    ),
    EsoCase(
        id="gcp-docker-config",
        sources=(Upstream("docs/snippets/gcpsm-docker-config-externalsecret.yaml"),),
        provider="gcpsm",
        features=("template", "toString", "secret-type"),
        extra=(gcp_store("example"),),
        remote={"docker-config-example": GcpSecret((DOCKER_CONFIG,))},
        modes=CHANGED,
        # docs/guides/common-k8s-secret-types.md: the payload, as is, in .dockerconfigjson
        expect=(
            SecretOut(
                "secret-to-be-created",
                {".dockerconfigjson": DOCKER_CONFIG.encode()},
                type="kubernetes.io/dockerconfigjson",
            ),
        ),
    ),
    EsoCase(
        id="gcp-docker-config-helm",
        sources=(Upstream("docs/snippets/gcpsm-docker-config-helm-externalsecret.yaml"),),
        provider="gcpsm",
        features=("template", "helm-escaped-template", "engineVersion-v2", "secret-type"),
        helm=True,  # the guide's variant for a Helm chart: {{ `{{ .mysecret }}` }}
        extra=(gcp_store("example"),),
        remote={"docker-config-example": GcpSecret((DOCKER_CONFIG,))},
        modes=CHANGED,
        expect=(
            SecretOut(
                "secret-to-be-created",
                {".dockerconfigjson": DOCKER_CONFIG.encode()},
                type="kubernetes.io/dockerconfigjson",
            ),
        ),
    ),
    EsoCase(
        id="gcp-ssh-auth",
        sources=(Upstream("docs/snippets/gcpsm-ssh-auth-externalsecret.yaml"),),
        provider="gcpsm",
        features=("template", "toString", "secret-type"),
        extra=(gcp_store("example"),),
        remote={"ssh-priv-key-example": GcpSecret((SSH_KEY,))},
        modes=CHANGED,
        expect=(
            SecretOut(
                "secret-to-be-created", {"ssh-privatekey": SSH_KEY.encode()}, type="kubernetes.io/ssh-auth"
            ),
        ),
    ),
    EsoCase(
        id="gcp-tls-pkcs12",
        sources=(Upstream("docs/snippets/gcpsm-tls-externalsecret.yaml"),),
        provider="gcpsm",
        features=("template", "pkcs12cert", "pkcs12key", "binary", "secret-type"),
        extra=(gcp_store("example"),),
        remote={"ssl-certificate-p12-example": GcpSecret((P12.p12,))},
        modes=CHANGED,
        # runtime/template/v2/pkcs12.go: pkcs12cert is the leaf then the archive's CA certificates,
        # ordered leaf -> root by fetchCertChains when their key ids link them (else in archive
        # order, which is the same here); pkcs12key is the key as PKCS#8 "PRIVATE KEY" PEM.
        expect=(
            SecretOut(
                "secret-to-be-created",
                {"tls.crt": P12.leaf_pem + P12.intermediate_pem + P12.root_pem, "tls.key": P12.key_pem},
                type="kubernetes.io/tls",
            ),
        ),
    ),
)
