"""Error messages never carry data: not the values, not transforms of them.

Each template below fails while handling a canary value (or something derived from
it: upper-cased, base64-encoded, truncated, JSON-parsed, used as a regex...). The
error must not contain the canary or any transform of it, anywhere: ``str``,
``repr``, ``args``, the formatted traceback, or a chained exception.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import traceback
from typing import Any

import pytest

from secretsync.gotemplate import Limits, TemplateError, parse, render
from secretsync.gotemplate.errors import HINTS, KINDS
from tests.gotemplate.cases_crypto import F

CANARY = "zq7Xv-CANARY-7f3a-w9"
BINARY = b"\xffCANARY\x00\xfe".decode("utf-8", "surrogateescape")


def transforms(secret: str) -> set[str]:
    raw = secret.encode("utf-8", "surrogateescape")
    out = {
        secret,
        secret.upper(),
        secret.lower(),
        secret[::-1],
        secret[:5],
        secret[-5:],
        secret[1:-1],
        base64.b64encode(raw).decode()[:12],
        base64.b32encode(raw).decode()[:12],
        raw.hex()[:12],
        json.dumps(secret)[1:-1],
        hashlib.sha256(raw).hexdigest()[:12],
        repr(secret)[1:-1],
        "CANARY",
        "canary",
    }
    return {t for t in out if len(t) >= 5}


LEAKS = transforms(CANARY) | {"CANARY", "canary", "xfe", "\\xff"}

SHAPE = re.compile(
    r'template "[A-Za-z0-9_.-]*": line \d+, column \d+: (?P<kind>[a-z ]+)(?P<detail>: [^\n]{1,83}?)?'
    r"(?:; hint: (?P<hint>[^\n]+))?\Z"
)
P12 = F["p12_modern_pw"]

CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("fail", "{{ fail .x }}", {}),
    ("fail", '{{ fail (printf "%s %s" .x (upper .x)) }}', {}),
    ("fail", "{{ .x | b64enc | fail }}", {}),
    ("wrong type", '{{ repeat .x "a" }}', {}),
    ("wrong type", "{{ .x.field }}", {}),
    ("wrong type", "{{ index (list 1) .x }}", {}),
    ("wrong type", "{{ fromJson .x | len }}", {}),
    ("wrong type", "{{ range .x }}{{ end }}", {}),
    ("wrong type", "{{ trunc 2 .x | add 1 | upper }}", {}),
    ("wrong type", '{{ (dict "y" .x).y.z }}', {}),
    ("missing key", "{{ (dict .x .x).y.z }}", {}),
    ("wrong type", '{{ printf "%d" .x | repeat (trunc 3 .x) }}', {}),
    ("function failed", "{{ mustFromJson .x }}", {}),
    ("function failed", '{{ mustFromJson (printf "{\\"%s\\": [1,}" .x) }}', {}),
    ("function failed", '{{ mustRegexMatch (printf "(%s" .x) "a" }}', {}),
    ("function failed", '{{ regexFind (printf "[%s" (upper .x)) .x }}', {}),
    ("function failed", '{{ filterPEM "CERTIFICATE" .x }}', {}),
    ("wrong type", "{{ first .x }}", {}),
    ("index out of range", "{{ substr 50 60 .x }}", {}),
    ("index out of range", "{{ index (list .x) 5 }}", {}),
    ("index out of range", "{{ slice .x 3 1 }}", {}),
    ("incompatible types", "{{ eq .x 1 }}", {}),
    ("incompatible types", "{{ lt (len .x) .x }}", {}),
    ("division by zero", "{{ div (len .x) (int .x) }}", {}),
    ("division by zero", "{{ mod (atoi .x) 0 }}", {}),
    ("not a function", "{{ .x 1 }}", {}),
    ("not a function", "{{ .x | .x }}", {}),
    ("missing key", "{{ .x }}{{ .nope }}", {}),
    ("unknown template", '{{ template "nope" .x }}', {}),
    ("wrong number of args", "{{ upper .x .x }}", {}),
    ("value limit", "{{ repeat 100000000 .x }}", {}),
    ("value limit", '{{ printf "%9999999s" .x }}', {}),
    ("range limit", "{{ range len (repeat 20000 .x) }}{{ end }}", {}),
    ("depth limit", '{{ define "r" }}{{ .x }}{{ template "r" . }}{{ end }}{{ template "r" . }}', {}),
    (
        "step limit",
        "{{ range until 100000 }}{{ range until 100 }}{{ $_ := upper $.x }}{{ end }}{{ end }}",
        {},
    ),
    ("output limit", "{{ range until 100000 }}{{ $.x }}{{ end }}", {"limits": Limits(max_output_bytes=1000)}),
    (
        "time limit",
        "{{ range until 100000 }}{{ range until 100 }}{{ $.x }}{{ end }}{{ end }}",
        {"limits": Limits(time_budget=0.05, max_output_bytes=1 << 30, max_steps=10**9)},
    ),
    ("unknown function", "{{ nosuch .x }}", {}),
    ("undefined variable", "{{ .x }}{{ $nope }}", {}),
    ("syntax", "{{ .x ", {}),
    ("function failed", "{{ leak .x }}", {"funcs": {"leak": lambda v: (_ for _ in ()).throw(ValueError(v))}}),
    ("wrong type", "{{ (obj .x).attr }}", {"funcs": {"obj": lambda v: object()}}),
    # crypto: wrong passwords, keys and archives made of the secret
    ("function failed", f'{{{{ pkcs12keyPass .x (b64dec "{P12}") }}}}', {}),
    ("function failed", f'{{{{ pkcs12certPass (upper .x) (b64dec "{P12}") }}}}', {}),
    ("function failed", "{{ pkcs12key .x }}", {}),
    ("function failed", "{{ pkcs12cert (b64enc .x) }}", {}),
    ("function failed", "{{ pemToPkcs12Pass .x .x .x }}", {}),
    ("function failed", '{{ fullPemToPkcs12 (printf "-----BEGIN CERTIFICATE-----\\n%s\\n" .x) .x }}', {}),
    ("function failed", "{{ pemTruststoreToPKCS12Pass .x .x }}", {}),
    ("function failed", "{{ jwkPrivateKeyPem .x }}", {}),
    ("function failed", '{{ jwkPublicKeyPem (printf "{\\"kty\\":\\"RSA\\",\\"n\\":\\"%s\\"}" .x) }}', {}),
    ("function failed", '{{ rsaDecrypt "RSA-OAEP" "SHA256" .x .x }}', {}),
    ("function failed", "{{ rsaDecrypt .x .x .x .x }}", {}),
    ("function failed", "{{ certSANs .x }}", {}),
    (
        "function failed",
        '{{ $b := "-----BEGIN CERTIFICATE-----" }}{{ $e := "-----END CERTIFICATE-----" }}'
        '{{ filterCertChain "leaf" (printf "%s\\n%s\\n%s\\n" $b (b64enc .x) $e) }}',
        {},
    ),
    ("function failed", "{{ decryptAES .x (b64enc .x) }}", {}),
    ("function failed", "{{ buildCustomCert (b64enc .x) (b64enc .x) }}", {}),
    ("function failed", "{{ genCAWithKey .x 1 .x }}", {}),
    ("function failed", "{{ genSelfSignedCert .x (list .x) nil 1 }}", {}),
    ("function failed", "{{ semver .x }}", {}),
    ("function failed", "{{ semverCompare .x .y }}", {}),
    ("function failed", '{{ urlParse (printf "http://%s%%zz" .x) }}', {}),
    ("function failed", "{{ mustSlice .x 1 }}", {}),
    ("wrong type", '{{ genSignedCert .x nil nil 1 (dict "Cert" .x "Key" .x) }}', {}),
    ("wrong type", "{{ htpasswd .x .x .x }}", {}),
    ("expensive call limit", "{{ range until 20 }}{{ $_ := bcrypt (b64enc $.x) }}{{ end }}", {}),
    (
        "expensive call limit",
        "{{ range until 20 }}{{ $_ := derivePassword 1 `long` $.x $.x $.x }}{{ end }}",
        {},
    ),
    ("not supported", "{{ env .x }}", {}),
    ("not supported", "{{ .x }}{{ getHostByName .x }}", {}),
]


def assert_clean(exc: TemplateError, source: str, secret: str) -> None:
    blob = "\n".join(
        [str(exc), repr(exc), *map(str, exc.args), "".join(traceback.format_exception_only(exc))]
    )
    for leak in transforms(secret) | LEAKS:
        assert leak not in blob, leak
    assert exc.__cause__ is None and exc.__context__ is None
    m = SHAPE.match(str(exc))
    assert m is not None, str(exc)
    assert m.group("kind") in KINDS
    assert m.group("hint") is None or m.group("hint") in HINTS.values()
    if exc.detail is not None:
        # a token of the source, or a fixed phrase: no 4 characters of the secret in a row
        windows = {secret[i : i + 4] for i in range(len(secret) - 3)}
        assert exc.detail in source or not any(w in exc.detail for w in windows), exc.detail


@pytest.mark.parametrize(("kind", "source", "options"), CASES)
@pytest.mark.parametrize("secret", [CANARY, BINARY])
def test_no_data_in_errors(kind: str, source: str, options: dict[str, Any], secret: str) -> None:
    data = {"x": secret, "y": secret.upper()}
    with pytest.raises(TemplateError) as info:
        render({"t": source}, data, **options)
    # a loaded machine may reach the time budget before the million steps: the bound still held
    assert info.value.kind == kind or (kind == "step limit" and info.value.kind == "time limit")
    assert_clean(info.value, source, secret)


def test_every_kind_a_template_can_cause_is_covered() -> None:
    covered = {kind for kind, _, _ in CASES}
    assert KINDS - covered <= {"internal error", "source limit"}


def test_parse_errors_do_not_quote_data() -> None:
    with pytest.raises(TemplateError) as info:
        parse("t", "{{ if }}")
    assert str(info.value).startswith('template "t": line 1, column')


def test_fail_message_is_dropped() -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": '{{ fail "the password is hunter2" }}'}, {})
    assert info.value.kind == "fail"
    assert "hunter2" not in str(info.value) and info.value.detail == "fail"


def test_data_in_output_is_fine_but_never_in_errors() -> None:
    out = render({"t": '{{ printf "%d" .x }}'}, {"x": CANARY})["t"]
    assert out == f"%!d(string={CANARY})"  # Go's marker: output, which is the Secret
