"""What one reconcile of an ExternalSecret came to, and the kinds it is reconciled for."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Final


@dataclasses.dataclass(frozen=True)
class Outcome:
    ready: bool
    reason: str
    message: str
    retry: float | None = None  # seconds until a retry, None = no timed retry
    action: str | None = None  # Created / Updated / Deleted
    synced: bool = False  # a fetch succeeded: refreshTime moves, next refresh is scheduled
    skip: bool = False  # not this operator's object (another controller class): no status at all
    unreported: bool = False  # the status write failed (API trouble): the sync is retried


SKIP: Final = Outcome(True, "", "", skip=True)


@dataclasses.dataclass(frozen=True)
class Flavor:
    """The API group an ExternalSecret controller serves: secretsync.io's own kinds, or ESO's
    ``external-secrets.io/v1`` ones in compatibility mode (same fields, ESO's status reasons)."""

    group_version: str
    es_plural: str = "externalsecrets"
    store_plurals: Mapping[str, str] = dataclasses.field(
        default_factory=lambda: {"SecretStore": "secretstores", "ClusterSecretStore": "clustersecretstores"}
    )
    eso_status: bool = False  # write ESO's reasons (SecretSynced / SecretSyncedError, Valid / ...)
    # Do the kinds' CRDs keep status.observedGeneration (and the Ready condition's)? ESO's do not:
    # the API server prunes it, so it is not written, and an ExternalSecret's acknowledged generation
    # is the one in status.syncedResourceVersion ("<generation>-<digest>").
    observed_generation: bool = True

    def es_condition(self, outcome: Outcome) -> tuple[bool, str]:
        """The Ready status and reason to write (ESO: a Secret deleted for deletionPolicy Delete
        is Ready=True, SecretDeleted; every failure is SecretSyncedError)."""
        if not self.eso_status:
            return outcome.ready, outcome.reason
        if outcome.reason == "SecretDeleted":
            return True, "SecretDeleted"
        return outcome.ready, "SecretSynced" if outcome.ready else "SecretSyncedError"

    def store_reason(self, ready: bool, reason: str) -> str:
        if not self.eso_status or ready:
            return reason  # "Valid", as ESO's
        return (
            "InvalidProviderConfig"
            if reason in ("InvalidProviderConfig", "NotPermitted")
            else "ValidationFailed"
        )


SECRETSYNC: Final = Flavor("secretsync.io/v1alpha1")
ESO: Final = Flavor("external-secrets.io/v1", eso_status=True, observed_generation=False)


def data_hash(data: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(dict(data), sort_keys=True).encode()).hexdigest()[:32]
