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
from tests.support.fixtures_time import FakeClock

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


# --- mutants of the first partial run (see docs/testing.md) -----------------------------------------
# Expected values are Go 1.26 text/template + fmt/strconv, Sprig v3 (goutils, cast) and ESO v2 behaviour.


def r(source: str, data: object = None) -> str:
    return render({"t": source}, {} if data is None else data)["t"]


def err(source: str, data: object = None) -> str:
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {} if data is None else data)
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("1_000", (1000, None)),
        ("0x_1f", (31, None)),
        ("0x_ff", (255, None)),
        ("0X_FF", (255, None)),
        ("0b_1", (1, None)),
        ("0o_7", (7, None)),
        ("9_1", (91, None)),
        ("-0x_1f", (-31, None)),
        ("1__0", (0, "syntax")),
        ("0x__1", (0, "syntax")),
        ("_1", (0, "syntax")),
        ("1_", (0, "syntax")),
        ("0_", (0, "syntax")),
    ],
)
def test_parse_int_underscores_as_go_strconv(text: str, want: tuple[int, str | None]) -> None:
    from secretsync.gotemplate import gostrconv

    assert gostrconv.parse_int(text, 0) == want


def test_parse_uint_of_a_lone_underscore_is_a_syntax_error() -> None:
    from secretsync.gotemplate import gostrconv

    assert gostrconv.parse_uint("_") == (0, "syntax")
    assert gostrconv.parse_int("-_", 0) == (0, "syntax")


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("-0x_1p0", (-1.0, None)),
        ("+0x_1p0", (1.0, None)),
        ("0x_fp0", (15.0, None)),
        ("-1_000.5", (-1000.5, None)),
        ("+1_0e1_0", (1e11, None)),
        ("-0x__1p0", (0.0, "syntax")),
        ("1_.5", (0.0, "syntax")),
        ("1_e5", (0.0, "syntax")),  # no base prefix: "e" is not a digit, so "_" is not followed by one
        ("1e5_0", (1e50, None)),
    ],
)
def test_parse_float_underscores_with_a_sign_as_go_strconv(text: str, want: tuple[float, str | None]) -> None:
    from secretsync.gotemplate import gostrconv

    assert gostrconv.parse_float(text) == want


@pytest.mark.parametrize(
    ("value", "want"),
    [
        (0.1, "0.1"),
        (1e-45, "1e-45"),  # float32's smallest denormal: one digit is enough
        (16777217.0, "1.6777216e+07"),
        (3.4028234663852886e38, "3.4028235e+38"),
        (1e39, "+Inf"),  # beyond float32: Go's conversion gives an infinity
        (-1e39, "-Inf"),
        (0.3, "0.3"),
    ],
)
def test_format_float_32_bits_shortest(value: float, want: str) -> None:
    from secretsync.gotemplate import gostrconv

    assert gostrconv.format_float(value, "g", -1, 32) == want


def test_unquote_char_rejects_malformed_rune_literals_as_syntax() -> None:
    from secretsync.gotemplate import gostrconv

    for tok in ("'ab", "''", "'", "'a'b", "'\\\"'", "'ab'"):
        with pytest.raises(Fault) as info:
            gostrconv.unquote_char(tok)
        assert info.value.kind == "syntax", tok
    assert gostrconv.unquote_char("'\\''") == 39
    assert gostrconv.unquote_char("'a'") == 97


def test_char_constants_escaped_quote() -> None:
    assert r("{{ '\\'' }}|{{ 'a' }}|{{ '\\x41' }}") == "39|97|65"
    assert err("{{ '\\\"' }}") == 'template "t": line 1, column 4: syntax: bad character constant'


@pytest.mark.parametrize(
    ("arg", "want"),
    [
        ("\\ue000", "`\ue000`"),  # multibyte runes other than the BOM are backquoted
        ("\\ufeff", '"\\ufeff"'),
        ("\\xff", '"\\xff"'),  # an invalid byte: RuneError, not backquotable
        ("a\\nb", '"a\\nb"'),
        (" ", "` `"),
        ("\\t", "`\t`"),
        ("\\x7f", '"\\x7f"'),
        ("\\x1f", '"\\x1f"'),
        ("`", '"`"'),
    ],
)
def test_sharp_q_backquotes_only_what_go_can_backquote(arg: str, want: str) -> None:
    assert r(f'{{{{ printf "%#q" "{arg}" }}}}') == want


