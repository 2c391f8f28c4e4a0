"""The sandboxed template engine shared by SealedSecrets and ExternalSecrets."""

from __future__ import annotations

import base64

import pytest

from secretsync import templating
from secretsync.errors import TemplateError

CANARY = "canary-Zx81-password"


def test_plain_substitution_and_dashed_keys() -> None:
    values = {"user": b"admin", "db-password": CANARY.encode(), "tls.crt": b"CERT"}
    out = templating.render(
        {"dsn": "postgres://{{ user }}:{{ data['db-password'] }}@db/app", "crt": "{{ data['tls.crt'] }}"},
        values,
    )
    assert out["dsn"] == f"postgres://admin:{CANARY}@db/app".encode()
    assert out["crt"] == b"CERT"


def test_binary_values_pass_through_unchanged() -> None:
    blob = bytes(range(256))
    assert templating.render({"copy": "{{ blob }}"}, {"blob": blob})["copy"] == blob


def test_filters() -> None:
    values = {"raw": b"hello", "enc": base64.b64encode(b"world"), "js": b'{"a": {"b": [1, "x"]}}'}
    out = templating.render(
        {
            "b64": "{{ raw | b64enc }}",
            "dec": "{{ enc | b64dec }}",
            "url": "{{ raw | b64urlenc }}",
            "json": "{{ (js | fromjson).a.b[1] }}",
            "to": "{{ {'k': raw} | tojson }}",
        },
        values,
    )
    assert out == {
        "b64": base64.b64encode(b"hello"),
        "dec": b"world",
        "url": base64.urlsafe_b64encode(b"hello"),
        "json": b"x",
        "to": b'{"k":"hello"}',
    }


def test_unknown_variable_is_an_error_naming_the_template() -> None:
    with pytest.raises(TemplateError, match=r"template 'dsn'.*'pasword' is undefined.*known keys: password"):
        templating.render({"dsn": "{{ pasword }}"}, {"password": CANARY.encode()})


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ password.__class__.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ lipsum.__globals__ }}",
        "{% import 'os' as os %}",
        "{% include '/etc/passwd' %}",
    ],
)
def test_sandbox_blocks_escapes(source: str) -> None:
    with pytest.raises(TemplateError) as info:
        templating.render({"x": source}, {"password": CANARY.encode()})
    assert CANARY not in str(info.value)


def test_no_environment_access() -> None:
    with pytest.raises(TemplateError):
        templating.render({"x": "{{ environ }}"}, {})


def test_errors_never_carry_values() -> None:
    with pytest.raises(TemplateError) as info:
        templating.render({"x": "{{ password | int + undefined_thing }}"}, {"password": CANARY.encode()})
    assert CANARY not in str(info.value)
    with pytest.raises(TemplateError) as info:
        templating.render({"x": "{{ password | fromjson }}"}, {"password": CANARY.encode()})
    assert CANARY not in str(info.value)
    with pytest.raises(TemplateError) as info:
        templating.render({"x": "{{ password[99999] }}"}, {"password": CANARY.encode()})
    assert CANARY not in str(info.value)


def test_syntax_error_names_the_line() -> None:
    with pytest.raises(TemplateError, match="syntax error on line 2"):
        templating.render({"x": "ok\n{{ broken"}, {})
