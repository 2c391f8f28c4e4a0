"""Tests written against mutants of secretsync/gotemplate that the other template tests let survive.

``make mutation MODULE=secretsync/gotemplate`` (docs/testing.md "Mutation testing"); each test says
which behaviour it pins.
"""

from __future__ import annotations

import base64

import pytest

from secretsync.gotemplate import Limits, TemplateError, render
from secretsync.gotemplate import limits as limits_module
from secretsync.gotemplate.errors import Fault
from tests.gotemplate.test_crypto import F, _with_mac_iterations, run
from tests.gotemplate.test_limits import EXPENSIVE, HOSTILE

# The tests of tests/gotemplate that also time themselves are left out of mutation runs (mutmut's
# trampolines slow every call, so their wall-clock bounds fail the clean run; see DESELECT in
# tests/support/mutation.py). What they check besides the time is checked here, with a time budget
# no traced run reaches, so the limit that stops each template is the one named.
NO_CLOCK = Limits(time_budget=3600.0)


@pytest.mark.parametrize(("source", "kind"), HOSTILE)
def test_each_hostile_template_is_stopped_by_the_limit_it_names(source: str, kind: str) -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {"a": "x"}, limits=NO_CLOCK)
    assert info.value.kind == kind


@pytest.mark.parametrize("source", EXPENSIVE)
def test_each_expensive_loop_is_stopped_by_the_expensive_call_limit(source: str) -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {}, limits=NO_CLOCK)
    assert info.value.kind == "expensive call limit", str(info.value)
    assert info.value.detail is not None and info.value.detail in source


def test_a_huge_printf_width_is_go_noverb_without_a_clock() -> None:
    assert render({"t": '{{ printf "%1000000000d" 1 }}'}, {}, limits=NO_CLOCK)["t"] == (
        "%!(NOVERB)%!(EXTRA int=1)"
    )


def test_many_live_values_hit_the_allocation_cap_without_a_clock() -> None:
    source = "".join(f'{{{{ $v{i} := repeat 1000000 "x" }}}}' for i in range(70))
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {}, limits=NO_CLOCK)
    assert info.value.kind == "value limit"


def test_a_hostile_iteration_count_is_refused_before_deriving_without_a_clock() -> None:
    blob = base64.b64decode(F["p12_modern_pw"])
    data = {"p": _with_mac_iterations(blob, 2_000_000_000).decode("utf-8", "surrogateescape")}
    with pytest.raises(TemplateError) as info:
        run('{{ pkcs12keyPass "pw" .p }}', data, limits=NO_CLOCK)
    assert (info.value.kind, info.value.detail) == ("expensive call limit", "pkcs12keyPass")


def test_many_archives_share_one_budget_without_a_clock() -> None:
    src = '{{ range until 1000 }}{{ $_ := pkcs12keyPass "pw" (b64dec $.p12_iter100k_pw) }}{{ end }}'
    with pytest.raises(TemplateError) as info:
        run(src, limits=NO_CLOCK)
    assert info.value.kind == "expensive call limit"


class FakeClock:
    """``time`` as the budget sees it: ``monotonic()`` advances only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(limits_module, "time", fake)
    return fake


def test_the_time_limit_is_checked_every_256_steps_after_the_deadline(clock: FakeClock) -> None:
    budget = limits_module.Budget(Limits(time_budget=1.0, max_steps=10**9))
    assert budget.deadline == 1001.0
    budget.step(255)
    clock.now = 1001.0
    budget.step(1)  # the 256th step looks at the clock: exactly at the deadline is still in time
    clock.now = 1001.5
    budget.step(255)  # not looked at before the next 256
    with pytest.raises(Fault) as info:
        budget.step(1)
    assert info.value.kind == "time limit"


def test_check_time_fails_only_past_the_deadline(clock: FakeClock) -> None:
    budget = limits_module.Budget(Limits(time_budget=2.0))
    clock.now = 1002.0
    budget.check_time()
    clock.now = 1002.001
    with pytest.raises(Fault) as info:
        budget.check_time()
    assert info.value.kind == "time limit"


def test_the_time_an_expensive_call_takes_goes_back_to_the_deadline(clock: FakeClock) -> None:
    budget = limits_module.Budget(Limits(time_budget=1.0))
    with budget.expensive(500):
        clock.now += 3.0
        budget.credit()
        assert budget.deadline == 1004.0
        clock.now += 2.0
    assert budget.deadline == 1006.0
    clock.now += 0.5
    budget.credit()  # outside a call: nothing given back
    assert budget.deadline == 1006.0


def test_a_render_whose_clock_runs_out_stops_with_the_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = iter(range(10**9))

    class Ticking:
        @staticmethod
        def monotonic() -> float:
            return 1000.0 + next(ticks) * 0.01  # 10 ms per look at the clock

    monkeypatch.setattr(limits_module, "time", Ticking)
    with pytest.raises(TemplateError) as info:
        render({"t": "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}"}, {},
               limits=Limits(max_steps=10**9, time_budget=0.2))  # fmt: skip
    assert info.value.kind == "time limit"