def test_maxf_follows_go_math_max() -> None:
    got = r(
        "{{ maxf 0 5 }}|{{ maxf 0 -0.0 }}|{{ maxf -0.0 0 }}|{{ maxf -0.0 -0.0 }}|{{ maxf 5 3 }}|"
        '{{ maxf "+Inf" "NaN" }}|{{ maxf "-Inf" 1 }}|{{ maxf 1 "-Inf" }}|'
        '{{ maxf "NaN" 1 }}|{{ maxf 1 "NaN" }}'
    )
    assert got == "5|0|0|-0|5|+Inf|1|1|NaN|NaN"


def test_minf_follows_go_math_min() -> None:
    got = r(
        "{{ minf 0 5 }}|{{ minf 0 -0.0 }}|{{ minf -0.0 0 }}|{{ minf 0.0 0.0 }}|{{ minf 3 5 }}|"
        '{{ minf "-Inf" "NaN" }}|{{ minf "+Inf" 1 }}|{{ minf 1 -2 }}|{{ minf 1 "+Inf" }}|'
        '{{ minf "-Inf" 1 }}|{{ minf "NaN" 1 }}|{{ minf 1 "NaN" }}|{{ minf 5 0 }}'
    )
    assert got == "0|-0|-0|0|3|-Inf|1|-2|1|-Inf|NaN|NaN|0"


def test_int64_of_a_float_truncates_and_out_of_range_is_min_int_as_on_amd64() -> None:
    got = r(
        "{{ int64 130.5 }}|{{ int64 -130.5 }}|{{ int64 9.3e18 }}|{{ int64 -1e19 }}|"
        "{{ int64 9.223372036854775808e18 }}|{{ int64 -9.223372036854775808e18 }}|{{ int64 9.2e18 }}"
    )
    assert got == "130|-130|-9223372036854775808|-9223372036854775808|-9223372036854775808|" + (
        "-9223372036854775808|9200000000000000000"
    )


def test_go_fdiv_divides_by_zero_as_ieee() -> None:
    import math

    from secretsync.gotemplate.funcs.sprig_math import go_fdiv

    assert go_fdiv(1.0, 0.0) == math.inf
    assert go_fdiv(-2.0, 0.0) == -math.inf
    assert go_fdiv(3.0, -0.0) == -math.inf
    assert go_fdiv(-3.0, -0.0) == math.inf
    assert math.isnan(go_fdiv(0.0, 0.0))
    assert math.isnan(go_fdiv(math.nan, 0.0))
    assert go_fdiv(1.0, 4.0) == 0.25


def test_swapcase_follows_goutils() -> None:
    assert r('{{ swapcase "hello World ǆx ǅ Ǆ ß é a z [" }}') == "HELLO wORLD ǅX ǆ ǆ ß É A Z ["
    assert r('{{ swapcase "aǆ Aǆ" }}|{{ swapcase " ǆ" }}|{{ swapcase "ǆ" }}') == "AǄ aǄ| ǅ|ǅ"


def test_title_separators_follow_go_strings_title() -> None:
    assert r('{{ title "\\u0080a a{b éa x\\u00a0y €a _a 1a" }}') == "\x80a A{B Éa X\xa0Y €a _a 1a"


def test_not_a_function_names_the_operand_as_written() -> None:
    head = 'template "t": line 1, column '
    assert err("{{ . 1 }}") == head + "4: not a function: ."
    assert err("{{ nil 1 }}") == head + "4: not a function: nil"
    assert err("{{ true 1 }}") == head + "4: not a function: true"
    assert err("{{ false 1 }}") == head + "4: not a function: false"
    assert err("{{ (1) 1 }}") == head + "5: not a function: (...)"
    assert err("{{ $x := 1 }}{{ $x 2 }}") == head + "17: not a function: $x"
    assert err('{{ "s" 1 }}') == head + '4: not a function: "s"'


