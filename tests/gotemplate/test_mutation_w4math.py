"""Boundaries of Sprig's ``div``/``mod``, ``maxf``/``minf``, decimal helpers, ``abbrevboth`` and ``wrap``.

Every surviving mutant of these lines is equivalent (see the mutation accounting); these cases pin the
boundaries the mutants move, with Go's values: int64 division truncates toward zero (MinInt64 / -1 wraps),
``int64(f)`` on amd64 gives MinInt64 out of range, math.Max/math.Min, shopspring/decimal (exact sums,
DivRound to 16 places, Float64 via big.Rat), goutils AbbreviateFull and WrapCustom.
"""

from __future__ import annotations

import pytest

from .test_mutation_funcsB import r


@pytest.mark.parametrize(
    ("source", "want"),
    [
        # int64 division and remainder around zero and the int64 minimum
        ("{{ div 0 -5 }}|{{ div 0 5 }}|{{ div -1 5 }}|{{ div 1 -5 }}|{{ div -6 -5 }}", "0|0|0|0|1"),
        ("{{ mod 0 -5 }}|{{ mod 0 5 }}|{{ mod -6 5 }}|{{ mod 6 -5 }}|{{ mod -6 -5 }}", "0|0|-1|1|-1"),
        ("{{ div -9223372036854775808 -1 }}|{{ mod -9223372036854775808 -1 }}", "-9223372036854775808|0"),
        # int64(f): -2**63 converts exactly, 2**63 is out of range
        (
            "{{ int64 -9.223372036854775808e18 }}|{{ int64 9.223372036854775808e18 }}",
            "-9223372036854775808|-9223372036854775808",
        ),
        ("{{ maxf 2.5 2.5 1 }}|{{ minf 2.5 2.5 3 }}", "2.5|2.5"),
        # DivRound(16): half away from zero, either sign
        (
            "{{ divf 1 32 }}|{{ divf -1 3 }}|{{ divf 5e-17 1 }}|{{ divf -5e-17 1 }}",
            "0.03125|-0.3333333333333333|1e-16|-1e-16",
        ),
        # AbbreviateFull: offset + width - 3 == len takes the tail; one byte more abbreviates again
        (
            '{{ abbrevboth 5 10 "abcdefghijkl" }}|{{ abbrevboth 6 10 "abcdefghijkl" }}',
            "...fghijkl|...fghijkl",
        ),
        (
            '{{ abbrevboth 5 10 "abcdefghijklm" }}|{{ abbrevboth 5 11 "abcdefghijklmn" }}',
            "...fghi...|...fghij...",
        ),
        # WrapCustom: a space before the line start never counts; leading spaces are skipped
        (
            '{{ wrap 3 "a bcdef gh" }}|{{ wrap 2 "  abc d" }}|{{ wrapWith 3 "-" "a bcdefg" }}',
            "a\nbcdef\ngh|abc\nd|a-bcd-efg",
        ),
    ],
)
def test_math_and_abbrev_boundaries(source: str, want: str) -> None:
    assert r(source) == want


_F = {"inf": '(float64 "+Inf")', "-inf": '(float64 "-Inf")', "nan": '(float64 "NaN")', "-0": '(float64 "-0")'}


@pytest.mark.parametrize(
    ("func", "a", "b", "want"),
    [
        # math.Max / math.Min: an infinity in the winning direction beats NaN, in either position
        ("maxf", "-inf", "1", "1"),
        ("maxf", "1", "inf", "+Inf"),
        ("maxf", "inf", "nan", "+Inf"),
        ("maxf", "nan", "inf", "+Inf"),
        ("maxf", "-inf", "nan", "NaN"),
        ("minf", "inf", "1", "1"),
        ("minf", "1", "-inf", "-Inf"),
        ("minf", "-inf", "nan", "-Inf"),
        ("minf", "nan", "-inf", "-Inf"),
        ("minf", "inf", "nan", "NaN"),
        # signed zeros
        ("maxf", "-0", "0", "0"),
        ("maxf", "0", "-0", "0"),
        ("maxf", "-0", "-0", "-0"),
        ("minf", "-0", "0", "-0"),
        ("minf", "0", "-0", "-0"),
        ("minf", "0", "0", "0"),
    ],
)
def test_maxf_minf_special_values(func: str, a: str, b: str, want: str) -> None:
    assert r(f"{{{{ {func} {_F.get(a, a)} {_F.get(b, b)} }}}}") == want


def test_divf_huge_quotient_is_infinity() -> None:
    # shopspring DivRound is exact big-int arithmetic; Float64 (big.Rat) overflows to +Inf. (It failed
    # with "function failed: divf" when the quotient could not be held to 16 places.)
    assert r("{{ divf 1e300 1e-100 }}") == "+Inf"
    assert r("{{ divf -1e308 5e-324 }}") == "-Inf"
    # and a huge quotient divided back down is a number again
    assert r("{{ divf 1e300 1e-100 1e100 }}") == "1e+300"


def test_addf_exact_sum_breaks_a_float64_tie() -> None:
    # (a 400-digit context rounded this sum before Float64)
    # The first seven addends sum exactly to the midpoint between 1.0000000000000002e+100 and the
    # next float64 (ties-to-even picks ...02); the exact 1e-323 on top makes Go round up to ...04.
    tie = (
        "1e100 3.0730322494361e84 9.27868475536687e70 9.92236413533915e55 8.61359571206498e40"
        " 8.89956691698977e25 93669562368"
    )
    assert r(f"{{{{ addf {tie} }}}}") == "1.0000000000000002e+100"
    assert r(f"{{{{ addf {tie} 1e-323 }}}}") == "1.0000000000000004e+100"
