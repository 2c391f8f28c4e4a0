"""Mutation survivors in the casing, Sprig math, semver and function-spec code (``funcs/casing.py``,
``funcs/sprig_math.py``, ``funcs/semver.py``, ``funcs/spec.py``).

Expected values follow Go + Sprig v3.3.0: huandu/xstrings ``toCamelCase``, Masterminds/semver v3.3.0
``constraints.go``, shopspring/decimal and Go's ``math`` package. ``register`` and ``alias`` run at
import time for the built-in tables, so they are also called here on fresh tables.
"""

from __future__ import annotations

from typing import Any

import pytest

from secretsync.gotemplate import TemplateError, render
from secretsync.gotemplate.funcs.casing import to_camel
from secretsync.gotemplate.funcs.spec import FuncSpec, Table, alias, register, wrap_callable


def _render(source: str, funcs: dict[str, Any] | None = None) -> str:
    return render({"t": source}, {}, funcs=funcs)["t"]


def _kind(source: str, funcs: dict[str, Any] | None = None) -> str | None:
    with pytest.raises(TemplateError) as info:
        _render(source, funcs)
    return info.value.kind


# --- camelcase: xstrings ToPascalCase ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),  # empty in, empty out
        ("a__b", "A_B"),  # a doubled connector keeps one, and the loop goes on after it
        ("ABcD", "AbcD"),  # the run of upper case ends at "c": a later capital is kept
        ("a_B", "AB"),  # a capital after a connector stays capital in Pascal case
        ("__", "___"),  # xstrings writes the last connector twice
    ],
)
def test_camelcase_follows_xstrings_pascal_case(text: str, expected: str) -> None:
    assert _render(f'{{{{ camelcase "{text}" }}}}') == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # xstrings ToCamelCase's documented samples (the small variant of the same port)
        ("some_words", "someWords"),
        ("http_server", "httpServer"),
        ("_complex__case_", "_complex_Case_"),
        ("GOLANG_IS_GREAT", "golangIsGreat"),
    ],
)
def test_small_camel_case_lowers_the_first_rune(text: str, expected: str) -> None:
    assert to_camel(text, False) == expected


# --- semverCompare: Masterminds/semver v3.3.0 constraint functions -------------------------------


@pytest.mark.parametrize(
    ("constraint", "version", "expected"),
    [
        ("<1.2.3", "1.2.3", "false"),  # strictly less
        ("<1.2.3", "1.2.2", "true"),
        ("<=1.2.3", "1.0.0-alpha", "false"),  # a prerelease needs a prerelease constraint
        ("<=1.2.3", "1.2.4", "false"),
        ("<=1.2.3", "1.2.3", "true"),
        ("<=1.x", "2.0.0", "false"),  # dirty: a larger major is never <=
        ("<=1.x", "1.9.0", "true"),
        ("~1.2.3", "1.2.0", "false"),  # below the constraint
        ("~1.2.3", "1.2.4-alpha", "false"),  # prerelease blocked
        ("~1.2.3", "1.2.3", "true"),  # the constraint itself matches
        ("~1.2.0", "1.3.0", "false"),  # only ~0.0.0 accepts any version
        ("~0.1.0", "0.2.0", "false"),
        ("~0.0.0", "5.1.0", "true"),
        ("^1.2.3", "1.2.0", "false"),  # below the constraint
        ("^0.2.3", "1.2.3", "false"),  # ^0.y: a larger major is out
        ("^0.2.3", "1.0.0", "false"),
        ("^0.1.2", "0.1.5", "true"),  # ^0.y with y > 0: same minor
        ("^0.0.3", "0.1.3", "false"),  # ^0.0.z: a larger minor is out
        ("^0.0.3", "0.0.3", "true"),
    ],
)
def test_semver_compare_operators(constraint: str, version: str, expected: str) -> None:
    assert _render(f'{{{{ semverCompare "{constraint}" "{version}" }}}}') == expected


# --- Sprig math ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("arg", "expected"), [('"Inf"', "+Inf"), ('"-Inf"', "-Inf"), ('"NaN"', "NaN")])
def test_ceil_keeps_infinities_and_nan(arg: str, expected: str) -> None:
    # Go's math.Ceil returns ±Inf and NaN unchanged.
    assert _render(f"{{{{ ceil {arg} }}}}") == expected


@pytest.mark.parametrize(
    "source", ['{{ addf "NaN" 1 }}', '{{ addf 1 "Inf" }}', '{{ mulf "-Inf" 2 }}', '{{ divf "NaN" 2 }}']
)
def test_decimal_helpers_refuse_nan_and_infinity(source: str) -> None:
    # shopspring decimal.NewFromFloat panics on NaN and ±Inf; the call fails.
    assert _kind(source) == "function failed"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ divf 1e15 1 }}", "1e+15"),  # 16 fraction digits on a 16-digit quotient
        ("{{ divf 123456789012345678 10 }}", "1.2345678901234568e+16"),
        ("{{ divf 2 3 }}", "0.6666666666666667"),  # rounded half up at 16 places
    ],
)
def test_divf_rounds_large_quotients_without_overflowing_precision(source: str, expected: str) -> None:
    assert _render(source) == expected


# --- function specs ------------------------------------------------------------------------------


def _join(budget: Any, *args: Any) -> str:
    return ",".join(map(str, args))


def test_register_is_fixed_arity_unless_told_variadic() -> None:
    table: Table = {}
    register(table, "fixed", "str")(_join)
    register(table, "many", "str", variadic=True)(_join)
    assert table["fixed"] == FuncSpec("fixed", _join, ("str",), False, False)
    assert table["many"] == FuncSpec("many", _join, ("str",), True, False)
    funcs = {"fixed": table["fixed"], "many": table["many"]}
    assert _render('{{ fixed "a" }} {{ many "a" "b" "c" }}', funcs) == "a a,b,c"
    assert _kind('{{ fixed "a" "b" }}', funcs) == "wrong number of args"


def test_alias_copies_variadic_and_raw() -> None:
    def raw(*args: Any) -> str:
        return "-".join(map(str, args))

    table: Table = {"many": FuncSpec("many", _join, ("str",), True), "raw": wrap_callable("raw", raw)}
    alias(table, "many2", "many")
    alias(table, "raw2", "raw")
    assert table["many2"] == FuncSpec("many2", _join, ("str",), True, False)
    assert table["raw2"] == FuncSpec("raw2", raw, ("any",), True, True)
    funcs = {"many2": table["many2"], "raw2": table["raw2"]}
    assert _render('{{ many2 "a" "b" "c" }} {{ raw2 1 2 3 }}', funcs) == "a,b,c 1-2-3"


def test_a_callers_plain_function_takes_any_number_of_arguments() -> None:
    def join(*args: Any) -> str:
        return "+".join(map(str, args))

    assert wrap_callable("join", join) == FuncSpec("join", join, ("any",), True, True)
    assert _render("{{ join }}|{{ join 1 }}|{{ join 1 2 3 }}", {"join": join}) == "|1|1+2+3"