def test_sharp_float_keeps_go_digits() -> None:
    got = r(
        '{{ printf "%#G" 1.0 }}|{{ printf "%#g" 1e-7 }}|{{ printf "%#E" 1.0 }}|{{ printf "%#g" 0.0 }}|'
        '{{ printf "%#g" 100.0 }}|{{ printf "%#.3g" 100.0 }}|{{ printf "%#g" 1.5e300 }}|'
        '{{ printf "%#g" 0.001 }}|'
        '{{ printf "%#.0g" 1.0 }}|{{ printf "%#.0g" 0.0 }}|{{ printf "%#x" 1.0 }}|{{ printf "%#.2x" 1.0 }}|'
        '{{ printf "%#.0f" 1.0 }}|{{ printf "%#g" -0.0 }}|{{ printf "%#x" 0.0 }}|{{ printf "%#G" 1e-7 }}'
    )
    assert got == (
        "1.00000|1.00000e-07|1.000000E+00|0.00000|100.000|100.|1.50000e+300|0.00100000|1.|0.|"
        "0x1.0000p+00|0x1.00p+00|1.|-0.00000|0x0.0000p+00|1.00000E-07"
    )


def test_sharp_upper_x_float_gets_no_trailing_zeros_as_in_go() -> None:
    assert r('{{ printf "%#X" 1.0 }}|{{ printf "%#X" 1.5 }}') == "0X1.P+00|0X1.8P+00"


def test_println_prints_operands_with_v() -> None:
    assert r('{{ println 1 2 }}|{{ println 1.5 "a" true }}') == "1 2\n|1.5 a true\n"


def test_and_or_builtins_short_circuit() -> None:
    assert r('{{ and 1 0 }}|{{ or 0 2 }}|{{ and 0 (fail "x") }}|{{ or 1 (fail "x") }}') == "0|2|0|1"


def test_an_int_parameter_takes_a_computed_int_but_not_a_bool() -> None:
    assert r('{{ abbrev (add 4 1) "hello world" }}') == "he..."
    assert err('{{ abbrev true "hello world" }}') == 'template "t": line 1, column 11: wrong type: abbrev'


def test_lower_of_dotted_capital_i_is_i_as_in_go() -> None:
    """Go's unicode.ToLower('İ') is 'i' (the simple mapping U+0130 -> U+0069)."""
    assert r('{{ lower "İ" }}|{{ swapcase "İ" }}') == "i|i"


def test_casing_of_non_ascii_numbers_and_digits() -> None:
    got = r(
        '{{ snakecase "a²b" }}|{{ snakecase "a٣b" }}|{{ snakecase "A1B" }}|{{ camelcase "a_٣b" }}|'
        '{{ kebabcase "x0y" }}|{{ snakecase "x9y" }}|{{ snakecase "ab\\u0080c" }}|{{ snakecase "Ab²Cd" }}|'
        '{{ snakecase "a0B" }}|{{ snakecase "a9B" }}'
    )
    assert got == "a_²b|a_٣b|a1_b|A٣b|x-0y|x_9y|ab_\x80_c|ab²_cd|a0_b|a9_b"


@pytest.mark.parametrize(
    ("arg", "want"),
    [
        ("QU\\nJD!", 5),  # newlines are skipped, not counted as data
        ("QU\\rJD!", 5),
        ("=AAA", 0),
        ("Q===", 1),
        ("QQ=", 3),  # not enough padding: the length
        ("QQ=\\n=A", 5),  # trailing garbage after the padding
        ("QQ=\\r=A", 5),
        ("QQ=\\n\\n=A", 6),
        ("QQ=A", 2),
        ("QQ==\\nA", 5),
        ("QQ==\\rA", 5),
        ("QQ=\\n", 4),
        ("QUJ", 0),
        ("Q", 0),
        ("QUJDQ", 4),
    ],
)
def test_b64dec_reports_go_error_offsets(arg: str, want: int) -> None:
    assert r(f'{{{{ b64dec "{arg}" }}}}') == f"illegal base64 data at input byte {want}"


def test_b64dec_accepts_newlines_and_non_canonical_padding_bits() -> None:
    assert r('{{ b64dec "QR==" }}|{{ b64dec "QUJ=" }}|{{ b64dec "Q\\nQ==" }}|{{ b64dec "QQ==\\n" }}') == (
        "A|AB|A|A"
    )


