"""secretsync: SealedSecrets you can commit and ExternalSecrets from Vault, AWS and GCP.

Importing the package has no side effects: no kubeconfig is read, no logging is
configured and no heavy dependency (kopf, kubernetes, provider SDKs) is imported.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
