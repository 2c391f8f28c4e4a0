"""The template adapter shared by SealedSecrets and ExternalSecrets (the engine: tests/gotemplate/)."""

from __future__ import annotations

import base64
import time

import pytest

from secretsync import templating
from secretsync.errors import TemplateError

CANARY = "canary-Zx81-password"


def test_eso_style_substitution_and_dashed_keys() -> None:
    values = {"user": b"admin", "db-password": CANARY.encode(), "tls.crt": b"CERT"}
    out = templating.render(
        {
            "dsn": 'postgres://{{ .user }}:{{ index . "db-password" }}@db/app',
            "crt": '{{ index . "tls.crt" }}',
        },
        values,
    )
    assert out["dsn"] == f"postgres://admin:{CANARY}@db/app".encode()
    assert out["crt"] == b"CERT"


def test_binary_values_pass_through_unchanged() -> None:
    blob = bytes(range(256))
    assert templating.render({"copy": "{{ .blob }}"}, {"blob": blob})["copy"] == blob
    assert templating.render({"enc": "{{ .blob | b64enc }}"}, {"blob": blob})["enc"] == base64.b64encode(blob)


def test_the_functions_eso_manifests_use() -> None:
    values = {"raw": b"hello", "enc": base64.b64encode(b"world"), "js": b'{"a": {"b": [1, "x"]}}'}
    out = templating.render(
        {
            "b64": "{{ .raw | b64enc }}",
            "dec": "{{ .enc | b64dec }}",
            "json": "{{ (.js | fromJson).a.b | last }}",
            "to": '{{ dict "k" .raw | toJson }}',
            "upper": "{{ .raw | upper | quote }}",
            "cond": '{{ if eq .raw "hello" }}yes{{ else }}no{{ end }}',
        },
        values,
    )
    assert out == {
        "b64": base64.b64encode(b"hello"),
        "dec": b"world",
        "json": b"x",
        "to": b'{"k":"hello"}',
        "upper": b'"HELLO"',
        "cond": b"yes",
    }


def test_unknown_key_is_an_error_naming_the_template_and_position() -> None:
    with pytest.raises(TemplateError) as info:
        templating.render({"dsn": "x{{ .pasword }}"}, {"password": CANARY.encode()})
    assert str(info.value) == 'template "dsn": line 1, column 5: missing key: pasword'


def test_missing_key_default_prints_no_value() -> None:
    out = templating.render({"x": "{{ .nope }}"}, {}, missing_key="default")
    assert out == {"x": b"<no value>"}


@pytest.mark.parametrize(
    "source",
    [
        "{{ .password.__class__ }}",
        "{{ call .password }}",
        '{{ env "HOME" }}',
        '{{ expandenv "$HOME" }}',
        '{{ template "/etc/passwd" }}',
        "{{ .password.upper }}",
    ],
)
def test_nothing_reaches_python_or_the_environment(source: str) -> None:
    with pytest.raises(TemplateError) as info:
        templating.render({"x": source}, {"password": CANARY.encode()})
    assert CANARY not in str(info.value)


@pytest.mark.parametrize(
    "source",
    [
        "{{ .password | atoi | div 1 }}",  # not a number: 0, then division by zero
        "{{ .password | mustFromJson }}",
        "{{ index .password 99999 }}",
        "{{ fail .password }}",
        '{{ mustRegexMatch (printf "(%s" .password) .password }}',
        '{{ mustToDate "2006-01-02" .password }}',
        "{{ div (len .password) 0 }}",
        "{{ .password | b64enc | trunc 2 | fail }}",
    ],
)
def test_errors_never_carry_values(source: str) -> None:
    with pytest.raises(TemplateError) as info:
        templating.render({"x": source}, {"password": CANARY.encode()})
    for form in (CANARY, CANARY[:3], base64.b64encode(CANARY.encode()).decode()[:2], CANARY.upper()):
        assert form not in str(info.value).replace('template "x"', "")


def test_a_python_name_is_just_a_missing_map_key() -> None:
    """``index`` on a map is a map lookup (Go returns the zero value): no object is ever reached."""
    assert templating.render({"x": '{{ index . "__class__" }}'}, {"password": b"p"}) == {"x": b""}


def test_syntax_error_names_the_line() -> None:
    with pytest.raises(TemplateError, match=r'template "x": line 2, column \d+: syntax'):
        templating.render({"x": "ok\n{{ end }}"}, {})


def test_hostile_templates_end_quickly() -> None:
    started = time.monotonic()
    for source in (
        "{{ range $i := until 100000000 }}x{{ end }}",
        "{{ range 10000000000 }}{{ end }}",
        '{{ repeat 1000000000 "x" }}',
        '{{ define "t" }}{{ template "t" . }}{{ end }}{{ template "t" . }}',
    ):
        with pytest.raises(TemplateError):
            templating.render({"x": source}, {})
    assert time.monotonic() - started < 8
