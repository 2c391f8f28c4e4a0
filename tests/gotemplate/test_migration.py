"""What users migrating from ESO and Bitnami Sealed Secrets meet: every function they may call,
the ones refused and why, missing keys, and hints for templates that are not Go templates."""

from __future__ import annotations

import pickle
import time

import pytest

from secretsync.gotemplate import TemplateError, parse, render
from secretsync.gotemplate.errors import HINTS
from secretsync.gotemplate.funcs import DEFAULT
from secretsync.gotemplate.refused import REFUSED

# Go 1.26 text/template's builtins (src/text/template/funcs.go, builtins()).
_BUILTINS = "and call html index slice js len not or print printf println urlquery eq ge gt le lt ne"
GO_BUILTINS = _BUILTINS.split()

# Masterminds/sprig v3.3.0: the keys of sprig.TxtFuncMap() (functions.go genericMap), listed by
# running it with Go 1.26. ESO's vendored copy (runtime/template/v2/sprig/functions.go) has
# the same names minus env, expandenv and getHostByName, plus hexdec.
SPRIG_TXT_FUNCS = """
abbrev abbrevboth add add1 add1f addf adler32sum ago all any append atoi b32dec b32enc b64dec b64enc
base bcrypt biggest buildCustomCert camelcase cat ceil chunk clean coalesce compact concat contains
date dateInZone dateModify date_in_zone date_modify decryptAES deepCopy deepEqual default derivePassword
dict dig dir div divf duration durationRound empty encryptAES env expandenv ext fail first float64
floor fromJson genCA genCAWithKey genPrivateKey genSelfSignedCert genSelfSignedCertWithKey genSignedCert
genSignedCertWithKey get getHostByName has hasKey hasPrefix hasSuffix hello htmlDate htmlDateInZone
htpasswd indent initial initials int int64 isAbs join kebabcase keys kindIs kindOf last list lower max
maxf merge mergeOverwrite min minf mod mul mulf mustAppend mustChunk mustCompact mustDateModify
mustDeepCopy mustFirst mustFromJson mustHas mustInitial mustLast mustMerge mustMergeOverwrite
mustPrepend mustPush mustRegexFind mustRegexFindAll mustRegexMatch mustRegexReplaceAll
mustRegexReplaceAllLiteral mustRegexSplit mustRest mustReverse mustSlice mustToDate mustToJson
mustToPrettyJson mustToRawJson mustUniq mustWithout must_date_modify nindent nospace now omit osBase
osClean osDir osExt osIsAbs pick pluck plural prepend push quote randAlpha randAlphaNum randAscii
randBytes randInt randNumeric regexFind regexFindAll regexMatch regexQuoteMeta regexReplaceAll
regexReplaceAllLiteral regexSplit repeat replace rest reverse round semver semverCompare seq set
sha1sum sha256sum sha512sum shuffle slice snakecase sortAlpha split splitList splitn squote sub subf
substr swapcase ternary title toDate toDecimal toJson toPrettyJson toRawJson toString toStrings trim
trimAll trimPrefix trimSuffix trimall trunc tuple typeIs typeIsLike typeOf uniq unixEpoch unset until
untilStep untitle upper urlJoin urlParse uuidv4 values without wrap wrapWith
""".split()  # noqa: SIM905

# external-secrets/external-secrets runtime/template/v2/template.go (main, 2026): tplFuncs;
# getSecretKey from pkg/template/v2/kubernetes.go (v0.1x-v0.19, removed since);
# hexdec from the vendored runtime/template/v2/sprig/functions.go.
ESO_V2_FUNCS = """
pkcs12key pkcs12keyPass pkcs12cert pkcs12certPass pemToPkcs12 pemToPkcs12Pass fullPemToPkcs12
fullPemToPkcs12Pass pemTruststoreToPKCS12 pemTruststoreToPKCS12Pass filterPEM filterCertChain certSANs
jwkPublicKeyPem jwkPrivateKeyPem toYaml fromYaml rsaDecrypt getSecretKey hexdec
""".split()  # noqa: SIM905


def test_sprig_list_is_complete() -> None:
    assert len(SPRIG_TXT_FUNCS) == 211 == len(set(SPRIG_TXT_FUNCS))


