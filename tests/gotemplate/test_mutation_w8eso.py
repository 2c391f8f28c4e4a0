"""Survivors of ESO's toYaml / fromYaml scalar resolution and filterPEM (eso.py), round 5.

Expected values are ESO v2 over sigs.k8s.io/yaml (yaml.v2's resolve, keyList.Less and encoder,
encoding/json in between) and Go's encoding/pem Decode (the linear version) as used by ESO's
filterPEM. Stray surrogates in data stand for invalid UTF-8 and become U+FFFD, as Go's JSON encoder
does.
"""

from __future__ import annotations

import pytest

from .cases_crypto import F
from .test_mutation_funcsB import fails, r

# --- fromYaml: how yaml.v2 resolves plain scalars ------------------------------------------------------


@pytest.mark.parametrize(
    ("yaml", "want"),
    [
        ("a: .nan", '{"Error":"error converting YAML to JSON: json: unsupported value: NaN"}'),
        ("a: .NaN", '{"Error":"error converting YAML to JSON: json: unsupported value: NaN"}'),
        ("a: -.inf", '{"Error":"error converting YAML to JSON: json: unsupported value: -Inf"}'),
        ("a: -.Inf", '{"Error":"error converting YAML to JSON: json: unsupported value: -Inf"}'),
        ("a: .inf", '{"Error":"error converting YAML to JSON: json: unsupported value: +Inf"}'),
        ("a: .5", '{"a":0.5}'),
        ("a: .x", '{"a":".x"}'),
        ("a: .", '{"a":"."}'),
        ("a: 1_0.5", '{"a":10.5}'),  # underscores dropped before ParseFloat
        ("a: 1_000", '{"a":1000}'),
        ("a: 0b101", '{"a":5}'),
        ("a: 0b-101", '{"a":-5}'),  # ParseInt(plain[2:], 2) after ParseInt(plain, 0) refused it
        ("a: 0b+101", '{"a":5}'),
        ("a: 0b2", '{"a":"0b2"}'),
    ],
)
def test_from_yaml_plain_scalar(yaml: str, want: str) -> None:
    assert r("{{ fromYaml .y | toJson }}", {"y": yaml}) == want


# yaml.v2 only knows "-0b": ParseInt("-"+plain[3:], 2), so a second sign fails; "+0b" has no branch.
# The rest: strconv as Go has it, not as Python's int()/float() would read the text.
STRCONV_YAML = [
    ("a: -0b-101", '{"a":"-0b-101"}'),
    ("a: -0b+101", '{"a":"-0b+101"}'),
    ("a: +0b-101", '{"a":"+0b-101"}'),
    ("a: +0b+101", '{"a":"+0b+101"}'),
    ("a: +0b101", '{"a":5}'),  # ParseInt(plain, 0): a sign, then the 0b prefix
    ("a: 1e999", '{"a":"1e999"}'),  # ParseFloat's ErrRange: yaml.v2 keeps the string
    ("a: " + "1" * 400, '{"a":"' + "1" * 400 + '"}'),  # past MaxFloat64 too
    ("a: -1e-999", '{"a":-0}'),  # underflow is no error: -0
    ("a: .\u0665", '{"a":".\u0665"}'),  # ParseFloat knows ASCII digits only; Python's float() does not
    ("a: 1\u0665", '{"a":"1\u0665"}'),
    ("a: 0xFFFFFFFFFFFFFFFF", '{"a":18446744073709552000}'),  # ParseUint(plain, 0) after ParseInt failed
    ("a: 0x1_0000_0000_0000_0000", '{"a":"0x1_0000_0000_0000_0000"}'),  # past uint64, and no float
    ("a: 0o1777777777777777777777", '{"a":18446744073709552000}'),
    ("a: -0xFFFFFFFFFFFFFFFF", '{"a":"-0xFFFFFFFFFFFFFFFF"}'),  # ParseUint takes no sign
    ("a: 0x", '{"a":"0x"}'),
    ("a: 0b", '{"a":"0b"}'),
    ("a: 0_0_7", '{"a":7}'),  # octal, "_" dropped first
    ("a: 09", '{"a":9}'),  # no octal, but yamlStyleFloat: the float 9
    ("a: .5_5", '{"a":0.55}'),  # "." first: ParseFloat itself, with Go's underscore rule
    ("a: .5e1_0", '{"a":5000000000}'),
    ("a: ._5", '{"a":"._5"}'),
    ("a: .5_", '{"a":".5_"}'),
    ("a: .5__5", '{"a":".5__5"}'),
    ("a: .5_e1", '{"a":".5_e1"}'),
    ("a: .5e_1", '{"a":".5e_1"}'),
    ("a: .5e", '{"a":".5e"}'),
    ("a: .1e400", '{"a":".1e400"}'),
    ("a: .infinity", '{"a":".infinity"}'),
    ("a: 1_e5", '{"a":100000}'),  # "_" dropped before ParseFloat
    ("a: 1e5_", '{"a":100000}'),
    ("a: nan", '{"a":"nan"}'),
    ("a: +inf", '{"a":"+inf"}'),
    ("a: 1.5 ", '{"a":1.5}'),  # the blank is YAML's, not the scalar's
]


