"""ExternalSecrets: values read from a secret backend into a Secret, and the stores that reach it.

``controller`` runs the reconcile flow and the timers, ``stores`` checks and resolves stores, ``base``
holds their shared state; ``gateway`` builds and calls providers;
``fetch`` and ``rewrite`` turn remote answers into Secret keys; ``render`` applies templates;
``writer`` writes the Secret; ``refresh`` decides when to read again; ``outcome`` holds the
result types and the API flavour (secretsync.io, or ESO's kinds in compatibility mode).
"""

from __future__ import annotations

from secretsync.external.controller import ExternalController
from secretsync.external.outcome import ESO, SECRETSYNC, Flavor

__all__ = ["ESO", "SECRETSYNC", "ExternalController", "Flavor"]