def test_b64_error_pos_of_valid_input_is_none() -> None:
    from secretsync.gotemplate.funcs.sprig_encoding import _b64_error_pos

    for raw in (b"", b"QUJD", b"QUJD\n", b"QQ==", b"QQ==\r\n", b"QQ=\n=", b"Q\r\nUJD"):
        assert _b64_error_pos(raw) is None, raw
    assert _b64_error_pos(b"QQ==\nA") == 5


@pytest.mark.parametrize(
    ("arg", "want"),
    [
        ("M\\nY!", 2),  # positions count after newlines are dropped
        ("M\\rY!", 2),
        ("AAAAAAAAAAA=====", 11),
        ("AAAAAAAAAA=A", 12),
        ("AA=A", 4),
        ("AA=====AAA", 6),
        ("AA=====A", 6),
        ("AAA=====A", 3),
        ("AAA=====", 3),
        ("AAAAAA==", 6),
        ("A!", 1),
        ("AA======AAA", 2),  # 8 bytes after the "=": not padding yet, so an illegal byte
    ],
)
def test_b32dec_reports_go_error_offsets(arg: str, want: int) -> None:
    assert r(f'{{{{ b32dec "{arg}" }}}}') == f"illegal base32 data at input byte {want}"


def test_b32_error_pos_after_valid_padding_is_the_length() -> None:
    from secretsync.gotemplate.funcs.sprig_encoding import _b32_error_pos

    assert _b32_error_pos(b"AA======") == 8
    assert _b32_error_pos(b"AAAA====") == 8
    assert _b32_error_pos(b"MZXW6===") == 8
    assert _b32_error_pos(b"AAAAAAAA") == 8


def test_abbrev_and_abbrevboth_follow_goutils() -> None:
    s = "abcdefghijklmnop"
    got = r(
        '{{ abbrev 5 "hello" }}|{{ abbrev 4 "hello" }}|'
        + "|".join(f'{{{{ abbrevboth {left} {right} "{s}" }}}}' for left, right in
                   ((5, 7), (11, 7), (12, 7), (14, 7), (7, 7), (4, 10), (5, 10), (0, 10)))
        + '|{{ abbrevboth 5 7 "abcdefgh" }}|{{ abbrevboth 4 7 "abcdefgh" }}'
    )  # fmt: skip
    assert (
        got == "hello|h...|...f...|...l...|...mnop|...mnop|...h...|"
        "abcdefg...|...fghi...|abcdefg...|abcd...|abcd..."
    )


def test_abbreviate_full_error_cases_give_empty() -> None:
    from secretsync.gotemplate.funcs.sprig_strings import _abbreviate_full

    assert _abbreviate_full(b"abcdefgh", 0, 3) == b""
    assert _abbreviate_full(b"abcdefghij", 6, 6) == b""
    assert _abbreviate_full(b"", 0, 3) == b""


def test_nospace_and_initials_read_bytes_as_runes() -> None:
    # U+00C5 is C3 85 and U+00E0 is C3 A0: the second bytes are spaces when read as runes
    assert r('{{ nospace "a\\vb\\fc\\rd Å à" }}|{{ initials "a\\vb\\fc\\rd" }}') == "abcdÃÃ|abcd"
    assert r('{{ nospace "a\\u0085b" }}|{{ initials "x\\u00a0y" }}') == "a\xc2b|xy"


def test_wrap_follows_goutils_wrap_custom() -> None:
    got = r(
        '{{ wrap 5 "" }}|{{ wrapWith 0 "-" "abc" }}|{{ wrap 3 "  abc" }}|{{ wrap 3 "   abcd" }}|'
        '{{ wrap 3 "ab cdef" }}|{{ wrap 3 "ab cd ef gh" }}|{{ wrapWith 3 "-" "abcd e" }}|'
        '{{ wrap 5 "a b c d" }}|{{ wrap 3 "ab cd" }}|{{ wrap 2 "ab cdefg hi" }}|{{ wrap 2 "abcdef gh ij" }}|'
        '{{ wrap 2 "ab cdefgh" }}'
    )
    assert (
        got == "|a-b-c|abc|abcd|ab\ncdef|ab\ncd\nef\ngh|abc-d e|"
        "a b c\nd|ab\ncd|ab\ncdefg\nhi|abcdef\ngh\nij|ab\ncdefgh"
    )


