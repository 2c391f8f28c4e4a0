"""Functions ESO, Bitnami or Sprig define that we refuse on purpose, each with its reason.

Why refuse at parse time with a kind of its own: a migrated manifest that calls one of these
must fail before anything runs, with a message that says the function exists elsewhere but is
not offered here (``not supported``) and why -- not a puzzling ``unknown function``. Each
reason is a key of :data:`secretsync.gotemplate.errors.HINTS`: fixed text.
"""

from __future__ import annotations

REFUSED: dict[str, str] = {
    # Sprig: the operator's environment variables (ESO and Bitnami delete them too).
    "env": "environment",
    "expandenv": "environment",
    # Sprig: a DNS lookup from the operator's network (ESO and Bitnami delete it too).
    "getHostByName": "network",
    # ESO v0.1x-v0.19 (pkg/template/v2/kubernetes.go): reads any Secret with ESO's credentials.
    "getSecretKey": "cluster",
    # Go's builtin: calls a function value; there are no function values here.
    "call": "call",
}
