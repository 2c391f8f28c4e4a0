"""The public API: parse, render, Template.execute, Limits, TemplateError."""

from __future__ import annotations

import pickle

import pytest

from secretsync.gotemplate import Limits, TemplateError, parse, render


def test_render_several_templates_shares_data() -> None:
    out = render(
        {"dsn": "postgres://{{ .user }}:{{ .password }}@db/app", "b64": "{{ .password | b64enc }}"},
        {"user": "admin", "password": "s3cret"},
    )
    assert out == {"dsn": "postgres://admin:s3cret@db/app", "b64": "czNjcmV0"}


def test_parse_then_execute() -> None:
    tmpl = parse("greeting", 'Hello {{ .name | default "you" }}!')
    assert tmpl.execute({"name": "Ada"}) == "Hello Ada!"
    assert tmpl.execute({"other": "x"}, missing_key="default") == "Hello you!"
    with pytest.raises(TemplateError) as info:
        tmpl.execute({"other": "x"})
    assert info.value.kind == "missing key" and info.value.detail == "name"


def test_error_attributes_and_message() -> None:
    with pytest.raises(TemplateError) as info:
        render({"conf": "line one\n  {{ .a }} {{ .nope }}"}, {"a": "1"})
    exc = info.value
    assert (exc.name, exc.line, exc.column, exc.kind, exc.detail) == ("conf", 2, 15, "missing key", "nope")
    assert str(exc) == 'template "conf": line 2, column 15: missing key: nope'
    assert pickle.loads(pickle.dumps(exc)).args == exc.args  # noqa: S301 - our own bytes


def test_message_without_detail() -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": "{{ range 5 }}{{ range 5 }}{{ end }}{{ end }}"}, {}, limits=Limits(max_steps=10))
    assert str(info.value) == 'template "t": line 1, column 17: step limit'


def test_unknown_function_is_a_parse_error_even_when_not_executed() -> None:
    with pytest.raises(TemplateError) as info:
        parse("t", '{{ if false }}{{ nosuch "HOME" }}{{ end }}')
    assert (info.value.kind, info.value.detail, info.value.column) == ("unknown function", "nosuch", 18)


def test_refused_function_is_a_parse_error_even_when_not_executed() -> None:
    with pytest.raises(TemplateError) as info:
        parse("t", '{{ if false }}{{ env "HOME" }}{{ end }}')
    assert (info.value.kind, info.value.detail, info.value.column) == ("not supported", "env", 18)
    assert str(info.value) == (
        'template "t": line 1, column 18: not supported: env; hint: it would read the operator\'s environment'
    )


def test_bad_missing_key_option() -> None:
    with pytest.raises(TemplateError) as info:
        render({"t": "x"}, {}, missing_key="bogus")
    assert info.value.kind == "internal error"


def test_no_attribute_access_on_python_objects() -> None:
    class Secretive:
        password = "hunter2"

    with pytest.raises(TemplateError) as info:
        render({"t": "{{ .obj.password }}"}, {"obj": Secretive()})
    assert info.value.kind == "wrong type"
    for src in ("{{ .a.upper }}", '{{ "x".upper }}', "{{ .a.__class__ }}", "{{ (list 1).append }}"):
        with pytest.raises(TemplateError):
            render({"t": src}, {"a": "text"})
    # a key that looks like an attribute is just a map key
    assert render({"t": "{{ .__class__ }}"}, {"__class__": "k"})["t"] == "k"


def test_data_is_copied_not_mutated() -> None:
    data = {"a": "1", "nested": {"k": "v"}}
    render({"t": '{{ $_ := set .nested "k" "changed" }}{{ $_ := unset . "a" }}{{ .nested.k }}'}, data)
    assert data == {"a": "1", "nested": {"k": "v"}}


def test_each_template_has_its_own_defines() -> None:
    with pytest.raises(TemplateError) as info:
        render({"a": '{{ define "x" }}A{{ end }}{{ template "x" }}', "b": '{{ template "x" }}'}, {})
    assert (info.value.name, info.value.kind, info.value.detail) == ("b", "unknown template", "x")


def test_custom_functions() -> None:
    def shout(value: object) -> str:
        return str(value).upper() + "!"

    assert render({"t": "{{ .a | shout }}"}, {"a": "hi"}, funcs={"shout": shout})["t"] == "HI!"
    # a caller's function may replace a builtin, but never ``call``
    assert render({"t": "{{ upper .a }}"}, {"a": "hi"}, funcs={"upper": lambda v: "x"})["t"] == "x"
    with pytest.raises(TemplateError) as info:
        render({"t": "{{ call .a }}"}, {"a": "hi"}, funcs={"call": lambda v: v})
    assert info.value.kind == "not supported"


def test_unsupported_data_types_are_refused() -> None:
    for bad in ({"n": 2**70}, {"s": {1, 2}}, {1: "x"}):
        with pytest.raises(TemplateError) as info:
            render({"t": "{{ . }}"}, bad)
        assert info.value.kind in ("wrong type",)


def test_bytes_in_data_are_decoded_with_surrogateescape() -> None:
    out = render({"t": "{{ .b }}"}, {"b": b"\xff\x00ok"})["t"]
    assert out.encode("utf-8", "surrogateescape") == b"\xff\x00ok"


def test_bitnami_default_missing_key_prints_no_value() -> None:
    assert render({"t": "[{{ .nope }}]"}, {"a": "1"}, missing_key="default")["t"] == "[<no value>]"
    assert render({"t": "[{{ .nope }}]"}, {"a": "1"}, missing_key="zero")["t"] == "[]"


def test_source_limit() -> None:
    with pytest.raises(TemplateError) as info:
        parse("t", "é" * 40_000)  # 80 000 UTF-8 bytes
    assert info.value.kind == "source limit"
    parse("t", "é" * 30_000)


def test_limits_are_frozen_with_documented_defaults() -> None:
    limits = Limits()
    assert (limits.max_source_bytes, limits.max_output_bytes, limits.max_steps) == (65536, 1 << 20, 1_000_000)
    assert (limits.max_range_iterations, limits.max_depth, limits.max_value_bytes) == (100_000, 100, 1 << 20)
    assert limits.time_budget == 1.0
    with pytest.raises(AttributeError):
        limits.max_steps = 5  # type: ignore[misc]


def test_go_template_features_together() -> None:
    src = """{{- define "entry" -}}
{{ .k }}={{ .v | quote }}
{{- end -}}
{{- range $k, $v := . }}
{{ template "entry" (dict "k" ($k | upper) "v" $v) }}
{{- end }}
{{ with $x := "v" }}{{ $x }}{{ end }}"""
    assert render({"t": src}, {"b": "2", "a": "1"})["t"] == '\nA="1"\nB="2"\nv'
