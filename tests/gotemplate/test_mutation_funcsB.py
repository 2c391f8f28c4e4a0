"""Mutants of the engine core and of the string, encoding, regex, JSON and certificate helpers.

Expected values are Go 1.26 text/template (parse.IsEmptyTree, blockControl), encoding/json,
path, strings, net/url and crypto/x509, Sprig v3 and ESO v2; where a value is our own resource
accounting (steps, value sizes, depth) the test says so.
"""

from __future__ import annotations

import datetime
import ipaddress
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

from secretsync.gotemplate import Limits, TemplateError, render
from secretsync.gotemplate.errors import Fault
from secretsync.gotemplate.funcs import sprig_misc, sprig_strings
from secretsync.gotemplate.funcs.eso_crypto import go_name_string
from secretsync.gotemplate.limits import Budget


def r(source: str, data: Any = None, **kw: Any) -> str:
    return render({"t": source}, {} if data is None else data, **kw)["t"]


def fails(source: str, data: Any = None, **kw: Any) -> TemplateError:
    with pytest.raises(TemplateError) as info:
        render({"t": source}, {} if data is None else data, **kw)
    return info.value


def least_limit(
    source: str, field: str, data: Any = None, kind: str | None = None, high: int = 100_000
) -> int:
    """The least value of the limit ``field`` under which ``source`` renders (a binary search).

    With ``kind``, every failure on the way must be that limit's error."""

    def passes(limit: int) -> bool:
        try:
            r(source, data, limits=Limits(**{field: limit}))
        except TemplateError as err:
            assert kind is None or err.kind == kind
            return False
        return True

    low = 1
    assert passes(high)
    while low < high:
        mid = (low + high) // 2
        if passes(mid):
            high = mid
        else:
            low = mid + 1
    return high


def nest(depth: int) -> Any:
    v: Any = 1
    for _ in range(depth):
        v = [v]
    return v


# --- builtins: and/or short-circuit, html/js/urlquery's evalArgs --------------------------------------


# Go evaluates and/or arguments lazily: the fail is never called
AND_OR_CASES = [
    ('{{ and false (fail "boom") }}', "false"),
    ('{{ and 0 (fail "boom") 1 }}', "0"),
    ('{{ or true (fail "boom") }}', "true"),
    ('{{ or "x" (fail "boom") }}', "x"),
]


@pytest.mark.parametrize(("source", "want"), AND_OR_CASES)
def test_and_or_stop_at_the_deciding_argument(source: str, want: str) -> None:
    assert r(source) == want


@pytest.mark.parametrize(
    ("source", "want"),
    [
        ("{{ html }}|{{ js }}|{{ urlquery }}", "||"),  # evalArgs of nothing: fmt.Sprint() is ""
        ('{{ html "a" "b" }}|{{ js "a" "b" }}|{{ urlquery "a" "b" }}', "ab|ab|ab"),
        ('{{ html "<" ">" }}', "&lt;&gt;"),
        ('{{ html "a" 1 }}', "a1"),
    ],
)
def test_escapers_print_all_their_arguments(source: str, want: str) -> None:
    assert r(source) == want


# --- encoding/json decoding (fromJson) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ('"\\udfff"', "\ufffd"),  # a lone surrogate escape becomes U+FFFD, as Go's decoder does
        ('"\\ud800x"', "\ufffdx"),
        ('"\\ue000"', "\ue000"),  # the first code point past the surrogates is kept
        ('"éa"', "éa"),
        ('"é\\udc00ü"', "é\ufffdü"),
        ('{"\\udfff": 1}', "map[\ufffd:1]"),
    ],
)
def test_from_json_replaces_only_surrogates(text: str, want: str) -> None:
    assert r("{{ fromJson .s }}", {"s": text}) == want


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("[" * 100 + "1" + "]" * 100, True),  # the innermost value at depth 100: our max_depth
        ("[" * 101 + "1" + "]" * 101, False),
        ('{"a":' * 100 + "1" + "}" * 100, True),
        ('{"a":' * 101 + "1" + "}" * 101, False),
        ("[" * 60 + "1" + "]" * 60, True),
        ('{"a":' * 60 + "1" + "}" * 60, True),
    ],
)
def test_from_json_depth_limit_boundary(text: str, ok: bool) -> None:
    source = "{{ $x := fromJson .s }}ok"
    if ok:
        assert r(source, {"s": text}) == "ok"
    else:
        err = fails(source, {"s": text})
        assert (err.kind, err.detail) == ("depth limit", "fromJson")


