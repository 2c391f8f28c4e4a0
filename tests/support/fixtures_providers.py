"""placeholder, replaced by the providers harness."""
