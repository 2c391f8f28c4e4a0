"""Secret backends behind one small interface (Vault, AWS, GCP, fake).

Providers know nothing of Kubernetes or kopf; the registry and the interface
arrive with the ExternalSecret operator.
"""
