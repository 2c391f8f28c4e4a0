"""Late mutation survivors of ``untilStep``: a zero step, and the size it charges before building.

Sprig's ``untilStep`` returns an empty list for a step of 0 either way (and for a step pointing
away from ``stop``); the list's size is checked against ``max_value_bytes`` (8 bytes an element)
before it is built, so the least limit a render passes with grows with the element count; so does
the step count: one step an element, charged whichever way the list counts.
"""

from __future__ import annotations

import pytest

from .test_mutation_funcsB import least_limit, r


@pytest.mark.parametrize(
    "source", ["{{ untilStep 10 0 0 }}", "{{ untilStep 0 10 0 }}", "{{ untilStep 5 5 0 }}"]
)
def test_until_step_of_zero_is_empty(source: str) -> None:
    assert r(source) == "[]"


def _least(source: str, field: str, kind: str) -> int:
    return least_limit(source, field, kind=kind, high=4096)


def test_until_step_charges_eight_bytes_an_element_before_building() -> None:
    # the list's own size (checked as it is returned) binds below 9 elements: 8 bytes an element
    # and 8 more; past it, the check before building (8 bytes an element) must not charge more
    sources = ("{{ untilStep 0 5 1 }}", "{{ untilStep 10 5 -1 }}", "{{ untilStep 10 0 -1 }}")
    assert [_least(s, "max_value_bytes", "value limit") for s in sources] == [48, 48, 88]


@pytest.mark.parametrize(
    ("args", "elements"),
    [
        ("0 10 1", 10),
        ("10 0 -1", 10),
        ("-5 5 1", 10),
        ("5 -5 -1", 10),
        ("0 100 1", 100),
        ("100 0 -1", 100),
        ("3 10 3", 3),  # 3 6 9
        ("10 3 -3", 3),  # 10 7 4
        ("0 10 4", 3),  # 0 4 8
        ("10 0 -4", 3),  # 10 6 2
    ],
)
def test_until_step_charges_a_step_an_element_either_way(args: str, elements: int) -> None:
    # until_step charges budget.step(count), count being the number of elements (not the range's
    # width). Under ``len`` nothing else is charged per element (printing the list would charge one
    # more step an element), so over an empty untilStep of the same shape the least max_steps grows
    # by exactly the element count, counting up or down.
    def least(until_step_args: str) -> int:
        return _least("{{ len (untilStep " + until_step_args + ") }}", "max_steps", "step limit")

    assert least(args) - least("0 0 1") == elements