# --- Sprig strings, paths --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "want"),
    [
        ('{{ splitn "" 1 "abcd" }}', "map[_0:abcd]"),
        ('{{ splitn "" 2 "abcd" }}', "map[_0:a _1:bcd]"),
        ('{{ splitn "" 3 "abcd" }}', "map[_0:a _1:b _2:cd]"),
        ('{{ splitn "" 4 "abcd" }}', "map[_0:a _1:b _2:c _3:d]"),
        ('{{ splitn "" 9 "abcd" }}', "map[_0:a _1:b _2:c _3:d]"),
        ('{{ splitn "" -1 "ab" }}', "map[_0:a _1:b]"),
        ('{{ splitn "," 1 "a,b,c" }}', "map[_0:a,b,c]"),
        ('{{ splitn "," 2 "a,b,c" }}', "map[_0:a _1:b,c]"),
        ('{{ splitn "," -3 "a,b,c" }}', "map[_0:a _1:b _2:c]"),
        ('{{ splitn "," 0 "a,b,c" }}', "map[]"),
        ('{{ base "fooX" }}|{{ base "a/bX/" }}|{{ base "X" }}', "fooX|bX|X"),
    ],
)
def test_splitn_and_base_as_go(source: str, want: str) -> None:
    assert r(source) == want


@pytest.mark.parametrize("fn", ["randAlphaNum", "randAlpha", "randNumeric", "randAscii"])
def test_random_strings_of_one_character(fn: str) -> None:
    assert r(f"{{{{ {fn} 1 | len }}}}|{{{{ {fn} 0 | len }}}}") == "1|0"


def test_split_refuses_a_result_past_the_value_limit() -> None:
    """Our accounting: an explode of n runes counts 16 bytes a rune, a split len(s) + 16 a part."""
    sprig_strings._split_parts(Budget(Limits(max_value_bytes=64)), "", "abcd")
    with pytest.raises(Fault) as info:
        sprig_strings._split_parts(Budget(Limits(max_value_bytes=63)), "", "abcd")
    assert info.value.kind == "value limit"
    sprig_strings._split_parts(Budget(Limits(max_value_bytes=35)), ",", "a,b")  # 3 + 2 * 16
    with pytest.raises(Fault):
        sprig_strings._split_parts(Budget(Limits(max_value_bytes=34)), ",", "a,b")


def test_indent_refuses_exactly_past_the_value_limit() -> None:
    """Our accounting: indent measures the exact length of its result before building it."""
    assert sprig_strings._indent(Budget(Limits(max_value_bytes=7)), 2, "a\nb") == "  a\n  b"
    with pytest.raises(Fault) as info:
        sprig_strings._indent(Budget(Limits(max_value_bytes=6)), 2, "a\nb")
    assert info.value.kind == "value limit"


def test_random_charges_eight_bytes_a_character() -> None:
    """Our accounting: bytes_step(count * 8), one step per 256 bytes plus one."""
    budget = Budget(Limits())
    sprig_strings._random(budget, 256, "a")
    assert budget.steps == 1 + (256 * 8 >> 8)


def test_deep_equal_charges_the_lengths_of_lists_and_maps() -> None:
    """Our accounting: one step plus one per element of a list or map argument, none for a scalar."""
    budget = Budget(Limits())
    assert sprig_misc.deep_equal_(budget, [1] * 10, [1] * 10)
    assert budget.steps == 21
    budget = Budget(Limits())
    assert not sprig_misc.deep_equal_(budget, 1, "x")
    assert budget.steps == 1


