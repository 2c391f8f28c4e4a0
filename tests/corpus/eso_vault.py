"""ESO's Vault manifests: docs/provider/hashicorp-vault.md, its store snippets (token, AppRole,
kubernetes auth), the Jenkins and Anchore examples, and the dataFrom rewrite guide.

Vault semantics (providers/v1/vault/client_get.go, client_get_all_secrets.go): without
``property`` the value is Go's ``json.Marshal`` of the KV data (compact, keys sorted); a
``property`` is an exact key first, then a gjson path; ``find`` lists the store's mount
recursively and keys the result by the secret's full path under the mount (``find.path``
included), which the controller turns into a Secret key with ``/`` -> ``_``
(pkg/controllers/externalsecret/externalsecret_controller_secret.go, ConversionStrategy Default).
"""

from __future__ import annotations

from tests.corpus.eso_common import (
    CANARY,
    VAULT_APPROLE_STORE,
    VAULT_KUBERNETES_STORE,
    VAULT_MD,
    VAULT_TOKEN_STORE,
    ref,
    vault_store,
)
from tests.corpus.model import EsoCase, JsonObject, SecretOut, Untouched, Upstream, VaultKV

CONFIG = VaultKV(
    {"foo": {"nested": {"bar": "mysecret", "baz": "bang"}}}, {"environment": "dev", "component": "app-1"}
)
CONFIG_JSON = b'{"foo":{"nested":{"bar":"mysecret","baz":"bang"}}}'  # Go's json.Marshal, as the page shows
ELIDED_STORE = {
    # the page's ExternalSecrets elide the store ("# ..."): the page's own store, vault-backend
    "ExternalSecret/vault-example:spec.secretStoreRef": ref("vault-backend"),
}
# Vault KV v2 metadata ESO adds to custom_metadata (client_get.go: systemMetadataKeys)
SYSTEM_METADATA = {
    "created_time": r"\d{4}-\d\d-\d\dT[0-9:.]+Z",
    "current_version": r"\d+",
    "delete_version_after": r"\S+",
}

# One KV secret holds the Jenkins examples' properties: they read different ones of "my-kv".
MY_KV = VaultKV(
    {
        "github-ssh-access-username": "git",
        "github-ssh-access-private-key": f"-----BEGIN OPENSSH PRIVATE KEY-----\n{CANARY}\n",
        "harbor-chart-robot-username": "robot$chart",
        "harbor-chart-robot-token": f"harbor-{CANARY}",
    }
)
JENKINS_CSS = vault_store("vault-backend", cluster=True)  # the examples name it, docs/examples never show it
CSS_WHY = "the Jenkins/Anchore examples name ClusterSecretStore vault-backend without showing it"