def test_to_yaml_sorts_keys_as_yaml_v2() -> None:
    keys = (  # noqa: SIM905
        "a100 a12 a000 a01 00 01 100 12 a00 a1 a15 a1000 a10005 a1001 a9 a10 a2 a21 a3 b- b+ bx b5 b ba "
        "c01 c0 c001 c10 c010 d1000 d1005x e100x e15 x1000 x105"
    ).split()
    source = "{{ toYaml (dict " + " ".join(f'"{k}" 1' for k in keys) + ") }}"
    want = (  # noqa: SIM905
        '"00" "01" "12" "100" a00 a000 a1 a01 a2 a3 a9 a10 a12 a15 a21 a100 a1000 a1001 a10005 '
        "b b+ b- b5 ba bx c0 c01 c001 c10 c010 d1000 d1005x e15 e100x x105 x1000"
    ).split()
    assert r(source) == "\n".join(f"{k}: 1" for k in want)
    for order in (keys, keys[::-1]):
        source = "{{ toYaml (dict " + " ".join(f'"{k}" 1' for k in order) + ") }}"
        assert r(source) == "\n".join(f"{k}: 1" for k in want)


def test_to_yaml_key_order_with_a_non_ascii_digit_as_yaml_v2() -> None:
    # yaml.v2's keyList.Less adds r-'0' for every unicode.IsDigit rune: 1587 for U+0663
    assert r('{{ toYaml (dict "a٣" 1 "a2" 1 "a1587" 1 "a1588" 1) }}') == "a2: 1\na٣: 1\na1587: 1\na1588: 1"


def test_from_yaml_of_a_document_that_is_not_a_map() -> None:
    head = "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal "
    tail = " into Go value of type map[string]interface {}"
    got = r(
        '{{ (fromYaml "- 1").Error }}|{{ (fromYaml "true").Error }}|{{ (fromYaml "abc").Error }}|'
        '{{ (fromYaml "12").Error }}|{{ (fromYaml "1.5").Error }}'
    )
    assert got == "|".join(head + kind + tail for kind in ("array", "bool", "string", "number", "number"))


def test_comments_are_lexed_as_go_does() -> None:
    assert r('{{ "a" }}{{/* c */}}b|{{- /* c */ -}}  x  {{/* c */ -}}') == "ab|x  "
    assert r('{{ "*/" }}{{/* c */}}b{{/* d */}}c') == "*/bc"
    assert r("{{/* a */}}x{{/* b */}}y") == "xy"
    assert r("{{/* c */ -}}x") == "x"
    assert r("a{{/* c */ -}}  ") == "a"
    assert r("a {{- /* c */}}") == "a"
    assert r("{{/**/}}") == ""
    head = 'template "t": line 1, column 3: syntax: '
    assert err("{{/* c") == head + "unclosed comment"
    assert err("{{/*/}}") == head + "unclosed comment"
    assert err("{{/* c */ }}") == head + "comment ends before closing delimiter"
    assert err("{{/* c */x}}") == head + "comment ends before closing delimiter"


def test_unterminated_character_constant() -> None:
    assert err("{{ 'a") == 'template "t": line 1, column 4: syntax: unterminated character constant'
    assert err("{{ 'abc' }}") == 'template "t": line 1, column 4: syntax: bad character constant'