# --- values: lt on strings, deepCopy ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "want"),
    [
        ('{{ lt "a" "a" }}|{{ lt "a" "b" }}|{{ lt "b" "a" }}', "false|true|false"),
        ('{{ lt "é" "é" }}|{{ lt "é" "ü" }}|{{ lt "ü" "é" }}', "false|true|false"),
        ('{{ lt "a" "é" }}|{{ lt "é" "a" }}|{{ lt "z" "é" }}', "true|false|true"),
        ('{{ le "é" "é" }}|{{ ge "a" "a" }}', "true|true"),
    ],
)
def test_lt_on_strings_is_strict(source: str, want: str) -> None:
    assert r(source) == want


def test_deep_copy_keeps_the_map_type() -> None:
    # copystructure copies a map[string]string as one and a map[string]interface{} as one: with
    # missingkey=zero a missing key of the first is "", of the second the nil interface
    assert r('{{ (deepCopy (dict "a" 1)).b }}', missing_key="zero") == "<no value>"
    assert r('{{ (deepCopy (split "," "a")).zz }}', missing_key="zero") == ""
    source = '{{ deepCopy (split "," "a,b") }}|{{ deepCopy (dict "a" (list 1)) }}'
    assert r(source) == "map[_0:a _1:b]|map[a:[1]]"


@pytest.mark.parametrize("depth", [1, 2, 50, 60, 99])
def test_deep_copy_of_nested_values(depth: int) -> None:
    data = {"v": nest(depth), "m": {"a": nest(depth - 1)}}
    assert r("{{ deepCopy .v | toJson }}|{{ deepCopy .m | toJson }}", data) == (
        "[" * depth + "1" + "]" * depth + '|{"a":' + "[" * (depth - 1) + "1" + "]" * (depth - 1) + "}"
    )


def test_deep_copy_at_the_depth_limit() -> None:
    # the innermost value at depth 100 (our max_depth) is copied; one deeper is refused
    assert r("{{ $x := deepCopy (list .v) }}ok", {"v": nest(99)}) == "ok"
    assert r('{{ $x := deepCopy (dict "a" .v) }}ok', {"v": nest(99)}) == "ok"
    assert fails("{{ $x := deepCopy (list (list .v)) }}ok", {"v": nest(99)}).kind == "depth limit"


def test_deep_copy_follows_a_larger_depth_limit() -> None:
    limits = Limits(max_depth=200)
    data = {"v": nest(150), "m": {"a": nest(150)}}
    assert r("{{ $x := deepCopy .v }}{{ $y := deepCopy .m }}ok", data, limits=limits) == "ok"


# --- parser: redefinition (parse.IsEmptyTree), block, messages ---------------------------------------


@pytest.mark.parametrize(
    ("first", "ok"),
    [
        ("", True),
        (" \t\r\n\v\f", True),
        ("{{/* c */}}", True),
        ("{{- /* c */ -}}  ", True),
        ("\x1c", False),  # not white space to Go's unicode.IsSpace
        ("\x1f", False),
        ("X", False),
        ("{{ 1 }}", False),
        ("{{ if 1 }}{{ end }}", False),
        (" x ", False),
    ],
)
def test_a_define_may_replace_only_an_empty_one(first: str, ok: bool) -> None:
    source = '{{ define "a" }}' + first + '{{ end }}{{ define "a" }}y{{ end }}{{ template "a" }}'
    if ok:
        assert r(source) == "y"
    else:
        err = fails(source)
        assert (err.kind, err.detail) == ("syntax", "multiple definition of template")


@pytest.mark.parametrize("space", ["\u00a0", "\u0085", "\u2003", "\u3000"])
def test_a_define_of_unicode_spaces_is_empty(space: str) -> None:
    assert r('{{ define "a" }}' + space + '{{ end }}{{ define "a" }}y{{ end }}{{ template "a" }}') == "y"


def test_block_body_is_a_new_tree() -> None:
    # its own "$" and no enclosing range: blockControl starts a new Tree
    assert r('{{ block "b" .a }}[{{ $ }}]{{ end }}', {"a": 1}) == "[1]"
    err = fails('{{ range . }}{{ block "b" . }}{{ break }}{{ end }}{{ end }}', [1])
    assert (err.kind, err.detail) == ("syntax", "{{break}} outside {{range}}")
    err = fails('{{ range . }}{{ block "b" . }}{{ continue }}{{ end }}{{ end }}', [1])
    assert (err.kind, err.detail) == ("syntax", "{{continue}} outside {{range}}")


