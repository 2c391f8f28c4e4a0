"""The ``spec`` schemas of ExternalSecret, SecretStore and ClusterSecretStore, as in crds/."""

from __future__ import annotations

from typing import Final

from secretsync.model.fields import (
    CONVERSION_STRATEGIES,
    CREATION_POLICIES,
    DELETION_POLICIES,
    GO_DURATION,
    MAX_CONDITIONS,
    MAX_DATA_FROM,
    MAX_RETRIES,
    MAX_REWRITES,
    MAX_SELECTOR_TERMS,
    MAX_TEMPLATE_FROM,
    MAX_TEMPLATE_ITEMS,
    MERGE_CONFLICT_POLICIES,
    MERGE_POLICIES,
    MERGE_PRIORITY_POLICIES,
    MERGE_STRATEGIES,
    METADATA_POLICIES,
    REFRESH_POLICIES,
    SELECTOR_OPERATORS,
    STORE_KINDS,
    TEMPLATE_SCOPES,
    TEMPLATE_TARGETS,
)
from secretsync.model.refusals import OTHER_ESO_PROVIDERS, OTHER_VAULT_AUTH_METHODS
from secretsync.model.schema import (
    ANY,
    BOOL,
    DECODING,
    INT,
    KEY,
    MAP,
    NAME,
    NS,
    SECRET_KEY_REF,
    SERVICE_ACCOUNT_REF,
    STR,
    Node,
    array,
    integer,
    obj,
    refused,
    string,
)

# Strings compared in a CEL rule carry a maxLength: it bounds the rule's estimated cost.
_CONVERSION = string(enum=CONVERSION_STRATEGIES, max_length=16)
_NULL_BYTES = refused(string(enum=("Ignore", "Fail"), max_length=16), "nullBytePolicy", "Ignore")

_TEMPLATE_REF = obj(
    ("name", "items"),
    name=NAME,
    items=array(
        obj(("key",), key=KEY, templateAs=string(enum=TEMPLATE_SCOPES)), max_items=MAX_TEMPLATE_ITEMS
    ),
)
_TEMPLATE_FROM = obj(
    configMap=_TEMPLATE_REF,
    secret=_TEMPLATE_REF,
    literal=STR,
    target=string(enum=TEMPLATE_TARGETS),
)
_REWRITE = obj(
    regexp=obj(("source", "target"), source=STR, target=STR),
    transform=obj(("template",), template=STR),
    merge=obj(
        into=STR,
        priority=array(STR),
        priorityPolicy=string(enum=MERGE_PRIORITY_POLICIES, max_length=16),
        conflictPolicy=string(enum=MERGE_CONFLICT_POLICIES, max_length=16),
        strategy=string(enum=MERGE_STRATEGIES, max_length=16),
    ),
)

_REMOTE_REF = obj(
    ("key",),
    key=string(min_length=1),
    property=STR,
    version=STR,
    decodingStrategy=DECODING,
    conversionStrategy=_CONVERSION,
    metadataPolicy=string(enum=METADATA_POLICIES, max_length=16),
    nullBytePolicy=_NULL_BYTES,
)

ES_SPEC_SCHEMA: Final = obj(
    (),  # secretStoreRef is required by parse_external_secret, as by a CEL rule in the CRD
    secretStoreRef=obj(("name",), name=NAME, kind=string(enum=STORE_KINDS)),
    refreshInterval=string(pattern=GO_DURATION, hint="a Go duration such as 1h, 15m, 1h30m or 0"),
    refreshPolicy=string(enum=REFRESH_POLICIES),
    syncWindows=refused(ANY, "syncWindows"),
    target=obj(
        name=NAME,
        creationPolicy=string(enum=CREATION_POLICIES, max_length=16),
        deletionPolicy=string(enum=DELETION_POLICIES, max_length=16),
        immutable=BOOL,
        template=obj(
            type=STR,
            metadata=obj(
                labels=MAP,
                annotations=MAP,
                finalizers=refused(array(STR), "template.metadata.finalizers"),
            ),
            data=MAP,
            mergePolicy=string(enum=MERGE_POLICIES),
            engineVersion=refused(string(max_length=16), "engineVersion", "v2"),
            templateFrom=array(_TEMPLATE_FROM, max_items=MAX_TEMPLATE_FROM),
        ),
        manifest=refused(ANY, "target.manifest"),
    ),
    data=array(
        obj(
            ("secretKey", "remoteRef"),
            secretKey=KEY,
            remoteRef=_REMOTE_REF,
            sourceRef=refused(ANY, "sourceRef"),
        )
    ),
    dataFrom=array(
        obj(
            extract=_REMOTE_REF,
            find=obj(
                path=STR,
                name=obj(regexp=STR),
                tags=MAP,
                conversionStrategy=_CONVERSION,
                decodingStrategy=DECODING,
                nullBytePolicy=_NULL_BYTES,
            ),
            rewrite=array(_REWRITE, max_items=MAX_REWRITES),
            sourceRef=refused(ANY, "sourceRef"),
        ),
        max_items=MAX_DATA_FROM,
    ),
)
"""``spec`` of an ExternalSecret, as in crds/externalsecrets.yaml."""

