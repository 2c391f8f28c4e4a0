"""The corpus' tests, for a module that provides a ``run`` fixture (one settled mode of the corpus
on some API server): tests/test_corpus.py (the emulator) and tests/cluster/test_corpus_real.py (a
real kube-apiserver) import them, so both tiers judge exactly the same cases the same way."""

from __future__ import annotations

import pytest

from tests.corpus import cases
from tests.corpus.eso_common import CANARY
from tests.corpus.model import BitnamiCase, EsoCase, Refused
from tests.corpus.runner import Corpus, Operator, judge, leaks

Run = tuple[Corpus, Operator]


@pytest.mark.parametrize("case", cases.ESO, ids=lambda c: c.id)
def test_eso_manifest_syncs_as_eso_would(run: Run, case: EsoCase) -> None:
    judge(run[0], case)


@pytest.mark.parametrize("case", cases.BITNAMI, ids=lambda c: c.id)
def test_bitnami_manifest_opens_as_bitnami_would(run: Run, case: BitnamiCase) -> None:
    judge(run[0], case)


@pytest.mark.parametrize("case", cases.REFUSED, ids=lambda c: c.id)
def test_unsupported_field_is_refused_with_a_clear_message(run: Run, case: Refused) -> None:
    judge(run[0], case)


def test_no_value_of_the_corpus_leaks(run: Run) -> None:
    corpus, operator = run
    assert leaks([operator.logs(), *corpus.statuses()], [CANARY]) == []
