"""Hostile templates end quickly, in a TemplateError of the right kind, without big memory."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from secretsync.gotemplate import Limits, TemplateError, parse, render
from secretsync.gotemplate import limits as budget_module

HOSTILE = [
    ("{{ range $i := until 100000000 }}x{{ end }}", "value limit"),
    ("{{ range 10000000000 }}x{{ end }}", "range limit"),
    ("{{ range until 100000 }}{{ range until 100000 }}x{{ end }}{{ end }}", "step limit"),
    ("{{ range 100000 }}{{ range 100000 }}{{ end }}{{ end }}", "step limit"),
    ('{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}', "depth limit"),
    ('{{ define "r" }}x{{ template "r" . }}{{ template "r" . }}{{ end }}{{ template "r" . }}', "depth limit"),
    ('{{ repeat 1000000000 "x" }}', "value limit"),
    ('{{ repeat 9223372036854775807 "xy" }}', "value limit"),
    ('{{ printf "%9999999d" 1 }}', "value limit"),
    ('{{ printf "%.9999999f" 1.0 }}', "value limit"),
    ('{{ printf "%-9999999s|" "x" }}', "value limit"),
    ('{{ $s := repeat 1000000 "x" }}{{ $s }}{{ $s }}', "output limit"),
    ('{{ $s := repeat 1000 "x" }}{{ range until 2000 }}{{ $s }}{{ end }}', "output limit"),
    ("{{ $l := list }}{{ range until 100000 }}{{ $l = append $l . }}{{ end }}", "value limit"),
    (
        '{{ $d := dict }}{{ range until 100000 }}{{ $_ := set $d (toString .) (repeat 100 "x") }}{{ end }}',
        "value limit",
    ),
    ('{{ indent 1000000 (repeat 10 "a\\n") }}', "value limit"),
    ('{{ nindent 200000 (repeat 10 "\\n") }}', "value limit"),
    ("{{ until 1000000 | toJson }}", "value limit"),
    ("{{ untilStep 0 9223372036854775807 1 }}", "value limit"),
    ("{{ seq 10000000 }}", "value limit"),
    ('{{ $d := dict }}{{ $_ := set $d "self" $d }}{{ toJson $d }}', "depth limit"),
    ('{{ fromJson (printf "%s%s" (repeat 10000 "[") (repeat 10000 "]")) }}', "depth limit"),
    ('{{ fromYaml (printf "a: %s%s" (repeat 10000 "[") (repeat 10000 "]")) }}', "depth limit"),
    ('{{ regexReplaceAll "" (repeat 100000 "x") (repeat 10 "y") }}', "value limit"),
    ('{{ wrapWith 1 (repeat 1000 "-") (repeat 10000 "x ") }}', "value limit"),
    ('{{ replace "" (repeat 1000 "y") (repeat 10000 "x") }}', "value limit"),
    ('{{ cat (repeat 600000 "x") (repeat 600000 "y") }}', "value limit"),
    ('{{ join "," (list (repeat 600000 "x") (repeat 600000 "y")) }}', "value limit"),
    ("{{ concat (until 100000) (until 100000) }}", "value limit"),
    ('{{ printf "%s%s" (repeat 600000 "x") (repeat 600000 "y") }}', "value limit"),
    ('{{ print (repeat 600000 "x") (repeat 600000 "y") }}', "value limit"),
    ('{{ b64enc (repeat 900000 "x") }}', "value limit"),
    (
        "{{ $x := 1 }}{{ range until 100000 }}{{ range until 100 }}{{ $x = mul $x 3 }}{{ end }}{{ end }}",
        "step limit",
    ),
    ("{{" + "(" * 500 + "1" + ")" * 500 + "}}", "depth limit"),
    ("{{ if 1 }}" * 500 + "{{ end }}" * 500, "depth limit"),
    ("{{ with 1 }}{{ else with 2 }}" * 300 + "{{ end }}", "depth limit"),
    ("x" * 70000, "source limit"),
    # Go's ParseDuration has no length limit; each character is charged a step.
    ('{{ dateModify (repeat 500000 "1s") now }}', "step limit"),
    ('{{ mustDateModify (repeat 500000 "1s") now }}', "step limit"),
    ('{{ durationRound (repeat 500000 "1s") }}', "step limit"),
]


@pytest.mark.parametrize(("source", "kind"), HOSTILE)
def test_hostile_template_fails_fast(source: str, kind: str) -> None:
    start = time.monotonic()
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {"a": "x"})
    assert time.monotonic() - start < 2.0
    # A million steps take about half the 1 s time budget: on a loaded machine the time budget
    # may stop the template first. Either is the bound working.
    assert info.value.kind == kind or (kind == "step limit" and info.value.kind == "time limit")


@pytest.mark.parametrize(
    "source",
    [
        '{{ repeat 1000000000 "x" }}',
        '{{ printf "%9999999d" 1 }}',
        "{{ range $i := until 100000000 }}x{{ end }}",
        "{{ until 1000000 | toJson }}",
        '{{ indent 1000000 (repeat 10 "a\\n") }}',
    ],
)
def test_refused_before_allocating(source: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(TemplateError):
            render({"t": source}, {})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


def test_mul_wraps_like_int64() -> None:
    out = render(
        {"t": "{{ mul 9223372036854775807 9223372036854775807 3 }}|{{ add 9223372036854775807 1 }}"}, {}
    )
    assert out["t"] == "3|-9223372036854775808"
    out = render({"t": "{{ $x := 3 }}{{ range until 200 }}{{ $x = mul $x $x }}{{ end }}{{ $x }}"}, {})
    assert -(2**63) <= int(out["t"]) < 2**63


def test_huge_printf_width_is_go_noverb() -> None:
    # Go's fmt gives up on widths past 1e6 digits-worth: "%!(NOVERB)", no allocation.
    start = time.monotonic()
    out = render({"t": '{{ printf "%1000000000d" 1 }}'}, {})["t"]
    assert out == "%!(NOVERB)%!(EXTRA int=1)"
    assert time.monotonic() - start < 0.5


def test_division_by_zero() -> None:
    for src in ("{{ div 1 0 }}", "{{ mod 1 0 }}", "{{ divf 1 0 }}"):
        with pytest.raises(TemplateError) as info:
            render({"t": src}, {})
        assert info.value.kind == "division by zero"


def test_time_limit() -> None:
    limits = Limits(max_steps=10**9, time_budget=0.2)
    start = time.monotonic()
    with pytest.raises(TemplateError) as info:
        render({"t": "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}"}, {}, limits=limits)
    assert info.value.kind == "time limit"
    assert time.monotonic() - start < 1.0


def test_one_budget_for_the_whole_render_call() -> None:
    limits = Limits(max_steps=30_000)
    one = "{{ range until 5000 }}x{{ end }}"
    render({"a": one}, {}, limits=limits)
    with pytest.raises(TemplateError) as info:
        render({f"t{i}": one for i in range(10)}, {}, limits=limits)
    assert info.value.kind == "step limit"
    assert info.value.name.startswith("t")


def test_max_range_iterations_is_per_range() -> None:
    limits = Limits(max_range_iterations=10)
    assert (
        render({"t": "{{ range 10 }}x{{ end }}{{ range 10 }}y{{ end }}"}, {}, limits=limits)["t"]
        == "x" * 10 + "y" * 10
    )
    with pytest.raises(TemplateError) as info:
        render({"t": "{{ range 11 }}x{{ end }}"}, {}, limits=limits)
    assert info.value.kind == "range limit"


def test_output_limit_counts_utf8_bytes() -> None:
    limits = Limits(max_output_bytes=10)
    assert render({"t": "{{ repeat 5 .e }}"}, {"e": "é"}, limits=limits)["t"] == "é" * 5
    with pytest.raises(TemplateError) as info:
        render({"t": "{{ repeat 6 .e }}"}, {"e": "é"}, limits=limits)
    assert info.value.kind == "output limit"
    binary = bytes(range(128, 138)).decode("utf-8", "surrogateescape")  # 10 bytes, each escaped
    assert render({"t": "{{ .b }}"}, {"b": binary}, limits=limits)["t"] == binary


def test_recursion_within_depth_is_fine() -> None:
    src = (
        '{{ define "count" }}{{ if . }}{{ len . }} {{ template "count" (rest .) }}{{ end }}{{ end }}'
        '{{ template "count" (until 20) }}'
    )
    assert render({"t": src}, {})["t"].split() == [str(n) for n in range(20, 0, -1)]


def test_deep_nesting_never_recursion_error_even_with_raised_limits() -> None:
    limits = Limits(max_depth=100_000, max_source_bytes=1 << 20)
    for src in ("{{" + "(" * 5000 + "1" + ")" * 5000 + "}}", "{{ if 1 }}" * 5000 + "{{ end }}" * 5000):
        with pytest.raises(TemplateError) as info:
            parse("t", src, limits=limits)
        assert info.value.kind == "depth limit"
    with pytest.raises(TemplateError) as info:
        render({"t": '{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}'}, {}, limits=limits)
    assert info.value.kind == "depth limit"


def test_many_live_values_hit_the_allocation_cap() -> None:
    # each value fits the value limit, but 70 of them alive at once would be 70 MB
    source = "".join(f'{{{{ $v{i} := repeat 1000000 "x" }}}}' for i in range(70))
    start = time.monotonic()
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {})
    assert info.value.kind == "value limit"
    assert time.monotonic() - start < 2.0


def test_ordinary_loops_are_well_within_budget() -> None:
    source = "{{ $l := list }}{{ range until 3000 }}{{ $l = append $l . }}{{ end }}{{ len $l }}"
    assert render({"t": source}, {})["t"] == "3000"
    source = (
        '{{ $d := dict }}{{ range $i := until 3000 }}{{ $_ := set $d (toString $i) "v" }}{{ end }}'
        "{{ len $d }}"
    )
    assert render({"t": source}, {})["t"] == "3000"


# --- expensive functions: key generation, bcrypt, scrypt, PKCS#12 key derivation ---------------------

EXPENSIVE = [
    '{{ range until 1000 }}{{ genPrivateKey "rsa" }}{{ end }}',
    "{{ range until 1000 }}{{ genPrivateKey `` }}{{ end }}",
    '{{ range until 1000 }}{{ genPrivateKey "dsa" }}{{ end }}',
    '{{ range until 1000 }}{{ bcrypt "pw" }}{{ end }}',
    '{{ range until 1000 }}{{ htpasswd "u" "pw" }}{{ end }}',
    '{{ range until 1000 }}{{ derivePassword 1 "long" "pw" "u" "s" }}{{ end }}',
    '{{ range until 1000 }}{{ genCA "x" 1 }}{{ end }}',
    '{{ range until 1000 }}{{ genSelfSignedCert "x" nil nil 1 }}{{ end }}',
    '{{ $ca := genCA "x" 1 }}{{ range until 1000 }}{{ genSignedCert "x" nil nil 1 $ca }}{{ end }}',
    '{{ range until 100000 }}{{ $_ := genPrivateKey "ed25519" }}{{ end }}',
    '{{ $k := genPrivateKey "ecdsa" }}{{ range until 100000 }}{{ $_ := genCAWithKey "x" 1 $k }}{{ end }}',
    '{{ $c := genSelfSignedCert "x" nil nil 1 }}'
    '{{ range until 100000 }}{{ $_ := pemToPkcs12Pass $c.Cert $c.Key "pw" }}{{ end }}',
]


@pytest.mark.parametrize("source", EXPENSIVE)
def test_expensive_loops_fail_fast(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The budget bounds two things: the estimated work it admits (1,200 ms by default) and the
    # time spent outside admitted calls (the 1 s deadline, which admitted calls' time is given
    # back to). Key generation's real cost varies several-fold from key to key (RSA-4096: 0.2 to
    # 2.4 s), so the wall time of the admitted calls is only guarded loosely; the time outside them
    # is held to the deadline.
    inside = [0.0]
    enter, leave = budget_module._Expensive.__enter__, budget_module._Expensive.__exit__

    def timed_enter(self: budget_module._Expensive) -> None:
        inside.append(time.monotonic())
        enter(self)

    def timed_exit(self: budget_module._Expensive, *exc: object) -> None:
        leave(self, *exc)  # type: ignore[arg-type]
        inside[0] += time.monotonic() - inside.pop()

    monkeypatch.setattr(budget_module._Expensive, "__enter__", timed_enter)
    monkeypatch.setattr(budget_module._Expensive, "__exit__", timed_exit)
    start = time.monotonic()
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {})
    elapsed = time.monotonic() - start
    assert info.value.kind == "expensive call limit", str(info.value)
    assert info.value.detail is not None and info.value.detail in source  # names the function
    assert len(inside) == 1  # every admitted call left
    assert elapsed - inside[0] < 1.5
    assert elapsed < 8


def test_expensive_budget_is_shared_by_the_templates_of_one_render() -> None:
    one = '{{ bcrypt "pw" | len }}'
    assert render({f"t{i}": one for i in range(8)}, {})["t0"] == "60"
    with pytest.raises(TemplateError) as info:
        render({f"t{i}": one for i in range(9)}, {})
    assert (info.value.name, info.value.kind, info.value.detail) == ("t8", "expensive call limit", "bcrypt")


def test_expensive_limits_are_configurable() -> None:
    limits = Limits(max_expensive_calls=2)
    assert render({"t": '{{ bcrypt "a" | len }}{{ bcrypt "b" | len }}'}, {}, limits=limits)["t"] == "6060"
    with pytest.raises(TemplateError) as info:
        render({"t": '{{ bcrypt "a" }}{{ bcrypt "b" }}{{ bcrypt "c" }}'}, {}, limits=limits)
    assert info.value.kind == "expensive call limit" and info.value.column == 36
    # cheap crypto counts only against the estimated milliseconds
    many = '{{ range until 50 }}{{ $_ := genPrivateKey "ed25519" }}{{ end }}ok'
    assert render({"t": many}, {}, limits=limits)["t"] == "ok"
    with pytest.raises(TemplateError) as info:
        render({"t": many}, {}, limits=Limits(max_expensive_ms=20))
    assert info.value.kind == "expensive call limit"


def test_time_spent_in_admitted_calls_is_given_back() -> None:
    # an RSA-4096 key takes 0.3-0.7 s, more than this whole time budget: admitted, it is not
    # counted against the time budget, which still bounds the interpretation around it
    limits = Limits(time_budget=0.25)
    out = render(
        {"t": '{{ genPrivateKey "rsa" | len | lt 3000 }}{{ range until 1000 }}{{ end }}'}, {}, limits=limits
    )
    assert out["t"] == "true"
    with pytest.raises(TemplateError) as info:
        render(
            {"t": '{{ $_ := genPrivateKey "ed25519" }}{{ range 100000 }}{{ range 100 }}{{ end }}{{ end }}'},
            {},
            limits=Limits(time_budget=0.25, max_steps=10**9),
        )
    assert info.value.kind == "time limit"


def test_bcrypt_cost_is_fixed_and_long_passwords_are_sprigs_error_text() -> None:
    # Sprig's DefaultCost, nothing else
    assert render({"t": '{{ bcrypt "x" | trunc 7 }}'}, {})["t"] == "$2a$10$"
    out = render({"t": '{{ bcrypt (repeat 73 "x") }}'}, {})["t"]
    assert out == "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"


def test_to_yaml_of_many_line_separators_is_linear() -> None:
    # toYaml's check for where libyaml's indent may be trimmed once searched each separator's rest
    # of the string: 200,000 of them took 40 s, outside any budget check
    start = time.monotonic()
    out = render({"t": '{{ toYaml (repeat 200000 "\u2028x") | len }}'}, {})["t"]
    assert out == "1200002"
    assert time.monotonic() - start < 3
