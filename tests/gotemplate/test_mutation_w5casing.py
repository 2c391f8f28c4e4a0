"""Mutants of casing's rune classes (as used by regexp's ``$name``), mergo's merge, duration and random.

Expected values are Go 1.26 regexp (``extract``: a name is letters, ``unicode.IsDigit`` digits and
``_``), Sprig v3 over dario.cat/mergo (``deepMerge`` of map[string]interface{}) and Sprig's
``randAlphaNum``; where a value is our own resource accounting (steps charged) the test says so.
"""

from __future__ import annotations

import pytest

from secretsync.gotemplate import Limits
from secretsync.gotemplate.funcs.sprig_dates import _parse_duration
from secretsync.gotemplate.funcs.sprig_strings import _random
from secretsync.gotemplate.limits import Budget

from .test_mutation_funcsB import r

# --- regexp's Expand: a non-ASCII decimal digit (U+0663, Nd) is part of a $name ------------------


@pytest.mark.parametrize(
    ("repl", "want"),
    [
        ("$1", "xa"),
        ("$1\u0663", "x"),  # name "1\u0663": not a number, no such named group: empty
        ("${1\u0663}", "x"),
        ("$\u0663", "x"),  # a name may start with a digit of any script
    ],
)
def test_regex_replacement_names_take_unicode_digits(repl: str, want: str) -> None:
    assert r('{{ regexReplaceAll "(a)" "xa" .r }}', {"r": repl}) == want


# --- merge/mergeOverwrite: a map from src over a present non-map dst value --------------------------


@pytest.mark.parametrize(
    ("source", "want"),
    [
        # mergo's deepMerge on a string dst (not settable) changes nothing; then the map is set only
        # with override, or when dst is empty
        ('merge (dict "a" "x") (dict "a" (dict "b" 1))', '{"a":"x"}'),
        ('mergeOverwrite (dict "a" "x") (dict "a" (dict "b" 1))', '{"a":{"b":1}}'),
        ('mergeOverwrite (dict "a" "x") (dict "a" (dict))', '{"a":{}}'),
        ('merge (dict "a" "") (dict "a" (dict "b" 1))', '{"a":{"b":1}}'),
        ('merge (dict "a" 0) (dict "a" (dict "b" 1))', '{"a":{"b":1}}'),
    ],
)
def test_merge_map_over_present_non_map(source: str, want: str) -> None:
    assert r("{{ " + source + " | toJson }}") == want


# --- our own accounting: steps charged ------------------------------------------------------------


def test_parse_duration_charges_one_step_plus_one_per_character() -> None:
    for text, nanos, steps in (("0", 0, 2), ("1s", 10**9, 3), ("1h2m", 3720 * 10**9, 5)):
        budget = Budget(Limits())
        assert _parse_duration(budget, text) == nanos
        assert budget.steps == steps, text


def test_random_of_no_characters_charges_nothing() -> None:
    for count in (0, -1):
        budget = Budget(Limits())
        assert _random(budget, count, "ab") == ""
        assert budget.steps == 0
    budget = Budget(Limits())
    assert len(_random(budget, 3, "ab")) == 3
    assert budget.steps == 1  # bytes_step(24): one step