@pytest.mark.parametrize("name", sorted(set(GO_BUILTINS + SPRIG_TXT_FUNCS + ESO_V2_FUNCS)))
def test_every_function_is_implemented_or_refused(name: str) -> None:
    assert (name in DEFAULT) != (name in REFUSED), name
    if name in REFUSED:
        with pytest.raises(TemplateError) as info:
            parse("t", "{{ if false }}{{ " + name + " }}{{ end }}")
        assert info.value.kind == "not supported" and info.value.detail == name
        assert info.value.hint in HINTS and HINTS[info.value.hint] in str(info.value)


def test_refused_are_exactly_the_unsafe_ones() -> None:
    assert set(REFUSED) == {"env", "expandenv", "getHostByName", "getSecretKey", "call"}
    assert set(REFUSED.values()) <= set(HINTS)


def test_a_callers_own_function_may_take_a_refused_name() -> None:
    out = render({"t": '{{ env "X" }}'}, {}, funcs={"env": lambda k: "stub-" + k})["t"]
    assert out == "stub-X"


# --- missing keys: ESO errors, Bitnami prints <no value> ----------------------------------------------


def test_missing_key_eso_mode_errors() -> None:
    # ESO: tpl.New(k).Option("missingkey=error") (runtime/template/v2/template.go)
    with pytest.raises(TemplateError) as info:
        render({"t": "{{ .nope }}"}, {"a": "x"}, missing_key="error")
    assert (info.value.kind, info.value.detail) == ("missing key", "nope")


def test_missing_key_bitnami_mode_prints_no_value() -> None:
    # Bitnami: template.New(key).Funcs(sprigFuncMap).Parse(...), no Option: missingkey=default,
    # over a map[string]string (pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go)
    assert render({"t": "[{{ .nope }}]"}, {"a": "x"}, missing_key="default")["t"] == "[<no value>]"
    assert render({"t": '[{{ index . "nope" }}]'}, {"a": "x"}, missing_key="default")["t"] == "[]"


# --- templates written for Jinja2 -------------------------------------------------------------------

JINJA = [
    "{{ password }}",
    "{{ user | upper }}",
    "{{ data['password'] }}",
    '{{ data["password"] }}',
    "{% if x %}{{ x }}{% endif %}",
    "{# comment #}{{ x }}",
    '{{ .x | default("y") }}',
    "{{ .a == .b }}",
    "{{ 'a' ~ .b }}",
    "{{ x.y }}",
    "{{ loop.index }}",
    "{{ a and b }}",
    "{{- password -}}",
]


@pytest.mark.parametrize("source", JINJA)
def test_jinja_gets_a_fixed_hint(source: str) -> None:
    # (A source of only ``{% ... %}`` parses in Go too, as plain text; it gets no error at all.)
    with pytest.raises(TemplateError) as info:
        parse("db-password", source)
    err = info.value
    assert err.kind in ("syntax", "unknown function")
    assert err.hint == "jinja"
    assert str(err).endswith("; hint: " + HINTS["jinja"])
    assert str(err).startswith('template "db-password": line 1, column ')
    assert pickle.loads(pickle.dumps(err)).hint == "jinja"  # noqa: S301 - our own bytes


@pytest.mark.parametrize(
    "source",
    ["{{ nosuch .x }}", "{{ toYAML . }}", "{{ .x ", "{{ if }}", "{{ end }}", "{{ upper .x .y ) }}"],
)
def test_go_mistakes_get_no_jinja_hint(source: str) -> None:
    with pytest.raises(TemplateError) as info:
        parse("t", source)
    assert info.value.hint is None
    assert "hint" not in str(info.value)


def test_jinja_check_is_linear_on_hostile_sources() -> None:
    for source in ("{%" * 30000 + "{{ x }}", "{{" * 30000, "{{ a |" * 10000, "{{ x[" * 10000 + "}}"):
        start = time.monotonic()
        with pytest.raises(TemplateError):
            parse("t", source)
        assert time.monotonic() - start < 1.0


def test_hint_never_carries_data() -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": "{{ .x }}{{ hunter2 }}"}, {"x": "hunter2-value"})
    assert "hunter2-value" not in str(info.value)
    assert info.value.hint == "jinja"
