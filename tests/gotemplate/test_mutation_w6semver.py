"""Mutants of semver: comparing a release with a prerelease, x wildcards, ranges, the input bound.

Expected values are Masterminds/semver v3.3.0 as Sprig's ``semverCompare`` calls it (NewConstraint,
NewVersion, Check): ``isX`` is exactly "x", "*" or "X"; a wildcard keeps the constraint's
prerelease (``0.0.0%s`` / ``%s.0.0%s`` with m[6], the dash included); ``rewriteRange`` turns
``A - B`` into ``>= A, <= B `` replacing one occurrence per match, in match order. The 4096-character
input bound and the step charge are our own limits.
"""

from __future__ import annotations

import pytest

from secretsync.gotemplate import Limits
from secretsync.gotemplate.funcs import semver as semver_mod
from secretsync.gotemplate.limits import Budget

from .test_mutation_funcsB import fails, r


@pytest.mark.parametrize(
    ("constraint", "version", "want"),
    [
        # a release is greater than its own prerelease (Version.Compare returns exactly 1)
        (">1.2.3-alpha", "1.2.3", "true"),
        ("!=1.2.3-alpha", "1.2.3", "true"),
        ("<=1.2.3-alpha", "1.2.3", "false"),
        # wildcards: "X" like "x" and "*"; a wildcard keeps the prerelease with its dash
        ("X", "1.0.0", "true"),
        ("1.X", "1.7.0", "true"),
        ("*-alpha", "1.0.0", "true"),
        ("1-alpha", "1.5.0", "true"),
        ("1.x-alpha", "1.5.0", "true"),
        # ranges: ">= A, <= B" with A and B the whole versions
        ("1.5 - 2", "1.2.0", "false"),
        ("1 - 2.5.1", "2.5.3", "false"),
        ("1 - 2.5.1", "2.5.1", "true"),
        # one replacement per match: "1 - 2" is also the start of the second range
        ("1 - 2,1 - 2.5", "2.3.0", "true"),
    ],
)
def test_semver_compare_like_go(constraint: str, version: str, want: str) -> None:
    assert r("{{ semverCompare .c .v }}", {"c": constraint, "v": version}) == want


# only "x", "*" and "X" are wildcards: "XXXX" is a major that NewVersion refuses
@pytest.mark.parametrize("constraint", ["XXXX", "XXXXX", "XXXX.1.2", "xx"])
def test_semver_compare_refuses_repeated_x(constraint: str) -> None:
    assert fails("{{ semverCompare .c .v }}", {"c": constraint, "v": "1.0.0"}).kind == "function failed"


def test_semver_input_bound_is_4096_characters() -> None:
    ok = "1.0.0+" + "a" * 4090
    assert r("{{ semver .v }}", {"v": ok}) == ok
    assert fails("{{ semver .v }}", {"v": ok + "a"}).kind == "function failed"
    assert r("{{ semverCompare .c .v }}", {"c": "*", "v": ok[:-1]}) == "true"
    assert fails("{{ semverCompare .c .v }}", {"c": "*", "v": ok}).kind == "function failed"


def test_semver_charges_sixteen_bytes_a_character() -> None:
    """Our accounting: bytes_step(size * 16), one step per 256 bytes plus one."""
    budget = Budget(Limits())
    semver_mod._bounded(budget, "a" * 200, "b" * 56)
    assert budget.steps == 1 + (256 * 16 >> 8)
