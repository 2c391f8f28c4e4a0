"""Typed views of ExternalSecret, SecretStore and ClusterSecretStore bodies, parsed once.

Why a model layer: the reconcilers, the providers and the status code should
never dig through raw dicts or guess defaults. Each body is checked once
against a schema that mirrors the CRDs in ``crds/`` field for field
(``tests/test_crds.py`` proves the two agree), then turned into frozen
dataclasses with every default applied *here*, in code. The CRDs carry no
``default:`` on purpose: server-side defaults show up as drift in GitOps tools
for every ESO user who migrates a manifest that omitted them.

Why re-check what the API server already validated: bodies also come from
places without schema validation (the test emulator, ``kubectl apply
--validate=false``, an older CRD still installed), and the CEL one-of rules
are only enforced by a recent API server. Every malformed input raises
:class:`~secretsync.errors.SpecError` naming the exact field path
(``spec.data[2].remoteRef.key``) and never echoing a secret value.

Semantics follow External Secrets Operator (external-secrets.io/v1) where
users can observe them: policy combinations its webhook rejects, the
ClusterSecretStore namespace conditions, the credential namespace rules,
decodingStrategy and the key conversion of ``dataFrom``. Deliberate
differences are called out where they are made.
"""

from __future__ import annotations

from secretsync.model.externalsecret import (
    DataEntry,
    DataFromEntry,
    ExternalSecretSpec,
    Rewrite,
    RewriteMerge,
    RewriteRegexp,
    RewriteTransform,
    TargetSpec,
    TemplateFrom,
    TemplateItem,
    TemplateRef,
    TemplateSpec,
    parse_external_secret,
)
from secretsync.model.fields import (
    CLUSTER_SECRET_STORE,
    CREATION_POLICIES,
    DECODING_STRATEGIES,
    DEFAULT_REFRESH_INTERVAL,
    DELETION_POLICIES,
    MERGE_POLICIES,
    NAMESPACE_NAME_LABEL,
    PROVIDERS,
    REFRESH_POLICIES,
    SECRET_KEY,
    SECRET_STORE,
    STORE_KINDS,
    FrozenMap,
    is_label_value,
    is_qualified_name,
    is_secret_key,
    parse_go_duration,
)
from secretsync.model.refusals import OTHER_ESO_PROVIDERS, OTHER_VAULT_AUTH_METHODS, UNSUPPORTED
from secretsync.model.schema import Node, check_schema
from secretsync.model.schemas import CLUSTER_STORE_SPEC_SCHEMA, ES_SPEC_SCHEMA, STORE_SPEC_SCHEMA
from secretsync.model.stores import (
    LabelSelector,
    RetrySettings,
    SelectorRequirement,
    StoreCondition,
    StoreSpec,
    credential_namespace,
    parse_store,
    store_allows,
)
from secretsync.model.values import check_rewritten_keys, decode, sanitize_key, sanitize_keys

__all__ = [
    "CLUSTER_SECRET_STORE",
    "CLUSTER_STORE_SPEC_SCHEMA",
    "CREATION_POLICIES",
    "DECODING_STRATEGIES",
    "DEFAULT_REFRESH_INTERVAL",
    "DELETION_POLICIES",
    "ES_SPEC_SCHEMA",
    "MERGE_POLICIES",
    "NAMESPACE_NAME_LABEL",
    "OTHER_ESO_PROVIDERS",
    "OTHER_VAULT_AUTH_METHODS",
    "PROVIDERS",
    "REFRESH_POLICIES",
    "SECRET_KEY",
    "SECRET_STORE",
    "STORE_KINDS",
    "STORE_SPEC_SCHEMA",
    "UNSUPPORTED",
    "DataEntry",
    "DataFromEntry",
    "ExternalSecretSpec",
    "FrozenMap",
    "LabelSelector",
    "Node",
    "RetrySettings",
    "Rewrite",
    "RewriteMerge",
    "RewriteRegexp",
    "RewriteTransform",
    "SelectorRequirement",
    "StoreCondition",
    "StoreSpec",
    "TargetSpec",
    "TemplateFrom",
    "TemplateItem",
    "TemplateRef",
    "TemplateSpec",
    "check_rewritten_keys",
    "check_schema",
    "credential_namespace",
    "decode",
    "is_label_value",
    "is_qualified_name",
    "is_secret_key",
    "parse_external_secret",
    "parse_go_duration",
    "parse_store",
    "sanitize_key",
    "sanitize_keys",
    "store_allows",
]
