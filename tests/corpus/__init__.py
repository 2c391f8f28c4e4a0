"""The migration corpus: ESO's and Bitnami's documentation manifests, synced by secretsync both ways.

``cases.py`` lists the cases (split by provider in ``eso_*.py`` and ``bitnami.py``) and the
manifests that are refused (``refused.py``); ``model.py`` has the types and the loading of the
pinned upstream files; ``backends.py`` seeds OpenBao, moto and the GCP fake and builds the
certificate fixtures; ``runner.py`` applies a mode's cases to an emulator or a real API server
and compares what the operator wrote with what ESO or Bitnami would write. See README.md.
"""