def test_unexpected_tokens_are_described_as_go_does() -> None:
    # go1.26.8's item.String(): a keyword in angle brackets, any other token %q-quoted as written,
    # past 10 bytes its first 10 characters and "..."
    head = 'template "t": line 1, column '
    assert err('{{ define "a" x }}{{ end }}') == head + '15: syntax: unexpected "x" in define clause'
    assert err('{{ define "a" "b" }}{{ end }}') == head + '15: syntax: unexpected "\\"b\\"" in define clause'
    assert err('{{ define "a" `b` }}{{ end }}') == head + '15: syntax: unexpected "`b`" in define clause'
    assert err('{{ define "a" 12345678901234567890123 }}{{ end }}') == (
        head + '15: syntax: unexpected "1234567890"... in define clause'
    )
    assert err('{{ define "a" 1234567890 }}{{ end }}') == (
        head + '15: syntax: unexpected "1234567890" in define clause'
    )
    assert err('{{ define "a" 12345678901 }}{{ end }}') == (
        head + '15: syntax: unexpected "1234567890"... in define clause'
    )
    assert err('{{ define "x" "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9" }}{{ end }}') == (
        head + '15: syntax: unexpected "\\"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\\""... in define clause'
    )
    assert err('{{ define "x" "\\t" }}{{ end }}') == (
        head + '15: syntax: unexpected "\\"\\\\t\\"" in define clause'
    )
    assert err('{{ define "x" nil }}{{ end }}') == head + "15: syntax: unexpected <nil> in define clause"
    assert err('{{ define "x" . }}{{ end }}') == head + "15: syntax: unexpected <.> in define clause"
    assert err("{{ 1 else }}") == head + "6: syntax: unexpected <else> in operand"
    assert err('{{ range 2 }}{{ define "x" }}{{ end }}{{ end }}') == (
        head + "17: syntax: unexpected <define> in command"
    )
    assert err('{{ define "x" }}') == head + "17: syntax: unexpected EOF"
    assert err("{{ template }}") == head + '13: syntax: unexpected "}}" in template clause'
    assert err('{{ if 1 }}{{ else "x" }}{{ end }}') == head + '19: syntax: unexpected "\\"x\\"" in else'


def test_functions_take_exactly_their_parameters_and_aliases_work() -> None:
    assert err('{{ upper "a" "b" }}') == 'template "t": line 1, column 4: wrong number of args: upper'
    assert err("{{ b64enc }}") == 'template "t": line 1, column 4: wrong number of args: b64enc'
    assert r(
        "{{ tuple 1 2 }}|{{ push (list 1) 2 }}|{{ mustPush (list 1) 2 }}|{{ mustMerge (dict) (dict) }}"
    ) == ("[1 2]|[1 2]|[1 2]|map[]")
    assert r('{{ date_in_zone "2006" (toDate "2006-01-02" "2024-03-05") "UTC" }}') == "2024"
    assert err("{{ push (list 1) }}") == 'template "t": line 1, column 4: wrong number of args: push'


def test_zone_offsets_as_go_time_formats_them() -> None:
    amsterdam = (
        '{{ dateInZone "-07|-0700|-07:00|-070000|-07:00:00|Z07|Z070000|Z07:00:00" $t "Europe/Amsterdam" }}'
    )
    assert r('{{ $t := toDate "2006-01-02" "1900-01-01" }}' + amsterdam) == (
        "+00|+0019|+00:19|+001932|+00:19:32|+00|+001932|+00:19:32"
    )
    new_york = '{{ dateInZone "-07|-0700|-07:00|-070000|-07:00:00|Z07|Z070000" $t "America/New_York" }}'
    assert r('{{ $t := toDate "2006-01-02" "2024-01-01" }}' + new_york) == (
        "-05|-0500|-05:00|-050000|-05:00:00|-05|-050000"
    )
    utc = '{{ dateInZone "-07|-0700|-07:00|-070000|-07:00:00|Z07|Z070000|Z07:00" $t "UTC" }}'
    assert (
        r('{{ $t := toDate "2006-01-02" "2024-01-01" }}' + utc) == "+00|+0000|+00:00|+000000|+00:00:00|Z|Z|Z"
    )
    sao_paulo = '{{ dateInZone "-07:00:00|Z07:00:00|-070000" $t "America/Sao_Paulo" }}'
    assert r('{{ $t := toDate "2006-01-02" "1900-01-01" }}' + sao_paulo) == "-03:06:28|-03:06:28|-030628"


def test_a_time_prints_as_go_time_string_and_marshals_as_rfc3339_nano() -> None:
    t = '{{ $t := toDate "2006-01-02T15:04:05.999999999Z07:00" "2024-03-05T10:11:12.5+05:30" }}'
    assert r(t + '{{ $t }}|{{ $t | toJson }}|{{ unixEpoch $t }}|{{ printf "%v|%s" $t $t }}') == (
        '2024-03-05 10:11:12.5 +0530 +0530|"2024-03-05T10:11:12.5+05:30"|1709613672|'
        "2024-03-05 10:11:12.5 +0530 +0530|2024-03-05 10:11:12.5 +0530 +0530"
    )
    utc = '{{ $t := toDate "2006-01-02 -0700" "2024-03-05 +0000" }}'
    assert r(utc + "{{ $t }}|{{ $t | toJson }}|{{ unixEpoch $t }}") == (
        '2024-03-05 00:00:00 +0000 UTC|"2024-03-05T00:00:00Z"|1709596800'
    )
    before_1970 = '{{ $t := toDate "2006-01-02T15:04:05Z07:00" "1969-12-31T23:59:59.5Z" }}'
    assert r(before_1970 + "{{ unixEpoch $t }}") == "-1"