_VAULT = obj(
    ("server",),
    server=string(min_length=1),
    path=STR,
    version=string(enum=("v1", "v2")),
    namespace=STR,
    caBundle=string(format="byte"),
    auth=obj(
        namespace=STR,
        tokenSecretRef=SECRET_KEY_REF,
        appRole=obj(
            ("secretRef",),
            path=STR,
            roleId=STR,
            roleRef=SECRET_KEY_REF,
            secretRef=SECRET_KEY_REF,
        ),
        kubernetes=obj(
            ("role",),
            mountPath=STR,
            role=string(min_length=1),
            serviceAccountRef=SERVICE_ACCOUNT_REF,
            secretRef=SECRET_KEY_REF,
        ),
        **{method: refused(ANY, f"vault.auth.{method}") for method in OTHER_VAULT_AUTH_METHODS},
    ),
    tls=refused(ANY, "vault.tls"),
    caProvider=refused(ANY, "vault.caProvider"),
    readYourWrites=refused(BOOL, "vault.readYourWrites", False),
    forwardInconsistent=refused(BOOL, "vault.forwardInconsistent", False),
    headers=refused(MAP, "vault.headers"),
    checkAndSet=refused(ANY, "vault.checkAndSet"),
)
_AWS = obj(
    ("service", "region"),
    service=string(enum=("SecretsManager", "ParameterStore")),
    region=string(min_length=1),
    role=STR,
    auth=obj(
        secretRef=obj(
            ("accessKeyIDSecretRef", "secretAccessKeySecretRef"),
            accessKeyIDSecretRef=SECRET_KEY_REF,
            secretAccessKeySecretRef=SECRET_KEY_REF,
            sessionTokenSecretRef=SECRET_KEY_REF,
        ),
        jwt=refused(ANY, "aws.auth.jwt"),
    ),
    additionalRoles=refused(array(STR), "aws.additionalRoles"),
    externalID=refused(STR, "aws.externalID"),
    sessionTags=refused(array(ANY), "aws.sessionTags"),
    transitiveTagKeys=refused(array(STR), "aws.transitiveTagKeys"),
    sessionTagsPolicy=refused(
        string(enum=("None", "Simple", "Custom"), max_length=16), "aws.sessionTagsPolicy", "None"
    ),
    customSessionTags=refused(MAP, "aws.customSessionTags"),
    secretsManager=refused(ANY, "aws.secretsManager"),
    prefix=refused(STR, "aws.prefix"),
)
_GCPSM = obj(
    projectID=STR,
    location=STR,
    endpoint=STR,
    auth=obj(
        secretRef=obj(secretAccessKeySecretRef=SECRET_KEY_REF),
        workloadIdentity=refused(ANY, "gcpsm.auth.workloadIdentity"),
        workloadIdentityFederation=refused(ANY, "gcpsm.auth.workloadIdentityFederation"),
    ),
    secretVersionSelectionPolicy=refused(
        string(enum=("LatestOrFail", "LatestOrFetch"), max_length=16),
        "gcpsm.secretVersionSelectionPolicy",
        "LatestOrFail",
    ),
)
_FAKE = obj(
    ("data",),
    data=array(obj(("key", "value"), key=STR, value=STR, version=STR)),
    validationResult=refused(INT, "fake.validationResult"),
)

_SELECTOR = obj(
    matchLabels=MAP,
    matchExpressions=array(
        obj(
            ("key", "operator"),
            key=STR,
            operator=string(enum=SELECTOR_OPERATORS, max_length=16),
            values=array(STR),
        ),
        max_items=MAX_SELECTOR_TERMS,
    ),
)
_STORE_COMMON: Final[dict[str, Node]] = {
    "provider": obj(
        vault=_VAULT,
        aws=_AWS,
        gcpsm=_GCPSM,
        fake=_FAKE,
        **{name: refused(ANY, f"provider.{name}") for name in OTHER_ESO_PROVIDERS},
    ),
    "refreshInterval": INT,
    "controller": STR,
    "retrySettings": obj(
        maxRetries=integer(minimum=0, maximum=MAX_RETRIES),
        retryInterval=string(pattern=GO_DURATION, hint="a Go duration such as 1s or 500ms"),
    ),
}
STORE_SPEC_SCHEMA: Final = obj(("provider",), **_STORE_COMMON)
"""``spec`` of a SecretStore, as in crds/secretstores.yaml."""

CLUSTER_STORE_SPEC_SCHEMA: Final = obj(
    ("provider",),
    **_STORE_COMMON,
    useOperatorIdentity=BOOL,
    conditions=array(
        obj(
            namespaces=array(NS),
            namespaceSelector=_SELECTOR,
            namespaceRegexes=array(STR),
        ),
        max_items=MAX_CONDITIONS,
    ),
)
"""``spec`` of a ClusterSecretStore, as in crds/clustersecretstores.yaml."""