@pytest.mark.parametrize(("yaml", "want"), STRCONV_YAML)
def test_from_yaml_plain_scalar_strconv(yaml: str, want: str) -> None:
    assert r("{{ fromYaml .y | toJson }}", {"y": yaml}) == want


def test_from_yaml_long_numbers_stay_fast() -> None:
    # ParseInt/ParseUint on 200,000 digits fail at once in Go; here no int() or float() grows with them
    for digits in ("9" * 200_000, "0x" + "F" * 200_000, "0" + "7" * 200_000, "0b" + "1" * 200_000):
        r("{{ fromYaml .y | len }}", {"y": "a: " + digits})


@pytest.mark.parametrize(
    ("v", "want"),
    [
        ("1e999", "1e999"),  # yaml.v2 resolves it to a string (ErrRange), so it needs no quotes
        ("1e308", '"1e308"'),
        (".1e400", ".1e400"),
        ("0xFFFFFFFFFFFFFFFF", '"0xFFFFFFFFFFFFFFFF"'),  # a uint64 to yaml.v2
        ("0b-101", '"0b-101"'),
        ("-0b-101", "-0b-101"),
        ("+0b101", '"+0b101"'),
        ("+0b-101", "+0b-101"),
        (".5_5", '".5_5"'),
        ("._5", "._5"),
        ("1\u0665", "1\u0665"),
    ],
)
def test_to_yaml_quotes_what_yaml_v2_resolves(v: str, want: str) -> None:
    assert r("{{ toYaml .v }}", {"v": v}) == want


def test_to_yaml_out_of_range_float_text_is_plain() -> None:
    assert r("{{ toYaml .v }}", {"v": "1e999"}) == "1e999"


@pytest.mark.parametrize(
    ("v", "quoted"),
    [
        # parseTimestamp: time.Parse with "2006-1-2T15:4:5.999999999Z07:00", its "t" twin,
        # "2006-1-2 15:4:5.999999999" and "2006-1-2"
        ("2020-1-2", True),
        ("2020-01-02T10:00:00Z", True),
        ("2020-01-02t1:2:3+24:00", True),
        ("2020-01-02T10:00:00,5-01:30", True),  # a comma before the fraction
        ("2020-01-02T10:00:00.1234567890123Z", True),  # any number of fraction digits
        ("2020-01-02  10:00:00", True),  # the layout's blank takes a run of blanks
        ("2020-01-02 10:00:00.5", True),
        ("2020-02-29", True),
        ("0000-02-29", True),  # year 0 is a leap year
        ("2020-01-02T10:00:00", False),  # "T" needs a zone
        ("2020-01-02 10:00:00Z", False),  # the blank layout has none
        ("2020-01-02T10:00:00+25:00", False),
        ("2020-01-02T10:00:00+01:61", False),
        ("2020-01-02T10:00:00+0100", False),
        ("2020-01-02T24:00:00Z", False),
        ("2020-01-02T10:60:00Z", False),
        ("2020-01-02T10:00:60Z", False),
        ("2020-01-02T10:00:00.Z", False),
        ("2020-13-02", False),
        ("2020-0-2", False),
        ("2021-02-29", False),
        ("1900-02-29", False),
        ("2020-04-31", False),
        ("2020-001-02", False),
        ("20201-01-02", False),
        ("2020-01-02x", False),
        ("2020-\u0661-02", False),
    ],
)
def test_to_yaml_quotes_yaml_v2_timestamps(v: str, quoted: bool) -> None:
    assert r("{{ toYaml .v }}", {"v": v}) == (f'"{v}"' if quoted else v)