def test_block_with_else_is_refused_where_the_block_starts() -> None:
    err = fails('x\n {{ block "b" . }}{{ else }}{{ end }}')
    assert str(err) == 'template "t": line 2, column 5: syntax: unexpected {{else}} in block clause'


def test_block_clause_named_in_its_errors() -> None:
    assert fails("{{ block 1 . }}{{ end }}").detail == 'unexpected "1" in block clause'
    assert fails('{{ block "b" }}').detail == "missing value for block clause"


@pytest.mark.parametrize("source", ['{{ define "a" }}', "{{ if 1 }}", "{{ range . }}x"])
def test_unexpected_eof_is_named(source: str) -> None:
    assert fails(source).detail == "unexpected EOF"


def test_a_block_gives_its_nesting_level_back() -> None:
    # our max_depth bounds nesting (10 levels here); a block before them does not use any
    limits = Limits(max_depth=10)
    for before in ('{{ block "b" . }}{{ end }}', '{{ block "b" . }}{{ block "c" . }}{{ end }}{{ end }}'):
        assert r(before + "{{ if 1 }}" * 10 + "x" + "{{ end }}" * 10, limits=limits) == "x"
        err = fails(before + "{{ if 1 }}" * 11 + "x" + "{{ end }}" * 11, limits=limits)
        assert (err.kind, err.detail) == ("depth limit", "nesting")


# --- ESO certificates: certSANs, pkix.Name.String -------------------------------------------------------


def _cert_pem(subject: x509.Name, sans: list[x509.GeneralName]) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=1))
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


CN_X = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "X")])


def test_cert_sans_print_ips_and_uris_as_go() -> None:
    pem = _cert_pem(
        CN_X,
        [
            x509.IPAddress(ipaddress.IPv6Address("::ffff:10.0.0.1")),  # Go's net.IP prints the IPv4 form
            x509.IPAddress(ipaddress.IPv6Address("2001:db8::1")),
            x509.UniformResourceIdentifier("https://h/p#a b"),  # EscapedFragment: the raw one is not valid
            x509.UniformResourceIdentifier("https://h/p#a%20b"),
            x509.UniformResourceIdentifier("https://h/p#x!$"),
        ],
    )
    want = "[10.0.0.1 2001:db8::1 https://h/p#a%20b https://h/p#a%20b https://h/p#x!$]"
    assert r("{{ certSANs .c }}", {"c": pem}) == want
    # ESO trims anything before "-----BEGIN" (trimJunk), even on the same line
    assert r('{{ certSANs (print "junk" .c) }}', {"c": pem}) == want


@pytest.mark.parametrize(
    ("attrs", "want"),
    [
        ([(NameOID.COMMON_NAME, "X")], "CN=X"),
        ([(NameOID.ORGANIZATION_NAME, "XX Inc"), (NameOID.COMMON_NAME, "aXb")], "CN=aXb,O=XX Inc"),
        ([(NameOID.COMMON_NAME, "a,b")], "CN=a\\,b"),
        ([(NameOID.COMMON_NAME, "")], ""),
    ],
)
@pytest.mark.filterwarnings("ignore:Attribute's length:UserWarning")  # the empty CN is built on purpose
def test_name_string_escapes_only_what_go_escapes(attrs: list[tuple[Any, str]], want: str) -> None:
    name = x509.Name([x509.NameAttribute(oid, v, _validate=False) for oid, v in attrs])
    assert go_name_string(name) == want


def test_a_certificate_whose_name_go_cannot_parse_is_refused() -> None:
    # crypto/x509 parseASN1String: "unsupported string type" (UniversalString here); ESO's call fails
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "u", _type=_ASN1Type.UniversalString)])
    assert fails("{{ pemTruststoreToPKCS12 .c }}", {"c": _cert_pem(name, [])}).kind == "function failed"
