"""ESO's own manifests that use what secretsync does not implement: applied with the apiVersion
changed to secretsync.io/v1alpha1, the API server refuses each with a 422 that names the field
and says what to use instead.

Each field is declared in crds/ (an undeclared one would be pruned silently: the feature would
just not happen) and refused by one CEL rule (``x-kubernetes-validations``) whose message is
secretsync/model/refusals.py's ``UNSUPPORTED`` text; the rule's ``fieldPath`` puts the field's
path in front of it. What ESO itself does with each field: the ``why`` of each case.

Not here: the ``engineVersion: v1`` snippets (ESO v1's own CRD refuses them, so they are no
manifest a user has). The generator examples have no ``spec.secretStoreRef``; a CEL rule (not
``required``) asks for it, so the API server's answer names the generator's ``sourceRef`` too.
"""

from __future__ import annotations

from tests.corpus.model import DELETE, Refused, Upstream

_VAULT_MD = "docs/provider/hashicorp-vault.md"
_GCP_MD = "docs/provider/google-secrets-manager.md"
_OTHER_AUTH = "is not supported; use tokenSecretRef, appRole or kubernetes"
# Where the docs elide a store's auth ("# ...", "..."): a token, which secretsync supports, so
# that the one unsupported field is the only thing refused.
_TOKEN_AUTH = {"tokenSecretRef": {"name": "vault-token", "key": "token"}}
_CA_BUNDLE = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="  # base64 of a PEM header: well-formed, not used
_SOURCE_REF = "ESO's sourceRef (per-entry stores and generators) is not supported"