def test_to_yaml_big_float_is_a_uint64() -> None:
    # JSON writes 1e19 as 10000000000000000000, which yaml.v2 reads with ParseUint: printed whole
    assert r("{{ toYaml .v }}", {"v": 1e19}) == "10000000000000000000"
    assert r("{{ toYaml .v }}", {"v": 2e19}) == "2e+19"
    assert r("{{ toYaml .v }}", {"v": -1e19}) == "-1e+19"


def test_to_yaml_key_order_non_ascii_digit() -> None:
    # keyList.Less adds rune-'0' for every unicode.IsDigit rune: U+0663 counts 1587
    assert r("{{ toYaml .v }}", {"v": {"a\u0663": 1, "a2": 2, "a5": 3}}) == "a2: 2\na5: 3\na\u0663: 1"


def test_to_yaml_key_order_wraps_like_int64() -> None:
    # 19 nines overflow keyList.Less's int64 to a negative number, which sorts before 1
    assert r("{{ toYaml .v }}", {"v": {"a1": 1, "a" + "9" * 19: 2}}) == "a" + "9" * 19 + ": 2\na1: 1"
    assert r("{{ toYaml .v }}", {"v": {"a2": 1, "a" + "9" * 18: 2}}) == "a2: 1\na" + "9" * 18 + ": 2"


def test_to_yaml_keys_with_invalid_utf8() -> None:
    # encoding/json writes an invalid byte as U+FFFD before yaml.v2 sorts the keys
    assert r("{{ toYaml .v }}", {"v": {"a\udc80": 1, "a\ue000": 2}}) == "a\ue000: 2\na\ufffd: 1"
    # two keys JSON spells alike: the object repeats the key and yaml.v2 keeps the last (byte order)
    keys = {"a\udc81": 1}
    keys["a\udc80"] = 2
    assert r("{{ toYaml .v }}", {"v": keys}) == "a\ufffd: 1"


# --- toYaml --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("v", "want"),
    [
        (12345678.5, "1.23456785e+07"),  # yaml.v2 writes floats with FormatFloat(f, 'g', -1)
        (
            ["\ud800", "\udfff", "\ud800\ue000", "x\udc80y", "\ue000"],
            "- \ufffd\n- \ufffd\n- \ufffd\ue000\n- x\ufffdy\n- \ue000",
        ),
        (["x", [], {}, [1], {"a": [2]}], "- x\n- []\n- {}\n- - 1\n- a:\n  - 2"),
    ],
)
def test_to_yaml_values(v: object, want: str) -> None:
    assert r("{{ toYaml .v }}", {"v": v}) == want


def test_to_yaml_structs_and_times() -> None:
    assert r('{{ semver "1.2.3" | toYaml }}') == "1.2.3"  # *semver.Version marshals as its string
    assert r('{{ toDate "2006-01-02" "2020-01-02" | toYaml }}') == '"2020-01-02T00:00:00Z"'
    cert = r("{{ buildCustomCert (b64enc .leaf) (b64enc .leaf_key) | toYaml }}", F)
    assert cert.startswith("Cert: |\n  -----BEGIN CERTIFICATE-----\n")
    assert "\nKey: |\n  -----BEGIN " in cert


@pytest.mark.parametrize("wrap", ["list $v", 'dict "a" $v'])
def test_to_yaml_depth_limit(wrap: str) -> None:
    src = "{{ $v := 1 }}{{ range until %d }}{{ $v = %s }}{{ end }}{{ toYaml $v | len }}"
    assert r(src % (100, wrap)) == ("201" if wrap.startswith("list") else "10201")
    col = 65 if wrap.startswith("list") else 69
    assert str(fails(src % (101, wrap))) == f'template "t": line 1, column {col}: depth limit: toYaml'


# --- filterPEM (encoding/pem Decode) --------------------------------------------------------------------

