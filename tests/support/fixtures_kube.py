"""placeholder, replaced by the Kubernetes harness."""