CASES = (
    EsoCase(
        id="vault-docs-example",
        sources=(Upstream(VAULT_MD, block=0, docs=(0,)), Upstream(VAULT_MD, block=1)),
        # block 0's Secret vault-token holds "root", the dev server's token; the runner writes
        # ours into the Secret the store names, as for every store.
        provider="vault-token",
        features=("property", "metadataPolicy-fetch", "refreshInterval"),
        remote={"foo": VaultKV({"my-value": "s3cr3t"}, {"dev": "jdoe"})},
        expect=(
            SecretOut(
                "example-sync",
                {
                    "foobar": b"s3cr3t",  # the page's own output: foobar: czNjcjN0
                    # custom_metadata plus KV v2's own metadata, as JSON (client_get.go)
                    "tags": JsonObject({"dev": "jdoe"}, SYSTEM_METADATA),
                    "developer": b"jdoe",
                },
            ),
        ),
    ),
    EsoCase(
        id="vault-raw-values",
        sources=(VAULT_TOKEN_STORE, Upstream(VAULT_MD, block=2)),
        provider="vault-token",
        features=("no-property-json", "leading-slash-key"),
        completions={**ELIDED_STORE},
        remote={"dev/package.json": VaultKV({"version": "1.0.0", "name": "app"})},
        # "/dev/package.json": Vault cleans the empty segment (secret/data//dev/... is dev/...)
        expect=(SecretOut("vault-example", {"foobar": b'{"name":"app","version":"1.0.0"}'}),),
    ),
    EsoCase(
        id="vault-nested-values-approle",
        sources=(VAULT_APPROLE_STORE, Upstream(VAULT_MD, block=3)),
        provider="vault-approle",
        features=("gjson-property", "approle", "leading-slash-key"),
        completions={**ELIDED_STORE},
        remote={"dev/config": CONFIG},
        expect=(SecretOut("vault-example", {"foobar": b"mysecret"}),),  # the page: foobar=mysecret
    ),
    EsoCase(
        id="vault-multiple-nested-kubernetes",
        sources=(VAULT_KUBERNETES_STORE, Upstream(VAULT_MD, block=4)),
        provider="vault-kubernetes",
        features=("extract-property", "kubernetes-auth", "leading-slash-key"),
        completions={**ELIDED_STORE},
        remote={"dev/config": CONFIG},
        expect=(SecretOut("vault-example", {"bar": b"mysecret", "baz": b"bang"}),),  # the page's result
    ),
    EsoCase(
        id="vault-find-name-and-tags",
        sources=(VAULT_TOKEN_STORE, Upstream(VAULT_MD, block=5)),
        provider="vault-token",
        features=("find-name", "find-tags"),
        completions={**ELIDED_STORE},
        remote={"dev/config": CONFIG, "prod/config": VaultKV({"x": "y"}, {"environment": "prod"})},
        expect=(SecretOut("vault-example", {"dev_config": CONFIG_JSON}),),  # the page's result
    ),
    EsoCase(
        id="vault-find-path",
        sources=(VAULT_TOKEN_STORE, Upstream(VAULT_MD, block=6)),
        provider="vault-token",
        features=("find-path", "find-tags"),
        completions={**ELIDED_STORE},
        remote={"dev/config": CONFIG, "prod/config": VaultKV({"x": "y"}, {"environment": "dev"})},
        # The page says the key becomes "config"; ESO's code keys it by the full path under the
        # mount (listSecrets: fullPath = path + name), so "dev/config" -> "dev_config".
        expect=(SecretOut("vault-example", {"dev_config": CONFIG_JSON}),),
    ),
    EsoCase(
        id="vault-controller-class",
        sources=(Upstream("docs/snippets/controller-class-store.yaml"), Upstream(VAULT_MD, block=3)),
        provider="vault-kubernetes",
        features=("controller-class",),
        # the store is for the controller started with --controller-class custom; ours is "default".
        # The snippet's kubernetes auth names no ServiceAccount (ESO would use its own pod's token,
        # which secretsync never lends: refused.py); the page's store names one.
        completions={
            "ExternalSecret/vault-example:spec.secretStoreRef": ref("controller-custom-example"),
            "SecretStore/controller-custom-example:spec.provider.vault.auth.kubernetes.serviceAccountRef": {
                "name": "my-sa"
            },
        },
        expect=(Untouched("ExternalSecret/vault-example", "vault-example"),),
    ),
    EsoCase(
        id="vault-jenkins-github-ssh",
        sources=(Upstream("docs/snippets/vault-jenkins-credential-github-ssh-access-external-secret.yaml"),),
        provider="vault-token",
        features=("helm-escaped-template", "template-metadata", "cluster-store"),
        helm=True,  # docs/examples/jenkins-kubernetes-credentials.md: these go through Helm
        extra=(JENKINS_CSS,),
        remote={"my-kv": MY_KV},
        expect=(
            SecretOut(
                "github-ssh-access",
                {
                    "username": b"git",
                    "privateKey": f"-----BEGIN OPENSSH PRIVATE KEY-----\n{CANARY}\n".encode(),
                },
                labels={"jenkins.io/credentials-type": "basicSSHUserPrivateKey"},
                annotations={"jenkins.io/credentials-description": "github-ssh-access key"},
            ),
        ),
    ),
    EsoCase(
        id="vault-jenkins-harbor",
        sources=(Upstream("docs/snippets/vault-jenkins-credential-harbor-chart-robot-external-secret.yaml"),),
        provider="vault-token",
        features=("helm-escaped-template", "template-metadata", "cluster-store"),
        helm=True,
        extra=(JENKINS_CSS,),
        remote={"my-kv": MY_KV},
        expect=(
            SecretOut(
                "harbor-chart-robot",
                {"username": b"robot$chart", "password": f"harbor-{CANARY}".encode()},
                labels={"jenkins.io/credentials-type": "usernamePassword"},
                annotations={"jenkins.io/credentials-description": "harbor chart robot"},
            ),
        ),
    ),
    EsoCase(
        id="vault-jenkins-sonarqube",
        sources=(
            Upstream("docs/snippets/vault-jenkins-credential-sonarqube-api-token-external-secret.yaml"),
        ),
        provider="vault-token",
        features=("helm-escaped-template", "template-metadata", "cluster-store"),
        helm=True,
        extra=(JENKINS_CSS,),
        remote={"jenkins-credentials": VaultKV({"sonarqube-api-token": f"squ_{CANARY}"})},
        expect=(
            SecretOut(
                "sonarqube-api-token",
                {"text": f"squ_{CANARY}".encode()},
                labels={"jenkins.io/credentials-type": "secretText"},
                annotations={"jenkins.io/credentials-description": "sonarqube api token"},
            ),
        ),
    ),
    EsoCase(
        id="vault-anchore",
        sources=(Upstream("docs/snippets/vault-anchore-engine-access-credentials-external-secret.yaml"),),
        provider="vault-token",
        features=("helm-escaped-template", "cluster-store", "toString"),
        helm=True,
        extra=(JENKINS_CSS,),
        remote={
            "anchore-engine": VaultKV(
                {
                    "ANCHORE_ADMIN_USERNAME": "admin",
                    "ANCHORE_ADMIN_PASSWORD": f"a-{CANARY}",
                    "ANCHORE_DB_PASSWORD": f"d-{CANARY}",
                    "db-url": "postgresql://anchore-db:5432/anchore",
                    "db-user": "anchore",
                    "postgres-password": f"p-{CANARY}",
                }
            )
        },
        expect=(
            SecretOut(
                "anchore-access-credentials",
                {
                    "ANCHORE_ADMIN_USERNAME": b"admin",
                    "ANCHORE_ADMIN_PASSWORD": f"a-{CANARY}".encode(),
                    "ANCHORE_DB_PASSWORD": f"d-{CANARY}".encode(),
                    "db-url": b"postgresql://anchore-db:5432/anchore",
                    "db-user": b"anchore",
                    "postgres-password": f"p-{CANARY}".encode(),
                },
            ),
        ),
    ),
    EsoCase(
        id="rewrite-conflict",
        sources=(Upstream("docs/snippets/datafrom-rewrite-conflict.yaml"),),
        provider="vault-token",
        features=("extract", "rewrite-regexp"),
        extra=(vault_store("backend"),),  # the snippet names SecretStore "backend" only
        remote={
            "my-secrets-dev": VaultKV({"password": "bar"}),
            "my-secrets-prod": VaultKV({"password": "safebar"}),
        },
        # The guide shows dev_password/prod_password; the rewrite's target is "dev-$1", and Go's
        # ReplaceAllString gives "dev-password" (no conversion runs after a rewrite).
        expect=(SecretOut("secret-to-be-created", {"dev-password": b"bar", "prod-password": b"safebar"}),),
    ),
    EsoCase(
        id="rewrite-invalid-characters",
        sources=(Upstream("docs/snippets/datafrom-rewrite-invalid-characters.yaml"),),
        provider="vault-token",
        features=("extract", "rewrite-regexp"),
        extra=(vault_store("backend"),),
        remote={"development": VaultKV({"foo/bar": "1111", "foo$baz": "2222"})},
        expect=(SecretOut("secret-to-be-created", {"foo_bar": b"1111", "foo_baz": b"2222"}),),  # the guide's
    ),
    EsoCase(
        id="rewrite-merge-empty",
        sources=(Upstream("docs/snippets/datafrom-rewrite-merge-empty.yaml"),),
        provider="vault-token",
        features=("find-path", "rewrite-merge", "default-target-name"),
        extra=(vault_store("vault-backend"),),
        remote={
            "path/to/secrets/object-storage-credentials": VaultKV(
                {"ACCESS_KEY": "XXXX", "SECRET_KEY": "YYYY"}
            ),
            "path/to/secrets/mongo-credentials": VaultKV({"USERNAME": "XXXX", "PASSWORD": "YYYY"}),
            "path/to/secrets/unrelated": VaultKV({"OTHER": "no"}),
        },
        expect=(
            SecretOut(
                "merge-basic-example",  # no target.name: the ExternalSecret's name
                {"ACCESS_KEY": b"XXXX", "SECRET_KEY": b"YYYY", "USERNAME": b"XXXX", "PASSWORD": b"YYYY"},
            ),
        ),
    ),
)