def test_source_text_of_every_operand_kind() -> None:
    from secretsync.gotemplate import nodes

    assert nodes.source_text(nodes.FieldNode(0, ["a", "b"])) == ".a.b"
    assert nodes.source_text(nodes.VariableNode(0, ["$x", "a", "b"])) == "$x.a.b"
    assert nodes.source_text(nodes.ChainNode(0, nodes.DotNode(0), ["a", "b"])) == "(...).a.b"
    assert nodes.source_text(nodes.IdentifierNode(0, "printf")) == "printf"
    assert nodes.source_text(nodes.TextNode(0, "x")) == ""


def test_sharp_float_digit_budget_per_verb() -> None:
    got = r(
        '{{ printf "%#.1f" 0.0 }}|{{ printf "%#.3X" 1.875 }}|{{ printf "%#x" 1.875 }}|'
        '{{ printf "%#.2g" 1.0 }}|{{ printf "%#.3X" 1.0 }}|{{ printf "%#.1e" 0.0 }}|{{ printf "%#.0e" 0.0 }}'
    )
    assert got == "0.0|0X1.E00P+00|0x1.e000p+00|1.0|0X1.000P+00|0.0e+00|0.e+00"


def test_semver_wildcard_constraints_as_masterminds_v3() -> None:
    cases = [
        ("!=1.2.x", "1.2.3-beta", "false"),  # a prerelease never matches a release-only constraint
        ("!=1.x", "1.3.0", "false"),
        ("!=1.2.x", "1.3.0", "true"),
        ("!=1.x", "1.5.0", "false"),
        ("!=1.2.x", "1.2.5", "false"),
        ("!=1.2.x", "2.0.0", "true"),
        ("!=1.2.x-alpha", "1.2.5", "true"),
        ("!=1.2.x-alpha", "1.2.5-alpha", "false"),
        ("!=1.2.x-alpha", "1.2.5-beta", "true"),
        ("!=*", "0.0.0", "false"),
        ("!=*", "0.0.5", "true"),
        ("!=*", "0.1.0", "true"),
        ("!=*", "1.0.0", "true"),
        (">2.x", "1.0.0", "false"),
        (">2.x", "3.0.0", "true"),
        (">2.x", "2.5.0", "false"),
        (">2.1.x", "2.2.0", "true"),
        (">2.1.x", "2.1.9", "false"),
        (">2.1.0", "2.1.9", "true"),
        (">2.1.0", "2.1.0", "false"),
        (">2.1.x", "2.2.0-b", "false"),
        (">2.1.0", "2.2.0-b", "false"),
        (">*", "2.2.0", "true"),
        (">*", "0.0.0", "false"),
        (">x", "0.0.1", "true"),
        (">2.1.0-a", "2.1.0-b", "true"),
    ]
    source = "|".join(f'{{{{ semverCompare "{c}" "{v}" }}}}' for c, v, _ in cases)
    assert r(source) == "|".join(want for _, _, want in cases)


def test_regex_replacement_references_as_go_regexp_expand() -> None:
    got = r(
        '{{ regexReplaceAll "a" "xa" "[$-]" }}|{{ regexReplaceAll "(?P<a_b>x)" "x" "${a_b}!" }}|'
        '{{ regexReplaceAll "(x)" "x" "$1_" }}|{{ regexReplaceAll "(x)" "x" "${1" }}|'
        '{{ regexReplaceAll "x" "axb" "[$0]" }}|'
        '{{ regexReplaceAll "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)" "abcdefghijk" "$9|$10|${11}" }}|'
        '{{ regexReplaceAll "(?P<A>x)" "x" "$A" }}|{{ regexReplaceAll "(x)" "x" "[$01]" }}|'
        '{{ regexReplaceAll "(x)" "x" "[$1]" }}|{{ regexReplaceAll "(x)" "x" "[${1}]" }}|'
        '{{ regexReplaceAll "(x)" "x" "[$]" }}|{{ regexReplaceAll "(x)" "x" "[${}]" }}|'
        '{{ regexReplaceAll "(x)" "x" "[$100000000]" }}|{{ regexReplaceAll "(x)" "x" "[$$1]" }}'
    )
    assert got == "x[$-]|x!||${1|a[x]b|i|j|k|x|[]|[x]|[x]|[$]|[${}]|[]|[$1]"


