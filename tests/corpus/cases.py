"""Every case of the corpus, by tool: ESO's (one module per provider family) and Bitnami's, and the
manifests secretsync refuses at apply time."""

from __future__ import annotations

from tests.corpus import bitnami, eso_aws, eso_gcp, eso_templates, eso_vault, refused
from tests.corpus.model import BitnamiCase, EsoCase, Refused

ESO: tuple[EsoCase, ...] = (*eso_vault.CASES, *eso_aws.CASES, *eso_gcp.CASES, *eso_templates.CASES)
BITNAMI: tuple[BitnamiCase, ...] = bitnami.CASES
REFUSED: tuple[Refused, ...] = refused.CASES


def _unique() -> None:
    ids = [case.id for case in (*ESO, *BITNAMI, *REFUSED)]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise AssertionError(f"case ids used twice: {duplicated}")


_unique()
