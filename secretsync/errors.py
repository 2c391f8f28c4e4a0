"""The whole error taxonomy of secretsync.

Every failure the operator can meet is one of these classes. Each class carries
the ``Ready`` condition reason it reports and whether retrying can help, so the
operator maps an error to status, event and retry policy in one place.

Messages are written for the person reading ``kubectl describe``: what is wrong
and how to fix it. They never contain a secret value: callers pass names, keys
and paths, never payloads.
"""

from __future__ import annotations


class SecretSyncError(Exception):
    """Base class. ``reason`` feeds the Ready condition; ``retryable`` the backoff."""

    reason: str = "Error"
    retryable: bool = False


class UsageError(SecretSyncError):
    """The command line was wrong (exit code 2 in the CLI)."""

    reason = "UsageError"


class InputError(SecretSyncError):
    """A manifest, certificate or key file given to the CLI is unusable (exit code 1)."""

    reason = "InvalidInput"


class LeadershipLost(SecretSyncError):
    """This replica could not renew the leader Lease in time and must stop reconciling."""

    reason = "LeadershipLost"


class SpecError(SecretSyncError):
    """A custom resource's spec is malformed; permanent until the spec changes."""

    reason = "InvalidSpec"

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path else problem)


class NotPermitted(SpecError):
    """The spec asks for something a tenant may not have (secretsync/tenancy.py decides).

    Permanent until the spec (or the cluster admin's settings) change; never retried.
    """

    reason = "NotPermitted"


class UnsealError(SecretSyncError):
    """A sealed value cannot be decrypted: wrong key, wrong scope or corrupt data."""

    reason = "UnsealFailed"


class OwnershipConflict(SecretSyncError):
    """The target Secret exists and belongs to someone else."""

    reason = "SecretNotOwned"


class TemplateError(SecretSyncError):
    """A template failed to render (unknown variable, bad filter, sandbox violation)."""

    reason = "TemplateFailed"


class RewriteError(SecretSyncError):
    """A ``dataFrom[].rewrite`` cannot apply to the fetched values (two keys rewritten to one, a
    merge value that is not a JSON object): retried, since the remote values may change."""

    reason = "RewriteFailed"
    retryable = True


class TemplateSourceError(SecretSyncError):
    """A ``templateFrom`` ConfigMap or Secret, or one of its keys, is missing: retried, since it
    may be created later."""

    reason = "TemplateFailed"
    retryable = True


class ProviderError(SecretSyncError):
    """A secret backend failed. Subclasses say how."""

    reason = "SecretSyncedError"
    retryable = True


class SecretNotFound(ProviderError):
    """The backend says the remote secret does not exist; drives deletionPolicy."""

    reason = "SecretMissing"
    retryable = True


class PropertyNotFound(ProviderError):
    """The remote secret exists but has no such property: not a missing secret, so it never
    drives deletionPolicy (a typo in ``property`` must not delete a good Secret)."""

    reason = "PropertyNotFound"
    retryable = True


class ProviderAuthError(ProviderError):
    """The backend rejected our credentials; retried, with a long delay."""

    reason = "ProviderAuthFailed"
    retryable = True


class ProviderUnavailable(ProviderError):
    """The backend is unreachable or throttling; retried with backoff."""

    reason = "ProviderUnavailable"
    retryable = True


class KubeUnavailable(ProviderError):
    """The Kubernetes API failed transiently (429, 5xx, unreachable, no answer in time) while a
    provider read what it logs in with (a credentials Secret, a ServiceAccount token): the same
    ``ApiError`` reason and backoff as any other API failure of a sync, not an auth failure."""

    reason = "ApiError"
    retryable = True


INTERNAL_REASON = "InternalError"


def unexpected(exc: BaseException) -> str:
    """The status message for an exception nobody foresaw: its type only, since its text may hold
    anything (a value included); the operator logs the type too, and retries."""
    return f"unexpected {type(exc).__name__} in the operator (see its log); retried"