def test_keys_and_values_come_in_the_byte_order_of_the_keys() -> None:
    # Go ranges over the map in random order; secretsync sorts the keys as Go compares strings (bytes)
    assert r('{{ values (dict "b" 1 "a" 2 "é" 3 "Z" 4 "~" 5 "ä" 6) }}|{{ values (dict "b" 1 "a" 2) }}') == (
        "[4 2 1 5 6 3]|[2 1]"
    )
    assert (
        r('{{ values (dict "\\xff" 1 "😀" 2 "a" 3) }}|{{ keys (dict "\\xff" 1 "😀" 2) | len }}')
        == "[3 2 1]|2"
    )


def _cert_with_uri_sans(uris: list[str]) -> str:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    from tests.gotemplate.test_mutation_funcsB import _cert_pem

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t")])
    return _cert_pem(name, [x509.UniformResourceIdentifier(u) for u in uris])


def test_cert_sans_keep_a_uri_path_escaped_as_written_when_go_would() -> None:
    # url.URL.String keeps RawPath (and RawFragment) when it is valid and decodes to the path
    uris = [
        "spiffe://x/a%2Fb",
        "spiffe://x/a!b",
        "spiffe://x/a b",
        "spiffe://x/p#f%2Fg",
        "spiffe://x/a%41",
        "spiffe://x/a[b]$&'()*+,;=:@",
    ]
    got = r("{{ range certSANs .c }}[{{ . }}]{{ end }}", {"c": _cert_with_uri_sans(uris)})
    assert got == (
        "[spiffe://x/a%2Fb][spiffe://x/a!b][spiffe://x/a%20b][spiffe://x/p#f%2Fg][spiffe://x/a%41]"
        "[spiffe://x/a[b]$&'()*+,;=:@]"
    )


@pytest.mark.parametrize(
    ("source", "fits"),
    [
        ('{{ wrap 1 "aaaaaaaaaa" }}', 21),  # 10 bytes + (10 // 1 + 1) newlines
        ('{{ wrapWith 1 "--" "aaaaaaaaaa" }}', 32),  # 10 + (10 // 1 + 1) * 2
        ('{{ wrap 3 "aaaaaaaaaa" }}', 14),  # 10 + (10 // 3 + 1)
    ],
)
def test_wrap_refuses_what_its_worst_case_size_would_exceed(source: str, fits: int) -> None:
    assert render({"t": source}, {}, limits=Limits(max_value_bytes=fits))["t"].replace("-", "") == "a" * 10
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {}, limits=Limits(max_value_bytes=fits - 1))
    assert info.value.kind == "value limit"


def test_println_prints_a_value_as_deep_as_the_depth_limit() -> None:
    deep = "(list (list (list 1)))"
    for fn, end in (("println", "\n"), ("print", "")):
        source = f"{{{{ {fn} {deep} }}}}"
        assert render({"t": source}, {}, limits=Limits(max_depth=3))["t"] == "[[[1]]]" + end
        with pytest.raises(TemplateError) as info:
            render({"t": source}, {}, limits=Limits(max_depth=2))
        assert info.value.kind == "depth limit"


def test_go_time_unix_floors_to_the_second() -> None:
    import datetime

    from secretsync.gotemplate.values import GoTime

    utc = datetime.UTC
    assert GoTime(datetime.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=utc)).unix() == -1
    assert GoTime(datetime.datetime(2024, 3, 5, 0, 0, 1, 999999, tzinfo=utc)).unix() == 1709596801
    assert GoTime(datetime.datetime(1970, 1, 1, 0, 0, 3, tzinfo=utc)).unix() == 3