B = "-----BEGIN X-----\nQUJD\n-----END X-----\n"
FAILED = 'template "t": line 1, column 4: function failed: filterPEM'

PEM_CASES = [
    ("no newline at the end", "-----BEGIN X-----\nQUJD\n-----END X-----", B),
    ("blanks after the type line", "-----BEGIN X----- \t\nQUJD\n-----END X-----\n", B),
    ("CR CR LF: one CR stays", "-----BEGIN X-----\r\r\nQUJD\n-----END X-----\n", None),
    ("VT is no blank", "-----BEGIN X-----\x0b\nQUJD\n-----END X-----\n", None),
    ("junk after END trailer", "-----BEGIN X-----\nQUJD\n-----END X-----X\n" + B, B),
    ("header line eats the END line", "-----BEGIN X-----\nA: b\n-----END X-----: y\nc\n\n" + B, None),
    ("END first", "\n-----END X-----\n" + B, B),
    ("stray END after a block", B + "junk\n-----END X-----\n", B),
    ("last BEGIN wins", "-----BEGIN X-----\n" + B, B),
    ("BEGIN not at line start", "x-----BEGIN X-----\nQUJD\n-----END X-----\n", None),
    ("BEGIN not at line start, then a block", "x-----BEGIN X-----\nQUJD\n-----END X-----\n" + B, B),
    ("type line without dashes, then a block", "-----BEGIN X\nQUJD\n-----END X-----\n" + B, B),
    ("header value with a colon", "-----BEGIN X-----\nA: b:c\n\nQUJD\n-----END X-----\n", None),
    ("headers, blank line, END", "-----BEGIN X-----\nA: b\n\n-----END X-----\n", None),
    ("headers then END without blank line", "-----BEGIN X-----\nA: b\n-----END X-----\n" + B, B),
    ("END trailer cut short", "-----BEGIN X----------\nQUJD\n-----END X-----", None),
    ("block, then a cut END trailer", B + "-----BEGIN LONG-----\n-----END L", B),
    ("END type differs", "-----BEGIN X-----\nQUJD\n-----END Y-----\n", None),
    ("END type differs, then a block", "-----BEGIN X-----\nQUJD\n-----END Y-----\n" + B, B),
    ("junk after END, then a block", "-----BEGIN X-----\nQUJD\n-----END X-----junk\n" + B, B),
    ("empty block", "-----BEGIN X-----\n-----END X-----\n", None),
    ("one base64 char", "-----BEGIN X-----\nQ\n-----END X-----\n", None),
    ("one base64 char, then a block", "-----BEGIN X-----\nQ\n-----END X-----\n" + B, B),
    ("spaces and tabs in the body", "-----BEGIN X-----\nQU JD\nQU\tJD\n-----END X-----\n", None),
    ("bad base64", "-----BEGIN X-----\nQUJD!\n-----END X-----\n", None),
    ("bad base64, then a block", "-----BEGIN X-----\nQUJD!\n-----END X-----\n" + B, B),
]
PEM_WANT = {
    "header value with a colon": "-----BEGIN X-----\nA: b:c\n\nQUJD\n-----END X-----\n",
    "headers, blank line, END": "-----BEGIN X-----\nA: b\n\n-----END X-----\n",
    "empty block": "-----BEGIN X-----\n-----END X-----\n",
    "spaces and tabs in the body": "-----BEGIN X-----\nQUJDQUJD\n-----END X-----\n",
}


@pytest.mark.parametrize(("name", "pem", "want"), PEM_CASES, ids=[c[0] for c in PEM_CASES])
def test_filter_pem_decode(name: str, pem: str, want: str | None) -> None:
    want = want if want is not None else PEM_WANT.get(name)
    if want is None:
        assert str(fails('{{ filterPEM "X" .p }}', {"p": pem})) == FAILED
    else:
        assert r('{{ filterPEM "X" .p }}', {"p": pem}) == want


def test_to_yaml_key_order_mixed_digit_runs() -> None:
    # keyList.Less: "1\u0669" is 10+1593 and "\u06602" is 15840+2 in Go; 1 < 2 here; both put x1\u0669 first
    assert r("{{ toYaml .v }}", {"v": {"x\u06602": 2, "x1\u0669": 1}}) == "x1\u0669: 1\nx\u06602: 2"
