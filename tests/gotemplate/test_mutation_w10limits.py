"""limits.py's Budget at its edges, values.import_data's bounds and funcs.table's refusals.

Each limit is inclusive (a render may use exactly its budget, one more fails) and names its own
kind. Budgets are driven directly, with limits small enough to reach in a few calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs import DEFAULT, table
from secretsync.gotemplate.gostrconv import INT_MAX, INT_MIN
from secretsync.gotemplate.limits import ALLOC_FACTOR, HEAVY_MS, STEPS_PER_MS, Budget, Limits
from secretsync.gotemplate.values import import_data


def _kind(call: Callable[[], object]) -> str:
    with pytest.raises(Fault) as info:
        call()
    return info.value.kind


def test_steps_start_at_zero_one_a_call_and_the_last_allowed_step_is_max_steps() -> None:
    budget = Budget(Limits(max_steps=3))
    budget.step()
    assert budget.steps == 1
    budget.step(2)
    assert budget.steps == 3
    assert _kind(budget.step) == "step limit"


def test_a_value_of_exactly_max_value_bytes_is_allowed_one_more_is_a_value_limit() -> None:
    budget = Budget(Limits(max_value_bytes=10))
    budget.account(10)
    assert budget.allocated == 10
    assert _kind(lambda: budget.account(11)) == "value limit"
    assert budget.allocated == 10  # refused before it is counted


def test_the_render_may_allocate_exactly_alloc_factor_times_the_value_limit() -> None:
    budget = Budget(Limits(max_value_bytes=10))
    for _ in range(ALLOC_FACTOR):
        budget.account(10)
    assert budget.allocated == 10 * ALLOC_FACTOR
    assert _kind(lambda: budget.account(1)) == "value limit"


def test_expensive_milliseconds_start_at_zero_and_the_total_is_inclusive() -> None:
    budget = Budget(Limits(max_expensive_ms=5))
    budget.charge_expensive(5)
    assert budget.expensive_ms == 5
    assert budget.steps == 5 * STEPS_PER_MS
    assert _kind(lambda: budget.charge_expensive(0)) == "expensive call limit"


def test_an_expensive_charge_is_at_least_one_millisecond_and_its_steps() -> None:
    budget = Budget(Limits())
    budget.charge_expensive(0)
    assert (budget.expensive_ms, budget.steps) == (1, STEPS_PER_MS)


def test_a_call_estimated_at_heavy_ms_counts_as_heavy() -> None:
    budget = Budget(Limits(max_expensive_calls=1, max_expensive_ms=10_000))
    with budget.expensive(HEAVY_MS - 1):
        pass
    assert budget.expensive_calls == 0
    with budget.expensive(HEAVY_MS):
        pass
    assert budget.expensive_calls == 1
    assert _kind(lambda: budget.expensive(HEAVY_MS)) == "expensive call limit"


@pytest.mark.parametrize("v", [INT_MIN, INT_MAX, 0])
def test_import_takes_every_int64(v: int) -> None:
    assert import_data({"n": v}, 10) == {"n": v}


@pytest.mark.parametrize("v", [INT_MIN - 1, INT_MAX + 1])
def test_import_refuses_ints_past_int64(v: int) -> None:
    assert _kind(lambda: import_data({"n": v}, 10)) == "wrong type"


@pytest.mark.parametrize(
    ("data", "ok"),
    [
        ([[1]], False),  # the 1 is at depth 2
        ([1], True),
        ({"a": {"b": 1}}, False),
        ({"a": 1}, True),
        ({"a": [1]}, False),
        ([{"a": 1}], False),
    ],
)
def test_import_depth_counts_each_list_and_map_level(data: Any, ok: bool) -> None:
    if ok:
        assert import_data(data, 1) == data
    else:
        assert _kind(lambda: import_data(data, 1)) == "depth limit"


def test_a_callers_function_table_skips_call_and_bad_names_but_keeps_the_rest() -> None:
    def f() -> str:
        return "x"

    out = table({"call": f, "not-an-identifier": f, "mine": f})
    assert "mine" in out
    assert "not-an-identifier" not in out
    assert "call" not in out and "call" not in DEFAULT
