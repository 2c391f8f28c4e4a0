"""ESO fields and providers secretsync does not implement, and the one message that refuses each."""

from __future__ import annotations

from typing import Final

OTHER_ESO_PROVIDERS: Final = (
    "akeyless",
    "azurekv",
    "bitwardensecretsmanager",
    "doppler",
    "gitlab",
    "ibm",
    "infisical",
    "kubernetes",
    "onepassword",
    "onepasswordSDK",
    "oracle",
    "webhook",
)
"""Common ESO providers, declared in the store CRDs only to be refused with a clear message."""
OTHER_VAULT_AUTH_METHODS: Final = ("ldap", "userPass", "jwt", "cert", "iam", "gcp")
"""ESO's other Vault auth methods, declared only to be refused."""

# ESO fields secretsync does not implement. Each one is DECLARED in the CRDs (a closed schema
# would otherwise let the API server prune it silently, for every client that does not ask for
# strict field validation: the feature would just not happen) and REFUSED by one CEL rule on its
# parent object whose message is exactly this text (tests/test_crds.py checks that, and that the
# model below refuses the same field with the same text for bodies that skipped the API server).
# Supporting one later: delete its entry here, its ``refused(...)`` in the schema below and its
# rule in crds/. Keys name the field as the schema below does (tests look them up).
_STS_TAGS: Final = "; roles are assumed without STS session tags"
_AMBIENT: Final = (
    "use auth.secretRef, or omit auth in a ClusterSecretStore with spec.useOperatorIdentity: true "
    "(the operator's own identity)"
)
_AMBIENT_GCP: Final = (
    "use auth.secretRef, or omit auth in a ClusterSecretStore with spec.useOperatorIdentity: true "
    "(Application Default Credentials, which cover GKE Workload Identity)"
)
UNSUPPORTED: Final[dict[str, str]] = {
    # ExternalSecret
    "syncWindows": "ESO's syncWindows is not supported; values are read again every refreshInterval",
    "engineVersion": "ESO's template engine v1 is not supported (ESO's v1 API dropped it too); use "
    "engineVersion v2 or omit it: Go text/template with Sprig",
    "target.manifest": "ESO's target.manifest is not supported; secretsync writes Secrets only",
    "template.metadata.finalizers": "ESO's target.template.metadata.finalizers is not supported; "
    "remove it (the Secret gets no finalizers)",
    "sourceRef": "ESO's sourceRef (per-entry stores and generators) is not supported; "
    "use spec.secretStoreRef (one store per ExternalSecret)",
    "nullBytePolicy": "ESO's nullBytePolicy Fail is not supported; omit it or use Ignore "
    "(values are written as fetched)",
    # SecretStore and ClusterSecretStore
    **{
        f"provider.{name}": f"provider {name} is not supported by secretsync; supported: "
        "vault, aws, gcpsm, fake"
        for name in OTHER_ESO_PROVIDERS
    },
    "vault.tls": "ESO's vault.tls (client certificates) is not supported; the Vault server must accept "
    "the connection without one (verify it with caBundle)",
    "vault.caProvider": "ESO's vault.caProvider is not supported; put the CA certificates in vault.caBundle "
    "(base64 of the PEM)",
    "vault.readYourWrites": "ESO's vault.readYourWrites is not supported; omit it or set false",
    "vault.forwardInconsistent": "ESO's vault.forwardInconsistent is not supported; omit it or set false",
    "vault.headers": "ESO's vault.headers is not supported; requests carry only Vault's own headers "
    "(token, namespace)",
    "vault.checkAndSet": "ESO's vault.checkAndSet only applies to PushSecret, which secretsync does not "
    "have; remove it",
    **{
        f"vault.auth.{method}": f"ESO's vault.auth.{method} is not supported; use tokenSecretRef, appRole or "
        "kubernetes"
        for method in OTHER_VAULT_AUTH_METHODS
    },
    "aws.auth.jwt": f"ESO's aws.auth.jwt is not supported; {_AMBIENT}",
    "aws.additionalRoles": "ESO's aws.additionalRoles (role chaining) is not supported; use one role",
    "aws.externalID": "ESO's aws.externalID is not supported; use a role whose trust policy needs no "
    "external ID",
    "aws.sessionTags": f"ESO's aws.sessionTags is not supported{_STS_TAGS}",
    "aws.transitiveTagKeys": f"ESO's aws.transitiveTagKeys is not supported{_STS_TAGS}",
    "aws.sessionTagsPolicy": f"ESO's aws.sessionTagsPolicy Simple and Custom are not supported; omit it "
    f"or use None{_STS_TAGS}",
    "aws.customSessionTags": f"ESO's aws.customSessionTags is not supported{_STS_TAGS}",
    "aws.secretsManager": "ESO's aws.secretsManager only applies to PushSecret, which secretsync does not "
    "have; remove it",
    "aws.prefix": "ESO's aws.prefix is not supported; put the whole name in each remoteRef.key",
    "gcpsm.auth.workloadIdentity": f"ESO's gcpsm.auth.workloadIdentity is not supported; {_AMBIENT_GCP}",
    "gcpsm.auth.workloadIdentityFederation": "ESO's gcpsm.auth.workloadIdentityFederation is not supported; "
    f"{_AMBIENT_GCP}",
    "gcpsm.secretVersionSelectionPolicy": "ESO's gcpsm.secretVersionSelectionPolicy LatestOrFetch is not "
    "supported; omit it or use LatestOrFail",
    "fake.validationResult": "ESO's fake.validationResult is not supported; a fake store is always valid",
}