CASES: tuple[Refused, ...] = (
    Refused(
        id="refused-per-entry-store-ref",
        source=Upstream("docs/snippets/rsadecrypt-template-v2-external-secret.yaml"),
        object="ExternalSecret/rsa-decrypt-template-v2",
        messages=("spec.data[0].sourceRef", _SOURCE_REF, "use spec.secretStoreRef"),
        why="ESO reads data[0] from another store (sourceRef.storeRef, the kubernetes provider) than "
        "the rest; secretsync reads all of an ExternalSecret from its one spec.secretStoreRef",
        # the snippet elides the rest of spec ("# ..."): its default store
        completions={"ExternalSecret/rsa-decrypt-template-v2:spec.secretStoreRef": {"name": "vault-backend"}},
    ),
    Refused(
        id="refused-aws-irsa",
        source=Upstream("docs/provider/aws-access.md", block=3),
        object="SecretStore/secretstore-sample",
        messages=(
            "spec.provider.aws.auth.jwt",
            "ESO's aws.auth.jwt is not supported",
            "spec.useOperatorIdentity: true",
        ),
        why="ESO exchanges a token of the namespace's ServiceAccount for the role it is annotated with "
        "(EKS IRSA); secretsync uses keys, or the operator's own identity in a ClusterSecretStore",
    ),
    Refused(
        id="refused-target-manifest",
        source=Upstream("docs/snippets/manifest-basic-configmap.yaml"),
        object="ExternalSecret/application-config",
        messages=(
            "spec.target.manifest",
            "ESO's target.manifest is not supported; secretsync writes Secrets only",
        ),
        why="ESO writes the values into a ConfigMap (any kind) here; secretsync writes only Secrets",
    ),
    Refused(
        id="refused-vault-jwt-auth",
        source=Upstream("docs/snippets/vault-jwt-store.yaml"),
        object="SecretStore/vault-backend",
        messages=("spec.provider.vault.auth.jwt", f"ESO's vault.auth.jwt {_OTHER_AUTH}"),
        why="Vault's JWT/OIDC auth method is not implemented (kubernetes auth covers the "
        "ServiceAccount-token case)",
    ),
    Refused(
        id="refused-vault-ldap-auth",
        source=Upstream("docs/snippets/vault-ldap-store.yaml"),
        object="SecretStore/vault-backend",
        messages=("spec.provider.vault.auth.ldap", f"ESO's vault.auth.ldap {_OTHER_AUTH}"),
        why="Vault's LDAP auth method is not implemented",
    ),
    Refused(
        id="refused-vault-userpass-auth",
        source=Upstream("docs/snippets/vault-userpass-store.yaml"),
        object="SecretStore/vault-backend",
        messages=("spec.provider.vault.auth.userPass", f"ESO's vault.auth.userPass {_OTHER_AUTH}"),
        why="Vault's userpass auth method is not implemented",
    ),
    Refused(
        id="refused-vault-iam-auth",
        source=Upstream("docs/snippets/vault-iam-store.yaml"),
        object="SecretStore/vault-backend-aws-iam",
        messages=("spec.provider.vault.auth.iam", f"ESO's vault.auth.iam {_OTHER_AUTH}"),
        why="Vault's AWS IAM auth method (signed sts:GetCallerIdentity, IRSA) is not implemented",
    ),
    Refused(
        id="refused-vault-client-tls",
        source=Upstream("docs/snippets/vault-mtls-store.yaml"),
        object="SecretStore/vault-backend",
        messages=("spec.provider.vault.tls", "ESO's vault.tls (client certificates) is not supported"),
        why="secretsync does not present a client certificate to Vault (mTLS)",
        completions={
            # the snippet's placeholders: "..." is no base64 CA bundle, and auth is elided ("...")
            "SecretStore/vault-backend:spec.provider.vault.caBundle": _CA_BUNDLE,
            "SecretStore/vault-backend:spec.provider.vault.auth": _TOKEN_AUTH,
        },
    ),
    Refused(
        id="refused-vault-check-and-set",
        source=Upstream(_VAULT_MD, block=21),
        object="SecretStore/vault-backend",
        messages=(
            "spec.provider.vault.checkAndSet",
            "ESO's vault.checkAndSet only applies to PushSecret, which secretsync does not have",
        ),
        why="check-and-set guards PushSecret's writes to Vault; secretsync never writes to a provider",
        completions={
            "SecretStore/vault-backend:spec.provider.vault.auth": _TOKEN_AUTH
        },  # "# ... authentication config"
    ),
    Refused(
        id="refused-aws-secretsmanager-push-config",
        source=Upstream("docs/snippets/aws-sm-store-secretsmanager-config.yaml"),
        object="SecretStore/aws-secretsmanager",
        messages=(
            "spec.provider.aws.secretsManager",
            "ESO's aws.secretsManager only applies to PushSecret, which secretsync does not have",
        ),
        why="forceDeleteWithoutRecovery/recoveryWindowInDays steer DeleteSecret calls of PushSecret; "
        "secretsync never deletes from a provider",
    ),
    Refused(
        id="refused-gcp-workload-identity",
        source=Upstream("docs/snippets/gcpsm-wif-sa-secret-store.yaml"),
        object="SecretStore/demo-store",
        messages=(
            "spec.provider.gcpsm.auth.workloadIdentity",
            "ESO's gcpsm.auth.workloadIdentity is not supported",
            "spec.useOperatorIdentity: true",
        ),
        why="ESO mints a token for a namespace's ServiceAccount and exchanges it (GKE Workload Identity); "
        "secretsync uses a key, or the operator's own identity in a ClusterSecretStore",
        # "[PROJECT_ID]" is a placeholder the reader replaces; as YAML it is a list, not a string
        completions={"SecretStore/demo-store:spec.provider.gcpsm.projectID": "my-project"},
    ),
    Refused(
        id="refused-gcp-latest-or-fetch",
        source=Upstream(_GCP_MD, block=16),
        object="SecretStore/gcp-secret-store",
        messages=(
            "spec.provider.gcpsm.secretVersionSelectionPolicy",
            "ESO's gcpsm.secretVersionSelectionPolicy LatestOrFetch is not supported",
            "use LatestOrFail",
        ),
        # the page still writes external-secrets.io/v1beta1, which ESO v1.x no longer serves
        # (its CRDs: v1beta1 served: false): as a user has it today, v1
        completions={"SecretStore/gcp-secret-store:apiVersion": "external-secrets.io/v1"},
        why="LatestOrFetch falls back to the newest enabled version when 'latest' is disabled or "
        "destroyed; secretsync fails then, as LatestOrFail does",
    ),
    Refused(
        id="refused-generator-password",
        source=Upstream("docs/snippets/generator-password-example.yaml"),
        object="ExternalSecret/password",
        messages=("spec.dataFrom[0].sourceRef", _SOURCE_REF, "spec.secretStoreRef is required"),
        why="ESO generates the value (a Password generator) instead of reading a store; secretsync "
        "reads stores only, so the API server names both the generator and the missing store",
    ),
    Refused(
        id="refused-generator-fake",
        source=Upstream("docs/snippets/generator-fake-example.yaml"),
        object="ExternalSecret/fake",
        messages=("spec.dataFrom[0].sourceRef", _SOURCE_REF, "(secretsync has no generators)"),
        why="ESO's Fake generator: as the Password one",
    ),
    Refused(
        id="refused-vault-kubernetes-own-token",
        source=Upstream("docs/snippets/controller-class-store.yaml"),
        object="SecretStore/controller-custom-example",
        messages=(
            "spec.provider.vault.auth.kubernetes",
            "kubernetes auth needs serviceAccountRef or secretRef",
            "never logs in with its own ServiceAccount token",
        ),
        why="with neither serviceAccountRef nor secretRef ESO logs in to Vault with its own pod's token: "
        "any tenant's store would borrow the operator's identity, which secretsync never lends",
        # the snippet's controller class would make every operator but "custom" leave it alone
        completions={"SecretStore/controller-custom-example:spec.controller": DELETE},
    ),
)
